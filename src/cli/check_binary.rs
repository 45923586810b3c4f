//! `gowarden check --binary PATH…`: the Go binaries at PATH judged by the build information
//! go embedded in them ([`crate::buildinfo`]) — what a release artifact or a container image
//! was actually built with, whatever the repository declares.
//!
//! Exit 0: every binary is fine (warnings allowed); 1: violations; 2: could not check (the
//! policy cannot be read, a path cannot be read or is not a Go binary, no Go binary found).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::json_shapes::PolicyJson;

use super::ExitStatus;
use super::args::CheckFormat as Format;
use crate::buildinfo::{self, BuildInfo, ReadError};
use crate::policy::matrix::{Finding, Severity};
use crate::policy::{self, LoadedPolicy};
use crate::version::GoVersion;

/// One Go binary and what is wrong with it.
#[derive(Debug)]
pub struct Binary {
    pub path: PathBuf,
    pub info: BuildInfo,
    pub findings: Vec<Finding>,
}

#[derive(Debug)]
pub struct BinaryReport {
    pub policy: LoadedPolicy,
    pub binaries: Vec<Binary>,
    /// Paths that could not be read or are not Go binaries, and why.
    pub unreadable: Vec<(PathBuf, ReadError)>,
    /// The paths asked for, when no Go binary was found under any of them.
    pub none_found: Option<Vec<PathBuf>>,
}

impl BinaryReport {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.binaries.iter().flat_map(|b| b.findings.iter())
    }

    fn could_not_check(&self) -> bool {
        !self.unreadable.is_empty() || self.none_found.is_some()
    }
}

/// What the repository at `dir` declares: its main module and the exact Go version its files
/// pin (and where), as the shim reads them with no one-command overrides.
struct Declaration {
    module: String,
    version: GoVersion,
    source: String,
}

fn declaration(
    policy: &LoadedPolicy,
    matrix: &crate::policy::matrix::Matrix,
    dir: &Path,
) -> Option<Declaration> {
    use crate::shim::plan;
    let wanted = crate::project::Wanted {
        go_mod: true,
        ..plan::wanted(policy, matrix)
    };
    let gowork = crate::environ::var_os(crate::envvars::GOWORK);
    let found = crate::project::Scan::walk(dir, wanted, gowork).ok()?;
    let located = plan::locate(
        policy,
        matrix,
        crate::project::Project {
            dir: dir.to_path_buf(),
            pins: found.pins.into_iter().collect::<Result<_, _>>().ok()?,
            go_work: found.go_work,
            go_mod: found.go_mod,
        },
    );
    let module = located.module?.value;
    let request = plan::request(policy, &located.project, plan::Overrides::Ignored).ok()?;
    match request.spec {
        crate::resolve::VersionSpec::Exact(version) => Some(Declaration {
            module,
            version,
            source: request.source.to_string(),
        }),
        _ => None,
    }
}

/// `binary.declared-version`: a binary of the repository's own main module built by another
/// Go than the repository declares: the release was not built the way the repository says.
fn against_declaration(
    policy: &LoadedPolicy,
    d: &Declaration,
    path: &Path,
    info: &BuildInfo,
) -> Option<Finding> {
    let severity = policy.policy.check.binary.declared_version.severity()?;
    if info.main.as_ref().map(|m| m.path.as_str()) != Some(d.module.as_str()) {
        return None;
    }
    let built = GoVersion::parse_go(info.go_version.split_whitespace().next()?)?;
    if built == d.version {
        return None;
    }
    Some(Finding {
        rule: crate::outcome::RuleId::named(crate::policy::binary::rule::DECLARED_VERSION),
        severity,
        message: format!(
            "{} was built by go{}, but the repository declares go{} for {} ({}); rebuild it \
             through the go shim in the repository, which runs go{}",
            path.display(),
            built,
            d.version,
            d.module,
            d.source,
            d.version
        ),
        location: crate::outcome::Location::at(Some(path.to_path_buf()), None, None),
    })
}

pub fn check(paths: &[PathBuf], dir: &Path) -> crate::error::Result<BinaryReport> {
    let policy = policy::load::load()?;
    let scan = buildinfo::scan(paths);
    let none_found =
        (scan.binaries.is_empty() && scan.unreadable.is_empty()).then(|| paths.to_vec());
    let (matrix, _) = crate::policy::matrix::compile(&policy);
    let today = crate::date::Date::today_utc();
    let declared = declaration(&policy, &matrix, dir);
    let binaries = scan
        .binaries
        .into_iter()
        .map(|(path, info)| {
            let mut findings = crate::policy::binary::judge(&policy, &matrix, &path, &info, today);
            findings.extend(
                declared
                    .as_ref()
                    .and_then(|d| against_declaration(&policy, d, &path, &info)),
            );
            Binary {
                findings,
                path,
                info,
            }
        })
        .collect();
    Ok(BinaryReport {
        policy,
        binaries,
        unreadable: scan.unreadable,
        none_found,
    })
}

