//! Contract section 4, merges: a merge is judged on everything it brings to its
//! first parent, except what a side carries with the first parent's consent.

use crate::common::*;

const ZONE: &str = "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\n";

/// main: f.txt (20 lines, zone z on 1-5) and the manifest; feature: a signed
/// zone edit (line 2); main: unrelated work.
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

fn merge(r: &Repo, args: &[&str]) {
    let mut all = vec!["merge", "-q", "--no-verify", "--no-ff", "-m", "merge"];
    all.extend_from_slice(args);
    r.git(&all);
}

/// Merge `branch` into the current branch, keeping `guard.toml` as it is in
/// `keep` (a revision), and commit with `message`.
fn merge_keeping_manifest(r: &Repo, branch: &str, keep: &str, message: &str) {
    r.git(&[
        "merge",
        "-q",
        "--no-ff",
        "--no-commit",
        "--no-verify",
        branch,
    ]);
    r.git(&["checkout", "-q", keep, "--", "guard.toml"]);
    r.commit(message);
}

#[track_caller]
fn assert_blocked_because(run: &Run, why: &str) {
    assert_code(run, 1);
    assert!(
        run.stdout
            .contains(&format!("the merge's own change ({why}")),
        "expected the merge's own change because {why:?}: {run:?}"
    );
}

#[test]
fn a_clean_merge_of_signed_work_passes() {
    let r = branches();
    merge(&r, &["feature"]);
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("(merge): touches no zone"), "{run:?}");
}

#[test]
fn a_signed_branch_with_unsigned_edits_elsewhere_in_the_file_passes() {
    let r = branches();
    r.git(&["checkout", "-q", "feature"]);
    r.write(
        "f.txt",
        &lines(20)
            .replace("line 2\n", "two\n")
            .replace("line 15\n", "fifteen\n"),
    );
    r.commit("unsigned edit outside the zone");
    r.git(&["checkout", "-q", "main"]);
    merge(&r, &["feature"]);
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    assert_code(&r.guard(&["check", "HEAD~1..HEAD"]), 0);
    let all = r.guard(&["check", "main~2..main"]);
    assert_code(&all, 0);
    assert!(
        all.stdout.contains("4 changes checked, 0 blocked"),
        "{all:?}"
    );
}

#[test]
fn merging_main_back_into_a_feature_branch_passes() {
    let r = branches();
    // main gets a signed zone change of its own, then main is merged into feature.
    r.write("f.txt", &lines(20).replace("line 4\n", "four\n"));
    r.commit_message(&signed("signed on main", &[ALPHA, GAMMA]));
    r.git(&["checkout", "-q", "feature"]);
    merge(&r, &["main"]);
    assert_eq!(
        r.read("f.txt"),
        lines(20)
            .replace("line 2\n", "two\n")
            .replace("line 4\n", "four\n")
    );
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 0);
    // And feature, now containing main, merged back into main.
    r.git(&["checkout", "-q", "main"]);
    merge(&r, &["feature"]);
    assert_code(&r.guard(&["check", "HEAD"]), 0);
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
    assert_blocked_because(&run, "differs from every parent");
    assert!(run.stdout.contains("+ evil"), "{run:?}");
    assert!(!run.stdout.contains("+ two"), "{run:?}");
}

#[test]
fn an_evil_conflict_resolution_inside_a_zone_is_blocked() {
    let r = branches();
    // Both sides change line 2: a conflict, resolved with text of neither side.
    r.write("f.txt", &lines(20).replace("line 2\n", "deux\n"));
    r.commit_message(&signed("signed on main", &[ALPHA, GAMMA]));
    let m = r.git_run(&["merge", "-q", "--no-verify", "--no-ff", "feature"]);
    assert_eq!(m.code, 1, "expected a conflict: {m:?}");
    r.write("f.txt", &lines(20).replace("line 2\n", "return True\n"));
    r.commit_message("merge feature");
    let run = r.guard(&["check", "HEAD"]);
    assert_blocked_because(&run, "differs from every parent");
    assert!(run.stdout.contains("- deux"), "{run:?}");
    assert!(run.stdout.contains("+ return True"), "{run:?}");
    // Signed, the resolution passes.
    r.git(&[
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        &signed("merge feature", &[BETA, GAMMA]),
    ]);
    assert_code(&r.guard(&["check", "HEAD"]), 0);
}

