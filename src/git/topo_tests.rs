//! guard's walk against libgit2's, on random histories git wrote; its
//! reading of commit headers against libgit2's, on commits written by hand.

#![allow(clippy::unwrap_used)]

use git2::{Oid, Sort};
use proptest::prelude::*;

use super::quick_header;
use crate::git::{Repo, run_git};

/// A history: each commit's parents (earlier commits, repeats allowed) and
/// its committer time (few distinct values, so that times tie).
fn history() -> impl Strategy<Value = Vec<(Vec<usize>, i64)>> {
    (2usize..40).prop_flat_map(|n| {
        (0..n)
            .map(|i| {
                let parents = if i == 0 {
                    Just(Vec::new()).boxed()
                } else {
                    prop::collection::vec(0..i, 0..4).boxed()
                };
                (parents, 0i64..6)
            })
            .collect::<Vec<_>>()
    })
}

/// The history written with `hash-object` (so that a commit may name a
/// parent twice): its commits' ids, in order.
fn write(dir: &std::path::Path, history: &[(Vec<usize>, i64)]) -> Vec<String> {
    let tree = run_git(dir, &["mktree"], b"").trim().to_string();
    let mut ids: Vec<String> = Vec::new();
    let mut raw = String::new();
    for (i, (parents, time)) in history.iter().enumerate() {
        raw.clear();
        raw.push_str(&format!("tree {tree}\n"));
        for p in parents {
            raw.push_str(&format!("parent {}\n", ids[*p]));
        }
        let t = 1_700_000_000 + time;
        raw.push_str(&format!(
            "author A <a@example.com> {t} +0100\ncommitter C <c@example.com> {t} -0200\n\n{i}\n"
        ));
        let id = run_git(
            dir,
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            raw.as_bytes(),
        );
        ids.push(id.trim().to_string());
    }
    ids
}

