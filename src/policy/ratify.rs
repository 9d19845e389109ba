//! Ratifying a commit that reached a branch without consent, without
//! rewriting history: a later commit with `Guard-Ratify: <commit>` and
//! sign-offs that meet, under the manifest in force at the ratified commit,
//! the rules of every zone it lacked consent for. The ratifying commit is
//! judged like any other; its sign-offs (signed ones over the ratified
//! change's digest) are counted for the ratified change, and the audit
//! trailers it records stand for the ones the ratified change lacked.

use super::{BaseManifest, Evaluator, signed_data};
use crate::error::Result;
use crate::git::Side;
use crate::manifest::consent::{self, Rules};
use crate::manifest::{MANIFEST_ZONE, Manifest};
use crate::signoff;
use crate::trailers;
use crate::verdict::{Verdict, Violation};

pub const RATIFY_TRAILER: &str = "Guard-Ratify";

/// Can `message` ratify anything? Only if it names the trailer at all (in
/// any case): a message that does not is never read by ratification.
pub fn asks(message: &str) -> bool {
    message
        .to_ascii_lowercase()
        .contains(&RATIFY_TRAILER.to_ascii_lowercase())
}

fn short(id: &str) -> &str {
    &id[..id.len().min(10)]
}

impl Evaluator<'_> {
    /// Apply the `Guard-Ratify` trailers among `verdicts` (a checked range,
    /// oldest first): a ratified commit's missing sign-offs are lifted.
    pub fn ratify(&self, verdicts: &mut [&mut Verdict]) -> Result<()> {
        for i in 0..verdicts.len() {
            let asked: Vec<String> = trailers::parse(&verdicts[i].subject.message)
                .into_iter()
                .filter(|t| t.key.eq_ignore_ascii_case(RATIFY_TRAILER))
                .map(|t| t.value.trim().to_ascii_lowercase())
                .collect();
            for want in asked {
                let (earlier, rest) = verdicts.split_at_mut(i);
                let ratifier = &mut *rest[0];
                let found: Vec<usize> = earlier
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| {
                        want.len() >= 7
                            && v.subject
                                .commit
                                .as_deref()
                                .is_some_and(|c| c.starts_with(&want))
                    })
                    .map(|(j, _)| j)
                    .collect();
                let [j] = found[..] else {
                    ratifier.notes.push(format!(
                        "{RATIFY_TRAILER}: {want} names no single earlier commit of the checked range: nothing ratified"
                    ));
                    continue;
                };
                let target = &mut *earlier[j];
                self.ratify_one(target, ratifier)?;
            }
        }
        Ok(())
    }

    fn ratify_one(&self, target: &mut Verdict, by: &mut Verdict) -> Result<()> {
        let (Some(tid), Some(bid)) = (target.subject.commit.clone(), by.subject.commit.clone())
        else {
            return Ok(());
        };
        let lacking: Vec<String> = target
            .violations
            .iter()
            .filter_map(|v| match v {
                Violation::InsufficientSignoffs { zone, .. } => Some(zone.clone()),
                _ => None,
            })
            .collect();
        if lacking.is_empty() {
            by.notes.push(format!(
                "{RATIFY_TRAILER}: {} lacked no sign-off: nothing to ratify",
                short(&tid)
            ));
            return Ok(());
        }
        // The manifest in force at the ratified commit.
        let (_, parents) = self.store.commit_links(&tid)?;
        let base = match parents.first() {
            Some(p) => Side::Tree(self.store.commit_links(p)?.0),
            None => Side::Empty,
        };
        let Some(manifest) =
            self.base_manifest(&base, &BaseManifest::InBase(self.manifest_path.clone()))?
        else {
            return Ok(());
        };
        let trailers = trailers::parse(&by.subject.message);
        let digest = signed_data(&trailers, &target.touched);
        let counted =
            signoff::evaluate(&manifest, &trailers, &target.subject.author_email, &digest);
        let excluded = manifest
            .instances
            .iter()
            .find(|i| i.has_email(&target.subject.author_email))
            .map(|i| i.id.clone())
            .filter(|_| !manifest.policy.author_counts);
        let mut still = Vec::new();
        for zone in &lacking {
            let rules = zone_rules(&manifest, zone, target);
            for u in consent::unmet(&rules, &counted.distinct, excluded.as_deref()) {
                still.push(format!("zone {zone} {u}"));
            }
        }
        if still.is_empty() {
            // The ratifying commit records the audit trailers the change lacked.
            let recorded = |key: &str| {
                trailers
                    .iter()
                    .any(|t| t.key.eq_ignore_ascii_case(key) && !t.value.trim().is_empty())
            };
            target.violations.retain(|v| match v {
                Violation::InsufficientSignoffs { .. } => false,
                Violation::MissingAuditTrailer { trailer } => !recorded(trailer),
                _ => true,
            });
            target.ratified_by = Some(bid);
            by.ratifies.push(tid.clone());
            by.notes.push(format!(
                "ratifies {}: its sign-offs meet the rules {} lacked consent under",
                short(&tid),
                short(&tid)
            ));
        } else {
            let why = still.join("; ");
            by.notes.push(format!(
                "{RATIFY_TRAILER}: {} does not count: {why}",
                short(&tid)
            ));
            target.notes.push(format!(
                "a ratification by {} did not count: {why}",
                short(&bid)
            ));
        }
        Ok(())
    }
}

/// The rules of a zone a verdict touched, under `manifest`.
fn zone_rules(manifest: &Manifest, zone: &str, v: &Verdict) -> Rules {
    match manifest.zone(zone) {
        Some(z) if zone != MANIFEST_ZONE => manifest.rules(z),
        _ => Rules {
            total: v
                .touched
                .iter()
                .find(|t| t.zone == zone)
                .map_or(manifest.policy.signoffs, |t| t.threshold),
            eligible: None,
            require: Vec::new(),
        },
    }
}
