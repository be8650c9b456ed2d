//! `git session demo`: the whole story, start to resume on a fresh clone,
//! played for real in a scratch directory.
//!
//! Every step is a real process: this same binary (`current_exe`) and the
//! `git` on PATH, each printed as a `$ …` line followed by its output. They
//! run in a temporary directory with an environment of their own (no global
//! or system git config, a demo identity, HOME inside the directory, no
//! inherited `GIT_*` variables, a ceiling so no repository outside is ever
//! discovered), so neither the user's configuration nor their repositories
//! take part. The directory is removed at the end, also when a step fails
//! and when Ctrl+C (or SIGTERM, SIGHUP) ends the demo early.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context as _;

use crate::color::{Color, Style};
use crate::commands::Io;

/// Show how git-session works, in a scratch repository that is removed at
/// the end.
///
/// Builds a repository and a bare "remote" in a temporary directory, then
/// walks a whole session, printing each command and its output: start a
/// session, edit files, checkpoint what is done and still to do, push,
/// throw the clone away as a cancelled sandbox would, clone afresh, and
/// resume with the "Continue work on branch …" prompt. Your own
/// repositories and git configuration are not touched.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  git session demo\n  git session demo | less -R")]
pub struct Args {}

/// The branch the story works on.
const BRANCH: &str = "feat/dark-mode";

pub fn run(_args: Args, io: &mut Io<'_>) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("could not find this program's own path")?;
    // Ctrl+C (SIGINT), SIGTERM, SIGHUP: noted here, so the directory is
    // removed before the demo dies of the signal (main leaves the dying to
    // us for this command; see `Cli::signal_mode`).
    let caught = Arc::new(AtomicUsize::new(0));
    for signal in TERMINATING {
        signal_hook::flag::register_usize(signal, Arc::clone(&caught), signal as usize)
            .context("could not watch for Ctrl+C")?;
    }
    let dir = tempfile::Builder::new()
        .prefix("git-session-demo")
        .tempdir()
        .context("could not create a temporary directory for the demo")?;
    let demo = Demo {
        root: dir.path().to_path_buf(),
        exe,
        color: io.color,
        caught: Arc::clone(&caught),
    };
    let result = demo.story(io);
    // Removed whatever happened; a failed removal is worth saying, but the
    // step that failed, if any, is the error that matters.
    let path = dir.path().to_path_buf();
    let removed = dir.close();
    let signal = caught.load(Ordering::SeqCst);
    if signal != 0 {
        let _ = io.out.flush();
        let _ = writeln!(io.err, "demo: interrupted; the demo directory was removed");
        let _ = io.err.flush();
        let signal = i32::try_from(signal).unwrap_or(signal_hook::consts::SIGINT);
        let _ = signal_hook::low_level::emulate_default_handler(signal);
        // Not reached where the signal terminates, as they all do.
        return Err(crate::error::Error::Reported(130).into());
    }
    result?;
    removed.with_context(|| format!("could not remove the demo directory '{}'", path.display()))?;
    Ok(())
}

/// The signals that end a demo early.
#[cfg(unix)]
const TERMINATING: [i32; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
];
#[cfg(not(unix))]
const TERMINATING: [i32; 2] = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];

struct Demo {
    root: PathBuf,
    exe: PathBuf,
    color: Color,
    /// The signal that arrived, 0 while none did.
    caught: Arc<AtomicUsize>,
}

impl Demo {
    fn story(&self, io: &mut Io<'_>) -> anyhow::Result<()> {
        let home = self.root.join("home");
        std::fs::create_dir_all(home.join(".config")).context("could not create the demo home")?;

        self.say(
            io,
            &[
                "git-session demo: one coding session, from start to resume on a fresh clone.",
                "Everything runs in a scratch directory that is removed at the end;",
                "your repositories and your git configuration are not touched.",
            ],
        )?;
        self.say(
            io,
            &["A project, and a bare repository standing in for its remote (GitHub, say)."],
        )?;
        self.git(
            io,
            ".",
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        )?;
        self.git(io, ".", &["init", "-q", "-b", "main", "project"])?;
        self.cd(io, "project")?;
        self.write(
            io,
            "project",
            "index.html",
            "<button id=\"theme\">Theme</button>\n",
        )?;
        self.git(io, "project", &["add", "-A"])?;
        self.git(io, "project", &["commit", "-q", "-m", "initial commit"])?;
        self.git(io, "project", &["remote", "add", "origin", "../origin.git"])?;
        self.git(io, "project", &["push", "-q", "-u", "origin", "main"])?;
        self.session(io, "project", &["init"])?;

        self.say(
            io,
            &["1. Start a session: a branch, the task, the first items to do."],
        )?;
        self.session(
            io,
            "project",
            &[
                "start",
                "-b",
                BRANCH,
                "--todo",
                "toggle button",
                "--todo",
                "persist the choice",
                "Add a dark mode",
            ],
        )?;

        self.say(
            io,
            &[
                "2. Work (an agent edits files), then checkpoint: the whole work tree is",
                "   committed, with what is done, in progress and decided.",
            ],
        )?;
        self.write(
            io,
            "project",
            "theme.css",
            ":root { --bg: white; }\n.dark { --bg: #111; }\n",
        )?;
        self.write(
            io,
            "project",
            "index.html",
            "<button id=\"theme\" onclick=\"document.body.classList.toggle('dark')\">Theme</button>\n",
        )?;
        self.session(
            io,
            "project",
            &[
                "checkpoint",
                "--done",
                "toggle button",
                "--doing",
                "persist the choice",
                "--decision",
                "CSS variables, not a second stylesheet",
            ],
        )?;
        self.session(io, "project", &["show"])?;

        self.say(
            io,
            &["3. Push the branch and its session notes: the work now outlives this machine."],
        )?;
        self.session(io, "project", &["push"])?;

        self.say(
            io,
            &["4. The session is cancelled: its sandbox, and this clone with it, is gone."],
        )?;
        self.shown(io, "cd .. && rm -rf project")?;
        std::fs::remove_dir_all(self.root.join("project"))
            .context("could not remove the demo clone")?;

        self.say(
            io,
            &["5. A new session, on another machine: clone, switch to the branch, resume."],
        )?;
        self.git(io, ".", &["clone", "-q", "origin.git", "fresh"])?;
        self.cd(io, "fresh")?;
        self.git(io, "fresh", &["switch", "-q", BRANCH])?;
        self.session(io, "fresh", &["fetch"])?;
        self.session(io, "fresh", &["resume"])?;

        self.say(
            io,
            &[
                "That prompt is what the next session (an agent, or you) starts from.",
                "In your own repository: git session start, checkpoint, push, resume;",
                "'git session doctor' checks the setup. The scratch directory is removed now.",
            ],
        )?;
        Ok(())
    }

