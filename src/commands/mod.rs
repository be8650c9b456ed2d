//! One module per subcommand: its `Args` (whose doc comments are the help)
//! and its `run`. This file holds what they share and the dispatch.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

use crate::cli::Command;
use crate::color::{Color, Style};
use crate::config::Config;
use crate::history::{Checkpoint, History};
use crate::state::State;
use crate::time::short;

pub mod checkpoint;
pub mod completions;
pub mod r#continue;
pub mod demo;
pub mod diff;
pub mod doctor;
pub mod fetch;
pub mod finish;
pub mod hook;
pub mod init;
pub mod list;
pub mod log;
pub mod man;
pub mod pause;
pub mod push;
pub mod restore;
pub mod resume;
pub mod show;
pub mod start;
pub mod status;
pub mod templates;

/// Where a command writes: standard output for results, standard error for
/// warnings. Passed down so nothing deep prints on its own.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Whether each stream gets colour, decided once in `main`.
    pub color: Color,
}

impl Io<'_> {
    /// Print `warning: …` lines.
    pub fn warn(&mut self, warnings: &[String]) -> std::io::Result<()> {
        let prefix = self.color.err(Style::Warning, "warning:");
        for warning in warnings {
            writeln!(self.err, "{prefix} {warning}")?;
        }
        Ok(())
    }

    /// Print `hint: …` lines, as git prints advice.
    pub fn hint(&mut self, hints: &[String]) -> std::io::Result<()> {
        let prefix = self.color.err(Style::Hint, "hint:");
        for hint in hints {
            writeln!(self.err, "{prefix} {hint}")?;
        }
        Ok(())
    }
}

/// What a command that works on a repository starts with (jj's
/// `CommandHelper`): the repository containing the working directory,
/// opened and checked, and its settings, validated.
pub struct Workspace {
    pub repo: gix::Repository,
    pub config: Config,
}

impl Workspace {
    /// The repository containing `cwd` (a bare one too) and its settings.
    pub fn open(cwd: &Path) -> anyhow::Result<Workspace> {
        Workspace::load(crate::repo::open(cwd)?)
    }

    /// Like [`Workspace::open`], requiring a work tree.
    pub fn open_worktree(cwd: &Path) -> anyhow::Result<Workspace> {
        Workspace::load(crate::repo::open_worktree(cwd)?)
    }

    /// `repo` with its settings; a setting that cannot be used is an error.
    pub fn load(repo: gix::Repository) -> anyhow::Result<Workspace> {
        let config = Config::load(&repo)?;
        Ok(Workspace { repo, config })
    }

    /// Where templates may be overridden.
    pub fn templates(&self) -> crate::render::Dirs {
        crate::render::Dirs::for_repo(&self.repo, &self.config)
    }

    /// REV as given (default `HEAD`), the commit it names, and a history
    /// reader to walk back from there.
    pub fn history_from<'r>(
        &self,
        rev: Option<&'r str>,
    ) -> anyhow::Result<(&'r str, gix::ObjectId, History<'_>)> {
        let rev = rev.unwrap_or("HEAD");
        let tip = crate::repo::resolve_commit(&self.repo, rev)?;
        Ok((rev, tip, History::new(&self.repo, &self.config)?))
    }
}

/// Run one parsed command in `cwd`.
pub fn dispatch(command: Command, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let result = match command {
        Command::Start(args) => start::run(args, cwd, io),
        Command::Checkpoint(args) => checkpoint::run(args, cwd, io),
        Command::Show(args) => show::run(args, cwd, io),
        Command::Log(args) => log::run(args, cwd, io),
        Command::Status(args) => status::run(args, cwd, io),
        Command::Resume(args) => resume::run(args, cwd, io),
        Command::Pause(args) => pause::run(args, cwd, io),
        Command::List(args) => list::run(args, cwd, io),
        Command::Continue(args) => r#continue::run(args, cwd, io),
        Command::Restore(args) => restore::run(args, cwd, io),
        Command::Diff(args) => diff::run(args, cwd, io),
        Command::Templates(args) => templates::run(args, cwd, io),
        Command::Hook(args) => hook::run(args, cwd, io),
        Command::Push(args) => push::run(args, cwd, io),
        Command::Fetch(args) => fetch::run(args, cwd, io),
        Command::Init(args) => init::run(args, cwd, io),
        Command::Finish(args) => finish::run(args, cwd, io),
        Command::Demo(args) => demo::run(args, io),
        Command::Doctor(args) => doctor::run(args, cwd, io),
        Command::Completions(args) => completions::run(args, io),
        Command::Man(args) => man::run(args, io),
    };
    result.map_err(|error| sessions_elsewhere(error, cwd))
}

