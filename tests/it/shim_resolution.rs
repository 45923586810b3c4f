//! The shim's version resolution, toolchain discovery and exec, driven through `go`/`gofmt`
//! links to the built binary, with fake GOROOTs.

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Sandbox, go_arch, run};

#[test]
fn go_version_file_picks_exact_toolchain_and_passes_args_through() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let root = sb.fake_toolchain("go1.23.1");
    sb.write_project_file(".go-version", "1.23.1\n");
    let r = run(sb.go(&["build", "-o", "out bin", "./..."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.ran(), Some("go go1.23.1"));
    assert_eq!(r.args(), ["build", "-o", "out bin", "./..."]);
    assert_overlay_of(r.env("GOROOT"), &root);
    // GOTOOLCHAIN=local reaches go through the overlay's go.env, not the environment the
    // programs go starts inherit.
    assert_eq!(r.env("GOTOOLCHAIN"), None);
    let goenv =
        std::fs::read_to_string(Path::new(r.env("GOROOT").unwrap()).join("go.env")).unwrap();
    assert!(goenv.ends_with("GOTOOLCHAIN=local\n"), "{goenv}");
    assert_eq!(r.stderr, "", "the shim must print nothing when all is well");
}

#[test]
fn family_version_picks_newest_patch_and_prefix_comments_whitespace_are_accepted() {
    let sb = Sandbox::new();
    for v in ["go1.22.3", "go1.22.12", "go1.22.9", "go1.23.0", "go1.22rc1"] {
        sb.fake_toolchain(v);
    }
    sb.write_project_file(".go-version", "# pinned by platform team\n\n   go1.22  \n");
    let r = run(sb.go(&["version"]));
    assert_eq!(r.ran(), Some("go go1.22.12"), "{}", r.stderr);
}

#[test]
fn malformed_go_version_names_file_line_and_forms() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let f = sb.write_project_file(".go-version", "# comment\n1.22.x\n");
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert_eq!(r.ran(), None, "go must not run");
    assert!(
        r.stderr.contains(&format!("{}:2", f.display())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("1.22.10") && r.stderr.contains("go1.22.10"));
    // The refusal is audited under the rule `gowarden check` reports for the same file.
    let log = fs::read_to_string(sb.home.join(".local/state/gowarden/audit.jsonl")).unwrap();
    let rec = gowarden::audit::LoggedRecord::parse(log.trim_end().as_bytes()).unwrap();
    assert_eq!(
        rec.str_attr(gowarden::audit::attr::GOWARDEN_RULE),
        Some("version.invalid")
    );
    let check = run(sb.gowarden(&["check", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(
        v["violations"][0]["rule"], "version.invalid",
        "{}",
        check.stdout
    );
}

#[test]
fn two_versions_in_go_version_are_an_error() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let f = sb.write_project_file(".go-version", "1.22.3\n1.23.1\n");
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert!(
        r.stderr.contains(&format!("{}:2", f.display())),
        "{}",
        r.stderr
    );
}

#[test]
fn tool_versions_golang_line_is_used_and_other_tools_ignored() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.21.13");
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".tool-versions", "nodejs 20.1.0\ngolang 1.21.13 # lts\n");
    let r = run(sb.go(&["env"]));
    assert_eq!(r.ran(), Some("go go1.21.13"), "{}", r.stderr);
}

#[test]
fn go_mod_toolchain_line_then_go_line_minimum() {
    let sb = Sandbox::new();
    for v in ["go1.21.5", "go1.22.3", "go1.22.7", "go1.24rc1"] {
        sb.fake_toolchain(v);
    }
    sb.write_project_file(
        "go.mod",
        "module example.com/m\n\ngo 1.22.0\n\ntoolchain go1.22.3 // pinned\n",
    );
    assert_eq!(run(sb.go(&["version"])).ran(), Some("go go1.22.3"));
    // Without a toolchain line the go line is a minimum: the newest stable release wins.
    sb.write_project_file("go.mod", "module example.com/m\n\ngo 1.22\n");
    assert_eq!(run(sb.go(&["version"])).ran(), Some("go go1.22.7"));
    sb.write_project_file("go.mod", "module example.com/m\n\ngo 1.21\n");
    assert_eq!(run(sb.go(&["version"])).ran(), Some("go go1.22.7"));
}

#[test]
fn go_work_wins_over_go_mod_and_gowork_off_disables_it() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.21.5");
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file("go.work", "go 1.22\n\ntoolchain go1.22.3\n\nuse ./mod\n");
    sb.write_project_file("mod/go.mod", "module example.com/m\n\ntoolchain go1.21.5\n");
    let mut c = sb.go(&["version"]);
    c.current_dir(sb.project.join("mod"));
    assert_eq!(run(c).ran(), Some("go go1.22.3"));
    let mut c = sb.go(&["version"]);
    c.current_dir(sb.project.join("mod")).env("GOWORK", "off");
    assert_eq!(run(c).ran(), Some("go go1.21.5"));
}

