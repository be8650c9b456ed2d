//! Templates: the minijinja environment, the templates shipped in
//! `templates/` (embedded in the binary), how a name is looked up, how an
//! override is read, and the filters the templates share.
//!
//! A name resolves, first match wins, to `.git-session/templates/NAME.j2` in
//! the work tree, then `NAME.j2` in the user's template directory
//! (`$XDG_CONFIG_HOME/git-session/templates`, else
//! `~/.config/git-session/templates`), then the built-in. Values from the
//! session state are data: they are passed to templates as variables and
//! never compiled as template source.
//!
//! A repository's templates arrive with `git clone`, so they are untrusted
//! input, and hooks render them after every turn. Hence:
//!
//! - they are read only as regular files in `.git-session/templates` itself:
//!   a symbolic link there (or in place of either directory) could point at
//!   `~/.ssh/id_rsa` or at the `.env` the snapshot just left out. The file
//!   is opened without following links and checked to be the file examined;
//!   this guards against what a checkout can create, not against another
//!   process racing us in the user's own work tree.
//! - the templates whose text is published ([`PUBLISHED`]: commit messages,
//!   squash and PR descriptions) come from the repository only when the user
//!   set `session.trustRepoTemplates` in their own git config.
//! - every override (repository, user, `--template FILE`) is at most
//!   [`MAX_TEMPLATE_BYTES`] and renders with [`FUEL`] and at most
//!   [`MAX_OUTPUT_BYTES`] of output, so a render always ends, soon.
//! - a render's environment holds no templates and has no loader: `include`,
//!   `import` and `extends` find nothing, so no file is ever read by name
//!   from inside a template.
//! - an override that is refused or fails to render is replaced by the next
//!   in line (in the end the built-in) with one warning: a template never
//!   costs a checkpoint.
//!
//! The built-ins are ours and loop only over the context's lists, so they
//! run without fuel: they render whatever the size of the branch.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use minijinja::{Environment, ErrorKind, UndefinedBehavior};

use crate::error::Error;

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

/// Templates whose output other people read (commit messages, which
/// `--push` and `session.autoPush` publish; squash and PR descriptions): a
/// repository's own version of them needs `session.trustRepoTemplates`.
/// The others are shown to the user or their agent, who can read the
/// repository anyway.
pub const PUBLISHED: &[&str] = &["commit", "squash", "pr"];

/// The largest template source read (64 KiB; the built-ins are under 4 KiB).
pub const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;

/// The work one render of an override may do, in minijinja fuel (about
/// one unit per instruction and per 64 bytes of data made). A copy of the
/// built-in `resume` needs about 24 000 for a session of 2 000 done items
/// and 200 commits, 53 000 with 1 000 changed files as well, 320 000 with
/// 10 000 (see `builtins_copied_as_overrides_render_large_sessions_within_limits`);
/// 2 000 000 is spent in about 30 ms (release build), and the most memory
/// a template reached within it was about 200 MiB.
pub const FUEL: u64 = 2_000_000;

/// The most text one render of an override may produce (4 MiB; a copy of
/// the built-in `resume` writes about 570 KB for 10 000 changed files).
pub const MAX_OUTPUT_BYTES: usize = 4 * 1024 * 1024;

/// Nesting depth of loops and conditions; the built-ins use 4, minijinja's
/// own default is 500.
const RECURSION_LIMIT: usize = 100;

/// Where the repository's templates live, under the work tree.
const REPOSITORY_DIR: [&str; 2] = [".git-session", "templates"];

