//! `gowarden audit report`: the numbers against fixtures counted by hand (hand-written records
//! in the log's exact format, spread over weeks, on three hosts, one of them read through a
//! Collector export made by `gowarden audit export`), a log the shim wrote for real, the
//! Prometheus output through the `prometheus_client` parser, the HTML page in headless
//! Chromium, and bad input.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Sandbox, day, run};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Unix nanoseconds of a UTC time, by date(1), so the fixture's times are not computed by the
/// code under test.
fn ns(when: &str) -> u64 {
    let out = Command::new("date")
        .args(["-u", "-d", when, "+%s"])
        .output()
        .expect("date(1)");
    assert!(out.status.success(), "date -d {when}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse::<u64>()
        .unwrap()
        * 1_000_000_000
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One record line as the shim writes it, without its chain fields: time, decision, body and
/// string attributes.
fn rec(when: &str, decision: &str, body: &str, attrs: &[(&str, &str)]) -> String {
    let severity = if decision == "allow" {
        (9, "INFO")
    } else {
        (13, "WARN")
    };
    let mut a = vec![format!(
        r#"{{"key":"gowarden.decision","value":{{"stringValue":"{decision}"}}}}"#
    )];
    let args: Vec<String> = body
        .split(' ')
        .map(|w| format!(r#"{{"stringValue":"{w}"}}"#))
        .collect();
    a.push(format!(
        r#"{{"key":"process.command_args","value":{{"arrayValue":{{"values":[{}]}}}}}}"#,
        args.join(",")
    ));
    a.push(r#"{"key":"process.pid","value":{"intValue":"4242"}}"#.to_string());
    for (k, v) in attrs {
        a.push(format!(
            r#"{{"key":"{k}","value":{{"stringValue":"{v}"}}}}"#
        ));
    }
    let t = ns(when);
    format!(
        r#"{{"timeUnixNano":"{t}","observedTimeUnixNano":"{t}","severityNumber":{},"severityText":"{}","body":{{"stringValue":"{body}"}},"attributes":[{}]}}"#,
        severity.0,
        severity.1,
        a.join(",")
    )
}

/// Chains the lines as the log does: `gowarden.seq` from 1 and `gowarden.prev_sha256` the
/// SHA-256 of the previous line, as the first attributes.
fn chain(lines: &[String]) -> Vec<String> {
    let mut prev = "0".repeat(64);
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let chained = l.replacen(
            r#""attributes":["#,
            &format!(
                r#""attributes":[{{"key":"gowarden.seq","value":{{"intValue":"{}"}}}},{{"key":"gowarden.prev_sha256","value":{{"stringValue":"{prev}"}}}},"#,
                i + 1
            ),
            1,
        );
        prev = hex(&Sha256::digest(chained.as_bytes()));
        out.push(chained);
    }
    out
}

fn write_log(path: &Path, lines: &[String]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn who(host: &str, uid: &str, name: &str, role: &str) -> Vec<(&'static str, String)> {
    vec![
        ("host.name", host.to_string()),
        ("user.id", uid.to_string()),
        ("user.name", name.to_string()),
        ("gowarden.role", role.to_string()),
    ]
}

fn run_rec(
    who: &[(&'static str, String)],
    when: &str,
    decision: &str,
    body: &str,
    more: &[(&str, &str)],
) -> String {
    let mut a: Vec<(&str, &str)> = who.iter().map(|(k, v)| (*k, v.as_str())).collect();
    a.extend_from_slice(more);
    rec(when, decision, body, &a)
}

const PAY_API: (&str, &str) = ("gowarden.project", "corp.example/pay/api");
const PAY_WEB: (&str, &str) = ("gowarden.project", "corp.example/pay/web");
const LINT: (&str, &str) = ("gowarden.project", "corp.example/tools/lint");
const PAYMENTS: (&str, &str) = ("gowarden.tier", "payments");
const INTERNAL: (&str, &str) = ("gowarden.tier", "internal");

/// The fleet: `dev1` (a local log), `ci1` (only its Collector export, with one batch sent
/// twice), `dev2` (a local log whose first record was edited after it was written).
struct Fleet {
    sb: Sandbox,
    dev1: PathBuf,
    export: PathBuf,
    dev2: PathBuf,
}

fn fleet() -> Fleet {
    let sb = Sandbox::new();
    sb.write_policy(&sb.isolated_policy(&format!(
        r#"
[[tier]]
name = "payments"
owner = "pay-team@corp.example"
modules = ["corp.example/pay/..."]
min = "1.22.0"
recommended = "1.23.4"
upgrade_by = "{}"

[[tier]]
name = "internal"
owner = "platform@corp.example"
modules = ["corp.example/tools/..."]
recommended = "1.23.0"
upgrade_by = "{}"
"#,
        day(30),
        day(-5)
    )));
    let d1 = who("dev1", "1000", "alice", "dev");
    let dev1 = sb.root.join("logs/dev1/audit.jsonl");
    write_log(
        &dev1,
        &chain(&[
            run_rec(
                &d1,
                "2026-11-02T09:00:00Z",
                "allow",
                "go build ./...",
                &[PAYMENTS, PAY_API, ("go.version", "go1.22.3")],
            ),
            run_rec(
                &d1,
                "2026-11-02T09:05:00Z",
                "deny",
                "go build ./...",
                &[PAYMENTS, PAY_API, ("gowarden.rule", "matrix.deadline")],
            ),
            run_rec(
                &d1,
                "2026-11-02T10:00:00Z",
                "deny",
                "go build ./...",
                &[PAYMENTS, PAY_API, ("gowarden.rule", "matrix.deadline")],
            ),
            run_rec(
                &d1,
                "2026-11-03T08:00:00Z",
                "allow",
                "go test ./...",
                &[PAYMENTS, PAY_API, ("go.version", "go1.23.4")],
            ),
            run_rec(
                &d1,
                "2026-11-03T08:30:00Z",
                "warn",
                "go vet ./...",
                &[PAYMENTS, PAY_API, ("go.version", "go1.23.4")],
            ),
            run_rec(
                &d1,
                "2026-11-03T09:00:00Z",
                "drift",
                "error: path go: expected the gowarden shim",
                &[
                    ("gowarden.drift.category", "path"),
                    ("gowarden.drift.key", "go"),
                ],
            ),
            run_rec(
                &d1,
                "2026-11-04T09:00:00Z",
                "warn",
                "go build ./cmd/web",
                &[PAYMENTS, PAY_WEB, ("go.version", "go1.22.8")],
            ),
        ]),
    );

    let ci = who("ci1", "1001", "ci", "ci");
    let ci_log = sb.root.join("ci1/audit.jsonl");
    write_log(
        &ci_log,
        &chain(&[
            run_rec(
                &ci,
                "2026-11-02T12:00:00Z",
                "allow",
                "go build ./...",
                &[PAYMENTS, PAY_API, ("go.version", "go1.23.4")],
            ),
            run_rec(
                &ci,
                "2026-11-04T12:00:00Z",
                "deny",
                "go build -toolexec=/tmp/x ./...",
                &[INTERNAL, LINT, ("gowarden.rule", "deny-toolexec")],
            ),
            run_rec(
                &ci,
                "2026-11-04T12:01:00Z",
                "deny",
                "go build -toolexec=/tmp/x ./...",
                &[INTERNAL, LINT, ("gowarden.rule", "deny-toolexec")],
            ),
            run_rec(
                &ci,
                "2026-11-04T12:02:00Z",
                "deny",
                "go test -toolexec=/tmp/y ./...",
                &[INTERNAL, LINT, ("gowarden.rule", "deny-toolexec")],
            ),
            run_rec(
                &ci,
                "2026-11-05T00:00:00Z",
                "allow",
                "go build ./...",
                &[INTERNAL, LINT, ("go.version", "go1.22.3")],
            ),
        ]),
    );
    // The Collector's file export: one request per line, the same batch twice (a
    // retransmission after a lost response).
    let out = run(sb.gowarden(&["audit", "export", "--otlp-json", ci_log.to_str().unwrap()]));
    assert_eq!(out.status(), 0, "{}", out.stderr);
    let export = sb.root.join("logs/collector/export.jsonl");
    fs::create_dir_all(export.parent().unwrap()).unwrap();
    fs::write(&export, format!("{}{}", out.stdout, out.stdout)).unwrap();

    let d2 = who("dev2", "1002", "bob", "dev");
    let dev2 = sb.root.join("logs/dev2/audit.jsonl");
    let mut lines = chain(&[
        run_rec(
            &d2,
            "2026-10-30T15:00:00Z",
            "allow",
            "go build ./...",
            &[INTERNAL, LINT, ("go.version", "go1.21.9")],
        ),
        run_rec(
            &d2,
            "2026-10-31T15:00:00Z",
            "allow",
            "go build ./...",
            &[INTERNAL, LINT, ("go.version", "go1.21.9")],
        ),
        run_rec(
            &d2,
            "2026-10-31T16:00:00Z",
            "drift",
            "error: env GOPROXY: expected https://proxy.corp.example",
            &[
                ("gowarden.drift.category", "env"),
                ("gowarden.drift.key", "GOPROXY"),
            ],
        ),
    ]);
    // Edited after the fact: seq 2 no longer links to it.
    lines[0] = lines[0].replace("go build ./...", "go build ./...  ");
    write_log(&dev2, &lines);
    Fleet {
        sb,
        dev1,
        export,
        dev2,
    }
}

fn report_json(sb: &Sandbox, args: &[&str]) -> Value {
    let mut a = vec!["audit", "report", "--format", "json"];
    a.extend_from_slice(args);
    let out = run(sb.gowarden(&a));
    assert_eq!(out.status(), 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

fn calls(allowed: u64, warned: u64, refused: u64) -> Value {
    json!({"allowed": allowed, "warned": warned, "refused": refused})
}

/// Every number below was counted by hand from the fixture above.
#[test]
fn numbers_match_the_hand_counted_fleet() {
    let f = fleet();
    let logs = f.sb.root.join("logs");
    let r = report_json(&f.sb, &[logs.to_str().unwrap()]);
    let (dev1, export, dev2) = (
        f.dev1.display().to_string(),
        f.export.display().to_string(),
        f.dev2.display().to_string(),
    );

    // The directory is walked; files in name order.
    assert_eq!(r["inputs"]["files"], json!([export, dev1, dev2]));
    // 7 + 5 + 3 records; the second copy of ci1's batch adds nothing.
    assert_eq!(r["inputs"]["records"], 15);
    assert_eq!(r["inputs"]["duplicates"], 5);
    assert_eq!(r["inputs"]["first_record"], "2026-10-30T15:00:00.000Z");
    assert_eq!(r["inputs"]["last_record"], "2026-11-05T00:00:00.000Z");
    assert_eq!(
        (r["hosts"].as_u64(), r["users"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(r["calls"], calls(6, 2, 5));

    assert_eq!(
        r["tiers"],
        json!([
            {
                "tier": "internal", "owner": "platform@corp.example", "min": null,
                "recommended": "go1.23.0", "upgrade_by": day(-5), "projects": 1,
                "calls": calls(3, 0, 3),
                "versions": [{"version": "go1.21.9", "calls": 2}, {"version": "go1.22.3", "calls": 1}],
                "refusals": {"by_rule": {"deny-toolexec": 3}, "by_role": {"ci": 3}},
                "top_refused": [
                    {"command": "go build -toolexec=/tmp/x ./...", "count": 2, "error": 0},
                    {"command": "go test -toolexec=/tmp/y ./...", "count": 1, "error": 0}
                ],
                "over_time": [
                    {"day": "2026-10-30", "calls": calls(1, 0, 0), "versions": {"go1.21.9": 1}},
                    {"day": "2026-10-31", "calls": calls(1, 0, 0), "versions": {"go1.21.9": 1}},
                    {"day": "2026-11-04", "calls": calls(0, 0, 3), "versions": {}},
                    {"day": "2026-11-05", "calls": calls(1, 0, 0), "versions": {"go1.22.3": 1}}
                ]
            },
            {
                "tier": "payments", "owner": "pay-team@corp.example", "min": "go1.22.0",
                "recommended": "go1.23.4", "upgrade_by": day(30), "projects": 2,
                "calls": calls(3, 2, 2),
                "versions": [
                    {"version": "go1.22.3", "calls": 1},
                    {"version": "go1.22.8", "calls": 1},
                    {"version": "go1.23.4", "calls": 3}
                ],
                "refusals": {"by_rule": {"matrix.deadline": 2}, "by_role": {"dev": 2}},
                "top_refused": [{"command": "go build ./...", "count": 2, "error": 0}],
                "over_time": [
                    {"day": "2026-11-02", "calls": calls(2, 0, 2), "versions": {"go1.22.3": 1, "go1.23.4": 1}},
                    {"day": "2026-11-03", "calls": calls(1, 1, 0), "versions": {"go1.23.4": 2}},
                    {"day": "2026-11-04", "calls": calls(0, 1, 0), "versions": {"go1.22.8": 1}}
                ]
            }
        ])
    );

    assert_eq!(
        r["projects"],
        json!([
            {
                "project": "corp.example/pay/api", "tier": "payments", "calls": calls(3, 1, 2),
                "current_version": "go1.23.4",
                "versions": [
                    {"version": "go1.22.3", "calls": 1, "first_seen": "2026-11-02T09:00:00.000Z",
                     "last_seen": "2026-11-02T09:00:00.000Z"},
                    {"version": "go1.23.4", "calls": 3, "first_seen": "2026-11-02T12:00:00.000Z",
                     "last_seen": "2026-11-03T08:30:00.000Z"}
                ],
                "refusals": {"by_rule": {"matrix.deadline": 2}, "by_role": {"dev": 2}},
                "top_refused": [{"command": "go build ./...", "count": 2, "error": 0}],
                // Refused on dev1 at 09:05, built clean by ci1 at 12:00 (read first, from
                // another file): 2 h 55 min.
                "response_time": {"first_violation": "2026-11-02T09:05:00.000Z",
                                  "first_clean_call": "2026-11-02T12:00:00.000Z",
                                  "seconds": 10500, "exact": true}
            },
            {
                "project": "corp.example/pay/web", "tier": "payments", "calls": calls(0, 1, 0),
                "current_version": "go1.22.8",
                "versions": [{"version": "go1.22.8", "calls": 1, "first_seen": "2026-11-04T09:00:00.000Z",
                              "last_seen": "2026-11-04T09:00:00.000Z"}],
                "refusals": {"by_rule": {}, "by_role": {}},
                "top_refused": [],
                "response_time": null
            },
            {
                "project": "corp.example/tools/lint", "tier": "internal", "calls": calls(3, 0, 3),
                "current_version": "go1.22.3",
                "versions": [
                    {"version": "go1.21.9", "calls": 2, "first_seen": "2026-10-30T15:00:00.000Z",
                     "last_seen": "2026-10-31T15:00:00.000Z"},
                    {"version": "go1.22.3", "calls": 1, "first_seen": "2026-11-05T00:00:00.000Z",
                     "last_seen": "2026-11-05T00:00:00.000Z"}
                ],
                "refusals": {"by_rule": {"deny-toolexec": 3}, "by_role": {"ci": 3}},
                "top_refused": [
                    {"command": "go build -toolexec=/tmp/x ./...", "count": 2, "error": 0},
                    {"command": "go test -toolexec=/tmp/y ./...", "count": 1, "error": 0}
                ],
                // The clean calls of October (dev2, read last) came before the violation.
                "response_time": {"first_violation": "2026-11-04T12:00:00.000Z",
                                  "first_clean_call": "2026-11-05T00:00:00.000Z",
                                  "seconds": 43200, "exact": true}
            }
        ])
    );

    // Nearest deadline first: lint's passed 5 days ago; pay/web has 30 days left; pay/api
    // runs the recommended release.
    assert_eq!(
        r["behind"],
        json!([
            {"project": "corp.example/tools/lint", "tier": "internal", "owner": "platform@corp.example",
             "current_version": "go1.22.3", "recommended": "go1.23.0", "below_min": false,
             "upgrade_by": day(-5), "days_left": -5},
            {"project": "corp.example/pay/web", "tier": "payments", "owner": "pay-team@corp.example",
             "current_version": "go1.22.8", "recommended": "go1.23.4", "below_min": false,
             "upgrade_by": day(30), "days_left": 30}
        ])
    );

    assert_eq!(
        r["refusals"],
        json!({
            "by_rule": {"deny-toolexec": 3, "matrix.deadline": 2},
            "by_role": {"ci": 3, "dev": 2},
            "by_rule_and_role": [
                {"rule": "deny-toolexec", "role": "ci", "count": 3},
                {"rule": "matrix.deadline", "role": "dev", "count": 2}
            ],
            "over_time": [{"day": "2026-11-02", "count": 2}, {"day": "2026-11-04", "count": 3}],
            "top_refused": [
                {"command": "go build -toolexec=/tmp/x ./...", "count": 2, "error": 0},
                {"command": "go build ./...", "count": 2, "error": 0},
                {"command": "go test -toolexec=/tmp/y ./...", "count": 1, "error": 0}
            ]
        })
    );
    assert_eq!(
        r["response_time"],
        json!({"projects_with_violation": 2, "responded": 2, "median_seconds": 26850, "max_seconds": 43200})
    );
    assert_eq!(
        r["drift"],
        json!({
            "drift_events": 2, "bypass_events": 1, "resolved_events": 0, "fixes": 0,
            "hosts_with_bypass": 1,
            "by_category": {"env": 1, "path": 1},
            "by_key": {"GOPROXY": 1, "go": 1},
            "by_month": [{"month": "2026-10", "drift": 1, "bypass": 0},
                         {"month": "2026-11", "drift": 1, "bypass": 1}]
        })
    );

    assert_eq!(r["chains"], json!({"streams": 3, "intact": 2, "broken": 1}));
    let streams = r["streams"].as_array().unwrap();
    let s = |host: &str| streams.iter().find(|s| s["host"] == host).unwrap();
    assert_eq!(
        s("ci1"),
        &json!({
            "host": "ci1", "user_id": "1001", "user_name": "ci", "sources": ["collected"],
            "status": "intact", "records": 5, "first_seq": 1, "last_seq": 5, "missing": 0,
            "retransmitted": 5, "unchecked": 0,
            "first_record": "2026-11-02T12:00:00.000Z", "last_record": "2026-11-05T00:00:00.000Z",
            "problem_count": 0, "problems": []
        })
    );
    assert_eq!(s("dev1")["status"], "intact");
    assert_eq!(
        (
            s("dev1")["records"].as_u64(),
            s("dev1")["last_seq"].as_u64()
        ),
        (Some(7), Some(7))
    );
    assert_eq!(s("dev1")["sources"], json!(["local"]));
    assert_eq!(s("dev2")["status"], "broken");
    assert_eq!(
        s("dev2")["problems"],
        json!([{"file": dev2, "line": 2,
                "message": "seq 2 does not link to seq 1: its gowarden.prev_sha256 is not that \
                            record's hash (edited, or a chain rewritten from here)"}])
    );
}

/// A local log read beside the Collector's copy of it counts each record once, and the
/// order the files are named in changes no number.
#[test]
fn a_log_and_its_collected_copy_count_once_in_any_order() {
    let f = fleet();
    let ci_log = f.sb.root.join("ci1/audit.jsonl");
    let a = report_json(
        &f.sb,
        &[ci_log.to_str().unwrap(), f.export.to_str().unwrap()],
    );
    let b = report_json(
        &f.sb,
        &[f.export.to_str().unwrap(), ci_log.to_str().unwrap()],
    );
    for r in [&a, &b] {
        assert_eq!(r["inputs"]["records"], 5);
        assert_eq!(r["inputs"]["duplicates"], 10);
        assert_eq!(r["calls"], calls(2, 0, 3));
        assert_eq!(r["chains"], json!({"streams": 1, "intact": 1, "broken": 0}));
        assert_eq!(r["streams"][0]["sources"], json!(["collected", "local"]));
        assert_eq!(r["streams"][0]["retransmitted"], 10);
    }
    assert_eq!(a["projects"], b["projects"]);
    assert_eq!(a["tiers"], b["tiers"]);
}

/// The shim's own records: a project run through the real shim (fake toolchains) on a
/// release below `recommended`, refused below `min`, then on the recommended one.
#[test]
fn records_the_shim_wrote_for_real() {
    let sb = Sandbox::new();
    sb.write_policy(&sb.isolated_policy(&format!(
        r#"
[[tier]]
name = "payments"
owner = "pay-team@corp.example"
modules = ["corp.example/pay/..."]
min = "1.22.0"
recommended = "1.23.4"
upgrade_by = "{}"
"#,
        day(12)
    )));
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.23.4");
    sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.22\n");
    for (pin, status) in [("1.22.3", 0), ("1.21.0", common::REFUSED), ("1.23.4", 0)] {
        sb.write_project_file(".go-version", pin);
        let out = run(sb.go(&["build", "./..."]));
        assert_eq!(out.status(), status, "{pin}: {}", out.stderr);
    }
    let r = report_json(&sb, &[]);
    assert_eq!(r["calls"], calls(1, 1, 1));
    let p = &r["projects"][0];
    assert_eq!(r["projects"].as_array().unwrap().len(), 1);
    assert_eq!(p["project"], "corp.example/pay/api");
    assert_eq!(p["tier"], "payments");
    assert_eq!(p["calls"], calls(1, 1, 1));
    assert_eq!(p["current_version"], "go1.23.4");
    let versions: Vec<(&str, u64)> = p["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_str().unwrap(), v["calls"].as_u64().unwrap()))
        .collect();
    assert_eq!(versions, [("go1.22.3", 1), ("go1.23.4", 1)]);
    assert_eq!(p["refusals"]["by_rule"], json!({"matrix.min": 1}));
    assert_eq!(
        p["top_refused"],
        json!([{"command": "go build ./...", "count": 1, "error": 0}])
    );
    let rt = &p["response_time"];
    assert!(
        rt["first_violation"].as_str() < rt["first_clean_call"].as_str(),
        "{rt}"
    );
    assert_eq!(rt["exact"], true);
    // Back on the recommended release: nothing behind.
    assert_eq!(r["behind"], json!([]));
    let uid = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout).unwrap();
    assert_eq!(r["streams"].as_array().unwrap().len(), 1);
    let s = &r["streams"][0];
    assert_eq!(s["user_id"], uid.trim());
    assert_eq!(
        (s["status"].as_str(), s["records"].as_u64()),
        (Some("intact"), Some(3))
    );
    assert_eq!(
        r["inputs"]["files"],
        json!([sb.home.join(".local/state/gowarden/audit.jsonl")])
    );
}

/// The `.prom` file, parsed by the Prometheus client's own parser (`prometheus_client`,
/// `text_string_to_metric_families`): every family and sample it reads back, as JSON.
fn parse_prom(path: &Path) -> Value {
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    out[f.name] = {"type": f.type, "help": f.documentation,
                   "samples": [[s.name, s.labels, s.value] for s in f.samples]}
print(json.dumps(out))
"#;
    let out = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "prometheus_client rejects the file (pip install prometheus-client; .ci/run does): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of the one sample of `family` with exactly these labels.
fn sample(families: &Value, family: &str, labels: Value) -> f64 {
    let samples = families[family]["samples"]
        .as_array()
        .unwrap_or_else(|| panic!("no {family}"));
    let hits: Vec<&Value> = samples.iter().filter(|s| s[1] == labels).collect();
    assert_eq!(hits.len(), 1, "{family} {labels}: {samples:?}");
    hits[0][2].as_f64().unwrap()
}

#[test]
fn prometheus_textfile_parses_with_the_same_numbers() {
    let f = fleet();
    let dir = f.sb.root.join("textfile");
    fs::create_dir_all(&dir).unwrap();
    let prom = dir.join("gowarden.prom");
    let logs = f.sb.root.join("logs");
    let out = run(f.sb.gowarden(&[
        "audit",
        "report",
        "--format",
        "prom",
        "-o",
        prom.to_str().unwrap(),
        logs.to_str().unwrap(),
    ]));
    assert_eq!(out.status(), 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    // Written by rename: nothing but the file itself is left for the collector to read.
    let names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["gowarden.prom"]);

    let m = parse_prom(&prom);
    // Conventions: gowarden_ prefix, snake_case, counters in _total, every family helped.
    for (name, fam) in m.as_object().unwrap() {
        assert!(name.starts_with("gowarden_"), "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
        assert!(!fam["help"].as_str().unwrap().is_empty(), "{name}");
        for s in fam["samples"].as_array().unwrap() {
            if fam["type"] == "counter" {
                assert_eq!(
                    s[0],
                    format!("{name}_total"),
                    "a counter's sample is NAME_total"
                );
            }
        }
    }
    assert_eq!(m["gowarden_calls"]["type"], "counter");
    for (tier, decision, n) in [
        ("payments", "allow", 3.0),
        ("payments", "warn", 2.0),
        ("payments", "deny", 2.0),
        ("internal", "allow", 3.0),
        ("internal", "warn", 0.0),
        ("internal", "deny", 3.0),
    ] {
        assert_eq!(
            sample(
                &m,
                "gowarden_calls",
                json!({"tier": tier, "decision": decision})
            ),
            n
        );
    }
    assert_eq!(
        sample(
            &m,
            "gowarden_version_calls",
            json!({"tier": "payments", "version": "go1.23.4"})
        ),
        3.0
    );
    assert_eq!(
        sample(
            &m,
            "gowarden_project_calls",
            json!({"project": "corp.example/tools/lint", "tier": "internal", "decision": "deny"})
        ),
        3.0
    );
    assert_eq!(
        sample(
            &m,
            "gowarden_refusals",
            json!({"rule": "deny-toolexec", "role": "ci"})
        ),
        3.0
    );
    assert_eq!(
        sample(
            &m,
            "gowarden_refusals",
            json!({"rule": "matrix.deadline", "role": "dev"})
        ),
        2.0
    );
    assert_eq!(
        sample(
            &m,
            "gowarden_project_below_recommended",
            json!({
            "project": "corp.example/pay/web", "tier": "payments", "owner": "pay-team@corp.example",
            "version": "go1.22.8", "recommended": "go1.23.4"})
        ),
        1.0
    );
    assert_eq!(
        m["gowarden_project_below_recommended"]["samples"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let deadline = ns(&format!("{} 00:00:00 UTC", day(30))) / 1_000_000_000;
    assert_eq!(
        sample(
            &m,
            "gowarden_project_upgrade_deadline_timestamp_seconds",
            json!({"project": "corp.example/pay/web", "tier": "payments"})
        ),
        deadline as f64
    );
    assert_eq!(
        sample(
            &m,
            "gowarden_project_response_seconds",
            json!({"project": "corp.example/pay/api", "tier": "payments"})
        ),
        10500.0
    );
    assert_eq!(
        sample(&m, "gowarden_drift_events", json!({"category": "path"})),
        1.0
    );
    assert_eq!(sample(&m, "gowarden_bypass_events", json!({})), 1.0);
    assert_eq!(
        sample(
            &m,
            "gowarden_audit_chain_intact",
            json!({"host": "dev2", "user_id": "1002"})
        ),
        0.0
    );
    assert_eq!(
        sample(
            &m,
            "gowarden_audit_chain_intact",
            json!({"host": "ci1", "user_id": "1001"})
        ),
        1.0
    );
    assert_eq!(
        sample(
            &m,
            "gowarden_audit_records",
            json!({"host": "dev1", "user_id": "1000"})
        ),
        7.0
    );
    assert_eq!(
        sample(
            &m,
            "gowarden_audit_last_record_timestamp_seconds",
            json!({"host": "ci1", "user_id": "1001"})
        ),
        (ns("2026-11-05T00:00:00Z") / 1_000_000_000) as f64
    );
}

/// Input that is not an audit log is refused naming the file and line; damage inside a log
/// is reported at its line and breaks that stream's chain, and the report is still written.
#[test]
fn bad_input_names_file_and_line() {
    let f = fleet();
    let notes = f.sb.root.join("notes.txt");
    fs::write(&notes, "hello\n").unwrap();
    let out = run(f.sb.gowarden(&["audit", "report", notes.to_str().unwrap()]));
    assert_eq!(out.status(), 2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "gowarden audit report: {}:1: not an audit log or a Collector export: not a JSON \
             object\n",
            notes.display()
        )
    );

    let missing = f.sb.root.join("nope");
    let out = run(f
        .sb
        .gowarden(&["audit", "report", missing.to_str().unwrap()]));
    assert_eq!(out.status(), 2);
    assert!(
        out.stderr.contains(&missing.display().to_string()),
        "{}",
        out.stderr
    );

    // A line of garbage in the middle of dev1's log.
    let text = fs::read_to_string(&f.dev1).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, "{\"oops\": ");
    fs::write(&f.dev1, lines.join("\n") + "\n").unwrap();
    let out = run(f
        .sb
        .gowarden(&["audit", "report", f.dev1.to_str().unwrap()]));
    assert_eq!(out.status(), 0, "{}", out.stderr);
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    let warning = format!(
        "{}:4: not an audit record (invalid JSON: EOF while parsing a value at line 1 column 9), \
         and the record after it does not repair it",
        f.dev1.display()
    );
    assert_eq!(r["warnings"], json!([warning]));
    assert_eq!(
        out.stderr,
        format!("gowarden audit report: warning: {warning}\n")
    );
    assert_eq!(r["streams"][0]["status"], "broken");
    assert_eq!(r["streams"][0]["problems"][0]["line"], 4);
    // The records around it still count.
    assert_eq!(r["inputs"]["records"], 7);
}

/// The HTML page, opened in headless Chromium: it renders (a screenshot is taken, kept in the
/// target dir to look at), logs no script or policy error, and fetches nothing.
#[test]
fn html_page_renders_in_headless_chromium() {
    let f = fleet();
    let html = f.sb.root.join("report.html");
    let logs = f.sb.root.join("logs");
    let out = run(f.sb.gowarden(&[
        "audit",
        "report",
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
        logs.to_str().unwrap(),
    ]));
    assert_eq!(out.status(), 0, "{}", out.stderr);
    let page = fs::read_to_string(&html).unwrap();
    // Self-contained: no script, and nothing that would load (the one URL is SVG's namespace).
    assert!(!page.contains("<script"));
    for attr in ["src=", "href=", "url(", "@import"] {
        assert!(!page.contains(attr), "{attr} in the page");
    }
    assert!(!page.contains("https:"));
    assert_eq!(
        page.matches("http:").count(),
        page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    // What a reader looks for first, in the page.
    for want in [
        "<h2>Go versions per tier</h2>",
        "<h2>Refusals over time</h2>",
        "<code>corp.example/tools/lint</code></td><td>internal</td><td>platform@corp.example</td><td>go1.22.3</td><td>go1.23.0</td>",
        "5 overdue",
        "<td class=\"broken\">broken</td>",
        "2 h 55 min",
    ] {
        assert!(page.contains(want), "{want:?} not in the page");
    }
    assert_eq!(
        page.matches("<svg").count(),
        3,
        "one chart per tier and the refusals"
    );

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = fs::remove_file(&shot);
    let chromium = |extra: &[&str]| {
        let mut c = Command::new("chromium");
        c.args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            f.sb.root.join("chromium").display()
        ))
        .args(extra)
        .arg(format!("file://{}", html.display()));
        let out = c
            .output()
            .expect("chromium (apt-get install chromium; .ci/run does)");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, stderr) = chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1280,2200",
        "--hide-scrollbars",
    ]);
    assert!(ok, "{stderr}");
    let png = fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height as requested.
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 1280);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 2200);
    let (ok, dom, stderr) = chromium(&["--dump-dom"]);
    assert!(ok, "{stderr}");
    // Console messages (script errors, CSP violations) are logged as CONSOLE lines.
    for bad in [
        "CONSOLE",
        "Uncaught",
        "Content Security Policy",
        "Refused to",
    ] {
        assert!(!stderr.contains(bad), "{bad}: {stderr}");
    }
    // The page Chromium built holds the charts' bars: internal 3 (one per version and day
    // that ran go), payments 4, refusals 2.
    assert_eq!(dom.matches("<rect").count(), 9, "{dom}");
}
