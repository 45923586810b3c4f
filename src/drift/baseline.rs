//! Baselines: `gowarden drift snapshot` records what holds now (resolved version, toolchain,
//! the governed keys' values as a call bypassing the shim gets them, the policy's SHA-256);
//! `gowarden drift --baseline FILE` reports every difference from it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::env::Bypass;
use super::{Category, Context, Finding, PolicyInfo, Severity, Source, show};

/// The format version; a baseline of another version is refused rather than misread.
pub const FORMAT: u32 = 1;

/// A snapshot, as written to the baseline file (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub gowarden_drift_baseline: u32,
    /// Seconds since the Unix epoch.
    pub created_unix: u64,
    pub dir: PathBuf,
    pub policy: BaselinePolicy,
    pub requested: Option<Requested>,
    pub toolchain: Option<BaselineToolchain>,
    /// Governed key → value a call bypassing the shim gets (empty: unset).
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselinePolicy {
    pub origin: String,
    pub path: Option<PathBuf>,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requested {
    /// As written in its source (`1.22`, `go1.22.3`).
    pub written: String,
    /// As resolved (`go1.22.x`, `go1.22.3`).
    pub spec: String,
    /// `go-version-file`, `toolchain-line`, ... (`resolve::Source::kind`).
    pub source_kind: String,
    /// `file:line`, where the source is a file.
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineToolchain {
    pub name: String,
    pub goroot: PathBuf,
}

impl Baseline {
    /// What holds now. `bypass` is `None` where the env check could not run.
    pub fn capture(ctx: &Context, bypass: Option<&Bypass>) -> Baseline {
        let info = PolicyInfo::of(&ctx.policy);
        let (requested, toolchain) = match &ctx.plan {
            Ok(plan) => (
                Some(Requested {
                    written: plan.request.written.clone(),
                    spec: plan.request.spec.to_string(),
                    source_kind: plan.request.source.kind().to_string(),
                    source: plan.request.source.location().map(|l| l.to_string()),
                }),
                Some(BaselineToolchain {
                    name: plan.toolchain.name.clone(),
                    goroot: plan.toolchain.goroot.clone(),
                }),
            ),
            Err(_) => (None, None),
        };
        Baseline {
            gowarden_drift_baseline: FORMAT,
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            dir: ctx.dir.clone(),
            policy: BaselinePolicy {
                origin: info.origin,
                path: info.path,
                sha256: info.sha256,
            },
            requested,
            toolchain,
            env: bypass.map(|b| b.values.clone()).unwrap_or_default(),
        }
    }

    pub fn read(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read(path)
            .map_err(|e| format!("cannot read the baseline {}: {e}", path.display()))?;
        let b: Baseline = serde_json::from_slice(&text).map_err(|e| {
            format!(
                "the baseline {} is not a gowarden drift snapshot: {e}; write one with \
                 `gowarden drift snapshot -o {}`",
                path.display(),
                path.display()
            )
        })?;
        if b.gowarden_drift_baseline != FORMAT {
            return Err(format!(
                "the baseline {} has format {}, this gowarden reads format {FORMAT}; take a new \
                 snapshot",
                path.display(),
                b.gowarden_drift_baseline
            ));
        }
        Ok(b)
    }

    /// Every difference between this baseline (read from `file`) and `now`. Without
    /// `env_checked` (the env check could not run) env differences are not guessed at.
    pub fn compare(&self, file: &Path, now: &Baseline, env_checked: bool) -> Vec<Finding> {
        let mut out = Vec::new();
        let finding =
            |key: &str, expected: String, actual: String, severity, message: String| Finding {
                category: Category::Baseline,
                key: key.into(),
                expected,
                actual,
                source: Source::Baseline {
                    path: file.to_path_buf(),
                },
                severity,
                message,
                fix: format!(
                    "restore what changed, or accept it with `gowarden drift snapshot -o {}`",
                    file.display()
                ),
            };
        if self.policy.sha256 != now.policy.sha256 {
            out.push(finding(
                "policy",
                self.policy.sha256.clone(),
                now.policy.sha256.clone(),
                Severity::Warning,
                "the policy in force is not the one the baseline was taken under".into(),
            ));
        }
        let name = |t: &Option<BaselineToolchain>| {
            t.as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_else(|| "(none)".into())
        };
        if name(&self.toolchain) != name(&now.toolchain) {
            out.push(finding(
                "toolchain",
                name(&self.toolchain),
                name(&now.toolchain),
                Severity::Error,
                "the toolchain the shim runs here changed".into(),
            ));
        }
        let spec = |r: &Option<Requested>| {
            r.as_ref()
                .map(|r| r.spec.clone())
                .unwrap_or_else(|| "(none)".into())
        };
        if spec(&self.requested) != spec(&now.requested) {
            out.push(finding(
                "version",
                spec(&self.requested),
                spec(&now.requested),
                Severity::Warning,
                format!(
                    "the project now asks for another version ({})",
                    now.requested
                        .as_ref()
                        .and_then(|r| r.source.clone())
                        .unwrap_or_else(|| "no version file".into())
                ),
            ));
        }
        if env_checked {
            let keys: std::collections::BTreeSet<&String> =
                self.env.keys().chain(now.env.keys()).collect();
            for key in keys {
                let (was, is) = (self.env.get(key), now.env.get(key));
                if was != is {
                    let shown = |v: Option<&String>| match v {
                        // A baseline records an unset key as empty.
                        Some(v) if v.is_empty() => "(unset)".into(),
                        Some(v) => show(Some(v)),
                        None => "(not governed)".into(),
                    };
                    out.push(finding(
                        key,
                        shown(was),
                        shown(is),
                        Severity::Error,
                        format!("{key} as a call bypassing the shim gets it changed"),
                    ));
                }
            }
        }
        out
    }
}
