//! Contract section 2 (sign-off rules) and 3 (the base manifest's instances).

use crate::common::*;

const ZONE: &str =
    "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\nreason = \"the zone\"\n";

/// Commit a zone-touching change with `message` (no hooks) and check it.
fn check_message(extra_policy: &str, message: &str, author: Option<&str>) -> Run {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    r.write("guard.toml", &manifest(&format!("{extra_policy}{ZONE}")));
    r.commit("init");
    r.write("f.txt", &lines(10).replace("line 3\n", "line three\n"));
    r.git(&["add", "-A"]);
    let mut args = vec![
        "commit",
        "-q",
        "--no-verify",
        "--cleanup=verbatim",
        "-m",
        message,
    ];
    let author_arg;
    if let Some(a) = author {
        author_arg = format!("--author={a}");
        args.push(&author_arg);
    }
    r.git(&args);
    r.guard(&["check", "HEAD"])
}

#[test]
fn two_distinct_instances_pass_one_does_not() {
    assert_code(&check_message("", &signed("s", &[ALPHA, BETA]), None), 0);
    let run = check_message("", &signed("s", &[ALPHA]), None);
    assert_code(&run, 1);
    assert!(run.stdout.contains("1 counted"), "{run:?}");
}

#[test]
fn one_instance_under_two_emails_counts_once() {
    let run = check_message(
        "",
        &signed(
            "s",
            &["Beta <beta@jarvis.example>", "B2 <BETA2@jarvis.example>"],
        ),
        None,
    );
    assert_code(&run, 1);
    assert!(run.stdout.contains("already signed"), "{run:?}");
}

#[test]
fn ids_and_emails_match_ignoring_ascii_case() {
    assert_code(
        &check_message(
            "",
            &signed("s", &["ALPHA", "Beta <Beta@Jarvis.Example>"]),
            None,
        ),
        0,
    );
    assert_code(
        &check_message("", &signed("s", &[" gamma ", "alpha"]), None),
        0,
    );
}

#[test]
fn unregistered_signoffs_are_named_and_do_not_count() {
    let run = check_message(
        "",
        &signed("s", &[ALPHA, "Mallory <mallory@evil.example>"]),
        None,
    );
    assert_code(&run, 1);
    assert!(run.stdout.contains("mallory@evil.example"), "{run:?}");
    assert!(
        run.stdout
            .contains("not the email of a registered instance"),
        "{run:?}"
    );
}

#[test]
fn author_counts_false_rejects_the_authors_own_signoff() {
    let policy = "\n[policy]\nauthor_counts = false\n";
    let author = "Alpha <alpha@jarvis.example>";
    let run = check_message(policy, &signed("s", &["alpha", BETA]), Some(author));
    assert_code(&run, 1);
    assert!(run.stdout.contains("author_counts = false"), "{run:?}");
    assert_code(
        &check_message(policy, &signed("s", &[GAMMA, BETA]), Some(author)),
        0,
    );
    // Authorship alone is never a sign-off, even when the author may count.
    assert_code(&check_message("", &signed("s", &[BETA]), Some(author)), 1);
    assert_code(
        &check_message("", &signed("s", &[ALPHA, BETA]), Some(author)),
        0,
    );
}

#[test]
fn per_zone_threshold_overrides_the_policy() {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nsignoffs = 1\n"),
    );
    r.commit("init");
    r.write("f.txt", &lines(11));
    r.commit_message(&signed("s", &[GAMMA]));
    assert_code(&r.guard(&["check", "HEAD"]), 0);
}

#[test]
fn only_configured_trailer_keys_count() {
    assert_code(
        &check_message(
            "",
            "s\n\nAcked-by: Alpha <alpha@jarvis.example>\nAcked-by: Beta <beta@jarvis.example>\n",
            None,
        ),
        1,
    );
    let policy = "\n[policy]\ntrailers = [\"Signed-off-by\", \"Acked-by\"]\n";
    assert_code(
        &check_message(
            policy,
            "s\n\nAcked-by: Alpha <alpha@jarvis.example>\nsigned-off-by: Beta <beta@jarvis.example>\n",
            None,
        ),
        0,
    );
}

#[test]
fn signoffs_outside_the_trailer_block_do_not_count() {
    // In the body, followed by another paragraph.
    let m = format!("s\n\nSigned-off-by: {ALPHA}\nSigned-off-by: {BETA}\n\nMore text after.\n");
    assert_code(&check_message("", &m, None), 1);
    // In a paragraph that is mostly prose (the 25% rule, no git-generated prefix).
    let m = format!("s\n\nThis is prose.\nMore prose here.\nAnd more.\nReviewed-by: {ALPHA}\n");
    let policy = "\n[policy]\ntrailers = [\"Reviewed-by\"]\nsignoffs = 1\n";
    assert_code(&check_message(policy, &m, None), 1);
    // Continuation lines are unfolded into the value.
    let m = "s\n\nSigned-off-by: Alpha\n <alpha@jarvis.example>\nSigned-off-by: beta\n";
    assert_code(&check_message("", m, None), 0);
}

