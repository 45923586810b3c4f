//! YAML documents as a tree with source positions, built from yaml-rust2's event parser
//! (YAML 1.2, the one GitHub and GitLab read): anchors and aliases resolved (an alias is the
//! anchored node, with the anchor's positions, since that is the text to fix), `<<` merge keys
//! applied as GitLab applies them (keys written in the mapping win), scalars kept as written
//! (`go-version: 1.20` stays `1.20`, not the float 1.2).

use std::collections::HashMap;
use std::path::Path;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::repocheck::Place;

#[derive(Debug, Clone)]
pub enum Node {
    Scalar {
        value: String,
        style: TScalarStyle,
        mark: Marker,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match self {
            Node::Map(e) => e,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq(i) => i,
            _ => &[],
        }
    }
}

enum Frame {
    Seq(usize, Vec<Node>),
    Map(usize, Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    docs: Vec<Node>,
}

impl Builder {
    fn value(&mut self, n: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(n),
            Some(Frame::Seq(_, items)) => items.push(n),
            Some(Frame::Map(_, entries, key)) => match key.take() {
                None => *key = Some(n),
                Some(k) => entries.push((k, n)),
            },
        }
    }

    fn anchored(&mut self, id: usize, n: Node) {
        if id > 0 {
            self.anchors.insert(id, n.clone());
        }
        self.value(n);
    }
}

/// `<<: *x` and `<<: [*x, *y]`: the merged mappings' keys that the mapping does not set.
fn merge(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    let is_merge = |k: &Node| matches!(k, Node::Scalar { value, style: TScalarStyle::Plain, .. } if value == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return entries;
    }
    let mut own: Vec<(Node, Node)> = Vec::new();
    let mut merged: Vec<(Node, Node)> = Vec::new();
    for (k, v) in entries {
        if is_merge(&k) {
            let sources: Vec<Node> = match v {
                Node::Seq(items) => items,
                other => vec![other],
            };
            for s in sources {
                for (mk, mv) in s.entries() {
                    if !merged.iter().any(|(x, _)| x.as_str() == mk.as_str()) {
                        merged.push((mk.clone(), mv.clone()));
                    }
                }
            }
        } else {
            own.push((k, v));
        }
    }
    for (k, v) in merged {
        if !own.iter().any(|(x, _)| x.as_str() == k.as_str()) {
            own.push((k, v));
        }
    }
    own
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, style, id, _) => {
                self.anchored(id, Node::Scalar { value, style, mark })
            }
            Event::SequenceStart(id, _) => self.stack.push(Frame::Seq(id, Vec::new())),
            Event::MappingStart(id, _) => self.stack.push(Frame::Map(id, Vec::new(), None)),
            Event::SequenceEnd => {
                if let Some(Frame::Seq(id, items)) = self.stack.pop() {
                    self.anchored(id, Node::Seq(items));
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(id, entries, _)) = self.stack.pop() {
                    self.anchored(id, Node::Map(merge(entries)));
                }
            }
            Event::Alias(id) => {
                let n = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .unwrap_or(Node::Seq(Vec::new()));
                self.value(n);
            }
            _ => {}
        }
    }
}

/// Every document of `text`; `Err((line, column, message))` where it is not YAML.
pub fn load(text: &str) -> Result<Vec<Node>, (usize, usize, String)> {
    let mut b = Builder::default();
    let mut p = Parser::new_from_str(text);
    p.load(&mut b, true).map_err(|e| {
        let m = e.marker();
        (m.line(), m.col() + 1, e.info().to_string())
    })?;
    Ok(b.docs)
}

/// Maps a byte offset inside a scalar's value to its place in the file: a literal block
/// (`run: |`) line by line; any other scalar by its column on its first line.
pub fn scalar_place<'a>(
    node: &'a Node,
    source: &'a [&'a str],
    path: &'a Path,
) -> impl Fn(usize) -> Place + 'a {
    move |offset: usize| {
        let Node::Scalar { value, style, mark } = node else {
            return Place::line(path, 1);
        };
        let line0 = mark.line();
        let col0 = mark.col() + 1;
        let before = &value[..offset.min(value.len())];
        let k = before.matches('\n').count();
        let in_line = before.rsplit('\n').next().unwrap_or("").chars().count();
        match style {
            TScalarStyle::Literal => {
                // The scanner marks a block scalar at its first content line; every line of
                // the value is a line of the file, at the block's indentation.
                let indent = source
                    .iter()
                    .skip(line0.saturating_sub(1))
                    .find(|l| !l.trim().is_empty())
                    .map_or(0, |l| l.len() - l.trim_start().len());
                Place::at(path, line0 + k, indent + 1 + in_line)
            }
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted if k == 0 => {
                Place::at(path, line0, col0 + 1 + in_line)
            }
            TScalarStyle::Plain if k == 0 => Place::at(path, line0, col0 + in_line),
            _ => Place::at(path, line0, col0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_merges_and_positions() {
        let text = "base: &b\n  GOFLAGS: -mod=mod\n  X: 1\njob:\n  <<: *b\n  X: 2\n  v: 1.20\n";
        let docs = load(text).unwrap();
        let job = docs[0].get("job").unwrap();
        assert_eq!(job.get("X").and_then(Node::as_str), Some("2"));
        assert_eq!(job.get("v").and_then(Node::as_str), Some("1.20"));
        let g = job.get("GOFLAGS").unwrap();
        assert_eq!(g.as_str(), Some("-mod=mod"));
        let lines: Vec<&str> = text.lines().collect();
        let p = scalar_place(g, &lines, Path::new("f"))(0);
        assert_eq!((p.line, p.column), (2, 12));
        let e = load("a: [\n").unwrap_err();
        assert_eq!(e.0, 2);
    }

    #[test]
    fn literal_block_lines() {
        let text = "run: |\n  go build ./...\n  go install x@latest\n";
        let docs = load(text).unwrap();
        let run = docs[0].get("run").unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let v = run.as_str().unwrap();
        let at = v.find("go install").unwrap();
        let p = scalar_place(run, &lines, Path::new("f"))(at);
        assert_eq!((p.line, p.column), (3, 3));
    }
}
