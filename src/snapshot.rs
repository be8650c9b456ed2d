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
    /// Untracked files matching one of these are skipped as secrets.
    pub secret_patterns: Vec<String>,
}

/// The result of a snapshot.
pub struct Snapshot {
    /// The tree `git add -A && git write-tree` would produce (minus skips).
    pub tree: ObjectId,
    /// The index to write once the commit stands.
    pub index: gix::index::File,
    /// Whether the index differs from the one read (content or stat data).
    pub index_changed: bool,
    /// Untracked paths left out, with the reason.
    pub skipped: Vec<Skip>,
    /// Paths whose tree entry differs from the base tree.
    pub changes: Vec<Change>,
}

/// An untracked path left out of the snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    /// Path relative to the work tree root.
    pub path: String,
    /// `secret`, `too-large` or `nested-repo`: what the state records.
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
    let found = scan(repo, &index, &workdir, interrupt)?;

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

    let executable_bit = repo.filesystem_options()?.executable_bit;
    let (mut pipeline, _) = repo
        .filter_pipeline(None)
        .context("could not set up git's filters (.gitattributes)")?;
    let matcher = SecretMatcher::new(&options.secret_patterns);
    let mut index_changed = false;
    let mut removed = vec![false; index.entries().len()];
    let mut skipped = Vec::new();
    let mut untracked = Vec::new();

    for item in found {
        match item {
            Found::Conflict { .. } => {}
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
                match hash_file(&mut pipeline, &index, &workdir, path.as_ref())? {
                    Some((id, kind, stat)) => {
                        let entry = &mut index.entries_mut()[i];
                        let mut mode = mode_of(kind);
                        if !executable_bit && is_file_mode(entry.mode) && is_file_mode(mode) {
                            mode = entry.mode;
                        }
                        entry.id = id;
                        entry.mode = mode;
                        entry.stat = stat;
                        entry.flags.remove(Flags::INTENT_TO_ADD);
                    }
                    // Vanished since the scan, or now untrackable (a fifo).
                    None => removed[i] = true,
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
                if let Some(pattern) = (!meta.is_dir()).then(|| matcher.matches(&rel)).flatten() {
                    skipped.push(Skip {
                        path: rel,
                        reason: "secret",
                        detail: format!("looks like a secret (matches '{pattern}')"),
                    });
                    continue;
                }
                if meta.is_file() && meta.len() > options.size_limit {
                    skipped.push(Skip {
                        path: rel,
                        reason: "too-large",
                        detail: format!(
                            "{} bytes is over the size limit of {} bytes",
                            meta.len(),
                            options.size_limit
                        ),
                    });
                    continue;
                }
                match hash_file(&mut pipeline, &index, &workdir, path.as_ref())? {
                    Some((id, kind, stat)) => {
                        let mut mode = mode_of(kind);
                        if !executable_bit && mode == Mode::FILE_EXECUTABLE {
                            mode = Mode::FILE;
                        }
                        untracked.push((path, id, mode, stat));
                    }
                    None if meta.is_dir() => skipped.push(Skip {
                        path: rel,
                        reason: "nested-repo",
                        detail: "a nested git repository with no commit checked out".into(),
                    }),
                    None => {}
                }
            }
        }
    }

    if removed.iter().any(|r| *r) {
        index.remove_entries(|i, _, _| removed.get(i).copied().unwrap_or(false));
    }
    if !untracked.is_empty() {
        index_changed = true;
        for (path, id, mode, stat) in untracked {
            index.dangerously_push_entry(stat, id, Flags::empty(), mode, path.as_ref());
        }
        index.sort_entries();
    }

    let (tree, changes) = write_tree(repo, &index, base_tree)?;
    if index_changed {
        // The cache-tree extension describes the old entries; git rebuilds
        // it when it needs it (gitoxide#2421: a stale one misleads git).
        index.remove_tree();
    }
    Ok(Snapshot {
        tree,
        index,
        index_changed,
        skipped,
        changes,
    })
}

/// The status scan: tracked modifications and untracked files, as `git
/// status --untracked-files=all` would see them.
fn scan(
    repo: &gix::Repository,
    index: &gix::index::File,
    workdir: &std::path::Path,
    interrupt: &AtomicBool,
) -> anyhow::Result<Vec<Found>> {
    use gix::dir::walk::EmissionMode;
    let dirwalk = repo
        .dirwalk_options()?
        .emit_untracked(EmissionMode::Matching)
        .emit_ignored(None)
        .emit_empty_directories(false)
        .empty_patterns_match_prefix(false)
        .recurse_repositories(false);
    let mut collect = Collect { found: Vec::new() };
    repo.index_worktree_status(
        index,
        None::<&BStr>,
        &mut collect,
        gix::status::plumbing::index_as_worktree::traits::FastEq,
        SubmoduleHead {
            workdir: workdir.to_path_buf(),
        },
        &mut gix::progress::Discard,
        interrupt,
        gix::status::index_worktree::Options {
            sorting: None,
            dirwalk_options: Some(dirwalk),
            rewrites: None,
            thread_limit: None,
        },
    )
    .context("could not scan the work tree")?;
    Ok(collect.found)
}

