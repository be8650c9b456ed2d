//! Where each value of a JSON text is, so that a settings file can be
//! edited in place: our entries added or removed, every other byte (the
//! user's formatting, key order, spacing) left as it was.
//!
//! serde_json parses values but forgets where they were; this reads the
//! same text again for the byte ranges. It is only ever given text that
//! serde_json has accepted, and reports an error rather than panic on
//! anything else.

use anyhow::{bail, Context as _};
use serde_json::Value;

/// One value and the bytes it spans (`start..end`).
#[derive(Clone, Debug)]
pub struct Node {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
pub enum Kind {
    Object(Vec<Member>),
    Array(Vec<Node>),
    Scalar,
}

/// `"key": value` in an object; `start` is where the key's quote is.
#[derive(Clone, Debug)]
pub struct Member {
    pub key: String,
    pub start: usize,
    pub value: Node,
}

impl Node {
    /// The value of the last member named `key` (serde_json keeps the
    /// last of duplicates too).
    pub fn member(&self, key: &str) -> Option<&Member> {
        match &self.kind {
            Kind::Object(members) => members.iter().rev().find(|m| m.key == key),
            _ => None,
        }
    }

    /// The node's text as a JSON value.
    pub fn value(&self, text: &str) -> anyhow::Result<Value> {
        serde_json::from_str(&text[self.start..self.end]).context("a value did not parse again")
    }

    /// The `(start, end)` of each child: members from their key, items.
    pub fn children(&self) -> Vec<(usize, usize)> {
        match &self.kind {
            Kind::Object(members) => members.iter().map(|m| (m.start, m.value.end)).collect(),
            Kind::Array(items) => items.iter().map(|i| (i.start, i.end)).collect(),
            Kind::Scalar => Vec::new(),
        }
    }
}

/// Parse `text`, which must be one JSON value (surrounded by white space).
pub fn parse(text: &str) -> anyhow::Result<Node> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        at: 0,
    };
    parser.blank();
    let node = parser.value(0)?;
    parser.blank();
    if parser.at != text.len() {
        bail!("text after the JSON value at byte {}", parser.at);
    }
    Ok(node)
}

/// Deeper than any settings file; keeps a hostile one from exhausting the
/// stack (serde_json stops at 128 too).
const MAX_DEPTH: usize = 128;

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn blank(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> anyhow::Result<()> {
        if self.bytes.get(self.at) != Some(&byte) {
            bail!("expected '{}' at byte {}", byte as char, self.at);
        }
        self.at += 1;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> anyhow::Result<Node> {
        if depth > MAX_DEPTH {
            bail!("nested too deeply");
        }
        let start = self.at;
        let kind = match self.bytes.get(self.at) {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => {
                self.string()?;
                Kind::Scalar
            }
            Some(_) => {
                while self.bytes.get(self.at).is_some_and(|b| {
                    !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.at += 1;
                }
                if self.at == start {
                    bail!("expected a value at byte {start}");
                }
                Kind::Scalar
            }
            None => bail!("the text ends where a value should be"),
        };
        Ok(Node {
            start,
            end: self.at,
            kind,
        })
    }

    /// Skip a string; return its decoded text.
    fn string(&mut self) -> anyhow::Result<String> {
        let start = self.at;
        self.expect(b'"')?;
        loop {
            match self.bytes.get(self.at) {
                Some(b'"') => break,
                Some(b'\\') => self.at += 2,
                Some(_) => self.at += 1,
                None => bail!("a string starting at byte {start} does not end"),
            }
        }
        self.at += 1;
        let raw = self
            .text
            .get(start..self.at)
            .context("a string is not on character boundaries")?;
        serde_json::from_str(raw).context("a string did not parse")
    }

    fn object(&mut self, depth: usize) -> anyhow::Result<Kind> {
        self.expect(b'{')?;
        let mut members = Vec::new();
        self.blank();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(Kind::Object(members));
        }
        loop {
            self.blank();
            let start = self.at;
            let key = self.string()?;
            self.blank();
            self.expect(b':')?;
            self.blank();
            let value = self.value(depth + 1)?;
            members.push(Member { key, start, value });
            self.blank();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Kind::Object(members));
                }
                _ => bail!("expected ',' or '}}' at byte {}", self.at),
            }
        }
    }

    fn array(&mut self, depth: usize) -> anyhow::Result<Kind> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.blank();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Ok(Kind::Array(items));
        }
        loop {
            self.blank();
            items.push(self.value(depth + 1)?);
            self.blank();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Kind::Array(items));
                }
                _ => bail!("expected ',' or ']' at byte {}", self.at),
            }
        }
    }
}

