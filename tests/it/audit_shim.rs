//! The shim's audit trail: one chained record per go call, allowed or refused, written before
//! go runs; verified, tailed and exported by `gowarden audit`.

use crate::common;

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{Sandbox, run};
use gowarden::audit::{LoggedRecord, attr};

fn log_path(sb: &Sandbox) -> PathBuf {
    sb.home.join(".local/state/gowarden/audit.jsonl")
}

fn records(path: &Path) -> Vec<LoggedRecord> {
    fs::read(path)
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| LoggedRecord::parse(l).unwrap())
        .collect()
}

/// A toolchain whose go is /bin/true: fast enough for hundreds of calls.
fn fast_toolchain(sb: &Sandbox) {
    let root = sb.toolchains.join("go1.22.3");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::write(root.join("VERSION"), "go1.22.3\n").unwrap();
    fs::copy("/bin/true", root.join("bin/go")).unwrap();
    sb.write_project_file(".go-version", "1.22.3\n");
}

#[test]
fn every_call_leaves_one_record_with_the_facts_of_the_decision() {
    let sb = Sandbox::new();
    let root = sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let mut c = sb.go(&["build", "./..."]);
    c.env("GOROOT", "/stale/goroot");
    assert_eq!(run(c).status(), 0);
    let recs = records(&log_path(&sb));
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.seq, 1);
    assert_eq!(r.body, "go build ./...");
    assert_eq!(r.str_attr(attr::GOWARDEN_DECISION), Some("allow"));
    assert_eq!(r.str_attr(attr::GO_VERSION), Some("go1.22.3"));
    assert!(
        r.str_attr(attr::GO_VERSION_SOURCE)
            .unwrap()
            .contains(".go-version:1")
    );
    assert_eq!(
        r.str_attr(attr::PROCESS_EXECUTABLE_PATH),
        Some(root.join("bin/go").to_str().unwrap())
    );
    assert_eq!(
        r.str_attr(attr::PROCESS_WORKING_DIRECTORY),
        Some(sb.project.to_str().unwrap())
    );
    assert_eq!(
        r.str_attr(attr::USER_ID),
        Some(nix::unistd::getuid().as_raw().to_string().as_str())
    );
    assert!(r.str_attr(attr::USER_NAME).is_some() && r.str_attr(attr::HOST_NAME).is_some());
    assert!(
        r.int_attr(attr::PROCESS_PID).is_some() && r.int_attr(attr::PROCESS_PARENT_PID).is_some()
    );
    // The stale GOROOT the shim replaced, from → to.
    assert_eq!(
        r.str_attr("gowarden.env_override.from.GOROOT"),
        Some("/stale/goroot")
    );
    // To the overlay of the chosen toolchain (src/shim/overlay.rs), which carries
    // GOTOOLCHAIN=local in its go.env: the environment does not.
    let to = r.str_attr("gowarden.env_override.to.GOROOT").unwrap();
    assert_eq!(
        std::fs::read_link(std::path::Path::new(to).join("VERSION")).unwrap(),
        root.join("VERSION")
    );
    assert_eq!(r.str_attr("gowarden.env_override.to.GOTOOLCHAIN"), None);
}

#[test]
fn refusals_are_recorded_too() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.21.5");
    sb.write_project_file(".go-version", "1.22.10\n");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    let recs = records(&log_path(&sb));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].str_attr(attr::GOWARDEN_DECISION), Some("deny"));
    assert_eq!(
        recs[0].str_attr(attr::GOWARDEN_RULE),
        Some("toolchain-not-installed")
    );
    assert_eq!(recs[0].severity_text, "WARN");
}

#[test]
fn concurrent_shims_leave_a_complete_contiguous_chain() {
    let sb = Sandbox::new();
    fast_toolchain(&sb);
    let procs = 8;
    let calls = 200;
    let script = format!(
        "for i in $(seq {calls}); do {} version || exit 1; done",
        sb.shims.join("go").display()
    );
    let children: Vec<_> = (0..procs)
        .map(|_| {
            let mut c = sb.command("/bin/sh");
            c.args(["-c", &script]);
            c.spawn().unwrap()
        })
        .collect();
    for mut ch in children {
        assert!(ch.wait().unwrap().success());
    }
    let recs = records(&log_path(&sb));
    assert_eq!(recs.len(), procs * calls);
    let seqs: Vec<u64> = recs.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=(procs * calls) as u64).collect::<Vec<_>>());
    let v = run(sb.gowarden(&["audit", "verify"]));
    assert_eq!(v.status(), 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout
            .contains(&format!("intact: {} records", procs * calls)),
        "{}",
        v.stdout
    );
}

