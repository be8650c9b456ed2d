//! Repository shapes and settings agents meet in CI and sandboxes (issue
//! 23): shallow and partial clones, sparse indexes, linked worktrees,
//! shared repositories, names git refuses, a `git gc` running alongside.
//! Each is checked against git wherever git can answer the same question.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::hostile::{
    assert_tree_matches_git, checkpoint_ok, git_add_all_tree, git_dir, ls_tree, run_unprivileged,
};
use crate::support::{isolate, text, Repo, Sandbox, BIN};

/// `git add -A -- . ':(exclude)X'…` then `git write-tree`, on a copy of the
/// index: what git records when told to leave `excluded` out.
fn git_tree_without(repo: &Repo, excluded: &[&str]) -> String {
    let scratch = git_dir(repo).join("index.without");
    fs::copy(git_dir(repo).join("index"), &scratch).expect("copy the index");
    let run = |args: &[String]| {
        let out = repo
            .git_command()
            .env("GIT_INDEX_FILE", &scratch)
            .args(args)
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let mut add: Vec<String> = ["add", "-A", "--", "."].map(String::from).to_vec();
    add.extend(excluded.iter().map(|p| format!(":(exclude,literal){p}")));
    run(&add);
    let tree = run(&["write-tree".to_string()]);
    fs::remove_file(&scratch).expect("rm scratch index");
    tree
}

/// The `skipped` list of the newest checkpoint: (path, reason), sorted.
fn skipped(repo: &Repo) -> Vec<(String, String)> {
    let show = repo.session_json(&["show"]);
    let mut list: Vec<(String, String)> = show["skipped"]
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
    list.sort();
    list
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------
// Shallow and partial clones

/// A branch with a few plain commits, then a session of two checkpoints,
/// then two more plain commits: `origin` for the clones below.
fn origin_with_a_session(sb: &Sandbox) -> Repo {
    let origin = sb.init("origin");
    for i in 0..3 {
        origin.write(&format!("f{i}.txt"), format!("{i}\n"));
        origin.commit_all(&format!("plain {i}"));
    }
    origin.session_ok(&["start", "the shallow task"]);
    origin.write("f0.txt", "changed\n");
    origin.session_ok(&["checkpoint", "-m", "work", "--todo", "finish it"]);
    for i in 0..2 {
        origin.write(&format!("after{i}.txt"), "after\n");
        origin.commit_all(&format!("after {i}"));
    }
    origin
}

/// `git clone --depth 1` (CI and sandbox checkouts): `checkpoint`, `log`
/// and `resume` stop at the shallow boundary as git's own walks do instead
/// of failing with "object not found"; no checkpoint within the shallow
/// history is simply "no checkpoint yet"; a deeper clone finds the one the
/// history has.
#[test]
fn shallow_clone_checkpoints_logs_and_resumes() {
    let sb = Sandbox::new();
    let origin = origin_with_a_session(&sb);
    let url = format!("file://{}", origin.path.display());
    sb.git(&["clone", "-q", "--depth", "1", &url, "shallow"]);
    let repo = sb.repo("shallow");
    assert!(
        git_dir(&repo).join("shallow").exists(),
        "premise: a shallow clone"
    );

    for args in [&["resume"][..], &["show"]] {
        let out = repo.session(args);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {all}");
        assert!(
            all.contains("no checkpoint found") && !all.contains("could not be found"),
            "{args:?}: {all}"
        );
    }
    let log = repo.session(&["log"]);
    assert!(log.status.success(), "{}", text(&log));

    repo.write("new.txt", "new in the shallow clone\n");
    let git_tree = git_add_all_tree(&repo).expect("git add -A");
    checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &git_tree, "shallow clone");
    let log = repo.session_ok(&["log"]);
    assert_eq!(log.lines().count(), 1, "{log}");
    let resume = repo.session_ok(&["resume"]);
    assert!(resume.contains("new.txt"), "{resume}");
    repo.write("new.txt", "again\n");
    checkpoint_ok(&repo);
    assert_eq!(repo.session_ok(&["log"]).lines().count(), 2);
    assert!(repo.status().is_empty(), "{}", repo.status());
    repo.fsck();

    // Deep enough to hold the session's checkpoint: found through the
    // boundary-free part of the history.
    sb.git(&["clone", "-q", "--depth", "3", &url, "deeper"]);
    let deeper = sb.repo("deeper");
    let show = deeper.session_json(&["show"]);
    assert_eq!(show["task"], "the shallow task", "{show}");
    let resume = deeper.session_ok(&["resume"]);
    assert!(resume.contains("finish it"), "{resume}");
}

/// Missing objects in a partial clone, as `git rev-list --missing=print`
/// lists them (it fetches nothing).
fn missing_objects(repo: &Repo, rev: &str) -> Vec<String> {
    repo.git(&["rev-list", "--objects", "--missing=print", rev])
        .lines()
        .filter(|l| l.starts_with('?'))
        .map(str::to_string)
        .collect()
}

/// `resume origin/feat` in a `--filter=blob:none` clone, where the
/// branch's new blobs were never fetched: the prompt lists the changed
/// files from the trees (renames by id when similarity would need a
/// missing blob), with line counts where both blobs are present, fetches
/// nothing and never fails over a missing blob.
#[test]
fn partial_clone_resume_of_remote_branch_without_blobs() {
    let sb = Sandbox::new();
    let origin = sb.init("origin");
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    origin.write("a.txt", "a\nb\n");
    origin.write("keep.txt", "kept as it is\n");
    let big: String = (1..=50).map(|i| format!("line {i}\n")).collect();
    origin.write("big.txt", &big);
    origin.commit_all("base");
    origin.git(&["switch", "-q", "-c", "feat"]);
    origin.session_ok(&["start", "the partial task"]);
    origin.write("a.txt", "a\nB\nc\n");
    origin.write("n.txt", "new\n");
    origin.git(&["mv", "keep.txt", "kept.txt"]);
    fs::remove_file(origin.path.join("big.txt")).expect("rm");
    origin.write("moved.txt", format!("{big}line 51\n"));
    origin.session_ok(&["checkpoint", "-m", "work"]);
    origin.git(&["switch", "-q", "main"]);

    let url = format!("file://{}", origin.path.display());
    sb.git(&["clone", "-q", "--filter=blob:none", &url, "partial"]);
    let repo = sb.repo("partial");
    let missing = missing_objects(&repo, "origin/feat");
    assert!(
        !missing.is_empty(),
        "premise: the branch's new blobs are not here"
    );

    let out = repo.session(&["resume", "origin/feat", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("resume JSON");
    let files: Vec<(String, String, bool)> = json["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["status"].as_str().unwrap_or_default().to_string(),
                !f["added"].is_null(),
            )
        })
        .collect();
    let paths: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    for path in ["a.txt", "n.txt", "kept.txt", "moved.txt"] {
        assert!(paths.contains(&path), "{path} missing from {files:?}");
    }
    // The exact rename needs no blob: found, with counts (both present).
    assert!(
        files
            .iter()
            .any(|f| f.0 == "kept.txt" && f.1 == "renamed" && f.2),
        "{files:?}"
    );
    // a.txt's new blob is missing: no counts, but listed.
    assert!(
        files
            .iter()
            .any(|f| f.0 == "a.txt" && f.1 == "modified" && !f.2),
        "{files:?}"
    );
    assert_eq!(
        missing_objects(&repo, "origin/feat"),
        missing,
        "resume fetched objects"
    );
    let text_out = repo.session_ok(&["resume", "origin/feat"]);
    assert!(
        text_out.contains("the partial task") && text_out.contains("n.txt"),
        "{text_out}"
    );
}

// ---------------------------------------------------------------------------
// Index shapes

/// A submodule's gitlink replaced by a plain file, then by a symlink: the
/// index gets one stage-0 entry for the path (not two), so `git fsck` is
/// clean and `git status` shows nothing staged; the tree is git's.
#[test]
fn gitlink_replaced_by_file_or_symlink_has_one_index_entry() {
    let sb = Sandbox::new();
    let sub = sb.init("sub");
    sub.write("s.txt", "s\n");
    sub.commit_all("sub");
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        "../sub",
        "sub",
    ]);
    repo.commit_all("base");
    assert_eq!(
        repo.git(&["ls-files", "-s", "sub"])
            .split(' ')
            .next()
            .unwrap_or_default(),
        "160000",
        "premise: a gitlink"
    );

    fs::remove_dir_all(repo.path.join("sub")).expect("rm the submodule");
    repo.write("sub", "now a file\n");
    let git_tree = git_add_all_tree(&repo).expect("git add -A");
    checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &git_tree, "gitlink → file");
    let entries = repo.git(&["ls-files", "-s", "--", "sub"]);
    assert_eq!(entries.lines().count(), 1, "{entries}");
    assert!(entries.starts_with("100644 "), "{entries}");
    repo.fsck();
    assert!(repo.status().is_empty(), "{}", repo.status());

    // And back to a gitlink, then a symlink in its place.
    repo.git(&["rm", "-q", "--cached", "sub"]);
    fs::remove_file(repo.path.join("sub")).expect("rm");
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        "-f",
        "../sub",
        "sub",
    ]);
    repo.commit_all("gitlink again");
    fs::remove_dir_all(repo.path.join("sub")).expect("rm the submodule");
    std::os::unix::fs::symlink("a.txt", repo.path.join("sub")).expect("symlink");
    let git_tree = git_add_all_tree(&repo).expect("git add -A");
    checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &git_tree, "gitlink → symlink");
    let entries = repo.git(&["ls-files", "-s", "--", "sub"]);
    assert_eq!(entries.lines().count(), 1, "{entries}");
    assert!(entries.starts_with("120000 "), "{entries}");
    repo.fsck();
    assert!(repo.status().is_empty(), "{}", repo.status());
    let status = repo.session_ok(&["status"]);
    assert!(status.contains("No changes"), "{status}");
}

