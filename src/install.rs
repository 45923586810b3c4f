//! Installing and removing Go toolchains in a toolchains dir (`gowarden toolchain`, and the
//! shim when `[toolchains] auto_install` is on). Never on the shim's hot path otherwise.
//!
//! Two routes, both verified:
//! - Go's own: a go ≥ 1.21 already on the machine runs `go mod download` of the module
//!   `golang.org/toolchain@v0.0.1-goX.Y.Z.OS-ARCH` into a private module cache, through the
//!   GOPROXY go is configured with, and checks it against its checksum database (GOSUMDB).
//!   go's `-x` trace shows whether it did (a file:// GOPROXY or a GONOSUMDB match lets it
//!   skip that), and the install says so.
//! - An archive whose SHA-256 the caller pins: a go.dev `goX.Y.Z.OS-ARCH.tar.gz` (unpacked
//!   with the system tar) or the module proxy's zip of the toolchain module (unpacked with the
//!   `zip` crate, since tar cannot, and without go, which a machine needing it has not got).
//!
//! Either way the toolchain is staged under a dot-name inside the toolchains dir (discovery
//! skips dot-names), checked (`VERSION` and `bin/go version`), marked as gowarden's and renamed
//! into place in one step, all under a per-version lock: a concurrent install waits and then
//! finds the toolchain installed, and an interrupted one leaves only a dot-named leftover that
//! the next install of that version deletes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::goenv::EnvChange;
use crate::resolve::{SWITCH_VERSION_ENV, VersionSpec};
use crate::toolchain::{self, DiscoveryEnv, Toolchain};
use crate::version::GoVersion;

/// Marks a GOROOT as installed by gowarden (and so removable by it). Inside the GOROOT, so the
/// rename that installs a toolchain installs its marker in the same step.
pub const MARKER: &str = ".gowarden-install.json";

const TOOLCHAIN_MODULE: &str = "golang.org/toolchain";
const SWITCH_COUNT_ENV: &str = "GOTOOLCHAIN_INTERNAL_SWITCH_COUNT";

/// What [`MARKER`] records: enough to tell later where a toolchain came from.
#[derive(Debug, Serialize, Deserialize)]
pub struct Marker {
    pub name: String,
    pub platform: String,
    /// How it was fetched and verified, in words.
    pub source: String,
    pub installed_by: String,
    pub installed_at_unix: u64,
}

/// Where a toolchain comes from.
pub enum Source<'a> {
    /// Go's own route: `bootstrap` downloads the toolchain module, with `env` applied: the
    /// policy's `[env]` changes ([`policy_env`]), so the download goes through the policy's
    /// GOPROXY and is checked against its GOSUMDB.
    Proxy {
        bootstrap: &'a Toolchain,
        env: &'a [EnvChange],
    },
    /// A go.dev archive or a module proxy zip, and the SHA-256 it must have.
    Archive { file: &'a Path, sha256: [u8; 32] },
}

/// How much an install says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// `gowarden toolchain install`: what is fetched from where, and a byte count on a terminal.
    Cli,
    /// The shim, which has printed its one-line notice: only the byte count, on a terminal, and
    /// erased when done.
    Shim,
}

/// What an install did.
#[derive(Debug)]
pub struct Installed {
    pub name: String,
    pub goroot: PathBuf,
    /// False when the toolchain was already installed and nothing was done.
    pub fresh: bool,
    pub source: String,
}

/// The toolchain name (`go1.22.3`) for a version written as `1.22.3` or `go1.22.3`. Only an
/// exact release or prerelease names a toolchain.
pub fn toolchain_name(written: &str) -> Result<String> {
    match VersionSpec::parse(written) {
        Some(VersionSpec::Exact(v)) => Ok(format!("go{v}")),
        Some(_) => Err(Error::new(format!(
            "{written:?} names a release family, not a toolchain; name an exact release such as \
             1.22.10"
        ))),
        None => Err(Error::new(format!(
            "{written:?} is not a Go version; write e.g. 1.22.10 or go1.22.10"
        ))),
    }
}

/// gowarden's own toolchains dir for this user: `$XDG_DATA_HOME/gowarden/toolchains`.
pub fn default_dir() -> Result<PathBuf> {
    toolchain::gowarden_toolchains_dir(crate::userdirs::data_dir().as_deref()).ok_or_else(|| {
        Error::new(
            "cannot find gowarden's toolchains dir: neither XDG_DATA_HOME nor HOME is set \
             (or pass --dir DIR)",
        )
    })
}