/// `go version` in `rel` under the project: which fake toolchain ran (its warnings aside),
/// or the whole stderr where none did.
fn ran_in(sb: &Sandbox, rel: &str) -> Result<String, String> {
    let mut c = sb.go(&["version"]);
    c.current_dir(sb.project.join(rel));
    let r = run(c);
    r.ran().map(str::to_string).ok_or(r.stderr.clone())
}

#[test]
fn the_nearest_pin_wins_across_formats() {
    let sb = Sandbox::new();
    for v in ["go1.21.5", "go1.22.3", "go1.23.1", "go1.24.2"] {
        sb.fake_toolchain(v);
    }
    sb.write_project_file(".go-version", "1.21.5\n");
    // A toolchain line in a subdirectory's go.mod beats the parent's .go-version ...
    sb.write_project_file(
        "svc/go.mod",
        "module example.com/svc\n\ntoolchain go1.22.3\n",
    );
    // ... and a nearer .mise.toml beats both; a mise.toml without go pins nothing.
    sb.write_project_file("svc/api/.mise.toml", "[tools]\ngo = \"1.23.1\"\n");
    sb.write_project_file("svc/api/cmd/mise.toml", "[tools]\nnode = \"22\"\n");
    // Within one directory: .go-version, then mise's files, then .tool-versions, then the
    // toolchain line.
    sb.write_project_file("same/.tool-versions", "golang 1.21.5\n");
    sb.write_project_file("same/mise.toml", "[tools]\ngo = \"1.24.2\"\n");
    sb.write_project_file(
        "same/go.mod",
        "module example.com/same\n\ntoolchain go1.22.3\n",
    );
    sb.write_project_file("same/gv/.go-version", "1.23.1\n");
    sb.write_project_file("same/gv/.tool-versions", "golang 1.21.5\n");
    sb.write_project_file("same/tv/.tool-versions", "golang 1.21.5\n");
    sb.write_project_file(
        "same/tv/go.mod",
        "module example.com/tv\n\ntoolchain go1.24.2\n",
    );
    let got: Vec<_> = [
        "",
        "svc",
        "svc/api",
        "svc/api/cmd",
        "same",
        "same/gv",
        "same/tv",
    ]
    .into_iter()
    .map(|rel| (rel, ran_in(&sb, rel)))
    .collect();
    let want = |v: &str| Ok(format!("go {v}"));
    assert_eq!(
        got,
        [
            ("", want("go1.21.5")),
            ("svc", want("go1.22.3")),
            ("svc/api", want("go1.23.1")),
            ("svc/api/cmd", want("go1.23.1")),
            ("same", want("go1.24.2")),
            ("same/gv", want("go1.23.1")),
            ("same/tv", want("go1.21.5")),
        ]
    );
}

