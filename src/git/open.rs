//! Opening the repository as git would, and what is read of it as a whole:
//! configuration, HEAD, revisions, commits.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Once;

use git2::{ObjectType, Oid, Repository};

use super::cache::Bounded;
use super::{BLOB_CACHE_BYTES, CommitInfo, Repo, Side, TREE_CACHE_BYTES, hex, oid};
use crate::change::ObjectId;
use crate::error::{Error, Result};

/// libgit2's caches, bounded: blobs up to 4 MiB are kept (a staged check
/// reads its old blob twice, once for guard and once for the diff), up to
/// 16 MiB of objects in all, and at most 32 MiB of pack windows mapped
/// (resident), in 8 MiB windows.
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
fn replace_ref(repo: &Repository, base: &str) -> Result<Option<String>> {
    let common = repo.commondir();
    let files = common.join(base);
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
            Ok(data) => Ok(
                memchr::memmem::find(&data, format!(" {base}/").as_bytes()).map(|at| {
                    let line = &data[at + 1..];
                    let end = memchr::memchr(b'\n', line).unwrap_or(line.len());
                    String::from_utf8_lossy(&line[..end]).into_owned()
                }),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::context("cannot read packed-refs", e)),
        };
    }
    let refs = repo
        .references_glob(&format!("{base}/*"))
        .map_err(|e| Error::context(format!("cannot list {base}/"), e.message()))?;
    Ok(refs.into_iter().next().map(|r| {
        r.map(|r| String::from_utf8_lossy(r.name_bytes()).into_owned())
            .unwrap_or_else(|_| format!("{base}/…"))
    }))
}

fn refuse_replacements(repo: &Repository) -> Result<()> {
    // git reads the grafts of GIT_GRAFT_FILE, when set (a relative path from
    // the top of the work tree, where git runs; from the current directory
    // too, to be sure), and replacement refs under GIT_REPLACE_REF_BASE.
    let graft_files = match std::env::var_os("GIT_GRAFT_FILE") {
        Some(file) if !file.is_empty() => {
            let file = std::path::PathBuf::from(file);
            let mut files = vec![file.clone()];
            if file.is_relative() {
                // git runs from the top of the work tree, or the git
                // directory of a bare repository.
                files.push(repo.workdir().unwrap_or(repo.path()).join(&file));
            }
            files
        }
        _ => vec![repo.commondir().join("info/grafts")],
    };
    for grafts in graft_files {
        if std::fs::metadata(&grafts).is_ok_and(|m| m.len() > 0) {
            return Err(Error::new(format!(
                "{} exists: git reads grafted parents that guard would not; remove the \
                 grafts (git replace --convert-graft-file) and the resulting replacement refs",
                grafts.display()
            )));
        }
    }
    // Configuration given in the environment (which libgit2 does not read)
    // could turn replacements back on: then only GIT_NO_REPLACE_OBJECTS counts.
    let config_in_env = std::env::var_os("GIT_CONFIG_PARAMETERS").is_some()
        || std::env::var_os("GIT_CONFIG_COUNT").is_some();
    let ignored = std::env::var_os("GIT_NO_REPLACE_OBJECTS").is_some()
        || (!config_in_env
            && repo
                .config()
                .and_then(|c| c.get_bool("core.useReplaceRefs"))
                .is_ok_and(|v| !v));
    if ignored {
        return Ok(());
    }
    let found = match std::env::var_os("GIT_REPLACE_REF_BASE") {
        Some(base) => replace_ref_under(repo, &base)?,
        None => replace_ref(repo, "refs/replace")?,
    };
    if let Some(name) = found {
        return Err(Error::new(format!(
            "the repository has replacement objects ({name}): git reads them in place of \
             the originals and guard would not; remove them (git replace -d) or set \
             GIT_NO_REPLACE_OBJECTS=1 so that git and guard read the same objects"
        )));
    }
    Ok(())
}

