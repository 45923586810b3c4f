//! Shipping to a real OpenTelemetry Collector (built by scripts/build-collector.sh from the
//! recipe in tests/collector): `gowarden audit ship` over OTLP/HTTP while the Collector and
//! the shipper are killed at random, `audit export` batches under the receiver's limit, the
//! shipped filelog configuration against `ship`, and `audit verify --collected` on the
//! Collector's file export. Everything listens on 127.0.0.1.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Sandbox, run};
use gowarden::audit::{self, Decision, LogConfig, Record, attr};
use serde_json::Value;

/// The Collector binary, built (or found in its cache) once per test process.
fn collector_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
            let lock = fs::File::create(
                Path::new(env!("CARGO_TARGET_TMPDIR")).join(".collector-build.lock"),
            )
            .unwrap();
            lock.lock().unwrap();
            let out = Command::new(repo.join("scripts/build-collector.sh"))
                .stderr(Stdio::inherit())
                .output()
                .expect("scripts/build-collector.sh");
            assert!(out.status.success(), "scripts/build-collector.sh failed");
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        })
        .clone()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Collector process with one configuration; restartable after a kill.
struct Collector {
    configs: Vec<PathBuf>,
    env: Vec<(String, String)>,
    log: PathBuf,
    port: Option<u16>,
    child: Option<Child>,
}

/// The parts of a configuration every test Collector shares: no telemetry endpoints (several
/// run at once), a file exporter writing each request as one JSON line, unbuffered (with
/// rotation set, the exporter writes straight to the file, so what it acknowledged survives a
/// kill).
fn exporter_yaml(out: &Path) -> String {
    format!(
        "exporters:\n  file:\n    path: {}\n    format: json\n    rotation:\n      max_megabytes: 4096\n\
         service:\n  telemetry:\n    metrics:\n      level: none\n    logs:\n      level: warn\n",
        out.display()
    )
}

impl Collector {
    /// OTLP/HTTP receiver on a free port → file exporter at `out`.
    fn otlp(dir: &Path, out: &Path, max_body: usize) -> Collector {
        let port = free_port();
        let config = dir.join(format!("otlp-{port}.yaml"));
        fs::write(
            &config,
            format!(
                "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:{port}\n        \
                 max_request_body_size: {max_body}\n{}  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [file]\n",
                exporter_yaml(out)
            ),
        )
        .unwrap();
        Collector {
            configs: vec![config],
            env: Vec::new(),
            log: dir.join(format!("otelcol-{port}.log")),
            port: Some(port),
            child: None,
        }
    }

    /// The shipped filelog configuration tailing `logs`, → file exporter at `out`.
    fn filelog(dir: &Path, logs: &str, out: &Path) -> Collector {
        let site = dir.join("filelog-site.yaml");
        fs::write(
            &site,
            format!(
                "{}  pipelines:\n    logs:\n      receivers: [filelog/gowarden]\n      exporters: [file]\n",
                exporter_yaml(out)
            ),
        )
        .unwrap();
        Collector {
            configs: vec![
                Path::new(env!("CARGO_MANIFEST_DIR")).join("collector/gowarden-filelog.yaml"),
                site,
            ],
            env: vec![("GOWARDEN_AUDIT_LOGS".into(), logs.into())],
            log: dir.join("otelcol-filelog.log"),
            port: None,
            child: None,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port.unwrap())
    }

    fn start(&mut self) {
        let mut c = Command::new(collector_bin());
        for cfg in &self.configs {
            c.arg("--config").arg(cfg);
        }
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.child = Some(c.spawn().expect("start the Collector"));
        if let Some(port) = self.port {
            let deadline = Instant::now() + Duration::from_secs(60);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                    panic!(
                        "the Collector exited ({status}): {}",
                        fs::read_to_string(&self.log).unwrap_or_default()
                    );
                }
                assert!(Instant::now() < deadline, "the Collector never listened");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// SIGKILL, as a crash would.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every LogRecord in a file export, with its resource's attributes; a torn request (the
/// Collector killed mid-write) is skipped.
fn collected(out: &Path) -> Vec<(BTreeMap<String, Value>, Value)> {
    let text = fs::read_to_string(out).unwrap_or_default();
    let mut recs = Vec::new();
    for line in text.lines() {
        let Some(req) = audit::parse_request(line.as_bytes()) else {
            continue;
        };
        for rl in req["resourceLogs"].as_array().into_iter().flatten() {
            let resource = attr_map(&rl["resource"]["attributes"]);
            for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                for r in sl["logRecords"].as_array().into_iter().flatten() {
                    recs.push((resource.clone(), r.clone()));
                }
            }
        }
    }
    recs
}

fn attr_map(list: &Value) -> BTreeMap<String, Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|kv| (kv["key"].as_str().unwrap().to_string(), kv["value"].clone()))
        .collect()
}

