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

/// git's delta format: guard's application against a model that decodes
/// the operations first and then runs them (git's `patch_delta` rules: the
/// base of the size named, copies within it, a copy of 0 meaning 0x10000,
/// command 0 refused, the result of exactly the size named).
pub fn delta(data: &[u8]) {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = (usize::from(split) * 4).min(rest.len());
    let (base, delta) = rest.split_at(at);
    let limit = 1 << 20;
    let ours = crate::git::apply_delta(base, delta, limit);
    assert_eq!(ours.as_deref(), delta_model(base, delta, limit).as_deref());
}

fn delta_model(base: &[u8], delta: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut bytes = delta.iter().copied();
    let mut size = || -> Option<u64> {
        let mut value: u128 = 0;
        for i in 0..10 {
            let b = bytes.next()?;
            value |= u128::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return u64::try_from(value).ok();
            }
        }
        None
    };
    let (from, to) = (size()?, size()?);
    if from != base.len() as u64 || to > limit as u64 {
        return None;
    }
    enum Op {
        Copy(usize, usize),
        Insert(Vec<u8>),
    }
    let mut ops = Vec::new();
    while let Some(cmd) = bytes.next() {
        if cmd == 0 {
            return None;
        }
        if cmd & 0x80 == 0 {
            let insert: Vec<u8> = bytes.by_ref().take(usize::from(cmd)).collect();
            if insert.len() != usize::from(cmd) {
                return None;
            }
            ops.push(Op::Insert(insert));
            continue;
        }
        let mut field = |bits: std::ops::Range<u32>| -> Option<usize> {
            let mut v = 0usize;
            for (k, bit) in bits.enumerate() {
                if cmd & (1 << bit) != 0 {
                    v |= usize::from(bytes.next()?) << (8 * k);
                }
            }
            Some(v)
        };
        let offset = field(0..4)?;
        let len = match field(4..7)? {
            0 => 0x10000,
            n => n,
        };
        ops.push(Op::Copy(offset, len));
    }
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::Copy(offset, len) => out.extend_from_slice(base.get(offset..offset + len)?),
            Op::Insert(bytes) => out.extend(bytes),
        }
        if out.len() as u64 > to {
            return None;
        }
    }
    (out.len() as u64 == to).then_some(out)
}
