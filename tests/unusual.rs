//! Unusual repositories and settings (issue 19, correctness): what a
//! checkpoint does where git itself would do something special, checked
//! against git wherever git can answer the same question.

use std::fs;
use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use crate::differential::{assert_work_tree_unchanged, snapshot_work_tree};
use crate::hostile::{assert_tree_matches_git, checkpoint_ok, git_add_all_tree, git_dir, ls_tree};
use crate::support::{text, Repo, Sandbox};

/// Run the Claude Code Stop hook (`--strict`, so a failure shows).
fn stop_hook(repo: &Repo) -> Output {
    let input = serde_json::json!({
        "hook_event_name": "Stop",
        "session_id": "s1",
        "cwd": repo.path,
    })
    .to_string();
    let mut child = repo
        .session_command()
        .args(["hook", "claude", "--strict"])
        // These repositories work on `main`, where hooks would save to a
        // rescue ref: the tests are about the checkpoint.
        .env("GIT_CONFIG_PARAMETERS", "'session.hookBranches'='*'")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the hook");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("write the hook input");
    child.wait_with_output().expect("wait for the hook")
}

/// The mode of `path` in a tree-ish.
fn mode_of(repo: &Repo, treeish: &str, path: &str) -> Option<String> {
    ls_tree(repo, treeish)
        .into_iter()
        .find(|e| e.3 == path.as_bytes())
        .map(|e| e.0)
}

/// A refusal: exit 1, the message names `path` and says `reason`, and the
/// repository and work tree are exactly as before.
fn assert_refused(repo: &Repo, args: &[&str], path: &str, reason: &str) -> String {
    // git status refreshes the index first, so the fingerprint is stable.
    repo.status();
    let fingerprint = repo.fingerprint();
    let work_tree = snapshot_work_tree(&repo.path);
    let out = repo.session(args);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!("'{path}'")) && all.contains(reason),
        "the error must name '{path}' and say '{reason}':\n{all}"
    );
    assert_eq!(repo.fingerprint(), fingerprint, "{all}");
    assert_work_tree_unchanged(&work_tree, &snapshot_work_tree(&repo.path), &all);
    assert!(!git_dir(repo).join("index.lock").exists());
    all
}

// ---------------------------------------------------------------------------
// core.symlinks=false

/// With `core.symlinks=false` git checks a symlink out as a plain file
/// holding its target; an edited placeholder stays a symlink (120000) in
/// what `git add -A` records, while a new regular file is a regular file and
/// a real new symlink a symlink.
#[test]
fn symlinks_false_keeps_tracked_symlink_mode() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("target.txt", "t\n");
    std::os::unix::fs::symlink("target.txt", repo.path.join("link")).expect("symlink");
    std::os::unix::fs::symlink("target.txt", repo.path.join("exe-link")).expect("symlink");
    repo.commit_all("base");
    repo.git(&["config", "core.symlinks", "false"]);
    // What a checkout with core.symlinks=false leaves: the target as text.
    for name in ["link", "exe-link"] {
        fs::remove_file(repo.path.join(name)).expect("rm link");
    }
    repo.write("link", "elsewhere.txt");
    repo.write("exe-link", "other.txt");
    let exe = repo.path.join("exe-link");
    let mut perms = fs::metadata(&exe).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(&exe, perms).expect("chmod");
    repo.write("new.txt", "a new file\n");
    std::os::unix::fs::symlink("target.txt", repo.path.join("new-link")).expect("symlink");

    let git_tree = git_add_all_tree(&repo).expect("git add -A succeeds");
    checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &git_tree, "core.symlinks=false");
    assert_eq!(mode_of(&repo, "HEAD", "link").as_deref(), Some("120000"));
    assert_eq!(
        mode_of(&repo, "HEAD", "exe-link").as_deref(),
        Some("120000")
    );
    assert_eq!(mode_of(&repo, "HEAD", "new.txt").as_deref(), Some("100644"));
    assert_eq!(
        mode_of(&repo, "HEAD", "new-link").as_deref(),
        Some("120000")
    );
    assert_eq!(repo.git(&["cat-file", "-p", "HEAD:link"]), "elsewhere.txt");
    // The index agrees: git sees nothing to add, and a second checkpoint
    // writes nothing.
    assert!(repo.status().is_empty(), "{}", repo.status());
    let again = repo.session_json(&["checkpoint"]);
    assert_eq!(again["created"], false, "{again}");
    repo.fsck();
}

