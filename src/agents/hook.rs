//! What runs on every hook event: the event's checkpoint (or the
//! SessionStart context), the transcript read incrementally through a
//! cache per session, and the one-line record in `hook.log`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde_json::json;

use super::{Action, Agent, HookInput, Reading};
use crate::checkpoint::{Outcome, Request};
use crate::config::Config;
use crate::history::History;
use crate::render::Dirs;

/// How long SessionStart waits for the remote's notes.
const SESSION_START_FETCH: std::time::Duration = std::time::Duration::from_millis(1000);

/// What a hook run did, for the log and `--strict` tests.
#[derive(Debug)]
pub enum Handled {
    /// A checkpoint was taken (or found unnecessary).
    Checkpoint(Box<Outcome>),
    /// The branch could not take a checkpoint (merge, rebase, conflicts):
    /// the work tree went to a rescue ref instead.
    Rescued(crate::rescue::Rescued),
    /// SessionStart printed context; the warnings are for stderr.
    Context(Vec<String>),
    /// Nothing to do for this event or repository.
    Nothing,
}

/// Run the hook for `agent` on `input`, in the session's directory.
/// `fallback_cwd` serves when the input names none. Settings that cannot be
/// used do not stop a hook: they are left out, and `warnings` says so.
pub fn handle(
    agent: Agent,
    input: &HookInput,
    fallback_cwd: &Path,
    out: &mut dyn std::io::Write,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Handled> {
    let cwd = input.cwd.as_deref().unwrap_or(fallback_cwd);
    let reason = match input.action {
        Action::Context => return session_start(cwd, out, warnings),
        Action::Prompt => return prompt_context(input, cwd, out, warnings),
        Action::Checkpoint(reason) => reason,
        Action::Nothing => return Ok(Handled::Nothing),
    };
    let mut repo = crate::repo::open_worktree(cwd)?;
    let config = load_config(&repo, warnings);
    if let Some(why) = off_hook_branches(&repo, &config)? {
        // The work is still saved, beside the branch. The transcript is
        // not read: its list is taken once a checkpoint can record it.
        let mut rescued = crate::rescue::rescue(&mut repo, &config, reason, &why)?;
        rescued.announce = first_notice(&repo, &rescued.reference);
        rescued.hint = Some(
            "give the session a branch of its own ('git session start -b NAME TASK'), or let hooks checkpoint here: git config session.hookBranches '*'".into(),
        );
        return Ok(Handled::Rescued(rescued));
    }
    let mut request = Request {
        reason: reason.into(),
        agent: Some(agent.integration().state_name().into()),
        agent_session: input.session_id.clone(),
        model: input.model.clone(),
        templates: Dirs::for_repo(&repo, &config),
        // Nobody watches a hook: a path git refuses must not cost the
        // rest of the work.
        refusals: crate::snapshot::Refusals::Skip,
        report: input.last_message.clone(),
        ..Request::default()
    };
    let cache = cache_path(&repo, input.session_id.as_deref());
    let reading = input
        .transcript_path
        .as_deref()
        .and_then(|path| read_transcript(agent, cache.as_deref(), path));
    let mut new_cache = None;
    if let Some(Reading {
        previous_todos,
        todos_seen,
        findings,
        cache,
    }) = reading
    {
        new_cache = Some(cache);
        // A list already taken is not taken again: what was recorded since
        // (by hand, `checkpoint --done '#1'`) wins over an older list.
        if let Some(todos) = findings.todos.filter(|_| !todos_seen) {
            // Open items the agent's list had last time and no longer
            // has were dropped by the agent: they leave the open lists.
            // Items recorded by hand were never in its list and stay.
            request.dropped_todos = previous_todos
                .unwrap_or_default()
                .into_iter()
                .filter(|old| old.status != crate::state::TodoStatus::Completed)
                .filter(|old| !todos.iter().any(|t| t.content == old.content))
                .map(|old| old.content)
                .collect();
            request.todos = todos.into_iter().map(|t| (t.content, t.status)).collect();
        }
        request.task_if_empty = findings.first_prompt;
        // The transcript's newest text serves when the input has no last
        // message (older agents, PreCompact, SessionEnd).
        if request.report.is_none() {
            request.report = findings.last_text;
        }
        if request.model.is_none() {
            request.model = findings.model;
        }
    }
    match crate::checkpoint::checkpoint(&mut repo, &config, &request, &AtomicBool::new(false)) {
        Ok(mut outcome) => {
            // Only now is the list taken: had the checkpoint failed, the next
            // run must read it again. A lost cache only costs a full read.
            if let (Some(path), Some(bytes)) = (&cache, &new_cache) {
                let _ = super::settings::write_atomically(path, bytes);
            }
            // SessionEnd is the last chance before the machine may go away.
            if reason == "session-end" && config.auto_push {
                match crate::sync::push(&mut repo, &config.within_hook(), None, true) {
                    Ok(report) => outcome.warnings.extend(report.warnings),
                    Err(err) => outcome.warnings.push(format!(
                        "the checkpoint is safe here, but the push failed: {err:#}"
                    )),
                }
            }
            Ok(Handled::Checkpoint(Box::new(outcome)))
        }
        Err(err) => match crate::rescue::applies_to(&err) {
            Some(why) => Ok(Handled::Rescued(crate::rescue::rescue(
                &mut repo, &config, reason, &why,
            )?)),
            None => Err(err),
        },
    }
}

/// Why hooks do not checkpoint on the current branch (`session.hookBranches`:
/// by default every branch but the default one, and never on a detached
/// HEAD), or `None` when they do. An agent working straight on `main`
/// without a `start` would otherwise fill it with checkpoints.
fn off_hook_branches(repo: &gix::Repository, config: &Config) -> anyhow::Result<Option<String>> {
    // During a rebase HEAD is detached; the rescue that follows knows the
    // branch, and checkpoint's own refusal says why. Conflicts too.
    let conflicts = || {
        repo.index_or_empty()
            .is_ok_and(|index| index.entries().iter().any(|e| e.stage_raw() != 0))
    };
    if repo.state().is_some() || conflicts() {
        return Ok(None);
    }
    let branch = repo.head_name()?.map(|name| name.shorten().to_string());
    let default = crate::repo::default_branches(repo);
    if config.hooks_checkpoint_on(branch.as_deref(), &default) {
        return Ok(None);
    }
    Ok(Some(match (branch, &config.hook_branches) {
        (None, _) => "HEAD is detached, and hooks checkpoint only on a branch".to_string(),
        (Some(branch), None) => format!(
            "'{branch}' is the default branch, where hooks do not checkpoint (session.hookBranches)"
        ),
        (Some(branch), Some(_)) => {
            format!("'{branch}' is not in session.hookBranches, where hooks checkpoint")
        }
    }))
}

/// Whether this is the first time hooks saved to `reference` instead of
/// the branch: said once, then only logged (a marker under
/// `<session dir>/` records it).
fn first_notice(repo: &gix::Repository, reference: &str) -> bool {
    let name: String = reference
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = crate::repo::session_dir(repo).join(format!("notice-{name}"));
    !path.exists()
        && std::fs::create_dir_all(crate::repo::session_dir(repo)).is_ok()
        && std::fs::write(&path, "shown\n").is_ok()
}

/// SessionStart: when the branch has a checkpoint, hand the agent the
/// `agent-context` rendering; otherwise print nothing.
fn session_start(
    cwd: &Path,
    out: &mut dyn std::io::Write,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Handled> {
    let mut repo = match crate::repo::open_worktree(cwd) {
        Ok(repo) => repo,
        // Not in a repository: nothing to resume, and nothing wrong.
        Err(_) => return Ok(Handled::Nothing),
    };
    let config = load_config(&repo, warnings);
    // A fresh clone has no notes: bring them, if a remote answers quickly.
    // Without them the trailers serve, so a failure here changes nothing.
    if !repo.remote_names().is_empty() {
        let _ = crate::sync::fetch_with(&mut repo, &config, None, Some(SESSION_START_FETCH));
    }
    let head = repo.head_id().ok().map(|id| id.detach());
    let newest = match head {
        Some(head) => History::new(&repo, &config)?.newest(head)?,
        None => None,
    };
    if newest.is_none() {
        // A new session on a branch of its own: say which sessions wait
        // to be continued.
        return match waiting_sessions(&repo, &config)? {
            Some(text) => print_context(out, "SessionStart", &text, std::mem::take(warnings)),
            None => Ok(Handled::Nothing),
        };
    }
    let (context, _) = crate::resume::gather(&repo, &config, None)?;
    let mut warnings = Vec::new();
    let text = crate::render::render(
        "agent-context",
        &Dirs::for_repo(&repo, &config),
        &context,
        &mut warnings,
    )?;
    print_context(out, "SessionStart", &text, warnings)
}

/// Hand `text` to the agent as context for `event` (the JSON Claude Code
/// and Codex read from SessionStart and UserPromptSubmit hooks).
fn print_context(
    out: &mut dyn std::io::Write,
    event: &str,
    text: &str,
    warnings: Vec<String>,
) -> anyhow::Result<Handled> {
    let value = json!({
        "hookSpecificOutput": {
            "hookEventName": event,
            "additionalContext": text,
        }
    });
    writeln!(out, "{}", crate::terminal::json(&value, false)?)?;
    Ok(Handled::Context(warnings))
}

/// How many waiting sessions SessionStart names.
const WAITING_SHOWN: usize = 5;

/// For a branch without a session: the sessions on other branches that
/// are not running (paused, or idle: ended without a pause), newest first,
/// with the command that continues each; `None` when there are none.
fn waiting_sessions(repo: &gix::Repository, config: &Config) -> anyhow::Result<Option<String>> {
    use crate::sessions::Lifecycle;
    let now = crate::time::now(repo);
    let (sessions, _) = crate::sessions::list(repo, config, false, now)?;
    let waiting: Vec<_> = sessions
        .iter()
        .filter(|s| !s.current && matches!(s.lifecycle, Lifecycle::Paused | Lifecycle::Idle))
        .collect();
    if waiting.is_empty() {
        return Ok(None);
    }
    let mut text = String::from(
        "This branch has no session yet. Sessions on other branches wait to be continued; if the person asks for one, bring it onto this branch with the command shown (it fast-forwards this branch and carries the session state over):\n",
    );
    for s in waiting.iter().take(WAITING_SHOWN) {
        let state = &s.checkpoint.state;
        text.push_str(&format!(
            "- {} ({} {}): {} (done {}, open {}) — git session continue {}\n",
            s.rev(),
            s.lifecycle.name(),
            crate::time::describe(now - crate::sessions::recorded_at(&s.checkpoint)),
            state.task.lines().next().unwrap_or("no task recorded"),
            state.done.len(),
            state.open_items().count(),
            s.branch,
        ));
    }
    if waiting.len() > WAITING_SHOWN {
        text.push_str(&format!(
            "- … and {} more: git session list\n",
            waiting.len() - WAITING_SHOWN
        ));
    }
    Ok(Some(text))
}

/// How long UserPromptSubmit waits for the named branch to be fetched: the
/// hook runs before the agent sees the prompt, so it must answer well
/// under a second even when the network is slow; the branch as last
/// fetched serves when the remote does not answer in time.
pub const PROMPT_FETCH: std::time::Duration = std::time::Duration::from_millis(600);

/// UserPromptSubmit: when the prompt names a branch with a session (not
/// the checked-out one), fetch that branch (bounded by [`PROMPT_FETCH`])
/// and hand the agent its context with the command that continues it.
/// A prompt naming no such branch costs no fetch and prints nothing.
fn prompt_context(
    input: &HookInput,
    cwd: &Path,
    out: &mut dyn std::io::Write,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Handled> {
    let Some(prompt) = input.prompt.as_deref().filter(|p| !p.trim().is_empty()) else {
        return Ok(Handled::Nothing);
    };
    let repo = match crate::repo::open_worktree(cwd) {
        Ok(repo) => repo,
        Err(_) => return Ok(Handled::Nothing),
    };
    let config = load_config(&repo, warnings);
    let Some(named) = crate::sessions::named_in(&repo, prompt)? else {
        return Ok(Handled::Nothing);
    };
    if let Some(remote) = &named.remote {
        let git = crate::remote::Git::new(&repo).with_timeout(Some(PROMPT_FETCH));
        let src = format!("refs/heads/{}", named.branch);
        let dst = format!("refs/remotes/{remote}/{}", named.branch);
        // The copy fetched before serves when the remote is slow or gone.
        let _ = git.fetch(remote, &src, &dst);
    }
    let rev = named.rev();
    let Ok(tip) = crate::repo::resolve_commit(&repo, &rev) else {
        return Ok(Handled::Nothing);
    };
    if History::new(&repo, &config)?.newest(tip)?.is_none() {
        return Ok(Handled::Nothing);
    }
    let (context, _) = crate::resume::gather(&repo, &config, Some(&rev))?;
    let mut render_warnings = Vec::new();
    let text = crate::render::render(
        "agent-context",
        &Dirs::for_repo(&repo, &config),
        &context,
        &mut render_warnings,
    )?;
    warnings.extend(render_warnings);
    print_context(out, "UserPromptSubmit", &text, std::mem::take(warnings))
}

/// The settings for a hook run: a setting that cannot be used is left out
/// (an invalid `.git-session.toml` as a whole) with a warning, so the work
/// is still saved.
pub fn load_config(repo: &gix::Repository, warnings: &mut Vec<String>) -> Config {
    let (config, problems) = Config::load_or_defaults(repo);
    warnings.extend(problems.iter().map(Config::fallback_warning));
    config
}

/// What `agent`'s transcript at `path` says, continuing the read cached
/// at `cache` for this session; `None` when the agent's transcript is not
/// read. The caller keeps the new cache once the checkpoint stands.
fn read_transcript(agent: Agent, cache: Option<&Path>, path: &Path) -> Option<Reading> {
    let cached = cache.and_then(|p| std::fs::read(p).ok());
    agent.integration().read_transcript(path, cached.as_deref())
}

/// `<git dir>/session/transcripts/<session id>.json`; the id is reduced to
/// file-name-safe characters.
fn cache_path(repo: &gix::Repository, session: Option<&str>) -> Option<PathBuf> {
    let id: String = session?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(100)
        .collect();
    (!id.is_empty()).then(|| {
        crate::repo::session_dir(repo)
            .join("transcripts")
            .join(format!("{id}.json"))
    })
}

/// Append one line to `<git dir>/session/hook.log`.
pub fn log(cwd: &Path, line: &str) {
    let Ok(repo) = crate::repo::open(cwd) else {
        return;
    };
    let dir = crate::repo::session_dir(&repo);
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("hook.log"))
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let when = crate::time::rfc3339(gix::date::Time::new(now, 0));
        // Read later with `cat` or `tail -f`: no control sequences in it.
        let _ = writeln!(file, "{when} {}", crate::terminal::neutralize(line));
    }
}
