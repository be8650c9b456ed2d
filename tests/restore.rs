//! `restore` and `diff`: going back to a checkpoint, and seeing what
//! changed between two. git is the oracle: after a restore, HEAD holds
//! the checkpoint's tree, `git diff --exit-code CHECKPOINT` and `git status
//! --porcelain` find nothing, `git diff-files` finds the index fresh, and
//! `git fsck --strict` is clean; what no checkpoint holds (ignored and
//! skipped files) is byte for byte as it was; and every refusal leaves the
//! repository exactly as it was.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::differential::{
    assert_work_tree_unchanged, build_base, mutate_many, snapshot_work_tree, Entry, Rng, Twins,
};
use crate::support::{text, transcript, Fingerprint, Repo, Sandbox};

// ---------------------------------------------------------------------------
// Helpers

/// A repository with a first commit by git and a started session.
fn session(sb: &Sandbox) -> Repo {
    let repo = sb.init("r");
    repo.write("README.md", "hello\n");
    repo.write(".gitignore", "*.log\nbuild/\n");
    repo.commit_all("initial");
    repo.session_ok(&["start", "-q", "--todo", "first item", "the task"]);
    repo
}

/// Checkpoint with a summary; the new HEAD.
fn checkpoint(repo: &Repo, summary: &str) -> String {
    repo.session_ok(&["checkpoint", "-q", "-m", summary]);
    repo.rev("HEAD")
}

/// Everything a refusal must leave as it was: HEAD, the refs, the index
/// bytes and git's status (the harness's fingerprint), HEAD's reflog, and
/// every work-tree entry with its bytes, mode and mtime.
struct Untouched {
    fingerprint: Fingerprint,
    reflog: Vec<u8>,
    work_tree: BTreeMap<PathBuf, Entry>,
}

fn untouched(repo: &Repo) -> Untouched {
    // `git status` refreshes the index when it can: let it, once, so two
    // fingerprints in a row agree.
    repo.status();
    let git_dir = PathBuf::from(repo.git(&["rev-parse", "--absolute-git-dir"]).trim());
    Untouched {
        fingerprint: repo.fingerprint(),
        reflog: fs::read(git_dir.join("logs/HEAD")).unwrap_or_default(),
        work_tree: snapshot_work_tree(&repo.path),
    }
}

fn assert_untouched(repo: &Repo, before: &Untouched, ctx: &str) {
    // The work tree first: the fingerprint's `git status` may refresh the index.
    assert_work_tree_unchanged(&before.work_tree, &snapshot_work_tree(&repo.path), ctx);
    let after = untouched(repo);
    assert_eq!(before.fingerprint, after.fingerprint, "{ctx}");
    assert_eq!(before.reflog, after.reflog, "HEAD's reflog changed; {ctx}");
}

/// git's verdict that the work tree, the index and HEAD are `commit` again,
/// by a restore checkpoint naming it.
fn assert_restored(repo: &Repo, commit: &str, ctx: &str) {
    assert_restored_but(repo, commit, &BTreeMap::new(), ctx);
}

/// [`assert_restored`], where `git status` may list the files of `kept`
/// (files that were ignored before: no restore touches them, and the
/// restored ignore rules may no longer ignore them).
fn assert_restored_but(repo: &Repo, commit: &str, kept: &BTreeMap<PathBuf, Entry>, ctx: &str) {
    let diff_files = repo.git(&["diff-files"]);
    assert!(
        diff_files.is_empty(),
        "stale index stat data after the restore:\n{diff_files}\n{ctx}"
    );
    assert_eq!(
        repo.rev("HEAD^{tree}"),
        repo.rev(&format!("{commit}^{{tree}}")),
        "HEAD does not hold the checkpoint's tree; {ctx}"
    );
    let diff = repo.git_output(&["diff", "--exit-code", "--stat", commit]);
    assert!(
        diff.status.success(),
        "git diff --exit-code {commit}:\n{}\n{ctx}",
        text(&diff)
    );
    let status = repo.git(&["status", "--porcelain", "-z", "--untracked-files=all"]);
    let unexpected: Vec<&str> = status
        .split('\0')
        .filter(|l| !l.is_empty())
        .filter(|l| {
            !l.strip_prefix("?? ")
                .is_some_and(|path| kept.contains_key(Path::new(path)))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "git status --porcelain:\n{unexpected:?}\n{ctx}"
    );
    let trailers = repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Session-Reason,valueonly)%(trailers:key=Session-Restored-From,valueonly)",
    ]);
    assert_eq!(
        trailers.split_whitespace().collect::<Vec<_>>(),
        ["restore", repo.rev(commit).as_str()],
        "{ctx}"
    );
    repo.fsck();
}

/// Files git ignores, with their bytes, modes and mtimes.
fn ignored(repo: &Repo) -> BTreeMap<PathBuf, Entry> {
    let listed = repo.git(&[
        "ls-files",
        "-z",
        "--others",
        "--ignored",
        "--exclude-standard",
    ]);
    let all = snapshot_work_tree(&repo.path);
    listed
        .split('\0')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let path = PathBuf::from(p);
            all.get(&path).map(|e| (path, e.clone()))
        })
        .collect()
}

/// Files and symlinks with their bytes and modes (not mtimes: a restore
/// writes files anew), outside `.git`.
fn contents(root: &Path) -> BTreeMap<PathBuf, String> {
    snapshot_work_tree(root)
        .into_iter()
        .filter_map(|(path, entry)| match entry {
            Entry::File { mode, bytes, .. } => Some((
                path,
                format!("{:o} {}", mode & 0o111, String::from_utf8_lossy(&bytes)),
            )),
            Entry::Symlink { target } => Some((path, format!("-> {}", target.display()))),
            _ => None,
        })
        .collect()
}

/// What differs between two maps of paths, one line each.
fn differences<V: PartialEq + std::fmt::Debug>(
    before: &BTreeMap<PathBuf, V>,
    after: &BTreeMap<PathBuf, V>,
) -> Vec<String> {
    let short = |v: &V| format!("{v:?}").chars().take(120).collect::<String>();
    before
        .iter()
        .filter(|(path, was)| after.get(*path) != Some(*was))
        .map(|(path, was)| match after.get(path) {
            Some(now) => format!("{}: {} -> {}", path.display(), short(was), short(now)),
            None => format!("{}: removed", path.display()),
        })
        .chain(
            after
                .keys()
                .filter(|path| !before.contains_key(*path))
                .map(|path| format!("{}: created", path.display())),
        )
        .collect()
}

