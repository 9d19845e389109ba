//! Contract section 2: the manifest, and configuration errors (exit 2, file:line:col).

use crate::common::*;

/// A repository whose committed manifest is `text`; a staged edit to f.txt.
fn check_with(text: &str) -> Run {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", text);
    r.commit("init");
    r.write("f.txt", &lines(21));
    r.git(&["add", "-A"]);
    r.guard(&["check"])
}

#[track_caller]
fn assert_config_error(text: &str, line: usize, needle: &str) {
    let run = check_with(text);
    assert_code(&run, 2);
    let want = "guard.toml (in tree ".to_string();
    assert!(run.stderr.contains(&want), "{run:?}");
    assert!(
        run.stderr.contains(&format!("):{line}:")),
        "expected line {line}: {run:?}"
    );
    assert!(run.stderr.contains(needle), "expected {needle:?}: {run:?}");
}

#[test]
fn unknown_keys_are_errors() {
    assert_config_error("version = 1\nsignofs = 2\n", 2, "unknown field");
    assert_config_error("version = 1\n[policy]\nsignoff = 2\n", 3, "unknown field");
    assert_config_error(
        "version = 1\n[[zone]]\nid = \"a\"\npath = \"f.txt\"\nline = \"1-2\"\n",
        5,
        "unknown field",
    );
}

#[test]
fn duplicate_ids_are_errors() {
    assert_config_error(
        "version = 1\n[[zone]]\nid = \"a\"\npath = \"f.txt\"\n[[zone]]\nid = \"a\"\npath = \"f.txt\"\n",
        6,
        "duplicate zone id",
    );
    assert_config_error(
        "version = 1\n[[instance]]\nid = \"x\"\n[[instance]]\nid = \"x\"\n",
        5,
        "duplicate instance id",
    );
}

#[test]
fn bad_ranges_are_errors() {
    for bad in ["0-5", "7-3", "abc", "5", "-3", "1-"] {
        assert_config_error(
            &format!("version = 1\n[[zone]]\nid = \"a\"\npath = \"f.txt\"\nlines = \"{bad}\"\n"),
            5,
            "`lines` must be",
        );
    }
}

#[test]
fn range_past_the_end_of_its_file_is_an_error() {
    assert_config_error(
        "version = 1\n[[zone]]\nid = \"a\"\npath = \"f.txt\"\nlines = \"15-21\"\n",
        5,
        "past the end of f.txt (20 lines)",
    );
    // The last line counts even without a newline.
    let r = Repo::new();
    r.write("f.txt", "a\nb\nc");
    r.write(
        "guard.toml",
        "version = 1\n[[zone]]\nid = \"a\"\npath = \"f.txt\"\nlines = \"1-3\"\n",
    );
    r.commit("init");
    assert_code(&r.guard(&["check"]), 0);
}

#[test]
fn thresholds_below_one_are_errors() {
    assert_config_error("version = 1\n[policy]\nsignoffs = 0\n", 3, "at least 1");
    assert_config_error(
        "version = 1\n[[zone]]\nid = \"a\"\npath = \"f.txt\"\nsignoffs = -1\n",
        5,
        "at least 1",
    );
}

#[test]
fn paths_escaping_the_repository_are_errors() {
    for bad in ["../f.txt", "/etc/passwd", "a/../f.txt"] {
        assert_config_error(
            &format!("version = 1\n[[zone]]\nid = \"a\"\npath = \"{bad}\"\n"),
            4,
            "relative to the repository root",
        );
    }
}