#[test]
fn a_go_line_stays_a_minimum_checked_against_the_nearest_pin() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.24.2");
    sb.write_project_file("go.mod", "module example.com/m\n\ngo 1.24\n");
    sb.write_project_file("mise.toml", "[tools]\ngo = \"1.22\"\n");
    let go_mod = sb.project.join("go.mod");
    let mise = sb.project.join("mise.toml");
    let r = run(sb.go(&["version"]));
    assert_eq!(r.ran(), Some("go go1.22.3"));
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: warning: {}:3: `go 1.24` requires go1.24 or newer, but this project runs \
             go1.22.3 (chosen by {}:2), which will refuse to build it; lower the go line or \
             choose go1.24 or newer\n",
            go_mod.display(),
            mise.display()
        )
    );
}

#[test]
fn mise_config_files_in_mises_own_order_and_every_form() {
    let sb = Sandbox::new();
    for v in [
        "go1.21.5", "go1.22.3", "go1.22.9", "go1.23.1", "go1.24.2", "go1.25.5",
    ] {
        sb.fake_toolchain(v);
    }
    let cases: &[(&str, &str, &str)] = &[
        ("a", "mise.toml", "[tools]\ngo = \"1.22\"\n"),
        (
            "b",
            ".config/mise.toml",
            "[tools]\ngo = [\"1.23.1\", \"1.22.3\"]\n",
        ),
        (
            "c",
            "mise/config.toml",
            "[tools]\ngo = { version = \"1.24.2\" }\n",
        ),
        (
            "d",
            ".mise/config.toml",
            "[tools]\n\"core:go\" = [{ version = \"1.25.5\" }]\n",
        ),
        (
            "e",
            ".config/mise/config.toml",
            "[tools.go]\nversion = \"1.21.5\"\n",
        ),
    ];
    for (dir, file, text) in cases {
        sb.write_project_file(&format!("{dir}/{file}"), text);
    }
    // mise.local.toml overrides mise.toml, which overrides .config/mise.toml.
    sb.write_project_file("f/.config/mise.toml", "[tools]\ngo = \"1.21.5\"\n");
    sb.write_project_file("f/mise.toml", "[tools]\ngo = \"1.23.1\"\n");
    sb.write_project_file("g/mise.toml", "[tools]\ngo = \"1.23.1\"\n");
    sb.write_project_file("g/mise.local.toml", "[tools]\ngo = \"1.24.2\"\n");
    let got: Vec<_> = ["a", "b", "c", "d", "e", "f", "g"]
        .into_iter()
        .map(|rel| ran_in(&sb, rel))
        .collect();
    let want: Vec<Result<String, String>> = [
        "go1.22.9", "go1.23.1", "go1.24.2", "go1.25.5", "go1.21.5", "go1.23.1", "go1.24.2",
    ]
    .iter()
    .map(|v| Ok(format!("go {v}")))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn a_broken_mise_file_names_file_line_and_fix() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let forms = "write e.g. `go = \"1.24\"`, `go = \"1.24.3\"`, `go = [\"1.24.3\"]` or `go = { \
                 version = \"1.24.3\" }` (gowarden does not resolve `latest`, `system`, \
                 `prefix:`, `ref:` or `path:` versions)";
    let f = sb.write_project_file(
        "a/.mise.toml",
        "[env]\nX = \"1\"\n[tools]\ngo = \"latest\"\n",
    );
    assert_eq!(
        ran_in(&sb, "a"),
        Err(format!(
            "gowarden: {}:4: [tools] go = \"latest\" is not a Go version gowarden can resolve; \
             {forms}\n",
            f.display()
        ))
    );
    let f = sb.write_project_file("b/mise.toml", "[tools]\ngo = \"1.22.3\"\nnode = \n");
    let err = ran_in(&sb, "b").unwrap_err();
    let head = format!(
        "gowarden: {}:3: not a mise config file mise could load: ",
        f.display()
    );
    assert!(
        err.starts_with(&head) && err.ends_with("; fix the TOML\n"),
        "{err}"
    );
    // Failing closed: a broken mise.local.toml is no reason to fall back to mise.toml.
    sb.write_project_file("c/mise.toml", "[tools]\ngo = \"1.22.3\"\n");
    let f = sb.write_project_file("c/mise.local.toml", "[tools]\ngo = []\n");
    assert_eq!(
        ran_in(&sb, "c"),
        Err(format!(
            "gowarden: {}:2: [tools] go is an empty list; {forms}\n",
            f.display()
        ))
    );
}

