//! Working tree → tree, with `git add -A` semantics, and the index to match.
//!
//! One status scan (index vs. work tree, plus the walk for untracked files)
//! says what changed; only those files are hashed, through git's own filter
//! pipeline (clean filters, eol conversion, symlinks, the exec bit, nested
//! repositories as gitlinks). The updated index is then diffed against the
//! base tree, and only the touched subtrees are rewritten: the cost scales
//! with the change, not with the repository.
//!
//! Nothing here writes a file in the work tree or moves a ref. The caller
//! commits, then writes the returned index.

use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use gix::bstr::{BStr, BString, ByteSlice};
use gix::index::entry::{Flags, Mode, Stat};
use gix::objs::tree::EntryKind;
use gix::ObjectId;

use crate::error::Error;
use crate::state::Skipped;

/// What to leave out of a snapshot.
#[derive(Clone, Debug)]
pub struct Options {
    /// Untracked files larger than this many bytes are skipped.
    pub size_limit: u64,
    /// Untracked files matching one of these (or a built-in secret
    /// pattern) are skipped as secrets…
    pub secret_patterns: Vec<String>,
    /// …unless one of these (or a built-in allow pattern) matches them.
    pub secret_allow: Vec<String>,
    /// What to do with a path `git add` would refuse.
    pub refusals: Refusals,
}

impl Options {
    /// The limits `config` sets; paths git would refuse are refused.
    pub fn from_config(config: &crate::config::Config) -> Options {
        Options {
            size_limit: config.size_limit,
            secret_patterns: config.secret_patterns.clone(),
            secret_allow: config.secret_allow.clone(),
            refusals: Refusals::Refuse,
        }
    }
}

/// What a snapshot does with a path `git add -A` refuses to add (see
/// [`Unaddable`]): a person running a checkpoint gets git's refusal, while
/// a hook, which nobody watches and which must not lose the rest of the
/// work, leaves the path out and says so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Refusals {
    /// Fail the snapshot as git does, naming the path.
    #[default]
    Refuse,
    /// Leave the path as the index has it (a tracked file keeps its
    /// previous content; an untracked one stays out) and report it in
    /// [`Snapshot::skipped`].
    Skip,
}

/// A path `git add` refuses, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unaddable {
    /// A tracked path that is now neither a regular file, a symlink nor a
    /// directory: a FIFO, a socket, a device (named).
    SpecialFile(&'static str),
    /// A byte order mark that the path's `working-tree-encoding` prohibits
    /// (`UTF-16LE`, `UTF-16BE`, `UTF-32LE`, `UTF-32BE`), as git refuses it.
    ProhibitedBom {
        /// The encoding as `.gitattributes` names it.
        encoding: String,
        /// The encoding git suggests instead (`UTF-16`, `UTF-32`).
        instead: String,
    },
    /// The content is not valid in the path's `working-tree-encoding`, as
    /// `git add` refuses it ("failed to encode … to UTF-8").
    EncodingFailed { encoding: String },
    /// The clean filter of a required driver (`filter.<driver>.required`,
    /// as Git LFS sets) failed, as `git add` refuses it.
    FilterFailed {
        /// The driver as `.gitattributes` names it (`lfs`).
        driver: String,
        /// Its clean command, as configured.
        command: String,
        /// The command's program, when it is not on PATH.
        missing: Option<String>,
    },
}

impl Unaddable {
    /// The reason the session state records in `skipped`.
    pub fn reason(&self) -> &'static str {
        match self {
            Unaddable::SpecialFile(_) => "unsupported-type",
            Unaddable::ProhibitedBom { .. } => "bom-prohibited",
            Unaddable::FilterFailed { .. } => "filter-failed",
            Unaddable::EncodingFailed { .. } => "encoding-failed",
        }
    }

    /// Why, in git's words.
    fn describe(&self, path: &str) -> String {
        match self {
            Unaddable::SpecialFile(what) => format!(
                "'{path}' is {what}: git can only add regular files, symbolic links or git-directories"
            ),
            Unaddable::ProhibitedBom { encoding, .. } => {
                format!("BOM is prohibited in '{path}' if encoded as {encoding}")
            }
            Unaddable::EncodingFailed { encoding } => {
                format!("failed to encode '{path}' from {encoding} to UTF-8")
            }
            Unaddable::FilterFailed {
                driver, missing, ..
            } => match missing {
                Some(program) => format!(
                    "'{path}': clean filter '{driver}' failed: '{program}' is not installed (not on PATH)"
                ),
                None => format!("'{path}': clean filter '{driver}' failed"),
            },
        }
    }

    /// What to do about it.
    fn hint(&self, path: &str) -> String {
        match self {
            Unaddable::SpecialFile(_) => format!(
                "move it out of the work tree, or stop tracking it with 'git rm --cached -- {path}'; then checkpoint again"
            ),
            Unaddable::ProhibitedBom { instead, .. } => format!(
                "the file '{path}' starts with a byte order mark (BOM): use {instead} as its working-tree-encoding in .gitattributes, or remove the mark; then checkpoint again"
            ),
            Unaddable::EncodingFailed { encoding } => format!(
                "'{path}' is not valid {encoding}: fix its content, or change its working-tree-encoding in .gitattributes; then checkpoint again"
            ),
            Unaddable::FilterFailed {
                driver, missing, ..
            } if driver == "lfs" && missing.is_some() => "install Git LFS (https://git-lfs.com) and run 'git lfs install', or remove the 'filter=lfs' attribute; then checkpoint again".into(),
            Unaddable::FilterFailed { missing: Some(program), driver, .. } => format!(
                "install '{program}', or remove the 'filter={driver}' attribute for this path; then checkpoint again"
            ),
            Unaddable::FilterFailed { command, .. } => format!(
                "'git add -- {path}' fails the same way; try the filter by hand ({command} < '{path}') and fix it, then checkpoint again"
            ),
        }
    }
}

/// The result of a snapshot.
pub struct Snapshot {
    /// The tree `git add -A && git write-tree` would produce (minus skips).
    pub tree: ObjectId,
    /// The index to write once the commit stands.
    pub index: gix::index::File,
    /// The cache-tree of `tree`, to write with the index.
    pub cache_tree: gix::index::extension::Tree,
    /// Whether the index differs from the one read (content, stat data, or
    /// a cache-tree that was missing or stale).
    pub index_changed: bool,
    /// Untracked paths left out, with the reason.
    pub skipped: Vec<Skip>,
    /// Paths whose tree entry differs from the base tree.
    pub changes: Vec<Change>,
    /// Problems that did not stop the snapshot, for the user.
    pub warnings: Vec<String>,
}

/// A path left out of the snapshot: untracked, or tracked and kept at its
/// previous content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    /// Path relative to the work tree root.
    pub path: String,
    /// `secret`, `too-large`, `nested-repo`, `unsupported-type`,
    /// `bom-prohibited`, `filter-failed`, `invalid-path` or `unreadable`:
    /// what the state
    /// records.
    pub reason: &'static str,
    /// The same for a person: which pattern, how large.
    pub detail: String,
}

impl Skip {
    /// The form the session state records.
    pub fn to_state(&self) -> Skipped {
        Skipped {
            path: self.path.clone(),
            reason: self.reason.to_string(),
        }
    }
}

/// One path that differs between the base tree and the snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

/// How a path changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// What the status scan found for one path.
enum Found {
    /// Tracked, and the work tree differs: hash it again.
    Changed { index: usize },
    /// Tracked, and gone from the work tree.
    Removed { index: usize },
    /// Tracked and unchanged, but the stat data was stale.
    Stat { index: usize, stat: Stat },
    /// A submodule whose checked-out commit moved.
    Submodule { index: usize, head: ObjectId },
    /// Unmerged entries.
    Conflict { path: BString },
    /// Untracked and not ignored.
    Untracked { path: BString },
    /// A directory the scan may not read: passed over, as git does.
    Unreadable { path: BString },
}

struct Collect {
    found: Vec<Found>,
}

impl<'index> gix::status::plumbing::index_as_worktree_with_renames::VisitEntry<'index> for Collect {
    type ContentChange = ();
    type SubmoduleStatus = ObjectId;

    fn visit_entry(
        &mut self,
        entry: gix::status::plumbing::index_as_worktree_with_renames::Entry<'index, (), ObjectId>,
    ) {
        use gix::status::plumbing::index_as_worktree::{Change as C, EntryStatus};
        use gix::status::plumbing::index_as_worktree_with_renames::Entry;
        match entry {
            Entry::Modification {
                entry_index,
                status,
                rela_path,
                ..
            } => self.found.push(match status {
                EntryStatus::Conflict { .. } => Found::Conflict {
                    path: rela_path.to_owned(),
                },
                EntryStatus::Change(C::Removed) => Found::Removed { index: entry_index },
                EntryStatus::Change(C::SubmoduleModification(head)) => Found::Submodule {
                    index: entry_index,
                    head,
                },
                EntryStatus::Change(_) | EntryStatus::IntentToAdd => {
                    Found::Changed { index: entry_index }
                }
                EntryStatus::NeedsUpdate(stat) => Found::Stat {
                    index: entry_index,
                    stat,
                },
            }),
            Entry::DirectoryContents { entry, .. } => {
                if matches!(entry.status, gix::dir::entry::Status::Untracked) {
                    self.found.push(Found::Untracked {
                        path: entry.rela_path,
                    });
                }
            }
            Entry::Rewrite { .. } => {}
        }
    }
}

