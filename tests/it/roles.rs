//! Roles and argument filtering through the real shim binary, with fake GOROOTs whose `go`
//! prints its arguments: a refused command line must not reach go at all, an allowed one must
//! reach it unchanged.
//!
//! The main table runs against `policies/examples/enterprise.toml` as shipped, so the example
//! does what its comments say, less its `[env]` table: that table enforces GOFLAGS, which would
//! hide the GOFLAGS routes round a filter that these cases exercise (tests/it/env_enforce.rs
//! covers it, and tests/it/check.rs loads the whole file).

use crate::common;

use std::fs;
use std::os::unix::process::CommandExt;

use common::snapshot::Snap;
use common::{FakeRun, Sandbox, run};

const EXAMPLE: &str = include_str!("../../policies/examples/enterprise.toml");
/// Lets a test run as the auditor or the builder: the example binds them by groups the test
/// user is not in. Appended, so they are tried after the example's own bindings.
const AUDITOR_BINDING: &str = "\n[[binding]]\nrole = \"auditor\"\nenv = { GOWARDEN_TEST_ROLE = \"auditor\" }\n\
     \n[[binding]]\nrole = \"builder\"\nenv = { GOWARDEN_TEST_ROLE = \"builder\" }\n";
const FAKE: &str = "go1.26.99";

/// A sandbox with one fake toolchain pinned by `.go-version`, and `policy` in force.
fn sandbox(policy: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.fake_toolchain(FAKE);
    sb.write_project_file(".go-version", &format!("{}\n", &FAKE[2..]));
    fs::create_dir_all(sb.project.join("sub")).unwrap();
    sb.write_policy(policy);
    sb
}

fn example_policy() -> String {
    let roles = EXAMPLE
        .split("# ── Environment")
        .next()
        .expect("the example has sections");
    assert!(roles.len() < EXAMPLE.len(), "the [env] banner moved");
    format!("{roles}{AUDITOR_BINDING}")
}

/// 1-based line of the first line of `text` that starts with `prefix` (after indentation),
/// searching from the line that starts with `after`.
fn line_of(text: &str, after: &str, prefix: &str) -> usize {
    let start = text
        .lines()
        .position(|l| l.trim_start().starts_with(after))
        .unwrap_or_else(|| panic!("no line starts with {after:?}"));
    start
        + 1
        + text
            .lines()
            .skip(start)
            .position(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starts with {prefix:?} after {after:?}"))
}

/// The `file:line` a refusal by `rule` must name, for the example policy.
fn rule_location(sb: &Sandbox, text: &str, rule: &str) -> String {
    let line = match rule.strip_prefix("role.") {
        Some(rest) => {
            let (role, key) = rest.split_once('.').unwrap();
            let header = format!("[role.{role}]");
            match key {
                // Not written: the refusal points at the role's header.
                "unknown" if !role_has_key(text, &header, "unknown") => {
                    line_of(text, &header, &header)
                }
                key => line_of(text, &header, &format!("{key} =")),
            }
        }
        None => line_of(text, &format!("id = \"{rule}\""), "id ="),
    };
    format!("{}:{line}", sb.user_policy_path().display())
}

fn role_has_key(text: &str, header: &str, key: &str) -> bool {
    let start = text.find(header).unwrap() + header.len();
    let end = text[start..]
        .find("\n[role.")
        .map_or(text.len(), |e| start + e);
    text[start..end]
        .lines()
        .any(|l| l.trim_start().starts_with(&format!("{key} =")))
}

#[derive(Clone, Copy)]
enum Want {
    Allow,
    /// Refused by this rule id; the message must show `shows` (the flag or key as written).
    Refuse(&'static str, &'static str),
}
use Want::{Allow, Refuse};

struct Case {
    role: &'static str,
    env: &'static [(&'static str, &'static str)],
    /// The user's go env file.
    go_env: Option<&'static str>,
    args: &'static [&'static str],
    want: Want,
}

const fn c(role: &'static str, args: &'static [&'static str], want: Want) -> Case {
    Case {
        role,
        env: &[],
        go_env: None,
        args,
        want,
    }
}

const fn ce(
    role: &'static str,
    env: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    want: Want,
) -> Case {
    Case {
        role,
        env,
        go_env: None,
        args,
        want,
    }
}

const fn cf(
    role: &'static str,
    go_env: &'static str,
    args: &'static [&'static str],
    want: Want,
) -> Case {
    Case {
        role,
        env: &[],
        go_env: Some(go_env),
        args,
        want,
    }
}

