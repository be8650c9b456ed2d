//! Codex CLI: its hook input has Claude Code's shape (and names the model),
//! its hooks live in `hooks.json`, and its transcript is not read.

use serde_json::Value;

use super::{HookInput, Integration, Scope};

/// Codex CLI.
pub struct Codex;

impl Integration for Codex {
    fn name(&self) -> &'static str {
        "codex"
    }

    fn display_name(&self) -> &'static str {
        "Codex"
    }

    fn state_name(&self) -> &'static str {
        "codex"
    }

    fn hook_input(&self, value: Value) -> anyhow::Result<HookInput> {
        super::claude::hook_input(value)
    }

    fn events(&self) -> &'static [&'static str] {
        &["SessionStart", "UserPromptSubmit", "Stop", "PreCompact"]
    }

    fn settings_file(&self, scope: Scope) -> Option<&'static str> {
        match scope {
            Scope::Project | Scope::User => Some(".codex/hooks.json"),
            Scope::Local => None,
        }
    }

    fn install_hint(&self) -> Option<&'static str> {
        Some("Codex runs new hooks only after you review and trust them (/hooks in Codex)")
    }
}
