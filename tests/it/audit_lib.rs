//! Integration tests of the audit log library: format, chain, concurrency, tampering, torn
//! lines, rotation, redaction, lossless arguments, failures.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gowarden::audit::{
    self, Decision, Durability, Follower, LogConfig, LoggedRecord, ProblemKind, Record, Redactor,
    VerifyOptions, attr, chain_files, line_sha256, verify, verify_with,
};
use serde_json::Value;

/// Env var naming what a re-entered test binary should do (see `child_entry`).
const CHILD_MODE: &str = "GOWARDEN_AUDIT_TEST_CHILD";
const CHILD_LOG: &str = "GOWARDEN_AUDIT_TEST_LOG";
const CHILD_MAX_BYTES: &str = "GOWARDEN_AUDIT_TEST_MAX_BYTES";
const CHILD_COUNT: &str = "GOWARDEN_AUDIT_TEST_COUNT";
/// `child_entry`'s name in the test binary's list (the test binary holds every module).
const CHILD_TEST: &str = "audit_lib::child_entry";

fn record(i: usize) -> Record {
    Record::new(format!("go build ./... #{i}"))
        .decision(Decision::Allow)
        .attr_args(attr::PROCESS_COMMAND_ARGS, &["go", "build", "./..."])
        .attr_int(attr::PROCESS_PID, 1000 + i as i64)
        .attr_str(attr::USER_NAME, "alice")
        .attr_int(attr::USER_ID, 1000)
        .attr_path(
            attr::PROCESS_WORKING_DIRECTORY,
            Path::new("/home/alice/proj"),
        )
}

fn append_n(log: &LogConfig, n: usize) {
    for i in 0..n {
        audit::append(log, &record(i)).unwrap();
    }
}

fn lines(path: &Path) -> Vec<Vec<u8>> {
    let content = fs::read(path).unwrap();
    let mut lines: Vec<Vec<u8>> = content.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    if lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    lines
}

fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    let mut content = Vec::new();
    for l in lines {
        content.extend_from_slice(l);
        content.push(b'\n');
    }
    fs::write(path, content).unwrap();
}

fn json(line: &[u8]) -> Value {
    serde_json::from_slice(line).unwrap()
}

fn attr_value<'a>(record: &'a Value, key: &str) -> &'a Value {
    record["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|kv| kv["key"] == key)
        .map(|kv| &kv["value"])
        .unwrap_or_else(|| panic!("no attribute {key} in {record}"))
}

fn problem(files: &[PathBuf]) -> (ProblemKind, PathBuf, u64) {
    let report = verify(files);
    let p = report
        .problem
        .unwrap_or_else(|| panic!("expected a problem, report: {:?}", report.warnings));
    (p.kind, p.file, p.line)
}

/// Re-entry point for tests that need several processes: a no-op in a normal test run, an
/// appender when a test spawns this binary with `CHILD_MODE` set.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD_MODE) else {
        return;
    };
    let path = PathBuf::from(std::env::var(CHILD_LOG).unwrap());
    let mut log = LogConfig::new(&path);
    log.max_bytes = std::env::var(CHILD_MAX_BYTES)
        .ok()
        .map(|v| v.parse().unwrap());
    match mode.as_str() {
        "append" => {
            let count: usize = std::env::var(CHILD_COUNT).unwrap().parse().unwrap();
            append_n(&log, count);
        }
        "short-write" => {
            // A file size limit makes write(2) return short, as a full disk would; SIGXFSZ
            // must be ignored or it would kill us instead.
            let limit = fs::metadata(&path).unwrap().len() + 100;
            // SAFETY: plain libc calls on this single-threaded child, with valid arguments.
            unsafe {
                nix::libc::signal(nix::libc::SIGXFSZ, nix::libc::SIG_IGN);
                let rl = nix::libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: nix::libc::RLIM_INFINITY,
                };
                assert_eq!(nix::libc::setrlimit(nix::libc::RLIMIT_FSIZE, &rl), 0);
            }
            let err = audit::append(&log, &record(99)).unwrap_err();
            println!("CHILD-ERROR: {err}");
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn spawn_children(mode: &str, path: &Path, count: usize, max_bytes: Option<u64>, n: usize) {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..n)
        .map(|_| {
            let mut cmd = Command::new(&exe);
            cmd.args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
                .env(CHILD_MODE, mode)
                .env(CHILD_LOG, path)
                .env(CHILD_COUNT, count.to_string());
            if let Some(m) = max_bytes {
                cmd.env(CHILD_MAX_BYTES, m.to_string());
            }
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn first_append_creates_private_dir_file_and_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state/gowarden/audit.log");
    let log = LogConfig::new(&path);
    let a = audit::append(&log, &record(0)).unwrap();
    assert_eq!(a.seq, 1);
    assert_eq!(a.path, path);
    assert!(a.rotated_to.is_none() && a.repaired.is_none());
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&tmp.path().join("state")), 0o700);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&audit::lock_path(&path)), 0o600);

    let b = audit::append(&log, &record(1)).unwrap();
    assert_eq!(b.seq, 2);
    let l = lines(&path);
    assert_eq!(l.len(), 2);
    assert_eq!(a.sha256, line_sha256(&l[0]));
    assert_eq!(b.sha256, line_sha256(&l[1]));
    let r0 = LoggedRecord::parse(&l[0]).unwrap();
    let r1 = LoggedRecord::parse(&l[1]).unwrap();
    assert_eq!(
        (r0.seq, r0.prev_sha256.as_str()),
        (1, audit::GENESIS_SHA256)
    );
    assert_eq!((r1.seq, r1.prev_sha256), (2, line_sha256(&l[0])));
}

