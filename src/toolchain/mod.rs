//! Installed Go toolchains: found by reading `$GOROOT/VERSION`, never by running go.
//!
//! Each call lists a handful of known directories (one `readdir` each) and reads one small
//! file per candidate, so the cost grows with the number of installed toolchains, never with
//! the size of the trees they live in or with history.

use std::ffi::{CString, OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::resolve::{Request, VersionSpec};
use crate::version::GoVersion;

mod index;
use index::{Entry, Index, Stamp};

/// One installed toolchain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    pub version: GoVersion,
    /// The toolchain name from `$GOROOT/VERSION`, e.g. `go1.22.12`.
    pub name: String,
    pub goroot: PathBuf,
    pub found_in: FoundIn,
}

impl Toolchain {
    pub fn go_binary(&self, tool: &str) -> PathBuf {
        self.goroot.join("bin").join(tool)
    }
}

/// Where a toolchain was found, in order of preference when two hold the same version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundIn {
    /// gowarden's own toolchains dir (`gowarden toolchain install`).
    Gowarden,
    /// A `[toolchains] search` entry of the policy.
    Policy,
    /// Go's module cache (`golang.org/toolchain@v0.0.1-goX.Y.Z.OS-ARCH`).
    ModuleCache,
    /// goenv, asdf, mise, gvm or `~/sdk`.
    VersionManager(&'static str),
    /// A `go` on PATH.
    Path(PathBuf),
}

impl fmt::Display for FoundIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FoundIn::Gowarden => f.write_str("gowarden toolchains dir"),
            FoundIn::Policy => f.write_str("policy search path"),
            FoundIn::ModuleCache => f.write_str("Go module cache"),
            FoundIn::VersionManager(m) => write!(f, "{m}"),
            FoundIn::Path(p) => write!(f, "PATH ({})", p.display()),
        }
    }
}

/// The environment discovery reads, gathered once so tests and callers agree on it.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryEnv {
    pub home: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub path: Option<OsString>,
    pub gomodcache: Option<PathBuf>,
    pub goenv_root: Option<PathBuf>,
    pub asdf_data_dir: Option<PathBuf>,
    pub mise_data_dir: Option<PathBuf>,
    /// The file identity of the running gowarden binary, so the shim never finds itself.
    pub self_id: Option<(u64, u64)>,
    /// The name it was exec'd by (what `self_id` was read from), skipped on PATH unread.
    pub self_path: Option<PathBuf>,
}

