//! Settings: every layer (`.git-session.toml`, git config files, `git -c`,
//! `GIT_CONFIG_COUNT`) through one validation path. A bad value is refused
//! with its key, where it was set and what is accepted, and the repository
//! is left as it was; agent hooks go on without it. The repository's own
//! file cannot point a notes ref outside `refs/notes/` or make checkpoints
//! push. Values are read as git reads them, and `git -c` options reach us
//! through real git.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::bad_input::assert_refused_with;
use crate::support::{isolate, text, Repo, Sandbox, BIN};

/// A repository with a commit on `main`, a branch `other`, a tag `v1`, and
/// a change a checkpoint would commit.
fn repo_with_refs(sb: &Sandbox) -> Repo {
    let repo = sb.init("repo");
    repo.write("README.md", "# shop\n");
    repo.commit_all("base");
    repo.git(&["branch", "other"]);
    repo.git(&["tag", "v1"]);
    repo.write("work.txt", "work\n");
    repo
}

/// Commit `.git-session.toml` with `text`, as a repository one clones has it.
fn commit_config(repo: &Repo, text: &str) {
    repo.write(".git-session.toml", text);
    repo.git(&["add", ".git-session.toml"]);
    repo.git(&["commit", "-q", "-m", "team settings"]);
}

/// Refused, naming every one of `needles` (exact case) on an `error:` or
/// `hint:` line, with nothing changed.
fn assert_refused_naming(repo: &Repo, args: &[&str], needles: &[&str]) -> String {
    let (all, _) = assert_refused_with(repo, args, &format!("{needles:?}"), |_| true);
    for needle in needles {
        assert!(all.contains(needle), "{needle:?} not in:\n{all}");
    }
    all
}

/// `git ARGS` with the binary under test on PATH, so `git session …` runs
/// it the way a user's git does (with git's own environment for `-c`).
fn through_git(repo: &Repo) -> Command {
    let bin_dir = PathBuf::from(BIN)
        .parent()
        .expect("the binary is in a directory")
        .to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir];
    dirs.extend(std::env::split_paths(&path));
    let mut cmd = Command::new("git");
    isolate(&mut cmd, &repo.home);
    cmd.current_dir(&repo.path)
        .env("PATH", std::env::join_paths(dirs).expect("PATH joins"));
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run git")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "failed:\n{}", text(&out));
    text(&out)
}

