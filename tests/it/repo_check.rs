//! `gowarden check` over a whole repository: module hygiene of every module in it, the
//! `[check]` policy table, and (in `repo_lint.rs`) the configuration lint.

use crate::common;

use common::{CONFIG_ERROR, FakeRun, Sandbox, run};
use serde_json::Value;

fn check_json(sb: &Sandbox) -> (FakeRun, Value) {
    let r = run(sb.gowarden(&["check", "--format", "json"]));
    let v: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr));
    (r, v)
}

/// `kind:rule file:line` of every violation and warning, the file relative to the project.
fn rules_at(sb: &Sandbox, v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (key, kind) in [("violations", "violation"), ("warnings", "warning")] {
        for f in v[key].as_array().unwrap() {
            let file = f["file"].as_str().unwrap_or("");
            let file = file
                .strip_prefix(&format!("{}/", sb.project.display()))
                .unwrap_or(file);
            out.push(format!(
                "{kind}:{} {file}:{}",
                f["rule"].as_str().unwrap(),
                f["line"].as_u64().unwrap_or(0)
            ));
        }
    }
    out
}

fn message_of<'a>(v: &'a Value, rule: &str) -> &'a str {
    for key in ["violations", "warnings"] {
        for f in v[key].as_array().unwrap() {
            if f["rule"] == rule {
                return f["message"].as_str().unwrap();
            }
        }
    }
    panic!("no {rule} in {v:#}")
}

const GO_MOD: &str = "module corp.example/app\n\ngo 1.22.0\n\nrequire (\n\tgolang.org/x/text v0.14.0\n\tgolang.org/x/mod v0.17.0 // indirect\n)\n";
const GO_SUM: &str = "golang.org/x/mod v0.17.0 h1:zY54UmvipHiNd+pm+m0x9KhZ9hl1/7QNMyxXbc6ICqA=\ngolang.org/x/mod v0.17.0/go.mod h1:hTbmBsO62+eylJbnUtE2MGJUyE7QWk4xUqPFrRgJ+7c=\ngolang.org/x/text v0.14.0 h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=\ngolang.org/x/text v0.14.0/go.mod h1:18ZOQIKpY8NJVqYksKHtTdi31H5itFRjB5/qKTNYzSU=\n";

fn sandbox(policy_extra: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.8");
    sb.write_policy(&sb.isolated_policy(policy_extra));
    sb.write_project_file(".go-version", "1.22.8\n");
    sb
}

#[test]
fn a_tidy_repository_of_several_modules_is_clean() {
    let sb = sandbox("");
    sb.write_project_file("go.mod", GO_MOD);
    sb.write_project_file("go.sum", GO_SUM);
    sb.write_project_file("main.go", "package main\n");
    sb.write_project_file(
        "tools/lint/go.mod",
        "module corp.example/app/tools/lint\n\ngo 1.22\n",
    );
    sb.write_project_file("tools/lint/main.go", "package main\n");
    // Skipped as go skips them: a testdata module with broken go.sum, a hidden directory.
    sb.write_project_file("testdata/mod/go.mod", GO_MOD);
    sb.write_project_file(".cache/x/go.mod", GO_MOD);
    sb.write_project_file("_old/main.go", "package main\n");
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 0, "{v:#}");
    assert_eq!(rules_at(&sb, &v), Vec::<String>::new());
}

#[test]
fn go_sum_missing_or_lacking_a_requirement() {
    let sb = sandbox("");
    sb.write_project_file("go.mod", GO_MOD);
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 1);
    assert_eq!(rules_at(&sb, &v), ["violation:mod.go-sum-missing go.mod:6"]);
    assert!(message_of(&v, "mod.go-sum-missing").contains("requires 2 modules"));

    // One module's go.mod hash line is missing.
    let partial: String = GO_SUM
        .lines()
        .filter(|l| !l.starts_with("golang.org/x/mod v0.17.0/go.mod"))
        .map(|l| format!("{l}\n"))
        .collect();
    sb.write_project_file("go.sum", &partial);
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 1);
    assert_eq!(
        rules_at(&sb, &v),
        ["violation:mod.go-sum-incomplete go.mod:7"]
    );
    assert!(
        message_of(&v, "mod.go-sum-incomplete").contains("golang.org/x/mod v0.17.0/go.mod"),
        "{v:#}"
    );

    // A requirement replaced by a directory needs no checksum.
    sb.write_project_file(
        "go.mod",
        &format!("{GO_MOD}\nreplace golang.org/x/mod => ./third_party/mod\n"),
    );
    sb.write_project_file("third_party/mod/go.mod", "module golang.org/x/mod\n");
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 0, "{v:#}");
}