/// The go that fetches toolchains: the newest stable go ≥ 1.21 (the first with toolchain
/// modules) among `installed`, never the shim itself.
pub fn find_bootstrap(installed: &[Toolchain]) -> Option<&Toolchain> {
    let min = GoVersion::parse("1.21.0")?;
    let self_id = toolchain::self_identity();
    let usable: Vec<&Toolchain> = installed
        .iter()
        .filter(|t| t.version.cmp_go(&min).is_ge())
        .filter(|t| !toolchain::is_self(&t.go_binary("go"), self_id))
        .collect();
    usable
        .iter()
        .find(|t| !t.version.is_prerelease())
        .or(usable.first())
        .copied()
}

/// The message for a machine with no go to fetch with: the archive route still works.
pub fn no_bootstrap(name: &str) -> Error {
    Error::new(format!(
        "no Go toolchain ≥ 1.21 on this machine to fetch {name} with (gowarden uses Go's own \
         checksum-verified download, which needs one); download {name}.{platform}.tar.gz from \
         https://go.dev/dl/ and run `gowarden toolchain install {name} --archive \
         {name}.{platform}.tar.gz --sha256 <its SHA-256 from go.dev/dl>`",
        platform = toolchain::go_platform(),
    ))
}

/// The shim's `[toolchains] auto_install`: installs toolchain `name` (`go1.22.3`) into the
/// user's toolchains dir through Go's module proxy, after a one-line notice on stderr.
pub fn auto_install(name: &str) -> Result<()> {
    let dir = default_dir()?;
    let policy = crate::policy::load::load()?;
    let installed = toolchain::discover(
        &policy.policy.toolchains.search(),
        &DiscoveryEnv::from_process(crate::goenv::effective_gomodcache()),
    );
    let bootstrap = find_bootstrap(&installed).ok_or_else(|| no_bootstrap(name))?;
    let env = policy_env(&policy, bootstrap)?;
    eprintln!(
        "gowarden: installing {name} into {} with {} ([toolchains] auto_install in {})",
        dir.display(),
        bootstrap.name,
        policy.origin
    );
    install(
        &dir,
        name,
        &Source::Proxy {
            bootstrap,
            env: &env,
        },
        Verbosity::Shim,
    )
    .map(|_| ())
}

/// The `[env]` changes the shim would make for `bootstrap`'s go (enforced GOPROXY, GOSUMDB,
/// forbidden GONOSUMDB, …), for its download of a toolchain. A caller value the policy would
/// refuse is replaced here rather than refused: the download must follow the policy, and
/// installing a toolchain is no go command of the caller's.
pub fn policy_env(
    policy: &crate::policy::LoadedPolicy,
    bootstrap: &Toolchain,
) -> Result<Vec<EnvChange>> {
    crate::policy::env::plan(policy, &bootstrap.goroot, crate::goenv::process_env, || {
        true
    })
    .map(|p| p.changes)
    .map_err(|r| Error::new(r.message))
}

/// Installs toolchain `name` into `dir` (created if missing) from `source`.
pub fn install(
    dir: &Path,
    name: &str,
    source: &Source<'_>,
    verbosity: Verbosity,
) -> Result<Installed> {
    if let Source::Archive { file, sha256 } = source {
        // Before anything is created: a bad archive leaves nothing behind.
        copy_checked(file, sha256, &mut io::sink())?;
    }
    fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, &e))?;
    let _lock = lock(dir, name, verbosity)?;
    clean_leftovers(dir, name);
    let target = dir.join(name);
    if target.exists() {
        return match toolchain::read_version(&target) {
            Some((found, _)) if found == name && target.join("bin/go").is_file() => Ok(Installed {
                name: name.to_string(),
                source: read_marker(&target)
                    .map(|m| m.source)
                    .unwrap_or_else(|| "not installed by gowarden".into()),
                goroot: target,
                fresh: false,
            }),
            _ => Err(Error::new(format!(
                "{} exists but is not a {name} toolchain; move it away and try again",
                target.display()
            ))),
        };
    }
    let staging = Staging::create(dir, name)?;
    let (root, how) = match source {
        Source::Archive { file, sha256 } => {
            // Unpacked from a private copy checked again on the way in, so what is unpacked
            // is what was checked even if the file changes meanwhile.
            let copy = staging.0.join("archive");
            let mut out = File::create(&copy).map_err(|e| Error::io("cannot create", &copy, &e))?;
            copy_checked(file, sha256, &mut out)?;
            let (root, kind) = unpack_archive(&copy, &staging.0, name)?;
            let how = format!(
                "{kind} {} with pinned SHA-256 {}",
                file.display(),
                hex(sha256)
            );
            (root, how)
        }
        Source::Proxy { bootstrap, env } => {
            fetch_module(bootstrap, env, &staging.0, name, verbosity)?
        }
    };
    verify(&root, name)?;
    let marker = Marker {
        name: name.to_string(),
        platform: toolchain::go_platform(),
        source: how.clone(),
        installed_by: format!("gowarden {}", env!("CARGO_PKG_VERSION")),
        installed_at_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    let json = serde_json::to_vec_pretty(&marker).map_err(|e| Error::new(e.to_string()))?;
    let marker_path = root.join(MARKER);
    fs::write(&marker_path, json).map_err(|e| Error::io("cannot write", &marker_path, &e))?;
    // The one step that makes the toolchain visible; renaming onto an existing dir fails
    // rather than merging into it.
    fs::rename(&root, &target).map_err(|e| {
        Error::new(format!(
            "cannot move {} into place at {}: {e}",
            root.display(),
            target.display()
        ))
    })?;
    Ok(Installed {
        name: name.to_string(),
        goroot: target,
        fresh: true,
        source: how,
    })
}

