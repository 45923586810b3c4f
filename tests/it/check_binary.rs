//! `gowarden check --binary`: the build information it reads from real Go binaries, compared
//! field by field with what `go version -m -json` (go1.26) reads from the same files, for
//! binaries built by go1.22, 1.23, 1.24, 1.25 and 1.26 for linux/amd64 (ELF), darwin/arm64
//! (Mach-O) and windows/amd64 (PE), with a replaced dependency, a dependency from a module
//! proxy (with its checksum), -trimpath, -ldflags and a dirty git tree; then the files that
//! are not Go binaries, stripped, truncated and unreadable ones.
//!
//! The builds share a Go build cache outside the repository
//! (~/.cache/gowarden-test-buildinfo/gocache): the first run compiles the runtime once per
//! toolchain and target, later runs only link.

use crate::common;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{BIN, Sandbox, assert_has};

fn find(target: &str, go: &str) -> &'static Built {
    built()
        .iter()
        .find(|b| b.target == target && b.go.starts_with(go))
        .unwrap()
}
use serde_json::Value;

const GO126: &str = "/usr/local/go/bin/go";

/// One binary built for the tests: by which go, for which target, with which flags.
#[derive(Debug)]
struct Built {
    go: String,
    target: &'static str,
    path: PathBuf,
}

fn cache_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/gowarden-test-buildinfo")
}

/// The GOROOTs of every release the tests build with: the cached ones and /usr/local/go.
fn toolchains() -> Vec<(String, PathBuf)> {
    let cache = std::env::var_os("GOWARDEN_TOOLCHAIN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/gowarden-test-toolchains")
        });
    let mut out: Vec<(String, PathBuf)> = ["go1.22.12", "go1.23.12", "go1.24.13", "go1.25.5"]
        .iter()
        .map(|v| {
            let root = cache.join(format!(
                "modcache/golang.org/toolchain@v0.0.1-{v}.linux-{}",
                common::go_arch()
            ));
            assert!(
                root.join("bin/go").is_file(),
                "toolchain {v} missing at {}: run scripts/fetch-go-toolchains.sh {v}",
                root.display()
            );
            (v.to_string(), root)
        })
        .collect();
    let v126 = fs::read_to_string("/usr/local/go/VERSION").expect("/usr/local/go");
    out.push((
        v126.lines().next().unwrap().to_string(),
        "/usr/local/go".into(),
    ));
    out
}

