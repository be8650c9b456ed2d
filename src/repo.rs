//! Opening the repository, refusing what git-session must not touch, and
//! the identity and commit settings a new commit is made with. The locks a
//! checkpoint holds are in [`crate::lock`].

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use gix::bstr::ByteSlice as _;

use crate::error::Error;

/// Fallback identity when none is configured, like git's own would fail.
pub const FALLBACK_NAME: &str = "git-session";
pub const FALLBACK_EMAIL: &str = "git-session@localhost";

/// Open the repository containing `dir`, honouring `GIT_DIR` and
/// `GIT_WORK_TREE` as git does, and `git -c` options: git passes them in
/// the environment, and they override every config file, as in git. A
/// repository whose refs gix cannot read is refused here, by name, before
/// any command misreads it.
pub fn open(dir: &Path) -> anyhow::Result<gix::Repository> {
    let overrides = crate::config::command_line_overrides()?;
    let mut options = gix::sec::trust::Mapping::<gix::open::Options>::default();
    for level in [&mut options.full, &mut options.reduced] {
        level.modify(|o| o.cli_overrides(overrides.clone()));
    }
    let repo = gix::ThreadSafeRepository::discover_with_environment_overrides_opts(
        dir,
        Default::default(),
        options,
    )
    .map_err(|_| Error::NotARepository(dir.to_path_buf()))?
    .to_thread_local();
    refuse_unsupported(&repo)?;
    let mut repo = repo;
    align_config_with_git(&mut repo)?;
    Ok(repo)
}

