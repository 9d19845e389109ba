//! Every list of changes guard reads (two trees, a tree and the index, the
//! empty tree) against git's own (`git diff-tree` / `git diff-index
//! --cached`, no rename detection) on random trees: nested directories, a
//! file replaced by a directory of the same name, executables, symlinks.

use std::collections::BTreeSet;

use guard::change::{Entry, Kind};
use guard::git::{Repo as GitRepo, Side};
use proptest::prelude::*;

use crate::common::*;

/// A path's content in one state: absent, or a file of some kind and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    File(u8),
    Exec(u8),
    Link(u8),
}

/// Names whose order in a tree differs from their order as paths ("a" as a
/// directory sorts as "a/", after "a-b" and "a.b").
const NAMES: [&str; 4] = ["a", "a-b", "a.b", "b"];

fn paths() -> impl Strategy<Value = Vec<(String, What)>> {
    let name = proptest::sample::select(NAMES.to_vec());
    let path = proptest::collection::vec(name, 1..=3).prop_map(|p| p.join("/"));
    let what = prop_oneof![
        (0u8..3).prop_map(What::File),
        (0u8..3).prop_map(What::Exec),
        (0u8..2).prop_map(What::Link),
    ];
    proptest::collection::vec((path, what), 0..8)
}

/// Keep only paths git can hold together: none is a prefix directory of another.
fn consistent(mut list: Vec<(String, What)>) -> Vec<(String, What)> {
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list.dedup_by(|a, b| a.0 == b.0);
    let names: Vec<String> = list.iter().map(|(p, _)| p.clone()).collect();
    list.retain(|(p, _)| !names.iter().any(|q| q.starts_with(&format!("{p}/"))));
    list
}

/// Make the work tree hold exactly `state` and stage it.
fn write_state(r: &Repo, state: &[(String, What)]) {
    for e in std::fs::read_dir(r.path()).unwrap() {
        let e = e.unwrap();
        if e.file_name() != ".git" {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                std::fs::remove_dir_all(p).unwrap();
            } else {
                std::fs::remove_file(p).unwrap();
            }
        }
    }
    for (path, what) in state {
        let full = r.file(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        match what {
            What::File(t) | What::Exec(t) => {
                std::fs::write(&full, format!("text {t}\n")).unwrap();
                let mode = if matches!(what, What::Exec(_)) {
                    0o755
                } else {
                    0o644
                };
                std::fs::set_permissions(&full, std::os::unix::fs::PermissionsExt::from_mode(mode))
                    .unwrap();
            }
            What::Link(t) => std::os::unix::fs::symlink(format!("target-{t}"), &full).unwrap(),
        }
    }
    r.git(&["add", "-A"]);
}

type Row = (String, String, String, String, String);

fn mode(e: &Option<Entry>) -> (String, String) {
    match e {
        None => ("000000".into(), "0".repeat(40)),
        Some(e) => (
            match e.kind {
                Kind::File => "100644",
                Kind::Executable => "100755",
                Kind::Symlink => "120000",
                Kind::Submodule => "160000",
            }
            .into(),
            e.id.clone(),
        ),
    }
}

/// git's raw diff output as rows (path, old mode, new mode, old id, new id).
fn git_rows(raw: &str) -> BTreeSet<Row> {
    raw.lines()
        .filter_map(|l| {
            let (meta, path) = l.split_once('\t')?;
            let f: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
            Some((
                path.to_string(),
                f[0].into(),
                f[1].into(),
                f[2].into(),
                f[3].into(),
            ))
        })
        .collect()
}

fn guard_rows(changes: Vec<guard::change::FileChange>) -> BTreeSet<Row> {
    changes
        .into_iter()
        .map(|c| {
            let ((om, oi), (nm, ni)) = (mode(&c.old), mode(&c.new));
            (c.path, om, nm, oi, ni)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn change_lists_are_what_git_diff_lists(a in paths(), b in paths(), roots in proptest::collection::vec(proptest::sample::select(NAMES.to_vec()), 0..3)) {
        let (a, b) = (consistent(a), consistent(b));
        let r = Repo::new();
        write_state(&r, &a);
        let ca = r.commit("a");
        write_state(&r, &b);
        let repo = GitRepo::open_at(r.path()).unwrap();
        let tree = |c: &str| Side::Tree(r.git(&["rev-parse", &format!("{c}^{{tree}}")]));
        let base = tree(&ca);
        // The index against a tree (the staged check), whole and under roots.
        let git = git_rows(&r.git(&["diff-index", "--cached", "--raw", "--no-renames", "--abbrev=40", &ca]));
        prop_assert_eq!(guard_rows(repo.changes(&base, &Side::Index, &[""]).unwrap()), git);
        let mut args = vec!["--literal-pathspecs", "diff-index", "--cached", "--raw", "--no-renames", "--abbrev=40", &ca, "--"];
        args.extend(roots.iter().copied());
        let git = if roots.is_empty() { BTreeSet::new() } else { git_rows(&r.git(&args)) };
        prop_assert_eq!(guard_rows(repo.changes(&base, &Side::Index, &roots).unwrap()), git);
        // Two trees, whole and under roots; the empty tree to a tree.
        let cb = r.commit("b");
        let repo = GitRepo::open_at(r.path()).unwrap();
        let git = git_rows(&r.git(&["diff-tree", "-r", "--raw", "--no-renames", "--abbrev=40", &ca, &cb]));
        prop_assert_eq!(guard_rows(repo.changes(&base, &tree(&cb), &[""]).unwrap()), git);
        let mut args = vec!["--literal-pathspecs", "diff-tree", "-r", "--raw", "--no-renames", "--abbrev=40", &ca, &cb, "--"];
        args.extend(roots.iter().copied());
        let git = if roots.is_empty() { BTreeSet::new() } else { git_rows(&r.git(&args)) };
        prop_assert_eq!(guard_rows(repo.changes(&base, &tree(&cb), &roots).unwrap()), git);
        let empty = r.git(&["hash-object", "-t", "tree", "/dev/null"]);
        let git = git_rows(&r.git(&["diff-tree", "-r", "--raw", "--no-renames", "--abbrev=40", &empty, &cb]));
        prop_assert_eq!(guard_rows(repo.changes(&Side::Empty, &tree(&cb), &[""]).unwrap()), git);
    }
}
