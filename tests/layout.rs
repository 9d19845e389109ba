//! The house rules of the source tree (README, "Development"), checked so
//! that they stay true: no source file over 600 lines, git2 named only under
//! `src/git/`, and no import cycle among the crate's top-level modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src is readable") {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Each source file, relative to `src/`, with its text without `//` comments.
fn files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    sources(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a readable source");
            let code: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            let rel = p
                .strip_prefix(&root)
                .expect("under src")
                .display()
                .to_string();
            (rel, code)
        })
        .collect()
}

#[test]
fn no_source_file_is_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let long: Vec<String> = files()
        .into_iter()
        .filter_map(|(rel, _)| {
            let n = std::fs::read_to_string(root.join(&rel))
                .ok()?
                .lines()
                .count();
            (n > 600).then(|| format!("{rel}: {n} lines"))
        })
        .collect();
    assert!(long.is_empty(), "split these: {long:?}");
}

#[test]
fn git2_is_named_only_under_src_git() {
    let outside: Vec<String> = files()
        .into_iter()
        .filter(|(rel, code)| !rel.starts_with("git/") && code.contains("git2::"))
        .map(|(rel, _)| rel)
        .collect();
    assert!(
        outside.is_empty(),
        "git2 used outside src/git/: {outside:?}"
    );
}

/// The top-level module a file belongs to (`git/trees.rs` → `git`).
fn module(rel: &str) -> Option<String> {
    let first = rel.split('/').next()?.trim_end_matches(".rs");
    (!matches!(first, "lib" | "main")).then(|| first.to_string())
}

#[test]
fn top_level_modules_import_no_cycle() {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, code) in files() {
        let Some(from) = module(&rel) else { continue };
        let set = deps.entry(from.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && name != from {
                set.insert(name);
            }
        }
    }
    // Depth-first search for a back edge, reporting the cycle found.
    fn visit(
        m: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in deps.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, deps, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in deps.keys() {
        if let Some(cycle) = visit(m, &deps, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}