#[test]
fn required_keys_and_syntax() {
    assert_config_error("[policy]\nsignoffs = 2\n", 1, "version");
    assert_config_error("version = 1\n[[zone]]\npath = \"f.txt\"\n", 2, "`id`");
    assert_config_error("version = 1\n[[zone]]\nid = \"a\"\n", 2, "`path`");
    assert_config_error("version = 1\n[[zone]\n", 2, "");
    assert_config_error(
        "version = 1\n[[invariant]]\npath = \"f.txt\"\nmust_contain = \"(unclosed\"\n",
        4,
        "not a valid regex",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let run = check_with(
        "version = 1\n[[zone]]\nid = \"A\"\npath = \"../x\"\n[[zone]]\nid = \"b\"\npath = \"f.txt\"\nlines = \"9-1\"\n",
    );
    assert_code(&run, 2);
    assert!(run.stderr.contains(":3:"), "{run:?}");
    assert!(run.stderr.contains(":4:"), "{run:?}");
    assert!(run.stderr.contains(":8:"), "{run:?}");
}

#[test]
fn a_bad_manifest_in_force_fails_a_commit_check() {
    let r = Repo::new();
    r.write("f.txt", &lines(3));
    r.write("guard.toml", "version = 1\nbogus = true\n");
    r.commit("init");
    r.write("f.txt", &lines(4));
    let id = r.commit("next");
    let run = r.guard(&["check", &id]);
    assert_code(&run, 2);
    assert!(run.stderr.contains("unknown field"), "{run:?}");
}

#[test]
fn policy_defaults_apply_when_omitted() {
    let r = Repo::new();
    r.write("f.txt", &lines(5));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\n"),
    );
    r.commit("init");
    r.write("f.txt", &lines(6));
    r.git(&["add", "-A"]);
    let msg = r.file("msg");
    std::fs::write(&msg, signed("edit", &[ALPHA])).unwrap();
    let run = r.guard(&["check", "--message-file", msg.to_str().unwrap()]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("needs 2 sign-offs"), "{run:?}");
}

