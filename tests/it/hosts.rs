//! The binary exactly as install.sh builds it (`common::shipped_binary()`: static musl, no test
//! hooks) on hosts whose user and group databases differ, each in a private mount namespace with
//! its own `/etc/passwd`, `/etc/group`, `/etc/nsswitch.conf` and `/etc/gowarden` (common::Host):
//! `files` only, Debian's `files systemd`, `files extrausers` with Debian's real
//! libnss-extrausers, `sss`/`ldap` listed without their modules, a uid with no passwd entry, and
//! a getent that stalls or fails. Each runs the embedded default policy,
//! `policies/examples/enterprise.toml` as shipped, and small policies of its own; each checks
//! that go ran (a fake GOROOT), the role chosen and the audit record's `user.id`/`user.name`.
//!
//! The static glibc build this replaced crashed (exit 139, no message, no record) in every one
//! of these where a name missed the files.

use crate::common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{CONFIG_ERROR, FakeRun, Host, RunAs, Sandbox, run, shipped_binary};
use gowarden::audit::{LoggedRecord, attr};

const ENTERPRISE: &str = include_str!("../../policies/examples/enterprise.toml");
const FAKE: &str = "go1.26.99";
const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n";
const GROUP: &str = "root:x:0:\n";
const DEBIAN: &str = "passwd: files systemd\ngroup: files systemd\nshadow: files systemd\n";

/// Which policy is in force.
#[derive(Clone, Copy)]
enum Policy<'a> {
    /// None on the host: the one embedded in the binary.
    Embedded,
    /// `/etc/gowarden/policy.toml`.
    System(&'a str),
}

/// A user binding (role `named`) before a group binding (role `builder`), default `developer`.
fn small_policy(user: &str, group: &str) -> String {
    format!(
        "[toolchains]\nmodule_cache = false\nversion_managers = false\npath = false\n\n\
         [roles]\ndefault = \"developer\"\n\n\
         [[binding]]\nrole = \"named\"\nusers = [{user:?}]\n\n\
         [[binding]]\nrole = \"builder\"\ngroups = [{group:?}]\n\n\
         [role.developer]\ndescription = \"default\"\n\
         [role.builder]\ndescription = \"by group\"\n\
         [role.named]\ndescription = \"by user\"\n"
    )
}

/// The role the shipped enterprise example gives a caller in `groups` (by name) with no
/// environment bindings set: its first `groups` binding naming one of them, else its default.
fn enterprise_role(groups: &[&str]) -> String {
    let t: toml::Table = ENTERPRISE.parse().unwrap();
    for b in t["binding"].as_array().unwrap() {
        let b = b.as_table().unwrap();
        if b.contains_key("env") || b.contains_key("users") {
            continue;
        }
        let names = b.get("groups").and_then(|g| g.as_array());
        if names.is_some_and(|n| n.iter().any(|g| groups.contains(&g.as_str().unwrap()))) {
            return b["role"].as_str().unwrap().to_string();
        }
    }
    t["roles"]["default"].as_str().unwrap().to_string()
}

/// A sandbox with the fake toolchain pinned, a shims dir holding the shipped binary, and a host
/// with these name databases.
struct Machine {
    sb: Sandbox,
    host: Host,
    shims: PathBuf,
}

impl Machine {
    fn new(nsswitch: &str, passwd: &str, group: &str) -> Machine {
        let sb = Sandbox::new();
        sb.fake_toolchain(FAKE);
        sb.write_project_file(".go-version", &format!("{}\n", &FAKE[2..]));
        let shims = sb.root.join("shipped-shims");
        fs::create_dir_all(&shims).unwrap();
        std::os::unix::fs::symlink(shipped_binary(), shims.join("go")).unwrap();
        let host = Host::new();
        host.etc("nsswitch.conf", nsswitch)
            .etc("passwd", &format!("{PASSWD}{passwd}"))
            .etc("group", &format!("{GROUP}{group}"));
        Machine { sb, host, shims }
    }

    fn policy(&self, policy: Policy) -> &Self {
        if let Policy::System(toml) = policy {
            self.host.system_policy(toml);
        }
        self
    }

    /// `sh -c SCRIPT` with the shipped shims first on PATH, as `user`, on this host.
    fn sh(&self, user: Option<&RunAs>, script: &str) -> FakeRun {
        // HOME belongs to whoever runs: gowarden refuses an audit dir another user owns.
        let (uid, gid) = user.map_or((0, 0), |u| (u.uid, u.gid));
        chown_tree(&self.sb.home, uid, gid);
        let mut c = self.sb.command("/bin/sh");
        c.args(["-c", script])
            .env_remove("GOWARDEN_POLICY")
            .env("PATH", format!("{}:/usr/bin:/bin", self.shims.display()));
        run(self.host.command(user, &c))
    }

