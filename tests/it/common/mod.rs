//! Test harness: a sandbox per test with its own HOME, XDG dirs, system-policy location and a
//! shims dir whose `go` and `gofmt` link to the built gowarden binary, plus fake GOROOTs
//! (a VERSION file and a tiny `bin/go` script that reports its argv and environment) and the
//! real Go toolchains fetched by `scripts/fetch-go-toolchains.sh`.
#![allow(dead_code)]

#[cfg(not(feature = "test-hooks"))]
compile_error!("run the test suite with `cargo test --features test-hooks` (see README.md)");

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod snapshot;

pub const BIN: &str = env!("CARGO_BIN_EXE_gowarden");

pub struct Sandbox {
    /// Kept for its Drop, which removes the tree.
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub shims: PathBuf,
    /// Where fake toolchains go: gowarden's own toolchains dir under XDG_DATA_HOME.
    pub toolchains: PathBuf,
    /// The system policy location the test-hooks build reads (absent unless written).
    pub system_policy: PathBuf,
    /// A project dir for the test to fill.
    pub project: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        // Under the target dir: its ancestors are root-owned and, where others may write to
        // them, sticky (a clone in /tmp), as the system-policy trust check requires.
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        fs::create_dir_all(&base).unwrap();
        let tmp = tempfile::Builder::new()
            .prefix("gw-")
            .tempdir_in(&base)
            .unwrap();
        let root = tmp.path().canonicalize().unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        let home = root.join("home");
        let shims = root.join("shims");
        let toolchains = home.join(".local/share/gowarden/toolchains");
        let project = root.join("project");
        let tmp_dir = root.join("tmp");
        for d in [&home, &shims, &toolchains, &project, &tmp_dir] {
            fs::create_dir_all(d).unwrap();
        }
        for name in ["go", "gofmt"] {
            std::os::unix::fs::symlink(BIN, shims.join(name)).unwrap();
        }
        let sb = Sandbox {
            system_policy: root.join("etc/gowarden/policy.toml"),
            _tmp: tmp,
            root,
            home,
            shims,
            toolchains,
            project,
        };
        sb.write_policy(&sb.isolated_policy(""));
        sb
    }

    /// Writes the system policy (root-owned, 0644, in root-owned 0755 dirs).
    pub fn write_system_policy(&self, toml: &str) {
        let dir = self.system_policy.parent().unwrap();
        fs::create_dir_all(dir).unwrap();
        for d in [dir, dir.parent().unwrap()] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
        }
        fs::write(&self.system_policy, toml).unwrap();
        fs::set_permissions(&self.system_policy, fs::Permissions::from_mode(0o644)).unwrap();
    }

    /// A fake GOROOT for `version` (e.g. "go1.22.3") in gowarden's toolchains dir.
    pub fn fake_toolchain(&self, version: &str) -> PathBuf {
        let root = self.toolchains.join(version);
        fake_goroot(&root, version);
        root
    }

    /// A command with a clean environment: only what this sandbox sets, plus `PATH` with the
    /// shims first and the system dirs (never the machine's real go).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .current_dir(&self.project)
            .env("PATH", format!("{}:/usr/bin:/bin", self.shims.display()))
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("GOMODCACHE", self.home.join("go/pkg/mod"))
            // go's temp dir beside HOME, never above it: a role confined with `deny_read` of a
            // path in HOME cannot use a temp dir that holds that path (policies/README.md),
            // which the machine's /tmp would be for a checkout under /tmp.
            .env("TMPDIR", self.root.join("tmp"))
            .env("GOWARDEN_TEST_SYSTEM_POLICY", &self.system_policy)
            // Only the sandbox's toolchains, unless a test asks for more.
            .env("GOWARDEN_POLICY", self.user_policy_path());
        c
    }

    /// `go ARGS` through the shim.
    pub fn go(&self, args: &[&str]) -> Command {
        let mut c = self.command(self.shims.join("go"));
        c.args(args);
        c
    }

    /// `gowarden ARGS`.
    pub fn gowarden(&self, args: &[&str]) -> Command {
        let mut c = self.command(BIN);
        c.args(args);
        c
    }

    pub fn user_policy_path(&self) -> PathBuf {
        self.root.join("policy.toml")
    }

    /// Writes the policy the sandbox's commands use (`GOWARDEN_POLICY`). Unless the test writes
    /// one, [`Sandbox::isolated_policy`] is used.
    pub fn write_policy(&self, toml: &str) {
        fs::write(self.user_policy_path(), toml).unwrap();
        fs::set_permissions(self.user_policy_path(), fs::Permissions::from_mode(0o644)).unwrap();
    }

    /// A policy that finds only the sandbox's own toolchains, then `extra`.
    pub fn isolated_policy(&self, extra: &str) -> String {
        format!(
            "[toolchains]\nmodule_cache = false\nversion_managers = false\npath = false\n{extra}\n"
        )
    }

    pub fn write_project_file(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.project.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }
}