#[test]
fn an_orphan_branch_cannot_bring_a_zone_change() {
    let r = branches();
    r.git(&["checkout", "-q", "--orphan", "orphan"]);
    r.write("f.txt", &lines(20).replace("line 3\n", "backdoor\n"));
    r.git(&["rm", "-q", "--cached", "g.txt"]);
    std::fs::remove_file(r.file("g.txt")).unwrap();
    r.git(&["rm", "-q", "--cached", "guard.toml"]);
    std::fs::remove_file(r.file("guard.toml")).unwrap();
    let orphan = r.commit("unrelated history");
    r.git(&["checkout", "-q", "main"]);
    let base = r.git(&["rev-parse", "HEAD"]);
    merge(
        &r,
        &["--allow-unrelated-histories", "-X", "theirs", "orphan"],
    );
    assert!(r.read("f.txt").contains("backdoor"));
    let run = r.guard(&["check", &format!("{base}..HEAD")]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains(&format!(
            "the merge's own change (brought by commits judged by no manifest: {}",
            &orphan[..10]
        )),
        "{run:?}"
    );
    assert!(run.stdout.contains("+ backdoor"), "{run:?}");
    assert!(run.stdout.contains("1 blocked"), "{run:?}");
}

#[test]
fn an_orphan_branch_cannot_bring_a_weaker_manifest() {
    let r = branches();
    r.git(&["checkout", "-q", "--orphan", "weak"]);
    r.write(
        "guard.toml",
        "version = 1\n[policy]\nsignoffs = 1\n[[instance]]\nid = \"mallory\"\nemails = [\"m@evil.example\"]\n",
    );
    r.commit("weaker rules");
    r.git(&["checkout", "-q", "main"]);
    merge(&r, &["--allow-unrelated-histories", "-X", "theirs", "weak"]);
    assert!(r.read("guard.toml").contains("mallory"));
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("zone manifest"), "{run:?}");
    assert!(
        run.stdout
            .contains("the merge's own change (brought by commits judged by no manifest"),
        "{run:?}"
    );
}

#[test]
fn a_branch_forked_before_the_manifest_cannot_bring_a_zone_change() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.commit("before guard");
    r.git(&["checkout", "-q", "-b", "old"]);
    r.write("f.txt", &lines(20).replace("line 3\n", "backdoor\n"));
    let side = r.commit("edit before the rules existed");
    r.git(&["checkout", "-q", "main"]);
    r.write("guard.toml", &manifest(ZONE));
    r.commit("add guard");
    merge(&r, &["old"]);
    let run = r.guard(&["check", "HEAD"]);
    assert!(
        run.stdout.contains(&format!(
            "brought by commits judged by no manifest: {}",
            &side[..10]
        )),
        "{run:?}"
    );
    assert_blocked_because(&run, "brought by commits judged by no manifest");
}

#[test]
fn a_merge_of_an_old_ancestor_cannot_revert_a_signed_fix() {
    let r = branches();
    let old = r.git(&["rev-parse", "HEAD~1"]);
    r.write("f.txt", &lines(20).replace("line 4\n", "signed fix\n"));
    r.commit_message(&signed("signed fix", &[ALPHA, BETA]));
    // A merge of the old ancestor whose tree is the old one: made by hand.
    let tree = r.git(&["rev-parse", &format!("{old}^{{tree}}")]);
    let merge = r.git(&[
        "commit-tree",
        &tree,
        "-p",
        "HEAD",
        "-p",
        &old,
        "-m",
        "merge an old ancestor",
    ]);
    let run = r.guard(&["check", &merge]);
    assert_blocked_because(&run, "reverts to merge-base content");
    assert!(run.stdout.contains("- signed fix"), "{run:?}");
}

