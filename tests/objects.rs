//! Contract section 4, "Objects git would reject or read differently": guard
//! reads the repository exactly as git does, or refuses (exit 2).

use crate::common::*;

const ZONE: &str = "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\n";

/// A replacement object makes git show other content than the original: a
/// zoned blob replaced by one with a backdoor.
#[test]
fn replacement_objects_are_refused_unless_git_ignores_them_too() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    r.commit("init");
    r.write("f.txt", &lines(20).replace("line 20\n", "twenty\n"));
    let edit = r.commit("edit below the zone");
    // Replace the new blob with one that changes the zone.
    let blob = r.git(&["rev-parse", "HEAD:f.txt"]);
    r.write("evil.txt", &lines(20).replace("line 2\n", "backdoor\n"));
    let evil = r.git(&["hash-object", "-w", "evil.txt"]);
    std::fs::remove_file(r.file("evil.txt")).unwrap();
    r.git(&["replace", &blob, &evil]);
    // git itself now shows the backdoor.
    assert!(r.git(&["show", "HEAD:f.txt"]).contains("backdoor"));
    for args in [
        vec!["check", edit.as_str()],
        vec!["check", "HEAD~1..HEAD"],
        vec!["zones"],
    ] {
        let run = r.guard(&args);
        assert_code(&run, 2);
        assert!(
            run.stderr
                .contains("the repository has replacement objects (refs/replace/"),
            "{args:?}: {run:?}"
        );
    }
    // With replacements off for git too, both read the originals.
    let out = r
        .cmd(guard_bin())
        .args(["check", &edit])
        .env("GIT_NO_REPLACE_OBJECTS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    r.git(&["config", "core.useReplaceRefs", "false"]);
    assert_code(&r.guard(&["check", &edit]), 0);
}

#[test]
fn grafts_are_refused() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    let first = r.commit("init");
    r.write("f.txt", &lines(20).replace("line 20\n", "twenty\n"));
    let second = r.commit("edit");
    std::fs::create_dir_all(r.path().join(".git/info")).unwrap();
    std::fs::write(r.path().join(".git/info/grafts"), format!("{second}\n")).unwrap();
    let run = r.guard(&["check", &format!("{first}..{second}")]);
    assert_code(&run, 2);
    assert!(run.stderr.contains("info/grafts exists"), "{run:?}");
}

/// Issue 14: untrusted text cannot rewrite the report on a terminal or in a
/// CI log: "\x1b[2K\x1b[1G" would erase "BLOCKED" and print "passed" instead.
#[test]
fn control_characters_in_untrusted_text_are_made_visible() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    r.commit("init");
    r.write(
        "f.txt",
        &lines(20).replace("line 2\n", "evil()\x1b[2K\x1b[1G  + harmless\n"),
    );
    r.commit_message(
        "fix\x1b[2K\x1b[1Gpassed  commit\n\nSigned-off-by: Mallory\x1b[2K <m@evil.example>\n",
    );
    for args in [
        vec!["check", "HEAD"],
        vec!["check", "HEAD", "--color", "always"],
        vec!["check", "HEAD", "--format", "github"],
        vec!["audit"],
    ] {
        let run = r.guard(&args);
        assert_code(&run, 1);
        assert!(run.stdout.contains("^[[2K^[[1G"), "{args:?}: {run:?}");
        if args.contains(&"always") {
            // guard's own colour, and nothing else.
            assert!(run.stdout.contains("\x1b[1;31mBLOCKED\x1b[0m"), "{run:?}");
            assert_eq!(
                run.stdout.matches('\x1b').count(),
                2 + 2 * run.stdout.matches("violation [").count(),
                "{run:?}"
            );
        } else {
            assert!(!run.stdout.contains('\x1b'), "{args:?}: {run:?}");
        }
    }
    let human = r.guard(&["check", "HEAD"]);
    assert!(
        human.stdout.contains("+ evil()^[[2K^[[1G  + harmless"),
        "{human:?}"
    );
    assert!(
        human.stdout.contains("Mallory^[[2K <m@evil.example>"),
        "{human:?}"
    );
    // JSON keeps the exact text, escaped as JSON escapes it.
    let json = r.guard(&["check", "HEAD", "--format", "json"]);
    assert!(json.stdout.contains("\\u001b[2K"), "{json:?}");
}
