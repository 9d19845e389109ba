//! The human report: for every violation the change, the zone and its reason,
//! the file and touched lines with their old and new text, who signed and why a
//! sign-off did not count, and what would make it pass.

use std::fmt::Write;

use super::{Entry, Report};
use crate::manifest::LineRange;
use crate::verdict::{Touch, Verdict, Violation};

/// A one-line message and the location (in the new version) for a violation.
pub fn locate(v: &Verdict, viol: &Violation) -> (Option<String>, Option<LineRange>, String) {
    match viol {
        Violation::InsufficientSignoffs {
            zone,
            needed,
            counted,
            unmet,
            ..
        } => {
            let t = v.touched.iter().find(|t| &t.zone == zone);
            let lines = t
                .and_then(|t| t.hunks.iter().find_map(|h| h.new.or(h.old)))
                .or(t.and_then(|t| t.lines));
            let reason = t.map(|t| t.reason.as_str()).unwrap_or("");
            (
                t.map(|t| t.file.clone()),
                lines,
                if unmet.is_empty() {
                    format!(
                        "zone {zone} ({reason}) is touched and needs {needed} sign-off{} from distinct instances; {counted} counted",
                        if *needed == 1 { "" } else { "s" }
                    )
                } else {
                    let what: Vec<String> = unmet.iter().map(ToString::to_string).collect();
                    format!("zone {zone} ({reason}) is touched and {}", what.join("; "))
                },
            )
        }
        Violation::StaleZone(s) => {
            let file = s.written.split(':').next().map(str::to_string);
            (
                file,
                None,
                match &s.expected {
                    Some(e) => format!(
                        "stale zone {}: the manifest says {}, its code is now at {} ({}); run `guard fix`",
                        s.zone, s.written, e, s.detail
                    ),
                    None => format!("stale zone {}: {} ({})", s.zone, s.written, s.detail),
                },
            )
        }
        Violation::Invariant {
            file,
            rule,
            pattern,
            line,
            text,
            reason,
        } => {
            let what = match (rule.as_str(), line, text) {
                ("must_not_contain", Some(l), Some(t)) => {
                    format!(
                        "line {l} matches forbidden pattern /{pattern}/: {}",
                        t.trim()
                    )
                }
                (_, _, Some(t)) => format!("{rule} /{pattern}/: {t}"),
                _ => format!("no longer matches required pattern /{pattern}/"),
            };
            (
                Some(file.clone()),
                line.and_then(|l| LineRange::new(l as u32, l as u32)),
                format!(
                    "invariant on {file}: {what} ({reason}); invariants hold even with sign-offs"
                ),
            )
        }
        Violation::InvalidManifest { file, errors } => (
            Some(file.clone()),
            None,
            format!(
                "the change writes an invalid manifest {file}:\n{}",
                errors
                    .lines()
                    .map(|l| format!("      {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        ),
        Violation::MissingAuditTrailer { trailer } => (
            None,
            None,
            format!(
                "missing audit trailer {trailer}: add a non-empty `{trailer}: ...` line to the message's trailer block"
            ),
        ),
        Violation::Frozen { zone, reason } => {
            let t = v.touched.iter().find(|t| &t.zone == zone);
            (
                t.map(|t| t.file.clone()),
                t.and_then(|t| t.lines),
                format!(
                    "zone {zone} is frozen ({reason}): no change passes it, whatever its sign-offs"
                ),
            )
        }
        Violation::Claimed {
            zone,
            by,
            until,
            note,
        } => {
            let t = v.touched.iter().find(|t| &t.zone == zone);
            let until = until
                .as_deref()
                .map_or(String::new(), |u| format!(" until {u}"));
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(" ({note})")
            };
            (
                t.map(|t| t.file.clone()),
                t.and_then(|t| t.lines),
                format!(
                    "zone {zone} is claimed by {by}{until}{note}: a change by another instance needs {by}'s sign-off"
                ),
            )
        }
        Violation::ClaimTaken { zone, by } => (
            Some(crate::claims::PATH.to_string()),
            None,
            format!(
                "the change releases, alters or takes over {by}'s claim of zone {zone} without {by}'s sign-off"
            ),
        ),
        Violation::ClaimUnsigned { zone, instance } => (
            Some(crate::claims::PATH.to_string()),
            None,
            format!(
                "the change records a claim of zone {zone} in {instance}'s name without {instance}'s sign-off"
            ),
        ),
        Violation::CoChange { zone, missing } => {
            let t = v.touched.iter().find(|t| &t.zone == zone);
            (
                t.map(|t| t.file.clone()),
                t.and_then(|t| t.lines),
                format!(
                    "zone {zone} is touched, and a change to it must also change {}; sign-offs do not waive it",
                    missing.join(", ")
                ),
            )
        }
    }
}

fn touch_block(out: &mut String, t: &Touch, update: Option<&str>) {
    let loc = match t.lines {
        Some(r) if !t.file.is_empty() => format!("{}:{}", t.file, r),
        _ => t.file.clone(),
    };
    let reason = if t.reason.is_empty() {
        String::new()
    } else {
        format!(" — {}", t.reason)
    };
    let _ = writeln!(out, "  zone {}{reason}", t.zone);
    let _ = writeln!(out, "    {loc}: {}", t.how);
    match (&t.own, update) {
        (Some(own), Some(_)) => {
            let _ = writeln!(
                out,
                "    carried by no commit with consent ({own}): a ref update has no sign-offs of its own"
            );
        }
        (Some(own), None) => {
            let _ = writeln!(
                out,
                "    the merge's own change ({own}): the merge's message must carry the sign-offs"
            );
        }
        _ => {}
    }
    for d in &t.details {
        let _ = writeln!(out, "      * {d}");
    }
    for h in &t.hunks {
        let range = |r: Option<LineRange>| match r {
            Some(r) if r.start == r.end => format!("line {}", r.start),
            Some(r) => format!("lines {r}"),
            None => "nothing".to_string(),
        };
        let _ = writeln!(out, "    {} -> {}:", range(h.old), range(h.new));
        for l in &h.old_text {
            let _ = writeln!(out, "      - {l}");
        }
        for l in &h.new_text {
            let _ = writeln!(out, "      + {l}");
        }
    }
}

fn verdict_block(out: &mut String, v: &Verdict) {
    let label = v.subject.label();
    if !v.rules {
        let _ = writeln!(out, "passed  {label}: {}", v.notes.join("; "));
        return;
    }
    if v.touched.is_empty() && v.violations.is_empty() {
        let _ = writeln!(out, "passed  {label}: touches no zone");
        for n in &v.notes {
            let _ = writeln!(out, "  note: {n}");
        }
        return;
    }
    let status = if v.passed() { "passed " } else { "BLOCKED" };
    let _ = writeln!(out, "{status} {label}");
    if let Some(reason) = &v.overridden {
        let _ = writeln!(
            out,
            "  OVERRIDE: the touched zones passed by the break-glass override: {reason}"
        );
    }
    if let Some(by) = &v.ratified_by {
        let _ = writeln!(
            out,
            "  ratified by {}: its sign-offs give this change the consent it lacked",
            &by[..by.len().min(10)]
        );
    }
    for t in &v.touched {
        touch_block(out, t, v.subject.update.as_deref());
    }
    if let Some(c) = &v.manifest_change {
        for d in &c.drift {
            let _ = writeln!(out, "  manifest: {d} (drift, no sign-off needed)");
        }
        for d in &c.tightenings {
            let _ = writeln!(out, "  manifest: {d} (tightening, no sign-off needed)");
        }
    }
    if !v.touched.is_empty() {
        if v.signoffs.entries.is_empty() {
            let _ = writeln!(
                out,
                "  sign-offs: none found in the message's trailer block"
            );
        } else {
            let _ = writeln!(out, "  sign-offs:");
            for s in &v.signoffs.entries {
                let mark = if s.counted { "counted " } else { "rejected" };
                let who = match (&s.instance, s.counted) {
                    (Some(i), true) => format!(" -> {i}"),
                    _ => String::new(),
                };
                let why = if s.counted {
                    String::new()
                } else {
                    format!(": {}", s.why_not)
                };
                let _ = writeln!(out, "    {mark} {}: {}{who}{why}", s.trailer, s.value);
            }
        }
    }
    for viol in &v.violations {
        let (_, _, msg) = locate(v, viol);
        let _ = writeln!(out, "  violation [{}]: {msg}", viol.code());
        let fix = match viol {
            Violation::InsufficientSignoffs {
                needed,
                counted,
                candidates,
                trailer,
                unmet,
                ..
            } => {
                let more = needed.saturating_sub(*counted);
                if !unmet.is_empty() {
                    let what: Vec<String> = unmet.iter().map(ToString::to_string).collect();
                    format!("{} (`{trailer}: Name <email>` trailers)", what.join("; "))
                } else if v.signoffs.open {
                    format!("add {more} more `{trailer}: Name <email>` trailer(s) from distinct people")
                } else if candidates.is_empty() {
                    format!("{more} more distinct instance(s) must sign, but no registered instance is left to sign")
                } else {
                    format!(
                        "add `{trailer}: Name <email>` trailers from {more} more of: {}",
                        candidates.join(", ")
                    )
                }
            }
            Violation::StaleZone(s) => match &s.expected {
                Some(e) => format!("run `guard fix` (it writes {e}) and commit the manifest with the change"),
                None => "edit the zone in the manifest (removing or re-pointing it needs the sign-offs)".to_string(),
            },
            Violation::Invariant { .. } => {
                "restore the required text or remove the forbidden one; sign-offs do not waive an invariant".to_string()
            }
            Violation::MissingAuditTrailer { trailer } => {
                format!("add `{trailer}: <text>` to the last paragraph of the message")
            }
            Violation::InvalidManifest { file, .. } => {
                format!("fix {file} at each place named above (`guard zones --verify` checks it)")
            }
            Violation::Claimed { by, .. }
            | Violation::ClaimTaken { by, .. }
            | Violation::ClaimUnsigned { instance: by, .. } => {
                format!("add {by}'s sign-off (or wait until the claim is released or expires)")
            }
            Violation::Frozen { .. } => {
                "wait for the freeze to be lifted (`guard thaw`, a weakening that needs the sign-offs)".to_string()
            }
            Violation::CoChange { missing, .. } => {
                format!("change {} in the same commit", missing.join(" and "))
            }
        };
        let fix = match &v.subject.update {
            // A ref update has no message: only commits can carry consent.
            Some(name)
                if !matches!(
                    viol,
                    Violation::StaleZone(_) | Violation::InvalidManifest { .. }
                ) =>
            {
                format!(
                    "push commits that make this change with their sign-offs (a revert of what the update takes away), or leave {name} where it is"
                )
            }
            _ => fix,
        };
        let _ = writeln!(out, "    to pass: {fix}");
    }
    for n in &v.notes {
        let _ = writeln!(out, "  note: {n}");
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for e in &report.entries {
        match e {
            Entry::Judged(v) => verdict_block(&mut out, v),
            Entry::Failed { commit, error } => {
                let _ = writeln!(
                    out,
                    "ERROR   {}: could not evaluate: {error}",
                    commit.as_deref().unwrap_or("change")
                );
            }
        }
    }
    let judged = report.entries.len();
    let blocked = report
        .entries
        .iter()
        .filter(|e| matches!(e, Entry::Judged(v) if !v.passed()))
        .count();
    let failed = report
        .entries
        .iter()
        .filter(|e| matches!(e, Entry::Failed { .. }))
        .count();
    if judged > 1 || blocked > 0 || failed > 0 {
        let _ = writeln!(
            out,
            "guard: {} ({judged} change{} checked, {blocked} blocked, {failed} not evaluated)",
            report.status(),
            if judged == 1 { "" } else { "s" }
        );
    }
    out
}

/// What the pre-commit hook announces of a staged change (before the message
/// exists): each zone it touches and the sign-offs it will need.
pub fn announcement(verdict: &Verdict) -> String {
    let mut out = String::new();
    let mut zones: Vec<String> = Vec::new();
    for t in &verdict.touched {
        let line = match t.lines {
            Some(r) => format!("{} ({}:{})", t.zone, t.file, r),
            None => format!("{} ({})", t.zone, t.file),
        };
        if !zones.contains(&line) {
            zones.push(line);
            let who = match verdict.violations.iter().find_map(|v| match v {
                Violation::InsufficientSignoffs { candidates, .. } => Some(candidates.clone()),
                _ => None,
            }) {
                Some(c) if !c.is_empty() => format!(" from: {}", c.join(", ")),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "guard: {} needs {} sign-off{}{who}",
                zones.last().map(String::as_str).unwrap_or(""),
                t.threshold,
                if t.threshold == 1 { "" } else { "s" }
            );
        }
    }
    for v in &verdict.violations {
        if let Violation::Claimed { zone, by, .. } = v {
            let _ = writeln!(
                out,
                "guard: {zone} is claimed by {by}: the commit needs {by}'s sign-off too"
            );
        }
    }
    out
}
