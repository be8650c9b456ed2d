//! Crashes, signals and concurrency: a checkpoint killed at any moment,
//! interrupted, or run beside other checkpoints and plain `git commit`s
//! leaves a consistent repository, loses nothing, and the next checkpoint
//! works without anyone deleting a file by hand. Also the hook's rescue
//! snapshot when the branch cannot take a checkpoint.
//!
//! The kill loop runs 25 kills by default (CI); the full run is
//!
//! ```sh
//! GIT_SESSION_KILL_ITERATIONS=250 cargo test --test integration reliability::kill -- --nocapture
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use crate::differential::{assert_work_tree_unchanged, snapshot_work_tree, Entry, Rng};
use crate::support::{text, Repo, Sandbox};

fn git_dir(repo: &Repo) -> PathBuf {
    PathBuf::from(repo.git(&["rev-parse", "--absolute-git-dir"]).trim())
}

fn session_lock(repo: &Repo) -> PathBuf {
    git_dir(repo).join("session/checkpoint.lock")
}

fn index_lock(repo: &Repo) -> PathBuf {
    git_dir(repo).join("index.lock")
}

/// Lock files anywhere in the git dir (`index.lock`, ref locks, ours).
fn lock_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && entry.file_name() != "objects" {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "lock") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The tree `git add -A` would record now, on a copy of the index.
fn git_add_all_tree(repo: &Repo) -> String {
    let dir = git_dir(repo);
    let scratch = dir.join("index.reliability-scratch");
    fs::copy(dir.join("index"), &scratch).expect("copy the index");
    // With the index's own mtime: git takes an entry as racily clean (and
    // reads the file) by comparing with it, and a copy made now would let
    // git trust the stat data of a file changed in the same clock tick as
    // the index was written (same size), missing the change.
    let mtime = fs::metadata(dir.join("index"))
        .and_then(|m| m.modified())
        .expect("the index's mtime");
    fs::File::options()
        .write(true)
        .open(&scratch)
        .and_then(|f| f.set_modified(mtime))
        .expect("set the copy's mtime");
    let run = |args: &[&str]| {
        let out = repo
            .git_command()
            .env("GIT_INDEX_FILE", &scratch)
            .args(args)
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    run(&["add", "-A"]);
    let tree = run(&["write-tree"]);
    let _ = fs::remove_file(&scratch);
    tree
}

/// A repository of `dirs × files` small files, committed by git.
fn big_repo(sb: &Sandbox, dirs: usize, files: usize) -> Repo {
    let repo = sb.init("r");
    for d in 0..dirs {
        for f in 0..files {
            repo.write(
                &format!("d{d:02}/f{f:03}.txt"),
                format!("file {d}/{f}\nsecond line\n"),
            );
        }
    }
    repo.commit_all("base");
    // Packed, so fsck after every kill checks a few loose objects, not thousands.
    repo.git(&["repack", "-adq"]);
    repo
}

/// Fresh changes: modify, add and delete a few files.
fn change(repo: &Repo, rng: &mut Rng, round: usize, dirs: usize, files: usize) {
    for k in 0..12 {
        let (d, f) = (rng.below(dirs), rng.below(files));
        repo.write(
            &format!("d{d:02}/f{f:03}.txt"),
            format!("round {round} change {k}\n"),
        );
    }
    for k in 0..4 {
        repo.write(
            &format!("new/r{round:04}-{k}.txt"),
            format!("new in round {round}\n"),
        );
    }
    let (d, f) = (rng.below(dirs), rng.below(files));
    let _ = fs::remove_file(repo.path.join(format!("d{d:02}/f{f:03}.txt")));
}

fn is_checkpoint(repo: &Repo, commit: &str) -> bool {
    repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Session-Schema,valueonly)",
        commit,
    ])
    .trim()
    .parse::<u32>()
    .is_ok()
}

