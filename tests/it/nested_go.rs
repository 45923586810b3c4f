//! Nested go calls are governed like any other call: go puts `$GOROOT/bin` first on PATH for
//! the programs it starts (and `go generate` looks there first), and the shim's GOROOT is an
//! overlay whose `bin/go` is the shim. Each nested call gets its own working directory's
//! project and toolchain, is judged by the rules and audited; nothing of the parent's
//! decision (GOTOOLCHAIN, the depth counter) counts in the programs go starts. Real toolchains.

use crate::common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use common::{Sandbox, real_toolchains, run};

const PROBE: &str = r#"package main

import (
	"fmt"
	"os"
	"os/exec"
)

func main() {
	cmd := exec.Command("go", "version")
	cmd.Dir = os.Args[1]
	out, err := cmd.CombinedOutput()
	fmt.Printf("child: %s|err=%v|GOTOOLCHAIN=%q\n", out, err, os.Getenv("GOTOOLCHAIN"))
}
"#;

fn gocache() -> PathBuf {
    real_toolchains()[0]
        .1
        .ancestors()
        .nth(3)
        .unwrap()
        .join("gocache")
}

fn go(sb: &Sandbox, dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = sb.go(args);
    c.current_dir(dir)
        .env("GOCACHE", gocache())
        .env("GOPATH", sb.home.join("go"))
        .env("GOPROXY", "off");
    c
}

fn module(sb: &Sandbox, rel: &str, version: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = sb.project.join(rel);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(".go-version"), format!("{}\n", &version[2..])).unwrap();
    fs::write(
        dir.join("go.mod"),
        format!("module example.com/{rel}\n\ngo 1.21\n"),
    )
    .unwrap();
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
    }
    dir
}

#[test]
fn a_program_go_runs_gets_the_shim_and_the_toolchain_of_its_own_project() {
    let tcs = real_toolchains();
    let (old, new) = (&tcs[0].0, &tcs[1].0);
    let sb = Sandbox::new();
    sb.write_policy(&sb.isolated_policy(&common::real_toolchains_search()));
    let p1 = module(&sb, "p1", old, &[("main.go", PROBE)]);
    let p2 = module(&sb, "p2", new, &[]);
    let r = run(go(&sb, &p1, &["run", ".", p2.to_str().unwrap()]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    // The child's `go` is the shim, which chose p2's toolchain: the real go of p1 would have
    // printed its own version (and, with p1's GOROOT, failed to build anything in p2).
    assert!(
        r.stdout.contains(&format!("child: go version {new} ")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("err=<nil>"), "{}", r.stdout);
    // GOTOOLCHAIN came from the overlay's go.env, not the environment: it does not leak.
    assert!(r.stdout.contains("GOTOOLCHAIN=\"\""), "{}", r.stdout);
    // The nested call was governed: audited with its own directory.
    let log = fs::read_to_string(sb.home.join(".local/state/gowarden/audit.jsonl")).unwrap();
    let nested = log
        .lines()
        .find(|l| l.contains("\"go version\"") && l.contains(p2.to_str().unwrap()))
        .unwrap_or_else(|| panic!("no record of the nested call in {log}"));
    assert!(nested.contains(new), "{nested}");
}

#[test]
fn a_go_generate_directive_that_runs_go_is_judged_by_the_rules() {
    let tcs = real_toolchains();
    let v = &tcs[1].0;
    let sb = Sandbox::new();
    sb.write_policy(&sb.isolated_policy(&format!(
        "{}\n[roles]\ndefault = \"dev\"\n[role.dev]\n[[role.dev.deny]]\nid = \"no-env-write\"\neffects = [\"go-env-write\"]\n",
        common::real_toolchains_search()
    )));
    let p = module(
        &sb,
        "gen",
        v,
        &[(
            "gen.go",
            "package main\n\n//go:generate go env -w GOPROXY=direct\n\nfunc main() {}\n",
        )],
    );
    let r = run(go(&sb, &p, &["generate", "."]));
    // The directive's go is the shim: refused, so go generate fails and nothing is written.
    assert_ne!(r.status(), 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("rule: no-env-write"),
        "the nested refusal is the rule's: {}",
        r.stderr
    );
    let env_file = sb.home.join(".config/go/env");
    assert!(
        !fs::read_to_string(&env_file)
            .unwrap_or_default()
            .contains("GOPROXY=direct"),
        "go env -w ran"
    );
    // Without the rule the same directive runs (and writes), as it would directly.
    sb.write_policy(&sb.isolated_policy(&common::real_toolchains_search()));
    let r = run(go(&sb, &p, &["generate", "."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(
        fs::read_to_string(&env_file)
            .unwrap()
            .contains("GOPROXY=direct")
    );
}

/// The overlay is made once and then reused as it is (a toolchain without `pkg`, like the
/// fakes, included): the second call changes nothing in it.
#[test]
fn the_overlay_is_made_once() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let r = run(sb.go(&["build", "."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let overlay = PathBuf::from(r.env("GOROOT").unwrap());
    assert!(
        overlay.starts_with(sb.home.join(".cache/gowarden/goroot")),
        "{}",
        overlay.display()
    );
    let made = fs::symlink_metadata(overlay.join("bin/go"))
        .unwrap()
        .modified()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let r = run(sb.go(&["build", "."]));
    assert_eq!(r.env("GOROOT"), Some(overlay.to_str().unwrap()));
    let again = fs::symlink_metadata(overlay.join("bin/go"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(made, again, "the overlay was made again");
    // `go env` keeps the real GOROOT: its output is go's own.
    let r = run(sb.go(&["env", "GOROOT"]));
    assert_eq!(
        r.env("GOROOT"),
        Some(sb.toolchains.join("go1.22.3").to_str().unwrap())
    );
}

/// The overlay's go.env is a copy of the toolchain's, trusted only while the original is
/// unchanged: an edit of `$GOROOT/go.env` (an admin pointing GOPROXY at the company proxy)
/// reaches the very next call, also within the same second and at the same size.
#[test]
fn an_edit_of_the_toolchains_go_env_reaches_the_next_call() {
    let sb = Sandbox::new();
    let root = sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    fs::write(root.join("go.env"), "GOPROXY=https://one.example\n").unwrap();
    let r = run(sb.go(&["build", "."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let overlay = PathBuf::from(r.env("GOROOT").unwrap());
    let copy = || fs::read_to_string(overlay.join("go.env")).unwrap();
    assert_eq!(copy(), "GOPROXY=https://one.example\nGOTOOLCHAIN=local\n");
    // Same length, written at once: only the nanosecond mtime (or the inode) tells.
    fs::write(root.join("go.env"), "GOPROXY=https://two.example\n").unwrap();
    let r = run(sb.go(&["build", "."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.env("GOROOT"), Some(overlay.to_str().unwrap()));
    assert_eq!(copy(), "GOPROXY=https://two.example\nGOTOOLCHAIN=local\n");
}
