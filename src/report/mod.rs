//! `gowarden audit report`: what the fleet runs, what was refused, how well the policy holds,
//! from local audit logs and Collector file exports of many hosts and users.
//!
//! [`Aggregator`] reads every line once ([`Aggregator::read_file`]) and keeps counters keyed by
//! tier, project (module path), rule, role, Go version, stream and time bucket: its memory
//! grows with those, never with the number of records. [`Aggregator::finish`] turns the
//! counters into a [`Report`], which [`Report`]'s `Serialize` (JSON), [`prom`] and [`html`]
//! render: three views of the same numbers. docs/report.md documents every field.
//!
//! A record is counted once however often it is read: the (host, user.id, seq) of each record
//! is its identity, so a local log read beside the Collector's copy of it, or a retransmitted
//! batch, adds nothing ([`chain`] decides).

pub mod chain;
pub mod html;
pub mod prom;
pub mod topk;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{JoinedHasher, attr, format_unix_nanos, parse_decimal};
use crate::date::Date;
use crate::error::{Error, Result};
use chain::{ChainProblem, ChainTrack, Hash, Loc, Seen, parse_hash};
use topk::TopK;

/// Label for records without a tier or project attribute.
pub const NONE: &str = "";
const NS_PER_DAY: u64 = 86_400 * 1_000_000_000;
/// Counters per top-N list: heavy hitters are exact while fewer distinct command lines than
/// this were refused, and within a stated error beyond (see [`topk`]).
const TOP_CAPACITY_FLEET: usize = 1024;
const TOP_CAPACITY_GROUP: usize = 64;
/// The response-time index keeps at most this many buckets per project before it coarsens.
const MAX_CLEAN_BUCKETS: usize = 2048;
const MAX_WARNINGS: usize = 50;

/// A tier as the policy defines it: what the report compares projects with.
#[derive(Debug, Clone)]
pub struct TierInfo {
    pub name: String,
    pub owner: String,
    pub min: Option<String>,
    pub recommended: Option<String>,
    pub upgrade_by: Option<Date>,
}

