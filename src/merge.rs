//! Contract section 4, merges: a merge is judged on everything it brings to its
//! first parent, except what a side parent *carries* with the first parent's
//! consent. Pure rules on plain data: how a hunk of the merge relates to a side
//! ([`relation`]), whether the commits a side brings consented ([`consent`]),
//! and why a touch is the merge's own ([`Own`]). The facts are gathered in
//! [`crate::policy`].

use std::fmt;

use serde::Serialize;

use crate::change::Hunk;
use crate::manifest::Manifest;
use crate::manifest::consent::Rules;
use crate::signoff;

/// How the merge's version of one hunk (first parent → merge) stands to a side,
/// ordered from the most to the least suspicious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Relation {
    /// The merge's text there is not the side's (or the side lacks the file).
    Differs,
    /// The merge's text is the side's, and the side did not change it since the
    /// merge base: the merge reverts its first parent to older content.
    Unchanged,
    /// The merge's text is the side's, and the side changed it since the merge base.
    Changed,
}

/// Lines (as inclusive `(first, last)` ranges in the merge) and gaps (a
/// deletion after line `g`) that `hunks` write in the merge.
fn footprint(hunks: &[Hunk]) -> (Vec<(u32, u32)>, Vec<u32>) {
    let (mut lines, mut gaps) = (Vec::new(), Vec::new());
    for h in hunks {
        if h.new_lines == 0 {
            gaps.push(h.new_start);
        } else {
            lines.push((h.new_start, h.new_start + h.new_lines - 1));
        }
    }
    (lines, gaps)
}

/// Does hunk `h` (in the merge's numbering) lie on or next to anything `other`
/// (another version → the merge) changed? Ers on "yes": adjacency counts.
pub fn near(h: &Hunk, other: &[Hunk]) -> bool {
    let (lines, gaps) = footprint(other);
    let hit = |a: u32, b: u32| lines.iter().any(|&(s, e)| s <= b && a <= e);
    if h.new_lines == 0 {
        gaps.contains(&h.new_start) || hit(h.new_start, h.new_start + 1)
    } else {
        let (a, b) = (h.new_start, h.new_start + h.new_lines - 1);
        hit(a, b) || gaps.iter().any(|&g| g + 1 >= a && g <= b)
    }
}

/// Is everything hunk `h` writes new relative to the merge base? Every line it
/// writes must be a line `base_to_merge` wrote; a pure deletion must sit where
/// the base → merge change deleted or rewrote lines.
pub fn base_changed(h: &Hunk, base_to_merge: &[Hunk]) -> bool {
    let (lines, gaps) = footprint(base_to_merge);
    if h.new_lines == 0 {
        let g = h.new_start;
        return gaps.contains(&g) || lines.iter().any(|&(s, e)| s <= g + 1 && g <= e);
    }
    (h.new_start..h.new_start + h.new_lines).all(|l| lines.iter().any(|&(s, e)| s <= l && l <= e))
}

/// How hunk `h` of the merge stands to a side. `side_to_merge`: the side's file
/// → the merge's (`None`: the side has no such file). `base_to_merge`: the merge
/// base's file → the merge's (`None`: the base has no such file, so all of it is
/// new).
pub fn relation(
    h: &Hunk,
    side_to_merge: Option<&[Hunk]>,
    base_to_merge: Option<&[Hunk]>,
) -> Relation {
    match side_to_merge {
        None => Relation::Differs,
        Some(s) if near(h, s) => Relation::Differs,
        Some(_) => match base_to_merge {
            Some(b) if !base_changed(h, b) => Relation::Unchanged,
            _ => Relation::Changed,
        },
    }
}

/// What one commit a side brings tells about consent.
#[derive(Debug, Clone)]
pub enum Judged {
    /// No manifest was in force before it: judged by no rules.
    NoRules,
    /// It could not be evaluated.
    Failed(String),
    Rules(Box<Facts>),
}

/// A side commit as its own manifest judged it.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Zone ids it touched by that manifest (`manifest` included).
    pub touched: Vec<String>,
    /// Its message's trailers, as git reads them.
    pub trailers: Vec<crate::trailers::Trailer>,
    pub author_email: String,
    /// What its `Guard-Signature` trailers sign.
    pub digest: crate::digest::Signed,
}

/// A brought commit's change of the file a zone is in.
#[derive(Debug, Clone, Copy)]
pub struct FileEdit<'a> {
    pub by: &'a Brought,
    /// Its change touched the first parent's zone (as located in its own
    /// base).
    pub touched: bool,
    /// The manifest in force before it had a zone of that id.
    pub had_zone: bool,
}

/// A commit reachable from a side and not from the first parent.
#[derive(Debug, Clone)]
pub struct Brought {
    pub id: String,
    pub judged: Judged,
}

