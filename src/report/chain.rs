//! The chain status of one stream (one host's and one user's records), checked in one pass
//! over records that may come in any order, from local logs and Collector exports alike, in
//! memory that does not grow with the records.
//!
//! Kept per stream: the runs of seqs seen (one entry per contiguous run, so a whole chain is
//! one entry) and the hashes of the last [`WINDOW`] records by seq. A record extending the
//! chain is checked against its predecessor's hash; one arriving before its predecessor is
//! checked when that arrives, if both are still in the window. A record whose seq was seen
//! already is a duplicate: counted once, and compared with the first copy while that is in
//! the window (identical: a retransmission; different: a problem). What falls outside the
//! window is counted as unchecked, never passed off as checked: `gowarden audit verify
//! --collected` holds every seq and checks them all.

use std::collections::BTreeMap;

use serde::Serialize;

/// How many recent records per stream keep their hashes for link and duplicate checks.
pub const WINDOW: usize = 256;
/// At most this many problems are kept per stream (all are counted).
const MAX_PROBLEMS: usize = 8;

pub type Hash = [u8; 32];

/// Where a record was read: the file and its 1-based line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc<'a> {
    pub file: &'a str,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainProblem {
    pub file: String,
    /// 0 when the problem is not at one line (seqs missing from every input).
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    seq: u64,
    sha: Hash,
    prev: Hash,
}

/// What [`ChainTrack::record`] decided about a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The first copy of this seq: count it.
    New,
    /// A seq seen before: do not count it again.
    Duplicate,
}

#[derive(Debug, Default)]
pub struct ChainTrack {
    /// Runs of seqs seen: start → end (inclusive).
    runs: BTreeMap<u64, u64>,
    window: Vec<Option<Slot>>,
    pub records: u64,
    pub retransmitted: u64,
    /// Duplicates whose first copy had left the window: not compared.
    pub unchecked_duplicates: u64,
    /// Links whose other end had left the window: not checked.
    pub unchecked_links: u64,
    pub problem_count: u64,
    pub problems: Vec<ChainProblem>,
    /// The last file a record of this stream came from (for problems found at the end).
    pub last_file: String,
}

impl ChainTrack {
    pub fn first_seq(&self) -> Option<u64> {
        self.runs.keys().next().copied()
    }

    pub fn last_seq(&self) -> Option<u64> {
        self.runs.values().next_back().copied()
    }

