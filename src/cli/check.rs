//! `gowarden check [-C DIR] [--format text|json|github|sarif] [--binary PATH…]`: the CI gate for a repository.
//!
//! The project at DIR is judged as the shim judges it (below); the whole tree under DIR, every
//! module and build configuration file in it, by [`crate::repocheck`].
//!
//! Applies the same rules as the shim (the version matrix, the project's version files, the
//! installed toolchains) but reports every violation instead of refusing at the first, and
//! turns the shim's warnings about go.mod/go.work lines into violations. Exit 0: clean (there
//! may be warnings); 1: violations; 2: could not check (policy unreadable or invalid, a file
//! unreadable). The project is checked as its files declare it: `GOWARDEN_GO_VERSION` and go's
//! toolchain-switch variables, which choose a version for one command, are ignored.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ExitStatus;
use super::args::{CheckArgs, CheckFormat as Format};
use crate::error::Result;
use crate::outcome::{Builtin, Location, RuleId, rule};
use crate::policy::matrix::{self, Finding, Severity, TierChoice};
use crate::policy::{self, LoadedPolicy};
use crate::project::{Declared, Invalid, Pin, Project, Scan, Wanted};
use crate::resolve::{Request, VersionSpec};
use crate::shim::{Tool, not_installed, plan};
use crate::toolchain::Toolchain;
use crate::version::GoVersion;

pub const VERSION_MISSING: &str = "version.missing";
pub const VERSION_INVALID: &str = Builtin::VersionInvalid.as_str();
pub const NOT_INSTALLED: &str = Builtin::NotInstalled.as_str();

/// What `check` found out about a project, and everything wrong with it.
#[derive(Debug)]
pub struct Report {
    pub project: PathBuf,
    pub policy: LoadedPolicy,
    pub module: Option<Declared>,
    pub tier: Option<TierChoice>,
    pub tier_rules: Option<matrix::Tier>,
    pub request: Option<Request>,
    pub toolchain: Option<Toolchain>,
    pub findings: Vec<Finding>,
    /// Commands the repository's build files run ([`crate::repocheck::CommandUse`]).
    pub commands: Vec<crate::repocheck::CommandUse>,
    /// The modules found in the repository.
    pub modules: Vec<PathBuf>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
    }
}

pub fn run(a: &CheckArgs) -> ExitStatus {
    let format = a.format;
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => return could_not_check(format, &format!("cannot read the working dir: {e}")),
    };
    let dir = match super::resolve_dir(a.dir.dir.as_deref()) {
        Ok(d) => d,
        Err(e) => return could_not_check(format, &e),
    };
    if !a.binary.is_empty() {
        return super::check_binary::run(&a.binary, &dir, format);
    }
    let report = match check(&dir) {
        Ok(r) => r,
        Err(e) => return could_not_check(format, e.message()),
    };
    match format {
        Format::Text => print_text(&report),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&report)).unwrap_or_default()
        ),
        Format::Github => print_github(&report, &cwd),
        Format::Sarif => {
            super::check_sarif::print(&report.findings.iter().collect::<Vec<_>>(), &[], &cwd)
        }
    }
    ExitStatus::ok_if(report.errors().next().is_none())
}

pub(super) fn could_not_check(format: Format, msg: &str) -> ExitStatus {
    match format {
        Format::Json => {
            /// `check --json` where nothing could be checked (docs/matrix-and-check.md).
            #[derive(Serialize)]
            struct CouldNotCheck<'a> {
                error: &'a str,
                ok: bool,
                violations: &'a [Finding],
                warnings: &'a [Finding],
            }
            super::print_json(&CouldNotCheck {
                error: msg,
                ok: false,
                violations: &[],
                warnings: &[],
            })
        }
        Format::Github => println!("::error title=gowarden check::{}", escape_data(msg)),
        Format::Sarif => {
            let cwd = std::env::current_dir().unwrap_or_default();
            super::check_sarif::print(&[], &[(None, msg.to_string())], &cwd)
        }
        Format::Text => {}
    }
    eprintln!("gowarden check: could not check: {msg}");
    ExitStatus::Error
}

