//! The version matrix: which tier a module belongs to, and what its tier and the policy-wide
//! blocked list say about the Go version a project runs.
//!
//! [`compile`] turns the `[[tier]]`, `[[blocked]]` and `[matrix]` tables into checked values,
//! collecting every problem rather than stopping at the first, so `gowarden policy check` can
//! list them all; [`lint`] adds the costlier cross-tier checks. The shim and `gowarden check`
//! then share [`Matrix::choose_tier`], [`Matrix::allows`] and [`Matrix::judge`], so the CI
//! gate and the shim can never disagree about a rule.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::load::{LoadedPolicy, line_col};
use crate::date::Date;
use crate::project::{Declared, Project};
use crate::resolve::{Request, Source, VERSION_ENV, VersionSpec};
use crate::version::GoVersion;

/// The file at a repository's root that may choose its tier.
pub const REPO_FILE: &str = ".gowarden.toml";

/// Rule ids, as refusals and `gowarden check` name them (and the audit log records them).
pub mod rule {
    pub const MIN: &str = "matrix.min";
    pub const BLOCKED: &str = "matrix.blocked";
    pub const DEADLINE: &str = "matrix.deadline";
    pub const RECOMMENDED: &str = "matrix.recommended";
    pub const TIER_FILE: &str = "matrix.tier-file";
    pub const GO_LINE: &str = "consistency.go-line";
    pub const TOOLCHAIN_LINE: &str = "consistency.toolchain-line";
}

/// A problem in the policy's matrix, at a line and column of the policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

/// A version bound of a tier (`min`, `recommended`).
#[derive(Debug, Clone)]
pub struct Bound {
    pub version: GoVersion,
    /// As written, without a `go` prefix (`1.22.8`).
    pub bare: String,
    /// Where the bound is in the policy.
    pub at: Location,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "go{}", self.bare)
    }
}

#[derive(Debug, Clone)]
pub struct Deadline {
    pub date: Date,
    pub at: Location,
}

#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    pub at: Location,
    line: usize,
    col: usize,
}

/// A checked `[[tier]]`.
#[derive(Debug, Clone)]
pub struct Tier {
    pub name: String,
    pub owner: String,
    pub at: Location,
    pub modules: Vec<Pattern>,
    pub min: Option<Bound>,
    pub recommended: Option<Bound>,
    pub upgrade_by: Option<Deadline>,
}

/// A checked `[[blocked]]` entry.
#[derive(Debug, Clone)]
pub struct Blocked {
    pub spec: VersionSpec,
    pub written: String,
    pub reason: String,
    pub at: Location,
}

/// The matrix of a policy. Entries with problems are left out (the policy is then refused
/// as a whole by validation, so the shim never runs with a partial matrix).
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    pub tiers: Vec<Tier>,
    /// The default tier's index and where the policy names it.
    pub default_tier: Option<(usize, Location)>,
    pub blocked: Vec<Blocked>,
    pub require_go_version: bool,
    policy_file: String,
}

pub use crate::outcome::{Finding, Location, RuleId, Severity};

/// Why a project is in its tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierReason {
    /// The go.mod module path matches one of the tier's `modules` patterns.
    Pattern {
        module: String,
        /// Where the module path is named: its go.mod line, or the build information of a
        /// binary `check-binary` reads.
        module_at: String,
        pattern: String,
        at: Location,
    },
    /// The repository's `.gowarden.toml` names it.
    RepoFile { path: PathBuf, line: usize },
    /// No pattern matches: the policy's `default_tier`.
    Default {
        module: Option<String>,
        at: Location,
    },
}

impl TierReason {
    /// A short machine-readable name (JSON, audit record).
    pub fn kind(&self) -> &'static str {
        match self {
            TierReason::Pattern { .. } => "pattern",
            TierReason::RepoFile { .. } => "repo-file",
            TierReason::Default { .. } => "default",
        }
    }
}

impl fmt::Display for TierReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TierReason::Pattern {
                module,
                module_at,
                pattern,
                at,
            } => write!(
                f,
                "module {module} ({module_at}) matches {pattern:?} ({at})"
            ),
            TierReason::RepoFile { path, line } => {
                write!(f, "{}:{line} chooses it", path.display())
            }
            TierReason::Default {
                module: Some(m),
                at,
            } => write!(
                f,
                "module {m} matches no tier's modules, so the default tier applies ({at})"
            ),
            TierReason::Default { module: None, at } => write!(
                f,
                "the project has no go.mod module line, so the default tier applies ({at})"
            ),
        }
    }
}

/// The tier a project is in, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierChoice {
    /// Index into [`Matrix::tiers`].
    pub index: usize,
    pub name: String,
    pub owner: String,
    pub reason: TierReason,
}

/// `.gowarden.toml`: a repository may choose its tier, and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoFile {
    tier: Spanned<String>,
}