/// Why [`remove`] did not remove anything.
#[derive(Debug)]
pub enum RemoveError {
    /// Nothing by that name in the dir.
    NotFound,
    Other(Error),
}

/// Removes toolchain `name` from `dir`, if gowarden installed it there.
pub fn remove(dir: &Path, name: &str) -> Result<PathBuf, RemoveError> {
    let target = dir.join(name);
    if !target.exists() {
        return Err(RemoveError::NotFound);
    }
    if read_marker(&target).is_none() {
        return Err(RemoveError::Other(Error::new(format!(
            "{} was not installed by gowarden (it has no {MARKER}); remove it by hand if you \
             mean to",
            target.display()
        ))));
    }
    let _lock = lock(dir, name, Verbosity::Cli).map_err(RemoveError::Other)?;
    if !target.exists() {
        return Err(RemoveError::NotFound); // removed while we waited for the lock
    }
    // Out of discovery's sight in one step, then deleted at leisure.
    let trash = dir.join(format!(".removing-{name}-{}", std::process::id()));
    fs::rename(&target, &trash)
        .map_err(|e| RemoveError::Other(Error::io("cannot move away", &target, &e)))?;
    fs::remove_dir_all(&trash)
        .map_err(|e| RemoveError::Other(Error::io("cannot delete", &trash, &e)))?;
    Ok(target)
}

