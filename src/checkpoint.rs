//! The checkpoint: snapshot the work tree, commit it with the session state,
//! attach the note, bring the index in line.
//!
//! Write order, so that a kill at any moment loses nothing: take the locks,
//! write objects, move the branch with compare-and-swap (with a reflog
//! entry), move the notes ref with compare-and-swap, then write the index.
//! The work tree is never written.

use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use serde::Serialize;

use crate::commit::{self, NewCommit};
use crate::config::Config;
use crate::error::Error;
use crate::history::History;
use crate::snapshot::{self, ChangeKind, Skip};
use crate::state::{self, Edits, State, SCHEMA};
use crate::time::{rfc3339, short};

/// What the caller asks of one checkpoint.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// `-m`: the one-line summary; generated from the change when absent.
    pub summary: Option<String>,
    /// Edits to the inherited state.
    pub edits: Edits,
    /// Why: `manual`, `start`, `stop`, …
    pub reason: String,
    /// Replaces the inherited `base` (used by `start`).
    pub base: Option<Option<ObjectId>>,
    /// Agent details to record, when known.
    pub agent: Option<String>,
    pub agent_session: Option<String>,
    pub model: Option<String>,
    /// Start from an empty state instead of the inherited one (`start`).
    pub fresh: bool,
    /// An agent's todo list, merged before `edits` (see
    /// [`State::merge_todos`]).
    pub todos: Vec<(String, crate::state::TodoStatus)>,
    /// Items the agent's list no longer has: removed from doing and todo
    /// before `todos` is merged.
    pub dropped_todos: Vec<String>,
    /// The task, used only when the state has none.
    pub task_if_empty: Option<String>,
    /// Where the `commit` template may be overridden.
    pub templates: crate::render::Dirs,
    /// Paths `git add` refuses: refused (a person's checkpoint, the
    /// default) or left out and reported (hooks).
    pub refusals: snapshot::Refusals,
}

/// What a checkpoint did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The checkpoint commit: the new one, or the existing one when nothing
    /// changed.
    pub commit: ObjectId,
    /// Short branch name, `None` on a detached HEAD.
    pub branch: Option<String>,
    /// False when nothing changed and nothing was written.
    pub created: bool,
    /// Paths that differ from the parent commit.
    pub changes: Vec<snapshot::Change>,
    /// Paths left out.
    pub skipped: Vec<Skip>,
    /// The state recorded (or the unchanged inherited one).
    pub state: State,
    /// Problems that did not stop the checkpoint.
    pub warnings: Vec<String>,
}

