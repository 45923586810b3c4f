//! Verifying what a Collector collected: its file export (OTLP JSON, one request per line, as
//! the contrib `file` exporter writes it), stream by stream, and a local log against it.
//!
//! A stream is one host's and one user's chain: resource `host.name` (else the record's) and
//! the record's `user.id`. Each collected record names its own line's hash (`gowarden.sha256`,
//! added by `ship`/`export`, or the SHA-256 of `log.record.original`, kept by the shipped
//! filelog configuration) and its predecessor's (`gowarden.prev_sha256`), so the collected copy
//! can be checked without the original bytes: sequence gaps, broken links, and duplicates that
//! are not identical retransmissions are problems; identical duplicates are counted.
//!
//! Against a local log, the collected copy is the anchor the local chain lacks: a local record
//! whose hash differs from the collected one at the same seq (an edited and re-hashed chain, a
//! seq reused after a "repair"), or collected records past the local end (deleted newest
//! records) are found, naming the first record that differs.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::chain::{chain_info, line_sha256};
use super::otlp::SHA256_ATTR;
use super::record::attr;
use crate::error::{Error, Result};

/// One host's and user's collected records.
#[derive(Debug, Default, Clone)]
pub struct Stream {
    pub host: String,
    pub user: String,
    /// seq → (sha256 of the line, prev_sha256).
    pub records: BTreeMap<u64, (String, String)>,
    /// Identical copies beyond the first (retransmissions).
    pub retransmitted: u64,
    /// Problems found in the stream itself, in seq order.
    pub problems: Vec<String>,
}

impl Stream {
    pub fn first_seq(&self) -> Option<u64> {
        self.records.keys().next().copied()
    }
    pub fn last_seq(&self) -> Option<u64> {
        self.records.keys().next_back().copied()
    }
}

/// What a Collector's export holds.
#[derive(Debug, Default)]
pub struct Collected {
    pub streams: Vec<Stream>,
    /// Lines that were not a JSON request (a Collector killed mid-write leaves one).
    pub torn_lines: u64,
    /// Records without a chain (not gowarden's, or without a hash to check).
    pub skipped: u64,
}

fn attr_map(list: &Value) -> BTreeMap<&str, &Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|kv| Some((kv.get("key")?.as_str()?, kv.get("value")?)))
        .collect()
}

fn scalar(v: &Value) -> Option<String> {
    let v = v
        .get("stringValue")
        .or_else(|| v.get("intValue"))
        .unwrap_or(v);
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One line of a file export. A Collector killed between writing a request and its newline
/// leaves a torn request that the next one (after a restart) continues on the same line: the
/// whole request at the end of such a line is still read.
pub fn parse_request(line: &[u8]) -> Option<Value> {
    if let Ok(v) = serde_json::from_slice::<Value>(line) {
        return Some(v);
    }
    let marker = b"{\"resourceLogs\"";
    let at = line
        .windows(marker.len())
        .rposition(|w| w == marker)
        .filter(|&i| i > 0)?;
    serde_json::from_slice(&line[at..]).ok()
}

/// Reads a Collector file export.
pub fn read_collected(path: &Path) -> Result<Collected> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io("cannot open collected export", path, &e))?;
    let mut out = Collected::default();
    let mut streams: BTreeMap<(String, String), Stream> = BTreeMap::new();
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line.map_err(|e| Error::io("cannot read collected export", path, &e))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Some(req) = parse_request(&line) else {
            out.torn_lines += 1;
            continue;
        };
        for rl in req["resourceLogs"].as_array().into_iter().flatten() {
            let resource = attr_map(&rl["resource"]["attributes"]);
            for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                for r in sl["logRecords"].as_array().into_iter().flatten() {
                    let a = attr_map(&r["attributes"]);
                    let seq = a
                        .get("gowarden.seq")
                        .and_then(|v| scalar(v))
                        .and_then(|s| s.parse::<u64>().ok());
                    let prev = a.get(attr::GOWARDEN_PREV_SHA256).and_then(|v| scalar(v));
                    let sha = a.get(SHA256_ATTR).and_then(|v| scalar(v)).or_else(|| {
                        a.get("log.record.original")
                            .and_then(|v| scalar(v))
                            .map(|s| line_sha256(s.as_bytes()))
                    });
                    let (Some(seq), Some(prev), Some(sha)) = (seq, prev, sha) else {
                        out.skipped += 1;
                        continue;
                    };
                    let host = resource
                        .get(attr::HOST_NAME)
                        .or_else(|| a.get(attr::HOST_NAME))
                        .and_then(|v| scalar(v))
                        .unwrap_or_default();
                    let user = a
                        .get(attr::USER_ID)
                        .and_then(|v| scalar(v))
                        .unwrap_or_default();
                    let s = streams
                        .entry((host.clone(), user.clone()))
                        .or_insert_with(|| Stream {
                            host,
                            user,
                            ..Stream::default()
                        });
                    match s.records.get(&seq) {
                        Some((old, old_prev)) if *old == sha && *old_prev == prev => {
                            s.retransmitted += 1
                        }
                        Some((old, _)) => s.problems.push(format!(
                            "seq {seq} was collected twice with different contents \
                             (sha256 {old} and {sha}): not a retransmission"
                        )),
                        None => {
                            s.records.insert(seq, (sha, prev));
                        }
                    }
                }
            }
        }
    }
    for s in streams.values_mut() {
        let mut last: Option<(u64, &String)> = None;
        for (&seq, (sha, prev)) in &s.records {
            if let Some((lseq, lsha)) = last {
                if seq != lseq + 1 {
                    let missing = if seq == lseq + 2 {
                        format!("seq {}", lseq + 1)
                    } else {
                        format!("seqs {}..{}", lseq + 1, seq - 1)
                    };
                    s.problems
                        .push(format!("{missing} missing (a gap before seq {seq})"));
                } else if prev != lsha {
                    s.problems.push(format!(
                        "seq {seq} does not link to seq {lseq}: its prev_sha256 {prev} is not \
                         the hash {lsha} of seq {lseq}"
                    ));
                }
            }
            last = Some((seq, sha));
        }
    }
    out.streams = streams.into_values().collect();
    Ok(out)
}