#[test]
fn the_walk_stops_at_the_first_directory_with_a_pin() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    // Above the pin, a file that would be an error if it were read.
    sb.write_project_file(".go-version", "not a version\n");
    sb.write_project_file("mise.toml", "[tools\n");
    sb.write_project_file("svc/.tool-versions", "golang 1.22.3\n");
    assert_eq!(ran_in(&sb, "svc"), Ok("go go1.22.3".into()));
    // A nearer toolchain line overrides what is broken above it, too.
    sb.write_project_file("mod/go.mod", "module example.com/m\n\ntoolchain go1.22.3\n");
    assert_eq!(ran_in(&sb, "mod"), Ok("go go1.22.3".into()));
}

#[test]
fn the_policy_can_leave_mise_out() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.23.1");
    sb.write_policy(&sb.isolated_policy("[resolve]\nfiles = [\".go-version\", \"go.mod\"]"));
    sb.write_project_file(".go-version", "1.22.3\n");
    sb.write_project_file("svc/mise.toml", "[tools]\ngo = \"1.23.1\"\n");
    assert_eq!(ran_in(&sb, "svc"), Ok("go go1.22.3".into()));
}

#[test]
fn dash_c_is_honoured_only_as_the_first_flag() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.21.5");
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.21.5\n");
    let sub = sb.root.join("other");
    fs::create_dir_all(&sub).unwrap();
    fs::write(sub.join(".go-version"), "1.22.3\n").unwrap();
    let sub_s = sub.to_str().unwrap();
    for args in [
        vec!["build", "-C", sub_s, "./..."],
        vec!["build", "--C", sub_s],
        vec!["build", &format!("-C={sub_s}")],
        vec!["mod", "edit", "-C", sub_s, "-fmt"],
    ] {
        let r = run(sb.go(&args));
        assert_eq!(r.ran(), Some("go go1.22.3"), "args {args:?}: {}", r.stderr);
        assert_eq!(r.args(), args, "-C must reach go unchanged");
    }
    // Not first: go rejects it itself; the shim resolves from the working directory.
    let r = run(sb.go(&["build", "-x", "-C", sub_s]));
    assert_eq!(r.ran(), Some("go go1.21.5"));
}

#[test]
fn gofmt_runs_the_chosen_toolchains_gofmt() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let mut c = sb.command(sb.shims.join("gofmt"));
    c.args(["-l", "."]);
    let r = run(c);
    assert_eq!(r.ran(), Some("gofmt go1.22.3"), "{}", r.stderr);
    assert_eq!(r.args(), ["-l", "."]);
}

