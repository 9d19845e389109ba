//! Contract section 4: when a change touches a zone.

use crate::common::*;

const ZONE: &str =
    "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\nreason = \"the zone\"\n";

fn setup(zone: &str) -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(zone));
    r.commit("init");
    r
}

fn edit(f: impl Fn(&mut Vec<String>)) -> String {
    let mut v: Vec<String> = lines(20).lines().map(str::to_string).collect();
    f(&mut v);
    v.into_iter().map(|l| l + "\n").collect()
}

/// Exit code of `guard check` on the staged change, and of `guard check HEAD`
/// after committing it: both must agree.
fn touched(r: &Repo) -> bool {
    r.git(&["add", "-A"]);
    // Drift is not a touch: let the manifest follow first.
    let fix = r.guard(&["fix"]);
    assert!(fix.code == 0 || fix.code == 1, "{fix:?}");
    let staged = r.guard(&["check"]);
    let id = r.commit("change");
    let committed = r.guard(&["check", &id]);
    assert_eq!(staged.code, committed.code, "{staged:?}\n{committed:?}");
    assert!(staged.code == 0 || staged.code == 1, "{staged:?}");
    staged.code == 1
}

fn touched_by(f: impl Fn(&mut Vec<String>)) -> bool {
    let r = setup(ZONE);
    r.write("f.txt", &edit(f));
    touched(&r)
}

#[test]
fn modified_lines_inside_touch() {
    assert!(touched_by(|v| v[4] = "changed".into()));
    assert!(touched_by(|v| v[9] = "changed".into()));
    assert!(touched_by(|v| {
        v.remove(6);
    }));
}

#[test]
fn lines_outside_do_not_touch() {
    assert!(!touched_by(|v| v[3] = "changed".into()));
    assert!(!touched_by(|v| v[10] = "changed".into()));
    assert!(!touched_by(|v| {
        v.remove(0);
    }));
}

#[test]
fn insertions_touch_only_strictly_inside() {
    assert!(!touched_by(|v| v.insert(4, "before".into())));
    assert!(!touched_by(|v| v.insert(10, "after".into())));
    assert!(touched_by(|v| v.insert(5, "inside".into())));
    assert!(touched_by(|v| v.insert(9, "inside".into())));
}

#[test]
fn whitespace_and_line_endings_count() {
    assert!(touched_by(|v| v[6].push(' ')));
    assert!(touched_by(|v| v[6].push('\r')));
}

#[test]
fn last_line_without_newline_is_a_line() {
    let r = Repo::new();
    r.write("f.txt", "a\nb\nc");
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"3-3\"\n"),
    );
    r.commit("init");
    r.write("f.txt", "a\nb\nC");
    assert!(touched(&r));
    let r2 = Repo::new();
    r2.write("f.txt", "a\nb\nc");
    r2.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-2\"\n"),
    );
    r2.commit("init");
    r2.write("f.txt", "a\nb\nC");
    assert!(!touched(&r2));
}

#[test]
fn deleting_or_renaming_the_file_touches() {
    let r = setup(ZONE);
    std::fs::remove_file(r.file("f.txt")).unwrap();
    assert!(touched(&r));
    let r = setup(ZONE);
    r.git(&["mv", "f.txt", "g.txt"]);
    let run = {
        r.git(&["add", "-A"]);
        r.guard(&["check"])
    };
    assert_code(&run, 1);
    assert!(run.stdout.contains("renamed to g.txt"), "{run:?}");
}

#[test]
fn a_copy_that_leaves_the_original_does_not_touch() {
    let r = setup(ZONE);
    std::fs::copy(r.file("f.txt"), r.file("copy.txt")).unwrap();
    assert!(!touched(&r));
}

