//! guard's pack reader on packs built by hand: what git ignores, or reads
//! otherwise, the reader leaves to libgit2; a loop is an error.

#![allow(clippy::unwrap_used)]

use super::*;

/// A zlib stream of `data` in stored blocks: any inflater reads it.
fn stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(65535).collect()
    };
    for (i, c) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        out.extend((c.len() as u16).to_le_bytes());
        out.extend((!(c.len() as u16)).to_le_bytes());
        out.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend(((b << 16) | a).to_be_bytes());
    out
}

/// A pack entry's header: its type and size.
fn header(kind: u8, mut size: usize) -> Vec<u8> {
    let mut out = vec![(kind << 4) | (size & 15) as u8];
    size >>= 4;
    while size > 0 {
        *out.last_mut().unwrap() |= 0x80;
        out.push((size & 0x7f) as u8);
        size >>= 7;
    }
    out
}

/// Writes `dir/pack-<name>.{pack,idx}` by hand: `entries` (an id and the
/// entry's bytes), and `extra` large offsets the index does not use.
fn write_pack(dir: &Path, name: &str, entries: &[([u8; 20], Vec<u8>)], extra: usize) {
    write_pack_as(dir, name, entries, extra, Index::V2Sorted);
}

#[derive(PartialEq)]
enum Index {
    V2Sorted,
    V2InOrderGiven,
    V1,
}

/// An index's fan-out: per first byte, how many names start with it or less.
fn fanout(names: &[([u8; 20], u32)]) -> Vec<u8> {
    (0..256usize)
        .flat_map(|b| {
            let n = names
                .iter()
                .filter(|(id, _)| usize::from(id[0]) <= b)
                .count() as u32;
            n.to_be_bytes()
        })
        .collect()
}

fn write_pack_as(
    dir: &Path,
    name: &str,
    entries: &[([u8; 20], Vec<u8>)],
    extra: usize,
    index: Index,
) {
    use sha1::{Digest, Sha1};
    let mut pack = b"PACK".to_vec();
    pack.extend(2u32.to_be_bytes());
    pack.extend((entries.len() as u32).to_be_bytes());
    let mut at = Vec::new();
    for (id, bytes) in entries {
        at.push((*id, pack.len() as u32));
        pack.extend_from_slice(bytes);
    }
    let sum = Sha1::digest(&pack);
    pack.extend_from_slice(&sum);
    if index != Index::V2InOrderGiven {
        at.sort();
    }
    if index == Index::V1 {
        let mut idx = fanout(&at);
        for (id, offset) in &at {
            idx.extend(offset.to_be_bytes());
            idx.extend_from_slice(id);
        }
        idx.extend_from_slice(&sum);
        let own = Sha1::digest(&idx);
        idx.extend_from_slice(&own);
        std::fs::write(dir.join(format!("pack-{name}.pack")), &pack).unwrap();
        std::fs::write(dir.join(format!("pack-{name}.idx")), &idx).unwrap();
        return;
    }
    let mut idx = vec![0xff, b't', b'O', b'c', 0, 0, 0, 2];
    idx.extend(fanout(&at));
    for (id, _) in &at {
        idx.extend_from_slice(id);
    }
    idx.extend(std::iter::repeat_n(0u8, 4 * at.len()));
    for (_, offset) in &at {
        idx.extend(offset.to_be_bytes());
    }
    idx.extend(std::iter::repeat_n(0u8, 8 * extra));
    idx.extend_from_slice(&sum);
    let own = Sha1::digest(&idx);
    idx.extend_from_slice(&own);
    std::fs::write(dir.join(format!("pack-{name}.pack")), &pack).unwrap();
    std::fs::write(dir.join(format!("pack-{name}.idx")), &idx).unwrap();
}

/// A newer pack whose index is longer than git allows (git and libgit2
/// ignore that pack) names a blob's id for other bytes: guard reads the
/// blob git reads, from the honest pack.
#[test]
fn an_index_of_the_wrong_size_is_ignored_as_git_ignores_it() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, packs_dir) = safe_repository(dir.path());
    let stem = "f".repeat(40);
    plant_unsafe(&packs_dir, safe, &stem, 1, Index::V2Sorted);
    make_newest(&packs_dir, &stem);
    // git and libgit2 ignore that pack; guard's reader, not knowing which
    // packs git uses there, reads nothing.
    assert!(git(dir.path(), &["show", "HEAD:config.py"]).contains("SAFE_MODE = True"));
    assert!(Packs::of(&dir.path().join(".git/objects")).is_none());
    let repo = git2::Repository::open(dir.path()).unwrap();
    let odb = repo.odb().unwrap();
    assert_eq!(odb.read(safe).unwrap().data(), b"SAFE_MODE = True\n");
}

