//! The two locks a checkpoint holds, and clearing the ones a dead
//! git-session left behind.
//!
//! Lock order: git-session's own lock (serialises checkpoints, held in the
//! common git dir so linked worktrees share it), then `index.lock`, held from
//! before the index is read until the new index is committed, so no other
//! git process can change the index underneath us.
//!
//! A process killed while holding them leaves both files behind, and the
//! ref locks of a ref update it was in the middle of. Our lock file names
//! its holder (PID, process start time, boot id); a holder record beside it
//! (`checkpoint.holder`) adds the identity (device, inode, birth time) of
//! the `index.lock` it created and the ref locks it is about to take. So
//! the next run can tell a dead git-session's locks, which it removes, from
//! a live process's or git's own, which it never touches.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gix::lock::acquire::Fail;

use crate::error::Error;
use crate::repo::session_dir;

mod process;
use process::{ProcessState, Processes};

/// Whether this system tells a dead lock holder from a live one (it knows
/// this process runs, and since when). Where it does not, a checkpoint
/// killed mid-way leaves `checkpoint.lock` for a person to remove.
pub fn recovery_works() -> bool {
    let system = process::System;
    system.start(std::process::id()).is_some()
}

/// How long to wait for a lock another process holds.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// The locks a checkpoint holds; dropping them releases both, the index
/// lock first (fields drop in declaration order).
pub struct Locks {
    /// `index.lock`; the new index is written into it and committed.
    pub index: gix::lock::File,
    _session: gix::lock::File,
    /// The holder record (see [`take`]), kept open to append to.
    record: Record,
    /// `core.sharedRepository`'s permissions for what is written meanwhile.
    _shared: crate::repo::SharedPermissions,
    /// When `index.lock` was created, by the file system's clock (the one
    /// file times come from): every change to a work-tree file after this
    /// run read it is stamped no earlier. See
    /// [`crate::snapshot::smudge_racily_clean`].
    pub taken: Option<std::time::SystemTime>,
}

impl Locks {
    /// Record, before a ref transaction, the ref lock files it will create
    /// for the refs `names` (full names; `HEAD` with the branch it points
    /// to), so that if we are killed holding them, the next run removes
    /// them instead of leaving the branch locked for everyone. The returned
    /// guard records, when dropped, that the transaction is over.
    pub fn announce_refs<S: AsRef<str>>(
        &mut self,
        repo: &gix::Repository,
        names: &[S],
    ) -> anyhow::Result<AnnouncedRefs<'_>> {
        let mut text = String::new();
        for resource in ref_files(repo, names) {
            // A path that would not read back unambiguously is not
            // announced: its lock is then never removed but by its holder.
            if let Some(lock) = lock_path(&resource).to_str().filter(|p| !p.contains('\n')) {
                text.push_str(&format!("ref-lock {lock}\n"));
            }
        }
        text.push_str("refs trying");
        let announced = AnnouncedRefs {
            record: &mut self.record,
        };
        // On failure the guard drops here and says the attempt is over.
        announced.record.append(&text)?;
        Ok(announced)
    }
}

/// The files of the refs `names`: `HEAD` in the git dir, with the branch it
/// points to, and every other ref in the common git dir.
fn ref_files<S: AsRef<str>>(repo: &gix::Repository, names: &[S]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for name in names {
        match name.as_ref() {
            "HEAD" => {
                files.push(repo.git_dir().join("HEAD"));
                if let Ok(Some(branch)) = repo.head_name() {
                    if let Ok(path) = gix::path::from_bstr(branch.as_bstr()) {
                        files.push(repo.common_dir().join(path));
                    }
                }
            }
            name => files.push(repo.common_dir().join(name)),
        }
    }
    files
}

/// Ref locks announced by [`Locks::announce_refs`]; dropping it records
/// that the transaction is over (its locks are gone, whether it succeeded
/// or not). Best effort: a missing record only matters if we are killed,
/// and then the lock files are gone.
pub struct AnnouncedRefs<'a> {
    record: &'a mut Record,
}

