//! Building the Landlock ruleset of a [`Prepared`] confinement and restricting this process.
//!
//! Landlock is an allow-list: once a kind of access is *handled*, only paths with a rule for
//! it (a rule covers the path and everything below it) allow it. So:
//! - writes are handled, and the writable dirs get rules;
//! - with `deny_read`, reads are handled, `/` gets a read rule, and a denied path is carved
//!   out of every rule above it by granting that rule on each of its siblings instead, level
//!   by level down to the denied path (see `super::carve`);
//! - with `execute`, execution is handled and the listed programs and dirs get rules;
//! - with `connect`, TCP connects are handled and the listed ports get rules.
//!
//! The access sets are those of the ABI the confinement was judged for ([`Prepared::abi`]),
//! requested as hard requirements: the kernel refuses a ruleset with a right it does not know
//! rather than quietly dropping it, so what the audit record says was enforced is what the
//! kernel enforces.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use landlock::{ABI, AccessFs, AccessNet, BitFlags};

use super::carve::Adder;
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
    // A go started inside a tree this confinement already holds (gopls's `go list`, a program
    // or a go:generate line that runs go) cannot list the directories the outer layer carved,
    // so it could not carve them again: its read layer would grant nothing and the toolchain
    // would not even start. Where the kernel already refuses every denied path, the read
    // layer is in force and only the other rights are layered on again.
    let reads_denied =
        p.enforced.contains(&Feature::DenyRead) && already_denied(&p.confinement.deny_read);
    let on = |f: Feature| p.enforced.contains(&f) && !(f == Feature::DenyRead && reads_denied);
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

    let ruleset = create_ruleset(handled, on(Feature::Connect))?;
    let opened = add_file_rules(
        ruleset.as_raw_fd(),
        AccessFs::from_file(abi),
        rules,
        &denies,
    )?
    .added;
    if let (true, Some(ports)) = (on(Feature::Connect), &c.connect) {
        for &port in ports {
            add_port_rule(ruleset.as_raw_fd(), port)
                .map_err(|e| format!("cannot add the rule for TCP port {port}: {e}"))?;
        }
    }
    restrict_self(&ruleset)?;
    // Close-on-exec, as every Landlock ruleset fd: the exec closes it.
    let _ = std::os::fd::IntoRawFd::into_raw_fd(ruleset);
    tracing::debug!(rules = opened, abi = p.abi, "confined");
    Ok(())
}

/// Adds the file rules to the ruleset: each rule's path, opened, gets its rule, except where
/// a denied path lies below it (then it is carved) or it is denied itself. The adder returned
/// tells how many rules were added.
fn add_file_rules(
    ruleset: RawFd,
    file_access: BitFlags<AccessFs>,
    rules: Vec<Rule>,
    denies: &[PathBuf],
) -> Result<Adder, String> {
    let mut adder = Adder::new(ruleset, file_access);
    for r in rules {
        let Some(target) = Target::open(&r, !denies.is_empty()) else {
            continue;
        };
        if let Some(real) = &target.real {
            let below: Vec<&Path> = denies
                .iter()
                .map(PathBuf::as_path)
                .filter(|d| d.starts_with(real))
                .collect();
            if below.iter().any(|d| d == real) {
                continue;
            }
            if target.is_dir && !below.is_empty() {
                let below: Vec<&[u8]> = below.iter().map(|d| d.as_os_str().as_bytes()).collect();
                adder.carve(
                    target.fd,
                    false,
                    real.as_os_str().as_bytes(),
                    r.access,
                    &below,
                );
                continue;
            }
        }
        adder.add(&target.fd, r.access, target.is_dir, &r.path)?;
        adder.leave_open(target.fd);
    }
    adder.add_carved()?;
    Ok(adder)
}

/// A rule's path, opened: the fd the rule is added on, whether it is a directory and, where
/// the carve needs it, its real path (Landlock attaches a rule to the file reached, so the
/// carve compares where it lands).
struct Target {
    fd: OwnedFd,
    is_dir: bool,
    real: Option<PathBuf>,
}

impl Target {
    /// `None` where the path does not exist (nothing can be written there, so no rule), after
    /// creating it as go would where go creates it.
    fn open(r: &Rule, want_real: bool) -> Option<Target> {
        let fd = match crate::rawfs::open_path(&r.path) {
            Ok(fd) => fd,
            Err(_) if r.go_creates => {
                let _ = std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o777)
                    .create(&r.path);
                crate::rawfs::open_path(&r.path).ok()?
            }
            Err(_) => return None,
        };
        // A directory's real path comes from getcwd after an fchdir, which succeeds only on a
        // directory: that answers is_dir too, without an fstat.
        if want_real && let Some(real) = crate::rawfs::dir_path(&fd) {
            return Some(Target {
                fd,
                is_dir: true,
                real: Some(real),
            });
        }
        let is_dir = nix::sys::stat::fstat(fd.as_fd())
            .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR);
        let real = want_real.then(|| {
            crate::rawfs::real_path_not_by_cwd(&fd, &r.path).unwrap_or_else(|| {
                r.path
                    .canonicalize()
                    .unwrap_or_else(|_| r.path.to_path_buf())
            })
        });
        Some(Target { fd, is_dir, real })
    }
}

