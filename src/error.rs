//! The one error type of gowarden.
//!
//! A plain message, built where the facts are known (file, line, what was expected, the fix),
//! so that printing it is all the caller has to do. It deliberately captures no backtrace:
//! `RUST_BACKTRACE=1` is common in users' environments and a captured backtrace costs
//! milliseconds on the shim's hot path.

use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    kind: ErrorKind,
}

/// What went wrong, where a caller decides by it: the shim audits a malformed declared
/// version under its own rule (`version.invalid`) rather than as a plain error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Other,
    /// A version file, a go.mod `go`/`toolchain` line or `$GOWARDEN_GO_VERSION` holds
    /// something that is not a Go version.
    InvalidVersion,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            kind: ErrorKind::Other,
        }
    }

    /// The same error, as a malformed declared version.
    pub fn invalid_version(self) -> Self {
        Error {
            kind: ErrorKind::InvalidVersion,
            ..self
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// An I/O failure on `path`, with what we were trying to do.
    pub fn io(doing: &str, path: &Path, err: &std::io::Error) -> Self {
        Error::new(format!("{doing} {}: {err}", path.display()))
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Adds context in front: `context: original`.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Error {
            message: format!("{context}: {}", self.message),
            kind: self.kind,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
