//! Scanning input of any size: the input is read in chunks that overlap by more than the
//! longest value a rule can match, so memory stays bounded and nothing straddling a chunk
//! boundary is missed or reported twice.

use std::io::Read;

use crate::detector::{Detector, RawFinding};
use crate::error::{Error, Result};
use crate::finding::{mask, Finding, Fingerprinter};
use crate::Entity;

/// Bytes read per step.
const CHUNK: usize = 1 << 20;
/// Bytes carried into the next step; longer than any match (private keys reach 16 KiB).
const OVERLAP: usize = 64 << 10;
/// How much of the start of a file decides whether it is binary.
const BINARY_SNIFF: usize = 8 << 10;

/// What happened to one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// the whole input was scanned
    Scanned {
        /// bytes read
        bytes: u64,
    },
    /// a NUL byte near the start marked it as binary; nothing was reported
    Binary,
    /// the path is on the global allowlist
    Allowlisted,
}

/// Scans inputs with one detector and one fingerprint key.
pub struct Scanner<'d> {
    detector: &'d Detector,
    fingerprints: &'d Fingerprinter,
    min_score: f32,
    skip_binary: bool,
    entities: Option<Vec<Entity>>,
}

impl<'d> Scanner<'d> {
    /// A scanner reporting every finding.
    pub fn new(detector: &'d Detector, fingerprints: &'d Fingerprinter) -> Scanner<'d> {
        Scanner {
            detector,
            fingerprints,
            min_score: 0.0,
            skip_binary: true,
            entities: None,
        }
    }

    /// Drops findings scored below `min` (0–1).
    pub fn min_score(mut self, min: f32) -> Self {
        self.min_score = min;
        self
    }

    /// Reports only these entities; overlapping findings are settled among them alone
    /// ([`Detector::find_among`]).
    pub fn only(mut self, entities: &[Entity]) -> Self {
        self.entities = Some(entities.to_vec());
        self
    }

    /// Whether inputs that look binary are skipped (the default) or scanned anyway.
    pub fn skip_binary(mut self, skip: bool) -> Self {
        self.skip_binary = skip;
        self
    }

    /// Turns raw findings over `hay` (which starts at byte `base`, on line `line_at_base`)
    /// into findings; `lines` tracks (offset, line) as findings move forward.
    fn materialise(
        &self,
        hay: &[u8],
        base: u64,
        raw: &[RawFinding],
        path: &str,
        cursor: &mut LineCursor,
        sink: &mut dyn FnMut(Finding),
    ) {
        for f in raw {
            if f.score < self.min_score {
                continue;
            }
            let entity = self.detector.entity(f.rule);
            let value = &hay[f.start..f.end];
            let (line, column) = cursor.advance_to(hay, base, f.start);
            sink(Finding {
                rule: self.detector.rules()[f.rule].spec.id.clone(),
                entity,
                path: path.to_owned(),
                line,
                column,
                start: base + f.start as u64,
                end: base + f.end as u64,
                masked: mask(entity, value),
                fingerprint: self.fingerprints.fingerprint(entity, value),
                score: f.score,
            });
        }
    }

    /// Scans a whole in-memory input.
    pub fn scan_bytes(&self, bytes: &[u8], path: &str, sink: &mut dyn FnMut(Finding)) -> Outcome {
        if self.detector.path_ignored(path) {
            return Outcome::Allowlisted;
        }
        if self.skip_binary && looks_binary(bytes) {
            return Outcome::Binary;
        }
        let mut raw = self.detector.find_among(bytes, self.entities.as_deref());
        self.detector.filter_path(path, &mut raw);
        let mut cursor = LineCursor::default();
        self.materialise(bytes, 0, &raw, path, &mut cursor, sink);
        Outcome::Scanned {
            bytes: bytes.len() as u64,
        }
    }

    /// Streams `reader` through the detector in bounded memory, calling `sink` for each
    /// finding in input order.
    pub fn scan_reader(
        &self,
        mut reader: impl Read,
        path: &str,
        sink: &mut dyn FnMut(Finding),
    ) -> Result<Outcome> {
        if self.detector.path_ignored(path) {
            return Ok(Outcome::Allowlisted);
        }
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + OVERLAP);
        let mut base: u64 = 0;
        let mut cursor = LineCursor::default();
        let mut first = true;
        let mut total: u64 = 0;
        loop {
            let carried = buf.len();
            let eof = fill(&mut reader, &mut buf, CHUNK + carried)
                .map_err(Error::io(format!("reading {path}")))?;
            total += (buf.len() - carried) as u64;
            if first {
                first = false;
                if self.skip_binary && looks_binary(&buf) {
                    return Ok(Outcome::Binary);
                }
            }
            // Findings starting at or after `keep_from` are left for the next step, which
            // sees them whole; `keep_from` is a line start so context stays on its line.
            let keep_from = if eof {
                buf.len()
            } else {
                let limit = buf.len().saturating_sub(OVERLAP);
                memchr::memrchr(b'\n', &buf[..limit]).map_or(limit, |i| i + 1)
            };
            let mut raw = self.detector.find_among(&buf, self.entities.as_deref());
            raw.retain(|f| f.start < keep_from);
            self.detector.filter_path(path, &mut raw);
            self.materialise(&buf, base, &raw, path, &mut cursor, sink);
            if eof {
                return Ok(Outcome::Scanned { bytes: total });
            }
            cursor.rebase(&buf, base, keep_from);
            buf.drain(..keep_from);
            base += keep_from as u64;
        }
    }
}

