//! Which untracked files are secrets a checkpoint must never commit.
//!
//! A deny-list of file names (`.env`, private keys, credential files), some
//! of which count only when their content holds a credential (`.npmrc` with
//! an auth token), and an allow-list of templates that exist to be
//! committed (`.env.example`). A path is a secret when a deny pattern
//! matches it and no allow pattern does. Names are matched ignoring case
//! everywhere: `ID_RSA` or `.ENV` are as secret as their lower-case forms,
//! and on a case-insensitive file system they are the same file.
//!
//! Trust: deny patterns may come from the repository's `.git-session.toml`
//! (more files left out harms nobody), allow patterns only from the user's
//! own git config (`session.secretAllow`): a committed file that allow-listed
//! `.env` would make every clone's secrets get committed and pushed.

use gix::bstr::ByteSlice;

/// One built-in deny rule: a pattern, and what the file must contain to
/// count (nothing: the name alone is enough).
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub pattern: &'static str,
    /// Byte strings of which one must occur in the file's first
    /// [`CONTENT_LIMIT`] bytes.
    pub holding: &'static [&'static str],
}

const fn name(pattern: &'static str) -> Rule {
    Rule {
        pattern,
        holding: &[],
    }
}

/// The built-in deny-list.
pub const DEFAULT_DENY: &[Rule] = &[
    name(".env"),
    name(".env.*"),
    name(".envrc"),
    name("*.pem"),
    name("*.key"),
    name("id_rsa*"),
    name("id_dsa*"),
    name("id_ecdsa*"),
    name("id_ed25519*"),
    name("*.p12"),
    name("*.pfx"),
    name("*.keystore"),
    name("*.jks"),
    name("credentials.json"),
    name(".netrc"),
    name("_netrc"),
    name(".git-credentials"),
    name(".pypirc"),
    name("**/.aws/credentials"),
    Rule {
        pattern: ".npmrc",
        holding: &["_authToken", "_auth", "_password"],
    },
    Rule {
        pattern: "**/.kube/config",
        holding: &["token:", "client-key-data:", "password:"],
    },
    Rule {
        pattern: "**/.docker/config.json",
        holding: &["\"auth\"", "\"identitytoken\"", "\"registrytoken\""],
    },
];

/// The built-in allow-list: templates that exist to be committed.
pub const DEFAULT_ALLOW: &[&str] = &[
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    "*.example",
];

/// How much of a content-checked file is read for its markers.
pub const CONTENT_LIMIT: u64 = 64 * 1024;

/// Decides for one snapshot: the built-in lists plus the configured
/// patterns.
pub struct Matcher<'a> {
    extra_deny: &'a [String],
    extra_allow: &'a [String],
}

impl<'a> Matcher<'a> {
    /// `deny` patterns (from any layer) added to the built-in deny-list,
    /// `allow` patterns (from git config) to the built-in allow-list.
    pub fn new(deny: &'a [String], allow: &'a [String]) -> Self {
        Matcher {
            extra_deny: deny,
            extra_allow: allow,
        }
    }

    /// Why the untracked file at `path` (relative, `/`-separated; on disk
    /// at `full`) is a secret, or `None` when it may be committed.
    pub fn secret(&self, path: &str, full: &std::path::Path) -> Option<String> {
        let allowed = DEFAULT_ALLOW
            .iter()
            .copied()
            .chain(self.extra_allow.iter().map(String::as_str))
            .any(|pattern| matches(pattern, path));
        if allowed {
            return None;
        }
        for rule in DEFAULT_DENY {
            if !matches(rule.pattern, path) {
                continue;
            }
            if rule.holding.is_empty() {
                return Some(format!("looks like a secret (matches '{}')", rule.pattern));
            }
            match holds(full, rule.holding) {
                Some(marker) => {
                    return Some(format!(
                        "looks like a secret (matches '{}' and holds '{marker}')",
                        rule.pattern
                    ))
                }
                // Unreadable: better left out than committed unseen.
                None if std::fs::File::open(full).is_err() => {
                    return Some(format!(
                        "looks like a secret (matches '{}' and could not be read to check)",
                        rule.pattern
                    ))
                }
                None => {}
            }
        }
        self.extra_deny
            .iter()
            .find(|pattern| matches(pattern, path))
            .map(|pattern| format!("looks like a secret (matches '{pattern}')"))
    }
}

