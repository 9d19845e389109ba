//! Contract section 4 ("Objects git would reject or read differently"): the
//! index is read as git reads it, or refused. Indexes are crafted byte by byte,
//! as an attacker (or a broken tool) would write them.

use crate::common::*;

/// A repository whose zone `z` is all of `b.txt`, with `a.txt`, `b.txt` and
/// `c.txt` committed and staged (entries of 64 bytes each, version 2).
fn three_files() -> Repo {
    let r = Repo::new();
    for f in ["a.txt", "b.txt", "c.txt"] {
        r.write(f, &format!("{f}\n"));
    }
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"b.txt\"\n"),
    );
    r.commit("init");
    r.git(&["update-index", "--index-version", "2"]);
    r
}

fn index_bytes(r: &Repo) -> Vec<u8> {
    std::fs::read(r.file(".git/index")).unwrap()
}

/// The entry of `path` in a version 2 index: its byte range.
fn entry_at(data: &[u8], path: &str) -> std::ops::Range<usize> {
    let count = u32::from_be_bytes(data[8..12].try_into().unwrap()) as usize;
    let mut at = 12;
    for _ in 0..count {
        let len = usize::from(u16::from_be_bytes([data[at + 60], data[at + 61]]) & 0xfff);
        let size = (62 + len + 8) & !7;
        if &data[at + 62..at + 62 + len] == path.as_bytes() {
            return at..at + size;
        }
        at += size;
    }
    panic!("{path} is not in the index");
}

fn write_index(r: &Repo, data: &[u8]) {
    std::fs::write(r.file(".git/index"), data).unwrap();
}

#[track_caller]
fn assert_refused(r: &Repo, why: &str) {
    let run = r.guard(&["check"]);
    assert_code(&run, 2);
    assert!(run.stderr.contains(why), "{why}: {run:?}");
    assert!(run.stderr.contains(".git/index"), "{run:?}");
}

#[test]
fn index_entries_out_of_order_are_refused() {
    let r = three_files();
    let mut data = index_bytes(&r);
    let (a, c) = (entry_at(&data, "a.txt"), entry_at(&data, "c.txt"));
    let (ea, ec) = (data[a.clone()].to_vec(), data[c.clone()].to_vec());
    data[a].copy_from_slice(&ec);
    data[c].copy_from_slice(&ea);
    write_index(&r, &data);
    // git commits such an index as an unsorted tree (which fsck rejects).
    assert_refused(&r, "index entries out of order (c.txt before b.txt)");
}

#[test]
fn an_index_entry_recorded_twice_is_refused() {
    let r = three_files();
    let data = index_bytes(&r);
    // b.txt twice: git would commit a tree with two b.txt entries.
    let b = entry_at(&data, "b.txt");
    let mut forged = data[..b.end].to_vec();
    forged.extend_from_slice(&data[b.clone()]);
    forged.extend_from_slice(&data[b.end..]);
    let count = u32::from_be_bytes(data[8..12].try_into().unwrap());
    forged[8..12].copy_from_slice(&(count + 1).to_be_bytes());
    write_index(&r, &forged);
    assert_refused(&r, "index entry b.txt recorded twice");
}

#[test]
fn an_index_extension_git_requires_and_guard_does_not_know_is_refused() {
    let r = three_files();
    let data = index_bytes(&r);
    let body = data.len() - 20;
    for (sig, code) in [(b"abcd", 2), (b"Abcd", 0)] {
        let mut forged = data[..body].to_vec();
        forged.extend_from_slice(sig);
        forged.extend_from_slice(&0u32.to_be_bytes());
        forged.extend_from_slice(&data[body..]);
        write_index(&r, &forged);
        // git itself: "index uses abcd extension, which we do not understand".
        let git = r.git_run(&["ls-files"]);
        assert_eq!(git.code == 0, code == 0, "{git:?}");
        let run = r.guard(&["check"]);
        assert_code(&run, code);
        if code == 2 {
            assert!(
                run.stderr
                    .contains("extension \"abcd\", which git requires and guard does not know"),
                "{run:?}"
            );
        }
    }
}

#[test]
fn a_truncated_index_is_refused() {
    let r = three_files();
    let data = index_bytes(&r);
    write_index(&r, &data[..40]);
    assert_refused(&r, "the index is truncated or corrupt");
}

