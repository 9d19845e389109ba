//! guard's pack reader held to libgit2's: every object of real packs (made
//! by git, with offset and reference deltas, in the repository and in an
//! alternate) reads the same, and of packs with a byte changed anywhere,
//! whatever guard reads, libgit2 reads the same.

#![allow(clippy::unwrap_used)]

use super::*;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A repository whose history makes deltas: 40 versions of a 3,000-line
/// file, each changing a few lines, and a second file and directory.
fn history(dir: &Path) {
    git(dir, &["init", "-q"]);
    let mut stream = String::new();
    let mut lines: Vec<String> = (0..3000)
        .map(|i| format!("line {i} of the file\n"))
        .collect();
    for n in 0..40 {
        for k in 0..5 {
            let at = (n * 97 + k * 613) % lines.len();
            lines[at] = format!("version {n} changed line {at}\n");
        }
        if n % 7 == 3 {
            lines.insert(n * 13, format!("inserted in version {n}\n"));
        }
        let body: String = lines.concat();
        let other = format!("other {n}\n").repeat(n + 1);
        let message = format!("version {n}");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter A <a@example.com> {} +0000\ndata {}\n{message}\n",
            1_700_000_000 + n,
            message.len()
        ));
        stream.push_str(&format!(
            "M 100644 inline big.txt\ndata {}\n{body}\n",
            body.len()
        ));
        stream.push_str(&format!(
            "M 100644 inline dir/other.txt\ndata {}\n{other}\n",
            other.len()
        ));
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// Every object of `dir`'s packs, as `git cat-file` lists them.
fn all_objects(dir: &Path) -> Vec<Oid> {
    git(
        dir,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectname)",
        ],
    )
    .lines()
    .map(|l| Oid::from_str(l).unwrap())
    .collect()
}

/// guard's reading of each object is libgit2's; returns how many guard read.
fn agree(dir: &Path, ids: &[Oid]) -> usize {
    agree_at(
        &dir.join(".git/objects"),
        git2::Repository::open(dir).unwrap(),
        ids,
    )
}

fn agree_at(objects: &Path, repo: git2::Repository, ids: &[Oid]) -> usize {
    let Some(packs) = Packs::of(objects) else {
        return 0;
    };
    let odb = repo.odb().unwrap();
    let mut read = 0;
    for &id in ids {
        if let Some((kind, data)) = packs.read(id).unwrap() {
            let theirs = odb
                .read(id)
                .unwrap_or_else(|e| panic!("guard read {id}, libgit2 refuses: {e}"));
            assert_eq!(kind, theirs.kind(), "{id}");
            assert!(&data[..] == theirs.data(), "{id} reads otherwise");
            read += 1;
        }
    }
    read
}