/// Hash one work-tree path as `git add` would and write the object.
/// `None` when it vanished or cannot be tracked.
fn hash_file(
    pipeline: &mut gix::filter::Pipeline<'_>,
    index: &gix::index::File,
    workdir: &std::path::Path,
    rela_path: &BStr,
) -> anyhow::Result<Option<(ObjectId, EntryKind, Stat)>> {
    let full = workdir.join(gix::path::from_bstr(rela_path)?);
    // Stat first, with gix's lstat (std's would report birth time as ctime
    // and make git rehash everything); a change after this is seen next time.
    let Ok(meta) = gix::index::fs::Metadata::from_path_no_follow(&full) else {
        return Ok(None);
    };
    let stat = Stat::from_fs(&meta).unwrap_or_default();
    let Some((id, kind, _)) = pipeline
        .worktree_file_to_object(rela_path, index)
        .with_context(|| format!("could not add '{}' to the object database", rela_path))?
    else {
        return Ok(None);
    };
    Ok(Some((id, kind, stat)))
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
    if removals.is_empty() && upserts.is_empty() {
        ensure_tree_exists(repo, base_tree)?;
        return Ok((base_tree, changes));
    }
    let removed: std::collections::HashSet<&BString> = removals.iter().collect();
    let mut editor = repo
        .edit_tree(base_tree)
        .context("could not read the base tree")?;
    // All removals first, then upserts: a file ↔ directory swap needs that order.
    for path in &removals {
        editor.remove(path.to_str_lossy().as_ref())?;
    }
    for (path, kind, id, modified) in &upserts {
        let existed = *modified || removed.contains(path);
        changes.push(Change {
            path: path.to_str_lossy().into_owned(),
            kind: if existed {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            },
        });
        editor.upsert(path.to_str_lossy().as_ref(), *kind, *id)?;
    }
    let tree = editor.write().context("could not write the tree")?.detach();
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
            match change {
                ChangeRef::Deletion { location, .. } => diff.removals.push(location.into_owned()),
                ChangeRef::Addition {
                    location,
                    entry_mode,
                    id,
                    ..
                } => diff.upserts.push((
                    location.into_owned(),
                    kind_of(entry_mode),
                    id.into_owned(),
                    false,
                )),
                ChangeRef::Modification {
                    location,
                    entry_mode,
                    id,
                    ..
                } => diff.upserts.push((
                    location.into_owned(),
                    kind_of(entry_mode),
                    id.into_owned(),
                    true,
                )),
                ChangeRef::Rewrite { .. } => {}
            }
            Ok(std::ops::ControlFlow::Continue(()))
        },
    )
    .context("could not compare the index with the base tree")?;
    Ok(diff)
}

/// What differs between `tree` and the work tree, as a checkpoint would
/// record it, without writing anything: for `status`.
pub fn changes_since(
    repo: &gix::Repository,
    tree: ObjectId,
    options: &Options,
    interrupt: &AtomicBool,
) -> anyhow::Result<(Vec<Change>, Vec<String>)> {
    let matcher = SecretMatcher::new(&options.secret_patterns);
    let mut skipped = Vec::new();
    let workdir = repo
        .workdir()
        .context("a work tree is required")?
        .to_path_buf();
    let index = repo.index_or_empty().context("could not read the index")?;
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
    for found in scan(repo, &index, &workdir, interrupt)? {
        let (path, gone) = match found {
            Found::Changed { index: i } | Found::Submodule { index: i, .. } => {
                (index.entries()[i].path(&index).to_owned(), false)
            }
            Found::Removed { index: i } => (index.entries()[i].path(&index).to_owned(), true),
            Found::Conflict { path } => (path, false),
            Found::Untracked { path } => {
                let rel = path.to_str_lossy().into_owned();
                let too_large =
                    std::fs::symlink_metadata(workdir.join(gix::path::from_bstr(path.as_bstr())?))
                        .is_ok_and(|m| m.is_file() && m.len() > options.size_limit);
                if too_large || matcher.matches(&rel).is_some() {
                    skipped.push(rel);
                } else {
                    kinds.insert(path, ChangeKind::Added);
                }
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
        repo.write_object(gix::objs::Tree::empty())?;
    }
    Ok(())
}

/// Glob patterns for secret-looking file names.
struct SecretMatcher<'a> {
    patterns: &'a [String],
}

impl<'a> SecretMatcher<'a> {
    fn new(patterns: &'a [String]) -> Self {
        SecretMatcher { patterns }
    }

    /// The first pattern matching `path`: on the file name, or on the whole
    /// path when the pattern has a `/`.
    fn matches(&self, path: &str) -> Option<&'a str> {
        let name = path.rsplit('/').next().unwrap_or(path);
        self.patterns.iter().map(String::as_str).find(|pattern| {
            let subject = if pattern.contains('/') { path } else { name };
            gix::glob::wildmatch(
                pattern.as_bytes().as_bstr(),
                subject.as_bytes().as_bstr(),
                gix::glob::wildmatch::Mode::empty(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_patterns_match_names_and_paths() {
        let patterns: Vec<String> = crate::config::DEFAULT_SECRET_PATTERNS
            .iter()
            .map(|s| s.to_string())
            .chain(["config/prod/*.yml".to_string()])
            .collect();
        let m = SecretMatcher::new(&patterns);
        for hit in [
            ".env",
            "a/b/.env.local",
            "k.pem",
            "x/id_rsa",
            "id_ed25519.pub",
            "credentials.json",
            "config/prod/db.yml",
        ] {
            assert!(m.matches(hit).is_some(), "{hit}");
        }
        for miss in ["env", "src/main.rs", "pem", "my.env", "config/dev/db.yml"] {
            assert!(m.matches(miss).is_none(), "{miss}");
        }
    }
}
