//! The shim's decision work in process, without process start-up or exec:
//! `cargo run --release --example plan_cost -- [DIR] [N]` runs `shim::plan` for `go version` in
//! DIR (default: the working directory) N times (default 2000) under the policy in force, and
//! prints the median and p99 in microseconds, then the same for each stage on its own (policy
//! load, project discovery, toolchain discovery, audit record append to a temp log). Use it
//! with benches/overhead.sh: that one measures what a user sees, this one says where it goes.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Instant;

use gowarden::shim::{self, Tool};

fn median_p99(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

fn time(n: usize, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..n / 10 {
        f();
    }
    let v = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    median_p99(v)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().expect("cwd"));
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let go_args = vec![OsString::from("version")];
    if let Err(r) = shim::plan(Tool::Go, go_args.clone(), &dir) {
        eprintln!("plan_cost: the shim refuses here: {}", r.message);
        std::process::exit(1);
    }
    let report =
        |what: &str, (m, p): (f64, f64)| println!("{what:<28} median {m:8.1} µs   p99 {p:8.1} µs");
    report(
        "shim::plan (all decisions)",
        time(n, || {
            let _ = shim::plan(Tool::Go, go_args.clone(), &dir);
        }),
    );
    report(
        "policy load + parse",
        time(n, || {
            let _ = gowarden::policy::load::load();
        }),
    );
    let policy = gowarden::policy::load::load().expect("policy");
    report(
        "toolchain discovery",
        time(n, || {
            let _ = gowarden::toolchain::discover(
                &policy.policy.toolchains.search(),
                &gowarden::toolchain::DiscoveryEnv::from_process(None),
            );
        }),
    );
    let tmp = std::env::temp_dir().join(format!("gowarden-plan-cost-{}", std::process::id()));
    let log = gowarden::audit::LogConfig::new(tmp.join("audit.jsonl"));
    let plan = shim::plan(Tool::Go, go_args.clone(), &dir).expect("plan");
    report(
        "audit record + append",
        time(n, || {
            let r = gowarden::auditing::record(
                Tool::Go,
                "go".as_ref(),
                &go_args,
                &dir,
                gowarden::auditing::Outcome::Run(&plan),
            );
            let _ = gowarden::audit::append(&log, &r);
        }),
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
