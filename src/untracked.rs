//! The walk for untracked files, with a cache of what each directory held,
//! as git's untracked cache (the index's `UNTR` extension) does.
//!
//! A full walk lists every directory of the work tree. Most of them are the
//! same as last time, so the cache remembers, for each directory, its stat
//! data, the stat data and content id of its `.gitignore`, a digest of the
//! index entries directly in it, and what the walk found there (untracked
//! names, subdirectories to enter). A directory whose stat data, ignore
//! file and tracked entries are all unchanged, and whose rules from above
//! are unchanged, is not listed again: only its subdirectories are stat'ed.
//! Adding, removing or renaming an entry changes a directory's mtime, so
//! the only changes stat data cannot show are in-place edits of files,
//! which do not change what is untracked, and edits of a `.gitignore`,
//! which its own stat data shows.
//!
//! It is exactly as correct as a full walk, or it is not used:
//! - a directory modified within [`racy_margin`] of the walk that read it
//!   is read again next time (the same "racy" timestamps git guards
//!   against: a change in the same clock tick as the read leaves the mtime
//!   as it was);
//! - the cache names the work tree, the git dir and the global ignore rules
//!   (`info/exclude`, `core.excludesFile`, the configuration that changes
//!   matching); any difference, and any damage (a checksum covers the
//!   file), discards it whole and the walk starts cold;
//! - configurations the walk does not reproduce exactly (case-insensitive
//!   or precomposing file systems, sparse checkouts, platforms without
//!   inode numbers, `session.untrackedCache=false`) use gix's own walk.
//!
//! The classification is gix's (`gix_dir::walk::classify::path`) for the
//! options the snapshot uses: `.git` passed over, an index entry of the
//! same kind (file or directory) is tracked, else the excludes decide,
//! an untracked directory holding a repository is a repository, and every
//! other untracked directory is entered.

use std::collections::HashMap;
use std::io::ErrorKind;
#[cfg(unix)]
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use gix::bstr::{BStr, BString, ByteSlice};

/// What one walk did, for `GIT_SESSION_DEBUG_UNTRACKED`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Directories listed.
    pub read: usize,
    /// Directories whose cached listing was used.
    pub reused: usize,
    /// Whether the cache was absent, damaged or stale as a whole.
    pub cold: bool,
    /// Whether the cache file was written.
    pub written: bool,
}

impl Stats {
    /// The line `GIT_SESSION_DEBUG_UNTRACKED` prints.
    pub fn describe(&self, found: usize) -> String {
        let Stats {
            read,
            reused,
            cold,
            written,
        } = self;
        format!(
            "untracked: read={read} reused={reused} cold={cold} written={written} found={found}"
        )
    }
}

/// How close to a walk (in nanoseconds) a directory's mtime may be before
/// its listing is not trusted next time: one second, or
/// `GIT_SESSION_UNTRACKED_RACY_SECS` (the tests use 0, on file systems
/// whose timestamps are finer than their writes).
fn racy_margin() -> i128 {
    let secs = std::env::var("GIT_SESSION_UNTRACKED_RACY_SECS")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1);
    i128::from(secs) * 1_000_000_000
}

/// The untracked paths of the work tree (files, symlinks, special files
/// and nested repositories, `/`-separated, relative) and what the walk
/// did. Call it only where [`applies`] says so; `None` still means gix's
/// walk must be used, and so does an error (a directory that cannot be
/// listed, say): the caller's full scan handles it.
pub fn walk(
    repo: &gix::Repository,
    index: &gix::index::State,
    interrupt: &AtomicBool,
) -> anyhow::Result<Option<(Vec<BString>, Stats)>> {
    let Some(workdir) = repo.workdir() else {
        return Ok(None);
    };
    let Some(tracked) = tracked_dirs(index) else {
        return Ok(None);
    };
    let cache_path = cache_path(repo);
    let globals = globals(repo, workdir)?;
    let mut stats = Stats::default();
    // Only a regular file: never read through a symbolic link.
    let old = match std::fs::symlink_metadata(&cache_path) {
        Ok(meta) if meta.is_file() => std::fs::read(&cache_path)
            .ok()
            .and_then(|bytes| decode(&bytes, globals)),
        _ => None,
    };
    stats.cold = old.is_none();
    let old = old.unwrap_or_default();
    let git_dir_real = gix::path::realpath(repo.git_dir())
        .with_context(|| format!("could not resolve {}", repo.git_dir().display()))?;
    let excludes = repo.excludes(
        index,
        None,
        gix::worktree::stack::state::ignore::Source::WorktreeThenIdMappingIfNotSkipped,
    )?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let mut walker = Walker {
        workdir: workdir.to_path_buf(),
        index,
        tracked,
        excludes,
        git_dir_real,
        dirty: stats.cold,
        old,
        new: Vec::new(),
        found: Vec::new(),
        trusted_before: now - racy_margin(),
        stats,
        interrupt,
    };
    let root = std::fs::symlink_metadata(workdir)
        .with_context(|| format!("could not read {}", workdir.display()))?;
    walker.visit(BString::default(), &root, false)?;
    let mut stats = walker.stats;
    if walker.dirty || !walker.old.is_empty() {
        // A cache that cannot be written is only slower next time.
        stats.written = write(repo, &cache_path, &encode(&walker.new, globals)).is_ok();
    }
    Ok(Some((walker.found, stats)))
}

