//! `gowarden drift` against REAL Go toolchains (scripts/fetch-go-toolchains.sh): settings made
//! with the real `go env -w`, read back by the real `go env -json`, fixed, watched.

use crate::common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::snapshot::Snap;
use common::{FakeRun, Sandbox, real_toolchains, run};
use serde_json::Value;

use crate::assert_run_snapshot;

/// A sandbox whose policy finds only the real toolchains, with `[env]` = `env_toml` (plus
/// `extra_toolchains` lines in `[toolchains]`), and a project that pins go1.22.12.
fn real_sandbox(env_toml: &str, extra_toolchains: &str) -> (Sandbox, Vec<(String, PathBuf)>) {
    let sb = Sandbox::new();
    let tcs = real_toolchains();
    sb.write_policy(&format!(
        "{}\n[env]\n{env_toml}\n",
        sb.isolated_policy(&format!(
            "{}{extra_toolchains}",
            common::real_toolchains_search()
        ))
    ));
    sb.write_project_file(".go-version", "1.22.12\n");
    sb.write_project_file("go.mod", "module example.com/hello\n\ngo 1.21\n");
    (sb, tcs)
}

const POLICY_ENV: &str = "enforce = { GOPROXY = \"https://proxy.corp.example\" }\n\
                          forbid = [\"GONOSUMDB\"]";

/// The real toolchain's own `go`, run directly (bypassing the shim) with the sandbox's
/// environment; GOTOOLCHAIN=local so it never switches or downloads.
fn real_go(sb: &Sandbox, root: &Path, args: &[&str]) -> Output {
    let out = sb
        .command(root.join("bin/go"))
        .args(args)
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn env_file(sb: &Sandbox) -> PathBuf {
    sb.home.join(".config/go/env")
}

fn drift(sb: &Sandbox, args: &[&str]) -> FakeRun {
    let mut a = vec!["drift"];
    a.extend_from_slice(args);
    run(sb.gowarden(&a))
}

fn drift_json(sb: &Sandbox, args: &[&str]) -> (i32, Value) {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let r = drift(sb, &a);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr));
    (r.status(), v)
}

fn findings<'a>(v: &'a Value, category: &str, key: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == category && f["key"] == key)
        .collect()
}

/// The line of `file` that starts with `prefix` (1-based).
fn line_of(file: &Path, prefix: &str) -> usize {
    fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("{prefix} not in {}", file.display()))
        + 1
}

