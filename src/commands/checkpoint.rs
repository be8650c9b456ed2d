//! `git session checkpoint`: commit the whole work tree with the session state.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde_json::json;

use crate::checkpoint::{Outcome, Request};
use crate::commands::{counts, print_json, state_json, Io, Workspace};
use crate::state::Edits;
use crate::time::short;

/// Commit the whole work tree as a checkpoint, with the session state.
///
/// Takes a snapshot with `git add -A` semantics (tracked changes, deletions,
/// new files no .gitignore excludes) and commits it on the current branch,
/// recording the state in commit trailers and in a git note. The index is
/// brought in line; no file in the work tree is changed.
///
/// The state is inherited from the newest checkpoint and edited by the flags.
/// An open item can be named by its text or as #N, its number in
/// 'git session show' (and status and resume), which it keeps until it is
/// done or dropped. A reference that names nothing ('#9' with no item 9,
/// '1' or '#x' that no item is called) is refused, and nothing is written;
/// --done or --doing with a new text records a new item. When neither the files nor the state changed, nothing
/// is written; "the files" are HEAD's, so a commit of your own after the
/// last checkpoint is not followed by an empty one.
///
/// Untracked files that look like secrets (.env, *.pem, id_rsa, .netrc, …,
/// in any case; templates such as .env.example are committed) or are larger
/// than the size limit are left out, kept on disk, and reported.
/// A path 'git add' refuses (a FIFO where a tracked file was, a byte order
/// mark its working-tree-encoding forbids) makes the checkpoint fail as
/// 'git add -A' would, changing nothing; the agents' hooks leave such a
/// path out instead (a tracked one keeps its last content) and save the rest.
///
/// Checkpoints are unsigned work-in-progress commits, and git's commit
/// hooks (pre-commit, commit-msg, …) do not run for them, whatever
/// commit.gpgSign says; the first checkpoint in a repository where either
/// matters says so once. 'git session finish --squash' signs the final
/// commit as 'git commit' would.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session checkpoint -m 'parser handles empty input'\n  git session checkpoint --done '#1' --doing 'write tests' --todo 'update docs'\n  git session checkpoint --drop 'typo text' --edit '#2=parse empty input'\n  git session checkpoint --blocker 'CI is red on main' --json"
)]
pub struct Args {
    /// One-line summary; generated from the change when omitted.
    #[arg(short = 'm', long = "message", value_name = "SUMMARY")]
    pub summary: Option<String>,
    /// Replace the task.
    #[arg(long, value_name = "TEXT")]
    pub task: Option<String>,
    /// Mark an item done (text or #N); moves it out of doing/todo.
    #[arg(long, value_name = "ITEM")]
    pub done: Vec<String>,
    /// Mark an item in progress (text or #N); moves it out of todo.
    #[arg(long, value_name = "ITEM")]
    pub doing: Vec<String>,
    /// Add an item still to do.
    #[arg(long, value_name = "ITEM")]
    pub todo: Vec<String>,
    /// Record a decision.
    #[arg(long, value_name = "TEXT")]
    pub decision: Vec<String>,
    /// Record a note.
    #[arg(long, value_name = "TEXT")]
    pub note: Vec<String>,
    /// Record a blocker.
    #[arg(long, value_name = "TEXT")]
    pub blocker: Vec<String>,
    /// Remove a blocker (text or #N).
    #[arg(long, value_name = "TEXT")]
    pub unblock: Vec<String>,
    /// Remove an item recorded by mistake, from any list (its text, or #N
    /// for an open item).
    #[arg(long, value_name = "ITEM")]
    pub drop: Vec<String>,
    /// Correct an item's text: '#N=new text' or 'old text=new text'; an
    /// open item keeps its number.
    #[arg(long, value_name = "ITEM=TEXT")]
    pub edit: Vec<String>,
    /// Why the checkpoint is taken: manual, stop, compact, session-end, pre-cancel, …
    #[arg(long, default_value = "manual", value_name = "REASON")]
    pub reason: String,
    /// Print nothing but errors and warnings (not with --json).
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Then push the branch and its notes (see 'git session push'); also
    /// on with git config session.autoPush. If only the push fails, the
    /// exit code is 3: the checkpoint is written.
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "")]
    pub push: Option<String>,
}