/// Compiles the matrix tables, collecting every problem found in them.
pub fn compile(loaded: &LoadedPolicy) -> (Matrix, Vec<Problem>) {
    let p = &loaded.policy;
    let file = loaded.origin.file_name();
    let mut problems = Vec::new();
    let mut problem = |span: Range<usize>, message: String| {
        let (line, col) = loaded.line_col(span.start);
        problems.push(Problem {
            file: file.clone(),
            line,
            col,
            message,
        });
    };
    let mut m = Matrix {
        require_go_version: p.matrix.require_go_version,
        policy_file: file.clone(),
        ..Matrix::default()
    };

    for b in &p.blocked {
        let b = b.get_ref();
        let written = b.version.get_ref();
        if b.reason.get_ref().trim().is_empty() {
            problem(
                b.reason.span(),
                format!(
                    "[[blocked]] {written}: reason is empty; say why (it is shown in every \
                     refusal)"
                ),
            );
        }
        let spec = match VersionSpec::parse(written) {
            Some(s @ (VersionSpec::Exact(_) | VersionSpec::Family(_))) => s,
            _ => {
                problem(
                    b.version.span(),
                    format!(
                        "[[blocked]] version = {written:?} is not a Go version; write a release \
                         such as \"1.22.4\", or \"1.21\" to block every 1.21 release"
                    ),
                );
                continue;
            }
        };
        m.blocked.push(Blocked {
            spec,
            written: written.clone(),
            reason: b.reason.get_ref().clone(),
            at: loaded.line_at(&b.version.span()),
        });
    }

    // A BTreeMap: std's HashMap seeds itself from getrandom(2), a syscall on every call.
    let mut first_at: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &p.tiers {
        let t = t.get_ref();
        let name = t.name.get_ref();
        let (name_line, _) = loaded.line_col(t.name.span().start);
        if name.trim().is_empty() {
            problem(t.name.span(), "[[tier]] name is empty".into());
            continue;
        }
        if let Some(prev) = first_at.get(name.as_str()) {
            problem(
                t.name.span(),
                format!(
                    "duplicate tier name {name:?} (first defined on line {prev}); tier names \
                     must be unique"
                ),
            );
            continue;
        }
        first_at.insert(name, name_line);
        if t.owner.get_ref().trim().is_empty() {
            problem(
                t.owner.span(),
                format!("tier {name:?}: owner is empty; name who to ask about this tier"),
            );
        }
        let mut bound = |key: &str, v: &Option<Spanned<String>>| -> Option<Bound> {
            let v = v.as_ref()?;
            let bare = v.get_ref().strip_prefix("go").unwrap_or(v.get_ref());
            match GoVersion::parse(bare) {
                Some(version) => Some(Bound {
                    version,
                    bare: bare.to_string(),
                    at: loaded.line_at(&v.span()),
                }),
                None => {
                    problem(
                        v.span(),
                        format!(
                            "tier {name:?}: {key} = {:?} is not a Go version; write e.g. \
                             \"1.22.8\" or \"1.22\"",
                            v.get_ref()
                        ),
                    );
                    None
                }
            }
        };
        let min = bound("min", &t.min);
        let recommended = bound("recommended", &t.recommended);
        if let (Some(lo), Some(rec), Some(rec_span)) = (&min, &recommended, &t.recommended)
            && lo.version.cmp_go(&rec.version).is_gt()
        {
            problem(
                rec_span.span(),
                format!(
                    "tier {name:?}: min {lo} is newer than recommended {rec}; recommended must \
                     be at least min"
                ),
            );
        }
        if let (Some(rec), Some(rec_span)) = (&recommended, &t.recommended)
            && let Some(b) = m.blocked.iter().find(|b| b.spec.matches(&rec.version))
        {
            problem(
                rec_span.span(),
                format!(
                    "tier {name:?}: recommended {rec} is blocked ({}); recommend a release \
                     that may run",
                    b.at
                ),
            );
        }
        let upgrade_by = t.upgrade_by.as_ref().and_then(|d| {
            let text = &d.get_ref().0;
            match Date::parse(text) {
                Some(date) => {
                    if t.recommended.is_none() {
                        problem(
                            d.span(),
                            format!(
                                "tier {name:?}: upgrade_by without recommended; the deadline \
                                 is for upgrading to the recommended version"
                            ),
                        );
                    }
                    Some(Deadline {
                        date,
                        at: loaded.line_at(&d.span()),
                    })
                }
                None => {
                    problem(
                        d.span(),
                        format!(
                            "tier {name:?}: upgrade_by = {text:?} is not a date; write \
                             YYYY-MM-DD, e.g. 2025-06-30"
                        ),
                    );
                    None
                }
            }
        });
        let mut modules = Vec::new();
        for pat in &t.modules {
            let text = pat.get_ref();
            if text.is_empty() || text.contains(char::is_whitespace) {
                problem(
                    pat.span(),
                    format!(
                        "tier {name:?}: module pattern {text:?} is empty or holds whitespace; \
                         write a module path such as \"corp.example/pay/...\""
                    ),
                );
                continue;
            }
            let (line, col) = loaded.line_col(pat.span().start);
            modules.push(Pattern {
                text: text.clone(),
                at: loaded.line_at(&pat.span()),
                line,
                col,
            });
        }
        m.tiers.push(Tier {
            name: name.clone(),
            owner: t.owner.get_ref().clone(),
            at: loaded.line_at(&t.name.span()),
            modules,
            min,
            recommended,
            upgrade_by,
        });
    }

    if let Some(d) = &p.matrix.default_tier {
        match m.tiers.iter().position(|t| &t.name == d.get_ref()) {
            Some(i) => m.default_tier = Some((i, loaded.line_at(&d.span()))),
            None => problem(
                d.span(),
                format!(
                    "[matrix] default_tier = {:?} is not a tier of this policy; tiers: {}",
                    d.get_ref(),
                    tier_names(&m)
                ),
            ),
        }
    }
    problems.sort_by_key(|p| (p.line, p.col));
    (m, problems)
}

