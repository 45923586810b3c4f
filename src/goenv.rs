//! Go's environment configuration, read as cmd/go reads it (GO_FACTS.md §3; cmd/go 1.26.8
//! `internal/cfg/cfg.go`: `EnvFile`, `initEnvCache`, `readEnvFile`, `Getenv`).
//!
//! A go setting such as GOFLAGS, GOPROXY or GOBIN comes from, first hit wins:
//! 1. the process environment, if non-empty (an empty `GOFLAGS=` does not count);
//! 2. the user's go env file (`$GOENV`, else `os.UserConfigDir()/go/env`), even with an empty
//!    value: a key present there hides `$GOROOT/go.env`;
//! 3. `$GOROOT/go.env` of the toolchain that will run, which can never set GOROOT.
//!
//! The environment is always passed in (any `Fn(&str) -> Option<OsString>`, e.g.
//! [`process_env`]) so that nothing here reads the process environment behind the caller's
//! back. [`GoEnv::load`] reads the two files once; [`effective`] is the one-shot form.
//!
//! One deliberate difference from go: go silently ignores an env file it cannot read; here an
//! unreadable file (other than a missing one) is an error naming the file, because a policy
//! that cannot see the user's settings must not guess them.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A change to the environment go runs with: a variable set or removed (by the shim, by
/// `[env]`, by an install's bootstrap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvChange {
    pub key: String,
    pub from: Option<OsString>,
    /// `None` removes the variable.
    pub to: Option<OsString>,
}

/// One `KEY=VALUE` line of a go env file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    /// 1-based line number.
    pub line: usize,
    pub key: String,
    pub value: OsString,
}

/// Where an effective setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    ProcessEnv,
    EnvFile {
        path: PathBuf,
        line: usize,
    },
    GorootGoEnv {
        path: PathBuf,
        line: usize,
        /// Who owns the file, from the read's own `fstat`.
        owner: Option<FileOwner>,
        /// The value is the one the Go distribution ships ([`DISTRIBUTION_GO_ENV`]).
        stock: bool,
    },
}

impl Origin {
    /// Whether the value is the caller's own setting: from the environment, the user's go
    /// env file, or a `$GOROOT/go.env` the caller can write (a toolchain unpacked in their
    /// home) where it is not the distribution's value. Such a go.env line is judged like one
    /// of the go env file; the distribution's values are decided without asking who owns the
    /// file, so a stock go.env costs no system call here.
    pub fn is_callers(&self) -> bool {
        match self {
            Origin::ProcessEnv | Origin::EnvFile { .. } => true,
            Origin::GorootGoEnv { owner, stock, .. } => {
                !stock && owner.is_some_and(FileOwner::caller_can_write)
            }
        }
    }
}

/// The settings the Go distribution's own `go.env` holds (golang/go `go.env`, go1.21 to
/// go1.26; GO_FACTS.md GOENVF). Such a value in a toolchain's go.env is the distribution's
/// default, whoever owns the file.
pub const DISTRIBUTION_GO_ENV: &[(&str, &str)] = &[
    ("GOPROXY", "https://proxy.golang.org,direct"),
    ("GOSUMDB", "sum.golang.org"),
    ("GOTOOLCHAIN", "auto"),
];

/// The distribution's go.env value of `key` ([`DISTRIBUTION_GO_ENV`]).
pub fn distribution_default(key: &str) -> Option<&'static str> {
    DISTRIBUTION_GO_ENV
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
}

fn is_stock(e: &EnvEntry) -> bool {
    distribution_default(&e.key).is_some_and(|v| e.value == v)
}

/// Who can write a go env file, from the `fstat` its read already made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileOwner {
    pub uid: u32,
    pub mode: u32,
}

impl FileOwner {
    /// Whether the calling user can change the file: they own it (and so may chmod it), or
    /// its group or others may write it (then anyone, the caller included, may have).
    pub fn caller_can_write(self) -> bool {
        static UID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        self.mode & 0o022 != 0 || self.uid == *UID.get_or_init(|| nix::unistd::getuid().as_raw())
    }
}

/// The process environment, for callers that do want it.
pub fn process_env(key: &str) -> Option<OsString> {
    crate::environ::var_os(key).map(OsString::from)
}

/// The user's go env file as cmd/go's `cfg.EnvFile` finds it: `$GOENV` if non-empty (`off`
/// disables it: `None`), else `os.UserConfigDir()` + `/go/env`. `None` also where go finds no
/// config dir (no `$XDG_CONFIG_HOME` nor `$HOME`, or a relative `$XDG_CONFIG_HOME`).
pub fn env_file_path<E: Fn(&str) -> Option<OsString>>(env: E) -> Option<PathBuf> {
    if let Some(file) = non_empty(env(crate::envvars::GOENV)) {
        if file == "off" {
            return None;
        }
        return Some(PathBuf::from(file));
    }
    user_config_dir(&env).map(|dir| dir.join("go").join("env"))
}

