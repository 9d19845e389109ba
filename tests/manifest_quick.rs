//! The quick manifest reader against toml, the oracle: whatever it reads, it
//! reads exactly as `toml::from_str` does (values and spans); whatever toml
//! refuses, it leaves to toml.

use guard::manifest::quick;
use guard::manifest::raw::RawManifest;
use proptest::prelude::*;

/// toml's reading of `text`, as text to compare, or its refusal.
fn oracle(text: &str) -> Result<String, String> {
    toml::from_str::<RawManifest>(text)
        .map(|m| format!("{m:#?}"))
        .map_err(|e| e.to_string())
}

/// The property: the quick reader either gives up or agrees with toml.
fn agrees(text: &str) -> Result<bool, TestCaseError> {
    let Some(quick) = quick::read(text) else {
        return Ok(false);
    };
    match oracle(text) {
        Ok(expected) => {
            prop_assert_eq!(format!("{quick:#?}"), expected, "text: {:?}", text);
            Ok(true)
        }
        Err(e) => Err(TestCaseError::fail(format!(
            "the quick reader read what toml refuses ({e}): {text:?}"
        ))),
    }
}

/// Lines a manifest may hold, inside and outside the quick subset, valid and not.
const LINES: &[&str] = &[
    "version = 1",
    "version = 0",
    "version = 2",
    "version = 123456789012345678",
    "version = 1234567890123456789",
    "version=1",
    "[policy]",
    "signoffs = 2",
    "trailers = [\"Signed-off-by\", 'Approved-by']",
    "author_counts = true",
    "author_counts = false",
    "audit_trailers = []",
    "audit_trailers = [ \"Why\" , \"Tests\", ]",
    "freeze = \"release week\"",
    "[[instance]]",
    "id = \"alpha\"",
    "emails = [\"a@x.example\", 'B@Y.example']",
    "key = 'ssh-ed25519 AAAAC3 alpha'",
    "[[zone]]",
    "id = \"z1\"",
    "id = 'z.2-_'",
    "path = \"src/a.rs\"",
    "path = 'src/**/*.rs'",
    "lines = \"1-2\"",
    "lines = ' 3 - 40 '",
    "reason = \"why \\\"quoted\\\" \\\\ é\\n\\t\\r\\b\\f\"",
    "reason = 'it''s'",
    "signoffs = 1",
    "approvers = [",
    "  \"alpha\", # who",
    "  'beta',",
    "]",
    "approvers = [\"alpha\"]",
    "also_change = [\"x\"]",
    "[[invariant]]",
    "path = \"backend/main.py\"",
    "must_contain = 'a\\s+b'",
    "must_not_contain = \"verify\\\\s*=\\\\s*False\"",
    "[[group]]",
    "id = \"security\"",
    "members = [\"alpha\", \"beta\"]",
    "# a comment, é",
    "",
    "   ",
    "\t# tab",
    // Outside the subset, or refused by toml.
    "require = [{ group = \"security\", signoffs = 1 }]",
    "override = { group = \"security\", signoffs = 1 }",
    "freeze = { reason = \"x\", zones = [\"z1\"] }",
    "unknown = 1",
    "\"id\" = \"quoted\"",
    "id.x = \"dotted\"",
    "id = \"\"\"multi\"\"\"",
    "id = '''multi'''",
    "id = \"\"",
    "id = ''",
    "signoffs = -1",
    "signoffs = +1",
    "signoffs = 1_000",
    "signoffs = 01",
    "signoffs = 0x10",
    "signoffs = 1.5",
    "signoffs = 1e3",
    "signoffs = 1979-05-27",
    "signoffs = inf",
    "author_counts = True",
    "author_counts = truely",
    "id = 1",
    "lines = [\"1-2\"]",
    "emails = \"a@x\"",
    "emails = [1]",
    "emails = [\"a\" \"b\"]",
    "emails = [\"a\",,]",
    "emails = [,]",
    "emails = [\"a\", [\"b\"]]",
    "id = \"\\u00e9\"",
    "id = \"\\x41\"",
    "id = \"\\e\"",
    "id = \"\\q\"",
    "id = \"a\" \"b\"",
    "id = \"a\"x",
    "[ policy ]",
    "[[ zone ]]",
    "[zone]",
    "[policy.x]",
    "[[zone.x]]",
    "[[zone]] # c",
    "[other]",
    "[[policy]]",
    "[instance]",
    "[[zone]",
    "[[zone]]]",
    "[]",
    "[[]]",
    "= 1",
    "id = ",
    "id",
];

