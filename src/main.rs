//! The `git-session` binary: parse, dispatch, turn errors into messages and
//! exit codes. Nothing else lives here.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use git_session::cli::Cli;
use git_session::color::{Color, Style};
use git_session::commands::{dispatch, Io};
use git_session::terminal::Sanitize;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // On SIGINT/SIGTERM/SIGHUP, remove our lock files (gix registers them as
    // tempfiles), then die of the signal as the default handler would (the
    // demo, after removing its directory). Before any tempfile exists.
    gix::tempfile::signal::setup(cli.signal_mode());
    let cwd = match cli.working_directory() {
        Ok(dir) => dir,
        Err(error) => {
            let color = Color::from_environment(cli.color, std::path::Path::new("."));
            let mut err = Sanitize::new(std::io::stderr().lock(), color.err);
            return report(&mut err, &error.into(), color);
        }
    };
    let color = Color::from_environment(cli.color, &cwd);
    // Everything printed passes through the filter that keeps control
    // sequences in repository data off the terminal (see `terminal`).
    let mut out = Sanitize::new(std::io::stdout().lock(), color.out);
    let mut err = Sanitize::new(std::io::stderr().lock(), color.err);
    let result = dispatch(
        cli.command,
        &cwd,
        &mut Io {
            out: &mut out,
            err: &mut err,
            color,
        },
    );
    let _ = out.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(&mut err, &error, color),
    }
}

/// Print an error as git does: `error:` with its causes, then `hint:` lines.
fn report(err: &mut dyn std::io::Write, error: &anyhow::Error, color: Color) -> ExitCode {
    // A closed pipe (`git session log | head`) is a normal end.
    if error
        .chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    {
        return ExitCode::SUCCESS;
    }
    let user = error
        .chain()
        .find_map(|e| e.downcast_ref::<git_session::error::Error>());
    // The command printed all there is to say (`doctor --json`).
    if let Some(git_session::error::Error::Reported(code)) = user {
        return ExitCode::from(*code);
    }
    let _ = writeln!(err, "{} {error}", color.err(Style::Error, "error:"));
    for cause in error.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {cause}");
    }
    let hint = |err: &mut dyn std::io::Write, text: &str| {
        let _ = writeln!(err, "{} {text}", color.err(Style::Hint, "hint:"));
    };
    match user {
        Some(user) => {
            for text in user.hints() {
                hint(err, &text);
            }
            ExitCode::from(user.exit_code())
        }
        // The machine, not git-session: the user can act on it.
        None if error.chain().any(is_environment) => {
            hint(
                err,
                "the disk is full, a size limit or quota is reached, or a permission is missing where the message says: fix that, then run the command again",
            );
            ExitCode::from(git_session::error::exit::USER)
        }
        None => {
            hint(
                err,
                "git-session did not expect this failure: the repository may be damaged ('git fsck' checks it); if it is not, this is a bug, please report it with the command and this output",
            );
            ExitCode::from(git_session::error::exit::INTERNAL)
        }
    }
}

/// A full disk, a size limit or a missing permission.
fn is_environment(cause: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind;
    cause.downcast_ref::<std::io::Error>().is_some_and(|e| {
        matches!(
            e.kind(),
            ErrorKind::PermissionDenied
                | ErrorKind::StorageFull
                | ErrorKind::ReadOnlyFilesystem
                | ErrorKind::QuotaExceeded
                | ErrorKind::FileTooLarge
        )
    })
}