/// os.UserConfigDir for the Unix systems gowarden runs on.
fn user_config_dir<E: Fn(&str) -> Option<OsString>>(env: &E) -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        let home = non_empty(env(crate::envvars::HOME))?;
        return Some(PathBuf::from(home).join("Library/Application Support"));
    }
    match non_empty(env(crate::envvars::XDG_CONFIG_HOME)) {
        Some(dir) if Path::new(&dir).is_absolute() => Some(PathBuf::from(dir)),
        // Go refuses a relative $XDG_CONFIG_HOME rather than fall back to $HOME.
        Some(_) => None,
        None => {
            non_empty(env(crate::envvars::HOME)).map(|home| PathBuf::from(home).join(".config"))
        }
    }
}

/// Parses a go env file as `readEnvFile` does: lines split at `\n` only (a `\r` stays in the
/// value), a line without `=` or not starting with `A`–`Z` is ignored (that is how `#`
/// comments work), nothing is trimmed, and the last duplicate of a key wins. Keys that are not
/// UTF-8 are dropped: they can match no go setting.
pub fn parse_env_file(text: &[u8]) -> Vec<EnvEntry> {
    let mut entries: Vec<EnvEntry> = Vec::new();
    for (i, line) in text.split(|&c| c == b'\n').enumerate() {
        let Some(eq) = line.iter().position(|&c| c == b'=') else {
            continue;
        };
        if !line[0].is_ascii_uppercase() {
            continue;
        }
        let Ok(key) = std::str::from_utf8(&line[..eq]) else {
            continue;
        };
        let entry = EnvEntry {
            line: i + 1,
            key: key.to_string(),
            value: OsStr::from_bytes(&line[eq + 1..]).to_os_string(),
        };
        match entries.iter_mut().find(|e| e.key == entry.key) {
            Some(old) => *old = entry,
            None => entries.push(entry),
        }
    }
    entries
}

/// Reads and parses a go env file. A missing file is empty; any other failure to read it is
/// an error naming the file, and so is a file that is not a regular file: a FIFO or a device
/// can answer each reader differently, so what go reads after the shim could differ from what
/// the shim judged (go reads it with os.ReadFile, whatever it is).
///
/// Within a snapshot ([`begin_snapshot`]: the shim's whole call) each file is read once and
/// every later caller gets the same entries, so every decision of one call sees one content.
pub fn read_env_file(path: &Path) -> Result<Vec<EnvEntry>, Error> {
    read_env_file_owned(path).map(|(entries, _)| entries)
}

/// [`read_env_file`], with who owns the file (`None` for a missing one).
pub fn read_env_file_owned(path: &Path) -> Result<(Vec<EnvEntry>, Option<FileOwner>), Error> {
    if SNAPSHOT.load(std::sync::atomic::Ordering::Relaxed)
        && let Some(hit) = cache()
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, r)| r.clone())
    {
        return hit;
    }
    let result = read_regular(path);
    if SNAPSHOT.load(std::sync::atomic::Ordering::Relaxed) {
        cache().push((path.to_path_buf(), result.clone()));
    }
    result
}

/// The go env file cannot be read: where, why, and what to do, as for every input file.
pub fn unreadable(path: &Path, e: &std::io::Error) -> Error {
    let fix = if e.kind() == std::io::ErrorKind::PermissionDenied {
        format!(
            "make it readable for you (`chmod u+r {}`), or point GOENV at a file you can read",
            path.display()
        )
    } else {
        "make it a readable regular file, or point GOENV at one".to_string()
    };
    Error::new(format!(
        "{}: cannot read the go env file: {e}; {fix}",
        path.display()
    ))
}

fn read_regular(path: &Path) -> Result<(Vec<EnvEntry>, Option<FileOwner>), Error> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then tells what it is.
    let mut f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), None)),
        Err(e) => return Err(unreadable(path, &e)),
    };
    let meta = f.metadata().map_err(|e| unreadable(path, &e))?;
    if meta.is_dir() {
        return Err(Error::new(format!(
            "{}: the go env file is a directory, where go keeps the settings of `go env -w`; \
             move the directory away (`go env -w` then creates the file), or point GOENV at a \
             file",
            path.display()
        )));
    }
    if !meta.is_file() {
        return Err(Error::new(format!(
            "{}: the go env file is not a regular file (a FIFO, socket or device answers each \
             reader differently, and go reads it again after gowarden decided); replace it \
             with a regular file, or point GOENV at one",
            path.display()
        )));
    }
    let mut text = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut text).map_err(|e| unreadable(path, &e))?;
    use std::os::unix::fs::MetadataExt;
    let owner = FileOwner {
        uid: meta.uid(),
        mode: meta.mode(),
    };
    Ok((parse_env_file(&text), Some(owner)))
}

