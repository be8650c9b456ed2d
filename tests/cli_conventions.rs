//! The conventions of a git tool: `demo` (the whole story, leaving nothing
//! behind), `--help` with examples, shell completions, man pages, `doctor`,
//! and colour that follows `--color`, `NO_COLOR` and git's `color.ui`.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory as _;
use git_session::cli::Cli;

use crate::support::{isolate, path_with_bin, text, Repo, Sandbox, BIN};

/// `git-session ARGS` in `dir` (not necessarily a repository).
fn session_in(sb: &Sandbox, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    isolate(&mut cmd, &sb.home());
    cmd.current_dir(dir)
        .args(args)
        .output()
        .expect("run git-session")
}

/// Entries of `dir` whose name starts with `prefix`.
fn entries_starting_with(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix))
        .collect()
}

#[test]
fn demo_tells_the_story_and_leaves_nothing_behind() {
    let sb = Sandbox::new();
    let tmp = sb.path("tmp");
    std::fs::create_dir_all(&tmp).expect("create the temp dir");
    let mut cmd = Command::new(BIN);
    isolate(&mut cmd, &sb.home());
    // Run from a repository: the demo must not touch it.
    let mine = sb.init("mine");
    mine.write("a.txt", "a\n");
    mine.commit_all("initial");
    let before = mine.fingerprint();
    let out = cmd
        .current_dir(&mine.path)
        .env("TMPDIR", &tmp)
        .arg("demo")
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    for step in [
        "$ git session start -b feat/dark-mode",
        "$ git session checkpoint --done 'toggle button'",
        "$ git session push",
        "rm -rf project",
        "$ git clone -q origin.git fresh",
        "$ git session resume",
        "Continue work on branch `feat/dark-mode`.",
        "- toggle button",
        "- #2 persist the choice",
    ] {
        assert!(stdout.contains(step), "missing {step:?} in:\n{stdout}");
    }
    assert!(!stdout.contains('\x1b'), "no colour into a pipe");
    assert_eq!(
        entries_starting_with(&tmp, "git-session-demo"),
        Vec::<String>::new(),
        "the demo directory must be removed"
    );
    assert_eq!(
        mine.fingerprint(),
        before,
        "the user's repository is untouched"
    );
}

#[test]
fn demo_cleans_up_when_a_step_fails() {
    let sb = Sandbox::new();
    let tmp = sb.path("tmp");
    std::fs::create_dir_all(&tmp).expect("create the temp dir");
    // A `git` that always fails, first on PATH.
    let bin = sb.path("fake-bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let fake = bin.join("git");
    std::fs::write(&fake, "#!/bin/sh\necho 'fake git fails' >&2\nexit 7\n").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let mut cmd = Command::new(BIN);
    isolate(&mut cmd, &sb.home());
    let out = cmd
        .current_dir(sb.path(""))
        .env("TMPDIR", &tmp)
        .env("PATH", &bin)
        .arg("demo")
        .output()
        .expect("run the demo");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("error: the demo step '"),
        "{}",
        text(&out)
    );
    assert_eq!(
        entries_starting_with(&tmp, "git-session-demo"),
        Vec::<String>::new()
    );
}

