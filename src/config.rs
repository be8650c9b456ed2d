//! Settings: the defaults, then the repository's `.git-session.toml`, then
//! git config `session.*` (every scope, `git -c` included), then
//! command-line flags, each overriding the one before.
//!
//! Every setting is read in one place ([`SETTINGS`]) and through one
//! validation path, so a value is either understood or refused with an
//! error naming the key, where it was set (a git config file, `git -c`, or
//! the repository's file and line) and what is accepted. Values are read as
//! git reads them: booleans as `git config --type=bool` does, numbers and
//! sizes as `--type=int` does (`k`, `m`, `g` suffixes, `0x` hex).
//!
//! Trust: `.git-session.toml` comes with the repository, from whoever
//! committed it, so it may only choose what is harmless to the person who
//! clones it. A notes ref must be under `refs/notes/` (a committed file must
//! never make a checkpoint write onto a branch or tag), and pushing after
//! every checkpoint (`session.autoPush`) is the user's own decision: the file
//! cannot set it, nor exempt files from the secret patterns
//! (`session.secretAllow`; see [`crate::secrets`]). The user's git config is
//! trusted.

mod parameters;

use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;

use crate::error::Error;

pub use parameters::{command_line_overrides, outside_repository};

/// The file at the work tree root that a team commits.
pub const FILE_NAME: &str = ".git-session.toml";

/// `.git-session.toml` larger than this is refused unread: settings are a
/// few lines, and the file comes from whoever committed it.
pub const MAX_FILE_SIZE: u64 = 64 * 1024;

/// Git config keys, for `git config session.<key>`.
pub mod key {
    pub const NOTES_REF: &str = "session.notesRef";
    pub const SIZE_LIMIT: &str = "session.sizeLimit";
    pub const SECRET_PATTERNS: &str = "session.secretPatterns";
    pub const SECRET_ALLOW: &str = "session.secretAllow";
    pub const SUBJECT_PREFIX: &str = "session.subjectPrefix";
    pub const SEARCH_DEPTH: &str = "session.searchDepth";
    pub const AUTO_PUSH: &str = "session.autoPush";
    pub const TRUST_REPO_TEMPLATES: &str = "session.trustRepoTemplates";
    pub const NETWORK_TIMEOUT: &str = "session.networkTimeout";
    pub const HOOK_BRANCHES: &str = "session.hookBranches";
}

/// Untracked files larger than this are left out (20 MiB).
pub const DEFAULT_SIZE_LIMIT: u64 = 20 * 1024 * 1024;

/// How many commits in a row without a checkpoint a walk passes before it
/// stops looking. It bounds the cost of "no checkpoint here" on a long
/// history, while a session with checkpoints is walked to its start.
pub const DEFAULT_SEARCH_DEPTH: usize = 1000;

/// How long a push or fetch a person started may take (5 minutes): long
/// enough for a slow link and a pre-push hook, short enough that a dead
/// remote does not hang the terminal.
pub const DEFAULT_NETWORK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The most a push inside an agent's hook may take: the agent waits for
/// the hook, and may kill it.
pub const HOOK_NETWORK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The resolved settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Full name of the notes ref, `refs/notes/session` by default; always
    /// under `refs/notes/` and a valid ref name.
    pub notes_ref: String,
    /// Untracked files larger than this many bytes are skipped (at least 1).
    pub size_limit: u64,
    /// Secret patterns configured on top of the built-in deny-list
    /// ([`crate::secrets::DEFAULT_DENY`]), from any layer.
    pub secret_patterns: Vec<String>,
    /// Patterns exempt from the secret patterns, on top of the built-in
    /// allow-list ([`crate::secrets::DEFAULT_ALLOW`]). Read from git config
    /// only: a cloned repository must not be able to have its clones'
    /// secrets committed.
    pub secret_allow: Vec<String>,
    /// First word of a checkpoint commit's subject.
    pub subject_prefix: String,
    /// Push (branch, then notes) after every checkpoint.
    pub auto_push: bool,
    /// Use the repository's own templates also for published text (commit
    /// messages, squash and PR descriptions). Read from git config only:
    /// a cloned repository must not be able to trust itself.
    pub trust_repo_templates: bool,
    /// Commits in a row without a checkpoint a history walk passes (at
    /// least 1).
    pub search_depth: usize,
    /// How long one git push or fetch may run before it is stopped; `None`
    /// for no limit (`session.networkTimeout = 0`).
    pub network_timeout: Option<std::time::Duration>,
    /// Branch patterns (as `git branch --list` reads them) on which agent
    /// hooks checkpoint; `None`: every branch but the default branch.
    /// Elsewhere, and on a detached HEAD, hooks save to a rescue ref.
    pub hook_branches: Option<Vec<String>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            notes_ref: "refs/notes/session".into(),
            size_limit: DEFAULT_SIZE_LIMIT,
            secret_patterns: Vec::new(),
            secret_allow: Vec::new(),
            subject_prefix: "checkpoint".into(),
            auto_push: false,
            trust_repo_templates: false,
            search_depth: DEFAULT_SEARCH_DEPTH,
            network_timeout: Some(DEFAULT_NETWORK_TIMEOUT),
            hook_branches: None,
        }
    }
}