#[test]
fn type_changes_touch_and_mode_changes_touch_whole_file_zones() {
    let r = setup(ZONE);
    std::fs::remove_file(r.file("f.txt")).unwrap();
    std::os::unix::fs::symlink("guard.toml", r.file("f.txt")).unwrap();
    assert!(touched(&r));

    let r = setup(ZONE);
    r.git(&["update-index", "--chmod=+x", "f.txt"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 0);

    let r = setup("\n[[zone]]\nid = \"whole\"\npath = \"f.txt\"\n");
    r.git(&["update-index", "--chmod=+x", "f.txt"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("mode changed"), "{run:?}");
}

#[test]
fn whole_file_and_glob_zones() {
    let r = setup("\n[[zone]]\nid = \"whole\"\npath = \"f.txt\"\n");
    r.write("f.txt", &edit(|v| v[19] = "x".into()));
    assert!(touched(&r));

    let r = setup("\n[[zone]]\nid = \"auth\"\npath = \"backend/auth/*.py\"\n");
    r.write("backend/auth/new.py", "x = 1\n");
    assert!(touched(&r));
    r.write("backend/other.py", "x = 1\n");
    r.write("backend/auth/deeper/x.py", "x = 1\n");
    assert!(!touched(&r), "globs do not cross directories");
    std::fs::remove_file(r.file("backend/auth/new.py")).unwrap();
    assert!(touched(&r));

    let r = setup("\n[[zone]]\nid = \"dir\"\npath = \"backend/auth\"\n");
    r.write("backend/auth/x/y.py", "x = 1\n");
    assert!(touched(&r), "a directory path covers what is below it");
    let r = setup("\n[[zone]]\nid = \"new\"\npath = \"later.txt\"\n");
    r.write("later.txt", "created\n");
    assert!(
        touched(&r),
        "creating a file a whole-file zone names touches it"
    );
}

#[test]
fn binary_content_changes_touch_every_zone_of_the_file() {
    let r = Repo::new();
    let mut data = b"line 1\nline 2\0bin\nline 3\nline 4\n".to_vec();
    r.write_bytes("b.bin", &data);
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"b\"\npath = \"b.bin\"\nlines = \"1-1\"\n"),
    );
    r.commit("init");
    data.extend_from_slice(b"tail\n");
    r.write_bytes("b.bin", &data);
    r.git(&["add", "-A"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("binary"), "{run:?}");
}

#[test]
fn a_zone_free_change_passes_quietly() {
    let r = setup(ZONE);
    r.write("other.txt", "hello\n");
    r.git(&["add", "-A"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("touches no zone"), "{run:?}");
}

#[test]
fn the_report_names_zone_file_lines_and_text() {
    let r = setup(ZONE);
    r.write("f.txt", &edit(|v| v[6] = "seven changed".into()));
    r.git(&["add", "-A"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    for needle in [
        "staged",
        "zone z",
        "the zone",
        "f.txt:5-10",
        "line 7",
        "- line 7",
        "+ seven changed",
        "needs 2 sign-offs",
        "alpha, beta, gamma",
    ] {
        assert!(run.stdout.contains(needle), "missing {needle:?}: {run:?}");
    }
}

#[test]
fn no_manifest_in_the_base_means_no_rules() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    let root = r.commit("root adds the manifest");
    assert_code(&r.guard(&["check", &root]), 0);
    r.git(&["add", "-A"]);
    assert_code(&r.guard(&["check"]), 0);
}

#[test]
fn every_index_format_gives_the_same_verdict() {
    for setup_index in [
        &["update-index", "--index-version", "2"][..],
        &["update-index", "--index-version", "3"],
        &["update-index", "--index-version", "4"],
    ] {
        let r = setup(ZONE);
        r.git(setup_index);
        // A path that sorts between "f.txt" and "f.txt/" must not confuse lookups.
        r.write("f.txt-notes", "x\n");
        r.write("f.txt", &edit(|v| v[6] = "changed".into()));
        r.git(&["add", "-A"]);
        r.git(setup_index);
        let run = r.guard(&["check"]);
        assert_code(&run, 1);
        assert!(run.stdout.contains("+ changed"), "{setup_index:?}: {run:?}");
        r.git(&["reset", "-q", "--hard"]);
        r.write("g.txt", "x\n");
        r.git(&["add", "-A"]);
        assert_code(&r.guard(&["check"]), 0);
    }
}

#[test]
fn a_split_index_is_an_error_with_the_fix() {
    let r = setup(ZONE);
    r.write("f.txt", &edit(|v| v[6] = "changed".into()));
    r.git(&["add", "-A"]);
    r.git(&["update-index", "--split-index"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 2);
    assert!(run.stderr.contains("--no-split-index"), "{run:?}");
}

#[test]
fn lookups_respect_git_tree_order() {
    // git sorts "a-b" < "a.c" < "a/" (a directory sorts as if it ended in '/').
    let r = Repo::new();
    for p in ["a-b", "a.c", "a/x.c", "a0", "b"] {
        r.write(p, "x\n");
    }
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"file\"\npath = \"a.c\"\n\n[[zone]]\nid = \"dir\"\npath = \"a\"\n\n[[zone]]\nid = \"dash\"\npath = \"a-b\"\n\n[[zone]]\nid = \"zero\"\npath = \"a0\"\n"),
    );
    r.commit("init");
    for (path, zone) in [
        ("a.c", "zone file"),
        ("a/x.c", "zone dir"),
        ("a-b", "zone dash"),
        ("a0", "zone zero"),
    ] {
        r.write(path, "changed\n");
        let id = r.commit("change");
        let run = r.guard(&["check", &id]);
        assert_code(&run, 1);
        assert!(run.stdout.contains(zone), "{path}: {run:?}");
    }
    r.write("b", "changed\n");
    let id = r.commit("unzoned");
    assert_code(&r.guard(&["check", &id]), 0);
}
