//! Bad input: every refusal names the problem, exits 1, and leaves HEAD, the
//! refs, the index, git's operation state files and the work tree exactly as
//! they were. Also the identity fallback and concurrent checkpoints.
//!
//! Every repository state here is made by real git commands (a conflicting
//! merge, a stopped `rebase -i`, `git bisect start`, ...), so the tool is
//! tested against what git really leaves on disk.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::differential::{assert_work_tree_unchanged, snapshot_work_tree};
use crate::support::{text, Repo, Sandbox};

/// Files and directories in the git dir that record an operation in progress
/// (or a lock); a refusal must leave every one of them as it was.
const OPERATION_FILES: &[&str] = &[
    "MERGE_HEAD",
    "MERGE_MSG",
    "MERGE_MODE",
    "AUTO_MERGE",
    "CHERRY_PICK_HEAD",
    "REVERT_HEAD",
    "BISECT_START",
    "BISECT_LOG",
    "BISECT_TERMS",
    "rebase-merge",
    "rebase-apply",
    "sequencer",
    "index.lock",
];

fn git_dir(repo: &Repo) -> PathBuf {
    PathBuf::from(repo.git(&["rev-parse", "--absolute-git-dir"]).trim())
}

/// Which operation files exist, with the bytes of those that are files.
fn operation_state(repo: &Repo) -> Vec<(&'static str, Option<Vec<u8>>)> {
    let dir = git_dir(repo);
    OPERATION_FILES
        .iter()
        .filter_map(|name| {
            let p = dir.join(name);
            let meta = fs::symlink_metadata(&p).ok()?;
            Some((
                *name,
                meta.is_file()
                    .then(|| fs::read(&p).expect("read git-dir file")),
            ))
        })
        .collect()
}

/// Run `git-session ARGS`, which must be refused: exit status 1, an
/// `error:` line mentioning `needle` (case-insensitive), and nothing changed.
/// Returns the combined output and how long the command ran.
pub fn assert_refused(repo: &Repo, args: &[&str], needle: &str) -> (String, Duration) {
    let needle = needle.to_lowercase();
    assert_refused_with(repo, args, &format!("{needle:?}"), |stderr| {
        stderr.contains(&needle)
    })
}

/// Exit 1, stderr starting with `error: `, and `needle` in the message
/// (lowercased): for refusals where there is no repository to fingerprint.
fn assert_error(out: &Output, args: &[&str], needle: &str) {
    let all = text(out);
    assert_eq!(out.status.code(), Some(1), "git-session {args:?}: {all}");
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("error: "),
        "git-session {args:?}: {all}"
    );
    assert!(
        all.to_lowercase().contains(needle),
        "git-session {args:?}: {all}"
    );
}

/// Operations git records in the git dir, as the error should name them.
const OPERATIONS: &[&str] = &["merge", "rebase", "cherry-pick", "revert", "bisect"];

/// Refused because `op` is in progress: an `error:` line names `op` and says
/// "in progress" ("merge in progress", "a merge is in progress"), and names
/// no other operation (a conflicting cherry-pick is not a merge).
fn assert_refused_in_progress(repo: &Repo, op: &str) {
    assert_refused_with(
        repo,
        &["checkpoint", "-m", "x"],
        &format!("{op:?} ... \"in progress\""),
        |stderr| {
            stderr
                .lines()
                .filter(|l| l.starts_with("error: "))
                .any(|l| {
                    l.contains(op)
                        && l.contains("in progress")
                        && OPERATIONS.iter().all(|o| *o == op || !l.contains(o))
                })
        },
    );
}