/// How many kills to survive: 25 by default, `GIT_SESSION_KILL_ITERATIONS`
/// for the full run.
fn kill_iterations() -> usize {
    std::env::var("GIT_SESSION_KILL_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
}

/// What one kill left behind.
#[derive(Default, Debug)]
struct KillStats {
    old_tip: usize,
    new_tip: usize,
    new_tip_without_note: usize,
    finished_before_kill: usize,
    locks_left: usize,
}

/// SIGKILL `git session checkpoint` after a random delay, again and again,
/// on a repository of 3 000 files with fresh changes each time. After every
/// kill: `git fsck --strict` is clean, the work tree is byte-identical, the
/// branch is at the old tip or at one new checkpoint holding exactly the
/// work tree, and the next checkpoint succeeds with nobody deleting a file.
#[test]
fn kill_at_any_moment() {
    const DIRS: usize = 30;
    const FILES: usize = 100;
    let sb = Sandbox::new();
    let repo = big_repo(&sb, DIRS, FILES);
    let mut rng = Rng::new(0x6b69_6c6c);

    // How long a checkpoint takes here: the delays span it.
    let mut duration = Duration::ZERO;
    for round in 0..3 {
        change(&repo, &mut rng, 100_000 + round, DIRS, FILES);
        let started = Instant::now();
        repo.session_ok(&["checkpoint", "-q", "-m", "measure"]);
        duration = duration.max(started.elapsed());
    }
    let span = duration.as_micros() as u64 + 1;

    let iterations = kill_iterations();
    let mut stats = KillStats::default();
    for round in 0..iterations {
        change(&repo, &mut rng, round, DIRS, FILES);
        let expected_tree = git_add_all_tree(&repo);
        let work_tree = snapshot_work_tree(&repo.path);
        let old = repo.rev("HEAD");
        let delay = Duration::from_micros(rng.next_u64() % span);
        let ctx = format!("round {round}, kill after {delay:?} (checkpoint takes ~{duration:?})");

        let mut child = repo
            .session_command()
            .args(["checkpoint", "-q", "-m", &format!("round {round}")])
            .args(["--note", &format!("note {round}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn git-session");
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().expect("reap git-session");
        match status.code() {
            Some(0) => stats.finished_before_kill += 1,
            None => assert_eq!(status.signal(), Some(9), "{ctx}"),
            Some(code) => panic!("{ctx}: exited {code} before the kill"),
        }

        repo.fsck();
        assert_work_tree_unchanged(&work_tree, &snapshot_work_tree(&repo.path), &ctx);
        let head = repo.rev("HEAD");
        if head == old {
            stats.old_tip += 1;
        } else {
            assert_eq!(repo.rev("HEAD^"), old, "{ctx}: more than one new commit");
            assert!(
                is_checkpoint(&repo, &head),
                "{ctx}: new tip is not a checkpoint"
            );
            assert_eq!(
                repo.rev("HEAD^{tree}"),
                expected_tree,
                "{ctx}: the new checkpoint does not hold the work tree"
            );
            stats.new_tip += 1;
            let note = repo.git_output(&["notes", "--ref=session", "show", "HEAD"]);
            if !note.status.success() {
                stats.new_tip_without_note += 1;
            }
        }
        if !lock_files(&git_dir(&repo)).is_empty() {
            stats.locks_left += 1;
        }

        // The next checkpoint works as it is: nobody clears anything.
        let before_recovery = repo.rev("HEAD");
        let out = repo.session(&["checkpoint", "-q", "-m", &format!("after {round}")]);
        assert!(
            out.status.success(),
            "{ctx}: the next checkpoint failed (locks: {:?}):\n{}",
            lock_files(&git_dir(&repo)),
            text(&out)
        );
        assert_eq!(repo.rev("HEAD^{tree}"), expected_tree, "{ctx}");
        assert!(is_checkpoint(&repo, "HEAD"), "{ctx}");
        if repo.rev("HEAD") != before_recovery {
            let note = repo.git_output(&["notes", "--ref=session", "show", "HEAD"]);
            assert!(note.status.success(), "{ctx}: {}", text(&note));
        } else {
            // The killed run's checkpoint stands; if it was killed before
            // its note, the trailers carry the state.
            let show = repo.session_ok(&["show"]);
            assert!(show.contains(&format!("note {round}")), "{ctx}: {show}");
        }
        assert!(
            lock_files(&git_dir(&repo)).is_empty(),
            "{ctx}: locks left after a successful checkpoint: {:?}",
            lock_files(&git_dir(&repo))
        );
        assert!(repo.status().is_empty(), "{ctx}: {}", repo.status());
    }
    eprintln!(
        "kill_at_any_moment: {iterations} kills survived (checkpoint ~{duration:?}): {stats:?}"
    );
    assert_eq!(
        stats.old_tip + stats.new_tip,
        iterations,
        "every kill accounted for"
    );
    if iterations >= 20 {
        // Not vacuous: kills landed while the checkpoint held its locks.
        assert!(stats.locks_left > 0, "no kill left a lock: {stats:?}");
        assert!(stats.old_tip > 0, "{stats:?}");
    }
    repo.fsck();
}

/// The commits `old..HEAD` adds on the first-parent line, oldest first.
fn new_commits(repo: &Repo, old: &str) -> Vec<String> {
    let range = format!("{old}..HEAD");
    let mut out: Vec<String> = repo
        .git(&["rev-list", "--first-parent", &range])
        .lines()
        .map(str::to_string)
        .collect();
    out.reverse();
    out
}

fn reason(repo: &Repo, commit: &str) -> String {
    repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Session-Reason,valueonly)",
        commit,
    ])
    .trim()
    .to_string()
}

