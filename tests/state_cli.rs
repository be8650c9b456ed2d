//! Session state through the CLI: trailers that git parses back to the exact
//! texts, `start`, item editing, idempotence, secrets left out of the
//! snapshot, and the `log`/`show`/`status` views.

use serde_json::{json, Value};

use crate::support::{text, Repo, Sandbox};

/// Decode a trailer value (CONTRACT.md: `\\` -> `\`, `\n` -> newline,
/// `\r` -> CR). Any other escape is an encoding bug.
fn decode(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                other => panic!("invalid escape \\{other:?} in trailer value {raw:?}"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The decoded values of trailer `key` on `rev`, as git parses them.
fn trailer(repo: &Repo, rev: &str, key: &str) -> Vec<String> {
    let out = repo.git(&[
        "log",
        "-1",
        &format!("--format=%(trailers:key={key},valueonly)"),
        rev,
    ]);
    out.lines().filter(|l| !l.is_empty()).map(decode).collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("expected a string, got {s}"))
                .to_string()
        })
        .collect()
}

/// A repository with one commit made by git.
fn repo_with_commit(sb: &Sandbox) -> Repo {
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo
}

/// `checkpoint ARGS --json`; returns the whole output object.
fn checkpoint(repo: &Repo, args: &[&str]) -> Value {
    let mut all = vec!["checkpoint"];
    all.extend_from_slice(args);
    repo.session_json(&all)
}

/// Assert that the state lists agree with what git parses from the trailers
/// of HEAD and with `show --json`.
fn assert_consistent(repo: &Repo, state: &Value) {
    let shown = repo.session_json(&["show"]);
    for (json_key, trailer_key) in [
        ("done", "Session-Done"),
        ("doing", "Session-Doing"),
        ("todo", "Session-Todo"),
        ("decisions", "Session-Decision"),
        ("notes", "Session-Note"),
        ("blockers", "Session-Blocker"),
    ] {
        assert_eq!(
            strs(&state[json_key]),
            strs(&shown[json_key]),
            "{json_key}: checkpoint vs show"
        );
        assert_eq!(
            strs(&state[json_key]),
            trailer(repo, "HEAD", trailer_key),
            "{json_key} vs {trailer_key} trailers"
        );
    }
    assert_eq!(state["task"], shown["task"]);
}

/// (done, doing, todo)
fn items(state: &Value) -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        strs(&state["done"]),
        strs(&state["doing"]),
        strs(&state["todo"]),
    )
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The trailer paragraph of HEAD's message as we read it ourselves (the last
/// paragraph, every line a `Session-*` trailer), asserting that
/// `git interpret-trailers --parse` on the message prints exactly those lines.
fn trailer_paragraph_as_git_parses_it(sb: &Sandbox, repo: &Repo) -> Vec<String> {
    let msg = repo.git(&["log", "-1", "--format=%B", "HEAD"]);
    let paragraph = msg
        .trim_end_matches('\n')
        .rsplit("\n\n")
        .next()
        .expect("message has a last paragraph");
    let lines: Vec<String> = paragraph.lines().map(str::to_string).collect();
    for line in &lines {
        assert!(
            line.starts_with("Session-"),
            "non-session line {line:?} in trailer paragraph:\n{msg}"
        );
    }
    let msg_file = sb.path("message.txt");
    std::fs::write(&msg_file, &msg).expect("write message");
    let parsed = repo.git(&[
        "interpret-trailers",
        "--parse",
        msg_file.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(
        parsed.lines().collect::<Vec<_>>(),
        lines,
        "git interpret-trailers --parse vs the message's trailer paragraph:\n{msg}"
    );
    lines
}

#[test]
fn trailers_round_trip_exact_texts() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write("a.txt", "changed\n");

    let task =
        "  First line of the task  \nsecond: line with trailing spaces   \n\nafter a blank line, \
                a backslash \\ and C:\\new\\table\nSession-Done: injected\n  ";
    let done = [
        "fix: parser handles `a:b`",
        "path C:\\Users\\new\\n-folder \\\\server",
    ];
    let doing = ["\u{fc}n\u{ef}c\u{f6}d\u{e9} \u{2713} \u{65e5}\u{672c}\u{8a9e} \u{1f389}"];
    let todo = [
        "issue #42 follow-up",
        "#not-a-number",
        "key: value: more",
        "  padded item  ",
    ];
    let decisions = ["use X\nbecause Y", "trailing backslash \\"];
    let notes = ["windows line\r\nending", "ends with a backslash-n \\n"];
    let blockers = ["waiting on: review (#7)"];

    let mut args: Vec<&str> = vec!["--task", task, "--reason", "pre-cancel", "-m", "round trip"];
    for (flag, list) in [
        ("--done", &done[..]),
        ("--doing", &doing[..]),
        ("--todo", &todo[..]),
        ("--decision", &decisions[..]),
        ("--note", &notes[..]),
        ("--blocker", &blockers[..]),
    ] {
        for item in list {
            args.push(flag);
            args.push(item);
        }
    }
    let out = checkpoint(&repo, &args);
    let trimmed = |l: &[&str]| -> Vec<String> { l.iter().map(|s| s.trim().to_string()).collect() };

    let lines = trailer_paragraph_as_git_parses_it(&sb, &repo);
    let values = |key: &str| -> Vec<String> {
        lines
            .iter()
            .filter_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(": ")))
            .map(decode)
            .collect()
    };
    assert_eq!(values("Session-Schema"), v(&["1"]));
    assert_eq!(values("Session-Reason"), v(&["pre-cancel"]));
    assert_eq!(values("Session-Branch"), v(&["main"]));
    assert_eq!(values("Session-Task"), vec![task.trim().to_string()]);
    assert_eq!(values("Session-Done"), trimmed(&done));
    assert_eq!(values("Session-Doing"), trimmed(&doing));
    assert_eq!(values("Session-Todo"), trimmed(&todo));
    assert_eq!(values("Session-Decision"), trimmed(&decisions));
    assert_eq!(values("Session-Note"), trimmed(&notes));
    assert_eq!(values("Session-Blocker"), trimmed(&blockers));
    // git's own trailer formatter agrees.
    assert_eq!(
        trailer(&repo, "HEAD", "Session-Task"),
        vec![task.trim().to_string()]
    );
    assert_eq!(trailer(&repo, "HEAD", "Session-Done"), trimmed(&done));

    // show --json reports the same texts, and so did checkpoint --json.
    let shown = repo.session_json(&["show"]);
    for state in [&shown, &out["state"]] {
        assert_eq!(state["task"], json!(task.trim()), "{state}");
        assert_eq!(strs(&state["done"]), trimmed(&done));
        assert_eq!(strs(&state["doing"]), trimmed(&doing));
        assert_eq!(strs(&state["todo"]), trimmed(&todo));
        assert_eq!(strs(&state["decisions"]), trimmed(&decisions));
        assert_eq!(strs(&state["notes"]), trimmed(&notes));
        assert_eq!(strs(&state["blockers"]), trimmed(&blockers));
        assert_eq!(state["reason"], json!("pre-cancel"));
        assert_eq!(state["summary"], json!("round trip"));
    }
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s"]).trim_end(),
        "checkpoint: round trip"
    );

    // And from the trailers alone (no note), the same texts come back.
    repo.git(&["update-ref", "-d", "refs/notes/session"]);
    let from_trailers = repo.session_json(&["show"]);
    assert_eq!(from_trailers["source"], json!("trailers"));
    assert_eq!(from_trailers["task"], json!(task.trim()));
    assert_eq!(strs(&from_trailers["done"]), trimmed(&done));
    assert_eq!(strs(&from_trailers["notes"]), trimmed(&notes));
    assert_eq!(strs(&from_trailers["decisions"]), trimmed(&decisions));
}