/// Would git read ref `name` as a replacement, on this machine or on one
/// that reads this repository otherwise: any ref under `refs/replace/`, and
/// under `GIT_REPLACE_REF_BASE` one whose last part starts with an id (as
/// [`replace_ref_under`] reads them).
pub fn names_a_replacement(name: &[u8]) -> bool {
    if name.starts_with(b"refs/replace/") {
        return true;
    }
    let Some(base) = std::env::var_os("GIT_REPLACE_REF_BASE") else {
        return false;
    };
    #[cfg(unix)]
    let base = std::os::unix::ffi::OsStrExt::as_bytes(base.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let base = base.to_string_lossy().into_owned().into_bytes();
    let Some(rest) = name.strip_prefix(&base[..]) else {
        return false;
    };
    let last = rest.rsplit(|&b| b == b'/').next().unwrap_or(rest);
    last.len() >= 40 && last[..40].iter().all(u8::is_ascii_hexdigit)
}

/// A ref git reads as a replacement under `GIT_REPLACE_REF_BASE`: git takes
/// the base as a plain prefix of ref names, in bytes (an empty one matches
/// every ref), and the part after the name's last `/` as the replaced
/// object's id.
fn replace_ref_under(repo: &Repository, base: &std::ffi::OsStr) -> Result<Option<String>> {
    #[cfg(unix)]
    let base = std::os::unix::ffi::OsStrExt::as_bytes(base).to_vec();
    #[cfg(not(unix))]
    let base = base.to_string_lossy().into_owned().into_bytes();
    let refs = repo
        .references()
        .map_err(|e| Error::context("cannot list the repository's refs", e.message()))?;
    for r in refs {
        let r = r.map_err(|e| Error::context("cannot list the repository's refs", e.message()))?;
        let Some(rest) = r.name_bytes().strip_prefix(&base[..]) else {
            continue;
        };
        // git reads the id with get_oid_hex: the first 40 hex digits of the
        // name's last part, whatever follows them.
        let last = rest.rsplit(|&b| b == b'/').next().unwrap_or(rest);
        if last.len() >= 40 && last[..40].iter().all(u8::is_ascii_hexdigit) {
            return Ok(Some(String::from_utf8_lossy(r.name_bytes()).into_owned()));
        }
    }
    Ok(None)
}

/// For long walks (a range of commits): trees and blobs are read by guard's
/// own pack reader (see [`super::pack`]), libgit2 keeps no blobs and maps at
/// most 8 MiB of packs (it reads commits only: its 32 MiB of windows were a
/// tenth of a 10,000-commit range's peak memory).
///
/// Call it before starting any thread: libgit2's options are globals.
#[allow(unsafe_code)]
pub fn for_long_walks() {
    tune();
    LONG_WALKS.store(true, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: called from the one thread that uses libgit2 at that moment
    // (see above); the option only changes what later reads keep.
    unsafe {
        let _ = git2::opts::set_cache_object_limit(ObjectType::Blob, 0);
        let _ = git2::opts::set_mwindow_mapped_limit(8 << 20);
    }
}

/// Set by [`for_long_walks`]: trees and blobs are read from packs by guard's own reader.
static LONG_WALKS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// libgit2's global options, set once before any repository is opened.
fn tune() {
    static TUNE: Once = Once::new();
    TUNE.call_once(|| {
        // git does not re-hash objects on read either: they were verified when fetched.
        git2::opts::strict_hash_verification(false);
        cache_blobs();
    });
}

impl Repo {
    /// Open the repository as git would from the environment (`GIT_DIR`,
    /// `GIT_INDEX_FILE`, …) or by discovery from the current directory.
    pub fn open() -> Result<Repo> {
        tune();
        let repo = Repository::open_from_env().map_err(|e| {
            Error::new(format!(
                "not a git repository (or any parent up to the root): {}",
                e.message()
            ))
        })?;
        Self::wrap(repo)
    }

    /// Open the repository at `path` (for tests that hold guard's readers to
    /// git's: the environment is the process's, shared by every test).
    pub fn open_at(path: &Path) -> Result<Repo> {
        tune();
        let repo = Repository::open(path).map_err(|e| {
            Error::new(format!(
                "not a git repository: {}: {}",
                path.display(),
                e.message()
            ))
        })?;
        Self::wrap(repo)
    }

    fn wrap(repo: Repository) -> Result<Repo> {
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
            blobs: Bounded::weighed(BLOB_CACHE_BYTES, |b| b.len()),
            staged: RefCell::new(None),
            hunk_cache: Bounded::entries(256),
            raw_trees: Bounded::weighed(TREE_CACHE_BYTES, super::tree_weight),
            checked_trees: RefCell::new(Vec::new()),
            path_cache: Bounded::entries(4096),
            config: std::cell::OnceCell::new(),
            graph: std::cell::OnceCell::new(),
            worktree: RefCell::new(std::collections::HashMap::new()),
            entries_paths: RefCell::new(Vec::new()),
            entries_cache: Bounded::entries(64),
            shared: RefCell::new(None),
            prefetched: Bounded::entries(256),
            #[cfg(unix)]
            packs: std::cell::OnceCell::new(),
        })
    }

    /// Object `id` read by guard's own pack reader, in long walks (see
    /// [`super::pack`]); `None`: read it with libgit2.
    pub(super) fn packed(&self, id: Oid) -> Result<Option<(ObjectType, std::sync::Arc<[u8]>)>> {
        #[cfg(unix)]
        if LONG_WALKS.load(std::sync::atomic::Ordering::Relaxed) {
            let packs = self.packs.get_or_init(|| {
                let packs = super::pack::Packs::of(&self.repo.commondir().join("objects"));
                if packs.is_some() {
                    // What is read is kept in the packs' cache, shared by the
                    // threads: each thread keeps a little for itself.
                    self.blobs.set_budget(super::PACKED_BLOB_CACHE_BYTES);
                    self.raw_trees.set_budget(super::PACKED_TREE_CACHE_BYTES);
                }
                packs
            });
            return match packs.as_ref() {
                Some(packs) => packs.read(id).map_err(Error::new),
                None => Ok(None),
            };
        }
        let _ = id;
        Ok(None)
    }

    pub fn workdir(&self) -> Result<&Path> {
        self.repo
            .workdir()
            .ok_or_else(|| Error::new("this command needs a work tree (the repository is bare)"))
    }

    pub fn is_bare(&self) -> bool {
        self.repo.is_bare()
    }

    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// A config value as git reads it. A config git could not read either (a
    /// malformed file, a value that is not a string) is an error, not a default.
    pub fn config_string(&self, key: &str) -> Result<Option<String>> {
        let config = match self.config.get() {
            Some(c) => c,
            None => {
                let c = self
                    .repo
                    .config()
                    .and_then(|mut c| c.snapshot())
                    .map_err(|e| Error::context("cannot read git's configuration", e.message()))?;
                self.config.get_or_init(|| c)
            }
        };
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
        crate::work::add(crate::work::Counter::Commits, 1);
        let c = self
            .repo
            .find_commit(oid(id)?)
            .map_err(|e| Error::new(format!("cannot read commit {id}: {}", e.message())))?;
        let author = c.author();
        // An `encoding` header other than UTF-8; any of them, where git reads
        // the first and libgit2 the last.
        let foreign_encoding = c
            .raw_header_bytes()
            .split(|&b| b == b'\n')
            .filter_map(|l| l.strip_prefix(b"encoding "))
            .find(|e| !super::is_utf8_name(e))
            .map(|e| String::from_utf8_lossy(e).into_owned());
        let mut message = String::from_utf8_lossy(c.message_raw_bytes()).into_owned();
        if foreign_encoding.is_some() {
            // What git shows of it depends on iconv: guard reads no trailer.
            let subject = message.lines().next().unwrap_or("").len();
            message.truncate(subject);
        }
        Ok(CommitInfo {
            id: id.to_string(),
            tree: hex(c.tree_id()),
            parents: c.parent_ids().map(hex).collect(),
            message,
            author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            time: author.when().seconds(),
            offset_minutes: author.when().offset_minutes(),
            foreign_encoding,
        })
    }

    /// git's common directory (shared by worktrees).
    pub fn common_dir(&self) -> &Path {
        self.repo.commondir()
    }
}