/// The entries with their times left out: a restored file is written anew,
/// and what must come back is its content and mode.
fn without_mtimes(entries: BTreeMap<PathBuf, Entry>) -> BTreeMap<PathBuf, Entry> {
    entries
        .into_iter()
        .map(|(path, entry)| {
            let entry = match entry {
                Entry::File { mode, bytes, .. } => Entry::File {
                    mode,
                    mtime: (0, 0),
                    bytes,
                },
                Entry::Special { mode, .. } => Entry::Special {
                    mode,
                    mtime: (0, 0),
                },
                other => other,
            };
            (path, entry)
        })
        .collect()
}

/// What one kill of a restore left behind.
#[derive(Default, Debug)]
struct RestoreKillStats {
    /// Killed before the pre-restore commit: nothing changed.
    old_tip: usize,
    /// Killed after the pre-restore commit, before the restore commit:
    /// the work tree anywhere between the old and the new.
    pre_restore_only: usize,
    /// Killed after the restore commit (or it finished).
    restored: usize,
}

/// SIGKILL `git session restore` after a random delay, again and again, on
/// 2 000 files with fresh uncommitted changes each time. After every kill:
/// `git fsck --strict` is clean; HEAD is the old tip with the work tree
/// byte-identical, or one pre-restore checkpoint holding exactly the work
/// tree as it was, or that and the restore checkpoint holding the target's
/// tree. One more restore of the same checkpoint ends in the new state (git
/// diff and status empty), and restoring the pre-restore checkpoint brings
/// the old work tree back byte for byte; nobody deletes a lock by hand.
#[test]
fn sigkill_during_restore_leaves_the_old_or_the_new_state_recoverable_by_one_more_restore() {
    const DIRS: usize = 20;
    const FILES: usize = 100;
    let sb = Sandbox::new();
    let repo = big_repo(&sb, DIRS, FILES);
    let mut rng = Rng::new(0x7265_7374);
    let mut targets = Vec::new();
    for round in 0..3 {
        change(&repo, &mut rng, 200_000 + round, DIRS, FILES);
        repo.session_ok(&["checkpoint", "-q", "-m", &format!("target {round}")]);
        targets.push(repo.rev("HEAD"));
    }

    // How long a restore takes here: the delays span it.
    let mut duration = Duration::ZERO;
    for (round, target) in targets.iter().enumerate() {
        change(&repo, &mut rng, 300_000 + round, DIRS, FILES);
        let started = Instant::now();
        repo.session_ok(&["restore", "-q", target]);
        duration = duration.max(started.elapsed());
    }
    let span = duration.as_micros() as u64 + 1;

    let iterations = kill_iterations();
    let mut stats = RestoreKillStats::default();
    for round in 0..iterations {
        change(&repo, &mut rng, round, DIRS, FILES);
        let original_tree = git_add_all_tree(&repo);
        let original = snapshot_work_tree(&repo.path);
        let old = repo.rev("HEAD");
        let target = targets[rng.below(targets.len())].clone();
        let target_tree = repo.rev(&format!("{target}^{{tree}}"));
        // Every other kill lands in the last third, or just after the
        // end: the scan takes most of a restore, and the writes and
        // commits come after it.
        let delay = Duration::from_micros(if round % 2 == 0 {
            rng.next_u64() % span
        } else {
            span * 2 / 3 + rng.next_u64() % (span / 2 + 1)
        });
        let ctx = format!("round {round}, kill after {delay:?} (restore takes ~{duration:?})");

        let mut child = repo
            .session_command()
            .args(["restore", "-q", &target])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn git-session");
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().expect("reap git-session");
        match status.code() {
            Some(0) | None => {}
            Some(code) => panic!("{ctx}: exited {code} before the kill"),
        }

        repo.fsck();
        let new = new_commits(&repo, &old);
        let ctx = format!("{ctx}, {} new commits", new.len());
        match new.as_slice() {
            [] => {
                assert_work_tree_unchanged(&original, &snapshot_work_tree(&repo.path), &ctx);
                stats.old_tip += 1;
            }
            [saved, rest @ ..] if rest.len() <= 1 => {
                assert_eq!(reason(&repo, saved), "pre-restore", "{ctx}");
                assert_eq!(
                    repo.rev(&format!("{saved}^{{tree}}")),
                    original_tree,
                    "{ctx}: the pre-restore checkpoint does not hold the work tree as it was"
                );
                if let [restored] = rest {
                    assert_eq!(reason(&repo, restored), "restore", "{ctx}");
                    assert_eq!(
                        repo.rev(&format!("{restored}^{{tree}}")),
                        target_tree,
                        "{ctx}"
                    );
                    stats.restored += 1;
                } else {
                    stats.pre_restore_only += 1;
                }
            }
            _ => panic!("{ctx}: more than two new commits: {new:?}"),
        }

        // One more restore of the same checkpoint: the new state.
        let out = repo.session(&["restore", "-q", &target]);
        assert!(
            out.status.success(),
            "{ctx}: the restore again failed (locks: {:?}):\n{}",
            lock_files(&git_dir(&repo)),
            text(&out)
        );
        let diff = repo.git_output(&["diff", "--exit-code", "--stat", &target]);
        assert!(
            diff.status.success(),
            "{ctx}: {}\n{}",
            text(&diff),
            repo.status()
        );
        assert!(repo.status().is_empty(), "{ctx}: {}", repo.status());
        assert!(lock_files(&git_dir(&repo)).is_empty(), "{ctx}");

        // And the old state: the first pre-restore checkpoint after `old`.
        let saved = new_commits(&repo, &old)
            .into_iter()
            .next()
            .expect("a pre-restore checkpoint");
        assert_eq!(reason(&repo, &saved), "pre-restore", "{ctx}");
        repo.session_ok(&["restore", "-q", &saved]);
        assert_work_tree_unchanged(
            &without_mtimes(original),
            &without_mtimes(snapshot_work_tree(&repo.path)),
            &ctx,
        );
        assert!(repo.status().is_empty(), "{ctx}: {}", repo.status());
    }
    eprintln!("sigkill_during_restore: {iterations} kills (restore ~{duration:?}): {stats:?}");
    assert_eq!(
        stats.old_tip + stats.pre_restore_only + stats.restored,
        iterations
    );
    if iterations >= 20 {
        // Not vacuous: kills landed before the first commit and after it.
        assert!(stats.old_tip > 0, "{stats:?}");
        assert!(stats.pre_restore_only + stats.restored > 0, "{stats:?}");
    }
    repo.fsck();
}