/// `git sparse-checkout set --cone --sparse-index`: the index holds whole
/// directories as single entries, which gix cannot diff. Checkpoints work
/// on that form: the tree is git's, files outside the cone stay in it, the
/// index stays sparse and clean, and work-tree files in a sparse directory
/// (which `git add -A` will not add) are left out with a warning.
#[test]
fn sparse_index_checkpoints_and_keeps_files_outside_the_cone() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("in/i.txt", "in\n");
    repo.write("out/o.txt", "out\n");
    repo.write("out/deep/d.txt", "deep\n");
    repo.write("top.txt", "top\n");
    repo.commit_all("base");
    repo.git(&["sparse-checkout", "set", "--cone", "--sparse-index", "in"]);
    let sparse = || repo.git(&["ls-files", "--sparse"]);
    assert!(
        sparse().lines().any(|l| l == "out/"),
        "premise: a sparse index: {}",
        sparse()
    );

    repo.write("in/i.txt", "changed in the cone\n");
    repo.write("in/new.txt", "new\n");
    repo.write("top.txt", "top changed\n");
    let git_tree = git_add_all_tree(&repo).expect("git add -A");
    checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &git_tree, "sparse index");
    for kept in ["out/o.txt", "out/deep/d.txt"] {
        assert!(
            repo.git_output(&["cat-file", "-e", &format!("HEAD:{kept}")])
                .status
                .success(),
            "{kept} was dropped from the tree"
        );
    }
    assert!(sparse().lines().any(|l| l == "out/"), "{}", sparse());
    assert!(repo.status().is_empty(), "{}", repo.status());
    repo.fsck();

    // Again, on the cache-tree's fast path.
    repo.write("in/i.txt", "once more\n");
    let git_tree = git_add_all_tree(&repo).expect("git add -A");
    checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &git_tree, "sparse index, second checkpoint");
    let status = repo.session_ok(&["status"]);
    assert!(status.contains("No changes"), "{status}");

    // A file in a sparse directory: git add -A leaves it out, and so do we,
    // saying so.
    repo.write("out/stray.txt", "stray\n");
    repo.write("in/i.txt", "and again\n");
    let out = repo.session(&["checkpoint", "-m", "stray"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .any(|l| l.starts_with("warning: 'out/'") && l.contains("sparse-checkout")),
        "{}",
        text(&out)
    );
    assert!(!repo
        .git_output(&["cat-file", "-e", "HEAD:out/stray.txt"])
        .status
        .success());
    assert_eq!(repo.git(&["show", "HEAD:in/i.txt"]), "and again\n");
    repo.fsck();
}