/// Whether this walk applies here: a configuration it reproduces exactly,
/// on a platform with inode numbers, and not turned off.
pub fn applies(repo: &gix::Repository, index: &gix::index::State) -> bool {
    let config = repo.config_snapshot();
    cfg!(unix)
        && repo.workdir().is_some()
        && config.boolean("session.untrackedCache") != Some(false)
        && config.boolean("core.ignoreCase") != Some(true)
        && config.boolean("core.precomposeUnicode") != Some(true)
        && !index.is_sparse()
        && !index
            .entries()
            .iter()
            .any(|e| e.flags.contains(gix::index::entry::Flags::SKIP_WORKTREE))
}

/// Where the cache of this work tree lives: `<session dir>/untracked`, or
/// `untracked-<id>` for a linked work tree.
fn cache_path(repo: &gix::Repository) -> PathBuf {
    let dir = crate::repo::session_dir(repo);
    if repo.git_dir() == repo.common_dir() {
        return dir.join("untracked");
    }
    let id = repo
        .git_dir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!("untracked-{id}"))
}

/// Write `bytes` to `path` by renaming a temporary file over it, so that a
/// reader sees the old cache or the new one.
fn write(repo: &gix::Repository, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Into the session directory the first checkpoint made (with the
    // repository's shared permissions), never creating it.
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut file, bytes)?;
    crate::repo::share_file(repo, file.path())?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The digest of everything outside the directories that decides the walk:
/// where the work tree and git dir are, the global ignore files'
/// contents, and the configuration that changes matching.
fn globals(repo: &gix::Repository, workdir: &Path) -> anyhow::Result<u64> {
    let mut h = Fnv::new();
    h.bytes(FORMAT);
    h.bytes(workdir.as_os_str().as_encoded_bytes());
    h.bytes(repo.git_dir().as_os_str().as_encoded_bytes());
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(workdir) {
        h.u64(meta.dev());
        h.u64(meta.ino());
    }
    let config = repo.config_snapshot();
    let excludes_file = match config.trusted_path("core.excludesFile") {
        Ok(Some(path)) => Some(path),
        Ok(None) => xdg_ignore(),
        Err(err) => return Err(anyhow::anyhow!("{err}")),
    };
    for file in [
        Some(repo.common_dir().join("info").join("exclude")),
        excludes_file,
    ]
    .into_iter()
    .flatten()
    {
        h.bytes(file.as_os_str().as_encoded_bytes());
        match std::fs::read(&file) {
            Ok(content) => {
                h.u8(1);
                h.bytes(&content);
            }
            Err(err) if err.kind() == ErrorKind::NotFound => h.u8(0),
            Err(err) => {
                return Err(err).with_context(|| format!("could not read {}", file.display()))
            }
        }
    }
    for key in [
        "core.excludesFile",
        "core.ignoreCase",
        "core.precomposeUnicode",
    ] {
        h.bytes(
            config
                .string(key)
                .map(|v| v.to_vec())
                .unwrap_or_default()
                .as_slice(),
        );
    }
    Ok(h.finish())
}

/// `$XDG_CONFIG_HOME/git/ignore`, else `~/.config/git/ignore`: where git
/// looks when `core.excludesFile` is not set.
fn xdg_ignore() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(base.join("git").join("ignore"))
}

