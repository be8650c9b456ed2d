//! `git session resume`: from fresh clones through a bare remote (with and
//! without notes, on a remote-tracking branch without switching), uncommitted
//! work only for the checked-out HEAD, `--max-chars` that keeps the open items
//! and whole lines, `-o FILE`, and a cost that does not grow with the number
//! of checkpoints.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{text, Repo, Sandbox};

const TASK: &str = "Teach the tool to read its config file";
const DONE: &str = "parse the config file";
const DOING: &str = "write the user docs";
const TODO: &str = "add a --config flag";
const DECISION: &str = "TOML, not YAML";
const NOTE: &str = "the old INI format is still read, with a warning";
const BLOCKER: &str = "the flag's name is not agreed yet";
const LATER_SUBJECT: &str = "Document the config file format";

/// `resume --format json ARGS`, parsed.
fn resume_json(repo: &Repo, args: &[&str]) -> Value {
    let mut all = vec!["resume", "--format", "json"];
    all.extend_from_slice(args);
    let out = repo.session_ok(&all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{out}"))
}

fn strs(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .collect()
}

/// `path` of each entry of a file list.
fn paths(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|f| f["path"].as_str().expect("path is a string"))
        .collect()
}

/// Clone A of a bare `remote.git`: a session on `feat/x` with one
/// checkpoint carrying every kind of item, then a plain `git commit`, and
/// only the branch pushed (`git push origin feat/x`: no notes).
fn session_with_remote(sb: &Sandbox) -> Repo {
    sb.git(&["init", "-q", "--bare", "-b", "main", "remote.git"]);
    let a = sb.init("a");
    a.write("README.md", "# project\n");
    a.commit_all("initial");
    a.git(&["remote", "add", "origin", "../remote.git"]);
    a.git(&["push", "-q", "origin", "main"]);
    a.session_ok(&[
        "start", "-b", "feat/x", "--todo", DONE, "--todo", DOING, TASK,
    ]);
    a.write("src/config.rs", "pub fn load() {}\n");
    a.session_ok(&[
        "checkpoint",
        "--done",
        DONE,
        "--doing",
        DOING,
        "--todo",
        TODO,
        "--decision",
        DECISION,
        "--note",
        NOTE,
        "--blocker",
        BLOCKER,
    ]);
    a.write("docs/config.md", "# Config\n\nTOML.\n");
    a.git(&["add", "docs/config.md"]);
    a.git(&["commit", "-q", "-m", LATER_SUBJECT]);
    a.git(&["push", "-q", "origin", "feat/x"]);
    a
}

/// The state a resume must carry, whatever clone it runs in.
fn assert_text_has_everything(out: &str, what: &str) {
    for needle in [
        TASK,
        DONE,
        DOING,
        TODO,
        DECISION,
        NOTE,
        BLOCKER,
        LATER_SUBJECT,
        "src/config.rs",
        "docs/config.md",
    ] {
        assert!(
            out.contains(needle),
            "{what}: {needle:?} missing from:\n{out}"
        );
    }
}

/// JSON values that must not depend on where resume runs or whether the
/// state came from the note or the trailers.
fn assert_same_state(a: &Value, b: &Value, what: &str) {
    for key in [
        "task",
        "done",
        "doing",
        "todo",
        "decisions",
        "notes",
        "blockers",
        "skipped",
        "summary",
        "base",
        "checkpoints",
        "files",
        "rev",
    ] {
        assert_eq!(a[key], b[key], "{what}: {key}");
    }
    for key in ["id", "reason", "time"] {
        assert_eq!(
            a["checkpoint"][key], b["checkpoint"][key],
            "{what}: checkpoint.{key}"
        );
    }
    let commits = |v: &Value| -> Vec<(String, String)> {
        v["commits_after"]
            .as_array()
            .expect("commits_after")
            .iter()
            .map(|c| (c["id"].to_string(), c["subject"].to_string()))
            .collect()
    };
    assert_eq!(commits(a), commits(b), "{what}: commits_after");
}

