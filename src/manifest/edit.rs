//! Format-preserving rewrite of zone `lines` and `path` (for `guard fix`):
//! every other byte of the manifest stays as written.

use toml_edit::{Document, Item, Value};

use super::LineRange;
use crate::error::{Error, Result};

/// A zone's new location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub zone: String,
    pub path: Option<String>,
    pub lines: Option<LineRange>,
}

/// The TOML text of a new string value, in the quoting style of `old` (the
/// value as written) where that style can hold it.
fn quoted(old: &str, text: &str) -> String {
    let literal = old.starts_with('\'') && !old.starts_with("'''");
    if literal && !text.contains(['\'', '\n', '\r']) {
        return format!("'{text}'");
    }
    Value::from(text).to_string().trim().to_string()
}

/// A zone as written: its key -> value lookup (an array-of-tables entry or an
/// inline table in a `zone = [...]` array).
type ZoneKeys<'d> = Box<dyn Fn(&str) -> Option<Value> + 'd>;

/// Every zone written in `doc`, in order.
fn zones(doc: &Document<String>) -> Vec<ZoneKeys<'_>> {
    match doc.as_table().get("zone") {
        Some(Item::ArrayOfTables(tables)) => tables
            .iter()
            .map(|t| -> ZoneKeys<'_> {
                Box::new(move |k| t.get(k).and_then(Item::as_value).cloned())
            })
            .collect(),
        Some(Item::Value(Value::Array(arr))) => arr
            .iter()
            .filter_map(Value::as_inline_table)
            .map(|t| -> ZoneKeys<'_> { Box::new(move |k| t.get(k).cloned()) })
            .collect(),
        _ => Vec::new(),
    }
}

/// The zone written with id `id`.
fn zone<'d>(doc: &'d Document<String>, id: &str) -> Option<ZoneKeys<'d>> {
    zones(doc)
        .into_iter()
        .find(|get| get("id").as_ref().and_then(Value::as_str) == Some(id))
}

/// Apply `moves` to manifest text: only the bytes of the `lines` and `path`
/// values they change are rewritten; every other byte (comments, spacing,
/// CRLF line endings, key order) stays as written. Fails if a zone cannot be
/// found.
pub fn rewrite(text: &str, moves: &[Move]) -> Result<String> {
    let doc = Document::parse(text.to_string())
        .map_err(|e| Error::new(format!("cannot edit the manifest: {e}")))?;
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for m in moves {
        let mut found = false;
        if let Some(get) = zone(&doc, &m.zone) {
            for (key, new) in [
                ("lines", m.lines.map(|l| l.to_string())),
                ("path", m.path.clone()),
            ] {
                if let (Some(new), Some(v)) = (new, get(key))
                    && let Some(span) = v.span()
                {
                    let old = text.get(span.clone()).unwrap_or("");
                    edits.push((span, quoted(old, &new)));
                    found = true;
                }
            }
        }
        if !found {
            return Err(Error::new(format!(
                "cannot find zone {:?} with the keys to rewrite in the manifest",
                m.zone
            )));
        }
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_string();
    for (range, new) in edits {
        out.replace_range(range, &new);
    }
    Ok(out)
}

/// Where zone `id` is written in manifest text (path, lines as written), to
/// tell whether a user edited it.
pub fn written_location(text: &str, id: &str) -> Option<(String, Option<String>)> {
    let doc = Document::parse(text.to_string()).ok()?;
    let get = zone(&doc, id)?;
    let path = get("path")?.as_str()?.to_string();
    let lines = get("lines").and_then(|v| v.as_str().map(str::to_string));
    Some((path, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(zone: &str, lines: Option<(u32, u32)>, path: Option<&str>) -> Move {
        Move {
            zone: zone.into(),
            path: path.map(str::to_string),
            lines: lines.and_then(|(a, b)| LineRange::new(a, b)),
        }
    }

    #[test]
    fn only_the_moved_values_change_crlf_and_comments_included() {
        let text = "version = 1\r\n# keep me\r\n[[zone]]\r\nid = \"a\"   # a zone\r\npath = 'x.py'\r\nlines = \"5-10\" # range\r\n\r\n[[zone]]\r\nid = \"b\"\r\npath = \"y.py\"\r\nlines = \"1-2\"\r\n";
        let out = rewrite(text, &[mv("a", Some((6, 11)), Some("z.py"))]).unwrap_or_default();
        assert_eq!(
            out,
            text.replace("'x.py'", "'z.py'")
                .replace("\"5-10\"", "\"6-11\"")
        );
        assert_eq!(
            written_location(text, "b"),
            Some(("y.py".into(), Some("1-2".into())))
        );
    }

    #[test]
    fn inline_zones_and_missing_zones() {
        let text = "zone = [ { id = \"a\", path = \"x\", lines = \"1-3\" } ]\n";
        assert_eq!(
            rewrite(text, &[mv("a", Some((2, 4)), None)]).unwrap_or_default(),
            "zone = [ { id = \"a\", path = \"x\", lines = \"2-4\" } ]\n"
        );
        assert!(rewrite(text, &[mv("nope", Some((2, 4)), None)]).is_err());
    }
}
