//! Instances coordinating through the repository: zone claims, a security
//! freeze, co-change rules, `guard status`.

use crate::common::*;

/// A repository with the three instances, zone `z` on f.txt lines 5-10 and
/// zone `docs-zone` on g.txt, and `extra` manifest text.
fn setup(extra: &str) -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("g.txt", &lines(20));
    r.write("CHANGELOG.md", "# changes\n");
    r.write(
        "guard.toml",
        &manifest(&format!(
            "{extra}\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\n\n[[zone]]\nid = \"docs-zone\"\npath = \"g.txt\"\n"
        )),
    );
    r.commit("init");
    r
}

/// Commit everything as `email` (the author) with `message`; `guard check HEAD`.
fn commit_as(r: &Repo, email: &str, message: &str) -> Run {
    r.git(&["add", "-A"]);
    r.git(&[
        "-c",
        &format!("user.email={email}"),
        "commit",
        "-q",
        "--no-verify",
        "--allow-empty",
        "-m",
        message,
    ]);
    r.guard(&["check", "HEAD"])
}

fn claims_file(entries: &[(&str, &str, &str, Option<&str>)]) -> String {
    let mut s = String::new();
    for (zone, who, since, until) in entries {
        s.push_str(&format!(
            "[[claim]]\nzone = \"{zone}\"\ninstance = \"{who}\"\nsince = \"{since}\"\n"
        ));
        if let Some(u) = until {
            s.push_str(&format!("until = \"{u}\"\n"));
        }
        s.push('\n');
    }
    s
}

/// Write alpha's claim of `z` (since 2025-12-01, no end) in the work tree.
fn claim_z_for_alpha(r: &Repo) {
    r.write(
        ".guard/claims.toml",
        &claims_file(&[("z", "alpha", "2025-12-01", None)]),
    );
}

#[test]
fn a_claimed_zone_needs_the_claimants_signoff() {
    let r = setup("");
    // Commits are dated 2026-01-01 here.
    r.write(
        ".guard/claims.toml",
        &claims_file(&[("z", "alpha", "2025-12-01", Some("2026-02-01"))]),
    );
    assert_code(&commit_as(&r, "alpha@jarvis.example", "claim z"), 0);
    let start = r.git(&["rev-parse", "HEAD"]);
    // beta's change, signed by beta and gamma: blocked by alpha's claim.
    edit(&r, "f.txt", 6);
    let run = commit_as(
        &r,
        "beta@jarvis.example",
        &signed("beta's edit", &[BETA, GAMMA]),
    );
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("violation [claimed]: zone z is claimed by alpha until 2026-02-01"),
        "{run:?}"
    );
    // Co-signed by the claimant: passes.
    r.git(&["reset", "-q", "--hard", &start]);
    edit(&r, "f.txt", 6);
    assert_code(
        &commit_as(
            &r,
            "beta@jarvis.example",
            &signed("co-signed", &[BETA, ALPHA]),
        ),
        0,
    );
    // The claimant's own change: passes with the zone's usual sign-offs.
    r.git(&["reset", "-q", "--hard", &start]);
    edit(&r, "f.txt", 6);
    assert_code(
        &commit_as(&r, "alpha@jarvis.example", &signed("mine", &[BETA, GAMMA])),
        0,
    );
    // JSON and SARIF carry it.
    r.git(&["reset", "-q", "--hard", &start]);
    edit(&r, "f.txt", 6);
    commit_as(
        &r,
        "beta@jarvis.example",
        &signed("beta's edit", &[BETA, GAMMA]),
    );
    let json = r.guard(&["check", "HEAD", "--format", "json"]);
    assert!(json.stdout.contains("\"code\": \"claimed\""), "{json:?}");
    let sarif = r.guard(&["check", "HEAD", "--format", "sarif"]);
    assert!(
        sarif.stdout.contains("\"ruleId\": \"claimed\""),
        "{sarif:?}"
    );
    let audit = r.guard(&["audit"]);
    assert!(
        audit.stdout.contains("  verdict   blocked (claimed)"),
        "{audit:?}"
    );
}

