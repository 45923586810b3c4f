//! `gowarden check` (the CI gate) and `gowarden policy check` (the policy lint) on good and bad
//! inputs: every violation at once, file:line, tier, owner, exit codes, JSON and GitHub
//! annotations.

use crate::common;

use std::path::PathBuf;

use common::snapshot::Snap;
use common::{FakeRun, Sandbox, assert_has, day, run};
use serde_json::Value;

use crate::assert_run_snapshot;

const MATRIX: &str = r#"
[matrix]
default_tier = "internal"
require_go_version = REQUIRE

[[tier]]
name = "payments"
modules = ["corp.example/pay/..."]
min = "1.22.5"
recommended = "1.22.8"
upgrade_by = "UPGRADE_BY"
owner = "payments-platform@corp.example"

[[tier]]
name = "internal"
modules = ["corp.example/tools/..."]
min = "1.21.0"
owner = "dev-platform@corp.example"

[[blocked]]
version = "1.21"
reason = "end of life"
"#;

fn write_matrix(sb: &Sandbox, upgrade_by: &str, require: bool) -> String {
    let text = sb.isolated_policy(
        &MATRIX
            .replace("UPGRADE_BY", upgrade_by)
            .replace("REQUIRE", &require.to_string()),
    );
    sb.write_policy(&text);
    text
}

fn json_of(r: &FakeRun) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn rules(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_clean_project_passes_in_every_format() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.8");
    write_matrix(&sb, &day(-1), true);
    sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.22.2\n");
    sb.write_project_file(".go-version", "1.22.8\n");

    let snap = Snap::new(&sb).day(-1);
    assert_run_snapshot!("clean_text", snap, run(sb.gowarden(&["check"])));
    assert_run_snapshot!(
        "clean_json",
        snap,
        run(sb.gowarden(&["check", "--format", "json"]))
    );
    assert_run_snapshot!(
        "clean_github",
        snap,
        run(sb.gowarden(&["check", "--format=github"]))
    );
}

#[test]
fn every_violation_is_reported_at_once() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.8");
    write_matrix(&sb, &day(-1), true);
    sb.write_project_file(
        "go.mod",
        "module corp.example/pay/api\n\ngo 1.22.0\n\ntoolchain go1.22.8\n",
    );
    // Below min, blocked, past the deadline, not installed; go.mod disagrees twice.
    sb.write_project_file(".go-version", "# pinned\n1.21.9\n");

    // Each message names the chosen version's file:line, the policy's line of the rule, the
    // tier's pattern and owner; the GitHub annotations name paths relative to the workspace.
    let snap = Snap::new(&sb).day(-1);
    assert_run_snapshot!(
        "every_violation_json",
        snap,
        run(sb.gowarden(&["check", "--format", "json"]))
    );
    assert_run_snapshot!(
        "every_violation_github",
        snap,
        run(sb.gowarden(&["check", "--format", "github"]))
    );
    assert_run_snapshot!("every_violation_text", snap, run(sb.gowarden(&["check"])));
}

#[test]
fn warnings_alone_pass() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.5");
    let by = day(5);
    write_matrix(&sb, &by, false);
    sb.write_project_file("go.mod", "module corp.example/pay/api\n");
    sb.write_project_file(".go-version", "1.22.5\n");
    let snap = Snap::new(&sb).day(5);
    assert_run_snapshot!("warnings_text", snap, run(sb.gowarden(&["check"])));
    assert_run_snapshot!(
        "warnings_github",
        snap,
        run(sb.gowarden(&["check", "--format", "github"]))
    );
    assert_run_snapshot!(
        "warnings_json",
        snap,
        run(sb.gowarden(&["check", "--format", "json"]))
    );
}

