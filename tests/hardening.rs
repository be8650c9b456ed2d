//! Hardening found by use (issue 17, and issue 23's secrets and messages):
//! each test is named after the case that went wrong, with git as the
//! oracle where it can answer.

use serde_json::Value;

use crate::support::{text, Repo, Sandbox};

/// A repository with one commit made by git.
fn repo_with_commit(sb: &Sandbox) -> Repo {
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

// ---------------------------------------------------------------------------
// 17.1: trailers as git parses them

/// `git cherry-pick -x` appends "(cherry picked from commit …)" to the
/// trailer block; git still lists the Session-* trailers, and with no note
/// (notes do not follow a cherry-pick) the trailers are all there is.
#[test]
fn cherry_picked_checkpoint_keeps_its_state() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.git(&["switch", "-q", "-c", "feat"]);
    repo.session_ok(&["start", "-q", "dark mode"]);
    repo.write("b.txt", "b\n");
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "--done",
        "toggle",
        "--todo",
        "css variables",
    ]);
    repo.git(&["switch", "-q", "main"]);
    repo.git(&["cherry-pick", "-x", "feat"]);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.contains(
            "Session-Todo: css variables\nSession-Numbers: 1\n(cherry picked from commit "
        ),
        "{message}"
    );
    // git's own reading of the message.
    let parsed = repo.git_stdin(&["interpret-trailers", "--parse"], &message);
    assert!(parsed.contains("Session-Todo: css variables"), "{parsed}");

    let shown = repo.session_json(&["show"]);
    assert_eq!(shown["source"], "trailers", "{shown}");
    assert_eq!(shown["task"], "dark mode");
    assert_eq!(strings(&shown["done"]), ["toggle"]);
    assert_eq!(strings(&shown["todo"]), ["css variables"]);
    let resumed = repo.session_ok(&["resume"]);
    assert!(resumed.contains("css variables"), "{resumed}");
}

/// The same after `git commit --amend -s` and a `Co-authored-by` trailer
/// added by hand, in a message with CRLF line ends.
#[test]
fn signed_off_and_co_authored_crlf_checkpoint_keeps_its_state() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&["start", "-q", "task"]);
    repo.write("b.txt", "b\n");
    repo.session_ok(&["checkpoint", "-q", "--todo", "next"]);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    let edited = format!(
        "{}\nCo-authored-by: B <b@example.com>\n",
        message.trim_end()
    )
    .replace('\n', "\r\n");
    repo.git_stdin(
        &[
            "commit",
            "-q",
            "--amend",
            "-s",
            "--cleanup=verbatim",
            "-F",
            "-",
        ],
        &edited,
    );
    let shown = repo.session_json(&["show"]);
    assert_eq!(strings(&shown["todo"]), ["next"], "{shown}");
    assert_eq!(shown["task"], "task");
    let _ = text;
}

// ---------------------------------------------------------------------------
// 17.2 and 23.13: which untracked files are secrets

/// The paths in HEAD's tree, as git lists them.
fn tree(repo: &Repo) -> Vec<String> {
    repo.git(&["ls-tree", "-r", "--name-only", "HEAD"])
        .lines()
        .map(String::from)
        .collect()
}

