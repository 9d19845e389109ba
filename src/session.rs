//! What every command shares: the repository and where its manifest is
//! ([`Session`]), and judging the staged change, one commit or a range, each
//! by the manifest in force before it.

use std::path::{Component, Path, PathBuf};

use crate::amend::Amend;
use crate::cli::ManifestArg;
use crate::error::{Error, Result};
use crate::git::{Repo, Side, Store};
use crate::manifest;
use crate::policy::{BaseManifest, Change, Evaluator, Subject, Verdict};

mod range;
pub use range::{Progress, judge_entry, judge_range, ratify};

/// The repository a command works on, and its manifest.
pub struct Session {
    pub repo: Repo,
    pub loc: ManifestLoc,
}

impl Session {
    /// Open the repository as git would, and find its manifest (which must exist).
    pub fn open(arg: &ManifestArg) -> Result<Session> {
        let repo = Repo::open()?;
        let loc = existing_manifest_loc(&repo, arg)?;
        Ok(Session { repo, loc })
    }

    /// The manifest's repository path, for judging commits.
    pub fn manifest_path(&self) -> Result<String> {
        commit_rel(&self.loc)
    }
}

/// Where the manifest is: its repository path, and on disk.
pub struct ManifestLoc {
    /// Repository-relative, '/'-separated; `None` when outside the work tree.
    pub rel: Option<String>,
    pub abs: PathBuf,
    /// Given by `--manifest` or `GUARD_MANIFEST`.
    pub explicit: bool,
}

