//! `go install` / `go run` of a governed tool (`go install golang.org/x/tools/gopls@latest`):
//! what the role rules (`pinned_tools`, and `install_dirs` for the tool cache) need to know.

use crate::gocli::Invocation;
use crate::policy::LoadedPolicy;
use crate::project::ModFile;

/// A `pkg@version` argument of `go install`/`go run` that builds a governed tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovernedInstall {
    pub tool: String,
    pub package: String,
    pub version: String,
    /// The argument as written.
    pub written: String,
}

/// The governed tools `inv` installs or runs by `pkg@version` (go's form that ignores go.mod).
pub fn governed_installs(loaded: &LoadedPolicy, inv: &Invocation) -> Vec<GovernedInstall> {
    if !(inv.is(&["install"]) || inv.is(&["run"])) || inv.help {
        return Vec::new();
    }
    let mut out = Vec::new();
    for p in &inv.positionals {
        let p = p.to_string_lossy();
        if p.starts_with('.') || p.starts_with('/') || p.ends_with(".go") {
            continue;
        }
        let Some((pkg, version)) = p.rsplit_once('@') else {
            continue;
        };
        if let Some(tool) = super::tool_for_package(loaded, pkg) {
            out.push(GovernedInstall {
                tool,
                package: pkg.to_string(),
                version: version.to_string(),
                written: p.to_string(),
            });
        }
        // `go run pkg@v args…`: only the first positional is go's.
        if inv.is(&["run"]) {
            break;
        }
    }
    out
}

/// Whether `g` is exactly the pin of its tool for the project whose go.mod/go.work these are.
pub fn is_pinned(
    loaded: &LoadedPolicy,
    go_work: Option<&ModFile>,
    go_mod: Option<&ModFile>,
    g: &GovernedInstall,
) -> (bool, Option<super::pins::Pin>) {
    match super::pins::resolve(loaded, go_work, go_mod, &g.tool) {
        Ok(Some(pin)) => (
            pin.package == g.package && pin.version == g.version,
            Some(pin),
        ),
        _ => (false, None),
    }
}
