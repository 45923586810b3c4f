//! Derives `GOWARDEN_BUILD_ID`, a hash of the sources this binary is built from, and encodes
//! the embedded default policy's snapshot (`$OUT_DIR/default-policy.snapshot`).
//!
//! The compiled-policy cache (src/policy/snapshot.rs) stores what the policy's TOML parses
//! into, in a form the code of this build reads back; what a policy means (which keys exist,
//! what validation accepts) is also this build's. A snapshot is honoured only by a binary
//! with the same id, so a changed schema, parser version or check never reads a snapshot
//! made by another: the id covers every file under src/, the embedded default policy and the
//! lock file (the toml crate's version).

use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};

// The runtime's own encoder, so the embedded snapshot is what a call would have written.
#[path = "src/policy/snapshot/encode.rs"]
#[allow(dead_code)]
mod encode;

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let mut files = vec![
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        root.join("policies/default.toml"),
    ];
    collect(&root.join("src"), &mut files);
    files.sort();
    // SipHash with fixed keys: stable within this build, which is all the id must be.
    let mut h = [DefaultHasher::new(), DefaultHasher::new()];
    h[1].write_u8(1);
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap_or(f);
        let bytes = std::fs::read(f).unwrap_or_default();
        for h in &mut h {
            h.write(rel.to_string_lossy().as_bytes());
            h.write_usize(bytes.len());
            h.write(&bytes);
        }
    }
    println!(
        "cargo:rustc-env=GOWARDEN_BUILD_ID={:016x}{:016x}",
        h[0].finish(),
        h[1].finish()
    );
    // A default policy that does not parse gets no snapshot: the binary then parses it on
    // every call and reports its error, as without a cache.
    let default = std::fs::read_to_string(root.join("policies/default.toml")).unwrap_or_default();
    let payload = encode::payload(&default).unwrap_or_default();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("default-policy.snapshot"), payload).expect("OUT_DIR is writable");
    for dep in ["src", "Cargo.toml", "Cargo.lock", "policies/default.toml"] {
        println!("cargo:rerun-if-changed={dep}");
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}
