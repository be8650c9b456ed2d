//! The one place that runs the user's `git` binary: push, fetch, git
//! config writes, signed commits, the patch text of `diff`, and its
//! version for `doctor`.
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
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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

    /// Give up on any git process after `timeout` (none: no limit),
    /// killing it.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Git {
        self.timeout = timeout;
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
        let child = cmd
            .spawn()
            .map_err(|err| Error::GitNotRunnable(err.to_string()))?;
        wait(child, self.timeout)
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
        self.push_with(remote, src, dst, set_upstream, None)
    }

    /// `git push --force-with-lease=DST:EXPECTED REMOTE SRC:DST`: replace
    /// the remote's DST only if it is still at `expected`, which the remote
    /// checks as it takes the push; anything else there (someone else's
    /// push) is rejected as `stale info` and left alone.
    pub fn push_replacing(
        &self,
        remote: &str,
        src: &str,
        dst: &str,
        expected: gix::ObjectId,
        set_upstream: bool,
    ) -> Result<Pushed, Error> {
        self.push_with(remote, src, dst, set_upstream, Some(expected))
    }

    fn push_with(
        &self,
        remote: &str,
        src: &str,
        dst: &str,
        set_upstream: bool,
        lease: Option<gix::ObjectId>,
    ) -> Result<Pushed, Error> {
        let mut args = vec!["push".to_string(), "--porcelain".to_string()];
        if set_upstream {
            args.push("--set-upstream".into());
        }
        if let Some(expected) = lease {
            // Never a bare `--force`: the lease names the one value the
            // remote may hold.
            args.push(format!("--force-with-lease={dst}:{expected}"));
        }
        // `--` so a remote name can never be read as an option.
        args.extend(["--".into(), remote.into(), format!("{src}:{dst}")]);
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

    /// `git fetch REMOTE SRC:DST`, not forced: a local ref that is not an
    /// ancestor of the remote's is kept (and the fetch reports it).
    pub fn fetch_unforced(&self, remote: &str, src: &str, dst: &str) -> Result<(), Error> {
        let refspec = format!("{src}:{dst}");
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
            return Ok(());
        }
        Err(failure(
            &format!("git fetch from '{remote}'"),
            remote,
            &String::from_utf8_lossy(&out.stderr),
        ))
    }

    /// `git fetch REMOTE` with the remote's configured refspecs (its
    /// branches, and its notes after `git session init`), no tags.
    pub fn fetch_remote(&self, remote: &str) -> Result<(), Error> {
        let out = self.run([
            "fetch",
            "--no-tags",
            "--no-write-fetch-head",
            "--quiet",
            "--",
            remote,
        ])?;
        if out.status.success() {
            return Ok(());
        }
        Err(failure(
            &format!("git fetch from '{remote}'"),
            remote,
            &String::from_utf8_lossy(&out.stderr),
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

    /// `git diff ARGS` for a person or a program: run in `cwd` with the
    /// work tree at `workdir`, so that pathspecs mean what they mean to
    /// the user's own git there; returns what git printed. The user's diff
    /// settings apply (algorithm, drivers, textconv, renames, prefixes);
    /// colour is git's, mapped onto the few sequences the terminal filter
    /// lets through (see [`crate::terminal`]) so that file contents still
    /// cannot reach the terminal raw.
    pub fn diff(
        &self,
        workdir: &Path,
        cwd: &Path,
        color: bool,
        args: &[OsString],
    ) -> Result<Vec<u8>, Error> {
        let mut cmd = self.command();
        let mut work_tree = OsString::from("--work-tree=");
        work_tree.push(workdir);
        cmd.arg(work_tree).current_dir(cwd);
        if color {
            for (key, value) in DIFF_PALETTE {
                cmd.arg("-c").arg(format!("{key}={value}"));
            }
        }
        cmd.arg("diff")
            .arg(if color {
                "--color=always"
            } else {
                "--color=never"
            })
            .args(args);
        let out = cmd
            .output()
            .map_err(|err| Error::GitNotRunnable(err.to_string()))?;
        if !out.status.success() {
            return Err(Error::GitFailed {
                what: "git diff".into(),
                detail: detail(&String::from_utf8_lossy(&out.stderr)),
            });
        }
        Ok(out.stdout)
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

/// How long, after git exits, its output may take to end: a process git
/// left behind (an ssh control master) can hold the pipes open for good.
const EOF_GRACE: Duration = Duration::from_secs(1);

/// Most of each stream kept; the rest is read and dropped. What git prints
/// for one ref is a few lines, but a remote's hook may print anything.
const MAX_OUTPUT: usize = 1 << 20;

/// Wait for `child`, killing it after `timeout`. Its stdout and stderr are
/// read on their own threads all along, so however much git or the
/// remote prints, git never blocks on a full pipe while we wait.
fn wait(mut child: Child, timeout: Option<Duration>) -> Result<Output, Error> {
    let stdout = Drain::start(child.stdout.take());
    let stderr = Drain::start(child.stderr.take());
    let status = match timeout {
        None => child
            .wait()
            .map_err(|err| Error::GitNotRunnable(err.to_string()))?,
        Some(timeout) => {
            let deadline = Instant::now() + timeout;
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => break status,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        // The readers end when the pipes close; not waited
                        // for, since a process git started may hold them.
                        return Err(Error::GitTimedOut(timeout));
                    }
                }
            }
        }
    };
    let until = Instant::now() + EOF_GRACE;
    Ok(Output {
        status,
        stdout: stdout.finish(until),
        stderr: stderr.finish(until),
    })
}

/// One output stream of a child, read to its end on a thread.
struct Drain {
    data: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    done: std::sync::mpsc::Receiver<()>,
}

impl Drain {
    fn start(pipe: Option<impl Read + Send + 'static>) -> Drain {
        let data = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (sender, done) = std::sync::mpsc::channel();
        if let Some(mut pipe) = pipe {
            let data = std::sync::Arc::clone(&data);
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n @ 1..) = pipe.read(&mut buf) {
                    let mut data = data.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    let room = MAX_OUTPUT.saturating_sub(data.len());
                    data.extend_from_slice(&buf[..n.min(room)]);
                }
                let _ = sender.send(());
            });
        }
        Drain { data, done }
    }

    /// What was read, once the stream ended or `until` passed.
    fn finish(self, until: Instant) -> Vec<u8> {
        let _ = self
            .done
            .recv_timeout(until.saturating_duration_since(Instant::now()));
        let mut data = self
            .data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut *data)
    }
}
/// git's diff colours as the SGR sequences of [`crate::color::Style`]:
/// headers bold, hunk lines yellow, removals bold red, additions green,
/// and no moved-line colours (their sequences are not in the palette).
const DIFF_PALETTE: [(&str, &str); 8] = [
    ("color.diff.meta", "bold"),
    ("color.diff.frag", "yellow"),
    ("color.diff.func", "normal"),
    ("color.diff.old", "bold red"),
    ("color.diff.new", "green"),
    ("color.diff.whitespace", "bold red"),
    ("color.diff.commit", "yellow"),
    ("diff.colorMoved", "no"),
];

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

    /// A git that prints more than a pipe holds, under a time limit: the
    /// old wait polled for its exit without reading, so git blocked on the
    /// full pipe until it was killed as timed out.
    #[test]
    fn talkative_git_does_not_fill_the_pipe_and_hang() {
        let dir = tempfile::tempdir().expect("temp dir");
        let status = git()
            .args(["init", "-q"])
            .arg(dir.path())
            .status()
            .expect("git init");
        assert!(status.success());
        let runner = Git {
            git_dir: dir.path().join(".git"),
            timeout: Some(Duration::from_secs(20)),
        };
        let started = Instant::now();
        let out = runner
            .run([
                "-c",
                "alias.noisy=!yes output | head -c 300000; yes error | head -c 300000 >&2",
                "noisy",
            ])
            .expect("finishes");
        assert!(out.status.success());
        assert_eq!(out.stdout.len(), 300_000);
        assert_eq!(out.stderr.len(), 300_000);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

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
