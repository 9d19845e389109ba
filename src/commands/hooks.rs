//! `guard install`, `guard uninstall`, and the hook entry points git runs.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Outcome;
use crate::cli::ManifestArg;
use crate::commands::fix;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::policy::Violation;
use crate::report::{self, Entry, Report};
use crate::session;
use crate::trailers;

const HOOKS: [&str; 2] = ["pre-commit", "commit-msg"];
/// The server's hook (a bare repository).
pub const SERVER_HOOKS: [&str; 1] = ["pre-receive"];
const MARKER: &str = "# guard-hook:";
/// Suffix of a pre-existing hook that the installed hook runs first.
const CHAINED: &str = "pre-guard";
/// Suffix of a pre-existing hook replaced by `--force` (restored by uninstall).
const REPLACED: &str = "guard-backup";
/// Suffix under which uninstall keeps guard's hook that the user edited.
const EDITED: &str = "guard-edited";

/// The hook script. `bin` is the guard binary recorded at install time ("" in
/// the copies shipped under hooks/, which find guard on PATH).
pub fn script(hook: &str, bin: &str) -> String {
    // pre-receive reads the ref updates on stdin: a chained hook gets a copy.
    // (A pipeline runs in a subshell, where `exec` would not end the script.)
    let (keep, feed, run, done) = if hook == "pre-receive" {
        (
            "input=$(cat)\n",
            "printf '%s\\n' \"$input\" | ",
            "",
            "\n    exit $?",
        )
    } else {
        ("", "", "exec ", "")
    };
    format!(
        r#"#!/bin/sh
{MARKER} {hook}
# Installed by `guard install`; `guard uninstall` restores what was here before.
guard_bin='{bin}'
{keep}if [ -x "$0.{CHAINED}" ]; then
    {feed}"$0.{CHAINED}" "$@" || exit $?
fi
if [ -n "$guard_bin" ] && [ -x "$guard_bin" ]; then
    {feed}{run}"$guard_bin" hook {hook} "$@"{done}
elif command -v guard >/dev/null 2>&1; then
    {feed}{run}guard hook {hook} "$@"{done}
fi
echo "guard: cannot find the guard binary (${{guard_bin:-not recorded}}, nor guard on PATH): reinstall guard, then run guard install" >&2
exit 2
"#
    )
}

fn hooks_dir() -> Result<PathBuf> {
    let out = Command::new("git")
        .args(["rev-parse", "--git-path", "hooks"])
        .output()
        .map_err(|e| Error::context("cannot run git", e))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "git rev-parse --git-path hooks failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(if p.is_absolute() {
        p
    } else {
        std::env::current_dir()?.join(p)
    })
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

fn is_ours(p: &Path) -> bool {
    std::fs::read_to_string(p)
        .is_ok_and(|t| t.lines().nth(1).is_some_and(|l| l.starts_with(MARKER)))
}

/// Is the hook at `p` exactly what guard installs (for the binary it
/// records)? One the user edited is theirs: never overwritten or removed.
fn pristine(p: &Path, hook: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(p) else {
        return false;
    };
    let bin = text
        .lines()
        .find_map(|l| l.strip_prefix("guard_bin='")?.strip_suffix('\''))
        .unwrap_or("");
    text == script(hook, bin)
}

enum State {
    Absent,
    Ours,
    /// guard's hook, edited since: the user's work.
    Edited,
    /// An executable regular file: guard runs it first.
    Chainable,
    /// Something guard cannot run safely in front of itself.
    Foreign(String),
}

fn state(p: &Path, hook: &str) -> State {
    let Ok(meta) = std::fs::symlink_metadata(p) else {
        return State::Absent;
    };
    if is_ours(p) && !meta.file_type().is_symlink() {
        return if pristine(p, hook) {
            State::Ours
        } else {
            State::Edited
        };
    }
    if meta.file_type().is_symlink() {
        return State::Foreign("is a symbolic link".into());
    }
    if !meta.is_file() {
        return State::Foreign("is not a regular file".into());
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return State::Foreign("is not executable (git does not run it)".into());
    }
    State::Chainable
}

