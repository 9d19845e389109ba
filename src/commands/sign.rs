//! `guard digest` and `guard sign`: signed sign-offs (contract section 7).

use std::path::Path;

use crate::Outcome;
use crate::cli::ManifestArg;
use crate::error::{Error, Result};
use crate::git::{Repo, Side, Store};
use crate::manifest::Manifest;
use crate::policy::{BaseManifest, Evaluator, Verdict};
use crate::session::{existing_manifest_loc, judge_commit, judge_staged, staged};
use crate::signature;

/// The verdict for REV (or the staged change) and the manifest in force for it.
fn judged(
    repo: &Repo,
    rev: Option<&str>,
    arg: &ManifestArg,
) -> Result<(Verdict, Option<Manifest>)> {
    let loc = existing_manifest_loc(repo, arg)?;
    match rev {
        None => {
            let s = staged(repo, &loc)?;
            let manifest = s.eval.base_manifest(&s.change.base, &s.which)?;
            Ok((judge_staged(repo, &loc, "")?, manifest))
        }
        Some(rev) => {
            let rel = loc
                .rel
                .clone()
                .ok_or_else(|| Error::new("the manifest must be inside the repository"))?;
            let eval = Evaluator::new(repo, rel.clone());
            let id = repo.resolve(rev)?;
            let verdict = judge_commit(&eval, &id)?;
            let c = repo.commit(&id)?;
            let base = repo
                .parent_trees(&c)?
                .into_iter()
                .next()
                .unwrap_or(Side::Empty);
            Ok((
                verdict,
                eval.base_manifest(&base, &BaseManifest::InBase(rel))?,
            ))
        }
    }
}

/// `guard digest [REV]`: exactly the bytes a signed sign-off signs.
pub fn digest(rev: Option<&str>, arg: &ManifestArg) -> Result<Outcome> {
    let repo = Repo::open()?;
    let (verdict, _) = judged(&repo, rev, arg)?;
    let bytes = crate::digest::signed_line(&crate::policy::parts(&verdict.touched));
    Ok(Outcome {
        code: 0,
        stdout: String::from_utf8_lossy(&bytes).into_owned(),
        stderr: if verdict.touched.is_empty() {
            "guard: note: the change touches no zone\n".to_string()
        } else {
            String::new()
        },
        ..Default::default()
    })
}

/// `guard sign [REV] --instance ID --key PATH`: the trailer line to add.
pub fn sign(rev: Option<&str>, instance: &str, key: &Path, arg: &ManifestArg) -> Result<Outcome> {
    let repo = Repo::open()?;
    let (verdict, manifest) = judged(&repo, rev, arg)?;
    let manifest = manifest.ok_or_else(|| Error::new("no manifest is in force for this change"))?;
    let inst = manifest
        .instances
        .iter()
        .find(|i| i.id.eq_ignore_ascii_case(instance))
        .ok_or_else(|| {
            Error::new(format!(
                "{instance:?} is not an instance of the manifest in force"
            ))
        })?;
    let registered = inst
        .key
        .as_deref()
        .ok_or_else(|| Error::new(format!("instance {} has no key in the manifest", inst.id)))?;
    let registered = signature::parse_public_key(registered)?;
    let pem = std::fs::read_to_string(key)
        .map_err(|e| Error::context(format!("cannot read {}", key.display()), e))?;
    let data = crate::digest::signed_line(&crate::policy::parts(&verdict.touched));
    let (public, line) = signature::sign(&pem, &data)?;
    if public.key_data() != registered.key_data() {
        return Err(Error::new(format!(
            "{} is not the key registered for instance {}",
            key.display(),
            inst.id
        )));
    }
    Ok(Outcome {
        code: 0,
        stdout: format!("{}: {} {line}\n", signature::TRAILER, inst.id),
        stderr: String::new(),
        ..Default::default()
    })
}