/// Checkpoint and check what went in and what was left out as a secret.
fn assert_secrets(repo: &Repo, committed: &[&str], secret: &[&str]) {
    let out = repo.session_json(&["checkpoint"]);
    let in_tree = tree(repo);
    for path in committed {
        assert!(
            in_tree.iter().any(|p| p == path),
            "{path} not committed: {out}"
        );
    }
    let skipped: Vec<(String, String)> = out["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["path"].as_str().expect("path").to_string(),
                s["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect();
    for path in secret {
        assert!(!in_tree.iter().any(|p| p == path), "{path} committed");
        assert!(
            skipped.contains(&(path.to_string(), "secret".to_string())),
            "{path} not reported: {out}"
        );
    }
}

#[test]
fn env_example_is_committed_and_env_local_is_not() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    for name in [
        ".env.example",
        ".env.sample",
        ".env.template",
        ".env.dist",
        "config/settings.yml.example",
        ".env",
        ".env.local",
        ".env.production",
    ] {
        repo.write(name, "KEY=value\n");
    }
    assert_secrets(
        &repo,
        &[
            ".env.example",
            ".env.sample",
            ".env.template",
            ".env.dist",
            "config/settings.yml.example",
        ],
        &[".env", ".env.local", ".env.production"],
    );
}

#[test]
fn uppercase_secret_names_are_left_out() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    for name in [".ENV", "ID_RSA", "SERVER.PEM", "keys/Deploy.Key"] {
        repo.write(name, "secret\n");
    }
    repo.write("README.TXT", "plain\n");
    assert_secrets(
        &repo,
        &["README.TXT"],
        &[".ENV", "ID_RSA", "SERVER.PEM", "keys/Deploy.Key"],
    );
}

#[test]
fn credential_files_are_left_out() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    for name in [
        ".netrc",
        ".git-credentials",
        ".aws/credentials",
        "home/.aws/credentials",
        ".envrc",
        ".pypirc",
        "cert.p12",
        "cert.pfx",
        "release.keystore",
    ] {
        repo.write(name, "secret\n");
    }
    repo.write(".npmrc", "//registry.npmjs.org/:_authToken=npm_abc\n");
    repo.write("web/.npmrc", "registry=https://registry.npmjs.org/\n");
    repo.write(".kube/config", "users:\n- user:\n    token: abc\n");
    repo.write(
        ".docker/config.json",
        "{\"auths\":{\"r\":{\"auth\":\"eDp5\"}}}\n",
    );
    repo.write("ci/.docker/config.json", "{\"credsStore\":\"desktop\"}\n");
    assert_secrets(
        &repo,
        &["web/.npmrc", "ci/.docker/config.json"],
        &[
            ".netrc",
            ".git-credentials",
            ".aws/credentials",
            "home/.aws/credentials",
            ".envrc",
            ".pypirc",
            "cert.p12",
            "cert.pfx",
            "release.keystore",
            ".npmrc",
            ".kube/config",
            ".docker/config.json",
        ],
    );
}

/// A committed file that allow-listed `.env` would have every clone's
/// secrets committed: only the user's own git config may allow.
#[test]
fn secret_allow_in_the_repository_file_is_refused() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write(".git-session.toml", "secret_allow = [\".env\"]\n");
    repo.write(".env", "TOKEN=1\n");
    let before = repo.fingerprint();
    let out = repo.session(&["checkpoint"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("secret_allow") && stderr.contains("only your own git config"),
        "{stderr}"
    );
    assert!(
        stderr.contains("git config session.secretAllow"),
        "{stderr}"
    );
    assert_eq!(repo.fingerprint(), before);
    // The user's own git config may allow; .env stays out all the same.
    repo.git(&["config", "--add", "session.secretAllow", ".env.test"]);
    std::fs::remove_file(repo.path.join(".git-session.toml")).expect("remove");
    repo.write(".env.test", "TEST=1\n");
    assert_secrets(&repo, &[".env.test"], &[".env"]);
}