/// Writes `n` records through the shim and returns the log's lines.
fn log_with(sb: &Sandbox, n: usize) -> Vec<Vec<u8>> {
    for _ in 0..n {
        assert_eq!(run(sb.go(&["version"])).status(), 0);
    }
    fs::read(log_path(sb))
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    fs::write(path, out).unwrap();
}

#[test]
fn tampering_is_detected_at_the_right_line() {
    let sb = Sandbox::new();
    fast_toolchain(&sb);
    let path = log_path(&sb);
    let lines = log_with(&sb, 6);
    let verify = || run(sb.gowarden(&["audit", "verify"]));
    assert_eq!(verify().status(), 0);

    // Edited: flip a byte in line 3's body; line 4's prev hash no longer matches it.
    let mut edited = lines.clone();
    let pos = edited[2].windows(7).position(|w| w == b"version").unwrap();
    edited[2][pos] = b'V';
    write_lines(&path, &edited);
    let r = verify();
    assert_eq!(r.status(), 1);
    assert!(
        r.stdout.contains(&format!("{}:3:", path.display())) && r.stdout.contains("edited"),
        "{}",
        r.stdout
    );

    // Deleted: line 3 gone; the gap shows at the line that now follows line 2.
    let mut deleted = lines.clone();
    deleted.remove(2);
    write_lines(&path, &deleted);
    let r = verify();
    assert_eq!(r.status(), 1);
    assert!(
        r.stdout.contains(&format!("{}:3:", path.display())) && r.stdout.contains("deleted"),
        "{}",
        r.stdout
    );

    // Reordered: lines 4 and 5 swapped.
    let mut reordered = lines.clone();
    reordered.swap(3, 4);
    write_lines(&path, &reordered);
    let r = verify();
    assert_eq!(r.status(), 1);
    assert!(
        r.stdout.contains(&format!("{}:4:", path.display())),
        "{}",
        r.stdout
    );

    // Truncated: the last line cut short.
    let mut truncated = lines.clone();
    let last = truncated.len() - 1;
    truncated[last].truncate(40);
    let mut bytes = Vec::new();
    for l in &truncated {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    bytes.pop();
    fs::write(&path, bytes).unwrap();
    let r = verify();
    assert_eq!(r.status(), 1);
    assert!(
        r.stdout.contains(&format!("{}:6:", path.display())),
        "{}",
        r.stdout
    );

    // And an unreadable log is exit 2.
    let r = run(sb.gowarden(&["audit", "verify", "/nonexistent/audit.jsonl"]));
    assert_eq!(r.status(), 2, "{}", r.stdout);
}

/// The last record edited in place (same inode, same length) before the next go call: that
/// call chains to the hash of the line as it was written (the tip its append left in the lock
/// file), so verify reports the edit at that line, where reading the log would have chained
/// to the edited line and hidden it. Any other change to the log's length is read afresh: a
/// line appended by hand is chained over like any torn line.
#[test]
fn the_last_record_edited_before_the_next_call_is_still_reported() {
    let sb = Sandbox::new();
    fast_toolchain(&sb);
    let path = log_path(&sb);
    let mut lines = log_with(&sb, 3);
    let pos = lines[2].windows(7).position(|w| w == b"version").unwrap();
    lines[2][pos] = b'V';
    write_lines(&path, &lines);
    assert_eq!(run(sb.go(&["version"])).status(), 0);
    let v = run(sb.gowarden(&["audit", "verify"]));
    assert_eq!(v.status(), 1, "{}", v.stdout);
    assert!(
        v.stdout.contains(&format!("{}:3:", path.display())) && v.stdout.contains("edited"),
        "{}",
        v.stdout
    );

    let sb = Sandbox::new();
    fast_toolchain(&sb);
    let path = log_path(&sb);
    log_with(&sb, 2);
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(&mut f, b"not a record\n").unwrap();
    drop(f);
    assert_eq!(run(sb.go(&["version"])).status(), 0);
    let v = run(sb.gowarden(&["audit", "verify"]));
    assert_eq!(v.status(), 0, "{}", v.stdout);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"repair\""), "{text}");
}

