//! Rollout checks of `gowarden policy check`: a policy that loads can still be wrong for the
//! people it governs. These need today's date or compare roles with each other, so they are
//! lint only: the shim never refuses a deployed policy for them (a policy that loads today
//! must not stop loading tomorrow because a date passed).
//!
//! - **error** `[toolchains] default` that the default tier refuses now (below `min`,
//!   blocked, below `recommended` after `upgrade_by`) or will refuse once its `upgrade_by`
//!   passes: every `go` outside a pinned project would then be refused.
//! - **error** an `[[binding]]` whose only conditions are `env` and whose role is *laxer* than
//!   `[roles] default` (see [`laxer`]): whoever runs `go` sets its environment, so such a
//!   binding hands the laxer role to anyone.
//! - **warning** an `upgrade_by` already past: legitimate (the deadline is being enforced),
//!   but a rollout then refuses at once every version below `recommended`.
//! - **warning** a `[toolchains] default` below the default tier's `recommended` with no
//!   deadline: every unpinned project warns.

use std::path::Path;

use super::load::LoadedPolicy;
use super::matrix::{self, Problem};
use super::roles::{DenyRule, Role, key_matches};
use crate::date::Date;
use crate::resolve::VersionSpec;
use crate::version::GoVersion;

/// How bad a rollout finding is: errors fail `policy check` (exit 1), warnings do not.
pub use crate::outcome::Severity;

#[derive(Debug, Clone)]
pub struct Advice {
    pub level: Severity,
    pub problem: Problem,
}

