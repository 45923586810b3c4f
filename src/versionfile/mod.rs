//! The files that pin a Go version for a directory tree, outside go's own go.mod and go.work:
//! one submodule per format, one [`Format`] variant each.
//!
//! A new format is a new file here with a [`Spec`], and a variant in [`Format`] (its place in
//! [`Format::ALL`] is its rank within one directory). Everything else (the walk, precedence,
//! `[resolve] files`, `gowarden which`, the fix advice, drift's watch list) reads the table.

mod go_version;
mod mise;
mod tool_versions;

use std::path::{Path, PathBuf};

use crate::dirat::{DirAt, Kind};
use crate::error::{Error, Result};

/// A line of a file: where a value was declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub value: String,
    pub path: PathBuf,
    pub line: usize,
}

impl Declared {
    pub fn location(&self) -> crate::location::Location {
        crate::location::Location::line(&self.path, self.line)
    }
}

/// A version file that is there but names no version gowarden can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: PathBuf,
    /// The offending line, where there is one.
    pub line: Option<usize>,
    /// The whole message: file, line, what was expected.
    pub error: Error,
}

/// One version file's declaration, or why it has none it could use.
pub type Found = std::result::Result<Declared, Invalid>;

/// The go.mod and go.work names, which [`crate::project`] reads with go's own rules.
pub const MOD_FILES: [&str; 2] = ["go.work", "go.mod"];

/// A pin file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    GoVersion,
    Mise,
    ToolVersions,
}

/// What a format is: its names, where it lives in a directory, how it is read.
pub struct Spec {
    /// Its name in the policy's `[resolve] files`.
    pub name: &'static str,
    /// Its machine-readable name (`gowarden which --json`, the audit record).
    pub kind: &'static str,
    /// The files it reads in one directory, relative to it, the highest precedence first.
    pub files: &'static [&'static str],
    /// Reads the bytes of one of [`Spec::files`] (a leading byte order mark dropped): `None`
    /// where it names no Go version (the search goes on upward).
    pub read: fn(&Path, Vec<u8>) -> Result<Option<Found>>,
    /// What to change there so that it names `target`.
    pub fix: fn(&Declared, &str) -> String,
}

impl Format {
    /// Every format, in the order they rank within one directory.
    pub const ALL: [Format; 3] = [Format::GoVersion, Format::Mise, Format::ToolVersions];

    pub fn spec(self) -> &'static Spec {
        match self {
            Format::GoVersion => &go_version::SPEC,
            Format::Mise => &mise::SPEC,
            Format::ToolVersions => &tool_versions::SPEC,
        }
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn kind(self) -> &'static str {
        self.spec().kind
    }

    /// The format named `name` in `[resolve] files`.
    pub fn named(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Every declaration of this format in `dir`, the highest precedence first.
    pub fn declarations_in(self, dir: &Path) -> Result<Vec<Found>> {
        self.declarations_at(&DirAt::open(dir))
    }

    /// [`Format::declarations_in`] of a directory already open.
    pub fn declarations_at(self, dir: &DirAt<'_>) -> Result<Vec<Found>> {
        let mut out = Vec::new();
        // Whether each subdirectory is there, asked once: mise names four files under
        // `.config/mise/` alone, and the walk runs on every go call.
        let mut subdirs: [(&str, bool); 4] = [("", false); 4];
        let mut known = 0;
        for file in self.spec().files {
            // A file under a subdirectory that is not there is not opened: most directories
            // have none of mise's.
            if let Some((sub, _)) = file.rsplit_once('/') {
                let there = match subdirs[..known].iter().find(|(s, _)| *s == sub) {
                    Some(&(_, there)) => there,
                    None => {
                        let there = dir.kind(sub) == Some(Kind::Dir);
                        if known < subdirs.len() {
                            subdirs[known] = (sub, there);
                            known += 1;
                        }
                        there
                    }
                };
                if !there {
                    continue;
                }
            }
            // The path is made only for a file that is there: the walk probes every level up
            // to `/`, and a 40-level directory's path is 250 bytes to copy per probe.
            let Some(bytes) = read_optional(dir, file)? else {
                continue;
            };
            let path = dir.path().join(file);
            if let Some(found) = (self.spec().read)(&path, bytes)? {
                out.push(found);
            }
        }
        Ok(out)
    }
}

