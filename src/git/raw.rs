//! git's raw object formats, read from bytes (pure: no repository).

use git2::Oid;

#[cfg(test)]
use super::tree_check::canon_mode;

/// Find each of `names` in a raw tree object ("MODE NAME\0<20-byte id>"
/// entries, sorted by name, a tree's name compared as if it ended in '/') in
/// one pass. `None`: the tree is corrupt; a name's `None`: no such entry.
/// The scan walks once used; now it is the model the binary search of
/// [`tree_check::find`](super::tree_check::find) is held to.
#[cfg(test)]
pub fn tree_entries(data: &[u8], names: &[&[u8]]) -> Option<Vec<Option<TreeHit>>> {
    let mut hits = vec![None; names.len()];
    let mut first = [false; 256];
    for n in names {
        if let Some(&b) = n.first() {
            first[usize::from(b)] = true;
        }
    }
    let Some(last) = names.iter().max_by(|a, b| {
        let key = |s: &&[u8]| {
            s.iter()
                .copied()
                .chain(std::iter::once(b'/'))
                .collect::<Vec<u8>>()
        };
        key(a).cmp(&key(b))
    }) else {
        return Some(hits);
    };
    if last.is_empty() {
        return Some(hits);
    }
    let (mut left, mut at) = (names.len(), 0);
    while at < data.len() && left > 0 {
        // "MODE NAME\0<20 bytes>": a mode is 5 or 6 octal digits.
        let space = if data.get(at + 5) == Some(&b' ') {
            at + 5
        } else if data.get(at + 6) == Some(&b' ') {
            at + 6
        } else {
            return None;
        };
        let name_at = space + 1;
        let nul = name_at + data.get(name_at..)?.iter().position(|&b| b == 0)?;
        let next = nul + 21;
        if next > data.len() || nul == name_at {
            return None;
        }
        let entry = &data[name_at..nul];
        if first[usize::from(entry[0])] {
            for (i, name) in names.iter().enumerate() {
                if hits[i].is_none() && *name == entry {
                    let mode = std::str::from_utf8(&data[at..space]).ok()?;
                    let mode = canon_mode(u32::from_str_radix(mode, 8).ok()?);
                    hits[i] = Some((Oid::from_bytes(&data[nul + 1..next]).ok()?, mode));
                    left -= 1;
                }
            }
        }
        // Past where the last name would sort: the rest are absent.
        let is_tree = match &data[at..space] {
            [b'4', ..] => space - at == 5,
            [b'0', b'4', ..] => space - at == 6,
            _ => false,
        };
        if entry[0] > last[0] || (entry[0] == last[0] && past(entry, is_tree, last)) {
            break;
        }
        at = next;
    }
    Some(hits)
}

/// An entry found in a tree: its object id and mode.
pub type TreeHit = (Oid, u32);

/// Does a tree entry sort after `name` looked up as a directory (git orders
/// a directory's name as if it ended in '/'), so that `name` cannot follow?
#[cfg(test)]
fn past(entry: &[u8], entry_is_tree: bool, name: &[u8]) -> bool {
    let n = entry.len().min(name.len());
    match entry[..n].cmp(&name[..n]) {
        std::cmp::Ordering::Equal => {
            let next = |s: &[u8], dir: bool| s.get(n).copied().or(dir.then_some(b'/'));
            next(entry, entry_is_tree) > next(name, true)
        }
        o => o.is_gt(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A raw tree object of `entries` (name, is a directory), in git's order.
    fn raw_tree(entries: &[(String, bool)]) -> Vec<u8> {
        let mut sorted: Vec<&(String, bool)> = entries.iter().collect();
        let key = |(n, d): &&(String, bool)| {
            let mut k = n.as_bytes().to_vec();
            if *d {
                k.push(b'/');
            }
            k
        };
        sorted.sort_by_key(key);
        let mut out = Vec::new();
        for (i, (name, dir)) in sorted.iter().enumerate() {
            out.extend_from_slice(if *dir { b"40000 " } else { b"100644 " });
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            out.extend_from_slice(&[i as u8; 20]);
        }
        out
    }

    proptest! {
        /// One pass for many names finds what one search per name finds, and
        /// what a plain scan of the entries finds.
        #[test]
        fn tree_entries_finds_each_name(
            names in proptest::collection::btree_map("[a-c.-]{1,4}", any::<bool>(), 0..20),
            wanted in proptest::collection::vec("[a-c.-]{1,4}", 1..6),
        ) {
            let entries: Vec<(String, bool)> = names.into_iter().collect();
            let data = raw_tree(&entries);
            let mut wanted: Vec<&[u8]> = wanted.iter().map(|w| w.as_bytes()).collect();
            wanted.sort_unstable();
            wanted.dedup();
            let many = tree_entries(&data, &wanted).unwrap();
            for (w, hit) in wanted.iter().zip(&many) {
                prop_assert_eq!(*hit, tree_entries(&data, &[w]).unwrap()[0]);
                let model = entries.iter().any(|(n, _)| n.as_bytes() == *w);
                prop_assert_eq!(hit.is_some(), model);
                // The binary search over a checked tree's offsets (what
                // walks use) finds the same as the scan.
                let Ok(offsets) = crate::git::tree_check::check(&data) else {
                    continue; // a name git never checks out: refused anyway
                };
                let found = crate::git::tree_check::find(&data, &offsets, w)
                    .unwrap()
                    .map(|(mode, id)| (Oid::from_bytes(id).unwrap(), mode));
                prop_assert_eq!(found, *hit);
            }
        }
    }
}