/// Names git refuses to put in its index ("invalid path"): a `.git`
/// component in any spelling NTFS takes for `.git` (core.protectNTFS is on
/// by default everywhere: `.git\hooks\post-checkout`, `.GIT/`, `git~1/`,
/// `.git. /`), and with core.protectHFS the HFS+ spellings (`.g\u{200c}it`).
/// `git add -A` refuses the whole add over one of them; a checkpoint
/// leaves them out with an `invalid-path` skip, commits the rest (the tree
/// git writes when told to leave them out), and `fsck --strict` is clean.
#[test]
fn names_git_refuses_are_left_out_and_reported() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    let refused = [
        ".git\\hooks\\post-checkout",
        ".GIT/config",
        "git~1/x",
        "sub/.git. /y",
        "sub\\.git\\z",
    ];
    for path in refused {
        repo.write(path, "#!/bin/sh\necho pwned\n");
    }
    repo.write("ok.txt", "fine\n");
    let git = git_add_all_tree(&repo);
    assert!(
        git.as_ref().is_err_and(|e| e.contains("invalid path")),
        "premise: git add -A refuses: {git:?}"
    );
    let dirs = [".GIT", "git~1", "sub/.git. "];
    let oracle = git_tree_without(
        &repo,
        &[
            ".git\\hooks\\post-checkout",
            dirs[0],
            dirs[1],
            dirs[2],
            "sub\\.git\\z",
        ],
    );

    let stderr = checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &oracle, "refused names left out");
    assert_eq!(repo.git(&["show", "HEAD:ok.txt"]), "fine\n");
    assert_eq!(
        skipped(&repo),
        pairs(&[
            (".GIT/config", "invalid-path"),
            (".git\\hooks\\post-checkout", "invalid-path"),
            ("git~1/x", "invalid-path"),
            ("sub/.git. /y", "invalid-path"),
            ("sub\\.git\\z", "invalid-path"),
        ])
    );
    assert!(
        stderr.contains("'.git\\hooks\\post-checkout'") || stderr.contains(".git\\hooks"),
        "{stderr}"
    );
    repo.fsck();
    let status = repo.session_ok(&["status"]);
    assert!(status.contains(".GIT/config"), "{status}");

    // core.protectHFS=true: the HFS+ spelling is refused too, as git does
    // (fsck --strict rejects it whatever the setting).
    for path in [".git\\hooks\\post-checkout", "sub\\.git\\z"] {
        fs::remove_file(repo.path.join(path)).expect("rm");
    }
    for dir in dirs {
        fs::remove_dir_all(repo.path.join(dir)).expect("rm");
    }
    repo.git(&["config", "core.protectHFS", "true"]);
    repo.write("hfs/.g\u{200c}it/w", "refused with core.protectHFS\n");
    repo.write("ok.txt", "still fine\n");
    let git = git_add_all_tree(&repo);
    assert!(
        git.as_ref()
            .is_err_and(|e| e.contains("invalid path 'hfs/.g")),
        "premise: {git:?}"
    );
    let oracle = git_tree_without(&repo, &["hfs"]);
    checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &oracle, "core.protectHFS");
    assert_eq!(
        skipped(&repo),
        pairs(&[("hfs/.g\u{200c}it/w", "invalid-path")])
    );
    repo.fsck();
}