/// Checks the project at `dir` under the policy in force. `Err` only where checking is not
/// possible at all; everything wrong with the project is a finding in the report.
///
/// Each step is the shim's own ([`crate::shim::plan`]): the files it reads, the main module
/// whose tier applies (a workspace's strictest), the request, the toolchain it selects and
/// the matrix's findings. What differs is only what check does with them: every broken
/// version file and every finding is reported instead of the first refusing, and the caller's
/// one-command overrides do not count.
pub fn check(dir: &Path) -> Result<Report> {
    let policy = policy::load::load()?;
    let (matrix, _) = matrix::compile(&policy);
    let mut findings = Vec::new();

    // The module line is read even where nothing else needs go.mod: the report shows it.
    let wanted = Wanted {
        go_mod: true,
        ..plan::wanted(&policy, &matrix)
    };
    let found = Scan::walk(dir, wanted, crate::environ::var_os(crate::envvars::GOWORK))?;
    // A broken pin file hides the version only where no valid one outranks it.
    let version_unknown = found.pins.first().is_some_and(|p| p.is_err());
    let broken_version_file = found.pins.iter().any(|p| p.is_err());
    let pins = take_pins(found.pins, &mut findings);

    let located = plan::locate(
        &policy,
        &matrix,
        Project {
            dir: dir.to_path_buf(),
            pins,
            go_work: found.go_work,
            go_mod: found.go_mod,
        },
    );
    let project = &located.project;
    let module = located.module.clone();

    let tier = match matrix.choose_tier(project, module.as_ref()) {
        Ok(t) => t,
        Err(f) => {
            findings.push(f);
            None
        }
    };

    let mut request = None;
    let mut chosen = None;
    if !version_unknown {
        match plan::request(&policy, project, plan::Overrides::Ignored) {
            Ok(r) => request = Some(r),
            Err(e) => {
                let decl = invalid_mod_line(project);
                findings.push(Finding {
                    rule: rule::VERSION_INVALID,
                    severity: Severity::Error,
                    message: e.message().to_string(),
                    location: Location::at(
                        decl.map(|d| d.path.clone()),
                        decl.map(|d| d.line),
                        None,
                    ),
                });
            }
        }
    }

    if let Some(request) = &request {
        let installed = plan::installed(&policy);
        chosen = plan::select(&matrix, tier.as_ref(), request, &installed, Tool::Go);
        // Not installed: an exact request is still judged, so CI learns every problem at once.
        let judged: Option<(GoVersion, String)> = match (&chosen, &request.spec) {
            (Some(t), _) => Some((t.version.clone(), t.name.clone())),
            (None, VersionSpec::Exact(v)) => Some((v.clone(), format!("go{v}"))),
            _ => None,
        };
        if chosen.is_none() {
            findings.push(Finding {
                rule: rule::NOT_INSTALLED,
                severity: Severity::Error,
                message: not_installed(request, &installed, &policy).message,
                location: request.source.project_location(),
            });
        }
        if let Some((version, shown)) = judged {
            findings.extend(plan::matrix_findings(
                &matrix,
                project,
                request,
                (&version, &shown),
                tier.as_ref(),
                Severity::Error,
            ));
        }
    }

    let has_go_version = project
        .pins
        .iter()
        .any(|p| p.format == crate::versionfile::Format::GoVersion);
    if matrix.require_go_version && !has_go_version && !broken_version_file {
        // Suggest what the project would run anyway: its tier's recommended release, else
        // the toolchain chosen without a .go-version.
        let suggest = tier
            .as_ref()
            .and_then(|c| matrix.tier(c))
            .and_then(|t| t.recommended.as_ref().map(|r| r.bare.clone()))
            .or_else(|| chosen.as_ref().map(|t| t.version.to_string()))
            .unwrap_or_else(|| "<version>".into());
        findings.insert(
            0,
            Finding {
                rule: RuleId::named(VERSION_MISSING),
                severity: Severity::Error,
                message: format!(
                    "no .go-version in {} or above it, and the policy {} requires one ([matrix] \
                     require_go_version); write the version this project builds with, e.g. \
                     `echo {suggest} > {}`",
                    dir.display(),
                    policy.origin.file_name(),
                    project.root().join(".go-version").display()
                ),
                location: Location::at(None, None, None),
            },
        );
    }

    // The repository around the project: every module in it and its build configuration.
    let declared = match (&request, &chosen) {
        (Some(r), _) if matches!(r.spec, VersionSpec::Exact(_)) => match &r.spec {
            VersionSpec::Exact(v) => Some((v.clone(), r.source.to_string())),
            _ => None,
        },
        (Some(r), Some(t)) => Some((t.version.clone(), r.source.to_string())),
        _ => None,
    };
    let repo = crate::repocheck::check(&crate::repocheck::Context {
        policy: &policy,
        matrix: &matrix,
        root: dir,
        declared,
        tier: tier.as_ref(),
        root_mod: project.go_mod.as_ref(),
    })?;
    findings.extend(repo.findings);

    let tier_rules = tier.as_ref().and_then(|c| matrix.tier(c).cloned());
    Ok(Report {
        commands: repo.commands,
        modules: repo.modules,
        project: dir.to_path_buf(),
        policy,
        module,
        tier,
        tier_rules,
        request,
        toolchain: chosen,
        findings,
    })
}