impl DiscoveryEnv {
    /// Reads the process environment. `gomodcache` is the effective GOMODCACHE as go computes
    /// it (the caller knows about the go env file).
    pub fn from_process(gomodcache: Option<PathBuf>) -> DiscoveryEnv {
        let var = |k: &str| {
            crate::environ::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        DiscoveryEnv {
            home: crate::userdirs::home_dir(),
            data_dir: crate::userdirs::data_dir(),
            path: crate::environ::var_os(crate::envvars::PATH).map(Into::into),
            gomodcache,
            goenv_root: var(crate::envvars::GOENV_ROOT),
            asdf_data_dir: var(crate::envvars::ASDF_DATA_DIR),
            mise_data_dir: var(crate::envvars::MISE_DATA_DIR),
            self_id: self_identity(),
            self_path: exec_name(),
        }
    }
}

/// `(dev, ino)` of the running executable, looked up once per process.
pub fn self_identity() -> Option<(u64, u64)> {
    static ID: std::sync::OnceLock<Option<(u64, u64)>> = std::sync::OnceLock::new();
    *ID.get_or_init(|| {
        // The name this process was exec'd by (AT_EXECFN: relative to the working directory,
        // which no exec changes and the shim never does), where /proc/self/exe would be the
        // process's first lookup in /proc, which builds its /proc entries: 20 µs of a go
        // call, against 1 µs for the stat of a path. The name could have been replaced since
        // the exec: then the binary is not recognised as itself, and a `go` that leads back
        // to it is stopped by the depth limit instead (GOWARDEN_DEPTH).
        let m = exec_name()
            .and_then(|p| std::fs::metadata(p).ok())
            .or_else(|| std::fs::metadata("/proc/self/exe").ok())
            .or_else(|| std::fs::metadata(std::env::current_exe().ok()?).ok())?;
        Some((m.dev(), m.ino()))
    })
}

/// The file name the running program was exec'd by, from the auxiliary vector.
fn exec_name() -> Option<PathBuf> {
    // SAFETY: getauxval reads the process's auxiliary vector; AT_EXECFN, where present, is a
    // NUL-terminated string the kernel placed on the stack for the process's whole life.
    let p = unsafe { nix::libc::getauxval(nix::libc::AT_EXECFN) } as *const nix::libc::c_char;
    if p.is_null() {
        return None;
    }
    // SAFETY: as above.
    let name = unsafe { std::ffi::CStr::from_ptr(p) };
    Some(PathBuf::from(OsStr::from_bytes(name.to_bytes())))
}

/// Whether `path` is the running gowarden binary (through any link).
pub fn is_self(path: &Path, self_id: Option<(u64, u64)>) -> bool {
    match (std::fs::metadata(path), self_id) {
        (Ok(m), Some(id)) => (m.dev(), m.ino()) == id,
        _ => false,
    }
}

/// gowarden's own toolchains dir: `$XDG_DATA_HOME/gowarden/toolchains`.
pub fn gowarden_toolchains_dir(data_dir: Option<&Path>) -> Option<PathBuf> {
    data_dir.map(|d| d.join("gowarden").join("toolchains"))
}

/// Go's name for this platform, as in toolchain module versions (`linux-amd64`).
pub fn go_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        other => other,
    };
    format!("{os}-{arch}")
}

/// Where discovery may look, besides gowarden's own toolchains dir: the policy's
/// `[toolchains]` as plain data, so this Go-facts module knows nothing of the policy.
#[derive(Debug, Clone, Default)]
pub struct Search<'a> {
    /// Extra GOROOTs, directories of GOROOTs or globs of either (`~/` is the home dir).
    pub search: Vec<&'a str>,
    pub module_cache: bool,
    pub version_managers: bool,
    pub path: bool,
}

/// Every installed toolchain, newest first; for equal versions the preferred location first.
pub fn discover(policy: &Search<'_>, env: &DiscoveryEnv) -> Vec<Toolchain> {
    discover_list(policy, env, &mut Found::default())
}

/// [`discover`], reusing what the index at `index` (the caller's cache dir) recorded of each
/// directory of toolchains that has not changed since ([`index`]), and updating it. The `bin/go`
/// of a toolchain whose directory did not change is not checked again: whoever runs one checks
/// it first ([`runnable`]).
pub fn discover_indexed(
    policy: &Search<'_>,
    env: &DiscoveryEnv,
    index: Option<PathBuf>,
) -> Vec<Toolchain> {
    let mut found = Found {
        index: index.map(Index::load),
        ..Found::default()
    };
    let all = discover_list(policy, env, &mut found);
    if let Some(i) = &found.index {
        i.store();
    }
    all
}

/// Where the shim keeps its index of toolchain directories.
pub fn index_path() -> Option<PathBuf> {
    crate::userdirs::cache_dir().map(|d| d.join("gowarden").join("toolchains.index"))
}

/// Whether `t` can run as `tool`: its `bin/go` is a regular file (what makes a GOROOT a
/// toolchain, checked again here since [`discover_indexed`] trusts it while its directory is
/// unchanged) and `bin/TOOL` is not the running gowarden.
pub fn runnable(t: &Toolchain, tool: &str, self_id: Option<(u64, u64)>) -> bool {
    let Ok(go) = std::fs::metadata(t.go_binary("go")) else {
        return false;
    };
    if !go.is_file() {
        return false;
    }
    if tool == "go" {
        return self_id != Some((go.dev(), go.ino()));
    }
    !is_self(&t.go_binary(tool), self_id)
}

