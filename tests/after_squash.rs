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

/// The state as the note has it and as the trailers have it (read by
/// git's own trailer parser), for "in agreement" checks.
fn note_and_trailers(repo: &Repo) -> (toml::Table, Vec<(String, String)>) {
    let note = repo.git(&["notes", &format!("--ref={NOTES}"), "show", "HEAD"]);
    let note: toml::Table = toml::from_str(&note).expect("the note is TOML");
    let message = repo.git(&["log", "-1", "--format=%B"]);
    let trailers = repo
        .git_stdin(&["interpret-trailers", "--parse"], &message)
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (note, trailers)
}

fn note_list(note: &toml::Table, key: &str) -> Vec<String> {
    note.get(key)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|v| match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn trailer_list(trailers: &[(String, String)], key: &str) -> Vec<String> {
    trailers
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// Note and trailers hold the same items and numbers.
fn assert_in_agreement(repo: &Repo) {
    let (note, trailers) = note_and_trailers(repo);
    for (key, trailer) in [
        ("done", "Session-Done"),
        ("doing", "Session-Doing"),
        ("todo", "Session-Todo"),
    ] {
        assert_eq!(
            note_list(&note, key),
            trailer_list(&trailers, trailer),
            "{key}"
        );
    }
    let numbers = note_list(&note, "numbers").join(" ");
    let trailer = trailer_list(&trailers, "Session-Numbers").join(" ");
    assert_eq!(numbers, trailer, "numbers");
}

/// `N. text` lines of `show` or `status`: (number, text without marker).
fn numbered(out: &str) -> Vec<(u32, String)> {
    out.lines()
        .filter_map(|l| {
            let (n, rest) = l.strip_prefix("  ")?.split_once(". ")?;
            Some((
                n.parse().ok()?,
                rest.trim_end_matches(" (in progress)").to_string(),
            ))
        })
        .collect()
}

/// `- #N text` lines of `resume`.
fn resume_numbered(out: &str) -> Vec<(u32, String)> {
    let mut found: Vec<(u32, String)> = out
        .lines()
        .filter_map(|l| {
            let (n, rest) = l.strip_prefix("- #")?.split_once(' ')?;
            Some((n.parse().ok()?, rest.to_string()))
        })
        .collect();
    found.sort();
    found
}

fn items(repo: &Repo) -> (Vec<String>, Vec<String>, Vec<String>) {
    let s = repo.session_json(&["show"]);
    let list = |key: &str| -> Vec<String> {
        s[key]
            .as_array()
            .expect("a list")
            .iter()
            .map(|v| v.as_str().expect("text").to_string())
            .collect()
    };
    (list("done"), list("doing"), list("todo"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn drop_and_edit_round_trip_through_trailers_and_notes() {
    let sb = Sandbox::new();
    let repo = sb.init("work");
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.session_ok(&[
        "start", "--todo", "parser", "--todo", "docs", "--todo", "tests", "A task",
    ]);
    // A typo recorded as done: --drop removes it.
    repo.session_ok(&["checkpoint", "--done", "parsre"]);
    assert_eq!(items(&repo).0, strings(&["parsre"]));
    repo.session_ok(&["checkpoint", "--drop", "parsre", "--done", "parser"]);
    assert_eq!(items(&repo).0, strings(&["parser"]));
    assert_in_agreement(&repo);

    // --edit '#N=…' corrects an open item in place; it keeps its number.
    repo.session_ok(&["checkpoint", "--edit", "#3=integration tests"]);
    assert_eq!(
        items(&repo),
        (
            strings(&["parser"]),
            vec![],
            strings(&["docs", "integration tests"])
        )
    );
    let show = repo.session_ok(&["show"]);
    assert_eq!(
        numbered(&show),
        vec![(2, "docs".into()), (3, "integration tests".into())],
        "{show}"
    );
    assert_in_agreement(&repo);
    // And 'old=new' edits a done item.
    repo.session_ok(&["checkpoint", "--edit", "parser=config parser"]);
    assert_eq!(items(&repo).0, strings(&["config parser"]));
    // --drop '#N' drops an open item.
    repo.session_ok(&["checkpoint", "--drop", "#2"]);
    assert_eq!(items(&repo).2, strings(&["integration tests"]));
    assert_in_agreement(&repo);

    // From trailers alone (no notes) the state is the same.
    let with_note = repo.session_json(&["show"]);
    repo.git(&["update-ref", "-d", NOTES]);
    let from_trailers = repo.session_json(&["show"]);
    assert_eq!(from_trailers["source"], "trailers");
    for key in ["done", "doing", "todo", "open"] {
        assert_eq!(with_note[key], from_trailers[key], "{key}");
    }
}

#[test]
fn item_numbers_are_stable_across_checkpoints() {
    let sb = Sandbox::new();
    let repo = sb.init("work");
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.session_ok(&[
        "start", "--todo", "alpha", "--todo", "bravo", "--todo", "charlie", "A task",
    ]);
    // Moving #3 to doing does not renumber it (show listed doing first,
    // so charlie became #1 and alpha #2).
    repo.session_ok(&["checkpoint", "--doing", "#3"]);
    let want = vec![
        (1, "alpha".to_string()),
        (2, "bravo".to_string()),
        (3, "charlie".to_string()),
    ];
    assert_eq!(numbered(&repo.session_ok(&["show"])), want);
    assert_eq!(numbered(&repo.session_ok(&["status"])), want);
    assert_eq!(resume_numbered(&repo.session_ok(&["resume"])), want);
    let json = repo.session_json(&["show"]);
    assert_eq!(json["open"][2]["number"], 3, "{json}");
    assert_eq!(json["open"][2]["in_progress"], true, "{json}");

    // Closing #1 leaves #2 and #3 as they were.
    repo.session_ok(&["checkpoint", "--done", "#1"]);
    repo.session_ok(&["checkpoint", "--done", "#2", "--todo", "delta"]);
    assert_eq!(items(&repo).0, strings(&["alpha", "bravo"]));
    let show = repo.session_ok(&["show"]);
    assert_eq!(
        numbered(&show),
        vec![(3, "charlie".into()), (4, "delta".into())],
        "{show}"
    );
    repo.session_ok(&["checkpoint", "--done", "#3"]);
    assert_eq!(items(&repo).0, strings(&["alpha", "bravo", "charlie"]));
    assert_in_agreement(&repo);
}

#[test]
fn states_written_before_numbers_read_as_they_were_shown() {
    let sb = Sandbox::new();
    let repo = sb.init("work");
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    // A checkpoint as an older git-session wrote it: no Session-Numbers.
    let base = repo.rev("HEAD");
    repo.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        &format!("checkpoint: old\n\nSession-Schema: 1\nSession-Reason: manual\nSession-Branch: main\nSession-Base: {base}\nSession-Task: old task\nSession-Doing: doing item\nSession-Todo: first todo\nSession-Todo: second todo"),
    ]);
    let show = repo.session_ok(&["show"]);
    assert_eq!(
        numbered(&show),
        vec![
            (1, "doing item".into()),
            (2, "first todo".into()),
            (3, "second todo".into())
        ],
        "doing first, as they were shown: {show}"
    );
    // Reading them numbered is no change worth a commit.
    let head = repo.rev("HEAD");
    let out = repo.session_ok(&["checkpoint"]);
    assert!(out.contains("nothing to checkpoint"), "{out}");
    assert_eq!(repo.rev("HEAD"), head);
    // #2 means what it showed; the rest keep their numbers.
    repo.session_ok(&["checkpoint", "--done", "#2"]);
    assert_eq!(items(&repo).0, strings(&["first todo"]));
    let show = repo.session_ok(&["show"]);
    assert_eq!(
        numbered(&show),
        vec![(1, "doing item".into()), (3, "second todo".into())],
        "{show}"
    );
}

#[test]
fn mistyped_item_references_are_refused_with_a_hint() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.session_ok(&["checkpoint", "--blocker", "CI is red"]);
    repo.write("src/parser.rs", "fn parse() -> u8 { 1 }\n");
    // git status rewrites the index once (its own cache-tree order).
    repo.status();
    let before = repo.fingerprint();
    for (args, says, hint) in [
        (
            &["--done", "1"][..],
            "'1' is not an item reference",
            "did you mean '#1'",
        ),
        (
            &["--done", "#x"][..],
            "'#x' is not an item reference",
            "hint:",
        ),
        (
            &["--doing", "#9"][..],
            "'#9' names no open item: the open items are #2",
            "hint:",
        ),
        (
            &["--unblock", "nonexistent"][..],
            "'nonexistent' names no blocker: there is 1 blocker",
            "hint:",
        ),
        (
            &["--drop", "nonexistent"][..],
            "'nonexistent' names no item",
            "hint:",
        ),
        (
            &["--edit", "#2"][..],
            "is not ITEM=NEW TEXT",
            "--edit '#N=new text'",
        ),
    ] {
        let mut all = vec!["checkpoint"];
        all.extend_from_slice(args);
        let out = repo.session(&all);
        let output = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {output}");
        assert!(output.contains(says), "{args:?}: {output}");
        assert!(output.contains(hint), "{args:?}: {output}");
        assert_eq!(repo.fingerprint(), before, "{args:?} wrote something");
    }
    // An item whose text is '#…' is still named by its text.
    repo.session_ok(&["checkpoint", "--todo", "#hashtag support"]);
    repo.session_ok(&["checkpoint", "--done", "#hashtag support"]);
    assert_eq!(items(&repo).0, strings(&["parser", "#hashtag support"]));
}

#[test]
fn a_done_text_that_looks_like_an_open_item_is_recorded_with_a_warning() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let out = repo.session(&["checkpoint", "--done", "Docs "]);
    assert!(out.status.success(), "{}", text(&out));
    let output = text(&out);
    assert!(output.contains("matches no open item"), "{output}");
    assert!(output.contains("did you mean #2 (docs)"), "{output}");
    assert!(output.contains("--drop"), "{output}");
    // A plainly new item says nothing.
    let out = repo.session(&["checkpoint", "--done", "a new thing"]);
    assert!(!text(&out).contains("warning"), "{}", text(&out));
}

#[test]
fn status_separates_a_hand_commit_from_uncommitted_changes() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("mine.txt", "committed by hand\n");
    repo.commit_all("a commit of my own");
    let said = repo.session_ok(&["status"]);
    assert!(
        said.contains("Committed since the last checkpoint (1 file;")
            && said.contains("  added: mine.txt"),
        "{said}"
    );
    assert!(said.contains("No uncommitted changes."), "{said}");
    assert!(!said.contains("run 'git session checkpoint'"), "{said}");
    // Uncommitted work on top is listed apart, with the advice.
    repo.write("new.txt", "not committed\n");
    let said = repo.session_ok(&["status"]);
    assert!(
        said.contains("Not committed yet (1 file): run 'git session checkpoint'"),
        "{said}"
    );
    let (committed, uncommitted) = said.split_once("Not committed yet").expect("two sections");
    assert!(committed.contains("mine.txt") && !committed.contains("new.txt"));
    assert!(uncommitted.contains("added: new.txt") && !uncommitted.contains("mine.txt"));
    let json = repo.session_json(&["status"]);
    assert_eq!(json["changes"]["added"], serde_json::json!(["new.txt"]));
    assert_eq!(
        json["committed_since_checkpoint"]["added"],
        serde_json::json!(["mine.txt"])
    );
}

