//! Sync through git remotes: which remote, which refs, in which order, and
//! what to do when the remote's notes moved or are refused.
//!
//! The branch goes first and must succeed: it carries the state in its
//! commit trailers, which is all a fresh clone needs. The notes ref follows,
//! best-effort: when the remote's notes moved, they are fetched into a
//! remote-tracking notes ref (`<notes ref>-remotes/<remote>`, never over the
//! local notes, which would drop local notes), merged, and pushed again; a
//! remote that refuses notes altogether (a hosting proxy, a server hook) is
//! reported, not failed.
//!
//! The git processes are [`crate::remote::Git`]; the merge is
//! [`crate::notes::merge`]; the git config that `git session init` writes is
//! decided here.

use gix::remote::Direction;

use crate::config::Config;
use crate::error::Error;
use crate::finish::RemoteTip;
use crate::notes::merge::{self, Merged};
use crate::remote::{Git, Pushed};

/// How many times a notes push meets a moved remote ref (and merges) before
/// giving up: another clone pushing at the same moment is rare, a loop is
/// never right.
const NOTES_PUSH_ATTEMPTS: usize = 3;

/// What happened to the notes ref in a push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotesPush {
    /// `--no-notes`.
    Skipped,
    /// There is no local notes ref yet.
    NoNotes,
    /// Pushed (or already there), after `merges` fetch-and-merge rounds.
    Pushed { pushed: Pushed, merges: usize },
    /// The remote does not accept the notes ref; the reason as it gave it.
    Refused(String),
    /// The notes push failed for another reason.
    Failed(String),
}

/// What happened to the stored transcripts (`session.transcripts`) in a
/// push or fetch: best-effort, like the notes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TranscriptSync {
    /// `session.transcripts` is off, or (push) none is stored.
    Off,
    /// Stored because `.git-session.toml` says so, but not pushed: only
    /// the user's own git config publishes a conversation.
    NotChosen { count: usize },
    /// Pushed or fetched with `remote`.
    Done { remote: String, count: usize },
    /// The remote refused them or the transfer failed; the reason.
    Failed { remote: String, reason: String },
}

/// What `push` did.
#[derive(Clone, Debug)]
pub struct PushReport {
    pub remote: String,
    /// Short branch name.
    pub branch: String,
    pub branch_pushed: Pushed,
    /// The remote had a chain a squash replaced, and the squash replaced
    /// it there too (`--force-with-lease`).
    pub replaced: Option<Replaced>,
    /// The branch had no upstream and now tracks the pushed branch.
    pub upstream_set: bool,
    pub notes_ref: String,
    pub notes: NotesPush,
    pub transcripts: TranscriptSync,
    /// Problems that did not stop the push.
    pub warnings: Vec<String>,
}

/// The old chain a push replaced on the remote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaced {
    /// The remote's tip before: the lease.
    pub expected: gix::ObjectId,
    /// Where that chain is kept here.
    pub archive: String,
}

/// What the remote's copy of `branch` (as last fetched into
/// `refs/remotes/REMOTE/BRANCH`) is to the squashes in HEAD's history.
/// A remote given as a URL has no such ref: its push is the usual one.
pub fn squash_lease(
    repo: &gix::Repository,
    remote: &str,
    branch: &str,
    head: gix::ObjectId,
) -> anyhow::Result<RemoteTip> {
    match tracking_tip(repo, remote, branch)? {
        Some(tip) => crate::finish::remote_tip(repo, branch, head, tip),
        None => Ok(RemoteTip::Unrelated),
    }
}

/// Whether HEAD has a squash of `branch` that the remote's copy (as last
/// fetched, if at all) does not contain: then a pull would bring the
/// replaced commits back.
fn squash_not_on_remote(
    repo: &gix::Repository,
    remote: &str,
    branch: &str,
    head: gix::ObjectId,
) -> anyhow::Result<bool> {
    let Some(squash) = crate::finish::squash_in_history(repo, branch, head)? else {
        return Ok(false);
    };
    let Some(tip) = tracking_tip(repo, remote, branch)? else {
        return Ok(true);
    };
    let contains =
        squash == tip || repo.merge_base(squash, tip)?.map(gix::Id::detach) == Some(squash);
    Ok(!contains)
}

