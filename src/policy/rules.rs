//! What a role's rules make of one go command line: allowed, or refused by a named rule.
//!
//! The command line is read by [`crate::gocli`] exactly as go will read it, with the GOFLAGS
//! go will see (process environment, else the user's go env file, else `$GOROOT/go.env` of
//! the chosen toolchain: [`crate::goenv`]), so a rule cannot be walked around by spelling
//! (`--replace`, `-replace=a=b`, `-replace a=b`), by position (after `-C dir`, after the
//! package list of `go test`) or by moving the flag into GOFLAGS. What go hands on unparsed to
//! a child (a test binary's arguments after `-args`, `go run`'s program arguments) is not go's
//! and no rule looks at it.
//!
//! Rules are tried in this order; the first that refuses decides:
//! 1. the command line is one go rejects (unknown = refuse only);
//! 2. `allow_commands`;
//! 3. each `deny` rule in file order, then `pinned_tools` (crate::policy::tools::installs);
//! 4. `install_dirs` for `go install`, then `check_build_output` for `go build/test -o`;
//! 5. a command or flags gowarden does not know (unknown = refuse only).
//!
//! Rule ids: a deny rule's own `id`; the others are named after the key that refused:
//! `role.NAME.allow_commands`, `role.NAME.install_dirs`, `role.NAME.check_build_output`,
//! `role.NAME.unknown`.

use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

use super::load::LoadedPolicy;
use super::roles::{self, ChosenBy, DenyRule, Role, RoleChoice, Unknown};
use crate::error::{Error, Result};
use crate::gocli::{self, EnvWrite, FlagOrigin, FlagUse, Invocation};
use crate::goenv::{GoEnv, Origin};
use crate::identity::Identity;
use crate::location::Location;
use crate::project::ModFile;

/// The environment lookup rules read (the process environment in the shim).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// What an evaluation needs besides the command line.
pub struct Context<'a> {
    pub policy: &'a LoadedPolicy,
    pub identity: &'a Identity,
    pub env: EnvLookup<'a>,
    /// The GOROOT of the toolchain that will run, for its `go.env`; `None` if none was found.
    pub goroot: Option<&'a Path>,
    /// The working directory (before go's `-C`).
    pub cwd: &'a Path,
    /// `gowarden explain --role NAME`: judge as this role instead of the caller's.
    pub role_override: Option<&'a str>,
    /// Read the command line even where no role needs it (for `gowarden explain`).
    pub always_parse: bool,
    /// The go.mod/go.work go will use, for the effects they carry; `None`: none known.
    pub files: Option<super::effects::Files<'a>>,
}

/// The outcome for one command line.
#[derive(Debug)]
pub struct Evaluation {
    /// `None` for a policy without roles.
    pub role: Option<RoleChoice>,
    /// The effective GOFLAGS, where it came from; read only when the command line was.
    pub goflags: Option<(OsString, Origin)>,
    /// The command line as go reads it; `None` when it was not read or go would reject it.
    pub invocation: Option<Invocation>,
    /// go would reject the command line with this message (and run nothing).
    pub parse_error: Option<Error>,
    /// `None`: go may run.
    pub denial: Option<Denial>,
    /// What the call will do ([`super::effects`]); computed whenever the command line is read.
    pub effects: Vec<super::effects::Effect>,
}

/// A refusal by a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The rule id (see the module docs).
    pub rule: String,
    /// Where the rule is in the policy (`file:line`).
    pub location: Location,
    /// What was refused, as written: ``-replace=a=b` in `go mod edit``.
    pub refused: String,
    /// The rule's message, or gowarden's account of the rule.
    pub reason: String,
}

impl Evaluation {
    /// The refusal as the shim prints it (after `gowarden: `), if go may not run.
    pub fn refusal_message(&self) -> Option<String> {
        let d = self.denial.as_ref()?;
        let role = match &self.role {
            Some(r) => format!("\n  role: {}, {}", r.name, r.chosen_by),
            None => String::new(),
        };
        Some(format!(
            "refused {}{role}\n  rule: {} ({})\n  why:  {}",
            d.refused, d.rule, d.location, d.reason
        ))
    }
}