/// Settings gix reads differently from git, set in memory (never written)
/// to what git makes of them:
///
/// - git runs from the top of the work tree, so a relative
///   `core.excludesFile` or `core.attributesFile` names a file there; gix
///   would look from the current directory, and from a subdirectory
///   ignored files would be committed and attributes lost. They are made
///   absolute.
/// - git honours `core.precomposeUnicode` on macOS only; elsewhere gix
///   would still turn a decomposed (NFD) file name into its composed form,
///   find no such file and leave it out of the snapshot without a word.
///   It is switched off there.
fn align_config_with_git(repo: &mut gix::Repository) -> anyhow::Result<()> {
    use gix::config::tree::{Core, Key};
    let mut overrides: Vec<(&'static dyn Key, gix::bstr::BString)> = Vec::new();
    {
        let config = repo.config_snapshot();
        if let Some(top) = repo.workdir() {
            for key in [&Core::EXCLUDES_FILE, &Core::ATTRIBUTES_FILE] {
                let Some(value) = config.string(key) else {
                    continue;
                };
                let Ok(path) = gix::path::from_bstr(value.as_bstr()) else {
                    continue;
                };
                // `~/…` and `%(prefix)/…` are interpolated; absolute paths
                // and an empty value (no file) stand as they are.
                let text = path.to_string_lossy();
                if path.as_os_str().is_empty()
                    || path.is_absolute()
                    || text.starts_with('~')
                    || text.starts_with("%(prefix)")
                {
                    continue;
                }
                let absolute = top.join(&path);
                let value = gix::path::os_str_into_bstr(absolute.as_os_str())
                    .context("the work tree's path is not valid UTF-8")?
                    .to_owned();
                overrides.push((key, value));
            }
        }
        if !cfg!(target_os = "macos") && config.boolean(Core::PRECOMPOSE_UNICODE) == Some(true) {
            overrides.push((&Core::PRECOMPOSE_UNICODE, "false".into()));
        }
    }
    if overrides.is_empty() {
        return Ok(());
    }
    let mut config = repo.config_snapshot_mut();
    for (key, value) in overrides {
        config
            .set_value(key, value.as_bstr())
            .with_context(|| format!("could not read {}", key.logical_name()))?;
    }
    config
        .commit()
        .context("could not apply the configuration")?;
    Ok(())
}

/// gix 0.90 reads only the `files` ref backend: in a reftable repository
/// (`git init --ref-format=reftable`, git 2.45+) HEAD is a stub pointing
/// at `refs/heads/.invalid`, so every command would fail late and
/// misleadingly ("unknown revision 'HEAD'").
fn refuse_unsupported(repo: &gix::Repository) -> Result<(), Error> {
    let storage = repo
        .config_snapshot()
        .string("extensions.refStorage")
        .map(|value| value.to_string());
    match storage {
        Some(format) if !format.eq_ignore_ascii_case("files") => {
            Err(Error::UnsupportedRefStorage(format))
        }
        _ => Ok(()),
    }
}

/// Open and require a work tree.
pub fn open_worktree(dir: &Path) -> anyhow::Result<gix::Repository> {
    let repo = open(dir)?;
    if repo.workdir().is_none() {
        return Err(Error::Bare(repo.git_dir().to_path_buf()).into());
    }
    Ok(repo)
}

/// Refuse while git is in the middle of an operation: a checkpoint then
/// would record a half-done merge or rebase as if it were the user's work.
pub fn refuse_in_progress(repo: &gix::Repository) -> Result<(), Error> {
    use gix::state::InProgress;
    let Some(state) = repo.state() else {
        return Ok(());
    };
    let what = match state {
        InProgress::ApplyMailbox => "git am",
        InProgress::ApplyMailboxRebase => "rebase",
        InProgress::Bisect => "bisect",
        InProgress::CherryPick | InProgress::CherryPickSequence => "cherry-pick",
        InProgress::Merge => "merge",
        InProgress::Rebase | InProgress::RebaseInteractive => "rebase",
        InProgress::Revert | InProgress::RevertSequence => "revert",
    };
    Err(Error::InProgress(what))
}

/// Make commits possible without a configured identity, as a documented
/// fallback. Returns the identity in use when (part of) it is the fallback,
/// as `Name <email>`, so the caller can say so once: an address from
/// `EMAIL` or `user.email` is kept, only what is missing is filled in.
///
/// Refused as git refuses: a name or email configured but empty ("empty
/// ident name not allowed"), or none with `user.useConfigOnly` set (which
/// forbids any guessing).
pub fn ensure_identity(repo: &mut gix::Repository) -> anyhow::Result<Option<String>> {
    let complete = |sig: Option<Result<gix::actor::SignatureRef<'_>, _>>| -> Option<bool> {
        let sig = sig?.ok()?;
        use gix::bstr::ByteSlice as _;
        Some(!sig.name.trim().is_empty() && !sig.email.trim().is_empty())
    };
    let found = [complete(repo.committer()), complete(repo.author())];
    if found.iter().all(|c| *c == Some(true)) {
        return Ok(None);
    }
    if found.contains(&Some(false)) {
        return Err(Error::BadIdentity(
            "empty ident name or email not allowed (user.name, user.email or GIT_AUTHOR_*/GIT_COMMITTER_* is set, but empty)".into(),
        )
        .into());
    }
    if repo
        .config_snapshot()
        .boolean("user.useConfigOnly")
        .unwrap_or(false)
    {
        return Err(Error::BadIdentity(
            "no name or email was given and auto-detection is disabled (user.useConfigOnly)".into(),
        )
        .into());
    }
    let mut config = repo.config_snapshot_mut();
    config.append_config(
        [
            format!("gitoxide.committer.nameFallback={FALLBACK_NAME}"),
            format!("gitoxide.committer.emailFallback={FALLBACK_EMAIL}"),
            format!("gitoxide.author.nameFallback={FALLBACK_NAME}"),
            format!("gitoxide.author.emailFallback={FALLBACK_EMAIL}"),
        ],
        gix::config::Source::Api,
    )?;
    config.commit()?;
    let used = repo.committer().and_then(Result::ok).map_or_else(
        || format!("{FALLBACK_NAME} <{FALLBACK_EMAIL}>"),
        |sig| format!("{} <{}>", sig.name, sig.email),
    );
    Ok(Some(used))
}

/// What every command that commits does first: refuse while git is in the
/// middle of an operation, and make sure there is an identity. Returns the
/// warning to show when the fallback identity is in use.
pub fn prepare_to_commit(repo: &mut gix::Repository) -> anyhow::Result<Option<String>> {
    refuse_in_progress(repo)?;
    Ok(ensure_identity(repo)?.map(|used| {
        format!(
            "no user.name/user.email configured: committing as {used} (set them with 'git config user.name ...')"
        )
    }))
}

