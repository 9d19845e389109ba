//! Contract sections 3 and 5: zones follow their code; the manifest guards itself.

use crate::common::*;

const ZONES: &str = "\n# the main zone\n[[zone]]\nid = \"mw\"   # middleware\npath = \"f.txt\"\nlines = \"5-10\"\nreason = \"Middleware\"\n\n[[zone]]\nid = \"other\"\npath = \"f.txt\"\nlines = \"15-16\"\n";

fn setup() -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONES));
    r.commit("init");
    r
}

#[test]
fn fix_moves_zones_and_keeps_every_other_byte() {
    let r = setup();
    let before = r.read("guard.toml");
    r.write("f.txt", &format!("import a\nimport b\n{}", lines(20)));
    r.git(&["add", "-A"]);
    let run = r.guard(&["fix"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("mw: f.txt 5-10 -> f.txt 7-12"),
        "{run:?}"
    );
    let after = r.read("guard.toml");
    assert_eq!(
        after,
        before
            .replace("lines = \"5-10\"", "lines = \"7-12\"")
            .replace("lines = \"15-16\"", "lines = \"17-18\"")
    );
    // Staged: the check passes without sign-offs (drift only, no zone touched).
    let run = r.guard(&["check"]);
    assert_code(&run, 0);
    let id = r.commit("imports");
    assert_code(&r.guard(&["check", &id]), 0);
    let again = r.guard(&["fix"]);
    assert_code(&again, 0);
    assert!(again.stdout.contains("nothing to fix"), "{again:?}");
}

#[test]
fn without_the_fix_the_commit_is_stale_and_signoffs_do_not_waive_it() {
    let r = setup();
    r.write("f.txt", &format!("import a\n{}", lines(20)));
    r.commit_message(&signed("s", &[ALPHA, BETA, GAMMA]));
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("stale-zone"), "{run:?}");
    assert!(run.stdout.contains("f.txt:6-11"), "{run:?}");
}

#[test]
fn insertions_inside_widen_the_zone_and_deletions_shrink_it() {
    let r = setup();
    let mut v: Vec<String> = lines(20).lines().map(String::from).collect();
    v.insert(7, "inserted".into());
    v.remove(0);
    r.write("f.txt", &(v.join("\n") + "\n"));
    r.git(&["add", "-A"]);
    let run = r.guard(&["fix"]);
    assert!(
        run.stdout.contains("mw: f.txt 5-10 -> f.txt 4-10"),
        "{run:?}"
    );
}

