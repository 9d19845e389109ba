//! The owned model of a change: which files changed and how. Plain data,
//! produced by [`crate::git`] and consumed by everything above it.

/// A git object id, as hex.
pub type ObjectId = String;

/// A file mode as git records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Executable,
    Symlink,
    Submodule,
}

impl Kind {
    /// Type changes are file ↔ symlink ↔ submodule; the executable bit is a mode change.
    pub fn same_type(self, other: Kind) -> bool {
        let norm = |k| if k == Kind::Executable { Kind::File } else { k };
        norm(self) == norm(other)
    }
}

/// One side of a file change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: ObjectId,
    pub kind: Kind,
}

/// A file that differs between the base and the new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub old: Option<Entry>,
    pub new: Option<Entry>,
    /// Where git's rename detection says a deleted file went.
    pub renamed_to: Option<String>,
}

impl FileChange {
    pub fn is_deleted(&self) -> bool {
        self.new.is_none()
    }

    pub fn is_added(&self) -> bool {
        self.old.is_none()
    }

    pub fn content_changed(&self) -> bool {
        match (&self.old, &self.new) {
            (Some(o), Some(n)) => o.id != n.id,
            _ => true,
        }
    }

    pub fn type_changed(&self) -> bool {
        match (&self.old, &self.new) {
            (Some(o), Some(n)) => !o.kind.same_type(n.kind),
            _ => false,
        }
    }
}

/// A zero-context hunk, as git numbers it: a pure insertion has `old_lines == 0`
/// and `old_start` = the line it follows; a pure deletion has `new_lines == 0`
/// and `new_start` = the new line before the gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
}

impl Hunk {
    pub const fn new(old_start: u32, old_lines: u32, new_start: u32, new_lines: u32) -> Hunk {
        Hunk {
            old_start,
            old_lines,
            new_start,
            new_lines,
        }
    }

    pub fn old_end(&self) -> u32 {
        self.old_start + self.old_lines.saturating_sub(1)
    }
}

/// Lines as git counts them: a last line without a newline is still a line.
pub fn count_lines(data: &[u8]) -> usize {
    let newlines = data.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(!data.is_empty() && data.last() != Some(&b'\n'))
}

/// git's binary heuristic: a NUL byte in the first 8000 bytes.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(8000)]).is_some()
}

/// Where line `start` (1-based) begins in `data` (`data.len()` past the end).
fn line_start(data: &[u8], start: u32) -> usize {
    // Found with memchr (a byte-by-byte split was most of an audit's time on
    // long files).
    let skip = start.saturating_sub(1) as usize;
    if skip == 0 {
        return 0;
    }
    match memchr::memchr_iter(b'\n', data).nth(skip - 1) {
        Some(nl) => nl + 1,
        None => data.len(),
    }
}

/// The raw bytes of lines `start..=end` (1-based) of `data`, line endings
/// included as stored; empty when `end < start`.
pub fn line_bytes(data: &[u8], start: u32, end: u32) -> &[u8] {
    if end < start || start == 0 {
        return &[];
    }
    let from = line_start(data, start);
    let count = (end - start + 1) as usize;
    let to = match memchr::memchr_iter(b'\n', &data[from..]).nth(count - 1) {
        Some(nl) => from + nl + 1,
        None => data.len(),
    };
    &data[from..to]
}

/// The text of lines `start..=end` (1-based) of `data`, lossily decoded.
pub fn line_text(data: &[u8], start: u32, end: u32) -> Vec<String> {
    let from = line_start(data, start);
    data[from..]
        .split_inclusive(|&b| b == b'\n')
        .take((end + 1).saturating_sub(start) as usize)
        .map(shown_line)
        .collect()
}

/// One line as a report shows it: without its line ending, lossily decoded.
fn shown_line(l: &[u8]) -> String {
    let l = l.strip_suffix(b"\n").unwrap_or(l);
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    String::from_utf8_lossy(l).into_owned()
}

/// How many lines `data` holds (a last line without its newline counts).
pub fn line_count(data: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', data).count() + usize::from(data.last().is_some_and(|&b| b != b'\n'))
}

/// Where the lines of one blob end, found once and only as far as asked:
/// many ranges of its lines are then cut without rescanning it from the
/// start (a file touched by many zones, each with many hunks, made that
/// quadratic), and a hunk near the top of a large file does not scan the
/// rest of it.
pub struct Lines {
    newlines: std::cell::RefCell<Vec<usize>>,
    /// How far the blob has been scanned for newlines, and how much more
    /// each time more is needed.
    scanned: std::cell::Cell<usize>,
    chunk: usize,
    len: usize,
}

impl Lines {
    pub fn of(data: &[u8]) -> Lines {
        Lines::in_chunks(data, 16 * 1024)
    }