/// Issue 21, item 17: `demo` interrupted with Ctrl+C left its scratch
/// directory behind, every time. The terminal's Ctrl+C goes to the whole
/// foreground process group: the demo and the step it runs.
#[cfg(unix)]
#[test]
fn demo_interrupted_with_ctrl_c_leaves_its_scratch_directory() {
    use std::io::{BufRead as _, BufReader};
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
    let sb = Sandbox::new();
    let tmp = sb.path("tmp");
    std::fs::create_dir_all(&tmp).expect("create the temp dir");
    // A `git` whose clone takes its time, so the signal lands mid-story.
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .expect("find git")
            .stdout,
    )
    .expect("a path");
    let bin = sb.path("slow-bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let slow = bin.join("git");
    let started = sb.path("clone-started");
    std::fs::write(
        &slow,
        format!(
            "#!/bin/sh\n[ \"$1\" = clone ] && touch '{}' && sleep 30\nexec {} \"$@\"\n",
            started.display(),
            real.trim()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut cmd = Command::new(BIN);
    isolate(&mut cmd, &sb.home());
    let mut child = cmd
        .current_dir(sb.path(""))
        .env("TMPDIR", &tmp)
        .env("PATH", path)
        .arg("demo")
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the demo");
    let stdout = child.stdout.take().expect("piped");
    let mut seen = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read the demo's output");
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("$ git clone") {
            break;
        }
    }
    assert!(seen.contains("$ git clone"), "{seen}");
    let waited = std::time::Instant::now();
    while !started.exists() {
        assert!(
            waited.elapsed().as_secs() < 20,
            "the clone step never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(entries_starting_with(&tmp, "git-session-demo").len(), 1);
    let interrupted = std::time::Instant::now();
    let group = format!("-{}", child.id());
    let killed = Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.wait().expect("wait for the demo");
    assert_eq!(
        status.signal(),
        Some(2),
        "it dies of the signal: {status:?}"
    );
    assert!(
        interrupted.elapsed().as_secs() < 10,
        "the step was interrupted too"
    );
    assert_eq!(
        entries_starting_with(&tmp, "git-session-demo"),
        Vec::<String>::new(),
        "the scratch directory is removed"
    );
}

#[test]
fn help_has_examples_at_the_top_and_for_every_subcommand() {
    let sb = Sandbox::new();
    let top = session_in(&sb, &sb.path(""), &["-h"]);
    assert!(top.status.success());
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(top.contains("Examples:"), "{top}");
    assert!(top.contains("git session demo"), "{top}");
    assert!(top.contains("--color"), "{top}");
    let cli = Cli::command();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let help = sub
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(help.contains("Examples:"), "'{name}' has no examples");
        let out = session_in(&sb, &sb.path(""), &[name, "--help"]);
        assert!(out.status.success(), "{name} --help: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Examples:"),
            "{name} --help"
        );
    }
}

#[test]
fn completions_generate_for_every_shell() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = session_in(&sb, &sb.path(""), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.len() > 1000, "{shell}: too short:\n{script}");
        for word in ["checkpoint", "finish", "resume"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = session_in(&sb, &sb.path(""), &["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

/// The bash script completes subcommands and their options, both as
/// `git-session …` and through the `_git_session` function git's own bash
/// completion calls for `git session …`.
#[test]
fn bash_completion_completes_subcommands_and_their_options() {
    if Command::new("bash").arg("-c").arg("true").status().is_err() {
        eprintln!("bash not found: skipped");
        return;
    }
    let sb = Sandbox::new();
    let out = session_in(&sb, &sb.path(""), &["completions", "bash"]);
    let script = sb.path("git-session.bash");
    std::fs::write(&script, &out.stdout).expect("write the script");
    let probe = format!(
        r#"
source '{script}'
complete_words() {{
    COMP_WORDS=("$@"); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMPREPLY=()
    _git__session "${{COMP_WORDS[0]}}" "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
    echo "${{COMPREPLY[*]}}"
}}
complete_words git-session chec
complete_words git-session finish --sq
# As git's completion calls it: words/cword/cur of 'git session finish --p'.
words=(git session finish --p); cword=3; cur=--p; COMPREPLY=()
_git_session
echo "${{COMPREPLY[*]}}"
"#,
        script = script.display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(probe)
        .output()
        .expect("run bash");
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines,
        vec!["checkpoint", "--squash", "--pr --push"],
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 21, item 18: the man page synopsis showed `[-C ]` and `[--done]`
/// without their value names.
#[test]
fn man_synopsis_shows_options_without_their_value_names() {
    let sb = Sandbox::new();
    let out = session_in(&sb, &sb.path(""), &["man"]);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains("[\\-C DIR]..."), "{page}");
    assert!(page.contains("[\\-\\-color[=WHEN]]"), "{page}");
    let dir = sb.path("man1");
    session_in(
        &sb,
        &sb.path(""),
        &["man", "--dir", dir.to_str().expect("UTF-8")],
    );
    let page = std::fs::read_to_string(dir.join("git-session-checkpoint.1")).expect("read");
    for spelled in [
        "[\\-m|\\-\\-message SUMMARY]",
        "[\\-\\-done ITEM]...",
        "[\\-\\-push [REMOTE]]",
    ] {
        assert!(page.contains(spelled), "{spelled} not in:\n{page}");
    }
    assert!(
        !page.contains("\\-C DIR"),
        "global options are on git-session(1) only"
    );
}

/// Issue 21, item 18: `-C /nonexistent` said "not a git repository" (git:
/// "cannot change to"), and a repeated `-C` was refused (git combines them).
#[test]
fn dash_c_to_a_missing_directory_says_not_a_git_repository() {
    let sb = Sandbox::new();
    let repo = sb.init("work/repo");
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    let missing = sb.path("missing");
    let out = session_in(
        &sb,
        &sb.path(""),
        &["-C", missing.to_str().expect("UTF-8"), "status"],
    );
    assert_eq!(out.status.code(), Some(1));
    let git = repo.git_output(&["-C", missing.to_str().expect("UTF-8"), "status"]);
    let theirs = String::from_utf8_lossy(&git.stderr);
    let ours = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        ours.trim().strip_prefix("error: "),
        theirs.trim().strip_prefix("fatal: "),
        "git's words"
    );
    // -C work -C repo is work/repo, as in git; an empty one changes nothing.
    let out = session_in(
        &sb,
        &sb.path(""),
        &["-C", "work", "-C", "", "-C", "repo", "status"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("On branch main"));
}

#[test]
fn man_pages_generate() {
    let sb = Sandbox::new();
    let out = session_in(&sb, &sb.path(""), &["man"]);
    assert!(out.status.success(), "{}", text(&out));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH git-session 1"),
        "{page}"
    );
    assert!(page.contains(".TH git-session 1"), "{page}");
    assert!(page.contains("checkpoint"), "{page}");

    let dir = sb.path("man/man1");
    let out = session_in(
        &sb,
        &sb.path(""),
        &["man", "--dir", dir.to_str().expect("UTF-8")],
    );
    assert!(out.status.success(), "{}", text(&out));
    for name in [
        "git-session.1",
        "git-session-checkpoint.1",
        "git-session-finish.1",
        "git-session-doctor.1",
        "git-session-hook-install.1",
    ] {
        let file: PathBuf = dir.join(name);
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(text.contains(".TH"), "{name}");
    }
    let checkpoint = std::fs::read_to_string(dir.join("git-session-checkpoint.1")).expect("read");
    assert!(checkpoint.contains("\\-\\-done"), "{checkpoint}");
}

/// A repository with an identity in its config, as a user would have.
fn repo_with_identity(sb: &Sandbox) -> Repo {
    let repo = sb.init("work");
    repo.git(&["config", "user.name", "Doc Tor"]);
    repo.git(&["config", "user.email", "doc@example.com"]);
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    repo
}

fn doctor(repo: &Repo, args: &[&str]) -> std::process::Output {
    let mut cmd = repo.session_command();
    cmd.env("PATH", path_with_bin());
    cmd.arg("doctor").args(args).output().expect("run doctor")
}

/// Issue 21, item 17: `doctor --json` printed "error: 1 problem found;
/// the hints above say how to fix it" on stderr, for a machine reading the
/// JSON. The exit code says it.
#[test]
fn doctor_json_prints_a_human_hint_on_stderr() {
    let sb = Sandbox::new();
    let repo = repo_with_identity(&sb);
    repo.git(&["config", "session.sizeLimit", "-1"]);
    let out = doctor(&repo, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["problems"], 1);
    // Without --json the summary line stays.
    assert!(text(&doctor(&repo, &[])).contains("error: 1 problem found"));
}

#[test]
fn doctor_reports_a_missing_init_then_passes() {
    let sb = Sandbox::new();
    let repo = repo_with_identity(&sb);

    // Issue 21, item 17: doctor failed over `init`, which the quick start
    // never mentions; checkpoints work without it, so it is a warning.
    let out = doctor(&repo, &[]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(
        report.contains("warning: 'git session init' has not been run"),
        "{report}"
    );
    assert!(report.contains("hint: run 'git session init'"), "{report}");
    assert!(report.contains("ok: git-session is on PATH"), "{report}");
    assert!(report.contains("ok: git 2."), "{report}");
    assert!(report.contains("ok: commits are made as"), "{report}");
    let json: serde_json::Value =
        serde_json::from_slice(&doctor(&repo, &["--json"]).stdout).expect("JSON");
    assert_eq!(json["ok"], true);
    let init = json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "init")
        .expect("an init check");
    assert_eq!(init["status"], "warning");

    repo.session_ok(&["init"]);
    let out = doctor(&repo, &[]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(!report.contains("problem:"), "{report}");
    assert!(
        report.contains("ok: 'git session init' is done"),
        "{report}"
    );
    // No hooks and no remote: warnings, with their fixes.
    assert!(report.contains("warning: no agent hooks"), "{report}");
    assert!(
        report.contains("hint: for Claude Code: git session hook install claude"),
        "{report}"
    );
    assert!(report.contains("warning: no remote"), "{report}");

    repo.session_ok(&["hook", "install", "claude"]);
    let report = text(&doctor(&repo, &[]));
    assert!(
        report.contains("ok: agent hooks installed: Claude Code (.claude/settings.json)"),
        "{report}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&doctor(&repo, &["--json"]).stdout).expect("JSON");
    assert_eq!(json["ok"], true);
    assert_eq!(json["problems"], 0);
}

#[test]
fn doctor_checks_identity_remote_notes_and_rescues() {
    let sb = Sandbox::new();
    sb.git(&["init", "-q", "--bare", "-b", "main", "remote.git"]);
    let repo = repo_with_identity(&sb);
    repo.git(&[
        "remote".as_ref(),
        "add".as_ref(),
        "origin".as_ref(),
        sb.path("remote.git").as_os_str(),
    ]);
    repo.session_ok(&["init"]);
    repo.session_ok(&["start", "The task"]);
    let report = text(&doctor(&repo, &[]));
    assert!(
        report.contains("warning: the session notes of 'origin' have never been fetched"),
        "{report}"
    );
    assert!(
        report.contains("hint: git session fetch origin"),
        "{report}"
    );
    repo.session_ok(&["push"]);
    repo.session_ok(&["fetch"]);
    let report = text(&doctor(&repo, &[]));
    assert!(
        report.contains("ok: the session notes of 'origin' have been fetched"),
        "{report}"
    );

    // A rescue snapshot waiting is worth a warning, with how to restore it.
    let head = repo.rev("HEAD");
    repo.git(&["update-ref", "refs/session/rescue/main", &head]);
    let report = text(&doctor(&repo, &[]));
    assert!(
        report.contains("warning: a rescue snapshot is waiting: refs/session/rescue/main"),
        "{report}"
    );
    assert!(
        report.contains("git restore --source=refs/session/rescue/main"),
        "{report}"
    );

    // Without an identity, anywhere: a problem.
    repo.git(&["config", "--unset", "user.name"]);
    repo.git(&["config", "--unset", "user.email"]);
    let mut cmd = repo.session_command();
    for key in [
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ] {
        cmd.env_remove(key);
    }
    let out = cmd
        .env("PATH", path_with_bin())
        .arg("doctor")
        .output()
        .expect("run doctor");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("problem: no user.name/user.email"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("hint: git config --global user.name"),
        "{}",
        text(&out)
    );
}

#[test]
fn doctor_outside_a_repository_and_off_path() {
    let sb = Sandbox::new();
    let mut cmd = Command::new(BIN);
    isolate(&mut cmd, &sb.home());
    // PATH with git but without git-session.
    let git_dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let bin_dir = Path::new(BIN).parent().expect("dir");
    let path =
        std::env::join_paths(git_dirs.iter().filter(|d| d.as_path() != bin_dir)).expect("join");
    let out = cmd
        .current_dir(sb.path(""))
        .env("PATH", path)
        .arg("doctor")
        .output()
        .expect("run doctor");
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("problem: git-session is not on PATH"),
        "{report}"
    );
    assert!(report.contains("is not in a git repository"), "{report}");
}

#[test]
fn color_follows_the_flag_no_color_and_git_config() {
    let sb = Sandbox::new();
    let outside = sb.path("");
    let red_error = "\x1b[1;31merror:\x1b[m";

    let always = session_in(&sb, &outside, &["--color=always", "show"]);
    let stderr = String::from_utf8_lossy(&always.stderr);
    assert!(stderr.starts_with(red_error), "{stderr:?}");
    assert!(stderr.contains("\x1b[33mhint:\x1b[m"), "{stderr:?}");
    // `--color` alone means always, as in git.
    let bare_flag = session_in(&sb, &outside, &["--color", "show"]);
    assert!(String::from_utf8_lossy(&bare_flag.stderr).starts_with(red_error));

    let never = session_in(&sb, &outside, &["--color=never", "show"]);
    let stderr = String::from_utf8_lossy(&never.stderr);
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");

    // Not a terminal and no flag: no colour.
    let auto = session_in(&sb, &outside, &["show"]);
    assert!(!String::from_utf8_lossy(&auto.stderr).contains('\x1b'));

    // git's color.ui = always colours even into a pipe; NO_COLOR wins
    // over it, and the flag wins over NO_COLOR.
    let repo = sb.init("work");
    repo.git(&["config", "color.ui", "always"]);
    let out = repo.session(&["show"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with(red_error),
        "{}",
        text(&out)
    );
    let out = repo
        .session_command()
        .env("NO_COLOR", "1")
        .arg("show")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
    let out = repo
        .session_command()
        .env("NO_COLOR", "1")
        .args(["--color=always", "show"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(red_error));
    repo.git(&["config", "color.ui", "never"]);
    let out = repo.session(&["show"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains('\x1b'));

    // Headings of show and status.
    repo.git(&["config", "--unset", "color.ui"]);
    repo.write("a.txt", "a\n");
    repo.session_ok(&["start", "--todo", "one", "The task"]);
    let show = repo.session_ok(&["--color=always", "show"]);
    assert!(show.contains("\x1b[1mTask:\x1b[m"), "{show:?}");
    assert!(show.contains("\x1b[1mOpen:\x1b[m"), "{show:?}");
    let status = repo.session_ok(&["--color=always", "status"]);
    assert!(status.contains("\x1b[1mOpen:\x1b[m"), "{status:?}");
    let plain = repo.session_ok(&["--color=never", "show"]);
    assert!(!plain.contains('\x1b'), "{plain:?}");
}
