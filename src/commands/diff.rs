//! `git session diff`: what changed between two checkpoints, or since one,
//! in the files and in the session state.
//!
//! The patch text is git's own: the user's `git diff` on the two trees,
//! run through [`crate::remote`]. gix 0.90 can diff blobs but writes no
//! `diff --git` patches (headers, mode lines, binary detection, quoting,
//! renames, `--stat`); a second diff writer would drift from git's, and
//! people pipe this into `git apply` and expect their own diff settings
//! (algorithm, drivers, textconv, colours) to hold. It costs one process
//! start. The work-tree side is the tree the next checkpoint would record
//! (untracked files included, skipped files not), which plain
//! `git diff COMMIT` cannot show: it never sees untracked files.

use std::ffi::OsString;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use serde_json::json;

use crate::color::Style;
use crate::commands::{print_json, Io, Workspace};
use crate::error::Error;
use crate::history::History;
use crate::state::State;
use crate::time::short;

/// Show what changed between two checkpoints: files and session state.
///
/// A and B are checkpoints ('#N' as 'git session log' numbers them, or any
/// revision). Without B, A is compared with the work tree as the next
/// checkpoint would record it (new untracked files included, files left out
/// of checkpoints not); without A either, the newest checkpoint is. The
/// patch is git's own 'git diff' of the two trees, with your diff settings.
/// Before it, the state change: items done, items added, items dropped,
/// items reopened (done before, open again: a restore), decisions added.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session diff                 # since the newest checkpoint\n  git session diff '#3' '#1' --stat\n  git session diff HEAD~2 -- src/\n  git session diff '#2' --json     # files, counts, state change and patch"
)]
pub struct Args {
    /// The older side (default: the newest checkpoint).
    #[arg(value_name = "A")]
    pub from: Option<String>,
    /// The newer side (default: the work tree).
    #[arg(value_name = "B")]
    pub to: Option<String>,
    /// Only these files or directories (git pathspecs).
    #[arg(last = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// A summary of the files changed (git's --stat) instead of the patch.
    #[arg(long)]
    pub stat: bool,
    /// Print one JSON object: both sides, the files with their line counts,
    /// the state change and the patch.
    #[arg(long)]
    pub json: bool,
}

/// How the session state moved from one side to the other.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateChange {
    /// Items done on the newer side and not on the older one.
    pub done: Vec<String>,
    /// Open items (doing, todo) that are new: neither open nor done before.
    pub added: Vec<String>,
    /// Open items that are gone without being done.
    pub dropped: Vec<String>,
    /// Items done on the older side and open again on the newer one (what
    /// a restore to before they were done shows).
    pub reopened: Vec<String>,
    /// Decisions recorded since.
    pub decisions: Vec<String>,
}

impl StateChange {
    pub fn between(a: &State, b: &State) -> StateChange {
        let open = |s: &State| s.open_items().cloned().collect::<Vec<_>>();
        let (a_open, b_open) = (open(a), open(b));
        let new = |list: &[String], old: &[&[String]]| {
            list.iter()
                .filter(|item| !old.iter().any(|o| o.contains(item)))
                .cloned()
                .collect::<Vec<_>>()
        };
        StateChange {
            done: new(&b.done, &[&a.done]),
            added: new(&b_open, &[&a_open, &a.done]),
            dropped: new(&a_open, &[&b_open, &b.done]),
            reopened: b_open
                .iter()
                .filter(|item| a.done.contains(item) && !a_open.contains(item))
                .cloned()
                .collect(),
            decisions: new(&b.decisions, &[&a.decisions]),
        }
    }

    fn is_empty(&self) -> bool {
        self.done.is_empty()
            && self.added.is_empty()
            && self.dropped.is_empty()
            && self.reopened.is_empty()
            && self.decisions.is_empty()
    }
}

/// One side of the comparison.
struct Side {
    /// The commit, or `None` for the work tree.
    commit: Option<ObjectId>,
    tree: ObjectId,
    state: State,
}

