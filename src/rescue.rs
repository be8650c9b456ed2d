//! Rescue snapshots: the work tree saved when a checkpoint cannot commit on
//! the branch.
//!
//! During a merge, rebase, cherry-pick, revert or bisect, or with conflicts
//! in the index, committing on the branch would record a half-done operation
//! as the user's work, so checkpoints refuse. A hook must still not lose the
//! work: it saves the work tree, `git add -A` style, as a commit on
//! `refs/session/rescue/BRANCH`, built from a private copy of the index
//! (conflicted paths taken as they are in the work tree). HEAD, the index and
//! the work tree are not touched.

use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use gix::refs::transaction::PreviousValue;
use gix::ObjectId;

use crate::commit::{self, NewCommit};
use crate::config::Config;
use crate::history::History;
use crate::state::SCHEMA;

/// The ref namespace of rescue snapshots.
pub const PREFIX: &str = "refs/session/rescue/";

/// A rescue snapshot that was written.
#[derive(Clone, Debug)]
pub struct Rescued {
    pub commit: ObjectId,
    /// `refs/session/rescue/BRANCH`.
    pub reference: String,
    /// Why the checkpoint could not commit on the branch.
    pub why: String,
    /// Whether to say so (on stderr): false when it was said before.
    pub announce: bool,
    /// What to do about it, said with the announcement.
    pub hint: Option<String>,
}

/// The branch a rescue belongs to: the checked-out branch, or the branch
/// being rebased (HEAD is detached during a rebase), or `HEAD`.
pub fn branch_name(repo: &gix::Repository) -> String {
    for dir in ["rebase-merge", "rebase-apply"] {
        if let Ok(name) = std::fs::read_to_string(repo.git_dir().join(dir).join("head-name")) {
            if let Some(short) = name.trim().strip_prefix("refs/heads/") {
                return short.to_string();
            }
        }
    }
    match repo.head_name() {
        Ok(Some(name)) => name.shorten().to_string(),
        _ => "HEAD".to_string(),
    }
}

/// The rescue ref for the current branch, if one exists: (ref, commit, time).
pub fn pending(repo: &gix::Repository) -> Option<(String, ObjectId, gix::date::Time)> {
    let name = format!("{PREFIX}{}", branch_name(repo));
    let mut reference = repo.try_find_reference(name.as_str()).ok().flatten()?;
    let id = reference.peel_to_id().ok()?.detach();
    let time = repo.find_commit(id).ok()?.time().ok()?;
    Some((name, id, time))
}

/// Save the work tree to `refs/session/rescue/BRANCH`. `why` says what kept
/// the checkpoint from the branch (it goes into the message).
pub fn rescue(
    repo: &mut gix::Repository,
    config: &Config,
    reason: &str,
    why: &str,
) -> anyhow::Result<Rescued> {
    crate::repo::ensure_identity(repo)?;
    let repo = &*repo;
    // Hold the locks for a consistent read, and until the rescue ref is
    // written (so a kill leaves no ref lock the next run cannot clear);
    // the index is never written: its lock is dropped without a commit.
    let locked = commit::lock_head(repo)?;
    let (mut locks, head, base_tree) = (locked.locks, locked.head, locked.tree);
    let shared = repo.index_or_empty().context("could not read the index")?;
    let mut index = gix::index::File::clone(&shared);
    drop(shared);
    // Conflicted paths: drop their stages, so the scan finds them untracked
    // and takes them as the work tree has them.
    index.remove_entries(|_, _, entry| entry.stage_raw() != 0);
    index.remove_tree();

    let snap = crate::snapshot::snapshot(
        repo,
        index,
        base_tree,
        // A rescue runs from a hook: a path git refuses is left out.
        &crate::snapshot::Options {
            refusals: crate::snapshot::Refusals::Skip,
            ..crate::snapshot::Options::from_config(config)
        },
        &AtomicBool::new(false),
    )?;

    let branch = branch_name(repo);
    let reference = format!("{PREFIX}{branch}");
    // The same work tree on the same HEAD is saved already: a hook that
    // rescues after every turn adds no commit when nothing changed.
    if let Some(existing) = same_rescue(repo, &reference, snap.tree, head) {
        drop(locks);
        return Ok(Rescued {
            commit: existing,
            reference,
            why: why.to_string(),
            announce: true,
            hint: None,
        });
    }
    let mut state = match head {
        Some(id) => History::new(repo, config)?
            .newest(id)?
            .map(|cp| cp.state)
            .unwrap_or_default(),
        None => Default::default(),
    };
    state.schema = SCHEMA;
    state.reason = format!("{reason} (rescue)");
    state.branch = branch.clone();
    state.summary = format!("rescue: {why}");
    state.skipped = snap.skipped.iter().map(|s| s.to_state()).collect();

    let mut commit = NewCommit::new(repo, snap.tree, head.into_iter().collect())?;
    state.created_at = crate::time::rfc3339(commit.committer.time);
    commit.message = format!(
        "rescue: {why}\n\nThe work tree of '{branch}', saved by git-session because a checkpoint\ncould not commit on the branch. Restore it once the operation is over:\n  git restore --source={PREFIX}{branch} --worktree -- .\n\n{}",
        crate::state::format_trailers(&state.to_trailers())
    );
    let moved = commit::commit_and_move(
        repo,
        &mut locks,
        &commit,
        "the rescue commit",
        |id| {
            let log_message = format!("git-session rescue: {why}");
            Ok(vec![commit::update(
                &reference,
                PreviousValue::Any,
                id,
                log_message,
            )?])
        },
        |err| anyhow::Error::from(err).context(format!("could not update '{reference}'")),
    );
    drop(locks);
    let id = moved?;
    Ok(Rescued {
        commit: id,
        reference,
        why: why.to_string(),
        announce: true,
        hint: None,
    })
}

/// The rescue commit at `reference` when it holds `tree` on `head`.
fn same_rescue(
    repo: &gix::Repository,
    reference: &str,
    tree: ObjectId,
    head: Option<ObjectId>,
) -> Option<ObjectId> {
    let id = repo
        .try_find_reference(reference)
        .ok()
        .flatten()?
        .peel_to_id()
        .ok()?
        .detach();
    let commit = repo.find_commit(id).ok()?;
    let parent = commit.parent_ids().next().map(|p| p.detach());
    (commit.tree_id().ok()?.detach() == tree && parent == head).then_some(id)
}

/// Whether `err` is one a rescue snapshot answers: an operation in
/// progress, or conflicts.
pub fn applies_to(err: &anyhow::Error) -> Option<String> {
    use crate::error::Error;
    err.chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .and_then(|e| match e {
            Error::InProgress(op) => Some(format!("{op} in progress")),
            Error::Conflicts { .. } => Some("unresolved conflicts".to_string()),
            _ => None,
        })
}
