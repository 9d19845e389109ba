//! The only module that names git2. It opens the repository as git would and
//! hands out owned data: commits, file changes, hunks, blob bytes.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Once;

use git2::{Delta, DiffOptions, ObjectType, Oid, Repository, Sort, Tree};

use crate::change::{Entry, FileChange, Hunk, Kind, ObjectId};
use crate::error::{Error, Result};
use crate::graph::{BloomKey, CommitGraph};
use crate::index::{self, IndexEntry};
use crate::tree_check::canon_mode;

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
    blobs: RefCell<HashMap<String, Rc<[u8]>>>,
    /// The index as read by [`crate::index`] (`None` inside: use libgit2's).
    staged: RefCell<Option<Option<Rc<Vec<IndexEntry>>>>>,
    /// Path lookups in raw trees: a commit's base tree is the tree the previous
    /// commit of a walk was looked up in.
    path_cache: RefCell<HashMap<(Oid, String), Option<TreeHit>>>,
    /// Raw tree objects recently read (see [`Repo::raw_tree`]).
    raw_trees: RefCell<HashMap<Oid, CheckedTree>>,
    /// Trees recently checked, with their entries' offsets, to check the next
    /// similar tree against (see [`Repo::check_tree`]).
    checked_trees: RefCell<Vec<CheckedTree>>,
    /// Hunks already computed, by (old, new) blob ids.
    hunk_cache: RefCell<HashMap<(String, String), Vec<Hunk>>>,
    /// Multi-path lookups by tree, for one list of paths.
    #[allow(clippy::type_complexity)]
    entries_cache: RefCell<(Vec<String>, HashMap<Oid, Rc<Vec<Option<TreeHit>>>>)>,
    /// Hunks (and binary-ness) taken from a prefetching thread.
    prefetched: RefCell<HashMap<(String, String), crate::prefetch::Diffed>>,
    /// What a prefetching thread found (see [`crate::prefetch`]).
    shared: RefCell<Option<std::sync::Arc<crate::prefetch::Shared>>>,
    /// git's commit-graph, read on the first walk that can use it.
    graph: std::cell::OnceCell<Option<CommitGraph>>,
}

/// A tree's raw bytes and its entries' offsets, checked.
type CheckedTree = (Rc<[u8]>, Rc<crate::tree_check::Offsets>);

/// One commit of a first-parent walk: its tree, its first parent's tree, and
/// its position in the commit-graph when the walk read it from there.
#[derive(Clone, Debug)]
pub struct Step {
    pub id: ObjectId,
    pub tree: Side,
    pub base: Side,
    pub pos: Option<u32>,
}

/// Bytes of blobs kept in the cache before it is cleared.
const BLOB_CACHE_BYTES: usize = 8 << 20;

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

/// A diff file's raw mode. git2's `DiffFile::mode` panics on a mode outside
/// its enum (a tree entry with mode 100600, say), which git reads as a file.
#[allow(unsafe_code)]
fn diff_file_mode(f: &git2::DiffFile<'_>) -> u32 {
    use git2::Binding;
    // SAFETY: the pointer is the live `git_diff_file` this `DiffFile` borrows
    // from its diff; `mode` is a plain integer field.
    u32::from(unsafe { (*f.raw()).mode })
}

/// Let libgit2 keep blobs and large trees in its object cache (by default it
/// keeps no blob and no tree over 4 KiB), so a blob read for the quick zone
/// check is not inflated again for the diff and path lookups do not re-parse
/// the root tree; bound that cache (256 MiB by default) and the pack windows
/// mapped at once (8 GiB by default; every page a long range touched stayed
/// resident), which keeps a 10,000-commit check under 100 MiB at git's speed.
#[allow(unsafe_code)]
fn cache_blobs() {
    // SAFETY: libgit2's global options are set once, under `Once`, before any
    // repository is opened and before guard starts a thread.
    unsafe {
        let _ = git2::opts::set_cache_object_limit(ObjectType::Blob, 4 << 20);
        // Trees and commits are not kept: path lookups read raw trees through
        // guard's own cache, a walk reads each commit once, and libgit2's
        // eviction scans its whole map from the start each time it is full
        // (a 23,000-commit walk spent a third of its time there).
        let _ = git2::opts::set_cache_object_limit(ObjectType::Tree, 0);
        let _ = git2::opts::set_cache_object_limit(ObjectType::Commit, 0);
        let _ = git2::opts::set_cache_max_size(16 << 20);
        let _ = git2::opts::set_mwindow_size(8 << 20);
        let _ = git2::opts::set_mwindow_mapped_limit(32 << 20);
    }
}