/// The marker of a GOROOT gowarden installed; `None` for any other.
pub fn read_marker(goroot: &Path) -> Option<Marker> {
    let text = fs::read(goroot.join(MARKER)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Parses a SHA-256 written as 64 hex digits.
pub fn parse_sha256(hex_text: &str) -> Result<[u8; 32]> {
    crate::hex::decode_sha256(&hex_text.trim().to_ascii_lowercase()).ok_or_else(|| {
        Error::new(format!(
            "{hex_text:?} is not a SHA-256: expected 64 hex digits, as go.dev/dl lists them"
        ))
    })
}

use crate::hex::encode as hex;

/// Copies `file` to `out`, failing unless its SHA-256 is `want`.
fn copy_checked(file: &Path, want: &[u8; 32], out: &mut impl Write) -> Result<()> {
    let mut f = File::open(file).map_err(|e| Error::io("cannot open archive", file, &e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::io("cannot read archive", file, &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| Error::new(format!("cannot copy {}: {e}", file.display())))?;
    }
    let got = hasher.finalize();
    if got.as_slice() != want {
        return Err(Error::new(format!(
            "checksum mismatch: {} has SHA-256 {}, expected {}; nothing was installed",
            file.display(),
            hex(&got),
            hex(want)
        )));
    }
    Ok(())
}

/// Holds the per-version lock file open (and so locked) until dropped.
fn lock(dir: &Path, name: &str, verbosity: Verbosity) -> Result<File> {
    let path = dir.join(format!(".{name}.lock"));
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("cannot open lock file", &path, &e))?;
    match f.try_lock() {
        Ok(()) => return Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io("cannot lock", &path, &e)),
    }
    if verbosity == Verbosity::Cli {
        eprintln!(
            "gowarden: waiting for another gowarden working on {name} (lock {})",
            path.display()
        );
    }
    f.lock().map_err(|e| Error::io("cannot lock", &path, &e))?;
    Ok(f)
}

/// Deletes what an interrupted install or removal of `name` left. Only called under the
/// version's lock, so no live process owns these.
fn clean_leftovers(dir: &Path, name: &str) {
    let prefixes = [format!(".staging-{name}-"), format!(".removing-{name}-")];
    let Ok(rd) = fs::read_dir(dir) else { return };
    for entry in rd.flatten() {
        let file_name = entry.file_name();
        let n = file_name.to_string_lossy();
        if prefixes.iter().any(|p| n.starts_with(p.as_str())) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A staging dir, deleted when dropped (whatever was moved out of it is kept).
struct Staging(PathBuf);

impl Staging {
    fn create(dir: &Path, name: &str) -> Result<Staging> {
        let path = dir.join(format!(".staging-{name}-{}", std::process::id()));
        fs::create_dir(&path).map_err(|e| Error::io("cannot create", &path, &e))?;
        Ok(Staging(path))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Unpacks an archive of toolchain `name` into `staging/go`, and says what kind it was: a
/// go.dev archive (a gzipped tar of one `go/` tree) or a module proxy zip
/// (`golang.org/toolchain/@v/v0.0.1-goX.Y.Z.OS-ARCH.zip`).
fn unpack_archive(file: &Path, staging: &Path, name: &str) -> Result<(PathBuf, &'static str)> {
    let mut magic = [0u8; 4];
    File::open(file)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map_err(|e| Error::io("cannot read archive", file, &e))?;
    let (root, kind) = match magic {
        [0x1f, 0x8b, ..] => (unpack_tar_gz(file, staging)?, "go.dev archive"),
        [b'P', b'K', 3, 4] => (unpack_module_zip(file, staging, name)?, "module zip"),
        _ => {
            return Err(Error::new(format!(
                "cannot unpack {}: it is neither a go.dev .tar.gz nor a module proxy .zip",
                file.display()
            )));
        }
    };
    if !root.join("VERSION").is_file() {
        return Err(Error::new(format!(
            "{} holds no Go toolchain: it has no VERSION file",
            file.display()
        )));
    }
    Ok((root, kind))
}

/// A go.dev archive: a gzipped tar of one `go/` tree, unpacked with the tar crate over the
/// flate2 the module zips already need (no `tar` program, whose flags and safety differ by
/// system). Every entry must be a file, directory or symlink under `go/` by a path of plain
/// components, and a symlink must point inside the tree: an archive that could write outside
/// the staging dir, directly or through a link it made, is refused whole, never half unpacked
/// and skipped over. Owners are never taken from the archive.
fn unpack_tar_gz(file: &Path, staging: &Path) -> Result<PathBuf> {
    use std::path::Component;
    use tar::EntryType;
    let bad = |why: String| Error::new(format!("cannot unpack {}: {why}", file.display()));
    let f = File::open(file).map_err(|e| Error::io("cannot open archive", file, &e))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(f)));
    archive.set_preserve_ownerships(false);
    archive.set_preserve_permissions(false);
    archive.set_unpack_xattrs(false);
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        let shown = path.display().to_string();
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            continue; // pax metadata for the whole archive, no file
        }
        let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain || path.components().next() != Some(Component::Normal("go".as_ref())) {
            return Err(bad(format!(
                "unsafe path {shown:?}: a go.dev archive holds only paths under go/"
            )));
        }
        match kind {
            EntryType::Regular | EntryType::Directory => {}
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(|e| bad(e.to_string()))?
                    .unwrap_or_default()
                    .into_owned();
                if !link_stays_inside(&path, &target) {
                    return Err(bad(format!(
                        "unsafe symlink {shown:?} -> {:?}: it points outside go/",
                        target.display()
                    )));
                }
            }
            other => {
                return Err(bad(format!(
                    "{shown:?} is a {other:?} entry; a go.dev archive holds only files, \
                     directories and symlinks"
                )));
            }
        }
        // unpack_in checks once more that the entry's parent, links resolved, is inside.
        let inside = entry
            .unpack_in(staging)
            .map_err(|e| bad(format!("{shown}: {e}")))?;
        if !inside {
            return Err(bad(format!("unsafe path {shown:?}")));
        }
    }
    Ok(staging.join("go"))
}

/// Whether the symlink at `path` (relative, under `go/`) to `target` resolves inside `go/`,
/// read lexically: a relative target of plain components and `..` that never climbs above it.
fn link_stays_inside(path: &Path, target: &Path) -> bool {
    use std::path::Component;
    let mut depth = path.components().count().saturating_sub(1); // the link's own directory
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 1 => depth -= 1,
            _ => return false, // above go/, or absolute
        }
    }
    !target.as_os_str().is_empty()
}