impl Drop for AnnouncedRefs<'_> {
    fn drop(&mut self) {
        let _ = self.record.append("refs done");
    }
}

/// `<session dir>/checkpoint.holder`: who holds `checkpoint.lock` and each
/// step they took towards the other lock files (the path of their
/// worktree's `index.lock`, `index-lock trying`, `index-lock busy`, the
/// identity of the `index.lock` they created, the ref locks they are about
/// to take). It is a plain file in the common git dir, shared by all
/// worktrees, rewritten by each new holder (from any worktree, after it
/// cleared what a dead holder left there), and survives its holder: the signal handler removes the
/// lock files it knows of, and a lock file created a moment before the
/// signal may not be known to it yet; the next holder reads the record and
/// removes what a dead holder left.
struct Record {
    path: PathBuf,
    file: std::fs::File,
}

impl Record {
    fn append(&mut self, lines: &str) -> anyhow::Result<()> {
        use std::io::Write as _;
        writeln!(self.file, "{lines}")
            .and_then(|()| self.file.flush())
            .map_err(|e| anyhow::anyhow!("could not write '{}': {e}", self.path.display()))
    }
}

/// Take git-session's lock, then `index.lock`, each retried for about
/// [`LOCK_TIMEOUT`]. Locks left by a dead git-session are removed first:
/// its `checkpoint.lock` (its PID is in it), and the `index.lock` and ref
/// locks its holder record says it created.
pub fn take(repo: &gix::Repository) -> anyhow::Result<Locks> {
    use std::io::Write as _;
    let shared = crate::repo::shared_permissions(repo);
    let dir = session_dir(repo);
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("could not create '{}': {e}", dir.display()))?;
    let session_resource = dir.join("checkpoint");
    let session_lock = lock_path(&session_resource);
    let index_path = repo.index_path();
    let index_lock = lock_path(&index_path);
    let system = &process::System;
    let holder = Holder::current(system);

    let deadline = std::time::Instant::now() + LOCK_TIMEOUT;
    let mut attempt = 0;
    let mut session = loop {
        if let Some(lock) = try_lock(&session_resource)? {
            break lock;
        }
        // On every round: a holder may die while we wait, and an empty
        // lock file only counts as stale after a grace period.
        clear_if_dead(&session_lock, system);
        if std::time::Instant::now() >= deadline {
            return Err(Error::SessionLocked(session_lock).into());
        }
        backoff(&mut attempt);
    };
    writeln!(session, "{}", holder.to_lines())
        .and_then(|()| session.flush())
        .map_err(|e| anyhow::anyhow!("could not write '{}': {e}", session_lock.display()))?;

    // We hold checkpoint.lock: no other git-session is between here and
    // its release, so what the previous holder left is safe to read.
    let record_path = dir.join("checkpoint.holder");
    clear_left_by_dead_holder(&record_path, &index_lock, system);
    let file = std::fs::File::create(&record_path)
        .map_err(|e| anyhow::anyhow!("could not write '{}': {e}", record_path.display()))?;
    let mut record = Record {
        path: record_path,
        file,
    };
    record.append(&holder.to_lines())?;

    // Which index.lock this record is about: worktrees share the record
    // (and checkpoint.lock) but each has its own index, so the next holder,
    // whichever worktree it runs in, clears the right file.
    if let Some(path) = index_lock.to_str().filter(|p| !p.contains('\n')) {
        record.append(&format!("index-lock-path {path}"))?;
    }
    let deadline = std::time::Instant::now() + LOCK_TIMEOUT;
    let mut attempt = 0;
    let index = loop {
        record.append("index-lock trying")?;
        if let Some(lock) = try_lock(&index_path)? {
            break lock;
        }
        record.append("index-lock busy")?;
        if std::time::Instant::now() >= deadline {
            return Err(Error::IndexLocked(index_lock).into());
        }
        backoff(&mut attempt);
    };
    let taken = std::fs::symlink_metadata(&index_lock)
        .and_then(|m| m.modified())
        .ok();
    if let Some(identity) = file_identity(&index_lock) {
        // Without it, a crash in the next microseconds leaves an
        // index.lock recognised only by its creation time; failing here
        // would be worse.
        let _ = record.append(&format!("index-lock {identity}"));
    }
    Ok(Locks {
        index,
        _session: session,
        record,
        _shared: shared,
        taken,
    })
}

