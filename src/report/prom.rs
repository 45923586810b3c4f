//! The report in the Prometheus text exposition format (version 0.0.4), for node_exporter's
//! textfile collector: `gowarden audit report --format prom -o DIR/gowarden.prom` from a timer.
//!
//! Conventions (prometheus.io/docs/practices/naming): a `gowarden_` prefix, snake_case,
//! counters end in `_total`, times are in seconds (a deadline is a Unix timestamp,
//! `_timestamp_seconds`, so an alert reads `… - time() < 14 * 86400`), and a label value is
//! what the audit record says (`decision="deny"`). Counters count the records read, so they
//! grow as the logs do (and restart with a pruned log, as a counter may).

use std::fmt::Write;

use super::Report;

/// `\`, `"` and newline escaped as the format requires for label values.
fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

struct Out {
    text: String,
}

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{k}=\"{}\"", label(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// The decision label, as the record spells it.
const DECISIONS: [&str; 3] = ["allow", "warn", "deny"];

fn by_decision(c: &super::Calls) -> [(&'static str, u64); 3] {
    [
        (DECISIONS[0], c.allowed),
        (DECISIONS[1], c.warned),
        (DECISIONS[2], c.refused),
    ]
}

pub fn render(r: &Report) -> String {
    let mut o = Out {
        text: String::new(),
    };

    o.family(
        "gowarden_calls_total",
        "counter",
        "go and gofmt calls through the shim, by tier and decision (allow, warn, deny).",
    );
    for t in &r.tiers {
        for (d, n) in by_decision(&t.calls) {
            o.sample(
                "gowarden_calls_total",
                &[("tier", &t.tier), ("decision", d)],
                n,
            );
        }
    }

    o.family(
        "gowarden_version_calls_total",
        "counter",
        "Calls that ran go, by tier and Go version.",
    );
    for t in &r.tiers {
        for v in &t.versions {
            o.sample(
                "gowarden_version_calls_total",
                &[("tier", &t.tier), ("version", &v.version)],
                v.calls,
            );
        }
    }

    o.family(
        "gowarden_project_calls_total",
        "counter",
        "Calls by project (module path), its tier and decision.",
    );
    for p in &r.projects {
        for (d, n) in by_decision(&p.calls) {
            o.sample(
                "gowarden_project_calls_total",
                &[("project", &p.project), ("tier", &p.tier), ("decision", d)],
                n,
            );
        }
    }

    o.family(
        "gowarden_refusals_total",
        "counter",
        "Refused calls by rule and role.",
    );
    for rr in &r.refusals.by_rule_and_role {
        o.sample(
            "gowarden_refusals_total",
            &[("rule", &rr.rule), ("role", &rr.role)],
            rr.count,
        );
    }

    o.family(
        "gowarden_project_below_recommended",
        "gauge",
        "1 for each project whose newest call ran a release below its tier's recommended one.",
    );
    for b in &r.behind {
        o.sample(
            "gowarden_project_below_recommended",
            &[
                ("project", &b.project),
                ("tier", &b.tier),
                ("owner", &b.owner),
                ("version", &b.current_version),
                ("recommended", &b.recommended),
            ],
            1,
        );
    }

    o.family(
        "gowarden_project_upgrade_deadline_timestamp_seconds",
        "gauge",
        "The upgrade_by deadline (Unix time, 00:00 UTC) of each project below recommended.",
    );
    for b in &r.behind {
        if let Some(d) = b.upgrade_by.as_deref().and_then(crate::date::Date::parse) {
            o.sample(
                "gowarden_project_upgrade_deadline_timestamp_seconds",
                &[("project", &b.project), ("tier", &b.tier)],
                d.days() * 86_400,
            );
        }
    }

    o.family(
        "gowarden_project_response_seconds",
        "gauge",
        "Time from a project's first refused call to its first clean call after it.",
    );
    for p in &r.projects {
        if let Some(rt) = &p.response_time {
            o.sample(
                "gowarden_project_response_seconds",
                &[("project", &p.project), ("tier", &p.tier)],
                rt.seconds,
            );
        }
    }

    o.family(
        "gowarden_drift_events_total",
        "counter",
        "Drift findings gowarden drift --watch recorded, by category (path: a go that bypasses \
         the shim).",
    );
    for (c, n) in &r.drift.by_category {
        o.sample("gowarden_drift_events_total", &[("category", c)], n);
    }
    o.family(
        "gowarden_bypass_events_total",
        "counter",
        "Drift findings of a go on PATH that runs without the policy.",
    );
    o.sample("gowarden_bypass_events_total", &[], r.drift.bypass_events);
    o.family(
        "gowarden_hosts_with_bypass",
        "gauge",
        "Hosts that recorded at least one bypass.",
    );
    o.sample("gowarden_hosts_with_bypass", &[], r.drift.hosts_with_bypass);

    o.family(
        "gowarden_audit_chain_intact",
        "gauge",
        "1 when a host's and user's audit chain checked out in the records read, else 0.",
    );
    for s in &r.streams {
        o.sample(
            "gowarden_audit_chain_intact",
            &[("host", &s.host), ("user_id", &s.user_id)],
            u8::from(s.status == "intact"),
        );
    }
    o.family(
        "gowarden_audit_records_total",
        "counter",
        "Distinct audit records read, by host and user.",
    );
    for s in &r.streams {
        o.sample(
            "gowarden_audit_records_total",
            &[("host", &s.host), ("user_id", &s.user_id)],
            s.records,
        );
    }
    o.family(
        "gowarden_audit_missing_records",
        "gauge",
        "Sequence numbers missing from a host's and user's chain in the records read.",
    );
    for s in &r.streams {
        o.sample(
            "gowarden_audit_missing_records",
            &[("host", &s.host), ("user_id", &s.user_id)],
            s.missing,
        );
    }
    o.family(
        "gowarden_audit_last_record_timestamp_seconds",
        "gauge",
        "Time of the newest record of a host and user: a silent host stands out.",
    );
    for s in &r.streams {
        if let Some(t) = s.last_record_unix_nanos.map(|ns| ns / 1_000_000_000) {
            o.sample(
                "gowarden_audit_last_record_timestamp_seconds",
                &[("host", &s.host), ("user_id", &s.user_id)],
                t,
            );
        }
    }
    o.text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
