//! The audit record tells the truth: it lists the call's effects and the inputs that carried
//! them, and `[audit] commands = "mutating"` is decided on the effective command line (GOFLAGS
//! from the go env file included), not on argv alone.

use crate::common;

use std::fs;

use common::{Sandbox, run};

fn log(sb: &Sandbox) -> String {
    fs::read_to_string(sb.home.join(".local/state/gowarden/audit.jsonl")).unwrap_or_default()
}

fn sandbox(extra: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    sb.write_project_file("go.mod", "module example.com/x\n\ngo 1.22\n");
    sb.write_policy(&sb.isolated_policy(extra));
    sb
}

const ROLE: &str =
    "[roles]\ndefault = \"dev\"\n[role.dev]\ndescription = \"effects recorded, none denied\"\n";

#[test]
fn the_record_lists_each_effect_with_the_input_that_carried_it() {
    let sb = sandbox(ROLE);
    let env_file = sb.home.join(".config/go/env");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    fs::write(&env_file, "GOCACHEPROG=/opt/cacheprog\n").unwrap();
    let mut c = sb.go(&["build", "-toolexec=/opt/t", "."]);
    c.env("CC", "/opt/cc");
    let r = run(c);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let log = log(&sb);
    assert!(log.contains("gowarden.effects"), "{log}");
    for want in [
        "build-tool: `-toolexec=/opt/t`",
        "build-tool: CC=/opt/cc (the environment)",
        &format!(
            "build-tool: GOCACHEPROG=/opt/cacheprog (the go env file {}:1)",
            env_file.display()
        ),
    ] {
        assert!(log.contains(want), "missing {want:?} in {log}");
    }
    // A call without effects carries no such attribute.
    let sb = sandbox(ROLE);
    assert_eq!(run(sb.go(&["build", "."])).status(), 0);
    assert!(!log_has_effects(&sb));
}

fn log_has_effects(sb: &Sandbox) -> bool {
    log(sb).contains("gowarden.effects")
}

#[test]
fn mutating_is_decided_on_the_effective_command_line() {
    let audit = "[audit]\ncommands = \"mutating\"\n";
    // `go list` is read-only, unless -mod=mod comes from the go env file.
    let sb = sandbox(audit);
    assert_eq!(run(sb.go(&["list", "."])).status(), 0);
    assert_eq!(log(&sb), "", "a read-only call is skipped");
    let env_file = sb.home.join(".config/go/env");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    fs::write(&env_file, "GOFLAGS=-mod=mod\n").unwrap();
    assert_eq!(run(sb.go(&["list", "."])).status(), 0);
    assert_eq!(
        log(&sb).lines().count(),
        1,
        "-mod=mod from the go env file mutates"
    );
    // gofmt writes with -w in every spelling the flag package accepts.
    for (args, writes) in [
        (&["-l", "."][..], false),
        (&["-w", "."][..], true),
        (&["-w=1", "."][..], true),
        (&["--w=true", "."][..], true),
        (&["-w=false", "."][..], false),
    ] {
        let sb = sandbox(audit);
        let mut c = sb.command(sb.shims.join("gofmt"));
        c.args(args);
        assert_eq!(run(c).status(), 0);
        let n = log(&sb).lines().count();
        assert_eq!(n, usize::from(writes), "gofmt {args:?}: {n} records");
    }
}

