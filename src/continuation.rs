//! Continuing another branch's session on this branch: what a new session
//! on the web does, since it may push only its own `claude/…` branch.
//!
//! The current branch is brought to the other branch's tip, never by
//! rewriting: by fast-forward when the other branch contains it, or, when
//! everything the current branch has is also on another ref (the usual new
//! session, created at the trunk's tip and still without commits of its
//! own), by moving it there, which loses nothing. A branch with commits of
//! its own is refused, changing nothing: the person merges or rebases, and
//! runs it again (the other branch's tip is then in the current branch, and
//! only the state is brought over).
//!
//! Order of writes, under the checkpoint locks: the work tree (planned in
//! full first, refusing like `git merge --ff-only` when a local change or an
//! unsaved file is in the way, see [`crate::worktree`]), then the branch
//! with compare-and-swap and a reflog entry, then the index. A kill between
//! the steps loses nothing: the next checkpoint records the work tree as
//! it is. Then a checkpoint with reason `continue` records the other
//! session's state on this branch, with `Session-Continues` naming it.

use std::sync::atomic::AtomicBool;

use gix::ObjectId;

use crate::checkpoint::{Outcome, Request};
use crate::config::Config;
use crate::error::Error;
use crate::history::History;
use crate::time::short;

/// How the current branch got to the other branch's tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Move {
    /// The other branch contained it: a fast-forward.
    FastForward,
    /// It had no commits of its own (all of them are on other refs, or it
    /// had none at all): moved to the other tip, nothing lost.
    Moved,
    /// It already contains the other branch's tip (merged by hand): not
    /// moved, only the state is brought over.
    AlreadyThere,
}

/// What `continue` did.
#[derive(Debug)]
pub struct Continued {
    /// The other branch, without a remote: `claude/x`.
    pub branch: String,
    /// The revision it was read from: `claude/x` or `origin/claude/x`.
    pub rev: String,
    /// The current branch.
    pub onto: String,
    pub from: Option<ObjectId>,
    pub to: ObjectId,
    pub moved: Move,
    /// Files written and removed in the work tree.
    pub written: usize,
    pub removed: usize,
    /// The checkpoint that records the continued state.
    pub checkpoint: Outcome,
    pub warnings: Vec<String>,
}

/// Bring the session of `target` (a branch, local or only
/// remote-tracking, or `remote/branch`) onto the current branch.
pub fn continue_session(
    repo: &mut gix::Repository,
    config: &Config,
    target: &str,
    templates: crate::render::Dirs,
) -> anyhow::Result<Continued> {
    let mut warnings: Vec<String> = crate::repo::prepare_to_commit(repo)?.into_iter().collect();
    let onto = repo
        .head_name()?
        .map(|name| name.shorten().to_string())
        .ok_or_else(|| {
            cannot(
                "HEAD is detached: there is no branch to bring the session onto",
                "switch to the branch of this session ('git switch -c NAME'), then continue again",
            )
        })?;
    let (branch, rev) = resolve_target(repo, target)?;
    if branch == onto {
        return Err(cannot(
            &format!("'{onto}' is the branch you are on"),
            "to pick up its session here, run 'git session resume'",
        ));
    }
    let tip = crate::repo::resolve_commit(repo, &rev)?;
    let state = {
        let mut history = History::new(repo, config)?;
        let found = history.newest(tip)?;
        warnings.append(&mut history.warnings);
        found.ok_or_else(|| Error::NoCheckpoint(rev.clone()))?.state
    };

    let (from, moved, written, removed) = {
        let repo = &*repo;
        let mut locked = crate::commit::lock_head(repo)?;
        let head = locked.head;
        let moved = how_to_move(repo, head, tip, &onto)?;
        let (mut written, mut removed) = (0, 0);
        if moved != Move::AlreadyThere {
            let to_tree = crate::commit::head_tree_or_empty(repo, Some(tip))?;
            let mut index = crate::index_file::read(repo)?;
            let plan = crate::worktree::plan(
                repo,
                &index,
                locked.tree,
                to_tree,
                crate::worktree::Options {
                    local_changes: crate::worktree::LocalChanges::Refuse,
                    paths: None,
                    probe: true,
                    keep_dir: None,
                    keep_ignored: None,
                },
            )?;
            if let Some(first) = plan.blocked.first() {
                return Err(Error::CannotContinue {
                    reason: format!(
                        "{} path{} in the way of '{rev}', first {}",
                        plan.blocked.len(),
                        if plan.blocked.len() == 1 { "" } else { "s" },
                        first.describe()
                    ),
                    hint: "commit or stash them ('git stash'), continue, then 'git stash pop'"
                        .into(),
                }
                .into());
            }
            warnings.extend(plan.warnings.iter().cloned());
            let done = plan.execute(repo, &mut index, None)?;
            warnings.extend(done.warnings.iter().cloned());
            (written, removed) = (done.written, done.removed);
            let full = format!("refs/heads/{onto}");
            let log = format!("git-session continue: {} to {rev}", describe(moved));
            crate::commit::move_refs(
                repo,
                &mut locked.locks,
                vec![crate::commit::update(
                    &full,
                    crate::commit::expect_at(head),
                    tip,
                    log,
                )?],
                |err| {
                    crate::commit::head_moved_or(
                        repo,
                        head,
                        err,
                        format!("could not move '{onto}'"),
                    )
                },
            )?;
            if let Err(err) =
                crate::checkpoint::write_index(repo, locked.locks, index, &done.cache_tree)
            {
                warnings.push(format!(
                    "'{onto}' is at {} and the work tree matches it, but the index could not be updated ({err:#}): run 'git reset -q' to resync it",
                    short(tip)
                ));
            }
        }
        (head, moved, written, removed)
    };

    let request = Request {
        reason: "continue".into(),
        summary: Some(format!("continue the session of {branch}")),
        continues: Some(branch.clone()),
        from_state: Some(state),
        templates,
        ..Request::default()
    };
    let mut checkpoint =
        crate::checkpoint::checkpoint(repo, config, &request, &AtomicBool::new(false))?;
    warnings.append(&mut checkpoint.warnings);
    Ok(Continued {
        branch,
        rev,
        onto,
        from,
        to: tip,
        moved,
        written,
        removed,
        checkpoint,
        warnings,
    })
}

