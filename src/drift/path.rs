//! PATH drift: the shim must be the first `go` and `gofmt` a shell, an IDE or a script finds.
//! Every executable of that name ahead of the shim bypasses the policy; one after it is
//! normal (that is where real toolchains live). PATH is searched as a shell searches it:
//! relative and empty entries (the current directory) count, resolved against `dir`.

use std::ffi::OsString;
use std::path::Path;

use super::{Category, Finding, Severity, Source};
use crate::toolchain;

/// The tools the shim stands in for.
const TOOLS: [&str; 2] = ["go", "gofmt"];

pub fn check(path_var: Option<OsString>, dir: &Path) -> Vec<Finding> {
    let self_id = toolchain::self_identity();
    check_with(path_var, dir, |p| toolchain::is_self(p, self_id))
}

/// [`check`] with the test for "is the shim" given, for tests.
pub fn check_with(
    path_var: Option<OsString>,
    dir: &Path,
    is_shim: impl Fn(&Path) -> bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for tool in TOOLS {
        let mut ahead: Vec<Finding> = Vec::new();
        let mut shim_at = None;
        let on_path = path_var
            .as_deref()
            .map(|p| crate::path_lookup::all(p, tool, dir))
            .unwrap_or_default();
        for found in on_path {
            let (entry, i, candidate) = (&found.entry, found.index - 1, found.file);
            if is_shim(&candidate) {
                shim_at = Some(candidate);
                break;
            }
            ahead.push(Finding {
                category: Category::Path,
                key: tool.into(),
                expected: "the gowarden shim".into(),
                actual: candidate.display().to_string(),
                source: Source::PathEntry {
                    dir: entry.clone(),
                    index: i + 1,
                },
                severity: Severity::Error,
                message: format!(
                    "`{tool}` resolves to {} (PATH entry {}) before the gowarden shim, so it \
                     runs without the policy",
                    candidate.display(),
                    i + 1
                ),
                fix: format!(
                    "put the shims dir before {} on PATH (or remove {})",
                    entry.display(),
                    candidate.display()
                ),
            });
        }
        match shim_at {
            Some(_) => out.extend(ahead),
            None => {
                let first = ahead.first().map(|f| f.actual.clone());
                out.push(Finding {
                    category: Category::Path,
                    key: tool.into(),
                    expected: "the gowarden shim".into(),
                    actual: first.clone().unwrap_or_else(|| "nothing".into()),
                    source: Source::Env,
                    severity: Severity::Error,
                    message: match &first {
                        Some(p) => format!(
                            "the gowarden shim is not on PATH: `{tool}` resolves to {p}, which \
                             runs without the policy"
                        ),
                        None => format!("there is no `{tool}` on PATH, not even the shim"),
                    },
                    fix: "add the shims dir (holding `go` and `gofmt` links to gowarden) to the \
                          front of PATH, e.g. by sourcing the profile snippet install.sh installed"
                        .into(),
                });
                // The others ahead are reported too, but one "no shim" finding is the headline.
                out.extend(ahead.into_iter().skip(1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn exe(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn relative_and_empty_entries_count_as_a_shell_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        exe(&d.join("go"));
        exe(&d.join("tools/gofmt"));
        exe(&d.join("shims/go"));
        exe(&d.join("shims/gofmt"));
        let shims = d.join("shims");
        let is_shim = |p: &Path| p.parent() == Some(shims.as_path());
        // "" is the current directory, "tools" is relative to it.
        let path = OsString::from(format!(":tools:{}", shims.display()));
        let found = check_with(Some(path), d, is_shim);
        let got: Vec<(&str, &str, usize)> = found
            .iter()
            .map(|f| match &f.source {
                Source::PathEntry { index, .. } => (f.key.as_str(), f.actual.as_str(), *index),
                other => panic!("{other:?}"),
            })
            .collect();
        let go = d.join("go").display().to_string();
        let gofmt = d.join("tools/gofmt").display().to_string();
        assert_eq!(got, [("go", go.as_str(), 1), ("gofmt", gofmt.as_str(), 2)]);
        // With the shim first nothing is reported.
        let path = OsString::from(format!("{}::tools", shims.display()));
        assert_eq!(check_with(Some(path), d, is_shim), []);
        // No PATH at all: both tools missing.
        let none = check_with(None, d, is_shim);
        assert_eq!(none.len(), 2);
        assert!(none.iter().all(|f| f.actual == "nothing"), "{none:?}");
    }
}
