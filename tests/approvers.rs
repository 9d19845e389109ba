//! Who may consent: named approvers, groups with AND, the break-glass
//! override, ratifying a commit that slipped through, and their weakenings.

use crate::common::*;

const ENZO: &str = "Enzo <enzo@jarvis.example>";

const ENZO_INSTANCE: &str = "\n[[instance]]\nid = \"enzo\"\nemails = [\"enzo@jarvis.example\"]\n";

/// A repository whose manifest has enzo and `extra`, and `f.txt` of 20 lines.
fn setup(extra: &str) -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("g.txt", &lines(20));
    r.write("guard.toml", &manifest(&format!("{ENZO_INSTANCE}{extra}")));
    r.commit("init");
    r
}

fn check_commit(r: &Repo, message: &str) -> Run {
    r.commit(message);
    r.guard(&["check", "HEAD"])
}

const ENZO_ZONE: &str = "\n[[zone]]\nid = \"csp\"\npath = \"f.txt\"\nlines = \"5-10\"\nsignoffs = 1\napprovers = [\"enzo\"]\nreason = \"never without Enzo\"\n";

#[test]
fn a_zone_with_approvers_counts_only_their_signoffs() {
    let r = setup(ENZO_ZONE);
    edit(&r, "f.txt", 7);
    let run = check_commit(&r, &signed("by two others", &[ALPHA, BETA]));
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("zone csp (never without Enzo) is touched and needs enzo"),
        "{run:?}"
    );
    edit(&r, "f.txt", 8);
    let run = check_commit(&r, &signed("by enzo", &[ENZO]));
    assert_code(&run, 0);
}

const GROUPS: &str = r#"
[[group]]
id = "security"
members = ["alpha", "beta"]

[[group]]
id = "backend"
members = ["alpha", "gamma"]

[[zone]]
id = "auth"
path = "f.txt"
require = [{ group = "security", signoffs = 1 }, { group = "backend", signoffs = 1 }]
"#;

#[test]
fn require_needs_each_group_from_distinct_instances() {
    let r = setup(GROUPS);
    edit(&r, "f.txt", 3);
    // alpha is in both groups: alone, one entry is met, not both.
    let run = check_commit(&r, &signed("alpha alone", &[ALPHA, ENZO]));
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("needs 1 more from group backend: gamma"),
        "{run:?}"
    );
    // alpha for backend, beta for security.
    edit(&r, "f.txt", 4);
    assert_code(&check_commit(&r, &signed("both", &[ALPHA, BETA])), 0);
    edit(&r, "f.txt", 5);
    assert_code(&check_commit(&r, &signed("both", &[GAMMA, BETA])), 0);
    // Two sign-offs, but both from security: backend is unmet.
    r.write(
        "guard.toml",
        &r.read("guard.toml").replace(
            "members = [\"alpha\", \"beta\"]",
            "members = [\"alpha\", \"beta\", \"enzo\"]",
        ),
    );
    r.commit(&signed("add enzo to security", &[ALPHA, BETA]));
    edit(&r, "f.txt", 6);
    let run = check_commit(&r, &signed("security twice", &[BETA, ENZO]));
    assert_code(&run, 1);
    assert!(
        run.stdout.contains("needs 1 more from group backend"),
        "{run:?}"
    );
}

