//! The `gowarden` command line: one file per subcommand.
//!
//! Arguments are parsed by hand: the grammar is small, and keeping an argument-parser
//! framework out of the binary keeps the shim's start-up (the same binary) lean.

mod doctor;
mod policy;
mod toolchain;
mod which;

use std::ffi::OsString;

const USAGE: &str = "\
gowarden: governs the Go toolchain (installed as `go` and `gofmt` shims)

Usage:
  gowarden which [-C DIR] [--json]    the toolchain `go` would run here, and why
  gowarden doctor                      check PATH, policy and toolchains; list fixes
  gowarden toolchain list              the toolchains `go` can run, and which gowarden installed
  gowarden toolchain install [--dir DIR] VERSION [--archive FILE --sha256 HEX]
                                       install a toolchain (Go's verified download, or an
                                       archive with a pinned SHA-256: go.dev .tar.gz or
                                       module proxy .zip)
  gowarden toolchain remove [--dir DIR] VERSION
                                       remove a toolchain gowarden installed
  gowarden policy check FILE           check a policy file without installing it
  gowarden help                        this text
  gowarden --version

Diagnostics: GOWARDEN_LOG=debug prints gowarden's own decisions to stderr.
";

/// Runs the CLI; returns the process exit status.
pub fn main(args: Vec<OsString>) -> i32 {
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
        "toolchain" => toolchain::run(rest),
        "policy" => policy::run(rest),
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
