//! The differential harness: a corpus of (environment, files, command line) cases, each run
//! against real go toolchains four ways:
//!
//! 1. **direct**: the toolchain's own `bin/go`, no shim. The case's evidence must show the
//!    effect (a probe program left its mark, the fork's code ran, the go.work changed, go's own
//!    `go env` computed the bypass). This proves the input really carries the effect on that
//!    release, so the other checks can fail.
//! 2. **shim, a role without rules, no [env]**: must behave as direct (the same evidence, the
//!    same exit status).
//! 3. **shim, the shipped example's developer role, with the example's [env]**, and
//! 4. **the same role without [env]**: the effect must never happen: the shim refuses
//!    (status `REFUSED`, nothing ran) or go runs without the effect.
//!
//! Evidence is always what go did, never what gowarden says. Toolchains: the fetched go1.22.12,
//! go1.23.12, go1.24.13 and go1.25.5 (scripts/fetch-go-toolchains.sh) and /usr/local/go
//! (go1.26.8); a case names the oldest release that has its input (GOCACHEPROG: go1.24).

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{REFUSED, Sandbox, real_toolchains, run};

const EXAMPLE: &str = include_str!("../../policies/examples/enterprise.toml");

/// The releases beyond the suite's default pair that the corpus needs (GOCACHEPROG is GA
/// from go1.24): `.ci/run` fetches them with `scripts/fetch-go-toolchains.sh`.
const MORE: &[&str] = &["go1.24.13", "go1.25.5"];

/// The toolchains the corpus runs on: (version, GOROOT), go1.22 to go1.26.
fn toolchains() -> Vec<(String, PathBuf)> {
    let mut t = real_toolchains();
    let modcache = t[0].1.parent().unwrap().to_path_buf();
    for v in MORE {
        let root = modcache.join(format!("toolchain@v0.0.1-{v}.linux-{}", common::go_arch()));
        assert!(
            root.join("bin/go").is_file(),
            "real toolchain {v} missing at {}: run scripts/fetch-go-toolchains.sh {}",
            root.display(),
            MORE.join(" ")
        );
        t.push((v.to_string(), root));
    }
    let local = PathBuf::from("/usr/local/go");
    let version = fs::read_to_string(local.join("VERSION")).expect("/usr/local/go/VERSION");
    t.push((version.lines().next().unwrap().to_string(), local));
    t
}

fn minor(version: &str) -> u32 {
    version
        .trim_start_matches("go1.")
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn gocache() -> PathBuf {
    real_toolchains()[0]
        .1
        .ancestors()
        .nth(3)
        .unwrap()
        .join("gocache")
}

/// The example's roles section, exactly as shipped.
fn example_roles() -> &'static str {
    let start = EXAMPLE.find("\n[roles]").expect("[roles] in the example");
    let end = EXAMPLE.find("# ── Environment").expect("the [env] banner");
    &EXAMPLE[start..end]
}

/// The example's [env] section, with its GOPROXY pointed at the test's file proxy.
fn example_env(proxy: &str) -> String {
    let start = EXAMPLE.find("# ── Environment").unwrap();
    let env = &EXAMPLE[start..];
    let at = env.find("GOPROXY = \"").unwrap() + "GOPROXY = \"".len();
    let end = at + env[at..].find('"').unwrap();
    format!("{}{proxy}{}", &env[..at], &env[end..])
}

/// What a case makes and runs.
struct Case {
    name: &'static str,
    /// The oldest minor release that has this input.
    since: u32,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// Lines for the user's go env file.
    env_file: &'static str,
    /// Extra files: (path relative to the sandbox root, content); `{root}` and `{probe}` are
    /// replaced.
    files: &'static [(&'static str, &'static str)],
    /// Where go starts, relative to the sandbox root.
    dir: &'static str,
    evidence: Evidence,
}