/// git reads a replacement object (`refs/replace/`) or a graft in place of
/// the original; libgit2, and so guard, would read the original. Rather than
/// judge objects git does not show, refuse, unless git is told to ignore
/// replacements too (`GIT_NO_REPLACE_OBJECTS`, `core.useReplaceRefs=false`).
/// The first replacement ref, if any. Loose refs under `refs/replace/` and
/// the lines of `packed-refs` are read directly: libgit2's ref iterator loads
/// and sorts every packed ref (a large share of a staged check in a
/// repository with thousands of tags). Other ref storage asks libgit2.
fn replace_ref(repo: &Repository) -> Result<Option<String>> {
    let common = repo.commondir();
    let files = common.join("refs/replace");
    let mut dirs = vec![files];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::context(format!("cannot read {}", dir.display()), e)),
        };
        for entry in entries {
            let entry =
                entry.map_err(|e| Error::context(format!("cannot read {}", dir.display()), e))?;
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(entry.path());
            } else {
                let rel = entry.path();
                let rel = rel.strip_prefix(common).unwrap_or(&rel);
                return Ok(Some(rel.display().to_string()));
            }
        }
    }
    let files_backend = match repo.config() {
        Ok(c) => match c.get_string("extensions.refstorage") {
            Ok(v) => v.eq_ignore_ascii_case("files"),
            Err(e) if e.code() == git2::ErrorCode::NotFound => true,
            Err(e) => {
                return Err(Error::context(
                    "cannot read extensions.refStorage",
                    e.message(),
                ));
            }
        },
        Err(e) => {
            return Err(Error::context(
                "cannot read git's configuration",
                e.message(),
            ));
        }
    };
    if files_backend {
        return match std::fs::read(common.join("packed-refs")) {
            Ok(data) => Ok(memchr::memmem::find(&data, b" refs/replace/").map(|at| {
                let line = &data[at + 1..];
                let end = memchr::memchr(b'\n', line).unwrap_or(line.len());
                String::from_utf8_lossy(&line[..end]).into_owned()
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::context("cannot read packed-refs", e)),
        };
    }
    let refs = repo
        .references_glob("refs/replace/*")
        .map_err(|e| Error::context("cannot list refs/replace/", e.message()))?;
    Ok(refs.into_iter().next().map(|r| {
        r.map(|r| String::from_utf8_lossy(r.name_bytes()).into_owned())
            .unwrap_or_else(|_| "refs/replace/…".to_string())
    }))
}

fn refuse_replacements(repo: &Repository) -> Result<()> {
    let grafts = repo.commondir().join("info/grafts");
    if std::fs::metadata(&grafts).is_ok_and(|m| m.len() > 0) {
        return Err(Error::new(format!(
            "{} exists: git reads grafted parents that guard would not; remove the \
             grafts (git replace --convert-graft-file) and the resulting replacement refs",
            grafts.display()
        )));
    }
    let ignored = std::env::var_os("GIT_NO_REPLACE_OBJECTS").is_some()
        || repo
            .config()
            .and_then(|c| c.get_bool("core.useReplaceRefs"))
            .is_ok_and(|v| !v);
    if ignored {
        return Ok(());
    }
    if let Some(name) = replace_ref(repo)? {
        return Err(Error::new(format!(
            "the repository has replacement objects ({name}): git reads them in place of \
             the originals and guard would not; remove them (git replace -d) or set \
             GIT_NO_REPLACE_OBJECTS=1 so that git and guard read the same objects"
        )));
    }
    Ok(())
}

fn hex(id: Oid) -> ObjectId {
    id.to_string()
}

/// Find each of `names` in a raw tree object ("MODE NAME\0<20-byte id>"
/// entries, sorted by name, a tree's name compared as if it ended in '/') in
/// one pass. `None`: the tree is corrupt; a name's `None`: no such entry. A walk runs this on every commit's root tree,
/// so each entry costs a few comparisons: its name's first byte is checked
/// against the names' first bytes before anything else.
fn tree_entries(data: &[u8], names: &[&[u8]]) -> Option<Vec<Option<TreeHit>>> {
    let mut hits = vec![None; names.len()];
    let mut first = [false; 256];
    for n in names {
        if let Some(&b) = n.first() {
            first[usize::from(b)] = true;
        }
    }
    let Some(last) = names.iter().max_by(|a, b| {
        let key = |s: &&[u8]| {
            s.iter()
                .copied()
                .chain(std::iter::once(b'/'))
                .collect::<Vec<u8>>()
        };
        key(a).cmp(&key(b))
    }) else {
        return Some(hits);
    };
    if last.is_empty() {
        return Some(hits);
    }
    let (mut left, mut at) = (names.len(), 0);
    while at < data.len() && left > 0 {
        // "MODE NAME\0<20 bytes>": a mode is 5 or 6 octal digits.
        let space = if data.get(at + 5) == Some(&b' ') {
            at + 5
        } else if data.get(at + 6) == Some(&b' ') {
            at + 6
        } else {
            return None;
        };
        let name_at = space + 1;
        let nul = name_at + data.get(name_at..)?.iter().position(|&b| b == 0)?;
        let next = nul + 21;
        if next > data.len() || nul == name_at {
            return None;
        }
        let entry = &data[name_at..nul];
        if first[usize::from(entry[0])] {
            for (i, name) in names.iter().enumerate() {
                if hits[i].is_none() && *name == entry {
                    let mode = std::str::from_utf8(&data[at..space]).ok()?;
                    let mode = canon_mode(u32::from_str_radix(mode, 8).ok()?);
                    hits[i] = Some((Oid::from_bytes(&data[nul + 1..next]).ok()?, mode));
                    left -= 1;
                }
            }
        }
        // Past where the last name would sort: the rest are absent.
        let is_tree = match &data[at..space] {
            [b'4', ..] => space - at == 5,
            [b'0', b'4', ..] => space - at == 6,
            _ => false,
        };
        if entry[0] > last[0] || (entry[0] == last[0] && past(entry, is_tree, last)) {
            break;
        }
        at = next;
    }
    Some(hits)
}

/// An entry found in a tree: its object id and mode.
type TreeHit = (Oid, u32);

/// Does a tree entry sort after `name` looked up as a directory (git orders
/// a directory's name as if it ended in '/'), so that `name` cannot follow?
fn past(entry: &[u8], entry_is_tree: bool, name: &[u8]) -> bool {
    let n = entry.len().min(name.len());
    match entry[..n].cmp(&name[..n]) {
        std::cmp::Ordering::Equal => {
            let next = |s: &[u8], dir: bool| s.get(n).copied().or(dir.then_some(b'/'));
            next(entry, entry_is_tree) > next(name, true)
        }
        o => o.is_gt(),
    }
}

/// The diff guard runs between two versions of a file: zero context, git's
/// indent heuristic (as `git diff -U0`), text always.
pub fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.context_lines(0)
        .interhunk_lines(0)
        .indent_heuristic(true)
        .force_text(true);
    opts
}

