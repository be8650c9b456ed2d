//! Claude Code: its hook input, its settings files, and session state from
//! its transcript (JSON Lines).
//!
//! What the transcript gives: the newest todo list (a `TodoWrite` call, or
//! the `TaskCreate`/`TaskUpdate` calls replayed, whichever is newer), the
//! first real user prompt (as the task when the state has none), and the
//! model.
//!
//! Transcripts grow to hundreds of megabytes and the Stop hook runs after
//! every turn, so the reader is incremental: it keeps its findings and the
//! byte offset it reached in a small cache file and reads only what was
//! appended since. Lines are filtered by a byte search before any JSON is
//! parsed, and only complete (newline-terminated) lines are consumed, so a
//! line still being written is read next time. Unknown line types,
//! malformed lines and a missing file are tolerated.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use gix::bstr::ByteSlice;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Action, Findings, HookInput, Integration, Reading, Scope, Todo};
use crate::state::TodoStatus;

/// The longest task taken from a prompt; the rest is cut at a word.
const MAX_TASK_CHARS: usize = 4000;

/// Claude Code.
pub struct Claude;

impl Integration for Claude {
    fn name(&self) -> &'static str {
        "claude"
    }

    fn display_name(&self) -> &'static str {
        "Claude Code"
    }

    fn state_name(&self) -> &'static str {
        "claude-code"
    }

    fn hook_input(&self, value: Value) -> anyhow::Result<HookInput> {
        hook_input(value)
    }

    fn events(&self) -> &'static [&'static str] {
        &[
            "SessionStart",
            "UserPromptSubmit",
            "Stop",
            "PreCompact",
            "SessionEnd",
        ]
    }

    fn settings_file(&self, scope: Scope) -> Option<&'static str> {
        Some(match scope {
            Scope::Project | Scope::User => ".claude/settings.json",
            Scope::Local => ".claude/settings.local.json",
        })
    }

    fn read_transcript(&self, path: &Path, cache: Option<&[u8]>) -> Option<Reading> {
        let cached: Option<Scan> = cache.and_then(|bytes| serde_json::from_slice(bytes).ok());
        let previous = cached
            .as_ref()
            .map(|cached| (cached.todos_line(), cached.todos()));
        let scan = scan(path, cached);
        // Seen: written on the same line as last time, and the same list (a
        // transcript started over could have another list on that line).
        let todos_seen = previous
            .as_ref()
            .is_some_and(|(line, list)| *line == scan.todos_line() && *list == scan.todos());
        Some(Reading {
            previous_todos: previous.and_then(|(_, list)| list),
            todos_seen,
            findings: scan.findings(),
            cache: serde_json::to_vec(&scan).unwrap_or_default(),
        })
    }
}

/// The hook input as Claude Code sends it (Codex sends the same shape);
/// unknown fields are ignored, missing ones are empty.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Input {
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
    /// Stop (Claude Code 2.1.47+, Codex): the agent's final message of the
    /// turn. SubagentStop's is the subagent's, and is not taken.
    pub last_assistant_message: Option<String>,
    /// UserPromptSubmit: the prompt.
    pub prompt: Option<String>,
}

/// A hook input of Claude Code's shape, agent-neutral.
pub fn hook_input(value: Value) -> anyhow::Result<HookInput> {
    let input: Input = serde_json::from_value(value)
        .context("the hook input has a field of an unexpected type")?;
    let last_message = (input.hook_event_name == "Stop")
        .then_some(input.last_assistant_message)
        .flatten()
        .filter(|m| !m.trim().is_empty());
    Ok(HookInput {
        action: action(&input.hook_event_name),
        event: input.hook_event_name,
        session_id: input.session_id,
        transcript_path: input.transcript_path,
        cwd: input.cwd,
        model: input.model,
        last_message,
        prompt: input.prompt,
    })
}

/// What Claude Code's hook events ask of us.
pub fn action(event: &str) -> Action {
    match event {
        "SessionStart" => Action::Context,
        "UserPromptSubmit" => Action::Prompt,
        "Stop" | "SubagentStop" => Action::Checkpoint("stop"),
        "PreCompact" => Action::Checkpoint("compact"),
        "SessionEnd" => Action::Checkpoint("session-end"),
        _ => Action::Nothing,
    }
}

