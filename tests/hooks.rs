//! Agent hooks through the real binary: `git session hook claude|codex`
//! with the hook's JSON on stdin, as Claude Code and Codex run it, against
//! the transcripts in `fixtures/claude/`; installing into settings files;
//! `hook pre-cancel`; and the cost of a Stop on a large transcript and on a
//! large repository.
//!
//! Hook inputs are `fixtures/claude/*.json` (and `fixtures/codex/`), whose
//! `"@CWD@"` and `"@TRANSCRIPT@"` placeholders are replaced with the test's
//! paths. Transcripts are copied into the sandbox, outside the repository,
//! where Claude Code keeps them (`~/.claude/projects/…`).

use std::fs;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{isolate, Repo, Sandbox, BIN};

/// The session id in every `fixtures/claude/*.json` input.
const SESSION: &str = "7c1e2d4a-5b6f-4a8e-9c0d-1e2f3a4b5c6d";
/// The model the fixture transcripts' main assistant lines name.
const MODEL: &str = "claude-sonnet-4-5-20250929";
/// The first real prompt of `todowrite.jsonl`.
const TODOWRITE_PROMPT: &str =
    "Add a dark mode toggle to the settings page and remember the user's choice across reloads.";

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// The hook input `fixtures/<rel>` with its placeholders filled in; a
/// `None` transcript becomes JSON `null`.
fn input(rel: &str, cwd: &Path, transcript: Option<&Path>) -> String {
    let text = fs::read_to_string(fixture(rel)).expect("read hook input fixture");
    let quote = |p: &Path| serde_json::to_string(&p.to_string_lossy()).expect("quote a path");
    let text = text.replace("\"@CWD@\"", &quote(cwd)).replace(
        "\"@TRANSCRIPT@\"",
        &transcript.map_or_else(|| "null".to_string(), quote),
    );
    // The input must stay a JSON object, or the test is not testing a hook.
    let value: Value = serde_json::from_str(&text).expect("hook input fixture is JSON");
    assert!(value.is_object(), "{rel} is not a JSON object");
    text
}

/// Copy `fixtures/claude/<name>` into the sandbox, outside the repository.
fn transcript(sb: &Sandbox, name: &str) -> PathBuf {
    let dir = sb.path("claude-projects");
    fs::create_dir_all(&dir).expect("create transcript dir");
    let path = dir.join(name);
    fs::copy(fixture(&format!("claude/{name}")), &path).expect("copy transcript");
    path
}

/// Run `git-session ARGS` in `dir` with `stdin` written to its standard
/// input, as an agent runs a hook.
fn run_in(repo: &Repo, dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = repo.session_command();
    cmd.current_dir(dir);
    piped(cmd.args(args), stdin)
}

fn piped(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Hook inputs are far smaller than a pipe buffer: no writer thread
    // needed. A process that exits without reading closes the pipe; its
    // output says why, so that is not this function's failure.
    let written = child.stdin.take().expect("stdin").write_all(stdin);
    if let Err(err) = written {
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write stdin: {err}"
        );
    }
    child.wait_with_output().expect("wait")
}

/// `git session hook <agent>` in the repository with `stdin`.
fn hook(repo: &Repo, agent: &str, stdin: &str) -> Output {
    run_in(repo, &repo.path, &["hook", agent], stdin.as_bytes())
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Assert a hook run exited 0 and said nothing on stderr; return stdout.
fn ok(out: &Output) -> String {
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "hook failed (status {:?}):\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    stdout(out)
}

/// A Stop hook in the repository on `transcript`; it must succeed silently.
fn stop(repo: &Repo, transcript: &Path) {
    let out = ok(&hook(
        repo,
        "claude",
        &input("claude/stop.json", &repo.path, Some(transcript)),
    ));
    assert_eq!(out, "", "a Stop hook prints nothing on stdout");
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// Assert the state's done, doing and todo lists.
fn assert_items(state: &Value, done: &[&str], doing: &[&str], todo: &[&str]) {
    assert_eq!(
        (
            strs(&state["done"]),
            strs(&state["doing"]),
            strs(&state["todo"])
        ),
        (
            done.iter().map(|s| s.to_string()).collect(),
            doing.iter().map(|s| s.to_string()).collect(),
            todo.iter().map(|s| s.to_string()).collect(),
        ),
        "(done, doing, todo) of {state:#}"
    );
}

/// The decoded values of trailer `key` on HEAD, as git parses them.
fn trailer(repo: &Repo, key: &str) -> Vec<String> {
    repo.git(&[
        "log",
        "-1",
        &format!("--format=%(trailers:key={key},valueonly)"),
    ])
    .lines()
    .filter(|l| !l.is_empty())
    .map(str::to_string)
    .collect()
}

/// A repository with one commit made by git on `main`, switched to the
/// branch `feat/dark-mode` (hooks do not checkpoint on the default branch).
fn repo_with_commit(sb: &Sandbox) -> Repo {
    let repo = sb.init("repo");
    repo.write("README.md", "# shop\n");
    repo.write("src/settings.tsx", "<Language />\n");
    repo.commit_all("base");
    repo.git(&["switch", "-q", "-c", "feat/dark-mode"]);
    repo
}

fn git_dir(repo: &Repo) -> PathBuf {
    PathBuf::from(repo.git(&["rev-parse", "--absolute-git-dir"]).trim())
}

fn hook_log(repo: &Repo) -> Vec<String> {
    fs::read_to_string(git_dir(repo).join("session/hook.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------- Stop

#[test]
fn stop_records_todowrite_list_first_prompt_agent_and_model() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "todowrite.jsonl");
    let base = repo.rev("HEAD");
    repo.write("src/settings.tsx", "<Language />\n<ThemeToggle />\n");

    stop(&repo, &transcript);

    assert_eq!(repo.rev("HEAD^"), base, "one checkpoint on top of the base");
    assert_eq!(
        repo.git(&["show", "HEAD:src/settings.tsx"]),
        "<Language />\n<ThemeToggle />\n"
    );
    assert_eq!(repo.status(), "", "the work tree is clean afterwards");
    let state = repo.session_json(&["show"]);
    // The newest TodoWrite wins: the first list's in-progress item, dropped
    // by the second, appears nowhere.
    assert_items(
        &state,
        &["Add the toggle to the settings page"],
        &["Persist the choice in localStorage"],
        &["Mention the toggle in the README"],
    );
    // Not the summary line, the Caveat meta line or the /clear echo.
    assert_eq!(state["task"], TODOWRITE_PROMPT);
    assert_eq!(state["reason"], "stop");
    assert_eq!(state["agent"], "claude-code");
    assert_eq!(state["agent_session"], SESSION);
    // The main model, not the `"model":"haiku"` of a subagent call.
    assert_eq!(state["model"], MODEL);
    // The trailers say the same, as git parses them.
    assert_eq!(trailer(&repo, "Session-Reason"), ["stop"]);
    assert_eq!(trailer(&repo, "Session-Agent"), ["claude-code"]);
    assert_eq!(trailer(&repo, "Session-Agent-Session"), [SESSION]);
    assert_eq!(
        trailer(&repo, "Session-Doing"),
        ["Persist the choice in localStorage"]
    );
    let log = hook_log(&repo);
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].contains("Stop: checkpoint"), "{log:?}");
    repo.fsck();
}

#[test]
fn second_stop_without_change_adds_no_commit() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "todowrite.jsonl");
    repo.write("src/settings.tsx", "<ThemeToggle />\n");
    stop(&repo, &transcript);
    let first = repo.fingerprint();
    assert_ne!(first.head, b"".to_vec());

    stop(&repo, &transcript);

    assert_eq!(repo.fingerprint(), first, "HEAD, refs, index all unchanged");
    let log = hook_log(&repo);
    assert!(
        log.last()
            .is_some_and(|l| l.contains("nothing to checkpoint")),
        "{log:?}"
    );
}

