//! Validation of who may consent: `[[group]]`, a zone's `approvers` and
//! `require`, the policy's `override`; and that every rule can be met by the
//! declared instances (a rule nobody can meet would make a zone silently
//! impossible, or tempt a team to make it optional); and which changes of
//! them weaken the manifest.

use foldhash::{HashSet, HashSetExt};

use toml::Spanned;

use super::compare::{Comparison, list_value, weak};
use super::consent::{Rules, satisfiable};
use super::raw::{RawGroup, RawQuota};
use super::validate::Validator;
use super::{Group, Manifest, Quota};

impl Validator<'_> {
    pub(super) fn groups(
        &mut self,
        raw: Vec<Spanned<RawGroup>>,
        instances: &HashSet<String>,
    ) -> Vec<Group> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for item in raw {
            let span = item.span();
            let r = item.into_inner();
            let id_span = r.id.as_ref().map_or(span.clone(), |i| i.span());
            let id = self.id(r.id, span.clone(), "group", &mut seen);
            if instances.contains(&id) {
                self.err(
                    id_span,
                    format!("group id {id:?} is also an instance id: `approvers` could not tell them apart"),
                );
            }
            let mut members = Vec::new();
            for m in r.members {
                if !instances.contains(m.get_ref()) {
                    self.err(
                        m.span(),
                        format!(
                            "group {id:?}: member {:?} is not a declared [[instance]]",
                            m.get_ref()
                        ),
                    );
                } else if members.contains(m.get_ref()) {
                    self.err(
                        m.span(),
                        format!("group {id:?}: member {:?} is listed twice", m.get_ref()),
                    );
                } else {
                    members.push(m.into_inner());
                }
            }
            if members.is_empty() {
                self.err(span, format!("group {id:?} has no members"));
            }
            out.push(Group { id, members });
        }
        out
    }

    /// A `{ group = ..., signoffs = ... }` entry whose group exists.
    pub(super) fn quota(
        &mut self,
        raw: Spanned<RawQuota>,
        what: &str,
        groups: &HashSet<String>,
    ) -> Option<Quota> {
        let span = raw.span();
        let r = raw.into_inner();
        let signoffs = match &r.signoffs {
            Some(s) => self.threshold(s),
            None => {
                self.err(
                    span.clone(),
                    format!("{what} is missing required key `signoffs`"),
                );
                1
            }
        };
        let Some(group) = r.group else {
            self.err(span, format!("{what} is missing required key `group`"));
            return None;
        };
        if !groups.contains(group.get_ref()) {
            self.err(
                group.span(),
                format!("{what}: {:?} is not a declared [[group]]", group.get_ref()),
            );
            return None;
        }
        Some(Quota {
            group: group.into_inner(),
            signoffs,
        })
    }

    /// A zone's `require` entries, one per group.
    pub(super) fn requires(
        &mut self,
        raw: Option<Vec<Spanned<RawQuota>>>,
        id: &str,
        groups: &HashSet<String>,
    ) -> Vec<Quota> {
        let mut require: Vec<Quota> = Vec::new();
        let Some(raw) = raw else {
            return require;
        };
        for q in raw {
            let span = q.span();
            if let Some(q) = self.quota(q, &format!("zone {id:?}: `require`"), groups) {
                // One entry per group: two would compare as one when the
                // manifest changes (dropping one would weaken unseen).
                if require.iter().any(|x| x.group == q.group) {
                    self.err(
                        span,
                        format!(
                            "zone {id:?}: `require` names group {:?} twice; write one entry with the total",
                            q.group
                        ),
                    );
                } else {
                    require.push(q);
                }
            }
        }
        require
    }

    /// A zone's `approvers`: group or instance ids, at least one.
    pub(super) fn approvers(
        &mut self,
        raw: Spanned<Vec<Spanned<String>>>,
        zone: &str,
        known: &HashSet<String>,
    ) -> Vec<String> {
        let span = raw.span();
        let list = raw.into_inner();
        if list.is_empty() {
            self.err(
                span,
                format!("zone {zone:?}: `approvers` is empty: no sign-off could count"),
            );
        }
        let mut out = Vec::new();
        for a in list {
            if known.contains(a.get_ref()) {
                out.push(a.into_inner());
            } else {
                self.err(
                    a.span(),
                    format!(
                        "zone {zone:?}: approver {:?} is neither a [[group]] nor an [[instance]]",
                        a.get_ref()
                    ),
                );
            }
        }
        out
    }

    /// Every zone with `approvers` or `require`, and the override, can be met
    /// by the declared instances, whoever the author is when the author's
    /// sign-off does not count.
    pub(super) fn meetable(&mut self, m: &Manifest) {
        let all: Vec<String> = m.instances.iter().map(|i| i.id.clone()).collect();
        let restricted = |z: &super::Zone| z.approvers.is_some() || !z.require.is_empty();
        if m.instances.is_empty() {
            for z in m.zones.iter().filter(|z| restricted(z)) {
                let p = self.src.problem_at(
                    self.src.pos(z.at),
                    format!(
                        "zone {:?}: `approvers` and `require` name instances, and the manifest declares no [[instance]]",
                        z.id
                    ),
                );
                self.problems.push(p);
            }
            return;
        }
        for z in m.zones.iter().filter(|z| restricted(z)) {
            let rules = m.rules(z);
            // An author whose sign-off does not count is checked per change
            // (the verdict's configuration error names the zone then).
            let why = (!satisfiable(&rules, &all))
                .then(|| "the declared instances cannot meet its rules".to_string());
            if let Some(why) = why {
                let p = self.src.problem_at(
                    self.src.pos(z.at),
                    format!("zone {:?}: {why} ({})", z.id, describe(&rules)),
                );
                self.problems.push(p);
            }
        }
        if let Some(q) = &m.policy.override_
            && let Some(g) = m.group(&q.group)
            && (g.members.len() as u32) < q.signoffs
        {
            let p = self.src.problem_at(
                super::Pos { line: 1, col: 1 },
                format!(
                    "[policy] override needs {} sign-offs from group {:?}, which has {} member(s)",
                    q.signoffs,
                    q.group,
                    g.members.len()
                ),
            );
            self.problems.push(p);
        }
    }
}