#[test]
fn go_env_w_settings_are_reported_with_their_file_then_fixed_as_go_would_write_them() {
    let (sb, tcs) = real_sandbox(POLICY_ENV, "");
    let root = &tcs[0].1;
    let file = env_file(&sb);
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, "# my settings\nGOPRIVATE=corp.example/*\n").unwrap();
    real_go(&sb, root, &["env", "-w", "GOPROXY=direct", "GONOSUMDB=*"]);
    let before = fs::read(&file).unwrap();

    let (status, v) = drift_json(&sb, &[]);
    assert_eq!(status, 1, "{v:#}");
    assert_eq!(v["status"], "drift");
    let proxy = findings(&v, "env", "GOPROXY");
    assert_eq!(proxy.len(), 1, "{v:#}");
    assert_eq!(proxy[0]["expected"], "https://proxy.corp.example");
    assert_eq!(proxy[0]["actual"], "direct");
    assert_eq!(proxy[0]["severity"], "error");
    assert_eq!(proxy[0]["source"]["kind"], "env-file");
    assert_eq!(proxy[0]["source"]["path"], file.to_str().unwrap());
    assert_eq!(proxy[0]["source"]["line"], line_of(&file, "GOPROXY="));
    let nosum = findings(&v, "env", "GONOSUMDB");
    assert_eq!(nosum.len(), 1, "{v:#}");
    assert_eq!(nosum[0]["expected"], "(unset)");
    assert_eq!(nosum[0]["actual"], "*");
    assert_eq!(nosum[0]["source"]["line"], line_of(&file, "GONOSUMDB="));
    // go.env's GOTOOLCHAIN=auto lets go.mod switch toolchains outside the shim.
    let gt = findings(&v, "env", "GOTOOLCHAIN");
    assert_eq!(gt.len(), 1, "{v:#}");
    assert_eq!(gt[0]["source"]["kind"], "go.env");
    assert_eq!(
        gt[0]["source"]["path"],
        root.join("go.env").to_str().unwrap()
    );
    assert_eq!(gt[0]["severity"], "warning");

    // The text form names the file and line too.
    let r = drift(&sb, &[]);
    assert_eq!(r.status(), 1);
    assert!(
        r.stdout.contains(&format!(
            "in the go env file {}:{}",
            file.display(),
            line_of(&file, "GOPROXY=")
        )),
        "{}",
        r.stdout
    );

    let r = drift(&sb, &["--fix"]);
    assert_eq!(r.status(), 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("GONOSUMDB: \"*\" -> (absent)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("GOPROXY: \"direct\" -> \"https://proxy.corp.example\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("no drift"), "{}", r.stdout);
    // Only the governed keys changed; the comment and GOPRIVATE stay.
    let fixed = fs::read_to_string(&file).unwrap();
    assert_eq!(
        fixed,
        "# my settings\nGOPRIVATE=corp.example/*\nGOPROXY=https://proxy.corp.example\nGOTOOLCHAIN=local\n"
    );
    // The previous file is kept beside it.
    let backups: Vec<PathBuf> = fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("env.gowarden-backup-")
        })
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(fs::read(&backups[0]).unwrap(), before);
    // What a call bypassing the shim now gets, from the real go itself.
    let out = real_go(
        &sb,
        root,
        &["env", "-json", "GOPROXY", "GONOSUMDB", "GOPRIVATE"],
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["GOPROXY"], "https://proxy.corp.example");
    assert_eq!(
        got["GONOSUMDB"], "corp.example/*",
        "GONOSUMDB defaults to GOPRIVATE"
    );

    let r = drift(&sb, &[]);
    assert_eq!(r.status(), 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("no drift in "), "{}", r.stdout);
}