/// The digest of the index entries directly in each directory that holds
/// any (the root is `""`), or `None` when an entry is not checked out
/// (skip-worktree: sparse checkouts use gix's walk). One pass over the
/// sorted entries: the entries under a directory are contiguous.
fn tracked_dirs(index: &gix::index::State) -> Option<HashMap<&BStr, u64>> {
    let mut out = HashMap::new();
    // The open directories, outermost (the root) first.
    let mut open: Vec<(&BStr, Fnv)> = vec![(BStr::new(""), Fnv::new())];
    let mut previous: Option<&BStr> = None;
    for entry in index.entries() {
        if entry
            .flags
            .contains(gix::index::entry::Flags::SKIP_WORKTREE)
        {
            return None;
        }
        let path = entry.path(index);
        if previous == Some(path) {
            continue; // another stage of a conflict
        }
        previous = Some(path);
        let (dir, name) = match path.rfind_byte(b'/') {
            Some(slash) => (path[..slash].as_bstr(), path[slash + 1..].as_bstr()),
            None => (BStr::new(""), path),
        };
        while open.len() > 1 && !open.last().is_some_and(|(top, _)| contains(top, dir)) {
            if let Some((top, digest)) = open.pop() {
                out.insert(top, digest.finish());
            }
        }
        let mut start = match open.last() {
            Some((top, _)) if !top.is_empty() => top.len() + 1,
            _ => 0,
        };
        while start < dir.len() {
            let end = dir[start..]
                .find_byte(b'/')
                .map_or(dir.len(), |i| start + i);
            if let Some((_, parent)) = open.last_mut() {
                parent.u8(b'd');
                parent.bytes(&dir[start..end]);
            }
            open.push((dir[..end].as_bstr(), Fnv::new()));
            start = end + 1;
        }
        if let Some((_, digest)) = open.last_mut() {
            digest.u8(if entry.mode.is_submodule() {
                b's'
            } else {
                b'f'
            });
            digest.bytes(name);
        }
    }
    for (dir, digest) in open {
        out.insert(dir, digest.finish());
    }
    Some(out)
}

/// Whether the directory `dir` is `ancestor` or inside it.
fn contains(ancestor: &BStr, dir: &BStr) -> bool {
    ancestor.is_empty()
        || dir == ancestor
        || (dir.starts_with(ancestor) && dir.get(ancestor.len()) == Some(&b'/'))
}

/// The stat data of a directory or a `.gitignore` that says whether it
/// changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct StatData {
    mtime: i128,
    ctime: i128,
    ino: u64,
    dev: u64,
    size: u64,
}

impl StatData {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> StatData {
        StatData {
            mtime: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
            size: meta.size(),
        }
    }

    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> StatData {
        StatData::default()
    }
}

/// A directory's `.gitignore`, as the cache saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ignore {
    /// There was none.
    Absent,
    /// A regular file with this content digest; `trusted` when its mtime
    /// was older than the racy margin when it was read.
    File {
        stat: StatData,
        digest: u64,
        trusted: bool,
    },
    /// Something else (a directory, a symlink, unreadable): the directory
    /// is always read again.
    Other,
}

impl Ignore {
    /// What decides the rules: the content, not when it was written
    /// (`Some(None)` for no file; `None` when they cannot be known).
    fn rules(&self) -> Option<Option<u64>> {
        match self {
            Ignore::Absent => Some(None),
            Ignore::File { digest, .. } => Some(Some(*digest)),
            Ignore::Other => None,
        }
    }
}

/// What the cache holds of one directory.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Record {
    /// Relative, `/`-separated; `""` is the root.
    path: BString,
    stat: StatData,
    /// Whether the listing may be used when `stat` still matches: the
    /// mtime was older than the racy margin when the directory was read.
    trusted: bool,
    /// [`tracked_dirs`] of this directory when it was read.
    tracked: u64,
    ignore: Ignore,
    /// Untracked entries directly here, and whether each is a repository.
    untracked: Vec<(BString, bool)>,
    /// Subdirectories the walk enters.
    children: Vec<BString>,
}

