//! Which version of a tool a project runs, in this order:
//! 1. a go.mod `tool` directive (Go 1.24+) of a main module (go.mod, or each module a
//!    go.work `use`s), with the version of the `require` that provides its package (in a
//!    workspace, the highest any main module requires, as go's MVS picks);
//! 2. a `tools.go`-style blank import (`import _ "pkg"`) in `tools.go`, `tools/tools.go` or
//!    `internal/tools/tools.go` of a main module, with its `require` version;
//! 3. the policy's `[tools]` pin;
//!
//! else nothing pins it, and the tool shim refuses with the `go get -tool` that fixes it.
//! Only those few files are read: the shim walks no directory.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::policy::LoadedPolicy;
use crate::project::ModFile;

/// Where a pin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A `tool` directive at `file:line`; the version from the `require` at `require`.
    ToolDirective {
        file: PathBuf,
        line: usize,
        require: (PathBuf, usize),
    },
    /// A blank import at `file:line`; the version from the `require` at `require`.
    ToolsGo {
        file: PathBuf,
        line: usize,
        require: (PathBuf, usize),
    },
    /// The policy's `[tools]` entry at `location`.
    Policy { location: crate::location::Location },
}

impl Source {
    /// Short name for the audit record and `gowarden tool list`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::ToolDirective { .. } => "tool-directive",
            Source::ToolsGo { .. } => "tools.go",
            Source::Policy { .. } => "policy",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = |p: &Path, l: usize| format!("{}:{l}", p.display());
        match self {
            Source::ToolDirective {
                file,
                line,
                require,
            } => write!(
                f,
                "tool directive {} (version: require {})",
                at(file, *line),
                at(&require.0, require.1)
            ),
            Source::ToolsGo {
                file,
                line,
                require,
            } => write!(
                f,
                "blank import {} (version: require {})",
                at(file, *line),
                at(&require.0, require.1)
            ),
            Source::Policy { location } => write!(f, "policy [tools] {location}"),
        }
    }
}

/// A tool at one version of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub name: String,
    /// The package go builds (`golang.org/x/tools/gopls`).
    pub package: String,
    /// The module that provides it, where a `require` said so.
    pub module: Option<String>,
    pub version: String,
    pub source: Source,
}

impl Pin {
    /// `pkg@version`, what `go install` builds.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.package, self.version)
    }
}

