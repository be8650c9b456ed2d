//! The TOML note under `refs/notes/session`: git must be able to show it, it
//! must say what `show --json` says, and notes trees that git itself wrote
//! (fanned out, with non-note entries) must be read and extended correctly.

use serde_json::{json, Map, Value};

use crate::support::{text, Repo, Sandbox};

/// State fields a note and `show --json` must agree on.
const STATE_KEYS: &[&str] = &[
    "schema",
    "task",
    "branch",
    "base",
    "summary",
    "reason",
    "done",
    "doing",
    "todo",
    "decisions",
    "notes",
    "blockers",
    "skipped",
    "agent",
    "agent_session",
    "model",
];

/// State fields that both trailers and notes carry.
const TRAILER_KEYS: &[&str] = &[
    "schema",
    "task",
    "branch",
    "base",
    "reason",
    "done",
    "doing",
    "todo",
    "decisions",
    "notes",
    "blockers",
    "skipped",
    "checkpoint",
];

/// `git notes --ref=<notes_ref> show <rev>`, as git prints it.
fn note_text(repo: &Repo, notes_ref: &str, rev: &str) -> String {
    repo.git(&["notes", &format!("--ref={notes_ref}"), "show", rev])
}

/// `text` read as a TOML table by the `toml` crate's own parser (not as a
/// `State`), its values as JSON for comparing with `show --json`.
fn parse_toml(text: &str) -> Result<Map<String, Value>, toml::de::Error> {
    let table: toml::Table = toml::from_str(text)?;
    Ok(table.into_iter().map(|(k, v)| (k, json_of(v))).collect())
}

/// A TOML value as JSON; dates and times as their text.
fn json_of(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(json_of).collect()),
        toml::Value::Table(table) => {
            Value::Object(table.into_iter().map(|(k, v)| (k, json_of(v))).collect())
        }
    }
}

/// The note on `rev`, parsed as TOML.
fn note_state(repo: &Repo, notes_ref: &str, rev: &str) -> Map<String, Value> {
    let note = note_text(repo, notes_ref, rev);
    parse_toml(&note).unwrap_or_else(|e| panic!("note on {rev} is not valid TOML ({e}):\n{note}"))
}

/// Missing, null, empty list and empty string all mean "nothing".
fn norm(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Array(a)) if a.is_empty() => Value::Null,
        Some(Value::String(s)) if s.is_empty() => Value::Null,
        Some(v) => v.clone(),
    }
}

/// Assert that `a` and `b` agree on every key in `keys`.
fn assert_same_state(a: &Map<String, Value>, b: &Map<String, Value>, keys: &[&str], what: &str) {
    let diffs: Vec<String> = keys
        .iter()
        .filter(|k| norm(a.get(**k)) != norm(b.get(**k)))
        .map(|k| format!("  {k}: {} vs {}", norm(a.get(*k)), norm(b.get(*k))))
        .collect();
    assert!(
        diffs.is_empty(),
        "{what} disagree:\n{}\nfirst:  {}\nsecond: {}",
        diffs.join("\n"),
        Value::Object(a.clone()),
        Value::Object(b.clone())
    );
}

fn obj(v: &Value) -> &Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("expected a JSON object, got {v}"))
}

fn show_json(repo: &Repo, rev: &str) -> Value {
    repo.session_json(&["show", rev])
}

fn assert_no_panic(out: &std::process::Output) {
    let all = text(out);
    assert!(
        !all.contains("panicked") && !all.contains("RUST_BACKTRACE"),
        "git-session panicked:\n{all}"
    );
}

/// A repository with one commit made by git.
fn repo_with_commit(sb: &Sandbox) -> Repo {
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo
}

/// Replace the `key = ...` line of a single-line TOML key.
fn replace_key_line(note: &str, key: &str, new_line: &str) -> String {
    let mut found = false;
    let out: Vec<String> = note
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if !found && t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
                found = true;
                new_line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(found, "no `{key} =` line in note:\n{note}");
    out.join("\n") + "\n"
}

