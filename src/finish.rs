//! Finishing a session: fold all its commits into one for review, keeping
//! the old chain reachable and the session state readable.
//!
//! The squashed commit has the tree of the branch tip (the final
//! checkpoint's, or that of a commit made after it, which the final
//! checkpoint then does not repeat) and the session's `base` as its only
//! parent, so its diff is exactly the session's work. Its message ends with the `Session-*` trailers of that
//! checkpoint, so `show` and `resume` keep working on it, from a fresh clone
//! too; its note holds the same state plus the checkpoints it replaced.
//!
//! With `commit.gpgSign` set, the new commit is written by the user's git
//! (`git commit-tree -S`), so it is signed as `git commit` would sign it;
//! if signing fails, nothing of the squash is written. Commit hooks do not
//! run for it.
//!
//! Order of writes, as for a checkpoint: the new commit object, then (in one
//! ref transaction, under git-session's lock and `index.lock`) the archive
//! ref `refs/session/archive/BRANCH/N` at the old tip and the branch moved
//! with compare-and-swap, then the note. A kill at any moment leaves the old
//! tip or the new one, and the old chain is never unreachable. The work tree
//! and the index are not written: the index already matches the checkpoint's
//! tree, which is the new commit's tree.

use anyhow::Context as _;
use gix::refs::transaction::PreviousValue;
use gix::ObjectId;
use serde::Serialize;

use crate::commit::{self, NewCommit};
use crate::config::Config;
use crate::error::Error;
use crate::history::History;
use crate::state::{self, State};
use crate::time::{rfc3339, short};

/// Where old chains are kept: `refs/session/archive/BRANCH/N`.
pub const ARCHIVE_PREFIX: &str = "refs/session/archive/";

/// What the caller asks of a squash.
#[derive(Clone, Debug, Default)]
pub struct SquashRequest {
    /// The whole commit message (subject, blank line, body); rendered from
    /// the `squash` template when absent. The trailers are always added.
    pub message: Option<String>,
    /// Where the `squash` template may be overridden.
    pub templates: crate::render::Dirs,
}

/// What a squash did.
#[derive(Clone, Debug)]
pub struct Squashed {
    /// The new commit, now the branch tip.
    pub commit: ObjectId,
    /// The tip it replaced, now at [`Squashed::archive`].
    pub old_head: ObjectId,
    /// The session's base, the new commit's parent.
    pub base: ObjectId,
    /// Short branch name.
    pub branch: String,
    /// The archive ref holding the old chain.
    pub archive: String,
    /// Every commit replaced, newest first.
    pub commits: Vec<ObjectId>,
    /// The checkpoints among them, oldest first (what the note records).
    pub checkpoints: Vec<ObjectId>,
    /// The new commit's subject.
    pub subject: String,
    /// Remotes whose copy of the branch has replaced commits: publishing
    /// the squash there needs a force push.
    pub published: Vec<Published>,
    /// Whether the commit is signed (`commit.gpgSign`).
    pub signed: bool,
    /// The commit hooks `git commit` would have run (they did not).
    pub hooks_not_run: Vec<&'static str>,
    /// Problems that did not stop the squash.
    pub warnings: Vec<String>,
}

/// A remote-tracking branch that already has commits the squash replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub remote: String,
    pub branch: String,
}

/// What the `squash` template sees.
#[derive(Serialize)]
struct SquashContext<'a> {
    /// The first line of the task (or a stand-in naming the branch).
    title: String,
    /// The task without its first line.
    task_rest: String,
    task: &'a str,
    branch: &'a str,
    base: String,
    done: &'a [String],
    doing: &'a [String],
    todo: &'a [String],
    decisions: &'a [String],
    notes: &'a [String],
    blockers: &'a [String],
    /// Checkpoints replaced.
    checkpoints: usize,
    /// Commits replaced.
    commits: usize,
    archive: &'a str,
}

/// The note of a squashed commit: the state, plus what it replaced. A
/// wrapper rather than new `State` fields, so the state's schema stays what
/// every reader knows; `State::from_toml` ignores the extra keys.
#[derive(Serialize)]
struct SquashNote<'a> {
    #[serde(flatten)]
    state: &'a State,
    replaced: Vec<String>,
    archive: &'a str,
}

