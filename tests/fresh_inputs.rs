//! The shim decides every call from what is on disk at that moment: toolchains added, removed
//! or retagged and a policy rewritten between two calls are seen by the second, however soon
//! after the first it comes (no sleeps here: the calls follow each other within the same
//! second, and the edits keep each file's size). Driven through the shipped binary (static
//! musl, as install.sh builds it), which is the one that would keep anything between calls.

mod common;

use std::fs;
use std::path::Path;

use common::{CONFIG_ERROR, FakeRun, REFUSED, Sandbox, fake_goroot, run, shipped_binary};

fn shipped_go(sb: &Sandbox) -> impl Fn() -> FakeRun + '_ {
    let shims = sb.root.join("shipped-shims");
    fs::create_dir_all(&shims).unwrap();
    std::os::unix::fs::symlink(shipped_binary(), shims.join("go")).unwrap();
    move || {
        let mut c = sb.command(shims.join("go"));
        c.arg("version");
        run(c)
    }
}

fn retag(goroot: &Path, version: &str) {
    fs::write(
        goroot.join("VERSION"),
        format!("{version}\ntime 2024-01-01T00:00:00Z\n"),
    )
    .unwrap();
}

#[test]
fn toolchains_added_removed_and_retagged_between_calls_are_seen_by_the_next_call() {
    let sb = Sandbox::new();
    let go = shipped_go(&sb);
    sb.write_project_file(".go-version", "1.26.1\n");
    let r = go();
    assert_eq!(
        r.status(),
        CONFIG_ERROR,
        "nothing installed yet: {}",
        r.stderr
    );

    let a = sb.fake_toolchain("go1.26.1");
    let r = go();
    assert_eq!(r.ran(), Some("go go1.26.1"), "{}", r.stderr);

    // The same toolchain dir now says it is another release (same size, same second).
    retag(&a, "go1.26.2");
    let r = go();
    assert_eq!(r.status(), CONFIG_ERROR, "{}", r.stderr);
    assert_eq!(
        r.ran(),
        None,
        "a retagged toolchain must not run as the old release"
    );

    // Another dir with the release asked for appears, then goes away again.
    let b = sb.toolchains.join("second");
    fake_goroot(&b, "go1.26.1");
    let r = go();
    assert_eq!(r.ran(), Some("go go1.26.1"), "{}", r.stderr);
    assert_eq!(
        r.env("GOROOT").map(Path::new),
        Some(b.as_path()),
        "the new dir, not the retagged one, runs"
    );
    fs::remove_dir_all(&b).unwrap();
    let r = go();
    assert_eq!(r.status(), CONFIG_ERROR, "{}", r.stderr);

    // Its go binary removed, a toolchain is no longer one.
    retag(&a, "go1.26.1");
    assert_eq!(go().ran(), Some("go go1.26.1"));
    fs::remove_file(a.join("bin/go")).unwrap();
    let r = go();
    assert_eq!(r.status(), CONFIG_ERROR, "{}", r.stderr);
}

#[test]
fn a_policy_rewritten_between_calls_is_the_one_the_next_call_obeys() {
    let sb = Sandbox::new();
    let go = shipped_go(&sb);
    sb.fake_toolchain("go1.26.1");
    sb.write_project_file(".go-version", "1.26.1\n");
    let blocking = |v: &str| {
        sb.isolated_policy(&format!(
            "[[blocked]]\nversion = \"{v}\"\nreason = \"bad release\"\n"
        ))
    };
    sb.write_policy(&blocking("1.26.1"));
    let r = go();
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(r.stderr.contains("bad release"), "{}", r.stderr);
    // The first call left a snapshot of the policy, and the next reads it (docs/performance.md).
    let snapshots = fs::read_dir(sb.home.join(".cache/gowarden/policy")).unwrap();
    assert_eq!(snapshots.count(), 1);
    let mut logged = sb.command(sb.root.join("shipped-shims/go"));
    logged.arg("version").env("GOWARDEN_LOG", "debug");
    let r = run(logged);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(
        r.stderr.contains("policy read from its snapshot"),
        "{}",
        r.stderr
    );
    // Same size, same second, one byte different.
    sb.write_policy(&blocking("1.26.3"));
    let r = go();
    assert_eq!(r.ran(), Some("go go1.26.1"), "{}", r.stderr);
    sb.write_policy(&blocking("1.26.1"));
    assert_eq!(go().status(), REFUSED);
}