fn discover_list(policy: &Search<'_>, env: &DiscoveryEnv, found: &mut Found) -> Vec<Toolchain> {
    if let Some(dir) = gowarden_toolchains_dir(env.data_dir.as_deref()) {
        found.children(&dir, FoundIn::Gowarden);
    }
    for entry in &policy.search {
        let expanded = expand_home(entry, env.home.as_deref());
        if let Some((dir, matcher)) = expanded.as_deref().and_then(one_dir_pattern) {
            // Listed through the index, under the pattern's own key (what is recorded is the
            // matching entries, not the whole directory): `/usr/lib/go-*` read all of
            // /usr/lib on every call.
            let key = expanded.as_deref().unwrap_or_default().as_bytes();
            for name in found.entries_of(dir, key, names_matching(&matcher), FoundIn::Policy) {
                found.children(&dir.join(OsStr::from_bytes(&name)), FoundIn::Policy);
            }
            continue;
        }
        for path in expand_search(entry, env.home.as_deref()) {
            if !found.root(&path, FoundIn::Policy) {
                found.children(&path, FoundIn::Policy);
            }
        }
    }
    if policy.module_cache
        && let Some(cache) = &env.gomodcache
    {
        found.module_cache(cache);
    }
    if policy.version_managers {
        found.version_managers(env);
    }
    if policy.path
        && let Some(path) = &env.path
    {
        // Only absolute entries: a toolchain found through `.` or `bin` would be one the
        // checkout at hand planted. (A relative one is still what a shell runs first, and
        // drift and doctor report it.)
        for on_path in
            crate::path_lookup::all_but(path, "go", Path::new("/"), env.self_path.as_deref())
                .into_iter()
                .filter(|f| f.entry.is_absolute() && Some(f.id) != env.self_id)
        {
            if let Some(root) = crate::rawfs::canonicalize(&on_path.file)
                .ok()
                .and_then(|real| real.parent()?.parent().map(Path::to_path_buf))
            {
                found.root(&root, FoundIn::Path(on_path.entry));
            }
        }
    }
    newest_first(first_of_each_root(std::mem::take(&mut found.list)))
}

/// The toolchains found, each GOROOT once: where it was found first (discovery goes in
/// preference order). Duplicates are few (a GOROOT on PATH that a search entry lists too),
/// so they are found once, at the end, by sorting positions by path: hashing every path as
/// it was found (SipHash, fixed keys) was a third of discovery's work with 100 toolchains.
fn first_of_each_root(list: Vec<Toolchain>) -> Vec<Toolchain> {
    let mut by_root: Vec<usize> = (0..list.len()).collect();
    // Stable: among equal paths the first found comes first.
    by_root.sort_by(|&a, &b| {
        let root = |i: usize| list[i].goroot.as_os_str().as_bytes();
        root(a).cmp(root(b))
    });
    let mut keep = vec![true; list.len()];
    for w in by_root.windows(2) {
        if list[w[0]].goroot.as_os_str() == list[w[1]].goroot.as_os_str() {
            keep[w[1]] = false;
        }
    }
    list.into_iter()
        .zip(keep)
        .filter_map(|(t, k)| k.then_some(t))
        .collect()
}

/// Newest version first; equal versions keep discovery (preference) order. Positions are
/// sorted, not the toolchains: moving 200-byte values through a merge sort was most of the
/// sort's cost.
fn newest_first(list: Vec<Toolchain>) -> Vec<Toolchain> {
    let mut order: Vec<usize> = (0..list.len()).collect();
    let keys: Option<Vec<[u64; 5]>> = list.iter().map(|t| t.version.sort_key()).collect();
    match keys {
        Some(keys) => order.sort_by(|&a, &b| keys[b].cmp(&keys[a])),
        None => order.sort_by(|&a, &b| list[b].version.cmp_go(&list[a].version)),
    }
    let mut slots: Vec<Option<Toolchain>> = list.into_iter().map(Some).collect();
    order.iter().filter_map(|&i| slots[i].take()).collect()
}

