//! One audit record: a builder for callers, and its encoding as one OTLP/JSON `LogRecord` line.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::escape::{Redactor, encode_os_redacted, redact_url_userinfo_str};
use crate::error::{Error, Result};

/// Attribute names used in records. OpenTelemetry semantic-convention names where one exists
/// (`process.*`, `user.*`, `host.name`), `go.*` and `gowarden.*` otherwise.
pub mod attr {
    pub const PROCESS_COMMAND_ARGS: &str = "process.command_args";
    pub const PROCESS_EXECUTABLE_PATH: &str = "process.executable.path";
    pub const PROCESS_PID: &str = "process.pid";
    pub const PROCESS_PARENT_PID: &str = "process.parent_pid";
    pub const PROCESS_WORKING_DIRECTORY: &str = "process.working_directory";
    pub const USER_NAME: &str = "user.name";
    pub const USER_ID: &str = "user.id";
    pub const HOST_NAME: &str = "host.name";
    pub const GO_VERSION: &str = "go.version";
    pub const GO_VERSION_SOURCE: &str = "go.version.source";
    pub const GOWARDEN_DECISION: &str = "gowarden.decision";
    pub const GOWARDEN_RULE: &str = "gowarden.rule";
    pub const GOWARDEN_ROLE: &str = "gowarden.role";
    pub const GOWARDEN_TIER: &str = "gowarden.tier";
    /// The project's module path (go.mod's `module` line; of a workspace, the main module
    /// whose tier applies).
    pub const GOWARDEN_PROJECT: &str = "gowarden.project";

    /// Prefix of `gowarden.env_override.from.<NAME>`: the value the caller's environment had
    /// before the shim overrode it. Absent when the variable was unset.
    pub const ENV_OVERRIDE_FROM_PREFIX: &str = "gowarden.env_override.from.";
    /// Prefix of `gowarden.env_override.to.<NAME>`: the value go runs with. Absent when the
    /// shim unset the variable.
    pub const ENV_OVERRIDE_TO_PREFIX: &str = "gowarden.env_override.to.";
    /// Prefix of `gowarden.go_env.previous.<NAME>`: the value in go's env file before
    /// `go env -w/-u`. Absent when it was not set there.
    pub const GO_ENV_PREVIOUS_PREFIX: &str = "gowarden.go_env.previous.";
    /// Prefix of `gowarden.go_env.new.<NAME>`: the value `go env -w` writes. Absent for `-u`.
    pub const GO_ENV_NEW_PREFIX: &str = "gowarden.go_env.new.";

    /// Chain field (reserved): position of the record in its chain, 1 for the first record.
    pub const GOWARDEN_SEQ: &str = "gowarden.seq";
    /// Chain field (reserved): SHA-256 of the previous record's line, see the module docs.
    pub const GOWARDEN_PREV_SHA256: &str = "gowarden.prev_sha256";
    /// Repair record field (reserved): how many non-record lines the repair covers.
    pub const GOWARDEN_REPAIR_TORN_LINES: &str = "gowarden.repair.torn_lines";
    /// Repair record field (reserved): their total length, joined by newlines.
    pub const GOWARDEN_REPAIR_TORN_BYTES: &str = "gowarden.repair.torn_bytes";
    /// Repair record field (reserved): SHA-256 of those lines joined by `\n`.
    pub const GOWARDEN_REPAIR_TORN_SHA256: &str = "gowarden.repair.torn_sha256";

    /// Keys only the log itself may write.
    pub(crate) fn is_reserved(key: &str) -> bool {
        key == GOWARDEN_SEQ || key == GOWARDEN_PREV_SHA256 || key.starts_with("gowarden.repair.")
    }
}

/// OpenTelemetry severity; the number is the data model's `SeverityNumber`. Not
/// [`crate::outcome::Severity`] (how serious a finding is): this one says how a collector
/// should rank the record (an allowed call is `INFO`, a refusal `WARN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warn,
    Error,
}