impl Args {
    fn edits(&self) -> Edits {
        Edits {
            task: self.task.clone(),
            done: self.done.clone(),
            doing: self.doing.clone(),
            todo: self.todo.clone(),
            decisions: self.decision.clone(),
            notes: self.note.clone(),
            blockers: self.blocker.clone(),
            unblock: self.unblock.clone(),
            drop: self.drop.clone(),
            edit: self.edit.clone(),
        }
    }
}

/// The progress line of a checkpoint that outlasts [`crate::progress::DELAY`].
pub const SCANNING: &str = "checkpoint: scanning the work tree…";

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let ws = Workspace::open_worktree(cwd)?;
    let request = Request {
        summary: args.summary.clone(),
        edits: args.edits(),
        reason: args.reason.clone(),
        templates: ws.templates(),
        ..Request::default()
    };
    // A large work tree can take seconds to scan: say so on a terminal.
    let progress = crate::progress::Delayed::on_terminal(SCANNING, !args.quiet);
    let Workspace { mut repo, config } = ws;
    let outcome =
        crate::checkpoint::checkpoint(&mut repo, &config, &request, &AtomicBool::new(false));
    drop(progress);
    let outcome = outcome?;
    report(&outcome, args.quiet, args.json, io)?;
    // Pushed even when nothing new was written: an earlier push may have
    // failed, and pushing what is already there costs one round trip.
    let push = args.push.or_else(|| config.auto_push.then(String::new));
    if let Some(remote) = push {
        let remote = Some(remote.as_str()).filter(|r| !r.is_empty());
        let quiet = args.quiet || args.json;
        crate::commands::push::after_checkpoint(&mut repo, &config, remote, &outcome, quiet, io)?;
    }
    Ok(())
}

/// Print a checkpoint's outcome: warnings on stderr, then one line or JSON.
pub fn report(
    outcome: &Outcome,
    quiet: bool,
    as_json: bool,
    io: &mut Io<'_>,
) -> anyhow::Result<()> {
    io.warn(&outcome.warnings)?;
    // A path is warned about when first left out (or for a new reason);
    // after that, one count line unless -q.
    let (new_skips, known) = outcome.skip_report();
    io.warn(&new_skips)?;
    if !quiet && !as_json {
        if let Some(line) = crate::checkpoint::still_skipped_line(known) {
            writeln!(io.err, "{line}")?;
        }
    }
    if as_json {
        let value = json!({
            "commit": outcome.commit.to_string(),
            "branch": outcome.branch,
            "created": outcome.created,
            "files_changed": outcome.changes.len(),
            "skipped": outcome.skipped.iter().map(|s| json!({"path": s.path, "reason": s.reason})).collect::<Vec<_>>(),
            "state": state_json(&outcome.state, None),
        });
        return print_json(io, &value);
    }
    if quiet {
        return Ok(());
    }
    let branch = outcome.branch.as_deref().unwrap_or("HEAD (detached)");
    if outcome.created {
        writeln!(
            io.out,
            "checkpoint {} on {branch}: {} file{} changed, {} skipped; {}",
            short(outcome.commit),
            outcome.changes.len(),
            if outcome.changes.len() == 1 { "" } else { "s" },
            outcome.skipped.len(),
            counts(&outcome.state)
        )?;
    } else {
        match outcome.head.filter(|head| *head != outcome.commit) {
            Some(head) => writeln!(
                io.out,
                "nothing to checkpoint on {branch}: the work tree is HEAD's ({}) and the state is checkpoint {}'s",
                short(head),
                short(outcome.commit)
            )?,
            None => writeln!(
                io.out,
                "nothing to checkpoint on {branch}: no change since {}",
                short(outcome.commit)
            )?,
        }
    }
    Ok(())
}