/// The paths HEAD's tree holds.
fn committed(repo: &Repo) -> Vec<String> {
    repo.git(&["ls-tree", "-r", "--name-only", "HEAD"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn hook_input(repo: &Repo, event: &str) -> String {
    serde_json::json!({
        "session_id": "config-test",
        "cwd": repo.path,
        "hook_event_name": event,
        "transcript_path": null,
    })
    .to_string()
}

fn hook(repo: &Repo, event: &str) -> Output {
    let mut child = repo
        .session_command()
        .args(["hook", "claude", "--strict"])
        // These repositories work on `main`, where hooks would save to a
        // rescue ref: the tests are about the checkpoint.
        .env("GIT_CONFIG_PARAMETERS", "'session.hookBranches'='*'")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the hook");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(hook_input(repo, event).as_bytes())
        .expect("write the hook input");
    child.wait_with_output().expect("wait for the hook")
}

// ------------------------------------------------------------ notes refs

#[test]
fn committed_notes_ref_outside_refs_notes_is_refused() {
    for notes_ref in [
        "refs/heads/other",
        "refs/tags/v1",
        "refs/heads/main",
        "refs/notes/../heads/main",
    ] {
        let sb = Sandbox::new();
        let repo = repo_with_refs(&sb);
        commit_config(&repo, &format!("# team\nnotes_ref = \"{notes_ref}\"\n"));
        let file = repo.path.join(".git-session.toml");
        let line = format!("'{}' line 2", file.display());
        for args in [
            &["checkpoint", "-m", "x"][..],
            &["start", "a task"],
            &["push"],
        ] {
            let all = assert_refused_naming(&repo, args, &["notes_ref", &line, notes_ref]);
            assert!(all.contains("hint: fix or remove line 2"), "{all}");
        }
        // Branch and tag are where they were, and nothing else is new.
        assert_eq!(repo.rev("other"), repo.rev("main~1"), "{notes_ref}");
        assert_eq!(repo.rev("v1"), repo.rev("main~1"), "{notes_ref}");
    }
}

#[test]
fn git_config_notes_ref_outside_refs_notes_is_refused() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    let config = repo.path.join(".git/config");
    for notes_ref in [
        "refs/heads/other",
        "refs/tags/v1",
        "refs/notes/../heads/main",
    ] {
        repo.git(&["config", "session.notesRef", notes_ref]);
        assert_refused_naming(
            &repo,
            &["checkpoint", "-m", "x"],
            &[
                "session.notesRef",
                &format!("git config file '{}'", config.display()),
                notes_ref,
                "--unset-all session.notesRef",
            ],
        );
    }
    // The same through `git -c`, which names the command line.
    repo.git(&["config", "--unset", "session.notesRef"]);
    let fingerprint = repo.fingerprint();
    let out = run(through_git(&repo).args([
        "-c",
        "session.notesRef=refs/heads/other",
        "session",
        "checkpoint",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("(git -c): session.notesRef"),
        "{}",
        text(&out)
    );
    assert_eq!(repo.fingerprint(), fingerprint);
}

#[test]
fn notes_ref_names_follow_git_check_ref_format() {
    // git as the oracle: a short name is accepted exactly when git accepts
    // `refs/notes/<name>` as a ref name.
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    let mut outcomes = Vec::new();
    for name in [
        "team",
        "team/a-b_c.d",
        "a..b",
        "a.lock",
        "a/.b",
        "a//b",
        "a/",
        "a b",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[b",
        "a\\b",
        "a@{b",
        "@",
        "ümlaut",
    ] {
        let git_accepts = repo
            .git_output(&["check-ref-format", &format!("refs/notes/{name}")])
            .status
            .success();
        repo.git(&["config", "session.notesRef", name]);
        let out = repo.session(&["show"]);
        let refused = text(&out).contains("bad setting");
        assert_eq!(!refused, git_accepts, "{name:?}: {}", text(&out));
        outcomes.push(git_accepts);
    }
    // Not vacuous: git accepts some and refuses others.
    assert!(outcomes.contains(&true) && outcomes.contains(&false));
}

// ---------------------------------------------------- the committed file

#[test]
fn invalid_committed_config_names_file_and_line() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    let file = repo.path.join(".git-session.toml");
    for (toml, line, needles) in [
        (
            "notes_ref = \"refs/notes/team\"\n\nsize_limit = \"huge\"\n",
            3,
            &["size_limit", "'huge' is not a size", "500k, 20m"][..],
        ),
        (
            "notes_ref = \"refs/notes/team\"\nsizelimit = 5\n",
            2,
            &["sizelimit", "no such setting", "size_limit"],
        ),
        (
            "subject_prefix = \"wip\"\nsearch_depth = \n",
            2,
            &["not valid TOML"],
        ),
        (
            "search_depth = true\n",
            1,
            &["search_depth", "the boolean true is not a number"],
        ),
    ] {
        commit_config(&repo, toml);
        let at = format!("'{}' line {line}", file.display());
        for args in [
            &["checkpoint", "-m", "x"][..],
            &["show"],
            &["status"],
            &["resume"],
            &["log"],
        ] {
            let mut all_needles = vec![at.as_str()];
            all_needles.extend(needles);
            let all = assert_refused_naming(&repo, args, &all_needles);
            assert!(
                all.contains(&format!("hint: fix or remove line {line} of")),
                "{all}"
            );
        }
    }
}

#[test]
fn hook_with_invalid_committed_config_still_checkpoints() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    // A bad file (auto_push too, which a file may not set), and one good
    // git config setting, which still applies.
    commit_config(
        &repo,
        "notes_ref = \"refs/heads/other\"\nauto_push = true\nsize_limit = 1\n",
    );
    repo.git(&["config", "session.subjectPrefix", "wip"]);
    repo.write("work.txt", "more work\n");
    let before = repo.rev("HEAD");

    let out = hook(&repo, "Stop");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("warning: bad setting in '") && all.contains("ignoring '"),
        "{all}"
    );
    assert_eq!(repo.rev("HEAD~1"), before, "no checkpoint: {all}");
    assert!(committed(&repo).contains(&"work.txt".to_string()));
    let subject = repo.git(&["log", "-1", "--format=%s"]);
    assert!(subject.starts_with("wip: "), "{subject}");
    // The defaults serve: the note is under refs/notes/session, the branch
    // and tag the file named are untouched.
    repo.git(&["notes", "--ref=session", "show", "HEAD"]);
    assert_eq!(repo.rev("other"), repo.rev("main~2"));
    assert_eq!(repo.rev("v1"), repo.rev("main~2"));
    let log =
        std::fs::read_to_string(repo.path.join(".git/session/hook.log")).expect("the hook log");
    assert!(log.contains("Stop: warning: bad setting"), "{log}");

    // SessionStart hands over the context all the same.
    let out = hook(&repo, "SessionStart");
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("additionalContext"), "{}", text(&out));
    assert!(
        text(&out).contains("warning: bad setting"),
        "{}",
        text(&out)
    );

    // And the hand-run pre-cancel.
    repo.write("work.txt", "even more\n");
    let out = repo.session(&["hook", "pre-cancel", "--no-push"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("warning: bad setting"),
        "{}",
        text(&out)
    );
    assert_eq!(repo.rev("HEAD~2"), before);
}

// Unix only: a symlink.
#[cfg(unix)]
#[test]
fn committed_config_symlink_is_not_followed() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    let outside = sb.path("outside.toml");
    std::fs::write(&outside, "secret = \"hunter2\"\n").expect("write outside file");
    std::os::unix::fs::symlink(&outside, repo.path.join(".git-session.toml")).expect("symlink");
    let all = assert_refused_naming(&repo, &["checkpoint", "-m", "x"], &["symbolic link"]);
    assert!(!all.contains("hunter2"), "{all}");
}

// ----------------------------------------------------------------- values

#[test]
fn negative_size_limit_is_refused() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    let config = format!(
        "git config file '{}'",
        repo.path.join(".git/config").display()
    );
    for value in ["-1", "-20m", "0"] {
        repo.git(&["config", "session.sizeLimit", value]);
        assert_refused_naming(
            &repo,
            &["checkpoint", "-m", "x"],
            &["session.sizeLimit", &config, value, "1 byte or more"],
        );
    }
    repo.git(&["config", "--unset", "session.sizeLimit"]);
    commit_config(&repo, "size_limit = -5\n");
    repo.write("work.txt", "work\n");
    assert_refused_naming(
        &repo,
        &["checkpoint", "-m", "x"],
        &["size_limit", "line 1", "1 byte or more"],
    );
}

