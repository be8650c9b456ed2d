//! The performance benchmark: git-session against git's own commands on
//! generated repositories, side by side in one run, commands alternating.
//!
//!     cargo bench --bench perf                      # 10 000 and 100 000 files
//!     cargo bench --bench perf -- --files 50000 --runs 9
//!     cargo bench --bench perf -- --small           # a quick run that CI does
//!
//! It prints one table: medians, min–max, ratios, and peak memory (from
//! `/usr/bin/time -f %M`, when present). Git is isolated from the machine's
//! configuration, as in the tests. Nothing here is a pass/fail test: the
//! figures go into BENCHMARKS.md.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_git-session");

struct Options {
    sizes: Vec<usize>,
    runs: usize,
    small: bool,
}

fn parse_args() -> Options {
    let mut options = Options {
        sizes: Vec::new(),
        runs: 7,
        small: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--files" => {
                if let Some(n) = args.next().and_then(|v| v.parse().ok()) {
                    options.sizes.push(n);
                }
            }
            "--runs" => {
                if let Some(n) = args.next().and_then(|v| v.parse().ok()) {
                    options.runs = n;
                }
            }
            "--small" => options.small = true,
            // `cargo bench` passes --bench; ignore what we do not know.
            _ => {}
        }
    }
    if options.small {
        options.sizes = vec![1000];
        options.runs = 2;
    } else if options.sizes.is_empty() {
        options.sizes = vec![10_000, 100_000];
    }
    options
}

/// One measured command.
struct Sample {
    times: Vec<Duration>,
    peak_kb: Option<u64>,
}

impl Sample {
    fn median(&self) -> Duration {
        let mut t = self.times.clone();
        t.sort();
        t[t.len() / 2]
    }
    fn min(&self) -> Duration {
        self.times.iter().copied().min().unwrap_or_default()
    }
    fn max(&self) -> Duration {
        self.times.iter().copied().max().unwrap_or_default()
    }
}

fn env<'a>(cmd: &'a mut Command, home: &Path) -> &'a mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
}

