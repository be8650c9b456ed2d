//! `git session restore`: make the work tree a checkpoint again, undoably.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde_json::json;

use crate::commands::{print_json, state_json, Io, Workspace};
use crate::restore::{Outcome, Request};
use crate::snapshot::ChangeKind;
use crate::time::short;

/// Make the work tree equal to a checkpoint, saving what it holds first.
///
/// The work tree as it is now is checkpointed first (reason pre-restore;
/// skipped when the work tree is HEAD's, as committed). Then every
/// file is made as CHECKPOINT has it, modes and symbolic links included;
/// files that CHECKPOINT does not have are removed, tracked or untracked,
/// and so are directories left empty. Ignored files, files left out of
/// checkpoints (secret-looking, too large) and .git are never touched: a
/// restore that would have to overwrite or remove one refuses before it
/// writes anything, naming each. Last, a new checkpoint (reason restore)
/// records CHECKPOINT's tree and state with a Session-Restored-From trailer.
/// The branch only moves forward, so a restore is undone by restoring the
/// commit before it (HEAD^ right after).
///
/// With paths, only those are restored (the pre-restore checkpoint is still
/// taken, and the session state is kept as it is).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session restore '#2'              # the checkpoint before the newest, as 'log' lists them\n  git session restore HEAD~3 -- src/    # only what is under src/\n  git session restore --dry-run 4f2a9c1 # what would change\n  git session restore HEAD^             # right after a restore: undo it\n\n'#N' counts checkpoints back from the newest, as 'git session log' lists\nthem: '#1' is the newest (restoring it drops the changes made since,\nafter saving them); quote it, since '#' starts a comment in shells."
)]
pub struct Args {
    /// The checkpoint: '#N' (the N-th in 'git session log'), or any
    /// revision of this branch's history (HEAD~3, a short id).
    #[arg(value_name = "CHECKPOINT")]
    pub checkpoint: String,
    /// Restore only these files or directories (git pathspecs).
    #[arg(last = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// List what would change, and change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print nothing but errors and warnings.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let ws = Workspace::open_worktree(cwd)?;
    let request = Request {
        target: args.checkpoint.clone(),
        paths: args.paths.clone(),
        cwd: cwd.to_path_buf(),
        dry_run: args.dry_run,
        templates: ws.templates(),
    };
    let progress = crate::progress::Delayed::on_terminal(
        "restore: scanning the work tree…",
        !args.quiet && !args.json,
    );
    let Workspace { mut repo, config } = ws;
    let outcome = crate::restore::restore(&mut repo, &config, &request, &AtomicBool::new(false));
    drop(progress);
    report(&outcome?, args.quiet, args.json, io)
}

fn letter(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "A",
        ChangeKind::Modified => "M",
        ChangeKind::Deleted => "D",
    }
}

fn report(outcome: &Outcome, quiet: bool, as_json: bool, io: &mut Io<'_>) -> anyhow::Result<()> {
    io.warn(&outcome.warnings)?;
    for kept in &outcome.kept {
        io.warn(&[format!(
            "left in place: {} ({}; it is in no checkpoint, so no restore touches it)",
            kept.path, kept.detail
        )])?;
    }
    if as_json {
        let value = json!({
            "target": outcome.target.to_string(),
            "branch": outcome.branch,
            "dry_run": outcome.dry_run,
            "saved": outcome.saved.map(|id| id.to_string()),
            "saved_created": outcome.saved_created,
            "restore": outcome.restore.map(|id| id.to_string()),
            "changes": outcome.changes.iter().map(|c| json!({"path": c.path, "status": letter(c.kind)})).collect::<Vec<_>>(),
            "kept": outcome.kept.iter().map(|s| json!({"path": s.path, "reason": s.reason})).collect::<Vec<_>>(),
            "state": state_json(&outcome.state, None),
        });
        return print_json(io, &value);
    }
    if quiet {
        return Ok(());
    }
    let target = short(outcome.target);
    let files = |n: usize| format!("{n} file{}", if n == 1 { "" } else { "s" });
    if outcome.dry_run {
        if outcome.changes.is_empty() {
            writeln!(io.out, "nothing to restore: the work tree matches {target}")?;
        } else {
            writeln!(
                io.out,
                "restoring {target} would change {}{}:",
                files(outcome.changes.len()),
                if outcome.saved_created {
                    ", after saving the work tree as a pre-restore checkpoint"
                } else {
                    ""
                }
            )?;
            for change in &outcome.changes {
                writeln!(io.out, "  {} {}", letter(change.kind), change.path)?;
            }
        }
        return Ok(());
    }
    let (Some(restore), Some(saved)) = (outcome.restore, outcome.saved) else {
        writeln!(
            io.out,
            "nothing to restore: the work tree and the state already match {target}"
        )?;
        return Ok(());
    };
    writeln!(
        io.out,
        "restored {target} on {}: {} changed; checkpoint {}",
        outcome.branch,
        files(outcome.changes.len()),
        short(restore),
    )?;
    writeln!(
        io.out,
        "  the work tree as it was is {} {}: 'git session restore {}' brings it back",
        if outcome.saved_created {
            "the pre-restore checkpoint"
        } else {
            "checkpoint"
        },
        short(saved),
        short(saved)
    )?;
    Ok(())
}
