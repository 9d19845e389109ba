//! A security freeze (`[policy] freeze`) and co-change rules (a zone's
//! `also_change`): their validation, and which changes of them weaken the
//! manifest (lifting a freeze, dropping a co-change).

use foldhash::HashSet;

use toml::Spanned;

use super::compare::{Comparison, list_value, weak};
use super::raw::RawFreeze;
use super::validate::Validator;
use super::{Freeze, Manifest, PathSpec};

impl Validator<'_> {
    /// A zone's `also_change`: zone ids of this manifest, or else file paths.
    pub(super) fn also_change(
        &mut self,
        raw: Option<Vec<Spanned<String>>>,
        id: &str,
        zone_ids: &HashSet<String>,
    ) -> Vec<String> {
        // Most zones have none: nothing to build an iterator over.
        let Some(raw) = raw else {
            return Vec::new();
        };
        raw.into_iter()
            .filter_map(|a| {
                let text = a.get_ref();
                // A zone id of this manifest, or else a path (checked as one).
                if text == id {
                    self.err(
                        a.span(),
                        format!("zone {id:?}: `also_change` names the zone itself"),
                    );
                    return None;
                }
                if zone_ids.contains(text) {
                    return Some(a.into_inner());
                }
                let span = a.span();
                match self.path(a, "`also_change`")? {
                    PathSpec::Literal(p) => Some(p),
                    PathSpec::Glob { .. } => {
                        self.err(span, "`also_change` names files or zones, not globs");
                        None
                    }
                }
            })
            .collect()
    }

    pub(super) fn freeze(&mut self, raw: Spanned<RawFreeze>, zone_ids: &HashSet<String>) -> Freeze {
        let span = raw.span();
        let (reason, zones) = match raw.into_inner() {
            RawFreeze::Reason(r) => (Some(r), None),
            RawFreeze::Zones(t) => (t.reason, t.zones),
        };
        let reason = reason.unwrap_or_default().trim().to_string();
        if reason.is_empty() {
            self.err(
                span.clone(),
                "[policy] freeze needs a reason (freeze = \"why\", or { reason = \"why\", zones = [...] })",
            );
        }
        let zones = zones.map(|list| {
            if list.is_empty() {
                self.err(
                    span.clone(),
                    "[policy] freeze names no zone (omit `zones` to freeze every zone)",
                );
            }
            list.into_iter()
                .filter_map(|z| {
                    if zone_ids.contains(&z) {
                        Some(z)
                    } else {
                        self.err(
                            span.clone(),
                            format!("[policy] freeze: {z:?} is not a zone id"),
                        );
                        None
                    }
                })
                .collect()
        });
        Freeze { reason, zones }
    }
}

fn freeze_value(f: &Option<Freeze>) -> String {
    match f {
        None => String::new(),
        Some(f) => format!(
            "zones {}\n",
            f.zones.as_ref().map_or("all".to_string(), |z| z.join(" "))
        ),
    }
}

/// Lifting or narrowing a freeze, and dropping a co-change, weaken; the
/// reverse tightens.
pub(super) fn compare(base: &Manifest, after: &Manifest, out: &mut Comparison) {
    let (bf, af) = (&base.policy.freeze, &after.policy.freeze);
    let lifted: Vec<&str> = match (bf, af) {
        (Some(_), None) => vec!["every frozen zone"],
        (Some(b), Some(a)) => match (&b.zones, &a.zones) {
            (None, Some(_)) => vec!["some zones"],
            (Some(bz), Some(az)) => bz
                .iter()
                .filter(|z| !az.contains(z))
                .map(String::as_str)
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    if !lifted.is_empty() {
        out.weakenings.push(weak(
            "freeze-lifted",
            "policy.freeze",
            freeze_value(bf),
            freeze_value(af),
            format!("the security freeze lifted for {}", lifted.join(", ")),
        ));
    } else if freeze_value(bf) != freeze_value(af) {
        out.tightenings
            .push("a security freeze set or widened".into());
    }
    for z in after.zones.iter() {
        let Some(old) = base.zone(&z.id) else {
            continue;
        };
        for a in old
            .also_change
            .iter()
            .filter(|a| !z.also_change.contains(a))
        {
            out.weakenings.push(weak(
                "zone-also-change-removed",
                &z.id,
                list_value(&old.also_change),
                list_value(&z.also_change),
                format!("zone {} no longer requires a change of {a}", z.id),
            ));
        }
        // One entry read as a zone id under one manifest and as a path under
        // the other (a zone added with the id of a listed path): its meaning
        // changed, unseen in the entry's text.
        let kind = |m: &Manifest, a: &str| if m.zone(a).is_some() { "zone" } else { "path" };
        for a in z.also_change.iter().filter(|a| old.also_change.contains(a)) {
            let (was, now) = (kind(base, a), kind(after, a));
            if was != now {
                out.weakenings.push(weak(
                    "zone-also-change-reread",
                    &z.id,
                    format!("{was} {a}\n"),
                    format!("{now} {a}\n"),
                    format!(
                        "zone {}: `also_change` entry {a} now names a {now}, not a {was}",
                        z.id
                    ),
                ));
            }
        }
        for a in z
            .also_change
            .iter()
            .filter(|a| !old.also_change.contains(a))
        {
            out.tightenings
                .push(format!("zone {} requires a change of {a}", z.id));
        }
    }
}
