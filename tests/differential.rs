//! Differential tests for `checkpoint`: git is the oracle.
//!
//! Each case builds the same repository twice from one seed (same files, same
//! git commands, fixed dates, so the same commit ids), mutates both copies in
//! the same random way, then runs `git-session checkpoint -m x` in copy A and
//! `git add -A && git commit -m x` in copy B. The trees must be equal, copy
//! A's index must be fresh (`git diff-files` empty, before any `git status`
//! refreshes it) and clean, the new commit must sit on the old HEAD, and the
//! work tree must be exactly as it was (bytes, modes, symlink targets, file
//! mtimes).
//!
//! The generator is a fixed-seed SplitMix64, so a failing seed reproduces; the
//! failure message carries the seed and the list of operations applied.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::support::{text, Repo, Sandbox};

// ---------------------------------------------------------------------------
// Deterministic randomness

/// SplitMix64: tiny, fast, and good enough to pick test cases.
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// True with the given probability in percent.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            let i = self.below(items.len());
            Some(&items[i])
        }
    }
}

// ---------------------------------------------------------------------------
// Work-tree snapshots

/// One work-tree entry as the file system has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    File {
        mode: u32,
        mtime: (i64, i64),
        bytes: Vec<u8>,
    },
    Dir {
        mode: u32,
    },
    Symlink {
        target: PathBuf,
    },
    /// A FIFO, socket or device: never opened (opening a FIFO blocks).
    Special {
        mode: u32,
        mtime: (i64, i64),
    },
}

/// Every entry under `root` except the top-level `.git`, without following
/// symlinks.
pub(crate) fn snapshot_work_tree(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    walk(root, Path::new(""), &mut out);
    out
}

fn walk(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
    let dir = root.join(rel);
    for dirent in fs::read_dir(&dir).unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display())) {
        let dirent = dirent.expect("read dir entry");
        let name = dirent.file_name();
        if rel.as_os_str().is_empty() && name == ".git" {
            continue;
        }
        let child = rel.join(&name);
        let full = root.join(&child);
        let meta = fs::symlink_metadata(&full).expect("lstat");
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(&full).expect("readlink");
            out.insert(child, Entry::Symlink { target });
        } else if ft.is_dir() {
            out.insert(
                child.clone(),
                Entry::Dir {
                    mode: meta.mode() & 0o7777,
                },
            );
            walk(root, &child, out);
        } else if !ft.is_file() {
            out.insert(
                child,
                Entry::Special {
                    mode: meta.mode(),
                    mtime: (meta.mtime(), meta.mtime_nsec()),
                },
            );
        } else {
            let bytes = fs::read(&full).expect("read file");
            out.insert(
                child,
                Entry::File {
                    mode: meta.mode() & 0o7777,
                    mtime: (meta.mtime(), meta.mtime_nsec()),
                    bytes,
                },
            );
        }
    }
}

/// Panic with a readable list of differences unless the snapshots are equal.
pub(crate) fn assert_work_tree_unchanged(
    before: &BTreeMap<PathBuf, Entry>,
    after: &BTreeMap<PathBuf, Entry>,
    ctx: &str,
) {
    let mut diffs = Vec::new();
    for (path, old) in before {
        match after.get(path) {
            None => diffs.push(format!("removed: {}", path.display())),
            Some(new) if new != old => diffs.push(format!(
                "changed: {} ({})",
                path.display(),
                describe_change(old, new)
            )),
            Some(_) => {}
        }
    }
    for path in after.keys() {
        if !before.contains_key(path) {
            diffs.push(format!("created: {}", path.display()));
        }
    }
    assert!(
        diffs.is_empty(),
        "the work tree was modified:\n  {}\n{ctx}",
        diffs.join("\n  ")
    );
}

fn describe_change(old: &Entry, new: &Entry) -> String {
    match (old, new) {
        (
            Entry::File {
                mode: m1,
                mtime: t1,
                bytes: b1,
            },
            Entry::File {
                mode: m2,
                mtime: t2,
                bytes: b2,
            },
        ) => {
            let mut what = Vec::new();
            if m1 != m2 {
                what.push(format!("mode {m1:o} -> {m2:o}"));
            }
            if t1 != t2 {
                what.push(format!("mtime {t1:?} -> {t2:?}"));
            }
            if b1 != b2 {
                what.push(format!("content {} -> {} bytes", b1.len(), b2.len()));
            }
            what.join(", ")
        }
        _ => format!("{old:?} -> {new:?}").chars().take(300).collect(),
    }
}

// ---------------------------------------------------------------------------
// Two identical copies, mutated in lockstep

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
}

const WORDS: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "fn", "main", "{", "}", "return", "0;", "let", "x", "=",
    "42", "//", "todo", "ü", "naïve", "日本", "\t", "  ", "#", "end",
];

/// Names for new files: spaces, unicode, tabs, leading dashes, glob and
/// quoting characters. Never secret-looking, never `.git`.
const FILE_NAMES: &[&str] = &[
    "new.txt",
    "notes.md",
    "data.bin",
    "with space.txt",
    "ümlaut.txt",
    "naïve.txt",
    "tab\tname.txt",
    "-dash.txt",
    "-n",
    "日本語.md",
    "emoji-🎉.txt",
    "UPPER.TXT",
    "a.b.c",
    "#hash#",
    "semi;colon.txt",
    "quote\"d.txt",
    "back\\slash.txt",
    "[brackets].txt",
    "star*.txt",
    "q?.txt",
    "trailing.",
    "x",
    "main.c",
];

const DIR_NAMES: &[&str] = &[
    "src",
    "docs",
    "lib",
    "ümlaut",
    "dir with space",
    "tab\tdir",
    "-dash-dir",
    "deep",
    "nested",
    "日本",
    "x",
    "y z",
];

/// Names git ignores through the base `.gitignore`, `.git/info/exclude`
/// (`*.excl`) or `core.excludesFile` (`*.gexcl`), when those are configured.
const IGNORED_NAMES: &[&str] = &[
    "trace.log",
    "debug.log",
    "scratch.tmp",
    "x.excl",
    "y.gexcl",
    "a b.log",
];