#[test]
fn record_is_one_otlp_json_log_record_per_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let args: Vec<OsString> = ["go", "env", "-w", "GOFLAGS=-mod=mod"]
        .iter()
        .map(OsString::from)
        .collect();
    let rec = Record::new("go env -w GOFLAGS=-mod=mod")
        .at(std::time::UNIX_EPOCH + std::time::Duration::from_nanos(1_714_566_896_789_000_001))
        .decision(Decision::Deny)
        .attr_args(attr::PROCESS_COMMAND_ARGS, &args)
        .attr_path(
            attr::PROCESS_EXECUTABLE_PATH,
            Path::new("/usr/local/go/bin/go"),
        )
        .attr_int(attr::PROCESS_PID, 4242)
        .attr_int(attr::PROCESS_PARENT_PID, 4000)
        .attr_path(attr::PROCESS_WORKING_DIRECTORY, Path::new("/src"))
        .attr_str(attr::USER_NAME, "alice")
        .attr_int(attr::USER_ID, 1000)
        .attr_str(attr::HOST_NAME, "devbox")
        .attr_str(attr::GO_VERSION, "1.22.10")
        .attr_str(attr::GO_VERSION_SOURCE, "/src/.go-version")
        .attr_str(attr::GOWARDEN_RULE, "no-mod-mod")
        .attr_str(attr::GOWARDEN_ROLE, "developer")
        .attr_str(attr::GOWARDEN_TIER, "payments")
        .attr_bool("gowarden.ci", false)
        .env_override(
            "GOTOOLCHAIN",
            Some(OsStr::new("auto")),
            Some(OsStr::new("local")),
        )
        .env_override("GOROOT", Some(OsStr::new("/old")), None)
        .go_env_change("GOFLAGS", None, Some(OsStr::new("-mod=mod")));
    audit::append(&LogConfig::new(&path), &rec).unwrap();

    let content = fs::read(&path).unwrap();
    assert_eq!(content.iter().filter(|&&b| b == b'\n').count(), 1);
    assert!(content.ends_with(b"\n"));
    let v = json(&content[..content.len() - 1]);
    assert_eq!(v["timeUnixNano"], "1714566896789000001");
    assert!(
        v["observedTimeUnixNano"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert_eq!(v["severityNumber"], 13);
    assert_eq!(v["severityText"], "WARN");
    assert_eq!(v["body"]["stringValue"], "go env -w GOFLAGS=-mod=mod");
    assert_eq!(attr_value(&v, "gowarden.seq")["intValue"], "1");
    assert_eq!(
        attr_value(&v, "gowarden.prev_sha256")["stringValue"],
        audit::GENESIS_SHA256
    );
    assert_eq!(attr_value(&v, "process.pid")["intValue"], "4242");
    assert_eq!(attr_value(&v, "gowarden.decision")["stringValue"], "deny");
    assert_eq!(attr_value(&v, "gowarden.ci")["boolValue"], false);
    let argv = &attr_value(&v, "process.command_args")["arrayValue"]["values"];
    assert_eq!(argv[3]["stringValue"], "GOFLAGS=-mod=mod");
    assert_eq!(
        attr_value(&v, "gowarden.env_override.from.GOTOOLCHAIN")["stringValue"],
        "auto"
    );
    assert_eq!(
        attr_value(&v, "gowarden.env_override.to.GOTOOLCHAIN")["stringValue"],
        "local"
    );
    assert_eq!(
        attr_value(&v, "gowarden.env_override.from.GOROOT")["stringValue"],
        "/old"
    );
    assert_eq!(
        attr_value(&v, "gowarden.go_env.new.GOFLAGS")["stringValue"],
        "-mod=mod"
    );
    let keys: Vec<&str> = v["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| kv["key"].as_str().unwrap())
        .collect();
    assert!(!keys.contains(&"gowarden.env_override.to.GOROOT"));
    assert!(!keys.contains(&"gowarden.go_env.previous.GOFLAGS"));
    // Only the four OTLP LogRecord fields plus the observed time are top-level.
    let mut top: Vec<&String> = v.as_object().unwrap().keys().collect();
    top.sort();
    assert_eq!(
        top,
        [
            "attributes",
            "body",
            "observedTimeUnixNano",
            "severityNumber",
            "severityText",
            "timeUnixNano"
        ]
    );
}

#[test]
fn same_key_twice_keeps_the_last_value() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let rec = Record::new("x")
        .attr_str(attr::GOWARDEN_ROLE, "a")
        .attr_str(attr::GOWARDEN_ROLE, "b");
    audit::append(&LogConfig::new(&path), &rec).unwrap();
    let r = LoggedRecord::parse(&lines(&path)[0]).unwrap();
    assert_eq!(r.str_attr(attr::GOWARDEN_ROLE), Some("b"));
    assert_eq!(
        r.attributes
            .iter()
            .filter(|(k, _)| k == attr::GOWARDEN_ROLE)
            .count(),
        1
    );
}

#[test]
fn reserved_attributes_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let log = LogConfig::new(tmp.path().join("audit.log"));
    for key in [
        attr::GOWARDEN_SEQ,
        attr::GOWARDEN_PREV_SHA256,
        attr::GOWARDEN_REPAIR_TORN_SHA256,
    ] {
        let err = audit::append(&log, &Record::new("x").attr_str(key, "1")).unwrap_err();
        assert!(err.message().contains(key), "{err}");
    }
    let err = audit::append(&log, &Record::new("x").attr_str("", "1")).unwrap_err();
    assert!(err.message().contains("empty key"));
    assert!(chain_files(&log.path).unwrap().is_empty() || lines(&log.path).is_empty());
}