#[test]
fn fetch_without_a_remote_hints_at_fetch_not_push() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let out = repo.session(&["fetch"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(!output.contains("git session push"), "{output}");
    assert!(output.contains("hint: name the remote"), "{output}");
}

/// Every example of every `-h` is one whole line: clap wraps long lines
/// at its width, which cut the `start` example inside a quoted string.
#[test]
fn help_examples_stay_copyable_on_one_line() {
    let sb = Sandbox::new();
    let repo = sb.init("work");
    let commands = [
        "start",
        "checkpoint",
        "show",
        "log",
        "status",
        "resume",
        "pause",
        "list",
        "continue",
        "templates",
        "hook",
        "push",
        "fetch",
        "init",
        "finish",
        "demo",
        "doctor",
        "completions",
        "man",
    ];
    for command in commands {
        let out = repo.session(&[command, "-h"]);
        let help = String::from_utf8_lossy(&out.stdout).to_string();
        let Some((_, examples)) = help.split_once("Examples:\n") else {
            continue;
        };
        for line in examples.lines().take_while(|l| !l.is_empty()) {
            assert_eq!(
                line.matches('\'').count() % 2,
                0,
                "{command} -h: quotes cut in {line:?}"
            );
        }
    }
}

#[test]
fn a_rejected_push_after_a_published_squash_keeps_the_usual_pull_hint() {
    let sb = Sandbox::new();
    let (repo, remote) = squashed_after_two_pushes(&sb);
    repo.session_ok(&["push"]);
    // Someone builds on the published squash; then this clone pushes.
    let theirs = push_from_another_clone(&sb);
    repo.write("more.txt", "more\n");
    repo.session_ok(&["checkpoint", "--todo", "more"]);
    let out = repo.session(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(
        output.contains("'git pull --rebase origin feat/x'"),
        "the remote has the squash: pulling is safe: {output}"
    );
    assert_eq!(remote.rev("refs/heads/feat/x"), theirs);
    // And it is: the pull keeps the squash, one commit over main.
    repo.git(&["pull", "-q", "--rebase", "origin", "feat/x"]);
    repo.session_ok(&["push"]);
    // The squash, their commit, this checkpoint: over main.
    assert_eq!(remote.rev("refs/heads/feat/x~3"), repo.rev("main"));
}
