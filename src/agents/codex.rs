//! Codex CLI: its hook input has Claude Code's shape (and names the model),
//! its hooks live in `hooks.json`, and its transcript is the session's
//! rollout file, `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`.
//!
//! Each rollout line is `{"timestamp", "type", "payload"}`. What is read:
//! the plan (`update_plan` function calls, each carrying the whole plan,
//! so the newest one whose arguments decode wins; redacted or truncated
//! arguments are skipped), the first real user message (Codex's own
//! `user_message` event, else a user message that is not context Codex
//! injected), the model (`turn_context`) and the newest assistant text.
//! Unknown line types, and lines that do not parse, are passed over.
//! Compressed rollouts (`.jsonl.zst`) are not read.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jsonl::{self, capped, LineScan, Progress};
use super::{Findings, HookInput, Integration, Reading, Scope, Todo};
use crate::state::TodoStatus;

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
        Some("Codex runs new hooks only after you review and trust them (/hooks in Codex), and only with `[features] hooks` on in ~/.codex/config.toml: the default in current Codex; older versions need `codex_hooks = true` there")
    }

    fn binaries(&self) -> &'static [&'static str] {
        &["codex"]
    }

    fn locate_transcript(
        &self,
        session: &str,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Option<PathBuf> {
        find_rollout(&codex_home(env)?, session)
    }

    fn read_transcript(&self, path: &Path, cache: Option<&[u8]>) -> Option<Reading> {
        Some(jsonl::reading::<Rollout>(path, cache))
    }
}

/// `$CODEX_HOME`, else `~/.codex`.
pub fn codex_home(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    env("CODEX_HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".codex")))
}

/// The rollout of `session` under `<codex home>/sessions`, newest day
/// first: `YYYY/MM/DD/rollout-<time>-<session>.jsonl`. What Codex does
/// when its own index fails it.
pub fn find_rollout(codex_home: &Path, session: &str) -> Option<PathBuf> {
    // A session id is a UUID: anything else would make a pattern of it.
    if session.is_empty() || !session.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return None;
    }
    let suffix = format!("-{session}.jsonl");
    let newest_first = |dir: &Path| -> Vec<PathBuf> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort_unstable_by(|a, b| b.cmp(a));
        entries
    };
    for year in newest_first(&codex_home.join("sessions")) {
        for month in newest_first(&year) {
            for day in newest_first(&month) {
                let found = newest_first(&day).into_iter().find(|file| {
                    file.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("rollout-") && n.ends_with(&suffix))
                });
                if found.is_some() {
                    return found;
                }
            }
        }
    }
    None
}

/// What a rollout says so far, and where reading stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rollout {
    progress: Progress,
    /// The newest plan that decoded, and the line it is on.
    plan: Option<(u64, Vec<Todo>)>,
    /// The first `user_message` event: the user's words, nothing injected.
    first_event_prompt: Option<String>,
    /// The first user message item that is not injected context (older
    /// rollouts without the event).
    first_item_prompt: Option<String>,
    model: Option<String>,
    last_text: Option<String>,
}

impl LineScan for Rollout {
    fn progress(&mut self) -> &mut Progress {
        &mut self.progress
    }

    fn consume(&mut self, line: &[u8]) {
        // A byte search first: most lines (tool output, reasoning, token
        // counts) hold nothing read here and are never parsed.
        let plan = line.contains_str("\"update_plan\"");
        let context = line.contains_str("\"turn_context\"");
        let prompt = self.first_event_prompt.is_none() && line.contains_str("\"user");
        let text = line.contains_str("\"assistant\"");
        if !(plan || context || prompt || text) {
            return;
        }
        let Ok(value) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        let payload = value.get("payload").unwrap_or(&Value::Null);
        let payload_type = payload.get("type").and_then(Value::as_str);
        match value.get("type").and_then(Value::as_str) {
            Some("turn_context") => {
                if let Some(model) = payload.get("model").and_then(Value::as_str) {
                    if !model.trim().is_empty() {
                        self.model = Some(model.trim().to_string());
                    }
                }
            }
            Some("event_msg")
                if payload_type == Some("user_message") && self.first_event_prompt.is_none() =>
            {
                self.first_event_prompt = payload
                    .get("message")
                    .and_then(Value::as_str)
                    .and_then(user_words);
            }
            Some("response_item") => match payload_type {
                Some("function_call")
                    if payload.get("name").and_then(Value::as_str) == Some("update_plan") =>
                {
                    if let Some(list) = payload.get("arguments").and_then(plan_of) {
                        self.plan = Some((self.progress.lines, list));
                    }
                }
                Some("message") => self.message(payload),
                _ => {}
            },
            _ => {}
        }
    }

    fn todos(&self) -> (u64, Option<Vec<Todo>>) {
        match &self.plan {
            Some((line, list)) => (*line, Some(list.clone())),
            None => (0, None),
        }
    }

    fn findings(&self) -> Findings {
        Findings {
            todos: self.plan.as_ref().map(|(_, list)| list.clone()),
            first_prompt: self
                .first_event_prompt
                .clone()
                .or_else(|| self.first_item_prompt.clone()),
            model: self.model.clone(),
            last_text: self.last_text.clone(),
        }
    }
}

