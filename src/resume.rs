//! The resume context: everything the next session needs, gathered from a
//! branch's history, for templates to render and `--format json` to print.
//!
//! It reads only what it needs: first-parent history from REV back to the
//! newest checkpoint (not to the start of the branch), one tree diff
//! between the session's base and REV, and, when REV is the checked-out
//! HEAD, the uncommitted changes. The cost does not grow with the number of
//! checkpoints.

use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use gix::bstr::ByteSlice;
use gix::ObjectId;
use serde::Serialize;

use crate::config::Config;
use crate::error::Error;
use crate::history::History;
use crate::snapshot::ChangeKind;
use crate::state::{Skipped, State};
use crate::time::short;

/// Most commits after the checkpoint listed; older ones are counted.
const MAX_COMMITS_AFTER: usize = 200;

/// What templates see; also the `--format json` output.
#[derive(Clone, Debug, Serialize)]
pub struct Context {
    /// Branch name, `feat/x` also for `origin/feat/x`.
    pub branch: String,
    /// The remote the branch lives on, when known.
    pub remote: Option<String>,
    /// The upstream, such as `origin/feat/x`, when configured or given.
    pub upstream: Option<String>,
    /// Full id of REV.
    pub rev: String,
    pub task: String,
    pub done: Vec<String>,
    pub doing: Vec<String>,
    pub todo: Vec<String>,
    /// The number of each item of `doing` and `todo` (as `show` numbers
    /// them and `--done '#N'` takes them); both lists are in number order.
    pub doing_numbers: Vec<u32>,
    pub todo_numbers: Vec<u32>,
    pub decisions: Vec<String>,
    pub notes: Vec<String>,
    pub blockers: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub summary: String,
    /// The agent's own account of where it stopped (its last message),
    /// empty when none was recorded.
    pub report: String,
    /// The branch whose session this one continues, when it was brought
    /// over with `git session continue`.
    pub continues: Option<String>,
    /// Where the session stands: `active`, `idle`, `paused`, `finished`.
    pub status: crate::sessions::Lifecycle,
    /// Where the session's work began.
    pub base: Option<String>,
    /// The checkpoint the state came from.
    pub checkpoint: CheckpointInfo,
    /// Checkpoints on this branch since base.
    pub checkpoints: usize,
    /// Commits after the checkpoint, newest first: work not yet in the state.
    pub commits_after: Vec<CommitInfo>,
    /// Files changed between base and REV.
    pub files: Vec<FileInfo>,
    /// Uncommitted changes in the work tree, when REV is its HEAD.
    pub uncommitted: Vec<FileInfo>,
    /// Other sessions at work on the branch (see
    /// [`crate::history::History::with_sessions`]); usually none.
    pub sessions: Vec<SessionInfo>,
    /// Commands to continue on a fresh machine.
    pub how_to_continue: HowToContinue,
    /// How many entries `--max-chars` (or a cap) left out of each list.
    pub omitted: Omitted,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckpointInfo {
    pub id: String,
    pub short: String,
    /// RFC 3339.
    pub time: String,
    /// `3 hours ago`.
    pub age: String,
    pub reason: String,
    /// `note` or `trailers`.
    pub source: crate::history::Source,
}

/// Another session at work on the branch.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    /// The agent's session id; `None` for checkpoints taken by hand.
    pub agent_session: Option<String>,
    pub agent: Option<String>,
    /// Its newest checkpoint, abbreviated.
    pub checkpoint: String,
    /// RFC 3339.
    pub time: String,
    pub age: String,
    pub summary: String,
    /// Its state is merged into the lists: it wrote without seeing this
    /// session's (its checkpoints were rebased under this one's).
    pub merged: bool,
}

