//! `git session push`: the branch, then its session notes, to a remote.

use std::path::Path;

use crate::commands::{Io, Workspace};
use crate::config::Config;
use crate::error::Error;
use crate::remote::Pushed;
use crate::sync::{NotesPush, PushReport};
use crate::time::short;

/// Push the current branch and the session notes to a remote.
///
/// Pushes the branch first (setting its upstream when it has none), then
/// the notes ref. After 'git session finish --squash', when the remote
/// still has the chain the squash replaced (and nothing else), the squash
/// replaces it there with --force-with-lease at the remote's tip as last
/// fetched; when someone else pushed on top, nothing is overwritten and
/// the message says how to take their commits in and squash again. When the remote's notes moved, they are fetched and
/// merged with yours (per commit; on conflict the newer state wins) and
/// the push is tried again. When the remote refuses notes altogether (a
/// hosting proxy or server hook that accepts only branches) that is a
/// warning, not a failure: the branch carries the state in its commit
/// trailers.
///
/// REMOTE defaults to the branch's push remote, then 'origin'. Network
/// work runs your own 'git', so credentials and ssh config apply as usual.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session push\n  git session push upstream\n  git session push --no-notes"
)]
pub struct Args {
    /// The remote (name or URL); default: the branch's remote, then origin.
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,
    /// Push only the branch, not the notes ref.
    #[arg(long)]
    pub no_notes: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let Workspace { mut repo, config } = Workspace::open(cwd)?;
    let report = crate::sync::push(&mut repo, &config, args.remote.as_deref(), !args.no_notes)?;
    print_report(&report, false, io)
}

/// Push after a checkpoint (`checkpoint --push`, `session.autoPush`). Any
/// failure becomes [`Error::PushAfterCheckpoint`] (exit code 3): the
/// checkpoint of `outcome` stands (written by this run, or there
/// already), and the message says how to retry.
pub fn after_checkpoint(
    repo: &mut gix::Repository,
    config: &Config,
    remote: Option<&str>,
    outcome: &crate::checkpoint::Outcome,
    quiet: bool,
    io: &mut Io<'_>,
) -> anyhow::Result<()> {
    match crate::sync::push(repo, config, remote, true) {
        Ok(report) => print_report(&report, quiet, io),
        Err(err) => {
            let mut hints = err
                .chain()
                .find_map(|e| e.downcast_ref::<Error>())
                .map(Error::hints)
                .unwrap_or_default();
            let retry = match remote.filter(|r| !r.is_empty()) {
                Some(remote) => format!("git session push {remote}"),
                None => "git session push".into(),
            };
            hints.push(format!(
                "the checkpoint is safe in this repository: push it with '{retry}'"
            ));
            Err(Error::PushAfterCheckpoint {
                commit: short(outcome.commit),
                written: outcome.created,
                cause: format!("{err:#}"),
                hints,
            }
            .into())
        }
    }
}

/// One line per pushed ref on stdout (none when `quiet`); warnings on
/// stderr always.
pub fn print_report(report: &PushReport, quiet: bool, io: &mut Io<'_>) -> anyhow::Result<()> {
    io.warn(&report_warnings(report))?;
    if quiet {
        return Ok(());
    }
    for line in report_lines(report) {
        writeln!(io.out, "{line}")?;
    }
    Ok(())
}

/// What went wrong on the way that did not fail the push: the report's
/// own warnings, and a notes ref the remote refused or that failed.
pub fn report_warnings(report: &PushReport) -> Vec<String> {
    let PushReport {
        remote, notes_ref, ..
    } = report;
    let mut warnings = report.warnings.clone();
    match &report.notes {
        NotesPush::Refused(reason) => warnings.push(format!(
            "'{remote}' refused {notes_ref} ({reason}): the branch carries the session state in its commit trailers"
        )),
        NotesPush::Failed(detail) => warnings.push(format!(
            "could not push {notes_ref} to '{remote}' ({detail}): the branch carries the session state in its commit trailers; retry with 'git session push'"
        )),
        _ => {}
    }
    warnings
}

/// One line per pushed ref.
pub fn report_lines(report: &PushReport) -> Vec<String> {
    let PushReport {
        remote,
        branch,
        notes_ref,
        ..
    } = report;
    let mut about = Vec::new();
    if report.branch_pushed == Pushed::Created {
        about.push("new branch");
    }
    if report.upstream_set {
        about.push("upstream set");
    }
    let about = if about.is_empty() {
        String::new()
    } else {
        format!(" ({})", about.join(", "))
    };
    let mut lines = vec![match (&report.replaced, report.branch_pushed) {
        (_, Pushed::UpToDate) => format!("{branch} is up to date on {remote}{about}"),
        (Some(replaced), _) => format!(
            "pushed {branch} to {remote}{about}: the squash replaced the old chain there (at {}) with --force-with-lease; it is kept here at {}",
            short(replaced.expected),
            replaced.archive,
        ),
        (None, _) => format!("pushed {branch} to {remote}{about}"),
    }];
    if let NotesPush::Pushed { pushed, merges } = &report.notes {
        let merged = if *merges > 0 {
            " (merged with the notes already there)"
        } else {
            ""
        };
        lines.push(match pushed {
            Pushed::UpToDate => format!("{notes_ref} is up to date on {remote}"),
            _ => format!("pushed {notes_ref} to {remote}{merged}"),
        });
    }
    lines
}
