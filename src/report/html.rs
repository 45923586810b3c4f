//! The report as one self-contained HTML page: inline CSS and inline SVG charts, no script, no
//! font, image or stylesheet to fetch, and a Content-Security-Policy that forbids fetching
//! anything, so it reads the same from a mail attachment, an artifact store or a file share.
//!
//! At a glance, top to bottom: the headline numbers; Go versions per tier over time (stacked
//! bars, one colour per version across all tiers); refusals over time; the projects behind the
//! matrix with owners and deadlines; refusals by rule and role and the top refused command
//! lines; every project; drift and bypass events by month; the chain status of each stream.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Calls, Report, day_string};

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Colour-blind-safe categorical palette (Okabe–Ito, then Tol's muted), cycled.
const PALETTE: [&str; 12] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#332288",
    "#88CCEE", "#117733", "#AA4499", "#999933",
];

const CSS: &str = "
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:14px;margin:12px 0 4px}.muted{color:#57606a}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.tile{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:120px}
.tile b{display:block;font-size:22px}.tile.bad b{color:#cf222e}.tile.warn b{color:#9a6700}.tile.ok b{color:#1a7f37}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border-bottom:1px solid #eaeef2;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.overdue{color:#cf222e;font-weight:600}.soon{color:#9a6700;font-weight:600}.intact{color:#1a7f37}.broken{color:#cf222e;font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:1px 4px;border-radius:3px}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.charts{display:flex;flex-wrap:wrap;gap:24px}svg text{font:11px system-ui,sans-serif;fill:#57606a}
";

fn tier_label(t: &str) -> String {
    if t.is_empty() {
        "(no tier)".into()
    } else {
        t.to_string()
    }
}

fn project_label(p: &str) -> String {
    if p.is_empty() {
        "(no module)".into()
    } else {
        p.to_string()
    }
}

/// "3 h 25 min", "2 d 4 h": durations for people.
fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// A step of 1, 2 or 5 × 10^k giving about four gridlines up to `max`.
fn nice_step(max: u64) -> u64 {
    let rough = (max / 4).max(1);
    let mut p = 1u64;
    while p.saturating_mul(10) <= rough {
        p *= 10;
    }
    for m in [1, 2, 5, 10] {
        if p * m >= rough {
            return p * m;
        }
    }
    p * 10
}

/// A stacked bar chart: one bar per day (days without data are gaps, so time reads
/// left to right at an even pace), segments coloured by series.
fn stacked_bars(days: &[(i64, Vec<(usize, u64)>)], title: &str) -> String {
    let (w, h, left, bottom, top) = (560.0f64, 200.0f64, 44.0f64, 22.0f64, 8.0f64);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-label=\"{}\">",
        esc(title)
    );
    let (Some(first), Some(last)) = (days.first().map(|d| d.0), days.last().map(|d| d.0)) else {
        svg.push_str("<text x=\"10\" y=\"20\">no data</text></svg>");
        return svg;
    };
    let span = (last - first + 1) as f64;
    let max = days
        .iter()
        .map(|(_, s)| s.iter().map(|x| x.1).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let step = nice_step(max);
    let ymax = max.div_ceil(step) * step;
    let plot_w = w - left - 8.0;
    let plot_h = h - bottom - top;
    let y = |v: u64| top + plot_h - plot_h * v as f64 / ymax as f64;
    let mut g = 0;
    while g <= ymax {
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eaeef2\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{g}</text>",
            w - 8.0,
            y(g),
            y(g),
            left - 4.0,
            y(g) + 4.0
        );
        g += step;
    }
    let slot = plot_w / span;
    let bar = (slot * 0.8).max(1.0);
    for (day, segments) in days {
        let x = left + (day - first) as f64 * slot + (slot - bar) / 2.0;
        let mut acc = 0u64;
        for &(series, n) in segments {
            if n == 0 {
                continue;
            }
            let (y1, y0) = (y(acc + n), y(acc));
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" \
                 fill=\"{}\"><title>{}: {n}</title></rect>",
                (y0 - y1).max(0.5),
                PALETTE[series % PALETTE.len()],
                esc(&day_string(*day))
            );
            acc += n;
        }
    }
    // The first and last day, and the middle one when there is room.
    let mut ticks = vec![first];
    if last - first >= 4 {
        ticks.push(first + (last - first) / 2);
    }
    if last != first {
        ticks.push(last);
    }
    for t in ticks {
        let x = left + (t - first) as f64 * slot + slot / 2.0;
        let anchor = if t == first && t != last {
            "start"
        } else if t == last && t != first {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            svg,
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            h - 6.0,
            day_string(t)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn legend(items: &[(String, usize)]) -> String {
    let mut s = String::from("<div class=\"legend\">");
    for (name, i) in items {
        let _ = write!(
            s,
            "<span><i style=\"background:{}\"></i>{}</span>",
            PALETTE[i % PALETTE.len()],
            esc(name)
        );
    }
    s.push_str("</div>");
    s
}

fn tile(out: &mut String, class: &str, value: &str, label: &str) {
    let _ = write!(
        out,
        "<div class=\"tile {class}\"><b>{}</b>{}</div>",
        esc(value),
        esc(label)
    );
}

fn calls_cells(c: &Calls) -> String {
    format!(
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
        c.allowed, c.warned, c.refused
    )
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    o.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>gowarden report</title><style>",
    );
    o.push_str(CSS);
    o.push_str("</style></head><body>\n");
    let period = match (&r.inputs.first_record, &r.inputs.last_record) {
        (Some(a), Some(b)) => format!("{} to {}", &a[..10.min(a.len())], &b[..10.min(b.len())]),
        _ => "no records".into(),
    };
    let _ = writeln!(
        o,
        "<h1>gowarden: how the Go policy holds</h1><div class=\"muted\">{} · {} records from {} \
         file(s) · {} host(s), {} user(s) · as of {}{}</div>",
        esc(&period),
        r.inputs.records,
        r.inputs.files.len(),
        r.hosts,
        r.users,
        esc(&r.today),
        r.policy
            .as_deref()
            .map(|p| format!(" · tiers from {}", esc(p)))
            .unwrap_or_default()
    );

    // Headline numbers.
    o.push_str("<div class=\"tiles\">");
    let total = r.calls.total();
    tile(&mut o, "", &total.to_string(), "calls");
    tile(&mut o, "ok", &r.calls.allowed.to_string(), "allowed");
    tile(&mut o, "warn", &r.calls.warned.to_string(), "warned");
    let refused_share = if total > 0 {
        format!(" ({:.1} %)", 100.0 * r.calls.refused as f64 / total as f64)
    } else {
        String::new()
    };
    tile(
        &mut o,
        if r.calls.refused > 0 { "bad" } else { "ok" },
        &r.calls.refused.to_string(),
        &format!("refused{refused_share}"),
    );
    let overdue = r
        .behind
        .iter()
        .filter(|b| b.days_left.is_some_and(|d| d < 0))
        .count();
    tile(
        &mut o,
        if overdue > 0 {
            "bad"
        } else if r.behind.is_empty() {
            "ok"
        } else {
            "warn"
        },
        &r.behind.len().to_string(),
        &format!("projects behind ({overdue} overdue)"),
    );
    tile(
        &mut o,
        "",
        &r.response_time
            .median_seconds
            .map(duration)
            .unwrap_or_else(|| "–".into()),
        "median response time",
    );
    tile(
        &mut o,
        if r.drift.bypass_events > 0 {
            "bad"
        } else {
            "ok"
        },
        &r.drift.bypass_events.to_string(),
        "bypass events",
    );
    tile(
        &mut o,
        if r.chains.broken > 0 { "bad" } else { "ok" },
        &format!("{}/{}", r.chains.intact, r.chains.streams),
        "chains intact",
    );
    o.push_str("</div>\n");

    // Versions per tier: one colour per version across every tier.
    let mut versions: Vec<&str> = r
        .tiers
        .iter()
        .flat_map(|t| t.versions.iter().map(|v| v.version.as_str()))
        .collect();
    versions.sort_by(|a, b| crate::version::go_compare(a, b));
    versions.dedup();
    let colour: BTreeMap<&str, usize> = versions.iter().enumerate().map(|(i, v)| (*v, i)).collect();
    o.push_str("<h2>Go versions per tier</h2>");
    o.push_str(&legend(
        &versions
            .iter()
            .map(|v| (v.to_string(), colour[v]))
            .collect::<Vec<_>>(),
    ));
    o.push_str("<div class=\"charts\">");
    for t in &r.tiers {
        let days: Vec<(i64, Vec<(usize, u64)>)> = t
            .over_time
            .iter()
            .filter_map(|d| {
                let day = crate::date::Date::parse(&d.day)?.days();
                let mut segs: Vec<(usize, u64)> = d
                    .versions
                    .iter()
                    .map(|(v, n)| (colour.get(v.as_str()).copied().unwrap_or(0), *n))
                    .collect();
                segs.sort_unstable();
                Some((day, segs))
            })
            .collect();
        let rec = t
            .recommended
            .as_deref()
            .map(|v| format!(" · recommended {}", esc(v)))
            .unwrap_or_default();
        let _ = write!(
            o,
            "<div><h3>{}</h3><div class=\"muted\">{} calls{rec}</div>{}</div>",
            esc(&tier_label(&t.tier)),
            t.calls.total(),
            stacked_bars(&days, &format!("Go versions of tier {} per day", t.tier))
        );
    }
    o.push_str("</div>\n");

    o.push_str("<h2>Refusals over time</h2>");
    let days: Vec<(i64, Vec<(usize, u64)>)> = r
        .refusals
        .over_time
        .iter()
        .filter_map(|d| Some((crate::date::Date::parse(&d.day)?.days(), vec![(5, d.count)])))
        .collect();
    o.push_str(&stacked_bars(&days, "refused calls per day"));

    o.push_str("<h2>Projects behind the matrix</h2>");
    if r.behind.is_empty() {
        o.push_str(
            "<p>Every project's newest call ran its tier's recommended release or newer.</p>",
        );
    } else {
        o.push_str(
            "<table><tr><th>project</th><th>tier</th><th>owner</th><th>runs</th>\
             <th>recommended</th><th>upgrade by</th><th>days left</th></tr>",
        );
        for b in &r.behind {
            let (class, left) = match b.days_left {
                Some(d) if d < 0 => ("overdue", format!("{} overdue", -d)),
                Some(d) if d <= 14 => ("soon", d.to_string()),
                Some(d) => ("", d.to_string()),
                None => ("", "–".into()),
            };
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td>\
                 <td>{}</td><td class=\"n {class}\">{}</td></tr>",
                esc(&project_label(&b.project)),
                esc(&tier_label(&b.tier)),
                esc(&b.owner),
                esc(&b.current_version),
                if b.below_min { " (below min)" } else { "" },
                esc(&b.recommended),
                esc(b.upgrade_by.as_deref().unwrap_or("–")),
                esc(&left)
            );
        }
        o.push_str("</table>");
    }

    o.push_str("<h2>Refusals by rule and role</h2>");
    if r.refusals.by_rule_and_role.is_empty() {
        o.push_str("<p>No call was refused.</p>");
    } else {
        o.push_str("<table><tr><th>rule</th><th>role</th><th>refused</th></tr>");
        for rr in &r.refusals.by_rule_and_role {
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
                esc(&rr.rule),
                esc(if rr.role.is_empty() {
                    "(no role)"
                } else {
                    &rr.role
                }),
                rr.count
            );
        }
        o.push_str("</table><h3>Top refused command lines</h3><table><tr><th>command line</th><th>refused</th></tr>");
        for t in &r.refusals.top_refused {
            let count = if t.error > 0 {
                format!("{} (±{})", t.count, t.error)
            } else {
                t.count.to_string()
            };
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td></tr>",
                esc(&t.command),
                esc(&count)
            );
        }
        o.push_str("</table>");
    }

    o.push_str(
        "<h2>Projects</h2><table><tr><th>project</th><th>tier</th><th>allowed</th><th>warned</th>\
         <th>refused</th><th>runs</th><th>response time</th></tr>",
    );
    for p in &r.projects {
        let rt = p
            .response_time
            .as_ref()
            .map(|t| {
                format!(
                    "{}{}",
                    duration(t.seconds),
                    if t.exact { "" } else { " (approx.)" }
                )
            })
            .unwrap_or_else(|| {
                if p.calls.refused > 0 {
                    "not yet clean".into()
                } else {
                    "–".into()
                }
            });
        let _ = write!(
            o,
            "<tr><td><code>{}</code></td><td>{}</td>{}<td>{}</td><td>{}</td></tr>",
            esc(&project_label(&p.project)),
            esc(&tier_label(&p.tier)),
            calls_cells(&p.calls),
            esc(p.current_version.as_deref().unwrap_or("–")),
            esc(&rt)
        );
    }
    o.push_str("</table>");

    let _ = write!(
        o,
        "<h2>Drift and bypass</h2><p>{} drift event(s), {} of them bypasses (a go on PATH that \
         runs without the policy) on {} host(s); {} resolved, {} fixed.</p>",
        r.drift.drift_events,
        r.drift.bypass_events,
        r.drift.hosts_with_bypass,
        r.drift.resolved_events,
        r.drift.fixes
    );
    if !r.drift.by_month.is_empty() {
        o.push_str("<table><tr><th>month</th><th>drift</th><th>bypass</th></tr>");
        for m in &r.drift.by_month {
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&m.month),
                m.drift,
                m.bypass
            );
        }
        o.push_str("</table>");
    }

    o.push_str(
        "<h2>Audit chains</h2><table><tr><th>host</th><th>user</th><th>status</th>\
         <th>records</th><th>seq</th><th>missing</th><th>first problem</th></tr>",
    );
    let mut streams: Vec<_> = r.streams.iter().collect();
    streams.sort_by_key(|s| s.status == "intact");
    for s in streams {
        let user = match &s.user_name {
            Some(n) => format!("{n} ({})", s.user_id),
            None => s.user_id.clone(),
        };
        let problem = s
            .problems
            .first()
            .map(|p| {
                if p.line > 0 {
                    format!("{}:{}: {}", p.file, p.line, p.message)
                } else {
                    p.message.clone()
                }
            })
            .unwrap_or_default();
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td class=\"n\">{}</td>\
             <td>{}..{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&s.host),
            esc(&user),
            s.status,
            s.status,
            s.records,
            s.first_seq.unwrap_or(0),
            s.last_seq.unwrap_or(0),
            s.missing,
            esc(&problem)
        );
    }
    o.push_str("</table>");
    if r.warning_count > 0 {
        let _ = write!(
            o,
            "<h2>Warnings</h2><p>{} warning(s) while reading:</p><ul>",
            r.warning_count
        );
        for w in &r.warnings {
            let _ = write!(o, "<li>{}</li>", esc(w));
        }
        o.push_str("</ul>");
    }
    o.push_str("\n</body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(10_500), "2 h 55 min");
        assert_eq!(duration(2 * 86_400 + 3600), "2 d 1 h");
    }

    #[test]
    fn gridline_steps_are_round() {
        assert_eq!(nice_step(3), 1);
        assert_eq!(nice_step(37), 10);
        assert_eq!(nice_step(1000), 500);
    }
}