/// Like [`assert_refused`], with any test on the (lowercased) stderr.
pub fn assert_refused_with(
    repo: &Repo,
    args: &[&str],
    expected: &str,
    message_ok: impl Fn(&str) -> bool,
) -> (String, Duration) {
    // Let git refresh the index first, so that the fingerprints below compare
    // what git-session did, not a stat refresh git itself would do.
    repo.status();
    let fingerprint = repo.fingerprint();
    let work_tree = snapshot_work_tree(&repo.path);
    let operations = operation_state(repo);

    let started = Instant::now();
    let out = repo.session(args);
    let elapsed = started.elapsed();
    let all = text(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ctx = format!("git-session {args:?} ->\n{all}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "must fail with exit status 1: {ctx}"
    );
    assert!(
        stderr.lines().any(|l| l.starts_with("error: ")),
        "no `error: ` line on stderr: {ctx}"
    );
    assert!(
        message_ok(&stderr.to_lowercase()),
        "the error must mention {expected}: {ctx}"
    );
    assert_eq!(
        operation_state(repo),
        operations,
        "git's operation state files changed: {ctx}"
    );
    assert_work_tree_unchanged(&work_tree, &snapshot_work_tree(&repo.path), &ctx);
    assert_eq!(
        repo.fingerprint(),
        fingerprint,
        "HEAD, refs, index or status changed: {ctx}"
    );
    (all, elapsed)
}

/// Run git expecting it to stop with a failure (a conflict, say).
fn git_fails(repo: &Repo, args: &[&str]) -> Output {
    let out = repo.git_output(args);
    assert!(
        !out.status.success(),
        "test bug: git {args:?} was expected to stop with a conflict:\n{}",
        text(&out)
    );
    out
}

fn assert_exists(repo: &Repo, name: &str) {
    assert!(
        git_dir(repo).join(name).exists(),
        "test bug: {name} missing in the git dir"
    );
}

fn assert_conflicts(repo: &Repo, expected: bool) {
    let unmerged = repo.git(&["ls-files", "-u"]);
    assert_eq!(
        !unmerged.is_empty(),
        expected,
        "test bug: unexpected `git ls-files -u`:\n{unmerged}"
    );
}

/// `main` and `other` both change `f.txt` from a common base.
pub fn diverged(sb: &Sandbox) -> Repo {
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.write("g.txt", "g\n");
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("f.txt", "other\n");
    repo.write("h.txt", "from other\n");
    repo.commit_all("other");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("f.txt", "main\n");
    repo.commit_all("main");
    repo
}

/// Three linear commits on main, each changing `f.txt`.
fn linear(sb: &Sandbox) -> Repo {
    let repo = sb.init("r");
    for (i, content) in ["one\n", "two\n", "three\n"].iter().enumerate() {
        repo.write("f.txt", content);
        repo.write(&format!("file{i}.txt"), content);
        repo.commit_all(&format!("commit {i}"));
    }
    repo
}

/// A change a checkpoint would otherwise commit.
fn dirty(repo: &Repo) {
    repo.write("untracked-new.txt", "new\n");
}

// ---------------------------------------------------------------------------

#[test]
fn not_a_git_repository() {
    let sb = Sandbox::new();
    let plain = sb.repo("plain");
    fs::create_dir_all(plain.path.join("sub")).expect("mkdir");
    plain.write("file.txt", "x\n");
    assert!(
        !plain
            .git_output(&["rev-parse", "--git-dir"])
            .status
            .success(),
        "test bug: the temp dir is inside a repository"
    );
    let commands: &[&[&str]] = &[
        &["checkpoint"],
        &["checkpoint", "-m", "x"],
        &["start", "task"],
        &["status"],
        &["show"],
        &["log"],
    ];
    for args in commands {
        let before = snapshot_work_tree(&plain.path);
        assert_error(&plain.session(args), args, "not a git repository");
        assert_work_tree_unchanged(
            &before,
            &snapshot_work_tree(&plain.path),
            &format!("{args:?}"),
        );
        assert!(!plain.path.join(".git").exists());
    }
}

#[test]
fn bare_repository() {
    let sb = Sandbox::new();
    let src = sb.init("src");
    src.write("f.txt", "x\n");
    src.commit_all("base");
    sb.git(&["clone", "-q", "--bare", "src", "bare.git"]);
    let bare = sb.repo("bare.git");
    assert_eq!(
        bare.git(&["rev-parse", "--is-bare-repository"]).trim(),
        "true"
    );
    let commands: &[&[&str]] = &[
        &["checkpoint"],
        &["checkpoint", "-m", "x", "--note", "n"],
        &["start", "task"],
    ];
    for args in commands {
        // The whole bare repository, byte for byte (and mtime for mtime).
        let before = snapshot_work_tree(&bare.path);
        let refs = bare.git(&["for-each-ref"]);
        assert_error(&bare.session(args), args, "bare");
        assert_work_tree_unchanged(
            &before,
            &snapshot_work_tree(&bare.path),
            &format!("{args:?}"),
        );
        assert_eq!(bare.git(&["for-each-ref"]), refs);
    }
}

#[test]
fn merge_in_progress_with_conflict() {
    let sb = Sandbox::new();
    let repo = diverged(&sb);
    git_fails(&repo, &["merge", "-q", "other"]);
    assert_exists(&repo, "MERGE_HEAD");
    assert_conflicts(&repo, true);
    dirty(&repo);
    assert_refused_in_progress(&repo, "merge");
}

#[test]
fn merge_in_progress_without_conflict() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("other.txt", "other\n");
    repo.commit_all("other");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", "main\n");
    repo.commit_all("main");
    repo.git(&["merge", "-q", "--no-commit", "--no-ff", "other"]);
    assert_exists(&repo, "MERGE_HEAD");
    assert_conflicts(&repo, false);
    dirty(&repo);
    // A checkpoint here would record a one-parent commit and lose the merge.
    assert_refused_in_progress(&repo, "merge");
}

