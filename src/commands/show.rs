//! `git session show`: the session state at a revision.

use std::path::Path;

use crate::commands::{print_json, print_state, state_json, Io, Workspace};
use crate::error::Error;

/// Show the session state: the newest checkpoint at or before REV.
///
/// Open items (in progress first, then to do) are numbered; checkpoint
/// --done '#N' refers to those numbers. The state is read from the
/// checkpoint's note when there is one, else from its commit trailers.
///
/// When another session worked on the branch at the same time (its
/// checkpoints rebased under this one's), its state is merged in and the
/// session is named; so is another agent session at work in this clone.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  git session show\n  git session show origin/feat/x --json")]
pub struct Args {
    /// Where to look (default HEAD): any commit, branch or tag.
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Print the state as JSON, with `checkpoint`, `source` and `sessions`.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let ws = Workspace::open(cwd)?;
    let (rev, tip, mut history) = ws.history_from(args.rev.as_deref())?;
    let found = history.newest(tip)?;
    io.warn(&history.warnings)?;
    let Some(cp) = found else {
        return Err(Error::NoCheckpoint(rev.to_string()).into());
    };
    if args.json {
        let mut value = state_json(&cp.state, Some(&cp));
        if let Some(map) = value.as_object_mut() {
            let sessions: Vec<_> = cp
                .sessions
                .iter()
                .map(crate::resume::SessionInfo::of)
                .collect();
            map.insert("sessions".into(), serde_json::json!(sessions));
        }
        print_json(io, &value)
    } else {
        print_state(io, &cp.state, Some(&cp))?;
        Ok(())
    }
}