/// Zero-context hunks between two buffers, with guard's diff (for tests that
/// hold other code to it).
pub fn buffer_hunks(old: &[u8], new: &[u8]) -> Result<Vec<Hunk>> {
    let patch = git2::Patch::from_buffers(old, None, new, None, Some(&mut diff_options()))?;
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

/// A changed path as guard judges it. Paths are bytes to git; a path that is
/// not UTF-8 cannot be matched against the manifest exactly (a lossy decoding
/// would make two paths one), so it is refused rather than guessed at.
pub fn path_of(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        Error::new(format!(
            "the path {} is not UTF-8: guard cannot match it against the manifest exactly; rename it",
            crate::report::visible(&String::from_utf8_lossy(&escape_bytes(bytes)))
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

fn index_entry(e: &IndexEntry) -> Option<Entry> {
    kind(e.mode).map(|k| Entry {
        id: e.id.iter().map(|b| format!("{b:02x}")).collect(),
        kind: k,
    })
}

impl Repo {
    /// Open the repository as git would from the environment (`GIT_DIR`,
    /// `GIT_INDEX_FILE`, …) or by discovery from the current directory.
    pub fn open() -> Result<Repo> {
        static TUNE: Once = Once::new();
        TUNE.call_once(|| {
            // git does not re-hash objects on read either: they were verified when fetched.
            git2::opts::strict_hash_verification(false);
            cache_blobs();
        });
        let repo = Repository::open_from_env().map_err(|e| {
            Error::new(format!(
                "not a git repository (or any parent up to the root): {}",
                e.message()
            ))
        })?;
        refuse_replacements(&repo)?;
        // No `shallow` file: a complete clone. One that cannot be read is an
        // error (read as empty, missing parents would look like roots).
        let shallow = match std::fs::read_to_string(repo.path().join("shallow")) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::context("cannot read the shallow clone's cut", e)),
        };
        let shallow = shallow
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        Ok(Repo {
            repo,
            shallow,
            blobs: RefCell::new(HashMap::new()),
            staged: RefCell::new(None),
            hunk_cache: RefCell::new(HashMap::new()),
            raw_trees: RefCell::new(HashMap::new()),
            checked_trees: RefCell::new(Vec::new()),
            path_cache: RefCell::new(HashMap::new()),
            graph: std::cell::OnceCell::new(),
            entries_cache: RefCell::new((Vec::new(), HashMap::new())),
            shared: RefCell::new(None),
            prefetched: RefCell::new(HashMap::new()),
        })
    }

    /// The commit-graph git itself would use, unless git would not use one
    /// here (`core.commitGraph` false, a shallow clone, grafts).
    fn graph(&self) -> Option<&CommitGraph> {
        self.graph
            .get_or_init(|| {
                // Unreadable config: the graph is used (it only spares object
                // reads; what it says is what the objects say).
                let off = self
                    .repo
                    .config()
                    .ok()
                    .and_then(|c| c.get_bool("core.commitGraph").ok())
                    == Some(false);
                let common = self.repo.commondir();
                if off || !self.shallow.is_empty() || common.join("info/grafts").exists() {
                    return None;
                }
                let own = std::env::var_os("GIT_OBJECT_DIRECTORY")
                    .map_or_else(|| common.join("objects"), PathBuf::from);
                let mut dirs = vec![own.clone()];
                // Unreadable alternates: graphs there are not used (objects
                // are still read through libgit2, which fails closed).
                let alternates =
                    std::fs::read_to_string(own.join("info/alternates")).unwrap_or_default();
                dirs.extend(
                    alternates
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(|l| own.join(l)),
                );
                CommitGraph::open(&dirs)
            })
            .as_ref()
    }

    /// The hunks between two blobs and whether either is binary, if a
    /// prefetching thread has computed them (see [`crate::prefetch`]).
    pub fn prefetched(&self, old: &str, new: &str) -> Option<crate::prefetch::Diffed> {
        let key = (old.to_string(), new.to_string());
        if let Some(found) = self.prefetched.borrow().get(&key) {
            return Some(found.clone());
        }
        let found = self
            .shared
            .borrow()
            .as_ref()
            .and_then(|s| s.hunks.lock().ok()?.remove(&key))?;
        let mut local = self.prefetched.borrow_mut();
        if local.len() > 256 {
            local.clear();
        }
        local.insert(key, found.clone());
        Some(found)
    }

    /// Take (or stop taking) a prefetching thread's results.
    pub fn share(&self, shared: Option<std::sync::Arc<crate::prefetch::Shared>>) {
        *self.shared.borrow_mut() = shared;
    }

    /// Does the commit-graph say that nothing under `keys` changed between
    /// the commit at `pos` and its first parent? (`false`: it cannot say.)
    pub fn graph_unchanged(&self, pos: u32, keys: &[BloomKey]) -> bool {
        self.graph().is_some_and(|g| g.unchanged(pos, keys))
    }

    pub fn workdir(&self) -> Result<&Path> {
        self.repo
            .workdir()
            .ok_or_else(|| Error::new("this command needs a work tree (the repository is bare)"))
    }

    pub fn is_bare(&self) -> bool {
        self.repo.is_bare()
    }

    /// The commit `id` names (an annotated tag peeled), `None` when it names
    /// no commit (a tag of a tree or a blob).
    pub fn peel_commit(&self, id: &str) -> Result<Option<ObjectId>> {
        let obj = self
            .repo
            .find_object(oid(id)?, None)
            .map_err(|e| Error::new(format!("cannot read object {id}: {}", e.message())))?;
        Ok(obj.peel_to_commit().ok().map(|c| hex(c.id())))
    }

    /// Is `a` an ancestor of `b` (or `b` itself)?
    pub fn is_ancestor(&self, a: &str, b: &str) -> Result<bool> {
        if a == b {
            return Ok(true);
        }
        self.repo
            .graph_descendant_of(oid(b)?, oid(a)?)
            .map_err(|e| Error::context("cannot walk the history", e.message()))
    }

    /// Commits reachable from `tips` and from no ref of the repository, oldest
    /// first: what a push adds (in `pre-receive`, refs still hold their old values).
    pub fn not_in_refs(&self, tips: &[ObjectId]) -> Result<Vec<ObjectId>> {
        let mut walk = self.repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
        for t in tips {
            walk.push(oid(t)?)
                .map_err(|e| Error::context(format!("cannot walk from {t}"), e.message()))?;
        }
        let refs = self
            .repo
            .references()
            .map_err(|e| Error::context("cannot list the refs", e.message()))?;
        for r in refs {
            let r = r.map_err(|e| Error::context("cannot read a ref", e.message()))?;
            // A ref that names no commit (a tag of a tree) hides nothing.
            if let Ok(c) = r.peel_to_commit() {
                walk.hide(c.id())
                    .map_err(|e| Error::context("cannot walk the history", e.message()))?;
            }
        }
        walk.map(|r| {
            r.map(hex)
                .map_err(|e| Error::context("cannot walk the history", e.message()))
        })
        .collect()
    }

    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// A config value as git reads it. A config git could not read either (a
    /// malformed file, a value that is not a string) is an error, not a default.
    pub fn config_string(&self, key: &str) -> Result<Option<String>> {
        let config = self
            .repo
            .config()
            .map_err(|e| Error::context("cannot read git's configuration", e.message()))?;
        match config.get_string(key) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::context(format!("cannot read {key}"), e.message())),
        }
    }

    /// The tree of HEAD, or `Empty` when HEAD is unborn.
    pub fn head_side(&self) -> Result<Side> {
        match self.repo.head() {
            Ok(head) => {
                let commit = head
                    .peel_to_commit()
                    .map_err(|e| Error::context("cannot read HEAD", e.message()))?;
                Ok(Side::Tree(hex(commit.tree_id())))
            }
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                Ok(Side::Empty)
            }
            Err(e) => Err(Error::context("cannot read HEAD", e.message())),
        }
    }

    /// Resolve a revision to a commit (a tag means its commit).
    pub fn resolve(&self, rev: &str) -> Result<ObjectId> {
        let obj = self
            .repo
            .revparse_single(rev)
            .map_err(|e| Error::new(format!("bad revision {rev:?}: {}", e.message())))?;
        let commit = obj
            .peel_to_commit()
            .map_err(|_| Error::new(format!("revision {rev:?} does not name a commit")))?;
        Ok(hex(commit.id()))
    }

    pub fn commit(&self, id: &str) -> Result<CommitInfo> {
        let c = self
            .repo
            .find_commit(oid(id)?)
            .map_err(|e| Error::new(format!("cannot read commit {id}: {}", e.message())))?;
        let author = c.author();
        Ok(CommitInfo {
            id: id.to_string(),
            tree: hex(c.tree_id()),
            parents: c.parent_ids().map(hex).collect(),
            message: String::from_utf8_lossy(c.message_raw_bytes()).into_owned(),
            author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            time: author.when().seconds(),
            offset_minutes: author.when().offset_minutes(),
        })
    }

    /// The base a commit is judged against: its first parent's tree, or the empty
    /// tree for a root commit. A shallow boundary or a missing parent is an error.
    pub fn parent_trees(&self, c: &CommitInfo) -> Result<Vec<Side>> {
        self.parent_trees_with(c, |_| None)
    }

    /// [`Repo::parent_trees`], taking the trees `known` already knows.
    pub fn parent_trees_with(
        &self,
        c: &CommitInfo,
        known: impl Fn(&str) -> Option<ObjectId>,
    ) -> Result<Vec<Side>> {
        if self.shallow.contains(&c.id) {
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
                let pc = self.repo.find_commit(oid(p)?).map_err(|e| {
                    Error::new(format!(
                        "commit {}: parent {} is missing ({}); fetch full history \
                         (git fetch --unshallow)",
                        c.short(),
                        &p[..p.len().min(10)],
                        e.message()
                    ))
                })?;
                Ok(Side::Tree(hex(pc.tree_id())))
            })
            .collect()
    }

    /// Commits reachable from `to` and not from `from`, oldest first.
    pub fn range(&self, from: &str, to: &str) -> Result<Vec<ObjectId>> {
        self.walk(to, Some(from))
    }

    fn walk(&self, to: &str, hide: Option<&str>) -> Result<Vec<ObjectId>> {
        let mut walk = self.repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
        walk.push(oid(to)?)
            .map_err(|e| Error::context(format!("cannot walk from {to}"), e.message()))?;
        if let Some(from) = hide {
            walk.hide(oid(from)?)
                .map_err(|e| Error::context(format!("cannot walk from {from}"), e.message()))?;
        }
        walk.map(|r| {
            r.map(hex)
                .map_err(|e| Error::context("cannot walk the history", e.message()))
        })
        .collect()
    }

    pub fn merge_base(&self, a: &str, b: &str) -> Result<ObjectId> {
        self.repo
            .merge_base(oid(a)?, oid(b)?)
            .map(hex)
            .map_err(|e| Error::context("no merge base", e.message()))
    }

    /// Is `id` at the boundary of a shallow clone (its parents missing)?
    pub fn is_shallow_boundary(&self, id: &str) -> bool {
        self.shallow.contains(id)
    }

    fn tree(&self, id: &str) -> Result<Tree<'_>> {
        self.repo
            .find_tree(oid(id)?)
            .map_err(|e| Error::new(format!("cannot read tree {id}: {}", e.message())))
    }

    /// The entry at `path` in `side`, if any.
    pub fn entry(&self, side: &Side, path: &str) -> Result<Option<Entry>> {
        match side {
            Side::Empty => Ok(None),
            Side::Tree(t) => Ok(self
                .raw_entry(oid(t)?, path)?
                .filter(|&(_, mode)| mode != 0o40000)
                .and_then(|(id, mode)| {
                    kind(mode).map(|k| Entry {
                        id: hex(id),
                        kind: k,
                    })
                })),
            Side::Index => {
                if let Some(ents) = self.index_entries()? {
                    let i = index::lower_bound(&ents, path.as_bytes());
                    return Ok(ents
                        .get(i)
                        .filter(|e| e.path == path.as_bytes() && e.stage == 0)
                        .and_then(index_entry));
                }
                let index = self.libgit2_index()?;
                Ok(index.get_path(Path::new(path), 0).and_then(|e| {
                    kind(e.mode).map(|k| Entry {
                        id: hex(e.id),
                        kind: k,
                    })
                }))
            }
        }
    }

    /// Is there a directory at `path` in `side`?
    pub fn is_dir(&self, side: &Side, path: &str) -> Result<bool> {
        Ok(match side {
            Side::Empty => false,
            Side::Tree(t) => self
                .raw_entry(oid(t)?, path)?
                .is_some_and(|(_, mode)| mode == 0o40000),
            Side::Index => {
                let prefix = format!("{path}/");
                if let Some(ents) = self.index_entries()? {
                    let i = index::lower_bound(&ents, prefix.as_bytes());
                    return Ok(ents
                        .get(i)
                        .is_some_and(|e| e.path.starts_with(prefix.as_bytes())));
                }
                let index = self.libgit2_index()?;
                index.iter().any(|e| e.path.starts_with(prefix.as_bytes()))
            }
        })
    }

    /// Every file path in `side` (for listing what a glob matches).
    pub fn files(&self, side: &Side) -> Result<Vec<String>> {
        let mut out = Vec::new();
        match side {
            Side::Empty => {}
            Side::Tree(t) => {
                self.tree(t)?.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
                    if e.kind() != Some(ObjectType::Tree) {
                        out.push(format!("{dir}{}", e.name().unwrap_or("")));
                    }
                    git2::TreeWalkResult::Ok
                })?;
            }
            Side::Index => {
                if let Some(ents) = self.index_entries()? {
                    out.extend(
                        ents.iter()
                            .filter(|e| e.stage == 0 && !e.intent_to_add)
                            .map(|e| String::from_utf8_lossy(&e.path).into_owned()),
                    );
                    return Ok(out);
                }
                for e in self.libgit2_index()?.iter() {
                    out.push(String::from_utf8_lossy(&e.path).into_owned());
                }
            }
        }
        Ok(out)
    }

    pub fn blob(&self, id: &str) -> Result<Rc<[u8]>> {
        if let Some(b) = self.blobs.borrow().get(id) {
            return Ok(b.clone());
        }
        let blob = self
            .repo
            .find_blob(oid(id)?)
            .map_err(|e| Error::new(format!("cannot read object {id}: {}", e.message())))?;
        Ok(self.remember_blob(id, blob.content()))
    }

    fn remember_blob(&self, id: &str, content: &[u8]) -> Rc<[u8]> {
        if let Some(b) = self.blobs.borrow().get(id) {
            return b.clone();
        }
        let data: Rc<[u8]> = Rc::from(content);
        let mut cache = self.blobs.borrow_mut();
        if cache.values().map(|b| b.len()).sum::<usize>() + data.len() > BLOB_CACHE_BYTES {
            cache.clear();
        }
        cache.insert(id.to_string(), data.clone());
        data
    }

    pub fn index_has_conflicts(&self) -> Result<bool> {
        if let Some(ents) = self.index_entries()? {
            return Ok(ents.iter().any(|e| e.stage != 0));
        }
        Ok(self.libgit2_index()?.has_conflicts())
    }

    /// The index through libgit2 (for what [`crate::index`] does not read).
    fn libgit2_index(&self) -> Result<git2::Index> {
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

    /// The index entries, read directly (see [`crate::index`]); `None` when the
    /// index is of a kind only libgit2 reads.
    fn index_entries(&self) -> Result<Option<Rc<Vec<IndexEntry>>>> {
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
            match std::fs::read(&path) {
                Ok(data) => index::parse(&data)
                    .map_err(|why| Error::new(format!("{}: {why}", path.display())))?
                    .map(Rc::new),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Rc::new(Vec::new())),
                Err(e) => {
                    return Err(Error::context(format!("cannot read {}", path.display()), e));
                }
            }
        };
        *self.staged.borrow_mut() = Some(parsed.clone());
        Ok(parsed)
    }

    /// Files that differ between a tree and the index under `roots`, by direct
    /// lookups (no whole-index diff).
    fn changes_to_index(
        &self,
        old: &Side,
        ents: &[IndexEntry],
        roots: &[&str],
    ) -> Result<Vec<FileChange>> {
        let old_tree = match old {
            Side::Tree(t) => Some(self.tree(t)?),
            _ => None,
        };
        let mut roots: Vec<&str> = if roots.iter().any(|r| r.is_empty()) {
            vec![""]
        } else {
            roots.to_vec()
        };
        roots.sort_unstable();
        roots.dedup();
        // Keyed by the path's bytes: two paths are one only if git says so.
        let mut before: BTreeMap<Vec<u8>, Entry> = BTreeMap::new();
        let mut after: BTreeMap<Vec<u8>, Entry> = BTreeMap::new();
        for root in roots {
            // The index side.
            let range: &[IndexEntry] = if root.is_empty() {
                ents
            } else {
                let i = index::lower_bound(ents, root.as_bytes());
                &ents[i..]
            };
            for e in range {
                let under = root.is_empty()
                    || e.path == root.as_bytes()
                    || (e.path.starts_with(root.as_bytes())
                        && e.path.get(root.len()) == Some(&b'/'));
                if !under {
                    if e.path.starts_with(root.as_bytes()) {
                        continue; // "root-x" sorts between "root" and "root/"
                    }
                    break;
                }
                // An intent-to-add entry is not committed (git leaves it out
                // of the tree it writes): the file is absent from the change.
                if e.stage == 0
                    && !e.intent_to_add
                    && let Some(entry) = index_entry(e)
                {
                    after.insert(e.path.clone(), entry);
                }
            }
            // The tree side.
            let Some(tree) = &old_tree else { continue };
            let sub = if root.is_empty() {
                Some(tree.clone())
            } else {
                match tree.get_path(Path::new(root)) {
                    Ok(e) if e.kind() == Some(ObjectType::Tree) => {
                        Some(self.repo.find_tree(e.id())?)
                    }
                    Ok(e) => {
                        if let Some(k) = kind(e.filemode() as u32) {
                            before.insert(
                                root.as_bytes().to_vec(),
                                Entry {
                                    id: hex(e.id()),
                                    kind: k,
                                },
                            );
                        }
                        None
                    }
                    Err(e) if e.code() == git2::ErrorCode::NotFound => None,
                    Err(e) => {
                        return Err(Error::context(
                            format!("cannot look up {root}"),
                            e.message(),
                        ));
                    }
                }
            };
            if let Some(sub) = sub {
                let prefix = if root.is_empty() {
                    String::new()
                } else {
                    format!("{root}/")
                };
                sub.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
                    if e.kind() != Some(ObjectType::Tree)
                        && let Some(k) = kind(e.filemode() as u32)
                    {
                        let mut path = format!("{prefix}{dir}").into_bytes();
                        path.extend_from_slice(e.name_bytes());
                        before.insert(
                            path,
                            Entry {
                                id: hex(e.id()),
                                kind: k,
                            },
                        );
                    }
                    git2::TreeWalkResult::Ok
                })?;
            }
        }
        let mut out = Vec::new();
        let paths: std::collections::BTreeSet<&Vec<u8>> =
            before.keys().chain(after.keys()).collect();
        for p in paths {
            let (o, n) = (before.get(p), after.get(p));
            if o != n {
                out.push(FileChange {
                    path: path_of(p)?,
                    old: o.cloned(),
                    new: n.cloned(),
                    renamed_to: None,
                });
            }
        }
        Ok(out)
    }

    /// Files that differ between `old` and `new`, limited to paths under `roots`
    /// ("" = everything). Renames are reported as a deletion and an addition.
    pub fn changes(&self, old: &Side, new: &Side, roots: &[&str]) -> Result<Vec<FileChange>> {
        if old == new {
            return Ok(Vec::new());
        }
        if let (Side::Tree(o), Side::Tree(n), Some(shared)) = (old, new, &*self.shared.borrow()) {
            let mut sorted = roots.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted
                .iter()
                .copied()
                .eq(shared.roots.iter().map(String::as_str))
                && let Ok(map) = shared.changes.lock()
                && let Some(found) = map.get(&(o.clone(), n.clone()))
            {
                return Ok(found.clone());
            }
        }
        if let (Side::Tree(o), Side::Tree(n)) = (old, new)
            && !roots.iter().any(|r| r.is_empty())
        {
            return self.tree_changes(o, n, roots);
        }
        self.diff_changes(old, new, roots)
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
        let is_dir = |x: &Option<TreeHit>| x.is_some_and(|(_, m)| m == 0o40000);
        let as_entry = |x: Option<TreeHit>| {
            x.and_then(|(id, mode)| {
                kind(mode).map(|k| Entry {
                    id: hex(id),
                    kind: k,
                })
            })
        };
        if old == new {
            return Ok(());
        }
        let (old_file, new_file) = (old.filter(|_| !is_dir(&old)), new.filter(|_| !is_dir(&new)));
        if old_file.is_some() || new_file.is_some() {
            out.push(FileChange {
                path: path.to_string(),
                old: as_entry(old_file),
                new: as_entry(new_file),
                renamed_to: None,
            });
        }
        let listing = |x: &Option<TreeHit>| -> Result<Vec<(Vec<u8>, TreeHit)>> {
            match x {
                Some((id, 0o40000)) => self.tree_listing(*id),
                _ => Ok(Vec::new()),
            }
        };
        let (a, b) = (listing(&old)?, listing(&new)?);
        let key = |(name, (_, mode)): &(Vec<u8>, TreeHit)| {
            let mut k = name.clone();
            if *mode == 0o40000 {
                k.push(b'/');
            }
            k
        };
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let order = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => key(x).cmp(&key(y)),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            let (name, o, n) = match order {
                std::cmp::Ordering::Less => {
                    i += 1;
                    (&a[i - 1].0, Some(a[i - 1].1), None)
                }
                std::cmp::Ordering::Greater => {
                    j += 1;
                    (&b[j - 1].0, None, Some(b[j - 1].1))
                }
                std::cmp::Ordering::Equal => {
                    i += 1;
                    j += 1;
                    (&a[i - 1].0, Some(a[i - 1].1), Some(b[j - 1].1))
                }
            };
            if o == n {
                continue;
            }
            let child = format!("{path}/{}", path_of(name)?);
            self.diff_entries(o, n, &child, out)?;
        }
        Ok(())
    }

    /// A tree's entries (name, id and canonical mode), in git's order.
    fn tree_listing(&self, id: Oid) -> Result<Vec<(Vec<u8>, TreeHit)>> {
        self.raw_tree(id)?;
        let Some((data, offsets)) = self.raw_trees.borrow().get(&id).cloned() else {
            return Err(Error::new(format!("internal: tree {id} was not kept")));
        };
        let corrupt = |why: String| Error::new(format!("tree {id} is corrupt: {why}"));
        crate::tree_check::entries(&data, &offsets)
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
            let cache = self.entries_cache.borrow();
            if cache.0.iter().map(String::as_str).eq(paths.iter().copied())
                && let Some(hit) = cache.1.get(&tree)
            {
                // Still the tree the next commit's is checked against.
                let known = self.raw_trees.borrow().get(&tree).cloned();
                if let Some(t) = known {
                    self.used_tree(&t);
                }
                return Ok(hit.clone());
            }
        }
        let mut out = vec![None; paths.len()];
        let indexed: Vec<(usize, &str)> = paths.iter().copied().enumerate().collect();
        self.entries_below(tree, &indexed, &mut out)?;
        let out = Rc::new(out);
        let mut cache = self.entries_cache.borrow_mut();
        if !cache.0.iter().map(String::as_str).eq(paths.iter().copied()) || cache.1.len() >= 64 {
            cache.0 = paths.iter().map(|p| p.to_string()).collect();
            cache.1.clear();
        }
        cache.1.insert(tree, out.clone());
        Ok(out)
    }

    fn entries_below(
        &self,
        tree: Oid,
        paths: &[(usize, &str)],
        out: &mut [Option<TreeHit>],
    ) -> Result<()> {
        let data = self.raw_tree(tree)?;
        let mut names: Vec<&[u8]> = paths
            .iter()
            .map(|(_, p)| p.split('/').next().unwrap_or("").as_bytes())
            .collect();
        names.sort_unstable();
        names.dedup();
        let hits = tree_entries(&data, &names)
            .ok_or_else(|| Error::new(format!("tree {tree} is corrupt")))?;
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
    fn raw_entry(&self, tree: Oid, path: &str) -> Result<Option<(Oid, u32)>> {
        let key = (tree, path.to_string());
        if let Some(hit) = self.path_cache.borrow().get(&key) {
            return Ok(*hit);
        }
        let found = self.raw_entry_uncached(tree, path)?;
        let mut cache = self.path_cache.borrow_mut();
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(key, found);
        Ok(found)
    }

    fn raw_entry_uncached(&self, tree: Oid, path: &str) -> Result<Option<(Oid, u32)>> {
        let mut found = [None];
        self.entries_below(tree, &[(0, path)], &mut found)?;
        Ok(found[0])
    }

    /// A tree object's raw bytes, checked as `git fsck` checks them (a wrong
    /// type or a corrupt tree is an error), remembered for the next
    /// commit of a walk, whose base tree is this commit's tree.
    fn raw_tree(&self, id: Oid) -> Result<Rc<[u8]>> {
        let hit = self.raw_trees.borrow().get(&id).cloned();
        if let Some(t) = hit {
            self.used_tree(&t);
            return Ok(t.0);
        }
        let odb = self.repo.odb()?;
        let obj = odb
            .read(id)
            .map_err(|e| Error::new(format!("cannot read tree {id}: {}", e.message())))?;
        if obj.kind() != ObjectType::Tree {
            return Err(Error::new(format!(
                "{id} is named as a tree but is a {}",
                obj.kind().str()
            )));
        }
        let data: Rc<[u8]> = Rc::from(obj.data());
        let offsets = self.check_tree(id, &data)?;
        let checked = (data.clone(), Rc::new(offsets));
        self.used_tree(&checked);
        let mut cache = self.raw_trees.borrow_mut();
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(id, checked);
        Ok(data)
    }

    /// Remember `t` as the most recently used tree: a commit's trees are read
    /// just after its parent's, which makes the parent's the best to check
    /// them against.
    fn used_tree(&self, t: &CheckedTree) {
        let mut recent = self.checked_trees.borrow_mut();
        recent.retain(|r| !Rc::ptr_eq(&r.0, &t.0));
        if recent.len() >= 8 {
            recent.remove(0);
        }
        recent.push(t.clone());
    }

    /// Check a tree as `git fsck` would ([`crate::tree_check`]), against the
    /// most recently used tree that starts the same way (the same directory of
    /// the parent commit, usually), re-reading only the entries that differ.
    fn check_tree(&self, id: Oid, data: &Rc<[u8]>) -> Result<crate::tree_check::Offsets> {
        let recent = self.checked_trees.borrow();
        let head = &data[..data.len().min(64)];
        let near = recent.iter().rev().find(|(t, _)| {
            t.len().abs_diff(data.len()) <= data.len() / 8 && t.get(..head.len()) == Some(head)
        });
        let result = match near {
            Some((old, offsets)) => crate::tree_check::check_after(data, old, offsets),
            None => crate::tree_check::check(data),
        };
        result
            .map_err(|why| Error::new(format!("tree {id} is corrupt: {why} (git fsck rejects it)")))
    }

    fn diff_changes(&self, old: &Side, new: &Side, roots: &[&str]) -> Result<Vec<FileChange>> {
        let mut opts = DiffOptions::new();
        opts.include_typechange(true).ignore_submodules(false);
        if !roots.iter().any(|r| r.is_empty()) {
            if roots.is_empty() {
                return Ok(Vec::new());
            }
            opts.disable_pathspec_match(true);
            for r in roots {
                opts.pathspec(*r);
            }
        }
        if *new == Side::Index
            && *old != Side::Index
            && let Some(ents) = self.index_entries()?
        {
            return self.changes_to_index(old, &ents, roots);
        }
        let old_tree = match old {
            Side::Tree(t) => Some(self.tree(t)?),
            Side::Empty => None,
            Side::Index => return Err(Error::new("internal: the index is never a base")),
        };
        let diff = match new {
            Side::Tree(t) => {
                let new_tree = self.tree(t)?;
                self.repo
                    .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut opts))?
            }
            Side::Empty => self
                .repo
                .diff_tree_to_tree(old_tree.as_ref(), None, Some(&mut opts))?,
            Side::Index => {
                let index = self.libgit2_index()?;
                self.repo
                    .diff_tree_to_index(old_tree.as_ref(), Some(&index), Some(&mut opts))?
            }
        };
        let mut out = Vec::new();
        for d in diff.deltas() {
            let entry = |f: git2::DiffFile<'_>| {
                kind(diff_file_mode(&f)).map(|k| Entry {
                    id: hex(f.id()),
                    kind: k,
                })
            };
            let path = |f: git2::DiffFile<'_>| -> Result<String> {
                path_of(
                    f.path_bytes()
                        .ok_or_else(|| Error::new("internal: a change without a path"))?,
                )
            };
            let (old_e, new_e) = match d.status() {
                Delta::Added => (None, entry(d.new_file())),
                Delta::Deleted => (entry(d.old_file()), None),
                Delta::Modified | Delta::Typechange => (entry(d.old_file()), entry(d.new_file())),
                Delta::Unmodified | Delta::Ignored | Delta::Untracked => continue,
                other => {
                    return Err(Error::new(format!(
                        "unexpected change status {other:?} for {}",
                        path(d.new_file())?
                    )));
                }
            };
            let p = if new_e.is_some() {
                path(d.new_file())?
            } else {
                path(d.old_file())?
            };
            out.push(FileChange {
                path: p,
                old: old_e,
                new: new_e,
                renamed_to: None,
            });
        }
        Ok(out)
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
        diff.find_similar(Some(&mut find))?;
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
        if let Some(h) = self.hunk_cache.borrow().get(&key) {
            return Ok(h.clone());
        }
        let hunks = match self.prefetched(old, new) {
            Some((h, _)) => h,
            None => self.compute_hunks(old, new)?,
        };
        let mut cache = self.hunk_cache.borrow_mut();
        if cache.len() > 256 {
            cache.clear();
        }
        cache.insert(key, hunks.clone());
        Ok(hunks)
    }

    fn compute_hunks(&self, old: &str, new: &str) -> Result<Vec<Hunk>> {
        // From blobs, not buffers: libgit2 hashes buffers (SHA-1DC, the larger
        // part of a range check), while blobs carry their ids.
        let find = |id: &str| {
            self.repo
                .find_blob(oid(id)?)
                .map_err(|e| Error::new(format!("cannot read object {id}: {}", e.message())))
        };
        let (old_blob, new_blob) = (find(old)?, find(new)?);
        self.remember_blob(old, old_blob.content());
        self.remember_blob(new, new_blob.content());
        let mut opts = diff_options();
        // An empty path keeps libgit2 from loading .gitattributes (and with them
        // the whole index) to look up a diff driver: guard diffs text as text.
        let none = Some(Path::new(""));
        let patch = git2::Patch::from_blobs(&old_blob, none, &new_blob, none, Some(&mut opts))?;
        let mut out = Vec::with_capacity(patch.num_hunks());
        for i in 0..patch.num_hunks() {
            let (h, _) = patch.hunk(i)?;
            out.push(Hunk {
                old_start: h.old_start(),
                old_lines: h.old_lines(),
                new_start: h.new_start(),
                new_lines: h.new_lines(),
            });
        }
        Ok(out)
    }
}