    fn go_version(&self, user: Option<&RunAs>) -> FakeRun {
        self.sh(user, "exec go version")
    }

    /// The last audit record.
    fn last_record(&self) -> LoggedRecord {
        // The user's own log, or the newest one in the shared layout a system policy pins.
        let mut logs = vec![self.sb.home.join(".local/state/gowarden/audit.jsonl")];
        for e in fs::read_dir(self.host.audit_dir()).unwrap() {
            logs.push(e.unwrap().path().join("audit.jsonl"));
        }
        let newest = logs
            .into_iter()
            .filter_map(|p| Some((fs::metadata(&p).ok()?.modified().ok()?, p)))
            .max()
            .expect("an audit log")
            .1;
        let log = fs::read(newest).unwrap();
        let line = log
            .split(|&b| b == b'\n')
            .rfind(|l| !l.is_empty())
            .expect("an audit record");
        LoggedRecord::parse(line).unwrap()
    }
}

fn chown_tree(p: &Path, uid: u32, gid: u32) {
    let (u, g) = (
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
    );
    nix::unistd::chown(p, u, g).unwrap();
    if p.is_dir() && !p.is_symlink() {
        for e in fs::read_dir(p).unwrap() {
            chown_tree(&e.unwrap().path(), uid, gid);
        }
    }
}

