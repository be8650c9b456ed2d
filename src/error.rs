//! Errors a user can act on, each with the hint that tells them how.
//!
//! Deep code returns these typed errors; `main` prints them as git does
//! (`error: …` then `hint: …` lines) and maps them to the exit code. Anything
//! else travels as `anyhow::Error` with context naming the path or ref.

use std::path::PathBuf;

/// A problem with the user's input or repository, not a bug.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a git repository (or any of the parent directories): {}", .0.display())]
    NotARepository(PathBuf),
    #[error("'{}' is a bare repository: git-session needs a work tree", .0.display())]
    Bare(PathBuf),
    #[error("a {0} is in progress: refusing to checkpoint")]
    InProgress(&'static str),
    #[error("the index has unresolved conflicts in {count} path(s), first '{first}'")]
    Conflicts { count: usize, first: String },
    #[error("could not lock '{}': another git process seems to be running", .0.display())]
    IndexLocked(PathBuf),
    #[error("another git-session is running: could not take '{}'", .0.display())]
    SessionLocked(PathBuf),
    #[error("unknown revision '{0}'")]
    UnknownRev(String),
    #[error("no checkpoint found at or before '{0}'")]
    NoCheckpoint(String),
    #[error("branch '{0}' already exists")]
    BranchExists(String),
    #[error("'{0}' is not a valid branch name")]
    InvalidBranch(String),
    #[error("the branch moved while the checkpoint was written (now at {0}): nothing was changed")]
    RefMoved(String),
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// What the user can do about it, as git prints after `hint:`.
    pub fn hints(&self) -> Vec<String> {
        match self {
            Error::NotARepository(_) => vec![
                "run git-session inside a git work tree, or create one with 'git init'".into(),
            ],
            Error::Bare(_) => vec!["run it in a clone that has a work tree".into()],
            Error::InProgress(op) => vec![format!(
                "finish or abort the {op} first (see 'git status'), then checkpoint again"
            )],
            Error::Conflicts { .. } => vec![
                "resolve the conflicts and 'git add' the files, then checkpoint again".into(),
            ],
            Error::IndexLocked(path) => vec![
                "wait for the other git process to finish and try again".into(),
                format!(
                    "if no git process is running, remove '{}' by hand",
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
            Error::NoCheckpoint(_) => {
                vec!["start one with 'git session start \"TASK\"' or 'git session checkpoint'".into()]
            }
            Error::BranchExists(name) => vec![format!(
                "switch to it with 'git switch {name}' and run 'git session checkpoint', or choose another name"
            )],
            Error::InvalidBranch(_) => vec!["see 'git help check-ref-format'".into()],
            Error::RefMoved(_) => vec!["run the checkpoint again".into()],
            Error::Usage(_) => Vec::new(),
        }
    }
}
