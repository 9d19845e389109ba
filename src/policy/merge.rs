//! Gathering the facts of a merge's sides for the rules of [`crate::merge`]:
//! each side's merge base with the first parent, the commits it brings, which of
//! them changed a path, and how their own manifests judged them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::{Change, Evaluator};
use crate::ancestry::Parent;
use crate::change::{FileChange, Hunk, ObjectId};
use crate::error::{Error, Result};
use crate::git::Side;
use crate::manifest::{LineRange, MANIFEST_ZONE, Manifest};
use crate::merge::{self, Brought, Facts, Judged, Own, Relation};
use crate::zones;

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
        }))
    }

    /// The brought commits that changed `path` (relative to their first parent).
    fn changing(&self, history: &SideHistory, path: &str) -> Result<Changing> {
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
        // Its result, an error included, is remembered (as `Judged::Failed`).
        let _ = self.judge_commit(id);
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
                    zones: v.zone_ids.clone(),
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

    /// Did the commits `side` brings consent to their changes of `path` in
    /// `zone` (the first parent's manifest's zone, or the manifest itself)?
    fn side_consents(
        &self,
        first_manifest: &Manifest,
        zone: &str,
        threshold: u32,
        side: &SideParent,
        path: &str,
        change: &Change,
    ) -> Result<std::result::Result<(), merge::Refusal>> {
        let manifest = self.changing(&side.history, &self.manifest_path)?;
        let manifest: Vec<&Brought> = manifest.iter().map(|(_, b)| b.as_ref()).collect();
        if zone == MANIFEST_ZONE {
            return Ok(merge::consent(
                first_manifest,
                zone,
                threshold,
                &[],
                &manifest,
            ));
        }
        let lines = first_manifest.zone(zone).and_then(|z| z.lines);
        let changed = self.changing(&side.history, path)?;
        let mut file = Vec::with_capacity(changed.len());
        for (i, b) in changed.iter() {
            let c = &side.history.commits[*i];
            let touched = match lines {
                None => true,
                Some(r) => self.touches_first_zone(&change.base, r, c, path)?,
            };
            file.push((b.as_ref(), touched));
        }
        Ok(merge::consent(
            first_manifest,
            zone,
            threshold,
            &file,
            &manifest,
        ))
    }

    /// Did brought commit `c`'s change of `path` touch the first parent's zone
    /// `range`, located in `c`'s own base by the difference between the first
    /// parent's file and that base? Where it cannot be located (the file or
    /// every zone line missing there, a binary file), it did.
    fn touches_first_zone(
        &self,
        first: &Side,
        range: LineRange,
        c: &BroughtCommit,
        path: &str,
    ) -> Result<bool> {
        let (Some(ours), Some(before), Some(after)) = (
            self.store.entry(first, path)?,
            self.store.entry(&c.before, path)?,
            self.store.entry(&c.tree, path)?,
        ) else {
            return Ok(true);
        };
        if !before.kind.same_type(after.kind) || !before.kind.same_type(ours.kind) {
            return Ok(true);
        }
        let (o, b, a) = (
            self.store.blob(&ours.id)?,
            self.store.blob(&before.id)?,
            self.store.blob(&after.id)?,
        );
        if crate::change::is_binary(&o)
            || crate::change::is_binary(&b)
            || crate::change::is_binary(&a)
        {
            return Ok(true);
        }
        let image = if ours.id == before.id {
            Some(range)
        } else if let Some(shift) = zones::outside_change(&o, &b, range) {
            LineRange::new(
                (i64::from(range.start) + shift) as u32,
                (i64::from(range.end) + shift) as u32,
            )
        } else {
            zones::map_range(&self.store.hunks(&ours.id, &before.id)?, range)
        };
        let Some(image) = image else {
            return Ok(true);
        };
        if zones::outside_change(&b, &a, image).is_some() {
            return Ok(false);
        }
        let mut touching = zones::touching(&self.store.hunks(&before.id, &after.id)?, image);
        // A merge among them changed only what differs from all its parents:
        // what it took from another parent, that parent's history brought.
        for other in &c.others {
            match self.store.entry(other, path)? {
                None => {}
                Some(e) if e.id == after.id => return Ok(false),
                Some(e) => {
                    let theirs = self.store.hunks(&e.id, &after.id)?;
                    touching.retain(|h| merge::near(h, &theirs));
                }
            }
        }
        Ok(!touching.is_empty())
    }

    /// Is the side's entry at `path` the one some commit where its history
    /// meets the first parent's already had (the side never changed it)?
    fn side_unchanged(
        &self,
        side: &SideParent,
        path: &str,
        theirs: &Option<crate::change::Entry>,
    ) -> Result<bool> {
        for base in &side.history.bases {
            if self.store.entry(base, path)? == *theirs {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Why a whole-file change of a merge (`c`: first parent → merge) in `zone`
    /// is the merge's own, or `None` when a side carries it with consent.
    pub(super) fn merge_own_file(
        &self,
        first_manifest: &Manifest,
        zone: &str,
        threshold: u32,
        c: &FileChange,
        change: &Change,
    ) -> Result<Option<Own>> {
        let mut reasons = Vec::new();
        for side in self.sides(change)? {
            let theirs = self.store.entry(&side.tree, &c.path)?;
            if theirs != c.new {
                reasons.push(Own::DiffersFromEveryParent);
                continue;
            }
            if self.side_unchanged(&side, &c.path, &theirs)? {
                reasons.push(Own::RevertsToBase);
                continue;
            }
            match self.side_consents(first_manifest, zone, threshold, &side, &c.path, change)? {
                Ok(()) => return Ok(None),
                Err(r) => reasons.push(Own::Unconsented(r)),
            }
        }
        Ok(Some(merge::strongest(reasons)))
    }

    /// The hunks of a merge's content change (`c`: first parent → merge) in
    /// `zone` that are the merge's own, each with why; the rest a side carries.
    pub(super) fn merge_own_hunks(
        &self,
        first_manifest: &Manifest,
        zone: &str,
        threshold: u32,
        c: &FileChange,
        hunks: Vec<Hunk>,
        change: &Change,
    ) -> Result<Vec<(Hunk, Own)>> {
        let Some(new) = &c.new else {
            return Err(Error::new("internal: a content change without a new file"));
        };
        let diff_to_merge = |side: &Side| -> Result<Option<Vec<Hunk>>> {
            Ok(match self.store.entry(side, &c.path)? {
                None => None,
                Some(e) if e.id == new.id => Some(Vec::new()),
                Some(e) => Some(self.store.hunks(&e.id, &new.id)?),
            })
        };
        /// What is known of one side, computed when first needed.
        struct Known {
            side: SideParent,
            theirs: Option<Vec<Hunk>>,
            bases: Option<Vec<Option<Vec<Hunk>>>>,
            consent: Option<std::result::Result<(), merge::Refusal>>,
        }
        let mut sides = Vec::new();
        for side in self.sides(change)? {
            let theirs = diff_to_merge(&side.tree)?;
            sides.push(Known {
                side,
                theirs,
                bases: None,
                consent: None,
            });
        }
        let all = hunks.clone();
        let mut own = Vec::new();
        for h in hunks {
            let mut reasons = Vec::new();
            let mut carried = false;
            for k in &mut sides {
                let theirs = k.theirs.as_deref();
                if k.bases.is_none() && theirs.is_some_and(|t| !merge::near(&h, t)) {
                    let mut diffs = Vec::new();
                    for base in &k.side.history.bases {
                        // Where the base has the first parent's file, base → merge
                        // is first parent → merge, which wrote every hunk judged.
                        diffs.push(match self.store.entry(base, &c.path)? {
                            Some(e) if Some(&e) == c.old.as_ref() => Some(all.clone()),
                            _ => diff_to_merge(base)?,
                        });
                    }
                    k.bases = Some(diffs);
                }
                let relation = match &k.bases {
                    None => Relation::Differs,
                    Some(bases) => bases
                        .iter()
                        .map(|b| merge::relation(&h, theirs, b.as_deref()))
                        .min()
                        // No base: the strictest answer (the merge's own).
                        .unwrap_or(Relation::Differs),
                };
                match relation {
                    Relation::Differs => reasons.push(Own::DiffersFromEveryParent),
                    Relation::Unchanged => reasons.push(Own::RevertsToBase),
                    Relation::Changed => {
                        if k.consent.is_none() {
                            k.consent = Some(self.side_consents(
                                first_manifest,
                                zone,
                                threshold,
                                &k.side,
                                &c.path,
                                change,
                            )?);
                        }
                        match &k.consent {
                            Some(Err(r)) => reasons.push(Own::Unconsented(r.clone())),
                            _ => {
                                carried = true;
                                break;
                            }
                        }
                    }
                }
            }
            if !carried {
                own.push((h, merge::strongest(reasons)));
            }
        }
        Ok(own)
    }

    /// Why a merge's weakening of the manifest (`weakenings`, first parent →
    /// merge) is its own, or `None` when a side carries it: the merge's manifest
    /// is the side's, the side made those very weakenings since where its
    /// history meets the first parent's, and the commits that made them met the
    /// first parent's rule.
    pub(super) fn merge_own_manifest(
        &self,
        first_manifest: &Manifest,
        weakenings: &[crate::manifest::compare::Weakening],
        change: &Change,
    ) -> Result<Option<Own>> {
        let path = self.manifest_path.clone();
        let ours = self.store.entry(&change.new, &path)?;
        let Some(merged) = self.parsed_manifest_at(&change.new)? else {
            return Ok(Some(Own::DiffersFromEveryParent));
        };
        let mut reasons = Vec::new();
        'sides: for side in self.sides(change)? {
            let theirs = self.store.entry(&side.tree, &path)?;
            // The merge's manifest may be the side's combined with the first
            // parent's own changes, but it must be no weaker than the side's:
            // nothing the side did not sign may ride along (an email, a key).
            if theirs != ours {
                let Some(side_manifest) = self.parsed_manifest_at(&side.tree)? else {
                    reasons.push(Own::DiffersFromEveryParent);
                    continue;
                };
                let to_merge = Change {
                    base: side.tree.clone(),
                    new: change.new.clone(),
                    others: Vec::new(),
                    parents: Vec::new(),
                };
                let changes = self.changes(&side_manifest, &to_merge)?;
                let expected =
                    self.expectations(&side_manifest, &to_merge, &changes, &mut HashMap::new())?;
                let cmp = crate::manifest::compare::compare(&side_manifest, &merged, &expected);
                if !cmp.weakenings.is_empty() || !cmp.stale.is_empty() {
                    reasons.push(Own::DiffersFromEveryParent);
                    continue;
                }
            }
            if self.side_unchanged(&side, &path, &theirs)? {
                reasons.push(Own::RevertsToBase);
                continue;
            }
            let threshold = first_manifest.policy.signoffs;
            if let Err(r) = self.side_consents(
                first_manifest,
                MANIFEST_ZONE,
                threshold,
                &side,
                &path,
                change,
            )? {
                reasons.push(Own::Unconsented(r));
                continue;
            }
            // The side's own weakenings, from every place its history meets ours.
            let Some(after) = self.parsed_manifest_at(&side.tree)? else {
                reasons.push(Own::Discards);
                continue;
            };
            for base in &side.history.bases {
                let Some(before) = self.parsed_manifest_at(base)? else {
                    reasons.push(Own::Discards);
                    continue 'sides;
                };
                let made = crate::manifest::compare::compare(&before, &after, &HashMap::new());
                if !weakenings.iter().all(|w| made.weakenings.contains(w)) {
                    reasons.push(Own::Discards);
                    continue 'sides;
                }
            }
            return Ok(None);
        }
        Ok(Some(merge::strongest(reasons)))
    }
}
