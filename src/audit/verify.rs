//! Checking a chain: every line a record, seq contiguous, each hash matching, across files.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::chain::{ChainInfo, GENESIS_SHA256, JoinedHasher, chain_info, line_sha256};
use super::files::stable_len;

/// What is wrong at the first bad line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A file could not be opened or read.
    Unreadable,
    /// A line in the middle of the chain is not a record (not JSON, or no valid chain
    /// fields), and no repair record covers it.
    Invalid,
    /// The last line is unterminated or not a record: a crash mid-append (the next append
    /// repairs it) or a file cut short mid-line.
    Torn,
    /// A record's bytes differ from what the next record hashed: it was edited (or the next
    /// record's `gowarden.prev_sha256` was).
    Edited,
    /// seq jumps forward: records were removed.
    Deleted,
    /// seq goes backwards or repeats: records were moved or duplicated.
    Reordered,
    /// The chain does not start at seq 1, or a file ends before the next file's chain
    /// continues: whole runs of records are missing at a file's edge.
    Truncated,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::Invalid => "invalid",
            ProblemKind::Torn => "torn",
            ProblemKind::Edited => "edited",
            ProblemKind::Deleted => "deleted",
            ProblemKind::Reordered => "reordered",
            ProblemKind::Truncated => "truncated",
        }
    }
}

/// The first bad line found. `line` is 1-based within `file` (0 when the file itself is the
/// problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub file: PathBuf,
    pub line: u64,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.kind.as_str(),
            self.message
        )
    }
}

/// Something a reader should know that does not break the chain (a repaired torn line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: PathBuf,
    pub line: u64,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub files: Vec<PathBuf>,
    /// Lines read, in all files, up to the first problem.
    pub lines: u64,
    /// Records whose chain checked out.
    pub records: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// Hash of the last good record's line; compare with an anchor kept elsewhere to detect
    /// the newest records being cut off, which the chain alone cannot.
    pub last_sha256: Option<String>,
    pub problem: Option<Problem>,
    pub warnings: Vec<Warning>,
}

impl VerifyReport {
    /// True when no problem was found (warnings allowed).
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// Options of [`verify_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Accept a chain whose first record has a seq above 1, for logs whose oldest rotated
    /// files were removed on purpose; it is then reported as a warning, not a problem.
    pub allow_pruned_head: bool,
}

/// Verifies the chain made by `files` in order (oldest first, the live file last; see
/// [`chain_files`](super::chain_files)), stopping at the first problem.
///
/// Checks: every line is a record (a JSON object with `gowarden.seq` and
/// `gowarden.prev_sha256`); the first record has seq 1 and the all-zero prev hash; each next
/// record has seq + 1 and the SHA-256 of the previous record's line, across file boundaries.
/// Non-record lines followed by a repair record that names their count and hash are
/// reported as warnings ("torn line N repaired at seq M"), not problems.
///
/// What it cannot see: the newest records being removed whole (nothing follows them to
/// disagree; keep [`VerifyReport::last_sha256`] or [`Appended::sha256`](super::Appended)
/// elsewhere for that), or a chain rewritten from some point on with recomputed hashes (the
/// hashes are not keyed; a privileged log sink is the answer).
pub fn verify(files: &[PathBuf]) -> VerifyReport {
    verify_with(files, &VerifyOptions::default())
}

/// [`verify`] with options.
pub fn verify_with(files: &[PathBuf], options: &VerifyOptions) -> VerifyReport {
    let mut v = Verifier {
        options,
        files,
        report: VerifyReport {
            files: files.to_vec(),
            ..VerifyReport::default()
        },
        tip: None,
        junk: None,
        gap: None,
    };
    for (index, path) in files.iter().enumerate() {
        if let Err(problem) = v.file(index, path) {
            v.report.problem = Some(problem);
            return v.report;
        }
    }
    if let Err(problem) = v.finish() {
        v.report.problem = Some(problem);
    }
    v.report
}

#[derive(Debug, Clone, Copy)]
struct Loc {
    file: usize,
    line: u64,
}

struct Tip {
    seq: u64,
    sha256: String,
    loc: Loc,
}

struct Junk {
    hasher: JoinedHasher,
    first: Loc,
    first_reason: String,
    last_unterminated: bool,
}

