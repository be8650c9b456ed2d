//! Limits and fallbacks that keep checkpoints working when something around
//! them is off: a long history without checkpoints, a broken template
//! override.

use crate::support::{text, Sandbox};

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

#[test]
fn a_broken_commit_template_override_falls_back_to_the_built_in() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    // Trusted, so the repository's template is run (and fails).
    repo.git(&["config", "session.trustRepoTemplates", "true"]);
    repo.write("a", "a\n");
    repo.write(
        ".git-session/templates/commit.j2",
        "{{ no_such_variable }}\n",
    );
    let out = repo.session(&["checkpoint", "--todo", "x", "-m", "still works"]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning:") && stderr.contains("'commit'") && stderr.contains("built-in"),
        "{stderr}"
    );
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("checkpoint: still works\n"),
        "{message}"
    );
    assert!(message.contains("Session-Todo: x"), "{message}");
}