/// Where a setting was found, as error messages name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The repository's `.git-session.toml`, at a line (1-based) when the
    /// problem has one.
    File { path: PathBuf, line: Option<usize> },
    /// A git config file (any scope, or a file it includes).
    GitFile(PathBuf),
    /// `git -c KEY=VALUE` (git passes them in `GIT_CONFIG_PARAMETERS`).
    CommandLine,
    /// `GIT_CONFIG_COUNT`, `GIT_CONFIG_KEY_<n>`, `GIT_CONFIG_VALUE_<n>`.
    Environment,
    /// git config whose file gix did not name.
    Git,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "'{}' line {line}", path.display()),
            Origin::File { path, line: None } => write!(f, "'{}'", path.display()),
            Origin::GitFile(path) => write!(f, "git config file '{}'", path.display()),
            Origin::CommandLine => f.write_str("the command line (git -c)"),
            Origin::Environment => {
                f.write_str("the environment (GIT_CONFIG_COUNT, GIT_CONFIG_KEY_<n>)")
            }
            Origin::Git => f.write_str("git config"),
        }
    }
}

/// One setting's value as a layer gives it, before validation.
#[derive(Debug)]
enum Given<'a> {
    /// A git config value, or a TOML string.
    Text(&'a str),
    /// A git config key without `= value`, which git reads as true.
    Implicit,
    /// A TOML integer.
    Integer(i128),
    /// A TOML boolean.
    Bool(bool),
    /// A TOML array.
    List(Vec<Given<'a>>),
    /// Any other TOML value, by its type's name.
    Other(&'static str),
}

/// Whether the repository's file may set a setting.
#[derive(Clone, Copy, Debug)]
enum InFile {
    /// Yes, under this key.
    Key(&'static str),
    /// No: only the user's git config may. The file's key is recognised so
    /// the refusal can say why.
    TrustedOnly(&'static str),
}

impl InFile {
    /// The key in the file.
    fn key(self) -> &'static str {
        match self {
            InFile::Key(key) | InFile::TrustedOnly(key) => key,
        }
    }
}

/// One setting: its names in each layer and how a value is applied.
struct Setting {
    git: &'static str,
    file: InFile,
    /// Every value counts (in order), not only the last one.
    multi: bool,
    apply: fn(&mut Config, &Given<'_>) -> Result<(), String>,
}

/// Every setting git-session reads. Add new ones here: both layers, the
/// errors and the hook fallback then come for free.
const SETTINGS: &[Setting] = &[
    Setting {
        git: key::NOTES_REF,
        file: InFile::Key("notes_ref"),
        multi: false,
        apply: |config, given| {
            config.notes_ref = notes_ref(text(given)?)?;
            Ok(())
        },
    },
    Setting {
        git: key::SIZE_LIMIT,
        file: InFile::Key("size_limit"),
        multi: false,
        apply: |config, given| {
            let limit = integer(given, "a size")?;
            if limit < 1 {
                return Err(format!(
                    "{} is {}; {SIZE_RANGE}",
                    shown(given),
                    if limit < 0 { "negative" } else { "zero" }
                ));
            }
            config.size_limit = u64::try_from(limit).map_err(|_| out_of_range(given))?;
            Ok(())
        },
    },
    Setting {
        git: key::SECRET_PATTERNS,
        file: InFile::Key("secret_patterns"),
        multi: true,
        apply: |config, given| {
            let mut add = |given: &Given<'_>| -> Result<(), String> {
                let pattern = text(given)?;
                if pattern.is_empty() {
                    return Err("a secret pattern is empty; give a file name or path glob, such as '*.secret'".into());
                }
                config.secret_patterns.push(pattern.to_string());
                Ok(())
            };
            match given {
                // The file's array; a problem names the key's line.
                Given::List(items) => items.iter().try_for_each(add),
                single => add(single),
            }
        },
    },
    Setting {
        git: key::SECRET_ALLOW,
        file: InFile::TrustedOnly("secret_allow"),
        multi: true,
        apply: |config, given| {
            let pattern = text(given)?;
            if pattern.is_empty() {
                return Err(
                    "an allow pattern is empty; give a file name or path glob, such as '.env.test'"
                        .into(),
                );
            }
            config.secret_allow.push(pattern.to_string());
            Ok(())
        },
    },
    Setting {
        git: key::SUBJECT_PREFIX,
        file: InFile::Key("subject_prefix"),
        multi: false,
        apply: |config, given| {
            let prefix = text(given)?;
            if prefix.trim().is_empty() {
                return Err(
                    "the subject prefix is empty; give a word, such as 'checkpoint'".into(),
                );
            }
            if prefix.chars().any(char::is_control) {
                return Err(format!(
                    "{} holds a line break or control character; a subject is one line",
                    shown(given)
                ));
            }
            config.subject_prefix = prefix.to_string();
            Ok(())
        },
    },
    Setting {
        git: key::SEARCH_DEPTH,
        file: InFile::Key("search_depth"),
        multi: false,
        apply: |config, given| {
            let depth = integer(given, "a number")?;
            if depth < 1 {
                return Err(format!(
                    "{} is below 1; the search depth is a number of commits, 1 or more (default {DEFAULT_SEARCH_DEPTH})",
                    shown(given)
                ));
            }
            config.search_depth = usize::try_from(depth).unwrap_or(usize::MAX);
            Ok(())
        },
    },
    Setting {
        git: key::NETWORK_TIMEOUT,
        file: InFile::Key("network_timeout"),
        multi: false,
        apply: |config, given| {
            let seconds = integer(given, "a number of seconds")?;
            if seconds < 0 {
                return Err(format!(
                    "{} is negative; the network timeout is a number of seconds, 1 or more, or 0 for no limit (default {})",
                    shown(given),
                    DEFAULT_NETWORK_TIMEOUT.as_secs()
                ));
            }
            let seconds = u64::try_from(seconds).map_err(|_| out_of_range(given))?;
            config.network_timeout = (seconds > 0).then(|| std::time::Duration::from_secs(seconds));
            Ok(())
        },
    },
    Setting {
        git: key::HOOK_BRANCHES,
        file: InFile::Key("hook_branches"),
        multi: true,
        apply: |config, given| {
            let mut add = |given: &Given<'_>| -> Result<(), String> {
                let pattern = text(given)?.trim();
                if pattern.is_empty() {
                    return Err("a branch pattern is empty; give a branch name or glob, such as 'feat/*' or '*'".into());
                }
                config
                    .hook_branches
                    .get_or_insert_with(Vec::new)
                    .push(pattern.to_string());
                Ok(())
            };
            match given {
                Given::List(items) => items.iter().try_for_each(add),
                single => add(single),
            }
        },
    },
    Setting {
        git: key::AUTO_PUSH,
        file: InFile::TrustedOnly("auto_push"),
        multi: false,
        apply: |config, given| {
            config.auto_push = boolean(given)?;
            Ok(())
        },
    },
    Setting {
        git: key::TRUST_REPO_TEMPLATES,
        file: InFile::TrustedOnly("trust_repo_templates"),
        multi: false,
        apply: |config, given| {
            config.trust_repo_templates = boolean(given)?;
            Ok(())
        },
    },
];

const SIZE_RANGE: &str =
    "a size is 1 byte or more, in bytes or with a k, m or g suffix (such as 500k, 20m, 1g)";

impl Config {
    /// Whether agent hooks checkpoint on `branch` (`None`: a detached
    /// HEAD, never), given the repository's `default` branch names.
    pub fn hooks_checkpoint_on(&self, branch: Option<&str>, default: &[String]) -> bool {
        let Some(branch) = branch else {
            return false;
        };
        match &self.hook_branches {
            None => !default.iter().any(|d| d == branch),
            Some(patterns) => patterns.iter().any(|pattern| {
                gix::glob::wildmatch(
                    pattern.as_bytes().as_bstr(),
                    branch.as_bytes().as_bstr(),
                    gix::glob::wildmatch::Mode::empty(),
                )
            }),
        }
    }

    /// Resolve the settings for `repo`, refusing any invalid one with an
    /// [`Error::BadConfig`] that names it.
    pub fn load(repo: &gix::Repository) -> Result<Config, Error> {
        let mut problems = Vec::new();
        let config = Config::resolve(repo, &mut problems);
        match problems.into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(config),
        }
    }

    /// Resolve the settings for an agent hook, which must save the work
    /// whatever the settings say: an invalid `.git-session.toml` is left out
    /// as a whole, an invalid git config value by itself (the value below
    /// it serves). Returns the problems too, for warnings.
    pub fn load_or_defaults(repo: &gix::Repository) -> (Config, Vec<Error>) {
        let mut problems = Vec::new();
        let config = Config::resolve(repo, &mut problems);
        (config, problems)
    }

    /// These settings for a push inside an agent's hook: the network
    /// timeout at most [`HOOK_NETWORK_TIMEOUT`].
    pub fn within_hook(&self) -> Config {
        let limit = match self.network_timeout {
            Some(timeout) => timeout.min(HOOK_NETWORK_TIMEOUT),
            None => HOOK_NETWORK_TIMEOUT,
        };
        Config {
            network_timeout: Some(limit),
            ..self.clone()
        }
    }

    /// The warning for a problem [`Config::load_or_defaults`] went past.
    pub fn fallback_warning(problem: &Error) -> String {
        match problem {
            Error::BadConfig {
                origin: Origin::File { path, .. },
                ..
            } => format!(
                "{problem}; ignoring '{}' and using git config and the defaults",
                path.display()
            ),
            _ => format!("{problem}; ignoring it"),
        }
    }

    /// Every layer over the defaults; problems are collected, and the part
    /// that caused one (the whole file, or one git key) is left out.
    fn resolve(repo: &gix::Repository, problems: &mut Vec<Error>) -> Config {
        let mut config = Config::default();
        if let Some(workdir) = repo.workdir() {
            let path = workdir.join(FILE_NAME);
            let mut from_file = config.clone();
            match apply_file(&mut from_file, &path) {
                Ok(()) => config = from_file,
                Err(problem) => problems.push(problem),
            }
        }
        apply_git(&mut config, repo, problems);
        config
    }
}

/// The repository's file, all or nothing: any problem leaves `config` in an
/// unspecified state and is returned.
fn apply_file(config: &mut Config, path: &Path) -> Result<(), Error> {
    let Some(text) = read_repository_file(path)? else {
        return Ok(());
    };
    let refusal =
        |line: usize, key: &str, problem: String, hint: Option<String>| Error::BadConfig {
            key: Some(key.to_string()),
            origin: Origin::File {
                path: path.to_path_buf(),
                line: Some(line),
            },
            problem,
            hint,
        };
    let bad = |line, key, problem| refusal(line, key, problem, None);
    let line_of = |offset: usize| line_number(&text, offset);
    let table = toml::de::DeTable::parse(&text).map_err(|err| Error::BadConfig {
        key: None,
        origin: Origin::File {
            path: path.to_path_buf(),
            line: err.span().map(|span| line_of(span.start)),
        },
        problem: format!("not valid TOML: {}", err.message().trim_end()),
        hint: None,
    })?;
    // In the file's order, so the first problem reported is the first line.
    let mut entries: Vec<_> = table.get_ref().iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    for (name, value) in entries {
        let line = line_of(name.span().start);
        let name = name.get_ref().as_ref();
        let Some(setting) = SETTINGS.iter().find(|s| s.file.key() == name) else {
            let known: Vec<&str> = SETTINGS
                .iter()
                .filter(|s| matches!(s.file, InFile::Key(_)))
                .map(|s| s.file.key())
                .collect();
            return Err(bad(
                line,
                name,
                format!(
                    "git-session has no such setting (the file may set {})",
                    known.join(", ")
                ),
            ));
        };
        if let InFile::TrustedOnly(_) = setting.file {
            return Err(refusal(
                line,
                name,
                "only your own git config may set this, not a file that comes with the repository"
                    .into(),
                Some(format!(
                    "to have it, set it yourself: git config {} VALUE",
                    setting.git
                )),
            ));
        }
        let given = from_toml(value.get_ref());
        (setting.apply)(config, &given).map_err(|problem| bad(line, name, problem))?;
    }
    Ok(())
}

/// `.git-session.toml`'s text, `None` when there is none. The file comes
/// with the repository: only a regular file is read (a symbolic link could
/// point anywhere on the machine, and an error message would quote it), and
/// only up to [`MAX_FILE_SIZE`].
fn read_repository_file(path: &Path) -> Result<Option<String>, Error> {
    use std::io::Read as _;
    let bad = |problem: String| Error::BadConfig {
        key: None,
        origin: Origin::File {
            path: path.to_path_buf(),
            line: None,
        },
        problem,
        hint: None,
    };
    let before = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(bad(format!("could not be read: {err}"))),
    };
    if before.file_type().is_symlink() {
        return Err(bad(
            "is a symbolic link; git-session reads the repository's settings only from a regular file".into(),
        ));
    }
    if !before.is_file() {
        return Err(bad("is not a regular file".into()));
    }
    let file = std::fs::File::open(path).map_err(|err| bad(format!("could not be read: {err}")))?;
    // The file opened must be the one looked at: not swapped for a link in
    // between.
    let opened = file
        .metadata()
        .map_err(|err| bad(format!("could not be read: {err}")))?;
    if !same_file(&before, &opened) {
        return Err(bad("changed while it was read; try again".into()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| bad(format!("could not be read: {err}")))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(bad(format!(
            "is larger than {} KiB; settings take a few lines",
            MAX_FILE_SIZE / 1024
        )));
    }
    String::from_utf8(bytes).map(Some).map_err(|err| {
        bad(format!(
            "is not UTF-8 (at byte {})",
            err.utf8_error().valid_up_to()
        ))
    })
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    b.is_file()
}

/// The 1-based line holding byte `offset` of `text`.
fn line_number(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn from_toml<'a>(value: &'a toml::de::DeValue<'a>) -> Given<'a> {
    use toml::de::DeValue;
    match value {
        DeValue::String(s) => Given::Text(s.as_ref()),
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
            .map_or(Given::Other("an integer out of range"), Given::Integer),
        DeValue::Boolean(b) => Given::Bool(*b),
        DeValue::Array(items) => {
            Given::List(items.iter().map(|i| from_toml(i.get_ref())).collect())
        }
        DeValue::Float(_) => Given::Other("a fraction"),
        DeValue::Datetime(_) => Given::Other("a date"),
        DeValue::Table(_) => Given::Other("a table"),
    }
}

/// git config `session.*`, as the repository's config snapshot holds it
/// (every scope, includes, `GIT_CONFIG_COUNT` and `git -c`, in git's
/// precedence). A single-valued key's last value wins, as in git, and only
/// it is checked; a problem leaves that key at its earlier value.
fn apply_git(config: &mut Config, repo: &gix::Repository, problems: &mut Vec<Error>) {
    let snapshot = repo.config_snapshot();
    let file = snapshot.plumbing();
    for setting in SETTINGS {
        let name = setting
            .git
            .strip_prefix("session.")
            .expect("every git key is in the session section");
        // (value, where it was set); `None` is an implicit value.
        let mut values: Vec<(Option<gix::bstr::BString>, Origin)> = Vec::new();
        for section in file.sections_by_name("session").into_iter().flatten() {
            if section.header().subsection_name().is_some()
                || !gix::config::section::is_trusted(section.meta())
            {
                continue;
            }
            if setting.multi {
                values.extend(
                    section
                        .values(name)
                        .into_iter()
                        .map(|v| (Some(v), origin_of(section.meta()))),
                );
            } else if let Some(value) = section.value_implicit(name) {
                values.clear();
                values.push((value, origin_of(section.meta())));
            }
        }
        for (value, origin) in values {
            let bad = |problem: String| Error::BadConfig {
                key: Some(setting.git.to_string()),
                origin: origin.clone(),
                problem,
                hint: None,
            };
            let result = match &value {
                None => (setting.apply)(config, &Given::Implicit),
                Some(bytes) => match bytes.to_str() {
                    Ok(text) => (setting.apply)(config, &Given::Text(text)),
                    Err(_) => Err("the value is not UTF-8".into()),
                },
            };
            if let Err(problem) = result {
                problems.push(bad(problem));
            }
        }
    }
}

fn origin_of(meta: &gix::config::file::Metadata) -> Origin {
    use gix::config::Source;
    match (meta.source, &meta.path) {
        (Source::Cli, _) => Origin::CommandLine,
        (Source::Env, _) => Origin::Environment,
        (_, Some(path)) => Origin::GitFile(path.clone()),
        (_, None) => Origin::Git,
    }
}

/// The value as written, for messages.
fn shown(given: &Given<'_>) -> String {
    match given {
        Given::Text(text) => format!("'{text}'"),
        Given::Implicit => "the value (none)".into(),
        Given::Integer(n) => n.to_string(),
        Given::Bool(b) => b.to_string(),
        Given::List(_) => "the array".into(),
        Given::Other(what) => (*what).to_string(),
    }
}

fn out_of_range(given: &Given<'_>) -> String {
    format!("{} is out of range", shown(given))
}

fn text<'a>(given: &'a Given<'_>) -> Result<&'a str, String> {
    match given {
        Given::Text(text) => Ok(text),
        Given::Implicit => Err("has no value; write KEY = VALUE".into()),
        other => Err(format!("{} is not a string", described(other))),
    }
}

/// A value of the wrong type, for "… is not a string".
fn described(given: &Given<'_>) -> String {
    match given {
        Given::Text(text) => format!("the string '{text}'"),
        Given::Implicit => "no value".into(),
        Given::Integer(n) => format!("the integer {n}"),
        Given::Bool(b) => format!("the boolean {b}"),
        Given::List(_) => "an array".into(),
        Given::Other(what) => (*what).to_string(),
    }
}

/// A whole number as git reads `--type=int` (for git values and TOML
/// strings), or a TOML integer.
fn integer(given: &Given<'_>, what: &str) -> Result<i128, String> {
    match given {
        Given::Integer(n) => Ok(*n),
        Given::Text(text) => match parse_git_integer(text, i64::MAX.into()) {
            Ok(n) => Ok(n),
            Err(IntError::Range) => Err(out_of_range(given)),
            Err(IntError::Invalid) => Err(format!(
                "{} is not {what}: a whole number, optionally with a k, m or g suffix (such as 1000, 500k, 20m)",
                shown(given)
            )),
        },
        Given::Implicit => Err("has no value; write KEY = VALUE".into()),
        other => Err(format!("{} is not {what}", described(other))),
    }
}

/// A boolean as git reads `--type=bool`: true/yes/on, false/no/off (any
/// case), the empty string (false), no value at all (true), or a number
/// (true unless 0).
fn boolean(given: &Given<'_>) -> Result<bool, String> {
    match given {
        Given::Bool(b) => Ok(*b),
        Given::Implicit => Ok(true),
        Given::Text(text) => parse_git_bool(text).ok_or_else(|| {
            format!(
                "{} is not a boolean: true, yes, on or 1; false, no, off or 0",
                shown(given)
            )
        }),
        other => Err(format!("{} is not a boolean", described(other))),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum IntError {
    Invalid,
    Range,
}

/// git's `git_parse_signed`: `strtoimax` with base 0 (leading white space,
/// a sign, `0x` hex, a leading `0` for octal), then an optional unit `k`,
/// `m` or `g` (any case, powers of 1024), within `-max-1 ..= max`.
fn parse_git_integer(text: &str, max: i128) -> Result<i128, IntError> {
    let rest = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, rest) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let (radix, digits) = if let Some(hex) = rest
        .strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))
        .filter(|hex| hex.starts_with(|c: char| c.is_ascii_hexdigit()))
    {
        (16, hex)
    } else if rest.starts_with('0') {
        (8, rest)
    } else {
        (10, rest)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if end == 0 {
        return Err(IntError::Invalid);
    }
    let (number, unit) = digits.split_at(end);
    // strtoimax saturates (ERANGE) outside intmax_t, and git checks that
    // before the unit.
    let magnitude = i128::from_str_radix(number, radix).map_err(|_| IntError::Range)?;
    let value = if negative { -magnitude } else { magnitude };
    if value > i64::MAX.into() || value < i64::MIN.into() {
        return Err(IntError::Range);
    }
    let factor: i128 = match unit.to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return Err(IntError::Invalid),
    };
    let scaled = value * factor;
    if scaled > max || scaled < -max - 1 {
        return Err(IntError::Range);
    }
    Ok(scaled)
}

/// git's `git_parse_maybe_bool`: the words first, then an `int`.
fn parse_git_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "off" => Some(false),
        "true" | "yes" | "on" => Some(true),
        _ => parse_git_integer(text, i32::MAX.into())
            .ok()
            .map(|n| n != 0),
    }
}

