//! Derives `GOWARDEN_BUILD_ID`, a hash of the sources this binary is built from.
//!
//! The compiled-policy cache (src/policy/snapshot.rs) stores what the policy's TOML parses
//! into, in a form the code of this build reads back; what a policy means (which keys exist,
//! what validation accepts) is also this build's. A snapshot is honoured only by a binary
//! with the same id, so a changed schema, parser version or check never reads a snapshot
//! made by another: the id covers every file under src/, the embedded default policy and the
//! lock file (the toml crate's version).

use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};

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