#[test]
fn missing_and_invalid_version_files() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.8");
    write_matrix(&sb, &day(30), true);
    sb.write_project_file("go.mod", "module corp.example/tools/x\n\ngo 1.22\n");
    let snap = Snap::new(&sb).day(30);
    // The fix names the toolchain the go line picks, since the tier recommends nothing.
    assert_run_snapshot!(
        "version_missing_json",
        snap,
        run(sb.gowarden(&["check", "--format", "json"]))
    );
    // Not required: the same project is clean (the go line picks go1.22.8).
    write_matrix(&sb, &day(30), false);
    let r = run(sb.gowarden(&["check"]));
    assert_eq!(r.status(), 0, "{}", r.stdout);

    let gv = sb.write_project_file(".go-version", "# ours\n1.22.x\n");
    assert_run_snapshot!(
        "version_invalid_github",
        snap,
        run(sb.gowarden(&["check", "--format", "github"]))
    );

    // An invalid toolchain line is reported at its own line.
    std::fs::remove_file(&gv).unwrap();
    sb.write_project_file(
        "go.mod",
        "module corp.example/tools/x\n\ngo 1.22\n\ntoolchain banana\n",
    );
    assert_run_snapshot!(
        "toolchain_line_invalid_json",
        snap,
        run(sb.gowarden(&["check", "--format", "json"]))
    );
}

#[test]
fn tier_file_problems_are_violations() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.8");
    write_matrix(&sb, &day(30), false);
    sb.write_project_file("go.mod", "module corp.example/pay/api\n");
    sb.write_project_file(".go-version", "1.22.8\n");
    let f = sb.write_project_file(".gowarden.toml", "\ntier = \"internal\"\n");
    let r = run(sb.gowarden(&["check", "--format", "json"]));
    assert_eq!(r.status(), 1);
    let v = json_of(&r);
    assert_eq!(rules(&v, "violations"), ["matrix.tier-file"]);
    assert_eq!(v["violations"][0]["file"], f.to_str().unwrap());
    assert_eq!(v["violations"][0]["line"], 2);
    assert_has(
        v["violations"][0]["message"].as_str().unwrap(),
        &[
            "tier \"payments\"",
            "looser",
            "payments-platform@corp.example",
        ],
    );
    // Choosing the tier the policy gives anyway is fine.
    sb.write_project_file(".gowarden.toml", "tier = \"payments\"\n");
    let v = json_of(&run(sb.gowarden(&["check", "--format", "json"])));
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["tier"]["reason"], "repo-file");
}

#[test]
fn dash_c_checks_another_directory() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.8");
    write_matrix(&sb, &day(30), false);
    let other: PathBuf = sb.root.join("svc");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join(".go-version"), "1.21.3\n").unwrap();
    let r = run(sb.gowarden(&["check", "-C", other.to_str().unwrap(), "--format", "json"]));
    assert_eq!(r.status(), 1);
    let v = json_of(&r);
    assert_eq!(v["project"], other.to_str().unwrap());
    assert_eq!(v["tier"]["name"], "internal");
    assert_eq!(v["tier"]["reason"], "default");
    assert!(rules(&v, "violations").contains(&"matrix.blocked".to_string()));
    // The project dir's own files are fine.
    sb.write_project_file(".go-version", "1.22.8\n");
    assert_eq!(run(sb.gowarden(&["check"])).status(), 0);
}

#[test]
fn could_not_check_exits_2() {
    let sb = Sandbox::new();
    sb.write_policy("[[tier]]\nname = \"a\"\nownr = \"x\"\n");
    let r = run(sb.gowarden(&["check"]));
    assert_eq!(r.status(), 2);
    assert_has(
        &r.stderr,
        &[
            "could not check",
            &format!("{}:3:1", sb.user_policy_path().display()),
            "ownr",
        ],
    );
    let r = run(sb.gowarden(&["check", "--format", "json"]));
    assert_eq!(r.status(), 2);
    let v = json_of(&r);
    assert_eq!(v["ok"], false);
    assert_has(v["error"].as_str().unwrap(), &["ownr"]);
    let r = run(sb.gowarden(&["check", "--format", "github"]));
    assert_eq!(r.status(), 2);
    assert!(
        r.stdout
            .starts_with("::error title=gowarden check::invalid policy ")
    );

    // An unsafe system policy cannot be checked against either.
    sb.write_system_policy("");
    std::fs::set_permissions(
        &sb.system_policy,
        std::os::unix::fs::PermissionsExt::from_mode(0o666),
    )
    .unwrap();
    let r = run(sb.gowarden(&["check"]));
    assert_eq!(r.status(), 2);
    assert_has(&r.stderr, &["writable by group or others"]);

    let r = run(sb.gowarden(&["check", "-C", "/nonexistent/dir"]));
    assert_eq!(r.status(), 2);
    let r = run(sb.gowarden(&["check", "--format", "yaml"]));
    assert_eq!(r.status(), 2);
    assert_has(
        &r.stderr,
        &[
            "invalid value 'yaml' for '--format <FORMAT>'",
            "[possible values: text, json, github, sarif]",
        ],
    );
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(name)
}

