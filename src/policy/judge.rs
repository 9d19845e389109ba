//! The verdict on a change's facts: sign-offs counted against the manifest in
//! force, per zone. Pure: no repository, no I/O (signatures are checked
//! against the keys the manifest holds).

use crate::claims::{self, Claim};
use crate::error::{Error, Result};
use crate::manifest::compare::Comparison;
use crate::manifest::consent::{self, Rules};
use crate::manifest::{MANIFEST_ZONE, Manifest};
use crate::signoff;
use crate::trailers;
use crate::verdict::{Subject, Touch, Verdict, Violation, signed_data};

/// What a change does under the manifest in force, gathered by the evaluator.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    /// Each zone the change touches, with its lines (a merge: only what is
    /// its own, not what a side carries with consent).
    pub touched: Vec<Touch>,
    /// What the manifest's own change breaks: stale zones, a manifest that
    /// does not validate.
    pub manifest: Vec<Violation>,
    pub manifest_change: Option<Comparison>,
    /// Invariants the change breaks.
    pub invariants: Vec<Violation>,
    /// The paths the change changes (under the manifest's roots).
    pub changed: Vec<String>,
    /// The manifest's repository path: a zone on it is never overridden.
    pub manifest_path: String,
    /// The change is a merge (claims its sides recorded were judged there).
    pub merge: bool,
    /// For a merge under a freeze or a claim: every zone its change
    /// touches, carried by a side or not (both apply to what a merge brings).
    pub merge_touches: Vec<String>,
    /// The claims in force before the change.
    pub claims: Vec<Claim>,
    /// The day (since the epoch, UTC) claims are judged on: the change's
    /// author date, but never later than the day it is judged (a future
    /// author date must not expire a claim).
    pub day: i64,
    /// The claims the change writes, when it changes the claims file.
    pub claims_after: Option<Vec<Claim>>,
}

/// Judge `facts` (`None`: the change changes nothing any rule looks at) of
/// the change `subject` under `manifest`.
pub fn judge(manifest: &Manifest, subject: Subject, facts: Option<Facts>) -> Result<Verdict> {
    let mut verdict = Verdict::without_rules(subject, String::new());
    verdict.notes.clear();
    verdict.rules = true;
    let Some(mut facts) = facts else {
        return Ok(verdict);
    };
    // Moved, not copied: touches carry their lines' text and bytes.
    verdict.touched = std::mem::take(&mut facts.touched);
    verdict.violations = std::mem::take(&mut facts.manifest);
    verdict.manifest_change = facts.manifest_change.take();

    // Sign-offs, counted against the manifest in force.
    let trailers = trailers::parse(&verdict.subject.message);
    let digest = signed_data(&trailers, &verdict.touched);
    verdict.signoffs =
        signoff::evaluate(manifest, &trailers, &verdict.subject.author_email, &digest);
    if verdict.signoffs.open && !verdict.touched.is_empty() {
        verdict.notes.push(
            "the manifest declares no [[instance]]: any distinct email counts as a sign-off"
                .to_string(),
        );
    }
    let author = manifest
        .instances
        .iter()
        .find(|i| i.has_email(&verdict.subject.author_email))
        .map(|i| i.id.clone());
    let excluded = author.filter(|_| !manifest.policy.author_counts);
    let signed = verdict.signoffs.distinct.clone();
    let trailer = manifest
        .policy
        .trailers
        .first()
        .cloned()
        .unwrap_or_else(|| "Signed-off-by".into());
    let overriding = break_glass(manifest, &trailers, &signed, &mut verdict.notes);
    let zones = &*manifest.zones;
    let mut judged: Vec<&str> = Vec::new();
    let mut lacking = Vec::new();
    for t in &verdict.touched {
        if judged.contains(&t.zone.as_str()) {
            continue;
        }
        judged.push(&t.zone);
        let zone = zones.get(&t.zone);
        let rules = match zone {
            Some(z) => manifest.rules(z),
            // The manifest's own zone: any instance, `policy.signoffs`.
            None => Rules {
                total: t.threshold,
                eligible: None,
                require: Vec::new(),
            },
        };
        let unmet = consent::unmet(&rules, &signed, excluded.as_deref());
        if unmet.is_empty() {
            continue;
        }
        // Never the manifest's own zone, nor a zone on the manifest file:
        // breaking glass does not weaken the rules.
        if overriding.is_some() && t.zone != MANIFEST_ZONE && t.file != facts.manifest_path {
            verdict.overridden.clone_from(&overriding);
            continue;
        }
        let restricted = zone.is_some_and(|z| z.approvers.is_some() || !z.require.is_empty());
        // Only the new keys make this an error: an unrestricted zone that the
        // remaining instances cannot sign stays a blocked change, as before.
        if let Some(author) = excluded.as_ref().filter(|_| restricted) {
            let others: Vec<String> = manifest
                .instances
                .iter()
                .map(|i| i.id.clone())
                .filter(|i| i != author)
                .collect();
            if !consent::satisfiable(&rules, &others) {
                return Err(Error::new(format!(
                    "zone {:?} cannot be signed for a change authored by {author}: with \
                     author_counts = false the author's sign-off does not count, and the other \
                     declared instances cannot meet its rules ({}); have another instance \
                     author the change, or change the zone's rules (a weakening, which needs \
                     the sign-offs)",
                    t.zone,
                    crate::manifest::groups::describe(&rules)
                )));
            }
        }
        let counts = |who: &String| rules.eligible.as_ref().is_none_or(|e| e.contains(who));
        let pool: Vec<String> = match &rules.eligible {
            Some(e) => e.clone(),
            None => manifest.instances.iter().map(|i| i.id.clone()).collect(),
        };
        lacking.push(Violation::InsufficientSignoffs {
            zone: t.zone.clone(),
            needed: rules.total,
            counted: signed.iter().filter(|s| counts(s)).count() as u32,
            candidates: pool
                .into_iter()
                .filter(|i| !signed.contains(i) && excluded.as_ref() != Some(i))
                .collect(),
            trailer: trailer.clone(),
            unmet: if restricted { unmet } else { Vec::new() },
        });
    }
    verdict.violations.extend(lacking);
    verdict.violations.extend(freeze_and_co_change(
        manifest,
        zones,
        &verdict.touched,
        &facts.merge_touches,
        &facts.changed,
    ));
    let author = manifest
        .instances
        .iter()
        .find(|i| i.has_email(&verdict.subject.author_email))
        .map(|i| i.id.clone());
    let found = claimed(
        manifest,
        &facts,
        verdict.manifest_change.as_ref(),
        &verdict.touched,
        author.as_deref(),
        &signed,
        &mut verdict.notes,
    );
    verdict.violations.extend(found);
    if !verdict.touched.is_empty() {
        for key in &manifest.policy.audit_trailers {
            let present = trailers
                .iter()
                .any(|t| t.key.eq_ignore_ascii_case(key) && !t.value.trim().is_empty());
            if !present {
                verdict.violations.push(Violation::MissingAuditTrailer {
                    trailer: key.clone(),
                });
            }
        }
    }
    verdict.violations.append(&mut facts.invariants);
    Ok(verdict)
}

