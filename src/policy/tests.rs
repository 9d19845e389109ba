//! The rules judged on in-memory repositories ([`Memory`]): no git, no disk.

#![allow(clippy::unwrap_used)]

use super::{Evaluator, Facts, judge};
use crate::git::memory::Memory;
use crate::manifest::validate;
use crate::verdict::{Subject, Touch, Verdict, Violation};

const MANIFEST: &str = r#"version = 1

[policy]
signoffs = 2

[[instance]]
id = "alpha"
emails = ["alpha@x.example"]

[[instance]]
id = "beta"
emails = ["beta@x.example"]

[[zone]]
id = "auth"
path = "app.py"
lines = "2-3"
reason = "JWT check"

[[invariant]]
path = "app.py"
must_contain = "TrustedHost"
reason = "TrustedHost must stay"
"#;

const APP: &str = "import x\ncheck_jwt()\nTrustedHost()\nrest\n";
const SIGNED: &str = "\n\nSigned-off-by: A <alpha@x.example>\nSigned-off-by: B <beta@x.example>\n";

/// A repository whose root commit holds the manifest and `app.py`.
fn root(mem: &mut Memory) -> String {
    let tree = mem.text_tree(&[("guard.toml", MANIFEST), ("app.py", APP)]);
    mem.commit_tree(&tree, &[], "root", "dev@x.example")
}

/// A child of `parent` with `files` changed (others kept).
fn child(mem: &mut Memory, parent: &str, files: &[(&str, &str)], message: &str) -> String {
    let tree = mem.commit_tree_files(parent, files);
    mem.commit_tree(&tree, &[parent], message, "dev@x.example")
}

fn judge_commit(mem: &Memory, id: &str) -> Verdict {
    Evaluator::new(mem, "guard.toml".into())
        .judge_commit(id)
        .unwrap()
}

fn codes(v: &Verdict) -> Vec<&'static str> {
    v.violations.iter().map(Violation::code).collect()
}

#[test]
fn a_zone_change_needs_two_signoffs() {
    let mut mem = Memory::new();
    let base = root(&mut mem);
    let edit = APP.replace("check_jwt()", "skip_jwt()");
    let bare = child(&mut mem, &base, &[("app.py", &edit)], "edit");
    let v = judge_commit(&mem, &bare);
    assert_eq!(codes(&v), ["insufficient-signoffs"]);
    assert_eq!(v.touched[0].zone, "auth");
    assert_eq!(v.touched[0].hunks[0].old_text, ["check_jwt()"]);
    let signed = child(
        &mut mem,
        &base,
        &[("app.py", &edit)],
        &format!("edit{SIGNED}"),
    );
    assert!(judge_commit(&mem, &signed).passed());
}

#[test]
fn an_invariant_holds_even_with_signoffs() {
    let mut mem = Memory::new();
    let base = root(&mut mem);
    let edit = APP.replace("TrustedHost()", "pass");
    let c = child(
        &mut mem,
        &base,
        &[("app.py", &edit)],
        &format!("drop{SIGNED}"),
    );
    let v = judge_commit(&mem, &c);
    assert_eq!(codes(&v), ["invariant"]);
    let Violation::Invariant { rule, file, .. } = &v.violations[0] else {
        panic!("{v:?}");
    };
    assert_eq!((rule.as_str(), file.as_str()), ("must_contain", "app.py"));
}

#[test]
fn a_zone_left_behind_is_stale() {
    let mut mem = Memory::new();
    let base = root(&mut mem);
    // Two lines above the zone: its code moves to 4-5, the manifest says 2-3.
    let c = child(
        &mut mem,
        &base,
        &[("app.py", &format!("a\nb\n{APP}"))],
        "move",
    );
    let v = judge_commit(&mem, &c);
    assert_eq!(codes(&v), ["stale-zone"]);
    let Violation::StaleZone(s) = &v.violations[0] else {
        panic!("{v:?}");
    };
    assert_eq!(s.zone, "auth");
    assert!(format!("{:?}", s.expected).contains("4"), "{s:?}");
    // Following the code in the same commit passes.
    let moved = MANIFEST.replace("lines = \"2-3\"", "lines = \"4-5\"");
    let c = child(
        &mut mem,
        &base,
        &[("app.py", &format!("a\nb\n{APP}")), ("guard.toml", &moved)],
        "move",
    );
    assert!(judge_commit(&mem, &c).passed());
}