/// A notes ref as configured, made full as `git notes --ref` does
/// (`session` and `notes/session` mean `refs/notes/session`), and refused
/// unless it is a valid ref name under `refs/notes/`.
fn notes_ref(name: &str) -> Result<String, String> {
    let full = if name.starts_with("refs/notes/") {
        name.to_string()
    } else if name.starts_with("refs/") {
        return Err(format!(
            "'{name}' is not under refs/notes/; notes refs must be (git confines notes to refs/notes/ too), such as refs/notes/session"
        ));
    } else if let Some(rest) = name.strip_prefix("notes/") {
        format!("refs/notes/{rest}")
    } else {
        format!("refs/notes/{name}")
    };
    match gix::refs::FullName::try_from(full.as_str()) {
        Ok(_) if full.len() > "refs/notes/".len() => Ok(full),
        _ => Err(format!(
            "'{name}' is not a valid notes ref name (see 'git help check-ref-format'), such as refs/notes/session"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_as_git_parses_them() {
        // Each answer is `git config --type=int` (git 2.47).
        let max = i64::MAX.into();
        for (text, want) in [
            ("5", Ok(5)),
            ("-5", Ok(-5)),
            ("+5", Ok(5)),
            ("0x10", Ok(16)),
            ("010", Ok(8)),
            ("1k", Ok(1024)),
            ("1K", Ok(1024)),
            ("1m", Ok(1 << 20)),
            ("1g", Ok(1 << 30)),
            (" 5", Ok(5)),
            ("-0", Ok(0)),
            ("9223372036854775807", Ok(i64::MAX.into())),
            ("1t", Err(IntError::Invalid)),
            ("1kb", Err(IntError::Invalid)),
            ("5 ", Err(IntError::Invalid)),
            ("", Err(IntError::Invalid)),
            ("abc", Err(IntError::Invalid)),
            ("1.5", Err(IntError::Invalid)),
            ("0b1", Err(IntError::Invalid)),
            ("0x", Err(IntError::Invalid)),
            ("08", Err(IntError::Invalid)),
            ("9223372036854775808", Err(IntError::Range)),
            ("8589934592g", Err(IntError::Range)),
        ] {
            assert_eq!(parse_git_integer(text, max), want, "{text:?}");
        }
    }

    #[test]
    fn booleans_parse_as_git_parses_them() {
        // Each answer is `git config --type=bool` (git 2.47).
        for (text, want) in [
            ("true", Some(true)),
            ("yes", Some(true)),
            ("on", Some(true)),
            ("1", Some(true)),
            ("2", Some(true)),
            ("-1", Some(true)),
            ("TRUE", Some(true)),
            ("0x1", Some(true)),
            ("1k", Some(true)),
            ("0", Some(false)),
            ("false", Some(false)),
            ("no", Some(false)),
            ("Off", Some(false)),
            ("", Some(false)),
            ("maybe", None),
            (" true", None),
            ("99999999999", None),
        ] {
            assert_eq!(parse_git_bool(text), want, "{text:?}");
        }
    }

    #[test]
    fn notes_refs_stay_under_refs_notes() {
        for (name, want) in [
            ("session", Some("refs/notes/session")),
            ("notes/session", Some("refs/notes/session")),
            ("refs/notes/team/a", Some("refs/notes/team/a")),
            ("refs/heads/main", None),
            ("refs/heads/other", None),
            ("refs/tags/v1", None),
            ("refs/notes/../heads/main", None),
            ("../heads/main", None),
            ("refs/notes/", None),
            ("refs/notes", None),
            ("", None),
            ("a b", None),
            ("a..b", None),
            ("x.lock", None),
            ("a*", None),
            ("@{1}", None),
            ("a\nb", None),
        ] {
            assert_eq!(notes_ref(name).ok().as_deref(), want, "{name:?}");
        }
    }

    #[test]
    fn lines_are_counted_from_one() {
        let text = "a = 1\nb = 2\n\nc = 3";
        assert_eq!(line_number(text, 0), 1);
        assert_eq!(line_number(text, 6), 2);
        assert_eq!(line_number(text, text.len()), 4);
    }
}
