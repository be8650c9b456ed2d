//! Templates: every built-in rendered against every fixture state and
//! snapshotted, the fixtures kept in step with the real
//! `resume --format json`, overrides by name (repository over user over
//! built-in), `templates` and `--show`, `--template PATH`, errors that name
//! the template and the line, a broken override that falls back to the
//! built-in, and state text that stays data.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use git_session::render::{builtin, render_source};
use serde_json::Value;

use crate::support::{text, Repo, Sandbox};

/// The built-ins rendered from the resume context.
const RESUME_TEMPLATES: &[&str] = &["resume", "handoff", "agent-context"];

/// The fixture states issue 3 asks for; more may be added.
const CONTEXT_FIXTURES: &[&str] = &[
    "empty",
    "typical",
    "long_lists",
    "unicode_multiline",
    "trailers_only",
    "commits_after",
    "uncommitted",
    "continued",
];

const COMMIT_FIXTURES: &[&str] = &["empty", "typical", "long_lists", "unicode_multiline"];

const SQUASH_FIXTURES: &[&str] = &["empty", "typical", "long_lists", "unicode_multiline"];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.json` in `fixtures/<dir>`, by name, parsed.
fn fixtures(dir: &str) -> Vec<(String, Value)> {
    let dir = manifest_dir().join("fixtures").join(dir);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("read fixtures dir").path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path
                .file_stem()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            out.push((name, value));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn assert_has_fixtures(dir: &str, found: &[(String, Value)], expected: &[&str]) {
    let names: BTreeSet<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    for name in expected {
        assert!(
            names.contains(name),
            "fixtures/{dir}/{name}.json is missing"
        );
    }
}

/// Render built-in `template` with each fixture of `dir` and snapshot it.
fn snapshot_builtin(template: &str, dir: &str, expected: &[&str]) {
    let fixtures = fixtures(dir);
    assert_has_fixtures(dir, &fixtures, expected);
    let source = builtin(template).expect("built-in template");
    for (name, context) in fixtures {
        let rendered = render_source(&source, &context)
            .unwrap_or_else(|e| panic!("{template} with fixtures/{dir}/{name}.json: {e:#}"));
        assert_clean_text(&rendered, &format!("{template} with {name}"));
        insta::with_settings!({
            description => format!("templates/{template}.j2 rendered with fixtures/{dir}/{name}.json"),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("{template}__{name}"), rendered);
        });
    }
}

/// What any rendered text must be: ends with one newline, no trailing blanks,
/// no runs of blank lines, no leading blank line.
fn assert_clean_text(text: &str, what: &str) {
    assert!(text.ends_with('\n'), "{what}: no final newline:\n{text}");
    assert!(
        !text.ends_with("\n\n"),
        "{what}: blank line at the end:\n{text}"
    );
    assert!(!text.starts_with('\n'), "{what}: blank first line:\n{text}");
    assert!(
        !text.contains("\n\n\n"),
        "{what}: two blank lines in a row:\n{text}"
    );
    for (i, line) in text.lines().enumerate() {
        assert!(
            line.trim_end() == line,
            "{what}: trailing blanks on line {}: {line:?}",
            i + 1
        );
    }
}

#[test]
fn templates_snapshot_resume() {
    snapshot_builtin("resume", "contexts", CONTEXT_FIXTURES);
}

#[test]
fn templates_snapshot_handoff() {
    snapshot_builtin("handoff", "contexts", CONTEXT_FIXTURES);
}

#[test]
fn templates_snapshot_agent_context() {
    snapshot_builtin("agent-context", "contexts", CONTEXT_FIXTURES);
}

#[test]
fn templates_snapshot_pr() {
    snapshot_builtin("pr", "contexts", CONTEXT_FIXTURES);
}

#[test]
fn templates_snapshot_squash() {
    snapshot_builtin("squash", "squash", SQUASH_FIXTURES);
}

#[test]
fn templates_snapshot_commit() {
    let fixtures = fixtures("commit");
    assert_has_fixtures("commit", &fixtures, COMMIT_FIXTURES);
    let source = builtin("commit").expect("built-in template");
    for (name, context) in fixtures {
        let rendered = render_source(&source, &context)
            .unwrap_or_else(|e| panic!("commit with fixtures/commit/{name}.json: {e:#}"));
        // The checkpoint trims the body, so only inner blank runs matter.
        assert!(
            !rendered.trim().contains("\n\n\n"),
            "commit with {name}: two blank lines in a row:\n{rendered}"
        );
        insta::with_settings!({
            description => format!("templates/commit.j2 rendered with fixtures/commit/{name}.json"),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("commit__{name}"), rendered);
        });
    }
}

// ---------------------------------------------------------------------------
// Fixture drift

/// The keys of a JSON object.
fn keys(value: &Value, what: &str) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

/// `null`, `bool`, `number`, `string`, `array` or `object`.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Same keys, and where both values are set, the same JSON kinds.
fn assert_same_shape(fixture: &Value, real: &Value, what: &str) {
    assert_eq!(
        keys(fixture, what),
        keys(real, "the real output"),
        "{what}: keys differ from a real `resume --format json`"
    );
    for key in keys(real, what) {
        let (f, r) = (&fixture[&key], &real[&key]);
        if !f.is_null() && !r.is_null() {
            assert_eq!(kind(f), kind(r), "{what}.{key}: {f} vs real {r}");
        }
    }
}

/// A repository whose `resume --format json` has every list non-empty:
/// pushed to a remote, a skipped secret, commits after the checkpoint and
/// uncommitted work.
fn rich_repo(sb: &Sandbox) -> Repo {
    sb.git(&["init", "-q", "--bare", "-b", "main", "remote.git"]);
    let repo = sb.init("repo");
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.git(&["remote", "add", "origin", "../remote.git"]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.session_ok(&["start", "-b", "feat/x", "--todo", "one", "The task"]);
    repo.write("src/a.rs", "fn a() {}\n");
    repo.write(".env", "SECRET=1\n");
    repo.session_ok(&[
        "checkpoint",
        "--done",
        "one",
        "--doing",
        "two",
        "--decision",
        "d",
        "--note",
        "n",
        "--blocker",
        "b",
    ]);
    repo.write("src/b.rs", "fn b() {}\n");
    repo.git(&["add", "src/b.rs"]);
    repo.git(&["commit", "-q", "-m", "later"]);
    repo.git(&["push", "-q", "-u", "origin", "feat/x"]);
    repo.write("src/a.rs", "fn a() { 1 }\n");
    repo
}

#[test]
fn templates_fixtures_match_real_resume_json() {
    let sb = Sandbox::new();
    let repo = rich_repo(&sb);
    let real: Value = serde_json::from_str(&repo.session_ok(&["resume", "--format", "json"]))
        .expect("resume --format json is JSON");
    for list in ["files", "commits_after", "uncommitted", "skipped"] {
        assert!(
            real[list].as_array().is_some_and(|a| !a.is_empty()),
            "the real context should have {list}: {real:#}"
        );
    }

    let fixtures = fixtures("contexts");
    assert_has_fixtures("contexts", &fixtures, CONTEXT_FIXTURES);
    // Every nested shape is checked by at least one fixture.
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (name, fixture) in &fixtures {
        assert_same_shape(fixture, &real, name);
        for nested in ["checkpoint", "how_to_continue", "omitted"] {
            assert_same_shape(&fixture[nested], &real[nested], &format!("{name}.{nested}"));
        }
        for list in ["files", "commits_after", "uncommitted", "skipped"] {
            if let Some(first) = fixture[list].as_array().and_then(|a| a.first()) {
                assert_same_shape(first, &real[list][0], &format!("{name}.{list}[0]"));
                seen.insert(list);
            }
        }
    }
    assert_eq!(
        seen,
        BTreeSet::from(["files", "commits_after", "uncommitted", "skipped"]),
        "some list is empty in every fixture, so its entries are never checked"
    );
}

#[test]
fn templates_commit_fixtures_match_real_state() {
    let sb = Sandbox::new();
    let repo = rich_repo(&sb);
    // The state as the note holds it: what the commit template's `state` is.
    let note = repo.git(&["notes", "--ref=session", "show", "HEAD~1"]);
    let real: toml::Table = toml::from_str(&note).expect("the note is TOML");
    let real_keys: BTreeSet<String> = real.keys().cloned().collect();
    // Serialized only when set.
    let optional = BTreeSet::from(
        [
            "base",
            "agent",
            "agent_session",
            "model",
            "previous",
            "merged",
            "numbers",
        ]
        .map(String::from),
    );

    let fixtures = fixtures("commit");
    assert_has_fixtures("commit", &fixtures, COMMIT_FIXTURES);
    for (name, fixture) in &fixtures {
        assert_eq!(
            keys(fixture, name),
            BTreeSet::from(["task", "files", "open", "state"].map(String::from)),
            "commit/{name}: CommitContext has task, files, open, state"
        );
        if let Some(first) = fixture["files"].as_array().and_then(|a| a.first()) {
            assert_eq!(
                keys(first, name),
                BTreeSet::from(["status", "path"].map(String::from)),
                "commit/{name}.files[0]"
            );
        }
        let state = keys(&fixture["state"], name);
        assert_eq!(
            state.difference(&optional).collect::<BTreeSet<_>>(),
            real_keys.difference(&optional).collect::<BTreeSet<_>>(),
            "commit/{name}.state: keys differ from a real note"
        );
        let open: Vec<&Value> = fixture["state"]["doing"]
            .as_array()
            .into_iter()
            .chain(fixture["state"]["todo"].as_array())
            .flatten()
            .collect();
        assert_eq!(
            fixture["open"]
                .as_array()
                .map(|a| a.iter().collect::<Vec<_>>()),
            Some(open),
            "commit/{name}: open is doing then todo"
        );
        assert_eq!(fixture["task"], fixture["state"]["task"], "commit/{name}");
    }
}

/// The variables the real `squash` template sees: a trusted repository
/// template that prints minijinja's `debug()` (the context among it) as
/// the squashed commit's message.
#[test]
fn templates_squash_fixtures_match_real_context() {
    let sb = Sandbox::new();
    let repo = rich_repo(&sb);
    repo.git(&["config", "session.trustRepoTemplates", "true"]);
    repo.write(
        ".git-session/templates/squash.j2",
        "Squashed\n\n{{ debug() }}\n",
    );
    repo.session_ok(&["finish", "--squash"]);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    // `ctx: {` then one `"name": value` line per variable, 8 spaces in.
    let ctx = message
        .split_once("ctx: {\n")
        .unwrap_or_else(|| panic!("no context in the debug output:\n{message}"))
        .1;
    let real: BTreeSet<String> = ctx
        .lines()
        .take_while(|line| !line.starts_with("    }"))
        .filter_map(|line| line.strip_prefix("        \""))
        .filter_map(|line| line.split_once("\": ").map(|(key, _)| key.to_string()))
        .collect();
    assert!(
        real.contains("title") && real.contains("archive"),
        "{message}"
    );

    let fixtures = fixtures("squash");
    assert_has_fixtures("squash", &fixtures, SQUASH_FIXTURES);
    for (name, fixture) in &fixtures {
        assert_eq!(
            keys(fixture, name),
            real,
            "squash/{name}: keys differ from the real squash context"
        );
    }
}

// ---------------------------------------------------------------------------
// Lookup, listing, errors

/// A repository on `main` with one checkpoint whose task is `task`.
fn repo_with_checkpoint(sb: &Sandbox, task: &str) -> Repo {
    let repo = sb.init("repo");
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    repo.session_ok(&["start", "--todo", "first item", task]);
    repo
}

fn user_templates(sb: &Sandbox) -> PathBuf {
    sb.home().join(".config/git-session/templates")
}

fn write_file(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create dirs");
    std::fs::write(path, text).expect("write file");
}

/// `git session templates` as (name, origin) pairs.
fn listing(repo: &Repo) -> Vec<(String, String)> {
    repo.session_ok(&["templates"])
        .lines()
        .map(|line| {
            let (name, origin) = line.split_once("  ").expect("NAME  ORIGIN");
            (name.trim().to_string(), origin.trim().to_string())
        })
        .collect()
}

fn origin_of(list: &[(String, String)], name: &str) -> String {
    list.iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} not listed in {list:?}"))
        .1
        .clone()
}

#[test]
fn templates_override_by_name_repository_over_user_over_builtin() {
    let sb = Sandbox::new();
    let repo = repo_with_checkpoint(&sb, "The task");
    let repo_file = repo.path.join(".git-session/templates/resume.j2");
    let user_file = user_templates(&sb).join("resume.j2");

    let builtin = repo.session_ok(&["resume"]);
    assert!(
        builtin.starts_with("Continue work on branch `main`."),
        "{builtin}"
    );
    let list = listing(&repo);
    for name in RESUME_TEMPLATES.iter().chain(&["commit"]) {
        assert_eq!(origin_of(&list, name), "built-in", "{list:?}");
    }

    write_file(&user_file, "user template: {{ task }}\n");
    write_file(&user_templates(&sb).join("mine.j2"), "mine\n");
    assert_eq!(repo.session_ok(&["resume"]), "user template: The task\n");
    let list = listing(&repo);
    assert_eq!(
        origin_of(&list, "resume"),
        format!("user ({})", user_file.display())
    );
    assert_eq!(
        origin_of(&list, "mine"),
        format!("user ({})", user_templates(&sb).join("mine.j2").display())
    );
    assert_eq!(origin_of(&list, "handoff"), "built-in");
    assert_eq!(repo.session_ok(&["resume", "--template", "mine"]), "mine\n");

    write_file(&repo_file, "repository template on {{ branch }}\n");
    assert_eq!(
        repo.session_ok(&["resume"]),
        "repository template on main\n"
    );
    let list = listing(&repo);
    assert_eq!(
        origin_of(&list, "resume"),
        format!("repository ({})", repo_file.display())
    );
    assert_eq!(origin_of(&list, "handoff"), "built-in");
    assert_eq!(
        repo.session_ok(&["templates", "--show", "resume"]),
        "repository template on {{ branch }}\n",
        "--show prints the template as it resolves"
    );
    // From a subdirectory the work tree's templates still win.
    std::fs::create_dir_all(repo.path.join("sub")).expect("mkdir");
    let sub = Repo {
        path: repo.path.join("sub"),
        home: repo.home.clone(),
    };
    assert_eq!(sub.session_ok(&["resume"]), "repository template on main\n");

    std::fs::remove_file(&repo_file).expect("remove");
    assert_eq!(repo.session_ok(&["resume"]), "user template: The task\n");
    std::fs::remove_file(&user_file).expect("remove");
    assert_eq!(repo.session_ok(&["resume"]), builtin);
}

#[test]
fn templates_show_prints_the_builtin_sources() {
    let sb = Sandbox::new();
    let repo = repo_with_checkpoint(&sb, "The task");
    for name in RESUME_TEMPLATES.iter().chain(&["commit"]) {
        let file = manifest_dir().join(format!("templates/{name}.j2"));
        let expected = std::fs::read_to_string(&file).expect("read built-in template");
        assert_eq!(
            repo.session_ok(&["templates", "--show", name]),
            expected,
            "--show {name} vs {}",
            file.display()
        );
    }
    // Outside any repository too.
    let outside = sb.repo("");
    assert_eq!(
        outside.session_ok(&["templates", "--show", "resume"]),
        std::fs::read_to_string(manifest_dir().join("templates/resume.j2")).expect("read")
    );
    let out = repo.session(&["templates", "--show", "no-such-template"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("no template named 'no-such-template'"),
        "{}",
        text(&out)
    );
}

#[test]
fn templates_builtins_render_by_name_through_the_cli() {
    let sb = Sandbox::new();
    let repo = repo_with_checkpoint(&sb, "The task");
    let handoff = repo.session_ok(&["resume", "--template", "handoff"]);
    assert!(handoff.starts_with("# Handoff: `main`\n"), "{handoff}");
    assert!(handoff.contains("- ☐ first item"), "{handoff}");
    let agent = repo.session_ok(&["resume", "-t", "agent-context"]);
    assert!(
        agent.starts_with("You are continuing a session on branch `main`"),
        "{agent}"
    );
    assert!(agent.contains("- #1 first item"), "{agent}");
}

#[test]
fn templates_template_path_takes_a_file() {
    let sb = Sandbox::new();
    let repo = repo_with_checkpoint(&sb, "The task");
    let file = sb.path("custom/prompt.j2");
    write_file(
        &file,
        "{{ branch }}: {{ task }}; open: {{ (doing + todo) | join(', ') }}\n",
    );
    let path = file.to_str().expect("UTF-8 path");
    assert_eq!(
        repo.session_ok(&["resume", "--template", path]),
        "main: The task; open: first item\n"
    );
    // A file named like a built-in is still the file.
    let named = sb.path("elsewhere/resume.j2");
    write_file(&named, "from a file\n");
    assert_eq!(
        repo.session_ok(&["resume", "--template", named.to_str().expect("UTF-8")]),
        "from a file\n"
    );
    let missing = sb.path("nope/missing.j2");
    let out = repo.session(&["resume", "--template", missing.to_str().expect("UTF-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "could not read template file '{}'",
            missing.display()
        )),
        "{}",
        text(&out)
    );
}

/// Issue 21, item 18: a template error named no variable ("undefined
/// value", and a line): a typo had to be hunted for.
#[test]
fn template_error_names_no_variable() {
    let sb = Sandbox::new();
    let repo = repo_with_checkpoint(&sb, "The task");
    let file = sb.path("custom/typo.j2");
    write_file(&file, "{{ branch }}\n{{ tsak }}\n");
    let out = repo.session(&["resume", "--template", file.to_str().expect("UTF-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("line 2: undefined value 'tsak'"),
        "{}",
        text(&out)
    );
}

/// Run resume with a broken template; it must fail with status 1 (not a
/// panic's 101), print nothing on stdout, and name the template and line.
fn assert_template_error(repo: &Repo, args: &[&str], needles: &[&str]) {
    let mut all = vec!["resume"];
    all.extend_from_slice(args);
    let out = repo.session(&all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{all:?}:\n{}", text(&out));
    assert!(out.stdout.is_empty(), "{all:?} printed:\n{}", text(&out));
    assert!(!stderr.contains("panicked"), "{all:?} panicked:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{all:?}:\n{stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{all:?}: no {needle:?} in:\n{stderr}"
        );
    }
}

/// Run resume with a broken override: the built-in (its output starting
/// with `expected`) stands in, and one warning names the template and line.
fn assert_template_warning(repo: &Repo, args: &[&str], expected: &str, needles: &[&str]) {
    let mut all = vec!["resume"];
    all.extend_from_slice(args);
    let out = repo.session(&all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{all:?}:\n{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with(expected), "{all:?}:\n{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{all:?}: one warning:\n{stderr}");
    assert!(stderr.starts_with("warning: "), "{all:?}:\n{stderr}");
    assert!(
        stderr.contains("using the built-in one instead"),
        "{all:?}:\n{stderr}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{all:?}: no {needle:?} in:\n{stderr}"
        );
    }
}

#[test]
fn templates_errors_name_the_template_and_line() {
    let sb = Sandbox::new();
    let repo = repo_with_checkpoint(&sb, "The task");
    let builtin_resume = "Continue work on branch `main`.\n";
    let builtin_handoff = "# Handoff: `main`\n";
    let repo_file = repo.path.join(".git-session/templates/resume.j2");

    write_file(
        &repo_file,
        "Branch {{ branch }}\n\n{{ no_such_variable }}\n",
    );
    assert_template_warning(
        &repo,
        &[],
        builtin_resume,
        &[
            "template 'resume'",
            &repo_file.display().to_string(),
            "line 3",
            "undefined",
        ],
    );

    write_file(&repo_file, "ok\n{{ checkpoint.no_such_field }}\n");
    assert_template_warning(
        &repo,
        &[],
        builtin_resume,
        &["template 'resume'", "line 2", "undefined"],
    );

    write_file(
        &repo_file,
        "ok\n{% for x in done %}\n{% if %}\n{% endfor %}\n",
    );
    assert_template_warning(
        &repo,
        &[],
        builtin_resume,
        &["template 'resume'", "line 3", "syntax error"],
    );

    write_file(&repo_file, "ok\n{% if task %}\nnever closed\n");
    assert_template_warning(
        &repo,
        &[],
        builtin_resume,
        &["template 'resume'", "syntax error"],
    );

    // A file named on the command line has nothing to stand in for it.
    let file = sb.path("broken.j2");
    write_file(&file, "one\ntwo\n{{ task }} {{ nope }}\n");
    let path = file.to_str().expect("UTF-8 path");
    assert_template_error(
        &repo,
        &["--template", path],
        &["template 'broken'", path, "line 3", "undefined"],
    );
    // With --max-chars the error is the same.
    assert_template_error(
        &repo,
        &["--template", path, "--max-chars", "100"],
        &["template 'broken'", "line 3"],
    );
    // A user template is named as such.
    std::fs::remove_file(&repo_file).expect("remove");
    let user_file = user_templates(&sb).join("handoff.j2");
    write_file(&user_file, "{{ 1 +\n");
    assert_template_warning(
        &repo,
        &["--template", "handoff"],
        builtin_handoff,
        &[
            "template 'handoff'",
            &format!("user ({})", user_file.display()),
            "line 1",
        ],
    );
    // A broken override of a name with no built-in is an error.
    let mine = user_templates(&sb).join("mine.j2");
    write_file(&mine, "{{ nope }}\n");
    assert_template_error(
        &repo,
        &["--template", "mine"],
        &["template 'mine'", "undefined"],
    );
}

#[test]
fn templates_state_text_is_data_not_template_code() {
    let sb = Sandbox::new();
    let task = "{{ 7*7 }} {% if %} {# comment #}";
    let repo = repo_with_checkpoint(&sb, task);
    repo.write("b.txt", "b\n");
    repo.session_ok(&[
        "checkpoint",
        "--todo",
        "{% for x in y %}",
        "--note",
        "{{ branch }}",
        "--decision",
        "{% raw %}x",
    ]);
    for template in RESUME_TEMPLATES {
        let out = repo.session_ok(&["resume", "--template", template]);
        for literal in [task, "{% for x in y %}", "{{ branch }}", "{% raw %}x"] {
            if *template == "agent-context" && literal == "{{ branch }}" {
                continue; // agent-context leaves notes out
            }
            assert!(
                out.contains(literal),
                "{template}: {literal:?} not rendered literally:\n{out}"
            );
        }
    }
    // The commit message body, rendered by the commit template, too.
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(message.contains(&format!("Task: {task}\n")), "{message}");
    assert!(message.contains("{% for x in y %}"), "{message}");
}

#[test]
fn a_broken_commit_template_override_falls_back_to_the_built_in() {
    let sb = Sandbox::new();
    let repo = sb.init("r");
    // Trusted, so the repository's template is run (and fails).
    repo.git(&["config", "session.trustRepoTemplates", "true"]);
    repo.write("a", "a\n");
    repo.write(
        ".git-session/templates/commit.j2",
        "{{ no_such_variable }}\n",
    );
    let out = repo.session(&["checkpoint", "--todo", "x", "-m", "still works"]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning:") && stderr.contains("'commit'") && stderr.contains("built-in"),
        "{stderr}"
    );
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("checkpoint: still works\n"),
        "{message}"
    );
    assert!(message.contains("Session-Todo: x"), "{message}");
}