/// Every problem of the matrix: [`compile`]'s, and module patterns that two tiers both claim.
pub fn lint(loaded: &LoadedPolicy) -> Vec<Problem> {
    let (m, mut problems) = compile(loaded);
    for (i, a) in m.tiers.iter().enumerate() {
        for b in &m.tiers[i + 1..] {
            for pb in &b.modules {
                for pa in &a.modules {
                    if let Some(message) = claim_conflict(a, pa, b, pb) {
                        problems.push(Problem {
                            file: m.policy_file.clone(),
                            line: pb.line,
                            col: pb.col,
                            message,
                        });
                    }
                }
            }
        }
    }
    problems.sort_by_key(|p| (p.line, p.col));
    problems
}

/// Whether pattern `pb` of tier `b` claims modules that pattern `pa` of the earlier tier `a`
/// claims too; the message says how.
fn claim_conflict(a: &Tier, pa: &Pattern, b: &Tier, pb: &Pattern) -> Option<String> {
    let fix = "a module must belong to exactly one tier";
    if pa.text == pb.text {
        return Some(format!(
            "module pattern {:?} of tier {:?} is also claimed by tier {:?} ({}); {fix}: remove \
             one of them",
            pb.text, b.name, a.name, pa.at
        ));
    }
    if pattern_covers(&pa.text, &pb.text) {
        return Some(format!(
            "module pattern {:?} of tier {:?} lies within {:?} of tier {:?} ({}); {fix}: narrow \
             {:?} or remove {:?}",
            pb.text, b.name, pa.text, a.name, pa.at, pa.text, pb.text
        ));
    }
    if pattern_covers(&pb.text, &pa.text) {
        return Some(format!(
            "module pattern {:?} of tier {:?} contains {:?} of tier {:?} ({}); {fix}: narrow \
             {:?} or remove {:?}",
            pb.text, b.name, pa.text, a.name, pa.at, pb.text, pa.text
        ));
    }
    patterns_intersect(&pa.text, &pb.text).map(|example| {
        format!(
            "module pattern {:?} of tier {:?} and {:?} of tier {:?} ({}) both match modules \
             such as {example:?}; {fix}",
            pb.text, b.name, pa.text, a.name, pa.at
        )
    })
}

