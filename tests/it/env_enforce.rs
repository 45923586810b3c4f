//! The policy's `[env]` section through the shim: enforce, forbid, defaults and on_conflict,
//! with fake GOROOTs whose `go` prints the environment it got.

use crate::common;

use std::fs;
use std::path::PathBuf;

use common::snapshot::Snap;
use common::{FakeRun, Sandbox, run};

use crate::assert_run_snapshot;

/// A sandbox with one fake toolchain whose go.env is `goroot_env`, and `[env]` = `env_toml`.
fn sandbox(env_toml: &str, goroot_env: &str) -> (Sandbox, PathBuf) {
    let sb = Sandbox::new();
    let root = sb.fake_toolchain("go1.22.3");
    fs::write(root.join("go.env"), goroot_env).unwrap();
    sb.write_policy(&format!("{}\n[env]\n{env_toml}\n", sb.isolated_policy("")));
    (sb, root)
}

/// Writes the user's go env file (where go finds it in the sandbox) and returns its path.
fn write_env_file(sb: &Sandbox, text: &str) -> PathBuf {
    let dir = sb.home.join(".config/go");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("env");
    fs::write(&file, text).unwrap();
    file
}

fn go_env(sb: &Sandbox, vars: &[(&str, &str)], args: &[&str]) -> FakeRun {
    let mut c = sb.go(args);
    for (k, v) in vars {
        c.env(k, v);
    }
    run(c)
}

const GO_ENV: &str = "# distribution defaults\nGOPROXY=https://proxy.golang.org,direct\n\
                      GOSUMDB=sum.golang.org\nGOTOOLCHAIN=auto\n";

#[test]
fn enforce_beats_the_environment_and_the_go_env_file_silently() {
    let (sb, _) = sandbox(
        "enforce = { GOPROXY = \"https://proxy.corp.example\", GOSUMDB = \"sum.corp.example\", \
         GOFLAGS = \"-mod=readonly\" }",
        GO_ENV,
    );
    write_env_file(&sb, "GOSUMDB=off\n");
    let r = go_env(
        &sb,
        &[("GOPROXY", "direct"), ("GOFLAGS", "-mod=readonly")],
        &["build"],
    );
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.stderr, "", "the shim prints nothing when it runs go");
    assert_eq!(r.env("GOPROXY"), Some("https://proxy.corp.example"));
    assert_eq!(r.env("GOSUMDB"), Some("sum.corp.example"));
    assert_eq!(r.env("GOFLAGS"), Some("-mod=readonly"));
    assert_eq!(r.args(), ["build"]);
}

#[test]
fn which_shows_each_governed_key_its_value_and_where_the_callers_came_from() {
    let (sb, root) = sandbox(
        "enforce = { GOPROXY = \"https://proxy.corp.example\", GOSUMDB = \"sum.golang.org\" }\n\
         forbid = [\"GONOSUMDB\"]\n\
         defaults = { GOPRIVATE = \"corp.example\" }",
        GO_ENV,
    );
    let file = write_env_file(&sb, "# mine\nGOPROXY=direct\n");
    let mut c = sb.gowarden(&["which", "--json"]);
    c.env("GONOSUMDB", "*");
    let r = run(c);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let checks = v["env_policy"].as_array().unwrap();
    let by_key = |k: &str| checks.iter().find(|c| c["key"] == k).unwrap().clone();

    let proxy = by_key("GOPROXY");
    assert_eq!(proxy["rule"], "enforce");
    assert_eq!(proxy["action"], "set");
    assert_eq!(proxy["value"], "https://proxy.corp.example");
    assert_eq!(proxy["caller"]["value"], "direct");
    assert_eq!(proxy["caller"]["source"]["kind"], "env-file");
    assert_eq!(proxy["caller"]["source"]["path"], file.to_str().unwrap());
    assert_eq!(proxy["caller"]["source"]["line"], 2);
    assert!(
        proxy["policy"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}:", sb.user_policy_path().display())),
        "{proxy}"
    );

    // Already what go.env says: nothing to change, and the source says so.
    let sumdb = by_key("GOSUMDB");
    assert_eq!(sumdb["action"], "kept");
    assert_eq!(sumdb["caller"]["source"]["kind"], "go.env");
    assert_eq!(
        sumdb["caller"]["source"]["path"],
        root.join("go.env").to_str().unwrap()
    );
    assert_eq!(sumdb["caller"]["source"]["line"], 3);

    let nosum = by_key("GONOSUMDB");
    assert_eq!(nosum["action"], "removed");
    assert_eq!(nosum["value"], serde_json::Value::Null);
    assert_eq!(nosum["caller"]["source"]["kind"], "env");

    let private = by_key("GOPRIVATE");
    assert_eq!(private["rule"], "defaults");
    assert_eq!(private["action"], "set");
    assert_eq!(private["caller"], serde_json::Value::Null);

    // The plan's changes carry the new values go gets.
    assert_eq!(v["env"]["GOPROXY"], "https://proxy.corp.example");
    assert_eq!(v["env"]["GONOSUMDB"], serde_json::Value::Null);
    assert!(v["env"].get("GOSUMDB").is_none(), "{}", v["env"]);

    // The text form names the file and line the caller's value came from.
    let mut c = sb.gowarden(&["which"]);
    c.env("GONOSUMDB", "*");
    let text = run(c).stdout;
    assert!(
        text.contains(&format!(
            "\"direct\" from the go env file {}:2",
            file.display()
        )),
        "{text}"
    );
}

