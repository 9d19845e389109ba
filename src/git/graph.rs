//! git's commit-graph (`objects/info/commit-graph`, or a chain under
//! `objects/info/commit-graphs/`), read the way git reads it: each commit's
//! root tree and parents without inflating the commit, and the changed-path
//! Bloom filters (`git commit-graph write --changed-paths`) that say, for most
//! commits, that a path certainly did not change against the first parent.
//!
//! A graph is only ever a shortcut: anything inconsistent in it (bounds,
//! positions, chain) makes guard ignore the whole graph and read the objects,
//! and a Bloom filter is only believed when it says "not changed".

use super::mapped::Bytes;
use std::path::{Path, PathBuf};

const HASH: usize = 20;
/// Parent slot value: no parent.
const NO_PARENT: u32 = 0x7000_0000;

/// One graph file.
struct Layer {
    data: Bytes,
    /// Commits in the layers below this one.
    base: u32,
    count: u32,
    fanout: usize,
    lookup: usize,
    commits: usize,
    bloom: Option<Bloom>,
}

struct Bloom {
    index: usize,
    /// Start of the filters (after the 12-byte header) and their total length.
    data: usize,
    len: usize,
    version: u32,
    hashes: u32,
}

/// A commit-graph: positions are global across the layers of a chain.
pub struct CommitGraph {
    layers: Vec<Layer>,
}

/// A path's Bloom key: the path and each of its leading directories, hashed
/// once (murmur3 with git's two seeds).
pub struct BloomKey {
    /// (hash0, hash1) for the path and for each leading directory.
    hashes: Vec<(u32, u32)>,
    /// Version 1 filters hashed bytes >= 0x80 as signed chars: such paths are
    /// never judged by a version 1 filter.
    ascii: bool,
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// murmur3 (32-bit), as git's changed-path filters (version 2) hash a path.
pub fn murmur3(seed: u32, data: &[u8]) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &b) in tail.iter().enumerate() {
            k ^= u32::from(b) << (8 * i);
        }
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

impl BloomKey {
    /// The keys of every root, or none when a root is "" (a glob over the
    /// whole tree: no filter can rule it out).
    pub fn for_roots<S: AsRef<str>>(roots: &[S]) -> Vec<BloomKey> {
        if roots.iter().any(|r| r.as_ref().is_empty()) {
            return Vec::new();
        }
        roots.iter().map(|r| BloomKey::new(r.as_ref())).collect()
    }

    pub fn new(path: &str) -> BloomKey {
        let mut hashes = Vec::new();
        let mut p = path;
        loop {
            let b = p.as_bytes();
            hashes.push((murmur3(0x293a_e76f, b), murmur3(0x7e64_6e2c, b)));
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => break,
            }
        }
        BloomKey {
            hashes,
            ascii: path.is_ascii(),
        }
    }
}

