//! `git session prune-transcripts`: delete stored transcripts.

use std::path::Path;

use crate::commands::{Io, Workspace};
use crate::error::Error;

/// Delete the agents' transcripts stored in this clone
/// (refs/session/transcripts/…), all of them or those stored longer ago
/// than --older-than. The branches and their checkpoints are not touched;
/// the objects go with git's next gc. Transcripts already pushed stay on
/// the remote: delete them there with
/// 'git push REMOTE --delete refs/session/transcripts/AGENT/ID'.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session prune-transcripts --older-than 30d\n  git session prune-transcripts --dry-run"
)]
pub struct Args {
    /// Only transcripts last stored longer ago than this: a number with s,
    /// m, h, d or w (30d, 2w, 12h).
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// List what would be deleted, and delete nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let ws = Workspace::open(cwd)?;
    let age = args.older_than.as_deref().map(parse_age).transpose()?;
    let now = crate::time::now(&ws.repo);
    let mut edits = Vec::new();
    for entry in crate::transcripts::list(&ws.repo)? {
        if age.is_some_and(|age| now - entry.meta.stored_at < age) {
            continue;
        }
        let verb = if args.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        writeln!(
            io.out,
            "{verb} {} ({} bytes, stored {} ago)",
            entry.reference,
            entry.meta.length,
            crate::time::describe(now - entry.meta.stored_at)
        )?;
        edits.push(gix::refs::transaction::RefEdit {
            change: gix::refs::transaction::Change::Delete {
                expected: gix::refs::transaction::PreviousValue::MustExistAndMatch(
                    gix::refs::Target::Object(entry.tip),
                ),
                log: gix::refs::transaction::RefLog::AndReference,
            },
            name: entry.reference.as_str().try_into()?,
            deref: false,
        });
    }
    if edits.is_empty() {
        writeln!(io.out, "no stored transcript to delete")?;
    } else if !args.dry_run {
        ws.repo.edit_references(edits)?;
    }
    Ok(())
}

/// `30d` → seconds.
fn parse_age(text: &str) -> Result<i64, Error> {
    let bad = || {
        Error::Usage(format!(
            "--older-than {text}: give a number with s, m, h, d or w, such as 30d"
        ))
    };
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: i64 = number.parse().map_err(|_| bad())?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    number.checked_mul(unit).filter(|s| *s >= 0).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_with_their_unit() {
        assert_eq!(parse_age("30d").ok(), Some(30 * 86_400));
        assert_eq!(parse_age("2w").ok(), Some(2 * 604_800));
        assert!(parse_age("30").is_err());
        assert!(parse_age("d").is_err());
    }
}
