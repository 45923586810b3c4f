//! Go's quoted strings as `strconv.QuotedPrefix` and `strconv.Unquote` read them: build
//! settings whose key or value holds a space, tab, newline or quote are written quoted
//! (runtime/debug `BuildInfo.String`), e.g. `-ldflags="-s -w -X main.v=1"`.

/// The quoted string at the start of `s` (`"…"` or `` `…` ``) and its length in bytes, or
/// `None` where `s` does not start with a valid one.
pub fn quoted_prefix(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let quote = *b.first()?;
    let end = match quote {
        b'`' => 1 + s[1..].find('`')? + 1,
        b'"' => {
            let mut i = 1;
            loop {
                match b.get(i)? {
                    b'"' => break i + 1,
                    b'\n' => return None,
                    b'\\' => i += 2,
                    _ => i += 1,
                }
            }
        }
        _ => return None,
    };
    let end = end.min(s.len());
    Some((unquote(&s[..end])?, end))
}

/// `strconv.Unquote` for a double- or back-quoted string (the only kinds a build line holds).
/// Bytes that are not UTF-8 (from `\x` escapes) become U+FFFD, as Go's JSON encoder shows them.
pub fn unquote(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b[b.len() - 1] {
        return None;
    }
    let inner = &s[1..s.len() - 1];
    match b[0] {
        b'`' => {
            if inner.contains('`') {
                return None;
            }
            // Go drops carriage returns from raw strings.
            Some(inner.replace('\r', ""))
        }
        b'"' => unescape(inner).map(|v| String::from_utf8_lossy(&v).into_owned()),
        _ => None,
    }
}

fn unescape(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    let hex = |chars: &mut std::str::Chars, n: usize| -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            v = v * 16 + chars.next()?.to_digit(16)?;
        }
        Some(v)
    };
    while let Some(c) = chars.next() {
        match c {
            '"' | '\n' => return None,
            '\\' => {}
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
        }
        let simple = match chars.next()? {
            'a' => 7,
            'b' => 8,
            'f' => 12,
            'n' => b'\n',
            'r' => b'\r',
            't' => b'\t',
            'v' => 11,
            '\\' => b'\\',
            '"' => b'"',
            'x' => u8::try_from(hex(&mut chars, 2)?).ok()?,
            d @ '0'..='7' => {
                let mut v = d.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + chars.next()?.to_digit(8)?;
                }
                u8::try_from(v).ok()?
            }
            u @ ('u' | 'U') => {
                let v = hex(&mut chars, if u == 'u' { 4 } else { 8 })?;
                let c = char::from_u32(v)?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            _ => return None,
        };
        out.push(simple);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes_as_go_does() {
        let cases: &[(&str, Option<&str>)] = &[
            (r#""-s -w""#, Some("-s -w")),
            (
                r#""a\"b\\c\n\t\x41\101\u00e9\U0001F600""#,
                Some("a\"b\\c\n\tAAé😀"),
            ),
            ("`raw \\n\r`", Some("raw \\n")),
            (r#""bad \q""#, None),
            (r#""unterminated"#, None),
            ("\"new\nline\"", None),
            (r#""\777""#, None),
            (r#""\uD800""#, None),
            (r#""""#, Some("")),
            ("\"", None),
        ];
        for (q, want) in cases {
            assert_eq!(unquote(q).as_deref(), *want, "{q:?}");
        }
    }

    #[test]
    fn quoted_prefix_stops_at_the_closing_quote() {
        assert_eq!(
            quoted_prefix(r#""a b\"c"=rest"#),
            Some(("a b\"c".to_string(), 8))
        );
        assert_eq!(quoted_prefix("`k`=v"), Some(("k".to_string(), 3)));
        assert_eq!(quoted_prefix(r#""open"#), None);
        assert_eq!(quoted_prefix(r#""ends in \"#), None);
        assert_eq!(quoted_prefix("plain"), None);
    }
}