#[test]
fn an_octopus_with_one_bad_side_is_blocked() {
    let r = branches();
    r.git(&["checkout", "-q", "-b", "other", "main~1"]);
    r.write("f.txt", &lines(20).replace("line 18\n", "eighteen\n"));
    r.commit("outside the zone");
    r.git(&["checkout", "-q", "-b", "bad", "main~1"]);
    r.write("f.txt", &lines(20).replace("line 5\n", "unsigned\n"));
    r.commit("unsigned zone edit");
    r.git(&["checkout", "-q", "main"]);
    // Two good sides: passes.
    merge(&r, &["feature", "other"]);
    assert_eq!(
        r.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        4
    );
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    merge(&r, &["feature", "other", "bad"]);
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("+ unsigned"), "{run:?}");
    assert!(!run.stdout.contains("+ two"), "{run:?}");
    assert!(!run.stdout.contains("+ eighteen"), "{run:?}");
}

#[test]
fn an_instance_revoked_on_the_first_parent_no_longer_signs_for_a_side() {
    let r = branches();
    // main revokes beta (a tightening, no sign-offs needed).
    let m = manifest(ZONE).replace(
        "[[instance]]\nid = \"beta\"\nemails = [\"beta@jarvis.example\", \"beta2@jarvis.example\"]\n",
        "",
    );
    assert!(!m.contains("beta"));
    r.write("guard.toml", &m);
    r.commit("revoke beta");
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    merge(&r, &["feature"]);
    let run = r.guard(&["check", "HEAD"]);
    assert_blocked_because(&run, "brought by ");
    assert!(
        run.stdout.contains("    f.txt:1-5: lines changed\n"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(
            "whose sign-offs do not meet the first parent's rule for zone z: 1 of 2 counted; Beta <beta@jarvis.example>: <beta@jarvis.example> is not the email of a registered instance"
        ),
        "{run:?}"
    );
    let json = r.guard(&["check", "HEAD", "--format", "json"]);
    assert_code(&json, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let own = &v["changes"][0]["touched"][0]["merge_own"];
    assert_eq!(own["code"], "unconsented", "{json:?}");
    assert_eq!(own["refusal"]["code"], "not-signed", "{json:?}");
    assert_eq!(own["refusal"]["zone"], "z", "{json:?}");
    assert_eq!(own["refusal"]["counted"], 1, "{json:?}");
}

#[test]
fn a_threshold_raised_on_the_first_parent_applies_to_what_a_side_brings() {
    let r = branches();
    r.write("guard.toml", &manifest(&format!("{ZONE}signoffs = 3\n")));
    r.commit("raise z to 3");
    merge(&r, &["feature"]);
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("for zone z: 2 of 3 counted"), "{run:?}");
    // Three sign-offs on the merge make it pass.
    r.git(&[
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        &signed("merge", &[ALPHA, BETA, GAMMA]),
    ]);
    assert_code(&r.guard(&["check", "HEAD"]), 0);
}

#[test]
fn drift_fixed_on_either_side_is_not_a_weakening() {
    let r = branches();
    // feature inserts two lines above the zone and follows them in the manifest.
    r.git(&["checkout", "-q", "feature"]);
    r.write(
        "f.txt",
        &format!("new 1\nnew 2\n{}", lines(20).replace("line 2\n", "two\n")),
    );
    r.write("guard.toml", &manifest(&ZONE.replace("1-5", "3-7")));
    r.commit("insert above the zone");
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    // main appends at the end of the file.
    r.git(&["checkout", "-q", "main"]);
    r.write("f.txt", &format!("{}tail\n", lines(20)));
    r.commit("append");
    merge(&r, &["feature"]);
    assert!(r.read("guard.toml").contains("3-7"));
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 0);
    // And the other way round: main merged into feature.
    r.git(&["checkout", "-q", "feature"]);
    merge(&r, &["main~1"]);
    assert_code(&r.guard(&["check", "HEAD"]), 0);
}

