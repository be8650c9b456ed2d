//! Gemini CLI: its hook input, its `settings.json` (Claude Code's hook
//! layout, each handler with a `name`, hooks turned on by
//! `hooksConfig.enabled`), and session state from its chat file.
//!
//! The chat file (`~/.gemini/tmp/<project>/chats/session-….jsonl`) is
//! Gemini CLI's own, undocumented format, read defensively: a metadata
//! line, then message records `{id, type: "user"|"gemini"|…, content,
//! toolCalls?, model?}`, where a record may be written again with the same
//! `id` as the message grows (the last one wins), `{"$set": …}` updates,
//! and `{"$rewindTo": id}`, which drops that message and all after it.
//! Older versions wrote one JSON object, `{…, "messages": […]}`, read whole.
//! What is read: the first real user message (as the task), the newest
//! `write_todos` list, the model, the newest response text.

use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::jsonl::{self, capped, LineScan, Progress};
use super::{Action, Findings, HookInput, Integration, Reading, Scope, Todo};
use crate::state::TodoStatus;

/// Gemini CLI.
pub struct Gemini;

impl Integration for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn display_name(&self) -> &'static str {
        "Gemini CLI"
    }

    fn state_name(&self) -> &'static str {
        "gemini-cli"
    }

    fn hook_input(&self, value: Value) -> anyhow::Result<HookInput> {
        hook_input(value)
    }

    fn events(&self) -> &'static [&'static str] {
        &[
            "SessionStart",
            "BeforeAgent",
            "AfterAgent",
            "PreCompress",
            "SessionEnd",
        ]
    }

    fn settings_file(&self, scope: Scope) -> Option<&'static str> {
        match scope {
            Scope::Project | Scope::User => Some(".gemini/settings.json"),
            Scope::Local => None,
        }
    }

    fn install_hint(&self) -> Option<&'static str> {
        Some("Gemini CLI reads hooks when it starts, and project hooks only in a folder you trust: restart it")
    }

    fn hook_entry(&self, command: &str) -> Value {
        json!({"name": "git-session", "type": "command", "command": command})
    }

    fn hooks_switch(&self) -> Option<(&'static str, &'static str)> {
        Some(("hooksConfig", "enabled"))
    }

    fn binaries(&self) -> &'static [&'static str] {
        &["gemini"]
    }

    fn read_transcript(&self, path: &Path, cache: Option<&[u8]>) -> Option<Reading> {
        Some(jsonl::reading::<Chat>(path, cache))
    }
}

/// The hook input as Gemini CLI sends it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Input {
    session_id: Option<String>,
    /// `""` when the session is not recorded.
    transcript_path: Option<PathBuf>,
    cwd: Option<PathBuf>,
    hook_event_name: String,
    /// BeforeAgent, AfterAgent: the person's prompt.
    prompt: Option<String>,
    /// AfterAgent: the turn's response text (every response of the turn,
    /// joined).
    prompt_response: Option<String>,
}

fn hook_input(value: Value) -> anyhow::Result<HookInput> {
    use anyhow::Context as _;
    let input: Input = serde_json::from_value(value)
        .context("the hook input has a field of an unexpected type")?;
    let action = match input.hook_event_name.as_str() {
        "SessionStart" => Action::Context,
        "BeforeAgent" => Action::Prompt,
        "AfterAgent" => Action::Checkpoint("stop"),
        "PreCompress" => Action::Checkpoint("compact"),
        "SessionEnd" => Action::Checkpoint("session-end"),
        _ => Action::Nothing,
    };
    let last_message = (action == Action::Checkpoint("stop"))
        .then_some(input.prompt_response)
        .flatten()
        .filter(|m| !m.trim().is_empty());
    Ok(HookInput {
        action,
        event: input.hook_event_name,
        session_id: input.session_id,
        transcript_path: input.transcript_path.filter(|p| !p.as_os_str().is_empty()),
        cwd: input.cwd,
        model: None,
        last_message,
        prompt: input.prompt,
    })
}

