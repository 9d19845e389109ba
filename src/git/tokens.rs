//! Two files rewritten as short lines that xdiff diffs exactly as it diffs
//! the files themselves, so that a diff hashes (and libgit2 SHA-1DC-hashes)
//! a fraction of the bytes.
//!
//! What xdiff reads of a line, with guard's options (Myers, the indent
//! heuristic, no whitespace or blank-line options, no function context):
//! - whether two lines are equal (every stage compares lines by their class:
//!   the trimming of common ends, the counts that set lines aside as too
//!   common, the Myers search, the sliding of hunks);
//! - how many lines there are (the "too common" limit is the square root of
//!   a file's line count);
//! - a line's indent as the indent heuristic measures it (`get_indent` in
//!   xdiffi.c: spaces count one column, a tab moves to the next multiple of
//!   8, other whitespace counts nothing, a line of whitespace only has none,
//!   200 columns at most).
//!
//! Each line becomes one line with the same indent and a number naming its
//! class (its exact bytes, newline included), in characters that are not
//! whitespace; a line of whitespace only becomes a line of whitespace only,
//! its class written with spaces and form feeds (no indent). Equal lines
//! get equal tokens and different lines different ones, the counts are
//! kept, and so are the indents: xdiff finds the same hunks, line for line
//! (`tests/diff_oracle.rs` holds both to git's own diff). Should a later
//! libgit2's xdiff read more of a line, `tokens_diff_as_the_lines_do` below
//! (tokens against the lines themselves) is the test that says so.

use std::collections::HashMap;

/// The indent heuristic's measure of a line: `None` for whitespace only.
fn indent(line: &[u8]) -> Option<usize> {
    const MAX_INDENT: usize = 200;
    let mut n = 0;
    for &c in line {
        match c {
            b' ' => n += 1,
            b'\t' => n += 8 - n % 8,
            // C's isspace in the "C" locale: the rest count nothing.
            b'\n' | b'\x0b' | b'\x0c' | b'\r' => {}
            _ => return Some(n),
        }
        if n >= MAX_INDENT {
            return Some(MAX_INDENT);
        }
    }
    None
}

const DIGITS: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/";

/// The token of `line`, of class `class`: at most 65 bytes (25 tabs, 7
/// spaces, 11 digits and a newline; or 64 bits of whitespace and a newline).
fn token(line: &[u8], class: u64) -> ([u8; 72], usize) {
    let mut buf = [0u8; 72];
    let mut len = 0;
    let mut put = |c: u8| {
        buf[len] = c;
        len += 1;
    };
    match indent(line) {
        Some(n) => {
            (0..n / 8).for_each(|_| put(b'\t'));
            (0..n % 8).for_each(|_| put(b' '));
            let mut v = class;
            loop {
                put(DIGITS[(v % 64) as usize]);
                v /= 64;
                if v == 0 {
                    break;
                }
            }
        }
        None => {
            // The class plus one in binary, most significant bit first
            // (always a form feed): at most 64 characters, so fewer than 64
            // columns, never the 200 that would make it an indent.
            let v = class + 1;
            for bit in (0..64 - v.leading_zeros()).rev() {
                put(if v >> bit & 1 == 1 { b'\x0c' } else { b' ' });
            }
        }
    }
    if line.ends_with(b"\n") {
        put(b'\n');
    }
    (buf, len)
}

/// `old` and `new` as tokens (see the module's documentation).
pub fn tokens(old: &[u8], new: &[u8]) -> (Vec<u8>, Vec<u8>) {
    // A hash seeded at random per map (foldhash's, several times faster
    // than std's SipHash here): lines crafted to collide under a fixed
    // hash cannot make this quadratic. Sized for lines of some 40 bytes.
    let mut classes: HashMap<&[u8], u64, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(old.len() / 40 + 16, Default::default());
    let (mut a, mut b) = (
        Vec::with_capacity(old.len() / 4),
        Vec::with_capacity(new.len() / 4),
    );
    // The lines both files begin with are looked up once for both.
    let shared = shared_lines(old, new);
    each_line(&old[..shared], |line| {
        let (t, n) = token(line, class_of(&mut classes, line));
        a.extend_from_slice(&t[..n]);
        b.extend_from_slice(&t[..n]);
    });
    each_line(&old[shared..], |line| {
        let (t, n) = token(line, class_of(&mut classes, line));
        a.extend_from_slice(&t[..n]);
    });
    each_line(&new[shared..], |line| {
        let (t, n) = token(line, class_of(&mut classes, line));
        b.extend_from_slice(&t[..n]);
    });
    (a, b)
}

