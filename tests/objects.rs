//! Contract section 4, "Objects git would reject or read differently": guard
//! reads the repository exactly as git does, or refuses (exit 2).

use crate::common::*;

const ZONE: &str = "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\n";

/// A replacement object makes git show other content than the original: a
/// zoned blob replaced by one with a backdoor.
/// A repository with an edit below the zone and, written but not used, a
/// blob that changes the zone: (the first commit, the edit, the edit's
/// blob, the zone-changing blob).
fn edit_and_backdoor(r: &Repo) -> (String, String, String, String) {
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    let first = r.commit("init");
    r.write("f.txt", &lines(20).replace("line 20\n", "twenty\n"));
    let edit = r.commit("edit below the zone");
    let blob = r.git(&["rev-parse", "HEAD:f.txt"]);
    r.write("evil.txt", &lines(20).replace("line 2\n", "backdoor\n"));
    let evil = r.git(&["hash-object", "-w", "evil.txt"]);
    std::fs::remove_file(r.file("evil.txt")).unwrap();
    (first, edit, blob, evil)
}

#[test]
fn replacement_objects_are_refused_unless_git_ignores_them_too() {
    let r = Repo::new();
    let (_, edit, blob, evil) = edit_and_backdoor(&r);
    // Replace the new blob with one that changes the zone.
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
    // Packed, the replacement is refused the same.
    r.git(&["pack-refs", "--all"]);
    assert!(!r.file(".git/refs/replace").join(&blob).exists());
    let run = r.guard(&["check", &edit]);
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains(&format!("replacement objects (refs/replace/{blob})")),
        "{run:?}"
    );
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

/// git takes replacement refs from `GIT_REPLACE_REF_BASE` and grafts from
/// `GIT_GRAFT_FILE` when they are set: guard refuses what they name too.
#[test]
fn replacements_and_grafts_the_environment_names_are_refused() {
    let r = Repo::new();
    let (first, edit, blob, evil) = edit_and_backdoor(&r);
    r.git(&["update-ref", &format!("refs/alt/{blob}"), &evil]);
    let with_base = |program: &str, args: &[&str]| {
        r.cmd(program)
            .args(args)
            .env("GIT_REPLACE_REF_BASE", "refs/alt/")
            .output()
            .unwrap()
    };
    // git shows the backdoor under that base, and guard refuses.
    let shown = with_base("git", &["show", "HEAD:f.txt"]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("backdoor"));
    let out = with_base(guard_bin(), &["check", &edit]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("replacement objects (refs/alt/{blob})")),
        "{out:?}"
    );
    // Without it, git and guard both read the original.
    assert!(!r.git(&["show", "HEAD:f.txt"]).contains("backdoor"));
    assert_code(&r.guard(&["check", &edit]), 0);

    // git takes the base as a plain prefix: without its slash it matches
    // refs/replacements/, and an empty one matches every ref.
    r.git(&["update-ref", "-d", &format!("refs/alt/{blob}")]);
    for (base, name) in [
        ("refs/replace", format!("refs/replacements/{blob}")),
        ("", format!("refs/tags/{blob}")),
        // git reads the first 40 hex digits of the last part.
        ("refs/alt/", format!("refs/alt/{blob}-and-more")),
    ] {
        r.git(&["update-ref", &name, &evil]);
        let run = |program: &str, args: &[&str]| {
            r.cmd(program)
                .args(args)
                .env("GIT_REPLACE_REF_BASE", base)
                .output()
                .unwrap()
        };
        let shown = run("git", &["show", "HEAD:f.txt"]);
        assert!(
            String::from_utf8_lossy(&shown.stdout).contains("backdoor"),
            "{base:?}"
        );
        let out = run(guard_bin(), &["check", &edit]);
        assert_eq!(out.status.code(), Some(2), "{base:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("replacement objects ({name})")),
            "{out:?}"
        );
        r.git(&["update-ref", "-d", &name]);
    }
    // core.useReplaceRefs=false in the repository, set back to true in the
    // environment (which libgit2 does not read): git replaces, guard refuses.
    r.git(&["config", "core.useReplaceRefs", "false"]);
    r.git(&["update-ref", &format!("refs/replace/{blob}"), &evil]);
    let with_env_config = |program: &str, args: &[&str]| {
        r.cmd(program)
            .args(args)
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "core.useReplaceRefs")
            .env("GIT_CONFIG_VALUE_0", "true")
            .output()
            .unwrap()
    };
    let shown = with_env_config("git", &["show", "HEAD:f.txt"]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("backdoor"));
    assert_eq!(
        with_env_config(guard_bin(), &["check", &edit])
            .status
            .code(),
        Some(2)
    );
    assert_code(&r.guard(&["check", &edit]), 0);
    r.git(&["update-ref", "-d", &format!("refs/replace/{blob}")]);

    let grafts = r.path().join("grafts-elsewhere");
    std::fs::write(&grafts, format!("{edit}\n")).unwrap();
    // A relative path is read by git from the top of the work tree.
    std::fs::create_dir_all(r.path().join("sub")).unwrap();
    let out = r
        .cmd(guard_bin())
        .current_dir(r.path().join("sub"))
        .args(["check", &format!("{first}..{edit}")])
        .env("GIT_GRAFT_FILE", "grafts-elsewhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = r
        .cmd(guard_bin())
        .args(["check", &format!("{first}..{edit}")])
        .env("GIT_GRAFT_FILE", &grafts)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("grafts-elsewhere exists"),
        "{out:?}"
    );
}

