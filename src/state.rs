//! The session state: one versioned value, and its two codecs.
//!
//! A checkpoint records the *whole* state after it (a snapshot, not a delta),
//! twice: as TOML in a git note, and as `Session-*` trailers in the commit
//! message. The trailers travel with the branch through any push; the note is
//! the richer copy and wins when both exist. Both codecs live here so that
//! what one writes the other can read.

use serde::{Deserialize, Serialize};

/// The format version this build writes. Readers accept any older one.
pub const SCHEMA: u32 = 1;

/// Why a path was left out of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Path relative to the work tree root, `/`-separated.
    pub path: String,
    /// `secret`, `too-large`, `nested-repo`, `unsupported-type` (a FIFO,
    /// socket or device where a tracked file was), `bom-prohibited` (a
    /// byte order mark its working-tree-encoding forbids), `invalid-path`
    /// (a name git refuses, such as `.git\hooks\x`) or `unreadable` (a
    /// directory that could not be read).
    pub reason: String,
}

/// Everything a session knows about itself at one checkpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// Format version, see [`SCHEMA`].
    pub schema: u32,
    /// The goal, one paragraph.
    pub task: String,
    /// Branch the state belongs to (empty on a detached HEAD).
    pub branch: String,
    /// Commit where the session's work began, as hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// This checkpoint's one-line summary.
    pub summary: String,
    /// Why the checkpoint was taken: `manual`, `start`, `stop`, …
    pub reason: String,
    /// RFC 3339 time of the checkpoint.
    pub created_at: String,
    /// This checkpoint's number on the branch since the session's start
    /// (1 for `start`), so readers need not walk history to count.
    pub sequence: u32,
    /// Agent that worked, if known (`claude-code`, `codex`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The agent's own session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_session: Option<String>,
    /// The model that worked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub done: Vec<String>,
    pub doing: Vec<String>,
    pub todo: Vec<String>,
    pub decisions: Vec<String>,
    pub notes: Vec<String>,
    pub blockers: Vec<String>,
    /// Paths left out of the snapshot, with the reason. Last, because TOML
    /// writes arrays of tables after plain values.
    pub skipped: Vec<Skipped>,
}

/// Edits requested for one checkpoint, applied to the inherited state.
#[derive(Clone, Debug, Default)]
pub struct Edits {
    pub task: Option<String>,
    pub done: Vec<String>,
    pub doing: Vec<String>,
    pub todo: Vec<String>,
    pub decisions: Vec<String>,
    pub notes: Vec<String>,
    pub blockers: Vec<String>,
    pub unblock: Vec<String>,
}

/// Where an agent's todo list puts an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TodoStatus {
    Pending,
    InProgress,
    Completed,
}

impl TodoStatus {
    /// `pending`, `in_progress`, `completed` (as agents write them).
    pub fn parse(text: &str) -> Option<TodoStatus> {
        match text {
            "pending" => Some(TodoStatus::Pending),
            "in_progress" => Some(TodoStatus::InProgress),
            "completed" => Some(TodoStatus::Completed),
            _ => None,
        }
    }
}

/// A `#N` reference or an item text that names nothing.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("'{reference}' names no open item: there are {open} (see 'git session show')")]
    NoSuchOpenItem { reference: String, open: usize },
    #[error("'{reference}' names no blocker: there are {count} (see 'git session show')")]
    NoSuchBlocker { reference: String, count: usize },
}

impl State {
    /// Open items as `show` numbers them: doing first, then todo.
    pub fn open_items(&self) -> impl Iterator<Item = &String> {
        self.doing.iter().chain(self.todo.iter())
    }

    /// Apply `edits`. Every `#N` refers to the numbering before any edit, so
    /// `--done '#1' --done '#2'` means the first two open items as shown.
    pub fn apply(&mut self, edits: &Edits) -> Result<(), EditError> {
        let open: Vec<String> = self.open_items().cloned().collect();
        let blockers = self.blockers.clone();
        let resolve_open = |item: &str| resolve(item, &open, true);
        let resolve_blocker = |item: &str| resolve(item, &blockers, false);

        if let Some(task) = &edits.task {
            let task = task.trim();
            if !task.is_empty() {
                self.task = task.to_string();
            }
        }
        for item in clean(&edits.done) {
            let item = resolve_open(&item)?;
            self.todo.retain(|t| *t != item);
            self.doing.retain(|t| *t != item);
            push_unique(&mut self.done, item);
        }
        for item in clean(&edits.doing) {
            let item = resolve_open(&item)?;
            self.todo.retain(|t| *t != item);
            self.done.retain(|t| *t != item);
            push_unique(&mut self.doing, item);
        }
        for item in clean(&edits.todo) {
            if !self.doing.contains(&item) {
                push_unique(&mut self.todo, item);
            }
        }
        for item in clean(&edits.decisions) {
            push_unique(&mut self.decisions, item);
        }
        for item in clean(&edits.notes) {
            push_unique(&mut self.notes, item);
        }
        for item in clean(&edits.blockers) {
            push_unique(&mut self.blockers, item);
        }
        for item in clean(&edits.unblock) {
            let item = resolve_blocker(&item)?;
            self.blockers.retain(|b| *b != item);
        }
        Ok(())
    }

