//! Roles: the policy tables `[roles]`, `[[binding]]` and `[role.NAME]`, their checks, and the
//! choice of the caller's role. What a role's rules do to a command line is in
//! [`super::rules`]; `policies/README.md` ("Roles and rules") is the user documentation.
//!
//! A policy without any `[role.NAME]` has no roles: nothing is filtered. Once it has one,
//! `[roles] default` is required, so every caller gets a role on purpose rather than by
//! accident of a binding that did not match.
//!
//! Bindings are tried in file order and the first that matches wins. Within one binding every
//! kind of condition it lists must hold (users, groups, uids, gids, env) and, within a kind,
//! any entry may: `users = ["a", "b"], groups = ["ci"]` means (a or b) and in group ci. Write
//! two bindings for "user a, or anyone in group ci".

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::load::LoadedPolicy;
use crate::error::{Error, Result};
use crate::identity::Identity;

/// `[roles]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesTable {
    /// The role of a caller no binding matches. Required once any role is defined.
    pub default: Option<Spanned<String>>,
    /// Lets anyone preview another role's decisions with `gowarden explain --role`; root
    /// always may.
    #[serde(default)]
    pub allow_preview: bool,
}

/// One `[[binding]]`: conditions on the caller, and the role they give.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub role: Spanned<String>,
    /// User names, compared with the name of the real uid (crate::identity).
    #[serde(default)]
    pub users: Vec<Spanned<String>>,
    /// Group names (crate::identity): the primary group or any supplementary group.
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    #[serde(default)]
    pub uids: Vec<u32>,
    /// The primary gid or any supplementary gid.
    #[serde(default)]
    pub gids: Vec<u32>,
    /// Environment variables that must all have exactly these values. Anyone can set an
    /// environment variable: a convenience for CI, never a security boundary.
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
}

/// `[role.NAME]`: what a caller with this role may run.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// For people reading `gowarden which` and refusals.
    pub description: Option<String>,
    /// If present, only these commands run: `"build"`, `"mod download"`, or a group such as
    /// `"mod"` for all its subcommands.
    pub allow_commands: Option<Spanned<Vec<Spanned<String>>>>,
    /// Refused commands, flags and `go env -w/-u` keys, tried in order.
    #[serde(default)]
    pub deny: Vec<DenyRule>,
    /// If present, the only directories `go install` may write to (and `go build -o`, with
    /// `check_build_output`). Absolute, or `~/` for the home directory.
    pub install_dirs: Option<Spanned<Vec<Spanned<String>>>>,
    /// Also hold `go build -o` and `go test -o` targets to `install_dirs`.
    pub check_build_output: Option<Spanned<bool>>,
    /// What to do with a command line gowarden cannot read exactly. Default: `refuse` for a
    /// role with any rule, `allow` for a role without rules.
    pub unknown: Option<Spanned<Unknown>>,
    /// `[role.NAME.confine]`: what the kernel holds go and everything it starts to
    /// ([`crate::policy::confine`]).
    pub confine: Option<Spanned<crate::policy::confine::ConfineTable>>,
    /// If present, the only governed tools (`gopls`, `dlv`, ...) this role may run.
    pub allow_tools: Option<Spanned<Vec<Spanned<String>>>>,
    /// Governed tools this role may not run.
    #[serde(default)]
    pub deny_tools: Vec<Spanned<String>>,
    /// `go install`/`go run` of a governed tool only at the version the project (or the
    /// policy's `[tools]`) pins: no `gopls@latest` in `~/go/bin`.
    pub pinned_tools: Option<Spanned<bool>>,
}

