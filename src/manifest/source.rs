//! Where in the manifest text a problem is, and how it is shown.

use std::fmt;
use std::ops::Range;

use super::Pos;

/// One problem in a manifest, at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pos: Pos,
    pub message: String,
    /// The manifest line the problem is on, for the caret display.
    pub source_line: String,
}

/// A manifest guard cannot use: exit 2, every problem listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// How the manifest is named in messages: a path, or "REV:path".
    pub label: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: {}",
                self.label, p.pos.line, p.pos.col, p.message
            )?;
            if !p.source_line.is_empty() {
                let width = p.pos.line.to_string().len();
                write!(
                    f,
                    "\n{:width$} |\n{} | {}\n{:width$} | {:>col$}",
                    "",
                    p.pos.line,
                    p.source_line,
                    "",
                    "^",
                    col = p.pos.col
                )?;
            }
        }
        Ok(())
    }
}

/// Maps byte offsets of the manifest text to line and column.
pub struct Source<'a> {
    text: &'a str,
    /// The last position asked for (offset, line, where that line starts):
    /// validation asks in the text's order, so each position is found by
    /// counting newlines from the last one, never from the top (which made
    /// validation quadratic in the zones).
    cursor: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> Source<'a> {
    pub fn new(text: &'a str) -> Self {
        Source {
            text,
            cursor: std::cell::Cell::new((0, 1, 0)),
        }
    }

    pub fn pos(&self, offset: usize) -> Pos {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let (mut from, mut line, mut line_start) = self.cursor.get();
        if offset < from {
            (from, line, line_start) = (0, 1, 0);
        }
        let between = &self.text.as_bytes()[from..offset];
        let newlines = count_newlines(between);
        if newlines > 0 {
            line += newlines;
            line_start = memchr::memrchr(b'\n', between).map_or(line_start, |i| from + i + 1);
        }
        self.cursor.set((offset, line, line_start));
        Pos {
            line,
            col: self.text[line_start..offset].chars().count() + 1,
        }
    }

    pub fn problem(&self, span: Range<usize>, message: impl Into<String>) -> Problem {
        let pos = self.pos(span.start);
        self.problem_at(pos, message)
    }

    pub fn problem_at(&self, pos: Pos, message: impl Into<String>) -> Problem {
        let source_line = self
            .text
            .lines()
            .nth(pos.line.saturating_sub(1))
            .unwrap_or("")
            .to_string();
        Problem {
            pos,
            message: message.into(),
            source_line,
        }
    }
}

/// The newlines in `b`, eight bytes at a time: a byte of `x` is zero where
/// `b` holds a newline, and its top bit is set in `zero` exactly then (no
/// carry crosses a byte: `(x & 0x7f) + 0x7f` stays below 0x100).
fn count_newlines(b: &[u8]) -> usize {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut chunks = b.chunks_exact(8);
    let mut n = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w) ^ 0x0a0a_0a0a_0a0a_0a0a;
        let zero = !(((x & LOW) + LOW) | x | LOW);
        // One bit per newline byte, summed by a multiplication.
        n += ((zero >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize;
    }
    n + chunks.remainder().iter().filter(|&&c| c == b'\n').count()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Newlines counted eight bytes at a time are those counted one by one.
        #[test]
        fn newlines_counted_by_words(b in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(0x8a_u8), Just(0x0b_u8), Just(0_u8), any::<u8>()], 0..40)) {
            prop_assert_eq!(count_newlines(&b), b.iter().filter(|&&c| c == b'\n').count());
        }

        /// Positions asked in any order are those of a scan from the top.
        #[test]
        fn positions_match_a_scan_from_the_top(
            text in "[aé\n]{0,40}",
            offsets in proptest::collection::vec(0usize..60, 1..8),
        ) {
            let src = Source::new(&text);
            for offset in offsets {
                let offset = offset.min(text.len());
                let before = &text[..floor_char_boundary(&text, offset)];
                let line = before.matches('\n').count() + 1;
                let start = before.rfind('\n').map_or(0, |i| i + 1);
                prop_assert_eq!(src.pos(offset), Pos { line, col: before[start..].chars().count() + 1 });
            }
        }
    }
}