fn seq_of(record: &Value) -> u64 {
    let a = attr_map(&record["attributes"]);
    a.get("gowarden.seq")
        .and_then(|v| v["intValue"].as_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a collected record without gowarden.seq: {record}"))
}

fn record(i: usize) -> Record {
    Record::new(format!("go build ./... #{i}"))
        .decision(Decision::Allow)
        .attr_args(attr::PROCESS_COMMAND_ARGS, &["go", "build", "./..."])
        .attr_int(attr::PROCESS_PID, 1000 + i as i64)
        // The caller's, as the shim writes it: one stream with the shim's own records.
        .attr_str(attr::USER_ID, nix::unistd::getuid().as_raw().to_string())
        .attr_str(
            attr::HOST_NAME,
            nix::unistd::gethostname().unwrap().to_string_lossy(),
        )
        .attr_path(
            attr::PROCESS_WORKING_DIRECTORY,
            Path::new("/home/alice/proj"),
        )
}

/// A small xorshift: the kill schedule is random but reproducible from the printed seed.
struct Rng(u64);
impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("GOWARDEN_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("kill schedule seed: GOWARDEN_TEST_SEED={seed}");
        Rng(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn ship_cmd(endpoint: &str, state: &Path, log: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(["audit", "ship", "--endpoint", endpoint, "--state"])
        .arg(state)
        .args(extra)
        .arg(log)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", state)
        .stdin(Stdio::null());
    c
}

#[test]
fn ship_delivers_every_record_while_collector_and_shipper_are_killed_at_random() {
    const N: usize = 10_000;
    let sb = Sandbox::new();
    let dir = sb.root.clone();
    let log = dir.join("logs/audit.jsonl");
    let out = dir.join("collected.jsonl");
    let state = dir.join("ship-state");
    let shipper_log = dir.join("shipper.log");
    // Requests above 256 KiB are refused by this receiver; the shipper stays under 128 KiB.
    let mut col = Collector::otlp(&dir, &out, 256 << 10);
    col.start();
    let endpoint = col.endpoint();
    let spawn_shipper = || {
        let mut c = ship_cmd(
            &endpoint,
            &state,
            &log,
            &[
                "--interval-ms",
                "20",
                "--max-backoff-ms",
                "200",
                "--max-batch-bytes",
                "131072",
            ],
        );
        c.stderr(
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&shipper_log)
                .unwrap(),
        );
        c.spawn().unwrap()
    };

    // The writer appends all the while, rotating every 512 KiB.
    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut cfg = LogConfig::new(&writer_log);
        cfg.max_bytes = Some(512 << 10);
        for i in 0..N {
            audit::append(&cfg, &record(i)).unwrap();
            if i % 250 == 0 {
                std::thread::sleep(Duration::from_millis(15));
            }
        }
    });

    let mut rng = Rng::new();
    let mut shipper = spawn_shipper();
    let (mut collector_kills, mut shipper_kills) = (0, 0);
    let start = Instant::now();
    while !writer.is_finished() || collector_kills + shipper_kills < 12 {
        std::thread::sleep(Duration::from_millis(50 + rng.below(250)));
        if rng.below(2) == 0 {
            col.kill();
            collector_kills += 1;
            std::thread::sleep(Duration::from_millis(rng.below(300)));
            col.start();
        } else {
            let _ = shipper.kill();
            let _ = shipper.wait();
            shipper_kills += 1;
            shipper = spawn_shipper();
        }
    }
    writer.join().unwrap();
    // Then both left alone until everything is in.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seqs = BTreeSet::new();
    while seqs.len() < N && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        seqs = collected(&out).iter().map(|(_, r)| seq_of(r)).collect();
    }
    let _ = shipper.kill();
    let _ = shipper.wait();
    col.kill();
    eprintln!(
        "{N} records through {collector_kills} Collector kills and {shipper_kills} shipper kills in {:?}",
        start.elapsed()
    );
    assert!(collector_kills > 0 && shipper_kills > 0);
    let recs = collected(&out);
    let seqs: BTreeSet<u64> = recs.iter().map(|(_, r)| seq_of(r)).collect();
    assert_eq!(
        seqs,
        (1..=N as u64).collect::<BTreeSet<_>>(),
        "every record arrived ({} copies in all); shipper said:\n{}",
        recs.len(),
        fs::read_to_string(&shipper_log).unwrap_or_default()
    );
    // Duplicates are retransmissions: identical copies.
    let mut by_seq: BTreeMap<u64, &Value> = BTreeMap::new();
    for (res, r) in &recs {
        assert_eq!(res["service.name"]["stringValue"], "gowarden");
        assert!(res.contains_key("host.name"));
        if let Some(prev) = by_seq.insert(seq_of(r), r) {
            let strip = |v: &Value| {
                let mut v = v.clone();
                v.as_object_mut().unwrap().remove("observedTimeUnixNano");
                v
            };
            assert_eq!(strip(prev), strip(r));
        }
    }
    // The chain holds on the collected copy, and against the local log.
    let v = run({
        let mut c = Command::new(BIN);
        c.args(["audit", "verify", "--collected"]).arg(&out);
        c
    });
    assert_eq!(v.status(), 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains(&format!("1..{N}")), "{}", v.stdout);
    let mut files = audit::chain_files(&log).unwrap();
    assert!(files.len() > 3, "the log rotated while shipping");
    let v = run({
        let mut c = Command::new(BIN);
        c.args(["audit", "verify", "--collected"])
            .arg(&out)
            .args(files.drain(..));
        c
    });
    assert_eq!(v.status(), 0, "{}{}", v.stdout, v.stderr);
}