/// Reports the commit a submodule's work tree has checked out, when it
/// differs from the gitlink in the index: what `git add -A` records.
#[derive(Clone)]
struct SubmoduleHead {
    workdir: std::path::PathBuf,
}

impl gix::status::plumbing::index_as_worktree::traits::SubmoduleStatus for SubmoduleHead {
    type Output = ObjectId;

    fn status(
        &mut self,
        entry: &gix::index::Entry,
        rela_path: &BStr,
    ) -> gix::Result<Option<ObjectId>> {
        let Ok(path) = gix::path::from_bstr(rela_path) else {
            return Ok(None);
        };
        let head = gix::open(self.workdir.join(path))
            .ok()
            .and_then(|sub| sub.head_id().ok().map(|id| id.detach()));
        Ok(head.filter(|head| *head != entry.id))
    }
}

/// Snapshot the work tree of `repo` on top of `base_tree`, starting from
/// `index` (read while `index.lock` is held).
pub fn snapshot(
    repo: &gix::Repository,
    mut index: gix::index::File,
    base_tree: ObjectId,
    options: &Options,
    interrupt: &AtomicBool,
) -> anyhow::Result<Snapshot> {
    let workdir = repo
        .workdir()
        .context("a work tree is required")?
        .to_path_buf();
    let (found, unencodable) =
        scan_or_explain(repo, &index, &workdir, options.refusals, interrupt)?;
    // When the index's cache-tree says the index is exactly the base tree,
    // the new tree is the base tree edited by what the scan found: no full
    // index-vs-tree diff. Note each touched tracked path's entry as read.
    let fast = crate::index_file::index_is_tree(&index, base_tree);
    let old_cache_tree = index.tree().cloned();
    let mut touched: Vec<(BString, Option<(ObjectId, Mode)>)> = Vec::new();
    if fast {
        for item in &found {
            if let Found::Changed { index: i }
            | Found::Removed { index: i }
            | Found::Submodule { index: i, .. } = item
            {
                let entry = &index.entries()[*i];
                let old =
                    (!entry.flags.contains(Flags::INTENT_TO_ADD)).then_some((entry.id, entry.mode));
                touched.push((entry.path(&index).to_owned(), old));
            }
        }
    }

    let conflicts: Vec<&BString> = found
        .iter()
        .filter_map(|f| match f {
            Found::Conflict { path } => Some(path),
            _ => None,
        })
        .collect();
    if let Some(first) = conflicts.first() {
        return Err(Error::Conflicts {
            count: conflicts.len(),
            first: first.to_str_lossy().into_owned(),
        }
        .into());
    }

    let fs = repo.filesystem_options()?;
    let (executable_bit, symlinks) = (fs.executable_bit, fs.symlink);
    let mut hasher = Hasher::new(repo, &workdir);
    let matcher = crate::secrets::Matcher::new(&options.secret_patterns, &options.secret_allow);
    let mut index_changed = false;
    let mut removed = vec![false; index.entries().len()];
    let mut skipped = unencodable;
    let mut untracked = Vec::new();
    let found = leave_out_refused_paths(repo, &workdir, found, &mut skipped);

    for item in found {
        match item {
            Found::Conflict { .. } => {}
            Found::Unreadable { path } => skipped.push(Skip {
                path: path.to_str_lossy().into_owned(),
                reason: "unreadable",
                detail: "a directory that could not be read (permission denied): passed over, tracked files in it keep their recorded content".into(),
            }),
            Found::Removed { index: i } => {
                removed[i] = true;
                index_changed = true;
            }
            Found::Stat { index: i, stat } => {
                index.entries_mut()[i].stat = stat;
                index_changed = true;
            }
            Found::Submodule { index: i, head } => {
                let entry = &mut index.entries_mut()[i];
                entry.id = head;
                index_changed = true;
            }
            Found::Changed { index: i } => {
                let path = index.entries()[i].path(&index).to_owned();
                match hasher.hash(&index, path.as_ref())? {
                    Hashed::Object(id, kind, stat) => {
                        let entry = &mut index.entries_mut()[i];
                        let mut mode = mode_of(kind);
                        if !executable_bit && is_file_mode(entry.mode) && is_file_mode(mode) {
                            mode = entry.mode;
                        }
                        // With core.symlinks=false git checks a symlink out
                        // as a file holding its target, and `git add`
                        // records that file as the symlink the index says
                        // it is (convert.c's ce_mode_from_stat).
                        if !symlinks && entry.mode == Mode::SYMLINK && is_file_mode(mode) {
                            mode = Mode::SYMLINK;
                        }
                        entry.id = id;
                        entry.mode = mode;
                        entry.stat = stat;
                        entry.flags.remove(Flags::INTENT_TO_ADD);
                    }
                    Hashed::Gone => removed[i] = true,
                    // Never recorded as deleted: the entry stays as it is,
                    // so the tree keeps the previous content.
                    Hashed::Refused(why) => {
                        skipped.push(refuse_or_skip(options.refusals, path.as_ref(), &why, true)?);
                        continue;
                    }
                }
                index_changed = true;
            }
            Found::Untracked { path } => {
                let rel = path.to_str_lossy().into_owned();
                let full = workdir.join(gix::path::from_bstr(path.as_bstr())?);
                let meta = match std::fs::symlink_metadata(&full) {
                    Ok(meta) => meta,
                    Err(_) => continue, // gone since the scan
                };
                if let Some(skip) = left_out(&matcher, options, rel.clone(), &full, &meta) {
                    skipped.push(skip);
                    continue;
                }
                match hasher.hash(&index, path.as_ref())? {
                    Hashed::Object(id, kind, stat) => {
                        let mut mode = mode_of(kind);
                        if !executable_bit && mode == Mode::FILE_EXECUTABLE {
                            mode = Mode::FILE;
                        }
                        untracked.push((path, id, mode, stat));
                    }
                    Hashed::Gone if meta.is_dir() => skipped.push(Skip {
                        path: rel,
                        reason: "nested-repo",
                        detail: "a nested git repository with no commit checked out".into(),
                    }),
                    Hashed::Gone => {}
                    // `git add -A` passes over untracked FIFOs, sockets and
                    // devices without a word.
                    Hashed::Refused(Unaddable::SpecialFile(_)) => {}
                    Hashed::Refused(why) => {
                        skipped.push(refuse_or_skip(
                            options.refusals,
                            path.as_ref(),
                            &why,
                            false,
                        )?);
                    }
                }
            }
        }
    }

    if removed.iter().any(|r| *r) {
        index.remove_entries(|i, _, _| removed.get(i).copied().unwrap_or(false));
    }
    if !untracked.is_empty() {
        index_changed = true;
        if fs.ignore_case {
            let mut dirs = DirCase::new(&index);
            // In git's order (its walk is sorted), so of two new
            // directories differing in case the first names both.
            untracked.sort_by(|a, b| a.0.cmp(&b.0));
            for (path, ..) in &mut untracked {
                dirs.adjust(path);
            }
        }
        if fast {
            touched.extend(untracked.iter().map(|(path, ..)| (path.clone(), None)));
        }
        for (path, id, mode, stat) in untracked {
            index.dangerously_push_entry(stat, id, Flags::empty(), mode, path.as_ref());
        }
        index.sort_entries();
    }

    let mut warnings: Vec<String> = dirty_submodules(&index, &workdir)
        .into_iter()
        .map(|path| {
            format!(
                "the repository at '{path}' has uncommitted changes of its own: the checkpoint records only the commit it has checked out (commit inside it to keep them)"
            )
        })
        .collect();
    warnings.extend(files_outside_the_cone(&index, &workdir));
    warnings.append(&mut hasher.warnings);
    let (tree, changes) = if fast {
        edit_tree(repo, &index, base_tree, touched)?
    } else {
        write_tree(repo, &index, base_tree)?
    };
    let cache_tree =
        crate::index_file::cache_tree(repo, tree, old_cache_tree.as_ref(), &sparse_dirs(&index))?;
    // Without a valid cache-tree the next run would diff the whole index:
    // write one even when nothing else changed.
    if !(fast && tree == base_tree) {
        index_changed = true;
    }
    Ok(Snapshot {
        tree,
        index,
        cache_tree,
        index_changed,
        skipped,
        changes,
        warnings,
    })
}

/// With `core.ignorecase`, the directories of a path `git add` adds take
/// the case the index already gives them (git's `adjust_dirname_case`):
/// on a case-insensitive file system `dir/new` beside a tracked `Dir/old`
/// is in the same directory, and a tree holding both `Dir` and `dir` would
/// check out as one directory there and as two everywhere else. Case is
/// folded as git folds it, ASCII only.
struct DirCase {
    /// Each directory of the index, lower-cased, → its case there; the
    /// first entry in index order names it, as in git's name hash.
    dirs: std::collections::HashMap<BString, BString>,
}

impl DirCase {
    fn new(index: &gix::index::File) -> DirCase {
        let mut dirs = DirCase {
            dirs: std::collections::HashMap::new(),
        };
        for entry in index.entries() {
            dirs.insert(entry.path(index));
        }
        dirs
    }

    /// Record the directories of `path`.
    fn insert(&mut self, path: &BStr) {
        for end in path.find_iter("/") {
            let dir = &path[..end];
            self.dirs
                .entry(dir.to_ascii_lowercase().into())
                .or_insert_with(|| dir.into());
        }
    }

