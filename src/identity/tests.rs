use super::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn current_matches_the_kernel() {
    let me = Identity::current();
    assert_eq!(me.uid(), nix::unistd::getuid().as_raw());
    assert_eq!(me.gid(), nix::unistd::getgid().as_raw());
    assert_eq!(me.gids()[0], me.gid());
    for g in nix::unistd::getgroups().unwrap() {
        assert!(me.in_group(g.as_raw()), "supplementary gid {g} missing");
    }
}

#[test]
fn fixed_identity_dedups_gids_and_needs_no_lookup() {
    let id = Identity::fixed(
        1000,
        100,
        vec![100, 20, 20, 30],
        Some("alice"),
        &[("ci", 20), ("other", 40)],
    );
    assert_eq!(id.gids(), [100, 20, 30]);
    assert_eq!(id.user_name().unwrap().as_deref(), Some("alice"));
    assert!(id.in_group_named("ci").unwrap());
    assert!(!id.in_group_named("other").unwrap());
    assert!(!id.in_group_named("unknown").unwrap());
    let anonymous = Identity::fixed(4242, 4242, vec![], None, &[]);
    assert_eq!(anonymous.user_name().unwrap(), None);
}

/// A private `/etc` and a fake getent that logs each call's arguments to `calls` and answers
/// from `answers` (passwd and group lines), exiting 2 when a key is not found, as getent does.
struct Etc {
    dir: tempfile::TempDir,
}