impl Side {
    fn name(&self) -> String {
        self.commit.map_or_else(|| "the work tree".into(), short)
    }
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    let Workspace { repo, config } = Workspace::open_worktree(cwd)?;
    let workdir = repo.workdir().map(Path::to_path_buf).unwrap_or_default();
    let head = repo.head_id().ok().map(|id| id.detach());
    let mut history = History::new(&repo, &config)?;
    let current = match head {
        Some(head) => history.newest(head)?,
        None => None,
    };
    let mut side = |spec: &str| -> anyhow::Result<Side> {
        let commit = history.resolve(spec, head)?;
        let state = match history.checkpoint_at(commit)? {
            Some(cp) => Some(cp.state),
            None => history.newest(commit)?.map(|cp| cp.state),
        };
        Ok(Side {
            commit: Some(commit),
            tree: crate::commit::head_tree_or_empty(&repo, Some(commit))?,
            state: state.unwrap_or_default(),
        })
    };
    let from = match &args.from {
        Some(spec) => side(spec)?,
        None => match &current {
            Some(cp) => Side {
                commit: Some(cp.id),
                tree: cp.tree,
                state: cp.state.clone(),
            },
            None => return Err(Error::NoCheckpoint("HEAD".into()).into()),
        },
    };
    let to = match &args.to {
        Some(spec) => side(spec)?,
        None => {
            let index = crate::index_file::read(&repo)?;
            let snap = crate::snapshot::snapshot(
                &repo,
                index,
                crate::commit::head_tree_or_empty(&repo, head)?,
                &crate::snapshot::Options {
                    refusals: crate::snapshot::Refusals::Skip,
                    ..crate::snapshot::Options::from_config(&config)
                },
                &AtomicBool::new(false),
            )?;
            io.warn(&snap.warnings)?;
            Side {
                commit: None,
                tree: snap.tree,
                state: current
                    .as_ref()
                    .map(|cp| cp.state.clone())
                    .unwrap_or_default(),
            }
        }
    };
    io.warn(&history.warnings)?;
    let change = StateChange::between(&from.state, &to.state);

    let git = crate::remote::Git::new(&repo);
    let sides = |extra: &[&str]| -> Vec<OsString> {
        let mut v: Vec<OsString> = extra.iter().map(OsString::from).collect();
        v.push(from.tree.to_string().into());
        v.push(to.tree.to_string().into());
        v.push("--".into());
        v.extend(args.paths.iter().map(OsString::from));
        v
    };
    if args.json {
        let text = |extra: &[&str]| -> anyhow::Result<String> {
            Ok(
                String::from_utf8_lossy(&git.diff(&workdir, cwd, false, &sides(extra))?)
                    .into_owned(),
            )
        };
        let files = files(
            &text(&["--no-renames", "--no-ext-diff", "-z", "--name-status"])?,
            &text(&["--no-renames", "--no-ext-diff", "-z", "--numstat"])?,
        );
        let describe = |side: &Side| {
            json!({
                "commit": side.commit.map(|id| id.to_string()),
                "tree": side.tree.to_string(),
            })
        };
        let value = json!({
            "from": describe(&from),
            "to": describe(&to),
            "files": files,
            "state": change,
            "patch": text(&["--no-ext-diff"])?,
        });
        return print_json(io, &value);
    }

    if !change.is_empty() {
        let heading = io.color.out(
            Style::Heading,
            &format!("State from {} to {}:", from.name(), to.name()),
        );
        writeln!(io.out, "{heading}")?;
        for (label, list) in [
            ("done", &change.done),
            ("added", &change.added),
            ("dropped", &change.dropped),
            ("reopened", &change.reopened),
            ("decision", &change.decisions),
        ] {
            for item in list {
                writeln!(
                    io.out,
                    "  {label}: {}",
                    item.lines().collect::<Vec<_>>().join(" / ")
                )?;
            }
        }
        writeln!(io.out)?;
    }
    let extra: &[&str] = if args.stat { &["--stat"] } else { &[] };
    let patch = git.diff(&workdir, cwd, io.color.out, &sides(extra))?;
    io.out.write_all(&patch)?;
    Ok(())
}

/// The files of `--name-status -z` with the line counts of `--numstat -z`
/// (`null` for binary files).
fn files(name_status: &str, numstat: &str) -> Vec<serde_json::Value> {
    let mut counts = std::collections::HashMap::new();
    for record in numstat.split('\0').filter(|r| !r.is_empty()) {
        let mut fields = record.splitn(3, '\t');
        if let (Some(added), Some(deleted), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        {
            counts.insert(
                path.to_string(),
                (added.parse::<u64>().ok(), deleted.parse::<u64>().ok()),
            );
        }
    }
    let mut out = Vec::new();
    let mut fields = name_status.split('\0').filter(|r| !r.is_empty());
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        let (added, deleted) = counts.get(path).copied().unwrap_or((None, None));
        out.push(json!({"path": path, "status": status, "added": added, "deleted": deleted}));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_change_names_done_added_dropped_and_decisions() {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = State {
            done: list(&["one"]),
            doing: list(&["two"]),
            todo: list(&["three", "four"]),
            decisions: list(&["use toml"]),
            ..State::default()
        };
        let b = State {
            done: list(&["two"]),
            doing: list(&["three"]),
            todo: list(&["five", "one"]),
            decisions: list(&["use toml", "no server"]),
            ..State::default()
        };
        assert_eq!(
            StateChange::between(&a, &b),
            StateChange {
                done: list(&["two"]),
                added: list(&["five"]),
                dropped: list(&["four"]),
                reopened: list(&["one"]),
                decisions: list(&["no server"]),
            }
        );
        assert!(StateChange::between(&b, &b).is_empty());
    }
}
