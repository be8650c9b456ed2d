//! What differs on macOS and Windows (issue 20), run here on Linux: git's
//! case-insensitive rules (`core.ignorecase=true`, the default on APFS and
//! NTFS) and `core.autocrlf=true`, each checked against `git add -A`.
//!
//! On a case-insensitive file system `lstat("README.md")` also finds
//! `readme.md`; on Linux it does not, so git here sees a case-only rename
//! as a deletion plus a file it takes for the tracked one. The tests compare
//! with what git on Linux answers, which is what the code follows; the
//! file system's own folding is exercised only on the macOS and Windows
//! runners of `.github/workflows/ci.yml`.

use crate::support::{text, Repo, Sandbox};

/// The tree `git add -A` records now, on a copy of the index (as in
/// `hostile`, which is Unix only; this module runs everywhere).
fn git_add_all_tree(repo: &Repo) -> String {
    let git_dir = repo.path.join(".git");
    let scratch = git_dir.join("index.platforms-scratch");
    std::fs::copy(git_dir.join("index"), &scratch).expect("copy the index");
    let run = |args: &[&str]| {
        let out = repo
            .git_command()
            .env("GIT_INDEX_FILE", &scratch)
            .args(args)
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    run(&["add", "-A"]);
    let tree = run(&["write-tree"]);
    let _ = std::fs::remove_file(&scratch);
    tree
}

/// A repository with `core.ignorecase=true` and one commit of `files`.
fn ignorecase_repo(sb: &Sandbox, files: &[(&str, &str)]) -> Repo {
    let repo = sb.init("r");
    for (path, content) in files {
        repo.write(path, content);
    }
    repo.commit_all("base");
    repo.git(&["config", "core.ignorecase", "true"]);
    repo
}

/// `git add -A`'s tree now, then a checkpoint's: they must be equal.
fn checkpoint_matches_git(repo: &Repo, ctx: &str) {
    let git_tree = git_add_all_tree(repo);
    repo.session_ok(&["checkpoint", "-q", "-m", "x"]);
    let ours = repo.rev("HEAD^{tree}");
    if ours != git_tree {
        let diff = repo.git(&["diff-tree", "-r", "--name-status", &git_tree, &ours]);
        panic!("{ctx}: checkpoint tree {ours} != git add -A tree {git_tree}:\n{diff}");
    }
}

/// Whether the file system tells `a` from `A` (Linux; not macOS's or
/// Windows' defaults, where the tests compare with git only).
fn case_sensitive(repo: &Repo) -> bool {
    let probe = repo.path.join(".git/case-probe");
    std::fs::write(&probe, "").expect("write the probe");
    let sensitive = !repo.path.join(".git/CASE-PROBE").exists();
    let _ = std::fs::remove_file(&probe);
    sensitive
}

fn ls_files(repo: &Repo) -> String {
    repo.git(&["ls-tree", "-r", "--name-only", "HEAD"])
        .trim_end()
        .to_string()
}

#[test]
fn case_only_rename() {
    let sb = Sandbox::new();
    let repo = ignorecase_repo(&sb, &[("README.md", "a\n"), ("other", "b\n")]);
    std::fs::rename(repo.path.join("README.md"), repo.path.join("readme.md")).expect("rename");
    checkpoint_matches_git(&repo, "case-only rename");
    // The file itself is never touched.
    assert_eq!(repo.read("readme.md"), b"a\n");
}

#[test]
fn two_index_entries_differing_only_in_case() {
    let sb = Sandbox::new();
    // Committed on a case-sensitive file system, then read with ignorecase.
    let repo = ignorecase_repo(&sb, &[("A.txt", "upper\n"), ("a.txt", "lower\n")]);
    repo.write("a.txt", "lower, changed\n");
    checkpoint_matches_git(&repo, "two entries differing in case");
    if case_sensitive(&repo) {
        assert_eq!(ls_files(&repo), "A.txt\na.txt");
    }
}

#[test]
fn untracked_file_differing_in_case_from_a_tracked_one() {
    let sb = Sandbox::new();
    let repo = ignorecase_repo(&sb, &[("Foo.txt", "a\n")]);
    repo.write("foo.txt", "b\n");
    repo.write("new", "c\n");
    checkpoint_matches_git(&repo, "foo.txt beside a tracked Foo.txt");
}

#[test]
fn ignore_rules_match_case_insensitively() {
    let sb = Sandbox::new();
    let repo = ignorecase_repo(&sb, &[(".gitignore", "*.LOG\nBuild/\n/Secret.txt\n")]);
    repo.write("debug.log", "1\n");
    repo.write("build/out", "2\n");
    repo.write("secret.txt", "3\n");
    repo.write("keep", "4\n");
    checkpoint_matches_git(&repo, "ignore rules");
    if case_sensitive(&repo) {
        assert_eq!(ls_files(&repo), ".gitignore\nkeep");
    }
}

/// A new file in `dir/` beside a tracked `Dir/` goes into `Dir/`, as
/// `git add` puts it (on macOS: the directory renamed in case only).
#[test]
fn new_files_take_the_directory_case_the_index_has() {
    let sb = Sandbox::new();
    let repo = ignorecase_repo(&sb, &[("Dir/Sub/a", "a\n")]);
    repo.write("dir/sub/b", "b\n");
    repo.write("DIR/new/c", "c\n");
    checkpoint_matches_git(&repo, "new files in a directory of another case");
    if case_sensitive(&repo) {
        assert_eq!(ls_files(&repo), "Dir/Sub/a\nDir/Sub/b\nDir/new/c");
    }
}

/// Two new directories differing only in case become one, named as the
/// first in git's order names it.
#[test]
fn two_new_directories_differing_in_case() {
    let sb = Sandbox::new();
    let repo = ignorecase_repo(&sb, &[("a", "a\n")]);
    repo.write("x/b", "b\n");
    repo.write("X/c", "c\n");
    checkpoint_matches_git(&repo, "x/ and X/");
    if case_sensitive(&repo) {
        assert_eq!(ls_files(&repo), "X/b\nX/c\na");
    }
}

/// A directory renamed in case (on Linux: its tracked file is gone from
/// where the index has it) and a new file in it.
#[test]
fn directory_renamed_in_case() {
    let sb = Sandbox::new();
    let repo = ignorecase_repo(&sb, &[("Dir/a", "a\n")]);
    std::fs::rename(repo.path.join("Dir"), repo.path.join("dir")).expect("rename");
    repo.write("dir/b", "b\n");
    checkpoint_matches_git(&repo, "Dir renamed to dir");
}

/// `core.autocrlf=true` (common on Windows): CRLF files are stored with LF,
/// a tracked file keeps what git would record, `-text` files are kept as
/// they are.
#[test]
fn autocrlf_true() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("tracked.txt", "one\ntwo\n");
    repo.write("crlf-in-repo.txt", "stored\r\nwith crlf\r\n");
    repo.commit_all("base");
    repo.git(&["config", "core.autocrlf", "true"]);
    repo.write(".gitattributes", "*.bin -text\n");
    repo.write("tracked.txt", "one\r\ntwo\r\nthree\r\n");
    repo.write("crlf-in-repo.txt", "stored\r\nwith crlf\r\nmore\r\n");
    repo.write("new.txt", "a\r\nb\r\n");
    repo.write("mixed.txt", "a\r\nb\n");
    repo.write("lone-cr.txt", "a\rb\r\n");
    repo.write("data.bin", "x\r\ny\r\n");
    repo.write("binary.dat", b"\0\r\n\x01");
    checkpoint_matches_git(&repo, "core.autocrlf=true");
    assert_eq!(repo.git_output(&["show", "HEAD:new.txt"]).stdout, b"a\nb\n");
}
