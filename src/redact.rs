//! Redaction: secrets never leave the machine inside text taken from an
//! agent (its report of a turn, its transcript).
//!
//! The snapshot keeps secret-looking *files* out of checkpoints; this is the
//! same promise for *text*. An agent's words quote what it saw: a token it
//! read from `.env`, a key it was shown, a password in a command line. Every
//! such text git-session stores is passed through [`redact`] first, and each
//! secret is replaced with `[REDACTED:kind]`.
//!
//! What counts as a secret, checked in one pass over the text:
//!
//! - well-known token formats, by their fixed prefix and length: AWS access
//!   key ids (`AKIA…`, `ASIA…`), GitHub tokens (`ghp_`, `gho_`, `ghu_`,
//!   `ghs_`, `ghr_`, `github_pat_`), Slack tokens (`xoxb-`, …), Stripe live
//!   keys (`sk_live_`, `rk_live_`), Google API keys (`AIza…`), Anthropic and
//!   OpenAI keys (`sk-ant-…`, `sk-…`), JSON Web Tokens (`eyJ….eyJ….…`);
//! - PEM private key blocks, from `-----BEGIN … PRIVATE KEY-----` to the
//!   matching end line;
//! - the value of an assignment whose name says it is secret (`password`,
//!   `passwd`, `secret`, `token`, `api_key`, `apikey`, `access_key`,
//!   `private_key`, `client_secret`, `auth_token`, with any prefix such as
//!   `DB_PASSWORD`), written `name=value`, `name: value` or as a JSON
//!   member, when the value is at least [`MIN_ASSIGNED`] characters and not a
//!   reference (`$VAR`, `${…}`, `{{…}}`, `<…>`);
//! - any other word of [`MIN_ENTROPY_LEN`] to [`MAX_ENTROPY_LEN`] characters
//!   from the base64 alphabet that mixes upper case, lower case and digits
//!   and carries at least [`MIN_ENTROPY`] bits of Shannon entropy per
//!   character: what a generated key looks like.
//!
//! What is left alone, on purpose: commit ids and other hex digests (at
//! most 4 bits per character, below the threshold), UUIDs, paths and
//! identifiers (low entropy, or no digits), and long base64 payloads such as
//! images in a transcript (longer than any key; redacting them would only
//! mangle the transcript). The replacement text holds only letters, `-`, `:`
//! and brackets, so JSON stays valid: redacting a JSON Lines transcript
//! yields JSON Lines. A value stops at a backslash, so JSON escapes are
//! never cut in half.

use std::borrow::Cow;

/// Shortest assigned value taken for a secret: shorter ones are type names
/// and placeholders (`password: str`, `token=""`).
pub const MIN_ASSIGNED: usize = 8;

/// The word lengths the entropy rule looks at: generated keys are 32 to a
/// few hundred characters; anything longer is a payload, not a key.
pub const MIN_ENTROPY_LEN: usize = 32;
pub const MAX_ENTROPY_LEN: usize = 512;

/// Bits per character above which a mixed word is taken for a key. Random
/// base64 of 32 characters carries about 4.8; English words and code
/// identifiers stay below 4.2; hex cannot exceed 4.
pub const MIN_ENTROPY: f64 = 4.5;

/// What a redaction replaced, for reports and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    AwsAccessKey,
    GithubToken,
    SlackToken,
    StripeKey,
    GoogleApiKey,
    AnthropicKey,
    OpenaiKey,
    Jwt,
    PrivateKey,
    Assignment,
    HighEntropy,
}

impl Kind {
    /// The name written in `[REDACTED:name]`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::AwsAccessKey => "aws-access-key",
            Kind::GithubToken => "github-token",
            Kind::SlackToken => "slack-token",
            Kind::StripeKey => "stripe-key",
            Kind::GoogleApiKey => "google-api-key",
            Kind::AnthropicKey => "anthropic-key",
            Kind::OpenaiKey => "openai-key",
            Kind::Jwt => "jwt",
            Kind::PrivateKey => "private-key",
            Kind::Assignment => "secret",
            Kind::HighEntropy => "high-entropy",
        }
    }
}