impl Severity {
    pub fn number(self) -> u8 {
        match self {
            Severity::Info => 9,
            Severity::Warn => 13,
            Severity::Error => 17,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
            Severity::Error => "ERROR",
        }
    }
}

/// The outcome a record reports in `gowarden.decision`. Other outcomes can be written with
/// `attr_str(attr::GOWARDEN_DECISION, ...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    Warn,
    /// Written by the log itself after a torn line; also usable by callers that repair things.
    Repair,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Warn => "warn",
            Decision::Repair => "repair",
        }
    }

    /// Allowed runs are routine; everything else is worth a reader's attention.
    pub fn severity(self) -> Severity {
        match self {
            Decision::Allow => Severity::Info,
            Decision::Deny | Decision::Warn | Decision::Repair => Severity::Warn,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum AttrValue {
    Str(String),
    Int(i64),
    Bool(bool),
    Os(OsString),
    Args(Vec<OsString>),
    /// An environment value; the variable name decides whether it is redacted.
    Env {
        name: String,
        value: OsString,
    },
}

/// An audit event, built by the caller and turned into one line by
/// [`append`](super::append).
///
/// ```
/// use gowarden::audit::{Decision, Record, attr};
/// use std::ffi::OsString;
/// let args: Vec<OsString> = vec!["go".into(), "build".into(), "./...".into()];
/// let record = Record::new("go build ./...")
///     .decision(Decision::Allow)
///     .attr_args(attr::PROCESS_COMMAND_ARGS, &args)
///     .attr_int(attr::PROCESS_PID, 4242)
///     .attr_str(attr::USER_NAME, "alice")
///     .env_override("GOTOOLCHAIN", Some("auto".as_ref()), Some("local".as_ref()));
/// ```
///
/// Setting the same key twice keeps the last value (OTLP keys are unique).
#[derive(Debug, Clone)]
pub struct Record {
    time_unix_nano: u64,
    severity: Severity,
    body: String,
    attributes: Vec<(String, AttrValue)>,
}

impl Record {
    /// A record stamped with the current time, severity INFO. `body` is the human-readable
    /// message (for the shim: the command line).
    pub fn new(body: impl Into<String>) -> Self {
        Record {
            time_unix_nano: unix_nanos(SystemTime::now()),
            severity: Severity::Info,
            body: body.into(),
            attributes: Vec::new(),
        }
    }

    /// Overrides the event time.
    pub fn at(mut self, time: SystemTime) -> Self {
        self.time_unix_nano = unix_nanos(time);
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Sets `gowarden.decision` and the matching severity (call
    /// [`severity`](Record::severity) afterwards to override it).
    pub fn decision(self, decision: Decision) -> Self {
        self.severity(decision.severity())
            .attr_str(attr::GOWARDEN_DECISION, decision.as_str())
    }

    /// A text attribute, stored as is (URL userinfo redacted).
    pub fn attr_str(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key.into(), AttrValue::Str(value.into()))
    }

    /// An integer attribute (`intValue`, written as a decimal string as OTLP JSON does).
    pub fn attr_int(self, key: impl Into<String>, value: i64) -> Self {
        self.set(key.into(), AttrValue::Int(value))
    }

    pub fn attr_bool(self, key: impl Into<String>, value: bool) -> Self {
        self.set(key.into(), AttrValue::Bool(value))
    }

    /// An OS string (path, raw value), stored with the lossless escaping of
    /// [`encode_os`](super::encode_os); decode it with [`decode_os`](super::decode_os).
    pub fn attr_os(self, key: impl Into<String>, value: &OsStr) -> Self {
        self.set(key.into(), AttrValue::Os(value.to_owned()))
    }

    /// A path, like [`attr_os`](Record::attr_os).
    pub fn attr_path(self, key: impl Into<String>, value: &Path) -> Self {
        self.attr_os(key, value.as_os_str())
    }

    /// A list of arguments as an `arrayValue` of strings, each escaped losslessly and redacted
    /// (URL userinfo; `NAME=VALUE` where `NAME` matches a secret pattern).
    pub fn attr_args<S: AsRef<OsStr>>(self, key: impl Into<String>, args: &[S]) -> Self {
        let args = args.iter().map(|a| a.as_ref().to_owned()).collect();
        self.set(key.into(), AttrValue::Args(args))
    }

    /// An environment variable the shim changed for go: `from` is the caller's value, `to`
    /// the value go gets; `None` means unset, and the attribute for it is omitted.
    pub fn env_override(self, name: &str, from: Option<&OsStr>, to: Option<&OsStr>) -> Self {
        self.env_pair(name, attr::ENV_OVERRIDE_FROM_PREFIX, from)
            .env_pair(name, attr::ENV_OVERRIDE_TO_PREFIX, to)
    }

    /// A `go env -w` (`new` is `Some`) or `go env -u` (`new` is `None`) change of `name`;
    /// `previous` is the value the go env file held, `None` if none.
    pub fn go_env_change(self, name: &str, previous: Option<&OsStr>, new: Option<&OsStr>) -> Self {
        self.env_pair(name, attr::GO_ENV_PREVIOUS_PREFIX, previous)
            .env_pair(name, attr::GO_ENV_NEW_PREFIX, new)
    }

    fn env_pair(self, name: &str, prefix: &str, value: Option<&OsStr>) -> Self {
        match value {
            Some(value) => self.set(
                format!("{prefix}{name}"),
                AttrValue::Env {
                    name: name.to_string(),
                    value: value.to_owned(),
                },
            ),
            None => self,
        }
    }

    fn set(mut self, key: String, value: AttrValue) -> Self {
        match self.attributes.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.attributes.push((key, value)),
        }
        self
    }

    pub fn body(&self) -> &str {
        &self.body
    }

    pub fn time_unix_nano(&self) -> u64 {
        self.time_unix_nano
    }

    /// Serialises everything but the chain fields, applying `redactor`. Done before the log
    /// lock is taken so that the lock covers only the chain lookup and the write.
    pub fn encode(&self, redactor: &Redactor) -> Result<EncodedRecord> {
        self.encode_inner(redactor, false)
    }

    pub(crate) fn encode_inner(
        &self,
        redactor: &Redactor,
        internal: bool,
    ) -> Result<EncodedRecord> {
        let observed = unix_nanos(SystemTime::now());
        let body = redact_url_userinfo_str(&self.body);
        let mut head = Vec::with_capacity(256 + self.body.len());
        head.extend_from_slice(b"{\"timeUnixNano\":\"");
        head.extend_from_slice(self.time_unix_nano.to_string().as_bytes());
        head.extend_from_slice(b"\",\"observedTimeUnixNano\":\"");
        head.extend_from_slice(observed.to_string().as_bytes());
        head.extend_from_slice(b"\",\"severityNumber\":");
        head.extend_from_slice(self.severity.number().to_string().as_bytes());
        head.extend_from_slice(b",\"severityText\":\"");
        head.extend_from_slice(self.severity.text().as_bytes());
        head.extend_from_slice(b"\",\"body\":");
        write_json(&mut head, &Wire::StringValue(body.as_ref()));
        head.extend_from_slice(b",\"attributes\":[");

        let mut tail = Vec::with_capacity(64 * self.attributes.len() + 2);
        for (key, value) in &self.attributes {
            if key.is_empty() {
                return Err(Error::new("audit record attribute with an empty key"));
            }
            if !internal && attr::is_reserved(key) {
                return Err(Error::new(format!(
                    "audit record attribute {key} is reserved for the log's own chain fields"
                )));
            }
            tail.push(b',');
            let wire = match value {
                AttrValue::Str(s) => Wire::StringValue(redact_url_userinfo_str(s).into_owned()),
                AttrValue::Int(i) => Wire::IntValue(i.to_string()),
                AttrValue::Bool(b) => Wire::BoolValue(*b),
                AttrValue::Os(s) => Wire::StringValue(encode_os_redacted(s)),
                AttrValue::Args(args) => Wire::ArrayValue {
                    values: args
                        .iter()
                        .map(|a| Wire::StringValue(redactor.arg(a)))
                        .collect(),
                },
                AttrValue::Env { name, value } => {
                    Wire::StringValue(redactor.env_value(name, value))
                }
            };
            write_json(&mut tail, &KeyValue { key, value: wire });
        }
        tail.extend_from_slice(b"]}");
        Ok(EncodedRecord { head, tail })
    }
}

/// A record serialised except for its chain fields; [`EncodedRecord::line`] completes it.
#[derive(Debug, Clone)]
pub struct EncodedRecord {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl EncodedRecord {
    /// The complete line (without its newline) at chain position `seq` after a line whose
    /// hash is `prev_sha256` (64 lowercase hex digits; any character of it that is not
    /// alphanumeric is dropped, so the line stays valid JSON whatever it is given).
    pub fn line(&self, seq: u64, prev_sha256: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len_hint());
        self.write_line(seq, prev_sha256, &mut out);
        out.pop();
        out
    }

    /// Appends the complete line *and its newline* to `out`.
    pub fn write_line(&self, seq: u64, prev_sha256: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b"{\"key\":\"");
        out.extend_from_slice(attr::GOWARDEN_SEQ.as_bytes());
        out.extend_from_slice(b"\",\"value\":{\"intValue\":\"");
        out.extend_from_slice(seq.to_string().as_bytes());
        out.extend_from_slice(b"\"}},{\"key\":\"");
        out.extend_from_slice(attr::GOWARDEN_PREV_SHA256.as_bytes());
        out.extend_from_slice(b"\",\"value\":{\"stringValue\":\"");
        // The caller passes a hash we computed; escaping it anyway keeps the line valid JSON
        // whatever it is given.
        for &b in prev_sha256.as_bytes() {
            if b.is_ascii_alphanumeric() {
                out.push(b);
            }
        }
        out.extend_from_slice(b"\"}}");
        out.extend_from_slice(&self.tail);
        out.push(b'\n');
    }

    pub(crate) fn len_hint(&self) -> usize {
        self.head.len() + self.tail.len() + 180
    }
}

#[derive(Serialize)]
struct KeyValue<'a, S: Serialize> {
    key: &'a str,
    value: Wire<S>,
}