#[test]
fn weakening_the_manifest_needs_signoffs_and_tightening_does_not() {
    let mut mem = Memory::new();
    let base = root(&mut mem);
    let weaker = MANIFEST.replace("signoffs = 2", "signoffs = 1");
    let c = child(&mut mem, &base, &[("guard.toml", &weaker)], "weaken");
    let v = judge_commit(&mem, &c);
    assert_eq!(codes(&v), ["insufficient-signoffs"]);
    assert_eq!(v.touched[0].zone, "manifest");
    assert_eq!(v.touched[0].how, "manifest weakened");
    let c = child(
        &mut mem,
        &base,
        &[("guard.toml", &weaker)],
        &format!("w{SIGNED}"),
    );
    assert!(judge_commit(&mem, &c).passed());
    let stronger = MANIFEST.replace("signoffs = 2", "signoffs = 3");
    let c = child(&mut mem, &base, &[("guard.toml", &stronger)], "tighten");
    assert!(judge_commit(&mem, &c).passed());
}

#[test]
fn a_merge_is_judged_on_what_its_side_brings() {
    let mut mem = Memory::new();
    let base = root(&mut mem);
    let main = child(&mut mem, &base, &[("other.txt", "x\n")], "other");
    let edit = APP.replace("check_jwt()", "skip_jwt()");
    // A side commit made without consent (`--no-verify`), merged unsigned.
    let side = child(&mut mem, &base, &[("app.py", &edit)], "sneak");
    let tree = mem.commit_tree_files(&main, &[("app.py", &edit)]);
    let merge = mem.commit_tree(&tree, &[&main, &side], "merge", "dev@x.example");
    let v = judge_commit(&mem, &merge);
    assert_eq!(codes(&v), ["insufficient-signoffs"], "{v:?}");
    // The same change carried by a side commit that had consent passes.
    let side = child(
        &mut mem,
        &base,
        &[("app.py", &edit)],
        &format!("fix{SIGNED}"),
    );
    let merge = mem.commit_tree(&tree, &[&main, &side], "merge 2", "dev@x.example");
    let v = judge_commit(&mem, &merge);
    assert!(v.passed(), "{v:?}");
}

#[test]
fn judging_is_pure() {
    let manifest = validate::parse(MANIFEST, "guard.toml").unwrap();
    let subject = |message: &str| Subject {
        commit: None,
        subject: "s".into(),
        message: message.into(),
        author_email: "dev@x.example".into(),
        update: None,
        time: 0,
    };
    let touch = Touch {
        zone: "auth".into(),
        reason: String::new(),
        file: "app.py".into(),
        lines: None,
        threshold: 2,
        how: "lines changed".into(),
        hunks: Vec::new(),
        details: Vec::new(),
        bound: Default::default(),
        own: None,
    };
    let facts = Facts {
        touched: vec![touch],
        ..Default::default()
    };
    let one = "x\n\nSigned-off-by: A <alpha@x.example>\n";
    let v = judge(&manifest, subject(one), Some(facts.clone())).unwrap();
    let Violation::InsufficientSignoffs {
        needed,
        counted,
        candidates,
        ..
    } = &v.violations[0]
    else {
        panic!("{v:?}");
    };
    assert_eq!((*needed, *counted), (2, 1));
    assert_eq!(candidates, &["beta"]);
    assert!(
        judge(&manifest, subject(&format!("x{SIGNED}")), Some(facts))
            .unwrap()
            .passed()
    );
    // Nothing any rule looks at: a pass under rules, no sign-offs counted.
    let v = judge(&manifest, subject(""), None).unwrap();
    assert!(v.passed() && v.rules && v.touched.is_empty());
}

/// The manifest in force is kept per tree and manifest path: another path,
/// or another tree, is read again (one process judges several).
#[test]
fn the_manifest_in_force_is_kept_per_tree_and_path() {
    use super::BaseManifest;
    use crate::git::Side;
    let other = MANIFEST.replace("id = \"auth\"", "id = \"other\"");
    let mut mem = Memory::default();
    let first = mem.text_tree(&[
        ("guard.toml", MANIFEST),
        ("other.toml", &other),
        ("app.py", APP),
    ]);
    let second = mem.text_tree(&[("guard.toml", &other), ("app.py", APP)]);
    let zone_at = |path: &str, tree: &str| {
        let eval = Evaluator::new(&mem, path.into());
        let m = eval
            .base_manifest(&Side::Tree(tree.into()), &BaseManifest::InBase(path.into()))
            .unwrap()
            .unwrap();
        m.zones[0].id.clone()
    };
    assert_eq!(zone_at("guard.toml", &first), "auth");
    assert_eq!(zone_at("guard.toml", &first), "auth");
    assert_eq!(zone_at("other.toml", &first), "other");
    assert_eq!(zone_at("guard.toml", &second), "other");
    assert_eq!(zone_at("guard.toml", &first), "auth");
}
