//! The audit log: one tamper-evident record per go invocation.
//!
//! # API at a glance
//!
//! * Build a [`Record`] with its builder, then [`append`] it to a [`LogConfig`]; the shim
//!   does this before it execs go. [`Appended`] tells the seq, the line's hash, whether the
//!   append rotated or repaired.
//! * [`verify`] a chain ([`chain_files`] lists it) into a [`VerifyReport`];
//!   [`VerifyReport::is_intact`] is what the CLI maps to its exit code.
//! * [`tail`] / [`Follower`] for people; [`convert_line`] and [`Batcher`] (OTLP/JSON
//!   requests under a size limit), [`ship_pending`] (OTLP/HTTP with a checkpoint) and
//!   [`read_collected`] / [`compare_local`] (a Collector's copy) for collectors;
//!   [`export_otlp_json`] (one request in memory),
//!   [`LoggedRecord`] and [`decode_os`] to read fields back.
//! * [`Durability`], [`OnFailure`], [`Commands`]: the `[audit]` policy settings.
//!
//! # File format
//!
//! The log is UTF-8 JSON Lines: each record is one line, terminated by `\n`, holding one
//! OpenTelemetry `LogRecord` in OTLP/JSON encoding (the protobuf JSON mapping with
//! lowerCamelCase names):
//!
//! ```json
//! {"timeUnixNano":"1714566896789000000","observedTimeUnixNano":"1714566896789012345",
//!  "severityNumber":9,"severityText":"INFO","body":{"stringValue":"go build ./..."},
//!  "attributes":[
//!   {"key":"gowarden.seq","value":{"intValue":"42"}},
//!   {"key":"gowarden.prev_sha256","value":{"stringValue":"9f86d0...0f00a08"}},
//!   {"key":"gowarden.decision","value":{"stringValue":"allow"}},
//!   {"key":"process.command_args","value":{"arrayValue":{"values":[
//!     {"stringValue":"go"},{"stringValue":"build"},{"stringValue":"./..."}]}}},
//!   {"key":"process.pid","value":{"intValue":"4242"}}, ...]}
//! ```
//! (wrapped here; in the file it is one line.)
//!
//! * `timeUnixNano` / `observedTimeUnixNano`: decimal strings, as OTLP/JSON encodes 64-bit
//!   integers. The first is the event time, the second when the record was encoded.
//! * `severityNumber` / `severityText`: 9 `INFO` for allowed runs, 13 `WARN` for denials,
//!   warnings and repairs.
//! * `body`: an `AnyValue` object, `{"stringValue": ...}`, not a bare string: `AnyValue` is a
//!   protobuf message, so the OTLP/JSON mapping that OTLP/HTTP endpoints and the collector's
//!   `otlpjsonfile` receiver decode only has the object form. A line is a `LogRecord`, not a
//!   whole `LogsData`, to keep lines short and fields at the top where people `grep`:
//!   [`export_otlp_json`] wraps records into the `{"resourceLogs": ...}` envelope those
//!   receivers read. The collector's `filelog` receiver can also tail the file itself:
//!   `collector/gowarden-filelog.yaml` maps each line onto the same LogRecord that
//!   [`ship_pending`] sends (tested against a real Collector).
//! * `attributes`: OTLP key/value list; `intValue` as a decimal string; argument lists as
//!   `arrayValue`. Names are in [`attr`]. Environment changes are template attributes:
//!   `gowarden.env_override.from.<NAME>` / `.to.<NAME>` and `gowarden.go_env.previous.<NAME>`
//!   / `.new.<NAME>`, an absent attribute meaning "unset".
//!
//! Arguments, paths and environment values are arbitrary bytes on Unix; they are stored with
//! the reversible escaping of [`encode_os`] (`\\` for a backslash, `\xNN` for a byte that is
//! not valid UTF-8) and read back with [`decode_os`]. JSON escaping handles newlines and
//! control characters, so a record is always exactly one line.
//!
//! ## Secrets
//!
//! Every string written (body, attributes, arguments, env values) has URL userinfo replaced:
//! `https://user:token@host` becomes `https://REDACTED@host`. [`LogConfig::redact`] adds
//! glob patterns (`*` and `?`, ASCII case-insensitive) over environment variable *names*,
//! such as `*TOKEN*` or `*PASSWORD*`: a matching variable's value is written as `REDACTED`
//! in env attributes and in `NAME=VALUE` arguments.
//!
//! ## The chain
//!
//! The chain fields are attributes, not top-level fields, because OTLP receivers may reject
//! unknown top-level fields while any attribute is valid:
//!
//! * `gowarden.seq` (`intValue`): 1 for the first record of a chain, then +1 per record,
//!   continuing across rotations.
//! * `gowarden.prev_sha256` (`stringValue`): lowercase hex SHA-256 of the previous record's
//!   line: its exact bytes from its first byte up to, *not including*, its terminating `\n`
//!   (see [`line_sha256`]). The first record holds 64 zeros ([`GENESIS_SHA256`]).
//!
//! A line is a *record* when it is a JSON object whose attributes hold exactly one valid
//! `gowarden.seq` and `gowarden.prev_sha256`; any other line is not part of the chain.
//!
//! ## Appending and locking
//!
//! Appenders serialise on an exclusive `flock` of the sibling file `<path>.lock` (mode 0600,
//! never removed), held only around finding the previous record, rotating and writing. A
//! sibling rather than the log itself so the lock stays the same file across rotations.
//! Each append leaves the chain's tip in the lock file (the seq and line hash it wrote, and
//! the log's device, inode and length right after: [`tip`]); the next append uses it while the
//! log still has that identity and length. Otherwise (another appender, a crash between the two
//! writes, a rotation or an edit) the previous record is found by reading backwards from the
//! end in growing blocks, so an append costs the same on a 1 GB log as on an empty one. Each append is one `write(2)` on
//! an `O_APPEND` descriptor. Readers ([`verify`], [`tail`], [`Follower`]) take the shared
//! lock for an instant to learn a length that ends on a line boundary, then read without it.
//! The directory is created 0700 and the log 0600 when missing; a symlink at the log's path
//! is refused, and so are a log or lock file the caller does not own and a directory owned by
//! another user (or root-owned and writable by others without the sticky bit): in a shared
//! directory another user may have created them to read or redirect the caller's records.
//! The lock is waited for at most `LOCK_TIMEOUT` (5 s), by appenders and readers
//! alike, then the call fails with a message instead of hanging.
//!
//! ## Rotation
//!
//! With [`LogConfig::max_bytes`], an append that would make the live file larger renames it
//! to `<path>.<N>`, `N` being one more than the highest existing suffix (so `.1` is the
//! oldest; a rotated file never changes name), and starts a new `<path>` whose first record
//! continues the seq and chains to the last line of `<path>.<N>`. All of this happens under
//! the lock. [`rotated_files`] and [`chain_files`] list the files in chain order.
//!
//! ## Torn lines
//!
//! A crash mid-write (power loss, SIGKILL inside `write(2)`) can leave the end of the log as
//! a partial line. The next append finds the lines after the last record that are not
//! records, terminates the last one with `\n` (the bytes are kept, not cut), and first
//! writes a *repair record* (`gowarden.decision` = `repair`, severity WARN) that chains to
//! the last complete record and carries `gowarden.repair.torn_lines` (how many lines),
//! `gowarden.repair.torn_bytes` and `gowarden.repair.torn_sha256` (SHA-256 of those lines
//! joined by `\n`, without a trailing newline). [`verify`] accepts such lines exactly when
//! the repair record that follows them names their count and hash, and reports them as a
//! warning "torn line N repaired at seq M". If the torn line happens to be a whole record
//! missing only its newline, it is kept as a record and the repair record has
//! `torn_lines` = 0.
//!
//! ## Limits
//!
//! * The chain is tamper-*evident* against edits, deletions and reordering, not
//!   tamper-proof: the hashes are not keyed, so whoever can write the file can rewrite it
//!   from some point on with recomputed hashes; and removing the newest records whole leaves
//!   nothing behind to disagree. A copy off the machine closes both gaps for every record
//!   it holds: [`ship_pending`] sends each record with its line's hash, and
//!   [`compare_local`] finds the first local record that differs from the collected copy, or
//!   the collected records past the local end.
//! * A process stopped (SIGSTOP) inside the few microseconds it holds the lock makes the
//!   caller's other appends fail after the 5 s wait until it continues or dies.
//! * Nothing deletes rotated files; retention is the caller's (use
//!   [`VerifyOptions::allow_pruned_head`] to verify a pruned chain).

