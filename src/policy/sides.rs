//! What a merge's sides bring: each side's merge base with the first
//! parent, the commits it brings, which of them changed a path, and how
//! their own manifests judged them (remembered across a range).

use foldhash::{HashMap, HashMapExt};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::{Change, Evaluator};
use crate::ancestry::Parent;
use crate::change::ObjectId;
use crate::error::{Error, Result};
use crate::git::Side;
use crate::manifest::{Manifest, Zones};
use crate::merge::{Brought, Facts, Judged};

/// A pair of commits: (first parent, side).
type Pair = (ObjectId, ObjectId);

/// Brought commits that changed a path: their position in the side's history,
/// and their judgment.
type Changing = Rc<Vec<(usize, Rc<Brought>)>>;

/// What the evaluator remembers about merges across the changes it judges.
#[derive(Default)]
pub struct Cache {
    /// What a side brings to a first parent.
    history: RefCell<HashMap<Pair, Rc<SideHistory>>>,
    /// A brought commit's own judgment.
    judged: RefCell<HashMap<ObjectId, Rc<Brought>>>,
}

/// The commits a side brings (reachable from it and not from the first parent),
/// and the trees where its history meets the first parent's.
pub struct SideHistory {
    /// Oldest first.
    pub commits: Vec<BroughtCommit>,
    /// The parents of brought commits that are not brought themselves: every
    /// merge base of the two is among them. The side itself when it brings no
    /// commit; the empty tree when its history never meets the first parent's.
    pub bases: Vec<Side>,
    /// The brought commits that changed a path, by path.
    changing: RefCell<HashMap<String, Changing>>,
    /// Which of the first parent's zones the manifest before each brought
    /// commit had, by the commit's position (see [`Evaluator::had_first_zone`]).
    had: RefCell<HashMap<usize, Had>>,
}

/// A brought commit's answer for every zone of the first parent's manifest
/// `zones`: bit `i` set when its own manifest had a zone of `zones[i]`'s id.
struct Had {
    zones: Arc<Zones>,
    bits: Vec<u64>,
}

/// A brought commit, with its tree, its first parent's, and its other
/// parents' (a merge's own change is what differs from all of them).
pub struct BroughtCommit {
    pub id: ObjectId,
    pub tree: Side,
    pub before: Side,
    pub others: Vec<Side>,
}

/// One side parent of a merge.
pub struct SideParent {
    pub tree: Side,
    pub history: Rc<SideHistory>,
}

