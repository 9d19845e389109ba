//! guard reads trailers exactly as git does: git's own parser is the oracle.

use crate::common::*;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};

const POOL: &[&str] = &[
    "Subject line",
    "",
    "",
    "Signed-off-by: Alpha <alpha@x.example>",
    "Reviewed-by: Beta <b@x.example>",
    "Acked-by:gamma",
    "  continued value",
    "\tmore continuation",
    "Some prose in the body.",
    "More prose: with a colon later on",
    "---",
    "(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)",
    "Key : spaced separator",
    "Not a trailer line",
    "# a comment line",
    "Empty-Value:",
    "x",
    "Fixes: #123",
    "Co-authored-by: Someone <s@x.example>",
    // Issue 14: git's whitespace is space, tab, CR and LF; a form feed or a
    // vertical tab is not blank to git.
    "\x0c",
    " \x0b ",
    "Signed-off-by: Gamma <gamma@x.example>\x0c",
    "\x0cSigned-off-by: Delta <d@x.example>",
    "Key:\x0bvalue",
    "line with a CR\r",
];

fn oracle(r: &Repo, messages: &[String]) -> Vec<Vec<(String, String)>> {
    let tree = r.git(&["write-tree"]);
    let mut ids = Vec::new();
    for m in messages {
        let f = r.file("msg");
        std::fs::write(&f, m).unwrap();
        ids.push(r.git(&["commit-tree", &tree, "-F", f.to_str().unwrap()]));
    }
    let mut args = vec![
        "log",
        "--no-walk=unsorted",
        "--format=%H%x01%(trailers:only,unfold)%x00",
    ];
    args.extend(ids.iter().map(String::as_str));
    let out = r.git_run(&args).stdout;
    let parsed: std::collections::HashMap<String, Vec<(String, String)>> = out
        .split('\0')
        .filter_map(|block| block.trim_start().split_once('\x01'))
        .map(|(id, block)| {
            let trailers = block
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| {
                    // git prints "key: value", both already trimmed as git trims.
                    let (k, v) = l.split_once(':').unwrap();
                    (k.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string())
                })
                .collect();
            (id.to_string(), trailers)
        })
        .collect();
    ids.iter().map(|id| parsed[id].clone()).collect()
}

fn ours(m: &str) -> Vec<(String, String)> {
    guard::trailers::parse(m)
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect()
}

#[test]
fn random_messages_parse_as_git_parses_them() {
    let r = Repo::new();
    r.commit("init");
    // A fixed seed: the same 2,000 messages every run, so CI is repeatable
    // (widen the sweep by changing the seed when touching the parser).
    let mut runner = TestRunner::new_with_rng(
        Config::with_cases(1),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let strategy = proptest::collection::vec(
        proptest::collection::vec(proptest::sample::select(POOL), 1..10),
        2000,
    );
    let tree = strategy.new_tree(&mut runner).unwrap();
    let messages: Vec<String> = tree
        .current()
        .into_iter()
        .map(|lines| lines.join("\n") + "\n")
        .collect();
    let expected = oracle(&r, &messages);
    for (m, want) in messages.iter().zip(expected) {
        assert_eq!(ours(m), want, "message:\n{m}");
    }
}

#[test]
fn handpicked_messages_parse_as_git_parses_them() {
    let r = Repo::new();
    r.commit("init");
    let messages: Vec<String> = [
        "Signed-off-by: a <a@x>\n",
        "subject\n\nSigned-off-by: a <a@x>\n",
        "subject\n\nbody\n\nSigned-off-by: a <a@x>\n# trailing comment\n\n",
        "subject\n\nbody\n---\nSigned-off-by: a <a@x>\n",
        "subject\n\nprose\nprose\nprose\nSigned-off-by: a\n",
        "subject\n\nprose\nprose\nprose\nprose\nSigned-off-by: a\n",
        "subject\n\nReviewed-by: a\n  b\n   c\nSigned-off-by: d\n",
        "subject\n\n(cherry picked from commit abc)\nSigned-off-by: x\n",
        "subject\nsecond subject line\nSigned-off-by: a\n",
        "subject\n\nSigned-off-by: a\n\n\n",
        "subject\n\nSigned-off-by: a\nnot a trailer\n",
        "subject\r\n\r\nSigned-off-by: a\r\n",
        // Regression (random oracle run): a comment line after indented lines
        // makes them non-trailer lines, which sinks the block.
        "S\n\nReviewed-by: Beta <b@x.example>\n# c\n  continued value\nFixes: #123\n",
        "S\n\nReviewed-by: Beta <b@x.example>\n# a comment line\nFixes: #123\n",
        // Issue 14: a line holding only a form feed does not split the block.
        "S\n\nSigned-off-by: A <a@x>\n\x0c\nSigned-off-by: B <b@x>\n",
        "S\n\nbody\n\x0c\nSigned-off-by: A <a@x>\nSigned-off-by: B <b@x>\n",
        "S\n\nSigned-off-by: A <a@x>\x0b\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let expected = oracle(&r, &messages);
    for (m, want) in messages.iter().zip(expected) {
        assert_eq!(ours(m), want, "message:\n{m:?}");
    }
}
