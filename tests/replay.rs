//! Contract section 7: a signed sign-off approves exactly one change. Each
//! test has two instances sign one change, then replays their signatures on
//! another (the attack) and on the same change committed (which must pass).

use crate::common::*;

struct Keys {
    alpha: String,
    beta: String,
    delta: String,
    mallory: String,
}

/// The manifest: alpha and beta sign with keys, gamma with a plain sign-off;
/// zone `z` is f.txt lines 5-10 (with `zone_extra`), then `tail`.
fn manifest_text(k: &Keys, policy: &str, zone_extra: &str, tail: &str) -> String {
    format!(
        "version = 1\n{policy}\n[[instance]]\nid = \"alpha\"\nemails = [\"alpha@jarvis.example\"]\nkey = \"{}\"\n\n[[instance]]\nid = \"beta\"\nemails = [\"beta@jarvis.example\"]\nkey = \"{}\"\n\n[[instance]]\nid = \"gamma\"\nemails = [\"gamma@jarvis.example\"]\n\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\n{zone_extra}\n{tail}",
        k.alpha, k.beta
    )
}

fn setup(policy: &str, zone_extra: &str, tail: &str) -> (Repo, Keys) {
    let r = Repo::new();
    r.write(".gitignore", "keys/\n");
    let k = Keys {
        alpha: keygen(&r, "alpha", "ed25519"),
        beta: keygen(&r, "beta", "ed25519"),
        delta: keygen(&r, "delta", "ed25519"),
        mallory: keygen(&r, "mallory", "ed25519"),
    };
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest_text(&k, policy, zone_extra, tail));
    r.commit("init");
    (r, k)
}

fn sign(r: &Repo, instance: &str) -> String {
    let key = r.file(&format!("keys/{instance}"));
    let run = r.guard(&[
        "sign",
        "--instance",
        instance,
        "--key",
        key.to_str().unwrap(),
    ]);
    assert_code(&run, 0);
    run.stdout.trim().to_string()
}

fn commit_signed(r: &Repo, sigs: &[String]) -> Run {
    r.git(&["add", "-A"]);
    let message = format!("change\n\n{}\n", sigs.join("\n"));
    r.git(&["commit", "-q", "--no-verify", "-m", &message]);
    r.guard(&["check", "HEAD"])
}

/// Signatures over `approved` do not verify on `attack`, and do on `approved`
/// committed. Both start from the repository's first commit.
fn replay(r: &Repo, approved: &dyn Fn(&Repo), attack: &dyn Fn(&Repo)) -> Run {
    approved(r);
    r.git(&["add", "-A"]);
    let sigs = [sign(r, "alpha"), sign(r, "beta")];
    r.git(&["reset", "-q", "--hard", "HEAD"]);
    attack(r);
    let refused = commit_signed(r, &sigs);
    assert_code(&refused, 1);
    assert!(
        refused.stdout.contains("does not match this change"),
        "{refused:?}"
    );
    r.git(&["reset", "-q", "--hard", "HEAD~"]);
    approved(r);
    let accepted = commit_signed(r, &sigs);
    assert_code(&accepted, 0);
    refused
}

fn edit_manifest(r: &Repo, from: &str, to: &str) {
    let text = r.read("guard.toml");
    assert!(text.contains(from), "{from:?} not in the manifest");
    r.write("guard.toml", &text.replacen(from, to, 1));
}

#[test]
fn an_instance_added_with_its_key_is_not_an_instance_added_with_another() {
    let (r, k) = setup("", "", "");
    let add = |key: String| {
        move |r: &Repo| {
            let text = r.read("guard.toml");
            r.write(
                "guard.toml",
                &format!(
                    "{text}\n[[instance]]\nid = \"delta\"\nemails = [\"delta@jarvis.example\"]\nkey = \"{key}\"\n"
                ),
            );
        }
    };
    replay(&r, &add(k.delta.clone()), &add(k.mallory.clone()));
}