impl Evaluator<'_> {
    /// The side parents of a merge, each with what it brings.
    pub(super) fn sides(&self, change: &Change) -> Result<Vec<SideParent>> {
        let Some((first, sides)) = change.parents.split_first() else {
            return Err(Error::new(
                "internal: a merge's parents are not known; cannot judge what it brings",
            ));
        };
        if sides.len() != change.others.len() {
            return Err(Error::new("internal: a merge's parents and trees disagree"));
        }
        sides
            .iter()
            .zip(&change.others)
            .map(|(side, tree)| {
                Ok(SideParent {
                    tree: tree.clone(),
                    history: self.history(first, side, tree)?,
                })
            })
            .collect()
    }

    /// What `side` (whose tree is `tree`) brings to `first`. The boundary of the
    /// brought commits stands for the merge base: finding the best merge base
    /// walks far more history (libgit2 took 60 ms a merge on git/git), and
    /// judging against every boundary commit errs on the side of "not carried".
    fn history(&self, first: &str, side: &str, tree: &Side) -> Result<Rc<SideHistory>> {
        let key = (first.to_string(), side.to_string());
        if let Some(h) = self.merges.history.borrow().get(&key) {
            return Ok(h.clone());
        }
        if let Some(h) = self.history_in_range(first, side, tree)? {
            let h = Rc::new(h);
            self.merges.history.borrow_mut().insert(key, h.clone());
            return Ok(h);
        }
        let ids = self.store.range(first, side)?;
        // In a shallow clone, what a side brings may reach past the cut: the
        // merge cannot be judged (exit 2), as any commit whose parents are missing.
        if let Some(cut) = ids.iter().find(|id| self.store.is_shallow_boundary(id)) {
            return Err(Error::new(format!(
                "commit {} (brought by {}) is at the boundary of a shallow clone: what the \
                 merge brings cannot be evaluated; fetch full history (git fetch --unshallow, \
                 or fetch-depth: 0 in CI)",
                &cut[..cut.len().min(10)],
                &side[..side.len().min(10)]
            )));
        }
        let mut trees: HashMap<ObjectId, Side> = HashMap::with_capacity(ids.len());
        let mut parents = Vec::with_capacity(ids.len());
        for id in &ids {
            let c = self.store.commit(id)?;
            trees.insert(id.clone(), Side::Tree(c.tree));
            parents.push(c.parents);
        }
        let mut bases = Vec::new();
        if ids.is_empty() {
            bases.push(tree.clone());
        }
        for ps in &parents {
            for p in ps {
                if !trees.contains_key(p) {
                    let t = Side::Tree(self.store.commit(p)?.tree);
                    trees.insert(p.clone(), t.clone());
                    bases.push(t);
                }
            }
        }
        if bases.is_empty() {
            bases.push(Side::Empty);
        }
        let commits = ids
            .into_iter()
            .zip(parents)
            // Every id and every parent was put in `trees` above: the
            // defaults are never taken.
            .map(|(id, ps)| BroughtCommit {
                tree: trees.get(&id).cloned().unwrap_or(Side::Empty),
                before: ps
                    .first()
                    .and_then(|p| trees.get(p).cloned())
                    .unwrap_or(Side::Empty),
                others: ps
                    .iter()
                    .skip(1)
                    .map(|p| trees.get(p).cloned().unwrap_or(Side::Empty))
                    .collect(),
                id,
            })
            .collect();
        let h = Rc::new(SideHistory {
            commits,
            bases,
            changing: RefCell::default(),
            had: RefCell::default(),
        });
        self.merges.history.borrow_mut().insert(key, h.clone());
        Ok(h)
    }

    /// [`Evaluator::history`] from the checked range's commits, when they tell.
    fn history_in_range(
        &self,
        first: &str,
        side: &str,
        tree: &Side,
    ) -> Result<Option<SideHistory>> {
        let Some(dag) = &self.ancestry else {
            return Ok(None);
        };
        let Some(brought) = dag.brought(first, side) else {
            return Ok(None);
        };
        let tree_of = |p: &Parent| -> Result<Side> {
            Ok(Side::Tree(match p {
                Parent::In(j) => dag.tree(*j).to_string(),
                Parent::Out(id) => self.store.commit_links(id)?.0,
            }))
        };
        let mut commits = Vec::with_capacity(brought.commits.len());
        for &i in &brought.commits {
            let parents = dag.parents(i);
            commits.push(BroughtCommit {
                id: dag.id(i).to_string(),
                tree: Side::Tree(dag.tree(i).to_string()),
                before: match parents.first() {
                    Some(p) => tree_of(p)?,
                    None => Side::Empty,
                },
                others: parents.iter().skip(1).map(tree_of).collect::<Result<_>>()?,
            });
        }
        let mut bases = Vec::with_capacity(brought.boundary.len());
        for p in &brought.boundary {
            bases.push(tree_of(p)?);
        }
        if commits.is_empty() {
            bases = vec![tree.clone()];
        } else if bases.is_empty() {
            bases.push(Side::Empty);
        }
        Ok(Some(SideHistory {
            commits,
            bases,
            changing: RefCell::default(),
            had: RefCell::default(),
        }))
    }

    /// The brought commits that changed `path` (relative to their first parent).
    pub(super) fn changing(&self, history: &SideHistory, path: &str) -> Result<Changing> {
        if let Some(found) = history.changing.borrow().get(path) {
            return Ok(found.clone());
        }
        let mut out = Vec::new();
        for (i, c) in history.commits.iter().enumerate() {
            if self.store.entry(&c.tree, path)? != self.store.entry(&c.before, path)? {
                out.push((i, self.judged(&c.id)));
            }
        }
        let out = Rc::new(out);
        history
            .changing
            .borrow_mut()
            .insert(path.to_string(), out.clone());
        Ok(out)
    }

    /// A brought commit as its own manifest judges it (remembered).
    fn judged(&self, id: &str) -> Rc<Brought> {
        if let Some(b) = self.merges.judged.borrow().get(id) {
            return b.clone();
        }
        // Its result, an error included, is remembered (as `Judged::Failed`);
        // the verdict itself is not reported, so its lines' text is not cut.
        let quiet = self.quiet.replace(true);
        let _ = self.judge_commit(id);
        self.quiet.set(quiet);
        if let Some(b) = self.merges.judged.borrow().get(id) {
            return b.clone();
        }
        Rc::new(Brought {
            id: id.to_string(),
            judged: Judged::Failed("internal: the commit's judgment was not kept".into()),
        })
    }

    /// Keep what a merge's consent rule needs of a commit's judgment, in case
    /// a later merge brings it (a range judges a side's commits before the
    /// merge that brings them).
    pub(super) fn remember(&self, id: &str, verdict: &Result<super::Verdict>) {
        let judged = match verdict {
            Err(e) => Judged::Failed(e.to_string()),
            Ok(v) if !v.rules => Judged::NoRules,
            Ok(v) => {
                let trailers = crate::trailers::parse(&v.subject.message);
                let mut touched: Vec<String> = v.touched.iter().map(|t| t.zone.clone()).collect();
                touched.dedup();
                Judged::Rules(Box::new(Facts {
                    author_email: v.subject.author_email.clone(),
                    digest: super::signed_data(&trailers, &v.touched),
                    trailers,
                    touched,
                }))
            }
        };
        let b = Rc::new(Brought {
            id: id.to_string(),
            judged,
        });
        self.merges.judged.borrow_mut().insert(id.to_string(), b);
    }

    /// Had the manifest in force before brought commit `i` of `history` a
    /// zone of the id of `first.zones[at]` (`first`: the first parent's
    /// manifest)? Each commit's manifest is read once for all of `first`'s
    /// zones: asked zone by zone, a side bringing many manifests would be
    /// parsed zones × commits times.
    pub(super) fn had_first_zone(
        &self,
        history: &SideHistory,
        i: usize,
        first: &Manifest,
        at: usize,
    ) -> Result<bool> {
        let bit = |bits: &[u64]| bits.get(at / 64).is_some_and(|w| w & (1 << (at % 64)) != 0);
        if let Some(had) = history.had.borrow().get(&i)
            && Arc::ptr_eq(&had.zones, &first.zones)
        {
            return Ok(bit(&had.bits));
        }
        let theirs = self.manifest_judged_by(&history.commits[i].before)?;
        let ids: foldhash::HashSet<&str> = theirs.zones.iter().map(|z| z.id.as_str()).collect();
        let mut bits = vec![0u64; first.zones.len().div_ceil(64)];
        for (k, z) in first.zones.iter().enumerate() {
            if ids.contains(z.id.as_str()) {
                bits[k / 64] |= 1 << (k % 64);
            }
        }
        let answer = bit(&bits);
        history.had.borrow_mut().insert(
            i,
            Had {
                zones: first.zones.clone(),
                bits,
            },
        );
        Ok(answer)
    }
}
