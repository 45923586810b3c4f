//! Dockerfiles and Containerfiles as BuildKit's parser reads them: the `# escape=` directive,
//! instructions continued by the escape character at a line's end (comment and empty lines
//! inside a continuation dropped), here-documents, and the instructions that matter to Go:
//! `FROM` (the image, with global `ARG` defaults substituted), `ENV` and `ARG` (both are in the
//! environment of every later `RUN` of the stage) and `RUN` (shell form to the shell reader,
//! exec form as JSON).

use std::collections::BTreeMap;
use std::path::Path;

use super::{Lines, Pin, PinKind, Read, Setting, shell, shell_into};
use crate::repocheck::CommandUse;

struct Instruction {
    word: String,
    /// Offset of the arguments in the file.
    args_at: usize,
    /// The arguments as the shell sees them: continuation comment lines blanked.
    args: String,
    heredocs: Vec<(usize, String)>,
}

fn instructions(text: &str) -> (Vec<Instruction>, char) {
    let physical: Vec<(usize, &str)> = {
        let mut v = Vec::new();
        let mut o = 0;
        for l in text.split_inclusive('\n') {
            v.push((o, l));
            o += l.len();
        }
        v
    };
    let mut escape = '\\';
    let mut i = 0;
    // Parser directives: only at the very top, before any other line.
    while i < physical.len() {
        let l = physical[i].1.trim();
        let Some(d) = l.strip_prefix('#') else { break };
        let d = d.trim();
        match d.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("escape") => {
                escape = v.trim().chars().next().unwrap_or('\\');
            }
            Some((k, _)) if k.trim().eq_ignore_ascii_case("syntax") => {}
            _ => break,
        }
        i += 1;
    }
    let continues = |body: &str| body.trim_end().ends_with(escape);
    let mut out = Vec::new();
    while i < physical.len() {
        let (start, line) = physical[i];
        i += 1;
        let t = line.trim_start();
        if t.trim().is_empty() || t.starts_with('#') {
            continue;
        }
        let lead = line.len() - t.len();
        let word_len = t.find(char::is_whitespace).unwrap_or(t.len());
        let word = t[..word_len].to_ascii_uppercase();
        let args_at = start + lead + word_len;
        let mut args = line[lead + word_len..].to_string();
        let mut last = line;
        while continues(last.trim_end_matches(['\n', '\r'])) && i < physical.len() {
            let (_, next) = physical[i];
            i += 1;
            let nt = next.trim_start();
            if nt.starts_with('#') || nt.trim().is_empty() {
                // Dropped by the parser: blank it, keeping every offset.
                args.push_str(&" ".repeat(next.len()));
                continue;
            }
            args.push_str(next);
            last = next;
        }
        // Here-documents (`RUN <<EOF` … `EOF`) follow the instruction's last line.
        let mut heredocs = Vec::new();
        for w in args.split_whitespace() {
            let Some(rest) = w.strip_prefix("<<") else {
                continue;
            };
            let strip = rest.starts_with('-');
            let delim = rest.trim_start_matches('-').trim_matches(['"', '\'']);
            if delim.is_empty() {
                continue;
            }
            let body_at = physical.get(i).map_or(text.len(), |p| p.0);
            let mut body = String::new();
            while i < physical.len() {
                let l = physical[i].1;
                i += 1;
                let cmp = l.trim_end_matches(['\n', '\r']);
                let cmp = if strip {
                    cmp.trim_start_matches('\t')
                } else {
                    cmp
                };
                if cmp == delim {
                    break;
                }
                body.push_str(l);
            }
            heredocs.push((body_at, body));
        }
        out.push(Instruction {
            word,
            args_at,
            args,
            heredocs,
        });
    }
    (out, escape)
}

/// `$VAR`/`${VAR}` (and `${VAR:-default}`) replaced from `vars`, as FROM expands global ARGs.
fn substitute(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, default, used) = if let Some(b) = after.strip_prefix('{') {
            match b.find('}') {
                Some(end) => {
                    let inner = &b[..end];
                    let (n, d) = match inner.split_once(":-") {
                        Some((n, d)) => (n, Some(d)),
                        None => (inner, None),
                    };
                    (n.to_string(), d.map(str::to_string), end + 2)
                }
                None => (String::new(), None, 0),
            }
        } else {
            let n: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let len = n.len();
            (n, None, len)
        };
        match vars.get(&name).cloned().or(default) {
            Some(v) if !name.is_empty() => out.push_str(&v),
            _ => out.push_str(&rest[at..at + 1 + used]),
        }
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

