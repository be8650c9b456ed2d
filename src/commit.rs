//! Writing a commit and moving refs to it under the locks a checkpoint
//! holds: the steps a checkpoint, a rescue snapshot and `finish --squash`
//! share.
//!
//! Each takes the locks and reads HEAD and its tree (or the empty tree on
//! an unborn branch) under them ([`lock_head`]), writes one commit object, then moves its refs in one transaction whose
//! ref lock files are announced first (see [`crate::lock`]), so a kill in
//! the middle leaves nothing the next run cannot clear.

use anyhow::Context as _;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::Target;
use gix::ObjectId;

use crate::error::Error;
use crate::lock::Locks;
use crate::time::short;

/// What a new commit is built on, read while the locks are held.
pub struct LockedHead {
    pub locks: Locks,
    /// HEAD's commit; `None` on an unborn branch.
    pub head: Option<ObjectId>,
    /// Its tree, or the empty tree.
    pub tree: ObjectId,
}

/// Take the locks (see [`crate::lock`]), then read HEAD and its tree
/// under them, so nothing moves them before the new commit is in place.
pub fn lock_head(repo: &gix::Repository) -> anyhow::Result<LockedHead> {
    let locks = crate::lock::take(repo)?;
    let head = crate::repo::head_id_fresh(repo)?;
    let tree = head_tree_or_empty(repo, head)?;
    Ok(LockedHead { locks, head, tree })
}

/// The tree of the commit `head`, or the empty tree when there is none (an
/// unborn branch).
pub fn head_tree_or_empty(
    repo: &gix::Repository,
    head: Option<ObjectId>,
) -> anyhow::Result<ObjectId> {
    Ok(match head {
        Some(id) => repo
            .find_commit(id)
            .with_context(|| format!("could not read HEAD's commit {id}"))?
            .tree_id()?
            .detach(),
        None => ObjectId::empty_tree(repo.object_hash()),
    })
}

/// A commit to write: everything but its id.
pub struct NewCommit {
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub message: String,
    pub author: gix::actor::Signature,
    pub committer: gix::actor::Signature,
    /// Written by the user's git (`git commit-tree -S`), so it is signed as
    /// `git commit` would sign it; else by gix, unsigned.
    pub signed: bool,
}

impl NewCommit {
    /// A commit of `tree` on `parents` by the configured author and
    /// committer (whose times honour `GIT_AUTHOR_DATE` and
    /// `GIT_COMMITTER_DATE`), unsigned, its message still to be set.
    pub fn new(
        repo: &gix::Repository,
        tree: ObjectId,
        parents: Vec<ObjectId>,
    ) -> anyhow::Result<NewCommit> {
        let (author, committer) = crate::repo::signatures(repo)?;
        Ok(NewCommit {
            tree,
            parents,
            message: String::new(),
            author,
            committer,
            signed: false,
        })
    }

    /// Write the commit object; `what` names it in an error (`the
    /// checkpoint commit`).
    fn write(&self, repo: &gix::Repository, what: &str) -> anyhow::Result<ObjectId> {
        if self.signed {
            return Ok(crate::remote::Git::new(repo).commit_tree_signed(self)?);
        }
        let commit = gix::objs::Commit {
            tree: self.tree,
            parents: self.parents.iter().copied().collect(),
            author: self.author.clone(),
            committer: self.committer.clone(),
            encoding: None,
            message: self.message.as_str().into(),
            extra_headers: Vec::new(),
        };
        crate::repo::retry_beside_gc(|| Ok(repo.write_object(&commit)?.detach()))
            .with_context(|| format!("could not write {what}"))
    }
}

/// Write `commit`, then move refs to it in one transaction: `edits` gives
/// them for the new commit's id, and [`move_refs`] applies them, `failed`
/// turning the transaction's error into the caller's. Returns the id.
pub fn commit_and_move(
    repo: &gix::Repository,
    locks: &mut Locks,
    commit: &NewCommit,
    what: &str,
    edits: impl FnOnce(ObjectId) -> anyhow::Result<Vec<RefEdit>>,
    failed: impl FnOnce(gix::Error) -> anyhow::Error,
) -> anyhow::Result<ObjectId> {
    let id = commit.write(repo, what)?;
    move_refs(repo, locks, edits(id)?, failed)?;
    Ok(id)
}

