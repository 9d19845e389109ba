//! The commits of a checked range and their parents, held in memory, so that
//! what each merge's side brings (the commits reachable from the side and not
//! from the first parent) is found without walking the repository again: a
//! range of 10,000 commits of git/git has 2,700 merges, and a walk from a side
//! forked months ago reads every first-parent commit back to the fork.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::change::ObjectId;
use crate::error::{Error, Result};
use crate::git::{CommitInfo, Repo};

/// A parent: a commit of the range (by position), or one outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    In(usize),
    Out(ObjectId),
}

/// The commits of `HIDDEN..TIP`, parents before children.
#[derive(Debug)]
pub struct Ancestry {
    hidden: ObjectId,
    index: HashMap<ObjectId, usize>,
    ids: Vec<ObjectId>,
    trees: Vec<ObjectId>,
    parents: Vec<Vec<Parent>>,
    /// The commits as read for their links, each until a judgment takes it
    /// (see [`Ancestry::take_commit`]); empty when not kept.
    commits: Vec<Mutex<Option<CommitInfo>>>,
}

/// A commit's tree and parents.
pub type Link = (ObjectId, Vec<ObjectId>);

/// Bytes of commit messages and authors a range's ancestry keeps for the
/// judgments to take (10,000 commits of git/git hold 7 MB; a commit beyond
/// the budget, such as one of a history of huge messages, is read again by
/// its judgment instead).
const KEPT_BYTES: usize = 16 << 20;

/// What a side brings, in range positions.
#[derive(Debug, PartialEq, Eq)]
pub struct Brought {
    /// Brought commits, oldest first.
    pub commits: Vec<usize>,
    /// Parents of brought commits that are not brought.
    pub boundary: Vec<Parent>,
}

const SIDE: u8 = 1;
const FIRST: u8 = 2;

impl Ancestry {
    /// Read the tree and parents of every commit of `ids` (the range
    /// `hidden..tip` in topological order, oldest first).
    pub fn read(repo: &Repo, hidden: &str, ids: &[ObjectId]) -> Result<Ancestry> {
        let budget = Ancestry::budget();
        let commits = ids
            .iter()
            .map(|id| Self::read_one(repo, id, &budget))
            .collect::<Result<Vec<_>>>()?;
        Ancestry::of_commits(hidden, ids, commits)
    }

    /// The bytes of commits [`Ancestry::read_one`] may keep, shared by the
    /// threads reading one range.
    pub fn budget() -> AtomicUsize {
        AtomicUsize::new(KEPT_BYTES)
    }