    /// Bring an agent's todo list in: completed items to done, in-progress
    /// to doing, pending to todo. An item already in the right list stays
    /// where it is (so the same list twice changes nothing); items the list
    /// does not name, such as those recorded by hand, are kept.
    pub fn merge_todos<'a>(&mut self, todos: impl IntoIterator<Item = (&'a str, TodoStatus)>) {
        for (content, status) in todos {
            let item = content.trim();
            if item.is_empty() {
                continue;
            }
            let target = match status {
                TodoStatus::Completed => &self.done,
                TodoStatus::InProgress => &self.doing,
                TodoStatus::Pending => &self.todo,
            };
            if target.iter().any(|i| i == item) {
                continue;
            }
            for list in [&mut self.done, &mut self.doing, &mut self.todo] {
                list.retain(|i| i != item);
            }
            let target = match status {
                TodoStatus::Completed => &mut self.done,
                TodoStatus::InProgress => &mut self.doing,
                TodoStatus::Pending => &mut self.todo,
            };
            target.push(item.to_string());
        }
    }

    /// True when the parts a person or agent edits are equal. Bookkeeping
    /// (summary, reason, time, skipped) is ignored: a checkpoint that would
    /// change only those is not worth a commit.
    pub fn same_content(&self, other: &State) -> bool {
        self.content() == other.content()
    }

    /// The state without its bookkeeping, for [`State::same_content`]: a
    /// field added to the state is content unless it is cleared here.
    fn content(&self) -> State {
        State {
            schema: 0,
            summary: String::new(),
            reason: String::new(),
            created_at: String::new(),
            sequence: 0,
            skipped: Vec::new(),
            ..self.clone()
        }
    }

    /// The state as TOML, the note's content.
    pub fn to_toml(&self) -> String {
        // Serialising a plain struct of strings and lists cannot fail; fall
        // back to an empty document rather than panic if it ever did.
        toml::to_string(self).unwrap_or_default()
    }

    /// Parse a note. Unknown keys are ignored (a newer writer may add some).
    pub fn from_toml(text: &str) -> Result<State, toml::de::Error> {
        toml::from_str(text)
    }

    /// The `Session-*` trailer lines for this state, one per item, escaped
    /// so that each value is one line that `git interpret-trailers` reads back
    /// verbatim.
    pub fn to_trailers(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![(trailer::SCHEMA, self.schema.to_string())];
        let mut one = |key, value: &str| {
            if !value.is_empty() {
                out.push((key, escape(value)));
            }
        };
        one(trailer::REASON, &self.reason);
        if self.sequence > 0 {
            one(trailer::SEQUENCE, &self.sequence.to_string());
        }
        one(trailer::BRANCH, &self.branch);
        one(trailer::BASE, self.base.as_deref().unwrap_or_default());
        one(trailer::TASK, &self.task);
        one(trailer::AGENT, self.agent.as_deref().unwrap_or_default());
        one(
            trailer::AGENT_SESSION,
            self.agent_session.as_deref().unwrap_or_default(),
        );
        one(trailer::MODEL, self.model.as_deref().unwrap_or_default());
        for (key, list) in [
            (trailer::DONE, &self.done),
            (trailer::DOING, &self.doing),
            (trailer::TODO, &self.todo),
            (trailer::DECISION, &self.decisions),
            (trailer::NOTE, &self.notes),
            (trailer::BLOCKER, &self.blockers),
        ] {
            for item in list {
                one(key, item);
            }
        }
        for skipped in &self.skipped {
            one(
                trailer::SKIPPED,
                &format!("{} {}", skipped.reason, skipped.path),
            );
        }
        out
    }

    /// Rebuild a state from a commit message's trailers. Returns `None` when
    /// the message carries no `Session-Schema` trailer (not a checkpoint).
    /// `summary` and `created_at` are not trailers: the caller fills them in
    /// from the subject and the commit time.
    pub fn from_trailers(message: &str) -> Option<State> {
        let mut state = State::default();
        let mut is_checkpoint = false;
        for (key, value) in parse_trailers(message) {
            let value = unescape(&value);
            match key.to_ascii_lowercase().as_str() {
                "session-schema" => {
                    is_checkpoint = true;
                    state.schema = value.trim().parse().unwrap_or(SCHEMA);
                }
                "session-reason" => state.reason = value,
                "session-sequence" => state.sequence = value.trim().parse().unwrap_or(0),
                "session-branch" => state.branch = value,
                "session-base" => state.base = Some(value),
                "session-task" => state.task = value,
                "session-agent" => state.agent = Some(value),
                "session-agent-session" => state.agent_session = Some(value),
                "session-model" => state.model = Some(value),
                "session-done" => state.done.push(value),
                "session-doing" => state.doing.push(value),
                "session-todo" => state.todo.push(value),
                "session-decision" => state.decisions.push(value),
                "session-note" => state.notes.push(value),
                "session-blocker" => state.blockers.push(value),
                "session-skipped" => {
                    let (reason, path) = value.split_once(' ').unwrap_or(("skipped", &value));
                    state.skipped.push(Skipped {
                        path: path.to_string(),
                        reason: reason.to_string(),
                    });
                }
                _ => {}
            }
        }
        is_checkpoint.then_some(state)
    }
}

