//! install.sh, the profile snippet and the Dev Container Feature, run for real from a clean
//! environment into temp prefixes, temp homes and temp roots (DESTDIR).

use crate::common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{BIN, FakeRun, Sandbox, go_arch, real_toolchains, run};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// `sh SCRIPT ARGS` with nothing from the test's environment but what it is given.
fn clean_sh(script: &Path, args: &[&str], env: &[(&str, &Path)]) -> Command {
    let mut c = Command::new("/bin/sh");
    c.arg(script)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn install_sh() -> PathBuf {
    Path::new(REPO).join("install.sh")
}

/// Every path under `root`, relative, sorted.
fn tree(root: &Path) -> BTreeSet<String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            out.insert(p.strip_prefix(root).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                walk(&p, root, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

fn ok(r: &FakeRun) {
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
}

/// The policy the installed shims use: the real go1.23.12 and nothing else of this machine's.
fn real_go_policy(sb: &Sandbox) -> PathBuf {
    let (_, root) = real_toolchains()
        .into_iter()
        .find(|(v, _)| v == "go1.23.12")
        .unwrap();
    let p = sb.root.join("company-policy.toml");
    fs::write(
        &p,
        sb.isolated_policy(&format!("search = [{:?}]\n", root.display().to_string())),
    )
    .unwrap();
    p
}

#[test]
fn install_sh_builds_with_cargo_from_a_clean_env_and_go_runs_through_the_shim() {
    let sb = Sandbox::new();
    let policy = real_go_policy(&sb);
    let real_home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".cargo"));
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".rustup"));
    // The test build's target dir: a second run of the suite reuses the release build.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let prefix = sb.root.join("prefix");
    let mut c = clean_sh(
        &install_sh(),
        &[
            "--prefix",
            prefix.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
        &[
            ("HOME", &sb.home),
            ("CARGO_HOME", &cargo_home),
            ("RUSTUP_HOME", &rustup_home),
            ("CARGO_TARGET_DIR", target_dir),
        ],
    );
    c.env(
        "PATH",
        format!("/usr/bin:/bin:{}", cargo_home.join("bin").display()),
    );
    if let Some(tc) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        c.env("RUSTUP_TOOLCHAIN", tc);
    }
    let r = run(c);
    ok(&r);
    assert!(
        r.stdout.contains("no problems found"),
        "doctor with the shims first: {}",
        r.stdout
    );
    let installed = prefix.join("bin/gowarden");
    // scripts/build-release.sh: on Linux x86_64/aarch64 a static, non-PIE musl build (.ci/run
    // installs the target, so the glibc fallback does not count as passing here).
    let (built, musl) = common::release_build_in(target_dir);
    let bytes = fs::read(&installed).unwrap();
    assert_eq!(
        bytes,
        fs::read(&built).unwrap(),
        "the installed binary is the release build"
    );
    if musl {
        assert!(
            has_interpreter(&fs::read("/bin/sh").unwrap()),
            "the check sees a dynamic one"
        );
        assert!(
            !has_interpreter(&bytes),
            "statically linked: no program interpreter"
        );
        assert_eq!(elf_type(&bytes), 2, "ET_EXEC: not position-independent");
        assert_eq!(
            elf_type(&fs::read("/bin/sh").unwrap()),
            3,
            "the check sees a PIE"
        );
    }
    assert_eq!(
        fs::read_to_string(sb.home.join(".config/gowarden/policy.toml")).unwrap(),
        fs::read_to_string(&policy).unwrap()
    );

    // A login shell as the user gets it: the profile sources the snippet, go is the shim.
    let r = login_shell(&sb, "command -v go && command -v gowarden && go version");
    ok(&r);
    let shim = prefix.join("share/gowarden/shims/go");
    assert_eq!(
        r.stdout,
        format!(
            "{}\n{}\ngo version go1.23.12 linux/{}\n",
            shim.display(),
            installed.display(),
            go_arch()
        )
    );
    // The static binary still finds the user's name through NSS for its audit record.
    let me = nix::unistd::User::from_uid(nix::unistd::getuid())
        .unwrap()
        .unwrap()
        .name;
    let log = fs::read_to_string(sb.home.join(".local/state/gowarden/audit.jsonl")).unwrap();
    assert!(
        log.contains(&format!(
            r#""key":"user.name","value":{{"stringValue":"{me}"}}"#
        )),
        "{log}"
    );
}

