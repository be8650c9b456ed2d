//! Making the work tree equal to a tree: what `restore` does to go back to
//! a checkpoint, and what a fast-forward to another branch's tip needs.
//!
//! Two steps, so that a refusal leaves nothing half done. [`plan`] compares
//! the tree the work tree holds now (`from`) with the one it should hold
//! (`to`), looks at each path that differs in the work tree itself, and
//! lists what would be written and removed and what stands in the way;
//! it writes nothing. [`Plan::execute`] carries the plan out and brings the
//! index in line; the caller writes that index through its `index.lock`.
//!
//! In the way is whatever the work tree has and `from` does not (an ignored
//! file, a file left out of a checkpoint, one created since) at a path the
//! plan must write or remove: the path itself, anything inside a directory
//! that must become a file, or a parent that must become a directory. With
//! [`LocalChanges::Refuse`], so is a tracked file whose content differs from
//! `from` (as `git merge --ff-only` refuses to overwrite local changes);
//! with [`LocalChanges::Overwrite`] the caller has saved the work tree as
//! `from` (restore's pre-restore checkpoint), so such a file is overwritten.
//! Unlike git, which takes ignored files for expendable, nothing `from` does
//! not hold is ever written over or removed, and nothing under `.git`.
//!
//! Crash safety. Each file is written whole to a temporary file in
//! `<git dir>/session/worktree-tmp/` (beside the file instead when the work
//! tree is on another file system) and renamed onto its path, so a path is
//! at any moment either as it was or as it should be, never half written.
//! Removals come first (files, then the directories left empty), then the
//! writes in path order; the index comes last. A kill midway leaves a work
//! tree of which some paths are already new: the same restore run again
//! finishes it, and restoring the pre-restore checkpoint undoes it. The
//! temporary directory is emptied at the start of every run.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use gix::bstr::{BStr, BString, ByteSlice};
use gix::index::entry::{Flags, Mode, Stat};
use gix::objs::tree::EntryKind;
use gix::ObjectId;

/// What to do with a tracked file whose content differs from `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalChanges {
    /// Overwrite it: the caller saved the work tree, and `from` is that save.
    Overwrite,
    /// Refuse, naming it, as `git merge --ff-only` does.
    Refuse,
}

/// One tree entry that is not a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub id: ObjectId,
    pub kind: EntryKind,
}

/// A path whose entry differs between `from` and `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Relative to the work tree root, `/`-separated.
    pub path: BString,
    /// The entry in `from`, if any.
    pub old: Option<Leaf>,
    /// The entry in `to`, if any.
    pub new: Option<Leaf>,
}

impl Change {
    /// Added, modified or deleted, from `from` to `to`.
    pub fn kind(&self) -> crate::snapshot::ChangeKind {
        use crate::snapshot::ChangeKind;
        match (self.old, self.new) {
            (None, _) => ChangeKind::Added,
            (_, None) => ChangeKind::Deleted,
            _ => ChangeKind::Modified,
        }
    }
}

/// Why a path stops the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// The work tree has something there that `from` does not hold.
    NotSaved {
        /// Whether git ignores it.
        ignored: bool,
    },
    /// A tracked file that differs from `from` ([`LocalChanges::Refuse`]).
    Modified,
    /// It must be removed for a selected path, but is not selected itself.
    OutsidePaths,
    /// A name git refuses to write (`.git`, `..`, and their look-alikes).
    InvalidPath,
    /// The directory cannot be written.
    NotWritable(String),
}

/// A path in the way, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub path: BString,
    pub why: Why,
}

impl Blocked {
    /// `path: why`, for a person.
    pub fn describe(&self) -> String {
        let why = match &self.why {
            Why::NotSaved { ignored: true } => {
                "an ignored file in the way (in no checkpoint)".into()
            }
            Why::NotSaved { ignored: false } => {
                "in the way and in no checkpoint (new since, or left out)".into()
            }
            Why::Modified => "has local changes that would be overwritten".into(),
            Why::OutsidePaths => "would have to be removed, but is not among the paths".into(),
            Why::InvalidPath => "a path git refuses to write".into(),
            Why::NotWritable(err) => format!("cannot be written: {err}"),
        };
        format!("{}: {why}", self.path.to_str_lossy())
    }
}

/// What [`plan`] is asked.
pub struct Options<'a> {
    pub local_changes: LocalChanges,
    /// Only the paths these match, when given.
    pub paths: Option<&'a mut gix::pathspec::Search>,
    /// Check that every directory to change is writable, by creating and
    /// removing a file in it. Off for a dry run, which touches nothing.
    pub probe: bool,
    /// A directory never removed even when left empty: the caller's
    /// current directory, relative to the work tree root.
    pub keep_dir: Option<BString>,
    /// `Some(tracked)`: leave in place a file that `from` has and `to`
    /// lacks when `to`'s own ignore rules ignore it and the tree `tracked`
    /// (HEAD's, before `from` was saved) does not hold it; it only leaves
    /// the index. Restore wants this: its pre-restore checkpoint takes in
    /// every untracked file the current rules do not ignore, and deleting
    /// what the restored rules ignore would delete build output and the
    /// like that the checkpoint being restored never held.
    pub keep_ignored: Option<ObjectId>,
}

