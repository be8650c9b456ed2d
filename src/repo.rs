//! Opening the repository, refusing what git-session must not touch, and
//! the identity and commit settings a new commit is made with. The locks a
//! checkpoint holds are in [`crate::lock`].

use std::path::{Path, PathBuf};

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
    Ok(repo)
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