/// Writes a fake GOROOT at `root`: `VERSION` and `bin/go`, `bin/gofmt` scripts that print
/// `fake <tool> <version>`, one `arg=<arg>` line per argument, and `env:K=V` lines for the
/// whole environment (sorted), then exit with `$FAKE_GO_EXIT` (default 0).
pub fn fake_goroot(root: &Path, version: &str) {
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::write(
        root.join("VERSION"),
        format!("{version}\ntime 2024-01-01T00:00:00Z\n"),
    )
    .unwrap();
    for tool in ["go", "gofmt"] {
        let script = format!(
            "#!/bin/sh\necho \"fake {tool} {version}\"\nfor a in \"$@\"; do printf 'arg=%s\\n' \"$a\"; done\n\
             env | sort | sed 's/^/env:/'\nexit ${{FAKE_GO_EXIT:-0}}\n"
        );
        let p = root.join("bin").join(tool);
        fs::write(&p, script).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// What a fake go printed.
pub struct FakeRun {
    pub output: Output,
    pub stdout: String,
    pub stderr: String,
}

impl FakeRun {
    pub fn status(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    /// The version line of the fake that ran (`fake go go1.22.3`), if one ran.
    pub fn ran(&self) -> Option<&str> {
        self.stdout
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("fake "))
    }
    pub fn args(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("arg="))
            .collect()
    }
    pub fn env(&self, key: &str) -> Option<&str> {
        let prefix = format!("env:{key}=");
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
    }
}

pub fn run(mut c: Command) -> FakeRun {
    let output = c.output().expect("cannot start the command");
    FakeRun {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output,
    }
}

/// The real Go toolchains fetched by `scripts/fetch-go-toolchains.sh`: `(version, GOROOT)`.
/// Panics with the command to run when they are missing: a real-toolchain test must not
/// silently pass without one.
pub fn real_toolchains() -> Vec<(String, PathBuf)> {
    let cache = std::env::var_os("GOWARDEN_TOOLCHAIN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/gowarden-test-toolchains")
        });
    let arch = go_arch();
    let versions = ["go1.22.12", "go1.23.12"];
    versions
        .iter()
        .map(|v| {
            let root = cache.join(format!(
                "modcache/golang.org/toolchain@v0.0.1-{v}.linux-{arch}"
            ));
            assert!(
                root.join("bin/go").is_file(),
                "real toolchain {v} missing at {}: run scripts/fetch-go-toolchains.sh",
                root.display()
            );
            (v.to_string(), root)
        })
        .collect()
}

/// The module proxy's zip of real toolchain `name` (as `real_toolchains` names it), kept in the
/// same cache: `v0.0.1-go1.23.12.linux-amd64.zip`, the form a GOPROXY serves.
pub fn real_toolchain_zip(name: &str) -> PathBuf {
    let (_, root) = real_toolchains()
        .into_iter()
        .find(|(v, _)| v == name)
        .unwrap_or_else(|| panic!("{name} is not one of the real toolchains"));
    let version = root
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("toolchain@"))
        .expect("a module cache dir")
        .to_string();
    // <cache>/modcache/golang.org/toolchain@… → <cache>/modcache/cache/download/…
    root.ancestors()
        .nth(2)
        .expect("the module cache")
        .join("cache/download/golang.org/toolchain/@v")
        .join(format!("{version}.zip"))
}

