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
//! requested as hard requirements: the kernel refuses a ruleset with a right it does not know
//! rather than quietly dropping it, so what the audit record says was enforced is what the
//! kernel enforces.

use std::ffi::{CStr, OsStr};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use landlock::{ABI, AccessFs, AccessNet, BitFlags};

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
/// a denied path lies below it (then it is carved) or it is denied itself. Returns how many
/// The adder tells how many rules were added.
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

/// Adds the file rules of one ruleset.
struct Adder {
    ruleset: RawFd,
    /// The rights a rule on a file (not a directory) may carry.
    file_access: BitFlags<AccessFs>,
    added: usize,
    /// How many more fds may be left for the exec to close ([`Adder::leave_open`]).
    keep: u64,
    /// The directories carves listed, each once: where two carves cross the same directory
    /// (the read rule on `/` and a writable TMPDIR both above a HOME in /tmp), each entry
    /// gets one rule with the union of the rights, not one per carve.
    carved: Vec<CarvedDir>,
    /// Every rule added: its path, rights and whether it is a directory.
    #[cfg(test)]
    log: Vec<(String, u64, bool)>,
}

/// A directory a carve listed, and the entries to grant in it.
struct CarvedDir {
    fd: OwnedFd,
    /// Its real path, ending in `/`.
    base: Vec<u8>,
    entries: Entries,
}

/// The entries of one directory. Their names lie back to back (each NUL-terminated) in one
/// buffer: a carve of a crowded /tmp grants thousands, and two allocations an entry (its
/// path, its name) cost more than the listing.
#[derive(Default)]
struct Entries {
    names: Vec<u8>,
    list: Vec<CarvedEntry>,
    /// Whether `list` is in the order of the names (sorted only when a second carve lists the
    /// directory and merges its rights in).
    sorted: bool,
}

struct CarvedEntry {
    /// Where its name starts in `names`, and its length (without the NUL).
    at: usize,
    len: usize,
    is_dir: bool,
    access: BitFlags<AccessFs>,
}

impl Entries {
    fn name(&self, e: &CarvedEntry) -> &[u8] {
        &self.names[e.at..e.at + e.len]
    }

    /// The name of `e` as the C string it is stored as.
    fn c_name(&self, e: &CarvedEntry) -> &CStr {
        CStr::from_bytes_with_nul(&self.names[e.at..=e.at + e.len]).unwrap_or_default()
    }

    fn push(&mut self, name: &[u8], is_dir: bool, access: BitFlags<AccessFs>) {
        self.list.push(CarvedEntry {
            at: self.names.len(),
            len: name.len(),
            is_dir,
            access,
        });
        self.names.extend_from_slice(name);
        self.names.push(0);
        self.sorted = false;
    }

    fn sort(&mut self) {
        if !self.sorted {
            let mut list = std::mem::take(&mut self.list);
            list.sort_unstable_by(|a, b| self.name(a).cmp(self.name(b)));
            self.list = list;
            self.sorted = true;
        }
    }

    /// Adds `other`'s entries (a second listing of the same directory): the union of the
    /// rights where both have an entry.
    fn merge(&mut self, other: &Entries) {
        self.sort();
        let mut new = Vec::new();
        for e in &other.list {
            let name = other.name(e);
            match self.list.binary_search_by(|x| self.name(x).cmp(name)) {
                Ok(i) => self.list[i].access |= e.access,
                Err(_) => new.push((name, e.is_dir, e.access)),
            }
        }
        for (name, is_dir, access) in new {
            self.push(name, is_dir, access);
        }
    }
}

/// `struct landlock_path_beneath_attr` (linux/landlock.h), packed as the kernel declares it.
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

const LANDLOCK_RULE_PATH_BENEATH: nix::libc::c_int = 1;

/// A carved entry's path for messages: its directory's path and its name.
struct Joined<'a>(&'a [u8], &'a [u8]);

impl std::fmt::Debug for Joined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        OsStr::from_bytes(&[self.0, self.1].concat()).fmt(f)
    }
}