/// Chooses the role and judges `args` (the arguments after `go`); `args = None` (gofmt, or
/// the role alone) only chooses the role. Errors are failures to find out (a name getent
/// cannot resolve, an unreadable go env file, an unknown `--role`), not refusals.
pub fn evaluate(ctx: &Context<'_>, args: Option<&[OsString]>) -> Result<Evaluation> {
    let role = match ctx.role_override {
        Some(name) => {
            if ctx.policy.role(name).is_none() {
                return Err(Error::new(format!(
                    "the policy {} has no role {name:?}; roles: {}",
                    ctx.policy.origin.file_name(),
                    if ctx.policy.has_roles() {
                        ctx.policy.role_names().join(", ")
                    } else {
                        "none".into()
                    }
                )));
            }
            Some(RoleChoice {
                name: name.to_string(),
                chosen_by: ChosenBy::Preview,
            })
        }
        None => roles::choose_role(ctx.policy, ctx.identity, ctx.env)?,
    };
    let mut eval = Evaluation {
        role,
        goflags: None,
        invocation: None,
        parse_error: None,
        denial: None,
        effects: Vec::new(),
    };
    let Some(args) = args else {
        return Ok(eval);
    };
    if eval.role.is_none() && !ctx.always_parse {
        return Ok(eval);
    }
    let goenv = GoEnv::load(ctx.env, ctx.goroot)?;
    eval.goflags = goenv.get("GOFLAGS");
    let goflags = eval
        .goflags
        .as_ref()
        .map(|(v, _)| v.to_string_lossy().into_owned());
    match gocli::parse(args, goflags.as_deref()) {
        Ok(inv) => eval.invocation = Some(inv),
        Err(e) => eval.parse_error = Some(e),
    }
    if let Some(inv) = &eval.invocation {
        let files = ctx.files.unwrap_or(super::effects::Files {
            dir: ctx.cwd,
            go_work: None,
            go_mod: None,
            gowork: None,
        });
        // cmd/go reads GOWORK with os.Getenv: the environment go gets, not the env file.
        let gowork = (ctx.env)("GOWORK");
        let files = super::effects::Files {
            gowork: gowork.as_deref(),
            ..files
        };
        eval.effects = super::effects::effects(
            inv,
            &goenv,
            goflags.as_deref(),
            files,
            &super::effects::Allowed::from_policy(&ctx.policy.policy.env),
        );
    }
    let Some(choice) = &eval.role else {
        return Ok(eval);
    };
    // `go` alone prints its usage and runs nothing.
    if args.is_empty() {
        return Ok(eval);
    }
    // validate() makes every bound role exist; should one not, refuse rather than allow.
    let Some((role, header)) = ctx.policy.role(&choice.name) else {
        return Err(Error::new(format!(
            "the policy {} gives the role {:?} but does not define it",
            ctx.policy.origin.file_name(),
            choice.name
        )));
    };
    let judge = Judge {
        ctx,
        name: &choice.name,
        role,
        header: ctx.policy.line_at(&header),
        goenv: &goenv,
        goflags_origin: eval.goflags.as_ref().map(|(_, o)| o),
        args,
        effects: &eval.effects,
    };
    eval.denial = match &eval.invocation {
        Some(inv) => judge.invocation(inv),
        None => judge.unreadable(eval.parse_error.as_ref()),
    };
    Ok(eval)
}

/// Whether the caller's role lets `go ARGS` run here, for a fix gowarden is about to print:
/// every fix printed must be one the same policy allows. A policy without roles allows every
/// command; a failure to find out (NSS, an unreadable go env file) counts as "no", so the
/// fix offered instead is one that needs no go command.
pub fn caller_may_run(
    policy: &LoadedPolicy,
    goroot: Option<&Path>,
    cwd: &Path,
    args: &[&str],
) -> bool {
    if !policy.has_roles() {
        return true;
    }
    let identity = Identity::current();
    let env = crate::goenv::process_env;
    let ctx = Context {
        policy,
        identity: &identity,
        env: &env,
        goroot,
        cwd,
        role_override: None,
        always_parse: false,
        // A fix is a command of its own: only its command line and environment count.
        files: None,
    };
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    matches!(evaluate(&ctx, Some(&args)), Ok(e) if e.denial.is_none())
}

struct Judge<'a> {
    ctx: &'a Context<'a>,
    name: &'a str,
    role: &'a Role,
    /// Where the `[role.NAME]` header is.
    header: Location,
    goenv: &'a GoEnv<EnvLookup<'a>>,
    goflags_origin: Option<&'a Origin>,
    args: &'a [OsString],
    effects: &'a [super::effects::Effect],
}