#[test]
fn rebase_in_progress_stopped_for_edit() {
    let sb = Sandbox::new();
    let repo = linear(&sb);
    let out = repo
        .git_command()
        .env("GIT_SEQUENCE_EDITOR", "sed -i -e 's/^pick /edit /'")
        .args(["rebase", "-q", "-i", "HEAD~2"])
        .output()
        .expect("run git rebase");
    assert!(
        out.status.success(),
        "test bug: rebase -i failed: {}",
        text(&out)
    );
    assert_exists(&repo, "rebase-merge");
    assert_conflicts(&repo, false);
    dirty(&repo);
    repo.write("f.txt", "edited during the rebase\n");
    assert_refused_in_progress(&repo, "rebase");
}

#[test]
fn rebase_in_progress_with_conflict() {
    let sb = Sandbox::new();
    let repo = diverged(&sb);
    repo.git(&["checkout", "-q", "other"]);
    git_fails(&repo, &["rebase", "main"]);
    assert_exists(&repo, "rebase-merge");
    assert_conflicts(&repo, true);
    dirty(&repo);
    assert_refused_in_progress(&repo, "rebase");
}

#[test]
fn rebase_in_progress_apply_backend() {
    let sb = Sandbox::new();
    let repo = diverged(&sb);
    repo.git(&["checkout", "-q", "other"]);
    git_fails(&repo, &["rebase", "--apply", "main"]);
    assert_exists(&repo, "rebase-apply");
    dirty(&repo);
    assert_refused_in_progress(&repo, "rebase");
}

#[test]
fn cherry_pick_in_progress() {
    let sb = Sandbox::new();
    let repo = diverged(&sb);
    git_fails(&repo, &["cherry-pick", "other"]);
    assert_exists(&repo, "CHERRY_PICK_HEAD");
    assert_conflicts(&repo, true);
    dirty(&repo);
    assert_refused_in_progress(&repo, "cherry-pick");
}

#[test]
fn revert_in_progress() {
    let sb = Sandbox::new();
    let repo = linear(&sb);
    git_fails(&repo, &["revert", "--no-edit", "HEAD~1"]);
    assert_exists(&repo, "REVERT_HEAD");
    assert_conflicts(&repo, true);
    dirty(&repo);
    assert_refused_in_progress(&repo, "revert");
}

#[test]
fn bisect_in_progress() {
    // Just started, still on the branch.
    let sb = Sandbox::new();
    let repo = linear(&sb);
    repo.git(&["bisect", "start"]);
    assert_exists(&repo, "BISECT_START");
    dirty(&repo);
    assert_refused_in_progress(&repo, "bisect");

    // Bad and good given: git has checked out a commit in the middle.
    let sb = Sandbox::new();
    let repo = linear(&sb);
    repo.git(&["bisect", "start", "HEAD", "HEAD~2"]);
    assert_exists(&repo, "BISECT_START");
    assert!(
        repo.git_output(&["symbolic-ref", "-q", "HEAD"])
            .stdout
            .is_empty(),
        "test bug: bisect did not detach HEAD"
    );
    dirty(&repo);
    assert_refused_in_progress(&repo, "bisect");
}

#[test]
fn conflict_entries_from_stash_pop() {
    // `git stash pop` leaves conflict entries but no operation in progress.
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.commit_all("base");
    repo.write("f.txt", "stashed\n");
    repo.git(&["stash", "-q"]);
    repo.write("f.txt", "committed\n");
    repo.commit_all("change");
    git_fails(&repo, &["stash", "pop"]);
    assert_conflicts(&repo, true);
    for name in [
        "MERGE_HEAD",
        "CHERRY_PICK_HEAD",
        "REVERT_HEAD",
        "rebase-merge",
        "rebase-apply",
    ] {
        assert!(
            !git_dir(&repo).join(name).exists(),
            "test bug: {name} present"
        );
    }
    dirty(&repo);
    assert_refused(&repo, &["checkpoint", "-m", "x"], "conflict");
}

