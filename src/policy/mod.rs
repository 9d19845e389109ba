//! Zones + sign-offs + invariants → [`Verdict`]. The one place that decides.
//!
//! Judging a change is two steps: gathering its facts through a
//! [`Store`] (which zones it touches and how, where zones move, what the
//! manifest's own change and the invariants say: `touch`, `rules`, `merge`),
//! then [`judge::judge`], pure, which counts sign-offs against them.

use foldhash::{HashMap, HashMapExt};
use std::cell::RefCell;

use crate::change::{self, FileChange, Hunk, Kind};
use crate::error::{Error, Result};
use crate::git::{Side, Store};
use crate::manifest::Manifest;
use crate::manifest::validate::{self, FileState};
use crate::zones;

pub use crate::verdict::{Subject, Touch, TouchedLines, Verdict, Violation, parts, signed_data};
pub use judge::{Facts, judge};

pub mod judge;
mod merge;
pub mod ratify;
mod rules;
mod sides;
#[cfg(test)]
mod tests;
mod touch;

/// Which manifest judges the change.
pub enum BaseManifest {
    /// Read it from the base side at this repository path.
    InBase(String),
    /// The working-tree manifest (HEAD has none and `--manifest` was given).
    Text { text: String, label: String },
    /// A manifest carried forward by the what-if audit: already validated, and
    /// the repository's own manifest file is not judged.
    Carried(Box<Manifest>),
}

/// A change to judge.
pub struct Change {
    pub base: Side,
    pub new: Side,
    /// A merge's other parents' trees.
    pub others: Vec<Side>,
    /// Commit ids of the parents, first parent first, when known (for a merge:
    /// always, so that what each side brings can be walked).
    pub parents: Vec<crate::change::ObjectId>,
}

/// Answers per pair of blobs, by old blob then new blob (looked up without
/// building a key): at most 256 pairs, however they share their old blobs.
struct PairCache<V>(RefCell<HashMap<String, HashMap<String, V>>>);

impl<V> Default for PairCache<V> {
    fn default() -> Self {
        PairCache(RefCell::new(HashMap::new()))
    }
}

impl<V: Copy> PairCache<V> {
    fn get(&self, old: &str, new: &str) -> Option<V> {
        self.0.borrow().get(old)?.get(new).copied()
    }

    fn insert(&self, old: &str, new: &str, value: V) {
        let mut cache = self.0.borrow_mut();
        if cache.values().map(HashMap::len).sum::<usize>() >= 256 {
            cache.clear();
        }
        cache
            .entry(old.to_string())
            .or_default()
            .insert(new.to_string(), value);
    }
}

pub struct Evaluator<'r> {
    pub store: &'r dyn Store,
    pub manifest_path: String,
    line_counts: RefCell<std::collections::HashMap<String, usize>>,
    /// Line counts computed in this run, to remember for the next one.
    new_counts: RefCell<Vec<(String, usize)>>,
    parsed: RefCell<HashMap<String, Manifest>>,
    /// The quick no-diff answer per pair of blobs (see [`zones::quick`]).
    /// By old blob, then new blob: looked up without building a key.
    quicks: PairCache<Option<zones::Quick>>,
    /// The leading lines no hunk can reach, per pair of (text) blobs (see
    /// [`zones::settled`]), kept as the quick answers are.
    settled: PairCache<usize>,
    /// The last pair of blobs tested for binary content, and the answer
    /// (every zone of a changed file asks it of the same pair).
    last_binary: RefCell<Option<(String, String, bool)>>,
    /// The line index of the blobs last cut into touched lines (an old and
    /// a new side: every zone of a file cuts the same two).
    line_index: RefCell<Vec<(String, std::rc::Rc<crate::change::Lines>)>>,
    /// Judging a commit a merge brings, only for its consent: the touched
    /// lines' text (for a report) is not cut.
    quiet: std::cell::Cell<bool>,
    merges: sides::Cache,
    /// The checked range's commits, when a range is checked.
    ancestry: Option<std::sync::Arc<crate::ancestry::Ancestry>>,
}

impl Drop for Evaluator<'_> {
    fn drop(&mut self) {
        self.store.save_line_counts(&self.new_counts.borrow());
    }
}