#[test]
fn fix_json_lists_each_change_for_the_audit_log() {
    let (sb, tcs) = real_sandbox(POLICY_ENV, "gotoolchain = \"inherit\"\n");
    real_go(&sb, &tcs[1].1, &["env", "-w", "GONOSUMDB=corp.example"]);
    let (status, v) = drift_json(&sb, &["--fix"]);
    assert_eq!(status, 0, "{v:#}");
    let fix = &v["fix"];
    assert_eq!(fix["file"], env_file(&sb).to_str().unwrap());
    assert!(
        fix["backup"]
            .as_str()
            .unwrap()
            .contains("env.gowarden-backup-")
    );
    let changes = fix["changes"].as_array().unwrap();
    assert_eq!(
        changes,
        &vec![
            serde_json::json!({"key": "GONOSUMDB", "from": "corp.example", "to": null}),
            serde_json::json!({"key": "GOPROXY", "from": null, "to": "https://proxy.corp.example"}),
        ]
    );
    // The fix is in the audit log: each key of the go env file, from → to.
    let log = fs::read_to_string(sb.home.join(".local/state/gowarden/audit.jsonl")).unwrap();
    let fix_record = log
        .lines()
        .find(|l| l.contains(r#"{"stringValue":"fix"}"#))
        .expect("a fix record");
    for want in [
        r#""key":"gowarden.go_env.previous.GONOSUMDB","value":{"stringValue":"corp.example"}"#,
        r#""key":"gowarden.go_env.new.GOPROXY","value":{"stringValue":"https://proxy.corp.example"}"#,
    ] {
        assert!(fix_record.contains(want), "{want} not in {fix_record}");
    }
    assert!(
        !fix_record.contains("gowarden.go_env.new.GONOSUMDB"),
        "{fix_record}"
    );
    // Nothing to fix: no write, no backup, no changes.
    let (status, v) = drift_json(&sb, &["--fix"]);
    assert_eq!(status, 0);
    assert_eq!(v["fix"]["changes"], serde_json::json!([]));
    assert_eq!(v["fix"]["file"], Value::Null);
}

#[test]
fn a_value_in_the_environment_is_reported_as_such_and_left_to_the_user() {
    let (sb, _) = real_sandbox(POLICY_ENV, "gotoolchain = \"inherit\"\n");
    let mut c = sb.gowarden(&["drift", "--json", "--fix"]);
    c.env("GONOSUMDB", "*")
        .env("GOPROXY", "https://proxy.corp.example");
    let r = run(c);
    assert_eq!(r.status(), 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let nosum = findings(&v, "env", "GONOSUMDB");
    assert_eq!(nosum.len(), 1, "{v:#}");
    assert_eq!(nosum[0]["source"]["kind"], "env");
    assert_eq!(nosum[0]["source"]["path"], Value::Null);
    assert!(
        nosum[0]["fix"]
            .as_str()
            .unwrap()
            .contains("unset GONOSUMDB")
    );
    // The right GOPROXY comes only from this environment: without it go.env's applies, so the
    // file gets the enforced value; the variable itself is the user's to unset.
    assert_eq!(
        v["fix"]["changes"],
        serde_json::json!([{"key": "GOPROXY", "from": null, "to": "https://proxy.corp.example"}])
    );
    assert!(
        v["fix"]["advice"][0]
            .as_str()
            .unwrap()
            .contains("unset GONOSUMDB"),
        "{v:#}"
    );
    assert_eq!(
        fs::read_to_string(env_file(&sb)).unwrap(),
        "GOPROXY=https://proxy.corp.example\n"
    );

    // Before the fix, the same GOPROXY was reported as latent, with go.env as its source.
    let mut c = sb.gowarden(&["drift", "--json"]);
    c.env("GOPROXY", "https://proxy.corp.example");
    fs::remove_file(env_file(&sb)).unwrap();
    let v: Value = serde_json::from_str(&run(c).stdout).unwrap();
    let latent = findings(&v, "env", "GOPROXY");
    assert_eq!(latent.len(), 1, "{v:#}");
    assert_eq!(latent[0]["severity"], "warning");
    assert_eq!(latent[0]["source"]["kind"], "go.env");
}

#[test]
fn the_env_file_writer_matches_the_real_go_env_w_and_u_byte_for_byte() {
    let sb = Sandbox::new();
    let root = real_toolchains()[1].1.clone();
    let file = env_file(&sb);
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case] = &[
        ("", &[("GOPROXY", "off"), ("GOFLAGS", "-mod=mod")], &[]),
        (
            "# keep me\nGOSUMDB=off\nGOPROXY=direct\n\nCC=clang\nAR=ar",
            &[("GOPROXY", "https://p.example"), ("GOAMD64", "v2")],
            &[],
        ),
        (
            "GOPROXY=a\nGOSUMDB=x\nGOPROXY=b\nGOAMD64=v3\nGOBIN=/b\n",
            &[],
            &["GOSUMDB"],
        ),
        ("Z=1\nGOBIN=/b\nGOARCH=amd64\nA=4\n", &[], &["GOBIN"]),
        (
            "lower=x\n#GOPRIVATE=y\nGOVCS=*:all\nGOINSECURE=z\n",
            &[("GOPRIVATE", "q")],
            &[],
        ),
    ];
    for (text, set, unset) in cases {
        fs::write(&file, text).unwrap();
        let mut args: Vec<String> = Vec::new();
        if set.is_empty() {
            args.push("-u".into());
            args.extend(unset.iter().map(|k| k.to_string()));
        } else {
            args.push("-w".into());
            args.extend(set.iter().map(|(k, v)| format!("{k}={v}")));
        }
        let mut argv = vec!["env"];
        argv.extend(args.iter().map(String::as_str));
        real_go(&sb, &root, &argv);
        let by_go = fs::read(&file).unwrap();
        let set: Vec<(String, std::ffi::OsString)> = set
            .iter()
            .map(|(k, v)| (k.to_string(), (*v).into()))
            .collect();
        let unset: Vec<String> = unset.iter().map(|k| k.to_string()).collect();
        let ours = gowarden::goenv::update_env_file(text.as_bytes(), &set, &unset);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&by_go),
            "{text:?} {args:?}"
        );
    }
}

