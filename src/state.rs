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
    /// byte order mark its working-tree-encoding forbids), `filter-failed`
    /// (a required clean filter failed), `invalid-path` (a name git
    /// refuses, such as `.git\hooks\x`) or `unreadable` (a directory that
    /// could not be read).
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
    /// The checkpoint whose state this one inherited, as hex. A rebase
    /// leaves it naming the commit before the rebase, which is how a reader
    /// tells a rewritten line of checkpoints (see
    /// [`crate::history::History::with_sessions`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Agent that worked, if known (`claude-code`, `codex`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The agent's own session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_session: Option<String>,
    /// The model that worked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The branch whose session this one continues (`git session
    /// continue`), when it was brought over from another branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continues: Option<String>,
    /// The agent's own account of its last turn (its last message),
    /// redacted and capped: see [`report_text`]. Empty when none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub report: String,
    /// The checkpoint a `restore` checkpoint brought back, as hex; on no
    /// other checkpoint (the next one does not inherit it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<String>,
    pub done: Vec<String>,
    pub doing: Vec<String>,
    pub todo: Vec<String>,
    pub decisions: Vec<String>,
    pub notes: Vec<String>,
    pub blockers: Vec<String>,
    /// The number of each open item, `#N`, in the order `doing` then
    /// `todo` list them. An item keeps its number while it is open, how
    /// ever the lists around it change; a new item gets one more than the
    /// largest number in use. Empty in states written before numbers
    /// (they read as 1, 2, … in that order, as they were shown then):
    /// see [`State::open`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<u32>,
    /// Checkpoints of other sessions on the branch whose state this line
    /// of checkpoints took in (see [`State::merge_from`]), each as
    /// `SEQUENCE AUTHOR-TIME`, which a rebase does not change: so the walk
    /// knows them seen and does not merge them again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<String>,
    /// Paths left out of the snapshot, with the reason. Last, because TOML
    /// writes arrays of tables after plain values.
    pub skipped: Vec<Skipped>,
}

/// The longest report kept, in characters: about a screen of text, enough
/// for "what I did, what is left", short enough for a commit trailer.
pub const MAX_REPORT_CHARS: usize = 2000;

/// An agent's last message as the state records it: secrets redacted (see
/// [`crate::redact`]), white space at the ends trimmed, and at most
/// [`MAX_REPORT_CHARS`] characters, cut after the last sentence that fits
/// (or at a word, with `…`, when no sentence ends in its second half).
pub fn report_text(raw: &str) -> String {
    let text = crate::redact::redact(raw.trim());
    let text = text.trim();
    if text.chars().count() <= MAX_REPORT_CHARS {
        return text.to_string();
    }
    let end = text
        .char_indices()
        .nth(MAX_REPORT_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..end];
    // The end of the last whole sentence: `.`, `!` or `?` before a blank,
    // or a line break.
    let sentence = head
        .char_indices()
        .rev()
        .find(|&(i, c)| {
            c == '\n'
                || matches!(c, '.' | '!' | '?')
                    && head[i + c.len_utf8()..].starts_with(char::is_whitespace)
        })
        .map(|(i, c)| i + c.len_utf8())
        .filter(|&i| i >= end / 2);
    match sentence {
        Some(i) => head[..i].trim_end().to_string(),
        None => {
            let word = head.rfind(char::is_whitespace).unwrap_or(head.len());
            format!("{} …", head[..word].trim_end())
        }
    }
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
    /// Items to remove, from any list (text, or `#N` for an open item).
    pub drop: Vec<String>,
    /// `ITEM=NEW TEXT`: an item's text replaced in place (ITEM as for
    /// `drop`); an open item keeps its number.
    pub edit: Vec<String>,
}

/// One open item as every command shows it: its number, text, and
/// whether it is in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenItem<'a> {
    pub number: u32,
    pub text: &'a String,
    pub doing: bool,
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
    #[error("'{reference}' names no open item: the open items are {open}")]
    NoSuchOpenItem { reference: String, open: String },
    #[error("'{reference}' names no blocker: there {}", count_is(*.count, "blocker"))]
    NoSuchBlocker { reference: String, count: usize },
    /// `--drop`/`--edit` of a text that is in no list.
    #[error("'{reference}' names no item: no done, in-progress or to-do item has that text")]
    NoSuchItem { reference: String },
    /// `#x`, `1`: looks like a number, is none and names nothing.
    #[error("'{reference}' is not an item reference: write an open item's number as '#N' (with the '#')")]
    NotAReference { reference: String },
    #[error("'{edit}' is not ITEM=NEW TEXT")]
    BadEdit { edit: String },
}

