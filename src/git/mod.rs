//! Everything guard reads of git, and the only place that names git2. It
//! opens the repository as git would and hands out owned data: commits, file
//! changes, hunks, blob bytes.
//!
//! - `open`: opening (refusing replacement objects), config, HEAD, revisions;
//! - `walk`: ranges and first-parent walks, through `graph` (git's commit-graph);
//! - `trees` and `raw`: entries and changes read from raw tree objects, checked
//!   by `tree_check` as `git fsck` checks them;
//! - `staged` and `index`: the index and the staged change;
//! - `listing`: the one comparison of two listings that every change list uses;
//! - `diff`: blobs and hunks; `prefetch`: a second thread for long walks;
//! - `store`: the [`Store`] trait the evaluator reads through, and `memory`,
//!   an in-memory store for tests.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;

use git2::{Oid, Repository};

use crate::change::{Hunk, Kind, ObjectId};
use crate::error::{Error, Result};
use cache::Bounded;
use graph::CommitGraph;
use index::Index;
use raw::TreeHit;
use tree_check::canon_mode;

mod cache;
#[cfg_attr(not(unix), allow(dead_code))]
mod delta;
mod diff;
pub mod graph;
pub mod index;
mod listing;
mod mapped;
pub mod memory;
mod open;
#[cfg(unix)]
mod pack;
pub use open::{for_long_walks, names_a_replacement};
pub mod oracle;
pub mod prefetch;
mod raw;
mod staged;
mod store;
mod tokens;
mod topo;
pub mod tree_check;
mod trees;
mod walk;
#[cfg_attr(not(unix), allow(dead_code))]
mod zlib;

pub use delta::apply as apply_delta;
pub use diff::{buffer_hunks, diff_options, settled_lines};
pub use store::Store;

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        Error::new(format!("git: {}", e.message()))
    }
}

/// A version of the repository's files to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// The empty tree (an unborn HEAD, a root commit's parent).
    Empty,
    /// A tree, by id.
    Tree(ObjectId),
    /// The index (the staged change), as `GIT_INDEX_FILE` names it.
    Index,
}

/// What guard needs of a commit.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    /// Seconds since the epoch, and the author's offset in minutes.
    pub time: i64,
    pub offset_minutes: i32,
    /// The encoding the commit declares for its message, when it is not
    /// UTF-8: git shows such a message re-encoded, so `message` then holds
    /// its subject line alone (no trailer guard could read the way git does).
    pub foreign_encoding: Option<String>,
}

/// Does git take encoding `name` for UTF-8 (`is_encoding_utf8`: "utf-8" or
/// "utf8", case aside)?
pub fn is_utf8_name(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"utf-8") || name.eq_ignore_ascii_case(b"utf8")
}

impl CommitInfo {
    pub fn short(&self) -> &str {
        &self.id[..self.id.len().min(10)]
    }

    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("").trim()
    }
}

pub struct Repo {
    repo: Repository,
    shallow: HashSet<String>,
    /// Blobs read recently: a change's blobs are read for several purposes.
    blobs: Bounded<String, Arc<[u8]>>,
    /// The index, once read.
    staged: RefCell<Option<Rc<Index>>>,
    /// Path lookups in raw trees: a commit's base tree is the tree the previous
    /// commit of a walk was looked up in.
    path_cache: Bounded<(Oid, String), Option<TreeHit>>,
    /// Raw tree objects recently read (see [`Repo::raw_tree_checked`]).
    raw_trees: Bounded<Oid, CheckedTree>,
    /// Trees recently checked, with their entries' offsets, to check the next
    /// similar tree against (see [`Repo::check_tree`]), by id: at most 8, and
    /// those other than the heaviest within the tree budget (see
    /// [`Repo::used_tree`]).
    checked_trees: RefCell<Vec<(Oid, CheckedTree)>>,
    /// Hunks already computed, by (old, new) blob ids.
    hunk_cache: Bounded<(String, String), Vec<Hunk>>,
    /// Multi-path lookups by tree, for the last list of paths looked up.
    entries_paths: RefCell<Vec<String>>,
    entries_cache: Bounded<Oid, Rc<Vec<Option<TreeHit>>>>,
    /// Hunks (and binary-ness) taken from a prefetching thread.
    prefetched: Bounded<(String, String), prefetch::Diffed>,
    /// What a prefetching thread found (see [`prefetch`]).
    shared: RefCell<Option<std::sync::Arc<prefetch::Shared>>>,
    /// git's configuration as first read: one command reads it once, as
    /// git does (libgit2 looks at every file again on each lookup).
    config: std::cell::OnceCell<git2::Config>,
    /// git's commit-graph, read on the first walk that can use it.
    graph: std::cell::OnceCell<Option<CommitGraph>>,
    /// Work-tree files that may hold a staged blob, by the blob's id (see
    /// [`Repo::blob`]).
    worktree: RefCell<std::collections::HashMap<ObjectId, String>>,
    /// guard's own reader of the repository's packs, for long walks.
    #[cfg(unix)]
    packs: std::cell::OnceCell<Option<std::sync::Arc<pack::Packs>>>,
}