/// A module zip holds every file under `golang.org/toolchain@VERSION/` and keeps no file
/// modes, so the tree is then made runnable as go does after a download.
fn unpack_module_zip(file: &Path, staging: &Path, name: &str) -> Result<PathBuf> {
    let prefix = format!("{TOOLCHAIN_MODULE}@{}/", module_version(name));
    let bad = |why: String| Error::new(format!("cannot unpack {}: {why}", file.display()));
    let f = File::open(file).map_err(|e| Error::io("cannot open archive", file, &e))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| bad(e.to_string()))?;
    let root = staging.join("go");
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
        let Some(rel) = entry
            .name()
            .strip_prefix(prefix.as_str())
            .map(PathBuf::from)
        else {
            return Err(bad(format!(
                "it is not the module zip of {prefix}: it holds {:?}",
                entry.name()
            )));
        };
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(bad(format!("unsafe path {:?}", entry.name())));
        }
        let out = root.join(&rel);
        let parent = if entry.is_dir() {
            Some(out.as_path())
        } else {
            out.parent()
        };
        if let Some(dir) = parent {
            fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, &e))?;
        }
        if !entry.is_dir() {
            let mut w = File::create(&out).map_err(|e| Error::io("cannot create", &out, &e))?;
            io::copy(&mut entry, &mut w).map_err(|e| bad(format!("{}: {e}", entry.name())))?;
        }
    }
    make_runnable(&root)?;
    Ok(root)
}

/// The `golang.org/toolchain` module version of toolchain `name` for this platform.
fn module_version(name: &str) -> String {
    format!("v0.0.1-{name}.{}", toolchain::go_platform())
}

/// What `go mod download -json` prints for one module.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Download {
    dir: Option<PathBuf>,
    sum: Option<String>,
    error: Option<String>,
}

/// Fetches toolchain `name` with `bootstrap` into a private module cache inside `staging`;
/// returns its GOROOT, made runnable as go itself does after a download, and how it was got.
fn fetch_module(
    bootstrap: &Toolchain,
    policy_env: &[EnvChange],
    staging: &Path,
    name: &str,
    verbosity: Verbosity,
) -> Result<(PathBuf, String)> {
    let module = format!("{TOOLCHAIN_MODULE}@{}", module_version(name));
    // A go.mod of our own, so that no go.mod above the toolchains dir takes part.
    let gomod = staging.join("go.mod");
    fs::write(&gomod, "module gowarden/staging\n")
        .map_err(|e| Error::io("cannot write", &gomod, &e))?;
    let cache = staging.join("modcache");
    let go = bootstrap.go_binary("go");
    if verbosity == Verbosity::Cli {
        eprintln!(
            "gowarden: fetching {module} with {} ({}), through go's GOPROXY and checked \
             against its GOSUMDB",
            bootstrap.name,
            go.display()
        );
    }
    let mut cmd = Command::new(&go);
    for c in policy_env {
        match &c.to {
            Some(v) => cmd.env(&c.key, v),
            None => cmd.env_remove(&c.key),
        };
    }
    let mut child = cmd
        // -x makes go name each URL it fetches: the only way to say where the bytes come from.
        .args(["mod", "download", "-x", "-json", &module])
        .current_dir(staging)
        .env("GOMODCACHE", &cache)
        // Leaves the extracted tree's dirs writable, so it can be moved and later removed;
        // replaces any GOFLAGS (-mod=vendor, …) that would break a plain download.
        .env("GOFLAGS", "-modcacherw")
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env("GO111MODULE", "on")
        .env_remove("GOROOT")
        // The shim may be installing during go's own toolchain switch; the bootstrap go must
        // not take that handshake as meant for itself.
        .env_remove(SWITCH_VERSION_ENV)
        .env_remove(SWITCH_COUNT_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::new(format!("cannot run {}: {e}", go.display())))?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let tty = io::stderr().is_terminal();
    let reader = child.stderr.take().map(|stderr| {
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                let first_zip = seen.lock().map(|mut s| s.note(&line)).unwrap_or(false);
                if first_zip
                    && verbosity == Verbosity::Cli
                    && let Some(url) = seen.lock().ok().and_then(|s| s.zip_url.clone())
                {
                    // On a terminal, over the progress line, which is redrawn below it.
                    let clear = if tty { "\r\x1b[K" } else { "" };
                    eprintln!("{clear}gowarden: downloading {url}");
                }
            }
        })
    });
    let done = Arc::new(AtomicBool::new(false));
    let ticker = tty.then(|| {
        let done = Arc::clone(&done);
        let dir = cache
            .join("cache/download")
            .join(TOOLCHAIN_MODULE)
            .join("@v");
        std::thread::spawn(move || tick(&dir, &done))
    });
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    let status = child.wait();
    done.store(true, Ordering::Relaxed);
    if let Some(t) = ticker {
        let _ = t.join();
    }
    if let Some(r) = reader {
        let _ = r.join();
    }
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let status =
        status.map_err(|e| Error::new(format!("cannot wait for {}: {e}", go.display())))?;
    let parsed: Option<Download> = serde_json::from_str(&stdout).ok();
    let failure = match &parsed {
        Some(Download { error: Some(e), .. }) => Some(e.clone()),
        _ if !status.success() || parsed.is_none() => Some(seen.errors.join("; ")),
        _ => None,
    };
    if let Some(why) = failure {
        return Err(Error::new(format!(
            "cannot fetch {name} for {} with {} ({}): {}",
            toolchain::go_platform(),
            bootstrap.name,
            go.display(),
            why.trim()
        )));
    }
    let download = parsed.unwrap_or(Download {
        dir: None,
        sum: None,
        error: None,
    });
    let root = download
        .dir
        .filter(|d| d.starts_with(&cache))
        .ok_or_else(|| {
            Error::new(format!(
                "`go mod download {module}` named no directory in {}",
                cache.display()
            ))
        })?;
    make_runnable(&root)?;
    let mut how = format!(
        "{module} {} fetched by {}",
        download.sum.unwrap_or_default(),
        bootstrap.name
    );
    if let Some(url) = &seen.zip_url {
        how.push_str(&format!(" from {url}"));
    }
    match &seen.sumdb_url {
        Some(url) => how.push_str(&format!(", checked against the checksum database ({url})")),
        None => {
            how.push_str(
                ", not looked up in any checksum database (go's GOPROXY/GOSUMDB/GONOSUMDB \
                 settings let it skip that)",
            );
            if verbosity == Verbosity::Cli {
                eprintln!(
                    "gowarden: warning: go did not check {module} against a checksum database"
                );
            }
        }
    }
    Ok((root, how))
}