#[test]
fn resume_from_fresh_clones_through_a_bare_remote() {
    let sb = Sandbox::new();
    let a = session_with_remote(&sb);
    assert_eq!(
        sb.git(&["--git-dir", "remote.git", "for-each-ref", "refs/notes"]),
        "",
        "only the branch was pushed"
    );

    // A has the note.
    let a_json = resume_json(&a, &[]);
    assert_eq!(a_json["checkpoint"]["source"], "note", "{a_json:#}");
    assert_eq!(a_json["branch"], "feat/x");
    assert_eq!(a_json["remote"], "origin");
    assert_text_has_everything(&a.session_ok(&["resume"]), "A");

    // B: a fresh clone, switched to the branch; trailers only.
    sb.git(&["clone", "-q", "remote.git", "b"]);
    let b = sb.repo("b");
    b.git(&["switch", "-q", "feat/x"]);
    let b_text = b.session_ok(&["resume"]);
    assert_text_has_everything(&b_text, "B");
    assert!(
        b_text.contains(&format!("- {DONE}\n"))
            && b_text.contains(&format!("- #2 {DOING}\n"))
            && b_text.contains(&format!("- #3 {TODO}\n")),
        "items are listed as items:\n{b_text}"
    );
    assert!(!b_text.contains("Uncommitted"), "{b_text}");
    let b_json = resume_json(&b, &[]);
    assert_eq!(b_json["checkpoint"]["source"], "trailers", "{b_json:#}");
    assert_eq!(b_json["branch"], "feat/x");
    assert_eq!(b_json["remote"], "origin");
    assert_eq!(b_json["upstream"], "origin/feat/x");
    assert_eq!(strs(&b_json["done"]), [DONE]);
    assert_eq!(strs(&b_json["doing"]), [DOING]);
    assert_eq!(strs(&b_json["todo"]), [TODO]);
    assert_eq!(strs(&b_json["decisions"]), [DECISION]);
    assert_eq!(strs(&b_json["notes"]), [NOTE]);
    assert_eq!(strs(&b_json["blockers"]), [BLOCKER]);
    assert_eq!(b_json["task"], TASK);
    assert_eq!(b_json["commits_after"][0]["subject"], LATER_SUBJECT);
    assert_eq!(b_json["checkpoints"], 2);
    assert_eq!(paths(&b_json["files"]), ["docs/config.md", "src/config.rs"]);
    assert_eq!(b_json["uncommitted"], Value::Array(Vec::new()));
    assert_eq!(b_json["checkpoint"]["id"], a.rev("feat/x~1"));
    assert_same_state(&a_json, &b_json, "A (note) vs B (trailers)");

    // C: a fresh clone that stays on main, with work of its own in
    // progress, resumes the remote-tracking branch without switching.
    sb.git(&["clone", "-q", "remote.git", "c"]);
    let c = sb.repo("c");
    c.write("README.md", "# project, edited in C\n");
    let before = c.fingerprint();
    let c_text = c.session_ok(&["resume", "origin/feat/x"]);
    assert_text_has_everything(&c_text, "C");
    assert!(!c_text.contains("Uncommitted"), "{c_text}");
    assert!(!c_text.contains("README.md"), "{c_text}");
    let c_json = resume_json(&c, &["origin/feat/x"]);
    assert_eq!(c_json["branch"], "feat/x", "{c_json:#}");
    assert_eq!(c_json["remote"], "origin");
    assert_eq!(c_json["upstream"], "origin/feat/x");
    assert_eq!(c_json["checkpoint"]["source"], "trailers");
    assert_eq!(c_json["uncommitted"], Value::Array(Vec::new()));
    assert_eq!(
        c_json["how_to_continue"]["get_branch"],
        "git fetch origin feat/x && git switch feat/x"
    );
    assert_same_state(&a_json, &c_json, "A vs C");
    assert_eq!(c.fingerprint(), before, "resume changed nothing in C");
    assert_eq!(c.git(&["symbolic-ref", "--short", "HEAD"]).trim(), "main");
}

