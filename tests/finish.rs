//! `git session finish`: the final checkpoint, `--squash` (one commit since
//! the base with the tree `git add -A` would write, the old chain archived,
//! the note listing what it replaced, `show` and `resume` still working, the
//! force-push advice when the branch was pushed), refusals that change
//! nothing, and `--pr`.

use std::process::Command;

use crate::support::{text, Repo, Sandbox};

const NOTES: &str = "refs/notes/session";

/// A repository on `main` with one commit, and a session on `feat/x` with
/// three checkpoints after `start`. Returns the repository and the base.
fn session_with_checkpoints(sb: &Sandbox) -> (Repo, String) {
    let repo = sb.init("work");
    repo.write("README.md", "hello\n");
    repo.write("old.txt", "to be deleted\n");
    repo.write(".gitignore", "*.log\n");
    repo.commit_all("initial");
    let base = repo.rev("HEAD");
    repo.session_ok(&[
        "start",
        "-b",
        "feat/x",
        "--todo",
        "parser",
        "--todo",
        "docs",
        "--todo",
        "tests",
        "Add a parser\n\nIt reads the config format.",
    ]);
    repo.write("src/parser.rs", "fn parse() {}\n");
    repo.session_ok(&["checkpoint", "--done", "parser", "--decision", "no regex"]);
    repo.write("src/parser.rs", "fn parse() { todo!() }\n");
    repo.write("docs/parser.md", "# Parser\n");
    repo.session_ok(&["checkpoint", "--doing", "docs"]);
    repo.write("README.md", "hello, parser\n");
    repo.session_ok(&["checkpoint", "--done", "docs"]);
    (repo, base)
}

/// Uncommitted work of every kind: modified, new (also in a new
/// directory), deleted, ignored, executable.
fn uncommitted_edits(repo: &Repo) {
    repo.write("src/parser.rs", "fn parse() -> u32 { 42 }\n");
    repo.write("src/lexer/mod.rs", "pub fn lex() {}\n");
    std::fs::remove_file(repo.path.join("old.txt")).expect("delete a file");
    repo.write("build.log", "ignored\n");
    repo.write("run.sh", "#!/bin/sh\necho run\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            repo.path.join("run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
    }
}

/// The tree `git add -A && git write-tree` records for `repo`'s work tree,
/// asked of git in a copy (`cp -a`), so the repository itself is untouched.
fn git_add_all_tree(sb: &Sandbox, repo: &Repo) -> String {
    let copy = sb.path("oracle");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&repo.path)
        .arg(&copy)
        .status()
        .expect("run cp");
    assert!(status.success(), "cp -a failed");
    let oracle = sb.repo("oracle");
    oracle.git(&["add", "-A"]);
    oracle.git(&["write-tree"]).trim().to_string()
}

/// Checkpoint ids on first-parent history from HEAD, newest first.
fn checkpoint_ids(repo: &Repo) -> Vec<String> {
    repo.session_json(&["log"])
        .as_array()
        .expect("log --json is an array")
        .iter()
        .map(|cp| cp["commit"].as_str().expect("commit id").to_string())
        .collect()
}

fn note(repo: &Repo, rev: &str) -> toml::Table {
    let text = repo.git(&["notes", &format!("--ref={NOTES}"), "show", rev]);
    toml::from_str(&text).unwrap_or_else(|e| panic!("note is not TOML ({e}):\n{text}"))
}

