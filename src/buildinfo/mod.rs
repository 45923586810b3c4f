//! The build information Go embeds in the executables it links (what `go version -m` prints):
//! the go version, the main package and module, every dependency module with its version,
//! checksum and replacement, and the build settings (`-trimpath`, `CGO_ENABLED`, `vcs.*`, …).
//!
//! Read as Go's debug/buildinfo reads it ([`exe`] finds the data in ELF, PE or Mach-O): the
//! blob starts with the 16-byte-aligned magic `\xff Go buildinf:` in the section
//! `.go.buildinfo` (ELF) or `__go_buildinfo` (Mach-O), else in the first writable data
//! segment (PE: section); its 32-byte header says how the two strings that follow are stored.
//! Since go1.18 they are inline, each a uvarint length and its bytes: the go version, then the
//! module information ([`modinfo`]) framed by 16 bytes on each side. Before go1.18 the header
//! held pointers to Go string headers instead; that form is read too.
//!
//! Nothing here is on the shim's path: `gowarden check --binary` is its only user.

mod exe;
pub mod modinfo;
mod quote;
mod scan;

pub use scan::{Scan, scan};

use std::fmt;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde_json::{Map, Value, json};

/// A module of a build: the main module, a dependency, or the replacement of one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    /// `h1:` checksum; empty for the main module, replaced modules and local replacements.
    pub sum: String,
    pub replace: Option<Box<Module>>,
}

/// One `build` line: `-trimpath=true`, `CGO_ENABLED=0`, `vcs.modified=true`, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

/// What a Go binary says about how it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// As the toolchain wrote it: `go1.22.12`, `go1.25.0 X:nosynchashtriggeredpanic`, `devel …`.
    pub go_version: String,
    /// The main package's import path.
    pub path: String,
    /// `None` for a binary built outside module mode (GOPATH mode, or `go build file.go` on
    /// older releases).
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    pub settings: Vec<Setting>,
}

impl BuildInfo {
    /// The value of build setting `key`, if the build recorded one.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.value.as_str())
    }

    /// The JSON shape of Go's `debug.BuildInfo`, exactly as `go version -m -json` prints it
    /// (field names, omitted empty fields, `Main` always present).
    pub fn to_go_json(&self) -> Value {
        fn module(m: &Module) -> Value {
            let mut o = Map::new();
            for (k, v) in [("Path", &m.path), ("Version", &m.version), ("Sum", &m.sum)] {
                if !v.is_empty() {
                    o.insert(k.into(), json!(v));
                }
            }
            if let Some(r) = &m.replace {
                o.insert("Replace".into(), module(r));
            }
            Value::Object(o)
        }
        let mut o = Map::new();
        if !self.go_version.is_empty() {
            o.insert("GoVersion".into(), json!(self.go_version));
        }
        if !self.path.is_empty() {
            o.insert("Path".into(), json!(self.path));
        }
        o.insert(
            "Main".into(),
            self.main.as_ref().map(module).unwrap_or_else(|| json!({})),
        );
        if !self.deps.is_empty() {
            o.insert("Deps".into(), self.deps.iter().map(module).collect());
        }
        if !self.settings.is_empty() {
            let s: Vec<Value> = self
                .settings
                .iter()
                .map(|s| {
                    let mut o = Map::new();
                    if !s.key.is_empty() {
                        o.insert("Key".into(), json!(s.key));
                    }
                    if !s.value.is_empty() {
                        o.insert("Value".into(), json!(s.value));
                    }
                    Value::Object(o)
                })
                .collect();
            o.insert("Settings".into(), Value::Array(s));
        }
        Value::Object(o)
    }
}