impl Layer {
    fn parse(data: Bytes, base: u32, bases_expected: usize) -> Option<Layer> {
        if data.get(..4)? != b"CGPH" || *data.get(4)? != 1 || *data.get(5)? != 1 {
            return None;
        }
        let chunks = usize::from(*data.get(6)?);
        if usize::from(*data.get(7)?) != bases_expected {
            return None;
        }
        let mut table = Vec::with_capacity(chunks + 1);
        for i in 0..=chunks {
            let at = 8 + 12 * i;
            table.push((
                be32(&data, at)?,
                usize::try_from(be64(&data, at + 4)?).ok()?,
            ));
        }
        let end = data.len().checked_sub(HASH)?;
        let chunk = |id: &[u8; 4]| -> Option<(usize, usize)> {
            let want = u32::from_be_bytes(*id);
            let i = table[..chunks].iter().position(|&(c, _)| c == want)?;
            let (start, stop) = (table[i].1, table[i + 1].1);
            (start <= stop && stop <= end).then(|| (start, stop - start))
        };
        let (fanout, fanout_len) = chunk(b"OIDF")?;
        if fanout_len != 256 * 4 {
            return None;
        }
        let count = be32(&data, fanout + 255 * 4)?;
        let n = count as usize;
        let (lookup, lookup_len) = chunk(b"OIDL")?;
        let (commits, commits_len) = chunk(b"CDAT")?;
        if lookup_len != n * HASH || commits_len != n * (HASH + 16) {
            return None;
        }
        // The fanout never decreases.
        let mut last = 0;
        for i in 0..256 {
            let f = be32(&data, fanout + 4 * i)?;
            if f < last {
                return None;
            }
            last = f;
        }
        let bloom = match (chunk(b"BIDX"), chunk(b"BDAT")) {
            (Some((index, index_len)), Some((bdat, bdat_len)))
                if index_len == n * 4 && bdat_len >= 12 =>
            {
                let version = be32(&data, bdat)?;
                let hashes = be32(&data, bdat + 4)?;
                ((version == 1 || version == 2) && (1..=64).contains(&hashes)).then_some(Bloom {
                    index,
                    data: bdat + 12,
                    len: bdat_len - 12,
                    version,
                    hashes,
                })
            }
            _ => None,
        };
        Some(Layer {
            data,
            base,
            count,
            fanout,
            lookup,
            commits,
            bloom,
        })
    }

    fn oid(&self, i: u32) -> &[u8] {
        let at = self.lookup + i as usize * HASH;
        &self.data[at..at + HASH]
    }