#[test]
fn finish_squash_leaves_one_commit_with_the_tree_git_add_all_writes() {
    let sb = Sandbox::new();
    let (repo, base) = session_with_checkpoints(&sb);
    uncommitted_edits(&repo);
    let expected_tree = git_add_all_tree(&sb, &repo);
    let files_before: Vec<(String, Vec<u8>)> = ["src/parser.rs", "src/lexer/mod.rs", "build.log"]
        .iter()
        .map(|f| (f.to_string(), repo.read(f)))
        .collect();

    let checkpoints_before = checkpoint_ids(&repo);
    assert_eq!(checkpoints_before.len(), 4, "start and three checkpoints");

    let out = repo.session(&["finish", "--squash"]);
    assert!(out.status.success(), "{}", text(&out));
    let output = text(&out);
    assert!(output.contains("squashed 5 commits since"), "{output}");
    assert!(output.contains("refs/session/archive/feat/x/1"), "{output}");
    assert!(
        !output.contains("--force-with-lease"),
        "never pushed, so no force push: {output}"
    );

    // One commit since the base, with git's own `add -A` tree.
    assert_eq!(
        repo.git(&["rev-list", "--count", &format!("{base}..HEAD")])
            .trim(),
        "1"
    );
    assert_eq!(repo.rev("HEAD^"), base);
    assert_eq!(repo.rev("HEAD^{tree}"), expected_tree);
    assert_eq!(
        repo.git(&["symbolic-ref", "--short", "HEAD"]).trim(),
        "feat/x"
    );
    // The work tree was not touched and the index matches HEAD.
    assert_eq!(repo.status(), "", "git status must be clean");
    for (file, bytes) in files_before {
        assert_eq!(repo.read(&file), bytes, "{file} changed");
    }

    // The old chain is reachable under the archive ref: every checkpoint,
    // the final `finish` one included.
    assert_eq!(
        checkpoint_ids(&repo),
        vec![repo.rev("HEAD")],
        "HEAD's history has one checkpoint now"
    );
    let archive = repo.rev("refs/session/archive/feat/x/1");
    let old_chain = repo.git(&["rev-list", &archive]);
    for id in &checkpoints_before {
        assert!(
            old_chain.contains(id.as_str()),
            "{id} not reachable from the archive"
        );
    }
    let log = repo.session_json(&["log", &archive]);
    assert_eq!(
        log[0]["reason"], "finish",
        "the newest archived checkpoint is the final one"
    );
    assert_eq!(log[0]["commit"], archive);
    let mut archived_checkpoints = vec![archive.clone()];
    archived_checkpoints.extend(checkpoints_before);

    // The note lists the checkpoints it replaced, oldest first.
    let note = note(&repo, "HEAD");
    let replaced: Vec<String> = note["replaced"]
        .as_array()
        .expect("replaced is an array")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect();
    let mut oldest_first = archived_checkpoints.clone();
    oldest_first.reverse();
    assert_eq!(replaced, oldest_first);
    assert_eq!(
        note["archive"].as_str(),
        Some("refs/session/archive/feat/x/1")
    );

    // `show` reads the squashed commit: the final state, reason finish.
    let state = repo.session_json(&["show"]);
    assert_eq!(state["checkpoint"], repo.rev("HEAD"));
    assert_eq!(state["source"], "note");
    assert_eq!(state["reason"], "finish");
    assert_eq!(state["task"], "Add a parser\n\nIt reads the config format.");
    assert_eq!(state["done"], serde_json::json!(["parser", "docs"]));
    assert_eq!(state["todo"], serde_json::json!(["tests"]));
    assert_eq!(state["decisions"], serde_json::json!(["no regex"]));
    assert_eq!(state["base"], base);
    let human = repo.session_ok(&["show"]);
    assert!(human.contains("Add a parser"), "{human}");

    // The trailers carry the state too (a fresh clone has no notes).
    let trailers = repo.git(&["log", "-1", "--format=%(trailers:only,unfold)"]);
    assert!(trailers.contains("Session-Reason: finish"), "{trailers}");
    assert!(trailers.contains("Session-Done: docs"), "{trailers}");
    assert!(
        trailers.contains(&format!("Session-Base: {base}")),
        "{trailers}"
    );
    // The message comes from the squash template: subject from the task.
    let subject = repo.git(&["log", "-1", "--format=%s"]);
    assert_eq!(subject.trim(), "Add a parser");
    let body = repo.git(&["log", "-1", "--format=%b"]);
    assert!(body.contains("Completed:\n- parser\n- docs"), "{body}");

    let resume = repo.session_ok(&["resume"]);
    assert!(
        resume.starts_with("Continue work on branch `feat/x`."),
        "{resume}"
    );
    assert!(resume.contains("- #3 tests"), "{resume}");
    repo.fsck();
}

#[test]
fn finish_squash_from_trailers_alone_still_shows() {
    let sb = Sandbox::new();
    let (repo, _) = session_with_checkpoints(&sb);
    repo.session_ok(&[
        "finish",
        "--squash",
        "-m",
        "Parser",
        "-m",
        "Reads the format.",
    ]);
    assert_eq!(repo.git(&["log", "-1", "--format=%s"]).trim(), "Parser");
    assert!(repo
        .git(&["log", "-1", "--format=%b"])
        .starts_with("Reads the format.\n"));
    // Without notes (a fresh clone): the trailers serve.
    repo.git(&["update-ref", "-d", NOTES]);
    let state = repo.session_json(&["show"]);
    assert_eq!(state["source"], "trailers");
    assert_eq!(state["reason"], "finish");
    assert_eq!(state["done"], serde_json::json!(["parser", "docs"]));
}

#[test]
fn finish_squash_again_archives_under_the_next_number() {
    let sb = Sandbox::new();
    let (repo, base) = session_with_checkpoints(&sb);
    repo.session_ok(&["finish", "--squash"]);
    let first = repo.rev("HEAD");
    repo.write("more.txt", "more\n");
    repo.session_ok(&["checkpoint", "--done", "tests"]);
    repo.write("more.txt", "even more\n");
    repo.session_ok(&["finish", "--squash"]);
    assert_ne!(repo.rev("refs/session/archive/feat/x/1"), first);
    let second_archive = repo.rev("refs/session/archive/feat/x/2");
    let chain = repo.git(&["rev-list", &second_archive]);
    assert!(
        chain.contains(&first),
        "the first squash is in the second archive"
    );
    assert_eq!(repo.rev("HEAD^"), base);
    assert_eq!(repo.status(), "");
    let replaced = note(&repo, "HEAD")["replaced"]
        .as_array()
        .expect("array")
        .len();
    assert_eq!(replaced, 3, "the first squash, the checkpoint, the finish");
}

