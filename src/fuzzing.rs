//! Entry points of the fuzz targets (`fuzz/`), also replayed over their seed
//! corpora by `cargo test`: each parser must return, never panic, and keep its
//! invariants on whatever bytes it is given.

use crate::git::graph::{BloomKey, CommitGraph};
use crate::git::index;
use crate::{manifest, trailers};

pub fn manifest(text: &str) {
    match manifest::parse(text, "fuzz.toml") {
        Ok(m) => {
            for z in &m.zones {
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
    if let Ok(Some(entries)) = index::parse(data) {
        for e in &entries {
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

/// A scratch bare repository for the differential targets, one per thread,
/// kept for the process's life (fuzzing runs millions of inputs).
fn with_scratch(f: impl FnOnce(&git2::Repository)) {
    thread_local! {
        static REPO: Option<git2::Repository> = {
            let dir = std::env::temp_dir().join(format!(
                "guard-fuzz-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            git2::Repository::init_bare(dir).ok()
        };
    }
    REPO.with(|r| {
        if let Some(r) = r {
            f(r);
        }
    });
}

/// Differential: a tree guard accepts is read by libgit2 as the same entries
/// (names, canonical modes, ids, order). guard may refuse more (it checks as
/// `git fsck` does); it may never accept and read otherwise.
pub fn trees_vs_libgit2(data: &[u8]) {
    let Ok(offsets) = crate::git::tree_check::check(data) else {
        return;
    };
    let ours = crate::git::tree_check::entries(data, &offsets).unwrap_or_else(|e| {
        panic!("a checked tree's entries do not parse: {e}");
    });
    with_scratch(|repo| {
        let Ok(odb) = repo.odb() else { return };
        let Ok(id) = odb.write(git2::ObjectType::Tree, data) else {
            panic!("libgit2 cannot store a tree guard accepts");
        };
        // libgit2 refuses some trees git reads (a mode above 0o177777, which
        // git reads as a gitlink): stricter, and where guard reads through
        // libgit2 that is exit 2. Only a different reading is a finding.
        let Ok(tree) = repo.find_tree(id) else {
            return;
        };
        let theirs: Vec<(Vec<u8>, u32, Vec<u8>)> = tree
            .iter()
            .map(|e| {
                (
                    e.name_bytes().to_vec(),
                    crate::git::tree_check::canon_mode(e.filemode_raw() as u32),
                    e.id().as_bytes().to_vec(),
                )
            })
            .collect();
        let ours: Vec<(Vec<u8>, u32, Vec<u8>)> = ours
            .iter()
            .map(|(n, m, id)| (n.to_vec(), *m, id.to_vec()))
            .collect();
        assert_eq!(ours, theirs, "guard and libgit2 read the tree differently");
    });
}

/// An index entry as both readers give it: path, mode, stage, id, intent-to-add.
type IndexRow = (Vec<u8>, u32, u8, [u8; 20], bool);

/// Differential: an index guard reads (not one it leaves to libgit2, not one
/// it refuses) is read by libgit2 as the same entries. The checksum is zeroed
/// (libgit2 then skips it, as for `index.skipHash`; git and guard never check).
pub fn index_vs_libgit2(data: &[u8]) {
    let Ok(Some(ours)) = index::parse(data) else {
        return;
    };
    if data.len() < 32 {
        return;
    }
    let mut bytes = data.to_vec();
    let n = bytes.len();
    bytes[n - 20..].fill(0);
    with_scratch(|repo| {
        let path = repo.path().join("fuzz-index");
        if std::fs::write(&path, &bytes).is_err() {
            return;
        }
        let Ok(index) = git2::Index::open(&path) else {
            // libgit2 refuses some indexes git reads (and guard with it):
            // stricter, never a different reading.
            return;
        };
        let mut theirs: Vec<IndexRow> = index
            .iter()
            .map(|e| {
                let mut id = [0u8; 20];
                id.copy_from_slice(e.id.as_bytes());
                (
                    e.path.clone(),
                    e.mode,
                    ((e.flags >> 12) & 3) as u8,
                    id,
                    e.flags_extended & 0x2000 != 0,
                )
            })
            .collect();
        theirs.sort();
        let mut ours: Vec<IndexRow> = ours
            .iter()
            .map(|e| (e.path.clone(), e.mode, e.stage, e.id, e.intent_to_add))
            .collect();
        ours.sort();
        assert_eq!(ours, theirs, "guard and libgit2 read the index differently");
    });
}