#[test]
fn forbid_removes_the_variable_and_neutralises_the_go_env_file() {
    let (sb, root) = sandbox(
        "forbid = [\"GONOSUMDB\", \"GOFLAGS\", \"GOPROXY\", \"GOINSECURE\", \"GONOPROXY\"]",
        GO_ENV,
    );
    write_env_file(
        &sb,
        "GOFLAGS=-mod=mod\nGONOSUMDB=*\nGOPRIVATE=corp.example/*\nGOPROXY=direct\nGOINSECURE=*\n",
    );
    let r = go_env(
        &sb,
        &[("GONOPROXY", "*"), ("GOINSECURE", "")],
        &["mod", "download"],
    );
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    // The process variable is simply gone.
    assert_eq!(r.env("GONOPROXY"), None);
    // File values are hidden by values go treats as unset (checked against a real go in
    // tests/it/drift.rs): GOFLAGS splits into no flags, GONOSUMDB gets its default, GOPRIVATE,
    // the distribution's go.env value comes back for GOPROXY, and an empty pattern list.
    assert_eq!(r.env("GOFLAGS"), Some(" "));
    assert_eq!(r.env("GONOSUMDB"), Some("corp.example/*"));
    assert_eq!(r.env("GOPROXY"), Some("https://proxy.golang.org,direct"));
    assert_eq!(r.env("GOINSECURE"), Some(","));
    // Not forbidden: the file's value, handed to go as judged (pinned: a file rewritten
    // after the shim read it cannot change it).
    assert_eq!(r.env("GOPRIVATE"), Some("corp.example/*"));
    assert!(root.join("go.env").is_file());

    // Without GOPRIVATE anywhere, GONOSUMDB's neutral value is an empty pattern list.
    write_env_file(&sb, "GONOSUMDB=*\n");
    let r = go_env(&sb, &[], &["version"]);
    assert_eq!(r.env("GONOSUMDB"), Some(","));
}