/// Why a file's build information could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Opening or reading the file failed.
    Io(String),
    /// Not ELF, PE or Mach-O.
    NotExecutable,
    /// An executable, but it holds no Go build information.
    NotGo { format: &'static str },
    /// The headers or the build information are cut short or inconsistent.
    Malformed { format: &'static str, what: String },
    /// The module information string breaks go's grammar.
    Modinfo { line: usize, message: String },
}

impl ReadError {
    /// A short machine-readable name (JSON).
    pub fn kind(&self) -> &'static str {
        match self {
            ReadError::Io(_) => "unreadable",
            ReadError::NotExecutable => "not-executable",
            ReadError::NotGo { .. } => "not-go",
            ReadError::Malformed { .. } => "malformed",
            ReadError::Modinfo { .. } => "malformed-modinfo",
        }
    }

    /// Files a directory walk passes over without a word: they are simply not Go binaries.
    pub fn is_not_go(&self) -> bool {
        matches!(self, ReadError::NotExecutable | ReadError::NotGo { .. })
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read it: {e}"),
            ReadError::NotExecutable => {
                f.write_str("not an executable (neither ELF, PE nor Mach-O)")
            }
            ReadError::NotGo { format } => write!(
                f,
                "not a Go executable: {} {format} file without Go build information (not \
                 built by go, or its build information was removed)",
                if *format == "ELF" { "an" } else { "a" }
            ),
            ReadError::Malformed { format, what } => write!(f, "corrupt {format} file: {what}"),
            ReadError::Modinfo { line, message } => write!(
                f,
                "corrupt Go build information: line {line} of its module information: {message}"
            ),
        }
    }
}

/// Random access to the bytes of an executable.
#[allow(clippy::len_without_is_empty)] // an empty file is simply not an executable
pub trait Source {
    fn len(&self) -> u64;
    /// Fills `buf` from `offset`; the caller has checked the range against [`Source::len`].
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError>;
}

struct Bytes<'a>(&'a [u8]);

impl Source for Bytes<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let start = usize::try_from(offset).map_err(|_| ReadError::Io("offset".into()))?;
        let src = self
            .0
            .get(start..start + buf.len())
            .ok_or_else(|| ReadError::Io(format!("read past the end at {offset:#x}")))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

struct FileSource {
    file: File,
    len: u64,
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| ReadError::Io(format!("at offset {offset:#x}: {e}")))
    }
}

/// Reads the build information of an executable held in memory.
pub fn read_bytes(data: &[u8]) -> Result<BuildInfo, ReadError> {
    read(&Bytes(data))
}

/// Reads the build information of the file at `path`.
pub fn read_file(path: &Path) -> Result<BuildInfo, ReadError> {
    let file = File::open(path).map_err(|e| ReadError::Io(e.to_string()))?;
    let len = file
        .metadata()
        .map_err(|e| ReadError::Io(e.to_string()))?
        .len();
    read(&FileSource { file, len })
}

const MAGIC: &[u8] = b"\xff Go buildinf:";
const ALIGN: u64 = 16;
const HEADER: u64 = 32;
const CHUNK: u64 = 1 << 20;

/// Reads the build information of an executable held in `src`.
pub fn read(src: &dyn Source) -> Result<BuildInfo, ReadError> {
    let x = exe::parse(src)?;
    let format = x.format;
    let malformed = |what: String| ReadError::Malformed { format, what };
    let (start, size) = x.data_start;
    if size == 0 {
        return Err(ReadError::NotGo { format });
    }
    let addr = search_magic(src, &x, start, size)?;
    let header = read_data(src, &x, addr, HEADER)?;
    if header.len() < HEADER as usize {
        return Err(malformed(format!(
            "the build info header at {addr:#x} is cut short by the end of its segment"
        )));
    }
    let flags = header[15];
    let (version, modinfo) = if flags & 2 != 0 {
        let (v, next) = decode_string(src, &x, addr + HEADER, "go version")?;
        let (m, _) = decode_string(src, &x, next, "module information")?;
        (v, m)
    } else {
        let ptr_size = u64::from(header[14]);
        let big = flags & 1 != 0;
        if ptr_size != 4 && ptr_size != 8 {
            return Err(malformed(format!(
                "the build info header at {addr:#x} gives a pointer size of {ptr_size}"
            )));
        }
        let ptr = |b: &[u8]| -> u64 {
            let mut v = 0u64;
            for i in 0..ptr_size as usize {
                let byte = if big {
                    b[i]
                } else {
                    b[ptr_size as usize - 1 - i]
                };
                v = v << 8 | u64::from(byte);
            }
            v
        };
        let string_at = |at: u64| -> Vec<u8> {
            let Ok(h) = read_data(src, &x, at, 2 * ptr_size) else {
                return Vec::new();
            };
            if h.len() < 2 * ptr_size as usize {
                return Vec::new();
            }
            let (data, len) = (ptr(&h), ptr(&h[ptr_size as usize..]));
            match read_data(src, &x, data, len) {
                Ok(d) if d.len() as u64 == len => d,
                _ => Vec::new(),
            }
        };
        (
            string_at(ptr(&header[16..])),
            string_at(ptr(&header[16 + ptr_size as usize..])),
        )
    };
    if version.is_empty() {
        return Err(ReadError::NotGo { format });
    }
    let version = String::from_utf8_lossy(&version).into_owned();
    // The module information is framed by 16 sentinel bytes on each side
    // (cmd/go/internal/modload infoStart, infoEnd); without them there is none.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        String::from_utf8_lossy(&modinfo[16..modinfo.len() - 16]).into_owned()
    } else {
        String::new()
    };
    let mut bi = modinfo::parse(&modinfo).map_err(|e| ReadError::Modinfo {
        line: e.line,
        message: e.message,
    })?;
    bi.go_version = version;
    Ok(bi)
}

