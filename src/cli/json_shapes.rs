//! The JSON of `gowarden which --json` (also `which TOOL`) and `gowarden explain --json`: one
//! `Serialize` type per shape, so each shape is defined once and docs/cli.md can point here.
//! The output has its keys in alphabetical order, as it always had (it was built from
//! `serde_json::json!` maps, which sort their keys): [`super::print_json`] sorts them, and the
//! fields are declared in that order too, so a type reads as its output does.
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

use serde::{Serialize, Serializer};

use crate::confine::{Grant, Kernel, Prepared};
use crate::decision::Plan;
use crate::goenv::Origin;
use crate::location::Location;
use crate::outcome::{ChosenBy, RoleChoice, RuleId};
use crate::policy::env::EnvCheck;
use crate::policy::load::PolicyOrigin;
use crate::project::Declaration;
use crate::resolve::{Request, Source};
use crate::toolchain::Toolchain;

fn lossy(s: &OsStr) -> Cow<'_, str> {
    s.to_string_lossy()
}

/// A variable's value as every other output shows it: URL userinfo (a proxy password)
/// redacted, as in the text of `which` and the audit log.
fn shown(s: &OsStr) -> Cow<'_, str> {
    match lossy(s) {
        Cow::Borrowed(b) => crate::audit::redact_url_userinfo_str(b),
        Cow::Owned(o) => Cow::Owned(crate::audit::redact_url_userinfo_str(&o).into_owned()),
    }
}

fn lossy_all(v: &[std::ffi::OsString]) -> Vec<Cow<'_, str>> {
    v.iter().map(|a| shown(a)).collect()
}

/// A location as `file:line[:column]`, the string the policy's messages print: the role's
/// and a rule's `location` have always been that string.
fn as_display<S: Serializer>(l: &Option<&Location>, s: S) -> Result<S::Ok, S::Error> {
    match l {
        Some(l) => display(l, s),
        None => s.serialize_none(),
    }
}

fn display<S: Serializer>(l: &&Location, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(l)
}

/// `policy`: where the policy in force came from (`notes` only in `which`'s answer).
#[derive(Serialize)]
pub struct PolicyJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<&'a [String]>,
    pub origin: &'static str,
    pub path: Option<&'a Path>,
}

impl<'a> PolicyJson<'a> {
    pub fn of(origin: &'a PolicyOrigin) -> PolicyJson<'a> {
        PolicyJson {
            notes: None,
            origin: origin.kind(),
            path: origin.path(),
        }
    }
}

/// `source`: what asked for the version in force.
#[derive(Serialize)]
pub struct SourceJson<'a> {
    pub description: String,
    pub file: Option<Cow<'a, str>>,
    pub kind: &'static str,
    pub line: Option<usize>,
}

impl<'a> SourceJson<'a> {
    pub fn of(source: &'a Source) -> SourceJson<'a> {
        let location = source.location();
        SourceJson {
            description: source.to_string(),
            file: location
                .as_ref()
                .map(|l| l.file.display().to_string().into()),
            kind: source.kind(),
            line: location.and_then(|l| l.line),
        }
    }
}

/// `role`: the caller's role and what chose it; `null` for a policy without roles.
#[derive(Serialize)]
pub struct RoleJson<'a> {
    pub chosen_by: &'static str,
    pub description: String,
    #[serde(serialize_with = "as_display")]
    pub location: Option<&'a Location>,
    pub matched: Option<&'a str>,
    pub name: &'a str,
}

impl<'a> RoleJson<'a> {
    pub fn of(role: Option<&'a RoleChoice>) -> Option<RoleJson<'a>> {
        let r = role?;
        Some(RoleJson {
            chosen_by: r.chosen_by.kind(),
            description: r.chosen_by.to_string(),
            location: r.chosen_by.location(),
            matched: match &r.chosen_by {
                ChosenBy::Binding { matched, .. } => Some(matched),
                _ => None,
            },
            name: &r.name,
        })
    }
}

/// A toolchain found on this machine.
#[derive(Serialize)]
pub struct ToolchainJson<'a> {
    pub found_in: String,
    pub goroot: &'a Path,
    pub version: &'a str,
}

