//! Colour: whether to use it, decided once in `main`, and the few styles
//! git-session paints (`error:`, `warning:`, `hint:`, headings).
//!
//! The decision follows, first match wins: the global `--color=WHEN` flag,
//! then `NO_COLOR` (set and not empty: no colour), then git's `color.ui`
//! (`always`, `never`/`false`, or `auto`/`true`), then whether the stream is
//! a terminal (and `TERM` is not `dumb`). NO_COLOR sits above git's config on
//! purpose: it is set for one session or one program, while `color.ui` is a
//! standing preference written for git's own commands. Standard output and
//! standard error are decided separately, as git does, so `git session show
//! | less` has no escape codes while the warnings on the terminal keep theirs.

use std::io::IsTerminal as _;
use std::path::Path;

/// The `--color` flag's values, as git spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum When {
    /// Colour when writing to a terminal (the default).
    Auto,
    /// Always colour, even into a pipe or file.
    Always,
    /// Never colour.
    Never,
}

/// Whether each output stream gets colour. Copied into every command's
/// [`crate::commands::Io`]; the default is no colour at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Color {
    /// Standard output.
    pub out: bool,
    /// Standard error.
    pub err: bool,
}

/// What a piece of text is, which decides its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `error:` and `problem:`: bold red, as git's `error:`.
    Error,
    /// `warning:`: bold yellow.
    Warning,
    /// `hint:`: yellow, as git's advice.
    Hint,
    /// Section headings of `show` and `status`: bold.
    Heading,
    /// `ok:`: green.
    Good,
}

impl Style {
    /// Every style, for [`crate::terminal`]'s list of what may pass.
    pub const ALL: [Style; 5] = [
        Style::Error,
        Style::Warning,
        Style::Hint,
        Style::Heading,
        Style::Good,
    ];

    /// The SGR parameters of this style.
    pub fn sgr(self) -> &'static str {
        match self {
            Style::Error => "1;31",
            Style::Warning => "1;33",
            Style::Hint => "33",
            Style::Heading => "1",
            Style::Good => "32",
        }
    }
}

impl Color {
    /// No colour on either stream.
    pub const NEVER: Color = Color {
        out: false,
        err: false,
    };

    /// The decision, from its inputs (see the module comment for the order).
    /// `color_ui` is git's `color.ui` as configured, if at all.
    pub fn decide(
        flag: Option<When>,
        no_color: bool,
        color_ui: Option<&str>,
        out_tty: bool,
        err_tty: bool,
    ) -> Color {
        let when = flag.unwrap_or_else(|| {
            if no_color {
                When::Never
            } else {
                color_ui.map_or(When::Auto, parse_color_ui)
            }
        });
        match when {
            When::Always => Color {
                out: true,
                err: true,
            },
            When::Never => Color::NEVER,
            When::Auto => Color {
                out: out_tty,
                err: err_tty,
            },
        }
    }

    /// The decision for this process: reads `NO_COLOR`, `TERM`, git's
    /// `color.ui` (from the repository containing `cwd`, else the user's and
    /// system's git config) and whether stdout and stderr are terminals.
    /// For `main` only; everything else receives the result.
    pub fn from_environment(flag: Option<When>, cwd: &Path) -> Color {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        // Only consulted when it could matter: opening the repository costs
        // a little, and `--color` or NO_COLOR already decide.
        let color_ui = if flag.is_none() && !no_color {
            git_color_ui(cwd)
        } else {
            None
        };
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Color::decide(
            flag,
            no_color,
            color_ui.as_deref(),
            !dumb && std::io::stdout().is_terminal(),
            !dumb && std::io::stderr().is_terminal(),
        )
    }

    /// `text` styled for standard output.
    pub fn out(self, style: Style, text: &str) -> String {
        paint(self.out, style, text)
    }

    /// `text` styled for standard error.
    pub fn err(self, style: Style, text: &str) -> String {
        paint(self.err, style, text)
    }
}

/// git's `color.ui` values: `always`; `never` and the false booleans; and
/// `auto`, which the true booleans also mean since git 1.8.4.
fn parse_color_ui(value: &str) -> When {
    match value.trim().to_ascii_lowercase().as_str() {
        "always" => When::Always,
        "never" | "false" | "no" | "off" | "0" => When::Never,
        _ => When::Auto,
    }
}

/// `color.ui` as git would read it in `cwd`: the repository's config
/// (`git -c` included, see [`crate::repo::open`]), or outside one the
/// user's and system's config, `GIT_CONFIG_COUNT` and `git -c`.
fn git_color_ui(cwd: &Path) -> Option<String> {
    match crate::repo::open(cwd) {
        Ok(repo) => repo
            .config_snapshot()
            .string("color.ui")
            .map(|v| v.to_string()),
        Err(_) => crate::config::outside_repository()?
            .string("color.ui")
            .map(|v| v.to_string()),
    }
}

fn paint(enabled: bool, style: Style, text: &str) -> String {
    if enabled {
        format!("\x1b[{}m{text}\x1b[m", style.sgr())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_no_color_then_git_config_then_the_terminal() {
        let all = Color {
            out: true,
            err: true,
        };
        assert_eq!(
            Color::decide(Some(When::Always), true, Some("never"), false, false),
            all
        );
        assert_eq!(
            Color::decide(Some(When::Never), false, Some("always"), true, true),
            Color::NEVER
        );
        assert_eq!(
            Color::decide(None, true, Some("always"), true, true),
            Color::NEVER
        );
        assert_eq!(
            Color::decide(None, false, Some("always"), false, false),
            all
        );
        assert_eq!(
            Color::decide(None, false, Some("false"), true, true),
            Color::NEVER
        );
        assert_eq!(
            Color::decide(None, false, Some("true"), true, false),
            Color {
                out: true,
                err: false
            }
        );
        assert_eq!(
            Color::decide(None, false, None, false, true),
            Color {
                out: false,
                err: true
            }
        );
    }

    #[test]
    fn painting_wraps_in_sgr_codes_only_when_enabled() {
        let color = Color {
            out: false,
            err: true,
        };
        assert_eq!(color.err(Style::Error, "error:"), "\x1b[1;31merror:\x1b[m");
        assert_eq!(color.out(Style::Error, "error:"), "error:");
    }
}
