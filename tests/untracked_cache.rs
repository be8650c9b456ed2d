//! The untracked cache (`src/untracked.rs`) is exactly as correct as a full
//! walk: the differential test against `git add -A`, run round after round
//! with the cache warm, and after each way the cache or what it depends on
//! can change behind its back (damage, another repository's cache, ignore
//! rules edited in place, rules outside the work tree, the index alone,
//! nested repositories). Each test also reads what the walk did
//! (`GIT_SESSION_DEBUG_UNTRACKED`), so that a test meant to run warm fails
//! if the cache was never used.

use std::fs;
use std::path::{Path, PathBuf};

use crate::differential::{
    build_base, checkpoint_matches_git_with, for_seeds, mutate_many, Rng, Twins,
};
use crate::support::text;

const DEBUG: (&str, &str) = ("GIT_SESSION_DEBUG_UNTRACKED", "1");

/// What one walk said it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stats {
    read: usize,
    reused: usize,
    cold: bool,
}

/// The walk's line in a run's stderr, if our walk ran.
fn stats(out: &std::process::Output) -> Option<Stats> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with("untracked: "))?;
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    };
    Some(Stats {
        read: field("read")?.parse().ok()?,
        reused: field("reused")?.parse().ok()?,
        cold: field("cold")? == "true",
    })
}

fn cache_file(t: &Twins) -> PathBuf {
    t.a.path.join(".git/session/untracked")
}

/// A checkpoint compared with `git add -A && git commit`, then B moved to
/// A's commit (the trees are the same) so that the next round starts from
/// identical copies; what the walk did. Each round first rewrites one
/// tracked file in place (no directory changes), so that there is always
/// something to commit.
fn round(t: &mut Twins) -> Stats {
    static ROUNDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = ROUNDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    t.fs(format!("round {n}"), move |root| {
        use std::io::Write;
        let marker = root.join("round-marker");
        // The random mutations may have made it something else.
        if fs::symlink_metadata(&marker).is_ok_and(|m| !m.is_file()) {
            let _ = fs::remove_dir_all(&marker).or_else(|_| fs::remove_file(&marker));
        }
        let mut f = fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(root.join("round-marker"))
            .expect("open round-marker");
        writeln!(f, "{n}").expect("write round-marker");
    });
    let out = checkpoint_matches_git_with(t, "", &[DEBUG]);
    let a = t.a.path.to_str().expect("utf-8 path");
    t.b.git(&["fetch", "-q", a, "HEAD"]);
    t.b.git(&["reset", "-q", "FETCH_HEAD"]);
    stats(&out).unwrap_or_else(|| panic!("our walk did not run:\n{}", text(&out)))
}

/// A base like the differential tests', checkpointed once: the cache is
/// written.
fn warm(seed: u64) -> (Twins, Rng) {
    let mut rng = Rng::new(seed);
    let mut t = Twins::new(seed);
    build_base(&mut t, &mut rng, true);
    let first = round(&mut t);
    assert!(first.cold, "the first walk has no cache: {first:?}");
    assert!(cache_file(&t).is_file(), "the cache was not written");
    (t, rng)
}

fn warm_rounds(seed: u64) {
    let (mut t, mut rng) = warm(seed);
    let mut reused = 0;
    for _ in 0..4 {
        mutate_many(&mut t, &mut rng, false);
        let s = round(&mut t);
        assert!(!s.cold, "the cache was discarded: {s:?}; {}", t.context());
        reused += s.reused;
    }
    assert!(reused > 0, "no directory listing was ever reused");
}

#[test]
fn warm_cache_over_rounds_matches_git_seeds_0_to_5() {
    for_seeds(0..6, warm_rounds);
}

#[test]
fn warm_cache_over_rounds_matches_git_seeds_6_to_11() {
    for_seeds(6..12, warm_rounds);
}