/// The first of `markers` in the start of the file, if any.
fn holds(full: &std::path::Path, markers: &[&'static str]) -> Option<&'static str> {
    use std::io::Read as _;
    let mut head = Vec::new();
    std::fs::File::open(full)
        .ok()?
        .take(CONTENT_LIMIT)
        .read_to_end(&mut head)
        .ok()?;
    markers
        .iter()
        .copied()
        .find(|marker| head.find(marker.as_bytes()).is_some())
}

/// Whether `pattern` matches `path`, ignoring case: a pattern without `/`
/// matches the file name, one with `/` the whole path, and a leading `**/`
/// any number of directories, none included.
pub fn matches(pattern: &str, path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let glob = |pattern: &str, subject: &str| {
        gix::glob::wildmatch(
            pattern.as_bytes().as_bstr(),
            subject.as_bytes().as_bstr(),
            gix::glob::wildmatch::Mode::IGNORE_CASE,
        )
    };
    if !pattern.contains('/') {
        return glob(pattern, name);
    }
    glob(pattern, path)
        || pattern
            .strip_prefix("**/")
            .is_some_and(|rest| glob(rest, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_patterns_match_names_and_paths() {
        let dir = tempfile::tempdir().expect("temp dir");
        let extra = vec!["config/prod/*.yml".to_string()];
        let m = Matcher::new(&extra, &[]);
        let secret = |path: &str| m.secret(path, &dir.path().join("absent"));
        for hit in [
            ".env",
            "a/b/.env.local",
            "k.pem",
            "x/id_rsa",
            "id_ed25519.pub",
            "credentials.json",
            "config/prod/db.yml",
            ".ENV",
            "ID_RSA",
            "SERVER.PEM",
            ".netrc",
            ".git-credentials",
            ".aws/credentials",
            "home/.aws/credentials",
            "release.keystore",
            "cert.P12",
        ] {
            assert!(secret(hit).is_some(), "{hit}");
        }
        for miss in [
            "env",
            "src/main.rs",
            "pem",
            "my.env",
            "config/dev/db.yml",
            ".env.example",
            "app/.env.sample",
            ".env.template",
            ".env.dist",
            "server.key.example",
            ".ENV.EXAMPLE",
            "aws/credentials",
        ] {
            assert!(secret(miss).is_none(), "{miss}");
        }
    }

    #[test]
    fn content_rules_look_inside() {
        let dir = tempfile::tempdir().expect("temp dir");
        let m = Matcher::new(&[], &[]);
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            path
        };
        let plain = file("plain", "registry=https://registry.npmjs.org/\n");
        let token = file("token", "//registry.npmjs.org/:_authToken=npm_x\n");
        assert!(m.secret(".npmrc", &plain).is_none());
        assert!(m
            .secret(".npmrc", &token)
            .is_some_and(|why| why.contains("_authToken") || why.contains("_auth")));
        let docker_empty = file("d1", "{\"auths\": {}, \"credsStore\": \"desktop\"}\n");
        let docker_auth = file("d2", "{\"auths\": {\"r\": {\"auth\": \"eDp5\"}}}\n");
        assert!(m.secret(".docker/config.json", &docker_empty).is_none());
        assert!(m.secret("x/.docker/config.json", &docker_auth).is_some());
        let kube = file("k", "users:\n- name: a\n  user:\n    token: abc\n");
        assert!(m.secret(".kube/config", &kube).is_some());
    }

    #[test]
    fn allow_patterns_win_over_deny_patterns() {
        let dir = tempfile::tempdir().expect("temp dir");
        let deny = vec!["*.tok".to_string()];
        let allow = vec![".env.test".to_string(), "public.tok".to_string()];
        let m = Matcher::new(&deny, &allow);
        let absent = dir.path().join("absent");
        assert!(m.secret(".env.test", &absent).is_none());
        assert!(m.secret("public.tok", &absent).is_none());
        assert!(m.secret("other.tok", &absent).is_some());
        assert!(m.secret(".env.production", &absent).is_some());
    }
}
