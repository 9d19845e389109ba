//! `--format github`: workflow commands, so violations annotate the diff.

use std::fmt::Write;

use super::{Entry, Report};
use crate::verdict::Violation;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_prop(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for e in &report.entries {
        match e {
            Entry::Failed { commit, error } => {
                let _ = writeln!(
                    out,
                    "::error title={}::{}",
                    escape_prop(&format!(
                        "guard could not evaluate {}",
                        commit.as_deref().unwrap_or("the change")
                    )),
                    escape_data(error)
                );
            }
            Entry::Judged(v) => {
                let label = v.subject.label();
                for viol in &v.violations {
                    let (file, lines, msg) = super::human::locate(v, viol);
                    let mut props = String::new();
                    if let Some(f) = file {
                        let _ = write!(props, "file={}", escape_prop(&f));
                        if let Some(r) = lines {
                            let _ = write!(props, ",line={},endLine={}", r.start, r.end);
                        }
                        props.push(',');
                    }
                    let title = match viol {
                        Violation::InsufficientSignoffs { zone, .. } => {
                            format!("guard: zone {zone}")
                        }
                        other => format!("guard: {}", other.code()),
                    };
                    let _ = writeln!(
                        out,
                        "::error {props}title={}::{}",
                        escape_prop(&title),
                        escape_data(&format!("{label}: {msg}"))
                    );
                }
            }
        }
    }
    out
}
