//! A cloned repository is untrusted input (issue 19): the templates it
//! commits under `.git-session/templates` must not read files outside that
//! directory, must not write published text unless the user trusts them,
//! and must not run without end. Each test builds the hostile repository
//! with real git, clones it the way a victim would, and checks what
//! git-session prints and what ends up in the object database.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{text, Repo, Sandbox};

/// What a victim keeps next to the clone and must never see published.
const SECRET: &str = "API_KEY=sk-live-7f3a9c2e1b4d6a8f";

/// A template that would take longer than any test run: 10^10 iterations.
const HUGE_LOOPS: &str =
    "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}\n";

/// Far longer than a limited render takes, even in a debug build on a busy
/// machine; a command still running then is killed and the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

/// `origin` with an initial commit, the given committed template files
/// (`links` as symbolic links), and a session started on `main`; then a
/// fresh clone of it, which is returned. The clone has the checkpoint
/// (trailers) and the committed templates, as a victim's would.
fn hostile_clone(sb: &Sandbox, files: &[(&str, &str)], links: &[(&str, &str)]) -> Repo {
    let origin = sb.init("origin");
    origin.write("README.md", "hello\n");
    origin.commit_all("initial");
    origin.session_ok(&["start", "--todo", "first item", "The task"]);
    for (path, text) in files {
        origin.write(&format!(".git-session/templates/{path}"), text);
    }
    for (path, target) in links {
        let link = origin.path.join(".git-session/templates").join(path);
        std::fs::create_dir_all(link.parent().expect("has a parent")).expect("mkdir");
        symlink(target, &link).expect("symlink");
    }
    origin.commit_all("templates");
    sb.git(&["clone", "-q", "origin", "clone"]);
    let clone = sb.repo("clone");
    for (path, target) in links {
        let link = clone.path.join(".git-session/templates").join(path);
        let meta = std::fs::symlink_metadata(&link).expect("lstat the cloned link");
        assert!(meta.file_type().is_symlink(), "{path} is not a link");
        assert_eq!(
            std::fs::read_link(&link).expect("readlink"),
            Path::new(target)
        );
    }
    clone
}

