//! CI definitions: GitHub Actions workflows (`env` at workflow, job and step level, `run`
//! steps, job containers and services, `actions/setup-go`'s `go-version`, with
//! `${{ matrix.X }}` taken from the job's matrix) and `.gitlab-ci.yml` (`variables`, `image`,
//! `services`, `script`/`before_script`/`after_script`, at top level, in `default` and in
//! every job, hidden `.templates` included since anchors and `extends` bring them in).

use std::path::Path;

use super::yaml::{self, Node};
use super::{Pin, PinKind, Read, Setting, shell_into};
use crate::repocheck::Place;

fn load(out: &mut Read, path: &Path, text: &str) -> Option<Vec<Node>> {
    match yaml::load(text) {
        Ok(d) => Some(d),
        Err((line, col, msg)) => {
            out.errors
                .push((Place::at(path, line, col), format!("not valid YAML: {msg}")));
            None
        }
    }
}

fn env_map(out: &mut Read, node: Option<&Node>, src: &[&str], path: &Path) {
    let Some(node) = node else { return };
    for (k, v) in node.entries() {
        // GitLab: `KEY: {value: "...", description: "..."}`.
        let v = v.get("value").unwrap_or(v);
        let (Some(key), Some(value)) = (k.as_str(), v.as_str()) else {
            continue;
        };
        out.settings.push(Setting {
            key: key.to_string(),
            value: value.to_string(),
            at: yaml::scalar_place(k, src, path)(0),
        });
    }
}

fn script(out: &mut Read, node: &Node, src: &[&str], path: &Path) {
    match node {
        Node::Seq(items) => {
            for i in items {
                script(out, i, src, path);
            }
        }
        Node::Scalar { value, .. } => {
            let place = yaml::scalar_place(node, src, path);
            shell_into(out, path, value, 0, &place);
        }
        Node::Map(_) => {}
    }
}

fn image(out: &mut Read, node: Option<&Node>, src: &[&str], path: &Path) {
    let Some(node) = node else { return };
    let n = node.get("image").or(node.get("name")).unwrap_or(node);
    if let Some(v) = n.as_str() {
        out.pins.push(Pin {
            kind: PinKind::Image,
            value: v.to_string(),
            at: yaml::scalar_place(n, src, path)(0),
        });
    }
}

/// The values `${{ matrix.KEY }}` takes in a job: its `strategy.matrix.KEY` list and the
/// `include` entries that set KEY.
fn matrix_values<'a>(job: &'a Node, key: &str) -> Vec<&'a Node> {
    let Some(m) = job.get("strategy").and_then(|s| s.get("matrix")) else {
        return Vec::new();
    };
    let mut out: Vec<&Node> = m
        .get(key)
        .map(|l| l.items().iter().collect())
        .unwrap_or_default();
    if let Some(inc) = m.get("include") {
        out.extend(inc.items().iter().filter_map(|e| e.get(key)));
    }
    out
}

pub fn read_github(out: &mut Read, path: &Path, text: &str) {
    let Some(docs) = load(out, path, text) else {
        return;
    };
    let src: Vec<&str> = text.lines().collect();
    let src = &src[..];
    for doc in &docs {
        env_map(out, doc.get("env"), src, path);
        let Some(jobs) = doc.get("jobs") else {
            continue;
        };
        for (_, job) in jobs.entries() {
            env_map(out, job.get("env"), src, path);
            if let Some(c) = job.get("container") {
                image(out, Some(c), src, path);
            }
            if let Some(services) = job.get("services") {
                for (_, s) in services.entries() {
                    image(out, Some(s), src, path);
                }
            }
            for step in job.get("steps").map(Node::items).unwrap_or_default() {
                env_map(out, step.get("env"), src, path);
                let shell = step.get("shell").and_then(Node::as_str).unwrap_or("bash");
                if let Some(run) = step.get("run")
                    && !matches!(shell, "pwsh" | "powershell" | "cmd" | "python")
                {
                    script(out, run, src, path);
                }
                let uses = step.get("uses").and_then(Node::as_str).unwrap_or("");
                if uses.starts_with("actions/setup-go@")
                    && let Some(v) = step.get("with").and_then(|w| w.get("go-version"))
                {
                    let written = v.as_str().unwrap_or("");
                    let from_matrix = written
                        .trim()
                        .strip_prefix("${{")
                        .and_then(|s| s.strip_suffix("}}"))
                        .map(str::trim)
                        .and_then(|s| s.strip_prefix("matrix."));
                    let nodes: Vec<&Node> = match from_matrix {
                        Some(key) => matrix_values(job, key),
                        None => vec![v],
                    };
                    for n in nodes {
                        if let Some(s) = n.as_str() {
                            out.pins.push(Pin {
                                kind: PinKind::SetupGo,
                                value: s.to_string(),
                                at: yaml::scalar_place(n, src, path)(0),
                            });
                        }
                    }
                }
            }
        }
    }
}

/// Top-level keys of .gitlab-ci.yml that are not jobs.
const GITLAB_GLOBAL: &[&str] = &[
    "stages",
    "variables",
    "include",
    "default",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
    "types",
];

fn gitlab_job(out: &mut Read, job: &Node, src: &[&str], path: &Path) {
    env_map(out, job.get("variables"), src, path);
    image(out, job.get("image"), src, path);
    for s in job.get("services").map(Node::items).unwrap_or_default() {
        image(out, Some(s), src, path);
    }
    for key in ["before_script", "script", "after_script"] {
        if let Some(s) = job.get(key) {
            script(out, s, src, path);
        }
    }
}

pub fn read_gitlab(out: &mut Read, path: &Path, text: &str) {
    let Some(docs) = load(out, path, text) else {
        return;
    };
    let src: Vec<&str> = text.lines().collect();
    let src = &src[..];
    for doc in &docs {
        gitlab_job(out, doc, src, path);
        if let Some(d) = doc.get("default") {
            gitlab_job(out, d, src, path);
        }
        for (k, job) in doc.entries() {
            let Some(name) = k.as_str() else { continue };
            if GITLAB_GLOBAL.contains(&name) || !matches!(job, Node::Map(_)) {
                continue;
            }
            gitlab_job(out, job, src, path);
        }
    }
}
