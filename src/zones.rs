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

/// Regions larger than this go to the real diff.
const QUICK_REGION_LIMIT: usize = 4096;

pub(crate) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 64 <= n && a[i..i + 64] == b[i..i + 64] {
        i += 64;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

fn common_suffix(a: &[u8], b: &[u8], limit: usize) -> usize {
    let mut k = 0;
    while k + 64 <= limit && a[a.len() - k - 64..a.len() - k] == b[b.len() - k - 64..b.len() - k] {
        k += 64;
    }
    while k < limit && a[a.len() - 1 - k] == b[b.len() - 1 - k] {
        k += 1;
    }
    k
}

fn newlines(data: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', data).count()
}

/// The line of `data` that starts at byte `at`.
fn line_at(data: &[u8], at: usize) -> &[u8] {
    match memchr::memchr(b'\n', &data[at..]) {
        Some(i) => &data[at..at + i + 1],
        None => &data[at..],
    }
}

/// Decide a zone without a diff when the change lies wholly above or below it.
///
/// After trimming the lines `old` and `new` share at both ends, the change is
/// confined to one region, except that git's diff may slide a hunk over lines
/// equal to its own (xdiff's compaction: a hunk moves up only while the line
/// above it equals its last line, down only while the line below equals its
/// first). So the answer is only given when the line bordering the region on
/// the zone's side equals no line of the region; otherwise `None` (run the diff).
///
/// `Some(shift)`: the zone is untouched and moves by `shift` lines.
pub fn outside_change(old: &[u8], new: &[u8], range: LineRange) -> Option<i64> {
    quick(old, new)?.outside(range)
}

/// What [`outside_change`] needs of a change, for any zone: computed once per
/// pair of blobs, answered per zone in constant time (a file with 100 zones
/// compared the whole file 100 times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quick {
    /// Common leading lines.
    p: usize,
    /// The first old line of the common trailing lines.
    suffix_first: usize,
    /// A zone ending within the leading lines is untouched.
    above: bool,
    /// A zone starting within the trailing lines is untouched…
    below: bool,
    /// …and moves by this many lines.
    shift: i64,
}

impl Quick {
    /// Whether a zone ends within the lines both files begin with.
    pub fn leading(&self, range: LineRange) -> bool {
        range.end as usize <= self.p
    }

    pub fn outside(&self, range: LineRange) -> Option<i64> {
        let (a, b) = (range.start as usize, range.end as usize);
        if b <= self.p {
            return self.above.then_some(0);
        }
        if a >= self.suffix_first && self.below {
            return Some(self.shift);
        }
        None
    }
}

/// The changed region of `old` → `new` bounded by common leading and
/// trailing lines; `None` when it is too large for the quick answer.
pub fn quick(old: &[u8], new: &[u8]) -> Option<Quick> {
    // Common leading lines: those ending inside the common leading bytes.
    let k = common_prefix(old, new);
    let p_bytes = old[..k]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let p = newlines(&old[..p_bytes]);
    // Common trailing lines: those starting (in both files) inside the common
    // trailing bytes, which must not reach into the leading lines.
    let limit = old.len().min(new.len()) - p_bytes;
    let k2 = common_suffix(old, new, limit);
    let mut pos = old.len() - k2;
    let shift_bytes = new.len() as i64 - old.len() as i64;
    loop {
        let new_pos = (pos as i64 + shift_bytes) as usize;
        let starts = |d: &[u8], at: usize| at == 0 || d[at - 1] == b'\n';
        if pos >= old.len() || (starts(old, pos) && starts(new, new_pos)) {
            break;
        }
        pos = match memchr::memchr(b'\n', &old[pos..]) {
            Some(i) => pos + i + 1,
            None => old.len(),
        };
    }
    let new_pos = (pos as i64 + shift_bytes) as usize;
    let (old_region, new_region) = (&old[p_bytes..pos], &new[p_bytes..new_pos]);
    if old_region.len() + new_region.len() > QUICK_REGION_LIMIT * 64 {
        return None;
    }
    let has_line = |region: &[u8], line: &[u8]| {
        let mut at = 0;
        while at < region.len() {
            let end = memchr::memchr(b'\n', &region[at..]).map_or(region.len(), |i| at + i + 1);
            if &region[at..end] == line {
                return true;
            }
            at = end;
        }
        false
    };
    let in_region = |line: &[u8]| has_line(old_region, line) || has_line(new_region, line);
    let above = p > 0 && {
        let prev_start = old[..p_bytes - 1]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        !in_region(&old[prev_start..p_bytes])
    };
    let suffix_first = p
        + newlines(old_region)
        + usize::from(!old_region.is_empty() && !old_region.ends_with(b"\n"))
        + 1;
    let below = pos < old.len() && !in_region(line_at(old, pos));
    // Used only when trailing lines follow the region: both regions then end
    // at a line start, and the files differ in lines by what the regions
    // hold (counted in the regions, not in the whole files).
    let shift = newlines(new_region) as i64 - newlines(old_region) as i64;
    Some(Quick {
        p,
        suffix_first,
        above,
        below,
        shift,
    })
}

