//! go.mod and go.work read with go's own grammar (golang.org/x/mod/modfile `read.go` and
//! `rule.go`, vendored in cmd/go 1.26.8), for the directives that decide *which code* go
//! builds: `module`, `replace` and `use`.
//!
//! The `go` and `toolchain` lines are not read here: go's toolchain selection reads them with
//! a line scanner of its own (cmd/go/internal/gover `GoModLookup`), which [`crate::project`]
//! mirrors. The module path is different: it places a project in its tier, and go parses it
//! with the full grammar, so a reader that takes the first `module` *line* is fooled by
//! `module (` … `)` (gowarden read the path as `(` and gave the default tier).
//!
//! The grammar, as the lexer and parser of x/mod read it:
//! - tokens are separated by spaces, tabs and `\r`; a newline ends a statement;
//! - `//` starts a comment to the end of the line; `/*` is an error;
//! - `(`, `)`, `[`, `]`, `{`, `}` and `,` are tokens of their own; `"…"` is a Go string
//!   (escapes allowed, no newline); anything else runs to the next separator;
//! - `verb (` followed by the end of the line opens a block: every following line up to a
//!   line that starts with `)` is one `verb …` statement (`module (`⏎`x`⏎`)` is `module x`);
//!   `verb ( x )` on one line is *not* a block (go: "usage: module module/path").
//!
//! A file go would reject is reported as [`ModSyntax::errors`]: go runs nothing with it, so the
//! caller may treat its content as unknown.

use std::path::{Path, PathBuf};

/// What the directives of one go.mod or go.work say about the code built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModSyntax {
    /// The module path and its 1-based line; `None` where there is no valid `module`.
    pub module: Option<(String, usize)>,
    /// `replace old [v] => new [v]` directives.
    pub replaces: Vec<Replace>,
    /// `use dir` directives (go.work), as written (relative to the file's directory).
    pub uses: Vec<(String, usize)>,
    /// `require path version` directives: the modules of the build list go.mod names.
    pub requires: Vec<Require>,
    /// `tool pkg` directives (Go 1.24+): (package path, line).
    pub tools: Vec<(String, usize)>,
    /// go's complaints, `line: message`; go refuses to run with such a file.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replace {
    pub old: String,
    /// The version on the left, where the replacement is of that version only.
    pub old_version: Option<String>,
    pub new: String,
    /// The version on the right; `None` for a directory.
    pub new_version: Option<String>,
    /// The new side has no version: a directory (modfile: it must then be a local path).
    pub new_is_dir: bool,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Require {
    pub path: String,
    pub version: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Open,
    Close,
    Punct,
}

/// Splits `text` into statements (line number, tokens), with blocks expanded.
fn statements(text: &str, errors: &mut Vec<String>) -> Vec<(usize, Vec<Tok>)> {
    let mut lines: Vec<(usize, Vec<Tok>)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let b = raw.as_bytes();
        let mut toks = Vec::new();
        let mut j = 0;
        while j < b.len() {
            let c = b[j];
            if matches!(c, b' ' | b'\t' | b'\r') {
                j += 1;
                continue;
            }
            if b[j..].starts_with(b"//") {
                break;
            }
            if b[j..].starts_with(b"/*") {
                errors.push(format!(
                    "{line}: mod files must use // comments (not /* */ comments)"
                ));
                break;
            }
            match c {
                b'(' => {
                    toks.push(Tok::Open);
                    j += 1;
                }
                b')' => {
                    toks.push(Tok::Close);
                    j += 1;
                }
                b'[' | b']' | b'{' | b'}' | b',' => {
                    toks.push(Tok::Punct);
                    j += 1;
                }
                b'"' => {
                    let start = j;
                    j += 1;
                    while j < b.len() && b[j] != b'"' {
                        if b[j] == b'\\' {
                            j += 1;
                        }
                        j += 1;
                    }
                    if j >= b.len() {
                        errors.push(format!("{line}: unterminated quoted string"));
                        break;
                    }
                    j += 1;
                    toks.push(Tok::Word(raw[start..j].to_string()));
                }
                _ => {
                    let start = j;
                    while j < b.len()
                        && !matches!(
                            b[j],
                            b' ' | b'\t' | b'\r' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b','
                        )
                        && !b[j..].starts_with(b"//")
                    {
                        j += 1;
                    }
                    toks.push(Tok::Word(raw[start..j].to_string()));
                }
            }
        }
        if !toks.is_empty() {
            lines.push((line, toks));
        }
    }
    let mut out = Vec::new();
    let mut block: Option<(String, usize)> = None;
    for (line, toks) in lines {
        if let Some((verb, _)) = &block {
            if toks.first() == Some(&Tok::Close) {
                block = None;
                continue;
            }
            let mut stmt = vec![Tok::Word(verb.clone())];
            stmt.extend(toks);
            out.push((line, stmt));
            continue;
        }
        if let [Tok::Word(verb), Tok::Open] = toks.as_slice() {
            block = Some((verb.clone(), line));
            continue;
        }
        out.push((line, toks));
    }
    if let Some((verb, opened)) = block {
        errors.push(format!("{opened}: {verb} block is not closed with `)`"));
    }
    out
}