/// A set of formats (the ones the policy lets choose the version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Formats(u8);

impl Formats {
    pub const ALL: Formats = Formats((1 << Format::ALL.len()) - 1);
    pub const NONE: Formats = Formats(0);

    fn bit(f: Format) -> u8 {
        1 << Format::ALL.iter().position(|&g| g == f).unwrap_or(0)
    }

    pub fn with(self, f: Format) -> Formats {
        Formats(self.0 | Formats::bit(f))
    }

    pub fn contains(self, f: Format) -> bool {
        self.0 & Formats::bit(f) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Format> {
        Format::ALL.into_iter().filter(move |&f| self.contains(f))
    }
}

/// The names `[resolve] files` accepts, in their order of precedence within one directory.
pub fn policy_names() -> impl Iterator<Item = &'static str> {
    Format::ALL.into_iter().map(Format::name).chain(MOD_FILES)
}

/// Every name whose creation, change or removal in a directory can change what is pinned
/// there (a subdirectory such as `.config` counts: creating it can bring a pin).
pub fn watched_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Format::ALL
        .into_iter()
        .flat_map(|f| f.spec().files.iter())
        .flat_map(|file| file.split('/'))
        .chain(MOD_FILES)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The subdirectories, relative to a directory, that hold pin files (`.config`,
/// `.config/mise`, `mise`, `.mise`): drift watches them too.
pub fn pin_subdirs() -> Vec<&'static str> {
    let mut dirs: Vec<&'static str> = Format::ALL
        .into_iter()
        .flat_map(|f| f.spec().files.iter())
        .filter_map(|file| file.rsplit_once('/').map(|(dir, _)| dir))
        .flat_map(|dir| {
            // Each level: creating `.config` must be seen before `.config/mise` can be.
            dir.match_indices('/')
                .map(|(i, _)| &dir[..i])
                .chain(std::iter::once(dir))
        })
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    dirs
}

/// The accepted forms of a version, for messages.
pub(crate) const VERSION_FORMS: &str = "accepted forms: `1.22.10`, `go1.22.10`, `1.22` (newest installed 1.22.x), \
     `1.23rc1`, with `#` comment lines";

/// A file's text; `None` where there is no such file (or a directory stands there). A leading
/// UTF-8 byte order mark (as editors on Windows write it) is dropped: these are not go's files,
/// and left in, the mark made `1.22.10` invalid and, worse, hid a `.tool-versions` golang line.
/// (go.mod is go's: go itself rejects a mark there.)
fn read_optional(dir: &DirAt<'_>, file: &str) -> Result<Option<Vec<u8>>> {
    match dir.read(file) {
        Ok(bytes) => Ok(Some(match bytes.strip_prefix(b"\xef\xbb\xbf") {
            Some(rest) => rest.to_vec(),
            None => bytes,
        })),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::NotADirectory
                    | std::io::ErrorKind::IsADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(Error::io("cannot read", &dir.path().join(file), &e)),
    }
}

fn invalid(path: &Path, line: Option<usize>, message: String) -> Option<Found> {
    Some(Err(Invalid {
        path: path.to_path_buf(),
        line,
        error: Error::new(message),
    }))
}

fn declared(path: &Path, line: usize, value: &str) -> Option<Found> {
    Some(Ok(Declared {
        value: value.to_string(),
        path: path.to_path_buf(),
        line,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_in_the_table_once() {
        let names: Vec<_> = policy_names().collect();
        assert_eq!(
            names,
            [
                ".go-version",
                "mise.toml",
                ".tool-versions",
                "go.work",
                "go.mod"
            ]
        );
        for f in Format::ALL {
            assert_eq!(Format::named(f.name()), Some(f));
            assert!(Formats::ALL.contains(f));
            assert!(!Formats::NONE.contains(f));
        }
        assert_eq!(Formats::ALL.iter().count(), Format::ALL.len());
        assert_eq!(pin_subdirs(), [".config", ".config/mise", ".mise", "mise"]);
    }
}
