//! The module information string of a Go binary, read as runtime/debug `ParseBuildInfo`
//! reads it: one line per fact, its fields separated by tabs (→ below), each line ending in
//! `\n` (a last line without one is ignored, as go ignores it):
//!
//! ```text
//! path→example.com/app/cmd/app
//! mod→example.com/app→v1.2.3→h1:…
//! dep→example.com/lib→v1.0.0→h1:…
//! dep→example.com/old→v1.0.0
//! =>→./old→(devel)
//! build→-ldflags="-s -w"
//! ```
//!
//! `=>` replaces the module on the line before it; a key or value holding a space, tab,
//! newline or quote is written as a Go quoted string. Lines of any other kind are skipped.

use super::quote;
use super::{BuildInfo, Module, Setting};

/// Why the string could not be read: the 1-based line and what is wrong with it, in go's
/// own words where go has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses `data` (the framing already removed). The go version is not part of it.
pub fn parse(data: &str) -> Result<BuildInfo, ParseError> {
    let mut bi = BuildInfo::default();
    // Where a `=>` line puts its replacement: the main module or a dependency.
    enum Last {
        None,
        Main,
        Dep(usize),
    }
    let mut last = Last::None;
    let mut rest = data;
    let mut line_no = 1;
    while let Some((line, tail)) = rest.split_once('\n') {
        rest = tail;
        let err = |message: String| ParseError {
            line: line_no,
            message,
        };
        if let Some(p) = line.strip_prefix("path\t") {
            bi.path = p.to_string();
        } else if let Some(m) = line.strip_prefix("mod\t") {
            bi.main = Some(module_line(m).map_err(err)?);
            last = Last::Main;
        } else if let Some(m) = line.strip_prefix("dep\t") {
            bi.deps.push(module_line(m).map_err(err)?);
            last = Last::Dep(bi.deps.len() - 1);
        } else if let Some(r) = line.strip_prefix("=>\t") {
            let elem: Vec<&str> = r.split('\t').collect();
            let [path, version, sum] = elem[..] else {
                return Err(err(format!(
                    "expected 3 columns for replacement; got {}",
                    elem.len()
                )));
            };
            let replace = Box::new(Module {
                path: path.into(),
                version: version.into(),
                sum: sum.into(),
                replace: None,
            });
            match last {
                Last::None => {
                    return Err(err("replacement with no module on previous line".into()));
                }
                Last::Main => {
                    bi.main.as_mut().expect("set with Last::Main").replace = Some(replace)
                }
                Last::Dep(i) => bi.deps[i].replace = Some(replace),
            }
            last = Last::None;
        } else if let Some(kv) = line.strip_prefix("build\t") {
            bi.settings.push(setting(kv).map_err(err)?);
        }
        line_no += 1;
    }
    Ok(bi)
}

fn module_line(cols: &str) -> Result<Module, String> {
    let elem: Vec<&str> = cols.split('\t').collect();
    if elem.len() != 2 && elem.len() != 3 {
        return Err(format!("expected 2 or 3 columns; got {}", elem.len()));
    }
    Ok(Module {
        path: elem[0].into(),
        version: elem[1].into(),
        sum: elem.get(2).copied().unwrap_or_default().into(),
        replace: None,
    })
}

/// go's `quoteKey`: a key that must be written quoted.
fn must_quote_key(key: &str) -> bool {
    key.is_empty() || key.contains(['=', ' ', '\t', '\r', '\n', '"', '`'])
}

/// go's `quoteValue`.
fn must_quote_value(value: &str) -> bool {
    value.contains([' ', '\t', '\r', '\n', '"', '`'])
}

