//! Agent integrations: what a hook does on each event, and installing the
//! hook entries into an agent's settings file.
//!
//! Claude Code and Codex CLI hand a hook one JSON object on stdin
//! (`session_id`, `transcript_path`, `cwd`, `hook_event_name`, …) and read
//! `{"hookSpecificOutput": {"hookEventName": "SessionStart",
//! "additionalContext": "…"}}` from a SessionStart hook's stdout. Both keep
//! hooks in a JSON file shaped `{"hooks": {EVENT: [{"matcher"?, "hooks":
//! [{"type": "command", "command": …}]}]}}`, so one installer serves both.

pub mod transcript;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::checkpoint::{Outcome, Request};
use crate::config::Config;
use crate::history::History;
use crate::render::Dirs;

/// How long SessionStart waits for the remote's notes.
const SESSION_START_FETCH: std::time::Duration = std::time::Duration::from_millis(1000);

/// The agents git-session integrates with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    Claude,
    Codex,
}

impl Agent {
    /// The name recorded in the state's `agent`.
    pub fn state_name(self) -> &'static str {
        match self {
            Agent::Claude => "claude-code",
            Agent::Codex => "codex",
        }
    }

    /// The events we install a hook for.
    pub fn events(self) -> &'static [&'static str] {
        match self {
            Agent::Claude => &["SessionStart", "Stop", "PreCompact", "SessionEnd"],
            Agent::Codex => &["SessionStart", "Stop", "PreCompact"],
        }
    }

    /// The command the settings file runs. It needs `git-session` on PATH,
    /// as `git session` itself does; it works from any subdirectory because
    /// the hook input names the session's `cwd`.
    pub fn command(self) -> String {
        format!("git session hook {}", self.arg())
    }

    fn arg(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
        }
    }

    /// Whether a settings entry's command is one of ours (however the
    /// binary was spelled: `git session`, `git-session`, a full path).
    fn is_ours(self, command: &str) -> bool {
        let tail = format!("session hook {}", self.arg());
        command.trim_end().ends_with(&tail)
    }
}

/// The hook input; unknown fields are ignored, missing ones are empty.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct HookInput {
    pub session_id: Option<String>,
    pub transcript_path: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    pub hook_event_name: String,
    /// Codex names the model in the input.
    pub model: Option<String>,
    /// SessionStart: startup, resume, clear, compact.
    pub source: Option<String>,
    /// SessionEnd: why it ended.
    pub reason: Option<String>,
    /// PreCompact: manual or auto.
    pub trigger: Option<String>,
}

/// What a hook run did, for the log and `--strict` tests.
#[derive(Debug)]
pub enum Handled {
    /// A checkpoint was taken (or found unnecessary).
    Checkpoint(Box<Outcome>),
    /// The branch could not take a checkpoint (merge, rebase, conflicts):
    /// the work tree went to a rescue ref instead.
    Rescued(crate::rescue::Rescued),
    /// SessionStart printed context; the warnings are for stderr.
    Context(Vec<String>),
    /// Nothing to do for this event or repository.
    Nothing,
}

/// Run the hook for `agent` on `input`, in the session's directory.
/// `fallback_cwd` serves when the input names none. Settings that cannot be
/// used do not stop a hook: they are left out, and `warnings` says so.
pub fn handle(
    agent: Agent,
    input: &HookInput,
    fallback_cwd: &Path,
    out: &mut dyn std::io::Write,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Handled> {
    let cwd = input.cwd.as_deref().unwrap_or(fallback_cwd);
    let reason = match input.hook_event_name.as_str() {
        "SessionStart" => return session_start(input, cwd, out, warnings),
        "Stop" | "SubagentStop" => "stop",
        "PreCompact" => "compact",
        "SessionEnd" => "session-end",
        _ => return Ok(Handled::Nothing),
    };
    let mut repo = crate::repo::open_worktree(cwd)?;
    let config = load_config(&repo, warnings);
    let mut request = Request {
        reason: reason.into(),
        agent: Some(agent.state_name().into()),
        agent_session: input.session_id.clone(),
        model: input.model.clone(),
        templates: Dirs::for_repo(&repo, &config),
        // Nobody watches a hook: a path git refuses must not cost the
        // rest of the work.
        refusals: crate::snapshot::Refusals::Skip,
        ..Request::default()
    };
    if agent == Agent::Claude {
        if let Some(path) = &input.transcript_path {
            let (previous, scan) = read_transcript(&repo, input.session_id.as_deref(), path);
            if let Some(todos) = scan.todos() {
                // Open items the agent's list had last time and no longer
                // has were dropped by the agent: they leave the open lists.
                // Items recorded by hand were never in its list and stay.
                request.dropped_todos = previous
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|old| old.status != crate::state::TodoStatus::Completed)
                    .filter(|old| !todos.iter().any(|t| t.content == old.content))
                    .map(|old| old.content)
                    .collect();
                request.todos = todos.into_iter().map(|t| (t.content, t.status)).collect();
            }
            request.task_if_empty = scan.first_prompt.clone();
            if request.model.is_none() {
                request.model = scan.model.clone();
            }
        }
    }
    match crate::checkpoint::checkpoint(&mut repo, &config, &request, &AtomicBool::new(false)) {
        Ok(mut outcome) => {
            // SessionEnd is the last chance before the machine may go away.
            if reason == "session-end" && config.auto_push {
                match crate::sync::push(&mut repo, &config, None, true) {
                    Ok(report) => outcome.warnings.extend(report.warnings),
                    Err(err) => outcome.warnings.push(format!(
                        "the checkpoint is safe here, but the push failed: {err:#}"
                    )),
                }
            }
            Ok(Handled::Checkpoint(Box::new(outcome)))
        }
        Err(err) => match crate::rescue::applies_to(&err) {
            Some(why) => Ok(Handled::Rescued(crate::rescue::rescue(
                &mut repo, &config, reason, &why,
            )?)),
            None => Err(err),
        },
    }
}

