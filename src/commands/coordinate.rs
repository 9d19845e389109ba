//! Instances coordinating through the repository: `guard claim`, `guard
//! claims`, `guard release` (the claims file) and `guard freeze`, `guard
//! thaw` (the manifest's `[policy] freeze`). Each writes a file for the
//! user to review and commit: nothing is published until it is committed.

use std::path::{Path, PathBuf};

use crate::Outcome;
use crate::claims::{self, Claim};
use crate::cli::{ListFormat, ManifestArg};
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest};
use crate::session::{Session, no_symlink_below};

pub(super) fn manifest_of(session: &Session) -> Result<(Manifest, String)> {
    let text = std::fs::read_to_string(&session.loc.abs)
        .map_err(|e| Error::context(format!("cannot read {}", session.loc.abs.display()), e))?;
    let label = session.loc.label();
    let m = manifest::parse(&text, &label).map_err(|e| Error::new(e.to_string()))?;
    Ok((m, text))
}

pub(super) fn claims_file(session: &Session) -> Result<PathBuf> {
    let root = session.repo.workdir()?;
    no_symlink_below(root, claims::PATH)?;
    Ok(root.join(claims::PATH))
}

/// The claims in the working tree's claims file.
pub fn read_claims(path: &Path) -> Result<Vec<Claim>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            claims::parse(&text).map_err(|why| Error::new(format!("{}: {why}", claims::PATH)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::context(format!("cannot read {}", path.display()), e)),
    }
}

fn write_claims(path: &Path, list: &[Claim]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::context(format!("cannot create {}", dir.display()), e))?;
    }
    std::fs::write(path, claims::render(list))
        .map_err(|e| Error::context(format!("cannot write {}", path.display()), e))
}

/// `guard claim ZONE... --instance ID [--until DATE] [--note TEXT]`.
pub fn claim(
    zones: &[String],
    instance: &str,
    until: Option<&str>,
    note: Option<&str>,
    arg: &ManifestArg,
) -> Result<Outcome> {
    let session = Session::open(arg)?;
    let (m, _) = manifest_of(&session)?;
    if m.instance(instance).is_none() {
        return Err(Error::new(format!(
            "{instance:?} is not an [[instance]] of the manifest"
        )));
    }
    let today = claims::today();
    if let Some(u) = until {
        match claims::day(u) {
            Some(d) if d >= today => {}
            Some(_) => return Err(Error::new(format!("--until {u} is in the past"))),
            None => return Err(Error::new(format!("--until {u:?} is not YYYY-MM-DD"))),
        }
    }
    let path = claims_file(&session)?;
    let mut list = read_claims(&path)?;
    let mut out = String::new();
    for zone in zones {
        if m.zone(zone).is_none() {
            return Err(Error::new(format!(
                "{zone:?} is not a zone of the manifest"
            )));
        }
        if let Some(other) = claims::in_force(&list, zone, today)
            && other.instance != instance
        {
            return Ok(Outcome {
                code: 1,
                stderr: format!(
                    "guard: zone {zone} is claimed by {}{}: ask {} to release it (guard release {zone} --instance {}), or to sign your change\n",
                    other.instance,
                    other
                        .until
                        .as_deref()
                        .map_or(String::new(), |u| format!(" until {u}")),
                    other.instance,
                    other.instance
                ),
                ..Default::default()
            });
        }
        list.retain(|c| !(c.zone == *zone && c.instance == instance));
        list.push(Claim {
            zone: zone.clone(),
            instance: instance.to_string(),
            since: claims::date_of(today),
            until: until.map(str::to_string),
            note: note.unwrap_or("").to_string(),
        });
        out.push_str(&format!(
            "claimed {zone} for {instance}{}\n",
            until.map_or(String::new(), |u| format!(" until {u}"))
        ));
    }
    write_claims(&path, &list)?;
    out.push_str(&format!(
        "commit {} to publish the claim; `guard release` when done\n",
        claims::PATH
    ));
    Ok(Outcome {
        stdout: out,
        ..Default::default()
    })
}

