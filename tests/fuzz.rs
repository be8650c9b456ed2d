//! Property tests of the readers that take input from outside: the note's
//! TOML, commit trailers, and agent transcripts. None may panic on any
//! input, and what the writers produce must read back unchanged.
//!
//! A short run (proptest's default 256 cases per property) is part of the
//! test suite; the long run is
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test --release --test integration fuzz
//! ```
//!
//! (cargo-fuzz needs a nightly toolchain; these run on stable.)

use std::io::Write as _;

use git_session::agents::claude::{self, Scan};
use git_session::state::{self, Skipped, State};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Strategies

/// Any text, weighted towards what breaks line-based formats: newlines,
/// CR, tabs, blanks (ASCII and Unicode) at either end, backslashes and
/// escape-like sequences, control characters, `Key: value` lookalikes.
fn text() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        "\n",
        "\r",
        "\r\n",
        "\t",
        " ",
        "\u{a0}",
        "\u{3000}",
        "\u{2028}",
        "\u{85}",
        "\\",
        "\\n",
        "\\x",
        "\\x4",
        "\\x41",
        "\\\\",
        ":",
        "Session-Done: x",
        "\n\n",
        "---",
        "#1",
        "\"",
        "'''",
        "\u{0}",
        "\u{7f}",
        "\u{feff}",
        "ü",
        "🦀",
        "=",
        "[",
        "]",
    ]);
    prop::collection::vec(
        prop_oneof![any::<String>(), tricky.prop_map(String::from)],
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

fn non_empty_text() -> impl Strategy<Value = String> {
    // Built, not filtered: a filter's rejects add up over a long run.
    (text(), any::<char>()).prop_map(|(s, c)| if s.is_empty() { c.to_string() } else { s })
}

fn items() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(non_empty_text(), 0..4)
}

fn skipped() -> impl Strategy<Value = Vec<Skipped>> {
    // Reasons are single words (`secret`, `too-large`, `nested-repo`):
    // the trailer is `REASON PATH`.
    let reason = "[a-z-]{0,12}";
    prop::collection::vec(
        (reason, text()).prop_map(|(reason, path)| Skipped { path, reason }),
        0..3,
    )
}

/// A state as checkpoints write it: lists hold non-empty items, optional
/// fields are absent or non-empty. `summary` and `created_at` are left
/// empty: they live in the commit's subject and date, not in trailers.
fn state_for_trailers() -> impl Strategy<Value = State> {
    let opt = || prop::option::of(non_empty_text());
    (
        (any::<u32>(), text(), text(), opt(), text(), any::<u32>()),
        (opt(), opt(), opt(), opt(), text(), opt(), opt()),
        (items(), items(), items(), items(), items(), items()),
        (
            skipped(),
            items(),
            prop::collection::vec(any::<u32>(), 0..5),
        ),
    )
        .prop_map(
            |(
                (schema, task, branch, base, reason, sequence),
                (agent, agent_session, model, continues, report, restored_from, previous),
                (done, doing, todo, decisions, notes, blockers),
                (skipped, merged, numbers),
            )| State {
                schema,
                task,
                branch,
                base,
                summary: String::new(),
                reason,
                created_at: String::new(),
                sequence,
                previous,
                agent,
                agent_session,
                model,
                continues,
                report,
                restored_from,
                done,
                doing,
                todo,
                decisions,
                notes,
                blockers,
                numbers,
                merged,
                skipped,
            },
        )
}

/// Any state at all, for the TOML codec.
fn any_state() -> impl Strategy<Value = State> {
    (
        state_for_trailers(),
        text(),
        text(),
        prop::option::of(text()),
        prop::collection::vec(text(), 0..3),
    )
        .prop_map(|(mut state, summary, created_at, base, done)| {
            state.summary = summary;
            state.created_at = created_at;
            state.base = base;
            state.done = done;
            state
        })
}