/// Bytes that break things when dropped into a line.
const BYTES: &[&str] = &[
    "\"", "'", "\\", "\r", "\n", "#", "[", "]", ",", "=", ".", " ", "\t", "\0", "\x7f", "\x01",
    "é", "\u{85}", "\u{feff}", "\u{2028}", "x", "1", "-", "{", "}",
];

fn mutate(text: &str, edits: &[(usize, usize, bool)]) -> String {
    let mut out = text.to_string();
    for &(at, what, insert) in edits {
        let mut at = at % (out.len() + 1);
        while !out.is_char_boundary(at) {
            at -= 1;
        }
        if insert || at == out.len() {
            out.insert_str(at, BYTES[what % BYTES.len()]);
        } else {
            let len = out[at..].chars().next().map_or(0, char::len_utf8);
            out.replace_range(at..at + len, "");
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Plain manifests with lines of the palette put in and bytes dropped in
    /// or taken out: the quick reader agrees with toml on everything it reads.
    #[test]
    fn the_quick_reader_agrees_with_toml_or_leaves_it_to_toml(
        (lines, crlf) in plain_lines(),
        extra in prop::collection::vec((0usize..100, 0usize..1000), 0..3),
        edits in prop::collection::vec((0usize..4000, 0usize..100, any::<bool>()), 0..3),
    ) {
        let mut lines = lines;
        for (at, line) in extra {
            let at = at % (lines.len() + 1);
            lines.insert(at, LINES[line % LINES.len()].to_string());
        }
        let text = mutate(&lines.join(if crlf { "\r\n" } else { "\n" }), &edits);
        agrees(&text)?;
    }
}

/// A plain manifest of the subset, its tables' keys in any order, with blank
/// lines, comments and spaces between.
fn plain_manifest() -> impl Strategy<Value = String> {
    plain_lines().prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

/// A plain manifest's lines, and whether they end in CRLF.
fn plain_lines() -> impl Strategy<Value = (Vec<String>, bool)> {
    let string = prop_oneof![
        "[a-z0-9 ._/*-]{0,12}".prop_map(|s| format!("\"{s}\"")),
        "[a-z0-9 ._/*\"\\\\é-]{0,12}".prop_map(|s| format!("'{}'", s.replace('\'', ""))),
        "[a-z\"\\\\\t é]{0,8}".prop_map(|s| format!(
            "\"{}\"",
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\t', "\\t")
        )),
    ];
    let strings =
        prop::collection::vec(string.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", ")));
    let integer = (0i64..1_000_000_000).prop_map(|n| n.to_string());
    let boolean = any::<bool>().prop_map(|b| b.to_string());
    let pad = prop_oneof![Just(""), Just(" "), Just("\t"), Just("  # note")];
    // A key's value: of its type, or now and then of another.
    let value = (string, strings, integer.clone(), boolean, 0usize..40);
    let table = (
        0usize..6,
        prop::collection::vec((0usize..8, value, pad.clone()), 0..6),
        pad,
    );
    (integer, prop::collection::vec(table, 0..12), any::<bool>()).prop_map(
        |(version, tables, crlf)| {
            // Each table's keys and their types: String, Array, Integer, Bool.
            let schema: [(&str, &[(&str, u8)]); 6] = [
                (
                    "[policy]",
                    &[
                        ("signoffs", b'I'),
                        ("trailers", b'A'),
                        ("author_counts", b'B'),
                        ("audit_trailers", b'A'),
                        ("freeze", b'S'),
                    ],
                ),
                (
                    "[[instance]]",
                    &[("id", b'S'), ("emails", b'A'), ("key", b'S')],
                ),
                (
                    "[[zone]]",
                    &[
                        ("id", b'S'),
                        ("path", b'S'),
                        ("lines", b'S'),
                        ("reason", b'S'),
                        ("signoffs", b'I'),
                        ("approvers", b'A'),
                        ("also_change", b'A'),
                    ],
                ),
                (
                    "[[invariant]]",
                    &[
                        ("path", b'S'),
                        ("must_contain", b'S'),
                        ("must_not_contain", b'S'),
                        ("reason", b'S'),
                    ],
                ),
                ("[[group]]", &[("id", b'S'), ("members", b'A')]),
                ("[[zone]]", &[("id", b'S'), ("path", b'S'), ("lines", b'S')]),
            ];
            let mut out = vec![format!("version = {version}"), String::new()];
            let mut policy = false;
            for (t, keys, pad) in tables {
                let (header, names) = schema[t];
                if header == "[policy]" {
                    if policy {
                        continue;
                    }
                    policy = true;
                }
                out.push(format!("{header}{pad}"));
                let mut used = Vec::new();
                for (k, (s, a, i, b, pick), pad) in keys {
                    let (name, kind) = names[k % names.len()];
                    let kind = if pick < 4 { b"SAIB"[pick] } else { kind };
                    let v = match kind {
                        b'S' => s,
                        b'A' => a,
                        b'I' => i,
                        _ => b,
                    };
                    if !used.contains(&name) {
                        used.push(name);
                        out.push(format!("{name} = {v}{pad}"));
                    }
                }
                out.push(String::new());
            }
            (out, crlf)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Plain manifests of the subset: read by the quick reader whenever toml
    /// reads them (a reader that always gave up would fail here), and the same.
    #[test]
    fn the_quick_reader_reads_plain_manifests_as_toml_does(text in plain_manifest()) {
        let read = agrees(&text)?;
        prop_assert_eq!(read, oracle(&text).is_ok(), "text: {:?}", text);
    }
}

/// Every line of the palette in every table, once and twice, LF and CRLF.
#[test]
fn each_line_in_each_table_is_read_as_toml_reads_it() {
    let mut read = 0;
    for header in [
        "",
        "[policy]",
        "[[instance]]",
        "[[zone]]",
        "[[invariant]]",
        "[[group]]",
    ] {
        for line in LINES {
            for eol in ["\n", "\r\n"] {
                for times in 1..=2 {
                    let mut text = format!("version = 1{eol}{header}{eol}");
                    for _ in 0..times {
                        text.push_str(line);
                        text.push_str(eol);
                    }
                    read += usize::from(agrees(&text).unwrap());
                }
            }
        }
    }
    // The subset's lines, in their tables, once each and LF and CRLF.
    assert!(read >= 100, "{read} read quickly");
}

/// The contract's example, and the error messages of a manifest outside the
/// subset: still toml's, with their line and column.
#[test]
fn the_contracts_example_is_read_quickly_and_errors_stay_tomls() {
    let example = "version = 1\n\n[policy]\nsignoffs = 2                        # distinct\ntrailers = [\"Signed-off-by\"]\nauthor_counts = true\naudit_trailers = []\n\n[[instance]]\nid = \"alpha\"\nemails = [\"alpha@jarvis.example\"]\n\n[[zone]]\nid = \"security-middleware\"\npath = \"backend/main.py\"\nlines = \"5-184\"\nreason = \"Security middleware stack\"\nsignoffs = 2\n\n[[invariant]]\npath = \"backend/main.py\"\nmust_contain = \"TrustedHostMiddleware\"\n# must_not_contain = \"verify\\\\s*=\\\\s*False\"\nreason = \"TrustedHostMiddleware must stay enabled\"\n";
    assert!(agrees(example).unwrap());
    let typo = "version = 1\n[[zone]]\nid = \"a\"\npaht = \"x\"\n";
    assert!(quick::read(typo).is_none());
    let err = guard::manifest::parse(typo, "guard.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("guard.toml:4:1: unknown field `paht`"),
        "{err}"
    );
}
