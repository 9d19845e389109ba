//! Property tests of the zone arithmetic against a brute-force model that
//! tracks line identities through random edits.

use guard::change::Hunk;
use guard::manifest::LineRange;
use guard::zones::{hunk_touches, map_range};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Old(u32),
    New(u32),
}

#[derive(Debug, Clone)]
enum Op {
    Insert(usize, u32),
    Delete(usize, usize),
    Replace(usize, usize, u32),
}

fn apply(n: u32, ops: &[Op]) -> Vec<Line> {
    let mut v: Vec<Line> = (1..=n).map(Line::Old).collect();
    let mut fresh = 0;
    let mut new_lines = |k: u32| {
        (0..k)
            .map(|_| {
                fresh += 1;
                Line::New(fresh)
            })
            .collect::<Vec<_>>()
    };
    for op in ops {
        match *op {
            Op::Insert(at, k) => {
                let at = at % (v.len() + 1);
                let ins = new_lines(k);
                v.splice(at..at, ins);
            }
            Op::Delete(at, k) if !v.is_empty() => {
                let at = at % v.len();
                let end = (at + k).min(v.len());
                v.drain(at..end);
            }
            Op::Replace(at, k, m) if !v.is_empty() => {
                let at = at % v.len();
                let end = (at + k).min(v.len());
                let ins = new_lines(m);
                v.splice(at..end, ins);
            }
            _ => {}
        }
    }
    v
}

/// Zero-context hunks as git reports them for unique lines.
fn hunks(n: u32, new: &[Line]) -> Vec<Hunk> {
    let surviving: Vec<bool> = (1..=n).map(|i| new.contains(&Line::Old(i))).collect();
    let mut out = Vec::new();
    let (mut i, mut j) = (0usize, 0usize); // 0-based cursors in old and new
    while i < n as usize || j < new.len() {
        if j < new.len() && new[j] == Line::Old(i as u32 + 1) {
            i += 1;
            j += 1;
            continue;
        }
        let mut s = i;
        while s < n as usize && !surviving[s] {
            s += 1;
        }
        let mut t = j;
        while t < new.len() && matches!(new[t], Line::New(_)) {
            t += 1;
        }
        let (del, ins) = ((s - i) as u32, (t - j) as u32);
        out.push(Hunk {
            old_start: if del > 0 { i as u32 + 1 } else { i as u32 },
            old_lines: del,
            new_start: if ins > 0 { j as u32 + 1 } else { j as u32 },
            new_lines: ins,
        });
        i = s;
        j = t;
    }
    out
}

/// A zone of a file of `n` lines (clamped into it), the file after `ops`,
/// and the hunks between the two.
fn case(n: u32, zone: (u32, u32), ops: &[Op]) -> (u32, u32, LineRange, Vec<Line>, Vec<Hunk>) {
    let a = zone.0.min(n);
    let b = (a + zone.1).min(n);
    let new = apply(n, ops);
    let hs = hunks(n, &new);
    (a, b, LineRange::new(a, b).unwrap(), new, hs)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..60usize, 1..4u32).prop_map(|(a, k)| Op::Insert(a, k)),
        (0..60usize, 1..5usize).prop_map(|(a, k)| Op::Delete(a, k)),
        (0..60usize, 1..4usize, 1..4u32).prop_map(|(a, k, m)| Op::Replace(a, k, m)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn touched_zones_match_the_model(
        n in 1..40u32,
        zone in (1..40u32, 0..12u32),
        ops in proptest::collection::vec(op(), 0..4),
    ) {
        let (a, b, range, new, hs) = case(n, zone, &ops);
        let touched = hs.iter().any(|h| hunk_touches(h, range));
        // Model: untouched iff every zone line survives and they stay contiguous.
        let positions: Vec<usize> = (a..=b)
            .filter_map(|l| new.iter().position(|x| *x == Line::Old(l)))
            .collect();
        let intact = positions.len() == (b - a + 1) as usize
            && positions.windows(2).all(|w| w[1] == w[0] + 1);
        prop_assert_eq!(touched, !intact, "hunks {:?} new {:?}", hs, new);
    }

    #[test]
    fn a_moved_zone_covers_exactly_its_code(
        n in 1..40u32,
        zone in (1..40u32, 0..12u32),
        ops in proptest::collection::vec(op(), 0..4),
    ) {
        let (a, b, range, new, hs) = case(n, zone, &ops);
        let mapped = map_range(&hs, range);
        let survivors: Vec<u32> = (a..=b)
            .filter_map(|l| new.iter().position(|x| *x == Line::Old(l)).map(|p| p as u32 + 1))
            .collect();
        match mapped {
            None => prop_assert!(survivors.is_empty(), "lost surviving lines {:?}", survivors),
            Some(m) => {
                prop_assert!(m.end as usize <= new.len(), "{:?} past the end ({})", m, new.len());
                for s in &survivors {
                    prop_assert!(m.start <= *s && *s <= m.end, "{:?} misses line {}", m, s);
                }
                // No surviving line from outside the zone is inside the moved range.
                for p in m.start..=m.end {
                    if let Line::Old(o) = new[p as usize - 1] {
                        prop_assert!(a <= o && o <= b, "{:?} holds old line {} from outside {:?}", m, o, range);
                    }
                }
            }
        }
        if !hs.iter().any(|h| hunk_touches(h, range)) {
            // An untouched zone moves by a pure shift and keeps its length.
            let m = mapped.unwrap();
            prop_assert_eq!(m.len(), range.len());
        }
    }
}

