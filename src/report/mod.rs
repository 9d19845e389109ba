//! Renderers of the same verdict data: the only code that writes reports.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use serde::Serialize;

use crate::policy::Verdict;

/// One entry of a checked range: a verdict, or why it could not be reached.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Entry {
    Judged(Box<Verdict>),
    Failed {
        commit: Option<String>,
        error: String,
    },
}

/// Everything a `guard check` run found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn blocked(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e, Entry::Judged(v) if !v.passed()))
    }

    pub fn failed(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e, Entry::Failed { .. }))
    }

    pub fn status(&self) -> &'static str {
        if self.failed() {
            "error"
        } else if self.blocked() {
            "blocked"
        } else {
            "passed"
        }
    }
}
