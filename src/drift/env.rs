//! Environment drift: what a go call that bypasses the shim gets for each key the policy
//! governs, read from the chosen real toolchain itself.
//!
//! The governed keys are `[env] enforce` and `forbid`, plus GOTOOLCHAIN, which
//! `[toolchains] gotoolchain` enforces (unless `inherit`) where the policy governs go's
//! environment at all (an `[env]` table or roles): with the distribution's `GOTOOLCHAIN=auto`
//! a go run outside the shim lets any go.mod `toolchain` line download and run another
//! toolchain. A policy with neither (the embedded default) governs only calls through the
//! shim, so a stock toolchain's `GOTOOLCHAIN=auto` is not drift there: the version check still
//! reports a repository whose go.mod would make such a call switch. `[env] defaults` are
//! company defaults the user may override, so they never drift.
//!
//! Values come from `go env -json` run with the chosen toolchain's own `bin/go`, with the
//! caller's environment minus GOROOT (so that toolchain's `go.env` is the one read, as the
//! shim arranges) plus `GOTOOLCHAIN=local` (so the check itself cannot switch toolchains);
//! where each value came from (environment, go env file and line, go.env and line) comes from
//! [`crate::goenv`], which reads the files as go does. GOTOOLCHAIN is read from the files
//! only: the check's own `GOTOOLCHAIN=local` would hide it from `go env`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use super::{Category, Finding, Severity, Source, lossy, show};
use crate::goenv::GoEnv;
use crate::policy::LoadedPolicy;

/// What the policy wants for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// This value; `at` is the policy rule's `file:line`.
    Value { value: String, at: String },
    /// Not set by the environment nor the user's go env file.
    Unset { at: String },
}

/// The keys the policy governs for calls that bypass the shim, sorted by key.
pub fn governed(policy: &LoadedPolicy) -> Vec<(String, Want)> {
    let env = &policy.policy.env;
    let mut keys: Vec<(String, Want)> = env
        .enforce
        .iter()
        .map(|(k, v)| {
            let want = Want::Value {
                value: v.get_ref().clone(),
                at: policy.location(&v.span()),
            };
            (k.clone(), want)
        })
        .collect();
    for k in &env.forbid {
        let at = policy.location(&k.span());
        keys.push((k.get_ref().clone(), Want::Unset { at }));
    }
    let gt = &policy.policy.toolchains.gotoolchain;
    let governs_env = policy.has_roles() || !env.is_empty();
    if gt != "inherit" && governs_env {
        let at = format!("{} [toolchains] gotoolchain", policy.origin.file_name());
        keys.push((
            "GOTOOLCHAIN".into(),
            Want::Value {
                value: gt.clone(),
                at,
            },
        ));
    }
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys
}

/// The env check's result: its findings and what a bypassing call gets per governed key.
#[derive(Debug, Default, Clone)]
pub struct Bypass {
    pub findings: Vec<Finding>,
    /// Key → value (empty when unset), for baselines.
    pub values: BTreeMap<String, String>,
}

