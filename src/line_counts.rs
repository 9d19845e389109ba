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
    std::fs::read_to_string(git_common_dir.join(FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (id, n) = l.split_once(' ')?;
            (id.len() == 40).then(|| Some((id.to_string(), n.parse().ok()?)))?
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