#[test]
fn policy_check_accepts_the_shipped_policies() {
    let sb = Sandbox::new();
    let r = run(sb.gowarden(&[
        "policy",
        "check",
        example("examples/enterprise.toml").to_str().unwrap(),
    ]));
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_has(&r.stdout, &["ok (3 tiers, 2 blocked releases)"]);
    let r = run(sb.gowarden(&["policy", "check", example("default.toml").to_str().unwrap()]));
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_has(&r.stdout, &["ok (0 tiers, 0 blocked releases)"]);
}

#[test]
fn policy_check_reports_every_problem_with_line_and_column() {
    let sb = Sandbox::new();
    let text = r#"[toolchains]
default = "latest"

[matrix]
default_tier = "nope"

[[tier]]
name = "a"
modules = ["corp.example/...", "x/.../api"]
min = "1.23"
recommended = "1.22.1"
upgrade_by = "2025-02-30"
owner = "a@corp.example"

[[tier]]
name = "a"
modules = ["y/..."]
owner = "dup@corp.example"

[[tier]]
name = "b"
modules = ["corp.example/pay/...", "x/pay/...", "corp.example/...", "z/..."]
min = "1.x"
upgrade_by = 2025-01-01
owner = ""

[[tier]]
name = "c"
modules = ["z"]
recommended = "1.22.6"
owner = "c@corp.example"

[[blocked]]
version = "latest"
reason = ""

[[blocked]]
version = "1.22.6"
reason = "regression"
"#;
    let f = sb.root.join("bad.toml");
    std::fs::write(&f, text).unwrap();
    // Every problem at its file:line:col, the other tables' first problem first, then every
    // matrix problem in file order.
    assert_run_snapshot!(
        "policy_check_every_problem",
        Snap::new(&sb),
        run(sb.gowarden(&["policy", "check", f.to_str().unwrap()]))
    );
}

/// `[toolchains]` and `[resolve]` errors point at the value's line and column, as the
/// matrix's and the TOML parser's do.
#[test]
fn toolchains_and_resolve_errors_name_line_and_column() {
    let sb = Sandbox::new();
    let f = sb.root.join("p.toml");
    let check = |text: &str| {
        std::fs::write(&f, text).unwrap();
        let r = run(sb.gowarden(&["policy", "check", f.to_str().unwrap()]));
        (r.status(), r.stdout, r.stderr)
    };
    let at = f.display();
    assert_eq!(
        check("[toolchains]\nsearch = [\"/opt/go\", \"/opt/[go\"]\n"),
        (
            1,
            format!(
                "invalid policy {at}:2:22: [toolchains] search entry \"/opt/[go\" is not a \
                 valid glob: invalid range pattern\n{at}: 1 problem\n"
            ),
            String::new()
        )
    );
    assert_eq!(
        check("[resolve]\nfiles = [\".go-version\",\n  \"go.sum\"]\n"),
        (
            1,
            format!(
                "invalid policy {at}:3:3: [resolve] files has \"go.sum\"; known files are \
                 .go-version, mise.toml, .tool-versions, go.work, go.mod\n{at}: 1 problem\n"
            ),
            String::new()
        )
    );
}