#[test]
fn non_numeric_size_limit_is_refused() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    let config = format!(
        "git config file '{}'",
        repo.path.join(".git/config").display()
    );
    for value in ["abc", "20 MB", "1.5m", "20mb", ""] {
        repo.git(&["config", "session.sizeLimit", value]);
        assert_refused_naming(
            &repo,
            &["checkpoint", "-m", "x"],
            &["session.sizeLimit", &config, "500k, 20m"],
        );
    }
}

#[test]
fn sizes_take_git_suffixes() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    repo.write("small.bin", vec![b'x'; 1000]);
    repo.write("large.bin", vec![b'x'; 1100]);
    commit_config(&repo, "size_limit = \"1k\"\n");
    repo.session_ok(&["checkpoint", "-q", "-m", "1k from the file"]);
    let files = committed(&repo);
    assert!(files.contains(&"small.bin".to_string()), "{files:?}");
    assert!(!files.contains(&"large.bin".to_string()), "{files:?}");
    // 0x800 = 2048, as git reads it: now the large one fits.
    repo.git(&["config", "session.sizeLimit", "0x800"]);
    repo.session_ok(&["checkpoint", "-q", "-m", "2k from git config"]);
    assert!(committed(&repo).contains(&"large.bin".to_string()));
}

/// Issue 21, item 18: a skipped file's size and the limit printed as raw
/// bytes ("3584 bytes is over the size limit of 1024 bytes").
#[test]
fn skipped_file_sizes_print_raw_bytes() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    repo.write("large.bin", vec![b'x'; 3584]);
    repo.git(&["config", "session.sizeLimit", "1k"]);
    let out = repo.session(&["checkpoint"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("skipped large.bin: 3.5 KiB is over the size limit of 1 KiB"),
        "{}",
        text(&out)
    );
}

