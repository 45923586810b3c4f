//! The `gowarden` command line as people and scripts meet it: help, completions, the man page,
//! `-C` in every spelling, `--json`, exit statuses, and the messages of doctor, which and
//! toolchain install (issue 10, items 2, 7 and 8).

use crate::common;

use std::fs;
use std::process::Command;

use common::snapshot::Snap;
use common::{Sandbox, run};

use crate::assert_run_snapshot;

/// Every subcommand that runs something, as typed.
const SUBCOMMANDS: &[&[&str]] = &[
    &["which"],
    &["doctor"],
    &["check"],
    &["explain"],
    &["drift"],
    &["drift", "snapshot"],
    &["audit", "verify"],
    &["audit", "tail"],
    &["audit", "export"],
    &["audit", "report"],
    &["audit", "path"],
    &["policy", "check"],
    &["toolchain", "list"],
    &["toolchain", "install"],
    &["toolchain", "remove"],
    &["tool", "list"],
    &["tool", "remove"],
    &["tool", "names"],
    &["completion"],
    &["man"],
];

/// doctor's Landlock line depends on the kernel; the test hook plays one without Landlock so
/// the whole output can be compared on any machine.
fn no_landlock(mut c: Command) -> Command {
    c.env("GOWARDEN_TEST_LANDLOCK_ABI", "0");
    c
}

fn no_landlock_line() -> String {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    format!(
        "note: Linux {} has no Landlock: Landlock is not enabled (test hook): roles with \
         [role.NAME.confine] are refused there under mode = \"enforce\" and run unconfined \
         under \"best-effort\"\n",
        release.trim()
    )
}

fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap()
        .trim()
        .to_string()
}

fn json_of(r: &common::FakeRun) -> serde_json::Value {
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr))
}

#[test]
fn top_level_help_is_the_whole_command_list_on_stdout() {
    let sb = Sandbox::new();
    for flag in ["--help", "-h", "help"] {
        let r = run(sb.gowarden(&[flag]));
        assert_eq!(r.status(), 0, "{flag}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{flag}");
        assert_eq!(
            r.stdout,
            "\
Governs the Go toolchain (installed as `go` and `gofmt` shims)

Usage: gowarden <COMMAND>

Commands:
  which       The toolchain `go` would run here, and why
  doctor      Check PATH, policy and toolchains; list each problem with its fix
  check       CI gate: every violation of the policy in the repository
  explain     How the shim reads a go command line and what decides it, without running go
  drift       Compare env, version files and PATH with the policy
  audit       Read and check the audit log the shim writes
  policy      Lint a policy file before rolling it out
  toolchain   The toolchains `go` can run; install and remove gowarden's own
  tool        The project-pinned tools gowarden built (gopls, linters, debuggers)
  completion  Print a shell completion script
  man         Print the man page (roff), generated from the same definitions as --help
  help        Print this message or the help of the given subcommand(s)

Options:
  -h, --help     Print help
  -V, --version  Print version

Exit status: 0 ok; 1 what was checked is not ok (a refusal, problems, violations, drift, a broken
audit chain); 2 could not check (usage error, unreadable policy or file, a -C directory that does
not exist).
Diagnostics: GOWARDEN_LOG=debug prints gowarden's own decisions to stderr.
",
            "{flag}"
        );
    }
    let r = run(sb.gowarden(&["--version"]));
    assert_eq!(
        (r.status(), r.stdout.as_str()),
        (0, concat!("gowarden ", env!("CARGO_PKG_VERSION"), "\n"))
    );
}

#[test]
fn every_subcommand_has_help_on_stdout_with_exit_0() {
    let sb = Sandbox::new();
    for words in SUBCOMMANDS {
        for flag in ["--help", "-h"] {
            let mut args = words.to_vec();
            args.push(flag);
            let r = run(sb.gowarden(&args));
            let name = words.join(" ");
            assert_eq!(r.status(), 0, "gowarden {name} {flag}: {}", r.stderr);
            assert_eq!(r.stderr, "", "gowarden {name} {flag}");
            assert!(
                r.stdout.contains(&format!("\nUsage: gowarden {name}")),
                "gowarden {name} {flag}:\n{}",
                r.stdout
            );
        }
    }
    // One subcommand's help whole: the definitions are the text.
    let r = run(sb.gowarden(&["which", "--help"]));
    assert_eq!(
        r.stdout,
        "\
The toolchain `go` would run here, and why

Usage: gowarden which [OPTIONS] [TOOL]

Arguments:
  [TOOL]  A tool shim (gopls, dlv, ...): the version it runs here and what pins it

Options:
  -C <DIR>    Work as if started in DIR (relative to the working directory; `..` is resolved as go's
              chdir does, before the upward search for version files)
      --json  Print one JSON object (its shape: docs/cli.md)
  -h, --help  Print help
"
    );
}

