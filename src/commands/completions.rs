//! `git session completions`: shell completion scripts, generated from the
//! same clap definitions as the parser, so they never fall out of step.

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::commands::Io;

/// Print a completion script for SHELL.
///
/// The script completes 'git-session …'. For bash it also defines
/// _git_session, which git's own bash completion calls for 'git session …';
/// zsh's git completion finds the _git-session function it defines.
///
/// Install it where your shell looks for completions, for example:
///   bash: git session completions bash > ~/.local/share/bash-completion/completions/git-session
///   zsh:  git session completions zsh > ~/.zfunc/_git-session   (with fpath+=~/.zfunc before compinit)
///   fish: git session completions fish > ~/.config/fish/completions/git-session.fish
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session completions bash > ~/.local/share/bash-completion/completions/git-session\n  git session completions zsh > ~/.zfunc/_git-session\n  git session completions fish > ~/.config/fish/completions/git-session.fish\n  git session completions powershell >> $PROFILE"
)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// For git's bash completion, which calls `_git_session` for `git session`
/// with its own `words`/`cword` variables: present the words as clap's
/// function expects them, as if `git-session` had been typed.
const BASH_GIT_SHIM: &str = r#"
# 'git session <TAB>' through git's own bash completion.
_git_session() {
    local COMP_WORDS=("git-session" "${words[@]:2}")
    local COMP_CWORD=$((cword - 1))
    local COMP_LINE="${COMP_WORDS[*]}"
    local COMP_POINT=${#COMP_LINE}
    _git__session "git-session" "${cur}" "${words[cword-1]}"
}
"#;

pub fn run(args: Args, io: &mut Io<'_>) -> anyhow::Result<()> {
    // Completes the program the shell sees, `git-session`, not the
    // `git session` of the help texts.
    let mut command = Cli::command().bin_name("git-session");
    // Into a buffer first: clap_complete panics when its writer fails, and
    // a closed pipe (`… | head`) is a normal end here.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "git-session", &mut script);
    if args.shell == clap_complete::Shell::Bash {
        // clap_complete 4.6 spells the states of a hyphenated program two
        // ways, so no subcommand's options ever complete
        // (clap-rs/clap#6421); use the spelling its dispatch loop uses. A
        // no-op once that is fixed.
        let text = String::from_utf8_lossy(&script)
            .replace("git__subcmd__session__subcmd__", "git__session__subcmd__");
        script = text.into_bytes();
        script.extend_from_slice(BASH_GIT_SHIM.as_bytes());
    }
    io.out.write_all(&script)?;
    Ok(())
}