/// Go's name for this machine's architecture (`amd64`), as in toolchain module names.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    }
}

/// `search = [...]` naming the real toolchains' GOROOTs, for a `[toolchains]` table.
pub fn real_toolchains_search() -> String {
    let roots: Vec<String> = real_toolchains()
        .iter()
        .map(|(_, root)| format!("{:?}", root.display().to_string()))
        .collect();
    format!("search = [{}]\n", roots.join(", "))
}

/// The UTC date `offset` days from today, computed by `date(1)` so the tests do not check
/// gowarden's date arithmetic against itself.
pub fn day(offset: i64) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("{offset} days"), "+%F"])
        .output()
        .expect("date(1)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The 1-based line of the first line of `text` containing `needle`.
pub fn line_containing(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {text}"))
        + 1
}

/// Asserts that `haystack` contains every one of `wants`.
pub fn assert_has(haystack: &str, wants: &[&str]) {
    for w in wants {
        assert!(haystack.contains(w), "missing {w:?} in:\n{haystack}");
    }
}

/// The exit status of a call the policy refused (the shim never ran go): sysexits.h
/// `EX_NOPERM`, as docs/cli.md "Exit status" documents. One name for it, so the tests follow
/// the documented value.
pub const REFUSED: i32 = 77;

/// The exit status of a call the shim could not work out (policy unreadable or invalid, a
/// malformed version file, no matching toolchain, a missing `-C` dir): `EX_CONFIG`.
pub const CONFIG_ERROR: i32 = 78;

/// Where `scripts/build-release.sh` puts the binary in `target_dir`, and whether it is the
/// static musl build: on Linux x86_64/aarch64 it must be (.ci/run installs the target, so the
/// glibc fallback does not count as passing).
pub fn release_build_in(target_dir: &Path) -> (PathBuf, bool) {
    let musl = cfg!(target_os = "linux") && matches!(std::env::consts::ARCH, "x86_64" | "aarch64");
    let path = if musl {
        target_dir.join(format!(
            "{}-unknown-linux-musl/release/gowarden",
            std::env::consts::ARCH
        ))
    } else {
        target_dir.join("release/gowarden")
    };
    (path, musl)
}

/// The binary exactly as install.sh builds it (`scripts/build-release.sh`), built once per
/// target dir: concurrent test binaries wait on a lock instead of building twice.
pub fn shipped_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
            let lock = fs::File::create(target_dir.join(".shipped-binary.lock")).unwrap();
            lock.lock().unwrap();
            let out = Command::new(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-release.sh"),
            )
            .env("CARGO_TARGET_DIR", target_dir)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("scripts/build-release.sh");
            assert!(out.status.success(), "scripts/build-release.sh failed");
            let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
            assert!(path.is_file(), "build-release.sh named {}", path.display());
            path
        })
        .clone()
}

/// Who a [`Host`] command runs as: real and effective uid and gid, and the supplementary gids
/// (none: `--clear-groups`).
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// A host of its own for a command, as the release binary (which has no test hooks) would meet
/// one: a private mount namespace (`unshare -m`, root only) in which an overlay puts the files
/// written with [`Host::etc`] over the machine's `/etc` (`passwd`, `group`, `nsswitch.conf`,
/// `gowarden/policy.toml`...), [`Host::bind`] files over any other path (a fake
/// `/usr/bin/getent`, `/var/lib/extrausers/group`), and `setpriv` drops to a [`RunAs`]. Nothing
/// outside the namespace changes.
pub struct Host {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    /// The overlay's upper dir: what the command sees in /etc.
    upper: PathBuf,
    binds: Vec<(PathBuf, PathBuf)>,
}

