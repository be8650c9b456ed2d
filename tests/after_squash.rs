//! Issue 22 (after the squash, and fixing a wrong item) and items 9 and
//! 13 of issue 21: publishing a squash with `--force-with-lease` (never over
//! someone else's push), `--drop`/`--edit`, item numbers that stay put,
//! mistyped references, refusals decided before the first write.

use crate::support::{text, Repo, Sandbox};

const NOTES: &str = "refs/notes/session";

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

/// A bare `remote.git` added to `repo` as `origin`.
fn with_remote(sb: &Sandbox, repo: &Repo) -> Repo {
    sb.git(&["init", "-q", "--bare", "-b", "main", "remote.git"]);
    repo.git(&[
        "remote".as_ref(),
        "add".as_ref(),
        "origin".as_ref(),
        sb.path("remote.git").as_os_str(),
    ]);
    sb.repo("remote.git")
}

/// `session` pushed twice (after its second and third checkpoints), then
/// squashed: the remote has the old chain.
fn squashed_after_two_pushes(sb: &Sandbox) -> (Repo, Repo) {
    let repo = session(sb);
    let remote = with_remote(sb, &repo);
    repo.session_ok(&["push"]);
    repo.write("src/parser.rs", "fn parse() -> u8 { 1 }\n");
    repo.session_ok(&["checkpoint", "--done", "docs", "--push"]);
    repo.session_ok(&["finish", "--squash"]);
    (repo, remote)
}

/// A second clone of the remote's `feat/x` that pushes one commit on top.
fn push_from_another_clone(sb: &Sandbox) -> String {
    sb.git(&["clone", "-q", "-b", "feat/x", "remote.git", "other"]);
    let other = sb.repo("other");
    other.write("theirs.txt", "their work\n");
    other.commit_all("their commit");
    other.git(&["push", "-q", "origin", "feat/x"]);
    other.rev("HEAD")
}

#[test]
fn squash_after_two_pushes_then_push_lands_the_squash_on_a_bare_remote() {
    let sb = Sandbox::new();
    let (repo, remote) = squashed_after_two_pushes(&sb);
    let old_chain = remote.rev("refs/heads/feat/x");
    assert_eq!(repo.rev("refs/session/archive/feat/x/1"), old_chain);
    let out = repo.session(&["push"]);
    assert!(out.status.success(), "{}", text(&out));
    let output = text(&out);
    assert!(output.contains("--force-with-lease"), "says so: {output}");
    assert!(output.contains("refs/session/archive/feat/x/1"), "{output}");
    assert_eq!(remote.rev("refs/heads/feat/x"), repo.rev("HEAD"));
    assert_eq!(repo.rev("origin/feat/x"), repo.rev("HEAD"));
    // The note of the squashed commit went along.
    let note = remote.git(&["notes", &format!("--ref={NOTES}"), "show", "feat/x"]);
    assert!(note.contains("reason = \"finish\""), "{note}");
    // A second push is an ordinary one.
    let again = repo.session_ok(&["push"]);
    assert!(again.contains("up to date"), "{again}");
}

#[test]
fn finish_squash_push_lands_the_squash_in_one_go() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let remote = with_remote(&sb, &repo);
    repo.session_ok(&["push"]);
    repo.write("src/parser.rs", "fn parse() -> u8 { 1 }\n");
    repo.session_ok(&["checkpoint", "--push"]);
    let out = repo.session(&["finish", "--squash", "--push"]);
    assert!(out.status.success(), "{}", text(&out));
    let output = text(&out);
    assert!(output.contains("squashed 4 commits"), "{output}");
    assert!(output.contains("--force-with-lease"), "{output}");
    assert!(
        !output.contains("already pushed"),
        "no advice to do what it did: {output}"
    );
    assert_eq!(remote.rev("refs/heads/feat/x"), repo.rev("HEAD"));
    assert_eq!(
        remote.rev("refs/heads/feat/x^"),
        repo.rev("main"),
        "one commit"
    );
}

#[test]
fn a_concurrent_push_by_another_clone_is_never_overwritten() {
    let sb = Sandbox::new();
    let (repo, remote) = squashed_after_two_pushes(&sb);
    // Pushed after this clone last fetched: only the remote can tell.
    let theirs = push_from_another_clone(&sb);
    // git status rewrites the index once (its own cache-tree order).
    repo.status();
    let before = repo.fingerprint();
    let out = repo.session(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert_eq!(remote.rev("refs/heads/feat/x"), theirs, "{output}");
    assert!(output.contains("refusing to overwrite them"), "{output}");
    assert!(output.contains("someone else pushed"), "{output}");
    assert!(
        output.contains("git reset --keep refs/session/archive/feat/x/1"),
        "says how to take their commits in and squash again: {output}"
    );
    assert!(
        !output.contains("'git pull --rebase"),
        "never a pull onto the squash: {output}"
    );
    assert_eq!(repo.fingerprint(), before);
}

#[test]
fn a_fetched_push_beyond_the_archived_chain_is_refused_before_pushing() {
    let sb = Sandbox::new();
    let (repo, remote) = squashed_after_two_pushes(&sb);
    let theirs = push_from_another_clone(&sb);
    repo.git(&["fetch", "-q", "origin"]);
    let out = repo.session(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(output.contains("refusing to overwrite them"), "{output}");
    assert_eq!(remote.rev("refs/heads/feat/x"), theirs);

    // Following the hint keeps their commit and publishes a new squash.
    repo.git(&["reset", "-q", "--keep", "refs/session/archive/feat/x/1"]);
    repo.git(&["rebase", "-q", "origin/feat/x"]);
    repo.session_ok(&["finish", "--squash"]);
    let out = repo.session(&["push"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(remote.rev("refs/heads/feat/x"), repo.rev("HEAD"));
    assert_eq!(repo.read("theirs.txt"), b"their work\n");
    let tree = repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(tree.contains("theirs.txt"), "{tree}");
}

#[test]
fn finish_squash_push_refuses_before_writing_when_the_remote_has_other_commits() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    with_remote(&sb, &repo);
    repo.session_ok(&["push"]);
    push_from_another_clone(&sb);
    repo.git(&["fetch", "-q", "origin"]);
    repo.write("src/parser.rs", "fn parse() -> u8 { 1 }\n");
    let before = repo.fingerprint();
    let out = repo.session(&["finish", "--squash", "--push"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(
        output.contains("git pull --rebase origin feat/x"),
        "{output}"
    );
    assert_eq!(repo.fingerprint(), before, "nothing written");
}

#[test]
fn a_rejected_push_after_a_squash_never_suggests_a_pull() {
    let sb = Sandbox::new();
    let (repo, _remote) = squashed_after_two_pushes(&sb);
    // The remote is known only by URL: no remote-tracking ref to go by.
    let url = sb.path("remote.git");
    let out = repo.session(&["push".as_ref(), url.as_os_str()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(!output.contains("'git pull --rebase"), "{output}");
    assert!(output.contains("do not 'git pull'"), "{output}");
}

#[test]
fn finish_squash_keeps_the_files_of_a_commit_made_after_the_last_checkpoint() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("mine.txt", "committed by hand\n");
    repo.commit_all("a commit of my own");
    let out = repo.session(&["finish", "--squash"]);
    assert!(out.status.success(), "{}", text(&out));
    let tree = repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(tree.contains("mine.txt"), "{tree}");
    assert_eq!(
        repo.rev("HEAD^{tree}"),
        repo.rev("refs/session/archive/feat/x/1^{tree}")
    );
    assert_eq!(repo.status(), "");
}