// ---------------------------------------------------------------------------
// Signals

/// Wait until `path` exists or the child exits; true when it appeared.
fn wait_for(path: &Path, child: &mut Child, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if path.exists() {
            return true;
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    false
}

/// Wait until the file at `path` contains `needle` (for the holder record:
/// a line starting with it, other than `index-lock trying`/`busy`).
fn wait_for_text(path: &Path, needle: &str, child: &mut Child, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        let found = fs::read_to_string(path).is_ok_and(|t| {
            t.lines()
                .any(|l| l.starts_with(needle) && !l.ends_with(" trying") && !l.ends_with(" busy"))
        });
        if found {
            return true;
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    false
}

fn holder_record(repo: &Repo) -> PathBuf {
    git_dir(repo).join("session/checkpoint.holder")
}

fn send(signal: &str, pid: u32) {
    let out = Command::new("kill")
        .args([signal, &pid.to_string()])
        .output()
        .expect("run kill");
    assert!(out.status.success(), "kill {signal}: {}", text(&out));
}

/// SIGINT and SIGTERM while the checkpoint holds its locks: the locks are
/// removed, the exit is non-zero (death by that signal), the repository is
/// consistent, and the next checkpoint works.
#[test]
fn sigint_and_sigterm_remove_the_locks() {
    const DIRS: usize = 20;
    const FILES: usize = 100;
    let sb = Sandbox::new();
    let repo = big_repo(&sb, DIRS, FILES);
    let mut rng = Rng::new(0x5167);
    let mut interrupted = 0;
    let mut leftovers = 0;
    for (round, (signal, number)) in [("-INT", 2), ("-TERM", 15)]
        .iter()
        .cycle()
        .take(8)
        .enumerate()
    {
        change(&repo, &mut rng, round, DIRS, FILES);
        let expected_tree = git_add_all_tree(&repo);
        let work_tree = snapshot_work_tree(&repo.path);
        let old = repo.rev("HEAD");
        // Alternate: signal once our lock holds its PID, or once the
        // holder record names the index.lock it created (both written
        // just after the lock file is registered for removal on signals).
        let (watch, marker) = if round % 4 < 2 {
            (session_lock(&repo), "pid ")
        } else {
            (holder_record(&repo), "index-lock ")
        };
        let mut child = repo
            .session_command()
            .args(["checkpoint", "-q", "-m", &format!("round {round}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn git-session");
        let seen = wait_for_text(&watch, marker, &mut child, Duration::from_secs(20));
        send(signal, child.id());
        let status: ExitStatus = child.wait().expect("reap");
        let ctx = format!(
            "round {round}: {signal} once {} had {marker:?}",
            watch.display()
        );

        // A signal in the microseconds between gix creating a lock file and
        // registering it for removal leaves that file (a known window, seen
        // under heavy load); the next checkpoint must then clear it. A
        // broken signal handler would leave locks in every round.
        let left = lock_files(&git_dir(&repo));
        if !left.is_empty() {
            eprintln!("{ctx}: locks left for the next run to clear: {left:?} (exit {status:?})");
            leftovers += 1;
        }
        repo.fsck();
        assert_work_tree_unchanged(&work_tree, &snapshot_work_tree(&repo.path), &ctx);
        if status.success() {
            // It finished before the signal arrived.
            assert_eq!(repo.rev("HEAD^"), old, "{ctx}");
        } else {
            assert_eq!(status.signal(), Some(*number), "{ctx}: {status:?}");
            if seen {
                interrupted += 1;
            }
            let head = repo.rev("HEAD");
            assert!(
                head == old || repo.rev("HEAD^") == old,
                "{ctx}: branch moved elsewhere"
            );
        }
        repo.session_ok(&["checkpoint", "-q", "-m", &format!("after {round}")]);
        assert_eq!(repo.rev("HEAD^{tree}"), expected_tree, "{ctx}");
        assert!(
            lock_files(&git_dir(&repo)).is_empty(),
            "{ctx}: the next checkpoint left locks: {:?}",
            lock_files(&git_dir(&repo))
        );
    }
    assert!(
        interrupted >= 4,
        "only {interrupted} of 8 signals landed while a lock was held"
    );
    assert!(
        leftovers <= 2,
        "{leftovers} of 8 signals left lock files: the signal handler does not clean up"
    );
}

// ---------------------------------------------------------------------------
// Concurrency

/// Eight checkpoints at once, with a loop of plain `git commit`s beside
/// them: each run succeeds or fails with a clear message; every reported
/// checkpoint and commit is on the branch, checkpoints keep their notes;
/// every file written before a successful run is in its tree; fsck clean.
#[test]
fn eight_checkpoints_and_git_commits_at_once() {
    const CHECKPOINTS: usize = 8;
    const COMMITS: usize = 12;
    let sb = Sandbox::new();
    let repo = big_repo(&sb, 10, 50);
    let barrier = Arc::new(Barrier::new(CHECKPOINTS + 1));
    let commits: Arc<Mutex<Vec<(usize, Output)>>> = Arc::default();

    let committer = {
        let repo = repo.clone();
        let barrier = Arc::clone(&barrier);
        let commits = Arc::clone(&commits);
        std::thread::spawn(move || {
            barrier.wait();
            for k in 0..COMMITS {
                let path = format!("git/{k}.txt");
                repo.write(&path, format!("committed by git {k}\n"));
                let add = repo.git_output(&["add", &path]);
                let commit = if add.status.success() {
                    repo.git_output(&["commit", "-m", &format!("git commit {k}"), "--", &path])
                } else {
                    add
                };
                commits.lock().expect("lock").push((k, commit));
            }
        })
    };
    let runs: Vec<_> = (0..CHECKPOINTS)
        .map(|i| {
            let repo = repo.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let path = format!("cp/{i}.txt");
                repo.write(&path, format!("written before checkpoint {i}\n"));
                let mut cmd = repo.session_command();
                cmd.args(["checkpoint", "-m", &format!("cp {i}")]).args([
                    "--note",
                    &format!("note {i}"),
                    "--json",
                ]);
                barrier.wait();
                (i, path, cmd.output().expect("run git-session"))
            })
        })
        .collect();
    let results: Vec<(usize, String, Output)> = runs
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    committer.join().expect("committer thread");

    let clear_error = |out: &Output| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        stderr
            .lines()
            .any(|l| l.starts_with("error: ") || l.starts_with("fatal: "))
            || String::from_utf8_lossy(&out.stdout).contains("nothing to commit")
    };
    let mut succeeded = 0;
    for (i, path, out) in &results {
        let all = text(out);
        match out.status.code() {
            Some(0) => {
                succeeded += 1;
                let json: serde_json::Value = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("checkpoint {i}: bad JSON ({e}): {all}"));
                let commit = json["commit"].as_str().expect("commit").to_string();
                assert!(
                    repo.git_output(&["merge-base", "--is-ancestor", &commit, "main"])
                        .status
                        .success(),
                    "checkpoint {i} ({commit}) is not on main"
                );
                let note = repo.git_output(&["notes", "--ref=session", "show", &commit]);
                assert!(
                    note.status.success() && text(&note).contains(&format!("note {i}")),
                    "checkpoint {i} lost its note: {}",
                    text(&note)
                );
                let blob = repo.git_output(&["cat-file", "-p", &format!("{commit}:{path}")]);
                assert_eq!(
                    String::from_utf8_lossy(&blob.stdout),
                    format!("written before checkpoint {i}\n"),
                    "checkpoint {i} misses its own file"
                );
            }
            Some(1) => assert!(clear_error(out), "checkpoint {i}: unclear failure: {all}"),
            other => panic!("checkpoint {i}: exit {other:?}: {all}"),
        }
    }
    assert!(succeeded > 0, "no checkpoint succeeded");

    let commits = commits.lock().expect("lock");
    let mut committed = 0;
    for (k, out) in commits.iter() {
        let all = text(out);
        if out.status.success() {
            committed += 1;
            let id = all
                .split(']')
                .next()
                .and_then(|head| head.rsplit(' ').next())
                .unwrap_or_else(|| panic!("no commit id in {all}"));
            let id = repo.rev(id);
            assert!(
                repo.git_output(&["merge-base", "--is-ancestor", &id, "main"])
                    .status
                    .success(),
                "git commit {k} ({id}) was lost from main"
            );
            let blob = repo.git_output(&["cat-file", "-p", &format!("{id}:git/{k}.txt")]);
            assert!(blob.status.success(), "git commit {k} misses its file");
        } else {
            assert!(clear_error(out), "git commit {k}: unclear failure: {all}");
        }
    }

    // Nothing lost: one more checkpoint, and every file is in the tree.
    repo.session_ok(&["checkpoint", "-q", "-m", "final"]);
    for i in 0..CHECKPOINTS {
        let blob = repo.git(&["cat-file", "-p", &format!("main:cp/{i}.txt")]);
        assert_eq!(blob, format!("written before checkpoint {i}\n"));
    }
    for k in 0..COMMITS {
        let blob = repo.git(&["cat-file", "-p", &format!("main:git/{k}.txt")]);
        assert_eq!(blob, format!("committed by git {k}\n"));
    }
    assert!(lock_files(&git_dir(&repo)).is_empty());
    assert!(repo.status().is_empty(), "{}", repo.status());
    repo.fsck();
    eprintln!(
        "eight_checkpoints_and_git_commits_at_once: {succeeded}/{CHECKPOINTS} checkpoints and {committed}/{COMMITS} git commits succeeded"
    );
}

