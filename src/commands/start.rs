//! `git session start`: begin a session with its task and first todo items.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::Target;

use crate::checkpoint::Request;
use crate::commands::{Io, Workspace};
use crate::error::Error;
use crate::state::Edits;

/// Begin a session: record its task and first todo items as a checkpoint.
///
/// With -b, creates BRANCH at HEAD and switches to it first (the work tree
/// and index stay as they are). The session's base is the commit HEAD was
/// on before. Any uncommitted work is part of the first checkpoint.
///
/// On a branch that already has a session (a checkpoint of this branch
/// that no 'finish' closed), start refuses: its open items, decisions and
/// notes would be replaced. 'git session checkpoint --task TEXT' changes
/// the task and keeps them; --new begins a fresh session on purpose (the
/// old state stays in history: 'git session log').
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git session start 'Add a dark mode toggle'\n  git session start -b feat/dark-mode --todo 'toggle' --todo 'persist' 'Add a dark mode'\n  git session start --new 'Second round: accessibility'"
)]
pub struct Args {
    /// The goal of the session, one paragraph.
    #[arg(value_name = "TASK")]
    pub task: String,
    /// Create BRANCH at HEAD and switch to it.
    #[arg(short = 'b', long = "branch", value_name = "BRANCH")]
    pub branch: Option<String>,
    /// An item still to do (repeatable).
    #[arg(long, value_name = "ITEM")]
    pub todo: Vec<String>,
    /// Begin a fresh session even though this branch has one; its state
    /// stays reachable in history.
    #[arg(long = "new")]
    pub fresh: bool,
    /// Print nothing but errors and warnings (not with --json).
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, cwd: &Path, io: &mut Io<'_>) -> anyhow::Result<()> {
    if args.task.trim().is_empty() {
        return Err(Error::Usage("the task must not be empty".into()).into());
    }
    let repo = crate::repo::open_worktree(cwd)?;
    crate::repo::refuse_in_progress(&repo)?;
    let ws = Workspace::load(repo)?;
    let templates = ws.templates();
    let Workspace { mut repo, config } = ws;
    let head = repo.head_id().ok().map(|id| id.detach());
    if args.branch.is_none() && !args.fresh {
        refuse_open_session(&repo, &config, head)?;
    }

    let switched = match &args.branch {
        Some(name) => Some(switch_to_new_branch(&repo, name, head)?),
        None => None,
    };
    let request = Request {
        edits: Edits {
            task: Some(args.task.clone()),
            todo: args.todo.clone(),
            ..Edits::default()
        },
        reason: "start".into(),
        base: Some(head),
        fresh: true,
        templates,
        ..Request::default()
    };
    match crate::checkpoint::checkpoint(&mut repo, &config, &request, &AtomicBool::new(false)) {
        Ok(outcome) => crate::commands::checkpoint::report(&outcome, args.quiet, args.json, io),
        Err(err) => {
            if let Some(previous) = switched {
                undo_switch(&repo, previous);
            }
            Err(err)
        }
    }
}

/// Refuse when the newest checkpoint belongs to this branch's session and
/// no `finish` closed it: a fresh state would silently replace its open
/// items, decisions and notes. (A checkpoint of another branch, below where
/// this one forked, is no session of this branch's.)
fn refuse_open_session(
    repo: &gix::Repository,
    config: &crate::config::Config,
    head: Option<gix::ObjectId>,
) -> anyhow::Result<()> {
    let Some(head) = head else {
        return Ok(());
    };
    let branch = repo
        .head_name()?
        .map(|name| name.shorten().to_string())
        .unwrap_or_default();
    let Some(cp) = crate::history::History::new(repo, config)?.newest(head)? else {
        return Ok(());
    };
    if cp.state.branch != branch || cp.state.reason == "finish" {
        return Ok(());
    }
    Err(Error::SessionExists {
        branch: if branch.is_empty() {
            "the detached HEAD".into()
        } else {
            format!("branch '{branch}'")
        },
        checkpoint: crate::time::short(cp.id),
    }
    .into())
}

/// What HEAD was before the switch, to undo it if the checkpoint fails.
struct Switched {
    old_head: gix::refs::Target,
    new_branch: gix::refs::FullName,
    created: bool,
}

fn switch_to_new_branch(
    repo: &gix::Repository,
    name: &str,
    head: Option<gix::ObjectId>,
) -> anyhow::Result<Switched> {
    let full: gix::refs::FullName = format!("refs/heads/{name}")
        .try_into()
        .map_err(|_| Error::InvalidBranch(name.to_string()))?;
    if repo.try_find_reference(full.as_ref())?.is_some() {
        return Err(Error::BranchExists(name.to_string()).into());
    }
    let old_head = repo
        .find_reference("HEAD")
        .context("could not read HEAD")?
        .target()
        .into_owned();
    let log = |message: String| LogChange {
        mode: RefLog::AndReference,
        force_create_reflog: false,
        message: message.into(),
    };
    let mut edits = Vec::new();
    if let Some(head) = head {
        edits.push(RefEdit {
            change: Change::Update {
                log: log("branch: Created from HEAD by git-session start".to_string()),
                expected: PreviousValue::MustNotExist,
                new: Target::Object(head),
            },
            name: full.clone(),
            deref: false,
        });
    }
    edits.push(RefEdit {
        change: Change::Update {
            log: log(format!("checkout: moving to {name} (git-session start)")),
            expected: PreviousValue::MustExistAndMatch(old_head.clone()),
            new: Target::Symbolic(full.clone()),
        },
        name: "HEAD".try_into().context("HEAD is a valid ref name")?,
        deref: false,
    });
    repo.edit_references(edits)
        .with_context(|| format!("could not create and switch to branch '{name}'"))?;
    Ok(Switched {
        old_head,
        new_branch: full,
        created: head.is_some(),
    })
}

/// Best effort: put HEAD back and delete the branch we created.
fn undo_switch(repo: &gix::Repository, switched: Switched) {
    let mut edits = vec![RefEdit {
        change: Change::Update {
            log: LogChange::default(),
            expected: PreviousValue::Any,
            new: switched.old_head,
        },
        name: match "HEAD".try_into() {
            Ok(name) => name,
            Err(_) => return,
        },
        deref: false,
    }];
    if switched.created {
        edits.push(RefEdit {
            change: Change::Delete {
                expected: PreviousValue::Any,
                log: RefLog::AndReference,
            },
            name: switched.new_branch,
            deref: false,
        });
    }
    let _ = repo.edit_references(edits);
}