/// `refs/remotes/REMOTE/BRANCH`'s commit, when there is one.
fn tracking_tip(
    repo: &gix::Repository,
    remote: &str,
    branch: &str,
) -> anyhow::Result<Option<gix::ObjectId>> {
    let tracking = format!("refs/remotes/{remote}/{branch}");
    if gix::refs::FullName::try_from(tracking.as_str()).is_err() {
        return Ok(None);
    }
    let tip = repo
        .try_find_reference(tracking.as_str())?
        .map(|mut r| r.peel_to_id().map(gix::Id::detach))
        .transpose()?;
    Ok(tip.filter(|tip| repo.find_commit(*tip).is_ok()))
}

/// The refusal to push a squash over someone else's commits, with how to
/// take them in and squash again.
pub fn squash_not_published(remote: &str, branch: &str, archive: &str, why: &str) -> Error {
    Error::SquashNotPublished {
        remote: remote.into(),
        branch: branch.into(),
        why: why.into(),
        hints: vec![
            format!("take their commits into the chain the squash replaced, then squash again: git fetch {remote} && git reset --keep {archive} && git rebase {remote}/{branch} && git session finish --squash && git session push {remote}"),
            "do not 'git pull' onto the squashed commit: that brings back every commit it replaced".into(),
        ],
    }
}

/// What `fetch` did.
#[derive(Clone, Debug)]
pub struct FetchReport {
    pub remote: String,
    pub notes_ref: String,
    /// Where the remote's notes were fetched to.
    pub tracking_ref: String,
    /// False when the remote has no notes ref.
    pub found: bool,
    pub merged: Merged,
    pub transcripts: TranscriptSync,
    pub warnings: Vec<String>,
}

/// Push the current branch to `remote` (default: the branch's push remote,
/// then `origin`), setting its upstream when it has none, then the notes
/// ref unless `with_notes` is false.
pub fn push(
    repo: &mut gix::Repository,
    config: &Config,
    remote: Option<&str>,
    with_notes: bool,
) -> anyhow::Result<PushReport> {
    let head = repo.head_name()?.ok_or(Error::DetachedHead)?;
    let branch = head.shorten().to_string();
    if repo.head_id().is_err() {
        return Err(Error::Usage(format!(
            "branch '{branch}' has no commits yet: nothing to push"
        ))
        .into());
    }
    let remote = resolve_remote(repo, remote, Direction::Push)?;
    let git = Git::new(repo).with_timeout(config.network_timeout);
    let set_upstream = repo
        .branch_remote_name(branch.as_str(), Direction::Fetch)
        .is_none();
    let full = head.as_bstr().to_string();
    let head_id = repo.head_id()?.detach();
    let replaced = match squash_lease(repo, &remote, &branch, head_id)? {
        RemoteTip::Unrelated => None,
        RemoteTip::Replaced { expected, archive } => Some(Replaced { expected, archive }),
        RemoteTip::MovedPast { archive } => {
            return Err(squash_not_published(
                &remote,
                &branch,
                &archive,
                "someone else pushed after the commits it replaced",
            )
            .into())
        }
    };
    let pushed = match &replaced {
        Some(lease) => git.push_replacing(&remote, &full, &full, lease.expected, set_upstream),
        None => git.push(&remote, &full, &full, set_upstream),
    };
    let branch_pushed = match pushed {
        Ok(pushed) => pushed,
        // A lease that no longer holds: the remote moved since the fetch.
        Err(Error::PushRejected { .. }) if replaced.is_some() => {
            let archive = replaced
                .as_ref()
                .map(|r| r.archive.as_str())
                .unwrap_or_default();
            return Err(squash_not_published(
                &remote,
                &branch,
                archive,
                "it moved since the last fetch: someone else pushed",
            )
            .into());
        }
        // The usual hint (pull, then push) would bring back every commit
        // a squash replaced, unless the remote has the squash already.
        Err(Error::PushRejected { .. })
            if squash_not_on_remote(repo, &remote, &branch, head_id)? =>
        {
            return Err(Error::SquashNotPublished {
                remote: remote.clone(),
                branch: branch.clone(),
                why: "they are not in this repository".into(),
                hints: vec![
                    format!("fetch them ('git fetch {remote}'), then 'git session push' again: it replaces a chain the squash folded, and says what to do about anyone else's commits"),
                    "do not 'git pull' onto the squashed commit: that brings back every commit it replaced".into(),
                ],
            }
            .into());
        }
        Err(err) => return Err(err.into()),
    };

    let mut warnings = Vec::new();
    let notes = if with_notes {
        push_notes(repo, &git, &config.notes_ref, &remote, &mut warnings)?
    } else {
        NotesPush::Skipped
    };
    let transcripts = push_transcripts(repo, &git, config, &remote);
    Ok(PushReport {
        remote,
        branch,
        branch_pushed,
        replaced,
        upstream_set: set_upstream,
        notes_ref: config.notes_ref.clone(),
        notes,
        transcripts,
        warnings,
    })
}