#[test]
fn a_zone_nobody_can_sign_is_a_configuration_error() {
    let r = setup(&ENZO_ZONE.replace("signoffs = 1", "signoffs = 2"));
    let run = r.guard(&["zones", "--verify"]);
    assert_code(&run, 2);
    assert!(
        run.stderr.contains(
            "zone \"csp\": the declared instances cannot meet its rules (2 sign-off(s); from enzo)"
        ),
        "{run:?}"
    );
    // With author_counts = false, enzo cannot sign enzo's own change there:
    // such a change cannot be evaluated (exit 2 naming the zone), never passes.
    let r = setup(&format!("\n[policy]\nauthor_counts = false\n{ENZO_ZONE}"));
    assert_code(&r.guard(&["zones", "--verify"]), 0);
    edit(&r, "f.txt", 7);
    r.git(&["add", "-A"]);
    r.git(&[
        "-c",
        "user.email=enzo@jarvis.example",
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &signed("mine", &[ENZO]),
    ]);
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains("zone \"csp\" cannot be signed for a change authored by enzo"),
        "{run:?}"
    );
    let r = setup("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\napprovers = [\"nobody\"]\n");
    let run = r.guard(&["zones", "--verify"]);
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains("approver \"nobody\" is neither a [[group]] nor an [[instance]]"),
        "{run:?}"
    );
}

const OVERRIDE: &str = r#"
[policy]
override = { group = "oncall", signoffs = 2 }

[[group]]
id = "oncall"
members = ["alpha", "beta"]

[[invariant]]
path = "g.txt"
must_contain = "line 1\n"
reason = "g keeps its first line"
"#;

#[test]
fn the_override_passes_a_zone_with_a_reason_and_its_signoffs() {
    let r = setup(&format!("{OVERRIDE}{ENZO_ZONE}"));
    edit(&r, "f.txt", 7);
    let msg = format!(
        "hotfix\n\nGuard-Override: production is down\nSigned-off-by: {ALPHA}\nSigned-off-by: {BETA}\n"
    );
    let run = check_commit(&r, &msg);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains(
            "OVERRIDE: the touched zones passed by the break-glass override: production is down"
        ),
        "{run:?}"
    );
    let json = r.guard(&["check", "HEAD", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        v["changes"][0]["override"], "production is down",
        "{json:?}"
    );
    let sarif = r.guard(&["check", "HEAD", "--format", "sarif"]);
    assert!(
        sarif
            .stdout
            .contains("break-glass override: production is down"),
        "{sarif:?}"
    );
    let audit = r.guard(&["audit"]);
    assert!(
        audit.stdout.contains("  override  production is down"),
        "{audit:?}"
    );
}

#[test]
fn the_override_needs_a_reason_and_members_and_never_passes_an_invariant() {
    let r = setup(&format!("{OVERRIDE}{ENZO_ZONE}"));
    edit(&r, "f.txt", 7);
    let no_reason =
        format!("hotfix\n\nGuard-Override:\nSigned-off-by: {ALPHA}\nSigned-off-by: {BETA}\n");
    let run = check_commit(&r, &no_reason);
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("Guard-Override does not count without a reason"),
        "{run:?}"
    );
    edit(&r, "f.txt", 8);
    let outsider =
        format!("hotfix\n\nGuard-Override: down\nSigned-off-by: {ALPHA}\nSigned-off-by: {GAMMA}\n");
    let run = check_commit(&r, &outsider);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains("Guard-Override does not count: it needs 2 sign-off(s) from group oncall (alpha, beta), 1 counted"),
        "{run:?}"
    );
    r.write("g.txt", &lines(20).replace("line 1\n", ""));
    let msg =
        format!("drop\n\nGuard-Override: down\nSigned-off-by: {ALPHA}\nSigned-off-by: {BETA}\n");
    let run = check_commit(&r, &msg);
    assert_code(&run, 1);
    assert!(run.stdout.contains("violation [invariant]"), "{run:?}");
}