/// The toolchain that satisfies `request`, among those `acceptable` says may run (the
/// version matrix). Exact and family requests take the newest match; minimum and "newest"
/// requests prefer stable releases over prereleases.
pub fn select<'a>(
    request: &Request,
    toolchains: &'a [Toolchain],
    acceptable: impl Fn(&Toolchain) -> bool,
) -> Option<&'a Toolchain> {
    let mut matching = toolchains
        .iter()
        .filter(|t| request.spec.matches(&t.version) && acceptable(t));
    let prefer_stable = match &request.spec {
        VersionSpec::AtLeast(min) => !min.is_prerelease(),
        VersionSpec::Newest => true,
        VersionSpec::Exact(_) | VersionSpec::Family(_) => false,
    };
    if !prefer_stable {
        return matching.next();
    }
    let first = matching.clone().next();
    matching.find(|t| !t.version.is_prerelease()).or(first)
}

/// Reads `$GOROOT/VERSION`'s first line (`go1.22.12`); `None` for anything that is not a
/// release or prerelease toolchain (devel builds, missing files).
pub fn read_version(goroot: &Path) -> Option<(String, GoVersion)> {
    let mut f = std::fs::File::open(goroot.join("VERSION")).ok()?;
    let mut buf = [0u8; 128];
    let n = f.read(&mut buf).ok()?;
    parse_version_file(&buf[..n])
}

/// The toolchain a VERSION file's first bytes name, as [`read_version`] reads them.
fn parse_version_file(head: &[u8]) -> Option<(String, GoVersion)> {
    let text = std::str::from_utf8(head).ok()?;
    let name = text.lines().next()?.trim();
    let v = GoVersion::parse_go(name)?;
    if v.is_lang() && v.minor.parse::<u32>().is_ok_and(|m| m >= 21) {
        return None; // a language version cannot be a toolchain's own version
    }
    Some((name.to_string(), v))
}

#[derive(Default)]
struct Found {
    list: Vec<Toolchain>,
    /// What earlier calls learned of the directories listed ([`discover_indexed`]).
    index: Option<Index>,
}

impl Found {
    /// Adds `root` if it is a GOROOT with a go binary; reports whether it was one.
    fn root(&mut self, root: &Path, found_in: FoundIn) -> bool {
        let Some((name, version)) = read_version(root) else {
            return false;
        };
        if !root.join("bin").join("go").is_file() {
            return false;
        }
        // Found again elsewhere, it is dropped at the end (first_of_each_root).
        self.list.push(Toolchain {
            version,
            name,
            goroot: root.to_path_buf(),
            found_in,
        });
        true
    }

    /// [`Found::root`] for an entry `name` of the directory `dir` (open at `fd`): the same
    /// checks, made relative to the directory, so each is a lookup of two or three
    /// components rather than a walk of the whole path (a hundred toolchains are four
    /// hundred such lookups per go call). With an index, a `VERSION` file unchanged since it
    /// was read is not read again. Returns what the entry was found to be, for the index.
    fn root_in(
        &mut self,
        dir: &Path,
        key: &[u8],
        fd: &OwnedFd,
        name: &[u8],
        found_in: FoundIn,
    ) -> Entry {
        let at = |rest: &str| CString::new([name, rest.as_bytes()].concat()).ok();
        let Some(version_file) = at("/VERSION") else {
            return Entry::NoVersion;
        };
        let mut stamp = None;
        if let Some(index) = &self.index {
            let Ok(st) =
                nix::sys::stat::fstatat(fd, version_file.as_c_str(), nix::fcntl::AtFlags::empty())
            else {
                return Entry::NoVersion;
            };
            let now = Stamp::of(&st);
            if let Some(Entry::Version { name: tc, go, .. }) = index.known(key, name, &now) {
                let (tc, go) = (tc.clone(), *go);
                let parsed = tc.as_deref().and_then(|n| parse_version_file(n.as_bytes()));
                // Only a toolchain without bin/go last time is checked again.
                let go = go || parsed.is_some() && has_go(fd, &at);
                if let (Some((tc_name, version)), true) = (parsed, go) {
                    self.push(
                        dir.join(OsStr::from_bytes(name)),
                        tc_name,
                        version,
                        found_in,
                    );
                }
                return Entry::Version {
                    stamp: now,
                    name: tc,
                    go,
                };
            }
            stamp = Some(now);
        }
        let Ok(f) = crate::rawfs::openat(Some(fd), &version_file, nix::libc::O_RDONLY) else {
            return Entry::NoVersion;
        };
        let mut buf = [0u8; 128];
        let Ok(n) = nix::unistd::read(&f, &mut buf) else {
            return Entry::NoVersion;
        };
        drop(f);
        let parsed = parse_version_file(&buf[..n]);
        let go = parsed.is_some() && has_go(fd, &at);
        let entry = Entry::Version {
            stamp: stamp.unwrap_or(Stamp {
                dev: 0,
                ino: 0,
                size: -1,
                mtime: 0,
                ctime: 0,
                uid: u32::MAX,
            }),
            name: parsed.as_ref().map(|(n, _)| n.clone()),
            go,
        };
        if let (Some((tc_name, version)), true) = (parsed, go) {
            self.push(
                dir.join(OsStr::from_bytes(name)),
                tc_name,
                version,
                found_in,
            );
        }
        entry
    }