#[test]
fn a_torn_last_line_is_repaired_by_the_next_shim() {
    let sb = Sandbox::new();
    fast_toolchain(&sb);
    let path = log_path(&sb);
    log_with(&sb, 3);
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(&mut f, b"{\"timeUnixNano\":\"17").unwrap();
    drop(f);
    assert_eq!(run(sb.go(&["version"])).status(), 0);
    let v = run(sb.gowarden(&["audit", "verify"]));
    assert_eq!(v.status(), 0, "{}", v.stdout);
    assert!(
        v.stdout.contains("warning") && v.stdout.contains("torn"),
        "{}",
        v.stdout
    );
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"repair\""));
}

#[test]
fn unwritable_log_denies_by_default_and_warns_when_policy_allows() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let blocker = sb.root.join("not-a-dir");
    fs::write(&blocker, "").unwrap();
    let log = blocker.join("audit.jsonl");
    sb.write_policy(&sb.isolated_policy(&format!(
        "[audit]\npath = {:?}\n",
        log.display().to_string()
    )));
    let r = run(sb.go(&["build"]));
    assert_eq!(r.status(), common::REFUSED);
    assert_eq!(r.ran(), None, "go must not run without its record");
    assert!(
        r.stderr.contains(blocker.to_str().unwrap()) && r.stderr.contains("on_failure"),
        "{}",
        r.stderr
    );

    sb.write_policy(&sb.isolated_policy(&format!(
        "[audit]\npath = {:?}\non_failure = \"allow\"\n",
        log.display().to_string()
    )));
    let r = run(sb.go(&["build"]));
    assert_eq!(r.ran(), Some("go go1.22.3"));
    assert!(
        r.stderr.contains("warning") && r.stderr.contains(blocker.to_str().unwrap()),
        "{}",
        r.stderr
    );
}

#[test]
fn arguments_with_newlines_and_invalid_utf8_round_trip() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let weird: Vec<OsString> = vec![
        OsString::from("run"),
        OsString::from("-ldflags=-X main.v=a\nb"),
        OsString::from_vec(vec![b'x', 0xff, 0xfe, b'\\', b'y']),
    ];
    let mut c = sb.command(sb.shims.join("go"));
    c.args(&weird);
    assert_eq!(run(c).status(), 0);
    let text = fs::read(log_path(&sb)).unwrap();
    assert_eq!(
        text.iter().filter(|&&b| b == b'\n').count(),
        1,
        "one record, one line"
    );
    let rec = LoggedRecord::parse(text.strip_suffix(b"\n").unwrap()).unwrap();
    let args = rec.args_attr(attr::PROCESS_COMMAND_ARGS).unwrap().unwrap();
    assert_eq!(&args[1..], &weird[..]);
}

#[test]
fn go_env_writes_record_previous_and_new_values_with_secrets_redacted() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let env_file = sb.home.join(".config/go/env");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    fs::write(&env_file, "GOPROXY=https://proxy.corp.example\n").unwrap();
    assert_eq!(
        run(sb.go(&[
            "env",
            "-w",
            "GOPROXY=https://bob:s3cret@evil.example",
            "GOFLAGS=-mod=mod"
        ]))
        .status(),
        0
    );
    assert_eq!(run(sb.go(&["env", "-u", "GOPROXY"])).status(), 0);
    let text = fs::read_to_string(log_path(&sb)).unwrap();
    assert!(!text.contains("s3cret"), "secret leaked: {text}");
    let recs = records(&log_path(&sb));
    let w = &recs[0];
    assert_eq!(
        w.str_attr("gowarden.go_env.previous.GOPROXY"),
        Some("https://proxy.corp.example")
    );
    assert_eq!(
        w.str_attr("gowarden.go_env.new.GOPROXY"),
        Some("https://REDACTED@evil.example")
    );
    assert_eq!(w.str_attr("gowarden.go_env.previous.GOFLAGS"), None);
    assert_eq!(w.str_attr("gowarden.go_env.new.GOFLAGS"), Some("-mod=mod"));
    let u = &recs[1];
    assert_eq!(
        u.str_attr("gowarden.go_env.previous.GOPROXY"),
        Some("https://proxy.corp.example")
    );
    assert_eq!(u.str_attr("gowarden.go_env.new.GOPROXY"), None);
}

