//! The one place that runs the user's `git` binary: push, fetch, git
//! config writes, signed commits, and its version for `doctor`.
//!
//! gix cannot push (gitoxide #306), and going through the user's own `git`
//! means credentials, ssh config, proxies and hosting rules behave exactly as
//! their own pushes do. Every command is built by `git()` with the same
//! controlled environment: English messages (`LC_ALL=C`) so stderr can be
//! classified, stdin closed and `GIT_TERMINAL_PROMPT=0` so a credential
//! prompt nobody can answer (an agent's hook) fails instead of hanging, no
//! pager, no fsmonitor daemon; and, by `Git::command`, `--git-dir` so git
//! works on the repository we opened and discovers nothing else. What git prints is turned into the
//! typed errors of [`crate::error::Error`] here, so callers match on kinds,
//! never on text.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::commit::NewCommit;
use crate::error::Error;

/// Runs `git` on one repository.
pub struct Git {
    git_dir: PathBuf,
    /// Kill git after this long (hooks that must not stall the agent).
    timeout: Option<Duration>,
}

/// How one pushed ref fared, from `git push --porcelain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// The remote did not have the ref before.
    Created,
    /// The remote ref moved forward.
    Updated,
    /// The remote already had this commit.
    UpToDate,
}

/// stderr fragments (under `LC_ALL=C`) that mean the remote could not be
/// reached or would not let us in, as opposed to a refusal of one ref.
const UNREACHABLE: &[&str] = &[
    "does not appear to be a git repository",
    "Could not read from remote repository",
    "unable to connect",
    "Connection refused",
    "Connection timed out",
    "Connection reset",
    "No route to host",
    "Could not resolve host",
    "Could not resolve hostname",
    "unable to access",
    "repository not found",
    "Repository not found",
    "Authentication failed",
    "Permission denied",
    "terminal prompts disabled",
    "could not read Username",
    "remote end hung up",
    "protocol error",
];

/// stderr lines that repeat what the other lines already say.
const BOILERPLATE: &[&str] = &[
    "failed to push some refs",
    "Could not read from remote repository.",
    "Please make sure you have the correct access rights",
    "and the repository exists.",
];

impl Git {
    /// A runner for `repo` (its own git dir, so linked worktrees work).
    pub fn new(repo: &gix::Repository) -> Git {
        Git {
            git_dir: repo.git_dir().to_path_buf(),
            timeout: None,
        }
    }

    /// Give up on any git process after `timeout`, killing it.
    pub fn with_timeout(mut self, timeout: Duration) -> Git {
        self.timeout = Some(timeout);
        self
    }

    /// Every git process on a repository starts here: see the module
    /// comment for why each setting is there.
    fn command(&self) -> Command {
        let mut git_dir = OsString::from("--git-dir=");
        git_dir.push(&self.git_dir);
        let mut cmd = git();
        cmd.arg(git_dir);
        cmd
    }

