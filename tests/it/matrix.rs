//! The version matrix through the real shim binary: tiers by module pattern, default tier and
//! `.gowarden.toml`, minimums, blocked releases, deadlines relative to today (from the system
//! clock, so the tests never rot), the once-a-day warning, and selection under the matrix.

use crate::common;

use std::fs;
use std::path::PathBuf;

use common::snapshot::Snap;
use common::{Sandbox, assert_has, day, line_containing, run};
use gowarden::audit::{LoggedRecord, attr};

use crate::assert_run_snapshot;

const MATRIX: &str = r#"
[matrix]
default_tier = "internal"

[[tier]]
name = "payments"
modules = ["corp.example/pay/..."]
min = "1.22.5"
recommended = "1.22.8"
upgrade_by = UPGRADE_BY
owner = "payments-platform@corp.example"

[[tier]]
name = "internal"
modules = ["corp.example/tools/..."]
min = "1.21.0"
owner = "dev-platform@corp.example"

[[blocked]]
version = "1.22.6"
reason = "SEC-2025-031: crypto/x509 regression"
"#;

/// Writes the test matrix with `upgrade_by` on `date` (and `extra` under `[toolchains]`);
/// returns the policy text.
fn write_matrix(sb: &Sandbox, date: &str, extra: &str) -> String {
    let text = sb.isolated_policy(&format!("{extra}\n{}", MATRIX.replace("UPGRADE_BY", date)));
    sb.write_policy(&text);
    text
}

fn policy_at(sb: &Sandbox, text: &str, needle: &str) -> String {
    format!(
        "{}:{}",
        sb.user_policy_path().display(),
        line_containing(text, needle)
    )
}

fn assert_refused(r: &common::FakeRun) {
    assert_not_run(r, common::REFUSED);
}

/// go did not run and the shim exited with `status`: one message on stderr, nothing on stdout.
fn assert_not_run(r: &common::FakeRun, status: i32) {
    assert_eq!(r.status(), status, "{}", r.stderr);
    assert_eq!(r.ran(), None, "go must not run: {}", r.stdout);
    assert_eq!(r.stdout, "", "the shim prints nothing on stdout");
    // One message: a line, or a block whose further lines are indented (what, where, why,
    // tier, rule, fix, owner), laid out like a role refusal.
    let mut lines = r.stderr.lines();
    assert!(
        lines.next().is_some_and(|l| l.starts_with("gowarden: ")),
        "{}",
        r.stderr
    );
    assert!(
        lines.all(|l| l.starts_with("  ")),
        "one message: {}",
        r.stderr
    );
}

#[test]
fn below_min_refuses_naming_version_source_tier_pattern_rule_fix_and_owner() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.22.8");
    let policy = write_matrix(&sb, &day(30), "");
    let gomod = sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.22\n");
    let gv = sb.write_project_file(".go-version", "1.22.3\n");
    let r = run(sb.go(&["build", "./..."]));
    assert_refused(&r);
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: refused go1.22.3: it is below the minimum go1.22.5 of tier \"payments\"\n\
             \x20 where: go1.22.3 was chosen by {gv}:1\n\
             \x20 tier:  \"payments\", because module corp.example/pay/api ({gomod}:1) matches \
             \"corp.example/pay/...\" ({pattern})\n\
             \x20 rule:  matrix.min ({min})\n\
             \x20 fix:   set {gv}:1 to 1.22.8\n\
             \x20 owner: payments-platform@corp.example\n",
            gv = gv.display(),
            gomod = gomod.display(),
            pattern = policy_at(&sb, &policy, "corp.example/pay/..."),
            min = policy_at(&sb, &policy, "min = \"1.22.5\""),
        )
    );

    // The module line counts even where the policy does not let go.mod choose the version.
    write_matrix(&sb, &day(30), "[resolve]\nfiles = [\".go-version\"]\n");
    let r = run(sb.go(&["build"]));
    assert_refused(&r);
    assert_has(&r.stderr, &["tier \"payments\"", "corp.example/pay/api"]);

    // At the minimum it runs.
    sb.fake_toolchain("go1.22.5");
    sb.write_project_file(".go-version", "1.22.5\n");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.ran(), Some("go go1.22.5"), "{}", r.stderr);
}

