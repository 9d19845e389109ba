//! Blobs and the diff between them: guard's diff options, hunks, renames.

use std::sync::Arc;

use git2::{Delta, DiffOptions, Tree};

use super::store::Diffed;
use super::{Repo, Side, oid, path_of};
use crate::change::Hunk;
use crate::error::{Error, Result};

/// guard's diff: no context, Myers with git's indent heuristic (as `git
/// diff -U0`), text always.
pub fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.context_lines(0)
        .interhunk_lines(0)
        .indent_heuristic(true)
        .force_text(true);
    opts
}

/// Zero-context hunks between two buffers, as `git diff -U0` shows them.
///
/// git cuts the tail two files share before it diffs them with no context
/// (`trim_common_tail` in its xdiff-interface.c: whole 1 KiB blocks from the
/// end, then forward to the end of a line), and so does guard: the cut
/// decides where a hunk that could slide over equal lines is shown, and what
/// is cut is never hashed into lines, which is most of a diff's cost when a
/// large file changes near its top.
///
/// xdiff is given each line as a short token ([`super::tokens`]) from which
/// it cannot tell the line: the same hunks, for a fraction of the hashing.
pub fn buffer_hunks(old: &[u8], new: &[u8]) -> Result<Vec<Hunk>> {
    let cut = common_tail_cut(old, new);
    let (old, new) = super::tokens::tokens(&old[..old.len() - cut], &new[..new.len() - cut]);
    libgit2_hunks(&old, &new)
}

/// How many leading lines no hunk [`buffer_hunks`] finds can change or move:
/// [`crate::zones::settled`] of the buffers as the diff is given them (cut).
pub fn settled_lines(old: &[u8], new: &[u8]) -> usize {
    let cut = common_tail_cut(old, new);
    crate::zones::settled(&old[..old.len() - cut], &new[..new.len() - cut])
}

/// libgit2's zero-context hunks between two buffers, as they are.
pub(super) fn libgit2_hunks(old: &[u8], new: &[u8]) -> Result<Vec<Hunk>> {
    let patch = git2::Patch::from_buffers(old, None, new, None, Some(&mut diff_options()))?;
    hunks_of(&patch)
}

fn hunks_of(patch: &git2::Patch<'_>) -> Result<Vec<Hunk>> {
    (0..patch.num_hunks())
        .map(|i| {
            let (h, _) = patch.hunk(i)?;
            Ok(Hunk::new(
                h.old_start(),
                h.old_lines(),
                h.new_start(),
                h.new_lines(),
            ))
        })
        .collect()
}

/// How many bytes git's zero-context diff cuts from the end of both files:
/// the common tail in whole blocks of 1,024 bytes (never all of the shorter
/// file), less what lies up to and including the first newline of what
/// those blocks cover, so the cut falls just after a line's end.
fn common_tail_cut(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 1024;
    let smaller = a.len().min(b.len());
    let mut trimmed = 0;
    while trimmed + BLOCK <= smaller
        && a[a.len() - trimmed - BLOCK..a.len() - trimmed]
            == b[b.len() - trimmed - BLOCK..b.len() - trimmed]
    {
        trimmed += BLOCK;
    }
    let cut_at = a.len() - trimmed;
    let recovered = match memchr::memchr(b'\n', &a[cut_at..]) {
        Some(i) => i + 1,
        None => trimmed,
    };
    trimmed - recovered
}

impl Repo {
    /// The hunks between two blobs and whether either is binary, if a
    /// prefetching thread has computed them (see [`prefetch`](super::prefetch)).
    pub fn prefetched(&self, old: &str, new: &str) -> Option<Diffed> {
        let key = (old.to_string(), new.to_string());
        if let Some(found) = self.prefetched.get(&key) {
            return Some(found);
        }
        let found = self
            .shared
            .borrow()
            .as_ref()
            .and_then(|s| s.hunks.lock().ok()?.remove(&key))?;
        self.prefetched.insert(key, found.clone());
        Some(found)
    }

    /// Take (or stop taking) a prefetching thread's results.
    pub fn share(&self, shared: Option<std::sync::Arc<super::prefetch::Shared>>) {
        *self.shared.borrow_mut() = shared;
    }

    pub fn blob(&self, id: &str) -> Result<Arc<[u8]>> {
        if let Some(b) = self.blobs.get(id) {
            return Ok(b);
        }
        if let Some(data) = self.worktree_copy(id) {
            return Ok(self.remember_blob(id, &data));
        }
        let object = oid(id)?;
        match self.packed(object)? {
            Some((git2::ObjectType::Blob, data)) => return Ok(self.keep_blob(id, data)),
            Some((kind, _)) => {
                return Err(Error::new(format!(
                    "object {id} is named as a file's content but is a {}",
                    kind.str()
                )));
            }
            None => {}
        }
        let blob = self.repo.find_blob(object).map_err(|e| {
            // A tree entry naming another kind of object (git fsck refuses
            // such a tree): say so, rather than libgit2's bare message.
            match self.repo.odb().and_then(|o| o.read_header(object)) {
                Ok((_, kind)) if kind != git2::ObjectType::Blob => Error::new(format!(
                    "object {id} is named as a file's content but is a {}",
                    kind.str()
                )),
                _ => Error::new(format!("cannot read object {id}: {}", e.message())),
            }
        })?;
        Ok(self.remember_blob(id, blob.content()))
    }