#[test]
fn resume_lists_uncommitted_work_only_for_the_checked_out_head() {
    let sb = Sandbox::new();
    let a = session_with_remote(&sb);
    a.write("src/config.rs", "pub fn load() { todo!() }\n");
    a.write("src/new.rs", "// new\n");
    std::fs::remove_file(a.path.join("docs/config.md")).expect("remove");
    // git itself is the oracle for what is uncommitted.
    let mut expected: Vec<(String, String)> = a
        .status()
        .lines()
        .map(|l| {
            let status = match l[..2].trim() {
                "M" => "modified",
                "D" => "deleted",
                "??" => "added",
                other => panic!("unexpected status {other:?}"),
            };
            (l[3..].to_string(), status.to_string())
        })
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 3, "{}", a.status());

    for rev in [None, Some("HEAD"), Some("feat/x")] {
        let args: Vec<&str> = rev.into_iter().collect();
        let mut text_args = vec!["resume"];
        text_args.extend(&args);
        let out = a.session_ok(&text_args);
        let section = out
            .split("Uncommitted changes in the work tree")
            .nth(1)
            .unwrap_or_else(|| panic!("resume {args:?}: no uncommitted section:\n{out}"));
        for (path, status) in &expected {
            assert!(
                section.contains(&format!("- {status}: {path}\n")),
                "resume {args:?}: {status} {path} not listed:\n{out}"
            );
        }
        let json = resume_json(&a, &args);
        let mut got: Vec<(String, String)> = json["uncommitted"]
            .as_array()
            .expect("uncommitted")
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().expect("path").to_string(),
                    f["status"].as_str().expect("status").to_string(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, expected, "resume {args:?}");
    }

    // The same commit under other names, and another branch: not the work
    // tree's HEAD, so its uncommitted files are none of their business.
    a.git(&["branch", "feat/same-commit"]);
    a.git(&["branch", "feat/older", "feat/x~1"]);
    for rev in ["origin/feat/x", "feat/same-commit", "feat/older"] {
        let out = a.session_ok(&["resume", rev]);
        assert!(!out.contains("Uncommitted"), "resume {rev}:\n{out}");
        assert!(!out.contains("src/new.rs"), "resume {rev}:\n{out}");
        let json = resume_json(&a, &[rev]);
        assert_eq!(
            json["uncommitted"],
            Value::Array(Vec::new()),
            "resume {rev}"
        );
    }
    let older = resume_json(&a, &["feat/older"]);
    assert_eq!(older["commits_after"], Value::Array(Vec::new()));
    assert_eq!(older["branch"], "feat/older");
}

/// Lines of a `--max-chars` output that the untrimmed render lacks: the
/// `… and N earlier/more/older` markers, whatever the bullet.
fn is_omission_line(line: &str) -> bool {
    line.split_once("… and ").is_some_and(|(_, rest)| {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        !digits.is_empty()
    })
}

#[test]
fn resume_max_chars_keeps_open_items_newest_done_and_whole_lines() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("README.md", "x\n");
    repo.commit_all("initial");
    let open = [
        "doing: wire the parser",
        "todo: error messages",
        "todo: docs",
    ];
    repo.session_ok(&[
        "start",
        "--todo",
        open[1],
        "--todo",
        open[2],
        "Rewrite the parser",
    ]);
    for i in 0..100 {
        repo.write(&format!("src/file{i:03}.rs"), format!("// {i}\n"));
    }
    let done: Vec<String> = (1..=200).map(|i| format!("finished step {i:03}")).collect();
    let mut args: Vec<String> = vec!["checkpoint".into(), "-q".into()];
    for item in &done {
        args.extend(["--done".into(), item.clone()]);
    }
    args.extend(["--doing".into(), open[0].into()]);
    for i in 1..=10 {
        args.extend(["--decision".into(), format!("decision number {i}")]);
        args.extend(["--note".into(), format!("note number {i}")]);
    }
    args.extend(["--blocker".into(), "waiting for review".into()]);
    repo.session_ok(&args);

    for template in ["resume", "handoff", "agent-context"] {
        let full = repo.session_ok(&["resume", "--template", template]);
        let full_lines: BTreeSet<&str> = full.lines().collect();
        let full_len = full.chars().count();
        if template != "agent-context" {
            assert!(
                full.contains("finished step 001") && full.contains("src/file099.rs"),
                "{template}: the untrimmed render lists everything"
            );
        }
        assert_eq!(
            repo.session_ok(&[
                "resume",
                "--template",
                template,
                "--max-chars",
                &full_len.to_string()
            ]),
            full,
            "{template}: nothing to trim at exactly its length"
        );
        for max in [full_len - 1, 8000, 4000, 2500, 1500] {
            if max >= full_len {
                continue;
            }
            let out = repo.session_ok(&[
                "resume",
                "--template",
                template,
                "--max-chars",
                &max.to_string(),
            ]);
            let what = format!("{template} --max-chars {max}");
            assert!(
                out.chars().count() <= max,
                "{what}: {} chars:\n{out}",
                out.chars().count()
            );
            for item in open.iter().chain(&["waiting for review"]) {
                assert!(
                    out.contains(item),
                    "{what}: open item {item:?} dropped:\n{out}"
                );
            }
            assert!(
                out.lines().any(is_omission_line),
                "{what}: nothing says what was left out:\n{out}"
            );
            for line in out.lines() {
                assert!(
                    full_lines.contains(line) || is_omission_line(line),
                    "{what}: line {line:?} is not a whole line of the untrimmed render:\n{out}"
                );
            }
            if template == "agent-context" {
                // It names only the newest done item, and counts them all.
                assert!(out.contains("Already done: 200 items"), "{what}:\n{out}");
                assert!(out.contains("finished step 200"), "{what}:\n{out}");
                continue;
            }
            // The done items kept are the newest ones, in order, and the
            // rest are counted.
            let kept: Vec<&str> = out
                .lines()
                .filter_map(|l| l.find("finished step ").map(|i| &l[i..]))
                .collect();
            assert!(!kept.is_empty(), "{what}: no done item kept:\n{out}");
            assert_eq!(
                kept,
                done[done.len() - kept.len()..],
                "{what}: not the newest done items"
            );
            let omitted = done.len() - kept.len();
            if omitted > 0 {
                assert!(
                    out.contains(&format!("… and {omitted} earlier")),
                    "{what}: no '… and {omitted} earlier':\n{out}"
                );
            }
            // The file list goes first, and goes whole when it must: no
            // section is left with only its "… and N more" line.
            let files = out.lines().filter(|l| l.contains("src/file")).count();
            if files == 0 {
                assert!(!out.contains("… and 100 more"), "{what}:\n{out}");
            } else if files < 100 {
                assert!(
                    out.contains(&format!("… and {} more", 100 - files)),
                    "{what}: {files} files listed, no '… and {} more':\n{out}",
                    100 - files
                );
            }
        }
        // Too small for even the open items: whole lines from the top.
        let out = repo.session_ok(&["resume", "--template", template, "--max-chars", "120"]);
        assert!(out.chars().count() <= 120, "{template}: {out}");
        assert!(!out.is_empty(), "{template}: the first line fits");
        for line in out.lines() {
            assert!(
                full_lines.contains(line) || is_omission_line(line),
                "{template} --max-chars 120: cut line {line:?}"
            );
        }
    }
}