#[test]
fn without_instances_any_distinct_email_counts() {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    r.write(
        "guard.toml",
        "version = 1\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\n",
    );
    r.commit("init");
    r.write("f.txt", &lines(11));
    r.commit_message(&signed("s", &["A <a@x.example>", "A again <A@X.example>"]));
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("declares no [[instance]]"), "{run:?}");
    r.git(&[
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        &signed("s", &["A <a@x.example>", "B <b@x.example>"]),
    ]);
    assert_code(&r.guard(&["check", "HEAD"]), 0);
}

#[test]
fn audit_trailers_are_required_on_zone_touching_commits() {
    let policy = "\n[policy]\naudit_trailers = [\"Why\", \"Rollback\"]\n";
    let run = check_message(policy, &signed("s", &[ALPHA, BETA]), None);
    assert_code(&run, 1);
    assert!(run.stdout.contains("missing audit trailer Why"), "{run:?}");
    let m = format!(
        "s\n\nWhy: because\nRollback: revert it\nSigned-off-by: {ALPHA}\nSigned-off-by: {BETA}\n"
    );
    assert_code(&check_message(policy, &m, None), 0);
    let m =
        format!("s\n\nWhy: because\nRollback:\nSigned-off-by: {ALPHA}\nSigned-off-by: {BETA}\n");
    assert_code(&check_message(policy, &m, None), 1);
}

#[test]
fn a_commit_cannot_register_the_instances_that_sign_it() {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    r.write("guard.toml", &manifest(ZONE));
    r.commit("init");
    let text = r.read("guard.toml")
        + "\n[[instance]]\nid = \"mallory\"\nemails = [\"m@evil.example\"]\n[[instance]]\nid = \"eve\"\nemails = [\"e@evil.example\"]\n";
    r.write("guard.toml", &text);
    r.write("f.txt", &lines(10).replace("line 2\n", "evil\n"));
    r.commit_message(&signed("s", &["M <m@evil.example>", "E <e@evil.example>"]));
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("instance mallory added"), "{run:?}");
}

/// The staged check names the author git will record: `author.email` comes
/// before `user.email`, so an instance set there cannot sign its own change;
/// a configuration git cannot read is exit 2, never a default.
#[test]
fn the_staged_author_is_the_one_git_will_record() {
    let r = Repo::new();
    r.write("f.txt", &lines(5));
    r.write(
        "guard.toml",
        &manifest("\n[policy]\nauthor_counts = false\n\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\n"),
    );
    r.commit("init");
    r.git(&["config", "author.email", "alpha@jarvis.example"]);
    r.write("f.txt", &lines(6));
    r.git(&["add", "-A"]);
    std::fs::write(r.file(".git/COMMIT_EDITMSG"), signed("s", &[ALPHA, BETA])).unwrap();
    let run = r.guard(&["hook", "commit-msg", ".git/COMMIT_EDITMSG"]);
    assert_code(&run, 1);
    assert!(
        run.all()
            .contains("alpha is the commit's author and author_counts = false"),
        "{run:?}"
    );
    // git agrees on who the author is.
    r.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &signed("s", &[ALPHA, BETA]),
    ]);
    assert_eq!(
        r.git(&["log", "-1", "--format=%ae"]),
        "alpha@jarvis.example"
    );
    assert_code(&r.guard(&["check", "HEAD"]), 1);

    std::fs::write(r.file(".git/config"), "[core\nbroken").unwrap();
    let run = r.guard(&["check"]);
    assert_code(&run, 2);
}

/// A message that declares another encoding than UTF-8 is shown re-encoded
/// by git (`git log --format=%(trailers)` shows no trailer of an ASCII
/// message declared UTF-16): guard reads no sign-off from it, and says why;
/// UTF-8 under any spelling git takes reads as usual (red team).
#[test]
fn sign_offs_in_a_message_of_another_encoding_do_not_count() {
    let r = zoned_repo();
    let parent = r.git(&["rev-parse", "HEAD"]);
    edit(&r, "f.txt", 7);
    r.git(&["add", "f.txt"]);
    let tree = r.git(&["write-tree"]);
    let commit = |encoding: &str, subject: &str| {
        let raw = format!(
            "tree {tree}\nparent {parent}\nauthor A <a@example.com> 1700000000 +0000\n\
             committer A <a@example.com> 1700000000 +0000\nencoding {encoding}\n\n{}",
            signed(subject, &[ALPHA, BETA])
        );
        r.git_input(
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            raw.as_bytes(),
        )
    };
    // What git shows depends on whether iconv takes the bytes (an odd count
    // of bytes is no UTF-16, and git then shows them as they are): guard
    // reads no sign-off either way.
    let shown: Vec<String> = ["edit the zone", "edit the zone!"]
        .iter()
        .map(|subject| {
            let id = commit("UTF-16", subject);
            let run = r.guard(&["check", &id]);
            assert_code(&run, 1);
            assert!(run.stdout.contains("sign-offs: none found"), "{run:?}");
            assert!(
                run.stdout
                    .contains("the message declares encoding \"UTF-16\""),
                "{run:?}"
            );
            r.git(&["log", "-1", "--format=%(trailers)", &id])
        })
        .collect();
    assert!(shown.iter().any(String::is_empty), "{shown:?}");
    for utf8 in ["UTF-8", "utf8"] {
        let id = commit(utf8, "edit the zone");
        assert_code(&r.guard(&["check", &id]), 0);
    }
}
