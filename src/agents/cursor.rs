//! Cursor: its hook input, its `hooks.json` (`{"version": 1, "hooks":
//! {"stop": [{"command": …}]}}`, handlers listed flat), and session state
//! from its transcript where it gives one.
//!
//! Cursor's input names no working directory: the repository is the first
//! of `workspace_roots` inside a git work tree, wherever the hook runs
//! (`~/.cursor/` for user hooks). Its transcript format is not documented;
//! it is read defensively as JSON Lines of `{"role", "message": {"content":
//! [blocks]}}`, user prompts wrapped in `<user_query>`, for the first
//! prompt, the newest assistant text and a todo tool's list.
//!
//! Cursor also runs Claude Code's hooks (its third-party hooks setting);
//! `git session hook claude` hands a Cursor input to this file, or leaves
//! it to `git session hook cursor` when that is installed too.

use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::jsonl::{self, capped, LineScan, Progress};
use super::{Action, Findings, HookInput, Integration, Layout, Reading, Scope, Todo};
use crate::state::TodoStatus;

/// Cursor.
pub struct Cursor;

impl Integration for Cursor {
    fn name(&self) -> &'static str {
        "cursor"
    }

    fn display_name(&self) -> &'static str {
        "Cursor"
    }

    fn state_name(&self) -> &'static str {
        "cursor"
    }

    fn hook_input(&self, value: Value) -> anyhow::Result<HookInput> {
        hook_input(value)
    }

    fn events(&self) -> &'static [&'static str] {
        &[
            "sessionStart",
            "beforeSubmitPrompt",
            "stop",
            "preCompact",
            "sessionEnd",
        ]
    }

    fn settings_file(&self, scope: Scope) -> Option<&'static str> {
        match scope {
            Scope::Project | Scope::User => Some(".cursor/hooks.json"),
            Scope::Local => None,
        }
    }

    fn install_hint(&self) -> Option<&'static str> {
        Some("Cursor runs project hooks only in a trusted workspace; with Claude Code's hooks installed too, Cursor runs those as well, and git-session answers once")
    }

    fn layout(&self) -> Layout {
        Layout::Flat
    }

    fn hook_entry(&self, command: &str) -> Value {
        json!({ "command": command })
    }

    fn file_header(&self) -> Option<(&'static str, Value)> {
        Some(("version", json!(1)))
    }

    fn binaries(&self) -> &'static [&'static str] {
        &["cursor-agent", "cursor"]
    }

    /// Only sessionStart takes context (`additional_context`);
    /// beforeSubmitPrompt cannot.
    fn context_output(&self, event: &str, text: &str) -> Option<Value> {
        (action(event) == Action::Context).then(|| json!({ "additional_context": text }))
    }

    fn read_transcript(&self, path: &Path, cache: Option<&[u8]>) -> Option<Reading> {
        Some(jsonl::reading::<Transcript>(path, cache))
    }
}

/// Whether a hook input is Cursor's (sent to a Claude Code hook, which
/// Cursor runs too): it carries `cursor_version` or `conversation_id`.
pub fn is_cursor_input(value: &Value) -> bool {
    value.get("cursor_version").is_some() || value.get("conversation_id").is_some()
}

/// The hook input as Cursor sends it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Input {
    conversation_id: Option<String>,
    /// sessionStart and sessionEnd: the same as `conversation_id`.
    session_id: Option<String>,
    hook_event_name: String,
    workspace_roots: Vec<PathBuf>,
    transcript_path: Option<PathBuf>,
    model: Option<String>,
    /// beforeSubmitPrompt: the prompt.
    prompt: Option<String>,
}

fn hook_input(value: Value) -> anyhow::Result<HookInput> {
    use anyhow::Context as _;
    let input: Input = serde_json::from_value(value)
        .context("the hook input has a field of an unexpected type")?;
    Ok(HookInput {
        action: action(&input.hook_event_name),
        session_id: input.conversation_id.or(input.session_id),
        transcript_path: input.transcript_path.filter(|p| !p.as_os_str().is_empty()),
        cwd: repository_root(&input.workspace_roots),
        model: input
            .model
            .filter(|m| !m.trim().is_empty() && m != "default"),
        last_message: None,
        prompt: input.prompt,
        event: input.hook_event_name,
    })
}

/// Cursor's events (and Claude Code's names for them, as Cursor may send
/// them to a Claude Code hook).
fn action(event: &str) -> Action {
    match event.to_ascii_lowercase().as_str() {
        "sessionstart" => Action::Context,
        "beforesubmitprompt" | "userpromptsubmit" => Action::Prompt,
        "stop" => Action::Checkpoint("stop"),
        "precompact" => Action::Checkpoint("compact"),
        "sessionend" => Action::Checkpoint("session-end"),
        _ => Action::Nothing,
    }
}

/// The first root inside a git work tree (`.git` there or above it);
/// else the first root, whose failure the hook then reports.
fn repository_root(roots: &[PathBuf]) -> Option<PathBuf> {
    let in_git = |root: &&PathBuf| root.ancestors().any(|dir| dir.join(".git").exists());
    roots.iter().find(in_git).or_else(|| roots.first()).cloned()
}