// ---------------------------------------------------------------------------
// Linked worktrees and crash safety

fn wait_for_record(record: &Path, index_lock: &Path, child: &mut Child) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let recorded = fs::read_to_string(record).is_ok_and(|t| {
            t.lines().any(|l| {
                l.starts_with("index-lock ")
                    && !l.starts_with("index-lock-path")
                    && !l.ends_with(" trying")
                    && !l.ends_with(" busy")
            })
        });
        if recorded && index_lock.exists() {
            return true;
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    false
}

/// A checkpoint killed in a linked worktree while it holds that worktree's
/// `index.lock`, then a checkpoint in the main worktree: the shared holder
/// record names the linked worktree's `index.lock`, so the main
/// worktree's run removes it (it is the dead holder's, by identity) before
/// it writes its own record, instead of leaving it for a person.
#[test]
fn linked_worktree_kill_leaves_no_lock_for_the_main_worktree() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    for d in 0..20 {
        for f in 0..100 {
            repo.write(&format!("d{d:02}/f{f:03}.txt"), format!("{d} {f}\n"));
        }
    }
    repo.commit_all("base");
    repo.git(&["repack", "-adq"]);
    repo.git(&["worktree", "add", "-q", "-b", "side", "../wt"]);
    let wt = sb.repo("wt");
    let wt_lock = git_dir(&wt).join("index.lock");
    let record = git_dir(&repo).join("session/checkpoint.holder");
    let mut killed = false;
    for attempt in 0..50 {
        for k in 0..30 {
            wt.write(
                &format!("d{:02}/f{k:03}.txt", attempt % 20),
                format!("round {attempt} {k}\n"),
            );
        }
        let mut child = wt
            .session_command()
            .args(["checkpoint", "-q", "-m", "to be killed"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let seen = wait_for_record(&record, &wt_lock, &mut child);
        let _ = child.kill();
        let _ = child.wait();
        if seen && wt_lock.exists() {
            killed = true;
            break;
        }
        wt.session_ok(&["checkpoint", "-q", "-m", "retry"]);
    }
    assert!(killed, "could not kill a checkpoint holding its index.lock");

    repo.write("main.txt", "in the main worktree\n");
    checkpoint_ok(&repo);
    assert!(
        !wt_lock.exists(),
        "the dead holder's index.lock in the linked worktree was left behind"
    );
    let expected = git_add_all_tree(&wt).expect("git add -A");
    checkpoint_ok(&wt);
    assert_tree_matches_git(&wt, &expected, "linked worktree after the kill");
    repo.fsck();
}

// ---------------------------------------------------------------------------
// Settings git reads its own way

/// Relative `core.excludesFile` and `core.attributesFile` name files at the
/// top of the work tree (git runs from there): from a subdirectory, an
/// ignored file stays out and an eol attribute applies, as with git.
#[test]
fn relative_excludes_and_attributes_files_from_a_subdirectory() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("my-ignore", "*.log\n");
    repo.write("my-attributes", "*.txt eol=crlf\n");
    repo.git(&["config", "core.excludesFile", "my-ignore"]);
    repo.git(&["config", "core.attributesFile", "my-attributes"]);
    repo.write("sub/x.log", "ignored\n");
    repo.write("sub/t.txt", "l1\r\nl2\r\n");
    let sub = Repo {
        path: repo.path.join("sub"),
        home: repo.home.clone(),
    };
    let git_tree = git_add_all_tree(&sub).expect("git add -A");
    checkpoint_ok(&sub);
    assert_tree_matches_git(&repo, &git_tree, "relative files from a subdirectory");
    assert!(!repo
        .git_output(&["cat-file", "-e", "HEAD:sub/x.log"])
        .status
        .success());
    assert_eq!(repo.git(&["show", "HEAD:sub/t.txt"]), "l1\nl2\n");
    assert!(repo.status().is_empty(), "{}", repo.status());
}