/// What making the work tree equal to `to` takes.
#[derive(Debug)]
pub struct Plan {
    pub from: ObjectId,
    pub to: ObjectId,
    /// The tree the work tree holds once the plan is carried out: `to`, or
    /// with paths, `from` with those paths as `to` has them.
    pub result: ObjectId,
    /// The paths to write or remove, sorted.
    pub changes: Vec<Change>,
    /// What stops the plan; empty when it can be carried out.
    pub blocked: Vec<Blocked>,
    /// Problems that do not stop it (a submodule left as it is).
    pub warnings: Vec<String>,
    /// Paths that leave the index but stay in the work tree, since `to`'s
    /// ignore rules ignore them (see [`Options::keep_ignored`]).
    pub kept: Vec<BString>,
    /// Directories in the work tree where a file must go, emptied of
    /// what the plan removes and then removed.
    clear: Vec<BString>,
    /// Paths whose file already holds what `to` has: not written again.
    already: BTreeSet<BString>,
    keep_dir: Option<BString>,
}

/// What [`Plan::execute`] did.
pub struct Done {
    /// The cache-tree for the index it updated.
    pub cache_tree: gix::index::extension::Tree,
    /// Paths written and removed.
    pub written: usize,
    pub removed: usize,
    pub warnings: Vec<String>,
}

/// The leaf-level differences between two trees.
pub fn diff_trees(
    repo: &gix::Repository,
    from: ObjectId,
    to: ObjectId,
) -> anyhow::Result<Vec<Change>> {
    use gix::diff::tree::recorder::Change as R;
    let mut recorder = gix::diff::tree::Recorder::default();
    if from != to {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let lhs = tree_iter(repo, from, &mut a)?;
        let rhs = tree_iter(repo, to, &mut b)?;
        gix::diff::tree(
            lhs,
            rhs,
            gix::diff::tree::State::default(),
            &repo.objects,
            &mut recorder,
        )
        .map_err(|e| anyhow::anyhow!("could not compare tree {from} with {to}: {e}"))?;
    }
    let mut changes: BTreeMap<BString, Change> = BTreeMap::new();
    for record in recorder.records {
        let (path, old, new) = match record {
            R::Addition {
                entry_mode,
                oid,
                path,
                ..
            } => (path, None, leaf(entry_mode, oid)),
            R::Deletion {
                entry_mode,
                oid,
                path,
                ..
            } => (path, leaf(entry_mode, oid), None),
            R::Modification {
                previous_entry_mode,
                previous_oid,
                entry_mode,
                oid,
                path,
            } => (
                path,
                leaf(previous_entry_mode, previous_oid),
                leaf(entry_mode, oid),
            ),
        };
        if old.is_none() && new.is_none() {
            continue;
        }
        let change = changes.entry(path.clone()).or_insert(Change {
            path,
            old: None,
            new: None,
        });
        if old.is_some() {
            change.old = old;
        }
        if new.is_some() {
            change.new = new;
        }
    }
    Ok(changes.into_values().filter(|c| c.old != c.new).collect())
}

fn tree_iter<'a>(
    repo: &gix::Repository,
    id: ObjectId,
    buf: &'a mut Vec<u8>,
) -> anyhow::Result<gix::objs::TreeRefIter<'a>> {
    use gix::objs::Find as _;
    if id.is_empty_tree() {
        return Ok(gix::objs::TreeRefIter::from_bytes(&[], repo.object_hash()));
    }
    let data = repo
        .objects
        .try_find(&id, buf)
        .with_context(|| format!("could not read tree {id}"))?
        .with_context(|| format!("tree {id} is missing"))?;
    anyhow::ensure!(data.kind == gix::object::Kind::Tree, "{id} is not a tree");
    Ok(gix::objs::TreeRefIter::from_bytes(
        data.data,
        repo.object_hash(),
    ))
}

fn leaf(mode: gix::objs::tree::EntryMode, id: ObjectId) -> Option<Leaf> {
    let kind = mode.kind();
    (kind != EntryKind::Tree).then_some(Leaf { id, kind })
}

/// What one path is in the work tree, without following symlinks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Missing,
    Dir,
    /// A file, symlink, or anything else that is not a directory.
    Other,
}

/// Reads the work tree without following symlinks anywhere along a path:
/// `a/b` is missing when `a` is a symlink or a file.
struct Looker<'a> {
    workdir: &'a Path,
    cache: HashMap<BString, Found>,
}

impl Looker<'_> {
    fn own(&mut self, path: &BStr) -> Found {
        if let Some(found) = self.cache.get(path) {
            return *found;
        }
        let found = match gix::path::from_bstr(path)
            .ok()
            .and_then(|p| std::fs::symlink_metadata(self.workdir.join(p)).ok())
        {
            None => Found::Missing,
            Some(meta) if meta.is_dir() => Found::Dir,
            Some(_) => Found::Other,
        };
        self.cache.insert(path.to_owned(), found);
        found
    }

    /// The first parent of `path` (shallowest first) that is not a real
    /// directory, and what it is; `None` when every parent is one.
    fn first_non_dir_parent(&mut self, path: &BStr) -> Option<(BString, Found)> {
        for (i, byte) in path.iter().enumerate() {
            if *byte != b'/' {
                continue;
            }
            let parent = &path[..i];
            match self.own(parent.as_bstr()) {
                Found::Dir => {}
                other => return Some((parent.into(), other)),
            }
        }
        None
    }

    /// What `path` is, taking a parent that is not a directory for
    /// "missing".
    fn at(&mut self, path: &BStr) -> Found {
        match self.first_non_dir_parent(path) {
            Some(_) => Found::Missing,
            None => self.own(path),
        }
    }
}

