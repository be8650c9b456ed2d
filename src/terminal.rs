//! What reaches a person's terminal: repository data never carries control
//! sequences there.
//!
//! Commit messages, notes, trailers, file names and template sources come
//! from whoever wrote the repository. Printed raw, an escape sequence in
//! any of them can set the clipboard (OSC 52), clear the screen, move the
//! cursor or retitle the terminal of the person who merely ran `git session
//! show` in a fresh clone. So standard output and standard error pass
//! through [`Sanitize`], which shows C0 and C1 control characters (but
//! newline and tab) in caret notation, as `cat -v` and `less` do: ESC
//! becomes `^[`, BEL `^G`, CSI (U+009B) `M-^[`. A CR before a newline is
//! dropped (CRLF text prints as lines); any other CR would let a line
//! overwrite itself and becomes `^M`.
//!
//! git-session's own colours are the one thing let through, and only on a
//! stream that is coloured: the exact SGR sequences of [`Style`]'s palette.
//! Filtering at the stream rather than at each value means no print site
//! can forget it. JSON output is unaffected: [`json`] writes every control
//! character, C1 and DEL included (serde_json leaves those raw), as a
//! `\u00XX` escape, so the filter finds nothing to change in it and the
//! values read back exactly.

use std::borrow::Cow;
use std::io::Write;

use crate::color::Style;

/// A writer that neutralises control characters (see the module comment).
/// Sequences split across writes are held back until they are complete or
/// the writer is flushed.
pub struct Sanitize<W: Write> {
    inner: W,
    /// Whether git-session's own colour sequences may pass.
    color: bool,
    /// The start of a sequence the next write may complete.
    pending: Vec<u8>,
}