/// Whether an ELF64 little-endian executable names a program interpreter (PT_INTERP), i.e.
/// is dynamically linked.
fn has_interpreter(elf: &[u8]) -> bool {
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let o = phoff + i * size;
        u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) == 3
    })
}

/// The ELF header's `e_type`: 2 for a fixed-address executable, 3 for a PIE (or library).
fn elf_type(elf: &[u8]) -> u16 {
    u16::from_le_bytes([elf[0x10], elf[0x11]])
}

/// Runs `commands` in the sandbox's project dir as a login shell of the sandbox's user would:
/// a clean environment, then `~/.profile`.
fn login_shell(sb: &Sandbox, commands: &str) -> FakeRun {
    let script = format!("cd \"$1\" && . \"$HOME/.profile\" && {commands}");
    let mut c = Command::new("/bin/sh");
    c.args(["-c", &script, "sh", sb.project.to_str().unwrap()])
        .env_clear()
        .env("HOME", &sb.home)
        .env("PATH", "/usr/bin:/bin");
    run(c)
}

#[test]
fn install_sh_is_idempotent_and_uninstall_removes_exactly_what_it_installed() {
    let sb = Sandbox::new();
    fs::write(sb.home.join(".bashrc"), "export EDITOR=vi\n").unwrap();
    let before = tree(&sb.home);
    let env = [
        ("HOME", sb.home.as_path()),
        ("GOWARDEN_BINARY", Path::new(BIN)),
    ];
    for _ in 0..2 {
        ok(&run(clean_sh(&install_sh(), &[], &env)));
    }
    let rc_line = format!(
        "if [ -r '{0}' ]; then . '{0}'; fi # added by gowarden install.sh",
        sb.home.join(".local/share/gowarden/profile.sh").display()
    );
    assert_eq!(
        fs::read_to_string(sb.home.join(".bashrc")).unwrap(),
        format!("export EDITOR=vi\n{rc_line}\n"),
        "one line, however often install.sh runs"
    );
    assert_eq!(
        fs::read_to_string(sb.home.join(".profile")).unwrap(),
        format!("{rc_line}\n"),
        "login shells read ~/.profile, so it is created"
    );
    let shims = sb.home.join(".local/share/gowarden/shims");
    for tool in [
        "go",
        "gofmt",
        "gopls",
        "staticcheck",
        "golangci-lint",
        "dlv",
    ] {
        assert_eq!(
            fs::read_link(shims.join(tool)).unwrap(),
            Path::new("../../../bin/gowarden")
        );
    }
    assert_eq!(
        fs::metadata(sb.home.join(".local/bin/gowarden"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );

    // Sourced twice, with the shims dir already in the middle of PATH: once, and first.
    let script = ". \"$HOME/.profile\"; . \"$HOME/.bashrc\"; printf %s \"$PATH\"";
    let mut c = Command::new("/bin/sh");
    c.args(["-c", script])
        .env_clear()
        .env("HOME", &sb.home)
        .env("PATH", format!("/usr/bin::{}:/bin:", shims.display()));
    let r = run(c);
    assert_eq!(
        r.stdout,
        format!(
            "{}:{}:/usr/bin::/bin:",
            shims.display(),
            sb.home.join(".local/bin").display()
        )
    );

    // A toolchain gowarden installed is not install.sh's to remove.
    sb.fake_toolchain("go1.22.3");
    let r = run(clean_sh(&install_sh(), &["--uninstall"], &env));
    ok(&r);
    let mut expected = before.clone();
    for kept in [
        ".local",
        ".local/share",
        ".local/share/gowarden",
        ".local/share/gowarden/toolchains",
        ".local/share/gowarden/toolchains/go1.22.3",
    ] {
        expected.insert(kept.to_string());
    }
    let after: BTreeSet<String> = tree(&sb.home)
        .into_iter()
        .filter(|p| !p.starts_with(".local/share/gowarden/toolchains/go1.22.3/"))
        .collect();
    assert_eq!(after, expected);
    assert_eq!(
        fs::read_to_string(sb.home.join(".bashrc")).unwrap(),
        "export EDITOR=vi\n"
    );
    let again = run(clean_sh(&install_sh(), &["--uninstall"], &env));
    assert_eq!(again.status(), 1);
    assert!(
        again.stderr.contains("nothing to uninstall"),
        "{}",
        again.stderr
    );
}

#[test]
fn install_sh_installs_nothing_when_the_policy_does_not_load() {
    let sb = Sandbox::new();
    let bad = sb.root.join("bad.toml");
    fs::write(&bad, "[toolchains]\nauto_instal = true\n").unwrap();
    let before = tree(&sb.home);
    let r = run(clean_sh(
        &install_sh(),
        &["--policy", bad.to_str().unwrap()],
        &[("HOME", &sb.home), ("GOWARDEN_BINARY", Path::new(BIN))],
    ));
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr.contains(&format!("{}:2:1", bad.display()))
            && r.stderr.contains("nothing was installed"),
        "{}",
        r.stderr
    );
    assert_eq!(tree(&sb.home), before);
}

/// What a `--system` install into DESTDIR `root` must have put there.
fn assert_system_install(root: &Path, policy: &Path) {
    let bin = root.join("usr/local/bin/gowarden");
    assert_eq!(fs::read(&bin).unwrap(), fs::read(BIN).unwrap());
    assert_eq!(fs::metadata(&bin).unwrap().mode() & 0o777, 0o755);
    assert_eq!(
        fs::read_link(root.join("usr/local/share/gowarden/shims/go")).unwrap(),
        Path::new("../../../bin/gowarden")
    );
    let snippet = fs::read_to_string(root.join("etc/profile.d/gowarden.sh")).unwrap();
    assert!(
        snippet.contains("_gowarden_shims='/usr/local/share/gowarden/shims'"),
        "the snippet names the final path, not DESTDIR: {snippet}"
    );
    let installed = root.join("etc/gowarden/policy.toml");
    assert_eq!(fs::read(&installed).unwrap(), fs::read(policy).unwrap());
    let m = fs::metadata(&installed).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o777), (0, 0, 0o644));
    let d = fs::metadata(root.join("etc/gowarden")).unwrap();
    assert_eq!((d.uid(), d.mode() & 0o777), (0, 0o755));
    // The system policy's snapshot dir: root's alone, or no call would trust a snapshot in it.
    let c = fs::metadata(root.join("var/cache/gowarden")).unwrap();
    assert_eq!((c.uid(), c.gid(), c.mode() & 0o7777), (0, 0, 0o755));
    // The man page and completions, where man (MANDATORY_MANPATH), bash-completion
    // (XDG_DATA_DIRS), zsh (its default fpath) and fish (vendor_completions.d) look.
    for (rel, args) in generated_files("usr/local") {
        let path = root.join(&rel);
        assert_eq!(
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}")),
            generated(args),
            "{rel}"
        );
        let m = fs::metadata(&path).unwrap();
        assert_eq!((m.uid(), m.mode() & 0o777), (0, 0o644), "{rel}");
    }
}