/// `guard release ZONE... [--instance ID]`.
pub fn release(zones: &[String], instance: Option<&str>, arg: &ManifestArg) -> Result<Outcome> {
    let session = Session::open(arg)?;
    let path = claims_file(&session)?;
    let mut list = read_claims(&path)?;
    let mut out = String::new();
    let mut missing = Vec::new();
    for zone in zones {
        let before = list.len();
        list.retain(|c| !(c.zone == *zone && instance.is_none_or(|i| c.instance == i)));
        if list.len() == before {
            missing.push(zone.clone());
        } else {
            out.push_str(&format!("released {zone}\n"));
        }
    }
    write_claims(&path, &list)?;
    if !out.is_empty() {
        out.push_str(&format!("commit {} to publish the release\n", claims::PATH));
    }
    Ok(Outcome {
        code: u8::from(!missing.is_empty()),
        stdout: out,
        stderr: if missing.is_empty() {
            String::new()
        } else {
            format!("guard: no claim of {} to release\n", missing.join(", "))
        },
        ..Default::default()
    })
}

/// `guard claims`: every claim of the working tree's claims file, with its state.
pub fn list(format: ListFormat, arg: &ManifestArg) -> Result<Outcome> {
    let session = Session::open(arg)?;
    let list = read_claims(&claims_file(&session)?)?;
    let today = claims::today();
    let rows: Vec<(Claim, claims::State)> = list
        .iter()
        .map(|c| (c.clone(), claims::state(&list, c, today)))
        .collect();
    Ok(Outcome {
        stdout: crate::report::status::claims(&rows, format),
        ..Default::default()
    })
}

/// `guard freeze --reason TEXT [--zone ID]...`: set `[policy] freeze`.
pub fn freeze(reason: &str, zones: &[String], arg: &ManifestArg) -> Result<Outcome> {
    if reason.trim().is_empty() {
        return Err(Error::new("a freeze needs a reason (--reason)"));
    }
    set_freeze(arg, |policy| {
        let value: toml_edit::Value = if zones.is_empty() {
            reason.into()
        } else {
            let mut t = toml_edit::InlineTable::new();
            t.insert("reason", reason.into());
            let mut a = toml_edit::Array::new();
            for z in zones {
                a.push(z.as_str());
            }
            t.insert("zones", a.into());
            t.into()
        };
        policy.insert("freeze", toml_edit::Item::Value(value));
        Ok(format!(
            "froze {}: {reason}\n",
            if zones.is_empty() {
                "every zone".to_string()
            } else {
                zones.join(", ")
            }
        ))
    })
}

/// `guard thaw`: remove `[policy] freeze` (a weakening: it needs sign-offs).
pub fn thaw(arg: &ManifestArg) -> Result<Outcome> {
    set_freeze(arg, |policy| match policy.remove("freeze") {
        Some(_) => Ok("lifted the freeze (a weakening: the commit needs the sign-offs)\n".into()),
        None => Err(Error::new("the manifest declares no freeze")),
    })
}

fn set_freeze(
    arg: &ManifestArg,
    edit: impl FnOnce(&mut toml_edit::Table) -> Result<String>,
) -> Result<Outcome> {
    let session = Session::open(arg)?;
    let (_, text) = manifest_of(&session)?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| Error::new(e.to_string()))?;
    if !doc.contains_key("policy") {
        doc.insert("policy", toml_edit::Item::Table(toml_edit::Table::new()));
    }
    let policy = doc
        .get_mut("policy")
        .and_then(toml_edit::Item::as_table_mut)
        .ok_or_else(|| Error::new("[policy] is not a table"))?;
    let said = edit(policy)?;
    let new = doc.to_string();
    // Never write a manifest that does not validate.
    manifest::parse(&new, &session.loc.abs.display().to_string())
        .map_err(|e| Error::new(e.to_string()))?;
    std::fs::write(&session.loc.abs, &new)
        .map_err(|e| Error::context(format!("cannot write {}", session.loc.abs.display()), e))?;
    Ok(Outcome {
        stdout: format!(
            "{said}commit {} to publish it\n",
            session.loc.rel.as_deref().unwrap_or("the manifest")
        ),
        ..Default::default()
    })
}