#[test]
fn stop_replays_task_tools() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "tasks.jsonl");
    repo.write("src/orders.ts", "offset = (page - 1) * size\n");

    stop(&repo, &transcript);

    let state = repo.session_json(&["show"]);
    // Task #2 was deleted; #4 and #5 were created after the deletion, and
    // Claude Code does not reuse #2's number or shift the later ones.
    assert_items(
        &state,
        &[
            "Write a failing test for the page boundary",
            "Fix the off-by-one in the orders query",
        ],
        &["Note the fix in the changelog"],
        &["Open a pull request"],
    );
    assert_eq!(
        state["task"],
        "The pagination on /orders skips a row between pages. Fix it, with a test."
    );
    assert_eq!(state["model"], MODEL);
}

#[test]
fn stop_without_a_todo_tool_records_the_prompt_and_no_items() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "neither.jsonl");
    repo.write("src/api.ts", "export const loadOrders = () => [];\n");

    stop(&repo, &transcript);

    let state = repo.session_json(&["show"]);
    assert_items(&state, &[], &[], &[]);
    // The prompt as a list of text blocks.
    assert_eq!(
        state["task"],
        "Rename the `fetchAll` helper to `loadOrders` everywhere."
    );
    assert_eq!(state["reason"], "stop");
    assert_eq!(state["agent"], "claude-code");
}

#[test]
fn stop_keeps_items_recorded_by_hand() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "todowrite.jsonl");
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "--task",
        "Dark mode, as agreed with design",
        "--todo",
        "Ask design about the contrast ratios",
        "--decision",
        "CSS variables, not a second stylesheet",
    ]);
    repo.write("src/settings.tsx", "<ThemeToggle />\n");

    stop(&repo, &transcript);

    let state = repo.session_json(&["show"]);
    assert_items(
        &state,
        &["Add the toggle to the settings page"],
        &["Persist the choice in localStorage"],
        &[
            "Ask design about the contrast ratios",
            "Mention the toggle in the README",
        ],
    );
    assert_eq!(
        strs(&state["decisions"]),
        ["CSS variables, not a second stylesheet"]
    );
    // The task set by hand is not replaced by the first prompt.
    assert_eq!(state["task"], "Dark mode, as agreed with design");
    assert_eq!(state["reason"], "stop");
}

#[test]
fn pre_compact_and_session_end_record_their_reasons() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "todowrite.jsonl");

    for (rel, reason, file) in [
        ("claude/pre-compact.json", "compact", "a.txt"),
        ("claude/session-end.json", "session-end", "b.txt"),
    ] {
        let before = repo.rev("HEAD");
        repo.write(file, reason);
        let out = ok(&hook(
            &repo,
            "claude",
            &input(rel, &repo.path, Some(&transcript)),
        ));
        assert_eq!(out, "", "{rel}: nothing on stdout");
        assert_eq!(repo.rev("HEAD^"), before, "{rel}: one new checkpoint");
        let state = repo.session_json(&["show"]);
        assert_eq!(state["reason"], reason, "{rel}");
        assert_eq!(state["agent_session"], SESSION, "{rel}");
        assert_eq!(
            strs(&state["doing"]),
            ["Persist the choice in localStorage"]
        );
        assert_eq!(trailer(&repo, "Session-Reason"), [reason], "{rel}");
    }
}

#[test]
fn unknown_event_writes_nothing_and_says_nothing() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "todowrite.jsonl");
    // A change a checkpoint would commit, were one taken.
    repo.write("src/settings.tsx", "<ThemeToggle />\n");
    let before = repo.fingerprint();

    let out = hook(
        &repo,
        "claude",
        &input("claude/notification.json", &repo.path, Some(&transcript)),
    );

    assert_eq!(ok(&out), "");
    assert_eq!(repo.fingerprint(), before);
    let session = git_dir(&repo).join("session");
    assert!(
        !session.join("hook.log").exists() && !session.join("transcripts").exists(),
        "nothing written under {}",
        session.display()
    );
}

