//! guard's hunks against git's own: `git diff --no-index -U0` is the oracle.
//!
//! git diffs with zero context on inputs whose common tail it has cut (in
//! 1 KiB blocks, back to a line's end), so where a hunk may slide over equal
//! lines, the cut decides where git shows it. Files here are a few KiB of a
//! small alphabet of lines, with edits near their ends, so that hunks slide
//! across the cut.

use std::sync::{Mutex, OnceLock};

use guard::change::Hunk;
use proptest::prelude::*;

use crate::common::Repo;

static REPO: OnceLock<Mutex<Repo>> = OnceLock::new();

const LINES: [&[u8]; 6] = [
    b"\n",
    b"}\n",
    b"\t}\n",
    b"\treturn 0;\n",
    b"static int a_rather_long_function_name(struct repository *r);\n",
    b"{\n",
];

fn text(lines: &[u8]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|&l| LINES[l as usize % LINES.len()].to_vec())
        .collect()
}

/// Lines in runs of one kind, long runs among them: hunks slide along runs.
fn runs(runs: &[(u8, usize)]) -> Vec<u8> {
    runs.iter()
        .flat_map(|&(l, n)| std::iter::repeat_n(l, n))
        .collect()
}

/// Hunks from `git diff --no-index -U0` of two files.
fn git_hunks(old: &[u8], new: &[u8]) -> Vec<Hunk> {
    // One directory for all cases, one case at a time.
    let r = REPO
        .get_or_init(|| Mutex::new(Repo::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    std::fs::write(r.file("old"), old).unwrap();
    std::fs::write(r.file("new"), new).unwrap();
    let out = r.git_run(&[
        "diff",
        "--no-index",
        "--no-color",
        "-U0",
        "--indent-heuristic",
        "--diff-algorithm=myers",
        "--text",
        "old",
        "new",
    ]);
    assert!(out.code <= 1, "git diff failed: {out:?}");
    let range = |s: &str| -> (u32, u32) {
        match s.split_once(',') {
            Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
            None => (s.parse().unwrap(), 1),
        }
    };
    out.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("@@ -"))
        .map(|l| {
            let mut parts = l.split(' ');
            let (os, ol) = range(parts.next().unwrap());
            let (ns, nl) = range(parts.next().unwrap().trim_start_matches('+'));
            Hunk::new(os, ol, ns, nl)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn hunks_are_those_git_diff_shows(
        old in proptest::collection::vec((0..6u8, 1..300usize), 1..12),
        edits in proptest::collection::vec((0..400usize, 0..3usize, proptest::collection::vec(0..6u8, 0..4)), 1..4),
        cut in any::<bool>(),
    ) {
        let old = runs(&old);
        let mut new = old.clone();
        for (back, del, ins) in edits {
            // Near the end: counted back from the last line.
            let at = new.len().saturating_sub(back);
            let end = (at + del).min(new.len());
            new.splice(at..end, ins);
        }
        let (o, mut n) = (text(&old), text(&new));
        if cut && n.ends_with(b"\n") {
            n.pop();
        }
        prop_assume!(o != n);
        prop_assert_eq!(guard::git::buffer_hunks(&o, &n).unwrap(), git_hunks(&o, &n));
    }
}

/// A hunk git shows above the cut of the common tail, where the whole files
/// would let it slide below: the files differ by one inserted "}" line, and
/// the common tail starts with more of them.
#[test]
fn a_hunk_that_could_slide_is_shown_where_git_shows_it() {
    let head = "static int a_rather_long_function_name(struct repository *r);\n".repeat(4);
    let tail = "}\n".repeat(600);
    let old = format!("{head}{tail}");
    let new = format!("{head}}}\n{tail}");
    let want = git_hunks(old.as_bytes(), new.as_bytes());
    assert_eq!(
        guard::git::buffer_hunks(old.as_bytes(), new.as_bytes()).unwrap(),
        want
    );
}
