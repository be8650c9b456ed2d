//! `git session templates`: which templates exist and where each resolves.

use std::path::Path;

use crate::commands::Io;
use crate::render::{self, Dirs, BUILTIN};

/// List the templates and where each one resolves from, or print one.
///
/// A name resolves to .git-session/templates/NAME.j2 in the work tree, then
/// $XDG_CONFIG_HOME/git-session/templates/NAME.j2 (or
/// ~/.config/git-session/templates/NAME.j2), then the built-in. To customise
/// one, print it with --show, save it under one of those paths, and edit.
/// Templates are minijinja (Jinja2) with strict undefined variables; the
/// variables are those of 'git session resume --format json'.
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
    let workdir = crate::repo::open(cwd)
        .ok()
        .and_then(|repo| repo.workdir().map(Path::to_path_buf));
    let dirs = Dirs::from_env(workdir.as_deref());
    if let Some(name) = args.show {
        let source = render::resolve(&name, &dirs)?;
        io.out.write_all(source.text.as_bytes())?;
        return Ok(());
    }
    let mut names: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    for dir in [&dirs.repository, &dirs.user].into_iter().flatten() {
        if let Ok(entries) = std::fs::read_dir(dir) {
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
    }
    let width = names.iter().map(String::len).max().unwrap_or(0);
    for name in names {
        let origin = render::resolve(&name, &dirs)?.origin;
        writeln!(io.out, "{name:<width$}  {origin}")?;
    }
    Ok(())
}
