//! git's commit-graph: guard reads what git wrote (git is the oracle), and a
//! what-if audit says the same with a graph, with a split chain, and without.

use std::collections::BTreeSet;

use guard::git::graph::{BloomKey, CommitGraph};

use crate::common::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A small deterministic PRNG (no dependency needed for a test history).
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }
}

/// A history with files in directories (one with a non-ASCII name), edits
/// above, inside and below a zone of `src/f.txt`, a rename of that file,
/// deletions, commits that change nothing, and merges of a side branch.
fn history(r: &Repo, commits: usize, seed: u64, graph_at: &[usize]) {
    let mut rng = Rng(seed);
    let mut f: Vec<String> = lines(200).lines().map(String::from).collect();
    let mut zoned = "src/f.txt".to_string();
    let others = [
        "src/g.txt",
        "docs/readme.md",
        "src/deep/er/h.txt",
        "données/é.txt",
        "top.txt",
    ];
    r.write(&zoned, &(f.join("\n") + "\n"));
    for o in others {
        r.write(o, "start\n");
    }
    r.commit("base");
    for i in 0..commits {
        if graph_at.contains(&i) {
            r.git(&[
                "commit-graph",
                "write",
                "--reachable",
                "--changed-paths",
                "--split=no-merge",
            ]);
        }
        if i == commits / 2 {
            let to = "lib/f.txt".to_string();
            std::fs::create_dir_all(r.path().join("lib")).unwrap();
            r.git(&["mv", &zoned, &to]);
            zoned = to;
            r.commit(&format!("rename {i}"));
            continue;
        }
        match rng.next(7) {
            0 => {
                let at = rng.next(f.len());
                f[at] = format!("modified {i}");
            }
            1 => {
                let at = rng.next(f.len() + 1);
                f.insert(at, format!("inserted {i}"));
            }
            2 if f.len() > 50 => {
                let at = rng.next(f.len());
                f.remove(at);
            }
            3 => {
                let o = others[rng.next(others.len())];
                r.write(o, &format!("edit {i}\n"));
            }
            4 if i % 13 == 0 => {
                // A side branch merged back: the merge's first parent is main.
                r.git(&["checkout", "-q", "-b", &format!("side{i}")]);
                r.write("side.txt", &format!("side {i}\n"));
                r.commit(&format!("side {i}"));
                r.git(&["checkout", "-q", "main"]);
                r.write("top.txt", &format!("main {i}\n"));
                r.commit(&format!("main {i}"));
                r.git(&[
                    "merge",
                    "-q",
                    "--no-ff",
                    "-m",
                    &format!("merge {i}"),
                    &format!("side{i}"),
                ]);
                continue;
            }
            _ => {
                r.commit(&format!("nothing {i}"));
                continue;
            }
        }
        r.write(&zoned, &(f.join("\n") + "\n"));
        r.commit(&format!("edit {i}"));
    }
}

#[test]
fn the_commit_graph_reads_as_git_wrote_it() {
    for version in ["1", "2"] {
        let r = Repo::new();
        history(&r, 60, 11, &[]);
        r.git(&[
            "-c",
            &format!("commitGraph.changedPathsVersion={version}"),
            "commit-graph",
            "write",
            "--reachable",
            "--changed-paths",
        ]);
        let g = CommitGraph::open(&[r.path().join(".git/objects")]).expect("a graph");
        let all: BTreeSet<String> = r
            .git(&[
                "-c",
                "core.quotepath=false",
                "log",
                "--all",
                "--format=",
                "--name-only",
            ])
            .lines()
            .filter(|l| !l.is_empty())
            .flat_map(|p| {
                let mut v = vec![p.to_string()];
                let mut d = p;
                while let Some(i) = d.rfind('/') {
                    d = &d[..i];
                    v.push(d.to_string());
                }
                v
            })
            .collect();
        let (mut said_unchanged, mut commits) = (0, 0);
        for c in r.git(&["rev-list", "--all"]).lines() {
            commits += 1;
            let pos = g.position(&unhex(c)).expect("every commit is in the graph");
            assert_eq!(hex(g.id(pos)), c);
            assert_eq!(
                hex(g.tree(pos)),
                r.git(&["rev-parse", &format!("{c}^{{tree}}")])
            );
            let parent = r.git_run(&["rev-parse", "--verify", "-q", &format!("{c}^1")]);
            let changed = if parent.code == 0 {
                let p = parent.stdout.trim();
                assert_eq!(
                    g.first_parent(pos).map(|p| hex(g.id(p))).as_deref(),
                    Some(p)
                );
                r.git(&["-c", "core.quotepath=false", "diff", "--name-only", p, c])
            } else {
                assert_eq!(g.first_parent(pos), None);
                r.git(&[
                    "-c",
                    "core.quotepath=false",
                    "diff-tree",
                    "--root",
                    "-r",
                    "--name-only",
                    "--no-commit-id",
                    c,
                ])
            };
            let changed: BTreeSet<String> = changed
                .lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            for path in &all {
                let touched = changed
                    .iter()
                    .any(|c| c == path || c.starts_with(&format!("{path}/")));
                let unchanged = g.unchanged(pos, &[BloomKey::new(path)]);
                // Never a false "unchanged"; false "maybe"s are allowed.
                assert!(!(touched && unchanged), "v{version}: {path} changed in {c}");
                said_unchanged += usize::from(unchanged);
            }
        }
        // The filters do their job: most unchanged paths are ruled out.
        assert!(
            said_unchanged > commits * (all.len() - 3) / 2,
            "v{version}: {said_unchanged}"
        );
    }
}