/// Issue 21, item 8: with no `start`, the Stop hook committed straight
/// onto `main`, and on a detached HEAD onto no branch, without a word.
/// Hooks checkpoint on `session.hookBranches` (by default every branch but
/// the default one); elsewhere they save to a rescue ref and say so once.
#[test]
fn hooks_checkpoint_wherever_they_run() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("README.md", "# shop\n");
    repo.commit_all("base");
    let base = repo.rev("HEAD");
    let transcript = transcript(&sb, "todowrite.jsonl");
    let stop_input = input("claude/stop.json", &repo.path, Some(&transcript));

    repo.write("src/a.ts", "a\n");
    let out = hook(&repo, "claude", &stop_input);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(repo.rev("HEAD"), base, "nothing committed on main");
    let said = stderr(&out);
    assert!(
        said.contains("'main' is the default branch")
            && said.contains("refs/session/rescue/main")
            && said.contains("session.hookBranches"),
        "{said}"
    );
    assert_eq!(
        repo.git(&["show", "refs/session/rescue/main:src/a.ts"]),
        "a\n",
        "the work is saved beside the branch"
    );
    repo.write("src/a.ts", "a2\n");
    let out = hook(&repo, "claude", &stop_input);
    assert_eq!(stderr(&out), "", "said once");
    assert_eq!(
        repo.git(&["show", "refs/session/rescue/main:src/a.ts"]),
        "a2\n"
    );
    let rescued = repo.rev("refs/session/rescue/main");
    hook(&repo, "claude", &stop_input);
    assert_eq!(
        repo.rev("refs/session/rescue/main"),
        rescued,
        "nothing new, no new rescue"
    );
    assert!(hook_log(&repo).iter().all(|l| l.contains("default branch")));

    // Where the remote's HEAD points is the default branch.
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://example.invalid/shop.git",
    ]);
    repo.git(&["update-ref", "refs/remotes/origin/trunk", &base]);
    repo.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/trunk",
    ]);
    stop(&repo, &transcript);
    assert_eq!(
        repo.rev("HEAD^"),
        base,
        "main is not the default branch now"
    );
    repo.git(&["update-ref", "-d", "refs/remotes/origin/HEAD"]);

    // Patterns, as git branch --list reads them.
    repo.git(&["config", "session.hookBranches", "claude/*"]);
    repo.git(&["switch", "-q", "-c", "feat/x"]);
    repo.write("src/b.ts", "b\n");
    let before = repo.rev("HEAD");
    let out = hook(&repo, "claude", &stop_input);
    assert!(
        stderr(&out).contains("'feat/x' is not in session.hookBranches"),
        "{}",
        stderr(&out)
    );
    assert_eq!(repo.rev("HEAD"), before);
    repo.git(&["switch", "-q", "-c", "claude/session-1"]);
    stop(&repo, &transcript);
    assert_eq!(
        repo.rev("HEAD^"),
        before,
        "a checkpoint on claude/session-1"
    );

    // A detached HEAD: hooks rescue; a checkpoint by hand warns.
    repo.git(&["switch", "-q", "--detach"]);
    repo.write("src/c.ts", "c\n");
    let detached = repo.rev("HEAD");
    let out = hook(&repo, "claude", &stop_input);
    assert!(
        stderr(&out).contains("HEAD is detached"),
        "{}",
        stderr(&out)
    );
    assert_eq!(repo.rev("HEAD"), detached);
    assert_eq!(
        repo.git(&["show", "refs/session/rescue/HEAD:src/c.ts"]),
        "c\n"
    );
    let out = repo.session(&["checkpoint", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains("warning: HEAD is detached") && said.contains("git switch -c"),
        "{said}"
    );

    // Every branch, the default one included.
    repo.git(&["config", "session.hookBranches", "*"]);
    repo.git(&["switch", "-q", "main"]);
    repo.write("src/d.ts", "d\n");
    let before = repo.rev("HEAD");
    stop(&repo, &transcript);
    assert_eq!(repo.rev("HEAD^"), before, "a checkpoint on main");

    // A setting like any other: validated, refused by name.
    repo.git(&["config", "--add", "session.hookBranches", " "]);
    let out = repo.session(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("session.hookBranches: a branch pattern is empty"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------- SessionStart

#[test]
fn session_start_hands_the_agent_branch_and_open_items() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "todowrite.jsonl");
    repo.write("src/settings.tsx", "<ThemeToggle />\n");
    stop(&repo, &transcript);
    let before = repo.fingerprint();

    let out = ok(&hook(
        &repo,
        "claude",
        &input("claude/session-start.json", &repo.path, Some(&transcript)),
    ));

    let value: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("SessionStart output is not JSON ({e}):\n{out}"));
    assert_eq!(value["hookSpecificOutput"]["hookEventName"], "SessionStart");
    let context = value["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap_or_else(|| panic!("no additionalContext string in {value:#}"));
    for needle in [
        "feat/dark-mode",
        "Persist the choice in localStorage",
        "Mention the toggle in the README",
    ] {
        assert!(context.contains(needle), "{needle:?} not in:\n{context}");
    }
    assert_eq!(repo.fingerprint(), before, "SessionStart writes nothing");
}

#[test]
fn session_start_without_a_checkpoint_prints_nothing() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let unborn = sb.init("unborn");
    for repo in [&repo, &unborn] {
        let out = hook(
            repo,
            "claude",
            &input("claude/session-start.json", &repo.path, None),
        );
        assert_eq!(ok(&out), "", "in {}", repo.path.display());
    }
}

#[test]
fn session_start_outside_a_repository_prints_nothing() {
    let sb = Sandbox::new();
    let plain = sb.path("plain");
    fs::create_dir_all(&plain).expect("mkdir");
    let repo = sb.repo("plain");
    let mut cmd = repo.session_command();
    // However the machine is set up, no repository above the sandbox.
    cmd.env("GIT_CEILING_DIRECTORIES", sb.dir.path());
    let out = piped(
        cmd.args(["hook", "claude"]),
        input("claude/session-start.json", &plain, None).as_bytes(),
    );
    assert_eq!(ok(&out), "");
    assert!(!plain.join(".git").exists());
}

// ---------------------------------------------------------------- bad input

#[test]
fn garbage_or_missing_transcript_still_checkpoints() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);

    // A path that does not exist, and no path at all.
    for (file, path) in [
        ("a.txt", Some(sb.path("claude-projects/gone.jsonl"))),
        ("b.txt", None),
    ] {
        let before = repo.rev("HEAD");
        repo.write(file, "1");
        let out = ok(&hook(
            &repo,
            "claude",
            &input("claude/stop.json", &repo.path, path.as_deref()),
        ));
        assert_eq!(out, "");
        assert_eq!(repo.rev("HEAD^"), before, "{path:?}: a new checkpoint");
        assert_eq!(repo.git(&["show", &format!("HEAD:{file}")]), "1");
        let state = repo.session_json(&["show"]);
        assert_eq!(state["reason"], "stop", "{path:?}");
        assert_eq!(state["agent_session"], SESSION, "{path:?}");
        // Nothing to learn from the transcript: no task, no items.
        assert_eq!(state["task"], "", "{path:?}");
        assert_items(&state, &[], &[], &[]);
    }

    let garbage = transcript(&sb, "malformed.jsonl");
    let before = repo.rev("HEAD");
    repo.write("c.txt", "1");
    stop(&repo, &garbage);
    assert_eq!(repo.rev("HEAD^"), before, "a new checkpoint");
    let state = repo.session_json(&["show"]);
    assert_eq!(state["reason"], "stop");
    // What the readable lines say is kept.
    assert_eq!(state["task"], "Make the build reproducible.");
    assert_eq!(state["model"], "claude-opus-4-1-20250805");
    // The only TodoWrite is the cut-off last line: not read, no items.
    assert_items(&state, &[], &[], &[]);
}

