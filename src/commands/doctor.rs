//! `git session doctor`: is everything git-session needs in place? Each
//! check says what it found and, when something is missing, the command
//! that fixes it.
//!
//! A *problem* keeps git-session from doing its job (the binary cannot be
//! found, git is too old, no identity, a setting it cannot use) and makes
//! the exit code 1. A *warning* is something worth knowing that a working
//! setup may well have (`git session init` not run, no agent hooks, no
//! remote, notes never fetched, a rescue snapshot waiting).

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::agents::{settings, Agent};
use crate::color::Style;
use crate::commands::{print_json, Io};
use crate::config::Config;
use crate::error::Error;
use crate::sync::Now;
use crate::time::short;

/// The oldest git that works: `git fetch --no-write-fetch-head` is 2.29.
const MIN_GIT: (u32, u32) = (2, 29);

/// Check the setup: the binary, git, identity, init, hooks, sync, rescues.
///
/// Checks that git-session is on PATH (so git runs it as 'git session' and
/// the agents' hooks find it), that git is 2.29 or newer, that user.name and
/// user.email are set, that 'git session init' was run here (notes follow
/// amend and rebase, 'git fetch' brings the notes), which agents' hooks are
/// installed, whether commit.gpgSign or git commit hooks are in force
/// (checkpoints are unsigned and run no commit hooks), which untracked files
/// checkpoints leave out and why, whether a rescue
/// snapshot is waiting, and whether the remote's
/// session notes were fetched. Each finding is one line, 'ok:', 'warning:'
/// or 'problem:', followed by 'hint:' lines saying how to fix it.
///
/// Exits 0 when there is no problem (warnings allowed), 1 otherwise; with
/// --json, standard error stays empty either way.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  git session doctor\n  git session doctor --json")]
pub struct Args {
    /// Print one JSON object: {"ok", "problems", "warnings", "checks": [...]}.
    #[arg(long)]
    pub json: bool,
}

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Problem,
}

/// One finding.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// A stable name for scripts: `path`, `git`, `config`, `identity`, `init`, `hooks`,
    /// `commits`, `skipped`, `rescue`, `remote`, `notes`, `repository`.
    pub name: &'static str,
    pub status: Status,
    pub message: String,
    /// How to fix it; empty when all is well.
    pub hints: Vec<String>,
}

impl Check {
    fn ok(name: &'static str, message: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Ok,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    fn warning(name: &'static str, message: impl Into<String>, hints: Vec<String>) -> Check {
        Check {
            name,
            status: Status::Warning,
            message: message.into(),
            hints,
        }
    }

    fn problem(name: &'static str, message: impl Into<String>, hints: Vec<String>) -> Check {
        Check {
            name,
            status: Status::Problem,
            message: message.into(),
            hints,
        }
    }
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let home = crate::platform::home_dir();
    let mut checks = vec![check_path(), check_git()];
    checks.extend(check_locks());
    match crate::repo::open(cwd) {
        Ok(mut repo) => checks.extend(repository_checks(&mut repo, home.as_deref())?),
        Err(err) => {
            checks.push(match err.downcast_ref::<Error>() {
                Some(unsupported @ Error::UnsupportedRefStorage(_)) => {
                    Check::problem("repository", unsupported.to_string(), unsupported.hints())
                }
                _ => Check::warning(
                    "repository",
                    format!(
                        "'{}' is not in a git repository: the repository checks were skipped",
                        cwd.display()
                    ),
                    vec!["run 'git session doctor' inside the repository you work in".into()],
                ),
            });
            checks.push(check_hooks(None, home.as_deref()));
        }
    }
    let problems = checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .count();
    let warnings = checks
        .iter()
        .filter(|c| c.status == Status::Warning)
        .count();

