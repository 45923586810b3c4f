//! The policy's side of tools: `[tools]` (company-wide pins) and the role keys
//! `allow_tools`, `deny_tools` and `pinned_tools`, checked with file and line like every
//! other table.

use std::ops::Range;

pub mod installs;
pub mod pins;

use crate::error::{Error, Result};
use crate::policy::LoadedPolicy;
use crate::policy::roles::Role;

/// A `[tools]` entry: `NAME = "pkg/path@vX.Y.Z"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyPin {
    pub name: String,
    pub package: String,
    pub version: String,
    /// Where the pin is in the policy.
    pub location: crate::location::Location,
}

fn split(spec: &str) -> Option<(&str, &str)> {
    let (pkg, version) = spec.rsplit_once('@')?;
    (!pkg.is_empty()).then_some((pkg, version))
}

/// The company-wide pin of `name`, if `[tools]` has one (validated at load).
pub fn policy_pin(loaded: &LoadedPolicy, name: &str) -> Option<PolicyPin> {
    let (k, v) = loaded
        .policy
        .tools
        .iter()
        .find(|(k, _)| k.get_ref() == name)?;
    let (package, version) = split(v.get_ref())?;
    Some(PolicyPin {
        name: k.get_ref().clone(),
        package: package.to_string(),
        version: version.to_string(),
        location: loaded.line_at(&v.span()),
    })
}

/// Every tool the policy governs: the built-in ones, then `[tools]`' other names.
pub fn governed(loaded: &LoadedPolicy) -> Vec<String> {
    let mut names: Vec<String> = crate::tools::BUILTIN
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    for k in loaded.policy.tools.keys() {
        if !names.contains(k.get_ref()) {
            names.push(k.get_ref().clone());
        }
    }
    names
}

/// The package a governed tool is built from where nothing pins it: the policy's, else the
/// built-in one. For the fix a refusal prints.
pub fn default_package(loaded: &LoadedPolicy, name: &str) -> Option<String> {
    policy_pin(loaded, name).map(|p| p.package).or_else(|| {
        crate::tools::BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p.to_string())
    })
}

/// The governed tool built from package `pkg`, if any: by the policy's pin or the built-in
/// list, else by go's binary name where that name is governed.
pub fn tool_for_package(loaded: &LoadedPolicy, pkg: &str) -> Option<String> {
    for name in governed(loaded) {
        if default_package(loaded, &name).as_deref() == Some(pkg) {
            return Some(name);
        }
    }
    let name = crate::tools::exec_name(pkg);
    governed(loaded).into_iter().find(|n| n == name)
}

pub fn validate(loaded: &LoadedPolicy) -> Result<()> {
    let bad = |span: Range<usize>, msg: String| {
        Err(Error::new(format!(
            "invalid policy {}: {msg}",
            loaded.location(&span)
        )))
    };
    for (k, v) in &loaded.policy.tools {
        let name = k.get_ref();
        if !crate::tools::valid_name(name) || crate::tools::is_reserved(name) {
            return bad(
                k.span(),
                format!(
                    "[tools] {name:?} cannot name a tool: use letters, digits, '-', '_' and '.', \
                     and not go, gofmt or gowarden"
                ),
            );
        }
        let Some((pkg, version)) = split(v.get_ref()) else {
            return bad(
                v.span(),
                format!(
                    "[tools] {name} = {:?} is not a pin; write the package and its version, \
                     e.g. {name} = \"golang.org/x/tools/gopls@v0.23.0\"",
                    v.get_ref()
                ),
            );
        };
        if !crate::tools::semver::is_valid(version) {
            return bad(
                v.span(),
                format!(
                    "[tools] {name} = {:?}: {version:?} is not a module version; pin an exact \
                     release such as v1.2.3 (a query like latest would change under everyone)",
                    v.get_ref()
                ),
            );
        }
        if crate::tools::exec_name(pkg) != name {
            return bad(
                v.span(),
                format!(
                    "[tools] {name} = {:?}: go builds {pkg} as `{}`, not `{name}`; name the key \
                     `{}`",
                    v.get_ref(),
                    crate::tools::exec_name(pkg),
                    crate::tools::exec_name(pkg)
                ),
            );
        }
    }
    Ok(())
}

/// `allow_tools` and `deny_tools` name tools the policy governs.
pub fn validate_role_tools(loaded: &LoadedPolicy, role_name: &str, role: &Role) -> Result<()> {
    let names = governed(loaded);
    let listed = role
        .allow_tools
        .iter()
        .flat_map(|l| l.get_ref().iter().map(|n| ("allow_tools", n)))
        .chain(role.deny_tools.iter().map(|n| ("deny_tools", n)));
    for (key, n) in listed {
        if !names.contains(n.get_ref()) {
            return Err(Error::new(format!(
                "invalid policy {}: [role.{role_name}] {key} names {:?}, which is not a tool \
                 gowarden governs; governed tools: {} (add others to [tools])",
                loaded.location(&n.span()),
                n.get_ref(),
                names.join(", ")
            )));
        }
    }
    Ok(())
}