impl TierInfo {
    /// The tiers of a loaded policy's matrix.
    pub fn from_policy(policy: &crate::policy::LoadedPolicy) -> Vec<TierInfo> {
        crate::policy::matrix::compile(policy)
            .0
            .tiers
            .iter()
            .map(|t| TierInfo {
                name: t.name.clone(),
                owner: t.owner.clone(),
                min: t.min.as_ref().map(|b| format!("go{}", b.bare)),
                recommended: t.recommended.as_ref().map(|b| format!("go{}", b.bare)),
                upgrade_by: t.upgrade_by.as_ref().map(|d| d.date),
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// How many entries each "top refused command lines" list shows.
    pub top: usize,
    /// The day deadlines are counted from.
    pub today: Date,
    pub tiers: Vec<TierInfo>,
    /// Where the tiers came from (shown in the report).
    pub policy: Option<String>,
}

/// allowed / warned / refused calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    pub allowed: u64,
    pub warned: u64,
    pub refused: u64,
}

impl Calls {
    fn add(&mut self, d: Decision) {
        match d {
            Decision::Allow => self.allowed += 1,
            Decision::Warn => self.warned += 1,
            Decision::Deny => self.refused += 1,
        }
    }
    pub fn total(&self) -> u64 {
        self.allowed + self.warned + self.refused
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Allow,
    Warn,
    Deny,
}

/// Refusals counted by rule and by role.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Refusals {
    pub by_rule: BTreeMap<String, u64>,
    pub by_role: BTreeMap<String, u64>,
}

impl Refusals {
    fn add(&mut self, rule: &str, role: &str) {
        bump(&mut self.by_rule, rule);
        bump(&mut self.by_role, role);
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

#[derive(Debug, Default)]
struct DayAgg {
    calls: Calls,
    versions: BTreeMap<String, u64>,
}

#[derive(Debug)]
struct TierAgg {
    calls: Calls,
    versions: BTreeMap<String, u64>,
    days: BTreeMap<i64, DayAgg>,
    refusals: Refusals,
    top: TopK,
}

impl TierAgg {
    fn new() -> TierAgg {
        TierAgg {
            calls: Calls::default(),
            versions: BTreeMap::new(),
            days: BTreeMap::new(),
            refusals: Refusals::default(),
            top: TopK::new(TOP_CAPACITY_GROUP),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct VersionAgg {
    calls: u64,
    first: u64,
    last: u64,
}

/// When a project's clean calls happened, in buckets of `width` ns (minutes at first): the
/// earliest and latest clean call in each. Enough to find the first clean call after the
/// first violation exactly unless both fall in one bucket with clean calls before the
/// violation too; then the bucket's latest clean call stands in (`exact` = false). Coarsens
/// (doubling `width`) past [`MAX_CLEAN_BUCKETS`], so it stays bounded.
#[derive(Debug)]
struct CleanIndex {
    width: u64,
    buckets: BTreeMap<u64, (u64, u64)>,
}

impl CleanIndex {
    fn new() -> CleanIndex {
        CleanIndex {
            width: 60_000_000_000,
            buckets: BTreeMap::new(),
        }
    }

    fn add(&mut self, t: u64) {
        let e = self.buckets.entry(t / self.width).or_insert((t, t));
        e.0 = e.0.min(t);
        e.1 = e.1.max(t);
        if self.buckets.len() > MAX_CLEAN_BUCKETS {
            self.width = self.width.saturating_mul(2);
            let old = std::mem::take(&mut self.buckets);
            for (_, (lo, hi)) in old {
                let e = self.buckets.entry(lo / self.width).or_insert((lo, hi));
                e.0 = e.0.min(lo);
                e.1 = e.1.max(hi);
            }
        }
    }

    /// Clean calls after `bound` can never matter once one clean call after the first
    /// violation is known: forget the buckets past it.
    fn prune_after(&mut self, bound: u64) {
        let keep = bound / self.width;
        let _ = self.buckets.split_off(&(keep + 1));
    }

    /// The first clean call after `v`, and whether it is exact.
    fn first_after(&self, v: u64) -> Option<(u64, bool)> {
        for (_, &(lo, hi)) in self.buckets.range(v / self.width..) {
            if lo > v {
                return Some((lo, true));
            }
            if hi > v {
                // Clean calls on both sides of v in one bucket: the one right after v is
                // between v and hi.
                return Some((hi, false));
            }
        }
        None
    }
}

#[derive(Debug)]
struct ProjectAgg {
    /// The tier of the newest record, and its time.
    tier: (u64, String),
    calls: Calls,
    versions: BTreeMap<String, VersionAgg>,
    /// The version of the newest call that ran, and its time.
    current: Option<(u64, String)>,
    refusals: Refusals,
    top: TopK,
    first_violation: Option<u64>,
    clean: CleanIndex,
}

#[derive(Debug, Default)]
struct DriftAgg {
    drift: u64,
    bypass: u64,
    resolved: u64,
    fixes: u64,
    by_category: BTreeMap<String, u64>,
    by_key: BTreeMap<String, u64>,
    /// (year, month) → (drift events, of which bypasses).
    by_month: BTreeMap<(i64, u32), (u64, u64)>,
    bypass_hosts: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct StreamAgg {
    user_name: Option<String>,
    sources: BTreeSet<&'static str>,
    chain: ChainTrack,
    first_time: Option<u64>,
    last_time: Option<u64>,
}

/// Non-record lines of a local log waiting for the repair record that may cover them.
struct Junk {
    hasher: JoinedHasher,
    first_line: u64,
    reason: String,
    last_unterminated: bool,
}

/// Reads records and keeps the report's counters.
pub struct Aggregator {
    opts: Options,
    files: Vec<String>,
    lines: u64,
    counted: u64,
    duplicates: u64,
    skipped: u64,
    first_time: Option<u64>,
    last_time: Option<u64>,
    totals: Calls,
    other_events: BTreeMap<String, u64>,
    tiers: BTreeMap<String, TierAgg>,
    projects: BTreeMap<String, ProjectAgg>,
    refusals: Refusals,
    by_rule_role: BTreeMap<(String, String), u64>,
    refused_days: BTreeMap<i64, u64>,
    top: TopK,
    drift: DriftAgg,
    /// host → user.id → stream (nested, so a lookup borrows the record's strings).
    streams: BTreeMap<String, BTreeMap<String, StreamAgg>>,
    warnings: Vec<String>,
    warning_count: u64,
}

// Borrowing views of a line: only what the report reads is materialised; serde skips the rest.
// Both kinds of line in one struct, without `#[serde(flatten)]`, which would buffer every
// value of the line before deserialising it (several times slower).
#[derive(Deserialize)]
struct LineView<'a> {
    #[serde(rename = "resourceLogs", borrow, default)]
    resource_logs: Option<Vec<ResourceLogsView<'a>>>,
    #[serde(rename = "timeUnixNano", borrow, default)]
    time: Option<ScalarView<'a>>,
    #[serde(borrow, default)]
    body: Option<AnyValueView<'a>>,
    #[serde(borrow, default)]
    attributes: Option<Vec<KeyValueView<'a>>>,
}

impl<'a> LineView<'a> {
    fn into_record(self) -> RecordView<'a> {
        RecordView {
            time: self.time,
            body: self.body,
            attributes: self.attributes,
        }
    }
}

#[derive(Deserialize)]
struct ResourceLogsView<'a> {
    #[serde(borrow, default)]
    resource: Option<ResourceView<'a>>,
    #[serde(rename = "scopeLogs", borrow, default)]
    scope_logs: Vec<ScopeLogsView<'a>>,
}

#[derive(Deserialize)]
struct ResourceView<'a> {
    #[serde(borrow, default)]
    attributes: Vec<KeyValueView<'a>>,
}

#[derive(Deserialize)]
struct ScopeLogsView<'a> {
    #[serde(rename = "logRecords", borrow, default)]
    log_records: Vec<RecordView<'a>>,
}

#[derive(Deserialize, Default)]
struct RecordView<'a> {
    #[serde(rename = "timeUnixNano", borrow, default)]
    time: Option<ScalarView<'a>>,
    #[serde(borrow, default)]
    body: Option<AnyValueView<'a>>,
    #[serde(borrow, default)]
    attributes: Option<Vec<KeyValueView<'a>>>,
}

#[derive(Deserialize)]
struct KeyValueView<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(borrow, default)]
    value: AnyValueView<'a>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AnyValueView<'a> {
    #[serde(borrow, default)]
    string_value: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    int_value: Option<ScalarView<'a>>,
}

/// OTLP JSON writes 64-bit integers as strings; protobuf JSON readers accept numbers too.
#[derive(Deserialize)]
#[serde(untagged)]
enum ScalarView<'a> {
    Str(#[serde(borrow)] Cow<'a, str>),
    Num(u64),
    Other(serde::de::IgnoredAny),
}

impl ScalarView<'_> {
    fn as_u64(&self) -> Option<u64> {
        match self {
            ScalarView::Str(s) => parse_decimal(s),
            ScalarView::Num(n) => Some(*n),
            ScalarView::Other(_) => None,
        }
    }
    fn to_text(&self) -> Option<String> {
        match self {
            ScalarView::Str(s) => Some(s.to_string()),
            ScalarView::Num(n) => Some(n.to_string()),
            ScalarView::Other(_) => None,
        }
    }
}

