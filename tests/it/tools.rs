//! Project-pinned tools (docs/tools.md) with real tools built from the Go module proxy:
//! stringer at two versions pinned two ways, concurrent first runs, refusals with their fix,
//! and gopls v0.23.0 answering an LSP session started the way an editor starts it.
//!
//! Building gopls is slow: the module and build caches are shared between runs in
//! `~/.cache/gowarden-tool-test/` (scripts/prime-tool-test-cache.sh fills them from .ci/run);
//! the tool cache itself is each sandbox's own, so every test builds through the shim.

use crate::common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{BIN, CONFIG_ERROR, REFUSED, Sandbox, assert_has, run};
use serde_json::{Value, json};

fn real_home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME"))
}

/// A real toolchain of the test cache (scripts/fetch-go-toolchains.sh go1.25.5).
fn cached_toolchain(v: &str) -> PathBuf {
    let cache = std::env::var_os("GOWARDEN_TOOLCHAIN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home().join(".cache/gowarden-test-toolchains"));
    let root = cache.join(format!(
        "modcache/golang.org/toolchain@v0.0.1-{v}.linux-{}",
        common::go_arch()
    ));
    assert!(
        root.join("bin/go").is_file(),
        "{v} missing at {}: run scripts/fetch-go-toolchains.sh {v}",
        root.display()
    );
    root
}

/// The module and build caches shared by every run of these tests.
fn shared_cache() -> PathBuf {
    real_home().join(".cache/gowarden-tool-test")
}

const TOOL_SHIMS: [&str; 5] = ["gopls", "stringer", "staticcheck", "dlv", "frobnicate"];

/// A sandbox whose shims dir also has the tool shims, finding only the toolchains at
/// `search`, with `extra` after the `[toolchains]` table.
fn tool_sandbox(search: &[PathBuf], extra: &str) -> Sandbox {
    let sb = Sandbox::new();
    for n in TOOL_SHIMS {
        std::os::unix::fs::symlink(BIN, sb.shims.join(n)).unwrap();
    }
    let search: Vec<String> = search
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    sb.write_policy(&sb.isolated_policy(&format!("search = [{}]\n{extra}", search.join(", "))));
    sb
}

/// A command in `dir` with the shared module and build caches.
fn in_dir(sb: &Sandbox, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut c = sb.command(program);
    c.current_dir(dir)
        .env("GOMODCACHE", shared_cache().join("mod"))
        .env("GOCACHE", shared_cache().join("build"));
    c
}

fn audit_records(sb: &Sandbox) -> Vec<Value> {
    let log = sb.home.join(".local/state/gowarden/audit.jsonl");
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn attr<'a>(r: &'a Value, key: &str) -> Option<&'a str> {
    r["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?["value"]["stringValue"]
        .as_str()
}

fn body(r: &Value) -> &str {
    r["body"]["stringValue"].as_str().unwrap_or("")
}

/// The records of the builds of `spec` (`go install spec`, through the go shim).
fn builds(sb: &Sandbox, spec: &str) -> usize {
    audit_records(sb)
        .iter()
        .filter(|r| {
            body(r) == format!("go install {spec}") && attr(r, "gowarden.decision") == Some("allow")
        })
        .count()
}

/// The module version a Go binary was built from, as `go version -m` (the real go) reads it.
fn built_version(binary: &Path, module: &str) -> String {
    let go = cached_toolchain("go1.25.5").join("bin/go");
    let out = Command::new(go)
        .args(["version", "-m"])
        .arg(binary)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && (f[0] == "mod" || f[0] == "dep") && f[1] == module)
                .then(|| f[2].to_string())
        })
        .unwrap_or_else(|| panic!("{module} not in:\n{text}"))
}

/// `program ARGS` in `dir`, run to the end.
fn run_in(
    sb: &Sandbox,
    program: impl AsRef<std::ffi::OsStr>,
    dir: &Path,
    args: &[&str],
) -> common::FakeRun {
    let mut c = in_dir(sb, program, dir);
    c.args(args);
    run(c)
}