/// `gowarden which --json` where `go` would run.
#[derive(Serialize)]
pub struct Which<'a> {
    pub confinement: Option<ConfinementJson>,
    /// Each variable the shim sets for go; `null` for one it removes.
    pub env: BTreeMap<&'a str, Option<Cow<'a, str>>>,
    pub env_policy: Vec<EnvCheckJson<'a>>,
    pub found_in: String,
    pub goroot: &'a Path,
    pub overrides: Vec<OverrideJson<'a>>,
    pub policy: PolicyJson<'a>,
    pub requested: &'a str,
    pub role: Option<RoleJson<'a>>,
    pub source: SourceJson<'a>,
    pub spec: String,
    pub tier: Option<TierJson<'a>>,
    pub version: &'a str,
    pub warnings: &'a [String],
}

/// A farther (or lower) declaration that the one in force overrode.
#[derive(Serialize)]
pub struct OverrideJson<'a> {
    pub file: &'a Path,
    pub kind: &'static str,
    pub line: usize,
    pub value: &'a str,
}

impl<'a> OverrideJson<'a> {
    pub fn of(d: &Declaration<'a>) -> OverrideJson<'a> {
        let at = match d {
            Declaration::Pin(p) => &p.declared,
            Declaration::Toolchain(t) => t,
        };
        OverrideJson {
            file: &at.path,
            kind: match d {
                Declaration::Pin(p) => p.format.kind(),
                Declaration::Toolchain(_) => "toolchain-line",
            },
            line: at.line,
            value: &at.value,
        }
    }
}

#[derive(Serialize)]
pub struct TierJson<'a> {
    pub name: &'a str,
    pub owner: &'a str,
    pub reason: &'static str,
    pub why: String,
}

/// One `[env]` key: the value go gets and where the caller's value came from.
#[derive(Serialize)]
pub struct EnvCheckJson<'a> {
    pub action: &'static str,
    pub caller: Option<CallerJson<'a>>,
    pub key: &'a str,
    /// The rule's `file:line` in the policy.
    #[serde(serialize_with = "display")]
    pub policy: &'a Location,
    pub rule: &'static str,
    pub value: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
pub struct CallerJson<'a> {
    pub source: OriginJson<'a>,
    pub value: Cow<'a, str>,
}

impl<'a> EnvCheckJson<'a> {
    pub fn of(c: &'a EnvCheck) -> EnvCheckJson<'a> {
        EnvCheckJson {
            action: c.action.name(),
            caller: c.caller.as_ref().map(|(v, o)| CallerJson {
                source: OriginJson::of(o),
                value: shown(v),
            }),
            key: &c.key,
            policy: &c.policy_at,
            rule: c.rule.name(),
            value: c.value.as_deref().map(shown),
        }
    }
}

/// Where a go env value came from: `kind` `env`, `env-file` (the user's go env file) or
/// `go.env` (`$GOROOT/go.env`), which also says whether the caller can write the file and
/// whether the value is the Go distribution's own.
#[derive(Serialize)]
pub struct OriginJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_default: Option<bool>,
    pub kind: &'static str,
    pub line: Option<usize>,
    pub path: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writable: Option<bool>,
}

impl<'a> OriginJson<'a> {
    pub fn of(origin: &'a Origin) -> OriginJson<'a> {
        let plain = |kind, path: Option<&'a Path>, line| OriginJson {
            distribution_default: None,
            kind,
            line,
            path,
            writable: None,
        };
        match origin {
            Origin::ProcessEnv => plain("env", None, None),
            Origin::EnvFile { path, line } => plain("env-file", Some(path), Some(*line)),
            Origin::GorootGoEnv {
                path,
                line,
                owner,
                stock,
            } => OriginJson {
                distribution_default: Some(*stock),
                writable: Some(owner.is_some_and(crate::goenv::FileOwner::caller_can_write)),
                ..plain("go.env", Some(path), Some(*line))
            },
        }
    }
}

