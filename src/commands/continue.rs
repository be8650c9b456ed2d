//! `git session continue`: bring another branch's session onto this branch.

use std::path::Path;

use serde_json::json;

use crate::commands::{print_json, Io, Workspace};
use crate::continuation::{self, Move};
use crate::time::short;

/// Continue another branch's session on the branch you are on.
///
/// For a new session on a branch of its own (on the web, every session has
/// its own claude/… branch and may push only that one): brings BRANCH's
/// work and session state here, so you work and push on this branch.
/// BRANCH may be a local branch or one that exists only on a remote
/// (claude/x finds origin/claude/x; 'git session list' shows them).
///
/// The current branch only moves forward: by fast-forward when BRANCH
/// contains it, or to BRANCH's tip when it has no commits of its own
/// (everything it has is on another branch, as for a branch just created
/// from main). A branch with commits of its own is refused, nothing
/// changed: merge or rebase BRANCH yourself, then run this again to bring
/// the state over. The work tree is updated as 'git merge --ff-only' would
/// update it, refusing when a local change or an untracked file is in the
/// way. Then a checkpoint (reason continue) records BRANCH's state here,
/// with a Session-Continues trailer naming it, and the prompt for the
/// continued session is printed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session continue claude/dark-mode-a1b2\n  git session continue origin/feat/x --json\n  git session list    # which sessions there are to continue"
)]
pub struct Args {
    /// The branch whose session to continue: claude/x, or origin/claude/x.
    #[arg(value_name = "BRANCH")]
    pub branch: String,
    /// Print one JSON object: what moved, the checkpoint, and the prompt.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let mut ws = Workspace::open_worktree(cwd)?;
    let templates = ws.templates();
    let continued =
        continuation::continue_session(&mut ws.repo, &ws.config, &args.branch, templates)?;
    io.warn(&continued.warnings)?;
    let (context, _) = crate::resume::gather(&ws.repo, &ws.config, None)?;
    let mut warnings = Vec::new();
    let prompt = crate::render::render("resume", &ws.templates(), &context, &mut warnings)?;
    io.warn(&warnings)?;
    if args.json {
        return print_json(
            io,
            &json!({
                "branch": continued.onto,
                "continues": continued.branch,
                "rev": continued.rev,
                "from": continued.from.map(|id| id.to_string()),
                "to": continued.to.to_string(),
                "moved": continued.moved,
                "written": continued.written,
                "removed": continued.removed,
                "checkpoint": continued.checkpoint.commit.to_string(),
                "prompt": prompt,
            }),
        );
    }
    match continued.moved {
        Move::AlreadyThere => writeln!(
            io.err,
            "{} already has {} ({}): bringing the session state over",
            continued.onto,
            continued.rev,
            short(continued.to)
        )?,
        moved => writeln!(
            io.err,
            "{}: {} to {} ({}), {} file{} written, {} removed",
            continued.onto,
            continuation::describe(moved),
            continued.rev,
            short(continued.to),
            continued.written,
            if continued.written == 1 { "" } else { "s" },
            continued.removed
        )?,
    }
    writeln!(
        io.err,
        "checkpoint {} on {}: continues the session of {}; push it with 'git session push'\n",
        short(continued.checkpoint.commit),
        continued.onto,
        continued.branch
    )?;
    io.out.write_all(prompt.as_bytes())?;
    Ok(())
}
