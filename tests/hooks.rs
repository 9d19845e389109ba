//! Contract section 6: guard install / uninstall and real commits through the hooks.

use crate::common::*;

const ZONE: &str =
    "\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\nreason = \"the zone\"\n";

fn installed() -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    r.commit("init");
    let run = r.guard(&["install"]);
    assert_code(&run, 0);
    r
}

fn touch_zone(r: &Repo, text: &str) {
    r.write(
        "f.txt",
        &lines(20).replace("line 7\n", &format!("{text}\n")),
    );
}

fn head(r: &Repo) -> String {
    r.git(&["rev-parse", "HEAD"])
}

#[test]
fn commits_through_the_hooks_with_dash_m() {
    let r = installed();
    let before = head(&r);
    touch_zone(&r, "x");
    let run = r.commit_hooked("unsigned");
    assert_blocked(&run);
    assert!(
        run.stdout.contains("needs 2 sign-offs") || run.stderr.contains("needs 2 sign-offs"),
        "{run:?}"
    );
    assert_eq!(head(&r), before);
    let run = r.commit_hooked(&signed("signed", &[ALPHA, BETA]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_ne!(head(&r), before);
    // Unrelated work passes.
    r.write("other.txt", "x\n");
    assert_eq!(r.commit_hooked("unrelated").code, 0);
}

#[test]
fn message_file_trailer_option_and_editor() {
    let r = installed();
    touch_zone(&r, "x");
    r.git(&["add", "-A"]);
    let m = r.file("msg.txt");
    std::fs::write(&m, signed("from file", &[ALPHA, GAMMA])).unwrap();
    assert_eq!(
        r.git_run(&["commit", "-q", "-F", m.to_str().unwrap()]).code,
        0
    );

    touch_zone(&r, "y");
    r.git(&["add", "-A"]);
    let run = r.git_run(&[
        "commit",
        "-q",
        "-m",
        "with trailers",
        "--trailer",
        &format!("Signed-off-by: {ALPHA}"),
        "--trailer",
        &format!("Signed-off-by: {BETA}"),
    ]);
    assert_eq!(run.code, 0, "{run:?}");

    touch_zone(&r, "z");
    r.git(&["add", "-A"]);
    let editor = r.file("editor.sh");
    std::fs::write(
        &editor,
        format!("#!/bin/sh\nprintf 'edited\\n\\nSigned-off-by: {ALPHA}\\nSigned-off-by: {GAMMA}\\n' > \"$1\"\n"),
    )
    .unwrap();
    r.git(&["config", "core.editor", editor.to_str().unwrap()]);
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = r.git_run(&["commit", "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn commented_out_signoffs_never_count() {
    let r = installed();
    touch_zone(&r, "x");
    r.git(&["add", "-A"]);
    let editor = r.file("editor.sh");
    std::fs::write(
        &editor,
        format!("#!/bin/sh\nprintf 'edited\\n\\nSigned-off-by: {ALPHA}\\n# Signed-off-by: {BETA}\\n' > \"$1\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    r.git(&["config", "core.editor", editor.to_str().unwrap()]);
    let run = r.git_run(&["commit", "-q"]);
    assert_blocked(&run);
    // With another comment character, '#' lines are text (and the trailer block has prose).
    r.git(&["config", "core.commentChar", ";"]);
    let run = r.git_run(&["commit", "-q", "--cleanup=strip"]);
    assert_blocked(&run);
}

#[test]
fn the_pre_commit_hook_fixes_drift_and_stages_the_manifest() {
    let r = installed();
    r.write("f.txt", &format!("import a\n{}", lines(20)));
    let run = r.commit_hooked("import");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        r.git(&["show", "HEAD:guard.toml"])
            .contains("lines = \"6-11\"")
    );
    assert_code(&r.guard(&["check", "HEAD"]), 0);
    assert_eq!(r.git(&["status", "--porcelain"]), "");
}

#[test]
fn the_pre_commit_hook_blocks_when_the_manifest_has_unstaged_edits() {
    let r = installed();
    r.write("f.txt", &format!("import a\n{}", lines(20)));
    r.git(&["add", "f.txt"]);
    r.write("guard.toml", &(r.read("guard.toml") + "# local note\n"));
    let run = r.git_run(&["commit", "-q", "-m", "import"]);
    assert_blocked(&run);
    assert!(run.stderr.contains("guard fix"), "{run:?}");
}

/// `git commit --amend` through the hooks, with a message that has no sign-offs.
fn amend_dropping_signoffs(r: &Repo) -> std::process::Output {
    r.cmd("git")
        .args(["commit", "-q", "--amend", "-m", "no more sign-offs"])
        .env_remove("GUARD_AMEND")
        .output()
        .unwrap()
}

#[test]
fn amend_is_judged_against_the_parent() {
    let r = installed();
    touch_zone(&r, "x");
    assert_eq!(r.commit_hooked(&signed("signed", &[ALPHA, BETA])).code, 0);
    // Dropping the sign-offs by amending the message must not pass.
    let out = amend_dropping_signoffs(&r);
    assert_ne!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = r
        .cmd("git")
        .args([
            "commit",
            "-q",
            "--amend",
            "-m",
            &signed("reworded", &[GAMMA, BETA]),
        ])
        .env_remove("GUARD_AMEND")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn invariants_block_from_the_pre_commit_hook() {
    let r = Repo::new();
    r.write("main.py", "app.add_middleware(TrustedHostMiddleware)\n");
    r.write(
        "guard.toml",
        &manifest("\n[[invariant]]\npath = \"*.py\"\nmust_contain = \"TrustedHostMiddleware\"\nmust_not_contain = \"verify\\\\s*=\\\\s*False\"\nreason = \"keep it\"\n"),
    );
    r.commit("init");
    assert_code(&r.guard(&["install"]), 0);
    r.write("main.py", "app = 1\n");
    let run = r.commit_hooked(&signed("remove it", &[ALPHA, BETA, GAMMA]));
    assert_blocked(&run);
    assert!(run.all().contains("invariant"), "{run:?}");
    r.write(
        "main.py",
        "app.add_middleware(TrustedHostMiddleware)\nx = 1\nrequests.get(u, verify = False)\n",
    );
    let run = r.commit_hooked("insecure");
    assert_blocked(&run);
    assert!(run.all().contains("line 3"), "{run:?}");
    r.write("new.py", "no middleware here\n");
    r.write("main.py", "app.add_middleware(TrustedHostMiddleware)\n");
    assert_blocked(&r.commit_hooked("new file"));
}

#[test]
fn install_chains_to_an_existing_hook_and_uninstall_restores_it() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    r.commit("init");
    let hook = r.path().join(".git/hooks/pre-commit");
    let original = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/old-hook-ran\"\nexit ${OLD_HOOK_EXIT:-0}\n";
    std::fs::write(&hook, original).unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    assert_code(&r.guard(&["install"]), 0);
    // Twice changes nothing.
    let again = r.guard(&["install"]);
    assert_code(&again, 0);
    assert!(again.stdout.contains("already installed"), "{again:?}");
    r.write("other.txt", "x\n");
    assert_eq!(r.commit_hooked("unrelated").code, 0);
    assert!(r.path().join(".git/old-hook-ran").exists());
    // The old hook's failure still blocks.
    r.write("other.txt", "y\n");
    r.git(&["add", "-A"]);
    let out = r
        .cmd("git")
        .args(["commit", "-q", "-m", "x"])
        .env("OLD_HOOK_EXIT", "1")
        .output()
        .unwrap();
    // The chained hook's own refusal: git exits 1, guard never ran.
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    assert_code(&r.guard(&["uninstall"]), 0);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), original);
    assert!(!r.path().join(".git/hooks/commit-msg").exists());
}

#[test]
fn install_refuses_what_it_cannot_chain_unless_forced() {
    let r = Repo::new();
    r.commit("init");
    let hooks = r.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::os::unix::fs::symlink("/bin/true", hooks.join("commit-msg")).unwrap();
    let run = r.guard(&["install"]);
    assert_code(&run, 2);
    assert!(
        !hooks.join("pre-commit").exists(),
        "a refused install changes nothing"
    );
    assert_code(&r.guard(&["install", "--force"]), 0);
    assert_code(&r.guard(&["uninstall"]), 0);
    assert_eq!(
        std::fs::read_link(hooks.join("commit-msg"))
            .unwrap()
            .to_str(),
        Some("/bin/true")
    );
}

#[test]
fn core_hooks_path_and_worktrees() {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write("guard.toml", &manifest(ZONE));
    r.commit("init");
    r.git(&["config", "core.hooksPath", ".githooks"]);
    assert_code(&r.guard(&["install"]), 0);
    assert!(r.path().join(".githooks/pre-commit").exists());
    touch_zone(&r, "x");
    assert_blocked(&r.commit_hooked("unsigned"));
    r.git(&["config", "--unset", "core.hooksPath"]);
    r.git(&["checkout", "-q", "--", "."]);
    r.git(&["reset", "-q", "--hard"]);

    assert_code(&r.guard(&["install"]), 0);
    let wt = tempfile::tempdir().unwrap();
    let wt_path = wt.path().join("wt");
    r.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        wt_path.to_str().unwrap(),
    ]);
    std::fs::write(
        wt_path.join("f.txt"),
        lines(20).replace("line 6\n", "six\n"),
    )
    .unwrap();
    let out = r
        .cmd("git")
        .current_dir(&wt_path)
        .args(["commit", "-qam", "unsigned"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("BLOCKED"),
        "{out:?}"
    );
    let out = r
        .cmd("git")
        .current_dir(&wt_path)
        .args(["commit", "-qam", &signed("signed", &[ALPHA, BETA])])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn commit_dash_a_uses_the_temporary_index() {
    let r = installed();
    touch_zone(&r, "x");
    let out = r.git_run(&["commit", "-qam", "unsigned"]);
    assert_blocked(&out);
    let out = r.git_run(&["commit", "-q", "-m", "unsigned", "--", "f.txt"]);
    assert_blocked(&out);
}

#[test]
fn shipped_hook_scripts_match_the_installed_ones() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for hook in ["pre-commit", "commit-msg", "pre-receive"] {
        let shipped = std::fs::read_to_string(root.join("hooks").join(hook)).unwrap();
        assert_eq!(shipped, guard::commands::hooks::script(hook, ""));
    }
    let yaml = std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).unwrap();
    assert!(yaml.contains("guard hook commit-msg"));
}

/// A user's edit of guard's installed hook is their work: `guard uninstall`
/// keeps it under a name it says, `guard install` refuses to overwrite it,
/// and `--force` keeps it as the backup that uninstall restores.
#[test]
fn an_edited_hook_is_never_overwritten_or_removed() {
    let r = Repo::new();
    r.commit("init");
    assert_code(&r.guard(&["install"]), 0);
    let hook = r.path().join(".git/hooks/pre-commit");
    let mut edited = std::fs::read_to_string(&hook).unwrap();
    edited.push_str("# my own line\n");
    std::fs::write(&hook, &edited).unwrap();
    let run = r.guard(&["install"]);
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains("is guard's hook edited since it was installed"),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), edited);
    let run = r.guard(&["uninstall"]);
    assert_code(&run, 0);
    let kept = r.path().join(".git/hooks/pre-commit.guard-edited");
    assert!(
        run.stdout.contains(&format!(
            "was edited since guard installed it: kept as {}",
            kept.display()
        )),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), edited);
    assert!(!hook.exists(), "guard's hook is gone");
    assert!(!r.path().join(".git/hooks/commit-msg").exists());
    std::fs::rename(&kept, &hook).unwrap();
    // --force keeps the edit as the backup, and uninstall brings it back.
    assert_code(&r.guard(&["install", "--force"]), 0);
    assert_ne!(std::fs::read_to_string(&hook).unwrap(), edited);
    assert_code(&r.guard(&["uninstall"]), 0);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), edited);
}