    /// Give `path`'s directories the case already known for them, then
    /// record them, so the next new path follows this one.
    fn adjust(&mut self, path: &mut BString) {
        let ends: Vec<usize> = path.find_iter("/").collect();
        // The deepest known directory carries the case of all above it.
        for &end in ends.iter().rev() {
            if let Some(known) = self
                .dirs
                .get(&BString::from(path[..end].to_ascii_lowercase()))
            {
                path[..end].copy_from_slice(known);
                break;
            }
        }
        self.insert(path.as_ref());
    }
}

/// Why an untracked file is left out of every snapshot (a secret, too
/// large), or `None`: the one decision `snapshot` and `changes_since` share.
fn left_out(
    matcher: &crate::secrets::Matcher<'_>,
    options: &Options,
    path: String,
    full: &std::path::Path,
    meta: &std::fs::Metadata,
) -> Option<Skip> {
    if meta.is_dir() {
        return None;
    }
    if let Some(detail) = matcher.secret(&path, full) {
        return Some(Skip {
            path,
            reason: "secret",
            detail,
        });
    }
    (meta.is_file() && meta.len() > options.size_limit).then(|| Skip {
        path,
        reason: "too-large",
        detail: format!(
            "{} is over the size limit of {}",
            human_size(meta.len()),
            human_size(options.size_limit)
        ),
    })
}

/// Submodules (and nested repositories recorded as gitlinks) whose own
/// work tree or index has uncommitted changes. Like `git add -A`, a
/// checkpoint records only the commit a submodule has checked out, so those
/// changes would be in no checkpoint without a word; untracked files inside
/// do not count, as in `git status`.
fn dirty_submodules(index: &gix::index::File, workdir: &std::path::Path) -> Vec<String> {
    index
        .entries()
        .iter()
        .filter(|entry| entry.mode == Mode::COMMIT && entry.stage_raw() == 0)
        .filter_map(|entry| {
            let path = entry.path(index);
            let sub = gix::open(workdir.join(gix::path::from_bstr(path).ok()?)).ok()?;
            sub.is_dirty()
                .ok()?
                .then(|| path.to_str_lossy().into_owned())
        })
        .collect()
}

/// Directories a sparse index holds as one entry that nonetheless have
/// files in the work tree: `git add -A` leaves those files out ("outside of
/// your sparse-checkout definition"), and so does a checkpoint, but not
/// without a word.
fn files_outside_the_cone(index: &gix::index::State, workdir: &std::path::Path) -> Vec<String> {
    let mut dirs: Vec<BString> = sparse_dirs(index).into_iter().collect();
    dirs.sort();
    dirs.into_iter()
        .filter(|dir| {
            gix::path::from_bstr(dir.as_bstr())
                .ok()
                .and_then(|rel| std::fs::read_dir(workdir.join(rel)).ok())
                .is_some_and(|mut entries| entries.next().is_some())
        })
        .map(|dir| {
            format!(
                "'{dir}/' is outside the sparse-checkout cone but has files in the work tree: like 'git add -A', the checkpoint leaves them out ('git sparse-checkout add {dir}' to include them)"
            )
        })
        .collect()
}

/// The status scan: tracked modifications and untracked files, as `git
/// status --untracked-files=all` would see them.
fn scan(
    repo: &gix::Repository,
    index: &gix::index::File,
    workdir: &std::path::Path,
    interrupt: &AtomicBool,
) -> anyhow::Result<Vec<Found>> {
    scan_except(repo, index, workdir, &[], interrupt)
}

/// [`scan`], and when it fails over tracked files whose content their
/// working-tree-encoding cannot decode (gix names no path then), those
/// paths refused, or (hooks, `status`) left out of a second scan and
/// returned as skipped with their last recorded content kept.
fn scan_or_explain(
    repo: &gix::Repository,
    index: &gix::index::File,
    workdir: &std::path::Path,
    refusals: Refusals,
    interrupt: &AtomicBool,
) -> anyhow::Result<(Vec<Found>, Vec<Skip>)> {
    let err = match scan(repo, index, workdir, interrupt) {
        Ok(found) => return Ok((found, Vec::new())),
        Err(err) => err,
    };
    let mut hasher = Hasher::new(repo, workdir);
    let mut bad = Vec::new();
    for entry in index.entries() {
        let path = entry.path(index);
        if entry.stage_raw() != 0
            || !is_file_mode(entry.mode)
            || hasher.encoding(index, path)?.is_none()
        {
            continue;
        }
        if let Ok(Hashed::Refused(why @ Unaddable::EncodingFailed { .. })) =
            hasher.hash(index, path)
        {
            bad.push((path.to_owned(), why));
        }
    }
    if bad.is_empty() {
        return Err(err);
    }
    let mut skipped = Vec::new();
    for (path, why) in &bad {
        skipped.push(refuse_or_skip(refusals, path.as_ref(), why, true)?);
    }
    let excluded: Vec<BString> = bad.into_iter().map(|(path, _)| path).collect();
    let found = scan_except(repo, index, workdir, &excluded, interrupt)?;
    Ok((found, skipped))
}

/// The scan with `excluded` paths left out of it.
fn scan_except(
    repo: &gix::Repository,
    index: &gix::index::File,
    workdir: &std::path::Path,
    excluded: &[BString],
    interrupt: &AtomicBool,
) -> anyhow::Result<Vec<Found>> {
    let patterns: Vec<BString> = excluded
        .iter()
        .map(|path| {
            let mut pattern = BString::from(":(exclude,literal)");
            pattern.extend_from_slice(path);
            pattern
        })
        .collect();
    use gix::dir::walk::EmissionMode;
    let dirwalk = repo
        .dirwalk_options()?
        .emit_untracked(EmissionMode::Matching)
        .emit_ignored(None)
        .emit_empty_directories(false)
        .empty_patterns_match_prefix(false)
        .recurse_repositories(false);
    let mut collect = Collect { found: Vec::new() };
    // Tracked files under the directories in `unreadable` are left out of
    // the scan (they keep their recorded content).
    let status =
        |dirwalk: Option<gix::dirwalk::Options>, unreadable: &[BString], collect: &mut Collect| {
            let patterns: Vec<BString> = patterns
                .iter()
                .cloned()
                .chain(
                    unreadable
                        .iter()
                        .map(|dir| format!(":(top,exclude,literal){dir}").into()),
                )
                .collect();
            repo.index_worktree_status(
                index,
                &patterns,
                collect,
                gix::status::plumbing::index_as_worktree::traits::FastEq,
                SubmoduleHead {
                    workdir: workdir.to_path_buf(),
                },
                &mut gix::progress::Discard,
                interrupt,
                gix::status::index_worktree::Options {
                    sorting: None,
                    dirwalk_options: dirwalk,
                    rewrites: None,
                    thread_limit: None,
                },
            )
            .map(drop)
            .map_err(anyhow::Error::from)
        };
    // Where our own walk applies, it runs beside the scan of tracked files,
    // with its cache of unchanged directories; on any error the full scan
    // below runs instead and says what went wrong.
    let beside = crate::untracked::applies(repo, index)
        && scan_beside(repo, index, interrupt, &mut collect, |collect| {
            status(None, &[], collect)
        });
    let scanned = if beside {
        Ok(())
    } else {
        status(Some(dirwalk), &[], &mut collect)
    };
    if let Err(err) = scanned {
        // A directory we may not read or enter fails gix's whole scan,
        // where git warns and goes on. Then the tracked files are scanned
        // again without such directories, and the walk for untracked ones
        // passes over them; they are reported. Only this costs a second
        // scan.
        let mut unreadable = Vec::new();
        let mut next = Some(err);
        let give_up = |err: anyhow::Error| err.context("could not scan the work tree");
        while let Some(err) = next.take() {
            match unreadable_directory(&err, workdir) {
                Some(dir) if !unreadable.contains(&dir) && unreadable.len() < MAX_UNREADABLE => {
                    unreadable.push(dir);
                }
                _ => return Err(give_up(err)),
            }
            collect.found.clear();
            if let Err(err) = status(None, &unreadable, &mut collect) {
                next = Some(err);
                continue;
            }
            let mut walk = PassOver {
                unreadable: &unreadable,
                found: Vec::new(),
            };
            let walked = repo
                .dirwalk(index, None::<&BStr>, interrupt, dirwalk, &mut walk)
                .map(drop)
                .map_err(anyhow::Error::from);
            let found = walk.found;
            match walked {
                Ok(()) => collect.found.extend(found),
                Err(err) => next = Some(err),
            }
        }
        collect.found.extend(
            unreadable
                .into_iter()
                .map(|path| Found::Unreadable { path }),
        );
    }
    // A gitlink replaced by a file or a symlink is reported twice: as a
    // changed entry and, since the index has no file there, as untracked.
    // The changed entry is the one to update; a second entry for the path
    // would be two stage-0 entries, which git's fsck rejects.
    let mut found = collect.found;
    found.retain(|f| match f {
        Found::Untracked { path } => index.entry_by_path(path.as_ref()).is_none(),
        _ => true,
    });
    Ok(found)
}

