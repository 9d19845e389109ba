//! Contract section 7: signed sign-offs, with OpenSSH's ssh-keygen as the oracle.

use crate::common::*;

fn setup() -> (Repo, String, String) {
    let r = Repo::new();
    r.write(".gitignore", "keys/\nd\nd.sig\n");
    let alpha = keygen(&r, "alpha", "ed25519");
    let beta = keygen(&r, "beta", "ecdsa");
    r.write("f.txt", &lines(20));
    r.write(
        "guard.toml",
        &format!(
            "version = 1\n\n[[instance]]\nid = \"alpha\"\nemails = [\"alpha@jarvis.example\"]\nkey = \"{alpha}\"\n\n[[instance]]\nid = \"beta\"\nemails = [\"beta@jarvis.example\"]\nkey = \"{beta}\"\n\n[[instance]]\nid = \"gamma\"\nemails = [\"gamma@jarvis.example\"]\n\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\n"
        ),
    );
    r.commit("init");
    (r, alpha, beta)
}

/// `guard digest` then `ssh-keygen -Y sign`: the one-line trailer value.
fn ssh_sign(r: &Repo, key: &str, namespace: &str, rev: Option<&str>) -> String {
    let mut args = vec!["digest"];
    args.extend(rev);
    let d = r.guard(&args);
    assert_code(&d, 0);
    std::fs::write(r.file("d"), &d.stdout).unwrap();
    let _ = std::fs::remove_file(r.file("d.sig"));
    let key_path = r.file(&format!("keys/{key}"));
    let out = r
        .cmd("ssh-keygen")
        .args([
            "-Y",
            "sign",
            "-n",
            namespace,
            "-f",
            key_path.to_str().unwrap(),
            "d",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    std::fs::read_to_string(r.file("d.sig"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect()
}

fn edit_zone(r: &Repo) {
    r.write("f.txt", &lines(20).replace("line 7\n", "seven\n"));
    r.git(&["add", "-A"]);
}

fn commit_with(r: &Repo, trailers: &[String]) -> Run {
    let mut m = String::from("edit the zone\n\n");
    for t in trailers {
        m.push_str(t);
        m.push('\n');
    }
    r.git(&["commit", "-q", "--no-verify", "-m", &m]);
    r.guard(&["check", "HEAD"])
}

#[test]
fn ssh_keygen_signatures_over_the_digest_count() {
    let (r, _, _) = setup();
    edit_zone(&r);
    let a = ssh_sign(&r, "alpha", "guard", None);
    let b = ssh_sign(&r, "beta", "guard", None);
    let staged_digest = r.guard(&["digest"]).stdout;
    let run = commit_with(
        &r,
        &[
            format!("Guard-Signature: alpha {a}"),
            format!("Guard-Signature: beta {b}"),
        ],
    );
    assert_code(&run, 0);
    // The digest of the commit is the digest of the staged change it was.
    assert_eq!(r.guard(&["digest", "HEAD"]).stdout, staged_digest);
}

#[test]
fn guard_sign_makes_signatures_ssh_keygen_verifies() {
    let (r, alpha, _) = setup();
    edit_zone(&r);
    let run = r.guard(&[
        "sign",
        "--instance",
        "alpha",
        "--key",
        r.file("keys/alpha").to_str().unwrap(),
    ]);
    assert_code(&run, 0);
    let line = run.stdout.trim().to_string();
    let b64 = line.strip_prefix("Guard-Signature: alpha ").unwrap();
    let mut armoured = String::from("-----BEGIN SSH SIGNATURE-----\n");
    for chunk in b64.as_bytes().chunks(70) {
        armoured.push_str(std::str::from_utf8(chunk).unwrap());
        armoured.push('\n');
    }
    armoured.push_str("-----END SSH SIGNATURE-----\n");
    std::fs::write(r.file("d.sig"), armoured).unwrap();
    std::fs::write(r.file("d"), r.guard(&["digest"]).stdout).unwrap();
    std::fs::write(r.file("allowed"), format!("alpha {alpha}\n")).unwrap();
    let out = r
        .cmd("sh")
        .args([
            "-c",
            "ssh-keygen -Y verify -f allowed -I alpha -n guard -s d.sig < d",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    // And guard counts it, with a plain sign-off from an instance without a key.
    let run = commit_with(&r, &[line, format!("Signed-off-by: {GAMMA}")]);
    assert_code(&run, 0);
}

#[test]
fn what_does_not_count() {
    let (r, _, _) = setup();
    edit_zone(&r);
    let other_ns = ssh_sign(&r, "alpha", "git", None);
    // A keyed instance's plain sign-off, a signature in another namespace, a
    // signature by another key, and an unknown instance.
    let b = ssh_sign(&r, "beta", "guard", None);
    let run = commit_with(
        &r,
        &[
            format!("Signed-off-by: {ALPHA}"),
            format!("Guard-Signature: alpha {other_ns}"),
            format!("Guard-Signature: alpha {b}"),
            format!("Guard-Signature: mallory {b}"),
        ],
    );
    assert_code(&run, 1);
    for why in [
        "must be a Guard-Signature",
        "namespace",
        "another key",
        "not a registered instance",
    ] {
        assert!(run.stdout.contains(why), "{why}: {run:?}");
    }
}

#[test]
fn a_signature_over_another_change_does_not_count() {
    let (r, _, _) = setup();
    r.write("f.txt", &lines(20).replace("line 7\n", "something else\n"));
    r.git(&["add", "-A"]);
    let stale_a = ssh_sign(&r, "alpha", "guard", None);
    let stale_b = ssh_sign(&r, "beta", "guard", None);
    edit_zone(&r);
    let run = commit_with(
        &r,
        &[
            format!("Guard-Signature: alpha {stale_a}"),
            format!("Guard-Signature: beta {stale_b}"),
        ],
    );
    assert_code(&run, 1);
    assert!(run.stdout.contains("another change"), "{run:?}");
}

#[test]
fn the_digest_ignores_shifts_elsewhere_and_follows_the_protected_text() {
    let (r, _, _) = setup();
    edit_zone(&r);
    let plain = r.guard(&["digest"]).stdout;
    // The same zone edit plus lines inserted above the zone (and the manifest
    // following them) signs the same bytes.
    r.write(
        "f.txt",
        &format!("new top\n{}", lines(20).replace("line 7\n", "seven\n")),
    );
    r.git(&["add", "-A"]);
    assert_code(&r.guard(&["fix"]), 0);
    assert_eq!(r.guard(&["digest"]).stdout, plain);
    // Another new text is another digest.
    r.write("f.txt", &lines(20).replace("line 7\n", "SEVEN\n"));
    r.git(&["add", "-A"]);
    r.git(&["checkout", "HEAD", "--", "guard.toml"]);
    assert_ne!(r.guard(&["digest"]).stdout, plain);
}

#[test]
fn a_key_that_is_not_a_key_is_a_configuration_error() {
    let r = Repo::new();
    r.write("f.txt", &lines(3));
    r.write(
        "guard.toml",
        "version = 1\n[[instance]]\nid = \"a\"\nkey = \"ssh-ed25519 notbase64!\"\n",
    );
    r.commit("init");
    r.write("f.txt", &lines(4));
    r.git(&["add", "-A"]);
    let run = r.guard(&["check"]);
    assert_code(&run, 2);
    assert!(run.stderr.contains(":4:"), "{run:?}");
}

/// An oracle command that must succeed (its stderr says why not).
fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
