//! `git session hook`: the agents' hook entry points, and installing them.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::agents::hook::{self, Handled};
use crate::agents::{settings, Agent, HookInput, Scope};
use crate::commands::Io;
use crate::time::short;

/// Run git-session from an agent's hooks, or install those hooks.
///
/// 'git session hook claude' and 'git session hook codex' read the hook's
/// JSON on standard input and act on its event: SessionStart prints the
/// session context for the agent (when the branch has checkpoints); Stop,
/// PreCompact and SessionEnd take a checkpoint (nothing is written when
/// nothing changed). For Claude Code the todo list, first prompt and model
/// are read from the transcript. Hooks checkpoint on the branches of
/// session.hookBranches (default: every branch but the default one); on
/// another branch, or a detached HEAD, they save the work tree to
/// refs/session/rescue/BRANCH instead and say so once. A hook never breaks
/// the agent: a failure is
/// one line on stderr and in .git/session/hook.log, and exit 0 (--strict
/// makes it exit 1). Settings it cannot use (an invalid .git-session.toml,
/// a bad git config value) are ignored with a warning, so the work is
/// still saved.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session hook install claude\n  git session hook install codex --scope user\n  git session hook uninstall claude\n  git session hook pre-cancel"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: HookCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum HookCommand {
    /// Claude Code hook entry point: reads the hook JSON on stdin.
    Claude(RunArgs),
    /// Codex CLI hook entry point: reads the hook JSON on stdin.
    Codex(RunArgs),
    /// Add git-session's hooks to an agent's settings (idempotent).
    Install(InstallArgs),
    /// Remove git-session's hooks from an agent's settings, and only those.
    Uninstall(InstallArgs),
    /// Before pressing Cancel: the same as 'git session pause' (checkpoint,
    /// push, print the prompt to paste into the next session), recorded
    /// with reason pre-cancel.
    PreCancel(PreCancelArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Exit 1 on failure instead of 0 (for testing hooks).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The agent: claude or codex.
    #[arg(value_enum)]
    pub agent: Agent,
    /// Which settings file: project (committed), local (this clone; Claude
    /// only) or user (all projects).
    #[arg(long, value_enum, default_value = "project")]
    pub scope: Scope,
}

#[derive(Debug, clap::Args)]
pub struct PreCancelArgs {
    /// Do not push; only checkpoint (not with REMOTE).
    #[arg(long, conflicts_with = "remote")]
    pub no_push: bool,
    /// Remote to push to (default: the branch's remote, then origin).
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,
}

/// The largest hook input read; hook inputs are small JSON objects.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    match args.command {
        HookCommand::Claude(run) => run_hook(Agent::Claude, run.strict, cwd, io),
        HookCommand::Codex(run) => run_hook(Agent::Codex, run.strict, cwd, io),
        HookCommand::Install(args) => install(args, cwd, io),
        HookCommand::Uninstall(args) => uninstall(args, cwd, io),
        HookCommand::PreCancel(args) => pre_cancel(args, cwd, io),
    }
}

fn run_hook(agent: Agent, strict: bool, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let mut raw = Vec::new();
    let read = std::io::stdin().take(MAX_INPUT).read_to_end(&mut raw);
    let parsed: anyhow::Result<HookInput> = read
        .context("could not read the hook input")
        .and_then(|_| parse_input(agent, &raw));
    let mut warnings = Vec::new();
    let (input, result) = match parsed {
        Ok(input) => {
            let result = hook::handle(agent, &input, cwd, &mut *io.out, &mut warnings);
            (Some(input), result)
        }
        Err(err) => (None, Err(err)),
    };
    let event = input.as_ref().map_or("?", |i| i.event.as_str());
    let where_ = input
        .as_ref()
        .and_then(|i| i.cwd.clone())
        .unwrap_or_else(|| cwd.to_path_buf());
    // Settings that were left out: on stderr and in the log, whatever the
    // hook then did.
    io.warn(&warnings)?;
    for warning in &warnings {
        hook::log(
            &where_,
            &format!("{event}: warning: {}", warning.replace(['\r', '\n'], " ")),
        );
    }
    match result {
        Ok(handled) => {
            let line = match &handled {
                Handled::Checkpoint(outcome) if outcome.created => {
                    format!(
                        "{event}: checkpoint {} ({} files)",
                        short(outcome.commit),
                        outcome.changes.len()
                    )
                }
                Handled::Checkpoint(_) => format!("{event}: nothing to checkpoint"),
                Handled::Context(_) => format!("{event}: context printed"),
                Handled::Rescued(rescued) => {
                    let line = format!(
                        "{event}: {}; work tree saved to {} ({})",
                        rescued.why,
                        rescued.reference,
                        short(rescued.commit)
                    );
                    if rescued.announce {
                        writeln!(io.err, "git-session: {line}")?;
                        io.hint(&rescued.hint.iter().cloned().collect::<Vec<_>>())?;
                    }
                    line
                }
                Handled::Nothing => return Ok(()),
            };
            match &handled {
                Handled::Checkpoint(outcome) => {
                    io.warn(&outcome.warnings)?;
                    // Only what is newly left out: a hook runs every turn.
                    let (new_skips, _) = outcome.skip_report();
                    io.warn(&new_skips)?;
                    for skip in &new_skips {
                        hook::log(&where_, &format!("{event}: warning: {skip}"));
                    }
                }
                Handled::Context(warnings) => io.warn(warnings)?,
                _ => {}
            }
            hook::log(&where_, &line);
            Ok(())
        }
        Err(err) => {
            // One line each, whatever the causes' own text holds.
            let message = format!("{err:#}").replace(['\r', '\n'], " ");
            hook::log(&where_, &format!("{event}: error: {message}"));
            if strict {
                return Err(err);
            }
            writeln!(io.err, "git-session hook ({event}): {message}")?;
            Ok(())
        }
    }
}