#[test]
fn a_zone_whose_lines_are_all_deleted_is_reported_not_guessed() {
    let r = setup();
    let v: Vec<String> = lines(20)
        .lines()
        .enumerate()
        .filter(|(i, _)| !(14..=15).contains(i))
        .map(|(_, l)| l.to_string())
        .collect();
    r.write("f.txt", &(v.join("\n") + "\n"));
    r.git(&["add", "-A"]);
    let before = r.read("guard.toml");
    let run = r.guard(&["fix"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("other"), "{run:?}");
    assert_eq!(r.read("guard.toml"), before);
}

#[test]
fn a_rename_carries_the_zone_to_the_new_path() {
    let r = setup();
    r.git(&["mv", "f.txt", "g.txt"]);
    let run = r.guard(&["fix"]);
    assert_code(&run, 0);
    assert!(r.read("guard.toml").contains("path = \"g.txt\""), "{run:?}");
}

#[test]
fn a_manifest_moving_a_zone_elsewhere_is_a_weakening() {
    let r = setup();
    r.write("guard.toml", &r.read("guard.toml").replace("5-10", "6-10"));
    r.git(&["add", "-A"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("zone mw shrunk f.txt:5-10 -> f.txt:6-10"),
        "{run:?}"
    );
    let msg = r.file("m");
    std::fs::write(&msg, signed("s", &[ALPHA, BETA])).unwrap();
    assert_code(
        &r.guard(&["check", "--message-file", msg.to_str().unwrap()]),
        0,
    );
}

fn manifest_change(from: &str, to: &str) -> Run {
    let r = setup();
    let text = r.read("guard.toml");
    assert!(text.contains(from), "{from}");
    r.write("guard.toml", &text.replacen(from, to, 1));
    r.git(&["add", "-A"]);
    r.guard(&["check"])
}

#[test]
fn weakenings_need_signoffs() {
    for (from, to, what) in [
        ("lines = \"5-10\"", "lines = \"5-9\"", "shrunk"),
        (
            "reason = \"Middleware\"\n",
            "reason = \"Middleware\"\nsignoffs = 1\n",
            "signoffs lowered 2 -> 1",
        ),
        (
            "version = 1\n",
            "version = 1\n[policy]\nsignoffs = 1\n",
            "policy.signoffs lowered",
        ),
        (
            "version = 1\n",
            "version = 1\n[policy]\ntrailers = [\"Signed-off-by\", \"Acked-by\"]\n",
            "accepts a new key",
        ),
        (
            "\"gamma@jarvis.example\"]",
            "\"gamma@jarvis.example\", \"g@evil.example\"]",
            "email g@evil.example added",
        ),
        (
            "id = \"gamma\"\n",
            "id = \"gamma\"\nkey = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPHqr7FxDtKyHDvJLLTSIGi5umx0Z1tXNswCIP9gYFf6 g\"\n",
            "key added",
        ),
        (
            "[[zone]]\nid = \"other\"\npath = \"f.txt\"\nlines = \"15-16\"\n",
            "",
            "zone other removed",
        ),
        // Issue 14: the author is matched by email, so dropping one lets that
        // author sign their own change by id when author_counts = false.
        (
            "\"beta@jarvis.example\", \"beta2@jarvis.example\"]",
            "\"beta@jarvis.example\"]",
            "instance beta email beta2@jarvis.example removed",
        ),
    ] {
        let run = manifest_change(from, to);
        assert_code(&run, 1);
        assert!(run.stdout.contains(what), "{what}: {run:?}");
    }
}

#[test]
fn tightenings_need_no_signoffs() {
    for (from, to) in [
        ("lines = \"5-10\"", "lines = \"4-11\""),
        (
            "reason = \"Middleware\"\n",
            "reason = \"Middleware\"\nsignoffs = 3\n",
        ),
        (
            "version = 1\n",
            "version = 1\n[policy]\nsignoffs = 3\naudit_trailers = [\"Why\"]\n",
        ),
        (
            "[[instance]]\nid = \"gamma\"\nemails = [\"gamma@jarvis.example\"]\n",
            "",
        ),
        (
            "version = 1\n",
            "version = 1\n[[invariant]]\npath = \"f.txt\"\nmust_contain = \"line 1\"\n",
        ),
        (
            "# the main zone\n",
            "# the main zone\n[[zone]]\nid = \"new\"\npath = \"f.txt\"\nlines = \"1-2\"\n\n",
        ),
    ] {
        let run = manifest_change(from, to);
        assert_code(&run, 0);
    }
}

#[test]
fn removing_the_last_instance_is_a_weakening() {
    let r = Repo::new();
    r.write("f.txt", &lines(5));
    r.write(
        "guard.toml",
        "version = 1\n[[instance]]\nid = \"a\"\nemails = [\"a@x.example\"]\n",
    );
    r.commit("init");
    r.write("guard.toml", "version = 1\n");
    r.git(&["add", "-A"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("the last one"), "{run:?}");
}

#[test]
fn a_zone_past_the_new_end_of_its_file_is_stale() {
    let r = setup();
    r.write(
        "guard.toml",
        &r.read("guard.toml").replace("15-16", "15-26"),
    );
    r.git(&["add", "-A"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("stale-zone"), "{run:?}");
}

/// Each file is looked at once for the zones it holds, and each zone is
/// told its own file's length, not another's.
#[test]
fn each_zone_past_its_end_is_measured_against_its_own_file() {
    let r = Repo::new();
    r.write("a.txt", &lines(20));
    r.write("b.txt", &lines(10));
    r.write(
        "guard.toml",
        &manifest(
            "\n[[zone]]\nid = \"za\"\npath = \"a.txt\"\nlines = \"1-5\"\n\n[[zone]]\nid = \"za2\"\npath = \"a.txt\"\nlines = \"7-8\"\n\n[[zone]]\nid = \"zb\"\npath = \"b.txt\"\nlines = \"1-5\"\n",
        ),
    );
    r.commit("init");
    // Widening zb past b.txt's end tightens the manifest, but the zone no
    // longer fits its file; a.txt changes outside its zones.
    r.write(
        "guard.toml",
        &r.read("guard.toml").replace(
            "id = \"zb\"\npath = \"b.txt\"\nlines = \"1-5\"",
            "id = \"zb\"\npath = \"b.txt\"\nlines = \"1-15\"",
        ),
    );
    edit(&r, "a.txt", 15);
    r.git(&["add", "-A"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("b.txt has 10 lines after the change: the range runs past its end"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("zone za"), "{run:?}");
}

#[test]
fn deleting_the_manifest_needs_signoffs() {
    let r = setup();
    std::fs::remove_file(r.file("guard.toml")).unwrap();
    r.git(&["add", "-A"]);
    assert_code(&r.guard(&["check"]), 1);
}

#[test]
fn fix_keeps_every_other_byte_of_an_oddly_formatted_manifest() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    let before = "# odd but valid\nversion=1\n\ninstance = [ { id = 'alpha', emails = [ \"alpha@jarvis.example\" ] } ]\n\nzone = [\n  { id = \"inline\" , path = 'f.txt',lines='3-4' },   # kept\n  {id=\"other\",path=\"f.txt\",  lines = \"10-12\"}\n]\n\n[policy]  # trailing comment\nsignoffs   =   1\n";
    r.write("guard.toml", before);
    r.commit("init");
    r.write("f.txt", &format!("top\n{}", lines(20)));
    r.git(&["add", "-A"]);
    let run = r.guard(&["fix"]);
    assert_code(&run, 0);
    let expected = before
        .replace("lines='3-4'", "lines='4-5'")
        .replace("lines = \"10-12\"", "lines = \"11-13\"");
    assert_eq!(r.read("guard.toml"), expected);
    assert_code(&r.guard(&["check"]), 0);
}

/// A signed change that makes a file binary and moves a line zone's code
/// (red team): binary files are never diffed, but the zone must still follow
/// its code, so the stale-zone rule holds (sign-offs do not waive it).
#[test]
fn a_binary_round_trip_cannot_move_a_zone_off_its_code() {
    let r = Repo::new();
    r.write("sec.txt", &lines(20));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"sec\"\npath = \"sec.txt\"\nlines = \"5-10\"\n"),
    );
    r.commit("init");
    // A NUL on a new first line and 100 lines above the zone: its code is
    // now at 106-111, its bytes unchanged.
    let padded = format!(
        "x\0\n{}{}",
        (1..=100).map(|i| format!("pad {i}\n")).collect::<String>(),
        lines(20)
    );
    r.write("sec.txt", &padded);
    r.git(&["add", "sec.txt"]);
    r.commit_message(&signed("binary, moved", &[ALPHA, BETA]));
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains(
            "stale zone sec: the manifest says sec.txt:5-10, its code is now at sec.txt:106-111"
        ),
        "{run:?}"
    );
    // The manifest follows (as `guard fix` writes it); then a binary change
    // inside the zone's lines: they cannot be followed.
    r.write(
        "guard.toml",
        &r.read("guard.toml").replace("5-10", "106-111"),
    );
    r.commit_message(&signed("follow", &[ALPHA, BETA]));
    r.write("sec.txt", &padded.replace("line 7\n", "LINE 7\n"));
    r.git(&["add", "sec.txt"]);
    r.commit_message(&signed("binary, edited", &[ALPHA, BETA]));
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("stale zone sec"), "{run:?}");
    assert!(
        run.stdout
            .contains("sec.txt is binary on one side and the zone's lines changed"),
        "{run:?}"
    );
}

/// A binary file renamed as it is: its zone follows it (second red team:
/// it was "nowhere", so `guard fix` could not follow it).
#[test]
fn a_binary_file_renamed_as_it_is_keeps_its_zone() {
    let r = Repo::new();
    r.write("sec.bin", &format!("x\0\n{}", lines(20)));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"sec\"\npath = \"sec.bin\"\nlines = \"5-10\"\n"),
    );
    r.commit("init");
    r.git(&["mv", "sec.bin", "moved.bin"]);
    r.commit_message(&signed("rename", &[ALPHA, BETA]));
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains(
            "stale zone sec: the manifest says sec.bin:5-10, its code is now at moved.bin:5-10"
        ),
        "{run:?}"
    );
}