fn which_binary(sb: &Sandbox, tool: &str, dir: &Path) -> (PathBuf, Value) {
    let r = run_in(sb, BIN, dir, &["which", "--json", tool]);
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    (PathBuf::from(v["binary"].as_str().unwrap()), v)
}

const PILL: &str =
    "package pill\n\ntype Pill int\n\nconst (\n\tPlacebo Pill = iota\n\tAspirin\n)\n";

#[test]
fn two_projects_pinning_two_stringer_versions_get_two_binaries_built_once_each() {
    let go125 = cached_toolchain("go1.25.5");
    let sb = tool_sandbox(&[go125], "");
    // One pins with a go.mod tool directive (Go 1.24+), the other with a tools.go import.
    let a = sb.project.join("a");
    let b = sb.project.join("b");
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(b.join("tools")).unwrap();
    fs::write(
        a.join("go.mod"),
        "module example.com/a\n\ngo 1.25\n\ntool golang.org/x/tools/cmd/stringer\n\nrequire golang.org/x/tools v0.30.0\n",
    )
    .unwrap();
    fs::write(
        b.join("go.mod"),
        "module example.com/b\n\ngo 1.25\n\nrequire golang.org/x/tools v0.38.0\n",
    )
    .unwrap();
    fs::write(
        b.join("tools/tools.go"),
        "//go:build tools\n\npackage tools\n\nimport (\n\t_ \"golang.org/x/tools/cmd/stringer\"\n)\n",
    )
    .unwrap();
    for d in [&a, &b] {
        fs::write(d.join("pill.go"), PILL.replace("pill", "main")).unwrap();
    }
    let (bin_a, which_a) = which_binary(&sb, "stringer", &a);
    let (bin_b, which_b) = which_binary(&sb, "stringer", &b);
    assert_eq!(which_a["cached"], false);
    assert_eq!(which_a["version"], "v0.30.0");
    assert_eq!(which_a["pin"]["kind"], "tool-directive");
    assert_eq!(
        which_a["pin"]["source"],
        format!(
            "tool directive {0}:5 (version: require {0}:7)",
            a.join("go.mod").display()
        )
    );
    assert_eq!(which_b["version"], "v0.38.0");
    assert_eq!(
        which_b["pin"]["source"],
        format!(
            "blank import {}:6 (version: require {}:5)",
            b.join("tools/tools.go").display(),
            b.join("go.mod").display()
        )
    );
    assert_ne!(bin_a, bin_b);

    for d in [&a, &b] {
        // The tool found on PATH is the shim, run the way `go generate` or a Makefile runs it.
        let r = run_in(&sb, "stringer", d, &["-type=Pill"]);
        assert_eq!(r.status(), 0, "{}: {}", d.display(), r.stderr);
        assert_eq!(
            r.stdout, "",
            "the shim and the build print nothing on stdout"
        );
        let generated = fs::read_to_string(d.join("pill_string.go")).unwrap();
        assert!(
            generated.contains("func (i Pill) String() string"),
            "{generated}"
        );
    }
    // Each binary is a build of its own pin, as the real go reads the binary.
    assert_eq!(built_version(&bin_a, "golang.org/x/tools"), "v0.30.0");
    assert_eq!(built_version(&bin_b, "golang.org/x/tools"), "v0.38.0");

    // Later runs exec the cache: no second build.
    for d in [&a, &b] {
        let r = run_in(&sb, "stringer", d, &["-type=Pill", "-output=again.go"]);
        assert_eq!(r.status(), 0, "{}", r.stderr);
        assert_eq!(r.stderr, "");
    }
    assert_eq!(builds(&sb, "golang.org/x/tools/cmd/stringer@v0.30.0"), 1);
    assert_eq!(builds(&sb, "golang.org/x/tools/cmd/stringer@v0.38.0"), 1);
    let tool_runs: Vec<Value> = audit_records(&sb)
        .into_iter()
        .filter(|r| attr(r, "gowarden.tool") == Some("stringer"))
        .collect();
    assert_eq!(tool_runs.len(), 4);
    for r in &tool_runs {
        assert_eq!(attr(r, "gowarden.decision"), Some("allow"));
        assert_eq!(attr(r, "go.version"), Some("go1.25.5"));
        assert_eq!(
            attr(r, "gowarden.tool.package"),
            Some("golang.org/x/tools/cmd/stringer")
        );
    }
    assert_eq!(
        attr(&tool_runs[0], "gowarden.tool.version"),
        Some("v0.30.0")
    );
    assert_eq!(
        attr(&tool_runs[0], "gowarden.tool.pin_source"),
        Some("tool-directive")
    );
    assert_eq!(
        attr(&tool_runs[1], "gowarden.tool.version"),
        Some("v0.38.0")
    );
    assert_eq!(
        attr(&tool_runs[1], "gowarden.tool.pin_source"),
        Some("tools.go")
    );
    assert_eq!(
        attr(&tool_runs[2], "process.executable.path"),
        Some(bin_a.to_str().unwrap())
    );

    // `gowarden tool list` shows both; `remove NAME@VERSION` removes one.
    let r = run(sb.gowarden(&["tool", "list", "--json"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let listed: Value = serde_json::from_str(&r.stdout).unwrap();
    let versions: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v0.30.0", "v0.38.0"]);
    let r = run(sb.gowarden(&["tool", "remove", "stringer@v0.30.0"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        format!(
            "removed stringer v0.30.0 ({})\n",
            bin_a.parent().unwrap().display()
        )
    );
    assert!(!bin_a.exists());
    assert!(bin_b.exists());
    let r = run(sb.gowarden(&["tool", "remove", "stringer@v0.30.0"]));
    assert_eq!(r.status(), 1);
    assert_eq!(
        r.stderr,
        "gowarden tool remove: stringer@v0.30.0 is not cached (`gowarden tool list` shows what is)\n"
    );
}

#[test]
fn concurrent_first_runs_build_once() {
    let go125 = cached_toolchain("go1.25.5");
    // The company-wide pin: the project pins nothing itself.
    let sb = tool_sandbox(
        &[go125],
        "[tools]\nstringer = \"golang.org/x/tools/cmd/stringer@v0.30.0\"\n",
    );
    sb.write_project_file("go.mod", "module example.com/c\n\ngo 1.25\n");
    let children: Vec<_> = (0..4)
        .map(|_| {
            in_dir(&sb, "stringer", &sb.project)
                .arg("-help")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // stringer -help prints its usage (flag.ErrHelp: exit 0).
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("Usage of stringer:"), "{stderr}");
    }
    assert_eq!(builds(&sb, "golang.org/x/tools/cmd/stringer@v0.30.0"), 1);
    let runs: Vec<Value> = audit_records(&sb)
        .into_iter()
        .filter(|r| attr(r, "gowarden.tool") == Some("stringer"))
        .collect();
    assert_eq!(runs.len(), 4);
    for r in &runs {
        assert_eq!(attr(r, "gowarden.tool.pin_source"), Some("policy"));
    }
    let policy = sb.user_policy_path();
    let line = common::line_containing(&fs::read_to_string(&policy).unwrap(), "stringer =");
    assert_eq!(
        attr(&runs[0], "gowarden.tool.pinned_by"),
        Some(format!("policy [tools] {}:{line}", policy.display()).as_str())
    );
}

#[test]
fn unpinned_ungoverned_and_denied_tools_are_refused_with_the_fix() {
    let sb = Sandbox::new();
    for n in TOOL_SHIMS {
        std::os::unix::fs::symlink(BIN, sb.shims.join(n)).unwrap();
    }
    sb.fake_toolchain("go1.24.2");
    sb.write_policy(&sb.isolated_policy(
        "[roles]\ndefault = \"auditor\"\n[role.auditor]\ndeny_tools = [\"dlv\"]\npinned_tools = true\n",
    ));
    sb.write_project_file("go.mod", "module example.com/p\n\ngo 1.24\n");
    let r = run_in(&sb, sb.shims.join("staticcheck"), &sb.project, &["./..."]);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: staticcheck: no version of staticcheck is pinned for {} (no go.mod `tool` \
             directive, no tools.go import, no [tools] pin in the policy {}); pin it for the \
             project: `go get -tool honnef.co/go/tools/cmd/staticcheck@VERSION` (Go 1.24+, \
             writes a `tool` line and its `require` to go.mod), or ask for a company-wide pin in \
             the policy's [tools]\n",
            sb.project.display(),
            sb.user_policy_path().display()
        )
    );
    // A role that may not run a tool is refused before anything is resolved or built.
    let policy_text = fs::read_to_string(sb.user_policy_path()).unwrap();
    let r = run_in(&sb, sb.shims.join("dlv"), &sb.project, &["version"]);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: refused `dlv`\n  role: auditor, the default role ([roles] default at \
             {0}:{1})\n  rule: role.auditor.deny_tools ({0}:{2})\n  why:  role \"auditor\" may \
             not run dlv\n",
            sb.user_policy_path().display(),
            common::line_containing(&policy_text, "default ="),
            common::line_containing(&policy_text, "deny_tools")
        )
    );
    // A name the policy does not govern is not silently the CLI.
    let r = run(sb.command(sb.shims.join("frobnicate")));
    assert_eq!(r.status(), CONFIG_ERROR, "{}", r.stderr);
    assert_has(
        &r.stderr,
        &[
            "`frobnicate` is not a tool the policy",
            "frobnicate = \"PACKAGE@VERSION\"",
        ],
    );
    // Every refusal is audited with the tool and the rule.
    let rules: Vec<(String, String)> = audit_records(&sb)
        .iter()
        .map(|r| {
            (
                attr(r, "gowarden.tool").unwrap_or("").to_string(),
                attr(r, "gowarden.rule").unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("staticcheck".to_string(), "tool.unpinned".to_string()),
            ("dlv".to_string(), "role.auditor.deny_tools".to_string()),
            ("frobnicate".to_string(), "tool.not-governed".to_string()),
        ]
    );

    // go install of a governed tool: only the pin, for a role with pinned_tools.
    sb.write_project_file(
        "go.mod",
        "module example.com/p\n\ngo 1.24\n\ntool golang.org/x/tools/gopls\n\nrequire golang.org/x/tools/gopls v0.23.0\n",
    );
    let r = run(sb.go(&["install", "golang.org/x/tools/gopls@latest"]));
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert_eq!(r.ran(), None);
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: refused `golang.org/x/tools/gopls@latest` in `go install`\n  role: \
             auditor, the default role ([roles] default at {0}:{1})\n  rule: \
             role.auditor.pinned_tools ({0}:{2})\n  why:  role \"auditor\" runs governed tools \
             only at the version the project pins; gopls is pinned to \
             golang.org/x/tools/gopls@v0.23.0 here (tool directive {3}:5 (version: require \
             {3}:7)): run `gopls` itself, whose shim builds and runs the pin, or change the pin \
             with `go get -tool golang.org/x/tools/gopls@VERSION`\n",
            sb.user_policy_path().display(),
            common::line_containing(&policy_text, "default ="),
            common::line_containing(&policy_text, "pinned_tools"),
            sb.project.join("go.mod").display()
        )
    );
    // The pin itself installs (the fake go runs), and so does any ungoverned module.
    for spec in [
        "golang.org/x/tools/gopls@v0.23.0",
        "example.com/ungoverned/cmd/x@latest",
    ] {
        let r = run(sb.go(&["install", spec]));
        assert_eq!(r.status(), 0, "{spec}: {}", r.stderr);
        assert_eq!(r.args(), ["install", spec]);
    }
    let r = run(sb.go(&["run", "honnef.co/go/tools/cmd/staticcheck@v0.8.2", "./..."]));
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert_has(
        &r.stderr,
        &[
            "nothing pins staticcheck here: pin it with `go get -tool honnef.co/go/tools/cmd/staticcheck@VERSION`",
        ],
    );
}

