//! Which Go version this invocation asks for, and why.
//!
//! [`Request`] is the typed "why this toolchain": it carries the version spec and its
//! [`Source`], and drives both the explanation (`gowarden which`, refusals) and the shim's
//! choice. Precedence, first hit wins: the toolchain-switch handshake, `GOWARDEN_GO_VERSION`
//! (if the policy allows), the nearest pin ([`Project::declarations`]: a pin file or the
//! `toolchain` line of go.work or go.mod), their `go` line (as a minimum), the policy's
//! default, the newest installed release.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::location::Location;
use crate::project::{Declaration, Declared, Project};
use crate::version::GoVersion;
pub use crate::version::VersionSpec;
use crate::versionfile::Format;

/// Set by go on the inner half of a toolchain switch; the toolchain run must be exactly this.
pub const SWITCH_VERSION_ENV: &str = crate::envvars::SWITCH_VERSION;
/// Lets a user choose the version for one command, where the policy allows it.
pub const VERSION_ENV: &str = crate::envvars::GO_VERSION;

/// Where the version request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `GOTOOLCHAIN_INTERNAL_SWITCH_VERSION`: go is handing over to a named toolchain.
    SwitchHandshake,
    /// `GOWARDEN_GO_VERSION`.
    EnvOverride,
    /// A pin file ([`crate::versionfile`]).
    PinFile {
        format: Format,
        path: PathBuf,
        line: usize,
    },
    ToolchainLine {
        path: PathBuf,
        line: usize,
    },
    /// A go.mod/go.work `go` line; `line` is `None` when the line is missing and go's implied
    /// default applies.
    GoLine {
        path: PathBuf,
        line: Option<usize>,
    },
    /// The policy's `[toolchains] default`.
    PolicyDefault {
        policy: String,
        line: usize,
    },
    NewestInstalled,
    /// `gowarden toolchain install VERSION`: the version named on its command line.
    Install,
}

impl Source {
    /// A short machine-readable name (JSON, audit record).
    pub fn kind(&self) -> &'static str {
        match self {
            Source::SwitchHandshake => "switch-handshake",
            Source::EnvOverride => "env",
            Source::PinFile { format, .. } => format.kind(),
            Source::ToolchainLine { .. } => "toolchain-line",
            Source::GoLine { .. } => "go-line",
            Source::PolicyDefault { .. } => "policy-default",
            Source::NewestInstalled => "newest-installed",
            Source::Install => "install",
        }
    }

    /// The file and line, where the source is a file.
    pub fn location(&self) -> Option<Location> {
        match self {
            Source::PinFile { path, line, .. } | Source::ToolchainLine { path, line } => {
                Some(Location::line(path, *line))
            }
            Source::GoLine { path, line } => Some(Location {
                file: path.clone(),
                line: *line,
                column: None,
            }),
            Source::PolicyDefault { policy, line } => Some(Location::line(policy, *line)),
            _ => None,
        }
    }

    /// The project file and line, where the version came from one: [`Source::location`]
    /// without the policy's default, for findings a project can fix (annotations).
    pub fn project_location(&self) -> Option<Location> {
        match self {
            Source::PolicyDefault { .. } => None,
            other => other.location(),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::SwitchHandshake => {
                write!(f, "${SWITCH_VERSION_ENV} (go is switching toolchains)")
            }
            Source::EnvOverride => write!(f, "${VERSION_ENV}"),
            Source::PinFile { .. } => write!(
                f,
                "{}",
                self.location().map(|l| l.to_string()).unwrap_or_default()
            ),
            Source::ToolchainLine { .. } => {
                write!(
                    f,
                    "the toolchain line at {}",
                    self.location().map(|l| l.to_string()).unwrap_or_default()
                )
            }
            Source::GoLine { line: None, path } => {
                write!(f, "the implied go line of {}", path.display())
            }
            Source::GoLine { .. } => {
                write!(
                    f,
                    "the go line at {}",
                    self.location().map(|l| l.to_string()).unwrap_or_default()
                )
            }
            Source::PolicyDefault { .. } => {
                write!(
                    f,
                    "the policy default at {}",
                    self.location().map(|l| l.to_string()).unwrap_or_default()
                )
            }
            Source::NewestInstalled => {
                f.write_str("no version file found; the newest installed release")
            }
            Source::Install => f.write_str("the `gowarden toolchain install` command line"),
        }
    }
}