    fn push(&mut self, root: PathBuf, name: String, version: GoVersion, found_in: FoundIn) {
        self.list.push(Toolchain {
            version,
            name,
            goroot: root,
            found_in,
        });
    }

    /// Every visible entry of `dir` that is a GOROOT. A dot-name is never a toolchain:
    /// `gowarden toolchain install` stages and removes toolchains under dot-names, so a
    /// half-done one is never found.
    fn children(&mut self, dir: &Path, found_in: FoundIn) {
        let key = dir.as_os_str().as_bytes();
        self.entries_of(dir, key, |n| !n.starts_with(b"."), found_in);
    }

    /// The entries of `dir` that `wanted` accepts, in name order, each tried as a GOROOT;
    /// returns those that were none. `key` names the listing in the index: the directory's
    /// path, or for a pattern its own text, since what is recorded is what `wanted` accepted.
    fn entries_of(
        &mut self,
        dir: &Path,
        key: &[u8],
        wanted: impl Fn(&[u8]) -> bool,
        found_in: FoundIn,
    ) -> Vec<Vec<u8>> {
        let Ok(path) = CString::new(dir.as_os_str().as_bytes()) else {
            return Vec::new();
        };
        let flags = nix::libc::O_RDONLY | nix::libc::O_DIRECTORY;
        let Ok(fd) = crate::rawfs::openat(None, &path, flags) else {
            return Vec::new();
        };
        if let Some(i) = &mut self.index {
            i.prepare(key);
        }
        let stamp = match &self.index {
            Some(_) => match nix::sys::stat::fstat(&fd) {
                Ok(st) => Some(Stamp::of(&st)),
                Err(_) => return Vec::new(),
            },
            None => None,
        };
        let listed = match (&self.index, &stamp) {
            (Some(i), Some(s)) => i.listing(key, s),
            _ => None,
        };
        let names = match listed {
            Some(names) => names.into_iter().filter(|n| wanted(n)).collect(),
            None => {
                let Some(names) = list(&fd, &wanted) else {
                    return Vec::new();
                };
                names
            }
        };
        let mut entries = Vec::with_capacity(names.len());
        for name in names {
            let e = self.root_in(dir, key, &fd, &name, found_in.clone());
            entries.push((name, e));
        }
        let none = entries
            .iter()
            .filter(|(_, e)| {
                !matches!(
                    e,
                    Entry::Version {
                        name: Some(_),
                        go: true,
                        ..
                    }
                )
            })
            .map(|(n, _)| n.clone())
            .collect();
        if let (Some(i), Some(s)) = (&mut self.index, stamp) {
            i.record(key, s, entries);
        }
        none
    }

    fn module_cache(&mut self, cache: &Path) {
        let dir = cache.join("golang.org");
        let suffix = format!(".{}", go_platform());
        let wanted =
            |n: &[u8]| n.starts_with(b"toolchain@v0.0.1-go") && n.ends_with(suffix.as_bytes());
        let key = dir.as_os_str().as_bytes();
        self.entries_of(&dir, key, wanted, FoundIn::ModuleCache);
    }