#[test]
fn search_depth_from_file_layer_is_honoured() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    repo.session_ok(&["checkpoint", "-q", "-m", "the checkpoint"]);
    for i in 0..3 {
        repo.write(&format!("later{i}.txt"), "x\n");
        repo.commit_all(&format!("later {i}"));
    }
    // Three commits without a checkpoint: a depth of 3 passes them, 2 not.
    commit_config(&repo, "search_depth = 5\n");
    repo.session_ok(&["show"]);
    commit_config(&repo, "search_depth = 2\n");
    let out = repo.session(&["show"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no checkpoint found"), "{}", text(&out));
    // git config still wins over the file.
    repo.git(&["config", "session.searchDepth", "10"]);
    repo.session_ok(&["show"]);
    repo.session_ok(&["resume"]);
}

#[test]
fn auto_push_from_file_layer_is_refused() {
    // A repository must not decide that every checkpoint is published:
    // only the user's own git config may set autoPush.
    let sb = Sandbox::new();
    sb.git(&["init", "-q", "--bare", "origin.git"]);
    let repo = repo_with_refs(&sb);
    repo.git(&["remote", "add", "origin", "../origin.git"]);
    commit_config(&repo, "auto_push = true\n");
    repo.write("work.txt", "work\n");
    assert_refused_naming(
        &repo,
        &["checkpoint", "-m", "x"],
        &[
            "auto_push",
            "line 1",
            "only your own git config",
            "git config session.autoPush",
        ],
    );
    // A hook goes on without the file, and does not push.
    let out = hook(&repo, "SessionEnd");
    assert!(out.status.success(), "{}", text(&out));
    let pushed =
        sb.repo("origin.git")
            .git_output(&["rev-parse", "-q", "--verify", "refs/heads/main"]);
    assert!(!pushed.status.success(), "the hook pushed: {}", text(&out));
}

#[test]
fn values_are_read_as_git_reads_them() {
    // git as the oracle: `git config --type=bool|int` accepts a value
    // exactly when git-session does.
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    let accepted = |key: &str, value: &str| {
        let out =
            run(through_git(&repo).args(["-c", &format!("{key}={value}"), "session", "show"]));
        !text(&out).contains("bad setting")
    };
    for value in [
        "true",
        "yes",
        "on",
        "1",
        "2",
        "-1",
        "0",
        "false",
        "no",
        "off",
        "",
        "TRUE",
        "maybe",
        "0x1",
        "1k",
        "99999999999",
        "tru",
    ] {
        let git = repo
            .git_output(&[
                "-c",
                &format!("a.b={value}"),
                "config",
                "--type=bool",
                "a.b",
            ])
            .status
            .success();
        assert_eq!(
            accepted("session.autoPush", value),
            git,
            "autoPush={value:?}"
        );
    }
    for value in [
        "5",
        "+5",
        "0x10",
        "010",
        "1k",
        "1K",
        "1m",
        "1g",
        "1t",
        "1kb",
        "abc",
        "1.5",
        "08",
        "9223372036854775807",
        "9223372036854775808",
        "0",
        "-3",
    ] {
        let out = repo.git_output(&["-c", &format!("a.b={value}"), "config", "--type=int", "a.b"]);
        let git = out.status.success()
            && String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<i64>()
                .is_ok_and(|n| n >= 1);
        assert_eq!(
            accepted("session.searchDepth", value),
            git,
            "searchDepth={value:?}"
        );
    }
    // A key without a value is true, to git and to us.
    let out = run(through_git(&repo).args(["-c", "session.autoPush", "session", "show"]));
    assert!(!text(&out).contains("bad setting"), "{}", text(&out));
}

// ------------------------------------------------- git -c and the environment

#[test]
fn git_dash_c_overrides_are_honoured() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    repo.write("big.txt", "more than one byte\n");
    // Local config says 100m; `git -c` beats it, as in git.
    repo.git(&["config", "session.sizeLimit", "100m"]);
    let out = ok(run(through_git(&repo).args([
        "-c",
        "session.sizeLimit=1",
        "session",
        "checkpoint",
        "-m",
        "dash c",
    ])));
    assert!(out.contains("skipped big.txt"), "{out}");
    assert!(!committed(&repo).contains(&"big.txt".to_string()), "{out}");

    // A bad value names the command line.
    let fingerprint = repo.fingerprint();
    let out = run(through_git(&repo).args(["-c", "session.sizeLimit=-1", "session", "checkpoint"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("bad setting in the command line (git -c): session.sizeLimit: '-1'"),
        "{}",
        text(&out)
    );
    assert_eq!(repo.fingerprint(), fingerprint);

    // `git -c user.name=…`: the same author as git's own commit gets.
    let identity = |cmd: &mut Command| {
        for var in ["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"] {
            cmd.env_remove(var);
        }
    };
    repo.write("work.txt", "by dash c\n");
    let mut cmd = through_git(&repo);
    identity(&mut cmd);
    ok(run(cmd.args([
        "-c",
        "user.name=Dash Cee",
        "session",
        "checkpoint",
        "-m",
        "who",
    ])));
    let ours = repo.git(&["log", "-1", "--format=%an|%cn"]);
    let mut cmd = through_git(&repo);
    identity(&mut cmd);
    ok(run(cmd.args([
        "-c",
        "user.name=Dash Cee",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "git's",
    ])));
    assert_eq!(ours, repo.git(&["log", "-1", "--format=%an|%cn"]));
    assert_eq!(ours.trim(), "Dash Cee|Dash Cee");

    // `git -c color.ui=always`: errors are coloured even into a pipe.
    let out = run(through_git(&repo).args(["-c", "color.ui=always", "session", "show", "nope"]));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("\x1b["),
        "{}",
        text(&out)
    );
    let out = run(through_git(&repo).args(["session", "show", "nope"]));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("\x1b["));
}