/// `tracked_only` (the scan of tracked files) with our own walk for
/// untracked ones beside it on a second thread (see [`crate::untracked`]);
/// `false`, with nothing collected, where that walk could not be used and
/// the full scan must run. A thread that cannot be started (a process
/// limit) or that panicked is one more reason for the full scan.
fn scan_beside(
    repo: &gix::Repository,
    index: &gix::index::File,
    interrupt: &AtomicBool,
    collect: &mut Collect,
    tracked_only: impl FnOnce(&mut Collect) -> anyhow::Result<()>,
) -> bool {
    let walker_repo = repo.clone();
    let (tracked, untracked) = std::thread::scope(|scope| {
        let walker = std::thread::Builder::new()
            .name("untracked".into())
            .spawn_scoped(scope, move || {
                crate::untracked::walk(&walker_repo, index, interrupt)
            });
        match walker {
            Ok(walker) => (tracked_only(collect), walker.join().ok()),
            Err(_) => (Ok(()), None),
        }
    });
    match (tracked, untracked) {
        (Ok(()), Some(Ok(Some((paths, stats))))) => {
            // Said here, not in the walker's thread: the caller may hold
            // stderr's lock.
            if std::env::var_os("GIT_SESSION_DEBUG_UNTRACKED").is_some() {
                eprintln!("{}", stats.describe(paths.len()));
            }
            collect
                .found
                .extend(paths.into_iter().map(|path| Found::Untracked { path }));
            true
        }
        _ => {
            collect.found.clear();
            false
        }
    }
}

/// The walk for untracked files, passing over the directories that could
/// not be read (and not reporting them as untracked).
struct PassOver<'a> {
    unreadable: &'a [BString],
    found: Vec<Found>,
}

impl gix::dir::walk::Delegate for PassOver<'_> {
    fn emit(
        &mut self,
        entry: gix::dir::EntryRef<'_>,
        _collapsed_directory_status: Option<gix::dir::entry::Status>,
    ) -> gix::dir::walk::Action {
        let path = entry.rela_path.as_ref();
        if matches!(entry.status, gix::dir::entry::Status::Untracked)
            && !self.unreadable.iter().any(|dir| dir == path)
        {
            self.found.push(Found::Untracked {
                path: path.to_owned(),
            });
        }
        std::ops::ControlFlow::Continue(())
    }

    fn can_recurse(
        &mut self,
        entry: gix::dir::EntryRef<'_>,
        for_deletion: Option<gix::dir::walk::ForDeletionMode>,
        worktree_root_is_repository: bool,
    ) -> bool {
        let path = entry.rela_path.as_ref();
        !self.unreadable.iter().any(|dir| dir == path)
            && entry.status.can_recurse(
                entry.disk_kind,
                entry.pathspec_match,
                for_deletion,
                worktree_root_is_repository,
            )
    }
}

/// Unreadable directories one scan passes over before it gives up.
const MAX_UNREADABLE: usize = 100;

/// The work-tree directory (relative, `/`-separated) that could not be
/// listed or entered (permission denied) when a scan failed with `err`.
/// gix says which only in its messages ("Failed to read the directory at
/// \"…\"", "Could not read metadata for worktree path \"…\""): this
/// relies on that wording of the pinned gix (tests pin it).
fn unreadable_directory(err: &anyhow::Error, workdir: &std::path::Path) -> Option<BString> {
    let denied = err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
    });
    if !denied {
        return None;
    }
    err.chain().find_map(|cause| {
        let text = cause.to_string();
        let quoted = |prefix: &str| Some(text.strip_prefix(prefix)?.strip_suffix('"')?.to_owned());
        let dir = match quoted("Failed to read the directory at \"") {
            Some(dir) => std::path::PathBuf::from(dir),
            // A file git tracks whose directory may not be entered.
            None => std::path::Path::new(&quoted("Could not read metadata for worktree path \"")?)
                .parent()?
                .to_path_buf(),
        };
        let rel = dir.strip_prefix(workdir).ok()?;
        if rel.as_os_str().is_empty() {
            return None;
        }
        let rel = gix::path::to_unix_separators_on_windows(gix::path::into_bstr(rel).ok()?);
        Some(rel.into_owned())
    })
}

/// Refuse the snapshot for `path`, or (hooks) record it as left out.
fn refuse_or_skip(
    refusals: Refusals,
    path: &BStr,
    why: &Unaddable,
    tracked: bool,
) -> anyhow::Result<Skip> {
    let path = path.to_str_lossy().into_owned();
    match refusals {
        Refusals::Refuse => Err(Error::CannotAdd {
            detail: why.describe(&path),
            hint: why.hint(&path),
        }
        .into()),
        Refusals::Skip => Ok(Skip {
            detail: format!(
                "{}; {}",
                why.describe(&path),
                if tracked {
                    "its last recorded content is kept"
                } else {
                    "left out"
                }
            ),
            reason: why.reason(),
            path,
        }),
    }
}

/// What hashing one work-tree path gave.
enum Hashed {
    /// The object is written: its id, kind and the stat taken before.
    Object(ObjectId, EntryKind, Stat),
    /// Nothing there (any more), or a directory that is no repository with
    /// a commit checked out.
    Gone,
    /// Something `git add` refuses.
    Refused(Unaddable),
}

/// Hashes work-tree paths as `git add` does. git's filters (clean, eol)
/// and attributes are set up on first use, with the attributes of the index
/// we hold (gix's own constructor would read the index from disk again):
/// that reads .gitattributes, and an idle checkpoint hashes nothing.
struct Hasher<'repo> {
    repo: &'repo gix::Repository,
    workdir: &'repo std::path::Path,
    /// For symbolic links and directories (no filter applies to them).
    pipeline: Option<gix::filter::Pipeline<'repo>>,
    /// For regular files.
    files: Option<Files<'repo>>,
    /// For `working-tree-encoding`, looked up only for files that start
    /// with a byte order mark.
    attributes: Option<gix::AttributeStack<'repo>>,
    /// Filters that failed where git lets them (it warns and adds the
    /// file unfiltered), for the snapshot's warnings.
    warnings: Vec<String>,
}

/// git's clean filters, encodings and eol rules for regular files.
///
/// Built from gix's options with every filter driver made required, so a
/// driver that fails is seen here: gix falls back to the unfiltered
/// content of a non-required driver without a word, where git prints an
/// error and goes on. Such a failure is retried through the same
/// conversions without the drivers (git's fallback) and reported.
struct Files<'repo> {
    repo: &'repo gix::Repository,
    strict: gix::filter::plumbing::Pipeline,
    /// The same without any driver, built when a lenient driver failed.
    without_drivers: Option<gix::filter::plumbing::Pipeline>,
    attributes: gix::worktree::Stack,
    /// The drivers git lets fail (`filter.<driver>.required` unset).
    lenient: Vec<BString>,
}

impl<'repo> Files<'repo> {
    fn new(repo: &'repo gix::Repository, attributes: gix::worktree::Stack) -> anyhow::Result<Self> {
        let mut options = gix::filter::Pipeline::options(repo)
            .context("could not set up git's filters (.gitattributes)")?;
        let lenient = options
            .drivers
            .iter()
            .filter(|driver| !driver.required)
            .map(|driver| driver.name.clone())
            .collect();
        for driver in &mut options.drivers {
            driver.required = true;
        }
        Ok(Files {
            repo,
            strict: gix::filter::plumbing::Pipeline::new(
                repo.command_context()?,
                repo.object_hash(),
                options,
            ),
            without_drivers: None,
            attributes,
            lenient,
        })
    }

    /// `src` at `rela_path` as git stores it; `drivers: false` applies
    /// everything but the filter drivers.
    fn convert<R: std::io::Read>(
        &mut self,
        src: R,
        rela_path: &std::path::Path,
        index: &gix::index::State,
        drivers: bool,
    ) -> anyhow::Result<gix::filter::plumbing::pipeline::convert::ToGitOutcome<'_, R>> {
        let repo = self.repo;
        let pipeline = if drivers {
            &mut self.strict
        } else {
            if self.without_drivers.is_none() {
                let mut options = gix::filter::Pipeline::options(repo)?;
                options.drivers.clear();
                self.without_drivers = Some(gix::filter::plumbing::Pipeline::new(
                    repo.command_context()?,
                    repo.object_hash(),
                    options,
                ));
            }
            self.without_drivers
                .as_mut()
                .context("the pipeline was just built")?
        };
        let entry = self.attributes.at_path(rela_path, None, &repo.objects)?;
        // Whether the index has a blob at the path: CRLF's `auto` asks.
        let unix_path = gix::path::to_unix_separators_on_windows(gix::path::into_bstr(rela_path)?);
        let mut in_index = |buf: &mut Vec<u8>| -> gix::Result<Option<()>> {
            use gix::prelude::Find as _;
            let Some(entry) = index.entry_by_path(unix_path.as_ref()) else {
                return Ok(None);
            };
            let object = repo.objects.try_find(&entry.id, buf)?;
            Ok(object
                .filter(|object| object.kind == gix::object::Kind::Blob)
                .map(|_| ()))
        };
        Ok(pipeline.convert_to_git(
            src,
            rela_path,
            &mut |_, outcome| {
                entry.matching_attributes(outcome);
            },
            &mut in_index,
        )?)
    }
}

impl<'repo> Hasher<'repo> {
    fn new(repo: &'repo gix::Repository, workdir: &'repo std::path::Path) -> Self {
        Hasher {
            repo,
            workdir,
            pipeline: None,
            files: None,
            attributes: None,
            warnings: Vec::new(),
        }
    }

