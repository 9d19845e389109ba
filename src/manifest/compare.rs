//! A change of the manifest, judged against the manifest in force before it:
//! each difference is a tightening, a drift (a zone following its code), or a
//! weakening, which needs sign-offs. A zone left where its code no longer is
//! is stale, which no sign-off waives.

use std::collections::HashMap;

use serde::Serialize;

use super::{LineRange, Manifest, Zone};

/// Where a base zone's code is after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Still at `path`, `lines` (for a whole-file zone, `lines` is `None`).
    At {
        path: String,
        lines: Option<LineRange>,
    },
    /// Nowhere: every line was deleted, or the file was.
    Gone(String),
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Stale {
    pub zone: String,
    pub written: String,
    /// What `guard fix` would write, when there is an answer.
    pub expected: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Comparison {
    pub weakenings: Vec<String>,
    pub tightenings: Vec<String>,
    pub drift: Vec<String>,
    pub stale: Vec<Stale>,
}

fn location(path: &str, lines: Option<LineRange>) -> String {
    match lines {
        Some(r) => format!("{path}:{r}"),
        None => path.to_string(),
    }
}

fn compare_zone(
    old: &Zone,
    new: &Zone,
    base: &Manifest,
    after: &Manifest,
    expected: Option<&Expected>,
    out: &mut Comparison,
) {
    let (ot, nt) = (old.threshold(&base.policy), new.threshold(&after.policy));
    if nt < ot {
        out.weakenings
            .push(format!("zone {} signoffs lowered {ot} -> {nt}", old.id));
    } else if nt > ot {
        out.tightenings
            .push(format!("zone {} signoffs raised {ot} -> {nt}", old.id));
    }
    if old.path.is_glob() || new.path.is_glob() {
        if old.path != new.path {
            out.weakenings.push(format!(
                "zone {} path changed {} -> {}",
                old.id,
                old.path.as_str(),
                new.path.as_str()
            ));
        }
        return;
    }
    let written = location(new.path.as_str(), new.lines);
    let unchanged = old.path == new.path && old.lines == new.lines;
    let expected = expected.cloned().unwrap_or(Expected::At {
        path: old.path.as_str().to_string(),
        lines: old.lines,
    });
    match expected {
        Expected::At { path, lines } => {
            if new.path.as_str() == path && new.lines == lines {
                if !unchanged {
                    out.drift.push(format!(
                        "zone {} follows its code {} -> {}",
                        old.id,
                        location(old.path.as_str(), old.lines),
                        written
                    ));
                }
            } else if new.path.as_str() == path
                && match (new.lines, lines) {
                    (None, _) => true,
                    (Some(n), Some(e)) => n.contains_range(&e),
                    (Some(_), None) => false,
                }
            {
                if unchanged {
                    return;
                }
                out.tightenings.push(format!(
                    "zone {} widened {} -> {}",
                    old.id,
                    location(&path, lines),
                    written
                ));
            } else if unchanged {
                out.stale.push(Stale {
                    zone: old.id.clone(),
                    written,
                    expected: Some(location(&path, lines)),
                    detail: "the change moved the zone's lines".into(),
                });
            } else {
                let verb = if new.path.as_str() != path {
                    "moved"
                } else {
                    "shrunk"
                };
                out.weakenings.push(format!(
                    "zone {} {verb} {} -> {}",
                    old.id,
                    location(&path, lines),
                    written
                ));
            }
        }
        Expected::Gone(why) => {
            if unchanged {
                out.stale.push(Stale {
                    zone: old.id.clone(),
                    written,
                    expected: None,
                    detail: format!(
                        "{why}; remove or re-point the zone in the manifest (a weakening: it needs the sign-offs)"
                    ),
                });
            } else {
                out.weakenings.push(format!(
                    "zone {} re-pointed {} -> {} ({why})",
                    old.id,
                    location(old.path.as_str(), old.lines),
                    written
                ));
            }
        }
    }
}

/// Compare the manifest in force (`base`) with the one the change writes (`after`).
/// `expected` says where each base zone's code went (absent: unmoved).
pub fn compare(
    base: &Manifest,
    after: &Manifest,
    expected: &HashMap<String, Expected>,
) -> Comparison {
    let mut out = Comparison::default();
    let (bp, ap) = (&base.policy, &after.policy);
    if base.version != after.version {
        out.weakenings.push(format!(
            "version changed {} -> {}",
            base.version, after.version
        ));
    }
    if ap.signoffs < bp.signoffs {
        out.weakenings.push(format!(
            "policy.signoffs lowered {} -> {}",
            bp.signoffs, ap.signoffs
        ));
    } else if ap.signoffs > bp.signoffs {
        out.tightenings.push(format!(
            "policy.signoffs raised {} -> {}",
            bp.signoffs, ap.signoffs
        ));
    }
    let has = |list: &[String], k: &str| list.iter().any(|x| x.eq_ignore_ascii_case(k));
    for t in &ap.trailers {
        if !has(&bp.trailers, t) {
            out.weakenings
                .push(format!("policy.trailers accepts a new key {t}"));
        }
    }
    for t in &bp.trailers {
        if !has(&ap.trailers, t) {
            out.tightenings
                .push(format!("policy.trailers no longer accepts {t}"));
        }
    }
    if ap.author_counts && !bp.author_counts {
        out.weakenings
            .push("policy.author_counts turned on".to_string());
    } else if !ap.author_counts && bp.author_counts {
        out.tightenings
            .push("policy.author_counts turned off".to_string());
    }
    for t in &bp.audit_trailers {
        if !has(&ap.audit_trailers, t) {
            out.weakenings.push(format!("audit trailer {t} dropped"));
        }
    }
    for t in &ap.audit_trailers {
        if !has(&bp.audit_trailers, t) {
            out.tightenings.push(format!("audit trailer {t} added"));
        }
    }
    // Instances.
    for i in &after.instances {
        match base.instance(&i.id) {
            None => out.weakenings.push(format!("instance {} added", i.id)),
            Some(old) => {
                for e in &i.emails {
                    if !old.has_email(e) {
                        out.weakenings
                            .push(format!("instance {} email {e} added", i.id));
                    }
                }
                // Removing an email is no tightening: the author is matched by
                // email, so an author the instance no longer names could then
                // sign their own change by id with `author_counts = false`.
                for e in &old.emails {
                    if !i.has_email(e) {
                        out.weakenings
                            .push(format!("instance {} email {e} removed", i.id));
                    }
                }
                if old.key != i.key {
                    let what = match (&old.key, &i.key) {
                        (None, Some(_)) => "key added",
                        (Some(_), None) => "key removed",
                        _ => "key changed",
                    };
                    out.weakenings.push(format!("instance {} {what}", i.id));
                }
            }
        }
    }
    for i in &base.instances {
        if after.instance(&i.id).is_none() {
            if after.instances.is_empty() {
                out.weakenings.push(format!(
                    "instance {} removed, the last one: a manifest without instances accepts any email",
                    i.id
                ));
            } else {
                out.tightenings.push(format!("instance {} removed", i.id));
            }
        }
    }
    // Zones.
    for z in &base.zones {
        match after.zone(&z.id) {
            None => out
                .weakenings
                .push(format!("zone {} removed (was {})", z.id, z.location())),
            Some(n) => compare_zone(z, n, base, after, expected.get(&z.id), &mut out),
        }
    }
    for z in &after.zones {
        if base.zone(&z.id).is_none() {
            out.tightenings
                .push(format!("zone {} added ({})", z.id, z.location()));
        }
    }
    // Invariants: what they enforce is their identity.
    for inv in &base.invariants {
        if !after.invariants.iter().any(|n| n.key() == inv.key()) {
            out.weakenings.push(format!(
                "invariant on {} removed or edited",
                inv.path.as_str()
            ));
        }
    }
    for inv in &after.invariants {
        if !base.invariants.iter().any(|o| o.key() == inv.key()) {
            out.tightenings
                .push(format!("invariant on {} added", inv.path.as_str()));
        }
    }
    out
}
