//! The policies as shipped, on a fresh machine: the embedded default with stock toolchains
//! (`gowarden drift` is clean, the CI templates' gates pass), and
//! `policies/examples/enterprise.toml` read from the repository at test time, unedited, through
//! the shim and `gowarden policy check`, today and in the years to come.

use crate::common;

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

/// A CI template, the environment its runner sets, and whether it installs the default policy
/// as the system policy.
type Runner = (&'static str, &'static [(&'static str, &'static str)], bool);

#[test]
fn the_ci_templates_gates_pass_on_a_fresh_runner() {
    let tcs = real_toolchains();
    // GitHub: setup-go's go on PATH behind the shims, the shipped default policy installed as
    // the system policy (`install.sh --system --policy policies/default.toml`).
    // GitLab: the golang image (GOTOOLCHAIN=local in its environment), the embedded default.
    let runners: [Runner; 2] = [
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

/// A fake toolchain where Go's module cache keeps downloaded ones: the example finds
/// toolchains there (`module_cache = true`); its `/opt/go/*` search names nothing here.
fn module_cache_toolchain(sb: &Sandbox, version: &str) {
    let root = sb.home.join(format!(
        "go/pkg/mod/golang.org/toolchain@v0.0.1-{version}.linux-{}",
        common::go_arch()
    ));
    common::fake_goroot(&root, version);
}

/// `policies/examples/enterprise.toml` exactly as shipped (read from the repository, installed
/// as the system policy as its header says), on today's date and on days to come. The debug
/// build's test hook (`GOWARDEN_TEST_TODAY`) moves the day the matrix judges by; the release
/// build reads the system clock and then runs the same code, so this proves the example's
/// decisions do not depend on the date, not that the clock is read right.
#[test]
fn the_enterprise_example_works_as_shipped_today_and_in_the_years_to_come() {
    let file = repo_file("policies/examples/enterprise.toml");
    let text = fs::read_to_string(&file).unwrap();
    let sb = Sandbox::new();
    sb.write_system_policy(&text);
    module_cache_toolchain(&sb, "go1.25.3");
    module_cache_toolchain(&sb, "go1.24.9");
    // Outside any project: no go.mod, no version file (the default tier, the policy default).
    let outside = sb.root.join("scratch");
    fs::create_dir_all(&outside).unwrap();
    // A payments service pinned to its tier's recommended release.
    sb.write_project_file("go.mod", "module corp.example/pay/api\n\ngo 1.24\n");
    sb.write_project_file(".go-version", "1.24.9\n");
    fs::create_dir_all(sb.project.join("cmd/tool")).unwrap();

    // Its [audit] path is the shared /var/log/gowarden layout: a private mount namespace gives
    // the calls one of their own (made as install.sh --system makes it), never the machine's.
    let host = common::Host::new();
    for offset in [0, 365, 3650] {
        let today = common::day(offset);
        let on = |mut c: Command| {
            c.env("GOWARDEN_TEST_TODAY", &today);
            run(host.command(None, &c))
        };
        let r = on(sb.gowarden(&["policy", "check", file.to_str().unwrap()]));
        assert_eq!(
            (r.status(), r.stdout.as_str(), r.stderr.as_str()),
            (
                0,
                format!("{}: ok (3 tiers, 2 blocked releases)\n", file.display()).as_str(),
                ""
            ),
            "on {today}"
        );

        let mut c = sb.go(&["build", "./..."]);
        c.current_dir(&outside);
        let r = on(c);
        assert_eq!(
            (r.status(), r.ran(), r.stderr.as_str()),
            (0, Some("go go1.25.3"), ""),
            "outside a project on {today}"
        );
        assert_eq!(r.env("GOPROXY"), Some("https://proxy.golang.org"));
        assert_eq!(r.env("GOFLAGS"), Some("-mod=readonly"));

        let r = on(sb.go(&["build", "./..."]));
        assert_eq!(
            (r.status(), r.ran(), r.stderr.as_str()),
            (0, Some("go go1.24.9"), ""),
            "payments on {today}"
        );
        // The developer role installs into go's default GOBIN (~/go/bin).
        let r = on(sb.go(&["install", "./cmd/tool"]));
        assert_eq!((r.status(), r.stderr.as_str()), (0, ""), "on {today}");
        // CI=true gives nobody the builder role: the developer's deny rules still apply.
        let mut c = sb.go(&["build", "-toolexec=/bin/true", "."]);
        c.env("CI", "true");
        let r = on(c);
        assert_eq!(r.status(), common::REFUSED, "{}", r.stdout);
        assert_eq!(r.ran(), None);
        common::assert_has(
            &r.stderr,
            &[
                "refused `-toolexec=/bin/true` in `go build`",
                "role: developer, the default role",
                "rule: dev-no-build-tampering",
            ],
        );
    }
}

/// Each class of rollout problem `gowarden policy check` reports, on a fixed day, as whole
/// outputs: what, where (file:line:col), why and the fix.
#[test]
fn policy_check_reports_rollout_problems_with_their_fix() {
    let sb = Sandbox::new();
    let check = |toml: &str| {
        let path = sb.root.join("candidate.toml");
        fs::write(&path, toml).unwrap();
        let mut c = sb.gowarden(&["policy", "check", path.to_str().unwrap()]);
        c.env("GOWARDEN_TEST_TODAY", "2030-06-15");
        let r = run(c);
        (
            r.status(),
            r.stdout.replace(path.to_str().unwrap(), "P"),
            r.stderr,
        )
    };
    let tiers = |default: &str, upgrade_by: &str| {
        format!(
            "[toolchains]\ndefault = \"{default}\"\n\n[matrix]\ndefault_tier = \"internal\"\n\n\
             [[tier]]\nname = \"internal\"\nmin = \"1.24.0\"\nrecommended = \"1.25.0\"\n\
             {upgrade_by}owner = \"platform\"\n"
        )
    };
    // Below min: refused now.
    assert_eq!(
        check(&tiers("1.23", "")),
        (
            1,
            "invalid policy P:2:11: [toolchains] default = \"1.23\" is what every project \
             without a version file runs, and the default tier \"internal\" (P:5) refuses it \
             now: it is below the minimum go1.24.0 (P:9): go outside a pinned project would be \
             refused; set it to 1.25.0 (the tier's recommended)\nP: 1 problem\n"
                .to_string(),
            String::new()
        )
    );
    // Below recommended with a deadline to come: refused from that day.
    assert_eq!(
        check(&tiers("1.24.3", "upgrade_by = 2031-01-31\n")),
        (
            1,
            "invalid policy P:2:11: [toolchains] default = \"1.24.3\" is what every project \
             without a version file runs, and the default tier \"internal\" (P:5) will refuse \
             it after 2031-01-31 (P:11): it is below the recommended go1.25.0 (P:10): go \
             outside a pinned project would be refused; set it to 1.25.0 (the tier's \
             recommended)\nP: 1 problem\n"
                .to_string(),
            String::new()
        )
    );
    // A deadline already past is a warning; with the default at recommended, nothing else.
    assert_eq!(
        check(&tiers("1.25", "upgrade_by = 2030-06-14\n")),
        (
            0,
            "warning: P:11:14: tier \"internal\": upgrade_by 2030-06-14 has passed (today is \
             2030-06-15): the shim refuses every version below go1.25.0 in this tier now; if \
             that is not what you want, set a date to come or remove upgrade_by (then older \
             versions only warn)\nP: ok (1 tier, 0 blocked releases) with 1 warning\n"
                .to_string(),
            String::new()
        )
    );
    // On the deadline itself it still runs: no warning.
    assert_eq!(
        check(&tiers("1.25", "upgrade_by = 2030-06-15\n")).1,
        "P: ok (1 tier, 0 blocked releases)\n"
    );
    // Below recommended, no deadline: every unpinned project warns.
    assert_eq!(
        check(&tiers("1.24", "")),
        (
            0,
            "warning: P:2:11: [toolchains] default = \"1.24\" is what every project without a \
             version file runs, and the default tier \"internal\" (P:5) recommends go1.25.0 \
             (P:10): every project without a version file will warn; set it to 1.25.0 (the \
             tier's recommended)\nP: ok (1 tier, 0 blocked releases) with 1 warning\n"
                .to_string(),
            String::new()
        )
    );

    let roles = |binding: &str, ci_role: &str| {
        format!(
            "[roles]\ndefault = \"dev\"\n\n[[binding]]\nrole = \"ci\"\n{binding}\n\n\
             [role.dev]\ninstall_dirs = [\"~/go/bin\"]\n\n[[role.dev.deny]]\nid = \"no-toolexec\"\n\
             flags = [\"toolexec\"]\nmessage = \"no wrappers\"\n\n[[role.dev.deny]]\n\
             id = \"no-env-w\"\ncommand = \"env\"\nenv_keys = [\"GOFLAGS\"]\n\n[role.ci]\n{ci_role}"
        )
    };
    // An env binding to a role without the default's deny rule.
    assert_eq!(
        check(&roles(
            "env = { CI = \"true\" }",
            "install_dirs = [\"~/go/bin\"]\n"
        )),
        (
            1,
            "invalid policy P:4:1: [[binding]] gives role \"ci\" to anyone whose environment \
             has CI=true, and \"ci\" is laxer than the default role \"dev\": it lacks the \
             default role's deny rule \"no-toolexec\" (no wrappers); whoever runs go sets its \
             environment, so bind \"ci\" by gids, uids or groups instead (or make it at least \
             as strict as \"dev\")\nP: 1 problem\n"
                .to_string(),
            String::new()
        )
    );
    // Wider install dirs are laxer too.
    let strict_rules = "[[role.ci.deny]]\nid = \"ci-no-toolexec\"\nflags = [\"toolexec\", \
                        \"overlay\"]\n\n[[role.ci.deny]]\nid = \"ci-no-env-write\"\ncommand = \
                        \"env\"\nflags = [\"w\", \"u\"]\n";
    let wide = format!("install_dirs = [\"/usr/local/bin\"]\n{strict_rules}");
    assert_eq!(
        check(&roles("env = { CI = \"true\" }", &wide)).1,
        "invalid policy P:4:1: [[binding]] gives role \"ci\" to anyone whose environment has \
         CI=true, and \"ci\" is laxer than the default role \"dev\": it may `go install` into \
         /usr/local/bin, which the default role may not; whoever runs go sets its environment, \
         so bind \"ci\" by gids, uids or groups instead (or make it at least as strict as \
         \"dev\")\nP: 1 problem\n"
    );
    // As strict on every rule (its -w/-u rule covers the key rule): no problem; nor for the
    // laxer role bound by a group, which the caller cannot choose.
    let narrow = format!("install_dirs = [\"~/go/bin/ci\"]\n{strict_rules}");
    assert_eq!(
        check(&roles("env = { CI = \"true\" }", &narrow)).1,
        "P: ok (0 tiers, 0 blocked releases)\n"
    );
    assert_eq!(
        check(&roles("gids = [4242]", "install_dirs = [\"~/go/bin\"]\n")).1,
        "P: ok (0 tiers, 0 blocked releases)\n"
    );
}