/// Ranges of 200 commits or more, and audits, read trees and blobs with
/// guard's own pack reader: over a history repacked with long delta chains,
/// its reports are libgit2's (`GIT_OBJECT_DIRECTORY` turns the reader off),
/// byte for byte, and it did read.
#[test]
fn long_walks_read_packs_as_libgit2_does() {
    let r = Repo::new();
    let mut text: Vec<String> = (1..=300).map(|i| format!("line {i}")).collect();
    r.write("f.txt", &(text.join("\n") + "\n"));
    r.write("guard.toml", &manifest(ZONE));
    let base = r.commit("init");
    let mut stream = String::new();
    for i in 0..240usize {
        let at = if i % 17 == 0 { 2 } else { 10 + (i * 7) % 280 };
        text[at] = format!("edit {i}");
        let data = text.join("\n") + "\n";
        let from = if i == 0 {
            format!("from {base}\n")
        } else {
            String::new()
        };
        let msg = format!("edit {i}");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter A <a@example.com> {} +0000\ndata {}\n{msg}\n{from}\
             M 100644 inline f.txt\ndata {}\n{data}\n",
            1_700_000_000 + i,
            msg.len(),
            data.len()
        ));
    }
    r.fast_import(stream.as_bytes());
    r.git(&["reset", "-q", "--hard", "main"]);
    r.git(&["repack", "-a", "-d", "-f", "--depth=50"]);
    let range = format!("{base}..HEAD");
    let what_if = r.file("what-if.toml");
    std::fs::write(&what_if, manifest(ZONE)).unwrap();
    for args in [
        vec!["check", range.as_str(), "--format", "json"],
        vec![
            "audit",
            range.as_str(),
            "--manifest",
            what_if.to_str().unwrap(),
        ],
    ] {
        let run = |reader: bool| {
            let mut cmd = r.cmd(guard_bin());
            cmd.args(&args).env("GUARD_TRACE_WORK", "1");
            if !reader {
                cmd.env("GIT_OBJECT_DIRECTORY", r.path().join(".git/objects"));
            }
            cmd.output().unwrap()
        };
        let (with, without) = (run(true), run(false));
        assert_eq!(with.status.code(), without.status.code(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&with.stdout),
            String::from_utf8_lossy(&without.stdout),
            "{args:?}"
        );
        let packed = |out: &std::process::Output| {
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            err.split_whitespace()
                .find_map(|w| w.strip_prefix("packed=")?.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no work line: {err}"))
        };
        assert!(packed(&with) > 240, "{args:?}: {}", packed(&with));
        assert_eq!(packed(&without), 0, "{args:?}");
    }
    // The range's verdicts are there to compare: 15 commits edit the zone.
    let json = r.guard(&["check", &range, "--format", "json"]);
    assert_code(&json, 1);
    let blocked = json.stdout.matches("\"insufficient-signoffs\"").count();
    assert_eq!(blocked, 15, "{}", json.stdout);
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

/// A tree object made of `entries` (mode, name, object id) as given, in that
/// order, written with `git hash-object --literally` (git would refuse it).
fn literal_tree(r: &Repo, entries: &[(&str, &str, &str)]) -> String {
    let mut bytes = Vec::new();
    for (mode, name, id) in entries {
        bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        for i in 0..20 {
            bytes.push(u8::from_str_radix(&id[2 * i..2 * i + 2], 16).unwrap());
        }
    }
    r.write_bytes("tree.bin", &bytes);
    let id = r.git(&["hash-object", "-t", "tree", "--literally", "-w", "tree.bin"]);
    std::fs::remove_file(r.file("tree.bin")).unwrap();
    id
}

/// A repository whose HEAD has f.txt (zone z on 1-5) and guard.toml; returns
/// (guard.toml's blob, f.txt's blob, an evil f.txt blob that edits the zone).
fn crafted_base(r: &Repo) -> (String, String, String) {
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    r.commit("init");
    let toml = r.git(&["rev-parse", "HEAD:guard.toml"]);
    let good = r.git(&["rev-parse", "HEAD:f.txt"]);
    r.write("evil.txt", &lines(20).replace("line 2\n", "backdoor\n"));
    let evil = r.git(&["hash-object", "-w", "evil.txt"]);
    std::fs::remove_file(r.file("evil.txt")).unwrap();
    (toml, good, evil)
}

fn commit_tree(r: &Repo, tree: &str) -> String {
    r.git(&["commit-tree", tree, "-p", "HEAD", "-m", "crafted"])
}

#[track_caller]
fn assert_refused(r: &Repo, commit: &str, why: &str) {
    // git itself rejects the object.
    let fsck = r.git_run(&["fsck", "--no-dangling", "--strict"]);
    assert_ne!(fsck.code, 0, "git fsck accepts it: {fsck:?}");
    for args in [
        vec!["check", commit],
        vec!["check", &format!("{commit}~1..{commit}")],
    ] {
        let run = r.guard(&args);
        assert_code(&run, 2);
        assert!(
            run.all().contains(why),
            "{args:?}: expected {why:?}: {run:?}"
        );
    }
}

#[test]
fn a_tree_with_two_entries_of_one_name_is_refused() {
    let r = Repo::new();
    let (toml, good, evil) = crafted_base(&r);
    // guard's sorted lookup would read the first, git checkout writes the second.
    let tree = literal_tree(
        &r,
        &[
            ("100644", "f.txt", &good),
            ("100644", "f.txt", &evil),
            ("100644", "guard.toml", &toml),
        ],
    );
    let c = commit_tree(&r, &tree);
    assert_refused(&r, &c, "entries out of order or repeated at \"f.txt\"");
}

#[test]
fn a_tree_with_unsorted_entries_is_refused() {
    let r = Repo::new();
    let (toml, good, evil) = crafted_base(&r);
    let tree = literal_tree(
        &r,
        &[
            ("100644", "guard.toml", &toml),
            ("100644", "f.txt", &evil),
            ("100644", "a.txt", &good),
        ],
    );
    let c = commit_tree(&r, &tree);
    assert_refused(&r, &c, "entries out of order or repeated at \"f.txt\"");
}

#[test]
fn a_file_and_a_directory_of_one_name_are_refused() {
    let r = Repo::new();
    let (toml, good, _) = crafted_base(&r);
    let sub = literal_tree(&r, &[("100644", "x", &good)]);
    let tree = literal_tree(
        &r,
        &[
            ("100644", "f.txt", &good),
            ("100644", "f.txt-b", &good),
            ("40000", "f.txt", &sub),
            ("100644", "guard.toml", &toml),
        ],
    );
    let c = commit_tree(&r, &tree);
    assert_refused(&r, &c, "two entries named \"f.txt\"");
}

#[test]
fn names_git_never_checks_out_are_refused() {
    let r = Repo::new();
    let (toml, good, evil) = crafted_base(&r);
    let tree = literal_tree(
        &r,
        &[
            ("100644", ".git", &evil),
            ("100644", "f.txt", &good),
            ("100644", "guard.toml", &toml),
        ],
    );
    let c = commit_tree(&r, &tree);
    assert_refused(&r, &c, "an entry named \".git\"");
}

#[test]
fn a_tree_entry_that_names_a_blob_is_refused() {
    let r = Repo::new();
    let (toml, good, evil) = crafted_base(&r);
    // A directory zone over "lib", whose entry claims to be a tree but is a blob.
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"lib\"\npath = \"lib\"\n"),
    );
    r.write("lib/a.txt", "a\n");
    r.commit("a directory zone");
    let toml2 = r.git(&["rev-parse", "HEAD:guard.toml"]);
    let _ = toml;
    let tree = literal_tree(
        &r,
        &[
            ("100644", "f.txt", &good),
            ("100644", "guard.toml", &toml2),
            ("40000", "lib", &evil),
        ],
    );
    let c = commit_tree(&r, &tree);
    assert_refused(&r, &c, "is named as a tree but is a blob");
}

