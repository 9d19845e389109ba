//! Trees checked as `git fsck` checks them, so that guard never reads a tree
//! differently from git: entries that do not parse, names git never checks out
//! (empty, with '/', ".", "..", ".git"), entries out of git's order, and
//! repeated names (git reads the first one in some places and checks out the
//! last). Pure functions on the raw bytes.
//!
//! A range check reads a new root tree for every commit, and consecutive root
//! trees differ in a few entries: [`check_after`] checks a tree against one
//! already checked by re-reading only the entries that differ.

/// Where each entry of a checked tree starts.
pub type Offsets = Vec<u32>;

/// git's `canon_mode`, which tree walks apply to every entry's mode.
pub fn canon_mode(mode: u32) -> u32 {
    match mode & 0o170000 {
        0o100000 if mode & 0o100 != 0 => 0o100755,
        0o100000 => 0o100644,
        0o120000 => 0o120000,
        0o040000 => 0o040000,
        _ => 0o160000,
    }
}

/// One parsed entry: its name, whether it is a directory, where the next starts.
struct Parsed<'a> {
    name: &'a [u8],
    dir: bool,
    mode: u32,
    next: usize,
}

fn bad<T>(what: &str, name: &[u8]) -> Result<T, String> {
    Err(format!("{what} {:?}", String::from_utf8_lossy(name)))
}

/// Parse the entry at `at` ("MODE NAME\0<20 bytes>"); `prev` names the entry
/// before it, for messages.
fn parse<'a>(data: &'a [u8], at: usize, prev: &[u8]) -> Result<Parsed<'a>, String> {
    let mut mode = 0u32;
    let mut i = at;
    while let Some(&b) = data.get(i) {
        if b == b' ' {
            break;
        }
        if !(b'0'..=b'7').contains(&b) || i - at >= 6 {
            return bad("a bad mode in an entry after", prev);
        }
        mode = mode * 8 + u32::from(b - b'0');
        i += 1;
    }
    if i == at || i >= data.len() {
        return bad("an entry without a mode after", prev);
    }
    let name_at = i + 1;
    let mut j = name_at;
    let mut slash = false;
    while let Some(&b) = data.get(j) {
        if b == 0 {
            break;
        }
        slash |= b == b'/';
        j += 1;
    }
    if j + 21 > data.len() {
        return bad("a truncated entry after", prev);
    }
    let name = &data[name_at..j];
    if name.is_empty()
        || slash
        || name == b"."
        || name == b".."
        || (name.len() == 4 && name.eq_ignore_ascii_case(b".git"))
    {
        return bad("an entry named", name);
    }
    Ok(Parsed {
        name,
        dir: canon_mode(mode) == 0o040000,
        mode: canon_mode(mode),
        next: j + 21,
    })
}

/// git's tree order: bytewise, a directory's name compared as if it ended
/// in '/'.
fn git_cmp(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> std::cmp::Ordering {
    let k = a.len().min(b.len());
    match a[..k].cmp(&b[..k]) {
        std::cmp::Ordering::Equal => {
            let next = |s: &[u8], d: bool| s.get(k).copied().or(d.then_some(b'/'));
            next(a, a_dir).cmp(&next(b, b_dir))
        }
        o => o,
    }
}

/// May `name` follow `prev` in a tree: after it in git's order, and not the
/// same name (a file and a directory of one name are a duplicate too).
fn in_order(prev: &[u8], prev_dir: bool, name: &[u8], dir: bool) -> bool {
    prev != name && git_cmp(prev, prev_dir, name, dir).is_lt()
}

/// Does `name` extend file `f` so that a directory named `f` could still
/// follow it ("a" < "a-b" < "a/")?
fn extends(name: &[u8], f: &[u8]) -> bool {
    name == f || (name.starts_with(f) && name.get(f.len()).is_some_and(|&c| c < b'/'))
}

/// The checking state: the previous entry and the files a later directory of
/// the same name could still collide with.
struct State<'a> {
    prev: Option<(&'a [u8], bool)>,
    files: Vec<&'a [u8]>,
}

impl<'a> State<'a> {
    fn step(&mut self, e: &Parsed<'a>) -> Result<(), String> {
        if let Some((p, pdir)) = self.prev
            && !in_order(p, pdir, e.name, e.dir)
        {
            return bad("entries out of order or repeated at", e.name);
        }
        while self.files.last().is_some_and(|f| !extends(e.name, f)) {
            self.files.pop();
        }
        if e.dir {
            if self.files.last() == Some(&e.name) {
                return bad("two entries named", e.name);
            }
        } else {
            self.files.push(e.name);
        }
        self.prev = Some((e.name, e.dir));
        Ok(())
    }
}

/// Check a whole tree; the offsets of its entries.
pub fn check(data: &[u8]) -> Result<Offsets, String> {
    let mut state = State {
        prev: None,
        files: Vec::new(),
    };
    let mut offsets = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let e = parse(data, at, state.prev.map_or(&[], |p| p.0))?;
        state.step(&e)?;
        offsets.push(at as u32);
        at = e.next;
    }
    Ok(offsets)
}