fn sh(dir: &Path, home: &Path, script: &str) -> Duration {
    let start = Instant::now();
    let out = env(Command::new("sh").args(["-c", script]), home)
        .current_dir(dir)
        .output()
        .expect("run sh");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "`{script}` failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// Peak resident set size of `script`, in KiB, via GNU time.
fn peak(dir: &Path, home: &Path, script: &str) -> Option<u64> {
    if !Path::new("/usr/bin/time").exists() {
        return None;
    }
    let out = env(
        Command::new("/usr/bin/time").args(["-f", "%M", "sh", "-c", script]),
        home,
    )
    .current_dir(dir)
    .output()
    .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

fn git(dir: &Path, home: &Path, args: &str) {
    sh(dir, home, &format!("git {args}"));
}

/// A repository of `files` files in nested directories, committed and
/// packed, with `gc.auto=0`.
fn generate(dir: &Path, home: &Path, files: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    git(dir, home, "init -q -b main");
    git(dir, home, "config gc.auto 0");
    for i in 0..files {
        let sub = dir.join(format!(
            "d{:02}/e{:02}/f{:02}",
            i % 40,
            (i / 40) % 25,
            (i / 1000) % 10
        ));
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(
            sub.join(format!("file{i}.txt")),
            format!("line one of {i}\nline two\nline three\n").repeat(4),
        )
        .expect("write");
    }
    git(dir, home, "add -A");
    git(dir, home, "commit -q -m initial");
    git(dir, home, "gc -q");
}

fn copy(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

/// Modify 10 tracked files and add 5 new ones, the same in every copy.
fn touch_files(dir: &Path, round: usize) {
    for k in 0..10 {
        // File k of `generate` lives at dK/e00/f00 for k < 40.
        let path = dir.join(format!("d{k:02}/e00/f00/file{k}.txt"));
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&format!("round {round}\n"));
        std::fs::write(&path, text).expect("modify");
    }
    for k in 0..5 {
        std::fs::write(
            dir.join(format!("new-{round}-{k}.txt")),
            format!("new {round} {k}\n"),
        )
        .expect("add");
    }
}

/// Commits on a branch whose messages carry checkpoint trailers, made with
/// fast-import: `count` checkpoints on top of HEAD.
fn checkpoint_history(dir: &Path, home: &Path, branch: &str, count: usize) {
    let head = String::from_utf8(
        env(Command::new("git").args(["rev-parse", "HEAD"]), home)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .output()
            .expect("rev-parse")
            .stdout,
    )
    .expect("utf8");
    let mut stream = String::new();
    for i in 1..=count {
        let message = format!(
            "checkpoint: step {i}\n\nSession-Schema: 1\nSession-Reason: stop\nSession-Sequence: {i}\nSession-Branch: {branch}\nSession-Base: {}\nSession-Task: benchmark task\nSession-Done: step {i}\nSession-Todo: step {}\n",
            head.trim(),
            i + 1
        );
        stream.push_str(&format!("commit refs/heads/{branch}\ncommitter bench <bench@example.com> {} +0000\ndata {}\n{message}", 1_700_000_000 + i, message.len()));
        if i == 1 {
            stream.push_str(&format!("from {}\n", head.trim()));
        }
        stream.push_str(&format!(
            "M 644 inline progress-{branch}.txt\ndata {}\nstep {i}\n\n",
            format!("step {i}\n").len()
        ));
    }
    let mut child = env(Command::new("git").args(["fast-import", "--quiet"]), home)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("fast-import");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("feed fast-import");
    assert!(child.wait().expect("wait").success());
}

/// `count` branches `s/NNN`, each one checkpoint (trailers only) on HEAD,
/// and `count` branches `p/NNN` without one, made with fast-import.
fn many_session_branches(dir: &Path, home: &Path, count: usize) {
    let head = String::from_utf8(
        env(Command::new("git").args(["rev-parse", "HEAD"]), home)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .output()
            .expect("rev-parse")
            .stdout,
    )
    .expect("utf8");
    let head = head.trim();
    let mut stream = String::new();
    for i in 0..count {
        let message = format!(
            "checkpoint: work {i}\n\nSession-Schema: 1\nSession-Reason: {}\nSession-Branch: s/{i:03}\nSession-Task: task {i}\nSession-Todo: item {i}\n",
            if i % 2 == 0 { "pause" } else { "stop" }
        );
        stream.push_str(&format!(
            "commit refs/heads/s/{i:03}\ncommitter bench <bench@example.com> {} +0000\ndata {}\n{message}from {head}\n\n",
            1_700_000_000 + i,
            message.len()
        ));
        stream.push_str(&format!("reset refs/heads/p/{i:03}\nfrom {head}\n\n"));
    }
    let mut child = env(Command::new("git").args(["fast-import", "--quiet"]), home)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("fast-import");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("feed fast-import");
    assert!(child.wait().expect("wait").success());
}

/// A TCP server on 127.0.0.1 that accepts and never answers, as a remote
/// that is down behind a live address; returns its port.
fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// A Claude Code transcript of about `bytes` bytes with a TodoWrite near
/// the end.
fn transcript(path: &Path, bytes: usize) {
    let filler = "x".repeat(2000);
    let mut text = String::from(
        "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"Benchmark the hook\"}}\n",
    );
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&format!("{{\"type\":\"assistant\",\"message\":{{\"model\":\"claude-bench\",\"content\":[{{\"type\":\"text\",\"text\":\"{i} {filler}\"}}]}}}}\n"));
        i += 1;
    }
    text.push_str("{\"type\":\"assistant\",\"message\":{\"model\":\"claude-bench\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"TodoWrite\",\"input\":{\"todos\":[{\"content\":\"a\",\"status\":\"completed\",\"activeForm\":\"a\"},{\"content\":\"b\",\"status\":\"in_progress\",\"activeForm\":\"b\"}]}}]}}\n");
    std::fs::write(path, text).expect("write transcript");
}

/// Run `ours` and `theirs` (a directory and a shell command each) `runs`
/// times, alternating which goes first, after `prepare(round)`; then once
/// more each, after `prepare(runs)`, for peak memory.
fn alternate(
    runs: usize,
    home: &Path,
    ours: (&Path, &str),
    theirs: (&Path, &str),
    mut prepare: impl FnMut(usize),
) -> (Sample, Sample) {
    let mut samples = [
        Sample {
            times: Vec::new(),
            peak_kb: None,
        },
        Sample {
            times: Vec::new(),
            peak_kb: None,
        },
    ];
    let commands = [ours, theirs];
    for round in 0..runs {
        prepare(round);
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let (dir, script) = commands[i];
            samples[i].times.push(sh(dir, home, script));
        }
    }
    prepare(runs);
    for (sample, (dir, script)) in samples.iter_mut().zip(commands) {
        sample.peak_kb = peak(dir, home, script);
    }
    let [ours, theirs] = samples;
    (ours, theirs)
}