/// Where a multi-pack-index names where objects are (git and libgit2 look
/// there first), the reader leaves every object to libgit2.
#[test]
fn a_multi_pack_index_leaves_the_reading_to_libgit2() {
    let dir = tempfile::tempdir().unwrap();
    history(dir.path());
    git(dir.path(), &["repack", "-a", "-d"]);
    assert!(Packs::of(&dir.path().join(".git/objects")).is_some());
    git(dir.path(), &["multi-pack-index", "write"]);
    assert!(
        dir.path()
            .join(".git/objects/pack/multi-pack-index")
            .exists()
    );
    assert!(Packs::of(&dir.path().join(".git/objects")).is_none());
}

/// Two deltas each naming the other as its base: libgit2 would follow them
/// for ever; the reader says the pack is corrupt.
#[test]
fn deltas_whose_bases_loop_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let (a, b) = ([0x11u8; 20], [0x22u8; 20]);
    let delta = |base: [u8; 20]| {
        let body = [0u8, 0u8];
        let mut e = header(7, body.len());
        e.extend_from_slice(&base);
        e.extend(stored(&body));
        e
    };
    let packs_dir = dir.path().join(".git/objects/pack");
    write_pack(
        &packs_dir,
        &"a".repeat(40),
        &[(a, delta(b)), (b, delta(a))],
        0,
    );
    let packs = Packs::of(&dir.path().join(".git/objects")).unwrap();
    let err = packs.read(Oid::from_bytes(&a).unwrap()).unwrap_err();
    assert!(
        err.contains("delta chain") && err.contains("corrupt"),
        "{err}"
    );
}

/// A repository whose blob `config.py` says "SAFE_MODE = True", packed; the
/// blob's id and the pack directory.
fn safe_repository(dir: &Path) -> (Oid, std::path::PathBuf) {
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("config.py"), "SAFE_MODE = True\n").unwrap();
    git(dir, &["add", "config.py"]);
    git(
        dir,
        &[
            "-c",
            "user.name=a",
            "-c",
            "user.email=a@b",
            "commit",
            "-qm",
            "safe",
        ],
    );
    git(dir, &["repack", "-a", "-d"]);
    let safe = Oid::from_str(git(dir, &["rev-parse", "HEAD:config.py"]).trim()).unwrap();
    (safe, dir.join(".git/objects/pack"))
}

/// A pack `pack-<stem>` in `dir` whose one entry, under the safe blob's
/// id, says "SAFE_MODE = False".
/// (`extra`: large offsets the index does not use).
fn plant_unsafe(dir: &Path, safe: Oid, stem: &str, extra: usize, index: Index) {
    let name: [u8; 20] = safe.as_bytes().try_into().unwrap();
    let entries = [(name, blob_entry(b"SAFE_MODE = False\n"))];
    write_pack_as(dir, stem, &entries, extra, index);
}

/// A whole blob entry holding `data`.
fn blob_entry(data: &[u8]) -> Vec<u8> {
    let mut entry = header(3, data.len());
    entry.extend(stored(data));
    entry
}

/// A newer pack with a version 1 index (git reads it; guard's reader does
/// not) names the blob's id for other bytes: git reads those, and so must
/// guard, so the reader reads nothing in that repository.
#[test]
fn a_pack_git_uses_and_the_reader_does_not_turns_the_reader_off() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, packs_dir) = safe_repository(dir.path());
    let stem = "e".repeat(40);
    plant_unsafe(&packs_dir, safe, &stem, 0, Index::V1);
    make_newest(&packs_dir, &stem);
    assert!(Packs::of(&dir.path().join(".git/objects")).is_none());
}

