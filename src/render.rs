//! Templates: the minijinja environment, the templates shipped in
//! `templates/` (embedded in the binary), and the filters they share.
//!
//! Values from the session state are data: they are passed to templates as
//! variables and never compiled as template source.

use anyhow::Context as _;
use minijinja::{Environment, UndefinedBehavior};

/// Built-in templates, by name.
pub const BUILTIN: &[(&str, &str)] = &[("commit", include_str!("../templates/commit.j2"))];

/// An environment with the built-in templates and filters, strict about
/// undefined variables so a typo in a template is an error, not a blank.
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
    for (name, source) in BUILTIN {
        // The built-ins are compiled into the binary and covered by tests.
        if let Err(err) = env.add_template(name, source) {
            debug_assert!(false, "built-in template {name} is invalid: {err}");
        }
    }
    env
}

/// Render the built-in template `name` with `context`.
pub fn render(name: &str, context: impl serde::Serialize) -> anyhow::Result<String> {
    let env = environment();
    let template = env
        .get_template(name)
        .with_context(|| format!("no template named '{name}'"))?;
    template
        .render(minijinja::value::Serde(&context))
        .map_err(|err| anyhow::anyhow!(describe(&err)))
        .with_context(|| format!("could not render template '{name}'"))
}

/// A template error with its name and line.
fn describe(err: &minijinja::Error) -> String {
    match (err.name(), err.line()) {
        (Some(name), Some(line)) => format!("{name}:{line}: {err}"),
        _ => err.to_string(),
    }
}