/// One attempt at the lock file of `resource`: `Some` when taken, `None`
/// when someone holds it, an error for anything else (a read-only
/// directory, say), which waiting would not cure.
fn try_lock(resource: &Path) -> anyhow::Result<Option<gix::lock::File>> {
    let attempt =
        || gix::lock::File::acquire_to_update_resource(resource, Fail::Immediately, None, 0);
    let lock = lock_path(resource);
    match attempt() {
        Ok(file) => Ok(Some(file)),
        Err(_) if lock.exists() => Ok(None),
        // Released between our attempt and the check: try once more.
        Err(_) => match attempt() {
            Ok(file) => Ok(Some(file)),
            Err(_) if lock.exists() => Ok(None),
            Err(err) => Err(anyhow::anyhow!(
                "could not create '{}': {err}",
                lock.display()
            )),
        },
    }
}

/// Sleep a little longer each round (10 ms, 20 ms, … up to 100 ms), with a
/// jitter so that waiting processes do not retry in lockstep.
fn backoff(attempt: &mut u32) {
    let base = 10u64 << (*attempt).min(3);
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            % 10_000,
    );
    *attempt += 1;
    std::thread::sleep(Duration::from_millis(base.min(100)) + Duration::from_micros(jitter));
}

/// How long an empty `checkpoint.lock` may exist before it is taken for the
/// leftover of a run killed between creating it and writing its PID (a live
/// holder writes it within microseconds).
const EMPTY_LOCK_GRACE: Duration = Duration::from_secs(1);

/// A lock file created no earlier than its holder announced it, and at most
/// this long after, is the holder's (for a holder killed before it could
/// record the file's identity).
const CREATION_WINDOW: Duration = Duration::from_millis(500);

/// What a `checkpoint.lock` or holder record says.
#[derive(Debug, Default, PartialEq, Eq)]
struct Holder {
    pid: Option<u32>,
    /// Start time of the process (clock ticks since boot on Linux, seconds
    /// since the epoch elsewhere; see [`process`]), so a reused PID is not
    /// taken for the holder.
    start: Option<u64>,
    /// The boot the holder ran in (Linux), so a lock from before a reboot
    /// is known stale whatever runs under its PID now.
    boot: Option<String>,
    /// The last `index-lock` record: `trying`, `busy` or the identity.
    index: Option<String>,
    /// The `index.lock` it is about (its worktree's); records written
    /// before this was recorded are about the reader's own.
    index_lock: Option<PathBuf>,
    /// Ref lock files of the last announced transaction, if still `trying`.
    ref_locks: Vec<PathBuf>,
}

impl Holder {
    /// This process.
    fn current(system: &dyn Processes) -> Holder {
        let pid = std::process::id();
        Holder {
            pid: Some(pid),
            start: system.start(pid),
            boot: system.boot_id(),
            ..Holder::default()
        }
    }

    fn to_lines(&self) -> String {
        let mut lines = Vec::new();
        if let Some(pid) = self.pid {
            lines.push(format!("pid {pid}"));
        }
        if let Some(start) = self.start {
            lines.push(format!("start {start}"));
        }
        if let Some(boot) = &self.boot {
            lines.push(format!("boot {boot}"));
        }
        lines.join("\n")
    }