fn fails(repo: &Repo, args: &[&str]) -> String {
    let out = repo.session(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "git session {args:?} should fail:\n{}",
        text(&out)
    );
    text(&out)
}

// ---------------------------------------------------------------------------
// What a restore brings back

#[test]
fn files_added_since_are_removed_with_their_directories() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let old = checkpoint(&repo, "old");
    repo.write("new/deep/dir/file.txt", "new\n");
    repo.write("added.txt", "added\n");
    checkpoint(&repo, "with new files");
    repo.write("untracked-since.txt", "u\n");
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    assert!(
        !repo.path.join("new").exists(),
        "directories left empty stay"
    );
    assert!(!repo.path.join("untracked-since.txt").exists());
}

#[test]
fn files_deleted_since_come_back() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("a/b/c.txt", "c\n");
    repo.write("keep.txt", "keep\n");
    let old = checkpoint(&repo, "old");
    fs::remove_dir_all(repo.path.join("a")).expect("rm");
    fs::remove_file(repo.path.join("keep.txt")).expect("rm");
    checkpoint(&repo, "deleted");
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    assert_eq!(repo.read("a/b/c.txt"), b"c\n");
}

#[test]
fn renamed_files_go_back() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("src/name.rs", "fn main() {}\n");
    let old = checkpoint(&repo, "old");
    fs::rename(repo.path.join("src"), repo.path.join("lib")).expect("mv");
    fs::rename(
        repo.path.join("lib/name.rs"),
        repo.path.join("lib/other.rs"),
    )
    .expect("mv");
    checkpoint(&repo, "renamed");
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    assert!(!repo.path.join("lib").exists());
}

#[test]
fn mode_changes_go_back() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("run.sh", "#!/bin/sh\n");
    repo.write("data.txt", "data\n");
    fs::set_permissions(repo.path.join("run.sh"), fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let old = checkpoint(&repo, "old");
    fs::set_permissions(repo.path.join("run.sh"), fs::Permissions::from_mode(0o644))
        .expect("chmod");
    fs::set_permissions(
        repo.path.join("data.txt"),
        fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    checkpoint(&repo, "modes");
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    let mode = |p: &str| {
        fs::metadata(repo.path.join(p))
            .expect("stat")
            .permissions()
            .mode()
    };
    assert_eq!(mode("run.sh") & 0o111, 0o111);
    assert_eq!(mode("data.txt") & 0o111, 0);
}

#[test]
fn symlink_to_file_and_file_to_symlink_go_back() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    symlink("README.md", repo.path.join("link")).expect("symlink");
    repo.write("plain", "plain\n");
    let old = checkpoint(&repo, "old");
    fs::remove_file(repo.path.join("link")).expect("rm");
    repo.write("link", "now a file\n");
    fs::remove_file(repo.path.join("plain")).expect("rm");
    symlink("nowhere/at/all", repo.path.join("plain")).expect("symlink");
    checkpoint(&repo, "swapped");
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    assert_eq!(
        fs::read_link(repo.path.join("link")).expect("a symlink again"),
        Path::new("README.md")
    );
    assert!(fs::symlink_metadata(repo.path.join("plain"))
        .expect("lstat")
        .is_file());
}

#[test]
fn file_to_directory_and_directory_to_file_go_back() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("was-file", "a file\n");
    repo.write("was-dir/inner/x.txt", "x\n");
    repo.write("was-dir/y.txt", "y\n");
    let old = checkpoint(&repo, "old");
    fs::remove_file(repo.path.join("was-file")).expect("rm");
    repo.write("was-file/now/inside.txt", "inside\n");
    fs::remove_dir_all(repo.path.join("was-dir")).expect("rm");
    repo.write("was-dir", "a file now\n");
    let swapped = checkpoint(&repo, "swapped");
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "back");
    // And forward again, from the restore.
    repo.session_ok(&["restore", &swapped]);
    assert_restored(&repo, &swapped, "forward");
}

#[test]
fn ignored_files_are_byte_identical_after_a_restore() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("src/a.txt", "a\n");
    let old = checkpoint(&repo, "old");
    repo.write("src/b.txt", "b\n");
    repo.write("src/debug.log", "ignored beside a removed file\n");
    repo.write(
        "gone/only.log",
        "ignored, alone in a directory the restore empties\n",
    );
    repo.write("gone/tracked.txt", "t\n");
    repo.write("build/out.bin", "ignored directory\n");
    checkpoint(&repo, "more");
    let before = ignored(&repo);
    assert_eq!(before.len(), 3, "test bug: {before:?}");
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    assert_eq!(ignored(&repo), before, "ignored files changed");
    assert!(
        repo.path.join("gone").is_dir(),
        "a directory holding an ignored file stays"
    );
}

#[test]
fn untracked_files_the_restored_ignore_rules_ignore_stay_in_place() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write(".gitignore", "*.log\nbuild/\nnode_modules/\n");
    let old = checkpoint(&repo, "ignores node_modules");
    // The rule goes; what it covered is now just untracked, and the
    // pre-restore checkpoint takes it in.
    repo.write(".gitignore", "*.log\nbuild/\n");
    checkpoint(&repo, "rule dropped");
    repo.write("node_modules/dep/index.js", "module, edited\n");
    let out = repo.session(&["restore", &old]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("left in place: node_modules/dep/index.js"),
        "{}",
        text(&out)
    );
    assert_restored(&repo, &old, "");
    assert_eq!(repo.read("node_modules/dep/index.js"), b"module, edited\n");
}

#[test]
fn an_ignored_file_that_already_holds_the_checkpoints_content_is_not_in_the_way() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("cache.log", "same bytes\n");
    repo.git(&["add", "-f", "cache.log"]);
    let old = checkpoint(&repo, "tracks cache.log");
    repo.git(&["rm", "-q", "--cached", "cache.log"]);
    repo.write("other.txt", "x\n");
    checkpoint(&repo, "untracked it");
    let before = snapshot_work_tree(&repo.path);
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    assert_eq!(
        snapshot_work_tree(&repo.path).get(Path::new("cache.log")),
        before.get(Path::new("cache.log")),
        "not even rewritten"
    );
}