#[test]
fn usage_errors_exit_2_on_stderr_naming_the_fix() {
    let sb = Sandbox::new();
    let r = run(sb.gowarden(&["which", "--jsn"]));
    assert_eq!(r.status(), 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "\
error: unexpected argument '--jsn' found

  tip: a similar argument exists: '--json'

Usage: gowarden which --json [TOOL]

For more information, try '--help'.
"
    );
    let r = run(sb.gowarden(&["frobnicate"]));
    assert_eq!(r.status(), 2);
    assert!(
        r.stderr
            .starts_with("error: unrecognized subcommand 'frobnicate'\n"),
        "{}",
        r.stderr
    );
    // `gowarden` alone shows the commands, as an error.
    let r = run(sb.gowarden(&[]));
    assert_eq!(r.status(), 2);
    assert!(
        r.stderr.contains("Usage: gowarden <COMMAND>"),
        "{}",
        r.stderr
    );
}

#[test]
fn flag_values_take_every_spelling() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let other = sb.root.join("other");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join(".go-version"), "1.22.3\n").unwrap();
    let expected = run(sb.gowarden(&["which", "-C", "../other"])).stdout;
    assert!(expected.starts_with("go1.22.3 "), "{expected}");
    for args in [
        &["which", "-C=../other"][..],
        &["which", "-C../other"],
        &["which", "-C", "../other"],
    ] {
        let r = run(sb.gowarden(args));
        assert_eq!(
            (r.status(), &r.stdout),
            (0, &expected),
            "{args:?}: {}",
            r.stderr
        );
    }
    for args in [
        &["check", "--format=json", "-C=../other"][..],
        &["check", "--format", "json", "-C", "../other"],
    ] {
        let r = run(sb.gowarden(args));
        assert_eq!(r.status(), 0, "{args:?}: {}", r.stderr);
        assert_eq!(json_of(&r)["version"]["toolchain"], "go1.22.3", "{args:?}");
    }
    let out = sb.root.join("baseline.json");
    let r = run(sb.gowarden(&[
        "drift",
        "snapshot",
        "-C=../other",
        &format!("--output={}", out.display()),
    ]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(out.is_file());
}

/// `-C ../x` is resolved (cwd joined, then made real) before the upward search: the walk must
/// not pass through the project the command was typed in.
#[test]
fn relative_dash_c_with_dotdot_resolves_before_the_upward_search() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.23.4");
    // The current project pins 1.22.3 at its root; `sub` is where the command is typed.
    sb.write_project_file(".go-version", "1.22.3\n");
    let sub = sb.project.join("sub");
    fs::create_dir_all(&sub).unwrap();
    // A sibling project with its own pin, reached by `..`.
    let other = sb.project.join("other");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join(".go-version"), "1.23.4\n").unwrap();

    let mut c = sb.gowarden(&["which", "-C", "../other", "--json"]);
    c.current_dir(&sub);
    let r = run(c);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let v = json_of(&r);
    assert_eq!(v["version"], "go1.23.4");
    assert_eq!(
        v["source"]["file"],
        other.join(".go-version").display().to_string()
    );

    let mut c = sb.gowarden(&["check", "-C", "../other", "--format", "json"]);
    c.current_dir(&sub);
    let r = run(c);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(json_of(&r)["version"]["toolchain"], "go1.23.4");

    let mut c = sb.gowarden(&["drift", "-C", "../other", "--json"]);
    c.current_dir(&sub);
    let r = run(c);
    let v = json_of(&r);
    assert_eq!(r.status(), 0, "{v:#}");
    assert_eq!(v["toolchain"]["name"], "go1.23.4", "{v:#}");

    // Through the shim: `go build -C ../other` and `go -C ../other version`.
    for args in [
        &["build", "-C", "../other", "."][..],
        &["-C", "../other", "version"],
    ] {
        let mut c = sb.go(args);
        c.current_dir(&sub);
        let r = run(c);
        assert_eq!(r.status(), 0, "{args:?}: {}", r.stderr);
        assert_eq!(r.ran(), Some("go go1.23.4"), "{args:?}");
        assert_eq!(r.args(), args, "go gets its arguments unchanged");
    }
    let mut c = sb.gowarden(&["explain", "--json", "--", "build", "-C", "../other"]);
    c.current_dir(&sub);
    let r = run(c);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(r.stdout.contains("go1.23.4"), "{}", r.stdout);
}