impl Rollout {
    /// A `message` item: the assistant's text, or a user's words.
    fn message(&mut self, payload: &Value) {
        let role = payload.get("role").and_then(Value::as_str);
        let items = payload
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        match role {
            Some("assistant") => {
                let text: Vec<&str> = items
                    .filter(|i| i.get("type").and_then(Value::as_str) == Some("output_text"))
                    .filter_map(|i| i.get("text").and_then(Value::as_str))
                    .collect();
                if let Some(text) = capped(&text.join("\n")) {
                    self.last_text = Some(text);
                }
            }
            Some("user") if self.first_item_prompt.is_none() => {
                let words: Vec<String> = items
                    .filter(|i| i.get("type").and_then(Value::as_str) == Some("input_text"))
                    .filter_map(|i| i.get("text").and_then(Value::as_str))
                    .filter_map(user_words)
                    .collect();
                self.first_item_prompt = capped(&words.join("\n"));
            }
            _ => {}
        }
    }
}

/// The context Codex sends as user messages, by how each part starts:
/// AGENTS.md, the environment, skills, shell commands, and the rest of
/// its own list (compared ignoring case, as Codex does).
const INJECTED: &[&str] = &[
    "# agents.md instructions for",
    "<user_instructions>",
    "<environment_context>",
    "<permissions instructions>",
    "<skill>",
    "<user_shell_command>",
    "<turn_aborted>",
    "<subagent_notification>",
    "<additional_context>",
];

/// Older Codex sent the instructions and the request in one message,
/// the request after this line.
const REQUEST_MARKER: &str = "## My request for Codex:";

/// A user text as the person wrote it; `None` for context Codex injected.
fn user_words(text: &str) -> Option<String> {
    let text = match text.find(REQUEST_MARKER) {
        Some(at) => &text[at + REQUEST_MARKER.len()..],
        None => text,
    };
    let start = text.trim_start();
    let head: String = start.chars().take(40).collect::<String>().to_lowercase();
    if INJECTED.iter().any(|tag| head.starts_with(tag)) {
        return None;
    }
    capped(start)
}

/// `update_plan`'s arguments, a JSON string (an object in some logs):
/// `{"explanation"?, "plan": [{"step", "status"}]}` → the list. `None`
/// when they do not decode, or an item does not: Codex refused that call,
/// so the plan stayed as it was.
fn plan_of(arguments: &Value) -> Option<Vec<Todo>> {
    let decoded;
    let arguments = match arguments {
        Value::String(text) => {
            decoded = serde_json::from_str::<Value>(text).ok()?;
            &decoded
        }
        object @ Value::Object(_) => object,
        _ => return None,
    };
    arguments
        .get("plan")?
        .as_array()?
        .iter()
        .map(|item| {
            let step = item.get("step")?.as_str()?.trim();
            let status = TodoStatus::parse(item.get("status")?.as_str()?)?;
            (!step.is_empty()).then(|| Todo {
                content: step.to_string(),
                status,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn fixture() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/codex/rollout.jsonl")
    }

    fn statuses(todos: &[Todo]) -> Vec<(&str, TodoStatus)> {
        todos
            .iter()
            .map(|t| (t.content.as_str(), t.status))
            .collect()
    }

    #[test]
    fn rollout_newest_decodable_plan_first_user_message_and_model() {
        let scan = jsonl::scan(&fixture(), Rollout::default());
        let findings = scan.findings();
        assert_eq!(
            statuses(&findings.todos.expect("a plan")),
            [
                ("Add --since flag to the report CLI", TodoStatus::Completed),
                (
                    "Filter ledger entries by date in report::build",
                    TodoStatus::Completed
                ),
                (
                    "Add an integration test for --since",
                    TodoStatus::InProgress
                ),
            ],
            "call_plan_03: the truncated call_plan_04 after it is skipped"
        );
        assert_eq!(
            findings.first_prompt.as_deref(),
            Some("Add a `--since <date>` filter to `ledger report` and cover it with a test.")
        );
        assert_eq!(findings.model.as_deref(), Some("gpt-5-codex"));
        assert!(findings
            .last_text
            .is_some_and(|t| t.starts_with("`ledger report --since 2026-01-01`")));
    }

    #[test]
    fn injected_context_is_not_the_task() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        for line in [
            r#"{"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<user_instructions>\nbe brief\n</user_instructions>"},{"type":"input_text","text":"<ENVIRONMENT_CONTEXT>\n<cwd>/x</cwd>\n</ENVIRONMENT_CONTEXT>"}]}}"#,
            r#"{"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<user_instructions>x</user_instructions>\n\n## My request for Codex:\nFix the flaky test"}]}}"#,
            r#"{"type":"response_item","payload":{"type":"function_call","name":"update_plan","arguments":"{\"plan\":[{\"step\":\"a\",\"status\":\"done\"}]}","call_id":"c"}}"#,
        ] {
            writeln!(file, "{line}").expect("write");
        }
        let findings = jsonl::scan(file.path(), Rollout::default()).findings();
        assert_eq!(findings.first_prompt.as_deref(), Some("Fix the flaky test"));
        assert_eq!(findings.todos, None, "an unknown status: Codex refused it");
    }

    #[test]
    fn rollout_is_found_by_session_id() {
        let home = tempfile::tempdir().expect("temp dir");
        let id = "0199c3f2-5d1e-7a40-9b2c-4e8f10a2d6b7";
        for (day, name) in [
            (
                "2026/08/19",
                "rollout-2026-08-19T10-00-00-0000aaaa-0000-0000-0000-000000000000.jsonl",
            ),
            (
                "2026/08/20",
                &*format!("rollout-2026-08-20T11-14-02-{id}.jsonl"),
            ),
        ] {
            let dir = home.path().join("sessions").join(day);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join(name), "").expect("write");
        }
        let found = find_rollout(home.path(), id).expect("found");
        assert!(found.ends_with(format!("2026/08/20/rollout-2026-08-20T11-14-02-{id}.jsonl")));
        assert_eq!(find_rollout(home.path(), "0199c3f2-ffff"), None);
        assert_eq!(find_rollout(home.path(), "../x"), None);
    }
}