/// One `[[role.NAME.deny]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyRule {
    /// Unique in the policy; the audit record and refusals name the rule by it.
    pub id: Spanned<String>,
    /// The command it applies to (a group: all its subcommands); absent: every command.
    pub command: Option<Spanned<String>>,
    /// Flag names as go reads them, without dashes: `"toolexec"`, `"replace"`.
    #[serde(default)]
    pub flags: Vec<Spanned<String>>,
    /// With `flags`: only uses with one of these values (exact; a bool flag given without a
    /// value is `"true"`), e.g. `flags = ["mod"], values = ["mod"]` for `-mod=mod` alone.
    pub values: Option<Spanned<Vec<String>>>,
    /// Keys `go env -w`/`-u` may not change; `*` and `?` match any characters, case is
    /// ignored.
    #[serde(default)]
    pub env_keys: Vec<Spanned<String>>,
    /// Effects the call may not have, whatever input carries them (`"build-tool"`,
    /// `"dependency-substitution"`, ...: [`super::effects`]). With `env_keys`, the
    /// `go-env-write` effect is refused for those keys only.
    #[serde(default)]
    pub effects: Vec<Spanned<String>>,
    /// Shown with the refusal: why, and what to do instead.
    pub message: Option<String>,
}

/// `unknown = "refuse" | "allow"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unknown {
    Refuse,
    Allow,
}

impl Unknown {
    pub fn as_str(self) -> &'static str {
        match self {
            Unknown::Refuse => "refuse",
            Unknown::Allow => "allow",
        }
    }
}

impl Role {
    /// Whether the role restricts anything at all.
    pub fn has_rules(&self) -> bool {
        self.allow_commands.is_some() || !self.deny.is_empty() || self.install_dirs.is_some()
    }

    /// The `unknown` setting in force (see [`Role::unknown`]).
    pub fn unknown_mode(&self) -> Unknown {
        match &self.unknown {
            Some(u) => *u.get_ref(),
            None if self.has_rules() => Unknown::Refuse,
            None => Unknown::Allow,
        }
    }

    pub fn pinned_tools(&self) -> bool {
        self.pinned_tools.as_ref().is_some_and(|p| *p.get_ref())
    }

    /// The rule that keeps this role from running tool `name`, if one does: the key that
    /// refuses it and its span.
    pub fn tool_denied(&self, name: &str) -> Option<(&'static str, Range<usize>)> {
        if let Some(d) = self.deny_tools.iter().find(|d| d.get_ref() == name) {
            return Some(("deny_tools", d.span()));
        }
        match &self.allow_tools {
            Some(list) if !list.get_ref().iter().any(|a| a.get_ref() == name) => {
                Some(("allow_tools", list.span()))
            }
            _ => None,
        }
    }

    pub fn check_build_output(&self) -> bool {
        self.check_build_output
            .as_ref()
            .is_some_and(|c| *c.get_ref())
    }
}

pub use crate::outcome::{ChosenBy, RoleChoice};

impl fmt::Display for ChosenBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChosenBy::Binding {
                location, matched, ..
            } => write!(f, "the [[binding]] at {location} ({matched})"),
            ChosenBy::Default { location } => {
                write!(f, "the default role ([roles] default at {location})")
            }
            ChosenBy::Preview => f.write_str("chosen with --role (preview)"),
        }
    }
}

impl LoadedPolicy {
    /// Whether the policy defines roles at all; without them nothing is filtered.
    pub fn has_roles(&self) -> bool {
        !self.policy.role.is_empty()
    }

    /// The role called `name` and the line of its `[role.NAME]` header.
    pub fn role(&self, name: &str) -> Option<(&Role, Range<usize>)> {
        self.policy
            .role
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map(|(_, r)| (r.get_ref(), r.span()))
    }

    pub fn role_names(&self) -> Vec<&str> {
        self.policy
            .role
            .keys()
            .map(|k| k.get_ref().as_str())
            .collect()
    }
}