#[test]
fn a_key_rotation_cannot_be_replayed_to_another_key() {
    let (r, k) = setup("", "", "");
    let (alpha, delta, mallory) = (k.alpha.clone(), k.delta.clone(), k.mallory.clone());
    let rotate = |to: String| {
        let alpha = alpha.clone();
        move |r: &Repo| edit_manifest(r, &alpha, &to)
    };
    replay(&r, &rotate(delta), &rotate(mallory));
}

#[test]
fn an_email_added_is_bound_by_its_value() {
    let (r, _) = setup("", "", "");
    let email = |e: &'static str| {
        move |r: &Repo| {
            edit_manifest(
                r,
                "[\"gamma@jarvis.example\"]",
                &format!("[\"gamma@jarvis.example\", \"{e}\"]"),
            )
        }
    };
    replay(
        &r,
        &email("gamma2@jarvis.example"),
        &email("mallory@evil.example"),
    );
}

#[test]
fn a_threshold_lowered_is_bound_by_its_new_value() {
    let (r, _) = setup("", "signoffs = 3", "");
    let lower =
        |n: u32| move |r: &Repo| edit_manifest(r, "signoffs = 3", &format!("signoffs = {n}"));
    replay(&r, &lower(2), &lower(1));
}

#[test]
fn a_zone_shrunk_is_bound_by_its_new_range() {
    let (r, _) = setup("", "", "");
    let shrink = |to: &'static str| move |r: &Repo| edit_manifest(r, "\"5-10\"", to);
    replay(&r, &shrink("\"6-10\""), &shrink("\"9-10\""));
}

#[test]
fn an_invariant_edit_is_bound_by_what_replaces_it() {
    let tail = "[[invariant]]\npath = \"f.txt\"\nmust_not_contain = \"DEBUG\"\nreason = \"r\"\n";
    let (r, _) = setup("", "", tail);
    let edit = |to: &'static str| {
        move |r: &Repo| {
            edit_manifest(
                r,
                "must_not_contain = \"DEBUG\"",
                &format!("must_not_contain = \"{to}\""),
            )
        }
    };
    replay(&r, &edit("DEBUG|TRACE"), &edit("NEVER-MATCHES"));
}

#[test]
fn a_trailer_key_added_is_bound_by_its_name() {
    let (r, _) = setup("[policy]\ntrailers = [\"Signed-off-by\"]", "", "");
    let add = |key: &'static str| {
        move |r: &Repo| {
            edit_manifest(
                r,
                "trailers = [\"Signed-off-by\"]",
                &format!("trailers = [\"Signed-off-by\", \"{key}\"]"),
            )
        }
    };
    replay(&r, &add("Reviewed-by"), &add("Acked-by"));
}

#[test]
fn a_pure_rename_does_not_approve_a_rename_with_an_edit() {
    let (r, _) = setup("", "", "");
    let rename = |edit: bool| {
        move |r: &Repo| {
            r.git(&["mv", "f.txt", "g.txt"]);
            if edit {
                r.write("g.txt", &lines(20).replace("line 7\n", "return True\n"));
            }
            r.git(&["add", "-A"]);
            assert_code(&r.guard(&["fix"]), 0);
        }
    };
    let refused = replay(&r, &rename(false), &rename(true));
    // The report shows what the signatures would approve: the edit.
    assert!(
        refused.stdout.contains("file renamed to g.txt"),
        "{refused:?}"
    );
    assert!(refused.stdout.contains("- line 7"), "{refused:?}");
    assert!(refused.stdout.contains("+ return True"), "{refused:?}");
}

