//! The audit log: one tamper-evident record per go invocation (work in progress; the full
//! format description comes with the complete module).

mod append;
mod chain;
mod config;
mod escape;
mod files;
mod record;
mod revlines;
mod verify;

pub use append::{Appended, Repaired, append, append_encoded};
pub use chain::{GENESIS_SHA256, line_sha256};
pub use config::{Commands, Durability, LogConfig, OnFailure};
pub use escape::{
    REDACTED, Redactor, decode_bytes, decode_os, encode_bytes, encode_os, glob_match,
    redact_url_userinfo, redact_url_userinfo_str,
};
pub use files::{chain_files, lock_path, rotated_files};
pub use record::{Decision, EncodedRecord, Record, Severity, attr};
pub use verify::{
    Problem, ProblemKind, VerifyOptions, VerifyReport, Warning, verify, verify_with,
};
