//! The agent's own conversation, stored beside the branch (opt-in:
//! `session.transcripts`), so that `resume --native` can put it back into
//! the agent's store on another machine.
//!
//! Where: one ref per agent session, `refs/session/transcripts/<agent>/<id>`,
//! pointing at a commit chain. Each commit's tree holds `meta.toml` (agent,
//! session id, original cwd, the byte range of the original transcript it
//! covers, the SHA-1 of those original bytes) and the *growth* since its
//! parent, redacted ([`crate::redact`]) and gzip-compressed in parts of at
//! most [`PART_BYTES`] (`part-0000.jsonl.gz`, …). The transcript is the
//! parts of the chain, oldest first.
//!
//! Why a ref per session and not notes: a transcript belongs to an agent
//! session, not to a commit (a session spans many checkpoints, and
//! `finish --squash` rewrites the commits notes hang on); one ref per
//! session is pushed, fetched, refused and deleted on its own, where one
//! notes tree would put every conversation of the repository in each push,
//! and our notes merge is a TOML merge that has no business with binary
//! parts. Refs outside `refs/heads/` never travel with the branch: nothing
//! is published by a plain `git push`.
//!
//! Why a chain of growths: Claude Code and Codex append to their
//! transcripts, so each store writes only what was added (a few objects:
//! the parts, the metadata, one tree, one commit), whatever the size of the
//! whole. A transcript that shrank or whose stored end no longer matches
//! (rewritten) starts a new chain from nothing; the old one is left to gc.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use gix::ObjectId;
use serde::{Deserialize, Serialize};

/// Where the refs live: `<PREFIX><agent>/<session id>`.
pub const PREFIX: &str = "refs/session/transcripts/";

/// The glob refspec that pushes and fetches every stored transcript.
pub const REFSPEC: &str = "refs/session/transcripts/*:refs/session/transcripts/*";

/// Largest part of original bytes one blob holds (cut at a line end): it
/// bounds the memory a store and a restore need per step.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// How much of the stored end is compared with the file to tell growth
/// from a rewrite, without reading the whole file again.
pub const TAIL_BYTES: u64 = 64 * 1024;

/// Most original bytes one hook run stores (see README, Native resume):
/// the rest waits for the next run, so a Stop hook stays within its budget
/// whatever the transcript's size. Redaction and gzip level 1 together run
/// at about 40 MB/s in release on 2 cores, so 24 MiB take about 0.6 s,
/// leaving the checkpoint its time inside the 1.5 s an agent may give a
/// hook (64 MiB took 1.6–1.8 s: too long).
pub const HOOK_BUDGET_BYTES: u64 = 24 * 1024 * 1024;

/// The budget at SessionEnd, which the agent may kill after about 1.5 s:
/// 16 MiB take about 0.4 s in release on 2 cores.
pub const SESSION_END_BUDGET_BYTES: u64 = 16 * 1024 * 1024;

/// A restored transcript larger than this is refused: a fetched ref is
/// data from a remote, and gzip can expand a thousandfold.
pub const MAX_RESTORED_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// The transcript to store: any agent with a transcript path plugs in.
#[derive(Clone, Debug)]
pub struct Source<'a> {
    /// The agent's word on the command line (`claude`, `codex`).
    pub agent: &'a str,
    pub session: &'a str,
    pub path: &'a Path,
    /// The session's directory, rewritten on restore.
    pub cwd: &'a Path,
    /// The work tree it is in: on restore, paths under it move to the
    /// new clone's work tree.
    pub worktree: &'a Path,
}

/// `meta.toml` of one commit of a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub agent: String,
    pub session: String,
    /// The session's directory where the transcript was written.
    pub cwd: String,
    /// The work tree the session worked in.
    pub worktree: String,
    /// Where this commit's bytes start in the original transcript.
    pub offset: u64,
    /// Where they end: the original bytes stored so far.
    pub length: u64,
    /// SHA-1 of the original bytes `offset..length` (before redaction).
    pub sha1: String,
    /// SHA-1 of the last [`TAIL_BYTES`] before `length`, to tell growth
    /// from a rewrite.
    pub tail_sha1: String,
    /// The parts in this commit's tree.
    pub parts: usize,
    /// Secrets replaced in this commit's bytes.
    pub redacted: usize,
    /// Seconds since the epoch.
    pub stored_at: i64,
}