#[test]
fn an_expired_claim_is_ignored_and_reported_stale() {
    let r = setup("");
    r.write(
        ".guard/claims.toml",
        &claims_file(&[("z", "alpha", "2025-11-01", Some("2025-12-31"))]),
    );
    commit_as(&r, "alpha@jarvis.example", "claim z");
    edit(&r, "f.txt", 6);
    let run = commit_as(
        &r,
        "beta@jarvis.example",
        &signed("after the claim", &[BETA, GAMMA]),
    );
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("alpha's claim expired on 2025-12-31: stale, ignored"),
        "{run:?}"
    );
}

#[test]
fn releasing_anothers_claim_needs_its_signoff() {
    let r = setup("");
    claim_z_for_alpha(&r);
    commit_as(&r, "alpha@jarvis.example", "claim z");
    let start = r.git(&["rev-parse", "HEAD"]);
    // guard release writes the file; beta committing it takes alpha's claim.
    let run = r.guard(&["release", "z"]);
    assert_code(&run, 0);
    assert!(!r.read(".guard/claims.toml").contains("alpha"));
    let run = commit_as(&r, "beta@jarvis.example", "release alpha's claim");
    assert_code(&run, 1);
    assert!(run.stdout.contains("violation [claim-taken]"), "{run:?}");
    // alpha releasing its own claim passes.
    r.git(&["reset", "-q", "--hard", &start]);
    r.guard(&["release", "z", "--instance", "alpha"]);
    assert_code(&commit_as(&r, "alpha@jarvis.example", "done with z"), 0);
    assert_code(&r.guard(&["release", "z"]), 1);
}

/// Two branches each claim `z`; main merges the side, keeping both claims.
fn race(main_since: &str, side_since: &str, merge_message: &str) -> Run {
    let r = setup("");
    r.git(&["branch", "side"]);
    r.write(
        ".guard/claims.toml",
        &claims_file(&[("z", "alpha", main_since, None)]),
    );
    commit_as(&r, "alpha@jarvis.example", "alpha claims z");
    r.git(&["checkout", "-q", "side"]);
    r.write(
        ".guard/claims.toml",
        &claims_file(&[("z", "beta", side_since, None)]),
    );
    commit_as(&r, "beta@jarvis.example", "beta claims z");
    r.git(&["checkout", "-q", "main"]);
    let _ = r.git_run(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
    r.write(
        ".guard/claims.toml",
        &claims_file(&[
            ("z", "alpha", main_since, None),
            ("z", "beta", side_since, None),
        ]),
    );
    commit_as(&r, "gamma@jarvis.example", merge_message)
}

#[test]
fn two_branches_claiming_one_zone_meet_by_the_earliest_claim() {
    // alpha claimed first: beta's later claim is superseded, nothing is taken.
    assert_code(&race("2025-12-01", "2025-12-15", "merge side"), 0);
    // beta's claim is earlier: merging it takes the zone from alpha, which
    // needs alpha's sign-off.
    let run = race("2025-12-15", "2025-12-01", "merge side");
    assert_code(&run, 1);
    assert!(
        run.stdout.contains("takes over alpha's claim of zone z"),
        "{run:?}"
    );
    assert_code(
        &race("2025-12-15", "2025-12-01", &signed("merge side", &[ALPHA])),
        0,
    );
}

#[test]
fn a_freeze_blocks_a_fully_signed_change_and_lifting_it_needs_signoffs() {
    let r = setup("");
    let run = r.guard(&["freeze", "--reason", "incident 42: tokens leaked"]);
    assert_code(&run, 0);
    assert!(
        r.read("guard.toml")
            .contains("freeze = \"incident 42: tokens leaked\"")
    );
    assert_code(&commit_as(&r, "author@jarvis.example", "freeze"), 0);
    edit(&r, "f.txt", 6);
    let run = commit_as(
        &r,
        "author@jarvis.example",
        &signed("fix", &[ALPHA, BETA, GAMMA]),
    );
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("violation [frozen]: zone z is frozen (incident 42: tokens leaked)"),
        "{run:?}"
    );
    assert!(
        r.guard(&["audit"])
            .stdout
            .contains("  verdict   blocked (frozen)")
    );
    r.git(&["reset", "-q", "--hard", "HEAD~"]);
    assert_code(&r.guard(&["thaw"]), 0);
    let run = commit_as(&r, "author@jarvis.example", "thaw");
    assert_code(&run, 1);
    assert!(run.stdout.contains("the security freeze lifted"), "{run:?}");
    r.git(&["reset", "-q", "--soft", "HEAD~"]);
    assert_code(
        &commit_as(&r, "author@jarvis.example", &signed("thaw", &[ALPHA, BETA])),
        0,
    );
    // A freeze of one zone leaves the others open.
    r.guard(&["freeze", "--reason", "audit", "--zone", "docs-zone"]);
    commit_as(&r, "author@jarvis.example", "freeze docs");
    edit(&r, "f.txt", 6);
    assert_code(
        &commit_as(&r, "author@jarvis.example", &signed("fix", &[ALPHA, BETA])),
        0,
    );
    assert_code(&r.guard(&["freeze", "--reason", "x", "--zone", "nope"]), 2);
}