// ---------------------------------------------------------------------------
// Files git cannot add

/// A tracked file replaced by a FIFO: `git add -A` refuses ("can only add
/// regular files, symbolic links or git-directories"). A checkpoint never
/// records it as deleted: run by a person it refuses as git does, changing
/// nothing; run by a hook it keeps the path at its previous content, saves
/// the rest, and records an `unsupported-type` skip. An untracked FIFO is
/// passed over without a word, as git does.
#[test]
fn fifo_replacing_tracked_file_is_not_recorded_as_deleted() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("pipe", "was a file\n");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    let before = repo.rev("HEAD:pipe");
    fs::remove_file(repo.path.join("pipe")).expect("rm");
    let mkfifo = |name: &str| {
        let out = Command::new("mkfifo")
            .arg(repo.path.join(name))
            .output()
            .expect("run mkfifo");
        assert!(out.status.success(), "{}", text(&out));
    };
    mkfifo("pipe");
    mkfifo("untracked-pipe");
    repo.write("a.txt", "changed\n");

    let git = git_add_all_tree(&repo);
    assert!(
        git.as_ref()
            .is_err_and(|e| e.contains("can only add regular files")),
        "premise: git add -A refuses: {git:?}"
    );
    // What git records when told to leave the FIFO alone: the oracle for
    // the hook's checkpoint.
    let scratch = git_dir(&repo).join("index.oracle");
    fs::copy(git_dir(&repo).join("index"), &scratch).expect("copy the index");
    let oracle = |args: &[&str]| {
        let out = repo
            .git_command()
            .env("GIT_INDEX_FILE", &scratch)
            .args(args)
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    oracle(&["add", "-A", "--", ".", ":(exclude)pipe"]);
    let git_tree = oracle(&["write-tree"]);
    fs::remove_file(&scratch).expect("rm scratch index");

    // A person's checkpoint: git's refusal, nothing changed.
    let all = assert_refused(
        &repo,
        &["checkpoint", "-m", "x"],
        "pipe",
        "can only add regular files, symbolic links or git-directories",
    );
    assert!(all.contains("hint: "), "{all}");

    // A hook's checkpoint: the rest is saved, the FIFO's path keeps its
    // content, and the state says why.
    let out = stop_hook(&repo);
    assert!(out.status.success(), "{}", text(&out));
    assert_tree_matches_git(&repo, &git_tree, "FIFO left out");
    assert_eq!(repo.rev("HEAD:pipe"), before, "the old content is kept");
    assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "changed\n");
    let ls = repo.git(&["ls-tree", "--name-only", "HEAD"]);
    assert!(!ls.contains("untracked-pipe"), "{ls}");
    let show = repo.session_json(&["show"]);
    assert_eq!(
        show["skipped"],
        serde_json::json!([{"path": "pipe", "reason": "unsupported-type"}]),
        "{show}"
    );
    assert!(repo.git(&["ls-files"]).lines().any(|l| l == "pipe"));
    repo.fsck();
}