/// Work out what making the work tree equal to `to` takes, given that it
/// holds `from` and that `index` is the index read under the caller's lock
/// (for stat data, and for which files git ignores). Writes nothing but,
/// with paths, the tree objects of [`Plan::result`].
pub fn plan(
    repo: &gix::Repository,
    index: &gix::index::State,
    from: ObjectId,
    to: ObjectId,
    options: Options<'_>,
) -> anyhow::Result<Plan> {
    let workdir = repo.workdir().context("a work tree is required")?;
    let mut changes = diff_trees(repo, from, to)?;
    let filtered = options.paths.is_some();
    if let Some(search) = options.paths {
        changes.retain(|c| selected(search, c.path.as_ref()));
    }
    let result = if !filtered {
        to
    } else if changes.is_empty() {
        from
    } else {
        edit(repo, from, &changes)?
    };

    let kept = match options.keep_ignored {
        Some(tracked) => ignored_by(repo, to, tracked, &changes)?,
        None => BTreeSet::new(),
    };
    let removable: BTreeSet<&BStr> = changes
        .iter()
        .filter(|c| c.old.is_some_and(|l| l.kind != EntryKind::Commit))
        .filter(|c| !kept.contains(&c.path))
        .map(|c| c.path.as_ref())
        .collect();
    let mut look = Looker {
        workdir,
        cache: HashMap::new(),
    };
    let mut blocked: Vec<Blocked> = Vec::new();
    let mut warnings = Vec::new();
    let mut clear = Vec::new();
    let mut already = BTreeSet::new();
    let mut content = ContentCheck::new(repo, index, workdir)?;
    let validate = gix::validate::path::component::Options {
        protect_windows: cfg!(windows),
        protect_hfs: true,
        protect_ntfs: true,
    };
    let mut unsaved: Vec<BString> = Vec::new();

    for change in &changes {
        let path: &BStr = change.path.as_ref();
        if kept.contains(&change.path) {
            continue;
        }
        if let Some(new) = change.new {
            let mode = (new.kind == EntryKind::Link)
                .then_some(gix::validate::path::component::Mode::Symlink);
            let invalid = path.split(|b| *b == b'/').any(|name| {
                gix::validate::path::component(name.as_bstr(), mode, validate).is_err()
            });
            if invalid {
                blocked.push(Blocked {
                    path: change.path.clone(),
                    why: Why::InvalidPath,
                });
                continue;
            }
            // A parent that must become a directory: only what the plan
            // removes may be there.
            if let Some((parent, Found::Other)) = look.first_non_dir_parent(path) {
                if !removable.contains(parent.as_bstr()) {
                    let why = if tracked_in(repo, from, parent.as_ref())? {
                        Why::OutsidePaths
                    } else {
                        unsaved.push(parent.clone());
                        continue;
                    };
                    blocked.push(Blocked { path: parent, why });
                }
                continue;
            }
        }
        match (look.at(path), change.old, change.new) {
            (Found::Missing, ..) => {}
            (Found::Dir, _, Some(new)) if new.kind == EntryKind::Commit => {}
            (Found::Dir, Some(old), None) if old.kind == EntryKind::Commit => {}
            (Found::Dir, _, Some(_)) => {
                // A directory where a file must go: everything in it must
                // be something the plan removes.
                let mut found = Vec::new();
                files_under(workdir, path, &mut found)?;
                let mut ok = true;
                for inner in found {
                    if !removable.contains(inner.as_bstr()) {
                        ok = false;
                        if tracked_in(repo, from, inner.as_ref())? {
                            blocked.push(Blocked {
                                path: inner,
                                why: Why::OutsidePaths,
                            });
                        } else {
                            unsaved.push(inner);
                        }
                    }
                }
                if ok {
                    clear.push(change.path.clone());
                }
            }
            (Found::Dir, _, None) => {}
            (Found::Other, None, Some(new)) if content.holds(path, new)? => {
                already.insert(change.path.clone());
            }
            (Found::Other, None, _) => unsaved.push(change.path.clone()),
            (Found::Other, Some(old), _) if old.kind == EntryKind::Commit => {
                unsaved.push(change.path.clone())
            }
            (Found::Other, Some(old), _) => {
                if options.local_changes == LocalChanges::Refuse && !content.matches(path, old)? {
                    blocked.push(Blocked {
                        path: change.path.clone(),
                        why: Why::Modified,
                    });
                }
            }
        }
        if let (Some(old), Some(new)) = (change.old, change.new) {
            if old.kind == EntryKind::Commit && new.kind == EntryKind::Commit {
                warnings.push(format!(
                    "the submodule '{path}' keeps the commit it has checked out: run 'git submodule update -- {path}' to check out {}",
                    crate::time::short(new.id)
                ));
            }
        }
    }
    if !unsaved.is_empty() {
        let mut excludes = repo
            .excludes(
                index,
                None,
                gix::worktree::stack::state::ignore::Source::WorktreeThenIdMappingIfNotSkipped,
            )
            .context("could not read the ignore rules")?;
        for path in unsaved {
            let ignored = excludes
                .at_entry(path.as_bstr(), None)
                .map(|p| p.is_excluded())
                .unwrap_or(false);
            blocked.push(Blocked {
                path,
                why: Why::NotSaved { ignored },
            });
        }
    }
    if options.probe && blocked.is_empty() {
        blocked.extend(probe(workdir, &changes, &mut look));
    }
    blocked.sort_by(|a, b| a.path.cmp(&b.path));
    blocked.dedup_by(|a, b| a.path == b.path);
    Ok(Plan {
        from,
        to,
        result,
        changes,
        blocked,
        warnings,
        clear,
        already,
        keep_dir: options.keep_dir,
        kept: kept.into_iter().collect(),
    })
}