/// A zone's lines `r` decided without a diff: untouched, moving by the
/// shift given, when `quick` says so, or, for a zone within the lines both
/// files begin with, when the lines no hunk can reach ([`settled`], asked
/// for only then) cover it. `None`: run the diff.
pub fn without_diff<E>(
    quick: Option<Quick>,
    r: LineRange,
    settled: impl FnOnce() -> Result<usize, E>,
) -> Result<Option<i64>, E> {
    if let Some(shift) = quick.and_then(|q| q.outside(r)) {
        return Ok(Some(shift));
    }
    if quick.is_none_or(|q| q.leading(r)) && settled()? >= r.end as usize {
        return Ok(Some(0));
    }
    Ok(None)
}

/// How many of the lines a zone-free change search tries (see [`settled`]).
const SETTLE_TRIES: usize = 8;

/// The number `m` of leading lines that no hunk of xdiff's diff of exactly
/// `old` and `new` can change or move: the largest `m` (among the last few
/// lines the two share at their start) whose line `m` occurs in neither
/// buffer after line `m`, or 0.
///
/// Why no hunk reaches line `m`: lines 1..=`m` are the same in both buffers,
/// so xdiff marks no line there changed before compacting (it trims the
/// common leading lines first). Compaction only ever changes a line above a
/// group by sliding the group up one line, which needs the line above it to
/// equal the group's last line. The first slide that would change line `m`
/// needs line `m` to equal a line below it, and it equals none. So every
/// changed line lies below line `m` in both buffers, the first `m` lines
/// stay paired with each other, and a zone within them is neither touched
/// nor moved (an insertion just after its last line does not touch it).
///
/// The search for line `m` below it is for "\n" followed by its text: any
/// line that starts with it counts, which can only say "occurs" more often.
pub fn settled(old: &[u8], new: &[u8]) -> usize {
    let k = common_prefix(old, new);
    // The common leading lines, whole (their newline included).
    let Some(last_newline) = memchr::memrchr(b'\n', &old[..k]) else {
        return 0;
    };
    let mut m = newlines(&old[..=last_newline]);
    let mut end = last_newline; // the newline that ends line m
    // A line equal to one found below it occurs below, at that line: a run
    // of equal lines is passed without a search, and without counting.
    let mut rejected: &[u8] = &[];
    let mut tries = 0;
    while tries < SETTLE_TRIES {
        let start = memchr::memrchr(b'\n', &old[..end]).map_or(0, |i| i + 1);
        let needle = &old[start.saturating_sub(1)..end];
        if start > 0 && needle == rejected {
            m -= 1;
            end = start - 1;
            continue;
        }
        tries += 1;
        // Line 1 has no newline before it: its text is searched after one.
        let needle: std::borrow::Cow<[u8]> = if start == 0 {
            [b"\n", &old[..end]].concat().into()
        } else {
            needle.into()
        };
        let found_below = |data: &[u8]| memchr::memmem::find(&data[end..], &needle).is_some();
        if !found_below(old) && !found_below(new) {
            return m;
        }
        if start == 0 {
            return 0;
        }
        rejected = &old[start - 1..end];
        m -= 1;
        end = start - 1;
    }
    0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn r(a: u32, b: u32) -> LineRange {
        LineRange::new(a, b).unwrap()
    }
    fn h(old_start: u32, old_lines: u32, new_start: u32, new_lines: u32) -> Hunk {
        Hunk::new(old_start, old_lines, new_start, new_lines)
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