#[test]
fn merging_through_the_hooks() {
    let r = branches();
    assert_code(&r.guard(&["install"]), 0);
    let m = r.git_run(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    assert_eq!(m.code, 0, "{m:?}");
}

/// An orphan branch that edits the zone, ready to merge into main.
fn orphan_attack(r: &Repo) {
    r.git(&["checkout", "-q", "--orphan", "orphan"]);
    r.git(&["rm", "-q", "-r", "--cached", "."]);
    for f in ["g.txt", "guard.toml"] {
        std::fs::remove_file(r.file(f)).unwrap();
    }
    r.write("f.txt", &lines(20).replace("line 3\n", "backdoor\n"));
    r.commit("unrelated history");
    r.git(&["checkout", "-q", "main"]);
}

#[test]
fn the_commit_msg_hook_blocks_a_direct_merge_that_brings_an_unjudged_change() {
    let r = branches();
    orphan_attack(&r);
    assert_code(&r.guard(&["install"]), 0);
    let head = r.git(&["rev-parse", "HEAD"]);
    let m = r.git_run(&[
        "merge",
        "-q",
        "--no-ff",
        "--allow-unrelated-histories",
        "-X",
        "theirs",
        "-m",
        "merge orphan",
        "orphan",
    ]);
    assert_eq!(m.code, 1, "{m:?}");
    assert!(
        m.all().contains("brought by commits judged by no manifest"),
        "{m:?}"
    );
    assert_eq!(
        r.git(&["rev-parse", "HEAD"]),
        head,
        "the merge must not be made"
    );
}

#[test]
fn the_hooks_block_a_merge_committed_after_no_commit() {
    let r = branches();
    orphan_attack(&r);
    assert_code(&r.guard(&["install"]), 0);
    r.git(&[
        "merge",
        "-q",
        "--no-commit",
        "--no-ff",
        "--allow-unrelated-histories",
        "-X",
        "theirs",
        "orphan",
    ]);
    let staged = r.guard(&["check"]);
    assert_code(&staged, 1);
    assert!(
        staged
            .stdout
            .contains("brought by commits judged by no manifest"),
        "{staged:?}"
    );
    let head = r.git(&["rev-parse", "HEAD"]);
    let c = r.git_run(&["commit", "-q", "-m", "merge orphan"]);
    assert_eq!(c.code, 1, "{c:?}");
    assert!(c.all().contains("+ backdoor"), "{c:?}");
    assert_eq!(r.git(&["rev-parse", "HEAD"]), head);
    // Signed by two instances, the merge goes through.
    let ok = r.git_run(&[
        "commit",
        "-q",
        "-m",
        &signed("merge orphan", &[ALPHA, BETA]),
    ]);
    assert_eq!(ok.code, 0, "{ok:?}");
}

#[test]
fn a_side_that_merged_the_first_parent_cannot_revert_its_later_fix() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("f.txt", &lines(20).replace("line 15\n", "fifteen\n"));
    r.commit("outside the zone");
    r.git(&["checkout", "-q", "main"]);
    r.write("f.txt", &lines(20).replace("line 3\n", "three\n"));
    r.commit_message(&signed("first fix", &[ALPHA, BETA]));
    r.git(&["checkout", "-q", "feature"]);
    merge(&r, &["main"]);
    r.git(&["checkout", "-q", "main"]);
    r.write("f.txt", &lines(20).replace("line 3\n", "THREE\n"));
    r.commit_message(&signed("second fix", &[ALPHA, BETA]));
    // A merge whose tree is feature's: line 3 goes back to the first fix.
    let tree = r.git(&["rev-parse", "feature^{tree}"]);
    let m = r.git(&[
        "commit-tree",
        &tree,
        "-p",
        "main",
        "-p",
        "feature",
        "-m",
        "merge feature",
    ]);
    let run = r.guard(&["check", &m]);
    assert_blocked_because(&run, "reverts to merge-base content");
    assert!(run.stdout.contains("- THREE\n      + three"), "{run:?}");
    // The same merge made by git keeps the second fix and passes.
    merge(&r, &["feature"]);
    assert!(r.read("f.txt").contains("THREE") && r.read("f.txt").contains("fifteen"));
    assert_code(&r.guard(&["check", "HEAD"]), 0);
}

