//! Issue 18's adversarial inputs: a branch under review can add zones and
//! invariants without sign-offs (adding them tightens), so none of them may
//! make guard's work unbounded. Each test asserts the work done (the counts
//! `GUARD_TRACE_WORK` prints) or the fail-closed exit, never a time.

use crate::common::*;

/// The counts of `guard: work: …` in a run's stderr.
fn work(run: &Run) -> std::collections::HashMap<String, u64> {
    let line = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("guard: work: "))
        .unwrap_or_else(|| panic!("no work line: {run:?}"));
    line.split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

fn traced(r: &Repo, args: &[&str]) -> Run {
    run_of(
        r.cmd(guard_bin())
            .args(args)
            .env("GUARD_TRACE_WORK", "1")
            .output()
            .unwrap(),
    )
}

/// 200,000 alternating lines (the worst case of a line diff), made binary
/// by a NUL on the first line when `nul`.
fn alternating(nul: bool) -> Vec<u8> {
    let mut data = if nul {
        b"\0\n".to_vec()
    } else {
        b"x\n".to_vec()
    };
    for _ in 0..100_000 {
        data.extend_from_slice(b"a\nb\n");
    }
    data
}

fn binary_repo(nul: bool) -> Repo {
    let r = Repo::new();
    r.write_bytes("big.bin", &alternating(nul));
    r.write(
        "guard.toml",
        "version = 1\n\n[[zone]]\nid = \"big\"\npath = \"big.bin\"\nlines = \"1-10\"\n",
    );
    r.commit("init");
    // A line inserted inside the zone.
    let mut data = alternating(nul);
    data.splice(4..4, b"Q\n".iter().copied());
    r.write_bytes("big.bin", &data);
    r.git(&["add", "big.bin"]);
    r
}

#[test]
fn a_binary_change_is_decided_without_a_diff() {
    let r = binary_repo(true);
    let staged = traced(&r, &["check"]);
    assert_code(&staged, 1);
    assert!(
        staged
            .stdout
            .contains("big.bin:1-10: binary content changed"),
        "{staged:?}"
    );
    assert_eq!(work(&staged)["diffed"], 0, "{staged:?}");
    let hook = traced(&r, &["hook", "pre-commit"]);
    assert_eq!(work(&hook)["diffed"], 0, "{hook:?}");
    r.git(&["commit", "-q", "--no-verify", "-m", "binary"]);
    for args in [
        &["check", "HEAD~1..HEAD"][..],
        &["audit", "--zone", "big"],
        &["audit"],
    ] {
        let run = traced(&r, args);
        assert_code(&run, 1);
        assert_eq!(work(&run)["diffed"], 0, "{args:?}: {run:?}");
    }
}

/// The control: the same change as text is diffed, so the counter counts.
#[test]
fn the_same_change_as_text_is_diffed() {
    let r = binary_repo(false);
    let staged = traced(&r, &["check"]);
    assert_code(&staged, 1);
    assert!(staged.stdout.contains("lines changed"), "{staged:?}");
    assert!(work(&staged)["diffed"] >= 2 * 400_000, "{staged:?}");
}

/// 120 KB of words: small enough for a test, large enough that a pattern of
/// 63,653 states (`[\w\s]{1,200}\d{7}`) exceeds the budget of 2^32 steps.
fn invariant_repo(pattern: &str) -> Repo {
    let r = Repo::new();
    let words: String = (0..20_000).map(|i| format!("word{} ", i % 7)).collect();
    r.write("big.txt", &words);
    r.write(
        "guard.toml",
        &format!("version = 1\n\n[[invariant]]\npath = \"big.txt\"\nmust_not_contain = '{pattern}'\nreason = \"no ids\"\n"),
    );
    r.commit("init");
    r.write("big.txt", &format!("{words}\nmore words\n"));
    r.git(&["add", "big.txt"]);
    r
}