/// A task from the Task tools, by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Task {
    id: String,
    subject: String,
    status: TodoStatus,
    /// The `tool_use` id of the TaskCreate call, to find the task when its
    /// result names the id Claude Code gave it.
    #[serde(default)]
    call: Option<String>,
}

/// What the transcript says so far, and where reading stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scan {
    /// The transcript this scan belongs to.
    path: String,
    /// Bytes consumed: everything before this offset has been read.
    offset: u64,
    /// Lines consumed, to order TodoWrite against Task calls.
    lines: u64,
    todo_write: Option<(u64, Vec<Todo>)>,
    tasks: Vec<Task>,
    tasks_line: u64,
    /// The highest task number handed out so far: Claude Code never reuses
    /// the number of a deleted task.
    last_task_id: u64,
    /// The first real user prompt.
    pub first_prompt: Option<String>,
    /// The newest model named.
    pub model: Option<String>,
    /// The newest text block of the main agent (not a subagent's).
    pub last_text: Option<String>,
}

impl Scan {
    /// The findings, as every agent's reader gives them.
    pub fn findings(&self) -> Findings {
        Findings {
            todos: self.todos(),
            first_prompt: self.first_prompt.clone(),
            model: self.model.clone(),
            last_text: self.last_text.clone(),
        }
    }

    /// The newest todo list, if the agent kept one.
    pub fn todos(&self) -> Option<Vec<Todo>> {
        let from_tasks = (!self.tasks.is_empty()).then(|| {
            self.tasks
                .iter()
                .map(|t| Todo {
                    content: t.subject.clone(),
                    status: t.status,
                })
                .collect::<Vec<_>>()
        });
        match (&self.todo_write, from_tasks) {
            (Some((line, list)), Some(tasks)) => Some(if *line > self.tasks_line {
                list.clone()
            } else {
                tasks
            }),
            (Some((_, list)), None) => Some(list.clone()),
            (None, tasks) => tasks,
        }
    }

    /// The line the newest todo list was written on (a TodoWrite call, or
    /// the last Task call), 0 when there is none: a list is new to a reader
    /// when this moved.
    pub fn todos_line(&self) -> u64 {
        let written = self.todo_write.as_ref().map_or(0, |(line, _)| *line);
        written.max(self.tasks_line)
    }

    /// Continue `self` (a scan of `path` from a cache, or a fresh one) to
    /// the end of the file. A file that shrank was replaced: start over.
    pub fn update(mut self, path: &Path) -> std::io::Result<Scan> {
        let path_text = path.to_string_lossy().into_owned();
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        if self.path != path_text || len < self.offset {
            self = Scan {
                path: path_text,
                ..Scan::default()
            };
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 || line.last() != Some(&b'\n') {
                // End of file, or a last line still being written.
                break;
            }
            self.offset += n as u64;
            self.lines = self.lines.saturating_add(1);
            self.consume(&line);
        }
        Ok(self)
    }

    fn consume(&mut self, line: &[u8]) {
        let todo_write = line.contains_str("\"TodoWrite\"") || line.contains_str("\"newTodos\"");
        let task_tool = line.contains_str("\"TaskCreate\"") || line.contains_str("\"TaskUpdate\"");
        // TaskCreate's result names the id given: `"toolUseResult":{"task":{"id":"7",…}}`.
        let task_created = !self.tasks.is_empty()
            && line.contains_str("\"toolUseResult\"")
            && line.contains_str("\"task\"");
        let maybe_prompt = self.first_prompt.is_none() && line.contains_str("\"user\"");
        let maybe_text =
            line.contains_str("\"assistant\"") && line.contains_str("\"type\":\"text\"");
        if let Some(model) = model_of(line) {
            self.model = Some(model);
        }
        if !(todo_write || task_tool || task_created || maybe_prompt || maybe_text) {
            return;
        }
        let Ok(value) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        if maybe_prompt {
            if let Some(prompt) = user_prompt(&value) {
                self.first_prompt = Some(prompt);
            }
        }
        if maybe_text {
            if let Some(text) = assistant_text(&value) {
                self.last_text = Some(text);
            }
        }
        for call in tool_uses(&value) {
            let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
            let input = call.get("input").unwrap_or(&Value::Null);
            match name {
                "TodoWrite" => {
                    if let Some(list) = input.get("todos").and_then(todo_list) {
                        self.todo_write = Some((self.lines, list));
                    }
                }
                "TaskCreate" => self.task_create(input, call.get("id").and_then(Value::as_str)),
                "TaskUpdate" => self.task_update(input),
                _ => {}
            }
        }
        if task_created {
            self.task_created(&value);
        }
        // The tool result repeats the list; it serves when the call was cut.
        if let Some(list) = value.pointer("/toolUseResult/newTodos").and_then(todo_list) {
            if self
                .todo_write
                .as_ref()
                .is_none_or(|(l, _)| *l < self.lines)
            {
                self.todo_write = Some((self.lines, list));
            }
        }
    }