/// Byte edits to a text: each replaces `start..end` with `with`. Applied
/// from the end, so earlier offsets stay valid; ranges must not overlap.
#[derive(Debug, Default)]
pub struct Edits {
    edits: Vec<(usize, usize, String)>,
}

impl Edits {
    pub fn replace(&mut self, start: usize, end: usize, with: String) {
        self.edits.push((start, end, with));
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    pub fn apply(mut self, text: &str) -> anyhow::Result<String> {
        self.edits.sort_by_key(|(start, end, _)| (*start, *end));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, with) in &self.edits {
            if *start < at || *end < *start || *end > text.len() {
                bail!("overlapping edits");
            }
            out.push_str(text.get(at..*start).context("an edit splits a character")?);
            out.push_str(with);
            at = *end;
        }
        out.push_str(text.get(at..).context("an edit splits a character")?);
        Ok(out)
    }

    /// Add `values` (rendered entries: `"key": value` or an item) after
    /// the last child of `container`, in the layout its children have.
    pub fn append(
        &mut self,
        text: &str,
        container: &Node,
        values: &[Value],
        keys: Option<&[&str]>,
    ) {
        if values.is_empty() {
            return;
        }
        let layout = Layout::of(text, container);
        let rendered: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let value = layout.render(value);
                match keys {
                    Some(keys) => format!(
                        "{}:{}{value}",
                        serde_json::Value::String(keys[i].to_string()),
                        if layout.compact { "" } else { " " }
                    ),
                    None => value,
                }
            })
            .collect();
        let joined = rendered.join(&layout.separator());
        match container.children().last() {
            Some(&(_, last_end)) => {
                self.replace(
                    last_end,
                    last_end,
                    format!("{}{joined}", layout.separator()),
                );
            }
            None => {
                let inner = if layout.compact {
                    joined
                } else {
                    format!("\n{}{joined}\n{}", layout.child, layout.own)
                };
                // The empty container's own white space goes.
                self.replace(container.start + 1, container.end - 1, inner);
            }
        }
    }

    /// Remove the children of `container` at `indices` (sorted), with the
    /// separators that went with them.
    pub fn remove(&mut self, container: &Node, indices: &[usize]) {
        let children = container.children();
        if indices.is_empty() {
            return;
        }
        if indices.len() == children.len() {
            self.replace(container.start + 1, container.end - 1, String::new());
            return;
        }
        // Runs of neighbours, each removed with the separator after it, or
        // before it when it ends the container.
        let mut i = 0;
        while i < indices.len() {
            let first = indices[i];
            let mut last = first;
            while i + 1 < indices.len() && indices[i + 1] == last + 1 {
                i += 1;
                last = indices[i];
            }
            match children.get(last + 1) {
                Some((next_start, _)) => {
                    self.replace(children[first].0, *next_start, String::new())
                }
                None => self.replace(children[first - 1].1, children[last].1, String::new()),
            }
            i += 1;
        }
    }
}

/// How a container's children are laid out: on lines of their own with an
/// indent, or on one line.
struct Layout {
    compact: bool,
    /// The indent of the container's own line.
    own: String,
    /// The indent of its children.
    child: String,
    /// One level of indentation.
    unit: String,
}

