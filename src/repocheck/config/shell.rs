//! The part of POSIX shell grammar the lint needs: simple commands, their variable
//! assignments (`K=v cmd`, `export K=v`, `declare -x K=v`) and words, with quoting as the
//! shell removes it (`'…'`, `"…"` with its four escapes, `$'…'`, backslashes, line
//! continuations), comments, here-documents (skipped) and the operators that end a command.
//! Expansions (`$(…)`, `` `…` ``, `${…}`) are kept as written inside their word: their value
//! is not known before the script runs.
//!
//! Offsets are byte offsets into the text given; the caller maps them to file positions.

/// A word with its quotes removed, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub start: usize,
    /// Holds an unquoted `=` before any quote: a candidate assignment (`K=v`).
    pub bare_eq: Option<usize>,
}

/// A simple command: its assignments (key, value, offset of the key) and its words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Simple {
    pub assigns: Vec<(String, String, usize)>,
    pub words: Vec<Word>,
}

/// Words that open a compound command or negate one: the command word follows them.
const PREFIX_KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "exec", "command",
    "sudo", "env", "nohup",
];
/// Words after which the rest of the command is not a command (`for x in …`, `case … in`).
const SKIP_KEYWORDS: &[&str] = &["for", "case", "select", "function"];
const CLOSE_KEYWORDS: &[&str] = &["fi", "done", "esac", "}", "then", "else", "do"];

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch == '_' || ch.is_ascii_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
}

struct Lexer<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    heredocs: Vec<(String, bool)>,
}

enum Tok {
    Word(Word),
    /// `;`, `&`, `|`, `&&`, `||`, newline, `(`, `)`: the command ends.
    End,
    Eof,
}