/// What one store did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// The transcript did not grow (by a complete line).
    Unchanged,
    /// Growth stored; `remaining` original bytes wait for the next run.
    Appended {
        bytes: u64,
        remaining: u64,
        restarted: bool,
    },
}

/// `refs/session/transcripts/<agent>/<session>`, or `None` when either
/// name cannot be part of a ref (ids are UUIDs in practice).
pub fn ref_name(agent: &str, session: &str) -> Option<String> {
    let safe = |s: &str| {
        !s.is_empty()
            && s.len() <= 200
            && !s.starts_with('.')
            && !s.ends_with(".lock")
            && !s.contains("..")
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    };
    (safe(agent) && safe(session)).then(|| format!("{PREFIX}{agent}/{session}"))
}

/// Store the growth of `source`'s transcript since the last store, at most
/// `budget` original bytes (`None`: all of it).
pub fn store(
    repo: &mut gix::Repository,
    source: &Source<'_>,
    budget: Option<u64>,
) -> anyhow::Result<Stored> {
    let name = ref_name(source.agent, source.session).with_context(|| {
        format!(
            "the session id '{}' cannot name a ref: its transcript is not stored",
            source.session
        )
    })?;
    let mut file = std::fs::File::open(source.path)
        .with_context(|| format!("could not open '{}'", source.path.display()))?;
    let size = file.metadata()?.len();
    let tip = repo
        .try_find_reference(name.as_str())?
        .map(|mut r| r.peel_to_id())
        .transpose()?
        .map(|id| id.detach());
    let previous = tip.map(|tip| read_meta(repo, tip)).transpose()?;
    // Growth continues the chain; anything else starts it again.
    let mut parent = tip;
    let mut offset = 0;
    if let Some(meta) = &previous {
        if size == meta.length && meta.cwd == source.cwd.to_string_lossy() {
            return Ok(Stored::Unchanged);
        }
        if size >= meta.length && tail_sha1(&mut file, meta.length)? == meta.tail_sha1 {
            offset = meta.length;
        } else {
            parent = None;
        }
    }
    let restarted = previous.is_some() && parent.is_none();
    let wanted = (size - offset).min(budget.unwrap_or(u64::MAX));
    let mut growth = Vec::new();
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset))?;
    (&mut file).take(wanted).read_to_end(&mut growth)?;
    // Complete lines only: the line being written waits for the next run.
    // A budget that ends inside one long line takes that line whole.
    let end = match growth.iter().rposition(|&c| c == b'\n') {
        Some(last) => last + 1,
        None if wanted < size - offset && budget.is_some() => {
            let mut rest = Vec::new();
            let mut line = std::io::BufReader::new(&mut file);
            std::io::BufRead::read_until(&mut line, b'\n', &mut rest)?;
            growth.extend_from_slice(&rest);
            if growth.ends_with(b"\n") {
                growth.len()
            } else {
                0
            }
        }
        None => 0,
    };
    growth.truncate(end);
    if growth.is_empty() {
        return Ok(Stored::Unchanged);
    }
    let length = offset + growth.len() as u64;

    let mut editor = gix::objs::Tree::empty();
    let mut parts = 0;
    let mut redacted = 0;
    for part in split_lines(&growth, PART_BYTES) {
        let text = String::from_utf8_lossy(part);
        redacted += crate::redact::find(&text).len();
        let clean = crate::redact::redact(&text);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(clean.as_bytes())?;
        let blob = repo.write_blob(gz.finish()?)?.detach();
        editor
            .entries
            .push(entry_named(&format!("part-{parts:04}.jsonl.gz"), blob));
        parts += 1;
    }
    let mut hasher = <sha1::Sha1 as sha1::Digest>::new();
    sha1::Digest::update(&mut hasher, &growth);
    let meta = Meta {
        agent: source.agent.into(),
        session: source.session.into(),
        cwd: source.cwd.to_string_lossy().into_owned(),
        worktree: source.worktree.to_string_lossy().into_owned(),
        offset,
        length,
        sha1: hex(&sha1::Digest::finalize(hasher)),
        tail_sha1: tail_sha1(&mut file, length)?,
        parts,
        redacted,
        stored_at: crate::time::now(repo),
    };
    let meta_blob = repo
        .write_blob(toml::to_string(&meta)?.into_bytes())?
        .detach();
    editor.entries.push(entry_named("meta.toml", meta_blob));
    editor.entries.sort();
    let tree = repo.write_object(&editor)?.detach();
    let commit = commit(repo, tree, parent, &meta)?;
    let expected = crate::commit::expect_at(tip);
    let edit = crate::commit::update(&name, expected, commit, "git-session: transcript".into())?;
    repo.edit_references([edit])
        .with_context(|| format!("could not move {name}"))?;
    Ok(Stored::Appended {
        bytes: growth.len() as u64,
        remaining: size - length,
        restarted,
    })
}