#[test]
fn note_is_toml_that_git_shows_and_matches_show_json() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write("a.txt", "changed\n");
    repo.write(".env", "SECRET=1\n");
    let task = "Ship \"it\" \u{2014} \u{2713}\nsecond line with C:\\new path and 'quotes'";
    let out = repo.session_json(&[
        "checkpoint",
        "-m",
        "first summary",
        "--task",
        task,
        "--todo",
        "t1",
        "--todo",
        "t: two = 2 # not a comment",
        "--done",
        "d1",
        "--doing",
        "g [1]",
        "--decision",
        "use 'single' quotes",
        "--note",
        "n\\t is not a tab",
        "--blocker",
        "b {x}",
    ]);
    let head = repo.rev("HEAD");
    assert_eq!(out["commit"], json!(head));

    // git sees exactly one note on the checkpoint commit.
    let listed = repo.git(&["notes", "--ref=session", "list", "HEAD"]);
    assert_eq!(listed.lines().count(), 1, "git notes list HEAD: {listed:?}");
    let note = note_state(&repo, "session", "HEAD");

    assert_eq!(
        note.get("schema"),
        Some(&json!(1)),
        "schema in note {note:?}"
    );
    assert_eq!(note.get("task"), Some(&json!(task)));
    assert_eq!(note.get("summary"), Some(&json!("first summary")));
    assert_eq!(note.get("branch"), Some(&json!("main")));
    assert_eq!(note.get("done"), Some(&json!(["d1"])));
    assert_eq!(note.get("doing"), Some(&json!(["g [1]"])));
    assert_eq!(
        note.get("todo"),
        Some(&json!(["t1", "t: two = 2 # not a comment"]))
    );
    assert_eq!(note.get("decisions"), Some(&json!(["use 'single' quotes"])));
    assert_eq!(note.get("notes"), Some(&json!(["n\\t is not a tab"])));
    assert_eq!(note.get("blockers"), Some(&json!(["b {x}"])));
    assert_eq!(
        note.get("skipped"),
        Some(&json!([{"path": ".env", "reason": "secret"}])),
        "skipped in note {note:?}"
    );

    let shown = show_json(&repo, "HEAD");
    assert_eq!(shown["source"], json!("note"), "{shown}");
    assert_eq!(shown["checkpoint"], json!(head), "{shown}");
    assert_same_state(&note, obj(&shown), STATE_KEYS, "note and show --json");
    assert_same_state(
        obj(&out["state"]),
        obj(&shown),
        STATE_KEYS,
        "checkpoint --json state and show --json",
    );
    repo.fsck();
}

/// TOML for a note in git-session's format, for commit number `i`.
fn handmade_note(i: usize, created_at_line: &Option<String>) -> String {
    let mut s = String::new();
    s.push_str("schema = 1\n");
    s.push_str(&format!("task = \"note task {i}\"\n"));
    s.push_str("branch = \"main\"\n");
    s.push_str(&format!("summary = \"step {i}\"\n"));
    s.push_str("reason = \"manual\"\n");
    if let Some(line) = created_at_line {
        s.push_str(line);
        s.push('\n');
    }
    s.push_str(&format!("done = [\"done {i}\"]\n"));
    s.push_str("doing = []\n");
    s.push_str(&format!("todo = [\"todo {i} a\", \"todo {i}: b\"]\n"));
    s.push_str(&format!("decisions = [\"decision {i}\"]\n"));
    s.push_str("notes = []\n");
    s.push_str("blockers = []\n");
    s.push_str("skipped = []\n");
    s
}

const MANY: usize = 300;