pub fn run(paths: &[PathBuf], dir: &Path, format: Format) -> ExitStatus {
    let report = match check(paths, dir) {
        Ok(r) => r,
        Err(e) => return super::check::could_not_check(format, e.message()),
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    match format {
        Format::Text => print_text(&report, &cwd),
        Format::Json => super::print_json(&report_json(&report)),
        Format::Github => print_github(&report, &cwd),
        Format::Sarif => {
            let mut failures: Vec<(Option<PathBuf>, String)> = report
                .unreadable
                .iter()
                .map(|(p, e)| {
                    (
                        Some(p.clone()),
                        format!("could not check {}: {e}", p.display()),
                    )
                })
                .collect();
            if let Some(paths) = &report.none_found {
                failures.push((None, none_found_message(paths)));
            }
            let findings: Vec<&Finding> = report.findings().collect();
            super::check_sarif::print(&findings, &failures, &cwd)
        }
    }
    for (path, e) in &report.unreadable {
        eprintln!("gowarden check: could not check {}: {e}", path.display());
    }
    if let Some(paths) = &report.none_found {
        eprintln!(
            "gowarden check: could not check: {}",
            none_found_message(paths)
        );
    }
    if report.could_not_check() {
        ExitStatus::Error
    } else {
        ExitStatus::ok_if(report.findings().all(|f| f.severity != Severity::Error))
    }
}

fn none_found_message(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!(
        "no Go binary in {}: name the built files or the directory holding them",
        shown.join(", ")
    )
}

/// `go1.24.3, module corp.example/pay/api v1.2.3`
fn summary(info: &BuildInfo) -> String {
    match &info.main {
        Some(m) => format!("{}, module {} {}", info.go_version, m.path, m.version),
        None => format!("{}, no module information", info.go_version),
    }
}

fn print_text(r: &BinaryReport, cwd: &Path) {
    println!("policy:    {}", r.policy.origin);
    for b in &r.binaries {
        println!(
            "binary:    {}: {}",
            crate::policy::matrix::relative_to(&b.path, cwd).display(),
            summary(&b.info)
        );
        for f in &b.findings {
            println!("{}[{}]: {}", f.severity.as_str(), f.rule, f.message);
        }
    }
    let e = r
        .findings()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let w = r.findings().count() - e;
    let n = r.binaries.len();
    println!(
        "{n} binar{}: {e} violation{}, {w} warning{}",
        if n == 1 { "y" } else { "ies" },
        if e == 1 { "" } else { "s" },
        if w == 1 { "" } else { "s" },
    );
}

/// `check --binary --json` (docs/check-binary.md); each finding is the one `Finding` of
/// `check --json`. Printed with sorted keys ([`super::print_json`]), as check's report is.
#[derive(Serialize)]
struct BinaryJson<'a> {
    binaries: Vec<OneBinaryJson<'a>>,
    errors: Vec<ErrorJson<'a>>,
    ok: bool,
    policy: PolicyJson<'a>,
    violations: Vec<&'a Finding>,
    warnings: Vec<&'a Finding>,
}

#[derive(Serialize)]
struct OneBinaryJson<'a> {
    /// go's own `go version -m -json` shape, as go defines it (`buildinfo::to_go_json`).
    build_info: Value,
    go_version: &'a str,
    module: Option<ModuleJson<'a>>,
    path: &'a Path,
    violations: Vec<&'a Finding>,
    warnings: Vec<&'a Finding>,
}

#[derive(Serialize)]
struct ModuleJson<'a> {
    path: &'a str,
    version: &'a str,
}

/// A path that could not be checked, or `none-found` (with `path` null).
#[derive(Serialize)]
struct ErrorJson<'a> {
    kind: &'static str,
    message: String,
    path: Option<&'a Path>,
}

fn by_severity(fs: &[Finding], s: Severity) -> Vec<&Finding> {
    fs.iter().filter(|f| f.severity == s).collect()
}

fn report_json(r: &BinaryReport) -> BinaryJson<'_> {
    let all = |s: Severity| -> Vec<&Finding> { r.findings().filter(|f| f.severity == s).collect() };
    let mut errors: Vec<ErrorJson> = r
        .unreadable
        .iter()
        .map(|(path, e)| ErrorJson {
            kind: e.kind(),
            message: e.to_string(),
            path: Some(path),
        })
        .collect();
    if let Some(paths) = &r.none_found {
        errors.push(ErrorJson {
            kind: "none-found",
            message: none_found_message(paths),
            path: None,
        });
    }
    let violations = all(Severity::Error);
    BinaryJson {
        binaries: r
            .binaries
            .iter()
            .map(|b| OneBinaryJson {
                build_info: b.info.to_go_json(),
                go_version: &b.info.go_version,
                module: b.info.main.as_ref().map(|m| ModuleJson {
                    path: &m.path,
                    version: &m.version,
                }),
                path: &b.path,
                violations: by_severity(&b.findings, Severity::Error),
                warnings: by_severity(&b.findings, Severity::Warning),
            })
            .collect(),
        ok: violations.is_empty() && errors.is_empty(),
        errors,
        policy: PolicyJson::of(&r.policy.origin),
        violations,
        warnings: all(Severity::Warning),
    }
}

fn print_github(r: &BinaryReport, cwd: &Path) {
    for f in r.findings() {
        super::check::print_annotation(f, cwd);
    }
    for (path, e) in &r.unreadable {
        let rel = crate::policy::matrix::relative_to(path, cwd);
        println!(
            "::error file={},title=gowarden check::{}",
            super::check::escape_property(&rel.display().to_string()),
            super::check::escape_data(&format!("could not check: {e}"))
        );
    }
    if let Some(paths) = &r.none_found {
        println!(
            "::error title=gowarden check::{}",
            super::check::escape_data(&none_found_message(paths))
        );
    }
    let e = r
        .findings()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let w = r.findings().count() - e;
    println!(
        "gowarden check: {} binar{}, {e} violation{}, {w} warning{}{}",
        r.binaries.len(),
        if r.binaries.len() == 1 { "y" } else { "ies" },
        if e == 1 { "" } else { "s" },
        if w == 1 { "" } else { "s" },
        match r.unreadable.len() + usize::from(r.none_found.is_some()) {
            0 => String::new(),
            n => format!(", {n} could not be checked"),
        }
    );
}