fn entry_named(name: &str, oid: ObjectId) -> gix::objs::tree::Entry {
    gix::objs::tree::Entry {
        mode: gix::objs::tree::EntryKind::Blob.into(),
        filename: name.into(),
        oid,
    }
}

fn commit(
    repo: &mut gix::Repository,
    tree: ObjectId,
    parent: Option<ObjectId>,
    meta: &Meta,
) -> anyhow::Result<ObjectId> {
    crate::repo::ensure_identity(repo)?;
    let (author, committer) = crate::repo::signatures(repo)?;
    let commit = gix::objs::Commit {
        tree,
        parents: parent.into_iter().collect(),
        author,
        committer,
        encoding: None,
        message: format!(
            "transcript {} {}: bytes {}..{}\n",
            meta.agent, meta.session, meta.offset, meta.length
        )
        .into(),
        extra_headers: Vec::new(),
    };
    Ok(repo.write_object(&commit)?.detach())
}

/// `bytes` in pieces of at most `limit` bytes each ending at a line end
/// (a longer line is a piece of its own).
fn split_lines(bytes: &[u8], limit: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let window = &rest[..rest.len().min(limit)];
        let cut = match window.iter().rposition(|&c| c == b'\n') {
            Some(at) if rest.len() > limit => at + 1,
            _ if rest.len() <= limit => rest.len(),
            _ => rest
                .iter()
                .position(|&c| c == b'\n')
                .map_or(rest.len(), |at| at + 1),
        };
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    pieces
}