#[test]
fn garbage_on_stdin_is_one_line_on_stderr_and_in_the_log() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write("a.txt", "a change a checkpoint would take");
    let before = repo.fingerprint();

    let out = run_in(
        &repo,
        &repo.path,
        &["hook", "claude"],
        b"{\"session_id\": \"x\", \"hook_ev",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line on stderr:\n{err}");
    assert!(err.contains("hook input"), "{err}");
    assert_eq!(repo.fingerprint(), before);
    let log = hook_log(&repo);
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0].contains("error") && log[0].contains("hook input"),
        "{log:?}"
    );

    // JSON, but not an object. Regression: serde read a struct from an
    // array field by field, so `[…, "Stop"]` took a checkpoint.
    let cwd = serde_json::to_string(&repo.path).expect("JSON");
    for garbage in ["", "null", "[]", &format!("[\"x\", null, {cwd}, \"Stop\"]")] {
        let out = run_in(&repo, &repo.path, &["hook", "claude"], garbage.as_bytes());
        assert_eq!(out.status.code(), Some(0), "{garbage:?}");
        let err = stderr(&out);
        assert!(
            err.lines().count() == 1 && err.contains("hook input"),
            "{garbage:?}: {err}"
        );
    }
    assert_eq!(hook_log(&repo).len(), 5, "{:?}", hook_log(&repo));
    assert_eq!(repo.fingerprint(), before);

    let out = run_in(
        &repo,
        &repo.path,
        &["hook", "claude", "--strict"],
        b"\xff\xfe not json",
    );
    assert_eq!(out.status.code(), Some(1), "--strict: exit 1");
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains("hook input"),
        "{err}"
    );
    assert_eq!(hook_log(&repo).len(), 6, "{:?}", hook_log(&repo));
    assert_eq!(repo.fingerprint(), before);
}

// ---------------------------------------------------------------- incremental

/// One assistant line calling TodoWrite with `todos` (content, status).
fn todo_write_line(id: &str, todos: &[(&str, &str)]) -> String {
    let todos: Vec<Value> = todos
        .iter()
        .map(|(content, status)| json!({"content": content, "status": status, "activeForm": content}))
        .collect();
    let line = json!({
        "parentUuid": null,
        "isSidechain": false,
        "sessionId": SESSION,
        "type": "assistant",
        "message": {
            "id": format!("msg_{id}"),
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [{"type": "tool_use", "id": format!("toolu_{id}"), "name": "TodoWrite", "input": {"todos": todos}}],
        },
        "uuid": format!("uuid-{id}"),
        "timestamp": "2026-01-02T11:00:00.000Z",
    });
    serde_json::to_string(&line).expect("serialise")
}

fn append(path: &Path, text: &str) {
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open transcript");
    file.write_all(text.as_bytes()).expect("append");
}

