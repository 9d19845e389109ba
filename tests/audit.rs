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

/// A deterministic pseudo-random history of edits to one file that never
/// deletes a zone line: modifications, insertions above, inside and below.
fn generated_history(r: &Repo) -> (String, Vec<String>) {
    r.write("f.txt", &lines(200));
    let base = r.commit("base");
    let mut text: Vec<String> = lines(200).lines().map(String::from).collect();
    let (mut zone_start, mut zone_end) = (80usize, 120usize); // 1-based, inclusive
    let mut seed = 7u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    let mut ids = Vec::new();
    for i in 0..60 {
        match next(4) {
            0 => {
                // modify a line anywhere
                let at = next(text.len());
                text[at] = format!("modified {i}");
            }
            1 => {
                // insert above the zone
                let at = next(zone_start);
                text.insert(at, format!("above {i}"));
                zone_start += 1;
                zone_end += 1;
            }
            2 => {
                // insert strictly inside the zone
                let at = zone_start + next(zone_end - zone_start);
                text.insert(at, format!("inside {i}"));
                zone_end += 1;
            }
            _ => {
                // insert below the zone
                let at = zone_end + next(text.len() - zone_end + 1);
                text.insert(at, format!("below {i}"));
            }
        }
        r.write("f.txt", &(text.join("\n") + "\n"));
        ids.push(r.commit(&format!("edit {i}")));
    }
    (base, ids)
}

#[test]
fn what_if_audit_agrees_with_git_log_dash_l() {
    let r = Repo::new();
    let (base, _) = generated_history(&r);
    let what_if = r.file("what-if.toml");
    std::fs::write(
        &what_if,
        manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"80-120\"\n"),
    )
    .unwrap();
    let run = r.guard(&[
        "audit",
        &format!("{base}..HEAD"),
        "--manifest",
        what_if.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let (ours, theirs) = audited_and_dash_l(&r, &v, &base);
    assert!(!ours.is_empty());
    assert_eq!(ours, theirs);
}

/// The commits a what-if audit's JSON report lists, and those git's own
/// line-range history lists (`git log --first-parent -L` from the zone's
/// range at the end, backwards), oldest first.
fn audited_and_dash_l(r: &Repo, v: &serde_json::Value, base: &str) -> (Vec<String>, Vec<String>) {
    let ours: Vec<String> = v["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"].as_str().unwrap().to_string())
        .collect();
    let end = v["zones_at_end"][0]["lines"]
        .as_str()
        .unwrap()
        .replace('-', ",");
    let git = r.git(&[
        "log",
        "--first-parent",
        "-L",
        &format!("{end}:f.txt"),
        "--format=%H",
        "-s",
        &format!("{base}..HEAD"),
    ]);
    let mut theirs: Vec<String> = git
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    theirs.reverse();
    (ours, theirs)
}

#[test]
fn what_if_audit_needs_a_range_and_a_valid_manifest() {
    let r = Repo::new();
    r.write("f.txt", &lines(5));
    r.commit("init");
    let f = r.file("w.toml");
    std::fs::write(
        &f,
        "version = 1\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-9\"\n",
    )
    .unwrap();
    assert_code(&r.guard(&["audit", "--manifest", f.to_str().unwrap()]), 2);
    assert_code(
        &r.guard(&["audit", "HEAD..HEAD", "--manifest", f.to_str().unwrap()]),
        2,
    );
}