// ---------------------------------------------------------------------------
// Locks left behind

/// Start a checkpoint and stop it dead (SIGKILL) once it holds both
/// `checkpoint.lock` and `index.lock`: at once when `at_creation` (so
/// possibly before it recorded which index.lock it created), else once its
/// holder record names the file. Retries until a kill lands there.
fn kill_holding_both_locks(repo: &Repo, rng: &mut Rng, at_creation: bool) {
    for attempt in 0..50 {
        change(repo, rng, 5000 + attempt, 20, 100);
        let mut child = repo
            .session_command()
            .args(["checkpoint", "-q", "-m", "to be killed"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let limit = Duration::from_secs(20);
        let seen = if at_creation {
            wait_for(&index_lock(repo), &mut child, limit)
        } else {
            wait_for_text(&holder_record(repo), "index-lock ", &mut child, limit)
        };
        let _ = child.kill();
        let _ = child.wait();
        if seen && session_lock(repo).exists() && index_lock(repo).exists() {
            return;
        }
        // It finished first, or died without its locks: tidy up and retry.
        repo.session_ok(&["checkpoint", "-q", "-m", "retry"]);
    }
    panic!("could not kill a checkpoint while it held its locks");
}

/// A dead checkpoint's `checkpoint.lock` and the `index.lock` it created
/// are recognised and cleared by the next run, also when it was killed the
/// moment it created index.lock (before recording its identity).
#[test]
fn locks_of_a_killed_checkpoint_are_cleared() {
    let sb = Sandbox::new();
    let repo = big_repo(&sb, 20, 100);
    let mut rng = Rng::new(1);
    for at_creation in [false, true, true, true] {
        kill_holding_both_locks(&repo, &mut rng, at_creation);
        let expected = git_add_all_tree(&repo);
        let out = repo.session(&["checkpoint", "-q", "-m", "after the kill"]);
        assert!(
            out.status.success(),
            "killed {}: {}",
            if at_creation {
                "at creation"
            } else {
                "after recording"
            },
            text(&out)
        );
        assert_eq!(repo.rev("HEAD^{tree}"), expected);
        assert!(lock_files(&git_dir(&repo)).is_empty());
    }
    repo.fsck();
}

/// A dead checkpoint's own lock is cleared, but an `index.lock` it did not
/// create (here: replaced by another file after the kill) is never broken:
/// the error names it and says what to do.
#[test]
fn foreign_index_lock_is_never_broken() {
    let sb = Sandbox::new();
    let repo = big_repo(&sb, 20, 100);
    let mut rng = Rng::new(2);
    kill_holding_both_locks(&repo, &mut rng, false);
    // Another process's index.lock in its place (a new file, created before
    // the old one goes, so it cannot reuse its inode).
    let foreign = git_dir(&repo).join("index.lock.foreign");
    fs::write(&foreign, "someone else's\n").expect("write");
    fs::rename(&foreign, index_lock(&repo)).expect("rename");
    let before = repo.rev("HEAD");

    let lock_text = fs::read_to_string(session_lock(&repo));
    let out = repo.session(&["checkpoint", "-m", "x"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all} {lock_text:?}");
    assert!(
        all.contains(&index_lock(&repo).display().to_string()) && all.contains("hint: "),
        "the error must name the file and say what to do: {all}"
    );
    assert_eq!(
        fs::read(index_lock(&repo)).expect("index.lock still there"),
        b"someone else's\n"
    );
    assert!(
        !session_lock(&repo).exists(),
        "our dead lock was not cleared"
    );
    assert_eq!(repo.rev("HEAD"), before);
    fs::remove_file(index_lock(&repo)).expect("the other process finishes");
    repo.session_ok(&["checkpoint", "-q", "-m", "x"]);
    repo.fsck();
}

/// A lock held by a live checkpoint (stopped with SIGSTOP while holding
/// both locks) is never broken: the error names `checkpoint.lock`; once the
/// holder continues, it finishes and all is well.
#[test]
fn live_holders_lock_is_never_broken() {
    let sb = Sandbox::new();
    let repo = big_repo(&sb, 20, 100);
    let mut rng = Rng::new(3);
    let mut held = None;
    for attempt in 0..50 {
        change(&repo, &mut rng, attempt, 20, 100);
        let mut child = repo
            .session_command()
            .args(["checkpoint", "-q", "-m", "stopped"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let seen = wait_for(&index_lock(&repo), &mut child, Duration::from_secs(20));
        send("-STOP", child.id());
        if seen && index_lock(&repo).exists() && session_lock(&repo).exists() {
            held = Some(child);
            break;
        }
        send("-CONT", child.id());
        let _ = child.wait();
    }
    let mut child = held.expect("could not stop a checkpoint while it held its locks");
    let lock_bytes = fs::read(session_lock(&repo)).expect("read lock");
    let index_bytes = fs::read(index_lock(&repo)).expect("read index.lock");
    let before = repo.rev("HEAD");

    let out = repo.session(&["checkpoint", "-m", "second"]);
    let all = text(&out);
    let untouched = fs::read(session_lock(&repo)).ok() == Some(lock_bytes)
        && fs::read(index_lock(&repo)).ok() == Some(index_bytes);
    send("-CONT", child.id());
    let status = child.wait().expect("reap");
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("checkpoint.lock") && all.contains("hint: "),
        "the error must name the lock and say what to do: {all}"
    );
    assert!(
        status.success(),
        "the stopped checkpoint must finish: {status:?}"
    );
    assert!(untouched, "the live holder's locks were touched: {all}");
    assert_eq!(
        repo.rev("HEAD^"),
        before,
        "the held checkpoint committed once"
    );
    assert!(lock_files(&git_dir(&repo)).is_empty());
    repo.fsck();
}

/// A checkpoint killed between creating its lock and writing its PID
/// leaves an empty `checkpoint.lock`; the next run clears it (after a short
/// grace period) instead of failing.
#[test]
fn empty_lock_from_a_kill_at_creation_is_cleared() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("a.txt", "changed\n");
    fs::create_dir_all(git_dir(&repo).join("session")).expect("mkdir");
    fs::write(session_lock(&repo), "").expect("empty lock");
    let started = Instant::now();
    repo.session_ok(&["checkpoint", "-q", "-m", "x"]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!session_lock(&repo).exists());
    assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "changed\n");
}

/// A lock recorded by a process that is not running (a PID reused after a
/// reboot, or simply gone) is cleared; one whose PID names a live process
/// of another start time is recognised as stale too.
#[test]
fn lock_of_a_gone_process_is_cleared() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("a.txt", "changed\n");
    // A PID that existed and is gone.
    let mut gone = Command::new("true").spawn().expect("spawn true");
    let pid = gone.id();
    gone.wait().expect("reap");
    fs::create_dir_all(git_dir(&repo).join("session")).expect("mkdir");
    fs::write(session_lock(&repo), format!("pid {pid}\n")).expect("write lock");
    repo.session_ok(&["checkpoint", "-q", "-m", "x"]);
    assert!(!session_lock(&repo).exists());

    // A live PID (this test's own), but recorded with another start time:
    // the process that wrote the lock is gone and the PID was reused.
    repo.write("a.txt", "changed again\n");
    fs::write(
        session_lock(&repo),
        format!("pid {}\nstart 1\n", std::process::id()),
    )
    .expect("write lock");
    repo.session_ok(&["checkpoint", "-q", "-m", "y"]);
    assert!(!session_lock(&repo).exists());
    assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "changed again\n");
}