/// Push every stored transcript (`session.transcripts` on) to
/// `session.transcriptRemote`, else the branch's remote. Never fails the
/// push: the branch is already there.
fn push_transcripts(
    repo: &gix::Repository,
    git: &Git,
    config: &Config,
    remote: &str,
) -> TranscriptSync {
    if !config.transcripts {
        return TranscriptSync::Off;
    }
    let count = crate::transcripts::list(repo).map_or(0, |list| list.len());
    if count == 0 {
        return TranscriptSync::Off;
    }
    if !config.publish_transcripts {
        return TranscriptSync::NotChosen { count };
    }
    let remote = config.transcript_remote.as_deref().unwrap_or(remote);
    let spec = crate::transcripts::REFSPEC;
    let (src, dst) = spec.split_once(':').expect("the refspec has a ':'");
    match git.push(remote, src, dst, false) {
        Ok(_) => TranscriptSync::Done {
            remote: remote.into(),
            count,
        },
        Err(err) => TranscriptSync::Failed {
            remote: remote.into(),
            reason: err.to_string(),
        },
    }
}

/// Fetch every transcript `remote` stores (`session.transcripts` on)
/// into the local transcript refs; ones that diverged from a local chain
/// are left as they are, with a warning.
fn fetch_transcripts(git: &Git, config: &Config, remote: &str) -> TranscriptSync {
    if !config.transcripts {
        return TranscriptSync::Off;
    }
    let remote = config.transcript_remote.as_deref().unwrap_or(remote);
    let (src, dst) = crate::transcripts::REFSPEC
        .split_once(':')
        .expect("the refspec has a ':'");
    match git.fetch_unforced(remote, src, dst) {
        Ok(()) => TranscriptSync::Done {
            remote: remote.into(),
            count: 0,
        },
        Err(err) => TranscriptSync::Failed {
            remote: remote.into(),
            reason: err.to_string(),
        },
    }
}

/// Push the notes ref; on a moved remote ref fetch, merge and try again.
/// Only local failures (a merge that cannot be written) are errors: the
/// branch is already pushed and carries the state.
fn push_notes(
    repo: &mut gix::Repository,
    git: &Git,
    notes_ref: &str,
    remote: &str,
    warnings: &mut Vec<String>,
) -> anyhow::Result<NotesPush> {
    if repo.try_find_reference(notes_ref)?.is_none() {
        return Ok(NotesPush::NoNotes);
    }
    let tracking = tracking_ref(notes_ref, remote);
    let mut merges = 0;
    for attempt in 1..=NOTES_PUSH_ATTEMPTS {
        match git.push(remote, notes_ref, notes_ref, false) {
            Ok(pushed) => return Ok(NotesPush::Pushed { pushed, merges }),
            Err(Error::PushRejected { .. }) if attempt < NOTES_PUSH_ATTEMPTS => {
                if let Err(err) = git.fetch(remote, notes_ref, &tracking) {
                    return Ok(NotesPush::Failed(err.to_string()));
                }
                merge_identity(repo, warnings)?;
                merge::merge(repo, notes_ref, &tracking)?;
                merges += 1;
            }
            Err(Error::PushRefused { reason, .. }) => return Ok(NotesPush::Refused(reason)),
            Err(err) => return Ok(NotesPush::Failed(err.to_string())),
        }
    }
    Ok(NotesPush::Failed(format!(
        "the notes on '{remote}' kept moving ({NOTES_PUSH_ATTEMPTS} attempts)"
    )))
}