/// A repository with `MANY` checkpoint-looking commits made by git
/// fast-import, each with a note added by `git notes add`, so that git fans
/// the notes tree out. Returns the repo, the commit ids (oldest first) and the
/// note texts.
fn fanned_out_repo(sb: &Sandbox) -> (Repo, Vec<String>, Vec<String>) {
    // Borrow the exact `created_at` line from a real git-session note, so the
    // handmade notes carry it in whatever TOML type git-session uses.
    let proto = sb.init("proto");
    proto.write("p.txt", "p\n");
    proto.commit_all("proto base");
    proto.write("p.txt", "p2\n");
    proto.session_ok(&["checkpoint", "-q", "--task", "proto"]);
    let proto_note = note_text(&proto, "session", "HEAD");
    let created_at_line = proto_note
        .lines()
        .find(|l| l.trim_start().starts_with("created_at"))
        .map(str::to_string);

    let repo = sb.init("repo");
    let mut stream = String::new();
    for i in 1..=MANY {
        let msg = format!(
            "checkpoint: step {i}\n\nSession-Schema: 1\nSession-Reason: manual\nSession-Branch: main\n\
             Session-Task: trailer task {i}\nSession-Todo: trailer todo {i}\n"
        );
        let content = format!("content {i}\n");
        stream.push_str("commit refs/heads/main\n");
        stream.push_str(&format!(
            "committer Test Committer <committer@example.com> {} +0000\n",
            1_767_323_045 + i
        ));
        stream.push_str(&format!("data {}\n{msg}", msg.len()));
        stream.push_str(&format!(
            "M 100644 inline file.txt\ndata {}\n{content}\n",
            content.len()
        ));
    }
    repo.git_stdin(&["fast-import", "--quiet"], stream.as_bytes());
    repo.git(&["reset", "-q", "--hard"]);
    let ids: Vec<String> = repo
        .git(&["rev-list", "--reverse", "main"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), MANY);

    let mut notes = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let note = handmade_note(i + 1, &created_at_line);
        repo.git(&["notes", "--ref=session", "add", "-m", &note, id]);
        notes.push(note);
    }

    // git fanned the notes tree out: only 2-hex-digit subtrees at the top.
    let top = repo.git(&["ls-tree", "refs/notes/session"]);
    assert!(top.lines().count() > 1, "notes tree top level:\n{top}");
    for line in top.lines() {
        assert!(is_fanout_entry(line), "not a fanout subtree: {line}");
    }
    let all = repo.git(&["ls-tree", "-r", "refs/notes/session"]);
    assert_eq!(all.lines().count(), MANY);
    (repo, ids, notes)
}