/// Rules appended to `.gitignore` files during mutation.
const IGNORE_RULES: &[&str] = &[
    "*.bak",
    "!important.tmp",
    "docs/",
    "/src/lib/*.h",
    "**/deep/",
    "*.txt",
    "!keep.txt",
    "[Nn]otes.md",
    "\\#hash#",
    "nested",
    "!*.md",
    "x",
    "*.bin",
];

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn words(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| *rng.pick(WORDS).expect("words"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn text_lines(rng: &mut Rng, eol: &str) -> Vec<u8> {
    let lines = 1 + rng.below(12);
    let mut s = String::new();
    for _ in 0..lines {
        let n = rng.below(8);
        s.push_str(&words(rng, n));
        s.push_str(eol);
    }
    s.into_bytes()
}

fn binary(rng: &mut Rng) -> Vec<u8> {
    let len = 1 + rng.below(3000);
    let mut v: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    // Always some NULs, so git's binary detection has no doubt.
    for _ in 0..1 + len / 64 {
        let i = rng.below(len);
        v[i] = 0;
    }
    v
}

/// Random file contents: LF text, CRLF text, mixed line endings with lone
/// CRs, binary with NULs, empty, and now and then something larger.
fn content(rng: &mut Rng) -> Vec<u8> {
    match rng.below(12) {
        0 => Vec::new(),
        1 | 2 => text_lines(rng, "\r\n"),
        3 | 4 => binary(rng),
        5 => {
            let mut v = text_lines(rng, "\r\n");
            v.extend_from_slice(b"lone\rcr\nlf only\n");
            v.extend(text_lines(rng, "\n"));
            v
        }
        6 => {
            let len = 64 * 1024 + rng.below(160 * 1024);
            (0..len)
                .map(|i| b"abcdefghij\n"[(i + rng.below(3)) % 11])
                .collect()
        }
        _ => text_lines(rng, "\n"),
    }
}

/// True when every existing component of `dir` (relative to `root`) is a real
/// directory (not a symlink, not a file), so creating files under it cannot
/// escape through a symlink.
fn dir_chain_ok(root: &Path, dir: &str) -> bool {
    let mut cur = root.to_path_buf();
    for comp in dir.split('/').filter(|c| !c.is_empty()) {
        cur.push(comp);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => return false,
            Err(_) => return true,
        }
    }
    true
}

fn exists(root: &Path, rel: &str) -> bool {
    fs::symlink_metadata(root.join(rel)).is_ok()
}

fn remove_entry(root: &Path, rel: &str) {
    let p = root.join(rel);
    match fs::symlink_metadata(&p) {
        Ok(m) if m.file_type().is_dir() => fs::remove_dir_all(&p).expect("remove dir"),
        Ok(_) => fs::remove_file(&p).expect("remove file"),
        Err(_) => {}
    }
}

/// Write a regular file, creating parents; replaces a symlink or directory
/// in the way rather than writing through it.
fn write_file(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    let parent = Path::new(rel)
        .parent()
        .map(|d| d.to_str().expect("utf-8").to_string())
        .unwrap_or_default();
    assert!(
        dir_chain_ok(root, &parent),
        "test bug: {rel} would be written through a symlink or file"
    );
    fs::create_dir_all(root.join(&parent)).expect("create parent dirs");
    if let Ok(m) = fs::symlink_metadata(&p) {
        if !m.file_type().is_file() {
            remove_entry(root, rel);
        }
    }
    fs::write(&p, bytes).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
}

fn set_exec(root: &Path, rel: &str, on: bool) {
    let p = root.join(rel);
    let mut perms = fs::metadata(&p).expect("stat").permissions();
    let mode = perms.mode();
    perms.set_mode(if on { mode | 0o111 } else { mode & !0o111 });
    fs::set_permissions(&p, perms).expect("chmod");
}

fn make_symlink(root: &Path, rel: &str, target: &str) {
    let parent = Path::new(rel)
        .parent()
        .map(|d| d.to_str().expect("utf-8").to_string())
        .unwrap_or_default();
    assert!(
        dir_chain_ok(root, &parent),
        "test bug: symlink {rel} under a symlink or file"
    );
    fs::create_dir_all(root.join(&parent)).expect("create parent dirs");
    remove_entry(root, rel);
    symlink(target, root.join(rel)).expect("symlink");
}

/// Target for a symlink at `link` pointing at `target` (both relative to the
/// work-tree root), as a relative path.
fn relative_target(link: &str, target: &str) -> String {
    format!("{}{target}", "../".repeat(link.matches('/').count()))
}

/// Set a file's mtime without touching its content.
fn set_mtime(path: &Path, secs_since_epoch: u64) {
    let f = fs::File::options()
        .write(true)
        .open(path)
        .expect("open for set_modified");
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs_since_epoch))
        .expect("set mtime");
}

/// The same repository twice, changed in lockstep.
pub(crate) struct Twins {
    seed: u64,
    pub(crate) a: Repo,
    pub(crate) b: Repo,
    log: Vec<String>,
    sandbox: Sandbox,
}

impl Twins {
    pub(crate) fn new(seed: u64) -> Self {
        let sandbox = Sandbox::new();
        let a = sandbox.init("a");
        let b = sandbox.init("b");
        // A shared excludes file for the seeds that configure core.excludesFile.
        fs::write(sandbox.path("global-excludes"), "*.gexcl\n").expect("write excludes file");
        Twins {
            seed,
            a,
            b,
            log: Vec::new(),
            sandbox,
        }
    }

    fn excludes_file(&self) -> PathBuf {
        self.sandbox.path("global-excludes")
    }

    pub(crate) fn context(&self) -> String {
        format!(
            "seed {} (operations applied to both copies):\n  {}",
            self.seed,
            self.log.join("\n  ")
        )
    }

    /// Apply a file-system operation to both copies.
    pub(crate) fn fs(&mut self, desc: String, op: impl Fn(&Path)) {
        op(&self.a.path);
        op(&self.b.path);
        self.log.push(desc);
    }

