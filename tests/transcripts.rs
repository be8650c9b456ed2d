//! Issue 15: the agent's own conversation travels with the branch (opt-in,
//! `session.transcripts`) and `resume --native` puts it back into the
//! agent's store on another machine.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{Repo, Sandbox};

const SESSION: &str = "5f3c9a2e-1b7d-4c1e-9a0f-2d6b8e4c7a10";
const REF: &str = "refs/session/transcripts/claude/5f3c9a2e-1b7d-4c1e-9a0f-2d6b8e4c7a10";
const MARKER: &str = "the conversation marker: dark mode toggle in Settings.tsx";

/// Secrets that must never be stored, built from pieces so that no scanner
/// mistakes this file for a leak.
fn corpus() -> Vec<String> {
    vec![
        format!("AKIA{}", "IOSFODNN7EXAMPLE"),
        format!("ghp_{}", "q8Zr2LmX0vNf7TgH5kWc3JpYs1AeD9UbAb12"),
        format!(
            "github_pat_11ABCDEFG0_{}",
            "abcdefghijklmnopqrstuvwxyz012345"
        ),
        format!("xoxb-{}-{}", "1234567890", "abcdefGHIJKL"),
        format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc"),
        format!("AIza{}", "SyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"),
        format!("sk-ant-api03-{}", "q8Zr2LmX0vNf7TgH5kWc3JpYs1AeD9Ub"),
        format!("sk-proj-{}", "q8Zr2LmX0vNf7TgH5kWc3JpYs1AeD9Ub"),
        format!(
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.{}",
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
        ),
        format!("hunter2{}", "hunter2-db"),
        format!("MIIEpAIBAAKCAQEA7{}", "privatekeybody"),
    ]
}

/// One Claude Code transcript line: a user or assistant message with the
/// session's cwd, as Claude Code writes them.
fn line(cwd: &Path, n: usize, text: &str) -> String {
    let role = if n.is_multiple_of(2) {
        "user"
    } else {
        "assistant"
    };
    serde_json::json!({
        "parentUuid": null,
        "cwd": cwd,
        "sessionId": SESSION,
        "type": role,
        "message": {"role": role,
                    "content": [{"type": "text", "text": text}]},
        "uuid": format!("00000000-0000-4000-8000-{n:012}"),
    })
    .to_string()
        + "\n"
}

fn secret_lines(cwd: &Path) -> String {
    let c = corpus();
    let mut text = String::new();
    for (n, secret) in c.iter().enumerate().take(9) {
        text.push_str(&line(cwd, n + 10, &format!("I found\n{secret} in .env")));
    }
    text.push_str(&line(
        cwd,
        20,
        &format!("DB_PASSWORD={} was in the log", c[9]),
    ));
    text.push_str(&line(
        cwd,
        21,
        &format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
            c[10]
        ),
    ));
    text
}

/// A repository on a feature branch (hooks checkpoint there) with
/// `session.transcripts` as given.
fn session_repo(sb: &Sandbox, rel: &str, transcripts: bool) -> Repo {
    let repo = sb.init(rel);
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.session_ok(&["start", "-b", "feat/dark-mode", "Dark mode"]);
    if transcripts {
        repo.git(&["config", "session.transcripts", "true"]);
    }
    repo
}

/// Run the Claude Stop hook for the transcript at `path`.
fn stop(repo: &Repo, path: &Path) -> Output {
    let input = serde_json::json!({
        "session_id": SESSION,
        "transcript_path": path,
        "cwd": repo.path,
        "hook_event_name": "Stop",
        "last_assistant_message": "Toggle added.",
    });
    let out = repo.session_stdin(&["hook", "claude"], input.to_string());
    assert!(
        out.status.success(),
        "hook failed:\n{}",
        crate::support::text(&out)
    );
    out
}