#[derive(Clone, Copy)]
enum Evidence {
    /// The probe program wrote this mark file.
    Mark(&'static str),
    /// stdout holds this text.
    Stdout(&'static str),
    /// This file (relative to the sandbox root) holds this text.
    File(&'static str, &'static str),
    /// go's own `go env KEY` in the same environment prints this.
    GoEnv(&'static str, &'static str),
    /// `go mod download` of the test module succeeded: it was not checked against the
    /// checksum database.
    Downloaded,
}

const HELLO: &str = "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/dep\"\n)\n\nfunc main() { fmt.Println(\"hello original\", dep.Who) }\n";

/// The project: module example.com/hello in `{root}/project` (a git repository), printing
/// "hello original dep original" with its dependency example.com/dep replaced by the copy in
/// the repository; outside the repository, a fork of main.go prints "hello fork" and a fork of
/// the dependency "dep fork".
fn base_files(sb: &Sandbox) {
    let p = &sb.project;
    fs::create_dir_all(p.join(".git")).unwrap();
    fs::write(
        p.join("go.mod"),
        "module example.com/hello\n\ngo 1.21\n\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ./dep\n",
    )
    .unwrap();
    fs::write(p.join("main.go"), HELLO).unwrap();
    for (dir, who) in [
        (p.join("dep"), "dep original"),
        (sb.root.join("outside/dep"), "dep fork"),
    ] {
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("go.mod"), "module example.com/dep\n\ngo 1.21\n").unwrap();
        fs::write(
            dir.join("dep.go"),
            format!("package dep\n\nconst Who = {who:?}\n"),
        )
        .unwrap();
    }
    fs::write(
        p.join("main_test.go"),
        "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
    )
    .unwrap();
    let fork = sb.root.join("outside/hello");
    fs::create_dir_all(&fork).unwrap();
    fs::write(fork.join("go.mod"), "module example.com/hello\n\ngo 1.21\n").unwrap();
    fs::write(fork.join("main.go"), HELLO.replace("original", "fork")).unwrap();
    fs::create_dir_all(sb.root.join("marks")).unwrap();
    // Probes: leave a mark named after themselves, then do the job.
    for (name, then) in [
        ("toolexec", "exec \"$@\""),
        ("exec", "exec \"$@\""),
        ("cc", "exec gcc \"$@\""),
        ("extld", "exec gcc \"$@\""),
        ("cacheprog", "exit 1"),
    ] {
        let path = sb.root.join("probes").join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"$@\" >> {}/marks/{name}\n{then}\n",
                sb.root.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    // A module proxy on disk with one module the checksum database has never seen.
    let v = sb.root.join("proxy/example.com/fakemod/@v");
    fs::create_dir_all(&v).unwrap();
    fs::write(v.join("list"), "v1.0.0\n").unwrap();
    fs::write(
        v.join("v1.0.0.info"),
        "{\"Version\":\"v1.0.0\",\"Time\":\"2024-01-01T00:00:00Z\"}\n",
    )
    .unwrap();
    fs::write(v.join("v1.0.0.mod"), "module example.com/fakemod\n").unwrap();
    let zip = fs::File::create(v.join("v1.0.0.zip")).unwrap();
    let mut w = zip::ZipWriter::new(zip);
    let opts = zip::write::SimpleFileOptions::default();
    for (name, body) in [
        ("go.mod", "module example.com/fakemod\n"),
        ("fake.go", "package fakemod\n"),
    ] {
        w.start_file(format!("example.com/fakemod@v1.0.0/{name}"), opts)
            .unwrap();
        std::io::Write::write_all(&mut w, body.as_bytes()).unwrap();
    }
    w.finish().unwrap();
}

fn corpus() -> Vec<Case> {
    use Evidence::*;
    let c = |name, since, args, env, env_file, files, evidence| Case {
        name,
        since,
        args,
        env,
        env_file,
        files,
        dir: "project",
        evidence,
    };
    const CGO: &[(&str, &str)] = &[(
        "project/cgo.go",
        "package main\n\n// int one(void) { return 1; }\nimport \"C\"\n\nvar _ = C.one()\n",
    )];
    const OVERLAY: &[(&str, &str)] = &[(
        "outside/overlay.json",
        "{\"Replace\": {\"{root}/project/main.go\": \"{root}/outside/hello/main.go\"}}",
    )];
    const ALTMOD: &[(&str, &str)] =
        &[("outside/alt.mod", "module example.com/altered\n\ngo 1.21\n")];
    const WORK: &[(&str, &str)] = &[(
        "outside/go.work",
        "go 1.21\n\nuse {root}/project\n\nreplace example.com/dep => ./dep\n",
    )];
    const PARENT_WORK: &[(&str, &str)] = &[(
        "go.work",
        "go 1.21\n\nuse ./project\n\nreplace example.com/dep => ./outside/dep\n",
    )];
    const REPO_WORK: &[(&str, &str)] = &[("project/go.work", "go 1.21\n\nuse .\n")];
    let dl: &'static [&'static str] = &["mod", "download", "-json", "example.com/fakemod@v1.0.0"];
    let v: Vec<Case> = vec![
        // build-tool
        c(
            "toolexec flag",
            22,
            &["build", "-toolexec={probe}/toolexec", "."],
            &[],
            "",
            &[],
            Mark("toolexec"),
        ),
        c(
            "toolexec flag, two words",
            22,
            &["build", "-toolexec", "{probe}/toolexec", "."],
            &[],
            "",
            &[],
            Mark("toolexec"),
        ),
        c(
            "toolexec in GOFLAGS (environment)",
            22,
            &["build", "."],
            &[("GOFLAGS", "-toolexec={probe}/toolexec")],
            "",
            &[],
            Mark("toolexec"),
        ),
        c(
            "toolexec in GOFLAGS (go env file)",
            22,
            &["build", "."],
            &[],
            "GOFLAGS=-toolexec={probe}/toolexec\n",
            &[],
            Mark("toolexec"),
        ),
        c(
            "toolexec in go test",
            22,
            &["test", ".", "-toolexec={probe}/toolexec"],
            &[],
            "",
            &[],
            Mark("toolexec"),
        ),
        c(
            "go run -exec",
            22,
            &["run", "-exec={probe}/exec", "."],
            &[],
            "",
            &[],
            Mark("exec"),
        ),
        c(
            "go test -exec",
            22,
            &["test", "-exec", "{probe}/exec", "."],
            &[],
            "",
            &[],
            Mark("exec"),
        ),
        c(
            "CC in the environment",
            22,
            &["build", "."],
            &[("CGO_ENABLED", "1"), ("CC", "{probe}/cc")],
            "",
            CGO,
            Mark("cc"),
        ),
        c(
            "CC in the go env file",
            22,
            &["build", "."],
            &[("CGO_ENABLED", "1")],
            "CC={probe}/cc\n",
            CGO,
            Mark("cc"),
        ),
        c(
            "-ldflags -extld",
            22,
            &[
                "build",
                "-ldflags=-linkmode=external -extld={probe}/extld",
                ".",
            ],
            &[("CGO_ENABLED", "1")],
            "",
            &[],
            Mark("extld"),
        ),
        c(
            "GOCACHEPROG in the environment",
            24,
            &["build", "."],
            &[("GOCACHEPROG", "{probe}/cacheprog")],
            "",
            &[],
            Mark("cacheprog"),
        ),
        c(
            "GOCACHEPROG in the go env file",
            24,
            &["build", "."],
            &[],
            "GOCACHEPROG={probe}/cacheprog\n",
            &[],
            Mark("cacheprog"),
        ),
        c(
            "-overlay",
            22,
            &["run", "-overlay={root}/outside/overlay.json", "."],
            &[],
            "",
            OVERLAY,
            Stdout("hello fork"),
        ),
        c(
            "-overlay in GOFLAGS",
            22,
            &["run", "."],
            &[("GOFLAGS", "-overlay={root}/outside/overlay.json")],
            "",
            OVERLAY,
            Stdout("hello fork"),
        ),
        // dependency-substitution
        c(
            "GOWORK outside the repository",
            22,
            &["run", "."],
            &[("GOWORK", "{root}/outside/go.work")],
            "",
            WORK,
            Stdout("dep fork"),
        ),
        c(
            "go.work in a parent directory",
            22,
            &["run", "."],
            &[],
            "",
            PARENT_WORK,
            Stdout("dep fork"),
        ),
        c(
            "go work init with an outside dir",
            22,
            &["work", "init", ".", "{root}/outside/dep"],
            &[],
            "",
            &[],
            File("project/go.work", "outside/dep"),
        ),
        c(
            "go work use of an outside dir",
            22,
            &["work", "use", "{root}/outside/dep"],
            &[],
            "",
            REPO_WORK,
            File("project/go.work", "outside/dep"),
        ),
        c(
            "-modfile",
            22,
            &["list", "-m", "-modfile={root}/outside/alt.mod"],
            &[],
            "",
            ALTMOD,
            Stdout("example.com/altered"),
        ),
        c(
            "-modfile in GOFLAGS (go env file)",
            22,
            &["list", "-m"],
            &[],
            "GOFLAGS=-modfile={root}/outside/alt.mod\n",
            ALTMOD,
            Stdout("example.com/altered"),
        ),
        // checksum-bypass and proxy-bypass
        c(
            "GONOSUMDB in the environment",
            22,
            dl,
            &[("GONOSUMDB", "example.com")],
            "",
            &[],
            Downloaded,
        ),
        c(
            "GONOSUMDB in the go env file",
            22,
            dl,
            &[],
            "GONOSUMDB=example.com\n",
            &[],
            Downloaded,
        ),
        c(
            "GOSUMDB=off",
            22,
            dl,
            &[("GOSUMDB", "off")],
            "",
            &[],
            Downloaded,
        ),
        c(
            "GOINSECURE",
            22,
            dl,
            &[("GOINSECURE", "example.com")],
            "",
            &[],
            GoEnv("GOINSECURE", "example.com"),
        ),
        c(
            "GOPRIVATE=* in the environment",
            22,
            dl,
            &[("GOPRIVATE", "*")],
            "",
            &[],
            GoEnv("GONOPROXY", "*"),
        ),
        c(
            "GOPRIVATE=* in the go env file",
            22,
            dl,
            &[],
            "GOPRIVATE=*\n",
            &[],
            GoEnv("GONOSUMDB", "*"),
        ),
        c(
            "GONOPROXY in the environment",
            22,
            dl,
            &[("GONOPROXY", "example.com")],
            "",
            &[],
            GoEnv("GONOPROXY", "example.com"),
        ),
        c(
            "GOPROXY=direct in the go env file",
            22,
            dl,
            &[],
            "GOPROXY=direct\n",
            &[],
            GoEnv("GOPROXY", "direct"),
        ),
        // install-outside
        c(
            "go install with GOBIN outside",
            22,
            &["install", "."],
            &[("GOBIN", "{root}/outside/bin")],
            "",
            &[],
            File("outside/bin/hello", ""),
        ),
        c(
            "go install with GOBIN in the go env file",
            22,
            &["install", "."],
            &[],
            "GOBIN={root}/outside/bin\n",
            &[],
            File("outside/bin/hello", ""),
        ),
        c(
            "go build -o outside",
            22,
            &["build", "-o", "{root}/outside/bin/hello", "."],
            &[],
            "",
            &[],
            File("outside/bin/hello", ""),
        ),
        // go-env-write
        c(
            "go env -w GOPROXY",
            22,
            &["env", "-w", "GOPROXY=direct"],
            &[],
            "",
            &[],
            File("home/.config/go/env", "GOPROXY=direct"),
        ),
        c(
            "go env -w GOCACHEPROG",
            24,
            &["env", "-w", "GOCACHEPROG={probe}/cacheprog"],
            &[],
            "",
            &[],
            File("home/.config/go/env", "GOCACHEPROG="),
        ),
        c(
            "-w in GOFLAGS from the go env file",
            22,
            &["env", "GONOSUMDB=x"],
            &[],
            "GOFLAGS=-w\n",
            &[],
            File("home/.config/go/env", "GONOSUMDB=x"),
        ),
    ];
    v
}

fn subst(s: &str, sb: &Sandbox) -> String {
    s.replace("{probe}", &sb.root.join("probes").display().to_string())
        .replace("{root}", &sb.root.display().to_string())
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Way {
    Direct,
    ShimFree,
    ShimDeveloper,
    ShimDeveloperNoEnv,
}

struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
    happened: bool,
}

fn run_case(case: &Case, version: &str, goroot: &Path, way: Way) -> Outcome {
    let sb = Sandbox::new();
    base_files(&sb);
    for (rel, text) in case.files {
        let p = sb.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, subst(text, &sb)).unwrap();
    }
    if !case.env_file.is_empty() {
        let f = sb.home.join(".config/go/env");
        fs::create_dir_all(f.parent().unwrap()).unwrap();
        fs::write(f, subst(case.env_file, &sb)).unwrap();
    }
    fs::write(
        sb.project.join(".go-version"),
        format!("{}\n", &version[2..]),
    )
    .unwrap();
    let proxy = format!("file://{}", sb.root.join("proxy").display());
    let search = format!("search = [{:?}]\n", goroot.display().to_string());
    let policy = match way {
        Way::Direct => String::new(),
        Way::ShimFree => sb.isolated_policy(&search),
        Way::ShimDeveloper => format!(
            "{}{}\n{}",
            sb.isolated_policy(&search),
            example_roles(),
            example_env(&proxy)
        ),
        Way::ShimDeveloperNoEnv => {
            format!("{}{}", sb.isolated_policy(&search), example_roles())
        }
    };
    if way != Way::Direct {
        sb.write_policy(&policy);
    }
    let args: Vec<String> = case.args.iter().map(|a| subst(a, &sb)).collect();
    let mut cmd = match way {
        Way::Direct => {
            let mut c = sb.command(goroot.join("bin/go"));
            c.args(&args).env("GOTOOLCHAIN", "local");
            c
        }
        _ => {
            let mut c = sb.command(sb.shims.join("go"));
            c.args(&args);
            c
        }
    };
    cmd.current_dir(sb.root.join(case.dir))
        .env("GOCACHE", gocache())
        .env("GOPATH", sb.home.join("go"))
        .env("CGO_ENABLED", "0");
    // Without [env] the policy names no proxy: any but the distribution's would be a proxy
    // bypass of its own, so that way runs offline.
    cmd.env(
        "GOPROXY",
        if way == Way::ShimDeveloperNoEnv {
            "off"
        } else {
            proxy.as_str()
        },
    );
    // The example's [env] enforces GOFLAGS: a caller's own would be a conflict it refuses.
    if way != Way::ShimDeveloper {
        cmd.env("GOFLAGS", "-modcacherw");
    }
    // A key the case sets in the go env file must not be hidden by the base environment.
    for line in case.env_file.lines() {
        if let Some((k, _)) = line.split_once('=') {
            cmd.env_remove(k);
        }
    }
    for (k, _) in case.env {
        cmd.env_remove(k);
    }
    for (k, v) in case.env {
        cmd.env(k, subst(v, &sb));
    }
    let r = run(cmd);
    let happened = match case.evidence {
        Evidence::Mark(m) => sb.root.join("marks").join(m).exists(),
        Evidence::Stdout(s) => r.stdout.contains(s),
        Evidence::File(rel, text) => fs::read(sb.root.join(rel))
            .map(|t| String::from_utf8_lossy(&t).contains(text))
            .unwrap_or(false),
        Evidence::Downloaded => r.status() == 0 && r.stdout.contains("\"Version\": \"v1.0.0\""),
        Evidence::GoEnv(key, want) => {
            // go's own computation in the environment go got: the shim's refusal leaves
            // none, so ask the toolchain directly with the env the shim would pass.
            if way == Way::Direct || !refused(r.status(), &r.stderr) {
                let mut c = sb.command(goroot.join("bin/go"));
                c.args(["env", key])
                    .env("GOTOOLCHAIN", "local")
                    .current_dir(sb.root.join(case.dir));
                for (k, v) in case.env {
                    c.env(k, subst(v, &sb));
                }
                let out = c.output().unwrap();
                let direct = String::from_utf8_lossy(&out.stdout).trim() == want;
                // Through the shim, the call ran: the effect happened if go computed it
                // from the environment the shim handed it (the fetch's own env is the
                // evidence: the shim's [env] changes are reflected in `which`).
                if way == Way::Direct {
                    direct
                } else {
                    shim_env_value(&sb, case, key).as_deref() == Some(want)
                }
            } else {
                false
            }
        }
    };
    Outcome {
        status: r.status(),
        stdout: r.stdout,
        stderr: r.stderr,
        happened,
    }
}

