//! `guard.toml`: the typed manifest the engine works with.
//!
//! [`raw`] holds what was written (with spans); [`validate`] turns it into the
//! types below, which cannot be invalid; [`compare`] classifies a change of the
//! manifest; [`edit`] rewrites it without disturbing anything else.

pub mod compare;
pub mod consent;
pub mod edit;
mod files;
mod freeze;
pub mod groups;
pub mod pattern;
pub mod quick;
pub mod raw;
mod source;
pub mod validate;
mod zones;

use globset::GlobMatcher;
use pattern::Pattern;
use serde::Serialize;
pub use zones::Zones;

pub use validate::{ConfigError, parse};

/// The default manifest path, relative to the repository root.
pub const DEFAULT_PATH: &str = "guard.toml";

/// The built-in zone that protects the manifest itself.
pub const MANIFEST_ZONE: &str = "manifest";

/// An inclusive, 1-based line range with `1 <= start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LineRange {
    pub start: u32,
    pub end: u32,
}

impl LineRange {
    pub fn new(start: u32, end: u32) -> Option<Self> {
        (start >= 1 && start <= end).then_some(LineRange { start, end })
    }

    pub fn contains_range(&self, other: &LineRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn len(&self) -> u32 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

impl std::fmt::Display for LineRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// What a zone or an invariant applies to.
#[derive(Debug, Clone)]
pub enum PathSpec {
    /// A file, or a directory and everything below it (as a git pathspec).
    Literal(String),
    /// A globset pattern matched against repository-relative paths.
    Glob {
        pattern: String,
        /// Boxed: most zones are files, and every zone of a large manifest
        /// is as large as this variant (a zone's memory is touched first
        /// when it is read: fresh pages, each a page fault).
        matcher: Box<GlobMatcher>,
    },
}

impl PathSpec {
    pub fn as_str(&self) -> &str {
        match self {
            PathSpec::Literal(p) => p,
            PathSpec::Glob { pattern, .. } => pattern,
        }
    }

    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathSpec::Literal(p) => {
                path == p
                    || (path.len() > p.len()
                        && path.starts_with(p.as_str())
                        && path.as_bytes()[p.len()] == b'/')
            }
            PathSpec::Glob { matcher, .. } => matcher.is_match(path),
        }
    }

    /// The directory (or file) under which every match lies; "" for the whole tree.
    pub fn root(&self) -> &str {
        match self {
            PathSpec::Literal(p) => p,
            PathSpec::Glob { pattern, .. } => {
                let meta = pattern
                    .find(['*', '?', '[', '{', '\\'])
                    .unwrap_or(pattern.len());
                match pattern[..meta].rfind('/') {
                    Some(slash) => &pattern[..slash],
                    None => "",
                }
            }
        }
    }

    pub fn is_glob(&self) -> bool {
        matches!(self, PathSpec::Glob { .. })
    }
}

impl PartialEq for PathSpec {
    fn eq(&self, other: &Self) -> bool {
        self.is_glob() == other.is_glob() && self.as_str() == other.as_str()
    }
}

/// Where in the manifest text an item was written (1-based).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub signoffs: u32,
    pub trailers: Vec<String>,
    pub author_counts: bool,
    pub audit_trailers: Vec<String>,
    /// Break-glass: sign-offs that pass a touched zone without its own rules
    /// (with a `Guard-Override: <reason>` trailer).
    pub override_: Option<Quota>,
    /// A security freeze: every change to the frozen zones is blocked,
    /// whatever its sign-offs, until it is lifted.
    pub freeze: Option<Freeze>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freeze {
    pub reason: String,
    /// The frozen zones' ids; `None`: every zone.
    pub zones: Option<Vec<String>>,
}

impl Freeze {
    pub fn covers(&self, zone: &str) -> bool {
        self.zones
            .as_ref()
            .is_none_or(|z| z.iter().any(|x| x == zone))
    }
}

/// `signoffs` distinct sign-offs from the members of `group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub group: String,
    pub signoffs: u32,
}