/// Take a checkpoint of the repository's work tree.
pub fn checkpoint(
    repo: &mut gix::Repository,
    config: &Config,
    request: &Request,
    interrupt: &AtomicBool,
) -> anyhow::Result<Outcome> {
    let mut warnings: Vec<String> = crate::repo::prepare_to_commit(repo)?.into_iter().collect();
    let repo = &*repo;
    let mut locked = commit::lock_head(repo)?;
    let (head_id, base_tree) = (locked.head, locked.tree);

    // Everything below is read while both locks are held.
    let head_name = repo.head_name()?;
    let branch = head_name.as_ref().map(|name| name.shorten().to_string());
    let index = crate::index_file::read(repo)?;

    let mut history = History::new(repo, config)?;
    let previous = match head_id {
        Some(id) if !request.fresh => history.newest(id)?,
        _ => None,
    };
    warnings.append(&mut history.warnings);

    let snap = snapshot::snapshot(
        repo,
        index,
        base_tree,
        &snapshot::Options {
            refusals: request.refusals,
            ..snapshot::Options::from_config(config)
        },
        interrupt,
    )?;
    warnings.extend(snap.warnings.iter().cloned());

    let mut state = match &previous {
        Some(cp) => cp.state.clone(),
        None => State::default(),
    };
    state.schema = SCHEMA;
    for dropped in &request.dropped_todos {
        state.todo.retain(|item| item != dropped.trim());
        state.doing.retain(|item| item != dropped.trim());
    }
    state.merge_todos(request.todos.iter().map(|(c, s)| (c.as_str(), *s)));
    if state.task.is_empty() {
        if let Some(task) = &request.task_if_empty {
            state.task = task.trim().to_string();
        }
    }
    state
        .apply(&request.edits)
        .map_err(|e| Error::Usage(e.to_string()))?;
    state.branch = branch.clone().unwrap_or_default();
    match request.base {
        Some(base) => state.base = base.map(|id| id.to_string()),
        None if state.base.is_none() => {
            state.base = default_base(repo, head_id).map(|id| id.to_string())
        }
        None => {}
    }
    for (field, value) in [
        (&mut state.agent, &request.agent),
        (&mut state.agent_session, &request.agent_session),
        (&mut state.model, &request.model),
    ] {
        if value.is_some() {
            field.clone_from(value);
        }
    }

    let unchanged = previous.as_ref().is_some_and(|cp| {
        cp.tree == snap.tree && Some(cp.id) == head_id && cp.state.same_content(&state)
    });
    if unchanged {
        let cp = previous.expect("checked above");
        if snap.index_changed {
            write_index(repo, locked.locks, snap.index, &snap.cache_tree)?;
        }
        return Ok(Outcome {
            commit: cp.id,
            branch,
            created: false,
            changes: Vec::new(),
            skipped: snap.skipped,
            state: cp.state,
            warnings,
        });
    }

    state.reason = if request.reason.is_empty() {
        "manual".into()
    } else {
        request.reason.clone()
    };
    state.summary = request
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(first_line)
        .unwrap_or_else(|| generated_summary(&snap.changes, previous.is_none()));
    state.skipped = snap.skipped.iter().map(Skip::to_state).collect();
    state.sequence = previous.as_ref().map_or(0, |cp| cp.state.sequence) + 1;

    let mut commit = NewCommit::new(repo, snap.tree, head_id.into_iter().collect())?;
    state.created_at = rfc3339(commit.committer.time);
    commit.message = commit_message(
        config,
        &request.templates,
        &state,
        &snap.changes,
        &mut warnings,
    )?;
    let log_message = format!("git-session: {}", state.summary);
    let commit_id = commit::commit_and_move(
        repo,
        &mut locked.locks,
        &commit,
        "the checkpoint commit",
        |id| {
            Ok(vec![commit::update(
                "HEAD",
                commit::expect_at(head_id),
                id,
                log_message,
            )?])
        },
        |err| {
            commit::head_moved_or(
                repo,
                head_id,
                err,
                "could not move HEAD to the checkpoint".into(),
            )
        },
    )?;
    warnings.extend(crate::repo::once_notices(repo));

    let noted = locked
        .locks
        .announce_refs(repo, &[&config.notes_ref])
        .and_then(|_announced| {
            history.notes().write(
                commit_id,
                &state.to_toml(),
                &format!("git-session: note for {}", short(commit_id)),
            )
        });
    if let Err(err) = noted {
        warnings.push(format!(
            "the checkpoint {} stands, but its note could not be written ({err:#}); its trailers carry the state",
            short(commit_id)
        ));
    }

    if let Err(err) = write_index(repo, locked.locks, snap.index, &snap.cache_tree) {
        warnings.push(format!(
            "the checkpoint {} stands, but the index could not be updated ({err:#}): run 'git reset -q' to resync it",
            short(commit_id)
        ));
    }
    // After the locks are gone, so git's gc finds nothing of ours held.
    crate::maintenance::start_gc_if_due(repo);

    Ok(Outcome {
        commit: commit_id,
        branch,
        created: true,
        changes: snap.changes,
        skipped: snap.skipped,
        state,
        warnings,
    })
}

/// Write `index` through the held `index.lock` and commit it; this also
/// releases the locks.
fn write_index(
    repo: &gix::Repository,
    mut locks: crate::lock::Locks,
    mut index: gix::index::File,
    cache_tree: &gix::index::extension::Tree,
) -> anyhow::Result<()> {
    // Right before writing, so nothing can change a file unseen between
    // this look and the index's own time stamp.
    if let Some(taken) = locks.taken {
        snapshot::smudge_racily_clean(repo, &mut index, taken)?;
    }
    crate::index_file::write(&index, cache_tree, &mut locks.index)?;
    let crate::lock::Locks { index: lock, .. } = locks;
    lock.commit()
        .map_err(|e| anyhow::anyhow!("could not replace the index: {}", e.error))?;
    Ok(())
}

