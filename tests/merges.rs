//! Contract section 4, merges: only what the merge itself wrote counts.

use crate::common::*;

const ZONE: &str = "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\n";

fn branches() -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("f.txt", &lines(20).replace("line 2\n", "two\n"));
    r.commit_message(&signed("signed zone edit", &[ALPHA, BETA]));
    r.git(&["checkout", "-q", "main"]);
    r.write("g.txt", "main work\n");
    r.commit("main work");
    r
}

#[test]
fn a_clean_merge_of_signed_work_passes() {
    let r = branches();
    r.git(&[
        "merge",
        "-q",
        "--no-verify",
        "--no-ff",
        "-m",
        "merge feature",
        "feature",
    ]);
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 0);
    assert_code(&r.guard(&["check", "HEAD~2..HEAD"]), 0);
}

#[test]
fn an_evil_merge_that_edits_a_zone_is_blocked() {
    let r = branches();
    r.git(&[
        "merge",
        "-q",
        "--no-verify",
        "--no-commit",
        "--no-ff",
        "feature",
    ]);
    r.write(
        "f.txt",
        &lines(20)
            .replace("line 2\n", "two\n")
            .replace("line 4\n", "evil\n"),
    );
    r.commit_message("merge feature");
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("+ evil"), "{run:?}");
    assert!(!run.stdout.contains("+ two"), "{run:?}");
}

#[test]
fn merging_through_the_hooks() {
    let r = branches();
    assert_code(&r.guard(&["install"]), 0);
    let m = r.git_run(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    assert_eq!(m.code, 0, "{m:?}");
}