#[test]
fn eight_processes_append_1600_contiguous_records() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    spawn_children("append", &path, 200, None, 8);
    let l = lines(&path);
    assert_eq!(l.len(), 1600);
    let mut seqs: Vec<u64> = l
        .iter()
        .map(|x| LoggedRecord::parse(x).unwrap().seq)
        .collect();
    assert_eq!(seqs, (1..=1600).collect::<Vec<_>>(), "seq in file order");
    seqs.dedup();
    assert_eq!(seqs.len(), 1600);
    let report = verify(&[path]);
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 1600);
    assert!(report.warnings.is_empty());
}

#[test]
fn threads_with_own_descriptors_append_without_interleaving() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| append_n(&LogConfig::new(&path), 100));
        }
    });
    let report = verify(&[path]);
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 800);
}

#[test]
fn concurrent_processes_rotate_safely() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    spawn_children("append", &path, 150, Some(20_000), 4);
    let files = chain_files(&path).unwrap();
    assert!(files.len() > 3, "expected several rotations, got {files:?}");
    let report = verify(&files);
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 600);
    assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(600)));
    for f in &files {
        assert!(fs::metadata(f).unwrap().len() <= 20_000);
    }
}

fn chain_of(n: usize) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    append_n(&LogConfig::new(&path), n);
    (tmp, path)
}

#[test]
fn intact_chain_verifies() {
    let (_tmp, path) = chain_of(10);
    let report = verify(std::slice::from_ref(&path));
    assert!(report.is_intact());
    assert_eq!((report.records, report.lines), (10, 10));
    assert_eq!(
        report.last_sha256.as_deref(),
        Some(line_sha256(&lines(&path)[9]).as_str())
    );
}

#[test]
fn flipped_byte_is_reported_at_the_edited_line() {
    let (_tmp, path) = chain_of(10);
    let mut l = lines(&path);
    // Change the body text of line 4 (seq 4): still valid JSON, still a record.
    let pos = l[3].windows(3).position(|w| w == b"#3\"").unwrap();
    l[3][pos + 1] = b'7';
    write_lines(&path, &l);
    let (kind, file, line) = problem(std::slice::from_ref(&path));
    assert_eq!((kind, file, line), (ProblemKind::Edited, path, 4));
}

