//! The CI recipes' shell step (ci/guard-ci.sh, used by action.yml and the
//! GitLab template) against real repositories.

use crate::common::*;
use std::path::Path;

fn script() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ci/guard-ci.sh")
        .display()
        .to_string()
}

fn branch_with_bypass() -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(10));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"1-5\"\n"),
    );
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("other.txt", "fine\n");
    r.commit("unrelated");
    r.write("f.txt", &lines(10).replace("line 2\n", "bypass\n"));
    r.commit("made with --no-verify");
    r
}

fn ci(r: &Repo, args: &[&str]) -> Run {
    run_of(
        r.cmd("sh")
            .arg(script())
            .args(args)
            .env("GUARD", guard_bin())
            .output()
            .unwrap(),
    )
}

#[test]
fn the_shell_step_fails_a_branch_with_a_bypassing_commit() {
    let r = branch_with_bypass();
    let run = ci(&r, &["main"]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("made with --no-verify"), "{run:?}");
    let run = ci(&r, &["main", "github"]);
    assert_code(&run, 1);
    assert!(run.stdout.starts_with("::error file=f.txt"), "{run:?}");
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    assert_code(&ci(&r, &["main"]), 0);
}

#[test]
fn the_shell_step_refuses_a_shallow_clone_with_the_fix() {
    let r = branch_with_bypass();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("shallow");
    r.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "feature",
        &format!("file://{}", r.path().display()),
        dest.to_str().unwrap(),
    ]);
    let out = r
        .cmd("sh")
        .arg(script())
        .arg("HEAD")
        .env("GUARD", guard_bin())
        .current_dir(&dest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fetch-depth: 0"));
}

#[test]
fn the_action_and_the_template_use_the_shell_step() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    assert!(action.contains("ci/guard-ci.sh"));
    assert!(action.contains("using: composite"));
    let gitlab = std::fs::read_to_string(root.join("ci/gitlab-guard.yml")).unwrap();
    assert!(gitlab.contains("guard-ci.sh"));
    assert!(gitlab.contains("CI_MERGE_REQUEST_DIFF_BASE_SHA"));
}

/// The action installs guard from its own directory with a pinned toolchain:
/// a branch whose rust-toolchain.toml names a toolchain of its own (whose
/// cargo would install a fake guard) chooses nothing. `cargo` is a stub here
/// that records where and how it was run.
#[test]
fn guard_is_installed_from_its_own_sources_never_from_the_checkout() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let r = Repo::new();
    r.write(
        "rust-toolchain.toml",
        "[toolchain]\npath = \"/tmp/evil-toolchain\"\n",
    );
    r.write(
        ".cargo/config.toml",
        "[build]\nrustc-wrapper = \"./evil\"\n",
    );
    let stubs = r.file("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let log = r.file("cargo.log");
    write_script(
        &stubs.join("cargo"),
        &format!(
            "#!/bin/sh\necho \"$PWD|$RUSTUP_TOOLCHAIN|$*\" > '{}'\n",
            log.display()
        ),
    );
    let out = r
        .cmd("sh")
        .arg(root.join("ci/install-guard.sh"))
        .env("PATH", format!("{}:/usr/bin:/bin", stubs.display()))
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let seen = std::fs::read_to_string(&log).unwrap();
    let root = std::fs::canonicalize(root).unwrap();
    assert_eq!(
        seen.trim(),
        format!(
            "{}|stable|install --locked --quiet --path {}",
            root.display(),
            root.display()
        )
    );
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    assert!(action.contains("ci/install-guard.sh"));
    assert!(action.contains("merge_group.base_sha"));
    let gitlab = std::fs::read_to_string(root.join("ci/gitlab-guard.yml")).unwrap();
    assert!(
        !gitlab.contains("cp ci/"),
        "no fallback to the branch's own files"
    );
    assert!(gitlab.contains("(cd / && RUSTUP_TOOLCHAIN="));
}