    fn task_create(&mut self, input: &Value, call: Option<&str>) {
        let subject = input
            .get("subject")
            .or_else(|| input.get("description"))
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if subject.is_empty() {
            return;
        }
        // Claude Code numbers tasks 1, 2, 3, … in creation order, without
        // reusing a deleted task's number; the result line, when there is
        // one, corrects the guess (a task list shared across sessions does
        // not start at 1).
        let numbered = self.tasks.iter().filter_map(|t| t.id.parse::<u64>().ok());
        self.last_task_id = numbered.fold(self.last_task_id, u64::max).saturating_add(1);
        self.tasks.push(Task {
            id: self.last_task_id.to_string(),
            subject: subject.to_string(),
            status: TodoStatus::Pending,
            call: call.map(str::to_string),
        });
        self.tasks_line = self.lines;
    }

    /// A TaskCreate result: give the task the id Claude Code gave it.
    fn task_created(&mut self, value: &Value) {
        let id = match value.pointer("/toolUseResult/task/id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return,
        };
        let call = value
            .pointer("/message/content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|block| block.get("tool_use_id").and_then(Value::as_str));
        let subject = value
            .pointer("/toolUseResult/task/subject")
            .and_then(Value::as_str)
            .map(str::trim);
        let by_call = call.and_then(|c| {
            self.tasks
                .iter()
                .rposition(|t| t.call.as_deref() == Some(c))
        });
        let found = by_call
            .or_else(|| subject.and_then(|s| self.tasks.iter().rposition(|t| t.subject == s)));
        let Some(index) = found else {
            return;
        };
        if let Ok(n) = id.parse::<u64>() {
            self.last_task_id = self.last_task_id.max(n);
        }
        self.tasks[index].id = id;
    }

    fn task_update(&mut self, input: &Value) {
        let id = match input.get("taskId").or_else(|| input.get("id")) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return,
        };
        let status = input.get("status").and_then(Value::as_str);
        if status == Some("deleted") {
            self.tasks.retain(|t| t.id != id);
            self.tasks_line = self.lines;
            return;
        }
        let Some(task) = self.tasks.iter_mut().find(|t| t.id == id) else {
            return;
        };
        if let Some(status) = status.and_then(TodoStatus::parse) {
            task.status = status;
        }
        if let Some(subject) = input.get("subject").and_then(Value::as_str) {
            if !subject.trim().is_empty() {
                task.subject = subject.trim().to_string();
            }
        }
        self.tasks_line = self.lines;
    }
}

/// Read the transcript at `path`, continuing `cached` when it belongs to
/// the same file. A missing or unreadable file yields the cached findings.
pub fn scan(path: &Path, cached: Option<Scan>) -> Scan {
    let cached = cached.unwrap_or_default();
    match cached.clone().update(path) {
        Ok(scan) => scan,
        Err(_) => cached,
    }
}

/// `{"todos": [{content, status}]}` → items; `None` unless it is a list.
fn todo_list(value: &Value) -> Option<Vec<Todo>> {
    let items = value.as_array()?;
    Some(
        items
            .iter()
            .filter_map(|item| {
                let content = item.get("content")?.as_str()?.trim();
                let status = TodoStatus::parse(item.get("status")?.as_str()?)?;
                (!content.is_empty()).then(|| Todo {
                    content: content.to_string(),
                    status,
                })
            })
            .collect(),
    )
}