/// The author and committer for a new commit, with their times (which
/// honour `GIT_AUTHOR_DATE` and `GIT_COMMITTER_DATE`).
pub fn signatures(
    repo: &gix::Repository,
) -> anyhow::Result<(gix::actor::Signature, gix::actor::Signature)> {
    use anyhow::Context as _;
    let author = repo
        .author()
        .context("no author identity")?
        .context("the author identity is invalid")?
        .to_owned()?;
    let committer = repo
        .committer()
        .context("no committer identity")?
        .context("the committer identity is invalid")?
        .to_owned()?;
    Ok((author, committer))
}

/// The hooks `git commit` runs; no checkpoint and no `git commit-tree`
/// runs them.
pub const COMMIT_HOOKS: [&str; 4] = [
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
];

/// Whether `git commit` signs here (`commit.gpgSign`). Checkpoints never
/// sign; `finish --squash` does, through git.
pub fn signs_commits(repo: &gix::Repository) -> bool {
    repo.config_snapshot()
        .boolean("commit.gpgSign")
        .unwrap_or(false)
}

/// The [`COMMIT_HOOKS`] git would run here: executable files in
/// `core.hooksPath` (relative to the work tree, as git resolves it) or
/// `<common git dir>/hooks`.
pub fn commit_hooks(repo: &gix::Repository) -> Vec<&'static str> {
    let dir = match repo.config_snapshot().trusted_path("core.hooksPath") {
        Ok(Some(path)) if path.is_relative() => {
            repo.workdir().unwrap_or_else(|| repo.git_dir()).join(path)
        }
        Ok(Some(path)) => path,
        _ => repo.common_dir().join("hooks"),
    };
    COMMIT_HOOKS
        .into_iter()
        .filter(|name| is_executable(&dir.join(name)))
        .collect()
}

/// An executable regular file (following symlinks), as git requires of a
/// hook and PATH of a program.
pub fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// What `git commit` would do here that a checkpoint does not, each said
/// once per repository: the first time a checkpoint is written, a marker
/// file under `<session dir>/` records that the notice was shown. `doctor`
/// says it every time ([`commit_differences`]).
pub fn once_notices(repo: &gix::Repository) -> Vec<String> {
    let dir = session_dir(repo);
    commit_differences(repo)
        .into_iter()
        .filter(|(marker, _)| {
            let path = dir.join(marker);
            // Shown only when the marker is new: a failure to write it
            // means it is said again next time, which is harmless.
            !path.exists() && std::fs::write(&path, "shown\n").is_ok()
        })
        .map(|(_, text)| {
            format!("{text} (said once for this repository; 'git session doctor' repeats it)")
        })
        .collect()
}

/// Signing and commit hooks that checkpoints skip, as (marker file name,
/// explanation).
pub fn commit_differences(repo: &gix::Repository) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if signs_commits(repo) {
        out.push((
            "notice-unsigned",
            "commit.gpgSign is set, but checkpoints are unsigned work-in-progress commits; 'git session finish --squash' signs the final commit".to_string(),
        ));
    }
    let hooks = commit_hooks(repo);
    if !hooks.is_empty() {
        out.push((
            "notice-hooks",
            format!(
                "checkpoints are work-in-progress commits and do not run the commit hooks ({}); after 'git session finish --squash', 'git commit --amend --no-edit' runs them on the final commit",
                hooks.join(", ")
            ),
        ));
    }
    out
}