/// How many other sessions a "no checkpoint" error names.
const ELSEWHERE_SHOWN: usize = 5;

/// A "no checkpoint" error, pointing at the sessions other branches have
/// (a fresh clone sits on `main` while the work is on `origin/claude/…`).
/// Any other error, or when there are none, is returned as it was.
fn sessions_elsewhere(error: anyhow::Error, cwd: &Path) -> anyhow::Error {
    let Some(crate::error::Error::NoCheckpoint(rev)) = error.downcast_ref() else {
        return error;
    };
    let rev = rev.clone();
    let Ok(ws) = Workspace::open(cwd) else {
        return error;
    };
    let now = crate::time::now(&ws.repo);
    let Ok((sessions, _)) = crate::sessions::list(&ws.repo, &ws.config, false, now) else {
        return error;
    };
    let mut elsewhere: Vec<String> = sessions
        .iter()
        .filter(|s| !s.current)
        .take(ELSEWHERE_SHOWN)
        .map(|s| {
            format!(
                "{} ({}, {})",
                s.rev(),
                s.lifecycle.name(),
                crate::time::describe(now - crate::sessions::recorded_at(&s.checkpoint))
            )
        })
        .collect();
    let more = sessions.iter().filter(|s| !s.current).count() - elsewhere.len();
    if elsewhere.is_empty() {
        return error;
    }
    if more > 0 {
        elsewhere.push(format!("and {more} more"));
    }
    crate::error::Error::NoCheckpointHere { rev, elsewhere }.into()
}

/// The state as JSON, with every documented key present (`null` when
/// unknown), plus where it came from.
pub fn state_json(state: &State, checkpoint: Option<&Checkpoint>) -> Value {
    // Destructured, so a new state field cannot be left out.
    let State {
        schema,
        task,
        branch,
        base,
        summary,
        reason,
        created_at,
        sequence,
        previous,
        agent,
        agent_session,
        model,
        continues,
        report,
        restored_from,
        done,
        doing,
        todo,
        decisions,
        notes,
        blockers,
        numbers: _,
        merged,
        skipped,
    } = state;
    let mut value = json!({
        "schema": schema,
        "task": task,
        "branch": branch,
        "base": base,
        "summary": summary,
        "reason": reason,
        "created_at": created_at,
        "sequence": sequence,
        "previous": previous,
        "done": done,
        "doing": doing,
        "todo": todo,
        "decisions": decisions,
        "notes": notes,
        "blockers": blockers,
        "open": open_json(state),
        "merged": merged,
        "skipped": skipped,
        "agent": agent,
        "agent_session": agent_session,
        "model": model,
        "continues": continues,
        "report": (!report.is_empty()).then_some(report),
        "restored_from": restored_from,
    });
    if let (Some(cp), Some(map)) = (checkpoint, value.as_object_mut()) {
        map.insert("checkpoint".into(), json!(cp.id.to_string()));
        map.insert("source".into(), json!(cp.source));
    }
    value
}

/// The open items in number order, `{"number", "text", "in_progress"}`.
pub fn open_json(state: &State) -> Value {
    state
        .open()
        .iter()
        .map(|item| json!({"number": item.number, "text": item.text, "in_progress": item.doing}))
        .collect()
}

/// Print a JSON value, pretty-printed, then a newline.
pub fn print_json(io: &mut Io<'_>, value: &Value) -> anyhow::Result<()> {
    writeln!(io.out, "{}", crate::terminal::json(value, true)?)?;
    Ok(())
}

