//! Contract section 6: guard check on revisions and ranges; exit codes; formats.

use crate::common::*;

const ZONE: &str =
    "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\nreason = \"the zone\"\n";

fn history() -> (Repo, Vec<String>) {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    let root = r.commit("root");
    r.write("guard.toml", &manifest(ZONE));
    let add = r.commit("add manifest");
    r.write("f.txt", &lines(10).replace("line 1\n", "one\n"));
    r.commit_message(&signed("signed", &[ALPHA, GAMMA]));
    let signed_id = r.git(&["rev-parse", "HEAD"]);
    r.write("f.txt", &lines(10).replace("line 1\n", "uno\n"));
    let bypass = r.commit("bypass with --no-verify");
    r.write("other.txt", "x\n");
    let unrelated = r.commit("unrelated");
    (r, vec![root, add, signed_id, bypass, unrelated])
}

#[test]
fn a_range_checks_every_commit_oldest_first_and_catches_bypasses() {
    let (r, ids) = history();
    let run = r.guard(&["check", &format!("{}..HEAD", ids[0])]);
    assert_code(&run, 1);
    let pos = |s: &str| run.stdout.find(s).unwrap_or_else(|| panic!("{s}: {run:?}"));
    assert!(pos("add manifest") < pos("(signed)"));
    assert!(pos("(signed)") < pos("bypass with --no-verify"));
    assert!(run.stdout.contains("BLOCKED commit"), "{run:?}");
    assert!(
        run.stdout.contains("4 changes checked, 1 blocked"),
        "{run:?}"
    );
    assert_code(&r.guard(&["check", &format!("{}..{}", ids[0], ids[2])]), 0);
    assert_code(&r.guard(&["check", &ids[3]]), 1);
    assert_code(&r.guard(&["check", &ids[4]]), 0);
    // The whole history: the root commit has no manifest before it.
    assert_code(&r.guard(&["check", &ids[2]]), 0);
    assert_code(&r.guard(&["check", &ids[0]]), 0);
}

#[test]
fn tags_mean_their_commit_and_bad_revisions_are_errors() {
    let (r, ids) = history();
    r.git(&["tag", "-a", "-m", "tag", "v1", &ids[3]]);
    assert_code(&r.guard(&["check", "v1"]), 1);
    let bad = r.guard(&["check", "no-such-rev"]);
    assert_code(&bad, 2);
    assert!(bad.stderr.contains("no-such-rev"), "{bad:?}");
    assert_code(&r.guard(&["check", "no-such..HEAD"]), 2);
}

