//! A place in a file, as every layer reports one: a version file's line (a Go fact), a
//! finding of `gowarden check` or drift, the source of the version in force. One type, so a
//! location is never a `file:line` string that a reader has to split again.

use std::fmt;
use std::path::PathBuf;

/// A place in a file: the file, and where known the 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    pub fn file(file: impl Into<PathBuf>) -> Location {
        Location {
            file: file.into(),
            line: None,
            column: None,
        }
    }

    /// A location where the file is known; `None` without one.
    pub fn at(
        file: Option<PathBuf>,
        line: Option<usize>,
        column: Option<usize>,
    ) -> Option<Location> {
        file.map(|file| Location { file, line, column })
    }

    pub fn line(file: impl Into<PathBuf>, line: usize) -> Location {
        Location {
            file: file.into(),
            line: Some(line),
            column: None,
        }
    }
}

/// `file:line[:column]`, as compilers and the policy's messages write a place.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        Ok(())
    }
}