/// `text` with every secret replaced (see the module comment). Borrows when
/// nothing was found.
pub fn redact(text: &str) -> Cow<'_, str> {
    let found = find(text);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, kind) in found {
        out.push_str(&text[at..range.start]);
        out.push_str("[REDACTED:");
        out.push_str(kind.name());
        out.push(']');
        at = range.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// The secrets in `text`: byte ranges in order, not overlapping.
pub fn find(text: &str) -> Vec<(std::ops::Range<usize>, Kind)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'-' && bytes[i..].starts_with(b"-----BEGIN ") {
            if let Some(end) = private_key_end(bytes, i) {
                found.push((i..end, Kind::PrivateKey));
                i = end;
                continue;
            }
        }
        if !is_word(b) {
            i += 1;
            continue;
        }
        // A word starts here: the base64 alphabet plus `-`, `_` and `.`,
        // with its `=` padding (an `=` inside splits `name=value`).
        let start = i;
        let mut end = i;
        while end < bytes.len() && is_word(bytes[end]) {
            end += 1;
        }
        // Up to two `=` of padding.
        for _ in 0..2 {
            if end < bytes.len() && bytes[end] == b'=' {
                end += 1;
            }
        }
        let word = &text[start..end];
        if let Some((len, kind)) = token(word) {
            found.push((start..start + len, kind));
        } else if let Some(value) = assigned_value(bytes, start, end) {
            found.push((value, Kind::Assignment));
            // Continue after the value: it may be longer than the name.
            end = found.last().map_or(end, |(r, _)| r.end);
        } else if high_entropy(word) {
            found.push((start..end, Kind::HighEntropy));
        }
        i = end.max(start + 1);
    }
    found
}

/// A byte of a word: base64 (`+` and `/`), `-`, `_` and `.` (JWTs).
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'.')
}

/// A well-known token at the start of `word`: its length and kind.
fn token(word: &str) -> Option<(usize, Kind)> {
    let b = word.as_bytes();
    let run =
        |from: usize, ok: fn(u8) -> bool| from + b[from..].iter().take_while(|&&c| ok(c)).count();
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    let key_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let upper_digit = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();

    if word.starts_with("AKIA") || word.starts_with("ASIA") {
        let end = run(4, upper_digit);
        if end - 4 == 16 {
            return Some((end, Kind::AwsAccessKey));
        }
    }
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        if word.starts_with(prefix) {
            let end = run(prefix.len(), alnum);
            if end - prefix.len() >= 30 {
                return Some((end, Kind::GithubToken));
            }
        }
    }
    if word.starts_with("github_pat_") {
        let end = run(11, |c| c.is_ascii_alphanumeric() || c == b'_');
        if end - 11 >= 20 {
            return Some((end, Kind::GithubToken));
        }
    }
    if word.len() > 5
        && word.starts_with("xox")
        && matches!(b[3], b'a' | b'b' | b'p' | b'o' | b's' | b'r')
        && b[4] == b'-'
    {
        let end = run(5, |c| c.is_ascii_alphanumeric() || c == b'-');
        if end - 5 >= 10 {
            return Some((end, Kind::SlackToken));
        }
    }
    for prefix in ["sk_live_", "rk_live_"] {
        if word.starts_with(prefix) {
            let end = run(prefix.len(), alnum);
            if end - prefix.len() >= 16 {
                return Some((end, Kind::StripeKey));
            }
        }
    }
    if word.starts_with("AIza") {
        let end = run(4, key_char);
        if end - 4 >= 35 {
            return Some((end, Kind::GoogleApiKey));
        }
    }
    if word.starts_with("sk-ant-") {
        let end = run(7, key_char);
        if end - 7 >= 20 {
            return Some((end, Kind::AnthropicKey));
        }
    }
    if word.starts_with("sk-") {
        let end = run(3, key_char);
        // A key mixes letters and digits; `sk-learn-style-names` does not.
        let body = &b[3..end];
        if body.len() >= 20
            && body.iter().any(u8::is_ascii_digit)
            && body.iter().any(u8::is_ascii_alphabetic)
        {
            return Some((end, Kind::OpenaiKey));
        }
    }
    if word.starts_with("eyJ") {
        let end = run(0, |c| {
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')
        });
        let parts: Vec<&[u8]> = b[..end].split(|&c| c == b'.').collect();
        if parts.len() == 3 && parts.iter().all(|p| p.len() >= 10) && parts[1].starts_with(b"eyJ") {
            return Some((end, Kind::Jwt));
        }
    }
    None
}

/// Names that say their value is secret, matched at the end of an
/// assignment's name (`DB_PASSWORD`, `githubToken`), case-insensitively.
const SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "client_secret",
    "auth_token",
];

