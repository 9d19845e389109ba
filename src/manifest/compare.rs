//! A change of the manifest, judged against the manifest in force before it:
//! each difference is a tightening, a drift (a zone following its code), or a
//! weakening, which needs sign-offs. A zone left where its code no longer is
//! is stale, which no sign-off waives.

use foldhash::HashMap;

use serde::Serialize;

use super::{Instance, Invariant, LineRange, Manifest, Policy, Zone};

/// A change of the manifest that needs sign-offs, with the full old and new
/// value of what it changes: a signed sign-off binds those values (contract
/// section 7), never just their name.
#[derive(Debug, Clone)]
pub struct Weakening {
    /// A stable code ("instance-added", "zone-shrunk", …).
    pub code: &'static str,
    /// What it is about: an instance or zone id, a trailer key, a path.
    pub subject: String,
    /// The entry's canonical value before and after ("" when absent).
    pub was: String,
    pub now: String,
    /// The sentence a person reads.
    pub text: String,
}

/// Two weakenings are the same when they change the same entry from the same
/// value to the same value (the sentence may word a location differently).
impl PartialEq for Weakening {
    fn eq(&self, other: &Self) -> bool {
        (self.code, &self.subject, &self.was, &self.now)
            == (other.code, &other.subject, &other.was, &other.now)
    }
}

impl Eq for Weakening {}