/// What install.sh puts under PREFIX (`prefix`, relative) from the binary's own output: the
/// man page and the completion scripts, with the `gowarden` arguments that print each.
fn generated_files(prefix: &str) -> Vec<(String, &'static [&'static str])> {
    [
        ("share/man/man1/gowarden.1", &["man"][..]),
        (
            "share/bash-completion/completions/gowarden",
            &["completion", "bash"][..],
        ),
        (
            "share/zsh/site-functions/_gowarden",
            &["completion", "zsh"][..],
        ),
        (
            "share/fish/vendor_completions.d/gowarden.fish",
            &["completion", "fish"][..],
        ),
    ]
    .into_iter()
    .map(|(rel, args)| (format!("{prefix}/{rel}"), args))
    .collect()
}

/// `gowarden ARGS`' stdout.
fn generated(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "gowarden {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn install_sh_system_into_destdir_installs_a_root_owned_policy_and_uninstalls() {
    let sb = Sandbox::new();
    let policy = real_go_policy(&sb);
    // A tool the policy pins gets a shim beside the built-in ones (docs/tools.md).
    let mut text = fs::read_to_string(&policy).unwrap();
    text.push_str("[tools]\nstringer = \"golang.org/x/tools/cmd/stringer@v0.30.0\"\n");
    fs::write(&policy, text).unwrap();
    let root = sb.root.join("image");
    fs::create_dir(&root).unwrap();
    let system_policy = root.join("etc/gowarden/policy.toml");
    let env = [
        ("HOME", sb.home.as_path()),
        ("GOWARDEN_BINARY", Path::new(BIN)),
        ("DESTDIR", &root),
        ("GOWARDEN_TEST_SYSTEM_POLICY", &system_policy),
    ];
    let home_before = tree(&sb.home);
    let r = run(clean_sh(
        &install_sh(),
        &["--system", "--policy", policy.to_str().unwrap()],
        &env,
    ));
    ok(&r);
    assert_system_install(&root, &policy);
    let shims = root.join("usr/local/share/gowarden/shims");
    let mut linked: Vec<String> = fs::read_dir(&shims)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    linked.sort();
    assert_eq!(
        linked,
        [
            "dlv",
            "go",
            "gofmt",
            "golangci-lint",
            "gopls",
            "staticcheck",
            "stringer"
        ]
    );
    for tool in &linked {
        assert_eq!(
            fs::read_link(shims.join(tool)).unwrap(),
            Path::new("../../../bin/gowarden")
        );
    }
    assert!(
        r.stdout.contains("(system policy) loads") && r.stdout.contains("no problems found"),
        "doctor checks the installed tree: {}",
        r.stdout
    );
    assert_eq!(
        tree(&sb.home),
        home_before,
        "a system install leaves HOME alone"
    );
    ok(&run(clean_sh(
        &install_sh(),
        &["--system", "--uninstall"],
        &env,
    )));
    assert_eq!(tree(&root), BTreeSet::new());
}