#[test]
fn flipped_byte_breaking_json_is_invalid_at_that_line() {
    let (_tmp, path) = chain_of(10);
    let mut l = lines(&path);
    l[5][0] = b'X';
    write_lines(&path, &l);
    assert_eq!(
        problem(std::slice::from_ref(&path)),
        (ProblemKind::Invalid, path, 6)
    );
}

#[test]
fn deleted_line_is_reported_where_the_gap_is() {
    let (_tmp, path) = chain_of(10);
    let mut l = lines(&path);
    l.remove(4);
    write_lines(&path, &l);
    assert_eq!(
        problem(std::slice::from_ref(&path)),
        (ProblemKind::Deleted, path.clone(), 5)
    );
    let msg = verify(&[path]).problem.unwrap().message;
    assert!(msg.contains("from 4 to 6"), "{msg}");
}

#[test]
fn deleted_first_line_is_a_truncated_head() {
    let (_tmp, path) = chain_of(5);
    let mut l = lines(&path);
    l.remove(0);
    write_lines(&path, &l);
    assert_eq!(
        problem(std::slice::from_ref(&path)),
        (ProblemKind::Truncated, path.clone(), 1)
    );
    let lenient = verify_with(
        &[path],
        &VerifyOptions {
            allow_pruned_head: true,
        },
    );
    assert!(lenient.is_intact());
    assert_eq!(lenient.warnings.len(), 1);
}

#[test]
fn reordered_lines_are_reported_as_reordered() {
    let (_tmp, path) = chain_of(10);
    let mut l = lines(&path);
    l.swap(6, 7);
    write_lines(&path, &l);
    assert_eq!(
        problem(std::slice::from_ref(&path)),
        (ProblemKind::Reordered, path, 7)
    );
}

#[test]
fn duplicated_line_is_reported_as_reordered() {
    let (_tmp, path) = chain_of(5);
    let mut l = lines(&path);
    let dup = l[2].clone();
    l.insert(3, dup);
    write_lines(&path, &l);
    assert_eq!(
        problem(std::slice::from_ref(&path)),
        (ProblemKind::Reordered, path, 4)
    );
}

#[test]
fn truncated_last_line_is_torn() {
    let (_tmp, path) = chain_of(10);
    let len = fs::metadata(&path).unwrap().len();
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 40).unwrap();
    assert_eq!(
        problem(std::slice::from_ref(&path)),
        (ProblemKind::Torn, path, 10)
    );
}

/// Appends raw bytes to a file, as a crash mid-write would leave them.
fn append_raw(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn torn_last_line_is_kept_terminated_and_repaired() {
    let (_tmp, path) = chain_of(5);
    let log = LogConfig::new(&path);
    let before = lines(&path);
    let half = &before[4][..before[4].len() / 2];
    append_raw(&path, half);

    let a = audit::append(&log, &record(5)).unwrap();
    let repaired = a.repaired.clone().expect("repair");
    assert_eq!((repaired.seq, repaired.torn_lines), (6, 1));
    assert_eq!(repaired.torn_bytes, half.len() as u64);
    assert_eq!(a.seq, 7);

    let l = lines(&path);
    assert_eq!(l.len(), 8);
    assert_eq!(
        l[5], half,
        "the torn bytes are kept, finished with a newline"
    );
    let repair = LoggedRecord::parse(&l[6]).unwrap();
    assert_eq!(repair.seq, 6);
    assert_eq!(
        repair.prev_sha256,
        line_sha256(&l[4]),
        "chains to the last complete line"
    );
    assert_eq!(repair.str_attr(attr::GOWARDEN_DECISION), Some("repair"));
    assert_eq!(repair.severity_text, "WARN");
    assert_eq!(
        repair.str_attr(attr::GOWARDEN_REPAIR_TORN_SHA256),
        Some(line_sha256(half).as_str())
    );
    assert_eq!(
        LoggedRecord::parse(&l[7]).unwrap().prev_sha256,
        line_sha256(&l[6])
    );

    let report = verify(std::slice::from_ref(&path));
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 7);
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].line, 6);
    assert_eq!(report.warnings[0].message, "torn line 6 repaired at seq 6");

    // Editing the repaired torn bytes afterwards is still caught.
    let mut l = lines(&path);
    l[5][0] ^= 1;
    write_lines(&path, &l);
    assert_eq!(problem(&[path]).0, ProblemKind::Edited);
}

#[test]
fn torn_record_missing_only_its_newline_is_kept_as_a_record() {
    let (_tmp, path) = chain_of(3);
    let content = fs::read(&path).unwrap();
    fs::write(&path, &content[..content.len() - 1]).unwrap();
    let a = audit::append(&LogConfig::new(&path), &record(3)).unwrap();
    let r = a.repaired.unwrap();
    assert_eq!((r.seq, r.torn_lines, a.seq), (4, 0, 5));
    let report = verify(&[path]);
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 5);
    assert_eq!(report.warnings.len(), 1);
}