/// git reads any regular mode as a file (`canon_mode`): a zone edit under
/// mode 100600 is a touch, never a crash and never invisible.
#[test]
fn an_unusual_file_mode_is_read_as_git_reads_it() {
    let r = Repo::new();
    let (toml, _, evil) = crafted_base(&r);
    let tree = literal_tree(
        &r,
        &[("100600", "f.txt", &evil), ("100644", "guard.toml", &toml)],
    );
    let c = commit_tree(&r, &tree);
    let run = r.guard(&["check", &c]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("+ backdoor"), "{run:?}");
    // The same under a directory zone (read through a diff of the directory).
    let r = Repo::new();
    r.write("lib/f.txt", &lines(20));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"lib\"\npath = \"lib\"\n"),
    );
    r.commit("init");
    let toml = r.git(&["rev-parse", "HEAD:guard.toml"]);
    r.write("evil.txt", "evil\n");
    let evil = r.git(&["hash-object", "-w", "evil.txt"]);
    std::fs::remove_file(r.file("evil.txt")).unwrap();
    let sub = literal_tree(&r, &[("100600", "f.txt", &evil)]);
    let tree = literal_tree(
        &r,
        &[("100644", "guard.toml", &toml), ("40000", "lib", &sub)],
    );
    let c = commit_tree(&r, &tree);
    let run = r.guard(&["check", &c]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("lib/f.txt"), "{run:?}");
}