impl<'a> Which<'a> {
    pub fn of(plan: &'a Plan, overridden: &[Declaration<'a>]) -> Which<'a> {
        let env = super::which::shown_env(plan)
            .map(|c| (c.key.as_str(), c.to.as_deref().map(shown)))
            .collect();
        Which {
            confinement: ConfinementJson::of(plan, None),
            env,
            env_policy: plan.env_checks.iter().map(EnvCheckJson::of).collect(),
            found_in: plan.toolchain.found_in.to_string(),
            goroot: &plan.toolchain.goroot,
            overrides: overridden.iter().map(OverrideJson::of).collect(),
            policy: PolicyJson {
                notes: Some(&plan.policy.notes),
                ..PolicyJson::of(&plan.policy.origin)
            },
            requested: &plan.request.written,
            role: RoleJson::of(plan.role.as_ref()),
            source: SourceJson::of(&plan.request.source),
            spec: plan.request.spec.to_string(),
            tier: plan.tier.as_ref().map(|t| TierJson {
                name: &t.name,
                owner: &t.owner,
                reason: t.reason.kind(),
                why: t.reason.to_string(),
            }),
            version: &plan.toolchain.name,
            warnings: &plan.warnings,
        }
    }
}

/// `gowarden which --json` where the shim would refuse: what is known before the refusal.
#[derive(Serialize)]
pub struct WhichRefused<'a> {
    pub error: &'a str,
    pub installed: Vec<ToolchainJson<'a>>,
    pub policy: Option<PolicyJson<'a>>,
    pub requested: Option<&'a str>,
    pub rule: &'a RuleId,
    pub source: Option<SourceJson<'a>>,
    pub spec: Option<String>,
}

impl<'a> WhichRefused<'a> {
    pub fn of(
        refusal: &'a crate::outcome::Refusal,
        policy: Option<&'a PolicyOrigin>,
        request: Option<&'a Request>,
        installed: &'a [Toolchain],
    ) -> WhichRefused<'a> {
        WhichRefused {
            error: &refusal.message,
            installed: installed
                .iter()
                .map(|t| ToolchainJson {
                    found_in: t.found_in.to_string(),
                    goroot: &t.goroot,
                    version: &t.name,
                })
                .collect(),
            policy: policy.map(PolicyJson::of),
            requested: request.map(|q| q.written.as_str()),
            rule: &refusal.rule,
            source: request.map(|q| SourceJson::of(&q.source)),
            spec: request.map(|q| q.spec.to_string()),
        }
    }
}

/// `gowarden explain --json`: how the shim reads the command line and what it decides.
#[derive(Serialize)]
pub struct Explain<'a> {
    pub args: Vec<Cow<'a, str>>,
    pub confinement: Option<ConfinementJson>,
    /// `allow` or `refuse`.
    pub decision: &'static str,
    pub goflags: Option<GoflagsJson<'a>>,
    pub message: Option<&'a str>,
    pub parse: ParseJson<'a>,
    pub policy: PolicyJson<'a>,
    pub role: Option<RoleJson<'a>>,
    pub rule: Option<RuleJson<'a>>,
    pub toolchain: ExplainToolchain<'a>,
}

/// The toolchain go would run, or why there is none.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ExplainToolchain<'a> {
    Chosen { goroot: &'a Path, version: &'a str },
    Refused { error: &'a str, rule: &'a RuleId },
}

/// The effective GOFLAGS and where they came from.
#[derive(Serialize)]
pub struct GoflagsJson<'a> {
    /// Where the GOFLAGS value came from, in `which`'s shape ([`OriginJson`]).
    pub from: OriginJson<'a>,
    pub value: Cow<'a, str>,
}

#[derive(Serialize)]
pub struct ParseJson<'a> {
    pub error: Option<&'a str>,
    pub invocation: Option<InvocationJson<'a>>,
    pub ok: bool,
}

