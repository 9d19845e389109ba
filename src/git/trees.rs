//! Trees: entries at paths, and the changes between two trees, read from
//! the raw tree objects (checked as `git fsck` checks them).

use std::rc::Rc;
use std::sync::Arc;

use git2::{ObjectType, Oid};

use super::listing::{self, Listed};
use super::raw::TreeHit;
use super::{CheckedTree, Repo, Side, hex, kind, oid, path_of};
use crate::change::{Entry, FileChange, Kind};
use crate::error::{Error, Result};

const DIR: u32 = 0o40000;

fn as_entry(hit: Option<TreeHit>) -> Option<Entry> {
    hit.filter(|&(_, mode)| mode != DIR).and_then(|(id, mode)| {
        kind(mode).map(|k| Entry {
            id: hex(id),
            kind: k,
        })
    })
}

/// A file of a listing before its id is written in hex: what the listing
/// compares (hex is written only for what differs).
pub(super) type RawFile = ([u8; 20], Kind);

fn as_raw(id: Oid, mode: u32) -> Option<RawFile> {
    let bytes: [u8; 20] = id.as_bytes().try_into().ok()?;
    kind(mode).map(|k| (bytes, k))
}

impl Repo {
    /// The entry at `path` in `side`, if any.
    pub fn entry(&self, side: &Side, path: &str) -> Result<Option<Entry>> {
        match side {
            Side::Empty => Ok(None),
            Side::Tree(t) => Ok(as_entry(self.raw_entry(oid(t)?, path)?)),
            Side::Index => self.index_entry(path),
        }
    }

    /// Is there a directory at `path` in `side`?
    pub fn is_dir(&self, side: &Side, path: &str) -> Result<bool> {
        Ok(match side {
            Side::Empty => false,
            Side::Tree(t) => self
                .raw_entry(oid(t)?, path)?
                .is_some_and(|(_, mode)| mode == DIR),
            Side::Index => self.index_has_dir(path)?,
        })
    }

    /// Every file path in `side` (for listing what a glob matches; paths
    /// outside UTF-8 shown lossily).
    pub fn files(&self, side: &Side) -> Result<Vec<String>> {
        match side {
            Side::Empty => Ok(Vec::new()),
            Side::Tree(t) => {
                let mut all = Vec::new();
                self.files_below(oid(t)?, "", &mut all)?;
                Ok(all
                    .into_iter()
                    .map(|(p, _)| String::from_utf8_lossy(&p).into_owned())
                    .collect())
            }
            Side::Index => self.index_files(),
        }
    }

    /// Every file at or below `root` ("" = the whole tree) of `tree`, appended
    /// to `out` in path order: git's tree order (a directory's name sorts as
    /// if followed by '/', and trees are checked to be sorted so) is the
    /// byte order of the full paths, the index's order.
    pub(super) fn files_below(
        &self,
        tree: Oid,
        root: &str,
        out: &mut Vec<Listed<RawFile>>,
    ) -> Result<()> {
        let hit = if root.is_empty() {
            Some((tree, DIR))
        } else {
            self.raw_entry(tree, root)?
        };
        match hit {
            None => Ok(()),
            Some((id, DIR)) => {
                let mut prefix = root.as_bytes().to_vec();
                if !prefix.is_empty() {
                    prefix.push(b'/');
                }
                self.list_files(id, &mut prefix, out)
            }
            Some((id, mode)) => {
                if let Some(e) = as_raw(id, mode) {
                    out.push((root.as_bytes().to_vec(), e));
                }
                Ok(())
            }
        }
    }

    fn list_files(
        &self,
        tree: Oid,
        prefix: &mut Vec<u8>,
        out: &mut Vec<Listed<RawFile>>,
    ) -> Result<()> {
        let listing = self.tree_listing(tree)?;
        crate::work::add(crate::work::Counter::TreeEntries, listing.len());
        for (name, (id, mode)) in listing {
            let len = prefix.len();
            prefix.extend_from_slice(&name);
            if mode == DIR {
                prefix.push(b'/');
                self.list_files(id, prefix, out)?;
            } else if let Some(e) = as_raw(id, mode) {
                out.push((prefix.clone(), e));
            }
            prefix.truncate(len);
        }
        Ok(())
    }

