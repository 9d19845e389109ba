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
    /// Where each line starts: a position is a binary search, not a scan
    /// from the top (which made validation quadratic in the zones).
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        Source { text, line_starts }
    }

    pub fn pos(&self, offset: usize) -> Pos {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        // The last line start at or before `offset`.
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let line_start = self.line_starts[line.saturating_sub(1)];
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
        /// Positions from the line index are those of a scan from the top.
        #[test]
        fn positions_match_a_scan_from_the_top(text in "[aé\n]{0,40}", offset in 0usize..60) {
            let src = Source::new(&text);
            let offset = offset.min(text.len());
            let before = &text[..floor_char_boundary(&text, offset)];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            prop_assert_eq!(src.pos(offset), Pos { line, col: before[start..].chars().count() + 1 });
        }
    }
}