#[test]
fn conflict_entries_from_update_index() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.write("g.txt", "g\n");
    repo.commit_all("base");
    let base = repo.rev("HEAD:f.txt");
    let ours = repo.git_stdin(&["hash-object", "-w", "--stdin"], "ours\n");
    let theirs = repo.git_stdin(&["hash-object", "-w", "--stdin"], "theirs\n");
    let zero = "0".repeat(40);
    let info = format!(
        "0 {zero}\tf.txt\n100644 {base} 1\tf.txt\n100644 {} 2\tf.txt\n100644 {} 3\tf.txt\n",
        ours.trim(),
        theirs.trim()
    );
    repo.git_stdin(&["update-index", "--index-info"], &info);
    assert_conflicts(&repo, true);
    dirty(&repo);
    assert_refused(&repo, &["checkpoint", "-m", "x"], "conflict");
}

#[test]
fn index_lock_held_by_someone_else() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.commit_all("base");
    repo.write("f.txt", "changed\n");
    dirty(&repo);
    let lock = git_dir(&repo).join("index.lock");
    fs::write(&lock, "held by another process\n").expect("create index.lock");

    let (_, elapsed) = assert_refused(&repo, &["checkpoint", "-m", "x"], "index.lock");
    assert!(
        elapsed >= Duration::from_millis(1000),
        "gave up after {elapsed:?}; the contract says it retries for ~2 s"
    );
    assert!(elapsed <= Duration::from_secs(30), "took {elapsed:?}");
    // Never broken: the lock and its content are still there.
    assert_eq!(
        fs::read(&lock).expect("index.lock still exists"),
        b"held by another process\n"
    );

    // Once the lock is released, a checkpoint works: nothing of ours was left wedged.
    fs::remove_file(&lock).expect("release index.lock");
    repo.session_ok(&["checkpoint", "-m", "x"]);
    assert!(repo.status().is_empty());
    repo.fsck();
}

#[test]
fn unknown_rev_for_show_and_log() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.commit_all("base");
    dirty(&repo);
    let revs = [
        "no-such-branch",
        "HEAD~7",
        "0123456789abcdef0123456789abcdef01234567",
        "refs/heads/nope",
    ];
    for rev in revs {
        assert!(
            !repo
                .git_output(&["rev-parse", "--verify", "-q", &format!("{rev}^{{object}}")])
                .status
                .success(),
            "test bug: {rev} exists"
        );
        assert_refused(&repo, &["show", rev], rev);
        assert_refused(&repo, &["show", rev, "--json"], rev);
        assert_refused(&repo, &["log", rev], rev);
        assert_refused(&repo, &["log", "-n", "3", rev, "--json"], rev);
    }
}

fn author_and_committer(repo: &Repo) -> (String, String) {
    let line = repo.git(&["log", "-1", "--format=%an <%ae>%n%cn <%ce>"]);
    let mut lines = line.lines();
    (
        lines.next().unwrap_or_default().to_string(),
        lines.next().unwrap_or_default().to_string(),
    )
}

fn identity_warning(stderr: &str) -> Option<&str> {
    stderr.lines().find(|l| {
        l.starts_with("warning:")
            && (l.contains("git-session@localhost")
                || l.contains("identity")
                || l.contains("user.name"))
    })
}

#[test]
fn no_identity_falls_back_with_warning() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.commit_all("base");
    dirty(&repo);
    assert!(
        !repo.git_output(&["config", "user.name"]).status.success(),
        "test bug: user.name configured"
    );
    assert!(
        !repo.git_output(&["config", "user.email"]).status.success(),
        "test bug: user.email configured"
    );
    let base = repo.rev("HEAD");

    let mut cmd = repo.session_command();
    for var in [
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(["checkpoint", "-m", "x"])
        .output()
        .expect("run git-session");
    let all = text(&out);
    assert!(
        out.status.success(),
        "checkpoint without an identity must succeed: {all}"
    );
    let (author, committer) = author_and_committer(&repo);
    assert_eq!(author, "git-session <git-session@localhost>", "{all}");
    assert_eq!(committer, "git-session <git-session@localhost>", "{all}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        identity_warning(&stderr).is_some(),
        "no `warning:` line about the fallback identity:\n{all}"
    );
    assert_eq!(repo.rev("HEAD^"), base);
    assert!(repo.status().is_empty());
    repo.fsck();
}