fn count_is(count: usize, what: &str) -> String {
    match count {
        0 => format!("are no {what}s"),
        1 => format!("is 1 {what}"),
        n => format!("are {n} {what}s"),
    }
}

impl EditError {
    /// What to do about it, for [`crate::error::Error`]'s hints.
    pub fn hint(&self) -> String {
        match self {
            EditError::NotAReference { reference } => {
                let digits = reference.trim_start_matches('#');
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    format!("did you mean '#{digits}'? 'git session show' numbers the open items")
                } else {
                    "'git session show' numbers the open items; a new item's text cannot be only a number or start with '#' followed by no number".into()
                }
            }
            EditError::BadEdit { .. } => {
                "write --edit '#N=new text' (or 'old text=new text')".into()
            }
            _ => "'git session show' lists the items and numbers the open ones".into(),
        }
    }
}

/// How a reference to an item resolves.
enum Found {
    /// An item of `done`, `doing` or `todo` (list 0, 1, 2), at `index`.
    Item { list: usize, index: usize },
    /// No item: the reference is a new item's text.
    New,
}

impl State {
    /// The open items in number order, as `show`, `status`, `resume` and
    /// `#N` see them.
    pub fn open(&self) -> Vec<OpenItem<'_>> {
        let numbers = self.numbers_in_force();
        let mut open: Vec<OpenItem<'_>> = self
            .doing
            .iter()
            .map(|text| (text, true))
            .chain(self.todo.iter().map(|text| (text, false)))
            .zip(numbers)
            .map(|((text, doing), number)| OpenItem {
                number,
                text,
                doing,
            })
            .collect();
        open.sort_by_key(|item| item.number);
        open
    }

    /// Open items' texts in number order.
    pub fn open_items(&self) -> impl Iterator<Item = &String> {
        self.open().into_iter().map(|item| item.text)
    }

    /// The numbers of `doing` then `todo`: the recorded ones when they fit
    /// (one each, distinct, not 0), else 1, 2, … (a state from before
    /// numbers, or one edited by hand).
    fn numbers_in_force(&self) -> Vec<u32> {
        let count = self.doing.len() + self.todo.len();
        let mut seen = std::collections::BTreeSet::new();
        let fits =
            self.numbers.len() == count && self.numbers.iter().all(|n| *n > 0 && seen.insert(*n));
        if fits {
            self.numbers.clone()
        } else {
            (1..).take(count).collect()
        }
    }

    /// Number the open items after the lists changed: an item `before`
    /// had open keeps its number, a new one gets one more than the largest
    /// in use (so the number of an item closed in this change is not taken
    /// at once).
    pub fn renumber_from(&mut self, before: &State) {
        let old: std::collections::HashMap<&str, u32> = before
            .open()
            .into_iter()
            .map(|item| (item.text.as_str(), item.number))
            .collect();
        let mut next = old.values().copied().max().unwrap_or(0) + 1;
        let mut used = std::collections::BTreeSet::new();
        let mut numbers = Vec::with_capacity(self.doing.len() + self.todo.len());
        for text in self.doing.iter().chain(self.todo.iter()) {
            let number = match old.get(text.as_str()) {
                Some(&n) if used.insert(n) => n,
                _ => {
                    while used.contains(&next) {
                        next += 1;
                    }
                    used.insert(next);
                    next
                }
            };
            numbers.push(number);
        }
        self.numbers = numbers;
    }

    /// Find what `reference` names. `#N` is the open item numbered N; any
    /// other reference is an item's exact text, looked up in `lists` (0
    /// done, 1 doing, 2 todo). A reference that looks like a number but is
    /// none (`#x`, `1`) and names no item is refused, so a typo is not
    /// recorded as a new item.
    fn find(&self, reference: &str, lists: &[usize]) -> Result<Found, EditError> {
        if let Some(n) = reference
            .strip_prefix('#')
            .and_then(|n| n.parse::<u32>().ok())
        {
            let open = self.open();
            let Some(item) = open.iter().find(|item| item.number == n) else {
                return Err(EditError::NoSuchOpenItem {
                    reference: reference.into(),
                    open: match open.as_slice() {
                        [] => "none".into(),
                        items => items
                            .iter()
                            .map(|i| format!("#{}", i.number))
                            .collect::<Vec<_>>()
                            .join(", "),
                    },
                });
            };
            let (list, items) = if item.doing {
                (1, &self.doing)
            } else {
                (2, &self.todo)
            };
            let index = items
                .iter()
                .position(|t| std::ptr::eq(t, item.text))
                .expect("the item is in the list it was taken from");
            return Ok(Found::Item { list, index });
        }
        let all = [&self.done, &self.doing, &self.todo];
        for &list in lists {
            if let Some(index) = all[list].iter().position(|t| t == reference) {
                return Ok(Found::Item { list, index });
            }
        }
        let numeric = reference.trim_start_matches('#');
        if reference.starts_with('#') || numeric.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EditError::NotAReference {
                reference: reference.into(),
            });
        }
        Ok(Found::New)
    }

    /// Apply `edits`. Every reference is resolved before anything changes,
    /// so `--done '#1' --done '#2'` means the first two items as shown,
    /// and a reference that names nothing changes nothing. Returns
    /// warnings: a `--done`/`--doing` text that matches no open item is
    /// recorded as a new item, which is worth a word when it looks like
    /// one of them.
    pub fn apply(&mut self, edits: &Edits) -> Result<Vec<String>, EditError> {
        let before = self.clone();
        let mut warnings = Vec::new();
        let text_of = |found: &Found, new: &str| -> String {
            match found {
                Found::Item { list, index } => {
                    [&before.done, &before.doing, &before.todo][*list][*index].clone()
                }
                Found::New => new.to_string(),
            }
        };
        let mut moves = Vec::new();
        for (items, target) in [(&edits.done, 0), (&edits.doing, 1)] {
            for item in clean(items) {
                let found = self.find(&item, &[1, 2, 0])?;
                if let Found::New = found {
                    if let Some(near) = before.near_miss(&item) {
                        warnings.push(format!(
                            "'{item}' matches no open item and is recorded as a new one; did you mean #{} ({})? 'git session checkpoint --drop \"{item}\"' removes it",
                            near.number, near.text
                        ));
                    }
                }
                moves.push((text_of(&found, &item), target));
            }
        }
        let mut drops = Vec::new();
        for item in clean(&edits.drop) {
            match self.find(&item, &[1, 2, 0])? {
                Found::New => return Err(EditError::NoSuchItem { reference: item }),
                found => drops.push(text_of(&found, &item)),
            }
        }
        let mut renames = Vec::new();
        for edit in clean(&edits.edit) {
            let Some((reference, text)) = edit
                .split_once('=')
                .map(|(r, t)| (r.trim().to_string(), t.trim().to_string()))
                .filter(|(r, t)| !r.is_empty() && !t.is_empty())
            else {
                return Err(EditError::BadEdit { edit });
            };
            match self.find(&reference, &[1, 2, 0])? {
                Found::New => return Err(EditError::NoSuchItem { reference }),
                Found::Item { list, index } => renames.push((list, index, text)),
            }
        }
        let mut unblocks = Vec::new();
        for item in clean(&edits.unblock) {
            unblocks.push(resolve_blocker(&item, &before.blockers)?);
        }

        // Renames first, in place, so the numbers follow the texts.
        let mut renamed = before.clone();
        for (list, index, text) in renames {
            let old = [&before.done, &before.doing, &before.todo][list][index].clone();
            for state in [&mut *self, &mut renamed] {
                [&mut state.done, &mut state.doing, &mut state.todo][list][index].clone_from(&text);
            }
            for (moved, _) in &mut moves {
                if *moved == old {
                    moved.clone_from(&text);
                }
            }
        }
        if let Some(task) = &edits.task {
            let task = task.trim();
            if !task.is_empty() {
                self.task = task.to_string();
            }
        }
        for (item, target) in moves {
            for (i, list) in [&mut self.done, &mut self.doing, &mut self.todo]
                .into_iter()
                .enumerate()
            {
                if i != target {
                    list.retain(|t| *t != item);
                }
            }
            push_unique([&mut self.done, &mut self.doing][target], item);
        }
        for item in clean(&edits.todo) {
            if !self.doing.contains(&item) {
                push_unique(&mut self.todo, item);
            }
        }
        for item in drops {
            for list in [&mut self.done, &mut self.doing, &mut self.todo] {
                list.retain(|t| *t != item);
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
        for item in unblocks {
            self.blockers.retain(|b| *b != item);
        }
        self.renumber_from(&renamed);
        Ok(warnings)
    }

    /// The open item a new item's text looks like a mistyped copy of: the
    /// same letters and digits in another case or spacing, or the start
    /// of it.
    fn near_miss(&self, text: &str) -> Option<OpenItem<'_>> {
        let key = |t: &str| -> String {
            t.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect()
        };
        let wanted = key(text);
        if wanted.chars().count() < 3 {
            return None;
        }
        self.open().into_iter().find(|item| {
            let have = key(item.text);
            have == wanted || have.starts_with(&wanted) || wanted.starts_with(&have)
        })
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

    /// Bring in the state of a session that worked beside this one without
    /// seeing it (two clones of the branch, one rebased over the other),
    /// `base` being the state both began from when known. Nothing either
    /// side holds is lost:
    ///
    /// - an item goes to the more advanced list of the two (done over
    ///   doing over todo), unless only this side moved it since `base`;
    ///   an item only `theirs` has is added, unless `base` had it (then
    ///   this side removed it on purpose);
    /// - decisions, notes and blockers are a union, in this side's order
    ///   then theirs, again without what this side removed since `base`;
    /// - the task is theirs only when they changed it and this side did not.
    ///
    /// Everything else (agent, summary, sequence, …) stays this side's.
    pub fn merge_from(&mut self, theirs: &State, base: Option<&State>) {
        let before = self.clone();
        if !theirs.task.is_empty()
            && (self.task.is_empty()
                || base.is_some_and(|b| b.task == self.task && b.task != theirs.task))
        {
            self.task.clone_from(&theirs.task);
        }
        for (rank, list) in [(2, &theirs.done), (1, &theirs.doing), (0, &theirs.todo)] {
            for item in list {
                let before = base.and_then(|b| b.rank(item));
                let take = match self.rank(item) {
                    Some(ours) => rank > ours && before != Some(rank),
                    None => before.is_none(),
                };
                if take {
                    for list in [&mut self.done, &mut self.doing, &mut self.todo] {
                        list.retain(|i| i != item);
                    }
                    [&mut self.todo, &mut self.doing, &mut self.done][rank].push(item.clone());
                }
            }
        }
        let base_lists = base.map(|b| [&b.decisions, &b.notes, &b.blockers]);
        for (i, (ours, theirs)) in [
            (&mut self.decisions, &theirs.decisions),
            (&mut self.notes, &theirs.notes),
            (&mut self.blockers, &theirs.blockers),
        ]
        .into_iter()
        .enumerate()
        {
            for item in theirs {
                let removed_here = base_lists.is_some_and(|lists| lists[i].contains(item));
                if !ours.contains(item) && !removed_here {
                    ours.push(item.clone());
                }
            }
        }
        self.renumber_from(&before);
    }

    /// Where an item stands: 2 done, 1 doing, 0 todo.
    fn rank(&self, item: &str) -> Option<usize> {
        [&self.todo, &self.doing, &self.done]
            .iter()
            .rposition(|list| list.iter().any(|i| i == item))
    }

    /// True when the parts a person or agent edits are equal. Bookkeeping
    /// (summary, reason, time, sequence, previous, skipped, restored-from) is ignored: a checkpoint that would
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
            previous: None,
            skipped: Vec::new(),
            // The agent's words of a turn that changed nothing else are
            // worth keeping, not a commit: see `checkpoint`.
            report: String::new(),
            restored_from: None,
            // The lists decide them; only a state from before numbers
            // differs here, and that alone is not worth a commit.
            numbers: Vec::new(),
            ..self.clone()
        }
    }

    /// The state as TOML, the note's content. A plain struct of strings
    /// and lists should always serialise; if it ever did not, the caller
    /// must know rather than write an empty note.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
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
        one(
            trailer::PREVIOUS,
            self.previous.as_deref().unwrap_or_default(),
        );
        one(trailer::BRANCH, &self.branch);
        one(trailer::BASE, self.base.as_deref().unwrap_or_default());
        one(trailer::TASK, &self.task);
        one(trailer::AGENT, self.agent.as_deref().unwrap_or_default());
        one(
            trailer::AGENT_SESSION,
            self.agent_session.as_deref().unwrap_or_default(),
        );
        one(trailer::MODEL, self.model.as_deref().unwrap_or_default());
        one(
            trailer::CONTINUES,
            self.continues.as_deref().unwrap_or_default(),
        );
        one(trailer::REPORT, &self.report);
        one(
            trailer::RESTORED_FROM,
            self.restored_from.as_deref().unwrap_or_default(),
        );
        for (key, list) in [
            (trailer::DONE, &self.done),
            (trailer::DOING, &self.doing),
            (trailer::TODO, &self.todo),
            (trailer::DECISION, &self.decisions),
            (trailer::NOTE, &self.notes),
            (trailer::BLOCKER, &self.blockers),
            (trailer::MERGED, &self.merged),
        ] {
            for item in list {
                one(key, item);
            }
        }
        if !self.numbers.is_empty() {
            let numbers: Vec<String> = self.numbers.iter().map(u32::to_string).collect();
            one(trailer::NUMBERS, &numbers.join(" "));
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
                "session-previous" => state.previous = Some(value),
                "session-branch" => state.branch = value,
                "session-base" => state.base = Some(value),
                "session-task" => state.task = value,
                "session-agent" => state.agent = Some(value),
                "session-agent-session" => state.agent_session = Some(value),
                "session-model" => state.model = Some(value),
                "session-continues" => state.continues = Some(value),
                "session-report" => state.report = value,
                "session-restored-from" => state.restored_from = Some(value),
                "session-done" => state.done.push(value),
                "session-doing" => state.doing.push(value),
                "session-todo" => state.todo.push(value),
                "session-decision" => state.decisions.push(value),
                "session-note" => state.notes.push(value),
                "session-blocker" => state.blockers.push(value),
                "session-merged" => state.merged.push(value),
                "session-numbers" => {
                    state.numbers = value
                        .split_whitespace()
                        .map(|n| n.parse().unwrap_or(0))
                        .collect();
                }
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
    pub const PREVIOUS: &str = "Session-Previous";
    pub const BRANCH: &str = "Session-Branch";
    pub const BASE: &str = "Session-Base";
    pub const TASK: &str = "Session-Task";
    pub const AGENT: &str = "Session-Agent";
    pub const AGENT_SESSION: &str = "Session-Agent-Session";
    pub const MODEL: &str = "Session-Model";
    pub const CONTINUES: &str = "Session-Continues";
    pub const REPORT: &str = "Session-Report";
    pub const RESTORED_FROM: &str = "Session-Restored-From";
    pub const DONE: &str = "Session-Done";
    pub const DOING: &str = "Session-Doing";
    pub const TODO: &str = "Session-Todo";
    pub const DECISION: &str = "Session-Decision";
    pub const NOTE: &str = "Session-Note";
    pub const BLOCKER: &str = "Session-Blocker";
    pub const MERGED: &str = "Session-Merged";
    /// The open items' numbers, doing then todo, space-separated.
    pub const NUMBERS: &str = "Session-Numbers";
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

/// The blocker `item` names: `#N` is the N-th (1-based), anything else
/// its exact text.
fn resolve_blocker(item: &str, list: &[String]) -> Result<String, EditError> {
    let missing = || EditError::NoSuchBlocker {
        reference: item.to_string(),
        count: list.len(),
    };
    match item.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) {
        Some(n) => n
            .checked_sub(1)
            .and_then(|i| list.get(i))
            .cloned()
            .ok_or_else(missing),
        None if list.iter().any(|b| b == item) => Ok(item.to_string()),
        None => Err(missing()),
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

/// The trailers of a message, `(key, value)` pairs in order, as
/// `git interpret-trailers --parse` lists them (git 2.47's trailer.c rules,
/// with no `trailer.*` configuration and `#` as the comment character):
///
/// - The message ends at a patch divider (a line starting with `---` and a
///   blank), and trailing comment lines, blank lines, an old `Conflicts:`
///   block and everything below a scissors line are left out.
/// - The first paragraph is the title and never holds trailers.
/// - The trailer block is the last paragraph, when all its lines are
///   trailers, or when it has a git-generated line (`Signed-off-by: `,
///   `(cherry picked from commit `) and at least a quarter of its lines are
///   trailers. Other lines in it (the cherry-pick note, free text) are not
///   trailers but do not spoil the block.
/// - A trailer is `token: value` with a token of ASCII letters, digits and
///   `-` (blanks allowed before the `:`); a line starting with a blank
///   continues the trailer above it, and the value is unfolded to one line.
///
/// Blanks are git's: space, tab, LF and CR (a CRLF message reads as its LF
/// form). Values are trimmed of those only, never of other white space. A
/// last line without a newline reads as if it had one, as git completes it.
pub fn parse_trailers(message: &str) -> Vec<(String, String)> {
    let completed;
    let message = if message.is_empty() || message.ends_with('\n') {
        message
    } else {
        completed = format!("{message}\n");
        completed.as_str()
    };
    let end = end_of_log_message(message.as_bytes());
    let start = trailer_block_start(message.as_bytes(), end);
    // A line that starts with a blank continues the trailer before it; any
    // other line (a comment, the cherry-pick note) ends that trailer.
    let mut lines: Vec<(String, bool)> = Vec::new();
    for line in message[start..end].split_inclusive('\n') {
        if let Some((last, true)) = lines.last_mut() {
            if line.as_bytes().first().copied().is_some_and(is_git_space) {
                last.push_str(line);
                continue;
            }
        }
        let is_trailer = separator(line.as_bytes()).is_some_and(|at| at >= 1);
        lines.push((line.to_string(), is_trailer));
    }
    lines
        .into_iter()
        .filter(|(_, is_trailer)| *is_trailer)
        .filter_map(|(text, _)| {
            let at = separator(text.as_bytes())?;
            let key = git_trim(&text[..at]);
            let value = unfold(git_trim(&text[at + 1..]));
            Some((key.to_string(), value))
        })
        .collect()
}

/// git's `isspace`: space, tab, LF and CR (not VT or FF).
fn is_git_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn git_trim(text: &str) -> &str {
    text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// A folded value on one line: each line break and the blanks after it
/// become one space, as `--unfold` does.
fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('\n') {
        out.push_str(&rest[..at]);
        out.push(' ');
        rest = rest[at + 1..].trim_start_matches([' ', '\t', '\n', '\r']);
    }
    out.push_str(rest);
    git_trim(&out).to_string()
}

/// Where the `:` of a trailer line is: after a token of ASCII letters,
/// digits and `-`, and optionally blanks (not at the start of the line).
fn separator(line: &[u8]) -> Option<usize> {
    let mut blanks = false;
    for (at, &b) in line.iter().enumerate() {
        match b {
            b':' => return Some(at),
            b if !blanks && (b.is_ascii_alphanumeric() || b == b'-') => {}
            b' ' | b'\t' if at != 0 => blanks = true,
            _ => return None,
        }
    }
    None
}

/// The line starting at `at`, up to its newline (excluded).
fn line_at(text: &[u8], at: usize) -> &[u8] {
    let rest = &text[at..];
    &rest[..rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len())]
}

/// Where the line after the one starting at `at` starts.
fn next_line(text: &[u8], at: usize) -> usize {
    let end = at + line_at(text, at).len();
    (end + 1).min(text.len())
}

fn is_blank_line(line: &[u8]) -> bool {
    line.iter().copied().all(is_git_space)
}

/// The start of the last line in `text[..len]` (`None` when empty); a
/// newline at the very end belongs to that line.
fn last_line(text: &[u8], len: usize) -> Option<usize> {
    match len {
        0 => None,
        1 => Some(0),
        _ => Some(
            text[..len - 1]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |at| at + 1),
        ),
    }
}