/// A forward seq jump, classified once the next record shows whether the missing seq turns
/// up later (reordered) or not (deleted).
struct Gap {
    loc: Loc,
    expected: u64,
    got: u64,
}

struct Verifier<'a> {
    options: &'a VerifyOptions,
    files: &'a [PathBuf],
    report: VerifyReport,
    tip: Option<Tip>,
    junk: Option<Junk>,
    gap: Option<Gap>,
}

type Step = Result<(), Problem>;

impl Verifier<'_> {
    fn problem(&self, kind: ProblemKind, loc: Loc, message: String) -> Problem {
        Problem {
            kind,
            file: self.files[loc.file].clone(),
            line: loc.line,
            message,
        }
    }

    fn at(&self, loc: Loc) -> String {
        format!("{}:{}", self.files[loc.file].display(), loc.line)
    }

    fn file(&mut self, index: usize, path: &Path) -> Step {
        let unreadable = |e: std::io::Error| Problem {
            kind: ProblemKind::Unreadable,
            file: path.to_path_buf(),
            line: 0,
            message: format!("cannot read: {e}"),
        };
        let file = File::open(path).map_err(unreadable)?;
        let len = stable_len(&file, path).map_err(unreadable)?;
        let mut reader = BufReader::with_capacity(1 << 16, file.take(len));
        let mut buf = Vec::new();
        let mut line_no = 0;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(unreadable)?;
            if n == 0 {
                return Ok(());
            }
            line_no += 1;
            self.report.lines += 1;
            let terminated = buf.last() == Some(&b'\n');
            if terminated {
                buf.pop();
            }
            self.line(
                Loc {
                    file: index,
                    line: line_no,
                },
                &buf,
                terminated,
            )?;
        }
    }

    fn line(&mut self, loc: Loc, bytes: &[u8], terminated: bool) -> Step {
        let info = match chain_info(bytes) {
            Ok(info) => info,
            Err(reason) => {
                let junk = self.junk.get_or_insert_with(|| Junk {
                    hasher: JoinedHasher::default(),
                    first: loc,
                    first_reason: reason,
                    last_unterminated: false,
                });
                junk.hasher.push(bytes);
                junk.last_unterminated = !terminated;
                return Ok(());
            }
        };
        if let Some(gap) = self.gap.take() {
            return Err(self.classify_gap(&gap, Some(info.seq)));
        }
        self.check_repair(loc, &info)?;
        self.check_link(loc, &info)?;
        if self.gap.is_none() {
            self.report.records += 1;
            self.report.first_seq.get_or_insert(info.seq);
            self.report.last_seq = Some(info.seq);
            let sha256 = line_sha256(bytes);
            self.report.last_sha256 = Some(sha256.clone());
            self.tip = Some(Tip {
                seq: info.seq,
                sha256,
                loc,
            });
        }
        Ok(())
    }

    /// Non-record lines must be followed by a repair record that names them exactly.
    fn check_repair(&mut self, loc: Loc, info: &ChainInfo) -> Step {
        match (self.junk.take(), &info.repair) {
            (None, None) => Ok(()),
            (Some(junk), Some(repair)) => {
                if repair.torn_lines != junk.hasher.lines()
                    || repair.torn_sha256 != junk.hasher.finish()
                {
                    return Err(self.problem(
                        ProblemKind::Edited,
                        junk.first,
                        format!(
                            "the torn line(s) here do not match what the repair record at {} \
                             recorded ({} line(s), sha256 {})",
                            self.at(loc),
                            repair.torn_lines,
                            repair.torn_sha256
                        ),
                    ));
                }
                let n = junk.hasher.lines();
                let what = if n == 1 {
                    format!("torn line {}", junk.first.line)
                } else {
                    format!("{n} torn lines from line {}", junk.first.line)
                };
                self.report.warnings.push(Warning {
                    file: self.files[junk.first.file].clone(),
                    line: junk.first.line,
                    message: format!("{what} repaired at seq {}", info.seq),
                });
                Ok(())
            }
            (Some(junk), None) => Err(self.problem(
                ProblemKind::Invalid,
                junk.first,
                format!("not an audit record ({})", junk.first_reason),
            )),
            (None, Some(repair)) if repair.torn_lines == 0 => {
                self.report.warnings.push(Warning {
                    file: self.files[loc.file].clone(),
                    line: loc.line,
                    message: format!(
                        "an unterminated last record was completed at seq {}",
                        info.seq
                    ),
                });
                Ok(())
            }
            (None, Some(repair)) => Err(self.problem(
                ProblemKind::Deleted,
                loc,
                format!(
                    "this repair record covers {} torn line(s), but none precede it",
                    repair.torn_lines
                ),
            )),
        }
    }

    fn check_link(&mut self, loc: Loc, info: &ChainInfo) -> Step {
        let Some(tip) = &self.tip else {
            if info.seq == 1 {
                if info.prev_sha256 != GENESIS_SHA256 {
                    return Err(self.problem(
                        ProblemKind::Edited,
                        loc,
                        "the first record (seq 1) must have an all-zero gowarden.prev_sha256"
                            .into(),
                    ));
                }
            } else if self.options.allow_pruned_head {
                self.report.warnings.push(Warning {
                    file: self.files[loc.file].clone(),
                    line: loc.line,
                    message: format!("the chain starts at seq {} (older files pruned)", info.seq),
                });
            } else {
                return Err(self.problem(
                    ProblemKind::Truncated,
                    loc,
                    format!(
                        "the chain starts at seq {}: the {} record(s) before it are missing",
                        info.seq,
                        info.seq - 1
                    ),
                ));
            }
            return Ok(());
        };
        if info.seq <= tip.seq {
            let what = if info.seq == tip.seq {
                format!("seq {} repeats", info.seq)
            } else {
                format!("seq goes backwards from {} to {}", tip.seq, info.seq)
            };
            return Err(self.problem(
                ProblemKind::Reordered,
                loc,
                format!("{what}: records were moved or duplicated"),
            ));
        }
        // tip.seq < info.seq, so this cannot overflow.
        let expected = tip.seq + 1;
        if info.seq == expected {
            if info.prev_sha256 != tip.sha256 {
                return Err(self.problem(
                    ProblemKind::Edited,
                    tip.loc,
                    format!(
                        "record seq {} does not match the hash that the next record ({}) \
                         holds for it: it was edited (or that record's chain field was)",
                        tip.seq,
                        self.at(loc)
                    ),
                ));
            }
            return Ok(());
        }
        if tip.loc.file != loc.file {
            return Err(self.problem(
                ProblemKind::Truncated,
                loc,
                format!(
                    "{} ends at seq {} but this file continues at seq {}: records {}..{} are \
                     missing (a file was cut short, or rotated files are missing or out of order)",
                    self.files[tip.loc.file].display(),
                    tip.seq,
                    info.seq,
                    expected,
                    info.seq - 1
                ),
            ));
        }
        self.gap = Some(Gap {
            loc,
            expected,
            got: info.seq,
        });
        Ok(())
    }

    fn classify_gap(&self, gap: &Gap, next_seq: Option<u64>) -> Problem {
        match next_seq {
            Some(next) if next < gap.got => self.problem(
                ProblemKind::Reordered,
                gap.loc,
                format!(
                    "seq {} comes before seq {}: records were moved",
                    gap.got, next
                ),
            ),
            _ => {
                let missing = gap.got - gap.expected;
                self.problem(
                    ProblemKind::Deleted,
                    gap.loc,
                    format!(
                        "seq jumps from {} to {}: {missing} record(s) before this line were deleted",
                        gap.expected - 1,
                        gap.got
                    ),
                )
            }
        }
    }

    fn finish(&mut self) -> Step {
        if let Some(gap) = self.gap.take() {
            return Err(self.classify_gap(&gap, None));
        }
        if let Some(junk) = self.junk.take() {
            let message = if junk.last_unterminated && junk.hasher.lines() == 1 {
                "the last line is unterminated: a torn write or a file cut short (the next \
                 append repairs a torn write)"
                    .to_string()
            } else {
                format!(
                    "not an audit record ({}), and no repair record follows",
                    junk.first_reason
                )
            };
            return Err(self.problem(ProblemKind::Torn, junk.first, message));
        }
        Ok(())
    }
}