    fn files(&mut self, index: &gix::index::State) -> anyhow::Result<&mut Files<'repo>> {
        if self.files.is_none() {
            let attributes = Self::attribute_stack(self.repo, index)?.detach();
            self.files = Some(Files::new(self.repo, attributes)?);
        }
        self.files.as_mut().context("the filters were just set up")
    }

    /// The command of the driver that applies to `rela_path`, when it is
    /// one git lets fail; the warning git would print otherwise.
    fn lenient_failure(
        &mut self,
        index: &gix::index::State,
        rela_path: &BStr,
    ) -> anyhow::Result<Option<String>> {
        let Some(driver) = self.attribute(index, rela_path, "filter")? else {
            return Ok(None);
        };
        let lenient = self
            .files
            .as_ref()
            .is_some_and(|files| files.lenient.iter().any(|name| *name == driver));
        if !lenient {
            return Ok(None);
        }
        let config = self.repo.config_snapshot();
        let command = ["clean", "process"].iter().find_map(|key| {
            config
                .string(format!("filter.{driver}.{key}").as_str())
                .map(|c| c.to_str_lossy().into_owned())
        });
        Ok(command.map(|command| {
            format!(
                "external filter '{command}' (filter '{driver}') failed for '{rela_path}': it is committed without that filter, as git add does"
            )
        }))
    }

    fn attribute_stack(
        repo: &'repo gix::Repository,
        index: &gix::index::State,
    ) -> anyhow::Result<gix::AttributeStack<'repo>> {
        repo.attributes_only(
            index,
            gix::worktree::stack::state::attributes::Source::WorktreeThenIdMapping,
        )
        .context("could not read .gitattributes")
    }

    fn pipeline(
        &mut self,
        index: &gix::index::State,
    ) -> anyhow::Result<&mut gix::filter::Pipeline<'repo>> {
        if self.pipeline.is_none() {
            let attributes = Self::attribute_stack(self.repo, index)?.detach();
            self.pipeline = Some(
                gix::filter::Pipeline::new(self.repo, attributes)
                    .context("could not set up git's filters (.gitattributes)")?,
            );
        }
        self.pipeline
            .as_mut()
            .context("the filter pipeline was just built")
    }

    /// The `working-tree-encoding` of `rela_path`, if one is set.
    fn encoding(
        &mut self,
        index: &gix::index::State,
        rela_path: &BStr,
    ) -> anyhow::Result<Option<String>> {
        self.attribute(index, rela_path, "working-tree-encoding")
    }

    /// Why hashing `rela_path` failed with `err`, when it is something
    /// `git add` refuses: a required clean filter that failed, or content
    /// its working-tree-encoding cannot decode (not an I/O error).
    fn explain(
        &mut self,
        index: &gix::index::State,
        rela_path: &BStr,
        err: &anyhow::Error,
    ) -> anyhow::Result<Option<Unaddable>> {
        if let Some(why) = self.required_filter(index, rela_path)? {
            return Ok(Some(why));
        }
        if err.chain().any(|e| e.is::<std::io::Error>()) {
            return Ok(None);
        }
        Ok(self
            .encoding(index, rela_path)?
            .map(|encoding| Unaddable::EncodingFailed { encoding }))
    }

    /// Why hashing `rela_path` failed, when its filter driver is required
    /// and has a clean command (what `git add` refuses the path for).
    fn required_filter(
        &mut self,
        index: &gix::index::State,
        rela_path: &BStr,
    ) -> anyhow::Result<Option<Unaddable>> {
        let Some(driver) = self.attribute(index, rela_path, "filter")? else {
            return Ok(None);
        };
        let config = self.repo.config_snapshot();
        let required = config
            .boolean(format!("filter.{driver}.required").as_str())
            .unwrap_or(false);
        let command = ["clean", "process"].iter().find_map(|key| {
            config
                .string(format!("filter.{driver}.{key}").as_str())
                .map(|c| c.to_str_lossy().into_owned())
        });
        let (true, Some(command)) = (required, command) else {
            return Ok(None);
        };
        let missing = command
            .split_whitespace()
            .next()
            .filter(|program| !program.contains('/') && !crate::platform::on_path(program))
            .map(str::to_string);
        Ok(Some(Unaddable::FilterFailed {
            driver,
            command,
            missing,
        }))
    }

    /// The value of attribute `name` for `rela_path`, if one is set.
    fn attribute(
        &mut self,
        index: &gix::index::State,
        rela_path: &BStr,
        name: &str,
    ) -> anyhow::Result<Option<String>> {
        if self.attributes.is_none() {
            self.attributes = Some(Self::attribute_stack(self.repo, index)?);
        }
        let stack = self
            .attributes
            .as_mut()
            .context("the attribute stack was just built")?;
        let mut outcome = stack.selected_attribute_matches([name]);
        stack
            .at_entry(rela_path, None)
            .with_context(|| format!("could not read the attributes of '{rela_path}'"))?
            .matching_attributes(&mut outcome);
        let encoding = outcome
            .iter_selected()
            .find_map(|m| match m.assignment.state {
                gix::attrs::StateRef::Value(value) => {
                    Some(value.as_bstr().to_str_lossy().into_owned())
                }
                _ => None,
            });
        Ok(encoding)
    }

    /// git's BOM check (convert.c's validate_encoding), for a file whose
    /// content starts with `head`: the lookup runs only when there is a
    /// mark, so ordinary files cost nothing.
    fn check_bom(
        &mut self,
        index: &gix::index::State,
        rela_path: &BStr,
        head: &[u8],
    ) -> anyhow::Result<Option<Unaddable>> {
        if !starts_with_utf_bom(head) {
            return Ok(None);
        }
        Ok(self
            .encoding(index, rela_path)?
            .and_then(|encoding| prohibited_bom(&encoding, head)))
    }

    /// Hash one work-tree path as `git add` would and write the object.
    fn hash(&mut self, index: &gix::index::File, rela_path: &BStr) -> anyhow::Result<Hashed> {
        let full = self.workdir.join(gix::path::from_bstr(rela_path)?);
        // Stat first, with gix's lstat (std's would report birth time as
        // ctime and make git rehash everything); a change after this is
        // seen next time.
        let Ok(meta) = gix::index::fs::Metadata::from_path_no_follow(&full) else {
            return Ok(Hashed::Gone);
        };
        let stat = Stat::from_fs(&meta).unwrap_or_default();
        let added = || format!("could not add '{rela_path}' to the object database");
        if meta.is_file() {
            let kind = if meta.is_executable() {
                EntryKind::BlobExecutable
            } else {
                EntryKind::Blob
            };
            let hashed = crate::repo::retry_beside_gc(|| {
                if meta.len() >= STREAM_THRESHOLD {
                    self.stream_file(index, &full, rela_path, meta.len())
                } else {
                    self.small_file(index, &full, rela_path)
                }
            });
            // A required clean filter that fails is git's refusal, not ours
            // to explain as an I/O error.
            let hashed = match hashed {
                Err(err) => match self.explain(index, rela_path, &err)? {
                    Some(why) => Ok(Some(Err(why))),
                    None => Err(err),
                },
                ok => ok,
            };
            return Ok(match hashed.with_context(added)? {
                Some(Ok(id)) => Hashed::Object(id, kind, stat),
                Some(Err(why)) => Hashed::Refused(why),
                None => Hashed::Gone,
            });
        }
        if !meta.is_dir() && !meta.is_symlink() {
            return Ok(Hashed::Refused(Unaddable::SpecialFile(special_file_kind(
                &full,
            ))));
        }
        let pipeline = self.pipeline(index)?;
        let hashed = crate::repo::retry_beside_gc(|| {
            pipeline
                .worktree_file_to_object(rela_path, index)
                .map_err(anyhow::Error::from)
        });
        Ok(match hashed.with_context(added)? {
            Some((id, kind, _)) => Hashed::Object(id, kind, stat),
            None => Hashed::Gone,
        })
    }

    /// A regular file that fits in memory, read once: for its BOM and for
    /// the object. `None` when it vanished.
    fn small_file(
        &mut self,
        index: &gix::index::File,
        full: &std::path::Path,
        rela_path: &BStr,
    ) -> anyhow::Result<Option<Result<ObjectId, Unaddable>>> {
        use gix::filter::plumbing::pipeline::convert::ToGitOutcome;
        use std::io::Read as _;
        let data = match std::fs::read(full) {
            Ok(data) => data,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        if let Some(why) = self.check_bom(index, rela_path, &data)? {
            return Ok(Some(Err(why)));
        }
        let rela = gix::path::from_bstr(rela_path)?;
        let repo = self.repo;
        let convert = |files: &mut Files<'_>, drivers: bool| -> anyhow::Result<Option<Vec<u8>>> {
            Ok(match files.convert(&data[..], &rela, index, drivers)? {
                ToGitOutcome::Unchanged(_) => None,
                ToGitOutcome::Buffer(buf) => Some(buf.to_vec()),
                ToGitOutcome::Process(mut filtered) => {
                    let mut out = Vec::new();
                    filtered.read_to_end(&mut out)?;
                    Some(out)
                }
            })
        };
        let converted = match convert(self.files(index)?, true) {
            Ok(converted) => converted,
            Err(err) => match self.lenient_failure(index, rela_path)? {
                Some(warning) => {
                    self.warnings.push(warning);
                    convert(self.files(index)?, false)?
                }
                None => return Err(err),
            },
        };
        let id = repo.write_blob(converted.as_deref().unwrap_or(&data))?;
        Ok(Some(Ok(id.detach())))
    }

    /// A large regular file, written through git's filters without being
    /// held in memory. `None` when it vanished.
    fn stream_file(
        &mut self,
        index: &gix::index::File,
        full: &std::path::Path,
        rela_path: &BStr,
        len: u64,
    ) -> anyhow::Result<Option<Result<ObjectId, Unaddable>>> {
        use gix::filter::plumbing::pipeline::convert::ToGitOutcome;
        use gix::objs::Write as _;
        use std::io::{Read as _, Seek as _};
        let mut file = match std::fs::File::open(full) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let mut head = Vec::with_capacity(4);
        (&mut file).take(4).read_to_end(&mut head)?;
        if let Some(why) = self.check_bom(index, rela_path, &head)? {
            return Ok(Some(Err(why)));
        }
        file.rewind()?;
        let rela = gix::path::from_bstr(rela_path)?;
        let repo = self.repo;
        let write = |files: &mut Files<'_>, file: std::fs::File, drivers: bool| {
            let blob = gix::object::Kind::Blob;
            anyhow::Ok(match files.convert(file, &rela, index, drivers)? {
                ToGitOutcome::Unchanged(file) => {
                    repo.objects
                        .write_stream(blob, len, &mut Exact::new(file, len))?
                }
                ToGitOutcome::Buffer(buf) => repo.write_blob(buf)?.detach(),
                ToGitOutcome::Process(mut filtered) => {
                    // A clean filter's output has no size until it ends:
                    // spool it next to the objects it becomes one of.
                    let mut spool = tempfile::tempfile_in(repo.objects.store_ref().path())?;
                    let size = std::io::copy(&mut filtered, &mut spool)?;
                    spool.rewind()?;
                    repo.objects
                        .write_stream(blob, size, &mut Exact::new(spool, size))?
                }
            })
        };
        let id = match write(self.files(index)?, file, true) {
            Ok(id) => id,
            Err(err) => match self.lenient_failure(index, rela_path)? {
                Some(warning) => {
                    self.warnings.push(warning);
                    write(self.files(index)?, std::fs::File::open(full)?, false)?
                }
                None => return Err(err),
            },
        };
        Ok(Some(Ok(id)))
    }
}