impl Repo {
    /// Stage the working-tree file at `path` (as `git add path` would).
    /// Forget what was read of the index (it was written by another process).
    pub fn forget_staged(&self) {
        *self.staged.borrow_mut() = None;
    }
}

impl Repo {
    /// Every commit reachable from `to`, oldest first.
    pub fn history(&self, to: &str) -> Result<Vec<ObjectId>> {
        self.walk(to, None)
    }
}

/// A blob's line count never changes (objects are content-addressed), so the
/// counts that manifest validation needs are remembered across runs here. A
/// wrong count could only make a range check stricter or looser at validation;
/// it never decides whether a change touches a zone.
const LINE_COUNTS: &str = "guard/line-counts";

impl Repo {
    pub fn load_line_counts(&self) -> HashMap<String, usize> {
        let path = self.repo.commondir().join(LINE_COUNTS);
        // A cache: unreadable or corrupt lines are recomputed, never trusted.
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (id, n) = l.split_once(' ')?;
                (id.len() == 40).then(|| Some((id.to_string(), n.parse().ok()?)))?
            })
            .collect()
    }

    /// Append `counts` to the cache; failures (a read-only repository) are ignored.
    pub fn save_line_counts(&self, counts: &[(String, usize)]) {
        use std::io::Write;
        if counts.is_empty() {
            return;
        }
        let path = self.repo.commondir().join(LINE_COUNTS);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // Keep the file small: start over past 10,000 entries.
        let fresh = std::fs::metadata(&path).is_ok_and(|m| m.len() > 600_000);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(!fresh)
            .write(true)
            .truncate(fresh)
            .open(&path);
        if let Ok(mut f) = file {
            let text: String = counts.iter().map(|(id, n)| format!("{id} {n}\n")).collect();
            let _ = f.write_all(text.as_bytes());
        }
    }
}