/// A tree entry: its name, canonical mode, and 20-byte object id.
pub type TreeEntry<'a> = (&'a [u8], u32, &'a [u8]);

/// An entry of a checked tree as [`find`] reads it: name, is a directory,
/// canonical mode, object id.
type Listed<'a> = (&'a [u8], bool, u32, &'a [u8]);

/// The entry named `name` in a tree that passed [`check`] (its offsets),
/// found by binary search in git's order, as a file and as a directory (a
/// checked tree never holds both): its canonical mode and object id.
pub fn find<'a>(
    data: &'a [u8],
    offsets: &[u32],
    name: &[u8],
) -> Result<Option<(u32, &'a [u8])>, String> {
    // An entry of a checked tree ends where the next begins: its name is
    // found without scanning for the NUL ("MODE NAME\0<20 bytes>").
    let entry = |i: usize| -> Result<Listed<'a>, String> {
        let start = offsets[i] as usize;
        let end = offsets.get(i + 1).map_or(data.len(), |&o| o as usize);
        let bytes = data
            .get(start..end)
            .filter(|b| b.len() > 23)
            .ok_or("an entry outside its tree")?;
        let space = bytes[..7.min(bytes.len())]
            .iter()
            .position(|&b| b == b' ')
            .ok_or("an entry without a mode")?;
        let mut mode = 0u32;
        for &b in &bytes[..space] {
            mode = mode * 8 + u32::from(b.wrapping_sub(b'0') & 7);
        }
        let mode = canon_mode(mode);
        let (name, id) = bytes[space + 1..].split_at(bytes.len() - space - 22);
        Ok((name, mode == 0o040000, mode, &id[1..]))
    };
    for dir in [false, true] {
        let mut failed = None;
        let (mut lo, mut hi) = (0usize, offsets.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match entry(mid) {
                Ok((n, d, _, _)) if git_cmp(n, d, name, dir).is_lt() => lo = mid + 1,
                Ok(_) => hi = mid,
                Err(why) => {
                    failed = Some(why);
                    break;
                }
            }
        }
        if let Some(why) = failed {
            return Err(why);
        }
        if lo < offsets.len() {
            let (n, d, mode, id) = entry(lo)?;
            if n == name && d == dir {
                return Ok(Some((mode, id)));
            }
        }
    }
    Ok(None)
}

