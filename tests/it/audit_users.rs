//! Many users on one host: the shared audit layout exactly as `install.sh --system` creates it
//! (`/var/log/gowarden`, root:root 1733, staged under DESTDIR), with the shim run as several
//! real uids through setpriv. Each user's first call just works; no user can read, pre-create,
//! redirect, alter or block another's records; a lock held too long ends in a refusal.

use crate::common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, FakeRun, REFUSED, Sandbox, run};
use gowarden::audit::{LoggedRecord, attr};

/// Test uids with no passwd entry (setpriv needs none): the shim must work for them too.
const ALICE: u32 = 2001;
const MALLORY: u32 = 2002;
const CAROL: u32 = 2003;

struct Host {
    sb: Sandbox,
    /// The staged root install.sh --system wrote into.
    image: PathBuf,
    /// `<image>/var/log/gowarden`.
    audit_dir: PathBuf,
}

impl Host {
    /// Runs install.sh --system into a DESTDIR, with a system policy that pins the audit path
    /// into the directory it created, and a toolchain every user can run.
    fn new() -> Host {
        let sb = Sandbox::new();
        let image = sb.root.join("image");
        fs::create_dir(&image).unwrap();
        let audit_dir = image.join("var/log/gowarden");
        let root = sb.toolchains.join("go1.22.3");
        fs::create_dir_all(root.join("bin")).unwrap();
        fs::write(root.join("VERSION"), "go1.22.3\n").unwrap();
        fs::copy("/bin/true", root.join("bin/go")).unwrap();
        sb.write_project_file(".go-version", "1.22.3\n");
        let policy = sb.root.join("company.toml");
        fs::write(
            &policy,
            format!(
                "[toolchains]\nmodule_cache = false\nversion_managers = false\npath = false\n\
                 search = [{:?}]\n[audit]\npath = \"{}/{{uid}}/audit.jsonl\"\n",
                sb.toolchains.display().to_string(),
                audit_dir.display()
            ),
        )
        .unwrap();
        let r = run({
            let mut c = Command::new("/bin/sh");
            c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh"))
                .args(["--system", "--policy", policy.to_str().unwrap()])
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("HOME", &sb.home)
                .env("GOWARDEN_BINARY", BIN)
                .env("DESTDIR", &image)
                .env(
                    "GOWARDEN_TEST_SYSTEM_POLICY",
                    image.join("etc/gowarden/policy.toml"),
                );
            c
        });
        assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
        let m = fs::metadata(&audit_dir).unwrap();
        assert_eq!(
            (m.uid(), m.gid(), m.mode() & 0o7777),
            (0, 0, 0o1733),
            "install.sh --system creates the shared audit dir"
        );
        Host {
            sb,
            image,
            audit_dir,
        }
    }

    fn home(&self, uid: u32) -> PathBuf {
        let h = self.sb.root.join(format!("home-{uid}"));
        if !h.exists() {
            fs::create_dir(&h).unwrap();
            nix::unistd::chown(&h, Some(uid.into()), Some(uid.into())).unwrap();
            fs::set_permissions(&h, fs::Permissions::from_mode(0o700)).unwrap();
        }
        h
    }

    /// `program args` as `uid` (real and effective, no supplementary groups), in a clean
    /// environment with the shims first on PATH and the installed system policy.
    fn as_user(&self, uid: u32, program: impl AsRef<Path>, args: &[&str]) -> Command {
        let home = self.home(uid);
        let mut c = Command::new("/usr/bin/setpriv");
        c.args([
            "--reuid",
            &uid.to_string(),
            "--regid",
            &uid.to_string(),
            "--clear-groups",
            "--",
        ])
        .arg(program.as_ref())
        .args(args)
        .env_clear()
        .current_dir(&self.sb.project)
        .env("PATH", format!("{}:/usr/bin:/bin", self.sb.shims.display()))
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env(
            "GOWARDEN_TEST_SYSTEM_POLICY",
            self.image.join("etc/gowarden/policy.toml"),
        );
        c
    }

    fn go(&self, uid: u32, args: &[&str]) -> FakeRun {
        run(self.as_user(uid, self.sb.shims.join("go"), args))
    }