/// The repository's default branch, as short names: where the remote's
/// HEAD points (`refs/remotes/origin/HEAD`, or another remote's), else
/// `init.defaultBranch`, else `main` and `master` both.
pub fn default_branches(repo: &gix::Repository) -> Vec<String> {
    let mut remotes: Vec<String> = repo.remote_names().iter().map(|n| n.to_string()).collect();
    remotes.sort_by_key(|name| name != "origin");
    for remote in remotes {
        let name = format!("refs/remotes/{remote}/HEAD");
        let target = repo
            .try_find_reference(name.as_str())
            .ok()
            .flatten()
            .and_then(|r| match r.target() {
                gix::refs::TargetRef::Symbolic(target) => Some(target.as_bstr().to_string()),
                gix::refs::TargetRef::Object(_) => None,
            });
        if let Some(branch) = target.and_then(|t| {
            t.strip_prefix(&format!("refs/remotes/{remote}/"))
                .map(str::to_string)
        }) {
            return vec![branch];
        }
    }
    match repo.config_snapshot().string("init.defaultBranch") {
        Some(name) if !name.is_empty() => vec![name.to_string()],
        _ => vec!["main".into(), "master".into()],
    }
}

/// Where git-session keeps its own files: `<common git dir>/session/`.
pub fn session_dir(repo: &gix::Repository) -> PathBuf {
    repo.common_dir().join("session")
}

/// Resolve a revision spec to a commit id, with a clear error: `HEAD` on a
/// branch without commits says so, not "unknown revision".
pub fn resolve_commit(repo: &gix::Repository, rev: &str) -> Result<gix::ObjectId, Error> {
    let id = repo.rev_parse_single(rev).map_err(|_| {
        let unborn = matches!(rev, "HEAD" | "@") && repo.head().is_ok_and(|head| head.is_unborn());
        match repo.head_name() {
            Ok(Some(name)) if unborn => Error::UnbornBranch(name.shorten().to_string()),
            _ => Error::UnknownRev(rev.to_string()),
        }
    })?;
    let commit = id
        .object()
        .ok()
        .and_then(|o| o.peel_to_commit().ok())
        .ok_or_else(|| Error::UnknownRev(rev.to_string()))?;
    Ok(commit.id)
}

/// The commit HEAD points to, read as git reads a ref: the loose file
/// first, and `packed-refs` only once the loose file is known to be gone.
/// gix takes its `packed-refs` snapshot before it looks for the loose file,
/// so a `git pack-refs` (run by `git gc`) that packs and deletes the loose
/// ref in between made it return the ref's value from an older packing,
/// and the compare-and-swap that follows failed. `None` on an unborn
/// branch.
pub fn head_id_fresh(repo: &gix::Repository) -> anyhow::Result<Option<gix::ObjectId>> {
    ref_id_fresh(repo, "HEAD")
}

/// Like [`head_id_fresh`], for the ref `name` (a full name, or `HEAD`).
pub fn ref_id_fresh(repo: &gix::Repository, name: &str) -> anyhow::Result<Option<gix::ObjectId>> {
    let mut path = if name == "HEAD" {
        repo.git_dir().join("HEAD")
    } else {
        repo.common_dir()
            .join(gix::path::from_bstr(name.as_bytes().as_bstr())?)
    };
    let mut name = name.to_string();
    // A few symbolic hops at most (HEAD → branch, rarely more).
    for _ in 0..5 {
        match std::fs::read(&path) {
            Ok(content) => {
                let text = content.to_str_lossy();
                let text = text.trim();
                if let Some(target) = text.strip_prefix("ref:") {
                    name = target.trim().to_string();
                    path = repo
                        .common_dir()
                        .join(gix::path::from_bstr(name.as_bytes().as_bstr())?);
                    continue;
                }
                return Ok(Some(
                    gix::ObjectId::from_hex(text.as_bytes()).with_context(|| {
                        format!("'{}' does not hold an object id", path.display())
                    })?,
                ));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => break,
            // A directory, say: let gix say what it is.
            Err(_) => break,
        }
    }
    refresh_packed_refs(repo);
    Ok(repo
        .try_find_reference(name.as_str())?
        .map(|mut reference| reference.peel_to_id())
        .transpose()?
        .map(|id| id.detach()))
}

/// Read `packed-refs` again on the next ref lookup. gix keeps it cached
/// and trusts its modification time; a `git pack-refs` (run by `git gc`)
/// that rewrites it within one tick of the file system's clock and then
/// deletes the loose refs it packed would leave us reading an older value
/// of a ref. Call it once the locks are held, before reading refs that a
/// compare-and-swap will move.
pub fn refresh_packed_refs(repo: &gix::Repository) {
    // Fails when there is no packed-refs file: nothing is cached then.
    let _ = repo.refs.force_refresh_packed_buffer();
}

/// Run `write`, which writes (or reads) objects, again when a `git gc` running
/// alongside removed an object directory between its creation and the
/// object's arrival in it (`git prune` removes empty ones), which fails the
/// write with "Could not persist loose object … No such file or
/// directory". Objects are named by their content, so writing again is
/// always right.
///
/// Also when an object it reads (the base tree, say) "could not be found":
/// gix knew it in a pack gc's `repack -d` has just deleted, and may answer
/// "not found" before it has seen the new pack. The next lookup reads the
/// pack directory again; an object really missing costs a few ms more.
pub fn retry_beside_gc<T>(mut write: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let mut attempt = 0;
    loop {
        match write() {
            Err(err) if attempt < 3 && object_directory_vanished(&err) => attempt += 1,
            Err(err) if attempt < 3 && object_not_found(&err) => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(5 * attempt));
            }
            other => return other,
        }
    }
}