/// Zero-context hunks from libgit2's xdiff, as guard computes them.
/// Hunks as guard's own diff finds them (not a copy of its options).
fn xdiff_hunks(old: &[u8], new: &[u8]) -> Vec<Hunk> {
    guard::git::buffer_hunks(old, new).unwrap()
}

fn text(lines: &[u8]) -> Vec<u8> {
    // A tiny alphabet makes runs of equal lines, where git's diff slides hunks.
    lines
        .iter()
        .flat_map(|&l| [b"a\n".as_slice(), b"b\n", b"\n", b"}\n"][l as usize % 4].to_vec())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_quick_path_agrees_with_the_diff(
        old in proptest::collection::vec(0..4u8, 1..30),
        at in 0..30usize,
        del in 0..3usize,
        ins in proptest::collection::vec(0..4u8, 0..3),
        zone in (1..30u32, 0..6u32),
        cut in (any::<bool>(), any::<bool>()),
        tail in prop_oneof![Just(0usize), 400..700usize],
    ) {
        let mut new = old.clone();
        let at = at % (new.len() + 1);
        let end = (at + del).min(new.len());
        new.splice(at..end, ins);
        // Sometimes a common tail of more than 1 KiB of "}" lines, which
        // git's diff cuts before diffing: hunks may slide up to the cut.
        let (mut old, new) = (old, new);
        old.extend(std::iter::repeat_n(3, tail));
        let mut new = new;
        new.extend(std::iter::repeat_n(3, tail));
        let (mut o, mut n) = (text(&old), text(&new));
        // Sometimes the last line has no newline.
        if cut.0 && o.ends_with(b"a\n") { o.pop(); }
        if cut.1 && n.ends_with(b"a\n") { n.pop(); }
        prop_assume!(o != n);
        let a = zone.0.min(old.len() as u32);
        let b = (a + zone.1).min(old.len() as u32);
        let range = LineRange::new(a, b).unwrap();
        if let Some(shift) = guard::zones::outside_change(&o, &n, range) {
            let hunks = xdiff_hunks(&o, &n);
            prop_assert!(!hunks.iter().any(|h| hunk_touches(h, range)), "quick path missed a touch: {:?}", hunks);
            let moved = map_range(&hunks, range).unwrap();
            prop_assert_eq!(i64::from(moved.start), i64::from(a) + shift);
            prop_assert_eq!(i64::from(moved.end), i64::from(b) + shift);
        }
    }
}

/// Lines of a small alphabet ("}", blank, "a") mixed with lines that occur
/// once (`u{i}`), and insertions that copy an earlier line: the lines
/// bordering a change often repeat in it or below it.
fn mixed_text(lines: &[u16]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|&l| match l % 8 {
            0 | 1 => b"}\n".to_vec(),
            2 => b"\n".to_vec(),
            3 => b"a\n".to_vec(),
            _ => format!("u{}\n", l / 8).into_bytes(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// The lines no hunk can reach ([`guard::git::settled_lines`]): guard's
    /// own diff changes none of them and moves none, whatever the edits
    /// below them (several, copies of earlier lines among them), with or
    /// without a common tail git's diff cuts, with or without a last newline.
    #[test]
    fn no_hunk_reaches_the_settled_lines(
        old in proptest::collection::vec(0..400u16, 1..40),
        edits in proptest::collection::vec((0..40usize, 0..3usize, proptest::collection::vec(0..400u16, 0..3), any::<bool>()), 1..4),
        tail in prop_oneof![Just(0usize), 600..900usize],
        cut in (any::<bool>(), any::<bool>()),
    ) {
        let mut new = old.clone();
        for (at, del, ins, copy) in edits {
            let at = at % (new.len() + 1);
            let end = (at + del).min(new.len());
            // Sometimes the inserted lines are copies of the line above.
            let ins: Vec<u16> = if copy && at > 0 { vec![new[at - 1]; ins.len().max(1)] } else { ins };
            new.splice(at..end, ins);
        }
        let (mut old, mut new) = (old, new);
        old.extend(std::iter::repeat_n(0, tail));
        new.extend(std::iter::repeat_n(0, tail));
        let (mut o, mut n) = (mixed_text(&old), mixed_text(&new));
        if cut.0 { o.pop(); }
        if cut.1 { n.pop(); }
        prop_assume!(o != n);
        let m = guard::git::settled_lines(&o, &n) as u32;
        let hunks = xdiff_hunks(&o, &n);
        for h in &hunks {
            // A hunk's lines, or for an insertion (deletion) the line it
            // follows, lie below line m on both sides.
            let old_first = if h.old_lines == 0 { h.old_start + 1 } else { h.old_start };
            let new_first = if h.new_lines == 0 { h.new_start + 1 } else { h.new_start };
            prop_assert!(old_first > m && new_first > m, "line {} settled, yet {:?}", m, hunks);
        }
        if m > 0 {
            let r = LineRange::new(1, m).unwrap();
            prop_assert!(!hunks.iter().any(|h| hunk_touches(h, r)));
            prop_assert_eq!(map_range(&hunks, r), Some(r));
        }
    }
}
