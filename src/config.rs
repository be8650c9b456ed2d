//! Settings: defaults, the team file `.git-session.toml`, then git config
//! `session.*`, then command-line flags, each overriding the one before.

use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;

/// The file at the work tree root that a team commits.
pub const FILE_NAME: &str = ".git-session.toml";

/// Git config keys, for `git config session.<key>`.
pub mod key {
    pub const NOTES_REF: &str = "session.notesRef";
    pub const SIZE_LIMIT: &str = "session.sizeLimit";
    pub const SECRET_PATTERNS: &str = "session.secretPatterns";
    pub const SUBJECT_PREFIX: &str = "session.subjectPrefix";
    pub const SEARCH_DEPTH: &str = "session.searchDepth";
    pub const AUTO_PUSH: &str = "session.autoPush";
    pub const TRUST_REPO_TEMPLATES: &str = "session.trustRepoTemplates";
}

/// Untracked files whose name matches one of these are never committed.
/// A pattern without `/` matches the file name, one with `/` the whole path.
pub const DEFAULT_SECRET_PATTERNS: &[&str] = &[
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.p12",
    "*.pfx",
    "credentials.json",
];

/// Untracked files larger than this are left out (20 MiB).
pub const DEFAULT_SIZE_LIMIT: u64 = 20 * 1024 * 1024;

/// The resolved settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Full name of the notes ref, `refs/notes/session` by default.
    pub notes_ref: String,
    /// Untracked files larger than this many bytes are skipped.
    pub size_limit: u64,
    /// Defaults plus every configured extra pattern.
    pub secret_patterns: Vec<String>,
    /// First word of a checkpoint commit's subject.
    pub subject_prefix: String,
    /// Push (branch, then notes) after every checkpoint.
    pub auto_push: bool,
    /// Use the repository's own templates also for published text (commit
    /// messages, squash and PR descriptions). Read from git config only:
    /// a cloned repository must not be able to trust itself.
    pub trust_repo_templates: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            notes_ref: "refs/notes/session".into(),
            size_limit: DEFAULT_SIZE_LIMIT,
            secret_patterns: DEFAULT_SECRET_PATTERNS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            subject_prefix: "checkpoint".into(),
            auto_push: false,
            trust_repo_templates: false,
        }
    }
}

/// The shape of `.git-session.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    notes_ref: Option<String>,
    size_limit: Option<u64>,
    #[serde(default)]
    secret_patterns: Vec<String>,
    subject_prefix: Option<String>,
}

impl Config {
    /// Resolve the settings for `repo`.
    pub fn load(repo: &gix::Repository) -> anyhow::Result<Config> {
        let mut config = Config::default();
        if let Some(workdir) = repo.workdir() {
            config.apply_file(&workdir.join(FILE_NAME))?;
        }
        config.apply_git(repo)?;
        Ok(config)
    }

    fn apply_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => {
                return Err(err).with_context(|| format!("could not read '{}'", path.display()))
            }
        };
        let file: FileConfig = toml::from_str(&text)
            .with_context(|| format!("'{}' is not a valid git-session config", path.display()))?;
        if let Some(notes_ref) = file.notes_ref {
            self.notes_ref = full_notes_ref(&notes_ref);
        }
        if let Some(limit) = file.size_limit {
            self.size_limit = limit;
        }
        self.secret_patterns.extend(file.secret_patterns);
        if let Some(prefix) = file.subject_prefix {
            self.subject_prefix = prefix;
        }
        Ok(())
    }

    fn apply_git(&mut self, repo: &gix::Repository) -> anyhow::Result<()> {
        let snapshot = repo.config_snapshot();
        if let Some(notes_ref) = snapshot.string(key::NOTES_REF) {
            self.notes_ref = full_notes_ref(&notes_ref.to_string());
        }
        if let Some(limit) = snapshot.try_integer(key::SIZE_LIMIT).with_context(|| {
            format!("git config {} must be a size, such as 20m", key::SIZE_LIMIT)
        })? {
            self.size_limit = u64::try_from(limit).unwrap_or(0);
        }
        if let Some(patterns) = snapshot.plumbing().strings(key::SECRET_PATTERNS) {
            self.secret_patterns
                .extend(patterns.into_iter().map(|p| p.to_string()));
        }
        if let Some(prefix) = snapshot.string(key::SUBJECT_PREFIX) {
            self.subject_prefix = prefix.to_string();
        }
        if let Some(auto_push) = snapshot
            .try_boolean(key::AUTO_PUSH)
            .with_context(|| format!("git config {} must be true or false", key::AUTO_PUSH))?
        {
            self.auto_push = auto_push;
        }
        if let Some(trust) = snapshot
            .try_boolean(key::TRUST_REPO_TEMPLATES)
            .with_context(|| {
                format!(
                    "git config {} must be true or false",
                    key::TRUST_REPO_TEMPLATES
                )
            })?
        {
            self.trust_repo_templates = trust;
        }
        Ok(())
    }
}

/// `session` → `refs/notes/session`; a full name is kept.
pub fn full_notes_ref(name: &str) -> String {
    let name = name.trim();
    if name.starts_with("refs/") {
        name.to_string()
    } else if let Some(rest) = name.strip_prefix("notes/") {
        format!("refs/notes/{rest}")
    } else {
        format!("refs/notes/{name}")
    }
}