/// gix's "An object with id … could not be found", anywhere in `err`.
fn object_not_found(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let text = cause.to_string();
        text.starts_with("An object with id ") && text.ends_with(" could not be found")
    })
}

fn object_directory_vanished(err: &anyhow::Error) -> bool {
    let persisting = err.chain().any(|cause| {
        cause
            .to_string()
            .starts_with("Could not persist loose object")
    });
    persisting
        && err.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
                || cause.to_string().contains("(os error 2)")
        })
}

/// What `core.sharedRepository` asks of the files and directories written
/// in the repository, as git reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shared {
    /// `group` (`true`, `1`): readable and writable by the group.
    Group,
    /// `all` (`world`, `everybody`, `2`): also readable by everyone.
    All,
    /// An octal mode (`0640`): exactly these permissions.
    Exact(u32),
}

impl Shared {
    /// What this repository's `core.sharedRepository` asks for.
    fn of(repo: &gix::Repository) -> Option<Shared> {
        repo.config_snapshot()
            .string("core.sharedRepository")
            .and_then(|value| Shared::parse(value.to_str_lossy().trim()))
    }

    /// `None` for `umask`, `false`, `0` and values git would refuse.
    fn parse(value: &str) -> Option<Shared> {
        match value.to_ascii_lowercase().as_str() {
            "" | "umask" | "false" | "no" | "off" | "0" => None,
            "group" | "true" | "yes" | "on" | "1" => Some(Shared::Group),
            "all" | "world" | "everybody" | "2" => Some(Shared::All),
            octal => u32::from_str_radix(octal, 8)
                .ok()
                .filter(|mode| *mode & 0o600 == 0o600 && *mode <= 0o777)
                .map(Shared::Exact),
        }
    }

    /// The umask under which new files and directories get what git gives
    /// them (adjust_shared_perm): group read (and write, unless the file is
    /// read-only, as objects are) for `group`, read for others too with
    /// `all`, exactly the mode, plus search bits on directories, for an
    /// octal value.
    fn umask(self, current: u32) -> u32 {
        match self {
            Shared::Group => current & !0o070,
            Shared::All => current & !0o075,
            Shared::Exact(mode) => 0o777 & !(mode | (mode & 0o444) >> 2),
        }
    }
}