impl Hasher<'_> {
    /// The id `git add` would give `rela_path` now, without writing it;
    /// `None` when it is gone, not a file or symlink, or too large to be
    /// worth reading here.
    fn id_of(
        &mut self,
        index: &gix::index::File,
        rela_path: &BStr,
        meta: &gix::index::fs::Metadata,
    ) -> anyhow::Result<Option<ObjectId>> {
        use gix::filter::plumbing::pipeline::convert::ToGitOutcome;
        use std::io::Read as _;
        let full = self.workdir.join(gix::path::from_bstr(rela_path)?);
        let kind = self.repo.object_hash();
        let blob = gix::object::Kind::Blob;
        if meta.is_symlink() {
            let Ok(target) = std::fs::read_link(&full) else {
                return Ok(None);
            };
            let target = gix::path::into_bstr(target)?;
            let target = gix::path::to_unix_separators_on_windows(target);
            return Ok(Some(gix::objs::compute_hash(kind, blob, &target)?));
        }
        if !meta.is_file() || meta.len() >= STREAM_THRESHOLD {
            return Ok(None);
        }
        let Ok(data) = std::fs::read(&full) else {
            return Ok(None);
        };
        let rela = gix::path::from_bstr(rela_path)?;
        let id = match self
            .pipeline(index)?
            .convert_to_git(&data[..], &rela, index)?
        {
            ToGitOutcome::Unchanged(_) => gix::objs::compute_hash(kind, blob, &data)?,
            ToGitOutcome::Buffer(buf) => gix::objs::compute_hash(kind, blob, buf)?,
            ToGitOutcome::Process(mut filtered) => {
                let mut out = Vec::new();
                filtered.read_to_end(&mut out)?;
                gix::objs::compute_hash(kind, blob, &out)?
            }
        };
        Ok(Some(id))
    }
}

/// git's answer to the racy-git problem on the writing side
/// (read-cache.c's ce_smudge_racily_clean_entry), done just before the
/// index is written.
///
/// A file changed again after it was hashed, within the same tick of the
/// file system's clock (4 ms here, a second or two on some file systems)
/// and to the same size, has exactly the stat data the entry records. If
/// the index is then written in a later tick, nothing can tell the entry
/// from a clean one (the entry is not newer than the index), and the next
/// checkpoint would skip the change: lost work. So every entry whose file
/// was modified at or after `since` (when this checkpoint took its locks,
/// by the same clock) and whose stat data still matches is hashed once
/// more; one whose content differs gets its size set to 0, as git does,
/// which makes every later scan (ours, gix's, git's) look at the content.
/// An entry modified before `since` cannot be affected: any later change
/// gets a later time. Returns how many entries were smudged.
pub fn smudge_racily_clean(
    repo: &gix::Repository,
    index: &mut gix::index::File,
    since: std::time::SystemTime,
) -> anyhow::Result<usize> {
    let Some(workdir) = repo.workdir().map(std::path::Path::to_path_buf) else {
        return Ok(0);
    };
    let Ok(since) = since.duration_since(std::time::UNIX_EPOCH) else {
        return Ok(0);
    };
    let since = (since.as_secs(), since.subsec_nanos());
    let stat_options = repo.stat_options()?;
    let candidates: Vec<usize> = index
        .entries()
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.stage_raw() == 0
                && (is_file_mode(e.mode) || e.mode == Mode::SYMLINK)
                && !e
                    .flags
                    .intersects(Flags::SKIP_WORKTREE | Flags::INTENT_TO_ADD | Flags::ASSUME_VALID)
                && e.stat.size != 0
                && (u64::from(e.stat.mtime.secs), e.stat.mtime.nsecs) >= since
        })
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return Ok(0);
    }
    let mut hasher = Hasher::new(repo, &workdir);
    let mut smudged = 0;
    for i in candidates {
        let entry = &index.entries()[i];
        let path = entry.path(index).to_owned();
        let full = workdir.join(gix::path::from_bstr(path.as_bstr())?);
        let Ok(meta) = gix::index::fs::Metadata::from_path_no_follow(&full) else {
            continue;
        };
        let Ok(now) = Stat::from_fs(&meta) else {
            continue;
        };
        // Stat data that differs already shows the change.
        if !now.matches(&entry.stat, stat_options) {
            continue;
        }
        let same = hasher.id_of(index, path.as_ref(), &meta)? == Some(entry.id);
        if !same {
            index.entries_mut()[i].stat.size = 0;
            smudged += 1;
        }
    }
    Ok(smudged)
}

/// Files at least this large are streamed into the object database: gix's
/// own path (`write_blob_stream`) reads the whole file into memory first.
const STREAM_THRESHOLD: u64 = 16 << 20;

/// Whether `data` starts with a UTF-16 or UTF-32 byte order mark (the
/// UTF-32LE mark starts with the UTF-16LE one).
fn starts_with_utf_bom(data: &[u8]) -> bool {
    data.starts_with(&[0xFE, 0xFF])
        || data.starts_with(&[0xFF, 0xFE])
        || data.starts_with(&[0, 0, 0xFE, 0xFF])
}

/// git refuses a byte order mark in a file whose working-tree-encoding
/// names the byte order (UTF-16LE/BE, UTF-32LE/BE, spelt with or without
/// the dash, in any case), as convert.c's has_prohibited_utf_bom does.
fn prohibited_bom(encoding: &str, data: &[u8]) -> Option<Unaddable> {
    let upper = encoding.to_ascii_uppercase();
    let rest = upper.strip_prefix("UTF")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let (width, marks): (&str, [&[u8]; 2]) = match rest {
        "16LE" | "16BE" => ("16", [&[0xFE, 0xFF], &[0xFF, 0xFE]]),
        "32LE" | "32BE" => ("32", [&[0, 0, 0xFE, 0xFF], &[0xFF, 0xFE, 0, 0]]),
        _ => return None,
    };
    marks
        .iter()
        .any(|mark| data.starts_with(mark))
        .then(|| Unaddable::ProhibitedBom {
            encoding: encoding.to_string(),
            instead: format!("UTF-{width}"),
        })
}

/// Untracked paths git would refuse to add ([`refused_path`]) are left
/// out and reported: no commit can hold them (hosts and `fsck --strict`
/// reject it), and `git add -A` refuses the whole add over one of them.
fn leave_out_refused_paths(
    repo: &gix::Repository,
    workdir: &std::path::Path,
    found: Vec<Found>,
    skipped: &mut Vec<Skip>,
) -> Vec<Found> {
    let protect = Protect::of(repo);
    found
        .into_iter()
        .filter(|item| {
            let Found::Untracked { path } = item else {
                return true;
            };
            let Some(why) = refused(workdir, path.as_ref(), protect) else {
                return true;
            };
            skipped.push(Skip {
                path: path.to_str_lossy().into_owned(),
                reason: "invalid-path",
                detail: format!("git refuses this path ({why})"),
            });
            false
        })
        .collect()
}

/// [`refused_path`] for a work-tree path, looking at the file only when
/// being a symlink matters (a `.gitmodules` symlink).
fn refused(workdir: &std::path::Path, path: &BStr, protect: Protect) -> Option<String> {
    refused_path(path, false, protect).or_else(|| {
        let as_symlink = refused_path(path, true, protect)?;
        let full = workdir.join(gix::path::from_bstr(path).ok()?);
        std::fs::symlink_metadata(full)
            .is_ok_and(|m| m.file_type().is_symlink())
            .then_some(as_symlink)
    })
}

/// Which of git's path protections are on: `core.protectNTFS` (on by
/// default, on every platform) and `core.protectHFS` (on by default on
/// macOS), as git's `verify_path` applies them.
#[derive(Clone, Copy, Debug)]
struct Protect {
    ntfs: bool,
    hfs: bool,
}

impl Protect {
    fn of(repo: &gix::Repository) -> Protect {
        let config = repo.config_snapshot();
        Protect {
            ntfs: config.boolean("core.protectNTFS").unwrap_or(true),
            hfs: config
                .boolean("core.protectHFS")
                .unwrap_or(cfg!(target_os = "macos")),
        }
    }
}