impl Judge<'_> {
    fn at(&self, span: &std::ops::Range<usize>) -> Location {
        self.ctx.policy.line_at(span)
    }

    fn rule(&self, key: &str) -> String {
        format!("role.{}.{key}", self.name)
    }

    /// go would reject the command line.
    fn unreadable(&self, err: Option<&Error>) -> Option<Denial> {
        if self.role.unknown_mode() == Unknown::Allow {
            return None;
        }
        let why = err.map(Error::message).unwrap_or("unreadable");
        Some(self.unknown_denial(
            format!("`{}`", command_line(self.args)),
            format!("go would reject this command line ({why})"),
        ))
    }

    fn unknown_denial(&self, refused: String, what: String) -> Denial {
        let location = match &self.role.unknown {
            Some(u) => self.at(&u.span()),
            None => self.header.clone(),
        };
        Denial {
            rule: self.rule("unknown"),
            location,
            refused,
            reason: format!(
                "{what}; role {:?} refuses what gowarden cannot read exactly (unknown = \
                 \"refuse\")",
                self.name
            ),
        }
    }

    fn invocation(&self, inv: &Invocation) -> Option<Denial> {
        let cmd = format!("`go {}`", inv.command.join(" "));
        // `go -x build` and the like have no command words: only `unknown` can speak.
        if let (Some(list), false) = (&self.role.allow_commands, inv.command.is_empty()) {
            let allowed = list
                .get_ref()
                .iter()
                .any(|c| command_matches(c.get_ref(), &inv.command));
            if !allowed {
                let names: Vec<&str> = list
                    .get_ref()
                    .iter()
                    .map(|c| c.get_ref().as_str())
                    .collect();
                return Some(Denial {
                    rule: self.rule("allow_commands"),
                    location: self.at(&list.span()),
                    refused: cmd,
                    reason: format!(
                        "role {:?} may run only: {}",
                        self.name,
                        if names.is_empty() {
                            "no command".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                });
            }
        }
        for rule in &self.role.deny {
            if let Some(d) = self.deny(rule, inv, &cmd) {
                return Some(d);
            }
        }
        if let Some(d) = self.pinned_tools(inv, &cmd) {
            return Some(d);
        }
        if let Some(d) = self.install(inv) {
            return Some(d);
        }
        if let Some(d) = self.build_output(inv, &cmd) {
            return Some(d);
        }
        if self.role.unknown_mode() == Unknown::Refuse {
            if !inv.known_command && !inv.command.is_empty() {
                return Some(
                    self.unknown_denial(cmd.clone(), format!("go 1.26.8 has no command {cmd}")),
                );
            }
            if let Some(f) = inv.unknown_flags.first() {
                let scope = if inv.command.is_empty() {
                    "go itself".to_string()
                } else {
                    cmd.clone()
                };
                let custom = match &inv.vettool {
                    Some(tool) => format!(
                        " (it may belong to the custom analysis tool {}, whose flags gowarden \
                         cannot know)",
                        tool.to_string_lossy()
                    ),
                    None => String::new(),
                };
                return Some(self.unknown_denial(
                    format!("`{}` in {scope}", f.written),
                    format!(
                        "-{} is not a flag of {scope} as of go 1.26.8{custom}",
                        f.name
                    ),
                ));
            }
        }
        None
    }

    fn deny(&self, rule: &DenyRule, inv: &Invocation, cmd: &str) -> Option<Denial> {
        if let Some(c) = &rule.command
            && !command_matches(c.get_ref(), &inv.command)
        {
            return None;
        }
        let (refused, default_reason) = if !rule.effects.is_empty() {
            let e = self
                .effects
                .iter()
                .find(|e| self.effect_denied(rule, e, inv))?;
            let refused = match e.kind {
                // Names its command already: ``go env -w` of GOSUMDB`.
                super::effects::Kind::GoEnvWrite => e.input.clone(),
                _ => format!("{} in {cmd}", e.input),
            };
            (
                refused,
                format!(
                    "{cmd} would have the effect {:?}, which is denied for role {:?}",
                    e.kind.name(),
                    self.name
                ),
            )
        } else if !rule.flags.is_empty() {
            let value_matches = |f: &FlagUse| match &rule.values {
                None => true,
                Some(values) => {
                    let v = f.value.as_deref().unwrap_or(OsStr::new("true"));
                    // go reads `-a=T`, `-a=1` and `-a` alike: so must a rule on `true`.
                    values.get_ref().iter().any(|want| {
                        OsStr::new(want) == v
                            || matches!(
                                (crate::gocli::parse_bool(want), f.bool_value()),
                                (Some(a), Some(b)) if a == b
                            )
                    })
                }
            };
            let f = inv
                .flags
                .iter()
                .find(|f| rule.flags.iter().any(|n| n.get_ref() == &f.name) && value_matches(f))?;
            (
                format!("{} in {cmd}", self.flag_as_written(f)),
                format!("-{} is denied for role {:?}", f.name, self.name),
            )
        } else if !rule.env_keys.is_empty() {
            let keys: Vec<&str> = match &inv.env_write {
                Some(EnvWrite::Set(pairs)) => pairs.iter().map(|(k, _)| k.as_str()).collect(),
                Some(EnvWrite::Unset(keys)) => keys.iter().map(String::as_str).collect(),
                None => return None,
            };
            let key = keys.into_iter().find(|k| {
                rule.env_keys
                    .iter()
                    .any(|p| roles::key_matches(p.get_ref(), k))
            })?;
            let op = match &inv.env_write {
                Some(EnvWrite::Unset(_)) => "-u",
                _ => "-w",
            };
            (
                format!("`go env {op}` of {key}"),
                format!(
                    "{key} may not be changed with go env by role {:?}",
                    self.name
                ),
            )
        } else {
            (
                cmd.to_string(),
                format!("{cmd} is denied for role {:?}", self.name),
            )
        };
        Some(Denial {
            rule: rule.id.get_ref().clone(),
            location: self.at(&rule.id.span()),
            refused,
            reason: rule.message.clone().unwrap_or(default_reason),
        })
    }

    /// Whether `rule` (with `effects`) refuses effect `e`: `install-outside` only outside the
    /// role's `install_dirs`, `go-env-write` only for its `env_keys` when it lists any.
    fn effect_denied(&self, rule: &DenyRule, e: &super::effects::Effect, inv: &Invocation) -> bool {
        use super::effects::Kind;
        if !rule.effects.iter().any(|n| n.get_ref() == e.kind.name()) {
            return false;
        }
        match e.kind {
            Kind::InstallOutside => {
                let Some(target) = &e.target else {
                    return true;
                };
                let (allowed, _) = self.allowed_dirs();
                let target = canonical_lenient(&self.ctx.cwd.join(target));
                !allowed.iter().any(|d| target.starts_with(d))
                    && !self.is_pinned_build(inv, &target)
            }
            Kind::GoEnvWrite if !rule.env_keys.is_empty() => e.key.as_deref().is_some_and(|k| {
                rule.env_keys
                    .iter()
                    .any(|p| roles::key_matches(p.get_ref(), k))
            }),
            _ => true,
        }
    }

    /// A flag as the user wrote it, and where it came from if not the command line.
    fn flag_as_written(&self, f: &FlagUse) -> String {
        let mut s = match &f.value {
            // The value was the next argument: `-replace a=b`.
            Some(v) if !f.written.contains('=') => {
                format!("`{} {}`", f.written, v.to_string_lossy())
            }
            _ => format!("`{}`", f.written),
        };
        if f.origin == FlagOrigin::GoFlags {
            let from = self
                .goflags_origin
                .map(describe_origin)
                .unwrap_or_else(|| "GOFLAGS".into());
            s.push_str(&format!(" from $GOFLAGS ({from})"));
        }
        s
    }

    fn allowed_dirs(&self) -> (Vec<PathBuf>, Vec<String>) {
        let Some(list) = &self.role.install_dirs else {
            return (Vec::new(), Vec::new());
        };
        let home = (self.ctx.env)("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(crate::userdirs::home_dir);
        let mut dirs_out = Vec::new();
        let mut written = Vec::new();
        for d in list.get_ref() {
            written.push(d.get_ref().clone());
            let path = match (d.get_ref().strip_prefix("~/"), &home) {
                (Some(rest), Some(h)) => h.join(rest),
                // No home directory: a `~/` entry names nothing.
                (Some(_), None) => continue,
                (None, _) => PathBuf::from(d.get_ref()),
            };
            dirs_out.push(canonical_lenient(&path));
        }
        (dirs_out, written)
    }

    /// The files the project's tool pins come from.
    fn project_files(&self) -> (Option<&ModFile>, Option<&ModFile>) {
        match &self.ctx.files {
            Some(f) => (f.go_work, f.go_mod),
            None => (None, None),
        }
    }

    /// `pinned_tools`: a governed tool is installed or run by `pkg@version` only at its pin.
    fn pinned_tools(&self, inv: &Invocation, cmd: &str) -> Option<Denial> {
        let key = self.role.pinned_tools.as_ref()?;
        if !*key.get_ref() {
            return None;
        }
        let (work, module) = self.project_files();
        for g in crate::policy::tools::installs::governed_installs(self.ctx.policy, inv) {
            let (pinned, pin) =
                crate::policy::tools::installs::is_pinned(self.ctx.policy, work, module, &g);
            if pinned {
                continue;
            }
            let fix = match pin {
                Some(p) => format!(
                    "{} is pinned to {} here ({}): run `{}` itself, whose shim builds and runs \
                     the pin, or change the pin with `go get -tool {}@VERSION`",
                    g.tool,
                    p.spec(),
                    p.source,
                    g.tool,
                    g.package
                ),
                None => format!(
                    "nothing pins {} here: pin it with `go get -tool {}@VERSION` and run `{}` \
                     through its shim",
                    g.tool, g.package, g.tool
                ),
            };
            return Some(Denial {
                rule: self.rule("pinned_tools"),
                location: self.at(&key.span()),
                refused: format!("`{}` in {cmd}", g.written),
                reason: format!(
                    "role {:?} runs governed tools only at the version the project pins; {fix}",
                    self.name
                ),
            });
        }
        None
    }

    /// `go install` of exactly the project's pin into gowarden's tool cache: the tool shim's
    /// own build (crate::tools::cache), which no install_dirs need to list.
    fn is_pinned_build(&self, inv: &Invocation, target: &Path) -> bool {
        let Some(root) = crate::tools::cache::root() else {
            return false;
        };
        if !target.starts_with(canonical_lenient(&root)) || inv.positionals.len() != 1 {
            return false;
        }
        let (work, module) = self.project_files();
        let installs = crate::policy::tools::installs::governed_installs(self.ctx.policy, inv);
        installs.len() == 1
            && crate::policy::tools::installs::is_pinned(
                self.ctx.policy,
                work,
                module,
                &installs[0],
            )
            .0
    }

    fn install(&self, inv: &Invocation) -> Option<Denial> {
        let list = self.role.install_dirs.as_ref()?;
        if !inv.is(&["install"]) || inv.help {
            return None;
        }
        let (allowed, written) = self.allowed_dirs();
        let denial = |refused: String, why: String| Denial {
            rule: self.rule("install_dirs"),
            location: self.at(&list.span()),
            refused,
            reason: format!(
                "{why}; role {:?} may install only into: {}",
                self.name,
                if written.is_empty() {
                    "nowhere".to_string()
                } else {
                    written.join(", ")
                }
            ),
        };
        let Some(gobin) = self.goenv.gobin() else {
            return Some(denial(
                "`go install`".into(),
                "go has no install directory here (GOBIN and GOPATH unset, no HOME)".into(),
            ));
        };
        let from = match (self.goenv.get("GOBIN"), self.goenv.get("GOPATH")) {
            (Some((v, o)), _) if !v.is_empty() => format!("GOBIN from {}", describe_origin(&o)),
            (_, Some((v, o))) if !v.is_empty() => {
                format!(
                    "the first GOPATH entry + /bin, GOPATH from {}",
                    describe_origin(&o)
                )
            }
            _ => "GOBIN and GOPATH unset: $HOME/go/bin".into(),
        };
        let refused = format!("`go install` into {} ({from})", gobin.display());
        if !gobin.is_absolute() {
            return Some(denial(
                refused,
                "the install directory is relative (go refuses it too)".into(),
            ));
        }
        let target = canonical_lenient(&gobin);
        if allowed.iter().any(|d| target.starts_with(d)) || self.is_pinned_build(inv, &target) {
            return None;
        }
        Some(denial(
            refused,
            format!("{} is not an allowed directory", target.display()),
        ))
    }

    fn build_output(&self, inv: &Invocation, cmd: &str) -> Option<Denial> {
        let check = self.role.check_build_output.as_ref()?;
        if !*check.get_ref() || !(inv.is(&["build"]) || inv.is(&["test"])) || inv.help {
            return None;
        }
        let o = inv.last_flag("o")?;
        let value = o.value.as_deref()?;
        // go discards the result of `-o /dev/null`: the usual "does it compile" check.
        if value == OsStr::new("/dev/null") {
            return None;
        }
        let base = match &inv.chdir {
            Some(d) => self.ctx.cwd.join(d),
            None => self.ctx.cwd.to_path_buf(),
        };
        let target = base.join(value);
        // go writes into a directory named by -o (an existing one, or one ending in '/').
        let names_dir = value.as_encoded_bytes().ends_with(b"/") || target.is_dir();
        let dir = if names_dir {
            target.clone()
        } else {
            target
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or(target.clone())
        };
        let dir = canonical_lenient(&dir);
        let (allowed, written) = self.allowed_dirs();
        if allowed.iter().any(|d| dir.starts_with(d)) {
            return None;
        }
        Some(Denial {
            rule: self.rule("check_build_output"),
            location: self.at(&check.span()),
            refused: format!("{} in {cmd}", self.flag_as_written(o)),
            reason: format!(
                "it writes into {}; role {:?} may write binaries only into: {}",
                dir.display(),
                self.name,
                written.join(", ")
            ),
        })
    }
}

/// Whether the policy's command `written` (`"mod"`, `"mod edit"`) covers the command words.
fn command_matches(written: &str, command: &[String]) -> bool {
    let words: Vec<&str> = written.split_whitespace().collect();
    !words.is_empty()
        && words.len() <= command.len()
        && words.iter().zip(command).all(|(a, b)| a == b)
}

fn command_line(args: &[OsString]) -> String {
    let mut s = String::from("go");
    for a in args {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn describe_origin(o: &Origin) -> String {
    match o {
        Origin::ProcessEnv => "the environment".into(),
        Origin::EnvFile { path, line } => format!("the go env file {}:{line}", path.display()),
        Origin::GorootGoEnv { path, line, .. } => format!("{}:{line}", path.display()),
    }
}

/// The path with every symbolic link resolved, for a path that may not exist yet (go creates
/// GOBIN): the longest existing prefix is canonicalised and the rest applied to it, `..`
/// included, so a link or `..` cannot lead out of an allowed directory.
fn canonical_lenient(path: &Path) -> PathBuf {
    let comps: Vec<Component> = path.components().collect();
    for split in (0..=comps.len()).rev() {
        let prefix: PathBuf = comps[..split].iter().collect();
        let Ok(mut out) = prefix.canonicalize() else {
            continue;
        };
        for c in &comps[split..] {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other.as_os_str()),
            }
        }
        return out;
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load::{PolicyOrigin, parse};

    fn policy(text: &str) -> LoadedPolicy {
        parse(text.to_string(), PolicyOrigin::File("/p.toml".into())).unwrap()
    }

    fn policy_error(text: &str) -> String {
        parse(text.to_string(), PolicyOrigin::File("/p.toml".into()))
            .unwrap_err()
            .to_string()
    }

    fn nobody() -> Identity {
        Identity::fixed(1000, 1000, vec![], Some("alice"), &[])
    }

    fn eval_with(p: &LoadedPolicy, id: &Identity, env: &[(&str, &str)], line: &str) -> Evaluation {
        let env: Vec<(String, OsString)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let ctx = Context {
            policy: p,
            identity: id,
            env: &lookup,
            goroot: None,
            cwd: Path::new("/work"),
            role_override: None,
            always_parse: false,
            files: None,
        };
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        evaluate(&ctx, Some(&args)).unwrap()
    }

    /// The rule that refuses `line`, or "allow".
    fn verdict(p: &LoadedPolicy, line: &str) -> String {
        match eval_with(p, &nobody(), &[("HOME", "/h")], line).denial {
            Some(d) => d.rule,
            None => "allow".into(),
        }
    }

    const DEV: &str = r#"
[roles]
default = "dev"

[role.dev]
[[role.dev.deny]]
id = "no-replace"
command = "mod edit"
flags = ["replace", "dropreplace"]
message = "replace directives are reviewed"

[[role.dev.deny]]
id = "env-keys"
env_keys = ["GOPROXY", "GONOSUM*"]

[[role.dev.deny]]
id = "no-generate"
command = "generate"

[[role.dev.deny]]
id = "no-mod-mod"
flags = ["mod", "modcacherw"]
values = ["mod", "true"]
"#;

    #[test]
    fn deny_rules_by_flag_key_and_command() {
        let p = policy(DEV);
        for (line, want) in [
            ("mod edit -replace=a=b", "no-replace"),
            ("mod edit --dropreplace a", "no-replace"),
            ("mod edit -fmt", "allow"),
            ("work edit -replace=a=b", "allow"),
            ("env -w GOPROXY=off", "env-keys"),
            ("env -w goproxy=off", "env-keys"),
            ("env -u GONOSUMDB", "env-keys"),
            ("env -w GOBIN=/x", "allow"),
            ("env GOPROXY", "allow"),
            ("generate ./...", "no-generate"),
            ("build ./...", "allow"),
            ("", "allow"),
            ("build -mod=mod .", "no-mod-mod"),
            ("build -mod mod .", "no-mod-mod"),
            ("build -mod=readonly -mod=vendor .", "allow"),
            ("build -modcacherw .", "no-mod-mod"),
            ("build -modcacherw=false .", "allow"),
            // The role has rules, so it refuses what cannot be read.
            ("build -frob .", "role.dev.unknown"),
            ("frob", "role.dev.unknown"),
            ("build -o", "role.dev.unknown"),
        ] {
            assert_eq!(verdict(&p, line), want, "go {line}");
        }
    }

    #[test]
    fn refusal_names_what_role_binding_rule_and_message() {
        let p = policy(DEV);
        let e = eval_with(&p, &nobody(), &[], "mod edit -replace a=b");
        let msg = e.refusal_message().unwrap();
        assert_eq!(
            msg,
            "refused `-replace a=b` in `go mod edit`\n  role: dev, the default role ([roles] \
             default at /p.toml:3)\n  rule: no-replace (/p.toml:7)\n  why:  replace directives \
             are reviewed"
        );
        let e = eval_with(
            &p,
            &nobody(),
            &[("GOFLAGS", "-replace=x=y")],
            "mod edit -fmt",
        );
        assert!(
            e.refusal_message().unwrap().contains(
                "refused `-replace=x=y` from $GOFLAGS (the environment) in `go mod edit`"
            ),
            "{e:?}"
        );
    }

    #[test]
    fn allow_commands_covers_subcommands_of_a_group_and_unknown_allow_passes() {
        let p = policy(
            r#"
[roles]
default = "r"
[role.r]
allow_commands = ["mod", "build", "work sync"]
unknown = "allow"
"#,
        );
        for (line, want) in [
            ("mod edit -fmt", "allow"),
            ("mod frob", "allow"),
            ("build -frob .", "allow"),
            ("build -o", "allow"),
            ("work sync", "allow"),
            ("work use .", "role.r.allow_commands"),
            ("test ./...", "role.r.allow_commands"),
            ("help build", "role.r.allow_commands"),
            ("-x build", "allow"),
        ] {
            assert_eq!(verdict(&p, line), want, "go {line}");
        }
    }

    #[test]
    fn a_role_without_rules_allows_even_what_go_rejects_and_no_roles_parses_nothing() {
        let p = policy("[roles]\ndefault = \"free\"\n[role.free]\n");
        assert_eq!(verdict(&p, "build -frob"), "allow");
        assert_eq!(verdict(&p, "build -o"), "allow");
        let p = policy("");
        let e = eval_with(&p, &nobody(), &[], "mod edit -replace=a=b");
        assert!(e.role.is_none() && e.invocation.is_none() && e.denial.is_none());
    }

    #[test]
    fn bindings_first_match_and_all_kinds_must_hold() {
        let p = policy(
            r#"
[roles]
default = "dev"
[role.dev]
[role.ci]
[role.ops]

[[binding]]
role = "ci"
groups = ["ci", "build"]
env = { CI = "true" }

[[binding]]
role = "ops"
users = ["bob"]

[[binding]]
role = "ops"
uids = [7]

[[binding]]
role = "ci"
gids = [55]
"#,
        );
        let id_ci = Identity::fixed(1000, 1000, vec![20], Some("alice"), &[("build", 20)]);
        let id_bob = Identity::fixed(1001, 1001, vec![55], Some("bob"), &[]);
        let id_7 = Identity::fixed(7, 7, vec![], None, &[]);
        let role_of = |id: &Identity, env: &[(&str, &str)]| {
            let e = eval_with(&p, id, env, "version");
            let r = e.role.unwrap();
            (r.name, r.chosen_by.to_string())
        };
        assert_eq!(
            role_of(&id_ci, &[("CI", "true")]),
            (
                "ci".into(),
                "the [[binding]] at /p.toml:8 (env CI=\"true\", group \"build\")".into()
            )
        );
        // Group without the env condition, env without the group: neither is enough.
        assert_eq!(role_of(&id_ci, &[]).0, "dev");
        assert_eq!(role_of(&nobody(), &[("CI", "true")]).0, "dev");
        assert_eq!(role_of(&id_ci, &[("CI", "1")]).0, "dev");
        // bob is bound by name before his gid 55 could make him ci.
        assert_eq!(role_of(&id_bob, &[]).0, "ops");
        assert!(role_of(&id_bob, &[]).1.contains("/p.toml:13"));
        assert_eq!(
            role_of(&id_7, &[]),
            ("ops".into(), "the [[binding]] at /p.toml:17 (uid 7)".into())
        );
        let id_55 = Identity::fixed(1002, 1002, vec![55], None, &[]);
        assert_eq!(role_of(&id_55, &[]).0, "ci");
        assert_eq!(
            role_of(&nobody(), &[]).1,
            "the default role ([roles] default at /p.toml:3)"
        );
    }

    #[test]
    fn install_dirs_hold_gobin_and_build_output() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let allowed = root.join("bin");
        std::fs::create_dir_all(&allowed).unwrap();
        std::os::unix::fs::symlink("/usr", root.join("bin/escape")).unwrap();
        let p = policy(&format!(
            "[roles]\ndefault = \"b\"\n[role.b]\ninstall_dirs = [{:?}, \"~/go/bin\"]\n\
             check_build_output = true\n",
            allowed.display().to_string()
        ));
        let home = root.join("home");
        let run = |env: &[(&str, &str)], line: &str| {
            let mut env = env.to_vec();
            let h = home.display().to_string();
            env.push(("HOME", &h));
            let e = eval_with(&p, &nobody(), &env, line);
            e.denial.map(|d| d.rule).unwrap_or_else(|| "allow".into())
        };
        let a = allowed.display().to_string();
        let sub = format!("{a}/linux_arm64");
        let dotdot = format!("{a}/../elsewhere");
        let escape = format!("{a}/escape/bin");
        for (gobin, want) in [
            (a.as_str(), "allow"),
            (sub.as_str(), "allow"),
            (dotdot.as_str(), "role.b.install_dirs"),
            (escape.as_str(), "role.b.install_dirs"),
            ("/usr/local/bin", "role.b.install_dirs"),
            ("relative/bin", "role.b.install_dirs"),
        ] {
            assert_eq!(
                run(&[("GOBIN", gobin)], "install ./cmd"),
                want,
                "GOBIN={gobin}"
            );
        }
        // Default GOBIN: $HOME/go/bin, allowed by `~/go/bin` though it does not exist yet.
        assert_eq!(run(&[], "install example.com/cmd@v1.0.0"), "allow");
        assert_eq!(
            run(&[("GOPATH", "/elsewhere:/h/go")], "install ./cmd"),
            "role.b.install_dirs"
        );
        assert_eq!(run(&[("GOBIN", "/usr/bin")], "build ./..."), "allow");
        let out = format!("-o={a}/tool");
        assert_eq!(run(&[], &format!("build {out} .")), "allow");
        assert_eq!(
            run(&[], "build -o /usr/local/bin/tool ."),
            "role.b.check_build_output"
        );
        assert_eq!(
            run(&[], "test -c -o /tmp/x.test ."),
            "role.b.check_build_output"
        );
        assert_eq!(run(&[], "build -o /dev/null ."), "allow");
        // Relative to the working directory /work (after -C).
        assert_eq!(run(&[], "build -o tool ."), "role.b.check_build_output");
        assert_eq!(run(&[], &format!("build -C {a} -o tool .")), "allow");
    }

    #[test]
    fn policy_errors_name_file_and_line() {
        let cases: &[(&str, &str)] = &[
            (
                "[roles]\ndefault = \"dev\"\n[role.dev]\n[[binding]]\nrole = \"ops\"\nusers = [\"a\"]\n",
                "/p.toml:5: [[binding]] role = \"ops\" is not a role; defined roles: dev",
            ),
            (
                "[roles]\ndefault = \"x\"\n[role.dev]\n",
                "/p.toml:2: [roles] default = \"x\" is not a role",
            ),
            (
                "[role.dev]\n",
                "/p.toml:1: roles are defined but [roles] default is not",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"x\"\ncommand = \"build\"\n[role.b]\n[[role.b.deny]]\nid = \"x\"\ncommand = \"test\"\n",
                "/p.toml:9: rule id \"x\" is used twice (first at /p.toml:5)",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\nallow_commands = [\"build\",\n  \"biuld\"]\n",
                "/p.toml:5: [role.a] allow_commands: \"biuld\" is not a go command",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\nallow_commands = [\"mod  edit\"]\n",
                "/p.toml:4: [role.a] allow_commands: \"mod  edit\" is not a go command",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"x\"\nflags = [\"toolexc\"]\n",
                "/p.toml:6: [role.a] deny rule \"x\": -toolexc is not a flag of any go command",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"x\"\ncommand = \"build\"\nflags = [\"replace\"]\n",
                "/p.toml:7: [role.a] deny rule \"x\": -replace is not a flag of go build",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"x\"\nflags = [\"-toolexec\"]\n",
                "write flag \"-toolexec\" without dashes (\"toolexec\")",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"x\"\n",
                "/p.toml:5: [role.a] deny rule \"x\" names no command, flags or env_keys",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"role.x\"\ncommand = \"build\"\n",
                "/p.toml:5: [role.a] deny rule id \"role.x\"",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"x\"\ncommand = \"build\"\nenv_keys = [\"GOPROXY\"]\n",
                "/p.toml:5: [role.a] deny rule \"x\": env_keys apply to `go env -w/-u`",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"x\"\nflags = [\"w\"]\nenv_keys = [\"GOPROXY\"]\n",
                "has both flags and env_keys",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[role.a.deny]]\nid = \"x\"\ncommand = \"build\"\nvalues = [\"mod\"]\n",
                "/p.toml:7: [role.a] deny rule \"x\": values needs flags",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\ninstall_dirs = [\"bin\"]\n",
                "/p.toml:4: [role.a] install_dirs: \"bin\" must be absolute",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\ncheck_build_output = true\n",
                "/p.toml:4: [role.a] check_build_output = true needs install_dirs",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[binding]]\nrole = \"a\"\n",
                "/p.toml:4: [[binding]] has no condition",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[binding]]\nrole = \"a\"\nenv = { CI = \"\" }\n",
                "/p.toml:6: [[binding]] env CI = \"\"",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.\"a b\"]\n",
                "/p.toml:3: role name \"a b\"",
            ),
            // serde: misspelt keys and bad values, with line and column.
            (
                "[roles]\ndefault = \"a\"\n[role.a]\nallow_comands = []\n",
                "/p.toml:4:1: unknown field `allow_comands`",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\nunknown = \"deny\"\n",
                "/p.toml:4:11: unknown variant `deny`, expected `refuse` or `allow`",
            ),
            (
                "[roles]\ndefault = \"a\"\n[role.a]\n[[binding]]\nrole = \"a\"\ngroup = [\"ci\"]\n",
                "/p.toml:6:1: unknown field `group`",
            ),
            (
                "[roles]\ndefualt = \"a\"\n",
                "/p.toml:2:1: unknown field `defualt`",
            ),
        ];
        for (text, want) in cases {
            let got = policy_error(text);
            assert!(
                got.contains(want),
                "policy:\n{text}\nwant: {want}\ngot:  {got}"
            );
        }
    }

    #[test]
    fn an_undefined_role_is_an_error_not_an_allow() {
        // Only a policy that skipped validate() can get here; it must still fail closed.
        let text = "[roles]\ndefault = \"ghost\"\n[role.real]\n";
        let p = LoadedPolicy::new(
            toml::from_str(text).unwrap(),
            PolicyOrigin::File("/p.toml".into()),
            text.into(),
        );
        let lookup = |_: &str| None;
        let ctx = Context {
            policy: &p,
            identity: &nobody(),
            env: &lookup,
            goroot: None,
            cwd: Path::new("/"),
            role_override: None,
            always_parse: false,
            files: None,
        };
        let args = [OsString::from("build")];
        let err = evaluate(&ctx, Some(&args)).unwrap_err();
        assert!(
            err.message().contains("\"ghost\" but does not define it"),
            "{err}"
        );
    }

    #[test]
    fn env_key_patterns() {
        for (pattern, key, want) in [
            ("GOPROXY", "GOPROXY", true),
            ("GOPROXY", "goproxy", true),
            ("GOPROXY", "GOPROXYX", false),
            ("GONO*", "GONOSUMDB", true),
            ("GONO*", "GONO", true),
            ("*FLAGS", "CGO_CFLAGS", true),
            ("CGO_*_ALLOW", "CGO_CFLAGS_ALLOW", true),
            ("CGO_*_ALLOW", "CGO_CFLAGS_DISALLOW", false),
            ("GO?", "GOX", true),
            ("GO?", "GO", false),
            ("*", "", true),
        ] {
            assert_eq!(roles::key_matches(pattern, key), want, "{pattern} vs {key}");
        }
        // A long key against many stars stays fast (no backtracking blow-up).
        let key = "A".repeat(20_000);
        assert!(!roles::key_matches("*A*A*A*A*A*A*A*A*B", &key));
    }
}