/// The Dev Container Feature as `package.sh` makes it, with a prebuilt binary.
fn packaged_feature(sb: &Sandbox) -> PathBuf {
    let out = sb.root.join("feature");
    let r = run(clean_sh(
        &Path::new(REPO).join("shims/devcontainer/package.sh"),
        &[out.to_str().unwrap(), "--binary", BIN],
        &[],
    ));
    ok(&r);
    out
}

#[test]
fn devcontainer_feature_installs_system_wide_with_its_policy_option() {
    let sb = Sandbox::new();
    let feature = packaged_feature(&sb);
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(feature.join("devcontainer-feature.json")).unwrap())
            .unwrap();
    assert_eq!(json["id"], "gowarden");
    assert_eq!(json["options"]["system"]["default"], true);
    assert_eq!(json["options"]["policy"]["type"], "string");
    assert_eq!(
        json["containerEnv"]["PATH"],
        "/usr/local/share/gowarden/shims:${PATH}"
    );

    let policy = real_go_policy(&sb);
    let root = sb.root.join("image");
    fs::create_dir(&root).unwrap();
    let system_policy = root.join("etc/gowarden/policy.toml");
    let r = run(clean_sh(
        &feature.join("install.sh"),
        &[],
        &[
            ("POLICY", &policy),
            ("SYSTEM", Path::new("true")),
            ("DESTDIR", &root),
            ("GOWARDEN_TEST_SYSTEM_POLICY", &system_policy),
        ],
    ));
    ok(&r);
    assert_system_install(&root, &policy);
    // From the packaged copy, not from this checkout.
    assert!(r.stdout.contains("no problems found"), "{}", r.stdout);

    let r = run(clean_sh(
        &feature.join("install.sh"),
        &[],
        &[("SYSTEM", Path::new("maybe")), ("DESTDIR", &root)],
    ));
    assert_eq!(r.status(), 1);
    assert!(r.stderr.contains("true or false"), "{}", r.stderr);
}