#[test]
fn finish_squash_refuses_when_there_is_nothing_to_squash() {
    let sb = Sandbox::new();
    let repo = sb.init("work");
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");

    // No session at all: nothing is written.
    let before = repo.fingerprint();
    let out = repo.session(&["finish", "--squash"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no checkpoint found"), "{}", text(&out));
    assert_eq!(repo.fingerprint(), before);

    // A session of one commit (start, nothing since): nothing to fold.
    repo.session_ok(&["start", "The task"]);
    let before = repo.fingerprint();
    let out = repo.session(&["finish", "--squash"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(
        output.contains("error: nothing to squash: only 1 commit since the session's base"),
        "{output}"
    );
    assert!(output.contains("hint: "), "{output}");
    assert_eq!(repo.fingerprint(), before, "a refusal changes nothing");
    let archives = repo.git(&["for-each-ref", "refs/session/archive/"]);
    assert_eq!(archives, "");
}

#[test]
fn finish_squash_of_a_pushed_branch_says_how_to_publish_it() {
    let sb = Sandbox::new();
    sb.git(&["init", "-q", "--bare", "-b", "main", "remote.git"]);
    let (repo, _) = session_with_checkpoints(&sb);
    repo.git(&[
        "remote".as_ref(),
        "add".as_ref(),
        "origin".as_ref(),
        sb.path("remote.git").as_os_str(),
    ]);
    repo.session_ok(&["push"]);
    let remote = sb.repo("remote.git");
    let pushed = remote.rev("refs/heads/feat/x");
    repo.write("late.txt", "late\n");

    let out = repo.session(&["finish", "--squash"]);
    assert!(out.status.success(), "{}", text(&out));
    let output = text(&out);
    assert!(output.contains("already pushed to 'origin'"), "{output}");
    assert!(output.contains("'git session push origin'"), "{output}");
    // Not pushed without asking: the remote still has the old chain.
    assert_eq!(remote.rev("refs/heads/feat/x"), pushed);
    // And the advice works.
    repo.session_ok(&["push", "origin"]);
    assert_eq!(remote.rev("refs/heads/feat/x"), repo.rev("HEAD"));
}

#[test]
fn finish_without_squash_checkpoints_and_keeps_open_items() {
    let sb = Sandbox::new();
    let (repo, _) = session_with_checkpoints(&sb);
    let before = repo.rev("HEAD");
    repo.write("src/parser.rs", "fn parse() -> u8 { 1 }\n");
    let out = repo.session_ok(&["finish"]);
    assert!(out.contains("(finish)"), "{out}");
    assert_eq!(repo.rev("HEAD^"), before, "one more checkpoint, no squash");
    let state = repo.session_json(&["show"]);
    assert_eq!(state["reason"], "finish");
    assert_eq!(state["todo"], serde_json::json!(["tests"]));
    assert_eq!(repo.status(), "");
}

#[test]
fn finish_pr_prints_a_pull_request_description_on_stdout_alone() {
    let sb = Sandbox::new();
    let (repo, _) = session_with_checkpoints(&sb);
    let out = repo.session(&["finish", "--squash", "--pr"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    let stderr = String::from_utf8(out.stderr.clone()).expect("UTF-8");
    assert!(stdout.starts_with("# Add a parser\n"), "{stdout}");
    for part in [
        "## Summary",
        "It reads the config format.",
        "## Completed",
        "- [x] parser",
        "- [x] docs",
        "## Remaining",
        "- [ ] tests",
        "## Decisions",
        "- no regex",
        "## Files changed",
        "`src/parser.rs` (added",
        "`docs/parser.md` (added",
        "`README.md` (modified",
    ] {
        assert!(stdout.contains(part), "missing {part:?} in:\n{stdout}");
    }
    assert!(
        !stdout.contains("squashed"),
        "reports go to stderr: {stdout}"
    );
    assert!(stderr.contains("squashed"), "{stderr}");
}

/// The `pr` template renders every resume-context fixture (empty, long
/// lists, multi-line items, …) under strict undefined variables, without
/// runs of blank lines.
#[test]
fn finish_pr_template_renders_every_context_fixture() {
    use git_session::render::{builtin, render_source};
    let source = builtin("pr").expect("built-in pr template");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/contexts");
    let mut rendered = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures/contexts") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let context: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read fixture"))
                .expect("fixture is JSON");
        let text = render_source(&source, &context)
            .unwrap_or_else(|e| panic!("pr with {}: {e:#}", path.display()));
        assert!(text.starts_with("# "), "{}:\n{text}", path.display());
        assert!(
            !text.contains("\n\n\n"),
            "{}: blank lines in a row:\n{text}",
            path.display()
        );
        assert!(
            text.ends_with('\n') && !text.ends_with("\n\n"),
            "{}:\n{text:?}",
            path.display()
        );
        rendered += 1;
    }
    assert!(rendered >= 5, "only {rendered} fixtures found");
}