#[test]
fn a_side_that_shrank_a_zone_without_the_first_parents_consent_carries_nothing() {
    let r = branches();
    // feature shrinks z to 1-3 (signed by alpha and beta), then edits line 5,
    // now outside its zone, without sign-offs.
    r.git(&["checkout", "-q", "feature"]);
    r.write("guard.toml", &manifest(&ZONE.replace("1-5", "1-3")));
    let shrink = {
        r.commit_message(&signed("shrink z", &[ALPHA, BETA]));
        r.git(&["rev-parse", "HEAD"])
    };
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    r.write(
        "f.txt",
        &lines(20)
            .replace("line 2\n", "two\n")
            .replace("line 5\n", "unsigned\n"),
    );
    r.commit("edit line 5");
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    // main revokes beta, then merges feature.
    r.git(&["checkout", "-q", "main"]);
    let m = manifest(ZONE).replace(
        "[[instance]]\nid = \"beta\"\nemails = [\"beta@jarvis.example\", \"beta2@jarvis.example\"]\n",
        "",
    );
    r.write("guard.toml", &m);
    r.commit("revoke beta");
    merge(&r, &["feature"]);
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("+ unsigned"), "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "brought by {}, whose sign-offs do not meet the first parent's rule for zone manifest",
            &shrink[..10]
        )),
        "{run:?}"
    );
}

#[test]
fn the_audit_lists_a_merge_by_what_it_brings() {
    let r = branches();
    orphan_attack(&r);
    let base = r.git(&["rev-parse", "HEAD"]);
    merge(
        &r,
        &["--allow-unrelated-histories", "-X", "theirs", "orphan"],
    );
    let merge_id = r.git(&["rev-parse", "HEAD"]);
    let run = r.guard(&["audit", &format!("{base}..HEAD")]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains(&format!("{merge_id}  ")),
        "the merge is listed: {run:?}"
    );
    assert!(
        run.stdout.contains(
            "            the merge's own change: brought by commits judged by no manifest: "
        ),
        "{run:?}"
    );
    // The orphan's own commit was judged by no rules: it is not listed.
    assert_eq!(run.stdout.matches("  verdict   ").count(), 1, "{run:?}");
    // A signed merge of signed work is listed as passed, with nothing of its own.
    let r = branches();
    merge(&r, &["feature"]);
    let ok = r.guard(&["audit", "HEAD~1..HEAD", "--format", "json"]);
    assert_code(&ok, 0);
    let v: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(v["commits"].as_array().unwrap().len(), 1, "{ok:?}");
}

/// Red team B1: main widened a zone after the branch forked; the branch's
/// unsigned edit of a newly protected line needs the first parent's consent,
/// whatever the branch's own (narrower) zone said.
#[test]
fn a_zone_widened_on_the_first_parent_protects_what_a_side_changed_before() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(&ZONE.replace("1-5", "1-2")));
    r.commit("zone 1-2");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("f.txt", &lines(20).replace("line 3\n", "EVIL\n"));
    let edit = r.commit("edit line 3, outside the side's zone");
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    r.git(&["checkout", "-q", "main"]);
    r.write("guard.toml", &manifest(ZONE));
    let base = r.commit("widen z to 1-5");
    merge(&r, &["side"]);
    for args in [
        vec!["check".to_string(), "HEAD".to_string()],
        vec!["check".into(), format!("{base}..HEAD")],
    ] {
        let run = r.guard(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_code(&run, 1);
        assert!(run.stdout.contains("+ EVIL"), "{run:?}");
        assert!(
            run.stdout.contains(&format!(
                "brought by {}, whose sign-offs do not meet the first parent's rule for zone z: 0 of 2 counted",
                &edit[..10]
            )),
            "{run:?}"
        );
    }
}

