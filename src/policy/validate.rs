//! Checks on a parsed policy that serde cannot express: valid versions, globs and names.
//! Every error names the policy file and the line of the offending value.

use super::load::LoadedPolicy;
use crate::error::{Error, Result};
use crate::resolve::VersionSpec;

pub fn validate(loaded: &LoadedPolicy) -> Result<()> {
    validate_base(loaded)?;
    // The matrix lint collects every problem; the shim reports the first and points at
    // `gowarden policy check` for the rest.
    let problems = super::matrix::lint(loaded);
    if let Some(first) = problems.first() {
        let more = match problems.len() {
            1 => String::new(),
            n => format!(
                " (and {} more: run `gowarden policy check {}`)",
                n - 1,
                loaded.origin.file_name()
            ),
        };
        return Err(Error::new(format!("invalid policy {first}{more}")));
    }
    Ok(())
}

/// The checks of every table but the matrix's.
pub fn validate_base(loaded: &LoadedPolicy) -> Result<()> {
    let p = &loaded.policy;
    let at = |span: &std::ops::Range<usize>| loaded.point_at(span);
    if let Some(d) = &p.toolchains.default
        && VersionSpec::parse(d.get_ref()).is_none()
    {
        return Err(Error::new(format!(
            "invalid policy {}: [toolchains] default = {:?} is not a Go version; \
             use e.g. \"1.22.10\" or \"1.22\" (newest installed 1.22.x)",
            at(&d.span()),
            d.get_ref()
        )));
    }
    for entry in &p.toolchains.search {
        if let Err(e) = glob::Pattern::new(entry.get_ref()) {
            return Err(Error::new(format!(
                "invalid policy {}: [toolchains] search entry {:?} is not a valid glob: {}",
                at(&entry.span()),
                entry.get_ref(),
                e.msg
            )));
        }
    }
    let gt = p.toolchains.gotoolchain.as_str();
    if !valid_gotoolchain(gt) {
        return Err(Error::new(format!(
            "invalid policy {}: [toolchains] gotoolchain = {gt:?}; use \"local\" (recommended), \
             \"inherit\" (keep the caller's), or a value go accepts such as \"auto\", \"path\", \
             \"go1.22.3+auto\"",
            loaded.origin.file_name()
        )));
    }
    crate::policy::env::validate(loaded)?;
    for f in &p.resolve.files {
        if !crate::versionfile::policy_names().any(|n| n == f.get_ref()) {
            return Err(Error::new(format!(
                "invalid policy {}: [resolve] files has {:?}; known files are {}",
                at(&f.span()),
                f.get_ref(),
                crate::versionfile::policy_names()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    crate::policy::tools::validate(loaded)?;
    super::roles::validate(loaded)?;
    super::checks::validate(loaded)?;
    super::binary::validate(loaded)?;
    Ok(())
}

/// The GOTOOLCHAIN values go accepts (GO_FACTS §2), plus our `inherit`.
fn valid_gotoolchain(v: &str) -> bool {
    let name = v
        .strip_suffix("+auto")
        .or_else(|| v.strip_suffix("+path"))
        .unwrap_or(v);
    matches!(v, "inherit" | "local" | "auto" | "path")
        || name == "local"
        || crate::version::go_is_valid(name)
}