#[test]
fn a_forbidden_key_with_no_neutral_value_in_the_env_file_is_refused_except_for_go_env_u() {
    let (sb, _) = sandbox("forbid = [\"GOBIN\"]", GO_ENV);
    let file = write_env_file(&sb, "GOPATH=/gp\nGOBIN=/tmp/evil\n");
    let r = go_env(&sb, &[], &["install", "./..."]);
    assert_eq!(r.status(), common::REFUSED);
    assert_eq!(r.ran(), None, "go must not run");
    for want in [
        format!("{}:2", file.display()),
        "GOBIN=/tmp/evil".to_string(),
        "`go env -u GOBIN`".to_string(),
        format!("{}:", sb.user_policy_path().display()),
    ] {
        assert!(r.stderr.contains(&want), "{want}: {}", r.stderr);
    }
    assert_run_snapshot!("forbidden_without_neutral_value", Snap::new(&sb), r);
    // The repair path runs.
    let r = go_env(&sb, &[], &["env", "-u", "GOBIN"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.ran(), Some("go go1.22.3"));
    assert_eq!(r.args(), ["env", "-u", "GOBIN"]);
    // Only in the environment: removed, no refusal.
    write_env_file(&sb, "GOPATH=/gp\n");
    let r = go_env(&sb, &[("GOBIN", "/tmp/evil")], &["install"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.env("GOBIN"), None);
}

#[test]
fn defaults_fill_only_what_neither_the_environment_nor_the_env_file_sets() {
    let (sb, _) = sandbox(
        "defaults = { GOPROXY = \"https://proxy.corp.example\", GOPRIVATE = \"corp.example\", \
         GOFLAGS = \"-trimpath\" }",
        GO_ENV,
    );
    write_env_file(&sb, "GOPRIVATE=\n");
    let r = go_env(&sb, &[("GOFLAGS", "-v")], &["build"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    // Only go.env set GOPROXY: the company default replaces the distribution's.
    assert_eq!(r.env("GOPROXY"), Some("https://proxy.corp.example"));
    // The user's own choices stand, even an empty one in the env file.
    assert_eq!(r.env("GOFLAGS"), Some("-v"));
    assert_eq!(r.env("GOPRIVATE"), None);
    // An empty variable is no choice: go ignores it, so the default applies.
    let r = go_env(&sb, &[("GOFLAGS", "")], &["build"]);
    assert_eq!(r.env("GOFLAGS"), Some("-trimpath"));
}

#[test]
fn on_conflict_refuse_names_key_value_source_enforced_value_policy_line_and_fix() {
    let policy_env = "on_conflict = \"refuse\"\n\
                      enforce = { GOPROXY = \"https://proxy.corp.example\" }\n\
                      forbid = [\"GONOSUMDB\"]";
    let (sb, _) = sandbox(policy_env, GO_ENV);
    // The go env file's value of an enforced key never reaches go through the shim and may
    // be what `drift --fix` wrote before the policy changed: overridden, not refused.
    write_env_file(&sb, "# set by a script\nGOPROXY=direct\n");
    let r = go_env(&sb, &[], &["build"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.env("GOPROXY"), Some("https://proxy.corp.example"));
    // A forbidden key there is refused.
    let file = write_env_file(&sb, "# set by a script\nGOPROXY=direct\nGONOSUMDB=*\n");
    let r = go_env(&sb, &[], &["build"]);
    assert_eq!(r.status(), common::REFUSED);
    assert_eq!(r.ran(), None);
    let policy_text = fs::read_to_string(sb.user_policy_path()).unwrap();
    let forbid_line = policy_text
        .lines()
        .position(|l| l.starts_with("forbid"))
        .unwrap()
        + 1;
    let policy_line = format!("{}:{forbid_line}", sb.user_policy_path().display());
    for want in [
        "GONOSUMDB=*",
        &format!("go env file {}:3", file.display()),
        &policy_line,
        "`go env -u GONOSUMDB`",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
    assert!(r.stderr.starts_with("gowarden: "), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "one message: {}", r.stderr);
    let snap = Snap::new(&sb);
    assert_run_snapshot!("refused_from_the_go_env_file", snap, r);

    // From the environment: the fix is to unset it there.
    write_env_file(&sb, "");
    let r = go_env(&sb, &[("GONOSUMDB", "*")], &["build"]);
    assert_eq!(r.status(), common::REFUSED);
    assert!(
        r.stderr.contains("GONOSUMDB=*, set in the environment"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("unset GONOSUMDB"), "{}", r.stderr);
    assert_run_snapshot!("refused_from_the_environment", snap, r);

    // The repair path runs although the conflict stands.
    write_env_file(&sb, "GOPROXY=direct\n");
    let r = go_env(
        &sb,
        &[],
        &["env", "-w", "GOPROXY=https://proxy.corp.example"],
    );
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.ran(), Some("go go1.22.3"));

    // The same value as enforced, or one that only go.env sets, is no conflict.
    write_env_file(&sb, "GOPROXY=https://proxy.corp.example\n");
    let r = go_env(&sb, &[], &["build"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    write_env_file(&sb, "");
    let r = go_env(&sb, &[("GONOSUMDB", "")], &["build"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.env("GOPROXY"), Some("https://proxy.corp.example"));
    assert_eq!(r.env("GONOSUMDB"), None);
}

#[test]
fn unreadable_go_env_file_is_refused_when_the_policy_governs_env() {
    let (sb, _) = sandbox("forbid = [\"GOFLAGS\"]", GO_ENV);
    fs::create_dir_all(sb.home.join(".config/go/env")).unwrap();
    let r = go_env(&sb, &[], &["build"]);
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert_eq!(r.ran(), None);
    assert_run_snapshot!("unreadable_go_env_file", Snap::new(&sb), r);
    // A policy without [env] does not read the file at all.
    sb.write_policy(&sb.isolated_policy(""));
    let r = go_env(&sb, &[], &["build"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
}

#[test]
fn policy_env_keys_are_validated_with_file_and_line() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let cases: &[(&str, &[&str])] = &[
        (
            "forbid = [\"GONOSUMDB\",\n  \"GONOSUMCHECK\"]",
            &["GONOSUMCHECK is not a Go variable", "GONOSUMDB"],
        ),
        (
            "enforce = { GOTOOLCHAIN = \"local\" }",
            &["GOTOOLCHAIN", "[toolchains] gotoolchain"],
        ),
        (
            "defaults = { GOROOT = \"/x\" }",
            &["GOROOT", "cannot be governed"],
        ),
        ("forbid = [\"GOVERSION\"]", &["computed by go"]),
        (
            "forbid = [\"GOPROXYY\"]",
            &["\"GOPROXYY\" is not one of go's"],
        ),
        (
            "enforce = { GOFLAGS = \"\" }",
            &["empty variable", "forbid"],
        ),
        (
            "enforce = { GOPROXY = \"off\" }\nforbid = [\"GOPROXY\"]",
            &["also in [env] enforce"],
        ),
        ("enforce = { GO111MODULE = \"maybe\" }", &["GO111MODULE"]),
        ("defaults = { GOPATH = \"~/go\" }", &["does not expand `~`"]),
        ("on_conflict = \"ignore\"", &["override", "refuse"]),
    ];
    // Every message whole, in table order: what is wrong, where, and what to write instead.
    let snap = Snap::new(&sb);
    let mut messages = String::new();
    for (toml, wants) in cases {
        let text = format!("{}\n[env]\n{toml}\n", sb.isolated_policy(""));
        // The offending line: the last line of the [env] snippet that holds a quote.
        let env_start = text.lines().position(|l| l == "[env]").unwrap() + 1;
        let bad_line = env_start + toml.lines().count();
        sb.write_policy(&text);
        let r = run(sb.go(&["version"]));
        assert_eq!(r.status(), common::CONFIG_ERROR, "{toml}");
        assert_eq!(r.ran(), None, "{toml}");
        assert!(
            r.stderr
                .contains(&format!("{}:{bad_line}", sb.user_policy_path().display())),
            "{toml}: want line {bad_line}: {}",
            r.stderr
        );
        for want in *wants {
            assert!(r.stderr.contains(want), "{toml}: {want}: {}", r.stderr);
        }
        messages.push_str(&format!("\n=== [env] {toml}\n{}", snap.of(&r)));
    }
    common::snapshot::settings().bind(|| insta::assert_snapshot!("policy_env_errors", messages));
}

#[test]
fn the_enterprise_example_env_section_is_a_valid_policy() {
    let example = fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/examples/enterprise.toml"),
    )
    .unwrap();
    // The example's [env] table, up to the next table.
    let block: Vec<&str> = example
        .lines()
        .skip_while(|l| *l != "[env]")
        .enumerate()
        .take_while(|(i, l)| *i == 0 || !l.starts_with('['))
        .map(|(_, l)| l)
        .collect();
    assert!(block.len() > 5, "no [env] table in the example");
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_policy(&format!(
        "{}\n{}\n",
        sb.isolated_policy(""),
        block.join("\n")
    ));
    let r = run(sb.gowarden(&["which", "--json"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rules: Vec<(String, String)> = v["env_policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_string(),
                c["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (key, rule) in [
        ("GOPROXY", "enforce"),
        ("GONOSUMDB", "forbid"),
        ("GOPRIVATE", "defaults"),
    ] {
        assert!(
            rules.contains(&(key.to_string(), rule.to_string())),
            "{key} {rule}: {rules:?}"
        );
    }
}

#[test]
fn role_rules_judge_goflags_as_go_will_get_them_after_env_changes() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    sb.write_policy(&sb.isolated_policy(
        "[env]\nforbid = [\"GOFLAGS\"]\n\n[roles]\ndefault = \"dev\"\n\n[role.dev]\n\
         [[role.dev.deny]]\nid = \"no-toolexec\"\nflags = [\"toolexec\"]\n",
    ));
    // The caller's GOFLAGS never reaches go, so its -toolexec is no reason to refuse...
    let mut c = sb.go(&["build", "./..."]);
    c.env("GOFLAGS", "-toolexec=/tmp/wrapper");
    let r = run(c);
    assert_eq!(r.ran(), Some("go go1.22.3"), "{}", r.stderr);
    assert_eq!(
        r.env("GOFLAGS"),
        None,
        "forbidden GOFLAGS must not reach go"
    );
    // ...while the same flag on the command line is.
    let r = run(sb.go(&["build", "-toolexec=/tmp/wrapper", "./..."]));
    assert_eq!(r.status(), common::REFUSED);
    assert!(r.stderr.contains("no-toolexec"), "{}", r.stderr);
}

/// `gowarden which` in the sandbox's project: its exit status, JSON and stderr.
fn which_json(sb: &Sandbox) -> (i32, serde_json::Value, String) {
    let r = run(sb.gowarden(&["which", "--json"]));
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    (r.status(), v, r.stderr)
}

/// A go.env the caller can write (here: theirs, as a toolchain unpacked in their home is) is
/// their setting wherever it differs from the distribution's: `which` says so, and it and the
/// shim judge it as a line of the user's go env file. One whose owner is someone else is a
/// default, as before.
#[test]
fn a_go_env_the_caller_can_write_is_judged_as_theirs_by_which_and_the_shim_alike() {
    let goenv = format!("{GO_ENV}GOPRIVATE=*\n");
    let (sb, root) = sandbox("forbid = [\"GOPRIVATE\"]", &goenv);
    let file = root.join("go.env");
    let (status, v, stderr) = which_json(&sb);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        v["env_policy"],
        serde_json::json!([{
            "key": "GOPRIVATE",
            "rule": "forbid",
            "policy": format!("{}:8", sb.user_policy_path().display()),
            "value": ",",
            "action": "neutralised",
            "caller": {"value": "*", "source": {
                "kind": "go.env", "path": file, "line": 5,
                "writable": true, "distribution_default": false,
            }},
        }])
    );
    let text = run(sb.gowarden(&["which"])).stdout;
    let line = text.lines().find(|l| l.contains("[env]:")).unwrap();
    assert_eq!(
        line,
        format!(
            "  [env]:     GOPRIVATE=\",\" (forbid {}:8; a value go treats as unset, because a \
             file of yours that go reads sets it; without the shim: \"*\" from {}:5 (the \
             toolchain's go.env, a file you can write: your setting, judged as the go env \
             file's))",
            sb.user_policy_path().display(),
            file.display()
        )
    );
    // The shim hands go what which said: GOPRIVATE neutralised, and with it the checksum and
    // proxy exemptions it would have implied.
    let r = go_env(&sb, &[], &["build"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.env("GOPRIVATE"), Some(","));
    assert_eq!(r.env("GONOSUMDB"), Some(","));
    assert_eq!(r.env("GONOPROXY"), Some(","));

    // Under on_conflict = "refuse" both refuse, with the same message and the fix for go.env.
    let policy = format!(
        "{}\n[env]\nforbid = [\"GOPRIVATE\"]\non_conflict = \"refuse\"\n",
        sb.isolated_policy("")
    );
    sb.write_policy(&policy);
    let (status, v, stderr) = which_json(&sb);
    assert_eq!(status, 1, "{v}");
    assert_eq!(v["rule"], "env.conflict");
    let message = format!(
        "GOPRIVATE=*, set in {}:5 (the toolchain's go.env, a file you can write: your setting, \
         judged as the go env file's), is forbidden by the policy ({}:8), which refuses to \
         run go with it ([env] on_conflict = \"refuse\"); fix: delete line 5 (GOPRIVATE=…) \
         from {}",
        file.display(),
        sb.user_policy_path().display(),
        file.display()
    );
    assert_eq!(v["error"], message.as_str());
    assert_eq!(stderr, format!("gowarden: {message}\n"));
    let r = go_env(&sb, &[], &["build"]);
    assert_eq!(r.status(), common::REFUSED, "{}", r.stderr);
    assert!(r.ran().is_none());
    assert_eq!(r.stderr, format!("gowarden: {message}\n"));

    // Someone else's go.env (here: nobody's, 0644) is a default the caller cannot change: not
    // a conflict, and go reads it as it is.
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
    let (status, v, stderr) = which_json(&sb);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(v["env_policy"][0]["action"], "kept");
    assert_eq!(
        v["env_policy"][0]["caller"]["source"]["writable"],
        serde_json::json!(false)
    );
    let r = go_env(&sb, &[], &["build"]);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(r.env("GOPRIVATE"), None);
}

/// The caller's environment reaches go exactly as a direct exec hands it over, entry for
/// entry and in order: a name set twice keeps both entries, a string without `=` and a
/// value that is not UTF-8 pass as they are. Only what the policy sets differs. The binary
/// install.sh builds (static musl), with a go that prints its raw `environ` (printenv).
#[test]
fn the_callers_environment_passes_entry_for_entry_as_a_direct_exec_gets_it() {
    use std::ffi::{CString, OsStr};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;

    let sb = Sandbox::new();
    let goroot = sb.toolchains.join("go1.22.3");
    fs::create_dir_all(goroot.join("bin")).unwrap();
    fs::write(
        goroot.join("VERSION"),
        "go1.22.3\ntime 2024-01-01T00:00:00Z\n",
    )
    .unwrap();
    fs::copy("/usr/bin/printenv", goroot.join("bin/go")).unwrap();
    let shims = sb.root.join("shipped-shims");
    fs::create_dir_all(&shims).unwrap();
    std::os::unix::fs::symlink(common::shipped_binary(), shims.join("go")).unwrap();

    // The sandbox's variables, then what no Command can set: a duplicate, a non-variable, bytes.
    let base = sb.command("unused");
    let mut envp: Vec<Vec<u8>> = base
        .get_envs()
        .filter_map(|(k, v)| Some([k.as_bytes(), b"=", v?.as_bytes()].concat()))
        .collect();
    envp.extend([
        b"DUP=first".to_vec(),
        b"NO_EQUALS_SIGN".to_vec(),
        b"DUP=second".to_vec(),
        b"BYTES=\xff\xfe".to_vec(),
    ]);
    // Runs `program` with exactly `envp`: execve from the forked child, where Command's own
    // exec would rebuild the environment from a map.
    let raw_run = |program: &std::path::Path| {
        let path = CString::new(program.as_os_str().as_bytes()).unwrap();
        let env: Vec<CString> = envp
            .iter()
            .map(|e| CString::new(e.clone()).unwrap())
            .collect();
        let mut env_ptrs: Vec<*const nix::libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
        env_ptrs.push(std::ptr::null());
        let argv = vec![path.as_ptr(), std::ptr::null()];
        // The pointers, for the closure that runs in the child (nothing else reads them).
        struct Raw(Vec<*const nix::libc::c_char>, Vec<*const nix::libc::c_char>);
        // SAFETY: only the forked child, which has one thread, dereferences them.
        unsafe impl Send for Raw {}
        unsafe impl Sync for Raw {}
        let raw = Raw(argv, env_ptrs);
        let mut c = std::process::Command::new("/nonexistent");
        c.current_dir(&sb.project);
        // SAFETY: execve only, with pointers into `path` and `env`, which outlive the child's
        // exec (output() waits for it).
        unsafe {
            c.pre_exec(move || {
                let Raw(argv, env) = &raw;
                nix::libc::execve(argv[0], argv.as_ptr(), env.as_ptr());
                Err(std::io::Error::last_os_error())
            });
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let direct = raw_run(&goroot.join("bin/go"));
    let shimmed = raw_run(&shims.join("go"));
    let lines = |out: &[u8]| -> Vec<Vec<u8>> {
        out.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    };
    let (direct, shimmed) = (lines(&direct), lines(&shimmed));
    assert_eq!(
        direct.iter().filter(|l| l.starts_with(b"DUP=")).count(),
        2,
        "printenv prints every entry"
    );
    // The names the shim set: those of lines a direct exec does not have.
    let name = |l: &[u8]| l.split(|&b| b == b'=').next().unwrap_or_default().to_vec();
    let set: Vec<Vec<u8>> = shimmed
        .iter()
        .filter(|l| !direct.contains(l))
        .map(|l| name(l))
        .collect();
    assert!(
        set.iter().all(|n| n.starts_with(b"GO")),
        "only go's and gowarden's variables are set: {:?}",
        set.iter().map(|n| OsStr::from_bytes(n)).collect::<Vec<_>>()
    );
    let callers = |ls: &[Vec<u8>]| -> Vec<Vec<u8>> {
        ls.iter()
            .filter(|l| !l.contains(&b'=') || !set.contains(&name(l)))
            .cloned()
            .collect()
    };
    let shown = |ls: Vec<Vec<u8>>| -> Vec<String> {
        ls.iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    };
    assert!(
        callers(&shimmed) == callers(&direct),
        "through the shim {:#?}\ndirect {:#?}",
        shown(callers(&shimmed)),
        shown(callers(&direct))
    );
    assert_eq!(callers(&direct).len(), envp.len());
}
