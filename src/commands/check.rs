//! `guard check`: the staged change, one commit, or a range, each judged by the
//! manifest in force before it.

use std::path::PathBuf;

use crate::cli::{Format, ManifestArg};
use crate::error::{Error, Result};
use crate::policy::Evaluator;
use crate::report::{self, Entry, Report};
use crate::session::{
    Progress, Session, comment_string, judge_commit, judge_range, judge_staged, split_range,
};
use crate::{Outcome, trailers};

pub struct Request {
    pub color: crate::cli::Color,
    pub rev: Option<String>,
    pub staged: bool,
    pub message_file: Option<PathBuf>,
    pub base: Option<String>,
    pub format: Format,
    pub manifest: ManifestArg,
}

pub fn run(req: Request, progress: Progress<'_>) -> Result<Outcome> {
    let Session { repo, loc } = Session::open(&req.manifest)?;
    let base = req
        .base
        .clone()
        .or_else(|| std::env::var("GUARD_BASE").ok().filter(|b| !b.is_empty()));
    let report = match (&req.rev, base) {
        (Some(rev), _) if !req.staged => match split_range(rev) {
            Some((a, b)) => judge_range(&repo, crate::session::commit_rel(&loc)?, a, b, progress)?,
            None => {
                let id = repo.resolve(rev)?;
                let eval = Evaluator::new(&repo, crate::session::commit_rel(&loc)?);
                Report {
                    entries: vec![Entry::Judged(Box::new(judge_commit(&eval, &id)?))],
                }
            }
        },
        (None, Some(b)) if !req.staged && req.message_file.is_none() => {
            let head = repo.resolve("HEAD")?;
            let other = repo.resolve(&b)?;
            let mb = repo.merge_base(&other, &head)?;
            judge_range(
                &repo,
                crate::session::commit_rel(&loc)?,
                &mb,
                &head,
                progress,
            )?
        }
        _ => {
            let message = match &req.message_file {
                Some(f) => {
                    let bytes = std::fs::read(f)
                        .map_err(|e| Error::context(format!("cannot read {}", f.display()), e))?;
                    let raw = String::from_utf8_lossy(&bytes).into_owned();
                    trailers::cleanup(&raw, &comment_string(&repo, &raw)?)
                }
                None => String::new(),
            };
            Report {
                entries: vec![Entry::Judged(Box::new(judge_staged(
                    &repo, &loc, &message,
                )?))],
            }
        }
    };
    let mut outcome = report::outcome(&report, req.format);
    outcome.paint = req.format == Format::Human && use_color(req.color);
    Ok(outcome)
}

/// Colour only on a terminal, never with `NO_COLOR`, unless `--color always`.
fn use_color(choice: crate::cli::Color) -> bool {
    use std::io::IsTerminal;
    match choice {
        crate::cli::Color::Always => true,
        crate::cli::Color::Never => false,
        crate::cli::Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}