/// The paths `changes` removes that `tracked` does not hold and that the
/// ignore rules of `tree` (its `.gitignore` files, plus `.git/info/exclude`
/// and `core.excludesFile`) ignore, unless the plan writes a file where one
/// of their parents is.
fn ignored_by(
    repo: &gix::Repository,
    tree: ObjectId,
    tracked: ObjectId,
    changes: &[Change],
) -> anyhow::Result<BTreeSet<BString>> {
    let written: BTreeSet<&BStr> = changes
        .iter()
        .filter(|c| c.new.is_some())
        .map(|c| c.path.as_ref())
        .collect();
    let candidates: Vec<&Change> = changes
        .iter()
        .filter(|c| c.new.is_none() && c.old.is_some_and(|l| l.kind != EntryKind::Commit))
        .filter(|c| !parents(c.path.as_ref()).any(|p| written.contains(p)))
        .collect();
    let mut untracked = Vec::with_capacity(candidates.len());
    for change in candidates {
        if !tracked_in(repo, tracked, change.path.as_ref())? {
            untracked.push(change);
        }
    }
    let candidates = untracked;
    if candidates.is_empty() {
        return Ok(BTreeSet::new());
    }
    // An index of just the `.gitignore` files along the candidates' paths,
    // as the tree has them: what gix's ignore stack reads them from.
    let mut dirs: BTreeSet<&BStr> = BTreeSet::new();
    dirs.insert(b"".as_bstr());
    for change in &candidates {
        dirs.extend(parents(change.path.as_ref()));
    }
    let mut state = gix::index::State::new(repo.object_hash());
    if !tree.is_empty_tree() {
        let tree = repo.find_tree(tree)?;
        for dir in dirs {
            let mut path: BString = dir.to_owned();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(b".gitignore");
            if let Some(entry) = tree.lookup_entry(path.split(|b| *b == b'/'))? {
                if entry.mode().is_blob() {
                    state.dangerously_push_entry(
                        Stat::default(),
                        entry.object_id(),
                        Flags::empty(),
                        Mode::FILE,
                        path.as_ref(),
                    );
                }
            }
        }
        state.sort_entries();
    }
    let mut excludes = repo
        .excludes(
            &state,
            None,
            gix::worktree::stack::state::ignore::Source::IdMapping,
        )
        .context("could not read the ignore rules")?;
    let mut out = BTreeSet::new();
    for change in candidates {
        let ignored = excludes
            .at_entry(change.path.as_bstr(), Some(Mode::FILE))
            .is_ok_and(|p| p.is_excluded());
        if ignored {
            out.insert(change.path.clone());
        }
    }
    Ok(out)
}

/// Whether `search` selects the file `path`.
fn selected(search: &mut gix::pathspec::Search, path: &BStr) -> bool {
    search
        .pattern_matching_relative_path(path, Some(false), &mut |_, _, _, _| false)
        .is_some_and(|m| !m.is_excluded())
}

/// Whether `tree` has an entry at `path`.
fn tracked_in(repo: &gix::Repository, tree: ObjectId, path: &BStr) -> anyhow::Result<bool> {
    if tree.is_empty_tree() {
        return Ok(false);
    }
    let tree = repo.find_tree(tree)?;
    Ok(tree.lookup_entry(path.split(|b| *b == b'/'))?.is_some())
}

/// `from` with `changes` applied: removals first, then upserts, as the
/// snapshot edits a tree.
fn edit(repo: &gix::Repository, from: ObjectId, changes: &[Change]) -> anyhow::Result<ObjectId> {
    let mut editor = repo.edit_tree(from).context("could not read the tree")?;
    for change in changes.iter().filter(|c| c.new.is_none()) {
        editor.remove(change.path.as_bstr())?;
    }
    for change in changes {
        if let Some(new) = change.new {
            editor.upsert(change.path.as_bstr(), new.kind, new.id)?;
        }
    }
    let tree = editor.write().context("could not write the tree")?.detach();
    if tree.is_empty_tree() {
        repo.write_object(gix::objs::Tree::empty())?;
    }
    Ok(tree)
}