/// The trailer that invokes the break-glass override, with its reason.
pub const OVERRIDE_TRAILER: &str = "Guard-Override";

/// The reason of a `Guard-Override` that counts: a non-empty reason and the
/// override's sign-offs from its group. Why one does not count goes to `notes`.
fn break_glass(
    manifest: &Manifest,
    trailers: &[trailers::Trailer],
    signed: &[String],
    notes: &mut Vec<String>,
) -> Option<String> {
    let given: Vec<&str> = trailers
        .iter()
        .filter(|t| t.key.eq_ignore_ascii_case(OVERRIDE_TRAILER))
        .map(|t| t.value.trim())
        .collect();
    if given.is_empty() {
        return None;
    }
    let Some(q) = &manifest.policy.override_ else {
        notes.push(format!(
            "{OVERRIDE_TRAILER} does not count: the manifest declares no [policy] override"
        ));
        return None;
    };
    let Some(reason) = given.iter().find(|r| !r.is_empty()) else {
        notes.push(format!(
            "{OVERRIDE_TRAILER} does not count without a reason (write `{OVERRIDE_TRAILER}: why`)"
        ));
        return None;
    };
    let members = manifest.expand(std::slice::from_ref(&q.group));
    let have = signed.iter().filter(|s| members.contains(s)).count() as u32;
    if have < q.signoffs {
        notes.push(format!(
            "{OVERRIDE_TRAILER} does not count: it needs {} sign-off(s) from group {} ({}), {have} counted",
            q.signoffs,
            q.group,
            members.join(", ")
        ));
        return None;
    }
    Some(reason.to_string())
}

