//! Sync through git remotes: `push`, `fetch`, the notes merge, `init` and
//! notes that survive amend and rebase. Remotes are local bare repositories
//! (and once a `git daemon` on 127.0.0.1); git itself is the oracle for what
//! arrived: `git notes show`, `git for-each-ref`, `git fsck`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{isolate, text, Repo, Sandbox};

const NOTES: &str = "refs/notes/session";

/// A bare repository at `rel` whose `main` has one commit.
fn remote_with_main(sb: &Sandbox, rel: &str) -> PathBuf {
    let seed = sb.init(&format!("{rel}.seed"));
    seed.write("README.md", "hello\n");
    seed.commit_all("initial");
    sb.git(&["init", "-q", "--bare", "-b", "main", rel]);
    let path = sb.path(rel);
    seed.git(&[
        "push".as_ref(),
        "-q".as_ref(),
        path.as_os_str(),
        "main".as_ref(),
    ]);
    path
}

/// `git clone -q URL rel`.
fn clone(sb: &Sandbox, url: &str, rel: &str) -> Repo {
    sb.git(&["clone", "-q", url, rel]);
    sb.repo(rel)
}

/// A handle for running git inside a bare repository.
fn bare(sb: &Sandbox, rel: &str) -> Repo {
    sb.repo(rel)
}

fn url(path: &Path) -> String {
    path.to_str().expect("UTF-8 temp path").to_string()
}

/// Every ref with its target, as `git for-each-ref` prints them.
fn refs(repo: &Repo) -> String {
    repo.git(&["for-each-ref", "--format=%(refname) %(objectname)"])
}

/// The id `rev` resolves to, or `None`.
fn try_rev(repo: &Repo, rev: &str) -> Option<String> {
    let out = repo.git_output(&["rev-parse", "-q", "--verify", rev]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `git notes --ref=session show REV`, parsed as TOML.
fn note(repo: &Repo, rev: &str) -> toml::Table {
    let text = repo.git(&["notes", "--ref=session", "show", rev]);
    text.parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("the note on {rev} is not valid TOML ({e}):\n{text}"))
}

fn task_of(note: &toml::Table) -> &str {
    note.get("task")
        .and_then(|t| t.as_str())
        .unwrap_or_else(|| panic!("no task in note {note:?}"))
}

/// Write `text` as the note on `rev` with git itself.
fn git_note(repo: &Repo, rev: &str, text: &str) {
    let file = repo.path.join(".git/test-note");
    std::fs::write(&file, text).expect("write note file");
    repo.git(&[
        "notes".as_ref(),
        "--ref=session".as_ref(),
        "add".as_ref(),
        "-f".as_ref(),
        "-F".as_ref(),
        file.as_os_str(),
        rev.as_ref(),
    ]);
}

fn state_toml(task: &str, created_at: &str) -> String {
    format!("schema = 1\ntask = \"{task}\"\nbranch = \"feat/a\"\ncreated_at = \"{created_at}\"\n")
}

fn assert_no_panic(out: &Output) {
    let all = text(out);
    assert!(!all.contains("panicked"), "git-session panicked:\n{all}");
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}:\n{}",
        text(out)
    );
    assert_no_panic(out);
}

/// A port nothing listens on: bind port 0, read the port, let it go.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local address")
        .port()
}

/// A `git daemon` on 127.0.0.1, killed when dropped.
struct Daemon {
    child: Child,
    port: u16,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    /// Serve every repository under `base` (fetch and push) on a free port.
    fn start(sb: &Sandbox, base: &Path) -> Daemon {
        // Another process may take the port between our probe and git's
        // bind: try a few.
        // `git daemon` would run git-daemon as a child of its own, which
        // killing `git` orphans: start git-daemon itself, so the Drop guard
        // stops the process that listens.
        let exec_path = Command::new("git")
            .arg("--exec-path")
            .output()
            .expect("git --exec-path");
        let daemon_bin =
            Path::new(String::from_utf8_lossy(&exec_path.stdout).trim()).join("git-daemon");
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(&daemon_bin);
            isolate(&mut cmd, &sb.home());
            cmd.arg("--reuseaddr")
                .arg("--listen=127.0.0.1")
                .arg(format!("--port={port}"))
                .arg("--export-all")
                .arg("--enable=receive-pack")
                .arg("--informative-errors")
                .arg(format!("--base-path={}", base.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let child = cmd.spawn().expect("spawn git daemon");
            let mut daemon = Daemon { child, port };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return daemon;
                }
                if daemon.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            drop(daemon);
        }
        panic!("git daemon did not start on 127.0.0.1");
    }

    fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

#[test]
fn push_then_fetch_in_a_fresh_clone_reads_the_note() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let a = clone(&sb, &url(&remote), "a");
    a.write("a.txt", "a\n");
    a.session_ok(&["start", "-b", "feat/a", "--todo", "persist", "Task A"]);

    let out = a.session_ok(&["push"]);
    assert!(
        out.contains("pushed feat/a to origin (new branch, upstream set)"),
        "{out}"
    );
    assert!(out.contains(&format!("pushed {NOTES} to origin")), "{out}");
    let server = bare(&sb, "remote.git");
    assert_eq!(try_rev(&server, "refs/heads/feat/a"), Some(a.rev("HEAD")));
    assert_eq!(try_rev(&server, NOTES), Some(a.rev(NOTES)));
    assert_eq!(a.git(&["config", "branch.feat/a.remote"]).trim(), "origin");
    assert_eq!(task_of(&note(&server, "refs/heads/feat/a")), "Task A");

    // A second push has nothing to do and says so.
    let again = a.session_ok(&["push"]);
    assert!(again.contains("feat/a is up to date on origin"), "{again}");
    assert!(
        again.contains(&format!("{NOTES} is up to date on origin")),
        "{again}"
    );

    let b = clone(&sb, &url(&remote), "b");
    b.git(&["switch", "-q", "feat/a"]);
    // git does not fetch notes: the trailers serve until `fetch`.
    assert_eq!(b.session_json(&["show"])["source"], "trailers");
    let out = b.session_ok(&["fetch"]);
    assert!(
        out.contains(&format!("fetched {NOTES} from 'origin'")),
        "{out}"
    );
    let shown = b.session_json(&["show"]);
    assert_eq!(shown["source"], "note");
    assert_eq!(shown["task"], "Task A");
    assert_eq!(
        try_rev(&b, "refs/notes/session-remotes/origin"),
        Some(a.rev(NOTES))
    );
    assert_eq!(try_rev(&b, NOTES), Some(a.rev(NOTES)));
    let again = b.session_ok(&["fetch"]);
    assert!(
        again.contains("already has the notes of 'origin'"),
        "{again}"
    );
}

/// Issue 21, item 10: the README said a plain `git fetch` after `init`
/// brings the notes and they are then preferred; only `git session fetch`
/// made them count. Notes fetched to `refs/notes/session-remotes/*` are
/// read now, the newer one winning as in the merge.
#[test]
fn plain_git_fetch_after_init_does_not_bring_the_notes_into_use() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let a = clone(&sb, &url(&remote), "a");
    a.session_ok(&["start", "-q", "-b", "feat/a", "Task A"]);
    a.session_ok(&["push"]);

    let b = clone(&sb, &url(&remote), "b");
    b.git(&["switch", "-q", "feat/a"]);
    b.session_ok(&["init"]);
    b.git(&["fetch", "-q"]);
    assert!(try_rev(&b, "refs/notes/session-remotes/origin").is_some());
    assert_eq!(try_rev(&b, NOTES), None, "nothing merged yet");
    let shown = b.session_json(&["show"]);
    assert_eq!(shown["source"], "note", "{shown:#}");

    // b has its own note on the commit now; a newer one from the remote
    // wins, an older one does not.
    b.session_ok(&["fetch"]);
    git_note(
        &a,
        "HEAD",
        &state_toml("Newer on a", "2030-01-01T00:00:00Z"),
    );
    a.session_ok(&["push"]);
    b.git(&["fetch", "-q"]);
    assert_eq!(b.session_json(&["show"])["task"], "Newer on a");
    git_note(
        &b,
        "HEAD",
        &state_toml("Newest on b", "2031-01-01T00:00:00Z"),
    );
    assert_eq!(b.session_json(&["show"])["task"], "Newest on b");
}

#[test]
fn second_push_merges_the_moved_notes_and_keeps_every_note() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let a = clone(&sb, &url(&remote), "a");
    let b = clone(&sb, &url(&remote), "b");
    a.write("a.txt", "a\n");
    a.session_ok(&["start", "-b", "feat/a", "Task A"]);
    a.write("a2.txt", "a2\n");
    a.session_ok(&["checkpoint", "--todo", "more A"]);
    b.write("b.txt", "b\n");
    b.session_ok(&["start", "-b", "feat/b", "Task B"]);

    a.session_ok(&["push"]);
    let out = b.session(&["push"]);
    assert_exit(&out, 0, "second push");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "pushed {NOTES} to origin (merged with the notes already there)"
        )),
        "{}",
        text(&out)
    );

    let server = bare(&sb, "remote.git");
    let listed = server.git(&["notes", "--ref=session", "list"]);
    assert_eq!(listed.lines().count(), 3, "notes on the remote:\n{listed}");
    assert_eq!(task_of(&note(&server, "feat/a")), "Task A");
    assert_eq!(task_of(&note(&server, "feat/a~1")), "Task A");
    assert_eq!(task_of(&note(&server, "feat/b")), "Task B");
    // A merge commit with both sides as parents.
    let parents = server.git(&["rev-list", "--parents", "-n", "1", NOTES]);
    let parents: Vec<&str> = parents.split_whitespace().skip(1).collect();
    assert_eq!(parents.len(), 2, "{parents:?}");
    assert!(parents.contains(&a.rev(NOTES).as_str()), "{parents:?}");
    server.fsck();

    // A fetches: its notes fast-forward to the merge.
    let out = a.session_ok(&["fetch"]);
    assert!(out.contains(&format!("fetched {NOTES}")), "{out}");
    assert_eq!(a.rev(NOTES), server.rev(NOTES));
    a.git(&["fetch", "-q"]);
    assert_eq!(task_of(&note(&a, "origin/feat/b")), "Task B");
}

