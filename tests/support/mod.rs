//! Test harness: temporary repositories with git isolated from the machine.
//!
//! Every `git` and `git-session` process started here gets the same controlled
//! environment: no global or system config, a fixed identity and fixed dates,
//! `LC_ALL=C`, `TZ=UTC`, and a private `HOME`, so a developer's own setup can
//! never change a result.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_git-session");

/// Fixed date used for every author and committer.
pub const DATE: &str = "2026-01-02T03:04:05Z";

/// Apply the isolated environment to a command.
pub fn isolate(cmd: &mut Command, home: &Path) {
    for (key, _) in std::env::vars_os() {
        let key_str = key.to_string_lossy();
        if key_str.starts_with("GIT_") || key_str == "NO_COLOR" || key_str.starts_with("XDG_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("HOME", home)
        // Where Windows programs (and git-session there) find the home.
        .env("USERPROFILE", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_AUTHOR_DATE", DATE)
        .env("GIT_COMMITTER_DATE", DATE)
        .env("GIT_EDITOR", ":")
        .env("GIT_PAGER", "cat")
        .env("PAGER", "cat")
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .env("TZ", "UTC")
        // The untracked cache trusts every directory listing it made, so
        // that each suite runs with the cache warm wherever a scan came
        // before (this machine's timestamps are finer than its writes).
        .env("GIT_SESSION_UNTRACKED_RACY_SECS", "0")
        .stdin(Stdio::null());
}

/// A temporary directory holding one or more repositories, with its own HOME.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("git-session-test")
            .tempdir()
            .expect("create temp dir");
        std::fs::create_dir_all(dir.path().join("home/.config")).expect("create home");
        Sandbox { dir }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `git init -b main` a new repository at `rel`.
    pub fn init(&self, rel: &str) -> Repo {
        let path = self.path(rel);
        std::fs::create_dir_all(&path).expect("create repo dir");
        let repo = Repo {
            path,
            home: self.home(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A repository handle for an existing directory (a clone, say).
    pub fn repo(&self, rel: &str) -> Repo {
        Repo {
            path: self.path(rel),
            home: self.home(),
        }
    }

    /// Run git in the sandbox root (for `git clone`, `git init --bare`).
    pub fn git(&self, args: &[&str]) -> String {
        let repo = Repo {
            path: self.dir.path().to_path_buf(),
            home: self.home(),
        };
        repo.git(args)
    }
}

/// One repository (usually a work tree) inside a sandbox.
#[derive(Clone, Debug)]
pub struct Repo {
    pub path: PathBuf,
    pub home: PathBuf,
}

impl Repo {
    pub fn git_command(&self) -> Command {
        let mut cmd = Command::new("git");
        isolate(&mut cmd, &self.home);
        cmd.current_dir(&self.path);
        cmd
    }

    /// Run git; panic with its stderr unless it succeeds; return stdout.
    pub fn git<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let out = self.git_command().args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {:?} failed in {}:\n{}",
            args.iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
            self.path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("git output is UTF-8")
    }

    /// Run git with `input` on stdin; panic unless it succeeds; return stdout.
    pub fn git_stdin<S: AsRef<OsStr>>(&self, args: &[S], input: impl AsRef<[u8]>) -> String {
        use std::io::Write as _;
        let mut child = self
            .git_command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn git");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_ref())
            .expect("write git's stdin");
        let out = child.wait_with_output().expect("wait for git");
        assert!(
            out.status.success(),
            "git {:?} failed:\n{}",
            args.iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run git and return the whole output, whatever the exit status.
    pub fn git_output<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.git_command().args(args).output().expect("run git")
    }

    pub fn session_command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        isolate(&mut cmd, &self.home);
        cmd.current_dir(&self.path);
        cmd
    }

    /// Run `git-session ARGS`, whatever the exit status.
    pub fn session<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.session_command()
            .args(args)
            .output()
            .expect("run git-session")
    }

    /// Run `git-session ARGS`; panic unless it succeeds; return stdout.
    pub fn session_ok<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let out = self.session(args);
        assert!(
            out.status.success(),
            "git-session {:?} failed (status {:?}):\nstdout:\n{}\nstderr:\n{}",
            args.iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("git-session output is UTF-8")
    }

    /// Run `git-session ARGS` with `input` on its standard input, as an
    /// agent runs a hook; whatever the exit status.
    pub fn session_stdin<S: AsRef<OsStr>>(&self, args: &[S], input: impl AsRef<[u8]>) -> Output {
        use std::io::Write as _;
        let mut child = self
            .session_command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn git-session");
        // A process that exits without reading closes the pipe; its output
        // says why.
        let _ = child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_ref());
        child.wait_with_output().expect("wait for git-session")
    }

    /// `git-session ARGS --json`, parsed.
    pub fn session_json<S: AsRef<OsStr>>(&self, args: &[S]) -> serde_json::Value {
        let mut all: Vec<&OsStr> = args.iter().map(|a| a.as_ref()).collect();
        all.push(OsStr::new("--json"));
        let out = self.session_ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{out}"))
    }

    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.path.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dirs");
        }
        std::fs::write(path, contents).expect("write file");
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path.join(rel)).expect("read file")
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", "-q", rev])
            .trim()
            .to_string()
    }

    /// Commit everything with git itself.
    pub fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
    }

    /// `git status --porcelain` output (untracked files included).
    pub fn status(&self) -> String {
        self.git(&["status", "--porcelain", "--untracked-files=all"])
    }

    /// Everything that identifies the repository's state for "nothing
    /// changed" assertions: HEAD, all refs, the index file bytes, and the
    /// status as git reports it.
    pub fn fingerprint(&self) -> Fingerprint {
        let git_dir = PathBuf::from(self.git(&["rev-parse", "--absolute-git-dir"]).trim());
        Fingerprint {
            head: self
                .git_output(&["rev-parse", "-q", "--verify", "HEAD"])
                .stdout,
            refs: self.git(&["for-each-ref", "--format=%(refname) %(objectname)"]),
            index: std::fs::read(git_dir.join("index")).ok(),
            status: self.status(),
        }
    }

    pub fn fsck(&self) {
        let out = self.git_output(&["fsck", "--strict", "--no-progress"]);
        assert!(
            out.status.success(),
            "git fsck --strict failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A repository's observable state, for asserting that a failed command left
/// it exactly as it was.
#[derive(Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub head: Vec<u8>,
    pub refs: String,
    pub index: Option<Vec<u8>>,
    pub status: String,
}

/// PATH with the directory of the binary under test first, as after
/// `cargo install`.
pub fn path_with_bin() -> std::ffi::OsString {
    let dir = Path::new(BIN).parent().expect("the binary has a directory");
    let mut paths = vec![dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).expect("join PATH")
}

/// Stdout and stderr of an output as one string, for error-message asserts.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What a command did, for a snapshot: its exit status, then stdout and
/// stderr, with what differs between machines and runs replaced (see
/// [`normalize`]).
pub fn transcript(out: &Output, sb: &Sandbox) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status
            .code()
            .map_or_else(|| "killed".to_string(), |c| c.to_string()),
        normalize(&String::from_utf8_lossy(&out.stdout), sb),
        normalize(&String::from_utf8_lossy(&out.stderr), sb)
    )
}