impl Layout {
    fn of(text: &str, container: &Node) -> Layout {
        let own = line_indent(text, container.start);
        let unit = indent_unit(text);
        let first_child = container.children().first().map(|(start, _)| *start);
        match first_child {
            Some(start) => {
                let before = &text[container.start + 1..start];
                if before.contains('\n') {
                    Layout {
                        compact: false,
                        child: line_indent(text, start),
                        own,
                        unit,
                    }
                } else {
                    Layout {
                        compact: true,
                        child: String::new(),
                        own,
                        unit,
                    }
                }
            }
            None => {
                // An empty container: pretty when the file is.
                let compact = !text.trim_end().contains('\n');
                Layout {
                    compact,
                    child: format!("{own}{unit}"),
                    own,
                    unit,
                }
            }
        }
    }

    fn separator(&self) -> String {
        if self.compact {
            ",".to_string()
        } else {
            format!(",\n{}", self.child)
        }
    }

    /// `value` as the file writes values: compact, or pretty with its
    /// indent, continuation lines at the children's depth.
    fn render(&self, value: &Value) -> String {
        if self.compact {
            return value.to_string();
        }
        let mut bytes = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(self.unit.as_bytes());
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
        if serde::Serialize::serialize(value, &mut serializer).is_err() {
            return value.to_string();
        }
        let pretty = String::from_utf8_lossy(&bytes).into_owned();
        pretty.replace('\n', &format!("\n{}", self.child))
    }
}

/// The white space at the start of the line holding byte `at`.
fn line_indent(text: &str, at: usize) -> String {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// The file's indentation step: the indent of its first indented line
/// (the root's first child), else two spaces.
fn indent_unit(text: &str) -> String {
    text.lines()
        .skip(1)
        .map(|line| {
            line.chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect::<String>()
        })
        .find(|indent| !indent.is_empty())
        .unwrap_or_else(|| "  ".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_the_values() {
        let text = "{ \"a\" : [1, {\"b\":\"x\\\"\"}], \"c\": null }\n";
        let root = parse(text).expect("parses");
        let a = root.member("a").expect("a");
        assert_eq!(&text[a.value.start..a.value.end], "[1, {\"b\":\"x\\\"\"}]");
        assert_eq!(&text[a.start..a.start + 3], "\"a\"");
        let c = root.member("c").expect("c");
        assert_eq!(&text[c.value.start..c.value.end], "null");
        assert!(parse("{\"a\": 1} x").is_err());
        assert!(parse("[1, 2").is_err());
    }

    #[test]
    fn removing_children_takes_their_separators() {
        let text = "[1, 2, 3, 4]";
        let root = parse(text).expect("parses");
        for (indices, want) in [
            (&[0][..], "[2, 3, 4]"),
            (&[3][..], "[1, 2, 3]"),
            (&[1, 2][..], "[1, 4]"),
            (&[0, 3][..], "[2, 3]"),
            (&[0, 1, 2, 3][..], "[]"),
        ] {
            let mut edits = Edits::default();
            edits.remove(&root, indices);
            assert_eq!(edits.apply(text).expect("applies"), want, "{indices:?}");
        }
    }

    #[test]
    fn appending_follows_the_layout() {
        let pretty = "{\n    \"a\": [\n        1\n    ],\n    \"e\": []\n}\n";
        let root = parse(pretty).expect("parses");
        let mut edits = Edits::default();
        let a = &root.member("a").expect("a").value;
        edits.append(pretty, a, &[serde_json::json!({"x": [2]})], None);
        let e = &root.member("e").expect("e").value;
        edits.append(pretty, e, &[serde_json::json!(3)], None);
        edits.append(pretty, &root, &[serde_json::json!(true)], Some(&["t"]));
        assert_eq!(
            edits.apply(pretty).expect("applies"),
            "{\n    \"a\": [\n        1,\n        {\n            \"x\": [\n                2\n            ]\n        }\n    ],\n    \"e\": [\n        3\n    ],\n    \"t\": true\n}\n"
        );
        let compact = "{\"a\":[1]}";
        let root = parse(compact).expect("parses");
        let mut edits = Edits::default();
        edits.append(
            compact,
            &root.member("a").expect("a").value,
            &[serde_json::json!({"x": 2})],
            None,
        );
        assert_eq!(
            edits.apply(compact).expect("applies"),
            "{\"a\":[1,{\"x\":2}]}"
        );
    }
}