/// A file:// module proxy holding the real go1.23.12's zip, the version install.sh pins.
fn local_proxy_with_go1_23_12(sb: &Sandbox) -> PathBuf {
    let zip = common::real_toolchain_zip("go1.23.12");
    let zip_name = zip.file_name().unwrap().to_owned();
    let dir = sb.root.join("proxy/golang.org/toolchain/@v");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(zip, dir.join(zip_name)).unwrap();
    sb.root.join("proxy")
}

#[test]
fn install_sh_go_installs_a_first_toolchain_without_any_go_on_the_machine() {
    let sb = Sandbox::new();
    let proxy = local_proxy_with_go1_23_12(&sb);
    // A policy that sees no go anywhere: only the pinned zip can provide one.
    let policy = sb.root.join("no-go.toml");
    fs::write(&policy, sb.isolated_policy("search = []\n")).unwrap();
    // A version with no pin needs a go to fetch it with; there is none to be seen.
    let r = run(clean_sh(
        &install_sh(),
        &["--go", "1.21.13", "--policy", policy.to_str().unwrap()],
        &[("HOME", &sb.home), ("GOWARDEN_BINARY", Path::new(BIN))],
    ));
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr.contains("go1.21.13 is not") && r.stderr.contains("--archive"),
        "{}",
        r.stderr
    );
    let url = format!("file://{}", proxy.display());
    let mut c = clean_sh(
        &install_sh(),
        &["--go", "1.23.12", "--policy", policy.to_str().unwrap()],
        &[("HOME", &sb.home), ("GOWARDEN_BINARY", Path::new(BIN))],
    );
    c.env("GOPROXY", format!("off,{url}"));
    let r = run(c);
    ok(&r);
    assert!(
        r.stdout.contains(&format!(
            "fetching {url}/golang.org/toolchain/@v/v0.0.1-go1.23.12.linux-"
        )) && r.stdout.contains("installed go1.23.12")
            && r.stdout.contains("module zip")
            && r.stdout.contains("no problems found"),
        "{}",
        r.stdout
    );
    let r = login_shell(&sb, "go version");
    assert_eq!(
        r.stdout,
        format!("go version go1.23.12 linux/{}\n", go_arch()),
        "{}",
        r.stderr
    );

    let r = run(clean_sh(
        &install_sh(),
        &["--system", "--go", "1.23.12"],
        &[("HOME", &sb.home), ("GOWARDEN_BINARY", Path::new(BIN))],
    ));
    assert_eq!(r.status(), 1);
    assert!(r.stderr.contains("not with --system"), "{}", r.stderr);
}

/// `bash -l -c COMMANDS` from a clean environment, as a new terminal of the sandbox's user.
fn bash_login(sb: &Sandbox, commands: &str) -> FakeRun {
    let mut c = Command::new("bash");
    c.args(["-l", "-c", commands])
        .current_dir(&sb.project)
        .env_clear()
        .env("HOME", &sb.home)
        .env("PATH", "/usr/bin:/bin");
    run(c)
}

/// How often `dir` is an entry of the `PATH` value `path`.
fn entries(path: &str, dir: &Path) -> usize {
    path.split(':').filter(|e| Path::new(e) == dir).count()
}

/// The lines Debian's /etc/skel/.profile and .bashrc hold that matter here: ~/.local/bin on
/// PATH when it exists, and .bashrc sourced by bash login shells.
const SKEL_PROFILE: &str = r#"if [ -n "$BASH_VERSION" ]; then
    if [ -f "$HOME/.bashrc" ]; then
        . "$HOME/.bashrc"
    fi
fi
if [ -d "$HOME/.local/bin" ] ; then
    PATH="$HOME/.local/bin:$PATH"
fi
"#;

