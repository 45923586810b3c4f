//! Tiers come from the module go builds: go.mod read with go's grammar (block form, quotes,
//! comments), and with a workspace the strictest tier of its main modules.

use crate::common;

use common::{REFUSED, Sandbox, run};

const MATRIX: &str = r#"
[matrix]
default_tier = "internal"

[[tier]]
name = "risk"
modules = ["corp.example/risk/..."]
min = "1.22.5"
owner = "risk@corp.example"

[[tier]]
name = "internal"
modules = ["corp.example/tools/..."]
min = "1.21.0"
owner = "dev-platform@corp.example"
"#;

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_policy(&sb.isolated_policy(MATRIX));
    sb
}

#[test]
fn module_block_form_quotes_and_comments_place_the_project_in_its_tier() {
    for gomod in [
        "module (\n\tcorp.example/risk/x\n)\n\ngo 1.22\n",
        "// the risk model\nmodule \"corp.example/risk/x\" // quoted\n\ngo 1.22\n",
        "module (\n)\nmodule (\n\t\"corp.example/risk/x\" // c\n)\ngo 1.22\n",
    ] {
        let sb = sandbox();
        sb.write_project_file("go.mod", gomod);
        sb.write_project_file(".go-version", "1.22.3\n");
        let r = run(sb.go(&["build", "./..."]));
        assert_eq!(r.status(), REFUSED, "{gomod:?}: {}", r.stderr);
        assert!(r.ran().is_none());
        assert!(
            r.stderr
                .contains("below the minimum go1.22.5 of tier \"risk\""),
            "{gomod:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("module corp.example/risk/x"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn the_plain_form_still_gets_the_looser_tier_so_the_refusal_above_is_the_tier() {
    let sb = sandbox();
    sb.write_project_file("go.mod", "module corp.example/tools/x\n\ngo 1.22\n");
    sb.write_project_file(".go-version", "1.22.3\n");
    let r = run(sb.go(&["build", "./..."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.ran(), Some("go go1.22.3"));
}

#[test]
fn a_workspace_in_a_parent_dir_builds_under_the_strictest_tier_of_its_modules() {
    let sb = sandbox();
    sb.write_project_file("go.work", "go 1.22\n\nuse (\n\t./tools\n\t./risk\n)\n");
    sb.write_project_file("tools/go.mod", "module corp.example/tools/x\n\ngo 1.22\n");
    sb.write_project_file("risk/go.mod", "module corp.example/risk/y\n\ngo 1.22\n");
    sb.write_project_file(".go-version", "1.22.3\n");
    let mut c = sb.go(&["build", "./..."]);
    c.current_dir(sb.project.join("tools"));
    let r = run(c);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert!(r.ran().is_none());
    assert!(r.stderr.contains("tier \"risk\""), "{}", r.stderr);
    // Without the workspace the tools module alone is built: its own tier.
    let mut c = sb.go(&["build", "./..."]);
    c.current_dir(sb.project.join("tools")).env("GOWORK", "off");
    let r = run(c);
    assert_eq!(r.status(), 0, "{}", r.stderr);
}