/// Every object of the repository at `git_dir`, as `git cat-file
/// --batch-all-objects --batch` prints them, gzip blobs decompressed
/// (what a reader of the objects could get out of them).
fn every_object(repo: &Repo) -> Vec<u8> {
    let out = repo.git_output(&["cat-file", "--batch-all-objects", "--batch"]);
    assert!(out.status.success());
    let bytes = out.stdout;
    let mut all = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let header_end = at
            + bytes[at..]
                .iter()
                .position(|&c| c == b'\n')
                .expect("header");
        let header = String::from_utf8_lossy(&bytes[at..header_end]).to_string();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("size");
        let body = &bytes[header_end + 1..header_end + 1 + size];
        all.extend_from_slice(body);
        if body.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut plain)
                .expect("a gzip blob decompresses");
            all.extend_from_slice(&plain);
        }
        at = header_end + 1 + size + 1;
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn bare_remote(sb: &Sandbox, rel: &str) -> PathBuf {
    sb.git(&["init", "-q", "--bare", "-b", "main", rel]);
    sb.path(rel)
}

/// A repository handle with its own HOME: another machine.
fn elsewhere(sb: &Sandbox, rel: &str, home: &str) -> Repo {
    let home = sb.path(home);
    std::fs::create_dir_all(home.join(".config")).expect("home");
    Repo {
        path: sb.path(rel),
        home,
    }
}

fn claude_folder(cwd: &Path) -> String {
    cwd.to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[test]
fn opt_in_off_stores_nothing() {
    let sb = Sandbox::new();
    let repo = session_repo(&sb, "a", false);
    let transcript = sb.path("t.jsonl");
    std::fs::write(
        &transcript,
        line(&repo.path, 0, MARKER) + &secret_lines(&repo.path),
    )
    .expect("write");
    repo.write("a.txt", "work\n");
    stop(&repo, &transcript);
    // The hook did checkpoint: the work is there.
    assert!(repo
        .git(&["log", "-1", "--format=%s"])
        .contains("checkpoint"));
    assert_eq!(repo.git(&["for-each-ref", "refs/session/transcripts/"]), "");
    let objects = every_object(&repo);
    assert!(
        !contains(&objects, MARKER),
        "the transcript's text is in an object"
    );
    // No gzip blob at all: nothing of the transcript was compressed away.
    let out = repo.git_output(&["cat-file", "--batch-all-objects", "--batch-check"]);
    let count = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!(count > 0);
    let doctor = crate::support::text(&repo.session(&["doctor"]));
    assert!(doctor.contains("session.transcripts is off"), "{doctor}");
}

#[test]
fn stored_pushed_and_resumed_natively_in_a_fresh_clone_with_another_home() {
    let sb = Sandbox::new();
    let a = session_repo(&sb, "a", true);
    let remote = bare_remote(&sb, "remote.git");
    a.git(&["remote", "add", "origin", remote.to_str().expect("utf-8")]);
    let transcript = sb.path("t.jsonl");
    let original = line(&a.path, 0, MARKER) + &line(&a.path, 1, "Done: the toggle.");
    std::fs::write(&transcript, &original).expect("write");
    a.write("a.txt", "work\n");
    stop(&a, &transcript);
    assert!(a
        .git(&["for-each-ref", "--format=%(refname)"])
        .contains(REF));
    let status = a.session_ok(&["status"]);
    assert!(
        status.contains("session.transcripts on; 1 stored"),
        "{status}"
    );

    let pushed = a.session_ok(&["push"]);
    assert!(
        pushed.contains("pushed 1 stored transcript(s) to origin"),
        "{pushed}"
    );
    let server = elsewhere(&sb, "remote.git", "home");
    assert_eq!(server.git(&["rev-parse", REF]), a.git(&["rev-parse", REF]));

    // Another machine: another HOME, another path.
    let b = elsewhere(&sb, "b", "home-b");
    let mut clone = Command::new("git");
    crate::support::isolate(&mut clone, &b.home);
    let status = clone
        .current_dir(sb.dir.path())
        .args(["clone", "-q", remote.to_str().expect("utf-8"), "b"])
        .stdout(Stdio::null())
        .status()
        .expect("clone");
    assert!(status.success());
    b.git(&["switch", "-q", "feat/dark-mode"]);
    // Without the transcripts fetched: a clear error, the prompt still there.
    let out = b.session(&["resume", "--native"]);
    assert_eq!(out.status.code(), Some(1), "{}", crate::support::text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no stored transcript for the Claude Code session"),
        "{err}"
    );
    assert!(
        err.contains("session.transcripts true") && err.contains("git session resume"),
        "{err}"
    );
    b.session_ok(&["resume"]);

    b.git(&["config", "session.transcripts", "true"]);
    let fetched = b.session_ok(&["fetch"]);
    assert!(
        fetched.contains("fetched 1 stored transcript(s) from 'origin'"),
        "{fetched}"
    );
    // Again: nothing new, so nothing is claimed.
    let again = b.session_ok(&["fetch"]);
    assert!(!again.contains("stored transcript"), "{again}");
    let out = b.session_ok(&["resume", "--native"]);
    let target = b
        .home
        .join(".claude/projects")
        .join(claude_folder(&b.path))
        .join(format!("{SESSION}.jsonl"));
    assert!(out.contains(&target.display().to_string()), "{out}");
    assert!(
        out.ends_with(&format!("  claude --resume {SESSION}\n")),
        "{out}"
    );
    let written = std::fs::read_to_string(&target).expect("the transcript is written");
    let expected = line(&b.path, 0, MARKER) + &line(&b.path, 1, "Done: the toggle.");
    let as_json = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    };
    assert_eq!(as_json(&written), as_json(&expected));
    assert!(!written.contains(&a.path.display().to_string()));

    // Again: the same file is there, nothing to do, same command.
    let again = b.session_ok(&["resume", "--native"]);
    assert!(again.contains("already in place"), "{again}");

    // The resumed session grows here: only its growth is stored, on the
    // same chain, and a third machine gets both parts.
    let more = line(&b.path, 2, "Resumed on b: CSS variables next.");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&target)
        .and_then(|mut f| std::io::Write::write_all(&mut f, more.as_bytes()))
        .expect("append");
    b.write("b.txt", "more\n");
    stop(&b, &target);
    let pushed = b.session_ok(&["push"]);
    assert!(pushed.contains("pushed 1 stored transcript(s)"), "{pushed}");
    assert_eq!(
        server.git(&["rev-list", "--count", REF]).trim(),
        "3",
        "store on a, marker of the restore on b, growth on b"
    );
}