fn tier_names(m: &Matrix) -> String {
    if m.tiers.is_empty() {
        return "none".into();
    }
    m.tiers
        .iter()
        .map(|t| format!("{:?}", t.name))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Matrix {
    /// No tiers: no tier checks (the blocked list still applies).
    pub fn has_tiers(&self) -> bool {
        !self.tiers.is_empty()
    }

    pub fn tier(&self, choice: &TierChoice) -> Option<&Tier> {
        self.tiers.get(choice.index)
    }

    /// Of the main modules of a build (one, or every `use` of a workspace), the one whose
    /// tier is the strictest: a workspace that puts a `risk` module beside an `internal` one
    /// builds under `risk`'s rules. Among tiers neither of which is stricter, the first wins,
    /// as in file order.
    pub fn strictest_module<'a>(&self, modules: &'a [Declared]) -> Option<&'a Declared> {
        let mut best: Option<(&Declared, usize)> = None;
        for m in modules {
            let Some(t) = self.policy_tier(Some(m)) else {
                continue;
            };
            match best {
                None => best = Some((m, t.index)),
                Some((_, b))
                    if b != t.index
                        && at_least_as_strict(&self.tiers[t.index], &self.tiers[b]).is_ok()
                        && at_least_as_strict(&self.tiers[b], &self.tiers[t.index]).is_err() =>
                {
                    best = Some((m, t.index));
                }
                _ => {}
            }
        }
        best.map(|(m, _)| m).or(modules.first())
    }

    /// The tier the policy alone gives a module: the first tier with a matching pattern,
    /// else the default tier.
    pub fn policy_tier(&self, module: Option<&Declared>) -> Option<TierChoice> {
        if let Some(decl) = module {
            for (index, t) in self.tiers.iter().enumerate() {
                if let Some(p) = t
                    .modules
                    .iter()
                    .find(|p| pattern_matches(&p.text, &decl.value))
                {
                    return Some(TierChoice {
                        index,
                        name: t.name.clone(),
                        owner: t.owner.clone(),
                        reason: TierReason::Pattern {
                            module: decl.value.clone(),
                            module_at: decl.location().to_string(),
                            pattern: p.text.clone(),
                            at: p.at.clone(),
                        },
                    });
                }
            }
        }
        let (index, at) = self.default_tier.as_ref()?;
        let t = &self.tiers[*index];
        Some(TierChoice {
            index: *index,
            name: t.name.clone(),
            owner: t.owner.clone(),
            reason: TierReason::Default {
                module: module.map(|d| d.value.clone()),
                at: at.clone(),
            },
        })
    }

    /// The project's tier: the repository's `.gowarden.toml` choice if it has one and it is at
    /// least as strict as the tier the policy gives the module, else that tier. A file that
    /// cannot be read, names no tier of the policy, or would loosen the rules is an error
    /// finding (rule `matrix.tier-file`): the shim refuses rather than guess. `module` is the
    /// nearest go.mod's `module` line.
    pub fn choose_tier(
        &self,
        project: &Project,
        module: Option<&Declared>,
    ) -> Result<Option<TierChoice>, Finding> {
        if !self.has_tiers() {
            return Ok(None);
        }
        let by_policy = self.policy_tier(module);
        let Some(path) = find_repo_file(project) else {
            return Ok(by_policy);
        };
        let tier_file_error = |line: Option<usize>, message: String| Finding {
            rule: crate::outcome::RuleId::named(rule::TIER_FILE),
            severity: Severity::Error,
            message,
            location: Location::at(Some(path.clone()), line, None),
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| tier_file_error(None, format!("cannot read {}: {e}", path.display())))?;
        let parsed: RepoFile = toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
            tier_file_error(
                Some(line),
                format!(
                    "{}:{line}:{col}: {}; the file holds one key, e.g. `tier = \"payments\"`",
                    path.display(),
                    e.message().trim_end()
                ),
            )
        })?;
        let line = line_col(&text, parsed.tier.span().start).0;
        let wanted = parsed.tier.get_ref();
        let Some(index) = self.tiers.iter().position(|t| &t.name == wanted) else {
            return Err(tier_file_error(
                Some(line),
                format!(
                    "{}:{line}: tier {wanted:?} is not a tier of the policy {}; tiers: {}",
                    path.display(),
                    self.policy_file,
                    tier_names(self)
                ),
            ));
        };
        let chosen = &self.tiers[index];
        if let Some(base) = &by_policy
            && base.index != index
            && let Err(why) = at_least_as_strict(chosen, &self.tiers[base.index])
        {
            return Err(tier_file_error(
                Some(line),
                format!(
                    "{}:{line} chooses tier {wanted:?}, but the policy puts this project in tier \
                     {:?} ({}) and {wanted:?} is looser: {why}; a repository may choose a \
                     stricter tier, never a looser one: remove the line or choose {:?}; tier \
                     owner: {}",
                    path.display(),
                    base.name,
                    base.reason,
                    base.name,
                    base.owner
                ),
            ));
        }
        Ok(Some(TierChoice {
            index,
            name: chosen.name.clone(),
            owner: chosen.owner.clone(),
            reason: TierReason::RepoFile { path, line },
        }))
    }

    /// Whether a toolchain of `version` may be chosen at all: not blocked and not below the
    /// tier's minimum. Selection skips toolchains this rejects, so a `go` line or the policy
    /// default lands on the newest release the matrix allows.
    pub fn allows(&self, version: &GoVersion, tier: Option<&TierChoice>) -> bool {
        if self.blocked_entry(version).is_some() {
            return false;
        }
        let tier = tier.and_then(|c| self.tier(c));
        !tier
            .and_then(|t| t.min.as_ref())
            .is_some_and(|min| version.cmp_go(&min.version).is_lt())
    }

    fn blocked_entry(&self, version: &GoVersion) -> Option<&Blocked> {
        self.blocked.iter().find(|b| b.spec.matches(version))
    }

    /// Every matrix rule `version` (shown as `shown`, e.g. `go1.22.3`) breaks, in the order
    /// min, blocked, deadline; a version below `recommended` before the deadline gives a
    /// warning. `today` is the UTC date from the system clock.
    pub fn judge(
        &self,
        version: &GoVersion,
        shown: &str,
        request: &Request,
        choice: Option<&TierChoice>,
        today: Date,
    ) -> Vec<Finding> {
        self.judge_full(version, shown, request, choice, today)
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    /// The shim's refusal for the first error [`Matrix::judge`] finds, as a block laid out like
    /// a role refusal (what, where, why, tier, rule, fix, owner), with its rule id and where
    /// the rule is in the policy.
    pub fn refusal(
        &self,
        version: &GoVersion,
        shown: &str,
        request: &Request,
        choice: Option<&TierChoice>,
        today: Date,
    ) -> Option<crate::outcome::Refusal> {
        self.judge_full(version, shown, request, choice, today)
            .into_iter()
            .find(|(f, _)| f.severity == Severity::Error)
            .map(|(f, b)| match b {
                Some(b) => crate::outcome::Refusal::new(f.rule, b.render()).at(Some(b.rule_at)),
                None => crate::outcome::Refusal::new(f.rule, f.message),
            })
    }

    /// [`Matrix::judge`], each error with its refusal block.
    fn judge_full(
        &self,
        version: &GoVersion,
        shown: &str,
        request: &Request,
        choice: Option<&TierChoice>,
        today: Date,
    ) -> Vec<(Finding, Option<Block>)> {
        let mut out = Vec::new();
        let tier = choice.and_then(|c| self.tier(c).map(|t| (c, t)));
        let location = request.source.project_location();
        let finding = |rule, severity, message| Finding {
            rule: RuleId::named(rule),
            severity,
            message,
            location: location.clone(),
        };
        let chosen_by = chosen_by(&request.source);
        let why_tier = |c: &TierChoice| format!("tier {:?} applies because {}", c.name, c.reason);
        // What to move to: the recommended release where there is one that may run.
        let target = |t: Option<&Tier>| -> String {
            match t {
                Some(t) => match (&t.recommended, &t.min) {
                    (Some(r), _) if self.blocked_entry(&r.version).is_none() => r.bare.clone(),
                    (_, Some(m)) => format!("{} or newer, not blocked", m.bare),
                    _ => "a release that is not blocked".into(),
                },
                None => "a release that is not blocked (e.g. the next patch release)".into(),
            }
        };
        let block =
            |what: String, why: Option<String>, rule: String, at: &Location, fix: String| Block {
                what: format!("refused {shown}: {what}"),
                chosen: format!("{shown} was chosen by {chosen_by}"),
                why,
                tier: tier.map(|(c, _)| format!("{:?}, because {}", c.name, c.reason)),
                rule,
                rule_at: at.clone(),
                fix,
                owner: tier.map(|(c, _)| c.owner.clone()),
            };
        if let Some((c, t)) = tier
            && let Some(min) = &t.min
            && version.cmp_go(&min.version).is_lt()
        {
            let to = fix(request, &target(Some(t)));
            out.push((
                finding(
                    rule::MIN,
                    Severity::Error,
                    format!(
                        "{shown} is below the minimum {min} of tier {:?} ({}); {shown} was chosen \
                         by {chosen_by}; {}; to fix, {to}; tier owner: {}",
                        c.name,
                        min.at,
                        why_tier(c),
                        c.owner
                    ),
                ),
                Some(block(
                    format!("it is below the minimum {min} of tier {:?}", c.name),
                    None,
                    format!("{} ({})", rule::MIN, min.at),
                    &min.at,
                    to,
                )),
            ));
        }
        if let Some(b) = self.blocked_entry(version) {
            let tier_part = match tier {
                Some((c, _)) => format!("; {}; tier owner: {}", why_tier(c), c.owner),
                None => String::new(),
            };
            let to = fix(request, &target(tier.map(|(_, t)| t)));
            out.push((
                finding(
                    rule::BLOCKED,
                    Severity::Error,
                    format!(
                        "{shown} is blocked by the policy ([[blocked]] {:?} at {}): {}; {shown} \
                         was chosen by {chosen_by}; to fix, {to}{tier_part}",
                        b.written, b.at, b.reason
                    ),
                ),
                Some(block(
                    "it is blocked by the policy".into(),
                    Some(b.reason.clone()),
                    format!(
                        "{} ([[blocked]] {:?} at {})",
                        rule::BLOCKED,
                        b.written,
                        b.at
                    ),
                    &b.at,
                    to,
                )),
            ));
        }
        let below_min = out.iter().any(|(f, _)| f.rule == rule::MIN);
        if let Some((c, t)) = tier
            && let Some(rec) = &t.recommended
            && version.cmp_go(&rec.version).is_lt()
        {
            let to = fix(request, &target(Some(t)));
            match &t.upgrade_by {
                Some(d) if today > d.date => out.push((
                    finding(
                        rule::DEADLINE,
                        Severity::Error,
                        format!(
                            "{shown} is below {rec}, the recommended version of tier {:?} ({}), \
                             and the deadline to upgrade was {} ({}); {shown} was chosen by \
                             {chosen_by}; {}; to fix, {to}; tier owner: {}",
                            c.name,
                            rec.at,
                            d.date,
                            d.at,
                            why_tier(c),
                            c.owner
                        ),
                    ),
                    Some(block(
                        format!(
                            "it is below {rec}, the recommended version of tier {:?} ({}), and \
                             the deadline to upgrade was {}",
                            c.name, rec.at, d.date
                        ),
                        None,
                        format!("{} ({})", rule::DEADLINE, d.at),
                        &d.at,
                        to,
                    )),
                )),
                // Below min it is refused already, with the same fix: no need to warn too.
                Some(_) | None if below_min => {}
                Some(d) => {
                    let left = d.date.days() - today.days();
                    out.push((
                        finding(
                            rule::RECOMMENDED,
                            Severity::Warning,
                            format!(
                                "{shown} is below {rec}, recommended for tier {:?} ({}); upgrade \
                                 by {} ({left} day{} left, {}), after which go refuses to run \
                                 it; {shown} was chosen by {chosen_by}; to fix, {to}; tier \
                                 owner: {}",
                                c.name,
                                rec.at,
                                d.date,
                                if left == 1 { "" } else { "s" },
                                d.at,
                                c.owner
                            ),
                        ),
                        None,
                    ))
                }
                None => out.push((
                    finding(
                        rule::RECOMMENDED,
                        Severity::Warning,
                        format!(
                            "{shown} is below {rec}, recommended for tier {:?} ({}); {shown} was \
                             chosen by {chosen_by}; to upgrade, {to}; tier owner: {}",
                            c.name, rec.at, c.owner
                        ),
                    ),
                    None,
                )),
            }
        }
        out
    }
}