#[test]
fn missing_toolchain_names_request_source_found_and_fix() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.21.5");
    let f = sb.write_project_file(".go-version", "1.22.10\n");
    let r = run(sb.go(&["build"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert_eq!(r.stdout, "");
    for want in [
        "go1.22.10",
        &format!("{}:1", f.display()),
        "go1.21.5",
        "gowarden toolchain install 1.22.10",
    ] {
        assert!(r.stderr.contains(want), "missing {want:?} in {}", r.stderr);
    }
    assert_eq!(r.stderr.lines().count(), 1, "one message: {}", r.stderr);
}

#[test]
fn env_override_only_where_policy_allows() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.21.5");
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.21.5\n");
    let mut c = sb.go(&["version"]);
    c.env("GOWARDEN_GO_VERSION", "1.22.3");
    assert_eq!(run(c).ran(), Some("go go1.22.3"));
    sb.write_policy(&sb.isolated_policy("[resolve]\nallow_env_override = false\n"));
    let mut c = sb.go(&["version"]);
    c.env("GOWARDEN_GO_VERSION", "1.22.3");
    assert_eq!(run(c).ran(), Some("go go1.21.5"));
}

#[test]
fn policy_default_then_newest_stable() {
    let sb = Sandbox::new();
    for v in ["go1.21.5", "go1.22.3", "go1.23rc1"] {
        sb.fake_toolchain(v);
    }
    assert_eq!(run(sb.go(&["version"])).ran(), Some("go go1.22.3"));
    sb.write_policy(&sb.isolated_policy("default = \"1.21\"\n"));
    assert_eq!(run(sb.go(&["version"])).ran(), Some("go go1.21.5"));
}

#[test]
fn stale_goroot_is_replaced_and_exit_code_passes_through() {
    let sb = Sandbox::new();
    let root = sb.fake_toolchain("go1.22.3");
    let other = sb.fake_toolchain("go1.21.5");
    sb.write_project_file(".go-version", "1.22.3\n");
    let mut c = sb.go(&["vet", "./..."]);
    c.env("GOROOT", &other).env("FAKE_GO_EXIT", "3");
    let r = run(c);
    assert_eq!(r.status(), 3);
    assert_overlay_of(r.env("GOROOT"), &root);
}

/// go runs with GOROOT = the overlay of `root` (src/shim/overlay.rs): its `bin/go` is the
/// shim, everything else links to `root`.
fn assert_overlay_of(goroot: Option<&str>, root: &Path) {
    let goroot = Path::new(goroot.expect("GOROOT is set"));
    assert_eq!(
        std::fs::read_link(goroot.join("VERSION")).ok().as_deref(),
        Some(root.join("VERSION").as_path()),
        "{} is not the overlay of {}",
        goroot.display(),
        root.display()
    );
    assert_eq!(
        std::fs::read_link(goroot.join("bin/go")).ok().as_deref(),
        Some(Path::new(common::BIN).canonicalize().unwrap().as_path())
    );
}

#[test]
fn switch_handshake_is_honoured_exactly_and_passed_through() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.22.7");
    sb.write_project_file(".go-version", "1.22.7\n");
    let mut c = sb.go(&["version"]);
    c.env("GOTOOLCHAIN_INTERNAL_SWITCH_VERSION", "go1.22.3")
        .env("GOTOOLCHAIN_INTERNAL_SWITCH_COUNT", "1");
    let r = run(c);
    assert_eq!(r.ran(), Some("go go1.22.3"), "{}", r.stderr);
    assert_eq!(
        r.env("GOTOOLCHAIN_INTERNAL_SWITCH_VERSION"),
        Some("go1.22.3")
    );
    assert_eq!(r.env("GOTOOLCHAIN_INTERNAL_SWITCH_COUNT"), Some("1"));
}

#[test]
fn a_toolchain_that_leads_back_to_the_shim_is_never_chosen() {
    let sb = Sandbox::new();
    let loop_root = sb.toolchains.join("go1.22.3");
    fs::create_dir_all(loop_root.join("bin")).unwrap();
    fs::write(loop_root.join("VERSION"), "go1.22.3\n").unwrap();
    std::os::unix::fs::symlink(common::BIN, loop_root.join("bin/go")).unwrap();
    sb.write_project_file(".go-version", "1.22.3\n");
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert!(
        r.stderr.contains("no installed Go toolchain matches"),
        "{}",
        r.stderr
    );
    // And the depth guard stops a loop through wrappers the identity check cannot see.
    sb.fake_toolchain("go1.22.7");
    sb.write_project_file(".go-version", "1.22.7\n");
    let mut c = sb.go(&["version"]);
    c.env("GOWARDEN_DEPTH", "8");
    let r = run(c);
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert!(r.stderr.contains("called itself"), "{}", r.stderr);
}

