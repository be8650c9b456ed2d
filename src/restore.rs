//! `restore`: back to any checkpoint, without losing anything on the way.
//!
//! The branch only moves forward. The work tree as it is gets saved first
//! as a `pre-restore` checkpoint (none when the work tree is HEAD's),
//! then the work tree is made equal to the checkpoint's tree
//! ([`crate::worktree`]), then a `restore` checkpoint records that tree and
//! the checkpoint's state, with a `Session-Restored-From` trailer. So every
//! restore is undone by restoring the commit before it (its parent).
//!
//! Everything that can refuse does so before the first write, with the
//! repository as it was: an operation in progress or conflicts, a detached
//! HEAD, a checkpoint outside the branch's history, and any path in the way
//! (what no checkpoint holds: ignored files, files left out as secrets or
//! too large) or in a directory that cannot be written.
//!
//! Order, under the locks a checkpoint holds, all taken before the
//! snapshot and kept to the end: snapshot and plan (objects only); the
//! pre-restore commit and HEAD moved to it by compare-and-swap, and its
//! note; the work tree, path by path, each file written whole and renamed
//! into place; the restore commit and HEAD moved to it, and its note; the
//! index last. A kill before the pre-restore commit changes nothing; after
//! it, HEAD is the pre-restore checkpoint, holding the work tree as it
//! was, whatever part of the work tree was already written: one more
//! restore, of the same checkpoint or of the pre-restore one, ends in the
//! new state or the old. The index on disk stays the old one until the
//! end (git status may look odd after a kill; the next checkpoint or
//! restore reads the work tree itself, not the index).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use gix::bstr::{BString, ByteSlice};
use gix::ObjectId;

use crate::checkpoint::{self, Written};
use crate::commit::{self, NewCommit};
use crate::config::Config;
use crate::error::Error;
use crate::history::History;
use crate::snapshot::{Change, Skip};
use crate::state::{State, SCHEMA};
use crate::time::{rfc3339, short};
use crate::worktree::{self, LocalChanges};

/// The reason a restore checkpoint records.
pub const REASON: &str = "restore";
/// The reason of the checkpoint that saves the work tree first.
pub const PRE_REASON: &str = "pre-restore";

/// What the caller asks.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The checkpoint: `#N` or a revision.
    pub target: String,
    /// Only these paths (pathspecs, relative to `cwd`); all when empty.
    pub paths: Vec<String>,
    /// Where the command runs: relative paths start here, and this
    /// directory is never removed.
    pub cwd: PathBuf,
    /// Say what would change; write nothing.
    pub dry_run: bool,
    /// Where the `commit` template may be overridden.
    pub templates: crate::render::Dirs,
}

/// What a restore did (or, for a dry run, would do).
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The checkpoint restored.
    pub target: ObjectId,
    pub branch: String,
    /// The commit that holds the work tree as it was: the pre-restore
    /// checkpoint, or HEAD when nothing had changed. `None` for a dry run.
    pub saved: Option<ObjectId>,
    /// Whether a pre-restore checkpoint was (or, dry, would be) written.
    pub saved_created: bool,
    /// The restore checkpoint; `None` for a dry run or when nothing was to
    /// be done.
    pub restore: Option<ObjectId>,
    /// The paths written or removed in the work tree.
    pub changes: Vec<Change>,
    /// Files in no checkpoint (secret-looking, too large, …), left as they are.
    pub kept: Vec<Skip>,
    /// The state recorded (or that would be).
    pub state: State,
    pub warnings: Vec<String>,
    pub dry_run: bool,
}

