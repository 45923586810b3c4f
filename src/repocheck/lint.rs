//! The configuration lint: judges what the readers ([`super::config`]) found.
//!
//! A Go setting is judged by the code that judges go's environment elsewhere, not by a list of
//! its own: the keys `[env]` governs and their wanted values are `gowarden drift`'s
//! ([`crate::drift::env::governed`]), and what the setting *does* and whether the role that
//! runs the file may do it is the shim's evaluation ([`crate::policy::rules::evaluate`], with
//! the setting as the whole environment, `CI=true` and the runner's variable for CI files, so
//! the CI binding applies to them): its effects (`checksum-bypass`, `proxy-bypass`, …) and the
//! deny rule that refuses them. Versions (GOTOOLCHAIN=goX.Y.Z, golang images, setup-go) are
//! compared with the version the repository declares and judged by the version matrix.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;

use super::config::{Pin, PinKind, Read, Runner, Setting};
use super::walk::Format;
use super::{CommandUse, Context, Place, Sink};
use crate::drift::env::{Want, governed};
use crate::identity::Identity;
use crate::policy::rules;
use crate::version::GoVersion;

pub const GO_SETTING: &str = "config.go-setting";
pub const UNPINNED: &str = "config.unpinned-install";
pub const GO_VERSION: &str = "config.go-version";
pub const UNREADABLE: &str = "config.unreadable";

pub struct Judge<'a> {
    ctx: &'a Context<'a>,
    governed: Vec<(String, Want)>,
    identity: Identity,
}

/// What a version pin asks for.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    Exact(GoVersion),
    /// `1.22`, `1.22.x`: the newest release of a line.
    Line(String, String),
    /// `stable`, `latest`, `^1.21`, `>=1.22`, a bare major, no tag: whatever is newest.
    Moving,
}

fn asked(written: &str) -> Asked {
    let v = written.trim().trim_matches(['"', '\'']);
    let v = v.strip_prefix("go").unwrap_or(v);
    let v = v.strip_prefix('v').unwrap_or(v);
    let v = v.strip_suffix(".x").unwrap_or(v);
    if v.is_empty() || v.contains(['^', '~', '>', '<', '=', '*', '|', ' ', '$']) {
        return Asked::Moving;
    }
    let parts: Vec<&str> = v.split('.').collect();
    match parts.as_slice() {
        [ma, mi]
            if ma.chars().all(|c| c.is_ascii_digit())
                && !ma.is_empty()
                && mi.chars().all(|c| c.is_ascii_digit())
                && !mi.is_empty() =>
        {
            Asked::Line(ma.to_string(), mi.to_string())
        }
        [_] => Asked::Moving,
        _ => match GoVersion::parse(v) {
            Some(g) if !g.patch.is_empty() || !g.pre.is_empty() => Asked::Exact(g),
            _ => Asked::Moving,
        },
    }
}

/// The tag of a `golang` image (`golang:1.22-alpine` → `1.22`; no tag → `latest`); `None` for
/// another image.
fn golang_image_version(reference: &str) -> Option<String> {
    let (name, digest) = match reference.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (reference, None),
    };
    let (repo, tag) = match name.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t)),
        _ => (name, None),
    };
    let repo = repo
        .strip_prefix("docker.io/")
        .or_else(|| repo.strip_prefix("index.docker.io/"))
        .unwrap_or(repo);
    let repo = repo.strip_prefix("library/").unwrap_or(repo);
    if repo != "golang" {
        return None;
    }
    match tag {
        // A digest alone pins the bytes; its Go version is not in the reference.
        None if digest.is_some() => None,
        None => Some("latest".into()),
        Some(t) => {
            let v: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            Some(v)
        }
    }
}

/// Whether a `@version` query moves: anything but a semantic version or a commit hash.
fn moving_query(q: &str) -> bool {
    let semver = q.starts_with('v') && q[1..].starts_with(|c: char| c.is_ascii_digit());
    let commit = q.len() >= 12 && q.chars().all(|c| c.is_ascii_hexdigit());
    !(semver || commit)
}