#[test]
fn a_deletion_shows_and_binds_the_lines_it_removes() {
    let (r, _) = setup("", "", "");
    r.write("f.txt", &lines(20).replace("line 8\n", "auth check\n"));
    r.commit("before");
    r.git(&["rm", "-q", "f.txt"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("file deleted"), "{run:?}");
    assert!(run.stdout.contains("- auth check"), "{run:?}");
    assert!(
        !run.stdout.contains("- line 12"),
        "outside the zone: {run:?}"
    );
}

#[test]
fn a_line_inserted_elsewhere_in_the_zone_is_another_change() {
    let (r, _) = setup("", "", "");
    let insert = |after: usize| {
        move |r: &Repo| {
            let from = format!("line {after}\n");
            r.write(
                "f.txt",
                &lines(20).replacen(&from, &format!("{from}harmless\n"), 1),
            );
            r.git(&["add", "-A"]);
            assert_code(&r.guard(&["fix"]), 0);
        }
    };
    replay(&r, &insert(6), &insert(9));
}

#[test]
fn line_endings_and_invalid_utf8_are_bound_byte_for_byte() {
    let (r, _) = setup("", "", "");
    let bytes = |b: &'static [u8]| {
        move |r: &Repo| {
            let mut data = lines(20).into_bytes();
            let at = lines(6).len();
            data.splice(at..at + "line 7\n".len(), b.iter().copied());
            r.write_bytes("f.txt", &data);
        }
    };
    replay(&r, &bytes(b"seven\n"), &bytes(b"seven\r\n"));
    let (r, _) = setup("", "", "");
    replay(&r, &bytes(b"s\xffx\n"), &bytes(b"s\xfex\n"));
}

#[test]
fn a_signature_survives_an_unrelated_shift_above_the_zone() {
    let (r, _) = setup("", "", "");
    r.write("f.txt", &lines(20).replace("line 7\n", "seven\n"));
    r.git(&["add", "-A"]);
    let sigs = [sign(&r, "alpha"), sign(&r, "beta")];
    r.write(
        "f.txt",
        &format!("top\n{}", lines(20).replace("line 7\n", "seven\n")),
    );
    r.git(&["add", "-A"]);
    assert_code(&r.guard(&["fix"]), 0);
    assert_code(&commit_signed(&r, &sigs), 0);
}

#[test]
fn the_digest_names_its_version() {
    let (r, _) = setup("", "", "");
    r.write("f.txt", &lines(20).replace("line 7\n", "seven\n"));
    r.git(&["add", "-A"]);
    let run = r.guard(&["digest"]);
    assert_code(&run, 0);
    // The end-to-end vector of docs/reference.md.
    assert_eq!(
        run.stdout,
        "guard-digest-v2 sha256:1fa250cb1adcb6d47fd55c9faffcf36c56dbd9602c930e2c14b936cfef6145df\n"
    );
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference.md")).unwrap();
    assert!(doc.contains(run.stdout.trim_end()));
}

/// What guard's digest format 1 gave for "line 7" -> "seven" in zone z
/// (f.txt:5-10), recorded from the last release that signed it.
const V1_LINE: &str =
    "guard-digest-v1 sha256:4d3b93152cbe99788f86bb9d8173ff2dcc0308f9d478c219e3da2e11098c491c\n";

