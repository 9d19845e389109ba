//! Contract section 6: the hooks and `guard fix` never lose or corrupt a
//! user's work (unstaged manifest edits, line endings, partial commits).

use crate::common::*;

const ZONES: &str = "\n[[zone]]\nid = \"mw\"\npath = \"f.txt\"\nlines = \"5-10\"\n\n[[zone]]\nid = \"other\"\npath = \"f.txt\"\nlines = \"15-16\"\n";

fn setup(manifest_text: &str) -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", manifest_text);
    r.commit("init");
    r
}

/// Two lines inserted at the top of f.txt, staged: both zones move down 2.
fn shift(r: &Repo) {
    r.write("f.txt", &format!("import a\nimport b\n{}", lines(20)));
    r.git(&["add", "f.txt"]);
}

#[test]
fn fix_never_overwrites_a_value_the_user_changed() {
    let r = setup(&manifest(ZONES));
    shift(&r);
    // The user widens zone mw by hand, unstaged.
    let edited = r.read("guard.toml").replace("\"5-10\"", "\"1-12\"");
    r.write("guard.toml", &edited);
    let run = r.guard(&["fix"]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains(
            "cannot fix mw: the working tree says f.txt 1-12, guard would write f.txt 7-12; you changed that value"
        ),
        "{run:?}"
    );
    assert_eq!(r.read("guard.toml"), edited, "nothing was written");
}

#[test]
fn fix_applies_moves_to_the_users_text_keeping_their_other_edits() {
    let r = setup(&manifest(ZONES));
    shift(&r);
    let edited = format!("# my note, not staged\n{}", r.read("guard.toml"));
    r.write("guard.toml", &edited);
    let run = r.guard(&["fix"]);
    assert_code(&run, 0);
    assert_eq!(
        r.read("guard.toml"),
        edited
            .replace("\"5-10\"", "\"7-12\"")
            .replace("\"15-16\"", "\"17-18\"")
    );
    // Not staged: the user reviews it.
    assert_ne!(r.git_run(&["diff", "--quiet", "--", "guard.toml"]).code, 0);
}

#[test]
fn a_crlf_manifest_keeps_its_line_endings_through_the_hook() {
    let crlf = manifest(ZONES).replace('\n', "\r\n");
    let r = setup(&crlf);
    assert_code(&r.guard(&["install"]), 0);
    r.write("f.txt", &format!("import a\nimport b\n{}", lines(20)));
    let run = r.commit_hooked("imports");
    assert_code(&run, 0);
    let want = crlf
        .replace("\"5-10\"", "\"7-12\"")
        .replace("\"15-16\"", "\"17-18\"");
    assert_eq!(r.git(&["show", "HEAD:guard.toml"]) + "\r\n", want);
    assert_eq!(r.read("guard.toml"), want);
}

/// With `core.autocrlf = true` the working tree has CRLF and the index LF:
/// the drift fix follows git's conversion instead of seeing "unstaged edits".
#[test]
fn autocrlf_is_not_an_unstaged_edit() {
    let r = Repo::new();
    r.git(&["config", "core.autocrlf", "true"]);
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONES).replace('\n', "\r\n"));
    r.commit("init");
    assert_eq!(
        r.git(&["show", "HEAD:guard.toml"]) + "\n",
        manifest(ZONES),
        "git stores LF"
    );
    assert_code(&r.guard(&["install"]), 0);
    r.write("f.txt", &format!("import a\nimport b\n{}", lines(20)));
    let run = r.commit_hooked("imports");
    assert_code(&run, 0);
    let want = manifest(ZONES)
        .replace("\"5-10\"", "\"7-12\"")
        .replace("\"15-16\"", "\"17-18\"");
    assert_eq!(r.git(&["show", "HEAD:guard.toml"]) + "\n", want);
    assert_eq!(r.read("guard.toml"), want.replace('\n', "\r\n"));
    // HEAD, the index and the working tree agree.
    assert_code(
        &r.git_run(&["diff", "--quiet", "HEAD", "--", "guard.toml"]),
        0,
    );
}

/// `git commit -- PATH` commits from a temporary index: staging the fixed
/// manifest there alone would leave the real index with the old ranges (and
/// the next commit a weakening). The hook refuses with the command to run.
#[test]
fn a_partial_commit_with_drift_is_refused_with_the_command_to_run() {
    let r = setup(&manifest(ZONES));
    assert_code(&r.guard(&["install"]), 0);
    r.write("f.txt", &format!("import a\nimport b\n{}", lines(20)));
    let run = r.git_run(&["commit", "-q", "-m", "imports", "--", "f.txt"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.all().contains(
            "commit again with guard.toml among the paths (git commit -- PATHS guard.toml)"
        ),
        "{run:?}"
    );
    // The hook wrote the fix into the working tree (the user had no edit there).
    assert!(r.read("guard.toml").contains("\"7-12\""));
    let run = r.git_run(&["commit", "-q", "-m", "imports", "--", "f.txt", "guard.toml"]);
    assert_eq!(run.code, 0, "{run:?}");
    // HEAD and the index agree on the manifest; the next commit is clean.
    assert_code(
        &r.git_run(&["diff", "--cached", "--quiet", "--", "guard.toml"]),
        0,
    );
    assert_code(&r.git_run(&["diff", "--quiet", "--", "guard.toml"]), 0);
    r.write("other.txt", "x\n");
    assert_code(&r.commit_hooked("unrelated"), 0);
}

/// `git commit -a` and `--include` commit the index itself: the fix is
/// staged there and HEAD and the index agree afterwards.
#[test]
fn commit_all_with_drift_stages_the_fix_in_the_index() {
    let r = setup(&manifest(ZONES));
    assert_code(&r.guard(&["install"]), 0);
    r.write("f.txt", &format!("import a\nimport b\n{}", lines(20)));
    let run = r.git_run(&["commit", "-q", "-a", "-m", "imports"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_code(
        &r.git_run(&["diff", "--cached", "--quiet", "--", "guard.toml"]),
        0,
    );
    assert!(r.git(&["show", "HEAD:guard.toml"]).contains("\"7-12\""));
}