/// A matrix refusal as the shim prints it, in the layout of a role refusal.
struct Block {
    what: String,
    chosen: String,
    why: Option<String>,
    tier: Option<String>,
    rule: String,
    /// Where the rule is in the policy.
    rule_at: Location,
    fix: String,
    owner: Option<String>,
}

impl Block {
    fn render(&self) -> String {
        let mut s = format!("{}\n  where: {}", self.what, self.chosen);
        if let Some(w) = &self.why {
            s.push_str(&format!("\n  why:   {w}"));
        }
        if let Some(t) = &self.tier {
            s.push_str(&format!("\n  tier:  {t}"));
        }
        s.push_str(&format!("\n  rule:  {}\n  fix:   {}", self.rule, self.fix));
        if let Some(o) = &self.owner {
            s.push_str(&format!("\n  owner: {o}"));
        }
        s
    }
}

/// Whether tier `y` holds every version at least as strictly as tier `z`: a higher or equal
/// min, and a higher or equal recommended with a deadline no later (or a min that already
/// reaches `z`'s recommended). `Err` says where `y` is looser.
fn at_least_as_strict(y: &Tier, z: &Tier) -> Result<(), String> {
    let ge = |a: &Bound, b: &Bound| a.version.cmp_go(&b.version).is_ge();
    if let Some(zm) = &z.min {
        match &y.min {
            Some(ym) if ge(ym, zm) => {}
            Some(ym) => return Err(format!("its min {ym} is older than {zm}")),
            None => return Err(format!("it has no min, and {:?} requires {zm}", z.name)),
        }
    }
    let Some(zr) = &z.recommended else {
        return Ok(());
    };
    if y.min.as_ref().is_some_and(|ym| ge(ym, zr)) {
        return Ok(());
    }
    match &y.recommended {
        Some(yr) if ge(yr, zr) => {}
        Some(yr) => return Err(format!("its recommended {yr} is older than {zr}")),
        None => {
            return Err(format!(
                "it recommends nothing, and {:?} recommends {zr}",
                z.name
            ));
        }
    }
    match (&z.upgrade_by, &y.upgrade_by) {
        (None, _) => Ok(()),
        (Some(zd), Some(yd)) if yd.date <= zd.date => Ok(()),
        (Some(zd), Some(yd)) => Err(format!(
            "its deadline {} is later than {}",
            yd.date, zd.date
        )),
        (Some(zd), None) => Err(format!(
            "it has no upgrade_by, and {:?} must upgrade by {}",
            z.name, zd.date
        )),
    }
}