#[test]
fn the_later_state_wins_when_both_sides_annotate_a_commit() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let a = clone(&sb, &url(&remote), "a");
    a.write("1.txt", "1\n");
    a.session_ok(&["start", "-b", "feat/a", "Task"]);
    a.write("2.txt", "2\n");
    a.session_ok(&["checkpoint"]);
    a.write("3.txt", "3\n");
    a.session_ok(&["checkpoint"]);
    a.session_ok(&["push"]);

    let b = clone(&sb, &url(&remote), "b");
    b.git(&["switch", "-q", "feat/a"]);
    b.session_ok(&["fetch"]);

    // feat/a~2: A's state is later; feat/a~1: B's is; feat/a: A's note is
    // not TOML at all, B's is.
    git_note(
        &a,
        "feat/a~2",
        &state_toml("A late", "2026-03-01T00:00:00Z"),
    );
    git_note(
        &a,
        "feat/a~1",
        &state_toml("A early", "2026-02-01T00:00:00Z"),
    );
    git_note(&a, "feat/a", "this = is [not valid TOML\n");
    // B's times carry an offset: 2026-02-01T02:00:00+02:00 is midnight UTC,
    // so "B early" must lose to "A late" by the instant, not the text.
    git_note(
        &b,
        "feat/a~2",
        &state_toml("B early", "2026-02-01T02:00:00+02:00"),
    );
    git_note(
        &b,
        "feat/a~1",
        &state_toml("B late", "2026-03-01T00:00:00Z"),
    );
    git_note(&b, "feat/a", &state_toml("B valid", "2026-01-15T00:00:00Z"));

    let out = b.session(&["push"]);
    assert_exit(&out, 0, "B's push (a fast-forward of the notes)");
    let out = a.session(&["push"]);
    assert_exit(&out, 0, "A's push (meets B's notes)");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("merged with the notes already there"),
        "{}",
        text(&out)
    );

    let server = bare(&sb, "remote.git");
    assert_eq!(task_of(&note(&server, "feat/a~2")), "A late");
    assert_eq!(task_of(&note(&server, "feat/a~1")), "B late");
    assert_eq!(task_of(&note(&server, "feat/a")), "B valid");

    // B fetches the merge and converges; show reads the winning note.
    let out = b.session(&["fetch"]);
    assert_exit(&out, 0, "B's fetch");
    assert_eq!(b.rev(NOTES), server.rev(NOTES));
    let shown = b.session_json(&["show"]);
    assert_eq!(shown["source"], "note");
    assert_eq!(shown["task"], "B valid");
    b.fsck();
}

