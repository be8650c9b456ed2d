//! Sessions across branches: where each one stands (its [`Lifecycle`]),
//! and the list of every branch, local or remote-tracking, whose history
//! holds a checkpoint.
//!
//! A branch's session is its newest checkpoint on first-parent history,
//! found as every command finds it (bounded by `session.searchDepth`), so
//! a fresh clone sees the sessions of all the remote's branches from commit
//! trailers alone, without notes. Branches share history (every session
//! branch forks from the same trunk), so the walks share their results:
//! each commit is read at most once however many branches reach it, and
//! listing hundreds of branches costs about one walk of the trunk.

use std::collections::HashMap;

use gix::ObjectId;
use serde::Serialize;

use crate::config::Config;
use crate::history::{Checkpoint, History};

/// Where a session stands, from its newest checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    /// Checkpointed by a hook or by hand within [`ACTIVE_WINDOW`].
    Active,
    /// Checkpointed by a hook or by hand, but not for longer than that: a
    /// session that ended without a pause (cancelled, killed, timed out).
    Idle,
    /// The newest checkpoint was taken to stop: `pause`, `hook
    /// pre-cancel`, or an agent's session end.
    Paused,
    /// Finished with `git session finish`.
    Finished,
}

/// How recent the newest checkpoint of an [`Lifecycle::Active`] session is:
/// agents checkpoint after every turn, so two hours without one means the
/// session is gone.
pub const ACTIVE_WINDOW: i64 = 2 * 60 * 60;

impl Lifecycle {
    /// The checkpoint reasons that pause a session.
    pub const PAUSE_REASONS: [&'static str; 3] = ["pause", "pre-cancel", "session-end"];

    /// Whether a checkpoint taken for `reason` pauses the session.
    pub fn pauses(reason: &str) -> bool {
        Self::PAUSE_REASONS.contains(&reason)
    }

    /// The lifecycle of a session whose newest checkpoint was taken for
    /// `reason` at `time` (seconds since the epoch), seen at `now`.
    pub fn of(reason: &str, time: i64, now: i64) -> Lifecycle {
        if reason == "finish" {
            Lifecycle::Finished
        } else if Self::pauses(reason) {
            Lifecycle::Paused
        } else if now.saturating_sub(time) < ACTIVE_WINDOW {
            Lifecycle::Active
        } else {
            Lifecycle::Idle
        }
    }

    /// The word `list` prints.
    pub fn name(self) -> &'static str {
        match self {
            Lifecycle::Active => "active",
            Lifecycle::Idle => "idle",
            Lifecycle::Paused => "paused",
            Lifecycle::Finished => "finished",
        }
    }
}

/// When a checkpoint's state was recorded, in seconds since the epoch: its
/// `created_at` (which a report added later moves forward), else the
/// commit's time.
pub fn recorded_at(cp: &Checkpoint) -> i64 {
    gix::date::parse(&cp.state.created_at, None)
        .map(|t| t.seconds)
        .unwrap_or(cp.time.seconds)
        .max(cp.time.seconds)
}

/// One branch's session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The branch name, without a remote: `claude/x`.
    pub branch: String,
    /// Whether a local branch of that name has this checkpoint.
    pub local: bool,
    /// Remotes whose remote-tracking branch of that name has it.
    pub remotes: Vec<String>,
    /// Whether it is the checked-out branch.
    pub current: bool,
    /// The newest checkpoint.
    pub checkpoint: Checkpoint,
    pub lifecycle: Lifecycle,
}

impl Session {
    /// The name to give `continue`, `resume` or `git switch`: the branch,
    /// or `remote/branch` when there is no local branch.
    pub fn rev(&self) -> String {
        match (self.local, self.remotes.first()) {
            (false, Some(remote)) => format!("{remote}/{}", self.branch),
            _ => self.branch.clone(),
        }
    }
}

/// A branch a person's text names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// Without a remote: `claude/x`.
    pub branch: String,
    /// The remote to fetch it from, when it is (or may be) on one.
    pub remote: Option<String>,
    /// Whether a local branch of that name exists (it is then the one
    /// meant, unless the text names the remote).
    pub local: bool,
}

impl Named {
    /// The revision to read: the local branch, or `remote/branch`.
    pub fn rev(&self) -> String {
        match (&self.remote, self.local) {
            (Some(remote), false) => format!("{remote}/{}", self.branch),
            _ => self.branch.clone(),
        }
    }
}

