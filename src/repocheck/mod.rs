//! `gowarden check` over a whole repository: module hygiene for every module in it, and the
//! configuration lint of the files that set up Go for builds (Makefiles, Dockerfiles, shell
//! scripts and profiles, CI workflows, devcontainers).
//!
//! One walk finds the files ([`walk`]); each is read once by the reader of its format, which
//! returns what it says about Go (settings, images, commands run); the rule families judge
//! that ([`modules`], [`gorun`], [`lint`]). The rules, their severities and the policy's
//! `replace`/`toolchain` allowances are `[check]` ([`crate::policy::checks`]). Every finding
//! names its file, line and (in the lint) column.

pub mod config;
pub mod gorun;
pub mod lint;
pub mod modules;
pub mod tools;
pub mod walk;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::policy::LoadedPolicy;
use crate::policy::checks;
use crate::policy::matrix::{Finding, Matrix, TierChoice};
use crate::project::ModFile;
use crate::version::GoVersion;

/// A place in a file: 1-based line and column (column 0: the whole line).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Place {
    pub fn line(file: &Path, line: usize) -> Place {
        Place {
            file: file.to_path_buf(),
            line,
            column: 0,
        }
    }

    pub fn at(file: &Path, line: usize, column: usize) -> Place {
        Place {
            file: file.to_path_buf(),
            line,
            column,
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            0 => write!(f, "{}:{}", self.file.display(), self.line),
            c => write!(f, "{}:{}:{c}", self.file.display(), self.line),
        }
    }
}

/// A command a build runs in a shell context (a Dockerfile `RUN`, a Make recipe, a script, a
/// workflow `run:` step): its command word and where it is. Issue 14's "tools the repository
/// uses that the project does not pin" reads these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandUse {
    pub word: String,
    pub args: Vec<String>,
    pub at: Place,
}

/// Collects findings at the severity the policy gives each rule (none for a rule turned off).
pub struct Sink<'a> {
    pub policy: &'a LoadedPolicy,
    pub findings: Vec<Finding>,
}

impl<'a> Sink<'a> {
    pub fn new(policy: &'a LoadedPolicy) -> Sink<'a> {
        Sink {
            policy,
            findings: Vec::new(),
        }
    }

    /// Whether `rule` is on.
    pub fn on(&self, rule: &str) -> bool {
        checks::severity(self.policy, rule).is_some()
    }

    pub fn push(&mut self, rule: &'static str, at: Option<Place>, message: String) {
        let Some(severity) = checks::severity(self.policy, rule) else {
            return;
        };
        self.findings.push(Finding {
            rule: crate::outcome::RuleId::named(rule),
            severity,
            message,
            location: crate::outcome::Location::at(
                at.as_ref().map(|p| p.file.clone()),
                at.as_ref().map(|p| p.line),
                at.as_ref().map(|p| p.column).filter(|c| *c > 0),
            ),
        });
    }
}

/// What the repository check needs from the project check: the version the repository
/// declares (and where), its tier, and the go.mod already read for it.
pub struct Context<'a> {
    pub policy: &'a LoadedPolicy,
    pub matrix: &'a Matrix,
    pub root: &'a Path,
    pub declared: Option<(GoVersion, String)>,
    pub tier: Option<&'a TierChoice>,
    pub root_mod: Option<&'a ModFile>,
}

/// Everything the repository check found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub commands: Vec<CommandUse>,
    pub modules: Vec<PathBuf>,
}

/// Checks the repository at `ctx.root`. `Err` only where a file or directory cannot be read.
pub fn check(ctx: &Context<'_>) -> Result<Outcome> {
    let tree = walk::walk(ctx.root)?;
    let mut sink = Sink::new(ctx.policy);
    let mut out = Outcome::default();
    for dir in &tree.modules {
        let path = dir.join("go.mod");
        let read;
        let m = match ctx.root_mod.filter(|m| m.path == path) {
            Some(m) => m,
            None => {
                read = crate::project::read_mod_file(&path)?;
                &read
            }
        };
        modules::check_module(&mut sink, ctx.matrix, ctx.root, m)?;
        gorun::check_module(&mut sink, m);
        out.modules.push(dir.clone());
    }
    modules::loose_go_files(&mut sink, &tree.loose_go_files);
    let judge = lint::Judge::new(ctx);
    for (format, path) in &tree.configs {
        let read = config::read(*format, path)?;
        judge.file(&mut sink, *format, path, &read);
        out.commands.extend(read.commands);
    }
    tools::check(&mut sink, ctx.root, &tree.modules, &out.commands);
    out.findings = sink.findings;
    Ok(out)
}
