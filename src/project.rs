//! The project's own declarations of its Go version, found from a directory upward.
//!
//! One walk from the start directory to the filesystem root records the nearest file of each
//! kind (`.go-version`, a `.tool-versions` with a go entry, `go.work`, `go.mod`); the caller
//! decides precedence. Only the few lines that matter are read: go reads go.mod's `go` and
//! `toolchain` lines the same way, without a full parse.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A line of a file: where a value was declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub value: String,
    pub path: PathBuf,
    pub line: usize,
}

impl Declared {
    pub fn location(&self) -> String {
        format!("{}:{}", self.path.display(), self.line)
    }
}

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

/// What the project directory and its parents declare.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// Where the search started: the working directory, or go's `-C dir`.
    pub dir: PathBuf,
    pub go_version: Option<Declared>,
    pub tool_versions: Option<Declared>,
    pub go_work: Option<ModFile>,
    pub go_mod: Option<ModFile>,
}

/// Which files to look for (the policy's `[resolve] files`).
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    pub go_version: bool,
    pub tool_versions: bool,
    pub go_work: bool,
    pub go_mod: bool,
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

/// The nearest version file of one kind: its version, or why it has none.
pub type Nearest = Option<std::result::Result<Declared, Invalid>>;

/// What one walk up from a directory found, each kind of file on its own, so that a broken
/// file hides no other (`gowarden check` reports them all; the shim refuses on the first).
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub dir: PathBuf,
    pub go_version: Nearest,
    pub tool_versions: Nearest,
    pub go_work: Option<ModFile>,
    pub go_mod: Option<ModFile>,
}

impl Scan {
    /// Walks up from `dir` to the filesystem root. `gowork` is the `GOWORK` value as go reads
    /// it: `off` disables go.work, an absolute path names it, empty or `auto` means search.
    /// `Err` only for a file that exists but cannot be read.
    pub fn walk(dir: &Path, wanted: Wanted, gowork: Option<&OsStr>) -> Result<Scan> {
        let mut scan = Scan {
            dir: dir.to_path_buf(),
            ..Scan::default()
        };
        let mut want_gv = wanted.go_version;
        let mut want_tv = wanted.tool_versions;
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
        for d in dir.ancestors() {
            if !(want_gv || want_tv || want_mod || want_work) {
                break;
            }
            if want_gv && let Some(found) = read_go_version(&d.join(".go-version"))? {
                scan.go_version = Some(found);
                want_gv = false;
            }
            if want_tv && let Some(found) = read_tool_versions(&d.join(".tool-versions"))? {
                scan.tool_versions = Some(found);
                want_tv = false;
            }
            if want_work {
                let p = d.join("go.work");
                if module_file_at(&p)? {
                    scan.go_work = Some(read_mod_file(&p)?);
                    want_work = false;
                }
            }
            if want_mod {
                let p = d.join("go.mod");
                if module_file_at(&p)? {
                    scan.go_mod = Some(read_mod_file(&p)?);
                    want_mod = false;
                }
            }
        }
        Ok(scan)
    }

