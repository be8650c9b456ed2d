//! The cache-tree (`TREE` index extension) that checkpoints write must be
//! exactly what git computes: git trusts it to commit without rehashing, so
//! a wrong entry would silently corrupt the user's next `git commit`.
//!
//! Oracle: `git read-tree HEAD` into a scratch index primes a complete
//! cache-tree; ours must equal it, subtree by subtree. Each scenario also
//! checks that `git write-tree` (which answers from the cache-tree) gives
//! HEAD's tree, and that a `git commit` after a `git add` — which reuses the
//! untouched subtrees' cached ids — gives the same tree as git computes from
//! scratch.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{Repo, Sandbox};

/// name → (id, entry count, children), for an order-independent compare.
#[derive(Debug, PartialEq, Eq)]
struct Node {
    id: String,
    entries: Option<u32>,
    children: BTreeMap<Vec<u8>, Node>,
}

fn node(tree: &gix::index::extension::Tree) -> Node {
    Node {
        id: tree.id.to_string(),
        entries: tree.num_entries,
        children: tree
            .children
            .iter()
            .map(|c| (c.name.to_vec(), node(c)))
            .collect(),
    }
}

fn cache_tree(index_file: &Path) -> Option<Node> {
    let file = gix::index::File::at(
        index_file,
        gix::hash::Kind::Sha1,
        false,
        gix::index::decode::Options::default(),
    )
    .unwrap_or_else(|e| panic!("read {}: {e}", index_file.display()));
    file.tree().map(node)
}

/// Our index's cache-tree equals the one git primes for HEAD.
fn assert_cache_tree_is_gits(sb: &Sandbox, repo: &Repo, what: &str) {
    let ours = cache_tree(&repo.path.join(".git/index"))
        .unwrap_or_else(|| panic!("{what}: no cache-tree written"));
    let scratch = sb.path("scratch-index");
    let _ = std::fs::remove_file(&scratch);
    let out = repo
        .git_command()
        .env("GIT_INDEX_FILE", &scratch)
        .args(["read-tree", "HEAD"])
        .output()
        .expect("git read-tree");
    assert!(
        out.status.success(),
        "read-tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gits = cache_tree(&scratch).expect("git primes a cache-tree");
    assert_eq!(ours, gits, "{what}: cache-tree differs from git's");
    assert_eq!(
        repo.git(&["write-tree"]).trim(),
        repo.rev("HEAD^{tree}"),
        "{what}: git write-tree from our index"
    );
    assert_eq!(repo.git(&["diff-files"]), "", "{what}: stat data");
    assert_eq!(repo.status(), "", "{what}: status");
}

fn write_many(repo: &Repo) {
    for d in 0..4 {
        for e in 0..3 {
            for f in 0..3 {
                repo.write(&format!("d{d}/e{e}/f{f}.txt"), format!("{d} {e} {f}\n"));
            }
        }
        repo.write(&format!("d{d}/top.txt"), "top\n");
    }
    repo.write("root.txt", "root\n");
}

// Unix only: a symlink.
#[cfg(unix)]
#[test]
fn checkpoints_write_the_cache_tree_git_would() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    write_many(&repo);
    repo.session_ok(&[
        "checkpoint",
        "-q",
        "-m",
        "first, no cache-tree to start from",
    ]);
    assert_cache_tree_is_gits(&sb, &repo, "first checkpoint");

    // The fast path: modify, add, delete, a new directory, a removed one.
    repo.write("d1/e1/f1.txt", "changed\n");
    repo.write("d2/new/deep/x.txt", "new\n");
    std::fs::remove_file(repo.path.join("d0/e0/f0.txt")).expect("rm");
    std::fs::remove_dir_all(repo.path.join("d3/e2")).expect("rm dir");
    repo.session_ok(&["checkpoint", "-q", "-m", "edits"]);
    assert_cache_tree_is_gits(&sb, &repo, "after edits");

    // File ↔ directory swaps and a symlink.
    std::fs::remove_dir_all(repo.path.join("d2/e0")).expect("rm dir");
    repo.write("d2/e0", "now a file\n");
    std::fs::remove_file(repo.path.join("root.txt")).expect("rm");
    repo.write("root.txt/inside.txt", "now a dir\n");
    std::os::unix::fs::symlink("d1", repo.path.join("link")).expect("symlink");
    repo.session_ok(&["checkpoint", "-q", "-m", "swaps"]);
    assert_cache_tree_is_gits(&sb, &repo, "after swaps");

    // Nothing changed: the idle path keeps a valid cache-tree.
    repo.session_ok(&["checkpoint", "-q"]);
    assert_cache_tree_is_gits(&sb, &repo, "idle");
}

#[test]
fn git_commits_after_a_checkpoint_reuse_our_subtrees_correctly() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    write_many(&repo);
    repo.session_ok(&["checkpoint", "-q", "-m", "base"]);
    repo.write("d0/e1/f2.txt", "edited by git\n");
    repo.git(&["add", "d0/e1/f2.txt"]);
    repo.git(&["commit", "-q", "-m", "plain git commit"]);
    // What git computes from scratch for the same content.
    let scratch = sb.path("scratch-index");
    let fresh = repo
        .git_command()
        .env("GIT_INDEX_FILE", &scratch)
        .args(["add", "-A"])
        .output()
        .expect("git add");
    assert!(fresh.status.success());
    let fresh_tree = repo
        .git_command()
        .env("GIT_INDEX_FILE", &scratch)
        .args(["write-tree"])
        .output()
        .expect("write-tree");
    assert_eq!(
        String::from_utf8_lossy(&fresh_tree.stdout).trim(),
        repo.rev("HEAD^{tree}")
    );
    repo.fsck();
}

#[test]
fn a_partly_invalid_cache_tree_after_git_add_is_handled() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    write_many(&repo);
    repo.session_ok(&["checkpoint", "-q", "-m", "base"]);
    // `git add` invalidates the cache-tree along d1/e0; the next
    // checkpoint must notice and not trust the root.
    repo.write("d1/e0/f0.txt", "staged\n");
    repo.git(&["add", "d1/e0/f0.txt"]);
    repo.write("d3/e1/f1.txt", "unstaged\n");
    repo.session_ok(&["checkpoint", "-q", "-m", "after git add"]);
    assert_eq!(
        repo.git(&["show", "HEAD:d1/e0/f0.txt"]),
        "staged\n",
        "the staged change is in the checkpoint"
    );
    assert_eq!(repo.git(&["show", "HEAD:d3/e1/f1.txt"]), "unstaged\n");
    assert_cache_tree_is_gits(&sb, &repo, "after git add");
}

#[test]
fn an_index_without_a_cache_tree_gets_one_on_an_idle_checkpoint() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    write_many(&repo);
    repo.commit_all("by git");
    repo.session_ok(&["checkpoint", "-q", "-m", "first"]);
    // Drop the cache-tree the way an old tool would: rebuild the index
    // from the entries alone.
    repo.git(&["rm", "-q", "-r", "--cached", "."]);
    repo.git(&["add", "-A"]);
    repo.session_ok(&["checkpoint", "-q"]);
    assert_cache_tree_is_gits(&sb, &repo, "idle, after a cache-tree was lost");
}