const DEV: &str = "developer";
const CI: &str = "builder";
const AUD: &str = "auditor";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // developer: replace edits, in every spelling and position.
    c(DEV, &["mod", "edit", "-replace=a=b"], Refuse("dev-no-mod-replace", "`-replace=a=b` in `go mod edit`")),
    c(DEV, &["mod", "edit", "--replace=a=b"], Refuse("dev-no-mod-replace", "`--replace=a=b`")),
    c(DEV, &["mod", "edit", "-replace", "a=b"], Refuse("dev-no-mod-replace", "`-replace a=b`")),
    c(DEV, &["mod", "edit", "--replace", "a=../b"], Refuse("dev-no-mod-replace", "`--replace a=../b`")),
    c(DEV, &["mod", "edit", "-dropreplace=example.com/a"], Refuse("dev-no-mod-replace", "`-dropreplace=example.com/a`")),
    c(DEV, &["mod", "edit", "-C", "sub", "-replace=a=b"], Refuse("dev-no-mod-replace", "`-replace=a=b`")),
    c(DEV, &["-C", "sub", "mod", "edit", "-replace=a=b"], Refuse("dev-no-mod-replace", "`-replace=a=b`")),
    c(DEV, &["mod", "edit", "-fmt", "-require=example.com/a@v1.0.0", "-replace=a=b"], Refuse("dev-no-mod-replace", "`-replace=a=b`")),
    c(DEV, &["mod", "edit", "-fmt"], Allow),
    c(DEV, &["mod", "edit", "-require=example.com/a@v1.0.0"], Allow),
    c(DEV, &["work", "edit", "-replace=a=b"], Refuse("dev-no-work-replace", "`-replace=a=b` in `go work edit`")),
    c(DEV, &["work", "edit", "--dropreplace", "a"], Refuse("dev-no-work-replace", "`--dropreplace a`")),
    c(DEV, &["work", "edit", "-use=./m"], Allow),
    // GOFLAGS applies -replace to go mod edit: go would add the directive.
    ce(DEV, &[("GOFLAGS", "-replace=a=b")], &["mod", "edit", "-fmt"], Refuse("dev-no-mod-replace", "`-replace=a=b` from $GOFLAGS (the environment)")),
    // developer: protected go env keys, alone or among others.
    c(DEV, &["env", "-w", "GOPROXY=direct"], Refuse("dev-protected-go-env", "`go env -w` of GOPROXY")),
    c(DEV, &["env", "-w", "GOBIN=/opt/bin", "GOSUMDB=off"], Refuse("dev-protected-go-env", "of GOSUMDB")),
    c(DEV, &["env", "-w", "CGO_ENABLED=0", "GOPRIVATE=corp.example", "GOBIN=/x"], Refuse("dev-protected-go-env", "of GOPRIVATE")),
    c(DEV, &["env", "-w", "GOINSECURE=x", "GONOPROXY=y"], Refuse("dev-protected-go-env", "of GOINSECURE")),
    c(DEV, &["env", "-w", "GONOSUMDB=corp.example"], Refuse("dev-protected-go-env", "of GONOSUMDB")),
    c(DEV, &["env", "-u", "GOFLAGS"], Refuse("dev-protected-go-env", "`go env -u` of GOFLAGS")),
    c(DEV, &["env", "--w", "GOTOOLCHAIN=go1.99.0"], Refuse("dev-protected-go-env", "of GOTOOLCHAIN")),
    c(DEV, &["env", "-C", "sub", "-w", "GOPROXY=off"], Refuse("dev-protected-go-env", "of GOPROXY")),
    // go applies -w from GOFLAGS to go env too: `GOFLAGS=-w go env K=V` writes the env file.
    ce(DEV, &[("GOFLAGS", "-w")], &["env", "GOPROXY=off"], Refuse("dev-protected-go-env", "`go env -w` of GOPROXY")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder"), ("GOFLAGS", "-w")], &["env", "GOBIN=/x"], Refuse("ci-no-go-env-write", "`-w` from $GOFLAGS (the environment) in `go env`")),
    c(DEV, &["env", "-w", "GOBIN=/opt/bin", "CGO_ENABLED=0"], Allow),
    c(DEV, &["env", "GOPROXY", "GOFLAGS"], Allow),
    c(DEV, &["env", "-json"], Allow),
    // developer: build tampering flags, wherever go reads them.
    c(DEV, &["build", "-toolexec=/bin/true", "./..."], Refuse("dev-no-build-tampering", "`-toolexec=/bin/true` in `go build`")),
    c(DEV, &["build", "--toolexec", "/bin/true", "."], Refuse("dev-no-build-tampering", "`--toolexec /bin/true`")),
    c(DEV, &["test", "./...", "-toolexec", "/bin/true"], Refuse("dev-no-build-tampering", "`-toolexec /bin/true` in `go test`")),
    c(DEV, &["test", "./...", "-run", "X", "-overlay=o.json"], Refuse("dev-no-build-tampering", "`-overlay=o.json`")),
    c(DEV, &["test", "./...", "-frob", "-modfile=alt.mod"], Refuse("dev-no-build-tampering", "`-modfile=alt.mod`")),
    c(DEV, &["vet", "-modfile=alt.mod", "./..."], Refuse("dev-no-build-tampering", "`-modfile=alt.mod` in `go vet`")),
    c(DEV, &["list", "-overlay", "o.json", "./..."], Refuse("dev-no-build-tampering", "`-overlay o.json` in `go list`")),
    c(DEV, &["build", "-C", "sub", "-toolexec=x", "."], Refuse("dev-no-build-tampering", "`-toolexec=x`")),
    ce(DEV, &[("GOFLAGS", "-mod=mod -toolexec=/bin/true")], &["build", "."], Refuse("dev-no-build-tampering", "`-toolexec=/bin/true` from $GOFLAGS (the environment)")),
    cf(DEV, "GOFLAGS=-overlay=/tmp/o.json\n", &["test", "./..."], Refuse("dev-no-build-tampering", "`-overlay=/tmp/o.json` from $GOFLAGS (the go env file ")),
    // The environment wins over the go env file, as in go: the file's GOFLAGS is not used.
    Case { role: DEV, env: &[("GOFLAGS", "-mod=mod")], go_env: Some("GOFLAGS=-toolexec=/bin/true\n"), args: &["build", "."], want: Allow },
    // Not go's flags: the test binary's and the program's arguments.
    c(DEV, &["test", "./...", "-args", "-toolexec", "/bin/true"], Allow),
    c(DEV, &["test", "./...", "--args", "-replace=a=b", "-overlay", "x"], Allow),
    c(DEV, &["test", ".", "-count=1", "--", "-toolexec=x"], Allow),
    c(DEV, &["run", ".", "-toolexec", "/bin/true"], Allow),
    c(DEV, &["run", "main.go", "-overlay=x.json", "-modfile", "y"], Allow),
    c(DEV, &["tool", "compile", "-toolexec=x"], Allow),
    // developer: everyday commands.
    c(DEV, &["build", "-o", "out", "-ldflags=-s -w", "./cmd"], Allow),
    c(DEV, &["test", "-v", "-run", "TestX", "-count=1", "./..."], Allow),
    c(DEV, &["get", "example.com/a@latest"], Allow),
    c(DEV, &["generate", "./..."], Allow),
    ce(DEV, &[("GOFLAGS", "-mod=mod")], &["build", "./..."], Allow),
    c(DEV, &[], Allow),
    c(DEV, &["help", "build"], Allow),
    // developer: what gowarden cannot read is refused (the role has rules).
    c(DEV, &["build", "-frob", "."], Refuse("role.developer.unknown", "`-frob` in `go build`")),
    c(DEV, &["frobnicate"], Refuse("role.developer.unknown", "`go frobnicate`")),
    c(DEV, &["build", "-o"], Refuse("role.developer.unknown", "`go build -o`")),
    c(DEV, &["mod", "edit", "-C", "sub", "-fmt", "-C", "x"], Refuse("role.developer.unknown", "-C flag must be first")),
    ce(DEV, &[("GOFLAGS", "-frob")], &["build", "."], Refuse("role.developer.unknown", "unknown flag -frob")),
    // builder: the allowed commands.
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["build", "./..."], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["test", "-race", "./..."], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["vet", "./..."], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["list", "-m", "all"], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["mod", "download", "-x"], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["version"], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["env", "GOPATH"], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["build", "-toolexec=/bin/true", "."], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["mod", "tidy"], Refuse("role.builder.allow_commands", "`go mod tidy`")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["mod", "edit", "-replace=a=b"], Refuse("role.builder.allow_commands", "`go mod edit`")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["get", "example.com/a"], Refuse("role.builder.allow_commands", "`go get`")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["generate", "./..."], Refuse("role.builder.allow_commands", "`go generate`")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["run", "."], Refuse("role.builder.allow_commands", "`go run`")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["env", "-w", "GOFLAGS=-x"], Refuse("ci-no-go-env-write", "`-w` in `go env`")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["build", "-frob", "."], Refuse("role.builder.unknown", "`-frob`")),
    // builder: go install only into its dirs (GOBIN, else GOPATH/bin, else ~/go/bin).
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["install", "./cmd/tool"], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder")], &["install", "example.com/tool@v1.2.3"], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder"), ("GOBIN", "/opt/ci/bin")], &["install", "./cmd/tool"], Allow),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder"), ("GOBIN", "/usr/local/bin")], &["install", "./cmd/tool"], Refuse("role.builder.install_dirs", "`go install` into /usr/local/bin (GOBIN from the environment)")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder"), ("GOBIN", "/usr/local/bin")], &["install", "example.com/tool@v1.2.3"], Refuse("role.builder.install_dirs", "into /usr/local/bin")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder"), ("GOBIN", "/opt/ci/bin/../../../usr/bin")], &["install", "."], Refuse("role.builder.install_dirs", "/usr/bin is not an allowed directory")),
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder"), ("GOPATH", "/srv/gopath")], &["install", "./cmd/tool"], Refuse("role.builder.install_dirs", "into /srv/gopath/bin (the first GOPATH entry + /bin, GOPATH from the environment)")),
    Case { role: CI, env: &[("GOWARDEN_TEST_ROLE", "builder")], go_env: Some("GOBIN=/srv/tools\n"), args: &["install", "./cmd/tool"], want: Refuse("role.builder.install_dirs", "into /srv/tools (GOBIN from the go env file ") },
    ce(CI, &[("GOWARDEN_TEST_ROLE", "builder"), ("GOBIN", "/usr/local/bin")], &["build", "-o", "/usr/local/bin/tool", "."], Allow),
    // auditor: read-only commands.
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["version"], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["list", "-json", "./..."], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["list", "-mod=readonly", "./..."], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["mod", "graph"], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["mod", "why", "-m", "example.com/a"], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["mod", "verify"], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["mod", "download", "-json"], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["doc", "fmt.Println"], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["help", "modules"], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["env", "-json"], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["vet", "-json", "./..."], Allow),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["env", "-w", "GOBIN=/x"], Refuse("auditor-no-go-env-write", "`-w` in `go env`")),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["build", "./..."], Refuse("role.auditor.allow_commands", "`go build`")),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["test", "./..."], Refuse("role.auditor.allow_commands", "`go test`")),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["mod", "tidy"], Refuse("role.auditor.allow_commands", "`go mod tidy`")),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["vet", "-vettool=/bin/true", "./..."], Refuse("auditor-no-vettool", "`-vettool=/bin/true` in `go vet`")),
    // go finds -vettool anywhere, even after the packages: so must the rule.
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["vet", "./...", "-vettool", "/bin/true"], Refuse("auditor-no-vettool", "`-vettool /bin/true`")),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["list", "-mod=mod", "./..."], Refuse("auditor-no-mod-updates", "`-mod=mod` in `go list`")),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor"), ("GOFLAGS", "-mod=mod")], &["list", "./..."], Refuse("auditor-no-mod-updates", "`-mod=mod` from $GOFLAGS")),
    ce(AUD, &[("GOWARDEN_TEST_ROLE", "auditor")], &["doc", "-http", "fmt"], Refuse("auditor-no-doc-server", "`-http` in `go doc`")),
];

