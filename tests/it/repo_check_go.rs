//! `mod.tidy` and `mod.verify` against the real go (the cached test toolchains), offline: the
//! policy's GOPROXY is a file:// proxy the test lays out, and go runs through the shim.

use crate::common;

use std::io::Write;
use std::path::Path;

use common::{Sandbox, run};
use serde_json::Value;

/// A one-module file:// GOPROXY: example.test/dep v1.0.0.
fn write_proxy(dir: &Path) {
    let v = dir.join("example.test/dep/@v");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(v.join("list"), "v1.0.0\n").unwrap();
    std::fs::write(
        v.join("v1.0.0.info"),
        "{\"Version\":\"v1.0.0\",\"Time\":\"2024-01-01T00:00:00Z\"}\n",
    )
    .unwrap();
    let gomod = "module example.test/dep\n\ngo 1.21\n";
    std::fs::write(v.join("v1.0.0.mod"), gomod).unwrap();
    let file = std::fs::File::create(v.join("v1.0.0.zip")).unwrap();
    let mut z = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("example.test/dep@v1.0.0/go.mod", opts)
        .unwrap();
    z.write_all(gomod.as_bytes()).unwrap();
    z.start_file("example.test/dep@v1.0.0/dep.go", opts)
        .unwrap();
    z.write_all(b"package dep\n\nfunc Hello() string { return \"hi\" }\n")
        .unwrap();
    z.finish().unwrap();
}

fn sandbox(version: &str) -> Sandbox {
    let sb = Sandbox::new();
    let proxy = sb.root.join("proxy");
    write_proxy(&proxy);
    sb.write_policy(&sb.isolated_policy(&format!(
        "{}\n[env]\nenforce = {{ GOPROXY = \"file://{}\", GOSUMDB = \"off\", GOFLAGS = \"-modcacherw\" }}\n\n[check]\nseverity = {{ \"mod.tidy\" = \"error\", \"mod.verify\" = \"error\" }}\n",
        common::real_toolchains_search(),
        proxy.display()
    )));
    sb.write_project_file(".go-version", &format!("{version}\n"));
    sb.write_project_file(
        "go.mod",
        "module corp.example/app\n\ngo 1.22\n\nrequire example.test/dep v1.0.0\n",
    );
    sb.write_project_file(
        "main.go",
        "package main\n\nimport \"example.test/dep\"\n\nfunc main() { println(dep.Hello()) }\n",
    );
    sb
}

fn check(sb: &Sandbox) -> (i32, Value) {
    // The caller's GOFLAGS=-mod=mod must not reach the checks' go calls.
    let mut c = sb.gowarden(&["check", "--format", "json"]);
    c.env("GOFLAGS", "-mod=mod");
    let r = run(c);
    let v: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr));
    (r.status(), v)
}

fn rules(v: &Value) -> Vec<String> {
    v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["rule"].as_str().unwrap(), f["line"]))
        .collect()
}

#[test]
fn tidy_and_verify_through_the_governed_go() {
    let sb = sandbox("1.23.12");
    // go.sum as go writes it, through the shim and the file proxy.
    let r = run(sb.go(&["mod", "tidy"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let sum = std::fs::read_to_string(sb.project.join("go.sum")).unwrap();
    assert_eq!(sum.lines().count(), 2, "{sum}");
    let (status, v) = check(&sb);
    assert_eq!(status, 0, "{v:#}");

    // go.sum missing the content hash: the go.mod line is there, so only tidy sees it.
    let without_zip: String = sum
        .lines()
        .filter(|l| l.contains("/go.mod "))
        .map(|l| format!("{l}\n"))
        .collect();
    sb.write_project_file("go.sum", &without_zip);
    let (status, v) = check(&sb);
    assert_eq!(status, 1);
    assert_eq!(rules(&v), ["mod.tidy 1"]);
    let m = v["violations"][0]["message"].as_str().unwrap();
    assert!(m.contains("+example.test/dep v1.0.0 h1:"), "{m}");
    // -diff wrote nothing.
    assert_eq!(
        std::fs::read_to_string(sb.project.join("go.sum")).unwrap(),
        without_zip
    );

    // A requirement the code does not use is a tidy diff of go.mod.
    sb.write_project_file("go.sum", &sum);
    sb.write_project_file("main.go", "package main\n\nfunc main() {}\n");
    let (_, v) = check(&sb);
    assert_eq!(rules(&v), ["mod.tidy 1"]);
    let m = v["violations"][0]["message"].as_str().unwrap();
    assert!(m.contains("-require example.test/dep v1.0.0"), "{m}");
    sb.write_project_file(
        "main.go",
        "package main\n\nimport \"example.test/dep\"\n\nfunc main() { println(dep.Hello()) }\n",
    );

    // The module cache no longer holds what go.sum says was downloaded.
    let cached = sb.home.join("go/pkg/mod/example.test/dep@v1.0.0/dep.go");
    std::fs::write(
        &cached,
        "package dep\n\nfunc Hello() string { return \"evil\" }\n",
    )
    .unwrap();
    let (status, v) = check(&sb);
    assert_eq!(status, 1);
    assert_eq!(rules(&v), ["mod.verify 1"]);
    let m = v["violations"][0]["message"].as_str().unwrap();
    assert!(
        m.contains("example.test/dep v1.0.0: dir has been modified"),
        "{m}"
    );

    // The calls were the shim's: audited, with the policy's toolchain.
    let log = std::fs::read_to_string(sb.home.join(".local/state/gowarden/audit.jsonl"))
        .unwrap_or_default();
    let checks: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("\"stringValue\":\"go mod tidy -diff\"")
                || l.contains("\"stringValue\":\"go mod verify\"")
        })
        .collect();
    assert_eq!(checks.len(), 8, "{log}");
    for l in checks {
        assert!(
            l.contains("\"go.version\",\"value\":{\"stringValue\":\"go1.23.12\"}"),
            "{l}"
        );
        assert!(
            l.contains("env_override.to.GOPROXY\",\"value\":{\"stringValue\":\"file://"),
            "{l}"
        );
        // The caller's GOFLAGS=-mod=mod was dropped; the policy's GOFLAGS applies.
        assert!(!l.contains("-mod=mod") && l.contains("-modcacherw"), "{l}");
    }
}

#[test]
fn tidy_needs_go_1_23() {
    let sb = sandbox("1.22.12");
    let r = run(sb.go(&["mod", "tidy"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let (status, v) = check(&sb);
    assert_eq!(status, 1, "{v:#}");
    assert_eq!(rules(&v), ["mod.tidy 1"]);
    assert!(
        v["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("needs go1.23 or later"),
        "{v:#}"
    );
}