impl Repo {
    /// First-parent commits reachable from `to` and not from `from`, oldest
    /// first, each with its tree and its first parent's tree.
    pub fn first_parent_range(&self, from: &str, to: &str) -> Result<Vec<Step>> {
        self.first_parent_range_with(from, to, &mut |_| {})
    }

    /// A commit's tree and first parent, read from its raw header (a walk
    /// needs nothing else; libgit2's commit objects parse the whole message).
    fn commit_header(&self, id: Oid) -> Result<(Oid, Option<Oid>)> {
        let odb = self.repo.odb()?;
        let obj = odb
            .read(id)
            .map_err(|e| Error::new(format!("cannot read commit {id}: {}", e.message())))?;
        let corrupt = || Error::new(format!("commit {id} is corrupt"));
        if obj.kind() != ObjectType::Commit {
            return Err(Error::new(format!("{id} is not a commit")));
        }
        let data = obj.data();
        let field = |at: usize, name: &[u8]| -> Option<Oid> {
            let hex = data.get(at..)?.strip_prefix(name)?.get(..41)?;
            if hex[40] != b'\n' {
                return None;
            }
            Oid::from_str(std::str::from_utf8(&hex[..40]).ok()?).ok()
        };
        let tree = field(0, b"tree ").ok_or_else(corrupt)?;
        let parent = field(46, b"parent ");
        if parent.is_none() && data.get(46..53) == Some(b"parent ") {
            return Err(corrupt());
        }
        Ok((tree, parent))
    }