/// An index whose bucket is out of order: git's search may still find a
/// name there, so the reader leaves the object to libgit2 rather than read
/// another pack's copy.
#[test]
fn a_bucket_out_of_order_leaves_its_objects_to_libgit2() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, packs_dir) = safe_repository(dir.path());
    let name: [u8; 20] = safe.as_bytes().try_into().unwrap();
    let mut other = name;
    other[19] ^= 0xff;
    let (first, second) = if other < name {
        (name, other)
    } else {
        (other, name)
    };
    write_pack_as(
        &packs_dir,
        &"d".repeat(40),
        &[
            (first, blob_entry(b"one\n")),
            (second, blob_entry(b"two\n")),
        ],
        0,
        Index::V2InOrderGiven,
    );
    make_newest(&packs_dir, &"d".repeat(40));
    let packs = Packs::of(&dir.path().join(".git/objects")).unwrap();
    assert!(packs.read(safe).unwrap().is_none());
}

/// A chain of 10,001 offset deltas (git's index-pack takes it): beyond the
/// reader's depth, it is left to libgit2, not called corrupt.
#[test]
fn a_chain_deeper_than_the_reader_goes_is_left_to_libgit2() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let base = b"the base of a long chain\n";
    let mut entries = vec![([0u8; 20], blob_entry(base))];
    let mut offsets = vec![12usize];
    let mut at = 12 + entries[0].1.len();
    for k in 1..=10_001usize {
        // Copy the whole base: 0x91 (offset 0, one size byte).
        let delta = [base.len() as u8, base.len() as u8, 0x90, base.len() as u8];
        let mut e = header(6, delta.len());
        let mut back = at - offsets[k - 1];
        let mut enc = vec![(back & 0x7f) as u8];
        back >>= 7;
        while back > 0 {
            back -= 1;
            enc.insert(0, 0x80 | (back & 0x7f) as u8);
            back >>= 7;
        }
        e.extend(enc);
        e.extend(stored(&delta));
        let mut id = [0u8; 20];
        id[..8].copy_from_slice(&(k as u64).to_be_bytes());
        id[19] = 1;
        offsets.push(at);
        at += e.len();
        entries.push((id, e));
    }
    let last = entries.last().unwrap().0;
    write_pack(
        &dir.path().join(".git/objects/pack"),
        &"c".repeat(40),
        &entries,
        0,
    );
    let packs = Packs::of(&dir.path().join(".git/objects")).unwrap();
    assert!(
        packs
            .read(Oid::from_bytes(&last).unwrap())
            .unwrap()
            .is_none()
    );
    // A short chain of the same pack reads.
    let mut second = [0u8; 20];
    second[..8].copy_from_slice(&1u64.to_be_bytes());
    second[19] = 1;
    let (_, data) = packs
        .read(Oid::from_bytes(&second).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(&data[..], base);
}

/// Makes `dir/pack-<stem>.{pack,idx}` the newest pack (git searches it first).
fn make_newest(dir: &Path, stem: &str) {
    let newer = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
    for ext in ["pack", "idx"] {
        let f = std::fs::File::options()
            .write(true)
            .open(dir.join(format!("pack-{stem}.{ext}")))
            .unwrap();
        f.set_modified(newer).unwrap();
    }
}

/// git takes any `*.idx` with its `*.pack`, not only `pack-*`: so does the
/// reader (a newer `evil.pack` was read by git and missed by the reader);
/// a `.pack` that is not a file (a FIFO) is skipped as git skips it.
#[test]
fn packs_are_the_files_git_takes_as_packs() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, packs_dir) = safe_repository(dir.path());
    let stem = "b".repeat(40);
    plant_unsafe(&packs_dir, safe, &stem, 0, Index::V2Sorted);
    for ext in ["pack", "idx"] {
        std::fs::rename(
            packs_dir.join(format!("pack-{stem}.{ext}")),
            packs_dir.join(format!("evil.{ext}")),
        )
        .unwrap();
    }
    let packs = Packs::of(&dir.path().join(".git/objects")).unwrap();
    assert_eq!(packs.packs.len(), 2);
    drop(packs);
    std::fs::remove_file(packs_dir.join("evil.pack")).unwrap();
    let fifo = packs_dir.join("evil.pack");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let packs = Packs::of(&dir.path().join(".git/objects")).unwrap();
    assert_eq!(packs.packs.len(), 1);
    assert!(packs.read(safe).unwrap().is_some());
}
