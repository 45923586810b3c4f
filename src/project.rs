//! The project's own declarations of its Go version, found from a directory upward.
//!
//! One walk from the start directory upward reads the pin files ([`crate::versionfile`]) of
//! each directory until one declares a version, and goes on only as far as go itself does for
//! go.work and go.mod. The nearest declaration wins ([`Project::declarations`]). Only the few
//! go.mod lines that matter are read: go reads its `go` and `toolchain` lines the same way,
//! without a full parse.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::dirat::{DirAt, Kind};
use crate::error::{Error, Result};
pub use crate::versionfile::{Declared, Invalid};
use crate::versionfile::{Format, Formats};

/// A go.mod or go.work file: its `module`, `go` and `toolchain` lines, and the directives
/// that choose which code is built ([`crate::gomod`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModFile {
    pub path: PathBuf,
    /// The module path as go's grammar reads it (block form, quotes and comments included).
    pub module: Option<Declared>,
    pub go: Option<Declared>,
    pub toolchain: Option<Declared>,
    /// `replace` directives.
    pub replaces: Vec<crate::gomod::Replace>,
    /// go.work `use` directories, as written (relative to the file's directory).
    pub uses: Vec<Declared>,
    /// `require` directives (go.mod).
    pub requires: Vec<crate::gomod::Require>,
    /// go's complaints about the file's directives ([`crate::gomod::ModSyntax::errors`]).
    pub syntax_errors: Vec<String>,
    /// `tool` directives (Go 1.24+): the package path and its line.
    pub tools: Vec<Declared>,
}

/// A pin file's version: which format, in which directory of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub format: Format,
    /// The directory whose pin it is (`.config/mise.toml` pins its parent's parent).
    pub dir: PathBuf,
    pub declared: Declared,
}

/// What the project directory and its parents declare.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// Where the search started: the working directory, or go's `-C dir`.
    pub dir: PathBuf,
    /// The pin files of the nearest directory that has any, in their order of precedence.
    pub pins: Vec<Pin>,
    pub go_work: Option<ModFile>,
    pub go_mod: Option<ModFile>,
}

/// Which files to look for (the policy's `[resolve] files`).
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    pub formats: Formats,
    pub go_work: bool,
    pub go_mod: bool,
}

impl Wanted {
    pub const ALL: Wanted = Wanted {
        formats: Formats::ALL,
        go_work: true,
        go_mod: true,
    };
}

/// A declaration that can choose the version: a pin file, or the `toolchain` line of the
/// go.work or go.mod go honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declaration<'a> {
    Pin(&'a Pin),
    Toolchain(&'a Declared),
}

impl Declaration<'_> {
    pub fn declared(&self) -> &Declared {
        match self {
            Declaration::Pin(p) => &p.declared,
            Declaration::Toolchain(t) => t,
        }
    }
}

/// What one walk up from a directory found, each file on its own, so that a broken file hides
/// no other (`gowarden check` reports them all; the shim refuses on the first).
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub dir: PathBuf,
    /// The pin files of the nearest directory with any (valid or not), in precedence order.
    pub pins: Vec<std::result::Result<Pin, Invalid>>,
    /// That directory: where an invalid pin stands when no valid one says.
    pub pin_dir: Option<PathBuf>,
    pub go_work: Option<ModFile>,
    pub go_mod: Option<ModFile>,
}

impl Scan {
    /// Walks up from `dir` to the first directory with a pin file, and on for go.work and
    /// go.mod as go looks for them. `gowork` is the `GOWORK` value as go reads it: `off`
    /// disables go.work, an absolute path names it, empty or `auto` means search. `Err` only
    /// for a file that exists but cannot be read.
    pub fn walk(dir: &Path, wanted: Wanted, gowork: Option<&OsStr>) -> Result<Scan> {
        Scan::walk_from(dir, false, wanted, gowork)
    }

    /// [`Scan::walk`] from a `dir` known to be a real path (the working directory as getcwd(2)
    /// gives it, a canonicalized `-C`), which spares the walk a readlink to find that out.
    pub fn walk_real(dir: &Path, wanted: Wanted, gowork: Option<&OsStr>) -> Result<Scan> {
        Scan::walk_from(dir, true, wanted, gowork)
    }