impl<'r> Evaluator<'r> {
    pub fn new(store: &'r dyn Store, manifest_path: String) -> Self {
        Evaluator {
            store,
            manifest_path,
            line_counts: RefCell::new(std::collections::HashMap::new()),
            new_counts: RefCell::new(Vec::new()),
            parsed: RefCell::new(HashMap::new()),
            quicks: PairCache::default(),
            settled: PairCache::default(),
            last_binary: RefCell::new(None),
            line_index: RefCell::new(Vec::new()),
            quiet: std::cell::Cell::new(false),
            merges: sides::Cache::default(),
            ancestry: None,
        }
    }

    /// Judge with the checked range's commits at hand (see [`crate::ancestry`]).
    pub fn with_ancestry(
        mut self,
        ancestry: Option<std::sync::Arc<crate::ancestry::Ancestry>>,
    ) -> Self {
        self.ancestry = ancestry;
        self
    }

    pub(super) fn lines_of(&self, id: &str) -> Result<usize> {
        if self.line_counts.borrow().is_empty() {
            *self.line_counts.borrow_mut() = self.store.load_line_counts();
        }
        if let Some(&n) = self.line_counts.borrow().get(id) {
            return Ok(n);
        }
        let n = change::count_lines(&self.store.blob(id)?);
        self.line_counts.borrow_mut().insert(id.to_string(), n);
        self.new_counts.borrow_mut().push((id.to_string(), n));
        Ok(n)
    }

    /// Whether either of two blobs is binary (git's test), decided before
    /// any diff: a binary file is never diffed.
    pub(super) fn binary(&self, old: &str, new: &str) -> Result<bool> {
        if let Some((_, binary)) = self.store.prefetched(old, new) {
            return Ok(binary);
        }
        if self.store.undiffed(old, new).is_some() {
            return Ok(false);
        }
        if let Some((o, n, binary)) = &*self.last_binary.borrow()
            && o == old
            && n == new
        {
            return Ok(*binary);
        }
        let binary = crate::change::is_binary(&self.store.blob(old)?)
            || crate::change::is_binary(&self.store.blob(new)?);
        *self.last_binary.borrow_mut() = Some((old.to_string(), new.to_string(), binary));
        Ok(binary)
    }

    /// [`zones::quick`] for a pair of blobs, computed once.
    pub(super) fn quick(&self, old: &str, new: &str) -> Result<Option<zones::Quick>> {
        if let Some(q) = self.quicks.get(old, new) {
            return Ok(q);
        }
        let q = match self.store.undiffed(old, new) {
            Some((q, _)) => q,
            None => zones::quick(&self.store.blob(old)?, &self.store.blob(new)?),
        };
        self.quicks.insert(old, new, q);
        Ok(q)
    }

    /// Whether a change of blob `old` to `new` leaves the zone lines `r`
    /// untouched, and by how many lines they move, found without a diff:
    /// [`zones::quick`], then for a zone within the lines both blobs begin
    /// with, the lines no hunk can reach ([`zones::settled`]; text only: a
    /// binary file is never diffed).
    pub(super) fn outside(
        &self,
        old: &str,
        new: &str,
        r: crate::manifest::LineRange,
    ) -> Result<Option<i64>> {
        zones::without_diff(self.quick(old, new)?, r, || {
            if self.binary(old, new)? {
                return Ok(0);
            }
            self.settled_lines(old, new)
        })
    }

    fn settled_lines(&self, old: &str, new: &str) -> Result<usize> {
        if let Some(m) = self.settled.get(old, new) {
            return Ok(m);
        }
        let m = match self.store.undiffed(old, new) {
            Some((_, Some(m))) => m,
            _ => crate::git::settled_lines(&self.store.blob(old)?, &self.store.blob(new)?),
        };
        self.settled.insert(old, new, m);
        Ok(m)
    }

    pub(super) fn file_state(&self, side: &Side, path: &str) -> Result<FileState> {
        match self.store.entry(side, path)? {
            Some(e) if matches!(e.kind, Kind::File | Kind::Executable) => {
                Ok(FileState::Lines(self.lines_of(&e.id)?))
            }
            Some(_) => Ok(FileState::NotAFile),
            None if self.store.is_dir(side, path)? => Ok(FileState::NotAFile),
            None => Ok(FileState::Missing),
        }
    }

    pub(super) fn side_label(side: &Side, what: &str) -> String {
        match side {
            Side::Index => format!("{what} (staged)"),
            Side::Tree(t) => format!("{what} (in tree {})", &t[..t.len().min(10)]),
            Side::Empty => what.to_string(),
        }
    }