/// SHA-1 of the [`TAIL_BYTES`] of `file` before `end`.
fn tail_sha1(file: &mut std::fs::File, end: u64) -> anyhow::Result<String> {
    let start = end.saturating_sub(TAIL_BYTES);
    std::io::Seek::seek(file, std::io::SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.take(end - start).read_to_end(&mut tail)?;
    let mut hasher = <sha1::Sha1 as sha1::Digest>::new();
    sha1::Digest::update(&mut hasher, &tail);
    Ok(hex(&sha1::Digest::finalize(hasher)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The metadata of the chain commit `id`.
pub fn read_meta(repo: &gix::Repository, id: ObjectId) -> anyhow::Result<Meta> {
    let tree = repo.find_commit(id)?.tree()?;
    let entry = tree
        .find_entry("meta.toml")
        .with_context(|| format!("transcript commit {id} has no meta.toml"))?;
    let blob = entry.object()?;
    let text = std::str::from_utf8(&blob.data)
        .with_context(|| format!("meta.toml of {id} is not UTF-8"))?;
    toml::from_str(text).with_context(|| format!("meta.toml of {id} cannot be read"))
}

/// One stored transcript, as its newest commit describes it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub reference: String,
    pub tip: ObjectId,
    pub meta: Meta,
}

/// Every stored transcript, by ref name. A ref whose commit cannot be read
/// is left out.
pub fn list(repo: &gix::Repository) -> anyhow::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for reference in repo.references()?.prefixed(PREFIX)? {
        let Ok(mut reference) = reference else {
            continue;
        };
        let name = reference.name().as_bstr().to_string();
        let Ok(tip) = reference.peel_to_id() else {
            continue;
        };
        if let Ok(meta) = read_meta(repo, tip.detach()) {
            entries.push(Entry {
                reference: name,
                tip: tip.detach(),
                meta,
            });
        }
    }
    Ok(entries)
}

/// The stored transcript of `agent`'s `session`, if any.
pub fn find(repo: &gix::Repository, agent: &str, session: &str) -> anyhow::Result<Option<Entry>> {
    let Some(name) = ref_name(agent, session) else {
        return Ok(None);
    };
    let Some(mut reference) = repo.try_find_reference(name.as_str())? else {
        return Ok(None);
    };
    let tip = reference.peel_to_id()?.detach();
    Ok(Some(Entry {
        reference: name,
        tip,
        meta: read_meta(repo, tip)?,
    }))
}

/// The whole (redacted) transcript of the chain ending at `tip`, with the
/// paths under each commit's work tree moved to `worktree` when given
/// (a chain continued on another clone holds both clones' paths).
pub fn assemble(
    repo: &gix::Repository,
    tip: ObjectId,
    worktree: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let mut chain = Vec::new();
    let mut next = Some(tip);
    while let Some(id) = next {
        let commit = repo.find_commit(id)?;
        next = commit.parent_ids().next().map(|p| p.detach());
        chain.push(id);
    }
    let mut out = Vec::new();
    let mut expected_offset = 0;
    for id in chain.into_iter().rev() {
        let meta = read_meta(repo, id)?;
        if meta.parts == 0 {
            // A restore on another clone: its file is the chain so far,
            // and what it adds continues from its own length.
            expected_offset = meta.length;
            continue;
        }
        anyhow::ensure!(
            meta.offset == expected_offset,
            "transcript commit {id} starts at byte {} where the chain before it ends at {expected_offset}",
            meta.offset
        );
        expected_offset = meta.length;
        let tree = repo.find_commit(id)?.tree()?;
        let start = out.len();
        for part in 0..meta.parts {
            let name = format!("part-{part:04}.jsonl.gz");
            let entry = tree
                .find_entry(name.as_str())
                .with_context(|| format!("transcript commit {id} has no {name}"))?;
            let blob = entry.object()?;
            let room = MAX_RESTORED_BYTES.saturating_sub(out.len() as u64);
            let mut gz = flate2::read::GzDecoder::new(&blob.data[..]).take(room + 1);
            gz.read_to_end(&mut out)
                .with_context(|| format!("{name} of transcript commit {id} is damaged"))?;
            anyhow::ensure!(
                (out.len() as u64) <= MAX_RESTORED_BYTES,
                "the stored transcript is larger than {MAX_RESTORED_BYTES} bytes: refusing it"
            );
        }
        if let Some(new) = worktree.filter(|new| *new != meta.worktree) {
            let moved = rewrite_cwd(&out[start..], &meta.worktree, new);
            out.truncate(start);
            out.extend_from_slice(&moved);
        }
    }
    Ok(out)
}

/// What [`restore`] did.
#[derive(Clone, Debug)]
pub struct Restored {
    /// The file in the agent's store.
    pub path: PathBuf,
    /// The session's directory in this clone.
    pub cwd: PathBuf,
    /// The command that resumes the session (run in `cwd`).
    pub command: String,
    /// False when the very same file was there already.
    pub written: bool,
}

/// Put the transcript of `entry` into its agent's store for this clone's
/// work tree: `cwd` fields rewritten, never over a different file
/// ([`crate::error::Error::TranscriptTargetExists`]). A marker commit on
/// the chain then records that this clone's file holds the chain so far,
/// so the hooks here store only what the resumed session adds.
pub fn restore(
    repo: &mut gix::Repository,
    entry: &Entry,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> anyhow::Result<Restored> {
    let worktree = repo
        .workdir()
        .context("resume --native needs a work tree")?
        .to_path_buf();
    let meta = &entry.meta;
    // A fetched chain is a remote's data: its names make a file name, so
    // they must be the ones the ref was found under (no '/', no '..').
    anyhow::ensure!(
        ref_name(&meta.agent, &meta.session).as_deref() == Some(entry.reference.as_str()),
        "{} describes another session ({} {}): refusing it",
        entry.reference,
        meta.agent,
        meta.session
    );
    let relative = Path::new(&meta.cwd)
        .strip_prefix(&meta.worktree)
        .unwrap_or(Path::new(""))
        .to_path_buf();
    // `join("")` would add a trailing '/', and change the agent's folder.
    let cwd = if relative.as_os_str().is_empty() {
        worktree.clone()
    } else {
        worktree.join(relative)
    };
    let transcript = assemble(repo, entry.tip, Some(&worktree.to_string_lossy()))?;
    let first = transcript.split(|&c| c == b'\n').next().unwrap_or_default();
    let (path, command) = native_target(&meta.agent, &meta.session, &cwd, first, env)?;
    let written = match std::fs::read(&path) {
        Ok(existing) if existing == transcript => false,
        Ok(_) => return Err(crate::error::Error::TranscriptTargetExists(path).into()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("could not create '{}'", dir.display()))?;
            }
            crate::agents::settings::write_atomically(&path, &transcript)
                .with_context(|| format!("could not write '{}'", path.display()))?;
            true
        }
        Err(err) => {
            return Err(
                anyhow::Error::from(err).context(format!("could not read '{}'", path.display()))
            )
        }
    };
    if written {
        mark_restored(repo, entry, &transcript, &cwd, &worktree)?;
    }
    Ok(Restored {
        path,
        cwd,
        command,
        written,
    })
}

/// The marker commit of [`restore`]: no parts, the restored file's length.
fn mark_restored(
    repo: &mut gix::Repository,
    entry: &Entry,
    transcript: &[u8],
    cwd: &Path,
    worktree: &Path,
) -> anyhow::Result<()> {
    let length = transcript.len() as u64;
    let tail = &transcript[transcript.len().saturating_sub(TAIL_BYTES as usize)..];
    let mut hasher = <sha1::Sha1 as sha1::Digest>::new();
    sha1::Digest::update(&mut hasher, tail);
    let meta = Meta {
        cwd: cwd.to_string_lossy().into_owned(),
        worktree: worktree.to_string_lossy().into_owned(),
        offset: length,
        length,
        sha1: hex(&<sha1::Sha1 as sha1::Digest>::digest(b"")),
        tail_sha1: hex(&sha1::Digest::finalize(hasher)),
        parts: 0,
        redacted: 0,
        stored_at: crate::time::now(repo),
        ..entry.meta.clone()
    };
    let mut tree = gix::objs::Tree::empty();
    let blob = repo
        .write_blob(toml::to_string(&meta)?.into_bytes())?
        .detach();
    tree.entries.push(entry_named("meta.toml", blob));
    let tree = repo.write_object(&tree)?.detach();
    let commit = commit(repo, tree, Some(entry.tip), &meta)?;
    let edit = crate::commit::update(
        &entry.reference,
        crate::commit::expect_at(Some(entry.tip)),
        commit,
        "git-session: transcript restored here".into(),
    )?;
    repo.edit_references([edit])
        .with_context(|| format!("could not move {}", entry.reference))?;
    Ok(())
}

/// `transcript` with every `"cwd"` member that names `old` (or a path
/// under it) renamed onto `new`, line by line; lines that are not JSON are
/// kept as they are.
pub fn rewrite_cwd(transcript: &[u8], old: &str, new: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(transcript.len());
    for line in transcript.split_inclusive(|&c| c == b'\n') {
        let (body, newline) = match line.strip_suffix(b"\n") {
            Some(body) => (body, true),
            None => (line, false),
        };
        let rewritten = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|mut value| rewrite_value(&mut value, old, new).then(|| value.to_string()));
        match rewritten {
            Some(line) => out.extend_from_slice(line.as_bytes()),
            None => out.extend_from_slice(body),
        }
        if newline {
            out.push(b'\n');
        }
    }
    out
}

