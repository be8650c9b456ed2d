//! Control sequences in repository data never reach the terminal raw: a
//! commit anyone can write must not set the clipboard (OSC 52), clear the
//! screen or retitle the terminal of whoever runs `show` or `resume`.
//! JSON output stays exact.

use crate::support::{text, Repo, Sandbox};

/// The control bytes an attack needs: ESC, BEL, and CSI (U+009B) in UTF-8.
fn assert_no_raw_controls(what: &str, bytes: &[u8]) {
    let shown = String::from_utf8_lossy(bytes);
    assert!(
        !bytes.contains(&0x1b) && !bytes.contains(&0x07) && !shown.contains('\u{9b}'),
        "{what} printed raw control characters:\n{shown:?}"
    );
}

/// A repository whose only checkpoint is a plain commit, written with git,
/// whose trailers and subject carry escape sequences (trailers hold them
/// escaped as `\x1b`, which is how our own writer stores control
/// characters and what our reader decodes).
fn hostile_checkpoint(sandbox: &Sandbox) -> Repo {
    let repo = sandbox.init("r");
    repo.write("a.txt", "a\n");
    repo.git(&["add", "-A"]);
    let message = "update \x1b[2J\x1b]0;pwned\x07 \u{9b}2J\n\n\
        Session-Schema: 1\n\
        Session-Task: steal \\x1b]52;c;aGVsbG8=\\x07 the clipboard\n\
        Session-Todo: clear \\x1b[2J\\x1b[H the screen\n\
        Session-Done: retitle \\x1b]0;owned\\x07 it\n";
    repo.git(&["commit", "-q", "-m", message]);
    repo
}

#[test]
fn terminal_escapes_in_trailers_are_neutralized_in_show_resume_log_status() {
    let sandbox = Sandbox::new();
    let repo = hostile_checkpoint(&sandbox);
    for args in [
        &["show"][..],
        &["resume"],
        &["resume", "--template", "handoff"],
        &["log"],
        &["status"],
    ] {
        let out = repo.session(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert_no_raw_controls(&format!("{args:?} stdout"), &out.stdout);
        assert_no_raw_controls(&format!("{args:?} stderr"), &out.stderr);
    }
    let shown = repo.session_ok(&["show"]);
    assert!(
        shown.contains("steal ^[]52;c;aGVsbG8=^G the clipboard"),
        "the text is shown, in caret notation:\n{shown}"
    );
    let log = repo.session_ok(&["log"]);
    assert!(log.contains("update ^[[2J^[]0;pwned^G M-^[2J"), "{log}");
}

#[test]
fn terminal_escapes_survive_exactly_in_json() {
    let sandbox = Sandbox::new();
    let repo = hostile_checkpoint(&sandbox);
    let state = repo.session_json(&["show"]);
    assert_eq!(
        state["task"], "steal \x1b]52;c;aGVsbG8=\x07 the clipboard",
        "JSON carries the exact text, escaped by JSON itself"
    );
    assert_eq!(state["summary"], "update \x1b[2J\x1b]0;pwned\x07 \u{9b}2J");
    let out = repo.session(&["show", "--json"]);
    assert_no_raw_controls("show --json", &out.stdout);
    let context: serde_json::Value =
        serde_json::from_slice(&repo.session(&["resume", "--format", "json"]).stdout)
            .expect("resume JSON");
    assert_eq!(context["todo"][0], "clear \x1b[2J\x1b[H the screen");
}

#[test]
fn terminal_escapes_are_neutralized_even_when_coloured() {
    let sandbox = Sandbox::new();
    let repo = hostile_checkpoint(&sandbox);
    let out = repo.session(&["--color=always", "show"]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("\x1b[1mTask:\x1b[m"),
        "our own colours still pass:\n{shown:?}"
    );
    for attack in ["\x1b]52", "\x1b[2J", "\x1b]0;", "\x07"] {
        assert!(!shown.contains(attack), "{attack:?} passed:\n{shown:?}");
    }
}

#[test]
fn terminal_escapes_in_file_names_notes_and_errors_are_neutralized() {
    let sandbox = Sandbox::new();
    let repo = sandbox.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    // A note (TOML) holding a control character, written by our own
    // checkpoint from a flag.
    repo.session_ok(&["checkpoint", "--task", "note \x1b]0;t\x07 task"]);
    let shown = repo.session(&["show"]);
    assert_no_raw_controls("show of a note", &shown.stdout);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("note ^[]0;t^G task"));

    // A file name with an escape sequence in it.
    repo.write("evil\x1b[2Jname.txt", "x\n");
    let status = repo.session(&["status"]);
    assert_no_raw_controls("status", &status.stdout);
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("evil^[[2Jname.txt"),
        "{}",
        text(&status)
    );

    // Data echoed back in an error message.
    let err = repo.session(&["show", "x\x1b]0;t\x07"]);
    assert!(!err.status.success());
    assert_no_raw_controls("error", &err.stderr);
    assert!(String::from_utf8_lossy(&err.stderr).contains("x^[]0;t^G"));
}

#[test]
fn terminal_escapes_in_hook_errors_are_neutralized() {
    let sandbox = Sandbox::new();
    let repo = sandbox.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    // A hook whose input names a directory with an escape sequence: the
    // one-line error on stderr shows it in caret notation.
    let input = serde_json::json!({
        "hook_event_name": "Stop",
        "cwd": repo.path.join("missing\x1b]0;t\x07"),
    });
    let mut cmd = repo.session_command();
    cmd.args(["hook", "claude"])
        .stdin(std::process::Stdio::piped());
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn hook");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(input.to_string().as_bytes())
            .expect("write hook input");
    }
    let out = child.wait_with_output().expect("hook runs");
    assert!(out.status.success(), "{}", text(&out));
    assert_no_raw_controls("hook stderr", &out.stderr);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing^[]0;t^G"),
        "{}",
        text(&out)
    );
}