/// A version request: what was asked for, as written, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub spec: VersionSpec,
    /// The value as written in its source (`1.22`, `go1.22.3`).
    pub written: String,
    pub source: Source,
}

/// The inputs resolution needs besides the project files.
pub struct Inputs<'a> {
    pub switch_version: Option<&'a str>,
    pub env_override: Option<&'a str>,
    pub allow_env_override: bool,
    /// The policy default as (value, policy file, line).
    pub policy_default: Option<(&'a str, String, usize)>,
}

/// Chooses the request by precedence. Malformed values are errors naming their source, of
/// kind [`crate::error::ErrorKind::InvalidVersion`].
pub fn resolve(project: &Project, inputs: &Inputs<'_>) -> Result<Request> {
    choose(project, inputs).map_err(Error::invalid_version)
}

fn choose(project: &Project, inputs: &Inputs<'_>) -> Result<Request> {
    if let Some(v) = inputs.switch_version {
        // go's handshake names a toolchain (`go1.22.3`); anything else must not be guessed at.
        let parsed = GoVersion::parse_go(v)
            .filter(|p| !p.is_lang())
            .ok_or_else(|| {
                Error::new(format!(
                    "${SWITCH_VERSION_ENV}={v:?} is not a Go toolchain name such as go1.22.3"
                ))
            })?;
        return Ok(Request {
            spec: VersionSpec::Exact(parsed),
            written: v.to_string(),
            source: Source::SwitchHandshake,
        });
    }
    if inputs.allow_env_override
        && let Some(v) = inputs.env_override.filter(|v| !v.is_empty())
    {
        let spec = VersionSpec::parse(v).ok_or_else(|| {
            Error::new(format!(
                "${VERSION_ENV}={v:?} is not a Go version; use e.g. 1.22.10, go1.22.10 or 1.22"
            ))
        })?;
        return Ok(Request {
            spec,
            written: v.to_string(),
            source: Source::EnvOverride,
        });
    }
    match project.declarations().first() {
        Some(Declaration::Pin(p)) => {
            return from_declared(&p.declared, |path, line| Source::PinFile {
                format: p.format,
                path,
                line,
            });
        }
        Some(Declaration::Toolchain(t)) => return toolchain_line(t),
        None => {}
    }
    if let Some(m) = project.active_mod_file() {
        let is_work = m.path.file_name().is_some_and(|n| n == "go.work");
        return match &m.go {
            Some(g) => {
                let v = GoVersion::parse(&g.value).ok_or_else(|| {
                    Error::new(format!(
                        "{}: invalid go version {:?}; write e.g. `go 1.22` or `go 1.22.3`",
                        g.location(),
                        g.value
                    ))
                })?;
                Ok(Request {
                    spec: VersionSpec::AtLeast(v),
                    written: g.value.clone(),
                    source: Source::GoLine {
                        path: g.path.clone(),
                        line: Some(g.line),
                    },
                })
            }
            None => {
                // go's implied defaults for a missing go line.
                let implied = if is_work { "1.18" } else { "1.16" };
                Ok(Request {
                    spec: VersionSpec::AtLeast(GoVersion::parse(implied).unwrap_or_default()),
                    written: implied.into(),
                    source: Source::GoLine {
                        path: m.path.clone(),
                        line: None,
                    },
                })
            }
        };
    }
    if let Some((v, policy, line)) = &inputs.policy_default {
        let spec = VersionSpec::parse(v).ok_or_else(|| {
            Error::new(format!(
                "{policy}:{line}: [toolchains] default = {v:?} is not a Go version"
            ))
        })?;
        return Ok(Request {
            spec,
            written: v.to_string(),
            source: Source::PolicyDefault {
                policy: policy.clone(),
                line: *line,
            },
        });
    }
    Ok(Request {
        spec: VersionSpec::Newest,
        written: String::new(),
        source: Source::NewestInstalled,
    })
}