pub fn read(out: &mut Read, path: &Path, text: &str, lines: &Lines<'_>) {
    let place = |o: usize| lines.place(path, o);
    let (list, escape) = instructions(text);
    let mut global_args: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut seen_from = false;
    for ins in &list {
        let args = ins.args.as_str();
        let lead = args.len() - args.trim_start().len();
        let body = &args[lead..];
        let body_at = ins.args_at + lead;
        match ins.word.as_str() {
            "FROM" => {
                seen_from = true;
                let mut off = 0;
                let mut image = None;
                let mut stage = None;
                let words: Vec<(usize, &str)> = body
                    .split_whitespace()
                    .map(|w| {
                        let at = body[off..].find(w).map_or(off, |p| off + p);
                        off = at + w.len();
                        (at, w)
                    })
                    .collect();
                for (idx, (at, w)) in words.iter().enumerate() {
                    if w.starts_with("--") {
                        continue;
                    }
                    image = Some((*at, *w));
                    if let Some((_, kw)) = words.get(idx + 1)
                        && kw.eq_ignore_ascii_case("as")
                        && let Some((_, name)) = words.get(idx + 2)
                    {
                        stage = Some(name.to_ascii_lowercase());
                    }
                    break;
                }
                if let Some((at, w)) = image {
                    let value = substitute(w, &global_args);
                    // `FROM build` names an earlier stage, not an image.
                    if !stages.contains(&value.to_ascii_lowercase()) {
                        out.pins.push(Pin {
                            kind: PinKind::Image,
                            value,
                            at: place(body_at + at),
                        });
                    }
                }
                stages.extend(stage);
            }
            "ENV" | "ARG" => {
                let cmds = shell::parse(body);
                let Some(c) = cmds.first() else { continue };
                let legacy = ins.word == "ENV" && c.assigns.is_empty();
                if legacy {
                    // `ENV KEY value with spaces`.
                    if let Some(first) = c.words.first() {
                        let rest = body[first.start + first.text.len()..].trim();
                        out.settings.push(Setting {
                            key: first.text.clone(),
                            value: rest.to_string(),
                            at: place(body_at + first.start),
                        });
                    }
                    continue;
                }
                for (k, v, at) in &c.assigns {
                    if ins.word == "ARG" && !seen_from {
                        global_args.insert(k.clone(), v.clone());
                        continue;
                    }
                    out.settings.push(Setting {
                        key: k.clone(),
                        value: v.clone(),
                        at: place(body_at + at),
                    });
                }
            }
            "RUN" => {
                if escape == '`' {
                    // A Windows image: RUN is cmd or PowerShell, not a POSIX shell.
                    continue;
                }
                // Flags first: --mount=…, --network=…, --security=….
                let mut rest = body;
                let mut rest_at = body_at;
                while rest.starts_with("--") {
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    let t = rest[end..].trim_start();
                    rest_at += rest.len() - t.len();
                    rest = t;
                }
                if rest.starts_with('[')
                    && let Ok(words) = serde_json::from_str::<Vec<String>>(rest.trim())
                {
                    if let Some((first, args)) = words.split_first() {
                        out.commands.push(CommandUse {
                            word: first.clone(),
                            args: args.to_vec(),
                            at: place(rest_at),
                        });
                    }
                    continue;
                }
                shell_into(out, path, rest, rest_at, &place);
                for (at, body) in &ins.heredocs {
                    shell_into(out, path, body, *at, &place);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_args_in_from() {
        let mut vars = BTreeMap::new();
        vars.insert("GO_VERSION".to_string(), "1.22.3".to_string());
        assert_eq!(
            substitute("golang:${GO_VERSION}-alpine", &vars),
            "golang:1.22.3-alpine"
        );
        assert_eq!(substitute("golang:$GO_VERSION", &vars), "golang:1.22.3");
        assert_eq!(substitute("golang:${X:-1.21}", &vars), "golang:1.21");
        assert_eq!(substitute("golang:${X}", &vars), "golang:${X}");
    }
}