/// Fetch the remote's notes ref into its remote-tracking notes ref, then
/// merge that into the local notes.
pub fn fetch(
    repo: &mut gix::Repository,
    config: &Config,
    remote: Option<&str>,
) -> anyhow::Result<FetchReport> {
    fetch_with(repo, config, remote, None)
}

/// [`fetch`], giving up after `timeout` or `session.networkTimeout`,
/// whichever is shorter (for hooks that must not stall).
pub fn fetch_with(
    repo: &mut gix::Repository,
    config: &Config,
    remote: Option<&str>,
    timeout: Option<std::time::Duration>,
) -> anyhow::Result<FetchReport> {
    let remote = resolve_remote(repo, remote, Direction::Fetch)?;
    let notes_ref = config.notes_ref.clone();
    let tracking = tracking_ref(&notes_ref, &remote);
    let limit = match (timeout, config.network_timeout) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let git = Git::new(repo).with_timeout(limit);
    let found = git.fetch(&remote, &notes_ref, &tracking)?;
    let mut warnings = Vec::new();
    let merged = if found {
        merge_identity(repo, &mut warnings)?;
        merge::merge(repo, &notes_ref, &tracking)?
    } else {
        Merged::UpToDate
    };
    let tips = |repo: &gix::Repository| -> Vec<(String, gix::ObjectId)> {
        crate::transcripts::list(repo)
            .map(|list| list.into_iter().map(|e| (e.reference, e.tip)).collect())
            .unwrap_or_default()
    };
    let before = tips(repo);
    let mut transcripts = fetch_transcripts(&git, config, &remote);
    if let TranscriptSync::Done { count, .. } = &mut transcripts {
        // What the fetch brought: new chains, or chains that grew.
        *count = tips(repo)
            .iter()
            .filter(|tip| !before.contains(tip))
            .count();
    }
    Ok(FetchReport {
        remote,
        notes_ref,
        tracking_ref: tracking,
        found,
        merged,
        transcripts,
        warnings,
    })
}

/// A notes merge may need a commit: make sure there is an identity, saying
/// so when it is the fallback.
fn merge_identity(repo: &mut gix::Repository, warnings: &mut Vec<String>) -> anyhow::Result<()> {
    if let Some(used) = crate::repo::ensure_identity(repo)? {
        if warnings.is_empty() {
            warnings.push(format!(
                "no user.name/user.email configured: merging notes as {used}"
            ));
        }
    }
    Ok(())
}

/// The remote to use: the one given (a configured name, or anything that
/// reads as a URL or path), else the branch's remote for `direction` as git
/// chooses it (`branch.<b>.pushRemote`, `remote.pushDefault`,
/// `branch.<b>.remote`), else `origin`.
pub fn resolve_remote(
    repo: &gix::Repository,
    given: Option<&str>,
    direction: Direction,
) -> Result<String, Error> {
    let names: Vec<String> = repo
        .remote_names()
        .iter()
        .map(|name| name.to_string())
        .collect();
    if let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) {
        let url_like = given.contains(['/', ':', '\\']) || given == ".";
        // A leading '-' could read as an option to git.
        if !given.starts_with('-') && (names.iter().any(|n| n == given) || url_like) {
            return Ok(given.to_string());
        }
        return Err(Error::UnknownRemote(given.to_string()));
    }
    let branch = repo
        .head_name()
        .ok()
        .flatten()
        .map(|name| name.shorten().to_string());
    if let Some(name) = branch
        .as_ref()
        .and_then(|b| repo.branch_remote_name(b.as_str(), direction))
    {
        return Ok(name.as_bstr().to_string());
    }
    if names.iter().any(|n| n == "origin") {
        return Ok("origin".into());
    }
    Err(Error::NoRemote)
}

