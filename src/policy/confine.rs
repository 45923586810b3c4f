//! `[role.NAME.confine]` as the policy states it, and the checks serde cannot make; what it
//! means on a kernel is [`crate::confine`]'s. Here so that validating a policy does not reach
//! up into the mechanism that applies it.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::policy::LoadedPolicy;

/// `[role.NAME.confine]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfineTable {
    /// What a kernel that lacks part of the confinement gets.
    #[serde(default)]
    pub mode: Mode,
    /// The writable dirs worked out from go's settings (project root, GOCACHE, GOMODCACHE,
    /// the temp dir, the install dirs, ...). Off: only `write` (and /dev/null, the tty).
    #[serde(default = "yes")]
    pub default_write: bool,
    /// More directories (or files) the go process tree may write.
    #[serde(default)]
    pub write: Vec<Spanned<String>>,
    /// Paths nothing in the go process tree may read, write or execute.
    #[serde(default)]
    pub deny_read: Vec<Spanned<String>>,
    /// Absent: any program may run. Present: only the toolchain, the shim, go's build and
    /// temp dirs (which hold the binaries go builds and runs) and these.
    pub execute: Option<Spanned<Vec<Spanned<String>>>>,
    /// Absent: any TCP connect. Present: only to these ports.
    pub connect: Option<Spanned<Vec<Spanned<i64>>>>,
}

fn yes() -> bool {
    true
}

/// `mode = "enforce" | "best-effort"`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// go does not run unless the kernel enforces all of the confinement.
    #[default]
    Enforce,
    /// go runs with what the kernel enforces; the audit record and `which` say what that is.
    BestEffort,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::BestEffort => "best-effort",
        }
    }
}

/// The checks serde cannot make; each error names the file and line.
pub fn validate(loaded: &LoadedPolicy, role: &str, table: &Spanned<ConfineTable>) -> Result<()> {
    let bad = |span: Range<usize>, msg: String| {
        Err(Error::new(format!(
            "invalid policy {}: [role.{role}.confine] {msg}",
            loaded.location(&span)
        )))
    };
    let t = table.get_ref();
    let lists = [("write", &t.write), ("deny_read", &t.deny_read)];
    for (key, list) in lists {
        for p in list.iter() {
            let s = p.get_ref();
            if !(s.starts_with('/') || s.starts_with("~/") || s == "~") {
                return bad(
                    p.span(),
                    format!("{key}: {s:?} must be absolute or start with ~/ (the home directory)"),
                );
            }
        }
    }
    for p in &t.deny_read {
        if p.get_ref() == "/" || p.get_ref() == "~" {
            return bad(
                p.span(),
                format!(
                    "deny_read: {:?} would deny everything go needs to read; name the files or \
                     directories to hide",
                    p.get_ref()
                ),
            );
        }
    }
    if let Some(list) = &t.execute {
        for p in list.get_ref() {
            let s = p.get_ref();
            if !(s.starts_with('/') || s.starts_with("~/")) {
                return bad(
                    p.span(),
                    format!(
                        "execute: {s:?} must be absolute or start with ~/ (programs are found by \
                         path, not on PATH)"
                    ),
                );
            }
        }
    }
    if let Some(ports) = &t.connect {
        for p in ports.get_ref() {
            if !(1..=65535).contains(p.get_ref()) {
                return bad(
                    p.span(),
                    format!("connect: {} is not a TCP port (1-65535)", p.get_ref()),
                );
            }
        }
    }
    Ok(())
}
