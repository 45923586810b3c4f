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

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use landlock::{
    ABI, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus,
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
    // The file rules go in through the ruleset's fd directly (a dup: the same ruleset): the
    // crate's add_rule fstats every fd to learn whether it is a directory, and its PathFd
    // opens by the whole path with musl's fcntl after it, 5 syscalls per rule where a carve
    // adds hundreds; here a sibling costs openat relative to its directory, the add, a close.
    let dup: Option<std::os::fd::OwnedFd> = created
        .try_clone()
        .map_err(|e| format!("cannot use the Landlock ruleset: {e}"))?
        .into();
    let ruleset_fd =
        dup.ok_or_else(|| "the kernel gave no Landlock ruleset to add rules to".to_string())?;
    let mut adder = Adder {
        ruleset: ruleset_fd.as_raw_fd(),
        file_access: AccessFs::from_file(abi),
        added: 0,
        carved: BTreeMap::new(),
    };
    for r in rules {
        let fd = match crate::rawfs::open_path(&r.path) {
            Ok(fd) => fd,
            Err(_) if r.go_creates => {
                let _ = std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o777)
                    .create(&r.path);
                match crate::rawfs::open_path(&r.path) {
                    Ok(fd) => fd,
                    Err(_) => continue,
                }
            }
            // A path that does not exist gets no rule: nothing can be written there.
            Err(_) => continue,
        };
        let is_dir = nix::sys::stat::fstat(fd.as_fd())
            .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR);
        if !denies.is_empty() {
            // Landlock attaches a rule to the file reached: the carve compares where it lands.
            let real = crate::rawfs::real_path(&fd, &r.path).unwrap_or_else(|| real(&r.path));
            let below: Vec<&Path> = denies
                .iter()
                .map(PathBuf::as_path)
                .filter(|d| d.starts_with(&real))
                .collect();
            if below.iter().any(|d| *d == real) {
                continue;
            }
            if is_dir && !below.is_empty() {
                let below: Vec<&[u8]> = below.iter().map(|d| d.as_os_str().as_bytes()).collect();
                adder.carve(&Rc::new(fd), real.as_os_str().as_bytes(), r.access, &below);
                continue;
            }
        }
        adder.add(&fd, r.access, is_dir, &r.path)?;
    }
    adder.add_carved()?;
    let opened = adder.added;
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

/// Adds the file rules of one ruleset.
struct Adder {
    ruleset: RawFd,
    /// The rights a rule on a file (not a directory) may carry.
    file_access: BitFlags<AccessFs>,
    added: usize,
    /// The entries carves grant, by real path, with the union of the rights each carve gives
    /// them: where two carves cross the same directory (the read rule on `/` and a writable
    /// TMPDIR both above a HOME in /tmp), each entry gets one rule, not one per carve.
    carved: BTreeMap<Vec<u8>, Carved>,
}

/// An entry a carve grants: where to open it (its directory, its name) and what it gets.
struct Carved {
    dir: Rc<OwnedFd>,
    name: CString,
    access: BitFlags<AccessFs>,
    is_dir: bool,
}

/// `struct landlock_path_beneath_attr` (linux/landlock.h), packed as the kernel declares it.
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

const LANDLOCK_RULE_PATH_BENEATH: nix::libc::c_int = 1;