#[test]
fn a_ratify_lifts_a_no_verify_commit_in_a_range() {
    let r = setup("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\n");
    let base = r.git(&["rev-parse", "HEAD"]);
    edit(&r, "f.txt", 7);
    let x = r.commit("slipped through");
    // Too few: the range stays blocked, and both commits say why.
    let weak = r.commit(&format!(
        "ratify\n\nGuard-Ratify: {x}\nSigned-off-by: {ALPHA}\n"
    ));
    let run = r.guard(&["check", &format!("{base}..HEAD")]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains(&format!(
            "a ratification by {} did not count: zone z needs 1 more sign-off",
            &weak[..10]
        )),
        "{run:?}"
    );
    let ok = r.commit(&format!(
        "ratify\n\nGuard-Ratify: {}\n{}",
        &x[..12],
        signed("", &[ALPHA, BETA]).trim_start()
    ));
    let run = r.guard(&["check", &format!("{base}..HEAD")]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains(&format!("ratified by {}", &ok[..10])),
        "{run:?}"
    );
    // The audit shows both commits.
    let audit = r.guard(&["audit"]);
    assert!(
        audit.stdout.contains(&format!("  ratified  by {ok}")),
        "{audit:?}"
    );
    assert!(
        audit.stdout.contains(&format!("  ratifies  {x}")),
        "{audit:?}"
    );
    // Outside the range, there is nothing to ratify: the commit is not judged.
    let run = r.guard(&["check", &format!("{x}..HEAD")]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("names no single earlier commit of the checked range"),
        "{run:?}"
    );
}

#[test]
fn a_ratify_of_a_ratify() {
    let r = setup(
        "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\n\n[[zone]]\nid = \"three\"\npath = \"g.txt\"\nsignoffs = 3\n",
    );
    let base = r.git(&["rev-parse", "HEAD"]);
    edit(&r, "f.txt", 7);
    let x = r.commit("slipped through");
    // The ratify of x also edits a three-sign-off zone with two sign-offs.
    edit(&r, "g.txt", 2);
    let r1 = r.commit(&format!(
        "ratify x\n\nGuard-Ratify: {x}\nSigned-off-by: {ALPHA}\nSigned-off-by: {BETA}\n"
    ));
    let run = r.guard(&["check", &format!("{base}..HEAD")]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains(&format!("ratified by {}", &r1[..10])),
        "{run:?}"
    );
    r.commit(&format!("ratify r1\n\nGuard-Ratify: {r1}\nSigned-off-by: {ALPHA}\nSigned-off-by: {BETA}\nSigned-off-by: {GAMMA}\n"));
    let run = r.guard(&["check", &format!("{base}..HEAD")]);
    assert_code(&run, 0);
}

#[test]
fn widening_who_may_consent_is_a_weakening() {
    let r = setup(&format!("{OVERRIDE}{GROUPS}{ENZO_ZONE}"));
    let cases: &[(&str, &str, &str)] = &[
        (
            "members = [\"alpha\", \"beta\"]\n\n[[group]]\nid = \"backend\"",
            "members = [\"alpha\", \"beta\", \"gamma\"]\n\n[[group]]\nid = \"backend\"",
            "group security gains member gamma",
        ),
        (
            "approvers = [\"enzo\"]",
            "approvers = [\"enzo\", \"alpha\"]",
            "zone csp approvers widened to alpha",
        ),
        (
            "approvers = [\"enzo\"]\n",
            "",
            "zone csp no longer restricts its approvers",
        ),
        (
            "{ group = \"backend\", signoffs = 1 }",
            "{ group = \"backend\", signoffs = 1 }, { group = \"oncall\", signoffs = 1 }",
            "",
        ),
        (
            "require = [{ group = \"security\", signoffs = 1 }, { group = \"backend\", signoffs = 1 }]",
            "require = [{ group = \"security\", signoffs = 1 }]",
            "zone auth no longer requires group backend",
        ),
        (
            "override = { group = \"oncall\", signoffs = 2 }",
            "override = { group = \"oncall\", signoffs = 1 }",
            "the override's sign-offs lowered 2 -> 1",
        ),
    ];
    let start = r.git(&["rev-parse", "HEAD"]);
    for (from, to, weakening) in cases {
        r.git(&["reset", "-q", "--hard", &start]);
        let text = r.read("guard.toml");
        assert!(text.contains(from), "{from}");
        r.write("guard.toml", &text.replacen(from, to, 1));
        let run = check_commit(&r, "change who may consent");
        if weakening.is_empty() {
            assert_code(&run, 0); // a tightening
            continue;
        }
        assert_code(&run, 1);
        assert!(run.stdout.contains(weakening), "{weakening}: {run:?}");
        assert!(run.stdout.contains("manifest weakened"), "{run:?}");
    }
    // Adding an override where there was none.
    let r = setup("\n[[group]]\nid = \"oncall\"\nmembers = [\"alpha\", \"beta\"]\n");
    r.write(
        "guard.toml",
        &r.read("guard.toml").replace(
            "version = 1\n",
            "version = 1\n\n[policy]\noverride = { group = \"oncall\", signoffs = 2 }\n",
        ),
    );
    let run = check_commit(&r, "add an override");
    assert_code(&run, 1);
    assert!(
        run.stdout.contains("a break-glass override added"),
        "{run:?}"
    );
}

