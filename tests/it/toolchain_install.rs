//! `gowarden toolchain install | list | remove` and the shim's `auto_install`: from a go.dev-style
//! archive with a pinned SHA-256 (built here from a fake GOROOT), through the real Go module
//! proxy with a real bootstrap go, concurrently, and after an interrupted install.

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Sandbox, real_toolchains, run};
use sha2::{Digest, Sha256};

/// A go.dev-style archive (`go/` at the top) of a fake GOROOT whose `go version` answers as a
/// real go does, after `delay` seconds; returns the archive and its SHA-256.
fn fake_archive(sb: &Sandbox, version: &str, delay: &str) -> (PathBuf, String) {
    let tree = sb.root.join(format!("archive-src-{version}"));
    let goroot = tree.join("go");
    common::fake_goroot(&goroot, version);
    let go = goroot.join("bin/go");
    fs::write(
        &go,
        format!(
            "#!/bin/sh\nif [ \"$1\" = version ]; then sleep {delay}; \
             echo \"go version {version} linux/amd64\"; exit 0; fi\necho \"fake go {version}\"\n"
        ),
    )
    .unwrap();
    fs::set_permissions(&go, fs::Permissions::from_mode(0o755)).unwrap();
    let archive = sb.root.join(format!("{version}.linux-amd64.tar.gz"));
    let st = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&tree)
        .arg("go")
        .status()
        .unwrap();
    assert!(st.success());
    let sha = sha256_hex(&archive);
    (archive, sha)
}

fn sha256_hex(file: &Path) -> String {
    Sha256::digest(fs::read(file).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The names in the toolchains dir, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn install_archive(sb: &Sandbox, version: &str, archive: &Path, sha: &str) -> common::FakeRun {
    run(sb.gowarden(&[
        "toolchain",
        "install",
        version,
        "--archive",
        archive.to_str().unwrap(),
        "--sha256",
        sha,
    ]))
}

#[test]
fn archive_with_bad_checksum_leaves_nothing_and_good_one_installs() {
    let sb = Sandbox::new();
    let (archive, sha) = fake_archive(&sb, "go1.22.3", "0");
    let wrong = "0".repeat(64);
    let r = install_archive(&sb, "1.22.3", &archive, &wrong);
    assert_eq!(r.status(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("checksum mismatch") && r.stderr.contains(&sha),
        "{}",
        r.stderr
    );
    assert!(
        entries(&sb.toolchains).is_empty(),
        "{:?}",
        entries(&sb.toolchains)
    );

    let r = install_archive(&sb, "go1.22.3", &archive, &sha.to_uppercase());
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("installed go1.22.3 in "),
        "{}",
        r.stdout
    );
    let root = sb.toolchains.join("go1.22.3");
    assert_eq!(entries(&sb.toolchains), [".go1.22.3.lock", "go1.22.3"]);
    let marker: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join(".gowarden-install.json")).unwrap()).unwrap();
    assert!(marker["source"].as_str().unwrap().contains(&sha));

    sb.write_project_file(".go-version", "1.22.3\n");
    let r = run(sb.go(&["version"]));
    assert_eq!(
        r.stdout, "go version go1.22.3 linux/amd64\n",
        "{}",
        r.stderr
    );

    let again = install_archive(&sb, "1.22.3", &archive, &sha);
    assert_eq!(again.status(), 0);
    assert!(
        again.stdout.contains("already installed"),
        "{}",
        again.stdout
    );

    let list = run(sb.gowarden(&["toolchain", "list"]));
    let line = list
        .stdout
        .lines()
        .find(|l| l.starts_with("go1.22.3"))
        .unwrap();
    assert!(
        line.contains(root.to_str().unwrap()) && line.contains("installed by gowarden"),
        "{}",
        list.stdout
    );
}

#[test]
fn archive_holding_another_version_is_refused_and_leaves_nothing() {
    let sb = Sandbox::new();
    let (archive, sha) = fake_archive(&sb, "go1.22.3", "0");
    let r = install_archive(&sb, "1.22.4", &archive, &sha);
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr.contains("for go1.22.4 is go1.22.3"),
        "{}",
        r.stderr
    );
    assert_eq!(entries(&sb.toolchains), [".go1.22.4.lock"]);
    // Not a tar file at all.
    let junk = sb.root.join("junk.tar.gz");
    fs::write(&junk, "not an archive").unwrap();
    let r = install_archive(&sb, "1.22.4", &junk, &sha256_hex(&junk));
    assert_eq!(r.status(), 1);
    assert!(r.stderr.contains("cannot unpack"), "{}", r.stderr);
    assert_eq!(entries(&sb.toolchains), [".go1.22.4.lock"]);
}