/// CONTRACT.md: values are escaped with exactly `\\` -> `\\\\`, newline -> `\\n`,
/// CR -> `\\r`; everything else (a tab, say) stays as it is, and git keeps it.
/// A `---` line in a text must not hide the trailers from
/// `git interpret-trailers`, which stops reading a message at such a line.
#[test]
fn trailers_survive_a_dashes_line_in_texts() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let task = "Plan\n---\nDetails";
    let todo = "first\n--- \nsecond";
    repo.session_ok(&["checkpoint", "-q", "--task", task, "--todo", todo]);
    let lines = trailer_paragraph_as_git_parses_it(&sb, &repo);
    assert!(
        lines.contains(&"Session-Task: Plan\\n---\\nDetails".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"Session-Todo: first\\n--- \\nsecond".to_string()),
        "{lines:?}"
    );
}

#[test]
fn trailer_values_use_exactly_the_contract_escapes() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let contract_escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
    };
    let notes = ["tab\tseparated", "back\\slash\nnew\rline"];
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "--task",
        "escapes",
        "--note",
        notes[0],
        "--note",
        notes[1],
    ]);
    let raw = repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Session-Note,valueonly)",
    ]);
    let raw: Vec<&str> = raw.lines().filter(|l| !l.is_empty()).collect();
    let expected: Vec<String> = notes.iter().map(|n| contract_escape(n)).collect();
    assert_eq!(raw, expected, "raw Session-Note values as git parses them");
}

/// Issue 21, item 2: `start` on a branch that already had a session
/// replaced its open items, decisions and notes without a word. It refuses
/// now, changing nothing; `--new` begins a fresh session on purpose, and the
/// old state stays in history.
#[test]
fn start_on_a_branch_with_a_session_wipes_its_state() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&[
        "start",
        "-q",
        "-b",
        "feat/x",
        "--todo",
        "open item",
        "First task",
    ]);
    repo.session_ok(&["checkpoint", "-q", "--decision", "keep it small"]);
    let before = repo.fingerprint();

    let out = repo.session(&["start", "Another task"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("branch 'feat/x' already has a session")
            && said.contains("git session checkpoint --task")
            && said.contains("git session start --new"),
        "{said}"
    );
    assert_eq!(repo.fingerprint(), before, "a refusal changes nothing");
    let shown = repo.session_json(&["show"]);
    assert_eq!(shown["task"], json!("First task"));
    assert_eq!(strs(&shown["decisions"]), v(&["keep it small"]));

    // On purpose: a fresh state, the old one still in history.
    let old = repo.rev("HEAD");
    let out = repo.session_json(&["start", "--new", "Another task"]);
    let state = &out["state"];
    assert_eq!(state["task"], json!("Another task"));
    assert!(strs(&state["todo"]).is_empty() && strs(&state["decisions"]).is_empty());
    assert_eq!(repo.rev("HEAD^"), old);
    assert_eq!(
        repo.session_json(&["show", &old])["task"],
        json!("First task")
    );

    // A finished session is no obstacle, nor is another branch's below
    // where this one forked.
    repo.write("done.txt", "done\n");
    repo.session_ok(&["finish"]);
    repo.session_ok(&["start", "-q", "Third task"]);
    repo.git(&["switch", "-q", "-c", "feat/y"]);
    repo.session_ok(&["checkpoint", "-q", "--note", "inherited"]);
    repo.git(&["switch", "-q", "-c", "feat/z", "HEAD"]);
    repo.session_ok(&["start", "-q", "On z"]);
}