struct Walker<'a> {
    workdir: PathBuf,
    index: &'a gix::index::State,
    tracked: HashMap<&'a BStr, u64>,
    excludes: gix::AttributeStack<'a>,
    git_dir_real: PathBuf,
    /// Whether the new cache differs from the old one.
    dirty: bool,
    old: HashMap<BString, Record>,
    new: Vec<Record>,
    found: Vec<BString>,
    /// Timestamps (ns since the epoch) before this are not racy.
    trusted_before: i128,
    stats: Stats,
    interrupt: &'a AtomicBool,
}

impl Walker<'_> {
    fn abs(&self, rela: &BStr) -> PathBuf {
        if rela.is_empty() {
            return self.workdir.clone();
        }
        self.workdir.join(native(rela))
    }

    /// Walk the directory `rela` whose lstat is `meta`; `rules_changed`
    /// when the ignore rules from above changed since the cache was
    /// written.
    fn visit(
        &mut self,
        rela: BString,
        meta: &std::fs::Metadata,
        rules_changed: bool,
    ) -> anyhow::Result<()> {
        if self.interrupt.load(Ordering::Relaxed) {
            anyhow::bail!("interrupted");
        }
        // With the rules from above changed, the old listing is no use.
        let old = self.old.remove(&rela).filter(|_| !rules_changed);
        let Some(old) = old else {
            return self.read(rela, meta, rules_changed, None);
        };
        let Some((ignore, children)) = self.reusable(&old, meta)? else {
            return self.read(rela, meta, rules_changed, Some(old));
        };
        self.stats.reused += 1;
        self.dirty |= ignore != old.ignore;
        for (name, _) in &old.untracked {
            self.found.push(join(&rela, name));
        }
        self.new.push(Record { ignore, ..old });
        for (child, meta) in children {
            self.visit(child, &meta, false)?;
        }
        Ok(())
    }

    /// The `.gitignore` and the subdirectories (with their lstat) when the
    /// cached listing of `old` still holds, else `None`.
    #[allow(clippy::type_complexity)]
    fn reusable(
        &mut self,
        old: &Record,
        meta: &std::fs::Metadata,
    ) -> anyhow::Result<Option<(Ignore, Vec<(BString, std::fs::Metadata)>)>> {
        if !old.trusted
            || StatData::of(meta) != old.stat
            || self.tracked.get(old.path.as_bstr()).copied().unwrap_or(0) != old.tracked
        {
            return Ok(None);
        }
        let dir = self.abs(old.path.as_ref());
        let ignore = match &old.ignore {
            Ignore::Absent => Ignore::Absent,
            Ignore::File {
                stat,
                trusted: true,
                ..
            } if std::fs::symlink_metadata(dir.join(".gitignore"))
                .is_ok_and(|m| m.is_file() && StatData::of(&m) == *stat) =>
            {
                old.ignore.clone()
            }
            Ignore::File { .. } => {
                let now = self.probe_ignore(&dir);
                if now.rules() != old.ignore.rules() {
                    return Ok(None);
                }
                now
            }
            Ignore::Other => return Ok(None),
        };
        let mut children = Vec::with_capacity(old.children.len());
        for name in &old.children {
            let rela = join(&old.path, name);
            let Ok(child) = std::fs::symlink_metadata(self.abs(rela.as_ref())) else {
                return Ok(None);
            };
            let same = child.is_dir()
                && self
                    .old
                    .get(&rela)
                    .is_some_and(|r| r.trusted && r.stat == StatData::of(&child));
            if !same {
                // A subdirectory that changed may have become a
                // repository, which only this directory's listing says.
                return Ok(None);
            }
            children.push((rela, child));
        }
        for (name, repository) in &old.untracked {
            if *repository && !self.is_repository(&dir.join(native(name))) {
                return Ok(None);
            }
        }
        Ok(Some((ignore, children)))
    }

    /// List the directory `rela` and classify what is in it.
    fn read(
        &mut self,
        rela: BString,
        meta: &std::fs::Metadata,
        rules_changed: bool,
        old: Option<Record>,
    ) -> anyhow::Result<()> {
        self.stats.read += 1;
        self.dirty = true;
        let dir = self.abs(rela.as_ref());
        // Stat data first, then the listing: a change in between shows as
        // a difference next time.
        let stat = StatData::of(meta);
        let ignore = self.probe_ignore(&dir);
        let rules_changed = rules_changed
            || old.is_none_or(|old| old.ignore.rules() != ignore.rules())
            || ignore.rules().is_none();
        let mut names = Vec::new();
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("could not list {}", dir.display()))?
        {
            let entry = entry.with_context(|| format!("could not list {}", dir.display()))?;
            let kind = entry
                .file_type()
                .with_context(|| format!("could not list {}", dir.display()))?;
            let name = gix::path::try_os_str_into_bstr(std::borrow::Cow::Owned(entry.file_name()))
                .context("a file name is not valid")?
                .into_owned();
            names.push((name, kind));
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let mut untracked = Vec::new();
        let mut children = Vec::new();
        for (name, kind) in names {
            if name == ".git" {
                continue;
            }
            let path = join(&rela, &name);
            let disk_dir = kind.is_dir();
            // Tracked: an index entry of the same kind (a submodule counts
            // as a directory, and is not entered), or a directory the index
            // has entries under.
            let entry = self.index.entry_by_path(path.as_ref());
            let index_dir = match entry {
                Some(entry) => Some(entry.mode.is_submodule()),
                None => self.tracked.contains_key(path.as_bstr()).then_some(true),
            };
            if index_dir == Some(disk_dir) {
                if disk_dir && entry.is_none() {
                    children.push(name);
                }
                continue;
            }
            let mode = if disk_dir {
                gix::index::entry::Mode::DIR
            } else {
                gix::index::entry::Mode::FILE
            };
            let excluded = self
                .excludes
                .at_entry(path.as_bstr(), Some(mode))
                .map(|platform| platform.is_excluded())
                .map_err(|err| anyhow::anyhow!("{err}"))
                .with_context(|| format!("could not read the ignore rules for '{path}'"))?;
            if excluded {
                continue;
            }
            if disk_dir {
                if self.is_repository(&dir.join(native(&name))) {
                    untracked.push((name, true));
                } else {
                    children.push(name);
                }
            } else {
                untracked.push((name, false));
            }
        }
        for (name, _) in &untracked {
            self.found.push(join(&rela, name));
        }
        let trusted = stat.mtime < self.trusted_before && ignore.rules().is_some();
        let tracked = self.tracked.get(rela.as_bstr()).copied().unwrap_or(0);
        for name in &children {
            let child = join(&rela, name);
            let path = self.abs(child.as_ref());
            let meta = std::fs::symlink_metadata(&path)
                .with_context(|| format!("could not read {}", path.display()))?;
            if !meta.is_dir() {
                anyhow::bail!("{} changed during the walk", path.display());
            }
            self.visit(child, &meta, rules_changed)?;
        }
        // Records are found by path, so their order in the file is free.
        self.new.push(Record {
            path: rela,
            stat,
            trusted,
            tracked,
            ignore,
            untracked,
            children,
        });
        Ok(())
    }

    /// The `.gitignore` in `dir` as it is now.
    fn probe_ignore(&self, dir: &Path) -> Ignore {
        let path = dir.join(".gitignore");
        match std::fs::symlink_metadata(&path) {
            Err(err) if err.kind() == ErrorKind::NotFound => Ignore::Absent,
            Ok(meta) if meta.is_file() => match std::fs::read(&path) {
                Ok(content) => {
                    let stat = StatData::of(&meta);
                    let mut h = Fnv::new();
                    h.bytes(&content);
                    Ignore::File {
                        stat,
                        digest: h.finish(),
                        trusted: stat.mtime < self.trusted_before,
                    }
                }
                Err(_) => Ignore::Other,
            },
            _ => Ignore::Other,
        }
    }

    /// Whether the untracked directory `dir` holds a repository (not this
    /// one), as gix decides it.
    fn is_repository(&self, dir: &Path) -> bool {
        let dot_git = dir.join(".git");
        gix::discover::is_git(&dot_git).is_ok()
            && gix::path::realpath(&dot_git).map_or(true, |real| real != self.git_dir_real)
    }
}

