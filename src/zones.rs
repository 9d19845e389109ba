//! Pure line arithmetic: which zone lines a change touches, and where a zone's
//! lines go after the change (drift).

use crate::change::Hunk;
use crate::manifest::LineRange;

/// Does `hunk` touch the zone `range` (contract section 4, rules 1 and 2)?
pub fn hunk_touches(hunk: &Hunk, range: LineRange) -> bool {
    if hunk.old_lines == 0 {
        // Inserted after line old_start: inside only strictly between two zone lines.
        range.start <= hunk.old_start && hunk.old_start < range.end
    } else {
        hunk.old_start <= range.end && range.start <= hunk.old_end()
    }
}

/// The hunks of a file's change that touch `range`.
pub fn touching(hunks: &[Hunk], range: LineRange) -> Vec<Hunk> {
    hunks
        .iter()
        .filter(|h| hunk_touches(h, range))
        .copied()
        .collect()
}

/// Where an old line that survives the change ends up.
fn map_surviving(hunks: &[Hunk], line: u32) -> u32 {
    let mut shift: i64 = 0;
    for h in hunks {
        let before = if h.old_lines == 0 {
            h.old_start < line
        } else {
            h.old_end() < line
        };
        if before {
            shift += i64::from(h.new_lines) - i64::from(h.old_lines);
        }
    }
    (i64::from(line) + shift).max(1) as u32
}

fn deleting_hunk(hunks: &[Hunk], line: u32) -> Option<&Hunk> {
    hunks
        .iter()
        .find(|h| h.old_lines > 0 && h.old_start <= line && line <= h.old_end())
}

/// Where the zone `range` lies after the change described by `hunks` (sorted, zero
/// context). Lines inserted inside the zone belong to it; a replaced edge line is
/// replaced by the replacement's edge. `None`: every line of the zone was deleted.
pub fn map_range(hunks: &[Hunk], range: LineRange) -> Option<LineRange> {
    let start = match deleting_hunk(hunks, range.start) {
        None => map_surviving(hunks, range.start),
        Some(h) if h.new_lines > 0 => h.new_start,
        Some(h) => h.new_start + 1,
    };
    let end = match deleting_hunk(hunks, range.end) {
        None => map_surviving(hunks, range.end),
        Some(h) if h.new_lines > 0 => h.new_start + h.new_lines - 1,
        Some(h) => h.new_start,
    };
    LineRange::new(start, end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn r(a: u32, b: u32) -> LineRange {
        LineRange::new(a, b).unwrap()
    }
    fn h(old_start: u32, old_lines: u32, new_start: u32, new_lines: u32) -> Hunk {
        Hunk {
            old_start,
            old_lines,
            new_start,
            new_lines,
        }
    }

    #[test]
    fn insertions_at_the_edges_do_not_touch() {
        assert!(!hunk_touches(&h(4, 0, 5, 2), r(5, 10)));
        assert!(!hunk_touches(&h(10, 0, 11, 2), r(5, 10)));
        assert!(hunk_touches(&h(5, 0, 6, 2), r(5, 10)));
        assert!(hunk_touches(&h(9, 0, 10, 2), r(5, 10)));
    }

    #[test]
    fn drift_follows_insertions_above() {
        assert_eq!(map_range(&[h(0, 0, 1, 3)], r(5, 184)), Some(r(8, 187)));
        assert_eq!(map_range(&[h(7, 0, 8, 2)], r(5, 10)), Some(r(5, 12)));
        assert_eq!(map_range(&[h(5, 6, 4, 0)], r(5, 10)), None);
    }
}