/// `040000 tree <id>\t<2 hex digits>`
fn is_fanout_entry(ls_tree_line: &str) -> bool {
    let Some((meta, name)) = ls_tree_line.split_once('\t') else {
        return false;
    };
    meta.starts_with("040000 tree ")
        && name.len() == 2
        && name.chars().all(|c| c.is_ascii_hexdigit())
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn fanned_out_notes_written_by_git_are_read_and_extended() {
    let sb = Sandbox::new();
    let (repo, ids, notes) = fanned_out_repo(&sb);

    for idx in [0, MANY / 2, MANY - 1] {
        let i = idx + 1;
        let shown = show_json(&repo, &ids[idx]);
        assert_eq!(shown["source"], json!("note"), "show {}: {shown}", ids[idx]);
        assert_eq!(shown["checkpoint"], json!(ids[idx]), "{shown}");
        assert_eq!(shown["task"], json!(format!("note task {i}")), "{shown}");
        assert_eq!(shown["summary"], json!(format!("step {i}")), "{shown}");
        assert_eq!(shown["done"], json!([format!("done {i}")]), "{shown}");
        assert_eq!(
            shown["todo"],
            json!([format!("todo {i} a"), format!("todo {i}: b")]),
            "{shown}"
        );
        assert_eq!(
            shown["decisions"],
            json!([format!("decision {i}")]),
            "{shown}"
        );
    }

    let before = repo.git(&["notes", "--ref=session", "list"]);
    repo.write("file.txt", "after\n");
    let out = repo.session_json(&["checkpoint", "--done", &format!("todo {MANY} a")]);
    assert_eq!(out["created"], json!(true));
    let head = repo.rev("HEAD");
    assert_eq!(repo.rev("HEAD^"), ids[MANY - 1]);

    // The new checkpoint inherited the state from the last note, not from
    // the (different) trailers.
    let state = &out["state"];
    assert_eq!(state["task"], json!(format!("note task {MANY}")), "{state}");
    assert_eq!(
        state["done"],
        json!([format!("done {MANY}"), format!("todo {MANY} a")]),
        "{state}"
    );
    assert_eq!(state["todo"], json!([format!("todo {MANY}: b")]), "{state}");

    // All old notes are still there, with the same blobs; plus the new one.
    let after = repo.git(&["notes", "--ref=session", "list"]);
    let after_lines = sorted_lines(&after);
    assert_eq!(after_lines.len(), MANY + 1, "git notes list:\n{after}");
    for line in before.lines() {
        assert!(after_lines.iter().any(|l| l == line), "note lost: {line}");
    }
    assert!(
        after_lines.iter().any(|l| l.ends_with(&format!(" {head}"))),
        "no note on the new checkpoint {head}:\n{after}"
    );
    for idx in [0, 1, MANY / 3, MANY / 2, MANY - 2, MANY - 1] {
        assert_eq!(
            note_text(&repo, "session", &ids[idx]),
            notes[idx],
            "note on {}",
            ids[idx]
        );
    }
    let new_note = note_state(&repo, "session", "HEAD");
    assert_eq!(
        new_note.get("task"),
        Some(&json!(format!("note task {MANY}")))
    );

    // Still fanned out, nothing at the top level but 2-hex subtrees.
    let top = repo.git(&["ls-tree", "refs/notes/session"]);
    for line in top.lines() {
        assert!(
            is_fanout_entry(line),
            "not a fanout subtree after checkpoint: {line}"
        );
    }
    assert_eq!(
        repo.git(&["ls-tree", "-r", "refs/notes/session"])
            .lines()
            .count(),
        MANY + 1
    );
    assert_eq!(show_json(&repo, "HEAD")["source"], json!("note"));
    repo.fsck();
}

#[test]
fn checkpoint_note_lands_where_git_would_put_it() {
    let sb = Sandbox::new();
    let (repo, _ids, _notes) = fanned_out_repo(&sb);
    let old_notes = repo.rev("refs/notes/session");
    repo.write("file.txt", "after\n");
    repo.session_ok(&["checkpoint", "-q", "--note", "into the fanout"]);

    // Ask git to add the same note blob to the same commit on top of the old
    // notes tree, and compare the trees.
    let listed = repo.git(&["notes", "--ref=session", "list", "HEAD"]);
    let blob = listed.trim();
    repo.git(&["update-ref", "refs/notes/oracle", &old_notes]);
    repo.git(&["notes", "--ref=oracle", "add", "-C", blob, "HEAD"]);
    assert_eq!(
        repo.rev("refs/notes/session^{tree}"),
        repo.rev("refs/notes/oracle^{tree}"),
        "git-session's notes tree differs from the one git writes:\ngit-session:\n{}\ngit:\n{}",
        repo.git(&["ls-tree", "-r", "refs/notes/session"]),
        repo.git(&["ls-tree", "-r", "refs/notes/oracle"])
    );
    // The notes ref moved forward from the old one.
    assert_eq!(repo.rev("refs/notes/session^"), old_notes);
}

#[test]
fn non_note_entries_in_the_notes_tree_are_preserved() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write("b.txt", "b\n");
    repo.session_ok(&["checkpoint", "-q", "--task", "keep non-notes"]);
    let first = repo.rev("HEAD");
    let old_notes = repo.rev("refs/notes/session");
    let first_note_blob = repo
        .git(&["notes", "--ref=session", "list", "HEAD"])
        .trim()
        .to_string();

    // Add a README and a non-note directory to the notes tree, with plumbing.
    let readme = repo.git_stdin(
        &["hash-object", "-w", "--stdin"],
        b"This notes tree holds session state.\n",
    );
    let readme = readme.trim();
    let info = repo.git_stdin(&["hash-object", "-w", "--stdin"], b"meta info\n");
    let info = info.trim();
    let index = sb.path("notes-index");
    let with_index = |args: &[&str]| {
        let out = repo
            .git_command()
            .env("GIT_INDEX_FILE", &index)
            .args(args)
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    with_index(&["read-tree", "refs/notes/session"]);
    with_index(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{readme},README"),
    ]);
    with_index(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{info},meta/info.txt"),
    ]);
    let tree = with_index(&["write-tree"]).trim().to_string();
    let commit = repo
        .git(&[
            "commit-tree",
            &tree,
            "-p",
            &old_notes,
            "-m",
            "Notes: add README",
        ])
        .trim()
        .to_string();
    repo.git(&["update-ref", "refs/notes/session", &commit, &old_notes]);
    // git itself still reads the note.
    assert!(note_text(&repo, "session", "HEAD").contains("keep non-notes"));

    repo.write("b.txt", "b2\n");
    repo.session_ok(&["checkpoint", "-q", "--note", "second"]);
    let second = repo.rev("HEAD");
    assert_ne!(first, second);

    assert_eq!(repo.rev("refs/notes/session:README"), readme);
    assert_eq!(repo.rev("refs/notes/session:meta/info.txt"), info);
    assert_eq!(
        repo.rev("refs/notes/session^"),
        commit,
        "notes ref not advanced from the plumbing commit"
    );
    let listed = sorted_lines(&repo.git(&["notes", "--ref=session", "list"]));
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed.contains(&format!("{first_note_blob} {first}")),
        "{listed:?}"
    );
    let note = note_state(&repo, "session", "HEAD");
    assert_eq!(note.get("notes"), Some(&json!(["second"])));
    assert_eq!(note.get("task"), Some(&json!("keep non-notes")));
    assert_eq!(show_json(&repo, "HEAD")["source"], json!("note"));
    repo.fsck();
}