/// The first branch `text` names, word for word (`claude/x`, or
/// `origin/claude/x`), among the local and remote-tracking branches other
/// than the checked-out one. Only refs are read: nothing is fetched, and
/// text naming no branch costs a read of the ref names.
pub fn named_in(repo: &gix::Repository, text: &str) -> anyhow::Result<Option<Named>> {
    let current = repo.head_name()?.map(|name| name.shorten().to_string());
    let tips = tips(repo)?;
    let known =
        |word: &str| -> Option<Named> {
            let local = tips.iter().any(|t| t.remote.is_none() && t.branch == word);
            let on_remote = tips
                .iter()
                .find(|t| t.remote.is_some() && t.branch == word)
                .and_then(|t| t.remote.clone());
            if let Some(named) = tips.iter().filter(|t| t.remote.is_some()).find(|t| {
                format!("{}/{}", t.remote.as_deref().unwrap_or_default(), t.branch) == word
            }) {
                return Some(Named {
                    branch: named.branch.clone(),
                    remote: named.remote.clone(),
                    local: false,
                });
            }
            (local || on_remote.is_some()).then(|| Named {
                branch: word.to_string(),
                remote: on_remote,
                local,
            })
        };
    for word in words(text) {
        if let Some(named) = known(word) {
            if current.as_deref() != Some(named.branch.as_str()) {
                return Ok(Some(named));
            }
        }
    }
    Ok(None)
}

/// The words of `text` that could be branch names: runs of the characters
/// git allows in them (and people do not use around them), with
/// punctuation that ends a sentence trimmed.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| {
        !(c.is_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '+' | '@' | '#'))
    })
    .map(|w| w.trim_end_matches(['.', ',', ';', ':', '!', '?']))
    .filter(|w| !w.is_empty())
}

/// One ref that may hold a session.
struct Tip {
    branch: String,
    remote: Option<String>,
    id: ObjectId,
}

/// Every session in the repository, newest first: local branches and
/// remote-tracking branches (merged into one entry when both have the same
/// newest checkpoint). Finished sessions are left out unless `all`.
/// Returns the warnings of the walks too (a note that is not TOML, …).
pub fn list(
    repo: &gix::Repository,
    config: &Config,
    all: bool,
    now: i64,
) -> anyhow::Result<(Vec<Session>, Vec<String>)> {
    let current = repo.head_name()?.map(|name| name.shorten().to_string());
    let tips = tips(repo)?;
    let mut history = History::new(repo, config)?;
    let mut finder = Finder::default();
    let mut sessions: Vec<Session> = Vec::new();
    for tip in tips {
        let Some(cp) = finder.newest(&mut history, tip.id, config.search_depth)? else {
            continue;
        };
        let lifecycle = Lifecycle::of(&cp.state.reason, recorded_at(&cp), now);
        if lifecycle == Lifecycle::Finished && !all {
            continue;
        }
        if let Some(same) = sessions
            .iter_mut()
            .find(|s| s.branch == tip.branch && s.checkpoint.id == cp.id)
        {
            match tip.remote {
                Some(remote) => same.remotes.push(remote),
                None => same.local = true,
            }
            continue;
        }
        sessions.push(Session {
            current: tip.remote.is_none() && current.as_deref() == Some(tip.branch.as_str()),
            local: tip.remote.is_none(),
            remotes: tip.remote.into_iter().collect(),
            branch: tip.branch,
            checkpoint: cp,
            lifecycle,
        });
    }
    sessions.sort_by(|a, b| {
        recorded_at(&b.checkpoint)
            .cmp(&recorded_at(&a.checkpoint))
            .then_with(|| a.branch.cmp(&b.branch))
    });
    Ok((sessions, std::mem::take(&mut history.warnings)))
}

/// The remotes whose remote-tracking branch `branch` exists (as the last
/// fetch or push left them), in the order git lists the remotes.
pub fn remotes_with(repo: &gix::Repository, branch: &str) -> Vec<String> {
    repo.remote_names()
        .iter()
        .map(|name| name.to_string())
        .filter(|remote| {
            repo.try_find_reference(format!("refs/remotes/{remote}/{branch}").as_str())
                .ok()
                .flatten()
                .is_some()
        })
        .collect()
}

/// Local branches first, then remote-tracking ones (symbolic refs such as
/// `origin/HEAD` are not branches of their own).
fn tips(repo: &gix::Repository) -> anyhow::Result<Vec<Tip>> {
    branches(repo, true)
}

/// [`tips`], peeled to their commits only when `peel` (a name lookup needs
/// no object read; `id` is then null).
fn branches(repo: &gix::Repository, peel: bool) -> anyhow::Result<Vec<Tip>> {
    let remotes: Vec<String> = {
        let mut names: Vec<String> = repo.remote_names().iter().map(|n| n.to_string()).collect();
        // The longest remote name that prefixes a ref wins: names may
        // contain slashes.
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        names
    };
    let platform = repo.references()?;
    let mut tips = Vec::new();
    let named = |reference: gix::Reference<'_>| {
        if peel {
            peeled(reference)
        } else {
            direct_name(&reference).map(|name| (name, ObjectId::null(repo.object_hash())))
        }
    };
    for reference in platform.local_branches()?.flatten() {
        if let Some((branch, id)) = named(reference) {
            tips.push(Tip {
                branch,
                remote: None,
                id,
            });
        }
    }
    for reference in platform.remote_branches()?.flatten() {
        let Some((name, id)) = named(reference) else {
            continue;
        };
        let Some(remote) = remotes.iter().find(|r| name.starts_with(&format!("{r}/"))) else {
            continue;
        };
        tips.push(Tip {
            branch: name[remote.len() + 1..].to_string(),
            remote: Some(remote.clone()),
            id,
        });
    }
    Ok(tips)
}

