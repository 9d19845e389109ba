//! The one cache type: a map bounded by a budget (entries, or bytes), cleared
//! whole when an insertion would exceed it. What guard caches is read in
//! walks where the next lookups resemble the last ones, so clearing costs a
//! few re-reads and bounds memory by design.

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::Hash;

pub struct Bounded<K, V> {
    map: RefCell<HashMap<K, V>>,
    used: Cell<usize>,
    budget: usize,
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
            budget,
            cost,
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.borrow().get(key).cloned()
    }

    pub fn insert(&self, key: K, value: V) {
        let cost = (self.cost)(&value);
        let mut map = self.map.borrow_mut();
        if self.used.get() + cost > self.budget {
            map.clear();
            self.used.set(0);
        }
        if let Some(old) = map.insert(key, value) {
            self.used.set(self.used.get() - (self.cost)(&old));
        }
        self.used.set(self.used.get() + cost);
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
            let total: usize = c.map.borrow().values().map(Vec::len).sum();
            assert!(total <= 10 && total == c.used.get());
            assert_eq!(c.get(&i).map(|v| v.len()), Some((i % 7) as usize));
        }
        c.insert(1000, vec![0; 3]);
        c.insert(1000, vec![0; 2]);
        assert_eq!(
            c.used.get(),
            c.map.borrow().values().map(Vec::len).sum::<usize>()
        );
    }
}