#[test]
fn secrets_from_a_corpus_never_appear_in_any_object_on_either_side() {
    let sb = Sandbox::new();
    let a = session_repo(&sb, "a", true);
    let remote = bare_remote(&sb, "remote.git");
    a.git(&["remote", "add", "origin", remote.to_str().expect("utf-8")]);
    let transcript = sb.path("t.jsonl");
    std::fs::write(
        &transcript,
        line(&a.path, 0, MARKER) + &secret_lines(&a.path),
    )
    .expect("write");
    a.write("a.txt", "work\n");
    stop(&a, &transcript);
    a.session_ok(&["push"]);
    let server = elsewhere(&sb, "remote.git", "home");
    for (side, repo) in [("local", &a), ("remote", &server)] {
        let objects = every_object(repo);
        // The transcript is there (decompressed), its secrets are not.
        assert!(contains(&objects, MARKER), "{side}: no transcript stored");
        assert!(contains(&objects, "[REDACTED:"), "{side}");
        for secret in corpus() {
            assert!(
                !contains(&objects, &secret),
                "{side}: {secret} is in an object"
            );
        }
    }
    // Every stored line is still JSON.
    let b = elsewhere(&sb, "a", "home-b");
    b.session_ok(&["resume", "--native"]);
    let target = b
        .home
        .join(".claude/projects")
        .join(claude_folder(&a.path))
        .join(format!("{SESSION}.jsonl"));
    let written = std::fs::read_to_string(target).expect("restored");
    for l in written.lines() {
        serde_json::from_str::<serde_json::Value>(l).expect("a redacted line is JSON");
    }
    for secret in corpus() {
        assert!(!written.contains(&secret), "{secret} restored");
    }
}