/// Where `remote`'s notes are fetched to: `refs/notes/session-remotes/origin`
/// for `refs/notes/session` and `origin`. A name beside the local ref, not
/// below it, which git could not store next to `refs/notes/session`. A URL
/// or path, or any name that would not make a valid ref, is turned into one
/// ref-name component, so whatever the remote is called, the result is a
/// valid ref below `<notes ref>-remotes/` (a valid ref name has no `..`
/// component and no `//`, so it cannot climb out).
pub fn tracking_ref(notes_ref: &str, remote: &str) -> String {
    let name = format!("{notes_ref}-remotes/{remote}");
    let valid = !remote.contains(':') && gix::refs::FullName::try_from(name.as_str()).is_ok();
    if valid {
        return name;
    }
    let mut component: String = remote
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if component.is_empty() {
        component.push('_');
    }
    format!("{notes_ref}-remotes/{component}")
}

/// The refspec `git session init` adds to a remote so a plain `git fetch`
/// brings its notes to the remote-tracking notes ref. A glob, on purpose:
/// an exact refspec makes every `git fetch` and `git pull` fail while the
/// remote has no notes ref (before the first notes push, or on a remote
/// that refuses notes), and `*` matching the empty string maps
/// `refs/notes/session` to `refs/notes/session-remotes/<remote>` exactly.
pub fn fetch_refspec(notes_ref: &str, remote: &str) -> String {
    format!("+{notes_ref}*:{}*", tracking_ref(notes_ref, remote))
}

/// One git config setting `git session init` makes, and how the
/// repository has it now: [`init`] makes the ones not [`Now::Set`], and
/// `doctor` reports the ones [`Now::Missing`], so the two cannot disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    /// A value added to a multi-valued key (`--add`) rather than set.
    pub add: bool,
    pub now: Now,
}

/// How a [`Setting`] stands in the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Now {
    /// Set as `init` sets it.
    Set,
    /// Not set, but git's default does the same.
    Default,
    /// Missing or set otherwise; what is wrong, for `doctor`.
    Missing(String),
}

/// What `git session init` configures for the notes ref `notes_ref` and
/// `remotes`:
///
/// - `notes.rewriteRef` gets the notes ref, `notes.rewriteMode` becomes
///   `overwrite` (git's default `concatenate` joins two TOML texts into
///   invalid TOML) and `notes.rewrite.amend`/`.rebase` are turned on, so
///   `git commit --amend` and `git rebase` carry notes to the new commits.
/// - each remote gets the fetch refspec of [`fetch_refspec`].
pub fn init_plan(repo: &gix::Repository, notes_ref: &str, remotes: &[String]) -> Vec<Setting> {
    let snapshot = repo.config_snapshot();
    let mut plan = Vec::new();
    let rewrite_refs = snapshot
        .plumbing()
        .strings("notes.rewriteRef")
        .unwrap_or_default();
    plan.push(Setting {
        key: "notes.rewriteRef".into(),
        value: notes_ref.into(),
        add: true,
        now: if rewrite_refs.iter().any(|r| r == notes_ref) {
            Now::Set
        } else {
            Now::Missing(format!("notes.rewriteRef does not name {notes_ref}"))
        },
    });
    let overwrite = snapshot
        .string("notes.rewriteMode")
        .is_some_and(|mode| mode.as_slice() == b"overwrite");
    plan.push(Setting {
        key: "notes.rewriteMode".into(),
        value: "overwrite".into(),
        add: false,
        now: if overwrite {
            Now::Set
        } else {
            Now::Missing("notes.rewriteMode is not 'overwrite'".into())
        },
    });
    for key in ["notes.rewrite.amend", "notes.rewrite.rebase"] {
        plan.push(Setting {
            key: key.into(),
            value: "true".into(),
            add: false,
            // git's default is true; only an explicit false breaks it.
            now: match snapshot.boolean(key) {
                Some(true) => Now::Set,
                None => Now::Default,
                Some(false) => Now::Missing(format!("{key} is false")),
            },
        });
    }
    for remote in remotes {
        let refspec = fetch_refspec(notes_ref, remote);
        let existing = snapshot
            .plumbing()
            .strings_by("remote", Some(remote.as_str().into()), "fetch")
            .unwrap_or_default();
        plan.push(Setting {
            key: format!("remote.{remote}.fetch"),
            now: if existing.iter().any(|r| *r == refspec) {
                Now::Set
            } else {
                Now::Missing(format!("remote '{remote}' does not fetch the notes"))
            },
            value: refspec,
            add: true,
        });
    }
    plan
}