/// A ref update with a reflog entry saying `message`, from `expected` to
/// `new`. `HEAD` moves the branch it points to (or itself when detached)
/// and logs in both; any other ref is moved itself, its reflog created.
pub fn update(
    name: &str,
    expected: PreviousValue,
    new: ObjectId,
    message: String,
) -> anyhow::Result<RefEdit> {
    let head = name == "HEAD";
    Ok(RefEdit {
        change: Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: !head,
                message: message.into(),
            },
            expected,
            new: Target::Object(new),
        },
        name: name
            .try_into()
            .with_context(|| format!("'{name}' is not a valid ref name"))?,
        deref: head,
    })
}

/// What a ref that must be at `old` (or not exist, for `None`) expects.
pub fn expect_at(old: Option<ObjectId>) -> PreviousValue {
    match old {
        Some(old) => PreviousValue::MustExistAndMatch(Target::Object(old)),
        None => PreviousValue::MustNotExist,
    }
}

/// Apply `edits` in one transaction, their lock files announced while it
/// runs; `failed` turns the transaction's error into the caller's.
pub fn move_refs(
    repo: &gix::Repository,
    locks: &mut Locks,
    edits: Vec<RefEdit>,
    failed: impl FnOnce(gix::Error) -> anyhow::Error,
) -> anyhow::Result<()> {
    let names: Vec<String> = edits.iter().map(|e| e.name.as_bstr().to_string()).collect();
    let _announced = locks.announce_refs(repo, &names)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match repo.edit_references(edits.clone()) {
            Ok(_) => return Ok(()),
            // gix checks the old values against a packed-refs snapshot it
            // took before looking for the loose files, so a `git gc`
            // packing refs meanwhile makes it see an older value: when
            // every ref is, read as git reads it, where we expect it, the
            // conflict was not real.
            Err(_) if attempt < 4 && all_where_expected(repo, &edits) => {
                std::thread::sleep(std::time::Duration::from_millis(5 * attempt));
            }
            Err(err) => return Err(failed(err)),
        }
    }
}

/// Whether each ref `edits` update is at the value it expects (read
/// loose file first, as git reads it).
fn all_where_expected(repo: &gix::Repository, edits: &[RefEdit]) -> bool {
    edits.iter().all(|edit| {
        let Change::Update { expected, .. } = &edit.change else {
            return false;
        };
        let name = edit.name.as_bstr().to_string();
        let now = crate::repo::ref_id_fresh(repo, &name).ok().flatten();
        match expected {
            PreviousValue::MustExistAndMatch(Target::Object(old)) => now == Some(*old),
            PreviousValue::MustNotExist => now.is_none(),
            _ => false,
        }
    })
}

/// The error for a failed move of HEAD from `old`: [`Error::RefMoved`]
/// when HEAD is no longer there (someone committed meanwhile), else `err`
/// with `context`.
pub fn head_moved_or(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    err: gix::Error,
    context: String,
) -> anyhow::Error {
    let now = crate::repo::head_id_fresh(repo).ok().flatten();
    match old {
        Some(old) if now != Some(old) => {
            Error::RefMoved(now.map_or_else(|| "an unborn branch".to_string(), short)).into()
        }
        _ => match branch_lock(repo) {
            // Another git holds the branch, or a killed one left its lock.
            Some(lock) => Error::RefLocked(lock).into(),
            None => anyhow::Error::from(err).context(context),
        },
    }
}

/// The lock file of the branch HEAD names, when there is one on disk.
fn branch_lock(repo: &gix::Repository) -> Option<std::path::PathBuf> {
    let name = repo.head_name().ok()??;
    let path = gix::path::from_bstr(name.as_bstr()).ok()?;
    let lock = repo.common_dir().join(format!("{}.lock", path.display()));
    lock.exists().then_some(lock)
}