/// Give the file at `path`, just created in the git dir by a thread that
/// may not widen the process umask (see [`SharedPermissions`]), the
/// permissions `core.sharedRepository` asks for, as git's
/// adjust_shared_perm does for a file it wrote.
pub fn share_file(repo: &gix::Repository, path: &Path) -> std::io::Result<()> {
    let shared = Shared::of(repo);
    #[cfg(unix)]
    if let Some(shared) = shared {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        let wanted = match shared {
            Shared::Group => mode | (mode & 0o600) >> 3,
            Shared::All => mode | (mode & 0o600) >> 3 | (mode & 0o400) >> 6,
            Shared::Exact(exact) => exact & 0o666,
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
    }
    #[cfg(not(unix))]
    let _ = (shared, path);
    Ok(())
}

/// While alive, what git-session creates in the repository (objects, refs,
/// reflogs, the index, its own files) gets the permissions
/// `core.sharedRepository` asks for, as git's own writes do: the process
/// umask is widened for that time and restored when this drops. Hold it
/// only while writing into the git dir: the work tree keeps the user's
/// umask, as with git.
pub struct SharedPermissions {
    #[cfg(unix)]
    previous: Option<rustix::fs::Mode>,
}

/// See [`SharedPermissions`]; a no-op where the setting is absent or
/// `umask`.
pub fn shared_permissions(repo: &gix::Repository) -> SharedPermissions {
    let shared = Shared::of(repo);
    #[cfg(unix)]
    {
        use rustix::fs::Mode;
        let previous = shared.map(|shared| {
            // umask(2) can only be read by setting it.
            let current = rustix::process::umask(Mode::empty());
            let wanted = shared.umask(current.bits() as u32);
            rustix::process::umask(Mode::from_bits_truncate(wanted as _));
            current
        });
        SharedPermissions { previous }
    }
    #[cfg(not(unix))]
    {
        let _ = shared;
        SharedPermissions {}
    }
}

impl Drop for SharedPermissions {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(previous) = self.previous.take() {
            rustix::process::umask(previous);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only gc's vanished object directory is retried, a few times.
    #[test]
    fn object_writes_are_retried_only_when_gc_removed_the_directory() {
        let vanished = || {
            anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::NotFound))
                .context("Could not persist loose object, path=\"/r/.git/objects/ab/cd\"")
                .context("could not write the tree")
        };
        let mut calls = 0;
        let result = retry_beside_gc(|| {
            calls += 1;
            if calls < 3 {
                Err(vanished())
            } else {
                Ok(calls)
            }
        });
        assert_eq!(result.expect("third time"), 3);
        let mut calls = 0;
        let result: anyhow::Result<()> = retry_beside_gc(|| {
            calls += 1;
            Err(vanished())
        });
        assert!(result.is_err());
        assert_eq!(calls, 4, "tries four times, then gives up");
        let mut calls = 0;
        let _ = retry_beside_gc(|| -> anyhow::Result<()> {
            calls += 1;
            Err(
                anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
                    .context("Could not persist loose object"),
            )
        });
        assert_eq!(calls, 1, "other failures are not retried");
        let mut calls = 0;
        let result = retry_beside_gc(|| {
            calls += 1;
            if calls < 2 {
                Err(anyhow::anyhow!(
                    "An object with id 6d27f1a5b98ddf1dd3353d77aba23229477cbc52 could not be found"
                )
                .context("could not read the base tree"))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(
            result.expect("second time"),
            2,
            "a read gc raced is tried again"
        );
    }

    #[test]
    fn shared_repository_values_read_as_git_reads_them() {
        assert_eq!(Shared::parse("umask"), None);
        assert_eq!(Shared::parse("false"), None);
        assert_eq!(Shared::parse("group"), Some(Shared::Group));
        assert_eq!(Shared::parse("true"), Some(Shared::Group));
        assert_eq!(Shared::parse("everybody"), Some(Shared::All));
        assert_eq!(Shared::parse("0640"), Some(Shared::Exact(0o640)));
        assert_eq!(
            Shared::parse("0440"),
            None,
            "the owner must be able to write"
        );
        // umask 077: git's group gives files 0660, objects 0440, dirs 0770.
        let group = Shared::Group.umask(0o077);
        assert_eq!(
            (0o666 & !group, 0o444 & !group, 0o777 & !group),
            (0o660, 0o440, 0o770)
        );
        let all = Shared::All.umask(0o077);
        assert_eq!((0o666 & !all, 0o777 & !all), (0o664, 0o775));
        let exact = Shared::Exact(0o640).umask(0o077);
        assert_eq!(
            (0o666 & !exact, 0o444 & !exact, 0o777 & !exact),
            (0o640, 0o440, 0o750)
        );
    }
}