/// The caller's role: the first matching binding, else `[roles] default`; `None` for a
/// policy without roles. `env` is the process environment. A name that cannot be resolved
/// (getent failing or timing out) is an error naming the binding, not a non-match: a caller
/// must not slip into a laxer role because a directory server is down.
pub fn choose_role<E: Fn(&str) -> Option<OsString>>(
    loaded: &LoadedPolicy,
    identity: &Identity,
    env: E,
) -> Result<Option<RoleChoice>> {
    if !loaded.has_roles() {
        return Ok(None);
    }
    // Every name a binding may ask about, so the first question answers them all in one pass
    // of /etc/passwd and /etc/group (and one getent, for names the files lack).
    let bindings = loaded.policy.binding.iter().map(|b| b.get_ref());
    identity.expect_names(
        bindings.clone().any(|b| !b.users.is_empty()),
        bindings.flat_map(|b| b.groups.iter().map(|g| g.get_ref().as_str())),
    );
    for (index, b) in loaded.policy.binding.iter().enumerate() {
        let matched = binding_matches(b.get_ref(), identity, &env)
            .map_err(|e| e.context(format!("[[binding]] at {}", loaded.location(&b.span()))))?;
        if let Some(matched) = matched {
            return Ok(Some(RoleChoice {
                name: b.get_ref().role.get_ref().clone(),
                chosen_by: ChosenBy::Binding {
                    index,
                    location: loaded.line_at(&b.span()),
                    matched,
                },
            }));
        }
    }
    match &loaded.policy.roles.default {
        Some(d) => Ok(Some(RoleChoice {
            name: d.get_ref().clone(),
            chosen_by: ChosenBy::Default {
                location: loaded.line_at(&d.span()),
            },
        })),
        // validate() requires a default once roles exist.
        None => Err(Error::new(format!(
            "invalid policy {}: roles are defined but [roles] default is not",
            loaded.origin.file_name()
        ))),
    }
}

/// `Some(what matched)` if every kind of condition in `b` holds. The conditions that need no
/// name lookup are tried first, so a binding that fails on them costs no lookup.
fn binding_matches<E: Fn(&str) -> Option<OsString>>(
    b: &Binding,
    id: &Identity,
    env: &E,
) -> Result<Option<String>> {
    let mut why: Vec<String> = Vec::new();
    if !b.uids.is_empty() {
        match b.uids.iter().find(|&&u| u == id.uid()) {
            Some(u) => why.push(format!("uid {u}")),
            None => return Ok(None),
        }
    }
    if !b.gids.is_empty() {
        match b.gids.iter().find(|&&g| id.in_group(g)) {
            Some(g) => why.push(format!("gid {g}")),
            None => return Ok(None),
        }
    }
    for (key, want) in &b.env {
        if env(key).as_deref() != Some(std::ffi::OsStr::new(want.get_ref())) {
            return Ok(None);
        }
        why.push(format!("env {key}={:?}", want.get_ref()));
    }
    if !b.users.is_empty() {
        let name = id.user_name().map_err(|e| {
            Error::new(format!(
                "{e}; bind by `uids = [{}]` instead of `users`, which needs no lookup",
                id.uid()
            ))
        })?;
        let Some(name) = name else {
            return Ok(None);
        };
        match b.users.iter().find(|u| *u.get_ref() == name) {
            Some(u) => why.push(format!("user {:?}", u.get_ref())),
            None => return Ok(None),
        }
    }
    if !b.groups.is_empty() {
        let mut found = None;
        for g in &b.groups {
            let member = id.in_group_named(g.get_ref()).map_err(|e| {
                Error::new(format!(
                    "{e}; bind by `gids` instead of `groups`, which needs no lookup (the gid is \
                     what `getent group {}` prints third)",
                    g.get_ref()
                ))
            })?;
            if member {
                found = Some(g.get_ref());
                break;
            }
        }
        match found {
            Some(g) => why.push(format!("group {g:?}")),
            None => return Ok(None),
        }
    }
    Ok(Some(why.join(", ")))
}