    fn version_managers(&mut self, env: &DiscoveryEnv) {
        let home = env.home.as_deref();
        let under_home = |rel: &str| home.map(|h| h.join(rel));
        let goenv = env
            .goenv_root
            .clone()
            .or_else(|| under_home(".goenv"))
            .map(|r| r.join("versions"));
        if let Some(d) = goenv {
            self.children(&d, FoundIn::VersionManager("goenv"));
        }
        let asdf = env
            .asdf_data_dir
            .clone()
            .or_else(|| under_home(".asdf"))
            .map(|r| r.join("installs").join("golang"));
        if let Some(d) = asdf {
            // asdf-golang keeps each GOROOT in a `go` folder under the version.
            for child in sorted_children(&d) {
                self.root(&child.join("go"), FoundIn::VersionManager("asdf"));
            }
        }
        let mise = env
            .mise_data_dir
            .clone()
            .or_else(|| under_home(".local/share/mise"))
            .map(|r| r.join("installs").join("go"));
        if let Some(d) = mise {
            self.children(&d, FoundIn::VersionManager("mise"));
        }
        if let Some(d) = under_home(".gvm/gos") {
            self.children(&d, FoundIn::VersionManager("gvm"));
        }
        if let Some(d) = under_home("sdk") {
            self.children(&d, FoundIn::VersionManager("~/sdk"));
        }
    }
}

/// The names of the entries of the directory open at `fd` that `wanted` accepts, in the
/// order Path sorts entries of one directory in: by their names' bytes.
fn list(fd: &OwnedFd, wanted: &impl Fn(&[u8]) -> bool) -> Option<Vec<Vec<u8>>> {
    let flags = nix::libc::O_RDONLY | nix::libc::O_DIRECTORY;
    let listing = crate::rawfs::openat(Some(fd), c".", flags).ok()?;
    let mut d = nix::dir::Dir::from_fd(listing).ok()?;
    let mut names: Vec<Vec<u8>> = d
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_bytes().to_vec())
        .filter(|n| n.as_slice() != b"." && n.as_slice() != b".." && wanted(n))
        .collect();
    names.sort();
    Some(names)
}

/// Whether `NAME/bin/go` is a regular file, relative to the directory open at `fd`.
fn has_go(fd: &OwnedFd, at: &impl Fn(&str) -> Option<CString>) -> bool {
    at("/bin/go").is_some_and(|go| {
        nix::sys::stat::fstatat(fd, go.as_c_str(), nix::fcntl::AtFlags::empty())
            .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFREG)
    })
}

/// The entries of `dir`, sorted so discovery is deterministic; nothing for a missing dir.
fn sorted_children(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    sort_children(&mut v);
    v
}

/// Sorts entries of one directory as `Path`s sort. They differ in their last component only,
/// so the order of their names is the order of their paths, found without comparing the
/// common prefix again and again, component by component.
fn sort_children(v: &mut [PathBuf]) {
    // The bytes after the last slash: Path::file_name parses components from the end.
    fn name(p: &Path) -> &[u8] {
        let b = p.as_os_str().as_bytes();
        &b[b.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1)..]
    }
    v.sort_by(|a, b| name(a).cmp(name(b)));
}

/// A policy search entry with `~/` expanded; `None` for a `~/` entry without a home dir.
fn expand_home(entry: &str, home: Option<&Path>) -> Option<String> {
    match (entry.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => Some(h.join(rest).to_string_lossy().into_owned()),
        (Some(_), None) => None,
        _ => Some(entry.to_string()),
    }
}

/// An absolute pattern with wildcards in its last component only (`/usr/lib/go-*`, the usual
/// form): its directory and the matcher of its last component. Such a pattern is listed as
/// one directory ([`Found::entries_of`]): glob itself stats every component of the path on
/// the way down (six syscalls for a directory that does not exist), and reads the whole
/// directory on every call.
fn one_dir_pattern(expanded: &str) -> Option<(&Path, glob::Pattern)> {
    let pattern = Path::new(expanded);
    let dir = pattern.parent()?;
    let last = pattern.file_name()?.to_str()?;
    if !last.contains(['*', '?', '['])
        || dir.to_str()?.contains(['*', '?', '['])
        || last.contains("**")
        || !pattern.is_absolute()
    {
        return None;
    }
    Some((dir, glob::Pattern::new(last).ok()?))
}