    fn sh(&self, uid: u32, script: &str) -> FakeRun {
        run(self.as_user(uid, "/bin/sh", &["-c", script]))
    }

    fn log(&self, uid: u32) -> PathBuf {
        self.audit_dir.join(uid.to_string()).join("audit.jsonl")
    }
}

fn records(path: &Path) -> Vec<LoggedRecord> {
    fs::read(path)
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| LoggedRecord::parse(l).unwrap())
        .collect()
}

#[test]
fn each_users_first_call_just_works_and_lands_in_a_file_only_they_can_touch() {
    let h = Host::new();
    for uid in [ALICE, MALLORY] {
        let r = h.go(uid, &["version"]);
        assert_eq!(r.status(), 0, "uid {uid}: {}", r.stderr);
        let r = h.go(uid, &["build", "./..."]);
        assert_eq!(r.status(), 0, "uid {uid}: {}", r.stderr);
        let log = h.log(uid);
        let d = fs::metadata(log.parent().unwrap()).unwrap();
        assert_eq!((d.uid(), d.mode() & 0o777), (uid, 0o700));
        let f = fs::metadata(&log).unwrap();
        assert_eq!((f.uid(), f.mode() & 0o777), (uid, 0o600));
        let recs = records(&log);
        assert_eq!(recs.len(), 2);
        for r in &recs {
            assert_eq!(r.str_attr(attr::USER_ID), Some(uid.to_string().as_str()));
        }
        let v = run(h.as_user(uid, BIN, &["audit", "verify"]));
        assert_eq!(v.status(), 0, "{}{}", v.stdout, v.stderr);
        assert!(v.stdout.contains("intact: 2 records"), "{}", v.stdout);
        let p = run(h.as_user(uid, BIN, &["audit", "path"]));
        assert_eq!(p.stdout.trim(), log.to_str().unwrap());
    }
    // The environment cannot move the pinned path: another XDG_STATE_HOME and a user policy
    // naming another [audit] path change nothing.
    let elsewhere = h.home(ALICE).join("elsewhere");
    let user_policy = h.home(ALICE).join("mine.toml");
    h.sh(
        ALICE,
        &format!(
            "printf '[audit]\\npath = \"{}/x.jsonl\"\\n' > {}",
            elsewhere.display(),
            user_policy.display()
        ),
    );
    let mut c = h.as_user(ALICE, h.sb.shims.join("go"), &["version"]);
    c.env("XDG_STATE_HOME", &elsewhere)
        .env("GOWARDEN_POLICY", &user_policy);
    assert_eq!(run(c).status(), 0);
    assert_eq!(records(&h.log(ALICE)).len(), 3);
    assert!(!elsewhere.exists());

    // Mallory can neither list the shared dir, nor read, alter, delete or move Alice's log.
    let alice_dir = h.log(ALICE).parent().unwrap().to_path_buf();
    let before = fs::read(h.log(ALICE)).unwrap();
    for script in [
        format!("ls {}", h.audit_dir.display()),
        format!("cat {}", h.log(ALICE).display()),
        format!("echo forged >> {}", h.log(ALICE).display()),
        format!("rm -f {}", h.log(ALICE).display()),
        format!("mv {} {}/moved", alice_dir.display(), h.audit_dir.display()),
        format!("rm -rf {}", alice_dir.display()),
        format!("flock -n {}.lock true", h.log(ALICE).display()),
    ] {
        let r = h.sh(MALLORY, &script);
        assert_ne!(r.status(), 0, "as Mallory `{script}` worked: {}", r.stdout);
    }
    assert_eq!(fs::read(h.log(ALICE)).unwrap(), before);
    assert_eq!(records(&h.log(ALICE)).len(), 3);
}