/// The checks serde cannot make; each error names the file and line.
pub fn validate(loaded: &LoadedPolicy) -> Result<()> {
    let p = &loaded.policy;
    let bad = |span: Range<usize>, msg: String| {
        Err(Error::new(format!(
            "invalid policy {}: {msg}",
            loaded.location(&span)
        )))
    };
    let names = loaded.role_names();
    let known_roles = || {
        if names.is_empty() {
            "none is defined: add a [role.NAME] table".to_string()
        } else {
            format!("defined roles: {}", names.join(", "))
        }
    };
    for (name, role) in &p.role {
        let valid = !name.get_ref().is_empty()
            && name
                .get_ref()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
        if !valid {
            return bad(
                name.span(),
                format!(
                    "role name {:?}: use letters, digits, '-' and '_'",
                    name.get_ref()
                ),
            );
        }
        validate_role(loaded, name.get_ref(), role.get_ref())?;
        crate::policy::tools::validate_role_tools(loaded, name.get_ref(), role.get_ref())?;
    }
    match &p.roles.default {
        Some(d) if !names.contains(&d.get_ref().as_str()) => {
            return bad(
                d.span(),
                format!(
                    "[roles] default = {:?} is not a role; {}",
                    d.get_ref(),
                    known_roles()
                ),
            );
        }
        None if loaded.has_roles() => {
            let first = p.role.values().next().map(|r| r.span()).unwrap_or(0..0);
            return bad(
                first,
                "roles are defined but [roles] default is not: set it to the role of callers \
                 no [[binding]] matches"
                    .into(),
            );
        }
        _ => {}
    }
    for b in &p.binding {
        let b_ref = b.get_ref();
        if !names.contains(&b_ref.role.get_ref().as_str()) {
            return bad(
                b_ref.role.span(),
                format!(
                    "[[binding]] role = {:?} is not a role; {}",
                    b_ref.role.get_ref(),
                    known_roles()
                ),
            );
        }
        let empty = b_ref.users.is_empty()
            && b_ref.groups.is_empty()
            && b_ref.uids.is_empty()
            && b_ref.gids.is_empty()
            && b_ref.env.is_empty();
        if empty {
            return bad(
                b.span(),
                "[[binding]] has no condition (users, groups, uids, gids or env); to give \
                 everyone a role use [roles] default"
                    .into(),
            );
        }
        for s in b_ref.users.iter().chain(&b_ref.groups) {
            if s.get_ref().is_empty() {
                return bad(
                    s.span(),
                    "[[binding]] has an empty user or group name".into(),
                );
            }
        }
        for (key, value) in &b_ref.env {
            if value.get_ref().is_empty() {
                return bad(
                    value.span(),
                    format!(
                        "[[binding]] env {key} = \"\": an empty value cannot be told from an \
                         unset variable by most CI systems; name the value it must have"
                    ),
                );
            }
        }
    }
    // A BTreeMap: std's HashMap seeds itself from getrandom(2), a syscall on every call.
    let mut ids: BTreeMap<&str, Range<usize>> = BTreeMap::new();
    for role in p.role.values() {
        for rule in &role.get_ref().deny {
            let id = rule.id.get_ref().as_str();
            if let Some(first) = ids.get(id) {
                return bad(
                    rule.id.span(),
                    format!(
                        "rule id {id:?} is used twice (first at {}); ids name one rule in \
                         refusals and the audit log",
                        loaded.location(first)
                    ),
                );
            }
            ids.insert(id, rule.id.span());
        }
    }
    Ok(())
}