/// Fold every commit since the session's base into one commit on the
/// current branch (see the module comment). Refuses, changing nothing, when
/// there are fewer than two commits to fold or the base is not on the
/// branch's first-parent history.
pub fn squash(
    repo: &mut gix::Repository,
    config: &Config,
    request: &SquashRequest,
) -> anyhow::Result<Squashed> {
    let mut warnings: Vec<String> = crate::repo::prepare_to_commit(repo)?.into_iter().collect();
    let repo = &*repo;
    let branch = branch_to_squash(repo)?;
    // Held to the end, so no checkpoint (an agent's hook) lands in between.
    let mut locks = crate::lock::take(repo)?;

    let head =
        crate::repo::head_id_fresh(repo)?.ok_or_else(|| Error::NoCheckpoint("HEAD".into()))?;
    let mut history = History::new(repo, config)?;
    let newest = history
        .newest(head)?
        .ok_or_else(|| Error::NoCheckpoint("HEAD".into()))?;
    warnings.append(&mut history.warnings);

    let base = base_of(repo, &newest.state)?;
    let commits = commits_since(repo, head, base, &branch)?;
    if commits.len() < 2 {
        return Err(nothing_to_squash(commits.len(), base).into());
    }
    let mut checkpoints = Vec::new();
    for &id in commits.iter().rev() {
        if repo.find_commit(id)?.parent_ids().count() > 1 {
            warnings.push(format!(
                "{} is a merge: what it brought in from the other side is part of the squashed commit",
                short(id)
            ));
        }
        if history.checkpoint_at(id)?.is_some() {
            checkpoints.push(id);
        }
    }
    warnings.append(&mut history.warnings);

    let archive = next_archive_ref(repo, &branch)?;
    let mut state = newest.state.clone();
    state.reason = "finish".into();
    let text = match request.message.as_deref().map(str::trim) {
        Some("") => return Err(Error::Usage("the commit message must not be empty".into()).into()),
        Some(message) => message.to_string(),
        None => {
            let (title, task_rest) = split_task(&state.task, &branch);
            crate::render::render(
                "squash",
                &request.templates,
                &SquashContext {
                    title,
                    task_rest,
                    task: &state.task,
                    branch: &branch,
                    base: base.to_string(),
                    done: &state.done,
                    doing: &state.doing,
                    todo: &state.todo,
                    decisions: &state.decisions,
                    notes: &state.notes,
                    blockers: &state.blockers,
                    checkpoints: checkpoints.len(),
                    commits: commits.len(),
                    archive: &archive,
                },
                &mut warnings,
            )?
        }
    };
    let subject = text
        .trim()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if subject.is_empty() {
        return Err(
            Error::Usage("the squash template rendered an empty subject line".into()).into(),
        );
    }
    state.summary = subject.clone();

    // HEAD's tree, not the newest checkpoint's: a commit after the last
    // checkpoint (another clone's, the user's own) is folded in with its
    // files, not dropped.
    let tree = repo.find_commit(head)?.tree_id()?.detach();
    let mut commit = NewCommit::new(repo, tree, vec![base])?;
    state.created_at = rfc3339(commit.committer.time);
    commit.message = message_with_trailers(&text, &state);
    // The commit for review is signed as `git commit` would sign it, by the
    // user's git; checkpoints are not (see the README).
    commit.signed = crate::repo::signs_commits(repo);

    // In one transaction: create the archive ref at the old tip, and move
    // the branch (through HEAD, so both reflogs say what happened) from the
    // old tip to the new commit, failing if either moved.
    let commit_id = commit::commit_and_move(
        repo,
        &mut locks,
        &commit,
        "the squashed commit",
        |id| {
            Ok(vec![
                commit::update(
                    &archive,
                    PreviousValue::MustNotExist,
                    head,
                    format!("git-session finish: the chain of '{branch}' before the squash"),
                )?,
                commit::update(
                    "HEAD",
                    commit::expect_at(Some(head)),
                    id,
                    format!(
                        "git-session finish: squash {} commits into one",
                        commits.len()
                    ),
                )?,
            ])
        },
        |err| {
            commit::head_moved_or(
                repo,
                Some(head),
                err,
                format!("could not move '{branch}' to the squashed commit"),
            )
        },
    )?;

    let note = SquashNote {
        state: &state,
        replaced: checkpoints.iter().map(ToString::to_string).collect(),
        archive: &archive,
    };
    let noted = toml::to_string(&note)
        .context("could not serialise the squash note")
        .and_then(|text| {
            let _announced = locks.announce_refs(repo, &[&config.notes_ref])?;
            history.notes().write(
                commit_id,
                &text,
                &format!("git-session: note for squashed {}", short(commit_id)),
            )
        });
    // Released without writing: the index already matches the new tree.
    drop(locks);
    if let Err(err) = noted {
        warnings.push(format!(
            "the squashed commit {} stands, but its note could not be written ({err:#}); its trailers carry the state",
            short(commit_id)
        ));
    }

    let oldest = *commits.last().expect("two or more commits, checked above");
    let published = published(repo, &branch, oldest);
    Ok(Squashed {
        commit: commit_id,
        old_head: head,
        base,
        branch,
        archive,
        commits,
        checkpoints,
        subject,
        published,
        signed: commit.signed,
        hooks_not_run: crate::repo::commit_hooks(repo),
        warnings,
    })
}