/// The attributes the report reads, from one record.
#[derive(Default)]
struct Fields<'v> {
    seq: Option<u64>,
    prev: Option<&'v str>,
    sha: Option<&'v str>,
    original: Option<&'v str>,
    decision: Option<&'v str>,
    rule: Option<&'v str>,
    role: Option<&'v str>,
    tier: Option<&'v str>,
    project: Option<&'v str>,
    version: Option<&'v str>,
    host: Option<&'v str>,
    user_id: Option<Cow<'v, str>>,
    user_name: Option<&'v str>,
    drift_category: Option<&'v str>,
    drift_key: Option<&'v str>,
    torn_lines: Option<u64>,
    torn_sha: Option<&'v str>,
}

fn fields<'v>(attrs: &'v [KeyValueView<'_>]) -> Fields<'v> {
    let mut f = Fields::default();
    for kv in attrs {
        let s = kv.value.string_value.as_deref();
        match kv.key.as_ref() {
            attr::GOWARDEN_SEQ => f.seq = kv.value.int_value.as_ref().and_then(|v| v.as_u64()),
            attr::GOWARDEN_PREV_SHA256 => f.prev = s,
            crate::audit::SHA256_ATTR => f.sha = s,
            "log.record.original" => f.original = s,
            attr::GOWARDEN_DECISION => f.decision = s,
            attr::GOWARDEN_RULE => f.rule = s,
            attr::GOWARDEN_ROLE => f.role = s,
            attr::GOWARDEN_TIER => f.tier = s,
            attr::GOWARDEN_PROJECT => f.project = s,
            attr::GO_VERSION => f.version = s,
            attr::HOST_NAME => f.host = s,
            attr::USER_ID => {
                // A string by the conventions; older records wrote an int.
                f.user_id = s.map(Cow::Borrowed).or_else(|| {
                    kv.value
                        .int_value
                        .as_ref()
                        .and_then(ScalarView::to_text)
                        .map(Cow::Owned)
                })
            }
            attr::USER_NAME => f.user_name = s,
            "gowarden.drift.category" => f.drift_category = s,
            "gowarden.drift.key" => f.drift_key = s,
            attr::GOWARDEN_REPAIR_TORN_LINES => {
                f.torn_lines = kv.value.int_value.as_ref().and_then(|v| v.as_u64())
            }
            attr::GOWARDEN_REPAIR_TORN_SHA256 => f.torn_sha = s,
            _ => {}
        }
    }
    f
}

/// One JSON line of either kind, or why it is neither.
enum Parsed<'a> {
    Record(RecordView<'a>),
    Request(LineView<'a>),
}

fn parse_line(line: &[u8]) -> std::result::Result<Parsed<'_>, String> {
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err("not a JSON object".into());
    }
    match serde_json::from_slice::<LineView<'_>>(line) {
        Ok(v) if v.resource_logs.is_some() => Ok(Parsed::Request(v)),
        Ok(v) if v.attributes.is_some() => Ok(Parsed::Record(v.into_record())),
        Ok(_) => Err(
            "a JSON object that is neither an audit record (no attributes) nor an \
                       OTLP logs request (no resourceLogs)"
                .into(),
        ),
        Err(e) => {
            // A Collector killed between a request and its newline leaves a torn request that
            // the next one continues on the same line (as `audit verify --collected` reads it).
            let marker = b"{\"resourceLogs\"";
            if let Some(at) = line
                .windows(marker.len())
                .rposition(|w| w == marker)
                .filter(|&i| i > 0)
                && let Ok(v) = serde_json::from_slice::<LineView<'_>>(&line[at..])
                && v.resource_logs.is_some()
            {
                return Ok(Parsed::Request(v));
            }
            Err(format!("invalid JSON: {e}"))
        }
    }
}

/// The order to read files in: each log's rotated files oldest first (`audit.jsonl.1`,
/// `.2`, …, `.10`) and then the live one, so a chain is read in seq order and every link can
/// be checked; other files by name.
pub fn order_files(files: &mut [PathBuf]) {
    fn key(p: &Path) -> (PathBuf, String, u64) {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some((base, n)) = name.rsplit_once('.')
            && let Some(n) = parse_decimal(n)
        {
            return (dir, base.to_string(), n);
        }
        (dir, name, u64::MAX)
    }
    files.sort_by_cached_key(|p| key(p));
}

/// The files to read for each named path: a file as is; a directory walked (without
/// following symlinked directories), keeping regular files that are neither empty, hidden,
/// nor a `.lock` (the log's lock file, which holds nothing).
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| Error::io("cannot read audit input", p, &e))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    order_files(&mut out);
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io("cannot read directory", dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot read directory", dir, &e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with(".lock") {
            continue;
        }
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("cannot read directory", dir, &e))?;
        if ft.is_dir() {
            walk(&path, out)?;
        } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
            let len = std::fs::metadata(&path)
                .map_err(|e| Error::io("cannot read audit input", &path, &e))?
                .len();
            if len > 0 {
                out.push(path);
            }
        }
    }
    Ok(())
}

fn day_of(t: u64) -> i64 {
    (t / NS_PER_DAY) as i64
}

