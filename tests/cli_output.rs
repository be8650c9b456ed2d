//! What the commands print, as people see it: snapshots of the human
//! output and exit status of `show`, `status`, `log`, `doctor` and
//! `resume`, and of the `error:`/`hint:` text of the common refusals.
//!
//! Each snapshot is the whole transcript (exit status, stdout, stderr) with
//! the sandbox's path, the binary's directory, git's version and relative
//! times replaced (see `support::normalize`), so it is the same on every
//! machine and every day. Commit ids are stable: every date and identity is
//! fixed.

use crate::support::{path_with_bin, transcript, Repo, Sandbox};

/// Snapshot `args` run in `repo` as `name`.
fn snapshot(name: &str, sb: &Sandbox, repo: &Repo, args: &[&str]) {
    let out = repo.session(args);
    snapshot_output(name, sb, &format!("git session {}", args.join(" ")), &out);
}

fn snapshot_output(name: &str, sb: &Sandbox, command: &str, out: &std::process::Output) {
    insta::with_settings!({
        description => command.to_string(),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, transcript(out, sb));
    });
}

/// A session with something in every list: a start, work, a checkpoint
/// with done, doing, todo, a decision, a note, a blocker and a skipped
/// secret.
fn session(sb: &Sandbox) -> Repo {
    let repo = sb.init("work");
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.session_ok(&[
        "start",
        "-q",
        "--todo",
        "toggle button",
        "--todo",
        "CSS variables",
        "Add a dark mode\n\nWith a toggle in the header.",
    ]);
    repo.write("src/theme.css", ":root { --bg: white; }\n");
    repo.write(".env", "SECRET=1\n");
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "-m",
        "theme variables",
        "--done",
        "CSS variables",
        "--doing",
        "toggle button",
        "--todo",
        "persist the choice",
        "--decision",
        "CSS variables, not a second stylesheet",
        "--note",
        "the chart library ignores CSS variables",
        "--blocker",
        "contrast not signed off",
    ]);
    repo
}

#[test]
fn show_prints_the_state_of_the_newest_checkpoint() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    snapshot("show", &sb, &repo, &["show"]);
}

#[test]
fn status_prints_the_task_open_items_and_what_changed() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("src/theme.css", ":root { --bg: black; }\n");
    repo.write("src/toggle.ts", "export {}\n");
    repo.write("id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    snapshot("status", &sb, &repo, &["status"]);
}

#[test]
fn log_lists_the_checkpoints_newest_first() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("src/toggle.ts", "export {}\n");
    repo.session_ok(&["checkpoint", "-q", "--done", "toggle button"]);
    snapshot("log", &sb, &repo, &["log"]);
}

#[test]
fn resume_prints_the_prompt_for_the_next_session() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("src/later.ts", "later\n");
    repo.git(&["add", "src/later.ts"]);
    repo.git(&["commit", "-q", "-m", "a commit after the checkpoint"]);
    repo.write("src/toggle.ts", "export {}\n");
    snapshot("resume", &sb, &repo, &["resume"]);
}

/// `doctor` with the binary on PATH, as after `cargo install`, and git;
/// no agent's program (whether this machine has one installed must not
/// change the snapshot).
fn doctor(name: &str, sb: &Sandbox, repo: &Repo) {
    let git = std::env::split_paths(&path_with_bin())
        .find(|dir| dir.join("git").is_file())
        .expect("git is on PATH");
    let bin = std::path::Path::new(crate::support::BIN)
        .parent()
        .expect("the binary has a directory")
        .to_path_buf();
    let path = std::env::join_paths([bin, git]).expect("join PATH");
    let out = repo
        .session_command()
        .env("PATH", path)
        .arg("doctor")
        .output()
        .expect("run doctor");
    snapshot_output(name, sb, "git session doctor", &out);
}

#[test]
fn doctor_reports_problems_with_their_fixes() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    doctor("doctor_before_setup", &sb, &repo);
}

#[test]
fn doctor_after_setup_has_only_warnings() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.session_ok(&["init"]);
    repo.session_ok(&["hook", "install", "claude"]);
    doctor("doctor_after_setup", &sb, &repo);
}

// ---------------------------------------------------------------------------
// Refusals: the error, its hints, exit status 1

#[test]
fn refusal_not_a_repository() {
    let sb = Sandbox::new();
    let plain = sb.repo("plain");
    std::fs::create_dir_all(&plain.path).expect("mkdir");
    snapshot("refusal_not_a_repository", &sb, &plain, &["show"]);
}

#[test]
fn refusal_bare_repository() {
    let sb = Sandbox::new();
    let src = sb.init("src");
    src.write("f.txt", "x\n");
    src.commit_all("base");
    sb.git(&["clone", "-q", "--bare", "src", "bare.git"]);
    let bare = sb.repo("bare.git");
    snapshot("refusal_bare_repository", &sb, &bare, &["checkpoint"]);
}

#[test]
fn refusal_merge_in_progress() {
    let sb = Sandbox::new();
    let repo = crate::bad_input::diverged(&sb);
    let merge = repo.git_output(&["merge", "-q", "other"]);
    assert!(!merge.status.success(), "test bug: the merge did not stop");
    snapshot("refusal_merge_in_progress", &sb, &repo, &["checkpoint"]);
}

#[test]
fn refusal_conflicts() {
    let sb = Sandbox::new();
    let repo = crate::bad_input::diverged(&sb);
    let merge = repo.git_output(&["merge", "-q", "other"]);
    assert!(!merge.status.success(), "test bug: the merge did not stop");
    // The conflicts stay in the index; the merge itself is forgotten.
    let git_dir = repo.path.join(".git");
    for file in ["MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"] {
        let _ = std::fs::remove_file(git_dir.join(file));
    }
    snapshot("refusal_conflicts", &sb, &repo, &["checkpoint"]);
}

#[test]
fn refusal_index_lock_held() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.commit_all("base");
    repo.write("f.txt", "changed\n");
    std::fs::write(repo.path.join(".git/index.lock"), "held\n").expect("create index.lock");
    snapshot("refusal_index_lock_held", &sb, &repo, &["checkpoint"]);
}

#[test]
fn refusal_unknown_rev() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    snapshot(
        "refusal_unknown_rev",
        &sb,
        &repo,
        &["show", "no-such-branch"],
    );
}

#[test]
fn refusal_no_checkpoint() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.commit_all("base");
    snapshot("refusal_no_checkpoint", &sb, &repo, &["resume"]);
}
