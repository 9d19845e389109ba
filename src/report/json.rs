//! `--format json`: one stable object (documented in the README).

use serde_json::json;

use super::Report;

pub fn render(report: &Report) -> String {
    let value = json!({
        "version": 1,
        "verdict": report.status(),
        "checked": report.entries.len(),
        "changes": report.entries,
    });
    let mut s = serde_json::to_string_pretty(&value)
        .unwrap_or_else(|e| format!("{{\"verdict\":\"error\",\"error\":{:?}}}", e.to_string()));
    s.push('\n');
    s
}