#[test]
fn uncommitted_edits_and_untracked_files_come_back_from_the_pre_restore_checkpoint() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("work.txt", "checkpointed\n");
    let old = checkpoint(&repo, "old");
    repo.write("work.txt", "checkpointed\nand edited, never checkpointed\n");
    repo.write("fresh/untracked.txt", "never checkpointed either\n");
    fs::remove_file(repo.path.join("README.md")).expect("rm");
    symlink("work.txt", repo.path.join("new-link")).expect("symlink");
    let before = contents(&repo.path);
    let head = repo.rev("HEAD");

    let out = repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    let pre = repo.rev("HEAD^");
    assert_eq!(
        repo.rev("HEAD^^"),
        head,
        "one pre-restore checkpoint on the old tip"
    );
    assert!(
        out.contains(&pre[..7]),
        "the output names the pre-restore checkpoint: {out}"
    );
    let reason = repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Session-Reason,valueonly)",
        &pre,
    ]);
    assert_eq!(reason.trim(), "pre-restore");

    repo.session_ok(&["restore", &pre]);
    assert_restored(&repo, &pre, "undo");
    assert_eq!(
        contents(&repo.path),
        before,
        "the work tree before the restore is back"
    );
}

#[test]
fn nothing_changed_means_no_pre_restore_checkpoint() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let old = checkpoint(&repo, "old");
    repo.write("x.txt", "x\n");
    let newest = checkpoint(&repo, "newest");
    repo.session_ok(&["restore", "#2"]);
    assert_restored(&repo, &old, "");
    assert_eq!(
        repo.rev("HEAD^"),
        newest,
        "no pre-restore commit: nothing had changed"
    );
    // Restoring what is already there does nothing at all.
    let before = untouched(&repo);
    let out = repo.session_ok(&["restore", "#1"]);
    assert!(out.contains("nothing to restore"), "{out}");
    assert_untouched(&repo, &before, "restore of the newest with nothing changed");
}

/// What a restore killed after its last file and before its commit leaves:
/// the work tree already the checkpoint's, HEAD the pre-restore checkpoint.
/// Restoring again records the restore instead of saying there is nothing
/// to do.
#[test]
fn a_work_tree_already_at_the_checkpoint_but_not_at_head_is_still_recorded() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("f.txt", "old\n");
    let old = checkpoint(&repo, "old");
    repo.write("f.txt", "new\n");
    repo.write("added.txt", "added\n");
    checkpoint(&repo, "new");
    // Put the old files back by hand, leaving the index and HEAD as they are.
    repo.write("f.txt", "old\n");
    fs::remove_file(repo.path.join("added.txt")).expect("rm");
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    assert_eq!(
        repo.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Session-Reason,valueonly)",
            "HEAD^"
        ])
        .trim(),
        "pre-restore"
    );
}

/// What a restore killed after its commit and before its index leaves:
/// HEAD the restore, the old index on disk. The same restore again puts
/// the index right, so git status is clean.
#[test]
fn the_same_restore_again_after_a_kill_before_the_index_resyncs_the_index() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("f.txt", "old\n");
    let old = checkpoint(&repo, "old");
    repo.write("f.txt", "new\n");
    repo.write("added.txt", "added\n");
    checkpoint(&repo, "new");
    let index = repo.path.join(".git/index");
    let stale = fs::read(&index).expect("read the index");
    repo.session_ok(&["restore", &old]);
    let restored = repo.rev("HEAD");
    fs::write(&index, stale).expect("put the old index back");
    assert!(
        !repo.status().is_empty(),
        "test bug: the old index looks right"
    );
    repo.session_ok(&["restore", &old]);
    assert_eq!(repo.rev("HEAD"), restored, "nothing more to record");
    assert_restored(&repo, &old, "");
}

#[test]
fn hash_n_counts_checkpoints_back_as_log_lists_them() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let mut ids = vec![repo.rev("HEAD")];
    for n in 0..3 {
        repo.write("f.txt", format!("{n}\n"));
        ids.push(checkpoint(&repo, &format!("step {n}")));
    }
    // A plain commit between checkpoints is not counted.
    repo.write("g.txt", "by git\n");
    repo.commit_all("by git");
    let log: Vec<String> = repo
        .session_ok(&["log"])
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    let third = &log[2];
    repo.session_ok(&["restore", "#3"]);
    assert_restored(&repo, &ids[1], "#3");
    assert!(ids[1].starts_with(third.as_str()));
    let too_far = fails(&repo, &["restore", "#40"]);
    assert!(too_far.contains("'#40' names no checkpoint"), "{too_far}");
}

#[test]
fn state_is_the_checkpoints_and_log_and_status_show_the_restore() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.session_ok(&["checkpoint", "-q", "-m", "old", "--decision", "use TOML"]);
    let old = repo.rev("HEAD");
    repo.write("x.txt", "x\n");
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "-m",
        "later",
        "--done",
        "#1",
        "--todo",
        "second",
    ]);
    repo.write("x.txt", "edited\n");
    repo.session_ok(&["restore", "#2"]);
    let show = repo.session_json(&["show"]);
    assert_eq!(show["reason"], "restore");
    assert_eq!(show["restored_from"], old.as_str());
    assert_eq!(show["todo"], serde_json::json!(["first item"]));
    assert_eq!(show["done"], serde_json::json!([]));
    assert_eq!(show["decisions"], serde_json::json!(["use TOML"]));

    let log = repo.session_ok(&["log", "-n", "2"]);
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines[0].contains(" restore ") && lines[0].contains(&format!("restore {}", &old[..7])),
        "{log}"
    );
    assert!(
        lines[1].contains(" pre-restore ") && lines[1].contains("before restoring"),
        "{log}"
    );
    let log_json = repo.session_json(&["log", "-n", "1"]);
    assert_eq!(log_json[0]["restored_from"], old.as_str());

    let status = repo.session_ok(&["status"]);
    assert!(
        status.contains(&format!("a restore of {}", &old[..7]))
            && status.contains(&format!(
                "'git session restore {}' undoes it",
                &repo.rev("HEAD^")[..7]
            )),
        "{status}"
    );
    assert_eq!(
        repo.session_json(&["status"])["checkpoint"]["restored_from"],
        old.as_str()
    );

    // The next checkpoint does not inherit the mark.
    repo.write("y.txt", "y\n");
    repo.session_ok(&["checkpoint", "-q", "-m", "after"]);
    assert_eq!(
        repo.session_json(&["show"])["restored_from"],
        serde_json::Value::Null
    );
}

