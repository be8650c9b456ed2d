//! Whether the process that wrote a lock file still runs, and since when:
//! the operating system's answer behind one small interface, so that the
//! recovery logic in [`super`] runs in tests with any answer injected.
//!
//! The kernel is asked first, on every Unix, with `kill(pid, 0)` (no signal
//! is sent): "no such process" is the one answer that makes a holder gone
//! for sure; "not permitted" means it exists. Then, for the start time that
//! tells a reused PID from the holder:
//!
//! - Linux reads `/proc/<pid>/stat` (start in clock ticks since boot; `Z`
//!   and `X` are dead) and the boot id. A `/proc` that is not mounted, or
//!   belongs to another PID namespace, never makes a live process look
//!   dead: the kernel said it exists.
//! - macOS, the BSDs and Windows ask `sysinfo` (start in seconds since the
//!   epoch, which also tells one boot's process from the next, so no boot
//!   id is needed; Windows has no `kill`, and its process list names every
//!   process whatever its owner). `sysinfo` is the one well-kept crate that
//!   reads these without `unsafe` in our code; it is built only where it is
//!   used, and for the unit tests, which run its answers here on Linux.

/// What the system says about a PID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ProcessState {
    /// No such process, or a zombie (dead, not yet reaped).
    Gone,
    /// A process with this PID runs; `start` when its start time is known.
    Running { start: Option<u64> },
    /// The system would not say (only `/proc` says so, on Linux).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    Unknown,
}

/// The questions lock recovery asks the system.
pub(super) trait Processes {
    /// Whether process `pid` runs, and since when.
    fn state(&self, pid: u32) -> ProcessState;
    /// This boot's id, where the start times alone cannot tell one boot's
    /// process from the next's (Linux: they count from boot).
    fn boot_id(&self) -> Option<String>;

    /// When process `pid` started, in the unit [`Processes::state`] uses.
    fn start(&self, pid: u32) -> Option<u64> {
        match self.state(pid) {
            ProcessState::Running { start } => start,
            _ => None,
        }
    }
}

/// The running system's answers.
pub(super) struct System;

impl Processes for System {
    fn state(&self, pid: u32) -> ProcessState {
        os_state(pid)
    }

    fn boot_id(&self) -> Option<String> {
        os_boot_id()
    }
}

#[cfg(target_os = "linux")]
fn os_state(pid: u32) -> ProcessState {
    procfs::state(pid, exists(pid))
}

#[cfg(target_os = "linux")]
fn os_boot_id() -> Option<String> {
    procfs::boot_id()
}

#[cfg(not(target_os = "linux"))]
fn os_state(pid: u32) -> ProcessState {
    portable::state(pid)
}

#[cfg(not(target_os = "linux"))]
fn os_boot_id() -> Option<String> {
    None
}

/// `kill(pid, 0)`: `Some(false)` when no such process exists, `Some(true)`
/// when one does (signalling it may still not be permitted), `None` when
/// the kernel would not say or the PID cannot be one.
#[cfg(unix)]
fn exists(pid: u32) -> Option<bool> {
    use rustix::io::Errno;
    // PID 0 and negative PIDs name process groups, not a process.
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)?;
    match rustix::process::test_kill_process(pid) {
        Ok(()) | Err(Errno::PERM) => Some(true),
        Err(Errno::SRCH) => Some(false),
        Err(_) => None,
    }
}

#[cfg(not(unix))]
fn exists(_pid: u32) -> Option<bool> {
    None
}

#[cfg(target_os = "linux")]
mod procfs {
    use super::ProcessState;

    /// `/proc/<pid>/stat`, given what `kill(pid, 0)` said.
    pub(super) fn state(pid: u32, exists: Option<bool>) -> ProcessState {
        if exists == Some(false) {
            return ProcessState::Gone;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => parse_stat(&stat),
            // The kernel says it runs: /proc is missing, or another PID
            // namespace's.
            Err(_) if exists == Some(true) => ProcessState::Running { start: None },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => ProcessState::Gone,
            Err(_) => ProcessState::Unknown,
        }
    }