#[test]
fn an_invariant_over_the_regex_budget_cannot_be_evaluated() {
    let r = invariant_repo(r"[\w\s]{1,200}\d{7}");
    let expect = "invariant on big.txt (must_not_contain '[\\w\\s]{1,200}\\d{7}') \
                  cannot be checked on big.txt: the file is 120012 bytes and the pattern compiles \
                  to 63653 states";
    let staged = traced(&r, &["check"]);
    assert_code(&staged, 2);
    assert!(
        staged.stderr.contains(&format!("guard: error: {expect}")),
        "{staged:?}"
    );
    assert_eq!(work(&staged)["regex"], 0, "no search ran: {staged:?}");
    let hook = r.guard(&["hook", "pre-commit"]);
    assert_code(&hook, 2);
    r.git(&["commit", "-q", "--no-verify", "-m", "more"]);
    let range = r.guard(&["check", "HEAD~1..HEAD"]);
    assert_code(&range, 2);
    assert!(
        range
            .stdout
            .contains(&format!("could not evaluate: {expect}")),
        "{range:?}"
    );
}

/// The control: a small pattern searches the same file, and its match blocks.
#[test]
fn an_invariant_within_the_budget_is_searched() {
    let r = invariant_repo(r"more\s+words");
    let staged = traced(&r, &["check"]);
    assert_code(&staged, 1);
    assert!(
        staged
            .stdout
            .contains("line 2 matches forbidden pattern /more\\s+words/"),
        "{staged:?}"
    );
    assert_eq!(work(&staged)["regex"], 120_012, "{staged:?}");
}