#[test]
fn a_log_dir_or_file_pre_created_by_another_user_is_refused_not_written() {
    let h = Host::new();
    // Mallory prepares Carol's directory (world-writable, so Carol's shim could create files
    // in it) with a forged first record, before Carol ever calls go.
    let carol_dir = h.audit_dir.join(CAROL.to_string());
    let forged = r#"{"timeUnixNano":"1","attributes":[{"key":"gowarden.seq","value":{"intValue":"1"}},{"key":"gowarden.prev_sha256","value":{"stringValue":"0000000000000000000000000000000000000000000000000000000000000000"}}]}"#;
    let r = h.sh(
        MALLORY,
        &format!(
            "mkdir -m 777 {d} && printf '%s\\n' '{forged}' > {d}/audit.jsonl && chmod 666 {d}/audit.jsonl",
            d = carol_dir.display()
        ),
    );
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let r = h.go(CAROL, &["build", "./..."]);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("owned by uid {MALLORY}")) && r.stderr.contains("refusing"),
        "the refusal names the squatter: {}",
        r.stderr
    );
    let lines = fs::read_to_string(carol_dir.join("audit.jsonl")).unwrap();
    assert_eq!(
        lines.lines().count(),
        1,
        "nothing of Carol's went in: {lines}"
    );

    // A symlink named after Carol's uid, pointing into Mallory's own directory.
    fs::remove_dir_all(&carol_dir).unwrap();
    let trap = h.sb.root.join("mallory-trap");
    fs::create_dir(&trap).unwrap();
    nix::unistd::chown(&trap, Some(MALLORY.into()), Some(MALLORY.into())).unwrap();
    fs::set_permissions(&trap, fs::Permissions::from_mode(0o777)).unwrap();
    let r = h.sh(
        MALLORY,
        &format!("ln -s {} {}", trap.display(), carol_dir.display()),
    );
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let r = h.go(CAROL, &["version"]);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert!(!trap.join("audit.jsonl").exists());

    // The flat layout the README used to recommend ({uid}.jsonl in the shared dir): a file
    // Mallory created under Carol's name is refused by its owner, and so is its lock file.
    fs::remove_file(&carol_dir).unwrap();
    let flat = h.audit_dir.join(format!("{CAROL}.jsonl"));
    fs::write(
        h.image.join("etc/gowarden/policy.toml"),
        fs::read_to_string(h.image.join("etc/gowarden/policy.toml"))
            .unwrap()
            .replace("{uid}/audit.jsonl", "{uid}.jsonl"),
    )
    .unwrap();
    let flat_lock = PathBuf::from(format!("{}.lock", flat.display()));
    for victim_file in [&flat, &flat_lock] {
        for f in [&flat, &flat_lock] {
            let _ = fs::remove_file(f);
        }
        h.sh(
            MALLORY,
            &format!(
                "umask 0; printf '%s\\n' '{forged}' > {}",
                victim_file.display()
            ),
        );
        let r = h.go(CAROL, &["version"]);
        assert_eq!(r.status(), REFUSED, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("owned by uid {MALLORY}")),
            "{}",
            r.stderr
        );
        if victim_file == &flat {
            assert_eq!(fs::read_to_string(&flat).unwrap().lines().count(), 1);
        } else {
            assert!(!flat.exists(), "refused before the log was opened");
        }
    }
}

#[test]
fn a_lock_held_too_long_ends_in_a_bounded_refusal_not_a_hang() {
    let h = Host::new();
    assert_eq!(h.go(ALICE, &["version"]).status(), 0);
    let lock = format!("{}.lock", h.log(ALICE).display());
    // One of Alice's own processes holds her lock (a stopped go call would).
    // The shell execs sleep with the locked descriptor, so killing that one pid frees it.
    let mut holder = h
        .as_user(
            ALICE,
            "/bin/sh",
            &["-c", &format!("exec 9>>{lock} && flock 9 && exec sleep 60")],
        )
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until it has the lock.
    let deadline = Instant::now() + Duration::from_secs(10);
    while h
        .sh(ALICE, &format!("flock -n {lock} true"))
        .output
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "flock never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let start = Instant::now();
    let r = h.go(ALICE, &["build", "./..."]);
    let took = start.elapsed();
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(
        r.stderr.contains("held by another process for more than"),
        "{}",
        r.stderr
    );
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(30),
        "bounded wait: {took:?}"
    );
    // Released, the next call goes through and the chain is whole.
    assert_eq!(h.go(ALICE, &["version"]).status(), 0);
    let v = run(h.as_user(ALICE, BIN, &["audit", "verify"]));
    assert_eq!(v.status(), 0, "{}", v.stdout);
}