/// What go's `-x` trace told us.
#[derive(Debug, Clone, Default)]
struct Seen {
    zip_url: Option<String>,
    sumdb_url: Option<String>,
    /// Lines that are not trace lines: go's own error messages.
    errors: Vec<String>,
}

impl Seen {
    /// Records one stderr line; true when it is the first mention of the zip's URL.
    fn note(&mut self, line: &str) -> bool {
        let Some(url) = line.strip_prefix("# get ") else {
            if !line.trim().is_empty() {
                self.errors.push(line.to_string());
            }
            return false;
        };
        // `# get URL` before, `# get URL: 200 OK (0.4s)` after.
        let url = url.split(": ").next().unwrap_or(url).to_string();
        if url.contains(&format!("/lookup/{TOOLCHAIN_MODULE}@")) {
            self.sumdb_url.get_or_insert(url);
            false
        } else if url.ends_with(".zip") && self.zip_url.is_none() {
            self.zip_url = Some(url);
            true
        } else {
            false
        }
    }
}

/// Redraws one status line on a terminal until `done`: the bytes so far, and when go unpacks.
fn tick(dir: &Path, done: &AtomicBool) {
    let start = Instant::now();
    let mut err = io::stderr();
    while !done.load(Ordering::Relaxed) {
        let mut bytes = 0;
        let mut unpacking = false;
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
            // go downloads into a temp file and renames it to the .zip when complete.
            unpacking |= entry.file_name().to_string_lossy().ends_with(".zip");
        }
        let phase = if unpacking { ", unpacking" } else { "" };
        // Short, so it stays on one line of a narrow terminal and `\r` can redraw it.
        let _ = write!(
            err,
            "\r\x1b[Kgowarden: {:.1} MB downloaded{phase} ({}s)",
            bytes as f64 / 1e6,
            start.elapsed().as_secs()
        );
        let _ = err.flush();
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = write!(err, "\r\x1b[K");
    let _ = err.flush();
}