    /// The fields after the parenthesised command name: state first (`Z`
    /// is a zombie, dead but not yet reaped; `X` dead), the start time
    /// 20th.
    pub(super) fn parse_stat(stat: &str) -> ProcessState {
        let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let mut fields = rest.split_whitespace();
        match fields.next() {
            Some("Z") | Some("X") => ProcessState::Gone,
            _ => ProcessState::Running {
                start: fields.nth(18).and_then(|s| s.parse().ok()),
            },
        }
    }

    pub(super) fn boot_id() -> Option<String> {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
}

/// The answer everywhere but Linux; built on Linux for the unit tests.
#[cfg(any(not(target_os = "linux"), test))]
mod portable {
    use super::ProcessState;
    use sysinfo::{ProcessRefreshKind, ProcessStatus, ProcessesToUpdate};

    pub(super) fn state(pid: u32) -> ProcessState {
        let exists = super::exists(pid);
        if exists == Some(false) {
            return ProcessState::Gone;
        }
        let pid = sysinfo::Pid::from_u32(pid);
        let mut system = sysinfo::System::new();
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            true,
            ProcessRefreshKind::nothing(),
        );
        match system.process(pid) {
            // Only a zombie: on macOS `Dead` is how sysinfo names a live
            // process in uninterruptible sleep.
            Some(process) if process.status() == ProcessStatus::Zombie => ProcessState::Gone,
            Some(process) => ProcessState::Running {
                // 0 where the process could not be opened (Windows, another
                // user's elevated process).
                start: Some(process.start_time()).filter(|&start| start != 0),
            },
            // Unlisted, though the kernel says it exists: another user's
            // process sysinfo could not read.
            None if exists == Some(true) => ProcessState::Running { start: None },
            None => ProcessState::Gone,
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A child that has exited, reaped (`Some`) or not yet (`None`).
    fn exited_child(reap: bool) -> (u32, Option<std::process::Child>) {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        if reap {
            child.wait().expect("reap");
            return (pid, None);
        }
        // Exited but not reaped: a zombie until `wait`.
        std::thread::sleep(std::time::Duration::from_millis(200));
        (pid, Some(child))
    }

    /// The answers recovery relies on, from the code macOS and Windows run:
    /// this process runs with a known, stable start; a reaped child is
    /// gone; so is a zombie (Linux: whether macOS's process table lists
    /// zombies is not verified; if not, a zombie holder counts as alive).
    #[test]
    fn sysinfo_answers_like_proc() {
        let me = std::process::id();
        let ProcessState::Running { start: Some(start) } = portable::state(me) else {
            panic!("this process: {:?}", portable::state(me));
        };
        assert_eq!(
            portable::state(me),
            ProcessState::Running { start: Some(start) }
        );
        let (gone, _) = exited_child(true);
        assert_eq!(portable::state(gone), ProcessState::Gone);
        if cfg!(target_os = "linux") {
            let (zombie, mut child) = exited_child(false);
            assert_eq!(portable::state(zombie), ProcessState::Gone, "a zombie");
            assert_eq!(System.state(zombie), ProcessState::Gone, "a zombie");
            if let Some(child) = child.as_mut() {
                child.wait().expect("reap");
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_is_not_the_only_witness() {
        let me = std::process::id();
        assert!(matches!(
            System.state(me),
            ProcessState::Running { start: Some(_) }
        ));
        assert_eq!(exists(me), Some(true));
        let (gone, _) = exited_child(true);
        assert_eq!(exists(gone), Some(false));
        // The kernel says it runs though /proc cannot tell: running, start
        // unknown, so never taken for dead.
        assert_eq!(
            procfs::state(u32::MAX - 1, Some(true)),
            ProcessState::Running { start: None }
        );
        assert_eq!(procfs::state(me, Some(false)), ProcessState::Gone);
        assert_eq!(exists(0), None, "PID 0 is a process group");
        assert_eq!(
            procfs::parse_stat("1 (a) b) Z 1 2 3"),
            ProcessState::Gone,
            "a command name with ') '"
        );
    }
}