/// `core.precomposeUnicode=true` outside macOS, where git ignores it: a
/// file named in decomposed form (NFD) is committed under its name as git
/// commits it, not dropped without a word.
#[cfg(not(target_os = "macos"))]
#[test]
fn precompose_unicode_keeps_nfd_names() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.git(&["config", "core.precomposeUnicode", "true"]);
    let nfd = "e\u{301}.txt";
    repo.write(nfd, "decomposed\n");
    repo.write("\u{e9}-composed.txt", "composed\n");
    let git_tree = git_add_all_tree(&repo).expect("git add -A");
    checkpoint_ok(&repo);
    assert_tree_matches_git(&repo, &git_tree, "core.precomposeUnicode");
    assert!(ls_tree(&repo, "HEAD").iter().any(|e| e.3 == nfd.as_bytes()));
    assert!(skipped(&repo).is_empty());
    assert!(repo.status().is_empty(), "{}", repo.status());
}

// ---------------------------------------------------------------------------
// Permissions

/// One directory the user may not read (mode 000), untracked, and another
/// holding a tracked file: `git add -A` warns and commits the rest; so
/// does a checkpoint, reporting each directory as an `unreadable` skip;
/// the tracked file keeps its recorded content.
#[test]
fn unreadable_directory_is_skipped_and_the_rest_committed() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.write("tracked/t.txt", "t\n");
    repo.commit_all("base");
    repo.write("a.txt", "changed\n");
    repo.write("new.txt", "new\n");
    repo.write("tracked/t.txt", "changed behind the lock\n");
    repo.write("locked/inner/secret.txt", "cannot be read\n");
    repo.write("deep/ok/fine.txt", "fine\n");
    for dir in ["locked", "tracked"] {
        fs::set_permissions(repo.path.join(dir), fs::Permissions::from_mode(0o000))
            .expect("chmod 000");
    }

    let scratch = git_dir(&repo).join("index.unreadable");
    fs::copy(git_dir(&repo).join("index"), &scratch).expect("copy the index");
    let scratch_arg = format!("GIT_INDEX_FILE={}", scratch.display());
    let add = run_unprivileged(&sb, &repo, "env", &[&scratch_arg, "git", "add", "-A"]);
    assert!(add.status.success(), "premise: git add -A: {}", text(&add));
    assert!(text(&add).contains("Permission denied"), "{}", text(&add));
    let tree = run_unprivileged(&sb, &repo, "env", &[&scratch_arg, "git", "write-tree"]);
    let git_tree = String::from_utf8_lossy(&tree.stdout).trim().to_string();
    fs::remove_file(&scratch).expect("rm scratch");

    let out = run_unprivileged(&sb, &repo, BIN, &["checkpoint", "-m", "x"]);
    let status = run_unprivileged(&sb, &repo, BIN, &["status"]);
    for dir in ["locked", "tracked"] {
        fs::set_permissions(repo.path.join(dir), fs::Permissions::from_mode(0o755))
            .expect("chmod back");
    }
    assert!(out.status.success(), "{}", text(&out));
    assert_tree_matches_git(&repo, &git_tree, "unreadable directories");
    assert_eq!(repo.git(&["show", "HEAD:tracked/t.txt"]), "t\n");
    assert_eq!(repo.git(&["show", "HEAD:deep/ok/fine.txt"]), "fine\n");
    assert_eq!(
        skipped(&repo),
        pairs(&[("locked", "unreadable"), ("tracked", "unreadable")])
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .any(|l| l.starts_with("warning: ") && l.contains("locked")),
        "{}",
        text(&out)
    );
    assert!(status.status.success(), "{}", text(&status));
    repo.fsck();
}

