//! Templates: the minijinja environment, the templates shipped in
//! `templates/` (embedded in the binary), how a name is looked up, and the
//! filters the templates share.
//!
//! A name resolves, first match wins, to `.git-session/templates/NAME.j2` in
//! the work tree, then `NAME.j2` in the user's template directory
//! (`$XDG_CONFIG_HOME/git-session/templates`, else
//! `~/.config/git-session/templates`), then the built-in. Values from the
//! session state are data: they are passed to templates as variables and
//! never compiled as template source.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use minijinja::{Environment, UndefinedBehavior};

/// Built-in templates, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("resume", include_str!("../templates/resume.j2")),
    ("handoff", include_str!("../templates/handoff.j2")),
    (
        "agent-context",
        include_str!("../templates/agent-context.j2"),
    ),
    ("commit", include_str!("../templates/commit.j2")),
    ("squash", include_str!("../templates/squash.j2")),
    ("pr", include_str!("../templates/pr.j2")),
];

/// Where templates may be overridden.
#[derive(Clone, Debug, Default)]
pub struct Dirs {
    /// `<work tree>/.git-session/templates`.
    pub repository: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME/git-session/templates` or `~/.config/…`.
    pub user: Option<PathBuf>,
}

impl Dirs {
    /// The directories for a work tree, with the user directory taken from
    /// `XDG_CONFIG_HOME` or `HOME` (read by the caller's environment).
    pub fn new(
        workdir: Option<&Path>,
        xdg_config_home: Option<PathBuf>,
        home: Option<PathBuf>,
    ) -> Self {
        let user = xdg_config_home
            .filter(|p| p.is_absolute())
            .or_else(|| home.map(|h| h.join(".config")))
            .map(|base| base.join("git-session").join("templates"));
        Dirs {
            repository: workdir.map(|w| w.join(".git-session").join("templates")),
            user,
        }
    }

    /// From the process environment: for the command layer only.
    pub fn from_env(workdir: Option<&Path>) -> Self {
        Dirs::new(
            workdir,
            std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
            std::env::var_os("HOME").map(PathBuf::from),
        )
    }
}

/// Where a template's source came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The work tree's `.git-session/templates`.
    Repository(PathBuf),
    /// The user's template directory.
    User(PathBuf),
    /// A file named with `--template PATH`.
    File(PathBuf),
    /// Compiled into the binary.
    Builtin,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Repository(p) => write!(f, "repository ({})", p.display()),
            Origin::User(p) => write!(f, "user ({})", p.display()),
            Origin::File(p) => write!(f, "file ({})", p.display()),
            Origin::Builtin => f.write_str("built-in"),
        }
    }
}

/// A template's name, source text and origin.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
    pub origin: Origin,
}

/// Find the template `name`. A value containing `/` or ending in `.j2` is
/// a path to a file.
pub fn resolve(name: &str, dirs: &Dirs) -> anyhow::Result<Source> {
    if name.contains('/') || name.ends_with(".j2") {
        let path = PathBuf::from(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read template file '{}'", path.display()))?;
        let stem = path
            .file_stem()
            .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned());
        return Ok(Source {
            name: stem,
            text,
            origin: Origin::File(path),
        });
    }
    let file = format!("{name}.j2");
    let candidates = [
        dirs.repository.as_ref().map(|d| (d.join(&file), true)),
        dirs.user.as_ref().map(|d| (d.join(&file), false)),
    ];
    for (path, in_repository) in candidates.into_iter().flatten() {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let origin = if in_repository {
                    Origin::Repository(path)
                } else {
                    Origin::User(path)
                };
                return Ok(Source {
                    name: name.to_string(),
                    text,
                    origin,
                });
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("could not read template '{}'", path.display()))
            }
        }
    }
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| Source {
            name: n.to_string(),
            text: text.to_string(),
            origin: Origin::Builtin,
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no template named '{name}': the built-in ones are {}",
                BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// An environment strict about undefined variables (a typo in a template is
/// an error, not a blank), with block tags that leave no stray lines, and
/// the shared filters.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.add_filter("bullet", bullet);
    env.add_filter("truncate_words", truncate_words);
    env.add_filter("relative_time", relative_time);
    env
}

/// Render `source` with `context`. Errors name the template and the line.
pub fn render_source(source: &Source, context: impl serde::Serialize) -> anyhow::Result<String> {
    let mut env = environment();
    env.add_template_owned(source.name.clone(), source.text.clone())
        .map_err(|err| anyhow::anyhow!(describe(&err, source)))?;
    let template = env
        .get_template(&source.name)
        .map_err(|err| anyhow::anyhow!(describe(&err, source)))?;
    template
        .render(minijinja::value::Serde(&context))
        .map_err(|err| anyhow::anyhow!(describe(&err, source)))
}

/// Resolve `name` and render it.
pub fn render(name: &str, dirs: &Dirs, context: impl serde::Serialize) -> anyhow::Result<String> {
    render_source(&resolve(name, dirs)?, context)
}

/// `template 'resume' (repository (…/resume.j2)), line 3: undefined value`.
fn describe(err: &minijinja::Error, source: &Source) -> String {
    let mut text = format!("template '{}' ({})", source.name, source.origin);
    if let Some(line) = err.line() {
        text.push_str(&format!(", line {line}"));
    }
    text.push_str(&format!(": {}", err.kind()));
    if let Some(detail) = err.detail() {
        text.push_str(&format!(" ({detail})"));
    }
    text
}

/// `{{ item | bullet }}`: `- first line`, continuation lines indented to
/// match, so multi-line items stay readable lists. `bullet("✓ ")` changes
/// the marker.
fn bullet(value: String, marker: Option<String>) -> String {
    let marker = marker.unwrap_or_else(|| "- ".into());
    let pad = " ".repeat(marker.chars().count());
    let mut out = String::new();
    for (i, line) in value.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&pad);
            }
        } else {
            out.push_str(&marker);
        }
        out.push_str(line);
    }
    if out.is_empty() {
        out.push_str(marker.trim_end());
    }
    out
}

/// `{{ text | truncate_words(12) }}`: at most N words, then `…`.
fn truncate_words(value: String, count: usize) -> String {
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.len() <= count {
        return words.join(" ");
    }
    format!("{} …", words[..count].join(" "))
}

/// `{{ created_at | relative_time }}`: an RFC 3339 time as `3 hours ago`.
fn relative_time(value: String) -> String {
    match gix::date::parse(&value, None) {
        Ok(time) => crate::time::ago(time),
        Err(_) => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bullet_indents_continuation_lines() {
        assert_eq!(bullet("a\nb\n\nc".into(), None), "- a\n  b\n\n  c");
        assert_eq!(bullet("x".into(), Some("✓ ".into())), "✓ x");
    }

    #[test]
    fn truncate_words_keeps_short_text() {
        assert_eq!(truncate_words("a b  c".into(), 5), "a b c");
        assert_eq!(truncate_words("a b c d".into(), 2), "a b …");
    }

    #[test]
    fn every_builtin_compiles() {
        let mut env = environment();
        for (name, text) in BUILTIN {
            env.add_template(name, text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn state_text_is_data_not_template_code() {
        let source = Source {
            name: "t".into(),
            text: "{{ task }}".into(),
            origin: Origin::Builtin,
        };
        let out = render_source(
            &source,
            serde_json::json!({"task": "{{ 7 * 7 }}{% if x %}"}),
        )
        .expect("renders");
        assert_eq!(out, "{{ 7 * 7 }}{% if x %}");
    }

    #[test]
    fn undefined_variable_names_template_and_line() {
        let source = Source {
            name: "broken".into(),
            text: "ok\n{{ nope }}\n".into(),
            origin: Origin::Builtin,
        };
        let err = render_source(&source, serde_json::json!({})).expect_err("undefined");
        let text = err.to_string();
        assert!(
            text.contains("'broken'") && text.contains("line 2"),
            "{text}"
        );
    }
}