/// The environment a file's commands run with, as far as the lint knows it: the one setting
/// judged, and the variables CI systems set (so the CI binding's role applies to CI files).
fn runner_env<'s>(
    runner: Runner,
    setting: Option<(&'s str, &'s str)>,
) -> impl Fn(&str) -> Option<OsString> + 's {
    move |k: &str| {
        if let Some((key, value)) = setting
            && k == key
        {
            return Some(OsString::from(value));
        }
        match (runner, k) {
            (Runner::GithubActions | Runner::GitlabCi, "CI") => Some("true".into()),
            (Runner::GithubActions, "GITHUB_ACTIONS") => Some("true".into()),
            (Runner::GitlabCi, "GITLAB_CI") => Some("true".into()),
            _ => None,
        }
    }
}

impl<'a> Judge<'a> {
    /// Whether the role that runs a file of `runner` may run `go ARGS`: a fix the lint prints
    /// must be one the policy allows.
    fn may_run(&self, runner: Runner, args: &[&str]) -> bool {
        let env = runner_env(runner, None);
        let rctx = rules::Context {
            policy: self.ctx.policy,
            identity: &self.identity,
            env: &env,
            goroot: None,
            cwd: self.ctx.root,
            role_override: None,
            always_parse: false,
            files: None,
        };
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        matches!(rules::evaluate(&rctx, Some(&args)), Ok(e) if e.denial.is_none())
    }