/// `working-tree-encoding=UTF-16LE` (or `utf16le`, or BE, or UTF-32LE/BE)
/// with a byte order mark: git refuses ("BOM is prohibited in 'u.txt' if
/// encoded as UTF-16LE") and hints at UTF-16. A person's checkpoint refuses
/// the same way, naming the path and the hint, and changes nothing; a
/// hook's checkpoint leaves the file out (tracked: its last content stays)
/// with a `bom-prohibited` skip. `UTF-16`, which allows the mark, stores
/// what git stores.
#[test]
fn utf16le_bom_is_refused_like_git() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write(
        ".gitattributes",
        "*.txt working-tree-encoding=UTF-16LE\n*.u16 working-tree-encoding=UTF-16\n",
    );
    // "hi\n" in UTF-16LE, without and with the mark.
    let plain: &[u8] = b"h\0i\0\n\0";
    let marked: &[u8] = b"\xff\xfeh\0i\0\n\0";
    repo.write("tracked.txt", plain);
    repo.write("ok.u16", marked);
    repo.commit_all("base");
    let tracked_before = repo.rev("HEAD:tracked.txt");
    repo.write("new.txt", marked);
    repo.write("other.md", "other\n");
    repo.write("ok.u16", b"\xff\xfeh\0o\0\n\0");

    let git = git_add_all_tree(&repo);
    let refusal = git.expect_err("premise: git add -A refuses");
    assert!(
        refusal.contains("BOM is prohibited in 'new.txt' if encoded as UTF-16LE")
            && refusal.contains("Please use UTF-16 as working-tree-encoding"),
        "premise: {refusal}"
    );
    let all = assert_refused(
        &repo,
        &["checkpoint", "-m", "x"],
        "new.txt",
        "BOM is prohibited in 'new.txt' if encoded as UTF-16LE",
    );
    assert!(
        all.lines()
            .any(|l| l.starts_with("hint: ") && l.contains("UTF-16 as its working-tree-encoding")),
        "{all}"
    );

    // The tracked file gets the mark too: a hook leaves both out.
    repo.write("tracked.txt", marked);
    let out = stop_hook(&repo);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(repo.rev("HEAD:tracked.txt"), tracked_before);
    assert!(repo
        .git_output(&["rev-parse", "-q", "--verify", "HEAD:new.txt"])
        .stdout
        .is_empty());
    assert_eq!(repo.git(&["show", "HEAD:other.md"]), "other\n");
    let show = repo.session_json(&["show"]);
    let mut skipped: Vec<(String, String)> = show["skipped"]
        .as_array()
        .expect("skipped is a list")
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap_or_default().to_string(),
                s["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            ("new.txt".to_string(), "bom-prohibited".to_string()),
            ("tracked.txt".to_string(), "bom-prohibited".to_string())
        ],
        "{show}"
    );
    // UTF-16 (mark allowed) is stored as git stores it.
    fs::remove_file(repo.path.join("new.txt")).expect("rm");
    repo.write("tracked.txt", plain);
    repo.write("ok.u16", b"\xff\xfeo\0k\0\n\0");
    let git_tree = git_add_all_tree(&repo).expect("git add -A succeeds now");
    checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &git_tree, "UTF-16 with a BOM");
    assert_eq!(repo.git(&["show", "HEAD:ok.u16"]), "ok\n");
    repo.fsck();
}

// ---------------------------------------------------------------------------
// Repositories and states this build cannot read

/// A reftable repository (`git init --ref-format=reftable`): every command
/// says what is unsupported and how to convert, instead of "unsupported
/// storage backend" or "unknown revision 'HEAD'"; `doctor` reports it as
/// a problem; nothing is written.
#[test]
fn reftable_repository_names_itself() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("r")).expect("mkdir");
    let repo = sb.repo("r");
    repo.git(&["init", "-q", "-b", "main", "--ref-format=reftable"]);
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("a.txt", "changed\n");
    let before = repo.fingerprint();
    for args in [
        &["checkpoint", "-m", "x"][..],
        &["show"],
        &["log"],
        &["status"],
        &["resume"],
        &["finish", "--squash"],
    ] {
        let out = repo.session(args);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {all}");
        assert!(
            all.starts_with("error: ")
                && all.contains("'reftable'")
                && all.contains("'files' ref backend")
                && !all.contains("unknown revision"),
            "{args:?}: {all}"
        );
        assert!(
            all.lines()
                .any(|l| l.starts_with("hint: ")
                    && l.contains("git refs migrate --ref-format=files")),
            "{args:?}: {all}"
        );
    }
    let doctor = repo.session(&["doctor", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&doctor.stdout).expect("doctor JSON");
    let check = json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "repository")
        .cloned()
        .unwrap_or_default();
    assert_eq!(check["status"], "problem", "{json}");
    assert!(
        check["message"]
            .as_str()
            .is_some_and(|m| m.contains("reftable")),
        "{json}"
    );
    assert_eq!(repo.fingerprint(), before);
    // The advice works: a files clone checkpoints.
    sb.git(&["clone", "-q", "--ref-format=files", "r", "converted"]);
    let converted = sb.repo("converted");
    converted.write("b.txt", "b\n");
    checkpoint_ok(&converted);
}