#[test]
fn a_merge_of_many_notes_keeps_gits_fanout_and_every_note() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let a = clone(&sb, &url(&remote), "a");
    let b = clone(&sb, &url(&remote), "b");
    // 150 commits with a note each on both sides, made in one fast-import
    // stream per clone: enough for git to fan the tree out (xx/38 names).
    for (repo, side) in [(&a, "a"), (&b, "b")] {
        let mut stream = String::new();
        for i in 1..=150 {
            let msg = format!("{side} {i}");
            stream.push_str(&format!(
                "commit refs/heads/many-{side}\nmark :{i}\ncommitter T <t@example.com> {} +0000\ndata {}\n{msg}\n",
                1_700_000_000 + i,
                msg.len()
            ));
            if i > 1 {
                stream.push_str(&format!("from :{}\n", i - 1));
            }
        }
        stream.push_str("commit refs/notes/session\ncommitter T <t@example.com> 1700001000 +0000\ndata 5\nnotes\n");
        for i in 1..=150 {
            let body = state_toml(&format!("{side} {i}"), "2026-01-02T03:04:05Z");
            stream.push_str(&format!("N inline :{i}\ndata {}\n{body}\n", body.len()));
        }
        let mut child = repo
            .git_command()
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn fast-import");
        std::io::Write::write_all(
            child.stdin.as_mut().expect("stdin is piped"),
            stream.as_bytes(),
        )
        .expect("feed fast-import");
        drop(child.stdin.take());
        assert!(child.wait().expect("wait fast-import").success());
        repo.git(&["switch", "-q", &format!("many-{side}")]);
    }

    a.session_ok(&["push"]);
    let out = b.session(&["push"]);
    assert_exit(&out, 0, "B's push");

    let server = bare(&sb, "remote.git");
    let listed = server.git(&["notes", "--ref=session", "list"]);
    assert_eq!(listed.lines().count(), 300);
    // git reads every note, each on its own commit.
    let shown = server.git(&[
        "log",
        "--notes=session",
        "--format=%s|%N",
        "many-a",
        "many-b",
    ]);
    let mut seen = 0;
    for entry in shown.split("\n\n").filter(|e| !e.trim().is_empty()) {
        let (subject, body) = entry.trim().split_once('|').expect("subject|note");
        let parsed: toml::Table = body.parse().expect("each note is TOML");
        assert_eq!(task_of(&parsed), subject.trim(), "{entry}");
        seen += 1;
    }
    assert_eq!(seen, 300, "{shown}");
    // The layout git uses for 300 notes: 2-hex fanout directories at the
    // root, 38-hex names below.
    let root = server.git(&["ls-tree", NOTES]);
    for line in root.lines() {
        let (meta, name) = line.split_once('\t').expect("ls-tree line");
        assert!(
            meta.contains(" tree ") && name.len() == 2,
            "not a fanout entry: {line}"
        );
    }
    let leaves = server.git(&["ls-tree", "-r", "--name-only", NOTES]);
    assert!(leaves
        .lines()
        .all(|l| l.len() == 41 && l.as_bytes()[2] == b'/'));
    server.fsck();

    // And git's own merge of the same two sides (no conflicts: the notes
    // annotate different commits) writes the very same tree.
    a.git(&[
        "fetch",
        "-q",
        "origin",
        &format!("+{NOTES}:refs/notes/merged"),
    ]);
    a.git(&["update-ref", "refs/notes/ours", "refs/notes/merged^1"]);
    a.git(&["update-ref", "refs/notes/theirs", "refs/notes/merged^2"]);
    a.git(&[
        "notes",
        "--ref=ours",
        "merge",
        "-q",
        "-s",
        "theirs",
        "theirs",
    ]);
    assert_eq!(
        a.rev("refs/notes/ours^{tree}"),
        a.rev("refs/notes/merged^{tree}"),
        "git's merged notes tree differs from ours"
    );
}