/// Objects reachable from the transcript ref.
fn transcript_objects(repo: &Repo) -> usize {
    repo.git(&["rev-list", "--objects", REF]).lines().count()
}

#[test]
fn incremental_storing_stores_only_growth_with_a_bounded_object_count() {
    let sb = Sandbox::new();
    let repo = session_repo(&sb, "a", true);
    let transcript = sb.path("t.jsonl");
    let mut text = String::new();
    for n in 0..50 {
        text.push_str(&line(&repo.path, n, &format!("turn {n}: {MARKER}")));
    }
    std::fs::write(&transcript, &text).expect("write");
    repo.write("a.txt", "0\n");
    stop(&repo, &transcript);
    let first = transcript_objects(&repo);
    assert_eq!(first, 4, "commit, tree, meta, one part");

    // Nothing new: nothing stored.
    repo.write("a.txt", "1\n");
    stop(&repo, &transcript);
    assert_eq!(transcript_objects(&repo), first);

    // Ten turns, each appending a line (the last one half-written): each
    // store adds the same four objects, whatever the size before.
    for turn in 0..10 {
        let grown = line(&repo.path, 100 + turn, "one more turn");
        text.push_str(&grown);
        std::fs::write(&transcript, &text).expect("write");
        repo.write("a.txt", format!("turn {turn}\n"));
        stop(&repo, &transcript);
        assert_eq!(transcript_objects(&repo), first + 4 * (turn + 1));
    }
    let tip = repo.git(&["cat-file", "blob", &format!("{REF}:meta.toml")]);
    let meta: toml::Table = tip.parse().expect("meta.toml is TOML");
    let last = line(&repo.path, 109, "one more turn");
    assert_eq!(
        meta["offset"].as_integer(),
        Some((text.len() - last.len()) as i64),
        "{tip}"
    );
    assert_eq!(meta["length"].as_integer(), Some(text.len() as i64));
    // A half-written line waits.
    std::fs::write(&transcript, format!("{text}{{\"partial\":")).expect("write");
    repo.write("a.txt", "partial\n");
    stop(&repo, &transcript);
    assert_eq!(transcript_objects(&repo), first + 40);
    // A rewritten transcript starts the chain again: the old one is gone.
    std::fs::write(&transcript, line(&repo.path, 0, "a new start\n")).expect("write");
    repo.write("a.txt", "rewritten\n");
    stop(&repo, &transcript);
    assert_eq!(transcript_objects(&repo), 4);
    repo.fsck();
}

#[test]
fn finish_squash_keeps_transcripts_reachable() {
    let sb = Sandbox::new();
    let repo = session_repo(&sb, "a", true);
    let transcript = sb.path("t.jsonl");
    std::fs::write(&transcript, line(&repo.path, 0, MARKER)).expect("write");
    repo.write("a.txt", "work\n");
    stop(&repo, &transcript);
    let stored = repo.git(&["rev-parse", REF]);
    repo.session_ok(&["finish", "--squash", "-m", "Dark mode"]);
    assert_eq!(repo.git(&["rev-parse", REF]), stored);
    repo.git(&["gc", "-q", "--prune=now"]);
    assert!(contains(&every_object(&repo), MARKER));
    // prune-transcripts deletes them; the branch is untouched.
    let head = repo.rev("HEAD");
    let out = repo.session_ok(&["prune-transcripts", "--older-than", "1d"]);
    assert!(out.contains("no stored transcript to delete"), "{out}");
    let out = repo.session_ok(&["prune-transcripts"]);
    assert!(out.contains(&format!("deleted {REF}")), "{out}");
    assert_eq!(repo.git(&["for-each-ref", "refs/session/transcripts/"]), "");
    assert_eq!(repo.rev("HEAD"), head);
}