fn class_of<'a>(
    classes: &mut HashMap<&'a [u8], u64, foldhash::fast::RandomState>,
    line: &'a [u8],
) -> u64 {
    let next = classes.len() as u64;
    *classes.entry(line).or_insert(next)
}

/// Each line of `data`, its newline included.
fn each_line<'a>(data: &'a [u8], mut f: impl FnMut(&'a [u8])) {
    let mut at = 0;
    while at < data.len() {
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i + 1);
        f(&data[at..end]);
        at = end;
    }
}

/// The length of the whole lines `old` and `new` begin with alike.
fn shared_lines(old: &[u8], new: &[u8]) -> usize {
    let same = crate::zones::common_prefix(old, new);
    old[..same]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_as_xdiff_measures_them() {
        assert_eq!(indent(b"x\n"), Some(0));
        assert_eq!(indent(b"  \tx"), Some(8));
        assert_eq!(indent(b"\t \tx\n"), Some(16));
        assert_eq!(indent(b" \r\x0bx"), Some(1));
        assert_eq!(indent(b" \t\r\n"), None);
        assert_eq!(indent(b""), None);
        assert_eq!(indent(&[b' '; 250]), Some(200));
        assert_eq!(indent(&[b'\t'; 26]), Some(200));
    }

    #[test]
    fn equal_lines_get_equal_tokens_and_others_differ() {
        let (a, b) = tokens(b"  x\n\ny\n \n", b"y\n  x\n \n\nz");
        let a: Vec<&[u8]> = a.split_inclusive(|&c| c == b'\n').collect();
        let b: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
        assert_eq!(a.len(), 4);
        assert_eq!(b.len(), 5);
        assert_eq!(a[0], b[1]);
        assert_eq!(a[2], b[0]);
        assert_eq!(a[1], b[3]);
        assert_eq!(a[3], b[2]);
        assert_ne!(a[1], a[3]);
        assert_eq!(indent(a[0]), Some(2));
        assert_eq!(indent(a[1]), None);
        assert_eq!(indent(a[3]), None);
        assert!(!b[4].ends_with(b"\n"));
    }
}

#[cfg(test)]
mod against_xdiff {
    use proptest::prelude::*;

    /// Lines that differ in what xdiff reads of them: indents of spaces,
    /// tabs and both, whitespace only of several kinds (one of more than
    /// 200 columns), carriage returns, and repeats, so that hunks slide.
    const LINES: [&[u8]; 14] = [
        b"\n",
        b"  \n",
        b"\t\r\n",
        b"}\n",
        b"\t}\n",
        b"        }\n",
        b"\treturn 0;\n",
        b" \t x = 1;\n",
        b"\x0b\x0cy\n",
        b"{\n",
        b"int f(void);\r\n",
        b"static int a_rather_long_function_name(void);\n",
        b"\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\tdeep\n",
        b"                                                                                                                                                                                                                    \n",
    ];

    fn text(lines: &[(u8, u8)]) -> Vec<u8> {
        lines
            .iter()
            .flat_map(|&(l, n)| std::iter::repeat_n(LINES[l as usize % LINES.len()], n as usize))
            .flatten()
            .copied()
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn tokens_diff_as_the_lines_do(
            old in proptest::collection::vec((0..14u8, 1..12u8), 0..40),
            edits in proptest::collection::vec((0..200usize, 0..4usize, proptest::collection::vec((0..14u8, 1..4u8), 0..3)), 0..5),
            cut in (any::<bool>(), any::<bool>()),
        ) {
            let old = text(&old);
            let mut lines: Vec<&[u8]> = old.split_inclusive(|&c| c == b'\n').collect();
            let extra: Vec<Vec<u8>> = edits.iter().map(|(_, _, ins)| text(ins)).collect();
            for ((at, del, _), ins) in edits.iter().zip(&extra) {
                let at = at % (lines.len() + 1);
                let end = (at + del).min(lines.len());
                let ins: Vec<&[u8]> = ins.split_inclusive(|&c| c == b'\n').collect();
                lines.splice(at..end, ins);
            }
            let (mut o, mut n) = (old.clone(), lines.concat());
            // Sometimes the last line has no newline.
            if cut.0 { o.pop(); }
            if cut.1 { n.pop(); }
            let (a, b) = super::tokens(&o, &n);
            prop_assert_eq!(
                crate::git::diff::libgit2_hunks(&a, &b).expect("libgit2 diffs buffers"),
                crate::git::diff::libgit2_hunks(&o, &n).expect("libgit2 diffs buffers")
            );
        }
    }
}