    /// Files that differ between `old` and `new`, limited to paths under `roots`
    /// ("" = everything). Renames are reported as a deletion and an addition.
    pub fn changes(&self, old: &Side, new: &Side, roots: &[&str]) -> Result<Vec<FileChange>> {
        if old == new || roots.is_empty() {
            return Ok(Vec::new());
        }
        let tree = |s: &Side| -> Result<Option<TreeHit>> {
            Ok(match s {
                Side::Tree(t) => Some((oid(t)?, DIR)),
                _ => None,
            })
        };
        match (old, new) {
            (_, Side::Index) => self.changes_to_index(old, roots),
            (Side::Index, _) => Err(Error::new("internal: the index is never a base")),
            (Side::Tree(o), Side::Tree(n)) if !roots.iter().any(|r| r.is_empty()) => {
                if let Some(found) = self.shared_changes(o, n, roots) {
                    return Ok(found);
                }
                self.tree_changes(o, n, roots)
            }
            _ => {
                let mut out = Vec::new();
                self.diff_entries(tree(old)?, tree(new)?, "", &mut out)?;
                // A root commit (or an emptied tree) with given roots: only
                // what is under them, as for two trees.
                if !roots.iter().any(|r| r.is_empty()) {
                    out.retain(|c| {
                        roots.iter().any(|r| {
                            c.path == *r
                                || (c.path.starts_with(r)
                                    && c.path.as_bytes().get(r.len()) == Some(&b'/'))
                        })
                    });
                }
                Ok(out)
            }
        }
    }

    /// What a prefetching thread found between two trees for these roots.
    fn shared_changes(&self, old: &str, new: &str, roots: &[&str]) -> Option<Vec<FileChange>> {
        let shared = self.shared.borrow();
        let shared = shared.as_ref()?;
        let mut sorted = roots.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if !sorted
            .iter()
            .copied()
            .eq(shared.roots.iter().map(String::as_str))
        {
            return None;
        }
        let map = shared.changes.lock().ok()?;
        map.get(&(old.to_string(), new.to_string())).cloned()
    }