/// Why git refuses to put `path` in its index ("invalid path"), if it does:
/// a `.git` component in any spelling the file systems in `protect` take
/// for `.git` (`.GIT`, `git~1`, `.git ` on NTFS, where a backslash also
/// separates components; `.g\u{200c}it` on HFS+), a `.gitmodules` symlink,
/// an empty, `.` or `..` component. The checks are gix's, applied where
/// git's `verify_path` applies them.
fn refused_path(path: &BStr, symlink: bool, protect: Protect) -> Option<String> {
    use gix::validate::path::component::{Error as E, Mode, Options};
    let options = Options {
        protect_windows: false,
        protect_hfs: protect.hfs,
        protect_ntfs: protect.ntfs,
    };
    let ntfs_only = Options {
        protect_windows: false,
        protect_hfs: false,
        protect_ntfs: true,
    };
    let mut components = path.split(|b| *b == b'/').peekable();
    while let Some(component) = components.next() {
        let mode = (symlink && components.peek().is_none()).then_some(Mode::Symlink);
        if let Err(err) = gix::validate::path::component(component.as_bstr(), mode, options) {
            return Some(err.to_string());
        }
        // On NTFS a backslash separates components too: git checks for
        // `.git` after each one, whatever the platform.
        if protect.ntfs && component.contains(&b'\\') {
            for part in component.split(|b| *b == b'\\') {
                if let Err(err @ (E::DotGitDir | E::SymlinkedGitModules)) =
                    gix::validate::path::component(part.as_bstr(), mode, ntfs_only)
                {
                    return Some(err.to_string());
                }
            }
        }
    }
    None
}

/// What kind of file git cannot add `path` is, for the message.
fn special_file_kind(path: &std::path::Path) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            let kind = meta.file_type();
            if kind.is_fifo() {
                return "a named pipe (FIFO)";
            }
            if kind.is_socket() {
                return "a socket";
            }
            if kind.is_block_device() || kind.is_char_device() {
                return "a device";
            }
        }
    }
    let _ = path;
    "neither a regular file, a symbolic link nor a directory"
}

/// Reads exactly `left` bytes, or fails: a file that shrinks while it is
/// read must not become an object whose header states another size.
struct Exact<R> {
    inner: std::io::Take<R>,
    left: u64,
}

