//! `git session man`: the manual pages, generated from the clap definitions
//! (so they say exactly what `--help` says).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::commands::Io;

/// Print the man page, or write one page per command to DIR.
///
/// Without --dir, prints git-session(1). With --dir, writes it and one page
/// per subcommand (git-session-checkpoint(1), …) into DIR.
///
/// 'git session --help' and 'git help session' open the man page
/// git-session(1), which man finds in a man1 directory on its search path;
/// ~/.local/share/man/man1 usually is one (see 'manpath').
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session man --dir ~/.local/share/man/man1 && man git-session\n  git session man | man -l -"
)]
pub struct Args {
    /// Write git-session.1 and a page per subcommand into DIR (created if
    /// missing) instead of printing git-session.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args, io: &mut Io<'_>) -> anyhow::Result<()> {
    let command = Cli::command();
    let Some(dir) = args.dir else {
        clap_mangen::Man::new(command).render(&mut *io.out)?;
        return Ok(());
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("could not create '{}'", dir.display()))?;
    // Built first, so each subcommand knows its full name (git-session-log).
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let mut written = Vec::new();
    write_pages(command, &dir, &mut written)
        .with_context(|| format!("could not write the man pages to '{}'", dir.display()))?;
    written.sort();
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    writeln!(
        io.out,
        "wrote {} man pages to {}: {}",
        names.len(),
        dir.display(),
        names.join(", ")
    )?;
    Ok(())
}

/// The page of `command`, then of each of its subcommands, recursively.
fn write_pages(
    command: clap::Command,
    dir: &std::path::Path,
    written: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    written.push(clap_mangen::Man::new(command).generate_to(dir)?);
    Ok(())
}
