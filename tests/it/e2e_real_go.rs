//! End-to-end: real Go toolchains (fetched by scripts/fetch-go-toolchains.sh) through the
//! shim. What a developer sees must be what the toolchain alone would show.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Sandbox, real_toolchains, run};

/// A sandbox whose policy finds only the two real toolchains, with a build cache shared
/// between tests (outside the repo) so the standard library is compiled once, not per test.
fn real_sandbox() -> (Sandbox, Vec<(String, PathBuf)>) {
    let sb = Sandbox::new();
    sb.write_policy(&sb.isolated_policy(&common::real_toolchains_search()));
    (sb, real_toolchains())
}

fn gocache() -> PathBuf {
    let root = real_toolchains()[0].1.clone();
    // .../modcache/golang.org/toolchain@… → the cache dir the fetch script made.
    root.ancestors().nth(3).unwrap().join("gocache")
}

fn with_go_env(mut c: Command, sb: &Sandbox) -> Command {
    c.env("GOCACHE", gocache())
        .env("GOPATH", sb.home.join("go"))
        .env("GOFLAGS", "-modcacherw")
        .env("GOPROXY", "off");
    c
}

fn write_module(dir: &Path, go_version: &str, main_go: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(".go-version"), format!("{go_version}\n")).unwrap();
    std::fs::write(dir.join("go.mod"), "module example.com/hello\n\ngo 1.21\n").unwrap();
    std::fs::write(dir.join("main.go"), main_go).unwrap();
}

const HELLO: &str =
    "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from gowarden\") }\n";

#[test]
fn go_version_and_build_through_the_shim_use_the_requested_real_toolchain() {
    let (sb, tcs) = real_sandbox();
    for (name, _) in &tcs {
        let dir = sb.project.join(name);
        write_module(&dir, name.trim_start_matches("go"), HELLO);
        let mut c = with_go_env(sb.go(&["version"]), &sb);
        c.current_dir(&dir);
        let r = run(c);
        assert_eq!(r.status(), 0, "{}", r.stderr);
        assert!(
            r.stdout.starts_with(&format!("go version {name} ")),
            "{name}: {}",
            r.stdout
        );
        let mut c = with_go_env(sb.go(&["build", "-o", "hello", "."]), &sb);
        c.current_dir(&dir);
        let r = run(c);
        assert_eq!(r.status(), 0, "go build: {}", r.stderr);
        let out = Command::new(dir.join("hello")).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello from gowarden\n"
        );
        // The binary records the toolchain that built it.
        let mut c = with_go_env(sb.go(&["version", "hello"]), &sb);
        c.current_dir(&dir);
        assert!(run(c).stdout.contains(&format!(": {name}")));
    }
}

#[test]
fn go_env_json_is_byte_identical_to_the_direct_call() {
    let (sb, tcs) = real_sandbox();
    for (name, root) in &tcs {
        let dir = sb.project.join(name);
        write_module(&dir, name.trim_start_matches("go"), HELLO);
        let mut shim = with_go_env(sb.go(&["env", "-json"]), &sb);
        shim.current_dir(&dir);
        let through = shim.output().unwrap();
        // The direct call gets the same environment, plus the one value the policy enforces.
        let mut direct = with_go_env(sb.command(root.join("bin/go")), &sb);
        direct
            .args(["env", "-json"])
            .current_dir(&dir)
            .env("GOTOOLCHAIN", "local");
        let direct = direct.output().unwrap();
        assert!(through.status.success() && direct.status.success());
        // GOGCCFLAGS holds a fresh random temp dir name on every go run, direct or not; that
        // number is the only byte allowed to differ.
        assert_eq!(
            without_go_build_number(&through.stdout),
            without_go_build_number(&direct.stdout),
            "{name}: go env -json differs"
        );
        assert_eq!(through.stderr, direct.stderr);
        assert!(
            String::from_utf8_lossy(&through.stdout)
                .contains(&format!("\"GOVERSION\": \"{name}\""))
        );
    }
}

/// Replaces the digits of `/tmp/go-buildNNN` with `N`.
fn without_go_build_number(out: &[u8]) -> String {
    let text = String::from_utf8(out.to_vec()).expect("go env -json is UTF-8");
    let mut result = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("go-build") {
        result.push_str(&rest[..i + "go-build".len()]);
        rest = rest[i + "go-build".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        result.push('N');
    }
    result.push_str(rest);
    result
}

#[test]
fn failing_vet_and_build_exit_codes_and_output_pass_through_unchanged() {
    let (sb, tcs) = real_sandbox();
    let (name, root) = &tcs[0];
    let dir = sb.project.join("broken");
    write_module(
        &dir,
        name.trim_start_matches("go"),
        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Printf(\"%d\\n\", \"not a number\") }\n",
    );
    for args in [&["vet", "."][..], &["build", "-o", "/dev/null"][..]] {
        let mut shim = with_go_env(sb.go(args), &sb);
        shim.current_dir(&dir);
        let through = shim.output().unwrap();
        let mut direct = with_go_env(sb.command(root.join("bin/go")), &sb);
        direct
            .args(args)
            .current_dir(&dir)
            .env("GOTOOLCHAIN", "local");
        let direct = direct.output().unwrap();
        assert_eq!(through.status.code(), direct.status.code(), "{args:?}");
        assert_eq!(through.stdout, direct.stdout, "{args:?}");
        assert_eq!(through.stderr, direct.stderr, "{args:?}");
        if args[0] == "vet" {
            assert_eq!(
                through.status.code(),
                Some(1),
                "vet must fail on the Printf bug"
            );
        }
    }
    // A compile error, not only a vet finding.
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nfunc main() { undefined() }\n",
    )
    .unwrap();
    let mut shim = with_go_env(sb.go(&["build", "-o", "/dev/null", "."]), &sb);
    shim.current_dir(&dir);
    let r = run(shim);
    assert_eq!(r.status(), 1);
    assert!(r.stderr.contains("undefined: undefined"), "{}", r.stderr);
}

#[test]
fn the_shim_process_becomes_go_so_signals_reach_it_directly() {
    let (sb, tcs) = real_sandbox();
    let (name, root) = &tcs[1];
    let dir = sb.project.join("sleeper");
    write_module(
        &dir,
        name.trim_start_matches("go"),
        "package main\n\nimport \"time\"\n\nfunc main() { time.Sleep(time.Minute) }\n",
    );
    let mut c = with_go_env(sb.go(&["run", "."]), &sb);
    c.current_dir(&dir);
    let mut child = c.spawn().unwrap();
    let pid = child.id();
    // exec, not spawn: the pid we started is the real go itself.
    let exe = Path::new("/proc").join(pid.to_string()).join("exe");
    let mut seen = None;
    for _ in 0..100 {
        if let Ok(p) = std::fs::read_link(&exe) {
            seen = Some(p.clone());
            if p == root.join("bin/go") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(seen.as_deref(), Some(root.join("bin/go").as_path()));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
}