fn setting(kv: &str) -> Result<Setting, String> {
    let (key, raw_value) = match kv.as_bytes().first() {
        None => return Err("build line missing '='".into()),
        Some(b'=') => return Err("build line with missing key".into()),
        Some(b'`' | b'"') => {
            let (key, n) = quote::quoted_prefix(kv).ok_or("invalid quoted key in build line")?;
            match kv.as_bytes().get(n) {
                None => return Err("build line missing '=' after quoted key".into()),
                Some(b'=') => (key, &kv[n + 1..]),
                Some(_) => {
                    let c = kv[n..].chars().next().unwrap_or_default();
                    return Err(format!("unexpected character after quoted key: {c:?}"));
                }
            }
        }
        Some(_) => {
            let (key, value) = kv
                .split_once('=')
                .ok_or("build line missing '=' after key")?;
            if must_quote_key(key) {
                return Err(format!("unquoted key {key:?} must be quoted"));
            }
            (key.to_string(), value)
        }
    };
    let value = match raw_value.as_bytes().first() {
        None => String::new(),
        Some(b'`' | b'"') => {
            quote::unquote(raw_value).ok_or("invalid quoted value in build line")?
        }
        Some(_) => {
            if must_quote_value(raw_value) {
                return Err(format!("unquoted value {raw_value:?} must be quoted"));
            }
            raw_value.to_string()
        }
    };
    Ok(Setting { key, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(path: &str, version: &str, sum: &str) -> Module {
        Module {
            path: path.into(),
            version: version.into(),
            sum: sum.into(),
            replace: None,
        }
    }

    #[test]
    fn reads_every_kind_of_line() {
        let text = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n\
                    dep\texample.com/a\tv1.0.0\th1:abc=\ndep\texample.com/b\tv1.0.0\n\
                    =>\t./b\t(devel)\t\n\nbuild\t-ldflags=\"-s -X 'a=b c'\"\n\
                    build\t\"k ey\"=v\nbuild\tCGO_ENABLED=\nunknown\tline\nbuild\tlast=dropped";
        let bi = parse(text).unwrap();
        assert_eq!(bi.path, "example.com/app");
        assert_eq!(bi.main, Some(m("example.com/app", "(devel)", "")));
        let mut b = m("example.com/b", "v1.0.0", "");
        b.replace = Some(Box::new(m("./b", "(devel)", "")));
        assert_eq!(bi.deps, vec![m("example.com/a", "v1.0.0", "h1:abc="), b]);
        let settings: Vec<(&str, &str)> = bi
            .settings
            .iter()
            .map(|s| (s.key.as_str(), s.value.as_str()))
            .collect();
        assert_eq!(
            settings,
            [
                ("-ldflags", "-s -X 'a=b c'"),
                ("k ey", "v"),
                ("CGO_ENABLED", "")
            ]
        );
    }

    #[test]
    fn bad_lines_are_errors_with_their_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("mod\ta\n", 1, "expected 2 or 3 columns; got 1"),
            (
                "path\tp\ndep\ta\tb\tc\td\n",
                2,
                "expected 2 or 3 columns; got 4",
            ),
            (
                "=>\ta\tb\tc\n",
                1,
                "replacement with no module on previous line",
            ),
            (
                "dep\ta\tv1\n=>\ta\tb\n",
                2,
                "expected 3 columns for replacement; got 2",
            ),
            (
                "dep\ta\tv1\n=>\tb\tv\t\n=>\tc\tv\t\n",
                3,
                "replacement with no module",
            ),
            ("build\t\n", 1, "build line missing '='"),
            ("build\t=v\n", 1, "build line with missing key"),
            ("build\tkey\n", 1, "build line missing '=' after key"),
            ("build\t\"k\n", 1, "invalid quoted key"),
            ("build\t\"k\"\n", 1, "missing '=' after quoted key"),
            (
                "build\t\"k\"x\n",
                1,
                "unexpected character after quoted key: 'x'",
            ),
            ("build\tk=a b\n", 1, "unquoted value \"a b\" must be quoted"),
            ("build\tk=\"a\n", 1, "invalid quoted value"),
        ];
        for (text, line, want) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, *line, "{text:?}");
            assert!(e.message.contains(want), "{text:?}: {}", e.message);
        }
    }
}
