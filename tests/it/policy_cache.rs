//! The compiled-policy cache (docs/performance.md): a call served from a policy's snapshot
//! decides and says exactly what parsing the policy would, and a snapshot is used only where
//! it could not be more forged than the policy it stands for. Whether a call used the
//! snapshot is read from the `GOWARDEN_LOG=debug` diagnostics.

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{FakeRun, REFUSED, Sandbox, run};

const HIT: &str = "policy read from its snapshot";
/// A hit without reading the policy text: its file's stamp is the one the snapshot trusts.
const BY_STAMP: &str = "by the file's stamp (text not read)";

/// A policy that refuses go1.26.1 with a message naming its line, or (`blocks: false`) one
/// of the same shape that lets it run.
fn policy(sb: &Sandbox, blocks: bool) -> String {
    let v = if blocks { "1.26.1" } else { "1.26.9" };
    sb.isolated_policy(&format!(
        "[[blocked]]\nversion = \"{v}\"\nreason = \"bad release\"\n\n[audit]\nmax_bytes = 1_000_000\n"
    ))
}

fn setup() -> Sandbox {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.26.1");
    sb.write_project_file(".go-version", "1.26.1\n");
    sb
}

fn go(sb: &Sandbox) -> FakeRun {
    run(sb.go(&["version"]))
}

fn go_logged(sb: &Sandbox) -> FakeRun {
    let mut c = sb.go(&["version"]);
    c.env("GOWARDEN_LOG", "debug");
    run(c)
}

