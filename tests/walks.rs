//! Contract sections 3 and 6: a range is every commit reachable from its tip
//! and not from its base. A history shaped so that a walk could lose commits
//! must not hide a zone change from `guard check A..B`, nor from the
//! server's pre-receive hook.

use crate::common::*;

const ZONE: &str = "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\n";

/// A commit naming `parent` as its parent 65,535 times (git writes such a
/// commit with `hash-object`, `fsck` finds nothing wrong with it, and a push
/// takes it): libgit2's walk counts a commit's children in 16 bits, and the
/// count wraps.
fn crowded_merge(r: &Repo, parent: &str) -> String {
    let tree = r.git(&["rev-parse", &format!("{parent}^{{tree}}")]);
    let mut raw = format!("tree {tree}\n");
    for _ in 0..65_535 {
        raw.push_str(&format!("parent {parent}\n"));
    }
    raw.push_str(
        "author A U Thor <author@example.com> 1700000000 +0000\n\
         committer A U Thor <author@example.com> 1700000000 +0000\n\nmerge\n",
    );
    r.git_input(
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        raw.as_bytes(),
    )
}

/// A zoned repository, an unsigned edit of the zone, and on top of it a
/// commit naming the edit 65,535 times: (base, edit, top).
fn edit_under_a_crowded_merge(r: &Repo) -> (String, String, String) {
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    let base = r.commit("init");
    r.write("f.txt", &lines(20).replace("line 2\n", "backdoor\n"));
    let edit = r.commit("edit the zone, unsigned");
    let top = crowded_merge(r, &edit);
    r.git(&["update-ref", "refs/heads/main", &top]);
    (base, edit, top)
}

#[test]
fn a_commit_naming_its_parent_65535_times_hides_nothing_of_a_range() {
    let r = Repo::new();
    let (base, edit, top) = edit_under_a_crowded_merge(&r);
    // git's own walk lists both commits.
    let listed = r.git(&[
        "rev-list",
        "--topo-order",
        "--reverse",
        &format!("{base}..{top}"),
    ]);
    assert_eq!(listed, format!("{edit}\n{top}"));
    assert_eq!(r.git(&["fsck", "--strict", "--no-dangling"]), "");
    // Loose, packed, and with a commit-graph: the edit is judged and blocked.
    for setup in [
        &[][..],
        &["repack", "-adq"][..],
        &["commit-graph", "write", "--reachable"][..],
    ] {
        if !setup.is_empty() {
            r.git(setup);
        }
        let run = r.guard(&["check", &format!("{base}..{top}")]);
        assert_code(&run, 1);
        assert!(
            run.stdout
                .contains(&format!("BLOCKED commit {}", &edit[..10])),
            "{setup:?}: {run:?}"
        );
        assert!(
            run.stdout
                .contains("guard: blocked (2 changes checked, 1 blocked"),
            "{setup:?}: {run:?}"
        );
    }
}

#[test]
fn a_push_of_an_edit_under_a_crowded_merge_is_refused() {
    let srv = Repo::new();
    std::fs::remove_dir_all(srv.file(".git")).unwrap();
    srv.git(&["init", "-q", "--bare", "-b", "main", "."]);
    assert_code(&srv.guard(&["install", "--server"]), 0);
    let w = Repo::new();
    let (base, _, top) = edit_under_a_crowded_merge(&w);
    w.git(&["remote", "add", "origin", srv.path().to_str().unwrap()]);
    assert_code(
        &w.git_run(&["push", "-q", "origin", &format!("{base}:refs/heads/main")]),
        0,
    );
    let push = w.git_run(&["push", "-q", "origin", &format!("{top}:refs/heads/main")]);
    assert_ne!(push.code, 0, "{push:?}");
    assert!(
        push.stderr.contains("pre-receive hook declined"),
        "{push:?}"
    );
    assert!(push.stderr.contains("edit the zone, unsigned"), "{push:?}");
    assert_eq!(srv.git(&["rev-parse", "refs/heads/main"]), base);
}
