//! The layers as a test: which top-level module may import which, read from the `crate::`
//! paths in each module's code (comments and unit tests left out), and that there are no import
//! cycles. A new upward import or a new cycle fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Go facts (versions, version files, GOROOTs, go's grammar and env) and the plain helpers
/// they use: they import nothing but each other.
const FACTS: &[&str] = &[
    "atomic_file",
    "date",
    "dirat",
    "environ",
    "envvars",
    "error",
    "gocli",
    "goenv",
    "gomod",
    "hex",
    "identity",
    "location",
    "passwd",
    "path_lookup",
    "project",
    "rawfs",
    "stamp",
    "resolve",
    "toolchain",
    "userdirs",
    "version",
    "versionfile",
    "wildcard",
];

/// The outcomes every layer makes (a refusal, its rule, the role it records): above the Go
/// facts, below the policy. They may read the facts and the audit log's redaction.
const OUTCOMES: &[&str] = &["outcome"];
const OUTCOMES_MAY_IMPORT: &[&str] = &["audit"];

/// The mechanisms and what they must not know of: the shim, the CLI, drift, and the shim's
/// plan (which holds a loaded policy, so it sits above it).
const MECHANISMS: &[&str] = &["policy", "audit"];
const ABOVE_MECHANISMS: &[&str] = &["shim", "cli", "drift", "decision"];

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            let mut stack = vec![p];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap() {
                    let f = e.unwrap().path();
                    if f.is_dir() {
                        stack.push(f);
                    } else if f.extension().is_some_and(|x| x == "rs") {
                        files.entry(name.clone()).or_default().push(f);
                    }
                }
            }
        } else if name != "lib" && name != "main" && p.extension().is_some_and(|x| x == "rs") {
            files.entry(name).or_default().push(p);
        }
    }
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, paths) in &files {
        let out = edges.entry(m.clone()).or_default();
        for p in paths.iter().filter(|p| !p.ends_with("tests.rs")) {
            let text = std::fs::read_to_string(p).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            for line in code.lines() {
                let line = line.split("//").next().unwrap_or("");
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    if &name != m && modules.contains(&name) {
                        out.insert(name);
                    }
                }
            }
        }
    }
    edges
}

/// The strongly connected components with more than one module (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        for w in t.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.stack.contains(&w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out.sort();
    t.out
}

#[test]
fn go_facts_import_only_go_facts() {
    let edges = graph();
    let upward: Vec<String> = FACTS
        .iter()
        .flat_map(|f| {
            edges[*f]
                .iter()
                .filter(|to| !FACTS.contains(&to.as_str()))
                .map(move |to| format!("{f} -> {to}"))
        })
        .collect();
    assert_eq!(upward, Vec::<String>::new());
}

#[test]
fn outcomes_import_only_go_facts_and_redaction() {
    let edges = graph();
    let upward: Vec<String> = OUTCOMES
        .iter()
        .flat_map(|o| {
            edges[*o]
                .iter()
                .filter(|to| {
                    !FACTS.contains(&to.as_str()) && !OUTCOMES_MAY_IMPORT.contains(&to.as_str())
                })
                .map(move |to| format!("{o} -> {to}"))
        })
        .collect();
    assert_eq!(upward, Vec::<String>::new());
}

#[test]
fn audit_imports_only_plain_helpers() {
    // What would let audit/ become its own crate (docs/architecture.md) the day a second
    // consumer needs it: nothing of the policy or the outcomes, only Go facts' helpers.
    let edges = graph();
    let upward: Vec<&String> = edges["audit"]
        .iter()
        .filter(|to| !FACTS.contains(&to.as_str()))
        .collect();
    assert_eq!(upward, Vec::<&String>::new());
}

#[test]
fn policy_and_audit_know_nothing_of_the_shim_or_cli() {
    let edges = graph();
    let upward: Vec<String> = MECHANISMS
        .iter()
        .flat_map(|m| {
            edges[*m]
                .iter()
                .filter(|to| ABOVE_MECHANISMS.contains(&to.as_str()))
                .map(move |to| format!("{m} -> {to}"))
        })
        .collect();
    assert_eq!(upward, Vec::<String>::new());
}

#[test]
fn no_import_cycles() {
    assert_eq!(cycles(&graph()), Vec::<Vec<String>>::new());
}

#[test]
fn the_graph_reader_sees_imports_and_cycles() {
    // The reader itself: a known import is seen, and a cycle is found as one component.
    let edges = graph();
    assert!(edges["resolve"].contains("project"));
    assert!(!edges["project"].contains("resolve"));
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(a.into()).or_default().insert(b.into());
        g.entry(b.into()).or_default();
    }
    assert_eq!(cycles(&g), [["a", "b", "c"]]);
}
