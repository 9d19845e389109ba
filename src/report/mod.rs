//! Renderers of the same verdict data: the only code that writes reports.

pub mod audit;
pub mod fix;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
pub mod status;
pub mod zones;

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Serialize;

use crate::Outcome;
use crate::cli::Format;
use crate::verdict::Verdict;

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

/// Untrusted text (messages, trailer values, paths, file lines) made safe for a
/// terminal or a CI log: control characters are shown as `less` shows them
/// (`^[` for ESC, `^M` for CR, `^?` for DEL), C1 controls and the Unicode
/// direction overrides as `<U+202E>`, so that nothing in a commit can erase,
/// recolour or reorder what guard writes. Newlines and tabs stay.
pub fn visible(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !hidden(c) => out.push(c),
            '\u{7f}' => out.push_str("^?"),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            c => {
                let _ = write!(out, "<U+{:04X}>", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// Colour a human report (only guard's own words: status and violations).
pub fn paint(text: &str) -> String {
    text.lines()
        .map(|l| {
            let (word, colour) = if l.starts_with("BLOCKED") {
                ("BLOCKED", "1;31")
            } else if l.starts_with("ERROR") {
                ("ERROR", "1;31")
            } else if l.starts_with("passed") {
                ("passed", "32")
            } else if l.trim_start().starts_with("violation") {
                ("", "31")
            } else {
                ("", "")
            };
            match (word, colour) {
                (_, "") => format!("{l}\n"),
                ("", c) => format!("\x1b[{c}m{l}\x1b[0m\n"),
                (w, c) => format!("\x1b[{c}m{w}\x1b[0m{}\n", &l[w.len()..]),
            }
        })
        .collect()
}

/// A report as the command's outcome: its text in `format`, errors on
/// stderr, and the exit code the report decides (2 if a change could not be
/// evaluated, 1 if one is blocked, else 0).
pub fn outcome(report: &Report, format: Format) -> Outcome {
    let stdout = match format {
        Format::Human => human::render(report),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
    };
    let code = if report.failed() {
        2
    } else if report.blocked() {
        1
    } else {
        0
    };
    let mut stderr = String::new();
    for e in &report.entries {
        if let Entry::Failed { commit, error } = e {
            stderr.push_str(&format!(
                "guard: error: {}: {error}\n",
                commit
                    .as_deref()
                    .map_or("change", |c| &c[..c.len().min(10)])
            ));
        }
    }
    Outcome {
        code,
        stdout,
        stderr,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(visible("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            visible("\x1b[2K\x1b[1Gpassed\r\x07\x7f"),
            "^[[2K^[[1Gpassed^M^G^?"
        );
        assert_eq!(visible("a\u{202e}b\u{9b}c"), "a<U+202E>b<U+009B>c");
    }
}