pub fn day_string(day: i64) -> String {
    Date::from_days(day).to_string()
}

fn iso(t: u64) -> String {
    format_unix_nanos(t)
}

impl Aggregator {
    pub fn new(opts: Options) -> Aggregator {
        Aggregator {
            opts,
            files: Vec::new(),
            lines: 0,
            counted: 0,
            duplicates: 0,
            skipped: 0,
            first_time: None,
            last_time: None,
            totals: Calls::default(),
            other_events: BTreeMap::new(),
            tiers: BTreeMap::new(),
            projects: BTreeMap::new(),
            refusals: Refusals::default(),
            by_rule_role: BTreeMap::new(),
            refused_days: BTreeMap::new(),
            top: TopK::new(TOP_CAPACITY_FLEET),
            drift: DriftAgg::default(),
            streams: BTreeMap::new(),
            warnings: Vec::new(),
            warning_count: 0,
        }
    }

    fn warn(&mut self, message: String) {
        self.warning_count += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message);
        }
    }

    /// Reads one local log or Collector export, line by line. Fails (naming the file and
    /// line) on a file that is not one: its first line is neither a record nor a request.
    /// Later lines that are neither are torn writes or damage: warnings, and problems of the
    /// stream they interrupt.
    pub fn read_file(&mut self, path: &Path) -> Result<()> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io("cannot open audit input", path, &e))?;
        self.files.push(name.clone());
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        let mut valid_lines = 0u64;
        let mut junk: Option<Junk> = None;
        // The stream of the last record of this file: where its damage belongs.
        let mut last_stream: Option<(String, String)> = None;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::io("cannot read audit input", path, &e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            self.lines += 1;
            let terminated = buf.last() == Some(&b'\n');
            if terminated {
                buf.pop();
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse_line(&buf) {
                Ok(Parsed::Request(v)) => {
                    valid_lines += 1;
                    self.request(&v, &name, line_no);
                }
                Ok(Parsed::Record(v)) => {
                    valid_lines += 1;
                    let sha: Hash = Sha256::digest(&buf).into();
                    let loc = Loc {
                        file: &name,
                        line: line_no,
                    };
                    self.local_record(&v, sha, &loc, junk.take(), &mut last_stream);
                }
                Err(reason) => {
                    if valid_lines == 0 && junk.is_none() && terminated {
                        return Err(Error::new(format!(
                            "{name}:{line_no}: not an audit log or a Collector export: {reason}"
                        )));
                    }
                    let j = junk.get_or_insert_with(|| Junk {
                        hasher: JoinedHasher::default(),
                        first_line: line_no,
                        reason,
                        last_unterminated: false,
                    });
                    j.hasher.push(&buf);
                    j.last_unterminated = !terminated;
                }
            }
        }
        if let Some(j) = junk {
            if j.last_unterminated && j.hasher.lines() == 1 {
                self.warn(format!(
                    "{name}:{}: the last line is unterminated (a torn write; the next append \
                     repairs it): skipped",
                    j.first_line
                ));
            } else {
                let message = format!(
                    "{name}:{}: not an audit record ({}), and no repair record follows",
                    j.first_line, j.reason
                );
                self.warn(message.clone());
                if let Some((host, user)) = last_stream
                    && let Some(s) = self.streams.get_mut(&host).and_then(|u| u.get_mut(&user))
                {
                    s.chain.problem(&name, j.first_line, message);
                }
            }
        }
        Ok(())
    }

    /// A line of a local log; `last` becomes its stream when it is a record.
    fn local_record(
        &mut self,
        r: &RecordView<'_>,
        sha: Hash,
        loc: &Loc<'_>,
        junk: Option<Junk>,
        last: &mut Option<(String, String)>,
    ) {
        let attrs = r.attributes.as_deref().unwrap_or_default();
        let f = fields(attrs);
        let (Some(seq), Some(prev)) = (f.seq.filter(|&s| s >= 1), f.prev.and_then(parse_hash))
        else {
            self.skipped += 1;
            self.warn(format!(
                "{}:{}: a JSON object without a valid gowarden.seq and gowarden.prev_sha256: \
                 not a gowarden record, skipped",
                loc.file, loc.line
            ));
            return;
        };
        let host = f.host.unwrap_or_default();
        let user = f.user_id.as_deref().unwrap_or_default();
        if last
            .as_ref()
            .is_none_or(|(h, u)| h.as_str() != host || u.as_str() != user)
        {
            *last = Some((host.to_string(), user.to_string()));
        }
        if let Some(j) = junk {
            // As `audit verify`: non-record lines are fine exactly when the repair record that
            // follows names their count and hash.
            let covered = f.torn_lines == Some(j.hasher.lines())
                && f.torn_sha.is_some_and(|h| h == j.hasher.finish());
            let message = if covered {
                format!(
                    "{}:{}: torn line(s) repaired at seq {seq}",
                    loc.file, j.first_line
                )
            } else {
                format!(
                    "{}:{}: not an audit record ({}), and the record after it does not repair it",
                    loc.file, j.first_line, j.reason
                )
            };
            self.warn(message.clone());
            if !covered {
                self.stream(host, user)
                    .chain
                    .problem(loc.file, j.first_line, message);
            }
        }
        self.record(r, &f, (host, user), seq, sha, prev, loc, "local");
    }

    fn stream(&mut self, host: &str, user: &str) -> &mut StreamAgg {
        if !self.streams.contains_key(host) {
            self.streams.insert(host.to_string(), BTreeMap::new());
        }
        let users = self.streams.get_mut(host).expect("inserted above");
        if !users.contains_key(user) {
            users.insert(user.to_string(), StreamAgg::default());
        }
        users.get_mut(user).expect("inserted above")
    }

    /// One OTLP request line of a Collector export.
    fn request(&mut self, v: &LineView<'_>, file: &str, line: u64) {
        for rl in v.resource_logs.as_deref().unwrap_or_default() {
            let resource = rl
                .resource
                .as_ref()
                .map(|r| fields(&r.attributes))
                .unwrap_or_default();
            for sl in &rl.scope_logs {
                for r in &sl.log_records {
                    let attrs = r.attributes.as_deref().unwrap_or_default();
                    let f = fields(attrs);
                    let sha = f
                        .sha
                        .and_then(parse_hash)
                        .or_else(|| f.original.map(|o| Sha256::digest(o.as_bytes()).into()));
                    let (Some(seq), Some(prev), Some(sha)) =
                        (f.seq.filter(|&s| s >= 1), f.prev.and_then(parse_hash), sha)
                    else {
                        // Not gowarden's, or without the hash that would let it be checked.
                        self.skipped += 1;
                        continue;
                    };
                    let host = resource.host.or(f.host).unwrap_or_default();
                    let user = f.user_id.as_deref().unwrap_or_default();
                    let loc = Loc { file, line };
                    self.record(r, &f, (host, user), seq, sha, prev, &loc, "collected");
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        r: &RecordView<'_>,
        f: &Fields<'_>,
        (host, user): (&str, &str),
        seq: u64,
        sha: Hash,
        prev: Hash,
        loc: &Loc<'_>,
        source: &'static str,
    ) {
        let time = r.time.as_ref().and_then(ScalarView::as_u64).unwrap_or(0);
        let s = self.stream(host, user);
        s.sources.insert(source);
        if let Some(n) = f.user_name
            && s.user_name.as_deref() != Some(n)
        {
            s.user_name = Some(n.to_string());
        }
        if s.chain.record(seq, sha, prev, loc) == Seen::Duplicate {
            self.duplicates += 1;
            return;
        }
        s.first_time = Some(s.first_time.map_or(time, |t| t.min(time)));
        s.last_time = Some(s.last_time.map_or(time, |t| t.max(time)));
        self.counted += 1;
        self.first_time = Some(self.first_time.map_or(time, |t| t.min(time)));
        self.last_time = Some(self.last_time.map_or(time, |t| t.max(time)));
        let body = r
            .body
            .as_ref()
            .and_then(|b| b.string_value.as_deref())
            .unwrap_or_default();
        let decision = match f.decision.unwrap_or_default() {
            "allow" => Decision::Allow,
            "warn" => Decision::Warn,
            "deny" => Decision::Deny,
            "drift" | "resolved" | "fix" => {
                self.drift_event(f, host, time);
                return;
            }
            other => {
                bump(&mut self.other_events, other);
                return;
            }
        };
        self.call(f, decision, time, body);
    }

    fn drift_event(&mut self, f: &Fields<'_>, host: &str, time: u64) {
        let d = &mut self.drift;
        match f.decision.unwrap_or_default() {
            "resolved" => d.resolved += 1,
            "fix" => d.fixes += 1,
            _ => {
                d.drift += 1;
                let category = f.drift_category.unwrap_or("unknown");
                bump(&mut d.by_category, category);
                bump(&mut d.by_key, f.drift_key.unwrap_or_default());
                // A `path` finding is a go that runs without the policy: a bypass.
                let bypass = category == "path";
                let date = Date::from_days(day_of(time));
                let (y, m) = (i64::from(date.year), u32::from(date.month));
                let month = d.by_month.entry((y, m)).or_default();
                month.0 += 1;
                if bypass {
                    d.bypass += 1;
                    month.1 += 1;
                    if !d.bypass_hosts.contains(host) {
                        d.bypass_hosts.insert(host.to_string());
                    }
                }
            }
        }
    }

    fn call(&mut self, f: &Fields<'_>, decision: Decision, time: u64, body: &str) {
        let tier_name = f.tier.unwrap_or(NONE);
        let project_name = f.project.unwrap_or(NONE);
        let version = f.version.filter(|_| decision != Decision::Deny);
        let day = day_of(time);
        self.totals.add(decision);

        if !self.tiers.contains_key(tier_name) {
            self.tiers.insert(tier_name.to_string(), TierAgg::new());
        }
        let tier = self.tiers.get_mut(tier_name).expect("inserted above");
        tier.calls.add(decision);
        let d = tier.days.entry(day).or_default();
        d.calls.add(decision);
        if let Some(v) = version {
            bump(&mut tier.versions, v);
            bump(&mut d.versions, v);
        }

        if !self.projects.contains_key(project_name) {
            self.projects.insert(
                project_name.to_string(),
                ProjectAgg {
                    tier: (time, tier_name.to_string()),
                    calls: Calls::default(),
                    versions: BTreeMap::new(),
                    current: None,
                    refusals: Refusals::default(),
                    top: TopK::new(TOP_CAPACITY_GROUP),
                    first_violation: None,
                    clean: CleanIndex::new(),
                },
            );
        }
        let p = self.projects.get_mut(project_name).expect("inserted above");
        p.calls.add(decision);
        if time >= p.tier.0 {
            p.tier.0 = time;
            if p.tier.1 != tier_name {
                p.tier.1 = tier_name.to_string();
            }
        }
        if let Some(v) = version {
            match p.versions.get_mut(v) {
                Some(a) => {
                    a.calls += 1;
                    a.first = a.first.min(time);
                    a.last = a.last.max(time);
                }
                None => {
                    p.versions.insert(
                        v.to_string(),
                        VersionAgg {
                            calls: 1,
                            first: time,
                            last: time,
                        },
                    );
                }
            }
            if p.current.as_ref().is_none_or(|(t, _)| time >= *t) {
                p.current = Some((time, v.to_string()));
            }
        }
        match decision {
            Decision::Deny => {
                let rule = f.rule.unwrap_or("unknown");
                let role = f.role.unwrap_or(NONE);
                p.refusals.add(rule, role);
                p.top.add(body);
                if p.first_violation.is_none_or(|v| time < v) {
                    p.first_violation = Some(time);
                }
                tier.refusals.add(rule, role);
                tier.top.add(body);
                self.refusals.add(rule, role);
                *self
                    .by_rule_role
                    .entry((rule.to_string(), role.to_string()))
                    .or_default() += 1;
                *self.refused_days.entry(day).or_default() += 1;
                self.top.add(body);
            }
            Decision::Allow => p.clean.add(time),
            Decision::Warn => {}
        }
        if let Some(v) = p.first_violation
            && let Some((r, _)) = p.clean.first_after(v)
        {
            p.clean.prune_after(r);
        }
    }

    /// The report: every counter as its final number.
    pub fn finish(mut self) -> Report {
        let today = self.opts.today;
        let top_n = self.opts.top;
        let tier_info =
            |name: &str| -> Option<&TierInfo> { self.opts.tiers.iter().find(|t| t.name == name) };

        let mut projects = Vec::new();
        let mut behind = Vec::new();
        let mut responses = Vec::new();
        for (module, p) in &self.projects {
            let first_clean = p.first_violation.and_then(|v| p.clean.first_after(v));
            let response = match (p.first_violation, first_clean) {
                (Some(v), Some((c, exact))) => {
                    responses.push((c - v) / 1_000_000_000);
                    Some(ResponseTime {
                        first_violation: iso(v),
                        first_clean_call: iso(c),
                        seconds: (c - v) / 1_000_000_000,
                        exact,
                    })
                }
                _ => None,
            };
            let mut versions: Vec<ProjectVersion> = p
                .versions
                .iter()
                .map(|(v, a)| ProjectVersion {
                    version: v.clone(),
                    calls: a.calls,
                    first_seen: iso(a.first),
                    last_seen: iso(a.last),
                })
                .collect();
            versions.sort_by(|a, b| crate::version::go_compare(&a.version, &b.version));
            let current = p.current.as_ref().map(|(_, v)| v.clone());
            let tier = &p.tier.1;
            if let (Some(cur), Some(t)) = (&current, tier_info(tier))
                && let Some(rec) = &t.recommended
                && crate::version::go_compare(cur, rec).is_lt()
            {
                behind.push(Behind {
                    project: module.clone(),
                    tier: tier.clone(),
                    owner: t.owner.clone(),
                    current_version: cur.clone(),
                    recommended: rec.clone(),
                    below_min: t
                        .min
                        .as_ref()
                        .is_some_and(|m| crate::version::go_compare(cur, m).is_lt()),
                    upgrade_by: t.upgrade_by.map(|d| d.to_string()),
                    days_left: t.upgrade_by.map(|d| d.days() - today.days()),
                });
            }
            projects.push(ProjectReport {
                project: module.clone(),
                tier: tier.clone(),
                calls: p.calls,
                current_version: current,
                versions,
                refusals: p.refusals.clone(),
                top_refused: top_list(&p.top, top_n),
                response_time: response,
            });
        }
        // Most urgent first: the nearest deadline, then by name.
        behind.sort_by(|a, b| {
            a.days_left
                .unwrap_or(i64::MAX)
                .cmp(&b.days_left.unwrap_or(i64::MAX))
                .then_with(|| a.project.cmp(&b.project))
        });
        responses.sort_unstable();

        let tiers = self
            .tiers
            .iter()
            .map(|(name, t)| {
                let info = tier_info(name);
                let mut versions: Vec<(String, u64)> =
                    t.versions.iter().map(|(v, n)| (v.clone(), *n)).collect();
                versions.sort_by(|a, b| crate::version::go_compare(&a.0, &b.0));
                TierReport {
                    tier: name.clone(),
                    owner: info.map(|i| i.owner.clone()),
                    min: info.and_then(|i| i.min.clone()),
                    recommended: info.and_then(|i| i.recommended.clone()),
                    upgrade_by: info.and_then(|i| i.upgrade_by).map(|d| d.to_string()),
                    projects: self.projects.values().filter(|p| &p.tier.1 == name).count() as u64,
                    calls: t.calls,
                    versions: versions
                        .into_iter()
                        .map(|(version, calls)| VersionCount { version, calls })
                        .collect(),
                    refusals: t.refusals.clone(),
                    top_refused: top_list(&t.top, top_n),
                    over_time: t
                        .days
                        .iter()
                        .map(|(day, d)| DayReport {
                            day: day_string(*day),
                            calls: d.calls,
                            versions: d.versions.clone(),
                        })
                        .collect(),
                }
            })
            .collect();

        let mut streams = Vec::new();
        let mut intact = 0;
        for (host, user, s) in self
            .streams
            .iter_mut()
            .flat_map(|(h, us)| us.iter_mut().map(move |(u, s)| (h, u, s)))
        {
            s.chain.finish();
            let ok = s.chain.problem_count == 0;
            intact += u64::from(ok);
            streams.push(StreamReport {
                host: host.clone(),
                user_id: user.clone(),
                user_name: s.user_name.clone(),
                sources: s.sources.iter().copied().collect(),
                status: if ok { "intact" } else { "broken" },
                records: s.chain.records,
                first_seq: s.chain.first_seq(),
                last_seq: s.chain.last_seq(),
                missing: s.chain.missing(),
                retransmitted: s.chain.retransmitted,
                unchecked: s.chain.unchecked_duplicates + s.chain.unchecked_links,
                first_record: s.first_time.map(iso),
                last_record: s.last_time.map(iso),
                last_record_unix_nanos: s.last_time,
                problem_count: s.chain.problem_count,
                problems: s.chain.problems.clone(),
            });
        }
        let hosts = self.streams.len();
        let users: BTreeSet<&String> = self.streams.values().flat_map(|u| u.keys()).collect();

        let d = &self.drift;
        Report {
            gowarden_report: 1,
            today: today.to_string(),
            policy: self.opts.policy.clone(),
            inputs: Inputs {
                files: self.files.clone(),
                lines: self.lines,
                records: self.counted,
                duplicates: self.duplicates,
                skipped: self.skipped,
                first_record: self.first_time.map(iso),
                last_record: self.last_time.map(iso),
            },
            hosts: hosts as u64,
            users: users.len() as u64,
            calls: self.totals,
            other_events: self.other_events.clone(),
            tiers,
            projects,
            behind,
            refusals: FleetRefusals {
                by_rule: self.refusals.by_rule.clone(),
                by_role: self.refusals.by_role.clone(),
                by_rule_and_role: self
                    .by_rule_role
                    .iter()
                    .map(|((rule, role), &count)| RuleRole {
                        rule: rule.clone(),
                        role: role.clone(),
                        count,
                    })
                    .collect(),
                over_time: self
                    .refused_days
                    .iter()
                    .map(|(d, &count)| DayCount {
                        day: day_string(*d),
                        count,
                    })
                    .collect(),
                top_refused: top_list(&self.top, top_n),
            },
            response_time: ResponseSummary {
                projects_with_violation: self
                    .projects
                    .values()
                    .filter(|p| p.first_violation.is_some())
                    .count() as u64,
                responded: responses.len() as u64,
                median_seconds: median(&responses),
                max_seconds: responses.last().copied(),
            },
            drift: DriftReport {
                drift_events: d.drift,
                bypass_events: d.bypass,
                resolved_events: d.resolved,
                fixes: d.fixes,
                hosts_with_bypass: d.bypass_hosts.len() as u64,
                by_category: d.by_category.clone(),
                by_key: d.by_key.clone(),
                by_month: d
                    .by_month
                    .iter()
                    .map(|(&(y, m), &(drift, bypass))| MonthCount {
                        month: format!("{y:04}-{m:02}"),
                        drift,
                        bypass,
                    })
                    .collect(),
            },
            chains: ChainSummary {
                streams: streams.len() as u64,
                intact,
                broken: streams.len() as u64 - intact,
            },
            streams,
            warning_count: self.warning_count,
            warnings: self.warnings.clone(),
        }
    }
}

fn median(sorted: &[u64]) -> Option<u64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

fn top_list(t: &TopK, n: usize) -> Vec<TopCommand> {
    t.top(n)
        .into_iter()
        .map(|c| TopCommand {
            command: c.item,
            count: c.count,
            error: c.error,
        })
        .collect()
}

// The report's shape: docs/report.md documents each field.

#[derive(Debug, Serialize)]
pub struct Report {
    pub gowarden_report: u32,
    pub today: String,
    pub policy: Option<String>,
    pub inputs: Inputs,
    pub hosts: u64,
    pub users: u64,
    pub calls: Calls,
    pub other_events: BTreeMap<String, u64>,
    pub tiers: Vec<TierReport>,
    pub projects: Vec<ProjectReport>,
    pub behind: Vec<Behind>,
    pub refusals: FleetRefusals,
    pub response_time: ResponseSummary,
    pub drift: DriftReport,
    pub chains: ChainSummary,
    pub streams: Vec<StreamReport>,
    pub warning_count: u64,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Inputs {
    pub files: Vec<String>,
    pub lines: u64,
    pub records: u64,
    pub duplicates: u64,
    pub skipped: u64,
    pub first_record: Option<String>,
    pub last_record: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TierReport {
    pub tier: String,
    pub owner: Option<String>,
    pub min: Option<String>,
    pub recommended: Option<String>,
    pub upgrade_by: Option<String>,
    pub projects: u64,
    pub calls: Calls,
    pub versions: Vec<VersionCount>,
    pub refusals: Refusals,
    pub top_refused: Vec<TopCommand>,
    pub over_time: Vec<DayReport>,
}

#[derive(Debug, Serialize)]
pub struct VersionCount {
    pub version: String,
    pub calls: u64,
}

#[derive(Debug, Serialize)]
pub struct DayReport {
    pub day: String,
    pub calls: Calls,
    pub versions: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct ProjectReport {
    pub project: String,
    pub tier: String,
    pub calls: Calls,
    pub current_version: Option<String>,
    pub versions: Vec<ProjectVersion>,
    pub refusals: Refusals,
    pub top_refused: Vec<TopCommand>,
    pub response_time: Option<ResponseTime>,
}

#[derive(Debug, Serialize)]
pub struct ProjectVersion {
    pub version: String,
    pub calls: u64,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Serialize)]
pub struct ResponseTime {
    pub first_violation: String,
    pub first_clean_call: String,
    pub seconds: u64,
    pub exact: bool,
}

#[derive(Debug, Serialize)]
pub struct Behind {
    pub project: String,
    pub tier: String,
    pub owner: String,
    pub current_version: String,
    pub recommended: String,
    pub below_min: bool,
    pub upgrade_by: Option<String>,
    pub days_left: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct TopCommand {
    pub command: String,
    pub count: u64,
    pub error: u64,
}

#[derive(Debug, Serialize)]
pub struct FleetRefusals {
    pub by_rule: BTreeMap<String, u64>,
    pub by_role: BTreeMap<String, u64>,
    pub by_rule_and_role: Vec<RuleRole>,
    pub over_time: Vec<DayCount>,
    pub top_refused: Vec<TopCommand>,
}

#[derive(Debug, Serialize)]
pub struct RuleRole {
    pub rule: String,
    pub role: String,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct DayCount {
    pub day: String,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct ResponseSummary {
    pub projects_with_violation: u64,
    pub responded: u64,
    pub median_seconds: Option<u64>,
    pub max_seconds: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct DriftReport {
    pub drift_events: u64,
    pub bypass_events: u64,
    pub resolved_events: u64,
    pub fixes: u64,
    pub hosts_with_bypass: u64,
    pub by_category: BTreeMap<String, u64>,
    pub by_key: BTreeMap<String, u64>,
    pub by_month: Vec<MonthCount>,
}

#[derive(Debug, Serialize)]
pub struct MonthCount {
    pub month: String,
    pub drift: u64,
    pub bypass: u64,
}

#[derive(Debug, Serialize)]
pub struct ChainSummary {
    pub streams: u64,
    pub intact: u64,
    pub broken: u64,
}

#[derive(Debug, Serialize)]
pub struct StreamReport {
    pub host: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub sources: Vec<&'static str>,
    pub status: &'static str,
    pub records: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub missing: u64,
    pub retransmitted: u64,
    pub unchecked: u64,
    pub first_record: Option<String>,
    pub last_record: Option<String>,
    #[serde(skip)]
    pub last_record_unix_nanos: Option<u64>,
    pub problem_count: u64,
    pub problems: Vec<ChainProblem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_index_finds_the_first_clean_call_after_a_violation() {
        let mut c = CleanIndex::new();
        let m = 60_000_000_000u64;
        c.add(10 * m + 5);
        c.add(30 * m + 7);
        c.add(30 * m + 9);
        assert_eq!(c.first_after(20 * m), Some((30 * m + 7, true)));
        assert_eq!(c.first_after(30 * m + 8), Some((30 * m + 9, false)));
        assert_eq!(c.first_after(30 * m + 9), None);
        assert_eq!(c.first_after(0), Some((10 * m + 5, true)));
    }

    #[test]
    fn clean_index_stays_bounded() {
        let mut c = CleanIndex::new();
        for i in 0..100_000u64 {
            c.add(i * 60_000_000_000);
        }
        assert!(c.buckets.len() <= MAX_CLEAN_BUCKETS);
        // Coarsened: inside a bucket the answer is bounded, and said to be inexact...
        let (t, exact) = c.first_after(0).unwrap();
        assert!(!exact);
        assert!(t >= 60_000_000_000 && t < c.width, "{t}");
        // ...and exact where the violation falls before a bucket's first clean call.
        let edge = c.width - 1;
        assert_eq!(
            c.first_after(edge),
            Some((c.width.div_ceil(60_000_000_000) * 60_000_000_000, true))
        );
    }

    fn line(seq: u64, t: u64, tier: &str) -> String {
        format!(
            r#"{{"timeUnixNano":"{t}","body":{{"stringValue":"go build"}},"attributes":[{{"key":"gowarden.seq","value":{{"intValue":"{seq}"}}}},{{"key":"gowarden.prev_sha256","value":{{"stringValue":"{}"}}}},{{"key":"gowarden.decision","value":{{"stringValue":"allow"}}}},{{"key":"gowarden.tier","value":{{"stringValue":"{tier}"}}}},{{"key":"gowarden.project","value":{{"stringValue":"m"}}}},{{"key":"host.name","value":{{"stringValue":"h{t}"}}}}]}}"#,
            "0".repeat(64)
        )
    }

    #[test]
    fn a_project_is_in_the_tier_of_its_newest_record_whatever_the_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        // The newest (t=30) is read second, an older one in another tier last.
        let text = [line(1, 10, "a"), line(1, 30, "a"), line(1, 20, "b")].join("\n");
        std::fs::write(&path, text + "\n").unwrap();
        let mut agg = Aggregator::new(Options {
            top: 5,
            today: Date::from_days(0),
            tiers: Vec::new(),
            policy: None,
        });
        agg.read_file(&path).unwrap();
        let r = agg.finish();
        assert_eq!(r.projects.len(), 1);
        assert_eq!(r.projects[0].tier, "a");
        assert_eq!(r.projects[0].calls.allowed, 3);
    }

    #[test]
    fn rotated_files_are_read_oldest_first_then_the_live_one() {
        let mut f: Vec<PathBuf> = ["d/a.jsonl", "d/a.jsonl.10", "d/a.jsonl.2", "d/a.jsonl.1"]
            .iter()
            .map(PathBuf::from)
            .collect();
        order_files(&mut f);
        let names: Vec<_> = f.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(
            names,
            ["d/a.jsonl.1", "d/a.jsonl.2", "d/a.jsonl.10", "d/a.jsonl"]
        );
    }
}
