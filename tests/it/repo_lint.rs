//! `gowarden check`'s configuration lint on a repository written as people write one
//! (tests/testdata/repo-lint): a Makefile with `:=`/`?=` and recipes, a multi-stage
//! Dockerfile with a multi-line `RUN` and a here-document, a shell script and `.envrc` with
//! quoted `export`s, a GitHub workflow with anchors and a matrix, a `.gitlab-ci.yml` with a
//! merge key, a devcontainer.json with comments and trailing commas.

use crate::common;

use std::path::Path;

use common::{Sandbox, run};
use serde_json::Value;

const POLICY: &str = r#"
[env]
enforce = { GOPROXY = "https://proxy.corp.example", GOFLAGS = "-mod=readonly" }
forbid = ["GOINSECURE"]

[roles]
default = "developer"

[[binding]]
role = "ci"
env = { CI = "true" }

[role.developer]

[[role.developer.deny]]
id = "dev-no-checksum-bypass"
effects = ["checksum-bypass"]
message = "only corp.example/* is exempt from the checksum database"

[role.ci]

[[role.ci.deny]]
id = "ci-no-bypass"
effects = ["checksum-bypass", "proxy-bypass"]
"#;

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn repo() -> Sandbox {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.8");
    sb.write_policy(&sb.isolated_policy(POLICY));
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/repo-lint");
    copy_tree(&data, &sb.project);
    sb
}

fn findings(sb: &Sandbox) -> (i32, Vec<String>, Value) {
    let r = run(sb.gowarden(&["check", "--format", "json"]));
    let v: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr));
    let mut out = Vec::new();
    for key in ["violations", "warnings"] {
        for f in v[key].as_array().unwrap() {
            let file = f["file"].as_str().unwrap_or("");
            let file = file
                .strip_prefix(&format!("{}/", sb.project.display()))
                .unwrap_or(file);
            out.push(format!(
                "{} {file}:{}:{}",
                f["rule"].as_str().unwrap(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0)
            ));
        }
    }
    (r.status(), out, v)
}

fn message<'a>(v: &'a Value, file: &str, line: u64) -> &'a str {
    for key in ["violations", "warnings"] {
        for f in v[key].as_array().unwrap() {
            if f["file"].as_str().unwrap_or("").ends_with(file) && f["line"] == line {
                return f["message"].as_str().unwrap();
            }
        }
    }
    panic!("no finding at {file}:{line} in {v:#}")
}

#[test]
fn every_finding_of_a_real_repository() {
    let sb = repo();
    let (status, got, v) = findings(&sb);
    assert_eq!(status, 1);
    assert_eq!(
        got,
        [
            // JSON with comments and trailing commas; the Go feature; a lifecycle command.
            "config.go-setting .devcontainer/devcontainer.json:7:21",
            "config.go-version .devcontainer/devcontainer.json:5:58",
            "config.unpinned-install .devcontainer/devcontainer.json:8:25",
            // Quoted exports.
            "mod.gopath .envrc:1:8",
            "config.go-setting .envrc:2:8",
            // Workflow env; the anchored env both jobs alias, once; the matrix's moving
            // entry (its 1.22.8 agrees); a setup-go line that disagrees; a run block's line.
            "config.go-setting .github/workflows/ci.yml:4:3",
            "config.go-setting .github/workflows/ci.yml:6:3",
            "config.go-version .github/workflows/ci.yml:13:25",
            "config.go-version .github/workflows/ci.yml:29:23",
            "config.unpinned-install .github/workflows/ci.yml:22:11",
            // Merge key: the template's image once; a folded script line.
            "config.go-setting .gitlab-ci.yml:2:3",
            "config.go-version .gitlab-ci.yml:4:10",
            "config.unpinned-install .gitlab-ci.yml:12:7",
            // Continued ENV; FROM with a global ARG; the last line of a RUN continued over a
            // comment; a here-document; `FROM build` is a stage, distroless no Go image.
            "config.go-setting Dockerfile:4:5",
            "config.go-version Dockerfile:3:6",
            "config.unpinned-install Dockerfile:11:5",
            "config.unpinned-install Dockerfile:14:1",
            // `export X :=`, a recipe's prefix assignment, a continued recipe (its pinned
            // staticcheck passes).
            "config.go-setting Makefile:3:8",
            "config.go-setting Makefile:10:2",
            "config.unpinned-install Makefile:13:2",
            // A forbidden key among exports; GOTOOLCHAIN=go1.21.5 both names another version
            // and differs from the [toolchains] gotoolchain the shim enforces; the
            // here-document's GOSUMDB=off is text, not a setting.
            "config.go-setting scripts/ci.sh:3:32",
            "config.go-version scripts/ci.sh:4:1",
            "config.go-setting scripts/ci.sh:4:1",
        ]
    );
    // Each names the effect, the policy rule and a fix the policy allows.
    let m = message(&v, ".envrc", 2);
    assert!(m.contains("effect checksum-bypass"), "{m}");
    assert!(
        m.contains("rule dev-no-checksum-bypass (") && m.contains("policy.toml:20)"),
        "{m}"
    );
    assert!(m.ends_with("fix: remove the GONOSUMDB setting"), "{m}");
    let m = message(&v, ".github/workflows/ci.yml", 6);
    assert!(
        m.contains("effect proxy-bypass") && m.contains("role ci ("),
        "{m}"
    );
    assert_eq!(m.matches("rule ci-no-bypass").count(), 1, "{m}");
    assert!(
        m.contains("the policy sets GOPROXY=https://proxy.corp.example ("),
        "{m}"
    );
    let m = message(&v, "Makefile", 3);
    assert!(m.contains("or write GOFLAGS=-mod=readonly"), "{m}");
    let m = message(&v, "Dockerfile", 3);
    assert!(
        m.contains("asks for the newest go1.21, but the repository declares go1.22.8")
            && m.ends_with("fix: use the image golang:1.22.8-alpine"),
        "{m}"
    );
    let m = message(&v, "Makefile", 13);
    assert!(
        m.starts_with("`go install golang.org/x/tools/cmd/goimports@latest`"),
        "{m}"
    );
}