/// The issue's oracle, in one repository holding both kinds of file no
/// checkpoint has: git diff against the checkpoint is empty, and git status
/// lists nothing but the skipped file (ignored files it does not list).
#[test]
fn git_diff_and_status_are_empty_after_a_restore_except_for_ignored_and_skipped_files() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("src/lib.rs", "old\n");
    let old = checkpoint(&repo, "old");
    repo.write("src/lib.rs", "new\n");
    repo.write("src/new.rs", "new\n");
    repo.write("build/out.bin", "ignored\n");
    repo.write(".env", "SECRET=1\n");
    checkpoint(&repo, "new");
    repo.write("src/lib.rs", "uncommitted\n");
    let ignored_before = ignored(&repo);
    repo.session_ok(&["restore", &old]);
    let skipped: BTreeMap<PathBuf, Entry> = snapshot_work_tree(&repo.path)
        .into_iter()
        .filter(|(path, _)| path == Path::new(".env"))
        .collect();
    assert_eq!(skipped.len(), 1, "the secret is still there");
    assert_restored_but(&repo, &old, &skipped, "");
    assert_eq!(
        differences(&ignored_before, &ignored(&repo)),
        Vec::<String>::new()
    );
}

/// With commits after the newest checkpoint and nothing else changed, no
/// pre-restore is taken: HEAD (a plain commit) holds the work tree, and
/// status names it as the undo, not the checkpoint '#2' would be.
#[test]
fn status_names_the_commit_that_undoes_a_restore_after_plain_commits() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let old = checkpoint(&repo, "old");
    repo.write("by-git.txt", "committed by git\n");
    repo.commit_all("by git");
    let plain = repo.rev("HEAD");
    repo.session_ok(&["restore", &old]);
    assert_eq!(repo.rev("HEAD^"), plain, "the restore follows HEAD");
    let status = repo.session_ok(&["status"]);
    assert!(
        status.contains(&format!("'git session restore {}' undoes it", &plain[..7])),
        "{status}"
    );
    repo.session_ok(&["restore", &plain]);
    assert_eq!(repo.read("by-git.txt"), b"committed by git\n");
}

#[test]
fn skipped_files_are_never_deleted_and_are_reported() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let old = checkpoint(&repo, "old");
    repo.write("new.txt", "new\n");
    repo.write("config/.env", "SECRET=1\n");
    checkpoint(&repo, "with a secret left out");
    let out = repo.session(&["restore", &old]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("left in place: config/.env"),
        "the restore says so: {}",
        text(&out)
    );
    assert_eq!(repo.read("config/.env"), b"SECRET=1\n");
    assert!(!repo.path.join("new.txt").exists());
    assert_eq!(
        repo.rev("HEAD^{tree}"),
        repo.rev(&format!("{old}^{{tree}}"))
    );
    assert_eq!(repo.status(), "?? config/.env\n");
}

#[test]
fn paths_restore_only_those_paths() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("src/a.txt", "a1\n");
    repo.write("src/sub/b.txt", "b1\n");
    repo.write("docs/d.txt", "d1\n");
    let old = checkpoint(&repo, "old");
    repo.write("src/a.txt", "a2\n");
    repo.write("src/new.txt", "new\n");
    fs::remove_file(repo.path.join("src/sub/b.txt")).expect("rm");
    repo.write("docs/d.txt", "d2\n");
    checkpoint(&repo, "later");
    repo.session_ok(&["checkpoint", "-q", "--todo", "kept todo"]);
    // From a subdirectory, a relative path, as git reads it.
    let src = Repo {
        path: repo.path.join("src"),
        home: repo.home.clone(),
    };
    src.session_ok(&["restore", &old, "--", "."]);
    assert_eq!(repo.read("src/a.txt"), b"a1\n");
    assert_eq!(repo.read("src/sub/b.txt"), b"b1\n");
    assert!(!repo.path.join("src/new.txt").exists());
    assert_eq!(
        repo.read("docs/d.txt"),
        b"d2\n",
        "outside the paths: untouched"
    );
    assert!(repo.status().is_empty(), "{}", repo.status());
    assert!(repo
        .git(&["diff", "--exit-code", &old, "--", "src"])
        .is_empty());
    assert!(!repo.git(&["diff", &old, "--", "docs"]).is_empty());
    let show = repo.session_json(&["show"]);
    assert_eq!(show["reason"], "restore");
    assert!(
        show["todo"]
            .as_array()
            .is_some_and(|t| t.iter().any(|i| i == "kept todo")),
        "with paths, the state stays the current one: {show}"
    );
}

/// Paths that match, but are already as the checkpoint has them: no
/// pre-restore and no restore checkpoint of zero files.
#[test]
fn paths_already_as_in_the_checkpoint_write_no_checkpoint() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("same.txt", "same\n");
    let old = checkpoint(&repo, "old");
    repo.write("other.txt", "other\n");
    checkpoint(&repo, "new");
    repo.write("other.txt", "uncommitted\n");
    let before = untouched(&repo);
    let out = repo.session_ok(&["restore", &old, "--", "same.txt"]);
    assert!(out.contains("nothing to restore"), "{out}");
    assert_untouched(&repo, &before, "");
}

#[test]
fn restoring_from_a_subdirectory_keeps_it_when_it_empties() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let old = checkpoint(&repo, "old");
    repo.write("sub/only.txt", "x\n");
    checkpoint(&repo, "sub");
    let sub = Repo {
        path: repo.path.join("sub"),
        home: repo.home.clone(),
    };
    sub.session_ok(&["restore", &old]);
    assert!(
        repo.path.join("sub").is_dir(),
        "the current directory is not removed"
    );
    assert!(!repo.path.join("sub/only.txt").exists());
    assert_eq!(
        repo.rev("HEAD^{tree}"),
        repo.rev(&format!("{old}^{{tree}}"))
    );
}