/// A named set of instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    /// Instance ids, as written (each a declared instance).
    pub members: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            signoffs: 2,
            trailers: vec!["Signed-off-by".to_string()],
            author_counts: true,
            audit_trailers: Vec::new(),
            override_: None,
            freeze: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub id: String,
    /// Lower-cased.
    pub emails: Vec<String>,
    pub key: Option<String>,
}

impl Instance {
    pub fn has_email(&self, email: &str) -> bool {
        self.emails.iter().any(|e| e.eq_ignore_ascii_case(email))
    }
}

#[derive(Debug, Clone)]
pub struct Zone {
    pub id: String,
    pub path: PathSpec,
    pub lines: Option<LineRange>,
    pub reason: String,
    pub signoffs: Option<u32>,
    /// Whose sign-offs count for this zone: group or instance ids, as written
    /// (`None`: every instance's).
    pub approvers: Option<Vec<String>>,
    /// Each entry met by distinct instances, an instance counting toward at
    /// most one entry (AND), besides the total `signoffs`.
    pub require: Vec<Quota>,
    /// Files (paths) or zones (ids) a change touching this zone must also
    /// change; sign-offs do not waive it.
    pub also_change: Vec<String>,
    /// Where the `lines` value (or else the zone's table) starts in the
    /// manifest text, a byte offset: [`validate::Source::pos`] gives its line
    /// and column, found only for a message (finding them for every zone of
    /// a large manifest was 7% of reading it).
    pub at: usize,
}

impl Zone {
    pub fn threshold(&self, policy: &Policy) -> u32 {
        self.signoffs.unwrap_or(policy.signoffs)
    }

    /// "backend/main.py:5-184", or just the path for a whole-file zone.
    pub fn location(&self) -> String {
        match self.lines {
            Some(r) => format!("{}:{}", self.path.as_str(), r),
            None => self.path.as_str().to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Invariant {
    pub path: PathSpec,
    pub must_contain: Option<Pattern>,
    pub must_not_contain: Option<Pattern>,
    pub reason: String,
}

impl Invariant {
    /// Identity for comparing manifests: what the invariant enforces.
    pub fn key(&self) -> (String, Option<String>, Option<String>) {
        (
            self.path.as_str().to_string(),
            self.must_contain.as_ref().map(|r| r.as_str().to_string()),
            self.must_not_contain
                .as_ref()
                .map(|r| r.as_str().to_string()),
        )
    }
}

#[derive(Debug, Clone)]
pub struct Manifest {
    pub version: i64,
    pub policy: Policy,
    pub instances: Vec<Instance>,
    /// Shared: one command holds several copies of a manifest of thousands
    /// of zones (the base, the staged one, each evaluator's).
    pub zones: std::sync::Arc<Zones>,
    pub invariants: Vec<Invariant>,
    pub groups: Vec<Group>,
}

impl Manifest {
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The instances a list of group and instance ids names, sorted.
    pub fn expand(&self, ids: &[String]) -> Vec<String> {
        let mut out: Vec<String> = ids
            .iter()
            .flat_map(|id| match self.group(id) {
                Some(g) => g.members.clone(),
                None => vec![id.clone()],
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The instances whose sign-offs count for `zone` (`None`: any).
    pub fn eligible(&self, zone: &Zone) -> Option<Vec<String>> {
        zone.approvers.as_ref().map(|a| self.expand(a))
    }

    pub fn zone(&self, id: &str) -> Option<&Zone> {
        self.zones.get(id)
    }

    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.id == id)
    }

    /// Paths under which a change can matter to this manifest: zones, invariants.
    pub fn roots(&self) -> Vec<&str> {
        let mut roots: Vec<&str> = Vec::new();
        // Zones of one file are mostly written together: repeats next to
        // each other are dropped before the sort.
        fn add<'a>(roots: &mut Vec<&'a str>, root: &'a str) {
            if roots.last() != Some(&root) {
                roots.push(root);
            }
        }
        for z in self.zones.iter() {
            add(&mut roots, z.path.root());
            for a in &z.also_change {
                if self.zone(a).is_none() {
                    add(&mut roots, a);
                }
            }
        }
        for i in &self.invariants {
            add(&mut roots, i.path.root());
        }
        roots.sort_unstable();
        roots.dedup();
        roots
    }
}