/// `done 2, doing 1, todo 3`
pub fn counts(state: &State) -> String {
    format!(
        "done {}, doing {}, todo {}",
        state.done.len(),
        state.doing.len(),
        state.todo.len()
    )
}

/// The state for people: task, numbered open items, the rest as lists.
pub fn print_state(io: &mut Io<'_>, state: &State, cp: Option<&Checkpoint>) -> std::io::Result<()> {
    let heading = |text: &str| io.color.out(Style::Heading, text);
    let (task, open_heading) = (heading("Task:"), heading("Open:"));
    let sessions_heading = heading("Other sessions at work on this branch:");
    let headings = [
        heading("Done:"),
        heading("Decisions:"),
        heading("Notes:"),
        heading("Blockers:"),
        heading("Skipped (not committed):"),
    ];
    let out = &mut *io.out;
    if let Some(cp) = cp {
        writeln!(
            out,
            "checkpoint {} ({}, {}){}",
            short(cp.id),
            crate::time::ago(cp.time),
            if state.reason.is_empty() {
                "manual"
            } else {
                &state.reason
            },
            if state.branch.is_empty() {
                String::new()
            } else {
                format!(" on {}", state.branch)
            }
        )?;
        if !state.summary.is_empty() {
            writeln!(out, "  {}", state.summary)?;
        }
        writeln!(out)?;
        if !cp.sessions.is_empty() {
            writeln!(out, "{sessions_heading}")?;
            for session in &cp.sessions {
                writeln!(out, "  {}", session_line(session))?;
            }
            writeln!(out)?;
        }
    }
    if !state.task.is_empty() {
        writeln!(out, "{task}")?;
        for line in state.task.lines() {
            writeln!(out, "  {line}")?;
        }
        writeln!(out)?;
    }
    let open = state.open();
    if !open.is_empty() {
        writeln!(out, "{open_heading}")?;
        for item in open {
            writeln!(out, "  {}", open_line(&item))?;
        }
        writeln!(out)?;
    }
    let [done, decisions, notes, blockers, skipped] = &headings;
    for (title, list, bullet) in [
        (done, &state.done, "✓"),
        (decisions, &state.decisions, "-"),
        (notes, &state.notes, "-"),
        (blockers, &state.blockers, "!"),
    ] {
        if !list.is_empty() {
            writeln!(out, "{title}")?;
            for item in list {
                writeln!(out, "  {bullet} {}", one_line(item))?;
            }
            writeln!(out)?;
        }
    }
    if !state.skipped.is_empty() {
        writeln!(out, "{skipped}")?;
        for s in &state.skipped {
            writeln!(out, "  {} ({})", s.path, s.reason)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `9f8e7d6c (claude-code): checkpoint 5d6e7f8, 4 hours ago, …`: another
/// session at work on the branch, as `show` lists it.
pub fn session_line(session: &crate::history::Session) -> String {
    let name = match &session.agent_session {
        Some(id) => id.chars().take(8).collect(),
        None => "checkpoints by hand".to_string(),
    };
    let agent = session
        .agent
        .as_ref()
        .map(|agent| format!(" ({agent})"))
        .unwrap_or_default();
    let merged = if session.merged {
        "; its checkpoints were rebased under this one's, its items are merged below"
    } else {
        ""
    };
    format!(
        "{name}{agent}: checkpoint {}, {}{}{merged}",
        short(session.checkpoint),
        crate::time::ago(session.time),
        if session.summary.is_empty() {
            String::new()
        } else {
            format!(": {}", one_line(&session.summary))
        }
    )
}

/// `3. write the parser (in progress)`: an open item as `show` and
/// `status` print it, with the number `--done '#3'` takes.
pub fn open_line(item: &crate::state::OpenItem<'_>) -> String {
    let marker = if item.doing { " (in progress)" } else { "" };
    format!("{}. {}{marker}", item.number, one_line(item.text))
}

/// Multi-line items print on one line, continuation lines joined.
fn one_line(item: &str) -> String {
    item.lines().collect::<Vec<_>>().join(" / ")
}
