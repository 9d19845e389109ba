//! The one cache type: a map bounded by a budget (entries, or bytes). When
//! an insertion would exceed it, the least recently used entries go, down
//! to three quarters of the budget (so eviction is paid once per quarter
//! budget inserted, not per insertion). What guard caches is read in walks
//! where the next lookups resemble recent ones: a blob a range's merge reads
//! again was read a few dozen blobs before, and clearing the whole cache
//! when full (as it once did) read a sixth more bytes of blobs over git/git.

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::Hash;

pub struct Bounded<K, V> {
    /// Each value with when it was last used.
    map: RefCell<HashMap<K, (V, u64)>>,
    used: Cell<usize>,
    clock: Cell<u64>,
    budget: Cell<usize>,
    /// What one value costs against the budget.
    cost: fn(&V) -> usize,
}

fn one<V>(_: &V) -> usize {
    1
}

impl<K: Hash + Eq, V: Clone> Bounded<K, V> {
    /// At most `n` entries.
    pub fn entries(n: usize) -> Self {
        Self::weighed(n, one::<V>)
    }

    /// At most `budget` in the sum of `cost` over the values.
    pub fn weighed(budget: usize, cost: fn(&V) -> usize) -> Self {
        Bounded {
            map: RefCell::new(HashMap::new()),
            used: Cell::new(0),
            clock: Cell::new(0),
            budget: Cell::new(budget),
            cost,
        }
    }

    fn tick(&self) -> u64 {
        let t = self.clock.get() + 1;
        self.clock.set(t);
        t
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = self.map.borrow_mut();
        let (value, used) = map.get_mut(key)?;
        *used = self.tick();
        Some(value.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        let cost = (self.cost)(&value);
        let t = self.tick();
        let mut map = self.map.borrow_mut();
        if let Some((old, _)) = map.remove(&key) {
            self.used.set(self.used.get() - (self.cost)(&old));
        }
        let budget = self.budget.get();
        if self.used.get() + cost > budget {
            self.evict(&mut map, (budget - budget / 4).saturating_sub(cost));
        }
        map.insert(key, (value, t));
        self.used.set(self.used.get() + cost);
    }

    /// Drop the least recently used entries until at most `keep` is used.
    fn evict(&self, map: &mut HashMap<K, (V, u64)>, keep: usize) {
        let mut by_age: Vec<(u64, usize)> =
            map.values().map(|(v, t)| (*t, (self.cost)(v))).collect();
        by_age.sort_unstable();
        let mut used = self.used.get();
        // Entries used at or before `last` go.
        let mut last = None;
        for (t, cost) in by_age {
            if used <= keep {
                break;
            }
            used -= cost;
            last = Some(t);
        }
        if let Some(last) = last {
            map.retain(|_, (_, t)| *t > last);
        }
        self.used.set(used);
    }

    /// A new budget, down to which the least recently used go at once.
    pub fn set_budget(&self, budget: usize) {
        self.budget.set(budget);
        if self.used.get() > budget {
            self.evict(&mut self.map.borrow_mut(), budget);
        }
    }

    pub fn clear(&self) {
        self.map.borrow_mut().clear();
        self.used.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_its_budget() {
        let c: Bounded<u32, Vec<u8>> = Bounded::weighed(10, Vec::len);
        for i in 0..100 {
            c.insert(i, vec![0; (i % 7) as usize]);
            let total: usize = c.map.borrow().values().map(|(v, _)| v.len()).sum();
            assert!(total <= 10 && total == c.used.get());
            assert_eq!(c.get(&i).map(|v| v.len()), Some((i % 7) as usize));
        }
        c.insert(1000, vec![0; 3]);
        c.insert(1000, vec![0; 2]);
        assert_eq!(
            c.used.get(),
            c.map.borrow().values().map(|(v, _)| v.len()).sum::<usize>()
        );
    }

    /// Against a model that keeps every entry in order of use: the cache
    /// holds exactly the most recently used entries that the eviction kept,
    /// and what it holds is what was last inserted under each key.
    #[test]
    fn a_smaller_budget_keeps_the_most_recently_used() {
        let c: Bounded<u32, Vec<u8>> = Bounded::weighed(100, Vec::len);
        for i in 0..10 {
            c.insert(i, vec![0; 10]);
        }
        // 3 was used last: it stays with the two inserted last.
        assert!(c.get(&3).is_some());
        c.set_budget(30);
        assert_eq!(c.used.get(), 30);
        let mut kept: Vec<u32> = c.map.borrow().keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, vec![3, 8, 9]);
        // Later insertions stay within the new budget.
        for i in 10..20 {
            c.insert(i, vec![0; 10]);
            assert!(c.used.get() <= 30);
        }
    }

    #[test]
    fn keeps_the_most_recently_used() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for budget in [1usize, 4, 10, 37] {
            let c: Bounded<u64, Vec<u8>> = Bounded::weighed(budget, Vec::len);
            // (key, cost) in order of use, most recent last.
            let mut model: Vec<(u64, usize)> = Vec::new();
            for _ in 0..5_000 {
                let key = next() % 24;
                if next() % 3 == 0 {
                    let got = c.get(&key).map(|v| v.len());
                    let known = model.iter().position(|(k, _)| *k == key);
                    assert_eq!(got, known.map(|i| model[i].1), "get {key}");
                    if let Some(i) = known {
                        let e = model.remove(i);
                        model.push(e);
                    }
                    continue;
                }
                let cost = (next() % 6) as usize;
                c.insert(key, vec![0; cost]);
                model.retain(|(k, _)| *k != key);
                let mut used: usize = model.iter().map(|(_, c)| c).sum();
                if used + cost > budget {
                    let keep = (budget - budget / 4).saturating_sub(cost);
                    while used > keep {
                        used -= model.remove(0).1;
                    }
                }
                model.push((key, cost));
                let held: std::collections::BTreeSet<u64> =
                    c.map.borrow().keys().copied().collect();
                let modelled: std::collections::BTreeSet<u64> =
                    model.iter().map(|(k, _)| *k).collect();
                assert_eq!(held, modelled);
                assert_eq!(c.used.get(), model.iter().map(|(_, c)| c).sum::<usize>());
                assert!(c.used.get() <= budget.max(cost));
            }
        }
    }
}