/// If the word `bytes[start..end]` names a secret and an assignment
/// follows, the byte range of the assigned value.
fn assigned_value(bytes: &[u8], start: usize, end: usize) -> Option<std::ops::Range<usize>> {
    let name = &bytes[start..end];
    // Cheap first: every secret name ends in d, t, n or y.
    let last = name
        .iter()
        .rev()
        .find(|&&c| c != b'=')?
        .to_ascii_lowercase();
    if name.len() < 5 || !matches!(last, b'd' | b't' | b'n' | b'y') {
        return None;
    }
    let lower: Vec<u8> = name.to_ascii_lowercase();
    let lower = lower.strip_suffix(b"=").unwrap_or(&lower);
    if !SECRET_NAMES.iter().any(|s| lower.ends_with(s.as_bytes())) {
        return None;
    }
    // `name=value` may have been taken into the word (`=` is base64).
    let mut i = end;
    let mut eq = name.contains(&b'=');
    if eq {
        i = start + name.iter().position(|&c| c == b'=')? + 1;
    } else {
        // Closing quotes of a JSON or quoted name, then blanks, then `=` or `:`.
        while i < bytes.len() && matches!(bytes[i], b'"' | b'\'' | b'\\') {
            i += 1;
        }
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i < bytes.len() && matches!(bytes[i], b'=' | b':') {
            eq = true;
            i += 1;
        }
    }
    if !eq {
        return None;
    }
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    // One opening quote, maybe JSON-escaped (`\"`): `password=""` is empty.
    if bytes[i..].starts_with(b"\\\"") {
        i += 2;
    } else if i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
        i += 1;
    }
    let value_start = i;
    while i < bytes.len()
        && !matches!(
            bytes[i],
            b' ' | b'\t'
                | b'\n'
                | b'\r'
                | b'"'
                | b'\''
                | b'\\'
                | b','
                | b';'
                | b'&'
                | b'('
                | b')'
                | b'<'
                | b'>'
                | b'['
                | b']'
                | b'}'
        )
    {
        i += 1;
    }
    let value = &bytes[value_start..i];
    let reference = value.starts_with(b"$")
        || value.starts_with(b"{")
        || value.starts_with(b"<")
        || value.starts_with(b"%");
    (value.len() >= MIN_ASSIGNED && !reference).then_some(value_start..i)
}

/// Whether `word` looks generated: see [`MIN_ENTROPY`].
fn high_entropy(word: &str) -> bool {
    let b = word.as_bytes();
    if !(MIN_ENTROPY_LEN..=MAX_ENTROPY_LEN).contains(&b.len()) {
        return false;
    }
    let (mut upper, mut lower, mut digit) = (false, false, false);
    let mut counts = [0u32; 256];
    for &c in b {
        upper |= c.is_ascii_uppercase();
        lower |= c.is_ascii_lowercase();
        digit |= c.is_ascii_digit();
        counts[usize::from(c)] += 1;
    }
    if !(upper && lower && digit) {
        return false;
    }
    // Dotted words are names (`com.example.Foo1`), slashed ones paths.
    if b.iter().filter(|&&c| c == b'.' || c == b'/').count() > 2 {
        return false;
    }
    let len = b.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum();
    entropy >= MIN_ENTROPY
}

/// The end of a PEM private key block starting at `start`, if the BEGIN
/// line names a private key. Without an end line the block runs to the end
/// of the quoted string or paragraph it is in (at most 8 KiB), so a
/// truncated key is still removed.
fn private_key_end(bytes: &[u8], start: usize) -> Option<usize> {
    let header_end = start + find_bytes(&bytes[start..], b"-----", 11)? + 5;
    let header = &bytes[start..header_end];
    if !header.ends_with(b"PRIVATE KEY-----") {
        return None;
    }
    let limit = (header_end + 8192).min(bytes.len());
    let body = &bytes[header_end..limit];
    if let Some(end) = find_bytes(body, b"-----END ", 0) {
        let after = header_end + end + 9;
        let close = find_bytes(&bytes[after..limit], b"-----", 0)?;
        return Some(after + close + 5);
    }
    let stop = body
        .iter()
        .position(|&c| c == b'"')
        .or_else(|| find_bytes(body, b"\n\n", 0))
        .unwrap_or(body.len());
    Some(header_end + stop)
}

