//! Reading a file's lines backwards from its end, in growing blocks.
//!
//! This is how an append finds the previous record without reading the log from the start:
//! the cost depends on the length of the last lines, never on the size of the file.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

const FIRST_BLOCK: u64 = 4096;
const MAX_BLOCK: u64 = 1 << 20;

/// One line, as found scanning backwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RevLine {
    /// The line's bytes, without its newline.
    pub(crate) bytes: Vec<u8>,
    /// False only for a last line that has no newline (torn).
    pub(crate) terminated: bool,
    /// Offset of the line's first byte in the file.
    pub(crate) offset: u64,
}

pub(crate) struct RevLines<'f> {
    file: &'f File,
    /// File offset of `buf[0]`.
    buf_start: u64,
    /// Bytes `[buf_start, end)` not yet returned.
    buf: Vec<u8>,
    /// End of the region not yet returned.
    end: u64,
    /// True until the last line of the file has been returned.
    at_last_line: bool,
    block: u64,
    /// Total bytes we may still read; a guard against scanning a huge file of garbage.
    budget: u64,
}

impl<'f> RevLines<'f> {
    /// Scans `file`, whose length is `len`, reading at most `budget` bytes in all.
    pub(crate) fn new(file: &'f File, len: u64, budget: u64) -> Self {
        RevLines {
            file,
            buf_start: len,
            buf: Vec::new(),
            end: len,
            at_last_line: true,
            block: FIRST_BLOCK,
            budget,
        }
    }

    /// Reads one more block before `buf_start`. Returns false at the start of the file.
    fn grow(&mut self) -> io::Result<bool> {
        if self.buf_start == 0 {
            return Ok(false);
        }
        let want = self.block.min(self.buf_start);
        if want > self.budget {
            return Err(io::Error::other(
                "gave up scanning backwards: too many bytes without a complete record",
            ));
        }
        self.budget -= want;
        let new_start = self.buf_start - want;
        let mut block = vec![0u8; want as usize];
        self.file.read_exact_at(&mut block, new_start)?;
        block.extend_from_slice(&self.buf);
        self.buf = block;
        self.buf_start = new_start;
        // Doubling keeps the total copying linear in the bytes scanned.
        self.block = (self.block * 2).min(MAX_BLOCK);
        Ok(true)
    }

    /// The previous line, or `None` once the start of the file is reached.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<RevLine>> {
        if self.end == 0 {
            return Ok(None);
        }
        while self.buf_start == self.end {
            if !self.grow()? {
                return Ok(None);
            }
        }
        // The byte before `end` is a newline, except possibly for the file's last byte.
        let last = self.buf[(self.end - 1 - self.buf_start) as usize];
        let terminated = !self.at_last_line || last == b'\n';
        self.at_last_line = false;
        let line_end = if terminated { self.end - 1 } else { self.end };
        loop {
            let region = &self.buf[..(line_end - self.buf_start) as usize];
            if let Some(nl) = region.iter().rposition(|&b| b == b'\n') {
                let start = self.buf_start + nl as u64 + 1;
                return Ok(Some(self.take(start, line_end, terminated)));
            }
            if !self.grow()? {
                return Ok(Some(self.take(0, line_end, terminated)));
            }
        }
    }

    fn take(&mut self, start: u64, line_end: u64, terminated: bool) -> RevLine {
        let from = (start - self.buf_start) as usize;
        let to = (line_end - self.buf_start) as usize;
        let bytes = self.buf[from..to].to_vec();
        self.buf.truncate(from);
        self.end = start;
        RevLine {
            bytes,
            terminated,
            offset: start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines_of(content: &[u8]) -> Vec<(Vec<u8>, bool, u64)> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(content).unwrap();
        let mut r = RevLines::new(&f, content.len() as u64, u64::MAX);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.bytes, l.terminated, l.offset));
        }
        out
    }

    #[test]
    fn empty_file_has_no_lines() {
        assert!(lines_of(b"").is_empty());
    }

    #[test]
    fn terminated_and_torn_last_lines() {
        assert_eq!(
            lines_of(b"a\nbb\n"),
            vec![(b"bb".to_vec(), true, 2), (b"a".to_vec(), true, 0)]
        );
        assert_eq!(
            lines_of(b"a\nbb"),
            vec![(b"bb".to_vec(), false, 2), (b"a".to_vec(), true, 0)]
        );
        assert_eq!(
            lines_of(b"\n\n"),
            vec![(b"".to_vec(), true, 1), (b"".to_vec(), true, 0)]
        );
        assert_eq!(lines_of(b"x"), vec![(b"x".to_vec(), false, 0)]);
    }

    #[test]
    fn lines_longer_than_blocks() {
        let long = vec![b'x'; 3 * FIRST_BLOCK as usize + 17];
        let mut content = b"first\n".to_vec();
        content.extend_from_slice(&long);
        content.push(b'\n');
        content.extend_from_slice(b"last\n");
        let got = lines_of(&content);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, b"last");
        assert_eq!(got[1].0, long);
        assert_eq!(got[1].2, 6);
        assert_eq!(got[2].0, b"first");
    }

    #[test]
    fn budget_stops_the_scan() {
        let mut f = tempfile::tempfile().unwrap();
        let content = vec![b'x'; 100_000];
        f.write_all(&content).unwrap();
        let mut r = RevLines::new(&f, content.len() as u64, 10_000);
        assert!(r.next_line().is_err());
    }
}