/// Every refusal of [`squash`] that can be decided before `finish` writes
/// its last checkpoint, decided now, so a refused `finish --squash`
/// writes nothing at all. `pending` says whether that checkpoint may add
/// a commit, which can make one commit since the base two.
pub fn check(
    repo: &gix::Repository,
    config: &Config,
    request: &SquashRequest,
    pending: bool,
) -> anyhow::Result<()> {
    let branch = branch_to_squash(repo)?;
    if request
        .message
        .as_deref()
        .is_some_and(|m| m.trim().is_empty())
    {
        return Err(Error::Usage("the commit message must not be empty".into()).into());
    }
    let head = repo
        .head_id()
        .map_err(|_| Error::NoCheckpoint("HEAD".into()))?
        .detach();
    let mut history = History::new(repo, config)?;
    let newest = history
        .newest(head)?
        .ok_or_else(|| Error::NoCheckpoint("HEAD".into()))?;
    let base = base_of(repo, &newest.state)?;
    let commits = commits_since(repo, head, base, &branch)?.len();
    if commits + usize::from(pending) < 2 {
        return Err(nothing_to_squash(commits, base).into());
    }
    Ok(())
}

/// The branch HEAD names: a detached HEAD has nothing to squash.
fn branch_to_squash(repo: &gix::Repository) -> anyhow::Result<String> {
    match repo.head_name()? {
        Some(name) => Ok(name.shorten().to_string()),
        None => Err(Error::CannotSquash {
            reason: "HEAD is detached: there is no branch to squash".into(),
            hint: "switch to the session's branch ('git switch BRANCH'), then finish again".into(),
        }
        .into()),
    }
}

fn nothing_to_squash(commits: usize, base: ObjectId) -> Error {
    Error::NothingToSquash(format!(
        "{} since the session's base {}",
        match commits {
            0 => "no commit".to_string(),
            n => format!("only {n} commit"),
        },
        short(base)
    ))
}

/// The session's base, which must be a commit this repository has.
fn base_of(repo: &gix::Repository, state: &State) -> anyhow::Result<ObjectId> {
    let Some(hex) = state.base.as_deref().filter(|b| !b.is_empty()) else {
        return Err(Error::CannotSquash {
            reason: "the session records no base commit (it began on an unborn branch)".into(),
            hint: "fold the commits by hand, e.g. with 'git rebase -i --root'".into(),
        }
        .into());
    };
    let id = ObjectId::from_hex(hex.as_bytes()).map_err(|_| Error::CannotSquash {
        reason: format!("the session's base '{hex}' is not a commit id"),
        hint: "fold the commits by hand with 'git rebase -i'".into(),
    })?;
    if repo.find_commit(id).is_err() {
        return Err(Error::CannotSquash {
            reason: format!(
                "the session's base {} is not in this repository (a shallow clone?)",
                short(id)
            ),
            hint: "fetch the full history ('git fetch --unshallow'), then finish again".into(),
        }
        .into());
    }
    Ok(id)
}

/// Commits from `head` back along first parents to `base` (excluded),
/// newest first. The base must be on that path: otherwise the squash would
/// fold commits that are not the session's.
fn commits_since(
    repo: &gix::Repository,
    head: ObjectId,
    base: ObjectId,
    branch: &str,
) -> anyhow::Result<Vec<ObjectId>> {
    let shallow = crate::history::shallow_boundary(repo)?;
    let mut commits = Vec::new();
    let mut next = Some(head);
    while let Some(id) = next {
        if id == base {
            return Ok(commits);
        }
        if shallow.binary_search(&id).is_ok() {
            return Err(Error::CannotSquash {
                reason: format!(
                    "the session's base {} is beyond the shallow boundary of this clone",
                    short(base)
                ),
                hint: "fetch the missing history with 'git fetch --unshallow' (or '--deepen=N'), then finish again".into(),
            }
            .into());
        }
        commits.push(id);
        next = repo
            .find_commit(id)?
            .parent_ids()
            .next()
            .map(|p| p.detach());
    }
    Err(Error::CannotSquash {
        reason: format!(
            "the session's base {} is not on the first-parent history of '{branch}' (was it rebased?)",
            short(base)
        ),
        hint: "fold the commits by hand with 'git rebase -i', or start a new session on the rebased branch"
            .into(),
    }
    .into())
}

