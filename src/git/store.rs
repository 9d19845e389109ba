//! The seam the evaluator reads through: what judging a change needs of a
//! repository, and nothing more. [`Repo`](super::Repo) implements it over git's
//! objects; [`memory::Memory`](super::memory::Memory) implements it in memory,
//! so that the rules can be tested without a repository.

use std::collections::HashMap;
use std::sync::Arc;

use super::{CommitInfo, Side};
use crate::change::{Entry, FileChange, Hunk, ObjectId};
use crate::error::{Error, Result};

/// A changed file's hunks, and whether either version is binary.
pub type Diffed = (Vec<Hunk>, bool);

/// What a prefetching thread found of a pair of text blobs it did not diff:
/// the quick answer ([`crate::zones::quick`]) and, when it needed them, the
/// lines no hunk can reach ([`crate::zones::settled`]).
pub type Undiffed = (Option<crate::zones::Quick>, Option<usize>);

pub trait Store {
    /// A blob's bytes.
    fn blob(&self, id: &str) -> Result<Arc<[u8]>>;
    /// The file entry at `path` in `side` (a directory is no entry).
    fn entry(&self, side: &Side, path: &str) -> Result<Option<Entry>>;
    /// Is there a directory at `path` in `side`?
    fn is_dir(&self, side: &Side, path: &str) -> Result<bool>;
    /// Files that differ between `old` and `new` under `roots` ("" = all),
    /// renames as a deletion and an addition, in path order.
    fn changes(&self, old: &Side, new: &Side, roots: &[&str]) -> Result<Vec<FileChange>>;
    /// Where git's rename detection says `path` (deleted between `old` and
    /// `new`) went.
    fn rename_target(&self, old: &Side, new: &Side, path: &str) -> Result<Option<String>>;
    /// Zero-context hunks between two blobs, as `git diff -U0` finds them.
    fn hunks(&self, old: &str, new: &str) -> Result<Vec<Hunk>>;
    /// The hunks between two blobs and whether either is binary, when they
    /// were computed ahead (by a prefetching thread).
    fn prefetched(&self, _old: &str, _new: &str) -> Option<Diffed> {
        None
    }
    /// What a prefetching thread found of two text blobs it did not diff.
    fn undiffed(&self, _old: &str, _new: &str) -> Option<Undiffed> {
        None
    }
    fn commit(&self, id: &str) -> Result<CommitInfo>;
    /// A commit's tree and parents (read from its header only).
    fn commit_links(&self, id: &str) -> Result<(ObjectId, Vec<ObjectId>)>;
    /// Is `id` at the boundary of a shallow clone (its parents missing)?
    fn is_shallow_boundary(&self, _id: &str) -> bool {
        false
    }
    /// Commits reachable from `to` and not from `from`, oldest first.
    fn range(&self, from: &str, to: &str) -> Result<Vec<ObjectId>>;
    /// Blob line counts remembered from earlier runs.
    fn load_line_counts(&self) -> HashMap<String, usize> {
        HashMap::new()
    }
    /// Remember blob line counts for later runs (best effort).
    fn save_line_counts(&self, _counts: &[(String, usize)]) {}

    /// The trees of a commit's parents, first parent first, taking the trees
    /// `known` already knows. A shallow boundary or a missing parent is an
    /// error: the change cannot be evaluated.
    fn parent_trees_with(
        &self,
        c: &CommitInfo,
        known: &dyn Fn(&str) -> Option<ObjectId>,
    ) -> Result<Vec<Side>> {
        if self.is_shallow_boundary(&c.id) {
            return Err(Error::new(format!(
                "commit {} is at the boundary of a shallow clone: its parents are missing, \
                 so its change cannot be evaluated; fetch full history \
                 (git fetch --unshallow, or fetch-depth: 0 in CI)",
                c.short()
            )));
        }
        c.parents
            .iter()
            .map(|p| {
                if let Some(tree) = known(p) {
                    return Ok(Side::Tree(tree));
                }
                let (tree, _) = self.commit_links(p).map_err(|e| {
                    Error::new(format!(
                        "commit {}: parent {} is missing ({e}); fetch full history \
                         (git fetch --unshallow)",
                        c.short(),
                        &p[..p.len().min(10)],
                    ))
                })?;
                Ok(Side::Tree(tree))
            })
            .collect()
    }

    /// [`Store::parent_trees_with`], knowing nothing ahead.
    fn parent_trees(&self, c: &CommitInfo) -> Result<Vec<Side>> {
        self.parent_trees_with(c, &|_| None)
    }

    /// A commit's tree and its parents' trees.
    fn trees(&self, id: &str) -> Result<(Side, Vec<Side>)> {
        let c = self.commit(id)?;
        let parents = self.parent_trees(&c)?;
        Ok((Side::Tree(c.tree), parents))
    }
}

impl Store for super::Repo {
    fn blob(&self, id: &str) -> Result<Arc<[u8]>> {
        super::Repo::blob(self, id)
    }
    fn entry(&self, side: &Side, path: &str) -> Result<Option<Entry>> {
        super::Repo::entry(self, side, path)
    }
    fn is_dir(&self, side: &Side, path: &str) -> Result<bool> {
        super::Repo::is_dir(self, side, path)
    }
    fn changes(&self, old: &Side, new: &Side, roots: &[&str]) -> Result<Vec<FileChange>> {
        super::Repo::changes(self, old, new, roots)
    }
    fn rename_target(&self, old: &Side, new: &Side, path: &str) -> Result<Option<String>> {
        super::Repo::rename_target(self, old, new, path)
    }
    fn hunks(&self, old: &str, new: &str) -> Result<Vec<Hunk>> {
        super::Repo::hunks(self, old, new)
    }
    fn prefetched(&self, old: &str, new: &str) -> Option<Diffed> {
        super::Repo::prefetched(self, old, new)
    }
    fn undiffed(&self, old: &str, new: &str) -> Option<Undiffed> {
        super::Repo::undiffed(self, old, new)
    }
    fn commit(&self, id: &str) -> Result<CommitInfo> {
        super::Repo::commit(self, id)
    }
    fn commit_links(&self, id: &str) -> Result<(ObjectId, Vec<ObjectId>)> {
        super::Repo::commit_links(self, id)
    }
    fn is_shallow_boundary(&self, id: &str) -> bool {
        super::Repo::is_shallow_boundary(self, id)
    }
    fn range(&self, from: &str, to: &str) -> Result<Vec<ObjectId>> {
        super::Repo::range(self, from, to)
    }
    fn load_line_counts(&self) -> HashMap<String, usize> {
        crate::line_counts::load(self.common_dir())
    }
    fn save_line_counts(&self, counts: &[(String, usize)]) {
        crate::line_counts::save(self.common_dir(), counts)
    }
}