static SNAPSHOT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// One read of one go env file: its path and what reading it gave.
type CachedRead = (PathBuf, Result<(Vec<EnvEntry>, Option<FileOwner>), Error>);

/// The snapshot's reads, for the whole process as [`SNAPSHOT`] is. A static rather than a
/// thread-local: a thread-local that needs dropping registers its destructor in a list std
/// keeps with the C allocator, and that first malloc set musl's heap up (two brk, two mmap and
/// their page tables) on every go call.
static CACHE: std::sync::Mutex<Vec<CachedRead>> = std::sync::Mutex::new(Vec::new());

fn cache() -> std::sync::MutexGuard<'static, Vec<CachedRead>> {
    CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// From now on this process reads each go env file once (the shim calls this first): one
/// call, one snapshot. CLI commands that write go env files (`drift --fix`) do not use it.
pub fn begin_snapshot() {
    SNAPSHOT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The environment, the user's go env file and `$GOROOT/go.env`, loaded once.
pub struct GoEnv<E> {
    env: E,
    user: Option<(PathBuf, Vec<EnvEntry>)>,
    goroot_env: Option<(PathBuf, Vec<EnvEntry>)>,
    goroot_owner: Option<FileOwner>,
    goroot: Option<PathBuf>,
}

impl<E: Fn(&str) -> Option<OsString>> GoEnv<E> {
    /// Reads the user's go env file and `goroot/go.env`. `goroot` is the toolchain that will
    /// run (the shim sets GOROOT for it), so its go.env is the one go will read.
    pub fn load(env: E, goroot: Option<&Path>) -> Result<GoEnv<E>, Error> {
        let user = match env_file_path(&env) {
            Some(path) => {
                let entries = read_env_file(&path)?;
                Some((path, entries))
            }
            None => None,
        };
        let mut goroot_owner = None;
        let goroot_env = match goroot {
            Some(root) => {
                let path = root.join("go.env");
                let (entries, owner) = read_env_file_owned(&path)?;
                goroot_owner = owner;
                Some((path, entries))
            }
            None => None,
        };
        Ok(GoEnv {
            env,
            user,
            goroot_env,
            goroot_owner,
            goroot: goroot.map(Path::to_path_buf),
        })
    }

    /// cfg.Getenv: the effective value of `key` and where it came from, `None` if unset.
    pub fn get(&self, key: &str) -> Option<(OsString, Origin)> {
        if let Some(v) = non_empty((self.env)(key)) {
            return Some((v, Origin::ProcessEnv));
        }
        if let Some((path, e)) = find_entry(&self.user, key) {
            let origin = Origin::EnvFile {
                path: path.to_path_buf(),
                line: e.line,
            };
            return Some((e.value.clone(), origin));
        }
        if key == "GOROOT" {
            // initEnvCache overwrites GOROOT: go.env naming another GOROOT would be absurd.
            return None;
        }
        let (path, e) = find_entry(&self.goroot_env, key)?;
        let origin = Origin::GorootGoEnv {
            path: path.to_path_buf(),
            line: e.line,
            owner: self.goroot_owner,
            stock: is_stock(e),
        };
        Some((e.value.clone(), origin))
    }

    /// Whether a line of `$GOROOT/go.env` is the caller's own setting
    /// ([`Origin::is_callers`]).
    fn is_callers(&self, e: &EnvEntry) -> bool {
        !is_stock(e) && self.goroot_owner.is_some_and(FileOwner::caller_can_write)
    }

    /// The caller's own line for `key` in a go env file, whatever the environment says: the
    /// user go env file's, else a line of `$GOROOT/go.env` that is the caller's
    /// ([`Origin::is_callers`]).
    pub fn callers_entry(&self, key: &str) -> Option<(&Path, &EnvEntry)> {
        self.user_entry(key)
            .or_else(|| self.goroot_entry(key).filter(|(_, e)| self.is_callers(e)))
    }

    /// `$GOROOT/go.env`'s line for `key` where it is not the caller's own: the default go
    /// reads when nobody sets the key.
    pub fn default_entry(&self, key: &str) -> Option<(&Path, &EnvEntry)> {
        self.goroot_entry(key).filter(|(_, e)| !self.is_callers(e))
    }

    /// The user go env file's own line for `key`, whatever the environment says.
    pub fn user_entry(&self, key: &str) -> Option<(&Path, &EnvEntry)> {
        find_entry(&self.user, key)
    }

    /// `$GOROOT/go.env`'s own line for `key` (never GOROOT, which go.env cannot set).
    pub fn goroot_entry(&self, key: &str) -> Option<(&Path, &EnvEntry)> {
        if key == "GOROOT" {
            return None;
        }
        find_entry(&self.goroot_env, key)
    }

    /// The user go env file go reads, `None` where it reads none (`GOENV=off`, no config dir).
    pub fn user_file(&self) -> Option<&Path> {
        self.user.as_ref().map(|(p, _)| p.as_path())
    }

    /// The effective value of `key` if it is non-empty (go's `envOr` treats empty as unset).
    fn get_non_empty(&self, key: &str) -> Option<OsString> {
        self.get(key).map(|(v, _)| v).filter(|v| !v.is_empty())
    }

    /// Where `go install` puts binaries (modload.BinDir): GOBIN if set, else the first
    /// GOPATH entry + `/bin`, GOPATH defaulting to `$HOME/go` (unless that is GOROOT).
    /// `None` where go has no such directory. Go itself refuses a relative GOBIN or GOPATH
    /// later; the path is returned as configured.
    pub fn gobin(&self) -> Option<PathBuf> {
        if let Some(gobin) = self.get_non_empty("GOBIN") {
            return Some(PathBuf::from(gobin));
        }
        let gopath = match self.get_non_empty("GOPATH") {
            Some(gopath) => gopath,
            None => {
                let def = PathBuf::from(non_empty((self.env)(crate::envvars::HOME))?).join("go");
                let is_goroot = self
                    .goroot
                    .as_deref()
                    .is_some_and(|root| same_clean_path(root, &def));
                if is_goroot {
                    return None;
                }
                def.into_os_string()
            }
        };
        // filepath.SplitList: the first ':'-separated entry, none if it is empty.
        let first = gopath.as_bytes().split(|&c| c == b':').next()?;
        if first.is_empty() {
            return None;
        }
        Some(Path::new(OsStr::from_bytes(first)).join("bin"))
    }
}

/// cfg.Getenv in one call: loads the files and looks `key` up. Prefer [`GoEnv::load`] when
/// several keys are needed.
pub fn effective<E: Fn(&str) -> Option<OsString>>(
    key: &str,
    env: E,
    goroot: Option<&Path>,
) -> Result<Option<(OsString, Origin)>, Error> {
    Ok(GoEnv::load(env, goroot)?.get(key))
}

/// [`GoEnv::gobin`] in one call.
pub fn effective_gobin<E: Fn(&str) -> Option<OsString>>(
    env: E,
    goroot: Option<&Path>,
) -> Result<Option<PathBuf>, Error> {
    Ok(GoEnv::load(env, goroot)?.gobin())
}

fn find_entry<'a>(
    file: &'a Option<(PathBuf, Vec<EnvEntry>)>,
    key: &str,
) -> Option<(&'a Path, &'a EnvEntry)> {
    let (path, entries) = file.as_ref()?;
    Some((path, entries.iter().find(|e| e.key == key)?))
}