#[test]
fn stop_reads_what_was_appended_since_the_last_stop() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "todowrite.jsonl");
    repo.write("src/settings.tsx", "<ThemeToggle />\n");
    stop(&repo, &transcript);
    let cache = git_dir(&repo).join(format!("session/transcripts/{SESSION}.json"));
    let cached: Value = serde_json::from_slice(&fs::read(&cache).expect("the cache file exists"))
        .expect("the cache is JSON");
    assert!(cached.is_object(), "{cached}");

    let line = todo_write_line(
        "later",
        &[
            ("Add the toggle to the settings page", "completed"),
            ("Persist the choice in localStorage", "completed"),
            ("Mention the toggle in the README", "in_progress"),
        ],
    );
    // What was read is not read again: rename the model in the lines
    // already read (same length, so the file only grows). A full re-read
    // would record the new name in a new checkpoint.
    let text = fs::read_to_string(&transcript).expect("read transcript");
    assert!(text.contains(MODEL));
    fs::write(
        &transcript,
        text.replace(MODEL, "claude-sonnet-4-5-20990101"),
    )
    .expect("rewrite");
    // Still being written: no newline yet, so not read, so no change.
    let (head, tail) = line.split_at(line.len() - 10);
    append(&transcript, head);
    let before = repo.fingerprint();
    stop(&repo, &transcript);
    assert_eq!(
        repo.fingerprint(),
        before,
        "neither the lines read before nor a cut-off line are read"
    );

    append(&transcript, &format!("{tail}\n"));
    stop(&repo, &transcript);

    assert_ne!(repo.fingerprint().head, before.head, "a new checkpoint");
    let state = repo.session_json(&["show"]);
    assert_items(
        &state,
        &[
            "Add the toggle to the settings page",
            "Persist the choice in localStorage",
        ],
        &["Mention the toggle in the README"],
        &[],
    );
    assert_eq!(state["task"], TODOWRITE_PROMPT);
}

/// Issue 21, item 1: the agent context tells the agent to record progress
/// with `checkpoint --done '#1'`; the next Stop re-applied the transcript's
/// last TodoWrite list, though the transcript had not changed, and the item
/// was back in progress. A list is taken once; a newer one still wins.
#[test]
fn stop_hook_undoes_progress_recorded_by_hand() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "todowrite.jsonl");
    repo.write("src/settings.tsx", "<ThemeToggle />\n");
    stop(&repo, &transcript);
    repo.session_ok(&["checkpoint", "-q", "--done", "#1"]);
    let by_hand = repo.fingerprint();

    repo.write("src/settings.tsx", "<ThemeToggle on />\n");
    stop(&repo, &transcript);
    assert_ne!(
        repo.fingerprint().head,
        by_hand.head,
        "the file change is saved"
    );
    let state = repo.session_json(&["show"]);
    assert_items(
        &state,
        &[
            "Add the toggle to the settings page",
            "Persist the choice in localStorage",
        ],
        &[],
        &["Mention the toggle in the README"],
    );
    // With nothing new at all, nothing is written.
    let after = repo.fingerprint();
    stop(&repo, &transcript);
    assert_eq!(repo.fingerprint(), after);

    // A list the agent writes later is newer than the hand-recorded change.
    append(
        &transcript,
        &format!(
            "{}\n",
            todo_write_line(
                "later",
                &[
                    ("Add the toggle to the settings page", "completed"),
                    ("Persist the choice in localStorage", "in_progress"),
                    ("Mention the toggle in the README", "pending"),
                ],
            )
        ),
    );
    stop(&repo, &transcript);
    assert_items(
        &repo.session_json(&["show"]),
        &["Add the toggle to the settings page"],
        &["Persist the choice in localStorage"],
        &["Mention the toggle in the README"],
    );
}

/// A list the hook read but could not record (the checkpoint failed) is
/// still taken by the next Stop.
#[test]
fn stop_hook_takes_a_list_it_could_not_record_the_next_time() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = transcript(&sb, "todowrite.jsonl");
    repo.write("src/settings.tsx", "<ThemeToggle />\n");
    let lock = git_dir(&repo).join("index.lock");
    fs::write(&lock, "").expect("hold index.lock");
    let out = hook(
        &repo,
        "claude",
        &input("claude/stop.json", &repo.path, Some(&transcript)),
    );
    assert!(out.status.success(), "a hook never fails the agent");
    fs::remove_file(&lock).expect("release index.lock");
    stop(&repo, &transcript);
    assert_items(
        &repo.session_json(&["show"]),
        &["Add the toggle to the settings page"],
        &["Persist the choice in localStorage"],
        &["Mention the toggle in the README"],
    );
}

#[test]
fn items_the_agent_drops_from_its_list_leave_the_open_items() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let transcript = sb.path("dropping.jsonl");
    fs::write(
        &transcript,
        format!(
            "{{\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"Plan the work\"}}}}\n{}\n",
            todo_write_line("first", &[("keep me", "pending"), ("drop me", "in_progress"), ("finished", "completed")])
        ),
    )
    .expect("write transcript");
    repo.write("a.txt", "1\n");
    stop(&repo, &transcript);
    repo.session_ok(&["checkpoint", "-q", "--todo", "by hand"]);
    assert_items(
        &repo.session_json(&["show"]),
        &["finished"],
        &["drop me"],
        &["keep me", "by hand"],
    );

    // The agent's next list no longer has "drop me" (nor "finished").
    append(
        &transcript,
        &format!(
            "{}\n",
            todo_write_line("second", &[("keep me", "in_progress")])
        ),
    );
    repo.write("a.txt", "2\n");
    stop(&repo, &transcript);
    assert_items(
        &repo.session_json(&["show"]),
        &["finished"],
        &["keep me"],
        &["by hand"],
    );
}

// ---------------------------------------------------------------- install

/// A settings file a user already has: a Stop hook of their own and other
/// keys, written as `serde_json::to_string_pretty` + newline.
fn own_settings() -> String {
    let value = json!({
        "permissions": {"allow": ["Bash(npm test:*)"], "deny": ["Read(./.env)"]},
        "model": "opus",
        "hooks": {
            "Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "./scripts/notify.sh"}]}]
        },
        "env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "0"},
    });
    let mut text = serde_json::to_string_pretty(&value).expect("serialise");
    text.push('\n');
    text
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
}