    /// Run git in both copies; it must succeed.
    pub(crate) fn git(&mut self, args: &[&str]) {
        self.a.git(args);
        self.b.git(args);
        self.log.push(format!("git {args:?}"));
    }

    /// Run git in both copies, success or not; both must agree.
    fn git_tolerant(&mut self, args: &[&str]) {
        let oa = self.a.git_output(args);
        let ob = self.b.git_output(args);
        assert_eq!(
            oa.status.code(),
            ob.status.code(),
            "copies disagree on git {args:?} (test bug)"
        );
        self.log
            .push(format!("git {args:?} -> {:?}", oa.status.code()));
    }

    /// Entries of copy A (copy B is identical), sorted.
    fn list(&self) -> Vec<(String, Kind)> {
        snapshot_work_tree(&self.a.path)
            .into_iter()
            .map(|(p, e)| {
                let kind = match e {
                    // The generator makes no FIFOs or devices.
                    Entry::File { .. } | Entry::Special { .. } => Kind::File,
                    Entry::Dir { .. } => Kind::Dir,
                    Entry::Symlink { .. } => Kind::Symlink,
                };
                (p.to_str().expect("utf-8 path").to_string(), kind)
            })
            .collect()
    }

    fn of_kind(&self, kind: Kind) -> Vec<String> {
        self.list()
            .into_iter()
            .filter(|(_, k)| *k == kind)
            .map(|(p, _)| p)
            .collect()
    }