    pub fn new(ctx: &'a Context<'a>) -> Judge<'a> {
        Judge {
            ctx,
            governed: governed(ctx.policy),
            identity: Identity::current(),
        }
    }

    pub fn file(&self, sink: &mut Sink<'_>, _format: Format, path: &Path, read: &Read) {
        let _ = path;
        let mut seen: BTreeSet<(String, String, Place)> = BTreeSet::new();
        for (at, msg) in &read.errors {
            sink.push(
                UNREADABLE,
                Some(at.clone()),
                format!("{at}: {msg}; no rule could check this file; fix the syntax"),
            );
        }
        let runner = read.runner.unwrap_or(Runner::Any);
        for s in &read.settings {
            // Anchors and merges bring the same text in more than once.
            if seen.insert((s.key.clone(), s.value.clone(), s.at.clone())) {
                self.setting(sink, runner, s);
            }
        }
        let mut pins_seen = BTreeSet::new();
        for p in &read.pins {
            if pins_seen.insert((p.value.clone(), p.at.clone())) {
                self.pin(sink, p);
            }
        }
        let mut cmds_seen = BTreeSet::new();
        for c in &read.commands {
            if cmds_seen.insert(c.at.clone()) {
                self.command(sink, runner, c);
            }
        }
    }

    fn setting(&self, sink: &mut Sink<'_>, runner: Runner, s: &Setting) {
        let key = s.key.as_str();
        let tool_key = crate::policy::effects::BUILD_TOOL_KEYS.contains(&key);
        if !crate::goenv::is_known_env(key) && !tool_key && key != "GO111MODULE" {
            return;
        }
        let shown = format!("{key}={}", s.value);
        if key == "GO111MODULE" && s.value.trim() == "off" {
            sink.push(
                super::modules::GOPATH,
                Some(s.at.clone()),
                format!(
                    "{shown} ({}): go runs in GOPATH mode, where go.mod and go.sum are ignored \
                     and nothing checks downloaded code; remove the setting",
                    s.at
                ),
            );
        }
        if key == "GOTOOLCHAIN" {
            let v = s.value.trim();
            let name = v
                .strip_suffix("+auto")
                .or_else(|| v.strip_suffix("+path"))
                .unwrap_or(v);
            if name.starts_with("go") {
                self.version(sink, &s.at, &format!("`{shown}`"), name, |good| {
                    format!("GOTOOLCHAIN=go{good}, or remove it (the shim chooses the toolchain)")
                });
            }
        }

        let mut reasons: Vec<String> = Vec::new();
        let mut fix = format!("remove the {key} setting");
        if let Some((_, want)) = self.governed.iter().find(|(k, _)| k == key) {
            match want {
                Want::Value { value, at } if value != s.value.trim() => {
                    reasons.push(format!("the policy sets {key}={value} ({at})"));
                    fix = format!(
                        "remove the setting (through the shim go gets {key}={value}) or write \
                         {key}={value}"
                    );
                }
                Want::Unset { at } => reasons.push(format!("the policy forbids {key} ({at})")),
                _ => {}
            }
        }
        let env = runner_env(runner, Some((key, &s.value)));
        let rctx = rules::Context {
            policy: self.ctx.policy,
            identity: &self.identity,
            env: &env,
            goroot: None,
            cwd: self.ctx.root,
            role_override: None,
            always_parse: true,
            files: None,
        };
        let mut effects: Vec<&'static str> = Vec::new();
        for args in [&["build", "./..."][..], &["mod", "download"][..]] {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            match rules::evaluate(&rctx, Some(&args)) {
                Ok(e) => {
                    for eff in &e.effects {
                        if !effects.contains(&eff.kind.name()) {
                            effects.push(eff.kind.name());
                        }
                    }
                    if let Some(d) = &e.denial {
                        let role = e.role.as_ref().map_or(String::new(), |r| {
                            format!("role {} ({}): ", r.name, r.chosen_by)
                        });
                        // One reason per rule: `go build` and `go mod download` often share it.
                        let tag = format!("rule {} (", d.rule);
                        if !reasons.iter().any(|r| r.contains(&tag)) {
                            reasons.push(format!(
                                "{role}rule {} ({}) refuses it: {}",
                                d.rule, d.location, d.reason
                            ));
                        }
                    }
                }
                Err(e) => reasons.push(format!("its effects could not be judged: {e}")),
            }
        }
        if reasons.is_empty() {
            return;
        }
        let effect = if effects.is_empty() {
            "go gets another value than the policy's".to_string()
        } else {
            format!("effect {}", effects.join(", "))
        };
        sink.push(
            GO_SETTING,
            Some(s.at.clone()),
            format!(
                "{shown} ({}): {effect}; {}; fix: {fix}",
                s.at,
                reasons.join("; ")
            ),
        );
    }

    /// The release to suggest: the declared one where the matrix allows it, else the tier's
    /// recommended one.
    fn good_version(&self) -> Option<String> {
        let tier = self.ctx.tier;
        if let Some((v, _)) = &self.ctx.declared
            && self.ctx.matrix.allows(v, tier)
        {
            return Some(v.to_string());
        }
        tier.and_then(|c| self.ctx.matrix.tier(c))
            .and_then(|t| t.recommended.as_ref().or(t.min.as_ref()))
            .map(|b| b.bare.clone())
    }

    /// Judges a version something pins Go to, as written (`go1.22.3`, `1.22`, `stable`).
    fn version(
        &self,
        sink: &mut Sink<'_>,
        at: &Place,
        what: &str,
        written: &str,
        fix: impl Fn(&str) -> String,
    ) {
        let m = self.ctx.matrix;
        let tier = self.ctx.tier;
        let declared = self.ctx.declared.as_ref();
        let good = self.good_version();
        let fix_text = match &good {
            Some(g) => format!("fix: {}", fix(g)),
            None => "fix: name the version the repository declares".into(),
        };
        let problem = match asked(written) {
            Asked::Exact(v) => match declared {
                Some((d, src)) if v.cmp_go(d).is_ne() || v.pre != d.pre => Some(format!(
                    "asks for go{v}, but the repository declares go{d} ({src})"
                )),
                _ if !m.allows(&v, tier) => Some(format!(
                    "asks for go{v}, which the version matrix refuses{} (blocked, or below the \
                     tier's minimum)",
                    tier.map(|t| format!(" for tier {}", t.name))
                        .unwrap_or_default()
                )),
                _ => None,
            },
            Asked::Line(ma, mi) => match declared {
                Some((d, src)) if d.major != ma || d.minor != mi => Some(format!(
                    "asks for the newest go{ma}.{mi}, but the repository declares go{d} ({src})"
                )),
                _ => None,
            },
            Asked::Moving => Some(format!(
                "{written:?} moves to each new release, so builds run a Go version nobody \
                 chose{}",
                declared
                    .map(|(d, src)| format!("; the repository declares go{d} ({src})"))
                    .unwrap_or_default()
            )),
        };
        if let Some(p) = problem {
            sink.push(
                GO_VERSION,
                Some(at.clone()),
                format!("{what} ({at}) {p}; {fix_text}"),
            );
        }
    }

    fn pin(&self, sink: &mut Sink<'_>, p: &Pin) {
        match p.kind {
            PinKind::Image => {
                let Some(tag) = golang_image_version(&p.value) else {
                    return;
                };
                let suffix = p
                    .value
                    .rsplit_once(':')
                    .and_then(|(_, t)| t.find('-').map(|i| t[i..].to_string()))
                    .unwrap_or_default();
                self.version(sink, &p.at, &format!("image {}", p.value), &tag, |g| {
                    format!("use the image golang:{g}{suffix}")
                });
            }
            PinKind::SetupGo => {
                self.version(
                    sink,
                    &p.at,
                    &format!("actions/setup-go go-version {:?}", p.value),
                    &p.value,
                    |g| format!("go-version: '{g}' (or go-version-file: .go-version)"),
                );
            }
            PinKind::DevcontainerFeature => {
                self.version(
                    sink,
                    &p.at,
                    &format!("the devcontainer Go feature's version {:?}", p.value),
                    &p.value,
                    |g| format!("\"version\": \"{g}\""),
                );
            }
        }
    }

    fn command(&self, sink: &mut Sink<'_>, runner: Runner, c: &CommandUse) {
        let word = c.word.rsplit('/').next().unwrap_or(&c.word);
        if word != "go" {
            return;
        }
        let Some(sub) = c.args.iter().find(|a| !a.starts_with('-')) else {
            return;
        };
        if !matches!(sub.as_str(), "install" | "run" | "get") {
            return;
        }
        for a in &c.args {
            let Some((pkg, q)) = a.split_once('@') else {
                continue;
            };
            if pkg.starts_with('-') || !moving_query(q) {
                continue;
            }
            let pinned = format!("{pkg}@v1.2.3");
            let fix = if self.may_run(runner, &[sub.as_str(), &pinned]) {
                format!(
                    "pin a version (`go {sub} {pkg}@vX.Y.Z`), or track the tool in go.mod \
                     (`go get -tool {pkg}`, go1.24) and run it with `go tool`"
                )
            } else if self.may_run(runner, &["get", "-tool", pkg]) {
                format!(
                    "track the tool in go.mod (`go get -tool {pkg}`, go1.24) and run it with `go tool`"
                )
            } else {
                "use a tool installed at a reviewed version (the policy lets this role neither \
                 install tools nor add them to go.mod)"
                    .to_string()
            };
            sink.push(
                UNPINNED,
                Some(c.at.clone()),
                format!(
                    "`go {sub} {a}` ({}): @{q} is whatever version is newest when the build \
                     runs, a tool nobody reviewed; fix: {fix}",
                    c.at
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_pins() {
        let exact = |s: &str| Asked::Exact(GoVersion::parse(s).unwrap());
        assert_eq!(asked("1.22.3"), exact("1.22.3"));
        assert_eq!(asked("go1.22.3"), exact("1.22.3"));
        assert_eq!(asked("'1.22'"), Asked::Line("1".into(), "22".into()));
        assert_eq!(asked("1.22.x"), Asked::Line("1".into(), "22".into()));
        assert_eq!(asked("1.23rc1"), exact("1.23rc1"));
        for m in [
            "stable",
            "oldstable",
            "^1.22",
            ">=1.21",
            "1",
            "",
            "${{ matrix.go }}",
        ] {
            assert_eq!(asked(m), Asked::Moving, "{m}");
        }
        assert_eq!(
            golang_image_version("golang:1.22-alpine").as_deref(),
            Some("1.22")
        );
        assert_eq!(
            golang_image_version("docker.io/library/golang:1.22.3").as_deref(),
            Some("1.22.3")
        );
        assert_eq!(golang_image_version("golang").as_deref(), Some("latest"));
        assert_eq!(golang_image_version("golang@sha256:abc"), None);
        assert_eq!(golang_image_version("registry:5000/golang:1.2"), None);
        assert_eq!(golang_image_version("alpine:3.19"), None);
        assert!(moving_query("latest") && moving_query("master") && moving_query("HEAD"));
        assert!(!moving_query("v1.2.3") && !moving_query("0123456789abcdef"));
    }
}