#[test]
fn blocked_release_is_refused_with_its_reason_whatever_the_tier() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.6");
    write_matrix(&sb, &day(30), "");
    sb.write_project_file(".go-version", "1.22.6\n");
    let snap = Snap::new(&sb).day(30);
    let r = run(sb.go(&["test", "./..."]));
    assert_refused(&r);
    // Without a module line, the default tier, and where the policy names it.
    assert_run_snapshot!("blocked_default_tier", snap, r);

    // A module no pattern claims lands in the default tier, and says so.
    sb.write_project_file("go.mod", "module corp.example/other\n");
    let r = run(sb.go(&["test"]));
    assert_refused(&r);
    assert_run_snapshot!("blocked_unclaimed_module", snap, r);

    // Without any tier the blocked list still applies, and nothing of tiers is said.
    sb.write_policy(
        &sb.isolated_policy("[[blocked]]\nversion = \"1.22\"\nreason = \"end of life\"\n"),
    );
    let r = run(sb.go(&["test"]));
    assert_refused(&r);
    assert_run_snapshot!("blocked_without_tiers", snap, r);
    sb.fake_toolchain("go1.9.7");
    sb.write_project_file(".go-version", "1.9.7\n");
    let r = run(sb.go(&["test"]));
    assert_eq!(r.ran(), Some("go go1.9.7"), "{}", r.stderr);
    assert_eq!(r.stderr, "");
}

#[test]
fn past_deadline_refuses_and_the_last_day_still_runs() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.5");
    let yesterday = day(-1);
    write_matrix(&sb, &yesterday, "");
    sb.write_project_file("go.mod", "module corp.example/pay\n\ngo 1.22\n");
    sb.write_project_file(".go-version", "go1.22.5\n");
    let snap = Snap::new(&sb).day(-1).day(0);
    let r = run(sb.go(&["build"]));
    assert_refused(&r);
    assert_run_snapshot!("past_deadline", snap, r);

    // `upgrade_by` is the last day it runs: today, with a warning (stdout is the fake go's).
    write_matrix(&sb, &day(0), "");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.ran(), Some("go go1.22.5"), "{}", r.stderr);
    assert_run_snapshot!(
        "last_day_warning",
        snap,
        common::FakeRun {
            stdout: String::new(),
            ..r
        }
    );

    // The recommended release itself is fine after the deadline.
    write_matrix(&sb, &yesterday, "");
    sb.fake_toolchain("go1.22.8");
    sb.write_project_file(".go-version", "1.22.8\n");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.ran(), Some("go go1.22.8"), "{}", r.stderr);
    assert_eq!(r.stderr, "");
}