#[test]
fn a_bad_tools_table_is_an_error_with_file_and_line() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.24.2");
    for (table, why) in [
        (
            "[tools]\ngopls = \"golang.org/x/tools/gopls@latest\"\n",
            "[tools] gopls = \"golang.org/x/tools/gopls@latest\": \"latest\" is not a module \
             version; pin an exact release such as v1.2.3 (a query like latest would change \
             under everyone)",
        ),
        (
            "[tools]\nlint = \"honnef.co/go/tools/cmd/staticcheck@v0.8.2\"\n",
            "[tools] lint = \"honnef.co/go/tools/cmd/staticcheck@v0.8.2\": go builds \
             honnef.co/go/tools/cmd/staticcheck as `staticcheck`, not `lint`; name the key \
             `staticcheck`",
        ),
        (
            "[tools]\ngopls = \"golang.org/x/tools/gopls\"\n",
            "[tools] gopls = \"golang.org/x/tools/gopls\" is not a pin; write the package and \
             its version, e.g. gopls = \"golang.org/x/tools/gopls@v0.23.0\"",
        ),
        (
            "[roles]\ndefault = \"dev\"\n[role.dev]\ndeny_tools = [\"dlvv\"]\n",
            "[role.dev] deny_tools names \"dlvv\", which is not a tool gowarden governs; \
             governed tools: gopls, staticcheck, golangci-lint, dlv (add others to [tools])",
        ),
    ] {
        let text = sb.isolated_policy(table);
        sb.write_policy(&text);
        let line = text
            .lines()
            .position(|l| l.contains("gopls =") || l.contains("lint =") || l.contains("deny_tools"))
            .unwrap()
            + 1;
        let r = run(sb.go(&["version"]));
        assert_eq!(r.status(), CONFIG_ERROR, "{table}");
        let at = format!("{}:{line}", sb.user_policy_path().display());
        assert!(
            r.stderr
                .starts_with(&format!("gowarden: invalid policy {at}")),
            "{table}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(why), "{table}: {}", r.stderr);
    }
}