#[test]
fn start_creates_branch_and_first_checkpoint() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let base = repo.rev("HEAD");
    let out = repo.session_json(&[
        "start",
        "-b",
        "feat/x",
        "--todo",
        "a",
        "--todo",
        "b",
        "Do the thing",
    ]);

    assert_eq!(
        repo.git(&["symbolic-ref", "HEAD"]).trim_end(),
        "refs/heads/feat/x"
    );
    let head = repo.rev("HEAD");
    assert_eq!(repo.rev("refs/heads/feat/x"), head);
    assert_eq!(
        repo.rev("HEAD^"),
        base,
        "start must commit on top of the previous HEAD"
    );
    assert_eq!(repo.rev("refs/heads/main"), base, "main moved");
    assert_eq!(
        repo.rev("HEAD^{tree}"),
        repo.rev("HEAD^^{tree}"),
        "nothing changed on disk"
    );
    assert_eq!(out["commit"], json!(head));
    assert_eq!(out["branch"], json!("feat/x"));
    assert_eq!(out["created"], json!(true));
    let state = &out["state"];
    assert_eq!(state["task"], json!("Do the thing"));
    assert_eq!(state["base"], json!(base));
    assert_eq!(state["reason"], json!("start"));
    assert_eq!(state["branch"], json!("feat/x"));
    assert_eq!(strs(&state["todo"]), v(&["a", "b"]));
    assert_eq!(trailer(&repo, "HEAD", "Session-Reason"), v(&["start"]));
    assert_eq!(trailer(&repo, "HEAD", "Session-Base"), vec![base.clone()]);
    assert_eq!(trailer(&repo, "HEAD", "Session-Branch"), v(&["feat/x"]));
    assert_eq!(trailer(&repo, "HEAD", "Session-Todo"), v(&["a", "b"]));
    assert!(
        repo.status().is_empty(),
        "status after start:\n{}",
        repo.status()
    );

    // Again with an existing branch: refused, nothing touched.
    repo.write("a.txt", "dirty\n");
    for existing in ["feat/x", "main"] {
        let before = repo.fingerprint();
        let out = repo.session(&["start", "-b", existing, "Other thing"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "start -b {existing}:\n{}",
            text(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("error:") && stderr.contains(existing),
            "error does not name {existing}:\n{stderr}"
        );
        assert_eq!(
            repo.fingerprint(),
            before,
            "start -b {existing} changed the repository"
        );
        assert_eq!(repo.read("a.txt"), b"dirty\n");
    }
    repo.fsck();
}

#[test]
fn item_semantics() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let out = repo.session_json(&[
        "start", "--todo", "alpha", "--todo", "bravo", "--todo", "charlie", "Items",
    ]);
    assert_eq!(
        items(&out["state"]),
        (v(&[]), v(&[]), v(&["alpha", "bravo", "charlie"]))
    );

    // --done with an open item's text moves it.
    let s = checkpoint(&repo, &["--done", "bravo"])["state"].clone();
    assert_eq!(items(&s), (v(&["bravo"]), v(&[]), v(&["alpha", "charlie"])));
    assert_consistent(&repo, &s);

    // --doing moves a todo item to doing.
    let s = checkpoint(&repo, &["--doing", "charlie"])["state"].clone();
    assert_eq!(items(&s), (v(&["bravo"]), v(&["charlie"]), v(&["alpha"])));
    assert_consistent(&repo, &s);

    // An item keeps its number when it moves to doing: charlie is #3.
    let s = checkpoint(&repo, &["--done", "#3"])["state"].clone();
    assert_eq!(items(&s), (v(&["bravo", "charlie"]), v(&[]), v(&["alpha"])));
    assert_consistent(&repo, &s);

    // --doing #N, then several #N in one command use the numbering before it.
    let s = checkpoint(&repo, &["--todo", "delta", "--todo", "echo"])["state"].clone();
    assert_eq!(items(&s).2, v(&["alpha", "delta", "echo"]));
    // New items get one more than the largest number open: delta #2,
    // echo #3 (charlie's #3 is free again now that it is done).
    let s = checkpoint(&repo, &["--doing", "#3"])["state"].clone();
    assert_eq!(
        items(&s),
        (
            v(&["bravo", "charlie"]),
            v(&["echo"]),
            v(&["alpha", "delta"])
        )
    );
    // Open items now: 1. alpha, 2. delta, 3. echo (in progress)
    let s = checkpoint(&repo, &["--done", "#1", "--done", "#2"])["state"].clone();
    assert_eq!(
        items(&s),
        (
            v(&["bravo", "charlie", "alpha", "delta"]),
            v(&["echo"]),
            v(&[])
        )
    );
    assert_consistent(&repo, &s);

    // --done with a text that is not open appends to done.
    let s = checkpoint(&repo, &["--done", "new item"])["state"].clone();
    assert_eq!(
        items(&s).0,
        v(&["bravo", "charlie", "alpha", "delta", "new item"])
    );

    // Duplicates are not added twice; whitespace is trimmed; empty items ignored.
    let s = checkpoint(
        &repo,
        &[
            "--done",
            "new item",
            "--done",
            "  new item ",
            "--todo",
            "  foxtrot  ",
            "--todo",
            "foxtrot",
            "--todo",
            "   ",
            "--decision",
            "d1",
            "--decision",
            " d1",
            "--note",
            "n1",
            "--note",
            "n1",
        ],
    )["state"]
        .clone();
    assert_eq!(
        items(&s),
        (
            v(&["bravo", "charlie", "alpha", "delta", "new item"]),
            v(&["echo"]),
            v(&["foxtrot"])
        )
    );
    assert_eq!(strs(&s["decisions"]), v(&["d1"]));
    assert_eq!(strs(&s["notes"]), v(&["n1"]));
    assert_consistent(&repo, &s);
    let s = checkpoint(
        &repo,
        &[
            "--decision",
            "d1",
            "--decision",
            "d2",
            "--note",
            "n1",
            "--todo",
            "echo",
        ],
    )["state"]
        .clone();
    assert_eq!(strs(&s["decisions"]), v(&["d1", "d2"]));
    assert_eq!(strs(&s["notes"]), v(&["n1"]));
    assert_eq!(
        items(&s).1,
        v(&["echo"]),
        "echo is open (doing): --todo echo must not add it"
    );
    assert_eq!(
        items(&s).2,
        v(&["foxtrot"]),
        "echo is open (doing): --todo echo must not add it"
    );

    // Trimmed text still finds the open item.
    let s = checkpoint(&repo, &["--done", "  foxtrot "])["state"].clone();
    assert_eq!(
        items(&s),
        (
            v(&["bravo", "charlie", "alpha", "delta", "new item", "foxtrot"]),
            v(&["echo"]),
            v(&[])
        )
    );

    // Blockers.
    let s = checkpoint(
        &repo,
        &["--blocker", "B1", "--blocker", "B2", "--blocker", "B3"],
    )["state"]
        .clone();
    assert_eq!(strs(&s["blockers"]), v(&["B1", "B2", "B3"]));
    let s = checkpoint(&repo, &["--unblock", "B1"])["state"].clone();
    assert_eq!(strs(&s["blockers"]), v(&["B2", "B3"]));
    assert_consistent(&repo, &s);
    let s = checkpoint(&repo, &["--unblock", "#2"])["state"].clone();
    assert_eq!(strs(&s["blockers"]), v(&["B2"]));
    assert_consistent(&repo, &s);
    assert_eq!(s["task"], json!("Items"));
    repo.fsck();
}

