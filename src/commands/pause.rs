//! `git session pause`: save everything, publish it, and print the prompt
//! for the next session: what a person does before pressing Cancel.

use std::path::Path;

use serde_json::json;

use crate::commands::{print_json, Io};
use crate::time::short;

/// Pause the session: checkpoint, push, and print the prompt for the next
/// session.
///
/// Takes a checkpoint with reason pause (written even when no file changed,
/// so the branch itself says the session is paused: 'git session list'
/// reads that from any clone), pushes the branch and then the notes
/// (best effort: a host that refuses notes only warns), and prints the
/// "continue work on branch X" prompt on standard output; what was saved
/// and pushed goes to standard error. In the next session, on any machine:
/// 'git session continue BRANCH' brings this session onto that session's
/// branch, or paste the prompt.
///
/// Like the agents' hooks it never refuses over settings or paths git
/// will not add: those are left out with a warning, so the work is saved.
/// 'git session hook pre-cancel' is the same, recorded as pre-cancel.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session pause                # then press Cancel\n  git session pause --no-push      # save here only\n  git session pause upstream --json"
)]
pub struct Args {
    /// Remote to push to (default: the branch's remote, then origin).
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,
    /// Do not push; only checkpoint.
    #[arg(long)]
    pub no_push: bool,
    /// Print one JSON object: the checkpoint, the push, and the prompt.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    pause(
        "pause",
        args.remote.as_deref(),
        args.no_push,
        args.json,
        cwd,
        io,
    )
}

/// Checkpoint with `reason`, push unless `no_push`, print the prompt.
pub fn pause(
    reason: &str,
    remote: Option<&str>,
    no_push: bool,
    as_json: bool,
    cwd: &Path,
    io: &mut Io<'_>,
) -> anyhow::Result<()> {
    let mut repo = crate::repo::open_worktree(cwd)?;
    // Like the agents' hooks: about to cancel is no time to fix settings.
    let mut warnings = Vec::new();
    let config = crate::agents::hook::load_config(&repo, &mut warnings);
    io.warn(&warnings)?;
    let request = crate::checkpoint::Request {
        reason: reason.into(),
        templates: crate::render::Dirs::for_repo(&repo, &config),
        // The last save before the session goes: a path git refuses must
        // not cost the rest of the work.
        refusals: crate::snapshot::Refusals::Skip,
        ..Default::default()
    };
    let outcome = crate::checkpoint::checkpoint(
        &mut repo,
        &config,
        &request,
        &std::sync::atomic::AtomicBool::new(false),
    )?;
    io.warn(&outcome.warnings)?;
    let (new_skips, known) = outcome.skip_report();
    io.warn(&new_skips)?;
    if let Some(line) = crate::checkpoint::still_skipped_line(known).filter(|_| !as_json) {
        writeln!(io.err, "{line}")?;
    }
    let branch = outcome.branch.as_deref().unwrap_or("HEAD (detached)");
    if !as_json {
        let what = if outcome.created {
            "checkpoint"
        } else {
            "nothing new since checkpoint"
        };
        writeln!(
            io.err,
            "saved: {what} {} on {branch}",
            short(outcome.commit)
        )?;
    }
    let mut pushed = None;
    let mut push_error = None;
    if !no_push {
        if repo.remote_names().is_empty() && remote.is_none() {
            io.warn(&["no remote: the checkpoint is in this repository only (add one, then 'git session push')".into()])?;
        } else {
            match crate::sync::push(&mut repo, &config, remote, true) {
                Ok(report) => {
                    // The prompt goes to stdout; what was pushed, to stderr.
                    io.warn(&crate::commands::push::report_warnings(&report))?;
                    if !as_json {
                        for line in crate::commands::push::report_lines(&report) {
                            writeln!(io.err, "{line}")?;
                        }
                    }
                    pushed = Some(report.remote);
                }
                Err(err) => {
                    io.warn(&[format!("the push failed, so the next session can only resume from this machine: {err:#}")])?;
                    io.hint(&["retry with 'git session push'".into()])?;
                    push_error = Some(format!("{err:#}"));
                }
            }
        }
    }
    let (context, _) = crate::resume::gather(&repo, &config, None)?;
    let mut warnings = Vec::new();
    let text = crate::render::render(
        "resume",
        &crate::render::Dirs::for_repo(&repo, &config),
        &context,
        &mut warnings,
    )?;
    io.warn(&warnings)?;
    if as_json {
        return print_json(
            io,
            &json!({
                "commit": outcome.commit.to_string(),
                "created": outcome.created,
                "branch": outcome.branch,
                "reason": outcome.state.reason,
                "pushed_to": pushed,
                "push_error": push_error,
                "prompt": text,
            }),
        );
    }
    writeln!(io.err, "paste this into the next session:\n")?;
    io.out.write_all(text.as_bytes())?;
    Ok(())
}