/// A touched zone that is frozen, or whose `also_change` files or zones the
/// change left alone: no sign-off waives either.
fn freeze_and_co_change(
    manifest: &Manifest,
    zones: &crate::manifest::Zones,
    touched: &[Touch],
    frozen_touches: &[String],
    changed: &[String],
) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Some(f) = &manifest.policy.freeze {
        let mut carried: Vec<&String> = frozen_touches
            .iter()
            .filter(|z| f.covers(z) && !touched.iter().any(|t| &&t.zone == z))
            .collect();
        carried.dedup();
        for z in carried {
            out.push(Violation::Frozen {
                zone: z.clone(),
                reason: f.reason.clone(),
            });
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    let is_touched = |id: &str| touched.iter().any(|t| t.zone == id);
    for t in touched {
        if seen.contains(&t.zone.as_str()) || t.zone == MANIFEST_ZONE {
            continue;
        }
        seen.push(&t.zone);
        if let Some(f) = &manifest.policy.freeze
            && f.covers(&t.zone)
        {
            out.push(Violation::Frozen {
                zone: t.zone.clone(),
                reason: f.reason.clone(),
            });
        }
        let Some(z) = zones.get(&t.zone) else {
            continue;
        };
        let missing: Vec<String> = z
            .also_change
            .iter()
            .filter(|a| {
                if zones.get(a).is_some() {
                    !is_touched(a)
                } else {
                    !changed.iter().any(|p| {
                        p == *a
                            || (p.starts_with(a.as_str())
                                && p.as_bytes().get(a.len()) == Some(&b'/'))
                    })
                }
            })
            .cloned()
            .collect();
        if !missing.is_empty() {
            out.push(Violation::CoChange {
                zone: t.zone.clone(),
                missing,
            });
        }
    }
    out
}

/// Claims: a touched zone claimed by another instance needs the claimant's
/// sign-off (what a merge brings included); so does releasing, altering or
/// taking over another's claim, removing or renaming a claimed zone, and
/// recording a claim in another instance's name. The author counts as the
/// claimant only when the claimant has no key: an author email is free
/// text, a verified signature is not.
fn claimed(
    manifest: &Manifest,
    facts: &Facts,
    manifest_change: Option<&Comparison>,
    touched: &[Touch],
    author: Option<&str>,
    signed: &[String],
    notes: &mut Vec<String>,
) -> Vec<Violation> {
    let today = facts.day;
    let mut out = Vec::new();
    let consents = |who: &str| {
        signed.iter().any(|s| s == who)
            || (author == Some(who) && manifest.instance(who).is_some_and(|i| i.key.is_none()))
    };
    let mut zones: Vec<&str> = touched
        .iter()
        .map(|t| t.zone.as_str())
        .chain(facts.merge_touches.iter().map(String::as_str))
        .filter(|z| *z != MANIFEST_ZONE)
        .collect();
    zones.dedup();
    let mut seen: Vec<&str> = Vec::new();
    for zone in zones {
        if seen.contains(&zone) {
            continue;
        }
        seen.push(zone);
        match claims::in_force(&facts.claims, zone, today) {
            Some(c) if !consents(&c.instance) => out.push(Violation::Claimed {
                zone: zone.to_string(),
                by: c.instance.clone(),
                until: c.until.clone(),
                note: c.note.clone(),
            }),
            Some(_) => {}
            None => {
                for c in facts
                    .claims
                    .iter()
                    .filter(|c| c.zone == zone && c.expired(today))
                {
                    notes.push(format!(
                        "zone {}: {}'s claim expired on {}: stale, ignored (guard release {} --instance {})",
                        c.zone,
                        c.instance,
                        c.until.as_deref().unwrap_or(""),
                        c.zone,
                        c.instance
                    ));
                }
            }
        }
    }
    // A claimed zone removed (or renamed) from the manifest.
    let removed = manifest_change
        .into_iter()
        .flat_map(|c| c.weakenings.iter())
        .filter(|w| w.code == "zone-removed")
        .map(|w| w.subject.as_str());
    for zone in removed {
        if let Some(was) = claims::in_force(&facts.claims, zone, today)
            && !consents(&was.instance)
        {
            out.push(Violation::ClaimTaken {
                zone: zone.to_string(),
                by: was.instance.clone(),
            });
        }
    }
    if let Some(after) = &facts.claims_after {
        let mut zones: Vec<&str> = facts.claims.iter().map(|c| c.zone.as_str()).collect();
        zones.sort_unstable();
        zones.dedup();
        for zone in zones {
            let Some(was) = claims::in_force(&facts.claims, zone, today) else {
                continue;
            };
            if claims::in_force(after, zone, today) != Some(was) && !consents(&was.instance) {
                out.push(Violation::ClaimTaken {
                    zone: zone.to_string(),
                    by: was.instance.clone(),
                });
            }
        }
        // A claim recorded in an instance's name needs that instance (a
        // merge's new claims were recorded, and judged, on its sides).
        for c in after
            .iter()
            .filter(|c| !facts.merge && !facts.claims.contains(c))
        {
            if manifest.instance(&c.instance).is_none() || manifest.zone(&c.zone).is_none() {
                out.push(Violation::InvalidManifest {
                    file: claims::PATH.to_string(),
                    errors: format!(
                        "the claim of {} by {} names no zone or no instance of the manifest in force",
                        c.zone, c.instance
                    ),
                });
            } else if !consents(&c.instance) {
                out.push(Violation::ClaimUnsigned {
                    zone: c.zone.clone(),
                    instance: c.instance.clone(),
                });
            }
        }
    }
    out
}