/// The nearest `.gowarden.toml` from the start directory up to the repository root: the
/// first directory holding `.git`, or the project's root (where its version files are),
/// whichever comes first. Never above it, so an unrelated file further up cannot choose.
pub fn find_repo_file(project: &Project) -> Option<PathBuf> {
    let root = project.root();
    for d in project.dir.ancestors() {
        let p = d.join(REPO_FILE);
        if p.is_file() {
            return Some(p);
        }
        if d == root || d.join(".git").exists() {
            break;
        }
    }
    None
}

fn chosen_by(source: &Source) -> String {
    match source {
        Source::NewestInstalled => "no version file (the newest installed release)".into(),
        other => other.to_string(),
    }
}

/// What to change, given where the version came from; `target` is a bare version (`1.22.8`)
/// or a description of one.
fn fix(request: &Request, target: &str) -> String {
    let bare_version = GoVersion::parse(target).is_some();
    let install = if bare_version {
        format!("install go{target} (`gowarden toolchain install {target}`)")
    } else {
        format!("install {target}")
    };
    match &request.source {
        Source::PinFile { format, path, line } => (format.spec().fix)(
            &crate::project::Declared {
                value: request.written.clone(),
                path: path.clone(),
                line: *line,
            },
            target,
        ),
        Source::ToolchainLine { path, line } => {
            let t = if bare_version {
                format!("go{target}")
            } else {
                target.to_string()
            };
            format!(
                "set the toolchain line at {}:{line} to {t} or remove it",
                path.display()
            )
        }
        Source::GoLine { .. } => format!(
            "{install}: the go line is a minimum, and the newest installed toolchain the policy \
             allows is used"
        ),
        Source::PolicyDefault { .. } | Source::NewestInstalled => {
            format!("{install}, or name {target} in a .go-version file at the project root")
        }
        Source::EnvOverride => format!("set ${VERSION_ENV} to {target} or unset it"),
        Source::SwitchHandshake => {
            format!("have go switch to {target} instead (GOTOOLCHAIN or the toolchain line)")
        }
        Source::Install => format!("install {target} instead"),
    }
}

/// The project's go.mod/go.work lines against the version in use: a `go` line newer than it
/// (go would refuse to build), and a `toolchain` line that disagrees with the `.go-version` or
/// `.tool-versions` that chose it. Findings get `severity`: warnings in the shim, errors in
/// `gowarden check`.
pub fn consistency(
    project: &Project,
    request: &Request,
    version: &GoVersion,
    shown: &str,
    severity: Severity,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let chosen_by = chosen_by(&request.source);
    for m in [&project.go_work, &project.go_mod].into_iter().flatten() {
        let Some(g) = &m.go else { continue };
        let Some(go_line) = GoVersion::parse(&g.value) else {
            continue;
        };
        if go_line.cmp_go(version).is_gt() {
            out.push(Finding {
                rule: crate::outcome::RuleId::named(rule::GO_LINE),
                severity,
                message: format!(
                    "{}: `go {}` requires go{} or newer, but this project runs {shown} (chosen \
                     by {chosen_by}), which will refuse to build it; lower the go line or \
                     choose go{} or newer",
                    g.location(),
                    g.value,
                    g.value,
                    g.value
                ),
                location: Location::at(Some(g.path.clone()), Some(g.line), None),
            });
        }
    }
    let from_version_file = matches!(request.source, Source::PinFile { .. });
    if from_version_file
        && let Some(t) = project.active_mod_file().and_then(|m| m.toolchain.as_ref())
        && t.value != "default"
        && let Some(tv) = GoVersion::parse_go(&t.value)
    {
        let agrees = if tv.is_lang() {
            version.in_family(&tv)
        } else {
            tv.cmp_go(version).is_eq()
        };
        if !agrees {
            out.push(Finding {
                rule: crate::outcome::RuleId::named(rule::TOOLCHAIN_LINE),
                severity,
                message: format!(
                    "{}: `toolchain {}` disagrees with {chosen_by}, which chooses {shown}; go \
                     runs {shown} here and ignores the toolchain line, while tools that read \
                     go.mod expect {}; make them agree (set the toolchain line to {shown} or \
                     remove it)",
                    t.location(),
                    t.value,
                    t.value
                ),
                location: Location::at(Some(t.path.clone()), Some(t.line), None),
            });
        }
    }
    out
}

