//! The commands: each gathers what it reports, and `report/` writes it.

pub mod audit;
pub mod check;
pub mod coordinate;
pub mod fix;
pub mod hooks;
pub mod server;
pub mod sign;
pub mod status;

use foldhash::{HashMap, HashMapExt};

use crate::report;

use crate::Outcome;
use crate::change;
use crate::cli::{ListFormat, ManifestArg};
use crate::error::{Error, Result};
use crate::git::{Repo, Side};
use crate::manifest::validate::{self, FileState};
use crate::manifest::{self, PathSpec};
use crate::session::manifest_loc;

/// Read a file of the working tree, or of `side` when given.
struct Files<'r> {
    repo: &'r Repo,
    side: Option<Side>,
    /// What was read of each path: zones share their files.
    read: std::cell::RefCell<HashMap<String, Option<std::sync::Arc<[u8]>>>>,
}

impl<'r> Files<'r> {
    fn new(repo: &'r Repo, side: Option<Side>) -> Files<'r> {
        Files {
            repo,
            side,
            read: Default::default(),
        }
    }

    fn read(&self, path: &str) -> Result<Option<std::sync::Arc<[u8]>>> {
        if let Some(found) = self.read.borrow().get(path) {
            return Ok(found.clone());
        }
        let found = self.read_uncached(path)?;
        self.read
            .borrow_mut()
            .insert(path.to_string(), found.clone());
        Ok(found)
    }

    fn read_uncached(&self, path: &str) -> Result<Option<std::sync::Arc<[u8]>>> {
        match &self.side {
            Some(side) => match self.repo.entry(side, path)? {
                Some(e) => Ok(Some(self.repo.blob(&e.id)?)),
                None => Ok(None),
            },
            None => {
                let root = self.repo.workdir()?;
                crate::session::no_symlink_below(root, path)?;
                let p = root.join(path);
                if p.is_file() {
                    Ok(Some(std::fs::read(&p)?.into()))
                } else {
                    Ok(None)
                }
            }
        }
    }

    fn state(&self, path: &str) -> Result<FileState> {
        Ok(match self.read(path)? {
            Some(data) => FileState::Lines(change::count_lines(&data)),
            None => {
                let is_dir = match &self.side {
                    Some(side) => self.repo.is_dir(side, path)?,
                    None => self.repo.workdir()?.join(path).is_dir(),
                };
                if is_dir {
                    FileState::NotAFile
                } else {
                    FileState::Missing
                }
            }
        })
    }

    fn list(&self) -> Result<Vec<String>> {
        self.repo.files(self.side.as_ref().unwrap_or(&Side::Index))
    }
}

/// `guard zones [--rev REV] [--verify]`.
pub fn zones(
    rev: Option<&str>,
    verify: bool,
    format: ListFormat,
    arg: &ManifestArg,
) -> Result<Outcome> {
    let crate::session::Session { repo, loc } = crate::session::Session::open(arg)?;
    let (text, label, files) = match rev {
        Some(rev) => {
            let c = repo.commit(&repo.resolve(rev)?)?;
            let side = Side::Tree(c.tree);
            let rel = loc
                .rel
                .clone()
                .ok_or_else(|| Error::new("--manifest must be inside the repository with --rev"))?;
            let entry = repo
                .entry(&side, &rel)?
                .ok_or_else(|| Error::new(format!("{rev} has no {rel}")))?;
            let text = String::from_utf8(repo.blob(&entry.id)?.to_vec())
                .map_err(|_| Error::new(format!("{rev}:{rel} is not UTF-8")))?;
            (text, format!("{rev}:{rel}"), Files::new(&repo, Some(side)))
        }
        None => {
            let text = std::fs::read_to_string(&loc.abs)
                .map_err(|e| Error::context(format!("cannot read {}", loc.abs.display()), e))?;
            let label = loc.label();
            (text, label, Files::new(&repo, None))
        }
    };
    let m = manifest::parse(&text, &label).map_err(|e| Error::new(e.to_string()))?;
    let checked = validate::check_files(&m, &text, &label, |p| files.state(p))?;
    let mut unresolved: Vec<String> = Vec::new();
    if let Err(e) = &checked {
        unresolved.push(e.to_string());
    }
    let all_files = if m.zones.iter().any(|z| z.path.is_glob()) {
        files.list()?
    } else {
        Vec::new()
    };
    // How many files each glob zone matches, in one pass over the files.
    let globs: Vec<&manifest::Zone> = m.zones.iter().filter(|z| z.path.is_glob()).collect();
    let mut glob_counts: HashMap<&str, usize> = HashMap::new();
    if !globs.is_empty() {
        let mut set = globset::GlobSetBuilder::new();
        for z in &globs {
            if let PathSpec::Glob { matcher, .. } = &z.path {
                set.add(matcher.glob().clone());
            }
        }
        let set = set
            .build()
            .map_err(|e| Error::new(format!("cannot build the zones' globs: {e}")))?;
        let mut hits = Vec::new();
        for f in &all_files {
            set.matches_into(f, &mut hits);
            for &i in &hits {
                *glob_counts.entry(globs[i].id.as_str()).or_default() += 1;
            }
        }
    }
    let src = validate::Source::new(&text);
    let mut line_starts: HashMap<String, Vec<usize>> = HashMap::new();
    let mut rows = Vec::new();
    for z in m.zones.iter() {
        let (matched, first_line) = match &z.path {
            PathSpec::Glob { .. } => {
                let n = glob_counts.get(z.id.as_str()).copied().unwrap_or(0);
                (
                    n,
                    format!("({n} file{} match)", if n == 1 { "" } else { "s" }),
                )
            }
            PathSpec::Literal(p) => match files.read(p)? {
                Some(data) => {
                    let start = z.lines.map_or(1, |r| r.start) as usize;
                    // Where each line starts, found once a file (a file may
                    // hold thousands of zones).
                    let starts = line_starts.entry(p.clone()).or_insert_with(|| {
                        std::iter::once(0)
                            .chain(memchr::memchr_iter(b'\n', &data).map(|i| i + 1))
                            .collect()
                    });
                    let text = match starts.get(start - 1) {
                        Some(&from) if from < data.len() => change::line_text(&data[from..], 1, 1)
                            .pop()
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    (1, text.trim().to_string())
                }
                None => {
                    let dir = matches!(files.state(p)?, FileState::NotAFile);
                    (
                        usize::from(dir),
                        if dir {
                            "(directory)".into()
                        } else {
                            "(missing)".into()
                        },
                    )
                }
            },
        };
        if matched == 0 && checked.is_ok() {
            let pos = src.pos(z.at);
            unresolved.push(format!(
                "{label}:{}:{}: zone {:?}: {} matches no file",
                pos.line,
                pos.col,
                z.id,
                z.path.as_str()
            ));
        }
        rows.push(report::zones::Row {
            id: z.id.clone(),
            path: z.path.as_str().to_string(),
            glob: z.path.is_glob(),
            lines: z.lines,
            signoffs: z.threshold(&m.policy),
            reason: z.reason.clone(),
            first_line,
            resolves: matched > 0,
        });
    }
    let listing = report::zones::Zones {
        label,
        rows,
        unresolved,
        verify,
    };
    Ok(report::zones::outcome(&listing, format))
}

const STARTER: &str = r#"# guard.toml: the zones of this repository that need sign-offs to change.
# Reference: every key is described in docs/reference.md of guard.
version = 1

[policy]
signoffs = 2                        # distinct instance sign-offs a touched zone needs
trailers = ["Signed-off-by"]        # trailer keys whose values count as sign-offs
author_counts = true                # may the commit author's own sign-off count?
audit_trailers = []                 # e.g. ["Why", "Impact", "Tests", "Rollback"]

# The people, bots and agents whose sign-offs count.
# [[instance]]
# id = "alpha"
# emails = ["alpha@example.com"]

# A protected zone: a file, a glob, or a line range of a file.
# [[zone]]
# id = "auth"
# path = "src/auth.py"
# lines = "10-80"                   # optional; absent = the whole file
# reason = "Authentication checks"
# signoffs = 2                      # optional; overrides policy.signoffs

# A forbidden modification: holds even with sign-offs.
# [[invariant]]
# path = "src/app.py"
# must_contain = "TrustedHostMiddleware"
# reason = "TrustedHostMiddleware must stay enabled"
"#;

/// `guard init`: write a commented starter manifest; never overwrite one.
pub fn init(arg: &ManifestArg) -> Result<Outcome> {
    let repo = Repo::open()?;
    let loc = manifest_loc(&repo, arg)?;
    if loc.abs.exists() {
        return Err(Error::new(format!(
            "{} already exists; guard init never overwrites a manifest",
            loc.abs.display()
        )));
    }
    std::fs::write(&loc.abs, STARTER)
        .map_err(|e| Error::context(format!("cannot write {}", loc.abs.display()), e))?;
    Ok(Outcome {
        code: 0,
        stdout: format!(
            "wrote {}: declare instances and zones, then commit it\n",
            loc.abs.display()
        ),
        stderr: String::new(),
        ..Default::default()
    })
}

pub use fix::fix;
