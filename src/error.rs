//! Errors a user can act on, each with the hint that tells them how.
//!
//! Deep code returns these typed errors; `main` prints them as git does
//! (`error: …` then `hint: …` lines) and maps them to the exit code. Anything
//! else travels as `anyhow::Error` with context naming the path or ref, and
//! is an internal error: it exits with its own code ([`exit::INTERNAL`]), so
//! a script can tell "you asked for something that cannot be done" from
//! "git-session failed".

use std::path::PathBuf;

/// A problem with the user's input or repository, not a bug.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a git repository (or any of the parent directories): {}", .0.display())]
    NotARepository(PathBuf),
    /// `-C DIR` names no directory (git's words).
    #[error("cannot change to '{}': {reason}", .dir.display())]
    CannotChangeTo { dir: PathBuf, reason: String },
    #[error("'{}' is a bare repository: git-session needs a work tree", .0.display())]
    Bare(PathBuf),
    /// `extensions.refStorage` names a ref backend other than `files`.
    #[error("this repository keeps its refs in the '{0}' format (extensions.refStorage), an unsupported storage backend: git-session needs the 'files' ref backend")]
    UnsupportedRefStorage(String),
    /// The identity git would refuse to commit with.
    #[error("{0}")]
    BadIdentity(String),
    #[error("a {0} is in progress: refusing to checkpoint")]
    InProgress(&'static str),
    #[error("the index has unresolved conflicts in {count} path(s), first '{first}'")]
    Conflicts { count: usize, first: String },
    /// A path `git add` refuses (a FIFO where a tracked file was, a BOM its
    /// working-tree-encoding prohibits); `detail` names the path.
    #[error("{detail}: nothing was committed")]
    CannotAdd { detail: String, hint: String },
    #[error("the index '{}' is damaged (its checksum does not match)", .0.display())]
    DamagedIndex(PathBuf),
    #[error("could not lock '{}': another git process seems to be running", .0.display())]
    IndexLocked(PathBuf),
    /// The branch's own lock file (`refs/heads/<branch>.lock`) is there.
    #[error("could not move the branch: '{}' exists (another git process is updating it, or one was killed while it did)", .0.display())]
    RefLocked(PathBuf),
    #[error("another git-session is running: could not take '{}'", .0.display())]
    SessionLocked(PathBuf),
    #[error("unknown revision '{0}'")]
    UnknownRev(String),
    /// HEAD names a branch without commits.
    #[error("branch '{0}' has no commits yet")]
    UnbornBranch(String),
    #[error("no checkpoint found at or before '{0}'")]
    NoCheckpoint(String),
    /// [`Error::NoCheckpoint`], where other branches have sessions: a fresh
    /// clone on `main`, whose sessions are on `origin/claude/…`.
    #[error("no checkpoint found at or before '{rev}'")]
    NoCheckpointHere {
        rev: String,
        /// `origin/claude/x (paused, 3 hours ago)`, newest first.
        elsewhere: Vec<String>,
    },
    /// `#N` past the oldest checkpoint.
    #[error("'{spec}' names no checkpoint: there {} {count} on this branch", if *.count == 1 { "is" } else { "are" })]
    NoSuchCheckpoint { spec: String, count: usize },
    /// `restore` needs a branch to move forward.
    #[error("HEAD is detached: a restore records a new checkpoint on the current branch, and there is none")]
    RestoreDetached,
    /// `restore` of a commit that is not in the branch's history.
    #[error("'{rev}' is not in the history of branch '{branch}': a restore only goes back along the current branch")]
    NotInHistory { rev: String, branch: String },
    /// `restore` would have to overwrite or remove what no checkpoint
    /// holds, or cannot write a path; `paths` are `path: why` lines.
    #[error("cannot restore {target}: {} path{} in the way, nothing was changed:\n  {}", .paths.len(), if .paths.len() == 1 { "" } else { "s" }, .paths.join("\n  "))]
    RestoreBlocked { target: String, paths: Vec<String> },
    /// `restore -- PATH` where PATH names no file on either side.
    #[error(
        "pathspec '{path}' matches no file in {target} or in the work tree: nothing was changed"
    )]
    RestoreNoMatch { path: String, target: String },
    /// A write failed after the work tree was partly changed.
    #[error("the restore stopped midway, the work tree is partly restored: {cause}")]
    RestoreIncomplete { pre_restore: String, cause: String },
    #[error("branch '{0}' already exists")]
    BranchExists(String),
    /// `start` where a session is under way (not finished).
    #[error("{branch} already has a session (newest checkpoint {checkpoint}): starting another would replace its open items, decisions and notes")]
    SessionExists { branch: String, checkpoint: String },
    #[error("'{0}' is not a valid branch name")]
    InvalidBranch(String),
    #[error("the branch moved while the checkpoint was written (now at {0}): nothing was changed")]
    RefMoved(String),
    #[error("no remote named '{0}'")]
    UnknownRemote(String),
    #[error("no remote given, and none to default to: the branch has no remote configured and there is no 'origin'")]
    NoRemote,
    #[error("HEAD is detached: there is no branch to push")]
    DetachedHead,
    #[error("could not run git: {0}")]
    GitNotRunnable(String),
    #[error("git did not finish within {} and was stopped", crate::time::duration(*.0))]
    GitTimedOut(std::time::Duration),
    #[error("could not reach remote '{remote}': {detail}")]
    RemoteUnreachable { remote: String, detail: String },
    #[error(
        "'{remote}' rejected '{refname}' ({reason}): the remote has commits this repository lacks"
    )]
    PushRejected {
        remote: String,
        refname: String,
        reason: String,
    },
    /// Publishing a squash would overwrite commits that are in no chain
    /// the squash replaced: someone else's push.
    #[error("'{remote}' has commits on '{branch}' that the squash did not fold in ({why}): refusing to overwrite them, nothing was pushed")]
    SquashNotPublished {
        remote: String,
        branch: String,
        why: String,
        hints: Vec<String>,
    },
    #[error("'{remote}' refused '{refname}' ({reason})")]
    PushRefused {
        remote: String,
        refname: String,
        reason: String,
    },
    #[error("{what} failed: {detail}")]
    GitFailed { what: String, detail: String },
    /// `git commit-tree -S` failed: nothing of the squash was written.
    #[error("could not sign the squashed commit (commit.gpgSign is set): {0}")]
    SigningFailed(String),
    /// The checkpoint stands; only the push after it failed (exit code 3).
    /// `written`: this run wrote it (else it was there already).
    #[error(
        "{}, but the push failed: {cause}",
        if *.written { format!("checkpoint {commit} is written") } else { format!("nothing new to checkpoint (the newest checkpoint is {commit})") }
    )]
    PushAfterCheckpoint {
        commit: String,
        written: bool,
        cause: String,
        hints: Vec<String>,
    },
    #[error("{0}")]
    Usage(String),
    /// A `--done`/`--doing`/`--drop`/`--edit`/`--unblock` reference that
    /// names nothing: nothing is written.
    #[error("{reason}")]
    BadItem { reason: String, hint: String },
    /// A template override that cannot be found, read or rendered.
    #[error("{0}")]
    Template(String),
    /// An agent's settings file that install/uninstall cannot edit.
    #[error("'{}': {problem}", .path.display())]
    SettingsFile { path: PathBuf, problem: String },
    /// A file the user named that cannot be written (`resume -o`).
    #[error("could not write '{}': {detail}", .path.display())]
    CannotWrite { path: PathBuf, detail: String },
    /// `finish --squash` with fewer than two commits since the base.
    #[error("nothing to squash: {0}")]
    NothingToSquash(String),
    /// `finish --squash` on a history it cannot fold safely.
    #[error("cannot squash: {reason}")]
    CannotSquash { reason: String, hint: String },
    /// `continue` would have to rewrite or overwrite something.
    #[error("cannot continue: {reason}")]
    CannotContinue { reason: String, hint: String },
    /// A branch that is neither local nor remote-tracking.
    #[error("no branch named '{0}', here or on a remote")]
    UnknownBranch(String),
    /// A setting that git-session cannot use, with where it was set; the
    /// problem says what is accepted.
    #[error(
        "bad setting in {origin}: {}{problem}",
        .key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default()
    )]
    BadConfig {
        /// The key as that layer spells it (`session.sizeLimit`,
        /// `size_limit`); `None` when the problem is the file as a whole.
        key: Option<String>,
        origin: crate::config::Origin,
        problem: String,
        /// What to do, when the setting has its own advice.
        hint: Option<String>,
    },
    /// The command printed its whole result (`doctor --json`): exit with
    /// this code, and print nothing more (standard error stays for
    /// machines too).
    #[error("exit status {0}")]
    Reported(u8),
    /// `doctor` found problems; it printed them with their fixes.
    #[error(
        "{count} problem{s} found; the hints above say how to fix {them}",
        count = .0,
        s = if *.0 == 1 { "" } else { "s" },
        them = if *.0 == 1 { "it" } else { "them" }
    )]
    DoctorProblems(usize),
}

