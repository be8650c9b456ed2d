//! Agent integrations: [`hook`] is what runs on every hook event,
//! [`settings`] installs the hook entries into an agent's settings file
//! once, and [`claude`] reads Claude Code's transcript.
//!
//! Claude Code and Codex CLI hand a hook one JSON object on stdin
//! (`session_id`, `transcript_path`, `cwd`, `hook_event_name`, …) and read
//! `{"hookSpecificOutput": {"hookEventName": "SessionStart",
//! "additionalContext": "…"}}` from a SessionStart hook's stdout. Both keep
//! hooks in a JSON file shaped `{"hooks": {EVENT: [{"matcher"?, "hooks":
//! [{"type": "command", "command": …}]}]}}`, so one installer serves both.

pub mod claude;
pub mod hook;
pub mod settings;

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
    pub(crate) fn is_ours(self, command: &str) -> bool {
        let tail = format!("session hook {}", self.arg());
        command.trim_end().ends_with(&tail)
    }
}