/// The `tool_use` blocks of an assistant message.
fn tool_uses(value: &Value) -> impl Iterator<Item = &Value> {
    value
        .pointer("/message/content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))
}

/// The text blocks of a main-agent assistant line, joined; `None` for a
/// subagent's line (a sidechain) or a line with no text.
fn assistant_text(value: &Value) -> Option<String> {
    if value.get("type").and_then(Value::as_str) != Some("assistant")
        || value.get("isSidechain").and_then(Value::as_bool) == Some(true)
    {
        return None;
    }
    let text = value
        .pointer("/message/content")?
        .as_array()?
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| cap(text))
}

/// The text of a user line that a person typed: not a tool result, not a
/// meta line, not a slash command's echo.
fn user_prompt(value: &Value) -> Option<String> {
    if value.get("type").and_then(Value::as_str) != Some("user")
        || value.get("isMeta").and_then(Value::as_bool) == Some(true)
        || value.get("isSidechain").and_then(Value::as_bool) == Some(true)
        // "This session is being continued from a previous conversation…"
        || value.get("isCompactSummary").and_then(Value::as_bool) == Some(true)
    {
        return None;
    }
    let content = value.pointer("/message/content")?;
    let text = match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    let text = text.trim();
    let generated = [
        "<command-",
        "<local-command-",
        "<system-reminder>",
        "Caveat:",
    ];
    if text.is_empty() || generated.iter().any(|p| text.starts_with(p)) {
        return None;
    }
    Some(cap(text))
}

fn cap(text: &str) -> String {
    if text.chars().count() <= MAX_TASK_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_TASK_CHARS).collect();
    let cut = cut
        .rsplit_once(char::is_whitespace)
        .map_or(cut.as_str(), |(head, _)| head);
    format!("{cut} …")
}