#[test]
fn manifest_option_points_elsewhere() {
    let r = Repo::new();
    r.write("f.txt", &lines(5));
    r.write(
        "policy/guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\n"),
    );
    r.commit("init");
    r.write("f.txt", &lines(6));
    let id = r.commit("edit");
    // The default path has no manifest: no rules.
    assert_code(&r.guard(&["check", &id]), 0);
    assert_code(
        &r.guard(&["check", &id, "--manifest", "policy/guard.toml"]),
        1,
    );
    let mut c = r.cmd(guard_bin());
    let out = c
        .args(["check", &id])
        .env("GUARD_MANIFEST", "policy/guard.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Relative to the current directory.
    let out = r
        .cmd(guard_bin())
        .current_dir(r.path().join("policy"))
        .args(["check", &id, "--manifest", "guard.toml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_writes_a_starter_and_never_overwrites() {
    let r = Repo::new();
    let run = r.guard(&["init"]);
    assert_code(&run, 0);
    let text = r.read("guard.toml");
    assert!(text.contains("version = 1"));
    assert_code(&r.guard(&["zones"]), 0);
    let again = r.guard(&["init"]);
    assert_code(&again, 2);
    assert_eq!(r.read("guard.toml"), text);
}

#[test]
fn zones_lists_and_verifies() {
    let r = Repo::new();
    r.write(
        "backend/main.py",
        "import os\nfrom x import TrustedHostMiddleware\napp = 1\n",
    );
    r.write(
        "guard.toml",
        &manifest(
            "\n[[zone]]\nid = \"mw\"\npath = \"backend/main.py\"\nlines = \"2-3\"\nreason = \"Middleware\"\n\n[[zone]]\nid = \"all\"\npath = \"backend/*.py\"\n",
        ),
    );
    r.commit("init");
    let run = r.guard(&["zones", "--verify"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("mw"), "{run:?}");
    assert!(
        run.stdout.contains("from x import TrustedHostMiddleware"),
        "{run:?}"
    );
    assert!(run.stdout.contains("Middleware"), "{run:?}");
    let json = r.guard(&["zones", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["zones"][0]["lines"], "2-3");
    // A glob that matches nothing does not resolve.
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"none\"\npath = \"nothing/*.rs\"\n"),
    );
    assert_code(&r.guard(&["zones", "--verify"]), 2);
    assert_code(&r.guard(&["zones"]), 0);
    // --rev reads the committed manifest.
    assert_code(&r.guard(&["zones", "--verify", "--rev", "HEAD"]), 0);
}

/// Issue 14: a manifest named explicitly that does not exist is exit 2, never
/// "no rules" (a mistyped `GUARD_MANIFEST` in CI would pass everything).
#[test]
fn a_missing_explicit_manifest_is_a_configuration_error() {
    let r = Repo::new();
    r.write("f.txt", &lines(5));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\n"),
    );
    r.commit("init");
    r.write("f.txt", &lines(6));
    let id = r.commit("edit");
    for args in [
        vec!["check", &id, "--manifest", "nosuch.toml"],
        vec!["check", "HEAD~1..HEAD", "--manifest", "nosuch.toml"],
        vec!["check", "--manifest", "nosuch.toml"],
        vec!["zones", "--manifest", "nosuch.toml"],
        vec!["hook", "pre-commit", "--manifest", "nosuch.toml"],
    ] {
        let run = r.guard(&args);
        assert_code(&run, 2);
        assert!(
            run.stderr
                .contains("nosuch.toml (named by --manifest or GUARD_MANIFEST) does not exist"),
            "{args:?}: {run:?}"
        );
    }
    let out = r
        .cmd(guard_bin())
        .args(["check", &id])
        .env("GUARD_MANIFEST", "gaurd.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The what-if audit's FILE must exist too.
    assert_code(
        &r.guard(&["audit", "HEAD~1..HEAD", "--manifest", "nosuch.toml"]),
        2,
    );
    // `guard init` creates the file it is given.
    assert_code(&r.guard(&["init", "--manifest", "new.toml"]), 0);
}

/// A change that writes an unparsable guard.toml beside a zone edit is judged
/// by the manifest in force: an invalid-manifest violation (exit 1) naming
/// the error, and the zone it touches; a broken manifest in force stays exit 2.
#[test]
fn a_change_writing_an_invalid_manifest_is_a_violation_of_it() {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\n"),
    );
    r.commit("init");
    r.write("f.txt", &lines(10).replace("line 2\n", "evil\n"));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\nbogus = 1\n"),
    );
    let bad = r.commit("edit and break the manifest");
    let run = r.guard(&["check", &bad]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains("violation [invalid-manifest]"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("unknown field `bogus`") || run.stdout.contains("bogus"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("guard.toml (in tree"),
        "the error names the file: {run:?}"
    );
    assert!(
        run.stdout.contains("zone z"),
        "the zone it touches is reported too: {run:?}"
    );
    let json = r.guard(&["check", &bad, "--format", "json"]);
    assert!(
        json.stdout.contains("\"code\": \"invalid-manifest\""),
        "{json:?}"
    );
    // The next commit is judged by that broken manifest in force: exit 2.
    r.write("g.txt", "x\n");
    let next = r.commit("next");
    assert_code(&r.guard(&["check", &next]), 2);
}

/// `guard.toml` turned into a symlink holding the same bytes (git checks it
/// out as a link in every clone, where guard refuses to follow it) is no
/// manifest: a violation of that change, whatever its sign-offs (red team).
#[test]
fn a_manifest_made_a_symlink_is_an_invalid_manifest() {
    let r = zoned_repo();
    let blob = r.git(&["rev-parse", "HEAD:guard.toml"]);
    r.git(&[
        "update-index",
        "--cacheinfo",
        &format!("120000,{blob},guard.toml"),
    ]);
    r.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "manifest becomes a symlink",
    ]);
    assert_eq!(
        r.git(&["ls-tree", "HEAD", "guard.toml"]).split(' ').next(),
        Some("120000")
    );
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains(
            "guard.toml becomes a symlink (mode 120000) in this change: the manifest must be a regular file"
        ),
        "{run:?}"
    );
}