/// Reads until `buf` holds `want` bytes or the input ends; answers whether it ended.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    while buf.len() < want {
        let start = buf.len();
        buf.resize(want, 0);
        match reader.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                return Ok(true);
            }
            Ok(n) => buf.truncate(start + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        }
    }
    Ok(false)
}

/// Whether the start of `bytes` holds a NUL, as git and ripgrep decide.
pub fn looks_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some()
}

/// Line numbers by counting newlines forward only, so a whole scan counts each byte once.
#[derive(Default)]
struct LineCursor {
    /// absolute offset the count has reached
    offset: u64,
    /// 0-based line at `offset`
    line: u64,
    /// absolute offset of that line's start
    line_start: u64,
}

impl LineCursor {
    fn advance_to(&mut self, hay: &[u8], base: u64, local: usize) -> (u64, u64) {
        let target = base + local as u64;
        if target > self.offset {
            let from = (self.offset - base) as usize;
            let segment = &hay[from..local];
            let newlines = memchr::memchr_iter(b'\n', segment).count() as u64;
            if let Some(last) = memchr::memrchr(b'\n', segment) {
                self.line_start = base + (from + last + 1) as u64;
            }
            self.line += newlines;
            self.offset = target;
        }
        (self.line + 1, target - self.line_start + 1)
    }

    fn rebase(&mut self, hay: &[u8], base: u64, keep_from: usize) {
        self.advance_to(hay, base, keep_from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Detector;

    fn scan_all(detector: &Detector, data: &[u8]) -> Vec<Finding> {
        let fp = Fingerprinter::new(&[7; 32]).unwrap();
        let scanner = Scanner::new(detector, &fp);
        let mut out = Vec::new();
        scanner
            .scan_reader(std::io::Cursor::new(data), "t", &mut |f| out.push(f))
            .unwrap();
        out
    }

    #[test]
    fn streaming_matches_whole_input_scan_across_chunk_boundaries() {
        let detector = Detector::builtin().unwrap();
        let fp = Fingerprinter::new(&[7; 32]).unwrap();
        let mut text = Vec::new();
        let mut expected_lines = Vec::new();
        let mut line = 1;
        // ~3.5 MiB with a card every ~37 KiB, some straddling the 1 MiB chunk edges.
        while text.len() < 3_500_000 {
            text.extend_from_slice(
                b"filler text that has nothing in it at all, just words\n"
                    .repeat(700)
                    .as_slice(),
            );
            line += 700;
            text.extend_from_slice(b"paid with card 4111 1111 1111 1111 today\n");
            expected_lines.push(line);
            line += 1;
        }
        let streamed = scan_all(&detector, &text);
        let mut whole = Vec::new();
        Scanner::new(&detector, &fp).scan_bytes(&text, "t", &mut |f| whole.push(f));
        assert_eq!(streamed, whole);
        assert_eq!(
            streamed.iter().map(|f| f.line).collect::<Vec<_>>(),
            expected_lines
        );
        for f in &streamed {
            assert_eq!(
                &text[f.start as usize..f.end as usize],
                b"4111 1111 1111 1111"
            );
            assert_eq!(f.column, 16);
        }
    }

    #[test]
    fn binary_input_is_skipped() {
        let detector = Detector::builtin().unwrap();
        let fp = Fingerprinter::new(&[7; 32]).unwrap();
        let scanner = Scanner::new(&detector, &fp);
        let data = b"\x00\x01ELF 4111111111111111";
        let outcome = scanner
            .scan_reader(&data[..], "bin", &mut |_| panic!("reported"))
            .unwrap();
        assert_eq!(outcome, Outcome::Binary);
    }
}