#[test]
fn dry_run_lists_the_changes_and_touches_nothing() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let old = checkpoint(&repo, "old");
    repo.write("added.txt", "a\n");
    checkpoint(&repo, "added");
    repo.write("README.md", "edited\n");
    let before = untouched(&repo);
    let out = repo.session_ok(&["restore", "--dry-run", &old]);
    assert_untouched(&repo, &before, "dry run");
    assert!(
        out.contains("D added.txt") && out.contains("M README.md"),
        "{out}"
    );
    assert!(out.contains("pre-restore"), "{out}");
    let json = repo.session_json(&["restore", "-n", &old]);
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["restore"], serde_json::Value::Null);
    assert_eq!(json["changes"].as_array().map(Vec::len), Some(2), "{json}");
    assert_untouched(&repo, &before, "dry run --json");
}

#[test]
fn restore_json_names_the_saved_and_the_restore_checkpoints() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let old = checkpoint(&repo, "old");
    repo.write("a.txt", "a\n");
    let json = repo.session_json(&["restore", &old]);
    assert_eq!(json["target"], old.as_str());
    assert_eq!(json["restore"], repo.rev("HEAD").as_str());
    assert_eq!(json["saved"], repo.rev("HEAD^").as_str());
    assert_eq!(json["saved_created"], true);
    assert_eq!(
        json["changes"],
        serde_json::json!([{"path": "a.txt", "status": "D"}])
    );
}

#[test]
fn checkout_filters_and_eol_apply_as_git_checkout_applies_them() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let filter = |r: &Repo| {
        r.git(&["config", "filter.upper.smudge", "tr a-z A-Z"]);
        r.git(&["config", "filter.upper.clean", "tr A-Z a-z"]);
    };
    filter(&repo);
    repo.write(
        ".gitattributes",
        "*.crlf text eol=crlf\n*.up filter=upper\n",
    );
    repo.write("a.crlf", "one\r\ntwo\r\n");
    repo.write("b.up", "SHOUTED\n");
    let old = checkpoint(&repo, "old");
    assert_eq!(
        repo.git(&["cat-file", "-p", &format!("{old}:b.up")]),
        "shouted\n",
        "test bug: the clean filter did not run"
    );
    fs::remove_file(repo.path.join("a.crlf")).expect("rm");
    fs::remove_file(repo.path.join("b.up")).expect("rm");
    fs::remove_file(repo.path.join(".gitattributes")).expect("rm");
    checkpoint(&repo, "removed");
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    // What git itself checks out for the same commit.
    sb.git(&["clone", "-q", "--no-checkout", "r", "oracle"]);
    let oracle = sb.repo("oracle");
    filter(&oracle);
    oracle.git(&["checkout", "-q", &old, "--", "."]);
    for file in ["a.crlf", "b.up"] {
        assert_eq!(repo.read(file), oracle.read(file), "{file}");
    }
    assert_eq!(repo.read("a.crlf"), b"one\r\ntwo\r\n");
    assert_eq!(repo.read("b.up"), b"SHOUTED\n");
}

#[test]
fn core_symlinks_false_restores_a_symlink_as_git_checks_it_out() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    symlink("README.md", repo.path.join("link")).expect("symlink");
    let old = checkpoint(&repo, "old");
    fs::remove_file(repo.path.join("link")).expect("rm");
    checkpoint(&repo, "removed");
    repo.git(&["config", "core.symlinks", "false"]);
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    let meta = fs::symlink_metadata(repo.path.join("link")).expect("lstat");
    assert!(
        meta.is_file(),
        "a plain file holding the target, as git writes it"
    );
    assert_eq!(repo.read("link"), b"README.md");
}

#[test]
fn core_filemode_false_restores_content_and_keeps_the_modes_in_the_tree() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("run.sh", "v1\n");
    fs::set_permissions(repo.path.join("run.sh"), fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let old = checkpoint(&repo, "old");
    repo.write("run.sh", "v2\n");
    checkpoint(&repo, "v2");
    repo.git(&["config", "core.fileMode", "false"]);
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
    assert_eq!(repo.read("run.sh"), b"v1\n");
    assert_eq!(
        repo.git(&["ls-files", "-s", "run.sh"])
            .split_whitespace()
            .next(),
        Some("100755")
    );
}

// ---------------------------------------------------------------------------
// Refusals: the repository exactly as it was

