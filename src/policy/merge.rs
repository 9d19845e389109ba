//! Judging a merge's sides by the rules of [`crate::merge`]: did the commits a
//! side brings consent to what they changed in a zone, and what is the merge's
//! own change.

use foldhash::{HashMap, HashMapExt};

use super::sides::{BroughtCommit, SideParent};
use super::{Change, Evaluator};
use crate::change::{FileChange, Hunk};
use crate::error::{Error, Result};
use crate::git::Side;
use crate::manifest::{LineRange, MANIFEST_ZONE, Manifest};
use crate::merge::{self, Brought, Judged, Own, Relation};
use crate::zones;

impl Evaluator<'_> {
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
        let at = first_manifest.zones.iter().position(|z| z.id == zone);
        let lines = at.and_then(|k| first_manifest.zones[k].lines);
        let changed = self.changing(&side.history, path)?;
        let mut file = Vec::with_capacity(changed.len());
        for (i, b) in changed.iter() {
            let c = &side.history.commits[*i];
            let touched = match lines {
                None => true,
                Some(r) => self.touches_first_zone(&change.base, r, c, path)?,
            };
            // Asked only of a commit a manifest judged (so one that parses
            // was in force before it): its manifest is read again, not kept
            // per judged commit (that was zones × commits of memory).
            let had_zone = match (&b.judged, at) {
                (Judged::Rules(_), Some(at)) if touched => {
                    self.had_first_zone(&side.history, *i, first_manifest, at)?
                }
                (Judged::Rules(_), None) if touched => self
                    .manifest_judged_by(&c.before)?
                    .zones
                    .iter()
                    .any(|z| z.id == zone),
                _ => false,
            };
            file.push(merge::FileEdit {
                by: b.as_ref(),
                touched,
                had_zone,
            });
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
        } else if let Some(shift) = self.outside(&ours.id, &before.id, range)? {
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
        if self.outside(&before.id, &after.id, image)?.is_some() {
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