impl<W: Write> Sanitize<W> {
    /// Wrap `inner`; `color` says whether this stream is coloured.
    pub fn new(inner: W, color: bool) -> Self {
        Sanitize {
            inner,
            color,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for Sanitize<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut data = std::mem::take(&mut self.pending);
        data.extend_from_slice(buf);
        let (out, rest) = neutralize_bytes(&data, self.color, false);
        self.pending = data[rest..].to_vec();
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let data = std::mem::take(&mut self.pending);
        let (out, _) = neutralize_bytes(&data, self.color, true);
        self.inner.write_all(&out)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Sanitize<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `text` with its control characters neutralised, no colour let through:
/// for text that goes somewhere a person reads later (a log file).
pub fn neutralize(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(needs_care) {
        return Cow::Borrowed(text);
    }
    let (out, _) = neutralize_bytes(text.as_bytes(), false, true);
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// `value` as JSON (pretty-printed when `pretty`), with DEL and the C1
/// controls escaped too: the same JSON value, and nothing in it that
/// [`Sanitize`] would alter.
pub fn json(value: &impl serde::Serialize, pretty: bool) -> serde_json::Result<String> {
    let text = if pretty {
        serde_json::to_string_pretty(value)?
    } else {
        serde_json::to_string(value)?
    };
    // Outside strings JSON has only ASCII punctuation, so every such
    // character is inside a string, where `\u` escapes mean the same.
    if !text.chars().any(|c| ('\u{7f}'..='\u{9f}').contains(&c)) {
        return Ok(text);
    }
    Ok(text
        .chars()
        .map(|c| match c {
            '\u{7f}'..='\u{9f}' => format!("\\u{:04x}", u32::from(c)),
            c => c.to_string(),
        })
        .collect())
}

/// Bytes that may start something to neutralise.
fn needs_care(b: u8) -> bool {
    b < 0x20 && b != b'\n' && b != b'\t' || b == 0x7f || b == 0xc2
}

/// The SGR sequences git-session itself writes (see `crate::color`).
fn palette() -> impl Iterator<Item = Vec<u8>> {
    Style::ALL
        .iter()
        .map(|style| format!("\x1b[{}m", style.sgr()).into_bytes())
        .chain(std::iter::once(b"\x1b[m".to_vec()))
}

/// Neutralise `data`. Returns the output and how much of `data` it covers:
/// unless `last`, an incomplete sequence at the end is left for the next
/// call.
fn neutralize_bytes(data: &[u8], color: bool, last: bool) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        let rest = &data[i..];
        match b {
            b'\n' | b'\t' => out.push(b),
            b'\r' => match rest.get(1) {
                Some(b'\n') => {}
                None if !last => return (out, i),
                _ => out.extend_from_slice(b"^M"),
            },
            0x1b if color => {
                let mut partial = false;
                let mut matched = None;
                for seq in palette() {
                    if rest.starts_with(&seq) {
                        matched = Some(seq.len());
                        break;
                    }
                    partial |= seq.starts_with(rest);
                }
                if let Some(len) = matched {
                    out.extend_from_slice(&rest[..len]);
                    i += len;
                    continue;
                }
                if partial && !last {
                    return (out, i);
                }
                out.extend_from_slice(b"^[");
            }
            0x00..=0x1f => out.extend_from_slice(&[b'^', b + 0x40]),
            0x7f => out.extend_from_slice(b"^?"),
            // C1 controls, U+0080 to U+009F, are 0xC2 0x80..0x9F in UTF-8.
            0xc2 => match rest.get(1) {
                Some(&next @ 0x80..=0x9f) => {
                    out.extend_from_slice(&[b'M', b'-', b'^', next - 0x80 + 0x40]);
                    i += 2;
                    continue;
                }
                None if !last => return (out, i),
                _ => out.push(b),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    (out, data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(chunks: &[&[u8]], color: bool) -> Vec<u8> {
        let mut sink = Vec::new();
        {
            let mut writer = Sanitize::new(&mut sink, color);
            for chunk in chunks {
                writer.write_all(chunk).expect("write to a Vec");
            }
        }
        sink
    }

    #[test]
    fn control_characters_print_in_caret_notation() {
        assert_eq!(
            through(&[b"a\x1b]52;c;aGk=\x07b\x00\x7f"], false),
            b"a^[]52;c;aGk=^Gb^@^?"
        );
        assert_eq!(through(&["x\u{9b}2J".as_bytes()], false), b"xM-^[2J");
        assert_eq!(
            through(&[b"tab\tand\nnewline"], false),
            b"tab\tand\nnewline"
        );
        assert_eq!(
            through(&["ü \u{a0} ✓".as_bytes()], false),
            "ü \u{a0} ✓".as_bytes()
        );
    }

    #[test]
    fn crlf_prints_as_a_line_and_a_lone_cr_is_shown() {
        assert_eq!(
            through(&[b"one\r\ntwo\rthree\r"], false),
            b"one\ntwo^Mthree^M"
        );
        // Split between writes: the CR waits for what follows.
        assert_eq!(through(&[b"one\r", b"\ntwo"], false), b"one\ntwo");
    }

    #[test]
    fn only_our_own_colours_pass_and_only_when_coloured() {
        let ours = format!("\x1b[{}mx\x1b[m", Style::Heading.sgr());
        assert_eq!(through(&[ours.as_bytes()], true), ours.as_bytes());
        assert_eq!(through(&[ours.as_bytes()], false), b"^[[1mx^[[m");
        // Anything else starting with ESC is neutralised even when coloured.
        assert_eq!(through(&[b"\x1b[2J\x1b]0;t\x07"], true), b"^[[2J^[]0;t^G");
        // A colour sequence split across two writes still passes.
        assert_eq!(through(&[b"\x1b[1", b";31mx"], true), b"\x1b[1;31mx");
        // A partial one at the very end is shown, not swallowed.
        assert_eq!(through(&[b"x\x1b[1"], true), b"x^[[1");
    }

    #[test]
    fn split_c1_characters_are_caught() {
        assert_eq!(through(&[b"a\xc2", b"\x9bb"], false), b"aM-^[b");
    }

    #[test]
    fn json_escapes_c1_and_del_and_keeps_the_value() {
        let value = serde_json::json!({"s": "a\u{9b}b\u{7f}c\u{1b}d ü"});
        let text = json(&value, true).expect("serialises");
        assert!(text.contains(r"a\u009bb\u007fc\u001bd ü"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, value);
        assert_eq!(through(&[text.as_bytes()], false), text.as_bytes());
    }

    #[test]
    fn neutralize_borrows_clean_text() {
        assert!(matches!(neutralize("clean ✓\tline\n"), Cow::Borrowed(_)));
        assert_eq!(neutralize("bad\x1b[2J"), "bad^[[2J");
    }
}
