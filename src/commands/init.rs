//! `git session init`: configure a repository for sync, idempotently.

use std::path::Path;

use crate::commands::{Io, Workspace};

/// Configure this repository so session notes follow commits and remotes.
///
/// Sets notes.rewriteRef to the notes ref and notes.rewriteMode to
/// 'overwrite' (with notes.rewrite.amend and notes.rewrite.rebase on), so
/// 'git commit --amend' and 'git rebase' carry each checkpoint's note to
/// the rewritten commit; git's default mode, 'concatenate', would join two
/// notes into invalid TOML. Adds a fetch refspec to each remote (or to
/// REMOTE only) so a plain 'git fetch' brings the remote's notes to
/// refs/notes/session-remotes/<remote>, where every command reads them
/// (a commit's newer note wins); 'git session fetch' merges them.
///
/// Running it again changes nothing and says so.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  git session init\n  git session init upstream")]
pub struct Args {
    /// Configure only this remote's fetch refspec (default: every remote).
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    // Like checkpoint: a bare repository has no session to configure for.
    let Workspace { repo, config } = Workspace::open_worktree(cwd)?;
    let changes = crate::sync::init(&repo, &config, args.remote.as_deref())?;
    if changes.is_empty() {
        writeln!(io.out, "already configured")?;
    }
    for change in changes {
        writeln!(io.out, "{change}")?;
    }
    if repo.remote_names().is_empty() {
        io.warn(&["no remotes yet: run 'git session init' again after 'git remote add'".into()])?;
    }
    Ok(())
}