/// Red team B2: a side that takes main's files with an old, narrower manifest
/// (by merging main and keeping its own guard.toml) and then edits a line
/// main protects: the edit still needs main's consent.
#[test]
fn a_side_that_keeps_an_old_narrower_manifest_cannot_edit_what_main_protects() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(&ZONE.replace("1-5", "1-2")));
    let old = r.commit("zone 1-2");
    r.write("guard.toml", &manifest(ZONE));
    r.commit("widen z to 1-5");
    r.write("g.txt", "more\n");
    let base = r.commit("later main work");
    r.git(&["checkout", "-q", "-b", "att", &old]);
    merge_keeping_manifest(&r, "main", &old, "merge main, keeping the old manifest");
    r.write("f.txt", &lines(20).replace("line 3\n", "EVIL\n"));
    r.commit("edit line 3");
    r.git(&["checkout", "-q", "main"]);
    merge_keeping_manifest(&r, "att", "HEAD", "merge att");
    assert!(r.read("f.txt").contains("EVIL"));
    assert_code(&r.guard(&["check", "HEAD"]), 1);
    let run = r.guard(&["check", &format!("{base}..HEAD")]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("+ EVIL"), "{run:?}");
}

/// Red team B3: a side that shrank the zone (signed) and then edited the lines
/// it no longer covered, unsigned: the edit touched the first parent's zone.
#[test]
fn a_side_that_shrank_a_zone_cannot_then_edit_its_old_lines_unsigned() {
    let r = branches();
    r.git(&["checkout", "-q", "feature"]);
    r.write("guard.toml", &manifest(&ZONE.replace("1-5", "1-2")));
    r.commit_message(&signed("shrink z", &[ALPHA, BETA]));
    r.write(
        "f.txt",
        &lines(20)
            .replace("line 2\n", "two\n")
            .replace("line 4\n", "EVIL\n"),
    );
    let edit = r.commit("edit line 4");
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    r.git(&["checkout", "-q", "main"]);
    merge_keeping_manifest(
        &r,
        "feature",
        "HEAD",
        "merge feature, keeping main's manifest",
    );
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("+ EVIL"), "{run:?}");
    // Consent is judged per zone and file: the signed edit of line 2 is listed
    // too, since one commit of the side changed the zone without consent.
    assert!(
        run.stdout.contains(&format!("brought by {}", &edit[..10])),
        "{run:?}"
    );
}

/// Red team B4: main's zone moved (drift, followed); a side keeps the old
/// manifest and edits a line that is in main's zone: `guard check` on the
/// merge alone blocks it, not only the range.
#[test]
fn a_merge_alone_is_blocked_when_a_side_edits_a_moved_zone_under_an_old_manifest() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    let old = r.commit("init");
    let above: String = (1..=10).map(|i| format!("p{i}\n")).collect();
    r.write("f.txt", &format!("{above}{}", lines(20)));
    r.write("guard.toml", &manifest(&ZONE.replace("1-5", "11-15")));
    r.commit("insert ten lines above the zone");
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    r.git(&["checkout", "-q", "-b", "att", &old]);
    merge_keeping_manifest(&r, "main", &old, "merge main, keeping the old manifest");
    r.write(
        "f.txt",
        &format!("{above}{}", lines(20).replace("line 3\n", "EVIL\n")),
    );
    r.commit("edit line 13");
    r.git(&["checkout", "-q", "main"]);
    merge_keeping_manifest(&r, "att", "HEAD", "merge att");
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("+ EVIL"), "{run:?}");
}