    /// The project, or the first invalid version file as an error: the shim never skips one.
    pub fn into_project(self) -> Result<Project> {
        let valid = |n: Nearest| n.transpose().map_err(|i| i.error);
        Ok(Project {
            dir: self.dir,
            go_version: valid(self.go_version)?,
            tool_versions: valid(self.tool_versions)?,
            go_work: self.go_work,
            go_mod: self.go_mod,
        })
    }
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
            .or(self.go_version.as_ref().map(|d| d.path.as_path()))
            .and_then(Path::parent)
            .unwrap_or(&self.dir)
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

const GO_VERSION_FORMS: &str = "accepted forms: `1.22.10`, `go1.22.10`, `1.22` (newest installed 1.22.x), \
     `1.23rc1`, with `#` comment lines";

/// `.go-version`: one version, surrounding whitespace and `#` comment lines allowed. `None`
/// where there is no such file; `Err` where it cannot be read.
pub fn read_go_version(path: &Path) -> Result<Nearest> {
    let Some(text) = read_optional(path)? else {
        return Ok(None);
    };
    let invalid = |line: Option<usize>, message: String| {
        Some(Err(Invalid {
            path: path.to_path_buf(),
            line,
            error: Error::new(message),
        }))
    };
    let Ok(text) = String::from_utf8(text) else {
        return Ok(invalid(
            None,
            format!(
                "{}: not UTF-8 text; write the version as plain text",
                path.display()
            ),
        ));
    };
    let mut found: Option<Declared> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A trailing comment is not a form goenv or mise accept, so it is an error here too.
        if let Some(prev) = &found {
            return Ok(invalid(
                Some(i + 1),
                format!(
                    "{}:{}: a second version {line:?} (the first is {:?} on line {}); \
                     a .go-version names exactly one version ({GO_VERSION_FORMS})",
                    path.display(),
                    i + 1,
                    prev.value,
                    prev.line
                ),
            ));
        }
        if crate::resolve::VersionSpec::parse(line).is_none() {
            return Ok(invalid(
                Some(i + 1),
                format!(
                    "{}:{}: {line:?} is not a Go version; {GO_VERSION_FORMS}",
                    path.display(),
                    i + 1
                ),
            ));
        }
        found = Some(Declared {
            value: line.to_string(),
            path: path.to_path_buf(),
            line: i + 1,
        });
    }
    Ok(match found {
        Some(d) => Some(Ok(d)),
        None => invalid(
            None,
            format!(
                "{}: the file names no version; write one line such as `1.22.10` or delete the \
                 file ({GO_VERSION_FORMS})",
                path.display()
            ),
        ),
    })
}

/// `.tool-versions` (asdf, mise): the first version on a `golang` or `go` line. A file with no
/// such line is not a Go version source (`None`); the search goes on upward, as asdf does.
pub fn read_tool_versions(path: &Path) -> Result<Nearest> {
    let Some(text) = read_optional(path)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&text);
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        let Some(tool) = words.next() else { continue };
        if tool != "golang" && tool != "go" {
            continue;
        }
        let loc = format!("{}:{}", path.display(), i + 1);
        let invalid = |message: String| {
            Ok(Some(Err(Invalid {
                path: path.to_path_buf(),
                line: Some(i + 1),
                error: Error::new(message),
            })))
        };
        let Some(version) = words.next() else {
            return invalid(format!(
                "{loc}: `{tool}` names no version; write e.g. `golang 1.22.10`"
            ));
        };
        if crate::resolve::VersionSpec::parse(version).is_none() {
            return invalid(format!(
                "{loc}: {version:?} is not a Go version gowarden can resolve \
                 (`system`, `ref:` and `path:` entries are not supported); {GO_VERSION_FORMS}"
            ));
        }
        return Ok(Some(Ok(Declared {
            value: version.to_string(),
            path: path.to_path_buf(),
            line: i + 1,
        })));
    }
    Ok(None)
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
fn module_file_at(p: &Path) -> Result<bool> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Ok(false),
        Ok(m) if m.is_file() => Ok(true),
        Ok(_) => Err(Error::new(format!(
            "{}: not a regular file (a FIFO or device answers each reader differently, and go \
             reads it again after gowarden decided); replace it with a regular file",
            p.display()
        ))),
        Err(_) => Ok(false),
    }
}

fn key_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?;
    rest.starts_with([' ', '\t']).then(|| rest.trim())
}

/// A file's bytes; `None` where there is no such file (or a directory stands there). A
/// leading UTF-8 byte order mark (as editors on Windows write it) is dropped: `.go-version`
/// and `.tool-versions` are not go's files, and left in, the mark made `1.22.10` invalid and,
/// worse, hid a `.tool-versions` golang line. (go.mod is go's: go itself rejects a mark there.)
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
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
        Err(e) => Err(Error::io("cannot read", path, &e)),
    }
}
