//! The few things that differ between Linux, macOS and Windows outside
//! lock recovery (see [`crate::lock`]): where the user's home is, and how
//! a program is found on `PATH`.

use std::path::{Path, PathBuf};

/// The user's home directory, where agents keep their settings.
///
/// On Windows that is `%USERPROFILE%`, where Claude Code and Codex look
/// (`HOME`, set by Git Bash, may point elsewhere), then `HOME`; elsewhere
/// `HOME`. An empty value counts as unset.
pub fn home_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let home = if cfg!(windows) {
        var("USERPROFILE").or_else(|| var("HOME"))
    } else {
        var("HOME")
    };
    home.map(PathBuf::from)
}

/// Whether `program` is found on `PATH` as the system would run it: on
/// Windows with one of the `PATHEXT` extensions (`git-lfs` is
/// `git-lfs.exe`), and with no executable bit to check there.
pub fn on_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        let candidate = dir.join(program);
        crate::repo::is_executable(&candidate)
            || windows_names(&candidate).iter().any(|p| p.is_file())
    })
}

/// `program` with each `PATHEXT` extension (Windows); nothing elsewhere.
fn windows_names(program: &Path) -> Vec<PathBuf> {
    if !cfg!(windows) || program.extension().is_some() {
        return Vec::new();
    }
    let exts = std::env::var("PATHEXT").unwrap_or_else(|_| ".COM;.EXE;.BAT;.CMD".into());
    exts.split(';')
        .filter(|ext| !ext.is_empty())
        .map(|ext| {
            let mut name = program.as_os_str().to_owned();
            name.push(ext.to_ascii_lowercase());
            PathBuf::from(name)
        })
        .collect()
}
