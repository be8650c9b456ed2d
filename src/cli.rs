//! The command line: the root parser, global flags and the subcommand enum.
//! Each subcommand's arguments and help live in its own file under
//! `commands/`.

use clap::{Parser, Subcommand};

use crate::commands;

/// Keep an AI coding session's work and context in git, and resume it anywhere.
///
/// git-session commits the whole work tree as a checkpoint on the current
/// branch and records the session state (task, done, doing, todo, decisions,
/// notes, blockers) in the commit's trailers and in a git note, so the next
/// session, on any machine, can pick up where this one stopped.
#[derive(Debug, Parser)]
#[command(
    name = "git-session",
    bin_name = "git session",
    version,
    after_help = "Examples:\n  git session demo                 # the whole story in a scratch repository\n  git session start -b feat/dark-mode --todo 'toggle' --todo 'persist' 'Add a dark mode'\n  git session checkpoint --done toggle --doing persist\n  git session show\n  git session resume               # the prompt for the next session\n  git session finish --squash --pr # one commit for review, and its description\n  git session doctor               # is everything set up?\n\n'git session -h' prints this summary; 'git session help COMMAND' or\n'git session COMMAND -h' the help of one command. Through git,\n'git session --help' opens the man page: install it with\n'git session man --dir ~/.local/share/man/man1'."
)]
pub struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<std::path::PathBuf>,

    /// Colour the output: auto (on a terminal, unless NO_COLOR is set or
    /// git's color.ui says otherwise), always, or never.
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        value_enum,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "always"
    )]
    pub color: Option<crate::color::When>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Start(commands::start::Args),
    Checkpoint(commands::checkpoint::Args),
    Show(commands::show::Args),
    Log(commands::log::Args),
    Status(commands::status::Args),
    Resume(commands::resume::Args),
    Restore(commands::restore::Args),
    Diff(commands::diff::Args),
    Templates(commands::templates::Args),
    Hook(commands::hook::Args),
    Push(commands::push::Args),
    Fetch(commands::fetch::Args),
    Init(commands::init::Args),
    Finish(commands::finish::Args),
    Demo(commands::demo::Args),
    Doctor(commands::doctor::Args),
    Completions(commands::completions::Args),
    Man(commands::man::Args),
}
