//! `guard fix`: rewrite moved zones in the manifest for the staged change, so
//! nobody does line arithmetic by hand.

use foldhash::{HashMap, HashMapExt};

use crate::Outcome;
use crate::cli::ManifestArg;
use crate::error::{Error, Result};
use crate::git::{Repo, Side};
use crate::manifest::compare::Expected;
use crate::manifest::edit::{self, Move};
use crate::manifest::{self, Zone};
use crate::session::{ManifestLoc, Session, staged};

pub use crate::report::fix::Fixed;

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
    let staged_zones = &staged_manifest.zones;
    for bz in base.zones.iter() {
        let Some(e) = expected.get(&bz.id) else {
            continue;
        };
        let Some(sz) = staged_zones.get(&bz.id) else {
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
    // git decides whether the working tree differs from the index (with its
    // line-ending conversions: core.autocrlf, .gitattributes eol).
    let root = repo.workdir()?.to_path_buf();
    out.unstaged = differs_from_index(&root, &rel)?;
    out.partial = partial_commit();
    let on_disk = match std::fs::read(&loc.abs) {
        Ok(bytes) => Some(
            String::from_utf8(bytes)
                .map_err(|_| Error::new(format!("{} is not UTF-8", loc.abs.display())))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Error::context(
                format!("cannot read {}", loc.abs.display()),
                e,
            ));
        }
    };
    let Some(text) = on_disk else {
        out.unstaged = true;
        return Ok(out);
    };
    if out.unstaged && !write_unstaged {
        return Ok(out);
    }
    // A commit of only some paths: the fixed manifest goes to the working
    // tree (which holds no edit of the user's: it is not unstaged), for the
    // user to commit with the paths; neither index is touched.
    // Moves go into the text the user has, never over a value they changed.
    for m in &moves {
        let Some(bz) = base.zone(&m.zone) else {
            continue;
        };
        let was = (
            bz.path.as_str().to_string(),
            bz.lines.map(|l| l.to_string()),
        );
        match edit::written_location(&text, &m.zone) {
            Some(now) if now == was => {}
            now => out.conflicts.push(format!(
                "{}: the working tree says {}, guard would write {}",
                m.zone,
                now.map_or_else(
                    || "nothing (the zone is gone)".to_string(),
                    |(p, l)| show_written(&p, l.as_deref())
                ),
                show(
                    m.path.as_deref().unwrap_or(bz.path.as_str()),
                    m.lines.or(bz.lines)
                )
            )),
        }
    }
    if !out.conflicts.is_empty() {
        return Ok(out);
    }
    let new_text = edit::rewrite(&text, &moves)?;
    std::fs::write(&loc.abs, new_text)
        .map_err(|e| Error::context(format!("cannot write {}", loc.abs.display()), e))?;
    out.wrote = true;
    if !out.unstaged && !out.partial {
        stage(&root, &rel)?;
        repo.forget_staged();
    }
    Ok(out)
}

fn show_written(path: &str, lines: Option<&str>) -> String {
    match lines {
        Some(r) => format!("{path} {r}"),
        None => path.to_string(),
    }
}

/// Does `rel` in the working tree differ from the index git commits from?
fn differs_from_index(root: &std::path::Path, rel: &str) -> Result<bool> {
    let out = std::process::Command::new("git")
        .current_dir(root)
        .args(["diff", "--quiet", "--no-ext-diff", "--", rel])
        .output()
        .map_err(|e| Error::context("cannot run git", e))?;
    match out.status.code() {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(Error::new(format!(
            "git diff -- {rel} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

/// Stage `rel` as `git add` does (line-ending conversions included).
fn stage(root: &std::path::Path, rel: &str) -> Result<()> {
    let out = std::process::Command::new("git")
        .current_dir(root)
        .args(["add", "--", rel])
        .output()
        .map_err(|e| Error::context("cannot run git", e))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "git add -- {rel} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Is git committing only some paths (`git commit -- PATHS`, `--only`)? git
/// then gives the hooks a temporary index (`next-index-<pid>.lock`) that only
/// the commit will hold; `-a`, `--include` and plain commits use the index.
pub fn partial_commit() -> bool {
    std::env::var_os("GIT_INDEX_FILE").is_some_and(|p| {
        std::path::Path::new(&p)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("next-index-"))
    })
}

/// `guard fix`.
pub fn fix(arg: &ManifestArg) -> Result<Outcome> {
    let Session { repo, loc } = Session::open(arg)?;
    let f = fix_staged(&repo, &loc, true)?;
    Ok(crate::report::fix::outcome(&f))
}