    /// Between two trees, by looking each root up in both: a root whose entry
    /// is the same object in both is skipped without reading anything below
    /// it; only roots that are differing directories go through a diff.
    fn tree_changes(&self, old: &str, new: &str, roots: &[&str]) -> Result<Vec<FileChange>> {
        let (old_tree, new_tree) = (oid(old)?, oid(new)?);
        let mut roots = roots.to_vec();
        roots.sort_unstable();
        roots.dedup();
        let (old_hits, new_hits) = (
            self.raw_entries(old_tree, &roots)?,
            self.raw_entries(new_tree, &roots)?,
        );
        let with_kind = |x: &Option<TreeHit>| x.map(|(id, mode)| (id, mode, mode == 0o40000));
        let mut out = Vec::new();
        let mut dirs = Vec::new();
        for (i, root) in roots.into_iter().enumerate() {
            let (o, n) = (with_kind(&old_hits[i]), with_kind(&new_hits[i]));
            if o.map(|x| (x.0, x.1)) == n.map(|x| (x.0, x.1)) {
                continue;
            }
            if o.is_some_and(|x| x.2) || n.is_some_and(|x| x.2) {
                dirs.push((root, old_hits[i], new_hits[i]));
                continue;
            }
            let entry = |x: Option<(Oid, u32, bool)>| {
                x.and_then(|(id, mode, _)| {
                    kind(mode).map(|k| Entry {
                        id: hex(id),
                        kind: k,
                    })
                })
            };
            out.push(FileChange {
                path: root.to_string(),
                old: entry(o),
                new: entry(n),
                renamed_to: None,
            });
        }
        for (root, o, n) in dirs {
            let mut more = Vec::new();
            self.diff_entries(o, n, root, &mut more)?;
            for c in more {
                if !out.iter().any(|x| x.path == c.path) {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// Every file change below `path` between two entries (a tree, a file,
    /// or nothing on either side), read from the raw trees as git orders them;
    /// a file replaced by a directory (or the reverse) is a deletion and
    /// additions, as in `git diff`.
    fn diff_entries(
        &self,
        old: Option<TreeHit>,
        new: Option<TreeHit>,
        path: &str,
        out: &mut Vec<FileChange>,
    ) -> Result<()> {
        if old == new {
            return Ok(());
        }
        let file = |x: Option<TreeHit>| x.filter(|&(_, m)| m != DIR);
        if file(old).is_some() || file(new).is_some() {
            out.push(FileChange {
                path: path.to_string(),
                old: as_entry(old),
                new: as_entry(new),
                renamed_to: None,
            });
        }
        // A directory's entries keyed as git orders them: a directory's name
        // as if it ended in '/'.
        let listing = |x: Option<TreeHit>| -> Result<Vec<Listed<TreeHit>>> {
            let Some((id, DIR)) = x else {
                return Ok(Vec::new());
            };
            let mut entries = self.tree_listing(id)?;
            for (name, (_, mode)) in &mut entries {
                if *mode == DIR {
                    name.push(b'/');
                }
            }
            Ok(entries)
        };
        let (a, b) = (listing(old)?, listing(new)?);
        for (key, o, n) in listing::differ(&a, &b) {
            let name = path_of(key.strip_suffix(b"/").unwrap_or(key))?;
            let child = if path.is_empty() {
                name
            } else {
                format!("{path}/{name}")
            };
            self.diff_entries(o.copied(), n.copied(), &child, out)?;
        }
        Ok(())
    }

    /// A tree's entries (name, id and canonical mode), in git's order.
    fn tree_listing(&self, id: Oid) -> Result<Vec<(Vec<u8>, TreeHit)>> {
        // The tree as read and checked (a tree over the cache's budget is
        // not kept in the cache: it is kept only to check the next against).
        let (data, offsets) = self.raw_tree_checked(id)?;
        let corrupt = |why: String| Error::new(format!("tree {id} is corrupt: {why}"));
        super::tree_check::entries(&data, &offsets)
            .map_err(corrupt)?
            .into_iter()
            .map(|(name, mode, oid)| {
                let oid = Oid::from_bytes(oid).map_err(|e| corrupt(e.message().to_string()))?;
                Ok((name.to_vec(), (oid, mode)))
            })
            .collect()
    }

    /// The entries at each of `paths` below `tree` (one pass over each tree
    /// read, however many paths it holds), remembered for the next commit of
    /// a walk, whose base tree is this commit's tree.
    fn raw_entries(&self, tree: Oid, paths: &[&str]) -> Result<Rc<Vec<Option<TreeHit>>>> {
        {
            let same = self
                .entries_paths
                .borrow()
                .iter()
                .map(String::as_str)
                .eq(paths.iter().copied());
            if same && let Some(hit) = self.entries_cache.get(&tree) {
                // Still the tree the next commit's is checked against.
                let known = self.raw_trees.get(&tree);
                if let Some(t) = known {
                    self.used_tree(tree, &t);
                }
                return Ok(hit.clone());
            }
        }
        let mut out = vec![None; paths.len()];
        let indexed: Vec<(usize, &str)> = paths.iter().copied().enumerate().collect();
        self.entries_below(tree, &indexed, &mut out)?;
        let out = Rc::new(out);
        let mut known = self.entries_paths.borrow_mut();
        if !known.iter().map(String::as_str).eq(paths.iter().copied()) {
            *known = paths.iter().map(|p| p.to_string()).collect();
            self.entries_cache.clear();
        }
        self.entries_cache.insert(tree, out.clone());
        Ok(out)
    }

    fn entries_below(
        &self,
        tree: Oid,
        paths: &[(usize, &str)],
        out: &mut [Option<TreeHit>],
    ) -> Result<()> {
        let (data, offsets) = self.raw_tree_checked(tree)?;
        let mut names: Vec<&[u8]> = paths
            .iter()
            .map(|(_, p)| p.split('/').next().unwrap_or("").as_bytes())
            .collect();
        names.sort_unstable();
        names.dedup();
        // A binary search each in the checked tree's entries (a scan of
        // git/git's root tree per commit was a sixth of a range check).
        let corrupt = |why: String| Error::new(format!("tree {tree} is corrupt: {why}"));
        let mut hits = Vec::with_capacity(names.len());
        for name in &names {
            hits.push(
                match super::tree_check::find(&data, &offsets, name).map_err(corrupt)? {
                    Some((mode, id)) => Some((
                        Oid::from_bytes(id).map_err(|e| corrupt(e.message().to_string()))?,
                        mode,
                    )),
                    None => None,
                },
            );
        }
        for (name, hit) in names.iter().zip(hits) {
            let Some((id, mode)) = hit else {
                continue;
            };
            let mut deeper = Vec::new();
            for &(i, p) in paths {
                match p.split_once('/') {
                    None if p.as_bytes() == *name => out[i] = Some((id, mode)),
                    Some((first, rest)) if first.as_bytes() == *name && mode == 0o40000 => {
                        deeper.push((i, rest));
                    }
                    _ => {}
                }
            }
            if !deeper.is_empty() {
                self.entries_below(id, &deeper, out)?;
            }
        }
        Ok(())
    }

    /// The entry at `path` below `tree`, read from the raw tree objects: a
    /// range walk looks one path up in a new root tree per commit, and parsing
    /// each root tree in full (libgit2's tree objects) was most of that walk.
    pub(super) fn raw_entry(&self, tree: Oid, path: &str) -> Result<Option<(Oid, u32)>> {
        let key = (tree, path.to_string());
        if let Some(hit) = self.path_cache.get(&key) {
            return Ok(hit);
        }
        // Looked up by a prefetching thread in a tree it read.
        let shared = self
            .shared
            .borrow()
            .as_ref()
            .and_then(|s| s.lookups.lock().ok()?.remove(&key));
        let found = match shared {
            Some(hit) => hit,
            None => self.raw_entry_uncached(tree, path)?,
        };
        self.path_cache.insert(key, found);
        Ok(found)
    }

    fn raw_entry_uncached(&self, tree: Oid, path: &str) -> Result<Option<(Oid, u32)>> {
        let mut found = [None];
        self.entries_below(tree, &[(0, path)], &mut found)?;
        Ok(found[0])
    }

    /// A tree object's raw bytes and its entries' offsets, checked as `git
    /// fsck` checks them (a wrong type or a corrupt tree is an error),
    /// remembered for the next commit of a walk, whose base tree is this
    /// commit's tree.
    fn raw_tree_checked(&self, id: Oid) -> Result<CheckedTree> {
        let hit = self.raw_trees.get(&id);
        if let Some(t) = hit {
            self.used_tree(id, &t);
            return Ok(t);
        }
        // Still kept to check the next tree against (the heaviest is kept
        // there when the cache could not keep it).
        let recent = self
            .checked_trees
            .borrow()
            .iter()
            .find(|(known, _)| *known == id)
            .map(|(_, t)| t.clone());
        if let Some(t) = recent {
            self.used_tree(id, &t);
            return Ok(t);
        }
        let (kind, data): (ObjectType, Arc<[u8]>) = match self.packed(id)? {
            Some(found) => found,
            None => {
                let odb = self.repo.odb()?;
                let obj = odb
                    .read(id)
                    .map_err(|e| Error::new(format!("cannot read tree {id}: {}", e.message())))?;
                (obj.kind(), Arc::from(obj.data()))
            }
        };
        if kind != ObjectType::Tree {
            return Err(Error::new(format!(
                "{id} is named as a tree but is a {}",
                kind.str()
            )));
        }
        let offsets = self.check_tree(id, &data)?;
        let checked = (data, Rc::new(offsets));
        self.used_tree(id, &checked);
        self.raw_trees.insert(id, checked.clone());
        Ok(checked)
    }

    /// Remember `t` as the most recently used tree: a commit's trees are read
    /// just after its parent's, which makes the parent's the best to check
    /// them against.
    fn used_tree(&self, id: Oid, t: &CheckedTree) {
        let mut recent = self.checked_trees.borrow_mut();
        recent.retain(|(known, _)| *known != id);
        recent.push((id, t.clone()));
        // A few trees of a directory of a million entries weigh more than
        // the whole budget: the oldest go first, until the others than the
        // heaviest fit in it (the heaviest, a wide root tree, is the one the
        // next commit's root tree is checked against).
        let weights: Vec<usize> = recent.iter().map(|(_, t)| super::tree_weight(t)).collect();
        let over = |kept: &[usize]| {
            let heaviest = kept.iter().copied().max().unwrap_or(0);
            kept.len() > 8 || kept.iter().sum::<usize>() - heaviest > super::TREE_CACHE_BYTES
        };
        let mut gone = 0;
        while gone + 1 < weights.len() && over(&weights[gone..]) {
            gone += 1;
        }
        recent.drain(..gone);
    }

    /// Check a tree as `git fsck` would ([`super::tree_check`]), against the
    /// most recently used tree that starts the same way (the same directory of
    /// the parent commit, usually), re-reading only the entries that differ.
    fn check_tree(&self, id: Oid, data: &Arc<[u8]>) -> Result<super::tree_check::Offsets> {
        let recent = self.checked_trees.borrow();
        let head = &data[..data.len().min(64)];
        let near = recent.iter().rev().map(|(_, t)| t).find(|(t, _)| {
            t.len().abs_diff(data.len()) <= data.len() / 8 && t.get(..head.len()) == Some(head)
        });
        let result = match near {
            Some((old, offsets)) => super::tree_check::check_after(data, old, offsets),
            None => super::tree_check::check(data),
        };
        result
            .map_err(|why| Error::new(format!("tree {id} is corrupt: {why} (git fsck rejects it)")))
    }
}