/// Restore `request.target` in `repo`'s work tree.
pub fn restore(
    repo: &mut gix::Repository,
    config: &Config,
    request: &Request,
    interrupt: &AtomicBool,
) -> anyhow::Result<Outcome> {
    let mut warnings: Vec<String> = crate::repo::prepare_to_commit(repo)?.into_iter().collect();
    let repo = &*repo;
    let workdir = repo
        .workdir()
        .context("a work tree is required")?
        .to_path_buf();
    let branch = repo
        .head_name()?
        .map(|name| name.shorten().to_string())
        .ok_or(Error::RestoreDetached)?;
    let mut locked = commit::lock_head(repo)?;
    let head = locked
        .head
        .ok_or_else(|| Error::NoCheckpoint(request.target.clone()))?;

    let mut history = History::new(repo, config)?;
    let target = history.resolve(&request.target, Some(head))?;
    if target != head
        && repo
            .merge_base(target, head)
            .ok()
            .flatten()
            .map(|id| id.detach())
            != Some(target)
    {
        return Err(Error::NotInHistory {
            rev: request.target.clone(),
            branch,
        }
        .into());
    }
    let target_tree = commit::head_tree_or_empty(repo, Some(target))?;
    let target_state = match history.checkpoint_at(target)? {
        Some(cp) => Some(cp.state),
        None => history.newest(target)?.map(|cp| cp.state),
    };
    warnings.append(&mut history.warnings);
    let mut search = pathspec(repo, &workdir, &request.cwd, &request.paths)?;

    let pre_request = checkpoint::Request {
        summary: Some(format!("before restoring {}", short(target))),
        reason: PRE_REASON.into(),
        templates: request.templates.clone(),
        ..checkpoint::Request::default()
    };
    let prepared = checkpoint::prepare(repo, config, &pre_request, &locked, interrupt)?;
    warnings.extend(prepared.warnings.iter().cloned());
    let saved_tree = prepared.snap.tree;
    if let Some(path) = unmatched(repo, &workdir, request, &[saved_tree, target_tree])? {
        return Err(Error::RestoreNoMatch {
            path,
            target: short(target),
        }
        .into());
    }
    let plan = worktree::plan(
        repo,
        &prepared.snap.index,
        saved_tree,
        target_tree,
        worktree::Options {
            local_changes: LocalChanges::Overwrite,
            paths: search.as_mut(),
            probe: !request.dry_run,
            keep_dir: relative_dir(&workdir, &request.cwd),
            keep_ignored: Some(locked.tree),
        },
    )?;
    if !plan.blocked.is_empty() {
        return Err(Error::RestoreBlocked {
            target: short(target),
            paths: plan
                .blocked
                .iter()
                .map(|b| describe(b, &prepared.snap.skipped))
                .collect(),
        }
        .into());
    }
    warnings.extend(plan.warnings.iter().cloned());
    warnings.extend(plan.kept.iter().map(|path| {
        format!(
            "left in place: {} (the checkpoint's ignore rules ignore it; it is no longer tracked)",
            path.to_str_lossy()
        )
    }));

    // The state the restore records: the checkpoint's, or with paths
    // (only some files go back) the current one.
    let mut state = match (&target_state, search.is_some()) {
        (Some(state), false) => state.clone(),
        _ => prepared.state.clone(),
    };
    let changes: Vec<Change> = plan
        .changes
        .iter()
        .map(|c| Change {
            path: c.path.to_str_lossy().into_owned(),
            kind: c.kind(),
        })
        .collect();
    let kept = prepared.snap.skipped.clone();
    // Nothing to do only when HEAD already records it: a work tree that
    // is the checkpoint's but not HEAD's (a restore killed after its
    // writes, files put back by hand) still gets its two checkpoints.
    // With paths that all match but need no change, nothing is written.
    let nothing_to_do = (plan.result == saved_tree
        && saved_tree == locked.tree
        && state.same_content(&prepared.state))
        || (search.is_some() && plan.changes.is_empty());
    let saved_created = !prepared.unchanged();
    if request.dry_run || nothing_to_do {
        // A restore killed after its commit left the old index behind:
        // the one of the work tree as it is (HEAD's tree) goes in now, so
        // that running the same restore again ends with git status clean.
        if !request.dry_run
            && nothing_to_do
            && saved_tree == locked.tree
            && prepared.snap.index_changed
        {
            let snap = prepared.snap;
            checkpoint::write_index(repo, locked.locks, snap.index, &snap.cache_tree)?;
        }
        return Ok(Outcome {
            target,
            branch,
            saved: None,
            saved_created: request.dry_run && saved_created && !nothing_to_do,
            restore: None,
            changes,
            kept,
            state,
            warnings,
            dry_run: request.dry_run,
        });
    }

    let Written {
        outcome: saved,
        mut index,
        cache_tree,
        ..
    } = checkpoint::write(repo, config, &pre_request, &mut locked.locks, prepared)?;
    warnings.extend(saved.warnings.iter().cloned());
    // Nothing new to save: HEAD holds the work tree, even when commits
    // came after the newest checkpoint (which `saved.commit` then names),
    // and the restore commit must follow HEAD, never that checkpoint.
    let saved_id = if saved.created { saved.commit } else { head };

    let done = plan
        .execute(repo, &mut index, Some(&cache_tree))
        .map_err(|err| Error::RestoreIncomplete {
            pre_restore: short(saved_id),
            cause: format!("{err:#}"),
        })?;
    warnings.extend(done.warnings);

    state.schema = SCHEMA;
    state.reason = REASON.into();
    state.branch = branch.clone();
    let from_summary = target_state
        .as_ref()
        .map(|s| s.summary.as_str())
        .unwrap_or_default();
    state.summary = match (search.is_some(), from_summary.is_empty()) {
        (true, _) => format!(
            "restore {} file{} from {}",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" },
            short(target)
        ),
        (false, true) => format!("restore {}", short(target)),
        (false, false) => format!("restore {}: {from_summary}", short(target)),
    };
    state.sequence = saved.state.sequence + 1;
    state.skipped = kept.iter().map(Skip::to_state).collect();
    state.restored_from = Some(target.to_string());
    let mut commit = NewCommit::new(repo, plan.result, vec![saved_id])?;
    state.created_at = rfc3339(commit.committer.time);
    commit.message =
        checkpoint::commit_message(config, &request.templates, &state, &changes, &mut warnings)?;
    // Before the commit: a state that cannot be a note fails the restore
    // here, with the pre-restore checkpoint standing and nothing else
    // written but the work tree.
    let note = state
        .to_toml()
        .context("could not write the session state as TOML for its note")?;
    let log_message = format!("git-session: {}", state.summary);
    let restore_id = commit::commit_and_move(
        repo,
        &mut locked.locks,
        &commit,
        "the restore commit",
        |id| {
            Ok(vec![commit::update(
                "HEAD",
                commit::expect_at(Some(saved_id)),
                id,
                log_message,
            )?])
        },
        |err| {
            commit::head_moved_or(
                repo,
                Some(saved_id),
                err,
                "could not move HEAD to the restore checkpoint".into(),
            )
        },
    )
    .map_err(|err| Error::RestoreIncomplete {
        pre_restore: short(saved_id),
        cause: format!("{err:#}"),
    })?;
    let mut history = History::new(repo, config)?;
    checkpoint::write_note(
        repo,
        config,
        &mut locked.locks,
        &mut history,
        restore_id,
        &note,
        &mut warnings,
    );
    if let Err(err) = checkpoint::write_index(repo, locked.locks, index, &done.cache_tree) {
        warnings.push(format!(
            "the restore {} stands, but the index could not be updated ({err:#}): run 'git reset -q' to resync it",
            short(restore_id)
        ));
    }
    Ok(Outcome {
        target,
        branch,
        saved: Some(saved_id),
        saved_created: saved.created,
        restore: Some(restore_id),
        changes,
        kept,
        state,
        warnings,
        dry_run: false,
    })
}

