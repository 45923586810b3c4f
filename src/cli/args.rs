//! The `gowarden` command line, defined once: clap derives the parser, `--help` of every
//! subcommand, the completion scripts (`gowarden completion`) and the man page (`gowarden man`)
//! from these types, so the four cannot disagree. Handlers (one file per subcommand) take
//! these structs; nothing below the CLI sees a clap type.
//!
//! The shim (`go`, `gofmt`) never reaches this module: main.rs dispatches on argv[0] first,
//! and code that is linked but not called costs a process nothing at start-up.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit status of every `gowarden` subcommand; docs/cli.md "Exit status" is the table.
pub const EXIT_STATUS_HELP: &str = "\
Exit status: 0 ok; 1 what was checked is not ok (a refusal, problems, violations, drift, a broken \
audit chain); 2 could not check (usage error, unreadable policy or file, a -C directory that does \
not exist).
Diagnostics: GOWARDEN_LOG=debug prints gowarden's own decisions to stderr.";

/// The shim's statuses, for the man page (the values are `shim::RefusalStatus`).
pub const SHIM_EXIT_STATUS_HELP: &str = "\
As go and gofmt, the shim exits with the tool's own status when the tool ran; when it did not: 77 \
(EX_NOPERM) the policy refused the call (version matrix, tier choice, role rules, [env], an audit log that \
cannot be written under on_failure = \"deny\"); 78 (EX_CONFIG) gowarden cannot work out what to \
run (unreadable, unsafe or invalid policy, malformed version file, no installed toolchain \
that matches, a -C directory that does not exist).";

#[derive(Debug, Parser)]
#[command(
    name = "gowarden",
    version,
    about = "Governs the Go toolchain (installed as `go` and `gofmt` shims)",
    after_help = EXIT_STATUS_HELP,
    // Wrapped to the terminal, at most 100 columns (100 where stdout is not a terminal, so
    // the text a test or a pipe sees does not depend on the window).
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The toolchain `go` would run here, and why
    Which(WhichArgs),
    /// Check PATH, policy and toolchains; list each problem with its fix
    Doctor(DoctorArgs),
    /// CI gate: every violation of the policy in the repository
    Check(CheckArgs),
    /// How the shim reads a go command line and what decides it, without running go
    Explain(ExplainArgs),
    /// Compare env, version files and PATH with the policy
    Drift(DriftArgs),
    /// Read and check the audit log the shim writes
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Lint a policy file before rolling it out
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The toolchains `go` can run; install and remove gowarden's own
    #[command(subcommand)]
    Toolchain(ToolchainCommand),
    /// The project-pinned tools gowarden built (gopls, linters, debuggers)
    #[command(subcommand)]
    Tool(ToolCommand),
    /// Print a shell completion script
    #[command(after_help = "\
Load it for the current shell, or install it where the shell looks:
  bash: gowarden completion bash > /usr/share/bash-completion/completions/gowarden
  zsh:  gowarden completion zsh > \"${fpath[1]}/_gowarden\"
  fish: gowarden completion fish > ~/.config/fish/completions/gowarden.fish")]
    Completion(CompletionArgs),
    /// Print the man page (roff), generated from the same definitions as --help
    #[command(after_help = "View it with `gowarden man | man -l -`; install it as gowarden.1.")]
    Man,
    /// Print gowarden's version (as --version does)
    #[command(hide = true)]
    Version,
}