/// Checks the governed keys for a call that bypasses the shim. `env` is the caller's
/// environment. An error means the check could not run (exit 2).
pub fn check<E: Fn(&str) -> Option<OsString>>(
    policy: &LoadedPolicy,
    goroot: &Path,
    dir: &Path,
    env: E,
) -> Result<Bypass, String> {
    let keys = governed(policy);
    let mut out = Bypass::default();
    if keys.is_empty() {
        return Ok(out);
    }
    let ge = GoEnv::load(&env, Some(goroot))
        .map_err(|e| format!("cannot check the environment: {e}"))?;
    let asked: Vec<&str> = keys
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "GOTOOLCHAIN")
        .collect();
    let reported = if asked.is_empty() {
        BTreeMap::new()
    } else {
        go_env_json(goroot, dir, &asked)?
    };
    for (key, want) in &keys {
        let caller = ge.get(key);
        let actual: Option<String> = if key == "GOTOOLCHAIN" {
            caller.as_ref().map(|(v, _)| lossy(v))
        } else {
            reported.get(key).cloned()
        }
        .filter(|v| !v.is_empty());
        out.values
            .insert(key.clone(), actual.clone().unwrap_or_default());
        let process = env(key).filter(|v| !v.is_empty()).map(|v| lossy(&v));
        let file = ge
            .user_entry(key)
            .map(|(p, e)| (p.to_path_buf(), e.line, lossy(&e.value)));
        match want {
            Want::Value { value, at } => {
                // GOTOOLCHAIN unset everywhere means the bundled toolchain: `local`.
                let effective = match (key.as_str(), &actual) {
                    ("GOTOOLCHAIN", None) => Some("local".to_string()),
                    _ => actual.clone(),
                };
                if effective.as_deref() != Some(value.as_str()) {
                    let source = match &caller {
                        Some((v, origin)) if Some(lossy(v)) == actual => {
                            Source::from_origin(origin)
                        }
                        _ => Source::GoDefault,
                    };
                    let fix = match &source {
                        Source::Env => format!(
                            "unset {key} in the environment (shell profile, CI settings) or set \
                             it to {value}"
                        ),
                        _ => format!(
                            "run `gowarden drift --fix`: it writes {key}={value} to the user go \
                             env file, as `go env -w {key}={value}` would"
                        ),
                    };
                    out.findings.push(Finding {
                        category: Category::Env,
                        key: key.clone(),
                        expected: show(Some(value)),
                        actual: show(effective.as_deref()),
                        message: format!(
                            "go run without the shim (an IDE, a script calling the real go \
                             directly) gets {key}={} from {source}, not the value the policy \
                             enforces ({at})",
                            effective.as_deref().unwrap_or("")
                        ),
                        source,
                        severity: if key == "GOTOOLCHAIN" {
                            // [toolchains], not an [env] rule: go still runs a toolchain the
                            // repository asks for, only without the policy choosing it.
                            Severity::Warning
                        } else {
                            Severity::Error
                        },
                        fix,
                    });
                }
                // What applies wherever this environment's variable is missing (an IDE, cron,
                // another terminal): the file's value, else go.env's.
                let beneath = match (&file, ge.goroot_entry(key)) {
                    (Some((path, line, v)), _) => Some((
                        v.clone(),
                        Source::EnvFile {
                            path: path.clone(),
                            line: *line,
                        },
                    )),
                    (None, Some((path, e))) => Some((
                        lossy(&e.value),
                        Source::GorootGoEnv {
                            path: path.to_path_buf(),
                            line: e.line,
                        },
                    )),
                    (None, None) => None,
                };
                if process.is_some()
                    && let Some((v, source)) = beneath
                    && v != *value
                {
                    out.findings.push(Finding {
                        category: Category::Env,
                        key: key.clone(),
                        expected: show(Some(value)),
                        actual: show(Some(&v)),
                        message: format!(
                            "{source} gives {key}={v}; this environment hides it, but it applies \
                             wherever {key} is not set (an IDE, cron, another terminal); the \
                             policy enforces {value} ({at})"
                        ),
                        source,
                        severity: Severity::Warning,
                        fix: format!(
                            "run `gowarden drift --fix` (it writes {key}={value} to the user go \
                             env file, as `go env -w` would)"
                        ),
                    });
                }
            }
            Want::Unset { at } => {
                if let Some(v) = &process {
                    out.findings.push(Finding {
                        category: Category::Env,
                        key: key.clone(),
                        expected: "(unset)".into(),
                        actual: show(Some(v)),
                        source: Source::Env,
                        severity: Severity::Error,
                        message: format!(
                            "{key} is set in the environment; the policy forbids it ({at}) and \
                             go run without the shim uses it"
                        ),
                        fix: format!("unset {key} in the environment (shell profile, CI settings)"),
                    });
                }
                if let Some((path, line, v)) = &file {
                    out.findings.push(Finding {
                        category: Category::Env,
                        key: key.clone(),
                        expected: "(unset)".into(),
                        actual: show(Some(v)),
                        source: Source::EnvFile {
                            path: path.clone(),
                            line: *line,
                        },
                        severity: Severity::Error,
                        message: format!(
                            "the go env file sets {key}; the policy forbids it ({at}) and every \
                             go run without the shim reads that file"
                        ),
                        // `go env -u` only where the caller's role may run it.
                        fix: if crate::policy::rules::caller_may_run(
                            policy,
                            Some(goroot),
                            dir,
                            &["env", "-u", key],
                        ) {
                            format!("run `gowarden drift --fix` (or `go env -u {key}`)")
                        } else {
                            "run `gowarden drift --fix`".to_string()
                        },
                    });
                }
            }
        }
    }
    Ok(out)
}

/// `go env -json KEYS` from the toolchain at `goroot`, run as a call bypassing the shim would
/// run it (see the module docs).
pub fn go_env_json(
    goroot: &Path,
    dir: &Path,
    keys: &[&str],
) -> Result<BTreeMap<String, String>, String> {
    let go = goroot.join("bin").join("go");
    let out = Command::new(&go)
        .arg("env")
        .arg("-json")
        .args(keys)
        .current_dir(dir)
        .env_remove("GOROOT")
        .env("GOTOOLCHAIN", "local")
        .output()
        .map_err(|e| {
            format!(
                "cannot check the environment: cannot run {}: {e}",
                go.display()
            )
        })?;
    if !out.status.success() {
        return Err(format!(
            "cannot check the environment: `{} env -json` failed ({}): {}",
            go.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "cannot check the environment: `{} env -json` printed no JSON object: {e}",
            go.display()
        )
    })
}
