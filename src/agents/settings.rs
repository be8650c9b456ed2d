//! Installing git-session's hooks into an agent's settings file, and
//! removing them, keeping every other key and hook, and the file's own
//! formatting and mode: our entries are edited into its text in place
//! ([`json_text`]). Files are replaced atomically so the agent never reads
//! half a file; a file only our hooks filled is removed with them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::{json, Map, Value};

use super::{Agent, Scope};

mod json_text;

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
///
/// A file of the user's is edited in place: our entries are added to its
/// text in the layout it has, every other byte stays, and so does its mode.
/// A file that did not exist (or was empty) is written whole.
pub fn install(agent: Agent, path: &Path) -> anyhow::Result<Vec<&'static str>> {
    let text = read_text(path)?;
    let root = parse_settings(path, &text)?;
    let hooks = match root.as_ref().and_then(|(value, _)| value.get("hooks")) {
        None => None,
        Some(Value::Object(hooks)) => Some(hooks.clone()),
        Some(_) => return Err(settings_file(path, "\"hooks\" is not an object")),
    };
    let mut added = Vec::new();
    for event in agent.integration().events() {
        let present = match hooks.as_ref().and_then(|h| h.get(*event)) {
            None => false,
            Some(Value::Array(groups)) => groups.iter().any(|group| {
                group
                    .get("hooks")
                    .and_then(Value::as_array)
                    .is_some_and(|list| list.iter().any(|h| is_our_hook(agent, h)))
            }),
            Some(_) => return Err(settings_file(path, &format!("hooks.{event} is not a list"))),
        };
        if !present {
            added.push(*event);
        }
    }
    if added.is_empty() {
        return Ok(added);
    }
    let group = || json!({"hooks": [{"type": "command", "command": agent.command()}]});
    let Some((_, tree)) = root else {
        // Ours from the start: written whole.
        let mut events = Map::new();
        for event in &added {
            events.insert((*event).to_string(), json!([group()]));
        }
        let mut text = serde_json::to_string_pretty(&json!({ "hooks": events }))?;
        text.push('\n');
        replace_file(path, text.as_bytes())
            .with_context(|| format!("could not write '{}'", path.display()))?;
        return Ok(added);
    };
    let mut edits = json_text::Edits::default();
    match tree.member("hooks") {
        None => {
            let mut events = Map::new();
            for event in &added {
                events.insert((*event).to_string(), json!([group()]));
            }
            edits.append(&text, &tree, &[Value::Object(events)], Some(&["hooks"]));
        }
        Some(hooks) => {
            let mut new_events = Vec::new();
            let mut new_names = Vec::new();
            for event in &added {
                match hooks.value.member(event) {
                    Some(groups) => edits.append(&text, &groups.value, &[group()], None),
                    None => {
                        new_events.push(json!([group()]));
                        new_names.push(*event);
                    }
                }
            }
            edits.append(&text, &hooks.value, &new_events, Some(&new_names));
        }
    }
    write_edited(path, &text, edits)?;
    Ok(added)
}

/// Remove our hooks from the settings file at `path`, and the lists and
/// objects that only they filled, editing its text in place. A file left
/// holding nothing (only our hooks were in it) is removed. Returns the
/// events they were removed from.
pub fn uninstall(agent: Agent, path: &Path) -> anyhow::Result<Vec<String>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = read_text(path)?;
    let Some((_, tree)) = parse_settings(path, &text)? else {
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    let Some(hooks) = tree.member("hooks") else {
        return Ok(removed);
    };
    let json_text::Kind::Object(events) = &hooks.value.kind else {
        return Ok(removed);
    };
    let mut edits = json_text::Edits::default();
    let mut emptied_events = Vec::new();
    for (event_index, event) in events.iter().enumerate() {
        let json_text::Kind::Array(groups) = &event.value.kind else {
            continue;
        };
        let mut emptied_groups = Vec::new();
        let mut group_edits = Vec::new();
        for (group_index, group) in groups.iter().enumerate() {
            let Some(list) = group.member("hooks") else {
                continue;
            };
            let json_text::Kind::Array(entries) = &list.value.kind else {
                continue;
            };
            let mut ours = Vec::new();
            for (i, entry) in entries.iter().enumerate() {
                if is_our_hook(agent, &entry.value(&text)?) {
                    ours.push(i);
                }
            }
            if ours.is_empty() {
                continue;
            }
            if ours.len() == entries.len() {
                emptied_groups.push(group_index);
            } else {
                group_edits.push((&list.value, ours));
            }
        }
        if emptied_groups.is_empty() && group_edits.is_empty() {
            continue;
        }
        removed.push(event.key.clone());
        if emptied_groups.len() == groups.len() {
            emptied_events.push(event_index);
            continue;
        }
        edits.remove(&event.value, &emptied_groups);
        for (list, ours) in group_edits {
            edits.remove(list, &ours);
        }
    }
    if removed.is_empty() {
        return Ok(removed);
    }
    if emptied_events.len() == events.len() {
        let index = tree
            .children()
            .iter()
            .rposition(|(start, _)| *start == hooks.start)
            .context("the hooks key is a member of the root")?;
        if tree.children().len() == 1 {
            // Nothing but our hooks was in the file.
            std::fs::remove_file(path)
                .with_context(|| format!("could not remove '{}'", path.display()))?;
            return Ok(removed);
        }
        edits.remove(&tree, &[index]);
    } else {
        edits.remove(&hooks.value, &emptied_events);
    }
    write_edited(path, &text, edits)?;
    Ok(removed)
}