// ---------------------------------------------------------------------------
// Hook rescue

/// Run the Claude Code Stop hook for `repo`.
fn stop_hook(repo: &Repo) -> Output {
    let input = serde_json::json!({
        "session_id": "s",
        "cwd": repo.path,
        "hook_event_name": "Stop",
    });
    let mut child = repo
        .session_command()
        .args(["hook", "claude"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hook");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write hook input");
    child.wait_with_output().expect("hook output")
}

/// Every regular file of the work tree (no `.git`), path → bytes.
fn work_tree_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    snapshot_work_tree(root)
        .into_iter()
        .filter_map(|(path, entry)| match entry {
            crate::differential::Entry::File { bytes, .. } => {
                Some((path.to_string_lossy().into_owned(), bytes))
            }
            _ => None,
        })
        .collect()
}

/// Run the Stop hook in a repository where the branch cannot take a
/// checkpoint, and check the rescue: `refs/session/rescue/BRANCH` holds
/// exactly the work tree's files; HEAD, the index bytes, the work tree and
/// git's own state are untouched; `git session status` mentions it.
fn assert_rescued(repo: &Repo, branch: &str) {
    let dir = git_dir(repo);
    let fingerprint = repo.fingerprint();
    let work_tree = snapshot_work_tree(&repo.path);
    let state_files: Vec<(String, Option<Vec<u8>>)> = [
        "MERGE_HEAD",
        "ORIG_HEAD",
        "rebase-merge/head-name",
        "rebase-merge/done",
    ]
    .iter()
    .map(|name| (name.to_string(), fs::read(dir.join(name)).ok()))
    .collect();

    let out = stop_hook(repo);
    let all = text(&out);
    assert!(out.status.success(), "the hook must exit 0: {all}");
    let reference = format!("refs/session/rescue/{branch}");
    assert!(all.contains(&reference), "the hook says where: {all}");

    // Nothing of the user's changed.
    let after = repo.fingerprint();
    assert_eq!(after.head, fingerprint.head, "HEAD moved");
    assert_eq!(after.index, fingerprint.index, "the index changed");
    assert_eq!(after.status, fingerprint.status);
    assert_work_tree_unchanged(&work_tree, &snapshot_work_tree(&repo.path), &all);
    let state_after: Vec<(String, Option<Vec<u8>>)> = state_files
        .iter()
        .map(|(name, _)| (name.clone(), fs::read(dir.join(name)).ok()))
        .collect();
    assert_eq!(state_after, state_files, "git's operation state changed");
    assert!(lock_files(&dir).is_empty(), "{:?}", lock_files(&dir));

    // The rescue tree is the work tree, file for file.
    let files = work_tree_files(&repo.path);
    let listed = repo.git(&["ls-tree", "-r", "--name-only", &reference]);
    let listed: Vec<&str> = listed.lines().collect();
    let expected: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(listed, expected, "paths in {reference}");
    for (path, bytes) in &files {
        let blob = repo.git_output(&["cat-file", "blob", &format!("{reference}:{path}")]);
        assert_eq!(&blob.stdout, bytes, "{path} in {reference}");
    }

    let status = repo.session_ok(&["status"]);
    assert!(
        status.contains(&reference),
        "status must mention it:\n{status}"
    );
    repo.fsck();
}