/// Where `path` is, relative to `base` when it is below it (for messages and annotations).
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

// ---- Module patterns: Go's `...` wildcard, as in package patterns. ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    Any,
}

fn tokens(p: &str) -> Vec<Tok> {
    let b = p.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"...") {
            out.push(Tok::Any);
            i += 3;
        } else {
            out.push(Tok::Lit(b[i]));
            i += 1;
        }
    }
    out
}

/// A pattern as a union of plain wildcard patterns: as in Go's `pkgpattern.MatchPattern`, a
/// trailing `/...` also matches the path without it (`a/...` matches `a`).
fn alternatives(p: &str) -> Vec<Vec<Tok>> {
    match p.strip_suffix("/...") {
        Some(prefix) => vec![tokens(prefix), tokens(p)],
        None => vec![tokens(p)],
    }
}

/// Whether module path `module` matches `pattern` (`...` matches any string, including `/`).
pub fn pattern_matches(pattern: &str, module: &str) -> bool {
    alternatives(pattern)
        .iter()
        .any(|alt| wildcard_match(alt, module.as_bytes(), |t, c| t == Tok::Lit(*c)))
}

/// Wildcard matching of `pat` over `text`, `Any` standing for any run of text items, `eq`
/// deciding whether a pattern literal matches one item. Linear backtracking on the last
/// `Any`, which is exact when `Any` is the only wildcard.
fn wildcard_match<T>(pat: &[Tok], text: &[T], eq: impl Fn(Tok, &T) -> bool) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < text.len() {
        if p < pat.len() && pat[p] != Tok::Any && eq(pat[p], &text[i]) {
            p += 1;
            i += 1;
        } else if p < pat.len() && pat[p] == Tok::Any {
            star = Some((p, i));
            p += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|t| *t == Tok::Any)
}

/// Whether every module `inner` matches is matched by `outer`: each alternative of `inner`,
/// read as a string in which its `...` stands for itself, is matched by an alternative of
/// `outer` whose literals never have to match inside a `...` of `inner`.
fn pattern_covers(outer: &str, inner: &str) -> bool {
    let outer = alternatives(outer);
    alternatives(inner).iter().all(|i| {
        outer
            .iter()
            .any(|o| wildcard_match(o, i, |t, item| t == *item))
    })
}

/// A module path both patterns match, if there is one: a search over pairs of positions in
/// the two patterns (the product of their automata), quadratic in their lengths.
fn patterns_intersect(a: &str, b: &str) -> Option<String> {
    for x in alternatives(a) {
        for y in alternatives(b) {
            if let Some(w) = intersect(&x, &y) {
                return Some(w);
            }
        }
    }
    None
}

fn intersect(a: &[Tok], b: &[Tok]) -> Option<String> {
    // Cheap rejection first: literal prefixes that differ can never meet.
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (Tok::Lit(p), Tok::Lit(q)) if p != q => return None,
            (Tok::Lit(_), Tok::Lit(_)) => {}
            _ => break,
        }
    }
    let (n, m) = (a.len(), b.len());
    let idx = |i: usize, j: usize| i * (m + 1) + j;
    // For each reached state: the state it was reached from and the byte emitted, if any.
    let mut from: Vec<Option<(usize, Option<u8>)>> = vec![None; (n + 1) * (m + 1)];
    let start = idx(0, 0);
    from[start] = Some((start, None));
    let mut queue = VecDeque::from([(0usize, 0usize)]);
    while let Some((i, j)) = queue.pop_front() {
        if i == n && j == m {
            let mut out = Vec::new();
            let mut s = idx(i, j);
            while s != start {
                let (prev, byte) = from[s]?;
                out.extend(byte);
                s = prev;
            }
            out.reverse();
            return Some(String::from_utf8_lossy(&out).into_owned());
        }
        let mut next = Vec::with_capacity(4);
        let (ta, tb) = (a.get(i).copied(), b.get(j).copied());
        if ta == Some(Tok::Any) {
            next.push((i + 1, j, None));
            if let Some(t) = tb {
                next.push((i, j + 1, lit(t)));
            }
        }
        if tb == Some(Tok::Any) {
            next.push((i, j + 1, None));
            if let Some(t) = ta {
                next.push((i + 1, j, lit(t)));
            }
        }
        if let (Some(Tok::Lit(p)), Some(Tok::Lit(q))) = (ta, tb)
            && p == q
        {
            next.push((i + 1, j + 1, Some(p)));
        }
        for (ni, nj, byte) in next {
            if from[idx(ni, nj)].is_none() {
                from[idx(ni, nj)] = Some((idx(i, j), byte));
                queue.push_back((ni, nj));
            }
        }
    }
    None
}