#[test]
fn signed_signoffs_count_for_approvers() {
    let r = Repo::new();
    r.write(".gitignore", "keys/\n");
    let key = keygen(&r, "enzo", "ed25519");
    r.write("f.txt", &lines(20));
    r.write(
        "guard.toml",
        &manifest(&format!("\n[[instance]]\nid = \"enzo\"\nemails = [\"enzo@jarvis.example\"]\nkey = \"{key}\"\n{ENZO_ZONE}")),
    );
    r.commit("init");
    edit(&r, "f.txt", 7);
    r.git(&["add", "-A"]);
    // enzo has a key: an unsigned sign-off by enzo does not count.
    let unsigned = r.guard(&["check", "--staged"]);
    assert_code(&unsigned, 1);
    let sign = r.guard(&[
        "sign",
        "--instance",
        "enzo",
        "--key",
        r.file("keys/enzo").to_str().unwrap(),
    ]);
    assert_code(&sign, 0);
    let run = check_commit(&r, &format!("by enzo\n\n{}", sign.stdout.trim()));
    assert_code(&run, 0);
}

#[test]
fn an_unrestricted_zone_the_others_cannot_sign_stays_blocked() {
    // Without approvers or require, the author left out of four instances
    // leaves three for a four-sign-off zone: blocked (exit 1), as it always was.
    let r = setup(
        "\n[policy]\nauthor_counts = false\n\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nsignoffs = 4\n",
    );
    edit(&r, "f.txt", 2);
    r.git(&["add", "-A"]);
    r.git(&[
        "-c",
        "user.email=alpha@jarvis.example",
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &signed("mine", &[ALPHA, BETA, GAMMA]),
    ]);
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("zone z"), "{run:?}");
}

#[test]
fn signed_signoffs_ratify_the_change_they_sign() {
    let r = Repo::new();
    r.write(".gitignore", "keys/\n");
    let alpha = keygen(&r, "alpha", "ed25519");
    let beta = keygen(&r, "beta", "ed25519");
    r.write("f.txt", &lines(20));
    r.write(
        "guard.toml",
        &format!(
            "version = 1\n\n[[instance]]\nid = \"alpha\"\nemails = [\"alpha@jarvis.example\"]\nkey = \"{alpha}\"\n\n[[instance]]\nid = \"beta\"\nemails = [\"beta@jarvis.example\"]\nkey = \"{beta}\"\n\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\n"
        ),
    );
    let base = r.commit("init");
    edit(&r, "f.txt", 3);
    let x = r.commit("slipped through");
    let sign = |who: &str, rev: &str| {
        let key = r.file(&format!("keys/{who}"));
        let run = r.guard(&[
            "sign",
            "--instance",
            who,
            "--key",
            key.to_str().unwrap(),
            rev,
        ]);
        assert_code(&run, 0);
        run.stdout.trim().to_string()
    };
    // Signatures over the ratified commit's change count.
    let (a, b) = (sign("alpha", &x), sign("beta", &x));
    r.commit(&format!("ratify\n\nGuard-Ratify: {x}\n{a}\n{b}\n"));
    assert_code(&r.guard(&["check", &format!("{base}..HEAD")]), 0);
    // Signatures over another change (the ratifying commit's own) do not.
    r.git(&["reset", "-q", "--hard", &x]);
    edit(&r, "f.txt", 4);
    let other = r.commit("another change");
    let (a, b) = (sign("alpha", &other), sign("beta", &other));
    r.commit(&format!("ratify\n\nGuard-Ratify: {x}\n{a}\n{b}\n"));
    let run = r.guard(&["check", &format!("{base}..HEAD")]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("did not count"), "{run:?}");
}