/// What a Cursor transcript says so far, and where reading stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Transcript {
    progress: Progress,
    first_prompt: Option<String>,
    last_text: Option<String>,
    /// The todo list with each item's id (for merging updates), and the
    /// line it was last written on.
    todos: Option<(u64, Vec<Item>)>,
}

/// A todo item and the id the tool gave it.
type Item = (Option<String>, Todo);

impl LineScan for Transcript {
    fn progress(&mut self) -> &mut Progress {
        &mut self.progress
    }

    fn consume(&mut self, line: &[u8]) {
        let user = self.first_prompt.is_none() && line.contains_str("\"user\"");
        if !(user || line.contains_str("\"assistant\"")) {
            return;
        }
        let Ok(value) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        let role = value
            .get("role")
            .or_else(|| value.get("type"))
            .and_then(Value::as_str);
        let blocks: Vec<&Value> = match value.pointer("/message/content") {
            Some(Value::Array(blocks)) => blocks.iter().collect(),
            Some(text @ Value::String(_)) => vec![text],
            _ => Vec::new(),
        };
        let texts = blocks.iter().filter_map(|b| match b {
            Value::String(s) => Some(s.as_str()),
            b if b.get("type").and_then(Value::as_str) == Some("text") => {
                b.get("text").and_then(Value::as_str)
            }
            _ => None,
        });
        match role {
            Some("user") if self.first_prompt.is_none() => {
                let text = texts.collect::<Vec<_>>().join("\n");
                self.first_prompt = capped(user_query(&text));
            }
            Some("assistant") => {
                let text = texts.collect::<Vec<_>>().join("\n");
                if let Some(text) = capped(&text) {
                    self.last_text = Some(text);
                }
                for block in &blocks {
                    self.tool_use(block);
                }
            }
            _ => {}
        }
    }

    fn todos(&self) -> (u64, Option<Vec<Todo>>) {
        match &self.todos {
            Some((line, list)) => (*line, Some(list.iter().map(|(_, t)| t.clone()).collect())),
            None => (0, None),
        }
    }

    fn findings(&self) -> Findings {
        Findings {
            todos: self.todos().1,
            first_prompt: self.first_prompt.clone(),
            model: None,
            last_text: self.last_text.clone(),
        }
    }
}

impl Transcript {
    /// A todo tool call (`todo_write`, or Claude Code's `TodoWrite`):
    /// `{todos: [{id?, content, status}], merge?}`; with `merge`, items
    /// update the list by id and new ones are added.
    fn tool_use(&mut self, block: &Value) {
        if block.get("type").and_then(Value::as_str) != Some("tool_use") {
            return;
        }
        let name = block
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(name, "todo_write" | "TodoWrite" | "todoWrite") {
            return;
        }
        let input = block.get("input").unwrap_or(&Value::Null);
        let Some(items) = input.get("todos").and_then(Value::as_array) else {
            return;
        };
        let items: Vec<Item> = items
            .iter()
            .filter_map(|item| {
                let content = item.get("content")?.as_str()?.trim();
                let status = match item.get("status")?.as_str()? {
                    "cancelled" => return None,
                    other => TodoStatus::parse(other)?,
                };
                let id = item.get("id").and_then(Value::as_str).map(str::to_string);
                (!content.is_empty()).then(|| {
                    (
                        id,
                        Todo {
                            content: content.to_string(),
                            status,
                        },
                    )
                })
            })
            .collect();
        let merge = input.get("merge").and_then(Value::as_bool) == Some(true);
        let mut list = match (&self.todos, merge) {
            (Some((_, list)), true) => list.clone(),
            _ => Vec::new(),
        };
        for (id, todo) in items {
            match list.iter_mut().find(|(old, _)| id.is_some() && *old == id) {
                Some(existing) => existing.1 = todo,
                None => list.push((id, todo)),
            }
        }
        self.todos = Some((self.progress.lines, list));
    }
}

/// The prompt inside Cursor's `<user_query>…</user_query>` wrapper.
fn user_query(text: &str) -> &str {
    let Some(start) = text.find("<user_query>") else {
        return text;
    };
    let inner = &text[start + "<user_query>".len()..];
    inner
        .find("</user_query>")
        .map_or(inner, |end| &inner[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_first_query_and_last_text() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/cursor/transcript.jsonl");
        let findings = jsonl::scan(&path, Transcript::default()).findings();
        assert_eq!(
            findings.first_prompt.as_deref(),
            Some("Add a --since <date> filter to `ledger report` and cover it with a test.")
        );
        assert!(findings
            .last_text
            .is_some_and(|t| t.starts_with("`ledger report --since")));
        assert_eq!(findings.todos, None);
    }

    #[test]
    fn events_by_either_name() {
        assert_eq!(action("stop"), Action::Checkpoint("stop"));
        assert_eq!(action("Stop"), Action::Checkpoint("stop"));
        assert_eq!(action("sessionStart"), Action::Context);
        assert_eq!(action("afterFileEdit"), Action::Nothing);
    }
}