/// The entries of a tree that passed [`check`] (its offsets).
pub fn entries<'a>(data: &'a [u8], offsets: &[u32]) -> Result<Vec<TreeEntry<'a>>, String> {
    offsets
        .iter()
        .map(|&o| {
            let e = parse(data, o as usize, &[])?;
            Ok((e.name, e.mode, &data[e.next - 20..e.next]))
        })
        .collect()
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 32 <= n && a[i..i + 32] == b[i..i + 32] {
        i += 32;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Check `data` knowing that `old` (with entry offsets `old_offsets`) passed
/// [`check`]: runs of entries identical to the old tree's, in step with it,
/// are not read again; the entries around each difference are. The same
/// answer as [`check`] (a property test holds it to that).
pub fn check_after(data: &[u8], old: &[u8], old_offsets: &[u32]) -> Result<Offsets, String> {
    let n = old_offsets.len();
    let old_end = |i: usize| old_offsets.get(i + 1).map_or(old.len(), |&o| o as usize);
    let mut offsets: Offsets = Vec::with_capacity(n + 4);
    let mut state = State {
        prev: None,
        files: Vec::new(),
    };
    // `state` follows every entry before `at` (false after a skipped run).
    let mut fresh = true;
    let (mut p, mut at) = (0usize, 0usize);
    while at < data.len() {
        // The files a directory could still collide with, as the next entry
        // leaves them (its own step pops the same): a changed file followed
        // by an entry that does not extend its name ends its watch.
        if fresh && !state.files.is_empty() && p < n {
            let next = parse(data, at, state.prev.map_or(&[], |p| p.0))?;
            while state.files.last().is_some_and(|f| !extends(next.name, f)) {
                state.files.pop();
            }
        }
        // A run of the old tree's entries, byte for byte, in step with it.
        // (Not while a new file could still meet a directory of its name.)
        if (!fresh || state.files.is_empty()) && p < n {
            let o = old_offsets[p] as usize;
            let c = common_prefix(&data[at..], &old[o..]);
            let mut q = p;
            while q < n && old_end(q) - o <= c {
                offsets.push((old_offsets[q] as usize - o + at) as u32);
                q += 1;
            }
            if q > p {
                at += old_end(q - 1) - o;
                p = q;
                fresh = false;
                continue;
            }
        }
        // An entry that differs (or follows a difference): read and check it,
        // after the entry before it. The files a directory could collide with
        // are, after a skipped run, found by looking back from the directory.
        if !fresh {
            let prev = match offsets.last() {
                Some(&o) => {
                    let p = parse(data, o as usize, &[])?;
                    Some((p.name, p.dir))
                }
                None => None,
            };
            state = State {
                prev,
                files: Vec::new(),
            };
            fresh = true;
        }
        let e = parse(data, at, state.prev.map_or(&[], |p| p.0))?;
        state.step(&e)?;
        if e.dir {
            // A file of this name earlier, with only entries extending it in
            // between ("a" < "a-b" < "a/").
            for &o in offsets.iter().rev() {
                let f = parse(data, o as usize, &[])?;
                if !extends(f.name, e.name) {
                    break;
                }
                if !f.dir && f.name == e.name {
                    return bad("two entries named", e.name);
                }
            }
        }
        offsets.push(at as u32);
        // Step the old tree past what sorts before this entry (an old entry of
        // the same name and type is this one, changed): old entry p then sorts
        // after it, so a run from p follows it in order.
        while p < n {
            let oe = parse(old, old_offsets[p] as usize, &[])?;
            if git_cmp(oe.name, oe.dir, e.name, e.dir).is_gt() {
                break;
            }
            p += 1;
        }
        at = e.next;
    }
    Ok(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A raw tree; an entry's id depends on its name only, so that trees
    /// built from overlapping lists share their bytes.
    fn tree(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (mode, name) in entries {
            out.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            out.extend_from_slice(&[name.len() as u8 ^ name.as_bytes()[0]; 20]);
        }
        out
    }

    #[test]
    fn what_fsck_rejects_is_refused() {
        assert!(check(&tree(&[("100644", "a"), ("100644", "b")])).is_ok());
        assert!(check(&tree(&[("100644", "b"), ("100644", "a")])).is_err());
        assert!(check(&tree(&[("100644", "a"), ("100644", "a")])).is_err());
        assert!(check(&tree(&[("100644", "a"), ("100644", "a-b"), ("40000", "a")])).is_err());
        assert!(
            check(&tree(&[
                ("100644", "a"),
                ("100644", "a-b"),
                ("40000", "a-c")
            ]))
            .is_ok()
        );
        assert!(check(&tree(&[("100644", ".GIT")])).is_err());
        assert!(check(&tree(&[("100644", "..")])).is_err());
        assert!(check(&tree(&[("10064x", "a")])).is_err());
        // A directory sorts as if its name ended in '/': "a/" after "a-b", before "a0".
        assert!(
            check(&tree(&[
                ("100644", "a-b"),
                ("40000", "a"),
                ("100644", "a0")
            ]))
            .is_ok()
        );
        assert!(check(&tree(&[("40000", "a"), ("100644", "a-b")])).is_err());
    }

    #[test]
    fn a_file_added_before_a_shared_directory_of_its_name_is_refused() {
        // The old tree has "a#", "a-b" and "a/"; the new one has a file "a"
        // instead of "a#": the shared end must still be read while "a" could
        // collide with a directory of its name.
        let old = tree(&[("100644", "a#"), ("100644", "a-b"), ("40000", "a")]);
        let new = tree(&[("100644", "a"), ("100644", "a-b"), ("40000", "a")]);
        let offsets = check(&old).expect("valid");
        assert_eq!(
            check_after(&new, &old, &offsets),
            Err("two entries named \"a\"".to_string())
        );
    }

    #[test]
    fn a_directory_added_after_a_shared_file_of_its_name_is_refused() {
        let old = tree(&[("100644", "a"), ("100644", "a-b"), ("100644", "b")]);
        let new = tree(&[
            ("100644", "a"),
            ("100644", "a-b"),
            ("40000", "a"),
            ("100644", "b"),
        ]);
        let offsets = check(&old).expect("valid");
        assert_eq!(
            check_after(&new, &old, &offsets),
            Err("two entries named \"a\"".to_string())
        );
    }

    const NAMES: &[&str] = &["a", "a-b", "a.c", "a0", "b", "b-", "bb", "c", ".git", "z"];

    fn entries() -> impl Strategy<Value = Vec<(bool, usize)>> {
        proptest::collection::vec((any::<bool>(), 0..NAMES.len()), 0..12)
    }

    fn build(es: &[(bool, usize)]) -> Vec<u8> {
        let list: Vec<(&str, &str)> = es
            .iter()
            .map(|(dir, n)| (if *dir { "40000" } else { "100644" }, NAMES[*n]))
            .collect();
        tree(&list)
    }

    fn sorted(mut es: Vec<(bool, usize)>) -> Vec<(bool, usize)> {
        es.sort_by_key(|(d, n)| {
            let mut k = NAMES[*n].as_bytes().to_vec();
            if *d {
                k.push(b'/');
            }
            k
        });
        es.dedup();
        es
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10000))]
        /// Checking against a checked tree gives the answer (and offsets) of
        /// checking from scratch: for a new tree in git's order (with a file
        /// and a directory of one name at times), the old one being it with
        /// some entries removed and others added.
        #[test]
        fn incremental_check_agrees_with_a_full_check(
            new in entries(),
            extra in entries(),
            at in 0usize..12,
            cut in 0usize..5,
            shuffle in any::<bool>(),
        ) {
            let mut new = sorted(new);
            if shuffle && new.len() > 2 {
                let n = new.len();
                new.swap(at % n, (at + 1) % n);
            }
            let mut old = new.clone();
            let at = at.min(old.len());
            let end = (at + cut).min(old.len());
            let (head, tail) = extra.split_at(extra.len() / 2);
            old.splice(at..end, head.iter().copied());
            // A second difference, further on.
            let at2 = (at + 3).min(old.len());
            let end2 = (at2 + cut / 2).min(old.len());
            old.splice(at2..end2, tail.iter().copied());
            let old = build(&sorted(old));
            let Ok(old_offsets) = check(&old) else { return Ok(()); };
            let data = build(&new);
            prop_assert_eq!(check_after(&data, &old, &old_offsets), check(&data));
        }
    }
}