/// The go.mod files of the main modules: go.work's `use`d modules, else go.mod.
pub fn main_modules(go_work: Option<&ModFile>, go_mod: Option<&ModFile>) -> Result<Vec<ModFile>> {
    match go_work {
        Some(work) => {
            let mut out = Vec::new();
            for u in &work.uses {
                let p = crate::gomod::resolve_dir(&work.path, &u.value).join("go.mod");
                match crate::project::read_mod_file(&p) {
                    Ok(m) => out.push(m),
                    // go refuses such a workspace itself; it pins nothing.
                    Err(_) if !p.exists() => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
        None => Ok(go_mod.cloned().into_iter().collect()),
    }
}

/// The version the main modules require of the module that provides `pkg`: the longest
/// required module path that is `pkg` or a prefix of it, the highest version of it.
fn required(mods: &[ModFile], pkg: &str) -> Option<(String, String, PathBuf, usize)> {
    let mut best: Option<(String, String, PathBuf, usize)> = None;
    for m in mods {
        for crate::gomod::Require {
            path,
            version,
            line,
        } in &m.requires
        {
            let provides = pkg == path
                || (pkg.starts_with(path.as_str())
                    && pkg.as_bytes().get(path.len()) == Some(&b'/'));
            if !provides {
                continue;
            }
            let better = match &best {
                None => true,
                Some((bp, bv, ..)) => {
                    path.len() > bp.len()
                        || (path.len() == bp.len()
                            && crate::tools::semver::compare(version, bv).is_gt())
                }
            };
            if better {
                best = Some((path.clone(), version.clone(), m.path.clone(), *line));
            }
        }
    }
    best
}

/// A `replace` of the tool's module: `go tool` would build the replacement, which a build
/// from the module proxy at the pinned version would not be.
fn replaced(mods: &[ModFile], module: &str) -> Option<(PathBuf, usize)> {
    mods.iter().find_map(|m| {
        m.replaces
            .iter()
            .find(|r| r.old == module)
            .map(|r| (m.path.clone(), r.line))
    })
}

fn from_package(
    name: &str,
    mods: &[ModFile],
    pkg: &str,
    at: (&Path, usize),
    tools_go: bool,
) -> Result<Pin> {
    let Some((module, version, req_file, req_line)) = required(mods, pkg) else {
        return Err(Error::new(format!(
            "{}:{}: {pkg} is declared as a tool but no `require` provides its module: run `go \
             get -tool {pkg}@VERSION` (with the version to pin) in {}",
            at.0.display(),
            at.1,
            at.0.parent().unwrap_or(Path::new(".")).display()
        )));
    };
    if let Some((file, line)) = replaced(mods, &module) {
        return Err(Error::new(format!(
            "{}:{line}: a replace of {module} (which provides the tool {name}): gowarden builds \
             tools from the module proxy at the pinned version, which is not what this \
             replacement holds; remove the replace, or pin the version you mean to run",
            file.display()
        )));
    }
    let require = (req_file, req_line);
    let (file, line) = (at.0.to_path_buf(), at.1);
    Ok(Pin {
        name: name.to_string(),
        package: pkg.to_string(),
        module: Some(module),
        version,
        source: if tools_go {
            Source::ToolsGo {
                file,
                line,
                require,
            }
        } else {
            Source::ToolDirective {
                file,
                line,
                require,
            }
        },
    })
}

/// The `tools.go`-style files of a module, by convention.
const TOOLS_GO: [&str; 3] = ["tools.go", "tools/tools.go", "internal/tools/tools.go"];

/// The blank imports of a Go file: `(package path, line)` for each `_ "path"` of an import
/// declaration.
pub fn blank_imports(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        let spec = if in_block {
            if line.starts_with(')') {
                in_block = false;
                continue;
            }
            line
        } else if let Some(rest) = line.strip_prefix("import") {
            let rest = rest.trim_start();
            match rest.strip_prefix('(') {
                Some(inner) => {
                    in_block = true;
                    inner.trim()
                }
                None => rest,
            }
        } else {
            continue;
        };
        if let Some(rest) = spec.strip_prefix('_') {
            let rest = rest.trim();
            if let Some(path) = rest
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .map(|(p, _)| p)
            {
                out.push((path.to_string(), i + 1));
            }
        }
    }
    out
}

/// The project's pin of `name` ([`crate::policy::tools::pins`] module docs), `None` if nothing pins
/// it. An error is a pin that is there but cannot be used (no `require`, a replace).
pub fn resolve(
    loaded: &LoadedPolicy,
    go_work: Option<&ModFile>,
    go_mod: Option<&ModFile>,
    name: &str,
) -> Result<Option<Pin>> {
    let mods = main_modules(go_work, go_mod)?;
    for m in &mods {
        if let Some(t) = m
            .tools
            .iter()
            .find(|t| crate::tools::exec_name(&t.value) == name)
        {
            return from_package(name, &mods, &t.value, (&t.path, t.line), false).map(Some);
        }
    }
    for m in &mods {
        let Some(root) = m.path.parent() else {
            continue;
        };
        for rel in TOOLS_GO {
            let file = root.join(rel);
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            if let Some((pkg, line)) = blank_imports(&text)
                .into_iter()
                .find(|(p, _)| crate::tools::exec_name(p) == name)
            {
                return from_package(name, &mods, &pkg, (&file, line), true).map(Some);
            }
        }
    }
    Ok(super::policy_pin(loaded, name).map(|p| Pin {
        name: p.name,
        package: p.package,
        module: None,
        version: p.version,
        source: Source::Policy {
            location: p.location,
        },
    }))
}

/// The refusal message for a tool nothing pins: the exact fix.
pub fn unpinned_message(loaded: &LoadedPolicy, name: &str, dir: &Path, has_go_mod: bool) -> String {
    let pkg = super::default_package(loaded, name);
    let fix = match (&pkg, has_go_mod) {
        (Some(pkg), true) => format!(
            "pin it for the project: `go get -tool {pkg}@VERSION` (Go 1.24+, writes a `tool` \
             line and its `require` to go.mod), or ask for a company-wide pin in the policy's \
             [tools]"
        ),
        (Some(pkg), false) => format!(
            "run it in a module that pins it (`go get -tool {pkg}@VERSION`), or ask for a \
             company-wide pin in the policy's [tools] ({name} = \"{pkg}@VERSION\")"
        ),
        (None, _) => "add a `tool` line for it to go.mod (`go get -tool PACKAGE@VERSION`), or a \
                      company-wide pin to the policy's [tools]"
            .to_string(),
    };
    format!(
        "{name}: no version of {name} is pinned for {} (no go.mod `tool` directive, no \
         tools.go import, no [tools] pin in the policy {}); {fix}",
        dir.display(),
        loaded.origin.file_name()
    )
}

/// What a project pins, for `gowarden check` (issue 15 wires it into its scanner).
#[derive(Debug, Clone, Default)]
pub struct ProjectTools {
    /// Every governed tool and every tool the project declares, with its pin.
    pub pins: Vec<Pin>,
    /// Every tool the policy governs (built-in and `[tools]`).
    pub governed: Vec<String>,
    /// Governed tools nothing pins (neither the project nor the policy).
    pub unpinned: Vec<String>,
    /// Pins that are there but unusable (`file:line: why`).
    pub errors: Vec<String>,
}

impl ProjectTools {
    /// Whether a tool `name` found in the repository's scripts is one the project does not
    /// pin but should: governed, and pinned by neither the project nor the policy.
    pub fn is_unpinned(&self, name: &str) -> bool {
        self.unpinned.iter().any(|n| n == name)
    }
}

/// The pins of the project around `dir` under `loaded`: for `gowarden check`, which reports
/// tools its scanner finds in CI scripts and Makefiles that the project does not pin.
pub fn project_tools(dir: &Path, loaded: &LoadedPolicy) -> Result<ProjectTools> {
    let wanted = crate::project::Wanted {
        formats: crate::versionfile::Formats::NONE,
        go_work: true,
        go_mod: true,
    };
    let gowork = crate::environ::var_os(crate::envvars::GOWORK);
    let scan = crate::project::Scan::walk(dir, wanted, gowork)?;
    let mods = main_modules(scan.go_work.as_ref(), scan.go_mod.as_ref())?;
    let mut names = super::governed(loaded);
    for m in &mods {
        for t in &m.tools {
            let n = crate::tools::exec_name(&t.value).to_string();
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let mut out = ProjectTools {
        governed: super::governed(loaded),
        ..ProjectTools::default()
    };
    for n in names {
        match resolve(loaded, scan.go_work.as_ref(), scan.go_mod.as_ref(), &n) {
            Ok(Some(p)) => out.pins.push(p),
            Ok(None) => out.unpinned.push(n),
            Err(e) => out.errors.push(e.to_string()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_imports_of_a_tools_file() {
        let text = "//go:build tools\n\npackage tools\n\nimport (\n\t_ \"golang.org/x/tools/cmd/stringer\" // pinned\n\t\"fmt\"\n)\nimport _ \"honnef.co/go/tools/cmd/staticcheck\"\n";
        assert_eq!(
            blank_imports(text),
            vec![
                ("golang.org/x/tools/cmd/stringer".to_string(), 6),
                ("honnef.co/go/tools/cmd/staticcheck".to_string(), 9)
            ]
        );
    }

    #[test]
    fn the_longest_require_provides_the_package() {
        let m = ModFile {
            path: "/p/go.mod".into(),
            requires: vec![
                crate::gomod::Require {
                    path: "golang.org/x/tools".into(),
                    version: "v0.30.0".into(),
                    line: 4,
                },
                crate::gomod::Require {
                    path: "golang.org/x/tools/gopls".into(),
                    version: "v0.23.0".into(),
                    line: 5,
                },
            ],
            ..ModFile::default()
        };
        let r = required(std::slice::from_ref(&m), "golang.org/x/tools/gopls").unwrap();
        assert_eq!(
            (r.0.as_str(), r.1.as_str(), r.3),
            ("golang.org/x/tools/gopls", "v0.23.0", 5)
        );
        let r = required(std::slice::from_ref(&m), "golang.org/x/tools/cmd/stringer").unwrap();
        assert_eq!(r.1, "v0.30.0");
        assert!(required(&[m], "golang.org/x/toolsy/a").is_none());
    }

    #[test]
    fn project_tools_for_check() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("go.mod"),
            "module a\n\ngo 1.24\n\ntool golang.org/x/tools/cmd/stringer\ntool example.com/q/cmd/gen\n\nrequire golang.org/x/tools v0.30.0\n",
        )
        .unwrap();
        let policy = crate::policy::load::parse(
            "[tools]\ngopls = \"golang.org/x/tools/gopls@v0.23.0\"\n".into(),
            crate::policy::PolicyOrigin::Embedded,
        )
        .unwrap();
        let t = project_tools(dir.path(), &policy).unwrap();
        let pinned: Vec<(&str, &str, &str)> = t
            .pins
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.source.kind()))
            .collect();
        assert_eq!(
            pinned,
            [
                ("gopls", "v0.23.0", "policy"),
                ("stringer", "v0.30.0", "tool-directive")
            ]
        );
        assert_eq!(t.unpinned, ["staticcheck", "golangci-lint", "dlv"]);
        assert!(t.is_unpinned("dlv") && !t.is_unpinned("gopls"));
        assert_eq!(t.errors.len(), 1, "{:?}", t.errors);
        assert!(
            t.errors[0].contains("example.com/q/cmd/gen is declared as a tool but no `require`")
        );
    }
}