/// The commands installed for `event`, across all its groups.
fn commands(settings: &Value, event: &str) -> Vec<String> {
    settings["hooks"][event]
        .as_array()
        .unwrap_or_else(|| panic!("hooks.{event} is not a list in {settings:#}"))
        .iter()
        .flat_map(|group| group["hooks"].as_array().expect("a hooks list").iter())
        .map(|h| h["command"].as_str().expect("a command").to_string())
        .collect()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn install_claude_keeps_the_users_hooks_and_keys_and_uninstall_restores() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let original = own_settings();
    repo.write(".claude/settings.json", &original);
    let path = repo.path.join(".claude/settings.json");

    let first = repo.session_ok(&["hook", "install", "claude"]);
    assert!(first.contains("installed"), "{first}");
    let again = repo.session_ok(&["hook", "install", "claude"]);
    assert!(again.contains("already installed"), "{again}");

    let settings = read_json(&path);
    let before: Value = serde_json::from_str(&original).expect("JSON");
    assert_eq!(keys(&settings), ["permissions", "model", "hooks", "env"]);
    for key in ["permissions", "model", "env"] {
        assert_eq!(settings[key], before[key], "{key} intact");
    }
    for event in ["SessionStart", "Stop", "PreCompact", "SessionEnd"] {
        let ours = commands(&settings, event)
            .iter()
            .filter(|c| *c == "git session hook claude")
            .count();
        assert_eq!(ours, 1, "{event}: ours exactly once in {settings:#}");
    }
    assert_eq!(
        commands(&settings, "Stop"),
        ["./scripts/notify.sh", "git session hook claude"]
    );

    let out = repo.session_ok(&["hook", "uninstall", "claude"]);
    assert!(out.contains("removed"), "{out}");
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        original,
        "byte for byte"
    );
}

#[test]
fn install_claude_scopes_local_and_user() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);

    repo.session_ok(&["hook", "install", "claude", "--scope", "local"]);
    let local = read_json(&repo.path.join(".claude/settings.local.json"));
    assert_eq!(commands(&local, "Stop"), ["git session hook claude"]);
    assert!(!repo.path.join(".claude/settings.json").exists());

    repo.session_ok(&["hook", "install", "claude", "--scope", "user"]);
    let user = read_json(&sb.home().join(".claude/settings.json"));
    for event in ["SessionStart", "Stop", "PreCompact", "SessionEnd"] {
        assert_eq!(
            commands(&user, event),
            ["git session hook claude"],
            "{event}"
        );
    }
    assert!(!repo.path.join(".claude/settings.json").exists());

    repo.session_ok(&["hook", "uninstall", "claude", "--scope", "user"]);
    assert!(
        !sb.home().join(".claude/settings.json").exists(),
        "only our hooks were there: the file goes with them"
    );
}

/// Issue 21, item 6: `hook install claude --scope local` wrote
/// `.claude/settings.local.json`, and the next checkpoint committed (and
/// could push) it. It goes to `.git/info/exclude`, as Claude Code does.
#[test]
fn local_settings_are_committed_by_the_next_checkpoint() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let out = repo.session_ok(&["hook", "install", "claude", "--scope", "local"]);
    assert!(out.contains(".git/info/exclude"), "{out}");
    repo.write("src/settings.tsx", "<ThemeToggle />\n");
    repo.session_ok(&["checkpoint", "-q"]);
    let tree = repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(!tree.contains("settings.local.json"), "{tree}");
    assert_eq!(repo.status(), "", "git ignores it too");
    let ignored = repo.git(&["check-ignore", "-v", ".claude/settings.local.json"]);
    assert!(ignored.starts_with(".git/info/exclude:"), "{ignored}");
    // Once is enough.
    let again = repo.session_ok(&["hook", "install", "claude", "--scope", "local"]);
    assert!(!again.contains("exclude"), "{again}");
    let exclude = fs::read_to_string(git_dir(&repo).join("info/exclude")).expect("read");
    assert_eq!(
        exclude.matches("settings.local.json").count(),
        1,
        "{exclude}"
    );
}

/// Issue 21, item 7: install and uninstall turned a 0644 settings file
/// into 0600 and re-serialised it, and uninstalling from a file install had
/// created left `{}` behind.
// Unix only: file modes.
#[cfg(unix)]
#[test]
fn install_changes_the_settings_files_mode_and_formatting() {
    use std::os::unix::fs::PermissionsExt as _;
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let path = repo.path.join(".claude/settings.json");
    // Four-space indents, a compact list, keys in the user's order.
    let original = "{\n    \"model\": \"opus\",\n    \"permissions\": {\"allow\": [\"Bash(ls)\"]},\n    \"hooks\": {\n        \"Stop\": [\n            {\"hooks\": [{\"type\": \"command\", \"command\": \"./notify.sh\"}]}\n        ]\n    }\n}\n";
    repo.write(".claude/settings.json", original);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");

    repo.session_ok(&["hook", "install", "claude"]);
    let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o644, "the mode is kept");
    let installed = fs::read_to_string(&path).expect("read");
    for untouched in [
        "    \"model\": \"opus\",\n",
        "    \"permissions\": {\"allow\": [\"Bash(ls)\"]},\n",
        "            {\"hooks\": [{\"type\": \"command\", \"command\": \"./notify.sh\"}]},\n",
    ] {
        assert!(
            installed.contains(untouched),
            "{untouched:?} changed:\n{installed}"
        );
    }
    assert!(
        installed
            .contains("\n        \"SessionStart\": [\n            {\n                \"hooks\": ["),
        "our entries in the file's own indentation:\n{installed}"
    );
    assert_eq!(
        commands(&read_json(&path), "Stop"),
        ["./notify.sh", "git session hook claude"]
    );

    repo.session_ok(&["hook", "uninstall", "claude"]);
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        original,
        "byte for byte"
    );
    assert_eq!(mode(&path), 0o644);

    // A file install created: the mode a new file gets here, and gone again
    // with our hooks.
    let local = repo.path.join(".claude/settings.local.json");
    let probe = repo.path.join(".claude/probe");
    fs::write(&probe, "").expect("a new file, for the umask's mode");
    repo.session_ok(&["hook", "install", "claude", "--scope", "local"]);
    assert_eq!(mode(&local), mode(&probe));
    repo.session_ok(&["hook", "uninstall", "claude", "--scope", "local"]);
    assert!(!local.exists(), "the file only we filled is removed");
}