    /// A commit's tree and parents, read from its raw header.
    pub fn commit_links(&self, id: &str) -> Result<(ObjectId, Vec<ObjectId>)> {
        let odb = self.repo.odb()?;
        let obj = odb
            .read(oid(id)?)
            .map_err(|e| Error::new(format!("cannot read commit {id}: {}", e.message())))?;
        if obj.kind() != ObjectType::Commit {
            return Err(Error::new(format!("{id} is not a commit")));
        }
        let corrupt = || Error::new(format!("commit {id} is corrupt"));
        let mut lines = obj.data().split(|&b| b == b'\n');
        let hex_of = |line: &[u8], name: &[u8]| -> Option<ObjectId> {
            let digits = line.strip_prefix(name)?;
            let text = std::str::from_utf8(digits).ok()?;
            Oid::from_str(text)
                .ok()
                .filter(|_| digits.len() == 40)
                .map(hex)
        };
        let tree = lines
            .next()
            .and_then(|l| hex_of(l, b"tree "))
            .ok_or_else(corrupt)?;
        let mut parents = Vec::new();
        for line in lines {
            if !line.starts_with(b"parent ") {
                break;
            }
            parents.push(hex_of(line, b"parent ").ok_or_else(corrupt)?);
        }
        Ok((tree, parents))
    }