#[test]
fn a_co_change_is_required_even_with_signoffs() {
    let r = setup("");
    let m = r.read("guard.toml").replace(
        "lines = \"5-10\"\n",
        "lines = \"5-10\"\nalso_change = [\"CHANGELOG.md\", \"docs-zone\"]\n",
    );
    r.write("guard.toml", &m);
    commit_as(&r, "author@jarvis.example", "co-change rule");
    let start = r.git(&["rev-parse", "HEAD"]);
    edit(&r, "f.txt", 6);
    let run = commit_as(&r, "author@jarvis.example", &signed("fix", &[ALPHA, BETA]));
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("a change to it must also change CHANGELOG.md, docs-zone"),
        "{run:?}"
    );
    let json = r.guard(&["check", "HEAD", "--format", "json"]);
    assert!(json.stdout.contains("\"code\": \"co-change\""), "{json:?}");
    assert!(
        r.guard(&["audit"])
            .stdout
            .contains("  verdict   blocked (co-change)")
    );
    // The file alone is not enough: the listed zone must be touched too.
    r.git(&["reset", "-q", "--hard", &start]);
    edit(&r, "f.txt", 6);
    r.write("CHANGELOG.md", "# changes\n- fix\n");
    let run = commit_as(&r, "author@jarvis.example", &signed("fix", &[ALPHA, BETA]));
    assert_code(&run, 1);
    assert!(run.stdout.contains("must also change docs-zone"), "{run:?}");
    r.git(&["reset", "-q", "--hard", &start]);
    edit(&r, "f.txt", 6);
    edit(&r, "g.txt", 1);
    r.write("CHANGELOG.md", "# changes\n- fix\n");
    assert_code(
        &commit_as(&r, "author@jarvis.example", &signed("fix", &[ALPHA, BETA])),
        0,
    );
    // Removing the rule is a weakening.
    r.git(&["reset", "-q", "--hard", &start]);
    r.write(
        "guard.toml",
        &r.read("guard.toml")
            .replace("also_change = [\"CHANGELOG.md\", \"docs-zone\"]\n", ""),
    );
    let run = commit_as(&r, "author@jarvis.example", "drop the rule");
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("zone z no longer requires a change of CHANGELOG.md"),
        "{run:?}"
    );
}

#[test]
fn claim_writes_a_claim_and_refuses_anothers_zone() {
    let r = setup("");
    let run = r.guard(&[
        "claim",
        "z",
        "--instance",
        "alpha",
        "--until",
        "2099-01-01",
        "--note",
        "CSP work",
    ]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("claimed z for alpha until 2099-01-01"),
        "{run:?}"
    );
    let run = r.guard(&["claim", "z", "--instance", "beta"]);
    assert_code(&run, 1);
    assert!(
        run.stderr
            .contains("zone z is claimed by alpha until 2099-01-01"),
        "{run:?}"
    );
    let run = r.guard(&["claims"]);
    assert!(
        run.stdout
            .contains("z                        alpha        since "),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("until 2099-01-01: active (CSP work)"),
        "{run:?}"
    );
    assert_code(&r.guard(&["claim", "nope", "--instance", "alpha"]), 2);
    assert_code(&r.guard(&["claim", "z", "--instance", "mallory"]), 2);
}