    /// Stop the story once a signal arrived.
    fn interrupted(&self) -> anyhow::Result<()> {
        if self.caught.load(Ordering::SeqCst) != 0 {
            anyhow::bail!("interrupted");
        }
        Ok(())
    }

    /// Commentary, as shell comments.
    fn say(&self, io: &mut Io<'_>, lines: &[&str]) -> anyhow::Result<()> {
        writeln!(io.out)?;
        for line in lines {
            writeln!(io.out, "# {line}")?;
        }
        Ok(())
    }

    /// A `$ …` line for something done in-process (a file edit, `cd`).
    fn shown(&self, io: &mut Io<'_>, line: &str) -> anyhow::Result<()> {
        writeln!(
            io.out,
            "{}",
            self.color.out(Style::Heading, &format!("$ {line}"))
        )?;
        Ok(())
    }

    fn cd(&self, io: &mut Io<'_>, dir: &str) -> anyhow::Result<()> {
        self.shown(io, &format!("cd {dir}"))
    }

    /// Write a file of the story, shown as the shell command that would.
    fn write(&self, io: &mut Io<'_>, dir: &str, file: &str, text: &str) -> anyhow::Result<()> {
        self.shown(io, &format!("cat > {file} <<'EOF'"))?;
        write!(io.out, "{text}")?;
        writeln!(io.out, "EOF")?;
        let path = self.root.join(dir).join(file);
        std::fs::write(&path, text).with_context(|| format!("could not write '{}'", path.display()))
    }

    fn git(&self, io: &mut Io<'_>, dir: &str, args: &[&str]) -> anyhow::Result<()> {
        let mut shown = String::from("git");
        for arg in args {
            shown.push(' ');
            shown.push_str(&quote(arg));
        }
        self.step(io, &shown, Path::new("git"), dir, args)
    }

    fn session(&self, io: &mut Io<'_>, dir: &str, args: &[&str]) -> anyhow::Result<()> {
        let mut shown = String::from("git session");
        for arg in args {
            shown.push(' ');
            shown.push_str(&quote(arg));
        }
        // The output lands on our stdout: colour it as ours would be.
        let color = if self.color.out {
            "--color=always"
        } else {
            "--color=never"
        };
        let mut all = vec![color];
        all.extend_from_slice(args);
        self.step(io, &shown, &self.exe, dir, &all)
    }

    /// Print `$ shown`, run `program args` in `dir`, print what it printed.
    fn step(
        &self,
        io: &mut Io<'_>,
        shown: &str,
        program: &Path,
        dir: &str,
        args: &[&str],
    ) -> anyhow::Result<()> {
        self.interrupted()?;
        self.shown(io, shown)?;
        let output = self
            .command(program, &self.root.join(dir))
            .args(args)
            .output()
            .with_context(|| format!("could not run '{}'", program.display()))?;
        io.out.write_all(&output.stdout)?;
        io.out.write_all(&output.stderr)?;
        // Ctrl+C reaches the step too, which then fails: that is not the
        // step's fault.
        self.interrupted()?;
        if !output.status.success() {
            return Err(crate::error::Error::GitFailed {
                what: format!("the demo step '{shown}'"),
                detail: format!("{}; the demo directory was removed", output.status),
            }
            .into());
        }
        Ok(())
    }

    /// A child process with the demo's own environment (see the module
    /// comment).
    fn command(&self, program: &Path, dir: &Path) -> Command {
        let home = self.root.join("home");
        let mut cmd = Command::new(program);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("GIT_") {
                cmd.env_remove(&key);
            }
        }
        let null: &OsStr = if cfg!(windows) {
            OsStr::new("NUL")
        } else {
            OsStr::new("/dev/null")
        };
        cmd.current_dir(dir)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("GIT_CONFIG_GLOBAL", null)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CEILING_DIRECTORIES", &self.root)
            .env("GIT_AUTHOR_NAME", "Demo User")
            .env("GIT_AUTHOR_EMAIL", "demo@example.com")
            .env("GIT_COMMITTER_NAME", "Demo User")
            .env("GIT_COMMITTER_EMAIL", "demo@example.com")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_PAGER", "cat")
            .env("PAGER", "cat")
            .stdin(Stdio::null());
        cmd
    }
}

/// An argument as a shell would need it typed.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_only_when_needed() {
        assert_eq!(quote("feat/dark-mode"), "feat/dark-mode");
        assert_eq!(quote("toggle button"), "'toggle button'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