/// A relative `/`-separated path as the platform's.
#[cfg(unix)]
fn native(path: &[u8]) -> &Path {
    use std::os::unix::ffi::OsStrExt as _;
    Path::new(std::ffi::OsStr::from_bytes(path))
}

#[cfg(not(unix))]
fn native(path: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(path).into_owned())
}

fn join(dir: &[u8], name: &[u8]) -> BString {
    if dir.is_empty() {
        return name.into();
    }
    let mut path = BString::from(Vec::with_capacity(dir.len() + 1 + name.len()));
    path.extend_from_slice(dir);
    path.push(b'/');
    path.extend_from_slice(name);
    path
}

/// The cache file's format; a different one is discarded.
const FORMAT: &[u8] = b"GSUNTR01";

/// FNV-1a, 64 bits: stable across builds, unlike std's hasher, so a cache
/// survives an upgrade of the compiler.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn u8(&mut self, byte: u8) {
        self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    fn u64(&mut self, value: u64) {
        for byte in value.to_le_bytes() {
            self.u8(byte);
        }
    }
    /// The bytes, length first, so that no two lists hash alike by
    /// shifting a boundary.
    fn bytes(&mut self, bytes: &[u8]) {
        self.u64(bytes.len() as u64);
        for &byte in bytes {
            self.u8(byte);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

fn encode(records: &[Record], globals: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * records.len() + 32);
    out.extend_from_slice(FORMAT);
    out.extend_from_slice(&globals.to_le_bytes());
    out.extend_from_slice(&(records.len() as u64).to_le_bytes());
    let bytes = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    };
    let stat = |out: &mut Vec<u8>, s: &StatData| {
        out.extend_from_slice(&s.mtime.to_le_bytes());
        out.extend_from_slice(&s.ctime.to_le_bytes());
        out.extend_from_slice(&s.ino.to_le_bytes());
        out.extend_from_slice(&s.dev.to_le_bytes());
        out.extend_from_slice(&s.size.to_le_bytes());
    };
    for r in records {
        bytes(&mut out, &r.path);
        stat(&mut out, &r.stat);
        out.push(u8::from(r.trusted));
        out.extend_from_slice(&r.tracked.to_le_bytes());
        match &r.ignore {
            Ignore::Absent => out.push(0),
            Ignore::File {
                stat: s,
                digest,
                trusted,
            } => {
                out.push(1);
                stat(&mut out, s);
                out.extend_from_slice(&digest.to_le_bytes());
                out.push(u8::from(*trusted));
            }
            Ignore::Other => out.push(2),
        }
        out.extend_from_slice(&(r.untracked.len() as u32).to_le_bytes());
        for (name, repository) in &r.untracked {
            bytes(&mut out, name);
            out.push(u8::from(*repository));
        }
        out.extend_from_slice(&(r.children.len() as u32).to_le_bytes());
        for name in &r.children {
            bytes(&mut out, name);
        }
    }
    let mut h = Fnv::new();
    h.bytes(&out);
    out.extend_from_slice(&h.finish().to_le_bytes());
    out
}