/// `struct landlock_ruleset_attr` (linux/landlock.h) up to `handled_access_net` (ABI 4): a
/// kernel of ABI 1-3 takes the larger struct as long as the fields it lacks are zero.
#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
}

/// `struct landlock_net_port_attr` (linux/landlock.h).
#[repr(C)]
struct NetPortAttr {
    allowed_access: u64,
    port: u64,
}

const LANDLOCK_RULE_NET_PORT: nix::libc::c_int = 2;

/// Creates the ruleset with the system call itself. The landlock crate's `Ruleset` asked the
/// kernel for its ABI again (the caller already knows it: [`Prepared::abi`]) and its
/// `try_clone` cost an `F_DUPFD_CLOEXEC` and an `F_SETFD`; the rights are the same bits, and
/// the kernel refuses (EINVAL) any it does not know, so nothing asked for is quietly dropped.
fn create_ruleset(fs: BitFlags<AccessFs>, connect: bool) -> Result<OwnedFd, String> {
    let attr = RulesetAttr {
        handled_access_fs: fs.bits(),
        handled_access_net: if connect {
            BitFlags::<AccessNet>::from(AccessNet::ConnectTcp).bits()
        } else {
            0
        },
    };
    // SAFETY: landlock_create_ruleset(2) reads size_of::<RulesetAttr>() bytes of attr.
    let fd = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_landlock_create_ruleset,
            &raw const attr,
            std::mem::size_of::<RulesetAttr>(),
            0,
        )
    };
    if fd < 0 {
        return Err(format!(
            "cannot create the Landlock ruleset (file system access {fs:?}{}): {}",
            if connect { ", TCP connect" } else { "" },
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: a fresh fd from the kernel (close-on-exec, as every Landlock ruleset fd is),
    // owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn add_port_rule(ruleset: RawFd, port: u16) -> std::io::Result<()> {
    let attr = NetPortAttr {
        allowed_access: BitFlags::<AccessNet>::from(AccessNet::ConnectTcp).bits(),
        port: u64::from(port),
    };
    // SAFETY: landlock_add_rule(2) reads one landlock_net_port_attr, which attr is.
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_landlock_add_rule,
            ruleset,
            LANDLOCK_RULE_NET_PORT,
            &raw const attr,
            0,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// `no_new_privs` (which an unprivileged landlock_restrict_self requires, and which keeps a
/// set-uid program from leaving the domain), then the ruleset on this thread, the only one.
fn restrict_self(ruleset: &OwnedFd) -> Result<(), String> {
    // SAFETY: prctl(2) with PR_SET_NO_NEW_PRIVS takes plain integers.
    if unsafe { nix::libc::prctl(nix::libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(format!(
            "cannot restrict the process: cannot set no_new_privs: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: landlock_restrict_self(2) of a ruleset fd we hold, no flags.
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_landlock_restrict_self,
            ruleset.as_raw_fd(),
            0,
        )
    };
    if r != 0 {
        return Err(format!(
            "cannot restrict the process: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Whether the kernel already refuses this process every path in `denies`: each one the file
/// permissions let it read (access(2), which Landlock does not judge) fails to open with
/// EACCES, and each one that does not exist lies in a directory that fails to open so (a
/// carved directory: nothing created in it later is granted either). Anything else, such as
/// a denied path readable right now or one the permissions alone keep closed, is no proof,
/// and the caller carves as usual.
fn already_denied(denies: &[PathBuf]) -> bool {
    use nix::errno::Errno;
    use nix::fcntl::{OFlag, open};
    use nix::sys::stat::Mode;
    use nix::unistd::{AccessFlags, access};
    let refused = |path: &Path, flags: OFlag| {
        access(path, AccessFlags::R_OK).is_ok()
            && matches!(
                open(
                    path,
                    flags | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
                    Mode::empty()
                ),
                Err(Errno::EACCES)
            )
    };
    !denies.is_empty()
        && denies.iter().all(|d| match std::fs::symlink_metadata(d) {
            Ok(m) if m.is_dir() => refused(d, OFlag::O_RDONLY | OFlag::O_DIRECTORY),
            Ok(_) => refused(d, OFlag::O_RDONLY),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => d
                .parent()
                .is_some_and(|dir| refused(dir, OFlag::O_RDONLY | OFlag::O_DIRECTORY)),
            Err(_) => false,
        })
}

#[cfg(test)]
mod tests;