/// Trailer keys, as written.
pub mod trailer {
    pub const SCHEMA: &str = "Session-Schema";
    pub const REASON: &str = "Session-Reason";
    pub const SEQUENCE: &str = "Session-Sequence";
    pub const BRANCH: &str = "Session-Branch";
    pub const BASE: &str = "Session-Base";
    pub const TASK: &str = "Session-Task";
    pub const AGENT: &str = "Session-Agent";
    pub const AGENT_SESSION: &str = "Session-Agent-Session";
    pub const MODEL: &str = "Session-Model";
    pub const DONE: &str = "Session-Done";
    pub const DOING: &str = "Session-Doing";
    pub const TODO: &str = "Session-Todo";
    pub const DECISION: &str = "Session-Decision";
    pub const NOTE: &str = "Session-Note";
    pub const BLOCKER: &str = "Session-Blocker";
    pub const SKIPPED: &str = "Session-Skipped";
}

/// Trimmed, non-empty items.
fn clean(items: &[String]) -> impl Iterator<Item = String> + '_ {
    items
        .iter()
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `#N` names the N-th entry of `list` (1-based); anything else is itself.
fn resolve(item: &str, list: &[String], open: bool) -> Result<String, EditError> {
    let Some(n) = item.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) else {
        return Ok(item.to_string());
    };
    match n.checked_sub(1).and_then(|i| list.get(i)) {
        Some(found) => Ok(found.clone()),
        None if open => Err(EditError::NoSuchOpenItem {
            reference: item.to_string(),
            open: list.len(),
        }),
        None => Err(EditError::NoSuchBlocker {
            reference: item.to_string(),
            count: list.len(),
        }),
    }
}