/// Files and directories under `path` whose mode gives the group less
/// than `want` (for files; directories also need the group's search bit).
fn not_shared(path: &Path, want: u32, out: &mut Vec<String>) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if meta.is_dir() {
        if mode & (want | 0o010) != want | 0o010 {
            out.push(format!("{:o} {}", mode, path.display()));
        }
        for entry in fs::read_dir(path).expect("read dir").flatten() {
            not_shared(&entry.path(), want, out);
        }
    } else if meta.is_file() && mode & want != want {
        out.push(format!("{:o} {}", mode, path.display()));
    }
}

/// `core.sharedRepository=group` with a private umask (077): everything a
/// checkpoint writes in the git dir (objects and their directories, refs
/// and reflogs, the notes ref, the index, its own lock files) is readable
/// by the group, as what git writes there is.
#[test]
fn shared_repository_group_files_are_group_readable() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("r")).expect("mkdir");
    let repo = sb.repo("r");
    let umask077 = |program: &str, args: &[&str]| {
        let mut cmd = Command::new("sh");
        isolate(&mut cmd, &repo.home);
        let out = cmd
            .current_dir(&repo.path)
            .args(["-c", "umask 077; exec \"$@\"", "sh", program])
            .args(args)
            .output()
            .expect("run sh");
        assert!(out.status.success(), "{program} {args:?}: {}", text(&out));
    };
    umask077("git", &["init", "-q", "-b", "main", "--shared=group"]);
    repo.write("a.txt", "a\n");
    umask077("git", &["add", "-A"]);
    umask077("git", &["commit", "-q", "-m", "base"]);
    let mut by_git = Vec::new();
    not_shared(&git_dir(&repo), 0o040, &mut by_git);
    // The one file git keeps private: the message of the last commit.
    by_git.retain(|f| !f.ends_with("/COMMIT_EDITMSG"));
    assert!(by_git.is_empty(), "premise: git shares: {by_git:?}");

    for round in 0..2 {
        repo.write("a.txt", format!("round {round}\n"));
        repo.write(&format!("dir{round}/new.txt"), "new\n");
        umask077(BIN, &["checkpoint", "-m", "shared"]);
    }
    let mut by_us = Vec::new();
    not_shared(&git_dir(&repo), 0o040, &mut by_us);
    by_us.retain(|f| !f.ends_with("/COMMIT_EDITMSG"));
    assert!(by_us.is_empty(), "not readable by the group: {by_us:?}");
    // Objects stay read-only, as git makes them.
    let head = repo.rev("HEAD");
    let object = git_dir(&repo).join(format!("objects/{}/{}", &head[..2], &head[2..]));
    let mode = fs::metadata(&object).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o440, "{}", object.display());
    repo.fsck();
}