impl Error {
    /// What the user can do about it, as git prints after `hint:`.
    pub fn hints(&self) -> Vec<String> {
        match self {
            Error::NotARepository(_) => vec![
                "run git-session inside a git work tree, or create one with 'git init'".into(),
            ],
            Error::Bare(_) => vec!["run it in a clone that has a work tree".into()],
            Error::CannotChangeTo { .. } => Vec::new(),
            Error::UnsupportedRefStorage(_) => vec![
                "convert the repository with 'git refs migrate --ref-format=files' (git 2.46 or newer)".into(),
                "git before 2.48 cannot migrate reflogs: upgrade git, or make a clone with 'git clone --ref-format=files'".into(),
            ],
            Error::InProgress(op) => vec![format!(
                "finish or abort the {op} first (see 'git status'), then checkpoint again"
            )],
            Error::BadIdentity(_) => vec![
                "set who you are: git config --global user.name 'Your Name' && git config --global user.email you@example.com".into(),
            ],
            Error::Conflicts { .. } => vec![
                "resolve the conflicts and 'git add' the files, then checkpoint again".into(),
            ],
            Error::CannotAdd { hint, .. } => vec![
                hint.clone(),
                "a hook's checkpoint leaves such a path out and saves the rest of the work".into(),
            ],
            Error::DamagedIndex(_) => vec![
                "rebuild it from HEAD with 'git reset -q' (your files are not touched)".into(),
            ],
            Error::IndexLocked(path) => vec![
                "wait for the other git process to finish and try again".into(),
                format!(
                    "if no git process is running, remove '{}' by hand",
                    path.display()
                ),
            ],
            Error::RefLocked(path) => vec![
                "wait for the other git process to finish and try again".into(),
                format!(
                    "if no git process is running ('ps -e | grep git' lists none), the lock is stale: remove it with rm '{}', then checkpoint again",
                    path.display()
                ),
            ],
            Error::SessionLocked(path) => vec![
                "wait for the other checkpoint to finish and try again".into(),
                format!(
                    "if no git-session process is running, remove '{}' by hand",
                    path.display()
                ),
            ],
            Error::UnknownRev(_) => {
                vec!["name a commit, branch or tag, as 'git rev-parse' accepts it".into()]
            }
            Error::UnbornBranch(_) => vec![
                "begin a session with 'git session start \"TASK\"' (its first checkpoint is the branch's first commit), or commit with git first".into(),
            ],
            Error::NoCheckpoint(_) => vec![
                "start one with 'git session start \"TASK\"' or 'git session checkpoint'".into(),
                format!(
                    "the search stops after that many commits in a row without a checkpoint: git config session.searchDepth (default {})",
                    crate::config::DEFAULT_SEARCH_DEPTH
                ),
            ],
            Error::NoCheckpointHere { elsewhere, .. } => vec![
                format!("sessions on other branches: {}", elsewhere.join(", ")),
                "'git session resume BRANCH' prints one's prompt; 'git session continue BRANCH' brings its work and state onto this branch; 'git session list' shows them all".into(),
            ],
            Error::NoSuchCheckpoint { .. } => {
                vec!["'git session log' lists them: #1 is the newest".into()]
            }
            Error::RestoreDetached => vec![
                "switch to the session's branch ('git switch BRANCH'), then restore again".into(),
            ],
            Error::NotInHistory { .. } => vec![
                "'git session log' lists the checkpoints you can restore here".into(),
                "to take up another branch's work, switch to it ('git switch BRANCH'), or bring it onto this one with 'git session continue BRANCH'".into(),
            ],
            Error::RestoreBlocked { .. } => vec![
                "move what is in the way elsewhere (no checkpoint holds an ignored file or one left out as a secret or too large), then restore again".into(),
                "'git session restore --dry-run CHECKPOINT' lists what a restore would change".into(),
            ],
            Error::RestoreNoMatch { target, .. } => vec![format!(
                "'git session diff {target} --stat' lists the files that differ; paths are relative to the current directory"
            )],
            Error::RestoreIncomplete { pre_restore, .. } => vec![
                format!("the work tree as it was is saved: 'git session restore {pre_restore}' brings it back"),
                "or fix the cause and run the same restore again".into(),
            ],
            Error::BranchExists(name) => vec![format!(
                "switch to it with 'git switch {name}' and run 'git session checkpoint', or choose another name"
            )],
            Error::SessionExists { .. } => vec![
                "to change the task and keep the rest: git session checkpoint --task 'TEXT'".into(),
                "to begin a fresh session here on purpose: git session start --new 'TASK' (the old state stays in history: git session log)".into(),
                "or begin it on a new branch: git session start -b BRANCH 'TASK'".into(),
            ],
            Error::InvalidBranch(_) => vec!["see 'git help check-ref-format'".into()],
            Error::RefMoved(_) => vec!["run the checkpoint again".into()],
            // Only `init` names remotes it cannot take as URLs.
            Error::UnknownRemote(name) if name.contains(['/', ':', '\\']) => vec![
                format!("'git session init' configures remotes by name: add this one first ('git remote add NAME {name}'), then run 'git session init NAME'"),
            ],
            Error::UnknownRemote(name) => vec![
                "'git remote -v' lists the remotes".into(),
                format!("add this one with 'git remote add {name} URL', or give a URL"),
            ],
            // `push`, `fetch`, `pause`, … all take the remote as their
            // argument: the hint names none of them in particular.
            Error::NoRemote => vec![
                "name the remote after the command (a name or a URL), or add one with 'git remote add origin URL'"
                    .into(),
            ],
            Error::DetachedHead => {
                vec!["switch to a branch ('git switch -c NAME'), then push again".into()]
            }
            Error::GitTimedOut(_) => vec![
                "the network, the remote or a pre-push hook is slow: run the command again by hand".into(),
                format!(
                    "a push or fetch you start may take up to session.networkTimeout seconds (default {}; 0 for no limit): git config session.networkTimeout 600",
                    crate::config::DEFAULT_NETWORK_TIMEOUT.as_secs()
                ),
            ],
            Error::GitNotRunnable(_) => vec![
                "git-session runs 'git' from PATH for push and fetch: install git or fix PATH"
                    .into(),
            ],
            Error::RemoteUnreachable { remote, .. } => {
                // A URL is its own address; a name's is in git config.
                let address = if remote.contains([':', '/']) {
                    String::new()
                } else {
                    format!(" ('git remote get-url {remote}')")
                };
                vec![format!(
                    "check the address{address}, the network and your credentials, then try again"
                )]
            }
            Error::PushRejected {
                remote, refname, ..
            } => match refname.strip_prefix("refs/heads/") {
                Some(branch) => vec![format!(
                    "integrate the remote's commits ('git pull --rebase {remote} {branch}'), then run 'git session push' again"
                )],
                None => vec!["run 'git session push' again".into()],
            },
            Error::SquashNotPublished { hints, .. } => hints.clone(),
            Error::PushRefused { .. } => vec![
                "the remote (a server hook or hosting rule) does not accept this ref: ask its owner, or push under another name"
                    .into(),
            ],
            Error::GitFailed { .. } => Vec::new(),
            Error::SigningFailed(_) => vec![
                "the branch is at the final checkpoint; nothing of the squash was written".into(),
                "make signing work as for 'git commit -S' (gpg.format, gpg.program, user.signingKey), then finish again".into(),
                "or, to make this commit unsigned, set 'git config commit.gpgSign false' first".into(),
            ],
            Error::PushAfterCheckpoint { hints, .. } => hints.clone(),
            Error::Usage(_) => Vec::new(),
            Error::BadItem { hint, .. } => vec![hint.clone()],
            Error::Template(_) => vec![
                "fix the template, or remove the override to use the built-in one ('git session templates' lists where each comes from)".into(),
            ],
            Error::SettingsFile { .. } => {
                vec!["fix the file by hand (it is JSON), then run the command again".into()]
            }
            Error::CannotWrite { .. } => {
                vec!["check that the directory exists and that you may write there".into()]
            }
            Error::NothingToSquash(_) => vec![
                "a squash folds two or more commits: checkpoint more work first, or finish without --squash"
                    .into(),
            ],
            Error::CannotSquash { hint, .. } => vec![hint.clone()],
            Error::CannotContinue { hint, .. } => vec![hint.clone()],
            Error::UnknownBranch(_) => vec![
                "'git session list --fetch' fetches the remotes and lists the branches with a session"
                    .into(),
            ],
            Error::BadConfig {
                key, origin, hint, ..
            } => {
                use crate::config::Origin;
                let key = key.as_deref().unwrap_or("KEY");
                let fix = match origin {
                    Origin::File {
                        path,
                        line: Some(line),
                    } => format!("fix or remove line {line} of '{}'", path.display()),
                    Origin::File { path, line: None } => {
                        format!("fix or remove '{}'", path.display())
                    }
                    Origin::GitFile(path) => format!(
                        "change it with 'git config --file {0} {key} VALUE', or remove it with 'git config --file {0} --unset-all {key}'",
                        path.display()
                    ),
                    Origin::CommandLine => "fix the 'git -c' option (git passes it in GIT_CONFIG_PARAMETERS)".into(),
                    Origin::Environment => "fix GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n> or unset GIT_CONFIG_COUNT".into(),
                    Origin::Git => format!("'git config --show-origin --get-all {key}' shows where it is set"),
                };
                let mut hints: Vec<String> = hint.iter().cloned().collect();
                hints.push(fix);
                if let Origin::File { .. } = origin {
                    hints.push("until then agent hooks ignore the file and checkpoint with your git config and the defaults".into());
                }
                hints
            }
            Error::DoctorProblems(_) | Error::Reported(_) => Vec::new(),
        }
    }

    /// The process exit code: [`exit::PUSH_FAILED`] when a checkpoint was
    /// written but its push failed (so a hook can tell "saved locally" from
    /// "not saved"), else [`exit::USER`].
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::PushAfterCheckpoint { .. } => exit::PUSH_FAILED,
            Error::Reported(code) => *code,
            _ => exit::USER,
        }
    }
}

/// The exit codes, as the man page and README list them.
pub mod exit {
    /// A problem git-session understood: a refusal, a bad setting or
    /// argument, something missing; a `hint:` says what to do.
    pub const USER: u8 = 1;
    /// The command line could not be parsed (clap's own code).
    pub const USAGE: u8 = 2;
    /// The checkpoint was written, but the push after it failed.
    pub const PUSH_FAILED: u8 = 3;
    /// A failure git-session did not anticipate: a bug, or the machine
    /// (disk, permissions) failing under it (sysexits' `EX_SOFTWARE`).
    pub const INTERNAL: u8 = 70;
}