/// One LSP message, framed as the protocol frames it.
fn lsp_send(w: &mut impl Write, msg: &Value) {
    let text = msg.to_string();
    write!(w, "Content-Length: {}\r\n\r\n{text}", text.len()).unwrap();
    w.flush().unwrap();
}

fn lsp_reader(stdout: impl Read + Send + 'static) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        loop {
            let mut len = None;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    len = v.parse::<usize>().ok();
                }
            }
            let mut buf = vec![0; len.expect("a Content-Length header")];
            if r.read_exact(&mut buf).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&buf).unwrap()).is_err() {
                return;
            }
        }
    });
    rx
}

#[test]
fn gopls_pinned_by_a_tool_directive_answers_an_lsp_session_through_its_shim() {
    // gopls v0.23.0 needs go 1.26.
    let sb = tool_sandbox(&[PathBuf::from("/usr/local/go")], "");
    let dir = sb.project.clone();
    sb.write_project_file(
        "go.mod",
        "module example.com/lsp\n\ngo 1.26.0\n\ntool golang.org/x/tools/gopls\n\nrequire golang.org/x/tools/gopls v0.23.0\n",
    );
    let src = "package main\n\nfunc main() {\n\tvar n int = \"seven\"\n\t_ = n\n}\n";
    let main_go = sb.write_project_file("main.go", src);
    // An editor starts `gopls` from PATH with stdio as the channel.
    let mut child = in_dir(&sb, "gopls", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let rx = lsp_reader(child.stdout.take().unwrap());
    let stderr = child.stderr.take().unwrap();
    let err_log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut s);
        s
    });
    let root_uri = format!("file://{}", dir.display());
    let file_uri = format!("file://{}", main_go.display());
    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": std::process::id(),
            "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "lsp"}],
            "capabilities": {"textDocument": {"publishDiagnostics": {}}},
        }}),
    );
    // The first run builds gopls: allow for that, but bound it.
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut initialized = false;
    let mut diagnostics = None;
    while diagnostics.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = match rx.recv_timeout(left) {
            Ok(m) => m,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "no diagnostics from gopls; its stderr:\n{}",
                    err_log.join().unwrap()
                );
            }
        };
        if msg["id"] == 1 && msg.get("result").is_some() && !initialized {
            assert!(
                msg["result"]["capabilities"].is_object(),
                "initialize result: {msg}"
            );
            assert_eq!(msg["result"]["serverInfo"]["name"], "gopls");
            initialized = true;
            lsp_send(
                &mut stdin,
                &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
            );
            lsp_send(
                &mut stdin,
                &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
                    "textDocument": {"uri": file_uri, "languageId": "go", "version": 1, "text": src},
                }}),
            );
            continue;
        }
        // Requests from the server get an answer, as an editor gives them.
        if let (Some(id), Some(method)) = (msg.get("id"), msg["method"].as_str()) {
            let result = match method {
                "workspace/configuration" => {
                    let n = msg["params"]["items"].as_array().map_or(0, Vec::len);
                    Value::Array(vec![Value::Null; n])
                }
                _ => Value::Null,
            };
            lsp_send(
                &mut stdin,
                &json!({"jsonrpc": "2.0", "id": id, "result": result}),
            );
            continue;
        }
        if msg["method"] == "textDocument/publishDiagnostics"
            && msg["params"]["uri"] == file_uri.as_str()
            && msg["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
        {
            diagnostics = Some(msg["params"]["diagnostics"].clone());
        }
    }
    let d = &diagnostics.unwrap()[0];
    assert_eq!(d["range"]["start"]["line"], 3, "{d}");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("cannot use \"seven\""),
        "{d}"
    );
    lsp_send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}),
    );
    lsp_send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
    drop(stdin);
    let status = child.wait().unwrap();
    let log = err_log.join().unwrap();
    assert!(status.success(), "{status}: {log}");

    // What ran was the pin, built once through the go shim with go1.26.8, and audited.
    let (bin, which) = which_binary(&sb, "gopls", &dir);
    assert_eq!(which["cached"], true);
    assert_eq!(which["go"], "go1.26.8");
    assert_eq!(built_version(&bin, "golang.org/x/tools/gopls"), "v0.23.0");
    assert_eq!(builds(&sb, "golang.org/x/tools/gopls@v0.23.0"), 1);
    let runs: Vec<Value> = audit_records(&sb)
        .into_iter()
        .filter(|r| attr(r, "gowarden.tool") == Some("gopls"))
        .collect();
    assert_eq!(runs.len(), 1);
    assert_eq!(attr(&runs[0], "gowarden.tool.version"), Some("v0.23.0"));
    // gopls's own go calls went through the go shim too (go env, go list).
    assert!(
        audit_records(&sb)
            .iter()
            .any(|r| body(r).starts_with("go list")),
        "no go list through the shim"
    );
}

