//! `git session log`: the checkpoints of a branch, newest first.

use std::path::Path;

use serde_json::json;

use crate::commands::{counts, print_json, Io, Workspace};
use crate::time::short;

/// List checkpoints on first-parent history, newest first.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  git session log\n  git session log -n 3 --json")]
pub struct Args {
    /// Where to start (default HEAD).
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Show at most N checkpoints.
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    pub max_count: Option<usize>,
    /// Print a JSON array.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let ws = Workspace::open(cwd)?;
    let (_, tip, mut history) = ws.history_from(args.rev.as_deref())?;
    let limit = args.max_count.unwrap_or(usize::MAX);
    let mut found = Vec::new();
    if limit > 0 {
        history.walk(tip, |cp| {
            found.push(cp);
            found.len() < limit
        })?;
    }
    io.warn(&history.warnings)?;
    if args.json {
        let list: Vec<_> = found
            .iter()
            .map(|cp| {
                json!({
                    "commit": cp.id.to_string(),
                    "created_at": cp.state.created_at,
                    "reason": cp.state.reason,
                    "summary": cp.state.summary,
                    "restored_from": cp.state.restored_from,
                    "source": cp.source,
                    "done": cp.state.done.len(),
                    "doing": cp.state.doing.len(),
                    "todo": cp.state.todo.len(),
                    "blockers": cp.state.blockers.len(),
                })
            })
            .collect();
        return print_json(io, &json!(list));
    }
    for cp in &found {
        writeln!(
            io.out,
            "{} {:>16}  {:<11} {}  ({})",
            short(cp.id),
            crate::time::ago(cp.time),
            cp.state.reason,
            cp.state.summary,
            counts(&cp.state)
        )?;
    }
    Ok(())
}