/// `guard status` on the demo's repository, against its snapshots (commit
/// ids and dates, which change with every run, replaced).
#[test]
fn status_on_the_demo_repository_matches_its_snapshots() {
    let keep = tempfile::tempdir().unwrap();
    let dir = keep.path().join("demo");
    let out = run_demo(&dir);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let status = |format: &str| {
        let out = std::process::Command::new(guard_bin())
            .current_dir(dir.join("jarvis"))
            .args(["status", "--format", format])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let snapshot = |name: &str| {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/snapshots")
                .join(name),
        )
        .unwrap()
    };
    // Human: "<10 hex> <date> <time> <offset>" is a commit and its date.
    let human: String = status("human")
        .lines()
        .map(|l| match l.find("last: ") {
            Some(at) if l[at + 6..].chars().take(10).all(|c| c.is_ascii_hexdigit()) => {
                let rest = &l[at + 6 + 10 + 1 + 25..];
                format!("{}last: <commit> <date>{rest}\n", &l[..at])
            }
            _ => format!("{l}\n"),
        })
        .collect();
    assert_eq!(human, snapshot("status-demo.txt"));
    let mut json: serde_json::Value = serde_json::from_str(&status("json")).unwrap();
    for z in json["zones"].as_array_mut().unwrap() {
        if z["last"].is_object() {
            z["last"]["commit"] = "<commit>".into();
            z["last"]["date"] = "<date>".into();
        }
    }
    let expected: serde_json::Value = serde_json::from_str(&snapshot("status-demo.json")).unwrap();
    assert_eq!(json, expected);
}

#[test]
fn a_freeze_blocks_what_a_merge_brings() {
    let r = setup("");
    r.git(&["branch", "side"]);
    r.guard(&["freeze", "--reason", "incident 42"]);
    commit_as(&r, "author@jarvis.example", "freeze");
    r.git(&["checkout", "-q", "side"]);
    edit(&r, "f.txt", 6);
    // Signed, and made before the freeze on a branch that never had it.
    assert_code(
        &commit_as(&r, "author@jarvis.example", &signed("fix", &[ALPHA, BETA])),
        0,
    );
    r.git(&["checkout", "-q", "main"]);
    r.merge_no_ff("side", &signed("merge side", &[ALPHA, BETA, GAMMA]));
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("violation [frozen]: zone z is frozen (incident 42)"),
        "{run:?}"
    );
}

#[test]
fn author_dates_do_not_dodge_a_claim() {
    let r = setup("");
    // A claim recorded with a `since` after the commits' author dates, and
    // an `until` far ahead.
    r.write(
        ".guard/claims.toml",
        &claims_file(&[("z", "alpha", "2026-06-01", Some("2099-06-01"))]),
    );
    commit_as(&r, "alpha@jarvis.example", "claim z");
    edit(&r, "f.txt", 6);
    r.git(&["add", "-A"]);
    // Dated before `since`: the claim is in force from the commit that records it.
    let run = r.guard(&["check", "--staged", "--message-file", "/dev/null"]);
    assert!(run.stdout.contains("violation [claimed]"), "{run:?}");
    let msg = signed("backdated", &[BETA, GAMMA]);
    let out = r
        .cmd("git")
        .args([
            "-c",
            "user.email=beta@jarvis.example",
            "commit",
            "-q",
            "--no-verify",
            "-m",
            &msg,
        ])
        .env("GIT_AUTHOR_DATE", "2099-12-31T00:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // Dated after `until`: the day is never later than today.
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("violation [claimed]: zone z is claimed by alpha"),
        "{run:?}"
    );
}