/// A note written by a newer git-session (schema above this build's):
/// one warning, and the commit's trailers are read instead; when the
/// trailers are newer too, one warning and what can be read is read.
#[test]
fn newer_note_schema_warns_and_prefers_trailers() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("a.txt", "b\n");
    repo.session_ok(&[
        "checkpoint",
        "-m",
        "first",
        "--task",
        "the task",
        "--todo",
        "from trailers",
    ]);
    let note = repo.git(&["notes", "--ref=session", "show", "HEAD"]);
    let newer = note
        .replace("schema = 1", "schema = 99")
        .replace("from trailers", "from the note");
    assert_ne!(newer, note, "premise: the note has a schema and the item");
    repo.git(&["notes", "--ref=session", "add", "-f", "-m", &newer, "HEAD"]);

    let out = repo.session(&["show", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["source"], "trailers", "{json}");
    assert_eq!(json["todo"], serde_json::json!(["from trailers"]), "{json}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: ") && l.contains("schema 99"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("trailers"), "{stderr}");

    // A newer git-session's commit on top, trailers only: read, one warning.
    repo.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "session: later",
        "-m",
        "Session-Schema: 99\nSession-Task: the newer task\nSession-Todo: newer item\nSession-Future: something new",
    ]);
    let out = repo.session(&["log", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("newer git-session"))
            .count(),
        1,
        "one warning per command:\n{stderr}"
    );
    let json = repo.session_json(&["show"]);
    assert_eq!(json["task"], "the newer task", "{json}");
    assert_eq!(json["todo"], serde_json::json!(["newer item"]), "{json}");
    // A checkpoint on top records this build's schema.
    repo.write("a.txt", "c\n");
    repo.session_ok(&["checkpoint", "-m", "mine"]);
    let note = repo.git(&["notes", "--ref=session", "show", "HEAD"]);
    assert!(note.contains("schema = 1"), "{note}");
}

// ---------------------------------------------------------------------------
// Signing and commit hooks

/// Lines of `out`'s stderr containing `needle`.
fn stderr_lines(out: &Output, needle: &str) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

/// The `commits` check of `git session doctor --json`.
fn doctor_commits(repo: &Repo) -> serde_json::Value {
    let out = repo.session(&["doctor", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor JSON");
    json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "commits")
        .cloned()
        .unwrap_or_else(|| panic!("no commits check: {json}"))
}

fn has_signature(repo: &Repo, rev: &str) -> bool {
    repo.git(&["cat-file", "commit", rev])
        .lines()
        .any(|l| l.starts_with("gpgsig"))
}

/// With `commit.gpgSign=true`, checkpoints stay unsigned work-in-progress
/// commits; the first one written says so, once per repository (hooks
/// included), and `doctor` says it every time.
#[test]
fn gpgsign_checkpoint_says_unsigned_once() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.git(&["config", "commit.gpgSign", "true"]);
    repo.write("a.txt", "b\n");
    let first = repo.session(&["checkpoint", "-m", "one"]);
    assert!(first.status.success(), "{}", text(&first));
    let said = stderr_lines(&first, "unsigned");
    assert_eq!(said.len(), 1, "{}", text(&first));
    assert!(
        said[0].starts_with("warning: ") && said[0].contains("finish --squash"),
        "{said:?}"
    );
    assert!(!has_signature(&repo, "HEAD"));
    for run in 0..2 {
        repo.write("a.txt", format!("c{run}\n"));
        let out = if run == 0 {
            repo.session(&["checkpoint", "-m", "again"])
        } else {
            stop_hook(&repo)
        };
        assert!(out.status.success(), "{}", text(&out));
        assert!(
            stderr_lines(&out, "unsigned").is_empty(),
            "said twice: {}",
            text(&out)
        );
    }
    let check = doctor_commits(&repo);
    assert_eq!(check["status"], "warning", "{check}");
    assert!(
        check["message"]
            .as_str()
            .is_some_and(|m| m.contains("unsigned")),
        "{check}"
    );
    // Without commit.gpgSign, doctor has nothing to say about signing.
    repo.git(&["config", "commit.gpgSign", "false"]);
    assert_eq!(doctor_commits(&repo)["status"], "ok");
}

