//! Contract section 6, `guard audit`: the trail of zone-touching commits.

use crate::common::*;

#[test]
fn audit_lists_zone_touching_commits_with_signoffs_and_trailers() {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    r.write("guard.toml", &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-3\"\n\n[[zone]]\nid = \"y\"\npath = \"g.txt\"\n"));
    r.commit("init");
    r.write("f.txt", &lines(10).replace("line 2\n", "two\n"));
    r.git(&["add", "-A"]);
    let m = format!(
        "signed\n\nWhy: needed\nSigned-off-by: {ALPHA}\nSigned-off-by: Mallory <m@evil.example>\nSigned-off-by: {BETA}\n"
    );
    r.git(&["commit", "-q", "--no-verify", "-m", &m]);
    r.write("other.txt", "x\n");
    r.commit("unrelated");
    r.write("g.txt", "new\n");
    r.commit("unsigned");
    let run = r.guard(&["audit"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("signed\n"), "{run:?}");
    assert!(!run.stdout.contains("unrelated"), "{run:?}");
    assert!(run.stdout.contains("counted as alpha"), "{run:?}");
    assert!(run.stdout.contains("not counted"), "{run:?}");
    assert!(run.stdout.contains("Why: needed"), "{run:?}");
    let json = r.guard(&["audit", "--zone", "z", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["commits"].as_array().unwrap().len(), 1);
    assert_eq!(v["commits"][0]["zones"][0]["zone"], "z");
    assert_eq!(v["commits"][0]["verdict"], "passed");
    assert_eq!(v["commits"][0]["date"], "2026-01-01 00:00:00 +0000");
}