/// Every rollout finding for `loaded` on `today`, in file order.
pub fn rollout(loaded: &LoadedPolicy, today: Date) -> Vec<Advice> {
    let mut out = Vec::new();
    let mut push = |level: Severity, span: std::ops::Range<usize>, message: String| {
        let (line, col) = loaded.line_col(span.start);
        out.push(Advice {
            level,
            problem: Problem {
                file: loaded.origin.file_name(),
                line,
                col,
                message,
            },
        });
    };
    let p = &loaded.policy;
    let (m, _) = matrix::compile(loaded);

    for (t, raw) in m.tiers.iter().zip(&p.tiers) {
        if let (Some(d), Some(span)) = (&t.upgrade_by, &raw.get_ref().upgrade_by)
            && today > d.date
        {
            let rec = t
                .recommended
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_default();
            push(
                Severity::Warning,
                span.span(),
                format!(
                    "tier {:?}: upgrade_by {} has passed (today is {today}): the shim refuses \
                     every version below {rec} in this tier now; if that is not what you want, \
                     set a date to come or remove upgrade_by (then older versions only warn)",
                    t.name, d.date
                ),
            );
        }
    }

    if let (Some(def), Some((ti, tier_at))) = (&p.toolchains.default, &m.default_tier) {
        let t = &m.tiers[*ti];
        let written = def.get_ref();
        let spec = VersionSpec::parse(written);
        // Every release the default can pick is below `bound` / in `spec`'s family.
        let all_below = |bound: &GoVersion| match &spec {
            Some(VersionSpec::Exact(v)) => v.cmp_go(bound).is_lt(),
            Some(VersionSpec::Family(f)) => lang_of(f).cmp_go(&lang_of(bound)).is_lt(),
            _ => false,
        };
        let blocked = m.blocked.iter().find(|b| match (&spec, &b.spec) {
            (Some(VersionSpec::Exact(v)), s) => s.matches(v),
            (Some(VersionSpec::Family(f)), VersionSpec::Family(bf)) => f.in_family(bf),
            _ => false,
        });
        let fix = match (&t.recommended, &t.min) {
            (Some(r), _) => format!("set it to {} (the tier's recommended)", r.bare),
            (None, Some(mn)) => format!("set it to {} or newer", mn.bare),
            _ => "set it to a release that is not blocked".into(),
        };
        let head = format!(
            "[toolchains] default = {written:?} is what every project without a version file \
             runs, and the default tier {:?} ({tier_at})",
            t.name
        );
        let mut error = |why: String| {
            push(
                Severity::Error,
                def.span(),
                format!("{head} {why}: go outside a pinned project would be refused; {fix}"),
            )
        };
        if let Some(mn) = t.min.as_ref().filter(|mn| all_below(&mn.version)) {
            error(format!(
                "refuses it now: it is below the minimum {mn} ({})",
                mn.at
            ));
        } else if let Some(b) = blocked {
            error(format!(
                "refuses it now: [[blocked]] {:?} ({}) blocks it",
                b.written, b.at
            ));
        } else if let Some(r) = t.recommended.as_ref().filter(|r| all_below(&r.version)) {
            match &t.upgrade_by {
                Some(d) if today > d.date => error(format!(
                    "refuses it now: it is below the recommended {r} ({}) and the deadline {} \
                     ({}) has passed",
                    r.at, d.date, d.at
                )),
                Some(d) => error(format!(
                    "will refuse it after {} ({}): it is below the recommended {r} ({})",
                    d.date, d.at, r.at
                )),
                None => push(
                    Severity::Warning,
                    def.span(),
                    format!(
                        "{head} recommends {r} ({}): every project without a version file will \
                         warn; {fix}",
                        r.at
                    ),
                ),
            }
        }
    }

    if let Some(default) = &p.roles.default
        && let Some((d, _)) = loaded.role(default.get_ref())
    {
        for b in &p.binding {
            let bind = b.get_ref();
            let env_only = !bind.env.is_empty()
                && bind.users.is_empty()
                && bind.groups.is_empty()
                && bind.uids.is_empty()
                && bind.gids.is_empty();
            let name = bind.role.get_ref();
            if !env_only || name == default.get_ref() {
                continue;
            }
            let Some((r, _)) = loaded.role(name) else {
                continue;
            };
            if let Some(why) = laxer(r, d) {
                let vars: Vec<String> = bind
                    .env
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.get_ref()))
                    .collect();
                push(
                    Severity::Error,
                    b.span(),
                    format!(
                        "[[binding]] gives role {name:?} to anyone whose environment has {}, and \
                         {name:?} is laxer than the default role {:?}: {why}; whoever runs go \
                         sets its environment, so bind {name:?} by gids, uids or groups instead \
                         (or make it at least as strict as {:?})",
                        vars.join(" "),
                        default.get_ref(),
                        default.get_ref()
                    ),
                );
            }
        }
    }
    out.sort_by_key(|a| (a.problem.line, a.problem.col));
    out
}

/// `1.22.x` as the language version `1.22`, for comparing families.
fn lang_of(v: &GoVersion) -> GoVersion {
    GoVersion::parse(&v.lang()).unwrap_or_else(|| v.clone())
}