/// The one snapshot in the sandbox's user cache.
fn snapshot(sb: &Sandbox) -> PathBuf {
    let dir = sb.home.join(".cache/gowarden/policy");
    let files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn set_mode(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_call_served_from_the_snapshot_says_and_does_what_parsing_says() {
    let sb = setup();
    sb.write_policy(&policy(&sb, true));
    let parsed = go(&sb);
    assert_eq!(parsed.status(), REFUSED, "{}", parsed.stderr);
    assert!(parsed.stderr.contains("policy.toml:"), "{}", parsed.stderr);
    let file = snapshot(&sb);
    let meta = fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let logged = go_logged(&sb);
    assert!(logged.stderr.contains(HIT), "{}", logged.stderr);
    let cached = go(&sb);
    assert_eq!(cached.status(), parsed.status());
    assert_eq!(cached.stdout, "");
    assert_eq!(cached.stderr, parsed.stderr, "the refusal, byte for byte");

    // And a call that runs go gets the same environment either way.
    sb.write_policy(&policy(&sb, false));
    let parsed = go(&sb);
    assert_eq!(parsed.ran(), Some("go go1.26.1"), "{}", parsed.stderr);
    assert!(go_logged(&sb).stderr.contains(HIT));
    let cached = go(&sb);
    // All the fake go saw but the depth guard's pid.
    let seen = |r: &FakeRun| {
        r.stdout
            .lines()
            .filter(|l| !l.starts_with("env:GOWARDEN_DEPTH="))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(seen(&cached), seen(&parsed));
    assert_eq!(cached.stderr, parsed.stderr);
}

#[test]
fn a_policy_that_fails_its_checks_is_never_cached() {
    let sb = setup();
    // A broken policy is never cached: every call reports it with its line.
    sb.write_policy(&sb.isolated_policy("[[blocked]]\nversion = \"1.26.1\"\n"));
    let first = go(&sb);
    assert_ne!(first.status(), 0);
    assert!(first.stderr.contains("policy.toml:"), "{}", first.stderr);
    assert!(
        !sb.home.join(".cache/gowarden/policy").exists() || {
            fs::read_dir(sb.home.join(".cache/gowarden/policy"))
                .unwrap()
                .next()
                .is_none()
        }
    );
    assert_eq!(go(&sb).stderr, first.stderr);
}

/// Where a snapshot records its policy file's stamp (src/policy/snapshot.rs: the magic,
/// then the stamp, outside the checksum).
const STAMP: std::ops::Range<usize> = 8..68;

/// The policy file's stamp is trusted once its times are this far behind the call
/// (src/stamp.rs: three seconds, and some more).
const SETTLE: std::time::Duration = std::time::Duration::from_millis(3300);

/// Forges a snapshot: the permissive policy's, with the stamp the blocking policy's file
/// has, which its own snapshot recorded as trusted. Only the owner and mode checks stand
/// between it and the shim; and since its text digest is the permissive policy's, only a
/// call that takes it by its stamp, without reading the policy text, can be fooled.
fn forge(sb: &Sandbox) -> Vec<u8> {
    sb.write_policy(&policy(sb, false));
    assert_eq!(go(sb).ran(), Some("go go1.26.1"));
    let permissive = fs::read(snapshot(sb)).unwrap();
    sb.write_policy(&policy(sb, true));
    std::thread::sleep(SETTLE);
    assert_eq!(go(sb).status(), REFUSED);
    let blocking = fs::read(snapshot(sb)).unwrap();
    assert!(
        blocking[STAMP].iter().any(|&b| b != 0),
        "an old policy file's stamp is recorded"
    );
    let mut forged = permissive;
    forged[STAMP].copy_from_slice(&blocking[STAMP]);
    forged
}

#[test]
fn a_snapshot_others_could_write_is_not_trusted() {
    let sb = setup();
    let forged = forge(&sb);
    let file = snapshot(&sb);
    let put = |mode: u32| {
        fs::write(&file, &forged).unwrap();
        set_mode(&file, mode);
    };

    // The control: owned by the caller, writable by nobody else, it is honoured (by its
    // stamp: the text, which would not match it, is not read), so the checks below are what
    // keeps it out.
    put(0o600);
    let r = go_logged(&sb);
    assert_eq!(r.ran(), Some("go go1.26.1"), "{}", r.stderr);
    assert!(r.stderr.contains(BY_STAMP), "{}", r.stderr);

    put(0o666);
    let r = go_logged(&sb);
    assert_eq!(
        r.status(),
        REFUSED,
        "a world-writable snapshot: {}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("is writable by group or others (mode 666)"),
        "{}",
        r.stderr
    );

    put(0o620);
    assert_eq!(go(&sb).status(), REFUSED, "a group-writable snapshot");

    put(0o600);
    std::os::unix::fs::chown(&file, Some(4242), None).unwrap();
    let r = go_logged(&sb);
    assert_eq!(r.status(), REFUSED, "another user's snapshot: {}", r.stderr);
    assert!(r.stderr.contains("is owned by uid 4242"), "{}", r.stderr);

    // A safe file in a directory others may write to (they could swap it).
    put(0o600);
    let dir = file.parent().unwrap();
    set_mode(dir, 0o777);
    let r = go_logged(&sb);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(r.stderr.contains("its directory"), "{}", r.stderr);
    set_mode(dir, 0o700);

    // A symbolic link in its place is not followed, whatever it points at.
    let elsewhere = sb.root.join("forged");
    fs::write(&elsewhere, &forged).unwrap();
    set_mode(&elsewhere, 0o600);
    fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
    assert_eq!(go(&sb).status(), REFUSED, "a snapshot through a symlink");
}

#[test]
fn a_damaged_or_foreign_snapshot_or_an_unusable_cache_means_parsing() {
    let sb = setup();
    sb.write_policy(&policy(&sb, true));
    let expected = go(&sb);
    assert_eq!(expected.status(), REFUSED);
    let file = snapshot(&sb);
    let good = fs::read(&file).unwrap();
    let mut other_format = good.clone();
    other_format[7] ^= 0xff;
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    for (what, bytes) in [
        ("empty", Vec::new()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("one byte changed", flipped),
        ("another format", other_format),
        ("not a snapshot", b"[policy]\nname = \"x\"\n".repeat(9)),
    ] {
        fs::write(&file, &bytes).unwrap();
        let r = go(&sb);
        assert_eq!(
            (r.status(), r.stdout.as_str(), r.stderr.as_str()),
            (expected.status(), "", expected.stderr.as_str()),
            "{what}"
        );
        // The call wrote a good one again.
        assert_eq!(fs::read(&file).unwrap(), good, "{what}");
    }

    // A directory where the snapshot goes, a cache dir that is a file: parsed, quietly.
    fs::remove_file(&file).unwrap();
    fs::create_dir(&file).unwrap();
    let r = go(&sb);
    assert_eq!((r.status(), r.stdout.as_str()), (REFUSED, ""));
    assert_eq!(r.stderr, expected.stderr);
    let not_a_dir = sb.root.join("cache-file");
    fs::write(&not_a_dir, "").unwrap();
    let mut c = sb.go(&["version"]);
    c.env("XDG_CACHE_HOME", &not_a_dir);
    let r = run(c);
    assert_eq!((r.status(), r.stdout.as_str()), (REFUSED, ""));
    assert_eq!(r.stderr, expected.stderr);
}

#[test]
fn the_system_policys_snapshot_is_roots_own_and_lives_only_in_its_dir() {
    let sb = setup();
    let cache = sb.root.join("var-cache-gowarden");
    let system_go = |log: bool| {
        let mut c = sb.go(&["version"]);
        c.env("GOWARDEN_TEST_SYSTEM_CACHE", &cache);
        if log {
            c.env("GOWARDEN_LOG", "debug");
        }
        run(c)
    };
    sb.write_system_policy(&policy(&sb, true));
    // No snapshot dir: none is made, and the call is decided as always.
    let expected = system_go(false);
    assert_eq!(expected.status(), REFUSED, "{}", expected.stderr);
    assert!(!cache.exists());
    assert!(!sb.home.join(".cache/gowarden/policy").exists());

    fs::create_dir(&cache).unwrap();
    set_mode(&cache, 0o755);
    assert_eq!(system_go(false).stderr, expected.stderr);
    let files: Vec<PathBuf> = fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o644,
        "readable by the users the system policy governs"
    );
    let r = system_go(true);
    assert!(r.stderr.contains(HIT), "{}", r.stderr);
    assert_eq!(r.status(), REFUSED);

    // Owned by anyone but root, it stands for nothing, even for a policy root owns.
    std::os::unix::fs::chown(&files[0], Some(4242), None).unwrap();
    let r = system_go(true);
    assert!(r.stderr.contains("is owned by uid 4242"), "{}", r.stderr);
    assert_eq!(r.status(), REFUSED);
}

#[test]
fn a_changed_layer_is_seen_by_the_next_call() {
    let sb = setup();
    let cache = sb.root.join("var-cache-gowarden");
    fs::create_dir(&cache).unwrap();
    set_mode(&cache, 0o755);
    let go = || {
        let mut c = sb.go(&["version"]);
        c.env("GOWARDEN_TEST_SYSTEM_CACHE", &cache);
        run(c)
    };
    // `true ` and `false`: the two policies have the same size.
    let allowing = |allow: bool| {
        let v = if allow { "true " } else { "false" };
        format!("[policy]\nallow_user_policy = {v}\n{}", policy(&sb, true))
    };
    // The system policy lets the (permissive) user policy apply; both get snapshots.
    sb.write_policy(&policy(&sb, false));
    sb.write_system_policy(&allowing(true));
    assert_eq!(go().ran(), Some("go go1.26.1"));
    assert_eq!(go().ran(), Some("go go1.26.1"));
    // Same size, same second: the system policy no longer allows user policies.
    sb.write_system_policy(&allowing(false));
    assert_eq!(
        fs::metadata(&sb.system_policy).unwrap().len() as usize,
        allowing(true).len()
    );
    assert_eq!(go().status(), REFUSED);
    // And back, then the user layer changes under it.
    sb.write_system_policy(&allowing(true));
    assert_eq!(go().ran(), Some("go go1.26.1"));
    sb.write_policy(&policy(&sb, true));
    assert_eq!(go().status(), REFUSED);
}

#[test]
fn a_cache_dir_reached_through_a_symlink_is_checked_where_it_leads() {
    let sb = setup();
    sb.write_policy(&policy(&sb, true));
    let target = sb.root.join("real-cache");
    fs::create_dir(&target).unwrap();
    set_mode(&target, 0o755);
    let link = sb.root.join("cache-link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let go = || {
        let mut c = sb.go(&["version"]);
        c.env("XDG_CACHE_HOME", &link).env("GOWARDEN_LOG", "debug");
        run(c)
    };
    assert_eq!(go().status(), REFUSED);
    assert!(target.join("gowarden/policy").is_dir());
    let r = go();
    assert!(r.stderr.contains(HIT), "{}", r.stderr);
    // The link's target opened to everyone: whoever can write there could swap the file.
    set_mode(&target, 0o777);
    let r = go();
    assert_eq!(r.status(), REFUSED);
    assert!(!r.stderr.contains(HIT), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("its directory {} is writable", target.display())),
        "{}",
        r.stderr
    );
}
