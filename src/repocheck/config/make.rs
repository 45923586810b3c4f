//! Makefiles as GNU make reads them: logical lines (backslash-newline joins), comments,
//! `define`…`endef` blocks, variable assignments (`=`, `:=`, `::=`, `:::=`, `?=`, `+=`, `!=`,
//! with `export`/`override`/`private` in front, and target-specific `target: VAR = v`), and
//! recipe lines (a tab after a rule), which go to the shell reader. A Makefile's variable
//! reaches go when it is exported, or when the variable came from the environment (make
//! exports those with the Makefile's value): both are read as settings.

use std::path::Path;

use super::{Lines, Read, Setting, shell_into};

const OPS: &[&str] = &[":::=", "::=", ":=", "?=", "+=", "!=", "="];

/// (key, value, offset of the key in `line`) for an assignment line.
fn assignment(line: &str) -> Option<(String, String, usize)> {
    let mut rest = line;
    let mut skipped = line.len() - line.trim_start().len();
    rest = rest.trim_start();
    loop {
        let mut moved = false;
        for kw in ["export", "override", "private"] {
            if let Some(r) = rest.strip_prefix(kw)
                && r.starts_with([' ', '\t'])
            {
                let t = r.trim_start();
                skipped += rest.len() - t.len();
                rest = t;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    let name_len = rest
        .find(|c: char| c.is_whitespace() || "?:+!=".contains(c))
        .unwrap_or(rest.len());
    let name = &rest[..name_len];
    if name.is_empty() || name.contains('$') {
        return None;
    }
    let after = rest[name_len..].trim_start();
    let op = OPS.iter().find(|op| after.starts_with(**op))?;
    let value = after[op.len()..].trim_start();
    let value = strip_comment(value).trim_end();
    let value = join_continuations(value);
    Some((name.to_string(), value, skipped))
}

fn strip_comment(v: &str) -> &str {
    let b = v.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'#' && (i == 0 || b[i - 1] != b'\\') {
            return &v[..i];
        }
    }
    v
}

fn join_continuations(v: &str) -> String {
    let mut out = String::new();
    let mut parts = v.split("\\\n").peekable();
    while let Some(p) = parts.next() {
        out.push_str(
            p.trim_start_matches([' ', '\t'])
                .trim_end_matches([' ', '\t']),
        );
        if parts.peek().is_some() {
            out.push(' ');
        }
    }
    out
}

/// The colon that makes a line a rule: one not part of an assignment operator.
fn rule_colon(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut depth = 0;
    while i < b.len() {
        match b[i] {
            b'(' | b'{' => depth += 1,
            b')' | b'}' => depth -= 1,
            b'=' if depth == 0 => return None,
            b':' if depth == 0 => {
                if b.get(i + 1) == Some(&b'=') || line[i..].starts_with("::=") {
                    return None;
                }
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

pub fn read(out: &mut Read, path: &Path, text: &str, lines: &Lines<'_>) {
    let place = |o: usize| lines.place(path, o);
    let mut in_rule = false;
    let mut in_define = false;
    let mut offset = 0;
    let physical: Vec<&str> = text.split_inclusive('\n').collect();
    let mut i = 0;
    while i < physical.len() {
        // A logical line: physical lines joined while one ends in a backslash.
        let start = offset;
        let mut end = offset;
        while i < physical.len() {
            let p = physical[i];
            end += p.len();
            i += 1;
            let body = p.strip_suffix('\n').unwrap_or(p);
            let body = body.strip_suffix('\r').unwrap_or(body);
            let backslashes = body.len() - body.trim_end_matches('\\').len();
            if backslashes.is_multiple_of(2) {
                break;
            }
        }
        offset = end;
        let logical = text[start..end].trim_end_matches(['\n', '\r']);
        let trimmed = logical.trim_start();
        if in_define {
            if trimmed.starts_with("endef") {
                in_define = false;
            }
            continue;
        }
        if let Some(recipe) = logical.strip_prefix('\t')
            && in_rule
        {
            let lead = recipe.len() - recipe.trim_start_matches(['@', '-', '+', ' ', '\t']).len();
            let body = &recipe[lead..];
            shell_into(out, path, body, start + 1 + lead, &place);
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let first = trimmed.split_whitespace().next().unwrap_or("");
        if first == "define" || (first == "export" && trimmed.contains(" define ")) {
            in_define = true;
            continue;
        }
        if matches!(
            first,
            "ifeq"
                | "ifneq"
                | "ifdef"
                | "ifndef"
                | "else"
                | "endif"
                | "include"
                | "-include"
                | "sinclude"
                | "vpath"
                | "unexport"
        ) {
            continue;
        }
        if let Some(colon) = rule_colon(logical) {
            in_rule = true;
            let after = &logical[colon + 1..];
            let after_at = start + colon + 1;
            // `target: VAR = value` (target-specific) or `target: prereqs ; recipe`.
            if let Some((key, value, at)) = assignment(after.trim_start_matches(':')) {
                let skip = after.len() - after.trim_start_matches(':').len();
                out.settings.push(Setting {
                    key,
                    value,
                    at: place(after_at + skip + at),
                });
            } else if let Some(semi) = after.find(';') {
                shell_into(out, path, &after[semi + 1..], after_at + semi + 1, &place);
            }
            continue;
        }
        if let Some((key, value, at)) = assignment(logical) {
            in_rule = false;
            out.settings.push(Setting {
                key,
                value,
                at: place(start + at),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_forms() {
        let a = assignment;
        assert_eq!(
            a("GOFLAGS := -mod=mod"),
            Some(("GOFLAGS".into(), "-mod=mod".into(), 0))
        );
        assert_eq!(
            a("export GOPROXY ?= direct # why"),
            Some(("GOPROXY".into(), "direct".into(), 7))
        );
        assert_eq!(
            a("override X+=a \\\n   b"),
            Some(("X".into(), "a b".into(), 9))
        );
        assert_eq!(a("Y::=1"), Some(("Y".into(), "1".into(), 0)));
        assert_eq!(a("export"), None);
        assert_eq!(rule_colon("build: deps"), Some(5));
        assert_eq!(rule_colon("A := b:c"), None);
        assert_eq!(rule_colon("$(OUT)/x: y"), Some(8));
    }
}
