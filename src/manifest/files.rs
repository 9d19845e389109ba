//! Checks of a manifest that need the files it is judged against.

use foldhash::{HashMap, HashMapExt};

use super::Manifest;
use super::PathSpec;
use super::source::{ConfigError, Source};

/// What a zone's file is in the tree the manifest is judged against.
#[derive(Debug, Clone, Copy)]
pub enum FileState {
    Missing,
    NotAFile,
    Lines(usize),
}

/// Checks that need the files: every `lines` zone's file exists and is long enough.
pub fn check_files(
    manifest: &Manifest,
    text: &str,
    label: &str,
    mut file: impl FnMut(&str) -> crate::Result<FileState>,
) -> crate::Result<Result<(), ConfigError>> {
    // The line index is built only for a problem to place.
    let mut src = None;
    let mut problems = Vec::new();
    // Each file is looked at once, however many zones it holds; the zones of
    // one file are mostly written together, so the last file is tried first.
    let mut states: HashMap<&str, FileState> = HashMap::new();
    let mut last: Option<(&str, FileState)> = None;
    for z in manifest.zones.iter() {
        let (Some(range), PathSpec::Literal(path)) = (z.lines, &z.path) else {
            continue;
        };
        let state = match last {
            Some((p, s)) if p == path => s,
            _ => match states.get(path.as_str()) {
                Some(s) => *s,
                None => {
                    let s = file(path)?;
                    states.insert(path, s);
                    s
                }
            },
        };
        last = Some((path, state));
        let msg = match state {
            FileState::Lines(n) if range.end as usize <= n => continue,
            FileState::Lines(n) => format!(
                "zone {:?}: lines {range} run past the end of {path} ({n} lines)",
                z.id
            ),
            FileState::Missing => format!("zone {:?}: {path} does not exist", z.id),
            FileState::NotAFile => format!("zone {:?}: {path} is not a file", z.id),
        };
        let src = src.get_or_insert_with(|| Source::new(text));
        problems.push(src.problem_at(src.pos(z.at), msg));
    }
    Ok(if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError {
            label: label.to_string(),
            problems,
        })
    })
}
