//! The one comparison behind every list of changes: two listings sorted as
//! git sorts them (one tree's entries, a directory's name as if it ended in
//! '/'; or whole paths, as the index and a flattened tree list them), merged
//! into the keys whose values differ. Pure: no repository.

use super::path_of;
use crate::change::{Entry, FileChange};
use crate::error::Result;

/// A listing's item: its key (a name or a path, as bytes) and its value.
pub type Listed<V> = (Vec<u8>, V);

/// The keys whose values differ between two listings sorted by key (a key
/// absent on one side differs), with the value on each side, in key order.
pub fn differ<'a, V: PartialEq>(
    old: &'a [Listed<V>],
    new: &'a [Listed<V>],
) -> Vec<(&'a [u8], Option<&'a V>, Option<&'a V>)> {
    use std::cmp::Ordering;
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) => a.0.cmp(&b.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let (key, o, n) = match order {
            Ordering::Less => {
                i += 1;
                (&old[i - 1].0, Some(&old[i - 1].1), None)
            }
            Ordering::Greater => {
                j += 1;
                (&new[j - 1].0, None, Some(&new[j - 1].1))
            }
            Ordering::Equal => {
                i += 1;
                j += 1;
                (&old[i - 1].0, Some(&old[i - 1].1), Some(&new[j - 1].1))
            }
        };
        if o != n {
            out.push((key.as_slice(), o, n));
        }
    }
    out
}

/// The file changes between two listings of whole paths.
pub fn changes(before: &[Listed<Entry>], after: &[Listed<Entry>]) -> Result<Vec<FileChange>> {
    differ(before, after)
        .into_iter()
        .map(|(path, o, n)| {
            Ok(FileChange {
                path: path_of(path)?,
                old: o.cloned(),
                new: n.cloned(),
                renamed_to: None,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// What differs is what a map comparison of every key says differs.
        #[test]
        fn differ_is_a_map_comparison(
            a in proptest::collection::btree_map("[a-c/]{1,3}", 0u8..3, 0..12),
            b in proptest::collection::btree_map("[a-c/]{1,3}", 0u8..3, 0..12),
        ) {
            let list = |m: &BTreeMap<String, u8>| -> Vec<Listed<u8>> {
                m.iter().map(|(k, v)| (k.as_bytes().to_vec(), *v)).collect()
            };
            let (la, lb) = (list(&a), list(&b));
            let got: Vec<(Vec<u8>, Option<u8>, Option<u8>)> = differ(&la, &lb)
                .into_iter()
                .map(|(k, o, n)| (k.to_vec(), o.copied(), n.copied()))
                .collect();
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            let model: Vec<(Vec<u8>, Option<u8>, Option<u8>)> = keys
                .into_iter()
                .map(|k| (k.as_bytes().to_vec(), a.get(k).copied(), b.get(k).copied()))
                .filter(|(_, o, n)| o != n)
                .collect();
            prop_assert_eq!(got, model);
        }
    }
}