/// An idle round reuses every directory and reads none: the cache is what
/// makes the idle checkpoint cheap.
#[test]
fn an_idle_walk_lists_no_directory() {
    let (mut t, _) = warm(40);
    round(&mut t);
    // The checkpoint added round-marker after its walk: the root is read
    // once more for the new index, then not again.
    let status = || {
        t.a.session_command()
            .args(["status"])
            .env(DEBUG.0, DEBUG.1)
            .output()
            .expect("run status")
    };
    status();
    let out = status();
    let s = stats(&out).expect("status walks");
    assert_eq!(s.read, 0, "{s:?}");
    assert!(s.reused > 3, "{s:?}");
}

/// Directories changed within the racy margin of the walk that listed them
/// are listed again next time; with no margin they are reused.
#[test]
fn racy_listings_are_read_again() {
    let (t, _) = warm(41);
    let status = |margin: &str| {
        let out =
            t.a.session_command()
                .args(["status"])
                .env(DEBUG.0, DEBUG.1)
                .env("GIT_SESSION_UNTRACKED_RACY_SECS", margin)
                .output()
                .expect("run status");
        stats(&out).expect("status walks")
    };
    // Everything here was written seconds ago: all of it is racy for a
    // margin of an hour, and stays so.
    fs::remove_file(cache_file(&t)).expect("remove cache");
    let first = status("3600");
    let second = status("3600");
    assert_eq!(second.reused, 0, "{first:?} {second:?}");
    assert!(second.read > 3, "{second:?}");
    let trusted = status("0");
    assert!(
        trusted.read > 3,
        "listings made under the hour margin are racy: {trusted:?}"
    );
    let reused = status("0");
    assert_eq!(reused.read, 0, "{reused:?}");
}

/// Every damaged, foreign or unreadable cache is discarded whole, the
/// result still matches git, and the cache is rewritten.
#[test]
fn a_damaged_or_foreign_cache_is_never_trusted() {
    type Damage = fn(&Path, &Twins);
    let damages: &[(&str, Damage)] = &[
        ("one byte flipped", |file, _| {
            let mut bytes = fs::read(file).expect("read cache");
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x40;
            fs::write(file, bytes).expect("write cache");
        }),
        ("truncated", |file, _| {
            let bytes = fs::read(file).expect("read cache");
            fs::write(file, &bytes[..bytes.len() * 2 / 3]).expect("write cache");
        }),
        ("empty", |file, _| {
            fs::write(file, b"").expect("write cache")
        }),
        ("garbage", |file, _| {
            fs::write(file, b"GSUNTR01 but then nothing sensible at all").expect("write cache")
        }),
        ("copied from another repository", |file, t| {
            let other = t.b.path.join(".git/session/untracked");
            // B has none of its own: make one with a status run there.
            fs::create_dir_all(other.parent().expect("parent")).expect("mkdir");
            t.b.session_command()
                .args(["status"])
                .output()
                .expect("run status in B");
            fs::copy(&other, file).expect("copy B's cache");
        }),
    ];
    for (seed, (what, damage)) in damages.iter().enumerate() {
        let (mut t, mut rng) = warm(50 + seed as u64);
        mutate_many(&mut t, &mut rng, false);
        damage(&cache_file(&t), &t);
        let s = round(&mut t);
        assert!(s.cold, "{what}: the cache was trusted: {s:?}");
        assert_eq!(s.reused, 0, "{what}: {s:?}");
        let again = round(&mut t);
        assert!(
            !again.cold,
            "{what}: the cache was not rewritten: {again:?}"
        );
    }
}

/// A directory or a symlink where the cache belongs: discarded, the result
/// still matches git, and a symlink's target is never written.
#[cfg(unix)]
#[test]
fn a_cache_path_that_is_no_file_is_passed_over() {
    let (mut t, _) = warm(60);
    let file = cache_file(&t);
    fs::remove_file(&file).expect("remove cache");
    fs::create_dir(&file).expect("a directory instead");
    fs::write(file.join("inside"), b"x").expect("write");
    let s = round(&mut t);
    assert!(s.cold, "{s:?}");
    assert!(file.join("inside").is_file(), "the directory was changed");
    fs::remove_dir_all(&file).expect("remove dir");

    let target = t.a.path.join("../outside-target");
    fs::write(&target, b"not a cache\n").expect("write target");
    std::os::unix::fs::symlink(&target, &file).expect("symlink");
    let s = round(&mut t);
    assert!(s.cold, "{s:?}");
    assert_eq!(fs::read(&target).expect("read target"), b"not a cache\n");
}