    /// [`Repo::first_parent_range`], reporting each step to `found` as soon
    /// as it is known (newest first) when the walk follows the chain itself.
    pub fn first_parent_range_with(
        &self,
        from: &str,
        to: &str,
        found: &mut dyn FnMut(&Step),
    ) -> Result<Vec<Step>> {
        // The usual case, `from` on the first-parent chain of `to`: follow the
        // chain, reading each commit once, or only its commit-graph entry.
        let stop = oid(from)?;
        let graph = self.graph();
        let mut chain: Vec<(Oid, Oid, Option<u32>)> = Vec::new(); // (commit, tree, position)
        let mut at = Some(oid(to)?);
        let mut at_pos = graph.and_then(|g| g.position(oid(to).ok()?.as_bytes()));
        while let Some(id) = at {
            if self.shallow.contains(&hex(id)) {
                break;
            }
            let (tree, parent, parent_pos) = match (graph, at_pos) {
                (Some(g), Some(pos)) => {
                    let parent = g.first_parent(pos);
                    let tree = Oid::from_bytes(g.tree(pos))?;
                    let parent_id = parent.map(|p| Oid::from_bytes(g.id(p))).transpose()?;
                    (tree, parent_id, parent)
                }
                _ => {
                    let (tree, parent) = self.commit_header(id)?;
                    let pos = parent.and_then(|p| graph.and_then(|g| g.position(p.as_bytes())));
                    (tree, parent, pos)
                }
            };
            if let Some(&(commit, newer, pos)) = chain.last() {
                found(&Step {
                    id: hex(commit),
                    tree: Side::Tree(hex(newer)),
                    base: Side::Tree(hex(tree)),
                    pos,
                });
            }
            if id == stop {
                let mut out = Vec::with_capacity(chain.len());
                let mut base = Side::Tree(hex(tree));
                for (commit, tree, pos) in chain.into_iter().rev() {
                    let t = Side::Tree(hex(tree));
                    out.push(Step {
                        id: hex(commit),
                        tree: t.clone(),
                        base,
                        pos,
                    });
                    base = t;
                }
                return Ok(out);
            }
            chain.push((id, tree, at_pos.filter(|_| graph.is_some())));
            at = parent;
            at_pos = parent_pos;
        }
        // Otherwise, what git's revision walk says.
        let mut walk = self.repo.revwalk()?;
        walk.simplify_first_parent()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
        walk.push(oid(to)?)?;
        walk.hide(stop)?;
        let ids: Vec<ObjectId> = walk
            .map(|r| {
                r.map(hex)
                    .map_err(|e| Error::context("cannot walk the history", e.message()))
            })
            .collect::<Result<_>>()?;
        ids.into_iter()
            .map(|id| {
                let (tree, parents) = self.trees(&id)?;
                let base = parents.into_iter().next().unwrap_or(Side::Empty);
                Ok(Step {
                    id,
                    tree,
                    base,
                    pos: None,
                })
            })
            .collect()
    }
}