    /// Paths git tracks in copy A.
    fn tracked(&self) -> Vec<String> {
        self.a
            .git(&["ls-files", "-z"])
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A path that does not exist yet, under a real directory, possibly
    /// under new nested directories.
    fn fresh_path(&self, rng: &mut Rng, names: &[&str]) -> Option<String> {
        let mut dirs = vec![String::new()];
        dirs.extend(self.of_kind(Kind::Dir));
        let mut path = rng.pick(&dirs).expect("root is always there").clone();
        for _ in 0..rng.below(3) {
            path = join(&path, rng.pick(DIR_NAMES).expect("dir names"));
        }
        if !dir_chain_ok(&self.a.path, &path) {
            return None;
        }
        let path = join(&path, rng.pick(names).expect("names"));
        (!exists(&self.a.path, &path)).then_some(path)
    }

    pub(crate) fn write(&mut self, rel: &str, bytes: Vec<u8>) {
        self.fs(format!("write {rel:?} ({} bytes)", bytes.len()), |root| {
            write_file(root, rel, &bytes)
        });
    }
}

/// The base repository: nested directories, a `.gitignore` with a negated
/// rule, ignored files, an executable, symlinks (to a file, to a directory),
/// CRLF and binary content, odd names, and a force-added ignored file.
pub(crate) fn build_base(t: &mut Twins, rng: &mut Rng, commit: bool) {
    t.write(
        ".gitignore",
        b"*.log\n!keep.log\n*.tmp\nbuild/\n/ignored-dir/\n".to_vec(),
    );
    t.write("README.md", text_lines(rng, "\n"));
    t.write("src/main.c", b"int main(void) { return 0; }\n".to_vec());
    t.write("src/lib/util.c", text_lines(rng, "\n"));
    t.write("src/lib/util.h", text_lines(rng, "\n"));
    t.write("docs/guide/intro.txt", text_lines(rng, "\r\n"));
    t.write("docs/img.bin", binary(rng));
    t.write("bin/run.sh", b"#!/bin/sh\necho hi\n".to_vec());
    t.fs("chmod +x bin/run.sh".into(), |r| {
        set_exec(r, "bin/run.sh", true)
    });
    t.write("a/b/c/deep.txt", b"deep\n".to_vec());
    t.write("keep.log", b"re-included by !keep.log\n".to_vec());
    t.write("empty.txt", Vec::new());
    t.write("dir with space/file name.txt", b"spaces\n".to_vec());
    t.write("\u{fc}mlaut/na\u{ef}ve.txt", "ümlaut\n".as_bytes().to_vec());
    t.write("tab\tfile.txt", b"tab\n".to_vec());
    t.write("-leading-dash.txt", b"dash\n".to_vec());
    t.fs("symlink link-to-main -> src/main.c".into(), |r| {
        make_symlink(r, "link-to-main", "src/main.c")
    });
    t.fs("symlink docs/up -> ../README.md".into(), |r| {
        make_symlink(r, "docs/up", "../README.md")
    });
    t.fs("symlink dir-link -> src".into(), |r| {
        make_symlink(r, "dir-link", "src")
    });
    // Ignored from the start.
    t.write("debug.log", b"ignored\n".to_vec());
    t.write("src/trace.log", b"ignored\n".to_vec());
    t.write("build/out.o", binary(rng));
    t.write("ignored-dir/blob", b"ignored\n".to_vec());
    t.write("scratch.tmp", b"ignored\n".to_vec());
    t.write("logs/forced.log", b"tracked although ignored\n".to_vec());
    for _ in 0..rng.below(6) {
        if let Some(p) = t.fresh_path(rng, FILE_NAMES) {
            let c = content(rng);
            t.write(&p, c);
        }
    }
    if rng.chance(50) {
        t.fs("info/exclude *.excl".into(), |r| {
            fs::create_dir_all(r.join(".git/info")).expect("mkdir info");
            fs::write(r.join(".git/info/exclude"), "*.excl\n").expect("write info/exclude");
        });
        let excludes = t.excludes_file();
        let excludes = excludes.to_str().expect("utf-8 temp path").to_string();
        t.git(&["config", "core.excludesFile", &excludes]);
    }
    if commit {
        t.git(&["add", "-A"]);
        t.git(&["add", "-f", "logs/forced.log"]);
        t.git(&["commit", "-q", "-m", "base"]);
        assert_eq!(
            t.a.rev("HEAD"),
            t.b.rev("HEAD"),
            "test bug: copies differ after the base commit"
        );
    }
}

/// One random change, applied to both copies. `staging` also allows index
/// operations (`git add`, `git add -N`, `git rm --cached`, `--chmod`).
fn mutate(t: &mut Twins, rng: &mut Rng, staging: bool) {
    let files = t.of_kind(Kind::File);
    let dirs = t.of_kind(Kind::Dir);
    let links = t.of_kind(Kind::Symlink);
    let ops = if staging { 24 } else { 19 };
    match rng.below(ops) {
        // Modify a file.
        0 | 1 => {
            if let Some(f) = rng.pick(&files).cloned() {
                let c = content(rng);
                t.write(&f, c);
            }
        }
        // Delete a file or symlink.
        2 => {
            let mut both = files.clone();
            both.extend(links.iter().cloned());
            if let Some(f) = rng.pick(&both).cloned() {
                t.fs(format!("rm {f:?}"), |r| remove_entry(r, &f));
            }
        }
        // Delete a whole directory.
        3 => {
            if let Some(d) = rng.pick(&dirs).cloned() {
                t.fs(format!("rm -r {d:?}"), |r| remove_entry(r, &d));
            }
        }
        // New file, possibly under new nested directories.
        4 | 5 => {
            if let Some(p) = t.fresh_path(rng, FILE_NAMES) {
                let c = content(rng);
                t.write(&p, c);
                if rng.chance(20) {
                    t.fs(format!("chmod +x {p:?}"), |r| set_exec(r, &p, true));
                }
            }
        }
        // Ignored files, and files inside ignored directories.
        6 => {
            let p = match rng.below(3) {
                0 => t.fresh_path(rng, IGNORED_NAMES),
                1 => Some(format!(
                    "build/{}/{}",
                    rng.pick(DIR_NAMES).expect("names"),
                    rng.pick(FILE_NAMES).expect("names")
                )),
                _ => Some(format!(
                    "ignored-dir/{}",
                    rng.pick(FILE_NAMES).expect("names")
                )),
            };
            if let Some(p) = p {
                let parent = p.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                if dir_chain_ok(&t.a.path, parent) && !exists(&t.a.path, &p) {
                    let c = content(rng);
                    t.write(&p, c);
                }
            }
        }
        // A file re-included by `!keep.log`.
        7 => {
            if let Some(p) = t.fresh_path(rng, &["keep.log"]) {
                t.write(&p, b"kept\n".to_vec());
            }
        }
        // Flip the executable bit.
        8 => {
            if let Some(f) = rng.pick(&files).cloned() {
                let on = rng.chance(50);
                t.fs(
                    format!("chmod {}x {f:?}", if on { '+' } else { '-' }),
                    |r| set_exec(r, &f, on),
                );
            }
        }
        // New symlink to an existing file or directory.
        9 => {
            let mut targets = files.clone();
            targets.extend(dirs.iter().cloned());
            if let (Some(target), Some(link)) = (
                rng.pick(&targets).cloned(),
                t.fresh_path(rng, &["link", "ln with space", "ŀink"]),
            ) {
                let to = relative_target(&link, &target);
                t.fs(format!("symlink {link:?} -> {to:?}"), |r| {
                    make_symlink(r, &link, &to)
                });
            }
        }
        // Dangling symlink (relative or absolute).
        10 => {
            if let Some(link) = t.fresh_path(rng, &["dangling", "broken link"]) {
                let to = if rng.chance(30) {
                    "/nonexistent/absolute/target"
                } else {
                    "does/not/exist"
                };
                t.fs(format!("symlink {link:?} -> {to:?}"), |r| {
                    make_symlink(r, &link, to)
                });
            }
        }
        // Retarget a symlink.
        11 => {
            if let Some(link) = rng.pick(&links).cloned() {
                let to = match rng.pick(&files) {
                    Some(f) if rng.chance(70) => relative_target(&link, f),
                    _ => "retargeted/nowhere".to_string(),
                };
                t.fs(format!("retarget {link:?} -> {to:?}"), |r| {
                    make_symlink(r, &link, &to)
                });
            }
        }
        // Empty file, new or truncated.
        12 => {
            let p = if rng.chance(50) {
                rng.pick(&files).cloned()
            } else {
                t.fresh_path(rng, FILE_NAMES)
            };
            if let Some(p) = p {
                t.write(&p, Vec::new());
            }
        }
        // File (or symlink) -> directory.
        13 => {
            let mut both = files.clone();
            both.extend(links.iter().cloned());
            if let Some(f) = rng.pick(&both).cloned() {
                let inner = format!("{f}/{}", rng.pick(FILE_NAMES).expect("names"));
                let c = content(rng);
                t.fs(format!("file->dir {f:?}, write {inner:?}"), |r| {
                    remove_entry(r, &f);
                    write_file(r, &inner, &c);
                });
            }
        }
        // Directory -> file, or directory -> symlink.
        14 => {
            if let Some(d) = rng.pick(&dirs).cloned() {
                if rng.chance(70) {
                    let c = content(rng);
                    t.fs(format!("dir->file {d:?}"), |r| {
                        remove_entry(r, &d);
                        write_file(r, &d, &c);
                    });
                } else {
                    t.fs(format!("dir->symlink {d:?}"), |r| {
                        remove_entry(r, &d);
                        make_symlink(r, &d, "README.md");
                    });
                }
            }
        }
        // Symlink <-> file.
        15 => {
            if rng.chance(50) {
                if let Some(l) = rng.pick(&links).cloned() {
                    let c = content(rng);
                    t.write(&l, c);
                }
            } else if let Some(f) = rng.pick(&files).cloned() {
                let to = relative_target(&f, "README.md");
                t.fs(format!("file->symlink {f:?} -> {to:?}"), |r| {
                    make_symlink(r, &f, &to)
                });
            }
        }
        // Ignore rules: append to the root .gitignore or add a nested one.
        16 => {
            let rule = *rng.pick(IGNORE_RULES).expect("rules");
            let dir = if rng.chance(50) {
                String::new()
            } else {
                rng.pick(&dirs).cloned().unwrap_or_default()
            };
            let path = join(&dir, ".gitignore");
            if dir_chain_ok(&t.a.path, &dir) {
                let mut bytes = match fs::symlink_metadata(t.a.path.join(&path)) {
                    Ok(m) if m.file_type().is_file() => {
                        fs::read(t.a.path.join(&path)).expect("read .gitignore")
                    }
                    _ => Vec::new(),
                };
                if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                    bytes.push(b'\n');
                }
                bytes.extend_from_slice(rule.as_bytes());
                bytes.push(b'\n');
                t.write(&path, bytes);
            }
        }
        // Rename a file.
        17 => {
            if let (Some(f), Some(to)) = (rng.pick(&files).cloned(), t.fresh_path(rng, FILE_NAMES))
            {
                t.fs(format!("mv {f:?} {to:?}"), |r| {
                    let bytes = fs::read(r.join(&f)).expect("read");
                    let mode = fs::metadata(r.join(&f)).expect("stat").permissions().mode();
                    remove_entry(r, &f);
                    write_file(r, &to, &bytes);
                    fs::set_permissions(r.join(&to), fs::Permissions::from_mode(mode))
                        .expect("chmod");
                });
            }
        }
        // Same content, new inode and mtime.
        18 => {
            if let Some(f) = rng.pick(&files).cloned() {
                t.fs(format!("rewrite {f:?} unchanged (new inode)"), |r| {
                    let p = r.join(&f);
                    let bytes = fs::read(&p).expect("read");
                    let mode = fs::metadata(&p).expect("stat").permissions().mode();
                    fs::remove_file(&p).expect("rm");
                    fs::write(&p, &bytes).expect("write");
                    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
                });
            }
        }
        // Stage a path (forced sometimes, so ignored files become tracked).
        19 => {
            let mut all = files.clone();
            all.extend(links.iter().cloned());
            all.extend(dirs.iter().cloned());
            if let Some(p) = rng.pick(&all).cloned() {
                if rng.chance(25) {
                    t.git_tolerant(&["--literal-pathspecs", "add", "-f", "--", &p]);
                } else {
                    t.git_tolerant(&["--literal-pathspecs", "add", "--", &p]);
                }
            }
        }
        // Intent-to-add a new file.
        20 => {
            if let Some(p) = t.fresh_path(rng, FILE_NAMES) {
                let c = content(rng);
                t.write(&p, c);
                t.git_tolerant(&["--literal-pathspecs", "add", "-N", "--", &p]);
            }
        }
        // Untrack a file, keeping it on disk.
        21 => {
            if let Some(p) = rng.pick(&t.tracked()).cloned() {
                t.git_tolerant(&[
                    "--literal-pathspecs",
                    "rm",
                    "-q",
                    "-r",
                    "--cached",
                    "--",
                    &p,
                ]);
            }
        }
        // Change only the index's mode bit.
        22 => {
            let tracked = t.tracked();
            if let Some(p) = rng.pick(&tracked).cloned() {
                let flag = if rng.chance(50) {
                    "--chmod=+x"
                } else {
                    "--chmod=-x"
                };
                if files.contains(&p) {
                    t.git_tolerant(&["update-index", flag, "--", &p]);
                }
            }
        }
        // Stage, then rewrite with different bytes of the same size at once
        // (racily clean: only a content check can see the change).
        _ => {
            if let Some(f) = rng.pick(&files).cloned() {
                let len = fs::read(t.a.path.join(&f)).expect("read").len();
                if len > 0 {
                    t.git_tolerant(&["--literal-pathspecs", "add", "-f", "--", &f]);
                    let mut bytes = fs::read(t.a.path.join(&f)).expect("read");
                    for b in bytes.iter_mut().take(8) {
                        *b = if *b == b'Z' { b'Y' } else { b'Z' };
                    }
                    t.write(&f, bytes);
                }
            }
        }
    }
}