/// A chain fetched from a hostile remote cannot name a file outside the
/// agent's store.
#[test]
fn a_stored_session_id_cannot_climb_out_of_the_agents_store() {
    let sb = Sandbox::new();
    let repo = session_repo(&sb, "a", true);
    let transcript = sb.path("t.jsonl");
    std::fs::write(&transcript, line(&repo.path, 0, MARKER)).expect("write");
    repo.write("a.txt", "work\n");
    stop(&repo, &transcript);
    // Rewrite the chain's metadata to name '../../evil'.
    let meta = repo.git(&["cat-file", "blob", &format!("{REF}:meta.toml")]);
    let evil = meta.replace(
        &format!("session = \"{SESSION}\""),
        "session = \"../../../evil\"",
    );
    let blob = repo.git_stdin(&["hash-object", "-w", "--stdin"], evil);
    let part = repo.git(&["rev-parse", &format!("{REF}:part-0000.jsonl.gz")]);
    let tree = repo.git_stdin(
        &["mktree"],
        format!(
            "100644 blob {}\tmeta.toml\n100644 blob {}\tpart-0000.jsonl.gz\n",
            blob.trim(),
            part.trim()
        ),
    );
    let commit = repo.git(&["commit-tree", tree.trim(), "-m", "evil"]);
    repo.git(&["update-ref", REF, commit.trim()]);
    let out = repo.session(&["resume", "--native"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("describes another session"));
    assert!(!sb.path("evil.jsonl").exists() && !repo.home.join("evil.jsonl").exists());
}

#[test]
fn a_host_that_refuses_the_transcript_ref_still_gets_the_branch() {
    let sb = Sandbox::new();
    let a = session_repo(&sb, "a", true);
    let remote = bare_remote(&sb, "remote.git");
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new ref; do\n  case \"$ref\" in refs/session/*) echo \"only branches here\"; exit 1;; esac\ndone\n",
    )
    .expect("write hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    a.git(&["remote", "add", "origin", remote.to_str().expect("utf-8")]);
    let transcript = sb.path("t.jsonl");
    std::fs::write(&transcript, line(&a.path, 0, MARKER)).expect("write");
    a.write("a.txt", "work\n");
    stop(&a, &transcript);
    let out = a.session(&["push"]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::support::text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not push the stored transcripts to 'origin'")
            && stderr.contains("only branches here")
            && stderr.contains("the branch is pushed"),
        "{stderr}"
    );
    let server = elsewhere(&sb, "remote.git", "home");
    assert_eq!(
        server.git(&["rev-parse", "refs/heads/feat/dark-mode"]),
        a.git(&["rev-parse", "HEAD"])
    );
    assert!(!server
        .git_output(&["rev-parse", "--verify", "-q", REF])
        .status
        .success());

    // session.transcriptRemote names another, private remote: it gets them.
    let private = bare_remote(&sb, "private.git");
    a.git(&["remote", "add", "private", private.to_str().expect("utf-8")]);
    a.git(&["config", "session.transcriptRemote", "private"]);
    let out = a.session(&["push"]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::support::text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("transcript(s) to private"));
    let private = elsewhere(&sb, "private.git", "home");
    assert_eq!(private.git(&["rev-parse", REF]), a.git(&["rev-parse", REF]));
}

#[test]
fn existing_different_target_file_is_refused() {
    let sb = Sandbox::new();
    let a = session_repo(&sb, "a", true);
    let transcript = sb.path("t.jsonl");
    std::fs::write(&transcript, line(&a.path, 0, MARKER)).expect("write");
    a.write("a.txt", "work\n");
    stop(&a, &transcript);
    let target = a
        .home
        .join(".claude/projects")
        .join(claude_folder(&a.path))
        .join(format!("{SESSION}.jsonl"));
    std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
    std::fs::write(&target, "the session as this machine has it\n").expect("write");
    let refs_before = a.git(&["for-each-ref"]);
    let out = a.session(&["resume", "--native"]);
    assert_eq!(out.status.code(), Some(1), "{}", crate::support::text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exists and differs from the stored transcript"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&target).expect("read"),
        "the session as this machine has it\n"
    );
    assert_eq!(a.git(&["for-each-ref"]), refs_before, "nothing changed");
}

#[test]
fn codex_resume_native_writes_a_rollout_under_codex_home() {
    let sb = Sandbox::new();
    let a = session_repo(&sb, "a", true);
    let rollout = sb.path("rollout.jsonl");
    let first = serde_json::json!({
        "timestamp": "2025-09-03T10:11:12.345Z",
        "type": "session_meta",
        "payload": {"id": SESSION, "timestamp": "2025-09-03T10:11:12.345Z", "cwd": a.path},
    });
    let turn = serde_json::json!({
        "timestamp": "2025-09-03T10:12:00.000Z",
        "type": "turn_context",
        "payload": {"cwd": a.path, "model": "gpt-5"},
    });
    std::fs::write(&rollout, format!("{first}\n{turn}\n")).expect("write");
    // A Codex Stop hook input.
    let input = serde_json::json!({
        "session_id": SESSION,
        "transcript_path": rollout,
        "cwd": a.path,
        "hook_event_name": "Stop",
    });
    a.write("a.txt", "work\n");
    let out = a.session_stdin(&["hook", "codex"], input.to_string());
    assert!(out.status.success(), "{}", crate::support::text(&out));
    let stored = format!("refs/session/transcripts/codex/{SESSION}");
    assert!(a
        .git(&["for-each-ref", "--format=%(refname)"])
        .contains(&stored));

    let codex_home = sb.path("codex-home");
    let out = a
        .session_command()
        .env("CODEX_HOME", &codex_home)
        .args(["resume", "--native", "--agent", "codex"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", crate::support::text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.ends_with(&format!("  codex resume {SESSION}\n")),
        "{stdout}"
    );
    let target = codex_home.join(format!(
        "sessions/2025/09/03/rollout-2025-09-03T10-11-12-{SESSION}.jsonl"
    ));
    let written = std::fs::read_to_string(&target).expect("rollout written");
    assert_eq!(
        written,
        format!("{first}\n{turn}\n"),
        "same machine, same cwd"
    );
}

/// Issue 15's "huge transcript within budget": 100 MB, stored by Stop
/// hooks at most `HOOK_BUDGET` (24 MiB) per run. Run it in release (the
/// debug build takes about 20 s per hook):
/// `cargo test --release --test integration huge -- --ignored --nocapture`.
#[test]
#[ignore = "100 MB; run in release with --ignored"]
fn huge_transcript_within_budget() {
    const BUDGET: u64 = 24 * 1024 * 1024;
    let sb = Sandbox::new();
    let repo = session_repo(&sb, "a", true);
    let transcript = sb.path("t.jsonl");
    let mut text = String::with_capacity(101 * 1024 * 1024);
    let filler = "let x = compute(a, b); // a line of code the agent read\n".repeat(60);
    let mut n = 0;
    while text.len() < 100_000_000 {
        text.push_str(&line(&repo.path, n, &format!("{n}: {filler}")));
        n += 1;
    }
    std::fs::write(&transcript, &text).expect("write");
    let mut times = Vec::new();
    // 100 MB in 24 MiB steps: four runs store it all, the fifth adds nothing.
    for run in 0..5 {
        repo.write("a.txt", format!("{run}\n"));
        let started = std::time::Instant::now();
        stop(&repo, &transcript);
        times.push(started.elapsed());
    }
    let meta = |rev: &str| -> toml::Table {
        repo.git(&["cat-file", "blob", &format!("{rev}:meta.toml")])
            .parse()
            .expect("TOML")
    };
    let first = meta(&format!("{REF}~3"));
    let last = meta(REF);
    let first_len = first["length"].as_integer().expect("length") as u64;
    assert!(first_len <= BUDGET, "the first run stored {first_len}");
    assert_eq!(last["length"].as_integer(), Some(text.len() as i64));
    assert_eq!(repo.git(&["rev-list", "--count", REF]).trim(), "4");
    let size: u64 = repo
        .git(&[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectsize)",
        ])
        .lines()
        .filter_map(|l| l.parse::<u64>().ok())
        .sum();
    eprintln!(
        "100 MB transcript: runs {times:?}, {} bytes in all objects",
        size
    );
    if !cfg!(debug_assertions) {
        // Each run well within what an agent gives a Stop hook.
        assert!(times.iter().all(|t| t.as_secs_f64() < 5.0), "{times:?}");
    }
}

/// Everything taken from a transcript is redacted, not only the report:
/// the first prompt becomes the task, in the commit's trailers.
#[test]
fn a_task_taken_from_the_transcript_is_redacted() {
    let sb = Sandbox::new();
    let repo = sb.init("a");
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.git(&["switch", "-q", "-c", "feat/deploy"]);
    let token = &corpus()[1];
    let transcript = sb.path("t.jsonl");
    std::fs::write(
        &transcript,
        line(&repo.path, 0, &format!("Deploy it, the token is {token}")),
    )
    .expect("write");
    repo.write("a.txt", "work\n");
    stop(&repo, &transcript);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.contains("Session-Task: Deploy it, the token is [REDACTED:github-token]"),
        "{message}"
    );
    assert!(!contains(&every_object(&repo), token));
}

