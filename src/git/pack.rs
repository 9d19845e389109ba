//! Objects read from the repository's pack files by guard itself, for long
//! walks (a range of commits): libgit2 keeps 16 MiB of delta bases per pack
//! and clears them all when full (a compile-time constant), which was a
//! quarter of a 10,000-commit range's peak memory, and its copies of each
//! object were a tenth of its instructions. Here the delta bases and the
//! objects read share one cache of a stated size, kept by recent use.
//!
//! This reader only ever adds a reading libgit2 would make: whatever it
//! cannot read exactly (an object not in a pack, an index bucket out of
//! order, a corrupt entry, a stream or delta that does not give exactly the
//! size named, a chain over 10,000 deltas) is left to libgit2, which reads
//! it or reports the error. What it reads is what git's `unpack_entry`
//! reads: the entry's zlib stream must end after exactly the size the entry
//! names, and a delta must apply exactly (see [`super::delta`]). Where a
//! multi-pack-index exists (git looks objects up there first), or a pack git
//! may use fails guard's checks (a version 1 index, say), it reads nothing:
//! it would find another pack's copy of what git reads there. A delta chain
//! that loops, which libgit2 would follow for ever, is an error (exit 2).
//!
//! It trusts, as git and libgit2 do, that a pack's objects have the ids its
//! index names (git's index-pack hashed each one when the pack arrived);
//! where two packs hold one id, packs are searched local first, newest
//! first, as git sorts them.
//!
//! Memory: an index is read with `pread` (its fan-out kept, a window of names
//! read per lookup), never mapped; a pack is mapped and its pages given back
//! to the system after every [`RESIDENT_BYTES`] read from the packs.

use std::cell::RefCell;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use git2::{ObjectType, Oid};

use super::cache::Bounded;
use super::mapped::Map;
use super::zlib::Inflater;

/// Bytes of delta bases and objects kept, for all threads: blobs apart from
/// trees and commits, so that a walk's flow of trees (a new root tree for
/// every commit) does not push out the blobs its next commits read again.
pub const BLOB_BYTES: usize = 8 << 20;
pub const TREE_BYTES: usize = 4 << 20;
/// Objects larger than this are not kept (libgit2's rule too).
const CACHE_LARGEST: usize = 1 << 20;
/// Bytes read from packs (counted by the page mapped around each read)
/// after which their pages are given back.
const RESIDENT_BYTES: usize = 8 << 20;
/// Larger objects, and longer delta chains, are left to libgit2.
const LARGEST: usize = 256 << 20;
const DEEPEST: usize = 10_000;
/// What the system maps around each read of a mapped file (its fault-around).
const AROUND: usize = 64 << 10;

/// One of [`Inflater`]'s ways to inflate an entry.
type InflateWith<T> = fn(&mut Inflater, &[u8], usize) -> Option<(T, usize)>;

/// An object read: its kind and bytes.
pub type Object = (ObjectType, Arc<[u8]>);

type Kept = Bounded<(u32, u64), Object>;

/// The packs of an object directory and its alternates.
pub struct Packs {
    packs: Vec<Pack>,
    /// Blobs, and other objects (see [`BLOB_BYTES`]).
    kept: Mutex<(Kept, Kept)>,
    read_since: AtomicUsize,
}

struct Pack {
    path: PathBuf,
    idx: std::fs::File,
    fanout: [u32; 256],
    /// Per fan-out bucket, once its names were checked: 1 in order, 2 not
    /// (its objects are left to libgit2); 0 not checked yet.
    checked: [AtomicU8; 256],
    count: usize,
    large: usize,
    data: Map,
}

thread_local! {
    static INFLATER: RefCell<Option<Inflater>> = const { RefCell::new(None) };
}

/// Packs already open, by object directory: a range's threads share them.
static OPEN: Mutex<Vec<(PathBuf, Weak<Packs>)>> = Mutex::new(Vec::new());

