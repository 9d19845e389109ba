//! `guard status`: zones and where they are, claims, a freeze, and the last
//! change of each zone (from the last commits of the first-parent history).

use crate::Outcome;
use crate::claims;
use crate::cli::{ListFormat, ManifestArg};
use crate::error::Result;
use crate::policy::Evaluator;
use crate::report::Entry;
use crate::report::audit::format_date;
use crate::report::status::{ClaimRow, FreezeRow, Last, Status, ZoneStatus};
use crate::session::{Session, commit_rel, judge_entry};

/// How many first-parent commits `guard status` reads for the last changes.
const RECENT: usize = 200;

pub fn status(format: ListFormat, arg: &ManifestArg) -> Result<Outcome> {
    let session = Session::open(arg)?;
    let (m, _) = super::coordinate::manifest_of(&session)?;
    let label = session.loc.label();
    let list = super::coordinate::read_claims(&super::coordinate::claims_file(&session)?)?;
    let today = claims::today();
    // The last change of each zone: newest first along the first parents.
    let mut last: Vec<(String, Last)> = Vec::new();
    let mut read = 0;
    if let (Ok(head), Ok(rel)) = (session.repo.resolve("HEAD"), commit_rel(&session.loc)) {
        let eval = Evaluator::new(&session.repo, rel);
        let mut seen: Vec<String> = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        let mut at = Some(head);
        while let Some(id) = at.take() {
            if read >= RECENT || seen.len() >= m.zones.len() {
                break;
            }
            read += 1;
            let (_, parents) = session.repo.commit_links(&id)?;
            if !session.repo.is_shallow_boundary(&id) {
                at = parents.first().cloned();
            }
            let entry = judge_entry(&eval, &id);
            if let Entry::Judged(v) = &entry {
                for t in &v.touched {
                    if !seen.contains(&t.zone) {
                        seen.push(t.zone.clone());
                    }
                }
            }
            entries.push(entry);
        }
        // Oldest first, so that a later Guard-Ratify counts for an earlier commit.
        entries.reverse();
        crate::session::ratify(&eval, &mut entries)?;
        for entry in entries.iter().rev() {
            let Entry::Judged(v) = entry else { continue };
            let Some(id) = v.subject.commit.clone() else {
                continue;
            };
            for t in &v.touched {
                if last.iter().any(|(z, _)| z == &t.zone) {
                    continue;
                }
                let c = session.repo.commit(&id)?;
                last.push((
                    t.zone.clone(),
                    Last {
                        commit: id.clone(),
                        date: format_date(c.time, c.offset_minutes),
                        author: format!("{} <{}>", c.author_name, c.author_email),
                        subject: c.subject().to_string(),
                        verdict: if v.passed() { "passed" } else { "blocked" },
                    },
                ));
            }
        }
    }
    let zones = m
        .zones
        .iter()
        .map(|z| ZoneStatus {
            id: z.id.clone(),
            location: z.location(),
            signoffs: z.threshold(&m.policy),
            approvers: m.eligible(z),
            require: z
                .require
                .iter()
                .map(|q| format!("{} from group {}", q.signoffs, q.group))
                .collect(),
            also_change: z.also_change.clone(),
            frozen: m.policy.freeze.as_ref().is_some_and(|f| f.covers(&z.id)),
            claimed_by: claims::in_force(&list, &z.id, today).map(|c| c.instance.clone()),
            last: last
                .iter()
                .find(|(id, _)| id == &z.id)
                .map(|(_, l)| l.clone()),
        })
        .collect();
    let st = Status {
        manifest: label,
        zones,
        claims: list
            .iter()
            .map(|c| ClaimRow {
                claim: c.clone(),
                state: claims::state(&list, c, today),
            })
            .collect(),
        freeze: m.policy.freeze.as_ref().map(|f| FreezeRow {
            reason: f.reason.clone(),
            zones: f.zones.clone(),
        }),
        commits_read: read,
    };
    Ok(Outcome {
        stdout: crate::report::status::render(&st, format),
        ..Default::default()
    })
}