/// libgit2's walk, as guard walked before it had its own.
fn libgit2_walk(dir: &std::path::Path, tips: &[&str], hidden: &[&str], first: bool) -> Vec<String> {
    let repo = git2::Repository::open(dir).unwrap();
    let mut walk = repo.revwalk().unwrap();
    if first {
        walk.simplify_first_parent().unwrap();
    }
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE).unwrap();
    for t in tips {
        walk.push(Oid::from_str(t).unwrap()).unwrap();
    }
    for h in hidden {
        walk.hide(Oid::from_str(h).unwrap()).unwrap();
    }
    walk.map(|r| r.unwrap().to_string()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Ranges, whole histories, first-parent walks and walks from several
    /// tips hiding several commits list what libgit2's walk lists, in its
    /// order (no commit here has 65,535 children, where libgit2 loses some).
    #[test]
    fn walks_list_what_libgit2_lists_in_its_order(
        history in history(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 4),
        repack in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        run_git(dir.path(), &["init", "-q"], b"");
        let ids = write(dir.path(), &history);
        if repack {
            for (i, id) in ids.iter().enumerate() {
                run_git(dir.path(), &["update-ref", &format!("refs/tags/c{i}"), id], b"");
            }
            run_git(dir.path(), &["repack", "-adq"], b"");
        }
        let pick = |k: usize| ids[picks[k].index(ids.len())].as_str();
        let repo = Repo::open_at(dir.path()).unwrap();
        let (tip, from) = (pick(0), pick(1));
        prop_assert_eq!(repo.range(from, tip).unwrap(), libgit2_walk(dir.path(), &[tip], &[from], false));
        prop_assert_eq!(repo.history(tip).unwrap(), libgit2_walk(dir.path(), &[tip], &[], false));
        let tips = [pick(0), pick(2)];
        let hidden = [pick(1), pick(3)];
        let mine = repo
            .topo_walk(
                &tips.map(|t| Oid::from_str(t).unwrap()),
                &hidden.map(|h| Oid::from_str(h).unwrap()),
                false,
            )
            .unwrap();
        prop_assert_eq!(mine, libgit2_walk(dir.path(), &tips, &hidden, false));
        let first = repo
            .topo_walk(&[Oid::from_str(tip).unwrap()], &[Oid::from_str(from).unwrap()], true)
            .unwrap();
        prop_assert_eq!(first, libgit2_walk(dir.path(), &[tip], &[from], true));
    }

    /// Where guard reads a commit's header itself, it reads the parents and
    /// committer time libgit2 and git read; it leaves to libgit2 what is not
    /// in the form git writes.
    #[test]
    fn headers_read_as_libgit2_reads_them(
        parents in prop::collection::vec(prop::sample::select(vec![
            ("parent P1\n", true),
            ("parent P2\n", true),
            ("parent U1\n", false),
            ("parent S1\n", false),
            ("parent  P1\n", false),
        ]), 0..3),
        authors in prop::collection::vec(prop::sample::select(vec![
            ("author A <a@b> 1700000000 +0000\n", true),
            ("author <a> 12 -0130\n", true),
            ("author A <a@b>\n", false),
            ("author A a@b> 1 +0000\n", false),
        ]), 0..3),
        committer in prop::sample::select(vec![
            ("committer C <c@d> 1700000001 +0100\n", true),
            ("committer C <c@d> 0017 +0100\n", true),
            ("committer C <c@<d> 42 +0000\n", true),
            ("committer C <c>d> 42 -1400\n", true),
            ("committer C <c@d> 1700000001\n", false),
            ("committer C <c@d>  1700000001 +0100\n", false),
            ("committer C <c@d> -5 +0100\n", false),
            ("committer C <c@d> 99999999999999999999 +0000\n", false),
            ("committer C <c@d> 42 +0000 x\n", false),
            ("committer C <c@d> 42 +000\n", false),
            ("committer C\n", false),
        ]),
        tail in prop::sample::select(vec!["\nmessage\n", "", "encoding x\n\nm"]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        run_git(dir.path(), &["init", "-q"], b"");
        let tree = run_git(dir.path(), &["mktree"], b"").trim().to_string();
        // Two commits to name as parents: P1, P2; U1 is P1 in capitals, S1
        // P1 cut short.
        let root = |m: &str| {
            let raw = format!("tree {tree}\nauthor A <a@b> 1 +0000\ncommitter C <c@d> 2 +0000\n\n{m}\n");
            run_git(dir.path(), &["hash-object", "-t", "commit", "-w", "--stdin"], raw.as_bytes())
                .trim()
                .to_string()
        };
        let (p1, p2) = (root("one"), root("two"));
        let raw = format!(
            "tree {tree}\n{}{}{}{tail}",
            parents
                .iter()
                .map(|p| p.0.replace("P1", &p1).replace("P2", &p2)
                    .replace("U1", &p1.to_uppercase()).replace("S1", &p1[..38]))
                .collect::<String>(),
            authors.iter().map(|a| a.0).collect::<String>(),
            committer.0,
        );
        let id = run_git(
            dir.path(),
            &["hash-object", "-t", "commit", "-w", "--stdin", "--literally"],
            raw.as_bytes(),
        );
        let id = id.trim();
        let repo = git2::Repository::open(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let object = odb.read(Oid::from_str(id).unwrap()).unwrap();
        let canonical = parents.iter().all(|p| p.1) && authors.iter().all(|a| a.1) && committer.1;
        let quick = quick_header(object.data());
        prop_assert_eq!(quick.is_some(), canonical, "{}", raw);
        if let Some((time, ids)) = quick {
            // git reads the same time and parents ...
            let shown = run_git(dir.path(), &["show", "-s", "--format=%ct %P", id], b"");
            let mut words = shown.split_whitespace();
            prop_assert_eq!(words.next().unwrap().parse::<i64>().unwrap(), time);
            prop_assert_eq!(words.map(str::to_string).collect::<Vec<_>>(),
                ids.iter().map(Oid::to_string).collect::<Vec<_>>());
            // ... and so does libgit2, where it reads the commit in full.
            if let Ok(commit) = repo.find_commit(object.id()) {
                prop_assert_eq!(time, commit.committer().when().seconds());
                prop_assert_eq!(ids, commit.parent_ids().collect::<Vec<_>>());
            } else {
                prop_assert!(authors.is_empty(), "{}", raw);
            }
        }
    }
}

/// A history that cannot be ordered (here two commits that name each
/// other, as a graft could make them) is an error, not a shorter list.
#[test]
fn commits_the_sort_cannot_order_are_an_error() {
    let a = Oid::from_str("1111111111111111111111111111111111111111").unwrap();
    let b = Oid::from_str("2222222222222222222222222222222222222222").unwrap();
    let mut read =
        |id: Oid| -> Result<super::Header, String> { Ok((1, vec![if id == a { b } else { a }])) };
    let mut walk = super::Walk::new(false, &mut read);
    walk.push(a);
    let err = walk.run().unwrap_err();
    assert_eq!(
        err,
        "the walk listed 2 commits but ordered only 0: the history cannot be ordered"
    );
}