/// Asserts that the fake go ran, and that the audit record names `uid`, `name` and `role`.
fn assert_ran_as(m: &Machine, r: &FakeRun, uid: u32, name: Option<&str>, role: Option<&str>) {
    assert_eq!(
        (r.status(), r.ran()),
        (0, Some(format!("go {FAKE}").as_str())),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(r.stderr, "", "the shim prints nothing when all is well");
    let rec = m.last_record();
    assert_eq!(rec.str_attr(attr::USER_ID), Some(uid.to_string().as_str()));
    assert_eq!(rec.str_attr(attr::USER_NAME), name, "user.name in {rec:?}");
    assert_eq!(rec.str_attr(attr::GOWARDEN_ROLE), role, "gowarden.role");
}

fn user(uid: u32, groups: &[u32]) -> RunAs {
    RunAs {
        uid,
        gid: uid,
        groups: groups.to_vec(),
    }
}

#[test]
fn files_only_names_and_roles_come_from_the_files() {
    let nss = "passwd: files\ngroup: files\n";
    let passwd = "gw-dev:x:4242:4242::/home/gw-dev:/bin/sh\n";
    let group = "ci:x:3000:\ngw-builders:x:3001:\n";
    let dev = user(4242, &[3000, 3001]);
    let unnamed = user(4343, &[]);

    let m = Machine::new(nss, passwd, group);
    m.policy(Policy::Embedded);
    let r = m.go_version(Some(&dev));
    assert_ran_as(&m, &r, 4242, Some("gw-dev"), None);
    let r = m.go_version(Some(&unnamed));
    assert_ran_as(&m, &r, 4343, None, None);
    let r = m.go_version(None);
    assert_ran_as(&m, &r, 0, Some("root"), None);

    let m = Machine::new(nss, passwd, group);
    m.policy(Policy::System(ENTERPRISE));
    let r = m.go_version(Some(&dev));
    assert_ran_as(
        &m,
        &r,
        4242,
        Some("gw-dev"),
        Some(&enterprise_role(&["ci"])),
    );
    let r = m.go_version(Some(&unnamed));
    assert_ran_as(&m, &r, 4343, None, Some(&enterprise_role(&[])));

    let m = Machine::new(nss, passwd, group);
    m.policy(Policy::System(&small_policy("gw-dev", "gw-builders")));
    let r = m.go_version(Some(&dev));
    assert_ran_as(&m, &r, 4242, Some("gw-dev"), Some("named"));
    let r = m.go_version(Some(&user(4343, &[3001])));
    assert_ran_as(&m, &r, 4343, None, Some("builder"));
    let r = m.go_version(Some(&unnamed));
    assert_ran_as(&m, &r, 4343, None, Some("developer"));
}

#[test]
fn debian_files_systemd_names_the_files_lack_cost_no_crash() {
    let passwd = "gw-dev:x:4242:4242::/home/gw-dev:/bin/sh\n";
    let unnamed = user(4343, &[]);
    let m = Machine::new(DEBIAN, passwd, "");
    m.policy(Policy::Embedded);
    let r = m.go_version(Some(&unnamed));
    assert_ran_as(&m, &r, 4343, None, None);
    let r = m.go_version(Some(&user(4242, &[])));
    assert_ran_as(&m, &r, 4242, Some("gw-dev"), None);

    let m = Machine::new(DEBIAN, passwd, "");
    m.policy(Policy::System(ENTERPRISE));
    let r = m.go_version(Some(&unnamed));
    assert_ran_as(&m, &r, 4343, None, Some(&enterprise_role(&[])));
    let r = m.go_version(None);
    assert_ran_as(&m, &r, 0, Some("root"), Some(&enterprise_role(&[])));

    let m = Machine::new(DEBIAN, passwd, "");
    m.policy(Policy::System(&small_policy("gw-dev", "gw-builders")));
    let r = m.go_version(Some(&unnamed));
    assert_ran_as(&m, &r, 4343, None, Some("developer"));
}

#[test]
fn a_group_only_in_extrausers_binds_its_role() {
    assert!(
        Path::new("/usr/lib/libnss_extrausers.so.2").exists()
            || Path::new("/lib/x86_64-linux-gnu/libnss_extrausers.so.2").exists(),
        "libnss-extrausers is not installed (.ci/run installs it)"
    );
    let nss = "passwd: files extrausers\ngroup: files extrausers\n";
    let extra = [
        ("passwd", "gw-ext:x:4244:4244::/home/gw-ext:/bin/sh\n"),
        ("group", "gw-ext-ci:x:3100:\nci:x:3101:\n"),
        ("shadow", ""),
    ];
    let ext = user(4244, &[3100, 3101]);

    let mut m = Machine::new(nss, "", "");
    m.host.bind_dir("/var/lib/extrausers", &extra);
    m.policy(Policy::System(&small_policy("nobody-here", "gw-ext-ci")));
    let r = m.go_version(Some(&ext));
    assert_ran_as(&m, &r, 4244, Some("gw-ext"), Some("builder"));
    let r = m.go_version(Some(&user(4244, &[])));
    assert_ran_as(&m, &r, 4244, Some("gw-ext"), Some("developer"));

    // The user binding resolves the name through getent; the record then names it.
    let mut m = Machine::new(nss, "", "");
    m.host.bind_dir("/var/lib/extrausers", &extra);
    m.policy(Policy::System(&small_policy("gw-ext", "gw-ext-ci")));
    let r = m.go_version(Some(&user(4244, &[])));
    assert_ran_as(&m, &r, 4244, Some("gw-ext"), Some("named"));

    let mut m = Machine::new(nss, "", "");
    m.host.bind_dir("/var/lib/extrausers", &extra);
    m.policy(Policy::System(ENTERPRISE));
    let r = m.go_version(Some(&ext));
    assert_ran_as(&m, &r, 4244, None, Some(&enterprise_role(&["ci"])));

    // Without a binding that needs names, the record's name comes from /etc/passwd only.
    let mut m = Machine::new(nss, "", "");
    m.host.bind_dir("/var/lib/extrausers", &extra);
    m.policy(Policy::Embedded);
    let r = m.go_version(Some(&ext));
    assert_ran_as(&m, &r, 4244, None, None);
}

#[test]
fn sources_listed_without_their_modules_know_no_names() {
    for module in ["sss", "ldap"] {
        assert!(
            !Path::new(&format!("/lib/x86_64-linux-gnu/libnss_{module}.so.2")).exists()
                && !Path::new(&format!("/usr/lib/libnss_{module}.so.2")).exists(),
            "libnss_{module} is installed: this test needs a host without it"
        );
        let nss = format!("passwd: files {module}\ngroup: files {module}\n");
        let unnamed = user(4343, &[3001]);
        let m = Machine::new(&nss, "", "");
        m.policy(Policy::Embedded);
        assert_ran_as(&m, &m.go_version(Some(&unnamed)), 4343, None, None);

        let m = Machine::new(&nss, "", "");
        m.policy(Policy::System(ENTERPRISE));
        let role = enterprise_role(&[]);
        assert_ran_as(&m, &m.go_version(Some(&unnamed)), 4343, None, Some(&role));

        let m = Machine::new(&nss, "", "gw-builders:x:3001:\n");
        m.policy(Policy::System(&small_policy("gw-dev", "gw-builders")));
        let r = m.go_version(Some(&unnamed));
        assert_ran_as(&m, &r, 4343, None, Some("builder"));
    }
}

/// The line the shim names for the binding holding `key_line`: its `[[binding]]` header.
fn binding_line(policy: &str, key_line: &str) -> usize {
    let lines: Vec<&str> = policy.lines().collect();
    let key = lines
        .iter()
        .position(|l| l.trim() == key_line)
        .unwrap_or_else(|| panic!("no line {key_line:?}"));
    lines[..key]
        .iter()
        .rposition(|l| l.trim() == "[[binding]]")
        .expect("a [[binding]] header above")
        + 1
}

#[test]
fn a_getent_that_stalls_or_fails_refuses_naming_the_binding_and_the_fix() {
    let nss = "passwd: files\ngroup: files sss\n";
    let policy = small_policy("gw-dev", "gw-builders");
    let unnamed = user(4343, &[]);
    let line = binding_line(&policy, "groups = [\"gw-builders\"]");

    for (script, why) in [
        (
            "#!/bin/sh\nexec sleep 30\n",
            "/usr/bin/getent did not answer within 2 s",
        ),
        (
            "#!/bin/sh\nexit 1\n",
            "/usr/bin/getent failed (exit status 1)",
        ),
    ] {
        let mut m = Machine::new(nss, "", "");
        m.host.bind("/usr/bin/getent", script, 0o755);
        m.policy(Policy::System(&policy));
        let start = Instant::now();
        let r = m.go_version(Some(&unnamed));
        assert!(start.elapsed() < Duration::from_secs(10), "bounded");
        assert_eq!(r.status(), CONFIG_ERROR, "{}{}", r.stdout, r.stderr);
        assert_eq!(r.stdout, "", "go did not run");
        let want = format!(
            "[[binding]] at /etc/gowarden/policy.toml:{line}: cannot resolve group \
             \"gw-builders\": /etc/group has no such group and /etc/nsswitch.conf lists sss for \
             group, but {why}; bind by `gids` instead of `groups`, which needs no lookup (the \
             gid is what `getent group gw-builders` prints third)"
        );
        assert!(r.stderr.contains(&want), "want {want}\nin:\n{}", r.stderr);
        let rec = m.last_record();
        assert_eq!(rec.str_attr(attr::GOWARDEN_DECISION), Some("deny"));
        assert_eq!(rec.str_attr(attr::USER_ID), Some("4343"));

        // The shipped example: its first group binding fails closed the same way.
        let mut m = Machine::new(nss, "", "");
        m.host.bind("/usr/bin/getent", script, 0o755);
        m.policy(Policy::System(ENTERPRISE));
        let r = m.go_version(Some(&unnamed));
        assert_eq!(r.status(), CONFIG_ERROR, "{}{}", r.stdout, r.stderr);
        assert_eq!(r.stdout, "", "go did not run");
        let first_group = ENTERPRISE
            .lines()
            .find(|l| l.trim_start().starts_with("groups = ["))
            .expect("the example binds a group");
        let name = first_group.split('"').nth(1).unwrap();
        let want = format!(
            "[[binding]] at /etc/gowarden/policy.toml:{}: cannot resolve group {name:?}: \
             /etc/group has no such group and /etc/nsswitch.conf lists sss for group, but {why}",
            binding_line(ENTERPRISE, first_group.trim())
        );
        assert!(r.stderr.contains(&want), "want {want}\nin:\n{}", r.stderr);

        // The embedded default policy needs no names: the broken getent is never asked.
        let mut m = Machine::new(nss, "", "");
        m.host.bind("/usr/bin/getent", script, 0o755);
        m.policy(Policy::Embedded);
        assert_ran_as(&m, &m.go_version(Some(&unnamed)), 4343, None, None);
    }
}

#[test]
fn getent_answers_are_kept_so_later_calls_start_no_getent() {
    let nss = "passwd: files\ngroup: files sss\n";
    let mut m = Machine::new(nss, "", "gw-builders:x:3001:\n");
    let real = m.host.root.join("real-getent");
    fs::copy("/usr/bin/getent", &real).unwrap();
    let log = m.host.root.join("getent.log");
    fs::write(&log, "").unwrap();
    fs::set_permissions(&log, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let wrapper = format!(
        "#!/bin/sh\necho \"$*\" >> {}\nexec {} \"$@\"\n",
        log.display(),
        real.display()
    );
    m.host.bind("/usr/bin/getent", &wrapper, 0o755);
    // Enterprise's groups (ci, auditors) are in no source here; gw-builders is in the file.
    m.policy(Policy::System(ENTERPRISE));
    let r = m.sh(
        Some(&user(4343, &[3001])),
        "go version && go version && go version",
    );
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.matches(&format!("fake go {FAKE}")).count(), 3);
    let calls = fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.lines().count(),
        1,
        "one getent for three calls: {calls}"
    );
    assert!(calls.starts_with("group "), "{calls}");
    let cache = m.sb.home.join(".local/state/gowarden/names");
    let meta = fs::symlink_metadata(&cache).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (4343, 0o600));
}