#[test]
fn the_example_roles_through_the_shim() {
    assert!(CASES.len() >= 60, "the table must stay at 60 lines or more");
    let text = example_policy();
    let sb = sandbox(&text);
    let policy_path = sb.user_policy_path().display().to_string();
    let go_env_file = sb.home.join(".config/go/env");
    let mut failures = Vec::new();
    // Every refusal as the user reads it (stderr, exit status), in table order.
    let snap = Snap::new(&sb);
    let mut refusals = String::new();
    for case in CASES {
        match case.go_env {
            Some(content) => {
                fs::create_dir_all(go_env_file.parent().unwrap()).unwrap();
                fs::write(&go_env_file, content).unwrap();
            }
            None => {
                let _ = fs::remove_file(&go_env_file);
            }
        }
        let mut cmd = sb.go(case.args);
        cmd.envs(case.env.iter().copied());
        let r = run(cmd);
        let line = format!("[{}] go {}", case.role, case.args.join(" "));
        if let Refuse(..) = case.want {
            let env: Vec<String> = case.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
            refusals.push_str(&format!(
                "\n=== {line}{}{}\n{}",
                if env.is_empty() {
                    String::new()
                } else {
                    format!(" (env {})", env.join(" "))
                },
                case.go_env
                    .map(|g| format!(" (go env file {g:?})"))
                    .unwrap_or_default(),
                snap.of(&r)
            ));
        }
        if let Err(why) = check_case(&sb, &text, &policy_path, case, &r) {
            failures.push(format!(
                "{line}: {why}\n  status {}\n  stdout: {}\n  stderr: {}",
                r.status(),
                r.stdout.lines().next().unwrap_or(""),
                r.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
    // The lines of the example's rules are checked above against the file itself; here
    // they are left out, so an edit to the example does not rewrite every message.
    let mut settings = common::snapshot::settings();
    settings.add_filter(r"policy\.toml:\d+", "policy.toml:[LINE]");
    settings.bind(|| insta::assert_snapshot!("example_refusals", refusals));
}

fn check_case(
    sb: &Sandbox,
    text: &str,
    policy_path: &str,
    case: &Case,
    r: &FakeRun,
) -> Result<(), String> {
    match case.want {
        Allow => {
            if r.status() != 0 || r.ran() != Some(&format!("go {FAKE}")) {
                return Err("should have run go".into());
            }
            if r.args() != case.args {
                return Err(format!("go got {:?}", r.args()));
            }
            if !r.stderr.is_empty() {
                return Err("the shim printed something".into());
            }
        }
        Refuse(rule, shows) => {
            if r.status() != common::REFUSED {
                return Err(format!(
                    "should have been refused with status {}",
                    common::REFUSED
                ));
            }
            if !r.stdout.is_empty() {
                return Err("go ran although refused".into());
            }
            let location = rule_location(sb, text, rule);
            let chosen_by = match case.role {
                DEV => format!(
                    "role: developer, the default role ([roles] default at {policy_path}:{})",
                    line_of(text, "[roles]", "default =")
                ),
                CI => format!(
                    "role: builder, the [[binding]] at {policy_path}:{} (env GOWARDEN_TEST_ROLE=\"builder\")",
                    text.lines().count() - 2
                ),
                _ => format!(
                    "role: auditor, the [[binding]] at {policy_path}:{} (env GOWARDEN_TEST_ROLE=\"auditor\")",
                    text.lines().count() - 6
                ),
            };
            let want_rule = format!("rule: {rule} ({location})");
            for want in [shows, want_rule.as_str(), chosen_by.as_str()] {
                if !r.stderr.contains(want) {
                    return Err(format!("stderr lacks {want:?}"));
                }
            }
            if !r.stderr.starts_with("gowarden: refused ") {
                return Err("the refusal must say what was refused first".into());
            }
            if !rule.starts_with("role.") {
                let message = line_of(text, &format!("id = \"{rule}\""), "message =");
                let message = text.lines().nth(message - 1).unwrap();
                let message = message.split_once('"').unwrap().1.trim_end_matches('"');
                if !r.stderr.contains(&format!("why:  {message}")) {
                    return Err(format!("stderr lacks the rule's message {message:?}"));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn goflags_from_the_chosen_toolchains_go_env() {
    let sb = sandbox(&example_policy());
    let goroot = sb.toolchains.join(FAKE);
    fs::write(
        goroot.join("go.env"),
        "GOPROXY=https://proxy.golang.org\nGOFLAGS=-modfile=alt.mod\n",
    )
    .unwrap();
    let r = run(sb.go(&["build", "."]));
    assert_eq!(r.status(), common::REFUSED, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains(&format!(
            "`-modfile=alt.mod` from $GOFLAGS ({}:2)",
            goroot.join("go.env").display()
        )),
        "{}",
        r.stderr
    );
    // The user's go env file hides go.env's GOFLAGS, even with an empty value.
    let env_file = sb.home.join(".config/go/env");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    fs::write(&env_file, "GOFLAGS=\n").unwrap();
    let r = run(sb.go(&["build", "."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.args(), ["build", "."]);
}

/// A policy of one role `r` that refuses `go generate`, bound by `binding` (TOML keys).
fn bound_policy(binding: &str) -> String {
    format!(
        "[roles]\ndefault = \"free\"\n\n[role.free]\n\n[role.r]\n[[role.r.deny]]\nid = \"no-gen\"\n\
         command = \"generate\"\n\n[[binding]]\nrole = \"r\"\n{binding}\n"
    )
}

/// Runs `go generate` under `binding` and says whether role `r` was chosen (refused) or the
/// default (ran), checking that exactly one of the two happened.
fn bound(binding: &str, setup: impl FnOnce(&mut std::process::Command)) -> bool {
    let sb = sandbox(&bound_policy(binding));
    let mut cmd = sb.go(&["generate"]);
    setup(&mut cmd);
    let r = run(cmd);
    match r.status() {
        0 => {
            assert_eq!(r.ran(), Some(format!("go {FAKE}").as_str()));
            false
        }
        common::REFUSED => {
            assert!(r.stdout.is_empty(), "go ran although refused");
            assert!(r.stderr.contains("rule: no-gen ("), "{}", r.stderr);
            assert!(
                r.stderr.contains(&format!(
                    "role: r, the [[binding]] at {}:11",
                    sb.user_policy_path().display()
                )),
                "{}",
                r.stderr
            );
            true
        }
        s => panic!("status {s}: {}", r.stderr),
    }
}

fn me() -> (u32, u32, String, Option<String>) {
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    let user = nix::unistd::User::from_uid(uid)
        .unwrap()
        .expect("the test user has a name");
    let group = nix::unistd::Group::from_gid(gid).unwrap().map(|g| g.name);
    (uid.as_raw(), gid.as_raw(), user.name, group)
}

#[test]
fn bindings_by_user_uid_group_gid_and_env() {
    let (uid, gid, user, group) = me();
    assert!(bound(
        &format!("users = [\"nobody-such\", {user:?}]"),
        |_| {}
    ));
    assert!(!bound("users = [\"gowarden-no-such-user\"]", |_| {}));
    assert!(bound(&format!("uids = [{uid}]"), |_| {}));
    assert!(!bound(&format!("uids = [{}]", uid + 1), |_| {}));
    assert!(bound(&format!("gids = [{gid}]"), |_| {}));
    if let Some(group) = &group {
        assert!(bound(&format!("groups = [{group:?}]"), |_| {}));
    }
    assert!(!bound("groups = [\"gowarden-no-such-group\"]", |_| {}));
    // Environment: exact value, and every kind listed must hold.
    assert!(bound("env = { CI = \"true\" }", |c| {
        c.env("CI", "true");
    }));
    assert!(!bound("env = { CI = \"true\" }", |c| {
        c.env("CI", "1");
    }));
    assert!(!bound("env = { CI = \"true\" }", |_| {}));
    assert!(!bound(
        &format!("uids = [{uid}]\nenv = {{ CI = \"true\" }}"),
        |_| {}
    ));
    assert!(bound(
        &format!("uids = [{uid}]\nenv = {{ CI = \"true\" }}"),
        |c| {
            c.env("CI", "true");
        }
    ));
}

/// A group the process is in only as a supplementary group counts, by gid and by name.
#[test]
fn bindings_by_supplementary_group() {
    let (_, gid, _, _) = me();
    let root = nix::unistd::geteuid().is_root();
    // As root, give the child a supplementary group it would not otherwise have; otherwise
    // use one the test user already has.
    let extra = if root {
        (1..1000)
            .map(nix::unistd::Gid::from_raw)
            .find(|g| {
                g.as_raw() != gid && nix::unistd::Group::from_gid(*g).ok().flatten().is_some()
            })
            .expect("a named group")
    } else {
        nix::unistd::getgroups()
            .unwrap()
            .into_iter()
            .find(|g| g.as_raw() != gid)
            .expect("run as root, or as a user with a supplementary group")
    };
    let name = nix::unistd::Group::from_gid(extra).unwrap().unwrap().name;
    let with_extra = |c: &mut std::process::Command| {
        if root {
            // SAFETY: setgroups is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                c.pre_exec(move || nix::unistd::setgroups(&[extra]).map_err(std::io::Error::from));
            }
        }
    };
    assert!(bound(&format!("gids = [{}]", extra.as_raw()), with_extra));
    assert!(bound(&format!("groups = [{name:?}]"), with_extra));
    if root {
        // Without the supplementary group the same bindings do not match.
        let without = |c: &mut std::process::Command| unsafe {
            c.pre_exec(|| nix::unistd::setgroups(&[]).map_err(std::io::Error::from));
        };
        assert!(!bound(&format!("gids = [{}]", extra.as_raw()), without));
        assert!(!bound(&format!("groups = [{name:?}]"), without));
    }
}

#[test]
fn first_matching_binding_wins() {
    let (uid, _, _, _) = me();
    let policy = format!(
        "[roles]\ndefault = \"a\"\n[role.a]\n[role.b]\n[[role.b.deny]]\nid = \"b-no-gen\"\n\
         command = \"generate\"\n[role.c]\n[[role.c.deny]]\nid = \"c-no-gen\"\n\
         command = \"generate\"\n\n[[binding]]\nrole = \"c\"\nenv = {{ CI = \"true\" }}\n\n\
         [[binding]]\nrole = \"b\"\nuids = [{uid}]\n"
    );
    let sb = sandbox(&policy);
    let r = run(sb.go(&["generate"]));
    assert!(r.stderr.contains("rule: b-no-gen"), "{}", r.stderr);
    let mut cmd = sb.go(&["generate"]);
    cmd.env("CI", "true");
    let r = run(cmd);
    assert!(r.stderr.contains("rule: c-no-gen"), "{}", r.stderr);
    assert!(r.stderr.contains(":13 (env CI=\"true\")"), "{}", r.stderr);
}

#[test]
fn no_roles_means_no_filtering_and_gofmt_is_not_filtered() {
    // The sandbox's own policy has no roles: nothing is refused.
    let sb = Sandbox::new();
    sb.fake_toolchain(FAKE);
    for args in [
        &["mod", "edit", "-replace=a=b"][..],
        &["build", "-frob", "-toolexec=x"],
        &["env", "-w", "GOPROXY=off"],
    ] {
        let r = run(sb.go(args));
        assert_eq!(r.status(), 0, "{}", r.stderr);
        assert_eq!(r.args(), args);
    }
    // The embedded default policy has no roles either.
    assert!(
        gowarden::policy::load::parse(
            gowarden::policy::load::EMBEDDED_POLICY.to_string(),
            gowarden::policy::PolicyOrigin::Embedded
        )
        .unwrap()
        .policy
        .role
        .is_empty()
    );
    // The auditor runs gofmt: it is not a go command line, no rule applies.
    let sb = sandbox(&example_policy());
    let mut cmd = sb.command(sb.shims.join("gofmt"));
    cmd.args(["-w", "."]).env("GOWARDEN_TEST_ROLE", "auditor");
    let r = run(cmd);
    assert_eq!(
        r.ran(),
        Some(format!("gofmt {FAKE}").as_str()),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_roles_and_rules_are_policy_errors_with_file_and_line() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "[roles]\ndefault = \"developer\"\n[role.developer]\n\n[[binding]]\nrole = \"buidler\"\ngroups = [\"ci\"]\n",
            6,
            "[[binding]] role = \"buidler\" is not a role; defined roles: developer",
        ),
        (
            "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"same\"\ncommand = \"get\"\n\n[role.b]\n[[role.b.deny]]\nid = \"same\"\ncommand = \"run\"\n",
            10,
            "rule id \"same\" is used twice (first at",
        ),
        (
            "[roles]\ndefault = \"a\"\n[role.a]\nallow_commands = [\n  \"build\",\n  \"mod dowload\",\n]\n",
            6,
            "[role.a] allow_commands: \"mod dowload\" is not a go command",
        ),
        (
            "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"x\"\ncommand = \"mod edit\"\nflag = [\"replace\"]\n",
            7,
            "unknown field `flag`",
        ),
        (
            "[roles]\ndefault = \"a\"\n[role.a]\ndeny = [\n  { id = \"x\", command = \"mod edit\", flags = [\"replace\", \"toolexec\"] },\n]\n",
            5,
            "deny rule \"x\": -toolexec is not a flag of go mod edit",
        ),
    ];
    for (text, line, want) in cases {
        let sb = sandbox(text);
        let r = run(sb.go(&["version"]));
        assert_eq!(r.status(), common::CONFIG_ERROR, "{text}");
        assert!(r.stdout.is_empty(), "go ran with a bad policy");
        let at = format!("invalid policy {}:{line}", sb.user_policy_path().display());
        assert!(
            r.stderr.contains(&at) && r.stderr.contains(want),
            "policy:\n{text}\nwant {at} ... {want}\ngot {}",
            r.stderr
        );
    }
}

#[test]
fn which_shows_the_role_and_its_binding() {
    let text = example_policy();
    let sb = sandbox(&text);
    let policy = sb.user_policy_path().display().to_string();
    let r = run(sb.gowarden(&["which"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let default_line = line_of(&text, "[roles]", "default =");
    assert!(
        r.stdout.contains(&format!(
            "role:      developer, the default role ([roles] default at {policy}:{default_line})"
        )),
        "{}",
        r.stdout
    );
    // CI=true alone gives no other role: the example binds CI by group.
    let mut cmd = sb.gowarden(&["which", "--json"]);
    cmd.env("CI", "true");
    let v: serde_json::Value = serde_json::from_str(&run(cmd).stdout).unwrap();
    assert_eq!(v["role"]["name"], "developer");
    let mut cmd = sb.gowarden(&["which", "--json"]);
    cmd.env("GOWARDEN_TEST_ROLE", "builder");
    let r = run(cmd);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["role"]["name"], "builder");
    assert_eq!(v["role"]["chosen_by"], "binding");
    assert_eq!(v["role"]["matched"], "env GOWARDEN_TEST_ROLE=\"builder\"");
    let binding_line = text.lines().count() - 2;
    assert_eq!(v["role"]["location"], format!("{policy}:{binding_line}"));
}

#[test]
fn explain_shows_the_parse_role_and_rule_without_running_go() {
    let text = example_policy();
    let sb = sandbox(&text);
    let policy = sb.user_policy_path().display().to_string();
    let mut cmd = sb.gowarden(&[
        "explain",
        "--",
        "test",
        "./...",
        "-run",
        "X",
        "-toolexec",
        "t",
        "-args",
        "-v",
    ]);
    cmd.env("GOFLAGS", "-mod=mod");
    let r = run(cmd);
    assert_eq!(r.status(), 1, "{}", r.stderr);
    let out = &r.stdout;
    for want in [
        "go test ./... -run X -toolexec t -args -v\n",
        "GOFLAGS:     -mod=mod (from the environment)",
        "command:     test\n",
        "flag:        mod = mod  [-mod=mod: GOFLAGS]",
        "flag:        run = X  [-run: command line, forwarded]",
        "flag:        toolexec = t  [-toolexec: command line]",
        "arguments:   ./...",
        "passthrough: -v (not go's: never filtered)",
        "role:        developer, the default role",
        "decision:    refuse",
        &format!(
            "rule:        dev-no-build-tampering ({policy}:{})",
            line_of(&text, "id = \"dev-no-build-tampering\"", "id =")
        ),
        "refused:     `-toolexec t` in `go test`",
    ] {
        assert!(out.contains(want), "explain lacks {want:?}:\n{out}");
    }

    // JSON, an allowed command line: exit 0.
    let r = run(sb.gowarden(&[
        "explain", "--json", "--", "mod", "edit", "-C", "sub", "-fmt",
    ]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["rule"], serde_json::Value::Null);
    assert_eq!(v["toolchain"]["version"], FAKE);
    let inv = &v["parse"]["invocation"];
    assert_eq!(inv["command"], serde_json::json!(["mod", "edit"]));
    assert_eq!(inv["chdir"], "sub");
    assert_eq!(inv["flags"][0]["name"], "fmt");
    assert_eq!(inv["flags"][0]["origin"], "command-line");
    assert_eq!(v["role"]["name"], "developer");

    // JSON, a refused `go env -w`; the rule and what was refused.
    let r = run(sb.gowarden(&["explain", "--json", "env", "-w", "GOBIN=/x", "GOSUMDB=off"]));
    assert_eq!(r.status(), 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["decision"], "refuse");
    assert_eq!(v["rule"]["id"], "dev-protected-go-env");
    assert_eq!(v["rule"]["refused"], "`go env -w` of GOSUMDB");
    assert_eq!(
        v["parse"]["invocation"]["env_write"]["keys"],
        serde_json::json!(["GOBIN", "GOSUMDB"])
    );

    // A command line go rejects: the parse error is shown.
    let r = run(sb.gowarden(&["explain", "--", "build", "-o"]));
    assert_eq!(r.status(), 1);
    assert!(
        r.stdout
            .contains("go rejects this command line: flag needs an argument: -o"),
        "{}",
        r.stdout
    );
    // Nothing ran: explain never execs go (the fake would print "fake go").
    assert!(!r.stdout.contains("fake go"));
}

#[test]
fn explain_role_preview_needs_the_policy_or_root() {
    let text = example_policy();
    let as_other = |sb: &Sandbox, args: &[&str]| {
        let mut cmd = sb.gowarden(args);
        if nix::unistd::geteuid().is_root() {
            // Preview must be refused to an ordinary user: run as one.
            cmd.uid(65534).gid(65534);
        }
        run(cmd)
    };
    let sb = sandbox(&text);
    let args = ["explain", "--role", "auditor", "--", "build", "./..."];
    let r = as_other(&sb, &args);
    assert_eq!(r.status(), 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("--role auditor is refused")
            && r.stderr.contains("[roles] allow_preview = true"),
        "{}",
        r.stderr
    );

    let sb = sandbox(&text.replace("allow_preview = false", "allow_preview = true"));
    let r = as_other(&sb, &args);
    assert_eq!(r.status(), 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("role:        auditor, chosen with --role (preview)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("rule:        role.auditor.allow_commands"),
        "{}",
        r.stdout
    );
    let r = as_other(
        &sb,
        &[
            "explain",
            "--role=builder",
            "--json",
            "--",
            "mod",
            "download",
        ],
    );
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["role"]["name"], "builder");
    assert_eq!(v["role"]["chosen_by"], "preview");
    let r = as_other(&sb, &["explain", "--role", "admin", "--", "build"]);
    assert_eq!(r.status(), 2);
    assert!(
        r.stderr
            .contains("has no role \"admin\"; roles: auditor, builder, developer"),
        "{}",
        r.stderr
    );

    // Root may always preview: it could rewrite the policy anyway.
    if nix::unistd::geteuid().is_root() {
        let sb = sandbox(&text);
        let r = run(sb.gowarden(&args));
        assert_eq!(r.status(), 1, "{}", r.stderr);
        assert!(
            r.stdout
                .contains("role:        auditor, chosen with --role (preview)")
        );
    }
}

#[test]
fn build_output_is_checked_only_where_the_policy_asks() {
    let sb = sandbox(
        "[roles]\ndefault = \"b\"\n[role.b]\ninstall_dirs = [\"~/go/bin\"]\ncheck_build_output = true\n",
    );
    let bin = sb.home.join("go/bin");
    let out = format!("{}/tool", bin.display());
    for (args, ok) in [
        (vec!["build", "-o", out.as_str(), "."], true),
        (vec!["build", "-o", "/dev/null", "."], true),
        (vec!["build", "./..."], true),
        (vec!["build", "-o", "tool", "."], false),
        (vec!["test", "-c", "-o", "/tmp/x.test", "."], false),
    ] {
        let r = run(sb.go(&args));
        assert_eq!(r.status() == 0, ok, "go {args:?}: {}", r.stderr);
        if !ok {
            assert!(
                r.stderr.contains("rule: role.b.check_build_output ("),
                "{}",
                r.stderr
            );
            assert!(r.stdout.is_empty());
        }
    }
}

/// With a real toolchain: a refused edit leaves go.mod alone, an allowed one reaches go, and
/// the role machinery adds nothing to go's output.
#[test]
fn real_go_refused_edits_do_not_happen_and_output_is_unchanged() {
    let sb = Sandbox::new();
    let (name, root) = common::real_toolchains().remove(1);
    let policy = format!(
        "{}{}",
        sb.isolated_policy(&format!("search = [{:?}]", root.display().to_string())),
        "[roles]\ndefault = \"developer\"\n[role.developer]\n[[role.developer.deny]]\n\
         id = \"no-replace\"\ncommand = \"mod edit\"\nflags = [\"replace\"]\n"
    );
    sb.write_policy(&policy);
    sb.write_project_file(".go-version", &format!("{}\n", &name[2..]));
    let gomod = sb.write_project_file("go.mod", "module example.com/m\n\ngo 1.21\n");
    let go = |args: &[&str]| {
        let mut c = sb.go(args);
        c.env("GOPROXY", "off").env("GOFLAGS", "-mod=mod");
        run(c)
    };
    let r = go(&["mod", "edit", "-replace", "example.com/x=../x"]);
    assert_eq!(r.status(), common::REFUSED);
    assert!(r.stderr.contains("rule: no-replace ("), "{}", r.stderr);
    assert_eq!(
        fs::read_to_string(&gomod).unwrap(),
        "module example.com/m\n\ngo 1.21\n"
    );
    let r = go(&["mod", "edit", "-require=example.com/y@v1.0.0"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(
        fs::read_to_string(&gomod)
            .unwrap()
            .contains("require example.com/y v1.0.0")
    );

    let through_shim = go(&["env", "-json", "GOFLAGS", "GOPROXY", "GOVERSION"]);
    let mut direct = sb.command(root.join("bin/go"));
    direct
        .args(["env", "-json", "GOFLAGS", "GOPROXY", "GOVERSION"])
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod");
    let direct = run(direct);
    assert_eq!(through_shim.status(), 0, "{}", through_shim.stderr);
    assert_eq!(through_shim.output.stdout, direct.output.stdout);
    assert_eq!(through_shim.stderr, "");
}

#[test]
fn a_goroot_in_the_go_env_file_cannot_bring_in_another_go_env() {
    let policy = "[toolchains]\nmodule_cache = false\nversion_managers = false\npath = false\n\n\
                  [roles]\ndefault = \"dev\"\n\n[role.dev]\n\
                  [[role.dev.deny]]\nid = \"no-toolexec\"\nflags = [\"toolexec\"]\n";
    let sb = sandbox(policy);
    // go would read GOFLAGS from this tree's go.env, not the chosen toolchain's.
    let other = sb.root.join("other-goroot");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("go.env"), "GOFLAGS=-toolexec=/tmp/wrapper\n").unwrap();
    let env_file = sb.home.join(".config/go/env");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    fs::write(&env_file, format!("GOROOT={}\n", other.display())).unwrap();
    let r = run(sb.go(&["build", "./..."]));
    assert_eq!(r.status(), common::REFUSED);
    assert_eq!(r.ran(), None, "go must not run");
    assert!(
        r.stderr
            .contains(&format!("{}:1: GOROOT=", env_file.display()))
            && r.stderr.contains("go env -u GOROOT"),
        "{}",
        r.stderr
    );
    // The fix itself runs.
    let r = run(sb.go(&["env", "-u", "GOROOT"]));
    assert_eq!(r.ran(), Some(format!("go {FAKE}").as_str()), "{}", r.stderr);
    // A GOROOT naming the chosen toolchain changes nothing and is fine.
    fs::write(
        &env_file,
        format!("GOROOT={}\n", sb.toolchains.join(FAKE).display()),
    )
    .unwrap();
    assert_eq!(run(sb.go(&["build", "./..."])).status(), 0);
}

#[test]
fn a_rule_on_a_bool_value_matches_every_spelling_go_accepts() {
    let policy = "[toolchains]\nmodule_cache = false\nversion_managers = false\npath = false\n\n\
                  [roles]\ndefault = \"dev\"\n\n[role.dev]\n\
                  [[role.dev.deny]]\nid = \"no-rebuild-all\"\nflags = [\"a\"]\nvalues = [\"true\"]\n";
    let sb = sandbox(policy);
    for spelled in [
        "-a", "-a=true", "-a=T", "-a=1", "--a=TRUE", "-a=True", "-a=t",
    ] {
        let r = run(sb.go(&["build", spelled, "./..."]));
        assert_eq!(
            r.status(),
            common::REFUSED,
            "{spelled} must be refused: {}",
            r.stderr
        );
        assert!(r.stderr.contains("no-rebuild-all"), "{}", r.stderr);
    }
    let mut c = sb.go(&["build", "./..."]);
    c.env("GOFLAGS", "-a=1");
    assert_eq!(run(c).status(), common::REFUSED, "from GOFLAGS too");
    for spelled in ["-a=false", "-a=0", "-a=F"] {
        let r = run(sb.go(&["build", spelled, "./..."]));
        assert_eq!(r.status(), 0, "{spelled} turns it off: {}", r.stderr);
    }
}
