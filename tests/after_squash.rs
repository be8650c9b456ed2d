//! Issue 22 (after the squash, and fixing a wrong item) and items 9 and
//! 13 of issue 21: publishing a squash with `--force-with-lease` (never over
//! someone else's push), `--drop`/`--edit`, item numbers that stay put,
//! mistyped references, refusals decided before the first write.

use crate::support::{text, Repo, Sandbox};

/// A repository on `main` with one commit, a session on `feat/x` with two
/// checkpoints after `start`.
fn session(sb: &Sandbox) -> Repo {
    let repo = sb.init("work");
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.session_ok(&[
        "start",
        "-b",
        "feat/x",
        "--todo",
        "parser",
        "--todo",
        "docs",
        "Add a parser",
    ]);
    repo.write("src/parser.rs", "fn parse() {}\n");
    repo.session_ok(&["checkpoint", "--done", "parser"]);
    repo.write("docs/parser.md", "# Parser\n");
    repo.session_ok(&["checkpoint", "--doing", "docs"]);
    repo
}

#[test]
fn finish_squash_on_a_detached_head_refuses_before_writing_a_checkpoint() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.git(&["switch", "-q", "--detach"]);
    repo.write("src/parser.rs", "fn parse() -> u8 { 1 }\n");
    let before = repo.fingerprint();
    let out = repo.session(&["finish", "--squash"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(output.contains("HEAD is detached"), "{output}");
    assert!(!output.contains("checkpoint "), "no checkpoint: {output}");
    assert_eq!(repo.fingerprint(), before, "a refusal writes nothing");
}

#[test]
fn finish_squash_with_an_empty_message_refuses_before_writing_a_checkpoint() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("src/parser.rs", "fn parse() -> u8 { 1 }\n");
    let before = repo.fingerprint();
    let out = repo.session(&["finish", "--squash", "-m", " "]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(repo.fingerprint(), before, "a refusal writes nothing");
}

#[test]
fn finish_squash_with_nothing_to_fold_refuses_before_writing_a_checkpoint() {
    let sb = Sandbox::new();
    let repo = sb.init("work");
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.session_ok(&["start", "-b", "feat/x", "A task"]);
    // One commit since the base and nothing new: the checkpoint would
    // write nothing, so the squash has one commit to fold.
    let before = repo.fingerprint();
    let out = repo.session(&["finish", "--squash"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("nothing to squash"), "{}", text(&out));
    assert_eq!(repo.fingerprint(), before);
}