#[test]
fn a_format_1_signature_is_named_with_how_to_re_sign() {
    let (r, _) = setup("", "", "");
    std::fs::write(r.file("keys/d"), V1_LINE).unwrap();
    let sigs: Vec<String> = ["alpha", "beta"]
        .iter()
        .map(|who| {
            let _ = std::fs::remove_file(r.file("keys/d.sig"));
            let out = r
                .cmd("ssh-keygen")
                .args(["-Y", "sign", "-n", "guard", "-f"])
                .arg(r.file(&format!("keys/{who}")))
                .arg(r.file("keys/d"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            let b64: String = std::fs::read_to_string(r.file("keys/d.sig"))
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect();
            format!("Guard-Signature: {who} {b64}")
        })
        .collect();
    r.write("f.txt", &lines(20).replace("line 7\n", "seven\n"));
    let run = commit_signed(&r, &sigs);
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("signed over this change's digest format 1")
            && run.stdout.contains("re-sign with `guard sign`"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("counted  Guard-Signature"), "{run:?}");
}

/// The digest of the staged state `f.txt` = `content` (zone z is 5-10 of 20).
fn digest_of(r: &Repo, content: &[u8]) -> String {
    r.write_bytes("f.txt", content);
    r.git(&["add", "f.txt"]);
    let run = r.guard(&["digest"]);
    assert_code(&run, 0);
    run.stdout
}

/// Line `n` (1-based) of 20 numbered lines replaced by `text`.
fn with_line(n: usize, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 1..=20 {
        if i == n {
            out.extend_from_slice(text);
        } else {
            out.extend_from_slice(format!("line {i}\n").as_bytes());
        }
    }
    out
}

#[test]
fn any_byte_or_position_inside_changes_the_digest_and_nothing_outside_does() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let (r, _) = setup("", "", "");
    let mut runner = TestRunner::new(Config {
        cases: 40,
        ..Config::default()
    });
    let strategy = (
        5usize..=10,
        // Text, not binary (a NUL makes the file binary: judged whole).
        prop::collection::vec(
            any::<u8>().prop_filter("a line of text", |b| *b != b'\n' && *b != 0),
            1..12,
        ),
        0usize..64,
        any::<u8>(),
        5usize..=10,
        prop::sample::select(vec![1usize, 2, 14, 18, 20]),
    );
    runner
        .run(&strategy, |(at, text, flip, byte, other, outside)| {
            let mut line = text.clone();
            line.push(b'\n');
            let base = digest_of(&r, &with_line(at, &line));
            // One byte of the new text changed.
            let i = flip % text.len();
            let mut changed = line.clone();
            changed[i] = if byte == b'\n' || byte == 0 || byte == changed[i] {
                changed[i].wrapping_add(1).max(1)
            } else {
                byte
            };
            if changed[i] != b'\n' && changed != line {
                prop_assert_ne!(&digest_of(&r, &with_line(at, &changed)), &base);
            }
            // The same text at another line of the zone.
            if other != at {
                prop_assert_ne!(&digest_of(&r, &with_line(other, &line)), &base);
            }
            // A change outside every zone (not next to it) changes nothing.
            let mut both = with_line(at, &line);
            let mark = format!("line {outside}\n");
            let pos = both
                .windows(mark.len())
                .position(|w| w == mark.as_bytes())
                .unwrap();
            both.splice(pos..pos + mark.len(), b"elsewhere\n".iter().copied());
            prop_assert_eq!(&digest_of(&r, &both), &base);
            Ok(())
        })
        .unwrap();
}

/// Widening a zone upwards needs no sign-off and moves its first line: an
/// approved hunk's offset then points at other lines. The zone's old text is
/// bound, so the old approval does not verify on the new place.
#[test]
fn widening_a_zone_does_not_move_an_approval_onto_other_lines() {
    let (r, _) = setup("", "", "");
    // Lines 5 and 8 read alike; the zone is 5-10.
    let base = lines(20)
        .replace("line 5\n", "return False\n")
        .replace("line 8\n", "return False\n");
    r.write("f.txt", &base);
    r.git(&["add", "-A"]);
    let setup_sigs = [sign(&r, "alpha"), sign(&r, "beta")];
    assert_code(&commit_signed(&r, &setup_sigs), 0);
    // Approved: line 8 (offset 3 from the zone's first line) returns True.
    r.write(
        "f.txt",
        &base
            .replacen("return False\n", "RET\n", 1)
            .replace("return False\n", "return True\n")
            .replace("RET\n", "return False\n"),
    );
    r.git(&["add", "-A"]);
    let sigs = [sign(&r, "alpha"), sign(&r, "beta")];
    assert_code(&commit_signed(&r, &sigs), 0);
    // Reverted (signed), then the zone widened to 2-10 (no sign-off needed).
    r.write("f.txt", &base);
    r.git(&["add", "-A"]);
    let revert = [sign(&r, "alpha"), sign(&r, "beta")];
    assert_code(&commit_signed(&r, &revert), 0);
    edit_manifest(&r, "\"5-10\"", "\"2-10\"");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "--no-verify", "-m", "protect more"]);
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    // Line 5 is now at offset 3 with the same old and new text: the same
    // edit there must not reuse the approval of line 8's.
    r.write(
        "f.txt",
        &base.replacen("return False\n", "return True\n", 1),
    );
    let run = commit_signed(&r, &sigs);
    assert_code(&run, 1);
    assert!(run.stdout.contains("does not match this change"), "{run:?}");
}
