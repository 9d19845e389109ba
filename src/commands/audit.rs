//! `guard audit`: every commit of a range that touched a zone, with who signed,
//! the audit trailers, and the verdict.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::Outcome;
use crate::cli::{ListFormat, ManifestArg};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::git::Side;
use crate::git::graph::BloomKey;
use crate::manifest::compare::Expected;
use crate::policy::{BaseManifest, Change, Evaluator, Subject, Verdict};
use crate::session::{existing_manifest_loc, judge_commit};
use crate::trailers;

/// "YYYY-MM-DD HH:MM:SS +HHMM" from seconds and an offset in minutes.
pub fn format_date(secs: i64, offset_minutes: i32) -> String {
    let t = secs + i64::from(offset_minutes) * 60;
    let (days, rem) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        off / 60,
        off % 60
    )
}

pub fn audit(
    range: Option<&str>,
    zone: Option<&str>,
    format: ListFormat,
    arg: &ManifestArg,
) -> Result<Outcome> {
    let repo = Repo::open()?;
    if let Some(file) = &arg.manifest {
        return what_if(&repo, range, zone, format, file);
    }
    let loc = existing_manifest_loc(&repo, arg)?;
    let rel = loc
        .rel
        .clone()
        .ok_or_else(|| Error::new("the manifest must be inside the repository"))?;
    let ids = match range.map(|r| r.split_once("..")) {
        Some(Some((a, b))) => {
            let from = repo.resolve(if a.is_empty() { "HEAD" } else { a })?;
            let to = repo.resolve(if b.is_empty() { "HEAD" } else { b })?;
            repo.range(&from, &to)?
        }
        Some(None) => repo.history(&repo.resolve(range.unwrap_or("HEAD"))?)?,
        None => repo.history(&repo.resolve("HEAD")?)?,
    };
    let eval = Evaluator::new(&repo, rel);
    let (mut rows, mut human) = (Vec::<Value>::new(), String::new());
    let (mut blocked, mut failed) = (false, false);
    for id in ids {
        let verdict = match judge_commit(&eval, &id) {
            Ok(v) => v,
            Err(e) => {
                failed = true;
                let _ = writeln!(human, "{id}  ERROR could not evaluate: {e}\n");
                rows.push(json!({ "commit": id, "error": e.to_string() }));
                continue;
            }
        };
        let touched: Vec<_> = verdict
            .touched
            .iter()
            .filter(|t| zone.is_none_or(|z| t.zone == z))
            .collect();
        if touched.is_empty() && (zone.is_some() || verdict.violations.is_empty()) {
            continue;
        }
        blocked |= !verdict.passed();
        rows.push(row(&repo, &id, &verdict, zone, &mut human)?);
    }
    if rows.is_empty() {
        human.push_str("no commit in the range touched a zone\n");
    }
    let stdout = match format {
        ListFormat::Human => human,
        ListFormat::Json => {
            let mut s = serde_json::to_string_pretty(&json!({ "version": 1, "commits": rows }))
                .unwrap_or_default();
            s.push('\n');
            s
        }
    };
    Ok(Outcome {
        code: if failed { 2 } else { u8::from(blocked) },
        stdout,
        stderr: String::new(),
        ..Default::default()
    })
}

/// One audit row: a commit and what its verdict says (human text appended to
/// `human`, the JSON object returned).
fn row(
    repo: &Repo,
    id: &str,
    verdict: &Verdict,
    zone: Option<&str>,
    human: &mut String,
) -> Result<Value> {
    let touched: Vec<_> = verdict
        .touched
        .iter()
        .filter(|t| zone.is_none_or(|z| t.zone == z))
        .collect();
    let c = repo.commit(id)?;
    let date = format_date(c.time, c.offset_minutes);
    let audit_trailers: Vec<(String, String)> = trailers::parse(&c.message)
        .into_iter()
        .filter(|t| !t.key.eq_ignore_ascii_case("Signed-off-by"))
        .map(|t| (t.key, t.value))
        .collect();
    let status = if verdict.passed() {
        "passed"
    } else {
        "blocked"
    };
    let _ = writeln!(
        human,
        "{id}  {date}  {} <{}>\n  {}",
        c.author_name,
        c.author_email,
        c.subject()
    );
    for t in &touched {
        let loc = t
            .lines
            .map_or(t.file.clone(), |r| format!("{}:{r}", t.file));
        let _ = writeln!(human, "  zone      {} ({loc}: {})", t.zone, t.how);
        if let Some(own) = &t.own {
            let _ = writeln!(human, "            the merge's own change: {own}");
        }
    }
    for s in &verdict.signoffs.entries {
        let what = if s.counted {
            format!("counted as {}", s.instance.as_deref().unwrap_or("?"))
        } else {
            format!("not counted: {}", s.why_not)
        };
        let _ = writeln!(human, "  sign-off  {}: {} ({what})", s.trailer, s.value);
    }
    for (k, v) in &audit_trailers {
        let _ = writeln!(human, "  trailer   {k}: {v}");
    }
    let codes: Vec<&str> = verdict.violations.iter().map(|v| v.code()).collect();
    let codes_text = if codes.is_empty() {
        String::new()
    } else {
        format!(" ({})", codes.join(", "))
    };
    let _ = writeln!(human, "  verdict   {status}{codes_text}\n");
    Ok(json!({
        "commit": id,
        "date": date,
        "author": { "name": c.author_name, "email": c.author_email },
        "subject": c.subject(),
        "zones": touched.iter().map(|t| json!({
            "zone": t.zone, "file": t.file, "lines": t.lines.map(|r| r.to_string()), "how": t.how,
            "merge_own": t.own,
        })).collect::<Vec<_>>(),
        "signoffs": verdict.signoffs.entries,
        "trailers": audit_trailers.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect::<Vec<_>>(),
        "verdict": status,
        "violations": verdict.violations,
    }))
}

