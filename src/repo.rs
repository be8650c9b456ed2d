//! Opening the repository, refusing what git-session must not touch, and the
//! two locks a checkpoint holds.
//!
//! Lock order: git-session's own lock (serialises checkpoints, held in the
//! common git dir so linked worktrees share it), then `index.lock`, held from
//! before the index is read until the new index is committed, so no other
//! git process can change the index underneath us.
//!
//! A process killed while holding them leaves both files behind. Our lock
//! file records the holder's PID and the identity (device, inode) of the
//! `index.lock` it created, so the next run can tell a dead git-session's
//! locks, which it removes, from a live process's or git's own, which it
//! never touches.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gix::lock::acquire::Fail;

use crate::error::Error;

/// Fallback identity when none is configured, like git's own would fail.
pub const FALLBACK_NAME: &str = "git-session";
pub const FALLBACK_EMAIL: &str = "git-session@localhost";

/// How long to wait for a lock another process holds.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// Open the repository containing `dir`, honouring `GIT_DIR` and
/// `GIT_WORK_TREE` as git does.
pub fn open(dir: &Path) -> anyhow::Result<gix::Repository> {
    let repo = gix::ThreadSafeRepository::discover_with_environment_overrides(dir)
        .map_err(|_| Error::NotARepository(dir.to_path_buf()))?;
    Ok(repo.to_thread_local())
}

/// Open and require a work tree.
pub fn open_worktree(dir: &Path) -> anyhow::Result<gix::Repository> {
    let repo = open(dir)?;
    if repo.workdir().is_none() {
        return Err(Error::Bare(repo.git_dir().to_path_buf()).into());
    }
    Ok(repo)
}

/// Refuse while git is in the middle of an operation: a checkpoint then
/// would record a half-done merge or rebase as if it were the user's work.
pub fn refuse_in_progress(repo: &gix::Repository) -> Result<(), Error> {
    use gix::state::InProgress;
    let Some(state) = repo.state() else {
        return Ok(());
    };
    let what = match state {
        InProgress::ApplyMailbox => "git am",
        InProgress::ApplyMailboxRebase => "rebase",
        InProgress::Bisect => "bisect",
        InProgress::CherryPick | InProgress::CherryPickSequence => "cherry-pick",
        InProgress::Merge => "merge",
        InProgress::Rebase | InProgress::RebaseInteractive => "rebase",
        InProgress::Revert | InProgress::RevertSequence => "revert",
    };
    Err(Error::InProgress(what))
}

/// Make commits possible without a configured identity, as a documented
/// fallback. Returns true when the fallback is in use, so the caller can say
/// so once.
pub fn ensure_identity(repo: &mut gix::Repository) -> anyhow::Result<bool> {
    let missing = repo.committer().is_none() || repo.author().is_none();
    if missing {
        let mut config = repo.config_snapshot_mut();
        config.append_config(
            [
                format!("gitoxide.committer.nameFallback={FALLBACK_NAME}"),
                format!("gitoxide.committer.emailFallback={FALLBACK_EMAIL}"),
                format!("gitoxide.author.nameFallback={FALLBACK_NAME}"),
                format!("gitoxide.author.emailFallback={FALLBACK_EMAIL}"),
            ],
            gix::config::Source::Api,
        )?;
        config.commit()?;
    }
    Ok(missing)
}

/// Where git-session keeps its own files: `<common git dir>/session/`.
pub fn session_dir(repo: &gix::Repository) -> PathBuf {
    repo.common_dir().join("session")
}

/// The locks a checkpoint holds; dropping them releases both, the index
/// lock first (fields drop in declaration order).
pub struct Locks {
    /// `index.lock`; the new index is written into it and committed.
    pub index: gix::lock::File,
    _session: gix::lock::File,
}

