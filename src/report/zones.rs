//! `guard zones`' report: each zone, where it is, the sign-offs it needs and
//! its first line; with `--verify`, whether every zone resolves.

use std::fmt::Write as _;

use serde_json::json;

use crate::Outcome;
use crate::cli::ListFormat;
use crate::manifest::LineRange;

pub struct Row {
    pub id: String,
    pub path: String,
    pub glob: bool,
    pub lines: Option<LineRange>,
    pub signoffs: u32,
    pub reason: String,
    /// The zone's first line, or what the path is ("(3 files match)", "(missing)").
    pub first_line: String,
    pub resolves: bool,
}

pub struct Zones {
    /// The manifest, as named in messages.
    pub label: String,
    pub rows: Vec<Row>,
    /// Why zones do not resolve, each with the manifest's file, line and column.
    pub unresolved: Vec<String>,
    pub verify: bool,
}

pub fn human(z: &Zones) -> String {
    let mut out = String::new();
    for r in &z.rows {
        let lines = r.lines.map_or("whole file".to_string(), |l| l.to_string());
        let _ = writeln!(
            out,
            "{:<24} {:<40} {:<12} {} sign-off{}  {}\n{:<24} | {}",
            r.id,
            r.path,
            lines,
            r.signoffs,
            if r.signoffs == 1 { " " } else { "s" },
            r.reason,
            "",
            r.first_line
        );
    }
    if z.rows.is_empty() {
        out.push_str("no zones\n");
    }
    out
}

pub fn json(z: &Zones) -> String {
    let rows: Vec<_> = z
        .rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "path": r.path, "glob": r.glob,
                "lines": r.lines.map(|l| l.to_string()), "signoffs": r.signoffs,
                "reason": r.reason, "first_line": r.first_line, "resolves": r.resolves,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&json!({ "zones": rows })).unwrap_or_default();
    s.push('\n');
    s
}

/// The listing as the command's outcome: problems on stderr, exit 2 when
/// `--verify` finds a zone that does not resolve.
pub fn outcome(z: &Zones, format: ListFormat) -> Outcome {
    let mut stderr = String::new();
    for u in &z.unresolved {
        stderr.push_str(u);
        stderr.push('\n');
    }
    if z.verify && z.unresolved.is_empty() {
        let _ = writeln!(stderr, "{}: every zone resolves", z.label);
    }
    Outcome {
        code: if z.verify && !z.unresolved.is_empty() {
            2
        } else {
            0
        },
        stdout: match format {
            ListFormat::Human => human(z),
            ListFormat::Json => json(z),
        },
        stderr,
        ..Default::default()
    }
}
