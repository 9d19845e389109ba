//! Format-preserving rewrite of zone `lines` and `path` (for `guard fix`):
//! every other byte of the manifest stays as written.

use toml_edit::{DocumentMut, Item, Value};

use super::LineRange;
use crate::error::{Error, Result};

/// A zone's new location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub zone: String,
    pub path: Option<String>,
    pub lines: Option<LineRange>,
}

fn set_string(slot: &mut Value, text: &str) {
    let decor = slot.decor().clone();
    *slot = Value::from(text);
    *slot.decor_mut() = decor;
}

/// Apply `moves` to manifest text. Fails if a zone cannot be found.
pub fn rewrite(text: &str, moves: &[Move]) -> Result<String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| Error::new(format!("cannot edit the manifest: {e}")))?;
    for m in moves {
        let mut found = false;
        match doc.get_mut("zone") {
            Some(Item::ArrayOfTables(tables)) => {
                for t in tables.iter_mut() {
                    if t.get("id").and_then(|i| i.as_str()) != Some(m.zone.as_str()) {
                        continue;
                    }
                    found = apply_table(t, m);
                }
            }
            Some(Item::Value(Value::Array(arr))) => {
                for v in arr.iter_mut() {
                    let Some(t) = v.as_inline_table_mut() else {
                        continue;
                    };
                    if t.get("id").and_then(|i| i.as_str()) != Some(m.zone.as_str()) {
                        continue;
                    }
                    found = apply_inline(t, m);
                }
            }
            _ => {}
        }
        if !found {
            return Err(Error::new(format!(
                "cannot find zone {:?} with the keys to rewrite in the manifest",
                m.zone
            )));
        }
    }
    Ok(doc.to_string())
}

fn apply_table(t: &mut toml_edit::Table, m: &Move) -> bool {
    let mut done = false;
    for (key, text) in [
        ("lines", m.lines.map(|l| l.to_string())),
        ("path", m.path.clone()),
    ] {
        if let (Some(text), Some(v)) = (text, t.get_mut(key).and_then(Item::as_value_mut)) {
            set_string(v, &text);
            done = true;
        }
    }
    done
}

fn apply_inline(t: &mut toml_edit::InlineTable, m: &Move) -> bool {
    let mut done = false;
    for (key, text) in [
        ("lines", m.lines.map(|l| l.to_string())),
        ("path", m.path.clone()),
    ] {
        if let (Some(text), Some(v)) = (text, t.get_mut(key)) {
            set_string(v, &text);
            done = true;
        }
    }
    done
}