#[test]
fn remove_only_what_gowarden_installed() {
    let sb = Sandbox::new();
    let (archive, sha) = fake_archive(&sb, "go1.22.3", "0");
    assert_eq!(install_archive(&sb, "1.22.3", &archive, &sha).status(), 0);
    let hand_made = sb.fake_toolchain("go1.21.5");

    let r = run(sb.gowarden(&["toolchain", "remove", "1.21.5"]));
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr.contains("was not installed by gowarden"),
        "{}",
        r.stderr
    );
    assert!(hand_made.join("VERSION").is_file());

    let elsewhere = sb.root.join("opt/go");
    common::fake_goroot(&elsewhere, "go1.20.14");
    sb.write_policy(&sb.isolated_policy(&format!("search = [{:?}]\n", elsewhere)));
    let r = run(sb.gowarden(&["toolchain", "remove", "1.20.14"]));
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr.contains(elsewhere.to_str().unwrap()) && r.stderr.contains("did not install"),
        "{}",
        r.stderr
    );

    let r = run(sb.gowarden(&["toolchain", "remove", "go1.22.3"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(entries(&sb.toolchains), [".go1.22.3.lock", "go1.21.5"]);
    let r = run(sb.gowarden(&["toolchain", "remove", "go1.22.3"]));
    assert_eq!(r.status(), 1);
    assert!(r.stderr.contains("not installed"), "{}", r.stderr);
}

#[test]
fn interrupted_install_is_invisible_and_cleaned_up_by_the_next() {
    let sb = Sandbox::new();
    // What a killed install leaves: a complete-looking GOROOT under a staging name.
    common::fake_goroot(&sb.toolchains.join(".staging-go1.22.3-4242"), "go1.22.3");
    common::fake_goroot(&sb.toolchains.join(".removing-go1.22.3-4243"), "go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let r = run(sb.go(&["version"]));
    assert_eq!(
        r.status(),
        common::CONFIG_ERROR,
        "a staged toolchain must not run: {}",
        r.stdout
    );
    assert!(
        r.stderr.contains("no Go toolchain is installed"),
        "{}",
        r.stderr
    );

    let (archive, sha) = fake_archive(&sb, "go1.22.3", "0");
    assert_eq!(install_archive(&sb, "1.22.3", &archive, &sha).status(), 0);
    assert_eq!(entries(&sb.toolchains), [".go1.22.3.lock", "go1.22.3"]);
}

#[test]
fn concurrent_installs_of_one_version_do_not_collide() {
    let sb = Sandbox::new();
    // `go version` takes a second, so the first install holds the lock while the others start.
    let (archive, sha) = fake_archive(&sb, "go1.22.3", "1");
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut c = sb.gowarden(&[
                "toolchain",
                "install",
                "1.22.3",
                "--archive",
                archive.to_str().unwrap(),
                "--sha256",
                &sha,
            ]);
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut fresh = 0;
    let mut waited = 0;
    for o in &outs {
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{stdout}{stderr}");
        if stdout.starts_with("installed go1.22.3") {
            fresh += 1;
        } else {
            assert!(stdout.contains("already installed"), "{stdout}");
        }
        if stderr.contains("waiting for another gowarden") {
            waited += 1;
        }
    }
    assert_eq!(fresh, 1, "exactly one process installs");
    assert!(waited >= 1, "the installs did not overlap");
    assert_eq!(entries(&sb.toolchains), [".go1.22.3.lock", "go1.22.3"]);
    sb.write_project_file(".go-version", "1.22.3\n");
    assert_eq!(
        run(sb.go(&["version"])).stdout,
        "go version go1.22.3 linux/amd64\n"
    );
}

/// A sandbox whose policy finds the real go1.23.12 (the bootstrap go) besides its own
/// toolchains; the other real toolchain, go1.22.12, stays unseen so it can be installed.
fn sandbox_with_bootstrap(extra: &str) -> Sandbox {
    let sb = Sandbox::new();
    let (_, root) = real_toolchains()
        .into_iter()
        .find(|(v, _)| v == "go1.23.12")
        .unwrap();
    sb.write_policy(&sb.isolated_policy(&format!(
        "search = [{:?}]\n{extra}",
        root.display().to_string()
    )));
    sb
}

#[test]
fn proxy_route_installs_a_real_toolchain_with_the_command_the_shim_prints() {
    let sb = sandbox_with_bootstrap("");
    sb.write_project_file(".go-version", "1.21.13\n");
    let refused = run(sb.go(&["version"]));
    assert_eq!(refused.status(), common::CONFIG_ERROR);
    let printed = refused
        .stderr
        .split('`')
        .find(|s| s.starts_with("gowarden toolchain install"))
        .unwrap_or_else(|| panic!("no install command in {}", refused.stderr));
    assert_eq!(printed, "gowarden toolchain install 1.21.13");
    let words: Vec<&str> = printed.split_whitespace().skip(1).collect();
    // Go's defaults: GOPROXY=https://proxy.golang.org,direct and GOSUMDB=sum.golang.org.
    let r = run(sb.gowarden(&words));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("fetching golang.org/toolchain@v0.0.1-go1.21.13.linux-")
            && r.stderr.contains("downloading https://"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("checked against the checksum database"),
        "{}",
        r.stdout
    );

    let v = run(sb.go(&["version"]));
    assert!(
        v.stdout.starts_with("go version go1.21.13 linux/"),
        "{}{}",
        v.stdout,
        v.stderr
    );
    // Runnable as go itself makes a downloaded toolchain: tools executable, go.mod restored.
    let root = sb.toolchains.join("go1.21.13");
    assert!(root.join("src/go.mod").is_file());
    let vet = fs::read_dir(root.join("pkg/tool"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("vet");
    assert_ne!(fs::metadata(vet).unwrap().permissions().mode() & 0o111, 0);
    assert_eq!(entries(&sb.toolchains), [".go1.21.13.lock", "go1.21.13"]);

    let r = run(sb.gowarden(&["toolchain", "remove", "1.21.13"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(entries(&sb.toolchains), [".go1.21.13.lock"]);
}

#[test]
fn proxy_route_reports_a_version_the_proxy_does_not_have() {
    let sb = sandbox_with_bootstrap("");
    let r = run(sb.gowarden(&["toolchain", "install", "1.21.99"]));
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr.contains("cannot fetch go1.21.99")
            && r.stderr.contains("golang.org/toolchain@v0.0.1-go1.21.99."),
        "{}",
        r.stderr
    );
    assert_eq!(entries(&sb.toolchains), [".go1.21.99.lock"]);
}

/// A file:// module proxy serving one toolchain zip from the real-toolchain cache, so the
/// auto_install test needs no network (with GONOSUMDB set, as for an air-gapped mirror).
fn local_proxy(sb: &Sandbox, name: &str) -> String {
    let zip = common::real_toolchain_zip(name);
    let zip_name = zip.file_name().unwrap().to_str().unwrap();
    let version = zip_name.trim_end_matches(".zip");
    let dir = sb.root.join("proxy/golang.org/toolchain/@v");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&zip, dir.join(zip_name)).unwrap();
    fs::write(
        dir.join(format!("{version}.info")),
        format!("{{\"Version\":\"{version}\",\"Time\":\"2025-01-01T00:00:00Z\"}}\n"),
    )
    .unwrap();
    fs::write(
        dir.join(format!("{version}.mod")),
        "module golang.org/toolchain\n",
    )
    .unwrap();
    format!("file://{}", sb.root.join("proxy").display())
}

#[test]
fn auto_install_installs_a_missing_exact_version_on_first_use() {
    let sb = sandbox_with_bootstrap("auto_install = true\n");
    let proxy = local_proxy(&sb, "go1.22.12");
    // A family cannot be installed without asking the proxy which release is newest: refused.
    sb.write_project_file(".go-version", "1.22\n");
    let mut c = sb.go(&["version"]);
    c.env("GOPROXY", &proxy)
        .env("GONOSUMDB", "golang.org/toolchain");
    let r = run(c);
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert!(
        r.stderr
            .contains("no installed Go toolchain matches go1.22.x"),
        "{}",
        r.stderr
    );
    assert_eq!(entries(&sb.toolchains), Vec::<String>::new());

    sb.write_project_file(".go-version", "1.22.12\n");
    let mut c = sb.go(&["version"]);
    c.env("GOPROXY", &proxy)
        .env("GONOSUMDB", "golang.org/toolchain");
    let r = run(c);
    assert!(
        r.stdout.starts_with("go version go1.22.12 "),
        "{}{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "one notice: {}", r.stderr);
    assert!(
        r.stderr.starts_with("gowarden: installing go1.22.12 into ")
            && r.stderr.contains("auto_install"),
        "{}",
        r.stderr
    );
    let marker =
        fs::read_to_string(sb.toolchains.join("go1.22.12/.gowarden-install.json")).unwrap();
    assert!(
        marker.contains("not looked up in any checksum database"),
        "{marker}"
    );

    let mut c = sb.go(&["version"]);
    c.env("GOPROXY", "off");
    let again = run(c);
    assert!(again.stdout.starts_with("go version go1.22.12 "));
    assert_eq!(again.stderr, "", "installed now: no notice");
}

#[test]
fn auto_install_failure_is_one_refusal_naming_the_cause() {
    let sb = sandbox_with_bootstrap("auto_install = true\n");
    sb.write_project_file(".go-version", "1.22.12\n");
    let mut c = sb.go(&["version"]);
    c.env("GOPROXY", "off");
    let r = run(c);
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert_eq!(r.stdout, "");
    let last = r.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("gowarden: cannot install go1.22.12 ([toolchains] auto_install)")
            && last.contains("GOPROXY=off"),
        "{}",
        r.stderr
    );
    assert_eq!(entries(&sb.toolchains), [".go1.22.12.lock"]);
}

#[test]
fn install_without_any_bootstrap_go_points_at_the_archive_route() {
    let sb = Sandbox::new();
    let r = run(sb.gowarden(&["toolchain", "install", "1.22.12"]));
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr.contains("no Go toolchain ≥ 1.21")
            && r.stderr.contains("--archive go1.22.12.linux-")
            && r.stderr.contains("--sha256"),
        "{}",
        r.stderr
    );
    // A language version needs a go to ask the proxy for its newest release: the archive
    // route is what is left.
    let r = run(sb.gowarden(&["toolchain", "install", "1.22"]));
    assert_eq!(r.status(), 1);
    assert_eq!(
        r.stderr,
        "gowarden: 1.22 is a language version, and finding its newest release needs a go ≥ \
         1.21 to ask the module proxy, but there is none; install a release from its archive: \
         `gowarden toolchain install 1.22.N --archive FILE --sha256 HEX` (go.dev/dl lists the \
         releases, their archives and SHA-256s)\n"
    );
    assert_eq!(r.stdout, "");
    let r = run(sb.gowarden(&["toolchain", "install", "1.22.3", "--archive", "x.tgz"]));
    assert_eq!(r.status(), 2);
    assert!(r.stderr.contains("--sha256"), "{}", r.stderr);
}

#[test]
fn dir_installs_into_a_shared_dir_the_policy_searches() {
    let sb = Sandbox::new();
    let shared = sb.root.join("opt/go-toolchains");
    let (archive, sha) = fake_archive(&sb, "go1.22.3", "0");
    let r = run(sb.gowarden(&[
        "toolchain",
        "install",
        "--dir",
        shared.to_str().unwrap(),
        "1.22.3",
        "--archive",
        archive.to_str().unwrap(),
        "--sha256",
        &sha,
    ]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(entries(&shared), [".go1.22.3.lock", "go1.22.3"]);
    assert!(entries(&sb.toolchains).is_empty());
    sb.write_policy(&sb.isolated_policy(&format!("search = [{:?}]\n", shared)));
    sb.write_project_file(".go-version", "1.22.3\n");
    assert_eq!(
        run(sb.go(&["version"])).stdout,
        "go version go1.22.3 linux/amd64\n"
    );
    let r = run(sb.gowarden(&[
        "toolchain",
        "remove",
        "--dir",
        shared.to_str().unwrap(),
        "1.22.3",
    ]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(entries(&shared), [".go1.22.3.lock"]);
}

#[test]
fn module_proxy_zip_with_pinned_checksum_installs_a_runnable_toolchain() {
    let sb = Sandbox::new();
    let zip = common::real_toolchain_zip("go1.22.12");
    let sha = sha256_hex(&zip);
    // The zip of another version is refused, whatever its checksum.
    let r = install_archive(&sb, "1.22.13", &zip, &sha);
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr
            .contains("not the module zip of golang.org/toolchain@v0.0.1-go1.22.13."),
        "{}",
        r.stderr
    );
    assert_eq!(entries(&sb.toolchains), [".go1.22.13.lock"]);

    let r = install_archive(&sb, "1.22.12", &zip, &sha);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(r.stdout.contains("module zip"), "{}", r.stdout);
    sb.write_project_file(".go-version", "1.22.12\n");
    // A tool under pkg/tool runs: the zip kept no modes, and install made them executable.
    let r = run(sb.go(&["tool", "compile", "-V"]));
    assert_eq!(r.stdout, "compile version go1.22.12\n", "{}", r.stderr);
}

#[test]
fn a_release_the_matrix_refuses_is_never_installed() {
    let sb = sandbox_with_bootstrap(
        "auto_install = true\n\n[[blocked]]\nversion = \"1.22.12\"\n\
         reason = \"advisory SEC-1: use 1.23.12\"\n",
    );
    // By hand: refused before anything is fetched or created.
    let r = run(sb.gowarden(&[
        "toolchain",
        "install",
        "1.22.12",
        "--archive",
        "/nonexistent.tar.gz",
        "--sha256",
        &"0".repeat(64),
    ]));
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr.contains("not installing go1.22.12") && r.stderr.contains("SEC-1"),
        "{}",
        r.stderr
    );
    assert_eq!(entries(&sb.toolchains), Vec::<String>::new());
    // On first use: the matrix's refusal, not an install.
    sb.write_project_file(".go-version", "1.22.12\n");
    let mut c = sb.go(&["version"]);
    c.env("GOPROXY", "off");
    let r = run(c);
    assert_eq!(r.status(), common::REFUSED);
    assert!(
        r.stderr.contains("SEC-1") && !r.stderr.contains("installing"),
        "{}",
        r.stderr
    );
    assert_eq!(entries(&sb.toolchains), Vec::<String>::new());
}

#[test]
fn proxy_route_downloads_through_the_policys_goproxy_not_the_callers() {
    let sb = sandbox_with_bootstrap("");
    let proxy = local_proxy(&sb, "go1.22.12");
    sb.write_policy(&format!(
        "{}\n[env]\nenforce = {{ GOPROXY = {proxy:?}, GONOSUMDB = \"golang.org/toolchain\" }}\n",
        fs::read_to_string(sb.user_policy_path()).unwrap()
    ));
    // The caller's own settings would forbid any download.
    let mut c = sb.gowarden(&["toolchain", "install", "1.22.12"]);
    c.env("GOPROXY", "off").env("GOFLAGS", "-mod=vendor");
    let r = run(c);
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("installed go1.22.12"), "{}", r.stdout);
    assert!(sb.toolchains.join("go1.22.12/bin/go").is_file());
}

/// `toolchain install 1.22` names the release it will install before it fetches anything:
/// the newest patch release the proxy serves for this platform (not a prerelease, not another
/// family, not another platform).
#[test]
fn installing_a_language_version_names_its_newest_release_first() {
    let sb = sandbox_with_bootstrap("");
    let proxy = local_proxy(&sb, "go1.22.12");
    let arch = common::go_arch();
    let list = [
        format!("v0.0.1-go1.22.1.linux-{arch}"),
        format!("v0.0.1-go1.22.12.linux-{arch}"),
        format!("v0.0.1-go1.22.9.linux-{arch}"),
        format!("v0.0.1-go1.22rc1.linux-{arch}"),
        "v0.0.1-go1.22.99.windows-amd64".to_string(),
        format!("v0.0.1-go1.23.12.linux-{arch}"),
    ];
    let dir = sb.root.join("proxy/golang.org/toolchain/@v");
    fs::write(dir.join("list"), list.join("\n") + "\n").unwrap();
    // go reads the newest version's go.mod for retractions, as a real proxy serves it.
    for v in &list {
        fs::write(
            dir.join(format!("{v}.info")),
            format!("{{\"Version\":\"{v}\",\"Time\":\"2025-01-01T00:00:00Z\"}}\n"),
        )
        .unwrap();
        fs::write(
            dir.join(format!("{v}.mod")),
            "module golang.org/toolchain\n",
        )
        .unwrap();
    }
    let install = |version: &str| {
        let mut c = sb.gowarden(&["toolchain", "install", version]);
        c.env("GOPROXY", &proxy)
            .env("GONOSUMDB", "golang.org/toolchain");
        run(c)
    };
    let r = install("1.22");
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let first = r.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "1.22 is a language version: installing its newest release, go1.22.12"
    );
    assert!(sb.toolchains.join("go1.22.12/bin/go").is_file());

    // A family the proxy does not have: said so, nothing fetched.
    let r = install("1.19");
    assert_eq!(r.status(), 1);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: the module proxy has no release of 1.19 for linux-{arch} (asked with \
             go1.23.12); name a release that exists (go.dev/dl lists them)\n"
        )
    );
}
