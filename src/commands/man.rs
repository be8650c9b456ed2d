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
        let mut command = command;
        command.build();
        clap_mangen::Man::new(with_synopsis(command)).render(&mut *io.out)?;
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
    written.push(clap_mangen::Man::new(with_synopsis(command)).generate_to(dir)?);
    Ok(())
}

/// `command` with its SYNOPSIS spelled out as git's pages spell theirs:
/// every option with its value's name (`[-C DIR]`, `[--done ITEM]...`,
/// `[--push [REMOTE]]`), which clap_mangen's own synopsis leaves out.
/// `command` must be built (so it knows its full name and arguments).
fn with_synopsis(command: clap::Command) -> clap::Command {
    let name = command
        .get_bin_name()
        .unwrap_or_else(|| command.get_name())
        .to_string();
    // Global options are listed once, on git-session(1).
    let root = command.get_name() == "git-session";
    let mut parts = vec![name];
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        if arg.is_positional() || (arg.is_global_set() && !root) {
            continue;
        }
        parts.push(option_synopsis(arg));
    }
    for arg in command.get_positionals().filter(|a| !a.is_hide_set()) {
        let value = value_name(arg);
        let repeated = matches!(arg.get_action(), clap::ArgAction::Append);
        let dots = if repeated { "..." } else { "" };
        parts.push(if arg.is_required_set() {
            format!("<{value}>{dots}")
        } else {
            format!("[{value}]{dots}")
        });
    }
    if command.get_subcommands().next().is_some() {
        parts.push("<COMMAND>".to_string());
    }
    let usage = parts.join(" ");
    command.override_usage(usage)
}

/// `[-m|--message SUMMARY]`, `[--done ITEM]...`, `[--color[=WHEN]]`.
fn option_synopsis(arg: &clap::Arg) -> String {
    let flag = match (arg.get_short(), arg.get_long()) {
        (Some(short), Some(long)) => format!("-{short}|--{long}"),
        (Some(short), None) => format!("-{short}"),
        (None, Some(long)) => format!("--{long}"),
        (None, None) => value_name(arg),
    };
    let takes = arg.get_num_args().is_some_and(|range| range.takes_values())
        && !matches!(
            arg.get_action(),
            clap::ArgAction::SetTrue
                | clap::ArgAction::SetFalse
                | clap::ArgAction::Count
                | clap::ArgAction::Help
                | clap::ArgAction::HelpShort
                | clap::ArgAction::HelpLong
                | clap::ArgAction::Version
        );
    let optional_value = arg
        .get_num_args()
        .is_some_and(|range| range.min_values() == 0);
    let spelled = match (takes, optional_value, arg.is_require_equals_set()) {
        (false, ..) => flag,
        (true, false, true) => format!("{flag}={}", value_name(arg)),
        (true, false, false) => format!("{flag} {}", value_name(arg)),
        (true, true, true) => format!("{flag}[={}]", value_name(arg)),
        (true, true, false) => format!("{flag} [{}]", value_name(arg)),
    };
    let dots = if matches!(
        arg.get_action(),
        clap::ArgAction::Append | clap::ArgAction::Count
    ) {
        "..."
    } else {
        ""
    };
    if arg.is_required_set() {
        format!("{spelled}{dots}")
    } else {
        format!("[{spelled}]{dots}")
    }
}

fn value_name(arg: &clap::Arg) -> String {
    arg.get_value_names()
        .map(|names| {
            names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
}