/// go.work's or go.mod's `toolchain` line: exactly that toolchain.
fn toolchain_line(t: &Declared) -> Result<Request> {
    let v = GoVersion::parse_go(&t.value).ok_or_else(|| {
        Error::new(format!(
            "{}: invalid toolchain {:?}; write e.g. `toolchain go1.22.3`",
            t.location(),
            t.value
        ))
    })?;
    let spec = if v.is_lang() {
        // go1.22 is a language version, not a toolchain: go itself treats it as 1.22.x.
        VersionSpec::Family(v)
    } else {
        VersionSpec::Exact(v)
    };
    Ok(Request {
        spec,
        written: t.value.clone(),
        source: Source::ToolchainLine {
            path: t.path.clone(),
            line: t.line,
        },
    })
}

fn from_declared(d: &Declared, source: impl Fn(PathBuf, usize) -> Source) -> Result<Request> {
    let spec = VersionSpec::parse(&d.value).ok_or_else(|| {
        Error::new(format!(
            "{}: {:?} is not a Go version",
            d.location(),
            d.value
        ))
    })?;
    Ok(Request {
        spec,
        written: d.value.clone(),
        source: source(d.path.clone(), d.line),
    })
}

#[cfg(test)]
mod tests {
    //! Which declaration wins, on real directory trees: the nearest pin across formats, the
    //! documented order within one directory, `go` lines as minimums, then the fallbacks.

    use std::path::Path;

    use super::*;
    use crate::project::Wanted;