#[test]
fn several_junk_lines_at_the_end_are_repaired_together() {
    // A crash during a repair can leave a terminated torn line followed by a torn repair.
    let (_tmp, path) = chain_of(3);
    append_raw(&path, b"{\"timeUnixNano\":\"1\n{\"attri");
    let a = audit::append(&LogConfig::new(&path), &record(3)).unwrap();
    assert_eq!(a.repaired.unwrap().torn_lines, 2);
    let report = verify(&[path]);
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(
        report.warnings[0].message,
        "2 torn lines from line 4 repaired at seq 4"
    );
}

#[test]
fn log_holding_only_a_torn_line_starts_the_chain_with_a_repair() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    fs::write(&path, b"{\"timeUn").unwrap();
    let a = audit::append(&LogConfig::new(&path), &record(0)).unwrap();
    assert_eq!((a.repaired.unwrap().seq, a.seq), (1, 2));
    assert!(verify(&[path]).is_intact());
}

#[test]
fn invalid_line_without_repair_in_the_middle_breaks_the_chain() {
    let (_tmp, path) = chain_of(4);
    let mut l = lines(&path);
    l.insert(2, b"garbage".to_vec());
    write_lines(&path, &l);
    let report = verify(std::slice::from_ref(&path));
    let p = report.problem.unwrap();
    assert_eq!((p.kind, p.line), (ProblemKind::Invalid, 3));
}

#[test]
fn short_write_is_rolled_back() {
    let (_tmp, path) = chain_of(3);
    let before = fs::read(&path).unwrap();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_MODE, "short-write")
        .env(CHILD_LOG, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("CHILD-ERROR: cannot write audit log") && stdout.contains("short write"),
        "{stdout}"
    );
    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "no partial line left behind"
    );
    assert!(verify(&[path]).is_intact());
}

#[test]
fn rotation_carries_the_chain_across_files() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let mut log = LogConfig::new(&path);
    log.max_bytes = Some(3000);
    let mut rotations = Vec::new();
    for i in 0..40 {
        let a = audit::append(&log, &record(i)).unwrap();
        assert_eq!(a.seq, i as u64 + 1);
        rotations.extend(a.rotated_to);
    }
    let rotated = audit::rotated_files(&path).unwrap();
    assert!(rotated.len() >= 3, "{rotated:?}");
    assert_eq!(rotated, rotations, "each rotation named the next number");
    for (i, p) in rotated.iter().enumerate() {
        assert_eq!(
            p.file_name().unwrap(),
            format!("audit.log.{}", i + 1).as_str()
        );
        assert!(fs::metadata(p).unwrap().len() <= 3000);
    }
    let files = chain_files(&path).unwrap();
    for pair in files.windows(2) {
        let last = lines(&pair[0]).pop().unwrap();
        let first = LoggedRecord::parse(&lines(&pair[1])[0]).unwrap();
        assert_eq!(first.prev_sha256, line_sha256(&last));
        assert_eq!(first.seq, LoggedRecord::parse(&last).unwrap().seq + 1);
    }
    let report = verify(&files);
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 40);

    // Losing the end of a rotated file shows at the start of the next one.
    let mut l = lines(&files[1]);
    l.pop();
    write_lines(&files[1], &l);
    let p = verify(&files).problem.unwrap();
    assert_eq!(
        (p.kind, &p.file, p.line),
        (ProblemKind::Truncated, &files[2], 1)
    );
    // So does a missing rotated file.
    let without: Vec<PathBuf> = files.iter().filter(|f| *f != &files[1]).cloned().collect();
    assert_eq!(
        verify(&without).problem.unwrap().kind,
        ProblemKind::Truncated
    );
}

#[test]
fn rotation_repairs_a_torn_line_across_the_boundary() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let mut log = LogConfig::new(&path);
    append_n(&log, 3);
    append_raw(&path, b"{\"torn");
    log.max_bytes = Some(fs::metadata(&path).unwrap().len() + 10);
    let a = audit::append(&log, &record(3)).unwrap();
    let rotated = a.rotated_to.unwrap();
    assert!(lines(&rotated).last().unwrap() == b"{\"torn");
    assert!(fs::read(&rotated).unwrap().ends_with(b"{\"torn\n"));
    assert_eq!(a.repaired.unwrap().seq, 4);
    let report = verify(&chain_files(&path).unwrap());
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].file, rotated);
}