#[test]
fn a_dash_c_dir_that_does_not_exist_is_exit_2_for_every_subcommand_and_78_in_the_shim() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let missing = sb.project.join("../nope");
    let why = format!(
        "-C ../nope: cannot change to {}: No such file or directory (os error 2); name an \
         existing directory",
        missing.display()
    );
    for (args, prefix) in [
        (&["which", "-C", "../nope"][..], "gowarden which: "),
        (
            &["check", "-C", "../nope"],
            "gowarden check: could not check: ",
        ),
        (&["drift", "-C", "../nope"], "gowarden drift: "),
        (&["drift", "snapshot", "-C", "../nope"], "gowarden drift: "),
        (&["explain", "build", "-C", "../nope"], "gowarden explain: "),
    ] {
        let r = run(sb.gowarden(args));
        assert_eq!(r.status(), 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stderr, format!("{prefix}{why}\n"), "{args:?}");
    }
    let r = run(sb.go(&["build", "-C", "../nope", "."]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    assert_eq!(r.ran(), None);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, format!("gowarden: {why}\n"));
}

#[test]
fn completion_scripts_complete_subcommands_in_bash_zsh_and_fish() {
    let sb = Sandbox::new();
    let script = |shell: &str| {
        let r = run(sb.gowarden(&["completion", shell]));
        assert_eq!(r.status(), 0, "{shell}: {}", r.stderr);
        let file = sb.root.join(format!("completion.{shell}"));
        fs::write(&file, &r.stdout).unwrap();
        file
    };
    // bash: load the script, ask it to complete `gowarden wh` and `gowarden toolchain `.
    let bash = script("bash");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; \
             COMP_WORDS=(gowarden wh); COMP_CWORD=1; _gowarden gowarden wh gowarden; \
             echo \"${{COMPREPLY[*]}}\"; \
             COMP_WORDS=(gowarden toolchain ''); COMP_CWORD=2; _gowarden gowarden '' toolchain; \
             echo \"${{COMPREPLY[*]}}\"",
            bash.display()
        ))
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "which");
    let words: Vec<&str> = lines[1].split_whitespace().collect();
    for w in ["list", "install", "remove"] {
        assert!(words.contains(&w), "{}", lines[1]);
    }
    // zsh: the script defines the completion function once loaded by compinit.
    let zsh = script("zsh");
    let out = Command::new("zsh")
        .arg("-fc")
        .arg(format!(
            "autoload -Uz compinit && compinit -u -d {}/zcompdump; source {}; \
             whence -w _gowarden",
            sb.root.display(),
            zsh.display()
        ))
        .env("HOME", &sb.home)
        .output()
        .expect("zsh (installed by .ci/run)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "_gowarden: function\n"
    );
    // fish: `complete -C` runs the completions for a command line.
    let fish = script("fish");
    let out = Command::new("fish")
        .arg("--no-config")
        .arg("-c")
        .arg(format!(
            "source {}; complete -C 'gowarden toolchain '",
            fish.display()
        ))
        .env("HOME", &sb.home)
        .output()
        .expect("fish (installed by .ci/run)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    for w in ["list", "install", "remove"] {
        assert!(words.contains(&w), "{text}");
    }
}