#[test]
fn a_policy_without_env_rules_or_roles_judges_only_versions_and_installs() {
    let sb = repo();
    sb.write_policy(&sb.isolated_policy(""));
    let (_, got, _) = findings(&sb);
    let settings: Vec<&String> = got
        .iter()
        .filter(|g| g.starts_with("config.go-setting"))
        .collect();
    assert!(settings.is_empty(), "{settings:?}");
    assert!(got.contains(&"config.unpinned-install Makefile:13:2".to_string()));
    // And rules can be turned off.
    sb.write_policy(&sb.isolated_policy(
        "[check]\nseverity = { \"config.unpinned-install\" = \"off\", \"config.go-version\" = \"warning\" }\n",
    ));
    let (status, got, v) = findings(&sb);
    assert!(
        !got.iter().any(|g| g.starts_with("config.unpinned-install")),
        "{got:?}"
    );
    assert_eq!(v["violations"].as_array().unwrap().len(), 1, "{got:?}");
    assert_eq!(status, 1); // GO111MODULE=off is still mod.gopath, an error
}

#[test]
fn a_file_that_does_not_parse_is_a_finding() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.8");
    sb.write_project_file(".go-version", "1.22.8\n");
    sb.write_project_file(".github/workflows/bad.yml", "jobs:\n  x: [\n");
    sb.write_project_file(".devcontainer.json", "{ \"image\": }\n");
    let (status, got, v) = findings(&sb);
    assert_eq!(status, 1);
    assert_eq!(
        got,
        [
            "config.unreadable .devcontainer.json:1:12",
            "config.unreadable .github/workflows/bad.yml:3:1",
        ]
    );
    assert!(message(&v, "bad.yml", 3).contains("not valid YAML"));
}

#[test]
fn a_fix_is_one_the_role_may_run() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.8");
    sb.write_project_file(".go-version", "1.22.8\n");
    sb.write_project_file("scripts/tools.sh", "go install example.com/lint@latest\n");
    let fix_of = |sb: &Sandbox| {
        let (_, _, v) = findings(sb);
        let m = message(&v, "tools.sh", 1).to_string();
        m[m.find("fix: ").unwrap()..].to_string()
    };
    let roles = |allow: &str| {
        format!("[roles]\ndefault = \"dev\"\n\n[role.dev]\nallow_commands = [{allow}]\n")
    };
    sb.write_policy(&sb.isolated_policy(&roles("\"build\", \"install\", \"get\"")));
    assert!(fix_of(&sb).starts_with("fix: pin a version (`go install example.com/lint@vX.Y.Z`)"));
    sb.write_policy(&sb.isolated_policy(&roles("\"build\", \"get\"")));
    assert_eq!(
        fix_of(&sb),
        "fix: track the tool in go.mod (`go get -tool example.com/lint`, go1.24) and run it with `go tool`"
    );
    sb.write_policy(&sb.isolated_policy(&roles("\"build\"")));
    assert!(fix_of(&sb).starts_with("fix: use a tool installed at a reviewed version"));
}