    /// A staged blob read from its work-tree file, when that file's bytes
    /// are the blob: git's id of them (SHA-1 of `blob <size>\0` and the
    /// bytes) is checked, so nothing is taken on trust (no stat data, no
    /// filters: a file that differs from what is staged is simply not used).
    /// Reading and hashing a file costs a fraction of inflating a loose object.
    ///
    /// The object's header is read first (a few bytes): the object must be a
    /// blob of the file's size, so a file that grew after `git add` is never
    /// read, and an object store that holds something else under the id (a
    /// corrupt object, which git would commit and `git fsck` reports) is
    /// read as git reads it, unless it has the same size.
    fn worktree_copy(&self, id: &str) -> Option<Vec<u8>> {
        use sha1::{Digest, Sha1};
        let path = self.worktree.borrow().get(id)?.clone();
        let file = self.repo.workdir()?.join(&path);
        let meta = std::fs::symlink_metadata(&file).ok()?;
        if !meta.is_file() {
            return None;
        }
        let (size, kind) = self.repo.odb().ok()?.read_header(oid(id).ok()?).ok()?;
        if kind != git2::ObjectType::Blob || size as u64 != meta.len() {
            return None;
        }
        let data = std::fs::read(&file).ok()?;
        crate::work::add(crate::work::Counter::Worktree, data.len());
        let mut h = Sha1::new();
        h.update(format!("blob {}\0", data.len()).as_bytes());
        h.update(&data);
        (super::hex_of(&h.finalize()) == id).then_some(data)
    }

    /// Let [`Repo::blob`] try `path`'s work-tree file for blob `id` (see
    /// [`Repo::worktree_copy`]: used only if its bytes are that blob).
    pub fn try_worktree_for(&self, id: &str, path: &str) {
        self.worktree
            .borrow_mut()
            .insert(id.to_string(), path.to_string());
    }

    fn remember_blob(&self, id: &str, content: &[u8]) -> Arc<[u8]> {
        if let Some(b) = self.blobs.get(id) {
            return b;
        }
        self.keep_blob(id, Arc::from(content))
    }

    fn keep_blob(&self, id: &str, data: Arc<[u8]>) -> Arc<[u8]> {
        self.blobs.insert(id.to_string(), data.clone());
        data
    }

    fn tree(&self, id: &str) -> Result<Tree<'_>> {
        self.repo
            .find_tree(oid(id)?)
            .map_err(|e| Error::new(format!("cannot read tree {id}: {}", e.message())))
    }

    /// Where git's rename detection says `path` (deleted between `old` and `new`) went.
    pub fn rename_target(&self, old: &Side, new: &Side, path: &str) -> Result<Option<String>> {
        let mut opts = DiffOptions::new();
        let old_tree = match old {
            Side::Tree(t) => Some(self.tree(t)?),
            _ => return Ok(None),
        };
        let mut diff = match new {
            Side::Tree(t) => {
                let nt = self.tree(t)?;
                self.repo
                    .diff_tree_to_tree(old_tree.as_ref(), Some(&nt), Some(&mut opts))?
            }
            Side::Index => {
                let index = self.libgit2_index()?;
                self.repo
                    .diff_tree_to_index(old_tree.as_ref(), Some(&index), Some(&mut opts))?
            }
            Side::Empty => return Ok(None),
        };
        let mut find = git2::DiffFindOptions::new();
        find.renames(true);
        diff.find_similar(Some(&mut find)).map_err(|e| {
            let why = match e.message() {
                "" | "no error" => {
                    "libgit2 gave no reason: an entry of the change may name an object of \
                     another kind (`git fsck` says which)"
                }
                m => m,
            };
            Error::new(format!(
                "cannot tell where {path} went (git's rename detection failed): {why}"
            ))
        })?;
        for d in diff.deltas() {
            if d.status() == Delta::Renamed && d.old_file().path_bytes() == Some(path.as_bytes()) {
                return d.new_file().path_bytes().map(path_of).transpose();
            }
        }
        Ok(None)
    }

    /// Zero-context hunks between two blobs, as `git diff -U0` finds them.
    pub fn hunks(&self, old: &str, new: &str) -> Result<Vec<Hunk>> {
        let key = (old.to_string(), new.to_string());
        if let Some(h) = self.hunk_cache.get(&key) {
            return Ok(h);
        }
        // A binary pair was never diffed by the prefetching thread: whoever
        // asks for its hunks anyway gets them computed, never an empty list.
        let hunks = match self.prefetched(old, new) {
            Some((h, false)) => h,
            _ => self.compute_hunks(old, new)?,
        };
        self.hunk_cache.insert(key, hunks.clone());
        Ok(hunks)
    }

    fn compute_hunks(&self, old: &str, new: &str) -> Result<Vec<Hunk>> {
        // guard's copies of the blobs (a staged file's may be its work-tree
        // file), for git's cut of their common tail.
        let (old_data, new_data) = (self.blob(old)?, self.blob(new)?);
        crate::work::add(
            crate::work::Counter::Diffed,
            old_data.len() + new_data.len(),
        );
        buffer_hunks(&old_data, &new_data)
    }
}