// Unix only: an executable hook script.
#[cfg(unix)]
#[test]
fn a_remote_that_refuses_notes_gets_the_branch_and_a_warning() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new ref; do\n  case \"$ref\" in refs/notes/*) echo \"only branches here\"; exit 1;; esac\ndone\n",
    )
    .expect("write hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("make the hook executable");

    let a = clone(&sb, &url(&remote), "a");
    a.write("a.txt", "a\n");
    a.session_ok(&["start", "-b", "feat/h", "--todo", "next", "Hooked task"]);
    let out = a.session(&["push"]);
    assert_exit(&out, 0, "push to a remote that refuses notes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("'origin' refused refs/notes/session")
            && warnings[0].contains("only branches here")
            && warnings[0].contains("trailers"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");

    let server = bare(&sb, "remote.git");
    assert_eq!(try_rev(&server, "refs/heads/feat/h"), Some(a.rev("HEAD")));
    assert_eq!(try_rev(&server, NOTES), None);

    // A fresh clone resumes from the trailers.
    let c = clone(&sb, &url(&remote), "c");
    c.git(&["switch", "-q", "feat/h"]);
    let out = c.session_ok(&["fetch"]);
    assert!(out.contains("'origin' has no refs/notes/session"), "{out}");
    let shown = c.session_json(&["show"]);
    assert_eq!(shown["source"], "trailers");
    assert_eq!(shown["task"], "Hooked task");
    assert_eq!(shown["todo"], serde_json::json!(["next"]));
}

#[test]
fn init_configures_once_and_notes_survive_amend_and_rebase() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let a = clone(&sb, &url(&remote), "a");

    let out = a.session_ok(&["init"]);
    for line in [
        "added notes.rewriteRef = refs/notes/session",
        "set notes.rewriteMode = overwrite",
        "set notes.rewrite.amend = true",
        "set notes.rewrite.rebase = true",
        "added remote.origin.fetch = +refs/notes/session*:refs/notes/session-remotes/origin*",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    assert_eq!(a.session_ok(&["init"]).trim(), "already configured");
    assert_eq!(
        a.git(&["config", "--get-all", "notes.rewriteRef"]).trim(),
        NOTES
    );
    assert_eq!(
        a.git(&["config", "--get-all", "remote.origin.fetch"])
            .lines()
            .count(),
        2
    );

    // A plain `git fetch` works while the remote has no notes (an exact
    // refspec would fail it), and brings them once there are some.
    a.git(&["fetch", "-q"]);
    a.write("1.txt", "1\n");
    a.session_ok(&["start", "-b", "feat/r", "Rewrite me"]);
    a.write("2.txt", "2\n");
    a.session_ok(&["checkpoint", "-m", "second"]);
    a.write("3.txt", "3\n");
    a.session_ok(&["checkpoint", "-m", "third"]);
    a.session_ok(&["push"]);
    let b = clone(&sb, &url(&remote), "b");
    b.session_ok(&["init"]);
    b.git(&["fetch", "-q"]);
    assert_eq!(
        try_rev(&b, "refs/notes/session-remotes/origin"),
        Some(a.rev(NOTES))
    );

    // Amend: the new commit (its trailers gone with the new message) keeps
    // the note.
    let before = a.git(&["notes", "--ref=session", "show", "HEAD"]);
    let old_head = a.rev("HEAD");
    a.git(&["commit", "-q", "--amend", "-m", "third, amended"]);
    assert_ne!(a.rev("HEAD"), old_head);
    assert_eq!(a.git(&["notes", "--ref=session", "show", "HEAD"]), before);
    note(&a, "HEAD");
    let shown = a.session_json(&["show"]);
    assert_eq!(shown["source"], "note");
    assert_eq!(shown["task"], "Rewrite me");

    // Rebase -i, scripted: swap the last two commits.
    let notes_before: Vec<(String, String)> = ["HEAD~1", "HEAD"]
        .iter()
        .map(|rev| {
            (
                a.git(&["log", "-1", "--format=%s", rev]).trim().to_string(),
                a.git(&["notes", "--ref=session", "show", rev]),
            )
        })
        .collect();
    let old = [a.rev("HEAD~1"), a.rev("HEAD")];
    let out = a
        .git_command()
        .env(
            "GIT_SEQUENCE_EDITOR",
            "sed -i -e '/^pick/!d' -e '1{h;d}' -e '2G'",
        )
        .args(["rebase", "-q", "-i", "HEAD~2"])
        .output()
        .expect("run git rebase");
    assert!(out.status.success(), "rebase -i failed:\n{}", text(&out));
    let subjects = a.git(&["log", "-2", "--format=%s"]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        ["checkpoint: second", "third, amended"],
        "the rebase swapped the commits"
    );
    for rev in ["HEAD~1", "HEAD"] {
        assert!(!old.contains(&a.rev(rev)), "{rev} was rewritten");
        let subject = a.git(&["log", "-1", "--format=%s", rev]).trim().to_string();
        let text = a.git(&["notes", "--ref=session", "show", rev]);
        let (_, expected) = notes_before
            .iter()
            .find(|(s, _)| *s == subject)
            .expect("same subjects");
        assert_eq!(&text, expected, "note of {subject:?} after the rebase");
        note(&a, rev);
    }
    a.fsck();
}

fn items(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|item| item.as_str().expect("a string").to_string())
        .collect()
}

/// Issue 21, item 4: two sessions on one branch in two clones; once one
/// clone's checkpoint is rebased over the other's, the state lost the other
/// session's work (last writer wins). The states are merged, and `show` and
/// `resume` name the other session.
#[test]
fn concurrent_sessions_on_one_branch_are_last_writer_wins() {
    let sb = Sandbox::new();
    let origin = remote_with_main(&sb, "origin.git");
    let a = clone(&sb, &url(&origin), "a");
    a.session_ok(&[
        "start", "-q", "-b", "feat/x", "--todo", "one", "--todo", "two", "--todo", "gone", "Task",
    ]);
    a.session_ok(&["push"]);
    let b = clone(&sb, &url(&origin), "b");
    b.git(&["switch", "-q", "feat/x"]);

    // Both work without seeing each other.
    a.write("a.txt", "a\n");
    a.session_ok(&[
        "checkpoint",
        "-q",
        "--done",
        "one",
        "--decision",
        "A decided",
        "--blocker",
        "A blocked",
        "-m",
        "A's work",
    ]);
    a.session_ok(&["push"]);
    b.write("b.txt", "b\n");
    b.session_ok(&[
        "checkpoint",
        "-q",
        "--doing",
        "two",
        "--done",
        "gone",
        "--note",
        "B noted",
        "--todo",
        "three",
    ]);
    b.write("b.txt", "b2\n");
    b.session_ok(&["checkpoint", "-q", "-m", "B again"]);
    b.git(&["pull", "-q", "--rebase", "origin", "feat/x"]);
    assert_eq!(
        b.rev("HEAD~2"),
        a.rev("HEAD"),
        "B's checkpoints are on top of A's"
    );

    let shown = b.session_json(&["show"]);
    assert_eq!(items(&shown["done"]), ["gone", "one"], "{shown:#}");
    assert_eq!(items(&shown["doing"]), ["two"], "{shown:#}");
    assert_eq!(items(&shown["todo"]), ["three"], "{shown:#}");
    assert_eq!(items(&shown["decisions"]), ["A decided"], "{shown:#}");
    assert_eq!(items(&shown["notes"]), ["B noted"], "{shown:#}");
    assert_eq!(items(&shown["blockers"]), ["A blocked"], "{shown:#}");
    let sessions = shown["sessions"].as_array().expect("a list of sessions");
    assert_eq!(sessions.len(), 1, "{shown:#}");
    assert_eq!(
        sessions[0]["checkpoint"].as_str(),
        Some(&a.rev("HEAD")[..7])
    );
    assert_eq!(sessions[0]["merged"], serde_json::json!(true));
    let human = b.session_ok(&["show"]);
    assert!(
        human.contains("Other sessions at work on this branch:"),
        "{human}"
    );
    assert!(human.contains("A's work"), "{human}");
    let prompt = b.session_ok(&["resume"]);
    assert!(
        prompt.contains("Other sessions at work on this branch:") && prompt.contains("- A decided"),
        "{prompt}"
    );

    // The next checkpoint records the merged state, and that A's line was
    // merged: what B removes afterwards stays removed.
    b.write("b.txt", "b3\n");
    b.session_ok(&[
        "checkpoint",
        "-q",
        "--done",
        "two",
        "--unblock",
        "A blocked",
    ]);
    let shown = b.session_json(&["show"]);
    assert_eq!(items(&shown["done"]), ["gone", "one", "two"], "{shown:#}");
    assert_eq!(items(&shown["decisions"]), ["A decided"], "{shown:#}");
    assert_eq!(items(&shown["blockers"]), Vec::<String>::new(), "{shown:#}");
    assert_eq!(shown["sessions"], serde_json::json!([]), "{shown:#}");
    let trailer = |key: &str| {
        b.git(&[
            "log",
            "-1",
            &format!("--format=%(trailers:key={key},valueonly)"),
        ])
    };
    assert_eq!(trailer("Session-Decision").trim(), "A decided");
    assert_eq!(
        trailer("Session-Merged").trim(),
        "2 2026-01-02T03:04:05+00:00"
    );
}

/// Two agent sessions taking turns in one clone: each inherits the other's
/// state already, and `show` names the other one.
#[test]
fn two_agent_sessions_in_one_clone_are_both_shown() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("README.md", "x\n");
    repo.commit_all("base");
    repo.git(&["switch", "-q", "-c", "feat/x"]);
    let stop = |session: &str, file: &str| {
        repo.write(file, session);
        let input = serde_json::json!({
            "session_id": session,
            "hook_event_name": "Stop",
            "cwd": repo.path,
            "transcript_path": null,
        });
        let mut child = repo
            .session_command()
            .args(["hook", "claude", "--strict"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the hook");
        use std::io::Write as _;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.to_string().as_bytes())
            .expect("write the hook input");
        let out = child.wait_with_output().expect("wait for the hook");
        assert!(out.status.success(), "{}", text(&out));
    };
    stop("aaaa1111-0000-4000-8000-000000000000", "a.txt");
    stop("bbbb2222-0000-4000-8000-000000000000", "b.txt");
    let shown = repo.session_json(&["show"]);
    let sessions = shown["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 1, "{shown:#}");
    assert_eq!(
        sessions[0]["agent_session"],
        serde_json::json!("aaaa1111-0000-4000-8000-000000000000")
    );
    assert_eq!(sessions[0]["merged"], serde_json::json!(false));
    assert!(repo
        .session_ok(&["show"])
        .contains("aaaa1111 (claude-code): checkpoint"));
}

#[test]
fn push_and_fetch_over_the_git_protocol() {
    let sb = Sandbox::new();
    let base = sb.path("srv");
    std::fs::create_dir_all(&base).expect("create srv");
    remote_with_main(&sb, "srv/remote.git");
    let daemon = Daemon::start(&sb, &base);
    let remote_url = daemon.url("remote.git");

    let a = clone(&sb, &remote_url, "a");
    a.write("a.txt", "a\n");
    a.session_ok(&["start", "-b", "feat/net", "Over the wire"]);
    let out = a.session_ok(&["push"]);
    assert!(out.contains("pushed feat/net to origin"), "{out}");
    let server = bare(&sb, "srv/remote.git");
    assert_eq!(try_rev(&server, "refs/heads/feat/net"), Some(a.rev("HEAD")));
    assert_eq!(try_rev(&server, NOTES), Some(a.rev(NOTES)));

    let b = clone(&sb, &remote_url, "b");
    b.git(&["switch", "-q", "feat/net"]);
    b.session_ok(&["fetch"]);
    let shown = b.session_json(&["show"]);
    assert_eq!(shown["source"], "note");
    assert_eq!(shown["task"], "Over the wire");

    // Both write: the second push merges over the network too.
    b.write("b.txt", "b\n");
    b.session_ok(&["checkpoint", "-m", "from b"]);
    b.session_ok(&["push"]);
    a.git(&["pull", "-q", "--ff-only"]);
    git_note(
        &a,
        "feat/net~1",
        &state_toml("A again", "2030-01-01T00:00:00Z"),
    );
    let out = a.session(&["push", &remote_url]);
    assert_exit(&out, 0, "A's push by URL");
    assert_eq!(task_of(&note(&server, "feat/net~1")), "A again");
    assert_eq!(
        note(&server, "feat/net")["summary"].as_str(),
        Some("from b")
    );
    // Fetched by URL, the tracking ref gets a name made from the URL.
    let tracking = format!(
        "refs/notes/session-remotes/git___127_0_0_1_{}_remote_git",
        daemon.port
    );
    assert!(try_rev(&a, &tracking).is_some(), "{}", refs(&a));
    drop(daemon);
}

#[test]
fn failed_pushes_say_why_and_change_no_local_ref() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let a = clone(&sb, &url(&remote), "a");
    a.write("a.txt", "a\n");
    a.session_ok(&["start", "-b", "feat/x", "Task"]);

    // A remote that does not exist.
    let before = refs(&a);
    let out = a.session(&["push", "nope"]);
    assert_exit(&out, 1, "push to an unknown remote");
    let msg = text(&out);
    assert!(msg.contains("error: no remote named 'nope'"), "{msg}");
    assert!(
        msg.contains("hint: 'git remote -v' lists the remotes"),
        "{msg}"
    );
    assert_eq!(refs(&a), before);

    // An unreachable remote.
    let closed = format!("git://127.0.0.1:{}/x.git", free_port());
    let out = a.session(&["push", &closed]);
    assert_exit(&out, 1, "push to a closed port");
    let msg = text(&out);
    assert!(
        msg.contains(&format!("error: could not reach remote '{closed}'"))
            && msg.contains("Connection refused"),
        "{msg}"
    );
    assert!(msg.contains("hint: check the address"), "{msg}");
    assert_eq!(refs(&a), before);
    assert!(!a
        .git_output(&["config", "branch.feat/x.remote"])
        .status
        .success());
    let out = a.session(&["fetch", &closed]);
    assert_exit(&out, 1, "fetch from a closed port");
    assert!(
        text(&out).contains("could not reach remote"),
        "{}",
        text(&out)
    );
    assert_eq!(refs(&a), before);

    // A branch push the remote rejects: someone else pushed first.
    let b = clone(&sb, &url(&remote), "b");
    b.git(&["switch", "-q", "-c", "feat/x"]);
    b.write("b.txt", "b\n");
    b.commit_all("b's work");
    b.git(&["push", "-q", "origin", "feat/x"]);
    let before = refs(&a);
    let out = a.session(&["push"]);
    assert_exit(&out, 1, "a non-fast-forward branch push");
    let msg = text(&out);
    assert!(
        msg.contains("error: 'origin' rejected 'refs/heads/feat/x' (fetch first)"),
        "{msg}"
    );
    assert!(msg.contains("git pull --rebase origin feat/x"), "{msg}");
    assert_eq!(refs(&a), before);
    assert_eq!(
        try_rev(&bare(&sb, "remote.git"), "refs/heads/feat/x"),
        Some(b.rev("HEAD"))
    );

    // No remote at all.
    let lone = sb.init("lone");
    lone.write("l.txt", "l\n");
    lone.session_ok(&["checkpoint"]);
    let out = lone.session(&["push"]);
    assert_exit(&out, 1, "push without remotes");
    assert!(text(&out).contains("no remote given"), "{}", text(&out));
}

/// Issue 21, item 16: `checkpoint --push` with nothing new said
/// "checkpoint … is written, but the push failed", though nothing was
/// written this time.
#[test]
fn checkpoint_push_with_nothing_new_says_it_is_written() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let a = clone(&sb, &url(&remote), "a");
    a.session_ok(&["start", "-q", "-b", "feat/p", "Task"]);
    let closed = format!("git://127.0.0.1:{}/x.git", free_port());
    let out = a.session(&["checkpoint", "--push", &closed]);
    assert_exit(&out, 3, "the checkpoint stands, the push failed");
    let msg = text(&out);
    assert!(!msg.contains("is written"), "{msg}");
    assert!(
        msg.contains(&format!(
            "nothing new to checkpoint (the newest checkpoint is {}), but the push failed",
            &a.rev("HEAD")[..7]
        )),
        "{msg}"
    );
}

/// Issue 21, item 16: `init ../origin.git` suggested `git remote add
/// ../origin.git URL`, and `init` changed the config of a bare repository,
/// where `checkpoint` refuses.
#[test]
fn init_with_a_url_suggests_git_remote_add_url_as_a_name() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "origin.git");
    let repo = sb.init("repo");
    let before = repo.git(&["config", "--list", "--local"]);
    let out = repo.session(&["init", "../origin.git"]);
    assert_exit(&out, 1, "init with a URL");
    let msg = text(&out);
    assert!(
        msg.contains("git remote add NAME ../origin.git")
            && !msg.contains("git remote add ../origin.git"),
        "{msg}"
    );
    assert_eq!(repo.git(&["config", "--list", "--local"]), before);

    let server = bare(&sb, "origin.git");
    let before = server.git(&["config", "--list", "--local"]);
    let out = server.session(&["init"]);
    assert_exit(&out, 1, "init in a bare repository");
    assert!(
        text(&out).contains("is a bare repository"),
        "{}",
        text(&out)
    );
    assert_eq!(
        server.git(&["config", "--list", "--local"]),
        before,
        "nothing changed"
    );
    assert!(remote.exists());
}

