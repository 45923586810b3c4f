//! The shim decides every call from what is on disk at that moment: toolchains added, removed
//! or retagged and a policy rewritten between two calls are seen by the second, however soon
//! after the first it comes (no sleeps here: the calls follow each other within the same
//! second, and the edits keep each file's size). Driven through the shipped binary (static
//! musl, as install.sh builds it), which is the one that would keep anything between calls.

use crate::common;

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

/// The shim keeps an index of the toolchain directories it lists (docs/performance.md), and
/// trusts a directory's listing and a `VERSION` file only once they are older than a few
/// seconds: the calls above, right after each change, never reuse it. Here the toolchains
/// settle first, so the index is in use, and then every change is made between two calls
/// within one second again.
#[test]
fn an_index_in_use_still_sees_toolchains_retagged_added_and_removed() {
    let sb = Sandbox::new();
    let go = shipped_go(&sb);
    sb.write_project_file(".go-version", "1.26.1\n");
    let a = sb.fake_toolchain("go1.26.1");
    // Sorts before `go1.26.1`: of two toolchains of one release, discovery prefers it.
    let other = sb.toolchains.join("a-other");
    fake_goroot(&other, "go1.25.0");
    for i in 0..20 {
        fake_goroot(
            &sb.toolchains.join(format!("go1.20.{i}")),
            &format!("go1.20.{i}"),
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(3300));
    let goroot = |r: &FakeRun| r.env("GOROOT").map(Path::new).map(Path::to_path_buf);
    let r = go();
    assert_eq!(goroot(&r).as_deref(), Some(a.as_path()), "{}", r.stderr);
    let index = sb.home.join(".cache/gowarden/toolchains.index");
    let written = fs::read_to_string(&index).unwrap();
    assert!(
        written.contains("\tgo1.20.7\t") && written.contains("\ta-other\t"),
        "{written}"
    );
    let stamp = fs::metadata(&index).unwrap().modified().unwrap();
    let r = go();
    assert_eq!(goroot(&r).as_deref(), Some(a.as_path()), "{}", r.stderr);
    assert_eq!(
        fs::metadata(&index).unwrap().modified().unwrap(),
        stamp,
        "nothing changed: the second call reused the index as it was"
    );

    // A toolchain that was not chosen is rewritten in place (same size) to the release asked
    // for, and now outranks the chosen one.
    retag(&other, "go1.26.1");
    let r = go();
    assert_eq!(goroot(&r).as_deref(), Some(other.as_path()), "{}", r.stderr);
    // Its go binary removed, it is no toolchain: the other one runs again.
    fs::remove_file(other.join("bin/go")).unwrap();
    let r = go();
    assert_eq!(goroot(&r).as_deref(), Some(a.as_path()), "{}", r.stderr);
    // Retagged by rename (a new file over the old name).
    let tmp = a.join("VERSION.new");
    fs::write(&tmp, "go1.26.2\ntime 2024-01-01T00:00:00Z\n").unwrap();
    fs::rename(&tmp, a.join("VERSION")).unwrap();
    let r = go();
    assert_eq!(r.status(), CONFIG_ERROR, "{}", r.stdout);
    // A new directory holding the release appears, and is renamed away again.
    let new = sb.toolchains.join("go1.26.1-new");
    fake_goroot(&new, "go1.26.1");
    let r = go();
    assert_eq!(goroot(&r).as_deref(), Some(new.as_path()), "{}", r.stderr);
    fs::rename(&new, sb.toolchains.join(".staged")).unwrap();
    let r = go();
    assert_eq!(r.status(), CONFIG_ERROR, "{}", r.stdout);
}

/// A policy's `search` pattern (`/usr/lib/go-*`, here a sandbox dir) is listed through the
/// index under the pattern's own key: toolchains matching it appear, are retagged and vanish
/// between calls within one second, after the index has settled; a match that is a dir of
/// GOROOTs is searched in; and a pattern changed in the policy lists afresh.
#[test]
fn toolchains_under_a_search_pattern_are_seen_through_the_index() {
    let sb = Sandbox::new();
    let go = shipped_go(&sb);
    sb.write_project_file(".go-version", "1.26.1\n");
    let lib = sb.root.join("lib");
    fake_goroot(&lib.join("go-1.25"), "go1.25.0");
    fake_goroot(&lib.join("golang-x/go1.26.1"), "go1.26.1");
    fs::create_dir_all(lib.join("unrelated")).unwrap();
    let policy = |pattern: &str| {
        sb.write_policy(&sb.isolated_policy(&format!(
            "search = [{:?}]\n",
            lib.join(pattern).display().to_string()
        )))
    };
    policy("go-*");
    std::thread::sleep(std::time::Duration::from_millis(3300));
    let goroot = |r: &FakeRun| r.env("GOROOT").map(Path::new).map(Path::to_path_buf);
    let r = go();
    assert_eq!(
        r.status(),
        CONFIG_ERROR,
        "only go1.25.0 matches: {}",
        r.stderr
    );
    let r = go();
    assert_eq!(
        r.status(),
        CONFIG_ERROR,
        "and again from the index: {}",
        r.stderr
    );
    let index = fs::read_to_string(sb.home.join(".cache/gowarden/toolchains.index")).unwrap();
    assert!(
        index.contains(&format!("d\t{}/go-*\t", lib.display())) && !index.contains("unrelated"),
        "{index}"
    );

    retag(&lib.join("go-1.25"), "go1.26.1");
    let r = go();
    assert_eq!(goroot(&r), Some(lib.join("go-1.25")), "{}", r.stderr);
    retag(&lib.join("go-1.25"), "go1.25.0");
    let added = lib.join("go-1.26");
    fake_goroot(&added, "go1.26.1");
    let r = go();
    assert_eq!(goroot(&r), Some(added.clone()), "{}", r.stderr);
    fs::rename(&added, lib.join("old-1.26")).unwrap();
    let r = go();
    assert_eq!(
        r.status(),
        CONFIG_ERROR,
        "renamed out of the pattern: {}",
        r.stderr
    );

    // Another pattern over the same dir: a listing of its own, and a match that holds GOROOTs.
    policy("golang-*");
    let r = go();
    assert_eq!(
        goroot(&r),
        Some(lib.join("golang-x/go1.26.1")),
        "{}",
        r.stderr
    );
}

/// Once a policy file is older than the margin (src/stamp.rs), its snapshot records the
/// file's stamp and later calls take the policy from it without reading the text
/// (docs/performance.md). A call that finds the stamp changed reads the text again.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(3300);
const BY_STAMP: &str = "by the file's stamp (text not read)";

/// The shipped shim, logging diagnostics.
fn shipped_go_logged(sb: &Sandbox) -> FakeRun {
    let mut c = sb.command(sb.root.join("shipped-shims/go"));
    c.arg("version").env("GOWARDEN_LOG", "debug");
    run(c)
}

fn blocking(sb: &Sandbox, v: &str) -> String {
    sb.isolated_policy(&format!(
        "[[blocked]]\nversion = \"{v}\"\nreason = \"bad release\"\n"
    ))
}

/// A project pinned to go1.26.1 under a user policy, written now, that blocks that
/// release; the policy's path.
fn blocked_project(sb: &Sandbox) -> std::path::PathBuf {
    sb.fake_toolchain("go1.26.1");
    sb.write_project_file(".go-version", "1.26.1\n");
    sb.write_policy(&blocking(sb, "1.26.1"));
    sb.user_policy_path()
}

/// A policy written, used at once (its snapshot then has no stamp), settled: the next call
/// matches the snapshot by contents and gives it the stamp, the one after takes it by stamp.
fn settle_into_the_stamp(sb: &Sandbox, go: &dyn Fn() -> FakeRun) {
    assert_eq!(go().status(), REFUSED);
    std::thread::sleep(SETTLE);
    let r = shipped_go_logged(sb);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(r.stderr.contains("given the file's stamp"), "{}", r.stderr);
    assert!(!r.stderr.contains(BY_STAMP), "{}", r.stderr);
    let r = shipped_go_logged(sb);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(r.stderr.contains(BY_STAMP), "{}", r.stderr);
}

#[test]
fn a_settled_policy_rewritten_in_place_is_the_one_the_next_call_obeys() {
    let sb = Sandbox::new();
    // The shipped binary first (it may be built now): the policy's age counts from its write.
    let go = shipped_go(&sb);
    let path = blocked_project(&sb);
    let inode = || std::os::unix::fs::MetadataExt::ino(&fs::metadata(&path).unwrap());
    let before = inode();
    settle_into_the_stamp(&sb, &go);
    // Same inode, same size, within the second after a call: one byte different.
    fs::write(&path, blocking(&sb, "1.26.3")).unwrap();
    assert_eq!(inode(), before);
    let r = shipped_go_logged(&sb);
    assert_eq!(r.ran(), Some("go go1.26.1"), "{}", r.stderr);
    assert!(!r.stderr.contains(BY_STAMP), "{}", r.stderr);
    fs::write(&path, blocking(&sb, "1.26.1")).unwrap();
    assert_eq!(go().status(), REFUSED);
}

#[test]
fn a_settled_policy_replaced_by_rename_is_the_one_the_next_call_obeys() {
    let sb = Sandbox::new();
    // The shipped binary first (it may be built now): the policy's age counts from its write.
    let go = shipped_go(&sb);
    let path = blocked_project(&sb);
    // Written as long ago as the policy: only its inode tells the two apart.
    let staged = path.with_file_name("policy.toml.new");
    fs::write(&staged, blocking(&sb, "1.26.3")).unwrap();
    settle_into_the_stamp(&sb, &go);
    fs::rename(&staged, &path).unwrap();
    let r = shipped_go_logged(&sb);
    assert_eq!(r.ran(), Some("go go1.26.1"), "{}", r.stderr);
    assert!(!r.stderr.contains(BY_STAMP), "{}", r.stderr);
}