fn non_empty(v: Option<OsString>) -> Option<OsString> {
    v.filter(|v| !v.is_empty())
}

/// filepath.Clean equality, without touching the file system.
fn same_clean_path(a: &Path, b: &Path) -> bool {
    a.components().eq(b.components())
}

/// cmd/go's `KnownEnv` (`src/internal/cfg/cfg.go`, newest list, GO_FACTS.md §3): the
/// variables go reads as its configuration, the only names `go env -w` accepts (besides keys
/// already in an env file). A superset across releases: an older go ignores the newer names.
pub const KNOWN_ENV: &[&str] = &[
    "AR",
    "CC",
    "CGO_CFLAGS",
    "CGO_CFLAGS_ALLOW",
    "CGO_CFLAGS_DISALLOW",
    "CGO_CPPFLAGS",
    "CGO_CPPFLAGS_ALLOW",
    "CGO_CPPFLAGS_DISALLOW",
    "CGO_CXXFLAGS",
    "CGO_CXXFLAGS_ALLOW",
    "CGO_CXXFLAGS_DISALLOW",
    "CGO_ENABLED",
    "CGO_FFLAGS",
    "CGO_FFLAGS_ALLOW",
    "CGO_FFLAGS_DISALLOW",
    "CGO_LDFLAGS",
    "CGO_LDFLAGS_ALLOW",
    "CGO_LDFLAGS_DISALLOW",
    "CXX",
    "FC",
    "GCCGO",
    "GO111MODULE",
    "GO386",
    "GOAMD64",
    "GOARCH",
    "GOARM",
    "GOARM64",
    "GOAUTH",
    "GOBIN",
    "GOCACHE",
    "GOCACHEPROG",
    "GOENV",
    "GOEXE",
    "GOEXPERIMENT",
    "GOFIPS140",
    "GOFLAGS",
    "GOGCCFLAGS",
    "GOHOSTARCH",
    "GOHOSTOS",
    "GOINSECURE",
    "GOMIPS",
    "GOMIPS64",
    "GOMODCACHE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOOS",
    "GOPATH",
    "GOPPC64",
    "GOPRIVATE",
    "GOPROXY",
    "GORISCV64",
    "GOROOT",
    "GOSUMDB",
    "GOTMPDIR",
    "GOTOOLCHAIN",
    "GOTOOLDIR",
    "GOVCS",
    "GOWASM",
    "GOWORK",
    "GO_EXTLINK_ENABLED",
    "PKG_CONFIG",
];