/// Random changes; seeds with `staging` also stage some paths first, then
/// change them further, and mark new files intent-to-add.
pub(crate) fn mutate_many(t: &mut Twins, rng: &mut Rng, staging: bool) {
    let n = 4 + rng.below(14);
    for i in 0..n {
        mutate(t, rng, staging);
        if staging && i == n / 2 {
            // Guarantee the staged-then-modified and intent-to-add shapes.
            if let Some(f) = rng.pick(&t.of_kind(Kind::File)).cloned() {
                t.git_tolerant(&["--literal-pathspecs", "add", "--", &f]);
                let c = content(rng);
                t.write(&f, c);
            }
            if let Some(p) = t.fresh_path(rng, FILE_NAMES) {
                let c = content(rng);
                t.write(&p, c);
                t.git_tolerant(&["--literal-pathspecs", "add", "-N", "--", &p]);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The comparison

fn head(repo: &Repo) -> Option<String> {
    let out = repo.git_output(&["rev-parse", "-q", "--verify", "HEAD"]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn symbolic_head(repo: &Repo) -> Option<String> {
    let out = repo.git_output(&["symbolic-ref", "-q", "HEAD"]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn at(repo: &Repo, rel: &str) -> Repo {
    Repo {
        path: repo.path.join(rel),
        home: repo.home.clone(),
    }
}

/// Lines of `git ls-tree -r` of HEAD present in one copy and not the other.
fn tree_difference(a: &Repo, b: &Repo) -> String {
    let la = a.git(&["ls-tree", "-r", "--full-tree", "HEAD"]);
    let lb = b.git(&["ls-tree", "-r", "--full-tree", "HEAD"]);
    let sa: std::collections::BTreeSet<&str> = la.lines().collect();
    let sb: std::collections::BTreeSet<&str> = lb.lines().collect();
    let mut out = String::new();
    for l in sa.difference(&sb) {
        out.push_str(&format!("  git-session only: {l}\n"));
    }
    for l in sb.difference(&sa) {
        out.push_str(&format!("  git only:         {l}\n"));
    }
    out
}

/// Run the checkpoint in copy A and `git add -A && git commit` in copy B,
/// both from `cwd` (relative to the work-tree root), and compare.
fn checkpoint_matches_git(t: &Twins, cwd: &str) {
    checkpoint_matches_git_with(t, cwd, &[]);
}

/// [`checkpoint_matches_git`], the checkpoint run with `env` added; its
/// output.
pub(crate) fn checkpoint_matches_git_with(
    t: &Twins,
    cwd: &str,
    env: &[(&str, &str)],
) -> std::process::Output {
    let (a, b) = (&t.a, &t.b);
    let ctx = t.context();
    let prev = head(a);
    assert_eq!(
        prev,
        head(b),
        "test bug: copies differ before the checkpoint; {ctx}"
    );
    let head_ref = symbolic_head(a);
    let branches_before = a.git(&["for-each-ref", "refs/heads"]);
    let before = snapshot_work_tree(&a.path);

    let out = at(a, cwd)
        .session_command()
        .args(["checkpoint", "-m", "x"])
        .envs(env.iter().copied())
        .output()
        .expect("run git-session");
    assert!(
        out.status.success(),
        "checkpoint failed (status {:?}):\n{}\n{ctx}",
        out.status.code(),
        text(&out)
    );
    // Before anything that refreshes the index (git status would).
    let diff_files = a.git(&["diff-files"]);

    at(b, cwd).git(&["add", "-A"]);
    at(b, cwd).git(&["commit", "-q", "--allow-empty", "-m", "x"]);
    let oracle_diff_files = b.git(&["diff-files"]);
    assert!(
        oracle_diff_files.is_empty(),
        "test bug: git's own diff-files is not empty:\n{oracle_diff_files}\n{ctx}"
    );

    assert_eq!(
        a.rev("HEAD^{tree}"),
        b.rev("HEAD^{tree}"),
        "checkpoint tree differs from `git add -A` tree:\n{}\ncheckpoint output:\n{}\n{ctx}",
        tree_difference(a, b),
        text(&out)
    );
    assert!(
        diff_files.is_empty(),
        "`git diff-files` not empty after checkpoint (stale index stat data):\n{diff_files}\n{ctx}"
    );
    assert_work_tree_unchanged(&before, &snapshot_work_tree(&a.path), &ctx);
    assert_eq!(
        a.git(&["ls-files", "-s"]),
        b.git(&["ls-files", "-s"]),
        "index entries (mode, id, stage, path) differ from git's after the commit; {ctx}"
    );
    let oracle_status = b.status();
    assert!(
        oracle_status.is_empty(),
        "test bug: git's own status not clean:\n{oracle_status}\n{ctx}"
    );
    let status = a.status();
    assert!(
        status.is_empty(),
        "`git status` not clean after checkpoint:\n{status}\n{ctx}"
    );
    a.fsck();

    let new_head = head(a).expect("HEAD exists after a checkpoint");
    assert_ne!(
        Some(&new_head),
        prev.as_ref(),
        "checkpoint made no commit; {ctx}"
    );
    let parents: Vec<String> = a
        .git(&["rev-list", "--parents", "-n", "1", "HEAD"])
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect();
    let expected: Vec<String> = prev.iter().cloned().collect();
    assert_eq!(
        parents, expected,
        "the checkpoint's parents must be exactly the previous HEAD; {ctx}"
    );
    assert_eq!(
        symbolic_head(a),
        head_ref,
        "HEAD must stay on the same branch (or stay detached); {ctx}"
    );
    if head_ref.is_none() {
        assert_eq!(
            a.git(&["for-each-ref", "refs/heads"]),
            branches_before,
            "a detached checkpoint moved a branch; {ctx}"
        );
    }
    out
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else {
        "(non-string panic)".to_string()
    }
}

/// Run `case` for every seed, then fail listing every failing seed.
pub(crate) fn for_seeds(seeds: impl IntoIterator<Item = u64>, case: impl Fn(u64)) {
    let mut failures = Vec::new();
    for seed in seeds {
        if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| case(seed))) {
            let msg = panic_message(&*p);
            failures.push(format!(
                "seed {seed}: {}",
                msg.lines().next().unwrap_or_default()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} seed(s) failed (details above):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The standard case: committed base, random changes (staging on every
/// third seed), checkpoint from the root.
fn random_case(seed: u64) {
    let mut rng = Rng::new(seed);
    let mut t = Twins::new(seed);
    build_base(&mut t, &mut rng, true);
    mutate_many(&mut t, &mut rng, seed.is_multiple_of(3));
    checkpoint_matches_git(&t, "");
}

#[test]
fn random_trees_seeds_0_to_8() {
    for_seeds(0..9, random_case);
}

#[test]
fn random_trees_seeds_9_to_17() {
    for_seeds(9..18, random_case);
}

#[test]
fn random_trees_seeds_18_to_26() {
    for_seeds(18..27, random_case);
}

#[test]
fn random_trees_seeds_27_to_35() {
    for_seeds(27..36, random_case);
}

/// The generator must really change the trees, or the test above proves
/// little: most seeds produce a tree different from the base.
#[test]
fn random_trees_are_not_trivial() {
    let mut changed = 0;
    for seed in 0..36 {
        let mut rng = Rng::new(seed);
        let mut t = Twins::new(seed);
        build_base(&mut t, &mut rng, true);
        let base_tree = t.b.rev("HEAD^{tree}");
        mutate_many(&mut t, &mut rng, seed.is_multiple_of(3));
        t.b.git(&["add", "-A"]);
        if t.b.git(&["write-tree"]).trim() != base_tree {
            changed += 1;
        }
    }
    assert!(changed >= 32, "only {changed} of 36 seeds change the tree");
}

#[test]
fn unborn_branch_matches_git() {
    for_seeds(100..106, |seed| {
        let mut rng = Rng::new(seed);
        let mut t = Twins::new(seed);
        build_base(&mut t, &mut rng, false);
        if seed.is_multiple_of(2) {
            // Something already staged on the unborn branch.
            t.git(&["add", "src", "README.md"]);
        }
        mutate_many(&mut t, &mut rng, seed.is_multiple_of(2));
        assert!(head(&t.a).is_none(), "test bug: branch not unborn");
        checkpoint_matches_git(&t, "");
        assert_eq!(symbolic_head(&t.a).as_deref(), Some("refs/heads/main"));
    });
}

#[test]
fn empty_unborn_work_tree_matches_git() {
    // Nothing at all but an empty directory: the root commit has git's empty tree.
    let t = Twins::new(0);
    fs::create_dir_all(t.a.path.join("empty-dir")).expect("mkdir");
    fs::create_dir_all(t.b.path.join("empty-dir")).expect("mkdir");
    checkpoint_matches_git(&t, "");
    assert_eq!(
        t.a.rev("HEAD^{tree}"),
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    );
}

#[test]
fn detached_head_matches_git() {
    for_seeds(200..205, |seed| {
        let mut rng = Rng::new(seed);
        let mut t = Twins::new(seed);
        build_base(&mut t, &mut rng, true);
        t.write("second.txt", b"second\n".to_vec());
        t.git(&["add", "-A"]);
        t.git(&["commit", "-q", "-m", "second"]);
        t.git(&["checkout", "-q", "--detach", "HEAD~1"]);
        mutate_many(&mut t, &mut rng, !seed.is_multiple_of(2));
        assert!(symbolic_head(&t.a).is_none(), "test bug: HEAD not detached");
        checkpoint_matches_git(&t, "");
    });
}

#[test]
fn run_from_subdirectory_matches_git() {
    for_seeds(300..306, |seed| {
        let mut rng = Rng::new(seed);
        let mut t = Twins::new(seed);
        build_base(&mut t, &mut rng, true);
        mutate_many(&mut t, &mut rng, seed.is_multiple_of(2));
        // Run from the deepest directory that survived, or a new one.
        let dirs = t.of_kind(Kind::Dir);
        let cwd = match dirs
            .iter()
            .filter(|d| !d.starts_with("build") && !d.starts_with("ignored-dir"))
            .max_by_key(|d| d.matches('/').count())
        {
            Some(d) => d.clone(),
            None => {
                t.fs("mkdir sub".into(), |r| {
                    fs::create_dir_all(r.join("sub")).expect("mkdir")
                });
                "sub".to_string()
            }
        };
        t.log.push(format!("run from {cwd:?}"));
        checkpoint_matches_git(&t, &cwd);
    });
}

/// With `core.fileMode=false` git keeps the index's exec bit whatever the
/// disk says, and gives new files 100644.
#[test]
fn core_filemode_false_matches_git() {
    for_seeds(400..405, |seed| {
        let mut rng = Rng::new(seed);
        let mut t = Twins::new(seed);
        build_base(&mut t, &mut rng, true);
        t.write("plain.txt", b"plain\n".to_vec());
        t.git(&["add", "plain.txt"]);
        t.git(&["commit", "-q", "-m", "plain"]);
        t.git(&["config", "core.fileMode", "false"]);
        t.fs("chmod -x bin/run.sh; chmod +x plain.txt".into(), |r| {
            set_exec(r, "bin/run.sh", false);
            set_exec(r, "plain.txt", true);
        });
        t.write("new-exec.sh", b"#!/bin/sh\n".to_vec());
        t.fs("chmod +x new-exec.sh".into(), |r| {
            set_exec(r, "new-exec.sh", true)
        });
        t.write("bin/run.sh", b"#!/bin/sh\necho changed\n".to_vec());
        // No index operations here: they could change the modes asserted
        // below. Seed 400 has no random changes, so its premises always hold.
        if seed != 400 {
            mutate_many(&mut t, &mut rng, false);
        }
        checkpoint_matches_git(&t, "");
        // What git did, spelled out (also checks the test's premise).
        let mode = |p: &str| {
            let is_file = fs::symlink_metadata(t.a.path.join(p))
                .map(|m| m.is_file())
                .unwrap_or(false);
            let line = t.a.git(&["ls-tree", "HEAD", "--", p]);
            is_file.then(|| line.split(' ').next().unwrap_or_default().to_string())
        };
        for (path, expected) in [
            ("bin/run.sh", "100755"),
            ("plain.txt", "100644"),
            ("new-exec.sh", "100644"),
        ] {
            match mode(path) {
                Some(m) => assert_eq!(m, expected, "{path}, seed {seed}"),
                None => assert_ne!(seed, 400, "test bug: {path} not a file"),
            }
        }
    });
}

/// `.gitattributes` line-ending normalisation: `* text=auto` and
/// `*.txt text eol=crlf`, with files committed with CRLF before the
/// attributes existed (git leaves those alone unless they change, and
/// `text=auto` keeps CRLF for files whose index copy has CRLF).
#[test]
fn gitattributes_crlf_normalisation_matches_git() {
    for_seeds(500..504, |seed| {
        let mut rng = Rng::new(seed);
        let mut t = Twins::new(seed);
        build_base(&mut t, &mut rng, false);
        t.write("old-untouched.txt", b"one\r\ntwo\r\n".to_vec());
        t.write("old-modified.txt", b"one\r\ntwo\r\n".to_vec());
        t.write("old-auto.md", b"one\r\ntwo\r\n".to_vec());
        // Old mtimes: the base files are not racily clean, so whether git
        // looks at their content does not depend on timing.
        t.fs("age all files".into(), |r| {
            for (p, e) in snapshot_work_tree(r) {
                if matches!(e, Entry::File { .. }) {
                    set_mtime(&r.join(p), 1_600_000_000);
                }
            }
        });
        t.git(&["add", "-A"]);
        t.git(&["add", "-f", "logs/forced.log"]);
        t.git(&["commit", "-q", "-m", "base"]);

        t.write(
            ".gitattributes",
            b"* text=auto\n*.txt text eol=crlf\n*.bin binary\n".to_vec(),
        );
        t.write("old-modified.txt", b"one\r\ntwo\r\nthree\r\n".to_vec());
        t.write("old-auto.md", b"one\r\ntwo\r\nthree\r\n".to_vec());
        t.write("new-crlf.md", b"a\r\nb\r\n".to_vec());
        t.write("new-crlf.txt", b"a\r\nb\r\n".to_vec());
        t.write("new-lf.txt", b"a\nb\n".to_vec());
        t.write("mixed.c", b"a\r\nb\nc\r\n".to_vec());
        t.write("lone-cr.c", b"a\rb\r\nc\n".to_vec());
        t.write("data.bin", b"a\r\nb\0c\r\n".to_vec());
        t.write("nul.dat", b"x\r\n\0y\r\n".to_vec());
        t.write("sub dir/ü.txt", b"x\r\ny\r\n".to_vec());
        // Seed 500 has no random changes, so its premises always hold.
        let mark = t.log.len();
        if seed != 500 {
            mutate_many(&mut t, &mut rng, seed.is_multiple_of(2));
        }
        // Make sure the attribute file survived the random changes.
        t.write(
            ".gitattributes",
            b"* text=auto\n*.txt text eol=crlf\n*.bin binary\n".to_vec(),
        );
        checkpoint_matches_git(&t, "");
        // Premise: git normalised new CRLF text, kept CRLF where `text=auto`
        // found CRLF in the index, and left the untouched old file alone.
        let blob = |p: &str| {
            t.a.git_output(&["cat-file", "blob", &format!("HEAD:{p}")])
                .stdout
        };
        let unchanged = |p: &str, content: &[u8]| {
            !t.log[mark..].iter().any(|l| l.contains(p))
                && fs::read(t.a.path.join(p)).ok().as_deref() == Some(content)
                // Not ignored by a rule a random change added.
                && t.a.git_output(&["cat-file", "-e", &format!("HEAD:{p}")]).status.success()
        };
        let premises = [
            ("new-crlf.md", &b"a\r\nb\r\n"[..], &b"a\nb\n"[..]),
            ("new-crlf.txt", b"a\r\nb\r\n", b"a\nb\n"),
            (
                "old-modified.txt",
                b"one\r\ntwo\r\nthree\r\n",
                b"one\ntwo\nthree\n",
            ),
            (
                "old-auto.md",
                b"one\r\ntwo\r\nthree\r\n",
                b"one\r\ntwo\r\nthree\r\n",
            ),
            ("old-untouched.txt", b"one\r\ntwo\r\n", b"one\r\ntwo\r\n"),
            ("data.bin", b"a\r\nb\0c\r\n", b"a\r\nb\0c\r\n"),
        ];
        for (path, on_disk, in_blob) in premises {
            if unchanged(path, on_disk) {
                assert_eq!(blob(path), in_blob, "{path}, seed {seed}");
            } else {
                assert_ne!(seed, 500, "test bug: {path} changed");
            }
        }
    });
}

/// Touching files without changing them leaves stale stat data in the index:
/// the checkpoint must see the same tree as git, refresh the stat data, and
/// when nothing changed at all, create nothing.
#[test]
fn stale_index_stat_data() {
    for_seeds(600..603, |seed| {
        let mut rng = Rng::new(seed);
        let mut t = Twins::new(seed);
        build_base(&mut t, &mut rng, true);
        let repo = t.a.clone();
        let base = repo.rev("HEAD");
        let base_tree = repo.rev("HEAD^{tree}");
        let touch_all = |when: u64| {
            for (i, (p, e)) in snapshot_work_tree(&repo.path).into_iter().enumerate() {
                if matches!(e, Entry::File { .. }) {
                    if i % 3 == 0 {
                        // Same bytes, new inode.
                        let full = repo.path.join(&p);
                        let bytes = fs::read(&full).expect("read");
                        let mode = fs::metadata(&full).expect("stat").permissions().mode();
                        fs::remove_file(&full).expect("rm");
                        fs::write(&full, bytes).expect("write");
                        fs::set_permissions(&full, fs::Permissions::from_mode(mode))
                            .expect("chmod");
                    }
                    set_mtime(&repo.path.join(p), when);
                }
            }
        };
        touch_all(1_500_000_000);
        assert!(
            !repo.git(&["diff-files", "--name-only"]).is_empty(),
            "test bug: no stale stat data"
        );

        let before = snapshot_work_tree(&repo.path);
        let first = repo.session_json(&["checkpoint"]);
        let diff_files = repo.git(&["diff-files"]);
        assert_work_tree_unchanged(
            &before,
            &snapshot_work_tree(&repo.path),
            &format!("seed {seed}"),
        );
        assert_eq!(
            first["created"], true,
            "first checkpoint (new state) must be created: {first}"
        );
        assert_eq!(
            repo.rev("HEAD^{tree}"),
            base_tree,
            "touched-only files changed the tree"
        );
        assert_eq!(repo.rev("HEAD^"), base);
        assert!(
            diff_files.is_empty(),
            "stat data not refreshed by the checkpoint:\n{diff_files}"
        );
        assert!(repo.status().is_empty());

        touch_all(1_400_000_000);
        assert!(
            !repo.git(&["diff-files", "--name-only"]).is_empty(),
            "test bug: no stale stat data"
        );
        let fp = repo.fingerprint();
        let before = snapshot_work_tree(&repo.path);
        let second = repo.session_json(&["checkpoint"]);
        assert_eq!(
            second["created"], false,
            "nothing changed, yet a checkpoint was created: {second}"
        );
        assert_eq!(
            second["commit"].as_str(),
            Some(repo.rev("HEAD").as_str()),
            "{second}"
        );
        let after = repo.fingerprint();
        assert_eq!(after.head, fp.head, "HEAD moved although nothing changed");
        assert_eq!(after.refs, fp.refs, "refs changed although nothing changed");
        assert!(after.status.is_empty());
        assert_work_tree_unchanged(
            &before,
            &snapshot_work_tree(&repo.path),
            &format!("seed {seed}"),
        );

        let third = repo.session_ok(&["checkpoint"]);
        assert!(
            third.contains("nothing to checkpoint on main: no change since"),
            "got: {third}"
        );
        assert_eq!(
            repo.rev("HEAD"),
            second["commit"].as_str().unwrap_or_default()
        );
        repo.fsck();
    });
}
