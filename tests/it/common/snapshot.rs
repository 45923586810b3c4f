//! Whole outputs as snapshots (insta): a command's exit status, stdout and stderr in one text,
//! with what differs from run to run replaced by a name, so a snapshot holds exactly the
//! message a user reads and a changed message is a diff to review (docs/testing.md).

use std::path::Path;

use super::{FakeRun, Sandbox, day};

/// The filters one snapshot applies: the sandbox's paths, the real toolchains' cache, the
/// dates the test chose, and anything else the test names.
pub struct Snap {
    /// (text, name), applied in order before insta's regex filters.
    exact: Vec<(String, String)>,
}

impl Snap {
    /// Filters for a test in `sb`: its root is `[SANDBOX]` (so `[SANDBOX]/project`,
    /// `[SANDBOX]/policy.toml`, `[SANDBOX]/home/...`).
    pub fn new(sb: &Sandbox) -> Snap {
        let mut exact = vec![(sb.root.display().to_string(), "[SANDBOX]".to_string())];
        let cache = std::env::var_os("GOWARDEN_TOOLCHAIN_CACHE")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .map(|h| Path::new(&h).join(".cache/gowarden-test-toolchains"))
            });
        if let Some(cache) = cache {
            exact.push((cache.display().to_string(), "[TOOLCHAIN_CACHE]".to_string()));
        }
        exact.push((super::BIN.to_string(), "[GOWARDEN]".to_string()));
        Snap { exact }
    }

    /// `day(offset)` (a date the test wrote into a policy) is `[day+N]`, `[day-N]` or
    /// `[today]`: the snapshot keeps which date the message names, not the calendar.
    pub fn day(mut self, offset: i64) -> Snap {
        let name = if offset == 0 {
            "[today]".to_string()
        } else if offset < 0 {
            format!("[day{offset}]")
        } else {
            format!("[day+{offset}]")
        };
        self.exact.push((day(offset), name));
        self
    }

    /// Replaces `text` by `name`.
    pub fn name(mut self, text: impl AsRef<str>, name: &str) -> Snap {
        self.exact
            .push((text.as_ref().to_string(), name.to_string()));
        self
    }

    /// The text a snapshot of `r` holds: `status`, then `--- stdout` and `--- stderr` (each
    /// left out when empty), filtered.
    pub fn of(&self, r: &FakeRun) -> String {
        let mut s = format!("status: {}\n", r.status());
        for (name, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            if !text.is_empty() {
                s.push_str(&format!("--- {name}\n{text}"));
                if !text.ends_with('\n') {
                    s.push_str("\n[no newline at the end]\n");
                }
            }
        }
        self.filter(&s)
    }

    /// `text` with the exact names applied (insta's regex filters run on assertion).
    pub fn filter(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (from, to) in &self.exact {
            if !from.is_empty() {
                text = text.replace(from.as_str(), to);
            }
        }
        text
    }
}

/// insta's settings for every snapshot: no source expression in the file (the test is the
/// source), and regex filters for values no test controls: sha256 digests, timestamps, pids.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_omit_expression(true);
    s.add_filter(r"\b[0-9a-f]{64}\b", "[SHA256]");
    s.add_filter(
        r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[TIMESTAMP]",
    );
    s
}

/// Asserts the snapshot `name` of `r` (a whole run) with the filters of `snap`.
#[macro_export]
macro_rules! assert_run_snapshot {
    ($name:expr, $snap:expr, $run:expr) => {{
        let text = $snap.of(&$run);
        $crate::common::snapshot::settings().bind(|| {
            insta::assert_snapshot!($name, text);
        });
    }};
}