/// What a chat file says so far, and where reading stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Chat {
    progress: Progress,
    /// Message ids in order, for `$rewindTo`.
    ids: Vec<String>,
    /// The newest todo list: the line, and the message it is in.
    todos: Option<(u64, String, Vec<Todo>)>,
    first_prompt: Option<(String, String)>,
    model: Option<String>,
    last_text: Option<(String, String)>,
}

impl LineScan for Chat {
    fn progress(&mut self) -> &mut Progress {
        &mut self.progress
    }

    fn consume(&mut self, line: &[u8]) {
        let rewind = line.contains_str("\"$rewindTo\"");
        let message = line.contains_str("\"gemini\"")
            || (self.first_prompt.is_none() && line.contains_str("\"user\""));
        if !(rewind || message) {
            return;
        }
        if let Ok(value) = serde_json::from_slice::<Value>(line) {
            self.record(&value);
        }
    }

    fn read_whole(&mut self, path: &Path) -> bool {
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            return false;
        }
        // Not incremental: read again from the start each time.
        let progress = std::mem::take(&mut self.progress);
        *self = Chat::default();
        self.progress = Progress {
            path: progress.path,
            ..Progress::default()
        };
        let value = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        let messages = value
            .as_ref()
            .and_then(|v| v.get("messages"))
            .and_then(Value::as_array);
        for message in messages.into_iter().flatten() {
            self.progress.lines += 1;
            self.record(message);
        }
        true
    }

    fn todos(&self) -> (u64, Option<Vec<Todo>>) {
        match &self.todos {
            Some((line, _, list)) => (*line, Some(list.clone())),
            None => (0, None),
        }
    }

    fn findings(&self) -> Findings {
        Findings {
            todos: self.todos.as_ref().map(|(_, _, list)| list.clone()),
            first_prompt: self.first_prompt.as_ref().map(|(_, t)| t.clone()),
            model: self.model.clone(),
            last_text: self.last_text.as_ref().map(|(_, t)| t.clone()),
        }
    }
}

impl Chat {
    fn record(&mut self, value: &Value) {
        if let Some(id) = value.get("$rewindTo").and_then(Value::as_str) {
            self.rewind(id);
            return;
        }
        let Some(id) = value.get("id").and_then(Value::as_str) else {
            return;
        };
        if self.ids.last().map(String::as_str) != Some(id) && !self.ids.iter().any(|i| i == id) {
            self.ids.push(id.to_string());
        }
        match value.get("type").and_then(Value::as_str) {
            Some("user") if self.first_prompt.is_none() => {
                if let Some(text) = value.get("content").and_then(user_text) {
                    self.first_prompt = Some((id.to_string(), text));
                }
            }
            Some("gemini") => {
                if let Some(model) = value.get("model").and_then(Value::as_str) {
                    if !model.trim().is_empty() {
                        self.model = Some(model.trim().to_string());
                    }
                }
                if let Some(text) = value
                    .get("content")
                    .and_then(Value::as_str)
                    .and_then(capped)
                {
                    self.last_text = Some((id.to_string(), text));
                }
                let calls = value.get("toolCalls").and_then(Value::as_array);
                let newest = calls
                    .into_iter()
                    .flatten()
                    .filter(|c| c.get("name").and_then(Value::as_str) == Some("write_todos"))
                    // A call that failed changed nothing.
                    .filter(|c| {
                        !matches!(
                            c.get("status").and_then(Value::as_str),
                            Some("error" | "cancelled")
                        )
                    })
                    .filter_map(|c| c.pointer("/args/todos").and_then(todo_list))
                    .next_back();
                if let Some(list) = newest {
                    self.todos = Some((self.progress.lines, id.to_string(), list));
                }
            }
            _ => {}
        }
    }

