//! An in-memory [`Store`]: commits, trees and blobs built by a test, so that
//! the rules can be judged without a repository. Object ids are content
//! hashes (not git's): equal content, equal id, as in git.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::listing::{self, Listed};
use super::{CommitInfo, Side, Store, buffer_hunks};
use crate::change::{Entry, FileChange, Hunk, Kind, ObjectId};
use crate::error::{Error, Result};

/// Files by path.
pub type Files = BTreeMap<String, Entry>;

#[derive(Default)]
pub struct Memory {
    blobs: HashMap<ObjectId, Arc<[u8]>>,
    trees: HashMap<ObjectId, Files>,
    commits: HashMap<ObjectId, CommitInfo>,
    /// Commits in the order they were made (parents first).
    order: Vec<ObjectId>,
    /// The index, for [`Side::Index`].
    pub staged: Files,
}

fn id_of(kind: &str, parts: &[&[u8]]) -> ObjectId {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    kind.hash(&mut h);
    parts.hash(&mut h);
    let a = h.finish();
    a.hash(&mut h);
    let b = h.finish();
    format!("{a:016x}{b:016x}{:08x}", (a ^ b) as u32)
}

fn under(path: &str, root: &str) -> bool {
    root.is_empty()
        || path == root
        || (path.starts_with(root) && path.as_bytes().get(root.len()) == Some(&b'/'))
}

impl Memory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Store `data` as a blob; its id.
    pub fn blob(&mut self, data: &[u8]) -> ObjectId {
        let id = id_of("blob", &[data]);
        self.blobs
            .entry(id.clone())
            .or_insert_with(|| Arc::from(data));
        id
    }

    /// A regular file's entry holding `text`.
    pub fn file(&mut self, text: &str) -> Entry {
        Entry {
            id: self.blob(text.as_bytes()),
            kind: Kind::File,
        }
    }

    /// Store a tree of `files`; its id.
    pub fn tree(&mut self, files: Files) -> ObjectId {
        let key: Vec<u8> = files
            .iter()
            .flat_map(|(p, e)| format!("{p}\0{}\0{:?}\n", e.id, e.kind).into_bytes())
            .collect();
        let id = id_of("tree", &[&key]);
        self.trees.entry(id.clone()).or_insert(files);
        id
    }

    /// A tree of regular files with these texts.
    pub fn text_tree(&mut self, files: &[(&str, &str)]) -> ObjectId {
        let files = files
            .iter()
            .map(|(p, t)| (p.to_string(), self.file(t)))
            .collect();
        self.tree(files)
    }

    /// The tree of commit `parent` with `files` (path, text) written over it.
    pub fn commit_tree_files(&mut self, parent: &str, files: &[(&str, &str)]) -> ObjectId {
        let mut all = self
            .commits
            .get(parent)
            .and_then(|c| self.trees.get(&c.tree))
            .cloned()
            .unwrap_or_default();
        for (p, t) in files {
            let e = self.file(t);
            all.insert(p.to_string(), e);
        }
        self.tree(all)
    }

    /// The files of a tree.
    pub fn files_of(&self, tree: &str) -> Result<&Files> {
        self.trees
            .get(tree)
            .ok_or_else(|| Error::new(format!("no tree {tree}")))
    }

    /// Make a commit of `tree` on `parents`; its id.
    pub fn commit_tree(
        &mut self,
        tree: &str,
        parents: &[&str],
        message: &str,
        author_email: &str,
    ) -> ObjectId {
        let mut parts: Vec<&[u8]> = vec![tree.as_bytes(), message.as_bytes()];
        parts.extend(parents.iter().map(|p| p.as_bytes()));
        let n = self.order.len().to_string();
        parts.push(n.as_bytes());
        let id = id_of("commit", &parts);
        self.commits.insert(
            id.clone(),
            CommitInfo {
                id: id.clone(),
                tree: tree.to_string(),
                parents: parents.iter().map(|p| p.to_string()).collect(),
                message: message.to_string(),
                author_name: author_email.split('@').next().unwrap_or("").to_string(),
                author_email: author_email.to_string(),
                time: self.order.len() as i64,
                offset_minutes: 0,
                foreign_encoding: None,
            },
        );
        self.order.push(id.clone());
        id
    }

    fn side(&self, side: &Side) -> Result<Option<&Files>> {
        Ok(match side {
            Side::Empty => None,
            Side::Tree(t) => Some(self.files_of(t)?),
            Side::Index => Some(&self.staged),
        })
    }

    fn listed(&self, side: &Side, roots: &[&str]) -> Result<Vec<Listed<Entry>>> {
        Ok(self
            .side(side)?
            .into_iter()
            .flatten()
            .filter(|(p, _)| roots.iter().any(|r| under(p, r)))
            .map(|(p, e)| (p.as_bytes().to_vec(), e.clone()))
            .collect())
    }

    fn reachable(&self, from: &str) -> Result<HashSet<ObjectId>> {
        let mut seen = HashSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(id) = todo.pop() {
            if seen.insert(id.clone()) {
                todo.extend(self.commit(&id)?.parents);
            }
        }
        Ok(seen)
    }
}

impl Store for Memory {
    fn blob(&self, id: &str) -> Result<Arc<[u8]>> {
        self.blobs
            .get(id)
            .cloned()
            .ok_or_else(|| Error::new(format!("cannot read object {id}")))
    }

    fn entry(&self, side: &Side, path: &str) -> Result<Option<Entry>> {
        Ok(self.side(side)?.and_then(|f| f.get(path)).cloned())
    }

    fn is_dir(&self, side: &Side, path: &str) -> Result<bool> {
        Ok(self
            .side(side)?
            .is_some_and(|f| f.keys().any(|p| p != path && under(p, path))))
    }

    fn changes(&self, old: &Side, new: &Side, roots: &[&str]) -> Result<Vec<FileChange>> {
        listing::changes(&self.listed(old, roots)?, &self.listed(new, roots)?)
    }

    /// An exact rename: the deleted file's content at a path added by the change.
    fn rename_target(&self, old: &Side, new: &Side, path: &str) -> Result<Option<String>> {
        let Some(gone) = self.entry(old, path)? else {
            return Ok(None);
        };
        Ok(self
            .changes(old, new, &[""])?
            .into_iter()
            .find_map(|c| (c.old.is_none() && c.new.as_ref() == Some(&gone)).then_some(c.path)))
    }

    fn hunks(&self, old: &str, new: &str) -> Result<Vec<Hunk>> {
        buffer_hunks(&self.blob(old)?, &self.blob(new)?)
    }

    fn commit(&self, id: &str) -> Result<CommitInfo> {
        self.commits
            .get(id)
            .cloned()
            .ok_or_else(|| Error::new(format!("cannot read commit {id}")))
    }

    fn commit_links(&self, id: &str) -> Result<(ObjectId, Vec<ObjectId>)> {
        let c = self.commit(id)?;
        Ok((c.tree, c.parents))
    }

    fn range(&self, from: &str, to: &str) -> Result<Vec<ObjectId>> {
        let (hidden, shown) = (self.reachable(from)?, self.reachable(to)?);
        Ok(self
            .order
            .iter()
            .filter(|id| shown.contains(*id) && !hidden.contains(*id))
            .cloned()
            .collect())
    }
}