mod append;
mod chain;
mod collected;
mod config;
mod escape;
mod files;
mod otlp;
mod record;
mod revlines;
mod ship;
mod sink;
mod tip;
mod verify;
mod view;

pub use append::{Appended, Repaired, append, append_encoded};
pub use chain::{GENESIS_SHA256, line_sha256};
// For the report, which checks chains itself (one pass, any order: src/report/chain.rs).
pub(crate) use chain::{JoinedHasher, parse_decimal};
pub use collected::{
    Collected, Comparison, Mismatch, Stream, compare_local, parse_request, read_collected,
};
pub use config::{Commands, Durability, LogConfig, OnFailure};
pub use escape::{
    REDACTED, Redactor, decode_bytes, decode_os, encode_bytes, encode_os, glob_match,
    redact_url_userinfo, redact_url_userinfo_str,
};
pub use files::{chain_files, lock_path, rotated_files};
pub use otlp::{Batcher, OtlpRecord, SHA256_ATTR, convert_line, machine_id, parse_time};
pub use record::{Decision, EncodedRecord, Record, Severity, attr};
pub use ship::{
    Checkpoint, Endpoint, SendError, ShipConfig, ShipError, Shipped, checkpoint_path,
    load_checkpoint, post, ship_pending,
};
pub use sink::Sink;
pub use verify::{Problem, ProblemKind, VerifyOptions, VerifyReport, Warning, verify, verify_with};
pub use view::{
    Follower, LoggedRecord, export_otlp_json, format_unix_nanos, shell_quote, summarize_line, tail,
    tail_lines,
};