/// The hook input: a JSON object, read as `agent` shapes it. (Serde would
/// also read a struct from a JSON array, field by field, which no agent
/// sends.)
fn parse_input(agent: Agent, raw: &[u8]) -> anyhow::Result<HookInput> {
    let value: serde_json::Value = serde_json::from_slice(raw).map_err(|err| {
        crate::error::Error::Usage(format!("the hook input is not a JSON object: {err}"))
    })?;
    if !value.is_object() {
        return Err(crate::error::Error::Usage(format!(
            "the hook input is not a JSON object: it is {}",
            match value {
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Bool(_) => "a boolean",
                _ => "null",
            }
        ))
        .into());
    }
    agent.integration().hook_input(value)
}

/// The settings file `args` names, from `cwd`.
fn settings_file(args: &InstallArgs, cwd: &Path) -> anyhow::Result<PathBuf> {
    let workdir = crate::repo::open(cwd)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf));
    let home = crate::platform::home_dir();
    settings::settings_path(args.agent, args.scope, workdir.as_deref(), home.as_deref())
}

fn install(args: InstallArgs, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let path = settings_file(&args, cwd)?;
    let integration = args.agent.integration();
    let name = integration.display_name();
    let added = settings::install(args.agent, &path)?;
    if args.scope == Scope::Local {
        exclude_local(&args, cwd, io)?;
    }
    if added.is_empty() {
        writeln!(
            io.out,
            "{name} hooks already installed in {}",
            path.display()
        )?;
    } else {
        writeln!(
            io.out,
            "installed {name} hooks ({}) in {}",
            added.join(", "),
            path.display()
        )?;
        if let Some(hint) = integration.install_hint() {
            io.hint(&[hint.to_string()])?;
        }
    }
    Ok(())
}

/// A local settings file is personal: keep it out of every commit (the
/// checkpoints' `git add -A` included), and say so when git tracks it
/// already.
fn exclude_local(args: &InstallArgs, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let Some(rel) = args.agent.integration().settings_file(Scope::Local) else {
        return Ok(());
    };
    let repo = crate::repo::open(cwd)?;
    if settings::exclude_from_git(&repo, rel)? {
        writeln!(
            io.out,
            "added /{rel} to .git/info/exclude: it stays out of commits"
        )?;
    }
    let tracked = repo
        .index_or_empty()
        .ok()
        .is_some_and(|index| index.entry_by_path(rel.into()).is_some());
    if tracked {
        io.warn(&[format!(
            "{rel} is tracked by git, so checkpoints commit it: 'git rm --cached {rel}' stops that"
        )])?;
    }
    Ok(())
}

fn uninstall(args: InstallArgs, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let path = settings_file(&args, cwd)?;
    let removed = settings::uninstall(args.agent, &path)?;
    if removed.is_empty() {
        writeln!(io.out, "no git-session hooks in {}", path.display())?;
    } else {
        writeln!(
            io.out,
            "removed {} hooks ({}) from {}",
            args.agent.integration().display_name(),
            removed.join(", "),
            path.display()
        )?;
    }
    Ok(())
}

fn pre_cancel(args: PreCancelArgs, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    crate::commands::pause::pause(
        "pre-cancel",
        args.remote.as_deref(),
        args.no_push,
        false,
        cwd,
        io,
    )
}