#[test]
fn mutating_mode_skips_read_only_calls_and_rotation_keeps_the_chain() {
    let sb = Sandbox::new();
    fast_toolchain(&sb);
    sb.write_policy(&sb.isolated_policy("[audit]\ncommands = \"mutating\"\nmax_bytes = 4000\n"));
    for args in [
        &["version"][..],
        &["env", "GOPATH"],
        &["list", "./..."],
        &["mod", "graph"],
    ] {
        assert_eq!(run(sb.go(args)).status(), 0);
    }
    assert!(!log_path(&sb).exists(), "read-only calls are not recorded");
    // ...unless they may write after all: -mod=mod lets `go list` rewrite go.mod.
    assert_eq!(run(sb.go(&["list", "-mod=mod", "./..."])).status(), 0);
    let mut c = sb.go(&["list", "./..."]);
    c.env("GOFLAGS", "-mod=mod");
    assert_eq!(run(c).status(), 0);
    assert_eq!(records(&log_path(&sb)).len(), 2);
    fs::remove_file(log_path(&sb)).unwrap();
    for _ in 0..10 {
        assert_eq!(run(sb.go(&["build", "./..."])).status(), 0);
    }
    assert_eq!(run(sb.go(&["env", "-w", "GOFLAGS=-x"])).status(), 0);
    let rotated = PathBuf::from(format!("{}.1", log_path(&sb).display()));
    assert!(rotated.exists(), "max_bytes rotates the log");
    let v = run(sb.gowarden(&["audit", "verify"]));
    assert_eq!(v.status(), 0, "{}", v.stdout);
    assert!(v.stdout.contains("intact: 11 records"), "{}", v.stdout);
    let t = run(sb.gowarden(&["audit", "tail", "-n", "2"]));
    assert_eq!(t.stdout.lines().count(), 2, "{}", t.stdout);
    assert!(t.stdout.contains("go env -w GOFLAGS=-x"), "{}", t.stdout);
    let e = run(sb.gowarden(&["audit", "export", "--otlp-json"]));
    let v: serde_json::Value = serde_json::from_str(&e.stdout).unwrap();
    let recs = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
    assert_eq!(recs.as_array().unwrap().len(), 11);
}

#[test]
fn role_and_rule_are_recorded_for_allowed_and_refused_calls() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    sb.write_policy(&sb.isolated_policy(
        "[roles]\ndefault = \"developer\"\n\n[role.developer]\n\
         [[role.developer.deny]]\nid = \"no-toolexec\"\nflags = [\"toolexec\"]\n\
         message = \"wrappers around the compiler are not allowed\"\n",
    ));
    assert_eq!(run(sb.go(&["build", "./..."])).status(), 0);
    let r = run(sb.go(&["build", "-toolexec=/tmp/x", "./..."]));
    assert_eq!(r.status(), common::REFUSED);
    let recs = records(&log_path(&sb));
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].str_attr(attr::GOWARDEN_ROLE), Some("developer"));
    assert_eq!(recs[0].str_attr(attr::GOWARDEN_DECISION), Some("allow"));
    assert_eq!(recs[1].str_attr(attr::GOWARDEN_ROLE), Some("developer"));
    assert_eq!(recs[1].str_attr(attr::GOWARDEN_DECISION), Some("deny"));
    assert_eq!(recs[1].str_attr(attr::GOWARDEN_RULE), Some("no-toolexec"));
}

#[test]
fn a_go_that_cannot_be_executed_is_refused_and_recorded_as_such() {
    let sb = Sandbox::new();
    let root = sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    fs::set_permissions(root.join("bin/go"), fs::Permissions::from_mode(0o644)).unwrap();
    let r = run(sb.go(&["build"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert!(
        r.stderr.contains("cannot run") && r.stderr.contains("bin/go"),
        "{}",
        r.stderr
    );
    let recs = records(&log_path(&sb));
    assert_eq!(recs.len(), 2, "the allow record, then the failure");
    assert_eq!(recs[1].str_attr(attr::GOWARDEN_DECISION), Some("deny"));
    assert_eq!(recs[1].str_attr(attr::GOWARDEN_RULE), Some("exec-failed"));
}