struct Row {
    what: String,
    ours: Sample,
    theirs: Option<(String, Sample)>,
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn kb(k: Option<u64>) -> String {
    k.map_or("-".into(), |k| format!("{:.1} MB", k as f64 / 1024.0))
}

fn main() {
    let options = parse_args();
    let root = tempfile::Builder::new()
        .prefix("git-session-bench")
        .tempdir()
        .expect("temp dir");
    let home = root.path().join("home");
    std::fs::create_dir_all(home.join(".config")).expect("home");
    let mut rows: Vec<Row> = Vec::new();

    for &files in &options.sizes {
        eprintln!("generating a repository of {files} files …");
        let base = root.path().join(format!("base-{files}"));
        generate(&base, &home, files);
        let ours_dir = root.path().join(format!("ours-{files}"));
        let git_dir = root.path().join(format!("git-{files}"));
        copy(&base, &ours_dir);
        copy(&base, &git_dir);
        let bin = BIN;

        // 1. checkpoint after 10 modified + 5 new files.
        let git_seq = "git add -A && git commit -q -m x && git notes --ref=session add -m x HEAD";
        let (ours, theirs) = alternate(
            options.runs,
            &home,
            (&ours_dir, &format!("{bin} checkpoint -q -m x")),
            (&git_dir, git_seq),
            |round| {
                touch_files(&ours_dir, round);
                touch_files(&git_dir, round);
            },
        );
        rows.push(Row {
            what: format!("checkpoint, 10 modified + 5 new, {files} files"),
            ours,
            theirs: Some(("git add -A && git commit && git notes add".into(), theirs)),
        });

        // 2. idle checkpoint vs git status --porcelain.
        let (ours, theirs) = alternate(
            options.runs,
            &home,
            (&ours_dir, &format!("{bin} checkpoint -q")),
            (&ours_dir, "git status --porcelain"),
            |_| {},
        );
        rows.push(Row {
            what: format!("idle checkpoint (nothing changed), {files} files"),
            ours,
            theirs: Some(("git status --porcelain".into(), theirs)),
        });

        // 2b. both again without the untracked cache (gix's own walk of
        // every directory), to show what the cache buys.
        let off =
            "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=session.untrackedCache GIT_CONFIG_VALUE_0=false";
        let (ours, theirs) = alternate(
            options.runs,
            &home,
            (&ours_dir, &format!("{off} {bin} checkpoint -q -m x")),
            (&git_dir, git_seq),
            |round| {
                touch_files(&ours_dir, 1000 + round);
                touch_files(&git_dir, 1000 + round);
            },
        );
        rows.push(Row {
            what: format!("checkpoint, 10 modified + 5 new, {files} files, cache off"),
            ours,
            theirs: Some(("git add -A && git commit && git notes add".into(), theirs)),
        });
        let (ours, theirs) = alternate(
            options.runs,
            &home,
            (&ours_dir, &format!("{off} {bin} checkpoint -q")),
            (&ours_dir, "git status --porcelain"),
            |_| {},
        );
        rows.push(Row {
            what: format!("idle checkpoint (nothing changed), {files} files, cache off"),
            ours,
            theirs: Some(("git status --porcelain".into(), theirs)),
        });

        // 3. resume at 20 and 2000 checkpoints: a few ms each, so three
        // times the runs, for a stable ratio.
        let history_sizes: &[usize] = if options.small {
            &[20, 200]
        } else {
            &[20, 2000]
        };
        let resume_dir = root.path().join(format!("resume-{files}"));
        copy(&base, &resume_dir);
        for &n in history_sizes {
            checkpoint_history(&resume_dir, &home, &format!("h{n}"), n);
        }
        for &n in history_sizes {
            let (ours, theirs) = alternate(
                options.runs * 3,
                &home,
                (&resume_dir, &format!("{bin} resume h{n}")),
                (&resume_dir, &format!("git log -1 --notes=session h{n}")),
                |_| {},
            );
            rows.push(Row {
                what: format!("resume, branch with {n} checkpoints, {files} files"),
                ours,
                theirs: Some(("git log -1 --notes=session".into(), theirs)),
            });
        }

        // 4. the Claude Code Stop hook path with a transcript, on a feature
        // branch: hooks leave the default branch alone (session.hookBranches).
        git(&ours_dir, &home, "checkout -q -b feat/bench");
        let transcript_bytes = if options.small { 1 << 20 } else { 20 << 20 };
        let transcript_path = root.path().join(format!("transcript-{files}.jsonl"));
        transcript(&transcript_path, transcript_bytes);
        let mut ours = Sample {
            times: Vec::new(),
            peak_kb: None,
        };
        for round in 0..options.runs {
            touch_files(&ours_dir, 2000 + round);
            let session = format!("bench-{files}-{round}");
            let input = format!(
                "{{\"session_id\":\"{session}\",\"transcript_path\":\"{}\",\"cwd\":\"{}\",\"hook_event_name\":\"Stop\"}}",
                transcript_path.display(),
                ours_dir.display()
            );
            let input_file = root.path().join("hook-input.json");
            std::fs::write(&input_file, input).expect("write input");
            // A new session id each round: the transcript is read cold.
            ours.times.push(sh(
                &ours_dir,
                &home,
                &format!("{bin} hook claude --strict < {}", input_file.display()),
            ));
        }
        touch_files(&ours_dir, 3000);
        let input_file = root.path().join("hook-input.json");
        ours.peak_kb = peak(
            &ours_dir,
            &home,
            &format!("{bin} hook claude --strict < {}", input_file.display()),
        );
        rows.push(Row {
            what: format!(
                "Stop hook, {} MB transcript read cold, {files} files",
                transcript_bytes >> 20
            ),
            ours,
            theirs: None,
        });
    }

    // 5. list and the UserPromptSubmit hook, on the smallest repository:
    // what they cost depends on branches and the network, not on files.
    let files = options.sizes[0];
    let sessions_dir = root.path().join("sessions");
    copy(&root.path().join(format!("base-{files}")), &sessions_dir);
    let branches = 200;
    many_session_branches(&sessions_dir, &home, branches);
    let (ours, theirs) = alternate(
        options.runs.max(5),
        &home,
        (&sessions_dir, &format!("{BIN} list --json > /dev/null")),
        (
            &sessions_dir,
            "git for-each-ref --format='%(refname) %(contents:trailers)' refs/heads > /dev/null",
        ),
        |_| {},
    );
    rows.push(Row {
        what: format!("list, {branches} session branches + {branches} without"),
        ours,
        theirs: Some(("git for-each-ref with trailers".into(), theirs)),
    });
    for (what, prompt, remote) in [
        ("naming no branch", "Fix the typo in src/main.rs", None),
        (
            "naming a session branch, remote reachable",
            "Continue work on branch s/007",
            Some(
                root.path()
                    .join("sessions-remote.git")
                    .display()
                    .to_string(),
            ),
        ),
        (
            "naming a session branch, remote not answering",
            "Continue work on branch s/007",
            Some(format!("git://127.0.0.1:{}/x.git", silent_server())),
        ),
    ] {
        if let Some(url) = &remote {
            if !url.starts_with("git://") && !Path::new(url).exists() {
                git(&sessions_dir, &home, &format!("clone -q --bare . {url}"));
            }
            // Set, not re-added: the remote-tracking branches fetched from
            // the reachable remote stay, so the prompt names one.
            git(
                &sessions_dir,
                &home,
                &format!("remote add origin {url} 2>/dev/null || git remote set-url origin {url}"),
            );
            if !url.starts_with("git://") {
                git(&sessions_dir, &home, "fetch -q origin");
            }
        }
        let input_file = root.path().join("prompt-input.json");
        std::fs::write(
            &input_file,
            format!(
                "{{\"session_id\":\"p\",\"cwd\":\"{}\",\"hook_event_name\":\"UserPromptSubmit\",\"prompt\":\"{prompt}\"}}",
                sessions_dir.display()
            ),
        )
        .expect("write input");
        let mut ours = Sample {
            times: Vec::new(),
            peak_kb: None,
        };
        for _ in 0..options.runs.max(5) {
            ours.times.push(sh(
                &sessions_dir,
                &home,
                &format!("{BIN} hook claude < {} > /dev/null", input_file.display()),
            ));
        }
        rows.push(Row {
            what: format!("UserPromptSubmit hook, {what}"),
            ours,
            theirs: None,
        });
    }

    println!();
    println!("| work | git-session median (min–max) | git median (min–max) | ratio | peak memory (ours / git) |");
    println!("|---|---|---|---|---|");
    for row in &rows {
        match &row.theirs {
            Some((name, theirs)) => println!(
                "| {} | {} ms ({}–{}) | `{}`: {} ms ({}–{}) | {:.2} | {} / {} |",
                row.what,
                ms(row.ours.median()),
                ms(row.ours.min()),
                ms(row.ours.max()),
                name,
                ms(theirs.median()),
                ms(theirs.min()),
                ms(theirs.max()),
                row.ours.median().as_secs_f64() / theirs.median().as_secs_f64(),
                kb(row.ours.peak_kb),
                kb(theirs.peak_kb),
            ),
            None => println!(
                "| {} | {} ms ({}–{}) | | | {} |",
                row.what,
                ms(row.ours.median()),
                ms(row.ours.min()),
                ms(row.ours.max()),
                kb(row.ours.peak_kb),
            ),
        }
    }
    let resume_rows: Vec<&Row> = rows
        .iter()
        .filter(|r| r.what.starts_with("resume"))
        .collect();
    for pair in resume_rows.chunks(2) {
        if let [few, many] = pair {
            println!(
                "\nresume cost ratio, {} vs {}: {:.2}",
                many.what,
                few.what,
                many.ours.median().as_secs_f64() / few.ours.median().as_secs_f64()
            );
        }
    }
}
