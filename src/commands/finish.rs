//! `git session finish`: the last checkpoint, and optionally one commit for
//! review and a pull-request description.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::checkpoint::Request;
use crate::commands::{Io, Workspace};
use crate::error::Error;
use crate::finish::SquashRequest;
use crate::history::History;
use crate::time::short;

/// Finish the session: a last checkpoint, then optionally one commit for
/// review.
///
/// Takes a checkpoint with reason 'finish'; open items stay as they are.
///
/// With --squash, every commit since the session's base becomes one commit
/// with the same files (the checkpoint's tree) and the base as its parent.
/// The message is -m MESSAGE, or the 'squash' template rendered from the
/// task and the completed items; the Session-* trailers are added, so
/// 'show' and 'resume' keep working. The old commits stay reachable under
/// refs/session/archive/BRANCH/N, and the new commit's note lists the
/// checkpoints it replaced. The work tree and the index are not touched.
/// When the branch was already pushed, the squash needs a force push: the
/// command is printed, never run.
///
/// With commit.gpgSign set, the squashed commit is signed by your git, as
/// 'git commit -S' signs (if signing fails, nothing of the squash is
/// written). Commit hooks (pre-commit, commit-msg, …) do not run for it:
/// 'git commit --amend --no-edit' afterwards runs them.
///
/// With --pr, prints a pull-request description (the 'pr' template: title
/// from the task, summary, completed and remaining items, decisions, files
/// changed) on standard output; everything else then goes to standard error,
/// so the description can be piped.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session finish\n  git session finish --squash\n  git session finish --squash -m 'Add a dark mode' -m 'With a toggle in the header.'\n  git session finish --squash --pr > PR.md\n  git session finish --pr | gh pr create --title 'Add a dark mode' --body-file -"
)]
pub struct Args {
    /// Fold every commit since the session's base into one commit.
    #[arg(long)]
    pub squash: bool,
    /// The squashed commit's message (repeat for paragraphs, as with git
    /// commit); default: rendered from the 'squash' template.
    #[arg(
        short = 'm',
        long = "message",
        value_name = "MESSAGE",
        requires = "squash"
    )]
    pub message: Vec<String>,
    /// Print a pull-request description on standard output.
    #[arg(long)]
    pub pr: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let ws = Workspace::open_worktree(cwd)?;
    let templates = ws.templates();
    let Workspace { mut repo, config } = ws;

    // Finishing needs a session: refuse before writing anything.
    let head = repo
        .head_id()
        .map_err(|_| Error::NoCheckpoint("HEAD".into()))?
        .detach();
    let mut history = History::new(&repo, &config)?;
    if history.newest(head)?.is_none() {
        return Err(Error::NoCheckpoint("HEAD".into()).into());
    }
    drop(history);

    let request = Request {
        reason: "finish".into(),
        templates: templates.clone(),
        ..Request::default()
    };
    let progress =
        crate::progress::Delayed::on_terminal(crate::commands::checkpoint::SCANNING, true);
    let outcome =
        crate::checkpoint::checkpoint(&mut repo, &config, &request, &AtomicBool::new(false));
    drop(progress);
    let outcome = outcome?;
    io.warn(&outcome.warnings)?;
    let (new_skips, known) = outcome.skip_report();
    io.warn(&new_skips)?;
    if let Some(line) = crate::checkpoint::still_skipped_line(known) {
        writeln!(io.err, "{line}")?;
    }
    let branch = outcome.branch.as_deref().unwrap_or("HEAD (detached)");
    if outcome.created {
        writeln!(
            report(io, args.pr),
            "checkpoint {} on {branch} (finish): {} file{} changed",
            short(outcome.commit),
            outcome.changes.len(),
            if outcome.changes.len() == 1 { "" } else { "s" },
        )?;
    } else {
        writeln!(
            report(io, args.pr),
            "nothing new to checkpoint on {branch}: the last checkpoint is {}",
            short(outcome.commit)
        )?;
    }

    if args.squash {
        let message = (!args.message.is_empty()).then(|| args.message.join("\n\n"));
        let squashed = crate::finish::squash(
            &mut repo,
            &config,
            &SquashRequest {
                message,
                templates: templates.clone(),
            },
        )?;
        io.warn(&squashed.warnings)?;
        writeln!(
            report(io, args.pr),
            "squashed {} commits since {} into {}{} on {}: {}",
            squashed.commits.len(),
            short(squashed.base),
            short(squashed.commit),
            if squashed.signed { " (signed)" } else { "" },
            squashed.branch,
            squashed.subject
        )?;
        writeln!(
            report(io, args.pr),
            "the old history ({} checkpoint{}) is kept at {}",
            squashed.checkpoints.len(),
            if squashed.checkpoints.len() == 1 {
                ""
            } else {
                "s"
            },
            squashed.archive
        )?;
        report(io, args.pr).flush()?;
        if !squashed.hooks_not_run.is_empty() {
            io.hint(&[format!(
                "the commit hooks ({}) did not run for the squashed commit: 'git commit --amend --no-edit' runs them",
                squashed.hooks_not_run.join(", ")
            )])?;
        }
        for published in &squashed.published {
            io.warn(&[format!(
                "'{}' was already pushed to '{}', which still has the replaced commits: publishing the squash needs a force push",
                published.branch, published.remote
            )])?;
            io.hint(&[
                format!("run: {}", published.force_push_command()),
                format!(
                    "then 'git session push {}' to send the new commit's note",
                    published.remote
                ),
            ])?;
        }
    } else if !args.pr {
        io.hint(&[
            "'git session finish --squash' folds the session's commits into one for review".into(),
        ])?;
    }

    if args.pr {
        // Reopened, so nothing cached from before the squash is read.
        let repo = crate::repo::open_worktree(cwd)?;
        let (context, mut warnings) = crate::resume::gather(&repo, &config, None)?;
        let text = crate::render::render("pr", &templates, &context, &mut warnings);
        io.warn(&warnings)?;
        let text = text?;
        io.out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// Where the progress report goes: stdout, unless `--pr` keeps stdout for
/// the description alone (so it can be piped).
fn report<'a>(io: &'a mut Io<'_>, pr: bool) -> &'a mut dyn Write {
    if pr {
        &mut *io.err
    } else {
        &mut *io.out
    }
}
