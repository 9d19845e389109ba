//! A manifest's zones, in its order, each found by id without a scan.

use std::hash::BuildHasher;
use std::ops::Deref;

use super::Zone;

/// The zones of a manifest, in the manifest's order. Built once when the
/// manifest is read: every command looks zones up by id (the touched ones,
/// each one's base and staged versions), and a map built per lookup site
/// cost more than the lookups for a manifest of 1,000 zones.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    list: Vec<Zone>,
    /// Indexes into `list`, hashed by id; the first of a repeated id (a
    /// manifest that repeats one does not validate).
    by_id: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl Zones {
    pub fn new(list: Vec<Zone>) -> Self {
        let mut zones = Zones {
            list,
            ..Zones::default()
        };
        zones.index();
        zones
    }

    fn index(&mut self) {
        let Zones {
            list,
            by_id,
            hasher,
        } = self;
        by_id.clear();
        by_id.reserve(list.len(), |&i| hasher.hash_one(&list[i as usize].id));
        for (i, z) in list.iter().enumerate() {
            let hash = hasher.hash_one(&z.id);
            if by_id.find(hash, |&j| list[j as usize].id == z.id).is_none() {
                by_id.insert_unique(hash, i as u32, |&j| hasher.hash_one(&list[j as usize].id));
            }
        }
    }

    /// The zone with id `id`.
    pub fn get(&self, id: &str) -> Option<&Zone> {
        let hash = self.hasher.hash_one(id);
        self.by_id
            .find(hash, |&i| self.list[i as usize].id == id)
            .map(|&i| &self.list[i as usize])
    }

    /// Keeps the zones `keep` says to, in their order.
    pub fn retain(&mut self, keep: impl FnMut(&Zone) -> bool) {
        self.list.retain(keep);
        self.index();
    }

    /// Keeps the zones `keep` says to, which may move them (change their
    /// path and lines, never their id).
    pub fn retain_mut(&mut self, keep: impl FnMut(&mut Zone) -> bool) {
        let before = self.list.len();
        self.list.retain_mut(keep);
        if self.list.len() != before {
            self.index();
        }
    }

    pub fn into_vec(self) -> Vec<Zone> {
        self.list
    }
}

impl Deref for Zones {
    type Target = [Zone];

    fn deref(&self) -> &[Zone] {
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::PathSpec;
    use proptest::prelude::*;

    fn zone(id: &str) -> Zone {
        Zone {
            id: id.to_string(),
            path: PathSpec::Literal("f".into()),
            lines: None,
            reason: String::new(),
            signoffs: None,
            approvers: None,
            require: Vec::new(),
            also_change: Vec::new(),
            at: 0,
        }
    }

    proptest! {
        /// Found as a scan finds them (the first of a repeated id), before
        /// and after zones are dropped.
        #[test]
        fn lookups_are_a_scan(ids in proptest::collection::vec("[a-c]{0,2}", 0..40), asked in "[a-c]{0,2}", drop in "[a-c]{0,2}") {
            let mut zones = Zones::new(ids.iter().map(|i| zone(i)).collect());
            let scan = |z: &Zones, id: &str| z.iter().position(|x| x.id == id);
            let found = |z: &Zones, id: &str| z.get(id).map(|x| x as *const Zone);
            let by_scan = |z: &Zones, id: &str| scan(z, id).map(|i| &z[i] as *const Zone);
            prop_assert_eq!(found(&zones, &asked), by_scan(&zones, &asked));
            zones.retain(|z| z.id != drop);
            prop_assert_eq!(found(&zones, &asked), by_scan(&zones, &asked));
            prop_assert_eq!(zones.get(&drop).map(|z| z.id.clone()), None);
        }
    }
}