/// `"model":"claude-…"` found by a byte search, without parsing the line
/// (assistant lines are the large ones). The message's own `model` comes
/// before its content, so the first match is it, not a `"model":"haiku"`
/// in a subagent call's input.
fn model_of(line: &[u8]) -> Option<String> {
    const KEY: &str = "\"model\":\"";
    if !line.contains_str("\"type\":\"assistant\"") {
        return None;
    }
    let start = line.find(KEY)? + KEY.len();
    let rest = &line[start..];
    let end = rest.find_byte(b'"')?;
    let model = std::str::from_utf8(&rest[..end]).ok()?;
    let plausible = !model.is_empty()
        && model.len() < 100
        && model
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:/@[]".contains(&b));
    // `<synthetic>` marks messages Claude Code made up itself.
    plausible.then(|| model.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn write(lines: &[&str]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        for line in lines {
            writeln!(file, "{line}").expect("write");
        }
        file
    }

    #[test]
    fn newest_todo_write_and_first_prompt() {
        let file = write(&[
            r#"{"type":"summary","summary":"x"}"#,
            r#"{"type":"user","isMeta":true,"message":{"role":"user","content":"<command-name>/init</command-name>"}}"#,
            r#"{"type":"user","isCompactSummary":true,"isVisibleInTranscriptOnly":true,"message":{"role":"user","content":"This session is being continued from a previous conversation that ran out of context."}}"#,
            r#"{"type":"user","message":{"role":"user","content":"Add a dark mode"}}"#,
            r#"{"type":"assistant","message":{"model":"claude-x-1","content":[{"type":"tool_use","id":"t1","name":"TodoWrite","input":{"todos":[{"content":"a","status":"pending","activeForm":"A"}]}}]}}"#,
            r#"not json at all"#,
            r#"{"type":"assistant","message":{"model":"claude-x-2","content":[{"type":"tool_use","id":"t2","name":"TodoWrite","input":{"todos":[{"content":"a","status":"completed"},{"content":"b","status":"in_progress"}]}}]}}"#,
        ]);
        let scan = scan(file.path(), None);
        assert_eq!(scan.first_prompt.as_deref(), Some("Add a dark mode"));
        assert_eq!(scan.model.as_deref(), Some("claude-x-2"));
        let todos = scan.todos().expect("a list");
        assert_eq!(todos.len(), 2);
        assert_eq!(todos[0].status, TodoStatus::Completed);
        assert_eq!(todos[1].status, TodoStatus::InProgress);
    }

    #[test]
    fn incremental_reads_only_appended_complete_lines() {
        let mut file = write(&[r#"{"type":"user","message":{"content":"first"}}"#]);
        let first = scan(file.path(), None);
        let offset = first.offset;
        write!(file, r#"{{"type":"assistant","message":{{"content":[{{"type":"tool_use","name":"TaskCreate","input":{{"subject":"s"}}}}]}}}}"#)
            .expect("write");
        let partial = scan(file.path(), Some(first));
        assert_eq!(
            partial.offset, offset,
            "an unterminated line is not consumed"
        );
        writeln!(file).expect("write");
        let done = scan(file.path(), Some(partial));
        assert_eq!(done.todos().map(|t| t.len()), Some(1));
        assert_eq!(done.first_prompt.as_deref(), Some("first"));
    }

    #[test]
    fn task_tools_replay() {
        let file = write(&[
            r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"TaskCreate","input":{"subject":"one"}},{"type":"tool_use","name":"TaskCreate","input":{"subject":"two"}}]}}"#,
            r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"TaskUpdate","input":{"taskId":"1","status":"completed"}}]}}"#,
            r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"TaskUpdate","input":{"taskId":"2","status":"deleted"}}]}}"#,
        ]);
        let todos = scan(file.path(), None).todos().expect("tasks");
        assert_eq!(
            todos,
            vec![Todo {
                content: "one".into(),
                status: TodoStatus::Completed
            }]
        );
    }

    /// Assert the todo list read from `file`, as (content, status).
    fn assert_statuses(file: &tempfile::NamedTempFile, expected: &[(&str, TodoStatus)]) {
        let todos = scan(file.path(), None).todos().expect("tasks");
        let statuses: Vec<_> = todos
            .iter()
            .map(|t| (t.content.as_str(), t.status))
            .collect();
        assert_eq!(statuses, expected);
    }

    #[test]
    fn task_numbers_are_not_reused_and_results_name_the_id() {
        // Regression: ids were the list length + 1, so a task created after
        // a deletion took a live task's number.
        let file = write(&[
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","name":"TaskCreate","input":{"subject":"one"}},{"type":"tool_use","name":"TaskCreate","input":{"subject":"two"}},{"type":"tool_use","name":"TaskCreate","input":{"subject":"three"}}]}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","name":"TaskUpdate","input":{"taskId":"2","status":"deleted"}}]}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","name":"TaskCreate","input":{"subject":"four"}}]}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","name":"TaskUpdate","input":{"taskId":"4","status":"in_progress"}},{"type":"tool_use","name":"TaskUpdate","input":{"taskId":"3","status":"completed"}}]}}"#,
        ]);
        assert_statuses(
            &file,
            &[
                ("one", TodoStatus::Pending),
                ("three", TodoStatus::Completed),
                ("four", TodoStatus::InProgress),
            ],
        );

        // A task list shared with earlier sessions: Claude Code says #7.
        let file = write(&[
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"toolu_a","name":"TaskCreate","input":{"subject":"seven"}}]}}"#,
            r#"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_a","type":"tool_result","content":"Task #7 created successfully: seven"}]},"toolUseResult":{"task":{"id":"7","subject":"seven"}}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"toolu_b","name":"TaskCreate","input":{"subject":"eight"}}]}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","name":"TaskUpdate","input":{"taskId":"7","status":"completed"}},{"type":"tool_use","name":"TaskUpdate","input":{"taskId":"8","status":"in_progress"}}]}}"#,
        ]);
        assert_statuses(
            &file,
            &[
                ("seven", TodoStatus::Completed),
                ("eight", TodoStatus::InProgress),
            ],
        );
    }

    #[test]
    fn model_is_the_messages_not_a_subagent_calls() {
        let file = write(&[
            r#"{"type":"assistant","message":{"id":"m","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"t","name":"Task","input":{"description":"d","prompt":"p","subagent_type":"Explore","model":"haiku"}}]}}"#,
            r#"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"t","type":"tool_result","content":"x"}]},"toolUseResult":{"model":"haiku"}}"#,
        ]);
        assert_eq!(
            scan(file.path(), None).model.as_deref(),
            Some("claude-sonnet-4-5")
        );
    }

    #[test]
    fn missing_file_keeps_cached_findings() {
        let cached = Scan {
            first_prompt: Some("kept".into()),
            ..Scan::default()
        };
        let scan = scan(Path::new("/nonexistent/transcript.jsonl"), Some(cached));
        assert_eq!(scan.first_prompt.as_deref(), Some("kept"));
    }
}