impl<R: std::io::Read> Exact<R> {
    fn new(inner: R, len: u64) -> Self {
        Exact {
            inner: inner.take(len),
            left: len,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while it was read",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn mode_of(kind: EntryKind) -> Mode {
    match kind {
        EntryKind::Blob => Mode::FILE,
        EntryKind::BlobExecutable => Mode::FILE_EXECUTABLE,
        EntryKind::Link => Mode::SYMLINK,
        EntryKind::Commit => Mode::COMMIT,
        EntryKind::Tree => Mode::DIR,
    }
}

fn is_file_mode(mode: Mode) -> bool {
    mode == Mode::FILE || mode == Mode::FILE_EXECUTABLE
}

fn kind_of(mode: Mode) -> EntryKind {
    if mode == Mode::FILE_EXECUTABLE {
        EntryKind::BlobExecutable
    } else if mode == Mode::SYMLINK {
        EntryKind::Link
    } else if mode == Mode::COMMIT {
        EntryKind::Commit
    } else if mode == Mode::DIR {
        EntryKind::Tree
    } else {
        EntryKind::Blob
    }
}

/// Write the tree for `index`, editing `base_tree` so only changed subtrees
/// are written. Returns the tree and the paths that differ from the base.
pub fn write_tree(
    repo: &gix::Repository,
    index: &gix::index::File,
    base_tree: ObjectId,
) -> anyhow::Result<(ObjectId, Vec<Change>)> {
    let Diff { removals, upserts } = diff_tree_index(repo, base_tree, index)?;
    let mut changes: Vec<Change> = Vec::with_capacity(removals.len() + upserts.len());
    let upserted: std::collections::HashSet<&BString> = upserts.iter().map(|u| &u.0).collect();
    for path in &removals {
        // A type change (file → symlink) shows as a removal and an addition.
        if !upserted.contains(path) {
            changes.push(Change {
                path: path.to_str_lossy().into_owned(),
                kind: ChangeKind::Deleted,
            });
        }
    }
    let removed: std::collections::HashSet<&BString> = removals.iter().collect();
    for (path, _, _, modified) in &upserts {
        let existed = *modified || removed.contains(path);
        changes.push(Change {
            path: path.to_str_lossy().into_owned(),
            kind: if existed {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            },
        });
    }
    let upserts: Vec<_> = upserts
        .into_iter()
        .map(|(path, kind, id, _)| (path, kind, id))
        .collect();
    edit_base_tree(repo, base_tree, &removals, &upserts, changes)
}

/// The fast path: `base_tree` edited by the `touched` paths, each with its
/// entry as read (`None`: untracked or intent-to-add). The index as read
/// was exactly `base_tree`, so these are all the differences.
fn edit_tree(
    repo: &gix::Repository,
    index: &gix::index::File,
    base_tree: ObjectId,
    touched: Vec<(BString, Option<(ObjectId, Mode)>)>,
) -> anyhow::Result<(ObjectId, Vec<Change>)> {
    let mut removals = Vec::new();
    let mut upserts = Vec::new();
    let mut changes = Vec::new();
    for (path, old) in touched {
        // An intent-to-add entry is in no tree (one git refused to add
        // stays one).
        let new = index
            .entry_by_path(path.as_ref())
            .filter(|e| !e.flags.contains(Flags::INTENT_TO_ADD))
            .map(|e| (e.id, e.mode));
        let kind = match (old, new) {
            (old, new) if old == new => continue,
            (Some(_), None) => {
                removals.push(path.clone());
                ChangeKind::Deleted
            }
            (old, Some((id, mode))) => {
                upserts.push((path.clone(), kind_of(mode), id));
                if old.is_some() {
                    ChangeKind::Modified
                } else {
                    ChangeKind::Added
                }
            }
            (None, None) => continue,
        };
        changes.push(Change {
            path: path.to_str_lossy().into_owned(),
            kind,
        });
    }
    edit_base_tree(repo, base_tree, &removals, &upserts, changes)
}

/// What both tree writers end with: `base_tree` with `removals` removed
/// and `upserts` put in, written; `changes` (what they describe) sorted by
/// path.
fn edit_base_tree(
    repo: &gix::Repository,
    base_tree: ObjectId,
    removals: &[BString],
    upserts: &[(BString, EntryKind, ObjectId)],
    mut changes: Vec<Change>,
) -> anyhow::Result<(ObjectId, Vec<Change>)> {
    if removals.is_empty() && upserts.is_empty() {
        ensure_tree_exists(repo, base_tree)?;
        return Ok((base_tree, changes));
    }
    let tree = crate::repo::retry_beside_gc(|| {
        let mut editor = repo
            .edit_tree(base_tree)
            .context("could not read the base tree")?;
        // All removals first, then upserts: a file ↔ directory swap needs
        // that order. Paths go in as bytes: a name that is not UTF-8 is
        // recorded as git records it, not as U+FFFD.
        for path in removals {
            editor.remove(path)?;
        }
        for (path, kind, id) in upserts {
            editor.upsert(path, *kind, *id)?;
        }
        Ok(editor.write().context("could not write the tree")?.detach())
    })?;
    ensure_tree_exists(repo, tree)?;
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((tree, changes))
}

/// How the index differs from a tree.
struct Diff {
    /// Paths in the tree and not in the index.
    removals: Vec<BString>,
    /// Paths whose entry is new (`false`) or modified (`true`).
    upserts: Vec<(BString, EntryKind, ObjectId, bool)>,
}

fn diff_tree_index(
    repo: &gix::Repository,
    tree: ObjectId,
    index: &gix::index::State,
) -> anyhow::Result<Diff> {
    use gix::diff::index::ChangeRef;
    if index.is_sparse() {
        return diff_tree_sparse_index(repo, tree, index);
    }
    // A real (empty) pathspec: without one, gix limits itself to the
    // current directory.
    let mut pathspec = repo.pathspec(
        false,
        None::<&str>,
        false,
        index,
        gix::worktree::stack::state::attributes::Source::IdMapping,
    )?;
    let mut diff = Diff {
        removals: Vec::new(),
        upserts: Vec::new(),
    };
    repo.tree_index_status(
        &tree,
        index,
        Some(&mut pathspec),
        gix::status::tree_index::TrackRenames::Disabled,
        |change, _, _| {
            let modified = matches!(change, ChangeRef::Modification { .. });
            match change {
                ChangeRef::Deletion { location, .. } => diff.removals.push(location.into_owned()),
                ChangeRef::Addition {
                    location,
                    entry_mode,
                    id,
                    ..
                }
                | ChangeRef::Modification {
                    location,
                    entry_mode,
                    id,
                    ..
                } => diff.upserts.push((
                    location.into_owned(),
                    kind_of(entry_mode),
                    id.into_owned(),
                    modified,
                )),
                ChangeRef::Rewrite { .. } => {}
            }
            Ok(std::ops::ControlFlow::Continue(()))
        },
    )
    .context("could not compare the index with the base tree")?;
    Ok(diff)
}

/// [`diff_tree_index`] for a sparse index (`index.sparse`), which gix
/// cannot diff: its directory entries stand for whole subtrees, so the
/// tree is read down to them and compared by id there, never below. The
/// cost is that of the cone, as for git.
fn diff_tree_sparse_index(
    repo: &gix::Repository,
    tree: ObjectId,
    index: &gix::index::State,
) -> anyhow::Result<Diff> {
    let sparse = sparse_dirs(index);
    let mut in_tree = std::collections::HashMap::new();
    flatten_tree(repo, tree, &mut BString::default(), &sparse, &mut in_tree)?;
    let mut diff = Diff {
        removals: Vec::new(),
        upserts: Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    for entry in index.entries() {
        if entry.stage_raw() != 0 || entry.flags.contains(Flags::INTENT_TO_ADD) {
            continue;
        }
        let path = index_path(entry, index);
        let new = (kind_of(entry.mode), entry.id);
        let old = in_tree.get(&path).copied();
        seen.insert(path.clone());
        if old != Some(new) {
            diff.upserts.push((path, new.0, new.1, old.is_some()));
        }
    }
    let mut removals: Vec<BString> = in_tree
        .into_keys()
        .filter(|path| !seen.contains(path))
        .collect();
    removals.sort();
    diff.removals = removals;
    Ok(diff)
}

/// An entry's path, without the `/` a sparse directory entry ends with.
fn index_path(entry: &gix::index::Entry, index: &gix::index::State) -> BString {
    let path = entry.path(index);
    path.strip_suffix(b"/").unwrap_or(path).into()
}

/// The directories a sparse index holds as single entries, without their
/// trailing `/`.
pub(crate) fn sparse_dirs(index: &gix::index::State) -> std::collections::HashSet<BString> {
    index
        .entries()
        .iter()
        .filter(|e| e.mode == Mode::DIR)
        .map(|e| index_path(e, index))
        .collect()
}

/// Every entry of `tree` under `prefix`, by path, descending into
/// subtrees except those in `stop` (recorded as trees).
fn flatten_tree(
    repo: &gix::Repository,
    tree: ObjectId,
    prefix: &mut BString,
    stop: &std::collections::HashSet<BString>,
    out: &mut std::collections::HashMap<BString, (EntryKind, ObjectId)>,
) -> anyhow::Result<()> {
    let object = repo
        .find_tree(tree)
        .with_context(|| format!("could not read tree {tree}"))?;
    for entry in object.iter() {
        let entry = entry.with_context(|| format!("tree {tree} is damaged"))?;
        let len = prefix.len();
        if len > 0 {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(entry.filename());
        let kind = entry.mode().kind();
        if kind == EntryKind::Tree && !stop.contains(prefix) {
            flatten_tree(repo, entry.oid().to_owned(), prefix, stop, out)?;
        } else {
            out.insert(prefix.clone(), (kind, entry.oid().to_owned()));
        }
        prefix.truncate(len);
    }
    Ok(())
}

/// What differs between `tree` and the work tree, as a checkpoint would
/// record it, and the untracked files it would leave out (secrets, too
/// large), without writing anything: for `status` and `doctor`.
pub fn changes_since(
    repo: &gix::Repository,
    tree: ObjectId,
    options: &Options,
    interrupt: &AtomicBool,
) -> anyhow::Result<(Vec<Change>, Vec<Skip>)> {
    let matcher = crate::secrets::Matcher::new(&options.secret_patterns, &options.secret_allow);
    let mut skipped = Vec::new();
    let workdir = repo
        .workdir()
        .context("a work tree is required")?
        .to_path_buf();
    let index = crate::index_file::read(repo)?;
    let Diff { removals, upserts } = diff_tree_index(repo, tree, &index)?;
    let mut kinds: std::collections::BTreeMap<BString, ChangeKind> = Default::default();
    for path in removals {
        kinds.insert(path, ChangeKind::Deleted);
    }
    let mut added_in_index = std::collections::HashSet::new();
    for (path, _, _, modified) in upserts {
        let kind = if modified || kinds.contains_key(&path) {
            ChangeKind::Modified
        } else {
            added_in_index.insert(path.clone());
            ChangeKind::Added
        };
        kinds.insert(path, kind);
    }
    let (found, unencodable) = scan_or_explain(repo, &index, &workdir, Refusals::Skip, interrupt)?;
    skipped.extend(unencodable);
    let mut refused = Vec::new();
    let found = leave_out_refused_paths(repo, &workdir, found, &mut refused);
    skipped.extend(refused);
    for found in found {
        let (path, gone) = match found {
            Found::Changed { index: i } | Found::Submodule { index: i, .. } => {
                (index.entries()[i].path(&index).to_owned(), false)
            }
            Found::Removed { index: i } => (index.entries()[i].path(&index).to_owned(), true),
            Found::Conflict { path } => (path, false),
            Found::Untracked { path } => {
                let rel = path.to_str_lossy().into_owned();
                let full = workdir.join(gix::path::from_bstr(path.as_bstr())?);
                let skip = std::fs::symlink_metadata(&full)
                    .ok()
                    .and_then(|meta| left_out(&matcher, options, rel, &full, &meta));
                if let Some(skip) = skip {
                    skipped.push(skip);
                } else {
                    kinds.insert(path, ChangeKind::Added);
                }
                continue;
            }
            Found::Unreadable { path } => {
                skipped.push(Skip {
                    path: path.to_str_lossy().into_owned(),
                    reason: "unreadable",
                    detail: "a directory that could not be read (permission denied)".into(),
                });
                continue;
            }
            Found::Stat { .. } => continue,
        };
        let was_added = added_in_index.contains(&path);
        match (gone, was_added) {
            (true, true) => {
                kinds.remove(&path);
            }
            (true, false) => {
                kinds.insert(path, ChangeKind::Deleted);
            }
            (false, true) => {}
            (false, false) => {
                kinds.insert(path, ChangeKind::Modified);
            }
        }
    }
    let changes = kinds
        .into_iter()
        .map(|(path, kind)| Change {
            path: path.to_str_lossy().into_owned(),
            kind,
        })
        .collect();
    Ok((changes, skipped))
}

/// gix treats the empty tree as always present; git's fsck does not.
fn ensure_tree_exists(repo: &gix::Repository, tree: ObjectId) -> anyhow::Result<()> {
    if tree.is_empty_tree() {
        crate::repo::retry_beside_gc(|| Ok(repo.write_object(gix::objs::Tree::empty())?))?;
    }
    Ok(())
}

/// A size as people read it: `512 bytes`, `3.5 KiB`, `20 MiB`, `3 GiB`
/// (powers of 1024, one decimal where it is not .0).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} byte{}", if bytes == 1 { "" } else { "s" });
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(3584), "3.5 KiB");
        assert_eq!(human_size(20 * 1024 * 1024), "20 MiB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3 GiB");
    }

    #[test]
    fn boms_are_prohibited_as_git_prohibits_them() {
        let le16: &[u8] = b"\xff\xfeh\0";
        let be16: &[u8] = b"\xfe\xff\0h";
        for encoding in ["UTF-16LE", "utf16le", "Utf-16be", "UTF16BE"] {
            for data in [le16, be16] {
                let why = prohibited_bom(encoding, data).expect(encoding);
                assert_eq!(
                    why,
                    Unaddable::ProhibitedBom {
                        encoding: encoding.into(),
                        instead: "UTF-16".into()
                    }
                );
            }
        }
        assert!(prohibited_bom("UTF-32LE", b"\xff\xfe\0\0h\0\0\0").is_some());
        assert!(prohibited_bom("UTF-32BE", b"\0\0\xfe\xffh").is_some());
        // The mark is allowed (and required) where the byte order is not
        // named; without a mark nothing is prohibited.
        for (encoding, data) in [
            ("UTF-16", le16),
            ("UTF-16LE-BOM", le16),
            ("ISO-8859-1", le16),
            ("UTF-16LE", b"h\0i\0".as_slice()),
            ("UTF-32LE", le16),
        ] {
            assert!(prohibited_bom(encoding, data).is_none(), "{encoding}");
        }
        assert!(starts_with_utf_bom(le16) && starts_with_utf_bom(be16));
        assert!(!starts_with_utf_bom(b"plain"));
    }

    /// The names git's verify_path refuses, per protection.
    #[test]
    fn refused_paths_follow_gits_protections() {
        let ntfs = Protect {
            ntfs: true,
            hfs: false,
        };
        let hfs = Protect {
            ntfs: false,
            hfs: true,
        };
        let none = Protect {
            ntfs: false,
            hfs: false,
        };
        for path in [
            ".git/x",
            ".GIT/x",
            "a/.Git/b",
            ".git\\hooks\\post-checkout",
            "a\\.git\\b",
            "git~1/x",
            ".git. /x",
            ".git::$INDEX_ALLOCATION/x",
            "a//b",
            "a/../b",
        ] {
            assert!(refused_path(path.into(), false, ntfs).is_some(), "{path}");
        }
        for path in [
            "a\\b",
            ".gitignore",
            ".github/workflows/ci.yml",
            "git~2/x",
            "x.git",
            ".g\u{200c}it/x",
        ] {
            assert!(refused_path(path.into(), false, ntfs).is_none(), "{path}");
        }
        assert!(refused_path(".g\u{200c}it/x".into(), false, hfs).is_some());
        assert!(refused_path(".git\\hooks\\x".into(), false, none).is_none());
        assert!(refused_path(".GIT/x".into(), false, none).is_some());
        assert!(refused_path(".gitmodules".into(), true, ntfs).is_some());
        assert!(refused_path(".gitmodules".into(), false, ntfs).is_none());
    }
}