/// `refs/session/archive/BRANCH/N`, N one more than the largest there.
fn next_archive_ref(repo: &gix::Repository, branch: &str) -> anyhow::Result<String> {
    let prefix = format!("{ARCHIVE_PREFIX}{branch}/");
    let platform = repo.references()?;
    let mut largest = 0u64;
    for reference in platform.all()?.flatten() {
        let name = reference.name().as_bstr().to_string();
        if let Some(n) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.parse::<u64>().ok())
        {
            largest = largest.max(n);
        }
    }
    Ok(format!("{prefix}{}", largest + 1))
}

/// Remotes whose remote-tracking branch for `branch` contains `oldest` (the
/// first replaced commit; containing any replaced commit means containing
/// it, as they form one first-parent chain).
fn published(repo: &gix::Repository, branch: &str, oldest: ObjectId) -> Vec<Published> {
    let mut remotes: Vec<String> = repo.remote_names().iter().map(|n| n.to_string()).collect();
    // The branch's own remote first: that is the one the user pushes to.
    let configured = repo
        .config_snapshot()
        .string(format!("branch.{branch}.remote").as_str())
        .map(|r| r.to_string());
    if let Some(own) = configured {
        if let Some(pos) = remotes.iter().position(|r| *r == own) {
            let own = remotes.remove(pos);
            remotes.insert(0, own);
        }
    }
    remotes
        .into_iter()
        .filter(|remote| {
            let name = format!("refs/remotes/{remote}/{branch}");
            let tip = repo
                .try_find_reference(name.as_str())
                .ok()
                .flatten()
                .and_then(|mut r| r.peel_to_id().ok())
                .map(|id| id.detach());
            tip.is_some_and(|tip| {
                tip == oldest
                    || repo
                        .merge_base(oldest, tip)
                        .ok()
                        .flatten()
                        .is_some_and(|mb| mb.detach() == oldest)
            })
        })
        .map(|remote| Published {
            remote,
            branch: branch.to_string(),
        })
        .collect()
}

/// What a remote's copy of a branch is to the squashes of that branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteTip {
    /// Nothing to do with a squash: push as usual.
    Unrelated,
    /// The remote has (part of) a chain that a squash in HEAD's history
    /// replaced, and nothing else: the squash may replace it there, with
    /// the lease `expected`.
    Replaced { expected: ObjectId, archive: String },
    /// The remote has commits of a replaced chain and, on top, commits
    /// that are in no archive: someone else's, which must not be
    /// overwritten.
    MovedPast { archive: String },
}

/// What `tip` (the remote's copy of `branch`, as last fetched) is to the
/// squashes of `branch` whose result `head` contains (see [`RemoteTip`]).
///
/// A squash of an archive `A` is recognised from the shape `squash`
/// writes, not from notes (which may be missing): `head` and `A` meet at
/// a commit `M` (the session's base), and the commit after `M` on
/// `head`'s first-parent line has `A`'s tree. An amend that keeps the tree
/// (`git commit --amend --no-edit`, which the squash's hint suggests) is
/// still that squash.
pub fn remote_tip(
    repo: &gix::Repository,
    branch: &str,
    head: ObjectId,
    tip: ObjectId,
) -> anyhow::Result<RemoteTip> {
    let meet_of = |a: ObjectId, b: ObjectId| -> anyhow::Result<Option<ObjectId>> {
        Ok(repo.merge_base(a, b)?.map(gix::Id::detach))
    };
    let is_ancestor = |a: ObjectId, b: ObjectId| -> anyhow::Result<bool> {
        Ok(a == b || meet_of(a, b)? == Some(a))
    };
    // Most pushes: no squash ever happened here, and no history is walked.
    let archives = archives(repo, branch)?;
    if archives.is_empty() || is_ancestor(tip, head)? {
        return Ok(RemoteTip::Unrelated);
    }
    for (archive, archived) in archives {
        let Some(meet) = meet_of(head, archived)? else {
            continue;
        };
        if meet == archived || squash_of(repo, head, meet, archived)?.is_none() {
            continue;
        }
        if is_ancestor(tip, archived)? {
            // Not past the base (then HEAD would contain it).
            return Ok(RemoteTip::Replaced {
                expected: tip,
                archive,
            });
        }
        if let Some(shared) = meet_of(tip, archived)? {
            if shared != meet && is_ancestor(meet, shared)? {
                return Ok(RemoteTip::MovedPast { archive });
            }
        }
    }
    Ok(RemoteTip::Unrelated)
}

