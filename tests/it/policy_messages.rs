//! Messages of the policy and the shim: every fix gowarden prints is one the same policy lets
//! the caller run (checked by running it), and errors say what, where, why and the fix.
//!
//! The fix tests run the real toolchains under the roles and `[env]` of
//! `policies/examples/enterprise.toml` as shipped (its matrix holds releases newer than the
//! test toolchains, so its `[toolchains]` and matrix are replaced by ones finding them).

use crate::common;

use std::fs;
use std::path::PathBuf;

use common::{REFUSED, Sandbox, real_toolchains, run};

fn example_roles_and_env() -> String {
    let text = fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/examples/enterprise.toml"),
    )
    .unwrap();
    let start = text.find("\n[roles]\n").expect("the example has [roles]");
    // Up to its [audit] table, which pins the shared /var/log layout: these tests read the
    // sandbox's own log, and must never write the machine's.
    let end = text.find("\n[audit]\n").expect("the example has [audit]");
    text[start..end].to_string()
}

/// A sandbox with the example's roles and `[env]`, the real toolchains, a project on go1.22.12.
fn sandbox(extra: &str) -> Sandbox {
    let sb = Sandbox::new();
    real_toolchains();
    sb.write_policy(&format!(
        "{}{}{extra}",
        sb.isolated_policy(&common::real_toolchains_search()),
        example_roles_and_env()
    ));
    sb.write_project_file(".go-version", "1.22.12\n");
    sb
}

fn policy_line(sb: &Sandbox, needle: &str) -> String {
    let text = fs::read_to_string(sb.user_policy_path()).unwrap();
    format!(
        "{}:{}",
        sb.user_policy_path().display(),
        common::line_containing(&text, needle)
    )
}

fn env_file(sb: &Sandbox) -> PathBuf {
    sb.home.join(".config/go/env")
}

/// The command in the first "run `…`" of a message.
fn printed_fix(message: &str) -> Vec<String> {
    let rest = message
        .split("run `")
        .nth(1)
        .unwrap_or_else(|| panic!("no \"run `\" in {message}"));
    let cmd = &rest[..rest.find('`').unwrap()];
    cmd.split_whitespace().map(str::to_string).collect()
}

/// Runs a printed fix as the user would: `go …` through the shim, `gowarden …` itself.
fn run_fix(sb: &Sandbox, fix: &[String]) -> common::FakeRun {
    let args: Vec<&str> = fix[1..].iter().map(String::as_str).collect();
    match fix[0].as_str() {
        "go" => run(sb.go(&args)),
        "gowarden" => run(sb.gowarden(&args)),
        other => panic!("a fix that is neither go nor gowarden: {other}"),
    }
}