/// A path in the way, said for a person; files a snapshot left out say
/// why they are in no checkpoint.
fn describe(blocked: &worktree::Blocked, skipped: &[Skip]) -> String {
    let path = blocked.path.to_str_lossy();
    match skipped.iter().find(|s| s.path == path) {
        Some(skip) if matches!(blocked.why, worktree::Why::NotSaved { .. }) => format!(
            "{path}: in the way and in no checkpoint (left out: {})",
            skip.detail
        ),
        _ => blocked.describe(),
    }
}

/// The first of the request's paths that selects no file in any of
/// `trees` (as `git restore` refuses a pathspec that matches nothing);
/// exclusions are not checked.
fn unmatched(
    repo: &gix::Repository,
    workdir: &Path,
    request: &Request,
    trees: &[ObjectId],
) -> anyhow::Result<Option<String>> {
    if request.paths.is_empty() {
        return Ok(None);
    }
    let mut files: Vec<BString> = Vec::new();
    for tree in trees {
        if tree.is_empty_tree() {
            continue;
        }
        let mut recorder = gix::traverse::tree::Recorder::default();
        repo.find_tree(*tree)?
            .traverse()
            .breadthfirst(&mut recorder)
            .with_context(|| format!("could not read tree {tree}"))?;
        files.extend(
            recorder
                .records
                .into_iter()
                .filter(|entry| !entry.mode.is_tree())
                .map(|entry| entry.filepath),
        );
    }
    let defaults = repo.pathspec_defaults()?;
    for path in &request.paths {
        let excludes = gix::pathspec::parse(path.as_bytes(), defaults)
            .is_ok_and(|pattern| pattern.is_excluded());
        if excludes {
            continue;
        }
        let Some(mut search) = pathspec(repo, workdir, &request.cwd, std::slice::from_ref(path))?
        else {
            continue;
        };
        let hit = files.iter().any(|file| {
            search
                .pattern_matching_relative_path(file.as_ref(), Some(false), &mut |_, _, _, _| false)
                .is_some_and(|m| !m.is_excluded())
        });
        if !hit {
            return Ok(Some(path.clone()));
        }
    }
    Ok(None)
}

/// The pathspecs `paths`, relative to `cwd`, as git reads them.
pub fn pathspec(
    repo: &gix::Repository,
    workdir: &Path,
    cwd: &Path,
    paths: &[String],
) -> anyhow::Result<Option<gix::pathspec::Search>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let defaults = repo.pathspec_defaults()?;
    let patterns = paths
        .iter()
        .map(|p| {
            gix::pathspec::parse(p.as_bytes(), defaults)
                .map_err(|e| Error::Usage(format!("'{p}' is not a valid path or pathspec: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let prefix = relative_dir(workdir, cwd)
        .map(gix::path::from_bstring)
        .transpose()?;
    let root = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let search = gix::pathspec::Search::from_specs(patterns, prefix.as_deref(), &root)
        .map_err(|e| Error::Usage(format!("a path is outside the repository: {e}")))?;
    Ok(Some(search))
}

/// `cwd` relative to the work tree root, `/`-separated; `None` at the root
/// or outside.
fn relative_dir(workdir: &Path, cwd: &Path) -> Option<BString> {
    let root = workdir.canonicalize().ok()?;
    let here = cwd.canonicalize().ok()?;
    let rel = here.strip_prefix(&root).ok()?;
    if rel.as_os_str().is_empty() {
        return None;
    }
    let bytes = gix::path::into_bstr(rel).ok()?.into_owned();
    Some(gix::path::to_unix_separators_on_windows(bytes).into_owned())
}