impl<'a> Lexer<'a> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.s.get(self.i + k).copied()
    }

    /// Skips the bodies of pending here-documents after a newline.
    fn skip_heredocs(&mut self) {
        for (delim, strip_tabs) in std::mem::take(&mut self.heredocs) {
            while self.i < self.s.len() {
                let end = self.text[self.i..]
                    .find('\n')
                    .map_or(self.s.len(), |n| self.i + n);
                let line = &self.text[self.i..end];
                let line = if strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                self.i = (end + 1).min(self.s.len());
                if line == delim {
                    break;
                }
            }
        }
    }

    /// Copies a `$(…)`, `${…}` or `` `…` `` expansion as written.
    fn expansion(&mut self, out: &mut String) {
        let start = self.i;
        if self.peek(0) == Some(b'`') {
            self.i += 1;
            while let Some(c) = self.peek(0) {
                self.i += 1;
                if c == b'\\' {
                    self.i += 1;
                } else if c == b'`' {
                    break;
                }
            }
        } else {
            let (open, close) = if self.peek(1) == Some(b'{') {
                (b'{', b'}')
            } else {
                (b'(', b')')
            };
            self.i += 2;
            let mut depth = 1;
            while let Some(c) = self.peek(0) {
                self.i += 1;
                match c {
                    b'\\' => self.i += 1,
                    b'\'' => {
                        while let Some(q) = self.peek(0) {
                            self.i += 1;
                            if q == b'\'' {
                                break;
                            }
                        }
                    }
                    c if c == open => depth += 1,
                    c if c == close => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
        let end = self.i.min(self.s.len());
        out.push_str(&self.text[start..end]);
    }

    fn next(&mut self) -> Tok {
        // Blanks, continuations, comments.
        loop {
            match self.peek(0) {
                Some(b' ' | b'\t' | b'\r') => self.i += 1,
                Some(b'\\') if self.peek(1) == Some(b'\n') => self.i += 2,
                Some(b'#') => {
                    while !matches!(self.peek(0), None | Some(b'\n')) {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
        let Some(c) = self.peek(0) else {
            return Tok::Eof;
        };
        match c {
            b'\n' => {
                self.i += 1;
                self.skip_heredocs();
                return Tok::End;
            }
            b';' | b'&' | b'|' | b'(' | b')' => {
                self.i += 1;
                if matches!(self.peek(0), Some(b'&' | b'|' | b';')) && c != b'(' && c != b')' {
                    self.i += 1;
                }
                return Tok::End;
            }
            _ => {}
        }
        let start = self.i;
        let mut text = String::new();
        let mut bare_eq = None;
        let mut quoted = false;
        while let Some(c) = self.peek(0) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' => break,
                b'<' | b'>' => {
                    if !text.is_empty() && !text.bytes().all(|b| b.is_ascii_digit()) {
                        break;
                    }
                    // A redirection: the operator and its target are no word of the command.
                    let heredoc = c == b'<' && self.peek(1) == Some(b'<');
                    self.i += 1;
                    while matches!(self.peek(0), Some(b'<' | b'>' | b'&' | b'-' | b'|')) {
                        self.i += 1;
                    }
                    let strip = heredoc && self.s[..self.i].ends_with(b"-");
                    if heredoc && self.s[..self.i].ends_with(b"<<<") {
                        let _ = self.next();
                        return self.next();
                    }
                    match self.next() {
                        Tok::Word(w) if heredoc => {
                            self.heredocs.push((w.text, strip));
                            return self.next();
                        }
                        Tok::Word(_) => return self.next(),
                        other => return other,
                    }
                }
                b'\\' => {
                    match self.peek(1) {
                        Some(b'\n') => {}
                        Some(n) => text.push(n as char),
                        None => {}
                    }
                    self.i += 2;
                    quoted = true;
                }
                b'\'' => {
                    self.i += 1;
                    let from = self.i;
                    while !matches!(self.peek(0), None | Some(b'\'')) {
                        self.i += 1;
                    }
                    text.push_str(&self.text[from..self.i.min(self.s.len())]);
                    self.i += 1;
                    quoted = true;
                }
                b'"' => {
                    self.i += 1;
                    while let Some(d) = self.peek(0) {
                        match d {
                            b'"' => {
                                self.i += 1;
                                break;
                            }
                            b'\\'
                                if matches!(
                                    self.peek(1),
                                    Some(b'$' | b'`' | b'"' | b'\\' | b'\n')
                                ) =>
                            {
                                if self.peek(1) != Some(b'\n') {
                                    text.push(self.s[self.i + 1] as char);
                                }
                                self.i += 2;
                            }
                            b'$' if matches!(self.peek(1), Some(b'(' | b'{')) => {
                                self.expansion(&mut text)
                            }
                            b'`' => self.expansion(&mut text),
                            _ => {
                                let ch = self.text[self.i..].chars().next().unwrap_or(' ');
                                text.push(ch);
                                self.i += ch.len_utf8();
                            }
                        }
                    }
                    quoted = true;
                }
                b'$' if self.peek(1) == Some(b'\'') => {
                    self.i += 2;
                    while let Some(d) = self.peek(0) {
                        self.i += 1;
                        match d {
                            b'\'' => break,
                            b'\\' => {
                                let e = self.peek(0).unwrap_or(b'\\');
                                self.i += 1;
                                text.push(match e {
                                    b'n' => '\n',
                                    b't' => '\t',
                                    other => other as char,
                                });
                            }
                            other => text.push(other as char),
                        }
                    }
                    quoted = true;
                }
                b'$' if matches!(self.peek(1), Some(b'(' | b'{')) => self.expansion(&mut text),
                b'`' => self.expansion(&mut text),
                b'=' if bare_eq.is_none() && !quoted => {
                    bare_eq = Some(text.len());
                    text.push('=');
                    self.i += 1;
                }
                _ => {
                    let ch = self.text[self.i..].chars().next().unwrap_or(' ');
                    text.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
        Tok::Word(Word {
            text,
            start,
            bare_eq,
        })
    }
}

/// The simple commands of a script.
pub fn parse(text: &str) -> Vec<Simple> {
    let mut lx = Lexer {
        s: text.as_bytes(),
        text,
        i: 0,
        heredocs: Vec::new(),
    };
    let mut out = Vec::new();
    let mut cur = Simple::default();
    let mut skipping = false;
    loop {
        match lx.next() {
            Tok::Word(w) => {
                if skipping {
                    continue;
                }
                if cur.words.is_empty() {
                    if let Some(eq) = w.bare_eq
                        && is_name(&w.text[..eq])
                    {
                        cur.assigns.push((
                            w.text[..eq].to_string(),
                            w.text[eq + 1..].to_string(),
                            w.start,
                        ));
                        continue;
                    }
                    if PREFIX_KEYWORDS.contains(&w.text.as_str()) {
                        // `env K=v cmd` and `sudo K=v cmd` set K for cmd like a prefix does.
                        continue;
                    }
                    if CLOSE_KEYWORDS.contains(&w.text.as_str()) {
                        continue;
                    }
                    if SKIP_KEYWORDS.contains(&w.text.as_str()) {
                        skipping = true;
                        continue;
                    }
                }
                cur.words.push(w);
            }
            Tok::End | Tok::Eof => {
                let eof = lx.i >= lx.s.len();
                skipping = false;
                if !cur.words.is_empty() || !cur.assigns.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                if eof {
                    break;
                }
            }
        }
    }
    out
}

/// Assignments a command makes for the commands after it or for itself: prefixes (`K=v cmd`),
/// bare assignments (`K=v`), and the arguments of `export`/`declare -x`/`typeset -x`/
/// `readonly`/`local`, as (key, value, offset of the key).
pub fn settings(c: &Simple) -> Vec<(String, String, usize)> {
    let mut out = c.assigns.clone();
    let Some(first) = c.words.first() else {
        return out;
    };
    if matches!(
        first.text.as_str(),
        "export" | "declare" | "typeset" | "readonly" | "local"
    ) {
        for w in &c.words[1..] {
            if let Some(eq) = w.bare_eq
                && is_name(&w.text[..eq])
            {
                out.push((
                    w.text[..eq].to_string(),
                    w.text[eq + 1..].to_string(),
                    w.start,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(c: &Simple) -> Vec<&str> {
        c.words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn quoting_continuations_and_operators() {
        let src = "export GOFLAGS=\"-mod=mod -trimpath\" GOPROXY='direct'\n\
                   GOSUMDB=off go build \\\n  -o bin/x ./... && echo \"$(go env GOPATH)\" # c\n\
                   cat <<EOF\nGOFLAGS=not-a-command\nEOF\nif true; then go install a/b@latest; fi\n";
        let cs = parse(src);
        let all: Vec<Vec<&str>> = cs.iter().map(words).collect();
        assert_eq!(
            all,
            vec![
                vec!["export", "GOFLAGS=-mod=mod -trimpath", "GOPROXY=direct"],
                vec!["go", "build", "-o", "bin/x", "./..."],
                vec!["echo", "$(go env GOPATH)"],
                vec!["cat"],
                vec!["true"],
                vec!["go", "install", "a/b@latest"],
            ]
        );
        let s = settings(&cs[0]);
        assert_eq!(s[0].0, "GOFLAGS");
        assert_eq!(s[0].1, "-mod=mod -trimpath");
        assert_eq!(&src[s[0].2..s[0].2 + 7], "GOFLAGS");
        assert_eq!(s[1].1, "direct");
        assert_eq!(
            cs[1].assigns,
            vec![("GOSUMDB".into(), "off".into(), src.find("GOSUMDB").unwrap())]
        );
        assert_eq!(&src[cs[5].words[0].start..][..10], "go install");
    }

    #[test]
    fn ansi_c_quotes_and_redirections() {
        let cs = parse("A=$'x\\ty' cmd 2>/dev/null >out arg\nfor f in a b; do rm $f; done\n");
        assert_eq!(cs[0].assigns[0].1, "x\ty");
        assert_eq!(words(&cs[0]), vec!["cmd", "arg"]);
        assert_eq!(
            cs.iter().map(words).collect::<Vec<_>>()[1..],
            [vec!["rm", "$f"]]
        );
    }
}