#[test]
fn every_refusal_leaves_the_repository_byte_identical() {
    type Setup = fn(&Sandbox) -> (Repo, Vec<String>, &'static str);
    let cases: Vec<(&str, Setup)> = vec![
        ("an ignored file in the way", |sb| {
            let repo = session(sb);
            repo.write("out.log", "was tracked\n");
            repo.git(&["add", "-f", "out.log"]);
            let old = checkpoint(&repo, "tracks an ignored name");
            repo.git(&["rm", "-q", "--cached", "out.log"]);
            repo.write("out.log", "now ignored, precious\n");
            repo.write("other.txt", "work\n");
            checkpoint(&repo, "untracked it");
            (
                repo,
                vec!["restore".into(), old],
                "out.log: an ignored file in the way",
            )
        }),
        (
            "an ignored file inside a directory that must become a file",
            |sb| {
                let repo = session(sb);
                repo.write("thing", "a file\n");
                let old = checkpoint(&repo, "file");
                fs::remove_file(repo.path.join("thing")).expect("rm");
                repo.write("thing/tracked.txt", "t\n");
                repo.write("thing/cache.log", "ignored\n");
                checkpoint(&repo, "dir");
                (repo, vec!["restore".into(), old], "thing/cache.log")
            },
        ),
        ("a skipped secret in the way", |sb| {
            let repo = session(sb);
            repo.write(".env", "TRACKED=1\n");
            repo.git(&["add", ".env"]);
            repo.git(&["commit", "-q", "-m", "tracked by git"]);
            let old = checkpoint(&repo, "has .env");
            repo.git(&["rm", "-q", "--cached", ".env"]);
            repo.write(".env", "SECRET=2\n");
            repo.git(&["commit", "-q", "-m", "untracked"]);
            checkpoint(&repo, "after");
            (
                repo,
                vec!["restore".into(), old],
                ".env: in the way and in no checkpoint (left out",
            )
        }),
        ("a directory that cannot be written", |sb| {
            let repo = session(sb);
            repo.write("locked/f.txt", "v1\n");
            let old = checkpoint(&repo, "v1");
            repo.write("locked/f.txt", "v2\n");
            checkpoint(&repo, "v2");
            fs::set_permissions(repo.path.join("locked"), fs::Permissions::from_mode(0o555))
                .expect("chmod");
            (
                repo,
                vec!["restore".into(), old],
                "locked: cannot be written",
            )
        }),
        ("a merge in progress", |sb| {
            let repo = crate::bad_input::diverged(sb);
            repo.session_ok(&["checkpoint", "-q", "-m", "on main"]);
            let merge = repo.git_output(&["merge", "-q", "other"]);
            assert!(!merge.status.success(), "test bug: the merge did not stop");
            (
                repo,
                vec!["restore".into(), "HEAD~1".into()],
                "a merge is in progress",
            )
        }),
        ("a path that matches nothing", |sb| {
            let repo = session(sb);
            let old = checkpoint(&repo, "old");
            repo.write("x.txt", "x\n");
            checkpoint(&repo, "x");
            repo.write("x.txt", "uncommitted\n");
            (
                repo,
                vec!["restore".into(), old, "--".into(), "no-such-file".into()],
                "pathspec 'no-such-file' matches no file",
            )
        }),
        ("a rebase in progress", |sb| {
            let repo = crate::bad_input::diverged(sb);
            repo.session_ok(&["checkpoint", "-q", "-m", "on main"]);
            let rebase = repo.git_output(&["rebase", "-q", "other"]);
            assert!(
                !rebase.status.success(),
                "test bug: the rebase did not stop"
            );
            (
                repo,
                vec!["restore".into(), "HEAD~1".into()],
                "a rebase is in progress",
            )
        }),
        ("a cherry-pick in progress", |sb| {
            let repo = crate::bad_input::diverged(sb);
            repo.session_ok(&["checkpoint", "-q", "-m", "on main"]);
            let pick = repo.git_output(&["cherry-pick", "other"]);
            assert!(
                !pick.status.success(),
                "test bug: the cherry-pick did not stop"
            );
            (
                repo,
                vec!["restore".into(), "HEAD~1".into()],
                "a cherry-pick is in progress",
            )
        }),
        ("a bisect in progress", |sb| {
            let repo = session(sb);
            let old = checkpoint(&repo, "old");
            repo.write("x.txt", "x\n");
            checkpoint(&repo, "x");
            repo.git(&["bisect", "start"]);
            (repo, vec!["restore".into(), old], "a bisect is in progress")
        }),
        ("conflicts in the index", |sb| {
            let repo = crate::bad_input::diverged(sb);
            repo.session_ok(&["checkpoint", "-q", "-m", "on main"]);
            let merge = repo.git_output(&["merge", "-q", "other"]);
            assert!(!merge.status.success(), "test bug: the merge did not stop");
            for file in ["MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"] {
                let _ = fs::remove_file(repo.path.join(".git").join(file));
            }
            (
                repo,
                vec!["restore".into(), "HEAD~1".into()],
                "unresolved conflicts",
            )
        }),
        ("a detached HEAD", |sb| {
            let repo = session(sb);
            let old = checkpoint(&repo, "old");
            repo.write("x.txt", "x\n");
            checkpoint(&repo, "x");
            repo.git(&["checkout", "-q", "--detach"]);
            (repo, vec!["restore".into(), old], "HEAD is detached")
        }),
        ("a checkpoint on another branch", |sb| {
            let repo = session(sb);
            repo.git(&["checkout", "-q", "-b", "elsewhere"]);
            repo.write("x.txt", "x\n");
            let other = checkpoint(&repo, "on elsewhere");
            repo.git(&["checkout", "-q", "main"]);
            (
                repo,
                vec!["restore".into(), other],
                "not in the history of branch 'main'",
            )
        }),
        ("an unknown revision", |sb| {
            let repo = session(sb);
            (
                repo,
                vec!["restore".into(), "no-such-rev".into()],
                "unknown revision",
            )
        }),
        ("#N past the oldest checkpoint", |sb| {
            let repo = session(sb);
            (
                repo,
                vec!["restore".into(), "#9".into()],
                "'#9' names no checkpoint",
            )
        }),
        ("a FIFO where a tracked file was", |sb| {
            let repo = session(sb);
            repo.write("pipe", "a file\n");
            let old = checkpoint(&repo, "old");
            fs::remove_file(repo.path.join("pipe")).expect("rm");
            let made = std::process::Command::new("mkfifo")
                .arg(repo.path.join("pipe"))
                .status()
                .expect("mkfifo");
            assert!(made.success());
            (repo, vec!["restore".into(), old], "named pipe")
        }),
    ];
    for (name, setup) in cases {
        let sb = Sandbox::new();
        let (repo, args, expected) = setup(&sb);
        let locked = repo.path.join("locked");
        if locked.exists() && fs::write(locked.join("probe"), "").is_ok() {
            // Running as root: permissions do not stop a write, an
            // immutable directory does (where the file system has them).
            let _ = fs::remove_file(locked.join("probe"));
            if !chattr(&locked, "+i") {
                eprintln!("skipped '{name}': nothing stops this user writing a directory");
                continue;
            }
        }
        let before = untouched(&repo);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = fails(&repo, &args);
        assert!(
            out.contains(expected),
            "{name}: expected '{expected}' in:\n{out}"
        );
        assert!(out.contains("hint:"), "{name}: no hint:\n{out}");
        assert_untouched(&repo, &before, name);
        if locked.exists() {
            chattr(&locked, "-i");
            let _ = fs::set_permissions(&locked, fs::Permissions::from_mode(0o755));
        }
    }
}

/// `chattr FLAG path`; false where it cannot be set.
fn chattr(path: &Path, flag: &str) -> bool {
    std::process::Command::new("chattr")
        .arg(flag)
        .arg(path)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_refused_restore_lists_every_path_in_the_way() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("a.log", "tracked\n");
    repo.write("b.log", "tracked\n");
    repo.git(&["add", "-f", "a.log", "b.log"]);
    let old = checkpoint(&repo, "old");
    repo.git(&["rm", "-q", "--cached", "a.log", "b.log"]);
    repo.write("a.log", "ignored now, and changed\n");
    repo.write("b.log", "ignored now, and changed\n");
    repo.write("x.txt", "x\n");
    checkpoint(&repo, "untracked");
    let out = fails(&repo, &["restore", &old]);
    assert!(
        out.contains("2 paths in the way") && out.contains("a.log") && out.contains("b.log"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------
// Random trees

/// One seed: the differential generator's base, four rounds of random
/// changes each checkpointed, one more left uncommitted, then a restore of
/// a random earlier checkpoint, checked by git, and its undo. Returns
/// whether the restore went through (false: refused, with the repository
/// untouched and a path named).
fn random_restore(seed: u64) -> bool {
    let mut rng = Rng::new(seed);
    let mut t = Twins::new(seed);
    build_base(&mut t, &mut rng, true);
    t.a.session_ok(&["start", "-q", "random task"]);
    let mut checkpoints = vec![t.a.rev("HEAD")];
    let staging = seed.is_multiple_of(3);
    for round in 0..4 {
        mutate_many(&mut t, &mut rng, staging);
        let out =
            t.a.session(&["checkpoint", "-q", "-m", &format!("round {round}")]);
        assert!(
            out.status.success(),
            "checkpoint: {}\n{}",
            text(&out),
            t.context()
        );
        checkpoints.push(t.a.rev("HEAD"));
        // Copy B follows with git (the differential tests prove that a
        // checkpoint records what `git add -A` and a commit do), so the
        // copies' indexes stay equal for the generator's index operations.
        t.b.git(&["add", "-A"]);
        t.b.git(&["commit", "-q", "--allow-empty", "-m", "x"]);
    }
    mutate_many(&mut t, &mut rng, staging);
    let ctx = t.context();
    let repo = &t.a;
    let target = checkpoints[rng.below(checkpoints.len())].clone();
    let ctx = format!("restore {target}; {ctx}");
    let ignored_before = ignored(repo);
    let before = untouched(repo);
    let contents_before = contents(&repo.path);
    let head = repo.rev("HEAD");

    let out = repo.session(&["restore", &target]);
    if !out.status.success() {
        let message = text(&out);
        assert!(message.contains("in the way"), "{message}\n{ctx}");
        assert_untouched(repo, &before, &ctx);
        return false;
    }
    assert_restored_but(repo, &target, &ignored_before, &ctx);
    let ignored_after: BTreeMap<PathBuf, Entry> = snapshot_work_tree(&repo.path)
        .into_iter()
        .filter(|(path, _)| ignored_before.contains_key(path))
        .collect();
    let changed = differences(&ignored_before, &ignored_after);
    assert!(
        changed.is_empty(),
        "ignored files changed:\n  {}\n{ctx}",
        changed.join("\n  ")
    );
    let saved = if repo.rev("HEAD^") == head {
        head.clone()
    } else {
        assert_eq!(repo.rev("HEAD^^"), head, "{ctx}");
        repo.rev("HEAD^")
    };

    // The undo: the work tree as it was, every file and symlink with its
    // content and exec bit (ignored files included: never touched). But
    // an ignored file the restored checkpoint holds byte for byte became
    // tracked by the restore, and the undo removes it like any tracked
    // file it lacks (it is in the undo's pre-restore checkpoint).
    let in_target = repo.git(&["ls-tree", "-r", "-z", "--name-only", &target]);
    let adopted: Vec<PathBuf> = in_target
        .split('\0')
        .map(PathBuf::from)
        .filter(|path| ignored_before.contains_key(path))
        .collect();
    let out = repo.session(&["restore", &saved]);
    assert!(out.status.success(), "undo: {}\n{ctx}", text(&out));
    assert_restored_but(repo, &saved, &ignored_before, &format!("undo; {ctx}"));
    let without = |mut map: BTreeMap<PathBuf, String>| {
        for path in &adopted {
            map.remove(path);
        }
        map
    };
    let changed = differences(&without(contents_before), &without(contents(&repo.path)));
    assert!(
        changed.is_empty(),
        "the undo did not bring the work tree back:\n  {}\n{ctx}",
        changed.join("\n  ")
    );
    true
}

#[test]
fn random_trees_restored_from_random_earlier_checkpoints() {
    let mut restored = 0;
    let mut failures = Vec::new();
    // 12 seeds by default; GIT_SESSION_RESTORE_SEEDS=N runs seeds 0..N.
    let total: u64 = std::env::var("GIT_SESSION_RESTORE_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12);
    let seeds = 0..total;
    for seed in seeds {
        match std::panic::catch_unwind(|| random_restore(seed)) {
            Ok(true) => restored += 1,
            Ok(false) => {}
            Err(_) => failures.push(seed),
        }
    }
    eprintln!("{restored} of {total} seeds restored, the others refused");
    assert!(
        failures.is_empty(),
        "seeds failed (details above): {failures:?}"
    );
    // Not vacuous: most seeds restore rather than refuse.
    assert!(
        restored * 3 >= total * 2,
        "only {restored} of {total} seeds restored"
    );
}

// ---------------------------------------------------------------------------
// diff

#[test]
fn diff_shows_files_and_the_state_change_between_checkpoints() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("a.txt", "one\n");
    repo.session_ok(&["checkpoint", "-q", "-m", "a", "--todo", "dropped item"]);
    let a = repo.rev("HEAD");
    repo.write("a.txt", "two\n");
    repo.write("b.txt", "b\n");
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "-m",
        "b",
        "--done",
        "first item",
        "--todo",
        "new item",
        "--decision",
        "keep it small",
    ]);
    let b = repo.rev("HEAD");
    let out = repo.session_ok(&["diff", &a, &b]);
    let git = repo.git(&["diff", &format!("{a}^{{tree}}"), &format!("{b}^{{tree}}")]);
    assert!(
        out.ends_with(&git),
        "the patch is git's:\n{out}\n---\n{git}"
    );
    assert!(out.contains("done: first item"), "{out}");
    assert!(out.contains("added: new item"), "{out}");
    assert!(out.contains("decision: keep it small"), "{out}");

    let stat = repo.session_ok(&["diff", "#2", "#1", "--stat"]);
    assert!(
        stat.contains("a.txt") && stat.contains("2 files changed"),
        "{stat}"
    );

    let json = repo.session_json(&["diff", &a, &b]);
    assert_eq!(json["from"]["commit"], a.as_str());
    assert_eq!(
        json["files"],
        serde_json::json!([
            {"path": "a.txt", "status": "M", "added": 1, "deleted": 1},
            {"path": "b.txt", "status": "A", "added": 1, "deleted": 0},
        ])
    );
    assert_eq!(json["state"]["done"], serde_json::json!(["first item"]));
    assert_eq!(
        json["state"]["decisions"],
        serde_json::json!(["keep it small"])
    );
    assert_eq!(json["patch"], git.as_str());
}

#[test]
fn diff_of_the_work_tree_includes_untracked_files_and_leaves_out_skipped_ones() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    checkpoint(&repo, "base");
    repo.write("README.md", "changed\n");
    repo.write("untracked.txt", "new\n");
    repo.write(".env", "SECRET=1\n");
    repo.write("x.log", "ignored\n");
    let before = untouched(&repo);
    let out = repo.session_ok(&["diff"]);
    assert!(
        out.contains("+++ b/untracked.txt") && out.contains("+changed"),
        "{out}"
    );
    assert!(!out.contains(".env") && !out.contains("x.log"), "{out}");
    // Paths limit it, as for git.
    let only = repo.session_ok(&["diff", "--", "README.md"]);
    assert!(
        only.contains("README.md") && !only.contains("untracked"),
        "{only}"
    );
    assert_untouched(&repo, &before, "diff writes no ref, index or file");
    // After a checkpoint there is nothing to show.
    checkpoint(&repo, "all");
    assert_eq!(repo.session_ok(&["diff"]), "");
}

#[test]
fn diff_across_a_restore_shows_the_items_it_reopened() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    let old = checkpoint(&repo, "first item open");
    repo.write("x.txt", "x\n");
    repo.session_ok(&["checkpoint", "-q", "-m", "done", "--done", "first item"]);
    let done = repo.rev("HEAD");
    repo.session_ok(&["restore", &old]);
    let out = repo.session_ok(&["diff", &done, "HEAD"]);
    assert!(out.contains("reopened: first item"), "{out}");
    assert!(out.contains("deleted file mode"), "{out}");
    let json = repo.session_json(&["diff", &done, "HEAD"]);
    assert_eq!(json["state"]["reopened"], serde_json::json!(["first item"]));
    assert_eq!(json["files"][0]["status"], "D");
}