/// The go command line as go reads it.
#[derive(Serialize)]
pub struct InvocationJson<'a> {
    pub chdir: Option<&'a Path>,
    pub command: &'a [String],
    pub env_write: Option<EnvWriteJson<'a>>,
    pub flags: Vec<FlagJson<'a>>,
    pub help: bool,
    pub known_command: bool,
    pub passthrough: Vec<Cow<'a, str>>,
    pub positionals: Vec<Cow<'a, str>>,
    pub unknown_flags: Vec<FlagJson<'a>>,
    pub vettool: Option<Cow<'a, str>>,
}

impl<'a> InvocationJson<'a> {
    pub fn of(inv: &'a crate::gocli::Invocation) -> InvocationJson<'a> {
        use crate::gocli::EnvWrite;
        InvocationJson {
            chdir: inv.chdir.as_deref(),
            command: &inv.command,
            env_write: inv.env_write.as_ref().map(|w| match w {
                EnvWrite::Set(pairs) => EnvWriteJson {
                    keys: pairs.iter().map(|(k, _)| k.as_str()).collect(),
                    op: "set",
                    values: Some(pairs.iter().map(|(_, v)| shown(v)).collect()),
                },
                EnvWrite::Unset(keys) => EnvWriteJson {
                    keys: keys.iter().map(String::as_str).collect(),
                    op: "unset",
                    values: None,
                },
            }),
            flags: inv.flags.iter().map(FlagJson::of).collect(),
            help: inv.help,
            known_command: inv.known_command,
            passthrough: lossy_all(&inv.passthrough),
            positionals: lossy_all(&inv.positionals),
            unknown_flags: inv.unknown_flags.iter().map(FlagJson::of).collect(),
            vettool: inv.vettool.as_deref().map(lossy),
        }
    }
}

/// `go env -w` (`op` `set`, with `values`) or `go env -u` (`unset`).
#[derive(Serialize)]
pub struct EnvWriteJson<'a> {
    pub keys: Vec<&'a str>,
    pub op: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Cow<'a, str>>>,
}

#[derive(Serialize)]
pub struct FlagJson<'a> {
    pub forwarded: bool,
    pub name: &'a str,
    /// `command-line` or `GOFLAGS`.
    pub origin: &'static str,
    pub value: Option<Cow<'a, str>>,
    pub written: &'a str,
}

impl<'a> FlagJson<'a> {
    pub fn of(f: &'a crate::gocli::FlagUse) -> FlagJson<'a> {
        FlagJson {
            forwarded: f.forwarded,
            name: &f.name,
            origin: match f.origin {
                crate::gocli::FlagOrigin::CommandLine => "command-line",
                crate::gocli::FlagOrigin::GoFlags => "GOFLAGS",
            },
            value: f.value.as_deref().map(shown),
            written: &f.written,
        }
    }
}

/// The rule that refuses, where the policy has it.
#[derive(Serialize)]
pub struct RuleJson<'a> {
    pub id: &'a str,
    #[serde(serialize_with = "as_display")]
    pub location: Option<&'a Location>,
    pub reason: Option<&'a str>,
    pub refused: Option<&'a str>,
}

/// `gowarden which TOOL --json` where the tool shim would run.
#[derive(Serialize)]
pub struct WhichTool<'a> {
    pub binary: std::path::PathBuf,
    /// Built already: its first run builds nothing.
    pub cached: bool,
    pub go: &'a str,
    pub key: String,
    pub module: Option<&'a str>,
    pub package: &'a str,
    pub pin: PinJson,
    pub platform: String,
    /// The policy's description (`PATH (from $GOWARDEN_POLICY)`).
    pub policy: String,
    /// The role's name; `null` for a policy without roles.
    pub role: Option<&'a str>,
    pub tool: &'a str,
    pub version: &'a str,
}

/// What pinned the tool's version.
#[derive(Serialize)]
pub struct PinJson {
    pub kind: &'static str,
    pub source: String,
}