#[test]
fn man_page_renders_every_subcommand_and_the_exit_statuses() {
    let sb = Sandbox::new();
    let r = run(sb.gowarden(&["man"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(r.stdout.contains(".TH gowarden 1 "), "{}", r.stdout);
    let page = sb.root.join("gowarden.1");
    fs::write(&page, &r.stdout).unwrap();
    // groff's own checks (-ww: all warnings) must pass, and the text must read.
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-rLL=100n"])
        .arg(&page)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("groff");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
    let text = String::from_utf8_lossy(&out.stdout);
    // groff emboldens by overstriking; read the plain text.
    let plain: String = {
        let mut s = String::new();
        for c in text.chars() {
            if c == '\u{8}' {
                s.pop();
            } else {
                s.push(c);
            }
        }
        s
    };
    for words in SUBCOMMANDS {
        let heading = format!("   gowarden {}\n", words.join(" "));
        assert!(plain.contains(&heading), "no {heading:?} in:\n{plain}");
    }
    // Justified text: groff widens spaces, alternating sides line by line through the whole
    // page, so a phrase is looked for with its spaces collapsed.
    let words = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "EXIT STATUS",
        "77 (EX_NOPERM)",
        "78 (EX_CONFIG)",
        "--baseline <FILE>",
    ] {
        assert!(words.contains(want), "no {want:?} in:\n{plain}");
    }
}

#[test]
fn doctor_names_a_broken_policy_once_and_counts_it_once() {
    let sb = Sandbox::new();
    sb.write_policy("bogus = 1\n");
    let r = run(no_landlock(sb.gowarden(&["doctor"])));
    assert_eq!(r.status(), 1);
    assert_eq!(
        r.stdout,
        format!(
            "ok: `go` on PATH is the gowarden shim ({0}/go)\n\
             ok: `gofmt` on PATH is the gowarden shim ({0}/gofmt)\n{1}",
            sb.shims.display(),
            no_landlock_line()
        )
    );
    let policy = sb.user_policy_path();
    assert_eq!(
        r.stderr,
        format!(
            "problem: policy: invalid policy {}:1:1: unknown field `bogus`, expected one of \
             `policy`, `toolchains`, `resolve`, `audit`, `matrix`, `tier`, `blocked`, `roles`, \
             `binding`, `role`, `env`, `tools`, `check`\n\
             1 problem found\n",
            policy.display()
        )
    );
    assert_run_snapshot!(
        "doctor_broken_policy_json",
        Snap::new(&sb).name(kernel_release(), "[KERNEL]"),
        run(no_landlock(sb.gowarden(&["doctor", "--json"])))
    );
}

#[test]
fn no_go_at_all_says_where_gowarden_looked_and_how_to_get_one() {
    let sb = Sandbox::new();
    let policy = sb.user_policy_path();
    let r = run(sb.go(&["version"]));
    assert_eq!(r.status(), common::CONFIG_ERROR);
    let message = format!(
        "no Go toolchain is installed: gowarden found none in its toolchains dir nor where \
         [toolchains] lets it look (policy: {} (from $GOWARDEN_POLICY)); to get one, run \
         `gowarden toolchain install <version>` with a release such as 1.22.10, or add the \
         GOROOT of a Go already on this machine to [toolchains] search",
        policy.display()
    );
    assert_eq!(r.stderr, format!("gowarden: {message}\n"));

    let r = run(no_landlock(sb.gowarden(&["doctor"])));
    assert_eq!(r.status(), 1);
    assert_eq!(
        r.stdout,
        format!(
            "ok: `go` on PATH is the gowarden shim ({0}/go)\n\
             ok: `gofmt` on PATH is the gowarden shim ({0}/gofmt)\n\
             ok: policy {1} (from $GOWARDEN_POLICY) loads\n\
             no Go toolchains found\n{2}",
            sb.shims.display(),
            policy.display(),
            no_landlock_line()
        )
    );
    assert_eq!(
        r.stderr,
        format!("problem: here `go` is refused: {message}\n1 problem found\n")
    );

    // A pin names itself first.
    sb.write_project_file(".go-version", "1.22.3\n");
    let r = run(sb.go(&["version"]));
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: {}:1 asks for go1.22.3, but no Go toolchain is installed: gowarden found \
             none in its toolchains dir nor where [toolchains] lets it look (policy: {} (from \
             $GOWARDEN_POLICY)); to get one, run `gowarden toolchain install 1.22.3`, or add \
             the GOROOT of a Go already on this machine to [toolchains] search\n",
            sb.project.join(".go-version").display(),
            policy.display()
        )
    );
}

