//! Zones + sign-offs + invariants → [`Verdict`]. The one place that decides.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Serialize;

use crate::change::{self, FileChange, Hunk, Kind};
use crate::error::{Error, Result};
use crate::git::{Side, Store};
use crate::manifest::compare::{self, Comparison, Expected, Stale};
use crate::manifest::validate::{self, FileState};
use crate::manifest::{LineRange, MANIFEST_ZONE, Manifest, PathSpec, Zone};
use crate::signoff::{self, Signoffs};
use crate::trailers;
use crate::zones;

mod merge;

/// The change being judged: who and what.
#[derive(Debug, Clone, Serialize)]
pub struct Subject {
    /// "staged", or the full commit id.
    pub commit: Option<String>,
    pub subject: String,
    #[serde(skip)]
    pub message: String,
    pub author_email: String,
    /// For a ref update judged by the server hook: the ref.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
}

impl Subject {
    pub fn label(&self) -> String {
        if let (Some(_), Some(id)) = (&self.update, &self.commit) {
            return format!("{} to {}", self.subject, &id[..id.len().min(10)]);
        }
        match &self.commit {
            Some(id) => format!("commit {} ({})", &id[..id.len().min(10)], self.subject),
            None => "staged change".to_string(),
        }
    }
}

/// Lines of a file a change touched, with their text before and after.
#[derive(Debug, Clone, Serialize)]
pub struct TouchedLines {
    pub old: Option<LineRange>,
    pub new: Option<LineRange>,
    pub old_text: Vec<String>,
    pub new_text: Vec<String>,
}

/// A zone the change touches.
#[derive(Debug, Clone, Serialize)]
pub struct Touch {
    pub zone: String,
    pub reason: String,
    pub file: String,
    pub lines: Option<LineRange>,
    pub threshold: u32,
    /// "lines modified", "file deleted", "manifest weakened", …
    pub how: String,
    pub hunks: Vec<TouchedLines>,
    /// For the manifest zone: each weakening.
    pub details: Vec<String>,
    /// What a signed sign-off over this touch approves (contract section 7).
    #[serde(skip)]
    pub bound: crate::digest::Part,
    /// For a merge: why this touch is the merge's own (not carried by a side).
    #[serde(rename = "merge_own", skip_serializing_if = "Option::is_none")]
    pub own: Option<crate::merge::Own>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Violation {
    InsufficientSignoffs {
        zone: String,
        needed: u32,
        counted: u32,
        /// Instances whose sign-off would still count.
        candidates: Vec<String>,
        trailer: String,
    },
    StaleZone(Stale),
    Invariant {
        file: String,
        rule: String,
        pattern: String,
        line: Option<usize>,
        text: Option<String>,
        reason: String,
    },
    MissingAuditTrailer {
        trailer: String,
    },
    /// The change writes a manifest that does not parse or validate.
    InvalidManifest {
        file: String,
        /// Every problem, each with its file, line and column.
        errors: String,
    },
}

impl Violation {
    pub fn code(&self) -> &'static str {
        match self {
            Violation::InsufficientSignoffs { .. } => "insufficient-signoffs",
            Violation::StaleZone(_) => "stale-zone",
            Violation::Invariant { .. } => "invariant",
            Violation::MissingAuditTrailer { .. } => "missing-audit-trailer",
            Violation::InvalidManifest { .. } => "invalid-manifest",
        }
    }
}

/// The judgment of one change.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    #[serde(flatten)]
    pub subject: Subject,
    /// False when no manifest was in force: no rules, a pass.
    pub rules: bool,
    pub touched: Vec<Touch>,
    pub signoffs: Signoffs,
    pub violations: Vec<Violation>,
    pub manifest_change: Option<Comparison>,
    pub notes: Vec<String>,
    /// Zone ids of the manifest in force (what a merge's consent rule asks of
    /// the commits a side brings).
    #[serde(skip)]
    pub zone_ids: Vec<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

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

/// The manifest in force for a change, validated against its files, with its text.
pub struct Loaded {
    pub manifest: Manifest,
    pub path: String,
}

