//! `*` (any run, also empty) and `?` (one byte) wildcards, ASCII case ignored: the patterns
//! over environment variable names that the policy's roles (`env_keys`) and the audit log's
//! redaction (`redact_keys`) both take.
//!
//! Case is ignored because `*TOKEN*` is meant to catch `github_token` too (for redaction,
//! matching too much is the safe mistake; a deny rule should not be dodged by case either).
//! The text comes from command lines and environments, so the match is the iterative one that
//! backtracks only to the last `*` (at most pattern × text steps), never a recursion a long
//! input could make exponential.

pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was and the text position it is currently stretched to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_questions_and_case() {
        let m = |p: &str, t: &str| matches(p.as_bytes(), t.as_bytes());
        assert!(m("*TOKEN*", "GITHUB_TOKEN"));
        assert!(m("*TOKEN*", "github_token_x"));
        assert!(m("*TOKEN*", "TOKEN"));
        assert!(!m("*TOKEN*", "TOKE"));
        assert!(m("AWS_*", "AWS_SECRET"));
        assert!(!m("AWS_*", "MY_AWS_SECRET"));
        assert!(m("GO?ROXY", "GOPROXY"));
        assert!(!m("GO?ROXY", "GOROXY"));
        assert!(m("*", ""));
        assert!(!m("", "x"));
        assert!(m("a*b*c", "aXXbYYbZc"));
        assert!(!m("a*b*c", "aXXbYYbZ"));
        assert!(m("GOFLAGS", "goflags"));
        // Linear: a long key against many stars answers at once.
        let long = "a".repeat(20_000);
        assert!(!m(
            &"*a"
                .repeat(50)
                .chars()
                .chain("b".chars())
                .collect::<String>(),
            &long
        ));
    }
}