/// A `.gitignore` edited in place leaves its directory's stat data as it
/// was: the file's own is what shows it, for the directory and every
/// directory below.
#[test]
fn ignore_rules_edited_in_place_are_seen_below() {
    let (mut t, _) = warm(70);
    t.write("sub/.gitignore", b"*.ign1\n".to_vec());
    t.write("sub/deep/er/a.ign1", b"ignored for now\n".to_vec());
    t.write("sub/deep/er/b.keep", b"kept\n".to_vec());
    t.write("sub/c.ign1", b"ignored for now\n".to_vec());
    round(&mut t);
    let idle = round_after(&mut t, "rounds/1");
    assert!(idle.reused > 0, "{idle:?}");
    // Same length, written in place: no directory's mtime changes.
    t.fs("rewrite sub/.gitignore in place".into(), |root| {
        use std::io::{Seek, Write};
        let mut f = fs::OpenOptions::new()
            .write(true)
            .open(root.join("sub/.gitignore"))
            .expect("open");
        f.seek(std::io::SeekFrom::Start(0)).expect("seek");
        f.write_all(b"*.ign2\n").expect("write");
    });
    let s = round(&mut t);
    assert!(
        s.reused > 0,
        "the unchanged directories are still reused: {s:?}"
    );
    let tree = t.a.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(tree.contains("sub/deep/er/a.ign1"), "{tree}");
    assert!(tree.contains("sub/c.ign1"), "{tree}");

    // And a rule of the root's .gitignore, removed in place, that reached
    // down three directories: only the root's .gitignore changes.
    let root_rules = fs::read(t.a.path.join(".gitignore")).unwrap_or_default();
    let mut with_rule = root_rules.clone();
    with_rule.extend_from_slice(b"*.rooty\n");
    t.fs("append *.rooty to .gitignore".into(), move |root| {
        fs::write(root.join(".gitignore"), &with_rule).expect("write")
    });
    t.write("sub/deep/er/e.rooty", b"ignored, then not\n".to_vec());
    round(&mut t);
    let tree = t.a.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(!tree.contains("e.rooty"), "premise: ignored: {tree}");
    round_after(&mut t, "rounds/2");
    t.fs(
        "rewrite .gitignore in place without *.rooty".into(),
        move |root| {
            use std::io::Write;
            let mut f = fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(root.join(".gitignore"))
                .expect("open");
            f.write_all(&root_rules).expect("write");
        },
    );
    // Every directory below the root is read again.
    let s = round(&mut t);
    assert_eq!(s.reused, 0, "{s:?}");
    let tree = t.a.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(tree.contains("sub/deep/er/e.rooty"), "{tree}");
}

/// Run git in `dir`, isolated as every test is; it must succeed.
fn git_in(dir: &Path, args: &[&str]) {
    let mut cmd = std::process::Command::new("git");
    crate::support::isolate(&mut cmd, dir);
    let out = cmd.args(args).current_dir(dir).output().expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
}

/// Write a marker in a new directory and run a round; its stats.
fn round_after(t: &mut Twins, dir: &str) -> Stats {
    t.write(&format!("{dir}/marker"), b"m\n".to_vec());
    round(t)
}

