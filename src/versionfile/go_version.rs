//! `.go-version` (goenv, setup-go, gowarden's own): one version, `#` comment lines allowed.

use std::path::Path;

use super::{Declared, Found, Spec, VERSION_FORMS, declared, invalid};
use crate::error::Result;
use crate::version::VersionSpec;

pub const SPEC: Spec = Spec {
    name: ".go-version",
    kind: "go-version-file",
    files: &[".go-version"],
    read,
    fix,
};

fn fix(at: &Declared, target: &str) -> String {
    format!("set {} to {target}", at.location())
}

/// One version, surrounding whitespace and `#` comment lines allowed; a file naming none is
/// an error, not a file to skip (its author meant to pin something).
fn read(path: &Path, text: Vec<u8>) -> Result<Option<Found>> {
    let Ok(text) = String::from_utf8(text) else {
        return Ok(invalid(
            path,
            None,
            format!(
                "{}: not UTF-8 text; write the version as plain text",
                path.display()
            ),
        ));
    };
    let mut found: Option<(usize, &str)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A trailing comment is not a form goenv or mise accept, so it is an error here too.
        if let Some((first_line, first)) = found {
            return Ok(invalid(
                path,
                Some(i + 1),
                format!(
                    "{}:{}: a second version {line:?} (the first is {first:?} on line \
                     {first_line}); a .go-version names exactly one version ({VERSION_FORMS})",
                    path.display(),
                    i + 1,
                ),
            ));
        }
        if VersionSpec::parse(line).is_none() {
            return Ok(invalid(
                path,
                Some(i + 1),
                format!(
                    "{}:{}: {line:?} is not a Go version; {VERSION_FORMS}",
                    path.display(),
                    i + 1
                ),
            ));
        }
        found = Some((i + 1, line));
    }
    Ok(match found {
        Some((line, value)) => declared(path, line, value),
        None => invalid(
            path,
            None,
            format!(
                "{}: the file names no version; write one line such as `1.22.10` or delete the \
                 file ({VERSION_FORMS})",
                path.display()
            ),
        ),
    })
}
