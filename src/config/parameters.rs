//! `git -c KEY=VALUE session …`: git runs us with its `-c` options in
//! `GIT_CONFIG_PARAMETERS`, and we read them as git's own config.c does.
//!
//! gix reads `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`
//! by itself but not this variable, so it is parsed here and handed to gix
//! as command-line overrides when the repository is opened: they then sit
//! above every config file and `GIT_CONFIG_COUNT`, as in git.
//!
//! The format, since git 2.31: space-separated shell-quoted words, each
//! `'key'='value'` (`'key'=` with nothing after it is a key without a value,
//! which git reads as true), or the older `'key=value'` / `'key'`. A quote
//! inside a word is `'\''`, and `!` may be written `'\!'`.

use gix::bstr::{BString, ByteSlice as _};

use crate::config::Origin;
use crate::error::Error;

/// The variable git passes its `-c` options in.
pub const VARIABLE: &str = "GIT_CONFIG_PARAMETERS";

/// One `-c` option: a key, and its value unless it was given without one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameter {
    pub key: BString,
    pub value: Option<BString>,
}

impl Parameter {
    /// As gix's override syntax: `key=value`, or `key` for no value.
    fn to_override(&self) -> BString {
        let mut text = self.key.clone();
        if let Some(value) = &self.value {
            text.push(b'=');
            text.extend_from_slice(value);
        }
        text
    }
}

/// The `-c` options from this process's environment, in gix's override
/// syntax (for [`gix::open::Options::cli_overrides`]). Refuses what git
/// refuses ("bogus format", invalid keys), so a bad one is never silently
/// dropped.
///
/// One difference remains: gix trims white space around the value, where
/// git keeps `-c 'key= value '` as written.
pub fn command_line_overrides() -> Result<Vec<BString>, Error> {
    let Some(raw) = std::env::var_os(VARIABLE) else {
        return Ok(Vec::new());
    };
    let raw = gix::path::os_string_into_bstring(raw).map_err(|_| bad(None, "is not UTF-8"))?;
    Ok(parse(raw.as_ref())?
        .iter()
        .map(Parameter::to_override)
        .collect())
}

/// git config as seen outside any repository: the system and user files,
/// `GIT_CONFIG_COUNT` and the `-c` options, in that order. `None` when it
/// cannot be read.
pub fn outside_repository() -> Option<gix::config::File> {
    let mut config = gix::config::File::from_globals().ok()?;
    if let Some(env) = gix::config::File::from_env(Default::default()).ok()? {
        config.append(env).ok()?;
    }
    let raw = std::env::var_os(VARIABLE)
        .map(|raw| gix::path::os_string_into_bstring(raw).ok())
        .unwrap_or_default();
    let parameters = match raw {
        Some(raw) => parse(raw.as_ref()).ok()?,
        None => Vec::new(),
    };
    let mut cli =
        gix::config::File::new(gix::config::file::Metadata::from(gix::config::Source::Cli));
    for parameter in &parameters {
        let key = gix::config::KeyRef::parse_unvalidated(parameter.key.as_ref())?;
        cli.section_mut_or_create_new(key.section_name, key.subsection_name)
            .ok()?
            .push(
                key.value_name,
                parameter.value.as_ref().map(|v| v.as_bstr()),
            )
            .ok()?;
    }
    config.append(cli).ok()?;
    Some(config)
}

fn bad(key: Option<&[u8]>, problem: &str) -> Error {
    Error::BadConfig {
        key: key.map(|k| k.to_str_lossy().into_owned()),
        origin: Origin::CommandLine,
        problem: format!("{VARIABLE} {problem}"),
        hint: None,
    }
}

/// Parse `GIT_CONFIG_PARAMETERS` as git's `parse_config_env_list` does.
pub fn parse(env: &[u8]) -> Result<Vec<Parameter>, Error> {
    let bogus = || bad(None, "has a bogus format");
    let mut parameters = Vec::new();
    let mut rest = skip_space(env);
    while !rest.is_empty() {
        let (key, after) = dequote_step(rest).ok_or_else(bogus)?;
        let (parameter, after) = match after.split_first() {
            // Old style: 'key=value' or 'key'.
            None => (old_style(&key)?, after),
            Some((c, _)) if c.is_ascii_whitespace() => (old_style(&key)?, after),
            // New style: 'key'='value', or 'key'= for no value.
            Some((b'=', value)) => match value.first() {
                Some(b'\'') => {
                    let (value, after) = dequote_step(value).ok_or_else(bogus)?;
                    if after.first().is_some_and(|c| !c.is_ascii_whitespace()) {
                        return Err(bogus());
                    }
                    (pair(key, Some(value))?, after)
                }
                None => (pair(key, None)?, value),
                Some(c) if c.is_ascii_whitespace() => (pair(key, None)?, value),
                Some(_) => return Err(bogus()),
            },
            Some(_) => return Err(bogus()),
        };
        parameters.push(parameter);
        rest = skip_space(after);
    }
    Ok(parameters)
}