/// Every non-directory under the directory `dir`, as paths relative to the
/// work tree root (symlinks are not followed).
fn files_under(workdir: &Path, dir: &BStr, out: &mut Vec<BString>) -> anyhow::Result<()> {
    let full = workdir.join(gix::path::from_bstr(dir)?);
    let entries =
        std::fs::read_dir(&full).with_context(|| format!("could not read '{}'", full.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("could not read '{}'", full.display()))?;
        let name = gix::path::os_str_into_bstr(&entry.file_name())
            .map(|n| n.to_owned())
            .unwrap_or_else(|_| entry.file_name().to_string_lossy().as_bytes().into());
        let mut path = dir.to_owned();
        path.push(b'/');
        path.extend_from_slice(&name);
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            files_under(workdir, path.as_ref(), out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether every directory the plan changes can be written (the nearest
/// existing one for a directory still to be made).
fn probe(workdir: &Path, changes: &[Change], look: &mut Looker<'_>) -> Vec<Blocked> {
    let mut dirs: BTreeSet<BString> = BTreeSet::new();
    for change in changes {
        let mut dir: &BStr = change.path.as_ref();
        loop {
            dir = match dir.rfind_byte(b'/') {
                Some(i) => dir[..i].as_bstr(),
                None => b"".as_bstr(),
            };
            if dir.is_empty() || look.at(dir) == Found::Dir {
                break;
            }
        }
        dirs.insert(dir.to_owned());
    }
    let mut blocked = Vec::new();
    for dir in dirs {
        let Ok(rel) = gix::path::from_bstr(dir.as_bstr()) else {
            continue;
        };
        if let Err(err) = writable(&workdir.join(rel)) {
            blocked.push(Blocked {
                path: if dir.is_empty() { ".".into() } else { dir },
                why: Why::NotWritable(err.kind().to_string()),
            });
        }
    }
    blocked
}

/// Whether entries can be made and removed in `dir`, asked of the kernel
/// (access(2) with the effective ids: permissions, ACLs, read-only mounts,
/// immutable directories), since a file created to find out is left in
/// the work tree by a kill at that moment, and the next checkpoint would
/// take it for the user's.
#[cfg(unix)]
fn writable(dir: &Path) -> std::io::Result<()> {
    use rustix::fs::{accessat, Access, AtFlags, CWD};
    accessat(
        CWD,
        dir,
        Access::WRITE_OK | Access::EXEC_OK,
        AtFlags::EACCESS,
    )
    .map_err(std::io::Error::from)
}

/// Elsewhere: one file created and removed.
#[cfg(not(unix))]
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".git-session-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Whether a work-tree file still holds what `from` has, as `git status`
/// would tell: stat data first, content only when that is not enough.
struct ContentCheck<'repo> {
    repo: &'repo gix::Repository,
    index: &'repo gix::index::State,
    workdir: &'repo Path,
    stat: gix::index::entry::stat::Options,
    executable_bit: bool,
    symlinks: bool,
    pipeline: Option<gix::filter::Pipeline<'repo>>,
}

impl<'repo> ContentCheck<'repo> {
    fn new(
        repo: &'repo gix::Repository,
        index: &'repo gix::index::State,
        workdir: &'repo Path,
    ) -> anyhow::Result<Self> {
        let fs = repo.filesystem_options()?;
        Ok(ContentCheck {
            repo,
            index,
            workdir,
            stat: repo.stat_options()?,
            executable_bit: fs.executable_bit,
            symlinks: fs.symlink,
            pipeline: None,
        })
    }

    fn matches(&mut self, path: &BStr, old: Leaf) -> anyhow::Result<bool> {
        let Some(entry) = self.index.entry_by_path(path) else {
            return Ok(false);
        };
        if entry.id != old.id || entry.stage_raw() != 0 {
            return Ok(false); // a staged change
        }
        let full = self.workdir.join(gix::path::from_bstr(path)?);
        let Ok(meta) = gix::index::fs::Metadata::from_path_no_follow(&full) else {
            return Ok(true); // gone: nothing to lose
        };
        let stat = Stat::from_fs(&meta).unwrap_or_default();
        if self.same_type(&meta, old)
            && entry.stat.matches(&stat, self.stat)
            && !entry.stat.is_racy(self.index.timestamp(), self.stat)
        {
            return Ok(true);
        }
        self.holds(path, old)
    }

    /// Whether the type (file, symlink, exec bit where it counts) of what
    /// `meta` describes is the one of `leaf`.
    fn same_type(&self, meta: &gix::index::fs::Metadata, leaf: Leaf) -> bool {
        let is_link = leaf.kind == EntryKind::Link && self.symlinks;
        meta.is_symlink() == is_link
            && (!self.executable_bit
                || is_link
                || meta.is_executable() == (leaf.kind == EntryKind::BlobExecutable))
    }

    /// Whether the work-tree file at `path` holds exactly `leaf`, whatever
    /// the index says: a file in the way that is already what the plan
    /// would write is not in the way.
    fn holds(&mut self, path: &BStr, leaf: Leaf) -> anyhow::Result<bool> {
        if !matches!(
            leaf.kind,
            EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link
        ) {
            return Ok(false);
        }
        let full = self.workdir.join(gix::path::from_bstr(path)?);
        let Ok(meta) = gix::index::fs::Metadata::from_path_no_follow(&full) else {
            return Ok(false);
        };
        if !self.same_type(&meta, leaf) || !(meta.is_file() || meta.is_symlink()) {
            return Ok(false);
        }
        let old = leaf;
        let data = if meta.is_symlink() {
            gix::path::into_bstr(std::fs::read_link(&full)?)?
                .into_owned()
                .into()
        } else {
            let raw = std::fs::read(&full)?;
            if old.kind == EntryKind::Link {
                raw
            } else {
                self.cleaned(path, raw)?
            }
        };
        let id = gix::objs::compute_hash(self.repo.object_hash(), gix::object::Kind::Blob, &data)?;
        Ok(id == old.id)
    }

    /// `raw` as `git add` would store it (clean filters, eol).
    fn cleaned(&mut self, path: &BStr, raw: Vec<u8>) -> anyhow::Result<Vec<u8>> {
        use gix::filter::plumbing::pipeline::convert::ToGitOutcome;
        use std::io::Read as _;
        if self.pipeline.is_none() {
            let attributes = self
                .repo
                .attributes_only(
                    self.index,
                    gix::worktree::stack::state::attributes::Source::WorktreeThenIdMapping,
                )
                .context("could not read .gitattributes")?
                .detach();
            self.pipeline = Some(gix::filter::Pipeline::new(self.repo, attributes)?);
        }
        let pipeline = self
            .pipeline
            .as_mut()
            .context("the pipeline was just built")?;
        let rela = gix::path::from_bstr(path)?;
        Ok(
            match pipeline.convert_to_git(&raw[..], &rela, self.index)? {
                ToGitOutcome::Unchanged(_) => raw,
                ToGitOutcome::Buffer(buf) => buf.to_vec(),
                ToGitOutcome::Process(mut filtered) => {
                    let mut out = Vec::new();
                    filtered.read_to_end(&mut out)?;
                    out
                }
            },
        )
    }
}

impl Plan {
    /// Whether there is nothing to write or remove.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Carry the plan out (it must have nothing [blocked](Plan::blocked)),
    /// then update `index`, the index the plan was made with, to the
    /// [result](Plan::result) with fresh stat data for what was written.
    /// `cache_tree` is `index`'s cache-tree when the caller knows it to be
    /// valid (a snapshot's), else the index's own is used. A failure midway
    /// leaves the paths done so far done, each one whole.
    pub fn execute(
        &self,
        repo: &gix::Repository,
        index: &mut gix::index::File,
        cache_tree: Option<&gix::index::extension::Tree>,
    ) -> anyhow::Result<Done> {
        anyhow::ensure!(self.blocked.is_empty(), "the plan is blocked");
        let workdir = repo.workdir().context("a work tree is required")?;
        let known = cache_tree
            .or(index.tree())
            .filter(|t| {
                t.id == self.from
                    && t.num_entries.and_then(|n| usize::try_from(n).ok())
                        == Some(index.entries().len())
            })
            .cloned();
        let fs = repo.filesystem_options()?;
        let mut warnings = Vec::new();
        let mut writer = Writer::new(repo, workdir)?;

        // 1. Removals, then the directories that must become files, then
        //    the directories the removals left empty.
        let mut removed = 0;
        let mut emptied: BTreeSet<BString> = BTreeSet::new();
        for change in &self.changes {
            let Some(old) = change.old else { continue };
            if self.kept.contains(&change.path) {
                continue;
            }
            let replaced_by_dir_or_link = change.new.is_some_and(|n| n.kind == EntryKind::Commit);
            if change.new.is_some() && !replaced_by_dir_or_link {
                continue; // renamed over below
            }
            let full = workdir.join(gix::path::from_bstr(change.path.as_bstr())?);
            let mut look = Looker {
                workdir,
                cache: HashMap::new(),
            };
            match look.at(change.path.as_ref()) {
                Found::Missing => {}
                Found::Dir if old.kind == EntryKind::Commit => {
                    if change.new.is_none() && std::fs::remove_dir(&full).is_err() {
                        warnings.push(format!(
                            "the submodule '{}' is left in place: it is not empty (remove it by hand if it should go)",
                            change.path
                        ));
                    }
                }
                Found::Dir => {}
                Found::Other => {
                    std::fs::remove_file(&full)
                        .with_context(|| format!("could not remove '{}'", full.display()))?;
                    removed += 1;
                }
            }
            emptied.insert(change.path.clone());
        }
        for dir in &self.clear {
            remove_empty_dirs(&workdir.join(gix::path::from_bstr(dir.as_bstr())?))?;
        }
        let needed: BTreeSet<&BStr> = self
            .changes
            .iter()
            .filter(|c| c.new.is_some())
            .flat_map(|c| parents(c.path.as_ref()))
            .collect();
        let mut pruned: BTreeSet<BString> = BTreeSet::new();
        for path in emptied.iter().rev() {
            for dir in parents(path.as_ref()).rev() {
                if needed.contains(dir) || pruned.contains(dir) || self.keeps(dir) {
                    break;
                }
                let full = workdir.join(gix::path::from_bstr(dir)?);
                if std::fs::remove_dir(&full).is_err() {
                    break;
                }
                pruned.insert(dir.to_owned());
            }
        }

        // 2. The index gets the new entries first: the filters that check
        //    a file out read `.gitattributes` from it, as git's do.
        let gone: BTreeSet<&BStr> = self
            .changes
            .iter()
            .filter(|c| c.new.is_none())
            .map(|c| c.path.as_ref())
            .collect();
        if !gone.is_empty() {
            index.remove_entries(|_, path, _| gone.contains(path));
        }
        // Existing entries are updated while the entries are still sorted
        // (lookups are binary searches); new ones are pushed after.
        let mut new_entries = Vec::new();
        for change in &self.changes {
            let Some(new) = change.new else { continue };
            let mode = mode_of(new.kind);
            match index.entry_index_by_path(change.path.as_ref()) {
                Ok(i) => {
                    let entry = &mut index.entries_mut()[i];
                    entry.id = new.id;
                    entry.mode = mode;
                    entry.flags = Flags::empty();
                    entry.stat = Stat::default();
                }
                Err(_) => new_entries.push((change.path.as_bstr(), new.id, mode)),
            }
        }
        if !new_entries.is_empty() {
            for (path, id, mode) in new_entries {
                index.dangerously_push_entry(Stat::default(), id, Flags::empty(), mode, path);
            }
            index.sort_entries();
        }

        // 3. The writes, in path order (parents before children).
        let mut written = 0;
        let mut stats: Vec<(BString, Stat)> = Vec::new();
        for change in &self.changes {
            let Some(new) = change.new else { continue };
            let path: &BStr = change.path.as_ref();
            let full = workdir.join(gix::path::from_bstr(path)?);
            make_parents(workdir, path)?;
            let mode_only = change.old.is_some_and(|old| {
                old.id == new.id
                    && is_blob(old.kind)
                    && is_blob(new.kind)
                    && std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_file())
            });
            if new.kind == EntryKind::Commit {
                if !std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_dir()) {
                    std::fs::create_dir(&full)
                        .with_context(|| format!("could not create '{}'", full.display()))?;
                }
                written += 1;
                continue;
            }
            if self.already.contains(&change.path) {
                // Already there, byte for byte: leave it as it is.
            } else if mode_only {
                if fs.executable_bit {
                    set_executable(&full, new.kind == EntryKind::BlobExecutable)?;
                }
            } else {
                writer.write(index, path, &full, new, fs.symlink)?;
            }
            written += 1;
            let meta = gix::index::fs::Metadata::from_path_no_follow(&full)
                .with_context(|| format!("could not read '{}' back", full.display()))?;
            stats.push((
                change.path.clone(),
                Stat::from_fs(&meta).unwrap_or_default(),
            ));
        }
        for (path, stat) in stats {
            if let Ok(i) = index.entry_index_by_path(path.as_ref()) {
                index.entries_mut()[i].stat = stat;
            }
        }
        writer.finish();

        // 4. A cache-tree for the index: built from the result when the
        //    index was exactly `from`, else from the index itself.
        let sparse = crate::snapshot::sparse_dirs(index);
        let cache_tree = match known {
            Some(old) => crate::index_file::cache_tree(repo, self.result, Some(&old), &sparse)?,
            None => {
                let (tree, _) = crate::snapshot::write_tree(repo, index, self.result)?;
                crate::index_file::cache_tree(repo, tree, None, &sparse)?
            }
        };
        Ok(Done {
            cache_tree,
            written,
            removed,
            warnings,
        })
    }

    /// Whether `dir` is the kept directory or one of its parents.
    fn keeps(&self, dir: &BStr) -> bool {
        self.keep_dir.as_ref().is_some_and(|keep| {
            keep.as_bstr() == dir
                || (keep.starts_with(dir.as_bytes()) && keep.get(dir.len()) == Some(&b'/'))
        })
    }
}

/// The parent directories of `path`, shallowest first (not the root).
fn parents(path: &BStr) -> impl DoubleEndedIterator<Item = &BStr> {
    path.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'/')
        .map(move |(i, _)| path[..i].as_bstr())
        .collect::<Vec<_>>()
        .into_iter()
}