    fn find(&self, id: &[u8]) -> Option<u32> {
        let first = usize::from(*id.first()?);
        let lo = if first == 0 {
            0
        } else {
            be32(&self.data, self.fanout + 4 * (first - 1))?
        };
        let hi = be32(&self.data, self.fanout + 4 * first)?.min(self.count);
        let (mut lo, mut hi) = (lo, hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.oid(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

impl CommitGraph {
    /// The graph git would use for a repository whose object directories are
    /// `dirs` (its own first, then its alternates): the first that has one.
    pub fn open(dirs: &[PathBuf]) -> Option<CommitGraph> {
        dirs.iter().find_map(|d| Self::open_one(d))
    }

    fn open_one(objects: &Path) -> Option<CommitGraph> {
        let info = objects.join("info");
        if let Ok(data) = Bytes::open(&info.join("commit-graph")) {
            return Self::from_layers(vec![data]);
        }
        let dir = info.join("commit-graphs");
        let chain = std::fs::read_to_string(dir.join("commit-graph-chain")).ok()?;
        let mut files = Vec::new();
        for line in chain.lines().filter(|l| !l.is_empty()) {
            if line.len() != 2 * HASH || !line.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            files.push(Bytes::open(&dir.join(format!("graph-{line}.graph"))).ok()?);
        }
        Self::from_layers(files)
    }

    /// One graph file's bytes (the fuzz target's entry point).
    pub fn from_bytes(data: Vec<u8>) -> Option<CommitGraph> {
        Self::from_layers(vec![Bytes::Read(data)])
    }

    /// How many commits the graph has.
    pub fn len(&self) -> u32 {
        self.total()
    }

    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    fn from_layers(files: Vec<Bytes>) -> Option<CommitGraph> {
        let mut layers: Vec<Layer> = Vec::with_capacity(files.len());
        for (i, data) in files.into_iter().enumerate() {
            let base = layers
                .last()
                .map_or(Some(0), |l| l.base.checked_add(l.count))?;
            layers.push(Layer::parse(data, base, i)?);
        }
        let graph = CommitGraph { layers };
        // Every parent position must name a commit of the graph.
        let total = graph.total();
        for l in &graph.layers {
            for i in 0..l.count {
                let at = l.commits + i as usize * (HASH + 16) + HASH;
                let p1 = be32(&l.data, at)?;
                let p2 = be32(&l.data, at + 4)?;
                if p1 != NO_PARENT && p1 >= total {
                    return None;
                }
                if p2 != NO_PARENT && p2 & 0x8000_0000 == 0 && p2 >= total {
                    return None;
                }
            }
        }
        (!graph.layers.is_empty()).then_some(graph)
    }

    fn total(&self) -> u32 {
        self.layers.last().map_or(0, |l| l.base + l.count)
    }

    fn layer(&self, pos: u32) -> (&Layer, u32) {
        // Positions were checked when the graph was read.
        let l = self
            .layers
            .iter()
            .rev()
            .find(|l| pos >= l.base)
            .unwrap_or(&self.layers[0]);
        (l, pos - l.base)
    }

    /// The position of commit `id`, if the graph has it.
    pub fn position(&self, id: &[u8]) -> Option<u32> {
        self.layers
            .iter()
            .find_map(|l| l.find(id).map(|i| l.base + i))
    }

    pub fn id(&self, pos: u32) -> &[u8] {
        let (l, i) = self.layer(pos);
        l.oid(i)
    }

    pub fn tree(&self, pos: u32) -> &[u8] {
        let (l, i) = self.layer(pos);
        let at = l.commits + i as usize * (HASH + 16);
        &l.data[at..at + HASH]
    }

    /// The first parent's position (`None`: a root commit).
    pub fn first_parent(&self, pos: u32) -> Option<u32> {
        let (l, i) = self.layer(pos);
        let p = be32(&l.data, l.commits + i as usize * (HASH + 16) + HASH)?;
        (p != NO_PARENT).then_some(p)
    }

    /// Does the graph's changed-path filter say that none of `keys` changed
    /// between the commit at `pos` and its first parent? `false` whenever it
    /// cannot say so for certain (no filter, an empty or saturated one).
    pub fn unchanged(&self, pos: u32, keys: &[BloomKey]) -> bool {
        let (l, i) = self.layer(pos);
        let Some(b) = &l.bloom else {
            return false;
        };
        let end = be32(&l.data, b.index + 4 * i as usize);
        let start = if i == 0 {
            Some(0)
        } else {
            be32(&l.data, b.index + 4 * (i as usize - 1))
        };
        let (Some(start), Some(end)) = (start, end) else {
            return false;
        };
        let (start, end) = (start as usize, end as usize);
        if start >= end || end > b.len {
            return false;
        }
        let filter = &l.data[b.data + start..b.data + end];
        let bits = filter.len() as u64 * 8;
        keys.iter().all(|k| {
            if b.version == 1 && !k.ascii {
                return false;
            }
            // One of the path's keys absent: the path did not change.
            k.hashes.iter().any(|&(h0, h1)| {
                (0..b.hashes).any(|n| {
                    let bit = u64::from(h0.wrapping_add(n.wrapping_mul(h1))) % bits;
                    filter[(bit / 8) as usize] & (1 << (bit % 8)) == 0
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values of git's own murmur3 tests (t0095).
    #[test]
    fn murmur3_matches_git() {
        assert_eq!(murmur3(0, b""), 0);
        assert_eq!(murmur3(0, b"Hello world!"), 0x627b_0c2c);
        assert_eq!(
            murmur3(0, b"The quick brown fox jumps over the lazy dog"),
            0x2e4f_f723
        );
    }

    #[test]
    fn bloom_key_hashes_like_git() {
        // git's seven hashes for "Hello world!" are h0 + i * h1.
        let k = BloomKey::new("Hello world!");
        let (h0, h1) = k.hashes[0];
        assert_eq!(h0, 0xb270_de9b);
        assert_eq!(h0.wrapping_add(h1), 0x1bb6_f26e);
        assert_eq!(h0.wrapping_add(6u32.wrapping_mul(h1)), 0x2a15_558d);
        // A path's leading directories are keys too.
        assert_eq!(BloomKey::new("a/b/c").hashes.len(), 3);
    }

    #[test]
    fn garbage_is_no_graph() {
        assert!(
            CommitGraph::from_layers(vec![Bytes::Read(b"CGPH\x01\x01\x00\x00".to_vec())]).is_none()
        );
        assert!(CommitGraph::from_layers(vec![Bytes::Read(Vec::new())]).is_none());
    }
}
