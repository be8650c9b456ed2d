//! `git session fetch`: a remote's session notes, merged into yours.

use std::path::Path;

use crate::commands::{Io, Workspace};
use crate::notes::merge::Merged;
use crate::sync::TranscriptSync;

/// Fetch a remote's session notes and merge them into yours.
///
/// The remote's notes ref is fetched into a remote-tracking notes ref
/// (refs/notes/session-remotes/REMOTE), never straight over your own, and
/// then merged: per commit, notes only one side has are kept; when both
/// annotate a commit differently, the newer state wins. Branches are not
/// fetched: use 'git fetch' or 'git pull' for those. With
/// session.transcripts on, the stored transcripts come too (from
/// session.transcriptRemote when it is set), for 'resume --native'.
///
/// REMOTE defaults to the branch's remote, then 'origin'.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  git session fetch\n  git session fetch upstream")]
pub struct Args {
    /// The remote (name or URL); default: the branch's remote, then origin.
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let Workspace { mut repo, config } = Workspace::open(cwd)?;
    let report = crate::sync::fetch(&mut repo, &config, args.remote.as_deref())?;
    io.warn(&report.warnings)?;
    match &report.transcripts {
        TranscriptSync::Done { remote, count } if *count > 0 => writeln!(
            io.out,
            "fetched {count} stored transcript(s) from '{remote}'"
        )?,
        TranscriptSync::Done { .. } => {}
        TranscriptSync::Failed { remote, reason } => io.warn(&[format!(
            "could not fetch every stored transcript of '{remote}' ({reason})"
        )])?,
        TranscriptSync::Off | TranscriptSync::NotChosen { .. } => {}
    }
    let (remote, notes_ref) = (&report.remote, &report.notes_ref);
    if !report.found {
        writeln!(io.out, "'{remote}' has no {notes_ref}: nothing to fetch")?;
        return Ok(());
    }
    match report.merged {
        Merged::UpToDate => writeln!(io.out, "{notes_ref} already has the notes of '{remote}'")?,
        Merged::FastForward => writeln!(io.out, "fetched {notes_ref} from '{remote}'")?,
        Merged::Merged {
            commit,
            added,
            replaced,
        } => writeln!(
            io.out,
            "merged the notes of '{remote}' into {notes_ref} ({}): {added} added, {replaced} replaced by a newer state",
            crate::time::short(commit)
        )?,
    }
    Ok(())
}