/// A tree's raw bytes and its entries' offsets, checked.
type CheckedTree = (Arc<[u8]>, Rc<crate::git::tree_check::Offsets>);

/// One commit of a first-parent walk: its tree, its first parent's tree, and
/// its position in the commit-graph when the walk read it from there.
#[derive(Clone, Debug)]
pub struct Step {
    pub id: ObjectId,
    pub tree: Side,
    pub base: Side,
    pub pos: Option<u32>,
}

/// Bytes of blobs kept in the cache (the least recently used go first).
const BLOB_CACHE_BYTES: usize = 8 << 20;

/// Bytes of raw trees (and their entries' offsets) kept in the cache: a
/// bound in bytes, not entries, as one tree of a wide directory can weigh
/// megabytes. Kept by recent use, 4 MiB re-read no more over a 10,000-commit
/// range of git/git than 8 MiB cleared whole when full did.
const TREE_CACHE_BYTES: usize = 4 << 20;

/// The same budgets where guard reads the packs itself (long walks): what is
/// read is kept in the packs' shared cache ([`pack::BLOB_BYTES`]).
const PACKED_BLOB_CACHE_BYTES: usize = 1 << 20;
const PACKED_TREE_CACHE_BYTES: usize = 512 << 10;

/// What a checked tree weighs in a cache: its bytes and its entries' offsets.
fn tree_weight((data, offsets): &CheckedTree) -> usize {
    data.len() + 4 * offsets.len()
}

fn oid(id: &str) -> Result<Oid> {
    Oid::from_str(id).map_err(|e| Error::context(format!("bad object id {id}"), e.message()))
}

/// A mode as git reads it (`canon_mode`): any regular mode is a file, an
/// executable one when the owner may execute it; anything that is not a file,
/// a symlink or a directory is a gitlink. `None`: a directory.
fn kind(mode: u32) -> Option<Kind> {
    match canon_mode(mode) {
        0o100755 => Some(Kind::Executable),
        0o100644 => Some(Kind::File),
        0o120000 => Some(Kind::Symlink),
        0o040000 => None,
        _ => Some(Kind::Submodule),
    }
}

fn hex(id: Oid) -> ObjectId {
    hex_of(id.as_bytes())
}

/// Lowercase hex of an object id's bytes, as git writes it (a table, not
/// `format!`: a listing of a wide tree formats hundreds of thousands).
fn hex_of(bytes: &[u8]) -> ObjectId {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = vec![0; bytes.len() * 2];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A changed path as guard judges it. Paths are bytes to git; a path that is
/// not UTF-8 cannot be matched against the manifest exactly (a lossy decoding
/// would make two paths one), so it is refused rather than guessed at.
pub fn path_of(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        Error::new(format!(
            "the path {} is not UTF-8: guard cannot match it against the manifest exactly; rename it",
            String::from_utf8_lossy(&escape_bytes(bytes))
        ))
    })
}

/// Bytes with those outside printable ASCII as `\xNN` (for messages).
fn escape_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    out
}

/// git run in `dir` with `input` on its standard input (no system or user
/// configuration), for the readers' tests: its output. Panics on failure.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn run_git(dir: &std::path::Path, args: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[cfg(test)]
mod hex_tests {
    use proptest::prelude::*;

    proptest! {
        /// The table's hex is libgit2's.
        #[test]
        fn hex_is_libgit2s(bytes in proptest::array::uniform20(any::<u8>())) {
            let id = git2::Oid::from_bytes(&bytes).expect("20 bytes are an object id");
            prop_assert_eq!(super::hex_of(&bytes), id.to_string());
            prop_assert_eq!(super::hex(id), id.to_string());
        }
    }
}
