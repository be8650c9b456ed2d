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
    // What is not committed (a checkpoint would commit it) apart from what
    // was committed after the newest checkpoint (by hand, or the agent's
    // own commits): a checkpoint has nothing to do for those.
    let head_tree = crate::commit::head_tree_or_empty(&repo, head)?;
    let (changes, skipped) = crate::snapshot::changes_since(
        &repo,
        head_tree,
        &crate::snapshot::Options::from_config(&config),
        &AtomicBool::new(false),
    )?;
    let committed: Vec<(ChangeKind, String)> = match &newest {
        Some(cp) if Some(cp.id) != head => crate::worktree::diff_trees(&repo, cp.tree, head_tree)?
            .into_iter()
            .map(|c| (c.kind(), c.path.to_string()))
            .collect(),
        _ => Vec::new(),
    };
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
    let pick_committed = |kind: ChangeKind| -> Vec<&str> {
        committed
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, path)| path.as_str())
            .collect()
    };
    let state = newest.as_ref().map(|cp| &cp.state);
    let open: Vec<&String> = state.map(|s| s.open_items().collect()).unwrap_or_default();
    // What keeps a checkpoint from the branch now (it would refuse).
    let blocked = blocked(&repo)?;
    // The remotes that have this branch (as far as their remote-tracking
    // branches tell): none means the session exists in this clone only.
    let published: Option<Vec<String>> = branch
        .as_deref()
        .map(|b| crate::sessions::remotes_with(&repo, b));
    let has_remotes = !repo.remote_names().is_empty();

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
            "committed_since_checkpoint": {
                "modified": pick_committed(ChangeKind::Modified),
                "added": pick_committed(ChangeKind::Added),
                "deleted": pick_committed(ChangeKind::Deleted),
            },
            "skipped": skipped.iter().map(|s| json!({"path": s.path, "reason": s.reason, "detail": s.detail})).collect::<Vec<_>>(),
            "rescue": crate::rescue::pending(&repo).map(|(reference, id, _)| json!({"ref": reference, "commit": id.to_string()})),
            "blocked": blocked,
            "published": published,
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
                // The restore's parent holds the work tree as it was before
                // it (the pre-restore checkpoint, or HEAD then), whatever
                // the checkpoints before it are.
                let before = repo
                    .find_commit(cp.id)
                    .ok()
                    .and_then(|c| c.parent_ids().next().map(|id| short(id.detach())));
                writeln!(
                    out,
                    "  (a restore of {}: 'git session restore {}' undoes it)",
                    from.get(..7).unwrap_or(from),
                    before.as_deref().unwrap_or("#2")
                )?;
            }
            if Some(cp.id) != head {
                writeln!(out, "  (commits were made after it)")?;
            }
            if has_remotes && published.as_ref().is_some_and(|p| p.is_empty()) {
                writeln!(
                    out,
                    "  (this branch is in this clone only: 'git session push' publishes it)"
                )?;
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
            for item in state.open() {
                writeln!(out, "  {}", crate::commands::open_line(&item))?;
            }
        }
        if !state.blockers.is_empty() {
            writeln!(out, "\n{blockers_heading}")?;
            for b in &state.blockers {
                writeln!(out, "  ! {b}")?;
            }
        }
    }
    let files = format!(
        "{} file{}",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    );
    let todo = match (&blocked, newest.is_some()) {
        (Some(_), _) => String::new(),
        (None, true) => ": run 'git session checkpoint'".to_string(),
        (None, false) => {
            ": run 'git session start \"TASK\"' or 'git session checkpoint'".to_string()
        }
    };
    if !committed.is_empty() {
        writeln!(
            out,
            "\nCommitted since the last checkpoint ({} file{}; the next checkpoint carries the session state over them):",
            committed.len(),
            if committed.len() == 1 { "" } else { "s" }
        )?;
        for (label, kind) in [
            ("modified", ChangeKind::Modified),
            ("added", ChangeKind::Added),
            ("deleted", ChangeKind::Deleted),
        ] {
            for path in pick_committed(kind) {
                writeln!(out, "  {label}: {path}")?;
            }
        }
    }
    let after_commits = !committed.is_empty();
    match (changes.is_empty(), &newest, head) {
        (true, Some(_), _) if after_commits => writeln!(out, "\nNo uncommitted changes.")?,
        (true, Some(_), _) => writeln!(out, "\nNo changes since the last checkpoint.")?,
        (false, Some(_), _) if after_commits => {
            writeln!(out, "\nNot committed yet ({files}){todo}")?
        }
        (true, None, Some(_)) => writeln!(out, "\nNo changes since HEAD.")?,
        (true, None, None) => writeln!(out, "\nNo files yet: the branch has no commits.")?,
        (false, Some(_), _) => {
            writeln!(out, "\nChanged since the last checkpoint ({files}){todo}")?
        }
        (false, None, Some(_)) => writeln!(
            out,
            "\nChanged since HEAD ({files}), in no checkpoint yet{todo}"
        )?,
        (false, None, None) => {
            writeln!(out, "\nIn the work tree ({files}), in no commit yet{todo}")?
        }
    }
    if !changes.is_empty() {
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
    if let Some(why) = &blocked {
        writeln!(
            out,
            "\n{why}: checkpoints wait until it is over, and meanwhile the agents' hooks save the work tree to {}{} instead.",
            crate::rescue::PREFIX,
            crate::rescue::branch_name(&repo)
        )?;
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
        writeln!(out, "\nLeft out of checkpoints (never committed):")?;
        for skip in &skipped {
            writeln!(out, "  {}: {}", skip.path, skip.detail)?;
        }
    }
    Ok(())
}

/// What makes a checkpoint refuse right now, in words: an operation in
/// progress (`A merge is in progress`) or conflicts in the index.
fn blocked(repo: &gix::Repository) -> anyhow::Result<Option<String>> {
    if let Err(crate::error::Error::InProgress(what)) = crate::repo::refuse_in_progress(repo) {
        return Ok(Some(format!("A {what} is in progress")));
    }
    let index = repo.index_or_empty()?;
    let conflicted: std::collections::BTreeSet<_> = index
        .entries()
        .iter()
        .filter(|e| e.stage_raw() != 0)
        .map(|e| e.path(&index).to_string())
        .collect();
    Ok(conflicted.first().map(|first| {
        format!(
            "The index has unresolved conflicts in {} path{}, first '{first}'",
            conflicted.len(),
            if conflicted.len() == 1 { "" } else { "s" }
        )
    }))
}
