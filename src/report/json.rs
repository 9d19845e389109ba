//! `--format json`: one stable object (documented in the README).

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use super::Report;

/// The document, keys in the order `json!` sorts them.
#[derive(Serialize)]
struct Doc<'a> {
    changes: Changes<'a>,
    checked: usize,
    verdict: &'static str,
    version: u32,
}

/// The changes, each turned into a JSON value (keys sorted, as before) one
/// at a time: the values of a 10,000-commit range at once weighed several
/// times its text.
struct Changes<'a>(&'a [super::Entry]);

impl Serialize for Changes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for entry in self.0 {
            seq.serialize_element(&serde_json::to_value(entry).map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

pub fn render(report: &Report) -> String {
    let doc = Doc {
        changes: Changes(&report.entries),
        checked: report.entries.len(),
        verdict: report.status(),
        version: 1,
    };
    let mut s = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| format!("{{\"verdict\":\"error\",\"error\":{:?}}}", e.to_string()));
    s.push('\n');
    s
}