    if args.json {
        print_json(
            io,
            &json!({
                "ok": problems == 0,
                "problems": problems,
                "warnings": warnings,
                "checks": checks,
            }),
        )?;
    } else {
        let color = io.color;
        for check in &checks {
            let (style, label) = match check.status {
                Status::Ok => (Style::Good, "ok:"),
                Status::Warning => (Style::Warning, "warning:"),
                Status::Problem => (Style::Error, "problem:"),
            };
            writeln!(io.out, "{} {}", color.out(style, label), check.message)?;
            for hint in &check.hints {
                writeln!(io.out, "{} {hint}", color.out(Style::Hint, "hint:"))?;
            }
        }
        if problems == 0 {
            match warnings {
                0 => writeln!(io.out, "\nall is well")?,
                n => writeln!(
                    io.out,
                    "\nno problems; {n} warning{}",
                    if n == 1 { "" } else { "s" }
                )?,
            }
        }
    }
    if problems > 0 {
        // The JSON says it all; stderr stays empty for the machine reading it.
        return Err(if args.json {
            Error::Reported(1)
        } else {
            Error::DoctorProblems(problems)
        }
        .into());
    }
    Ok(())
}

/// The checks that need a repository, in the order a newcomer fixes them.
fn repository_checks(
    repo: &mut gix::Repository,
    home: Option<&Path>,
) -> anyhow::Result<Vec<Check>> {
    let (config, problems) = Config::load_or_defaults(repo);
    let mut checks = check_config(&problems);
    checks.extend([check_identity(repo), check_init(repo, &config)]);
    checks.push(check_hooks(repo.workdir(), home));
    checks.push(check_commits(repo));
    if repo.workdir().is_some() {
        checks.push(check_skipped(repo, &config));
    }
    checks.push(match crate::rescue::pending(repo) {
        Some((reference, id, time)) => Check::warning(
            "rescue",
            format!(
                "a rescue snapshot is waiting: {reference} ({}, {}), work saved while a checkpoint could not commit",
                short(id),
                crate::time::ago(time)
            ),
            vec![
                format!("restore it: git restore --source={reference} --worktree -- ."),
                format!("then drop it: git update-ref -d {reference}"),
            ],
        ),
        None => Check::ok("rescue", "no rescue snapshot is waiting"),
    });
    checks.extend(check_remotes(repo, &config));
    Ok(checks)
}

/// Every setting must be usable: the other commands refuse to run
/// otherwise (hooks go on without the bad ones). One check per problem.
fn check_config(problems: &[Error]) -> Vec<Check> {
    if problems.is_empty() {
        return vec![Check::ok("config", "settings are valid")];
    }
    problems
        .iter()
        .map(|problem| Check::problem("config", problem.to_string(), problem.hints()))
        .collect()
}

/// `git-session` must be on PATH: git finds `git session` there, and the
/// hooks installed in the agents' settings run `git session hook …`.
fn check_path() -> Check {
    let name = if cfg!(windows) {
        "git-session.exe"
    } else {
        "git-session"
    };
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| crate::repo::is_executable(candidate))
    });
    let this = std::env::current_exe().ok();
    match found {
        Some(found) => {
            let same = this.as_ref().is_some_and(|this| {
                std::fs::canonicalize(this).ok() == std::fs::canonicalize(&found).ok()
            });
            if same || this.is_none() {
                Check::ok(
                    "path",
                    format!(
                        "git-session is on PATH ({}): git runs it as 'git session'",
                        found.display()
                    ),
                )
            } else {
                Check::warning(
                    "path",
                    format!(
                        "PATH finds {}, not this binary ({}): 'git session' and the hooks run the one on PATH",
                        found.display(),
                        this.as_deref().unwrap_or(Path::new("?")).display()
                    ),
                    vec!["if they are different versions, reinstall with 'cargo install --path .'".into()],
                )
            }
        }
        None => {
            let mut hints = vec![
                "install it with 'cargo install --path .' and put ~/.cargo/bin on PATH".into(),
            ];
            if let Some(dir) = this.as_deref().and_then(Path::parent) {
                hints.push(format!(
                    "or add this binary's directory to PATH: {}",
                    dir.display()
                ));
            }
            Check::problem(
                "path",
                "git-session is not on PATH: git cannot run 'git session', nor can the agents' hooks",
                hints,
            )
        }
    }
}

