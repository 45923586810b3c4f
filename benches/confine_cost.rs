//! What a role's confinement adds to each go call: building the Landlock ruleset and
//! restricting the process (`Prepared::apply`, which the shim runs just before exec), plus the
//! kernel query of `prepare`.
//!
//! `cargo run --release --example confine_cost -- [N]` (default 400). A restricted process
//! cannot be unrestricted, so every sample is a fresh child (fork). For each of three
//! confinements (writes only, the shim's defaults; + execute list and connect ports; + a
//! deny_read of `~/.ssh`, carved out of `/` and `~`) it reports:
//! - `in child`: the time from `prepare` to the end of `apply`, measured inside the child;
//! - `paired`: per pair, a child that applies the confinement minus an adjacent child that
//!   does nothing, both timed fork to reap by the parent; the median of those differences is
//!   the added cost of a call including the kernel's work when the domain goes away.

use std::path::PathBuf;
use std::time::Instant;

use gowarden::confine::{Confinement, Grant, Kernel, Mode, prepare_on};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork, pipe, read, write};

fn grant(p: impl Into<PathBuf>, why: &str) -> Grant {
    Grant {
        path: p.into(),
        why: why.into(),
        go_creates: false,
    }
}

fn confinements() -> Vec<(&'static str, Confinement)> {
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let cwd = std::env::current_dir().expect("cwd");
    let write = vec![
        grant(&cwd, "module root"),
        grant(home.join(".cache/go-build"), "GOCACHE"),
        grant(home.join("go/pkg/mod"), "GOMODCACHE"),
        grant("/tmp", "tmp"),
        grant(home.join("go/bin"), "GOBIN"),
        grant(home.join(".config/go"), "go env"),
        grant(home.join(".local/state/gowarden"), "audit"),
        grant("/dev/null", "/dev/null"),
    ];
    let base = Confinement {
        role: "bench".into(),
        location: "bench".into(),
        mode: Mode::Enforce,
        write,
        deny_read: Vec::new(),
        execute: None,
        connect: None,
    };
    let mut exec = base.clone();
    exec.execute = Some(
        [
            "/usr/local/go",
            "/usr/bin",
            "/bin",
            "/usr/lib",
            "/usr/libexec",
            "/tmp",
        ]
        .iter()
        .map(|p| grant(*p, "execute"))
        .collect(),
    );
    exec.connect = Some(vec![443, 80]);
    let mut deny = exec.clone();
    deny.deny_read = vec![home.join(".ssh")];
    vec![
        ("writes (defaults)", base),
        ("+ execute + connect", exec),
        ("+ deny_read ~/.ssh", deny),
    ]
}

/// Forks a child that runs `work` (returning µs measured inside) and exits; returns the
/// parent's fork-to-reap time and the child's own measure.
fn sample(work: &dyn Fn() -> f64) -> (f64, f64) {
    let (r, w) = pipe().expect("pipe");
    let t = Instant::now();
    // SAFETY: this program is single-threaded; the child only runs `work` and _exits.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let us = work();
            let _ = write(&w, &us.to_le_bytes());
            // SAFETY: ends the child without running the parent's exit handlers.
            unsafe { nix::libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(w);
            let mut buf = [0u8; 8];
            let n = read(&r, &mut buf).unwrap_or(0);
            waitpid(child, None).expect("waitpid");
            let total = t.elapsed().as_secs_f64() * 1e6;
            let inner = if n == 8 {
                f64::from_le_bytes(buf)
            } else {
                f64::NAN
            };
            (total, inner)
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let k = Kernel::current();
    println!("{} — {}", k.describe(), k.abi_text());
    if k.abi == 0 {
        eprintln!("confine_cost: nothing to measure without Landlock");
        std::process::exit(1);
    }
    for (name, c) in confinements() {
        let apply = || {
            let t = Instant::now();
            let p = prepare_on(c.clone(), Kernel::current()).expect("prepare");
            p.apply().expect("apply");
            t.elapsed().as_secs_f64() * 1e6
        };
        let nothing = || 0.0;
        let (mut diffs, mut inner) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for i in 0..n + n / 10 {
            // Alternate which goes first so drift on this loaded machine cancels out.
            let (with, without) = if i % 2 == 0 {
                let a = sample(&apply);
                (a, sample(&nothing))
            } else {
                let b = sample(&nothing);
                (sample(&apply), b)
            };
            if i >= n / 10 {
                diffs.push(with.0 - without.0);
                inner.push(with.1);
            }
        }
        println!(
            "{name:<22} in child median {:7.1} µs   paired added cost median {:7.1} µs  (n={n})",
            median(inner),
            median(diffs)
        );
    }
}