/// A bare manifest of `instances` (ids, email `<id>@x.example`) and `extra`.
fn bare(instances: &[&str], extra: &str) -> String {
    let mut m = String::from("version = 1\n");
    for i in instances {
        m.push_str(&format!(
            "\n[[instance]]\nid = \"{i}\"\nemails = [\"{i}@x.example\"]\n"
        ));
    }
    m.push_str(extra);
    m
}

#[test]
fn a_merge_carries_a_side_change_only_with_the_first_parents_approvers() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write(
        "guard.toml",
        &bare(
            &["alpha", "enzo"],
            "\n[[zone]]\nid = \"csp\"\npath = \"f.txt\"\nsignoffs = 1\n",
        ),
    );
    r.commit("init");
    r.git(&["branch", "side"]);
    // main restricts the zone to enzo (a tightening) after the fork.
    r.write(
        "guard.toml",
        &r.read("guard.toml")
            .replace("signoffs = 1\n", "signoffs = 1\napprovers = [\"enzo\"]\n"),
    );
    let base = r.commit("csp: only enzo");
    r.git(&["checkout", "-q", "side"]);
    edit(&r, "f.txt", 3);
    r.commit("side edit\n\nSigned-off-by: Alpha <alpha@x.example>");
    r.git(&["checkout", "-q", "main"]);
    r.merge_no_ff(
        "side",
        "merge side\n\nSigned-off-by: Alpha <alpha@x.example>",
    );
    let run = r.guard(&["check", "HEAD"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("needs enzo"), "{run:?}");
    assert_code(&r.guard(&["check", &format!("{base}..HEAD")]), 1);
}

#[test]
fn require_names_each_group_once() {
    let r = setup(&format!(
        "{}\n[[zone]]\nid = \"auth\"\npath = \"f.txt\"\nrequire = [{{ group = \"security\", signoffs = 1 }}, {{ group = \"security\", signoffs = 1 }}]\n",
        "\n[[group]]\nid = \"security\"\nmembers = [\"alpha\", \"beta\"]\n"
    ));
    let run = r.guard(&["zones", "--verify"]);
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains("`require` names group \"security\" twice"),
        "{run:?}"
    );
}

#[test]
fn the_override_never_passes_a_zone_on_the_manifest() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write(
        "guard.toml",
        &bare(
            &["alpha", "beta", "enzo"],
            "\n[policy]\noverride = { group = \"oncall\", signoffs = 2 }\n\n[[group]]\nid = \"oncall\"\nmembers = [\"alpha\", \"beta\"]\n\n[[zone]]\nid = \"csp\"\npath = \"f.txt\"\nsignoffs = 1\napprovers = [\"enzo\"]\n\n[[zone]]\nid = \"self\"\npath = \"guard.toml\"\nsignoffs = 1\napprovers = [\"enzo\"]\n",
        ),
    );
    r.commit("init");
    r.write(
        "guard.toml",
        &r.read("guard.toml")
            .replacen("approvers = [\"enzo\"]\n", "", 1),
    );
    let run = check_commit(
        &r,
        "drop enzo's rule\n\nGuard-Override: prod down\nSigned-off-by: alpha\nSigned-off-by: beta\n",
    );
    assert_code(&run, 1);
    assert!(run.stdout.contains("zone self"), "{run:?}");
    assert!(run.stdout.contains("needs enzo"), "{run:?}");
}
