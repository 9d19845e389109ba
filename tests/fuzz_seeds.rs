//! Replays the fuzz targets' seed corpora (fuzz/corpus/<target>/*).

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!out.is_empty(), "no seeds for {target}");
    // Every prefix of every seed, too: truncation is the cheapest mutation.
    let prefixes: Vec<Vec<u8>> = out
        .iter()
        .flat_map(|s| (0..s.len().min(512)).map(move |n| s[..n].to_vec()))
        .collect();
    out.extend(prefixes);
    out
}

#[test]
fn manifest_seeds() {
    for s in seeds("manifest") {
        if let Ok(t) = std::str::from_utf8(&s) {
            guard::fuzzing::manifest(t);
        }
    }
}

#[test]
fn trailer_seeds() {
    for s in seeds("trailers") {
        guard::fuzzing::trailers(&String::from_utf8_lossy(&s));
    }
}

#[test]
fn index_seeds() {
    for s in seeds("index") {
        guard::fuzzing::index(&s);
    }
}

#[test]
fn commit_graph_seeds() {
    for s in seeds("commit_graph") {
        guard::fuzzing::commit_graph(&s);
    }
    // The seed files are graphs git wrote: each must read as one.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/commit_graph");
    let mut read = 0;
    for f in std::fs::read_dir(dir).unwrap() {
        let path = f.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("seed-")
        {
            let data = std::fs::read(path).unwrap();
            assert!(guard::git::graph::CommitGraph::from_bytes(data).is_some());
            read += 1;
        }
    }
    assert!(read >= 3);
}

/// Found by the commit_graph fuzz target: a chunk table whose offsets go
/// backwards. Such a graph is ignored, never a panic.
#[test]
fn regression_commit_graph_chunk_order() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/commit_graph");
    let data = std::fs::read(dir.join("regression-chunk-order")).unwrap();
    let result = std::panic::catch_unwind(|| guard::git::graph::CommitGraph::from_bytes(data));
    assert!(
        matches!(result, Ok(None)),
        "the commit-graph reader panicked or accepted it"
    );
}

#[test]
fn range_seeds() {
    for s in seeds("range") {
        guard::fuzzing::range(&String::from_utf8_lossy(&s));
    }
}

/// Found by the index fuzz target: a v4 path-prefix varint long enough to
/// overflow. A corrupt index is "not readable here", never a panic.
#[test]
fn regression_index_varint_overflow() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/index");
    let data = std::fs::read(dir.join("regression-varint-overflow")).unwrap();
    let result = std::panic::catch_unwind(|| guard::git::index::parse(&data));
    assert!(result.is_ok(), "the index parser panicked");
}

#[test]
fn delta_seeds() {
    for s in seeds("delta") {
        guard::fuzzing::delta(&s);
    }
}

proptest::proptest! {
    /// The delta target on random bytes too, beyond its seeds.
    #[test]
    fn delta_agrees_with_its_model(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        guard::fuzzing::delta(&data);
    }
}

#[test]
fn tree_seeds() {
    for s in seeds("trees") {
        guard::fuzzing::trees(&s);
    }
}

#[test]
fn tree_seeds_read_as_libgit2_reads_them() {
    for s in seeds("trees_vs_libgit2") {
        guard::fuzzing::trees_vs_libgit2(&s);
    }
}

#[test]
fn index_seeds_read_as_libgit2_reads_them() {
    for s in seeds("index_vs_libgit2") {
        guard::fuzzing::index_vs_libgit2(&s);
    }
}