fn write_script(p: &Path, text: &str) -> Result<()> {
    std::fs::write(p, text)
        .map_err(|e| Error::context(format!("cannot write {}", p.display()), e))?;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// `guard install [--force]`.
pub fn install(force: bool) -> Result<Outcome> {
    let repo = Repo::open()?;
    if repo.is_bare() {
        return Err(Error::new(
            "this is a bare repository: guard install --server installs the server's hook",
        ));
    }
    repo.workdir()?;
    install_set(force, &HOOKS)
}

/// Install `hooks` where git runs them, chaining or (with `force`) replacing
/// what is there; a refused install changes nothing.
pub fn install_set(force: bool, hooks: &[&str]) -> Result<Outcome> {
    let dir = hooks_dir()?;
    let bin = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if bin.contains('\'') {
        return Err(Error::new(
            "the guard binary's path contains a quote; move it elsewhere",
        ));
    }
    // Plan first: a refused install changes nothing.
    let mut plan = Vec::new();
    for &hook in hooks {
        let p = dir.join(hook);
        let st = state(&p, hook);
        let edited = matches!(st, State::Edited);
        let st = match st {
            // Rewriting it would lose the user's edit.
            State::Edited => State::Foreign("is guard's hook edited since it was installed".into()),
            st => st,
        };
        for suffix in [CHAINED, REPLACED] {
            let side = with_suffix(&p, suffix);
            // An edited hook replaced by --force is kept as the backup, which
            // must not overwrite an earlier one.
            let clobbers = edited && force && suffix == REPLACED;
            if side.exists() && ((!matches!(st, State::Ours) && !edited) || clobbers) {
                return Err(Error::new(format!(
                    "{} exists from an earlier install: move it away or run guard uninstall first",
                    side.display()
                )));
            }
        }
        if let State::Foreign(why) = &st
            && !force
        {
            return Err(Error::new(format!(
                "{} {why}: guard cannot chain to it safely; nothing was installed \
                     (guard install --force replaces it and keeps it for guard uninstall)",
                p.display()
            )));
        }
        plan.push((hook, p, st));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::context(format!("cannot create {}", dir.display()), e))?;
    let mut out = String::new();
    for (hook, p, st) in plan {
        let text = script(hook, &bin);
        match st {
            State::Ours => {
                if std::fs::read_to_string(&p).ok().as_deref() == Some(text.as_str()) {
                    let _ = writeln!(out, "{hook}: already installed at {}", p.display());
                    continue;
                }
                write_script(&p, &text)?;
                let _ = writeln!(out, "{hook}: updated {}", p.display());
            }
            State::Absent => {
                write_script(&p, &text)?;
                let _ = writeln!(out, "{hook}: installed {}", p.display());
            }
            State::Chainable => {
                let side = with_suffix(&p, CHAINED);
                std::fs::rename(&p, &side)?;
                write_script(&p, &text)?;
                let _ = writeln!(
                    out,
                    "{hook}: installed {}; the existing hook moved to {} and still runs first",
                    p.display(),
                    side.display()
                );
            }
            State::Edited => {
                return Err(Error::new("internal: an edited hook is planned as foreign"));
            }
            State::Foreign(why) => {
                let side = with_suffix(&p, REPLACED);
                std::fs::rename(&p, &side)?;
                write_script(&p, &text)?;
                let _ = writeln!(
                    out,
                    "{hook}: replaced {} ({why}; kept as {} for guard uninstall)",
                    p.display(),
                    side.display()
                );
            }
        }
    }
    Ok(Outcome {
        code: 0,
        stdout: out,
        stderr: String::new(),
        ..Default::default()
    })
}

/// `guard uninstall`: remove guard's hooks and restore what was there.
pub fn uninstall() -> Result<Outcome> {
    Repo::open()?;
    let dir = hooks_dir()?;
    let mut out = String::new();
    for hook in HOOKS.iter().chain(SERVER_HOOKS.iter()) {
        let p = dir.join(hook);
        match state(&p, hook) {
            State::Ours => {
                std::fs::remove_file(&p)?;
                let mut restored = false;
                for suffix in [CHAINED, REPLACED] {
                    let side = with_suffix(&p, suffix);
                    if std::fs::symlink_metadata(&side).is_ok() && !restored {
                        std::fs::rename(&side, &p)?;
                        restored = true;
                        let _ = writeln!(
                            out,
                            "{hook}: removed guard's hook, restored the previous one"
                        );
                    }
                }
                if !restored {
                    let _ = writeln!(out, "{hook}: removed {}", p.display());
                }
            }
            State::Absent if SERVER_HOOKS.contains(hook) => {}
            State::Absent => {
                let _ = writeln!(out, "{hook}: not installed");
            }
            State::Edited => {
                // Guard's hook goes; the user's edit of it is kept, named.
                let kept = with_suffix(&p, EDITED);
                if std::fs::symlink_metadata(&kept).is_ok() {
                    let _ = writeln!(
                        out,
                        "{hook}: {} was edited since guard installed it, and {} exists: left both alone",
                        p.display(),
                        kept.display()
                    );
                    continue;
                }
                std::fs::rename(&p, &kept)?;
                let _ = writeln!(
                    out,
                    "{hook}: {} was edited since guard installed it: kept as {}",
                    p.display(),
                    kept.display()
                );
                for suffix in [CHAINED, REPLACED] {
                    let side = with_suffix(&p, suffix);
                    if std::fs::symlink_metadata(&side).is_ok() {
                        std::fs::rename(&side, &p)?;
                        let _ = writeln!(out, "{hook}: restored the previous hook");
                        break;
                    }
                }
            }
            _ => {
                let _ = writeln!(
                    out,
                    "{hook}: {} is not guard's hook; left alone",
                    p.display()
                );
            }
        }
    }
    Ok(Outcome {
        code: 0,
        stdout: out,
        stderr: String::new(),
        ..Default::default()
    })
}

/// `guard hook pre-commit`: validate, fix drift, enforce what needs no message,
/// announce the zones the staged change touches and the sign-offs it will need.
pub fn pre_commit(arg: &ManifestArg) -> Result<Outcome> {
    let session::Session { repo, loc } = session::Session::open(arg)?;
    let fixed = fix::fix_staged(&repo, &loc, false)?;
    let mut out = report::fix::describe(&fixed);
    if (fixed.unstaged || fixed.partial) && !fixed.moves.is_empty() {
        let why = if fixed.partial {
            "zones moved and this commit takes only some paths: commit again with the manifest among the paths"
        } else {
            "zones moved and the manifest has unstaged edits; run `guard fix`"
        };
        return Ok(Outcome {
            code: 1,
            stdout: out,
            stderr: format!("guard: blocked: {why}\n"),
            ..Default::default()
        });
    }
    let verdict = session::judge_staged(&repo, &loc, "")?;
    let mut blocking = verdict.clone();
    blocking.violations.retain(|v| {
        !matches!(
            v,
            Violation::InsufficientSignoffs { .. }
                | Violation::MissingAuditTrailer { .. }
                | Violation::Claimed { .. }
                | Violation::ClaimTaken { .. }
                | Violation::ClaimUnsigned { .. }
        )
    });
    if !blocking.violations.is_empty() {
        // Sign-offs are the commit-msg hook's business: show only what blocks now.
        blocking.touched.clear();
        out.push_str(&report::human::render(&Report {
            entries: vec![Entry::Judged(Box::new(blocking))],
        }));
        return Ok(Outcome {
            code: 1,
            stdout: out,
            stderr: String::new(),
            ..Default::default()
        });
    }
    out.push_str(&report::human::announcement(&verdict));
    Ok(Outcome {
        code: 0,
        stdout: String::new(),
        stderr: out,
        ..Default::default()
    })
}

/// `guard hook commit-msg FILE`: the blocking decision, with the message as git
/// will store it.
pub fn commit_msg(file: &Path, arg: &ManifestArg) -> Result<Outcome> {
    let session::Session { repo, loc } = session::Session::open(arg)?;
    let bytes = std::fs::read(file)
        .map_err(|e| Error::context(format!("cannot read {}", file.display()), e))?;
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let message = trailers::cleanup(&raw, &session::comment_string(&repo, &raw)?);
    let verdict = session::judge_staged(&repo, &loc, &message)?;
    let quiet = verdict.rules && verdict.touched.is_empty();
    let report = Report {
        entries: vec![Entry::Judged(Box::new(verdict))],
    };
    let mut outcome = crate::report::outcome(&report, crate::cli::Format::Human);
    if outcome.code == 0 {
        // A pass goes to stderr, and a change that touches no zone passes
        // quietly: the zones were announced by the pre-commit hook.
        outcome.stderr = std::mem::take(&mut outcome.stdout);
        if quiet {
            outcome.stderr.clear();
        }
    }
    Ok(outcome)
}
