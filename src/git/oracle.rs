//! libgit2 as an oracle for guard's own readers of git's formats (trees and
//! the index): the differential fuzz targets (`fuzz/`), replayed over their
//! seeds by `cargo test`.

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
    let Ok(offsets) = super::tree_check::check(data) else {
        return;
    };
    let ours = super::tree_check::entries(data, &offsets).unwrap_or_else(|e| {
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
                    super::tree_check::canon_mode(e.filemode_raw() as u32),
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
    let Ok(Some(ours)) = super::index::parse(data) else {
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
            .entries()
            .iter()
            .map(|e| {
                (
                    ours.path(e).to_vec(),
                    e.mode,
                    e.stage,
                    e.id,
                    e.intent_to_add,
                )
            })
            .collect();
        ours.sort();
        assert_eq!(ours, theirs, "guard and libgit2 read the index differently");
    });
}