#[test]
fn replace_directives_against_the_policy() {
    let sb = sandbox("");
    sb.write_project_file(
        "go.mod",
        "module corp.example/app\n\ngo 1.22.0\n\nreplace (\n\tcorp.example/lib => ./lib\n\tcorp.example/other => ../other\n\tgithub.com/x/y v1.0.0 => github.com/me/y v1.0.1\n)\n",
    );
    sb.write_project_file("lib/go.mod", "module corp.example/lib\n");
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 1);
    assert_eq!(
        rules_at(&sb, &v),
        [
            "violation:mod.replace go.mod:7",
            "violation:mod.replace go.mod:8"
        ]
    );
    assert!(message_of(&v, "mod.replace").contains("outside the repository"));

    // The forks the policy names are allowed; `none` refuses even the directory inside.
    sb.write_policy(&sb.isolated_policy(
        "[check]\nreplace = \"none\"\nreplace_modules = [\"github.com/me/...\"]\n",
    ));
    let (_, v) = check_json(&sb);
    assert_eq!(
        rules_at(&sb, &v),
        [
            "violation:mod.replace go.mod:6",
            "violation:mod.replace go.mod:7"
        ]
    );
    sb.write_policy(&sb.isolated_policy("[check]\nreplace = \"any\"\n"));
    let (r, _) = check_json(&sb);
    assert_eq!(r.status(), 0);
}

#[test]
fn vendor_modules_txt_must_match_go_mod() {
    let sb = sandbox("");
    sb.write_project_file("go.mod", GO_MOD);
    sb.write_project_file("go.sum", GO_SUM);
    let consistent = "# golang.org/x/mod v0.17.0\n## explicit; go 1.18\ngolang.org/x/mod/semver\n# golang.org/x/text v0.14.0\n## explicit; go 1.18\ngolang.org/x/text/language\n";
    sb.write_project_file("vendor/modules.txt", consistent);
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 0, "{v:#}");

    sb.write_project_file(
        "vendor/modules.txt",
        "# golang.org/x/mod v0.16.0\n## explicit; go 1.18\ngolang.org/x/mod/semver\n# golang.org/x/text v0.14.0\ngolang.org/x/text/language\n# example.com/gone v1.0.0\n## explicit\n",
    );
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 1);
    assert_eq!(
        rules_at(&sb, &v),
        [
            "violation:mod.vendor go.mod:6",
            "violation:mod.vendor vendor/modules.txt:1",
            "violation:mod.vendor vendor/modules.txt:6",
        ]
    );
    assert!(message_of(&v, "mod.vendor").contains("not marked as explicit"));
}

#[test]
fn toolchain_lines_the_policy_forbids() {
    let sb = sandbox("[[blocked]]\nversion = \"1.22.3\"\nreason = \"CVE\"\n");
    sb.write_project_file("go.mod", "module corp.example/app\n\ngo 1.22.0\n");
    sb.write_project_file(
        "svc/go.mod",
        "module corp.example/app/svc\n\ngo 1.22.0\n\ntoolchain go1.22.3\n",
    );
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 1);
    assert_eq!(
        rules_at(&sb, &v),
        ["violation:mod.toolchain-line svc/go.mod:5"]
    );

    sb.write_project_file(
        "svc/go.mod",
        "module corp.example/app/svc\n\ngo 1.22.0\n\ntoolchain go1.22.8\n",
    );
    let (r, _) = check_json(&sb);
    assert_eq!(r.status(), 0);
    sb.write_policy(&sb.isolated_policy("[check]\ntoolchain_line = \"forbid\"\n"));
    let (_, v) = check_json(&sb);
    assert_eq!(
        rules_at(&sb, &v),
        ["violation:mod.toolchain-line svc/go.mod:5"]
    );
    assert!(message_of(&v, "mod.toolchain-line").contains("go mod edit -toolchain=none"));
}

#[test]
fn go_code_outside_any_module_is_gopath_mode() {
    let sb = sandbox("");
    sb.write_project_file("src/corp.example/app/main.go", "package main\n");
    sb.write_project_file("src/corp.example/app/util.go", "package main\n");
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 1);
    assert_eq!(
        rules_at(&sb, &v),
        ["violation:mod.gopath src/corp.example/app/main.go:1"]
    );
}