/// Whether an entry's name matches, as glob::glob matches the last component of a path.
fn names_matching(matcher: &glob::Pattern) -> impl Fn(&[u8]) -> bool + '_ {
    |n| std::str::from_utf8(n).is_ok_and(|n| matcher.matches_with(n, glob::MatchOptions::new()))
}

/// A policy search entry: `~/` expanded, globs expanded (sorted).
fn expand_search(entry: &str, home: Option<&Path>) -> Vec<PathBuf> {
    let Some(expanded) = expand_home(entry, home) else {
        return Vec::new();
    };
    if !expanded.contains(['*', '?', '[']) {
        return vec![PathBuf::from(expanded)];
    }
    match glob::glob(&expanded) {
        Ok(paths) => {
            let mut v: Vec<PathBuf> = paths.filter_map(|p| p.ok()).collect();
            v.sort();
            v
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries a one-directory pattern lists, as paths.
    fn in_one_dir(pattern: &Path) -> Option<Vec<PathBuf>> {
        let (dir, matcher) = one_dir_pattern(pattern.to_str()?)?;
        let names =
            Found::default().entries_of(dir, b"key", names_matching(&matcher), FoundIn::Policy);
        Some(
            names
                .iter()
                .map(|n| dir.join(OsStr::from_bytes(n)))
                .collect(),
        )
    }

    /// Each GOROOT once, where it was found first; then newest first, equal versions in
    /// discovery order: what the HashSet of roots and a stable sort of the toolchains gave.
    #[test]
    fn discovery_keeps_each_root_once_newest_first_ties_in_found_order() {
        let t = |v: &str, root: &str, found_in: FoundIn| Toolchain {
            version: GoVersion::parse(v).unwrap(),
            name: format!("go{v}"),
            goroot: PathBuf::from(root),
            found_in,
        };
        let list = vec![
            t("1.22.1", "/a/go1.22.1", FoundIn::Gowarden),
            t("1.23.0", "/b/go", FoundIn::Policy),
            t("1.22.1", "/c/go1.22.1", FoundIn::ModuleCache),
            t("1.23.0", "/b/go", FoundIn::Path(PathBuf::from("/b/go/bin"))),
            t("1.21rc2", "/d", FoundIn::VersionManager("mise")),
            t("1.22.1", "/a/go1.22.1", FoundIn::Policy),
            t("1.24.0", "/e", FoundIn::Policy),
        ];
        let got: Vec<(String, String, FoundIn)> = newest_first(first_of_each_root(list))
            .into_iter()
            .map(|t| (t.name, t.goroot.display().to_string(), t.found_in))
            .collect();
        let want = [
            ("go1.24.0", "/e", FoundIn::Policy),
            ("go1.23.0", "/b/go", FoundIn::Policy),
            ("go1.22.1", "/a/go1.22.1", FoundIn::Gowarden),
            ("go1.22.1", "/c/go1.22.1", FoundIn::ModuleCache),
            ("go1.21rc2", "/d", FoundIn::VersionManager("mise")),
        ]
        .map(|(n, r, f)| (n.to_string(), r.to_string(), f));
        assert_eq!(got, want);
    }

    #[test]
    fn one_dir_patterns_list_what_glob_lists() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["go1.22.3", "go1.23.1", ".go-hidden", "other", "go[x]"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("go-file"), "").unwrap();
        for pattern in ["*", "go*", "go1.2?.*", "go[x]", "[!g]*", "none*"] {
            let full = dir.path().join(pattern);
            let mut by_glob: Vec<PathBuf> = glob::glob(full.to_str().unwrap())
                .unwrap()
                .filter_map(|p| p.ok())
                .collect();
            by_glob.sort();
            assert_eq!(in_one_dir(&full), Some(by_glob), "{pattern}");
        }
        let missing = dir.path().join("missing/*");
        assert_eq!(in_one_dir(&missing), Some(Vec::new()));
        assert_eq!(
            in_one_dir(&dir.path().join("*/bin")),
            None,
            "wildcard above the last"
        );
        assert_eq!(in_one_dir(Path::new("rel/*")), None);
    }
}

#[cfg(test)]
mod select_tests {
    //! Which installed toolchain a request gets: exact and family requests the newest match,
    //! minimums and "newest" a stable release over a prerelease, the matrix's veto on top.

    use super::*;
    use crate::resolve::Source;

    fn tc(name: &str, found_in: FoundIn) -> Toolchain {
        Toolchain {
            version: GoVersion::parse_go(name).unwrap(),
            name: name.to_string(),
            goroot: PathBuf::from(format!("/opt/{name}")),
            found_in,
        }
    }

    /// Installed, newest first as [`discover`] lists them; the same go1.22.3 twice, the
    /// preferred location first.
    fn installed() -> Vec<Toolchain> {
        vec![
            tc("go1.24rc1", FoundIn::Gowarden),
            tc("go1.23.4", FoundIn::Gowarden),
            tc("go1.22.10", FoundIn::ModuleCache),
            tc("go1.22.3", FoundIn::Gowarden),
            tc("go1.22.3", FoundIn::Policy),
            tc("go1.21.13", FoundIn::Gowarden),
        ]
    }

    fn pick(spec: &str, acceptable: impl Fn(&Toolchain) -> bool) -> Option<(String, FoundIn)> {
        let spec = match spec {
            "newest" => VersionSpec::Newest,
            s if s.starts_with(">=") => VersionSpec::AtLeast(GoVersion::parse(&s[2..]).unwrap()),
            s => VersionSpec::parse(s).unwrap(),
        };
        let request = Request {
            spec,
            written: String::new(),
            source: Source::NewestInstalled,
        };
        let all = installed();
        select(&request, &all, acceptable).map(|t| (t.name.clone(), t.found_in.clone()))
    }

    fn any(_: &Toolchain) -> bool {
        true
    }

    #[test]
    fn each_kind_of_request_gets_its_toolchain() {
        let name = |spec| pick(spec, any).map(|(n, _)| n);
        assert_eq!(name("1.22.3").as_deref(), Some("go1.22.3"));
        assert_eq!(
            name("1.22").as_deref(),
            Some("go1.22.10"),
            "newest of the family"
        );
        assert_eq!(
            name("1.24rc1").as_deref(),
            Some("go1.24rc1"),
            "asked for by name"
        );
        assert_eq!(
            name(">=1.22.5").as_deref(),
            Some("go1.23.4"),
            "stable over the rc"
        );
        assert_eq!(
            name(">=1.24rc1").as_deref(),
            Some("go1.24rc1"),
            "a prerelease minimum"
        );
        assert_eq!(name("newest").as_deref(), Some("go1.23.4"));
        assert_eq!(name("1.22.4"), None);
        assert_eq!(name("1.20"), None);
        assert_eq!(name(">=1.25"), None);
    }

    #[test]
    fn equal_versions_go_to_the_preferred_location() {
        assert_eq!(
            pick("1.22.3", any),
            Some(("go1.22.3".to_string(), FoundIn::Gowarden))
        );
    }

    #[test]
    fn the_matrix_veto_moves_the_choice_on_or_leaves_none() {
        let not_1_23 = |t: &Toolchain| t.version.minor != "23";
        assert_eq!(
            pick(">=1.22.5", not_1_23).map(|(n, _)| n).as_deref(),
            Some("go1.22.10")
        );
        let only_rcs = |t: &Toolchain| t.version.is_prerelease();
        assert_eq!(
            pick("newest", only_rcs).map(|(n, _)| n).as_deref(),
            Some("go1.24rc1"),
            "a prerelease when it is all that may run"
        );
        assert_eq!(
            pick("1.22.3", |t| t.found_in == FoundIn::Policy).map(|(_, f)| f),
            Some(FoundIn::Policy)
        );
        assert_eq!(pick("1.22", |_| false), None);
    }
}