impl Adder {
    fn add(
        &mut self,
        fd: &OwnedFd,
        access: BitFlags<AccessFs>,
        is_dir: bool,
        path: &dyn std::fmt::Debug,
    ) -> Result<(), String> {
        let access = if is_dir {
            access
        } else {
            access & self.file_access
        };
        if access.is_empty() {
            return Ok(());
        }
        let attr = PathBeneathAttr {
            allowed_access: access.bits(),
            parent_fd: fd.as_raw_fd(),
        };
        // SAFETY: landlock_add_rule(2) reads one landlock_path_beneath_attr, which attr is.
        let r = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_landlock_add_rule,
                self.ruleset,
                LANDLOCK_RULE_PATH_BENEATH,
                &raw const attr,
                0,
            )
        };
        if r != 0 {
            return Err(format!(
                "cannot add the rule for {path:?}: {}",
                std::io::Error::last_os_error()
            ));
        }
        self.added += 1;
        Ok(())
    }

    /// Grants `access` on the directory `dir` (open at `fd`, really at `real`), except on the
    /// denied paths below it: `dir` itself gets no rule and each of its entries is granted
    /// instead (recursively along each denied path), so the denied entry is the only one left
    /// out.
    ///
    /// The cost, documented in policies/README.md: the directories on the way down (e.g. `/`,
    /// `/home`, `~`) can no longer be listed or have entries created in them, and entries
    /// created in them after go starts are not covered; symbolic links among the siblings get
    /// no rule (Landlock judges the file a link leads to, under that file's own place), and an
    /// entry is opened without following links, so one swapped for a link meanwhile grants
    /// nothing.
    fn carve(
        &mut self,
        fd: &Rc<OwnedFd>,
        real: &[u8],
        access: BitFlags<AccessFs>,
        below: &[&[u8]],
    ) {
        // Paths as bytes: a carve of a crowded /tmp compares thousands of them, and a Path
        // compares component by component.
        let base = if real.ends_with(b"/") {
            real.to_vec()
        } else {
            [real, b"/"].concat()
        };
        // The entry of this directory each denied path goes through.
        let next: Vec<&[u8]> = below
            .iter()
            .filter_map(|d| d.strip_prefix(base.as_slice()))
            .map(|rest| rest.split(|&b| b == b'/').next().unwrap_or(rest))
            .collect();
        let Ok(listing) =
            crate::rawfs::openat(Some(fd), c".", nix::libc::O_RDONLY | nix::libc::O_DIRECTORY)
        else {
            return;
        };
        let Ok(mut dir) = nix::dir::Dir::from_fd(listing) else {
            return;
        };
        for e in dir.iter() {
            let Ok(e) = e else { continue };
            let name = e.file_name();
            let bytes = name.to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            let is_dir = match e.file_type() {
                Some(nix::dir::Type::Symlink) => continue,
                Some(t) => t == nix::dir::Type::Directory,
                None => match nix::sys::stat::fstatat(
                    fd.as_fd(),
                    name,
                    nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                ) {
                    Ok(st) if st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFLNK => continue,
                    Ok(st) => st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR,
                    Err(_) => continue,
                },
            };
            let child_real = [base.as_slice(), bytes].concat();
            if next.contains(&bytes) {
                let deeper: Vec<&[u8]> = below
                    .iter()
                    .copied()
                    .filter(|d| is_at_or_below(d, &child_real))
                    .collect();
                if !is_dir || deeper.contains(&child_real.as_slice()) {
                    continue;
                }
                let Ok(child) =
                    crate::rawfs::openat(Some(fd), name, nix::libc::O_PATH | nix::libc::O_NOFOLLOW)
                else {
                    continue;
                };
                self.carve(&Rc::new(child), &child_real, access, &deeper);
                continue;
            }
            let entry = self.carved.entry(child_real).or_insert_with(|| Carved {
                dir: Rc::clone(fd),
                name: name.to_owned(),
                access: BitFlags::empty(),
                is_dir,
            });
            entry.access |= access;
        }
    }

    /// Adds the rules the carves planned. An entry that cannot be opened any more (removed
    /// since it was listed) gets no rule.
    ///
    /// Each entry's fd is left open, up to half the fd limit: it is close-on-exec, so the exec
    /// that follows closes them all in the kernel, where closing each here cost a syscall a
    /// rule (a third of a carve's). Past that, each is closed after its rule.
    fn add_carved(&mut self) -> Result<(), String> {
        let carved = std::mem::take(&mut self.carved);
        let mut limit = nix::libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit(2) fills the rlimit it is given.
        let mut keep = match unsafe { nix::libc::getrlimit(nix::libc::RLIMIT_NOFILE, &mut limit) } {
            0 => limit.rlim_cur / 2,
            _ => 0,
        };
        for (path, c) in carved {
            let Ok(fd) = crate::rawfs::openat(
                Some(&c.dir),
                &c.name,
                nix::libc::O_PATH | nix::libc::O_NOFOLLOW,
            ) else {
                continue;
            };
            self.add(&fd, c.access, c.is_dir, &OsStr::from_bytes(&path))?;
            if keep > 0 {
                keep -= 1;
                // Not closed: the exec does it (close-on-exec), as above.
                let _ = std::os::fd::IntoRawFd::into_raw_fd(fd);
            }
        }
        Ok(())
    }
}

/// Whether the path `p` is `dir` or lies below it (both absolute, as bytes).
fn is_at_or_below(p: &[u8], dir: &[u8]) -> bool {
    p.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest[0] == b'/' || dir.ends_with(b"/"))
}
