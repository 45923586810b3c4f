//! Building the Landlock ruleset of a [`Prepared`] confinement and restricting this process.
//!
//! Landlock is an allow-list: once a kind of access is *handled*, only paths with a rule for
//! it (a rule covers the path and everything below it) allow it. So:
//! - writes are handled, and the writable dirs get rules;
//! - with `deny_read`, reads are handled, `/` gets a read rule, and a denied path is carved
//!   out of every rule above it by granting that rule on each of its siblings instead, level
//!   by level down to the denied path (see [`carve`]);
//! - with `execute`, execution is handled and the listed programs and dirs get rules;
//! - with `connect`, TCP connects are handled and the listed ports get rules.
//!
//! The access sets are those of the ABI the confinement was judged for ([`Prepared::abi`]),
//! requested as hard requirements: the crate then fails rather than quietly dropping a right,
//! so what the audit record says was enforced is what the kernel enforces.

use std::os::fd::AsFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
};

use super::{Feature, Prepared};

/// One rule before it is opened: a path, the rights it grants, and whether it is a directory
/// (a rule on a file may carry only the rights that apply to files).
struct Rule {
    path: PathBuf,
    access: BitFlags<AccessFs>,
    /// A dir go creates when missing (GOCACHE, GOMODCACHE, GOBIN): a rule needs the dir to
    /// exist, so the shim makes it as go would (one it cannot create stays unruled, hence
    /// unwritable).
    go_creates: bool,
}

pub(super) fn apply(p: &Prepared) -> Result<(), String> {
    let abi = ABI::from(p.abi);
    let c = &p.confinement;
    let on = |f: Feature| p.enforced.contains(&f);
    // ABI 3+ includes Truncate, 5+ IoctlDev: the write rights of the ABI judged for.
    let write_set = AccessFs::from_write(abi);
    let read_set = AccessFs::ReadFile | AccessFs::ReadDir;
    let mut handled = write_set;
    if on(Feature::DenyRead) {
        handled |= read_set;
    }
    if on(Feature::Execute) {
        handled |= AccessFs::Execute;
    }

    let mut rules: Vec<Rule> = Vec::new();
    if on(Feature::DenyRead) {
        rules.push(Rule {
            path: PathBuf::from("/"),
            access: read_set,
            go_creates: false,
        });
    }
    for g in &c.write {
        rules.push(Rule {
            path: g.path.clone(),
            access: (write_set | read_set) & handled,
            go_creates: g.go_creates,
        });
    }
    if let (true, Some(list)) = (on(Feature::Execute), &c.execute) {
        for g in list {
            rules.push(Rule {
                path: g.path.clone(),
                access: (read_set | AccessFs::Execute) & handled,
                go_creates: false,
            });
        }
    }
    let denies: Vec<PathBuf> = if on(Feature::DenyRead) {
        c.deny_read.clone()
    } else {
        Vec::new()
    };

    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(handled)
        .map_err(|e| format!("cannot handle file system access {handled:?}: {e}"))?;
    if on(Feature::Connect) {
        ruleset = ruleset
            .handle_access(AccessNet::ConnectTcp)
            .map_err(|e| format!("cannot handle TCP connect: {e}"))?;
    }
    let mut created = ruleset
        .create()
        .map_err(|e| format!("cannot create the Landlock ruleset: {e}"))?;
    let mut opened = 0usize;
    for r in rules {
        let mut out = Vec::new();
        if denies.is_empty() {
            // Nothing to carve: no need to resolve the path (PathFd follows links itself).
            out.push((r.path.clone(), r.access, None));
        } else {
            carve(&real(&r.path), r.access, &denies, &mut out);
        }
        for (path, access, is_dir) in out {
            let fd = match PathFd::new(&path) {
                Ok(fd) => fd,
                Err(_) if r.go_creates => {
                    let _ = std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o777)
                        .create(&path);
                    match PathFd::new(&path) {
                        Ok(fd) => fd,
                        Err(_) => continue,
                    }
                }
                // A path that does not exist gets no rule: nothing can be written there.
                Err(_) => continue,
            };
            let is_dir = is_dir.unwrap_or_else(|| {
                nix::sys::stat::fstat(fd.as_fd())
                    .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR)
            });
            let access = if is_dir {
                access
            } else {
                access & AccessFs::from_file(abi)
            };
            if access.is_empty() {
                continue;
            }
            created = created
                .add_rule(PathBeneath::new(fd, access))
                .map_err(|e| format!("cannot add the rule for {}: {e}", path.display()))?;
            opened += 1;
        }
    }
    if let (true, Some(ports)) = (on(Feature::Connect), &c.connect) {
        for &port in ports {
            created = created
                .add_rule(NetPort::new(port, AccessNet::ConnectTcp))
                .map_err(|e| format!("cannot add the rule for TCP port {port}: {e}"))?;
        }
    }
    let status = created
        .restrict_self()
        .map_err(|e| format!("cannot restrict the process: {e}"))?;
    if status.ruleset != RulesetStatus::FullyEnforced || !status.no_new_privs {
        return Err(format!(
            "the kernel did not enforce the whole ruleset ({:?}, no_new_privs {})",
            status.ruleset, status.no_new_privs
        ));
    }
    tracing::debug!(rules = opened, abi = p.abi, "confined");
    Ok(())
}

/// The path a rule lands on: Landlock attaches rules to the file reached.
fn real(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// Grants `access` on `path`, except on the denied paths at or below it: where a denied path
/// lies below, `path` itself gets no rule and each of its entries is granted instead
/// (recursively along the denied path), so the denied entry is the only one left out.
///
/// The cost, documented in policies/README.md: the directories on the way down (e.g. `/`,
/// `/home`, `~`) can no longer be listed or have entries created in them, and entries created
/// in them after go starts are not covered; symbolic links among the siblings get no rule
/// (Landlock judges the file a link leads to, under that file's own place).
fn carve(
    path: &Path,
    access: BitFlags<AccessFs>,
    denies: &[PathBuf],
    out: &mut Vec<(PathBuf, BitFlags<AccessFs>, Option<bool>)>,
) {
    let below: Vec<PathBuf> = denies
        .iter()
        .filter(|d| d.starts_with(path))
        .cloned()
        .collect();
    if below.is_empty() {
        out.push((path.to_path_buf(), access, None));
        return;
    }
    if below.iter().any(|d| d == path) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_symlink() {
            continue;
        }
        let child = e.path();
        if below.iter().any(|d| d.starts_with(&child)) {
            carve(&child, access, &below, out);
        } else {
            out.push((child, access, Some(ft.is_dir())));
        }
    }
}