/// Does to a freshly downloaded toolchain module what go does on its first use of one
/// (cmd/go/internal/toolchain `Exec`): module zips keep no file modes, so the commands get
/// their execute bits, and the `_go.mod` files (a module zip cannot hold nested go.mod files)
/// are copied to `go.mod`.
fn make_runnable(root: &Path) -> Result<()> {
    allow_exec(&root.join("pkg/tool"), |_| true)?;
    allow_exec(&root.join("lib"), |n| {
        // go's pattern `go_?*_?*_exec`
        n.strip_prefix("go_")
            .and_then(|r| r.strip_suffix("_exec"))
            .is_some_and(|mid| {
                mid.split_once('_')
                    .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
            })
    })?;
    allow_exec(&root.join("bin"), |_| true)?;
    copy_underscore_go_mod(root)
}

fn allow_exec(dir: &Path, matches: impl Fn(&str) -> bool + Copy) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(rd) = fs::read_dir(dir) else {
        return Ok(()); // lib/ has no exec wrappers in some releases
    };
    for entry in rd.flatten() {
        let path = entry.path();
        let meta = fs::metadata(&path).map_err(|e| Error::io("cannot stat", &path, &e))?;
        if meta.is_dir() {
            allow_exec(&path, matches)?;
        } else if matches(&entry.file_name().to_string_lossy()) {
            let mode = meta.permissions().mode() & 0o777 | 0o111;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io("cannot make executable", &path, &e))?;
        }
    }
    Ok(())
}

fn copy_underscore_go_mod(dir: &Path) -> Result<()> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io("cannot list", dir, &e))?;
    for entry in rd.flatten() {
        let path = entry.path();
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("cannot stat", &path, &e))?;
        if ft.is_dir() {
            copy_underscore_go_mod(&path)?;
        } else if entry.file_name() == "_go.mod" {
            let to = dir.join("go.mod");
            fs::copy(&path, &to).map_err(|e| Error::io("cannot copy to", &to, &e))?;
        }
    }
    Ok(())
}

