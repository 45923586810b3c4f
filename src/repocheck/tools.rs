//! `tool.unpinned`: a tool the policy governs (gopls, staticcheck, golangci-lint, dlv, the
//! policy's `[tools]`) that the repository's build files run, while neither the module around
//! the file nor the policy pins a version of it. Such a run takes whatever happens to be
//! installed on the machine, which is what project-pinned tools (docs/tools.md) exist to stop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{CommandUse, Sink};
use crate::policy::LoadedPolicy;
use crate::policy::tools::pins::{ProjectTools, project_tools};

pub const TOOL_UNPINNED: &str = "tool.unpinned";

/// Judges every command word that names a governed tool. `modules` are the repository's module
/// dirs: a command is judged by the pins of the module its file lies in (the nearest one), or
/// the repository root's.
pub fn check(sink: &mut Sink<'_>, root: &Path, modules: &[PathBuf], commands: &[CommandUse]) {
    if !sink.on(TOOL_UNPINNED) {
        return;
    }
    let policy: &LoadedPolicy = sink.policy;
    let governed = crate::policy::tools::governed(policy);
    let mut pins: BTreeMap<PathBuf, Result<ProjectTools, String>> = BTreeMap::new();
    for c in commands {
        let name = c.word.rsplit('/').next().unwrap_or(&c.word);
        if !governed.iter().any(|g| g == name) {
            continue;
        }
        let module = modules
            .iter()
            .filter(|m| c.at.file.starts_with(m))
            .max_by_key(|m| m.components().count())
            .unwrap_or(&root.to_path_buf())
            .clone();
        let tools = pins
            .entry(module.clone())
            .or_insert_with(|| project_tools(&module, policy).map_err(|e| e.to_string()));
        let message = match tools {
            Ok(t) if !t.is_unpinned(name) => continue,
            Ok(_) => {
                let pkg = crate::tools::BUILTIN
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("PACKAGE", |(_, p)| p);
                format!(
                    "`{}` ({}) runs {name}, a tool the policy governs, and no version of it is \
                     pinned for {} (no go.mod `tool` directive, no tools.go import, no [tools] \
                     pin in the policy): each machine runs whatever {name} it has installed; \
                     fix: pin it in the module (`go get -tool {pkg}@VERSION`, go1.24) and run \
                     it as `go tool {name}` or through the {name} shim",
                    shown(c),
                    c.at,
                    module.display()
                )
            }
            Err(e) => format!(
                "`{}` ({}) runs {name}, a tool the policy governs, and the pins of {} cannot \
                 be read: {e}",
                shown(c),
                c.at,
                module.display()
            ),
        };
        sink.push(TOOL_UNPINNED, Some(c.at.clone()), message);
    }
}

/// The command as written, shortened to its first words.
fn shown(c: &CommandUse) -> String {
    let mut words = vec![c.word.as_str()];
    words.extend(c.args.iter().take(3).map(String::as_str));
    let mut s = words.join(" ");
    if c.args.len() > 3 {
        s.push_str(" …");
    }
    s
}