/// A write that fails after the checks (an immutable file, which rename
/// cannot replace and no directory permission shows): the error names the
/// pre-restore checkpoint, which brings the work tree back; once the cause
/// is gone the same restore finishes.
#[test]
fn a_write_that_fails_midway_names_the_pre_restore_checkpoint_that_brings_the_work_tree_back() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("a.txt", "a1\n");
    repo.write("z.txt", "z1\n");
    let old = checkpoint(&repo, "old");
    repo.write("a.txt", "a2\n");
    repo.write("z.txt", "z2\n");
    checkpoint(&repo, "new");
    repo.write("a.txt", "uncommitted\n");
    let before = contents(&repo.path);
    let stuck = repo.path.join("z.txt");
    if !chattr(&stuck, "+i") {
        eprintln!("skipped: this file system cannot make a file immutable");
        return;
    }
    let out = repo.session(&["restore", &old]);
    chattr(&stuck, "-i");
    assert!(!out.status.success(), "{}", text(&out));
    let message = text(&out);
    let saved = repo.rev("HEAD");
    assert_eq!(
        repo.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Session-Reason,valueonly)"
        ])
        .trim(),
        "pre-restore"
    );
    assert!(
        message.contains("stopped midway")
            && message.contains(&format!("git session restore {}", &saved[..7])),
        "{message}"
    );
    assert_eq!(repo.read("a.txt"), b"a1\n", "written before z.txt failed");
    repo.fsck();
    // The way back the error names.
    repo.session_ok(&["restore", &saved]);
    assert_eq!(
        differences(&before, &contents(&repo.path)),
        Vec::<String>::new()
    );
    // And forward again, now that the file can be replaced.
    repo.session_ok(&["restore", &old]);
    assert_restored(&repo, &old, "");
}