#[test]
fn which_under_a_refusal_shows_policy_request_source_and_toolchains_then_the_refusal() {
    let sb = Sandbox::new();
    let t = sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.23.4\n");
    let r = run(sb.gowarden(&["which"]));
    assert_eq!(r.status(), 1);
    assert_eq!(
        r.stdout,
        format!(
            "refused: `go` does not run here (why: see below)\n  \
             policy:    {} (from $GOWARDEN_POLICY)\n  \
             asked for: 1.23.4 (go1.23.4)\n  \
             by:        {}:1\n  \
             found:     go1.22.3 {} (gowarden toolchains dir)\n",
            sb.user_policy_path().display(),
            sb.project.join(".go-version").display(),
            t.display()
        )
    );
    assert_eq!(
        r.stderr,
        format!(
            "gowarden: no installed Go toolchain matches go1.23.4 (asked for by {}:1); found: \
             go1.22.3 ({}); to get it, run `gowarden toolchain install 1.23.4`, or change the \
             version file\n",
            sb.project.join(".go-version").display(),
            t.display()
        )
    );
    assert_run_snapshot!(
        "which_refused_json",
        Snap::new(&sb),
        run(sb.gowarden(&["which", "--json"]))
    );
}

#[test]
fn toolchain_list_json_is_one_object() {
    let sb = Sandbox::new();
    let t = sb.fake_toolchain("go1.22.3");
    let r = run(sb.gowarden(&["toolchain", "list", "--json"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(
        json_of(&r),
        serde_json::json!({"toolchains": [{
            "version": "go1.22.3",
            "goroot": t,
            "found_in": "gowarden toolchains dir",
            "installed_by_gowarden": false,
        }]})
    );
}

#[test]
fn audit_verify_and_tail_json() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let log = sb.root.join("audit.jsonl");
    sb.write_policy(&sb.isolated_policy(&format!("[audit]\npath = {:?}\n", log.display())));
    for _ in 0..3 {
        assert_eq!(run(sb.go(&["version"])).status(), 0);
    }
    let r = run(sb.gowarden(&["audit", "verify", "--json"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let v = json_of(&r);
    assert_eq!(v["intact"], true);
    assert_eq!(v["records"], 3);
    assert_eq!(v["first_seq"], 1);
    assert_eq!(v["last_seq"], 3);
    assert_eq!(v["problem"], serde_json::Value::Null);
    assert_eq!(v["files"], serde_json::json!([log]));
    assert_eq!(v["last_sha256"].as_str().map(str::len), Some(64));

    let r = run(sb.gowarden(&["audit", "tail", "--json", "-n=2"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    let text = fs::read_to_string(&log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(lines[1], last, "the records as the log holds them");

    // A broken chain: 1, with the place, in the same shape.
    fs::write(&log, text.replacen("go1.22.3", "go1.22.4", 1)).unwrap();
    let r = run(sb.gowarden(&["audit", "verify", "--json"]));
    assert_eq!(r.status(), 1);
    let v = json_of(&r);
    assert_eq!(v["intact"], false);
    assert_eq!(v["problem"]["file"], log.display().to_string());
    assert!(v["problem"]["line"].as_u64().is_some(), "{v:#}");
}

/// explain's own options come first; the go command line starts at its first word or after
/// `--`, where a leading `-C DIR` (go's own `go -C DIR build`) is go's, not explain's.
#[test]
fn explain_takes_its_options_then_the_go_command_line() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    let r = run(sb.gowarden(&["explain", "--json", "--", "-C", ".", "version"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(
        json_of(&r)["args"],
        serde_json::json!(["-C", ".", "version"])
    );
    let r = run(sb.gowarden(&["explain", "--json", "build", "--json", "-x"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(
        json_of(&r)["args"],
        serde_json::json!(["build", "--json", "-x"]),
        "from the first go word on, everything is go's"
    );
    let r = run(sb.gowarden(&["explain", "-x", "build"]));
    assert_eq!(r.status(), 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "\
error: unexpected argument '-x' found

  tip: to pass '-x' as a value, use '-- -x'

Usage: gowarden explain [OPTIONS] [GO_ARGS]...

For more information, try '--help'.
"
    );
}

#[test]
fn which_names_the_declarations_the_nearest_pin_overrides() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.21.5");
    let t = sb.fake_toolchain("go1.22.3");
    sb.fake_toolchain("go1.23.1");
    let gv = sb.write_project_file(".go-version", "1.21.5\n");
    let mise = sb.write_project_file("mise.toml", "[tools]\ngo = \"1.23.1\"\n");
    let go_mod = sb.write_project_file(
        "svc/go.mod",
        "module example.com/svc\n\ngo 1.22\n\ntoolchain go1.22.3\n",
    );
    let r = run(sb.gowarden(&["which", "-C", "svc"]));
    assert_eq!((r.status(), r.stderr.as_str()), (0, ""));
    assert_eq!(
        r.stdout,
        format!(
            "go1.22.3 {goroot}\n  \
             found in:  gowarden toolchains dir\n  \
             asked for: go1.22.3 (go1.22.3)\n  \
             by:        the toolchain line at {go_mod}:5\n  \
             overrides: 1.21.5 at {gv}:1\n  \
             overrides: 1.23.1 at {mise}:2\n  \
             policy:    {policy} (from $GOWARDEN_POLICY)\n  \
             env:       GOROOT={goroot}\n  \
             env:       GOTOOLCHAIN=local\n",
            goroot = t.display(),
            go_mod = go_mod.display(),
            gv = gv.display(),
            mise = mise.display(),
            policy = sb.user_policy_path().display(),
        )
    );
    assert_run_snapshot!(
        "which_overrides_json",
        Snap::new(&sb),
        run(sb.gowarden(&["which", "-C", "svc", "--json"]))
    );
    // In the parent the .go-version wins, over the mise.toml beside it; nothing is said of
    // the go.mod below, which is not on the way up.
    let r = run(sb.gowarden(&["which"]));
    let by: Vec<_> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("  by:") || l.starts_with("  overrides:"))
        .collect();
    assert_eq!(
        by,
        [
            format!("  by:        {}:1", gv.display()),
            format!("  overrides: 1.23.1 at {}:2", mise.display()),
        ]
    );
}

/// explain's whole answer, for people and for scripts: the decision, the toolchain and why,
/// the role and the environment go gets.
#[test]
fn explain_text_and_json() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    sb.write_project_file("go.mod", "module example.com/m\n\ngo 1.22\n");
    let snap = Snap::new(&sb);
    assert_run_snapshot!(
        "explain_allowed_text",
        snap,
        run(sb.gowarden(&["explain", "--", "build", "./..."]))
    );
    assert_run_snapshot!(
        "explain_allowed_json",
        snap,
        run(sb.gowarden(&["explain", "--json", "--", "build", "./..."]))
    );
    assert_run_snapshot!("which_text", snap, run(sb.gowarden(&["which"])));
    assert_run_snapshot!("which_json", snap, run(sb.gowarden(&["which", "--json"])));
    // Refused: the same answer says which rule refuses it and where the rule is.
    sb.write_policy(&sb.isolated_policy(
        "[[blocked]]\nversion = \"1.22.3\"\nreason = \"a regression in net/http\"\n",
    ));
    assert_run_snapshot!(
        "explain_refused_text",
        snap,
        run(sb.gowarden(&["explain", "--", "build", "./..."]))
    );
    assert_run_snapshot!(
        "explain_refused_json",
        snap,
        run(sb.gowarden(&["explain", "--json", "--", "build", "./..."]))
    );
    assert_run_snapshot!(
        "shim_refused_blocked",
        snap,
        run(sb.go(&["build", "./..."]))
    );
}

/// Where GOFLAGS came from is one JSON shape across the CLI: explain's `goflags.from` is the
/// origin object `which --json` gives a go env value (`kind`, `path`, `line`).
#[test]
fn explain_names_goflags_origin_in_whichs_shape() {
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    let env_file = sb.home.join(".config/go/env");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    fs::write(&env_file, "GOPRIVATE=corp.example\nGOFLAGS=-mod=mod\n").unwrap();
    let r = run(sb.gowarden(&["explain", "--json", "--", "build", "./..."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_eq!(
        json_of(&r)["goflags"],
        serde_json::json!({
            "from": {"kind": "env-file", "line": 2, "path": env_file.display().to_string()},
            "value": "-mod=mod"
        })
    );
}