/// modfile.parseString: a `"…"` token is unquoted; any other token may hold no quote.
fn string_arg(t: &Tok) -> Result<String, &'static str> {
    let Tok::Word(w) = t else {
        return Err("unexpected punctuation");
    };
    if let Some(inner) = w.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return unquote(inner).ok_or("invalid quoted string");
    }
    if w.contains(['"', '\'', '`']) {
        return Err("invalid quoted string: unquoted string cannot contain quote");
    }
    Ok(w.clone())
}

/// The escapes of a Go interpreted string that can appear in a path.
fn unquote(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'x' => {
                let h: String = chars.by_ref().take(2).collect();
                out.push(char::from(u8::from_str_radix(&h, 16).ok()?));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Parses go.mod or go.work text.
pub fn parse(text: &str) -> ModSyntax {
    let mut m = ModSyntax::default();
    let stmts = statements(text, &mut m.errors);
    for (line, toks) in stmts {
        let Some(Tok::Word(verb)) = toks.first() else {
            m.errors.push(format!("{line}: unexpected token"));
            continue;
        };
        let args = &toks[1..];
        match verb.as_str() {
            "module" => {
                if args.len() != 1 {
                    m.errors.push(format!("{line}: usage: module module/path"));
                    continue;
                }
                if m.module.is_some() {
                    m.errors.push(format!("{line}: repeated module statement"));
                    continue;
                }
                match string_arg(&args[0]) {
                    Ok(p) => m.module = Some((p, line)),
                    Err(e) => m.errors.push(format!("{line}: {e}")),
                }
            }
            "use" => match args {
                [a] => match string_arg(a) {
                    Ok(p) => m.uses.push((p, line)),
                    Err(e) => m.errors.push(format!("{line}: {e}")),
                },
                _ => m.errors.push(format!("{line}: usage: use local/dir")),
            },
            "tool" => match args {
                [a] => match string_arg(a) {
                    Ok(p) => m.tools.push((p, line)),
                    Err(e) => m.errors.push(format!("{line}: {e}")),
                },
                _ => m.errors.push(format!("{line}: usage: tool module/path")),
            },
            "require" => match args {
                [p, v] => match (string_arg(p), string_arg(v)) {
                    (Ok(path), Ok(version)) => m.requires.push(Require {
                        path,
                        version,
                        line,
                    }),
                    (Err(e), _) | (_, Err(e)) => m.errors.push(format!("{line}: {e}")),
                },
                _ => m
                    .errors
                    .push(format!("{line}: usage: require module/path v1.2.3")),
            },
            "replace" => {
                let arrow = args
                    .iter()
                    .position(|t| matches!(t, Tok::Word(w) if w == "=>"));
                let Some(at) = arrow else {
                    m.errors.push(format!(
                        "{line}: usage: replace module/path [v1.2.3] => ..."
                    ));
                    continue;
                };
                let (old, new) = (&args[..at], &args[at + 1..]);
                if old.is_empty() || old.len() > 2 || new.is_empty() || new.len() > 2 {
                    m.errors.push(format!(
                        "{line}: usage: replace module/path [v1.2.3] => ..."
                    ));
                    continue;
                }
                match (string_arg(&old[0]), string_arg(&new[0])) {
                    (Ok(o), Ok(n)) => m.replaces.push(Replace {
                        old: o,
                        old_version: old.get(1).and_then(|t| string_arg(t).ok()),
                        new: n,
                        new_version: new.get(1).and_then(|t| string_arg(t).ok()),
                        new_is_dir: new.len() == 1,
                        line,
                    }),
                    (Err(e), _) | (_, Err(e)) => m.errors.push(format!("{line}: {e}")),
                }
            }
            _ => {}
        }
    }
    m
}

/// modfile.IsDirectoryPath: the new side of a replace is a directory when it is rooted or
/// starts with `./` or `../` (or is `.`/`..`).
pub fn is_directory_path(p: &str) -> bool {
    p == "."
        || p == ".."
        || p.starts_with("./")
        || p.starts_with("../")
        || p.starts_with('/')
        || p.starts_with(".\\")
        || p.starts_with("..\\")
}

/// `dir` (relative to the file at `file`) as an absolute, lexically clean path.
pub fn resolve_dir(file: &Path, dir: &str) -> PathBuf {
    let base = file.parent().unwrap_or(Path::new("/"));
    clean(&base.join(dir))
}

/// filepath.Clean without touching the file system.
pub fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(text: &str) -> Option<String> {
        parse(text).module.map(|(p, _)| p)
    }

    #[test]
    fn module_forms_go_accepts() {
        assert_eq!(module("module a.b/c\n").as_deref(), Some("a.b/c"));
        assert_eq!(module("module a.b/c // x\n").as_deref(), Some("a.b/c"));
        assert_eq!(module("module \"a.b/q\"\n").as_deref(), Some("a.b/q"));
        assert_eq!(
            module("// c\nmodule (\n\t\"corp.example/risk/y\" // c\n)\n").as_deref(),
            Some("corp.example/risk/y")
        );
        assert_eq!(
            module("module (\n)\nmodule corp.example/after\n").as_deref(),
            Some("corp.example/after")
        );
        assert_eq!(
            module("module (\ncorp.example/one\n)\n").as_deref(),
            Some("corp.example/one")
        );
    }

    #[test]
    fn module_forms_go_rejects() {
        for text in [
            "module ( corp.example/risk/x )\n",
            "module `corp.example/z`\n",
            "/* x */ module corp.example/w\n",
        ] {
            let m = parse(text);
            assert!(!m.errors.is_empty(), "{text:?}");
        }
        let m = parse("module a\nmodule b\n");
        assert_eq!(m.module.map(|(p, _)| p).as_deref(), Some("a"));
        assert!(m.errors[0].contains("repeated module statement"));
    }

    #[test]
    fn replace_and_use() {
        let m = parse(
            "go 1.22\nuse (\n\t./a\n\t\"../b\"\n)\nuse ./c\nreplace (\n\tx.y/z v1.0.0 => ../fork\n\tq.r/s => q.r/t v1.2.3\n)\n",
        );
        assert_eq!(
            m.uses,
            vec![("./a".into(), 3), ("../b".into(), 4), ("./c".into(), 6)]
        );
        assert_eq!(m.replaces.len(), 2);
        assert_eq!(m.replaces[0].new, "../fork");
        assert!(m.replaces[0].new_is_dir);
        assert!(!m.replaces[1].new_is_dir);
    }

    #[test]
    fn tool_and_require() {
        let m = parse(
            "module a\ngo 1.24\ntool golang.org/x/tools/cmd/stringer\ntool (\n\t\"x.y/z/cmd/q\" // c\n)\nrequire x.y/z v1.2.3 // indirect\nrequire (\n\tgolang.org/x/tools v0.30.0\n)\n",
        );
        assert_eq!(
            m.tools,
            vec![
                ("golang.org/x/tools/cmd/stringer".into(), 3),
                ("x.y/z/cmd/q".into(), 5)
            ]
        );
        let requires: Vec<(&str, &str, usize)> = m
            .requires
            .iter()
            .map(|r| (r.path.as_str(), r.version.as_str(), r.line))
            .collect();
        assert_eq!(
            requires,
            vec![("x.y/z", "v1.2.3", 7), ("golang.org/x/tools", "v0.30.0", 9)]
        );
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        assert!(!parse("tool a b\n").errors.is_empty());
        assert!(!parse("require a\n").errors.is_empty());
    }

    #[test]
    fn requires_in_blocks_and_lines() {
        let m = parse(
            "module a\nrequire x.y/z v1.0.0 // indirect\nrequire (\n\t\"q.r/s\" v0.2.0\n\tbad\n)\n",
        );
        let got: Vec<(&str, &str, usize)> = m
            .requires
            .iter()
            .map(|r| (r.path.as_str(), r.version.as_str(), r.line))
            .collect();
        assert_eq!(got, vec![("x.y/z", "v1.0.0", 2), ("q.r/s", "v0.2.0", 4)]);
        assert_eq!(m.errors, vec!["5: usage: require module/path v1.2.3"]);
    }
}