/// Up to `size` bytes at virtual address `addr`, fewer where its segment ends first.
fn read_data(src: &dyn Source, x: &exe::Exe, addr: u64, size: u64) -> Result<Vec<u8>, ReadError> {
    let (offset, left) = x.locate(addr).ok_or_else(|| ReadError::Malformed {
        format: x.format,
        what: format!("address {addr:#x} of the build info lies in no segment of the file"),
    })?;
    let n = size.min(left);
    if offset.checked_add(n).is_none_or(|end| end > src.len()) {
        return Err(ReadError::Malformed {
            format: x.format,
            what: format!(
                "the segment holding address {addr:#x} runs past the end of the file ({} \
                 bytes, needed {n} at offset {offset:#x}): the file is truncated",
                src.len()
            ),
        });
    }
    let mut buf = vec![0; n as usize];
    src.read_at(offset, &mut buf)?;
    Ok(buf)
}

/// The first 16-byte-aligned magic in `[start, start+size)`, read in chunks so a large data
/// segment is never held whole.
fn search_magic(src: &dyn Source, x: &exe::Exe, start: u64, size: u64) -> Result<u64, ReadError> {
    let not_go = ReadError::NotGo { format: x.format };
    let end = start
        .checked_add(size)
        .ok_or_else(|| ReadError::Malformed {
            format: x.format,
            what: format!("the data range {start:#x}+{size:#x} overflows"),
        })?;
    let mut at = start;
    while at < end {
        at = at.div_ceil(ALIGN) * ALIGN;
        // Past the bytes the file holds (a segment's zero-filled tail): nothing to find.
        if x.locate(at).is_none() {
            return Err(not_go);
        }
        let chunk = read_data(src, x, at, CHUNK.min(end - at))?;
        if chunk.is_empty() {
            return Err(not_go);
        }
        let mut i = 0;
        while let Some(found) = find(&chunk[i..], MAGIC) {
            let pos = (i + found) as u64;
            if !(at + pos).is_multiple_of(ALIGN) {
                i += found + 1;
                continue;
            }
            if end - (at + pos) < HEADER {
                return Err(ReadError::Malformed {
                    format: x.format,
                    what: format!(
                        "the build info at {:#x} is cut short by the end of its section",
                        at + pos
                    ),
                });
            }
            return Ok(at + pos);
        }
        at += chunk.len() as u64;
    }
    Err(not_go)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A uvarint-prefixed string at `addr`, and the address after it.
fn decode_string(
    src: &dyn Source,
    x: &exe::Exe,
    addr: u64,
    what: &str,
) -> Result<(Vec<u8>, u64), ReadError> {
    let malformed = |m: String| ReadError::Malformed {
        format: x.format,
        what: m,
    };
    let b = read_data(src, x, addr, 10)?;
    let (len, n) = uvarint(&b).ok_or_else(|| {
        malformed(format!(
            "the length of the {what} at {addr:#x} is not a varint"
        ))
    })?;
    let data = read_data(src, x, addr + n as u64, len)?;
    if (data.len() as u64) < len {
        return Err(malformed(format!(
            "the {what} at {addr:#x} claims {len} bytes but its segment ends after {}",
            data.len()
        )));
    }
    Ok((data, addr + n as u64 + len))
}

/// encoding/binary `Uvarint`: the value and the bytes it took; `None` if cut short or longer
/// than 64 bits.
fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        if i == 9 && byte > 1 {
            return None;
        }
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests;