    fn run<I, S>(&self, args: I) -> Result<Output, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args);
        let Some(timeout) = self.timeout else {
            return cmd
                .output()
                .map_err(|err| Error::GitNotRunnable(err.to_string()));
        };
        let mut child = cmd
            .spawn()
            .map_err(|err| Error::GitNotRunnable(err.to_string()))?;
        let deadline = Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(Error::GitTimedOut(timeout));
                }
            }
        }
        // What git prints here is small (porcelain lines, a few errors), so
        // it fits the pipe buffers while we wait.
        child
            .wait_with_output()
            .map_err(|err| Error::GitNotRunnable(err.to_string()))
    }

    /// `git push REMOTE SRC:DST` (with `-u` when `set_upstream`), one ref.
    /// A rejected or refused ref is an error naming the remote and the ref.
    pub fn push(
        &self,
        remote: &str,
        src: &str,
        dst: &str,
        set_upstream: bool,
    ) -> Result<Pushed, Error> {
        let mut args = vec!["push", "--porcelain"];
        if set_upstream {
            args.push("--set-upstream");
        }
        let refspec = format!("{src}:{dst}");
        // `--` so a remote name can never be read as an option.
        args.extend(["--", remote, refspec.as_str()]);
        let out = self.run(&args)?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match porcelain_status(&stdout, dst) {
            Some(('*', _)) => Ok(Pushed::Created),
            Some(('=', _)) => Ok(Pushed::UpToDate),
            Some(('!', summary)) => Err(rejection(remote, dst, summary, &stderr)),
            Some(_) => Ok(Pushed::Updated),
            None if out.status.success() => Ok(Pushed::Updated),
            None => Err(failure(&format!("git push to '{remote}'"), remote, &stderr)),
        }
    }

    /// `git fetch REMOTE +SRC:DST`, one ref, forced (DST mirrors the remote).
    /// Returns false when the remote has no SRC.
    pub fn fetch(&self, remote: &str, src: &str, dst: &str) -> Result<bool, Error> {
        let refspec = format!("+{src}:{dst}");
        let out = self.run([
            "fetch",
            "--no-tags",
            "--no-write-fetch-head",
            "--quiet",
            "--",
            remote,
            &refspec,
        ])?;
        if out.status.success() {
            return Ok(true);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("couldn't find remote ref") {
            return Ok(false);
        }
        Err(failure(
            &format!("git fetch from '{remote}'"),
            remote,
            &stderr,
        ))
    }

    /// `git commit-tree -S`: write a signed commit through the user's git,
    /// so their signing setup (gpg.format, gpg.program, user.signingKey)
    /// applies exactly as for `git commit -S`. The identities and dates
    /// are the ones given, so the commit is what gix would have written
    /// plus the signature. Commit hooks do not run for `commit-tree`.
    pub fn commit_tree_signed(&self, commit: &NewCommit) -> Result<gix::ObjectId, Error> {
        let mut cmd = self.command();
        cmd.arg("commit-tree").arg("-S");
        for parent in &commit.parents {
            cmd.arg("-p").arg(parent.to_string());
        }
        cmd.arg("-F").arg("-").arg(commit.tree.to_string());
        for (role, who) in [("AUTHOR", &commit.author), ("COMMITTER", &commit.committer)] {
            cmd.env(format!("GIT_{role}_NAME"), who.name.to_string())
                .env(format!("GIT_{role}_EMAIL"), who.email.to_string())
                .env(format!("GIT_{role}_DATE"), raw_date(who.time));
        }
        let out = self.run_with_input(cmd, commit.message.as_bytes())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        match gix::ObjectId::from_hex(stdout.trim().as_bytes()) {
            Ok(id) if out.status.success() => Ok(id),
            _ => Err(Error::SigningFailed(detail(&String::from_utf8_lossy(
                &out.stderr,
            )))),
        }
    }

    /// Run `cmd` with `input` on its standard input (no timeout: signing
    /// may wait for a passphrase).
    fn run_with_input(&self, mut cmd: Command, input: &[u8]) -> Result<Output, Error> {
        use std::io::Write as _;
        let mut child = cmd
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|err| Error::GitNotRunnable(err.to_string()))?;
        // Written from a thread: git may write a lot before reading it all.
        let mut stdin = child.stdin.take();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            if let Some(stdin) = stdin.as_mut() {
                // A git that exits early closes the pipe; its stderr says why.
                let _ = stdin.write_all(&input);
            }
        });
        let out = child
            .wait_with_output()
            .map_err(|err| Error::GitNotRunnable(err.to_string()));
        let _ = writer.join();
        out
    }

    /// `git config --local KEY VALUE`: set one value, replacing it.
    pub fn config_set(&self, key: &str, value: &str) -> Result<(), Error> {
        self.config(&["config", "--local", "--", key, value])
    }

    /// `git config --local --add KEY VALUE`: one more value of a multi-valued
    /// key.
    pub fn config_add(&self, key: &str, value: &str) -> Result<(), Error> {
        self.config(&["config", "--local", "--add", "--", key, value])
    }

    fn config(&self, args: &[&str]) -> Result<(), Error> {
        let out = self.run(args)?;
        if out.status.success() {
            return Ok(());
        }
        Err(Error::GitFailed {
            what: format!("git {}", args.join(" ")),
            detail: detail(&String::from_utf8_lossy(&out.stderr)),
        })
    }
}