#[test]
fn git_config_count_env_is_honoured() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    repo.write("big.txt", "more than one byte\n");
    let count = |cmd: &mut Command, value: &str| {
        cmd.env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "session.sizeLimit")
            .env("GIT_CONFIG_VALUE_0", value);
    };
    // A bad value names the environment.
    let fingerprint = repo.fingerprint();
    let mut cmd = repo.session_command();
    count(&mut cmd, "-1");
    let out = run(cmd.args(["checkpoint"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("the environment (GIT_CONFIG_COUNT"),
        "{}",
        text(&out)
    );
    assert_eq!(repo.fingerprint(), fingerprint);

    // `git -c` comes after GIT_CONFIG_COUNT, as in git: ask git which wins.
    let mut cmd = through_git(&repo);
    count(&mut cmd, "1");
    let git_says = ok(run(cmd.args([
        "-c",
        "session.sizeLimit=1m",
        "config",
        "session.sizeLimit",
    ])));
    assert_eq!(git_says.trim(), "1m");
    let mut cmd = through_git(&repo);
    count(&mut cmd, "1");
    let out = ok(run(cmd.args([
        "-c",
        "session.sizeLimit=1m",
        "session",
        "checkpoint",
        "-m",
        "1m wins",
    ])));
    assert!(committed(&repo).contains(&"big.txt".to_string()), "{out}");

    // And alone it applies.
    repo.write("big2.txt", "more than one byte\n");
    let mut cmd = repo.session_command();
    count(&mut cmd, "1");
    let out = ok(run(cmd.args(["checkpoint", "-m", "count"])));
    assert!(out.contains("skipped big2.txt"), "{out}");
}

#[test]
fn bogus_git_config_parameters_are_refused() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    for env in [
        "session.sizeLimit=1",
        "'session.sizeLimit'='1",
        "'nosection'='1'",
    ] {
        let out = run(repo
            .session_command()
            .env("GIT_CONFIG_PARAMETERS", env)
            .args(["status"]));
        assert_eq!(out.status.code(), Some(1), "{env:?}: {}", text(&out));
        assert!(
            text(&out).contains("GIT_CONFIG_PARAMETERS"),
            "{env:?}: {}",
            text(&out)
        );
    }
    // The way git writes them, old style included.
    for env in ["'session.sizeLimit'='1'", "'session.sizeLimit=1'"] {
        repo.write("big.txt", "more than one byte\n");
        let out = run(repo
            .session_command()
            .env("GIT_CONFIG_PARAMETERS", env)
            .args(["status"]));
        assert!(out.status.success(), "{env:?}: {}", text(&out));
    }
}