/// Commit hooks (pre-commit, commit-msg, … in .git/hooks or
/// core.hooksPath) do not run for checkpoints; the first checkpoint says
/// so, naming them, once; `doctor` says it; `finish --squash` hints how to
/// run them on the final commit.
#[test]
fn commit_hooks_not_run_notice() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    let ran = sb.path("hook-ran");
    let hook = format!("#!/bin/sh\necho ran >> '{}'\n", ran.display());
    for name in ["pre-commit", "commit-msg"] {
        let path = git_dir(&repo).join("hooks").join(name);
        fs::write(&path, &hook).expect("write hook");
        let mut perms = fs::metadata(&path).expect("stat").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        fs::set_permissions(&path, perms).expect("chmod");
    }
    // A sample hook git ships is not executable: it does not count.
    fs::write(git_dir(&repo).join("hooks/post-commit"), &hook).expect("write");

    let start = repo.session(&["start", "the task"]);
    let said = stderr_lines(&start, "commit hooks");
    assert_eq!(said.len(), 1, "{}", text(&start));
    assert!(
        said[0].starts_with("warning: ") && said[0].contains("(pre-commit, commit-msg)"),
        "{said:?}"
    );
    repo.write("a.txt", "b\n");
    let first = repo.session(&["checkpoint", "-m", "one"]);
    assert!(first.status.success(), "{}", text(&first));
    let all = text(&first);
    let said = stderr_lines(&first, "commit hooks");
    // `start` wrote the first checkpoint and said it; not again.
    assert!(said.is_empty(), "{all}");
    assert!(!ran.exists(), "a hook ran");
    let check = doctor_commits(&repo);
    assert_eq!(check["status"], "warning", "{check}");
    assert!(
        check["message"]
            .as_str()
            .is_some_and(|m| m.contains("pre-commit, commit-msg") && !m.contains("post-commit")),
        "{check}"
    );
    let out = repo.session(&["finish", "--squash"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr_lines(&out, "git commit --amend --no-edit")
            .iter()
            .any(|l| l.starts_with("hint: ")),
        "{}",
        text(&out)
    );
    assert!(!ran.exists(), "a hook ran");

    // core.hooksPath, relative to the work tree as git reads it: the first
    // checkpoint written in this repository says it.
    let other = sb.init("other");
    other.write("a.txt", "a\n");
    other.commit_all("base");
    other.git(&["config", "core.hooksPath", ".githooks"]);
    other.write(".githooks/commit-msg", &hook);
    let path = other.path.join(".githooks/commit-msg");
    let mut perms = fs::metadata(&path).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(&path, perms).expect("chmod");
    other.write("a.txt", "b\n");
    let first = other.session(&["checkpoint", "-m", "one"]);
    let said = stderr_lines(&first, "commit hooks");
    assert_eq!(said.len(), 1, "{}", text(&first));
    assert!(said[0].contains("(commit-msg)"), "{said:?}");
    other.write("a.txt", "c\n");
    let second = other.session(&["checkpoint", "-m", "two"]);
    assert!(
        stderr_lines(&second, "commit hooks").is_empty(),
        "{}",
        text(&second)
    );
    assert!(!ran.exists(), "a hook ran");
}