/// `--amend` as git parses the command line: a unique prefix (`--am`), an
/// alias, but not the message of `-m --amend`.
#[test]
fn amend_is_recognised_as_git_parses_the_command_line() {
    let r = installed();
    touch_zone(&r, "x");
    assert_eq!(r.commit_hooked(&signed("signed", &[ALPHA, BETA])).code, 0);
    let commit = |args: &[&str]| {
        let out = r
            .cmd("git")
            .args(args)
            .env_remove("GUARD_AMEND")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Abbreviated: still an amend, judged against HEAD's parent: blocked.
    let (code, err) = commit(&["commit", "-q", "--am", "-m", "no more sign-offs"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("BLOCKED staged change"), "{err}");
    assert!(!err.contains("cannot tell"), "{err}");
    // Through an alias.
    r.git(&["config", "alias.fixup-msg", "commit --amend"]);
    let (code, err) = commit(&["fixup-msg", "-q", "-m", "no more sign-offs"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(!err.contains("cannot tell"), "{err}");
    // A shell alias runs a git of its own, which is read.
    r.git(&["config", "alias.sh-amend", "!git commit --amend"]);
    let (code, err) = commit(&["sh-amend", "-q", "-m", "no more sign-offs"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(!err.contains("cannot tell"), "{err}");
    // A hook run where no committing git can be found: judged as an amend,
    // and said so.
    std::fs::write(r.file(".git/MSG"), "no more sign-offs\n").unwrap();
    let out = r
        .cmd(guard_bin())
        .args(["hook", "commit-msg", ".git/MSG"])
        .env_remove("GUARD_AMEND")
        .env("GIT_INDEX_FILE", r.file(".git/index"))
        .output()
        .unwrap();
    let all =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("cannot tell whether this commit amends HEAD"),
        "{all}"
    );
    // `-m --amend` is a message, not an amend: a new, empty-of-zones commit.
    r.write("other.txt", "x\n");
    r.git(&["add", "other.txt"]);
    let (code, err) = commit(&["commit", "-q", "-m", "--amend"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(r.git(&["log", "-1", "--format=%s"]), "--amend");
    assert_eq!(r.git(&["rev-list", "--count", "HEAD"]), "3");
}

/// A hook manager may run guard without `GIT_INDEX_FILE` (the pre-commit
/// framework once removed it, others scrub git's variables): the committing
/// git is still found among the hook's ancestors, and an amend that drops a
/// zone change's sign-offs is still judged as an amend.
#[test]
fn an_amend_is_found_when_a_hook_runs_without_git_index_file() {
    let r = installed();
    touch_zone(&r, "x");
    assert_eq!(r.commit_hooked(&signed("signed", &[ALPHA, BETA])).code, 0);
    for hook in ["pre-commit", "commit-msg"] {
        let path = r.file(&format!(".git/hooks/{hook}"));
        let text = std::fs::read_to_string(&path).unwrap();
        let (shebang, rest) = text.split_once('\n').unwrap();
        std::fs::write(&path, format!("{shebang}\nunset GIT_INDEX_FILE\n{rest}")).unwrap();
    }
    let out = amend_dropping_signoffs(&r);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("BLOCKED staged change"), "{err}");
    assert!(!err.contains("cannot tell"), "{err}");
    assert_eq!(r.git(&["log", "-1", "--format=%s"]), "signed");
}

/// git exits 1 when a hook refuses the commit; the hook's report says why.
#[track_caller]
fn assert_blocked(run: &Run) {
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.all().contains("BLOCKED") || run.all().contains("guard: blocked"),
        "{run:?}"
    );
}

/// With `i18n.commitEncoding` set to another encoding than UTF-8 the commit
/// will declare it, and its sign-offs will not count once committed: the
/// commit-msg hook reads none either, and says why (red team).
#[test]
fn the_commit_msg_hook_reads_no_sign_off_under_another_commit_encoding() {
    let r = installed();
    touch_zone(&r, "x");
    r.git(&["add", "f.txt"]);
    r.git(&["config", "i18n.commitEncoding", "UTF-16"]);
    let run = r.commit_hooked(&signed("signed", &[ALPHA, BETA]));
    assert_blocked(&run);
    assert!(
        run.all().contains("i18n.commitEncoding is \"UTF-16\""),
        "{run:?}"
    );
    r.git(&["config", "i18n.commitEncoding", "utf8"]);
    assert_eq!(r.commit_hooked(&signed("signed", &[ALPHA, BETA])).code, 0);
}
