//! The server side (contract section 6): `guard hook pre-receive`, `guard
//! hook update`, and `guard install --server`, for the bare repository that
//! receives pushes. Nothing on the pusher's side chooses what is judged or by
//! which manifest: the commits the push adds, each by the manifest of its own
//! base in the repository.

use std::fmt::Write as _;
use std::io::Read as _;

use crate::Outcome;
use crate::cli::{Format, ManifestArg};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::policy::Evaluator;
use crate::report::{Entry, Report};
use crate::session;

/// One line of what git gives `pre-receive`: a ref moving from `old` to `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub old: String,
    pub new: String,
    pub name: String,
}

fn is_zero(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b == b'0')
}

/// Parse `OLD NEW REF` lines (git's pre-receive input).
pub fn parse_updates(text: &str) -> Result<Vec<Update>> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split(' ');
        let (Some(old), Some(new), Some(name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::new(format!(
                "not a ref update line (OLD NEW REF): {line:?}"
            )));
        };
        let hex = |s: &str| s.len() >= 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex(old) || !hex(new) {
            return Err(Error::new(format!(
                "not a ref update line (OLD NEW REF): {line:?}"
            )));
        }
        out.push(Update {
            old: old.to_string(),
            new: new.to_string(),
            name: name.to_string(),
        });
    }
    Ok(out)
}

/// `guard hook pre-receive`: the updates on stdin, judged as one push.
pub fn pre_receive(arg: &ManifestArg) -> Result<Outcome> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Error::context("cannot read the ref updates on stdin", e))?;
    judge_push(&parse_updates(&input)?, arg)
}

/// `guard hook update REF OLD NEW`: one ref's update.
pub fn update(name: &str, old: &str, new: &str, arg: &ManifestArg) -> Result<Outcome> {
    let updates = parse_updates(&format!("{old} {new} {name}"))?;
    judge_push(&updates, arg)
}

/// Judge every commit the push adds (reachable from a new value and from no
/// existing ref), oldest first, then every branch update as a merge of its
/// new value into its old one: what the update brings to the branch must be
/// carried by commits with consent, so neither a forced update nor a
/// fast-forward to a history that dropped a signed fix takes it away.
pub fn judge_push(updates: &[Update], arg: &ManifestArg) -> Result<Outcome> {
    let session::Session { repo, loc } = session::Session::open(arg)?;
    let rel = loc
        .rel
        .clone()
        .ok_or_else(|| Error::new("the manifest must be a path in the repository"))?;
    let mut notes = String::new();
    let mut tips = Vec::new();
    let mut branches = Vec::new();
    let mut refused = Vec::new();
    for u in updates {
        // A replacement ref makes git show other objects in place of those
        // judged, on every branch: never received (deleting one is fine).
        if !is_zero(&u.new) && crate::git::names_a_replacement(u.name.as_bytes()) {
            refused.push(Entry::Failed {
                commit: None,
                error: format!(
                    "{}: a replacement ref (git would show its object in place of {} \
                     wherever that is read, on every branch, past every judgment): guard \
                     refuses to receive replacement refs",
                    u.name,
                    u.name.rsplit('/').next().unwrap_or(&u.name)
                ),
            });
            continue;
        }
        if is_zero(&u.new) {
            let _ = writeln!(
                notes,
                "guard: {}: deleted (guard judges commits, not refs: protect branches from \
                 deletion with receive.denyDeletes or the forge's branch rules)",
                u.name
            );
            continue;
        }
        let Some(new) = repo.peel_commit(&u.new)? else {
            // A tree or a blob under a ref (a tag of one, say) holds content
            // no commit brought: `git archive` of it would ship what no
            // judgment saw. guard judges commits: refused.
            refused.push(Entry::Failed {
                commit: None,
                error: format!(
                    "{}: names no commit (a tree or a blob): guard judges commits, and \
                     content under a ref that no commit brought cannot be judged",
                    u.name
                ),
            });
            continue;
        };
        tips.push(new.clone());
        // Branches and tags (a release may be built from a tag): moving one
        // must not take a signed change away either.
        let judged = u.name.starts_with("refs/heads/") || u.name.starts_with("refs/tags/");
        if judged && !is_zero(&u.old) {
            let Some(old) = repo.peel_commit(&u.old)? else {
                continue;
            };
            if !repo.is_ancestor(&old, &new)? {
                let _ = writeln!(
                    notes,
                    "guard: {}: forced update ({} is not an ancestor of {}): judged as a merge \
                     of the new history into the old one",
                    u.name,
                    &old[..10],
                    &new[..10]
                );
            }
            if old != new {
                branches.push((u.name.clone(), old, new));
            }
        }
    }
    let ids = repo.not_in_refs(&tips)?;
    let eval = Evaluator::new(&repo, rel);
    let mut entries: Vec<Entry> = ids
        .iter()
        .map(|id| session::judge_entry(&eval, id))
        .collect();
    for (name, old, new) in &branches {
        entries.push(match eval.judge_update(name, old, new) {
            Ok(v) => Entry::Judged(Box::new(v)),
            Err(e) => Entry::Failed {
                commit: Some(new.clone()),
                error: format!("the update of {name}: {e}"),
            },
        });
    }
    entries.extend(refused);
    let report = Report { entries };
    let rendered = crate::report::outcome(&report, Format::Human);
    let mut stderr = notes;
    stderr.push_str(&rendered.stdout);
    stderr.push_str(&rendered.stderr);
    if rendered.code != 0 {
        stderr.push_str("guard: the push is refused; nothing was updated\n");
    }
    Ok(Outcome {
        code: rendered.code,
        stdout: String::new(),
        stderr,
        ..Default::default()
    })
}

/// `guard install --server`: the pre-receive hook of a bare repository.
pub fn install(force: bool) -> Result<Outcome> {
    let repo = Repo::open()?;
    if !repo.is_bare() {
        return Err(Error::new(
            "guard install --server is for the bare repository that receives pushes; \
             here, guard install installs the committer's hooks",
        ));
    }
    crate::commands::hooks::install_set(force, &crate::commands::hooks::SERVER_HOOKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn update_lines_parse_as_git_writes_them() {
        let a = "a".repeat(40);
        let got = parse_updates(&format!("{ZERO} {a} refs/heads/main\n")).unwrap_or_default();
        assert_eq!(
            got,
            vec![Update {
                old: ZERO.to_string(),
                new: a.clone(),
                name: "refs/heads/main".into()
            }]
        );
        assert!(parse_updates("x y").is_err());
        assert!(parse_updates(&format!("{a} {a} refs/heads/main extra")).is_err());
        assert!(is_zero(ZERO) && !is_zero(&a));
    }
}