/// Red team L1: a signed weakening on a branch merges cleanly with main's own
/// tightening of the manifest; the merged manifest is neither side's, but it
/// weakens nothing the branch did not sign. Riding along with it, an email the
/// branch never signed for is the merge's own.
#[test]
fn a_signed_manifest_change_merged_beside_mains_own_tightening_passes() {
    let r = branches();
    r.git(&["checkout", "-q", "feature"]);
    let delta = "[[instance]]\nid = \"delta\"\nemails = [\"delta@jarvis.example\"]\n";
    r.write("guard.toml", &manifest(&format!("\n{delta}{ZONE}")));
    r.commit_message(&signed("register delta", &[ALPHA, BETA]));
    r.git(&["checkout", "-q", "main"]);
    r.write(
        "guard.toml",
        &manifest(&format!("{ZONE}\n[[zone]]\nid = \"g\"\npath = \"g.txt\"\n")),
    );
    r.commit("protect g.txt");
    let base = r.git(&["rev-parse", "HEAD"]);
    merge(&r, &["feature"]);
    let merged = r.read("guard.toml");
    assert!(
        merged.contains("delta") && merged.contains("id = \"g\""),
        "{merged}"
    );
    let run = r.guard(&["check", &format!("{base}..HEAD")]);
    assert_code(&run, 0);
    // The same merge, with an email for delta that nobody signed for.
    r.git(&["reset", "-q", "--hard", &base]);
    r.git(&[
        "merge",
        "-q",
        "--no-ff",
        "--no-commit",
        "--no-verify",
        "feature",
    ]);
    r.write(
        "guard.toml",
        &merged.replace(
            "\"delta@jarvis.example\"",
            "\"delta@jarvis.example\", \"m@evil.example\"",
        ),
    );
    r.commit("merge feature");
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("zone manifest"), "{run:?}");
}

/// guard run with `args` in a clone of depth 2 of a merge of a side branch
/// (the repository, the clone's directory, guard's output).
fn in_a_shallow_clone_of_a_merge(args: &[&str]) -> (Repo, tempfile::TempDir, std::process::Output) {
    let r = branches();
    merge(&r, &["feature"]);
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    let dest = clone.path().join("c");
    r.git(&["clone", "-q", "--depth", "2", &url, dest.to_str().unwrap()]);
    let out = r
        .cmd(guard_bin())
        .current_dir(&dest)
        .args(args)
        .output()
        .unwrap();
    (r, clone, out)
}

/// In a shallow clone whose cut falls inside what a merge's side brings, the
/// merge cannot be judged: exit 2 with the fix, never a verdict on part of it.
#[test]
fn a_merge_whose_side_reaches_a_shallow_cut_is_not_evaluated() {
    let (_r, _clone, out) = in_a_shallow_clone_of_a_merge(&["check", "HEAD"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("shallow clone"), "{stderr}");
    assert!(stderr.contains("--unshallow"), "{stderr}");
}

/// The same within a range: the merge and its side's commit at the cut are
/// both not evaluated (the range reads the side commit's parents from its
/// header, as git wrote them, not as the shallow clone hides them: a side
/// starting from an empty tree would be judged).
#[test]
fn a_range_over_a_merge_whose_side_reaches_a_shallow_cut_is_not_evaluated() {
    let (r, _clone, out) = in_a_shallow_clone_of_a_merge(&["check", "HEAD^..HEAD"]);
    let head = r.git(&["rev-parse", "HEAD"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("ERROR") && l.contains(&head)),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&format!("commit {}", &head[..10])),
        "{stdout}"
    );
}

/// A branch forked when the manifest had no zone `z` edits the lines `z`
/// covers now, unsigned: its own manifest did not ask, the first parent's
/// does. Judged alone and within a range (where the side's commit is judged
/// first and remembered, and its manifest's zones are looked up again).
#[test]
fn a_branch_forked_before_a_zone_existed_cannot_bring_a_change_to_it() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(""));
    r.commit("rules without zone z");
    let base = r.git(&["rev-parse", "HEAD"]);
    r.git(&["checkout", "-q", "-b", "old"]);
    r.write("f.txt", &lines(20).replace("line 3\n", "backdoor\n"));
    let side = r.commit("edit no zone covered then");
    r.git(&["checkout", "-q", "main"]);
    r.write("guard.toml", &manifest(ZONE));
    r.commit_message(&signed("add zone z", &[ALPHA, BETA]));
    merge(&r, &["old"]);
    let why = format!(
        "brought by commits whose manifest had no zone z: {}",
        &side[..10]
    );
    for args in [
        vec!["check", "HEAD"],
        vec!["check", &format!("{base}..HEAD")],
    ] {
        let run = r.guard(&args);
        assert_blocked_because(&run, &why);
        assert!(run.stdout.contains("+ backdoor"), "{run:?}");
    }
}
