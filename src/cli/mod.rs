//! The `gowarden` command line: one file per subcommand.
//!
//! Arguments are parsed by hand: the grammar is small, and keeping an argument-parser
//! framework out of the binary keeps the shim's start-up (the same binary) lean.

mod audit;
pub mod check;
mod doctor;
mod drift;
mod explain;
mod policy_check;
mod toolchain;
mod which;

use std::ffi::OsString;

const USAGE: &str = "\
gowarden: governs the Go toolchain (installed as `go` and `gofmt` shims)

Usage:
  gowarden which [-C DIR] [--json]    the toolchain `go` would run here, and why
  gowarden doctor                      check PATH, policy and toolchains; list fixes
  gowarden audit verify [FILE...]      check the audit log's hash chain (0 intact, 1 broken, 2 unreadable)
  gowarden audit tail [-n N] [--follow]
                                       recent audit records, for people
  gowarden audit export --otlp-json [--max-bytes N] [--since T] [--until T] [FILE...]
                                       records as OTLP/HTTP JSON logs requests, one per line
  gowarden audit ship [--endpoint URL] [--state DIR] [--once] [LOG...]
                                       send the log to an OpenTelemetry Collector (OTLP/HTTP)
  gowarden audit path                  where the shim writes the audit log
  gowarden check [-C DIR] [--format text|json|github]
                                       CI gate: every violation of the policy here
  gowarden policy check FILE           lint a policy file before rolling it out
  gowarden explain [--role R] [--json] -- <go args>
                                       how the shim reads a go command line, the role
                                       and the rule that decides, without running go
  gowarden drift [-C DIR] [--json] [--baseline FILE] [--fix | --watch]
                                       compare env, version files and PATH with the policy
                                       (exit 0 no drift, 1 drift, 2 could not check)
  gowarden drift snapshot [-C DIR] [-o FILE]
                                       record a baseline for `drift --baseline`
  gowarden toolchain list              the toolchains `go` can run, and which gowarden installed
  gowarden toolchain install [--dir DIR] VERSION [--archive FILE --sha256 HEX]
                                       install a toolchain (Go's verified download, or an
                                       archive with a pinned SHA-256: go.dev .tar.gz or
                                       module proxy .zip)
  gowarden toolchain remove [--dir DIR] VERSION
                                       remove a toolchain gowarden installed
  gowarden help                        this text
  gowarden --version

Diagnostics: GOWARDEN_LOG=debug prints gowarden's own decisions to stderr.
";

/// Runs the CLI; returns the process exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    // A go command line may hold arguments that are not UTF-8: explain takes them as they are.
    if args.first().is_some_and(|a| a == "explain") {
        return explain::run(&args[1..]);
    }
    let args: Vec<String> = match args
        .into_iter()
        .map(|a| a.into_string())
        .collect::<Result<_, _>>()
    {
        Ok(a) => a,
        Err(bad) => {
            eprintln!("gowarden: argument {bad:?} is not valid UTF-8");
            return 2;
        }
    };
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => {
            eprint!("{USAGE}");
            return 2;
        }
    };
    match cmd {
        "which" => which::run(rest),
        "doctor" => doctor::run(rest),
        "audit" => audit::run(rest),
        "check" => check::run(rest),
        "policy" => policy_check::run(rest),
        "drift" => drift::run(rest),
        "toolchain" => toolchain::run(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            0
        }
        "--version" | "version" => {
            println!("gowarden {}", env!("CARGO_PKG_VERSION"));
            0
        }
        other => {
            eprintln!("gowarden: unknown command {other:?}\n\n{USAGE}");
            2
        }
    }
}

/// Reports a usage error for `cmd` and returns exit status 2.
pub(crate) fn usage_error(cmd: &str, msg: &str) -> i32 {
    eprintln!("gowarden {cmd}: {msg} (see `gowarden help`)");
    2
}