fn lit(t: Tok) -> Option<u8> {
    match t {
        Tok::Lit(c) => Some(c),
        Tok::Any => None,
    }
}

/// Here rather than in [`crate::outcome`], which sits below the policy and knows no tiers.
impl crate::outcome::Refusal {
    pub fn with_tier(mut self, tier: Option<&TierChoice>) -> crate::outcome::Refusal {
        self.tier = tier.map(|t| t.name.as_str().into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_go_package_patterns() {
        let yes = [
            ("corp.example/pay/...", "corp.example/pay"),
            ("corp.example/pay/...", "corp.example/pay/api"),
            ("corp.example/pay/...", "corp.example/pay/api/v2"),
            ("corp.example/.../api", "corp.example/pay/api"),
            ("corp.example/...", "corp.example/x"),
            ("...", "anything/at/all"),
            ("corp.example/pay", "corp.example/pay"),
        ];
        for (p, m) in yes {
            assert!(pattern_matches(p, m), "{p} should match {m}");
        }
        let no = [
            ("corp.example/pay/...", "corp.example/payments"),
            ("corp.example/pay/...", "corp.example/pa"),
            ("corp.example/pay", "corp.example/pay/api"),
            ("corp.example/.../api", "corp.example/pay/apiv2"),
            ("corp.example/...", "corp.exampleX"),
        ];
        for (p, m) in no {
            assert!(!pattern_matches(p, m), "{p} should not match {m}");
        }
    }

    #[test]
    fn trailing_slash_dots_matches_the_bare_prefix() {
        assert!(pattern_matches("corp.example/...", "corp.example"));
    }

    fn tier(name: &str, min: Option<&str>, rec: Option<&str>, by: Option<&str>) -> Tier {
        let bound = |v: Option<&str>| {
            v.map(|v| Bound {
                version: GoVersion::parse(v).unwrap(),
                bare: v.to_string(),
                at: Location::line("p", 1),
            })
        };
        Tier {
            name: name.into(),
            owner: "o".into(),
            at: Location::line("p", 1),
            modules: Vec::new(),
            min: bound(min),
            recommended: bound(rec),
            upgrade_by: by.map(|d| Deadline {
                date: Date::parse(d).unwrap(),
                at: Location::line("p", 2),
            }),
        }
    }

    #[test]
    fn a_chosen_tier_must_be_at_least_as_strict_on_every_rule() {
        let base = tier("base", Some("1.22.5"), Some("1.22.8"), Some("2026-03-01"));
        let ok = [
            tier("same", Some("1.22.5"), Some("1.22.8"), Some("2026-03-01")),
            tier("newer", Some("1.23.0"), Some("1.23.4"), Some("2026-02-01")),
            // A min at base's recommended needs no deadline of its own.
            tier("floor", Some("1.22.8"), None, None),
        ];
        for t in &ok {
            assert_eq!(at_least_as_strict(t, &base), Ok(()), "{}", t.name);
        }
        let looser = [
            (
                tier("nomin", None, Some("1.22.8"), Some("2026-03-01")),
                "no min",
            ),
            (
                tier("lowmin", Some("1.22.0"), Some("1.22.8"), None),
                "min go1.22.0",
            ),
            (
                tier("norec", Some("1.22.5"), None, None),
                "recommends nothing",
            ),
            (
                tier("lowrec", Some("1.22.5"), Some("1.22.7"), None),
                "go1.22.7",
            ),
            (
                tier("late", Some("1.22.5"), Some("1.22.9"), Some("2026-04-01")),
                "2026-04-01",
            ),
            (
                tier("nodate", Some("1.22.5"), Some("1.22.9"), None),
                "no upgrade_by",
            ),
        ];
        for (t, why) in &looser {
            let err = at_least_as_strict(t, &base).unwrap_err();
            assert!(err.contains(why), "{}: {err}", t.name);
        }
    }

    #[test]
    fn containment_and_overlap() {
        assert!(pattern_covers("corp.example/...", "corp.example/pay/..."));
        assert!(pattern_covers("corp.example/pay/...", "corp.example/pay"));
        assert!(pattern_covers("...", "corp.example/pay/..."));
        assert!(!pattern_covers("corp.example/pay/...", "corp.example/..."));
        assert!(!pattern_covers("corp.example/.../api", "corp.example/..."));
        assert_eq!(
            patterns_intersect("corp.example/.../api", "corp.example/pay/..."),
            Some("corp.example/pay/api".to_string())
        );
        assert_eq!(
            patterns_intersect("corp.example/pay/...", "corp.example/risk/..."),
            None
        );
        assert_eq!(patterns_intersect("a/b", "a/c"), None);
        let w = patterns_intersect("x/...y", "x/z...").unwrap();
        assert!(
            pattern_matches("x/...y", &w) && pattern_matches("x/z...", &w),
            "{w}"
        );
    }
}