impl Packs {
    /// The packs of `objects` (a repository's object directory), shared with
    /// every other handle on the same directory. `None` when the environment
    /// names other object directories (libgit2 alone reads those).
    pub fn of(objects: &Path) -> Option<Arc<Packs>> {
        if std::env::var_os("GIT_OBJECT_DIRECTORY").is_some()
            || std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES").is_some()
        {
            return None;
        }
        let mut open = OPEN.lock().ok()?;
        open.retain(|(_, w)| w.strong_count() > 0);
        if let Some(p) = open
            .iter()
            .find(|(d, _)| d == objects)
            .and_then(|(_, w)| w.upgrade())
        {
            return Some(p);
        }
        let mut packs = Vec::new();
        let mut dirs = vec![(objects.to_path_buf(), 0)];
        let mut seen = std::collections::HashSet::new();
        while let Some((dir, depth)) = dirs.pop() {
            if !seen.insert(std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone())) {
                continue;
            }
            // git and libgit2 look objects up in a multi-pack-index first:
            // where there is one, libgit2 alone reads.
            let pack = dir.join("pack");
            if pack.join("multi-pack-index").exists() || pack.join("multi-pack-index.d").exists() {
                return None;
            }
            packs.extend(Pack::all_in(&pack)?);
            // libgit2 reads the alternates of directories up to depth 5.
            if depth <= 5 {
                let mut more = alternates(&dir);
                more.reverse();
                dirs.extend(more.into_iter().map(|d| (d, depth + 1)));
            }
        }
        let packs = Arc::new(Packs {
            packs,
            kept: Mutex::new((
                Bounded::weighed(BLOB_BYTES, |(_, d)| d.len()),
                Bounded::weighed(TREE_BYTES, |(_, d)| d.len()),
            )),
            read_since: AtomicUsize::new(0),
        });
        open.push((objects.to_path_buf(), Arc::downgrade(&packs)));
        Some(packs)
    }

    /// Object `id`, when a pack holds it and it reads exactly; `Ok(None)`:
    /// leave it to libgit2. An error only for a pack libgit2 would never
    /// finish reading (a delta chain that loops).
    pub fn read(&self, id: Oid) -> Result<Option<Object>, String> {
        crate::work::add(crate::work::Counter::Packed, 1);
        let Ok(name) = <&[u8; 20]>::try_from(id.as_bytes()) else {
            return Ok(None);
        };
        for (n, pack) in self.packs.iter().enumerate() {
            match pack.find(name) {
                Found::At(offset) => {
                    return self.unpack(n, offset).map_err(|()| {
                        format!(
                            "cannot read object {id}: its delta chain in {} loops (a base \
                             names an entry of its own chain): the pack is corrupt",
                            pack.path.display()
                        )
                    });
                }
                Found::Unsure => return Ok(None),
                Found::Absent => {}
            }
        }
        Ok(None)
    }

    fn kept(&self, n: usize, offset: u64) -> Option<Object> {
        let kept = self.kept.lock().ok()?;
        let key = (n as u32, offset);
        kept.0.get(&key).or_else(|| kept.1.get(&key))
    }

    fn keep(&self, n: usize, offset: u64, object: &Object) {
        if object.1.len() <= CACHE_LARGEST
            && let Ok(kept) = self.kept.lock()
        {
            let part = if object.0 == ObjectType::Blob {
                &kept.0
            } else {
                &kept.1
            };
            part.insert((n as u32, offset), object.clone());
        }
    }

    /// The entry at `offset` of pack `n`, its delta chain resolved; `Err`
    /// for a chain that loops (found past [`DEEPEST`] entries; a longer
    /// chain that does not loop is left to libgit2).
    fn unpack(&self, n: usize, offset: u64) -> Result<Option<Object>, ()> {
        let pack = &self.packs[n];
        // Deltas to apply, the last first: (their offset, their entry).
        let mut chain: Vec<(u64, Entry)> = Vec::new();
        let mut at = offset;
        let mut base = loop {
            if let Some(found) = self.kept(n, at) {
                break found;
            }
            let Some(entry) = pack.entry(at) else {
                return Ok(None);
            };
            match entry.kind {
                Kind::Whole(kind) => {
                    let Some(data) = self.inflate_shared(pack, &entry) else {
                        return Ok(None);
                    };
                    let object = (kind, data);
                    self.keep(n, at, &object);
                    break object;
                }
                Kind::Delta(base) => {
                    if chain.len() >= DEEPEST {
                        // Left to libgit2, unless the chain loops (only
                        // references to bases can: offsets go back).
                        let mut seen: Vec<u64> = chain.iter().map(|(o, _)| *o).collect();
                        seen.push(at);
                        seen.sort_unstable();
                        let looped = seen.windows(2).any(|w| w[0] == w[1]);
                        return if looped { Err(()) } else { Ok(None) };
                    }
                    chain.push((at, entry));
                    at = base;
                }
            }
        };
        while let Some((at, entry)) = chain.pop() {
            let Some(delta) = self.inflate(pack, &entry) else {
                return Ok(None);
            };
            let Some(data) = super::delta::apply(&base.1, &delta, LARGEST) else {
                return Ok(None);
            };
            base = (base.0, data);
            self.keep(n, at, &base);
        }
        Ok(Some(base))
    }

    /// A delta's entry, inflated.
    fn inflate(&self, pack: &Pack, entry: &Entry) -> Option<Vec<u8>> {
        self.inflate_with(pack, entry, Inflater::exact)
    }

    /// A whole object's entry, inflated into memory it can be shared from.
    fn inflate_shared(&self, pack: &Pack, entry: &Entry) -> Option<Arc<[u8]>> {
        self.inflate_with(pack, entry, Inflater::exact_shared)
    }

    fn inflate_with<T>(&self, pack: &Pack, entry: &Entry, how: InflateWith<T>) -> Option<T> {
        if entry.size > LARGEST {
            return None;
        }
        crate::work::add(crate::work::Counter::Inflated, 1);
        let input = pack.data.get(entry.data..pack.data.len() - 20)?;
        let (out, taken) = INFLATER.with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.is_none() {
                *cell = Inflater::new();
            }
            how(cell.as_mut()?, input, entry.size)
        })?;
        self.was_read(taken);
        Some(out)
    }

    /// Give the packs' pages back after every [`RESIDENT_BYTES`] read (they
    /// stay in the system's file cache: a later read maps them again).
    fn was_read(&self, bytes: usize) {
        let weight = bytes.max(AROUND);
        let before = self.read_since.fetch_add(weight, Ordering::Relaxed);
        if before < RESIDENT_BYTES && before + weight >= RESIDENT_BYTES {
            for p in &self.packs {
                p.data.forget();
            }
            self.read_since.store(0, Ordering::Relaxed);
        }
    }
}