impl<'a> WhichTool<'a> {
    pub fn of(tp: &'a crate::shim::tool::ToolPlan) -> WhichTool<'a> {
        WhichTool {
            binary: tp.entry.binary(),
            cached: tp.entry.exists(),
            go: &tp.key.go,
            key: tp.key.digest(),
            module: tp.pin.module.as_deref(),
            package: &tp.pin.package,
            pin: PinJson {
                kind: tp.pin.source.kind(),
                source: tp.pin.source.to_string(),
            },
            platform: tp.key.platform(),
            policy: tp.plan.policy.origin.to_string(),
            role: tp.plan.role.as_ref().map(|r| r.name.as_str()),
            tool: &tp.name,
            version: &tp.pin.version,
        }
    }
}

/// `gowarden which TOOL --json` where the tool shim would refuse.
#[derive(Serialize)]
pub struct WhichToolRefused<'a> {
    pub error: &'a str,
    pub rule: &'a RuleId,
    pub tool: &'a str,
}

/// `confinement`: the role's `[role.NAME.confine]` as this kernel enforces it, or the refusal
/// the shim would make instead; `null` (`None`) without a role or a confinement.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ConfinementJson {
    Prepared(Box<PreparedJson>),
    Refused { refused: String, rule: RuleId },
}

impl ConfinementJson {
    /// For `role`, else the caller's own role in `plan`.
    pub fn of(plan: &Plan, role: Option<&str>) -> Option<ConfinementJson> {
        let name = role.or(plan.role.as_ref().map(|r| r.name.as_str()))?;
        match crate::confine::for_role(plan, name)
            .and_then(|c| c.map(crate::confine::prepare).transpose())
        {
            Ok(None) => None,
            Ok(Some(p)) => Some(ConfinementJson::Prepared(Box::new(PreparedJson::of(p)))),
            Err(r) => Some(ConfinementJson::Refused {
                refused: r.message,
                rule: r.rule,
            }),
        }
    }
}

#[derive(Serialize)]
pub struct PreparedJson {
    /// The Landlock ABI the ruleset is built for.
    pub abi: i32,
    pub connect: Option<Vec<u16>>,
    pub deny_read: Vec<std::path::PathBuf>,
    pub enforced: Vec<&'static str>,
    pub execute: Option<Vec<GrantJson>>,
    pub kernel: KernelJson,
    /// `[role.NAME.confine] at file:line`.
    pub location: String,
    pub mode: &'static str,
    pub not_enforced: Vec<&'static str>,
    pub role: String,
    pub write: Vec<GrantJson>,
}

/// A path the confinement grants, and why.
#[derive(Serialize)]
pub struct GrantJson {
    pub path: std::path::PathBuf,
    pub why: String,
}

impl PreparedJson {
    fn of(p: Prepared) -> PreparedJson {
        let grants = |g: Vec<Grant>| {
            g.into_iter()
                .map(|g| GrantJson {
                    path: g.path,
                    why: g.why,
                })
                .collect::<Vec<_>>()
        };
        let names = |f: &[crate::confine::Feature]| f.iter().map(|f| f.name()).collect();
        let c = p.confinement;
        PreparedJson {
            abi: p.abi,
            connect: c.connect,
            deny_read: c.deny_read,
            enforced: names(&p.enforced),
            execute: c.execute.map(grants),
            kernel: KernelJson::of(p.kernel),
            location: c.location,
            mode: c.mode.as_str(),
            not_enforced: names(&p.missing),
            role: c.role,
            write: grants(c.write),
        }
    }
}

/// The kernel's Landlock support (`which`, `explain`, `doctor`).
#[derive(Debug, Serialize)]
pub struct KernelJson {
    /// 0 where Landlock is unavailable.
    pub landlock_abi: i32,
    /// `uname -sr`, e.g. `Linux 6.18.0`.
    pub release: String,
    /// Why Landlock is unavailable.
    pub unavailable: Option<String>,
}

impl KernelJson {
    pub fn of(k: Kernel) -> KernelJson {
        KernelJson {
            landlock_abi: k.abi,
            release: k.release,
            unavailable: k.unavailable,
        }
    }
}