const COMMENT: &[u8] = b"#";
const SCISSORS: &[u8] = b"# ------------------------ >8 ------------------------\n";

/// The end of the log message proper: before a patch divider, less the
/// ignorable lines at its end.
fn end_of_log_message(text: &[u8]) -> usize {
    let mut end = text.len();
    let mut at = 0;
    while at < text.len() {
        if let Some(after) = text[at..].strip_prefix(b"---") {
            if after.first().copied().is_some_and(is_git_space) {
                end = at;
                break;
            }
        }
        at = next_line(text, at);
    }
    ignorable_start(text, end)
}

/// Where the trailing comments, blank lines, old `Conflicts:` block and
/// scissors part of `text[..len]` begin (`len` when there are none).
fn ignorable_start(text: &[u8], len: usize) -> usize {
    let cutoff = if text.starts_with(SCISSORS) {
        0
    } else {
        text[..len]
            .windows(SCISSORS.len() + 1)
            .position(|w| w[0] == b'\n' && &w[1..] == SCISSORS)
            .map_or(len, |at| at + 1)
    };
    // `0` doubles as "no run yet", as in git.
    let (mut run, mut at, mut conflicts) = (0, 0, false);
    while at < cutoff {
        let next = text[at..len]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(len, |i| at + i + 1);
        if text[at..cutoff].starts_with(COMMENT) || text[at] == b'\n' {
            if run == 0 {
                run = at;
            }
        } else if text[at..].starts_with(b"Conflicts:\n") {
            conflicts = true;
            if run == 0 {
                run = at;
            }
        } else if conflicts && text[at] == b'\t' {
            // A path in the conflicts block.
        } else if run != 0 {
            run = 0;
            conflicts = false;
        }
        at = next;
    }
    if run != 0 {
        run
    } else {
        cutoff
    }
}