/// `git add -N`: recorded, not staged. git leaves it out of the commit, so a
/// zoned file re-added that way is deleted by the commit, and a new file
/// under a zone is not added.
#[test]
fn intent_to_add_entries_are_what_git_commits_them_as() {
    let r = Repo::new();
    r.write("f.txt", &lines(3));
    r.write(
        "guard.toml",
        &manifest(
            "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\n\n[[zone]]\nid = \"lib\"\npath = \"lib\"\n",
        ),
    );
    r.write("lib/keep.txt", "keep\n");
    r.commit("init");
    r.write("lib/new.txt", "new\n");
    r.git(&["add", "-N", "lib/new.txt"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("touches no zone"), "{run:?}");
    // git agrees: the commit would not hold lib/new.txt.
    assert_eq!(r.git(&["diff", "--cached", "--name-only"]), "");

    r.git(&["rm", "-q", "--cached", "f.txt"]);
    r.git(&["add", "-N", "f.txt"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("f.txt: file deleted"), "{run:?}");
    r.git(&["commit", "-q", "--no-verify", "-m", "what git commits"]);
    assert_eq!(
        r.git(&["diff", "--name-status", "HEAD~", "HEAD"]),
        "D\tf.txt"
    );
    assert_code(&r.guard(&["check", "HEAD"]), 1);
}

/// Two paths that differ only in bytes that are not UTF-8 are two paths to
/// git; guard refuses to judge them rather than read them as one.
#[test]
fn paths_that_are_not_utf8_are_refused_not_merged() {
    let r = Repo::new();
    r.write("f.txt", "x\n");
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"lib\"\npath = \"lib\"\n"),
    );
    r.commit("init");
    let blob = r.git(&["hash-object", "-w", "f.txt"]);
    // Paths with raw bytes 0xff and 0xfe, staged with update-index -z.
    let mut input = Vec::new();
    for b in [0xffu8, 0xfe] {
        input.extend_from_slice(format!("100644 {blob}\t").as_bytes());
        input.extend_from_slice(b"lib/a");
        input.push(b);
        input.push(0);
    }
    let mut child = r
        .cmd("git")
        .args(["update-index", "--add", "-z", "--index-info"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&input).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(r.git(&["ls-files", "lib"]).lines().count(), 2);
    let run = r.guard(&["check"]);
    assert_code(&run, 2);
    assert!(
        run.stderr.contains("the path lib/a\\xfe is not UTF-8"),
        "{run:?}"
    );
    // Committed, the same.
    r.git(&["commit", "-q", "--no-verify", "-m", "bytes"]);
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 2);
    assert!(run.stderr.contains("is not UTF-8"), "{run:?}");
}

/// git reads as many bytes of a name as its entry's flags say, not up to the
/// NUL: an entry whose two disagree names one file to part of git and another
/// to the rest (and to a reader that looks for the NUL). Refused.
#[test]
fn an_index_name_length_that_is_not_the_names_is_refused() {
    let r = three_files();
    let mut data = index_bytes(&r);
    let b = entry_at(&data, "b.txt");
    // Flags: keep the stage bits, record a length of 4 ("b.tx").
    let flags = u16::from_be_bytes([data[b.start + 60], data[b.start + 61]]);
    data[b.start + 60..b.start + 62].copy_from_slice(&((flags & !0xfff) | 4).to_be_bytes());
    write_index(&r, &data);
    // git still lists b.txt (its C strings), while its length says b.tx.
    assert!(r.git(&["ls-files"]).lines().any(|l| l == "b.txt"));
    assert_refused(
        &r,
        "index entry b.txt records a name length (4) that is not its length",
    );
}

/// The staged check may read a staged file from the work tree, but only when
/// its bytes are the staged blob (its git id is checked): what is judged is
/// always what the commit will hold.
#[test]
fn the_staged_blob_is_judged_never_a_different_work_tree_file() {
    let r = zoned_repo();
    // Staged: a line outside the zone. Work tree: a line inside it too, of
    // the same size (a stat-based shortcut would not see the difference).
    edit(&r, "f.txt", 15);
    r.git(&["add", "f.txt"]);
    let staged = r.read("f.txt");
    r.write("f.txt", &staged.replace("line 7\n", "LINE 7\n"));
    let run = r.guard(&["check"]);
    assert_code(&run, 0);
    // Staged: a line inside the zone. Work tree: back to the committed text.
    r.write("f.txt", &staged.replace("line 7\n", "edited 7\n"));
    r.git(&["add", "f.txt"]);
    r.write("f.txt", &lines(20));
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("+ edited 7"), "{run:?}");
    // Staged and work tree alike (the work tree is read): the same verdict.
    r.git(&["add", "f.txt"]);
    r.write("f.txt", &staged.replace("line 7\n", "edited 7\n"));
    r.git(&["add", "f.txt"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("+ edited 7"), "{run:?}");
}

/// An entry whose extended flags hold a bit git does not know (only
/// intent-to-add and skip-worktree are defined): git refuses the index
/// ("unknown index entry format") in `ls-files`, `write-tree` and `commit`;
/// guard refuses it too, rather than judge a change git cannot commit.
#[test]
fn an_index_entry_with_extended_flags_git_does_not_know_is_refused() {
    let r = three_files();
    r.write("d.txt", "d\n");
    // One intent-to-add entry: an extended entry, in an index of version 3.
    r.git(&["add", "-N", "d.txt"]);
    let mut data = index_bytes(&r);
    assert_eq!(u32::from_be_bytes(data[4..8].try_into().unwrap()), 3);
    let count = u32::from_be_bytes(data[8..12].try_into().unwrap()) as usize;
    let mut at = 12;
    let mut flags2 = None;
    for _ in 0..count {
        let flags = u16::from_be_bytes([data[at + 60], data[at + 61]]);
        let len = usize::from(flags & 0xfff);
        let fixed = if flags & 0x4000 != 0 { 64 } else { 62 };
        if fixed == 64 {
            flags2 = Some(at + 62);
        }
        at += (fixed + len + 8) & !7;
    }
    let flags2 = flags2.expect("an extended entry");
    for bit in [0x8000u16, 0x1000, 0x0001] {
        let mut forged = data.clone();
        let old = u16::from_be_bytes([forged[flags2], forged[flags2 + 1]]);
        forged[flags2..flags2 + 2].copy_from_slice(&(old | bit).to_be_bytes());
        write_index(&r, &forged);
        let git = r.git_run(&["ls-files"]);
        assert_ne!(git.code, 0, "git reads it: {git:?}");
        assert!(git.stderr.contains("unknown index entry format"), "{git:?}");
        assert_refused(&r, "index entry d.txt has extended flags git does not know");
    }
    // The flags git knows are read.
    data[flags2..flags2 + 2].copy_from_slice(&0x2000u16.to_be_bytes());
    write_index(&r, &data);
    assert_code(&r.guard(&["check"]), 0);
}