/// A direct ref's short name and the commit it points at.
fn peeled(mut reference: gix::Reference<'_>) -> Option<(String, ObjectId)> {
    let name = direct_name(&reference)?;
    let id = reference.peel_to_commit().ok()?.id;
    Some((name, id))
}

/// A direct ref's short name; `None` for a symbolic one.
fn direct_name(reference: &gix::Reference<'_>) -> Option<String> {
    if matches!(reference.target(), gix::refs::TargetRef::Symbolic(_)) {
        return None;
    }
    Some(reference.name().shorten().to_string())
}

/// The newest checkpoint at or before a commit, with the answers of every
/// walk remembered so walks from other tips stop where an earlier one
/// passed, and give exactly the answer a walk of their own would (the same
/// `session.searchDepth` rule, counted from their own tip).
#[derive(Default)]
struct Finder {
    /// Commit → what lies behind it on first parents: `dist` commits that
    /// are not checkpoints (itself included), then `end`.
    known: HashMap<ObjectId, (usize, End)>,
    checkpoints: HashMap<ObjectId, Checkpoint>,
}

/// Where a remembered stretch of history ends.
#[derive(Clone, Copy, Debug)]
enum End {
    /// At this checkpoint.
    Checkpoint(ObjectId),
    /// At the root (or a shallow boundary): no checkpoint.
    Root,
    /// Not walked past: the walk that read it stopped at its depth, and
    /// this commit is the first one it did not read.
    Unread(ObjectId),
}

/// One stretch of a walk: a commit read by it, or a remembered stretch.
enum Step {
    Read(ObjectId),
    Known(usize),
}

impl Finder {
    fn newest(
        &mut self,
        history: &mut History<'_>,
        tip: ObjectId,
        depth: usize,
    ) -> anyhow::Result<Option<Checkpoint>> {
        let mut steps = Vec::new();
        let mut without = 0;
        let mut next = Some(tip);
        let end = loop {
            let Some(from) = next else {
                break End::Root;
            };
            let mut stop = None;
            let known = &self.known;
            let mut found = None;
            history.walk_commits(from, None, |commit, cp| {
                if let Some(&(dist, end)) = known.get(&commit.id) {
                    steps.push(Step::Known(dist));
                    without += dist;
                    stop = Some(end);
                    return false;
                }
                if let Some(cp) = cp {
                    stop = Some(End::Checkpoint(cp.id));
                    found = Some(cp);
                    return false;
                }
                steps.push(Step::Read(commit.id));
                without += 1;
                if without >= depth {
                    stop = Some(match commit.parent_ids().next() {
                        Some(parent) => End::Unread(parent.detach()),
                        None => End::Root,
                    });
                    return false;
                }
                true
            })?;
            if let Some(cp) = found {
                self.checkpoints.insert(cp.id, cp);
            }
            match stop {
                // A stretch an earlier walk left unread, within the depth:
                // read on from where it stopped.
                Some(End::Unread(unread)) if without < depth => next = Some(unread),
                Some(end) => break end,
                // The walk ran out of history.
                None => break End::Root,
            }
        };
        // Remember, from the end backwards, what lies behind each commit
        // this walk read.
        let mut dist = 0;
        for step in steps.iter().rev() {
            match step {
                Step::Known(len) => dist += len,
                Step::Read(id) => {
                    dist += 1;
                    self.known.insert(*id, (dist, end));
                }
            }
        }
        Ok(match end {
            End::Checkpoint(id) if without < depth => self.checkpoints.get(&id).cloned(),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_follows_the_newest_checkpoint() {
        let now = 1_000_000;
        assert_eq!(Lifecycle::of("finish", now, now), Lifecycle::Finished);
        for reason in ["pause", "pre-cancel", "session-end"] {
            assert_eq!(Lifecycle::of(reason, 0, now), Lifecycle::Paused);
        }
        for reason in ["stop", "manual", "compact", "start", "continue"] {
            assert_eq!(Lifecycle::of(reason, now - 60, now), Lifecycle::Active);
            assert_eq!(
                Lifecycle::of(reason, now - ACTIVE_WINDOW, now),
                Lifecycle::Idle
            );
        }
    }
}