/// Why part of a side's change is not carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Refusal {
    /// Commits judged by no manifest changed it (an orphan branch, a fork from
    /// before the manifest existed).
    Unjudged { commits: Vec<String> },
    /// Commits whose manifest had no zone of that id changed it.
    NoZone { zone: String, commits: Vec<String> },
    /// A commit touched the zone with sign-offs that do not meet the first
    /// parent's rule (its instances, its threshold).
    NotSigned {
        commit: String,
        zone: String,
        needed: u32,
        counted: u32,
        rejected: Vec<String>,
        /// What the zone's approvers or `require` entries still lack.
        unmet: Vec<String>,
    },
    /// A commit could not be evaluated.
    Failed { commit: String, error: String },
}

fn short(id: &str) -> &str {
    &id[..id.len().min(10)]
}

fn shorts(ids: &[String]) -> String {
    ids.iter().map(|i| short(i)).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unjudged { commits } => write!(
                f,
                "brought by commits judged by no manifest: {}",
                shorts(commits)
            ),
            Refusal::NoZone { zone, commits } => write!(
                f,
                "brought by commits whose manifest had no zone {zone}: {}",
                shorts(commits)
            ),
            Refusal::NotSigned {
                commit,
                zone,
                needed,
                counted,
                rejected,
                unmet,
            } => {
                write!(
                    f,
                    "brought by {}, whose sign-offs do not meet the first parent's rule for zone {zone}: {counted} of {needed} counted",
                    short(commit)
                )?;
                for u in unmet {
                    write!(f, "; {u}")?;
                }
                for r in rejected {
                    write!(f, "; {r}")?;
                }
                Ok(())
            }
            Refusal::Failed { commit, error } => write!(
                f,
                "brought by {}, which could not be evaluated: {error}",
                short(commit)
            ),
        }
    }
}

/// Why a touch of a merge is the merge's own, so that the merge's sign-offs must
/// cover it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", content = "refusal", rename_all = "kebab-case")]
pub enum Own {
    /// The merge's text is no parent's (a conflict resolution, an "evil merge").
    DiffersFromEveryParent,
    /// The merge takes a side's text that the side never changed: the first
    /// parent's newer content is reverted to the merge base's.
    RevertsToBase,
    /// The merge's manifest is a side's, but it weakens what that side never
    /// weakened: changes its first parent made since the merge base are lost.
    Discards,
    /// A side changed it, without the first parent's consent.
    Unconsented(Refusal),
}

impl fmt::Display for Own {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Own::DiffersFromEveryParent => f.write_str("differs from every parent"),
            Own::RevertsToBase => f.write_str("reverts to merge-base content"),
            Own::Discards => f.write_str(
                "takes a side's manifest that drops what the first parent added since the merge base",
            ),
            Own::Unconsented(r) => r.fmt(f),
        }
    }
}

/// The most telling reason among the sides' answers: a refused side change
/// says more than a revert, which says more than "differs".
pub fn strongest(reasons: Vec<Own>) -> Own {
    let rank = |o: &Own| match o {
        Own::Unconsented(_) => 0,
        Own::RevertsToBase | Own::Discards => 1,
        Own::DiffersFromEveryParent => 2,
    };
    reasons
        .into_iter()
        .min_by_key(rank)
        .unwrap_or(Own::DiffersFromEveryParent)
}