#[test]
fn policy_check_schema_errors_and_unreadable_files() {
    let sb = Sandbox::new();
    let f = sb.root.join("p.toml");
    std::fs::write(
        &f,
        "[[tier]]\nname = \"a\"\nowner = \"x\"\nminimum = \"1.22\"\n",
    )
    .unwrap();
    let snap = Snap::new(&sb);
    assert_run_snapshot!(
        "policy_check_unknown_field",
        snap,
        run(sb.gowarden(&["policy", "check", f.to_str().unwrap()]))
    );
    // An impossible TOML date is the parser's error, still with line and column.
    std::fs::write(&f, "[[tier]]\nname = \"a\"\nowner = \"x\"\nrecommended = \"1.22.1\"\nupgrade_by = 2025-02-30\n").unwrap();
    assert_run_snapshot!(
        "policy_check_impossible_date",
        snap,
        run(sb.gowarden(&["policy", "check", f.to_str().unwrap()]))
    );
    // A TOML date literal is accepted like the string form.
    std::fs::write(&f, "[[tier]]\nname = \"a\"\nowner = \"x\"\nrecommended = \"1.22.1\"\nupgrade_by = 2025-02-28\n").unwrap();
    assert_eq!(
        run(sb.gowarden(&["policy", "check", f.to_str().unwrap()])).status(),
        0
    );

    assert_run_snapshot!(
        "policy_check_unreadable",
        snap,
        run(sb.gowarden(&["policy", "check", "/nonexistent.toml"]))
    );
    assert_eq!(run(sb.gowarden(&["policy", "lint", "x"])).status(), 2);
    assert_eq!(run(sb.gowarden(&["policy", "check"])).status(), 2);
}

#[test]
fn the_enterprise_example_gates_a_payments_repository() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.24.3");
    sb.fake_toolchain("go1.24.9");
    let text = std::fs::read_to_string(example("examples/enterprise.toml"))
        .unwrap()
        // The example's audit log is the machine's; this one is the sandbox's.
        .replace(
            "/var/log/gowarden/",
            &format!("{}/", sb.root.join("audit").display()),
        );
    sb.write_policy(&text);
    sb.write_project_file("go.mod", "module corp.example/ledger/core\n\ngo 1.24\n");
    sb.write_project_file(".go-version", "1.24.3\n");
    let v = json_of(&run(sb.gowarden(&["check", "--format", "json"])));
    assert_eq!(v["tier"]["name"], "payments");
    assert!(
        rules(&v, "violations").contains(&"matrix.min".to_string()),
        "{v}"
    );
    let r = run(sb.go(&["build"]));
    assert_eq!(r.status(), common::REFUSED);
    assert_has(
        &r.stderr,
        &[
            "refused go1.24.3: it is below the minimum go1.24.4 of tier \"payments\"",
            "payments-platform@corp.example (#payments-platform)",
        ],
    );
    // The recommended release runs: in this repository and in a risk one it is too old.
    sb.write_project_file(".go-version", "1.24.9\n");
    assert_eq!(run(sb.go(&["build"])).ran(), Some("go go1.24.9"));
    sb.write_project_file("go.mod", "module corp.example/risk/models\n");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.status(), common::REFUSED);
    assert_has(&r.stderr, &["below the minimum go1.25.0 of tier \"risk\""]);
}

/// `gowarden check`, `gowarden which` and the shim in `dir`: check's JSON, which's JSON, and
/// the shim's run of `go build`.
fn check_which_and_shim(sb: &Sandbox, dir: &std::path::Path) -> (Value, Value, FakeRun) {
    let in_dir = |mut c: std::process::Command| {
        c.current_dir(dir);
        c
    };
    let check = json_of(&run(in_dir(sb.gowarden(&["check", "--format", "json"]))));
    let which = run(in_dir(sb.gowarden(&["which", "--json"])));
    let which: Value = serde_json::from_str(&which.stdout).unwrap_or_else(|e| panic!("{e}"));
    (check, which, run(in_dir(sb.go(&["build", "./..."]))))
}