/// The same, for the binary install.sh builds, called by a relative path (`./go` in the
/// shims dir) and through a second link: the shim knows itself by the name it was exec'd by
/// (AT_EXECFN), whatever way that name reached the binary.
#[test]
fn the_shipped_shim_called_by_a_relative_path_still_knows_itself() {
    let sb = Sandbox::new();
    let shipped = common::shipped_binary();
    let shims = sb.root.join("shipped-shims");
    fs::create_dir_all(&shims).unwrap();
    std::os::unix::fs::symlink(&shipped, shims.join("go")).unwrap();
    let loop_root = sb.toolchains.join("go1.22.3");
    fs::create_dir_all(loop_root.join("bin")).unwrap();
    fs::write(loop_root.join("VERSION"), "go1.22.3\n").unwrap();
    std::os::unix::fs::symlink(shims.join("go"), loop_root.join("bin/go")).unwrap();
    sb.write_project_file(".go-version", "1.22.3\n");
    let mut c = sb.command("./go");
    c.current_dir(&shims)
        .arg("-C")
        .arg(&sb.project)
        .arg("version");
    let r = run(c);
    assert_eq!(r.status(), common::CONFIG_ERROR, "{}", r.stdout);
    assert!(
        r.stderr.contains("no installed Go toolchain matches"),
        "{}",
        r.stderr
    );
}

#[test]
fn discovery_finds_path_module_cache_and_version_managers_but_not_the_shim() {
    let sb = Sandbox::new();
    // A real-looking go on PATH (behind the shim), one in the module cache, one under goenv.
    let on_path = sb.root.join("opt/go");
    common::fake_goroot(&on_path, "go1.20.14");
    let modcache = sb
        .home
        .join("go/pkg/mod/golang.org")
        .join(format!("toolchain@v0.0.1-go1.21.9.linux-{}", go_arch()));
    common::fake_goroot(&modcache, "go1.21.9");
    common::fake_goroot(&sb.home.join(".goenv/versions/1.19.2"), "go1.19.2");
    common::fake_goroot(&sb.home.join("sdk/go1.18.10"), "go1.18.10");
    sb.write_policy("[toolchains]\nsearch = []\n");
    let mut c = sb.gowarden(&["doctor"]);
    c.env(
        "PATH",
        format!(
            "{}:{}/bin:/usr/bin:/bin",
            sb.shims.display(),
            on_path.display()
        ),
    );
    let r = run(c);
    for v in ["go1.20.14", "go1.21.9", "go1.19.2", "go1.18.10"] {
        assert!(r.stdout.contains(v), "{v} not found: {}", r.stdout);
    }
    assert!(
        !r.stdout.contains(sb.shims.to_str().unwrap()) || r.stdout.contains("is the gowarden shim")
    );
    for v in ["1.20.14", "1.21.9", "1.19.2", "1.18.10"] {
        sb.write_project_file(".go-version", &format!("{v}\n"));
        let mut c = sb.go(&["version"]);
        c.env(
            "PATH",
            format!(
                "{}:{}/bin:/usr/bin:/bin",
                sb.shims.display(),
                on_path.display()
            ),
        );
        assert_eq!(run(c).ran(), Some(format!("go go{v}").as_str()));
    }
}