#[test]
fn reads_every_object_of_git_s_packs_as_libgit2_does() {
    let dir = tempfile::tempdir().unwrap();
    history(dir.path());
    git(
        dir.path(),
        &["repack", "-a", "-d", "-f", "--depth=50", "--window=50"],
    );
    let ids = all_objects(dir.path());
    assert!(ids.len() > 100);
    assert_eq!(agree(dir.path(), &ids), ids.len());
    let stats = git(dir.path(), &["verify-pack", "-v", &pack_idx(dir.path())]);
    let longest = stats
        .lines()
        .filter_map(|l| {
            l.strip_prefix("chain length = ")?
                .split(':')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .max();
    assert!(
        longest >= Some(10),
        "the pack has long delta chains: {longest:?}"
    );

    // Deltas on bases named by id (REF_DELTA) rather than by offset.
    git(
        dir.path(),
        &[
            "-c",
            "repack.useDeltaBaseOffset=false",
            "repack",
            "-a",
            "-d",
            "-f",
        ],
    );
    assert_eq!(agree(dir.path(), &ids), ids.len());

    // An object not in any pack is left to libgit2.
    let loose = git(dir.path(), &["hash-object", "-w", "--stdin"]);
    let packs = Packs::of(&dir.path().join(".git/objects")).unwrap();
    assert!(
        packs
            .read(Oid::from_str(loose.trim()).unwrap())
            .unwrap()
            .is_none()
    );
}

fn pack_idx(dir: &Path) -> String {
    let packs = dir.join(".git/objects/pack");
    let idx = std::fs::read_dir(&packs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    idx.to_string_lossy().into_owned()
}

#[test]
fn reads_an_alternate_s_packs() {
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin");
    std::fs::create_dir(&origin).unwrap();
    history(&origin);
    git(&origin, &["repack", "-a", "-d"]);
    let clone = dir.path().join("clone");
    git(dir.path(), &["clone", "-q", "--shared", "origin", "clone"]);
    let ids = all_objects(&origin);
    assert!(
        std::fs::read_dir(clone.join(".git/objects/pack"))
            .unwrap()
            .next()
            .is_none()
    );
    assert_eq!(agree(&clone, &ids), ids.len());
}

#[test]
fn of_packs_with_any_byte_changed_reads_only_what_libgit2_reads() {
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin");
    std::fs::create_dir(&origin).unwrap();
    history(&origin);
    git(&origin, &["repack", "-a", "-d", "-f", "--depth=50"]);
    let ids = all_objects(&origin);
    let idx = std::path::PathBuf::from(pack_idx(&origin));
    let pack = idx.with_extension("pack");
    let (pack_len, idx_len) = (
        std::fs::metadata(&pack).unwrap().len() as usize,
        std::fs::metadata(&idx).unwrap().len() as usize,
    );
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Both sides as guard runs libgit2: objects not re-hashed on read.
    git2::opts::strict_hash_verification(false);
    let (mut refused, mut read_total) = (0, 0);
    for trial in 0..60 {
        let copy = dir.path().join(format!("t{trial}"));
        git(
            dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                "--no-local",
                "origin",
                copy.to_str().unwrap(),
            ],
        );
        let dest = copy.join("objects/pack");
        for e in std::fs::read_dir(&dest).unwrap() {
            std::fs::remove_file(e.unwrap().path()).unwrap();
        }
        let (file, len) = if trial % 4 == 3 {
            (&idx, idx_len)
        } else {
            (&pack, pack_len)
        };
        let mut bytes = std::fs::read(file).unwrap();
        let at = next() as usize % len;
        bytes[at] ^= 1 << (next() % 8);
        for f in [&idx, &pack] {
            let to = dest.join(f.file_name().unwrap());
            if f == file {
                std::fs::write(&to, &bytes).unwrap();
            } else {
                std::fs::copy(f, &to).unwrap();
            }
        }
        let read = agree_at(
            &copy.join("objects"),
            git2::Repository::open_bare(&copy).unwrap(),
            &ids,
        );
        refused += ids.len() - read;
        read_total += read;
    }
    // The changes hit objects: some were left to libgit2; the others read.
    assert!(refused > 0);
    assert!(
        read_total > ids.len() * 30,
        "{read_total} of {}",
        ids.len() * 60
    );
}

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
    at.sort();
    let mut idx = vec![0xff, b't', b'O', b'c', 0, 0, 0, 2];
    for b in 0..256usize {
        let n = at.iter().filter(|(id, _)| usize::from(id[0]) <= b).count() as u32;
        idx.extend(n.to_be_bytes());
    }
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
    git(dir.path(), &["init", "-q"]);
    std::fs::write(dir.path().join("config.py"), "SAFE_MODE = True\n").unwrap();
    git(dir.path(), &["add", "config.py"]);
    git(
        dir.path(),
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
    git(dir.path(), &["repack", "-a", "-d"]);
    let safe = Oid::from_str(git(dir.path(), &["rev-parse", "HEAD:config.py"]).trim()).unwrap();
    let evil = b"SAFE_MODE = False\n";
    let mut entry = header(3, evil.len());
    entry.extend(stored(evil));
    let packs_dir = dir.path().join(".git/objects/pack");
    let name: [u8; 20] = safe.as_bytes().try_into().unwrap();
    write_pack(&packs_dir, &"f".repeat(40), &[(name, entry)], 1);
    let newer = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
    for ext in ["pack", "idx"] {
        let f = std::fs::File::options()
            .write(true)
            .open(packs_dir.join(format!("pack-{}.{ext}", "f".repeat(40))))
            .unwrap();
        f.set_modified(newer).unwrap();
    }
    assert!(git(dir.path(), &["show", "HEAD:config.py"]).contains("SAFE_MODE = True"));
    let packs = Packs::of(&dir.path().join(".git/objects")).unwrap();
    let (_, data) = packs.read(safe).unwrap().unwrap();
    assert_eq!(&data[..], b"SAFE_MODE = True\n");
    assert_eq!(agree(dir.path(), &[safe]), 1);
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
