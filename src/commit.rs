//! Writing a commit and moving refs to it under the locks a checkpoint
//! holds: the steps a checkpoint, a rescue snapshot and `finish --squash`
//! share.
//!
//! Each starts from HEAD's tree (or the empty tree on an unborn branch),
//! writes one commit object, then moves its refs in one transaction whose
//! ref lock files are announced first (see [`crate::lock`]), so a kill in
//! the middle leaves nothing the next run cannot clear.

use anyhow::Context as _;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::Target;
use gix::ObjectId;

use crate::error::Error;
use crate::lock::Locks;
use crate::time::short;

/// The tree of the commit `head`, or the empty tree when there is none (an
/// unborn branch).
pub fn head_tree_or_empty(
    repo: &gix::Repository,
    head: Option<ObjectId>,
) -> anyhow::Result<ObjectId> {
    Ok(match head {
        Some(id) => repo.find_commit(id)?.tree_id()?.detach(),
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
}

impl NewCommit {
    /// Write the commit object (unsigned); returns its id.
    pub fn write(self, repo: &gix::Repository) -> Result<ObjectId, gix::Error> {
        let commit = gix::objs::Commit {
            tree: self.tree,
            parents: self.parents.into(),
            author: self.author,
            committer: self.committer,
            encoding: None,
            message: self.message.into(),
            extra_headers: Vec::new(),
        };
        Ok(repo.write_object(&commit)?.detach())
    }
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
    repo.edit_references(edits).map_err(failed)?;
    Ok(())
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
    let now = repo.head_id().ok().map(|id| id.detach());
    match old {
        Some(old) if now != Some(old) => {
            Error::RefMoved(now.map_or_else(|| "an unborn branch".to_string(), short)).into()
        }
        _ => anyhow::Error::from(err).context(context),
    }
}
