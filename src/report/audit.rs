//! `guard audit`'s report: every commit of a range that touched a zone, with
//! who signed, the audit trailers and the verdict; for the what-if audit,
//! where zones ended and where they are at the end.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::Outcome;
use crate::cli::ListFormat;
use crate::git::CommitInfo;
use crate::manifest::Zone;
use crate::verdict::{Touch, Verdict};

/// One line of an audit, in the order found.
pub enum Item {
    /// A commit that touched a zone (or broke a rule), with its verdict.
    Row {
        commit: CommitInfo,
        verdict: Box<Verdict>,
        zones: Vec<Touch>,
    },
    /// A commit that could not be evaluated.
    Failed { commit: String, error: String },
    /// What-if: a zone whose every line a commit deleted.
    Gone {
        zone: String,
        commit: String,
        why: String,
    },
}

#[derive(Default)]
pub struct Audit {
    pub items: Vec<Item>,
    /// What-if: the manifest file, and the zones as carried to the range's end.
    pub what_if: Option<(String, String, Vec<Zone>)>,
}

impl Audit {
    /// One audit row for a judged commit, keeping the zones `zone` selects.
    pub fn row(&mut self, commit: CommitInfo, verdict: Verdict, zone: Option<&str>) {
        let zones = verdict
            .touched
            .iter()
            .filter(|t| zone.is_none_or(|z| t.zone == z))
            .cloned()
            .collect();
        self.items.push(Item::Row {
            commit,
            verdict: Box::new(verdict),
            zones,
        });
    }

    /// 2 if a commit could not be evaluated, 1 if one is blocked, else 0.
    pub fn code(&self) -> u8 {
        let failed = self.items.iter().any(|i| matches!(i, Item::Failed { .. }));
        let blocked = self.items.iter().any(|i| match i {
            Item::Row { verdict, .. } => !verdict.passed(),
            _ => false,
        });
        if failed { 2 } else { u8::from(blocked) }
    }
}

/// "YYYY-MM-DD HH:MM:SS +HHMM" from seconds and an offset in minutes.
pub fn format_date(secs: i64, offset_minutes: i32) -> String {
    let t = secs + i64::from(offset_minutes) * 60;
    let (days, rem) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        crate::claims::date_of(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        off / 60,
        off % 60
    )
}

/// The audit trailers of a message: every trailer but the sign-off trailer.
fn audit_trailers(message: &str) -> Vec<(String, String)> {
    crate::trailers::parse(message)
        .into_iter()
        .filter(|t| !t.key.eq_ignore_ascii_case("Signed-off-by"))
        .map(|t| (t.key, t.value))
        .collect()
}

fn human_row(c: &CommitInfo, verdict: &Verdict, zones: &[Touch], out: &mut String) {
    let date = format_date(c.time, c.offset_minutes);
    let status = if verdict.passed() {
        "passed"
    } else {
        "blocked"
    };
    let _ = writeln!(
        out,
        "{}  {date}  {} <{}>\n  {}",
        c.id,
        c.author_name,
        c.author_email,
        c.subject()
    );
    for t in zones {
        let loc = t
            .lines
            .map_or(t.file.clone(), |r| format!("{}:{r}", t.file));
        let _ = writeln!(out, "  zone      {} ({loc}: {})", t.zone, t.how);
        if let Some(own) = &t.own {
            let _ = writeln!(out, "            the merge's own change: {own}");
        }
    }
    if let Some(reason) = &verdict.overridden {
        let _ = writeln!(out, "  override  {reason}");
    }
    if let Some(by) = &verdict.ratified_by {
        let _ = writeln!(out, "  ratified  by {by}");
    }
    for r in &verdict.ratifies {
        let _ = writeln!(out, "  ratifies  {r}");
    }
    for s in &verdict.signoffs.entries {
        let what = if s.counted {
            format!("counted as {}", s.instance.as_deref().unwrap_or("?"))
        } else {
            format!("not counted: {}", s.why_not)
        };
        let _ = writeln!(out, "  sign-off  {}: {} ({what})", s.trailer, s.value);
    }
    for (k, v) in audit_trailers(&c.message) {
        let _ = writeln!(out, "  trailer   {k}: {v}");
    }
    let codes: Vec<&str> = verdict.violations.iter().map(|v| v.code()).collect();
    let codes_text = if codes.is_empty() {
        String::new()
    } else {
        format!(" ({})", codes.join(", "))
    };
    let _ = writeln!(out, "  verdict   {status}{codes_text}\n");
}