/// The shim refused (go's own failures exit 1 too: the message tells them apart).
fn refused(status: i32, stderr: &str) -> bool {
    status == REFUSED && stderr.starts_with("gowarden: ")
}

/// `go env KEY` through the shim, in the case's environment: what go computed from the
/// environment and files the shim handed it.
fn shim_env_value(sb: &Sandbox, case: &Case, key: &str) -> Option<String> {
    let mut c = sb.go(&["env", key]);
    c.current_dir(sb.root.join(case.dir));
    for (k, v) in case.env {
        c.env(k, subst(v, sb));
    }
    let out = c.output().ok()?;
    if !out.status.success() {
        eprintln!(
            "go env {key} through the shim: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn every_denied_effect_never_happens_and_every_allowed_call_behaves_as_direct() {
    let corpus = corpus();
    let tcs = toolchains();
    let mut failures = Vec::new();
    let mut ran = 0;
    let results: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = tcs
            .iter()
            .map(|(version, goroot)| {
                let corpus = &corpus;
                s.spawn(move || {
                    let mut fails = Vec::new();
                    let mut n = 0;
                    for case in corpus.iter().filter(|c| minor(version) >= c.since) {
                        n += 1;
                        let direct = run_case(case, version, goroot, Way::Direct);
                        if !direct.happened {
                            fails.push(format!(
                                "{version} {}: direct go shows no effect (status {}): {}{}",
                                case.name, direct.status, direct.stdout, direct.stderr
                            ));
                            continue;
                        }
                        let free = run_case(case, version, goroot, Way::ShimFree);
                        if !free.happened || free.status != direct.status {
                            fails.push(format!(
                                "{version} {}: through the shim without rules: effect {} status {} (direct: {}): {}",
                                case.name, free.happened, free.status, direct.status, free.stderr
                            ));
                        }
                        for way in [Way::ShimDeveloper, Way::ShimDeveloperNoEnv] {
                            let dev = run_case(case, version, goroot, way);
                            if dev.happened {
                                fails.push(format!(
                                    "{version} {}: {way:?}: the denied effect happened (status {}): {}",
                                    case.name, dev.status, dev.stderr
                                ));
                            }

                        }
                    }
                    (fails, n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let (f, n) = h.join().unwrap();
                ran += n;
                f
            })
            .collect()
    });
    for r in results {
        failures.extend(r);
    }
    eprintln!(
        "differential corpus: {} cases, {ran} (case, toolchain) runs x 4 ways, {} failures",
        corpus.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A benign call gives the same output through the shim under the developer role as direct.
#[test]
fn allowed_calls_under_the_developer_role_behave_as_direct() {
    let (version, goroot) = toolchains().pop().unwrap();
    let case = Case {
        name: "go run .",
        since: 22,
        args: &["run", "."],
        env: &[],
        env_file: "",
        files: &[],
        dir: "project",
        evidence: Evidence::Stdout("hello original"),
    };
    let direct = run_case(&case, &version, &goroot, Way::Direct);
    for way in [Way::ShimDeveloper, Way::ShimDeveloperNoEnv, Way::ShimFree] {
        let r = run_case(&case, &version, &goroot, way);
        assert_eq!(
            (r.status, r.stdout.as_str()),
            (direct.status, direct.stdout.as_str()),
            "{way:?}: {}",
            r.stderr
        );
        assert!(r.happened);
    }
}