/// `text` with the sandbox's path as `[sandbox]`, the directory of the
/// binary under test as `[bin]`, git's version as `[version]`, and every
/// relative time (`3 months ago`, `just now`) as `[age]`, since the fixed
/// commit dates age with the clock.
pub fn normalize(text: &str, sb: &Sandbox) -> String {
    let mut text = text.to_string();
    let sandbox = sb.dir.path();
    let canonical = sandbox
        .canonicalize()
        .unwrap_or_else(|_| sandbox.to_path_buf());
    for path in [canonical.as_path(), sandbox] {
        text = text.replace(&path.display().to_string(), "[sandbox]");
    }
    if let Some(bin) = Path::new(BIN).parent() {
        text = text.replace(&bin.display().to_string(), "[bin]");
    }
    let version = git_version();
    if !version.is_empty() {
        text = text.replace(&format!("git {version}"), "git [version]");
    }
    normalize_ages(&text)
}

/// The version of the `git` on PATH: `2.47.3`.
fn git_version() -> String {
    let out = Command::new("git")
        .arg("--version")
        .output()
        .expect("run git --version");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .strip_prefix("git version ")
        .unwrap_or_default()
        .to_string()
}

/// Relative times as `[age]`, with the padding before them (a column in
/// `log`) folded to one space.
fn normalize_ages(text: &str) -> String {
    const UNITS: [&str; 7] = ["second", "minute", "hour", "day", "week", "month", "year"];
    let mut out = String::new();
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for fixed in ["just now", "in the future"] {
            if rest.starts_with(fixed) {
                out.push_str("[age]");
                rest = &rest[fixed.len()..];
                continue 'scan;
            }
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let starts_word = !out.ends_with(|c: char| c.is_ascii_alphanumeric());
        if digits > 0 && starts_word {
            let after = &rest[digits..];
            for unit in UNITS {
                for phrase in [format!(" {unit}s ago"), format!(" {unit} ago")] {
                    if after.starts_with(&phrase) {
                        let trimmed = out.trim_end_matches(' ').len();
                        if trimmed < out.len() {
                            out.truncate(trimmed);
                            out.push(' ');
                        }
                        out.push_str("[age]");
                        rest = &after[phrase.len()..];
                        continue 'scan;
                    }
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[test]
fn relative_times_are_normalized() {
    assert_eq!(
        normalize_ages("abc1234    11 months ago  manual\n(1 year ago, x) just now 12 items"),
        "abc1234 [age]  manual\n([age], x) [age] 12 items"
    );
}