    /// Parse manifest text and validate it against the files of `side`.
    pub fn validate(&self, text: &str, label: &str, side: &Side) -> Result<Manifest> {
        let manifest = validate::parse(text, label).map_err(|e| Error::new(e.to_string()))?;
        validate::check_files(&manifest, text, label, |p| self.file_state(side, p))?
            .map_err(|e| Error::new(e.to_string()))?;
        Ok(manifest)
    }

    /// The claims in force at `base`: a claims file there that does not
    /// parse is an error (the change cannot be judged).
    fn base_claims(&self, base: &Side) -> Result<Vec<crate::claims::Claim>> {
        match self.claims_at(base)? {
            Some(Ok(c)) => Ok(c),
            Some(Err(why)) => Err(Error::new(format!(
                "{}: {why}",
                Self::side_label(base, crate::claims::PATH)
            ))),
            None => Ok(Vec::new()),
        }
    }

    /// The claims file of `side`, if any: its claims, or why it does not parse.
    fn claims_at(
        &self,
        side: &Side,
    ) -> Result<Option<std::result::Result<Vec<crate::claims::Claim>, String>>> {
        let Some(entry) = self.store.entry(side, crate::claims::PATH)? else {
            return Ok(None);
        };
        let bytes = self.store.blob(&entry.id)?;
        Ok(Some(
            std::str::from_utf8(&bytes)
                .map_err(|_| "not UTF-8".to_string())
                .and_then(crate::claims::parse),
        ))
    }

    /// The manifest at the manifest path of `side`, if any: its blob id and
    /// text.
    pub(super) fn manifest_at(&self, side: &Side) -> Result<Option<(String, String)>> {
        let Some(entry) = self.store.entry(side, &self.manifest_path)? else {
            return Ok(None);
        };
        let text = self.manifest_text(side, &entry.id)?;
        Ok(Some((entry.id, text)))
    }

