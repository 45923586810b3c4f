//! Version drift, the three states: what the repository says (`.go-version`,
//! `.tool-versions`, the go.work/go.mod `toolchain` and `go` lines), what the machine has
//! (the installed toolchains) and what runs (the toolchain the shim chooses).
//!
//! The shim honours `.go-version` first; go run without the shim (`GOTOOLCHAIN=auto`) honours
//! the `toolchain` line; asdf and mise read `.tool-versions`. When these disagree, the same
//! repository builds with different toolchains depending on who runs go. gowarden never edits
//! these files: each finding says which line to change.

use super::{Category, Context, Finding, Severity, Source};
use crate::outcome::Builtin;
use crate::project::{Declaration, Declared, Project};
use crate::resolve::{self, VersionSpec};
use crate::version::GoVersion;

pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let p = &ctx.project;
    let spec_of = |d: &Declared| VersionSpec::parse(&d.value);

    // Two pin files in one directory that disagree: asdf and mise follow one, gowarden and
    // goenv the other.
    // (One format's own overrides, such as mise.local.toml over mise.toml, are meant.)
    let (first, rest) = p
        .pins
        .split_first()
        .map_or((None, &[][..]), |(f, r)| (Some(f), r));
    for (gv, other) in first.into_iter().flat_map(|first| {
        rest.iter()
            .filter(move |o| o.format != first.format)
            .filter(move |o| spec_of(&first.declared) != spec_of(&o.declared))
            .map(move |o| (&first.declared, o))
    }) {
        let tv = &other.declared;
        out.push(Finding {
            category: Category::Version,
            key: other.format.name().into(),
            expected: gv.value.clone(),
            actual: tv.value.clone(),
            source: file_source(tv),
            severity: Severity::Warning,
            message: format!(
                "{} asks for {}, {} for {}: tools reading one or the other (goenv, asdf, mise, \
                 setup-go) install different toolchains",
                gv.location(),
                gv.value,
                tv.location(),
                tv.value
            ),
            fix: format!(
                "make them agree: edit {} or {}",
                tv.location(),
                gv.location()
            ),
        });
    }

    // The pin the shim honours: from the files its decision reads.
    let decided = ctx.decided.as_ref();
    let decided_declarations = decided.map(Project::declarations).unwrap_or_default();
    let pin = match decided_declarations.first() {
        Some(Declaration::Pin(pin)) => Some(&pin.declared),
        _ => None,
    };
    // The go.work or go.mod go itself honours (go.work first), where the decision reads it.
    let mod_file = p.active_mod_file().filter(|m| {
        decided.is_some_and(|d| {
            [d.go_work.as_ref(), d.go_mod.as_ref()]
                .into_iter()
                .flatten()
                .any(|read| read.path == m.path)
        })
    });

    if let (Some(pin), Some(t)) = (pin, mod_file.and_then(|m| m.toolchain.as_ref()))
        && t.value != "default"
        && let Some(pin_spec) = spec_of(pin)
    {
        match GoVersion::parse_go(&t.value) {
            None => out.push(Finding {
                category: Category::Version,
                key: "toolchain".into(),
                expected: "a toolchain name such as go1.22.3".into(),
                actual: t.value.clone(),
                source: file_source(t),
                severity: Severity::Error,
                message: format!(
                    "{} has `toolchain {}`, which go refuses (invalid toolchain)",
                    t.location(),
                    t.value
                ),
                fix: format!(
                    "change {} to `toolchain go<version>` matching {}",
                    t.location(),
                    pin.location()
                ),
            }),
            Some(tv) if !pin_spec.matches(&tv) => out.push(Finding {
                category: Category::Version,
                key: "toolchain".into(),
                expected: pin_spec.to_string(),
                actual: t.value.clone(),
                source: file_source(t),
                severity: Severity::Error,
                message: format!(
                    "{} asks for {}, but {} says `toolchain {}`: the shim runs the first, go run \
                     without it switches to the second wherever GOTOOLCHAIN=auto (go.env's \
                     default)",
                    pin.location(),
                    pin.value,
                    t.location(),
                    t.value
                ),
                fix: format!(
                    "make them agree: change {} to `toolchain go{}` (e.g. `go mod edit \
                     -toolchain=go{}`), or {} to {}; gowarden edits neither",
                    t.location(),
                    pin.value.trim_start_matches("go"),
                    pin.value.trim_start_matches("go"),
                    pin.path.display(),
                    t.value.trim_start_matches("go")
                ),
            }),
            Some(_) => {}
        }
    }

    let go_line = mod_file.and_then(|m| m.go.as_ref());
    match &ctx.plan {
        Ok(plan) => {
            let runs = &plan.toolchain;
            if let Some(g) = go_line
                && let Some(need) = GoVersion::parse(&g.value)
                && runs.version.cmp_go(&need).is_lt()
            {
                out.push(Finding {
                    category: Category::Version,
                    key: "go".into(),
                    expected: format!("go{need} or newer"),
                    actual: runs.name.clone(),
                    source: file_source(g),
                    severity: Severity::Error,
                    message: format!(
                        "the go line at {} needs go {need} or newer, but here {} runs (asked for \
                         by {}); that toolchain refuses to build this module",
                        g.location(),
                        runs.name,
                        plan.request.source
                    ),
                    fix: format!(
                        "raise {} to go{need} or newer, or lower the go line at {}",
                        plan.request.source,
                        g.location()
                    ),
                });
            }
            if plan.request.source == resolve::Source::EnvOverride
                && let Some(pin) = pin
                && let Some(spec) = spec_of(pin)
                && !spec.matches(&runs.version)
            {
                out.push(Finding {
                    category: Category::Version,
                    key: resolve::VERSION_ENV.into(),
                    expected: spec.to_string(),
                    actual: plan.request.written.clone(),
                    source: Source::Env,
                    severity: Severity::Warning,
                    message: format!(
                        "${} chooses {} here, while {} asks for {}",
                        resolve::VERSION_ENV,
                        runs.name,
                        pin.location(),
                        pin.value
                    ),
                    fix: format!("unset {}", resolve::VERSION_ENV),
                });
            }
        }
        Err(r) if r.rule.is(Builtin::NotInstalled) => {
            let asked = pin
                .or(mod_file.and_then(|m| m.toolchain.as_ref()))
                .or(go_line);
            out.push(Finding {
                category: Category::Version,
                key: "toolchain".into(),
                expected: asked
                    .map(|d| d.value.clone())
                    .unwrap_or_else(|| "an installed toolchain".into()),
                actual: "not installed".into(),
                source: match asked {
                    Some(d) => file_source(d),
                    None => Source::GoDefault,
                },
                severity: Severity::Error,
                message: r.message.clone(),
                fix: "install the toolchain the message names, or change the version file".into(),
            });
        }
        // Any other refusal is reported by the env check as "could not check".
        Err(_) => {}
    }
    out
}

fn file_source(d: &Declared) -> Source {
    Source::File(crate::outcome::Location::line(&d.path, d.line))
}