    fn in_chunks(data: &[u8], chunk: usize) -> Lines {
        Lines {
            newlines: std::cell::RefCell::new(Vec::new()),
            scanned: std::cell::Cell::new(0),
            chunk: chunk.max(1),
            len: data.len(),
        }
    }

    /// The offset of the `k`th newline (0-based) of `data`, if it has one.
    fn newline(&self, data: &[u8], k: usize) -> Option<usize> {
        let mut found = self.newlines.borrow_mut();
        while found.len() <= k && self.scanned.get() < self.len {
            let from = self.scanned.get();
            let to = (from + self.chunk).min(self.len);
            found.extend(memchr::memchr_iter(b'\n', &data[from..to]).map(|i| from + i));
            self.scanned.set(to);
        }
        found.get(k).copied()
    }

    /// Where line `n` (1-based) starts, as [`line_start`] finds it.
    fn start(&self, data: &[u8], n: u64) -> usize {
        match n {
            0 | 1 => 0,
            k => usize::try_from(k - 2)
                .ok()
                .and_then(|k| self.newline(data, k))
                .map_or(self.len, |p| p + 1),
        }
    }

    /// Where line `n` (1-based) ends, its newline included.
    fn end(&self, data: &[u8], n: u64) -> usize {
        n.checked_sub(1)
            .and_then(|k| usize::try_from(k).ok())
            .and_then(|k| self.newline(data, k))
            .map_or(self.len, |p| p + 1)
    }

    /// [`line_bytes`] of `data`, the blob these are the lines of.
    pub fn bytes<'a>(&self, data: &'a [u8], start: u32, end: u32) -> &'a [u8] {
        if end < start || start == 0 {
            return &[];
        }
        &data[self.start(data, start.into())..self.end(data, end.into())]
    }

    /// [`line_text`] of `data`, the blob these are the lines of.
    pub fn text(&self, data: &[u8], start: u32, end: u32) -> Vec<String> {
        let count = (u64::from(end) + 1).saturating_sub(start.into());
        if count == 0 {
            return Vec::new();
        }
        let first = u64::from(start.max(1));
        let last = first + count - 1;
        data[self.start(data, first)..self.end(data, last)]
            .split_inclusive(|&b| b == b'\n')
            .map(shown_line)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::line_text;
    use proptest::prelude::*;

    /// The lines of `data` one by one, as a person would count them.
    fn model(data: &[u8], start: u32, end: u32) -> Vec<String> {
        let text = String::from_utf8_lossy(data);
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        lines.retain(|l| !l.is_empty());
        (start..=end)
            .filter_map(|n| lines.get(n as usize - 1))
            .map(|l| {
                let l = l.strip_suffix('\n').unwrap_or(l);
                l.strip_suffix('\r').unwrap_or(l).to_string()
            })
            .collect()
    }

    proptest! {
        #[test]
        fn line_bytes_are_the_model_lines(
            text in "[ab\r\n]{0,60}",
            start in 1u32..25,
            len in 0u32..25,
        ) {
            let end = start + len;
            let lines: Vec<&[u8]> = text.as_bytes().split_inclusive(|&b| b == b'\n').collect();
            let want: Vec<u8> = (start..=end)
                .filter_map(|n| lines.get(n as usize - 1))
                .flat_map(|l| l.iter().copied())
                .collect();
            prop_assert_eq!(super::line_bytes(text.as_bytes(), start, end), &want[..]);
        }

        #[test]
        fn an_index_of_lines_cuts_what_a_scan_cuts(
            text in "[ab\r\n]{0,60}",
            chunk in 1usize..20,
            ranges in proptest::collection::vec((0u32..25, 0u32..25, 0u32..3), 1..4),
        ) {
            let data = text.as_bytes();
            // Scanned a few bytes at a time, ranges asked in any order.
            let lines = super::Lines::in_chunks(data, chunk);
            for (start, len, back) in ranges {
                // `end` may fall before `start`: both then give nothing.
                let end = (start + len).saturating_sub(back);
                prop_assert_eq!(lines.bytes(data, start, end), super::line_bytes(data, start, end));
                prop_assert_eq!(lines.text(data, start, end), line_text(data, start, end));
                prop_assert_eq!(
                    super::line_count(lines.bytes(data, start, end)),
                    if start == 0 { 0 } else { line_text(data, start, end).len() }
                );
            }
        }

        #[test]
        fn line_text_matches_the_model(
            text in "[ab\r\n]{0,60}",
            start in 1u32..25,
            len in 0u32..25,
        ) {
            let end = start + len;
            prop_assert_eq!(line_text(text.as_bytes(), start, end), model(text.as_bytes(), start, end));
        }
    }
}
