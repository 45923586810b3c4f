//! `.tool-versions` (asdf, mise): the first version on a `golang` or `go` line.

use std::path::Path;

use super::{Declared, Found, Spec, VERSION_FORMS, declared, invalid};
use crate::error::Result;
use crate::version::VersionSpec;

pub const SPEC: Spec = Spec {
    name: ".tool-versions",
    kind: "tool-versions",
    files: &[".tool-versions"],
    read,
    fix,
};

fn fix(at: &Declared, target: &str) -> String {
    format!("set the golang version at {} to {target}", at.location())
}

/// A file with no go line is not a Go version source (`None`): the search goes on upward, as
/// asdf's does.
fn read(path: &Path, text: Vec<u8>) -> Result<Option<Found>> {
    let text = String::from_utf8_lossy(&text);
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        let Some(tool) = words.next() else { continue };
        if tool != "golang" && tool != "go" {
            continue;
        }
        let loc = format!("{}:{}", path.display(), i + 1);
        let Some(version) = words.next() else {
            return Ok(invalid(
                path,
                Some(i + 1),
                format!("{loc}: `{tool}` names no version; write e.g. `golang 1.22.10`"),
            ));
        };
        if VersionSpec::parse(version).is_none() {
            return Ok(invalid(
                path,
                Some(i + 1),
                format!(
                    "{loc}: {version:?} is not a Go version gowarden can resolve \
                     (`system`, `ref:` and `path:` entries are not supported); {VERSION_FORMS}"
                ),
            ));
        }
        return Ok(declared(path, i + 1, version));
    }
    Ok(None)
}