#[test]
fn a_new_login_shell_has_gowarden_on_path_once_for_local_and_prefix_installs() {
    // A fresh HOME: install.sh creates ~/.profile, and its snippet brings ~/.local/bin.
    let sb = Sandbox::new();
    let env = [
        ("HOME", sb.home.as_path()),
        ("GOWARDEN_BINARY", Path::new(BIN)),
    ];
    // What /etc/profile makes of PATH, before anything of gowarden's.
    let before = bash_login(&sb, "command -v gowarden || printf %s \"$PATH\"");
    let base = before.stdout;
    assert!(!base.contains("gowarden"), "{base}");
    ok(&run(clean_sh(&install_sh(), &[], &env)));
    let bin = sb.home.join(".local/bin");
    let shims = sb.home.join(".local/share/gowarden/shims");
    let r = bash_login(
        &sb,
        "command -v gowarden; command -v go; printf %s \"$PATH\"",
    );
    ok(&r);
    let mut lines = r.stdout.lines();
    assert_eq!(lines.next(), Some(bin.join("gowarden").to_str().unwrap()));
    assert_eq!(lines.next(), Some(shims.join("go").to_str().unwrap()));
    let path = lines.next().unwrap();
    assert_eq!(
        path,
        format!("{}:{}:{base}", shims.display(), bin.display())
    );

    // Debian's skeleton files already put ~/.local/bin on PATH, and a bash login shell reads
    // both ~/.profile and ~/.bashrc (each with the line): still once each.
    let sb = Sandbox::new();
    fs::write(sb.home.join(".profile"), SKEL_PROFILE).unwrap();
    fs::write(sb.home.join(".bashrc"), "export EDITOR=vi\n").unwrap();
    let env = [
        ("HOME", sb.home.as_path()),
        ("GOWARDEN_BINARY", Path::new(BIN)),
    ];
    ok(&run(clean_sh(&install_sh(), &[], &env)));
    let bin = sb.home.join(".local/bin");
    let shims = sb.home.join(".local/share/gowarden/shims");
    let r = bash_login(&sb, "command -v gowarden; printf %s \"$PATH\"");
    ok(&r);
    let (first, path) = r.stdout.split_once('\n').unwrap();
    assert_eq!(first, bin.join("gowarden").to_str().unwrap());
    assert_eq!(
        (entries(path, &bin), entries(path, &shims)),
        (1, 1),
        "{path}"
    );
    assert!(path.starts_with(&format!("{}:", shims.display())), "{path}");

    // --prefix: its bin dir, which nothing else puts on PATH.
    let sb = Sandbox::new();
    let prefix = sb.root.join("opt/gowarden");
    let env = [
        ("HOME", sb.home.as_path()),
        ("GOWARDEN_BINARY", Path::new(BIN)),
    ];
    ok(&run(clean_sh(
        &install_sh(),
        &["--prefix", prefix.to_str().unwrap()],
        &env,
    )));
    let r = bash_login(
        &sb,
        ". \"$HOME/.profile\"; command -v gowarden; printf %s \"$PATH\"",
    );
    ok(&r);
    let (first, path) = r.stdout.split_once('\n').unwrap();
    assert_eq!(first, prefix.join("bin/gowarden").to_str().unwrap());
    assert_eq!(
        path,
        format!(
            "{}:{}:{base}",
            prefix.join("share/gowarden/shims").display(),
            prefix.join("bin").display()
        ),
        "sourced twice, each dir once"
    );
}

