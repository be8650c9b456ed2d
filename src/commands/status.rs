//! `git session status`: the session at a glance, and whether a checkpoint
//! is due.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde_json::json;

use crate::color::Style;
use crate::commands::{print_json, Io, Workspace};
use crate::history::History;
use crate::snapshot::ChangeKind;
use crate::time::short;

/// Show the task, open items, blockers, the newest checkpoint, and what
/// changed in the work tree since it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  git session status\n  git session status --json")]
pub struct Args {
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let Workspace { repo, config } = Workspace::open_worktree(cwd)?;
    let branch = repo.head_name()?.map(|n| n.shorten().to_string());
    let head = repo.head_id().ok().map(|id| id.detach());
    let mut history = History::new(&repo, &config)?;
    let newest = match head {
        Some(head) => history.newest(head)?,
        None => None,
    };
    io.warn(&history.warnings)?;
    let since_tree = match &newest {
        Some(cp) => cp.tree,
        None => crate::commit::head_tree_or_empty(&repo, head)?,
    };
    let (changes, skipped) = crate::snapshot::changes_since(
        &repo,
        since_tree,
        &crate::snapshot::Options::from_config(&config),
        &AtomicBool::new(false),
    )?;
    let pick = |kind: ChangeKind| -> Vec<&str> {
        changes
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.path.as_str())
            .collect()
    };
    let (modified, added, deleted) = (
        pick(ChangeKind::Modified),
        pick(ChangeKind::Added),
        pick(ChangeKind::Deleted),
    );
    let state = newest.as_ref().map(|cp| &cp.state);
    let open: Vec<&String> = state.map(|s| s.open_items().collect()).unwrap_or_default();

    if args.json {
        let value = json!({
            "branch": branch,
            "checkpoint": newest.as_ref().map(|cp| json!({
                "commit": cp.id.to_string(),
                "created_at": cp.state.created_at,
                "reason": cp.state.reason,
                "summary": cp.state.summary,
                "restored_from": cp.state.restored_from,
                "is_head": Some(cp.id) == head,
            })),
            "task": state.map(|s| s.task.as_str()),
            "open": open,
            "blockers": state.map(|s| s.blockers.clone()).unwrap_or_default(),
            "changes": {"modified": modified, "added": added, "deleted": deleted},
            "skipped": skipped,
            "rescue": crate::rescue::pending(&repo).map(|(reference, id, _)| json!({"ref": reference, "commit": id.to_string()})),
        });
        return print_json(io, &value);
    }

    let heading = |text: &str| io.color.out(Style::Heading, text);
    let (task_heading, open_heading, blockers_heading) =
        (heading("Task:"), heading("Open:"), heading("Blockers:"));
    let out = &mut *io.out;
    writeln!(
        out,
        "On branch {}",
        branch.as_deref().unwrap_or("HEAD (detached)")
    )?;
    match &newest {
        Some(cp) => {
            writeln!(
                out,
                "Last checkpoint {}, {} ({}): {}",
                short(cp.id),
                crate::time::ago(cp.time),
                cp.state.reason,
                cp.state.summary
            )?;
            if let Some(from) = &cp.state.restored_from {
                writeln!(
                    out,
                    "  (a restore of {}: 'git session restore #2' undoes it)",
                    from.get(..7).unwrap_or(from)
                )?;
            }
            if Some(cp.id) != head {
                writeln!(out, "  (commits were made after it)")?;
            }
        }
        None => writeln!(
            out,
            "No checkpoint yet: start one with 'git session start \"TASK\"'."
        )?,
    }
    if let Some(state) = state {
        if !state.task.is_empty() {
            writeln!(
                out,
                "\n{task_heading} {}",
                state.task.lines().next().unwrap_or_default()
            )?;
        }
        if !open.is_empty() {
            writeln!(out, "\n{open_heading}")?;
            for (n, item) in open.iter().enumerate() {
                writeln!(out, "  {}. {item}", n + 1)?;
            }
        }
        if !state.blockers.is_empty() {
            writeln!(out, "\n{blockers_heading}")?;
            for b in &state.blockers {
                writeln!(out, "  ! {b}")?;
            }
        }
    }
    if changes.is_empty() {
        writeln!(out, "\nNo changes since the last checkpoint.")?;
    } else {
        writeln!(
            out,
            "\nChanged since the last checkpoint ({} files): run 'git session checkpoint'",
            changes.len()
        )?;
        for (label, list) in [
            ("modified", &modified),
            ("added", &added),
            ("deleted", &deleted),
        ] {
            for path in list {
                writeln!(out, "  {label}: {path}")?;
            }
        }
    }
    if let Some((reference, id, time)) = crate::rescue::pending(&repo) {
        writeln!(
            out,
            "\nRescue snapshot waiting: {reference} ({}, {})\n  restore it with: git restore --source={reference} --worktree -- .\n  then drop it:    git update-ref -d {reference}",
            short(id),
            crate::time::ago(time)
        )?;
    }
    if !skipped.is_empty() {
        writeln!(
            out,
            "\nLeft out of checkpoints (secret-looking or too large):"
        )?;
        for path in &skipped {
            writeln!(out, "  {path}")?;
        }
    }
    Ok(())
}
