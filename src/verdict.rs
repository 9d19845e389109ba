//! What a judgment says: data only, written by the evaluator and read by
//! the reports. Nothing here reads a repository.

use serde::Serialize;

use crate::manifest::LineRange;
use crate::manifest::compare::{Comparison, Stale};
use crate::signoff::Signoffs;
use crate::trailers;

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
    /// When the change is made (its author date; now for the staged change),
    /// seconds since the epoch: which claims are in force.
    #[serde(skip)]
    pub time: i64,
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
        /// What is missing, per `require` entry and for the total, when the
        /// zone restricts its approvers or requires groups.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        unmet: Vec<crate::manifest::consent::Unmet>,
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
    /// A touched zone is frozen (`[policy] freeze`): no sign-off passes it.
    Frozen {
        zone: String,
        reason: String,
    },
    /// A touched zone's `also_change` files or zones were not changed.
    CoChange {
        zone: String,
        missing: Vec<String>,
    },
    /// A touched zone is claimed by another instance, whose sign-off the
    /// change lacks.
    Claimed {
        zone: String,
        by: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<String>,
        note: String,
    },
    /// The change releases, alters or takes over another instance's claim
    /// without its sign-off.
    ClaimTaken {
        zone: String,
        by: String,
    },
    /// The change records a claim in another instance's name without its
    /// sign-off.
    ClaimUnsigned {
        zone: String,
        instance: String,
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
            Violation::Frozen { .. } => "frozen",
            Violation::Claimed { .. } => "claimed",
            Violation::ClaimTaken { .. } => "claim-taken",
            Violation::ClaimUnsigned { .. } => "claim-unsigned",
            Violation::CoChange { .. } => "co-change",
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
    /// A break-glass override that passed the touched zones: its reason.
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub overridden: Option<String>,
    /// A later commit whose sign-offs gave this one the consent it lacked
    /// (`Guard-Ratify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratified_by: Option<String>,
    /// The commits this one ratified.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ratifies: Vec<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The verdict on a change no manifest judges: a pass, with `note`.
    pub fn without_rules(subject: Subject, note: String) -> Verdict {
        Verdict {
            subject,
            rules: false,
            touched: Vec::new(),
            signoffs: Signoffs::default(),
            violations: Vec::new(),
            manifest_change: None,
            notes: vec![note],
            overridden: None,
            ratified_by: None,
            ratifies: Vec::new(),
        }
    }
}

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