pub struct Evaluator<'r> {
    pub store: &'r dyn Store,
    pub manifest_path: String,
    line_counts: RefCell<HashMap<String, usize>>,
    /// Line counts computed in this run, to remember for the next one.
    new_counts: RefCell<Vec<(String, usize)>>,
    parsed: RefCell<HashMap<String, Manifest>>,
    /// The quick no-diff answer per pair of blobs (see [`zones::quick`]).
    quicks: RefCell<HashMap<(String, String), Option<zones::Quick>>>,
    merges: merge::Cache,
    /// The checked range's commits, when a range is checked.
    ancestry: Option<std::sync::Arc<crate::ancestry::Ancestry>>,
}

const MAX_TEXT_LINES: usize = 40;

/// What `Guard-Signature` trailers must sign, computed only when one is present.
pub fn signed_data(trailers: &[trailers::Trailer], touched: &[Touch]) -> crate::digest::Signed {
    let signed = trailers
        .iter()
        .any(|t| t.key.eq_ignore_ascii_case(crate::signature::TRAILER));
    if !signed {
        return crate::digest::Signed::default();
    }
    crate::digest::Signed::of(&parts(touched))
}

/// The digest's view of `touched`.
pub fn parts(touched: &[Touch]) -> Vec<crate::digest::Part> {
    touched.iter().map(|t| t.bound.clone()).collect()
}