// ---------------------------------------------------------------------------
// Housekeeping: git gc

/// A plain `git gc` running in a loop beside a series of checkpoints: its
/// `pack-refs` and `prune` must cost no checkpoint and no note (each note
/// write is retried from the current tip and read back; object writes are
/// retried when gc removed an object directory under them).
#[test]
fn gc_alongside_checkpoints_loses_no_note() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    for i in 0..30 {
        repo.write(&format!("f{i:02}.txt"), format!("{i}\n"));
    }
    repo.commit_all("base");
    let mut gc = Command::new("sh");
    isolate(&mut gc, &repo.home);
    let stop = sb.path("stop-gc");
    let mut gc = gc
        .current_dir(&repo.path)
        .args([
            "-c",
            "while [ ! -e \"$0\" ]; do git gc -q >/dev/null 2>&1; done",
            &stop.display().to_string(),
        ])
        .spawn()
        .expect("spawn the gc loop");
    let mut failures = Vec::new();
    const ROUNDS: usize = 80;
    for round in 0..ROUNDS {
        repo.write(
            &format!("f{:02}.txt", round % 30),
            format!("round {round}\n"),
        );
        repo.write(&format!("new/{round:03}.txt"), "new\n");
        let out = repo.session(&["checkpoint", "-q", "-m", &format!("round {round}")]);
        if !out.status.success() || !out.stderr.is_empty() {
            failures.push(format!("round {round}: {}", text(&out)));
        }
    }
    fs::write(&stop, "").expect("stop the gc loop");
    let _ = gc.wait();
    let commits = repo.git(&["rev-list", "--first-parent", "HEAD"]);
    let without_note: Vec<&str> = commits
        .lines()
        .take(ROUNDS)
        .filter(|c| {
            !repo
                .git_output(&["notes", "--ref=session", "show", c])
                .status
                .success()
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        without_note.is_empty(),
        "checkpoints without a note: {without_note:?}"
    );
    assert_eq!(commits.lines().count(), ROUNDS + 1);
    repo.fsck();
}

/// The id git gives a blob with `content`.
fn blob_id(content: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("blob {}\0", content.len()).as_bytes());
    hasher.update(content);
    hasher.finalize().into()
}

/// Loose and packed object counts, from `git count-objects -v`.
fn object_counts(repo: &Repo) -> (u64, u64) {
    let out = repo.git(&["count-objects", "-v"]);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (field("count:"), field("in-pack:"))
}