/// The valid pin files; a `version.invalid` finding for each other one.
fn take_pins(
    found: Vec<std::result::Result<Pin, Invalid>>,
    findings: &mut Vec<Finding>,
) -> Vec<Pin> {
    let mut pins = Vec::new();
    for pin in found {
        match pin {
            Ok(p) => pins.push(p),
            Err(invalid) => findings.push(Finding {
                rule: rule::VERSION_INVALID,
                severity: Severity::Error,
                message: invalid.error.message().to_string(),
                location: Location::at(Some(invalid.path), invalid.line, None),
            }),
        }
    }
    pins
}

/// The go.mod/go.work line resolution rejected: the active file's toolchain line if it is
/// the invalid one, else its go line.
fn invalid_mod_line(project: &Project) -> Option<&Declared> {
    let m = project.active_mod_file()?;
    if let Some(t) = &m.toolchain
        && t.value != "default"
        && GoVersion::parse_go(&t.value).is_none()
    {
        return Some(t);
    }
    m.go.as_ref()
}

fn print_text(r: &Report) {
    println!("project:   {}", r.project.display());
    println!("policy:    {}", r.policy.origin);
    if let Some(m) = &r.module {
        println!("module:    {} ({})", m.value, m.location());
    }
    match &r.tier {
        Some(t) => println!("tier:      {} (owner {}): {}", t.name, t.owner, t.reason),
        None => println!("tier:      none"),
    }
    if let Some(req) = &r.request {
        let asked = if req.written.is_empty() {
            req.spec.to_string()
        } else {
            format!("{} ({})", req.written, req.spec)
        };
        println!("requested: {asked} by {}", req.source);
    }
    match &r.toolchain {
        Some(t) => println!("toolchain: {} {}", t.name, t.goroot.display()),
        None => println!("toolchain: none"),
    }
    for f in &r.findings {
        println!("{}[{}]: {}", f.severity.as_str(), f.rule, f.message);
    }
    let (e, w) = (r.errors().count(), r.warnings().count());
    if e == 0 {
        println!("ok: no violations{}", plural_suffix(w, "warning"));
    } else {
        println!(
            "{e} violation{}{}",
            if e == 1 { "" } else { "s" },
            plural_suffix(w, "warning")
        );
    }
}

fn plural_suffix(n: usize, what: &str) -> String {
    match n {
        0 => String::new(),
        1 => format!(", 1 {what}"),
        n => format!(", {n} {what}s"),
    }
}

/// The JSON report; its shape is documented in docs/matrix-and-check.md.
pub fn to_json(r: &Report) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or_default()
}