/// SessionStart: when the branch has a checkpoint, hand the agent the
/// `agent-context` rendering; otherwise print nothing.
fn session_start(
    input: &HookInput,
    cwd: &Path,
    out: &mut dyn std::io::Write,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Handled> {
    let mut repo = match crate::repo::open_worktree(cwd) {
        Ok(repo) => repo,
        // Not in a repository: nothing to resume, and nothing wrong.
        Err(_) => return Ok(Handled::Nothing),
    };
    let config = load_config(&repo, warnings);
    // A fresh clone has no notes: bring them, if a remote answers quickly.
    // Without them the trailers serve, so a failure here changes nothing.
    if !repo.remote_names().is_empty() {
        let _ = crate::sync::fetch_with(&mut repo, &config, None, Some(SESSION_START_FETCH));
    }
    let Some(head) = repo.head_id().ok().map(|id| id.detach()) else {
        return Ok(Handled::Nothing);
    };
    if History::new(&repo, &config)?.newest(head)?.is_none() {
        return Ok(Handled::Nothing);
    }
    let (context, _) = crate::resume::gather(&repo, &config, None)?;
    let mut warnings = Vec::new();
    let text = crate::render::render(
        "agent-context",
        &Dirs::for_repo(&repo, &config),
        &context,
        &mut warnings,
    )?;
    let _ = &input.source;
    let value = json!({
        "hookSpecificOutput": {
            "hookEventName": "SessionStart",
            "additionalContext": text,
        }
    });
    writeln!(out, "{}", crate::terminal::json(&value, false)?)?;
    Ok(Handled::Context(warnings))
}

/// The settings for a hook run: a setting that cannot be used is left out
/// (an invalid `.git-session.toml` as a whole) with a warning, so the work
/// is still saved.
pub fn load_config(repo: &gix::Repository, warnings: &mut Vec<String>) -> Config {
    let (config, problems) = Config::load_or_defaults(repo);
    warnings.extend(problems.iter().map(Config::fallback_warning));
    config
}

/// The transcript's findings, continuing the cached scan for this session.
/// Also the todo list as the previous hook run saw it, if it was cached.
fn read_transcript(
    repo: &gix::Repository,
    session: Option<&str>,
    path: &Path,
) -> (Option<Vec<transcript::Todo>>, transcript::Scan) {
    let cache = cache_path(repo, session);
    let cached: Option<transcript::Scan> = cache
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let previous = cached.as_ref().and_then(transcript::Scan::todos);
    let scan = transcript::scan(path, cached);
    if let Some(cache) = cache {
        // A lost cache only costs a full read next time.
        let _ = write_atomically(&cache, &serde_json::to_vec(&scan).unwrap_or_default());
    }
    (previous, scan)
}

/// `<git dir>/session/transcripts/<session id>.json`; the id is reduced to
/// file-name-safe characters.
fn cache_path(repo: &gix::Repository, session: Option<&str>) -> Option<PathBuf> {
    let id: String = session?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(100)
        .collect();
    (!id.is_empty()).then(|| {
        crate::repo::session_dir(repo)
            .join("transcripts")
            .join(format!("{id}.json"))
    })
}

/// Append one line to `<git dir>/session/hook.log`.
pub fn log(cwd: &Path, line: &str) {
    let Ok(repo) = crate::repo::open(cwd) else {
        return;
    };
    let dir = crate::repo::session_dir(&repo);
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("hook.log"))
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let when = crate::time::rfc3339(gix::date::Time::new(now, 0));
        // Read later with `cat` or `tail -f`: no control sequences in it.
        let _ = writeln!(file, "{when} {}", crate::terminal::neutralize(line));
    }
}

/// Where an agent's settings file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// Shared with the team, committed (`.claude/settings.json`, `.codex/hooks.json`).
    Project,
    /// This clone only, not committed (`.claude/settings.local.json`).
    Local,
    /// Every project of this user (`~/.claude/settings.json`, `~/.codex/hooks.json`).
    User,
}

