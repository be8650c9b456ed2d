//! Hardening found by use (issue 17, and issue 23's secrets and messages):
//! each test is named after the case that went wrong, with git as the
//! oracle where it can answer.

use serde_json::Value;

use crate::support::{text, Repo, Sandbox};

/// A repository with one commit made by git.
fn repo_with_commit(sb: &Sandbox) -> Repo {
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

// ---------------------------------------------------------------------------
// 17.1: trailers as git parses them

/// `git cherry-pick -x` appends "(cherry picked from commit …)" to the
/// trailer block; git still lists the Session-* trailers, and with no note
/// (notes do not follow a cherry-pick) the trailers are all there is.
#[test]
fn cherry_picked_checkpoint_keeps_its_state() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.git(&["switch", "-q", "-c", "feat"]);
    repo.session_ok(&["start", "-q", "dark mode"]);
    repo.write("b.txt", "b\n");
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "--done",
        "toggle",
        "--todo",
        "css variables",
    ]);
    repo.git(&["switch", "-q", "main"]);
    repo.git(&["cherry-pick", "-x", "feat"]);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.contains("Session-Todo: css variables\n(cherry picked from commit "),
        "{message}"
    );
    // git's own reading of the message.
    let parsed = repo.git_stdin(&["interpret-trailers", "--parse"], &message);
    assert!(parsed.contains("Session-Todo: css variables"), "{parsed}");

    let shown = repo.session_json(&["show"]);
    assert_eq!(shown["source"], "trailers", "{shown}");
    assert_eq!(shown["task"], "dark mode");
    assert_eq!(strings(&shown["done"]), ["toggle"]);
    assert_eq!(strings(&shown["todo"]), ["css variables"]);
    let resumed = repo.session_ok(&["resume"]);
    assert!(resumed.contains("css variables"), "{resumed}");
}

/// The same after `git commit --amend -s` and a `Co-authored-by` trailer
/// added by hand, in a message with CRLF line ends.
#[test]
fn signed_off_and_co_authored_crlf_checkpoint_keeps_its_state() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&["start", "-q", "task"]);
    repo.write("b.txt", "b\n");
    repo.session_ok(&["checkpoint", "-q", "--todo", "next"]);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    let edited = format!(
        "{}\nCo-authored-by: B <b@example.com>\n",
        message.trim_end()
    )
    .replace('\n', "\r\n");
    repo.git_stdin(
        &[
            "commit",
            "-q",
            "--amend",
            "-s",
            "--cleanup=verbatim",
            "-F",
            "-",
        ],
        &edited,
    );
    let shown = repo.session_json(&["show"]);
    assert_eq!(strings(&shown["todo"]), ["next"], "{shown}");
    assert_eq!(shown["task"], "task");
    let _ = text;
}