/// A file mode as git writes it in a tree (canonical), "" where there is no file.
fn mode_code(e: Option<&change::Entry>) -> &'static str {
    match e.map(|e| e.kind) {
        None => "",
        Some(Kind::File) => "100644",
        Some(Kind::Executable) => "100755",
        Some(Kind::Symlink) => "120000",
        Some(Kind::Submodule) => "160000",
    }
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
            line_counts: RefCell::new(HashMap::new()),
            new_counts: RefCell::new(Vec::new()),
            parsed: RefCell::new(HashMap::new()),
            quicks: RefCell::new(HashMap::new()),
            merges: merge::Cache::default(),
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

    fn lines_of(&self, id: &str) -> Result<usize> {
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

    /// [`zones::quick`] for a pair of blobs, computed once.
    fn quick(&self, old: &str, new: &str) -> Result<Option<zones::Quick>> {
        let key = (old.to_string(), new.to_string());
        if let Some(q) = self.quicks.borrow().get(&key) {
            return Ok(*q);
        }
        let (o, n) = (self.store.blob(old)?, self.store.blob(new)?);
        let q = zones::quick(&o, &n);
        let mut cache = self.quicks.borrow_mut();
        if cache.len() > 256 {
            cache.clear();
        }
        cache.insert(key, q);
        Ok(q)
    }

    fn file_state(&self, side: &Side, path: &str) -> Result<FileState> {
        match self.store.entry(side, path)? {
            Some(e) if matches!(e.kind, Kind::File | Kind::Executable) => {
                Ok(FileState::Lines(self.lines_of(&e.id)?))
            }
            Some(_) => Ok(FileState::NotAFile),
            None if self.store.is_dir(side, path)? => Ok(FileState::NotAFile),
            None => Ok(FileState::Missing),
        }
    }

    fn side_label(side: &Side, what: &str) -> String {
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

    /// The manifest at the manifest path of `side`, if any (parsed, not file-checked).
    fn manifest_at(&self, side: &Side) -> Result<Option<(String, String)>> {
        let Some(entry) = self.store.entry(side, &self.manifest_path)? else {
            return Ok(None);
        };
        let bytes = self.store.blob(&entry.id)?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            Error::new(format!(
                "{}: the manifest is not UTF-8",
                Self::side_label(side, &self.manifest_path)
            ))
        })?;
        Ok(Some((entry.id, text)))
    }

    /// The manifest in force for a change whose base is `base`.
    pub fn base_manifest(&self, base: &Side, which: &BaseManifest) -> Result<Option<Manifest>> {
        match which {
            BaseManifest::Text { text, label } => Ok(Some(self.validate(text, label, base)?)),
            BaseManifest::Carried(m) => Ok(Some((**m).clone())),
            BaseManifest::InBase(path) => {
                debug_assert_eq!(path, &self.manifest_path);
                let Some((id, text)) = self.manifest_at(base)? else {
                    return Ok(None);
                };
                let label = Self::side_label(base, &self.manifest_path);
                let cached = self.parsed.borrow().get(&id).cloned();
                let manifest = match cached {
                    Some(m) => m,
                    None => {
                        let m = validate::parse(&text, &label)
                            .map_err(|e| Error::new(e.to_string()))?;
                        let mut cache = self.parsed.borrow_mut();
                        if cache.len() > 64 {
                            cache.clear();
                        }
                        cache.insert(id.clone(), m.clone());
                        m
                    }
                };
                // The files are checked against every base: they change.
                validate::check_files(&manifest, &text, &label, |p| self.file_state(base, p))?
                    .map_err(|e| Error::new(e.to_string()))?;
                Ok(Some(manifest))
            }
        }
    }

    /// Zero-context hunks of a content change.
    fn hunks_of(&self, c: &FileChange) -> Result<Vec<Hunk>> {
        match (&c.old, &c.new) {
            (Some(o), Some(n)) if o.id != n.id => self.store.hunks(&o.id, &n.id),
            _ => Ok(Vec::new()),
        }
    }

    /// The touched lines of `hunks` for the report, and their raw bytes with
    /// each hunk's position from `first` (the zone's first line) for the digest.
    fn texts(
        &self,
        c: &FileChange,
        hunks: &[Hunk],
        first: u32,
    ) -> Result<(Vec<TouchedLines>, Vec<crate::digest::HunkBytes>)> {
        let empty: std::rc::Rc<[u8]> = std::rc::Rc::from(&b""[..]);
        let old = match &c.old {
            Some(e) => self.store.blob(&e.id)?,
            None => empty.clone(),
        };
        let new = match &c.new {
            Some(e) => self.store.blob(&e.id)?,
            None => empty,
        };
        let cap = |mut v: Vec<String>| {
            if v.len() > MAX_TEXT_LINES {
                let more = v.len() - MAX_TEXT_LINES;
                v.truncate(MAX_TEXT_LINES);
                v.push(format!("… ({more} more lines)"));
            }
            v
        };
        let mut shown = Vec::new();
        let mut bytes = Vec::new();
        for h in hunks {
            let old_r = LineRange::new(h.old_start, h.old_end()).filter(|_| h.old_lines > 0);
            let new_r = LineRange::new(h.new_start, h.new_start + h.new_lines.saturating_sub(1))
                .filter(|_| h.new_lines > 0);
            let old_raw = old_r.map_or(&[][..], |r| change::line_bytes(&old, r.start, r.end));
            let new_raw = new_r.map_or(&[][..], |r| change::line_bytes(&new, r.start, r.end));
            bytes.push(crate::digest::HunkBytes {
                at: i64::from(h.old_start) - i64::from(first),
                old: old_raw.to_vec(),
                new: new_raw.to_vec(),
            });
            shown.push(TouchedLines {
                old: old_r,
                new: new_r,
                old_text: cap(
                    old_r.map_or_else(Vec::new, |r| change::line_text(&old, r.start, r.end))
                ),
                new_text: cap(
                    new_r.map_or_else(Vec::new, |r| change::line_text(&new, r.start, r.end))
                ),
            });
        }
        Ok((shown, bytes))
    }

    /// The whole content of one side of a file, as the digest binds it.
    fn content(&self, e: Option<&change::Entry>) -> Result<Option<crate::digest::Content>> {
        Ok(match e {
            None => None,
            Some(e) if e.kind == Kind::Submodule => {
                Some(crate::digest::Content::Commit(e.id.clone()))
            }
            Some(e) => Some(crate::digest::Content::of_blob(&self.store.blob(&e.id)?)),
        })
    }

    /// Lines `range` (clamped to the file), or the whole file, of a text blob,
    /// as a deletion hunk for the report: what a deletion's signature approves.
    fn whole_hunk(
        &self,
        e: &change::Entry,
        range: Option<LineRange>,
        old: bool,
    ) -> Result<Option<Hunk>> {
        if e.kind == Kind::Submodule || change::is_binary(&self.store.blob(&e.id)?) {
            return Ok(None);
        }
        let n = self.lines_of(&e.id)? as u32;
        let (start, end) = match range {
            Some(r) => (r.start, r.end.min(n)),
            None => (1, n),
        };
        if n == 0 || end < start {
            return Ok(None);
        }
        let len = end - start + 1;
        Ok(Some(if old {
            Hunk::new(start, len, 0, 0)
        } else {
            Hunk::new(0, 0, start, len)
        }))
    }

    /// Judge one change.
    pub fn evaluate(
        &self,
        subject: Subject,
        which: &BaseManifest,
        change: &Change,
    ) -> Result<Verdict> {
        let mut verdict = Verdict {
            subject,
            rules: false,
            touched: Vec::new(),
            signoffs: Signoffs::default(),
            violations: Vec::new(),
            manifest_change: None,
            notes: Vec::new(),
            zone_ids: Vec::new(),
        };
        let Some(manifest) = self.base_manifest(&change.base, which)? else {
            verdict.notes.push(format!(
                "no {} in force before this change: no rules apply",
                self.manifest_path
            ));
            return Ok(verdict);
        };
        verdict.rules = true;
        verdict.zone_ids = manifest.zones.iter().map(|z| z.id.clone()).collect();
        // A merge is judged on everything it brings to its first parent; what a
        // side carries with consent is sorted out per touch (contract section 4).
        let changes = self.changes(&manifest, change)?;
        if changes.is_empty() {
            return Ok(verdict); // nothing under any zone, invariant or the manifest
        }
        let mut hunk_cache: HashMap<String, Vec<Hunk>> = HashMap::new();

        for zone in &manifest.zones {
            for c in changes.iter().filter(|c| zone.path.matches(&c.path)) {
                if let Some(t) = self.touch(zone, &manifest, c, change, &mut hunk_cache)? {
                    verdict.touched.push(t);
                }
            }
        }
        let expected = self.expectations(&manifest, change, &changes, &mut hunk_cache)?;

        // The manifest guards itself.
        if !matches!(which, BaseManifest::Carried(_)) {
            self.judge_manifest(&manifest, change, &changes, &expected, &mut verdict)?;
        }

        // Sign-offs, counted against the manifest in force.
        let trailers = trailers::parse(&verdict.subject.message);
        let digest = signed_data(&trailers, &verdict.touched);
        verdict.signoffs =
            signoff::evaluate(&manifest, &trailers, &verdict.subject.author_email, &digest);
        if verdict.signoffs.open && !verdict.touched.is_empty() {
            verdict.notes.push(
                "the manifest declares no [[instance]]: any distinct email counts as a sign-off"
                    .to_string(),
            );
        }
        let counted = verdict.signoffs.count();
        let mut needed_by_zone: Vec<(String, u32)> = Vec::new();
        for t in &verdict.touched {
            if !needed_by_zone.iter().any(|(z, _)| z == &t.zone) {
                needed_by_zone.push((t.zone.clone(), t.threshold));
            }
        }
        let author = manifest
            .instances
            .iter()
            .find(|i| i.has_email(&verdict.subject.author_email))
            .map(|i| i.id.clone());
        let candidates: Vec<String> = manifest
            .instances
            .iter()
            .filter(|i| !verdict.signoffs.distinct.contains(&i.id))
            .filter(|i| manifest.policy.author_counts || author.as_ref() != Some(&i.id))
            .map(|i| i.id.clone())
            .collect();
        let trailer = manifest
            .policy
            .trailers
            .first()
            .cloned()
            .unwrap_or_else(|| "Signed-off-by".into());
        for (zone, needed) in needed_by_zone {
            if counted < needed {
                verdict.violations.push(Violation::InsufficientSignoffs {
                    zone,
                    needed,
                    counted,
                    candidates: candidates.clone(),
                    trailer: trailer.clone(),
                });
            }
        }
        if !verdict.touched.is_empty() {
            for key in &manifest.policy.audit_trailers {
                let present = trailers
                    .iter()
                    .any(|t| t.key.eq_ignore_ascii_case(key) && !t.value.trim().is_empty());
                if !present {
                    verdict.violations.push(Violation::MissingAuditTrailer {
                        trailer: key.clone(),
                    });
                }
            }
        }
        self.invariants(&manifest, &changes, &mut verdict)?;
        Ok(verdict)
    }

    /// The file changes that can matter to `manifest`: zones, invariants, itself.
    pub fn changes(&self, manifest: &Manifest, change: &Change) -> Result<Vec<FileChange>> {
        let mut roots = manifest.roots();
        roots.push(&self.manifest_path);
        self.store.changes(&change.base, &change.new, &roots)
    }

    /// Where each zone on a single file is after the change (zones whose file the
    /// change did not touch are absent: they stay where they are).
    pub fn expectations(
        &self,
        manifest: &Manifest,
        change: &Change,
        changes: &[FileChange],
        cache: &mut HashMap<String, Vec<Hunk>>,
    ) -> Result<HashMap<String, Expected>> {
        let mut expected = HashMap::new();
        for zone in &manifest.zones {
            let PathSpec::Literal(p) = &zone.path else {
                continue;
            };
            if let Some(c) = changes.iter().find(|c| &c.path == p)
                && let Some(e) = self.expect(zone, c, change, cache)?
            {
                expected.insert(zone.id.clone(), e);
            }
        }
        Ok(expected)
    }

    fn cached_hunks(
        &self,
        c: &FileChange,
        cache: &mut HashMap<String, Vec<Hunk>>,
    ) -> Result<Vec<Hunk>> {
        if let Some(h) = cache.get(&c.path) {
            return Ok(h.clone());
        }
        let h = self.hunks_of(c)?;
        cache.insert(c.path.clone(), h.clone());
        Ok(h)
    }

    fn touch(
        &self,
        zone: &Zone,
        manifest: &Manifest,
        c: &FileChange,
        change: &Change,
        cache: &mut HashMap<String, Vec<Hunk>>,
    ) -> Result<Option<Touch>> {
        let whole = zone.lines.is_none();
        let mut touch = Touch {
            zone: zone.id.clone(),
            reason: zone.reason.clone(),
            file: c.path.clone(),
            lines: zone.lines,
            threshold: zone.threshold(&manifest.policy),
            how: String::new(),
            hunks: Vec::new(),
            details: Vec::new(),
            bound: crate::digest::Part {
                zone: zone.id.clone(),
                path: c.path.clone(),
                old_mode: mode_code(c.old.as_ref()).into(),
                new_mode: mode_code(c.new.as_ref()).into(),
                v1: crate::digest::V1 {
                    // What format 1 hashed: object ids for a whole-file zone.
                    objects: if whole {
                        format!("{:?} -> {:?}", c.old, c.new)
                    } else {
                        String::new()
                    },
                    ..Default::default()
                },
                ..Default::default()
            },
            own: None,
        };
        let merge = !change.others.is_empty();
        let threshold = touch.threshold;
        let first = zone.lines.map_or(1, |r| r.start);
        // A whole-file touch of a merge is its own unless a side carries it.
        let file_level = |touch: &mut Touch| -> Result<bool> {
            if merge {
                match self.merge_own_file(manifest, &zone.id, threshold, c, change)? {
                    None => return Ok(false),
                    Some(own) => touch.own = Some(own),
                }
            }
            Ok(true)
        };
        // Touches judged on the whole file bind both contents.
        let (kind, how) = if c.is_deleted() {
            let old = c.old.as_ref();
            match self
                .store
                .rename_target(&change.base, &change.new, &c.path)?
            {
                Some(to) => {
                    let new = self.store.entry(&change.new, &to)?;
                    touch.bound.new_mode = mode_code(new.as_ref()).into();
                    touch.bound.new = self.content(new.as_ref())?;
                    // Every line the signature approves: the whole rename's diff.
                    if let (Some(o), Some(n)) = (old, &new)
                        && o.kind != Kind::Submodule
                        && n.kind != Kind::Submodule
                        && o.id != n.id
                        && !change::is_binary(&self.store.blob(&o.id)?)
                        && !change::is_binary(&self.store.blob(&n.id)?)
                    {
                        let moved = FileChange {
                            path: c.path.clone(),
                            old: Some(o.clone()),
                            new: Some(n.clone()),
                            renamed_to: None,
                        };
                        let hunks = self.store.hunks(&o.id, &n.id)?;
                        touch.hunks = self.texts(&moved, &hunks, first)?.0;
                    }
                    let how = if new.as_ref().map(|n| &n.id) == old.map(|o| &o.id) {
                        format!("file renamed to {to} (content unchanged)")
                    } else {
                        format!("file renamed to {to}")
                    };
                    touch.bound.v1.how = format!("file renamed to {to}");
                    touch.bound.to = Some(to);
                    ("renamed", how)
                }
                None => {
                    if let Some(o) = old
                        && let Some(h) = self.whole_hunk(o, zone.lines, true)?
                    {
                        touch.hunks = self.texts(c, &[h], first)?.0;
                    }
                    ("deleted", "file deleted".to_string())
                }
            }
        } else if c.is_added() {
            if !whole {
                return Ok(None);
            }
            if let Some(n) = &c.new
                && let Some(h) = self.whole_hunk(n, None, false)?
            {
                touch.hunks = self.texts(c, &[h], first)?.0;
            }
            ("added", "file added".to_string())
        } else if c.type_changed() {
            ("type-changed", "file type changed".to_string())
        } else if c.new.as_ref().is_some_and(|n| n.kind == Kind::Submodule) && c.content_changed() {
            // A gitlink names a commit of another repository: never read it
            // as a blob here.
            ("submodule", "submodule changed".to_string())
        } else if !c.content_changed() {
            if !whole {
                return Ok(None);
            }
            ("mode-changed", "file mode changed".to_string())
        } else {
            let (Some(o), Some(n)) = (&c.old, &c.new) else {
                return Ok(None);
            };
            // Hunks a prefetching thread computed answer directly; otherwise
            // the quick no-diff check may spare the diff.
            let binary = match self.store.prefetched(&o.id, &n.id) {
                Some((_, binary)) => binary,
                None => {
                    let (old_data, new_data) = (self.store.blob(&o.id)?, self.store.blob(&n.id)?);
                    let binary = change::is_binary(&old_data) || change::is_binary(&new_data);
                    if let (Some(r), false) = (zone.lines, binary)
                        && self
                            .quick(&o.id, &n.id)?
                            .and_then(|q| q.outside(r))
                            .is_some()
                    {
                        return Ok(None);
                    }
                    binary
                }
            };
            if binary {
                // A binary change touches every zone of the file, as a whole.
                ("binary", "binary content changed".to_string())
            } else {
                let hunks = self.cached_hunks(c, cache)?;
                let mut touching = match zone.lines {
                    Some(r) => zones::touching(&hunks, r),
                    None => hunks,
                };
                if merge && !touching.is_empty() {
                    let own =
                        self.merge_own_hunks(manifest, &zone.id, threshold, c, touching, change)?;
                    touch.own = own.first().map(|(_, why)| why.clone());
                    touching = own.into_iter().map(|(h, _)| h).collect();
                }
                if touching.is_empty() {
                    return Ok(None);
                }
                let (shown, bytes) = self.texts(c, &touching, first)?;
                touch.hunks = shown;
                touch.how = "lines changed".to_string();
                touch.bound.kind = "lines";
                let old_data = self.store.blob(&o.id)?;
                touch.bound.zone_old = Some(crate::digest::Content::of_blob(match zone.lines {
                    Some(r) => change::line_bytes(&old_data, r.start, r.end),
                    None => &old_data,
                }));
                touch.bound.hunks = bytes;
                touch.bound.v1.how = touch.how.clone();
                return Ok(Some(touch));
            }
        };
        if !file_level(&mut touch)? {
            return Ok(None);
        }
        touch.bound.old = self.content(c.old.as_ref())?;
        if kind != "renamed" {
            touch.bound.new = self.content(c.new.as_ref())?;
        }
        touch.bound.kind = kind;
        if touch.bound.v1.how.is_empty() {
            touch.bound.v1.how = how.clone();
        }
        touch.how = how;
        Ok(Some(touch))
    }

    /// Where a literal-path zone's code is after the change to its file.
    fn expect(
        &self,
        zone: &Zone,
        c: &FileChange,
        change: &Change,
        cache: &mut HashMap<String, Vec<Hunk>>,
    ) -> Result<Option<Expected>> {
        if c.is_deleted() {
            let Some(to) = self
                .store
                .rename_target(&change.base, &change.new, &c.path)?
            else {
                return Ok(Some(Expected::Gone(format!("{} was deleted", c.path))));
            };
            let lines = match zone.lines {
                None => None,
                Some(r) => {
                    let (Some(o), Some(n)) = (&c.old, self.store.entry(&change.new, &to)?) else {
                        return Ok(None);
                    };
                    match zones::map_range(&self.store.hunks(&o.id, &n.id)?, r) {
                        Some(m) => Some(m),
                        None => {
                            return Ok(Some(Expected::Gone(format!(
                                "every line of the zone was deleted when {} was renamed to {to}",
                                c.path
                            ))));
                        }
                    }
                }
            };
            return Ok(Some(Expected::At { path: to, lines }));
        }
        if c.type_changed() {
            return Ok(Some(Expected::Gone(format!(
                "{} is no longer a regular file",
                c.path
            ))));
        }
        let Some(r) = zone.lines else { return Ok(None) };
        if !c.content_changed() {
            return Ok(None);
        }
        if let (Some(o), Some(n)) = (&c.old, &c.new)
            && self.store.prefetched(&o.id, &n.id).is_none()
            && let Some(shift) = self.quick(&o.id, &n.id)?.and_then(|q| q.outside(r))
        {
            let moved = LineRange::new(
                (i64::from(r.start) + shift) as u32,
                (i64::from(r.end) + shift) as u32,
            );
            return Ok(moved.map(|m| Expected::At {
                path: c.path.clone(),
                lines: Some(m),
            }));
        }
        let hunks = self.cached_hunks(c, cache)?;
        Ok(Some(match zones::map_range(&hunks, r) {
            Some(m) => Expected::At {
                path: c.path.clone(),
                lines: Some(m),
            },
            None => Expected::Gone("every line of the zone was deleted".to_string()),
        }))
    }

    /// The built-in `manifest` zone, touched: threshold `policy.signoffs`.
    /// `bound` says what a signature approves: the deleted manifest's content
    /// or every weakening's full old and new value.
    fn manifest_touch(
        &self,
        base: &Manifest,
        how: &str,
        details: Vec<String>,
        bound: crate::digest::Part,
    ) -> Touch {
        Touch {
            zone: MANIFEST_ZONE.into(),
            reason: "the manifest guards itself".into(),
            file: self.manifest_path.clone(),
            lines: None,
            threshold: base.policy.signoffs,
            how: how.into(),
            hunks: Vec::new(),
            bound: crate::digest::Part {
                zone: MANIFEST_ZONE.into(),
                path: self.manifest_path.clone(),
                v1: crate::digest::V1 {
                    how: how.into(),
                    objects: String::new(),
                    details: details.clone(),
                },
                ..bound
            },
            details,
            own: None,
        }
    }

    fn judge_manifest(
        &self,
        base: &Manifest,
        change: &Change,
        changes: &[FileChange],
        expected: &HashMap<String, Expected>,
        verdict: &mut Verdict,
    ) -> Result<()> {
        let mc = changes.iter().find(|c| c.path == self.manifest_path);
        let after: Manifest = match mc {
            None => base.clone(),
            Some(c) if c.new.is_none() => {
                let mut touch = self.manifest_touch(
                    base,
                    "manifest deleted",
                    vec!["every zone, invariant and instance removed".into()],
                    crate::digest::Part {
                        kind: "manifest-deleted",
                        old_mode: mode_code(c.old.as_ref()).into(),
                        old: self.content(c.old.as_ref())?,
                        ..Default::default()
                    },
                );
                if !change.others.is_empty() {
                    match self.merge_own_file(
                        base,
                        MANIFEST_ZONE,
                        base.policy.signoffs,
                        c,
                        change,
                    )? {
                        None => return Ok(()),
                        Some(own) => touch.own = Some(own),
                    }
                }
                verdict.touched.push(touch);
                return Ok(());
            }
            Some(_) => {
                // A change that writes a manifest that does not parse or
                // validate is judged like any other, and that is a violation
                // of it (the manifest in force is fine: exit 1, not 2).
                let label = Self::side_label(&change.new, &self.manifest_path);
                let parsed = match self.manifest_at(&change.new) {
                    Ok(Some((_, text))) => {
                        validate::parse(&text, &label).map_err(|e| e.to_string())
                    }
                    Ok(None) => Err("internal: the changed manifest vanished".to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match parsed {
                    Ok(m) => m,
                    Err(errors) => {
                        verdict.violations.push(Violation::InvalidManifest {
                            file: self.manifest_path.clone(),
                            errors,
                        });
                        return Ok(());
                    }
                }
            }
        };
        if mc.is_none() && expected.is_empty() {
            return Ok(());
        }
        let mut cmp = compare::compare(base, &after, expected);
        // Every line zone of the manifest after the change must fit its file.
        let base_zones = base.zones_by_id();
        let stale: std::collections::HashSet<&str> =
            cmp.stale.iter().map(|s| s.zone.as_str()).collect();
        let mut more_stale = Vec::new();
        for z in &after.zones {
            let (Some(r), PathSpec::Literal(p)) = (z.lines, &z.path) else {
                continue;
            };
            if stale.contains(z.id.as_str()) {
                continue;
            }
            let file_changed = changes.iter().any(|c| &c.path == p);
            let same_zone = base_zones
                .get(z.id.as_str())
                .is_some_and(|b| b.path == z.path && b.lines == z.lines);
            if !file_changed && same_zone {
                continue;
            }
            let detail = match self.file_state(&change.new, p)? {
                FileState::Lines(n) if r.end as usize <= n => continue,
                FileState::Lines(n) => {
                    format!("{p} has {n} lines after the change: the range runs past its end")
                }
                FileState::Missing => format!("{p} does not exist after the change"),
                FileState::NotAFile => format!("{p} is not a file after the change"),
            };
            more_stale.push(Stale {
                zone: z.id.clone(),
                written: z.location(),
                expected: None,
                detail,
            });
        }
        cmp.stale.extend(more_stale);
        for s in &cmp.stale {
            verdict.violations.push(Violation::StaleZone(s.clone()));
        }
        if !cmp.weakenings.is_empty() {
            let mut touch = self.manifest_touch(
                base,
                "manifest weakened",
                cmp.weakenings.iter().map(ToString::to_string).collect(),
                crate::digest::Part {
                    kind: "manifest-weakened",
                    weakenings: cmp.weakenings.clone(),
                    ..Default::default()
                },
            );
            let carried = if change.others.is_empty() {
                false
            } else {
                touch.own = self.merge_own_manifest(base, &cmp.weakenings, change)?;
                touch.own.is_none()
            };
            if !carried {
                verdict.touched.push(touch);
            }
        }
        if mc.is_some() || !cmp.stale.is_empty() {
            verdict.manifest_change = Some(cmp);
        }
        Ok(())
    }

    fn invariants(
        &self,
        manifest: &Manifest,
        changes: &[FileChange],
        verdict: &mut Verdict,
    ) -> Result<()> {
        for inv in &manifest.invariants {
            for c in changes.iter().filter(|c| inv.path.matches(&c.path)) {
                let Some(new) = &c.new else {
                    if let Some(re) = &inv.must_contain {
                        verdict.violations.push(Violation::Invariant {
                            file: c.path.clone(),
                            rule: "must_contain".into(),
                            pattern: re.as_str().to_string(),
                            line: None,
                            text: Some("the file was deleted".into()),
                            reason: inv.reason.clone(),
                        });
                    }
                    continue;
                };
                // A submodule's content is another repository's commit.
                if !c.content_changed() || new.kind == Kind::Submodule {
                    continue;
                }
                let data = self.store.blob(&new.id)?;
                if let Some(re) = &inv.must_contain
                    && !re.is_match(&data)
                {
                    verdict.violations.push(Violation::Invariant {
                        file: c.path.clone(),
                        rule: "must_contain".into(),
                        pattern: re.as_str().to_string(),
                        line: None,
                        text: None,
                        reason: inv.reason.clone(),
                    });
                }
                if let Some(re) = &inv.must_not_contain
                    && let Some(m) = re.find(&data)
                {
                    let line = data[..m.start()].iter().filter(|&&b| b == b'\n').count() + 1;
                    let text = change::line_text(&data, line as u32, line as u32)
                        .pop()
                        .unwrap_or_default();
                    verdict.violations.push(Violation::Invariant {
                        file: c.path.clone(),
                        rule: "must_not_contain".into(),
                        pattern: re.as_str().to_string(),
                        line: Some(line),
                        text: Some(text),
                        reason: inv.reason.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}