/// The first disagreement between a local chain and the collected stream for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub file: PathBuf,
    /// 1-based line in `file`, 0 when the difference is past the local end.
    pub line: u64,
    pub seq: u64,
    pub message: String,
}

/// What [`compare_local`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The first disagreement, if any.
    pub mismatch: Option<Mismatch>,
    /// The (host, user.id) of the local records; `None` when the log holds none.
    pub stream: Option<(String, String)>,
    /// Local records found unchanged in the collected copy.
    pub matched: u64,
}

/// Compares the local chain `files` with the collected stream of the same host and user
/// (taken from the local records). No mismatch: every local record the collector has is
/// unchanged there and the collector has nothing past the local end; local records not
/// shipped yet are no problem.
pub fn compare_local(files: &[PathBuf], collected: &Collected) -> Result<Comparison> {
    let mut stream: Option<&Stream> = None;
    let mut key = None;
    let mut last_local: Option<(u64, PathBuf, u64)> = None;
    let mut matched = 0u64;
    for path in files {
        let file =
            std::fs::File::open(path).map_err(|e| Error::io("cannot open audit log", path, &e))?;
        for (i, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
            let line = line.map_err(|e| Error::io("cannot read audit log", path, &e))?;
            let Ok(info) = chain_info(&line) else {
                continue;
            };
            if stream.is_none() {
                let v: Value = serde_json::from_slice(&line).unwrap_or(Value::Null);
                let a = attr_map(&v["attributes"]);
                let host = a
                    .get(attr::HOST_NAME)
                    .and_then(|v| scalar(v))
                    .unwrap_or_default();
                let user = a
                    .get(attr::USER_ID)
                    .and_then(|v| scalar(v))
                    .unwrap_or_default();
                stream = collected
                    .streams
                    .iter()
                    .find(|s| s.host == host && s.user == user);
                key = Some((host, user));
                if stream.is_none() {
                    return Ok(Comparison {
                        mismatch: None,
                        stream: key,
                        matched: 0,
                    });
                }
            }
            let s = stream.expect("set above");
            let sha = line_sha256(&line);
            match s.records.get(&info.seq) {
                Some((c, _)) if *c == sha => matched += 1,
                Some((c, _)) => {
                    return Ok(Comparison {
                        mismatch: Some(Mismatch {
                            file: path.clone(),
                            line: i as u64 + 1,
                            seq: info.seq,
                            message: format!(
                                "record seq {} differs from the collected copy (local sha256 \
                                 {sha}, collected {c}): edited, re-hashed or its seq reused \
                                 after it was shipped",
                                info.seq
                            ),
                        }),
                        stream: key,
                        matched,
                    });
                }
                None => {}
            }
            last_local = Some((info.seq, path.clone(), i as u64 + 1));
        }
    }
    if let (Some(s), Some((lseq, path, _))) = (stream, &last_local)
        && let Some(cmax) = s.last_seq()
        && cmax > *lseq
    {
        return Ok(Comparison {
            mismatch: Some(Mismatch {
                file: path.clone(),
                line: 0,
                seq: lseq + 1,
                message: format!(
                    "the local log ends at seq {lseq} but the collector has records up to seq \
                     {cmax}: seq {} and later were deleted locally",
                    lseq + 1
                ),
            }),
            stream: key,
            matched,
        });
    }
    Ok(Comparison {
        mismatch: None,
        stream: key,
        matched,
    })
}