#[test]
fn chain_continues_after_a_crash_between_rename_and_new_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let log = LogConfig::new(&path);
    append_n(&log, 4);
    fs::rename(&path, tmp.path().join("audit.log.1")).unwrap();
    let a = audit::append(&log, &record(4)).unwrap();
    assert_eq!(a.seq, 5);
    let report = verify(&chain_files(&path).unwrap());
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 5);
}

#[test]
fn secrets_are_redacted_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let mut log = LogConfig::new(&path);
    log.redact = Redactor::new(["*TOKEN*", "*PASSWORD*"]);
    let rec = Record::new("go get https://bob:s3cret@git.corp/x")
        .attr_args(
            attr::PROCESS_COMMAND_ARGS,
            &[
                "go",
                "get",
                "https://bob:s3cret@git.corp/x",
                "NPM_TOKEN=tok-123",
            ],
        )
        .env_override(
            "GOPROXY",
            Some(OsStr::new("https://u:pw-456@proxy.corp,direct")),
            Some(OsStr::new("https://proxy.corp")),
        )
        .env_override("GITHUB_TOKEN", Some(OsStr::new("ghp_789")), None)
        .go_env_change("GOAUTH", None, Some(OsStr::new("netrc")))
        .go_env_change("DB_PASSWORD", Some(OsStr::new("pw-000")), None)
        .attr_str("custom.url", "https://x:y-111@h");
    audit::append(&log, &rec).unwrap();
    let content = String::from_utf8(fs::read(&path).unwrap()).unwrap();
    for secret in ["s3cret", "tok-123", "pw-456", "ghp_789", "pw-000", "y-111"] {
        assert!(!content.contains(secret), "{secret} leaked: {content}");
    }
    let r = LoggedRecord::parse(content.trim_end().as_bytes()).unwrap();
    assert_eq!(r.body, "go get https://REDACTED@git.corp/x");
    let args = r.args_attr(attr::PROCESS_COMMAND_ARGS).unwrap().unwrap();
    assert_eq!(args[2], "https://REDACTED@git.corp/x");
    assert_eq!(args[3], "NPM_TOKEN=REDACTED");
    assert_eq!(
        r.str_attr("gowarden.env_override.from.GOPROXY"),
        Some("https://REDACTED@proxy.corp,direct")
    );
    assert_eq!(
        r.str_attr("gowarden.env_override.from.GITHUB_TOKEN"),
        Some("REDACTED")
    );
    assert_eq!(r.str_attr("gowarden.go_env.new.GOAUTH"), Some("netrc"));
    assert_eq!(
        r.str_attr("gowarden.go_env.previous.DB_PASSWORD"),
        Some("REDACTED")
    );
    assert_eq!(r.str_attr("custom.url"), Some("https://REDACTED@h"));
}

#[test]
fn arguments_with_newlines_and_invalid_utf8_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let args: Vec<OsString> = vec![
        OsString::from("go"),
        OsString::from("run"),
        OsString::from("line1\nline2\r\n"),
        OsString::from_vec(b"\xff\xfe invalid \xc3".to_vec()),
        OsString::from("back\\slash \\x41 \"quote\" \t tab \x1b[31m"),
        OsString::from_vec(vec![0x00, 0x01, 0x7f, 0x80, b'\\', b'x', b'f', b'f']),
        OsString::from(""),
        OsString::from("ünïcødé ✓"),
    ];
    let cwd = PathBuf::from(OsString::from_vec(b"/tmp/we\xffird\ndir".to_vec()));
    let rec = Record::new("go run")
        .attr_args(attr::PROCESS_COMMAND_ARGS, &args)
        .attr_path(attr::PROCESS_WORKING_DIRECTORY, &cwd);
    audit::append(&LogConfig::new(&path), &rec).unwrap();
    audit::append(&LogConfig::new(&path), &record(1)).unwrap();
    let l = lines(&path);
    assert_eq!(l.len(), 2, "each record is exactly one line");
    assert!(std::str::from_utf8(&l[0]).is_ok(), "the log is UTF-8");
    let r = LoggedRecord::parse(&l[0]).unwrap();
    assert_eq!(
        r.args_attr(attr::PROCESS_COMMAND_ARGS).unwrap().unwrap(),
        args
    );
    assert_eq!(
        r.os_attr(attr::PROCESS_WORKING_DIRECTORY).unwrap().unwrap(),
        cwd.as_os_str()
    );
    // The documented escape, as written in the file.
    let v = json(&l[0]);
    assert_eq!(
        attr_value(&v, "process.command_args")["arrayValue"]["values"][3]["stringValue"],
        "\\xff\\xfe invalid \\xc3"
    );
    assert!(verify(&[path]).is_intact());
}

