//! The policy's `[env]` section: which of go's settings the shim enforces, forbids or fills in,
//! decided on the hot path from the environment and the two go env files (no subprocess).
//!
//! go reads a setting from, first hit wins, a non-empty process variable, the user's go env
//! file, then `$GOROOT/go.env` (GO_FACTS.md §3, [`crate::goenv`]). So:
//! - **enforce** `K = "v"`: the shim sets `K=v` in go's environment, which beats both files.
//! - **defaults** `K = "v"`: set likewise, but only where neither the environment (non-empty)
//!   nor the user's go env file sets `K`; a default in `$GOROOT/go.env` does not count as the
//!   user's choice, so the company default replaces it.
//! - **forbid** `K`: the shim removes `K` from go's environment. That is not enough when the
//!   user's go env file sets `K`: go reads the file whatever the environment says, and an empty
//!   variable does not hide it. The shim then sets `K` to a *neutral* value, one go treats
//!   exactly as if the key were unset everywhere:
//!   1. `$GOROOT/go.env`'s own non-empty value for `K` (what go would read next anyway);
//!   2. for list settings whose empty entries go skips: `GOFLAGS=" "` (splits into no flags),
//!      `GOPRIVATE=","`, `GOINSECURE=","` (no patterns), `GONOPROXY`/`GONOSUMDB` = the effective
//!      `GOPRIVATE` (their documented default), else `","`.
//!
//!   For any other key no value is equivalent to unset (GOBIN unset and GOBIN=$GOPATH/bin
//!   differ for cross-compiled installs; CGO_CFLAGS unset means `-O2 -g`, `" "` means none), so
//!   the shim refuses (rule `env.forbidden-in-env-file`) with the `go env -u` that fixes it.
//!   `go env` shows a neutral value as set (`GONOSUMDB=","`), which is visible but harmless.
//!
//! A value in the caller's environment that differs from an enforced one, or a forbidden key
//! the caller sets (environment or go env file), is a *conflict*: with `on_conflict =
//! "refuse"` the shim refuses (rule `env.conflict`) instead of fixing it silently. A go env
//! file value of an enforced key is overridden, never refused: it cannot reach go through the
//! shim, and it is often what `gowarden drift --fix` wrote before the policy changed the value.
//! A `$GOROOT/go.env` value is a default, never a conflict, unless the caller can write that
//! go.env (a toolchain unpacked in their home) and the value is not the Go distribution's
//! own ([`crate::goenv::Origin::is_callers`]): such a line is the caller's setting and is
//! judged exactly like one of the user's go env file (neutralised or refused when forbidden,
//! kept over a default), since anyone who can write the file could have put any value there.
//! Every fix a refusal prints is one the caller's role may run ([`env_file_fix`]).
//! `go env -w`/`go env -u` are the repair path (go itself runs them before checking its
//! configuration for the same reason), so they are never refused here.
//!
//! GOROOT and GOTOOLCHAIN are not `[env]` keys: the shim sets GOROOT to the toolchain it
//! chose and GOTOOLCHAIN from `[toolchains] gotoolchain`, one source of truth each.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::error::{Error, Result};
use crate::goenv::EnvChange;
use crate::goenv::{self, GoEnv, Origin};
use crate::location::Location;
use crate::outcome::Refusal;
use crate::policy::LoadedPolicy;
use crate::policy::schema::OnConflict;

/// Which `[env]` rule governs a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Enforce,
    Forbid,
    Default,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Enforce => "enforce",
            Rule::Forbid => "forbid",
            Rule::Default => "defaults",
        }
    }
}

/// What the shim does to a governed key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// go already gets the policy's value (or, for a default, the caller's own choice; for a
    /// forbidden key, nothing).
    Kept,
    /// Set in go's environment.
    Set,
    /// Removed from go's environment.
    Removed,
    /// Set to a value go treats as unset, because the user's go env file sets a forbidden key.
    Neutralised,
    /// The go env file sets a forbidden key with no neutral value; only `go env -w`/`-u` runs.
    Unremovable,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Kept => "kept",
            Action::Set => "set",
            Action::Removed => "removed",
            Action::Neutralised => "neutralised",
            Action::Unremovable => "unremovable",
        }
    }
}

/// One governed key: what go would have used without the shim, and what it gets through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvCheck {
    pub key: String,
    pub rule: Rule,
    /// Where the rule is in the policy.
    pub policy_at: Location,
    /// The value go would use without the shim and where it comes from; `None` if unset.
    pub caller: Option<(OsString, Origin)>,
    /// The value go gets through the shim; `None` if unset.
    pub value: Option<OsString>,
    pub action: Action,
}