/// Whether role `r` lets through something role `d` refuses, judged on the rules as written;
/// `Some(why)` names the first such difference. `r` is laxer when it:
/// - may run a command `d`'s `allow_commands` leaves out (or has no `allow_commands` while `d`
///   has);
/// - lacks the effect of one of `d`'s deny rules: no rule of `r` refuses the same uses (a rule
///   on the same or a wider command refusing the same flags with the same or more values, the
///   same go env keys, or the whole command; for env keys also a rule refusing `go env -w`
///   and `-u` outright), and `r` may run that command at all;
/// - may install where `d` may not (no `install_dirs` while `d` has them, or a directory that
///   is not one of `d`'s nor inside one);
/// - does not check build outputs where `d` does, or allows unreadable command lines where
///   `d` refuses them.
pub fn laxer(r: &Role, d: &Role) -> Option<String> {
    let words = |c: &str| -> Vec<String> { c.split_whitespace().map(str::to_string).collect() };
    let covers = |outer: &str, inner: &str| {
        let (o, i) = (words(outer), words(inner));
        o.len() <= i.len() && o.iter().zip(&i).all(|(a, b)| a == b)
    };
    let r_may_run = |cmd: Option<&str>| -> bool {
        let (Some(list), Some(cmd)) = (&r.allow_commands, cmd) else {
            return true;
        };
        list.get_ref()
            .iter()
            .any(|a| covers(a.get_ref(), cmd) || covers(cmd, a.get_ref()))
    };
    if let Some(dl) = &d.allow_commands {
        let allowed = |c: &str| dl.get_ref().iter().any(|a| covers(a.get_ref(), c));
        match &r.allow_commands {
            None => {
                let names: Vec<&str> = dl.get_ref().iter().map(|c| c.get_ref().as_str()).collect();
                return Some(format!(
                    "it may run every command, the default role only {}",
                    names.join(", ")
                ));
            }
            Some(rl) => {
                if let Some(c) = rl.get_ref().iter().find(|c| !allowed(c.get_ref())) {
                    return Some(format!(
                        "it may run `go {}`, which the default role may not",
                        c.get_ref()
                    ));
                }
            }
        }
    }
    for dr in &d.deny {
        let cmd = dr.command.as_ref().map(|c| c.get_ref().as_str());
        if !r_may_run(cmd) {
            continue;
        }
        if !r.deny.iter().any(|rr| rule_covers(rr, dr, &covers)) {
            return Some(format!(
                "it lacks the default role's deny rule {:?}{}",
                dr.id.get_ref(),
                dr.message
                    .as_ref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ));
        }
    }
    if let Some(dd) = &d.install_dirs {
        let inside = |dir: &str| {
            dd.get_ref()
                .iter()
                .any(|o| Path::new(dir).starts_with(Path::new(o.get_ref())))
        };
        match &r.install_dirs {
            None => return Some("it may `go install` anywhere, the default role not".into()),
            Some(rd) => {
                if let Some(x) = rd.get_ref().iter().find(|x| !inside(x.get_ref())) {
                    return Some(format!(
                        "it may `go install` into {}, which the default role may not",
                        x.get_ref()
                    ));
                }
            }
        }
    }
    if d.check_build_output() && !r.check_build_output() {
        return Some("it does not check `go build -o` targets, the default role does".into());
    }
    if d.unknown_mode() == super::roles::Unknown::Refuse
        && r.unknown_mode() == super::roles::Unknown::Allow
    {
        return Some(
            "it allows command lines gowarden cannot read exactly, the default role refuses \
             them"
                .into(),
        );
    }
    None
}

/// Whether deny rule `rr` refuses every use `dr` refuses.
fn rule_covers(rr: &DenyRule, dr: &DenyRule, covers: &dyn Fn(&str, &str) -> bool) -> bool {
    let command_ok = match (&rr.command, &dr.command) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(o), Some(i)) => covers(o.get_ref(), i.get_ref()),
    };
    if !command_ok {
        return false;
    }
    let names =
        |r: &DenyRule| -> Vec<String> { r.flags.iter().map(|f| f.get_ref().clone()).collect() };
    let (rf, df) = (names(rr), names(dr));
    // A rule with neither flags nor keys refuses the command itself.
    if rf.is_empty() && rr.env_keys.is_empty() {
        return true;
    }
    if !df.is_empty() {
        let values_ok = match (&rr.values, &dr.values) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(o), Some(i)) => i.get_ref().iter().all(|v| o.get_ref().contains(v)),
        };
        return df.iter().all(|f| rf.contains(f)) && values_ok;
    }
    if !dr.env_keys.is_empty() {
        let all_writes =
            ["w", "u"].iter().all(|f| rf.iter().any(|x| x == f)) && rr.values.is_none();
        let keys = dr.env_keys.iter().all(|k| {
            rr.env_keys
                .iter()
                .any(|p| p.get_ref() == k.get_ref() || key_matches(p.get_ref(), k.get_ref()))
        });
        return all_writes || (!rr.env_keys.is_empty() && keys);
    }
    false
}