impl ManifestLoc {
    /// How the manifest is named in messages: its repository path, else
    /// where it is on disk.
    pub fn label(&self) -> String {
        self.rel
            .clone()
            .unwrap_or_else(|| self.abs.display().to_string())
    }
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Resolved where it exists; otherwise taken as written (a manifest named
/// inside a missing directory does not exist either: exit 2 when named).
fn canonical_dir(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| normalize(p))
}

pub fn manifest_loc(repo: &Repo, arg: &ManifestArg) -> Result<ManifestLoc> {
    let given = arg.manifest.clone().or_else(|| {
        std::env::var_os("GUARD_MANIFEST")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if repo.is_bare() {
        return bare_manifest_loc(repo, given);
    }
    let workdir = canonical_dir(repo.workdir()?);
    let Some(given) = given else {
        return Ok(ManifestLoc {
            rel: Some(manifest::DEFAULT_PATH.to_string()),
            abs: workdir.join(manifest::DEFAULT_PATH),
            explicit: false,
        });
    };
    // Inside the repository the path is taken as written, never resolved
    // through a symlink (which would name another file for every commit);
    // one through a symlink in the work tree is refused by the caller.
    let cwd = canonical_dir(&std::env::current_dir()?);
    let abs = normalize(&cwd.join(&given));
    let abs = if abs.starts_with(&workdir) {
        abs
    } else {
        match (abs.parent(), abs.file_name()) {
            (Some(dir), Some(name)) => canonical_dir(dir).join(name),
            _ => abs,
        }
    };
    let rel = abs.strip_prefix(&workdir).ok().map(|r| {
        r.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    });
    Ok(ManifestLoc {
        rel: rel.filter(|r| !r.is_empty()),
        abs,
        explicit: true,
    })
}

/// In a bare repository (a server) the manifest is a path in the commits'
/// trees: the default, or a repository path given explicitly, which must then
/// exist at HEAD (when HEAD names a commit) so that a mistyped name does not
/// mean "no rules".
fn bare_manifest_loc(repo: &Repo, given: Option<PathBuf>) -> Result<ManifestLoc> {
    let Some(given) = given else {
        return Ok(ManifestLoc {
            rel: Some(manifest::DEFAULT_PATH.to_string()),
            abs: PathBuf::from(manifest::DEFAULT_PATH),
            explicit: false,
        });
    };
    let text = given.to_string_lossy().into_owned();
    let parts: Vec<&str> = text
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if given.is_absolute() || parts.is_empty() || parts.contains(&"..") {
        return Err(Error::new(format!(
            "the manifest {text} (named by --manifest or GUARD_MANIFEST): in a bare repository \
             name it by its path in the repository (such as config/guard.toml)"
        )));
    }
    let rel = parts.join("/");
    if let Ok(head) = repo.resolve("HEAD")
        && repo
            .entry(&Side::Tree(repo.commit(&head)?.tree), &rel)?
            .is_none()
    {
        return Err(Error::new(format!(
            "the manifest {rel} (named by --manifest or GUARD_MANIFEST) does not exist at HEAD"
        )));
    }
    Ok(ManifestLoc {
        abs: PathBuf::from(&rel),
        rel: Some(rel),
        explicit: false,
    })
}

/// [`manifest_loc`] for commands that read the manifest: one named explicitly
/// (`--manifest`, `GUARD_MANIFEST`) must exist, for a mistyped name would
/// otherwise mean "no rules".
pub fn existing_manifest_loc(repo: &Repo, arg: &ManifestArg) -> Result<ManifestLoc> {
    let loc = manifest_loc(repo, arg)?;
    if let (Some(rel), Ok(root)) = (&loc.rel, repo.workdir()) {
        no_symlink_below(root, rel)?;
    }
    if loc.explicit && !loc.abs.exists() {
        return Err(Error::new(format!(
            "the manifest {} (named by --manifest or GUARD_MANIFEST) does not exist",
            loc.abs.display()
        )));
    }
    Ok(loc)
}

/// Refuse a repository path that goes through a symlink in the work tree:
/// guard reads what git tracks at that path, never what a link points to
/// (a file outside the repository, another directory's manifest).
pub fn no_symlink_below(root: &Path, rel: &str) -> Result<()> {
    let mut at = root.to_path_buf();
    let mut shown = String::new();
    for part in rel.split('/').filter(|p| !p.is_empty()) {
        at.push(part);
        if !shown.is_empty() {
            shown.push('/');
        }
        shown.push_str(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::new(format!(
                    "{rel} goes through a symlink in the work tree ({shown}); guard does not \
                     follow symlinks: name the file itself"
                )));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// The comment string git uses to strip the message (`core.commentChar`, with `auto`).
pub fn comment_string(repo: &Repo, message: &str) -> Result<String> {
    let configured = match repo.config_string("core.commentString")? {
        Some(s) => Some(s),
        None => repo.config_string("core.commentChar")?,
    };
    Ok(match configured.as_deref() {
        None | Some("") => "#".to_string(),
        Some("auto") => message
            .lines()
            .find(|l| l.contains("Please enter the commit message"))
            .and_then(|l| l.chars().next())
            .map_or("#".to_string(), |c| c.to_string()),
        Some(s) => s.to_string(),
    })
}

/// The email git would record as the author of the next commit, in git's
/// order: `GIT_AUTHOR_EMAIL`, `author.email`, `user.email`, `EMAIL`. Where git
/// would make one up (user@host), none is an instance's: "" matches none either.
pub fn next_author_email(repo: &Repo) -> Result<String> {
    if let Ok(e) = std::env::var("GIT_AUTHOR_EMAIL") {
        return Ok(e);
    }
    for key in ["author.email", "user.email"] {
        if let Some(e) = repo.config_string(key)? {
            return Ok(e);
        }
    }
    Ok(std::env::var("EMAIL").unwrap_or_default())
}

/// The other parents of the commit being made (a merge in progress): their
/// commit ids and trees.
fn merge_heads(repo: &Repo) -> Result<(Vec<String>, Vec<Side>)> {
    let path = repo.git_dir().join("MERGE_HEAD");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let (mut ids, mut trees) = (Vec::new(), Vec::new());
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let c = repo.commit(&repo.resolve(line)?)?;
        ids.push(c.id);
        trees.push(Side::Tree(c.tree));
    }
    Ok((ids, trees))
}

/// Is the commit being made a `git commit --amend`? git does not tell its
/// hooks, so the git process that runs them is found and its command line
/// parsed as git would ([`crate::amend`]); `GUARD_AMEND=1|0` overrides. Run
/// by hand (no committing git, no `GIT_INDEX_FILE` from a commit), it is not.
fn amending(repo: &Repo) -> Amend {
    if let Ok(v) = std::env::var("GUARD_AMEND") {
        return if v == "1" { Amend::Yes } else { Amend::No };
    }
    // git names the index to its commit hooks, but a hook manager may run
    // guard without it: the committing git is looked for either way.
    let in_hook = std::env::var_os("GIT_INDEX_FILE").is_some();
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..6 {
        // "pid (comm) state ppid ...": comm, the executable's name (at most
        // 15 bytes), may hold spaces and parentheses: split at the last ')'.
        let Some(stat) = proc_file(pid, "stat") else {
            break;
        };
        let stat = String::from_utf8_lossy(&stat);
        let Some((head, rest)) = stat.rsplit_once(')') else {
            break;
        };
        // Only a process whose executable is named git has its command line
        // read: one file per ancestor, not two, for a check run by hand.
        if head.split_once('(').is_some_and(|(_, comm)| comm == "git") {
            let Some(cmdline) = proc_file(pid, "cmdline") else {
                break;
            };
            let args: Vec<String> = cmdline
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let is_git = args.first().is_some_and(|a| {
                std::path::Path::new(a)
                    .file_name()
                    .is_some_and(|n| n == "git")
            });
            if is_git {
                return crate::amend::git_args(&args[1..], &|name| {
                    repo.config_string(&format!("alias.{name}"))
                        .map_err(|e| e.to_string())
                });
            }
        }
        let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) else {
            break;
        };
        if ppid <= 1 {
            break;
        }
        pid = ppid;
    }
    if in_hook {
        Amend::Unknown("the committing git process was not found".into())
    } else {
        Amend::No
    }
}

/// A small file of `/proc/PID/`, read without asking its size first (it has
/// none to give).
fn proc_file(pid: u32, name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(format!("/proc/{pid}/{name}")).ok()?;
    let (mut out, mut buf) = (Vec::new(), [0u8; 1024]);
    loop {
        match file.read(&mut buf).ok()? {
            0 => return Some(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Everything needed to judge the staged change.
pub struct Staged<'r> {
    pub eval: Evaluator<'r>,
    /// Something the verdict must say (guard could not tell an amend).
    pub note: Option<String>,
    pub which: BaseManifest,
    pub change: Change,
}

pub fn staged<'r>(repo: &'r Repo, loc: &ManifestLoc) -> Result<Staged<'r>> {
    // A bare repository (a server) has no staged change: name a revision.
    repo.workdir()?;
    if repo.index_has_conflicts()? {
        return Err(Error::new(
            "the index has unresolved conflicts: resolve them before checking the staged change",
        ));
    }
    // Where guard cannot tell, it judges the commit as an amend (an amend
    // judged as a new commit would not see what it drops), and says so.
    let amend = amending(repo);
    let note = match &amend {
        Amend::Unknown(why) => Some(format!(
            "cannot tell whether this commit amends HEAD ({why}): judged as an amend; \
             set GUARD_AMEND=0 or 1 to say, and CI judges the commit that lands"
        )),
        _ => None,
    };
    let (base, others, parents) = if amend != Amend::No && repo.resolve("HEAD").is_ok() {
        // `git commit --amend` replaces HEAD: the change is HEAD's parent -> index.
        let head = repo.commit(&repo.resolve("HEAD")?)?;
        let mut trees = repo.parent_trees(&head)?;
        if trees.is_empty() {
            (Side::Empty, Vec::new(), Vec::new())
        } else {
            let first = trees.remove(0);
            (first, trees, head.parents)
        }
    } else {
        let base = repo.head_side()?;
        let (ids, trees) = merge_heads(repo)?;
        // A merge in progress needs its parents' ids to walk what each side brings.
        let parents = if ids.is_empty() || base == Side::Empty {
            Vec::new()
        } else {
            std::iter::once(repo.resolve("HEAD")?).chain(ids).collect()
        };
        (base, trees, parents)
    };
    let rel = loc.rel.clone();
    let in_head = match &rel {
        Some(r) => match repo.entry(&base, r)? {
            Some(entry) => {
                // The manifest in force is most often the work tree's file:
                // read from there when its bytes are that blob (a hash of
                // 60 KB, where inflating it took five times as long).
                repo.try_worktree_for(&entry.id, r);
                true
            }
            None => false,
        },
        None => false,
    };
    let which = if !in_head && loc.explicit && loc.abs.is_file() {
        let text = std::fs::read_to_string(&loc.abs)
            .map_err(|e| Error::context(format!("cannot read {}", loc.abs.display()), e))?;
        BaseManifest::Text {
            text,
            label: loc.abs.display().to_string(),
        }
    } else {
        BaseManifest::InBase(rel.clone().unwrap_or_else(|| manifest::DEFAULT_PATH.into()))
    };
    let eval = Evaluator::new(repo, rel.unwrap_or_else(|| manifest::DEFAULT_PATH.into()));
    Ok(Staged {
        eval,
        note,
        which,
        change: Change {
            base,
            new: Side::Index,
            others,
            parents,
        },
    })
}

/// When the commit being made will say it was authored: `GIT_AUTHOR_DATE`
/// when it starts with an ISO date or is `@SECONDS`, else now.
pub fn next_author_time() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let Ok(date) = std::env::var("GIT_AUTHOR_DATE") else {
        return now;
    };
    let date = date.trim();
    if let Some(secs) = date
        .strip_prefix('@')
        .and_then(|s| s.split_whitespace().next()?.parse::<i64>().ok())
    {
        return secs;
    }
    date.get(..10)
        .and_then(crate::claims::day)
        .map_or(now, |d| d * 86_400)
}

/// Judge the staged change with `message` (already cleaned up).
pub fn judge_staged(repo: &Repo, loc: &ManifestLoc, message: &str) -> Result<Verdict> {
    let s = staged(repo, loc)?;
    // The commit will declare this encoding for its message: git shows it
    // re-encoded, so guard reads no trailer of it (as of the commit itself).
    let encoding = repo
        .config_string("i18n.commitEncoding")?
        .filter(|e| !crate::git::is_utf8_name(e.as_bytes()));
    let subject_line = message.lines().next().unwrap_or("");
    let subject = Subject {
        commit: None,
        subject: subject_line.to_string(),
        message: if encoding.is_some() {
            subject_line.to_string()
        } else {
            message.to_string()
        },
        author_email: next_author_email(repo)?,
        update: None,
        time: next_author_time(),
    };
    let mut verdict = s.eval.evaluate(subject, &s.which, &s.change)?;
    verdict.notes.extend(s.note);
    if let Some(encoding) = encoding {
        verdict.notes.push(format!(
            "i18n.commitEncoding is {encoding:?}: the commit will declare that encoding, which \
             git re-encodes to show the message, so guard reads no trailer of it"
        ));
    }
    Ok(verdict)
}

pub fn commit_rel(loc: &ManifestLoc) -> Result<String> {
    loc.rel.clone().ok_or_else(|| {
        Error::new(format!(
            "--manifest {} is outside the repository: commits can only be judged by a manifest in their tree",
            loc.abs.display()
        ))
    })
}

/// Judge one commit against its first parent (a merge: by what it brings).
pub fn judge_commit(eval: &Evaluator<'_>, id: &str) -> Result<Verdict> {
    eval.judge_commit(id)
}

pub fn split_range(spec: &str) -> Option<(&str, &str)> {
    if spec.contains("...") {
        return None;
    }
    spec.split_once("..")
}