/// A repository with a start checkpoint and a richer checkpoint on top.
fn rich_checkpoint_repo(sb: &Sandbox) -> Repo {
    let repo = repo_with_commit(sb);
    repo.session_ok(&[
        "start",
        "-q",
        "--todo",
        "alpha",
        "--todo",
        "bravo",
        "Rich task",
    ]);
    repo.write("b.txt", "b\n");
    repo.write("id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "--done",
        "alpha",
        "--doing",
        "bravo",
        "--todo",
        "charlie: with colon",
        "--decision",
        "keep it simple",
        "--note",
        "multi\nline note",
        "--blocker",
        "waiting for review",
    ]);
    repo
}

#[test]
fn deleted_notes_ref_falls_back_to_trailers() {
    let sb = Sandbox::new();
    let repo = rich_checkpoint_repo(&sb);
    let before = show_json(&repo, "HEAD");
    assert_eq!(before["source"], json!("note"), "{before}");

    repo.git(&["update-ref", "-d", "refs/notes/session"]);
    assert!(!repo
        .git_output(&["rev-parse", "-q", "--verify", "refs/notes/session"])
        .status
        .success());

    let out = repo.session(&["show", "--json"]);
    assert_no_panic(&out);
    assert!(
        out.status.success(),
        "show failed without notes:\n{}",
        text(&out)
    );
    let after: Value = serde_json::from_slice(&out.stdout).expect("show --json is JSON");
    assert_eq!(after["source"], json!("trailers"), "{after}");
    assert_same_state(
        obj(&before),
        obj(&after),
        TRAILER_KEYS,
        "show with note and show from trailers",
    );
    // The values themselves, not just agreement.
    assert_eq!(after["task"], json!("Rich task"));
    assert_eq!(after["done"], json!(["alpha"]));
    assert_eq!(after["doing"], json!(["bravo"]));
    assert_eq!(after["todo"], json!(["charlie: with colon"]));
    assert_eq!(after["notes"], json!(["multi\nline note"]));
    assert_eq!(after["base"], json!(repo.rev("HEAD~2")));
}