#[test]
fn a_tool_runs_under_its_roles_confinement() {
    let go125 = cached_toolchain("go1.25.5");
    let sb = tool_sandbox(
        &[go125],
        "[tools]\nstringer = \"golang.org/x/tools/cmd/stringer@v0.30.0\"\n\n[roles]\n\
         default = \"dev\"\n\n[[binding]]\nrole = \"free\"\nenv = { GOWARDEN_TEST_ROLE = \
         \"free\" }\n\n[role.free]\n\n[role.dev]\n\n[role.dev.confine]\nconnect = [443]\ndeny_read = [\"~/.netrc\"]\n",
    );
    sb.write_project_file("go.mod", "module example.com/c\n\ngo 1.25\n");
    sb.write_project_file("pill.go", &PILL.replace("pill", "main"));
    let outside = sb.root.join("outside");
    fs::create_dir_all(&outside).unwrap();
    let target = outside.join("pill_string.go");
    let output = format!("-output={}", target.display());
    let args = ["-type=Pill", output.as_str(), "pill.go"];
    // Built (and run) first as a role without confinement: the build is a go call of that
    // role, and writing outside the project is its right.
    let mut c = in_dir(&sb, "stringer", &sb.project);
    c.args(args).env("GOWARDEN_TEST_ROLE", "free");
    let r = run(c);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(target.is_file());
    fs::remove_file(&target).unwrap();
    // Confined (the default role): the kernel keeps the cached stringer from writing there,
    // while its own `go list` (through the go shim) still runs.
    let r = run_in(&sb, "stringer", &sb.project, &args);
    assert_eq!(r.status(), 1, "{}", r.stderr);
    assert_has(
        &r.stderr,
        &["stringer: writing output:", "permission denied"],
    );
    assert!(!target.exists());
    let runs: Vec<Value> = audit_records(&sb)
        .into_iter()
        .filter(|r| attr(r, "gowarden.tool") == Some("stringer"))
        .collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(attr(&runs[0], "gowarden.role"), Some("free"));
    assert_eq!(attr(&runs[0], "gowarden.confinement"), None);
    assert_eq!(attr(&runs[1], "gowarden.role"), Some("dev"));
    assert!(
        attr(&runs[1], "gowarden.confinement")
            .is_some_and(|c| c.contains("enforced: write") && c.contains("deny_read")),
        "{:?}",
        runs[1]
    );
}

