//! Writes synthetic audit logs for `benches/report.sh`: N records in the log's exact format,
//! hash-chained, spread over a year, across H hosts (one user each, one log per host), P
//! projects in three tiers, a few Go versions, roles and rules, and refused command lines
//! drawn from a few thousand, so the report's counters see realistic cardinality.
//!
//!   cargo run --release --example report_gen -- N DIR [HOSTS] [PROJECTS]

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// A fixed-seed LCG (Knuth's MMIX constants): the same logs every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for &x in b {
        s.push(H[usize::from(x >> 4)] as char);
        s.push(H[usize::from(x & 15)] as char);
    }
    s
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: report_gen N DIR [HOSTS] [PROJECTS]");
        std::process::exit(2);
    }
    let n: u64 = args[1].parse().expect("N");
    let dir = PathBuf::from(&args[2]);
    let hosts: u64 = args.get(3).map_or(100, |h| h.parse().expect("HOSTS"));
    let projects: u64 = args.get(4).map_or(200, |p| p.parse().expect("PROJECTS"));
    let tiers = ["payments", "internal", "experimental"];
    let versions = [
        "go1.21.13",
        "go1.22.8",
        "go1.22.12",
        "go1.23.4",
        "go1.23.6",
        "go1.24.2",
    ];
    let rules = [
        "matrix.min",
        "matrix.deadline",
        "deny-toolexec",
        "env.goproxy",
        "matrix.blocked",
    ];
    let roles = ["developer", "ci", "release"];
    let start: u64 = 1_764_547_200_000_000_000; // 2025-12-01T00:00:00Z
    let year: u64 = 365 * 86_400 * 1_000_000_000;
    let mut rng = Rng(42);
    let per_host = n.div_ceil(hosts);
    let mut written = 0;
    for h in 0..hosts {
        let d = dir.join(format!("host-{h:03}"));
        fs::create_dir_all(&d).unwrap();
        let mut out = BufWriter::new(File::create(d.join("audit.jsonl")).unwrap());
        let mut prev = "0".repeat(64);
        let count = per_host.min(n - written);
        for i in 0..count {
            // Time advances along the host's log, as appends do.
            let t = start + year / count.max(1) * i + rng.below(1_000_000_000);
            let p = rng.below(projects);
            let tier = tiers[(p % 3) as usize];
            let roll = rng.below(100);
            let (decision, severity) = match roll {
                0..=79 => ("allow", "9,\"severityText\":\"INFO\""),
                80..=89 => ("warn", "13,\"severityText\":\"WARN\""),
                90..=98 => ("deny", "13,\"severityText\":\"WARN\""),
                _ => ("drift", "13,\"severityText\":\"WARN\""),
            };
            let pkg = rng.below(3000);
            let body = format!("go build -o bin/app ./cmd/svc{pkg}");
            let mut attrs = format!(
                "{{\"key\":\"gowarden.seq\",\"value\":{{\"intValue\":\"{}\"}}}},\
                 {{\"key\":\"gowarden.prev_sha256\",\"value\":{{\"stringValue\":\"{prev}\"}}}},\
                 {{\"key\":\"gowarden.decision\",\"value\":{{\"stringValue\":\"{decision}\"}}}},\
                 {{\"key\":\"process.command_args\",\"value\":{{\"arrayValue\":{{\"values\":[\
                 {{\"stringValue\":\"go\"}},{{\"stringValue\":\"build\"}},{{\"stringValue\":\"-o\"}},\
                 {{\"stringValue\":\"bin/app\"}},{{\"stringValue\":\"./cmd/svc{pkg}\"}}]}}}}}},\
                 {{\"key\":\"process.pid\",\"value\":{{\"intValue\":\"{}\"}}}},\
                 {{\"key\":\"process.parent_pid\",\"value\":{{\"intValue\":\"1\"}}}},\
                 {{\"key\":\"process.working_directory\",\"value\":{{\"stringValue\":\"/home/u{h}/src/p{p}\"}}}},\
                 {{\"key\":\"user.id\",\"value\":{{\"stringValue\":\"{}\"}}}},\
                 {{\"key\":\"user.name\",\"value\":{{\"stringValue\":\"u{h}\"}}}},\
                 {{\"key\":\"host.name\",\"value\":{{\"stringValue\":\"host-{h:03}\"}}}}",
                i + 1,
                10_000 + rng.below(50_000),
                1000 + h
            );
            if decision == "drift" {
                let cat = if rng.below(4) == 0 { "path" } else { "env" };
                attrs.push_str(&format!(
                    ",{{\"key\":\"gowarden.drift.category\",\"value\":{{\"stringValue\":\"{cat}\"}}}},\
                     {{\"key\":\"gowarden.drift.key\",\"value\":{{\"stringValue\":\"GOPROXY\"}}}}"
                ));
            } else {
                let role = roles[rng.below(3) as usize];
                attrs.push_str(&format!(
                    ",{{\"key\":\"gowarden.tier\",\"value\":{{\"stringValue\":\"{tier}\"}}}},\
                     {{\"key\":\"gowarden.project\",\"value\":{{\"stringValue\":\"corp.example/{tier}/p{p}\"}}}},\
                     {{\"key\":\"gowarden.role\",\"value\":{{\"stringValue\":\"{role}\"}}}}"
                ));
                if decision == "deny" {
                    let rule = rules[rng.below(rules.len() as u64) as usize];
                    attrs.push_str(&format!(
                        ",{{\"key\":\"gowarden.rule\",\"value\":{{\"stringValue\":\"{rule}\"}}}}"
                    ));
                } else {
                    let v = versions[rng.below(versions.len() as u64) as usize];
                    attrs.push_str(&format!(
                        ",{{\"key\":\"go.version\",\"value\":{{\"stringValue\":\"{v}\"}}}},\
                         {{\"key\":\"go.version.source\",\"value\":{{\"stringValue\":\"/home/u{h}/src/p{p}/.go-version:1\"}}}}"
                    ));
                }
            }
            let line = format!(
                "{{\"timeUnixNano\":\"{t}\",\"observedTimeUnixNano\":\"{t}\",\"severityNumber\":{severity},\
                 \"body\":{{\"stringValue\":\"{body}\"}},\"attributes\":[{attrs}]}}"
            );
            prev = hex(&Sha256::digest(line.as_bytes()));
            out.write_all(line.as_bytes()).unwrap();
            out.write_all(b"\n").unwrap();
        }
        written += count;
        out.flush().unwrap();
        if written >= n {
            break;
        }
    }
    eprintln!("{written} records in {}", dir.display());
}