    /// Commit `id`'s links, from its header as git wrote it, and the commit
    /// read in full when it can be and `budget` allows (its judgment reads
    /// it otherwise, and says why it cannot). The links are not libgit2's
    /// reading of the commit: at a shallow clone's boundary that has no
    /// parents, where the range must still see the parents git recorded.
    pub fn read_one(
        repo: &Repo,
        id: &str,
        budget: &AtomicUsize,
    ) -> Result<(Option<CommitInfo>, Link)> {
        if repo.is_shallow_boundary(id) {
            return Ok((None, repo.commit_links(id)?));
        }
        match repo.commit(id) {
            Ok(c) => {
                let links = (c.tree.clone(), c.parents.clone());
                let weight = c.message.len() + c.author_name.len() + c.author_email.len();
                let kept = budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                        left.checked_sub(weight)
                    })
                    .is_ok();
                Ok((kept.then_some(c), links))
            }
            Err(_) => Ok((None, repo.commit_links(id)?)),
        }
    }

    /// From the commits of `ids` as [`Ancestry::read_one`] reads them: each
    /// read in full is kept for the judgment that reads it next
    /// ([`Ancestry::take_commit`]), so that a range reads each commit once
    /// here rather than twice.
    pub fn of_commits(
        hidden: &str,
        ids: &[ObjectId],
        read: Vec<(Option<CommitInfo>, Link)>,
    ) -> Result<Ancestry> {
        let (commits, links): (Vec<_>, Vec<_>) = read.into_iter().unzip();
        let mut ancestry = Ancestry::new(hidden, ids, links)?;
        ancestry.commits = commits.into_iter().map(Mutex::new).collect();
        Ok(ancestry)
    }

    /// Range commit `id` as read for its links, the first time it is asked
    /// for (the second asks the repository again).
    pub fn take_commit(&self, id: &str) -> Option<CommitInfo> {
        let kept = self.commits.get(self.position(id)?)?;
        kept.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// From already-read links (tree, parents) of `ids`.
    fn new(hidden: &str, ids: &[ObjectId], links: Vec<Link>) -> Result<Ancestry> {
        let index: HashMap<ObjectId, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        let mut trees = Vec::with_capacity(ids.len());
        let mut parents = Vec::with_capacity(ids.len());
        for (i, (tree, ps)) in links.into_iter().enumerate() {
            let mut row = Vec::with_capacity(ps.len());
            for p in ps {
                row.push(match index.get(&p) {
                    Some(&j) if j < i => Parent::In(j),
                    Some(_) => {
                        return Err(Error::new(format!(
                            "internal: the range is not in topological order at {}",
                            ids[i]
                        )));
                    }
                    None => Parent::Out(p),
                });
            }
            trees.push(tree);
            parents.push(row);
        }
        Ok(Ancestry {
            hidden: hidden.to_string(),
            index,
            ids: ids.to_vec(),
            trees,
            parents,
            commits: Vec::new(),
        })
    }

    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    pub fn tree(&self, i: usize) -> &str {
        &self.trees[i]
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn parents(&self, i: usize) -> &[Parent] {
        &self.parents[i]
    }

    /// The tree of a range commit, by id.
    pub fn tree_of(&self, id: &str) -> Option<&str> {
        self.position(id).map(|i| self.tree(i))
    }

    /// The commits reachable from `side` and not from `first`, or `None` when
    /// the range alone cannot tell: `side` outside the range, or `first` neither
    /// the range's hidden end nor a range commit that reaches it. (Every commit
    /// outside the range that a range commit reaches is reachable from the
    /// hidden end, so then none of them is brought.)
    pub fn brought(&self, first: &str, side: &str) -> Option<Brought> {
        let s = self.position(side)?;
        let f = if first == self.hidden {
            None
        } else {
            Some(self.position(first)?)
        };
        let top = f.map_or(s, |f| f.max(s));
        let mut flags = vec![0u8; top + 1];
        flags[s] |= SIDE;
        if let Some(f) = f {
            flags[f] |= FIRST;
        }
        let mut first_reaches_hidden = f.is_none();
        for i in (0..=top).rev() {
            let here = flags[i];
            if here == 0 {
                continue;
            }
            for p in &self.parents[i] {
                match p {
                    Parent::In(j) => flags[*j] |= here,
                    Parent::Out(id) => {
                        if here & FIRST != 0 && *id == self.hidden {
                            first_reaches_hidden = true;
                        }
                    }
                }
            }
        }
        if !first_reaches_hidden {
            return None;
        }
        let commits: Vec<usize> = (0..=top).filter(|&i| flags[i] == SIDE).collect();
        let mut boundary = Vec::new();
        for &c in &commits {
            for p in &self.parents[c] {
                let outside = match p {
                    Parent::In(j) => flags[*j] != SIDE,
                    Parent::Out(_) => true,
                };
                if outside && !boundary.contains(p) {
                    boundary.push(p.clone());
                }
            }
        }
        Some(Brought { commits, boundary })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A history given as (id, parents); "h" is the hidden end.
    fn dag(edges: &[(&str, &[&str])]) -> Ancestry {
        let ids: Vec<ObjectId> = edges.iter().map(|(id, _)| id.to_string()).collect();
        let links = edges
            .iter()
            .map(|(id, ps)| {
                (
                    format!("tree-{id}"),
                    ps.iter().map(|p| p.to_string()).collect(),
                )
            })
            .collect();
        Ancestry::new("h", &ids, links).expect("topological")
    }

    fn names(a: &Ancestry, b: &Brought) -> Vec<String> {
        b.commits.iter().map(|&i| a.id(i).to_string()).collect()
    }

    #[test]
    fn a_topic_branch_brings_its_own_commits() {
        // h - m1 - m2 - M ; h - t1 - t2 (merged by M)
        let a = dag(&[
            ("m1", &["h"]),
            ("t1", &["h"]),
            ("m2", &["m1"]),
            ("t2", &["t1"]),
        ]);
        let b = a.brought("m2", "t2").expect("decidable");
        assert_eq!(names(&a, &b), ["t1", "t2"]);
        assert_eq!(b.boundary, [Parent::Out("h".into())]);
        // From the hidden end itself, everything of the side in range.
        let b = a.brought("h", "t2").expect("decidable");
        assert_eq!(names(&a, &b), ["t1", "t2"]);
    }

    #[test]
    fn a_side_that_merged_the_first_parent_brings_only_what_it_added() {
        // t2 merges m1 into the topic; M would merge t3 into m2.
        let a = dag(&[
            ("t1", &["h"]),
            ("m1", &["h"]),
            ("t2", &["t1", "m1"]),
            ("m2", &["m1"]),
            ("t3", &["t2"]),
        ]);
        let b = a.brought("m2", "t3").expect("decidable");
        assert_eq!(names(&a, &b), ["t1", "t2", "t3"]);
        assert_eq!(b.boundary, [Parent::Out("h".into()), Parent::In(1)]);
    }

    #[test]
    fn what_the_range_cannot_tell_is_left_to_a_walk() {
        // o1 is a side commit whose parent is older than the range (not h).
        let a = dag(&[("o1", &["old"]), ("m1", &["h"]), ("x", &["old"])]);
        assert!(a.brought("m1", "outside").is_none());
        // x does not reach the hidden end: what it reaches outside is unknown.
        assert!(a.brought("x", "o1").is_none());
        let b = a.brought("m1", "o1").expect("m1 reaches h");
        assert_eq!(names(&a, &b), ["o1"]);
        assert_eq!(b.boundary, [Parent::Out("old".into())]);
    }

    /// All ancestors (self included) of `id` in a history given as edges.
    fn reach(edges: &[(String, Vec<String>)], id: &str) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        let mut todo = vec![id.to_string()];
        while let Some(x) = todo.pop() {
            if out.insert(x.clone())
                && let Some((_, ps)) = edges.iter().find(|(i, _)| *i == x)
            {
                todo.extend(ps.iter().cloned());
            }
        }
        out
    }

    proptest::proptest! {
        /// Against a brute-force model: a random history whose oldest part
        /// ("h" and what it reaches, "o0".."o2") is outside the range.
        #[test]
        fn brought_is_reachable_from_the_side_and_not_from_the_first_parent(
            shape in proptest::collection::vec((0usize..100, 0usize..100, 0usize..4), 1..40),
            pick in (0usize..100, 0usize..100),
        ) {
            // Outside the range: o0 <- o1 <- h, and o2 (reachable from h too).
            let mut all: Vec<(String, Vec<String>)> = vec![
                ("o0".into(), vec![]),
                ("o1".into(), vec!["o0".into()]),
                ("o2".into(), vec![]),
                ("h".into(), vec!["o1".into(), "o2".into()]),
            ];
            let outside = ["h", "o1", "o2", "o0"];
            let mut ids = Vec::new();
            for (i, (a, b, n)) in shape.iter().enumerate() {
                let parent = |k: usize| {
                    if i == 0 || k.is_multiple_of(5) {
                        outside[k % outside.len()].to_string()
                    } else {
                        format!("c{}", k % i)
                    }
                };
                let mut ps = Vec::new();
                for k in [*a, *b].into_iter().take(*n) {
                    let p = parent(k);
                    if !ps.contains(&p) {
                        ps.push(p);
                    }
                }
                let id = format!("c{i}");
                ids.push(id.clone());
                all.push((id, ps));
            }
            let range: Vec<(String, Vec<String>)> = all[4..].to_vec();
            let links = range.iter().map(|(id, ps)| (format!("t{id}"), ps.clone())).collect();
            let a = Ancestry::new("h", &ids, links).expect("topological");
            let side = ids[pick.0 % ids.len()].clone();
            let first = if pick.1.is_multiple_of(7) { "h".to_string() } else { ids[pick.1 % ids.len()].clone() };
            let from_side = reach(&all, &side);
            let from_first = reach(&all, &first);
            let expected: Vec<String> = ids
                .iter()
                .filter(|c| from_side.contains(*c) && !from_first.contains(*c))
                .cloned()
                .collect();
            match a.brought(&first, &side) {
                Some(b) => {
                    proptest::prop_assert_eq!(names(&a, &b), expected.clone());
                    // No commit outside the range is brought.
                    proptest::prop_assert!(from_side.iter().filter(|c| !ids.contains(c))
                        .all(|c| from_first.contains(c)));
                    // The boundary: parents of brought commits that are not brought.
                    let mut boundary: Vec<String> = Vec::new();
                    for c in &expected {
                        for p in &all.iter().find(|(i, _)| i == c).expect("known").1 {
                            if !expected.contains(p) && !boundary.contains(p) {
                                boundary.push(p.clone());
                            }
                        }
                    }
                    let got: Vec<String> = b.boundary.iter().map(|p| match p {
                        Parent::In(j) => a.id(*j).to_string(),
                        Parent::Out(id) => id.clone(),
                    }).collect();
                    let (mut g, mut e) = (got, boundary);
                    g.sort();
                    e.sort();
                    proptest::prop_assert_eq!(g, e);
                }
                None => proptest::prop_assert!(first != "h" && !from_first.contains("h")),
            }
        }
    }

    #[test]
    fn a_side_already_in_the_first_parent_brings_nothing() {
        let a = dag(&[("m1", &["h"]), ("m2", &["m1"])]);
        let b = a.brought("m2", "m1").expect("decidable");
        assert!(b.commits.is_empty());
        assert!(b.boundary.is_empty());
    }
}