/// Whether `key` is one of cmd/go's configuration variables ([`KNOWN_ENV`]).
pub fn is_known_env(key: &str) -> bool {
    KNOWN_ENV.contains(&key)
}

/// The new text of a go env file after `go env -w` (`set`) and `go env -u` (`unset`), exactly
/// as cmd/go's `envcmd.updateEnvFile` writes it, so a file gowarden fixes looks like one go
/// wrote: earlier duplicates of a key are dropped (the last one is the one that counts), a set
/// key replaces its line in place or is appended, an unset key's line goes, and each run of
/// `KEY=VALUE` lines (runs end at comments, blank, invalid and removed lines) is sorted by key.
/// A final line without `\n` gets one. go's writer calls any line with a `=` and no `#` before
/// it a key line (its reader is stricter: see [`parse_env_file`]); this mirrors the writer.
pub fn update_env_file(text: &[u8], set: &[(String, OsString)], unset: &[String]) -> Vec<u8> {
    // strings.SplitAfter(data, "\n"), with the final fragment completed by a newline.
    let mut lines: Vec<Vec<u8>> = text
        .split_inclusive(|&c| c == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    if let Some(last) = lines.last_mut()
        && !last.ends_with(b"\n")
    {
        last.push(b'\n');
    }
    let mut prev: Vec<(Vec<u8>, usize)> = Vec::new();
    for i in 0..lines.len() {
        let Some(key) = line_to_key(&lines[i]).map(<[u8]>::to_vec) else {
            continue;
        };
        match prev.iter_mut().find(|(k, _)| *k == key) {
            Some((_, p)) => {
                lines[*p].clear();
                *p = i;
            }
            None => prev.push((key, i)),
        }
    }
    let at = |key: &str| {
        prev.iter()
            .find(|(k, _)| k.as_slice() == key.as_bytes())
            .map(|(_, p)| *p)
    };
    let kv = |key: &str, value: &OsStr| {
        let mut l = key.as_bytes().to_vec();
        l.push(b'=');
        l.extend_from_slice(value.as_bytes());
        l.push(b'\n');
        l
    };
    let mut appended = Vec::new();
    for (key, value) in set {
        match at(key) {
            Some(p) => lines[p] = kv(key, value),
            None => appended.push(kv(key, value)),
        }
    }
    lines.extend(appended);
    for key in unset {
        if let Some(p) = at(key) {
            lines[p].clear();
        }
    }
    let mut start = 0;
    for i in 0..=lines.len() {
        if i == lines.len() || line_to_key(&lines[i]).is_none() {
            // Keys within a run are distinct after the de-duplication above, so a stable sort
            // gives the same order as go's unstable one.
            lines[start..i].sort_by(|a, b| line_to_key(a).cmp(&line_to_key(b)));
            start = i + 1;
        }
    }
    lines.concat()
}

/// envcmd.lineToKey: the text before the first `=`, unless there is none or it holds a `#`.
/// An empty key (`=x`) counts as no key, as in go.
fn line_to_key(line: &[u8]) -> Option<&[u8]> {
    let eq = line.iter().position(|&c| c == b'=')?;
    let key = &line[..eq];
    (!key.is_empty() && !key.contains(&b'#')).then_some(key)
}

/// The module cache as go computes it: GOMODCACHE, else the first GOPATH entry's pkg/mod,
/// else `$HOME/go/pkg/mod`, each from the environment or the go env file. Only where to look
/// for toolchains depends on it, so an unreadable go env file just means "not set" here.
pub fn effective_gomodcache() -> Option<PathBuf> {
    let goenv = GoEnv::load(process_env, None).ok();
    let get = |key: &str| {
        goenv
            .as_ref()
            .and_then(|g| g.get(key))
            .map(|(v, _)| v)
            .or_else(|| process_env(key))
            .filter(|v| !v.is_empty())
    };
    if let Some(c) = get("GOMODCACHE") {
        return Some(PathBuf::from(c));
    }
    if let Some(first) = get("GOPATH").and_then(|p| std::env::split_paths(&p).next()) {
        return Some(first.join("pkg").join("mod"));
    }
    crate::userdirs::home_dir().map(|h| h.join("go").join("pkg").join("mod"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An environment made of `K=V` pairs, for the closure parameter.
    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn env_file_location() {
        type Env<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Env, Option<&str>)] = &[
            (
                &[("GOENV", "/etc/goenv"), ("HOME", "/h")],
                Some("/etc/goenv"),
            ),
            (&[("GOENV", "rel/env")], Some("rel/env")),
            (&[("GOENV", "off"), ("HOME", "/h")], None),
            (&[("GOENV", ""), ("HOME", "/h")], Some("/h/.config/go/env")),
            (
                &[("XDG_CONFIG_HOME", "/xdg"), ("HOME", "/h")],
                Some("/xdg/go/env"),
            ),
            (
                &[("XDG_CONFIG_HOME", ""), ("HOME", "/h")],
                Some("/h/.config/go/env"),
            ),
            // os.UserConfigDir refuses a relative XDG_CONFIG_HOME; go then has no env file.
            (&[("XDG_CONFIG_HOME", "xdg"), ("HOME", "/h")], None),
            (&[], None),
        ];
        for (env, want) in cases {
            assert_eq!(
                env_file_path(env_of(env)),
                want.map(PathBuf::from),
                "{env:?}"
            );
        }
    }

    #[test]
    fn env_file_syntax() {
        let text = b"# comment\nGOFLAGS=-mod=mod\nlower=x\nNOEQUALS\n=x\n\nGOPROXY=a\nGOPROXY=b\r\nGO FLAGS= spaced \nGOPRIVATE=\nCC=gcc -O2=x";
        let got = parse_env_file(text);
        let want = [
            (2, "GOFLAGS", "-mod=mod"),
            (8, "GOPROXY", "b\r"),
            (9, "GO FLAGS", " spaced "),
            (10, "GOPRIVATE", ""),
            (11, "CC", "gcc -O2=x"),
        ];
        let got: Vec<(usize, &str, &OsStr)> = got
            .iter()
            .map(|e| (e.line, e.key.as_str(), e.value.as_os_str()))
            .collect();
        let want: Vec<(usize, &str, &OsStr)> = want
            .iter()
            .map(|(l, k, v)| (*l, *k, OsStr::new(*v)))
            .collect();
        assert_eq!(got, want);
        assert!(parse_env_file(b"").is_empty());
        assert!(parse_env_file(b"\n\n=\n").is_empty());
        let non_utf8 = parse_env_file(b"K\xff=1\nGOOS=\xfe");
        assert_eq!(non_utf8.len(), 1);
        assert_eq!(non_utf8[0].value.as_bytes(), b"\xfe");
    }

    #[test]
    fn reading_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_env_file(&dir.path().join("missing")).unwrap(), vec![]);
        let err = read_env_file(dir.path()).unwrap_err();
        assert!(
            err.message().contains(&dir.path().display().to_string()),
            "{err}"
        );
        let file = dir.path().join("env");
        std::fs::write(&file, "GOPROXY=off\n").unwrap();
        assert_eq!(read_env_file(&file).unwrap()[0].key, "GOPROXY");
    }

    /// A home with a user env file and a GOROOT with a go.env, as go would find them.
    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new(user: &str, goroot_env: &str) -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let cfg = dir.path().join("home/.config/go");
            std::fs::create_dir_all(&cfg).unwrap();
            std::fs::write(cfg.join("env"), user).unwrap();
            std::fs::create_dir_all(dir.path().join("goroot")).unwrap();
            std::fs::write(dir.path().join("goroot/go.env"), goroot_env).unwrap();
            Fixture { dir }
        }
        fn home(&self) -> String {
            self.dir.path().join("home").display().to_string()
        }
        fn goroot(&self) -> PathBuf {
            self.dir.path().join("goroot")
        }
        fn user_file(&self) -> PathBuf {
            self.dir.path().join("home/.config/go/env")
        }
    }

    fn owner(goroot: &Path) -> Option<FileOwner> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(goroot.join("go.env")).unwrap();
        Some(FileOwner {
            uid: m.uid(),
            mode: m.mode(),
        })
    }

    #[test]
    fn a_go_env_value_is_the_callers_where_they_can_write_the_file_and_it_is_not_stock() {
        let me = nix::unistd::getuid().as_raw();
        let other = if me == 65534 { 65533 } else { 65534 };
        let origin = |uid, mode, stock| Origin::GorootGoEnv {
            path: PathBuf::from("/g/go.env"),
            line: 1,
            owner: Some(FileOwner { uid, mode }),
            stock,
        };
        assert!(origin(me, 0o100444, false).is_callers(), "owned: may chmod");
        assert!(
            origin(other, 0o100666, false).is_callers(),
            "anyone may write"
        );
        assert!(
            origin(other, 0o100664, false).is_callers(),
            "a group may write"
        );
        assert!(!origin(other, 0o100644, false).is_callers());
        assert!(
            !origin(me, 0o100644, true).is_callers(),
            "the distribution's"
        );
        assert!(Origin::ProcessEnv.is_callers());
        let missing = Origin::GorootGoEnv {
            path: PathBuf::from("/g/go.env"),
            line: 1,
            owner: None,
            stock: false,
        };
        assert!(!missing.is_callers());
    }

    #[test]
    fn precedence() {
        let fx = Fixture::new(
            "GOFLAGS=-mod=mod\nGOPRIVATE=\nGOROOT=/elsewhere\n",
            "GOTOOLCHAIN=auto\nGOPROXY=https://proxy.golang.org,direct\nGOPRIVATE=corp\nGOROOT=/nope\nGOFLAGS=-x\n",
        );
        let home = fx.home();
        let env = env_of(&[("HOME", &home), ("GOPROXY", "off"), ("GOFLAGS", "")]);
        let goroot = fx.goroot();
        let ge = GoEnv::load(env, Some(&goroot)).unwrap();

        // A non-empty process variable wins.
        assert_eq!(ge.get("GOPROXY"), Some(("off".into(), Origin::ProcessEnv)));
        // An empty one does not; the user file does.
        let user = Origin::EnvFile {
            path: fx.user_file(),
            line: 1,
        };
        assert_eq!(ge.get("GOFLAGS"), Some(("-mod=mod".into(), user)));
        // A key in the user file hides go.env even with an empty value.
        let user = Origin::EnvFile {
            path: fx.user_file(),
            line: 2,
        };
        assert_eq!(ge.get("GOPRIVATE"), Some(("".into(), user)));
        // go.env fills in the rest.
        let goenv = Origin::GorootGoEnv {
            path: goroot.join("go.env"),
            line: 1,
            owner: owner(&goroot),
            stock: true,
        };
        assert_eq!(ge.get("GOTOOLCHAIN"), Some(("auto".into(), goenv)));
        // GOROOT may come from the user file, never from go.env.
        let user = Origin::EnvFile {
            path: fx.user_file(),
            line: 3,
        };
        assert_eq!(ge.get("GOROOT"), Some(("/elsewhere".into(), user)));
        assert_eq!(ge.get("GOSUMDB"), None);

        // GOENV=off drops the user file, not go.env.
        let env = env_of(&[("HOME", &home), ("GOENV", "off")]);
        let ge = GoEnv::load(env, Some(&goroot)).unwrap();
        let goenv = Origin::GorootGoEnv {
            path: goroot.join("go.env"),
            line: 5,
            owner: owner(&goroot),
            stock: false,
        };
        assert_eq!(ge.get("GOFLAGS"), Some(("-x".into(), goenv)));
        assert_eq!(ge.get("GOROOT"), None);

        // Without a GOROOT only the environment and the user file count.
        let env = env_of(&[("HOME", &home)]);
        assert_eq!(effective("GOTOOLCHAIN", &env, None).unwrap(), None);
        assert!(effective("GOFLAGS", &env, None).unwrap().is_some());
    }

    #[test]
    fn unreadable_user_file_is_an_error() {
        let fx = Fixture::new("", "");
        let dir_as_file = fx.dir.path().display().to_string();
        let env = env_of(&[("GOENV", &dir_as_file)]);
        let err = effective("GOFLAGS", env, None).unwrap_err();
        assert_eq!(
            err.message(),
            format!(
                "{dir_as_file}: the go env file is a directory, where go keeps the settings of \
                 `go env -w`; move the directory away (`go env -w` then creates the file), or \
                 point GOENV at a file"
            )
        );
    }

    /// Mode 000 as a user other than root: the message names the file, the error and a fix.
    #[test]
    fn a_go_env_file_without_read_permission_says_how_to_fix_it() {
        let e = std::io::Error::from_raw_os_error(nix::libc::EACCES);
        assert_eq!(
            unreadable(Path::new("/h/.config/go/env"), &e).message(),
            "/h/.config/go/env: cannot read the go env file: Permission denied (os error 13); \
             make it readable for you (`chmod u+r /h/.config/go/env`), or point GOENV at a file \
             you can read"
        );
    }

    #[test]
    fn gobin() {
        let fx = Fixture::new("GOPATH=/from/file:/second\n", "");
        let home = fx.home();
        let goroot = fx.goroot();
        let gobin = |pairs: &[(&str, &str)]| effective_gobin(env_of(pairs), Some(&goroot)).unwrap();

        assert_eq!(
            gobin(&[("HOME", &home), ("GOBIN", "/bin/x")]),
            Some("/bin/x".into())
        );
        assert_eq!(gobin(&[("HOME", &home)]), Some("/from/file/bin".into()));
        assert_eq!(
            gobin(&[("HOME", &home), ("GOPATH", "/p1:/p2")]),
            Some("/p1/bin".into())
        );
        assert_eq!(gobin(&[("HOME", &home), ("GOPATH", ":/p2")]), None);
        // No GOPATH anywhere: $HOME/go.
        assert_eq!(
            gobin(&[("HOME", "/h"), ("GOENV", "off")]),
            Some("/h/go/bin".into())
        );
        assert_eq!(gobin(&[("GOENV", "off")]), None);
        // ... unless $HOME/go is GOROOT.
        let root_parent = fx.dir.path().display().to_string();
        let goroot_is_home_go = fx.dir.path().join("go");
        assert_eq!(
            effective_gobin(
                env_of(&[("HOME", &root_parent), ("GOENV", "off")]),
                Some(&goroot_is_home_go)
            )
            .unwrap(),
            None
        );
        // GOBIN from the user file; an empty process GOBIN does not hide it.
        let fx = Fixture::new("GOBIN=/file/bin\n", "GOBIN=/goroot/bin\n");
        let home = fx.home();
        let env = env_of(&[("HOME", &home), ("GOBIN", "")]);
        assert_eq!(
            effective_gobin(env, Some(&fx.goroot())).unwrap(),
            Some("/file/bin".into())
        );
    }

    #[test]
    fn update_env_file_follows_go_env_w_and_u() {
        let set = |pairs: &[(&str, &str)]| -> Vec<(String, OsString)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), OsString::from(v)))
                .collect()
        };
        let unset = |keys: &[&str]| -> Vec<String> { keys.iter().map(|k| k.to_string()).collect() };
        let upd = |text: &str, s: &[(String, OsString)], u: &[String]| {
            String::from_utf8(update_env_file(text.as_bytes(), s, u)).unwrap()
        };
        // New keys are appended and sorted into the last run.
        assert_eq!(
            upd(
                "GOPROXY=direct\n",
                &set(&[("GONOSUMDB", "*"), ("GOFLAGS", "-x")]),
                &[]
            ),
            "GOFLAGS=-x\nGONOSUMDB=*\nGOPROXY=direct\n"
        );
        // An existing key is replaced where it is; comments and blank lines split the runs
        // that get sorted; a missing final newline is added.
        assert_eq!(
            upd(
                "# mine\nGOSUMDB=off\nGOPROXY=direct\n\nCC=clang",
                &set(&[("GOPROXY", "off")]),
                &[]
            ),
            "# mine\nGOPROXY=off\nGOSUMDB=off\n\nCC=clang\n"
        );
        // Earlier duplicates go (the last one counted); an unset line leaves a gap that
        // splits runs, exactly as go's empty string does.
        assert_eq!(
            upd(
                "GOPROXY=a\nGOSUMDB=x\nGOPROXY=b\nGOAMD64=v3\nGOBIN=/b\n",
                &[],
                &unset(&["GOSUMDB", "GOPRIVATE"])
            ),
            "GOAMD64=v3\nGOBIN=/b\nGOPROXY=b\n"
        );
        assert_eq!(
            upd("Z=1\nB=2\nY=3\nA=4\n", &[], &unset(&["B"])),
            "Z=1\nA=4\nY=3\n"
        );
        // go's writer counts `lower=x` as a key line (its reader does not); `#x=y` is not one.
        assert_eq!(
            upd("lower=x\n#x=y\nGOB=1\nGOA=2\n", &[], &[]),
            "lower=x\n#x=y\nGOA=2\nGOB=1\n"
        );
        assert_eq!(upd("", &set(&[("GOPROXY", "off")]), &[]), "GOPROXY=off\n");
        assert_eq!(upd("", &[], &unset(&["GOPROXY"])), "");
    }
}
