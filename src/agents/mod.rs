//! Agent integrations, one file per agent behind one small trait,
//! [`Integration`]: how the agent's hook input reads, where its settings
//! file is, and (where it is read) its transcript format. What is built
//! from them is agent-neutral: [`HookInput`], [`Findings`], and the state a
//! checkpoint records, so a session may move between agents.
//!
//! - [`hook`]: what runs on every hook event (the event's checkpoint or the
//!   SessionStart context, the transcript cache, `hook.log`).
//! - [`settings`]: installing our hook entries into a settings file, once.
//! - [`claude`], [`codex`]: the agents.
//!
//! Adding an agent (Gemini CLI, Cursor, …) is adding its file with an
//! [`Integration`], a variant of [`Agent`] mapped to it in
//! [`Agent::integration`], and its `git session hook NAME` entry point in
//! `commands/hook.rs`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::state::TodoStatus;

pub mod claude;
pub mod codex;
pub mod hook;
pub mod settings;

/// The agents git-session integrates with, as the command line names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    Claude,
    Codex,
}

impl Agent {
    /// Every agent, in the order `doctor` lists them.
    pub const ALL: [Agent; 2] = [Agent::Claude, Agent::Codex];

    /// What this agent's file provides.
    pub fn integration(self) -> &'static dyn Integration {
        match self {
            Agent::Claude => &claude::Claude,
            Agent::Codex => &codex::Codex,
        }
    }

    /// The command the settings file runs. It needs `git-session` on PATH,
    /// as `git session` itself does; it works from any subdirectory because
    /// the hook input names the session's directory.
    pub fn command(self) -> String {
        format!("git session hook {}", self.integration().name())
    }

    /// What every spelling of our command ends with (`git session`,
    /// `git-session`, a full path): `session hook claude`.
    pub fn command_tail(self) -> String {
        format!("session hook {}", self.integration().name())
    }

    /// Whether a settings entry's command is one of ours.
    pub fn is_ours(self, command: &str) -> bool {
        command.trim_end().ends_with(&self.command_tail())
    }
}

/// Everything that differs between agents.
pub trait Integration: Sync {
    /// The agent's word on the command line: `git session hook NAME`,
    /// `hook install NAME`.
    fn name(&self) -> &'static str;

    /// The agent as people know it: `Claude Code`.
    fn display_name(&self) -> &'static str;

    /// The name recorded in the state's `agent`: `claude-code`.
    fn state_name(&self) -> &'static str;

    /// The agent's hook input (one JSON object) in the agent-neutral shape.
    fn hook_input(&self, value: serde_json::Value) -> anyhow::Result<HookInput>;

    /// The events the settings file runs our hook on.
    fn events(&self) -> &'static [&'static str];

    /// The settings file for `scope`, relative to the work tree (project,
    /// local) or to HOME (user); `None` where the agent has none.
    fn settings_file(&self, scope: Scope) -> Option<&'static str>;

    /// A hint to print after installing hooks, when the agent needs a step
    /// of its own before they run (without the `hint:` prefix).
    fn install_hint(&self) -> Option<&'static str> {
        None
    }

    /// Read the transcript at `path`, continuing from `cache` (what the
    /// previous read of this session kept). `None` for an agent whose
    /// transcript is not read.
    fn read_transcript(&self, _path: &Path, _cache: Option<&[u8]>) -> Option<Reading> {
        None
    }
}

/// A hook input, whatever agent sent it.
#[derive(Clone, Debug, Default)]
pub struct HookInput {
    /// The event as the agent names it, for the log.
    pub event: String,
    /// What the event asks of us.
    pub action: Action,
    /// The agent's own session id.
    pub session_id: Option<String>,
    pub transcript_path: Option<PathBuf>,
    /// The session's directory (an agent that gives none: `None`, and the
    /// hook's own directory serves).
    pub cwd: Option<PathBuf>,
    /// The model, when the input names it.
    pub model: Option<String>,
    /// The agent's last message of the turn (Stop's
    /// `last_assistant_message`), recorded as the state's report.
    pub last_message: Option<String>,
    /// What the person typed (UserPromptSubmit's `prompt`).
    pub prompt: Option<String>,
}

/// What a hook event asks of us.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Action {
    /// A session starts: hand the agent the branch's session context.
    Context,
    /// Take a checkpoint, recording this reason (`stop`, `compact`, …).
    Checkpoint(&'static str),
    /// The person submitted a prompt: when it names a branch with a
    /// session, hand the agent that session's context.
    Prompt,
    /// Nothing to do for this event.
    #[default]
    Nothing,
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

impl Scope {
    /// In the order `doctor` lists the files.
    pub const ALL: [Scope; 3] = [Scope::Project, Scope::Local, Scope::User];
}

/// One todo item as the agent keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    pub content: String,
    pub status: TodoStatus,
}

/// What a transcript says about the session, whatever agent wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// The newest todo list, if the agent kept one.
    pub todos: Option<Vec<Todo>>,
    /// The first real user prompt (the task when the state has none).
    pub first_prompt: Option<String>,
    /// The newest model named.
    pub model: Option<String>,
    /// The newest text the agent wrote (its account of the last turn, when
    /// the hook input does not carry it).
    pub last_text: Option<String>,
}

/// One read of a transcript.
#[derive(Clone, Debug, Default)]
pub struct Reading {
    /// The todo list as the previous read (the cache) left it.
    pub previous_todos: Option<Vec<Todo>>,
    /// The newest list is the one the previous read found: it was taken
    /// then, and taking it again would undo what was recorded since (by
    /// hand, `checkpoint --done '#1'`). False when there was no previous
    /// read, so a reader that does not know applies its list.
    pub todos_seen: bool,
    /// What the transcript says now.
    pub findings: Findings,
    /// What to keep for the next read of the same session.
    pub cache: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_agent_is_named_as_the_command_line_names_it() {
        use clap::ValueEnum as _;
        for agent in Agent::ALL {
            let value = agent.to_possible_value().expect("no agent is hidden");
            assert_eq!(value.get_name(), agent.integration().name());
        }
        assert_eq!(Agent::ALL.len(), Agent::value_variants().len());
    }
}
