//! Gathering the facts of a merge's sides for the rules of [`crate::merge`]:
//! each side's merge base with the first parent, the commits it brings, which of
//! them changed a path, and how their own manifests judged them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::{BaseManifest, Change, Evaluator};
use crate::change::{FileChange, Hunk, ObjectId};
use crate::error::{Error, Result};
use crate::git::Side;
use crate::manifest::{MANIFEST_ZONE, Manifest, validate};
use crate::merge::{self, Brought, Facts, Judged, Own, Relation};

/// A pair of commits: (first parent, side).
type Pair = (ObjectId, ObjectId);

/// What the evaluator remembers about merges across the changes it judges.
#[derive(Default)]
pub struct Cache {
    /// Merge base tree of (first parent, side); `Empty` when the histories never meet.
    bases: RefCell<HashMap<Pair, Side>>,
    /// Commits reachable from a side and not from the first parent, oldest first.
    brought: RefCell<HashMap<Pair, Rc<Vec<ObjectId>>>>,
    /// A brought commit's own judgment.
    judged: RefCell<HashMap<ObjectId, Rc<Brought>>>,
}

/// One side parent of a merge.
pub struct SideParent {
    pub commit: ObjectId,
    pub tree: Side,
    pub base: Side,
}

impl Evaluator<'_> {
    /// The side parents of a merge, each with its merge base with the first parent.
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
                let key = (first.clone(), side.clone());
                let cached = self.merges.bases.borrow().get(&key).cloned();
                let base = match cached {
                    Some(b) => b,
                    None => {
                        let b = match self.repo.merge_base_opt(first, side)? {
                            Some(id) => Side::Tree(self.repo.commit(&id)?.tree),
                            None => Side::Empty,
                        };
                        self.merges.bases.borrow_mut().insert(key, b.clone());
                        b
                    }
                };
                Ok(SideParent {
                    commit: side.clone(),
                    tree: tree.clone(),
                    base,
                })
            })
            .collect()
    }

    /// Commits reachable from `side` and not from `first`.
    fn brought(&self, first: &str, side: &str) -> Result<Rc<Vec<ObjectId>>> {
        let key = (first.to_string(), side.to_string());
        if let Some(ids) = self.merges.brought.borrow().get(&key) {
            return Ok(ids.clone());
        }
        let ids = Rc::new(self.repo.range(first, side)?);
        self.merges.brought.borrow_mut().insert(key, ids.clone());
        Ok(ids)
    }

    /// The brought commits that changed `path` (relative to their first parent).
    fn changing(&self, ids: &[ObjectId], path: &str) -> Result<Vec<Rc<Brought>>> {
        let mut out = Vec::new();
        for id in ids {
            let c = self.repo.commit(id)?;
            let before = match c.parents.first() {
                Some(p) => self
                    .repo
                    .entry(&Side::Tree(self.repo.commit(p)?.tree), path)?,
                None => None,
            };
            if self.repo.entry(&Side::Tree(c.tree.clone()), path)? != before {
                out.push(self.judged(id));
            }
        }
        Ok(out)
    }

    /// A brought commit as its own manifest judges it (remembered).
    fn judged(&self, id: &str) -> Rc<Brought> {
        if let Some(b) = self.merges.judged.borrow().get(id) {
            return b.clone();
        }
        let judged = match self.judge_commit(id) {
            Err(e) => Judged::Failed(e.to_string()),
            Ok(v) if !v.rules => Judged::NoRules,
            Ok(v) => {
                let mut touched: Vec<String> = v.touched.iter().map(|t| t.zone.clone()).collect();
                touched.dedup();
                Judged::Rules(Box::new(Facts {
                    zones: v.zone_ids.clone(),
                    touched,
                    author_email: v.subject.author_email.clone(),
                    digest: crate::signature::digest(&v.touched),
                    message: v.subject.message,
                }))
            }
        };
        let b = Rc::new(Brought {
            id: id.to_string(),
            judged,
        });
        self.merges
            .judged
            .borrow_mut()
            .insert(id.to_string(), b.clone());
        b
    }

    /// Did the commits `side` brings consent to their changes of `path` in `zone`?
    fn side_consents(
        &self,
        first_manifest: &Manifest,
        zone: &str,
        threshold: u32,
        first: &str,
        side: &SideParent,
        path: &str,
    ) -> Result<std::result::Result<(), merge::Refusal>> {
        let ids = self.brought(first, &side.commit)?;
        let file = self.changing(&ids, path)?;
        let manifest = if path == self.manifest_path {
            Vec::new()
        } else {
            self.changing(&ids, &self.manifest_path)?
        };
        let file: Vec<&Brought> = file.iter().map(Rc::as_ref).collect();
        let manifest: Vec<&Brought> = manifest.iter().map(Rc::as_ref).collect();
        Ok(merge::consent(
            first_manifest,
            zone,
            threshold,
            &file,
            &manifest,
        ))
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
        let first = &change.parents[0];
        let mut reasons = Vec::new();
        for side in self.sides(change)? {
            let theirs = self.repo.entry(&side.tree, &c.path)?;
            if theirs != c.new {
                reasons.push(Own::DiffersFromEveryParent);
            } else if self.repo.entry(&side.base, &c.path)? == theirs {
                reasons.push(Own::RevertsToBase);
            } else {
                match self.side_consents(first_manifest, zone, threshold, first, &side, &c.path)? {
                    Ok(()) => return Ok(None),
                    Err(r) => reasons.push(Own::Unconsented(r)),
                }
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
        let first = &change.parents[0];
        let diff_to_merge = |side: &Side| -> Result<Option<Vec<Hunk>>> {
            Ok(match self.repo.entry(side, &c.path)? {
                None => None,
                Some(e) if e.id == new.id => Some(Vec::new()),
                Some(e) => Some(self.repo.hunks(&e.id, &new.id)?),
            })
        };
        let mut sides = Vec::new();
        for side in self.sides(change)? {
            let theirs = diff_to_merge(&side.tree)?;
            sides.push((side, theirs, None, None));
        }
        let mut own = Vec::new();
        for h in hunks {
            let mut reasons = Vec::new();
            let mut carried = false;
            for (side, theirs, base, consent) in &mut sides {
                if theirs.is_none() || merge::near(&h, theirs.as_deref().unwrap_or(&[])) {
                    reasons.push(Own::DiffersFromEveryParent);
                    continue;
                }
                if base.is_none() {
                    *base = Some(diff_to_merge(&side.base)?);
                }
                let base = base.as_ref().and_then(|b| b.as_deref());
                if merge::relation(&h, theirs.as_deref(), base) == Relation::Unchanged {
                    reasons.push(Own::RevertsToBase);
                    continue;
                }
                if consent.is_none() {
                    *consent = Some(self.side_consents(
                        first_manifest,
                        zone,
                        threshold,
                        first,
                        side,
                        &c.path,
                    )?);
                }
                match consent {
                    Some(Ok(())) => {
                        carried = true;
                        break;
                    }
                    Some(Err(r)) => reasons.push(Own::Unconsented(r.clone())),
                    None => {}
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
    /// is the side's, the side made those very weakenings since the merge base,
    /// and the commits that made them met the first parent's rule.
    pub(super) fn merge_own_manifest(
        &self,
        first_manifest: &Manifest,
        weakenings: &[String],
        change: &Change,
    ) -> Result<Option<Own>> {
        let first = &change.parents[0];
        let path = self.manifest_path.clone();
        let ours = self.repo.entry(&change.new, &path)?;
        let mut reasons = Vec::new();
        for side in self.sides(change)? {
            let theirs = self.repo.entry(&side.tree, &path)?;
            if theirs != ours {
                reasons.push(Own::DiffersFromEveryParent);
                continue;
            }
            if self.repo.entry(&side.base, &path)? == theirs {
                reasons.push(Own::RevertsToBase);
                continue;
            }
            let refusal = self
                .side_consents(
                    first_manifest,
                    MANIFEST_ZONE,
                    first_manifest.policy.signoffs,
                    first,
                    &side,
                    &path,
                )?
                .err();
            if let Some(r) = refusal {
                reasons.push(Own::Unconsented(r));
                continue;
            }
            // The side's own weakenings, since the merge base.
            let (Some(before), Some(after)) = (
                self.parsed_manifest_at(&side.base)?,
                self.parsed_manifest_at(&side.tree)?,
            ) else {
                reasons.push(Own::Discards);
                continue;
            };
            let made = crate::manifest::compare::compare(&before, &after, &HashMap::new());
            if weakenings.iter().all(|w| made.weakenings.contains(w)) {
                return Ok(None);
            }
            reasons.push(Own::Discards);
        }
        Ok(Some(merge::strongest(reasons)))
    }

    /// The manifest at the manifest path of `side`, parsed (not file-checked);
    /// `None` when absent or when it does not parse.
    fn parsed_manifest_at(&self, side: &Side) -> Result<Option<Manifest>> {
        let Some((_, text)) = self.manifest_at(side)? else {
            return Ok(None);
        };
        Ok(validate::parse(&text, &self.manifest_path).ok())
    }

    /// Judge one commit against its first parent, by the manifest in its first
    /// parent; a merge by what it brings (contract section 4).
    pub fn judge_commit(&self, id: &str) -> Result<super::Verdict> {
        let c = self.repo.commit(id)?;
        let mut trees = self.repo.parent_trees(&c)?;
        let base = if trees.is_empty() {
            Side::Empty
        } else {
            trees.remove(0)
        };
        let subject = super::Subject {
            commit: Some(c.id.clone()),
            subject: c.subject().to_string(),
            message: c.message.clone(),
            author_email: c.author_email.clone(),
        };
        let change = Change {
            base,
            new: Side::Tree(c.tree.clone()),
            others: trees,
            parents: c.parents.clone(),
        };
        self.evaluate(
            subject,
            &BaseManifest::InBase(self.manifest_path.clone()),
            &change,
        )
    }
}