#[test]
fn unwritable_location_gives_an_error_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("not-a-dir");
    fs::write(&blocker, b"").unwrap();
    let path = blocker.join("audit.log");
    let err = audit::append(&LogConfig::new(&path), &record(0)).unwrap_err();
    assert!(
        err.message().contains(&blocker.display().to_string()),
        "{err}"
    );

    // A directory without write permission (root ignores permissions, so only as a user).
    if !nix::unistd::geteuid().is_root() {
        let ro = tmp.path().join("ro");
        fs::create_dir(&ro).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o500)).unwrap();
        let path = ro.join("audit.log");
        let err = audit::append(&LogConfig::new(&path), &record(0)).unwrap_err();
        assert!(err.message().contains(&ro.display().to_string()), "{err}");
        assert!(err.message().contains("ermission denied"), "{err}");
    }

    // A path that is a directory.
    let dir_path = tmp.path().join("adir");
    fs::create_dir(&dir_path).unwrap();
    let err = audit::append(&LogConfig::new(&dir_path), &record(0)).unwrap_err();
    assert!(err.message().contains("adir"), "{err}");
}

#[test]
fn symlinked_log_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("elsewhere");
    fs::write(&target, b"").unwrap();
    let path = tmp.path().join("audit.log");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let err = audit::append(&LogConfig::new(&path), &record(0)).unwrap_err();
    assert!(err.message().contains("symbolic link"), "{err}");
    assert_eq!(fs::read(&target).unwrap(), b"");
}

#[test]
fn fsync_durability_appends_too() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let mut log = LogConfig::new(&path);
    log.durability = Durability::Fsync;
    log.max_bytes = Some(2000);
    append_n(&log, 10);
    let report = verify(&chain_files(&path).unwrap());
    assert!(report.is_intact());
    assert_eq!(report.records, 10);
}

#[test]
fn tail_summarises_the_last_records_across_files() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let mut log = LogConfig::new(&path);
    log.max_bytes = Some(1500);
    for i in 0..12 {
        let rec = record(i)
            .at(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_709_210_096 + i as u64))
            .attr_args(
                attr::PROCESS_COMMAND_ARGS,
                &["go", "test", "-run", "Foo Bar"],
            );
        audit::append(&log, &rec).unwrap();
    }
    let files = chain_files(&path).unwrap();
    assert!(files.len() > 2);
    let t = audit::tail(&files, 5).unwrap();
    assert_eq!(t.len(), 5);
    assert_eq!(
        t[4],
        "2024-02-29T12:35:07.000Z #12 allow alice(1000) /home/alice/proj: go test -run 'Foo Bar'"
    );
    assert!(t[0].contains(" #8 "));
    assert_eq!(audit::tail(&files, 100).unwrap().len(), 12);
    assert!(audit::tail(&files, 0).unwrap().is_empty());
}

#[test]
fn tail_shows_torn_lines_as_such() {
    let (_tmp, path) = chain_of(2);
    append_raw(&path, b"{\"to\x1brn");
    let t = audit::tail(&[path], 2).unwrap();
    assert!(t[0].contains("#2 allow"));
    assert!(t[1].starts_with("(not an audit record"), "{}", t[1]);
    assert!(t[1].contains("\\x1b"), "{}", t[1]);
}

#[test]
fn follower_sees_appends_and_rotations() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let mut log = LogConfig::new(&path);
    let mut follower = Follower::new(&path).unwrap();
    assert!(follower.poll().unwrap().is_empty());
    append_n(&log, 3);
    let got = follower.poll().unwrap();
    assert_eq!(got.len(), 3);
    assert!(follower.poll().unwrap().is_empty());

    log.max_bytes = Some(1200);
    append_n(&log, 6);
    let files = chain_files(&path).unwrap();
    assert!(files.len() > 3, "{files:?}");
    let got = follower.poll().unwrap();
    let seqs: Vec<u64> = got
        .iter()
        .map(|l| LoggedRecord::parse(l).unwrap().seq)
        .collect();
    // Nothing is lost or repeated, even from files that were rotated in and out between
    // two polls.
    assert_eq!(seqs, [4, 5, 6, 7, 8, 9]);

    let later = Follower::new(&path).unwrap();
    append_n(&log, 1);
    let backlog = later.backlog(4).unwrap();
    let seqs: Vec<u64> = backlog
        .iter()
        .map(|l| LoggedRecord::parse(l).unwrap().seq)
        .collect();
    assert_eq!(seqs, [6, 7, 8, 9]);
}

