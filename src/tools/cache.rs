//! The tool cache: each pinned tool built once per module@version, Go toolchain, platform and
//! build settings, under `$XDG_CACHE_HOME/gowarden/tools/NAME/VERSION-KEY/`.
//!
//! A build writes into a temp dir beside its final place and renames it there, so a reader
//! sees a whole entry or none; an exclusive lock per entry makes concurrent first runs build
//! once (the others wait, then find the entry). The hot path only stats the binary.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// go settings that change the binary go builds, read as go reads them (environment, go env
/// file, `$GOROOT/go.env`): part of every key.
pub const BUILD_SETTINGS: [&str; 9] = [
    "GOOS",
    "GOARCH",
    "GOFLAGS",
    "CGO_ENABLED",
    "CC",
    "GOEXPERIMENT",
    "GOAMD64",
    "GOARM64",
    "GOARM",
];

/// What a cached binary is a build of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub package: String,
    pub version: String,
    /// The toolchain that builds it: `go1.26.8`.
    pub go: String,
    /// Each of [`BUILD_SETTINGS`] with its value (empty when unset).
    pub settings: Vec<(String, String)>,
}

impl Key {
    /// The hex SHA-256 of every field, one `key=value` line each.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        let mut line = |k: &str, v: &str| {
            h.update(k.as_bytes());
            h.update(b"=");
            h.update(v.as_bytes());
            h.update(b"\n");
        };
        line("package", &self.package);
        line("version", &self.version);
        line("go", &self.go);
        for (k, v) in &self.settings {
            line(k, v);
        }
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    }

    /// The entry's dir name: readable version first, then the first 16 hex digits of the key.
    pub fn dir_name(&self) -> String {
        format!("{}-{}", self.version, &self.digest()[..16])
    }

    /// `linux/amd64`, from GOOS/GOARCH.
    pub fn platform(&self) -> String {
        let get = |k: &str| {
            self.settings
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        format!("{}/{}", get("GOOS"), get("GOARCH"))
    }
}

/// `$XDG_CACHE_HOME/gowarden/tools`, else `~/.cache/gowarden/tools`.
pub fn root() -> Option<PathBuf> {
    crate::userdirs::cache_dir().map(|d| d.join("gowarden").join("tools"))
}

/// One entry of the cache.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dir: PathBuf,
    pub name: String,
}

impl Entry {
    pub fn for_key(root: &Path, key: &Key) -> Entry {
        Entry {
            dir: root.join(&key.name).join(key.dir_name()),
            name: key.name.clone(),
        }
    }

    pub fn binary(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    fn lock_path(&self) -> PathBuf {
        sibling(&self.dir, "lock")
    }

    /// Whether the entry is complete (its binary is there).
    pub fn exists(&self) -> bool {
        std::fs::metadata(self.binary()).is_ok_and(|m| m.is_file())
    }
}

/// `DIR.SUFFIX` beside `dir` (not `with_extension`: the dir name holds dots, `v0.23.0-…`).
fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    dir.with_file_name(name)
}

/// Makes sure the entry exists: builds it with `build(gobin)` (which must leave the binary
/// named `entry.name` in `gobin`) under the entry's lock unless it is there. Returns whether
/// this call built it.
pub fn ensure(
    entry: &Entry,
    key: &Key,
    pin_source: &str,
    build: impl FnOnce(&Path) -> Result<()>,
) -> Result<bool> {
    if entry.exists() {
        return Ok(false);
    }
    let parent = entry.dir.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, &e))?;
    let lock_path = entry.lock_path();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io("cannot open", &lock_path, &e))?;
    lock.lock()
        .map_err(|e| Error::io("cannot lock", &lock_path, &e))?;
    // Another first run may have built it while this one waited.
    if entry.exists() {
        return Ok(false);
    }
    let tmp = sibling(&entry.dir, &format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io("cannot create", &tmp, &e))?;
    let built = build(&tmp).and_then(|()| {
        let bin = tmp.join(&entry.name);
        if !bin.is_file() {
            return Err(Error::new(format!(
                "go install left no {} in {}",
                entry.name,
                tmp.display()
            )));
        }
        write_info(&tmp, key, pin_source)?;
        // A stale entry without its binary (removed by hand) is replaced.
        let _ = std::fs::remove_dir_all(&entry.dir);
        std::fs::rename(&tmp, &entry.dir)
            .map_err(|e| Error::io("cannot rename into", &entry.dir, &e))
    });
    if built.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    built.map(|()| true)
}

fn write_info(dir: &Path, key: &Key, pin_source: &str) -> Result<()> {
    let info = serde_json::json!({
        "name": key.name,
        "package": key.package,
        "version": key.version,
        "go": key.go,
        "platform": key.platform(),
        "settings": key.settings.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        "key": key.digest(),
        "pinned_by": pin_source,
        "built_unix": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    });
    let path = dir.join("info.json");
    let mut f = std::fs::File::create(&path).map_err(|e| Error::io("cannot create", &path, &e))?;
    writeln!(f, "{info}").map_err(|e| Error::io("cannot write", &path, &e))
}

/// A cached tool as `gowarden tool list` shows it.
#[derive(Debug, Clone)]
pub struct Cached {
    pub dir: PathBuf,
    pub name: String,
    pub version: String,
    pub package: String,
    pub go: String,
    pub platform: String,
    pub pinned_by: String,
    pub bytes: u64,
}

/// Every complete entry under `root`, sorted by name then version.
pub fn list(root: &Path) -> Result<Vec<Cached>> {
    let mut out = Vec::new();
    let tools = match std::fs::read_dir(root) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io("cannot read", root, &e)),
    };
    for t in tools.flatten() {
        let Ok(entries) = std::fs::read_dir(t.path()) else {
            continue;
        };
        for e in entries.flatten() {
            let dir = e.path();
            let file_name = e.file_name().to_string_lossy().into_owned();
            if file_name.ends_with(".lock") || file_name.contains(".tmp-") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(dir.join("info.json")) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            let name = s("name");
            let bytes = std::fs::metadata(dir.join(&name))
                .map(|m| m.len())
                .unwrap_or(0);
            out.push(Cached {
                dir,
                version: s("version"),
                package: s("package"),
                go: s("go"),
                platform: s("platform"),
                pinned_by: s("pinned_by"),
                name,
                bytes,
            });
        }
    }
    out.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| super::semver::compare(&a.version, &b.version))
            .then_with(|| a.go.cmp(&b.go))
    });
    Ok(out)
}

/// Removes one entry, under its lock so a build in progress is not cut short.
pub fn remove(c: &Cached) -> Result<()> {
    let lock_path = sibling(&c.dir, "lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io("cannot open", &lock_path, &e))?;
    lock.lock()
        .map_err(|e| Error::io("cannot lock", &lock_path, &e))?;
    std::fs::remove_dir_all(&c.dir).map_err(|e| Error::io("cannot remove", &c.dir, &e))?;
    let _ = std::fs::remove_file(&lock_path);
    Ok(())
}