#[test]
fn unchanged_checkpoint_is_a_no_op_and_state_only_change_keeps_the_tree() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write("b.txt", "b\n");
    repo.session_ok(&["checkpoint", "-q", "--task", "idle"]);
    let head = repo.rev("HEAD");

    let before = repo.fingerprint();
    let out = repo.session_ok(&["checkpoint"]);
    let line = out.trim_end();
    let prefix = "nothing to checkpoint on main: no change since ";
    assert!(line.starts_with(prefix), "unexpected output: {out:?}");
    let short = &line[prefix.len()..];
    assert!(
        short.len() >= 7 && head.starts_with(short),
        "{short:?} is not an abbreviation of {head}"
    );
    assert_eq!(
        repo.fingerprint(),
        before,
        "a no-op checkpoint changed the repository"
    );

    let out = checkpoint(&repo, &[]);
    assert_eq!(out["created"], json!(false), "{out}");
    assert_eq!(
        repo.fingerprint(),
        before,
        "a no-op checkpoint --json changed the repository"
    );

    // Repeating the same items changes nothing either.
    let out = checkpoint(&repo, &["--task", "idle"]);
    assert_eq!(out["created"], json!(false), "{out}");
    assert_eq!(repo.rev("HEAD"), head);

    // State only: a new commit with the same tree.
    let out = checkpoint(&repo, &["--note", "x"]);
    assert_eq!(out["created"], json!(true), "{out}");
    assert_eq!(out["files_changed"], json!(0), "{out}");
    let new_head = repo.rev("HEAD");
    assert_ne!(new_head, head);
    assert_eq!(repo.rev("HEAD^"), head);
    assert_eq!(repo.rev("HEAD^{tree}"), repo.rev("HEAD^^{tree}"));
    assert_eq!(strs(&out["state"]["notes"]), v(&["x"]));
    assert!(repo.status().is_empty(), "{}", repo.status());
}

/// Issue 21, item 3: a commit of the user's (or the agent's) own after a
/// checkpoint used to be followed by an empty "update session state"
/// checkpoint. The state is carried forward by the walk instead.
#[test]
fn empty_checkpoint_after_a_commit_of_the_users_own() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write("b.txt", "b\n");
    let first = checkpoint(&repo, &["--task", "the task", "--todo", "one"]);
    let cp = first["commit"].as_str().expect("a commit id").to_string();
    repo.write("b.txt", "b2\n");
    repo.commit_all("my own commit");
    let mine = repo.rev("HEAD");

    let before = repo.fingerprint();
    let out = checkpoint(&repo, &[]);
    assert_eq!(out["created"], json!(false), "{out}");
    assert_eq!(out["commit"], json!(cp), "{out}");
    assert_eq!(repo.fingerprint(), before, "nothing is written");
    let line = repo.session_ok(&["checkpoint"]);
    assert!(
        line.contains("the work tree is HEAD's") && line.contains(&cp[..7]),
        "{line}"
    );
    // The state is still found, behind the commit.
    let shown = repo.session_json(&["show"]);
    assert_eq!(shown["task"], json!("the task"));
    assert_eq!(shown["checkpoint"], json!(cp));

    // A state change is still a checkpoint, on top of the user's commit.
    let out = checkpoint(&repo, &["--done", "one"]);
    assert_eq!(out["created"], json!(true), "{out}");
    assert_eq!(repo.rev("HEAD^"), mine);
    assert_eq!(out["state"]["sequence"], json!(2));
}

