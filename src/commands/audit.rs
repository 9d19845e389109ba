//! `guard audit`: every commit of a range that touched a zone, with who signed,
//! the audit trailers, and the verdict.

use crate::Outcome;
use crate::cli::{ListFormat, ManifestArg};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::git::Side;
use crate::git::graph::BloomKey;
use crate::manifest::Zones;
use crate::manifest::compare::Expected;
use crate::policy::{BaseManifest, Change, Evaluator, Subject};
use crate::report::Entry;
use crate::report::audit::{Audit, Item};
use crate::session::existing_manifest_loc;

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
    let mut entries: Vec<Entry> = ids
        .iter()
        .map(|id| crate::session::judge_entry(&eval, id))
        .collect();
    crate::session::ratify(&eval, &mut entries)?;
    let mut report = Audit::default();
    for (id, entry) in ids.into_iter().zip(entries) {
        let verdict = match entry {
            Entry::Judged(v) => *v,
            Entry::Failed { error, .. } => {
                report.items.push(Item::Failed { commit: id, error });
                continue;
            }
        };
        let touches = verdict
            .touched
            .iter()
            .any(|t| zone.is_none_or(|z| t.zone == z));
        let ratifies = !verdict.ratifies.is_empty();
        if !touches && !ratifies && (zone.is_some() || verdict.violations.is_empty()) {
            continue;
        }
        report.row(repo.commit(&id)?, verdict, zone);
    }
    Ok(crate::report::audit::outcome(&report, format))
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
        std::sync::Arc::make_mut(&mut manifest.zones).retain(|x| x.id == z);
    }
    let mut report = Audit::default();
    // Bloom keys of the paths that can matter, rebuilt when zones move.
    let mut keys: Option<(Vec<String>, Vec<BloomKey>)> = None;
    // The roots the evaluator looks changes up under (zones, invariants, the
    // manifest's own path), for the prefetching thread.
    let roots: Vec<String> = eval
        .roots(&manifest)
        .into_iter()
        .map(String::from)
        .collect();
    let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
    let walk =
        |found: &mut dyn FnMut(&crate::git::Step)| repo.first_parent_range_with(&from, &to, found);
    let hint = line_zones(&manifest);
    // A walk over history: trees and blobs from guard's own pack reader.
    crate::git::for_long_walks();
    crate::git::prefetch::with_worker(repo, &roots, hint, walk, |steps, progress| -> Result<()> {
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
                time: c.time,
            };
            let which = BaseManifest::Carried(Box::new(manifest.clone()));
            let verdict = eval.evaluate(subject, &which, &change)?;
            if !verdict.touched.is_empty() {
                report.row(c, verdict, zone);
            }
            // Carry the zones to where this commit moved their code.
            let expected =
                eval.expectations(&manifest, &change, &changes, &mut Default::default())?;
            if !expected.is_empty() {
                std::sync::Arc::make_mut(&mut manifest.zones).retain_mut(|z| {
                    match expected.get(&z.id) {
                        None => true,
                        Some(Expected::At { path, lines }) => {
                            z.path = crate::manifest::PathSpec::Literal(path.clone());
                            z.lines = *lines;
                            true
                        }
                        Some(Expected::Gone(why)) => {
                            report.items.push(Item::Gone {
                                zone: z.id.clone(),
                                commit: id.clone(),
                                why: why.clone(),
                            });
                            false
                        }
                    }
                });
                repo.hint_zones(line_zones(&manifest));
            }
        }
        Ok(())
    })?;
    let zones =
        std::sync::Arc::try_unwrap(manifest.zones).map_or_else(|a| a.to_vec(), Zones::into_vec);
    report.what_if = Some((label, to, zones));
    Ok(crate::report::audit::outcome(&report, format))
}

/// The zone lines of each file whose zones all have lines (a hint for the
/// prefetching worker: a file with a whole-file zone, or under a glob, is
/// not listed, and is always diffed).
fn line_zones(
    manifest: &crate::manifest::Manifest,
) -> std::collections::HashMap<String, Vec<crate::manifest::LineRange>> {
    let mut out: std::collections::HashMap<String, Vec<_>> = Default::default();
    let mut whole = std::collections::HashSet::new();
    for z in manifest.zones.iter() {
        match (&z.path, z.lines) {
            (crate::manifest::PathSpec::Literal(p), Some(r)) => {
                out.entry(p.clone()).or_default().push(r)
            }
            (crate::manifest::PathSpec::Literal(p), None) => {
                whole.insert(p.clone());
            }
            (crate::manifest::PathSpec::Glob { .. }, _) => return Default::default(),
        }
    }
    out.retain(|p, _| !whole.contains(p));
    out
}
