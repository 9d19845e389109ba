//! The rules on what a change leaves behind: where zones are after it (stale
//! zones), the manifest's own change (weakenings need sign-offs), invariants.

use foldhash::{HashMap, HashMapExt};

use super::touch::mode_code;
use super::{Change, Evaluator, Facts, Touch, Violation};
use crate::change::{self, FileChange, Hunk, Kind};
use crate::error::{Error, Result};
use crate::manifest::compare::{self, Expected, Stale};
use crate::manifest::validate::{self, FileState};
use crate::manifest::{LineRange, MANIFEST_ZONE, Manifest, PathSpec, Zone};
use crate::zones;

impl Evaluator<'_> {
    /// Where each zone on a single file is after the change (zones whose file the
    /// change did not touch are absent: they stay where they are).
    pub fn expectations(
        &self,
        manifest: &Manifest,
        change: &Change,
        changes: &[FileChange],
        cache: &mut HashMap<String, Vec<Hunk>>,
    ) -> Result<HashMap<String, Expected>> {
        let mut expected = HashMap::new();
        for zone in manifest.zones.iter() {
            let PathSpec::Literal(p) = &zone.path else {
                continue;
            };
            if let Some(c) = changes.iter().find(|c| &c.path == p)
                && let Some(e) = self.expect(zone, c, change, cache)?
            {
                expected.insert(zone.id.clone(), e);
            }
        }
        Ok(expected)
    }

    /// Where a literal-path zone's code is after the change to its file.
    /// Where zone lines `r` went when the bytes around them are unchanged
    /// between two blobs: shifted by the lines inserted or removed before
    /// them, found without a diff ([`zones::quick`]).
    fn shifted(&self, old: &str, new: &str, r: LineRange) -> Result<Option<LineRange>> {
        Ok(self.outside(old, new, r)?.and_then(|shift| {
            LineRange::new(
                (i64::from(r.start) + shift) as u32,
                (i64::from(r.end) + shift) as u32,
            )
        }))
    }

    pub(super) fn expect(
        &self,
        zone: &Zone,
        c: &FileChange,
        change: &Change,
        cache: &mut HashMap<String, Vec<Hunk>>,
    ) -> Result<Option<Expected>> {
        if c.is_deleted() {
            let Some(to) = self
                .store
                .rename_target(&change.base, &change.new, &c.path)?
            else {
                return Ok(Some(Expected::Gone(format!("{} was deleted", c.path))));
            };
            let lines = match zone.lines {
                None => None,
                Some(r) => {
                    let (Some(o), Some(n)) = (&c.old, self.store.entry(&change.new, &to)?) else {
                        return Ok(None);
                    };
                    // Lines of a binary file are followed only where the
                    // bytes around them are unchanged (git does not diff one
                    // either); else the zone has nowhere to go, so the
                    // manifest must say where (sign-offs do not waive it).
                    if o.id == n.id {
                        return Ok(Some(Expected::At {
                            path: to,
                            lines: Some(r),
                        }));
                    }
                    if self.binary(&o.id, &n.id)? {
                        if let Some(m) = self.shifted(&o.id, &n.id, r)? {
                            return Ok(Some(Expected::At {
                                path: to,
                                lines: Some(m),
                            }));
                        }
                        return Ok(Some(Expected::Gone(format!(
                            "{} was renamed to {to} as a binary file: its lines are not followed",
                            c.path
                        ))));
                    }
                    match zones::map_range(&self.store.hunks(&o.id, &n.id)?, r) {
                        Some(m) => Some(m),
                        None => {
                            return Ok(Some(Expected::Gone(format!(
                                "every line of the zone was deleted when {} was renamed to {to}",
                                c.path
                            ))));
                        }
                    }
                }
            };
            return Ok(Some(Expected::At { path: to, lines }));
        }
        if c.type_changed() {
            return Ok(Some(Expected::Gone(format!(
                "{} is no longer a regular file",
                c.path
            ))));
        }
        let Some(r) = zone.lines else { return Ok(None) };
        if !c.content_changed() {
            return Ok(None);
        }
        // Where the bytes around the zone's lines are unchanged, the zone
        // moves by the lines inserted or removed before it (no diff needed,
        // and the answer for a binary file too).
        if let (Some(o), Some(n)) = (&c.old, &c.new)
            && self
                .store
                .prefetched(&o.id, &n.id)
                .is_none_or(|(_, binary)| binary)
            && let Some(m) = self.shifted(&o.id, &n.id, r)?
        {
            return Ok(Some(Expected::At {
                path: c.path.clone(),
                lines: Some(m),
            }));
        }
        // Otherwise a binary file is not diffed: its zone's lines cannot be
        // followed, and the manifest must say where they went.
        if let (Some(o), Some(n)) = (&c.old, &c.new)
            && self.binary(&o.id, &n.id)?
        {
            return Ok(Some(Expected::Gone(format!(
                "{} is binary on one side and the zone's lines changed: they are not followed",
                c.path
            ))));
        }
        let hunks = self.cached_hunks(c, cache)?;
        Ok(Some(match zones::map_range(&hunks, r) {
            Some(m) => Expected::At {
                path: c.path.clone(),
                lines: Some(m),
            },
            None => Expected::Gone("every line of the zone was deleted".to_string()),
        }))
    }

    /// The built-in `manifest` zone, touched: threshold `policy.signoffs`.
    /// `bound` says what a signature approves: the deleted manifest's content
    /// or every weakening's full old and new value.
    pub(super) fn manifest_touch(
        &self,
        base: &Manifest,
        how: &str,
        details: Vec<String>,
        bound: crate::digest::Part,
    ) -> Touch {
        Touch {
            zone: MANIFEST_ZONE.into(),
            reason: "the manifest guards itself".into(),
            file: self.manifest_path.clone(),
            lines: None,
            threshold: base.policy.signoffs,
            how: how.into(),
            hunks: Vec::new(),
            bound: crate::digest::Part {
                zone: MANIFEST_ZONE.into(),
                path: self.manifest_path.clone(),
                v1: crate::digest::V1 {
                    how: how.into(),
                    objects: String::new(),
                    details: details.clone(),
                },
                ..bound
            },
            details,
            own: None,
        }
    }

    pub(super) fn judge_manifest(
        &self,
        base: &Manifest,
        change: &Change,
        changes: &[FileChange],
        expected: &HashMap<String, Expected>,
        facts: &mut Facts,
    ) -> Result<()> {
        let mc = changes.iter().find(|c| c.path == self.manifest_path);
        let after: Manifest = match mc {
            None => base.clone(),
            Some(c) if c.new.is_none() => {
                let mut touch = self.manifest_touch(
                    base,
                    "manifest deleted",
                    vec!["every zone, invariant and instance removed".into()],
                    crate::digest::Part {
                        kind: "manifest-deleted",
                        old_mode: mode_code(c.old.as_ref()).into(),
                        old: self.content(c.old.as_ref())?,
                        ..Default::default()
                    },
                );
                if !change.others.is_empty() {
                    match self.merge_own_file(
                        base,
                        MANIFEST_ZONE,
                        base.policy.signoffs,
                        c,
                        change,
                    )? {
                        None => return Ok(()),
                        Some(own) => touch.own = Some(own),
                    }
                }
                facts.touched.push(touch);
                return Ok(());
            }
            // A symlink (or a submodule) is checked out as one: the manifest
            // would be read through a link guard refuses to follow, in every
            // clone. Same bytes or not, that is no manifest.
            Some(c)
                if c.new.as_ref().is_some_and(|n| {
                    !matches!(
                        n.kind,
                        crate::change::Kind::File | crate::change::Kind::Executable
                    )
                }) =>
            {
                facts.manifest.push(Violation::InvalidManifest {
                    file: self.manifest_path.clone(),
                    errors: format!(
                        "{} becomes a {} (mode {}) in this change: the manifest must be a \
                         regular file",
                        self.manifest_path,
                        match c.new.as_ref().map(|n| n.kind) {
                            Some(crate::change::Kind::Symlink) => "symlink",
                            _ => "submodule",
                        },
                        mode_code(c.new.as_ref())
                    ),
                });
                return Ok(());
            }
            Some(_) => {
                // A change that writes a manifest that does not parse or
                // validate is judged like any other, and that is a violation
                // of it (the manifest in force is fine: exit 1, not 2).
                let label = Self::side_label(&change.new, &self.manifest_path);
                let parsed = match self.manifest_at(&change.new) {
                    Ok(Some((_, text))) => {
                        validate::parse(&text, &label).map_err(|e| e.to_string())
                    }
                    Ok(None) => Err("internal: the changed manifest vanished".to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match parsed {
                    Ok(m) => m,
                    Err(errors) => {
                        facts.manifest.push(Violation::InvalidManifest {
                            file: self.manifest_path.clone(),
                            errors,
                        });
                        return Ok(());
                    }
                }
            }
        };
        if mc.is_none() && expected.is_empty() {
            return Ok(());
        }
        let mut cmp = match mc {
            None => compare::unchanged(base, expected),
            Some(_) => compare::compare(base, &after, expected),
        };
        // Every line zone of the manifest after the change must fit its file.
        // (With the manifest unchanged, each zone is its base's.)
        let base_zones = mc.map(|_| &base.zones);
        let stale: foldhash::HashSet<&str> = cmp.stale.iter().map(|s| s.zone.as_str()).collect();
        let mut more_stale = Vec::new();
        // Each file is looked at once, however many zones it holds.
        let mut states: HashMap<&str, FileState> = HashMap::new();
        for z in after.zones.iter() {
            let (Some(r), PathSpec::Literal(p)) = (z.lines, &z.path) else {
                continue;
            };
            let file_changed = changes.iter().any(|c| &c.path == p);
            let same_zone = base_zones.as_ref().is_none_or(|zones| {
                zones
                    .get(&z.id)
                    .is_some_and(|b| b.path == z.path && b.lines == z.lines)
            });
            if (!file_changed && same_zone) || stale.contains(z.id.as_str()) {
                continue;
            }
            let state = match states.get(p.as_str()) {
                Some(s) => *s,
                None => {
                    let s = self.file_state(&change.new, p)?;
                    states.insert(p, s);
                    s
                }
            };
            let detail = match state {
                FileState::Lines(n) if r.end as usize <= n => continue,
                FileState::Lines(n) => {
                    format!("{p} has {n} lines after the change: the range runs past its end")
                }
                FileState::Missing => format!("{p} does not exist after the change"),
                FileState::NotAFile => format!("{p} is not a file after the change"),
            };
            more_stale.push(Stale {
                zone: z.id.clone(),
                written: z.location(),
                expected: None,
                detail,
            });
        }
        cmp.stale.extend(more_stale);
        for s in &cmp.stale {
            facts.manifest.push(Violation::StaleZone(s.clone()));
        }
        if !cmp.weakenings.is_empty() {
            let mut touch = self.manifest_touch(
                base,
                "manifest weakened",
                cmp.weakenings.iter().map(ToString::to_string).collect(),
                crate::digest::Part {
                    kind: "manifest-weakened",
                    weakenings: cmp
                        .weakenings
                        .iter()
                        .map(|w| crate::digest::Weakened {
                            code: w.code,
                            subject: w.subject.clone(),
                            was: w.was.clone(),
                            now: w.now.clone(),
                        })
                        .collect(),
                    ..Default::default()
                },
            );
            let carried = if change.others.is_empty() {
                false
            } else {
                touch.own = self.merge_own_manifest(base, &cmp.weakenings, change)?;
                touch.own.is_none()
            };
            if !carried {
                facts.touched.push(touch);
            }
        }
        if mc.is_some() || !cmp.stale.is_empty() {
            facts.manifest_change = Some(cmp);
        }
        Ok(())
    }

    pub(super) fn invariants(
        &self,
        manifest: &Manifest,
        changes: &[FileChange],
    ) -> Result<Vec<Violation>> {
        let mut found = Vec::new();
        for inv in &manifest.invariants {
            for c in changes.iter().filter(|c| inv.path.matches(&c.path)) {
                let Some(new) = &c.new else {
                    if let Some(re) = &inv.must_contain {
                        found.push(Violation::Invariant {
                            file: c.path.clone(),
                            rule: "must_contain".into(),
                            pattern: re.as_str().to_string(),
                            line: None,
                            text: Some("the file was deleted".into()),
                            reason: inv.reason.clone(),
                        });
                    }
                    continue;
                };
                // A submodule's content is another repository's commit.
                if !c.content_changed() || new.kind == Kind::Submodule {
                    continue;
                }
                let data = self.store.blob(&new.id)?;
                // A search over the budget cannot be evaluated: exit 2, never a pass.
                let over = |rule: &str, re: &crate::manifest::pattern::Pattern, e| {
                    Error::new(format!(
                        "invariant on {} ({rule} '{}') cannot be checked on {}: {e}",
                        inv.path.as_str(),
                        re.as_str(),
                        c.path
                    ))
                };
                if let Some(re) = &inv.must_contain
                    && !re
                        .is_match(&data)
                        .map_err(|e| over("must_contain", re, e))?
                {
                    found.push(Violation::Invariant {
                        file: c.path.clone(),
                        rule: "must_contain".into(),
                        pattern: re.as_str().to_string(),
                        line: None,
                        text: None,
                        reason: inv.reason.clone(),
                    });
                }
                if let Some(re) = &inv.must_not_contain
                    && let Some(start) = re
                        .find(&data)
                        .map_err(|e| over("must_not_contain", re, e))?
                {
                    let line = data[..start].iter().filter(|&&b| b == b'\n').count() + 1;
                    let text = change::line_text(&data, line as u32, line as u32)
                        .pop()
                        .unwrap_or_default();
                    found.push(Violation::Invariant {
                        file: c.path.clone(),
                        rule: "must_not_contain".into(),
                        pattern: re.as_str().to_string(),
                        line: Some(line),
                        text: Some(text),
                        reason: inv.reason.clone(),
                    });
                }
            }
        }
        Ok(found)
    }
}
