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
/// with the same files (the branch tip's tree) and the base as its parent.
/// The message is -m MESSAGE, or the 'squash' template rendered from the
/// task and the completed items; the Session-* trailers are added, so
/// 'show' and 'resume' keep working. The old commits stay reachable under
/// refs/session/archive/BRANCH/N, and the new commit's note lists the
/// checkpoints it replaced. The work tree and the index are not touched.
/// When the branch was already pushed, the remote still has the old chain:
/// 'git session push' (or --push here) replaces it with the squash, with
/// --force-with-lease at the remote's tip, and refuses when someone else
/// pushed on top (their commits are never overwritten).
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
    after_help = "Examples:\n  git session finish\n  git session finish --squash\n  git session finish --squash -m 'Add a dark mode' -m 'With a toggle in the header.'\n  git session finish --squash --push\n  git session finish --squash --pr > PR.md\n  git session finish --pr | gh pr create --title 'Add a dark mode' --body-file -"
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
    /// Then push the branch and its notes (see 'git session push'); after
    /// --squash, the squash replaces the chain it folded on the remote.
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "")]
    pub push: Option<String>,
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
    let message = (!args.message.is_empty()).then(|| args.message.join("\n\n"));
    let squash_request = SquashRequest {
        message,
        templates: templates.clone(),
    };
    if args.squash {
        // Every refusal before the first write: the last checkpoint may
        // add one commit, so one commit since the base can still fold.
        crate::finish::check(&repo, &config, &squash_request, true)?;
    }
    let push_remote = match args.push.as_deref() {
        Some(remote) => Some(check_push(&repo, remote, head, args.squash)?),
        None => None,
    };

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
        let squashed = crate::finish::squash(&mut repo, &config, &squash_request)?;
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
        for published in squashed
            .published
            .iter()
            .filter(|p| push_remote.as_ref() != Some(&p.remote))
        {
            io.warn(&[format!(
                "'{}' was already pushed to '{}', which still has the replaced commits",
                published.branch, published.remote
            )])?;
            io.hint(&[format!(
                "'git session push {}' publishes the squash: it replaces the old chain there with --force-with-lease, and refuses if someone else pushed on top",
                published.remote
            )])?;
        }
    } else if !args.pr {
        io.hint(&[
            "'git session finish --squash' folds the session's commits into one for review".into(),
        ])?;
    }

    if let Some(remote) = &push_remote {
        let pushed = crate::sync::push(&mut repo, &config, Some(remote), true);
        let written = repo.head_id()?.detach();
        match pushed {
            Ok(pushed) => {
                io.warn(&crate::commands::push::report_warnings(&pushed))?;
                for line in crate::commands::push::report_lines(&pushed) {
                    writeln!(report(io, args.pr), "{line}")?;
                }
            }
            Err(err) => {
                let mut hints = err
                    .chain()
                    .find_map(|e| e.downcast_ref::<Error>())
                    .map(Error::hints)
                    .unwrap_or_default();
                hints.push(format!(
                    "the finished branch is safe in this repository: push it with 'git session push {remote}'"
                ));
                return Err(Error::PushAfterCheckpoint {
                    commit: short(written),
                    written: true,
                    cause: format!("{err:#}"),
                    hints,
                }
                .into());
            }
        }
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

/// The remote `finish --push` will push to, and every refusal of that push
/// that can be decided before anything is written: an unknown remote, and,
/// before a squash, a remote with commits this branch lacks (squashing
/// now would leave them out, and the push would refuse to overwrite them).
fn check_push(
    repo: &gix::Repository,
    remote: &str,
    head: gix::ObjectId,
    squash: bool,
) -> anyhow::Result<String> {
    if repo.head_name()?.is_none() {
        return Err(Error::DetachedHead.into());
    }
    let given = Some(remote).filter(|r| !r.is_empty());
    let remote = crate::sync::resolve_remote(repo, given, gix::remote::Direction::Push)?;
    if !squash {
        return Ok(remote);
    }
    let branch = repo
        .head_name()?
        .map(|n| n.shorten().to_string())
        .unwrap_or_default();
    let tracking = format!("refs/remotes/{remote}/{branch}");
    let tip = gix::refs::FullName::try_from(tracking.as_str())
        .ok()
        .and_then(|_| repo.try_find_reference(tracking.as_str()).ok().flatten())
        .and_then(|mut r| r.peel_to_id().ok().map(gix::Id::detach));
    let Some(tip) = tip else {
        return Ok(remote);
    };
    let contained = tip == head || repo.merge_base(tip, head)?.map(gix::Id::detach) == Some(tip);
    let replaced = matches!(
        crate::sync::squash_lease(repo, &remote, &branch, head)?,
        crate::finish::RemoteTip::Replaced { .. }
    );
    if !contained && !replaced {
        return Err(Error::CannotSquash {
            reason: format!(
                "'{remote}/{branch}' has commits this branch lacks (someone else pushed): a squash now would leave them out"
            ),
            hint: format!(
                "integrate them first ('git pull --rebase {remote} {branch}'), then finish again"
            ),
        }
        .into());
    }
    Ok(remote)
}