/// The directory option every project-reading subcommand takes, spelled as go spells it.
#[derive(Debug, Args, Clone, Default)]
pub struct DirArg {
    /// Work as if started in DIR (relative to the working directory; `..` is resolved as go's
    /// chdir does, before the upward search for version files)
    #[arg(short = 'C', value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WhichArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Print one JSON object (its shape: docs/cli.md)
    #[arg(long)]
    pub json: bool,
    /// A tool shim (gopls, dlv, ...): the version it runs here and what pins it
    #[arg(value_name = "TOOL")]
    pub tool: Option<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print one JSON object (its shape: docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Output format: text for people, json for tools, github for workflow annotations,
    /// sarif (2.1.0) for code scanning
    #[arg(long, value_enum, default_value_t = CheckFormat::Text, value_name = "FORMAT")]
    pub format: CheckFormat,
    /// Judge the Go binaries at PATH (files, or directories walked for them, e.g. an unpacked
    /// container image) by the build information go embedded, instead of the project
    #[arg(long, value_name = "PATH", num_args = 1.., conflicts_with = "dir")]
    pub binary: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Github,
    Sarif,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The go command line starts at its first word (`gowarden explain build ./...`) or after `--`.
Exit status: 0 go would run, 1 the shim would refuse, 2 explain cannot answer.")]
pub struct ExplainArgs {
    /// Judge as ROLE instead of the caller's own role (root, or [roles] allow_preview = true)
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
    /// The go command line, as it would be typed after `go`
    #[arg(
        value_name = "GO_ARGS",
        trailing_var_arg = true,
        value_parser = clap::value_parser!(OsString)
    )]
    pub go_args: Vec<OsString>,
}

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: 0 no drift, 1 drift, 2 could not check."
)]
pub struct DriftArgs {
    #[command(subcommand)]
    pub snapshot: Option<DriftCommand>,
    #[command(flatten)]
    pub dir: DirArg,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
    /// Also report changes since the baseline FILE (`gowarden drift snapshot`)
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Repair what can be repaired (the go env file), audited, then report what is left
    #[arg(long, conflicts_with = "watch")]
    pub fix: bool,
    /// Report again whenever a watched file changes, until interrupted
    #[arg(long)]
    pub watch: bool,
}

#[derive(Debug, Subcommand)]
pub enum DriftCommand {
    /// Record a baseline for `drift --baseline`
    Snapshot(SnapshotArgs),
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Write the baseline to FILE instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain
    #[command(after_help = "Exit status: 0 intact, 1 broken, 2 unreadable or no log.")]
    Verify(VerifyArgs),
    /// The most recent audit records, for people (or as JSON Lines)
    Tail(TailArgs),
    /// Records as OTLP/HTTP JSON logs requests, one per line
    Export(ExportArgs),
    /// Send the log to an OpenTelemetry Collector (OTLP/HTTP), checkpointed; never on go's path
    #[command(after_help = "\
Exit status with --once: 0 everything delivered, 1 still failing after --retry-for seconds or
refused by the receiver, 2 a usage error or unreadable log. Without --once it runs until killed.")]
    Ship(ShipArgs),
    /// A fleet report from local logs and Collector exports: versions per tier, refusals,
    /// projects behind the matrix, response times, drift, chain status
    #[command(after_help = "\
Reads each FILE (a local audit log or a Collector's file export) and each DIR (every file below \
it) once; default: the configured log and its rotated files. docs/report.md describes the output.
Exit status: 0 the report was written, 2 an input or the policy cannot be read.")]
    Report(ReportArgs),
    /// Where the shim writes the audit log
    Path,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// json (every number), prom (Prometheus text exposition, for node_exporter's textfile
    /// collector) or html (one self-contained page)
    #[arg(long, value_enum, default_value_t = ReportFormat::Json, value_name = "FORMAT")]
    pub format: ReportFormat,
    /// Write to FILE (atomically: a textfile collector never reads half a file) instead of
    /// stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// How many refused command lines each top list shows
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// The policy whose tiers (owner, recommended, upgrade_by) projects are compared with
    /// (default: the policy in force)
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Audit logs, Collector exports, or directories of them
    #[arg(value_name = "FILE|DIR")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Json,
    Prom,
    Html,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The files to check, oldest first (default: the configured log and its rotated files)
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A Collector's file export (OTLP JSON): check every host's and user's stream in it, and
    /// the FILEs named against their collected copy
    #[arg(long, value_name = "EXPORT", conflicts_with = "json")]
    pub collected: Option<PathBuf>,
    /// Print one JSON object (its shape: docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// How many records
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 10)]
    pub n: usize,
    /// Keep printing records as the shim appends them, until interrupted
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Print the records as they are in the log, one JSON object per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// OTLP/HTTP JSON (the one format there is)
    #[arg(long, required = true)]
    pub otlp_json: bool,
    /// At most N bytes per request (one request per output line; default: all in one)
    #[arg(long, value_name = "N")]
    pub max_bytes: Option<usize>,
    /// Only records at or after T (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or Unix nanoseconds)
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub since: Option<u64>,
    /// Only records before T (same forms as --since)
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub until: Option<u64>,
    /// The files to export (default: the configured log and its rotated files)
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

