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
        next: j + 21,
    })
}

/// Does `name` (a directory when `dir`) sort strictly after `prev` in git's
/// order (bytewise, a directory's name as if it ended in '/')?
fn in_order(prev: &[u8], prev_dir: bool, name: &[u8], dir: bool) -> bool {
    let k = prev.len().min(name.len());
    match prev[..k].cmp(&name[..k]) {
        std::cmp::Ordering::Equal => {
            let next = |s: &[u8], d: bool| s.get(k).copied().or(d.then_some(b'/'));
            prev.len() != name.len() && next(prev, prev_dir) < next(name, dir)
        }
        o => o.is_lt(),
    }
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

fn common_suffix(a: &[u8], b: &[u8], limit: usize) -> usize {
    let (la, lb) = (a.len(), b.len());
    let mut i = 0;
    while i + 32 <= limit && a[la - i - 32..la - i] == b[lb - i - 32..lb - i] {
        i += 32;
    }
    while i < limit && a[la - i - 1] == b[lb - i - 1] {
        i += 1;
    }
    i
}

/// Check `data` knowing that `old` (with entry offsets `old_offsets`) passed
/// [`check`]: the entries both share at the start and at the end are not read
/// again. The same answer as [`check`] (a property test holds it to that).
pub fn check_after(data: &[u8], old: &[u8], old_offsets: &[u32]) -> Result<Offsets, String> {
    let cp = common_prefix(data, old);
    if cp == data.len() && cp == old.len() {
        return Ok(old_offsets.to_vec());
    }
    // Entries wholly inside the common prefix are the old tree's, checked.
    let k = old_offsets
        .partition_point(|&o| (o as usize) <= cp)
        .saturating_sub(1);
    let start = old_offsets.get(k).map_or(0, |&o| o as usize);
    // The state after entry k-1: a file a later directory could collide with
    // is a prefix of entry k-1's name, and every entry between the two starts
    // with it, so replaying the shared entries that start with the same byte
    // as entry k-1 rebuilds it.
    let mut state = State {
        prev: None,
        files: Vec::new(),
    };
    if k > 0 {
        // The first byte of a checked entry's name: after its mode's space.
        let first_byte = |o: u32| {
            let o = o as usize;
            let space = data[o..].iter().position(|&b| b == b' ').unwrap_or(0);
            data.get(o + space + 1).copied()
        };
        let first = first_byte(old_offsets[k - 1]);
        let mut j = k - 1;
        while j > 0 && first_byte(old_offsets[j - 1]) == first {
            j -= 1;
        }
        for &o in &old_offsets[j..k] {
            state.step(&parse(data, o as usize, &[])?)?;
        }
    }
    // The old tree's entries that lie wholly in the common suffix, where they
    // start in the new tree.
    let limit = data.len().min(old.len()) - cp.min(data.len().min(old.len()));
    let cs = common_suffix(data, old, limit);
    let shift = data.len() as i64 - old.len() as i64;
    let tail_from = old.len() - cs;
    let tail = old_offsets.partition_point(|&o| (o as usize) < tail_from);
    let mut offsets: Offsets = old_offsets[..k].to_vec();
    let mut at = start;
    while at < data.len() {
        let e = parse(data, at, state.prev.map_or(&[], |p| p.0))?;
        state.step(&e)?;
        offsets.push(at as u32);
        // This entry, checked against the one before it, starts where an old
        // entry starts inside the shared end, and no file is left that a later
        // directory could collide with: the rest is the old tree's.
        let old_at = at as i64 - shift;
        if state.files.is_empty()
            && old_at >= tail_from as i64
            && let Ok(t) = old_offsets[tail..].binary_search(&(old_at as u32))
        {
            offsets.extend(
                old_offsets[tail + t + 1..]
                    .iter()
                    .map(|&o| (o as i64 + shift) as u32),
            );
            return Ok(offsets);
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
        #![proptest_config(ProptestConfig::with_cases(3000))]
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
            old.splice(at..end, extra);
            let old = build(&sorted(old));
            let Ok(old_offsets) = check(&old) else { return Ok(()); };
            let data = build(&new);
            prop_assert_eq!(check_after(&data, &old, &old_offsets), check(&data));
        }
    }
}