const SECRET: &[u8] = b"TOKEN=very-secret\n";

/// Write `files` untracked, checkpoint, and check that exactly `skipped`
/// ({path, reason}) were left out, reported and left alone.
fn assert_skips(repo: &Repo, files: &[&str], committed: &[&str], skipped: &[(&str, &str)]) {
    for f in files {
        repo.write(f, SECRET);
    }
    let out = repo.session(&["checkpoint", "--json"]);
    assert!(out.status.success(), "checkpoint failed:\n{}", text(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("checkpoint --json is JSON");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tree = repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    let tree: Vec<&str> = tree.lines().collect();

    for (path, reason) in skipped {
        assert!(!tree.contains(path), "{path} was committed; tree: {tree:?}");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("warning: skipped {path}"))),
            "no `warning: skipped {path}` on stderr:\n{stderr}"
        );
        let entry = json!({"path": path, "reason": reason});
        assert!(
            json["skipped"]
                .as_array()
                .is_some_and(|a| a.contains(&entry)),
            "{entry} not in JSON skipped: {}",
            json["skipped"]
        );
        assert!(
            json["state"]["skipped"]
                .as_array()
                .is_some_and(|a| a.contains(&entry)),
            "{entry} not in state.skipped: {}",
            json["state"]["skipped"]
        );
        assert!(
            trailer(repo, "HEAD", "Session-Skipped").contains(&format!("{reason} {path}")),
            "no `Session-Skipped: {reason} {path}` trailer: {:?}",
            trailer(repo, "HEAD", "Session-Skipped")
        );
    }
    assert_eq!(
        json["skipped"].as_array().map(Vec::len),
        Some(skipped.len()),
        "{}",
        json["skipped"]
    );
    for path in committed {
        assert!(tree.contains(path), "{path} not committed; tree: {tree:?}");
    }

    // Still on disk, unchanged (the big file is checked by the caller).
    for f in files {
        assert_eq!(repo.read(f), SECRET, "{f} changed on disk");
    }
    // git sees exactly the skipped files as untracked, nothing else.
    let mut expected: Vec<String> = skipped.iter().map(|(p, _)| format!("?? {p}")).collect();
    expected.sort();
    let mut status: Vec<String> = repo.status().lines().map(str::to_string).collect();
    status.sort();
    assert_eq!(status, expected);
    repo.fsck();
}

#[test]
fn secrets_and_large_files_are_skipped() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    // A tracked .env (committed by git) and a tracked big file are always committed.
    repo.write("tracked/.env", "A=1\n");
    repo.write("tracked/big.dat", "small\n");
    repo.git(&["add", "-f", "tracked/.env", "tracked/big.dat"]);
    repo.git(&["commit", "-q", "-m", "track"]);
    repo.git(&["config", "session.sizeLimit", "1000"]);
    repo.write("tracked/.env", "A=2\n");
    let big = vec![b'x'; 2000];
    repo.write("tracked/big.dat", &big);
    repo.write("big.bin", &big);
    repo.write("small.bin", vec![b'y'; 999]);
    repo.write("src/main.rs", "fn main() {}\n");

    assert_skips(
        &repo,
        &[
            ".env",
            "config/.env.local",
            "key.pem",
            "id_rsa",
            "credentials.json",
        ],
        &[
            "tracked/.env",
            "tracked/big.dat",
            "small.bin",
            "src/main.rs",
            "a.txt",
        ],
        &[
            (".env", "secret"),
            ("big.bin", "too-large"),
            ("config/.env.local", "secret"),
            ("credentials.json", "secret"),
            ("id_rsa", "secret"),
            ("key.pem", "secret"),
        ],
    );
    assert_eq!(repo.read("big.bin"), big);
    // The same files skipped again is no change.
    let head = repo.rev("HEAD");
    let again = checkpoint(&repo, &[]);
    assert_eq!(again["created"], json!(false), "{again}");
    assert_eq!(repo.rev("HEAD"), head);
    assert_eq!(repo.git(&["show", "HEAD:tracked/.env"]), "A=2\n");
    assert_eq!(repo.git(&["show", "HEAD:tracked/big.dat"]).len(), 2000);
}

#[test]
fn secret_patterns_from_config_file() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write(".git-session.toml", "secret_patterns = [\"*.secret\"]\n");
    repo.write("plain.txt", "plain\n");
    assert_skips(
        &repo,
        &["db.secret", "nested/dir/x.secret", ".env"],
        &[".git-session.toml", "plain.txt"],
        &[
            (".env", "secret"),
            ("db.secret", "secret"),
            ("nested/dir/x.secret", "secret"),
        ],
    );
}

#[test]
fn secret_patterns_from_git_config() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.git(&["config", "--add", "session.secretPatterns", "*.tok"]);
    repo.git(&["config", "--add", "session.secretPatterns", "private-*"]);
    repo.write("public.txt", "public\n");
    assert_skips(
        &repo,
        &["api.tok", "sub/private-notes.txt", ".env.production"],
        &["public.txt"],
        &[
            (".env.production", "secret"),
            ("api.tok", "secret"),
            ("sub/private-notes.txt", "secret"),
        ],
    );
}

