//! `guard fix`: rewrite moved zones in the manifest for the staged change, so
//! nobody does line arithmetic by hand.

use std::collections::HashMap;
use std::fmt::Write;

use crate::Outcome;
use crate::check::{ManifestLoc, existing_manifest_loc, staged};
use crate::cli::ManifestArg;
use crate::error::{Error, Result};
use crate::git::{Repo, Side};
use crate::manifest::compare::Expected;
use crate::manifest::edit::{self, Move};
use crate::manifest::{self, Zone};

/// What `guard fix` found and did.
#[derive(Debug, Default)]
pub struct Fixed {
    /// "zone: path A-B -> C-D", one per moved zone.
    pub moves: Vec<String>,
    /// Zones whose lines are all gone: nothing to rewrite them to.
    pub gone: Vec<String>,
    /// The staged manifest had edits not staged: nothing was staged.
    pub unstaged: bool,
    /// The manifest file was rewritten (and staged unless `unstaged`).
    pub wrote: bool,
    pub manifest: String,
}

fn location(z: &Zone) -> (String, Option<manifest::LineRange>) {
    (z.path.as_str().to_string(), z.lines)
}

fn show(path: &str, lines: Option<manifest::LineRange>) -> String {
    match lines {
        Some(r) => format!("{path} {r}"),
        None => path.to_string(),
    }
}

/// Compute the moves for the staged change and apply them. With `write_unstaged`,
/// a manifest with unstaged edits is rewritten in the working tree (not staged);
/// without it, it is left alone.
pub fn fix_staged(repo: &Repo, loc: &ManifestLoc, write_unstaged: bool) -> Result<Fixed> {
    let s = staged(repo, loc)?;
    let mut out = Fixed {
        manifest: s.eval.manifest_path.clone(),
        ..Fixed::default()
    };
    let Some(base) = s.eval.base_manifest(&s.change.base, &s.which)? else {
        return Ok(out);
    };
    let Some(rel) = loc.rel.clone() else {
        return Ok(out);
    };
    let Some(entry) = repo.entry(&Side::Index, &rel)? else {
        return Ok(out);
    };
    let staged_text = String::from_utf8(repo.blob(&entry.id)?.to_vec())
        .map_err(|_| Error::new(format!("{rel} (staged) is not UTF-8")))?;
    let staged_manifest = manifest::parse(&staged_text, &format!("{rel} (staged)"))
        .map_err(|e| Error::new(e.to_string()))?;
    let changes = s.eval.changes(&base, &s.change)?;
    let expected = s
        .eval
        .expectations(&base, &s.change, &changes, &mut HashMap::new())?;
    let mut moves = Vec::new();
    for bz in &base.zones {
        let (Some(e), Some(sz)) = (expected.get(&bz.id), staged_manifest.zone(&bz.id)) else {
            continue;
        };
        if location(sz) != location(bz) {
            continue; // already edited by hand: the check judges it
        }
        match e {
            Expected::At { path, lines } => {
                if (path.clone(), *lines) == location(bz) {
                    continue;
                }
                moves.push(Move {
                    zone: bz.id.clone(),
                    path: (path.as_str() != bz.path.as_str()).then(|| path.clone()),
                    lines: lines.filter(|l| Some(*l) != bz.lines),
                });
                out.moves.push(format!(
                    "{}: {} -> {}",
                    bz.id,
                    show(bz.path.as_str(), bz.lines),
                    show(path, *lines)
                ));
            }
            Expected::Gone(why) => out.gone.push(format!(
                "{}: {} has nowhere to go: {why}",
                bz.id,
                show(bz.path.as_str(), bz.lines)
            )),
        }
    }
    if moves.is_empty() {
        return Ok(out);
    }
    let on_disk = std::fs::read_to_string(&loc.abs).ok();
    out.unstaged = on_disk.as_deref() != Some(staged_text.as_str());
    if out.unstaged {
        if write_unstaged && let Some(text) = on_disk {
            let new_text = edit::rewrite(&text, &moves)?;
            std::fs::write(&loc.abs, new_text)?;
            out.wrote = true;
        }
        return Ok(out);
    }
    let new_text = edit::rewrite(&staged_text, &moves)?;
    std::fs::write(&loc.abs, new_text)
        .map_err(|e| Error::context(format!("cannot write {}", loc.abs.display()), e))?;
    repo.stage_path(&rel)?;
    out.wrote = true;
    Ok(out)
}

pub fn describe(f: &Fixed) -> String {
    let mut s = String::new();
    for m in &f.moves {
        let _ = writeln!(s, "moved {m}");
    }
    for g in &f.gone {
        let _ = writeln!(
            s,
            "cannot fix {g}; remove or re-point the zone in {} (a weakening: it needs the sign-offs)",
            f.manifest
        );
    }
    if !f.moves.is_empty() {
        if f.unstaged && f.wrote {
            let _ = writeln!(
                s,
                "{} has unstaged edits: rewrote the working-tree file only; review it and `git add {}`",
                f.manifest, f.manifest
            );
        } else if f.unstaged {
            let _ = writeln!(
                s,
                "{} has unstaged edits: left it alone; run `guard fix`, review it, and `git add {}`",
                f.manifest, f.manifest
            );
        } else if f.wrote {
            let _ = writeln!(s, "rewrote and staged {}", f.manifest);
        }
    }
    s
}

/// `guard fix`.
pub fn fix(arg: &ManifestArg) -> Result<Outcome> {
    let repo = Repo::open()?;
    let loc = existing_manifest_loc(&repo, arg)?;
    let f = fix_staged(&repo, &loc, true)?;
    let mut stdout = describe(&f);
    if f.moves.is_empty() && f.gone.is_empty() {
        stdout.push_str("nothing to fix: every zone is where its code is\n");
    }
    Ok(Outcome {
        code: u8::from(!f.gone.is_empty()),
        stdout,
        stderr: String::new(),
        ..Default::default()
    })
}