/// Stale-lock recovery needs the system to say whether a process runs and
/// since when (`/proc` on Linux, the process table on macOS and Windows):
/// said only when it cannot.
fn check_locks() -> Option<Check> {
    (!crate::lock::recovery_works()).then(|| {
        Check::warning(
            "locks",
            "this system does not say when a process started: after a checkpoint is killed, its lock stays until someone removes it",
            vec!["if a checkpoint reports the session lock held and no git-session runs, delete the file it names".into()],
        )
    })
}

/// git's version: of the `git` on PATH, the one push and fetch run.
fn check_git() -> Check {
    let text = match crate::remote::version() {
        Ok(text) => text,
        Err(err @ Error::GitFailed { .. }) => {
            return Check::problem(
                "git",
                err.to_string(),
                vec!["install git 2.29 or newer".into()],
            )
        }
        Err(err) => {
            return Check::problem(
                "git",
                err.to_string(),
                vec!["install git 2.29 or newer and put it on PATH".into()],
            )
        }
    };
    let version = text.strip_prefix("git version ").unwrap_or(&text);
    match parse_version(version) {
        Some(found) if found >= MIN_GIT => Check::ok(
            "git",
            format!("git {version} (2.29 or newer is needed)"),
        ),
        Some(_) => Check::problem(
            "git",
            format!(
                "git {version} is too old: 2.29 or newer is needed (push and fetch use 'git fetch --no-write-fetch-head')"
            ),
            vec!["upgrade git (https://git-scm.com/downloads)".into()],
        ),
        None => Check::warning(
            "git",
            format!("could not read git's version from '{text}': 2.29 or newer is needed"),
            Vec::new(),
        ),
    }
}

/// `2.47.3` or `2.39.2 (Apple Git-143)` → (2, 47).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Without an identity checkpoints still work, under a stand-in name that
/// nobody wants in their history.
fn check_identity(repo: &mut gix::Repository) -> Check {
    let committer = repo
        .committer()
        .and_then(Result::ok)
        .map(|sig| format!("{} <{}>", sig.name, sig.email));
    let author_ok = repo.author().is_some_and(|a| a.is_ok());
    // What a checkpoint would do, on a copy (the fallback is in-memory).
    let fallback = crate::repo::ensure_identity(&mut repo.clone());
    match committer {
        Some(who) if author_ok && matches!(fallback, Ok(None)) => {
            Check::ok("identity", format!("commits are made as {who}"))
        }
        _ => Check::problem(
            "identity",
            match fallback {
                Ok(Some(used)) => {
                    format!("no user.name/user.email: checkpoints would be committed as {used}")
                }
                Ok(None) => "no usable user.name/user.email".to_string(),
                Err(err) => format!("checkpoints would be refused: {err}"),
            },
            vec![
                "git config --global user.name 'Your Name'".into(),
                "git config --global user.email you@example.com".into(),
            ],
        ),
    }
}

/// What `git session init` sets ([`crate::sync::init_plan`]), in place?
fn check_init(repo: &gix::Repository, config: &Config) -> Check {
    let remotes: Vec<String> = repo.remote_names().iter().map(|n| n.to_string()).collect();
    let missing: Vec<String> = crate::sync::init_plan(repo, &config.notes_ref, &remotes)
        .into_iter()
        .filter_map(|setting| match setting.now {
            Now::Missing(why) => Some(why),
            Now::Set | Now::Default => None,
        })
        .collect();
    if missing.is_empty() {
        Check::ok(
            "init",
            "'git session init' is done: notes follow amend and rebase, and 'git fetch' brings them",
        )
    } else {
        // Checkpoints, resume and push work without it: worth doing, not
        // a problem (the quick start does not need it).
        Check::warning(
            "init",
            format!(
                "'git session init' has not been run in this repository ({}): checkpoints work, but an amend or rebase drops their notes (the trailers still carry the state) and 'git fetch' does not bring the remote's",
                missing.join("; ")
            ),
            vec!["run 'git session init'".into()],
        )
    }
}