#[test]
fn log_lists_checkpoints_newest_first() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&["start", "-q", "--todo", "a", "--todo", "b", "Log task"]);
    let start = repo.rev("HEAD");
    repo.write("b.txt", "b\n");
    repo.session_ok(&["checkpoint", "-q", "-m", "second", "--done", "a"]);
    let second = repo.rev("HEAD");
    repo.write("plain.txt", "plain\n");
    repo.commit_all("plain commit by git");
    let plain = repo.rev("HEAD");
    repo.write("c.txt", "c\n");
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "-m",
        "third",
        "--doing",
        "b",
        "--todo",
        "c",
        "--reason",
        "stop",
    ]);
    let third = repo.rev("HEAD");

    // git's view: first-parent commits carrying a Session-Schema trailer.
    let oracle: Vec<String> = repo
        .git(&[
            "log",
            "--first-parent",
            "--format=%H %(trailers:key=Session-Schema,valueonly,separator=%x2C)",
        ])
        .lines()
        .filter_map(|l| {
            l.split_once(' ')
                .filter(|(_, s)| !s.is_empty())
                .map(|(id, _)| id.to_string())
        })
        .collect();
    assert_eq!(oracle, vec![third.clone(), second.clone(), start.clone()]);

    let log = repo.session_json(&["log"]);
    let entries = log
        .as_array()
        .unwrap_or_else(|| panic!("log --json is not an array: {log}"));
    let commits: Vec<&Value> = entries.iter().map(|e| &e["commit"]).collect();
    assert_eq!(
        commits,
        vec![&json!(third), &json!(second), &json!(start)],
        "{log}"
    );
    let counts = |e: &Value| (e["done"].clone(), e["doing"].clone(), e["todo"].clone());
    assert_eq!(
        counts(&entries[0]),
        (json!(1), json!(1), json!(1)),
        "{}",
        entries[0]
    );
    assert_eq!(
        counts(&entries[1]),
        (json!(1), json!(0), json!(1)),
        "{}",
        entries[1]
    );
    assert_eq!(
        counts(&entries[2]),
        (json!(0), json!(0), json!(2)),
        "{}",
        entries[2]
    );
    assert_eq!(entries[0]["reason"], json!("stop"));
    assert_eq!(entries[2]["reason"], json!("start"));
    assert_eq!(
        entries[1]["reason"],
        repo.session_json(&["show", &second])["reason"]
    );
    assert_eq!(entries[0]["summary"], json!("third"));
    assert_eq!(entries[1]["summary"], json!("second"));
    for e in entries {
        assert!(e["created_at"].is_string(), "created_at: {e}");
    }

    let one = repo.session_json(&["log", "-n", "1"]);
    assert_eq!(one.as_array().map(Vec::len), Some(1), "{one}");
    assert_eq!(one[0]["commit"], json!(third));

    let from_plain = repo.session_json(&["log", &plain]);
    let commits: Vec<&Value> = from_plain
        .as_array()
        .map(|a| a.iter().map(|e| &e["commit"]).collect())
        .unwrap_or_default();
    assert_eq!(commits, vec![&json!(second), &json!(start)], "{from_plain}");
    // show at the plain commit gives the newest checkpoint before it.
    assert_eq!(
        repo.session_json(&["show", &plain])["checkpoint"],
        json!(second)
    );
}

#[test]
fn show_numbers_open_items_as_done_takes_them() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&[
        "start",
        "-q",
        "--todo",
        "alpha-todo",
        "--todo",
        "bravo-todo",
        "--todo",
        "charlie-doing",
        "Show task",
    ]);
    repo.session_ok(&["checkpoint", "-q", "--doing", "charlie-doing"]);

    let out = repo.session_ok(&["show"]);
    assert!(out.contains("Show task"), "{out}");
    // Numbered lines: `N. text`, leading spaces allowed.
    let numbered: Vec<(usize, &str)> = out
        .lines()
        .filter_map(|l| {
            let (n, rest) = l.trim_start().split_once(". ")?;
            Some((n.parse().ok()?, rest))
        })
        .collect();
    let number_of = |needle: &str| -> usize {
        let found: Vec<usize> = numbered
            .iter()
            .filter(|(_, rest)| rest.contains(needle))
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{needle} is not numbered exactly once in show output:\n{out}"
        );
        found[0]
    };
    // Numbers stay with their items: charlie keeps #3 in progress.
    assert_eq!(number_of("alpha-todo"), 1, "{out}");
    assert_eq!(number_of("bravo-todo"), 2, "{out}");
    assert_eq!(number_of("charlie-doing"), 3, "{out}");
    let order: Vec<usize> = numbered.iter().map(|(n, _)| *n).collect();
    assert_eq!(order, vec![1, 2, 3], "numbered lines out of order:\n{out}");

    // The numbers are the ones #N refers to.
    let s = checkpoint(&repo, &["--done", "#1"])["state"].clone();
    assert_eq!(
        items(&s),
        (
            v(&["alpha-todo"]),
            v(&["charlie-doing"]),
            v(&["bravo-todo"])
        )
    );
}