/// Run `git-session ARGS` in `repo` with `stdin`, killed after
/// [`DEADLINE`] (then the test fails): a render that never ends must fail
/// the test, not hang it.
fn session_within(repo: &Repo, args: &[&str], stdin: &str) -> (Output, Duration) {
    let mut cmd: Command = repo.session_command();
    let start = Instant::now();
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn git-session");
    let mut input = child.stdin.take().expect("stdin");
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let reader = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = reader(Box::new(child.stdout.take().expect("stdout")));
    let stderr = reader(Box::new(child.stderr.take().expect("stderr")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("git-session {args:?} still ran after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let output = Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    (output, elapsed)
}

/// Every object in the repository, as `git cat-file --batch-all-objects
/// --batch` prints them (notes included).
fn all_objects(repo: &Repo) -> String {
    let out = repo.git_output(&["cat-file", "--batch-all-objects", "--batch"]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command succeeded, printed the built-in output (it starts with
/// `expected`) and no `forbidden` text anywhere, and said why in exactly
/// one warning containing each of `needles`.
fn assert_fell_back(out: &Output, expected: &str, forbidden: &[&str], needles: &[&str]) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}", text(out));
    assert!(
        stdout.starts_with(expected),
        "not the built-in output:\n{stdout}"
    );
    for text in forbidden {
        assert!(!stdout.contains(text), "{text:?} printed:\n{stdout}");
        assert!(!stderr.contains(text), "{text:?} on stderr:\n{stderr}");
    }
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning:\n{stderr}");
    for needle in needles {
        assert!(warnings[0].contains(needle), "no {needle:?} in:\n{stderr}");
    }
}

const RESUME: &str = "Continue work on branch `main`.\n";

#[test]
fn resume_template_symlink_outside_repo_is_refused() {
    let sb = Sandbox::new();
    std::fs::write(
        sb.path("outside.j2"),
        "OUTSIDE THE REPOSITORY {{ branch }}\n",
    )
    .expect("write");
    let clone = hostile_clone(&sb, &[], &[("resume.j2", "../../../outside.j2")]);
    // The link does lead out of the clone, to the file.
    let target = clone.path.join(".git-session/templates/resume.j2");
    assert!(std::fs::read_to_string(&target)
        .expect("follow the link")
        .starts_with("OUTSIDE"));

    let (out, _) = session_within(&clone, &["resume"], "");
    assert_fell_back(
        &out,
        RESUME,
        &["OUTSIDE"],
        &["template 'resume'", "symbolic link", "built-in"],
    );
    // `templates` names it as refused and lists the built-in in its place.
    let out = clone.session(&["templates"]);
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("resume") && l.ends_with("built-in")),
        "{listing}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("symbolic link"),
        "{}",
        text(&out)
    );
    let out = clone.session(&["templates", "--show", "resume"]);
    assert!(!text(&out).contains("OUTSIDE"), "{}", text(&out));
}

#[test]
fn template_directory_symlink_is_refused() {
    // Not the file but a directory on the way is the link: both
    // `.git-session -> ../elsewhere` and `.git-session/templates -> …`.
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("elsewhere/templates")).expect("mkdir");
    std::fs::write(sb.path("elsewhere/templates/resume.j2"), "OUTSIDE\n").expect("write");
    let origin = sb.init("origin");
    origin.write("README.md", "hello\n");
    origin.commit_all("initial");
    origin.session_ok(&["start", "The task"]);
    symlink("../elsewhere", origin.path.join(".git-session")).expect("symlink");
    let (out, _) = session_within(&origin, &["resume"], "");
    assert_fell_back(&out, RESUME, &["OUTSIDE"], &["symbolic link"]);

    std::fs::remove_file(origin.path.join(".git-session")).expect("rm");
    std::fs::create_dir(origin.path.join(".git-session")).expect("mkdir");
    symlink(
        "../../elsewhere/templates",
        origin.path.join(".git-session/templates"),
    )
    .expect("symlink");
    let (out, _) = session_within(&origin, &["resume"], "");
    assert_fell_back(&out, RESUME, &["OUTSIDE"], &["symbolic link"]);
    let listing = origin.session_ok(&["templates"]);
    assert!(
        listing.lines().all(|l| l.ends_with("built-in")),
        "{listing}"
    );
}

#[test]
fn handoff_template_symlink_to_etc_passwd_is_refused() {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("this machine has /etc/passwd");
    assert!(passwd.contains("root:"), "/etc/passwd has no root entry");
    let sb = Sandbox::new();
    let clone = hostile_clone(&sb, &[], &[("handoff.j2", "/etc/passwd")]);
    let (out, _) = session_within(&clone, &["resume", "--template", "handoff"], "");
    assert_fell_back(
        &out,
        "# Handoff: `main`\n",
        &["root:"],
        &["template 'handoff'", "symbolic link"],
    );
    // The hooks' agent-context and pre-cancel's resume prompt read the same
    // way: a link there is refused too.
    let sb = Sandbox::new();
    let clone = hostile_clone(
        &sb,
        &[],
        &[
            ("agent-context.j2", "/etc/passwd"),
            ("resume.j2", "/etc/passwd"),
        ],
    );
    let input = serde_json::json!({
        "hook_event_name": "SessionStart",
        "cwd": clone.path,
        "source": "startup",
    })
    .to_string();
    let (out, _) = session_within(&clone, &["hook", "claude"], &input);
    assert_fell_back(
        &out,
        "{",
        &["root:"],
        &["template 'agent-context'", "symbolic link"],
    );
    let (out, _) = session_within(&clone, &["hook", "pre-cancel", "--no-push"], "");
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with(RESUME), "{stdout}");
    assert!(!text(&out).contains("root:"), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("symbolic link"),
        "{}",
        text(&out)
    );
}

#[test]
fn commit_template_symlink_to_skipped_env_never_enters_message() {
    let sb = Sandbox::new();
    let clone = hostile_clone(&sb, &[], &[("commit.j2", "../../.env")]);
    clone.write(".env", format!("{SECRET}\n"));
    assert_eq!(
        std::fs::read_to_string(clone.path.join(".git-session/templates/commit.j2"))
            .expect("follow the link"),
        format!("{SECRET}\n"),
        "the link leads to the secret"
    );
    // Untrusted, and then trusted: a link is never read either way.
    for trust in ["false", "true"] {
        clone.git(&["config", "session.trustRepoTemplates", trust]);
        clone.write("work.txt", format!("work with trust {trust}\n"));
        let (out, _) = session_within(&clone, &["checkpoint", "-m", "work", "--todo", "x"], "");
        assert!(out.status.success(), "{}", text(&out));
        let message = clone.git(&["log", "-1", "--format=%B"]);
        assert!(!message.contains(SECRET), "trust {trust}: {message}");
        assert!(message.starts_with("checkpoint: work\n"), "{message}");
        let report = text(&out);
        assert!(!report.contains(SECRET), "{report}");
        // Warned when first left out, counted afterwards.
        let said = if trust == "false" {
            "skipped .env"
        } else {
            "1 path still left out as before"
        };
        assert!(report.contains(said), "{report}");
        assert!(report.contains("symbolic link"), "{report}");
    }
    // Nor in the show/resume reports, nor in any object: commits, trees,
    // blobs and the notes.
    for args in [&["show"][..], &["resume"], &["log"]] {
        let out = clone.session(args);
        assert!(!text(&out).contains(SECRET), "{args:?}:\n{}", text(&out));
    }
    let objects = all_objects(&clone);
    assert!(
        objects.contains("Session-Todo: x"),
        "the checkpoints are there"
    );
    assert!(!objects.contains(SECRET), "the secret is in an object");
}