#[test]
fn a_workspace_pins_through_its_modules_and_a_replaced_tool_is_refused() {
    let sb = Sandbox::new();
    std::os::unix::fs::symlink(BIN, sb.shims.join("stringer")).unwrap();
    sb.fake_toolchain("go1.24.2");
    sb.write_project_file("go.work", "go 1.24\n\nuse (\n\t./a\n\t./b\n)\n");
    let a_mod = sb.write_project_file(
        "a/go.mod",
        "module example.com/a\n\ngo 1.24\n\ntool golang.org/x/tools/cmd/stringer\n\nrequire golang.org/x/tools v0.30.0\n",
    );
    let b_mod = sb.write_project_file(
        "b/go.mod",
        "module example.com/b\n\ngo 1.24\n\nrequire golang.org/x/tools v0.38.0\n",
    );
    // From module b's dir: the workspace is the project, and MVS gives the highest require.
    let r = run_in(
        &sb,
        BIN,
        &sb.project.join("b"),
        &["which", "--json", "stringer"],
    );
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], "v0.38.0");
    assert_eq!(
        v["pin"]["source"],
        format!(
            "tool directive {}:5 (version: require {}:5)",
            a_mod.display(),
            b_mod.display()
        )
    );
    // A replace of the tool's module: what go tool would build is not the pinned release.
    fs::write(
        &b_mod,
        "module example.com/b\n\ngo 1.24\n\nrequire golang.org/x/tools v0.38.0\n\nreplace golang.org/x/tools => ../fork\n",
    )
    .unwrap();
    let r = run_in(
        &sb,
        sb.shims.join("stringer"),
        &sb.project.join("a"),
        &["-help"],
    );
    assert_eq!(r.status(), CONFIG_ERROR, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: {}:7: a replace of golang.org/x/tools (which provides the tool stringer): \
             gowarden builds tools from the module proxy at the pinned version, which is not \
             what this replacement holds; remove the replace, or pin the version you mean to \
             run\n",
            b_mod.display()
        )
    );
}