#[test]
fn corrupt_note_warns_and_falls_back_to_trailers() {
    let sb = Sandbox::new();
    let repo = rich_checkpoint_repo(&sb);
    let head = repo.rev("HEAD");
    let good = show_json(&repo, "HEAD");
    repo.git(&[
        "notes",
        "--ref=session",
        "add",
        "-f",
        "-m",
        "not [valid toml",
        "HEAD",
    ]);

    for args in [&["show", "--json"][..], &["show"][..]] {
        let out = repo.session(args);
        assert_no_panic(&out);
        assert!(
            out.status.success(),
            "{args:?} failed on a corrupt note:\n{}",
            text(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("warning:") && l.contains(&head[..7])),
            "{args:?}: no `warning:` line naming {head} on stderr:\n{stderr}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("Rich task"), "{args:?} stdout:\n{stdout}");
    }
    let shown: Value =
        serde_json::from_slice(&repo.session(&["show", "--json"]).stdout).expect("JSON");
    assert_eq!(shown["source"], json!("trailers"), "{shown}");
    assert_same_state(
        obj(&good),
        obj(&shown),
        TRAILER_KEYS,
        "state before corruption and from trailers",
    );

    // A checkpoint on top inherits from the trailers and leaves the corrupt
    // note alone.
    repo.write("c.txt", "c\n");
    let out = repo.session(&["checkpoint", "--json", "--done", "bravo"]);
    assert_no_panic(&out);
    assert!(
        out.status.success(),
        "checkpoint on a corrupt note failed:\n{}",
        text(&out)
    );
    let cp: Value = serde_json::from_slice(&out.stdout).expect("checkpoint --json is JSON");
    assert_eq!(cp["state"]["task"], json!("Rich task"), "{cp}");
    assert_eq!(cp["state"]["done"], json!(["alpha", "bravo"]), "{cp}");
    assert_eq!(
        note_text(&repo, "session", &head).trim_end(),
        "not [valid toml"
    );
    assert_eq!(
        note_state(&repo, "session", "HEAD").get("task"),
        Some(&json!("Rich task"))
    );
    repo.fsck();
}

#[test]
fn note_with_wrong_types_falls_back_with_a_warning() {
    let sb = Sandbox::new();
    let repo = rich_checkpoint_repo(&sb);
    let head = repo.rev("HEAD");
    let good = show_json(&repo, "HEAD");
    // Valid TOML, but not a state: the task is a number, todo a string.
    repo.git(&[
        "notes",
        "--ref=session",
        "add",
        "-f",
        "-m",
        "schema = 1\ntask = 5\ntodo = \"str\"\n",
        "HEAD",
    ]);

    let out = repo.session(&["show", "--json"]);
    assert_no_panic(&out);
    assert!(
        out.status.success(),
        "show failed on a wrongly typed note:\n{}",
        text(&out)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).expect("show --json is JSON");
    assert_eq!(shown["source"], json!("trailers"), "{shown}");
    assert_same_state(
        obj(&good),
        obj(&shown),
        TRAILER_KEYS,
        "state before and from trailers",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("warning:") && l.contains(&head[..7])),
        "no `warning:` line naming {head}:\n{stderr}"
    );
}

#[test]
fn note_with_unknown_keys_is_read_tolerantly() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&[
        "start",
        "-q",
        "--todo",
        "one",
        "--todo",
        "two",
        "Original task",
    ]);
    let note = note_text(&repo, "session", "HEAD");
    let edited = format!(
        "future_key = \"from a newer git-session\"\nfuture_list = [1, 2, 3]\n{}\n[future_table]\nk = 1\n",
        replace_key_line(&note, "task", "task = \"Task from the note\"")
    );
    assert!(
        parse_toml(&edited).is_ok(),
        "test bug: edited note is not TOML:\n{edited}"
    );
    repo.git(&["notes", "--ref=session", "add", "-f", "-m", &edited, "HEAD"]);

    let out = repo.session(&["show", "--json"]);
    assert_no_panic(&out);
    assert!(
        out.status.success(),
        "show failed on a note with extra keys:\n{}",
        text(&out)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).expect("show --json is JSON");
    assert_eq!(
        shown["source"],
        json!("note"),
        "extra keys made the note unreadable: {shown}"
    );
    assert_eq!(shown["task"], json!("Task from the note"), "{shown}");
    assert_eq!(shown["todo"], json!(["one", "two"]), "{shown}");
}