fn skip_space(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// git's `sq_dequote_step`: one single-quoted word at the start of `text`
/// (`'\''` and `'\!'` continue it with a quote or `!`); returns it and what
/// follows it. `None` when `text` does not start with a complete word.
fn dequote_step(text: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    if text.first() != Some(&b'\'') {
        return None;
    }
    let mut word = Vec::new();
    let mut i = 1;
    loop {
        let c = *text.get(i)?;
        if c != b'\'' {
            word.push(c);
            i += 1;
            continue;
        }
        // Out of the quotes: a backslashed ' or ! followed by a new quote
        // continues the word.
        match (text.get(i + 1), text.get(i + 2), text.get(i + 3)) {
            (Some(b'\\'), Some(&escaped @ (b'\'' | b'!')), Some(b'\'')) => {
                word.push(escaped);
                i += 4;
            }
            _ => return Some((word, &text[i + 1..])),
        }
    }
}

/// git's `git_config_parse_parameter`: `key=value` split at the first `=`,
/// the key trimmed; no `=` means no value.
fn old_style(word: &[u8]) -> Result<Parameter, Error> {
    match word.find_byte(b'=') {
        Some(eq) => pair(word[..eq].trim().to_vec(), Some(word[eq + 1..].to_vec())),
        None => pair(word.trim().to_vec(), None),
    }
}

fn pair(key: Vec<u8>, value: Option<Vec<u8>>) -> Result<Parameter, Error> {
    check_key(&key)?;
    Ok(Parameter {
        key: key.into(),
        value: value.map(Into::into),
    })
}

/// git's `git_config_parse_key`: `section[.subsection].name`, the section
/// and name made of letters, digits and `-`, the name starting with a
/// letter, the subsection anything but a newline. gix splits overrides at
/// the first `=`, so a key holding one is refused too.
fn check_key(key: &[u8]) -> Result<(), Error> {
    let invalid = |why: &str| bad(Some(key), &format!("holds an invalid key: {why}"));
    let (Some(first_dot), Some(last_dot)) = (key.find_byte(b'.'), key.rfind_byte(b'.')) else {
        return Err(invalid("it has no section (such as core.editor)"));
    };
    let (section, name) = (&key[..first_dot], &key[last_dot + 1..]);
    let is_key_char = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-';
    if section.is_empty() || !section.iter().all(is_key_char) {
        return Err(invalid("the section must be letters, digits and '-'"));
    }
    if !name.first().is_some_and(u8::is_ascii_alphabetic) || !name.iter().all(is_key_char) {
        return Err(invalid(
            "the name must start with a letter and be letters, digits and '-'",
        ));
    }
    if key.contains(&b'\n') {
        return Err(invalid("it holds a newline"));
    }
    if key.contains(&b'=') {
        return Err(invalid("git-session cannot take a key holding '='"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(env: &str) -> Vec<(String, Option<String>)> {
        parse(env.as_bytes())
            .unwrap_or_else(|err| panic!("{env:?}: {err}"))
            .into_iter()
            .map(|p| {
                (
                    p.key.to_string(),
                    p.value.map(|v| v.to_str_lossy().into_owned()),
                )
            })
            .collect()
    }

    fn some(key: &str, value: &str) -> (String, Option<String>) {
        (key.into(), Some(value.into()))
    }

    #[test]
    fn git_quoting_is_read_back() {
        // What git 2.47 put in the variable for
        // `git -c a.b=c -c "x.Y.z= sp 'q" -c flag.only -c empty.v= --config-env=e.k=HOME`.
        assert_eq!(
            params("'a.b'='c' 'x.Y.z'=' sp '\\''q' 'flag.only'= 'empty.v'='' 'e.k'='/root'"),
            vec![
                some("a.b", "c"),
                some("x.Y.z", " sp 'q"),
                ("flag.only".into(), None),
                some("empty.v", ""),
                some("e.k", "/root"),
            ]
        );
        assert_eq!(params("'flag.only'="), vec![("flag.only".into(), None)]);
        assert_eq!(params("'a.b'='x\\!'"), vec![some("a.b", "x\\!")]);
        assert_eq!(params("'a.b'='x'\\!'y'"), vec![some("a.b", "x!y")]);
    }

    #[test]
    fn old_style_words_are_read_back() {
        assert_eq!(
            params("'a.b=c'  'flag.only' ' k.v =x= y'"),
            vec![
                some("a.b", "c"),
                ("flag.only".into(), None),
                some("k.v", "x= y")
            ]
        );
        assert_eq!(params(""), vec![]);
        assert_eq!(params("   "), vec![]);
    }

    #[test]
    fn what_git_refuses_is_refused() {
        for env in [
            "a.b=c",
            "'a.b",
            "'a.b'='c",
            "'a.b'=c",
            "'a.b'='c'x",
            "'a.b'x",
            "'nosection'='1'",
            "'a.1b'='1'",
            "'a_b.c'='1'",
            "'.b'='1'",
            "'a.'='1'",
        ] {
            assert!(parse(env.as_bytes()).is_err(), "{env:?} was accepted");
        }
    }
}