fn json_row(c: &CommitInfo, verdict: &Verdict, zones: &[Touch]) -> Value {
    let status = if verdict.passed() {
        "passed"
    } else {
        "blocked"
    };
    json!({
        "commit": c.id,
        "date": format_date(c.time, c.offset_minutes),
        "author": { "name": c.author_name, "email": c.author_email },
        "subject": c.subject(),
        "zones": zones.iter().map(|t| json!({
            "zone": t.zone, "file": t.file, "lines": t.lines.map(|r| r.to_string()), "how": t.how,
            "merge_own": t.own,
        })).collect::<Vec<_>>(),
        "signoffs": verdict.signoffs.entries,
        "trailers": audit_trailers(&c.message).iter()
            .map(|(k, v)| json!({ "key": k, "value": v })).collect::<Vec<_>>(),
        "verdict": status,
        "violations": verdict.violations,
        "override": verdict.overridden,
        "ratified_by": verdict.ratified_by,
        "ratifies": verdict.ratifies,
    })
}

pub fn human(audit: &Audit) -> String {
    let mut out = String::new();
    let mut any = false;
    for item in &audit.items {
        match item {
            Item::Row {
                commit,
                verdict,
                zones,
            } => {
                any = true;
                human_row(commit, verdict, zones, &mut out);
            }
            Item::Failed { commit, error } => {
                any = true;
                let _ = writeln!(out, "{commit}  ERROR could not evaluate: {error}\n");
            }
            Item::Gone { zone, commit, why } => {
                let _ = writeln!(out, "zone {zone} ends at {}: {why}\n", &commit[..10]);
            }
        }
    }
    if !any {
        out.push_str("no commit in the range touched a zone\n");
    }
    if let Some((_, to, zones)) = &audit.what_if {
        let _ = writeln!(out, "zones at {}:", &to[..to.len().min(10)]);
        for z in zones {
            let _ = writeln!(out, "  {} {}", z.id, z.location());
        }
    }
    out
}

pub fn json(audit: &Audit) -> String {
    let mut commits = Vec::new();
    let mut gone = Vec::new();
    for item in &audit.items {
        match item {
            Item::Row {
                commit,
                verdict,
                zones,
            } => commits.push(json_row(commit, verdict, zones)),
            Item::Failed { commit, error } => {
                commits.push(json!({ "commit": commit, "error": error }));
            }
            Item::Gone { zone, commit, why } => {
                gone.push(json!({ "zone": zone, "commit": commit, "why": why }));
            }
        }
    }
    let doc = match &audit.what_if {
        None => json!({ "version": 1, "commits": commits }),
        Some((label, _, zones)) => {
            let at_end: Vec<Value> = zones
                .iter()
                .map(|z| {
                    json!({ "id": z.id, "path": z.path.as_str(), "lines": z.lines.map(|r| r.to_string()) })
                })
                .collect();
            json!({
                "version": 1, "what_if": label, "commits": commits, "zones_at_end": at_end, "gone": gone,
            })
        }
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The audit as the command's outcome.
pub fn outcome(audit: &Audit, format: ListFormat) -> Outcome {
    Outcome {
        code: audit.code(),
        stdout: match format {
            ListFormat::Human => human(audit),
            ListFormat::Json => json(audit),
        },
        stderr: String::new(),
        ..Default::default()
    }
}