/// The object directories `objects/info/alternates` names, as libgit2 reads
/// the file: one a line, `#` lines and empty lines skipped, a path starting
/// with `.` relative to `objects`. Other relative paths (libgit2 takes them
/// from the current directory) are left out: their objects are read by
/// libgit2, never by another reading.
fn alternates(objects: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(objects.join("info/alternates")) else {
        return Vec::new();
    };
    text.split(['\r', '\n'])
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            if l.starts_with('.') {
                Some(objects.join(l))
            } else {
                Some(PathBuf::from(l)).filter(|p| p.is_absolute())
            }
        })
        .collect()
}

/// Where an index says an object is.
enum Found {
    At(u64),
    Absent,
    Unsure,
}

enum Kind {
    Whole(ObjectType),
    /// A delta on the entry at this offset.
    Delta(u64),
}

struct Entry {
    kind: Kind,
    /// The size of what the entry's zlib stream inflates to.
    size: usize,
    /// Where that stream starts.
    data: usize,
}

impl Pack {
    /// The packs of a `pack` directory with an index that reads, newest first (git's order).
    fn all_in(dir: &Path) -> Option<Vec<Pack>> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Some(Vec::new());
        };
        let mut found: Vec<(u64, Pack)> = Vec::new();
        for e in entries {
            let Ok(e) = e else { return None };
            // git and libgit2 take any `*.idx` with its `*.pack`, whatever
            // the rest of the name (bytes, not necessarily UTF-8).
            let idx = e.path();
            let Some(stem) = e
                .file_name()
                .as_bytes()
                .strip_suffix(b".idx")
                .map(<[u8]>::to_vec)
            else {
                continue;
            };
            let mut pack_name = stem;
            pack_name.extend_from_slice(b".pack");
            let pack = dir.join(std::ffi::OsStr::from_bytes(&pack_name));
            // An index without its pack (or whose pack is not a file, which
            // git skips too) is not used.
            let Ok(meta) = std::fs::metadata(&pack) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            // git orders packs by their modification time in seconds.
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            // A pack git may use and guard does not (a version 1 index, an
            // index that is not a file, an index or pack guard refuses):
            // guard would read another pack's copy of what git reads there,
            // so it reads nothing.
            if !std::fs::metadata(&idx).is_ok_and(|m| m.is_file()) {
                return None;
            }
            found.push((mtime, Pack::open(&idx, &pack)?));
        }
        found.sort_by_key(|p| std::cmp::Reverse(p.0));
        Some(found.into_iter().map(|(_, p)| p).collect())
    }

    /// A pack and its index (version 2), when both pass git's checks: the
    /// index's size for its count of objects, its fan-out in order, the
    /// pack's header naming the same count, and the pack's checksum the one
    /// the index records (the names are checked bucket by bucket, see
    /// [`Pack::bucket_in_order`]).
    fn open(idx_path: &Path, pack_path: &Path) -> Option<Pack> {
        use std::os::unix::fs::FileExt;
        let idx = std::fs::File::open(idx_path).ok()?;
        let len = usize::try_from(idx.metadata().ok()?.len()).ok()?;
        let mut head = [0u8; 8 + 1024];
        idx.read_exact_at(&mut head, 0).ok()?;
        if head[..8] != [0xff, b't', b'O', b'c', 0, 0, 0, 2] {
            return None;
        }
        let mut fanout = [0u32; 256];
        for (i, f) in fanout.iter_mut().enumerate() {
            *f = u32::from_be_bytes(head[8 + 4 * i..12 + 4 * i].try_into().ok()?);
        }
        if fanout.windows(2).any(|w| w[0] > w[1]) {
            return None;
        }
        let count = fanout[255] as usize;
        let fixed = (8 + 1024 + 40usize).checked_add(count.checked_mul(28)?)?;
        if len < fixed || (len - fixed) % 8 != 0 {
            return None;
        }
        let large = (len - fixed) / 8;
        // git and libgit2 ignore an index with more large offsets than objects but one.
        if large > count.saturating_sub(1) {
            return None;
        }
        let mut checksum = [0u8; 20];
        idx.read_exact_at(&mut checksum, (len - 40) as u64).ok()?;
        let data = Map::open(pack_path).ok()??;
        if data.len() < 32
            || data[..4] != *b"PACK"
            || !matches!(data[4..8], [0, 0, 0, 2] | [0, 0, 0, 3])
            || u32::from_be_bytes(data[8..12].try_into().ok()?) as usize != count
            || data[data.len() - 20..] != checksum
        {
            return None;
        }
        Some(Pack {
            path: pack_path.to_path_buf(),
            idx,
            fanout,
            checked: [const { AtomicU8::new(0) }; 256],
            count,
            large,
            data,
        })
    }

    /// The entry at `offset`: its kind, size, and where its stream starts.
    fn entry(&self, offset: u64) -> Option<Entry> {
        let end = self.data.len() - 20;
        let start = usize::try_from(offset).ok()?;
        if start < 12 || start >= end {
            return None;
        }
        let bytes = &self.data[..end];
        let mut at = start;
        let mut byte = *bytes.get(at)?;
        at += 1;
        let kind = (byte >> 4) & 7;
        let mut size = u64::from(byte & 15);
        let mut shift = 4;
        while byte & 0x80 != 0 {
            byte = *bytes.get(at)?;
            at += 1;
            if shift > 57 {
                return None;
            }
            size |= u64::from(byte & 0x7f) << shift;
            shift += 7;
        }
        let size = usize::try_from(size).ok()?;
        let kind = match kind {
            1 => Kind::Whole(ObjectType::Commit),
            2 => Kind::Whole(ObjectType::Tree),
            3 => Kind::Whole(ObjectType::Blob),
            4 => Kind::Whole(ObjectType::Tag),
            6 => {
                // git's offset encoding: each further byte adds one before shifting.
                let mut byte = *bytes.get(at)?;
                at += 1;
                let mut back = u64::from(byte & 0x7f);
                while byte & 0x80 != 0 {
                    byte = *bytes.get(at)?;
                    at += 1;
                    back = back.checked_add(1)?.checked_mul(128)? | u64::from(byte & 0x7f);
                }
                if back == 0 || back > offset {
                    return None;
                }
                Kind::Delta(offset - back)
            }
            7 => {
                let base: &[u8; 20] = bytes.get(at..at + 20)?.try_into().ok()?;
                at += 20;
                // git looks for a REF_DELTA's base in the same pack only.
                match self.find(base) {
                    Found::At(offset) => Kind::Delta(offset),
                    Found::Absent | Found::Unsure => return None,
                }
            }
            _ => return None,
        };
        Some(Entry {
            kind,
            size,
            data: at,
        })
    }
}

#[path = "pack_index.rs"]
mod index;

#[cfg(test)]
#[path = "pack_tests.rs"]
mod tests;