/// A merge that brings a zone change to the mainline is listed by the what-if
/// audit (it judges each first-parent commit on what it brought), as `git log
/// --first-parent -L` lists it; without `--first-parent`, git lists the side
/// commit instead.
#[test]
fn what_if_audit_lists_merges_that_bring_zone_changes_as_git_log_first_parent_dash_l_does() {
    let r = Repo::new();
    r.write("f.txt", &lines(50));
    let base = r.commit("base");
    r.git(&["checkout", "-q", "-b", "topic"]);
    r.write("f.txt", &lines(50).replace("line 20\n", "twenty\n"));
    let side = r.commit("edit inside the zone, on a topic");
    r.git(&["checkout", "-q", "main"]);
    r.write("g.txt", "elsewhere\n");
    r.commit("unrelated mainline work");
    r.merge_no_ff("topic", "merge topic");
    let merge = r.git(&["rev-parse", "HEAD"]);
    r.write(
        "f.txt",
        &lines(50)
            .replace("line 20\n", "twenty\n")
            .replace("line 25\n", "x\n"),
    );
    let direct = r.commit("edit inside the zone, on the mainline");
    let what_if = r.file("what-if.toml");
    std::fs::write(
        &what_if,
        manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"10-30\"\n"),
    )
    .unwrap();
    let run = r.guard(&[
        "audit",
        &format!("{base}..HEAD"),
        "--manifest",
        what_if.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_code(&run, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let ours: Vec<&str> = v["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"].as_str().unwrap())
        .collect();
    assert_eq!(ours, [merge.as_str(), direct.as_str()], "{run:?}");
    let range = format!("{base}..HEAD");
    let git = |first_parent: bool| -> Vec<String> {
        let mut args = vec!["log", "-L", "10,30:f.txt", "--format=%H", "-s", &range];
        if first_parent {
            args.insert(1, "--first-parent");
        }
        let mut out: Vec<String> = r.git(&args).lines().map(String::from).collect();
        out.retain(|l| !l.is_empty());
        out.reverse();
        out
    };
    assert_eq!(git(true), [merge.clone(), direct.clone()]);
    assert_eq!(git(false), [side, direct]);
}

/// A history of `n` commits (made with fast-import) to one file whose every
/// tenth line is "}", the zone at lines 80-120: most commits insert a "}"
/// after a "}" below the zone (the line bordering such a change repeats in
/// it, so only the lines no hunk can reach answer the zone without a diff),
/// some insert a copy of the zone's last line below it, and every tenth
/// edits the zone or above it. Returns the base commit and how many commits
/// edit the zone or above it.
fn braces_history(r: &Repo, n: usize) -> (String, usize) {
    let mut text: Vec<String> = (1..=200)
        .map(|i| {
            if i % 10 == 0 {
                "}".to_string()
            } else {
                format!("line {i}")
            }
        })
        .collect();
    r.write("f.txt", &(text.join("\n") + "\n"));
    let base = r.commit("base");
    let (mut zone_start, mut zone_end) = (80usize, 120usize);
    let mut stream = Vec::new();
    let mut edits_above_or_in = 0;
    for i in 0..n {
        if i % 10 == 9 {
            // Into the zone, or above it.
            if i % 20 == 9 {
                text.insert(zone_start + 1, format!("inside {i}"));
                zone_end += 1;
            } else {
                text.insert(3, format!("above {i}"));
                zone_start += 1;
                zone_end += 1;
            }
            edits_above_or_in += 1;
        } else if i % 10 == 4 {
            // A copy of the zone's last line, well below it.
            let copy = text[zone_end - 1].clone();
            text.insert(zone_end + 15, copy);
        } else {
            // A "}" after a "}" below the zone.
            let at = (zone_end + 5..text.len())
                .find(|&k| text[k] == "}")
                .expect("a brace below the zone");
            text.insert(at + 1, "}".to_string());
        }
        let data = text.join("\n") + "\n";
        let from = if i == 0 {
            format!("from {base}\n")
        } else {
            String::new()
        };
        stream.extend_from_slice(
            format!(
                "commit refs/heads/main\ncommitter A <a@example.com> 1700000000 +0000\ndata 6\nedit \n{from}M 100644 inline f.txt\ndata {}\n{data}\n",
                data.len()
            )
            .as_bytes(),
        );
    }
    r.fast_import(&stream);
    r.git(&["reset", "-q", "--hard", "main"]);
    (base, edits_above_or_in)
}

/// Long enough for the second thread (200 commits or more): one thread or
/// two, the what-if audit lists what `git log -L` lists, and the commits
/// that change lines only below the zone are answered without a diff.
#[test]
fn a_long_what_if_audit_agrees_with_git_log_dash_l_and_diffs_only_what_it_must() {
    let r = Repo::new();
    let (base, edits) = braces_history(&r, 260);
    let what_if = r.file("what-if.toml");
    std::fs::write(
        &what_if,
        manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"80-120\"\n"),
    )
    .unwrap();
    let audit = |threads: &str| {
        let out = r
            .cmd(guard_bin())
            .args(["audit", &format!("{base}..HEAD"), "--manifest"])
            .arg(&what_if)
            .args(["--format", "json"])
            .env("GUARD_THREADS", threads)
            .env("GUARD_TRACE_WORK", "1")
            .output()
            .unwrap();
        let run = run_of(out);
        assert!(run.code == 0 || run.code == 1, "{run:?}");
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let diffed: u64 = run
            .stderr
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("diffed="))
            .expect("the work line")
            .parse()
            .unwrap();
        (v, diffed)
    };
    let (one, diffed) = audit("1");
    let (two, _) = audit("2");
    assert_eq!(one, two);
    let (ours, theirs) = audited_and_dash_l(&r, &one, &base);
    assert_eq!(ours.len(), edits / 2);
    assert_eq!(ours, theirs);
    // Only the commits that edit the zone or above it are diffed (each
    // file version is under 3,000 bytes, two per diff).
    assert!(diffed <= edits as u64 * 2 * 3_000, "diffed {diffed} bytes");
}