/// Checkpoints run git's automatic housekeeping as `git commit` does:
/// when `git gc --auto` would find work (by git's own estimate: loose
/// objects in `objects/17` above `gc.auto / 256`), it is started in the
/// background after the checkpoint and packs the loose objects; with
/// `gc.auto=0` it is not.
#[test]
fn auto_gc_runs_after_checkpoint_when_due() {
    let sb = Sandbox::new();
    let make = |name: &str| {
        let repo = sb.init(name);
        repo.git(&["config", "gc.auto", "100"]);
        // Two loose objects under objects/17: above 100 / 256, rounded up.
        let mut found = 0;
        for n in 0u32.. {
            let content = format!("blob {n}\n");
            if blob_id(content.as_bytes())[0] == 0x17 {
                repo.write(&format!("f{n}.txt"), &content);
                found += 1;
                if found == 2 {
                    break;
                }
            }
        }
        repo.git(&["-c", "gc.auto=0", "add", "-A"]);
        repo.git(&["-c", "gc.auto=0", "commit", "-q", "-m", "base"]);
        assert!(
            fs::read_dir(git_dir(&repo).join("objects/17"))
                .expect("objects/17")
                .count()
                >= 2,
            "premise"
        );
        repo.write("x.txt", "x\n");
        repo
    };
    let wait_for_pack = |repo: &Repo| {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            let (loose, packed) = object_counts(repo);
            if loose == 0 && packed > 0 && !git_dir(repo).join("gc.pid").exists() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    };

    let repo = make("due");
    checkpoint_ok(&repo);
    assert!(wait_for_pack(&repo), "{:?}", object_counts(&repo));
    repo.fsck();

    let off = make("off");
    off.git(&["config", "gc.auto", "0"]);
    checkpoint_ok(&off);
    std::thread::sleep(Duration::from_millis(500));
    let (loose, packed) = object_counts(&off);
    assert!(loose > 0 && packed == 0, "gc ran with gc.auto=0");
}

// ---------------------------------------------------------------------------
// Racy timestamps

/// A file changed again while a checkpoint runs, after it was hashed: to
/// the same size, with the same time stamp (here made so by a clean filter
/// that rewrites the file behind the hashing and puts its time back, with
/// `core.trustctime=false`, the way a change within one tick of the file
/// system's clock looks). The index is written a tick later, so the entry
/// is not "racily clean" by its time alone. As git does when it writes an
/// index, the checkpoint looks at such entries once more and smudges the
/// one whose content changed; the next checkpoint then records the new
/// content instead of losing it.
#[test]
fn racily_clean_file_changed_during_checkpoint_is_not_lost() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.git(&["config", "core.trustctime", "false"]);
    repo.write("f.txt", "base, another size\n");
    repo.write("other.txt", "other\n");
    repo.commit_all("base");
    // Armed once, for the checkpoint below: git may run the filter too.
    let armed = sb.path("armed");
    let flag = sb.path("rewritten");
    let filter = sb.path("racer.sh");
    fs::write(
        &filter,
        format!(
            "#!/bin/sh\n\
             cat\n\
             if [ -e '{armed}' ]; then\n\
               rm '{armed}'\n\
               : > '{flag}'\n\
               touch -r \"$1\" '{flag}'\n\
               sleep 1.5\n\
               printf 'BBBB\\n' > \"$1\"\n\
               touch -r '{flag}' \"$1\"\n\
             fi\n",
            armed = armed.display(),
            flag = flag.display()
        ),
    )
    .expect("write the filter");
    fs::set_permissions(&filter, fs::Permissions::from_mode(0o755)).expect("chmod");
    repo.git(&[
        "config",
        "filter.racer.clean",
        &format!("{} %f", filter.display()),
    ]);
    repo.write(".gitattributes", "f.txt filter=racer\n");
    repo.commit_all("attributes");
    // Content A, stamped a second ahead: after the lock is taken, before
    // the index is written (the filter sleeps past it).
    repo.write("f.txt", "AAAA\n");
    let ahead = SystemTime::now() + Duration::from_secs(1);
    fs::File::options()
        .write(true)
        .open(repo.path.join("f.txt"))
        .and_then(|f| f.set_modified(ahead))
        .expect("stamp f.txt");
    fs::write(&armed, "").expect("arm the filter");

    checkpoint_ok(&repo);
    assert!(flag.exists(), "premise: the filter rewrote the file");
    assert_eq!(repo.git(&["show", "HEAD:f.txt"]), "AAAA\n");
    assert_eq!(repo.read("f.txt"), b"BBBB\n");
    let mtime = fs::metadata(repo.path.join("f.txt"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(mtime, ahead, "premise: the time stamp was put back");

    // The next checkpoint must see BBBB.
    checkpoint_ok(&repo);
    assert_eq!(repo.git(&["show", "HEAD:f.txt"]), "BBBB\n");
    assert!(repo.status().is_empty(), "{}", repo.status());
}