#[test]
fn which_json_reports_version_goroot_and_source() {
    let sb = Sandbox::new();
    let root = sb.fake_toolchain("go1.22.3");
    let f = sb.write_project_file(".go-version", "1.22\n");
    let r = run(sb.gowarden(&["which", "--json"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], "go1.22.3");
    assert_eq!(v["goroot"], root.to_str().unwrap());
    assert_eq!(v["source"]["kind"], "go-version-file");
    assert_eq!(v["source"]["file"], f.to_str().unwrap());
    assert_eq!(v["source"]["line"], 1);
    assert_eq!(v["policy"]["origin"], "GOWARDEN_POLICY");
    let text = run(sb.gowarden(&["which"]));
    assert!(
        text.stdout.contains(&format!("{}:1", f.display())),
        "{}",
        text.stdout
    );
}

#[test]
fn doctor_reports_a_real_go_ahead_of_the_shim() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let ahead = sb.root.join("usr-local-go");
    common::fake_goroot(&ahead, "go1.21.0");
    let mut c = sb.gowarden(&["doctor"]);
    c.env(
        "PATH",
        format!(
            "{}/bin:{}:/usr/bin:/bin",
            ahead.display(),
            sb.shims.display()
        ),
    );
    let r = run(c);
    assert_eq!(r.status(), 1);
    assert!(
        r.stderr.contains(&format!("{}/bin/go", ahead.display()))
            && r.stderr.contains("not the gowarden shim"),
        "{}",
        r.stderr
    );
    let ok = run(sb.gowarden(&["doctor"]));
    assert_eq!(ok.status(), 0, "{}{}", ok.stdout, ok.stderr);
}

#[test]
fn policy_with_unknown_key_is_an_error_with_line_and_column() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_policy("[toolchains]\npath = false\nauto_instal = true\n");
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    let want = format!("{}:3:1", sb.user_policy_path().display());
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    assert!(r.stderr.contains("auto_instal"), "{}", r.stderr);
}

#[test]
fn embedded_policy_serves_with_no_files() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let mut c = sb.go(&["version"]);
    c.env_remove("GOWARDEN_POLICY");
    assert_eq!(run(c).ran(), Some("go go1.22.3"));
    let mut c = sb.gowarden(&["which", "--json"]);
    c.env_remove("GOWARDEN_POLICY");
    let v: serde_json::Value = serde_json::from_str(&run(c).stdout).unwrap();
    assert_eq!(v["policy"]["origin"], "embedded");
}

#[test]
fn system_policy_is_trusted_only_when_root_owned_and_not_writable_by_others() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.21.5");
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.21.5\n");
    sb.write_system_policy(&sb.isolated_policy("[resolve]\nfiles = [\"go.mod\"]\n"));
    // A safe system policy wins over GOWARDEN_POLICY (which would honour .go-version).
    let r = run(sb.go(&["version"]));
    assert_eq!(r.ran(), Some("go go1.22.3"), "{}", r.stderr);
    let w = run(sb.gowarden(&["which"]));
    assert!(w.stdout.contains("is ignored"), "{}", w.stdout);

    fs::set_permissions(&sb.system_policy, fs::Permissions::from_mode(0o666)).unwrap();
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert!(
        r.stderr.contains("writable by group or others") && r.stderr.contains("chmod"),
        "{}",
        r.stderr
    );

    fs::set_permissions(&sb.system_policy, fs::Permissions::from_mode(0o644)).unwrap();
    let dir = sb.system_policy.parent().unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).unwrap();
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert!(
        r.stderr
            .contains(&format!("its directory {}", dir.display())),
        "{}",
        r.stderr
    );
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();

    nix::unistd::chown(
        &sb.system_policy,
        Some(nix::unistd::Uid::from_raw(65534)),
        None,
    )
    .unwrap();
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert!(r.stderr.contains("owned by uid 65534"), "{}", r.stderr);
    nix::unistd::chown(&sb.system_policy, Some(nix::unistd::Uid::from_raw(0)), None).unwrap();

    // A symlink to a root-owned policy, in a directory another user controls: that user could
    // point it anywhere, so it is refused like a policy file of theirs.
    let theirs = sb.root.join("theirs");
    fs::create_dir_all(&theirs).unwrap();
    nix::unistd::chown(&theirs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    std::os::unix::fs::symlink(&sb.system_policy, theirs.join("policy.toml")).unwrap();
    let mut c = sb.go(&["version"]);
    c.env("GOWARDEN_TEST_SYSTEM_POLICY", theirs.join("policy.toml"));
    let r = run(c);
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert!(
        r.stderr
            .contains(&format!("its directory {}", theirs.display()))
            && r.stderr.contains("owned by uid 65534"),
        "{}",
        r.stderr
    );

    // A system policy that allows user policies lets GOWARDEN_POLICY take over.
    sb.write_system_policy("[policy]\nallow_user_policy = true\n");
    let r = run(sb.go(&["version"]));
    assert_eq!(r.ran(), Some("go go1.21.5"), "{}", r.stderr);
}

