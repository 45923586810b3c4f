//! Log lines as OTLP/JSON for a Collector: one conversion shared by `audit export` and
//! `audit ship`, and the batching that keeps each request under a receiver's body limit.
//!
//! A record leaves the machine exactly as the log holds it (already redacted when it was
//! written: nothing is redacted or un-redacted on the way), plus two changes:
//!
//! * `gowarden.sha256`: the SHA-256 of the line itself, so the collected copy carries the
//!   chain's anchors (each record's hash, which the next one's `gowarden.prev_sha256` names)
//!   and `gowarden audit verify --collected` can check links and compare against a local log
//!   without the original bytes (a Collector re-encodes the JSON).
//! * `user.id` written as an int by older versions becomes a string, as OpenTelemetry's
//!   conventions type it.
//!
//! Records are grouped into one `resourceLogs` entry per `host.name` with the resource
//! attributes `service.name = gowarden`, `host.name` and, where known, `host.id` (the
//! machine id), so a backend can split the streams per host, and per user by `user.id`.

use serde_json::{Value, json};

use super::chain::{chain_info, line_sha256};
use super::record::attr;

/// The attribute carrying the SHA-256 of the record's own line.
pub const SHA256_ATTR: &str = "gowarden.sha256";

/// This machine's id (`/etc/machine-id`, else dbus's copy): OpenTelemetry's `host.id`.
pub fn machine_id() -> Option<String> {
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// A record ready for a request: its `logRecords` entry and the host it names.
#[derive(Debug, Clone)]
pub struct OtlpRecord {
    pub seq: u64,
    pub time_unix_nano: u64,
    pub host: Option<String>,
    /// The `LogRecord` as compact JSON.
    pub json: String,
}

/// The line as an OTLP `LogRecord`, or `None` when it is not a record (a torn line).
pub fn convert_line(line: &[u8]) -> Option<OtlpRecord> {
    let info = chain_info(line).ok()?;
    let mut value: Value = serde_json::from_slice(line).ok()?;
    let time_unix_nano = value
        .get("timeUnixNano")
        .and_then(|v| match v {
            Value::String(s) => s.parse().ok(),
            other => other.as_u64(),
        })
        .unwrap_or(0);
    let attrs = value.get_mut("attributes")?.as_array_mut()?;
    let mut host = None;
    for kv in attrs.iter_mut() {
        match kv.get("key").and_then(Value::as_str) {
            Some(attr::USER_ID) => {
                let as_int = kv.pointer("/value/intValue").map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                if let Some(id) = as_int {
                    kv["value"] = json!({ "stringValue": id });
                }
            }
            Some(attr::HOST_NAME) => {
                host = kv
                    .pointer("/value/stringValue")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            _ => {}
        }
    }
    attrs.push(json!({"key": SHA256_ATTR, "value": {"stringValue": line_sha256(line)}}));
    Some(OtlpRecord {
        seq: info.seq,
        time_unix_nano,
        host,
        json: value.to_string(),
    })
}

/// Builds `ExportLogsServiceRequest` bodies no larger than a limit.
#[derive(Debug)]
pub struct Batcher {
    max_bytes: usize,
    local_host: String,
    host_id: Option<String>,
    /// (host, records' JSON) in arrival order.
    groups: Vec<(String, Vec<String>)>,
    bytes: usize,
    records: usize,
}

/// Room for one group's envelope (resource, scope, separators): generous, so a finished body
/// never exceeds the limit.
const GROUP_OVERHEAD: usize = 512;

impl Batcher {
    /// `max_bytes`: the largest body to produce. A single record larger than that still goes
    /// out alone (it cannot be split; the receiver decides).
    pub fn new(max_bytes: usize) -> Batcher {
        Batcher {
            max_bytes,
            local_host: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            host_id: machine_id(),
            groups: Vec::new(),
            bytes: 16,
            records: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether `record` fits in the current batch; when not, take the batch first.
    pub fn fits(&self, record: &OtlpRecord) -> bool {
        if self.records == 0 {
            return true;
        }
        let host = record.host.as_deref().unwrap_or(&self.local_host);
        let extra = record.json.len()
            + 1
            + if self.groups.iter().any(|(h, _)| h == host) {
                0
            } else {
                GROUP_OVERHEAD + host.len()
            };
        self.bytes + extra <= self.max_bytes
    }

    pub fn push(&mut self, record: OtlpRecord) {
        let host = record.host.unwrap_or_else(|| self.local_host.clone());
        self.bytes += record.json.len() + 1;
        self.records += 1;
        match self.groups.iter_mut().find(|(h, _)| *h == host) {
            Some((_, list)) => list.push(record.json),
            None => {
                self.bytes += GROUP_OVERHEAD + host.len();
                self.groups.push((host, vec![record.json]));
            }
        }
    }

    /// The request body for the records pushed so far, and a fresh batch.
    pub fn take(&mut self) -> String {
        let mut out = String::with_capacity(self.bytes);
        out.push_str("{\"resourceLogs\":[");
        for (i, (host, records)) in std::mem::take(&mut self.groups).into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let mut resource = vec![
                json!({"key": "service.name", "value": {"stringValue": "gowarden"}}),
                json!({"key": "host.name", "value": {"stringValue": host}}),
            ];
            // The machine id names this machine only: records another host wrote (a copied
            // log) keep just their host.name.
            if let Some(id) = self.host_id.as_ref().filter(|_| host == self.local_host) {
                resource.push(json!({"key": "host.id", "value": {"stringValue": id}}));
            }
            out.push_str("{\"resource\":");
            out.push_str(&json!({ "attributes": resource }).to_string());
            out.push_str(",\"scopeLogs\":[{\"scope\":");
            out.push_str(
                &json!({"name": "gowarden", "version": env!("CARGO_PKG_VERSION")}).to_string(),
            );
            out.push_str(",\"logRecords\":[");
            out.push_str(&records.join(","));
            out.push_str("]}]}");
        }
        out.push_str("]}");
        self.bytes = 16;
        self.records = 0;
        out
    }
}

/// Parses a `--since`/`--until` time: `YYYY-MM-DD` (midnight UTC), `YYYY-MM-DDTHH:MM[:SS]Z`,
/// or nanoseconds since the Unix epoch. Returns nanoseconds since the epoch.
pub fn parse_time(s: &str) -> Option<u64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let date = crate::date::Date::parse(s.get(..10)?)?;
    let days = u64::try_from(date.days()).ok()?;
    let rest = &s[10..];
    let secs = if rest.is_empty() {
        0
    } else {
        let t = rest.strip_prefix('T')?.strip_suffix('Z')?;
        let parts: Vec<&str> = t.split(':').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let n = |i: usize| parts.get(i).map_or(Some(0), |p| p.parse::<u64>().ok());
        let (h, m, sec) = (n(0)?, n(1)?, n(2)?);
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        h * 3600 + m * 60 + sec
    };
    (days * 86_400 + secs).checked_mul(1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-02"), Some(86_400 * 1_000_000_000));
        assert_eq!(
            parse_time("1970-01-01T01:02:03Z"),
            Some(3723 * 1_000_000_000)
        );
        assert_eq!(parse_time("1970-01-01T01:02Z"), Some(3720 * 1_000_000_000));
        assert_eq!(parse_time("42"), Some(42));
        for bad in [
            "",
            "1970-01-01T1:02Z",
            "1970-13-01",
            "1970-01-01T01:02:03",
            "x",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
