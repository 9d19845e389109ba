//! The verdict on a change's facts: sign-offs counted against the manifest in
//! force, per zone. Pure: no repository, no I/O (signatures are checked
//! against the keys the manifest holds).

use crate::manifest::Manifest;
use crate::manifest::compare::Comparison;
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
}

/// Judge `facts` (`None`: the change changes nothing any rule looks at) of
/// the change `subject` under `manifest`.
pub fn judge(manifest: &Manifest, subject: Subject, facts: Option<Facts>) -> Verdict {
    let mut verdict = Verdict::without_rules(subject, String::new());
    verdict.notes.clear();
    verdict.rules = true;
    verdict.zone_ids = manifest.zones.iter().map(|z| z.id.clone()).collect();
    let Some(facts) = facts else {
        return verdict;
    };
    verdict.touched = facts.touched;
    verdict.violations = facts.manifest;
    verdict.manifest_change = facts.manifest_change;

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
    let counted = verdict.signoffs.count();
    let mut needed_by_zone: Vec<(String, u32)> = Vec::new();
    for t in &verdict.touched {
        if !needed_by_zone.iter().any(|(z, _)| z == &t.zone) {
            needed_by_zone.push((t.zone.clone(), t.threshold));
        }
    }
    let author = manifest
        .instances
        .iter()
        .find(|i| i.has_email(&verdict.subject.author_email))
        .map(|i| i.id.clone());
    let candidates: Vec<String> = manifest
        .instances
        .iter()
        .filter(|i| !verdict.signoffs.distinct.contains(&i.id))
        .filter(|i| manifest.policy.author_counts || author.as_ref() != Some(&i.id))
        .map(|i| i.id.clone())
        .collect();
    let trailer = manifest
        .policy
        .trailers
        .first()
        .cloned()
        .unwrap_or_else(|| "Signed-off-by".into());
    for (zone, needed) in needed_by_zone {
        if counted < needed {
            verdict.violations.push(Violation::InsufficientSignoffs {
                zone,
                needed,
                counted,
                candidates: candidates.clone(),
                trailer: trailer.clone(),
            });
        }
    }
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
    verdict.violations.extend(facts.invariants);
    verdict
}