/// The settings file for `agent` at `scope`.
pub fn settings_path(
    agent: Agent,
    scope: Scope,
    workdir: Option<&Path>,
    home: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let need_workdir = || workdir.context("this scope needs a git work tree: run it inside one");
    let need_home = || home.context("HOME is not set: cannot find the user's settings");
    Ok(match (agent, scope) {
        (Agent::Claude, Scope::Project) => need_workdir()?.join(".claude/settings.json"),
        (Agent::Claude, Scope::Local) => need_workdir()?.join(".claude/settings.local.json"),
        (Agent::Claude, Scope::User) => need_home()?.join(".claude/settings.json"),
        (Agent::Codex, Scope::Project) => need_workdir()?.join(".codex/hooks.json"),
        (Agent::Codex, Scope::User) => need_home()?.join(".codex/hooks.json"),
        (Agent::Codex, Scope::Local) => {
            anyhow::bail!("Codex has no local-only hooks file: use --scope project or --scope user")
        }
    })
}

/// Add our hook to each event in the settings file at `path`, keeping
/// every other key and hook. Returns the events that were added (empty when
/// all were there already).
pub fn install(agent: Agent, path: &Path) -> anyhow::Result<Vec<&'static str>> {
    let mut root = read_settings(path)?;
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(hooks) = hooks.as_object_mut() else {
        anyhow::bail!(
            "'{}': \"hooks\" is not an object; fix it by hand first",
            path.display()
        );
    };
    let mut added = Vec::new();
    for event in agent.events() {
        let groups = hooks
            .entry(*event)
            .or_insert_with(|| Value::Array(Vec::new()));
        let Some(groups) = groups.as_array_mut() else {
            anyhow::bail!(
                "'{}': hooks.{event} is not a list; fix it by hand first",
                path.display()
            );
        };
        let present = groups.iter().any(|group| {
            group
                .get("hooks")
                .and_then(Value::as_array)
                .is_some_and(|list| list.iter().any(|h| is_our_hook(agent, h)))
        });
        if !present {
            groups.push(json!({"hooks": [{"type": "command", "command": agent.command()}]}));
            added.push(*event);
        }
    }
    if !added.is_empty() {
        write_settings(path, &root)?;
    }
    Ok(added)
}

/// Remove our hooks from the settings file at `path`, and the lists and
/// objects that only they filled. Returns the events they were removed from.
pub fn uninstall(agent: Agent, path: &Path) -> anyhow::Result<Vec<String>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut root = read_settings(path)?;
    let mut removed = Vec::new();
    let Some(hooks) = root.get_mut("hooks").and_then(Value::as_object_mut) else {
        return Ok(removed);
    };
    for (event, groups) in hooks.iter_mut() {
        let Some(groups) = groups.as_array_mut() else {
            continue;
        };
        let mut touched = false;
        groups.retain_mut(|group| {
            let Some(list) = group.get_mut("hooks").and_then(Value::as_array_mut) else {
                return true;
            };
            let before = list.len();
            list.retain(|h| !is_our_hook(agent, h));
            if list.len() != before {
                touched = true;
                return !list.is_empty();
            }
            true
        });
        if touched {
            removed.push(event.clone());
        }
    }
    hooks.retain(|event, groups| {
        !(removed.contains(event) && groups.as_array().is_some_and(Vec::is_empty))
    });
    if hooks.is_empty() && !removed.is_empty() {
        root.remove("hooks");
    }
    if !removed.is_empty() {
        write_settings(path, &root)?;
    }
    Ok(removed)
}

fn is_our_hook(agent: Agent, hook: &Value) -> bool {
    hook.get("command")
        .and_then(Value::as_str)
        .is_some_and(|c| agent.is_ours(c))
}

fn read_settings(path: &Path) -> anyhow::Result<Map<String, Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(err) => {
            return Err(err).with_context(|| format!("could not read '{}'", path.display()))
        }
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text).with_context(|| {
        format!(
            "'{}' is not valid JSON; fix it, then install again",
            path.display()
        )
    })? {
        Value::Object(map) => Ok(map),
        _ => anyhow::bail!(
            "'{}' is not a JSON object; fix it, then install again",
            path.display()
        ),
    }
}

fn write_settings(path: &Path, root: &Map<String, Value>) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(root)?;
    text.push('\n');
    write_atomically(path, text.as_bytes())
        .with_context(|| format!("could not write '{}'", path.display()))
}

/// Write through a temporary file in the same directory and rename, so a
/// reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_twice_is_once_and_uninstall_restores() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("settings.json");
        let original = r#"{
  "model": "x",
  "hooks": {
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "echo mine"
          }
        ]
      }
    ]
  }
}
"#;
        std::fs::write(&path, original).expect("write");
        assert_eq!(install(Agent::Claude, &path).expect("install").len(), 4);
        assert!(install(Agent::Claude, &path).expect("again").is_empty());
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.matches("git session hook claude").count(), 4);
        assert!(text.contains("echo mine"));
        uninstall(Agent::Claude, &path).expect("uninstall");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), original);
    }
}