#[test]
fn status_reports_changes_since_the_checkpoint() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    repo.write("b.txt", "b\n");
    repo.write("dir/c.txt", "c\n");
    repo.write(".gitignore", "*.log\n");
    repo.commit_all("base");
    repo.session_ok(&["start", "-q", "--todo", "x", "--todo", "y", "Status task"]);
    repo.session_ok(&["checkpoint", "-q", "--doing", "y", "--blocker", "blocked"]);
    let cp = repo.rev("HEAD");

    let st = repo.session_json(&["status"]);
    assert_eq!(st["branch"], json!("main"), "{st}");
    assert_eq!(st["task"], json!("Status task"), "{st}");
    assert_eq!(
        strs(&st["open"]),
        v(&["x", "y"]),
        "open items in number order, as show numbers them: {st}"
    );
    assert_eq!(strs(&st["blockers"]), v(&["blocked"]), "{st}");
    assert!(st["checkpoint"].is_object(), "{st}");
    assert!(
        st["checkpoint"].to_string().contains(&cp),
        "checkpoint does not name {cp}: {st}"
    );
    for k in ["modified", "added", "deleted"] {
        assert_eq!(st["changes"][k], json!([]), "{k} before any change: {st}");
    }

    repo.write("a.txt", "a2\n");
    repo.write("dir/c.txt", "c2\n");
    std::fs::remove_file(repo.path.join("b.txt")).expect("delete b.txt");
    repo.write("new.txt", "new\n");
    repo.write("newdir/n.txt", "n\n");
    repo.write("debug.log", "ignored\n");

    // git's view of the same changes (the index matches the checkpoint).
    assert_eq!(repo.rev("HEAD"), cp);
    let mut git_view = repo
        .status()
        .lines()
        .map(str::to_string)
        .collect::<Vec<_>>();
    git_view.sort();
    assert_eq!(
        git_view,
        v(&[
            " D b.txt",
            " M a.txt",
            " M dir/c.txt",
            "?? new.txt",
            "?? newdir/n.txt"
        ])
    );

    let st = repo.session_json(&["status"]);
    let sorted = |v: &Value| {
        let mut s = strs(v);
        s.sort();
        s
    };
    assert_eq!(
        sorted(&st["changes"]["modified"]),
        v(&["a.txt", "dir/c.txt"]),
        "{st}"
    );
    assert_eq!(
        sorted(&st["changes"]["added"]),
        v(&["new.txt", "newdir/n.txt"]),
        "{st}"
    );
    assert_eq!(sorted(&st["changes"]["deleted"]), v(&["b.txt"]), "{st}");

    repo.session_ok(&["checkpoint", "-q"]);
    let st = repo.session_json(&["status"]);
    for k in ["modified", "added", "deleted"] {
        assert_eq!(st["changes"][k], json!([]), "{k} after checkpoint: {st}");
    }
    assert!(
        st["checkpoint"].to_string().contains(&repo.rev("HEAD")),
        "{st}"
    );
    assert_eq!(repo.status(), "");
}

/// Issue 21, item 14: during a merge conflict `status` said "run 'git
/// session checkpoint'", which then refused; "1 files"; and no "(in
/// progress)" marker where `show` has one.
#[test]
fn status_during_a_merge_conflict_says_run_checkpoint() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&["start", "-q", "-b", "feat/x", "--todo", "later", "Task"]);
    repo.session_ok(&["checkpoint", "-q", "--doing", "now"]);
    repo.git(&["switch", "-q", "-c", "other", "main"]);
    repo.write("a.txt", "theirs\n");
    repo.commit_all("theirs");
    repo.git(&["switch", "-q", "feat/x"]);
    repo.write("a.txt", "ours\n");
    repo.commit_all("ours");
    let out = repo.git_output(&["merge", "-q", "other"]);
    assert!(!out.status.success(), "the merge conflicts");

    let said = repo.session_ok(&["status"]);
    assert!(!said.contains("run 'git session checkpoint'"), "{said}");
    assert!(said.contains("(1 file)"), "{said}");
    assert!(
        said.contains("A merge is in progress: checkpoints wait until it is over")
            && said.contains("refs/session/rescue/feat/x"),
        "{said}"
    );
    assert!(
        said.contains("  1. later\n  2. now (in progress)\n"),
        "{said}"
    );
    let json = repo.session_json(&["status"]);
    assert_eq!(json["blocked"], json!("A merge is in progress"), "{json}");

    // Conflicts without an operation (git stash pop) say so too.
    repo.git(&["merge", "--abort"]);
    repo.write("a.txt", "stashed\n");
    repo.git(&["stash", "-q"]);
    repo.write("a.txt", "other\n");
    repo.commit_all("meanwhile");
    let _ = repo.git_output(&["stash", "pop", "-q"]);
    let said = repo.session_ok(&["status"]);
    assert!(
        said.contains("The index has unresolved conflicts in 1 path, first 'a.txt'"),
        "{said}"
    );
}

/// Issue 21, item 15: on a branch without commits, `show`, `log` and
/// `resume` said "unknown revision 'HEAD'", and `status` "No changes since
/// the last checkpoint" though there was none.
#[test]
fn unborn_head_says_unknown_revision() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    for command in ["show", "log", "resume"] {
        let out = repo.session(&[command]);
        assert_eq!(out.status.code(), Some(1), "{command}");
        let said = text(&out);
        assert!(
            said.contains("error: branch 'main' has no commits yet")
                && said.contains("git session start"),
            "{command}: {said}"
        );
    }
    let said = repo.session_ok(&["status"]);
    assert!(said.contains("No files yet"), "{said}");
    repo.write("a.txt", "a\n");
    let said = repo.session_ok(&["status"]);
    assert!(!said.contains("since the last checkpoint"), "{said}");
    assert!(
        said.contains("In the work tree (1 file), in no commit yet"),
        "{said}"
    );
    // A revision that does not exist is still that.
    assert!(text(&repo.session(&["show", "nope"])).contains("unknown revision 'nope'"));
}

