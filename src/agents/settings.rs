//! Installing git-session's hooks into an agent's settings file, and
//! removing them, keeping every other key and hook; files are replaced
//! atomically so the agent never reads half a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::{json, Map, Value};

use super::{Agent, Scope};

/// The settings file for `agent` at `scope`.
pub fn settings_path(
    agent: Agent,
    scope: Scope,
    workdir: Option<&Path>,
    home: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let integration = agent.integration();
    let Some(file) = integration.settings_file(scope) else {
        let others: Vec<String> = Scope::ALL
            .into_iter()
            .filter(|s| integration.settings_file(*s).is_some())
            .map(|s| format!("--scope {}", scope_name(s)))
            .collect();
        return Err(crate::error::Error::Usage(format!(
            "{} has no {} hooks file: use {}",
            integration.display_name(),
            match scope {
                Scope::Local => "local-only",
                other => scope_name(other),
            },
            others.join(" or ")
        ))
        .into());
    };
    let base = match scope {
        Scope::Project | Scope::Local => workdir.ok_or_else(|| {
            crate::error::Error::Usage("this scope needs a git work tree: run it inside one".into())
        })?,
        Scope::User => home.context("HOME is not set: cannot find the user's settings")?,
    };
    Ok(base.join(file))
}

/// Every settings file of `agent` that can be named from here (the work
/// tree's when there is one, the user's when HOME is set), each with the
/// name people know it by (`~/` for HOME).
pub fn known_files(
    agent: Agent,
    workdir: Option<&Path>,
    home: Option<&Path>,
) -> Vec<(PathBuf, String)> {
    Scope::ALL
        .into_iter()
        .filter_map(|scope| {
            let file = agent.integration().settings_file(scope)?;
            match scope {
                Scope::Project | Scope::Local => Some((workdir?.join(file), file.to_string())),
                Scope::User => Some((home?.join(file), format!("~/{file}"))),
            }
        })
        .collect()
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Project => "project",
        Scope::Local => "local",
        Scope::User => "user",
    }
}

/// Add our hook to each event in the settings file at `path`, keeping
/// every other key and hook. Returns the events that were added (empty when
/// all were there already).
pub fn install(agent: Agent, path: &Path) -> anyhow::Result<Vec<&'static str>> {
    let mut root = read_settings(path)?;
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(hooks) = hooks.as_object_mut() else {
        return Err(settings_file(path, "\"hooks\" is not an object"));
    };
    let mut added = Vec::new();
    for event in agent.integration().events() {
        let groups = hooks
            .entry(*event)
            .or_insert_with(|| Value::Array(Vec::new()));
        let Some(groups) = groups.as_array_mut() else {
            return Err(settings_file(path, &format!("hooks.{event} is not a list")));
        };
        let present = groups.iter().any(|group| {
            group
                .get("hooks")
                .and_then(Value::as_array)
                .is_some_and(|list| list.iter().any(|h| is_our_hook(agent, h)))
        });
        if !present {
            groups.push(json!({"hooks": [{"type": "command", "command": agent.command()}]}));
            added.push(*event);
        }
    }
    if !added.is_empty() {
        write_settings(path, &root)?;
    }
    Ok(added)
}

/// Remove our hooks from the settings file at `path`, and the lists and
/// objects that only they filled. Returns the events they were removed from.
pub fn uninstall(agent: Agent, path: &Path) -> anyhow::Result<Vec<String>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut root = read_settings(path)?;
    let mut removed = Vec::new();
    let Some(hooks) = root.get_mut("hooks").and_then(Value::as_object_mut) else {
        return Ok(removed);
    };
    for (event, groups) in hooks.iter_mut() {
        let Some(groups) = groups.as_array_mut() else {
            continue;
        };
        let mut touched = false;
        groups.retain_mut(|group| {
            let Some(list) = group.get_mut("hooks").and_then(Value::as_array_mut) else {
                return true;
            };
            let before = list.len();
            list.retain(|h| !is_our_hook(agent, h));
            if list.len() != before {
                touched = true;
                return !list.is_empty();
            }
            true
        });
        if touched {
            removed.push(event.clone());
        }
    }
    hooks.retain(|event, groups| {
        !(removed.contains(event) && groups.as_array().is_some_and(Vec::is_empty))
    });
    if hooks.is_empty() && !removed.is_empty() {
        root.remove("hooks");
    }
    if !removed.is_empty() {
        write_settings(path, &root)?;
    }
    Ok(removed)
}

fn is_our_hook(agent: Agent, hook: &Value) -> bool {
    hook.get("command")
        .and_then(Value::as_str)
        .is_some_and(|c| agent.is_ours(c))
}

fn read_settings(path: &Path) -> anyhow::Result<Map<String, Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(err) => {
            return Err(err).with_context(|| format!("could not read '{}'", path.display()))
        }
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(settings_file(path, "it is not a JSON object")),
        Err(err) => Err(settings_file(
            path,
            &format!("it is not valid JSON ({err})"),
        )),
    }
}

/// A settings file we cannot edit: the user's to fix.
fn settings_file(path: &Path, problem: &str) -> anyhow::Error {
    crate::error::Error::SettingsFile {
        path: path.to_path_buf(),
        problem: problem.to_string(),
    }
    .into()
}

fn write_settings(path: &Path, root: &Map<String, Value>) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(root)?;
    text.push('\n');
    write_atomically(path, text.as_bytes())
        .with_context(|| format!("could not write '{}'", path.display()))
}

/// Write through a temporary file in the same directory and rename, so a
/// reader never sees half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_twice_is_once_and_uninstall_restores() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("settings.json");
        let original = r#"{
  "model": "x",
  "hooks": {
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "echo mine"
          }
        ]
      }
    ]
  }
}
"#;
        std::fs::write(&path, original).expect("write");
        let events = Agent::Claude.integration().events().len();
        assert_eq!(
            install(Agent::Claude, &path).expect("install").len(),
            events
        );
        assert!(install(Agent::Claude, &path).expect("again").is_empty());
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.matches("git session hook claude").count(), events);
        assert!(text.contains("echo mine"));
        uninstall(Agent::Claude, &path).expect("uninstall");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), original);
    }
}