#[test]
fn a_duplicate_inside_a_directory_zone_is_refused() {
    let r = Repo::new();
    r.write("lib/f.txt", &lines(20));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"lib\"\npath = \"lib\"\n"),
    );
    r.commit("init");
    let toml = r.git(&["rev-parse", "HEAD:guard.toml"]);
    let good = r.git(&["rev-parse", "HEAD:lib/f.txt"]);
    r.write("evil.txt", "evil\n");
    let evil = r.git(&["hash-object", "-w", "evil.txt"]);
    std::fs::remove_file(r.file("evil.txt")).unwrap();
    let sub = literal_tree(
        &r,
        &[("100644", "f.txt", &good), ("100644", "f.txt", &evil)],
    );
    let tree = literal_tree(
        &r,
        &[("100644", "guard.toml", &toml), ("40000", "lib", &sub)],
    );
    let c = commit_tree(&r, &tree);
    assert_refused(&r, &c, "entries out of order or repeated at \"f.txt\"");
}

/// A submodule bump under a directory zone is a touch: blocked unsigned,
/// passed signed, never "cannot read object" (its commit id is no blob here).
#[test]
fn a_submodule_bump_under_a_directory_zone_is_a_touch() {
    let r = Repo::new();
    r.write("lib/a.txt", "a\n");
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"lib\"\npath = \"lib\"\n"),
    );
    let one = "1111111111111111111111111111111111111111";
    let two = "2222222222222222222222222222222222222222";
    r.git(&["add", "-A"]);
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{one},lib/sub"),
    ]);
    r.git(&["commit", "-q", "--no-verify", "-m", "init"]);
    r.git(&[
        "update-index",
        "--cacheinfo",
        &format!("160000,{two},lib/sub"),
    ]);
    let staged = r.guard(&["check"]);
    assert_code(&staged, 1);
    assert!(
        staged.stdout.contains("lib/sub: submodule changed"),
        "{staged:?}"
    );
    r.git(&["commit", "-q", "--no-verify", "-m", "bump"]);
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("lib/sub: submodule changed"), "{run:?}");
    r.git(&[
        "update-index",
        "--cacheinfo",
        &format!("160000,{one},lib/sub"),
    ]);
    r.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &signed("bump back", &[ALPHA, BETA]),
    ]);
    assert_code(&r.guard(&["check", "HEAD"]), 0);
}