#[test]
fn note_with_newer_schema_gives_a_clear_result() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&["start", "-q", "--todo", "one", "Original task"]);
    let note = note_text(&repo, "session", "HEAD");
    let edited = replace_key_line(&note, "schema", "schema = 99");
    let edited = replace_key_line(&edited, "task", "task = \"Task from the note\"");
    let edited = format!("brand_new = {{ nested = true }}\n{edited}\n[[future_items]]\nx = 1\n");
    assert!(
        parse_toml(&edited).is_ok(),
        "test bug: edited note is not TOML:\n{edited}"
    );
    repo.git(&["notes", "--ref=session", "add", "-f", "-m", &edited, "HEAD"]);

    let out = repo.session(&["show", "--json"]);
    assert_no_panic(&out);
    assert!(
        out.status.success(),
        "show failed on a newer-schema note:\n{}",
        text(&out)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).expect("show --json is JSON");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match shown["source"].as_str() {
        // Read what it could from the note...
        Some("note") => {
            assert_eq!(shown["task"], json!("Task from the note"), "{shown}");
            assert_eq!(shown["todo"], json!(["one"]), "{shown}");
        }
        // ...or fell back to the trailers, saying so.
        Some("trailers") => {
            assert_eq!(shown["task"], json!("Original task"), "{shown}");
            assert!(
                stderr.lines().any(|l| l.starts_with("warning:")),
                "fell back to trailers without a warning:\n{stderr}"
            );
        }
        other => panic!("unexpected source {other:?}: {shown}"),
    }
}

#[test]
fn configured_notes_ref_receives_the_note() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.git(&["config", "session.notesRef", "refs/notes/other"]);
    repo.write("b.txt", "b\n");
    repo.session_ok(&["checkpoint", "-q", "--task", "elsewhere"]);

    let note = note_state(&repo, "other", "HEAD");
    assert_eq!(note.get("task"), Some(&json!("elsewhere")));
    assert!(
        !repo
            .git_output(&["rev-parse", "-q", "--verify", "refs/notes/session"])
            .status
            .success(),
        "refs/notes/session was written although session.notesRef points elsewhere"
    );
    let shown = show_json(&repo, "HEAD");
    assert_eq!(
        shown["source"],
        json!("note"),
        "show does not read the configured notes ref: {shown}"
    );
    assert_eq!(shown["task"], json!("elsewhere"));
    repo.fsck();
}

#[test]
fn notes_ref_from_config_file_and_git_config_precedence() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write(".git-session.toml", "notes_ref = \"refs/notes/fromfile\"\n");
    repo.session_ok(&["checkpoint", "-q", "--task", "file config"]);
    assert_eq!(
        note_state(&repo, "fromfile", "HEAD").get("task"),
        Some(&json!("file config"))
    );
    assert!(!repo
        .git_output(&["rev-parse", "-q", "--verify", "refs/notes/session"])
        .status
        .success());

    // git config wins over the file.
    repo.git(&["config", "session.notesRef", "refs/notes/fromgit"]);
    repo.write("b.txt", "b\n");
    repo.session_ok(&["checkpoint", "-q", "--note", "git config wins"]);
    assert_eq!(
        note_state(&repo, "fromgit", "HEAD").get("notes"),
        Some(&json!(["git config wins"]))
    );
    assert!(!repo
        .git_output(&["notes", "--ref=fromfile", "show", "HEAD"])
        .status
        .success());
    assert!(!repo
        .git_output(&["rev-parse", "-q", "--verify", "refs/notes/session"])
        .status
        .success());
}