/// The tier as both JSON reports give it (check adds the tier's rules).
fn tier_of(v: &Value) -> Value {
    let t = &v["tier"];
    serde_json::json!({
        "name": t["name"], "owner": t["owner"], "reason": t["reason"], "why": t["why"],
    })
}

#[test]
fn check_and_the_shim_agree_on_a_workspace_tier() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.22.8");
    write_matrix(&sb, &day(30), false);
    // Built from tools/, whose own module is in "internal": go builds the workspace's modules,
    // and pay's tier is the stricter.
    sb.write_project_file("go.work", "go 1.22\n\nuse (\n\t./tools\n\t./pay\n)\n");
    sb.write_project_file("tools/go.mod", "module corp.example/tools/x\n\ngo 1.22\n");
    let pay = sb.write_project_file("pay/go.mod", "module corp.example/pay/api\n\ngo 1.22\n");
    sb.write_project_file(".go-version", "1.22.8\n");
    let tools = sb.project.join("tools");

    let (check, which, shim) = check_which_and_shim(&sb, &tools);
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(
        check["module"],
        serde_json::json!({"path": "corp.example/pay/api", "file": pay, "line": 1})
    );
    assert_eq!(check["tier"]["name"], "payments", "{check}");
    assert_eq!(tier_of(&check), tier_of(&which));
    assert_eq!(check["version"]["toolchain"], which["version"]);
    assert_eq!(shim.ran(), Some("go go1.22.8"), "{}", shim.stderr);

    // Below the payments minimum: the shim refuses, and check fails, under the same tier.
    sb.write_project_file(".go-version", "1.22.3\n");
    let (check, _, shim) = check_which_and_shim(&sb, &tools);
    assert_eq!(shim.status(), common::REFUSED, "{}", shim.stderr);
    assert!(shim.ran().is_none());
    assert_has(
        &shim.stderr,
        &["go1.22.3: it is below the minimum go1.22.5 of tier \"payments\""],
    );
    assert_eq!(check["tier"]["name"], "payments", "{check}");
    assert_eq!(rules(&check, "violations"), ["matrix.min"]);
    assert_has(
        check["violations"][0]["message"].as_str().unwrap(),
        &["go1.22.3 is below the minimum go1.22.5 of tier \"payments\""],
    );

    // Without the workspace the tools module alone is built: both say "internal".
    let mut c = sb.gowarden(&["check", "--format", "json"]);
    c.current_dir(&tools).env("GOWORK", "off");
    let v = json_of(&run(c));
    assert_eq!(
        (v["ok"].clone(), v["tier"]["name"].clone()),
        (true.into(), "internal".into())
    );
    let mut c = sb.go(&["build", "./..."]);
    c.current_dir(&tools).env("GOWORK", "off");
    assert_eq!(run(c).ran(), Some("go go1.22.3"));
}

#[test]
fn check_and_the_shim_agree_on_a_block_form_module_line() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.22.8");
    write_matrix(&sb, &day(30), false);
    // go reads this module as corp.example/pay/api, declared on line 3.
    let gomod = sb.write_project_file(
        "go.mod",
        "// the payments API\nmodule (\n\t\"corp.example/pay/api\" // quoted\n)\n\ngo 1.22\n",
    );
    sb.write_project_file(".go-version", "1.22.8\n");

    let (check, which, shim) = check_which_and_shim(&sb, &sb.project);
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(
        check["module"],
        serde_json::json!({"path": "corp.example/pay/api", "file": gomod, "line": 3})
    );
    assert_eq!(check["tier"]["name"], "payments");
    assert_eq!(tier_of(&check), tier_of(&which));
    assert_eq!(shim.ran(), Some("go go1.22.8"), "{}", shim.stderr);

    sb.write_project_file(".go-version", "1.22.3\n");
    let (check, _, shim) = check_which_and_shim(&sb, &sb.project);
    assert_eq!(shim.status(), common::REFUSED, "{}", shim.stderr);
    assert_has(&shim.stderr, &["minimum go1.22.5 of tier \"payments\""]);
    assert_eq!(check["tier"]["name"], "payments");
    assert_eq!(rules(&check, "violations"), ["matrix.min"]);
}