fn conflict_repo(sb: &Sandbox) -> Repo {
    let repo = sb.init("r");
    repo.write("f.txt", "base\n");
    repo.write("other.txt", "other\n");
    repo.commit_all("base");
    repo.session_ok(&["start", "the task"]);
    repo
}

#[test]
fn stop_hook_during_a_conflicted_merge_rescues_the_work_tree() {
    let sb = Sandbox::new();
    let repo = conflict_repo(&sb);
    repo.git(&["switch", "-q", "-c", "topic"]);
    repo.write("f.txt", "topic\n");
    repo.commit_all("topic");
    repo.git(&["switch", "-q", "main"]);
    repo.write("f.txt", "main\n");
    repo.commit_all("main");
    let merge = repo.git_output(&["merge", "topic"]);
    assert!(!merge.status.success(), "premise: the merge conflicts");
    repo.write("other.txt", "edited during the merge\n");
    repo.write("new.txt", "new during the merge\n");
    assert_rescued(&repo, "main");
}

#[test]
fn stop_hook_during_a_rebase_rescues_the_work_tree() {
    let sb = Sandbox::new();
    let repo = conflict_repo(&sb);
    repo.git(&["switch", "-q", "-c", "feature"]);
    repo.write("f.txt", "feature\n");
    repo.commit_all("feature");
    repo.git(&["switch", "-q", "main"]);
    repo.write("f.txt", "main moved\n");
    repo.commit_all("main moved");
    repo.git(&["switch", "-q", "feature"]);
    let rebase = repo.git_output(&["rebase", "main"]);
    assert!(!rebase.status.success(), "premise: the rebase stops");
    repo.write("other.txt", "edited during the rebase\n");
    repo.write("dir/new.txt", "new during the rebase\n");
    assert_rescued(&repo, "feature");
}

#[test]
fn stop_hook_with_conflicts_from_stash_pop_rescues_the_work_tree() {
    let sb = Sandbox::new();
    let repo = conflict_repo(&sb);
    repo.write("f.txt", "stashed\n");
    repo.git(&["stash", "-q"]);
    repo.write("f.txt", "committed\n");
    repo.commit_all("change");
    let pop = repo.git_output(&["stash", "pop"]);
    assert!(!pop.status.success(), "premise: stash pop conflicts");
    repo.write("new.txt", "new after the pop\n");
    assert_rescued(&repo, "main");
}