/// A glob zone over a directory of `n` files, and one file added to it.
fn wide_repo(n: usize) -> Repo {
    let r = Repo::new();
    // Written as git objects, not files: one blob, one tree of n entries.
    let blob = r.git(&["hash-object", "-w", "--stdin"]);
    let listing: String = (0..n)
        .map(|i| format!("100644 blob {blob}\tf{i:06}\n"))
        .collect();
    let mut mktree = r.cmd("git");
    mktree
        .args(["mktree"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = mktree.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(listing.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let dir = String::from_utf8(out.stdout).unwrap().trim().to_string();
    r.write(
        "guard.toml",
        "version = 1\n\n[[zone]]\nid = \"d\"\npath = \"d/**\"\n",
    );
    r.git(&["add", "guard.toml"]);
    r.git(&["read-tree", "--prefix=d/", &dir]);
    r.git(&["commit", "-q", "--no-verify", "-m", "init"]);
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{blob},d/new"),
    ]);
    r
}

/// The staged check under a glob zone reads each entry of the directory
/// once on each side: work linear in the directory's width.
#[test]
fn a_wide_glob_directory_is_read_once() {
    for n in [2_000, 20_000] {
        let r = wide_repo(n);
        let run = traced(&r, &["check"]);
        assert_code(&run, 1);
        assert!(run.stdout.contains("d/new: file added"), "{run:?}");
        // Under d/: n entries of the tree, n + 1 of the index; and the
        // index's guard.toml (the manifest's own path is a root too).
        assert_eq!(work(&run)["tree-entries"], 2 * n as u64 + 2, "{run:?}");
    }
}

/// `n` zones of two lines each in one file of `3n` lines, and a staged
/// change to one of them: the file grows with the manifest, so work per zone
/// that reads the file (or searches the manifest) shows as n².
fn many_zones_repo(n: usize) -> Repo {
    let r = Repo::new();
    r.write("big.txt", &lines(3 * n));
    let mut m = String::from("version = 1\n");
    for i in 0..n {
        let at = 3 * i + 1;
        m.push_str(&format!(
            "\n[[zone]]\nid = \"z{i}\"\npath = \"big.txt\"\nlines = \"{at}-{}\"\nreason = \"zone {i}\"\n",
            at + 1
        ));
    }
    r.write("guard.toml", &m);
    r.commit("init");
    edit(&r, "big.txt", 3 * (n / 2) + 1);
    r.git(&["add", "big.txt"]);
    r
}

/// The least of three runs' wall time (the ratio of two such minima is what
/// is compared: no time is a threshold by itself).
fn least_time(r: &Repo, args: &[&str], code: i32) -> std::time::Duration {
    (0..3)
        .map(|_| {
            let start = std::time::Instant::now();
            let run = r.guard(args);
            let took = start.elapsed();
            assert_code(&run, code);
            took
        })
        .min()
        .unwrap()
}

/// Ten times the zones (and the file they are on) costs about ten times the
/// work, not a hundred: manifest validation, spans and lookups are linear.
#[test]
fn ten_times_the_zones_is_about_ten_times_the_work() {
    let (small, large) = (many_zones_repo(1_000), many_zones_repo(10_000));
    for (args, code) in [
        (&["zones", "--verify"][..], 0),
        (&["check"], 1),
        (&["hook", "pre-commit"], 0),
    ] {
        let (a, b) = (
            least_time(&small, args, code),
            least_time(&large, args, code),
        );
        let ratio = b.as_secs_f64() / a.as_secs_f64();
        // Linear is 10 (less, with process start in both); quadratic, 100.
        assert!(
            ratio < 30.0,
            "{args:?}: 1,000 zones {a:?}, 10,000 zones {b:?}: {ratio:.1}x"
        );
        eprintln!("{args:?}: {a:?} -> {b:?}: {ratio:.1}x");
    }
}

/// A staged file's bytes may be read from the work tree, but only a file of
/// the staged blob's size: one that grew to 1 GiB after `git add` (sparse
/// here) is never read (red team).
#[test]
fn a_work_tree_file_of_another_size_is_never_read() {
    let r = zoned_repo();
    edit(&r, "f.txt", 7);
    r.git(&["add", "f.txt"]);
    let size = r.read("f.txt").len() as u64;
    // The manifest in force is read from the work tree too (its bytes are HEAD's).
    let manifest = r.read("guard.toml").len() as u64;
    let clean = traced(&r, &["check"]);
    assert_code(&clean, 1);
    assert_eq!(work(&clean)["worktree"], size + manifest, "{clean:?}");
    std::fs::OpenOptions::new()
        .write(true)
        .open(r.file("f.txt"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let grown = traced(&r, &["check"]);
    assert_code(&grown, 1);
    assert!(grown.stdout.contains("+ edited 7"), "{grown:?}");
    assert_eq!(work(&grown)["worktree"], manifest, "{grown:?}");
}

/// The manifest in force is read from the work tree only when its bytes are
/// HEAD's: an unstaged edit of the same size that moves the zone elsewhere
/// is not read as the manifest in force.
#[test]
fn a_work_tree_manifest_other_than_heads_is_never_the_one_in_force() {
    let r = zoned_repo();
    edit(&r, "f.txt", 7);
    r.git(&["add", "f.txt"]);
    let moved = r.read("guard.toml").replace("\"f.txt\"", "\"g.txt\"");
    assert_eq!(moved.len(), r.read("guard.toml").len());
    r.write("guard.toml", &moved);
    let run = traced(&r, &["check"]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains("zone z\n    f.txt:5-10: lines changed"),
        "{run:?}"
    );
    // Read (it has HEAD's size), and refused by its hash.
    let read = r.read("f.txt").len() + moved.len();
    assert_eq!(work(&run)["worktree"], read as u64, "{run:?}");
}

/// `n` invariants, and a staged edit of one of them: the manifest's change
/// is compared invariant by invariant (a branch may add thousands, and a
/// search of every one for every other was n²: 58.7 s for 20,000).
fn many_invariants_repo(n: usize) -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    let text = |changed: bool| {
        let mut m = String::from("version = 1\n");
        for i in 0..n {
            let tail = if changed && i == n / 2 { "!" } else { "" };
            m.push_str(&format!(
                "\n[[invariant]]\npath = \"f.txt\"\nmust_not_contain = \"forbidden {i}{tail}\"\n"
            ));
        }
        m
    };
    r.write("guard.toml", &text(false));
    r.commit("init");
    r.write("guard.toml", &text(true));
    r.git(&["add", "guard.toml"]);
    r
}

#[test]
fn ten_times_the_invariants_is_about_ten_times_the_work() {
    let (small, large) = (many_invariants_repo(1_000), many_invariants_repo(10_000));
    let (a, b) = (
        least_time(&small, &["check"], 1),
        least_time(&large, &["check"], 1),
    );
    let ratio = b.as_secs_f64() / a.as_secs_f64();
    assert!(
        ratio < 30.0,
        "1,000 invariants {a:?}, 10,000 {b:?}: {ratio:.1}x"
    );
    let run = large.guard(&["check"]);
    assert!(
        run.stdout.contains("invariant on f.txt removed or edited"),
        "{run:?}"
    );
}

/// Check every commit of `tip` after its root (`changes` of them): a pass,
/// with a peak resident memory (`GUARD_TRACE_WORK`'s `peak-kib`) under the
/// 100 MiB budget the README states.
fn assert_range_under_budget(r: &Repo, tip: &str, changes: usize) {
    let first = r.git(&["rev-list", "--max-parents=0", tip]);
    let run = traced(r, &["check", &format!("{first}..{tip}")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(&format!("{changes} changes checked")),
        "{run:?}"
    );
    let peak = work(&run)["peak-kib"];
    assert!(peak > 0, "no peak memory reported: {run:?}");
    assert!(peak < 100 << 10, "peak {peak} KiB: {run:?}");
}

/// A commit on branch `long` in a `git fast-import` stream.
fn long_commit(stream: &mut Vec<u8>, message: &str) {
    stream.extend_from_slice(
        format!(
            "commit refs/heads/long\ncommitter A <a@example.com> 1767225600 +0000\ndata {}\n{message}\n",
            message.len()
        )
        .as_bytes(),
    );
}

/// A file of the commit being written in a `git fast-import` stream.
fn inline_file(stream: &mut Vec<u8>, path: &str, data: &str) {
    stream.extend_from_slice(format!("M 100644 inline {path}\ndata {}\n", data.len()).as_bytes());
    stream.extend_from_slice(data.as_bytes());
    stream.extend_from_slice(b"\n");
}

/// An object id's 20 bytes, as a raw tree entry holds them.
fn raw_id(hex: &str) -> Vec<u8> {
    (0..20)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// `data` written as a blob, by its raw id.
fn raw_blob(r: &Repo, data: &str) -> Vec<u8> {
    raw_id(&r.git_input(&["hash-object", "-w", "--stdin"], data.as_bytes()))
}

/// A commit of the raw tree `tree` (written whole: `git fast-import` and
/// `git mktree` take minutes over a very wide directory) on `parent`.
fn commit_raw_tree(r: &Repo, tree: &[u8], parent: Option<&str>) -> String {
    let tree = r.git_input(&["hash-object", "-w", "-t", "tree", "--stdin"], tree);
    let mut args = vec!["commit-tree", tree.as_str(), "-m", "c"];
    if let Some(p) = parent {
        args.extend_from_slice(&["-p", p]);
    }
    r.git(&args)
}

/// What guard reads is kept in caches bounded by design: a range whose 40
/// commits each change a 4 MB zoned file reads 320 MB of blobs, and guard's
/// caches (and libgit2's, which guard sizes) keep a bounded part of them.
#[test]
fn a_range_over_large_files_stays_under_its_memory_budget() {
    let r = Repo::new();
    let line =
        |i: usize, version: usize| format!("line {i:06} of a large file, version {version:03}\n");
    let mut stream = Vec::new();
    let manifest = "version = 1\n\n[[zone]]\nid = \"big\"\npath = \"big.txt\"\nlines = \"1-10\"\n";
    let mut lines: Vec<String> = (0..100_000).map(|i| line(i, 0)).collect();
    for version in 0..=40 {
        if version > 0 {
            // Each commit changes one line far below the zone, and differs
            // from every other version of the file.
            let at = 50_000 + version * 7;
            lines[at] = line(at, version);
        }
        let data: String = lines.concat();
        long_commit(&mut stream, &format!("c{version:02}"));
        if version == 0 {
            inline_file(&mut stream, "guard.toml", manifest);
        }
        inline_file(&mut stream, "big.txt", &data);
    }
    r.fast_import(&stream);
    assert_range_under_budget(&r, "long", 40);
}

/// A history that keeps a manifest of 3,000 zones in force over 1,000
/// commits: what each judged commit is remembered by (for a later merge that
/// brings it) must not be a copy of the manifest's zones, or memory grows
/// with zones × commits (about 215 KB a commit here: 210 MiB in all).
#[test]
fn a_range_under_a_large_manifest_does_not_copy_it_per_commit() {
    let r = Repo::new();
    let mut manifest = String::from("version = 1\n");
    for i in 0..3_000 {
        let at = 2 * i + 1;
        manifest.push_str(&format!(
            "\n[[zone]]\nid = \"zone-number-{i:05}\"\npath = \"big.txt\"\nlines = \"{at}-{at}\"\n"
        ));
    }
    let big = lines(6_000);
    let mut stream = Vec::new();
    for n in 0..=1_000 {
        stream.extend_from_slice(
            format!(
                "commit refs/heads/long\ncommitter A <a@example.com> 1767225600 +0000\ndata 5\nc{n:04}\n",
            )
            .as_bytes(),
        );
        if n == 0 {
            for (path, data) in [("guard.toml", &manifest), ("big.txt", &big)] {
                stream.extend_from_slice(
                    format!("M 100644 inline {path}\ndata {}\n{data}\n", data.len()).as_bytes(),
                );
            }
        }
        let other = format!("{n}\n");
        stream.extend_from_slice(
            format!("M 100644 inline other.txt\ndata {}\n{other}\n", other.len()).as_bytes(),
        );
    }
    r.fast_import(&stream);
    assert_range_under_budget(&r, "long", 1000);
}

/// A root directory of 250,000 entries (a 9.8 MB tree object) changed by
/// each of 9 commits: each commit's root tree is checked against the last
/// one, and the trees kept to check against stay within the tree budget
/// (8 such trees kept whatever their weight took 114 MiB here, 179 MB with
/// 270,000 entries). The trees are written whole (`git fast-import` and
/// `git mktree` take minutes over such a directory).
#[test]
fn a_range_over_a_very_wide_tree_stays_under_its_memory_budget() {
    let r = Repo::new();
    let manifest = "version = 1\n\n[[zone]]\nid = \"z\"\npath = \"zoned.txt\"\nlines = \"1-1\"\n";
    let blob = |data: &str| raw_blob(&r, data);
    let (x, guard_toml, zoned) = (blob("x\n"), blob(manifest), blob("z\n"));
    let mut parent: Option<String> = None;
    for n in 0..=9 {
        let changed = blob(&format!("{n}\n"));
        let mut tree = Vec::with_capacity(10 << 20);
        for i in 0..250_000 {
            tree.extend_from_slice(format!("100644 file-{i:06}\0").as_bytes());
            tree.extend_from_slice(if i == n * 1_000 { &changed } else { &x });
        }
        for (name, id) in [("guard.toml", &guard_toml), ("zoned.txt", &zoned)] {
            tree.extend_from_slice(format!("100644 {name}\0").as_bytes());
            tree.extend_from_slice(id);
        }
        parent = Some(commit_raw_tree(&r, &tree, parent.as_deref()));
    }
    let head = parent.unwrap();
    assert_range_under_budget(&r, &head, 9);
}

/// A side branch of 80 signed commits, each editing all 20 zones of f.txt
/// and changing a comment of the manifest (80 manifests, more than the
/// parsed-manifest cache holds), merged into main: each brought commit's
/// manifest is read once for all the zones, not once per zone (1,600
/// parses, 14 times slower, when it was).
#[test]
fn a_merge_reads_each_brought_manifest_once_for_all_zones() {
    let r = Repo::new();
    let (zones, commits) = (20, 80);
    let manifest = |tag: &str| {
        let mut m = format!(
            "# rev {tag}\nversion = 1\n\n[[instance]]\nid = \"alpha\"\nemails = [\"alpha@jarvis.example\"]\n\n\
             [[instance]]\nid = \"beta\"\nemails = [\"beta@jarvis.example\"]\n"
        );
        for i in 0..zones {
            m.push_str(&format!(
                "\n[[zone]]\nid = \"z{i}\"\npath = \"f.txt\"\nlines = \"{at}-{at}\"\n",
                at = 2 * i + 2
            ));
        }
        m
    };
    let file = |tag: &str| -> String {
        (1..=2 * zones + 2)
            .map(|k| format!("line {k} {}\n", if k % 2 == 0 { tag } else { "" }))
            .collect()
    };
    let mut stream = String::new();
    let mut time = 1_700_000_000;
    let mut commit = |stream: &mut String,
                      head: &str,
                      mark: usize,
                      msg: &str,
                      from: &[usize],
                      files: &[(&str, String)]| {
        time += 1;
        stream.push_str(&format!(
            "commit refs/heads/{head}\nmark :{mark}\ncommitter C <c@x.example> {time} +0000\ndata {}\n{msg}\n",
            msg.len()
        ));
        for (k, f) in from.iter().enumerate() {
            stream.push_str(&format!("{} :{f}\n", if k == 0 { "from" } else { "merge" }));
        }
        for (path, data) in files {
            stream.push_str(&format!(
                "M 100644 inline {path}\ndata {}\n{data}\n",
                data.len()
            ));
        }
    };
    commit(
        &mut stream,
        "main",
        1,
        "init",
        &[],
        &[("f.txt", file("base")), ("guard.toml", manifest("base"))],
    );
    commit(
        &mut stream,
        "main",
        2,
        "main work",
        &[1],
        &[("g.txt", "hello\n".into())],
    );
    let signed = signed("side", &[ALPHA, BETA]);
    for i in 0..commits {
        let tag = format!("s{i}");
        let from = if i == 0 { 1 } else { 9 + i };
        commit(
            &mut stream,
            "side",
            10 + i,
            &signed,
            &[from],
            &[("f.txt", file(&tag)), ("guard.toml", manifest(&tag))],
        );
    }
    let last = format!("s{}", commits - 1);
    commit(
        &mut stream,
        "main",
        5,
        "merge",
        &[2, 9 + commits],
        &[("f.txt", file(&last)), ("guard.toml", manifest(&last))],
    );
    r.fast_import(stream.as_bytes());
    let run = traced(&r, &["check", "main"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("(merge): touches no zone"), "{run:?}");
    // Once to judge each commit, once more for the merge (the cache of
    // parsed manifests holds 64).
    let parsed = work(&run)["manifests"];
    assert!(
        parsed <= 3 * commits as u64,
        "{parsed} manifests parsed: {run:?}"
    );
}

/// A range of `n` main-line commits, every tenth a merge of a three-commit
/// topic forked from the main line; the zone's file is changed on topics.
fn merged_topics_repo(n: usize) -> Repo {
    let r = Repo::new();
    let manifest = "version = 1\n\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-3\"\n";
    let mut s = String::new();
    let mut mark = 0;
    let mut commit = |s: &mut String,
                      branch: &str,
                      from: Option<usize>,
                      merge: Option<usize>,
                      files: &[(&str, String)]| {
        mark += 1;
        s.push_str(&format!(
            "commit refs/heads/{branch}\nmark :{mark}\ncommitter A <a@example.com> {} +0000\ndata 4\nc{:03}\n",
            1_767_225_600 + mark,
            mark % 1000
        ));
        if let Some(f) = from {
            s.push_str(&format!("from :{f}\n"));
        }
        if let Some(m) = merge {
            s.push_str(&format!("merge :{m}\n"));
        }
        for (path, data) in files {
            s.push_str(&format!(
                "M 100644 inline {path}\ndata {}\n{data}\n",
                data.len()
            ));
        }
        mark
    };
    let mut main = commit(
        &mut s,
        "main",
        None,
        None,
        &[("guard.toml", manifest.to_string()), ("f.txt", lines(20))],
    );
    for i in 0..n {
        if i % 10 == 9 {
            let mut topic = main;
            for t in 0..3 {
                let text = format!("{}topic {i} {t}\n", lines(20));
                topic = commit(&mut s, "topic", Some(topic), None, &[("f.txt", text)]);
            }
            main = commit(&mut s, "main", Some(main), Some(topic), &[]);
        } else {
            main = commit(
                &mut s,
                "main",
                Some(main),
                None,
                &[("other.txt", format!("{i}\n"))],
            );
        }
    }
    r.fast_import(s.as_bytes());
    r
}

/// A range reads each of its commits once (for the parents that tell what
/// a merge brings, then for the judgment that takes it), not twice: with
/// one thread or two.
#[test]
fn a_range_reads_each_commit_once() {
    let r = merged_topics_repo(300);
    let first = r.git(&["rev-list", "--max-parents=0", "main"]);
    let count: u64 = r
        .git(&["rev-list", "--count", &format!("{first}..main")])
        .parse()
        .unwrap();
    assert_eq!(count, 300 + 30 * 3);
    for threads in ["1", "2"] {
        let run = run_of(
            r.cmd(guard_bin())
                .args(["check", &format!("{first}..main")])
                .env("GUARD_TRACE_WORK", "1")
                .env("GUARD_THREADS", threads)
                .output()
                .unwrap(),
        );
        assert!(run.code == 0 || run.code == 1, "{run:?}");
        assert!(
            run.stdout.contains(&format!("{count} changes checked")),
            "{run:?}"
        );
        let read = work(&run)["commits"];
        assert!(
            read >= count && read < count + count / 10,
            "{read} commit reads for {count} commits ({threads} threads): {run:?}"
        );
    }
}

/// A glob zone over a directory whose tree is wider than the tree cache's
/// budget (100,000 entries, 5.3 MB), changed by each of three commits: its
/// listings are read as checked, whether or not the cache keeps the tree
/// (once, from about 4 MB, a range failed with "tree … was not kept").
#[test]
fn a_glob_zone_over_a_directory_wider_than_the_tree_budget_is_judged() {
    let r = Repo::new();
    let manifest = "version = 1\n\n[[zone]]\nid = \"d\"\npath = \"d/**\"\n";
    let blob = |data: &str| raw_blob(&r, data);
    let (x, guard_toml) = (blob("x\n"), blob(manifest));
    let mut parent: Option<String> = None;
    for n in 0..=3 {
        let changed = blob(&format!("{n}\n"));
        let mut dir = Vec::with_capacity(6 << 20);
        for i in 0..100_000 {
            dir.extend_from_slice(format!("100644 file-{i:020}\0").as_bytes());
            dir.extend_from_slice(if n > 0 && i == n * 1_000 {
                &changed
            } else {
                &x
            });
        }
        let dir = raw_id(&r.git_input(&["hash-object", "-w", "-t", "tree", "--stdin"], &dir));
        let mut root = b"40000 d\0".to_vec();
        root.extend_from_slice(&dir);
        root.extend_from_slice(b"100644 guard.toml\0");
        root.extend_from_slice(&guard_toml);
        parent = Some(commit_raw_tree(&r, &root, parent.as_deref()));
    }
    let head = parent.unwrap();
    let run = r.guard(&["check", &format!("{head}~3..{head}")]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("3 changes checked"), "{run:?}");
    assert_eq!(run.stdout.matches("BLOCKED").count(), 3, "{run:?}");
    assert!(!run.stdout.contains("ERROR"), "{run:?}");
}

/// A range whose commits carry huge messages (24 of 6 MB, which compress
/// to almost nothing): the commits read ahead for the judgments are kept
/// within a budget, so memory does not grow with the messages of the whole
/// range (all of them were kept once: 144 MB).
#[test]
fn a_range_of_huge_messages_stays_under_its_memory_budget() {
    let r = Repo::new();
    let manifest = "version = 1\n\n[[zone]]\nid = \"z\"\npath = \"zoned.txt\"\n";
    let mut stream = Vec::new();
    let message = "a message line that repeats\n".repeat(6_000_000 / 28);
    for n in 0..=24 {
        long_commit(&mut stream, &message);
        if n == 0 {
            inline_file(&mut stream, "guard.toml", manifest);
        }
        inline_file(&mut stream, "other.txt", &format!("{n}\n"));
    }
    r.fast_import(&stream);
    assert_range_under_budget(&r, "long", 24);
}

/// A range of 220 versions of a 450 KB file, stored as deltas in one pack
/// (100 MB of blobs read in all): guard's own pack reader keeps its cache
/// within its budget (8 MiB of blobs, 4 MiB of trees, for both threads),
/// so the peak stays far below what the versions weigh.
#[test]
fn a_range_over_packed_versions_stays_within_the_packs_budget() {
    let r = Repo::new();
    let manifest = "version = 1\n\n[[zone]]\nid = \"z\"\npath = \"big.txt\"\nlines = \"1-3\"\n";
    let mut lines: Vec<String> = (0..9000)
        .map(|i| format!("line {i:>6} of a long file, padded to fifty bytes\n"))
        .collect();
    let mut stream = Vec::new();
    for n in 0..=220 {
        long_commit(&mut stream, &format!("version {n}"));
        if n == 0 {
            inline_file(&mut stream, "guard.toml", manifest);
        } else {
            let at = 100 + (n * 37) % 8800;
            lines[at] = format!("version {n:>6} changed this line of the file...\n");
        }
        inline_file(&mut stream, "big.txt", &lines.concat());
    }
    r.fast_import(&stream);
    let first = r.git(&["rev-list", "--max-parents=0", "long"]);
    let run = traced(&r, &["check", &format!("{first}..long")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("220 changes checked"), "{run:?}");
    let work = work(&run);
    assert!(work["packed"] >= 220, "the pack reader read: {work:?}");
    let peak = work["peak-kib"];
    assert!(peak > 0 && peak < 64 << 10, "peak {peak} KiB: {work:?}");
}