#[test]
fn checkpoint_push_exits_3_when_only_the_push_fails() {
    let sb = Sandbox::new();
    let remote = remote_with_main(&sb, "remote.git");
    let a = clone(&sb, &url(&remote), "a");
    a.write("a.txt", "a\n");
    a.session_ok(&["start", "-b", "feat/p", "Task"]);

    // Working remote: checkpoint and push in one go.
    a.write("b.txt", "b\n");
    let out = a.session(&["checkpoint", "--push", "-m", "pushed along"]);
    assert_exit(&out, 0, "checkpoint --push");
    let server = bare(&sb, "remote.git");
    assert_eq!(try_rev(&server, "refs/heads/feat/p"), Some(a.rev("HEAD")));
    assert_eq!(try_rev(&server, NOTES), Some(a.rev(NOTES)));

    // Failing remote, given as the flag's value.
    let closed = format!("git://127.0.0.1:{}/x.git", free_port());
    let head = a.rev("HEAD");
    a.write("c.txt", "c\n");
    let out = a.session(&["checkpoint", "--push", &closed, "-m", "kept anyway"]);
    assert_exit(&out, 3, "checkpoint --push to a closed port");
    let msg = text(&out);
    assert!(msg.contains("checkpoint "), "{msg}");
    assert!(msg.contains("is written, but the push failed"), "{msg}");
    assert!(
        msg.contains(&format!("'git session push {closed}'")),
        "{msg}"
    );
    assert_ne!(a.rev("HEAD"), head);
    assert_eq!(
        a.git(&["log", "-1", "--format=%s"]).trim(),
        "checkpoint: kept anyway"
    );
    assert_eq!(a.session_json(&["show"])["summary"], "kept anyway");

    // session.autoPush with an origin that went away: the same.
    a.git(&["config", "session.autoPush", "true"]);
    a.git(&["remote", "set-url", "origin", &closed]);
    a.write("d.txt", "d\n");
    let head = a.rev("HEAD");
    let out = a.session(&["checkpoint", "-m", "auto"]);
    assert_exit(&out, 3, "checkpoint with session.autoPush");
    assert!(text(&out).contains("'git session push'"), "{}", text(&out));
    assert_ne!(a.rev("HEAD"), head);

    // A checkpoint that fails (a merge in progress) is exit 1, and no push
    // is tried.
    std::fs::write(
        a.path.join(".git/MERGE_HEAD"),
        format!("{}\n", a.rev("HEAD")),
    )
    .expect("write MERGE_HEAD");
    a.write("e.txt", "e\n");
    let before = refs(&a);
    let out = a.session(&["checkpoint", "--push"]);
    assert_exit(&out, 1, "a checkpoint during a merge");
    assert!(
        text(&out).contains("merge is in progress"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("push"), "{}", text(&out));
    assert_eq!(refs(&a), before);
}
