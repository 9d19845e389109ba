//! The index: entries, conflicts, and the staged change against a tree.

use std::path::PathBuf;
use std::rc::Rc;

use super::index::{self, Index, IndexEntry};
use super::listing::{self, Listed};
use super::trees::RawFile;
use super::{Repo, Side, kind, oid, path_of};
use crate::change::{Entry, FileChange};
use crate::error::{Error, Result};

fn index_entry(e: &IndexEntry) -> Option<Entry> {
    kind(e.mode).map(|k| Entry {
        id: super::hex_of(&e.id),
        kind: k,
    })
}

/// The index entries git2 read, as [`index::parse`] would have read them.
fn from_libgit2(index: &git2::Index) -> Result<Index> {
    let mut out = Index::default();
    for e in index.iter() {
        let id =
            e.id.as_bytes()
                .try_into()
                .map_err(|_| Error::new("the index names objects that are not SHA-1"))?;
        out.push(
            &e.path,
            e.mode,
            ((e.flags >> 12) & 3) as u8,
            id,
            e.flags_extended & index::INTENT_TO_ADD != 0,
        );
    }
    Ok(out)
}

impl Repo {
    pub fn index_has_conflicts(&self) -> Result<bool> {
        Ok(self.index_entries()?.entries().iter().any(|e| e.stage != 0))
    }

    /// The index through libgit2 (for what [`index`] does not read).
    pub(super) fn libgit2_index(&self) -> Result<git2::Index> {
        self.repo.index().map_err(|e| {
            if e.message().contains("'link'") {
                Error::new(
                    "the index is split (core.splitIndex), which guard cannot read; \
                     run `git update-index --no-split-index` and try again",
                )
            } else {
                Error::context("cannot read the index", e.message())
            }
        })
    }

    /// The index entries, sorted as git sorts them: read directly (see
    /// [`index`]), or through libgit2 for the kinds of index only it reads.
    pub(super) fn index_entries(&self) -> Result<Rc<Index>> {
        if let Some(cached) = self.staged.borrow().as_ref() {
            return Ok(cached.clone());
        }
        let sha1 = self
            .config_string("extensions.objectformat")?
            .is_none_or(|f| f.eq_ignore_ascii_case("sha1"));
        let path = match std::env::var_os("GIT_INDEX_FILE") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => self.repo.path().join("index"),
        };
        let parsed = if !sha1 {
            None
        } else {
            // Mapped, not read: a read copies the whole index into fresh
            // memory, a page fault per page (half a megabyte for git/git), where
            // the mapping's faults each map several pages of the file cache.
            // git writes a new index and renames it over the old one, never
            // rewriting the file in place.
            match super::mapped::Bytes::open(&path) {
                Ok(data) => index::parse(&data)
                    .map_err(|why| Error::new(format!("{}: {why}", path.display())))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Index::default()),
                Err(e) => {
                    return Err(Error::context(format!("cannot read {}", path.display()), e));
                }
            }
        };
        let entries = match parsed {
            Some(e) => e,
            None => from_libgit2(&self.libgit2_index()?)?,
        };
        let entries = Rc::new(entries);
        *self.staged.borrow_mut() = Some(entries.clone());
        Ok(entries)
    }

    /// The staged entry at `path`.
    pub(super) fn index_entry(&self, path: &str) -> Result<Option<Entry>> {
        let ents = self.index_entries()?;
        let i = ents.lower_bound(path.as_bytes());
        Ok(ents
            .entries()
            .get(i)
            .filter(|e| ents.path(e) == path.as_bytes() && e.stage == 0 && !e.intent_to_add)
            .and_then(index_entry))
    }

    /// Is anything staged below the directory `path`?
    pub(super) fn index_has_dir(&self, path: &str) -> Result<bool> {
        let prefix = format!("{path}/");
        let ents = self.index_entries()?;
        let i = ents.lower_bound(prefix.as_bytes());
        Ok(ents
            .entries()
            .get(i)
            .is_some_and(|e| ents.path(e).starts_with(prefix.as_bytes())))
    }

    /// Every staged file (paths outside UTF-8 shown lossily: a listing).
    pub(super) fn index_files(&self) -> Result<Vec<String>> {
        let ents = self.index_entries()?;
        Ok(ents
            .entries()
            .iter()
            .filter(|e| e.stage == 0 && !e.intent_to_add)
            .map(|e| String::from_utf8_lossy(ents.path(e)).into_owned())
            .collect())
    }

    /// Files that differ between a tree (or nothing) and the index under
    /// `roots` ("" = everything), by direct lookups (no whole-index diff).
    pub(super) fn changes_to_index(&self, old: &Side, roots: &[&str]) -> Result<Vec<FileChange>> {
        let ents = self.index_entries()?;
        let old_tree = match old {
            Side::Tree(t) => Some(oid(t)?),
            Side::Empty => None,
            Side::Index => return Err(Error::new("internal: the index is never a base")),
        };
        let mut roots: Vec<&str> = if roots.iter().any(|r| r.is_empty()) {
            vec![""]
        } else {
            roots.to_vec()
        };
        roots.sort_unstable();
        roots.dedup();
        // Keyed by the path's bytes: two paths are one only if git says so.
        let mut before: Vec<Listed<RawFile>> = Vec::new();
        let mut after: Vec<Listed<RawFile>> = Vec::new();
        for root in roots {
            // The index side.
            let range: &[IndexEntry] = if root.is_empty() {
                ents.entries()
            } else {
                &ents.entries()[ents.lower_bound(root.as_bytes())..]
            };
            let mut seen = 0;
            for e in range {
                let path = ents.path(e);
                let under = root.is_empty()
                    || path == root.as_bytes()
                    || (path.starts_with(root.as_bytes()) && path.get(root.len()) == Some(&b'/'));
                if !under {
                    if path.starts_with(root.as_bytes()) {
                        continue; // "root-x" sorts between "root" and "root/"
                    }
                    break;
                }
                seen += 1;
                // An intent-to-add entry is not committed (git leaves it out
                // of the tree it writes): the file is absent from the change.
                if e.stage == 0
                    && !e.intent_to_add
                    && let Some(k) = kind(e.mode)
                {
                    after.push((path.to_vec(), (e.id, k)));
                }
            }
            crate::work::add(crate::work::Counter::TreeEntries, seen);
            // The tree side.
            if let Some(tree) = old_tree {
                self.files_below(tree, root, &mut before)?;
            }
        }
        // One root's paths are in order; roots such as "a" and "a-b" list in
        // another order ("a-b/x" < "a/x"), and nested roots list twice.
        for side in [&mut before, &mut after] {
            if !side.is_sorted_by(|a, b| a.0 < b.0) {
                side.sort_by(|a, b| a.0.cmp(&b.0));
                side.dedup_by(|a, b| a.0 == b.0);
            }
        }
        let entry = |f: Option<&RawFile>| {
            f.map(|&(id, kind)| Entry {
                id: super::hex_of(&id),
                kind,
            })
        };
        listing::differ(&before, &after)
            .into_iter()
            .map(|(path, o, n)| {
                if let Some((id, crate::change::Kind::File | crate::change::Kind::Executable)) = n
                    && let Ok(p) = std::str::from_utf8(path)
                {
                    self.try_worktree_for(&super::hex_of(id), p);
                }
                Ok(FileChange {
                    path: path_of(path)?,
                    old: entry(o),
                    new: entry(n),
                    renamed_to: None,
                })
            })
            .collect()
    }

    /// Forget what was read of the index (it was written by another process).
    pub fn forget_staged(&self) {
        *self.staged.borrow_mut() = None;
    }
}