/// A signing setup that works offline: an ssh key (`gpg.format=ssh`) when
/// ssh-keygen is installed, else a `gpg.program` that emits a fake
/// signature. Returns the allowed-signers file when ssh is used.
fn offline_signing(sb: &Sandbox, repo: &Repo) -> Option<std::path::PathBuf> {
    let key = sb.path("signing-key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&key)
        .output();
    if made.is_ok_and(|out| out.status.success()) {
        repo.git(&["config", "gpg.format", "ssh"]);
        repo.git(&["config", "user.signingKey", &key.to_string_lossy()]);
        let public = fs::read_to_string(key.with_extension("pub")).expect("public key");
        let allowed = sb.path("allowed-signers");
        fs::write(&allowed, format!("committer@example.com {public}")).expect("write");
        return Some(allowed);
    }
    let fake = sb.path("fake-gpg");
    fs::write(
        &fake,
        "#!/bin/sh\ncat >/dev/null\necho '[GNUPG:] SIG_CREATED D 1 8 00 0 0' >&2\nprintf -- '-----BEGIN PGP SIGNATURE-----\\n\\nfake\\n-----END PGP SIGNATURE-----\\n'\n",
    )
    .expect("write fake gpg");
    let mut perms = fs::metadata(&fake).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(&fake, perms).expect("chmod");
    repo.git(&["config", "gpg.program", &fake.to_string_lossy()]);
    None
}

/// `finish --squash` with `commit.gpgSign=true` makes the final commit
/// through git, so it is signed (a `gpgsig` header that `git verify-commit`
/// accepts); a signing failure refuses with git's reason and writes
/// nothing of the squash.
#[test]
fn finish_squash_signs_when_gpgsign() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    let base = repo.rev("HEAD");
    repo.session_ok(&["start", "Sign the result"]);
    repo.write("a.txt", "b\n");
    repo.session_ok(&["checkpoint", "--todo", "more"]);
    repo.write("b.txt", "b\n");
    repo.session_ok(&["checkpoint", "--done", "more"]);
    repo.git(&["config", "commit.gpgSign", "true"]);
    let allowed = offline_signing(&sb, &repo);

    // Signing that fails: git's reason, and the branch stays where it is.
    repo.git(&["config", "gpg.program", "false"]);
    repo.git(&["config", "gpg.ssh.program", "false"]);
    let tip = repo.rev("HEAD");
    let refs = repo.git(&["for-each-ref"]);
    let out = repo.session(&["finish", "--squash"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("error: could not sign the squashed commit"),
        "{all}"
    );
    assert_eq!(repo.rev("HEAD"), tip, "{all}");
    assert_eq!(repo.git(&["for-each-ref"]), refs, "{all}");
    repo.git(&["config", "--unset", "gpg.ssh.program"]);
    if allowed.is_some() {
        repo.git(&["config", "--unset", "gpg.program"]);
    } else {
        let fake = sb.path("fake-gpg");
        repo.git(&["config", "gpg.program", &fake.to_string_lossy()]);
    }

    let out = repo.session(&["finish", "--squash"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("(signed)"), "{}", text(&out));
    assert!(
        has_signature(&repo, "HEAD"),
        "{}",
        repo.git(&["cat-file", "commit", "HEAD"])
    );
    assert_eq!(repo.rev("HEAD^"), base);
    assert_eq!(
        repo.rev("HEAD^{tree}"),
        repo.rev("refs/session/archive/main/1^{tree}")
    );
    let raw = repo.git(&["cat-file", "commit", "HEAD"]);
    assert!(
        raw.contains("author Test Author <author@example.com>")
            && raw.contains("committer Test Committer <committer@example.com>")
            && raw.contains("Session-Schema: 1"),
        "{raw}"
    );
    if let Some(allowed) = allowed {
        let verify = repo.git_output(&[
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", allowed.display()),
            "verify-commit",
            "HEAD",
        ]);
        assert!(verify.status.success(), "{}", text(&verify));
    }
    let show = repo.session_json(&["show"]);
    assert_eq!(show["reason"], "finish", "{show}");
    assert_eq!(show["source"], "note", "{show}");
    repo.fsck();
}