impl Host {
    pub fn new() -> Host {
        assert!(
            nix::unistd::geteuid().is_root(),
            "tests of the shipped binary under other /etc files need root (unshare -m)"
        );
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        fs::create_dir_all(&base).unwrap();
        let tmp = tempfile::Builder::new()
            .prefix("host-")
            .tempdir_in(&base)
            .unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let upper = root.join("etc");
        for d in [&root, &upper, &root.join("work"), &root.join("var-log")] {
            fs::create_dir_all(d).unwrap();
            // /etc is world-readable; so is everything a dropped uid must reach here.
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
        }
        // The shared audit layout `install.sh --system` makes (root, 1733), on this host only:
        // a policy that pins its `[audit] path` there (the enterprise example does) must never
        // write into the machine's real /var/log.
        let audit_dir = root.join("var-log/gowarden");
        fs::create_dir_all(&audit_dir).unwrap();
        fs::set_permissions(&audit_dir, fs::Permissions::from_mode(0o1733)).unwrap();
        Host {
            binds: vec![(root.join("var-log"), PathBuf::from("/var/log"))],
            _tmp: tmp,
            root,
            upper,
        }
    }

    /// What the command sees as `/var/log/gowarden`: the shared audit directory.
    pub fn audit_dir(&self) -> PathBuf {
        self.root.join("var-log/gowarden")
    }

    /// Writes `/etc/REL` (root-owned, 0644, in 0755 dirs), e.g. `etc("group", "ci:x:3000:\n")`.
    pub fn etc(&self, rel: &str, text: &str) -> &Self {
        let p = self.upper.join(rel);
        let mut dir = p.parent().unwrap().to_path_buf();
        fs::create_dir_all(&dir).unwrap();
        while dir != self.upper {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
            dir = dir.parent().unwrap().to_path_buf();
        }
        fs::write(&p, text).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        self
    }

    /// The system policy: `/etc/gowarden/policy.toml`.
    pub fn system_policy(&self, toml: &str) -> &Self {
        self.etc("gowarden/policy.toml", toml)
    }

    /// Puts a file with `text` and `mode` over the existing file `target`.
    pub fn bind(&mut self, target: &str, text: &str, mode: u32) -> &mut Self {
        let src = self.root.join(format!("bind-{}", self.binds.len()));
        fs::write(&src, text).unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(mode)).unwrap();
        self.binds.push((src, PathBuf::from(target)));
        self
    }

    /// Puts the directory `dir` (its files made world-readable) over the existing dir `target`.
    pub fn bind_dir(&mut self, target: &str, files: &[(&str, &str)]) -> &mut Self {
        let src = self.root.join(format!("bind-{}", self.binds.len()));
        fs::create_dir_all(&src).unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(0o755)).unwrap();
        for (name, text) in files {
            fs::write(src.join(name), text).unwrap();
            fs::set_permissions(src.join(name), fs::Permissions::from_mode(0o644)).unwrap();
        }
        self.binds.push((src, PathBuf::from(target)));
        self
    }

    /// `c` (program, arguments, working dir and exactly the environment set on it, as
    /// [`Sandbox::command`] clears the rest) run on this host as `user` (`None`: root).
    pub fn command(&self, user: Option<&RunAs>, c: &Command) -> Command {
        let q = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
        let mut script = format!(
            "set -e\nmount -t overlay overlay -o lowerdir=/etc,upperdir={},workdir={} /etc\n",
            q(&self.upper),
            q(&self.root.join("work"))
        );
        for (src, target) in &self.binds {
            script.push_str(&format!("mount --bind {} {}\n", q(src), q(target)));
        }
        match user {
            Some(u) => {
                let groups = if u.groups.is_empty() {
                    "--clear-groups".to_string()
                } else {
                    let list: Vec<String> = u.groups.iter().map(u32::to_string).collect();
                    format!("--groups {}", list.join(","))
                };
                script.push_str(&format!(
                    "exec setpriv --reuid {} --regid {} {groups} -- \"$@\"\n",
                    u.uid, u.gid
                ));
            }
            None => script.push_str("exec \"$@\"\n"),
        }
        let mut w = Command::new("unshare");
        w.args([
            "-m",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            &script,
            "host",
        ])
        .arg(c.get_program())
        .args(c.get_args())
        .env_clear();
        for (k, v) in c.get_envs() {
            if let Some(v) = v {
                w.env(k, v);
            }
        }
        if let Some(dir) = c.get_current_dir() {
            w.current_dir(dir);
        }
        w
    }
}