    fn manifest_text(&self, side: &Side, id: &str) -> Result<String> {
        let bytes = self.store.blob(id)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| {
            Error::new(format!(
                "{}: the manifest is not UTF-8",
                Self::side_label(side, &self.manifest_path)
            ))
        })
    }

    /// Manifest blob `id` (`text`, or read from `side` when `None`) parsed,
    /// not file-checked; parsed once per blob while it stays in the cache.
    fn parsed_blob(&self, side: &Side, id: &str, text: Option<&str>) -> Result<Manifest> {
        if let Some(m) = self.parsed.borrow().get(id) {
            return Ok(m.clone());
        }
        let read;
        let text = match text {
            Some(t) => t,
            None => {
                read = self.manifest_text(side, id)?;
                &read
            }
        };
        let label = Self::side_label(side, &self.manifest_path);
        let m = validate::parse(text, &label).map_err(|e| Error::new(e.to_string()))?;
        let mut cache = self.parsed.borrow_mut();
        if cache.len() > 64 {
            cache.clear();
        }
        cache.insert(id.to_string(), m.clone());
        Ok(m)
    }

    /// The manifest in force at `side`, one a commit was judged by. Its
    /// absence, or a manifest that no longer parses, cannot be: that commit
    /// would not have been judged by rules.
    pub(super) fn manifest_judged_by(&self, side: &Side) -> Result<Manifest> {
        let Some(entry) = self.store.entry(side, &self.manifest_path)? else {
            return Err(Error::new(format!(
                "internal: {} is missing, yet a commit was judged by it",
                Self::side_label(side, &self.manifest_path)
            )));
        };
        self.parsed_blob(side, &entry.id, None)
    }

    /// The manifest in force for a change whose base is `base`.
    pub fn base_manifest(&self, base: &Side, which: &BaseManifest) -> Result<Option<Manifest>> {
        match which {
            BaseManifest::Text { text, label } => Ok(Some(self.validate(text, label, base)?)),
            BaseManifest::Carried(m) => Ok(Some((**m).clone())),
            BaseManifest::InBase(path) => {
                debug_assert_eq!(path, &self.manifest_path);
                // A tree does not change: what was found in force at it
                // stays so (the index may, between a fix and a check).
                let tree = match base {
                    Side::Tree(t) => Some(t),
                    Side::Empty | Side::Index => None,
                };
                // The manifest last found in force at a tree, file-checked:
                // every question a change asks of its base asks it again, and
                // a hook asks it of two evaluators (the fix, the check). A tree
                // id names its files' bytes, in any repository.
                thread_local! {
                    static IN_FORCE: RefCell<Option<(String, String, Option<Manifest>)>> =
                        const { RefCell::new(None) };
                }
                if let Some(t) = tree {
                    let hit = IN_FORCE.with(|memo| match &*memo.borrow() {
                        Some((at, path, m)) if at == t && *path == self.manifest_path => {
                            Some(m.clone())
                        }
                        _ => None,
                    });
                    if let Some(m) = hit {
                        return Ok(m);
                    }
                }
                let found = self.base_manifest_read(base)?;
                if let Some(t) = tree {
                    let kept = (t.clone(), self.manifest_path.clone(), found.clone());
                    IN_FORCE.with(|memo| *memo.borrow_mut() = Some(kept));
                }
                Ok(found)
            }
        }
    }

    /// The manifest in force at `base` read, parsed and checked against
    /// `base`'s files.
    fn base_manifest_read(&self, base: &Side) -> Result<Option<Manifest>> {
        let Some((id, text)) = self.manifest_at(base)? else {
            return Ok(None);
        };
        let label = Self::side_label(base, &self.manifest_path);
        let manifest = self.parsed_blob(base, &id, Some(&text))?;
        // The files are checked against every base: they change.
        validate::check_files(&manifest, &text, &label, |p| self.file_state(base, p))?
            .map_err(|e| Error::new(e.to_string()))?;
        Ok(Some(manifest))
    }

    /// Judge one change: gather its facts, then [`judge`] them.
    pub fn evaluate(
        &self,
        subject: Subject,
        which: &BaseManifest,
        change: &Change,
    ) -> Result<Verdict> {
        let Some(manifest) = self.base_manifest(&change.base, which)? else {
            return Ok(Verdict::without_rules(
                subject,
                format!(
                    "no {} in force before this change: no rules apply",
                    self.manifest_path
                ),
            ));
        };
        let facts = self.gather(&manifest, which, change, subject.time)?;
        judge(&manifest, subject, facts)
    }

    /// What `change` does under `manifest`: `None` when it changes nothing
    /// under any zone, invariant or the manifest.
    pub fn gather(
        &self,
        manifest: &Manifest,
        which: &BaseManifest,
        change: &Change,
        subject_time: i64,
    ) -> Result<Option<Facts>> {
        // A merge is judged on everything it brings to its first parent; what a
        // side carries with consent is sorted out per touch (contract section 4).
        let changes = self.changes(manifest, change)?;
        if changes.is_empty() {
            return Ok(None);
        }
        let mut facts = Facts {
            changed: changes.iter().map(|c| c.path.clone()).collect(),
            manifest_path: self.manifest_path.clone(),
            merge: !change.others.is_empty(),
            day: crate::claims::day_of_time(subject_time).min(crate::claims::today()),
            ..Facts::default()
        };
        // The claims in force: read only where a rule can use them (a range
        // of commits that touch no zone never reads them).
        let claims_changed = changes.iter().any(|c| c.path == crate::claims::PATH);
        let manifest_changed = changes.iter().any(|c| c.path == self.manifest_path);
        if facts.merge {
            facts.claims = self.base_claims(&change.base)?;
        }
        // A freeze and a claim apply to every zone change a merge brings,
        // carried by a side or not.
        let freeze = manifest.policy.freeze.as_ref();
        let claimed = |id: &str| crate::claims::in_force(&facts.claims, id, facts.day).is_some();
        if !change.others.is_empty() {
            let plain = Change {
                base: change.base.clone(),
                new: change.new.clone(),
                others: Vec::new(),
                parents: Vec::new(),
            };
            let mut cache = HashMap::new();
            let mut found = Vec::new();
            for zone in manifest
                .zones
                .iter()
                .filter(|z| freeze.is_some_and(|f| f.covers(&z.id)) || claimed(&z.id))
            {
                for c in changes.iter().filter(|c| zone.path.matches(&c.path)) {
                    if self.touch(zone, manifest, c, &plain, &mut cache)?.is_some() {
                        found.push(zone.id.clone());
                    }
                }
            }
            facts.merge_touches = found;
        }
        let mut hunk_cache: HashMap<String, Vec<Hunk>> = HashMap::new();
        for zone in manifest.zones.iter() {
            for c in changes.iter().filter(|c| zone.path.matches(&c.path)) {
                if let Some(t) = self.touch(zone, manifest, c, change, &mut hunk_cache)? {
                    facts.touched.push(t);
                }
            }
        }
        let expected = self.expectations(manifest, change, &changes, &mut hunk_cache)?;
        // The manifest guards itself.
        if !matches!(which, BaseManifest::Carried(_)) {
            self.judge_manifest(manifest, change, &changes, &expected, &mut facts)?;
        }
        facts.invariants = self.invariants(manifest, &changes)?;
        if !facts.merge && (claims_changed || manifest_changed || !facts.touched.is_empty()) {
            facts.claims = self.base_claims(&change.base)?;
        }
        if claims_changed {
            match self.claims_at(&change.new)? {
                Some(Ok(c)) => facts.claims_after = Some(c),
                None => facts.claims_after = Some(Vec::new()),
                // The change writes claims that do not parse: a violation of
                // it (the claims in force are fine).
                Some(Err(why)) => facts.manifest.push(Violation::InvalidManifest {
                    file: crate::claims::PATH.to_string(),
                    errors: why,
                }),
            }
        }
        Ok(Some(facts))
    }

    /// The file changes that can matter to `manifest`: zones, invariants, itself.
    pub fn changes(&self, manifest: &Manifest, change: &Change) -> Result<Vec<FileChange>> {
        self.store
            .changes(&change.base, &change.new, &self.roots(manifest))
    }

    /// The paths under which a change can matter to `manifest`: its zones and
    /// invariants, the manifest itself, the claims. (A prefetching thread must
    /// look changes up under exactly these to be of use.)
    pub fn roots<'a>(&'a self, manifest: &'a Manifest) -> Vec<&'a str> {
        let mut roots = manifest.roots();
        roots.push(&self.manifest_path);
        roots.push(crate::claims::PATH);
        roots
    }

    /// Judge one commit against its first parent, by the manifest in its first
    /// parent; a merge by what it brings (contract section 4).
    pub fn judge_commit(&self, id: &str) -> Result<Verdict> {
        let verdict = self.judge_commit_uncached(id);
        self.remember(id, &verdict);
        verdict
    }

    /// A branch update `old` → `new` judged as a merge of `new` into `old`
    /// with no message (so no sign-offs): everything the update brings to the
    /// branch must be carried by commits that had the old value's consent.
    /// Not remembered: it is no commit's verdict.
    pub fn judge_update(&self, name: &str, old: &str, new: &str) -> Result<Verdict> {
        let (o, n) = (self.store.commit(old)?, self.store.commit(new)?);
        let subject = Subject {
            commit: Some(n.id.clone()),
            subject: format!("update of {name} from {}", &old[..old.len().min(10)]),
            message: String::new(),
            author_email: String::new(),
            update: Some(name.to_string()),
            time: n.time,
        };
        let change = Change {
            base: Side::Tree(o.tree),
            new: Side::Tree(n.tree.clone()),
            others: vec![Side::Tree(n.tree)],
            parents: vec![old.to_string(), new.to_string()],
        };
        self.evaluate(
            subject,
            &BaseManifest::InBase(self.manifest_path.clone()),
            &change,
        )
    }

    fn judge_commit_uncached(&self, id: &str) -> Result<Verdict> {
        let dag = self.ancestry.as_deref();
        let c = match dag.and_then(|d| d.take_commit(id)) {
            Some(c) => c,
            None => self.store.commit(id)?,
        };
        let mut trees = self
            .store
            .parent_trees_with(&c, &|p| dag.and_then(|d| d.tree_of(p)).map(str::to_string))?;
        let base = if trees.is_empty() {
            Side::Empty
        } else {
            trees.remove(0)
        };
        let subject = Subject {
            commit: Some(c.id.clone()),
            subject: c.subject().to_string(),
            message: c.message.clone(),
            author_email: c.author_email.clone(),
            update: None,
            time: c.time,
        };
        let change = Change {
            base,
            new: Side::Tree(c.tree.clone()),
            others: trees,
            parents: c.parents.clone(),
        };
        let mut verdict = self.evaluate(
            subject,
            &BaseManifest::InBase(self.manifest_path.clone()),
            &change,
        )?;
        if let Some(encoding) = &c.foreign_encoding {
            verdict.notes.push(format!(
                "the message declares encoding {encoding:?}, which git re-encodes to show it: \
                 guard reads trailers only in UTF-8 messages, so none were read (commit \
                 without i18n.commitEncoding)"
            ));
        }
        Ok(verdict)
    }

    /// The manifest at the manifest path of `side`, parsed (not file-checked);
    /// `None` when absent or when it does not parse.
    pub(super) fn parsed_manifest_at(&self, side: &Side) -> Result<Option<Manifest>> {
        let Some((_, text)) = self.manifest_at(side)? else {
            return Ok(None);
        };
        Ok(validate::parse(&text, &self.manifest_path).ok())
    }
}