/// Edits to a text: delete, insert or replace a character, or cut it.
#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Insert(usize, char),
    Replace(usize, char),
    Truncate(usize),
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let char_ = prop_oneof![
        prop::sample::select(vec![
            '"', '\'', '[', ']', '=', '\n', '\\', '{', '}', ',', ':', '#'
        ]),
        any::<char>(),
    ];
    let one = prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), char_.clone()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        (any::<usize>(), char_).prop_map(|(i, c)| Mutation::Replace(i, c)),
        any::<usize>().prop_map(Mutation::Truncate),
    ];
    prop::collection::vec(one, 1..8)
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for m in mutations {
        let len = chars.len();
        match *m {
            Mutation::Delete(i) if len > 0 => {
                chars.remove(i % len);
            }
            Mutation::Insert(i, c) => chars.insert(i % (len + 1), c),
            Mutation::Replace(i, c) if len > 0 => chars[i % len] = c,
            Mutation::Truncate(i) => chars.truncate(i % (len + 1)),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn mutate_bytes(bytes: &[u8], mutations: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(i, op, b) in mutations {
        let len = out.len();
        match op % 4 {
            0 if len > 0 => {
                out.remove(i % len);
            }
            1 => out.insert(i % (len + 1), b),
            2 if len > 0 => out[i % len] = b,
            3 => out.truncate(i % (len + 1)),
            _ => {}
        }
    }
    out
}

/// The message a checkpoint writes, around its trailer paragraph.
fn message_with(trailers: &str) -> String {
    format!("checkpoint: summary\n\nbody line\n\n{trailers}")
}

// ---------------------------------------------------------------------------
// Note TOML

proptest! {
    #[test]
    fn fuzz_toml_reader_never_panics(input in text()) {
        let _ = State::from_toml(&input);
    }

    #[test]
    fn fuzz_toml_round_trips_any_state(state in any_state()) {
        let toml = state.to_toml().expect("a state serialises");
        let back = State::from_toml(&toml);
        prop_assert_eq!(back.as_ref().ok(), Some(&state), "{}", toml);
    }

    #[test]
    fn fuzz_mutated_toml_never_panics(state in any_state(), edits in mutations()) {
        let toml = state.to_toml().expect("a state serialises");
        let _ = State::from_toml(&mutate(&toml, &edits));
    }
}

// ---------------------------------------------------------------------------
// Trailers

proptest! {
    #[test]
    fn fuzz_trailer_readers_never_panic(input in text()) {
        let _ = State::from_trailers(&input);
        let _ = state::parse_trailers(&input);
        let _ = state::unescape(&input);
    }

    #[test]
    fn fuzz_escape_is_one_line_and_round_trips(input in text()) {
        let escaped = state::escape(&input);
        prop_assert!(!escaped.contains('\n') && !escaped.contains('\r'), "{:?}", escaped);
        // Trailer parsers trim values: escaping keeps what matters inside.
        prop_assert_eq!(escaped.trim(), escaped.as_str());
        prop_assert_eq!(state::unescape(&escaped), input);
    }

    #[test]
    fn fuzz_trailers_round_trip_any_state(state in state_for_trailers()) {
        let trailers = state::format_trailers(&state.to_trailers());
        let message = message_with(&trailers);
        let back = State::from_trailers(&message);
        prop_assert_eq!(back.as_ref(), Some(&state), "{}", message);
    }

    #[test]
    fn fuzz_mutated_trailers_never_panic(state in state_for_trailers(), edits in mutations()) {
        let message = message_with(&state::format_trailers(&state.to_trailers()));
        let _ = State::from_trailers(&mutate(&message, &edits));
    }
}

// ---------------------------------------------------------------------------
// Transcripts

/// Lines a Claude Code transcript has, as the reader looks for them.
const TRANSCRIPT: &[&str] = &[
    r#"{"type":"summary","summary":"x"}"#,
    r#"{"type":"user","isMeta":true,"message":{"role":"user","content":"<command-name>/init</command-name>"}}"#,
    r#"{"type":"user","message":{"role":"user","content":"Add a dark mode"}}"#,
    r#"{"type":"user","message":{"role":"user","content":[{"type":"text","text":"a prompt in blocks"}]}}"#,
    r#"{"type":"assistant","message":{"model":"claude-x-1","content":[{"type":"tool_use","id":"t1","name":"TodoWrite","input":{"todos":[{"content":"a","status":"pending","activeForm":"A"}]}}]}}"#,
    r#"{"type":"user","toolUseResult":{"newTodos":[{"content":"a","status":"completed"}]},"message":{"content":[{"type":"tool_result"}]}}"#,
    r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t2","name":"TaskCreate","input":{"subject":"one"}},{"type":"tool_use","name":"TaskCreate","input":{"description":"two"}}]}}"#,
    r#"{"type":"user","toolUseResult":{"task":{"id":"7","subject":"one"}},"message":{"content":[{"type":"tool_result","tool_use_id":"t2"}]}}"#,
    r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"TaskUpdate","input":{"taskId":"1","status":"completed","subject":"one!"}}]}}"#,
    r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"TaskUpdate","input":{"taskId":2,"status":"deleted"}}]}}"#,
    r#"not json at all"#,
];

