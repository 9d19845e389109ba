//! guard's pack reader held to libgit2's: every object of real packs (made
//! by git, with offset and reference deltas, in the repository and in an
//! alternate) reads the same, and of packs with a byte changed anywhere,
//! whatever guard reads, libgit2 reads the same.

#![allow(clippy::unwrap_used)]

use super::*;

fn git(dir: &Path, args: &[&str]) -> String {
    crate::git::run_git(dir, args, b"")
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
    crate::git::run_git(dir, &["fast-import", "--quiet"], stream.as_bytes());
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

#[path = "pack_crafted.rs"]
mod crafted;