/// Checks that `root` is toolchain `name`: its VERSION says so, and its go runs and says so.
fn verify(root: &Path, name: &str) -> Result<()> {
    match toolchain::read_version(root) {
        Some((found, _)) if found == name => {}
        Some((found, _)) => {
            return Err(Error::new(format!(
                "the toolchain fetched for {name} is {found} (its VERSION file says so); not \
                 installed"
            )));
        }
        None => {
            return Err(Error::new(format!(
                "the toolchain fetched for {name} has no readable VERSION file; not installed"
            )));
        }
    }
    let go = root.join("bin").join("go");
    let out = Command::new(&go)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .env_remove("GOROOT")
        .env_remove(SWITCH_VERSION_ENV)
        .env_remove(SWITCH_COUNT_ENV)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::new(format!(
                "the fetched {name} does not run ({}: {e}); not installed",
                go.display()
            ))
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !text.starts_with(&format!("go version {name} ")) {
        return Err(Error::new(format!(
            "the fetched {name} does not report itself as {name}: `go version` said {:?}{}; not \
             installed",
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar entry: path, type, link target, data.
    type Entry<'a> = (&'a str, tar::EntryType, &'a str, &'a [u8]);

    /// A gzipped tar of `entries`, headers written raw so
    /// that paths the tar crate's builder would refuse can be written too.
    fn tar_gz(dir: &Path, entries: &[Entry<'_>]) -> PathBuf {
        let file = dir.join("a.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            File::create(&file).unwrap(),
            flate2::Compression::fast(),
        );
        let mut b = tar::Builder::new(gz);
        for (path, kind, link, data) in entries {
            let mut h = tar::Header::new_gnu();
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..path.len()].copy_from_slice(path.as_bytes());
            gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_entry_type(*kind);
            h.set_mode(0o755);
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap();
        file
    }

    /// What unpacking gives: `Ok` with every path under staging, or the error with the
    /// archive's path replaced by `A`.
    fn unpack(entries: &[Entry<'_>]) -> std::result::Result<Vec<String>, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = tar_gz(dir.path(), entries);
        let staging = dir.path().join("staging");
        fs::create_dir(&staging).unwrap();
        let result = unpack_tar_gz(&file, &staging);
        let mut found: Vec<String> = Vec::new();
        let mut stack = vec![dir.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                found.push(p.strip_prefix(dir.path()).unwrap().display().to_string());
                if p.is_dir() && !p.is_symlink() {
                    stack.push(p);
                }
            }
        }
        found.sort();
        match result {
            Ok(root) => {
                assert_eq!(root, staging.join("go"));
                Ok(found)
            }
            Err(e) => {
                // Whatever was refused wrote nothing outside the staging dir.
                assert!(
                    found
                        .iter()
                        .all(|f| f == "a.tar.gz" || f.starts_with("staging")),
                    "{found:?}"
                );
                Err(e.message().replace(&file.display().to_string(), "A"))
            }
        }
    }

    #[test]
    fn tar_gz_unpacks_files_dirs_and_inner_links() {
        use tar::EntryType::{Directory, Regular, Symlink};
        let got = unpack(&[
            ("go/", Directory, "", b""),
            ("go/bin/", Directory, "", b""),
            ("go/bin/go", Regular, "", b"#!/bin/sh\n"),
            ("go/VERSION", Regular, "", b"go1.22.3\n"),
            ("go/bin/version", Symlink, "../VERSION", b""),
        ]);
        assert_eq!(
            got,
            Ok(vec![
                "a.tar.gz".to_string(),
                "staging".into(),
                "staging/go".into(),
                "staging/go/VERSION".into(),
                "staging/go/bin".into(),
                "staging/go/bin/go".into(),
                "staging/go/bin/version".into(),
            ])
        );
    }

    #[test]
    fn tar_gz_that_could_write_outside_is_refused_whole() {
        use tar::EntryType::{Directory, Link, Regular, Symlink};
        let cases: &[(&[Entry<'_>], &str)] = &[
            (
                &[("go/../../escaped", Regular, "", b"x")],
                "cannot unpack A: unsafe path \"go/../../escaped\": a go.dev archive holds only \
                 paths under go/",
            ),
            (
                &[("/tmp/escaped", Regular, "", b"x")],
                "cannot unpack A: unsafe path \"/tmp/escaped\": a go.dev archive holds only \
                 paths under go/",
            ),
            (
                &[("other/file", Regular, "", b"x")],
                "cannot unpack A: unsafe path \"other/file\": a go.dev archive holds only paths \
                 under go/",
            ),
            (
                &[
                    ("go/", Directory, "", b""),
                    ("go/up", Symlink, "..", b""),
                    ("go/up/escaped", Regular, "", b"x"),
                ],
                "cannot unpack A: unsafe symlink \"go/up\" -> \"..\": it points outside go/",
            ),
            (
                &[("go/bin/abs", Symlink, "/etc", b"")],
                "cannot unpack A: unsafe symlink \"go/bin/abs\" -> \"/etc\": it points outside go/",
            ),
            (
                &[("go/bin/deep", Symlink, "../../x", b"")],
                "cannot unpack A: unsafe symlink \"go/bin/deep\" -> \"../../x\": it points outside go/",
            ),
            (
                &[("go/hard", Link, "/etc/passwd", b"")],
                "cannot unpack A: \"go/hard\" is a Link entry; a go.dev archive holds only files, \
                 directories and symlinks",
            ),
        ];
        for (entries, want) in cases {
            assert_eq!(unpack(entries), Err(want.to_string()), "{entries:?}");
        }
    }

    #[test]
    fn names_only_exact_versions() {
        assert_eq!(toolchain_name("1.22.3").unwrap(), "go1.22.3");
        assert_eq!(toolchain_name("go1.23rc1").unwrap(), "go1.23rc1");
        assert!(
            toolchain_name("1.22")
                .unwrap_err()
                .message()
                .contains("family")
        );
        assert!(toolchain_name("go1.22.3-corp").is_err());
        assert!(toolchain_name("../x").is_err());
    }

    #[test]
    fn sha256_parsing() {
        let h = "00ff".repeat(16);
        assert_eq!(parse_sha256(&h).unwrap()[..2], [0x00, 0xff]);
        assert!(parse_sha256(&h[1..]).is_err());
        assert!(parse_sha256(&format!("{}zz", &h[2..])).is_err());
        assert!(parse_sha256(&"é".repeat(32)).is_err());
    }

    #[test]
    fn trace_lines_give_zip_and_sumdb_urls() {
        let mut s = Seen::default();
        let z = "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.21.13.linux-amd64.zip";
        assert!(!s.note("# get https://proxy.golang.org/golang.org/toolchain/@v/x.info"));
        assert!(!s.note(
            "# get https://proxy.golang.org/sumdb/sum.golang.org/lookup/golang.org/toolchain@v0.0.1-go1.21.13.linux-amd64: 200 OK (0.001s)"
        ));
        assert!(s.note(&format!("# get {z}")));
        assert!(!s.note(&format!("# get {z}: 200 OK (0.4s)")));
        assert!(!s.note("go: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: not found"));
        assert_eq!(s.zip_url.as_deref(), Some(z));
        assert!(s.sumdb_url.unwrap().ends_with("linux-amd64"));
        assert_eq!(s.errors.len(), 1);
    }
}