/// The records of a cache written for `globals`, or `None` when it is
/// damaged, of another format, or for other rules or another work tree.
fn decode(bytes: &[u8], globals: u64) -> Option<HashMap<BString, Record>> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    let mut h = Fnv::new();
    h.bytes(body);
    if h.finish().to_le_bytes() != sum {
        return None;
    }
    let mut r = Reader(body);
    if r.take(FORMAT.len())? != FORMAT || r.u64()? != globals {
        return None;
    }
    let count = r.u64()?;
    let mut out = HashMap::with_capacity((count as usize).min(body.len() / 64));
    for _ in 0..count {
        let path: BString = r.bytes()?.into();
        let stat = r.stat()?;
        let trusted = r.flag()?;
        let tracked = r.u64()?;
        let ignore = match r.take(1)?[0] {
            0 => Ignore::Absent,
            1 => Ignore::File {
                stat: r.stat()?,
                digest: r.u64()?,
                trusted: r.flag()?,
            },
            2 => Ignore::Other,
            _ => return None,
        };
        let n = r.u32()?;
        let mut untracked = Vec::with_capacity((n as usize).min(r.0.len()));
        for _ in 0..n {
            untracked.push((r.bytes()?.into(), r.flag()?));
        }
        let n = r.u32()?;
        let mut children = Vec::with_capacity((n as usize).min(r.0.len()));
        for _ in 0..n {
            children.push(r.bytes()?.into());
        }
        let record = Record {
            path: path.clone(),
            stat,
            trusted,
            tracked,
            ignore,
            untracked,
            children,
        };
        if out.insert(path, record).is_some() {
            return None;
        }
    }
    r.0.is_empty().then_some(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i128(&mut self) -> Option<i128> {
        Some(i128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
    fn flag(&mut self) -> Option<bool> {
        match self.take(1)?[0] {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn stat(&mut self) -> Option<StatData> {
        Some(StatData {
            mtime: self.i128()?,
            ctime: self.i128()?,
            ino: self.u64()?,
            dev: self.u64()?,
            size: self.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, ignore: Ignore) -> Record {
        Record {
            path: path.into(),
            stat: StatData {
                mtime: 1_700_000_000_123_456_789,
                ctime: -5,
                ino: 42,
                dev: 7,
                size: 4096,
            },
            trusted: path.len().is_multiple_of(2),
            tracked: 0xdead_beef,
            ignore,
            untracked: vec![("new.txt".into(), false), ("vendor".into(), true)],
            children: vec!["sub".into()],
        }
    }

    /// What was written reads back, and no damaged, cut or foreign copy of
    /// it reads at all.
    #[test]
    fn the_cache_reads_back_and_nothing_damaged_does() {
        let records = vec![
            record("", Ignore::Absent),
            record(
                "src",
                Ignore::File {
                    stat: StatData::default(),
                    digest: 99,
                    trusted: true,
                },
            ),
            record("src/sub", Ignore::Other),
        ];
        let bytes = encode(&records, 1234);
        let back = decode(&bytes, 1234).expect("decodes");
        assert_eq!(back.len(), records.len());
        for r in &records {
            assert_eq!(back.get(&r.path), Some(r));
        }
        assert!(decode(&bytes, 1235).is_none(), "other globals");
        for i in 0..bytes.len() {
            for bit in [0x01, 0x80] {
                let mut damaged = bytes.clone();
                damaged[i] ^= bit;
                assert!(decode(&damaged, 1234).is_none(), "byte {i} flipped");
            }
        }
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n], 1234).is_none(), "cut at {n}");
        }
    }

    fn index(paths: &[&str]) -> gix::index::State {
        let mut state = gix::index::State::new(gix::hash::Kind::Sha1);
        for path in paths {
            state.dangerously_push_entry(
                gix::index::entry::Stat::default(),
                gix::ObjectId::null(gix::hash::Kind::Sha1),
                gix::index::entry::Flags::empty(),
                gix::index::entry::Mode::FILE,
                BStr::new(path),
            );
        }
        state.sort_entries();
        state
    }

    /// Each directory's digest changes when, and only when, the entries
    /// directly in it change (a file, or a subdirectory that has any).
    #[test]
    fn tracked_digests_follow_each_directory_alone() {
        let base = [
            "a.txt",
            "src-x/y.txt",
            "src/deep/z.rs",
            "src/x.rs",
            "src/y.rs",
            "tests/t.rs",
        ];
        let before = index(&base);
        let before = tracked_dirs(&before).expect("no skip-worktree");
        let mut keys: Vec<&str> = before.keys().map(|k| k.to_str().expect("utf-8")).collect();
        keys.sort();
        assert_eq!(keys, ["", "src", "src-x", "src/deep", "tests"]);

        let deeper = index(&[&base[..], &["src/deep/w.rs"]].concat());
        let deeper = tracked_dirs(&deeper).expect("digests");
        for dir in ["", "src", "src-x", "tests"] {
            assert_eq!(before[BStr::new(dir)], deeper[BStr::new(dir)], "{dir:?}");
        }
        assert_ne!(before[BStr::new("src/deep")], deeper[BStr::new("src/deep")]);

        let new_dir = index(&[&base[..], &["src/new/q.rs"]].concat());
        let new_dir = tracked_dirs(&new_dir).expect("digests");
        assert_ne!(before[BStr::new("src")], new_dir[BStr::new("src")]);
        assert_eq!(before[BStr::new("")], new_dir[BStr::new("")]);
        assert!(new_dir.contains_key(BStr::new("src/new")));

        let fewer = index(&base[1..]);
        let fewer = tracked_dirs(&fewer).expect("digests");
        assert_ne!(before[BStr::new("")], fewer[BStr::new("")]);
        assert_eq!(before[BStr::new("src")], fewer[BStr::new("src")]);
    }
}
