//! `git session resume`: the "continue work on branch X" prompt.

use std::path::{Path, PathBuf};

use crate::commands::{Io, Workspace};
use crate::error::Error;
use crate::render;

/// Print the prompt that lets the next session continue this one.
///
/// Walks first-parent history from REV to the newest checkpoint and renders,
/// with a template, the task, what is done, in progress and still needed,
/// decisions, notes and blockers, commits made after the checkpoint, the
/// files changed on the branch, uncommitted work (when REV is the checked-out
/// HEAD) and the commands to continue. REV may be a remote-tracking branch
/// such as origin/feat/x that is not checked out. Works from a fresh clone
/// without notes: the commit trailers carry the state.
///
/// Templates: resume (default), handoff, agent-context, or a file. A name is
/// looked up in .git-session/templates/NAME.j2, then
/// $XDG_CONFIG_HOME/git-session/templates/NAME.j2, then the built-in; see
/// 'git session templates'.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session resume\n  git session resume origin/feat/dark-mode\n  git session resume --template handoff -o HANDOFF.md\n  git session resume --format json\n  git session resume --max-chars 4000 | pbcopy"
)]
pub struct Args {
    /// Where to resume from (default HEAD): a branch, remote-tracking branch or commit.
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Template name (resume, handoff, agent-context, …) or path to a .j2
    /// file; not with --format json, which prints what templates are given.
    /// (default: resume)
    #[arg(short, long, value_name = "NAME|PATH")]
    pub template: Option<String>,
    /// Output the rendered text, or the template context as JSON.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Fit the output in N characters: the file list goes first, then long
    /// items are shortened (an ellipsis inside), then the oldest items are
    /// dropped, keeping the newest of each list; open items and blockers
    /// stay. With --format json the same steps apply to the JSON.
    #[arg(long, value_name = "N")]
    pub max_chars: Option<usize>,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    if let (Format::Json, Some(template)) = (args.format, &args.template) {
        return Err(Error::Usage(format!(
            "--template {template} has no effect with --format json: the JSON is what every template is given; use one or the other"
        ))
        .into());
    }
    let ws = Workspace::open(cwd)?;
    let (context, mut warnings) = crate::resume::gather(&ws.repo, &ws.config, args.rev.as_deref())?;
    let text = match args.format {
        Format::Json => {
            let json = |c: &crate::resume::Context| Ok(crate::terminal::json(c, true)? + "\n");
            match args.max_chars {
                // The same steps as for text; JSON is never cut.
                Some(max) => crate::resume::shrink(context, max, json).map(|fitted| {
                    if !fitted.fits {
                        warnings.push(format!(
                            "the JSON takes {} characters with every list trimmed, more than --max-chars {max}",
                            fitted.text.chars().count()
                        ));
                    }
                    fitted.text
                }),
                None => json(&context),
            }
        }
        Format::Text => render::Template::load(
            args.template.as_deref().unwrap_or("resume"),
            &ws.templates(),
            &mut warnings,
        )
        .and_then(|mut template| match args.max_chars {
            Some(max) => crate::resume::fit(context, max, |c| template.render(c, &mut warnings)),
            None => template.render(&context, &mut warnings),
        }),
    };
    io.warn(&warnings)?;
    let text = text?;
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|err| Error::CannotWrite {
            path: path.clone(),
            detail: err.to_string(),
        })?,
        None => io.out.write_all(text.as_bytes())?,
    }
    Ok(())
}