/// Where the session's work began when nothing says otherwise: the
/// merge-base with the remote's default branch, else HEAD itself.
fn default_base(repo: &gix::Repository, head: Option<ObjectId>) -> Option<ObjectId> {
    let head = head?;
    let upstream = [
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/main",
        "refs/remotes/origin/master",
    ]
    .iter()
    .find_map(|name| {
        repo.try_find_reference(*name)
            .ok()
            .flatten()
            .and_then(|mut r| r.peel_to_id().ok())
            .map(|id| id.detach())
    });
    match upstream {
        Some(upstream) if upstream != head => repo
            .merge_base(head, upstream)
            .ok()
            .flatten()
            .map(|id| id.detach())
            .or(Some(head)),
        _ => Some(head),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// A summary from the change itself: `update 3 files in src/`.
fn generated_summary(changes: &[snapshot::Change], first: bool) -> String {
    if changes.is_empty() {
        return if first {
            "start of session".into()
        } else {
            "update session state".into()
        };
    }
    let verb = if changes.iter().all(|c| c.kind == ChangeKind::Added) {
        "add"
    } else if changes.iter().all(|c| c.kind == ChangeKind::Deleted) {
        "delete"
    } else {
        "update"
    };
    if let [one] = changes {
        return format!("{verb} {}", one.path);
    }
    let dirs: Vec<&str> = changes
        .iter()
        .map(|c| c.path.rsplit_once('/').map_or("", |(dir, _)| dir))
        .collect();
    let common = dirs.iter().skip(1).fold(dirs[0].to_string(), |acc, dir| {
        common_dir(&acc, dir).to_string()
    });
    let files = format!("{verb} {} files", changes.len());
    if common.is_empty() {
        files
    } else {
        format!("{files} in {common}/")
    }
}

/// The longest common directory prefix of two `/`-separated directories.
fn common_dir<'a>(a: &'a str, b: &str) -> &'a str {
    let mut end = 0;
    let (mut ai, mut bi) = (a.split('/'), b.split('/'));
    let mut first = true;
    loop {
        match (ai.next(), bi.next()) {
            (Some(x), Some(y)) if x == y => {
                end += x.len() + usize::from(!first);
                first = false;
            }
            _ => break,
        }
    }
    &a[..end]
}

#[derive(Serialize)]
struct FileLine<'a> {
    status: &'static str,
    path: &'a str,
}

#[derive(Serialize)]
struct CommitContext<'a> {
    task: &'a str,
    files: Vec<FileLine<'a>>,
    open: Vec<&'a String>,
    state: &'a State,
}

/// Subject, rendered body, then the trailer paragraph (written by code so
/// that a template can never break the machine-readable part).
fn commit_message(
    config: &Config,
    templates: &crate::render::Dirs,
    state: &State,
    changes: &[snapshot::Change],
    warnings: &mut Vec<String>,
) -> anyhow::Result<String> {
    let context = CommitContext {
        task: &state.task,
        files: changes
            .iter()
            .map(|c| FileLine {
                status: match c.kind {
                    ChangeKind::Added => "A",
                    ChangeKind::Modified => "M",
                    ChangeKind::Deleted => "D",
                },
                path: &c.path,
            })
            .collect(),
        open: state.open_items().collect(),
        state,
    };
    // A refused or broken override must not stop checkpoints (hooks run
    // them after every turn): the built-in stands in, with a warning.
    let body = crate::render::render("commit", templates, &context, warnings)?;
    let mut message = format!("{}: {}\n", config.subject_prefix, state.summary);
    let body = body.trim();
    if !body.is_empty() {
        message.push('\n');
        for line in body.lines() {
            // git's trailer parser takes a line starting with `---` and a
            // blank for the start of a patch and ignores all below it, our
            // trailers included; user text in the body must not do that.
            if line.starts_with("---") {
                message.push(' ');
            }
            message.push_str(line);
            message.push('\n');
        }
    }
    message.push('\n');
    message.push_str(&state::format_trailers(&state.to_trailers()));
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, kind: ChangeKind) -> snapshot::Change {
        snapshot::Change {
            path: path.into(),
            kind,
        }
    }

    #[test]
    fn summaries_name_the_change() {
        use ChangeKind::*;
        assert_eq!(generated_summary(&[], true), "start of session");
        assert_eq!(
            generated_summary(&[change("src/a.rs", Modified)], false),
            "update src/a.rs"
        );
        assert_eq!(
            generated_summary(
                &[change("src/x/a.rs", Added), change("src/x/b/c.rs", Added)],
                false
            ),
            "add 2 files in src/x/"
        );
        assert_eq!(
            generated_summary(&[change("a", Deleted), change("src/b", Modified)], false),
            "update 2 files"
        );
    }

    #[test]
    fn common_dir_stops_at_components() {
        assert_eq!(common_dir("src/ab", "src/abc"), "src");
        assert_eq!(common_dir("src/a/b", "src/a"), "src/a");
        assert_eq!(common_dir("", "src"), "");
    }
}
