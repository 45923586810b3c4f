//! The `gowarden` command line. The arguments are defined once, in [`args`] (clap derive);
//! each subcommand's handler lives in its own file and returns an [`ExitStatus`].
//!
//! clap is linked into the binary the shim also runs as, but the shim never calls into it
//! (main.rs dispatches on argv[0] first), and code that is not called costs a process
//! nothing at start-up: Rust runs no static constructors.

pub mod args;
mod audit;
pub mod check;
pub mod check_binary;
pub mod check_rules;
mod check_sarif;
mod doctor;
mod drift;
mod explain;
mod json_shapes;
mod policy_check;
mod report;
mod tool;
mod toolchain;
mod which;
mod which_tool;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;

use args::{Cli, Command};

/// The exit status of a `gowarden` subcommand: one table (docs/cli.md, "Exit status"), so
/// every handler means the same by each number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// Done; what was checked is fine.
    Success = 0,
    /// What was checked is not fine: the shim would refuse, problems, violations, drift, a
    /// broken audit chain.
    Failure = 1,
    /// Could not check: a usage error, an unreadable or invalid policy or file, a `-C`
    /// directory that does not exist.
    Error = 2,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// 0 when `ok`, else 1.
    pub fn ok_if(ok: bool) -> ExitStatus {
        if ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }
}

/// Runs the CLI on `args` (argv without argv[0]); returns the process exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(std::iter::once(OsString::from("gowarden")).chain(args)) {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print to stdout and exit 0; usage errors go to stderr, 2.
            let _ = e.print();
            return match e.exit_code() {
                0 => ExitStatus::Success,
                _ => ExitStatus::Error,
            }
            .code();
        }
    };
    run(cli.command).code()
}

fn run(command: Command) -> ExitStatus {
    match command {
        Command::Which(a) => which::run(&a),
        Command::Doctor(a) => doctor::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Explain(a) => explain::run(a),
        Command::Drift(a) => drift::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Policy(args::PolicyCommand::Check(a)) => policy_check::run(&a),
        Command::Toolchain(a) => toolchain::run(a),
        Command::Tool(a) => tool::run(a),
        Command::Completion(a) => {
            let mut cmd = args::command();
            clap_complete::generate(a.shell, &mut cmd, "gowarden", &mut std::io::stdout());
            ExitStatus::Success
        }
        Command::Man => man(),
        Command::Version => {
            println!("gowarden {}", env!("CARGO_PKG_VERSION"));
            ExitStatus::Success
        }
    }
}

/// The man page, `gowarden(1)`: the top-level page with one section per subcommand, all
/// from the definitions `--help` prints.
fn man() -> ExitStatus {
    let cmd = args::command();
    let mut out: Vec<u8> = Vec::new();
    let page = clap_mangen::Man::new(cmd.clone());
    let mut ok = page.render_title(&mut out).is_ok()
        && page.render_name_section(&mut out).is_ok()
        && page.render_synopsis_section(&mut out).is_ok()
        && page.render_description_section(&mut out).is_ok()
        && page.render_options_section(&mut out).is_ok();
    // One SUBCOMMANDS section with each command's synopsis, options and text, as git's and
    // cargo's single-page references read.
    out.extend_from_slice(b".SH SUBCOMMANDS\n");
    for sub in leaves(&cmd, "gowarden") {
        ok &= man_subcommand(&mut out, &sub.0, &sub.1);
    }
    out.extend_from_slice(b".SH \"EXIT STATUS\"\n");
    out.extend_from_slice(roff_escape(args::EXIT_STATUS_HELP).as_bytes());
    out.extend_from_slice(b"\n.PP\n");
    out.extend_from_slice(roff_escape(args::SHIM_EXIT_STATUS_HELP).as_bytes());
    out.extend_from_slice(b"\n");
    ok &= page.render_version_section(&mut out).is_ok();
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if !ok || stdout.write_all(&out).is_err() {
        eprintln!("gowarden man: cannot write the man page");
        return ExitStatus::Error;
    }
    ExitStatus::Success
}

/// Every subcommand that runs something (not the groups), with its full name.
fn leaves(cmd: &clap::Command, prefix: &str) -> Vec<(String, clap::Command)> {
    let mut out = Vec::new();
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let name = format!("{prefix} {}", sub.get_name());
        let runs_itself =
            sub.get_subcommands().next().is_none() || !sub.is_subcommand_required_set();
        if runs_itself {
            out.push((name.clone(), sub.clone()));
        }
        out.extend(leaves(sub, &name));
    }
    out
}

fn man_subcommand(out: &mut Vec<u8>, name: &str, cmd: &clap::Command) -> bool {
    let cmd = cmd.clone().name(name.replace(' ', "-")).bin_name(name);
    let page = clap_mangen::Man::new(cmd.clone());
    out.extend_from_slice(format!(".SS \"{name}\"\n").as_bytes());
    if let Some(about) = cmd.get_about() {
        out.extend_from_slice(format!("{}\n.PP\n", roff_escape(&about.to_string())).as_bytes());
    }
    let mut section = Vec::new();
    let ok = page.render_synopsis_section(&mut section).is_ok()
        && page.render_options_section(&mut section).is_ok();
    // Demote the generated `.SH` headings to bold paragraphs inside this subsection.
    let text = String::from_utf8_lossy(&section).replace(".SH ", ".TP\n.B ");
    out.extend_from_slice(text.as_bytes());
    if let Some(after) = cmd.get_after_help() {
        out.extend_from_slice(format!(".PP\n{}\n", roff_escape(&after.to_string())).as_bytes());
    }
    ok
}

fn roff_escape(s: &str) -> String {
    s.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n.br\n")
}

/// Where a `-C DIR` option points: DIR joined to the working directory and resolved as the
/// kernel's chdir resolves it (symlinks, then `..`), so the upward search for version files
/// starts there and never passes through the directory the command was typed in. Without
/// `-C`, the working directory. `Err` is the message for a directory that does not exist or
/// cannot be read: exit status 2.
pub(crate) fn resolve_dir(dir: Option<&Path>) -> Result<PathBuf, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    match dir {
        None => Ok(cwd),
        Some(d) => crate::project::resolve_chdir(&cwd, d).map_err(|e| e.to_string()),
    }
}

/// A report type as pretty JSON on stdout, through a `serde_json::Value` so that every object's
/// keys come out in alphabetical order, whatever order a type declares them in: the order
/// check's and drift's JSON (`to_value`) and the `json!` trees these types replaced have always
/// had. Serializing fails only for a path that is not UTF-8, and then prints `null`.
pub(crate) fn print_json(v: &impl serde::Serialize) {
    let v = serde_json::to_value(v).unwrap_or_default();
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
}