#[test]
fn forbidden_keys_in_the_env_file_are_neutralised_for_the_real_go_through_the_shim() {
    let (sb, tcs) = real_sandbox(
        "forbid = [\"GOFLAGS\", \"GONOSUMDB\", \"GOPRIVATE\", \"GOPROXY\"]",
        "",
    );
    let root = &tcs[0].1;
    // A GOFLAGS that breaks every build, so "neutralised" is observable, not just printed.
    real_go(
        &sb,
        root,
        &[
            "env",
            "-w",
            "GOFLAGS=-toolexec=/nonexistent/tool",
            "GONOSUMDB=*",
            "GOPRIVATE=corp.example",
            "GOPROXY=direct",
        ],
    );
    sb.write_project_file("main.go", "package main\n\nfunc main() {}\n");
    let gocache = root.ancestors().nth(3).unwrap().join("gocache");
    let build = |mut c: Command| {
        c.args(["build", "-o", "/dev/null", "."])
            .env("GOCACHE", &gocache)
            .env("GOPATH", sb.home.join("go"))
            .env("GOTOOLCHAIN", "local");
        run(c)
    };
    let direct = build(sb.command(root.join("bin/go")));
    assert_ne!(
        direct.status(),
        0,
        "the env file's GOFLAGS must break a direct build"
    );
    assert!(
        direct.stderr.contains("/nonexistent/tool"),
        "{}",
        direct.stderr
    );
    let through = build(sb.go(&[]));
    assert_eq!(through.status(), 0, "{}", through.stderr);

    let out = sb
        .go(&[
            "env",
            "-json",
            "GOFLAGS",
            "GONOSUMDB",
            "GOPRIVATE",
            "GOPROXY",
            "GONOPROXY",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    // As if unset: no flags, no patterns, and go.env's proxy.
    assert_eq!(got["GOFLAGS"], " ");
    assert_eq!(got["GOPRIVATE"], ",");
    assert_eq!(got["GONOSUMDB"], ",");
    assert_eq!(got["GONOPROXY"], ",");
    assert_eq!(got["GOPROXY"], "https://proxy.golang.org,direct");
}

#[test]
fn a_toolchain_line_disagreeing_with_go_version_is_reported_with_file_and_line() {
    let (sb, _) = real_sandbox("", "gotoolchain = \"inherit\"\n");
    let gomod = sb.write_project_file(
        "go.mod",
        "module example.com/hello\n\ngo 1.21\n\ntoolchain go1.23.12\n",
    );
    let (status, v) = drift_json(&sb, &[]);
    assert_eq!(status, 1, "{v:#}");
    let t = findings(&v, "version", "toolchain");
    assert_eq!(t.len(), 1, "{v:#}");
    assert_eq!(t[0]["expected"], "go1.22.12");
    assert_eq!(t[0]["actual"], "go1.23.12");
    assert_eq!(t[0]["source"]["kind"], "file");
    assert_eq!(t[0]["source"]["path"], gomod.to_str().unwrap());
    assert_eq!(t[0]["source"]["line"], 5);
    assert!(
        t[0]["fix"]
            .as_str()
            .unwrap()
            .contains("gowarden edits neither")
    );
    // --fix leaves go.mod and .go-version alone and says so.
    let r = drift(&sb, &["--fix"]);
    assert_eq!(r.status(), 1);
    assert!(
        r.stdout.contains("not fixed: version toolchain"),
        "{}",
        r.stdout
    );
    assert_eq!(
        fs::read_to_string(&gomod).unwrap(),
        "module example.com/hello\n\ngo 1.21\n\ntoolchain go1.23.12\n"
    );

    // A family pin the toolchain line satisfies is no drift; a go line newer than what runs is.
    sb.write_project_file(".go-version", "1.23\n");
    let (status, v) = drift_json(&sb, &[]);
    assert_eq!(status, 0, "{v:#}");
    sb.write_project_file(".go-version", "1.22.12\n");
    sb.write_project_file("go.mod", "module example.com/hello\n\ngo 1.23.0\n");
    let (status, v) = drift_json(&sb, &[]);
    assert_eq!(status, 1);
    let g = findings(&v, "version", "go");
    assert_eq!(g.len(), 1, "{v:#}");
    assert_eq!(g[0]["actual"], "go1.22.12");
    assert_eq!(g[0]["source"]["line"], 3);
}

#[test]
fn a_go_ahead_of_the_shim_on_path_is_reported() {
    let (sb, tcs) = real_sandbox("", "gotoolchain = \"inherit\"\n");
    let early = sb.root.join("early-bin");
    fs::create_dir_all(&early).unwrap();
    std::os::unix::fs::symlink(tcs[0].1.join("bin/go"), early.join("go")).unwrap();
    // Not executable: not a command a shell would run, so not reported.
    fs::write(early.join("gofmt"), "").unwrap();
    fs::set_permissions(early.join("gofmt"), fs::Permissions::from_mode(0o644)).unwrap();
    // Only these dirs, so a go the machine has in /usr/bin cannot change the count.
    let path = format!("{}:{}", early.display(), sb.shims.display());
    let mut c = sb.gowarden(&["drift", "--json"]);
    c.env("PATH", &path);
    let r = run(c);
    assert_eq!(r.status(), 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let p = findings(&v, "path", "go");
    assert_eq!(p.len(), 1, "{v:#}");
    assert_eq!(p[0]["actual"], early.join("go").to_str().unwrap());
    assert_eq!(p[0]["source"]["kind"], "path");
    assert_eq!(p[0]["source"]["path"], early.to_str().unwrap());
    assert_eq!(p[0]["source"]["line"], 1);
    assert!(findings(&v, "path", "gofmt").is_empty(), "{v:#}");

    // The shim after the real go: still reported; no shim at all: reported as missing.
    let mut c = sb.gowarden(&["drift", "--json"]);
    c.env("PATH", &early);
    let v: Value = serde_json::from_str(&run(c).stdout).unwrap();
    let p = findings(&v, "path", "go");
    assert_eq!(p.len(), 1, "{v:#}");
    assert!(
        p[0]["message"].as_str().unwrap().contains("not on PATH"),
        "{v:#}"
    );
    assert_eq!(findings(&v, "path", "gofmt").len(), 1, "{v:#}");
}

#[test]
fn an_unreadable_env_file_gives_exit_2() {
    let (sb, _) = real_sandbox(POLICY_ENV, "");
    fs::create_dir_all(env_file(&sb)).unwrap();
    let (status, v) = drift_json(&sb, &[]);
    assert_eq!(status, 2, "{v:#}");
    assert_eq!(v["status"], "error");
    assert_eq!(v["exit_code"], 2);
    let errors = v["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e
            .as_str()
            .unwrap()
            .contains(env_file(&sb).to_str().unwrap())),
        "{v:#}"
    );
    let r = drift(&sb, &[]);
    assert_eq!(r.status(), 2);
    assert_eq!(
        r.stderr,
        format!(
            "gowarden drift: cannot check the environment: the shim refuses to run go here: {}: \
             the go env file is a directory, where go keeps the settings of `go env -w`; move \
             the directory away (`go env -w` then creates the file), or point GOENV at a file\n",
            env_file(&sb).display()
        )
    );
    // A baseline that is not one also means "could not check".
    let bad = sb.root.join("baseline.json");
    fs::write(&bad, "{}").unwrap();
    fs::remove_dir(env_file(&sb)).unwrap();
    let r = drift(&sb, &["--baseline", bad.to_str().unwrap()]);
    assert_eq!(r.status(), 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not a gowarden drift snapshot"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_json_output_keeps_its_documented_shape() {
    let (sb, _) = real_sandbox(POLICY_ENV, "");
    let mut c = sb.gowarden(&["drift", "--json"]);
    c.env("GONOSUMDB", "*");
    let snap = Snap::new(&sb);
    assert_run_snapshot!("forbidden_and_enforced_json", snap, run(c));
    let mut c = sb.gowarden(&["drift"]);
    c.env("GONOSUMDB", "*");
    assert_run_snapshot!("forbidden_and_enforced_text", snap, run(c));
    // -C chooses the directory.
    let sub = sb.project.join("sub");
    fs::create_dir_all(&sub).unwrap();
    let mut c = sb.gowarden(&["drift", "--json", "-C", "sub"]);
    c.env("GONOSUMDB", "*");
    let v: Value = serde_json::from_str(&run(c).stdout).unwrap();
    assert_eq!(v["dir"], sub.to_str().unwrap());
}

#[test]
fn snapshot_then_baseline_reports_what_changed() {
    let (sb, tcs) = real_sandbox(POLICY_ENV, "gotoolchain = \"inherit\"\n");
    let base = sb.root.join("baseline.json");
    let r = run(sb.gowarden(&["drift", "snapshot", "-o", base.to_str().unwrap()]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let b: Value = serde_json::from_str(&fs::read_to_string(&base).unwrap()).unwrap();
    let mut keys: Vec<&String> = b.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_unix",
            "dir",
            "env",
            "gowarden_drift_baseline",
            "policy",
            "requested",
            "toolchain"
        ]
    );
    assert_eq!(b["toolchain"]["name"], "go1.22.12");
    assert_eq!(b["requested"]["source_kind"], "go-version-file");
    assert_eq!(b["env"]["GOPROXY"], "https://proxy.golang.org,direct");
    assert_eq!(b["env"]["GONOSUMDB"], "");
    let policy_text = fs::read(sb.user_policy_path()).unwrap();
    assert_eq!(
        b["policy"]["sha256"],
        gowarden::drift::sha256_hex(&policy_text)
    );
    // Stdout without -o.
    let r = run(sb.gowarden(&["drift", "snapshot"]));
    let again: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(again["env"], b["env"]);

    let (_, v) = drift_json(&sb, &["--baseline", base.to_str().unwrap()]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["category"] != "baseline"),
        "{v:#}"
    );

    sb.write_project_file(".go-version", "1.23.12\n");
    real_go(
        &sb,
        &tcs[1].1,
        &["env", "-w", "GOPROXY=https://proxy.corp.example"],
    );
    let (status, v) = drift_json(&sb, &["--baseline", base.to_str().unwrap()]);
    assert_eq!(status, 1, "{v:#}");
    let t = findings(&v, "baseline", "toolchain");
    assert_eq!(t.len(), 1, "{v:#}");
    assert_eq!(t[0]["expected"], "go1.22.12");
    assert_eq!(t[0]["actual"], "go1.23.12");
    assert_eq!(t[0]["source"]["kind"], "baseline");
    assert_eq!(t[0]["source"]["path"], base.to_str().unwrap());
    assert_eq!(findings(&v, "baseline", "version").len(), 1, "{v:#}");
    let e = findings(&v, "baseline", "GOPROXY");
    assert_eq!(e.len(), 1, "{v:#}");
    assert_eq!(e[0]["actual"], "https://proxy.corp.example");
    assert!(findings(&v, "baseline", "policy").is_empty());
    // A policy edit changes its hash.
    let mut text = String::from_utf8(policy_text).unwrap();
    text.push_str("# edited\n");
    sb.write_policy(&text);
    let (_, v) = drift_json(&sb, &["--baseline", base.to_str().unwrap()]);
    assert_eq!(findings(&v, "baseline", "policy").len(), 1, "{v:#}");
}

#[test]
fn watch_reports_a_change_made_while_it_runs_and_exits_0_on_sigterm() {
    let (sb, tcs) = real_sandbox(POLICY_ENV, "gotoolchain = \"inherit\"\n");
    let mut child = sb
        .gowarden(&["drift", "--watch"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let wait_for = |what: &dyn Fn(&str) -> bool, seen: &mut Vec<String>| -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let hit = what(&line);
                    seen.push(line);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    };
    let mut seen = Vec::new();
    assert!(
        wait_for(&|l| l.contains("watching"), &mut seen),
        "never ready: {seen:?}"
    );
    assert!(
        !seen.iter().any(|l| l.contains("GONOSUMDB")),
        "no drift before the change: {seen:?}"
    );
    // The go env file does not exist yet: its directory appears with it.
    real_go(&sb, &tcs[0].1, &["env", "-w", "GONOSUMDB=*"]);
    let file = env_file(&sb);
    assert!(
        wait_for(
            &|l| l.contains("env GONOSUMDB") && l.contains(&format!("{}:1", file.display())),
            &mut seen
        ),
        "change not reported: {seen:?}"
    );
    // A version file change too, written by rename as editors do.
    let tmp = sb.project.join(".go-version.tmp");
    fs::write(&tmp, "1.23.12\n").unwrap();
    sb.write_project_file(
        "go.mod",
        "module example.com/hello\n\ngo 1.21\n\ntoolchain go1.22.12\n",
    );
    fs::rename(&tmp, sb.project.join(".go-version")).unwrap();
    assert!(
        wait_for(&|l| l.contains("version toolchain"), &mut seen),
        "version drift not reported: {seen:?}"
    );
    // A mise file in a subdirectory that did not exist when the watch began.
    fs::create_dir(sb.project.join(".config")).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    fs::write(
        sb.project.join(".config/mise.toml"),
        "[tools]\ngo = \"1.22.12\"\n",
    )
    .unwrap();
    assert!(
        wait_for(&|l| l.contains("version mise.toml"), &mut seen),
        "mise drift not reported: {seen:?}"
    );
    // Each finding is reported once, not again on every later event.
    let count = seen.iter().filter(|l| l.contains("env GONOSUMDB")).count();
    assert_eq!(count, 1, "{seen:?}");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "--watch did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{seen:?}");
    // Each drift seen is also an audit event.
    let log = fs::read_to_string(sb.home.join(".local/state/gowarden/audit.jsonl")).unwrap();
    let drift_events: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(r#"{"stringValue":"drift"}"#))
        .collect();
    assert!(
        drift_events.iter().any(|l| l.contains("GONOSUMDB")),
        "{log}"
    );
    // Each carries its check's category, which `audit report` counts (a bypass is `path`);
    // counted here from the one-line bodies (`error: env GONOSUMDB: …`).
    let mut by_category: std::collections::BTreeMap<String, u64> = Default::default();
    for l in &drift_events {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        // The filter above also matches `resolved` events (their argv holds "drift").
        let decision = v["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == "gowarden.decision")
            .map(|kv| kv["value"]["stringValue"].clone());
        if decision != Some(Value::from("drift")) {
            continue;
        }
        let body = v["body"]["stringValue"].as_str().unwrap();
        *by_category
            .entry(body.split(' ').nth(1).unwrap().to_string())
            .or_default() += 1;
    }
    assert!(by_category.contains_key("env") && by_category.contains_key("version"));
    let out = run(sb.gowarden(&["audit", "report"]));
    assert_eq!(out.status(), 0, "{}", out.stderr);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        r["drift"]["by_category"],
        serde_json::to_value(&by_category).unwrap()
    );
    assert_eq!(r["drift"]["bypass_events"], 0);
}

#[test]
fn fix_writes_through_a_symlinked_env_file_as_go_env_w_does() {
    let (sb, _) = real_sandbox(POLICY_ENV, "gotoolchain = \"inherit\"\n");
    // A dotfiles checkout whose go env file does not exist yet: the link dangles.
    let dotfiles = sb.root.join("dotfiles");
    fs::create_dir_all(&dotfiles).unwrap();
    let link = env_file(&sb);
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(dotfiles.join("go-env"), &link).unwrap();
    let (status, v) = drift_json(&sb, &["--fix"]);
    assert_eq!(status, 0, "{v:#}");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    let written = fs::read_to_string(dotfiles.join("go-env")).unwrap();
    assert!(
        written.contains("GOPROXY=https://proxy.corp.example"),
        "{written}"
    );
}

#[test]
fn watch_never_calls_a_finding_resolved_when_the_check_could_not_run() {
    let (sb, tcs) = real_sandbox(POLICY_ENV, "gotoolchain = \"inherit\"\n");
    real_go(&sb, &tcs[0].1, &["env", "-w", "GONOSUMDB=*"]);
    let mut child = sb
        .gowarden(&["drift", "--watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut seen: Vec<String> = Vec::new();
    let mut wait_for = |what: &str| -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let hit = line.contains(what);
                    seen.push(line);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    };
    assert!(wait_for("GONOSUMDB"), "the drift is reported first");
    // A version that is not installed: the env check can no longer run.
    sb.write_project_file(".go-version", "1.22.99\n");
    assert!(
        wait_for(r#""event":"error""#),
        "the failed check is reported"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let _ = child.wait();
    assert!(
        !seen.iter().any(|l| l.contains(r#""event":"resolved""#)),
        "nothing was fixed: {seen:#?}"
    );
}

#[test]
fn drift_judges_the_pin_the_shims_decision_reads() {
    // The policy lets .tool-versions choose the version, not .go-version: the shim runs
    // go1.23.12, so go.mod's toolchain line is judged against .tool-versions.
    let (sb, tcs) = real_sandbox("", "gotoolchain = \"inherit\"\n");
    let policy = std::fs::read_to_string(sb.user_policy_path()).unwrap();
    sb.write_policy(&format!(
        "{policy}\n[resolve]\nfiles = [\".tool-versions\", \"go.mod\"]\n"
    ));
    let tv = sb.write_project_file(".tool-versions", "golang 1.23.12\n");
    sb.write_project_file(
        "go.mod",
        "module example.com/hello\n\ngo 1.21\n\ntoolchain go1.22.12\n",
    );
    let go123 = &tcs.iter().find(|(v, _)| v == "go1.23.12").unwrap().1;

    let which: Value =
        serde_json::from_str(&run(sb.gowarden(&["which", "--json"])).stdout).unwrap();
    assert_eq!(which["version"], "go1.23.12");
    assert_eq!(which["source"]["file"], tv.to_str().unwrap());
    let shim = run(sb.go(&["version"]));
    assert!(
        shim.stdout.starts_with("go version go1.23.12 "),
        "{}{}",
        shim.stdout,
        shim.stderr
    );

    let (status, v) = drift_json(&sb, &[]);
    assert_eq!(status, 1, "{v:#}");
    assert_eq!(
        v["toolchain"],
        serde_json::json!({"name": "go1.23.12", "goroot": go123})
    );
    let t = findings(&v, "version", "toolchain");
    assert_eq!(t.len(), 1, "{v:#}");
    assert_eq!(t[0]["expected"], "go1.23.12");
    assert_eq!(t[0]["actual"], "go1.22.12");
    assert!(
        t[0]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}:1 asks for 1.23.12", tv.display())),
        "{v:#}"
    );
}

#[test]
fn doctor_drift_and_the_shim_walk_path_alike() {
    // A relative PATH entry is what a shell in the project runs first: doctor and drift both
    // name its go, and the shim, which never takes a toolchain from one, does not run it.
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let planted = sb.write_project_file("bin/go", "#!/bin/sh\necho planted\n");
    fs::set_permissions(&planted, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("bin:{}:/usr/bin:/bin", sb.shims.display());
    let mut c = sb.gowarden(&["doctor"]);
    c.env("PATH", &path);
    let doctor = run(c);
    assert_eq!(doctor.status(), 1);
    assert_eq!(
        doctor.stderr.lines().next(),
        Some(
            format!(
                "problem: `go` on PATH is {} and not the gowarden shim, so it bypasses the \
                 policy: put the shims dir before {} on PATH",
                planted.display(),
                planted.parent().unwrap().display()
            )
            .as_str()
        )
    );
    let mut c = sb.gowarden(&["drift", "--json"]);
    c.env("PATH", &path);
    let r = run(c);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let go: Vec<_> = findings(&v, "path", "go")
        .iter()
        .map(|f| (f["actual"].clone(), f["source"].clone()))
        .collect();
    assert_eq!(
        go,
        [(
            serde_json::json!(planted),
            serde_json::json!({"kind": "path", "path": "bin", "line": 1})
        )]
    );
    let mut c = sb.go(&["version"]);
    c.env("PATH", &path);
    assert_eq!(run(c).ran(), Some("go go1.22.3"));
}