    /// `$rewindTo`: the message `id` and everything after it are gone, and
    /// what was read from them.
    fn rewind(&mut self, id: &str) {
        let Some(at) = self.ids.iter().position(|i| i == id) else {
            return;
        };
        let gone: Vec<String> = self.ids.split_off(at);
        let is_gone = |message: &String| gone.contains(message);
        if self.todos.as_ref().is_some_and(|(_, m, _)| is_gone(m)) {
            self.todos = None;
        }
        if self.first_prompt.as_ref().is_some_and(|(m, _)| is_gone(m)) {
            self.first_prompt = None;
        }
        if self.last_text.as_ref().is_some_and(|(m, _)| is_gone(m)) {
            self.last_text = None;
        }
    }
}

/// A user record's content (a string, or parts with `text`) as the person
/// typed it; `None` for commands (`/…`, `?`) and context Gemini CLI adds.
fn user_text(content: &Value) -> Option<String> {
    let text = match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    let trimmed = text.trim_start();
    let generated = ["/", "?", "<session_context>", "<hook_context>"];
    if generated.iter().any(|p| trimmed.starts_with(p)) {
        return None;
    }
    capped(trimmed)
}

/// `write_todos`' `todos`: `[{description, status}]`. Cancelled items are
/// not work to do; blocked ones still are.
fn todo_list(value: &Value) -> Option<Vec<Todo>> {
    Some(
        value
            .as_array()?
            .iter()
            .filter_map(|item| {
                let content = item.get("description")?.as_str()?.trim();
                let status = match item.get("status")?.as_str()? {
                    "blocked" => TodoStatus::Pending,
                    other => TodoStatus::parse(other)?,
                };
                (!content.is_empty()).then(|| Todo {
                    content: content.to_string(),
                    status,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn chat_todos_first_prompt_model_and_last_text() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/gemini/session.jsonl");
        let findings = jsonl::scan(&path, Chat::default()).findings();
        let todos = findings.todos.expect("write_todos");
        assert_eq!(todos.len(), 3);
        assert_eq!(todos[0].status, TodoStatus::InProgress);
        assert_eq!(
            findings.first_prompt.as_deref(),
            Some("Add a --since <date> filter to `ledger report` and cover it with a test.")
        );
        assert_eq!(findings.model.as_deref(), Some("gemini-2.5-pro"));
        assert!(findings
            .last_text
            .is_some_and(|t| t.contains("tests/report_since.rs")));
    }

    #[test]
    fn rewind_drops_what_the_removed_messages_said() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        for line in [
            r#"{"sessionId":"s","startTime":"x"}"#,
            r#"{"id":"u1","type":"user","content":[{"text":"/help"}]}"#,
            r#"{"id":"u2","type":"user","content":"Rename the crate"}"#,
            r#"{"id":"g1","type":"gemini","content":"","toolCalls":[{"name":"write_todos","status":"success","args":{"todos":[{"description":"a","status":"completed"},{"description":"b","status":"cancelled"}]}}]}"#,
            r#"{"$rewindTo":"g1"}"#,
        ] {
            writeln!(file, "{line}").expect("write");
        }
        let findings = jsonl::scan(file.path(), Chat::default()).findings();
        assert_eq!(findings.first_prompt.as_deref(), Some("Rename the crate"));
        assert_eq!(findings.todos, None, "the list's message was rewound");
    }

    #[test]
    fn older_single_object_chat_is_read_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("session-2026-01-01T00-00-abcdef12.json");
        std::fs::write(
            &path,
            r#"{"sessionId":"s","messages":[{"id":"1","type":"user","content":"Port it"},{"id":"2","type":"gemini","content":"Ported.","model":"gemini-2.0-flash"}]}"#,
        )
        .expect("write");
        let findings = jsonl::scan(&path, Chat::default()).findings();
        assert_eq!(findings.first_prompt.as_deref(), Some("Port it"));
        assert_eq!(findings.last_text.as_deref(), Some("Ported."));
    }
}