/// The changes to go's environment, and one check per governed key (for `gowarden which`).
#[derive(Debug, Default)]
pub struct EnvPlan {
    pub changes: Vec<EnvChange>,
    pub checks: Vec<EnvCheck>,
}

/// Keys the shim owns, or that choose what the shim reads: `[env]` may not name them.
const RESERVED: &[(&str, &str)] = &[
    (
        "GOROOT",
        "the shim sets GOROOT to the toolchain it chose; choose toolchains with [toolchains] and \
         [resolve]",
    ),
    (
        "GOTOOLCHAIN",
        "the shim sets GOTOOLCHAIN from [toolchains] gotoolchain (default \"local\"); set it there",
    ),
    (
        "GOENV",
        "GOENV chooses which go env file go reads; the shim enforces the keys themselves whatever \
         file they come from",
    ),
    (
        "GOWORK",
        "GOWORK chooses the workspace from which the shim resolves the Go version",
    ),
];

/// Values go computes; `go env -w` refuses them ("cannot be modified").
const COMPUTED: &[&str] = &[
    "GOEXE",
    "GOGCCFLAGS",
    "GOHOSTARCH",
    "GOHOSTOS",
    "GOMOD",
    "GOTOOLDIR",
    "GOVERSION",
];

/// Checks `[env]`: known keys, each in one rule, values go would accept. Errors name the
/// policy file, line and column.
pub fn validate(loaded: &LoadedPolicy) -> Result<()> {
    let env = &loaded.policy.env;
    let mut seen: Vec<(&str, &'static str)> = Vec::new();
    let keyed = env
        .enforce
        .iter()
        .map(|(k, v)| (k.as_str(), v.span(), Rule::Enforce, Some(v.get_ref())))
        .chain(
            env.forbid
                .iter()
                .map(|k| (k.get_ref().as_str(), k.span(), Rule::Forbid, None)),
        )
        .chain(
            env.defaults
                .iter()
                .map(|(k, v)| (k.as_str(), v.span(), Rule::Default, Some(v.get_ref()))),
        );
    for (key, span, rule, value) in keyed {
        let at = || {
            format!(
                "invalid policy {}: [env] {}",
                loaded.point_at(&span),
                rule.name()
            )
        };
        check_key(key).map_err(|why| Error::new(format!("{}: {why}", at())))?;
        if let Some((_, other)) = seen.iter().find(|(k, _)| *k == key) {
            let why = if *other == rule.name() {
                format!("{key} is listed twice")
            } else {
                format!("{key} is also in [env] {other}; a key belongs to one rule")
            };
            return Err(Error::new(format!("{}: {why}", at())));
        }
        seen.push((key, rule.name()));
        if let Some(v) = value {
            check_value(key, v).map_err(|why| Error::new(format!("{}: {why}", at())))?;
        }
    }
    Ok(())
}

fn check_key(key: &str) -> std::result::Result<(), String> {
    if key == "GONOSUMCHECK" {
        return Err(
            "GONOSUMCHECK is not a Go variable: cmd/go ignores it and `go env -w` rejects it. \
             To exempt modules from the checksum database use GONOSUMDB or GOPRIVATE (or \
             forbid them, to stop users from doing so); to turn checking off, GOSUMDB=off"
                .into(),
        );
    }
    if let Some((_, why)) = RESERVED.iter().find(|(k, _)| *k == key) {
        return Err(format!("{key} cannot be governed here: {why}"));
    }
    if COMPUTED.contains(&key) {
        return Err(format!(
            "{key} is computed by go and cannot be set (`go env -w` refuses it too)"
        ));
    }
    if !goenv::is_known_env(key) {
        return Err(format!(
            "{key:?} is not one of go's configuration variables (cmd/go KnownEnv, see `go help \
             environment`), e.g. GOPROXY, GOSUMDB, GOFLAGS, GONOSUMDB, GOPRIVATE, GOINSECURE, \
             GOVCS, CGO_ENABLED"
        ));
    }
    Ok(())
}

/// The checks of `go env -w` (envcmd.checkEnvWrite) that apply to a policy value, plus the one
/// that matters for the mechanism: an empty value overrides nothing in go.
fn check_value(key: &str, v: &str) -> std::result::Result<(), String> {
    if v.is_empty() {
        return Err(format!(
            "{key} = \"\": go ignores an empty variable (the go env file's value still applies); \
             to keep {key} unset, list it in [env] forbid"
        ));
    }
    if v.contains(['\0', '\r', '\n', '\u{b}']) {
        return Err(format!(
            "the value of {key} holds a NUL or newline, which go refuses"
        ));
    }
    let absolute = |what: &str| {
        if Path::new(v).is_absolute() {
            Ok(())
        } else {
            Err(format!("{key} = {v:?}: {what} must be an absolute path"))
        }
    };
    match key {
        "GO111MODULE" if !matches!(v, "auto" | "on" | "off") => Err(format!(
            "GO111MODULE = {v:?}: go accepts \"auto\", \"on\" or \"off\""
        )),
        "GOPATH" if v.starts_with('~') => Err(format!(
            "GOPATH = {v:?}: go does not expand `~`; write the absolute path"
        )),
        "GOPATH" => std::env::split_paths(v)
            .all(|p| p.is_absolute())
            .then_some(())
            .ok_or_else(|| format!("GOPATH = {v:?}: every entry must be an absolute path")),
        "GOMODCACHE" | "GOTMPDIR" | "GOBIN" | "GOCACHE" => absolute(key),
        _ => Ok(()),
    }
}

/// Decides go's environment under `[env]` for the toolchain at `goroot`. `env` is the caller's
/// environment; `repair` says whether this call is `go env -w`/`-u` (asked only when a refusal
/// is due). Reads the two go env files only when the policy governs any key.
pub fn plan<E: Fn(&str) -> Option<OsString>>(
    loaded: &LoadedPolicy,
    goroot: &Path,
    env: E,
    repair: impl FnOnce() -> bool,
) -> std::result::Result<EnvPlan, Refusal> {
    plan_for_caller(loaded, goroot, env, repair, &|_| true)
}

/// [`plan`], with `may_run` telling whether the caller's role lets a go command line run, so
/// that a refusal offers only fixes the same policy allows (asked only when a refusal is due).
pub fn plan_for_caller<E: Fn(&str) -> Option<OsString>>(
    loaded: &LoadedPolicy,
    goroot: &Path,
    env: E,
    repair: impl FnOnce() -> bool,
    may_run: &dyn Fn(&[&str]) -> bool,
) -> std::result::Result<EnvPlan, Refusal> {
    let rules = &loaded.policy.env;
    let mut out = EnvPlan::default();
    if rules.is_empty() {
        return Ok(out);
    }
    let ge = GoEnv::load(&env, Some(goroot))?;
    let caller_set = |key: &str| non_empty(env(key)).is_some() || ge.callers_entry(key).is_some();
    let mut conflicts: Vec<Problem> = Vec::new();
    let mut unremovable: Vec<Problem> = Vec::new();

    for (key, v) in &rules.enforce {
        let want = OsString::from(v.get_ref());
        let caller = ge.get(key);
        let policy_at = loaded.line_at(&v.span());
        let mut check = EnvCheck {
            key: key.clone(),
            rule: Rule::Enforce,
            policy_at,
            caller: caller.clone(),
            value: Some(want.clone()),
            action: Action::Kept,
        };
        if caller.as_ref().map(|(c, _)| c) != Some(&want) {
            // Only a value set in this call's environment conflicts. The go env file's value
            // never reaches go through the shim (the variable beats the file), and it is often
            // a value gowarden wrote itself (`drift --fix`) before the policy changed it:
            // refusing it would break every call until the next fix. `gowarden drift`
            // reports it for the calls that bypass the shim.
            if let Some((c, origin)) = &caller
                && *origin == Origin::ProcessEnv
            {
                conflicts.push(Problem {
                    short: format!("{key}={} from {}", shown(c), describe(origin)),
                    full: format!(
                        "{key}={}, set in {}, conflicts with the policy, which enforces {key}={} \
                         ({}) and refuses other values ([env] on_conflict = \"refuse\"); fix: {}",
                        shown(c),
                        describe(origin),
                        shown(OsStr::new(v.get_ref())),
                        check.policy_at,
                        fix_for(key, origin, may_run)
                    ),
                });
            }
            out.changes.push(EnvChange {
                key: key.clone(),
                from: caller.map(|(c, _)| c),
                to: Some(want),
            });
            check.action = Action::Set;
        }
        out.checks.push(check);
    }

    for k in &rules.forbid {
        let key = k.get_ref();
        let policy_at = loaded.line_at(&k.span());
        let caller = ge.get(key);
        let process = env(key);
        let mut check = EnvCheck {
            key: key.clone(),
            rule: Rule::Forbid,
            policy_at,
            caller: caller.clone(),
            value: None,
            action: Action::Kept,
        };
        if caller_set(key)
            && let Some((c, origin)) = &caller
        {
            conflicts.push(Problem {
                short: format!("{key}={} from {}", shown(c), describe(origin)),
                full: format!(
                    "{key}={}, set in {}, is forbidden by the policy ({}), which refuses to \
                     run go with it ([env] on_conflict = \"refuse\"); fix: {}",
                    shown(c),
                    describe(origin),
                    check.policy_at,
                    fix_for(key, origin, may_run)
                ),
            });
        }
        if let Some((path, entry)) = ge.callers_entry(key) {
            match neutral_value(key, &ge, loaded) {
                Some(n) => {
                    check.value = Some(n.clone());
                    check.action = Action::Neutralised;
                    out.changes.push(EnvChange {
                        key: key.clone(),
                        from: caller.map(|(c, _)| c),
                        to: Some(n),
                    });
                }
                None => {
                    unremovable.push(Problem {
                        short: format!(
                            "{key}={} from {}:{}",
                            shown(&entry.value),
                            path.display(),
                            entry.line
                        ),
                        full: format!(
                            "{} sets {key}={}, which the policy forbids ({}); go reads that file \
                             whatever its environment says (an empty variable does not hide it) \
                             and no value of {key} means the same as unset, so gowarden cannot \
                             remove it for this call; fix: {}",
                            file_line(&ge, path, entry.line),
                            shown(&entry.value),
                            check.policy_at,
                            remove_fix(&ge, key, path, entry.line, may_run)
                        ),
                    });
                    check.value = Some(entry.value.clone());
                    check.action = Action::Unremovable;
                    if process.is_some() {
                        out.changes.push(EnvChange {
                            key: key.clone(),
                            from: process,
                            to: None,
                        });
                    }
                }
            }
        } else if process.is_some() {
            // Also an empty variable: go ignores it, but the programs go runs would see it.
            check.value = ge.default_entry(key).map(|(_, e)| e.value.clone());
            check.action = Action::Removed;
            out.changes.push(EnvChange {
                key: key.clone(),
                from: process,
                to: None,
            });
        } else {
            check.value = caller.map(|(c, _)| c);
        }
        out.checks.push(check);
    }

    for (key, v) in &rules.defaults {
        let want = OsString::from(v.get_ref());
        let caller = ge.get(key);
        let mut check = EnvCheck {
            key: key.clone(),
            rule: Rule::Default,
            policy_at: loaded.line_at(&v.span()),
            caller: caller.clone(),
            value: caller.as_ref().map(|(c, _)| c.clone()),
            action: Action::Kept,
        };
        if !caller_set(key) && check.value.as_ref() != Some(&want) {
            check.value = Some(want.clone());
            check.action = Action::Set;
            out.changes.push(EnvChange {
                key: key.clone(),
                from: caller.map(|(c, _)| c),
                to: Some(want),
            });
        }
        out.checks.push(check);
    }

    let refusal = if rules.on_conflict == OnConflict::Refuse && !conflicts.is_empty() {
        Some(("env.conflict", conflicts))
    } else if !unremovable.is_empty() {
        Some(("env.forbidden-in-env-file", unremovable))
    } else {
        None
    };
    if let Some((rule, mut messages)) = refusal
        && !repair()
    {
        let first = messages.remove(0);
        let more: String = messages
            .iter()
            .map(|p| format!("; likewise {}", p.short))
            .collect();
        return Err(Refusal::new(rule, format!("{}{more}", first.full)));
    }
    Ok(out)
}

/// A reason to refuse: the full message for the first, a short form for the others.
struct Problem {
    short: String,
    full: String,
}

/// A value go treats exactly as `key` unset (see the module docs), `None` if there is none.
fn neutral_value<E: Fn(&str) -> Option<OsString>>(
    key: &str,
    ge: &GoEnv<E>,
    loaded: &LoadedPolicy,
) -> Option<OsString> {
    if let Some((_, e)) = ge.default_entry(key)
        && !e.value.is_empty()
    {
        return Some(e.value.clone());
    }
    match key {
        // strings.Fields / quoted.Split of a blank string: no flags.
        "GOFLAGS" => Some(" ".into()),
        // module.MatchPrefixPatterns skips empty patterns: matches nothing.
        "GOPRIVATE" | "GOINSECURE" => Some(",".into()),
        // cfg.go: GONOPROXY = envOr("GONOPROXY", GOPRIVATE), likewise GONOSUMDB.
        "GONOPROXY" | "GONOSUMDB" => Some(
            private_after(ge, loaded)
                .filter(|p| !p.is_empty() && p != ",")
                .unwrap_or_else(|| ",".into()),
        ),
        _ => None,
    }
}

/// GOPRIVATE as go sees it through the shim.
fn private_after<E: Fn(&str) -> Option<OsString>>(
    ge: &GoEnv<E>,
    loaded: &LoadedPolicy,
) -> Option<OsString> {
    let rules = &loaded.policy.env;
    if let Some(v) = rules.enforce.get("GOPRIVATE") {
        return Some(v.get_ref().into());
    }
    if rules.forbid.iter().any(|k| k.get_ref() == "GOPRIVATE") {
        return ge.default_entry("GOPRIVATE").map(|(_, e)| e.value.clone());
    }
    let caller = ge.get("GOPRIVATE");
    if let Some(v) = rules.defaults.get("GOPRIVATE")
        && !caller.as_ref().is_some_and(|(_, o)| is_callers(o))
    {
        return Some(v.get_ref().into());
    }
    caller.map(|(c, _)| c)
}

/// Whether a value is the caller's own choice: not a default of the toolchain's go.env.
fn is_callers(origin: &Origin) -> bool {
    origin.is_callers()
}

/// Where a value came from, for messages. A toolchain's go.env line says whose it is: the
/// caller's own where they can write the file, else the default of whoever installed it.
pub fn describe(origin: &Origin) -> String {
    match origin {
        Origin::ProcessEnv => "the environment".into(),
        Origin::EnvFile { path, line } => format!("the go env file {}:{line}", path.display()),
        Origin::GorootGoEnv {
            path,
            line,
            owner,
            stock,
        } => {
            // Who owns the file matters only for a value other than the distribution's, and
            // is asked only then: the effects describe go.env values on every call.
            let whose = if *stock {
                "the Go distribution's default"
            } else if owner.is_some_and(crate::goenv::FileOwner::caller_can_write) {
                "a file you can write: your setting, judged as the go env file's"
            } else {
                "the default of whoever installed the toolchain, which you cannot change"
            };
            format!(
                "{}:{line} (the toolchain's go.env, {whose})",
                path.display()
            )
        }
    }
}

fn fix_for(key: &str, origin: &Origin, may_run: &dyn Fn(&[&str]) -> bool) -> String {
    match origin {
        Origin::ProcessEnv => format!("unset {key} in the environment (e.g. your shell profile)"),
        Origin::GorootGoEnv { path, line, .. } => goroot_env_fix(key, path, *line),
        Origin::EnvFile { .. } => env_file_fix(key, may_run),
    }
}

/// A go env file line for messages: the user's go env file, or a toolchain's go.env.
fn file_line<E: Fn(&str) -> Option<OsString>>(ge: &GoEnv<E>, path: &Path, line: usize) -> String {
    if ge.user_file() == Some(path) {
        format!("the go env file {}:{line}", path.display())
    } else {
        format!(
            "{}:{line}, the go.env of a toolchain you can write,",
            path.display()
        )
    }
}

/// How to take `key` out of the go env file at `path` that sets it.
fn remove_fix<E: Fn(&str) -> Option<OsString>>(
    ge: &GoEnv<E>,
    key: &str,
    path: &Path,
    line: usize,
    may_run: &dyn Fn(&[&str]) -> bool,
) -> String {
    if ge.user_file() == Some(path) {
        env_file_fix(key, may_run)
    } else {
        goroot_env_fix(key, path, line)
    }
}

/// `go env -u` and `drift --fix` write the user's go env file only: a toolchain's go.env is
/// edited by hand.
fn goroot_env_fix(key: &str, path: &Path, line: usize) -> String {
    format!("delete line {line} ({key}=…) from {}", path.display())
}

/// How to take `key` out of the user's go env file: `go env -u` where the caller's role may
/// run it, else `gowarden drift --fix` (no go command, so no role rule applies; it writes
/// only what the policy asks for).
pub fn env_file_fix(key: &str, may_run: &dyn Fn(&[&str]) -> bool) -> String {
    if may_run(&["env", "-u", key]) {
        format!("run `go env -u {key}` (or `gowarden drift --fix`)")
    } else {
        format!(
            "run `gowarden drift --fix`, which removes {key} from the go env file (your role \
             may not run `go env -u {key}`)"
        )
    }
}

/// A value for a message: as the audit log records it, URL userinfo (a proxy password)
/// redacted.
pub fn shown(v: &OsStr) -> String {
    crate::audit::redact_url_userinfo_str(&v.to_string_lossy()).into_owned()
}

fn non_empty(v: Option<OsString>) -> Option<OsString> {
    v.filter(|v| !v.is_empty())
}