/// `check --json` (docs/matrix-and-check.md): what is known of the project, then its
/// findings split by severity.
impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            ok: bool,
            project: &'a Path,
            policy: PolicyJson<'a>,
            module: Option<ModuleJson<'a>>,
            tier: Option<TierJson<'a>>,
            version: Option<VersionJson<'a>>,
            violations: Vec<&'a Finding>,
            warnings: Vec<&'a Finding>,
        }
        #[derive(Serialize)]
        struct PolicyJson<'a> {
            origin: &'static str,
            path: Option<&'a Path>,
        }
        #[derive(Serialize)]
        struct ModuleJson<'a> {
            path: &'a str,
            file: &'a Path,
            line: usize,
        }
        #[derive(Serialize)]
        struct TierJson<'a> {
            name: &'a str,
            owner: &'a str,
            reason: &'static str,
            why: String,
            min: Option<&'a str>,
            recommended: Option<&'a str>,
            upgrade_by: Option<String>,
        }
        #[derive(Serialize)]
        struct VersionJson<'a> {
            requested: &'a str,
            spec: String,
            source: SourceJson,
            toolchain: Option<&'a str>,
            goroot: Option<&'a Path>,
        }
        #[derive(Serialize)]
        struct SourceJson {
            kind: &'static str,
            description: String,
            file: Option<PathBuf>,
            line: Option<usize>,
        }
        let rules = self.tier_rules.as_ref();
        let tier = self.tier.as_ref().map(|t| TierJson {
            name: &t.name,
            owner: &t.owner,
            reason: t.reason.kind(),
            why: t.reason.to_string(),
            min: rules.and_then(|x| x.min.as_ref()).map(|b| b.bare.as_str()),
            recommended: rules
                .and_then(|x| x.recommended.as_ref())
                .map(|b| b.bare.as_str()),
            upgrade_by: rules
                .and_then(|x| x.upgrade_by.as_ref())
                .map(|d| d.date.to_string()),
        });
        let version = self.request.as_ref().map(|req| {
            let at = req.source.project_location();
            VersionJson {
                requested: &req.written,
                spec: req.spec.to_string(),
                source: SourceJson {
                    kind: req.source.kind(),
                    description: req.source.to_string(),
                    line: at.as_ref().and_then(|l| l.line),
                    file: at.map(|l| l.file),
                },
                toolchain: self.toolchain.as_ref().map(|t| t.name.as_str()),
                goroot: self.toolchain.as_ref().map(|t| t.goroot.as_path()),
            }
        });
        Json {
            ok: self.errors().next().is_none(),
            project: &self.project,
            policy: PolicyJson {
                origin: self.policy.origin.kind(),
                path: self.policy.origin.path(),
            },
            module: self.module.as_ref().map(|m| ModuleJson {
                path: &m.value,
                file: &m.path,
                line: m.line,
            }),
            tier,
            version,
            violations: self.errors().collect(),
            warnings: self.warnings().collect(),
        }
        .serialize(s)
    }
}

/// GitHub Actions workflow commands: one annotation per finding, on the file and line to fix
/// (relative to the working directory, the workspace in Actions, so it attaches to the diff).
fn print_github(r: &Report, cwd: &Path) {
    for f in &r.findings {
        print_annotation(f, cwd);
    }
    let (e, w) = (r.errors().count(), r.warnings().count());
    println!(
        "gowarden check: {e} violation{}{}",
        if e == 1 { "" } else { "s" },
        plural_suffix(w, "warning")
    );
}

/// One finding as a workflow command.
pub(super) fn print_annotation(f: &Finding, cwd: &Path) {
    let kind = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut props = Vec::new();
    if let Some(file) = f.file() {
        let rel = matrix::relative_to(file, cwd);
        props.push(format!(
            "file={}",
            escape_property(&rel.display().to_string())
        ));
        if let Some(line) = f.line() {
            props.push(format!("line={line}"));
        }
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("gowarden {}", f.rule))
    ));
    println!("::{kind} {}::{}", props.join(","), escape_data(&f.message));
}

/// Escapes a workflow command's message, as the Actions toolkit does.
pub(super) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command property value (`file=`, `title=`).
pub(super) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% a\nb\r"), "50%25 a%0Ab%0D");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