fn sh(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn envs(e: &[(String, String)]) -> Vec<(&str, &str)> {
    e.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A module proxy in a directory (GOPROXY=file://…) serving example.com/lib v1.2.0.
fn write_proxy(dir: &Path) {
    let v = dir.join("example.com/lib/@v");
    fs::create_dir_all(&v).unwrap();
    fs::write(v.join("list"), "v1.2.0\n").unwrap();
    fs::write(v.join("v1.2.0.info"), r#"{"Version":"v1.2.0"}"#).unwrap();
    let gomod = "module example.com/lib\n\ngo 1.22\n";
    fs::write(v.join("v1.2.0.mod"), gomod).unwrap();
    let mut z = zip::ZipWriter::new(fs::File::create(v.join("v1.2.0.zip")).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, text) in [
        ("go.mod", gomod),
        (
            "lib.go",
            "package lib\n\nfunc Name() string { return \"lib\" }\n",
        ),
    ] {
        z.start_file(format!("example.com/lib@v1.2.0/{name}"), opts)
            .unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    z.finish().unwrap();
}

/// Builds every fixture once per test process: a module in a git repository with a local
/// change (vcs.modified=true), a dependency replaced by a directory and one from the proxy.
fn built() -> &'static [Built] {
    static BUILT: OnceLock<Vec<Built>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("check-binary-fixtures");
        let _ = fs::remove_dir_all(&root);
        let (app, proxy, out) = (root.join("app"), root.join("proxy"), root.join("out"));
        for d in [&app.join("dep"), &proxy, &out] {
            fs::create_dir_all(d).unwrap();
        }
        write_proxy(&proxy);
        fs::write(
            app.join("go.mod"),
            "module example.com/app\n\ngo 1.22\n\nrequire (\n\texample.com/dep v1.0.0\n\t\
             example.com/lib v1.2.0\n)\n\nreplace example.com/dep => ./dep\n",
        )
        .unwrap();
        fs::write(
            app.join("dep/go.mod"),
            "module example.com/dep\n\ngo 1.22\n",
        )
        .unwrap();
        fs::write(
            app.join("dep/dep.go"),
            "package dep\n\nfunc Name() string { return \"dep\" }\n",
        )
        .unwrap();
        fs::write(
            app.join("main.go"),
            "package main\n\nimport (\n\t\"example.com/dep\"\n\t\"example.com/lib\"\n)\n\n\
             var version = \"dev\"\n\nfunc main() { println(dep.Name(), lib.Name(), version) }\n",
        )
        .unwrap();
        let cache = cache_dir();
        let (gocache, modcache) = (cache.join("gocache"), root.join("modcache"));
        let home = root.join("home");
        fs::create_dir_all(&home).unwrap();
        let proxy_url = format!("file://{}", proxy.display());
        let env = |goroot: &Path| -> Vec<(String, String)> {
            vec![
                ("HOME", home.display().to_string()),
                ("GOROOT", goroot.display().to_string()),
                ("GOCACHE", gocache.display().to_string()),
                ("GOMODCACHE", modcache.display().to_string()),
                ("GOPATH", root.join("gopath").display().to_string()),
                ("GOENV", "off".into()),
                ("GOTOOLCHAIN", "local".into()),
                ("GOFLAGS", "-buildvcs=true -modcacherw".into()),
                ("GOPROXY", proxy_url.clone()),
                ("GOSUMDB", "off".into()),
                ("CGO_ENABLED", "0".into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
        };
        let e126 = env(Path::new("/usr/local/go"));
        sh(&app, GO126, &["mod", "tidy"], &envs(&e126));
        let git = |args: &[&str]| {
            let mut a = vec!["-c", "user.name=t", "-c", "user.email=t@example.com"];
            a.extend_from_slice(args);
            sh(
                &app,
                "git",
                &a,
                &[
                    ("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z"),
                    ("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z"),
                    ("HOME", home.to_str().unwrap()),
                ],
            )
        };
        git(&["init", "-q", "."]);
        git(&["add", "-A"]);
        git(&["commit", "-qm", "fixture"]);
        let mut built = Vec::new();
        let clean = out.join("clean-linux-amd64");
        let mut e = e126.clone();
        e.push(("GOOS".into(), "linux".into()));
        e.push(("GOARCH".into(), "amd64".into()));
        sh(
            &app,
            GO126,
            &["build", "-trimpath", "-o", clean.to_str().unwrap(), "."],
            &envs(&e),
        );
        built.push(Built {
            go: toolchains().pop().unwrap().0,
            target: "clean",
            path: clean,
        });
        fs::write(app.join("dirty.txt"), "a local change\n").unwrap();

        for (go, goroot) in toolchains() {
            let mut targets: Vec<(&'static str, Vec<&str>)> = vec![
                (
                    "linux/amd64",
                    vec!["-ldflags=-s -w -X 'main.version=1 \"2'"],
                ),
                ("darwin/arm64", vec!["-trimpath"]),
                (
                    "windows/amd64",
                    vec!["-trimpath", "-ldflags=-X=main.version=3"],
                ),
            ];
            if goroot == Path::new("/usr/local/go") {
                targets.push(("linux/386", vec![]));
                targets.push(("linux/amd64-pie", vec!["-buildmode=pie", "-mod=mod"]));
            }
            for (target, flags) in targets {
                let (goos, goarch) = target.split_once('/').unwrap();
                let goarch = goarch.trim_end_matches("-pie");
                let name = format!("{go}-{}", target.replace('/', "-"));
                let path = out.join(&name);
                let mut e = env(&goroot);
                e.push(("GOOS".into(), goos.into()));
                e.push(("GOARCH".into(), goarch.into()));
                let mut args = vec!["build", "-o", path.to_str().unwrap()];
                args.extend(flags.iter().copied());
                args.push(".");
                sh(
                    &app,
                    goroot.join("bin/go").to_str().unwrap(),
                    &args,
                    &envs(&e),
                );
                built.push(Built {
                    go: go.clone(),
                    target,
                    path,
                });
            }
        }
        built
    })
}

fn go_version_json(path: &Path) -> Value {
    let out = Command::new(GO126)
        .args(["version", "-m", "-json"])
        .arg(path)
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go version -m -json {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check_json(sb: &Sandbox, paths: &[&Path]) -> (i32, Value, String) {
    let mut c = sb.gowarden(&["check", "--format", "json", "--binary"]);
    c.args(paths);
    let out = c.output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (
        out.status.code().unwrap(),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Reading only: the replace and dirty tree every fixture has are not judged.
const READ_ONLY: &str = "[check.binary]\nreplace = \"off\"\nvcs_modified = \"off\"\n";

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write_policy(READ_ONLY);
    sb
}

#[test]
fn reads_what_go_version_m_reads_from_every_release_and_format() {
    let sb = sandbox();
    let built = built();
    assert_eq!(built.len(), 18);
    for b in built {
        let go = go_version_json(&b.path);
        let (_, ours, stderr) = check_json(&sb, &[&b.path]);
        let bins = ours["binaries"].as_array().unwrap();
        assert_eq!(bins.len(), 1, "{b:?}: {ours}\n{stderr}");
        assert_eq!(bins[0]["build_info"], go, "{b:?}");
        assert_eq!(bins[0]["go_version"], b.go.as_str());
        // The fixture's facts really are in the comparison.
        let settings: BTreeSet<String> = go["Settings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{}={}",
                    s["Key"].as_str().unwrap(),
                    s["Value"].as_str().unwrap_or("")
                )
            })
            .collect();
        let dirty = if b.target == "clean" { "false" } else { "true" };
        assert!(
            settings.contains(&format!("vcs.modified={dirty}")),
            "{b:?}: {settings:?}"
        );
        assert!(settings.contains("CGO_ENABLED=0"), "{b:?}");
        let (goos, goarch) = match b.target {
            "clean" => ("linux", "amd64"),
            t => t.trim_end_matches("-pie").split_once('/').unwrap(),
        };
        assert!(settings.contains(&format!("GOOS={goos}")), "{b:?}");
        assert!(settings.contains(&format!("GOARCH={goarch}")), "{b:?}");
        match b.target {
            "linux/amd64" => assert!(
                settings.contains("-ldflags=-s -w -X 'main.version=1 \"2'"),
                "{b:?}: {settings:?}"
            ),
            "darwin/arm64" | "windows/amd64" | "clean" => {
                assert!(settings.contains("-trimpath=true"))
            }
            "linux/amd64-pie" => {
                assert!(settings.contains("-buildmode=pie"));
                // go does not record -mod: a policy cannot judge it from a binary.
                assert!(
                    !settings.iter().any(|s| s.starts_with("-mod=")),
                    "{settings:?}"
                );
            }
            _ => {}
        }
        let deps = go["Deps"].as_array().unwrap();
        assert_eq!(deps[0]["Replace"]["Path"], "./dep", "{b:?}");
        assert!(deps[1]["Sum"].as_str().unwrap().starts_with("h1:"), "{b:?}");
    }
}

#[test]
fn walks_a_directory_for_go_binaries_and_passes_over_everything_else() {
    let sb = sandbox();
    let image = sb.root.join("image");
    for d in ["usr/bin", "app", "etc"] {
        fs::create_dir_all(image.join(d)).unwrap();
    }
    let linux = find("linux/amd64", "go1.24");
    let windows = find("windows/amd64", "go1.22");
    let darwin = find("darwin/arm64", "go1.26");
    fs::copy(&linux.path, image.join("app/server")).unwrap();
    fs::copy(&windows.path, image.join("app/tool.exe")).unwrap();
    fs::copy(&darwin.path, image.join("usr/bin/macos-cli")).unwrap();
    fs::copy("/bin/true", image.join("usr/bin/true")).unwrap();
    fs::write(image.join("usr/bin/script.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::write(image.join("etc/os-release"), "ID=debian\n").unwrap();
    std::os::unix::fs::symlink("/usr/local/go/bin/go", image.join("usr/bin/go")).unwrap();
    let fifo = image.join("etc/fifo");
    sh(&image, "mkfifo", &[fifo.to_str().unwrap()], &[]);
    let (code, v, stderr) = check_json(&sb, &[&image]);
    assert_eq!(code, 0, "{v}\n{stderr}");
    let paths: Vec<&str> = v["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["path"].as_str().unwrap())
        .collect();
    let want: Vec<String> = ["app/server", "app/tool.exe", "usr/bin/macos-cli"]
        .iter()
        .map(|p| image.join(p).display().to_string())
        .collect();
    assert_eq!(paths, want);
    assert_eq!(v["errors"], serde_json::json!([]));
    assert_eq!(v["binaries"][0]["go_version"], linux.go.as_str());

    // Text: one line per binary, then the count.
    let out = sb
        .gowarden(&["check", "--binary"])
        .arg(&image)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_has(
        &text,
        &[
            &format!(
                "binary:    {}/app/server: {}, module example.com/app v0.0.0-",
                image.display(),
                linux.go
            ),
            "3 binaries: 0 violations, 0 warnings",
        ],
    );
}

#[test]
fn a_named_file_that_is_not_a_go_binary_cannot_be_checked() {
    let sb = sandbox();
    let script = sb.root.join("script.sh");
    fs::write(&script, "#!/bin/sh\n").unwrap();
    let empty = sb.root.join("empty");
    fs::create_dir_all(&empty).unwrap();
    for (path, kind, message) in [
        (
            Path::new("/bin/true"),
            "not-go",
            "not a Go executable: an ELF file without Go build information",
        ),
        (
            script.as_path(),
            "not-executable",
            "not an executable (neither ELF, PE nor Mach-O)",
        ),
        (
            Path::new("/no/such/file"),
            "unreadable",
            "cannot read it: No such file or directory",
        ),
    ] {
        let (code, v, stderr) = check_json(&sb, &[path]);
        assert_eq!(code, 2, "{path:?}: {v}");
        assert_eq!(v["ok"], false);
        assert_eq!(v["errors"][0]["kind"], kind, "{v}");
        assert_eq!(v["errors"][0]["path"], path.to_str().unwrap());
        assert_has(v["errors"][0]["message"].as_str().unwrap(), &[message]);
        assert_has(
            &stderr,
            &[&format!(
                "gowarden check: could not check {}: {message}",
                path.display()
            )],
        );
    }
    // A directory without a Go binary is a mistake in the CI job, not a pass.
    let (code, v, _) = check_json(&sb, &[&empty]);
    assert_eq!(code, 2);
    assert_eq!(v["errors"][0]["kind"], "none-found");
    assert_has(
        v["errors"][0]["message"].as_str().unwrap(),
        &[&format!("no Go binary in {}", empty.display())],
    );
}

#[test]
fn stripped_binaries_read_as_go_reads_them() {
    let sb = sandbox();
    let linux = find("linux/amd64", "go1.25");
    let stripped = sb.root.join("stripped");
    fs::copy(&linux.path, &stripped).unwrap();
    sh(&sb.root, "strip", &[stripped.to_str().unwrap()], &[]);
    let (code, v, _) = check_json(&sb, &[&stripped]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["binaries"][0]["build_info"], go_version_json(&stripped));
    // Without its section, go and gowarden both search the first writable segment.
    let nosection = sb.root.join("nosection");
    sh(
        &sb.root,
        "objcopy",
        &[
            "--remove-section=.go.buildinfo",
            linux.path.to_str().unwrap(),
            nosection.to_str().unwrap(),
        ],
        &[],
    );
    let go = Command::new(GO126)
        .args(["version", "-m", "-json"])
        .arg(&nosection)
        .output()
        .unwrap();
    let (code, v, _) = check_json(&sb, &[&nosection]);
    if go.status.success() {
        assert_eq!(code, 0);
        assert_eq!(v["binaries"][0]["build_info"], go_version_json(&nosection));
    } else {
        assert_eq!(code, 2, "go cannot read it, neither can we: {v}");
        assert_eq!(v["errors"][0]["kind"], "not-go", "{v}");
    }
}

#[test]
fn truncated_binaries_are_precise_errors_as_go_also_fails() {
    let sb = sandbox();
    for b in [
        find("linux/amd64", "go1.26"),
        find("darwin/arm64", "go1.23"),
        find("windows/amd64", "go1.24"),
    ] {
        let data = fs::read(&b.path).unwrap();
        for n in [20, 64, 200, 4096, data.len() / 2, data.len() - 64] {
            let cut = sb.root.join(format!("cut-{n}"));
            fs::write(&cut, &data[..n]).unwrap();
            let go = Command::new(GO126)
                .args(["version", "-m"])
                .arg(&cut)
                .output()
                .unwrap();
            let (code, v, stderr) = check_json(&sb, &[&cut]);
            assert!(
                !go.status.success() || code == 0,
                "{b:?} cut at {n}: go read it, we did not: {v}"
            );
            if code == 0 {
                assert_eq!(v["binaries"][0]["build_info"], go_version_json(&cut));
                continue;
            }
            assert_eq!(code, 2, "{b:?} cut at {n}: {v}\n{stderr}");
            let e = &v["errors"][0];
            assert!(
                matches!(e["kind"].as_str(), Some("malformed" | "not-go")),
                "{b:?} cut at {n}: {e}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
            if e["kind"] == "malformed" {
                assert_has(e["message"].as_str().unwrap(), &["corrupt ", "truncated"]);
            }
        }
    }
}

#[test]
fn an_unreadable_file_in_a_walk_is_named() {
    let sb = sandbox();
    let dir = sb.root.join("dist");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(&find("linux/amd64", "go1.22").path, dir.join("a")).unwrap();
    fs::copy(&find("linux/amd64", "go1.23").path, dir.join("secret")).unwrap();
    fs::set_permissions(dir.join("secret"), fs::Permissions::from_mode(0o600)).unwrap();
    for d in [&sb.root, &sb.home, &sb.project, &dir] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(dir.join("a"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(sb.user_policy_path(), fs::Permissions::from_mode(0o644)).unwrap();
    let inner = sb.gowarden(&[
        "check",
        "--format",
        "json",
        "--binary",
        dir.to_str().unwrap(),
    ]);
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
        .args(inner.get_args())
        .env_clear()
        .envs(inner.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(&sb.root);
    let out = c.output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert_eq!(v["binaries"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["errors"][0]["path"], dir.join("secret").to_str().unwrap());
    assert_eq!(v["errors"][0]["kind"], "unreadable");
    assert_has(
        v["errors"][0]["message"].as_str().unwrap(),
        &["Permission denied"],
    );
}

fn rules(v: &Value) -> Vec<(String, String)> {
    v["binaries"][0]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["binaries"][0]["warnings"].as_array().unwrap())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(want: &[(&str, &str)]) -> Vec<(String, String)> {
    want.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const MATRIX: &str = r#"
[matrix]
default_tier = "internal"

[[tier]]
name = "apps"
modules = ["example.com/app/..."]
min = "1.23.0"
recommended = "1.25.5"
upgrade_by = UPGRADE_BY
owner = "apps-team@example.com"

[[tier]]
name = "internal"
min = "1.21.0"
owner = "platform@example.com"

[[blocked]]
version = "1.24.13"
reason = "CVE-2099-0001 in net/http"
"#;

#[test]
fn the_go_version_is_judged_against_the_main_modules_tier_and_the_blocked_list() {
    let sb = Sandbox::new();
    let policy = |upgrade_by: &str| {
        format!(
            "{READ_ONLY}{}",
            MATRIX.replace("UPGRADE_BY", &format!("{upgrade_by:?}"))
        )
    };
    sb.write_policy(&policy(&common::day(-1)));
    type Case = (&'static str, i32, &'static [(&'static str, &'static str)]);
    let cases: &[Case] = &[
        ("go1.22", 1, &[("matrix.min", "error")]),
        ("go1.23", 1, &[("matrix.deadline", "error")]),
        (
            "go1.24",
            1,
            &[("matrix.blocked", "error"), ("matrix.deadline", "error")],
        ),
        ("go1.25", 0, &[]),
        ("go1.26", 0, &[]),
    ];
    for (go, code, want) in cases {
        let b = find("windows/amd64", go);
        let (c, v, stderr) = check_json(&sb, &[&b.path]);
        assert_eq!(c, *code, "{go}: {v}\n{stderr}");
        assert_eq!(rules(&v), pairs(want), "{go}: {v}");
    }
    // The whole message of one: what, which tier and why, the fix, the owner.
    let policy_path = sb.user_policy_path().display().to_string();
    let text = policy(&common::day(-1));
    let b = find("linux/amd64", "go1.22");
    let out = sb
        .gowarden(&["check", "--binary"])
        .arg(&b.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let p = b.path.display();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "policy:    {policy_path} (from $GOWARDEN_POLICY)\n\
             binary:    {p}: go1.22.12, module example.com/app (devel)\n\
             error[matrix.min]: {p} was built by go1.22.12, below the minimum go1.23.0 of tier \
             \"apps\" ({policy_path}:{min}); rebuild it with go1.25.5; tier \"apps\" applies \
             because module example.com/app (the build information of {p}) matches \
             \"example.com/app/...\" ({policy_path}:{pat}); tier owner: apps-team@example.com\n\
             1 binary: 1 violation, 0 warnings\n",
            min = common::line_containing(&text, "min = \"1.23.0\""),
            pat = common::line_containing(&text, "modules = [\"example.com/app"),
        )
    );
    // The JSON finding is check's one `Finding`, printed (as check prints it) with sorted keys.
    let out = sb
        .gowarden(&["check", "--format", "json", "--binary"])
        .arg(&b.path)
        .output()
        .unwrap();
    let message = format!(
        "{p} was built by go1.22.12, below the minimum go1.23.0 of tier \"apps\" \
         ({policy_path}:{min}); rebuild it with go1.25.5; tier \"apps\" applies because module \
         example.com/app (the build information of {p}) matches \"example.com/app/...\" \
         ({policy_path}:{pat}); tier owner: apps-team@example.com",
        min = common::line_containing(&text, "min = \"1.23.0\""),
        pat = common::line_containing(&text, "modules = [\"example.com/app"),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let tail = format!(
        "\n  \"errors\": [],\n  \"ok\": false,\n  \"policy\": {{\n    \"origin\": \
         \"GOWARDEN_POLICY\",\n    \"path\": {policy_path:?}\n  }},\n  \"violations\": [\n    {{\n      \
         \"column\": null,\n      \"file\": {:?},\n      \"line\": null,\n      \
         \"message\": {message:?},\n      \"rule\": \"matrix.min\",\n      \"severity\": \"error\"\n    \
         }}\n  ],\n  \"warnings\": []\n}}\n",
        b.path.display().to_string()
    );
    assert!(stdout.ends_with(&tail), "{stdout}\nwant the tail:\n{tail}");
    // Before the deadline, below recommended is a warning; exit 0.
    sb.write_policy(&policy(&common::day(30)));
    let (c, v, _) = check_json(&sb, &[&find("darwin/arm64", "go1.23").path]);
    assert_eq!(
        (c, rules(&v)),
        (0, pairs(&[("matrix.recommended", "warning")])),
        "{v}"
    );
    assert_eq!(v["ok"], true);
}

#[test]
fn replaced_dependencies_and_dirty_trees_are_findings_as_the_policy_says() {
    let sb = Sandbox::new();
    let dirty = find("linux/amd64", "go1.25");
    let clean = find("clean", "go1.26");
    // Default: both are errors.
    sb.write_policy("");
    let (c, v, _) = check_json(&sb, &[&dirty.path]);
    assert_eq!(
        (c, rules(&v)),
        (
            1,
            pairs(&[
                ("binary.replace", "error"),
                ("binary.vcs-modified", "error")
            ])
        ),
        "{v}"
    );
    let msg = v["violations"][0]["message"].as_str().unwrap();
    assert_has(
        msg,
        &[
            "built with example.com/dep v1.0.0 replaced by ./dep",
            "allow_replace",
        ],
    );
    assert_eq!(v["violations"][0]["file"], dirty.path.to_str().unwrap());
    assert_has(
        v["violations"][1]["message"].as_str().unwrap(),
        &["vcs.modified=true at git revision "],
    );
    let (_, v, _) = check_json(&sb, &[&clean.path]);
    assert_eq!(
        rules(&v),
        pairs(&[("binary.replace", "error")]),
        "a clean tree is fine: {v}"
    );
    // Allowed by the module replaced, or by its replacement; a warning; off.
    for (policy, want) in [
        (
            "[check.binary]\nallow_replace = [\"example.com/...\"]\nvcs_modified = \"warning\"\n",
            &[("binary.vcs-modified", "warning")][..],
        ),
        (
            "[check.binary]\nallow_replace = [\"./dep\"]\nvcs_modified = \"off\"\n",
            &[],
        ),
        (
            "[check.binary]\nreplace = \"warning\"\nvcs_modified = \"off\"\n",
            &[("binary.replace", "warning")],
        ),
    ] {
        sb.write_policy(policy);
        let (c, v, _) = check_json(&sb, &[&dirty.path]);
        assert_eq!((c, rules(&v)), (0, pairs(want)), "{policy}: {v}");
    }
}

#[test]
fn build_settings_the_policy_requires_or_forbids() {
    let sb = Sandbox::new();
    sb.write_policy(&format!(
        "{READ_ONLY}require = {{ \"-trimpath\" = \"true\", CGO_ENABLED = \"0\", \"-buildmode\" = [\"exe\", \"c-shared\"] }}\n\
         forbid = {{ \"-buildmode\" = \"pie\" }}\n"
    ));
    let (c, v, _) = check_json(&sb, &[&find("darwin/arm64", "go1.24").path]);
    assert_eq!((c, rules(&v)), (0, vec![]), "{v}");
    let (c, v, _) = check_json(&sb, &[&find("linux/amd64", "go1.24").path]);
    assert_eq!(
        (c, rules(&v)),
        (1, pairs(&[("binary.setting", "error")])),
        "{v}"
    );
    assert_has(
        v["violations"][0]["message"].as_str().unwrap(),
        &[
            "was built without -trimpath; the policy requires -trimpath=true ([check.binary] require at ",
        ],
    );
    let pie = find("linux/amd64-pie", "go1.26");
    let (c, v, _) = check_json(&sb, &[&pie.path]);
    assert_eq!(
        (c, rules(&v)),
        (1, pairs(&[("binary.setting", "error"); 3])),
        "{v}"
    );
    assert_has(
        v["violations"][2]["message"].as_str().unwrap(),
        &["was built with -buildmode=pie, which the policy forbids"],
    );
    sb.write_policy(&format!(
        "{READ_ONLY}require = {{ \"-buildmode\" = [\"exe\"] }}\n"
    ));
    let (_, v, _) = check_json(&sb, &[&pie.path]);
    assert_has(
        v["violations"][0]["message"].as_str().unwrap(),
        &["was built with -buildmode=pie; the policy requires -buildmode=exe"],
    );
}

#[test]
fn a_broken_check_binary_table_is_an_error_naming_its_line() {
    let sb = Sandbox::new();
    let b = find("darwin/arm64", "go1.26");
    let policy_path = sb.user_policy_path().display().to_string();
    for (text, want) in [
        (
            "[check.binary]\nrequire = { \"bad key\" = \"1\" }\n",
            ":2: [check.binary] require key \"bad key\" is not a build setting name",
        ),
        (
            "[check.binary]\nforbid = { \"-mod\" = [] }\n",
            ":2: [check.binary] forbid \"-mod\" lists no value",
        ),
        (
            "[check.binary]\nrequire = { CGO_ENABLED = \"0\" }\nforbid = { CGO_ENABLED = [\"1\", \"0\"] }\n",
            ":3: [check.binary] forbids CGO_ENABLED=\"0\", which require",
        ),
        (
            "[check.binary]\nallow_replace = [\"\"]\n",
            ":2: [check.binary] allow_replace entry \"\" is not a module path pattern",
        ),
        ("[check.binary]\nreplace = \"sometimes\"\n", ":2:"),
        ("[check.binary]\nrequired = {}\n", ":2:"),
    ] {
        sb.write_policy(text);
        let (c, v, stderr) = check_json(&sb, &[&b.path]);
        assert_eq!(c, 2, "{text}: {v}");
        assert_has(&stderr, &[&format!("{policy_path}{want}")]);
        let out = sb
            .gowarden(&["policy", "check"])
            .arg(sb.user_policy_path())
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0), "{text}");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_has(&said, &[&format!("{policy_path}{want}")]);
    }
}

#[test]
fn github_annotations_name_each_binary() {
    let sb = Sandbox::new();
    sb.write_policy("[check.binary]\nvcs_modified = \"off\"\n");
    fs::create_dir_all(sb.project.join("dist")).unwrap();
    fs::copy(
        &find("linux/amd64", "go1.25").path,
        sb.project.join("dist/app"),
    )
    .unwrap();
    fs::write(
        sb.project.join("dist/broken"),
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\0",
    )
    .unwrap();
    let out = sb
        .gowarden(&["check", "--format", "github", "--binary", "dist"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with(
            "::error file=dist/app,title=gowarden binary.replace::dist/app was built with example.com/dep v1.0.0 replaced by ./dep"
        ),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "::error file=dist/broken,title=gowarden check::could not check: corrupt ELF file: the ELF \
         header at offset 0x0 (64 bytes) runs past the end of the file (17 bytes): the file is \
         truncated or corrupt"
    );
    assert_eq!(
        lines[2],
        "gowarden check: 1 binary, 1 violation, 0 warnings, 1 could not be checked"
    );
}

#[test]
fn a_binary_of_the_repository_is_built_by_the_go_the_repository_declares() {
    // The fixtures' main module is example.com/app; the repository checked declares go1.25.5.
    let sb = sandbox();
    sb.write_project_file("go.mod", "module example.com/app\n\ngo 1.22\n");
    let pin = sb.write_project_file(".go-version", "1.25.5\n");
    let old = find("linux/amd64", "go1.22");
    let out = sb
        .gowarden(&["check", "--binary"])
        .arg(&old.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let p = old.path.display();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "policy:    {policy} (from $GOWARDEN_POLICY)\n\
             binary:    {p}: go1.22.12, module example.com/app (devel)\n\
             error[binary.declared-version]: {p} was built by go1.22.12, but the repository \
             declares go1.25.5 for example.com/app ({pin}:1); rebuild it through the go shim \
             in the repository, which runs go1.25.5\n\
             1 binary: 1 violation, 0 warnings\n",
            policy = sb.user_policy_path().display(),
            pin = pin.display(),
        )
    );
    // Built by the declared release: clean; so is a binary of another module.
    let (c, v, _) = check_json(&sb, &[&find("linux/amd64", "go1.25").path]);
    assert_eq!((c, rules(&v)), (0, vec![]), "{v}");
    sb.write_project_file("go.mod", "module example.com/other\n\ngo 1.22\n");
    let (c, v, _) = check_json(&sb, &[&old.path]);
    assert_eq!((c, rules(&v)), (0, vec![]), "{v}");
    // The policy can turn the rule down.
    sb.write_project_file("go.mod", "module example.com/app\n\ngo 1.22\n");
    sb.write_policy(&format!("{READ_ONLY}declared_version = \"warning\"\n"));
    let (c, v, _) = check_json(&sb, &[&old.path]);
    assert_eq!(
        (c, rules(&v)),
        (0, pairs(&[("binary.declared-version", "warning")])),
        "{v}"
    );
}
