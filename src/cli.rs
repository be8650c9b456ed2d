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
    after_help = "Examples:\n  git session demo                 # the whole story in a scratch repository\n  git session start -b feat/dark-mode --todo 'toggle' --todo 'persist' 'Add a dark mode'\n  git session checkpoint --done toggle --doing persist\n  git session show\n  git session resume               # the prompt for the next session\n  git session finish --squash --pr # one commit for review, and its description\n  git session doctor               # is everything set up?\n\n'git session -h' prints this summary; 'git session help COMMAND' or\n'git session COMMAND -h' the help of one command. Through git,\n'git session --help' opens the man page: install it with\n'git session man --dir ~/.local/share/man/man1'.\n\nExit status: 0 done; 1 a problem git-session understood (a refusal, a\nbad setting or argument, a full disk or a missing permission; the hint\nlines say what to do); 2 a command line that cannot be parsed; 3 a\ncheckpoint written whose push failed; 70 an internal error (a damaged\nrepository, or a bug)."
)]
pub struct Cli {
    /// Run as if started in DIR. Repeated, each is taken relative to the
    /// one before, as git does ('-C a -C b' is a/b).
    #[arg(
        short = 'C',
        global = true,
        value_name = "DIR",
        action = clap::ArgAction::Append,
        // An empty DIR is allowed and changes nothing, as in git.
        value_parser = clap::builder::TypedValueParser::map(
            clap::builder::OsStringValueParser::new(),
            std::path::PathBuf::from
        )
    )]
    pub directory: Vec<std::path::PathBuf>,

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

impl Cli {
    /// The directory to run in: the current one, changed by each `-C` in
    /// turn as git changes it (an empty one changes nothing; a later
    /// absolute one starts afresh), refused as git refuses a directory it
    /// cannot change to.
    pub fn working_directory(&self) -> Result<std::path::PathBuf, crate::error::Error> {
        use crate::error::Error;
        let mut dir = std::env::current_dir()
            .map_err(|err| Error::Usage(format!("cannot read the current directory: {err}")))?;
        for next in self.directory.iter().filter(|d| !d.as_os_str().is_empty()) {
            dir = dir.join(next);
            let reason = match std::fs::metadata(&dir) {
                Ok(meta) if meta.is_dir() => continue,
                Ok(_) => "Not a directory".to_string(),
                Err(err) => err.to_string(),
            };
            return Err(Error::CannotChangeTo {
                dir: next.clone(),
                reason: os_error_text(&reason),
            });
        }
        Ok(dir)
    }

    /// What a termination signal (Ctrl+C, SIGTERM, SIGHUP) does: every
    /// command removes its lock files and dies of it; `demo` is told of it
    /// and dies of it once its scratch directory is removed.
    pub fn signal_mode(&self) -> gix::tempfile::signal::handler::Mode {
        use gix::tempfile::signal::handler::Mode;
        match self.command {
            Command::Demo(_) => Mode::DeleteTempfilesOnTermination,
            _ => Mode::DeleteTempfilesOnTerminationAndRestoreDefaultBehaviour,
        }
    }
}

// One value per run, parsed once and moved into its command: boxing the
// larger variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    Start(commands::start::Args),
    Checkpoint(commands::checkpoint::Args),
    Show(commands::show::Args),
    Log(commands::log::Args),
    Status(commands::status::Args),
    Resume(commands::resume::Args),
    Pause(commands::pause::Args),
    List(commands::list::Args),
    Continue(commands::r#continue::Args),
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

/// An I/O error as C's `strerror` says it (`No such file or directory`),
/// without Rust's `(os error 2)`.
fn os_error_text(text: &str) -> String {
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text.to_string(),
    }
}
