//! A blob's line count never changes (objects are content-addressed), so the
//! counts that manifest validation needs are remembered across runs, in a
//! file under git's common directory. A wrong count could only make a range
//! check stricter or looser at validation; it never decides whether a change
//! touches a zone.

use std::collections::HashMap;
use std::path::Path;

const FILE: &str = "guard/line-counts";

/// The counts remembered under `git_common_dir`; unreadable or corrupt lines
/// are recomputed, never trusted.
pub fn load(git_common_dir: &Path) -> HashMap<String, usize> {
    parse(&std::fs::read_to_string(git_common_dir.join(FILE)).unwrap_or_default())
}

/// Only whole lines count: a line without its newline may be one another
/// process is still appending ("1234\n" read as "12").
fn parse(text: &str) -> HashMap<String, usize> {
    text.split_inclusive('\n')
        .filter_map(|l| {
            let (id, n) = l.strip_suffix('\n')?.split_once(' ')?;
            let n = n.parse().ok()?;
            (id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| (id.to_string(), n))
        })
        .collect()
}

/// Append `counts`; failures (a read-only repository) are ignored.
pub fn save(git_common_dir: &Path, counts: &[(String, usize)]) {
    use std::io::Write;
    if counts.is_empty() {
        return;
    }
    let path = git_common_dir.join(FILE);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Keep the file small: start over past 10,000 entries.
    let fresh = std::fs::metadata(&path).is_ok_and(|m| m.len() > 600_000);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(!fresh)
        .write(true)
        .truncate(fresh)
        .open(&path);
    if let Ok(mut f) = file {
        let text: String = counts.iter().map(|(id, n)| format!("{id} {n}\n")).collect();
        let _ = f.write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_line_still_being_appended_is_not_read() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        let other = "89abcdef0123456789abcdef0123456789abcdef";
        let counts = parse(&format!("{id} 1234\n{other} 12"));
        assert_eq!(counts.get(id), Some(&1234));
        assert_eq!(counts.get(other), None);
        assert_eq!(counts.len(), 1);
        // Not a count: skipped.
        assert!(parse(&format!("{id} 12x\n{id}0 5\n")).is_empty());
    }
}