#[test]
fn install_codex() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);

    repo.session_ok(&["hook", "install", "codex"]);

    let settings = read_json(&repo.path.join(".codex/hooks.json"));
    assert_eq!(
        keys(&settings["hooks"]),
        ["SessionStart", "UserPromptSubmit", "Stop", "PreCompact"]
    );
    for event in ["SessionStart", "UserPromptSubmit", "Stop", "PreCompact"] {
        assert_eq!(
            commands(&settings, event),
            ["git session hook codex"],
            "{event}"
        );
    }

    let out = repo.session(&["hook", "install", "codex", "--scope", "local"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("Codex") && err.contains("local") && err.contains("--scope"),
        "a clear refusal: {err}"
    );
    assert!(!repo.path.join(".codex/hooks.local.json").exists());
    assert!(!repo.path.join(".claude").exists());
}

// Unix only: runs the installed command with sh.
#[cfg(unix)]
#[test]
fn installed_command_works_from_a_subdirectory() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&["hook", "install", "claude"]);
    let settings = read_json(&repo.path.join(".claude/settings.json"));
    let command = commands(&settings, "Stop").remove(0);
    let transcript = transcript(&sb, "todowrite.jsonl");
    repo.write("src/deep/theme.ts", "export const dark = true;\n");
    let before = repo.rev("HEAD");

    // The command as the agent runs it: through a shell, with git-session
    // on PATH, from wherever the agent's process happens to be; the input's
    // cwd is a subdirectory of the repository.
    let bin_dir = Path::new(BIN).parent().expect("binary dir");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let mut cmd = Command::new("sh");
    isolate(&mut cmd, &sb.home());
    cmd.env("PATH", path)
        .current_dir(sb.dir.path())
        .args(["-c", &command]);
    let out = piped(
        &mut cmd,
        input(
            "claude/stop.json",
            &repo.path.join("src/deep"),
            Some(&transcript),
        )
        .as_bytes(),
    );

    assert_eq!(ok(&out), "");
    assert_eq!(repo.rev("HEAD^"), before, "a checkpoint was made");
    assert_eq!(
        repo.git(&["show", "HEAD:src/deep/theme.ts"]),
        "export const dark = true;\n"
    );
    let state = repo.session_json(&["show"]);
    assert_eq!(state["reason"], "stop");
    assert_eq!(state["task"], TODOWRITE_PROMPT);
}

// ---------------------------------------------------------------- Codex, pre-cancel

#[test]
fn codex_stop_records_agent_and_model_from_the_input() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write("src/lib.rs", "pub fn f() {}\n");
    let before = repo.rev("HEAD");

    let out = ok(&hook(
        &repo,
        "codex",
        &input("codex/stop.json", &repo.path, None),
    ));

    assert_eq!(out, "");
    assert_eq!(repo.rev("HEAD^"), before);
    let state = repo.session_json(&["show"]);
    assert_eq!(state["agent"], "codex");
    assert_eq!(state["model"], "gpt-5-codex");
    assert_eq!(
        state["agent_session"],
        "0199a213-81c0-7800-8aa1-bbab2a035a53"
    );
    assert_eq!(state["reason"], "stop");
}

#[test]
fn pre_cancel_checkpoints_and_prints_the_resume_prompt() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "--task",
        "Add a dark mode",
        "--todo",
        "persist the choice",
    ]);
    repo.write("src/settings.tsx", "<ThemeToggle />\n");
    let before = repo.rev("HEAD");

    let out = repo.session(&["hook", "pre-cancel"]);

    assert!(out.status.success(), "{}", stderr(&out));
    let prompt = stdout(&out);
    assert!(
        prompt.starts_with("Continue work on branch"),
        "stdout:\n{prompt}"
    );
    for needle in ["feat/dark-mode", "Add a dark mode", "persist the choice"] {
        assert!(prompt.contains(needle), "{needle:?} not in:\n{prompt}");
    }
    assert_eq!(repo.rev("HEAD^"), before, "a checkpoint was made");
    assert_eq!(repo.session_json(&["show"])["reason"], "pre-cancel");
    assert_eq!(repo.status(), "");
}

// ---------------------------------------------------------------- scale

/// Write a transcript of about `bytes` bytes: a first prompt, then turns of
/// big assistant text and tool calls with their results, the system
/// reminders Claude Code inserts (which mention TodoWrite), and one
/// TodoWrite call about 64 KiB before the end.
fn big_transcript(path: &Path, bytes: u64) {
    let file = fs::File::create(path).expect("create transcript");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut put = |out: &mut BufWriter<fs::File>, line: &Value| {
        let text = serde_json::to_string(line).expect("serialise");
        out.write_all(text.as_bytes()).expect("write");
        out.write_all(b"\n").expect("write");
        written += text.len() as u64 + 1;
        written
    };
    put(
        &mut out,
        &json!({"type": "user", "sessionId": SESSION, "message": {"role": "user", "content": "Port the billing module to the new API."}}),
    );
    let paragraph = "The \"invoice\" struct keeps its fields; only the client changes.\n\tfn call(&self) -> Result<(), Error> { todo!() }\n"
        .repeat(180); // about 20 KB
    let mut turn = 0u64;
    let mut todo_written = false;
    loop {
        turn += 1;
        let id = format!("{turn:08}");
        let text = json!({"type": "assistant", "sessionId": SESSION, "message": {"id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": MODEL, "content": [
            {"type": "text", "text": paragraph},
            {"type": "tool_use", "id": format!("toolu_{id}"), "name": "Edit", "input": {"file_path": "/src/billing.rs", "old_string": "old_client()", "new_string": "new_client()"}},
        ]}});
        put(&mut out, &text);
        let reminder = if turn.is_multiple_of(50) {
            "<system-reminder>The TodoWrite tool hasn't been used recently.</system-reminder>"
        } else {
            ""
        };
        let result = json!({"type": "user", "sessionId": SESSION, "message": {"role": "user", "content": [
            {"tool_use_id": format!("toolu_{id}"), "type": "tool_result", "content": format!("The file /src/billing.rs has been updated.{reminder}")},
        ]}, "toolUseResult": {"filePath": "/src/billing.rs", "oldString": "old_client()", "newString": "new_client()"}});
        let now = put(&mut out, &result);
        if !todo_written && now + (64 << 10) >= bytes {
            put(
                &mut out,
                &serde_json::from_str(&todo_write_line(
                    "big",
                    &[
                        ("Port the invoice client", "completed"),
                        ("Port the refund client", "in_progress"),
                        ("Remove the old SDK", "pending"),
                    ],
                ))
                .expect("JSON"),
            );
            todo_written = true;
        }
        if now >= bytes {
            break;
        }
    }
    out.flush().expect("flush");
}

