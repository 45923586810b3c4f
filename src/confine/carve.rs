//! The carve: granting a directory's rights on each of its entries but the denied ones, level
//! by level down to each denied path (Landlock rules only ever grant, so this is how a path
//! is left out of a rule above it), and adding the path rules to the ruleset.

use std::ffi::{CStr, OsStr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use landlock::{AccessFs, BitFlags};

/// Adds the file rules of one ruleset.
pub(super) struct Adder {
    ruleset: RawFd,
    /// The rights a rule on a file (not a directory) may carry.
    file_access: BitFlags<AccessFs>,
    pub(super) added: usize,
    /// How many more fds may be left for the exec to close ([`Adder::leave_open`]).
    keep: u64,
    /// The directories carves listed, each once: where two carves cross the same directory
    /// (the read rule on `/` and a writable TMPDIR both above a HOME in /tmp), each entry
    /// gets one rule with the union of the rights, not one per carve.
    carved: Vec<CarvedDir>,
    /// Every rule added: its path, rights and whether it is a directory.
    #[cfg(test)]
    pub(super) log: Vec<(String, u64, bool)>,
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
    pub(super) fn new(ruleset: RawFd, file_access: BitFlags<AccessFs>) -> Adder {
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

    pub(super) fn add(
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
    pub(super) fn carve(
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
    pub(super) fn leave_open(&mut self, fd: OwnedFd) {
        if self.keep > 0 {
            self.keep -= 1;
            let _ = std::os::fd::IntoRawFd::into_raw_fd(fd);
        }
    }

    /// Adds the rules the carves planned. An entry that cannot be opened any more (removed
    /// since it was listed) gets no rule.
    pub(super) fn add_carved(&mut self) -> Result<(), String> {
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
pub(super) fn is_at_or_below(p: &[u8], dir: &[u8]) -> bool {
    p.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest[0] == b'/' || dir.ends_with(b"/"))
}