// ---------------------------------------------------------------------------
// 17.3: a skipped file is warned about once

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn same_skipped_file_is_warned_once_not_at_every_checkpoint() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write(".env", "TOKEN=1\n");
    repo.write("notes.txt", "x".repeat(2000));
    repo.git(&["config", "session.sizeLimit", "1000"]);
    let first = repo.session(&["checkpoint", "-m", "one"]);
    let said = stderr(&first);
    assert!(
        said.contains("warning: skipped .env: looks like a secret"),
        "{said}"
    );
    assert!(
        said.contains("warning: skipped notes.txt: 2 KiB is over the size limit of 1000 bytes"),
        "{said}"
    );

    // The same files again: one count line, no warnings.
    repo.write("a.txt", "a2\n");
    let second = repo.session(&["checkpoint", "-m", "two"]);
    let said = stderr(&second);
    assert!(!said.contains("warning:"), "{said}");
    assert_eq!(
        said.lines()
            .filter(|l| l.contains("2 paths still left out as before"))
            .count(),
        1,
        "{said}"
    );
    // -q silences the count; a new file, or a new reason, is warned again.
    repo.write("a.txt", "a3\n");
    repo.write(".env.local", "TOKEN=2\n");
    repo.git(&["config", "session.secretPatterns", "notes.txt"]);
    let third = repo.session(&["checkpoint", "-q", "-m", "three"]);
    let said = stderr(&third);
    assert!(!said.contains("still left out"), "{said}");
    assert!(!said.contains("skipped .env:"), "{said}");
    assert!(said.contains("warning: skipped .env.local:"), "{said}");
    assert!(
        said.contains("warning: skipped notes.txt: looks like a secret"),
        "{said}"
    );

    // status and doctor always list them, with the reason.
    let status = repo.session_ok(&["status"]);
    for line in [
        "  .env: looks like a secret (matches '.env')",
        "  .env.local: looks like a secret (matches '.env.*')",
        "  notes.txt: looks like a secret (matches 'notes.txt')",
    ] {
        assert!(status.contains(line), "{status}");
    }
    let json = repo.session_json(&["status"]);
    assert_eq!(json["skipped"][0]["path"], ".env", "{json}");
    assert_eq!(json["skipped"][0]["reason"], "secret", "{json}");
    // (Problems unrelated to this make doctor exit 1 here.)
    let doctor: Value =
        serde_json::from_slice(&repo.session(&["doctor", "--json"]).stdout).expect("JSON");
    let check = doctor["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "skipped")
        .cloned()
        .expect("a skipped check");
    let message = check["message"].as_str().expect("message");
    assert!(
        message.contains("3 untracked files")
            && message.contains(".env.local: looks like a secret"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------
// 17.5 and 17.6: flags that are honoured or refused, and tiny budgets

/// A session whose resume prompt is about 900 characters: long done
/// items, two decisions, open items, a blocker and five changed files.
fn session_to_resume(sb: &Sandbox) -> Repo {
    let repo = repo_with_commit(sb);
    repo.session_ok(&["start", "-q", "--todo", "x", "dark mode"]);
    for i in 1..=5 {
        repo.write(&format!("src/f{i}.css"), format!("{i}\n"));
    }
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "--done",
        "implemented the toggle button in the header with a long explanation of what exactly happened there and why",
        "--done",
        "hook useDarkMode",
        "--done",
        "tests for the hook",
        "--done",
        "first design review",
        "--decision",
        "CSS variables rather than a CSS-in-JS theme object, because the rest of the app uses plain CSS",
        "--decision",
        "persist in localStorage",
        "--todo",
        "persist the choice across reloads",
        "--blocker",
        "contrast ratio not signed off",
    ]);
    repo
}

fn is_more_line(line: &str) -> bool {
    line.contains("… and ")
}

/// Each paragraph that starts with a heading has an item that is not a
/// "… and N more" line.
fn assert_no_empty_section(out: &str, what: &str) {
    for block in out.split("\n\n") {
        let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
        let Some((heading, items)) = lines.split_first() else {
            continue;
        };
        if items.is_empty() || !(heading.ends_with(':') || heading.starts_with("## ")) {
            continue;
        }
        assert!(
            items.iter().any(|l| !is_more_line(l)),
            "{what}: section {heading:?} has only a 'more' line:\n{out}"
        );
    }
}

#[test]
fn resume_max_chars_500_keeps_the_newest_item_of_each_section() {
    let sb = Sandbox::new();
    let repo = session_to_resume(&sb);
    let full = repo.session_ok(&["resume"]);
    assert!(full.chars().count() > 700, "{full}");
    for template in ["resume", "handoff"] {
        let out = repo.session_ok(&["resume", "--template", template, "--max-chars", "500"]);
        let what = format!("{template} --max-chars 500");
        assert!(
            out.chars().count() <= 500,
            "{what}: {} chars:\n{out}",
            out.chars().count()
        );
        assert_no_empty_section(&out, &what);
        // The newest of each list, the open items and the blocker, if
        // shortened, with an ellipsis inside.
        for item in ["first design review", "x", "persist the", "contrast ratio"] {
            assert!(out.contains(item), "{what}: {item:?} dropped:\n{out}");
        }
        if template == "resume" {
            assert!(out.contains("persist in localStorage"), "{what}:\n{out}");
        }
        // The file list went first, whole.
        assert!(!out.contains("src/f"), "{what}:\n{out}");
        assert!(!out.contains("Files changed"), "{what}:\n{out}");
    }
    // A budget that needs only the file list gone keeps every item whole.
    let files_gone = full
        .lines()
        .filter(|l| l.contains("src/f") || l.starts_with("Files changed"))
        .map(|l| l.chars().count() + 1)
        .sum::<usize>()
        + 1;
    let max = full.chars().count() - files_gone;
    let out = repo.session_ok(&["resume", "--max-chars", &max.to_string()]);
    assert!(out.chars().count() <= max, "{out}");
    assert!(
        out.contains("with a long explanation of what exactly happened there and why"),
        "{out}"
    );
    assert!(
        out.contains("a CSS-in-JS theme object, because the rest of the app uses plain CSS"),
        "{out}"
    );
}

#[test]
fn resume_format_json_honours_max_chars() {
    let sb = Sandbox::new();
    let repo = session_to_resume(&sb);
    let full = repo.session_ok(&["resume", "--format", "json"]);
    let max = full.chars().count() * 3 / 4;
    let out = repo.session_ok(&[
        "resume",
        "--format",
        "json",
        "--max-chars",
        &max.to_string(),
    ]);
    assert!(
        out.chars().count() <= max,
        "{} > {max}:\n{out}",
        out.chars().count()
    );
    let json: Value = serde_json::from_str(&out).expect("still JSON");
    assert_eq!(json["files"], Value::Array(Vec::new()), "{json}");
    assert_eq!(json["omitted"]["files"], 5, "{json}");
    assert!(strings(&json["todo"]).contains(&"x".to_string()), "{json}");
    // Too small for anything: the smallest JSON, whole, and a warning.
    let out = repo.session(&["resume", "--format", "json", "--max-chars", "100"]);
    assert!(out.status.success(), "{}", text(&out));
    let _: Value = serde_json::from_slice(&out.stdout).expect("whole JSON");
    assert!(
        stderr(&out).contains("more than --max-chars 100"),
        "{}",
        text(&out)
    );
}

#[test]
fn resume_format_json_with_template_is_refused() {
    let sb = Sandbox::new();
    let repo = session_to_resume(&sb);
    let out = repo.session(&["resume", "--format", "json", "--template", "handoff"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    assert!(
        stderr(&out).contains("--template handoff has no effect with --format json"),
        "{}",
        text(&out)
    );
}

#[test]
fn flags_that_contradict_each_other_are_refused() {
    let sb = Sandbox::new();
    let repo = session_to_resume(&sb);
    let before = repo.fingerprint();
    for args in [
        &["checkpoint", "-q", "--json"][..],
        &["start", "--quiet", "--json", "task"],
        &["hook", "pre-cancel", "--no-push", "origin"],
    ] {
        let out = repo.session(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{args:?}: {}",
            text(&out)
        );
        assert_eq!(repo.fingerprint(), before, "{args:?}");
    }
}

// ---------------------------------------------------------------------------
// 17.8: network calls have a time bound; the user's hooks still apply

/// A clone of a bare remote whose receive-pack sleeps `seconds` first: a
/// remote that does not answer.
fn clone_of_a_slow_remote(sb: &Sandbox, seconds: u32) -> Repo {
    sb.git(&["init", "-q", "--bare", "-b", "main", "remote.git"]);
    let repo = repo_with_commit(sb);
    repo.git(&["remote", "add", "origin", "../remote.git"]);
    repo.git(&[
        "config",
        "remote.origin.receivepack",
        &format!("sleep {seconds}; git-receive-pack"),
    ]);
    repo
}

#[test]
fn network_timeout_stops_a_push_to_a_dead_remote() {
    let sb = Sandbox::new();
    let repo = clone_of_a_slow_remote(&sb, 60);
    repo.git(&["config", "session.networkTimeout", "2"]);
    let started = std::time::Instant::now();
    let out = repo.session(&["push"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    let said = stderr(&out);
    assert!(said.contains("git did not finish within 2 s"), "{said}");
    assert!(said.contains("session.networkTimeout"), "{said}");
    // Refused when it cannot be used, like every setting.
    repo.git(&["config", "session.networkTimeout", "-1"]);
    let out = repo.session(&["push"]);
    assert!(
        stderr(&out).contains("session.networkTimeout: '-1' is negative"),
        "{}",
        text(&out)
    );
}

/// A hook must not stall the agent: the SessionEnd push (autoPush) gives
/// up after a few seconds whatever session.networkTimeout says.
#[test]
fn session_end_push_to_a_dead_remote_gives_up_quickly() {
    let sb = Sandbox::new();
    let repo = clone_of_a_slow_remote(&sb, 60);
    repo.git(&["config", "session.autoPush", "true"]);
    // Hooks checkpoint on a session branch, not on the default branch.
    repo.git(&["switch", "-q", "-c", "feat/x"]);
    repo.write("b.txt", "b\n");
    let input = format!(
        r#"{{"hook_event_name":"SessionEnd","session_id":"s1","cwd":"{}"}}"#,
        repo.path.display()
    );
    let mut cmd = repo.session_command();
    let started = std::time::Instant::now();
    let mut child = cmd
        .args(["hook", "claude"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write the input");
    let out = child.wait_with_output().expect("wait");
    let took = started.elapsed();
    assert!(out.status.success(), "{}", text(&out));
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
    let said = stderr(&out);
    assert!(
        said.contains("the push failed") && said.contains("10 s"),
        "{said}"
    );
    // The checkpoint itself stands.
    assert!(repo
        .git(&["log", "-1", "--format=%B"])
        .contains("Session-Reason: session-end"));
}

#[test]
fn pre_push_hook_runs_for_session_push() {
    let sb = Sandbox::new();
    let repo = clone_of_a_slow_remote(&sb, 0);
    let hook = repo.path.join(".git/hooks/pre-push");
    std::fs::write(&hook, "#!/bin/sh\necho ran > \"$GIT_DIR/pre-push-ran\"\n").expect("write hook");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    repo.session_ok(&["push"]);
    assert!(repo.path.join(".git/pre-push-ran").exists());
    // And a hook that refuses stops the push, as with git push.
    std::fs::write(&hook, "#!/bin/sh\necho 'not today' >&2\nexit 1\n").expect("write hook");
    repo.write("c.txt", "c\n");
    repo.commit_all("more");
    let out = repo.session(&["push"]);
    assert!(!out.status.success(), "{}", text(&out));
}

// ---------------------------------------------------------------------------
// 17.7: exit codes, hints, and the pipe to git

#[test]
fn internal_error_exits_with_its_own_code() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.session_ok(&["start", "-q", "task"]);
    // A user error: 1, with a hint.
    let out = repo.session(&["show", "no-such-rev"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("hint: name a commit"),
        "{}",
        text(&out)
    );
    // A file the user named that cannot be written: theirs to fix.
    let out = repo.session(&["resume", "-o", "/nonexistent/dir/prompt.md"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("hint: check that the directory exists"),
        "{}",
        text(&out)
    );
    // Damage git-session did not anticipate: its own code, and a hint
    // that says what it is.
    let tree = repo.rev("HEAD^{tree}");
    let object = repo
        .path
        .join(format!(".git/objects/{}/{}", &tree[..2], &tree[2..]));
    let mut perms = std::fs::metadata(&object).expect("object").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&object, perms).expect("chmod");
    std::fs::write(&object, "garbage").expect("damage the tree");
    let out = repo.session(&["status"]);
    assert_eq!(out.status.code(), Some(70), "{}", text(&out));
    assert!(
        stderr(&out).contains("hint: git-session did not expect this failure"),
        "{}",
        text(&out)
    );
}

#[test]
fn damaged_index_hint_goes_through_the_hint_mechanism() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let index = repo.path.join(".git/index");
    let mut bytes = std::fs::read(&index).expect("index");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&index, bytes).expect("damage the checksum");
    let out = repo.session(&["--color=always", "checkpoint"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = stderr(&out);
    let error = said.lines().next().expect("an error line");
    assert!(
        error.contains("is damaged") && !error.contains("hint"),
        "{said}"
    );
    // The hint is painted as every hint is.
    assert!(
        said.lines()
            .any(|l| l.contains("\u{1b}[") && l.contains("hint:") && l.contains("git reset -q")),
        "{said:?}"
    );
}

#[test]
fn codex_install_hint_goes_through_the_hint_mechanism() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let out = repo.session(&["hook", "install", "codex"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("hint:"),
        "{}",
        text(&out)
    );
    assert!(
        stderr(&out).contains("hint: Codex runs new hooks"),
        "{}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// 23.14: errors that name the path and say what to do

#[test]
fn encoding_error_on_a_tracked_file_names_the_path() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write(".gitattributes", "*.txt working-tree-encoding=UTF-16\n");
    repo.write("t.txt", b"\xff\xfeh\x00i\x00".as_slice());
    repo.commit_all("base");
    // A lone surrogate: not UTF-16; git add says so.
    repo.write("t.txt", b"\xff\xfeh\x00\x00\xd8".as_slice());
    repo.write("other.md", "work\n");
    // git status refreshes the index first, so both fingerprints see it so.
    repo.status();
    let before = repo.fingerprint();
    let out = repo.session(&["checkpoint"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = stderr(&out);
    assert!(
        said.contains("error: failed to encode 't.txt' from UTF-16 to UTF-8"),
        "{said}"
    );
    assert!(said.contains("hint: 't.txt' is not valid UTF-16"), "{said}");
    assert_eq!(repo.fingerprint(), before);
    // status says which file and why, and goes on.
    let status = repo.session_ok(&["status"]);
    assert!(
        status.contains("t.txt: failed to encode 't.txt'"),
        "{status}"
    );
    assert!(status.contains("added: other.md"), "{status}");
}

#[test]
fn encoding_error_on_an_untracked_file_names_the_path() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write(".gitattributes", "*.jp working-tree-encoding=SHIFT-JIS\n");
    repo.write("a.jp", b"\x82\xa0\xff\xff".as_slice());
    let out = repo.session(&["checkpoint"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("failed to encode 'a.jp' from SHIFT-JIS to UTF-8"),
        "{}",
        text(&out)
    );
}

#[test]
fn missing_lfs_binary_says_to_install_git_lfs() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write(
        ".gitattributes",
        "*.bin filter=lfs diff=lfs merge=lfs -text\n",
    );
    repo.git(&[
        "config",
        "filter.lfs.clean",
        "git-lfs-not-installed clean -- %f",
    ]);
    repo.git(&["config", "filter.lfs.required", "true"]);
    repo.write("model.bin", "weights\n");
    let before = repo.fingerprint();
    let out = repo.session(&["checkpoint"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = stderr(&out);
    assert!(
        said.contains(
            "'model.bin': clean filter 'lfs' failed: 'git-lfs-not-installed' is not installed"
        ),
        "{said}"
    );
    assert!(said.contains("install Git LFS"), "{said}");
    assert_eq!(repo.fingerprint(), before);
}

#[test]
fn stale_branch_lock_says_how_to_check_and_remove_it() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let lock = repo.path.join(".git/refs/heads/main.lock");
    std::fs::write(&lock, "").expect("a stale lock");
    repo.write("b.txt", "b\n");
    let head = repo.rev("HEAD");
    let out = repo.session(&["checkpoint"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = stderr(&out);
    assert!(said.contains("refs/heads/main.lock' exists"), "{said}");
    assert!(said.contains("if no git process is running"), "{said}");
    assert!(said.contains(&format!("rm '{}'", lock.display())), "{said}");
    assert_eq!(repo.rev("HEAD"), head);
    std::fs::remove_file(&lock).expect("remove it as the hint says");
    repo.session_ok(&["checkpoint", "-q"]);
}

/// The harness's fixed identity, taken away.
fn without_identity(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for key in [
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ] {
        cmd.env_remove(key);
    }
    cmd
}

#[test]
fn identity_warning_names_the_address_from_email() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    let out = without_identity(&mut repo.session_command())
        .env("EMAIL", "me@example.org")
        .args(["checkpoint", "-q"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let said = stderr(&out);
    assert!(
        said.contains("committing as git-session <me@example.org>"),
        "{said}"
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>"]).trim(),
        "git-session <me@example.org>"
    );
}

#[test]
fn use_config_only_and_an_empty_name_are_refused_as_git_refuses_them() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    repo.git(&["config", "user.useConfigOnly", "true"]);
    let before = repo.fingerprint();
    let out = without_identity(&mut repo.session_command())
        .args(["checkpoint"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("auto-detection is disabled (user.useConfigOnly)"),
        "{}",
        text(&out)
    );
    assert_eq!(repo.fingerprint(), before);
    // git refuses an empty name whatever useConfigOnly says.
    repo.git(&["config", "user.useConfigOnly", "false"]);
    repo.git(&["config", "user.name", ""]);
    repo.git(&["config", "user.email", "a@example.com"]);
    let git = without_identity(&mut repo.git_command())
        .args(["commit", "--allow-empty", "-m", "x"])
        .output()
        .expect("git");
    assert!(!git.status.success(), "premise: git refuses");
    // (git commit wrote an index before it refused.)
    let before = repo.fingerprint();
    let out = without_identity(&mut repo.session_command())
        .args(["checkpoint"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("empty ident name"), "{}", text(&out));
    assert_eq!(repo.fingerprint(), before);
}

/// `show --json | head` on a large state: a closed pipe is a normal end.
#[test]
fn show_json_into_a_closed_pipe_ends_normally() {
    use std::io::Read as _;
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    let mut args = vec!["start".to_string(), "-q".into(), "big".into()];
    for i in 0..3000 {
        args.extend([
            "--todo".into(),
            format!("item {i:04} with enough words to make the state large"),
        ]);
    }
    repo.session_ok(&args);
    for command in [&["show", "--json"][..], &["show"], &["resume"], &["log"]] {
        let mut child = repo
            .session_command()
            .args(command)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = [0u8; 16];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut first)
            .expect("the start of the output");
        // The pipe is closed here, as `head` closes it.
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{command:?}: {}", text(&out));
        assert!(out.stderr.is_empty(), "{command:?}: {}", text(&out));
    }
}

/// A clean filter git lets fail (`required` unset): git prints an error
/// and adds the file without the filter (its eol rules still applied);
/// the checkpoint records the same blob and warns, where it said nothing.
#[test]
fn failing_non_required_clean_filter_warns_as_git_does() {
    let sb = Sandbox::new();
    let repo = repo_with_commit(&sb);
    repo.write(".gitattributes", "*.up filter=x text eol=lf\n");
    repo.git(&["config", "filter.x.clean", "false"]);
    repo.write("broken.up", "one\r\ntwo\r\n");
    // git's blob for it.
    let git_blob = repo.git(&["hash-object", "--path", "broken.up", "broken.up"]);
    let out = repo.session(&["checkpoint", "-m", "x"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains(
            "warning: external filter 'false' (filter 'x') failed for 'broken.up': it is committed without that filter"
        ),
        "{}",
        text(&out)
    );
    assert_eq!(repo.rev("HEAD:broken.up"), git_blob.trim());
    assert_eq!(
        repo.git(&["cat-file", "-p", "HEAD:broken.up"]),
        "one\ntwo\n"
    );
}