impl Adder {
    fn new(ruleset: RawFd, file_access: BitFlags<AccessFs>) -> Adder {
        let mut limit = nix::libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit(2) fills the rlimit it is given.
        let keep = match unsafe { nix::libc::getrlimit(nix::libc::RLIMIT_NOFILE, &mut limit) } {
            0 => limit.rlim_cur / 2,
            _ => 0,
        };
        Adder {
            ruleset,
            file_access,
            added: 0,
            keep,
            carved: Vec::new(),
            #[cfg(test)]
            log: Vec::new(),
        }
    }

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
        #[cfg(test)]
        self.log.push((format!("{path:?}"), access.bits(), is_dir));
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
        fd: OwnedFd,
        listable: bool,
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
        // A directory the carve opened itself is open for listing already; a rule's path is
        // an O_PATH fd, which getdents refuses.
        let listing = match listable {
            true => None,
            false => match crate::rawfs::openat(
                Some(&fd),
                c".",
                nix::libc::O_RDONLY | nix::libc::O_DIRECTORY,
            ) {
                Ok(l) => Some(l),
                Err(_) => return,
            },
        };
        let mut entries = Entries::default();
        // The entries a denied path goes through, carved once the listing is done.
        let mut descend = Entries::default();
        crate::rawfs::list_dir(listing.as_ref().unwrap_or(&fd), |name, d_type| {
            let bytes = name.to_bytes();
            if bytes == b"." || bytes == b".." {
                return;
            }
            let is_dir = match d_type {
                nix::libc::DT_LNK => return,
                nix::libc::DT_UNKNOWN => match nix::sys::stat::fstatat(
                    fd.as_fd(),
                    name,
                    nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                ) {
                    Ok(st) if st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFLNK => return,
                    Ok(st) => st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR,
                    Err(_) => return,
                },
                t => t == nix::libc::DT_DIR,
            };
            if next.contains(&bytes) {
                let denied = below.iter().any(|d| {
                    d.strip_prefix(base.as_slice())
                        .is_some_and(|rest| rest == bytes)
                });
                if is_dir && !denied {
                    descend.push(bytes, true, access);
                }
                return;
            }
            entries.push(bytes, is_dir, access);
        });
        if let Some(l) = listing {
            self.leave_open(l);
        }
        for e in &descend.list {
            let name = descend.c_name(e);
            let child_real = [base.as_slice(), name.to_bytes()].concat();
            let deeper: Vec<&[u8]> = below
                .iter()
                .copied()
                .filter(|d| is_at_or_below(d, &child_real))
                .collect();
            // Opened for listing, not following a link: one swapped in since the listing
            // fails to open (ELOOP or ENOTDIR) and is carved no further, granting nothing.
            let Ok(child) = crate::rawfs::openat(
                Some(&fd),
                name,
                nix::libc::O_RDONLY | nix::libc::O_DIRECTORY | nix::libc::O_NOFOLLOW,
            ) else {
                continue;
            };
            self.carve(child, true, &child_real, access, &deeper);
        }
        let dir = CarvedDir { fd, base, entries };
        match self.carved.iter_mut().find(|d| d.base == dir.base) {
            Some(seen) => seen.entries.merge(&dir.entries),
            None => self.carved.push(dir),
        }
    }

    /// An fd done with (a rule's, a listing's) is left open, up to half the fd limit: it is
    /// close-on-exec, so the exec that follows closes them all in the kernel, where closing
    /// each here cost a syscall a rule (a third of a carve's). Past that, each is closed.
    fn leave_open(&mut self, fd: OwnedFd) {
        if self.keep > 0 {
            self.keep -= 1;
            let _ = std::os::fd::IntoRawFd::into_raw_fd(fd);
        }
    }

    /// Adds the rules the carves planned. An entry that cannot be opened any more (removed
    /// since it was listed) gets no rule.
    fn add_carved(&mut self) -> Result<(), String> {
        let carved = std::mem::take(&mut self.carved);
        for dir in carved {
            for e in &dir.entries.list {
                let name = dir.entries.c_name(e);
                let Ok(fd) = crate::rawfs::openat(
                    Some(&dir.fd),
                    name,
                    nix::libc::O_PATH | nix::libc::O_NOFOLLOW,
                ) else {
                    continue;
                };
                self.add(&fd, e.access, e.is_dir, &Joined(&dir.base, name.to_bytes()))?;
                self.leave_open(fd);
            }
            self.leave_open(dir.fd);
        }
        Ok(())
    }
}

