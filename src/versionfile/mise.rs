//! mise's config files: the `go` entry of `[tools]`.
//!
//! mise reads several names in one directory and merges them, a later one in its own list
//! overriding an earlier one (mise `src/config/mod.rs` `LOCAL_CONFIG_FILENAMES`); here they are
//! listed the other way round, the one whose `go` wins first. Not read: the `conf.d/*.toml`
//! drop-ins, the `MISE_ENV` profiles (`mise.{env}.toml`), the legacy `.rtx.toml`, and the global
//! `~/.config/mise/config.toml` (the walk finds it only as a project file of `~`, as mise does).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Declared, Found, Spec, declared, invalid};
use crate::error::Result;
use crate::version::VersionSpec;

pub const SPEC: Spec = Spec {
    name: "mise.toml",
    kind: "mise",
    files: &[
        ".mise.local.toml",
        "mise.local.toml",
        "mise/config.local.toml",
        ".mise/config.local.toml",
        ".config/mise.local.toml",
        ".config/mise/mise.local.toml",
        ".config/mise/config.local.toml",
        ".mise.toml",
        "mise.toml",
        "mise/config.toml",
        ".mise/config.toml",
        ".config/mise.toml",
        ".config/mise/mise.toml",
        ".config/mise/config.toml",
    ],
    read,
    fix,
};

/// The names mise gives Go in `[tools]`: its registry's short name and the backend.
const KEYS: [&str; 2] = ["go", "core:go"];

const FORMS: &str = "write e.g. `go = \"1.24\"`, `go = \"1.24.3\"`, `go = [\"1.24.3\"]` or \
     `go = { version = \"1.24.3\" }` (gowarden does not resolve `latest`, `system`, `prefix:`, \
     `ref:` or `path:` versions)";

fn fix(at: &Declared, target: &str) -> String {
    format!("set `go` in [tools] at {} to \"{target}\"", at.location())
}

#[derive(Deserialize)]
struct MiseFile {
    #[serde(default)]
    tools: BTreeMap<String, Spanned<toml::Value>>,
}

/// A file without a go tool is not a Go version source: the search goes on upward, as mise's
/// merge of parent directories does. A file that is not TOML is an error: mise refuses it too,
/// and what it would have pinned is unknown.
fn read(path: &Path, bytes: Vec<u8>) -> Result<Option<Found>> {
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(invalid(
            path,
            None,
            format!("{}: not UTF-8 text, so not TOML", path.display()),
        ));
    };
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let file: MiseFile = match toml::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            let line = e.span().map(|s| line_of(s.start));
            let at = match line {
                Some(l) => format!("{}:{l}", path.display()),
                None => path.display().to_string(),
            };
            return Ok(invalid(
                path,
                line,
                format!(
                    "{at}: not a mise config file mise could load: {}; fix the TOML",
                    e.message().trim_end()
                ),
            ));
        }
    };
    let Some((key, value)) = KEYS
        .iter()
        .find_map(|k| file.tools.get(*k).map(|v| (*k, v)))
    else {
        return Ok(None);
    };
    let line = line_of(value.span().start);
    let bad = |why: &str| {
        invalid(
            path,
            Some(line),
            format!("{}:{line}: [tools] {key} {why}; {FORMS}", path.display()),
        )
    };
    // mise's forms: a version, a list of them (the first is the one on PATH), or a table of
    // options with `version` (in a list, too).
    let first = match value.get_ref() {
        toml::Value::Array(list) => match list.first() {
            Some(v) => v,
            None => return Ok(bad("is an empty list")),
        },
        other => other,
    };
    let written = match first {
        toml::Value::String(s) => s.as_str(),
        toml::Value::Table(t) => match t.get("version") {
            Some(toml::Value::String(s)) => s.as_str(),
            Some(_) => return Ok(bad("has a `version` that is not a string")),
            None => return Ok(bad("is a table without `version`")),
        },
        _ => return Ok(bad("is neither a version string, a list nor a table")),
    };
    if VersionSpec::parse(written).is_none() {
        return Ok(bad(&format!(
            "= {written:?} is not a Go version gowarden can resolve"
        )));
    }
    Ok(declared(path, line, written))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Option<std::result::Result<(String, usize), String>> {
        let p = Path::new("/d/mise.toml");
        read(p, text.as_bytes().to_vec()).unwrap().map(|f| {
            f.map(|d| (d.value, d.line))
                .map_err(|i| i.error.message().replace(&p.display().to_string(), "F"))
        })
    }

    #[test]
    fn every_form_mise_writes() {
        let ok = |v: &str, line| Some(Ok((v.to_string(), line)));
        assert_eq!(read_text("[tools]\ngo = \"1.24\"\n"), ok("1.24", 2));
        assert_eq!(
            read_text("[env]\nA = \"b\"\n[tools]\nnode = \"22\"\ngo = [\"1.24.3\", \"1.23\"]\n"),
            ok("1.24.3", 5)
        );
        assert_eq!(
            read_text("[tools]\ngo = { version = \"1.23.4\", os = [\"linux\"] }\n"),
            ok("1.23.4", 2)
        );
        assert_eq!(
            read_text("[tools]\n\"core:go\" = [{ version = \"1.22\" }]\n"),
            ok("1.22", 2)
        );
        assert_eq!(
            read_text("[tools.go]\nversion = \"1.25.5\"\n"),
            ok("1.25.5", 1)
        );
        assert_eq!(read_text("[tools]\nnode = \"22\"\n"), None);
        assert_eq!(read_text("min_version = \"2024.1\"\n"), None);
    }

    #[test]
    fn errors_name_file_line_and_fix() {
        let err = |t: &str| match read_text(t) {
            Some(Err(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err("[tools]\ngo = \"latest\"\n"),
            format!(
                "F:2: [tools] go = \"latest\" is not a Go version gowarden can resolve; {FORMS}"
            )
        );
        assert_eq!(
            err("[tools]\ngo = []\n"),
            format!("F:2: [tools] go is an empty list; {FORMS}")
        );
        assert_eq!(
            err("[tools]\n\ngo = { os = [\"linux\"] }\n"),
            format!("F:3: [tools] go is a table without `version`; {FORMS}")
        );
        let e = err("[tools]\ngo = \"1.24\n");
        assert!(
            e.starts_with("F:2: not a mise config file mise could load: "),
            "{e}"
        );
        assert!(e.ends_with("; fix the TOML"), "{e}");
    }
}