impl std::fmt::Display for Weakening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Weakening {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// Canonical values, one `name value` per line (documented in docs/reference.md).
pub fn instance_value(i: &Instance) -> String {
    let mut emails = i.emails.clone();
    emails.sort();
    format!(
        "id {}\nemails {}\nkey {}\n",
        i.id,
        emails.join(" "),
        i.key.as_deref().map(str::trim).unwrap_or("")
    )
}

pub fn zone_value(z: &Zone, policy: &Policy) -> String {
    let mut v = format!(
        "id {}\n{} {}\nlines {}\nsignoffs {}\n",
        z.id,
        if z.path.is_glob() { "glob" } else { "path" },
        z.path.as_str(),
        z.lines
            .map_or_else(|| "whole".to_string(), |r| r.to_string()),
        z.threshold(policy)
    );
    // Only when written, so that the values of zones without them (and the
    // signatures over those) stay what they were.
    if let Some(a) = &z.approvers {
        v.push_str(&format!("approvers {}\n", a.join(" ")));
    }
    for q in &z.require {
        v.push_str(&format!("require {} {}\n", q.group, q.signoffs));
    }
    if !z.also_change.is_empty() {
        v.push_str(&format!("also_change {}\n", z.also_change.join(" ")));
    }
    v
}

pub fn invariant_value(inv: &Invariant) -> String {
    let (path, must, must_not) = inv.key();
    format!(
        "{} {path}\nmust_contain {}\nmust_not_contain {}\n",
        if inv.path.is_glob() { "glob" } else { "path" },
        must.unwrap_or_default(),
        must_not.unwrap_or_default()
    )
}

pub(super) fn list_value(list: &[String]) -> String {
    list.iter().map(|k| format!("{k}\n")).collect()
}

pub(super) fn weak(
    code: &'static str,
    subject: &str,
    was: String,
    now: String,
    text: String,
) -> Weakening {
    Weakening {
        code,
        subject: subject.to_string(),
        was,
        now,
        text,
    }
}

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
    pub weakenings: Vec<Weakening>,
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
    let zone_weak = |code: &'static str, text: String| {
        weak(
            code,
            &old.id,
            zone_value(old, &base.policy),
            zone_value(new, &after.policy),
            text,
        )
    };
    if nt < ot {
        out.weakenings.push(zone_weak(
            "zone-signoffs-lowered",
            format!("zone {} signoffs lowered {ot} -> {nt}", old.id),
        ));
    } else if nt > ot {
        out.tightenings
            .push(format!("zone {} signoffs raised {ot} -> {nt}", old.id));
    }
    if old.path.is_glob() || new.path.is_glob() {
        if old.path != new.path {
            out.weakenings.push(zone_weak(
                "zone-path-changed",
                format!(
                    "zone {} path changed {} -> {}",
                    old.id,
                    old.path.as_str(),
                    new.path.as_str()
                ),
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
                let (code, verb) = if new.path.as_str() != path {
                    ("zone-moved", "moved")
                } else {
                    ("zone-shrunk", "shrunk")
                };
                out.weakenings.push(zone_weak(
                    code,
                    format!(
                        "zone {} {verb} {} -> {}",
                        old.id,
                        location(&path, lines),
                        written
                    ),
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
                out.weakenings.push(zone_weak(
                    "zone-repointed",
                    format!(
                        "zone {} re-pointed {} -> {} ({why})",
                        old.id,
                        location(old.path.as_str(), old.lines),
                        written
                    ),
                ));
            }
        }
    }
}

/// [`compare`] of a manifest with itself (the change does not touch it):
/// only zones whose code moved can be stale.
pub fn unchanged(manifest: &Manifest, expected: &HashMap<String, Expected>) -> Comparison {
    let mut out = Comparison::default();
    for z in manifest.zones.iter() {
        if let Some(e) = expected.get(&z.id) {
            compare_zone(z, z, manifest, manifest, Some(e), &mut out);
        }
    }
    out
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
        out.weakenings.push(weak(
            "version-changed",
            "version",
            base.version.to_string(),
            after.version.to_string(),
            format!("version changed {} -> {}", base.version, after.version),
        ));
    }
    if ap.signoffs < bp.signoffs {
        out.weakenings.push(weak(
            "policy-signoffs-lowered",
            "policy.signoffs",
            bp.signoffs.to_string(),
            ap.signoffs.to_string(),
            format!("policy.signoffs lowered {} -> {}", bp.signoffs, ap.signoffs),
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
            out.weakenings.push(weak(
                "trailer-key-added",
                t,
                list_value(&bp.trailers),
                list_value(&ap.trailers),
                format!("policy.trailers accepts a new key {t}"),
            ));
        }
    }
    for t in &bp.trailers {
        if !has(&ap.trailers, t) {
            out.tightenings
                .push(format!("policy.trailers no longer accepts {t}"));
        }
    }
    if ap.author_counts && !bp.author_counts {
        out.weakenings.push(weak(
            "author-counts-on",
            "policy.author_counts",
            "false".into(),
            "true".into(),
            "policy.author_counts turned on".to_string(),
        ));
    } else if !ap.author_counts && bp.author_counts {
        out.tightenings
            .push("policy.author_counts turned off".to_string());
    }
    for t in &bp.audit_trailers {
        if !has(&ap.audit_trailers, t) {
            out.weakenings.push(weak(
                "audit-trailer-dropped",
                t,
                list_value(&bp.audit_trailers),
                list_value(&ap.audit_trailers),
                format!("audit trailer {t} dropped"),
            ));
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
            None => out.weakenings.push(weak(
                "instance-added",
                &i.id,
                String::new(),
                instance_value(i),
                format!("instance {} added", i.id),
            )),
            Some(old) => {
                let inst_weak = |code: &'static str, text: String| {
                    weak(code, &i.id, instance_value(old), instance_value(i), text)
                };
                for e in &i.emails {
                    if !old.has_email(e) {
                        out.weakenings.push(inst_weak(
                            "instance-email-added",
                            format!("instance {} email {e} added", i.id),
                        ));
                    }
                }
                // Removing an email is no tightening: the author is matched by
                // email, so an author the instance no longer names could then
                // sign their own change by id with `author_counts = false`.
                for e in &old.emails {
                    if !i.has_email(e) {
                        out.weakenings.push(inst_weak(
                            "instance-email-removed",
                            format!("instance {} email {e} removed", i.id),
                        ));
                    }
                }
                if old.key != i.key {
                    let (code, what) = match (&old.key, &i.key) {
                        (None, Some(_)) => ("instance-key-added", "key added"),
                        (Some(_), None) => ("instance-key-removed", "key removed"),
                        _ => ("instance-key-changed", "key changed"),
                    };
                    out.weakenings
                        .push(inst_weak(code, format!("instance {} {what}", i.id)));
                }
            }
        }
    }
    for i in &base.instances {
        if after.instance(&i.id).is_none() {
            if after.instances.is_empty() {
                out.weakenings.push(weak(
                    "last-instance-removed",
                    &i.id,
                    instance_value(i),
                    String::new(),
                    format!(
                        "instance {} removed, the last one: a manifest without instances accepts any email",
                        i.id
                    ),
                ));
            } else {
                out.tightenings.push(format!("instance {} removed", i.id));
            }
        }
    }
    // Zones.
    for z in base.zones.iter() {
        match after.zone(&z.id) {
            None => out.weakenings.push(weak(
                "zone-removed",
                &z.id,
                zone_value(z, &base.policy),
                String::new(),
                format!("zone {} removed (was {})", z.id, z.location()),
            )),
            Some(n) => compare_zone(z, n, base, after, expected.get(&z.id), &mut out),
        }
    }
    for z in after.zones.iter() {
        if base.zone(&z.id).is_none() {
            out.tightenings
                .push(format!("zone {} added ({})", z.id, z.location()));
        }
    }
    super::groups::compare(base, after, &mut out);
    super::freeze::compare(base, after, &mut out);
    // Invariants: what they enforce is their identity (looked up in sets: a
    // branch may add thousands).
    let after_keys: foldhash::HashSet<_> = after.invariants.iter().map(|i| i.key()).collect();
    let base_keys: foldhash::HashSet<_> = base.invariants.iter().map(|i| i.key()).collect();
    for inv in &base.invariants {
        if !after_keys.contains(&inv.key()) {
            out.weakenings.push(weak(
                "invariant-removed",
                inv.path.as_str(),
                invariant_value(inv),
                // An edit is a removal plus an addition: bind what replaces it.
                after
                    .invariants
                    .iter()
                    .filter(|n| n.path.as_str() == inv.path.as_str())
                    .map(invariant_value)
                    .collect(),
                format!("invariant on {} removed or edited", inv.path.as_str()),
            ));
        }
    }
    for inv in &after.invariants {
        if !base_keys.contains(&inv.key()) {
            out.tightenings
                .push(format!("invariant on {} added", inv.path.as_str()));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod unchanged_tests {
    use super::*;

    /// The shortcut for an untouched manifest says what the full comparison
    /// of the manifest with itself says.
    #[test]
    fn unchanged_is_compare_with_itself() {
        let text = r#"version = 1

[[instance]]
id = "alpha"
emails = ["alpha@x.example"]

[[instance]]
id = "beta"
emails = ["beta@x.example"]

[[group]]
id = "sec"
members = ["alpha", "beta"]

[[zone]]
id = "a"
path = "a.txt"
lines = "5-10"
approvers = ["sec"]

[[zone]]
id = "b"
path = "b.txt"
lines = "1-3"

[[zone]]
id = "c"
path = "c/**"

[[invariant]]
path = "a.txt"
must_contain = "x"
"#;
        let m = crate::manifest::parse(text, "t").unwrap();
        let range = |a, b| LineRange::new(a, b);
        let cases: Vec<HashMap<String, Expected>> = vec![
            HashMap::default(),
            HashMap::from_iter([(
                "a".to_string(),
                Expected::At {
                    path: "a.txt".into(),
                    lines: range(7, 12),
                },
            )]),
            HashMap::from_iter([
                (
                    "a".to_string(),
                    Expected::At {
                        path: "a.txt".into(),
                        lines: range(5, 10),
                    },
                ),
                ("b".to_string(), Expected::Gone("deleted".into())),
                (
                    "c".to_string(),
                    Expected::At {
                        path: "d/x".into(),
                        lines: None,
                    },
                ),
            ]),
        ];
        for e in cases {
            assert_eq!(
                format!("{:?}", unchanged(&m, &e)),
                format!("{:?}", compare(&m, &m.clone(), &e))
            );
        }
    }
}