#[test]
fn doctor_reports_bad_settings() {
    let sb = Sandbox::new();
    let repo = repo_with_refs(&sb);
    commit_config(&repo, "notes_ref = \"refs/heads/main\"\n");
    repo.git(&["config", "session.sizeLimit", "-1"]);
    let out = repo.session(&["doctor", "--json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let config: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["name"] == "config")
        .collect();
    assert_eq!(config.len(), 2, "{report:#}");
    assert!(
        config.iter().all(|c| c["status"] == "problem"),
        "{report:#}"
    );
    assert!(config[0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("notes_ref"));
    assert!(config[1]["message"]
        .as_str()
        .unwrap_or("")
        .contains("session.sizeLimit"));
}

/// `session.searchDepth`: how far a search for the newest checkpoint goes.
#[test]
fn the_search_for_a_checkpoint_stops_after_the_configured_depth() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a", "a\n");
    repo.session_ok(&["start", "-q", "the task"]);
    for i in 0..12 {
        repo.write("a", format!("{i}\n"));
        repo.commit_all(&format!("plain {i}"));
    }
    // 12 plain commits on top: found with the default depth...
    let shown = repo.session_json(&["show"]);
    assert_eq!(shown["task"], "the task");
    // ...not when the search stops after 10 commits without a checkpoint.
    repo.git(&["config", "session.searchDepth", "10"]);
    for args in [&["show"][..], &["resume"][..]] {
        let out = repo.session(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("no checkpoint"), "{}", text(&out));
        assert!(text(&out).contains("session.searchDepth"), "{}", text(&out));
    }
    // A depth that reaches it finds it again; log lists the whole session.
    repo.git(&["config", "session.searchDepth", "13"]);
    assert_eq!(repo.session_json(&["show"])["task"], "the task");
    let log = repo.session_json(&["log"]);
    assert_eq!(log.as_array().map(Vec::len), Some(1));
}
