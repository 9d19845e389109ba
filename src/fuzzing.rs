//! Entry points of the fuzz targets (`fuzz/`), also replayed over their seed
//! corpora by `cargo test`: each parser must return, never panic, and keep its
//! invariants on whatever bytes it is given.

use crate::git::graph::{BloomKey, CommitGraph};
use crate::git::index;
use crate::{manifest, trailers};

pub fn manifest(text: &str) {
    // The quick reader reads nothing otherwise than toml (differential).
    if let Some(quick) = manifest::quick::read(text) {
        match toml::from_str::<manifest::raw::RawManifest>(text) {
            Ok(m) => assert_eq!(format!("{quick:?}"), format!("{m:?}")),
            Err(e) => panic!("the quick reader read what toml refuses: {e}"),
        }
    }
    match manifest::parse(text, "fuzz.toml") {
        Ok(m) => {
            for z in m.zones.iter() {
                if let Some(r) = z.lines {
                    assert!(r.start >= 1 && r.start <= r.end);
                }
            }
        }
        Err(e) => assert!(!e.problems.is_empty()),
    }
}

pub fn trailers(text: &str) {
    for t in trailers::parse(text) {
        assert!(!t.key.is_empty());
        assert_eq!(t.value.trim(), t.value);
    }
    let cleaned = trailers::cleanup(text, "#");
    assert!(!cleaned.lines().any(|l| l.starts_with('#')));
}

pub fn index(data: &[u8]) {
    if let Ok(Some(index)) = index::parse(data) {
        for e in index.entries() {
            assert!(e.stage <= 3);
        }
    }
}

pub fn range(text: &str) {
    if let Some(r) = manifest::validate::parse_range(text) {
        assert!(r.start >= 1 && r.start <= r.end);
        assert_eq!(manifest::validate::parse_range(&r.to_string()), Some(r));
    }
}

pub fn commit_graph(data: &[u8]) {
    let Some(g) = CommitGraph::from_bytes(data.to_vec()) else {
        return;
    };
    let keys = [BloomKey::new("src/main.rs"), BloomKey::new("é")];
    for pos in 0..g.len().min(4096) {
        assert_eq!(g.id(pos).len(), 20);
        assert_eq!(g.tree(pos).len(), 20);
        if let Some(p) = g.first_parent(pos) {
            assert!(p < g.len());
        }
        let _ = g.unchanged(pos, &keys);
        let _ = g.position(g.id(pos));
    }
}

/// Tree checks: a tree checked against another already checked gets the
/// answer of checking it from scratch. The input is two raw trees, the first
/// byte saying where the first ends (in 8-byte steps).
pub fn trees(data: &[u8]) {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = (usize::from(split) * 8).min(rest.len());
    let (old, new) = rest.split_at(at);
    let full = crate::git::tree_check::check(new);
    if let Ok(offsets) = &full {
        assert!(offsets.windows(2).all(|w| w[0] < w[1]));
    }
    if let Ok(old_offsets) = crate::git::tree_check::check(old) {
        assert_eq!(
            crate::git::tree_check::check_after(new, old, &old_offsets),
            full
        );
    }
}

pub use crate::git::oracle::{index_vs_libgit2, trees_vs_libgit2};