/// Create the missing parents of `path`; a parent that is not a directory
/// is an error (the plan had it removed).
fn make_parents(workdir: &Path, path: &BStr) -> anyhow::Result<()> {
    for dir in parents(path) {
        let full = workdir.join(gix::path::from_bstr(dir)?);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => anyhow::bail!("'{}' is in the way", full.display()),
            Err(_) => std::fs::create_dir(&full)
                .with_context(|| format!("could not create '{}'", full.display()))?,
        }
    }
    Ok(())
}

/// Remove `dir` and the directories in it, which must hold nothing else.
fn remove_empty_dirs(dir: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_empty_dirs(&entry.path())?;
        }
    }
    std::fs::remove_dir(dir).with_context(|| format!("could not remove '{}'", dir.display()))
}

fn is_blob(kind: EntryKind) -> bool {
    matches!(kind, EntryKind::Blob | EntryKind::BlobExecutable)
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

/// Turn the exec bits on where the read bits are (as git's 0777 under the
/// umask does), or all off.
fn set_executable(path: &Path, on: bool) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mut perms = std::fs::metadata(path)?.permissions();
        let mode = perms.mode();
        perms.set_mode(if on {
            mode | ((mode & 0o444) >> 2)
        } else {
            mode & !0o111
        });
        std::fs::set_permissions(path, perms)
            .with_context(|| format!("could not change the mode of '{}'", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, on);
    Ok(())
}

/// Writes files whole: to a temporary file, then renamed onto the path.
struct Writer<'repo> {
    repo: &'repo gix::Repository,
    /// `<git dir>/session/worktree-tmp/`, or `None` once a rename from
    /// there failed across file systems (then beside each file).
    staging: Option<PathBuf>,
    pipeline: Option<gix::filter::Pipeline<'repo>>,
    counter: usize,
}