/// `fast-forward`, `move`, as a reflog and a person read it.
pub fn describe(moved: Move) -> &'static str {
    match moved {
        Move::FastForward => "fast-forward",
        Move::Moved => "move",
        Move::AlreadyThere => "already there",
    }
}

/// The branch `target` names and the revision to read it from: a local
/// branch; else the remote-tracking branch of that name (the current
/// branch's remote first, then `origin`, then any); else `remote/branch`.
fn resolve_target(repo: &gix::Repository, target: &str) -> anyhow::Result<(String, String)> {
    let target = target.trim();
    let target = target.strip_prefix("refs/heads/").unwrap_or(target);
    let exists = |name: &str| repo.try_find_reference(name).ok().flatten().is_some();
    if exists(&format!("refs/heads/{target}")) {
        return Ok((target.to_string(), target.to_string()));
    }
    let mut remotes: Vec<String> = repo.remote_names().iter().map(|n| n.to_string()).collect();
    let preferred = repo.head_name().ok().flatten().and_then(|head| {
        repo.branch_remote_name(head.shorten(), gix::remote::Direction::Fetch)
            .map(|n| n.as_bstr().to_string())
    });
    remotes.sort_by_key(|r| (Some(r) != preferred.as_ref(), r != "origin"));
    if let Some(remote) = remotes
        .iter()
        .find(|r| exists(&format!("refs/remotes/{r}/{target}")))
    {
        return Ok((target.to_string(), format!("{remote}/{target}")));
    }
    let tracking = target.strip_prefix("refs/remotes/").unwrap_or(target);
    remotes.sort_by_key(|r| std::cmp::Reverse(r.len()));
    if let Some(remote) = remotes
        .iter()
        .find(|r| tracking.starts_with(&format!("{r}/")))
        .filter(|_| exists(&format!("refs/remotes/{tracking}")))
    {
        return Ok((
            tracking[remote.len() + 1..].to_string(),
            tracking.to_string(),
        ));
    }
    Err(Error::UnknownBranch(target.to_string()).into())
}

/// How the current branch, at `head`, can get to `tip` without losing a
/// commit; refused when it has commits of its own.
fn how_to_move(
    repo: &gix::Repository,
    head: Option<ObjectId>,
    tip: ObjectId,
    onto: &str,
) -> anyhow::Result<Move> {
    let Some(head) = head else {
        return Ok(Move::Moved);
    };
    let contains = |a: ObjectId, b: ObjectId| -> anyhow::Result<bool> {
        Ok(a == b || repo.merge_base(a, b).ok().flatten().map(|m| m.detach()) == Some(a))
    };
    if contains(tip, head)? {
        return Ok(Move::AlreadyThere);
    }
    if contains(head, tip)? {
        return Ok(Move::FastForward);
    }
    // Everything the branch has is on another branch or tag: moving it
    // loses nothing. Not its own remote-tracking branches: what it pushed
    // is its own, and moving away from it could not be pushed.
    let own = format!("refs/heads/{onto}");
    let own_tracking = format!("/{onto}");
    for reference in repo.references()?.all()?.flatten() {
        let mut reference = reference;
        let name = reference.name().as_bstr().to_string();
        let other_branch_or_tag = name.starts_with("refs/heads/")
            || name.starts_with("refs/tags/")
            || (name.starts_with("refs/remotes/") && !name.ends_with(&own_tracking));
        if name == own
            || !other_branch_or_tag
            || matches!(reference.target(), gix::refs::TargetRef::Symbolic(_))
        {
            continue;
        }
        let Ok(id) = reference.peel_to_commit().map(|c| c.id) else {
            continue;
        };
        if contains(head, id)? {
            return Ok(Move::Moved);
        }
    }
    Err(Error::CannotContinue {
        reason: format!("'{onto}' has commits of its own that '{}' does not have", short(tip)),
        hint: "bring them together first ('git merge' or 'git rebase' the other branch), then run 'git session continue' again: it then only brings the session state over".into(),
    }
    .into())
}

fn cannot(reason: &str, hint: &str) -> anyhow::Error {
    Error::CannotContinue {
        reason: reason.to_string(),
        hint: hint.to_string(),
    }
    .into()
}