    fn walk_from(dir: &Path, real: bool, wanted: Wanted, gowork: Option<&OsStr>) -> Result<Scan> {
        let mut scan = Scan {
            dir: dir.to_path_buf(),
            ..Scan::default()
        };
        let mut want_pins = !wanted.formats.is_empty();
        let mut want_mod = wanted.go_mod;
        let mut want_work = wanted.go_work;
        match gowork.and_then(|g| g.to_str()) {
            Some("off") => want_work = false,
            None | Some("") | Some("auto") => {}
            Some(_) => {
                want_work = false;
                let path = PathBuf::from(gowork.unwrap_or_default());
                // go itself rejects a relative GOWORK; it is then no version source of ours.
                if path.is_absolute() && path.is_file() {
                    scan.go_work = Some(read_mod_file(&path)?);
                }
            }
        }
        let mut level: Option<DirAt<'_>> = None;
        for d in dir.ancestors() {
            if !(want_pins || want_mod || want_work) {
                break;
            }
            let at = match level.take() {
                None if real => DirAt::open_real(d),
                None => DirAt::open(d),
                Some(below) => below.parent(d),
            };
            let at = level.insert(at);
            if want_pins {
                for format in wanted.formats.iter() {
                    for found in format.declarations_at(at)? {
                        scan.pins.push(found.map(|declared| Pin {
                            format,
                            dir: d.to_path_buf(),
                            declared,
                        }));
                    }
                }
                want_pins = scan.pins.is_empty();
                if !want_pins {
                    scan.pin_dir = Some(d.to_path_buf());
                }
            }
            if want_work && module_file_in(at, "go.work")? {
                scan.go_work = Some(read_mod_file(&d.join("go.work"))?);
                want_work = false;
            }
            if want_mod && module_file_in(at, "go.mod")? {
                scan.go_mod = Some(read_mod_file(&d.join("go.mod"))?);
                want_mod = false;
            }
        }
        Ok(scan)
    }

    /// The project, or the first invalid pin file as an error: the shim never skips one
    /// that could be in force. (Under a nearer `toolchain` line none is: it overrides them.)
    pub fn into_project(self) -> Result<Project> {
        // The directory of the pins, valid or not: an invalid pin nearer than (or beside) the
        // toolchain line is in force, and must not be skipped for the line farther up.
        let pin_dir = self.pin_dir.as_ref();
        let overridden = active_toolchain(self.go_work.as_ref(), self.go_mod.as_ref())
            .is_some_and(|t| pin_dir.is_none_or(|d| nearer(t, d)));
        let mut pins = Vec::new();
        for pin in self.pins {
            match pin {
                Ok(p) => pins.push(p),
                Err(_) if overridden => {}
                Err(invalid) => return Err(invalid.error.invalid_version()),
            }
        }
        Ok(Project {
            dir: self.dir,
            pins,
            go_work: self.go_work,
            go_mod: self.go_mod,
        })
    }
}

/// The `toolchain` line go honours: go.work's over go.mod's, never `default`.
fn active_toolchain<'a>(
    work: Option<&'a ModFile>,
    module: Option<&'a ModFile>,
) -> Option<&'a Declared> {
    work.or(module)?
        .toolchain
        .as_ref()
        .filter(|t| t.value != "default")
}

/// Whether the file of `t` is in a directory below `pin_dir` (nearer the start of the walk).
fn nearer(t: &Declared, pin_dir: &Path) -> bool {
    let dir = t.path.parent().unwrap_or(Path::new(""));
    dir != pin_dir && dir.starts_with(pin_dir)
}

/// The directory go works in after `-C dir` (`go build -C ../other`): `dir` joined to `cwd`
/// and resolved as the kernel's chdir resolves it (each symlink, then `..`), which is what
/// cmd/go's `os.Chdir` gets. The upward search for version files must start from this real
/// path: from the joined path its lexical ancestors would pass through `cwd` itself and find
/// the current project's `.go-version`. A `dir` that does not exist or is not a directory is
/// an error, as it is for go (`go: chdir DIR: no such file or directory`).
pub fn resolve_chdir(cwd: &Path, dir: &Path) -> Result<PathBuf> {
    let joined = cwd.join(dir);
    let fail = |why: &dyn std::fmt::Display| {
        Error::new(format!(
            "-C {}: cannot change to {}: {why}; name an existing directory",
            dir.display(),
            joined.display()
        ))
    };
    let real = joined.canonicalize().map_err(|e| fail(&e))?;
    if !real.is_dir() {
        return Err(fail(&"not a directory"));
    }
    Ok(real)
}

impl Project {
    /// Walks up from `dir` ([`Scan::walk`]); an invalid version file is an error.
    pub fn discover(dir: &Path, wanted: Wanted, gowork: Option<&OsStr>) -> Result<Project> {
        Scan::walk(dir, wanted, gowork)?.into_project()
    }

    /// [`Project::discover`] from a real path ([`Scan::walk_real`]).
    pub fn discover_real(dir: &Path, wanted: Wanted, gowork: Option<&OsStr>) -> Result<Project> {
        Scan::walk_real(dir, wanted, gowork)?.into_project()
    }