fn transcript_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(bytes).expect("write transcript");
    file
}

/// Read `bytes` whole, and in two steps (the cache continued), which must
/// agree; neither may panic.
fn scan_both_ways(bytes: &[u8], split: usize) -> Result<(), TestCaseError> {
    let whole = transcript_file(bytes);
    let at_once = claude::scan(whole.path(), None);
    let _ = at_once.todos();

    let mut file = transcript_file(&bytes[..split.min(bytes.len())]);
    let first = claude::scan(file.path(), None);
    file.write_all(&bytes[split.min(bytes.len())..])
        .expect("append");
    // The cache goes through JSON, as the hook stores it.
    let cached: Scan = serde_json::from_slice(&serde_json::to_vec(&first).expect("serialise"))
        .expect("the cache reads back");
    let continued = claude::scan(file.path(), Some(cached));
    prop_assert_eq!(continued.todos(), at_once.todos());
    prop_assert_eq!(continued.first_prompt, at_once.first_prompt);
    prop_assert_eq!(continued.model, at_once.model);
    Ok(())
}

proptest! {
    #[test]
    fn fuzz_transcript_reader_never_panics_on_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        split in any::<usize>(),
    ) {
        scan_both_ways(&bytes, split % (bytes.len() + 1))?;
    }

    #[test]
    fn fuzz_transcript_reader_never_panics_on_mutated_jsonl(
        lines in prop::collection::vec(prop::sample::select(TRANSCRIPT.to_vec()), 0..12),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..12),
        split in any::<usize>(),
    ) {
        let mut jsonl = lines.join("\n").into_bytes();
        jsonl.push(b'\n');
        let bytes = mutate_bytes(&jsonl, &edits);
        scan_both_ways(&bytes, split % (bytes.len() + 1))?;
    }

    #[test]
    fn fuzz_transcript_reader_takes_any_cache(
        lines in prop::collection::vec(prop::sample::select(TRANSCRIPT.to_vec()), 0..6),
        offset in prop_oneof![0..2048u64, any::<u64>()],
        counts in (any::<u64>(), any::<u64>()),
        same_path in any::<bool>(),
    ) {
        // Line counts no larger than the offset, as in any cache the
        // reader wrote (every line has at least its newline).
        let (line_count, tasks_line) = (counts.0 % (offset + 1), counts.1 % (offset + 1));
        scan_with_cache(&lines, offset, line_count, tasks_line, same_path);
    }
}

/// Read a transcript continuing a cache file damaged or left by another
/// version; it must not panic.
fn scan_with_cache(lines: &[&str], offset: u64, line_count: u64, tasks_line: u64, same_path: bool) {
    let mut jsonl = lines.join("\n").into_bytes();
    jsonl.push(b'\n');
    let file = transcript_file(&jsonl);
    let path = if same_path {
        file.path().to_string_lossy().into_owned()
    } else {
        "/elsewhere.jsonl".to_string()
    };
    let cache = serde_json::json!({
        "path": path,
        "offset": offset,
        "lines": line_count,
        "tasks_line": tasks_line,
        "todo_write": [line_count, [{"content": "x", "status": "pending"}]],
    });
    if let Ok(cached) = serde_json::from_value::<Scan>(cache) {
        let _ = claude::scan(file.path(), Some(cached)).todos();
    }
}

/// A cache whose line count is at `u64::MAX` (damaged: no transcript has
/// that many lines) makes `Scan::update` overflow `lines += 1`, a panic in
/// debug builds (release builds wrap). Found by the property above before
/// its counts were bounded; the fix belongs in src/agents/transcript.rs
/// (`saturating_add`).
#[test]
fn fuzz_transcript_reader_takes_a_cache_with_a_huge_line_count() {
    scan_with_cache(&TRANSCRIPT[..3], 0, u64::MAX, u64::MAX, true);
}

/// Not vacuous: the valid transcript above yields a todo list, a prompt and
/// a model.
#[test]
fn fuzz_corpus_is_meaningful() {
    let mut jsonl = TRANSCRIPT.join("\n").into_bytes();
    jsonl.push(b'\n');
    let file = transcript_file(&jsonl);
    let scan = claude::scan(file.path(), None);
    assert_eq!(scan.first_prompt.as_deref(), Some("Add a dark mode"));
    assert_eq!(scan.model.as_deref(), Some("claude-x-1"));
    assert!(scan.todos().is_some_and(|t| !t.is_empty()));
}

// ---------------------------------------------------------------------------
// Trailers, against git