/// One snapshot: a go env file that is not a regular file (a FIFO answers the shim and go
/// differently) is refused, as is such a go.mod; the values judged are handed to go in its
/// environment, which go prefers to the files it would read again.
#[test]
fn a_fifo_go_env_file_or_go_mod_is_refused_and_judged_values_are_pinned() {
    let sb = sandbox(ROLE);
    let env_file = sb.home.join(".config/go/env");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    nix::unistd::mkfifo(&env_file, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let r = run(sb.go(&["build", "."]));
    assert_eq!(r.status(), common::CONFIG_ERROR, "{}", r.stderr);
    assert!(r.ran().is_none(), "go must not run");
    assert!(
        r.stderr.contains(&format!(
            "{}: the go env file is not a regular file",
            env_file.display()
        )),
        "{}",
        r.stderr
    );
    fs::remove_file(&env_file).unwrap();

    let sb2 = sandbox(ROLE);
    let gomod = sb2.project.join("go.mod");
    fs::remove_file(&gomod).unwrap();
    nix::unistd::mkfifo(&gomod, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let r = run(sb2.go(&["build", "."]));
    assert_eq!(r.status(), common::CONFIG_ERROR, "{}", r.stderr);
    assert!(
        r.stderr.contains("go.mod: not a regular file"),
        "{}",
        r.stderr
    );
    fs::remove_file(&gomod).unwrap();

    // A regular file: what was judged is what go gets, in its environment.
    fs::write(&env_file, "GOFLAGS=-trimpath\nGOPRIVATE=corp.example/*\n").unwrap();
    let r = run(sb.go(&["build", "."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.env("GOFLAGS"), Some("-trimpath"));
    assert_eq!(r.env("GOPRIVATE"), Some("corp.example/*"));
    // Unset list keys get a value go reads as unset, so a line added later cannot count.
    assert_eq!(r.env("GONOSUMDB"), Some("corp.example/*"));
    assert_eq!(r.env("GOINSECURE"), Some(","));
    // go env is go's own: nothing pinned.
    let r = run(sb.go(&["env", "GOFLAGS"]));
    assert_eq!(r.env("GOINSECURE"), None);
}

/// `GOTOOLCHAIN_INTERNAL_SWITCH_VERSION` names a version like GOWARDEN_GO_VERSION: under
/// `allow_env_override = false` it chooses nothing and does not reach go.
#[test]
fn the_switch_handshake_is_a_caller_override_where_overrides_are_off() {
    let sb = sandbox("[resolve]\nallow_env_override = false\n");
    sb.fake_toolchain("go1.22.7");
    let mut c = sb.go(&["version"]);
    c.env("GOTOOLCHAIN_INTERNAL_SWITCH_VERSION", "go1.22.7")
        .env("GOTOOLCHAIN_INTERNAL_SWITCH_COUNT", "1");
    let r = run(c);
    assert_eq!(r.ran(), Some("go go1.22.3"), "{}", r.stderr);
    assert_eq!(r.env("GOTOOLCHAIN_INTERNAL_SWITCH_VERSION"), None);
    assert_eq!(r.env("GOTOOLCHAIN_INTERNAL_SWITCH_COUNT"), None);
}

/// `gowarden explain` judges what go gets through the shim ([env] included), so it cannot
/// say "refuse" for what the shim runs: here [env] enforces GOFLAGS over the caller's
/// `-toolexec`, the shim runs go without it, and explain agrees.
#[test]
fn explain_and_the_shim_agree_under_env() {
    let sb = sandbox(
        "[env]\nenforce = { GOFLAGS = \"-mod=readonly\" }\n[roles]\ndefault = \"dev\"\n[role.dev]\n\
         [[role.dev.deny]]\nid = \"no-toolexec\"\nflags = [\"toolexec\"]\n",
    );
    let mut c = sb.go(&["build", "."]);
    c.env("GOFLAGS", "-toolexec=/opt/t");
    let r = run(c);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.env("GOFLAGS"), Some("-mod=readonly"));
    let mut c = sb.gowarden(&["explain", "--", "build", "."]);
    c.env("GOFLAGS", "-toolexec=/opt/t");
    let e = run(c);
    assert_eq!(
        e.status(),
        0,
        "explain must allow what the shim runs: {}{}",
        e.stdout,
        e.stderr
    );
    // And where the shim refuses, so does explain.
    let sb = sandbox(ROLE_DENYING_TOOLEXEC);
    let mut c = sb.go(&["build", "."]);
    c.env("GOFLAGS", "-toolexec=/opt/t");
    assert_eq!(run(c).status(), common::REFUSED);
    let mut c = sb.gowarden(&["explain", "--", "build", "."]);
    c.env("GOFLAGS", "-toolexec=/opt/t");
    assert_ne!(run(c).status(), 0);
}

const ROLE_DENYING_TOOLEXEC: &str = "[roles]\ndefault = \"dev\"\n[role.dev]\n[[role.dev.deny]]\nid = \"no-tool\"\neffects = [\"build-tool\"]\n";