fn parse_time(v: &str) -> Result<u64, String> {
    crate::audit::parse_time(v).ok_or_else(|| {
        "give a time as YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or Unix nanoseconds".into()
    })
}

#[derive(Debug, Args)]
pub struct ShipArgs {
    /// The OTLP/HTTP receiver (plain http: the Collector agent on this host forwards with TLS)
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:4318")]
    pub endpoint: String,
    /// Where the checkpoints are kept (default: $XDG_STATE_HOME/gowarden/ship)
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Exit once everything is delivered (for a timer) instead of following the logs
    #[arg(long)]
    pub once: bool,
    /// How often to look for new records while following
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub interval_ms: u64,
    /// The largest request body sent (the receiver's max_request_body_size defaults to 20 MiB)
    #[arg(long, value_name = "N", default_value_t = 4 << 20)]
    pub max_batch_bytes: usize,
    /// The longest wait between retries while the receiver is down
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub max_backoff_ms: u64,
    /// With --once: give up after this many seconds of failures
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub retry_for: u64,
    /// The logs to ship (default: the configured log)
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Lint a policy file: schema, then every problem validation finds
    #[command(after_help = "Exit status: 0 clean, 1 problems, 2 the file cannot be read.")]
    Check(PolicyCheckArgs),
}

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// The policy file (TOML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ToolchainCommand {
    /// The toolchains `go` can run, and which gowarden installed
    List(ToolchainListArgs),
    /// Install a toolchain: Go's verified download, or an archive with a pinned SHA-256
    #[command(after_help = "\
VERSION is a release (1.22.10, go1.22.10) or a language version (1.22: its newest patch release, \
named before anything is fetched). --archive takes a go.dev .tar.gz or a module proxy .zip.")]
    Install(InstallArgs),
    /// Remove a toolchain gowarden installed
    Remove(RemoveArgs),
}

#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// The tools in gowarden's tool cache: each version, the toolchain that built it, its pin
    List(ToolListArgs),
    /// Remove cached tools (the next run builds them again)
    Remove(ToolRemoveArgs),
    /// The names of the tools the policy governs, one a line (what install.sh links)
    Names(ToolNamesArgs),
}

#[derive(Debug, Args)]
pub struct ToolNamesArgs {
    /// This policy file instead of the one in force
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ToolListArgs {
    /// Print one JSON object (its shape: docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ToolRemoveArgs {
    /// NAME (every cached version) or NAME@VERSION
    #[arg(value_name = "TOOL", required_unless_present = "all")]
    pub tools: Vec<String>,
    /// Remove every cached tool
    #[arg(long, conflicts_with = "tools")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ToolchainListArgs {
    /// Print one JSON object (its shape: docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The release to install
    #[arg(value_name = "VERSION")]
    pub version: String,
    /// gowarden's toolchains dir to install into
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Install from this archive instead of downloading
    #[arg(long, value_name = "FILE", requires = "sha256")]
    pub archive: Option<PathBuf>,
    /// The SHA-256 the archive must have (as go.dev/dl lists it)
    #[arg(long, value_name = "HEX", requires = "archive")]
    pub sha256: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The release to remove
    #[arg(value_name = "VERSION")]
    pub version: String,
    /// gowarden's toolchains dir to remove from
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