    /// A tree under a temp dir: `files` as (relative path, text).
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    const NO_INPUTS: Inputs<'static> = Inputs {
        switch_version: None,
        env_override: None,
        allow_env_override: false,
        policy_default: None,
    };

    fn resolve_in(root: &Path, start: &str, inputs: &Inputs<'_>) -> Result<Request> {
        let project = Project::discover(&root.join(start), Wanted::ALL, None)?;
        resolve(&project, inputs)
    }

    /// What won, as `written` and the source's kind and file relative to the tree.
    fn winner(root: &Path, start: &str) -> (String, &'static str, String) {
        let r = resolve_in(root, start, &NO_INPUTS).unwrap();
        let at = r
            .source
            .location()
            .map(|l| l.to_string())
            .unwrap_or_default()
            .replace(&format!("{}/", root.display()), "");
        (r.written, r.source.kind(), at)
    }

    fn w(written: &str, kind: &'static str, at: &str) -> (String, &'static str, String) {
        (written.to_string(), kind, at.to_string())
    }

    #[test]
    fn a_nearer_toolchain_line_beats_a_pin_file_above_it() {
        let t = tree(&[
            (".go-version", "1.21.5\n"),
            ("svc/go.mod", "module m\n\ngo 1.22\n\ntoolchain go1.22.3\n"),
        ]);
        assert_eq!(
            winner(t.path(), "svc"),
            w("go1.22.3", "toolchain-line", "svc/go.mod:5")
        );
        // From the parent the go.mod below is not on the way up.
        assert_eq!(
            winner(t.path(), ""),
            w("1.21.5", "go-version-file", ".go-version:1")
        );
    }

    #[test]
    fn a_nearer_pin_file_beats_a_toolchain_line_above_it() {
        let t = tree(&[
            ("go.mod", "module m\n\ngo 1.22\n\ntoolchain go1.22.3\n"),
            ("svc/.mise.toml", "[tools]\ngo = \"1.23.1\"\n"),
        ]);
        assert_eq!(
            winner(t.path(), "svc"),
            w("1.23.1", "mise", "svc/.mise.toml:2")
        );
    }

    #[test]
    fn within_one_directory_the_documented_order_holds() {
        let all = [
            (".go-version", "1.21.5\n"),
            ("mise.toml", "[tools]\ngo = \"1.22.1\"\n"),
            (".tool-versions", "golang 1.23.1\n"),
            ("go.mod", "module m\n\ngo 1.20\n\ntoolchain go1.24.0\n"),
        ];
        let expected = [
            w("1.21.5", "go-version-file", ".go-version:1"),
            w("1.22.1", "mise", "mise.toml:2"),
            w("1.23.1", "tool-versions", ".tool-versions:1"),
            w("go1.24.0", "toolchain-line", "go.mod:5"),
        ];
        // Remove the winner one at a time: the next in the order takes over.
        for skip in 0..all.len() {
            let t = tree(&all[skip..]);
            assert_eq!(
                winner(t.path(), ""),
                expected[skip],
                "without {:?}",
                &all[..skip]
            );
        }
    }

    #[test]
    fn go_work_decides_over_go_mod() {
        let t = tree(&[
            ("go.work", "go 1.22\n\ntoolchain go1.22.7\n\nuse ./svc\n"),
            ("svc/go.mod", "module m\n\ngo 1.21\n\ntoolchain go1.21.9\n"),
        ]);
        assert_eq!(
            winner(t.path(), "svc"),
            w("go1.22.7", "toolchain-line", "go.work:3")
        );
        let off = Project::discover(&t.path().join("svc"), Wanted::ALL, Some("off".as_ref()));
        let r = resolve(&off.unwrap(), &NO_INPUTS).unwrap();
        assert_eq!(r.written, "go1.21.9", "GOWORK=off: go.mod decides");
    }

    #[test]
    fn go_lines_are_minimums_and_a_missing_one_is_gos_implied_default() {
        let t = tree(&[("go.mod", "module m\n\ngo 1.22.4\n")]);
        let r = resolve_in(t.path(), "", &NO_INPUTS).unwrap();
        assert_eq!(
            r.spec,
            VersionSpec::AtLeast(GoVersion::parse("1.22.4").unwrap())
        );
        assert_eq!(r.source.kind(), "go-line");
        assert!(!r.spec.matches(&GoVersion::parse("1.22.3").unwrap()));
        assert!(r.spec.matches(&GoVersion::parse("1.25.0").unwrap()));

        let t = tree(&[("go.mod", "module m\n")]);
        let r = resolve_in(t.path(), "", &NO_INPUTS).unwrap();
        assert_eq!(
            r.spec,
            VersionSpec::AtLeast(GoVersion::parse("1.16").unwrap())
        );
        assert_eq!(
            r.source.location().map(|l| l.to_string()),
            Some(t.path().join("go.mod").display().to_string())
        );
        let t = tree(&[("go.work", "use .\n")]);
        let r = resolve_in(t.path(), "", &NO_INPUTS).unwrap();
        assert_eq!(
            r.spec,
            VersionSpec::AtLeast(GoVersion::parse("1.18").unwrap())
        );
    }

    #[test]
    fn toolchain_lines_name_exact_toolchains_or_a_family_never_default() {
        let t = tree(&[("go.mod", "module m\n\ngo 1.22\n\ntoolchain go1.22\n")]);
        let r = resolve_in(t.path(), "", &NO_INPUTS).unwrap();
        assert_eq!(
            r.spec,
            VersionSpec::Family(GoVersion::parse("1.22").unwrap())
        );
        let t = tree(&[("go.mod", "module m\n\ngo 1.22.1\n\ntoolchain default\n")]);
        let r = resolve_in(t.path(), "", &NO_INPUTS).unwrap();
        assert_eq!(
            r.source.kind(),
            "go-line",
            "`toolchain default` chooses nothing"
        );
        let t = tree(&[("go.mod", "module m\n\ngo 1.22\n\ntoolchain banana\n")]);
        let e = resolve_in(t.path(), "", &NO_INPUTS)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "{}:5: invalid toolchain \"banana\"; write e.g. `toolchain go1.22.3`",
                t.path().join("go.mod").display()
            )
        );
    }

    #[test]
    fn an_invalid_pin_fails_closed_unless_a_nearer_toolchain_line_overrides_it() {
        let t = tree(&[
            (".go-version", "1.22.x\n"),
            ("svc/go.mod", "module m\n\ngo 1.22\n\ntoolchain go1.22.3\n"),
        ]);
        assert!(resolve_in(t.path(), "", &NO_INPUTS).is_err());
        assert_eq!(winner(t.path(), "svc").0, "go1.22.3");
        // Beside it, or below it, the invalid pin is in force, and an error.
        let t = tree(&[
            (".go-version", "1.22.x\n"),
            ("go.mod", "module m\n\ngo 1.22\n\ntoolchain go1.22.3\n"),
        ]);
        assert!(resolve_in(t.path(), "", &NO_INPUTS).is_err(), "beside");
        let t = tree(&[
            ("svc/.go-version", "1.22.x\n"),
            ("go.mod", "module m\n\ngo 1.22\n\ntoolchain go1.22.3\n"),
        ]);
        assert!(resolve_in(t.path(), "svc", &NO_INPUTS).is_err(), "below");
    }

    #[test]
    fn the_handshake_then_the_allowed_override_come_before_any_file() {
        let t = tree(&[(".go-version", "1.21.5\n")]);
        let with = |inputs: Inputs<'_>| resolve_in(t.path(), "", &inputs);
        let r = with(Inputs {
            switch_version: Some("go1.23.2"),
            env_override: Some("1.24.0"),
            allow_env_override: true,
            ..NO_INPUTS
        })
        .unwrap();
        assert_eq!(
            (r.written.as_str(), r.source),
            ("go1.23.2", Source::SwitchHandshake)
        );
        let e = with(Inputs {
            switch_version: Some("1.23"),
            ..NO_INPUTS
        })
        .unwrap_err();
        assert!(e.to_string().contains("is not a Go toolchain name"), "{e}");

        let r = with(Inputs {
            env_override: Some("1.24.0"),
            allow_env_override: true,
            ..NO_INPUTS
        })
        .unwrap();
        assert_eq!(
            (r.written.as_str(), r.source),
            ("1.24.0", Source::EnvOverride)
        );
        for (value, allowed) in [("1.24.0", false), ("", true)] {
            let r = with(Inputs {
                env_override: Some(value),
                allow_env_override: allowed,
                ..NO_INPUTS
            })
            .unwrap();
            assert_eq!(r.written, "1.21.5", "{value:?} allowed={allowed}");
        }
    }

    #[test]
    fn without_project_files_the_policy_default_then_the_newest_installed() {
        let t = tree(&[]);
        let default = Inputs {
            policy_default: Some(("1.22", "/etc/gowarden/policy.toml".into(), 3)),
            ..NO_INPUTS
        };
        let r = resolve_in(t.path(), "", &default).unwrap();
        assert_eq!(
            r.spec,
            VersionSpec::Family(GoVersion::parse("1.22").unwrap())
        );
        assert_eq!(
            r.source.to_string(),
            "the policy default at /etc/gowarden/policy.toml:3"
        );
        let r = resolve_in(t.path(), "", &NO_INPUTS).unwrap();
        assert_eq!(
            (r.spec, r.source),
            (VersionSpec::Newest, Source::NewestInstalled)
        );
        // A go line comes before the policy default.
        let t = tree(&[("go.mod", "module m\n\ngo 1.21\n")]);
        assert_eq!(
            resolve_in(t.path(), "", &default).unwrap().source.kind(),
            "go-line"
        );
    }
}
