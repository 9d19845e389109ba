//! Walks of the history: ranges, first-parent chains (through git's
//! commit-graph where git would use it), ancestry, raw commit headers.

use std::path::PathBuf;

use git2::{ObjectType, Oid};

use super::graph::{BloomKey, CommitGraph};
use super::topo;
use super::{Repo, Side, Step, Store, hex, oid};
use crate::change::ObjectId;
use crate::error::{Error, Result};

impl Repo {
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

    /// Does the commit-graph say that nothing under `keys` changed between
    /// the commit at `pos` and its first parent? (`false`: it cannot say.)
    pub fn graph_unchanged(&self, pos: u32, keys: &[BloomKey]) -> bool {
        self.graph().is_some_and(|g| g.unchanged(pos, keys))
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
        let mut hidden = Vec::new();
        let refs = self
            .repo
            .references()
            .map_err(|e| Error::context("cannot list the refs", e.message()))?;
        for r in refs {
            let r = r.map_err(|e| Error::context("cannot read a ref", e.message()))?;
            // A ref that names no commit (a tag of a tree) hides nothing.
            if let Ok(c) = r.peel_to_commit() {
                hidden.push(c.id());
            }
        }
        let tips = tips.iter().map(|t| oid(t)).collect::<Result<Vec<_>>>()?;
        self.topo_walk(&tips, &hidden, false)
    }

    /// Commits reachable from `to` and not from `from`, oldest first.
    pub fn range(&self, from: &str, to: &str) -> Result<Vec<ObjectId>> {
        self.walk(to, Some(from))
    }

    fn walk(&self, to: &str, hide: Option<&str>) -> Result<Vec<ObjectId>> {
        let hidden = hide.map(oid).transpose()?;
        self.topo_walk(&[oid(to)?], hidden.as_slice(), false)
    }

    /// The commits reachable from `tips` and from none of `hidden`, oldest
    /// first, in the order of libgit2's topological walk (see [`super::topo`]),
    /// following only first parents if asked.
    pub(super) fn topo_walk(
        &self,
        tips: &[Oid],
        hidden: &[Oid],
        first_parent: bool,
    ) -> Result<Vec<ObjectId>> {
        let odb = self
            .repo
            .odb()
            .map_err(|e| Error::context("cannot open the object database", e.message()))?;
        let mut read = |id: Oid| self.walk_header(&odb, id);
        let mut walk = topo::Walk::new(first_parent, &mut read);
        for t in tips {
            walk.push(*t);
        }
        for h in hidden {
            walk.hide(*h);
        }
        let ids = walk
            .run()
            .map_err(|e| Error::context("cannot walk the history", e))?;
        Ok(ids.into_iter().map(hex).collect())
    }

    /// Commit `id`'s committer time and parents as libgit2's walk reads
    /// them: from the commit as stored when it is in the form git writes
    /// ([`topo::quick_header`]); otherwise (and at a shallow clone's
    /// boundary, which libgit2 grafts) as libgit2 reads the commit, or the
    /// error it gives. The commit is read through libgit2, whose index
    /// lookups are in memory (guard's pack reader was slower here).
    fn walk_header(
        &self,
        odb: &git2::Odb<'_>,
        id: Oid,
    ) -> std::result::Result<topo::Header, String> {
        let boundary = !self.shallow.is_empty() && self.shallow.contains(&hex(id));
        if !boundary
            && let Ok(o) = odb.read(id)
            && o.kind() == ObjectType::Commit
            && let Some(header) = topo::quick_header(o.data())
        {
            return Ok(header);
        }
        let c = self
            .repo
            .find_commit(id)
            .map_err(|e| format!("cannot read commit {id}: {}", e.message()))?;
        Ok((c.committer().when().seconds(), c.parent_ids().collect()))
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

    /// Every commit reachable from `to`, oldest first.
    pub fn history(&self, to: &str) -> Result<Vec<ObjectId>> {
        self.walk(to, None)
    }

    /// First-parent commits reachable from `to` and not from `from`, oldest
    /// first, each with its tree and its first parent's tree.
    pub fn first_parent_range(&self, from: &str, to: &str) -> Result<Vec<Step>> {
        self.first_parent_range_with(from, to, &mut |_| {})
    }

    /// A commit's tree and first parent, read from its raw header (a walk
    /// needs nothing else; libgit2's commit objects parse the whole message).
    fn commit_header(&self, id: Oid) -> Result<(Oid, Option<Oid>)> {
        crate::work::add(crate::work::Counter::Commits, 1);
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
        crate::work::add(crate::work::Counter::Commits, 1);
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
        // The commit last visited (commit, tree, position), whose step is made
        // once its parent is known: the steps newest first.
        let mut last: Option<(Oid, Oid, Option<u32>)> = None;
        let mut made: Vec<Step> = Vec::new();
        let mut at = Some(oid(to)?);
        let mut at_pos = graph.and_then(|g| g.position(oid(to).ok()?.as_bytes()));
        while let Some(id) = at {
            if !self.shallow.is_empty() && self.shallow.contains(&hex(id)) {
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
            if let Some((commit, newer, pos)) = last {
                let step = Step {
                    id: hex(commit),
                    tree: Side::Tree(hex(newer)),
                    base: Side::Tree(hex(tree)),
                    pos,
                };
                found(&step);
                made.push(step);
            }
            if id == stop {
                made.reverse();
                return Ok(made);
            }
            last = Some((id, tree, at_pos.filter(|_| graph.is_some())));
            at = parent;
            at_pos = parent_pos;
        }
        // Otherwise, what git's revision walk says.
        let ids = self.topo_walk(&[oid(to)?], &[stop], true)?;
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