/// Make a value one line: `\` → `\\`, newline → `\n`, CR → `\r`, other
/// control characters → `\u{..}`-free `\xNN`. Leading and trailing blanks
/// (any Unicode white space) would be trimmed by trailer parsers, so they
/// are escaped too.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            // Blanks at either end would be trimmed by trailer parsers.
            '\t' if i == 0 || i == last => out.push_str("\\t"),
            ' ' if i == 0 || i == last => out.push_str("\\x20"),
            '\t' => out.push('\t'),
            // Unicode blanks too (U+00A0, U+3000, …): `str::trim` and the
            // message's own trailing-space trimming would drop them.
            c if c.is_control() || ((i == 0 || i == last) && c.is_whitespace()) => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape`]. Unknown escapes are kept as written.
pub fn unescape(value: &str) -> String {
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match rest.split_first() {
            Some((b'\\', t)) => (bytes.push(b'\\'), rest = t).1,
            Some((b'n', t)) => (bytes.push(b'\n'), rest = t).1,
            Some((b'r', t)) => (bytes.push(b'\r'), rest = t).1,
            Some((b't', t)) => (bytes.push(b'\t'), rest = t).1,
            Some((b'x', t)) if t.len() >= 2 => {
                match std::str::from_utf8(&t[..2])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        bytes.push(v);
                        rest = &t[2..];
                    }
                    None => bytes.push(b'\\'),
                }
            }
            _ => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The trailers of a message: `(key, value)` pairs from its last paragraph,
/// when every line of that paragraph is a `Key: value` line (or a
/// continuation line, which is joined as git does).
pub fn parse_trailers(message: &str) -> Vec<(String, String)> {
    let message = message.trim_end();
    let Some(start) = message.rfind("\n\n") else {
        return Vec::new();
    };
    let block = &message[start + 2..];
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if line.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                None => return Vec::new(),
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Vec::new();
        };
        let key_ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !key_ok {
            return Vec::new();
        }
        out.push((key.to_string(), value.trim().to_string()));
    }
    out
}

/// Render trailer pairs as the lines of the trailer paragraph.
pub fn format_trailers(trailers: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (key, value) in trailers {
        out.push_str(key);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        State {
            schema: SCHEMA,
            task: "Build it\n\nwith care:  \\o/ ".into(),
            branch: "feat/x".into(),
            base: Some("0123abcd".into()),
            reason: "manual".into(),
            sequence: 7,
            done: vec!["a: b".into(), "ü".into()],
            doing: vec!["#hash".into()],
            todo: vec![" lead".into(), "tab\there".into()],
            blockers: vec!["x\r\ny".into()],
            skipped: vec![Skipped {
                path: "dir/.env file".into(),
                reason: "secret".into(),
            }],
            agent: Some("claude-code".into()),
            ..State::default()
        }
    }

    #[test]
    fn same_content_ignores_bookkeeping_and_sees_everything_else() {
        let state = sample();
        let bookkeeping = State {
            schema: state.schema + 1,
            summary: "other".into(),
            reason: "stop".into(),
            created_at: "2030-01-01T00:00:00Z".into(),
            sequence: state.sequence + 1,
            skipped: vec![Skipped {
                path: "x".into(),
                reason: "secret".into(),
            }],
            ..state.clone()
        };
        assert!(state.same_content(&bookkeeping));
        let edited = [
            State {
                task: "other".into(),
                ..state.clone()
            },
            State {
                branch: "other".into(),
                ..state.clone()
            },
            State {
                base: Some("other".into()),
                ..state.clone()
            },
            State {
                model: Some("other".into()),
                ..state.clone()
            },
            State {
                agent_session: Some("other".into()),
                ..state.clone()
            },
            State {
                blockers: vec!["other".into()],
                ..state.clone()
            },
        ];
        for other in edited {
            assert!(!state.same_content(&other), "{other:?}");
        }
    }

    #[test]
    fn trailers_round_trip() {
        let state = sample();
        let message = format!(
            "checkpoint: x\n\nbody\n\n{}",
            format_trailers(&state.to_trailers())
        );
        let back = State::from_trailers(&message).expect("is a checkpoint");
        assert_eq!(back, state);
    }

    #[test]
    fn toml_round_trip() {
        let state = sample();
        assert_eq!(State::from_toml(&state.to_toml()).expect("valid"), state);
    }

    #[test]
    fn not_a_checkpoint_without_schema() {
        assert!(State::from_trailers("fix\n\nSigned-off-by: A <a@b>").is_none());
        assert!(State::from_trailers("just a subject").is_none());
    }

    #[test]
    fn escape_is_one_line_and_reversible() {
        for s in [
            "",
            "a\\nb",
            "\\",
            " x ",
            "\u{7}",
            "line\nline",
            "x\\x41",
            // Found by tests/fuzz.rs: Unicode blanks at the ends were trimmed.
            "\u{a0}",
            "\u{3000}x\u{2028}",
        ] {
            let e = escape(s);
            assert!(!e.contains('\n'), "{e:?}");
            assert_eq!(e.trim(), e, "trailer parsers trim values");
            assert_eq!(unescape(&e), s);
        }
    }

    #[test]
    fn edits_move_items_and_resolve_numbers_before_editing() {
        let mut state = State {
            doing: vec!["d".into()],
            todo: vec!["a".into(), "b".into(), "c".into()],
            blockers: vec!["x".into()],
            ..State::default()
        };
        let edits = Edits {
            done: vec!["#1".into(), "#3".into(), " new ".into()],
            doing: vec!["c".into()],
            todo: vec!["a".into(), "e".into()],
            unblock: vec!["#1".into()],
            ..Edits::default()
        };
        state.apply(&edits).expect("valid edits");
        assert_eq!(state.done, ["d", "b", "new"]);
        assert_eq!(state.doing, ["c"]);
        assert_eq!(state.todo, ["a", "e"]);
        assert!(state.blockers.is_empty());
    }

    #[test]
    fn merging_the_same_todo_list_twice_changes_nothing() {
        let mut state = State {
            todo: vec!["by hand".into(), "a".into()],
            ..State::default()
        };
        let list = [
            ("a", TodoStatus::Completed),
            ("b", TodoStatus::InProgress),
            ("c", TodoStatus::Pending),
        ];
        state.merge_todos(list);
        let once = state.clone();
        state.merge_todos(list);
        assert_eq!(state, once);
        assert_eq!(state.done, ["a"]);
        assert_eq!(state.doing, ["b"]);
        assert_eq!(state.todo, ["by hand", "c"]);
    }

    #[test]
    fn out_of_range_reference_is_an_error() {
        let mut state = State::default();
        let edits = Edits {
            done: vec!["#2".into()],
            ..Edits::default()
        };
        assert!(state.apply(&edits).is_err());
    }
}