// ---------------------------------------------------------------------------
// What people see

/// Snapshot `args` run in `repo` as `name` (the whole transcript).
fn snapshot(name: &str, sb: &Sandbox, repo: &Repo, args: &[&str]) {
    let out = repo.session(args);
    insta::with_settings!({
        description => format!("git session {}", args.join(" ")),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, transcript(&out, sb));
    });
}

/// The human output of a restore and of what shows it afterwards: the dry
/// run, the restore, log, status, diff across it, and a refusal.
#[test]
fn restore_and_diff_output_as_people_see_it() {
    let sb = Sandbox::new();
    let repo = session(&sb);
    repo.write("src/app.rs", "fn main() {}\n");
    repo.session_ok(&["checkpoint", "-q", "-m", "the app", "--todo", "tests"]);
    repo.write("src/app.rs", "fn main() { run() }\n");
    repo.write("src/run.rs", "pub fn run() {}\n");
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "-m",
        "run it",
        "--done",
        "tests",
        "--decision",
        "one binary",
    ]);
    repo.write("notes.txt", "uncommitted\n");
    snapshot(
        "restore_dry_run",
        &sb,
        &repo,
        &["restore", "--dry-run", "#2"],
    );
    snapshot("restore", &sb, &repo, &["restore", "#2"]);
    snapshot("restore_log", &sb, &repo, &["log"]);
    snapshot("restore_status", &sb, &repo, &["status"]);
    snapshot("diff_across_a_restore", &sb, &repo, &["diff", "#3", "#1"]);
    snapshot("diff_stat", &sb, &repo, &["diff", "#3", "#1", "--stat"]);
    // A refusal: an ignored file where the checkpoint has a tracked one.
    repo.write("out.log", "tracked once\n");
    repo.git(&["add", "-f", "out.log"]);
    let tracked = checkpoint(&repo, "tracks out.log");
    repo.git(&["rm", "-q", "--cached", "out.log"]);
    repo.write("out.log", "precious\n");
    checkpoint(&repo, "untracked it");
    snapshot("restore_refused", &sb, &repo, &["restore", &tracked]);
}