/// Did the commits a side brings consent, under the first parent's manifest
/// `first`, to their changes of a file in `zone` (`threshold`: the first
/// parent's threshold for it)? `changed_file`: the brought commits that
/// changed the file; those whose change touched the first parent's zone need
/// the first parent's consent, whatever their own manifest said.
/// `changed_manifest`: those that changed the manifest; a weakening among
/// them must meet the first parent's rule too.
pub fn consent(
    first: &Manifest,
    zone: &str,
    threshold: u32,
    changed_file: &[FileEdit],
    changed_manifest: &[&Brought],
) -> Result<(), Refusal> {
    let manifest_zone = crate::manifest::MANIFEST_ZONE;
    let mut unjudged = Vec::new();
    let mut no_zone = Vec::new();
    let weakened = |f: &Facts| f.touched.iter().any(|z| z == manifest_zone);
    let checks = changed_manifest
        .iter()
        .map(|b| (*b, None, manifest_zone, first.policy.signoffs))
        .chain(
            changed_file
                .iter()
                .filter(|e| e.touched)
                .map(|e| (e.by, Some(e.had_zone), zone, threshold)),
        );
    for (b, file, zone, needed) in checks {
        let facts = match &b.judged {
            Judged::NoRules => {
                if !unjudged.contains(&b.id) {
                    unjudged.push(b.id.clone());
                }
                continue;
            }
            Judged::Failed(e) => {
                return Err(Refusal::Failed {
                    commit: b.id.clone(),
                    error: e.clone(),
                });
            }
            Judged::Rules(f) => f,
        };
        if zone == manifest_zone {
            if !weakened(facts) {
                continue;
            }
        } else if file == Some(false) {
            if !no_zone.contains(&b.id) {
                no_zone.push(b.id.clone());
            }
            continue;
        }
        let signed = signoff::evaluate(first, &facts.trailers, &facts.author_email, &facts.digest);
        // The first parent's rule: its threshold, and its approvers and
        // `require` entries for the zone (a side's own looser rules, or its
        // override, carry nothing).
        let rules = match first.zone(zone) {
            Some(z) if zone != manifest_zone => first.rules(z),
            _ => Rules {
                total: needed,
                eligible: None,
                require: Vec::new(),
            },
        };
        let restricted = rules.eligible.is_some() || !rules.require.is_empty();
        let unmet = if restricted {
            crate::manifest::consent::unmet(&rules, &signed.distinct, None)
        } else {
            Vec::new()
        };
        let counted = signed.count();
        if counted < needed || !unmet.is_empty() {
            return Err(Refusal::NotSigned {
                commit: b.id.clone(),
                zone: zone.to_string(),
                needed,
                counted,
                rejected: signed
                    .entries
                    .iter()
                    .filter(|s| !s.counted)
                    .map(|s| format!("{}: {}", s.value, s.why_not))
                    .collect(),
                unmet: unmet.iter().map(ToString::to_string).collect(),
            });
        }
    }
    if !unjudged.is_empty() {
        return Err(Refusal::Unjudged { commits: unjudged });
    }
    if !no_zone.is_empty() {
        return Err(Refusal::NoZone {
            zone: zone.to_string(),
            commits: no_zone,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(old_start: u32, old_lines: u32, new_start: u32, new_lines: u32) -> Hunk {
        Hunk::new(old_start, old_lines, new_start, new_lines)
    }

    #[test]
    fn a_hunk_the_side_wrote_and_changed_is_carried_candidate() {
        // The merge changed line 5 relative to the first parent; the side has the
        // same text (no side → merge hunk there); the base had other text.
        let mine = h(5, 1, 5, 1);
        assert_eq!(
            relation(&mine, Some(&[]), Some(&[h(5, 1, 5, 1)])),
            Relation::Changed
        );
        // The base has no such file: everything is the side's.
        assert_eq!(relation(&mine, Some(&[]), None), Relation::Changed);
    }

    #[test]
    fn a_revert_to_the_base_is_unchanged() {
        let mine = h(5, 1, 5, 1);
        assert_eq!(relation(&mine, Some(&[]), Some(&[])), Relation::Unchanged);
        // Part of the hunk new, part the base's: not all of it is the side's change.
        let wide = h(4, 2, 4, 2);
        assert_eq!(
            relation(&wide, Some(&[]), Some(&[h(4, 1, 4, 1)])),
            Relation::Unchanged
        );
    }

    #[test]
    fn text_that_is_no_sides_differs() {
        let mine = h(5, 1, 5, 1);
        assert_eq!(
            relation(&mine, Some(&[h(5, 1, 5, 1)]), Some(&[])),
            Relation::Differs
        );
        assert_eq!(relation(&mine, None, None), Relation::Differs);
        // A side deletion right next to the hunk counts as near.
        assert_eq!(
            relation(&mine, Some(&[h(7, 1, 5, 0)]), None),
            Relation::Differs
        );
    }

    #[test]
    fn a_deletion_is_the_sides_only_where_the_side_deleted_or_rewrote() {
        // The merge deletes the first parent's lines after line 3.
        let mine = h(4, 2, 3, 0);
        assert_eq!(
            relation(&mine, Some(&[]), Some(&[h(4, 1, 3, 0)])),
            Relation::Changed
        );
        assert_eq!(
            relation(&mine, Some(&[]), Some(&[h(9, 1, 8, 0)])),
            Relation::Unchanged
        );
    }

    fn first_parent(extra: &str) -> Manifest {
        let text = format!(
            "version = 1\n[[instance]]\nid = \"alpha\"\nemails = [\"a@x\"]\n\
             [[instance]]\nid = \"beta\"\nemails = [\"b@x\"]\n\
             [[zone]]\nid = \"z\"\npath = \"f\"\nlines = \"1-5\"\n{extra}"
        );
        crate::manifest::validate::parse(&text, "guard.toml").expect("a valid manifest")
    }

    fn commit(id: &str, touched: &[&str], signers: &[&str]) -> Brought {
        let mut message = String::from("side work\n\n");
        for s in signers {
            message.push_str(&format!("Signed-off-by: {s}\n"));
        }
        Brought {
            id: id.to_string(),
            judged: Judged::Rules(Box::new(Facts {
                touched: touched.iter().map(|z| z.to_string()).collect(),
                trailers: crate::trailers::parse(&message),
                author_email: "dev@x".into(),
                digest: Default::default(),
            })),
        }
    }

    /// `b`'s change of the zone's file, under a manifest that had the zone.
    fn edit(by: &Brought, touched: bool) -> FileEdit<'_> {
        FileEdit {
            by,
            touched,
            had_zone: true,
        }
    }

    #[test]
    fn consent_needs_the_first_parents_instances_and_threshold() {
        let first = first_parent("");
        let both = commit("c1", &["z"], &["A <a@x>", "B <b@x>"]);
        assert_eq!(consent(&first, "z", 2, &[edit(&both, true)], &[]), Ok(()));
        // An instance the first parent does not know does not count.
        let revoked = commit("c2", &["z"], &["A <a@x>", "C <c@x>"]);
        let Err(Refusal::NotSigned {
            counted,
            needed,
            rejected,
            ..
        }) = consent(&first, "z", 2, &[edit(&revoked, true)], &[])
        else {
            panic!("a sign-off by an unknown instance counted");
        };
        assert_eq!((counted, needed), (1, 2));
        assert_eq!(
            rejected,
            ["C <c@x>: <c@x> is not the email of a registered instance"]
        );
        // A threshold raised on the first parent applies.
        assert!(matches!(
            consent(&first, "z", 3, &[edit(&both, true)], &[]),
            Err(Refusal::NotSigned {
                needed: 3,
                counted: 2,
                ..
            })
        ));
        // A commit that changed the file outside the zone needs no sign-off.
        let elsewhere = commit("c3", &[], &[]);
        assert_eq!(
            consent(
                &first,
                "z",
                2,
                &[edit(&elsewhere, false), edit(&both, true)],
                &[]
            ),
            Ok(())
        );
        // One that changed the first parent's zone needs them, even where its
        // own manifest's zone did not cover those lines (widened since).
        assert!(matches!(
            consent(&first, "z", 2, &[edit(&elsewhere, true)], &[]),
            Err(Refusal::NotSigned { counted: 0, .. })
        ));
    }

    #[test]
    fn consent_refuses_what_no_rule_judged() {
        let first = first_parent("");
        let orphan = Brought {
            id: "c0".into(),
            judged: Judged::NoRules,
        };
        assert_eq!(
            consent(&first, "z", 2, &[edit(&orphan, true)], &[]),
            Err(Refusal::Unjudged {
                commits: vec!["c0".into()]
            })
        );
        let before_zone = commit("c1", &[], &[]);
        assert_eq!(
            consent(
                &first,
                "z",
                2,
                &[FileEdit {
                    by: &before_zone,
                    touched: true,
                    had_zone: false
                }],
                &[]
            ),
            Err(Refusal::NoZone {
                zone: "z".into(),
                commits: vec!["c1".into()]
            })
        );
        let broken = Brought {
            id: "c2".into(),
            judged: Judged::Failed("bad manifest".into()),
        };
        assert!(matches!(
            consent(&first, "z", 2, &[edit(&broken, true)], &[]),
            Err(Refusal::Failed { .. })
        ));
    }

    #[test]
    fn a_side_whose_manifest_weakening_was_not_signed_carries_nothing() {
        let first = first_parent("");
        let zone_edit = commit("c2", &["z"], &["A <a@x>", "B <b@x>"]);
        let weakened = commit("c1", &["manifest"], &["A <a@x>"]);
        assert!(matches!(
            consent(&first, "z", 2, &[edit(&zone_edit, true)], &[&weakened]),
            Err(Refusal::NotSigned { ref zone, .. }) if zone == "manifest"
        ));
        let signed = commit("c1", &["manifest"], &["A <a@x>", "B <b@x>"]);
        assert_eq!(
            consent(&first, "z", 2, &[edit(&zone_edit, true)], &[&signed]),
            Ok(())
        );
    }

    #[test]
    fn the_strongest_reason_wins() {
        let refused = Own::Unconsented(Refusal::Unjudged {
            commits: vec!["0123456789abcdef".into()],
        });
        assert_eq!(
            strongest(vec![
                Own::DiffersFromEveryParent,
                refused.clone(),
                Own::RevertsToBase
            ]),
            refused
        );
        assert_eq!(
            refused.to_string(),
            "brought by commits judged by no manifest: 0123456789"
        );
        assert_eq!(strongest(Vec::new()), Own::DiffersFromEveryParent);
    }
}
