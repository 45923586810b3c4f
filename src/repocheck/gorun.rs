//! `go mod tidy -diff` and `go mod verify`, run the way every other go call here runs:
//! through the shim (this binary as `go`), so the toolchain is the shim's own selection for
//! the module, the policy's `[env]` applies (its GOPROXY: a company proxy, or a file://
//! mirror for offline CI), the role's rules judge the call and the audit log records it.
//!
//! The caller's one-command overrides are dropped, as the version check drops them:
//! GOWARDEN_GO_VERSION and GOTOOLCHAIN (the shim sets its own), GOFLAGS (a `-mod=mod` there
//! would let tidy's own check write go.mod; the policy's enforced GOFLAGS still applies) and
//! GOWORK (each module is checked on its own, as its go.mod declares it).

use std::path::Path;
use std::process::{Command, Stdio};

use super::{Place, Sink};
use crate::project::ModFile;

pub const TIDY: &str = "mod.tidy";
pub const VERIFY: &str = "mod.verify";

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn go(dir: &Path, args: &[&str]) -> Result<Ran, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find gowarden itself: {e}"))?;
    let mut c = Command::new(exe);
    std::os::unix::process::CommandExt::arg0(&mut c, "go");
    c.args(args)
        .current_dir(dir)
        .env_remove("GOWARDEN_GO_VERSION")
        .env_remove("GOTOOLCHAIN")
        .env_remove("GOFLAGS")
        .env("GOWORK", "off")
        .stdin(Stdio::null());
    let out = c
        .output()
        .map_err(|e| format!("cannot run go through the shim: {e}"))?;
    Ok(Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// The first lines of a long text, for a message.
fn head(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    let mut s = all[..all.len().min(lines)].join("\n");
    if all.len() > lines {
        s.push_str(&format!("\n… ({} more lines)", all.len() - lines));
    }
    s
}

pub fn check_module(sink: &mut Sink<'_>, m: &ModFile) {
    let Some(dir) = m.path.parent() else { return };
    let at = || {
        Some(Place::line(
            &m.path,
            m.module.as_ref().map_or(1, |d| d.line),
        ))
    };
    if sink.on(TIDY) {
        match go(dir, &["mod", "tidy", "-diff"]) {
            Ok(r) if r.code == Some(0) => {}
            // tidy -diff exits 1 with the diff on stdout, nothing written (go ≥ 1.23).
            Ok(r) if r.code == Some(1) && !r.stdout.is_empty() => sink.push(
                TIDY,
                at(),
                format!(
                    "`go mod tidy -diff` in {} is not clean: go.mod/go.sum do not match the \
                     code; run `go mod tidy` and commit the result:\n{}",
                    dir.display(),
                    head(&r.stdout, 20)
                ),
            ),
            Ok(r) if r.stderr.contains("flag provided but not defined: -diff") => sink.push(
                TIDY,
                at(),
                format!(
                    "`go mod tidy -diff` needs go1.23 or later, and {} builds with an older \
                     go, so tidiness could not be checked; raise the module's toolchain, or set \
                     [check] severity \"mod.tidy\" = \"off\" for it",
                    dir.display()
                ),
            ),
            Ok(r) => sink.push(
                TIDY,
                at(),
                format!(
                    "`go mod tidy -diff` in {} failed (exit {}), so tidiness is unknown:\n{}",
                    dir.display(),
                    r.code.map_or("by a signal".into(), |c| c.to_string()),
                    head(&r.stderr, 10)
                ),
            ),
            Err(e) => sink.push(TIDY, at(), e),
        }
    }
    if sink.on(VERIFY) {
        match go(dir, &["mod", "verify"]) {
            Ok(r) if r.code == Some(0) => {}
            Ok(r) => sink.push(
                VERIFY,
                at(),
                format!(
                    "`go mod verify` in {} failed (exit {}): the module cache or go.sum does \
                     not match what was downloaded; run `go clean -modcache` and `go mod \
                     download`, and check go.sum's history:\n{}",
                    dir.display(),
                    r.code.map_or("by a signal".into(), |c| c.to_string()),
                    head(&format!("{}{}", r.stdout, r.stderr), 10)
                ),
            ),
            Err(e) => sink.push(VERIFY, at(), e),
        }
    }
}