/// Control for the test above: a configured identity is used, without a
/// warning (from the environment, and from `user.name`/`user.email`).
#[test]
fn configured_identity_is_used_without_warning() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.commit_all("base");
    dirty(&repo);
    let out = repo.session(&["checkpoint", "-m", "x"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        author_and_committer(&repo),
        (
            "Test Author <author@example.com>".to_string(),
            "Test Committer <committer@example.com>".to_string()
        )
    );
    assert_eq!(
        identity_warning(&String::from_utf8_lossy(&out.stderr)),
        None,
        "{}",
        text(&out)
    );

    repo.git(&["config", "user.name", "Config Name"]);
    repo.git(&["config", "user.email", "config@example.com"]);
    repo.write("another.txt", "x\n");
    let mut cmd = repo.session_command();
    for var in [
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(["checkpoint", "-m", "y"])
        .output()
        .expect("run git-session");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        author_and_committer(&repo),
        (
            "Config Name <config@example.com>".to_string(),
            "Config Name <config@example.com>".to_string()
        )
    );
    assert_eq!(
        identity_warning(&String::from_utf8_lossy(&out.stderr)),
        None,
        "{}",
        text(&out)
    );
}

#[test]
fn concurrent_checkpoints_are_serialized() {
    const THREADS: usize = 4;
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.write("dir/g.txt", "g\n");
    repo.commit_all("base");

    for round in 0..3 {
        repo.write("f.txt", format!("round {round}\n"));
        repo.write(&format!("dir/new-{round}.txt"), "new\n");
        let start = repo.rev("HEAD");
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let repo = repo.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let note = format!("note r{round} t{i}");
                    let mut cmd = repo.session_command();
                    cmd.args([
                        "checkpoint",
                        "-m",
                        &format!("round {round} thread {i}"),
                        "--note",
                        &note,
                        "--json",
                    ]);
                    barrier.wait();
                    (note, cmd.output().expect("run git-session"))
                })
            })
            .collect();
        let results: Vec<(String, Output)> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();

        let mut created = Vec::new();
        for (note, out) in &results {
            let all = text(out);
            match out.status.code() {
                Some(0) => {
                    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
                        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {all}"));
                    let commit = json["commit"]
                        .as_str()
                        .unwrap_or_else(|| panic!("no commit in {json}"))
                        .to_string();
                    let reachable =
                        repo.git_output(&["merge-base", "--is-ancestor", &commit, "main"]);
                    assert!(
                        reachable.status.success(),
                        "round {round}: printed commit {commit} is not on main: {all}"
                    );
                    assert_eq!(
                        json["created"], true,
                        "round {round}: a new note must create a checkpoint: {all}"
                    );
                    let has_note = repo.git_output(&["notes", "--ref=session", "show", &commit]);
                    assert!(
                        has_note.status.success(),
                        "round {round}: checkpoint {commit} lost its note: {}",
                        text(&has_note)
                    );
                    created.push((note.clone(), commit));
                }
                Some(1) => {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        stderr.lines().any(|l| l.starts_with("error: ")),
                        "round {round}: failure without a clear error: {all}"
                    );
                }
                other => panic!("round {round}: exit {other:?} (crash or signal): {all}"),
            }
        }
        assert!(
            !created.is_empty(),
            "round {round}: no checkpoint succeeded"
        );
        repo.fsck();
        let status = repo.status();
        assert!(
            status.is_empty(),
            "round {round}: status not clean:\n{status}"
        );

        // One commit per success, each distinct, in one first-parent line.
        let mut ids: Vec<&str> = created.iter().map(|(_, c)| c.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            created.len(),
            "round {round}: two checkpoints reported the same commit"
        );
        let count = repo.git(&[
            "rev-list",
            "--count",
            "--first-parent",
            &format!("{start}..main"),
        ]);
        assert_eq!(
            count.trim(),
            created.len().to_string(),
            "round {round}: commits on main vs successes"
        );

        // Serialized, each inherited the one before: the newest has every note.
        let notes = repo.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Session-Note,valueonly)",
            "main",
        ]);
        for (note, commit) in &created {
            assert!(notes.lines().any(|l| l == note), "round {round}: note {note:?} of {commit} lost by a concurrent checkpoint; newest has:\n{notes}");
        }
    }
    assert!(Path::new(&repo.path).join("dir/new-2.txt").exists());
}