fn rewrite_value(value: &mut serde_json::Value, old: &str, new: &str) -> bool {
    use serde_json::Value;
    let mut changed = false;
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "cwd" {
                    if let Value::String(path) = item {
                        if let Some(rest) = path.strip_prefix(old) {
                            if rest.is_empty() || rest.starts_with('/') {
                                *path = format!("{new}{rest}");
                                changed = true;
                            }
                        }
                        continue;
                    }
                }
                changed |= rewrite_value(item, old, new);
            }
        }
        Value::Array(items) => {
            for item in items {
                changed |= rewrite_value(item, old, new);
            }
        }
        _ => {}
    }
    changed
}

/// Where `agent` keeps the transcript of `session` started in `cwd`, and
/// the command that resumes it. `first_line` is the transcript's first
/// line (Codex names its files after the session's start time).
pub fn native_target(
    agent: &str,
    session: &str,
    cwd: &Path,
    first_line: &[u8],
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> anyhow::Result<(PathBuf, String)> {
    let home = || -> anyhow::Result<PathBuf> {
        env("HOME")
            .map(PathBuf::from)
            .context("HOME is not set: cannot find the agent's store")
    };
    match agent {
        "claude" => {
            let root = match env("CLAUDE_CONFIG_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => home()?.join(".claude"),
            };
            // Claude Code names a project's folder after its path with every
            // character but letters and digits replaced by '-'.
            let folder: String = cwd
                .to_string_lossy()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            Ok((
                root.join("projects")
                    .join(folder)
                    .join(format!("{session}.jsonl")),
                format!("claude --resume {session}"),
            ))
        }
        "codex" => {
            let root = match env("CODEX_HOME") {
                Some(dir) => PathBuf::from(dir),
                None => home()?.join(".codex"),
            };
            let stamp = rollout_start(first_line)
                .context("the stored Codex rollout does not start with a timestamp")?;
            let (date, time) = (&stamp[..10], &stamp[11..19]);
            let dir = root
                .join("sessions")
                .join(&date[..4])
                .join(&date[5..7])
                .join(&date[8..10]);
            let file = format!("rollout-{date}T{}-{session}.jsonl", time.replace(':', "-"));
            Ok((dir.join(file), format!("codex resume {session}")))
        }
        other => anyhow::bail!("resuming a '{other}' session natively is not supported"),
    }
}

/// `YYYY-MM-DDThh:mm:ss` from a rollout's first line (`timestamp`, or the
/// session meta's own).
fn rollout_start(line: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let stamp = value
        .get("timestamp")
        .or_else(|| value.pointer("/payload/timestamp"))?
        .as_str()?;
    let b = stamp.as_bytes();
    let shape = b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    shape.then(|| stamp[..19].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A budget bounds one store at a line end; the next store takes the
    /// rest, and the chain rebuilds the whole transcript.
    #[test]
    fn a_budget_bounds_one_store_and_the_next_takes_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut repo = gix::init(dir.path().join("r")).expect("init");
        let path = dir.path().join("t.jsonl");
        let lines: String = (0..100).map(|n| format!("{{\"n\":{n}}}\n")).collect();
        std::fs::write(&path, &lines).expect("write");
        let source = Source {
            agent: "claude",
            session: "s1",
            path: &path,
            cwd: dir.path(),
            worktree: dir.path(),
        };
        let first = store(&mut repo, &source, Some(500)).expect("store");
        let Stored::Appended {
            bytes, remaining, ..
        } = first
        else {
            panic!("{first:?}");
        };
        assert!(bytes <= 500 && bytes > 400, "{bytes}");
        assert_eq!(bytes + remaining, lines.len() as u64);
        assert_eq!(lines.as_bytes()[bytes as usize - 1], b'\n');
        let second = store(&mut repo, &source, None).expect("store");
        assert_eq!(
            second,
            Stored::Appended {
                bytes: remaining,
                remaining: 0,
                restarted: false
            }
        );
        assert_eq!(
            store(&mut repo, &source, None).expect("store"),
            Stored::Unchanged
        );
        let entry = find(&repo, "claude", "s1").expect("find").expect("stored");
        assert_eq!(
            assemble(&repo, entry.tip, None).expect("assemble"),
            lines.as_bytes()
        );
    }

    #[test]
    fn pieces_end_at_line_ends() {
        let text = b"aaaa\nbb\ncccccccc\nd\n";
        let pieces = split_lines(text, 6);
        assert_eq!(pieces.concat(), text);
        assert_eq!(pieces, vec![&b"aaaa\n"[..], b"bb\n", b"cccccccc\n", b"d\n"]);
    }

    #[test]
    fn cwd_members_move_to_the_new_path() {
        let text =
            b"{\"cwd\":\"/old/p\",\"x\":{\"cwd\":\"/old/p/sub\"}}\nnot json\n{\"cwd\":\"/old/pp\"}";
        let out = rewrite_cwd(text, "/old/p", "/new");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "{\"cwd\":\"/new\",\"x\":{\"cwd\":\"/new/sub\"}}\nnot json\n{\"cwd\":\"/old/pp\"}"
        );
    }

    #[test]
    fn refs_are_only_named_after_safe_ids() {
        assert!(ref_name("claude", "5f3c9a2e-1b7d-4c1e-9a0f-2d6b8e4c7a10").is_some());
        for bad in ["", "../x", "a/b", ".x", "x.lock", "a b", "a..b"] {
            assert_eq!(ref_name("claude", bad), None, "{bad}");
        }
    }

    #[test]
    fn codex_rollouts_go_under_the_day_they_started() {
        let line = br#"{"timestamp":"2025-09-03T10:11:12.345Z","type":"session_meta","payload":{"id":"x"}}"#;
        let env = |k: &str| (k == "CODEX_HOME").then(|| "/ch".into());
        let (path, command) =
            native_target("codex", "abc", Path::new("/w"), line, &env).expect("target");
        assert_eq!(
            path,
            Path::new("/ch/sessions/2025/09/03/rollout-2025-09-03T10-11-12-abc.jsonl")
        );
        assert_eq!(command, "codex resume abc");
    }
}
