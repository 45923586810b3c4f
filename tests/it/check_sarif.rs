//! `gowarden check --format sarif`: every log validated against the official SARIF 2.1.0
//! schema (OASIS errata01, fetched pinned by scripts/fetch-sarif-schema.sh) with Python's
//! jsonschema, and its results compared with the JSON report of the same check: rule ids,
//! levels, messages and locations, rule metadata for every rule, failures as notifications.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::snapshot::Snap;
use common::{Sandbox, assert_has, day, run};
use serde_json::{Value, json};

use crate::assert_run_snapshot;

fn schema() -> PathBuf {
    let out = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/fetch-sarif-schema.sh"
    ))
    .output()
    .expect("scripts/fetch-sarif-schema.sh");
    assert!(
        out.status.success(),
        "scripts/fetch-sarif-schema.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// The schema's verdict on `log`: `Ok` or the validator's first error.
fn validate(log: &Value, dir: &Path) -> Result<(), String> {
    let file = dir.join(format!("log-{}.sarif", rand_suffix()));
    fs::write(&file, serde_json::to_vec(log).unwrap()).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             v = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)\n\
             errors = sorted(v.iter_errors(json.load(open(sys.argv[2]))), key=str)\n\
             print(errors[0].message + ' at ' + '/'.join(map(str, errors[0].absolute_path)) if errors else '')\n\
             sys.exit(1 if errors else 0)",
        ])
        .arg(schema())
        .arg(&file)
        .output()
        .expect("python3");
    let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(said),
        _ => panic!(
            "the validator failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn sarif(sb: &Sandbox, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check", "--format", "sarif"];
    all.extend_from_slice(args);
    let r = run(sb.gowarden(&all));
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    (r.status(), v)
}

const POLICY: &str = r#"
[matrix]
default_tier = "internal"
require_go_version = true

[[tier]]
name = "payments"
modules = ["corp.example/pay/..."]
min = "1.22.5"
recommended = "1.22.8"
upgrade_by = "UPGRADE_BY"
owner = "payments-platform@corp.example"

[[tier]]
name = "internal"
min = "1.21.0"
owner = "dev-platform@corp.example"
"#;

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let dir = tempfile::tempdir().unwrap();
    let good = json!({"version": "2.1.0", "runs": []});
    assert_eq!(validate(&good, dir.path()), Ok(()));
    let bad_version = json!({"version": "2.0.0", "runs": []});
    assert!(validate(&bad_version, dir.path()).is_err());
    let bad_level = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"message": {"text": "m"}, "level": "fatal"}]}]});
    assert!(
        validate(&bad_level, dir.path())
            .unwrap_err()
            .contains("fatal")
    );
}

#[test]
fn a_project_check_as_sarif_is_valid_and_says_what_the_json_says() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.6");
    sb.write_policy(&sb.isolated_policy(&POLICY.replace("UPGRADE_BY", &day(-1))));
    sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.22.2\n");
    sb.write_project_file(".go-version", "# pinned\n1.22.6\n");

    let (code, log) = sarif(&sb, &[]);
    assert_eq!(code, 1, "{log:#}");
    assert_eq!(validate(&log, &sb.root), Ok(()), "{log:#}");
    // The whole log, as a code-scanning service reads it.
    assert_run_snapshot!(
        "project_log",
        // gowarden's own version is the tool's, changing with every release.
        Snap::new(&sb).day(-1).name(
            format!("\"{}\"", env!("CARGO_PKG_VERSION")),
            "\"[VERSION]\"",
        ),
        run(sb.gowarden(&["check", "--format", "sarif"]))
    );
    let r = run(sb.gowarden(&["check", "--format", "json"]));
    let report: Value = serde_json::from_str(&r.stdout).unwrap();

    let run0 = &log["runs"][0];
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(run0["tool"]["driver"]["name"], "gowarden");
    assert_eq!(run0["invocations"][0]["executionSuccessful"], true);
    let project = sb.project.canonicalize().unwrap();
    assert_eq!(
        run0["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", project.display())
    );
    // Every rule has its metadata; results point into the list.
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    for r in rules {
        assert!(
            r["shortDescription"]["text"].as_str().unwrap().len() > 10,
            "{r}"
        );
        assert!(r["help"]["text"].as_str().unwrap().len() > 10, "{r}");
    }
    let results = run0["results"].as_array().unwrap();
    let want: Vec<&Value> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["warnings"].as_array().unwrap())
        .collect();
    assert_eq!(results.len(), want.len());
    assert_eq!(want[0]["rule"], "matrix.deadline", "{report:#}");
    for (res, f) in results.iter().zip(&want) {
        assert_eq!(res["ruleId"], f["rule"]);
        assert_eq!(res["level"], f["severity"]);
        assert_eq!(res["message"]["text"], f["message"]);
        let index = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], f["rule"]);
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], ".go-version");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["region"]["startLine"], f["line"]);
        assert_eq!(loc["region"]["startLine"], 2);
    }
}

#[test]
fn binaries_and_what_could_not_be_checked_as_sarif() {
    let sb = Sandbox::new();
    sb.write_policy("[check.binary]\nvcs_modified = \"off\"\nrequire = { \"-race\" = \"true\" }\n");
    let dist = sb.project.join("my dist");
    fs::create_dir_all(&dist).unwrap();
    // A real Go binary (the go command, built without -race) and a truncated copy of it.
    fs::copy("/usr/local/go/bin/go", dist.join("go")).unwrap();
    let data = fs::read("/usr/local/go/bin/go").unwrap();
    fs::write(dist.join("cut"), &data[..data.len() / 3]).unwrap();

    let (code, log) = sarif(&sb, &["--binary", "my dist"]);
    assert_eq!(code, 2, "{log:#}");
    assert_eq!(validate(&log, &sb.root), Ok(()), "{log:#}");
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let n = &inv["toolExecutionNotifications"][0];
    assert_eq!(n["level"], "error");
    assert_has(
        n["message"]["text"].as_str().unwrap(),
        &["could not check my dist/cut: corrupt ELF file"],
    );
    assert_eq!(
        n["locations"][0]["physicalLocation"]["artifactLocation"],
        json!({"uri": "my%20dist/cut", "uriBaseId": "%SRCROOT%"})
    );
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{log:#}");
    assert_eq!(results[0]["ruleId"], "binary.setting");
    assert_eq!(results[0]["level"], "error");
    assert_has(
        results[0]["message"]["text"].as_str().unwrap(),
        &["was built without -race"],
    );
    // A binary has no lines: the location is the file alone.
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"],
        json!({"artifactLocation": {"uri": "my%20dist/go", "uriBaseId": "%SRCROOT%"}})
    );

    // An unreadable policy: still a valid log that says checking failed.
    sb.write_policy("[check.binary]\nbogus = 1\n");
    let (code, log) = sarif(&sb, &["--binary", "my dist/go"]);
    assert_eq!(code, 2);
    assert_eq!(validate(&log, &sb.root), Ok(()), "{log:#}");
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_has(
        inv["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap(),
        &["unknown field `bogus`"],
    );
}