fn what_if(r: &Repo, base: &str) -> String {
    what_if_with(r, base, &[])
}

fn what_if_with(r: &Repo, base: &str, env: &[(&str, &str)]) -> String {
    let m = r.file("what-if.toml");
    std::fs::write(
        &m,
        manifest("\n[[zone]]\nid = \"z\"\npath = \"src/f.txt\"\nlines = \"80-120\"\n\n[[zone]]\nid = \"dir\"\npath = \"src/deep/**\"\n"),
    )
    .unwrap();
    let out = r
        .cmd(guard_bin())
        .args([
            "audit",
            &format!("{base}..HEAD"),
            "--manifest",
            m.to_str().unwrap(),
            "--format",
            "json",
        ])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Over a few hundred commits a second thread prefetches changes and diffs
/// from the far end; what it finds must be exactly what one thread finds.
#[test]
fn a_long_what_if_audit_says_the_same_with_one_thread_or_two() {
    let r = Repo::new();
    history(&r, 330, 3, &[200]);
    let base = r.git(&["rev-list", "--max-parents=0", "HEAD"]);
    let two = what_if(&r, &base);
    let v: serde_json::Value = serde_json::from_str(&two).unwrap();
    assert!(v["commits"].as_array().unwrap().len() > 20, "{two}");
    assert_eq!(what_if_with(&r, &base, &[("GUARD_THREADS", "1")]), two);
    let chain = r.path().join(".git/objects/info/commit-graphs");
    std::fs::remove_dir_all(chain).unwrap();
    assert_eq!(what_if(&r, &base), two, "without a graph");
}

#[test]
fn a_what_if_audit_says_the_same_with_or_without_a_commit_graph() {
    let r = Repo::new();
    // Two graph layers written along the way, and commits after the last.
    history(&r, 120, 5, &[40, 90]);
    let base = r.git(&["rev-list", "--max-parents=0", "HEAD"]);
    let chain = r.path().join(".git/objects/info/commit-graphs");
    let layers = std::fs::read_to_string(chain.join("commit-graph-chain")).unwrap();
    assert_eq!(layers.lines().count(), 2);
    let with_chain = what_if(&r, &base);
    let v: serde_json::Value = serde_json::from_str(&with_chain).unwrap();
    assert!(v["commits"].as_array().unwrap().len() > 5, "{with_chain}");
    assert_eq!(v["zones_at_end"][0]["path"], "lib/f.txt", "{with_chain}");
    std::fs::remove_dir_all(&chain).unwrap();
    assert_eq!(what_if(&r, &base), with_chain, "without a graph");
    r.git(&["commit-graph", "write", "--reachable", "--changed-paths"]);
    assert_eq!(what_if(&r, &base), with_chain, "with one graph file");
    // A graph git would not use is not used either.
    r.git(&["config", "core.commitGraph", "false"]);
    assert_eq!(what_if(&r, &base), with_chain, "core.commitGraph=false");
}
