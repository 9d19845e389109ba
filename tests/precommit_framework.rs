//! The pre-commit framework runs guard from the shipped .pre-commit-hooks.yaml.
//!
//! The framework is installed from PyPI into a directory under target/ by this
//! test itself; where it cannot be installed (no python3, no network) the test
//! says so on stderr and returns.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn install_pre_commit() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pre-commit-framework");
    let bin = root.join("bin/pre-commit");
    if bin.exists() {
        return Some(bin);
    }
    let ok = Command::new("python3")
        .args(["-m", "venv", root.to_str()?])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(root.join("bin/pip"))
            .args(["install", "-q", "pre-commit"])
            .status()
            .is_ok_and(|s| s.success());
    ok.then_some(bin)
}

#[test]
fn the_pre_commit_framework_runs_the_shipped_hooks() {
    let Some(pre_commit) = install_pre_commit() else {
        eprintln!("SKIPPED: the pre-commit framework could not be installed from PyPI here");
        return;
    };
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The framework clones the hook repository at a revision: use this one's HEAD.
    let rev = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(project)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\n"),
    );
    r.write(
        ".pre-commit-config.yaml",
        &format!(
            "default_install_hook_types: [pre-commit, commit-msg]\nrepos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: guard-pre-commit\n      - id: guard-commit-msg\n",
            project.display(),
            rev.trim()
        ),
    );
    r.commit("init");
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pre-commit-cache");
    let run = |args: &[&str], program: &Path| {
        let out = r
            .cmd(program.to_str().unwrap())
            .args(args)
            .env("PRE_COMMIT_HOME", &cache)
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, text) = run(&["install"], &pre_commit);
    assert_eq!(code, Some(0), "{text}");
    r.write("f.txt", &lines(20).replace("line 7\n", "seven\n"));
    r.git(&["add", "-A"]);
    let (code, text) = run(&["commit", "-q", "-m", "unsigned"], Path::new("git"));
    if text.contains("cargo") && text.contains("error") && code != Some(0) {
        eprintln!("SKIPPED: the framework could not build guard here:\n{text}");
        return;
    }
    assert_eq!(
        code,
        Some(1),
        "an unsigned zone change must be blocked:\n{text}"
    );
    assert!(text.contains("BLOCKED staged change"), "{text}");
    let (code, text) = run(
        &["commit", "-q", "-m", &signed("signed", &[ALPHA, BETA])],
        Path::new("git"),
    );
    assert_eq!(code, Some(0), "{text}");
}