/// The first position of `needle` in `hay` at or after `from`.
fn find_bytes(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secrets that must go, each with the kind it is reported as. Built
    /// from pieces so that no scanner mistakes this file for a leak.
    fn positives() -> Vec<(String, &'static str)> {
        let b64 = "q8Zr2LmX0vNf7TgH5kWc3JpYs1AeD9Ub";
        vec![
            (format!("AKIA{}", "IOSFODNN7EXAMPLE"), "aws-access-key"),
            (format!("ASIA{}", "Y3GSR2Q7EXAMPLE1"), "aws-access-key"),
            (format!("ghp_{}{}", b64, "Ab12"), "github-token"),
            (format!("gho_{}{}", b64, "Zz90"), "github-token"),
            (
                format!(
                    "github_pat_11ABCDEFG0_{}",
                    "abcdefghijklmnopqrstuvwxyz012345"
                ),
                "github-token",
            ),
            (
                format!("xoxb-{}-{}", "1234567890", "abcdefGHIJKL"),
                "slack-token",
            ),
            (
                format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc"),
                "stripe-key",
            ),
            (
                format!("AIza{}", "SyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"),
                "google-api-key",
            ),
            (format!("sk-ant-api03-{}", b64), "anthropic-key"),
            (format!("sk-proj-{}", b64), "openai-key"),
            (
                format!(
                    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.{}",
                    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
                ),
                "jwt",
            ),
            (b64.to_string(), "high-entropy"),
        ]
    }

    #[test]
    fn every_known_secret_format_is_redacted() {
        for (secret, kind) in positives() {
            for text in [
                format!("here: {secret} done"),
                format!("\"{secret}\""),
                format!("KEY={secret}\n"),
            ] {
                let out = redact(&text);
                assert!(!out.contains(&secret), "{kind}: {secret} kept in {out}");
                assert!(
                    out.contains(&format!("[REDACTED:{kind}]"))
                        || out.contains("[REDACTED:secret]"),
                    "{kind}: {out}"
                );
            }
        }
    }

    #[test]
    fn assignments_of_secret_names_lose_their_values() {
        for (text, secret) in [
            ("password=hunter2hunter2", "hunter2hunter2"),
            (
                "DB_PASSWORD: correct-horse-battery",
                "correct-horse-battery",
            ),
            (
                r#"{"client_secret": "s3cr3t-value-123"}"#,
                "s3cr3t-value-123",
            ),
            (r#"run with \"api_key=abcdefgh12\" now"#, "abcdefgh12"),
            ("export GITHUB_TOKEN=plaintextvalue", "plaintextvalue"),
        ] {
            let out = redact(text);
            assert!(!out.contains(secret), "{text} → {out}");
            assert!(out.contains("[REDACTED:"), "{out}");
        }
    }

    #[test]
    fn private_key_blocks_are_removed_whole() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAAC2\n-----END OPENSSH PRIVATE KEY-----";
        let text = format!("before\n{key}\nafter");
        let out = redact(&text);
        assert_eq!(out, "before\n[REDACTED:private-key]\nafter");
        // Inside a JSON string, newlines escaped, no end line: cut at the quote.
        let json = r#"{"text":"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7"}"#;
        let out = redact(json);
        assert_eq!(out, r#"{"text":"[REDACTED:private-key]"}"#);
        // A public key or certificate is not a secret.
        let public = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----";
        assert_eq!(redact(public), public);
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let negatives = [
            // Commit ids, digests, UUIDs.
            "e34d346f0c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "4d7c1e2a-9b3f-4a60-8e15-c2d9f0a7b8e4",
            // Paths, identifiers, prose, code.
            "src/commands/checkpoint.rs and tests/support/mod.rs",
            "PreToolUseHookInputWithTranscriptPath",
            "fn login(password: &str, token: Option<String>) -> Result<()>",
            "password=\"\" token=${GITHUB_TOKEN} secret={{ secret }}",
            "sk-learn-style-names-are-not-keys",
            "Added the toggle. Remaining: CSS variables and localStorage.",
            "https://github.com/openai/codex/blob/main/codex-rs/core/src/rollout.rs",
            "tokenizer token_count tokens",
        ];
        for text in negatives {
            assert_eq!(redact(text), text, "{text}");
        }
    }

    #[test]
    fn large_base64_payloads_are_not_mangled() {
        // A transcript's image: base64 far longer than any key.
        let mut payload = String::new();
        for i in 0..4096u32 {
            payload.push_str(&format!("{:08X}", i.wrapping_mul(2_654_435_761)));
            payload.push(if i % 3 == 0 { 'a' } else { 'Q' });
        }
        let line = format!(
            r#"{{"type":"image","source":{{"type":"base64","media_type":"image/png","data":"{payload}"}}}}"#
        );
        assert_eq!(redact(&line), line);
    }

    #[test]
    fn redacted_json_lines_stay_json() {
        let token = format!("ghp_{}", "q8Zr2LmX0vNf7TgH5kWc3JpYs1AeD9UbAb12");
        let line = serde_json::json!({
            "message": {"content": [{"type": "text", "text": format!("token {token}\npassword=\"hunter2hunter2\"")}]}
        })
        .to_string();
        let out = redact(&line);
        let value: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
        let text = value["message"]["content"][0]["text"]
            .as_str()
            .expect("text");
        assert_eq!(
            text,
            "token [REDACTED:github-token]\npassword=\"[REDACTED:secret]\""
        );
    }
}