impl Etc {
    fn new(passwd: &str, group: &str, nsswitch: &str) -> Etc {
        let dir = tempfile::tempdir().unwrap();
        let etc = Etc { dir };
        std::fs::write(etc.path("passwd"), passwd).unwrap();
        std::fs::write(etc.path("group"), group).unwrap();
        std::fs::write(etc.path("nsswitch.conf"), nsswitch).unwrap();
        etc.getent("");
        etc
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Installs a fake getent answering from `answers` ("db:name:x:id:" lines).
    fn getent(&self, answers: &str) {
        std::fs::write(self.path("answers"), answers).unwrap();
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> {calls}\ndb=$1; shift; rc=0\n\
             for k in \"$@\"; do\n\
               line=$(grep -E \"^$db:($k:|[^:]*:[^:]*:$k:)\" {answers} | head -n 1)\n\
               if [ -n \"$line\" ]; then echo \"${{line#*:}}\"; else rc=2; fi\n\
             done\nexit $rc\n",
            calls = self.path("calls").display(),
            answers = self.path("answers").display()
        );
        std::fs::write(self.path("getent"), script).unwrap();
        std::fs::set_permissions(self.path("getent"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn databases(&self) -> Databases {
        Databases {
            passwd: self.path("passwd"),
            group: self.path("group"),
            nsswitch: self.path("nsswitch.conf"),
            getent: vec![self.path("no-getent-here"), self.path("getent")],
            timeout: Duration::from_millis(500),
            cache: Some(self.path("state/gowarden/names")),
        }
    }

    fn identity(&self, uid: u32, gid: u32, supplementary: Vec<u32>) -> Identity {
        Identity {
            uid,
            gid,
            gids: OnceCell::from(with_primary(gid, supplementary)),
            source: Source::System(self.databases()),
            names: RefCell::default(),
        }
    }
}

const PASSWD_FILE: &str = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
const GROUP_FILE: &str = "root:x:0:\nalice:x:1000:\nci:x:20:alice\n";

#[test]
fn files_only_answers_from_the_files_and_never_runs_getent() {
    let etc = Etc::new(PASSWD_FILE, GROUP_FILE, "passwd: files\ngroup: files\n");
    let alice = etc.identity(1000, 1000, vec![20]);
    alice.expect_names(true, ["ci", "auditors", "alice"]);
    assert!(alice.in_group_named("ci").unwrap());
    assert!(alice.in_group_named("alice").unwrap());
    assert!(!alice.in_group_named("auditors").unwrap());
    assert_eq!(alice.user_name().unwrap().as_deref(), Some("alice"));
    // A group question answers nothing about the user: the audit record then reads the
    // passwd file itself (name_for_record).
    let grouped = etc.identity(1000, 1000, vec![20]);
    assert!(grouped.in_group_named("ci").unwrap());
    assert!(grouped.names.borrow().user.is_none());
    let nobody = etc.identity(4242, 4242, vec![]);
    assert_eq!(nobody.user_name().unwrap(), None);
    assert!(!nobody.in_group_named("ci").unwrap());
    assert!(etc.calls().is_empty(), "getent ran: {:?}", etc.calls());
    assert!(!etc.path("state").exists(), "no cache without getent");
}

#[test]
fn names_the_files_lack_go_to_one_getent_per_database_and_are_kept() {
    let etc = Etc::new(
        PASSWD_FILE,
        GROUP_FILE,
        "passwd: files systemd\ngroup: files sss\n",
    );
    etc.getent("group:builders:x:3000:\npasswd:bob:x:4242:4242::/home/bob:/bin/sh\n");
    let bob = etc.identity(4242, 4242, vec![3000]);
    bob.expect_names(true, ["ci", "builders", "auditors", "domain users"]);
    assert!(bob.in_group_named("builders").unwrap());
    assert!(!bob.in_group_named("ci").unwrap(), "from the files: gid 20");
    assert!(!bob.in_group_named("auditors").unwrap());
    assert_eq!(bob.user_name().unwrap().as_deref(), Some("bob"));
    // The passwd lookup by uid in one call; every missing group in another.
    assert_eq!(
        etc.calls(),
        ["passwd 4242", "group builders auditors domain users"]
    );
    assert_eq!(
        std::fs::metadata(etc.path("state/gowarden/names"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    // The next call (a new process) reads the cache instead, negative answers too, and not
    // nsswitch.conf: the cache answers only while it is the same file.
    let reads = super::nsswitch::READS.with(|r| r.get());
    let again = etc.identity(4242, 4242, vec![3000]);
    again.expect_names(true, ["builders", "auditors"]);
    assert!(again.in_group_named("builders").unwrap());
    assert!(!again.in_group_named("auditors").unwrap());
    assert_eq!(again.user_name().unwrap().as_deref(), Some("bob"));
    assert_eq!(etc.calls().len(), 2, "{:?}", etc.calls());
    assert_eq!(super::nsswitch::READS.with(|r| r.get()), reads);

    // A name not in the cache is asked for alone.
    let third = etc.identity(4242, 4242, vec![]);
    assert!(!third.in_group_named("release").unwrap());
    assert_eq!(etc.calls().last().unwrap(), "group release");

    // A change of /etc/group (here: replaced) makes the kept answers void.
    std::fs::remove_file(etc.path("group")).unwrap();
    std::fs::write(etc.path("group"), GROUP_FILE).unwrap();
    let fourth = etc.identity(4242, 4242, vec![3000]);
    assert!(fourth.in_group_named("builders").unwrap());
    assert_eq!(etc.calls().last().unwrap(), "group builders");
}

#[test]
fn a_getent_that_fails_or_stalls_is_an_error_naming_the_name_the_sources_and_why() {
    let etc = Etc::new(
        PASSWD_FILE,
        GROUP_FILE,
        "passwd: files ldap\ngroup: files systemd\n",
    );
    let getent = etc.path("getent");
    std::fs::write(&getent, "#!/bin/sh\nexec sleep 5\n").unwrap();
    let id = etc.identity(4242, 4242, vec![]);
    id.expect_names(true, ["ci", "builders"]);
    let start = std::time::Instant::now();
    assert!(id.in_group_named("ci").is_ok(), "in the files: no getent");
    let e = id.in_group_named("builders").unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(
        e.message(),
        format!(
            "cannot resolve group \"builders\": {} has no such group and {} lists systemd for \
             group, but {} did not answer within 0.5 s",
            etc.path("group").display(),
            etc.path("nsswitch.conf").display(),
            getent.display()
        )
    );
    std::fs::write(&getent, "#!/bin/sh\nexit 1\n").unwrap();
    let e = etc.identity(4242, 4242, vec![]).user_name().unwrap_err();
    assert_eq!(
        e.message(),
        format!(
            "cannot resolve the user name of uid 4242: {} has no entry for it and {} lists ldap \
             for passwd, but {} failed (exit status 1)",
            etc.path("passwd").display(),
            etc.path("nsswitch.conf").display(),
            getent.display()
        )
    );
    std::fs::remove_file(&getent).unwrap();
    let e = etc.identity(4242, 4242, vec![]).user_name().unwrap_err();
    assert!(
        e.message().ends_with(&format!(
            "but getent is not installed (looked for {}, {})",
            etc.path("no-getent-here").display(),
            getent.display()
        )),
        "{e}"
    );
    assert!(!etc.path("state").exists(), "failures are not kept");
}

#[test]
fn getent_lines_count_only_for_the_key_asked() {
    assert_eq!(
        gids_in_getent_output(b"ci:x:20:\nwheel:x:1234:\n", &["ci", "1234", "x"]),
        [Some(20), None, None]
    );
    assert_eq!(
        user_in_getent_output(b"bob:x:4243:1::/:/bin/sh\nbob2:x:4242:1::/:/bin/sh\n", 4242),
        Some("bob2".into())
    );
}