/// Lines that git itself appends and that make a paragraph a trailer block
/// even among other lines.
const GIT_GENERATED: [&[u8]; 2] = [b"Signed-off-by: ", b"(cherry picked from commit "];

/// Where the trailer block of `text[..len]` starts (`len` when there is
/// none): the last paragraph, after the title, when it is all trailers or
/// has a git-generated line and at least 25% trailers.
fn trailer_block_start(text: &[u8], len: usize) -> usize {
    let mut at = 0;
    while at < len {
        if !text[at..].starts_with(COMMENT) && is_blank_line(line_at(text, at)) {
            break;
        }
        at = next_line(text, at);
    }
    let end_of_title = at;
    let (mut recognized, mut trailers, mut others, mut continuations) = (false, 0, 0, 0);
    let mut only_blanks = true;
    let mut line = last_line(text, len);
    while let Some(start) = line.filter(|l| *l >= end_of_title) {
        line = last_line(text, start);
        let bol = &text[start..];
        if bol.starts_with(COMMENT) {
            others += continuations;
            continuations = 0;
            continue;
        }
        if is_blank_line(line_at(text, start)) {
            if only_blanks {
                continue;
            }
            others += continuations;
            let block = (recognized && trailers * 3 >= others) || (trailers > 0 && others == 0);
            return if block { next_line(text, start) } else { len };
        }
        only_blanks = false;
        if GIT_GENERATED.iter().any(|prefix| bol.starts_with(prefix)) {
            trailers += 1;
            continuations = 0;
            recognized = true;
        } else if separator(line_at(text, start)).is_some_and(|at| at >= 1) {
            trailers += 1;
            continuations = 0;
        } else if bol.first().copied().is_some_and(is_git_space) {
            continuations += 1;
        } else {
            others += 1 + continuations;
            continuations = 0;
        }
    }
    len
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
            numbers: vec![3, 1, 2],
            blockers: vec!["x\r\ny".into()],
            skipped: vec![Skipped {
                path: "dir/.env file".into(),
                reason: "secret".into(),
            }],
            agent: Some("claude-code".into()),
            continues: Some("claude/old".into()),
            report: "Added the toggle.\nRemaining: CSS variables.".into(),
            restored_from: Some("89abcdef".into()),
            ..State::default()
        }
    }

    #[test]
    fn reports_are_capped_at_a_sentence_and_redacted() {
        let sentence = "Added the toggle and its tests. ";
        let long = sentence.repeat(100);
        let report = report_text(&long);
        assert!(
            report.chars().count() <= MAX_REPORT_CHARS,
            "{}",
            report.len()
        );
        assert!(
            report.ends_with("tests."),
            "cut after a sentence: {report:?}"
        );
        assert!(report.chars().count() > MAX_REPORT_CHARS - sentence.len());
        // No sentence end in the second half: cut at a word.
        let words = "word ".repeat(1000);
        let report = report_text(&words);
        assert!(report.ends_with("word …"), "{report:?}");
        assert!(report.chars().count() <= MAX_REPORT_CHARS + 2);
        // Secrets never reach the state.
        let key = format!("AKIA{}", "IOSFODNN7EXAMPLE");
        let report = report_text(&format!("  Used {key} to deploy.\n"));
        assert_eq!(report, "Used [REDACTED:aws-access-key] to deploy.");
        assert_eq!(report_text("short"), "short");
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
            previous: Some("0123".into()),
            skipped: vec![Skipped {
                path: "x".into(),
                reason: "secret".into(),
            }],
            report: "other words".into(),
            restored_from: Some("0123abc".into()),
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
            State {
                continues: Some("other".into()),
                merged: vec!["2 2026-01-02T03:04:05+00:00".into()],
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
        let toml = state.to_toml().expect("serialises");
        assert_eq!(State::from_toml(&toml).expect("valid"), state);
    }

    #[test]
    fn not_a_checkpoint_without_schema() {
        assert!(State::from_trailers("fix\n\nSigned-off-by: A <a@b>").is_none());
        assert!(State::from_trailers("just a subject").is_none());
    }

    #[test]
    fn trailers_read_as_git_reads_them() {
        // Each answer is `git interpret-trailers --parse` (git 2.47).
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        for (message, want) in [
            // git cherry-pick -x: the note joins the block.
            (
                "s\n\nSession-Schema: 1\n(cherry picked from commit abc)\n",
                pairs(&[("Session-Schema", "1")]),
            ),
            // One git-generated line carries a block that is 25% trailers.
            (
                "s\n\nfree\nfree\nfree\nSigned-off-by: A\n",
                pairs(&[("Signed-off-by", "A")]),
            ),
            ("s\n\nfree\nfree\nfree\nfree\nSigned-off-by: A\n", vec![]),
            // Continuations unfold; CRLF reads as LF; the title is never
            // a trailer block.
            ("s\r\n\r\nK: a  \r\n   b\r\n", pairs(&[("K", "a  \r b")])),
            ("K: title only\n", vec![]),
            // Comments, a patch and the scissors are not the message.
            (
                "s\n\nK: v\n# comment\n\n--- \npatch: x\n",
                pairs(&[("K", "v")]),
            ),
            (
                "s\n\nK: v\n# ------------------------ >8 ------------------------\nL: w\n",
                pairs(&[("K", "v")]),
            ),
            // Found by tests/fuzz.rs: git completes the last line, and a
            // trailing "Conflicts:" block is then ignorable.
            ("\nConflicts:", vec![]),
            ("\nFoo:", pairs(&[("Foo", "")])),
        ] {
            assert_eq!(parse_trailers(message), want, "{message:?}");
        }
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
    fn merging_a_concurrent_state_keeps_both_sides_work() {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let base = State {
            task: "task".into(),
            todo: list(&["a", "b", "c", "dropped here"]),
            blockers: list(&["unblocked here"]),
            ..State::default()
        };
        let mut ours = State {
            task: "task".into(),
            done: list(&["b"]),
            doing: list(&["a"]),
            todo: list(&["c", "ours new"]),
            notes: list(&["ours"]),
            ..State::default()
        };
        let theirs = State {
            task: "task, refined".into(),
            done: list(&["a"]),
            todo: list(&["b", "c", "dropped here", "theirs new"]),
            decisions: list(&["theirs"]),
            notes: list(&["ours", "theirs"]),
            blockers: list(&["unblocked here", "theirs blocked"]),
            ..State::default()
        };
        ours.merge_from(&theirs, Some(&base));
        // a: done there beats doing here; b: theirs is the base's, ours moved it.
        assert_eq!(ours.done, ["b", "a"]);
        assert!(ours.doing.is_empty());
        assert_eq!(ours.todo, ["c", "ours new", "theirs new"]);
        assert_eq!(ours.decisions, ["theirs"]);
        assert_eq!(ours.notes, ["ours", "theirs"]);
        assert_eq!(ours.blockers, ["theirs blocked"]);
        assert_eq!(ours.task, "task, refined");
        // Without a base: a union.
        let mut alone = State {
            todo: list(&["x"]),
            ..State::default()
        };
        alone.merge_from(&theirs, None);
        assert_eq!(alone.todo, ["x", "b", "c", "dropped here", "theirs new"]);
        assert_eq!(alone.done, ["a"]);
        assert_eq!(alone.task, "task, refined");
    }

    #[test]
    fn numbers_follow_items_and_new_ones_take_the_next() {
        let mut state = State {
            todo: vec!["a".into(), "b".into(), "c".into()],
            ..State::default()
        };
        let old = state.clone();
        state.renumber_from(&old);
        assert_eq!(state.numbers, [1, 2, 3]);
        let edits = Edits {
            doing: vec!["#3".into()],
            done: vec!["#1".into()],
            todo: vec!["d".into()],
            ..Edits::default()
        };
        state.apply(&edits).expect("valid edits");
        let open: Vec<(u32, &str)> = state
            .open()
            .iter()
            .map(|i| (i.number, i.text.as_str()))
            .collect();
        assert_eq!(open, [(2, "b"), (3, "c"), (4, "d")]);
        // Numbers that do not fit the lists (a hand edit) read as 1, 2, ….
        state.numbers = vec![7, 7, 7];
        let numbers: Vec<u32> = state.open().iter().map(|i| i.number).collect();
        assert_eq!(numbers, [1, 2, 3]);
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