fn stamps(sb: &Sandbox) -> Vec<PathBuf> {
    let dir = sb.home.join(".local/state/gowarden/warned");
    match fs::read_dir(&dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn before_the_deadline_it_runs_with_one_warning_a_day_per_project() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.5");
    let by = day(10);
    let policy = write_matrix(&sb, &by, "");
    sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.22\n");
    sb.write_project_file(".go-version", "1.22.5\n");
    fs::create_dir_all(sb.project.join("internal/x")).unwrap();

    let r = run(sb.go(&["env", "-json"]));
    assert_eq!(r.ran(), Some("go go1.22.5"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert_has(
        &r.stderr,
        &[
            "gowarden: warning: go1.22.5 is below go1.22.8, recommended for tier \"payments\"",
            &policy_at(&sb, &policy, "recommended = "),
            &format!("upgrade by {by} (10 days left"),
            "after which go refuses to run it",
            "tier owner: payments-platform@corp.example",
        ],
    );
    assert!(
        r.stdout.starts_with("fake go go1.22.5\n"),
        "stdout is go's alone: {}",
        r.stdout
    );

    // Again, and from a subdirectory of the same project: silent.
    let r = run(sb.go(&["env", "-json"]));
    assert_eq!((r.status(), r.stderr.as_str()), (0, ""));
    let mut c = sb.go(&["build"]);
    c.current_dir(sb.project.join("internal/x"));
    let r = run(c);
    assert_eq!((r.ran(), r.stderr.as_str()), (Some("go go1.22.5"), ""));

    // The stamp is one small file for the project; a stamp from yesterday warns again.
    let files = stamps(&sb);
    assert_eq!(files.len(), 1, "{files:?}");
    let old = fs::read_to_string(&files[0]).unwrap();
    let (day_number, digest) = old.trim().split_once(' ').unwrap();
    let yesterday: i64 = day_number.parse::<i64>().unwrap() - 1;
    fs::write(&files[0], format!("{yesterday} {digest}\n")).unwrap();
    let r = run(sb.go(&["build"]));
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("warning:"), "{}", r.stderr);
    assert_eq!(run(sb.go(&["build"])).stderr, "");

    // A different warning (the project changed) is shown at once.
    sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.22.7\n");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
    assert_has(&r.stderr, &["`go 1.22.7` requires go1.22.7 or newer"]);
    assert_eq!(run(sb.go(&["build"])).stderr, "");

    // Another project gets its own stamp.
    let other = sb.root.join("other");
    fs::create_dir_all(&other).unwrap();
    fs::write(
        other.join("go.mod"),
        "module corp.example/pay/b\n\ngo 1.22\n",
    )
    .unwrap();
    fs::write(other.join(".go-version"), "1.22.5\n").unwrap();
    let mut c = sb.go(&["build"]);
    c.current_dir(&other);
    let r = run(c);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert_eq!(stamps(&sb).len(), 2);

    // Every one of these runs is audited as `warn`, warned on stderr that day or not.
    let log = fs::read_to_string(sb.home.join(".local/state/gowarden/audit.jsonl")).unwrap();
    let last = log.lines().last().unwrap();
    assert!(last.contains(r#""stringValue":"warn""#), "{last}");
    assert!(
        last.contains("gowarden.warnings") && last.contains("below go1.22.8"),
        "{last}"
    );
}

#[test]
fn an_unwritable_stamp_dir_silences_warnings_rather_than_flooding() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.5");
    write_matrix(&sb, &day(10), "");
    sb.write_project_file("go.mod", "module corp.example/pay/api\n");
    sb.write_project_file(".go-version", "1.22.5\n");
    // A file where the stamp dir should be: no stamp can be written (even as root).
    fs::create_dir_all(sb.home.join(".local/state/gowarden")).unwrap();
    fs::write(sb.home.join(".local/state/gowarden/warned"), "").unwrap();
    for _ in 0..2 {
        let r = run(sb.go(&["build"]));
        assert_eq!((r.ran(), r.stderr.as_str()), (Some("go go1.22.5"), ""));
    }
    // `gowarden which` still tells.
    let w = run(sb.gowarden(&["which"]));
    assert_has(&w.stdout, &["warning:   go1.22.5 is below go1.22.8"]);
}

#[test]
fn minimum_and_default_requests_pick_the_newest_toolchain_the_matrix_allows() {
    let sb = Sandbox::new();
    for v in ["go1.22.1", "go1.22.5", "go1.22.6"] {
        sb.fake_toolchain(v);
    }
    write_matrix(&sb, &day(400), "");
    // go 1.22 as a minimum: 1.22.6 is blocked, 1.22.1 below the tier's min.
    sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.22\n");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.ran(), Some("go go1.22.5"), "{}", r.stderr);
    sb.fake_toolchain("go1.22.9");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.ran(), Some("go go1.22.9"), "{}", r.stderr);
    assert_eq!(r.stderr, "");

    // The policy default, a family: the newest 1.22.x the matrix allows.
    let sb = Sandbox::new();
    for v in ["go1.22.5", "go1.22.6"] {
        sb.fake_toolchain(v);
    }
    write_matrix(&sb, &day(400), "default = \"1.22\"");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.ran(), Some("go go1.22.5"), "{}", r.stderr);

    // Nothing allowed installed: the matrix says why, and what to install.
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.1");
    write_matrix(&sb, &day(400), "");
    let gomod = sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.22\n");
    let r = run(sb.go(&["build"]));
    assert_refused(&r);
    assert_has(
        &r.stderr,
        &[
            "refused go1.22.1: it is below the minimum go1.22.5",
            &format!("chosen by the go line at {}:3", gomod.display()),
            "install go1.22.8 (`gowarden toolchain install 1.22.8`)",
        ],
    );
}

#[test]
fn repo_file_may_choose_a_stricter_tier_but_never_a_looser_one() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let policy = write_matrix(&sb, &day(30), "");
    sb.write_project_file("go.mod", "module corp.example/tools/lint\n");
    sb.write_project_file(".go-version", "1.22.3\n");
    assert_eq!(run(sb.go(&["build"])).ran(), Some("go go1.22.3"));

    // Opting into the stricter payments tier.
    let f = sb.write_project_file(".gowarden.toml", "# ours\ntier = \"payments\"\n");
    let r = run(sb.go(&["build"]));
    assert_refused(&r);
    assert_has(
        &r.stderr,
        &[
            "below the minimum go1.22.5 of tier \"payments\"",
            &format!("tier:  \"payments\", because {}:2 chooses it", f.display()),
        ],
    );

    // A payments module cannot opt out into the looser internal tier.
    sb.write_project_file("go.mod", "module corp.example/pay/api\n");
    sb.write_project_file(".gowarden.toml", "tier = \"internal\"\n");
    let r = run(sb.go(&["build"]));
    assert_refused(&r);
    assert_has(
        &r.stderr,
        &[
            &format!("{}:1 chooses tier \"internal\"", f.display()),
            "the policy puts this project in tier \"payments\"",
            &policy_at(&sb, &policy, "corp.example/pay/..."),
            "its min go1.21.0 is older than go1.22.5",
            "never a looser one",
            "tier owner: payments-platform@corp.example",
        ],
    );

    // Unknown tiers and keys are errors with the file's line (and column).
    sb.write_project_file(".gowarden.toml", "tier = \"gold\"\n");
    let r = run(sb.go(&["build"]));
    assert_refused(&r);
    assert_has(
        &r.stderr,
        &[
            &format!(
                "{}:1: tier \"gold\" is not a tier of the policy",
                f.display()
            ),
            "\"payments\", \"internal\"",
        ],
    );
    sb.write_project_file(".gowarden.toml", "tier = \"payments\"\nmin = \"1.20\"\n");
    let r = run(sb.go(&["build"]));
    assert_refused(&r);
    assert_has(&r.stderr, &[&format!("{}:2:1", f.display()), "min"]);

    // A .gowarden.toml above the project's root is not the project's.
    fs::remove_file(&f).unwrap();
    fs::write(sb.root.join(".gowarden.toml"), "tier = \"gold\"\n").unwrap();
    sb.write_project_file("go.mod", "module corp.example/tools/lint\n");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.ran(), Some("go go1.22.3"), "{}", r.stderr);
}