/// OTLP JSON `AnyValue`: serde's externally tagged enums give exactly `{"stringValue": ...}`.
// The variant names are OTLP's field names, suffix included.
#[allow(clippy::enum_variant_names)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Wire<S: Serialize> {
    StringValue(S),
    IntValue(String),
    BoolValue(bool),
    ArrayValue { values: Vec<Wire<S>> },
}

fn write_json<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    // Serialising plain strings, integers and vectors into memory cannot fail; should it ever,
    // a `null` keeps the line valid JSON rather than panicking in the shim.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

pub(crate) fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::{GENESIS_SHA256, chain_info};

    #[test]
    fn line_and_write_line_agree_except_for_the_newline() {
        let enc = Record::new("b\nody")
            .attr_str("k", "v\u{1}")
            .encode(&Redactor::default())
            .unwrap();
        let line = enc.line(3, GENESIS_SHA256);
        assert!(!line.contains(&b'\n'));
        let mut written = Vec::new();
        enc.write_line(3, GENESIS_SHA256, &mut written);
        assert_eq!(written.pop(), Some(b'\n'));
        assert_eq!(written, line);
        let info = chain_info(&line).unwrap();
        assert_eq!((info.seq, info.prev_sha256.as_str()), (3, GENESIS_SHA256));
    }

    #[test]
    fn severity_follows_decision_unless_overridden() {
        let r = Record::new("x").decision(Decision::Deny);
        assert_eq!(r.severity, Severity::Warn);
        let r = r.severity(Severity::Error);
        assert_eq!(r.severity, Severity::Error);
        assert_eq!(
            Record::new("x").decision(Decision::Allow).severity,
            Severity::Info
        );
    }

    #[test]
    fn time_before_epoch_is_zero() {
        let t = UNIX_EPOCH - std::time::Duration::from_secs(5);
        assert_eq!(Record::new("x").at(t).time_unix_nano(), 0);
    }
}
