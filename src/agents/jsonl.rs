//! Reading an agent's JSON Lines transcript incrementally, as every reader
//! but Claude Code's (which predates it) does: a scan keeps what it found
//! and the byte offset it reached, is cached between hook runs, and reads
//! only the complete lines appended since. A line still being written
//! (no newline yet) is read next time; a file that shrank, or another
//! file, starts the scan over.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Findings, Reading, Todo};

/// Where a scan stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    /// The file this scan belongs to.
    pub path: String,
    /// Bytes consumed: everything before this offset has been read.
    pub offset: u64,
    /// Lines consumed; a todo list is dated by the line it was written on.
    pub lines: u64,
}

/// What one agent's scan keeps.
pub trait LineScan: Default + Clone + Serialize + DeserializeOwned {
    fn progress(&mut self) -> &mut Progress;

    /// Take one complete line (its newline included). `self.progress()`
    /// already counts it.
    fn consume(&mut self, line: &[u8]);

    /// Read a file that is not JSON Lines (an older format) whole; `false`
    /// when `path` is JSON Lines.
    fn read_whole(&mut self, _path: &Path) -> bool {
        false
    }

    /// The newest todo list and the line it was written on (0: none).
    fn todos(&self) -> (u64, Option<Vec<Todo>>);

    fn findings(&self) -> Findings;
}

/// Continue `cached` (a scan of `path`, or a fresh one) to the end of the
/// file. A missing or unreadable file leaves the cached findings.
pub fn scan<S: LineScan>(path: &Path, cached: S) -> S {
    let mut scan = cached.clone();
    match update(&mut scan, path) {
        Ok(()) => scan,
        Err(_) => cached,
    }
}

fn update<S: LineScan>(scan: &mut S, path: &Path) -> std::io::Result<()> {
    let path_text = path.to_string_lossy().into_owned();
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let progress = scan.progress();
    if progress.path != path_text || len < progress.offset {
        *scan = S::default();
        scan.progress().path = path_text;
    }
    if scan.read_whole(path) {
        return Ok(());
    }
    file.seek(SeekFrom::Start(scan.progress().offset))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            // End of file, or a last line still being written.
            return Ok(());
        }
        let progress = scan.progress();
        progress.offset += n as u64;
        progress.lines = progress.lines.saturating_add(1);
        scan.consume(&line);
    }
}

/// One read of the transcript at `path` through the cache of the previous
/// read, in the shape every agent's reader gives.
pub fn reading<S: LineScan>(path: &Path, cache: Option<&[u8]>) -> Reading {
    let cached: Option<S> = cache.and_then(|bytes| serde_json::from_slice(bytes).ok());
    let previous = cached.as_ref().map(LineScan::todos);
    let scan = scan(path, cached.unwrap_or_default());
    let now = scan.todos();
    // Seen: written on the same line as last time, and the same list (a
    // transcript started over could have another list on that line).
    let todos_seen = previous.as_ref().is_some_and(|before| *before == now);
    Reading {
        previous_todos: previous.and_then(|(_, list)| list),
        todos_seen,
        findings: scan.findings(),
        cache: serde_json::to_vec(&scan).unwrap_or_default(),
    }
}

/// The longest text taken from a transcript (a task, a last message); the
/// rest is cut at a word.
const MAX_CHARS: usize = 4000;

/// `text` trimmed and capped; `None` when empty.
pub fn capped(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.chars().count() <= MAX_CHARS {
        return Some(text.to_string());
    }
    let cut: String = text.chars().take(MAX_CHARS).collect();
    let cut = cut
        .rsplit_once(char::is_whitespace)
        .map_or(cut.as_str(), |(head, _)| head);
    Some(format!("{cut} …"))
}