impl<'repo> Writer<'repo> {
    fn new(repo: &'repo gix::Repository, _workdir: &Path) -> anyhow::Result<Self> {
        let staging = crate::repo::session_dir(repo).join("worktree-tmp");
        // What a killed run left: never part of anything.
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("could not create '{}'", staging.display()))?;
        Ok(Writer {
            repo,
            staging: Some(staging),
            pipeline: None,
            counter: 0,
        })
    }

    fn finish(self) {
        if let Some(staging) = &self.staging {
            let _ = std::fs::remove_dir_all(staging);
        }
    }

    fn temp_path(&mut self, beside: &Path) -> PathBuf {
        self.counter += 1;
        let name = format!("tmp-{}-{}", std::process::id(), self.counter);
        match &self.staging {
            Some(dir) => dir.join(name),
            None => beside
                .parent()
                .unwrap_or(beside)
                .join(format!(".git-session-{name}")),
        }
    }

    /// The content `new` checks out to at `path`, through git's smudge and
    /// eol filters (attributes from `index`, which already has the new
    /// entries).
    fn checkout_bytes(
        &mut self,
        index: &gix::index::State,
        path: &BStr,
        data: &[u8],
    ) -> anyhow::Result<Vec<u8>> {
        use gix::filter::plumbing::pipeline::convert::ToWorktreeOutcome;
        use std::io::Read as _;
        if self.pipeline.is_none() {
            let attributes = self
                .repo
                .attributes_only(
                    index,
                    gix::worktree::stack::state::attributes::Source::IdMapping,
                )
                .context("could not read .gitattributes")?
                .detach();
            self.pipeline = Some(
                gix::filter::Pipeline::new(self.repo, attributes)
                    .context("could not set up git's filters (.gitattributes)")?,
            );
        }
        let pipeline = self
            .pipeline
            .as_mut()
            .context("the pipeline was just built")?;
        let outcome = pipeline
            .convert_to_worktree(
                data,
                path,
                gix::filter::plumbing::pipeline::convert::to_worktree::Options::default(),
            )
            .with_context(|| format!("could not run git's checkout filters on '{path}'"))?;
        Ok(match outcome {
            ToWorktreeOutcome::Unchanged(bytes) => bytes.to_vec(),
            ToWorktreeOutcome::Buffer(bytes) => bytes.to_vec(),
            ToWorktreeOutcome::Process(
                gix::filter::plumbing::driver::apply::MaybeDelayed::Immediate(mut read),
            ) => {
                let mut out = Vec::new();
                read.read_to_end(&mut out)?;
                out
            }
            ToWorktreeOutcome::Process(_) => {
                anyhow::bail!("the filter for '{path}' delayed its output, which is not supported")
            }
        })
    }

    fn write(
        &mut self,
        index: &gix::index::State,
        path: &BStr,
        full: &Path,
        new: Leaf,
        symlinks: bool,
    ) -> anyhow::Result<()> {
        let blob = self
            .repo
            .find_blob(new.id)
            .with_context(|| format!("could not read the content of '{path}' ({})", new.id))?;
        let link = new.kind == EntryKind::Link;
        let bytes = if link {
            blob.data.clone()
        } else {
            self.checkout_bytes(index, path, &blob.data)?
        };
        drop(blob);
        loop {
            let temp = self.temp_path(full);
            if link && symlinks {
                make_symlink(&bytes, &temp)?;
            } else {
                write_new_file(&temp, &bytes, new.kind == EntryKind::BlobExecutable)?;
            }
            match std::fs::rename(&temp, full) {
                Ok(()) => return Ok(()),
                Err(err) => {
                    let _ = std::fs::remove_file(&temp);
                    // Another file system: write beside the file instead.
                    if err.kind() == std::io::ErrorKind::CrossesDevices && self.staging.is_some() {
                        self.staging = None;
                        continue;
                    }
                    return Err(err)
                        .with_context(|| format!("could not write '{}'", full.display()));
                }
            }
        }
    }
}

/// A new file holding `bytes`, created as git creates it: 0666 or 0777
/// under the umask.
fn write_new_file(path: &Path, bytes: &[u8], executable: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if executable { 0o777 } else { 0o666 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    let mut file = options
        .open(path)
        .with_context(|| format!("could not create '{}'", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("could not write '{}'", path.display()))?;
    Ok(())
}

fn make_symlink(target: &[u8], path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let target = gix::path::from_byte_slice(target)
            .map_err(|_| anyhow::anyhow!("a symlink target is not a valid path"))?;
        std::os::unix::fs::symlink(target, path)
            .with_context(|| format!("could not create the symlink '{}'", path.display()))
    }
    #[cfg(not(unix))]
    {
        write_new_file(path, target, false)
    }
}