/// `info/exclude` and `core.excludesFile` live outside the work tree: any
/// change there discards the cache.
#[test]
fn excludes_outside_the_work_tree_are_seen() {
    let (mut t, _) = warm(80);
    let exclude = |rules: &'static [u8]| {
        move |root: &Path| {
            let path = root.join(".git/info/exclude");
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(&path, rules).expect("write exclude");
        }
    };
    t.fs("exclude *.secretx".into(), exclude(b"*.secretx\n"));
    t.write("x/one.secretx", b"1\n".to_vec());
    round(&mut t);
    round_after(&mut t, "rounds/1");
    t.fs("exclude nothing".into(), exclude(b""));
    let s = round(&mut t);
    assert!(s.cold, "info/exclude changed: {s:?}");
    let tree = t.a.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(tree.contains("x/one.secretx"), "{tree}");

    let global = t.a.path.join("../excludes-80");
    fs::write(&global, b"*.globalx\n").expect("write excludes file");
    let global_str = global.to_str().expect("utf-8").to_string();
    t.git(&["config", "core.excludesFile", &global_str]);
    t.write("y/two.globalx", b"2\n".to_vec());
    round(&mut t);
    round_after(&mut t, "rounds/2");
    // The same file, its content changed behind the cache.
    fs::write(&global, b"").expect("write excludes file");
    let s = round(&mut t);
    assert!(s.cold, "core.excludesFile changed: {s:?}");
    let tree = t.a.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(tree.contains("y/two.globalx"), "{tree}");
}

/// The index alone changing what is tracked (no directory changes on
/// disk) is seen: a file no longer tracked is untracked again.
#[test]
fn index_changes_alone_are_seen() {
    let (mut t, _) = warm(90);
    t.write("keep/a.txt", b"a\n".to_vec());
    t.write("keep/b.txt", b"b\n".to_vec());
    round(&mut t);
    round_after(&mut t, "rounds/1");
    // A file of the base, tracked when its directory was first read, and
    // one tracked later.
    t.git(&["rm", "-q", "--cached", "a/b/c/deep.txt", "keep/a.txt"]);
    t.git(&["commit", "-q", "-m", "untrack"]);
    // B committed too; A's HEAD is B's again before the round.
    let b = t.b.path.to_str().expect("utf-8").to_string();
    t.a.git(&["fetch", "-q", &b, "HEAD"]);
    t.a.git(&["reset", "-q", "FETCH_HEAD"]);
    let s = round(&mut t);
    assert!(s.reused > 0, "{s:?}");
    let tree = t.a.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(tree.contains("keep/a.txt"), "{tree}");
    assert!(tree.contains("a/b/c/deep.txt"), "{tree}");
}

/// A directory becoming a repository (or ceasing to be one) is seen.
#[test]
fn nested_repositories_appearing_and_going_are_seen() {
    let (mut t, _) = warm(100);
    // An untracked directory holding only ignored files: walked, and
    // nothing found in it.
    t.write("vendor/lib/src.tmp", b"lib\n".to_vec());
    round(&mut t);
    round_after(&mut t, "rounds/1");
    t.fs("make vendor/lib a repository".into(), |root| {
        let lib = root.join("vendor/lib");
        git_in(&lib, &["init", "-q"]);
        git_in(&lib, &["add", "-A"]);
        git_in(&lib, &["commit", "-q", "-m", "lib"]);
        // Old enough that its index is not racy, then refreshed once: no
        // later git status needs to rewrite it (the checkpoint must leave
        // the work tree, nested repositories included, as it was).
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(lib.join("src.tmp"))
            .and_then(|f| f.set_modified(hour_ago))
            .expect("set mtime");
        git_in(&lib, &["status", "-s"]);
    });
    let s = round(&mut t);
    assert!(s.reused > 0, "{s:?}");
    let tree = t.a.git(&["ls-tree", "-r", "HEAD", "vendor"]);
    assert!(tree.contains("160000 commit"), "a gitlink: {tree}");

    // And the repository going again.
    round_after(&mut t, "rounds/2");
    t.fs("remove vendor/lib/.git".into(), |root| {
        fs::remove_dir_all(root.join("vendor/lib/.git")).expect("remove .git")
    });
    round(&mut t);
}

/// `session.untrackedCache=false`: gix's own walk, and no cache written.
#[test]
fn the_cache_can_be_turned_off() {
    let (mut t, _) = warm(110);
    fs::remove_file(cache_file(&t)).expect("remove cache");
    t.git(&["config", "session.untrackedCache", "false"]);
    t.write("off/new.txt", b"new\n".to_vec());
    let out = checkpoint_matches_git_with(&t, "", &[DEBUG]);
    assert_eq!(stats(&out), None, "our walk ran:\n{}", text(&out));
    assert!(!cache_file(&t).exists(), "a cache was written");
}