/// Configure `repo` for sync ([`init_plan`]), idempotently, for `remote`
/// (default: every configured remote); returns one line per change (empty
/// when everything was already set).
pub fn init(
    repo: &gix::Repository,
    config: &Config,
    remote: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = repo
        .remote_names()
        .iter()
        .map(|name| name.to_string())
        .collect();
    let remotes = match remote.map(str::trim).filter(|r| !r.is_empty()) {
        Some(given) if names.iter().any(|n| n == given) => vec![given.to_string()],
        Some(given) => return Err(Error::UnknownRemote(given.to_string()).into()),
        None => names,
    };
    let git = Git::new(repo);
    let mut changes = Vec::new();
    for setting in init_plan(repo, &config.notes_ref, &remotes) {
        let Setting {
            key, value, add, ..
        } = &setting;
        if setting.now == Now::Set {
            continue;
        }
        if *add {
            git.config_add(key, value)?;
            changes.push(format!("added {key} = {value}"));
        } else {
            git.config_set(key, value)?;
            changes.push(format!("set {key} = {value}"));
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_refs_sit_beside_the_notes_ref() {
        assert_eq!(
            tracking_ref("refs/notes/session", "origin"),
            "refs/notes/session-remotes/origin"
        );
        assert_eq!(
            tracking_ref("refs/notes/session", "team/upstream"),
            "refs/notes/session-remotes/team/upstream"
        );
        assert_eq!(
            tracking_ref("refs/notes/session", "git://127.0.0.1:9418/x.git"),
            "refs/notes/session-remotes/git___127_0_0_1_9418_x_git"
        );
        assert_eq!(
            tracking_ref("refs/notes/session", "../r.git"),
            "refs/notes/session-remotes/___r_git"
        );
        assert_eq!(
            fetch_refspec("refs/notes/session", "origin"),
            "+refs/notes/session*:refs/notes/session-remotes/origin*"
        );
    }

    #[test]
    fn hostile_remote_names_cannot_leave_the_tracking_namespace() {
        for remote in [
            "",
            ".",
            "..",
            "../../heads/main",
            "a/../../../heads/main",
            "/abs",
            "a//b",
            "a/",
            "x.lock",
            "@{1}",
            "a b",
            "a*",
            "a\nb",
            "a\u{0}b",
            "~^:?[\\",
            "-",
            "HEAD",
            "origin/../../tags/v1",
        ] {
            let name = tracking_ref("refs/notes/session", remote);
            assert!(
                name.starts_with("refs/notes/session-remotes/")
                    && name.len() > "refs/notes/session-remotes/".len(),
                "{remote:?} gave {name}"
            );
            assert!(
                !name
                    .split('/')
                    .any(|c| c == ".." || c == "." || c.is_empty()),
                "{remote:?} gave {name}"
            );
            assert!(
                gix::refs::FullName::try_from(name.as_str()).is_ok(),
                "{remote:?} gave the invalid {name}"
            );
        }
    }
}
