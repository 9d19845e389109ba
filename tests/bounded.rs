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
    let out = r
        .cmd(guard_bin())
        .args(args)
        .env("GUARD_TRACE_WORK", "1")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
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