#[test]
fn repository_commit_template_needs_trust() {
    const MARKER: &str = "REPOSITORY COMMIT TEMPLATE";
    let sb = Sandbox::new();
    let clone = hostile_clone(
        &sb,
        &[("commit.j2", &format!("{MARKER}: {{{{ task }}}}\n"))],
        &[],
    );
    let (out, _) = session_within(&clone, &["checkpoint", "-m", "one", "--todo", "x"], "");
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("template 'commit'")
            && stderr.contains("session.trustRepoTemplates")
            && stderr.contains("built-in"),
        "{stderr}"
    );
    let message = clone.git(&["log", "-1", "--format=%B"]);
    assert!(message.starts_with("checkpoint: one\n"), "{message}");
    assert!(!message.contains(MARKER), "{message}");

    // The committed team file cannot grant the trust to itself.
    clone.write(".git-session.toml", "trust_repo_templates = true\n");
    clone.write("b.txt", "b\n");
    let _ = session_within(&clone, &["checkpoint", "-m", "two"], "");
    let log = clone.git(&["log", "--format=%B"]);
    assert!(!log.contains(MARKER), "{log}");
    std::fs::remove_file(clone.path.join(".git-session.toml")).expect("rm");

    // The user's own git config can.
    clone.git(&["config", "session.trustRepoTemplates", "true"]);
    clone.write("c.txt", "c\n");
    let (out, _) = session_within(&clone, &["checkpoint", "-m", "three"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("warning"),
        "{}",
        text(&out)
    );
    let message = clone.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with(&format!("checkpoint: three\n\n{MARKER}: The task\n")),
        "{message}"
    );
    assert!(
        message.contains("Session-Todo: x"),
        "trailers stay: {message}"
    );

    // A malformed value is an error naming the key, not trust.
    clone.git(&["config", "session.trustRepoTemplates", "maybe"]);
    let out = clone.session(&["resume"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("session.trustRepoTemplates: 'maybe' is not a boolean"),
        "{}",
        text(&out)
    );
}

#[test]
fn template_with_nested_huge_loops_ends() {
    let sb = Sandbox::new();
    let clone = hostile_clone(
        &sb,
        &[("resume.j2", HUGE_LOOPS), ("commit.j2", HUGE_LOOPS)],
        &[],
    );
    let (out, took) = session_within(&clone, &["resume"], "");
    assert_fell_back(
        &out,
        RESUME,
        &[],
        &["template 'resume'", "fuel", "built-in"],
    );
    eprintln!("resume with a never-ending template: {took:?}");

    // As the commit template (trusted, so it is run), the checkpoint still
    // commits, with the built-in message.
    clone.git(&["config", "session.trustRepoTemplates", "true"]);
    clone.write("work.txt", "work\n");
    let before = clone.rev("HEAD");
    let (out, took) = session_within(
        &clone,
        &["checkpoint", "-m", "still saved", "--todo", "x"],
        "",
    );
    eprintln!("checkpoint with a never-ending commit template: {took:?}");
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("template 'commit'") && stderr.contains("fuel"),
        "{stderr}"
    );
    assert_eq!(clone.rev("HEAD~1"), before, "one new commit");
    let message = clone.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("checkpoint: still saved\n"),
        "{message}"
    );
    assert!(message.contains("Session-Todo: x"), "{message}");
    assert!(clone.status().is_empty(), "{}", clone.status());
}

#[test]
fn template_with_huge_output_is_cut_off() {
    // Cheap per step, so the output limit stops it before the fuel does.
    let sb = Sandbox::new();
    let clone = hostile_clone(
        &sb,
        &[(
            "resume.j2",
            "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}\n",
        )],
        &[],
    );
    let (out, _) = session_within(&clone, &["resume"], "");
    assert_fell_back(
        &out,
        RESUME,
        &["xxxxxxxxxx"],
        &["template 'resume'", "output is larger than 4 MiB"],
    );
}