#[test]
fn follower_tolerates_a_missing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("later.log");
    let mut follower = Follower::new(&path).unwrap();
    assert!(follower.poll().unwrap().is_empty());
    append_n(&LogConfig::new(&path), 2);
    assert_eq!(follower.poll().unwrap().len(), 2);
}

#[test]
fn export_wraps_records_in_an_otlp_request() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let log = LogConfig::new(&path);
    audit::append(&log, &record(0).attr_str(attr::HOST_NAME, "a")).unwrap();
    audit::append(&log, &record(1).attr_str(attr::HOST_NAME, "b")).unwrap();
    audit::append(&log, &record(2).attr_str(attr::HOST_NAME, "a")).unwrap();
    append_raw(&path, b"{\"torn");
    let v = audit::export_otlp_json(std::slice::from_ref(&path)).unwrap();
    let rl = v["resourceLogs"].as_array().unwrap();
    assert_eq!(rl.len(), 2);
    let res = &rl[0]["resource"]["attributes"];
    assert_eq!(res[0]["key"], "service.name");
    assert_eq!(res[0]["value"]["stringValue"], "gowarden");
    assert_eq!(res[1]["key"], "host.name");
    assert_eq!(res[1]["value"]["stringValue"], "a");
    let scope = &rl[0]["scopeLogs"][0];
    assert_eq!(scope["scope"]["name"], "gowarden");
    let records = scope["logRecords"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0],
        json(&lines(&path)[0]),
        "records pass through unchanged"
    );
    assert_eq!(
        rl[1]["scopeLogs"][0]["logRecords"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        rl[1]["scopeLogs"][0]["logRecords"][0]["body"]["stringValue"],
        "go build ./... #1"
    );
}

#[test]
fn verify_reports_unreadable_files() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.log");
    let report = verify(std::slice::from_ref(&missing));
    let p = report.problem.unwrap();
    assert_eq!(
        (p.kind, p.file, p.line),
        (ProblemKind::Unreadable, missing, 0)
    );
}

#[test]
fn verify_of_bytes_that_are_not_utf8_or_json_does_not_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let mut x: u32 = 12345;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    fs::write(&path, &noise).unwrap();
    assert!(!verify(std::slice::from_ref(&path)).is_intact());
    let _ = audit::tail(std::slice::from_ref(&path), 10).unwrap();
    let _ = audit::export_otlp_json(std::slice::from_ref(&path)).unwrap();
    // An append over garbage repairs it (all of it is junk before the first record).
    let a = audit::append(&LogConfig::new(&path), &record(0)).unwrap();
    assert!(a.repaired.is_some());
    let report = verify(&[path]);
    assert!(report.is_intact(), "{:?}", report.problem);
}

#[test]
fn append_cost_does_not_depend_on_log_size() {
    // Not a benchmark: checks that an append reads only the end of the file, by making the
    // start of the file unreadable garbage that a from-the-start reader would choke on.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let log = LogConfig::new(&path);
    append_n(&log, 2);
    let mut content = vec![b'x'; 8 << 20];
    content.push(b'\n');
    content.extend(fs::read(&path).unwrap());
    fs::write(&path, content).unwrap();
    let a = audit::append(&log, &record(2)).unwrap();
    assert_eq!(a.seq, 3);
    assert!(a.repaired.is_none());
}

#[test]
fn lines_decode_helpers_are_exposed() {
    let s = audit::encode_os(OsStr::from_bytes(b"a\\\xff"));
    assert_eq!(s, "a\\\\\\xff");
    assert_eq!(audit::decode_os(&s).unwrap().as_bytes(), b"a\\\xff");
}

#[test]
fn forged_huge_seq_neither_wraps_nor_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("audit.log");
    let enc = record(0).encode(&Redactor::default()).unwrap();
    let last = enc.line(u64::MAX, audit::GENESIS_SHA256);
    write_lines(&path, std::slice::from_ref(&last));
    let err = audit::append(&LogConfig::new(&path), &record(1)).unwrap_err();
    assert!(err.message().contains("largest seq"), "{err}");
    assert_eq!(
        problem(std::slice::from_ref(&path)),
        (ProblemKind::Truncated, path.clone(), 1)
    );
    let again = enc.line(u64::MAX, &line_sha256(&last));
    write_lines(&path, &[last, again]);
    let report = verify_with(
        std::slice::from_ref(&path),
        &VerifyOptions {
            allow_pruned_head: true,
        },
    );
    let p = report.problem.unwrap();
    assert_eq!((p.kind, p.line), (ProblemKind::Reordered, 2), "{p}");
}