fn records_in(out: &Path) -> BTreeMap<u64, (BTreeMap<String, Value>, Value)> {
    collected(out)
        .into_iter()
        .map(|(res, r)| (seq_of(&r), (res, r)))
        .collect()
}

fn wait_for(
    out: &Path,
    n: usize,
    what: &str,
    col_log: &Path,
) -> BTreeMap<u64, (BTreeMap<String, Value>, Value)> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let recs = records_in(out);
        if recs.len() >= n {
            return recs;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {} of {n} records arrived; Collector said:\n{}",
            recs.len(),
            fs::read_to_string(col_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// 1 January 2026 plus `minutes`.
fn at_minute(minutes: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + minutes * 60)
}

#[test]
fn export_batches_under_the_receivers_limit_and_selects_by_time() {
    let sb = Sandbox::new();
    let log = sb.root.join("audit.jsonl");
    let cfg = LogConfig::new(&log);
    for i in 0..300 {
        audit::append(&cfg, &record(i as usize).at(at_minute(i))).unwrap();
    }
    let out = sb.root.join("collected.jsonl");
    let mut col = Collector::otlp(&sb.root, &out, 32 << 10);
    col.start();
    let endpoint = audit::Endpoint::parse(&col.endpoint()).unwrap();

    let export = |extra: &[&str]| {
        let r = run({
            let mut c = sb.gowarden(&["audit", "export", "--otlp-json"]);
            c.args(extra).arg(&log);
            c
        });
        assert_eq!(r.status(), 0, "{}", r.stderr);
        r.stdout
    };
    // All in one request: more than this receiver takes.
    let whole = export(&[]);
    assert_eq!(whole.lines().count(), 1);
    assert!(whole.len() > 32 << 10);
    match audit::post(
        &endpoint,
        whole.trim_end().as_bytes(),
        Duration::from_secs(10),
    ) {
        Err(audit::SendError::Permanent(m)) => eprintln!("one big request: {m}"),
        other => panic!("a request over the limit must be refused: {other:?}"),
    }
    // Batched: every request fits, and all 300 records arrive.
    let batched = export(&["--max-bytes", "20000"]);
    assert!(batched.lines().count() > 1);
    for line in batched.lines() {
        assert!(line.len() <= 20000, "a batch of {} bytes", line.len());
        audit::post(&endpoint, line.as_bytes(), Duration::from_secs(10)).unwrap();
    }
    let recs = wait_for(&out, 300, "batched export", &col.log);
    assert_eq!(
        recs.keys().copied().collect::<Vec<_>>(),
        (1..=300).collect::<Vec<_>>()
    );
    let (_, r) = &recs[&1];
    let a = attr_map(&r["attributes"]);
    assert_eq!(
        a["user.id"],
        serde_json::json!({"stringValue": nix::unistd::getuid().as_raw().to_string()})
    );
    assert_eq!(a["process.pid"], serde_json::json!({"intValue": "1000"}));

    // [since, until): minutes 60 to 119, by date-time and by nanoseconds.
    let window = export(&[
        "--since",
        "2026-01-01T01:00Z",
        "--until",
        "2026-01-01T02:00:00Z",
    ]);
    let n: usize = window
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            v["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
                .as_array()
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(n, 60);
    let since = (1_767_225_600u64 + 299 * 60) * 1_000_000_000;
    let last = export(&["--since", &since.to_string()]);
    assert!(last.contains("#299") && !last.contains("#298"), "{last}");
    assert_eq!(export(&["--since", "2027-01-01"]), "");
}

/// Appends `n` records after the shim's own, rotating often.
fn fill(log: &Path, n: usize) {
    let mut cfg = LogConfig::new(log);
    cfg.max_bytes = Some(64 << 10);
    for i in 0..n {
        audit::append(&cfg, &record(i)).unwrap();
    }
}

#[test]
fn the_filelog_configuration_yields_the_same_records_as_ship_and_both_redact_as_the_log() {
    const N: usize = 5_000;
    let sb = Sandbox::new();
    sb.fake_toolchain("go1.22.3");
    sb.write_project_file(".go-version", "1.22.3\n");
    // Real shim calls first, with a secret in a URL: the log redacts it, and nothing
    // downstream may bring it back.
    for _ in 0..3 {
        let r = run(sb.go(&["get", "https://bob:hunter2@example.com/x"]));
        assert_eq!(r.status(), 0, "{}", r.stderr);
    }
    let log = sb.home.join(".local/state/gowarden/audit.jsonl");
    assert!(!fs::read_to_string(&log).unwrap().contains("hunter2"));
    fill(&log, N);
    let total = N + 3;

    let shipped = sb.root.join("shipped.jsonl");
    let mut a = Collector::otlp(&sb.root, &shipped, 20 << 20);
    a.start();
    let state = sb.root.join("state");
    let start = Instant::now();
    let r = run(ship_cmd(&a.endpoint(), &state, &log, &["--once"]));
    let took = start.elapsed();
    assert_eq!(r.status(), 0, "{}", r.stderr);
    eprintln!(
        "ship --once: {total} records in {took:?}: {:.0} records/s",
        total as f64 / took.as_secs_f64()
    );
    let via_ship = wait_for(&shipped, total, "ship", &a.log);
    // A second run finds nothing new: the checkpoint holds.
    let before = fs::metadata(&shipped).unwrap().len();
    assert_eq!(
        run(ship_cmd(&a.endpoint(), &state, &log, &["--once"])).status(),
        0
    );
    assert_eq!(fs::metadata(&shipped).unwrap().len(), before);

    let tailed = sb.root.join("tailed.jsonl");
    let glob = format!("{}*", log.display());
    let mut b = Collector::filelog(&sb.root, &glob, &tailed);
    b.start();
    let via_filelog = wait_for(&tailed, total, "filelog", &b.log);
    b.kill();
    a.kill();
    assert_eq!(via_ship.len(), total);
    assert_eq!(
        via_ship.keys().collect::<Vec<_>>(),
        via_filelog.keys().collect::<Vec<_>>()
    );
    let comparable = |r: &Value| {
        let mut a = attr_map(&r["attributes"]);
        a.remove("gowarden.sha256");
        a.remove("log.record.original");
        (
            a,
            r["body"].clone(),
            r["timeUnixNano"].clone(),
            r["severityText"].clone(),
            r["severityNumber"].clone(),
        )
    };
    for (seq, (res_s, rec_s)) in &via_ship {
        let (res_f, rec_f) = &via_filelog[seq];
        assert_eq!(comparable(rec_s), comparable(rec_f), "seq {seq}");
        for key in ["service.name", "host.name", "host.id"] {
            assert_eq!(
                res_s.get(key),
                res_f.get(key),
                "resource {key} of seq {seq}"
            );
        }
    }
    let (res, _) = &via_ship[&1];
    assert_eq!(
        res.get("host.id").and_then(|v| v["stringValue"].as_str()),
        audit::machine_id().as_deref(),
        "the resource names this machine"
    );
    assert!(res.contains_key("host.id"));
    let (_, first) = &via_filelog[&1];
    let attrs = attr_map(&first["attributes"]);
    assert!(
        attrs["process.pid"].get("intValue").is_some(),
        "typed: {attrs:?}"
    );
    assert!(
        attrs["user.id"].get("stringValue").is_some(),
        "typed: {attrs:?}"
    );
    assert!(attrs["process.command_args"].get("arrayValue").is_some());
    assert_eq!(first["severityText"], "INFO");

    // Redaction: as the log, on every path out.
    let export = run(sb.gowarden(&["audit", "export", "--otlp-json"]));
    for (what, text) in [
        ("export", export.stdout.clone()),
        ("ship", fs::read_to_string(&shipped).unwrap()),
        ("filelog", fs::read_to_string(&tailed).unwrap()),
    ] {
        assert!(!text.contains("hunter2"), "{what} leaks the secret");
        assert!(text.contains("https://REDACTED@example.com/x"), "{what}");
    }

    // Both collected copies verify, as streams and against the local log.
    for out in [&shipped, &tailed] {
        let mut c = Command::new(BIN);
        c.args(["audit", "verify", "--collected"])
            .arg(out)
            .args(audit::chain_files(&log).unwrap());
        let v = run(c);
        assert_eq!(v.status(), 0, "{}{}", v.stdout, v.stderr);
        assert!(
            v.stdout
                .contains(&format!("matches: {total} local records")),
            "{}",
            v.stdout
        );
    }
}

#[test]
fn verify_against_the_collected_copy_finds_deleted_tails_rehashed_chains_and_reused_seqs() {
    let sb = Sandbox::new();
    let log = sb.root.join("live/audit.jsonl");
    let cfg = LogConfig::new(&log);
    for i in 0..50 {
        audit::append(&cfg, &record(i)).unwrap();
    }
    let out = sb.root.join("collected.jsonl");
    let mut col = Collector::otlp(&sb.root, &out, 20 << 20);
    col.start();
    let r = run(ship_cmd(
        &col.endpoint(),
        &sb.root.join("st"),
        &log,
        &["--once"],
    ));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    wait_for(&out, 50, "ship", &col.log);
    col.kill();
    let original = fs::read(&log).unwrap();
    let lines: Vec<&[u8]> = original
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let verify = |local: &Path| {
        let mut c = Command::new(BIN);
        c.args(["audit", "verify", "--collected"])
            .arg(&out)
            .arg(local);
        run(c)
    };
    let ok = verify(&log);
    assert_eq!(ok.status(), 0, "{}", ok.stdout);

    // The newest five records deleted: the local chain alone is intact.
    let copy = sb.root.join("copy/audit.jsonl");
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let mut cut = lines[..45].join(&b'\n');
    cut.push(b'\n');
    fs::write(&copy, &cut).unwrap();
    let local_only = run(sb.gowarden(&["audit", "verify", copy.to_str().unwrap()]));
    assert_eq!(local_only.status(), 0, "{}", local_only.stdout);
    let v = verify(&copy);
    assert_eq!(v.status(), 1, "{}", v.stdout);
    assert!(
        v.stdout.contains("seq 46 and later were deleted locally"),
        "{}",
        v.stdout
    );

    // Record 20 onwards rewritten with a fresh, valid chain (what anyone who can write the file
    // can do): intact locally, found against the collected copy at seq 20, line 20.
    let mut head = lines[..19].join(&b'\n');
    head.push(b'\n');
    fs::write(&copy, &head).unwrap();
    for i in 19..50 {
        audit::append(&LogConfig::new(&copy), &record(i + 1000)).unwrap();
    }
    assert_eq!(
        run(sb.gowarden(&["audit", "verify", copy.to_str().unwrap()])).status(),
        0
    );
    let v = verify(&copy);
    assert_eq!(v.status(), 1, "{}", v.stdout);
    assert!(
        v.stdout
            .contains(&format!("{}:20: record seq 20 differs", copy.display())),
        "{}",
        v.stdout
    );

    // The last record torn, then "repaired" by the next append, which reuses seq 50.
    let mut torn = original.clone();
    torn.truncate(original.len() - 40);
    fs::write(&copy, &torn).unwrap();
    audit::append(&LogConfig::new(&copy), &record(7)).unwrap();
    assert_eq!(
        run(sb.gowarden(&["audit", "verify", copy.to_str().unwrap()])).status(),
        0
    );
    let v = verify(&copy);
    assert_eq!(v.status(), 1, "{}", v.stdout);
    assert!(v.stdout.contains("record seq 50 differs"), "{}", v.stdout);

    // The shipper's checkpoint is an anchor too: the shipped log rewritten in place from
    // seq 20 on is reported at the next run, naming the seq it last delivered.
    let mut head = lines[..19].join(&b'\n');
    head.push(b'\n');
    fs::write(&log, &head).unwrap();
    for i in 19..50 {
        audit::append(&LogConfig::new(&log), &record(i + 1000)).unwrap();
    }
    let r = run(ship_cmd(
        &col.endpoint(),
        &sb.root.join("st"),
        &log,
        &["--once"],
    ));
    assert!(
        r.stderr
            .contains("record seq 50 differs from the one shipped before"),
        "{}",
        r.stderr
    );

    // The fleet view: in the collected copy itself, an identical retransmission is counted,
    // while a gap, a broken link and a duplicate that differs are each found.
    let text = fs::read_to_string(&out).unwrap();
    let check = |edit: &dyn Fn(&mut Vec<Value>)| {
        let forged = sb.root.join("forged.jsonl");
        let mut f = fs::File::create(&forged).unwrap();
        for line in text.lines() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            let recs = v["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
                .as_array_mut()
                .unwrap();
            edit(recs);
            writeln!(f, "{v}").unwrap();
        }
        drop(f);
        let mut c = Command::new(BIN);
        c.args(["audit", "verify", "--collected"]).arg(&forged);
        run(c)
    };
    let set_attr = |r: &mut Value, key: &str, value: &str| {
        for kv in r["attributes"].as_array_mut().unwrap() {
            if kv["key"] == key {
                kv["value"] = serde_json::json!({ "stringValue": value });
            }
        }
    };
    let v = check(&|recs| {
        let copy = recs.iter().find(|r| seq_of(r) == 10).cloned();
        recs.extend(copy);
    });
    assert_eq!(v.status(), 0, "{}", v.stdout);
    assert!(
        v.stdout.contains("50 records, seq 1..50, 1 retransmitted"),
        "{}",
        v.stdout
    );
    let v = check(&|recs| {
        recs.retain(|r| seq_of(r) != 30);
        for r in recs.iter_mut() {
            if seq_of(r) == 40 {
                set_attr(r, "gowarden.prev_sha256", &"ab".repeat(32));
            }
        }
        if let Some(mut other) = recs.iter().find(|r| seq_of(r) == 10).cloned() {
            set_attr(&mut other, "gowarden.sha256", &"cd".repeat(32));
            recs.push(other);
        }
    });
    assert_eq!(v.status(), 1, "{}", v.stdout);
    for want in [
        "seq 30 missing",
        "seq 40 does not link to seq 39",
        "seq 10 was collected twice with different contents",
    ] {
        assert!(v.stdout.contains(want), "{want}: {}", v.stdout);
    }
}