/// `git` with the environment every process gets (see the module comment),
/// before any repository is named.
impl Git {
    /// Start `git gc --auto --quiet` and leave it running: what `git
    /// commit` runs after a commit (see [`crate::maintenance`]). Its output
    /// goes nowhere and nothing waits for it; in a process group of its own,
    /// a hook's timeout or a Ctrl+C aimed at us does not stop it halfway.
    pub fn gc_auto_in_background(&self) -> Result<(), Error> {
        let mut cmd = self.command();
        cmd.args(["gc", "--auto", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        // Not waited for: when we exit first, init reaps it.
        cmd.spawn()
            .map(drop)
            .map_err(|err| Error::GitNotRunnable(err.to_string()))
    }
}

fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--no-pager")
        .arg("-c")
        .arg("core.fsmonitor=false")
        .env("LC_ALL", "C")
        .env("LANGUAGE", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .env("PAGER", "cat")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// `git --version`, as git prints it (`git version 2.47.3`), of the git on
/// PATH that push and fetch run.
pub fn version() -> Result<String, Error> {
    let out = git()
        .arg("--version")
        .output()
        .map_err(|err| Error::GitNotRunnable(err.to_string()))?;
    if !out.status.success() {
        return Err(Error::GitFailed {
            what: "'git --version'".into(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A time as git's internal date format, `SECONDS +HHMM`, which
/// `GIT_AUTHOR_DATE` and `GIT_COMMITTER_DATE` take as is.
fn raw_date(time: gix::date::Time) -> String {
    let sign = if time.offset < 0 { '-' } else { '+' };
    let offset = time.offset.unsigned_abs();
    format!(
        "{} {sign}{:02}{:02}",
        time.seconds,
        offset / 3600,
        offset % 3600 / 60
    )
}

/// The porcelain status line for `dst`: its flag and its summary
/// (`[rejected] (fetch first)`).
fn porcelain_status<'a>(stdout: &'a str, dst: &str) -> Option<(char, &'a str)> {
    stdout.lines().find_map(|line| {
        let mut fields = line.splitn(3, '\t');
        let flag = fields.next()?.chars().next()?;
        let (_, to) = fields.next()?.split_once(':')?;
        (to == dst).then(|| (flag, fields.next().unwrap_or_default()))
    })
}

/// A `!` porcelain line as an error: `[rejected]` means the remote moved
/// (fetch and integrate first); `[remote rejected]` or `[remote failure]`
/// means the remote does not accept the ref at all.
fn rejection(remote: &str, refname: &str, summary: &str, stderr: &str) -> Error {
    let reason = summary
        .split_once('(')
        .map_or(summary, |(_, rest)| rest.trim_end_matches(')'))
        .trim()
        .to_string();
    if summary.starts_with("[rejected]") {
        return Error::PushRejected {
            remote: remote.into(),
            refname: refname.into(),
            reason,
        };
    }
    // What a server hook said goes with the refusal: it is the why.
    let said: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("remote:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Error::PushRefused {
        remote: remote.into(),
        refname: refname.into(),
        reason: if said.is_empty() {
            reason
        } else {
            format!("{reason}: {}", said.join(" "))
        },
    }
}

/// A failed command with no per-ref status: the remote is unreachable, or
/// something else went wrong that git explained on stderr.
fn failure(what: &str, remote: &str, stderr: &str) -> Error {
    let detail = detail(stderr);
    if UNREACHABLE.iter().any(|m| stderr.contains(m)) {
        Error::RemoteUnreachable {
            remote: remote.into(),
            detail,
        }
    } else {
        Error::GitFailed {
            what: what.into(),
            detail,
        }
    }
}

/// git's stderr as one line: its messages without `fatal:`/`error:`
/// prefixes, hints and boilerplate.
fn detail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .filter(|l| !BOILERPLATE.iter().any(|b| l.contains(b)))
        .map(|l| {
            l.strip_prefix("fatal: ")
                .or_else(|| l.strip_prefix("error: "))
                .unwrap_or(l)
        })
        .take(4)
        .collect();
    if lines.is_empty() {
        "git printed no reason".into()
    } else {
        lines.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_lines_are_matched_by_destination() {
        let out = "To ../r.git\n*\trefs/heads/main:refs/heads/main\t[new branch]\n!\trefs/notes/session:refs/notes/session\t[rejected] (fetch first)\nDone\n";
        assert_eq!(
            porcelain_status(out, "refs/heads/main"),
            Some(('*', "[new branch]"))
        );
        assert_eq!(
            porcelain_status(out, "refs/notes/session"),
            Some(('!', "[rejected] (fetch first)"))
        );
        assert_eq!(porcelain_status(out, "refs/heads/other"), None);
    }

    #[test]
    fn rejections_are_told_apart_from_refusals() {
        let stale = rejection(
            "origin",
            "refs/notes/session",
            "[rejected] (non-fast-forward)",
            "",
        );
        assert!(
            matches!(&stale, Error::PushRejected { reason, .. } if reason == "non-fast-forward"),
            "{stale:?}"
        );
        let refused = rejection(
            "origin",
            "refs/notes/session",
            "[remote rejected] (pre-receive hook declined)",
            "remote: notes not allowed        \nerror: failed to push some refs to 'x'\n",
        );
        assert!(
            matches!(&refused, Error::PushRefused { reason, .. }
                if reason == "pre-receive hook declined: notes not allowed"),
            "{refused:?}"
        );
    }

    #[test]
    fn connection_failures_read_as_unreachable() {
        let stderr = "fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: errno=Connection refused\n\n";
        let err = failure("git push to 'x'", "x", stderr);
        assert!(
            matches!(&err, Error::RemoteUnreachable { detail, .. }
                if detail == "unable to connect to 127.0.0.1: 127.0.0.1[0: 127.0.0.1]: errno=Connection refused"),
            "{err:?}"
        );
        let other = failure("git push to 'x'", "x", "fatal: bad object abc\n");
        assert!(matches!(other, Error::GitFailed { .. }), "{other:?}");
    }
}