#[test]
fn diagnostics_only_when_asked_and_flushed_to_a_file_before_exec() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let quiet = run(sb.go(&["version"]));
    assert_eq!(quiet.stderr, "");
    let mut c = sb.go(&["version"]);
    c.env("GOWARDEN_LOG", "debug");
    let loud = run(c);
    assert_eq!(loud.ran(), Some("go go1.22.3"));
    assert!(
        loud.stderr.contains("resolved") && loud.stderr.contains(".go-version:1"),
        "{}",
        loud.stderr
    );
    assert!(
        !loud.stdout.contains("DEBUG"),
        "diagnostics never go to stdout"
    );
    let log = sb.root.join("diag.log");
    let mut c = sb.go(&["version"]);
    c.env("GOWARDEN_LOG", "debug")
        .env("GOWARDEN_LOG_FILE", &log);
    let to_file = run(c);
    assert_eq!(to_file.stderr, "");
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("running") && text.contains("GOTOOLCHAIN"),
        "{text}"
    );
    let mut c = sb.go(&["version"]);
    c.env("GOWARDEN_LOG", "[[bad");
    let bad = run(c);
    assert_eq!(
        bad.ran(),
        Some("go go1.22.3"),
        "a bad filter must not stop go"
    );
    assert!(bad.stderr.contains("GOWARDEN_LOG"), "{}", bad.stderr);
}

#[test]
fn a_module_cache_named_only_in_the_go_env_file_is_searched() {
    let sb = Sandbox::new();
    let cache = sb.root.join("elsewhere/modcache");
    common::fake_goroot(
        &cache
            .join("golang.org")
            .join(format!("toolchain@v0.0.1-go1.21.9.linux-{}", go_arch())),
        "go1.21.9",
    );
    let env_file = sb.home.join(".config/go/env");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    fs::write(&env_file, format!("GOMODCACHE={}\n", cache.display())).unwrap();
    sb.write_policy("[toolchains]\nsearch = []\nversion_managers = false\npath = false\n");
    sb.write_project_file(".go-version", "1.21.9\n");
    let mut c = sb.go(&["version"]);
    c.env_remove("GOMODCACHE");
    let r = run(c);
    assert_eq!(r.ran(), Some("go go1.21.9"), "{}", r.stderr);
}

/// An invalid pin nearer than a go.mod `toolchain` line is the one in force: go is refused
/// with the pin's own error, never run with the farther line's toolchain (which once
/// happened, as the invalid pin was skipped).
#[test]
fn an_invalid_nearer_pin_is_not_skipped_for_a_toolchain_line_above_it() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file("go.mod", "module m\n\ngo 1.22\n\ntoolchain go1.22.3\n");
    sb.write_project_file("svc/.go-version", "1.22.x\n");
    let mut c = sb.go(&["version"]);
    c.current_dir(sb.project.join("svc"));
    let r = run(c);
    assert_eq!(r.ran(), None, "go ran: {}", r.stdout);
    assert_eq!(r.status(), common::CONFIG_ERROR);
    crate::assert_run_snapshot!("invalid_nearer_pin", common::snapshot::Snap::new(&sb), r);
    // From the parent, the toolchain line is nearest: go runs.
    assert_eq!(run(sb.go(&["version"])).ran(), Some("go go1.22.3"));
}