/// Take git-session's lock, then `index.lock`, each retried for about
/// [`LOCK_TIMEOUT`]. Locks left by a dead git-session are removed first.
pub fn lock(repo: &gix::Repository) -> anyhow::Result<Locks> {
    use std::io::Write as _;
    let dir = session_dir(repo);
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("could not create '{}': {e}", dir.display()))?;
    let session_resource = dir.join("checkpoint");
    let session_lock = lock_path(&session_resource);
    let index_path = repo.index_path();
    let index_lock = lock_path(&index_path);

    let acquire =
        |fail| gix::lock::File::acquire_to_update_resource(&session_resource, fail, None, 0);
    let mut session = match acquire(Fail::Immediately) {
        Ok(lock) => lock,
        Err(_) => {
            clear_if_dead(&session_lock, &index_lock);
            acquire(Fail::AfterDurationWithBackoff(LOCK_TIMEOUT))
                .map_err(|_| Error::SessionLocked(session_lock.clone()))?
        }
    };
    writeln!(session, "pid {}", std::process::id())
        .and_then(|()| session.flush())
        .map_err(|e| anyhow::anyhow!("could not write '{}': {e}", session_lock.display()))?;

    let index = gix::lock::File::acquire_to_update_resource(
        &index_path,
        Fail::AfterDurationWithBackoff(LOCK_TIMEOUT),
        None,
        0,
    )
    .map_err(|_| Error::IndexLocked(index_lock.clone()))?;
    if let Some(identity) = file_identity(&index_lock) {
        // Best effort: without it, a crash leaves an index.lock we will not
        // dare to remove, which is safe, only inconvenient.
        let _ = writeln!(session, "index-lock {identity}").and_then(|()| session.flush());
    }
    Ok(Locks {
        index,
        _session: session,
    })
}

/// If the git-session that holds `session_lock` is dead, remove its lock
/// and the `index.lock` it created (recognised by device and inode). A live
/// holder, an unreadable lock, or an `index.lock` of anyone else is left
/// alone.
fn clear_if_dead(session_lock: &Path, index_lock: &Path) {
    let Ok(text) = std::fs::read_to_string(session_lock) else {
        return;
    };
    let mut pid = None;
    let mut index_identity = None;
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("pid", value)) => pid = value.trim().parse::<u32>().ok(),
            Some(("index-lock", value)) => index_identity = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let dead = match pid {
        Some(pid) => !process_alive(pid),
        // Killed between creating the file and writing its PID: a live
        // holder writes it within microseconds, so an old empty file is stale.
        None => text.trim().is_empty() && age(session_lock) > Duration::from_secs(2),
    };
    if !dead {
        return;
    }
    if index_identity.is_some() && file_identity(index_lock) == index_identity {
        let _ = std::fs::remove_file(index_lock);
    }
    let _ = std::fs::remove_file(session_lock);
}

fn age(path: &Path) -> Duration {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .unwrap_or_default()
}

/// `device:inode` of a file, to recognise the very file we created.
#[cfg(unix)]
fn file_identity(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::symlink_metadata(path).ok()?;
    Some(format!("{}:{}", meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_identity(_path: &Path) -> Option<String> {
    None
}

/// Whether process `pid` is alive. Where that cannot be known, it is
/// assumed alive: a lock is never broken on a guess.
#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name; Z is a zombie
        // (dead, not yet reaped), X dead.
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next()),
            Some('Z') | Some('X')
        ),
        Err(err) => err.kind() != std::io::ErrorKind::NotFound,
    }
}

#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32) -> bool {
    true
}

fn lock_path(resource: &Path) -> PathBuf {
    let mut name = resource.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The branch HEAD points to, as a short name (`feat/x`), or `None` when
/// detached.
pub fn current_branch(repo: &gix::Repository) -> anyhow::Result<Option<gix::refs::FullName>> {
    Ok(repo.head_name()?)
}

/// Resolve a revision spec to a commit id, with a clear error.
pub fn resolve_commit(repo: &gix::Repository, rev: &str) -> Result<gix::ObjectId, Error> {
    let id = repo
        .rev_parse_single(rev)
        .map_err(|_| Error::UnknownRev(rev.to_string()))?;
    let commit = id
        .object()
        .ok()
        .and_then(|o| o.peel_to_commit().ok())
        .ok_or_else(|| Error::UnknownRev(rev.to_string()))?;
    Ok(commit.id)
}