    pub fn problem(&mut self, file: &str, line: u64, message: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(ChainProblem {
                file: file.to_string(),
                line,
                message,
            });
        }
    }

    fn seen(&self, seq: u64) -> bool {
        self.runs
            .range(..=seq)
            .next_back()
            .is_some_and(|(_, &end)| end >= seq)
    }

    fn insert(&mut self, seq: u64) {
        let before = self
            .runs
            .range(..seq)
            .next_back()
            .map(|(&s, &e)| (s, e))
            .filter(|&(_, e)| e + 1 == seq);
        let after = seq
            .checked_add(1)
            .and_then(|n| self.runs.get(&n).copied().map(|e| (n, e)));
        match (before, after) {
            (Some((s, _)), Some((n, e))) => {
                self.runs.remove(&n);
                self.runs.insert(s, e);
            }
            (Some((s, _)), None) => {
                self.runs.insert(s, seq);
            }
            (None, Some((n, e))) => {
                self.runs.remove(&n);
                self.runs.insert(seq, e);
            }
            (None, None) => {
                self.runs.insert(seq, seq);
            }
        }
    }

    fn slot(&self, seq: u64) -> Option<Slot> {
        let i = (seq % WINDOW as u64) as usize;
        self.window
            .get(i)
            .copied()
            .flatten()
            .filter(|s| s.seq == seq)
    }

    /// One record: its seq, its line's hash, the hash it names for its predecessor.
    pub fn record(&mut self, seq: u64, sha: Hash, prev: Hash, loc: &Loc<'_>) -> Seen {
        if self.last_file != loc.file {
            self.last_file = loc.file.to_string();
        }
        if self.seen(seq) {
            match self.slot(seq) {
                Some(s) if s.sha == sha && s.prev == prev => self.retransmitted += 1,
                Some(s) => {
                    let message = format!(
                        "seq {seq} appears twice with different contents (sha256 {} and {}): \
                         not a retransmission",
                        hex(&s.sha),
                        hex(&sha)
                    );
                    self.problem(loc.file, loc.line, message);
                }
                None => self.unchecked_duplicates += 1,
            }
            return Seen::Duplicate;
        }
        self.records += 1;
        if seq == 1 {
            if prev != [0; 32] {
                self.problem(
                    loc.file,
                    loc.line,
                    "the first record (seq 1) must have an all-zero gowarden.prev_sha256".into(),
                );
            }
        } else if self.seen(seq - 1) {
            match self.slot(seq - 1) {
                Some(p) if p.sha == prev => {}
                Some(_) => self.problem(
                    loc.file,
                    loc.line,
                    format!(
                        "seq {seq} does not link to seq {}: its gowarden.prev_sha256 is not that \
                         record's hash (edited, or a chain rewritten from here)",
                        seq - 1
                    ),
                ),
                None => self.unchecked_links += 1,
            }
        }
        if let Some(next) = seq.checked_add(1)
            && self.seen(next)
        {
            match self.slot(next) {
                Some(n) if n.prev == sha => {}
                Some(_) => self.problem(
                    loc.file,
                    loc.line,
                    format!(
                        "seq {next} does not link to seq {seq}: its gowarden.prev_sha256 is not \
                         this record's hash"
                    ),
                ),
                None => self.unchecked_links += 1,
            }
        }
        self.insert(seq);
        if self.window.is_empty() {
            self.window = vec![None; WINDOW];
        }
        self.window[(seq % WINDOW as u64) as usize] = Some(Slot { seq, sha, prev });
        Seen::New
    }

    /// The seqs missing between 1 and the last one seen, as problems: run once, at the end.
    pub fn finish(&mut self) {
        let mut expected = 1u64;
        let gaps: Vec<(u64, u64)> = self
            .runs
            .iter()
            .filter_map(|(&start, &end)| {
                let gap = (start > expected).then(|| (expected, start - 1));
                expected = end.saturating_add(1);
                gap
            })
            .collect();
        let file = self.last_file.clone();
        for (a, b) in gaps {
            let what = if a == b {
                format!("seq {a} is missing")
            } else {
                format!("seqs {a}..{b} are missing ({} records)", b - a + 1)
            };
            self.problem(
                &file,
                0,
                format!("{what}: deleted, not shipped yet, or in a file not read"),
            );
        }
    }

    pub fn missing(&self) -> u64 {
        match self.last_seq() {
            Some(last) => last - self.runs.iter().map(|(s, e)| e - s + 1).sum::<u64>(),
            None => 0,
        }
    }
}

pub use crate::hex::decode_sha256 as parse_hash;

pub fn hex(h: &Hash) -> String {
    crate::hex::encode(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> Hash {
        [n; 32]
    }
    fn loc() -> Loc<'static> {
        Loc { file: "f", line: 1 }
    }

    #[test]
    fn in_order_chain_is_intact() {
        let mut t = ChainTrack::default();
        assert_eq!(t.record(1, h(1), [0; 32], &loc()), Seen::New);
        assert_eq!(t.record(2, h(2), h(1), &loc()), Seen::New);
        assert_eq!(t.record(2, h(2), h(1), &loc()), Seen::Duplicate);
        t.finish();
        assert_eq!((t.records, t.retransmitted, t.problem_count), (2, 1, 0));
        assert_eq!(t.runs.len(), 1);
    }

    #[test]
    fn out_of_order_links_are_checked_and_gaps_found_at_the_end() {
        let mut t = ChainTrack::default();
        t.record(3, h(3), h(2), &loc());
        t.record(1, h(1), [0; 32], &loc());
        t.record(2, h(2), h(9), &loc()); // does not link to 1
        t.record(6, h(6), h(5), &loc());
        t.finish();
        assert_eq!(t.problem_count, 2, "{:?}", t.problems);
        assert!(
            t.problems[0]
                .message
                .contains("seq 2 does not link to seq 1")
        );
        assert!(t.problems[1].message.contains("seqs 4..5 are missing"));
        assert_eq!(t.missing(), 2);
    }

    #[test]
    fn a_conflicting_duplicate_is_a_problem() {
        let mut t = ChainTrack::default();
        t.record(1, h(1), [0; 32], &loc());
        assert_eq!(t.record(1, h(7), [0; 32], &loc()), Seen::Duplicate);
        assert_eq!(t.problem_count, 1);
    }

    #[test]
    fn hashes_parse() {
        assert_eq!(parse_hash(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(parse_hash(&"AB".repeat(32)), None);
        assert_eq!(parse_hash("ab"), None);
    }
}