/// The commit after `meet` on `head`'s first-parent line, when it has the
/// tree of `archived`: the squash of that chain.
fn squash_of(
    repo: &gix::Repository,
    head: ObjectId,
    meet: ObjectId,
    archived: ObjectId,
) -> anyhow::Result<Option<ObjectId>> {
    let want = repo.find_commit(archived)?.tree_id()?.detach();
    let mut next = Some(head);
    while let Some(id) = next {
        let commit = repo.find_commit(id)?;
        let parent = commit.parent_ids().next().map(|p| p.detach());
        if parent == Some(meet) {
            return Ok((commit.tree_id()?.detach() == want).then_some(id));
        }
        next = parent;
    }
    Ok(None)
}

/// The newest squash of `branch` in `head`'s history (see [`remote_tip`]
/// for how one is recognised), if any.
pub fn squash_in_history(
    repo: &gix::Repository,
    branch: &str,
    head: ObjectId,
) -> anyhow::Result<Option<ObjectId>> {
    for (_, archived) in archives(repo, branch)? {
        let Some(meet) = repo.merge_base(head, archived)?.map(gix::Id::detach) else {
            continue;
        };
        if meet == archived {
            continue;
        }
        if let Some(squash) = squash_of(repo, head, meet, archived)? {
            return Ok(Some(squash));
        }
    }
    Ok(None)
}

/// The archive refs of `branch` and their tips, newest (largest N) first.
pub fn archives(repo: &gix::Repository, branch: &str) -> anyhow::Result<Vec<(String, ObjectId)>> {
    let prefix = format!("{ARCHIVE_PREFIX}{branch}/");
    let mut found = Vec::new();
    for mut reference in repo.references()?.prefixed(prefix.as_str())?.flatten() {
        let name = reference.name().as_bstr().to_string();
        let Some(n) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.parse::<u64>().ok())
        else {
            continue;
        };
        if let Ok(id) = reference.peel_to_id() {
            found.push((n, name, id.detach()));
        }
    }
    found.sort_by_key(|(n, _, _)| std::cmp::Reverse(*n));
    Ok(found.into_iter().map(|(_, name, id)| (name, id)).collect())
}

/// The task's first line as a title, and the rest.
fn split_task(task: &str, branch: &str) -> (String, String) {
    let task = task.trim();
    match task.split_once('\n') {
        _ if task.is_empty() => (format!("Work on {branch}"), String::new()),
        Some((first, rest)) => (first.trim().to_string(), rest.trim().to_string()),
        None => (task.to_string(), String::new()),
    }
}

/// The message text, then the trailer paragraph (written by code, so that a
/// template or `-m` can never break the machine-readable part).
fn message_with_trailers(text: &str, state: &State) -> String {
    let mut message = String::new();
    for line in text.trim().lines() {
        // git's trailer parser takes a line starting with `---` for the
        // start of a patch and ignores everything below, our trailers too.
        if line.starts_with("---") {
            message.push(' ');
        }
        message.push_str(line.trim_end());
        message.push('\n');
    }
    message.push('\n');
    message.push_str(&state::format_trailers(&state.to_trailers()));
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_is_the_first_line_of_the_task() {
        assert_eq!(
            split_task("Add a dark mode\n\nWith a toggle.", "b"),
            ("Add a dark mode".into(), "With a toggle.".into())
        );
        assert_eq!(
            split_task("  ", "feat/x"),
            ("Work on feat/x".into(), String::new())
        );
    }

    #[test]
    fn the_note_is_the_state_plus_what_was_replaced() {
        let state = State {
            schema: 1,
            task: "t".into(),
            done: vec!["a".into()],
            skipped: vec![crate::state::Skipped {
                path: ".env".into(),
                reason: "secret".into(),
            }],
            ..State::default()
        };
        let text = toml::to_string(&SquashNote {
            state: &state,
            replaced: vec!["abc".into(), "def".into()],
            archive: "refs/session/archive/b/1",
        })
        .expect("serialises");
        let back = State::from_toml(&text).expect("a state reads it");
        assert_eq!(back, state);
        let table: toml::Table = toml::from_str(&text).expect("TOML");
        assert_eq!(
            table["replaced"].as_array().map(Vec::len),
            Some(2),
            "{text}"
        );
    }

    #[test]
    fn trailers_follow_the_message_and_survive_dashes() {
        let state = State {
            schema: 1,
            task: "t".into(),
            ..State::default()
        };
        let message = message_with_trailers("Subject\n\n--- not a patch\n", &state);
        assert!(message.starts_with("Subject\n\n ---"), "{message}");
        let parsed = State::from_trailers(&message).expect("trailers");
        assert_eq!(parsed.task, "t");
    }
}