impl SessionInfo {
    pub fn of(session: &crate::history::Session) -> SessionInfo {
        SessionInfo {
            agent_session: session.agent_session.clone(),
            agent: session.agent.clone(),
            checkpoint: short(session.checkpoint),
            time: crate::time::rfc3339(session.time),
            age: crate::time::ago(session.time),
            summary: session.summary.clone(),
            merged: session.merged,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CommitInfo {
    pub id: String,
    pub short: String,
    pub subject: String,
    pub time: String,
    pub age: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileInfo {
    pub path: String,
    /// `added`, `modified`, `deleted` or `renamed`.
    pub status: &'static str,
    /// The old path of a rename.
    pub from: Option<String>,
    /// Lines added and removed; `None` for binary files and uncommitted ones.
    pub added: Option<u32>,
    pub removed: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HowToContinue {
    /// `git fetch origin feat/x && git switch feat/x`, or just the switch.
    pub get_branch: String,
    /// The branch is in this clone only: `git session push`, so another
    /// machine can have it.
    pub publish: Option<String>,
    /// Checked out on another branch (a new session's own branch):
    /// `git session continue feat/x` brings this session onto it.
    #[serde(rename = "continue")]
    pub continue_here: Option<String>,
    /// Bring the richer notes too.
    pub get_notes: Option<String>,
    /// Record progress.
    pub checkpoint: String,
    /// Show this again.
    pub resume: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Omitted {
    pub done: usize,
    pub decisions: usize,
    pub notes: usize,
    pub files: usize,
    pub commits_after: usize,
    pub uncommitted: usize,
}

/// Gather the context for REV (`None`: HEAD of the current work tree).
pub fn gather(
    repo: &gix::Repository,
    config: &Config,
    rev: Option<&str>,
) -> anyhow::Result<(Context, Vec<String>)> {
    let spec = rev.unwrap_or("HEAD");
    let tip = crate::repo::resolve_commit(repo, spec)?;
    let mut history = History::new(repo, config)?;

    // Walk first parents to the newest checkpoint, keeping the commits met.
    let mut commits_after = Vec::new();
    let mut omitted_commits = 0;
    let mut found = None;
    history.walk_commits(tip, None, |commit, cp| {
        if cp.is_some() {
            found = cp;
            return false;
        }
        if commits_after.len() < MAX_COMMITS_AFTER {
            commits_after.push(commit_info(commit));
        } else {
            omitted_commits += 1;
        }
        true
    })?;
    let cp = found.ok_or_else(|| Error::NoCheckpoint(spec.to_string()))?;
    let cp = history.with_sessions(cp)?;
    let warnings = std::mem::take(&mut history.warnings);
    let state = &cp.state;

    let (branch, remote, upstream) = branch_of(repo, rev, state)?;
    let checkpoints = if state.sequence > 0 {
        state.sequence as usize
    } else {
        count_checkpoints(&mut history, cp.id, state.base.as_deref())?
    };

    let files = changed_files(repo, state.base.as_deref(), tip)?;
    let at_head = rev.is_none()
        || repo.head_id().ok().map(|h| h.detach()) == Some(tip) && is_head_name(repo, spec);
    let uncommitted = if at_head && repo.workdir().is_some() {
        let head_tree = repo.find_commit(tip)?.tree_id()?.detach();
        let (changes, _) = crate::snapshot::changes_since(
            repo,
            head_tree,
            &crate::snapshot::Options::from_config(config),
            &AtomicBool::new(false),
        )?;
        changes
            .into_iter()
            .map(|c| FileInfo {
                path: c.path,
                status: match c.kind {
                    ChangeKind::Added => "added",
                    ChangeKind::Modified => "modified",
                    ChangeKind::Deleted => "deleted",
                },
                from: None,
                added: None,
                removed: None,
            })
            .collect()
    } else {
        Vec::new()
    };

    // On the remote only when its remote-tracking branch exists: a branch
    // never pushed cannot be fetched anywhere else.
    let published = remote.as_ref().is_some_and(|r| {
        repo.try_find_reference(format!("refs/remotes/{r}/{branch}").as_str())
            .ok()
            .flatten()
            .is_some()
    });
    let current = repo.head_name()?.map(|n| n.shorten().to_string());
    let how_to_continue = HowToContinue {
        get_branch: match &remote {
            Some(remote) if published => {
                format!("git fetch {remote} {branch} && git switch {branch}")
            }
            _ => format!("git switch {branch}"),
        },
        publish: (!published).then(|| "git session push".to_string()),
        continue_here: current
            .filter(|c| *c != branch && repo.workdir().is_some())
            .map(|_| format!("git session continue {branch}")),
        get_notes: remote.as_ref().map(|r| format!("git session fetch {r}")),
        checkpoint: "git session checkpoint --done \"…\" --todo \"…\"".into(),
        resume: match rev {
            Some(rev) => format!("git session resume {rev}"),
            None => "git session resume".into(),
        },
    };

    let open = state.open();
    let context = Context {
        branch,
        remote,
        upstream,
        rev: tip.to_string(),
        task: state.task.clone(),
        done: state.done.clone(),
        doing: open
            .iter()
            .filter(|i| i.doing)
            .map(|i| i.text.clone())
            .collect(),
        todo: open
            .iter()
            .filter(|i| !i.doing)
            .map(|i| i.text.clone())
            .collect(),
        doing_numbers: open.iter().filter(|i| i.doing).map(|i| i.number).collect(),
        todo_numbers: open.iter().filter(|i| !i.doing).map(|i| i.number).collect(),
        decisions: state.decisions.clone(),
        notes: state.notes.clone(),
        blockers: state.blockers.clone(),
        skipped: state.skipped.clone(),
        agent: state.agent.clone(),
        model: state.model.clone(),
        summary: state.summary.clone(),
        report: state.report.clone(),
        continues: state.continues.clone(),
        status: crate::sessions::Lifecycle::of(
            &state.reason,
            crate::sessions::recorded_at(&cp),
            crate::time::now(repo),
        ),
        base: state.base.clone(),
        checkpoint: CheckpointInfo {
            id: cp.id.to_string(),
            short: short(cp.id),
            time: state.created_at.clone(),
            age: crate::time::ago(cp.time),
            reason: state.reason.clone(),
            source: cp.source,
        },
        checkpoints,
        commits_after,
        files,
        uncommitted,
        sessions: cp.sessions.iter().map(SessionInfo::of).collect(),
        how_to_continue,
        omitted: Omitted {
            commits_after: omitted_commits,
            ..Omitted::default()
        },
    };
    Ok((context, warnings))
}

/// A commit after the checkpoint, as templates list it.
fn commit_info(commit: &gix::Commit<'_>) -> CommitInfo {
    let id = commit.id;
    let time = commit.time().unwrap_or_default();
    CommitInfo {
        id: id.to_string(),
        short: short(id),
        subject: commit
            .message_raw_sloppy()
            .lines()
            .next()
            .map(|l| l.to_str_lossy().trim().to_string())
            .unwrap_or_default(),
        time: crate::time::rfc3339(time),
        age: crate::time::ago(time),
    }
}

/// Whether `spec` names the checked-out HEAD (not merely the same commit
/// under another name, such as `origin/feat/x`).
fn is_head_name(repo: &gix::Repository, spec: &str) -> bool {
    if spec == "HEAD" || spec == "@" {
        return true;
    }
    matches!(repo.head_name(), Ok(Some(name)) if name.shorten() == spec || name.as_bstr() == spec)
}

/// The branch name, its remote and upstream, for REV.
fn branch_of(
    repo: &gix::Repository,
    rev: Option<&str>,
    state: &State,
) -> anyhow::Result<(String, Option<String>, Option<String>)> {
    let local = |name: &str| -> (String, Option<String>, Option<String>) {
        let config = repo.config_snapshot();
        let remote = config
            .string(format!("branch.{name}.remote").as_str())
            .map(|r| r.to_string());
        let merge = config
            .string(format!("branch.{name}.merge").as_str())
            .map(|m| m.to_string());
        let upstream = match (&remote, &merge) {
            (Some(r), Some(m)) => Some(format!(
                "{r}/{}",
                m.strip_prefix("refs/heads/").unwrap_or(m)
            )),
            _ => None,
        };
        let remote = remote.or_else(|| has_remote(repo, "origin").then(|| "origin".to_string()));
        (name.to_string(), remote, upstream)
    };
    match rev {
        None | Some("HEAD") | Some("@") => match repo.head_name()? {
            Some(name) => Ok(local(&name.shorten().to_string())),
            None => Ok(fallback(repo, state)),
        },
        Some(spec) => {
            if repo
                .try_find_reference(format!("refs/heads/{spec}").as_str())
                .ok()
                .flatten()
                .is_some()
            {
                return Ok(local(spec));
            }
            let tracking = spec.strip_prefix("refs/remotes/").unwrap_or(spec);
            if repo
                .try_find_reference(format!("refs/remotes/{tracking}").as_str())
                .ok()
                .flatten()
                .is_some()
            {
                // The longest remote name that prefixes it: remotes may
                // contain slashes.
                let mut remotes: Vec<String> =
                    repo.remote_names().iter().map(|n| n.to_string()).collect();
                remotes.sort_by_key(|r| std::cmp::Reverse(r.len()));
                if let Some(remote) = remotes
                    .into_iter()
                    .find(|r| tracking.starts_with(&format!("{r}/")))
                {
                    let branch = tracking[remote.len() + 1..].to_string();
                    return Ok((branch, Some(remote), Some(tracking.to_string())));
                }
            }
            Ok(fallback(repo, state))
        }
    }
}

fn fallback(repo: &gix::Repository, state: &State) -> (String, Option<String>, Option<String>) {
    let branch = if state.branch.is_empty() {
        "HEAD".to_string()
    } else {
        state.branch.clone()
    };
    let remote = has_remote(repo, "origin").then(|| "origin".to_string());
    (branch, remote, None)
}

fn has_remote(repo: &gix::Repository, name: &str) -> bool {
    repo.remote_names().iter().any(|n| n.to_str_lossy() == name)
}

/// For states written before `sequence` existed: walk back to the base.
fn count_checkpoints(
    history: &mut History<'_>,
    from: ObjectId,
    base: Option<&str>,
) -> anyhow::Result<usize> {
    let base: Option<ObjectId> = base.and_then(|b| ObjectId::from_hex(b.as_bytes()).ok());
    let mut count = 0;
    history.walk_until(from, base, |_| {
        count += 1;
        true
    })?;
    Ok(count)
}

/// Files changed between `base` and `tip`, with renames and line counts.
fn changed_files(
    repo: &gix::Repository,
    base: Option<&str>,
    tip: ObjectId,
) -> anyhow::Result<Vec<FileInfo>> {
    use gix::object::tree::diff::ChangeDetached as C;
    let new_tree = repo.find_commit(tip)?.tree()?;
    let old_tree = match base.and_then(|b| ObjectId::from_hex(b.as_bytes()).ok()) {
        Some(base) => match repo.find_commit(base) {
            Ok(commit) => commit.tree()?,
            // A shallow clone may not have the base: no file list then.
            Err(_) => return Ok(Vec::new()),
        },
        None => repo.empty_tree(),
    };
    // Similar-content rename detection reads blobs, which a partial clone
    // (`--filter=blob:none`) may never have fetched: then renames are found
    // by id alone, from the trees, which a partial clone always has.
    let changes = match repo.diff_tree_to_tree(&old_tree, &new_tree, None) {
        Ok(changes) => changes,
        Err(_) => {
            let exact = gix::diff::Rewrites {
                percentage: None,
                ..Default::default()
            };
            repo.diff_tree_to_tree(
                &old_tree,
                &new_tree,
                gix::diff::Options::default().with_rewrites(Some(exact)),
            )
            .context("could not diff the base with REV")?
        }
    };
    let mut cache = repo.diff_resource_cache_for_tree_diff()?;
    let mut files = Vec::new();
    for change in changes {
        let (path, status, from, mode) = match &change {
            C::Addition {
                location,
                entry_mode,
                ..
            } => (location, "added", None, entry_mode),
            C::Deletion {
                location,
                entry_mode,
                ..
            } => (location, "deleted", None, entry_mode),
            C::Modification {
                location,
                entry_mode,
                ..
            } => (location, "modified", None, entry_mode),
            C::Rewrite {
                location,
                source_location,
                entry_mode,
                ..
            } => (
                location,
                "renamed",
                Some(source_location.to_str_lossy().into_owned()),
                entry_mode,
            ),
        };
        if mode.is_tree() {
            continue;
        }
        // Line counts only where both blobs are here (a partial clone
        // lacks some): a missing one costs the counts, never the prompt.
        let present = || {
            let (old, new) = change_ids(&change);
            old.is_none_or(|id| repo.has_object(id)) && repo.has_object(new)
        };
        let counts = if mode.is_blob_or_symlink() && present() {
            match cache.set_resource_by_change(change.to_ref(), &repo.objects) {
                Ok(_) => gix::object::blob::diff::Platform {
                    resource_cache: &mut cache,
                }
                .line_counts()
                .ok()
                .flatten(),
                Err(_) => None,
            }
        } else {
            None
        };
        files.push(FileInfo {
            path: path.to_str_lossy().into_owned(),
            status,
            from,
            added: counts.map(|c| c.insertions),
            removed: counts.map(|c| c.removals),
        });
        cache.clear_resource_cache_keep_allocation();
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The blob ids a change compares: the old one (none for an addition)
/// and the new one (for a deletion, the deleted blob).
fn change_ids(change: &gix::object::tree::diff::ChangeDetached) -> (Option<ObjectId>, ObjectId) {
    use gix::object::tree::diff::ChangeDetached as C;
    match change {
        C::Addition { id, .. } => (None, *id),
        C::Deletion { id, .. } => (None, *id),
        C::Modification {
            previous_id, id, ..
        } => (Some(*previous_id), *id),
        C::Rewrite { source_id, id, .. } => (Some(*source_id), *id),
    }
}

/// Items longer than this are shortened (an ellipsis inside) before any
/// item is dropped.
const LONG_ITEM: usize = 80;

/// Items are never shortened below this many characters.
const SHORT_ITEM: usize = 24;

/// What [`shrink`] made of a context: the text of the smallest context it
/// reached, and whether that fits.
pub struct Fitted {
    pub text: String,
    pub fits: bool,
}

/// Make `context` smaller, step by step, until `render` fits in
/// `max_chars` or nothing is left to make smaller:
///
/// 1. the list of files changed on the branch goes first, all of it;
/// 2. items longer than [`LONG_ITEM`] characters are shortened, with an
///    ellipsis inside (the start and the end of the text kept);
/// 3. the oldest done items, decisions, notes, commits after the checkpoint
///    and uncommitted files are dropped, the newest of each kept;
/// 4. items are shortened further, to [`SHORT_ITEM`] characters.
///
/// Open items and blockers are shortened but never dropped, and no list
/// that had items is emptied, so a section never shows only its "… and N
/// more" line. `omitted` counts what was dropped.
pub fn shrink(
    mut context: Context,
    max_chars: usize,
    mut render: impl FnMut(&Context) -> anyhow::Result<String>,
) -> anyhow::Result<Fitted> {
    loop {
        let text = render(&context)?;
        if text.chars().count() <= max_chars {
            return Ok(Fitted { text, fits: true });
        }
        if !trim_once(&mut context) {
            return Ok(Fitted { text, fits: false });
        }
    }
}

/// [`shrink`], then, when even the smallest context is too long, whole
/// lines dropped from the end (never part of a line), and with them a
/// heading left without its lines.
pub fn fit(
    context: Context,
    max_chars: usize,
    render: impl FnMut(&Context) -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    let Fitted { text, fits } = shrink(context, max_chars, render)?;
    if fits {
        return Ok(text);
    }
    let mut lines: Vec<&str> = Vec::new();
    let mut len = 0;
    for line in text.split_inclusive('\n') {
        let n = line.chars().count();
        if len + n > max_chars {
            break;
        }
        len += n;
        lines.push(line);
    }
    // A heading (`Decisions:`, `## Notes`, a code fence) or a blank line
    // at the end introduces what was cut.
    while lines.last().is_some_and(|line| {
        let line = line.trim();
        line.is_empty() || line.ends_with(':') || line.starts_with('#') || line.starts_with("```")
    }) {
        lines.pop();
    }
    Ok(lines.concat())
}

/// One step of [`shrink`]; false when nothing is left to make smaller.
fn trim_once(c: &mut Context) -> bool {
    if !c.files.is_empty() {
        let keep = c.files.len() / 2;
        c.omitted.files += c.files.len() - keep;
        c.files.truncate(keep);
        return true;
    }
    shorten_items(c, LONG_ITEM) || drop_oldest(c) || shorten_items(c, SHORT_ITEM)
}

/// Halve the longest list that has more than one entry, keeping its newest
/// entries; false when every list has one entry at most.
fn drop_oldest(c: &mut Context) -> bool {
    let lens = [
        c.commits_after.len(),
        c.uncommitted.len(),
        c.done.len(),
        c.notes.len(),
        c.decisions.len(),
    ];
    let Some((which, &len)) = lens.iter().enumerate().max_by_key(|(_, len)| **len) else {
        return false;
    };
    if len <= 1 {
        return false;
    }
    let keep = len.div_ceil(2);
    let cut = len - keep;
    match which {
        // Newest first: keep the start.
        0 => {
            c.commits_after.truncate(keep);
            c.omitted.commits_after += cut;
        }
        1 => {
            c.uncommitted.truncate(keep);
            c.omitted.uncommitted += cut;
        }
        // Oldest first: keep the end.
        2 => {
            c.done.drain(..cut);
            c.omitted.done += cut;
        }
        3 => {
            c.notes.drain(..cut);
            c.omitted.notes += cut;
        }
        _ => {
            c.decisions.drain(..cut);
            c.omitted.decisions += cut;
        }
    }
    true
}

/// Shorten the longest texts (task, items, commit subjects) by a quarter,
/// never below `floor` characters; false when none is longer than that.
fn shorten_items(c: &mut Context, floor: usize) -> bool {
    let longest = texts(c).map(|t| t.chars().count()).max().unwrap_or(0);
    if longest <= floor {
        return false;
    }
    let cap = (longest * 3 / 4).max(floor);
    for text in texts(c) {
        shorten(text, cap);
    }
    true
}

/// Every text of the context that [`shorten_items`] may shorten.
fn texts(c: &mut Context) -> impl Iterator<Item = &mut String> {
    std::iter::once(&mut c.task)
        .chain(c.done.iter_mut())
        .chain(c.doing.iter_mut())
        .chain(c.todo.iter_mut())
        .chain(c.decisions.iter_mut())
        .chain(c.notes.iter_mut())
        .chain(c.blockers.iter_mut())
        .chain(c.commits_after.iter_mut().map(|commit| &mut commit.subject))
}

/// `text` in at most `cap` characters: its start and its end around an
/// ellipsis, so both what an item is about and how it ends stay readable.
fn shorten(text: &mut String, cap: usize) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= cap {
        return;
    }
    let keep = cap.saturating_sub(1);
    let head = keep * 2 / 3;
    let tail = keep - head;
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - tail..].iter().collect();
    *text = format!("{}…{}", start.trim_end(), end.trim_start());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_keeps_both_ends_within_the_cap() {
        let mut text = "a".repeat(30) + &"b".repeat(30);
        shorten(&mut text, 25);
        assert_eq!(text.chars().count(), 25);
        assert!(text.starts_with("aaaa") && text.ends_with("bbbb") && text.contains('…'));
        // Shortened again, the old ellipsis goes with the middle.
        shorten(&mut text, 13);
        assert_eq!(text.matches('…').count(), 1, "{text}");
        let mut short = "fits".to_string();
        shorten(&mut short, 4);
        assert_eq!(short, "fits");
    }
}