#[test]
fn detached_head_checkpoint_moves_only_head() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write("a.txt", "a2\n");
    repo.commit_all("second");
    repo.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let detached = repo.rev("HEAD");
    let branches = repo.git(&["for-each-ref", "refs/heads"]);

    repo.write("d.txt", "d\n");
    let out = checkpoint(&repo, &["--task", "detached work"]);
    assert_eq!(out["branch"], Value::Null, "{out}");
    assert_eq!(out["created"], json!(true));
    let head = repo.rev("HEAD");
    assert_eq!(out["commit"], json!(head));
    assert_eq!(repo.rev("HEAD^"), detached);
    assert!(
        !repo
            .git_output(&["symbolic-ref", "-q", "HEAD"])
            .status
            .success(),
        "HEAD is no longer detached"
    );
    assert_eq!(
        repo.git(&["for-each-ref", "refs/heads"]),
        branches,
        "a branch moved"
    );
    assert_eq!(repo.git(&["show", "HEAD:d.txt"]), "d\n");
    assert!(repo.status().is_empty(), "{}", repo.status());

    repo.write("e.txt", "e\n");
    repo.write("f.txt", "f\n");
    let line = repo.session_ok(&["checkpoint", "--todo", "t"]);
    let head = repo.rev("HEAD");
    assert_eq!(
        line.trim_end(),
        format!(
            "checkpoint {} on HEAD (detached): 2 files changed, 0 skipped; done 0, doing 0, todo 1",
            &head[..7]
        ),
        "human output when detached"
    );
    assert!(!repo
        .git_output(&["symbolic-ref", "-q", "HEAD"])
        .status
        .success());
    repo.fsck();
}

#[test]
fn unborn_branch_first_checkpoint_is_a_root_commit() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    repo.write("dir/b.txt", "b\n");
    let out = checkpoint(&repo, &["--task", "from nothing"]);
    assert_eq!(out["created"], json!(true));
    assert_eq!(out["branch"], json!("main"));
    let head = repo.rev("HEAD");
    assert_eq!(out["commit"], json!(head));
    assert_eq!(
        repo.git(&["rev-list", "--parents", "-n", "1", "HEAD"])
            .trim_end(),
        head,
        "not a root commit"
    );
    assert_eq!(
        repo.git(&["symbolic-ref", "HEAD"]).trim_end(),
        "refs/heads/main"
    );
    assert_eq!(
        repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]),
        "a.txt\ndir/b.txt\n"
    );
    assert_eq!(out["state"]["base"], Value::Null, "{out}");
    assert!(trailer(&repo, "HEAD", "Session-Base").is_empty());
    assert!(repo.status().is_empty(), "{}", repo.status());
    repo.fsck();
}

#[test]
fn checkpoint_json_and_human_output() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    repo.write("b.txt", "b\n");
    repo.write("gone.txt", "gone\n");
    repo.commit_all("base");
    repo.write("a.txt", "a2\n");
    repo.write("b.txt", "b2\n");
    repo.write("new.txt", "new\n");
    std::fs::remove_file(repo.path.join("gone.txt")).expect("delete");
    repo.write(".env", "S=1\n");

    let out = checkpoint(&repo, &["--task", "json", "--todo", "t1", "--done", "d1"]);
    let keys: Vec<&str> = out
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "commit",
        "branch",
        "created",
        "files_changed",
        "skipped",
        "state",
    ] {
        assert!(keys.contains(&k), "checkpoint --json lacks {k}: {out}");
    }
    let head = repo.rev("HEAD");
    assert_eq!(out["commit"], json!(head));
    assert_eq!(out["branch"], json!("main"));
    assert_eq!(out["created"], json!(true));
    let changed = repo.git(&[
        "diff-tree",
        "-r",
        "--name-only",
        "--no-commit-id",
        "HEAD^",
        "HEAD",
    ]);
    assert_eq!(changed.lines().count(), 4, "{changed}");
    assert_eq!(
        out["files_changed"],
        json!(changed.lines().count()),
        "{out}"
    );
    assert_eq!(
        out["skipped"],
        json!([{"path": ".env", "reason": "secret"}])
    );
    let shown = repo.session_json(&["show"]);
    for k in [
        "task", "branch", "done", "doing", "todo", "skipped", "reason", "schema",
    ] {
        assert_eq!(out["state"][k], shown[k], "state.{k} vs show --json");
    }

    // Human output line, and -q.
    repo.write("a.txt", "a3\n");
    repo.write("b.txt", "b3\n");
    repo.write("c.txt", "c\n");
    let line = repo.session_ok(&["checkpoint", "--todo", "t2"]);
    let head = repo.rev("HEAD");
    assert_eq!(
        line.trim_end(),
        format!(
            "checkpoint {} on main: 3 files changed, 1 skipped; done 1, doing 0, todo 2",
            &head[..7]
        )
    );
    repo.write("c.txt", "c2\n");
    let quiet = repo.session_ok(&["checkpoint", "-q"]);
    assert_eq!(quiet, "", "-q printed something");
    assert_ne!(repo.rev("HEAD"), head, "-q did not checkpoint");
}