/// Where the what-if manifest "is": a path no tree can hold, so nothing in the
/// repository is read as a manifest.
const WHAT_IF_PATH: &str = ".git/guard-what-if";

/// The what-if audit: FILE is the manifest in force at A, and its zones are
/// carried forward through the first-parent history by the drift mapping.
fn what_if(
    repo: &Repo,
    range: Option<&str>,
    zone: Option<&str>,
    format: ListFormat,
    file: &std::path::Path,
) -> Result<Outcome> {
    let Some((a, b)) = range.and_then(|r| r.split_once("..")) else {
        return Err(Error::new(
            "the what-if audit (--manifest FILE) needs a range A..B",
        ));
    };
    let from = repo.resolve(if a.is_empty() { "HEAD" } else { a })?;
    let to = repo.resolve(if b.is_empty() { "HEAD" } else { b })?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::context(format!("cannot read {}", file.display()), e))?;
    let label = file.display().to_string();
    // Nothing in the repository is read as a manifest: an impossible path.
    let eval = Evaluator::new(repo, WHAT_IF_PATH.to_string());
    let start = Side::Tree(repo.commit(&from)?.tree);
    let mut manifest = eval.validate(&text, &label, &start)?;
    if let Some(z) = zone {
        if manifest.zone(z).is_none() {
            return Err(Error::new(format!("{label} has no zone {z:?}")));
        }
        manifest.zones.retain(|x| x.id == z);
    }
    let (mut rows, mut human, mut gone) = (Vec::new(), String::new(), Vec::new());
    let mut blocked = false;
    // Bloom keys of the paths that can matter, rebuilt when zones move.
    let mut keys: Option<(Vec<String>, Vec<BloomKey>)> = None;
    // The roots the evaluator looks changes up under (zones, invariants, the
    // manifest's own path), for the prefetching thread.
    let roots: Vec<String> = (manifest.roots().into_iter().chain([WHAT_IF_PATH]))
        .map(String::from)
        .collect();
    let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
    let walk =
        |found: &mut dyn FnMut(&crate::git::Step)| repo.first_parent_range_with(&from, &to, found);
    crate::git::prefetch::with_worker(repo, &roots, walk, |steps, progress| -> Result<()> {
        for (i, step) in steps.iter().enumerate() {
            progress.store(i, std::sync::atomic::Ordering::Relaxed);
            if let Some(pos) = step.pos {
                let roots = manifest.roots();
                if keys
                    .as_ref()
                    .is_none_or(|(r, _)| !r.iter().map(String::as_str).eq(roots.iter().copied()))
                {
                    let owned = roots.iter().map(|r| r.to_string()).collect();
                    keys = Some((owned, BloomKey::for_roots(&roots)));
                }
                if let Some((_, k)) = &keys
                    && !k.is_empty()
                    && repo.graph_unchanged(pos, k)
                {
                    continue;
                }
            }
            let (id, tree, base) = (step.id.clone(), step.tree.clone(), step.base.clone());
            let change = Change {
                base,
                new: tree,
                others: Vec::new(),
                parents: Vec::new(),
            };
            let changes = eval.changes(&manifest, &change)?;
            if changes.is_empty() {
                continue;
            }
            let c = repo.commit(&id)?;
            let subject = Subject {
                commit: Some(id.clone()),
                subject: c.subject().to_string(),
                message: c.message.clone(),
                author_email: c.author_email.clone(),
                update: None,
            };
            let which = BaseManifest::Carried(Box::new(manifest.clone()));
            let verdict = eval.evaluate(subject, &which, &change)?;
            if !verdict.touched.is_empty() {
                blocked |= !verdict.passed();
                rows.push(row(repo, &id, &verdict, zone, &mut human)?);
            }
            // Carry the zones to where this commit moved their code.
            let expected =
                eval.expectations(&manifest, &change, &changes, &mut Default::default())?;
            let mut kept = Vec::new();
            for mut z in std::mem::take(&mut manifest.zones) {
                match expected.get(&z.id) {
                    None => kept.push(z),
                    Some(Expected::At { path, lines }) => {
                        z.path = crate::manifest::PathSpec::Literal(path.clone());
                        z.lines = *lines;
                        kept.push(z);
                    }
                    Some(Expected::Gone(why)) => {
                        let _ = writeln!(human, "zone {} ends at {}: {why}\n", z.id, &id[..10]);
                        gone.push(json!({ "zone": z.id, "commit": id, "why": why }));
                    }
                }
            }
            manifest.zones = kept;
        }
        Ok(())
    })?;
    if rows.is_empty() {
        human.push_str("no commit in the range touched a zone\n");
    }
    let _ = writeln!(human, "zones at {}:", &to[..10]);
    let at_end: Vec<Value> = manifest
        .zones
        .iter()
        .map(|z| {
            let _ = writeln!(human, "  {} {}", z.id, z.location());
            json!({ "id": z.id, "path": z.path.as_str(), "lines": z.lines.map(|r| r.to_string()) })
        })
        .collect();
    let stdout = match format {
        ListFormat::Human => human,
        ListFormat::Json => {
            let mut s = serde_json::to_string_pretty(&json!({
                "version": 1, "what_if": label, "commits": rows, "zones_at_end": at_end, "gone": gone,
            }))
            .unwrap_or_default();
            s.push('\n');
            s
        }
    };
    Ok(Outcome {
        code: u8::from(blocked),
        stdout,
        stderr: String::new(),
        ..Default::default()
    })
}