impl Repo {
    /// A commit's tree and its parents' trees (shallow boundary and missing
    /// parents are errors, as for [`Repo::parent_trees`]).
    pub fn trees(&self, id: &str) -> Result<(Side, Vec<Side>)> {
        let c = self.commit(id)?;
        let parents = self.parent_trees(&c)?;
        Ok((Side::Tree(c.tree), parents))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A raw tree object of `entries` (name, is a directory), in git's order.
    fn raw_tree(entries: &[(String, bool)]) -> Vec<u8> {
        let mut sorted: Vec<&(String, bool)> = entries.iter().collect();
        let key = |(n, d): &&(String, bool)| {
            let mut k = n.as_bytes().to_vec();
            if *d {
                k.push(b'/');
            }
            k
        };
        sorted.sort_by_key(key);
        let mut out = Vec::new();
        for (i, (name, dir)) in sorted.iter().enumerate() {
            out.extend_from_slice(if *dir { b"40000 " } else { b"100644 " });
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            out.extend_from_slice(&[i as u8; 20]);
        }
        out
    }

    proptest! {
        /// One pass for many names finds what one search per name finds, and
        /// what a plain scan of the entries finds.
        #[test]
        fn tree_entries_finds_each_name(
            names in proptest::collection::btree_map("[a-c.-]{1,4}", any::<bool>(), 0..20),
            wanted in proptest::collection::vec("[a-c.-]{1,4}", 1..6),
        ) {
            let entries: Vec<(String, bool)> = names.into_iter().collect();
            let data = raw_tree(&entries);
            let mut wanted: Vec<&[u8]> = wanted.iter().map(|w| w.as_bytes()).collect();
            wanted.sort_unstable();
            wanted.dedup();
            let many = tree_entries(&data, &wanted).unwrap();
            for (w, hit) in wanted.iter().zip(&many) {
                prop_assert_eq!(*hit, tree_entries(&data, &[w]).unwrap()[0]);
                let model = entries.iter().any(|(n, _)| n.as_bytes() == *w);
                prop_assert_eq!(hit.is_some(), model);
            }
        }
    }
}