/// Whether the path `p` is `dir` or lies below it (both absolute, as bytes).
fn is_at_or_below(p: &[u8], dir: &[u8]) -> bool {
    p.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest[0] == b'/' || dir.ends_with(b"/"))
}

#[cfg(test)]
mod tests {
    //! The carve against the one it replaced (std's listing, `canonicalize`, each denied path
    //! resolved from its whole path), which is kept here as the reference: on a layout with a
    //! HOME reached through a link, a denied link, denied paths that exist and one that does
    //! not, files, fifos and directories, both must add the same rules.
    use super::*;
    use std::collections::BTreeMap;
    use std::ffi::CString;
    use std::os::unix::fs::symlink;
    use std::rc::Rc;

    /// An entry the reference carve grants: where to open it (its directory, its name) and
    /// what it gets.
    struct Carved {
        dir: Rc<OwnedFd>,
        name: CString,
        access: BitFlags<AccessFs>,
        is_dir: bool,
    }

    /// The ruleset the shim built before, rule for rule (the code as it was, with its
    /// listing by nix's `Dir`, std's `canonicalize` and `real_path` for every rule).
    fn reference(
        ruleset: RawFd,
        file_access: BitFlags<AccessFs>,
        rules: Vec<Rule>,
        denies: &[PathBuf],
    ) -> Adder {
        let mut adder = Adder::new(ruleset, file_access);
        let mut carved = BTreeMap::new();
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
                Err(_) => continue,
            };
            let is_dir = nix::sys::stat::fstat(fd.as_fd())
                .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR);
            if !denies.is_empty() {
                let real = crate::rawfs::real_path(&fd, &r.path)
                    .unwrap_or_else(|| r.path.canonicalize().unwrap_or_else(|_| r.path.clone()));
                let below: Vec<&Path> = denies
                    .iter()
                    .map(PathBuf::as_path)
                    .filter(|d| d.starts_with(&real))
                    .collect();
                if below.iter().any(|d| *d == real) {
                    continue;
                }
                if is_dir && !below.is_empty() {
                    let below: Vec<&[u8]> =
                        below.iter().map(|d| d.as_os_str().as_bytes()).collect();
                    reference_carve(
                        &mut carved,
                        &Rc::new(fd),
                        real.as_os_str().as_bytes(),
                        r.access,
                        &below,
                    );
                    continue;
                }
            }
            adder.add(&fd, r.access, is_dir, &r.path).unwrap();
        }
        for (path, c) in carved {
            let flags = nix::libc::O_PATH | nix::libc::O_NOFOLLOW;
            let Ok(fd) = crate::rawfs::openat(Some(&c.dir), &c.name, flags) else {
                continue;
            };
            adder
                .add(&fd, c.access, c.is_dir, &OsStr::from_bytes(&path))
                .unwrap();
        }
        adder
    }

    fn reference_carve(
        carved: &mut BTreeMap<Vec<u8>, Carved>,
        fd: &Rc<OwnedFd>,
        real: &[u8],
        access: BitFlags<AccessFs>,
        below: &[&[u8]],
    ) {
        let base = if real.ends_with(b"/") {
            real.to_vec()
        } else {
            [real, b"/"].concat()
        };
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
                reference_carve(carved, &Rc::new(child), &child_real, access, &deeper);
                continue;
            }
            let entry = carved.entry(child_real).or_insert_with(|| Carved {
                dir: Rc::clone(fd),
                name: name.to_owned(),
                access: BitFlags::empty(),
                is_dir,
            });
            entry.access |= access;
        }
    }

    #[test]
    fn the_carve_adds_the_same_rules_as_the_one_it_replaced() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let real_home = root.join("users/u");
        let mk = |p: &str| std::fs::create_dir_all(real_home.join(p)).unwrap();
        let touch = |p: &str| std::fs::write(real_home.join(p), "x").unwrap();
        for d in [
            ".ssh/keys",
            ".config/other",
            ".config/go",
            "dotfiles",
            "project/sub",
            ".cache",
        ] {
            mk(d);
        }
        for f in [
            ".ssh/id",
            ".netrc",
            "dotfiles/gitconfig",
            "dotfiles/vimrc",
            "notes",
            ".config/other/x",
        ] {
            touch(f);
        }
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::fs::create_dir_all(root.join("other")).unwrap();
        nix::unistd::mkfifo(&real_home.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        // HOME as the user sees it: a link to the real one.
        let home = root.join("home");
        symlink(&real_home, &home).unwrap();
        symlink("dotfiles/gitconfig", real_home.join(".gitconfig")).unwrap();
        symlink(root.join("other"), real_home.join(".config/linked")).unwrap();
        symlink("nowhere", real_home.join(".dangling")).unwrap();

        // Denied: an existing dir, an existing file, a link (its target is what is denied),
        // a path that does not exist, one in a dir that does not exist, a linked dir, a dangling link.
        let denied = [
            ".ssh",
            ".netrc",
            ".gitconfig",
            ".config/gopls",
            ".aws/credentials",
            ".config/linked",
            ".dangling",
            ".ssh/keys",
        ];
        let mut dirs = crate::confine::DenyDirs::default();
        let denies: Vec<PathBuf> = denied
            .iter()
            .map(|d| {
                let p = home.join(d);
                let fast = dirs.resolve(&p);
                assert_eq!(fast, crate::confine::resolve_existing_prefix(&p), "{d}");
                fast
            })
            .collect();
        assert!(
            denies.contains(&real_home.join("dotfiles/gitconfig")),
            "{denies:?}"
        );
        assert!(denies.contains(&root.join("other")), "{denies:?}");
        assert!(
            denies.contains(&real_home.join(".config/gopls")),
            "{denies:?}"
        );

        let abi = ABI::V1;
        let read = AccessFs::ReadFile | AccessFs::ReadDir;
        let write = AccessFs::from_write(abi);
        let rules = || {
            let rule = |path: PathBuf, access, go_creates| Rule {
                path,
                access,
                go_creates,
            };
            vec![
                // The read rule on everything (the tempdir stands in for `/`).
                rule(root.clone(), read, false),
                rule(home.clone(), write | read, false),
                rule(home.join("project"), write | read, false),
                rule(root.join("tmp"), write | read, false),
                rule(home.join(".cache/go-build"), write | read, true),
                rule(home.join(".ssh"), write | read, false),
                rule(home.join(".config/go"), write | read, false),
                rule(home.join("missing"), write | read, false),
                rule(PathBuf::from("/dev/null"), write | read, false),
            ]
        };
        let ruleset = create_ruleset(write | read, false).unwrap();
        let fd = ruleset.as_raw_fd();
        let file_access = AccessFs::from_file(abi);
        let now = add_file_rules(fd, file_access, rules(), &denies).unwrap();
        let before = reference(fd, file_access, rules(), &denies);
        // The same rules; the order they are added in does not matter to the kernel.
        let (mut now_sorted, mut before_sorted) = (now.log.clone(), before.log.clone());
        now_sorted.sort();
        before_sorted.sort();
        assert_eq!(now_sorted, before_sorted);
        assert_eq!(now.added, now.log.len());
        // And what it adds is the carve: the denied paths and the dirs above them get no rule,
        // their siblings do.
        let paths: Vec<&str> = now.log.iter().map(|(p, _, _)| p.as_str()).collect();
        let named = |p: &Path| format!("{:?}", p.as_os_str());
        for gone in [
            root.clone(),
            real_home.clone(),
            real_home.join(".ssh"),
            real_home.join(".netrc"),
            real_home.join("dotfiles/gitconfig"),
            root.join("other"),
        ] {
            assert!(
                !paths.contains(&named(&gone).as_str()),
                "{gone:?} in {paths:?}"
            );
        }
        for kept in [
            root.join("tmp"),
            real_home.join("notes"),
            real_home.join("fifo"),
            real_home.join("dotfiles/vimrc"),
            real_home.join(".config/other"),
            real_home.join("project"),
            real_home.join(".cache"),
        ] {
            assert!(
                paths.contains(&named(&kept).as_str()),
                "{kept:?} not in {paths:?}"
            );
        }
    }
}