/// One line of a generated commit message: the shapes git's trailer rules
/// tell apart (trailers ours and git's own, the cherry-pick note,
/// continuations, blanks of every kind, comments, dividers, near-misses).
fn message_line() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "Session-Schema: 1",
        "Session-Reason: manual",
        "Session-Todo: write the tests",
        "session-done:lower case, no blank",
        "Session-Note :blank before the colon",
        "Session-Blocker:",
        "Signed-off-by: A U Thor <author@example.com>",
        "Signed-off-by:no blank after the colon",
        "(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)",
        "Co-authored-by: B <b@example.com>",
        "Reviewed-by: C",
        " continued",
        "\tcontinued with a tab ",
        "  ",
        "\t",
        "",
        "",
        "\r",
        "# a comment",
        "#Session-Done: commented out",
        "---",
        "--- not a patch",
        "---x",
        "Conflicts:",
        "\tsrc/conflicted.rs",
        "# ------------------------ >8 ------------------------",
        "free text in the body",
        "Key x: not a trailer",
        "-: dash token",
        ": no token",
        "Key_underscore: not a token for git",
        "Ünïcode: not a token",
        "Session-Done: trailing blanks  ",
        "Session-Done: \u{a0}non-breaking ends\u{a0}",
        "Session-Done: form\u{c}feed",
    ]);
    let session = (
        prop::sample::select(vec!["Session-Done", "Session-Task", "Session-Note"]),
        text(),
        any::<bool>(),
    )
        .prop_map(|(key, value, escaped)| {
            let value = if escaped {
                state::escape(&value)
            } else {
                // Raw text may hold line breaks: those make more lines.
                value
            };
            format!("{key}: {value}")
        });
    prop_oneof![
        6 => fixed.prop_map(String::from),
        3 => session,
        1 => text(),
    ]
    // git reads messages as C strings: a NUL ends them early.
    .prop_map(|line| line.replace('\0', ""))
}

/// A message: a title, then lines, LF or CRLF, with or without a final
/// newline.
fn commit_message() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("checkpoint: x".to_string()), text()],
        prop::collection::vec(message_line(), 0..14),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(title, lines, blank_after_title, crlf, final_newline)| {
            let mut message = title;
            message.push('\n');
            if blank_after_title {
                message.push('\n');
            }
            message.push_str(&lines.join("\n"));
            if final_newline {
                message.push('\n');
            }
            let message = message.replace('\0', "");
            if crlf {
                message.replace('\n', "\r\n")
            } else {
                message
            }
        })
}

/// `git interpret-trailers --parse` on `message`, as (key, value) pairs.
fn git_trailers(message: &str) -> Vec<(String, String)> {
    let home = std::env::temp_dir();
    let mut cmd = std::process::Command::new("git");
    crate::support::isolate(&mut cmd, &home);
    let mut child = cmd
        .args(["interpret-trailers", "--parse"])
        .current_dir(&home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run git interpret-trailers");
    let mut stdin = child.stdin.take().expect("piped");
    let input = message.as_bytes().to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("git interpret-trailers");
    writer.join().expect("writer").expect("write the message");
    assert!(out.status.success(), "git interpret-trailers failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let (key, value) = line.split_once(": ").expect("git prints 'key: value'");
            (key.to_string(), value.to_string())
        })
        .collect()
}

proptest! {
    #[test]
    fn fuzz_trailers_parse_as_git_parses_them(message in commit_message()) {
        prop_assert_eq!(state::parse_trailers(&message), git_trailers(&message), "{:?}", message);
    }
}

/// Not vacuous: the generated messages often have a trailer block, with
/// our keys, with the cherry-pick note, and often have none.
#[test]
fn fuzz_trailer_messages_are_meaningful() {
    use proptest::strategy::ValueTree as _;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut with, mut ours, mut cherry, mut without) = (0, 0, 0, 0);
    for _ in 0..300 {
        let message = commit_message()
            .new_tree(&mut runner)
            .expect("a message")
            .current();
        let trailers = state::parse_trailers(&message);
        if trailers.is_empty() {
            without += 1;
            continue;
        }
        with += 1;
        if trailers.iter().any(|(k, _)| k.starts_with("Session-")) {
            ours += 1;
            if message.contains("(cherry picked from commit ") {
                cherry += 1;
            }
        }
    }
    assert!(
        with >= 60 && without >= 60,
        "{with} with, {without} without"
    );
    assert!(
        ours >= 40 && cherry >= 5,
        "{ours} with ours, {cherry} cherry-picked"
    );
}