#[test]
fn template_include_cannot_escape() {
    let sb = Sandbox::new();
    let attempts = [
        r#"{% include "../../.env" %}"#,
        r#"{% include "/etc/passwd" %}"#,
        r#"{% include "evil.j2" %}"#,
        r#"{% include "evil" %}"#,
        r#"{% include "sibling.j2" %}"#,
        r#"{% include "resume" %}"#,
        r#"{% extends "../../.env" %}"#,
        r#"{% import "../../.env" as env %}{{ env }}"#,
        r#"{% from "../../.env" import x %}{{ x }}"#,
    ];
    let mut files: Vec<(String, String)> = attempts
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("t{i}.j2"), format!("before {a} after\n")))
        .collect();
    files.push(("sibling.j2".into(), "SIBLING\n".into()));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let clone = hostile_clone(&sb, &files, &[("evil.j2", "../../.env")]);
    clone.write(".env", format!("{SECRET}\n"));

    for (i, attempt) in attempts.iter().enumerate() {
        let name = format!("t{i}");
        let (out, _) = session_within(&clone, &["resume", "--template", &name], "");
        let all = text(&out);
        // No built-in of that name: the refusal is an error, and nothing
        // of the included file shows.
        assert_eq!(out.status.code(), Some(1), "{attempt}:\n{all}");
        assert!(out.stdout.is_empty(), "{attempt}:\n{all}");
        assert!(
            all.contains(&format!("template '{name}'")),
            "{attempt}:\n{all}"
        );
        for forbidden in [SECRET, "root:", "SIBLING", "before", "Continue work"] {
            assert!(
                !all.contains(forbidden),
                "{attempt}: {forbidden:?} in:\n{all}"
            );
        }
    }
    // As the resume template: the built-in stands in.
    std::fs::write(
        clone.path.join(".git-session/templates/resume.j2"),
        r#"{% include "../../.env" %}"#,
    )
    .expect("write");
    let (out, _) = session_within(&clone, &["resume"], "");
    assert_fell_back(&out, RESUME, &[SECRET], &["template 'resume'", "not found"]);

    // As a trusted commit template: the checkpoint is saved, the secret is
    // in no object.
    clone.git(&["config", "session.trustRepoTemplates", "true"]);
    for attempt in [attempts[0], attempts[2]] {
        std::fs::write(clone.path.join(".git-session/templates/commit.j2"), attempt)
            .expect("write");
        clone.write("work.txt", attempt);
        let (out, _) = session_within(&clone, &["checkpoint", "-m", "work"], "");
        assert!(out.status.success(), "{}", text(&out));
        assert!(!text(&out).contains(SECRET), "{}", text(&out));
    }
    assert!(!all_objects(&clone).contains(SECRET));
}

#[test]
fn oversized_template_is_refused() {
    const MAX: usize = 64 * 1024;
    let sb = Sandbox::new();
    let at_limit = format!("{}\n", "a".repeat(MAX - 1));
    let over = format!("{}\n", "b".repeat(MAX));
    let clone = hostile_clone(
        &sb,
        &[("at-limit.j2", &at_limit), ("resume.j2", &over)],
        &[],
    );
    assert_eq!(at_limit.len(), MAX);
    assert_eq!(
        clone.session_ok(&["resume", "--template", "at-limit"]),
        at_limit,
        "64 KiB is allowed"
    );
    let (out, _) = session_within(&clone, &["resume"], "");
    assert_fell_back(
        &out,
        RESUME,
        &["bbbbbbbbbb"],
        &["template 'resume'", "larger than 64 KiB"],
    );
    // The user's own templates and a --template FILE are capped too.
    let user = sb.home().join(".config/git-session/templates");
    std::fs::create_dir_all(&user).expect("mkdir");
    std::fs::write(user.join("handoff.j2"), &over).expect("write");
    let (out, _) = session_within(&clone, &["resume", "--template", "handoff"], "");
    assert_fell_back(
        &out,
        "# Handoff: `main`\n",
        &["bbbbbbbbbb"],
        &["larger than 64 KiB"],
    );
    let file = sb.path("big.j2");
    std::fs::write(&file, &over).expect("write");
    let out = clone.session(&["resume", "--template", file.to_str().expect("UTF-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("larger than 64 KiB"), "{}", text(&out));
}

#[test]
fn template_fifo_does_not_block() {
    // Not something a clone can create, but a FIFO where a template is
    // expected must not hang a hook forever.
    let sb = Sandbox::new();
    let clone = hostile_clone(&sb, &[], &[]);
    let dir = clone.path.join(".git-session/templates");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let status = Command::new("mkfifo")
        .arg(dir.join("resume.j2"))
        .status()
        .expect("run mkfifo");
    assert!(status.success());
    let (out, _) = session_within(&clone, &["resume"], "");
    assert_fell_back(&out, RESUME, &[], &["not a regular file"]);
}
