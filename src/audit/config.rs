//! Settings of the audit log, shared with the policy schema.

use std::path::PathBuf;

use serde::Deserialize;

use super::escape::Redactor;

/// How far a record must have travelled before [`append`](super::append) returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// The record is in the kernel (one `write(2)`): every reader sees it and it survives the
    /// process being killed, but not a power loss. Costs microseconds.
    #[default]
    Flush,
    /// As `Flush`, then `fdatasync(2)` on the log (and `fsync(2)` on its directory when the
    /// file was just created or rotated): the record survives a power loss. Costs as much as
    /// the disk takes, often milliseconds.
    Fsync,
}

/// What the shim does when the record cannot be appended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Refuse to run go (fail closed).
    #[default]
    Deny,
    /// Warn on stderr and run go anyway (fail open, an explicit policy choice).
    Allow,
}

/// Which go invocations are audited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Commands {
    #[default]
    All,
    /// Only commands that change something (build outputs, modules, the go env); the go
    /// command-line grammar decides which those are.
    Mutating,
}

/// Where and how records are appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// The live log file. Its directory is created (0700) when missing; the file is created
    /// 0600. A sibling `<path>.lock` serialises appenders.
    pub path: PathBuf,
    pub durability: Durability,
    /// Rotate before a record would make the live file larger than this. A record is never
    /// split: a single record larger than the limit still goes into a file of its own.
    pub max_bytes: Option<u64>,
    /// Secret patterns applied when records are encoded.
    pub redact: Redactor,
}

impl LogConfig {
    /// Flush durability, no rotation, URL userinfo redaction only.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LogConfig {
            path: path.into(),
            durability: Durability::Flush,
            max_bytes: None,
            redact: Redactor::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Policy {
        durability: Durability,
        on_failure: OnFailure,
        commands: Commands,
    }

    #[test]
    fn enums_deserialize_lowercase() {
        let p: Policy = serde_json::from_str(
            r#"{"durability":"fsync","on_failure":"allow","commands":"mutating"}"#,
        )
        .unwrap();
        assert_eq!(p.durability, Durability::Fsync);
        assert_eq!(p.on_failure, OnFailure::Allow);
        assert_eq!(p.commands, Commands::Mutating);
        assert!(serde_json::from_str::<Durability>(r#""Fsync""#).is_err());
        assert_eq!(Durability::default(), Durability::Flush);
        assert_eq!(OnFailure::default(), OnFailure::Deny);
        assert_eq!(Commands::default(), Commands::All);
    }
}