/// Keep `rel` (a settings file of this clone only, such as
/// `.claude/settings.local.json`) out of git, as Claude Code does: a line
/// in `<common git dir>/info/exclude`, which no clone shares and no
/// checkpoint commits. Returns whether the line was added (false when it
/// was there).
pub fn exclude_from_git(repo: &gix::Repository, rel: &str) -> anyhow::Result<bool> {
    let path = repo.common_dir().join("info").join("exclude");
    let text = read_text(&path)?;
    let line = format!("/{rel}");
    if text
        .lines()
        .any(|l| l.trim_end() == line || l.trim_end() == rel)
    {
        return Ok(false);
    }
    let mut new = text;
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(&format!(
        "# a settings file of this clone only (git session hook install --scope local)\n{line}\n"
    ));
    replace_file(&path, new.as_bytes())
        .with_context(|| format!("could not write '{}'", path.display()))?;
    Ok(true)
}

fn is_our_hook(agent: Agent, hook: &Value) -> bool {
    hook.get("command")
        .and_then(Value::as_str)
        .is_some_and(|c| agent.is_ours(c))
}

/// The file's text, empty when there is none.
fn read_text(path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(err) => Err(err).with_context(|| format!("could not read '{}'", path.display())),
    }
}

/// The settings as JSON and where each value is in `text`; `None` for an
/// empty file.
fn parse_settings(path: &Path, text: &str) -> anyhow::Result<Option<(Value, json_text::Node)>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let value = serde_json::from_str::<Value>(text)
        .map_err(|err| settings_file(path, &format!("it is not valid JSON ({err})")))?;
    if !value.is_object() {
        return Err(settings_file(path, "it is not a JSON object"));
    }
    let tree = json_text::parse(text)
        .with_context(|| format!("could not read the layout of '{}'", path.display()))?;
    Ok(Some((value, tree)))
}

/// A settings file we cannot edit: the user's to fix.
fn settings_file(path: &Path, problem: &str) -> anyhow::Error {
    crate::error::Error::SettingsFile {
        path: path.to_path_buf(),
        problem: problem.to_string(),
    }
    .into()
}

/// Apply `edits` to `text` and replace the file, checking first that the
/// result is still JSON.
fn write_edited(path: &Path, text: &str, edits: json_text::Edits) -> anyhow::Result<()> {
    if edits.is_empty() {
        return Ok(());
    }
    let edited = edits
        .apply(text)
        .with_context(|| format!("could not edit '{}'", path.display()))?;
    serde_json::from_str::<Value>(&edited).with_context(|| {
        format!(
            "editing '{}' would leave invalid JSON; nothing was changed",
            path.display()
        )
    })?;
    replace_file(path, edited.as_bytes())
        .with_context(|| format!("could not write '{}'", path.display()))
}

/// Replace the file at `path` (through a link, its target) with `bytes`,
/// atomically: written to a new file beside it, then renamed over it. The
/// new file gets the old one's permissions, or, when there was none, the
/// mode any new file gets here (0666 less the umask), not the 0600 of a
/// temporary file.
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let existing = std::fs::metadata(&target).ok().map(|m| m.permissions());
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if let Some(permissions) = existing {
            std::fs::set_permissions(&tmp, permissions)?;
        }
        std::fs::rename(&tmp, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
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