    /// The file whose `go`/`toolchain` lines go itself would honour: go.work wins over go.mod.
    pub fn active_mod_file(&self) -> Option<&ModFile> {
        self.go_work.as_ref().or(self.go_mod.as_ref())
    }

    /// The repository root as far as gowarden cares: the dir of go.work, else go.mod, else
    /// the version file, else the start dir.
    pub fn root(&self) -> &Path {
        self.go_work
            .as_ref()
            .map(|m| m.path.as_path())
            .or(self.go_mod.as_ref().map(|m| m.path.as_path()))
            .and_then(Path::parent)
            .or(self.pins.first().map(|p| p.dir.as_path()))
            .unwrap_or(&self.dir)
    }

    /// The declarations that can choose the version, the one that does first: the nearest
    /// wins, so a go.mod `toolchain` line in a subdirectory beats a `.go-version` above it;
    /// within one directory pin files come first, in [`Format::ALL`] order. The `toolchain`
    /// line counts only in the file go honours ([`Project::active_mod_file`]), and not as
    /// `default`.
    pub fn declarations(&self) -> Vec<Declaration<'_>> {
        let mut out: Vec<Declaration<'_>> = self.pins.iter().map(Declaration::Pin).collect();
        if let Some(t) = active_toolchain(self.go_work.as_ref(), self.go_mod.as_ref()) {
            let wins = self.pins.first().is_none_or(|p| nearer(t, &p.dir));
            out.insert(if wins { 0 } else { out.len() }, Declaration::Toolchain(t));
        }
        out
    }
}

/// The main modules go builds (cmd/go modload): with a workspace, the module of each `use`
/// directory's go.mod (a directory without a readable go.mod is go's error, skipped here);
/// without one, the go.mod's module.
pub fn main_modules(work: Option<&ModFile>, go_mod: Option<&ModFile>) -> Vec<Declared> {
    match work {
        Some(w) => w
            .uses
            .iter()
            .filter_map(|u| {
                let dir = crate::gomod::resolve_dir(&w.path, &u.value);
                read_mod_file(&dir.join("go.mod")).ok()?.module
            })
            .collect(),
        None => go_mod.and_then(|m| m.module.clone()).into_iter().collect(),
    }
}

/// Reads go.mod/go.work: the `go` and `toolchain` lines the way go's toolchain selection does
/// (the first line whose text starts with the key followed by a space or tab, `//` comments
/// dropped, value trimmed: cmd/go/internal/gover `GoModLookup`), and `module`, `replace` and
/// `use` with go's full grammar ([`crate::gomod`]), which is how go decides what it builds.
pub fn read_mod_file(path: &Path) -> Result<ModFile> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, &e))?;
    let syntax = crate::gomod::parse(&text);
    let mut m = ModFile {
        path: path.to_path_buf(),
        module: syntax.module.map(|(value, line)| Declared {
            value,
            path: path.to_path_buf(),
            line,
        }),
        replaces: syntax.replaces,
        requires: syntax.requires,
        tools: syntax
            .tools
            .into_iter()
            .map(|(value, line)| Declared {
                value,
                path: path.to_path_buf(),
                line,
            })
            .collect(),
        syntax_errors: syntax.errors,
        uses: syntax
            .uses
            .into_iter()
            .map(|(value, line)| Declared {
                value,
                path: path.to_path_buf(),
                line,
            })
            .collect(),
        ..ModFile::default()
    };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        let decl = |rest: &str| Declared {
            value: rest.trim().trim_matches('"').to_string(),
            path: path.to_path_buf(),
            line: i + 1,
        };
        if m.go.is_none()
            && let Some(rest) = key_value(line, "go")
        {
            m.go = Some(decl(rest));
        } else if m.toolchain.is_none()
            && let Some(rest) = key_value(line, "toolchain")
        {
            m.toolchain = Some(decl(rest));
        }
    }
    Ok(m)
}

/// Whether go would take `p` as its go.mod/go.work: anything there that is not a directory
/// (modload `findModuleRoot` stats it and skips only directories). One that is not a regular
/// file (a FIFO) could answer go differently from gowarden: an error, never skipped.
/// Whether `dir` has a regular file `name` (asked of every level of the walk, so its path is
/// made only for the error).
fn module_file_in(dir: &DirAt<'_>, name: &str) -> Result<bool> {
    match dir.kind(name) {
        Some(Kind::Dir) | None => Ok(false),
        Some(Kind::File) => Ok(true),
        Some(Kind::Other) => Err(Error::new(format!(
            "{}: not a regular file (a FIFO or device answers each reader differently, and go \
             reads it again after gowarden decided); replace it with a regular file",
            dir.path().join(name).display()
        ))),
    }
}

fn key_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?;
    rest.starts_with([' ', '\t']).then(|| rest.trim())
}