#[test]
fn severities_come_from_the_policy() {
    let sb = sandbox(
        "[check]\nseverity = { \"mod.go-sum-missing\" = \"warning\", \"mod.replace\" = \"off\" }\n",
    );
    sb.write_project_file(
        "go.mod",
        &format!("{GO_MOD}replace golang.org/x/text => ../text\n"),
    );
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 0, "{v:#}");
    assert_eq!(rules_at(&sb, &v), ["warning:mod.go-sum-missing go.mod:6"]);

    // A rule id the catalogue does not know, or a level that is not one, is a policy error.
    sb.write_policy(&sb.isolated_policy("[check]\nseverity = { \"mod.tidyy\" = \"off\" }\n"));
    let r = run(sb.gowarden(&["check"]));
    assert_eq!(r.status(), 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("policy.toml:6")
            && r.stderr
                .contains("names \"mod.tidyy\", which is not a check rule"),
        "{}",
        r.stderr
    );
    sb.write_policy(&sb.isolated_policy("[check]\nseverity = { \"mod.tidy\" = \"loud\" }\n"));
    let r = run(sb.gowarden(&["check"]));
    assert_eq!(r.status(), 2);
    assert!(r.stderr.contains("policy.toml:6:"), "{}", r.stderr);
    // The shim refuses to run under it, as under any invalid policy.
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), CONFIG_ERROR, "{}", r.stderr);
}

#[test]
fn linked_directories_are_not_walked_and_linked_files_are_read() {
    let sb = sandbox("");
    sb.write_project_file("go.mod", "module corp.example/app\n\ngo 1.22.0\n");
    // A link loop and a dangling link must not stop or break the walk.
    std::os::unix::fs::symlink(&sb.project, sb.project.join("loop")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", sb.project.join("Makefile")).unwrap();
    let real = sb.root.join("shared.sh");
    std::fs::write(&real, "go install example.com/x@latest\n").unwrap();
    std::fs::create_dir_all(sb.project.join("scripts")).unwrap();
    std::os::unix::fs::symlink(&real, sb.project.join("scripts/shared.sh")).unwrap();
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 1, "{v:#}");
    assert_eq!(
        rules_at(&sb, &v),
        ["violation:config.unpinned-install scripts/shared.sh:1"]
    );
}

#[test]
fn governed_tools_the_build_files_run_must_be_pinned() {
    // staticcheck is pinned by the root module's tool directive, golangci-lint by nothing;
    // the tools/lint module pins golangci-lint for the script inside it; make is no tool of
    // the policy's. A [tools] pin covers gopls everywhere.
    let sb = sandbox("[tools]\ngopls = \"golang.org/x/tools/gopls@v0.23.0\"\n");
    // tool directives need go 1.24.
    sb.fake_toolchain("go1.24.5");
    sb.write_project_file(".go-version", "1.24.5\n");
    sb.write_project_file(
        "go.mod",
        "module corp.example/app\n\ngo 1.24\n\ntool honnef.co/go/tools/cmd/staticcheck\n\n\
         require honnef.co/go/tools v0.8.2\n",
    );
    sb.write_project_file("go.sum", "honnef.co/go/tools v0.8.2/go.mod h1:x=\n");
    sb.write_project_file(
        "Makefile",
        "lint:\n\tstaticcheck ./...\n\tgolangci-lint run --timeout 5m\n\tgopls check main.go\n\
         \t$(MAKE) -C docs\n",
    );
    sb.write_project_file(
        "tools/lint/go.mod",
        "module corp.example/app/tools/lint\n\ngo 1.24\n\n\
         tool github.com/golangci/golangci-lint/v2/cmd/golangci-lint\n\n\
         require github.com/golangci/golangci-lint/v2 v2.15.0\n",
    );
    sb.write_project_file(
        "tools/lint/go.sum",
        "github.com/golangci/golangci-lint/v2 v2.15.0/go.mod h1:x=\n",
    );
    sb.write_project_file(
        "tools/lint/run.sh",
        "#!/bin/sh\nexec golangci-lint run ./...\n",
    );
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 1, "{v:#}");
    assert_eq!(
        rules_at(&sb, &v),
        vec!["violation:tool.unpinned Makefile:3".to_string()]
    );
    assert_eq!(
        message_of(&v, "tool.unpinned"),
        format!(
            "`golangci-lint run --timeout 5m` ({}/Makefile:3:2) runs golangci-lint, a tool the \
             policy governs, and no version of it is pinned for {} (no go.mod `tool` \
             directive, no tools.go import, no [tools] pin in the policy): each machine runs \
             whatever golangci-lint it has installed; fix: pin it in the module (`go get -tool \
             github.com/golangci/golangci-lint/v2/cmd/golangci-lint@VERSION`, go1.24) and run \
             it as `go tool golangci-lint` or through the golangci-lint shim",
            sb.project.display(),
            sb.project.display()
        )
    );

    // The rule can be turned off like any other.
    sb.write_policy(&sb.isolated_policy(
        "[tools]\ngopls = \"golang.org/x/tools/gopls@v0.23.0\"\n\n[check]\nseverity = { \"tool.unpinned\" = \"off\" }\n",
    ));
    let (r, v) = check_json(&sb);
    assert_eq!(r.status(), 0, "{v:#}");
}