/// A zone's rules in a few words, for messages.
pub fn describe(r: &Rules) -> String {
    let mut parts = vec![format!("{} sign-off(s)", r.total)];
    if let Some(e) = &r.eligible {
        parts.push(format!("from {}", e.join(", ")));
    }
    for (g, n, _) in &r.require {
        parts.push(format!("{n} from group {g}"));
    }
    parts.join("; ")
}

/// Who may consent: group members, zones' approvers and `require` entries,
/// the override. More people or fewer sign-offs weaken; the reverse tightens.
pub(super) fn compare(base: &Manifest, after: &Manifest, out: &mut Comparison) {
    let members = |m: &Manifest, g: &str| {
        m.group(g)
            .map_or(Vec::new(), |g| m.expand(std::slice::from_ref(&g.id)))
    };
    for g in &after.groups {
        let Some(old) = base.group(&g.id) else {
            continue; // a new group grants nothing until something names it
        };
        let (was, now) = (members(base, &g.id), members(after, &g.id));
        for m in now.iter().filter(|m| !was.contains(m)) {
            out.weakenings.push(weak(
                "group-member-added",
                &g.id,
                list_value(&was),
                list_value(&now),
                format!("group {} gains member {m}", g.id),
            ));
        }
        for m in old.members.iter().filter(|m| !now.contains(m)) {
            out.tightenings
                .push(format!("group {} loses member {m}", g.id));
        }
    }
    for z in after.zones.iter() {
        let Some(old) = base.zone(&z.id) else {
            continue;
        };
        let (was, now) = (base.eligible(old), after.eligible(z));
        let value =
            |v: &Option<Vec<String>>| v.as_ref().map_or("anyone\n".to_string(), |l| list_value(l));
        match (&was, &now) {
            (Some(w), None) => out.weakenings.push(weak(
                "zone-approvers-removed",
                &z.id,
                value(&was),
                value(&now),
                format!(
                    "zone {} no longer restricts its approvers (was {})",
                    z.id,
                    w.join(", ")
                ),
            )),
            (None, Some(n)) => {
                out.tightenings
                    .push(format!("zone {} approvers set to {}", z.id, n.join(", ")))
            }
            (Some(w), Some(n)) => {
                for a in n.iter().filter(|a| !w.contains(a)) {
                    out.weakenings.push(weak(
                        "zone-approvers-widened",
                        &z.id,
                        value(&was),
                        value(&now),
                        format!("zone {} approvers widened to {a}", z.id),
                    ));
                }
                if w.iter().any(|a| !n.contains(a)) {
                    out.tightenings
                        .push(format!("zone {} approvers narrowed", z.id));
                }
            }
            (None, None) => {}
        }
        for q in &old.require {
            let kept = z.require.iter().find(|n| n.group == q.group);
            let (code, text) = match kept {
                None => (
                    "zone-require-removed",
                    format!("zone {} no longer requires group {}", z.id, q.group),
                ),
                Some(n) if n.signoffs < q.signoffs => (
                    "zone-require-lowered",
                    format!(
                        "zone {} requires {} -> {} from group {}",
                        z.id, q.signoffs, n.signoffs, q.group
                    ),
                ),
                Some(n) => {
                    if n.signoffs > q.signoffs {
                        out.tightenings.push(format!(
                            "zone {} requires {} -> {} from group {}",
                            z.id, q.signoffs, n.signoffs, q.group
                        ));
                    }
                    continue;
                }
            };
            out.weakenings.push(weak(
                code,
                &format!("{}/{}", z.id, q.group),
                q.signoffs.to_string(),
                kept.map_or(String::new(), |n| n.signoffs.to_string()),
                text,
            ));
        }
        for n in &z.require {
            if !old.require.iter().any(|q| q.group == n.group) {
                out.tightenings.push(format!(
                    "zone {} requires {} from group {}",
                    z.id, n.signoffs, n.group
                ));
            }
        }
    }
    let quota = |q: &Option<crate::manifest::Quota>| {
        q.as_ref().map_or(String::new(), |q| {
            format!("group {}\nsignoffs {}\n", q.group, q.signoffs)
        })
    };
    let (bo, ao) = (&base.policy.override_, &after.policy.override_);
    let code = match (bo, ao) {
        (None, Some(_)) => Some(("override-added", "a break-glass override added".to_string())),
        (Some(_), None) => {
            out.tightenings
                .push("the break-glass override removed".into());
            None
        }
        (Some(b), Some(a)) if b.group != a.group => Some((
            "override-changed",
            format!("the override's group changed {} -> {}", b.group, a.group),
        )),
        (Some(b), Some(a)) if a.signoffs < b.signoffs => Some((
            "override-lowered",
            format!(
                "the override's sign-offs lowered {} -> {}",
                b.signoffs, a.signoffs
            ),
        )),
        (Some(b), Some(a)) if a.signoffs > b.signoffs => {
            out.tightenings.push(format!(
                "the override's sign-offs raised {} -> {}",
                b.signoffs, a.signoffs
            ));
            None
        }
        _ => None,
    };
    if let Some((code, text)) = code {
        out.weakenings
            .push(weak(code, "policy.override", quota(bo), quota(ao), text));
    }
}