#[test]
fn resume_output_file() {
    let sb = Sandbox::new();
    let a = session_with_remote(&sb);
    let expected = a.session_ok(&["resume", "--template", "handoff"]);
    let out = a.session(&["resume", "--template", "handoff", "-o", "HANDOFF.md"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(out.stdout.is_empty(), "-o prints nothing:\n{}", text(&out));
    assert_eq!(
        String::from_utf8(a.read("HANDOFF.md")).expect("UTF-8"),
        expected
    );

    let file = sb.path("context.json");
    let path = file.to_str().expect("UTF-8 path");
    a.session_ok(&["resume", "--format", "json", "--output", path]);
    let written: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("JSON");
    assert_eq!(written, resume_json(&a, &[]));

    // An existing file is replaced, not appended to.
    a.session_ok(&["resume", "-o", "HANDOFF.md"]);
    assert_eq!(
        String::from_utf8(a.read("HANDOFF.md")).expect("UTF-8"),
        a.session_ok(&["resume"])
    );

    let missing = sb.path("no/such/dir/out.md");
    let out = a.session(&["resume", "-o", missing.to_str().expect("UTF-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("could not write '{}'", missing.display())),
        "{}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// Cost

/// `data` command of a fast-import stream.
fn data(stream: &mut Vec<u8>, bytes: &[u8]) {
    stream.extend_from_slice(format!("data {}\n", bytes.len()).as_bytes());
    stream.extend_from_slice(bytes);
    stream.push(b'\n');
}

/// Done items in every state of [`long_session`]: a long session's state
/// is not small, and every checkpoint holds all of it.
const LONG_DONE: usize = 100;

/// A repository on `main` whose history is one base commit and `count`
/// checkpoints, each with the trailers and the note `checkpoint` writes,
/// built with one `git fast-import` instead of `count` runs of the binary.
fn long_session(sb: &Sandbox, name: &str, count: usize) -> Repo {
    let repo = sb.init(name);
    repo.write("README.md", "base\n");
    repo.commit_all("initial");
    let base = repo.rev("HEAD");
    let done: Vec<String> = (1..=LONG_DONE)
        .map(|k| format!("part {k} of the migration, with its tests"))
        .collect();
    let done_trailers: String = done
        .iter()
        .map(|d| format!("Session-Done: {d}\n"))
        .collect();
    let done_toml = done
        .iter()
        .map(|d| format!("\"{d}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let committer = "Test Committer <committer@example.com>";
    let start = 1_767_323_045u64; // 2026-01-02T03:04:05Z
    let mut stream = Vec::new();
    for i in 1..=count {
        let message = format!(
            "checkpoint: step {i}\n\nTask: A long session\n\n\
             Session-Schema: 1\nSession-Reason: manual\nSession-Sequence: {i}\n\
             Session-Branch: main\nSession-Base: {base}\nSession-Task: A long session\n\
             {done_trailers}Session-Doing: step {i}\nSession-Todo: the rest\n"
        );
        stream.extend_from_slice(
            format!(
                "commit refs/heads/main\nmark :{i}\ncommitter {committer} {} +0000\n",
                start + i as u64
            )
            .as_bytes(),
        );
        data(&mut stream, message.as_bytes());
        if i == 1 {
            stream.extend_from_slice(format!("from {base}\n").as_bytes());
        }
        stream.extend_from_slice(b"M 644 inline counter.txt\n");
        data(&mut stream, format!("{i}\n").as_bytes());
    }
    stream.extend_from_slice(
        format!("commit refs/notes/session\ncommitter {committer} {start} +0000\n").as_bytes(),
    );
    data(&mut stream, b"notes");
    for i in 1..=count {
        let note = format!(
            "schema = 1\ntask = \"A long session\"\nbranch = \"main\"\nbase = \"{base}\"\n\
             summary = \"step {i}\"\nreason = \"manual\"\n\
             created_at = \"2026-01-02T03:04:05+00:00\"\nsequence = {i}\n\
             done = [{done_toml}]\ndoing = [\"step {i}\"]\ntodo = [\"the rest\"]\n\
             decisions = []\nnotes = []\nblockers = []\nskipped = []\n"
        );
        stream.extend_from_slice(format!("N inline :{i}\n").as_bytes());
        data(&mut stream, note.as_bytes());
    }
    stream.extend_from_slice(b"done\n");
    repo.git_stdin(&["fast-import", "--quiet", "--done"], &stream);
    repo.git(&["reset", "-q", "--hard"]);
    repo
}

/// Wall time of running git-session with `args` in `repo`.
fn time_once(repo: &Repo, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = repo.session(args);
    let took = started.elapsed();
    assert!(out.status.success(), "{args:?}:\n{}", text(&out));
    took
}

/// Median times of `args` in `a` and in `b`, runs interleaved so that a
/// change in the machine's load hits both alike.
fn median_times(a: &Repo, b: &Repo, args: &[&str], runs: usize) -> (Duration, Duration) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        ta.push(time_once(a, args));
        tb.push(time_once(b, args));
    }
    ta.sort();
    tb.sort();
    (ta[runs / 2], tb[runs / 2])
}

#[test]
fn resume_cost_does_not_grow_with_the_number_of_checkpoints() {
    let sb = Sandbox::new();
    let short = long_session(&sb, "short", 20);
    let long = long_session(&sb, "long", 2000);

    // The built histories are what checkpoint writes: every commit is a
    // checkpoint read from its note, and resume reads the newest.
    for (repo, count) in [(&short, 20usize), (&long, 2000)] {
        let log = repo.session_ok(&["log"]);
        assert_eq!(log.lines().count(), count, "every commit is a checkpoint");
        let json = resume_json(repo, &[]);
        assert_eq!(json["checkpoint"]["source"], "note");
        assert_eq!(json["checkpoints"], count);
        assert_eq!(strs(&json["doing"]), [format!("step {count}")]);
        assert_eq!(strs(&json["done"]).len(), LONG_DONE);
        let out = repo.session_ok(&["resume"]);
        assert!(
            out.contains(&format!("{count} checkpoints in this session")),
            "{out}"
        );
        assert_eq!(paths(&json["files"]), ["counter.txt"]);
    }

    // Warm up both (page cache, dynamic loader), then measure.
    median_times(&short, &long, &["resume"], 1);
    let runs = 9;
    let (resume_20, resume_2000) = median_times(&short, &long, &["resume"], runs);
    let (log_20, log_2000) = median_times(&short, &long, &["log"], 3);
    eprintln!(
        "resume: {resume_20:?} with 20 checkpoints, {resume_2000:?} with 2000 \
         (medians of {runs}); log, which walks them all: {log_20:?} vs {log_2000:?}"
    );
    let limit = resume_20 * 3 + Duration::from_millis(50);
    // The bound must be one that walking all 2000 checkpoints (as log does)
    // breaks, or this test could not fail.
    assert!(
        log_2000 > limit,
        "walking 2000 checkpoints ({log_2000:?}) fits in the limit ({limit:?}) \
         here, so the limit cannot tell a walk to the root: raise the count"
    );
    assert!(
        resume_2000 < limit,
        "resume took {resume_2000:?} on 2000 checkpoints, {resume_20:?} on 20 \
         (limit {limit:?}): it seems to walk the whole history"
    );
}