    fn parse(text: &str) -> Holder {
        let mut holder = Holder::default();
        let mut announced = Vec::new();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(' ') else {
                continue;
            };
            let value = value.trim();
            match key {
                "pid" => holder.pid = value.parse().ok(),
                "start" => holder.start = value.parse().ok(),
                "boot" => holder.boot = Some(value.to_string()),
                "index-lock" => holder.index = Some(value.to_string()),
                "index-lock-path" => holder.index_lock = Some(PathBuf::from(value)),
                "ref-lock" => announced.push(PathBuf::from(value)),
                "refs" if value == "trying" => holder.ref_locks = std::mem::take(&mut announced),
                "refs" => {
                    holder.ref_locks.clear();
                    announced.clear();
                }
                _ => {}
            }
        }
        holder
    }

    /// Whether the process that wrote this record is gone for sure. Where
    /// that cannot be known, it is not: a lock is never broken on a guess.
    fn dead(&self, system: &dyn Processes) -> bool {
        let Some(pid) = self.pid else {
            return false;
        };
        if let (Some(then), Some(now)) = (&self.boot, system.boot_id()) {
            if *then != now {
                return true;
            }
        }
        match system.state(pid) {
            ProcessState::Gone => true,
            ProcessState::Unknown => false,
            ProcessState::Running { start } => match (self.start, start) {
                (Some(then), Some(now)) => then != now,
                _ => false,
            },
        }
    }
}

/// If the git-session that holds `session_lock` is dead (or the lock is
/// empty and old: its holder died before writing its PID), remove the lock.
/// A live holder's lock, or an unreadable one, is left alone. The other
/// lock files the dead holder left are removed by the next holder, from its
/// record (see [`clear_left_by_dead_holder`]).
fn clear_if_dead(session_lock: &Path, system: &dyn Processes) {
    let Ok(text) = std::fs::read_to_string(session_lock) else {
        return;
    };
    let holder = Holder::parse(&text);
    let dead = match holder.pid {
        Some(_) => holder.dead(system),
        None => text.trim().is_empty() && age(session_lock) > EMPTY_LOCK_GRACE,
    };
    if !dead {
        return;
    }
    // Move the dead lock out of the way under a name of our own first: of
    // two runs clearing it at once only one gets it, and if what we moved
    // turns out to be a fresh lock taken in the meantime, it goes back.
    let Some(name) = session_lock.file_name() else {
        return;
    };
    let mut stale_name = name.to_owned();
    stale_name.push(format!(".stale-{}", std::process::id()));
    let stale = session_lock.with_file_name(stale_name);
    if std::fs::rename(session_lock, &stale).is_err() {
        return;
    }
    let still_dead = std::fs::read_to_string(&stale).is_ok_and(|again| {
        again == text && (holder.pid.is_some() || age(&stale) > EMPTY_LOCK_GRACE)
    });
    if !still_dead {
        let _ = std::fs::hard_link(&stale, session_lock);
    }
    let _ = std::fs::remove_file(&stale);
}

/// Called holding `checkpoint.lock`: if the previous holder, as `record`
/// names it, is dead, remove the `index.lock` it created (in its own
/// worktree, which the record names; else `index_lock`; recognised by
/// device, inode and birth time, or, when it was killed before recording
/// that, by having been created right after it said it was trying) and the
/// ref locks it announced. Anything else is left alone.
fn clear_left_by_dead_holder(record: &Path, index_lock: &Path, system: &dyn Processes) {
    let Ok(text) = std::fs::read_to_string(record) else {
        return;
    };
    let holder = Holder::parse(&text);
    if !holder.dead(system) {
        return;
    }
    let index_lock = holder.index_lock.as_deref().unwrap_or(index_lock);
    // The holder's last write, which announced what it was about to lock.
    let last_write = std::fs::metadata(record).and_then(|m| m.modified()).ok();
    let created_after_announcement = |lock: &Path| {
        let (Some(announced), Some(created)) = (last_write, creation_time(lock)) else {
            return false;
        };
        created
            .duration_since(announced)
            .is_ok_and(|d| d <= CREATION_WINDOW)
    };
    let index_is_theirs = match holder.index.as_deref() {
        None | Some("busy") => false,
        Some("trying") => created_after_announcement(index_lock),
        Some(identity) => file_identity(index_lock).as_deref() == Some(identity),
    };
    if index_is_theirs {
        let _ = std::fs::remove_file(index_lock);
    }
    for lock in &holder.ref_locks {
        if created_after_announcement(lock) {
            let _ = std::fs::remove_file(lock);
        }
    }
}