/// Time a Stop hook on `transcript`; it must succeed.
fn timed_stop(repo: &Repo, transcript: &Path) -> Duration {
    let stdin = input("claude/stop.json", &repo.path, Some(transcript));
    let start = Instant::now();
    let out = hook(repo, "claude", &stdin);
    let took = start.elapsed();
    assert_eq!(ok(&out), "");
    took
}

/// Cold Stop (no cache) on a transcript of `bytes`, then warm Stop after a
/// few KB were appended; both must find the newest list. Returns the times.
fn large_transcript_round(bytes: u64) -> (Duration, Duration) {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let path = sb.path("big.jsonl");
    big_transcript(&path, bytes);
    let size = fs::metadata(&path).expect("stat").len();
    assert!(size >= bytes, "{size} < {bytes}");
    repo.write("src/billing.rs", "new_client()\n");

    let cold = timed_stop(&repo, &path);
    let state = repo.session_json(&["show"]);
    assert_items(
        &state,
        &["Port the invoice client"],
        &["Port the refund client"],
        &["Remove the old SDK"],
    );
    assert_eq!(state["task"], "Port the billing module to the new API.");

    let mut appended = String::new();
    while appended.len() < 4 << 10 {
        appended.push_str(&format!(
            "{}\n",
            json!({"type": "assistant", "message": {"role": "assistant", "model": MODEL, "content": [{"type": "text", "text": "Refund client ported; removing the SDK next."}]}})
        ));
    }
    appended.push_str(&todo_write_line(
        "warm",
        &[
            ("Port the invoice client", "completed"),
            ("Port the refund client", "completed"),
            ("Remove the old SDK", "in_progress"),
        ],
    ));
    appended.push('\n');
    append(&path, &appended);
    let warm = timed_stop(&repo, &path);
    let state = repo.session_json(&["show"]);
    assert_items(
        &state,
        &["Port the invoice client", "Port the refund client"],
        &["Remove the old SDK"],
        &[],
    );
    eprintln!(
        "Stop hook on a {} MB transcript: cold {:?}, warm (+{} bytes) {:?}",
        size / 1_000_000,
        cold,
        appended.len(),
        warm
    );
    (cold, warm)
}

#[test]
fn large_transcript_newest_todo_list_is_found_cold_and_warm() {
    large_transcript_round(20_000_000);
}

/// Run in release: `cargo test --release --test integration hooks -- --ignored --nocapture`.
#[test]
#[ignore = "writes a 200 MB transcript; run in release with --ignored --nocapture for the figures"]
fn large_transcript_200_mb_timing() {
    let (cold, warm) = large_transcript_round(200_000_000);
    if !cfg!(debug_assertions) {
        // The warm run reads a few KB where the cold one read 200 MB.
        assert!(warm * 4 < cold, "warm {warm:?} vs cold {cold:?}");
    }
}

/// Run in release: `cargo test --release --test integration hooks -- --ignored --nocapture`.
#[test]
#[ignore = "builds a 20 000-file repository; run in release with --ignored --nocapture for the figure"]
fn stop_on_a_20_000_file_repository() {
    let sb = Sandbox::new();
    let repo = sb.init("big");
    repo.git(&["switch", "-q", "-c", "feat/big"]);
    for i in 0..20_000 {
        let dir = repo.path.join(format!("src/m{:03}", i / 100));
        if i % 100 == 0 {
            fs::create_dir_all(&dir).expect("mkdir");
        }
        fs::write(
            dir.join(format!("f{i:05}.rs")),
            format!("pub const N: u32 = {i};\n"),
        )
        .expect("write");
    }
    repo.commit_all("20 000 files");
    let transcript = transcript(&sb, "todowrite.jsonl");
    for i in [3, 4_000, 9_999, 15_000, 19_999] {
        let file = format!("src/m{:03}/f{i:05}.rs", i / 100);
        repo.write(&file, format!("pub const N: u32 = {};\n", i + 1));
    }
    repo.write("src/new/theme.rs", "pub const DARK: bool = true;\n");
    repo.write("src/new/toggle.rs", "pub fn toggle() {}\n");
    let before = repo.rev("HEAD");

    let took = timed_stop(&repo, &transcript);

    assert_eq!(repo.rev("HEAD^"), before, "a checkpoint was made");
    let changed = repo.git(&["diff", "--name-only", "HEAD^", "HEAD"]);
    assert_eq!(changed.lines().count(), 7, "{changed}");
    assert_eq!(repo.status(), "");
    // A warm second run (nothing changed) as well, for the figure.
    let idle = timed_stop(&repo, &transcript);
    assert_eq!(repo.rev("HEAD^"), before);
    eprintln!(
        "Stop hook on a 20 000-file repository: 7 changes {took:?}, nothing changed {idle:?}"
    );
    if !cfg!(debug_assertions) {
        assert!(took < Duration::from_millis(1500), "{took:?}");
    }
}