#[test]
fn version_from_toolchain_line_or_environment_names_the_right_fix() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.5");
    sb.fake_toolchain("go1.22.6");
    write_matrix(&sb, &day(30), "");
    let gomod = sb.write_project_file(
        "go.mod",
        "module corp.example/pay/api\n\ngo 1.22\n\ntoolchain go1.22.6\n",
    );
    let r = run(sb.go(&["build"]));
    assert_refused(&r);
    assert_has(
        &r.stderr,
        &[
            "refused go1.22.6: it is blocked",
            &format!("chosen by the toolchain line at {}:5", gomod.display()),
            &format!(
                "set the toolchain line at {}:5 to go1.22.8 or remove it",
                gomod.display()
            ),
        ],
    );
    sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.22\n");
    let mut c = sb.go(&["build"]);
    c.env("GOWARDEN_GO_VERSION", "1.22.6");
    let r = run(c);
    assert_refused(&r);
    assert_has(
        &r.stderr,
        &[
            "$GOWARDEN_GO_VERSION",
            "set $GOWARDEN_GO_VERSION to 1.22.8 or unset it",
        ],
    );
}

#[test]
fn inconsistent_go_mod_lines_warn_once_without_tiers_too() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let gv = sb.write_project_file(".go-version", "1.22.3\n");
    let gomod = sb.write_project_file(
        "go.mod",
        "module example.com/m\n\ngo 1.23.0\n\ntoolchain go1.22.7\n",
    );
    let r = run(sb.go(&["build"]));
    assert_eq!(r.ran(), Some("go go1.22.3"), "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stderr);
    assert_has(
        lines[0],
        &[
            &format!(
                "gowarden: warning: {}:3: `go 1.23.0` requires go1.23.0",
                gomod.display()
            ),
            "runs go1.22.3",
        ],
    );
    assert_has(
        lines[1],
        &[
            &format!(
                "{}:5: `toolchain go1.22.7` disagrees with {}:1",
                gomod.display(),
                gv.display()
            ),
            "which chooses go1.22.3",
        ],
    );
    assert_eq!(run(sb.go(&["build"])).stderr, "");

    // Agreeing lines: nothing to say.
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.7");
    sb.write_project_file(".go-version", "1.22\n");
    sb.write_project_file(
        "go.mod",
        "module example.com/m\n\ngo 1.22.2\n\ntoolchain go1.22.7\n",
    );
    let r = run(sb.go(&["build"]));
    assert_eq!((r.ran(), r.stderr.as_str()), (Some("go go1.22.7"), ""));
}

