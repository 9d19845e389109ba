//! Who may consent to a zone's change: its `approvers` (groups or instances),
//! its `require` entries (AND: each met by distinct instances, an instance
//! counting toward at most one entry) and its total `signoffs`. Pure: the
//! same functions decide whether a manifest's rules can be met at all (at
//! validation) and what a change's sign-offs still lack (in the verdict).

use serde::Serialize;

use super::{Manifest, Zone};

/// What a zone's rules ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub total: u32,
    /// The instances whose sign-offs count (`None`: anyone's).
    pub eligible: Option<Vec<String>>,
    /// (group, sign-offs, its members).
    pub require: Vec<(String, u32, Vec<String>)>,
}

/// What a change's sign-offs still lack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmet {
    /// The `require` entry's group; `None` for the zone's total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// How many more distinct sign-offs.
    pub more: u32,
    /// Whose sign-off would count.
    pub from: Vec<String>,
}

impl std::fmt::Display for Unmet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.more == 1 { "" } else { "s" };
        let from = self.from.join(" or ");
        match &self.group {
            Some(g) if self.from.is_empty() => {
                write!(f, "needs {} more from group {g}", self.more)
            }
            Some(g) => write!(f, "needs {} more from group {g}: {from}", self.more),
            None if self.from.len() == self.more as usize && !self.from.is_empty() => {
                write!(f, "needs {}", self.from.join(" and "))
            }
            None if self.from.is_empty() => write!(f, "needs {} more sign-off{s}", self.more),
            None => write!(f, "needs {} more sign-off{s} from: {from}", self.more),
        }
    }
}

impl Manifest {
    /// The rules of `zone` under this manifest.
    pub fn rules(&self, zone: &Zone) -> Rules {
        let eligible = self.eligible(zone);
        let require = zone
            .require
            .iter()
            .map(|q| {
                let members = self.group(&q.group).map_or(Vec::new(), |g| {
                    let mut m = g.members.clone();
                    m.sort();
                    m.dedup();
                    m
                });
                (q.group.clone(), q.signoffs, members)
            })
            .collect();
        Rules {
            total: zone.threshold(&self.policy),
            eligible,
            require,
        }
    }
}

/// How many of each `require` entry's sign-offs `signed` can fill, each
/// instance filling at most one (a maximum bipartite matching, by augmenting
/// paths: the sizes are a manifest's).
fn fill(require: &[(String, u32, Vec<String>)], signed: &[&String]) -> Vec<u32> {
    // Slots: one per sign-off an entry needs.
    let slots: Vec<usize> = require
        .iter()
        .enumerate()
        .flat_map(|(i, (_, n, _))| std::iter::repeat_n(i, *n as usize))
        .collect();
    let can = |slot: usize, who: usize| require[slots[slot]].2.contains(signed[who]);
    let mut holder: Vec<Option<usize>> = vec![None; slots.len()]; // slot -> instance
    fn augment(
        who: usize,
        slots: usize,
        can: &dyn Fn(usize, usize) -> bool,
        holder: &mut Vec<Option<usize>>,
        seen: &mut Vec<bool>,
    ) -> bool {
        for s in 0..slots {
            if can(s, who) && !seen[s] {
                seen[s] = true;
                let free = match holder[s] {
                    None => true,
                    Some(other) => augment(other, slots, can, holder, seen),
                };
                if free {
                    holder[s] = Some(who);
                    return true;
                }
            }
        }
        false
    }
    for who in 0..signed.len() {
        let mut seen = vec![false; slots.len()];
        augment(who, slots.len(), &can, &mut holder, &mut seen);
    }
    let mut filled = vec![0; require.len()];
    for (s, h) in holder.iter().enumerate() {
        if h.is_some() {
            filled[slots[s]] += 1;
        }
    }
    filled
}