#[test]
fn not_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(guard_bin())
        .arg("check")
        .current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_shallow_boundary_is_an_error_with_the_fix() {
    let (r, ids) = history();
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    let dest = clone.path().join("c");
    r.git(&["clone", "-q", "--depth", "2", &url, dest.to_str().unwrap()]);
    let out = r
        .cmd(guard_bin())
        .current_dir(&dest)
        .args(["check", "HEAD~1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("shallow"), "{stderr}");
    assert!(stderr.contains("--unshallow"), "{stderr}");
    // A range reaching the boundary holds a blocked commit and an unevaluable one: 2.
    let out = r
        .cmd(guard_bin())
        .current_dir(&dest)
        .args(["check", &format!("{}..HEAD", ids[0])])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let _ = ids;
}

#[test]
fn json_report_is_one_parseable_object() {
    let (r, ids) = history();
    let run = r.guard(&["check", &format!("{}..HEAD", ids[1]), "--format", "json"]);
    assert_code(&run, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["verdict"], "blocked");
    assert_eq!(v["checked"], 3);
    let blocked = &v["changes"][1];
    assert_eq!(blocked["commit"], ids[3].as_str());
    assert_eq!(blocked["violations"][0]["code"], "insufficient-signoffs");
    assert_eq!(blocked["touched"][0]["hunks"][0]["old_text"][0], "one");
    assert_eq!(blocked["touched"][0]["hunks"][0]["new_text"][0], "uno");
}

#[test]
fn github_and_sarif_formats() {
    let (r, ids) = history();
    let run = r.guard(&["check", &ids[3], "--format", "github"]);
    assert_code(&run, 1);
    assert!(
        run.stdout
            .starts_with("::error file=f.txt,line=1,endLine=1,"),
        "{run:?}"
    );
    let run = r.guard(&["check", &ids[3], "--format", "sarif"]);
    assert_code(&run, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "z");
}

#[test]
fn base_option_checks_the_branch() {
    let (r, ids) = history();
    r.git(&["branch", "base", &ids[2]]);
    assert_code(&r.guard(&["check", "--base", "base"]), 1);
    r.git(&["branch", "-f", "base", &ids[3]]);
    assert_code(&r.guard(&["check", "--base", "base"]), 0);
}

#[test]
fn a_closed_pipe_keeps_the_verdict() {
    let (r, ids) = history();
    // guard's own exit code, read by bash after `head` closed the pipe: the
    // verdict (1), not a death by SIGPIPE (141).
    let out = r
        .cmd("bash")
        .args([
            "-c",
            &format!(
                "'{}' check {}..HEAD | head -c 1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
                guard_bin(),
                ids[0]
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n", "{out:?}");
    let status = r
        .cmd("bash")
        .args([
            "-c",
            &format!(
                "set -o pipefail; '{}' check {}..HEAD | head -c 1 >/dev/null",
                guard_bin(),
                ids[0]
            ),
        ])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn a_long_range_split_between_threads_keeps_order_and_verdicts() {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    r.write("guard.toml", &manifest(ZONE));
    let base = r.commit("base");
    // A fast-import stream: 260 commits, one of which edits the zone unsigned.
    let mut stream = String::new();
    for i in 1..=260 {
        let (path, body) = if i == 230 {
            (
                "f.txt".to_string(),
                lines(10).replace("line 2\n", "bypass\n"),
            )
        } else {
            (format!("other{}.txt", i % 7), format!("{i}\n"))
        };
        let msg = format!("commit {i}\n");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter C <c@x.example> {} +0000\ndata {}\n{msg}\n",
            1_700_000_000 + i,
            msg.len()
        ));
        if i == 1 {
            stream.push_str(&format!("from {base}\n"));
        }
        stream.push_str(&format!(
            "M 100644 inline {path}\ndata {}\n{body}\n",
            body.len()
        ));
    }
    r.fast_import(stream.as_bytes());
    let run = r.guard(&["check", &format!("{base}..main"), "--format", "json"]);
    assert_code(&run, 1);
    assert!(
        run.stderr.is_empty(),
        "no progress when stderr is not a terminal: {run:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 260);
    for (i, c) in changes.iter().enumerate() {
        assert_eq!(c["subject"], format!("commit {}", i + 1));
        let blocked = !c["violations"].as_array().unwrap().is_empty();
        assert_eq!(blocked, i + 1 == 230, "commit {}", i + 1);
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let (r, ids) = history();
    let plain = r.guard(&["check", &ids[3]]);
    assert!(
        !plain.stdout.contains('\u{1b}'),
        "piped output has no colour"
    );
    let forced = r.guard(&["check", &ids[3], "--color", "always"]);
    assert!(forced.stdout.contains("\u{1b}[1;31mBLOCKED"), "{forced:?}");
    assert_eq!(forced.code, plain.code);
}

/// The SARIF 2.1.0 schema's requirements for what guard writes (the official
/// schema is not shipped here: only its constraints on these objects).
#[test]
fn sarif_meets_the_2_1_0_schema_requirements() {
    let (r, ids) = history();
    let run = r.guard(&["check", &format!("{}..HEAD", ids[0]), "--format", "sarif"]);
    assert_code(&run, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert!(driver["name"].is_string());
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut unique = rules.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), rules.len(), "rule ids are unique");
    let results = runs[0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for res in results {
        assert!(res["message"]["text"].is_string());
        assert!(rules.contains(&res["ruleId"].as_str().unwrap()));
        assert!(["none", "note", "warning", "error"].contains(&res["level"].as_str().unwrap()));
        for loc in res["locations"].as_array().into_iter().flatten() {
            let phys = &loc["physicalLocation"];
            assert!(phys["artifactLocation"]["uri"].is_string());
            if let Some(region) = phys.get("region") {
                let start = region["startLine"].as_u64().unwrap();
                assert!(start >= 1);
                assert!(region["endLine"].as_u64().unwrap() >= start);
            }
        }
    }
}
