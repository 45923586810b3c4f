//! The policies as shipped, on a fresh machine: the embedded default with stock toolchains
//! (`gowarden drift` is clean, the CI templates' gates pass), and
//! `policies/examples/enterprise.toml` read from the repository at test time, unedited, through
//! the shim and `gowarden policy check`, today and in the years to come.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Sandbox, real_toolchains, run};

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A GOROOT that is the real go1.23.12 with `/usr/local/go`'s go.env shape (the distribution
/// file with `GOTOOLCHAIN=local`, as this machine kind and the golang images ship it): hard
/// links to the real tree where the filesystem allows, else a copy; go.env is a file of its
/// own.
fn toolchain_with_local_go_env(sb: &Sandbox, real: &Path) -> PathBuf {
    let root = sb.root.join("go-local-env");
    let linked = Command::new("cp")
        .arg("-al")
        .arg(real)
        .arg(&root)
        .status()
        .unwrap()
        .success();
    if !linked {
        let _ = fs::remove_dir_all(&root);
        assert!(
            Command::new("cp")
                .arg("-a")
                .arg(real)
                .arg(&root)
                .status()
                .unwrap()
                .success()
        );
    }
    let go_env = root.join("go.env");
    fs::remove_file(&go_env).unwrap();
    fs::write(
        &go_env,
        "# This file contains the initial defaults for go command configuration.\n\
         GOPROXY=https://proxy.golang.org,direct\nGOSUMDB=sum.golang.org\n\n\
         GOTOOLCHAIN=local\n",
    )
    .unwrap();
    root
}

/// `gowarden ARGS` under the embedded default policy: no GOWARDEN_POLICY, no user or system
/// policy, `goroot`'s go on PATH behind the shims.
fn with_default_policy(sb: &Sandbox, mut c: Command, goroot: &Path) -> Command {
    c.env_remove("GOWARDEN_POLICY").env(
        "PATH",
        format!(
            "{}:{}:/usr/bin:/bin",
            sb.shims.display(),
            goroot.join("bin").display()
        ),
    );
    c
}

#[test]
fn drift_is_clean_out_of_the_box_with_stock_toolchains() {
    let tcs = real_toolchains();
    let sb = Sandbox::new();
    let local = toolchain_with_local_go_env(&sb, &tcs[1].1);
    let mut cases: Vec<(String, PathBuf)> = tcs.clone();
    cases.push(("go1.23.12".into(), local));
    for (name, goroot) in &cases {
        // What the stock go.env says, so each case is the one it claims to be.
        let go_env = fs::read_to_string(goroot.join("go.env")).unwrap();
        assert!(
            go_env.contains("GOTOOLCHAIN=auto") || go_env.contains("GOTOOLCHAIN=local"),
            "{go_env}"
        );
        sb.write_project_file(".go-version", &format!("{}\n", &name[2..]));
        sb.write_project_file("go.mod", "module example.com/app\n\ngo 1.21\n");
        for gotoolchain in [None, Some("local")] {
            let mut c = with_default_policy(&sb, sb.gowarden(&["drift"]), goroot);
            if let Some(v) = gotoolchain {
                c.env("GOTOOLCHAIN", v);
            }
            let r = run(c);
            assert_eq!(
                (r.status(), r.stdout.as_str(), r.stderr.as_str()),
                (
                    0,
                    format!("no drift in {} ({name})\n", sb.project.display()).as_str(),
                    ""
                ),
                "{} with GOTOOLCHAIN={gotoolchain:?} in the environment",
                goroot.display()
            );
        }
    }
}

/// The gate commands of a CI template: the `gowarden …` lines of its gate step.
fn gate_commands(template: &str) -> Vec<String> {
    let text = fs::read_to_string(repo_file(template)).unwrap();
    let cmds: Vec<String> = text
        .lines()
        .map(|l| l.trim().trim_start_matches("- ").trim())
        .filter(|l| l.starts_with("gowarden "))
        .map(str::to_string)
        .collect();
    assert!(
        cmds.iter().any(|c| c == "gowarden drift"),
        "{template} has no drift gate: {cmds:?}"
    );
    cmds
}

#[test]
fn the_ci_templates_gates_pass_on_a_fresh_runner() {
    let tcs = real_toolchains();
    // GitHub: setup-go's go on PATH behind the shims, the shipped default policy installed as
    // the system policy (`install.sh --system --policy policies/default.toml`).
    // GitLab: the golang image (GOTOOLCHAIN=local in its environment), the embedded default.
    let runners: [(&str, &[(&str, &str)], bool); 2] = [
        (
            "shims/ci/github-actions.yml",
            &[("CI", "true"), ("GITHUB_ACTIONS", "true")],
            true,
        ),
        (
            "shims/ci/gitlab-ci.yml",
            &[
                ("CI", "true"),
                ("GITLAB_CI", "true"),
                ("GOTOOLCHAIN", "local"),
            ],
            false,
        ),
    ];
    for (template, env, system_policy) in runners {
        let sb = Sandbox::new();
        if system_policy {
            sb.write_system_policy(
                &fs::read_to_string(repo_file("policies/default.toml")).unwrap(),
            );
        }
        // A fresh checkout: a module and its go line, nothing pinned, no go env file.
        sb.write_project_file("go.mod", "module example.com/app\n\ngo 1.22\n");
        let bin_dir = Path::new(common::BIN).parent().unwrap().to_path_buf();
        for cmd in gate_commands(template) {
            let mut c = with_default_policy(&sb, sb.command("sh"), &tcs[1].1);
            c.arg("-c").arg(&cmd).env(
                "PATH",
                format!(
                    "{}:{}:{}:/usr/bin:/bin",
                    sb.shims.display(),
                    tcs[1].1.join("bin").display(),
                    bin_dir.display()
                ),
            );
            c.envs(env.iter().copied());
            let r = run(c);
            assert_eq!(
                r.status(),
                0,
                "{template}: `{cmd}` failed:\n{}{}",
                r.stdout,
                r.stderr
            );
            if cmd == "gowarden drift" {
                assert!(
                    r.stdout.starts_with("no drift in "),
                    "{template}: {}",
                    r.stdout
                );
            }
        }
    }
}
