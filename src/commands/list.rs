//! `git session list`: every session in the repository, local or on a
//! remote, and where each stands.

use std::path::Path;

use serde_json::json;

use crate::commands::{print_json, Io, Workspace};
use crate::sessions::{self, Session};
use crate::time::short;

/// List the sessions of every branch, local and remote-tracking, newest
/// first.
///
/// A branch has a session when its first-parent history holds a
/// checkpoint (within session.searchDepth commits); its newest checkpoint
/// says where it stands:
///
///   active    checkpointed by a hook or by hand in the last two hours
///   idle      the same, longer ago: it ended without a pause (cancelled,
///             killed, out of time)
///   paused    its newest checkpoint paused it: 'git session pause',
///             'hook pre-cancel', or the agent's session end
///   finished  'git session finish' (listed with --all)
///
/// Remote-tracking branches (origin/claude/x) count, and only the commits'
/// trailers are needed, so a fresh clone lists every session its remote
/// has. A branch that is both local and remote-tracking at the same
/// checkpoint is one line. '*' marks the checked-out branch. Continue one
/// on this branch with 'git session continue BRANCH'.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session list\n  git session list --fetch          # see what the remotes have now\n  git session list --all --json"
)]
pub struct Args {
    /// Fetch every remote's branches (and session notes) first, through your
    /// git.
    #[arg(long)]
    pub fetch: bool,
    /// Include finished sessions.
    #[arg(long)]
    pub all: bool,
    /// Print {"sessions": [...]}.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let mut ws = Workspace::open(cwd)?;
    if args.fetch {
        let warnings = fetch_all(&mut ws);
        io.warn(&warnings)?;
    }
    let now = crate::time::now(&ws.repo);
    let (sessions, warnings) = sessions::list(&ws.repo, &ws.config, args.all, now)?;
    io.warn(&warnings)?;
    if args.json {
        let list: Vec<_> = sessions.iter().map(|s| session_json(s, now)).collect();
        return print_json(io, &json!({ "sessions": list }));
    }
    if sessions.is_empty() {
        writeln!(
            io.out,
            "No sessions{}: start one with 'git session start \"TASK\"'.",
            if args.all { "" } else { " in progress" }
        )?;
        return Ok(());
    }
    let width = sessions
        .iter()
        .map(|s| s.rev().chars().count())
        .max()
        .unwrap_or(0);
    for s in &sessions {
        let state = &s.checkpoint.state;
        let task = state.task.lines().next().unwrap_or_default();
        let mut line = format!(
            "{} {:<width$}  {:<8}  {:>14}  {}",
            if s.current { '*' } else { ' ' },
            s.rev(),
            s.lifecycle.name(),
            crate::time::describe(now - sessions::recorded_at(&s.checkpoint)),
            one_line(task, 60),
        );
        line.push_str(&format!(
            "  (done {}, open {}",
            state.done.len(),
            state.open_items().count()
        ));
        if !state.blockers.is_empty() {
            line.push_str(&format!(", blocked {}", state.blockers.len()));
        }
        line.push(')');
        if let Some(from) = &state.continues {
            line.push_str(&format!(" ← {from}"));
        }
        writeln!(io.out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Fetch each remote with its configured refspecs, then its session
/// notes; a remote that fails is a warning, the others still count.
fn fetch_all(ws: &mut Workspace) -> Vec<String> {
    let mut warnings = Vec::new();
    let remotes: Vec<String> = ws
        .repo
        .remote_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    for remote in remotes {
        if let Err(err) = crate::remote::Git::new(&ws.repo).fetch_remote(&remote) {
            warnings.push(format!("could not fetch '{remote}': {err}"));
            continue;
        }
        if let Err(err) = crate::sync::fetch(&mut ws.repo, &ws.config, Some(&remote)) {
            warnings.push(format!(
                "fetched the branches of '{remote}', but not its session notes: {err:#}"
            ));
        }
    }
    warnings
}

/// The first `max` characters of `text`, with `…` when cut.
fn one_line(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

fn session_json(s: &Session, now: i64) -> serde_json::Value {
    let cp = &s.checkpoint;
    let state = &cp.state;
    json!({
        "branch": s.branch,
        "rev": s.rev(),
        "local": s.local,
        "remotes": s.remotes,
        "current": s.current,
        "status": s.lifecycle,
        "task": state.task,
        "checkpoint": cp.id.to_string(),
        "short": short(cp.id),
        "time": state.created_at,
        "age": crate::time::describe(now - sessions::recorded_at(cp)),
        "reason": state.reason,
        "summary": state.summary,
        "done": state.done.len(),
        "open": state.open_items().count(),
        "blockers": state.blockers.len(),
        "agent": state.agent,
        "model": state.model,
        "report": (!state.report.is_empty()).then_some(&state.report),
        "continues": state.continues,
        "source": cp.source,
    })
}