/// Signing and commit hooks: what `git commit` does here that checkpoints
/// do not (by design; worth knowing).
fn check_commits(repo: &gix::Repository) -> Check {
    let differences = crate::repo::commit_differences(repo);
    if differences.is_empty() {
        return Check::ok(
            "commits",
            "checkpoints commit as 'git commit' would here (no commit.gpgSign, no commit hooks)",
        );
    }
    Check::warning(
        "commits",
        differences
            .into_iter()
            .map(|(_, text)| text)
            .collect::<Vec<_>>()
            .join("; "),
        Vec::new(),
    )
}

/// Untracked files every checkpoint leaves out, and why: said here every
/// time, while a checkpoint warns only when a file is first left out.
fn check_skipped(repo: &gix::Repository, config: &Config) -> Check {
    let head = repo.head_id().ok().map(|id| id.detach());
    let skipped = crate::commit::head_tree_or_empty(repo, head).and_then(|tree| {
        crate::snapshot::changes_since(
            repo,
            tree,
            &crate::snapshot::Options::from_config(config),
            &std::sync::atomic::AtomicBool::new(false),
        )
    });
    match skipped {
        Ok((_, skipped)) if skipped.is_empty() => Check::ok(
            "skipped",
            "checkpoints leave no untracked file out (no secret-looking or too large file)",
        ),
        Ok((_, skipped)) => Check::ok(
            "skipped",
            format!(
                "checkpoints leave {} untracked file{} out, on purpose: {}",
                skipped.len(),
                if skipped.len() == 1 { "" } else { "s" },
                skipped
                    .iter()
                    .map(|s| format!("{}: {}", s.path, s.detail))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        Err(err) => Check::warning(
            "skipped",
            format!("could not scan the work tree for files checkpoints leave out: {err:#}"),
            Vec::new(),
        ),
    }
}

/// Which agents' settings files run our hook.
fn check_hooks(workdir: Option<&Path>, home: Option<&Path>) -> Check {
    let mut found: Vec<String> = Vec::new();
    for agent in Agent::ALL {
        for (path, shown) in settings::known_files(agent, workdir, home) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if text.contains(&agent.command_tail()) {
                found.push(format!("{} ({shown})", agent.integration().display_name()));
            }
        }
    }
    if found.is_empty() {
        Check::warning(
            "hooks",
            "no agent hooks are installed: checkpoints happen only when someone runs them",
            Agent::ALL
                .into_iter()
                .map(|agent| {
                    let integration = agent.integration();
                    format!(
                        "for {}: git session hook install {}",
                        integration.display_name(),
                        integration.name()
                    )
                })
                .collect(),
        )
    } else {
        Check::ok(
            "hooks",
            format!("agent hooks installed: {}", found.join(", ")),
        )
    }
}

/// A remote to push checkpoints to, and its notes fetched.
fn check_remotes(repo: &gix::Repository, config: &Config) -> Vec<Check> {
    let remotes: Vec<String> = repo.remote_names().iter().map(|n| n.to_string()).collect();
    if remotes.is_empty() {
        return vec![Check::warning(
            "remote",
            "no remote: checkpoints stay in this clone, and a cancelled sandbox takes them along",
            vec![
                "git remote add origin URL, then 'git session init' and 'git session push'".into(),
            ],
        )];
    }
    remotes
        .iter()
        .map(|remote| {
            let tracking = crate::sync::tracking_ref(&config.notes_ref, remote);
            let fetched = repo
                .try_find_reference(tracking.as_str())
                .ok()
                .flatten()
                .is_some();
            if fetched {
                Check::ok(
                    "notes",
                    format!("the session notes of '{remote}' have been fetched ({tracking})"),
                )
            } else {
                Check::warning(
                    "notes",
                    format!("the session notes of '{remote}' have never been fetched ({tracking} does not exist)"),
                    vec![format!(
                        "git session fetch {remote} (when nobody has pushed notes there yet, there is nothing to fetch)"
                    )],
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_vendor_suffixes() {
        assert_eq!(parse_version("2.47.3"), Some((2, 47)));
        assert_eq!(parse_version("2.39.2 (Apple Git-143)"), Some((2, 39)));
        assert_eq!(parse_version("2.45.1.windows.1"), Some((2, 45)));
        assert_eq!(parse_version("nonsense"), None);
        assert!(parse_version("2.28.0").is_some_and(|v| v < MIN_GIT));
    }
}
