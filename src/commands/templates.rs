//! `git session templates`: which templates exist and where each resolves.

use std::path::Path;

use crate::commands::Io;
use crate::render::{self, Dirs};

/// List the templates and where each one resolves from, or print one.
///
/// A name resolves to .git-session/templates/NAME.j2 in the work tree, then
/// $XDG_CONFIG_HOME/git-session/templates/NAME.j2 (or
/// ~/.config/git-session/templates/NAME.j2), then the built-in. To customise
/// one, print it with --show, save it under one of those paths, and edit.
/// Templates are minijinja (Jinja2) with strict undefined variables; the
/// variables are those of 'git session resume --format json'.
///
/// A repository's templates come with every clone, so they are read only
/// as regular files (never through a symbolic link), and its commit, squash
/// and pr templates, whose text is published, are used only after 'git
/// config session.trustRepoTemplates true'. Every override is at most 64
/// KiB, has a bounded amount of work and output, and cannot include other
/// files; one that is refused or fails is replaced by the built-in, with a
/// warning.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session templates\n  mkdir -p .git-session/templates\n  git session templates --show resume > .git-session/templates/resume.j2"
)]
pub struct Args {
    /// Print the source of template NAME as it resolves.
    #[arg(long, value_name = "NAME")]
    pub show: Option<String>,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let dirs = match crate::repo::open(cwd) {
        // A listing still helps when the config is broken.
        Ok(repo) => Dirs::for_repo(
            &repo,
            &crate::config::Config::load(&repo).unwrap_or_default(),
        ),
        Err(_) => Dirs::from_env(None),
    };
    let mut warnings = Vec::new();
    if let Some(name) = args.show {
        let template = render::Template::load(&name, &dirs, &mut warnings);
        io.warn(&warnings)?;
        io.out.write_all(template?.source().text.as_bytes())?;
        return Ok(());
    }
    let mut rows = Vec::new();
    for name in render::names(&dirs) {
        match render::Template::load(&name, &dirs, &mut warnings) {
            Ok(template) => rows.push((name, template.source().origin.to_string())),
            Err(err) => warnings.push(format!("{err:#}")),
        }
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, origin) in rows {
        writeln!(io.out, "{name:<width$}  {origin}")?;
    }
    io.warn(&warnings)?;
    Ok(())
}