#[test]
fn install_sh_into_a_destdir_that_does_not_exist_creates_it_and_ends() {
    let sb = Sandbox::new();
    let root = sb.root.join("stage/not/yet");
    // `timeout`: the walk up to a missing DESTDIR once looped forever.
    let mut c = Command::new("timeout");
    c.args(["60", "/bin/sh"])
        .arg(install_sh())
        .args(["--system"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &sb.home)
        .env("GOWARDEN_BINARY", BIN)
        .env("DESTDIR", &root);
    let r = run(c);
    ok(&r);
    assert!(root.join("usr/local/bin/gowarden").is_file());
    let manifest =
        fs::read_to_string(root.join("usr/local/share/gowarden/install-manifest")).unwrap();
    assert!(
        manifest.contains("dir /usr/local/share/gowarden\n")
            && !manifest
                .lines()
                .any(|l| l == "dir /" || l.contains("stage")),
        "only paths inside the staged tree: {manifest}"
    );
    ok(&run(clean_sh(
        &install_sh(),
        &["--system", "--uninstall"],
        &[
            ("HOME", sb.home.as_path()),
            ("DESTDIR", &root),
            ("GOWARDEN_BINARY", Path::new(BIN)),
        ],
    )));
    assert_eq!(tree(&root), BTreeSet::new());
}

#[test]
fn install_sh_go_makes_that_version_the_default_where_no_file_pins_one() {
    let sb = Sandbox::new();
    let proxy = local_proxy_with_go1_23_12(&sb);
    // A newer toolchain is installed: the default policy alone would pick it.
    sb.fake_toolchain("go1.99.0");
    let env = [
        ("HOME", sb.home.as_path()),
        ("GOWARDEN_BINARY", Path::new(BIN)),
    ];
    ok(&run(clean_sh(&install_sh(), &[], &env)));
    let r = login_shell(&sb, "go version");
    assert_eq!(
        r.stdout.lines().next(),
        Some("fake go go1.99.0"),
        "{}",
        r.stderr
    );

    let mut c = clean_sh(&install_sh(), &["--go", "1.23.12"], &env);
    c.env("GOPROXY", format!("file://{}", proxy.display()));
    let r = run(c);
    ok(&r);
    let user_policy = sb.home.join(".config/gowarden/policy.toml");
    let text = fs::read_to_string(&user_policy).unwrap();
    assert!(
        text.contains("[toolchains]\ndefault = \"1.23.12\"\n"),
        "the embedded default policy with the version as its default: {text}"
    );
    assert!(
        text.contains(
            &fs::read_to_string(Path::new(REPO).join("policies/default.toml")).unwrap()[..40]
        ),
        "{text}"
    );
    let r = login_shell(&sb, "go version && gowarden which");
    ok(&r);
    assert!(
        r.stdout
            .starts_with(&format!("go version go1.23.12 linux/{}\n", go_arch())),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("policy default"), "{}", r.stdout);
    // A project's pin still wins.
    sb.write_project_file(".go-version", "1.99.0\n");
    let r = login_shell(&sb, "go version");
    assert_eq!(
        r.stdout.lines().next(),
        Some("fake go go1.99.0"),
        "{}",
        r.stderr
    );

    // Run again with another version: the policy it installed is its to change.
    fs::remove_file(sb.project.join(".go-version")).unwrap();
    sb.fake_toolchain("go1.22.3");
    let r = run(clean_sh(&install_sh(), &["--go", "1.22.3"], &env));
    ok(&r);
    assert!(
        r.stdout.contains("go1.22.3 is already installed"),
        "{}",
        r.stdout
    );
    let text = fs::read_to_string(&user_policy).unwrap();
    assert_eq!(text.matches("\ndefault = ").count(), 1, "{text}");
    assert!(text.contains("default = \"1.22.3\""), "{text}");
    let r = login_shell(&sb, "go version");
    assert_eq!(
        r.stdout.lines().next(),
        Some("fake go go1.22.3"),
        "{}",
        r.stderr
    );

    // Uninstall removes the policy it wrote; a policy of the user's own is never touched.
    ok(&run(clean_sh(&install_sh(), &["--uninstall"], &env)));
    assert!(!user_policy.exists());
    fs::create_dir_all(user_policy.parent().unwrap()).unwrap();
    fs::write(&user_policy, "[policy]\nname = \"mine\"\n").unwrap();
    let mut c = clean_sh(&install_sh(), &["--go", "1.23.12"], &env);
    c.env("GOPROXY", format!("file://{}", proxy.display()));
    let r = run(c);
    ok(&r);
    assert_eq!(
        fs::read_to_string(&user_policy).unwrap(),
        "[policy]\nname = \"mine\"\n"
    );
    assert!(
        r.stdout.contains("your own policy") && r.stdout.contains("default = \"1.23.12\""),
        "{}",
        r.stdout
    );
}

#[test]
fn install_sh_installs_the_man_page_and_completions_where_man_and_the_shells_look() {
    let sb = Sandbox::new();
    let before = tree(&sb.home);
    let env = [
        ("HOME", sb.home.as_path()),
        ("GOWARDEN_BINARY", Path::new(BIN)),
    ];
    ok(&run(clean_sh(&install_sh(), &[], &env)));
    for (rel, args) in generated_files(".local") {
        assert_eq!(
            fs::read_to_string(sb.home.join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}")),
            generated(args),
            "{rel}"
        );
    }
    // A new shell of the user's, gowarden on PATH from ~/.profile.
    let user = |program: &str, args: &[&str]| {
        let mut c = Command::new(program);
        c.args(args)
            .current_dir(&sb.project)
            .env_clear()
            .env("HOME", &sb.home)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", sb.home.join(".local/bin").display()),
            );
        c
    };
    // man finds PREFIX/share/man through PREFIX/bin on PATH, and the page renders.
    let page = sb.home.join(".local/share/man/man1/gowarden.1");
    let r = run(user("man", &["-w", "gowarden"]));
    assert_eq!(r.stdout, format!("{}\n", page.display()), "{}", r.stderr);
    let mut c = user("man", &["gowarden"]);
    c.env("MANWIDTH", "100").env("LC_ALL", "C.UTF-8");
    let r = run(c);
    ok(&r);
    let text = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "NAME gowarden - Governs the Go toolchain",
        "SYNOPSIS gowarden",
        "gowarden toolchain install",
        "EXIT STATUS",
        "77 (EX_NOPERM)",
    ] {
        assert!(
            text.contains(want),
            "no {want:?} in `man gowarden`:\n{}",
            r.stdout
        );
    }
    let mut c = user("man", &["-l"]);
    c.arg(&page).env("MANWIDTH", "100").env("LC_ALL", "C.UTF-8");
    let local = run(c);
    assert_eq!(local.stdout, r.stdout, "man -l renders the same page");

    // bash-completion loads ~/.local/share/bash-completion/completions/gowarden on demand.
    let r = run(user(
        "bash",
        &[
            "-c",
            "source /usr/share/bash-completion/bash_completion && __load_completion gowarden \
             && complete -p gowarden",
        ],
    ));
    assert_eq!(
        r.stdout, "complete -o bashdefault -o default -o nosort -F _gowarden gowarden\n",
        "{}",
        r.stderr
    );
    // fish reads ~/.local/share/fish/vendor_completions.d (its config dir kept out of HOME).
    let mut c = user("fish", &["-c", "complete -C 'gowarden toolchain '"]);
    c.env("XDG_CONFIG_HOME", sb.root.join("fish-config"));
    let r = run(c);
    ok(&r);
    let words: Vec<&str> = r
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    for w in ["install", "list", "remove"] {
        assert!(words.contains(&w), "{}", r.stdout);
    }
    // zsh, with the ~/.zshrc line docs/cli.md gives for a ~/.local install.
    let r = run(user(
        "zsh",
        &[
            "-fc",
            &format!(
                "fpath=(~/.local/share/zsh/site-functions $fpath); \
                 autoload -Uz compinit && compinit -u -d {}/zcompdump; print -r -- $_comps[gowarden]",
                sb.root.display()
            ),
        ],
    ));
    assert_eq!(r.stdout, "_gowarden\n", "{}", r.stderr);
    // /usr/local/share/zsh/site-functions, where a --system install puts it, is in zsh's
    // default fpath.
    let r = run(user("zsh", &["-fc", "print -l $fpath"]));
    assert!(
        r.stdout
            .lines()
            .any(|l| l == "/usr/local/share/zsh/site-functions"),
        "{}",
        r.stdout
    );

    ok(&run(clean_sh(&install_sh(), &["--uninstall"], &env)));
    assert_eq!(tree(&sb.home), before, "uninstall removes them all");
    let r = run(user("man", &["-w", "gowarden"]));
    assert_ne!(r.status(), 0, "{}", r.stdout);
}