#[test]
fn a_forbidden_key_in_the_go_env_file_is_refused_with_a_fix_the_developer_may_run() {
    let sb = sandbox("");
    let file = env_file(&sb);
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, "GONOSUMDB=corp.example/*\n").unwrap();
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), REFUSED);
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: GONOSUMDB=corp.example/*, set in the go env file {}:1, is forbidden by \
             the policy ({}), which refuses to run go with it ([env] on_conflict = \"refuse\"); \
             fix: run `gowarden drift --fix`, which removes GONOSUMDB from the go env file \
             (your role may not run `go env -u GONOSUMDB`)\n",
            file.display(),
            policy_line(&sb, "forbid = [")
        )
    );
    // What it used to advise is indeed refused for the developer.
    let r = run(sb.go(&["env", "-u", "GONOSUMDB"]));
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(
        r.stderr.contains("rule: dev-protected-go-env"),
        "{}",
        r.stderr
    );

    // drift's fix for the same finding is the one the role may run.
    let r = run(sb.gowarden(&["drift", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let fixes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["key"] == "GONOSUMDB")
        .map(|f| f["fix"].as_str().unwrap())
        .collect();
    assert_eq!(fixes, ["run `gowarden drift --fix`"]);

    let fix = printed_fix(fixes[0]);
    assert_eq!(fix, ["gowarden", "drift", "--fix"]);
    let done = run_fix(&sb, &fix);
    assert!(done.stdout.contains("GONOSUMDB"), "{}", done.stdout);
    let r = run(sb.go(&["version"]));
    assert_eq!(
        (r.status(), r.stdout.as_str(), r.stderr.as_str()),
        (
            0,
            format!("go version go1.22.12 linux/{}\n", common::go_arch()).as_str(),
            ""
        )
    );
}

#[test]
fn a_changed_enforced_value_does_not_break_go_after_drift_fix() {
    let sb = sandbox("");
    let r = run(sb.gowarden(&["drift", "--fix"]));
    assert!(
        r.status() == 0 || r.status() == 1,
        "{}{}",
        r.stdout,
        r.stderr
    );
    let written = fs::read_to_string(env_file(&sb)).unwrap();
    assert!(
        written.contains("GOPROXY=https://proxy.golang.org\n"),
        "{written}"
    );
    // The platform team moves the proxy: the go env file still holds the old value.
    let text = fs::read_to_string(sb.user_policy_path()).unwrap();
    sb.write_policy(&text.replace(
        "GOPROXY = \"https://proxy.golang.org\"",
        "GOPROXY = \"https://proxy.corp.example\"",
    ));
    let r = run(sb.go(&["env", "GOPROXY"]));
    assert_eq!(
        (r.status(), r.stdout.as_str(), r.stderr.as_str()),
        (0, "https://proxy.corp.example\n", "")
    );
    // drift still reports the file for calls that bypass the shim, with a fix anyone may run.
    let r = run(sb.gowarden(&["drift", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let proxy: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["key"] == "GOPROXY")
        .collect();
    assert_eq!(proxy.len(), 1, "{v:#}");
    assert_eq!(proxy[0]["actual"], "https://proxy.golang.org");
    assert!(
        proxy[0]["fix"]
            .as_str()
            .unwrap()
            .starts_with("run `gowarden drift --fix`"),
        "{}",
        proxy[0]
    );
    let fix = printed_fix(proxy[0]["fix"].as_str().unwrap());
    run_fix(&sb, &fix);
    let r = run(sb.gowarden(&["drift"]));
    assert!(!r.stdout.contains("GOPROXY"), "{}", r.stdout);

    // A conflicting value in this call's environment is refused: its fix needs no go command.
    let mut c = sb.go(&["version"]);
    c.env("GOFLAGS", "-mod=mod");
    let r = run(c);
    assert_eq!(r.status(), REFUSED);
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: GOFLAGS=-mod=mod, set in the environment, conflicts with the policy, \
             which enforces GOFLAGS=-mod=readonly ({}) and refuses other values ([env] \
             on_conflict = \"refuse\"); fix: unset GOFLAGS in the environment (e.g. your shell \
             profile)\n",
            policy_line(&sb, "enforce = {")
        )
    );
}

#[test]
fn a_goroot_in_the_go_env_file_gets_the_fix_each_role_may_run() {
    let uid = String::from_utf8(
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for builder in [false, true] {
        let extra = if builder {
            format!(
                "\n[[binding]]\nrole = \"builder\"\nuids = [{}]\n",
                uid.trim()
            )
        } else {
            String::new()
        };
        let sb = sandbox(&extra);
        let file = env_file(&sb);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, "GOROOT=/opt/elsewhere\n").unwrap();
        let r = run(sb.go(&["version"]));
        assert_eq!(r.status(), REFUSED);
        let fix = if builder {
            format!(
                "delete line 1 (GOROOT=…) from {} (your role may not run `go env -u GOROOT`)",
                file.display()
            )
        } else {
            "run `go env -u GOROOT`".to_string()
        };
        let goroot = &real_toolchains()[0].1;
        assert_eq!(
            r.stderr,
            format!(
                "gowarden: {}:1: GOROOT=/opt/elsewhere in the go env file would make go read \
                 that tree's go.env instead of the chosen toolchain's ({}), past the policy's \
                 rules; gowarden chooses the toolchain: {fix}\n",
                file.display(),
                goroot.display()
            ),
            "builder: {builder}"
        );
        if builder {
            // The edit it names, then go runs.
            fs::write(&file, "").unwrap();
        } else {
            let done = run_fix(&sb, &printed_fix(&r.stderr));
            assert_eq!(done.status(), 0, "{}", done.stderr);
        }
        let r = run(sb.go(&["version"]));
        assert_eq!(r.status(), 0, "builder: {builder}: {}", r.stderr);
    }
}

#[test]
fn a_user_policy_that_cannot_be_used_says_what_it_is_and_the_fix_for_where_it_was_named() {
    let sb = Sandbox::new();
    // A directory named by GOWARDEN_POLICY.
    let mut c = sb.go(&["version"]);
    c.env("GOWARDEN_POLICY", "/tmp");
    let r = run(c);
    assert_eq!(
        (r.status(), r.stderr.as_str()),
        (
            common::CONFIG_ERROR,
            "gowarden: refusing policy /tmp (from $GOWARDEN_POLICY): it is a directory, not a \
             policy file; point $GOWARDEN_POLICY at a policy file or unset it\n"
        )
    );
    assert_eq!(r.stdout, "");

    // The user config policy: a dangling link is an error naming the link and its target,
    // never a silent fall-back to the default.
    let user = sb.home.join(".config/gowarden/policy.toml");
    fs::create_dir_all(user.parent().unwrap()).unwrap();
    let target = sb.root.join("moved-away.toml");
    std::os::unix::fs::symlink(&target, &user).unwrap();
    let mut c = sb.go(&["version"]);
    c.env_remove("GOWARDEN_POLICY");
    let r = run(c);
    let fix = format!(
        "fix {} or remove it (then the embedded default policy applies)",
        user.display()
    );
    assert_eq!(
        (r.status(), r.stderr.clone()),
        (
            common::CONFIG_ERROR,
            format!(
                "gowarden: cannot open policy {} (user policy): it is a symbolic link to {}, \
                 which does not exist; {fix}\n",
                user.display(),
                target.display()
            )
        )
    );
    let mut c = sb.gowarden(&["doctor"]);
    c.env_remove("GOWARDEN_POLICY");
    let r = run(c);
    assert_ne!(r.status(), 0, "doctor: {}", r.stdout);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("it is a symbolic link to"), "{all}");

    // Unreadable: no word of a variable that is not set. Root reads anything, so as root the
    // check runs as nobody (the sandbox dirs are world-searchable).
    fs::remove_file(&user).unwrap();
    fs::write(&user, "[policy]\nname = \"mine\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    let root = nix::unistd::getuid().is_root();
    let mode = if root { 0o600 } else { 0o000 };
    fs::set_permissions(&user, fs::Permissions::from_mode(mode)).unwrap();
    for d in [
        sb.home.clone(),
        sb.home.join(".config"),
        user.parent().unwrap().to_path_buf(),
    ] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut c = if root {
        let mut c = sb.command("setpriv");
        c.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(common::BIN);
        c
    } else {
        sb.command(common::BIN)
    };
    c.arg("which").env_remove("GOWARDEN_POLICY");
    let r = run(c);
    assert_eq!(
        (r.status(), r.stderr),
        (
            1, // `gowarden which`: go would be refused here (docs/cli.md)
            format!(
                "gowarden: cannot open policy {} (user policy): Permission denied (os error 13); \
                 {fix}\n",
                user.display()
            )
        )
    );
}

#[test]
fn a_refusal_prints_a_proxy_password_as_the_audit_log_records_it_redacted() {
    let sb = sandbox("");
    let mut c = sb.go(&["version"]);
    c.env("GOPROXY", "https://alice:s3cret@proxy.corp.example/go");
    let r = run(c);
    assert_eq!(r.status(), REFUSED);
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: GOPROXY=https://REDACTED@proxy.corp.example/go, set in the environment, \
             conflicts with the policy, which enforces GOPROXY=https://proxy.golang.org ({}) \
             and refuses other values ([env] on_conflict = \"refuse\"); fix: unset GOPROXY in \
             the environment (e.g. your shell profile)\n",
            policy_line(&sb, "enforce = {")
        )
    );
    let log = fs::read_to_string(sb.home.join(".local/state/gowarden/audit.jsonl")).unwrap();
    assert!(log.contains("gowarden.rule"), "{log}");
    assert!(!log.contains("s3cret"), "{log}");
    // The CLI shows the same refusal, and drift the same value, redacted alike.
    for args in [&["which"][..], &["drift"], &["drift", "--json"]] {
        let mut c = sb.gowarden(args);
        c.env("GOPROXY", "https://alice:s3cret@proxy.corp.example/go");
        let r = run(c);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(
            all.contains("https://REDACTED@proxy.corp.example/go"),
            "{args:?}: {all}"
        );
        assert!(!all.contains("s3cret"), "{args:?}: {all}");
    }
}

/// A password in the GOPROXY the policy enforces is shown redacted by `which`, text and JSON
/// alike (the JSON ends up in CI logs as surely as the text).
#[test]
fn which_shows_an_enforced_proxy_password_redacted_in_text_and_json() {
    let sb = sandbox("");
    let policy = fs::read_to_string(sb.user_policy_path()).unwrap();
    let with_password = policy.replace(
        "GOPROXY = \"https://proxy.golang.org\"",
        "GOPROXY = \"https://ci:s3cret@proxy.corp.example/go\"",
    );
    assert_ne!(with_password, policy, "the example enforces GOPROXY");
    sb.write_policy(&with_password);
    for args in [&["which"][..], &["which", "--json"]] {
        let r = run(sb.gowarden(args));
        assert_eq!(r.status(), 0, "{args:?}: {}", r.stderr);
        assert!(
            r.stdout.contains("https://REDACTED@proxy.corp.example/go"),
            "{args:?}: {}",
            r.stdout
        );
        assert!(!r.stdout.contains("s3cret"), "{args:?}: {}", r.stdout);
    }
    // And a password in a `go env -w` that explain judges, as the audit log records it.
    let write = "GOPROXY=https://ci:s3cret@proxy.corp.example/go";
    for args in [
        &["explain", "env", "-w", write][..],
        &["explain", "--json", "env", "-w", write],
    ] {
        let r = run(sb.gowarden(args));
        assert!(
            r.stdout.contains("https://REDACTED@proxy.corp.example/go"),
            "{args:?}: {}{}",
            r.stdout,
            r.stderr
        );
        assert!(!r.stdout.contains("s3cret"), "{args:?}: {}", r.stdout);
    }
}

#[test]
fn a_callers_gotoolchain_version_is_overridden_with_a_word_on_what_to_use() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.23.4");
    let gv = sb.write_project_file(".go-version", "1.22.3\n");
    let go = |gotoolchain: &str| {
        let mut c = sb.go(&["build"]);
        c.env("GOTOOLCHAIN", gotoolchain);
        run(c)
    };
    let r = go("go1.23.4");
    assert_eq!(r.ran(), Some("go go1.22.3"));
    assert_eq!(r.env("GOTOOLCHAIN"), Some("local"));
    let policy = format!(
        "{} (from $GOWARDEN_POLICY)",
        sb.user_policy_path().display()
    );
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: warning: GOTOOLCHAIN=go1.23.4 in the environment is not used: gowarden \
             runs go1.22.3 (chosen by {}:1) with GOTOOLCHAIN=local ([toolchains] gotoolchain, \
             policy {policy}); to choose the version, write 1.23.4 in a .go-version file at the \
             project root, or set GOWARDEN_GO_VERSION=1.23.4 for one command\n",
            gv.display()
        )
    );
    // The fix it names works.
    let mut c = sb.go(&["build"]);
    c.env("GOWARDEN_GO_VERSION", "1.23.4");
    assert_eq!(run(c).ran(), Some("go go1.23.4"));
    // Not a version, or the version that runs anyway: nothing to say.
    for quiet in ["local", "auto", "go1.22.3", "go1.22.3+auto"] {
        let r = go(quiet);
        assert_eq!(
            (r.ran(), r.stderr.as_str()),
            (Some("go go1.22.3"), ""),
            "{quiet}"
        );
    }
    // Where the policy lets no environment choose, only the file is offered.
    sb.write_policy(&sb.isolated_policy("[resolve]\nallow_env_override = false\n"));
    let r = go("go1.23.4+auto");
    assert!(
        r.stderr.ends_with(
            "to choose the version, write 1.23.4 in a .go-version file at the project root\n"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn a_byte_order_mark_at_the_start_of_a_version_file_is_accepted() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.23.4");
    sb.write_project_file(".go-version", "\u{feff}1.22.3\n");
    let r = run(sb.go(&["build"]));
    assert_eq!((r.ran(), r.stderr.as_str()), (Some("go go1.22.3"), ""));
    // In .tool-versions the mark used to hide the golang line: the newest release ran.
    fs::remove_file(sb.project.join(".go-version")).unwrap();
    sb.write_project_file(".tool-versions", "\u{feff}golang 1.22.3\n");
    let r = run(sb.go(&["build"]));
    assert_eq!((r.ran(), r.stderr.as_str()), (Some("go go1.22.3"), ""));
    // A policy with one loads too (the TOML reader accepts it).
    let policy = sb.root.join("bom.toml");
    fs::write(&policy, "\u{feff}[policy]\nname = \"bom\"\n").unwrap();
    let r = run(sb.gowarden(&["policy", "check", policy.to_str().unwrap()]));
    assert_eq!(
        (r.status(), r.stdout),
        (
            0,
            format!("{}: ok (0 tiers, 0 blocked releases)\n", policy.display())
        )
    );
}