/// The team file may turn transcripts on, but not choose where they go;
/// git config validates both.
#[test]
fn transcript_settings_are_validated_and_the_remote_is_the_users_choice() {
    let sb = Sandbox::new();
    let repo = session_repo(&sb, "a", false);
    repo.write(".git-session.toml", "transcripts = true\n");
    let doctor = crate::support::text(&repo.session(&["doctor"]));
    assert!(doctor.contains("session.transcripts is on"), "{doctor}");
    assert_eq!(repo.session_json(&["status"])["transcripts"], true);
    repo.write(".git-session.toml", "transcript_remote = \"origin\"\n");
    let out = repo.session(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("transcript_remote"));
    std::fs::remove_file(repo.path.join(".git-session.toml")).expect("rm");
    for (key, value) in [
        ("session.transcripts", "maybe"),
        ("session.transcriptRemote", "-x"),
    ] {
        repo.git(&["config", key, value]);
        let out = repo.session(&["status"]);
        assert_eq!(out.status.code(), Some(1), "{key}={value}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(key), "{key}");
        repo.git(&["config", "--unset", key]);
    }
    assert_eq!(repo.session_json(&["status"])["transcripts"], false);
    let out = repo.session_ok(&["init", "--transcripts"]);
    assert!(out.contains("set session.transcripts true"), "{out}");
    assert_eq!(repo.git(&["config", "session.transcripts"]), "true\n");
    assert_eq!(repo.session_json(&["status"])["transcripts"], true);
}

/// A committed `.git-session.toml` may turn storing on (the issue asks for
/// it), but a clone's user who never chose it must not publish their own
/// conversation with a plain `git session push`.
#[test]
fn a_committed_file_stores_transcripts_but_only_the_users_git_config_publishes_them() {
    let sb = Sandbox::new();
    let a = session_repo(&sb, "a", false);
    a.write(".git-session.toml", "transcripts = true\n");
    let remote = bare_remote(&sb, "remote.git");
    a.git(&["remote", "add", "origin", remote.to_str().expect("utf-8")]);
    let transcript = sb.path("t.jsonl");
    std::fs::write(&transcript, line(&a.path, 0, MARKER)).expect("write");
    stop(&a, &transcript);
    assert!(
        contains(&every_object(&a), MARKER),
        "stored, as the file asks"
    );
    let out = a.session(&["push"]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::support::text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 stored transcript(s) not pushed")
            && stderr.contains("git config session.transcripts true"),
        "{stderr}"
    );
    let server = elsewhere(&sb, "remote.git", "home");
    assert!(server
        .git(&["rev-parse", "refs/heads/feat/dark-mode"])
        .starts_with(&a.git(&["rev-parse", "HEAD"])));
    assert!(!server
        .git_output(&["rev-parse", "--verify", "-q", REF])
        .status
        .success());
    assert!(!contains(&every_object(&server), MARKER));

    // The user's own choice publishes them.
    a.git(&["config", "session.transcripts", "true"]);
    a.session_ok(&["push"]);
    assert!(server
        .git_output(&["rev-parse", "--verify", "-q", REF])
        .status
        .success());
}