fn validate_role(loaded: &LoadedPolicy, name: &str, role: &Role) -> Result<()> {
    let bad = |span: Range<usize>, msg: String| {
        Err(Error::new(format!(
            "invalid policy {}: [role.{name}] {msg}",
            loaded.location(&span)
        )))
    };
    let unknown_command = |cmd: &str| {
        format!(
            "{cmd:?} is not a go command; known: {}",
            crate::gocli::command_names().join(", ")
        )
    };
    if let Some(list) = &role.allow_commands {
        for c in list.get_ref() {
            if !is_command(c.get_ref()) {
                return bad(
                    c.span(),
                    format!("allow_commands: {}", unknown_command(c.get_ref())),
                );
            }
        }
    }
    if let Some(dirs) = &role.install_dirs {
        for d in dirs.get_ref() {
            let d_ref = d.get_ref();
            if !(d_ref.starts_with('/') || d_ref.starts_with("~/")) {
                return bad(
                    d.span(),
                    format!(
                        "install_dirs: {d_ref:?} must be absolute or start with ~/ (the home \
                         directory)"
                    ),
                );
            }
        }
    }
    if let Some(c) = &role.check_build_output
        && *c.get_ref()
        && role.install_dirs.is_none()
    {
        return bad(
            c.span(),
            "check_build_output = true needs install_dirs: the directories -o may write to".into(),
        );
    }
    if let Some(c) = &role.confine {
        crate::policy::confine::validate(loaded, name, c)?;
    }
    for rule in &role.deny {
        let id = rule.id.get_ref();
        let valid_id = id.bytes().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
        if !valid_id || id.starts_with("role.") {
            return bad(
                rule.id.span(),
                format!(
                    "deny rule id {id:?}: use letters, digits, '-', '_' and '.', starting with \
                     a letter or digit; ids starting with \"role.\" are gowarden's own"
                ),
            );
        }
        let words: Vec<&str> = match &rule.command {
            Some(c) => {
                if !is_command(c.get_ref()) {
                    return bad(
                        c.span(),
                        format!("deny rule {id:?}: command {}", unknown_command(c.get_ref())),
                    );
                }
                c.get_ref().split_whitespace().collect()
            }
            None => Vec::new(),
        };
        if !rule.effects.is_empty() {
            super::effects::validate_rule(rule)
                .or_else(|(span, why)| bad(span, format!("deny rule {id:?}: {why}")))?;
            continue;
        }
        if !rule.flags.is_empty() && !rule.env_keys.is_empty() {
            return bad(
                rule.id.span(),
                format!(
                    "deny rule {id:?} has both flags and env_keys: make them two rules, so \
                     each refusal names what it is about"
                ),
            );
        }
        if rule.command.is_none() && rule.flags.is_empty() && rule.env_keys.is_empty() {
            return bad(
                rule.id.span(),
                format!(
                    "deny rule {id:?} names no command, flags or env_keys, so it would refuse \
                     everything; to allow only some commands use allow_commands"
                ),
            );
        }
        if let Some(values) = &rule.values
            && rule.flags.is_empty()
        {
            return bad(
                values.span(),
                format!("deny rule {id:?}: values needs flags: the flags whose values they are"),
            );
        }
        for f in &rule.flags {
            let flag = f.get_ref();
            if flag.starts_with('-') {
                return bad(
                    f.span(),
                    format!(
                        "deny rule {id:?}: write flag {flag:?} without dashes ({:?}); it \
                         matches -x, --x, -x=v and -x v alike",
                        flag.trim_start_matches('-')
                    ),
                );
            }
            if !crate::gocli::defines_flag(&words, flag) {
                let scope = match &rule.command {
                    Some(c) => format!("go {}", c.get_ref()),
                    None => "any go command".to_string(),
                };
                return bad(
                    f.span(),
                    format!("deny rule {id:?}: -{flag} is not a flag of {scope} (go 1.26.8)"),
                );
            }
        }
        if !rule.env_keys.is_empty() && rule.command.as_ref().is_some_and(|c| c.get_ref() != "env")
        {
            return bad(
                rule.id.span(),
                format!(
                    "deny rule {id:?}: env_keys apply to `go env -w/-u`; drop command or set \
                     it to \"env\""
                ),
            );
        }
        for k in &rule.env_keys {
            let valid = !k.get_ref().is_empty()
                && k.get_ref()
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'*' | b'?'));
            if !valid {
                return bad(
                    k.span(),
                    format!(
                        "deny rule {id:?}: env key {:?}: use a variable name, with * or ? to \
                         match several",
                        k.get_ref()
                    ),
                );
            }
        }
    }
    Ok(())
}

fn is_command(written: &str) -> bool {
    let words: Vec<&str> = written.split_whitespace().collect();
    // One space between words, as the documentation writes them and refusals echo them.
    words.join(" ") == written && crate::gocli::is_command_name(&words)
}

/// Whether env key `key` matches `pattern` ([`crate::wildcard`]).
pub fn key_matches(pattern: &str, key: &str) -> bool {
    crate::wildcard::matches(pattern.as_bytes(), key.as_bytes())
}
