//! The loop the product exists for: a session is cancelled, a new one
//! starts (often on a branch of its own), and continues it. The agent's
//! own report of each turn, `pause`, `list`, `continue`, and the hooks
//! that hand a new session the old one's context, against real remotes.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::{text, Repo, Sandbox};

/// A Claude Code hook event in `repo`, as the agent sends it.
fn claude(repo: &Repo, input: Value) -> std::process::Output {
    repo.session_stdin(&["hook", "claude", "--strict"], input.to_string())
}

fn stop_input(repo: &Repo, message: Option<&str>) -> Value {
    let mut input = json!({
        "session_id": "sess-a",
        "cwd": repo.path,
        "hook_event_name": "Stop",
        "stop_hook_active": false,
    });
    if let Some(message) = message {
        input["last_assistant_message"] = json!(message);
    }
    input
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn repo_with_commit(sb: &Sandbox, rel: &str) -> Repo {
    let repo = sb.init(rel);
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo
}

/// [`repo_with_commit`] on a session branch of its own: hooks checkpoint
/// there (on the default branch they save to a rescue ref instead).
fn session_repo(sb: &Sandbox, rel: &str) -> Repo {
    let repo = repo_with_commit(sb, rel);
    repo.git(&["switch", "-q", "-c", "feat/x"]);
    repo
}

/// The trailers git itself reads from HEAD's message.
fn git_trailers(repo: &Repo, rev: &str) -> String {
    let message = repo.git(&["log", "-1", "--format=%B", rev]);
    repo.git_stdin(&["interpret-trailers", "--parse"], message)
}

#[test]
fn report_from_stop_is_recorded_redacted_and_capped() {
    let sb = Sandbox::new();
    let repo = session_repo(&sb, "r");
    repo.write("toggle.js", "toggle\n");
    let token = format!("ghp_{}", "q8Zr2LmX0vNf7TgH5kWc3JpYs1AeD9UbAb12");
    let long = format!(
        "Added the toggle with {token}. {}Remaining: CSS variables and localStorage.",
        "It works in both themes. ".repeat(120)
    );
    let out = claude(&repo, stop_input(&repo, Some(&long)));
    assert!(out.status.success(), "{}", text(&out));

    let state = repo.session_json(&["show"]);
    let report = state["report"].as_str().expect("a report");
    assert!(
        report.starts_with("Added the toggle with [REDACTED:github-token]."),
        "{report}"
    );
    assert!(report.chars().count() <= 2000, "{}", report.chars().count());
    assert!(
        report.ends_with("both themes."),
        "cut after a sentence: {report}"
    );
    // The branch carries it, as git reads trailers, and no object holds
    // the token.
    let trailers = git_trailers(&repo, "HEAD");
    assert!(
        trailers.contains("Session-Report: Added the toggle with [REDACTED:github-token]."),
        "{trailers}"
    );
    let objects = repo.git_output(&["cat-file", "--batch-all-objects", "--batch"]);
    assert!(
        !String::from_utf8_lossy(&objects.stdout).contains(&token),
        "the token was stored"
    );
}

#[test]
fn report_of_a_turn_that_changed_nothing_goes_to_the_note_not_the_branch() {
    let sb = Sandbox::new();
    let repo = session_repo(&sb, "r");
    repo.write("a.txt", "a\n");
    let out = claude(&repo, stop_input(&repo, Some("Wrote a.txt.")));
    assert!(out.status.success(), "{}", text(&out));
    let head = repo.rev("HEAD");

    let out = claude(
        &repo,
        stop_input(&repo, Some("Explained the design; nothing to change.")),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(repo.rev("HEAD"), head, "no commit for a report alone");
    let note = repo.git(&["notes", "--ref=session", "show", "HEAD"]);
    assert!(
        note.contains("report = \"Explained the design; nothing to change.\""),
        "{note}"
    );
    assert_eq!(
        repo.session_json(&["show"])["report"],
        "Explained the design; nothing to change."
    );
    // The same words again change nothing at all.
    let notes_ref = repo.rev("refs/notes/session");
    claude(
        &repo,
        stop_input(&repo, Some("Explained the design; nothing to change.")),
    );
    assert_eq!(repo.rev("refs/notes/session"), notes_ref);
}

#[test]
fn report_falls_back_to_the_transcripts_newest_assistant_text() {
    let sb = Sandbox::new();
    let repo = session_repo(&sb, "r");
    let transcript = sb.path("t.jsonl");
    let lines = [
        json!({"type": "user", "message": {"role": "user", "content": "Add a dark mode"}}),
        json!({"type": "assistant", "message": {"role": "assistant", "content": [{"type": "text", "text": "Looking at the header first."}]}}),
        json!({"type": "assistant", "isSidechain": true, "message": {"role": "assistant", "content": [{"type": "text", "text": "A subagent's words."}]}}),
        json!({"type": "assistant", "message": {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Edit", "input": {}}]}}),
        json!({"type": "assistant", "message": {"role": "assistant", "content": [{"type": "text", "text": "The toggle is in. Remaining: persistence."}]}}),
        json!({"type": "assistant", "isSidechain": true, "message": {"role": "assistant", "content": [{"type": "text", "text": "Another subagent line."}]}}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&transcript, body).expect("write transcript");
    repo.write("toggle.js", "x\n");
    let mut input = stop_input(&repo, None);
    input["transcript_path"] = json!(transcript);
    let out = claude(&repo, input);
    assert!(out.status.success(), "{}", text(&out));
    let state = repo.session_json(&["show"]);
    assert_eq!(state["report"], "The toggle is in. Remaining: persistence.");
    assert_eq!(state["task"], "Add a dark mode");
}

#[test]
fn pause_writes_a_paused_checkpoint_even_when_nothing_changed() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb, "r");
    repo.session_ok(&[
        "start",
        "-q",
        "-b",
        "feat/x",
        "--todo",
        "css",
        "Add a dark mode",
    ]);
    let before = repo.rev("HEAD");
    let out = repo.session(&["pause", "--no-push", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(value["created"], true);
    assert_eq!(value["reason"], "pause");
    assert!(
        value["prompt"]
            .as_str()
            .is_some_and(|p| p.starts_with("Continue work on branch `feat/x`.")),
        "{value}"
    );
    assert_eq!(repo.rev("HEAD~1"), before, "one new commit");
    assert!(git_trailers(&repo, "HEAD").contains("Session-Reason: pause"));
    // Pausing twice is once.
    repo.session_ok(&["pause", "--no-push"]);
    assert_eq!(repo.rev("HEAD~1"), before);
    let list = repo.session_json(&["list"]);
    assert_eq!(list["sessions"][0]["status"], "paused", "{list}");
}

/// A history written with git alone: `count` branches `s/NNN`, each a
/// checkpoint (trailers only) on a shared trunk, and `count` plain
/// branches `p/NNN` on the trunk without one.
fn many_branches(repo: &Repo, count: usize) {
    let mut script = String::new();
    for i in 0..count {
        let trunk = repo.rev("HEAD");
        let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
        let message = format!(
            "checkpoint: work {i}\n\nSession-Schema: 1\nSession-Reason: {}\nSession-Branch: s/{i:03}\nSession-Task: task {i}\nSession-Todo: item {i}\n",
            if i % 2 == 0 { "pause" } else { "stop" }
        );
        let commit = repo
            .git_stdin(&["commit-tree", tree.trim(), "-p", &trunk], message)
            .trim()
            .to_string();
        script.push_str(&format!("create refs/heads/s/{i:03} {commit}\n"));
        script.push_str(&format!("create refs/heads/p/{i:03} {trunk}\n"));
        repo.git(&["commit", "-q", "--allow-empty", "-m", &format!("trunk {i}")]);
    }
    repo.git_stdin(&["update-ref", "--stdin"], script);
}

#[test]
fn list_with_200_branches_matches_what_git_finds() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb, "r");
    many_branches(&repo, 100);
    let list = repo.session_json(&["list"]);
    let sessions = list["sessions"].as_array().expect("a list");
    assert_eq!(sessions.len(), 100, "{list}");
    // git as the oracle: the newest commit on first-parent history with a
    // Session-Schema trailer, per branch.
    let branches = repo.git(&["for-each-ref", "--format=%(refname:short)", "refs/heads/"]);
    for branch in branches.lines() {
        let expected = repo
            .git(&[
                "rev-list",
                "--first-parent",
                "-1",
                "--grep=^Session-Schema:",
                branch,
            ])
            .trim()
            .to_string();
        let listed = sessions.iter().find(|s| s["branch"] == branch);
        match (expected.is_empty(), listed) {
            (true, None) => {}
            (false, Some(s)) => assert_eq!(s["checkpoint"], expected.as_str(), "{branch}"),
            (_, listed) => panic!("{branch}: git finds '{expected}', list has {listed:?}"),
        }
    }
    let paused = sessions.iter().filter(|s| s["status"] == "paused").count();
    assert_eq!(paused, 50);
    assert!(sessions.iter().all(|s| s["source"] == "trailers"));
}

#[test]
fn list_walks_share_results_but_keep_each_branchs_search_depth() {
    // A checkpoint, then ten plain commits. With a search depth of 5, a
    // branch at the tenth commit has no session; one at the third has. The
    // far branch is walked first: what it learnt must not give the near
    // one a wrong answer, nor the far one the near one's.
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb, "r");
    repo.session_ok(&["checkpoint", "-q", "--task", "deep"]);
    for i in 1..=10 {
        repo.git(&["commit", "-q", "--allow-empty", "-m", &format!("plain {i}")]);
        if i == 3 {
            repo.git(&["branch", "b-near"]);
        }
    }
    repo.git(&["branch", "a-far"]);
    repo.git(&["config", "session.searchDepth", "5"]);
    let list = repo.session_json(&["list"]);
    let names: Vec<&str> = list["sessions"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|s| s["branch"].as_str())
        .collect();
    assert_eq!(names, ["b-near"], "{list}");
    for (branch, found) in [("a-far", false), ("b-near", true)] {
        assert_eq!(
            repo.session(&["show", branch]).status.success(),
            found,
            "{branch}"
        );
    }
}

/// A bare remote whose pre-receive hook refuses every ref but
/// `refs/heads/claude/*` and `main`, as the web's git proxy does.
fn strict_remote(sb: &Sandbox) -> PathBuf {
    let seed = repo_with_commit(sb, "seed");
    sb.git(&["init", "-q", "--bare", "-b", "main", "remote.git"]);
    let remote = sb.path("remote.git");
    seed.git(&[
        "push".as_ref(),
        "-q".as_ref(),
        remote.as_os_str(),
        "main".as_ref(),
    ]);
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new ref; do\n  case \"$ref\" in\n    refs/heads/claude/*|refs/heads/main) ;;\n    *) echo \"refusing $ref: only claude/* branches\"; exit 1 ;;\n  esac\ndone\n",
    )
    .expect("write hook");
    make_executable(&hook);
    remote
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn clone(sb: &Sandbox, remote: &Path, rel: &str) -> Repo {
    let url = remote.to_str().expect("UTF-8 temp path");
    sb.git(&["clone", "-q", url, rel]);
    sb.repo(rel)
}

/// Session A on `claude/a`, driven only by Stop hooks with the agent's
/// last message and no todo tool, then paused and pushed.
fn session_a(sb: &Sandbox, remote: &Path) -> Repo {
    let a = clone(sb, remote, "a");
    a.git(&["switch", "-q", "-c", "claude/a"]);
    let transcript = sb.path("a.jsonl");
    let prompt = json!({"type": "user", "message": {"role": "user", "content": "Add a dark mode toggle to the settings page"}});
    std::fs::write(&transcript, format!("{prompt}\n")).expect("transcript");
    for (file, message) in [
        ("toggle.js", "Added the toggle button."),
        (
            "hook.js",
            "Added the useDarkMode hook. Remaining: CSS variables and localStorage.",
        ),
    ] {
        a.write(file, "x\n");
        let mut input = stop_input(&a, Some(message));
        input["transcript_path"] = json!(transcript);
        let out = claude(&a, input);
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = a.session(&["pause"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused refs/notes/session"),
        "the proxy refuses the notes, the branch carries the state: {}",
        text(&out)
    );
    a
}

#[test]
fn a_new_session_sees_a_paused_one_from_trailers_alone() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    session_a(&sb, &remote);
    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    let list = b.session_json(&["list"]);
    let sessions = list["sessions"].as_array().expect("a list");
    assert_eq!(sessions.len(), 1, "{list}");
    let s = &sessions[0];
    assert_eq!(s["branch"], "claude/a");
    assert_eq!(s["rev"], "origin/claude/a");
    assert_eq!(s["status"], "paused");
    assert_eq!(s["source"], "trailers");
    assert_eq!(s["task"], "Add a dark mode toggle to the settings page");
    assert_eq!(
        s["report"],
        "Added the useDarkMode hook. Remaining: CSS variables and localStorage."
    );
    let human = b.session_ok(&["list"]);
    assert!(
        human.contains("origin/claude/a") && human.contains("paused"),
        "{human}"
    );
}

#[test]
fn user_prompt_naming_a_session_branch_injects_its_context() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    session_a(&sb, &remote);
    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    let input = json!({
        "session_id": "sess-b",
        "cwd": b.path,
        "hook_event_name": "UserPromptSubmit",
        "prompt": "Continue work on branch claude/a. Already completed: the toggle.",
    });
    let out = claude(&b, input);
    assert!(out.status.success(), "{}", text(&out));
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(
        value["hookSpecificOutput"]["hookEventName"],
        "UserPromptSubmit"
    );
    let context = value["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .expect("context");
    for expected in [
        "claude/a",
        "git session continue claude/a",
        "Add a dark mode toggle to the settings page",
        "Added the useDarkMode hook. Remaining: CSS variables and localStorage.",
    ] {
        assert!(
            context.contains(expected),
            "{expected:?} missing:\n{context}"
        );
    }
}

#[test]
fn user_prompt_naming_no_branch_prints_nothing_and_fetches_nothing() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    session_a(&sb, &remote);
    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    // Any fetch from the remote would run this upload-pack, leaving a mark.
    let marker = sb.path("fetched");
    let upload_pack = sb.path("upload-pack.sh");
    std::fs::write(
        &upload_pack,
        format!(
            "#!/bin/sh\ntouch '{}'\nexec git-upload-pack \"$@\"\n",
            marker.display()
        ),
    )
    .expect("write script");
    make_executable(&upload_pack);
    b.git(&[
        "config".as_ref(),
        "remote.origin.uploadpack".as_ref(),
        upload_pack.as_os_str(),
    ]);
    for prompt in [
        "Fix the typo in src/main.rs and README.md, then run the tests.",
        "Keep working on claude/b.",
    ] {
        let input = json!({
            "session_id": "sess-b",
            "cwd": b.path,
            "hook_event_name": "UserPromptSubmit",
            "prompt": prompt,
        });
        let out = claude(&b, input);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(stdout(&out), "", "{prompt}");
    }
    assert!(!marker.exists(), "a prompt naming no other session fetched");
    // Naming the session does fetch (the check above can fail).
    let input = json!({
        "cwd": b.path,
        "hook_event_name": "UserPromptSubmit",
        "prompt": "continue origin/claude/a please",
    });
    let out = claude(&b, input);
    assert!(!stdout(&out).is_empty(), "{}", text(&out));
    assert!(marker.exists(), "the named branch was fetched");
}

#[test]
fn session_start_on_a_new_branch_names_the_waiting_sessions() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    session_a(&sb, &remote);
    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    let input = json!({
        "session_id": "sess-b",
        "cwd": b.path,
        "hook_event_name": "SessionStart",
        "source": "startup",
    });
    let out = claude(&b, input);
    assert!(out.status.success(), "{}", text(&out));
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let context = value["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .expect("context");
    assert!(
        context.contains("origin/claude/a (paused")
            && context.contains("git session continue claude/a"),
        "{context}"
    );
}

#[test]
fn resume_says_how_to_continue_from_another_branch_and_to_push_an_unpushed_one() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    session_a(&sb, &remote);
    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    let prompt = b.session_ok(&["resume", "origin/claude/a"]);
    assert!(
        prompt.contains(
            "bring this session onto the branch you are on: git session continue claude/a"
        ),
        "{prompt}"
    );
    // A session on a branch that was never pushed says so.
    b.session_ok(&["checkpoint", "-q", "--task", "local work"]);
    let prompt = b.session_ok(&["resume"]);
    assert!(
        prompt.contains("it is in one clone only: publish it there with git session push"),
        "{prompt}"
    );
    assert!(!prompt.contains("git fetch origin claude/b"), "{prompt}");
}

#[test]
fn the_seed_cancel_and_continue_on_a_new_branch_through_a_strict_remote() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    let a = session_a(&sb, &remote);
    let a_tip = a.rev("HEAD");

    // A new session: a fresh clone on a branch of its own, from main.
    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    let list = b.session_json(&["list"]);
    assert_eq!(list["sessions"][0]["status"], "paused", "{list}");
    // The person names the old branch: the agent is handed its context.
    let out = claude(
        &b,
        json!({
            "session_id": "sess-b",
            "cwd": b.path,
            "hook_event_name": "UserPromptSubmit",
            "prompt": "Continue work on branch claude/a",
        }),
    );
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let context = value["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .expect("context");
    assert!(
        context.contains("Add a dark mode toggle to the settings page")
            && context.contains("Remaining: CSS variables and localStorage."),
        "{context}"
    );

    let out = b.session(&["continue", "claude/a"]);
    assert!(out.status.success(), "{}", text(&out));
    let prompt = stdout(&out);
    assert!(
        prompt.contains("Continue work on branch `claude/b`."),
        "{prompt}"
    );
    assert!(
        prompt.contains("(It continues the session of branch `claude/a`.)"),
        "{prompt}"
    );
    // git as the oracle: A's tip is in this branch, the work tree is A's,
    // nothing is uncommitted, and the repository is sound.
    b.git(&["merge-base", "--is-ancestor", &a_tip, "HEAD"]);
    b.git(&["diff", "--exit-code", &a_tip]);
    assert_eq!(b.status(), "", "clean after continue");
    assert_eq!(b.rev("HEAD~1"), a_tip, "one checkpoint on top of A's tip");
    assert!(git_trailers(&b, "HEAD").contains("Session-Continues: claude/a"));
    let state = b.session_json(&["show"]);
    assert_eq!(state["task"], "Add a dark mode toggle to the settings page");
    assert_eq!(state["branch"], "claude/b");
    assert_eq!(state["continues"], "claude/a");
    assert_eq!(
        state["report"],
        "Added the useDarkMode hook. Remaining: CSS variables and localStorage."
    );

    // Work goes on, and lands on this session's own branch through the
    // proxy that refuses every other ref.
    b.write("theme.css", ":root { --bg: #000 }\n");
    b.session_ok(&[
        "checkpoint",
        "-q",
        "-m",
        "css variables",
        "--done",
        "css variables",
    ]);
    let out = b.session(&["push"]);
    assert!(out.status.success(), "{}", text(&out));
    let on_remote = b.git(&[
        "ls-remote".as_ref(),
        remote.as_os_str(),
        "refs/heads/claude/b".as_ref(),
    ]);
    assert!(on_remote.starts_with(&b.rev("HEAD")), "{on_remote}");

    let resume = b.session_ok(&["resume"]);
    assert!(
        resume.contains("continues the session of branch `claude/a`"),
        "{resume}"
    );
    let list = b.session_json(&["list"]);
    let mine = list["sessions"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|s| s["branch"] == "claude/b")
        .expect("claude/b is listed")
        .clone();
    assert_eq!(mine["continues"], "claude/a");
    b.fsck();
}

#[test]
fn continue_refuses_on_a_branch_with_commits_of_its_own() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    session_a(&sb, &remote);
    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    b.write("mine.txt", "my own work\n");
    b.commit_all("my own commit");
    let before = b.fingerprint();
    let out = b.session(&["continue", "claude/a"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: cannot continue: 'claude/b' has commits of its own")
            && err.contains("hint: bring them together first"),
        "{err}"
    );
    assert_eq!(b.fingerprint(), before, "nothing changed");
    assert_eq!(b.read("mine.txt"), b"my own work\n");

    // Merged by hand, continue brings only the state over.
    b.git(&["merge", "-q", "--no-edit", "origin/claude/a"]);
    let merged = b.rev("HEAD");
    let out = b.session(&["continue", "claude/a", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(value["moved"], "already-there");
    assert_eq!(b.rev("HEAD~1"), merged);
    assert_eq!(
        b.session_json(&["show"])["task"],
        "Add a dark mode toggle to the settings page"
    );
}

#[test]
fn continue_refuses_when_an_untracked_file_is_in_the_way() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    session_a(&sb, &remote);
    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    b.write("toggle.js", "a different toggle, never saved\n");
    let before = b.fingerprint();
    let out = b.session(&["continue", "claude/a"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("toggle.js"),
        "{}",
        text(&out)
    );
    assert_eq!(b.fingerprint(), before, "nothing changed");
    assert_eq!(b.read("toggle.js"), b"a different toggle, never saved\n");
}

#[test]
fn continue_names_an_unknown_branch_and_changes_nothing() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb, "r");
    let before = repo.fingerprint();
    let out = repo.session(&["continue", "claude/nowhere"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no branch named 'claude/nowhere'")
            && err.contains("git session list --fetch"),
        "{err}"
    );
    assert_eq!(repo.fingerprint(), before);
}

#[test]
fn continue_moves_a_new_branch_made_from_a_newer_trunk() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    let a = session_a(&sb, &remote);
    let a_tip = a.rev("HEAD");
    // The trunk moved on after A forked from it.
    let seed = sb.repo("seed");
    seed.write("trunk.txt", "newer trunk\n");
    seed.commit_all("trunk moves on");
    let url = remote.to_str().expect("UTF-8 path");
    seed.git(&["push", "-q", url, "main"]);

    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    let value: Value =
        serde_json::from_str(&b.session_ok(&["continue", "claude/a", "--json"])).expect("JSON");
    assert_eq!(value["moved"], "moved", "{value}");
    assert_eq!(b.rev("HEAD~1"), a_tip);
    b.git(&["diff", "--exit-code", &a_tip]);
    assert!(
        !b.path.join("trunk.txt").exists(),
        "the trunk's newer file is on main, not here"
    );
    assert_eq!(b.status(), "");
    // Nothing was lost: the trunk's commit is still on main.
    b.git(&["merge-base", "--is-ancestor", "origin/main", "main"]);
}

#[test]
fn fresh_clone_on_main_points_at_the_sessions_on_other_branches() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    session_a(&sb, &remote);
    let b = clone(&sb, &remote, "b");
    for command in [&["resume"][..], &["show"][..]] {
        let out = b.session(command);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no checkpoint found at or before 'HEAD'"),
            "{err}"
        );
        assert!(
            err.contains("hint: sessions on other branches: origin/claude/a (paused, "),
            "{err}"
        );
        assert!(err.contains("git session continue BRANCH"), "{err}");
    }
    // With no session anywhere, the hint is the one about the search.
    let lone = repo_with_commit(&sb, "lone");
    let out = lone.session(&["resume"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("other branches"), "{err}");
    assert!(err.contains("session.searchDepth"), "{err}");
}

#[test]
fn status_says_a_branch_exists_only_in_this_clone_until_pushed() {
    let sb = Sandbox::new();
    let remote = strict_remote(&sb);
    let b = clone(&sb, &remote, "b");
    b.git(&["switch", "-q", "-c", "claude/b"]);
    b.session_ok(&["checkpoint", "-q", "--task", "local work"]);
    let human = b.session_ok(&["status"]);
    assert!(
        human.contains("this branch is in this clone only: 'git session push' publishes it"),
        "{human}"
    );
    assert_eq!(b.session_json(&["status"])["published"], json!([]));
    // The proxy refuses the notes, not the branch (exit 0 with a warning).
    let out = b.session(&["push"]);
    assert!(
        b.git(&["ls-remote", "origin", "refs/heads/claude/b"])
            .contains("refs/heads/claude/b"),
        "{}",
        text(&out)
    );
    assert_eq!(b.session_json(&["status"])["published"], json!(["origin"]));
    let human = b.session_ok(&["status"]);
    assert!(!human.contains("clone only"), "{human}");
    // A repository with no remote has nowhere to publish: no such line.
    let lone = repo_with_commit(&sb, "lone");
    lone.git(&["switch", "-q", "-c", "feat/y"]);
    lone.session_ok(&["checkpoint", "-q", "--task", "t"]);
    assert!(!lone.session_ok(&["status"]).contains("clone only"));
}