/// Where templates may be overridden.
#[derive(Clone, Debug, Default)]
pub struct Dirs {
    /// The work tree, whose `.git-session/templates` holds the repository's.
    pub work_tree: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME/git-session/templates` or `~/.config/…`.
    pub user: Option<PathBuf>,
    /// Whether the repository's templates may write published text
    /// (`session.trustRepoTemplates`).
    pub trust_repository: bool,
}

impl Dirs {
    /// The directories for a work tree, with the user directory taken from
    /// `XDG_CONFIG_HOME` or `HOME` (read by the caller's environment). The
    /// repository is not trusted.
    pub fn new(
        work_tree: Option<&Path>,
        xdg_config_home: Option<PathBuf>,
        home: Option<PathBuf>,
    ) -> Self {
        let user = xdg_config_home
            .filter(|p| p.is_absolute())
            .or_else(|| home.map(|h| h.join(".config")))
            .map(|base| base.join("git-session").join("templates"));
        Dirs {
            work_tree: work_tree.map(Path::to_path_buf),
            user,
            trust_repository: false,
        }
    }

    /// For `repo`, trusting its templates as `config` says, with the user
    /// directory from the process environment: for the command layer only.
    pub fn for_repo(repo: &gix::Repository, config: &crate::config::Config) -> Self {
        Dirs {
            trust_repository: config.trust_repo_templates,
            ..Dirs::from_env(repo.workdir())
        }
    }

    /// From the process environment, not trusting the repository: for the
    /// command layer only.
    pub fn from_env(work_tree: Option<&Path>) -> Self {
        Dirs::new(
            work_tree,
            std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
            crate::platform::home_dir(),
        )
    }

    /// `<work tree>/.git-session/templates`, when there is a work tree.
    pub fn repository(&self) -> Option<PathBuf> {
        self.work_tree
            .as_ref()
            .map(|w| REPOSITORY_DIR.iter().fold(w.clone(), |p, c| p.join(c)))
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

impl Origin {
    /// `repository`, `user`, `file` or `built-in`.
    fn kind(&self) -> &'static str {
        match self {
            Origin::Repository(_) => "repository",
            Origin::User(_) => "user",
            Origin::File(_) => "file",
            Origin::Builtin => "built-in",
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Repository(p) | Origin::User(p) | Origin::File(p) => {
                write!(f, "{} ({})", self.kind(), p.display())
            }
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

/// The built-in template `name`.
pub fn builtin(name: &str) -> Option<Source> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| Source {
            name: n.to_string(),
            text: text.to_string(),
            origin: Origin::Builtin,
        })
}

/// Why an override was not used.
#[derive(Debug, thiserror::Error)]
enum Refused {
    #[error("it is a symbolic link")]
    Symlink,
    #[error("'{}' is a symbolic link", .0.display())]
    LinkedDir(PathBuf),
    #[error("'{}' is not a directory", .0.display())]
    NotDirectory(PathBuf),
    #[error("it is not a regular file")]
    NotRegular,
    #[error("it is larger than {} KiB", MAX_TEMPLATE_BYTES / 1024)]
    TooLarge,
    #[error("it is not UTF-8")]
    NotUtf8,
    #[error("it changed while it was read")]
    Changed,
    #[error(
        "a repository's {0} template writes published text, so it is used only with 'git config session.trustRepoTemplates true'"
    )]
    Untrusted(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A template and what stands in for it if it fails: the overrides that
/// may be used, in order, then the built-in. Never empty.
#[derive(Clone, Debug)]
pub struct Template {
    sources: Vec<Source>,
}

impl Template {
    /// Find the template `name`; a value containing `/` or ending in `.j2`
    /// is a path to a file, which is the whole chain. Each override that may
    /// not be used adds a warning naming what is used instead.
    pub fn load(name: &str, dirs: &Dirs, warnings: &mut Vec<String>) -> anyhow::Result<Template> {
        if name.contains('/') || name.ends_with(".j2") {
            let path = PathBuf::from(name);
            let text = read_file(&path).map_err(|why| {
                Error::Template(format!(
                    "could not read template file '{}': {why}",
                    path.display()
                ))
            })?;
            let stem = path
                .file_stem()
                .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned());
            return Ok(Template {
                sources: vec![Source {
                    name: stem,
                    text,
                    origin: Origin::File(path),
                }],
            });
        }
        let file = format!("{name}.j2");
        let mut chain: Vec<Result<Source, (Origin, Refused)>> = Vec::new();
        if let (Some(work_tree), Some(dir)) = (&dirs.work_tree, dirs.repository()) {
            let origin = Origin::Repository(dir.join(&file));
            let read = read_repository(work_tree, &file).and_then(|text| match text {
                Some(_) if PUBLISHED.contains(&name) && !dirs.trust_repository => {
                    Err(Refused::Untrusted(name.to_string()))
                }
                text => Ok(text),
            });
            match read {
                Ok(Some(text)) => chain.push(Ok(Source {
                    name: name.to_string(),
                    text,
                    origin,
                })),
                Ok(None) => {}
                Err(why) => chain.push(Err((origin, why))),
            }
        }
        if let Some(dir) = &dirs.user {
            let path = dir.join(&file);
            match read_file(&path) {
                Ok(text) => chain.push(Ok(Source {
                    name: name.to_string(),
                    text,
                    origin: Origin::User(path),
                })),
                Err(Refused::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(why) => chain.push(Err((Origin::User(path), why))),
            }
        }
        chain.extend(builtin(name).map(Ok));

        let mut sources = Vec::new();
        let mut refused = Vec::new();
        for (i, entry) in chain.iter().enumerate() {
            match entry {
                Ok(source) => sources.push(source.clone()),
                Err((origin, why)) => {
                    let next = chain[i + 1..].iter().find_map(|e| e.as_ref().ok());
                    refused.push(format!(
                        "template '{name}' ({origin}) not used: {why}{}",
                        next.map_or_else(String::new, |n| format!(
                            "; using the {} one instead",
                            n.origin.kind()
                        ))
                    ));
                }
            }
        }
        if sources.is_empty() {
            if let Some(first) = refused.into_iter().next() {
                return Err(Error::Template(first).into());
            }
            return Err(Error::Template(format!(
                "no template named '{name}': the built-in ones are {}",
                BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into());
        }
        warnings.extend(refused);
        Ok(Template { sources })
    }

    /// The source a render uses first.
    pub fn source(&self) -> &Source {
        &self.sources[0]
    }

    /// Render with `context`. When the source fails and another stands in
    /// line, say why in `warnings` and use that one, now and for later
    /// renders.
    pub fn render(
        &mut self,
        context: &impl serde::Serialize,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<String> {
        loop {
            match render_source(&self.sources[0], context) {
                Ok(text) => return Ok(text),
                Err(err) if self.sources.len() > 1 => {
                    self.sources.remove(0);
                    warnings.push(format!(
                        "{err:#}; using the {} one instead",
                        self.sources[0].origin.kind()
                    ));
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// Resolve `name` and render it, falling back as [`Template::render`] does.
pub fn render(
    name: &str,
    dirs: &Dirs,
    context: &impl serde::Serialize,
    warnings: &mut Vec<String>,
) -> anyhow::Result<String> {
    Template::load(name, dirs, warnings)?.render(context, warnings)
}

/// The template names a listing shows: the built-ins, then every `*.j2` in
/// the override directories (a repository directory that is a symbolic
/// link is not read).
pub fn names(dirs: &Dirs) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    let repository = dirs
        .work_tree
        .as_ref()
        .filter(|w| matches!(repository_dir(w), Ok(Some(_))))
        .and_then(|_| dirs.repository());
    for dir in [repository.as_ref(), dirs.user.as_ref()]
        .into_iter()
        .flatten()
    {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "j2") {
                if let Some(stem) = path.file_stem() {
                    let stem = stem.to_string_lossy().into_owned();
                    if !names.contains(&stem) {
                        names.push(stem);
                    }
                }
            }
        }
    }
    names
}

/// `<work tree>/.git-session/templates`, when both directories are real
/// directories; `None` when either is missing.
fn repository_dir(work_tree: &Path) -> Result<Option<PathBuf>, Refused> {
    let mut dir = work_tree.to_path_buf();
    for component in REPOSITORY_DIR {
        dir.push(component);
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(Refused::LinkedDir(dir)),
            Ok(meta) if !meta.is_dir() => return Err(Refused::NotDirectory(dir)),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err.into()),
        }
    }
    Ok(Some(dir))
}

/// The repository's template `file`, read without following any symbolic
/// link below the work tree; `None` when there is none.
fn read_repository(work_tree: &Path, file: &str) -> Result<Option<String>, Refused> {
    // `file` is `NAME.j2` for a NAME without `/`; still, one plain component.
    let mut components = Path::new(file).components();
    if !matches!(
        (components.next(), components.next()),
        (Some(std::path::Component::Normal(_)), None)
    ) {
        return Ok(None);
    }
    let Some(dir) = repository_dir(work_tree)? else {
        return Ok(None);
    };
    let path = dir.join(file);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    if meta.file_type().is_symlink() {
        return Err(Refused::Symlink);
    }
    if !meta.is_file() {
        return Err(Refused::NotRegular);
    }
    let file = open(&path, true)?;
    if !same_file(&meta, &file.metadata()?) {
        return Err(Refused::Changed);
    }
    read_capped(file).map(Some)
}

/// A user's template or a `--template FILE`: the user's own, so a link is
/// followed (dotfile managers link templates into place); still a regular
/// file and capped.
fn read_file(path: &Path) -> Result<String, Refused> {
    read_capped(open(path, false)?)
}

/// Open for reading; `no_follow` refuses a symbolic link as the last
/// component. Never blocks on a FIFO: opened non-blocking, and only a
/// regular file is read.
fn open(path: &Path, no_follow: bool) -> Result<std::fs::File, Refused> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        let follow = if no_follow { libc::O_NOFOLLOW } else { 0 };
        options.custom_flags(libc::O_NONBLOCK | follow);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        // O_NOFOLLOW on a link fails with ELOOP.
        #[cfg(unix)]
        Err(err) if no_follow && err.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Refused::Symlink)
        }
        Err(err) => return Err(err.into()),
    };
    if !file.metadata()?.is_file() {
        return Err(Refused::NotRegular);
    }
    Ok(file)
}

/// Whether two metadata describe the same file (device and inode).
#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// At most [`MAX_TEMPLATE_BYTES`], as UTF-8.
fn read_capped(file: std::fs::File) -> Result<String, Refused> {
    let mut bytes = Vec::new();
    file.take(MAX_TEMPLATE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_TEMPLATE_BYTES {
        return Err(Refused::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| Refused::NotUtf8)
}

/// An environment strict about undefined variables (a typo in a template is
/// an error, not a blank), with block tags that leave no stray lines, the
/// shared filters, and no way to load another template.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_recursion_limit(RECURSION_LIMIT);
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.add_filter("bullet", bullet);
    env.add_filter("quote", quote);
    env.add_filter("truncate_words", truncate_words);
    env.add_filter("relative_time", relative_time);
    env
}

/// Render `source` with `context`, an override within [`FUEL`] and
/// [`MAX_OUTPUT_BYTES`]. Errors name the template and the line.
pub fn render_source(source: &Source, context: impl serde::Serialize) -> anyhow::Result<String> {
    let mut env = environment();
    let limited = source.origin != Origin::Builtin;
    if limited {
        env.set_fuel(Some(FUEL));
    }
    // An override's failure is the user's to fix; a built-in's is a bug.
    let fail = |message: String| -> anyhow::Error {
        if limited {
            Error::Template(message).into()
        } else {
            anyhow::anyhow!(message)
        }
    };
    // Not added to the environment: a template cannot include itself.
    let template = env
        .template_from_named_str(&source.name, &source.text)
        .map_err(|err| fail(describe(&err, source)))?;
    let context = minijinja::value::Serde(&context);
    if !limited {
        return template
            .render(context)
            .map_err(|err| fail(describe(&err, source)));
    }
    let mut out = Capped::default();
    let rendered = template.render_captured_to(context, &mut out).map(drop);
    match rendered {
        Ok(()) => String::from_utf8(out.bytes)
            .map_err(|_| fail(format!("template '{}' wrote invalid UTF-8", source.name))),
        Err(_) if out.full => Err(fail(format!(
            "template '{}' ({}): its output is larger than {} MiB",
            source.name,
            source.origin,
            MAX_OUTPUT_BYTES / (1024 * 1024)
        ))),
        Err(err) => Err(fail(describe(&err, source))),
    }
}

/// Collects output up to [`MAX_OUTPUT_BYTES`], then fails the render.
#[derive(Default)]
struct Capped {
    bytes: Vec<u8>,
    full: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.full = true;
            return Err(std::io::Error::other("template output limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `template 'resume' (repository (…/resume.j2)), line 3: undefined value`.
fn describe(err: &minijinja::Error, source: &Source) -> String {
    let mut text = format!("template '{}' ({})", source.name, source.origin);
    if let Some(line) = err.line() {
        text.push_str(&format!(", line {line}"));
    }
    text.push_str(&format!(": {}", err.kind()));
    // Which name: the expression the error points at, as written.
    if err.kind() == ErrorKind::UndefinedError {
        let written = err
            .range()
            .and_then(|range| source.text.get(range))
            .map(str::trim)
            .filter(|name| !name.is_empty() && name.len() <= 80 && !name.contains('\n'));
        if let Some(name) = written {
            text.push_str(&format!(" '{name}'"));
        }
    }
    if err.kind() == ErrorKind::OutOfFuel {
        text.push_str(&format!(" (a template may do {FUEL} units of work)"));
    }
    if let Some(detail) = err.detail() {
        text.push_str(&format!(" ({detail})"));
    }
    text
}

/// `{{ text | quote }}`: every line as a Markdown quote, `> line` (a blank
/// line `>`), so an agent's own words stand apart from the state around
/// them.
fn quote(value: String) -> String {
    value
        .lines()
        .map(|line| {
            if line.trim().is_empty() {
                ">".to_string()
            } else {
                format!("> {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
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
    fn quote_marks_every_line() {
        assert_eq!(quote("a\n\nb".into()), "> a\n>\n> b");
    }

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
        assert!(text.contains("undefined value 'nope'"), "{text}");
    }

    /// The fuel `source` uses with `context`, run under the limit.
    fn fuel_used(source: &Source, context: &serde_json::Value) -> u64 {
        let mut env = environment();
        env.set_fuel(Some(FUEL));
        let template = env
            .template_from_named_str(&source.name, &source.text)
            .expect("compiles");
        let rendered = template
            .render_captured(minijinja::value::Serde(context))
            .unwrap_or_else(|e| panic!("{}: {e:#}", source.name));
        rendered.state().fuel_levels().expect("fuel is tracked").0
    }

    /// A large session: the `long_lists` fixture grown to 2 000 done items,
    /// 200 commits after the checkpoint and `files` changed files, with the
    /// extra variables of the commit and squash templates.
    fn large_context(files: usize) -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/contexts/long_lists.json"
        );
        let text = std::fs::read_to_string(path).expect("read the fixture");
        let mut c: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let grow =
            |list: &serde_json::Value, n: usize, edit: &dyn Fn(&mut serde_json::Value, usize)| {
                let first = list[0].clone();
                serde_json::Value::Array(
                    (0..n)
                        .map(|i| {
                            let mut item = first.clone();
                            edit(&mut item, i);
                            item
                        })
                        .collect(),
                )
            };
        c["done"] = grow(&c["done"], 2000, &|v, i| {
            *v = format!("move the /v1/resource{i} handlers into api/resource{i}.rs").into()
        });
        c["commits_after"] = grow(&c["commits_after"], 200, &|v, i| {
            v["subject"] = format!("commit {i}: what it changed").into()
        });
        c["files"] = grow(&c["files"], files, &|v, i| {
            v["path"] = format!("src/api/resource{i}.rs").into()
        });
        c["omitted"] = serde_json::json!({"done": 0, "decisions": 0, "notes": 0, "files": 0, "commits_after": 0, "uncommitted": 0});
        let open: Vec<serde_json::Value> = c["doing"]
            .as_array()
            .into_iter()
            .chain(c["todo"].as_array())
            .flatten()
            .cloned()
            .collect();
        c["open"] = open.into();
        c["state"] = serde_json::json!({});
        c["title"] = "Split the api module".into();
        c["task_rest"] = "".into();
        c["commits"] = 240.into();
        c["archive"] = "refs/session/archive/feat/big-refactor/1".into();
        c
    }

    /// A user's copy of any built-in renders a large session well inside
    /// the limits. Run with `--nocapture` to see the fuel each one needs.
    #[test]
    fn builtins_copied_as_overrides_render_large_sessions_within_limits() {
        for files in [0, 1_000, 10_000] {
            let context = large_context(files);
            for (name, text) in BUILTIN {
                let source = Source {
                    name: name.to_string(),
                    text: text.to_string(),
                    origin: Origin::User(PathBuf::from(format!("{name}.j2"))),
                };
                let out = render_source(&source, &context)
                    .unwrap_or_else(|e| panic!("{name} with {files} files: {e:#}"));
                let fuel = fuel_used(&source, &context);
                eprintln!(
                    "{name}: 2000 done, 200 commits, {files} files: fuel {fuel}, output {} bytes",
                    out.len()
                );
                assert!(fuel < FUEL / 5, "{name} with {files} files: fuel {fuel}");
                assert!(
                    out.len() < MAX_OUTPUT_BYTES / 5,
                    "{name}: {} bytes",
                    out.len()
                );
            }
        }
    }

    #[test]
    fn published_templates_come_from_the_repository_only_when_trusted() {
        let work_tree = tempfile::tempdir().expect("tempdir");
        let dir = work_tree.path().join(".git-session/templates");
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (name, _) in BUILTIN {
            std::fs::write(dir.join(format!("{name}.j2")), "repository\n").expect("write");
        }
        let mut dirs = Dirs::new(Some(work_tree.path()), None, None);
        for trust in [false, true] {
            dirs.trust_repository = trust;
            for (name, _) in BUILTIN {
                let mut warnings = Vec::new();
                let template = Template::load(name, &dirs, &mut warnings).expect("loads");
                let from_repository = matches!(template.source().origin, Origin::Repository(_));
                let published = PUBLISHED.contains(name);
                assert_eq!(
                    from_repository,
                    trust || !published,
                    "{name}, trust {trust}"
                );
                assert_eq!(
                    warnings.len(),
                    usize::from(!from_repository),
                    "{warnings:?}"
                );
            }
        }
    }
}