#[test]
fn which_shows_the_tier_and_pending_warnings() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.5");
    write_matrix(&sb, &day(10), "");
    sb.write_project_file("go.mod", "module corp.example/pay/api\n");
    sb.write_project_file(".go-version", "1.22.5\n");
    let r = run(sb.gowarden(&["which", "--json"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["tier"]["name"], "payments");
    assert_eq!(v["tier"]["owner"], "payments-platform@corp.example");
    assert_eq!(v["tier"]["reason"], "pattern");
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].as_str().unwrap().contains("below go1.22.8"));
    let text = run(sb.gowarden(&["which"]));
    assert_has(
        &text.stdout,
        &["tier:      payments (owner payments-platform@corp.example)"],
    );
    // `which` explains; it never consumes the shim's once-a-day warning.
    assert!(stamps(&sb).is_empty());
}

#[test]
fn an_invalid_matrix_refuses_every_go_command_with_file_line_and_column() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.5");
    let text = sb.isolated_policy(
        "[[tier]]\nname = \"a\"\nmodules = [\"corp.example/...\"]\nowner = \"x\"\n\n\
         [[tier]]\nname = \"b\"\nmodules = [\"corp.example/pay/...\"]\nupgrade_by = \"2025-02-30\"\n\
         owner = \"y\"\n",
    );
    sb.write_policy(&text);
    let r = run(sb.go(&["version"]));
    assert_not_run(&r, common::CONFIG_ERROR);
    let p = sb.user_policy_path();
    let line = line_containing(&text, "corp.example/pay/...");
    assert_has(
        &r.stderr,
        &[
            &format!("invalid policy {}:{line}:12:", p.display()),
            "lies within \"corp.example/...\" of tier \"a\"",
            &format!("(and 1 more: run `gowarden policy check {}`)", p.display()),
        ],
    );
}

#[test]
fn system_policy_matrix_applies_and_user_policy_cannot_lift_it() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.6");
    sb.write_system_policy(
        &sb.isolated_policy("[[blocked]]\nversion = \"1.22.6\"\nreason = \"advisory\"\n"),
    );
    // The sandbox's GOWARDEN_POLICY (no matrix) is ignored while the system policy exists.
    sb.write_project_file(".go-version", "1.22.6\n");
    let r = run(sb.go(&["build"]));
    assert_refused(&r);
    assert_has(
        &r.stderr,
        &[&format!("{}:", sb.system_policy.display()), "advisory"],
    );
}

fn audit_records(sb: &Sandbox) -> Vec<LoggedRecord> {
    fs::read(sb.home.join(".local/state/gowarden/audit.jsonl"))
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| LoggedRecord::parse(l).unwrap())
        .collect()
}

#[test]
fn audit_records_carry_the_tier_and_the_matrix_rule() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.22.8");
    write_matrix(&sb, &day(30), "");
    sb.write_project_file("go.mod", "module corp.example/pay/api\n");
    sb.write_project_file(".go-version", "1.22.3\n");
    assert_eq!(run(sb.go(&["build"])).status(), common::REFUSED);
    sb.write_project_file(".go-version", "1.22.8\n");
    assert_eq!(run(sb.go(&["build"])).status(), 0);
    let recs = audit_records(&sb);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].str_attr(attr::GOWARDEN_DECISION), Some("deny"));
    assert_eq!(recs[0].str_attr(attr::GOWARDEN_RULE), Some("matrix.min"));
    assert_eq!(recs[0].str_attr(attr::GOWARDEN_TIER), Some("payments"));
    assert_eq!(recs[1].str_attr(attr::GOWARDEN_DECISION), Some("allow"));
    assert_eq!(recs[1].str_attr(attr::GOWARDEN_TIER), Some("payments"));
}