/// Paths inside the repository are never resolved through symlinks in the
/// work tree: a custom manifest path whose directory a branch turned into a
/// link to an empty manifest, a guard.toml linked to a file outside the
/// repository, a zone read through a linked directory: exit 2, never read.
#[test]
fn paths_through_work_tree_symlinks_are_refused() {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    r.write(
        "config/guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\n"),
    );
    r.write("empty/guard.toml", "version = 1\n");
    r.commit("init");
    std::fs::remove_dir_all(r.file("config")).unwrap();
    std::os::unix::fs::symlink("empty", r.file("config")).unwrap();
    r.write("f.txt", &lines(10).replace("line 2\n", "evil\n"));
    r.git(&["add", "-A"]);
    let run = r.guard(&["check", "--manifest", "config/guard.toml"]);
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains("config/guard.toml goes through a symlink in the work tree (config)"),
        "{run:?}"
    );
    // guard.toml linked to a file outside the repository is not printed.
    let r = Repo::new();
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), "SECRET=1\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), r.file("guard.toml")).unwrap();
    let run = r.guard(&["zones"]);
    assert_code(&run, 2);
    assert!(!run.all().contains("SECRET"), "{run:?}");
    assert!(
        run.stderr.contains("guard.toml goes through a symlink"),
        "{run:?}"
    );
    // A zone read through a linked directory.
    let r = Repo::new();
    r.write("real/f.txt", "secret line\n");
    std::os::unix::fs::symlink("real", r.file("lib")).unwrap();
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"lib/f.txt\"\nlines = \"1-1\"\n"),
    );
    let run = r.guard(&["zones"]);
    assert_code(&run, 2);
    assert!(!run.all().contains("secret line"), "{run:?}");
    assert!(
        run.stderr
            .contains("lib/f.txt goes through a symlink in the work tree (lib)"),
        "{run:?}"
    );
}

/// The other way round (second red team): a file entry that names a tree.
/// Refused, with a message that says where to look (was "git: no error").
#[test]
fn a_file_entry_that_names_a_tree_is_refused_with_a_reason() {
    let r = Repo::new();
    let (_, good, _) = crafted_base(&r);
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"lib\"\npath = \"lib\"\n"),
    );
    r.write("lib/a.txt", "a\n");
    r.commit("a directory zone");
    let toml = r.git(&["rev-parse", "HEAD:guard.toml"]);
    let lib = r.git(&["rev-parse", "HEAD:lib"]);
    let tree = literal_tree(
        &r,
        &[
            ("100644", "f.txt", &good),
            ("100644", "guard.toml", &toml),
            ("100644", "lib", &lib),
        ],
    );
    let c = commit_tree(&r, &tree);
    assert_refused(&r, &c, "is named as a file's content but is a tree");
    let run = r.guard(&["check", &c]);
    assert!(!run.all().contains("no error"), "{run:?}");
}