/// What `signed` (the distinct instances whose sign-offs count) still lacks
/// under `rules`; `excluded` (the author, when the author's sign-off does not
/// count) is never proposed. Empty: the rules are met.
pub fn unmet(rules: &Rules, signed: &[String], excluded: Option<&str>) -> Vec<Unmet> {
    let counts = |who: &String| rules.eligible.as_ref().is_none_or(|e| e.contains(who));
    let counted: Vec<&String> = signed.iter().filter(|s| counts(s)).collect();
    let proposable = |who: &String| !signed.contains(who) && excluded != Some(who.as_str());
    let mut out = Vec::new();
    let filled = fill(&rules.require, &counted);
    for ((group, n, members), got) in rules.require.iter().zip(filled) {
        if got < *n {
            out.push(Unmet {
                group: Some(group.clone()),
                more: n - got,
                from: members
                    .iter()
                    .filter(|m| counts(m) && proposable(m))
                    .cloned()
                    .collect(),
            });
        }
    }
    let have = counted.len() as u32;
    if have < rules.total {
        out.push(Unmet {
            group: None,
            more: rules.total - have,
            from: rules
                .eligible
                .iter()
                .flatten()
                .filter(|m| proposable(m))
                .cloned()
                .collect(),
        });
    }
    out
}

/// Can `available` instances meet `rules` at all?
pub fn satisfiable(rules: &Rules, available: &[String]) -> bool {
    let usable: Vec<String> = available
        .iter()
        .filter(|a| rules.eligible.as_ref().is_none_or(|e| e.contains(a)))
        .cloned()
        .collect();
    unmet(rules, &usable, None).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn and_with_overlapping_members_needs_distinct_instances() {
        // alpha is in both groups: alone it meets one entry, never two.
        let rules = Rules {
            total: 2,
            eligible: None,
            require: vec![
                ("security".into(), 1, ids(&["alpha", "beta"])),
                ("backend".into(), 1, ids(&["alpha", "gamma"])),
            ],
        };
        let lack = unmet(&rules, &ids(&["alpha"]), None);
        assert_eq!(lack.len(), 2, "{lack:?}");
        assert_eq!(
            lack[0].to_string(),
            "needs 1 more from group backend: gamma"
        );
        assert_eq!(lack[1].to_string(), "needs 1 more sign-off");
        // alpha for security, gamma for backend: met (the matching moves alpha).
        assert!(unmet(&rules, &ids(&["gamma", "alpha"]), None).is_empty());
        assert!(!unmet(&rules, &ids(&["alpha", "delta"]), None).is_empty());
    }

    #[test]
    fn approvers_exclude_everyone_else() {
        let rules = Rules {
            total: 1,
            eligible: Some(ids(&["enzo"])),
            require: Vec::new(),
        };
        let lack = unmet(&rules, &ids(&["alpha", "beta"]), None);
        assert_eq!(lack[0].to_string(), "needs enzo");
        assert!(unmet(&rules, &ids(&["enzo"]), None).is_empty());
        assert!(!satisfiable(&rules, &ids(&["alpha"])));
    }

    /// All subsets of `signed` of size k, for the brute-force model.
    fn choose(signed: &[String], k: usize) -> Vec<Vec<String>> {
        if k == 0 {
            return vec![Vec::new()];
        }
        let mut out = Vec::new();
        for i in 0..signed.len() {
            for mut rest in choose(&signed[i + 1..], k - 1) {
                rest.insert(0, signed[i].clone());
                out.push(rest);
            }
        }
        out
    }

    /// Brute force: can the entries be met by disjoint sets of signers?
    fn model(require: &[(String, u32, Vec<String>)], signed: &[String]) -> bool {
        let Some(((_, n, members), rest)) = require.split_first() else {
            return true;
        };
        let pool: Vec<String> = signed
            .iter()
            .filter(|s| members.contains(s))
            .cloned()
            .collect();
        choose(&pool, *n as usize).into_iter().any(|picked| {
            let left: Vec<String> = signed
                .iter()
                .filter(|s| !picked.contains(s))
                .cloned()
                .collect();
            model(rest, &left)
        })
    }

    proptest! {
        /// The matching meets the entries exactly when some disjoint choice does.
        #[test]
        fn matching_agrees_with_brute_force(
            groups in proptest::collection::vec(
                (1u32..3, proptest::collection::btree_set(0u8..5, 0..5)), 0..4),
            signed in proptest::collection::btree_set(0u8..5, 0..5),
        ) {
            let name = |i: &u8| format!("i{i}");
            let require: Vec<(String, u32, Vec<String>)> = groups
                .iter()
                .enumerate()
                .map(|(g, (n, m))| (format!("g{g}"), *n, m.iter().map(name).collect()))
                .collect();
            let signed: Vec<String> = signed.iter().map(name).collect();
            let rules = Rules { total: 0, eligible: None, require: require.clone() };
            prop_assert_eq!(unmet(&rules, &signed, None).is_empty(), model(&require, &signed));
        }
    }
}
