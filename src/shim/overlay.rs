//! Nested go calls are governed: go hands the programs it starts for `go run`, `go test`,
//! `go generate` and `go tool` a PATH with `$GOROOT/bin` first, and `go generate` resolves a
//! bare `go` in `$GOROOT/bin` before PATH (GO_FACTS.md §6), so with the real GOROOT a
//! `//go:generate go env -w GOPROXY=direct` or a test that runs `go` would call the real go,
//! ungoverned and unaudited.
//!
//! The shim therefore runs go with `GOROOT` set to an *overlay* of the chosen toolchain: a
//! directory whose `bin/go` and `bin/gofmt` are links to the shim and whose every other entry
//! (`pkg`, `src`, `lib`, `VERSION`, ...) is a link to the real toolchain's. go runs its own
//! tools from `$GOROOT/pkg/tool` (the real ones, through the link), while every `go` a child
//! runs by name is the shim, which governs it as a call of its own, from the child's working
//! directory and project, and sets GOROOT for the toolchain *that* project gets.
//!
//! The overlay's `go.env` is the toolchain's with `GOTOOLCHAIN` set to the policy's
//! `[toolchains] gotoolchain`, so the shim need not put GOTOOLCHAIN in go's environment (from
//! where it would leak into every program go starts) unless the caller's environment or go env
//! file sets another value, which beat go.env.
//!
//! Overlays live in `$XDG_CACHE_HOME/gowarden/goroot/`, one per (toolchain, shim, gotoolchain),
//! made once (in a temporary directory renamed into place, so concurrent shims never see half
//! of one) and checked with three `readlink`s and one `stat` per call (`bin/go`, `VERSION`, the
//! stamp of the toolchain's go.env its copy was made from). Where none can be
//! made, go runs with the real GOROOT and nested calls are not governed.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The overlay GOROOT for `real`, made if needed; `None` where it cannot be.
pub fn goroot_for(real: &Path, gotoolchain: Option<&str>) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let base = crate::userdirs::cache_dir()?
        .join("gowarden")
        .join("goroot");
    let name = format!(
        "{}-{:016x}",
        real.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "go".into()),
        fnv(&[
            real.as_os_str().as_bytes(),
            exe.as_os_str().as_bytes(),
            gotoolchain.unwrap_or("").as_bytes(),
        ])
    );
    let dir = base.join(name);
    if is_current(&dir, real, &exe) {
        return Some(dir);
    }
    build(&base, &dir, real, &exe, gotoolchain).ok()?;
    is_current(&dir, real, &exe).then_some(dir)
}

/// The overlay is this shim's over this toolchain: `bin/go` links to the shim, `VERSION` (which
/// every toolchain gowarden finds has) to the toolchain's.
fn is_current(dir: &Path, real: &Path, exe: &Path) -> bool {
    std::fs::read_link(dir.join("bin/go")).is_ok_and(|t| t == exe)
        && std::fs::read_link(dir.join("VERSION")).is_ok_and(|t| t == real.join("VERSION"))
        && std::fs::read_link(dir.join(STAMP)).is_ok_and(|t| t.as_os_str() == go_env_stamp(real))
}

/// Names the toolchain's go.env as the overlay's copy was made from it: the copy is only
/// trusted while the original keeps its [`crate::stamp::Stamp`] (identity, size, nanosecond
/// times, owner), so an edit of `$GOROOT/go.env` (an admin's new GOPROXY) reaches the next
/// call, even within a second.
const STAMP: &str = ".gowarden-go.env";

fn go_env_stamp(real: &Path) -> std::ffi::OsString {
    match std::fs::metadata(real.join("go.env")) {
        Ok(m) => crate::stamp::Stamp::of_meta(&m).encode().into(),
        Err(_) => "none".into(),
    }
}

fn build(
    base: &Path,
    dir: &Path,
    real: &Path,
    exe: &Path,
    gotoolchain: Option<&str>,
) -> std::io::Result<()> {
    use std::os::unix::fs::symlink;
    std::fs::create_dir_all(base)?;
    // Taken before the copy: an edit in between leaves a stamp older than the file, so the next
    // call builds again rather than trusting a copy older than its stamp.
    let stamp = go_env_stamp(real);
    let tmp = base.join(format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("bin"))?;
    for entry in std::fs::read_dir(real)? {
        let name = entry?.file_name();
        match name.as_bytes() {
            b"bin" => {}
            b"go.env" => {
                let text = std::fs::read(real.join("go.env")).unwrap_or_default();
                std::fs::write(tmp.join("go.env"), with_gotoolchain(&text, gotoolchain))?;
            }
            _ => symlink(real.join(&name), tmp.join(&name))?,
        }
    }
    if !tmp.join("go.env").exists() {
        std::fs::write(tmp.join("go.env"), with_gotoolchain(b"", gotoolchain))?;
    }
    for tool in ["go", "gofmt"] {
        symlink(exe, tmp.join("bin").join(tool))?;
    }
    symlink(&stamp, tmp.join(STAMP))?;
    // A stale overlay (the shim or toolchain moved) is replaced; a concurrent shim that won
    // the rename leaves an equivalent one, which is_current accepts.
    if dir.exists() && !is_current(dir, real, exe) {
        let _ = std::fs::remove_dir_all(dir);
    }
    let renamed = std::fs::rename(&tmp, dir);
    let _ = std::fs::remove_dir_all(&tmp);
    renamed
}

/// go.env with its GOTOOLCHAIN line replaced by the policy's (kept where `None`).
fn with_gotoolchain(text: &[u8], gotoolchain: Option<&str>) -> Vec<u8> {
    let Some(gt) = gotoolchain else {
        return text.to_vec();
    };
    let mut out = Vec::with_capacity(text.len() + 32);
    for line in text.split_inclusive(|&c| c == b'\n') {
        if !line.starts_with(b"GOTOOLCHAIN=") {
            out.extend_from_slice(line);
        }
    }
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(b"GOTOOLCHAIN=");
    out.extend_from_slice(gt.as_bytes());
    out.push(b'\n');
    out
}

/// FNV-1a over the parts, each followed by a NUL: a stable name, not a security boundary.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in p.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Whether this call is `go env` or `go version`, which start no programs: they keep the real
/// GOROOT, so `go env GOROOT` and `go env -json` stay exactly what go prints.
pub fn runs_no_programs(args: &[std::ffi::OsString]) -> bool {
    let mut words = args.iter().map(|a| a.as_os_str());
    while let Some(w) = words.next() {
        let b = w.as_bytes();
        // `go -C dir env`: -C takes the next word.
        if b == b"-C" || b == b"--C" {
            words.next();
            continue;
        }
        if b.starts_with(b"-") {
            continue;
        }
        return matches!(b, b"env" | b"version");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_env_gets_the_policy_gotoolchain() {
        let out = with_gotoolchain(
            b"GOPROXY=https://proxy.golang.org,direct\nGOTOOLCHAIN=auto\n",
            Some("local"),
        );
        assert_eq!(
            out,
            b"GOPROXY=https://proxy.golang.org,direct\nGOTOOLCHAIN=local\n".to_vec()
        );
        assert_eq!(with_gotoolchain(b"A=1", None), b"A=1".to_vec());
    }
}