#[test]
fn a_forged_author_is_not_a_keyed_claimant() {
    let r = Repo::new();
    r.write(".gitignore", "keys/\n");
    let key = keygen(&r, "alpha", "ed25519");
    r.write("f.txt", &lines(20));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\n").replace(
            "emails = [\"alpha@jarvis.example\"]\n",
            &format!("emails = [\"alpha@jarvis.example\"]\nkey = \"{key}\"\n"),
        ),
    );
    claim_z_for_alpha(&r);
    r.commit("init with alpha's claim");
    let start = r.git(&["rev-parse", "HEAD"]);
    // beta's edit with alpha's email as the author: not alpha's consent.
    edit(&r, "f.txt", 6);
    let run = commit_as(
        &r,
        "alpha@jarvis.example",
        &signed("beta's edit", &[BETA, GAMMA]),
    );
    assert_code(&run, 1);
    assert!(run.stdout.contains("violation [claimed]"), "{run:?}");
    r.git(&["reset", "-q", "--hard", &start]);
    r.git(&["rm", "-q", ".guard/claims.toml"]);
    let run = commit_as(&r, "alpha@jarvis.example", "release");
    assert_code(&run, 1);
    assert!(run.stdout.contains("violation [claim-taken]"), "{run:?}");
}

#[test]
fn a_merge_brings_a_claimed_zone_change_only_with_the_claimant() {
    let r = setup("");
    let before = r.git(&["rev-parse", "HEAD"]);
    claim_z_for_alpha(&r);
    commit_as(&r, "alpha@jarvis.example", &signed("claim z", &[ALPHA]));
    // An edit based on a commit from before the claim, merged in.
    r.git(&["checkout", "-q", "-b", "side", &before]);
    edit(&r, "f.txt", 6);
    assert_code(
        &commit_as(&r, "beta@jarvis.example", &signed("edit", &[BETA, GAMMA])),
        0,
    );
    r.git(&["checkout", "-q", "main"]);
    r.merge_no_ff("side", "merge side");
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("violation [claimed]: zone z is claimed by alpha"),
        "{run:?}"
    );
}

#[test]
fn removing_or_renaming_a_claimed_zone_needs_the_claimant() {
    let r = setup("");
    claim_z_for_alpha(&r);
    commit_as(&r, "alpha@jarvis.example", &signed("claim z", &[ALPHA]));
    r.write(
        "guard.toml",
        &r.read("guard.toml").replace("id = \"z\"", "id = \"zz\""),
    );
    let run = commit_as(&r, "beta@jarvis.example", &signed("rename", &[BETA, GAMMA]));
    assert_code(&run, 1);
    assert!(run.stdout.contains("violation [claim-taken]"), "{run:?}");
}

#[test]
fn claims_name_instances_of_the_manifest_with_their_consent() {
    let r = setup("");
    let start = r.git(&["rev-parse", "HEAD"]);
    r.write(
        ".guard/claims.toml",
        &claims_file(&[("z", "nobody", "2025-12-01", None)]),
    );
    let run = commit_as(&r, "beta@jarvis.example", "lock z forever");
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("names no zone or no instance of the manifest in force"),
        "{run:?}"
    );
    r.git(&["reset", "-q", "--hard", &start]);
    claim_z_for_alpha(&r);
    let run = commit_as(&r, "beta@jarvis.example", "claim z in alpha's name");
    assert_code(&run, 1);
    assert!(run.stdout.contains("violation [claim-unsigned]"), "{run:?}");
}

#[test]
fn an_also_change_entry_that_changes_meaning_is_a_weakening() {
    let r = setup("");
    std::fs::create_dir_all(r.file("notes")).unwrap();
    r.write("notes/a.md", "n\n");
    r.write(
        "guard.toml",
        &r.read("guard.toml").replace(
            "lines = \"5-10\"\n",
            "lines = \"5-10\"\nalso_change = [\"notes\"]\n",
        ),
    );
    commit_as(
        &r,
        "author@jarvis.example",
        &signed("co-change notes/", &[ALPHA, BETA]),
    );
    // A zone with the path's name would turn the entry into "touch that zone".
    r.write(
        "guard.toml",
        &format!(
            "{}\n[[zone]]\nid = \"notes\"\npath = \"f.txt\"\n",
            r.read("guard.toml")
        ),
    );
    let run = commit_as(&r, "author@jarvis.example", "add a zone");
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("`also_change` entry notes now names a zone, not a path"),
        "{run:?}"
    );
}