fn age(path: &Path) -> Duration {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .unwrap_or_default()
}

/// When a file was created: its birth time where the file system keeps
/// one, else its modification time (a lock file nobody wrote to yet).
fn creation_time(path: &Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    meta.created().or_else(|_| meta.modified()).ok()
}

/// `device:inode:birth` of a file, to recognise the very file we created
/// (the birth time tells it from a later file that reused the inode).
#[cfg(unix)]
fn file_identity(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let birth = meta
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(String::new(), |d| {
            format!(":{}.{:09}", d.as_secs(), d.subsec_nanos())
        });
    Some(format!("{}:{}{birth}", meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_identity(_path: &Path) -> Option<String> {
    None
}

fn lock_path(resource: &Path) -> PathBuf {
    let mut name = resource.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use process::System;

    /// A PID that existed and is gone.
    #[cfg(unix)]
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("reap");
        pid
    }

    fn touch(path: &Path) {
        std::fs::write(path, b"").expect("create file");
    }

    /// File times come from a coarse clock: make sure the next file is
    /// stamped later than the last.
    fn tick() {
        std::thread::sleep(Duration::from_millis(30));
    }

    /// A system that answers what it is told to.
    struct Answers {
        state: ProcessState,
        boot: Option<&'static str>,
    }

    impl Processes for Answers {
        fn state(&self, _pid: u32) -> ProcessState {
            self.state
        }
        fn boot_id(&self) -> Option<String> {
            self.boot.map(str::to_string)
        }
    }

    const fn answers(state: ProcessState) -> Answers {
        Answers { state, boot: None }
    }

    /// The recovery decision on every platform, from the platform's
    /// answers: only "gone", another start time or another boot make a
    /// holder dead; "unknown", an unknown start, or no PID never do.
    #[test]
    fn recovery_follows_the_platforms_answers() {
        use ProcessState::{Gone, Running, Unknown};
        let holder = Holder {
            pid: Some(42),
            start: Some(7),
            boot: Some("boot-a".into()),
            ..Holder::default()
        };
        let running = |start| Running { start };
        assert!(holder.dead(&answers(Gone)));
        assert!(!holder.dead(&answers(Unknown)));
        assert!(!holder.dead(&answers(running(Some(7)))));
        assert!(holder.dead(&answers(running(Some(8)))), "a reused PID");
        assert!(!holder.dead(&answers(running(None))));
        let rebooted = Answers {
            state: running(Some(7)),
            boot: Some("boot-b"),
        };
        assert!(holder.dead(&rebooted), "a lock from before a reboot");
        let same_boot = Answers {
            boot: Some("boot-a"),
            ..answers(running(Some(7)))
        };
        assert!(!holder.dead(&same_boot));
        // No boot id (macOS, Windows: start times count from the epoch).
        let no_boot = Holder {
            boot: None,
            ..Holder::parse(&holder.to_lines())
        };
        assert!(!no_boot.dead(&rebooted));
        assert!(no_boot.dead(&answers(running(Some(8)))));
        assert!(!Holder::default().dead(&answers(Gone)), "no PID");

        // Both clean-ups act on the same answers.
        let dir = tempfile::tempdir().expect("temp dir");
        let lock = dir.path().join("checkpoint.lock");
        std::fs::write(&lock, holder.to_lines()).expect("write");
        clear_if_dead(&lock, &answers(Unknown));
        assert!(lock.exists(), "removed on an unknown answer");
        clear_if_dead(&lock, &answers(Gone));
        assert!(!lock.exists(), "a gone holder's lock stays");
        let record = dir.path().join("checkpoint.holder");
        let index_lock = dir.path().join("index.lock");
        std::fs::write(
            &record,
            format!("{}\nindex-lock trying\n", holder.to_lines()),
        )
        .expect("write");
        tick();
        touch(&index_lock);
        clear_left_by_dead_holder(&record, &index_lock, &answers(running(Some(7))));
        assert!(
            index_lock.exists(),
            "a live holder's index.lock was removed"
        );
        clear_left_by_dead_holder(&record, &index_lock, &answers(running(Some(8))));
        assert!(!index_lock.exists(), "a dead holder's index.lock stays");
    }

    #[test]
    fn holder_record_reads_back() {
        let holder = Holder::current(&System);
        let text = format!(
            "{}\nindex-lock trying\nindex-lock 1:2:3.4\nref-lock /a.lock\nrefs trying\n",
            holder.to_lines()
        );
        let parsed = Holder::parse(&text);
        assert_eq!(parsed.pid, holder.pid);
        assert_eq!(parsed.start, holder.start);
        assert_eq!(parsed.index.as_deref(), Some("1:2:3.4"));
        assert_eq!(parsed.ref_locks, [PathBuf::from("/a.lock")]);
        assert!(!parsed.dead(&System), "this process is alive");
        let done = Holder::parse(&format!("{text}refs done\n"));
        assert!(done.ref_locks.is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_reused_pid_or_another_boot_is_dead() {
        let me = Holder::current(&System);
        let other_start = Holder {
            start: me.start.map(|s| s + 1),
            ..Holder::current(&System)
        };
        assert!(other_start.dead(&System));
        let other_boot = Holder {
            boot: Some("another-boot".into()),
            ..Holder::current(&System)
        };
        assert!(other_boot.dead(&System));
        let gone = Holder {
            pid: Some(dead_pid()),
            ..Holder::default()
        };
        assert!(gone.dead(&System));
        assert!(
            !Holder::default().dead(&System),
            "no PID: never taken for dead"
        );
    }

    /// What a dead holder's record lets the next holder remove.
    #[cfg(unix)]
    #[test]
    fn only_a_dead_holders_own_lock_files_are_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let record = dir.path().join("checkpoint.holder");
        let index_lock = dir.path().join("index.lock");
        let ref_lock = dir.path().join("main.lock");
        let dead = format!("pid {}\n", dead_pid());
        let live = format!("{}\n", Holder::current(&System).to_lines());

        // Identity recorded: the very file goes, another file stays.
        touch(&index_lock);
        let identity = file_identity(&index_lock).expect("identity");
        std::fs::write(
            &record,
            format!("{dead}index-lock trying\nindex-lock {identity}\n"),
        )
        .expect("write record");
        clear_left_by_dead_holder(&record, &index_lock, &System);
        assert!(!index_lock.exists(), "the dead holder's index.lock stays");
        let other = dir.path().join("other");
        touch(&other);
        std::fs::rename(&other, &index_lock).expect("rename");
        clear_left_by_dead_holder(&record, &index_lock, &System);
        assert!(index_lock.exists(), "someone else's index.lock was removed");
        std::fs::remove_file(&index_lock).expect("rm");

        // Killed between creating index.lock and recording it: a file
        // created right after `trying` goes; one that was there before
        // (someone else's, which made us wait) stays; after `busy`, stays.
        std::fs::write(&record, format!("{dead}index-lock trying\n")).expect("write");
        tick();
        touch(&index_lock);
        clear_left_by_dead_holder(&record, &index_lock, &System);
        assert!(!index_lock.exists(), "created right after trying");
        touch(&index_lock);
        tick();
        std::fs::write(&record, format!("{dead}index-lock trying\n")).expect("write");
        clear_left_by_dead_holder(&record, &index_lock, &System);
        assert!(index_lock.exists(), "older than the attempt: not ours");
        std::fs::remove_file(&index_lock).expect("rm");
        std::fs::write(
            &record,
            format!("{dead}index-lock trying\nindex-lock busy\n"),
        )
        .expect("write");
        tick();
        touch(&index_lock);
        clear_left_by_dead_holder(&record, &index_lock, &System);
        assert!(index_lock.exists(), "waiting for someone else's");
        std::fs::remove_file(&index_lock).expect("rm");

        // Ref locks: announced and still `trying` go; after `done`, or
        // older than the announcement, stay.
        let announce = format!(
            "{dead}index-lock 0:0\nref-lock {}\nrefs trying\n",
            ref_lock.display()
        );
        std::fs::write(&record, &announce).expect("write");
        tick();
        touch(&ref_lock);
        clear_left_by_dead_holder(&record, &index_lock, &System);
        assert!(!ref_lock.exists(), "the dead holder's ref lock stays");
        std::fs::write(&record, format!("{announce}refs done\n")).expect("write");
        tick();
        touch(&ref_lock);
        clear_left_by_dead_holder(&record, &index_lock, &System);
        assert!(ref_lock.exists(), "a ref lock after the transaction ended");
        std::fs::remove_file(&ref_lock).expect("rm");
        touch(&ref_lock);
        tick();
        std::fs::write(&record, &announce).expect("write");
        clear_left_by_dead_holder(&record, &index_lock, &System);
        assert!(ref_lock.exists(), "older than the announcement");

        // A live holder's files are never touched.
        std::fs::write(&record, format!("{live}index-lock trying\n")).expect("write");
        tick();
        touch(&index_lock);
        clear_left_by_dead_holder(&record, &index_lock, &System);
        assert!(
            index_lock.exists(),
            "a live holder's index.lock was removed"
        );
    }

    /// A holder killed in another worktree: its index.lock, which the
    /// record names, goes; this worktree's own index.lock is not its.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_dead_holders_index_lock_in_another_worktree_is_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let record = dir.path().join("checkpoint.holder");
        let mine = dir.path().join("index.lock");
        let theirs = dir.path().join("worktrees-wt-index.lock");
        touch(&mine);
        touch(&theirs);
        let identity = file_identity(&theirs).expect("identity");
        std::fs::write(
            &record,
            format!(
                "pid {}\nindex-lock-path {}\nindex-lock trying\nindex-lock {identity}\n",
                dead_pid(),
                theirs.display()
            ),
        )
        .expect("write record");
        clear_left_by_dead_holder(&record, &mine, &System);
        assert!(
            !theirs.exists(),
            "the other worktree's dead index.lock stays"
        );
        assert!(mine.exists(), "this worktree's index.lock was removed");
    }

    #[test]
    fn a_dead_holders_session_lock_is_removed_a_live_ones_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let lock = dir.path().join("checkpoint.lock");
        std::fs::write(&lock, format!("{}\n", Holder::current(&System).to_lines())).expect("write");
        clear_if_dead(&lock, &System);
        assert!(lock.exists(), "a live holder's lock was removed");
        #[cfg(unix)]
        {
            std::fs::write(&lock, format!("pid {}\n", dead_pid())).expect("write");
            clear_if_dead(&lock, &System);
            assert!(!lock.exists(), "a dead holder's lock stays");
        }
        // Empty: stale only once older than the grace period.
        touch(&lock);
        clear_if_dead(&lock, &System);
        assert!(lock.exists(), "a fresh empty lock was removed");
        assert!(
            std::fs::read_dir(dir.path()).expect("read dir").count() == 1,
            "no stray file left"
        );
    }
}
