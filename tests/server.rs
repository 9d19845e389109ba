//! Contract section 6, "Server side": bare repositories, and the pre-receive
//! hook that refuses a push, tested with real pushes (file:// and git://).

use crate::common::*;

/// A bare repository with guard's server hook, and a clone to push from whose
/// main holds a zone `z` (f.txt lines 5-10) already on the server.
fn server() -> (Repo, Repo) {
    let srv = Repo::new();
    std::fs::remove_dir_all(srv.file(".git")).unwrap();
    srv.git(&["init", "-q", "--bare", "-b", "main", "."]);
    let run = srv.guard(&["install", "--server"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("pre-receive: installed"), "{run:?}");
    let w = Repo::new();
    w.write("f.txt", &lines(20));
    w.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\n"),
    );
    w.commit("init");
    w.git(&["remote", "add", "origin", srv.path().to_str().unwrap()]);
    let push = w.git_run(&["push", "-q", "origin", "main"]);
    assert_code(&push, 0);
    (srv, w)
}

fn server_head(srv: &Repo, branch: &str) -> String {
    srv.git(&[
        "rev-parse",
        "--verify",
        "-q",
        &format!("refs/heads/{branch}"),
    ])
}

fn edit_zone(w: &Repo, text: &str, who: &[&str]) {
    w.write(
        "f.txt",
        &lines(20).replace("line 7\n", &format!("{text}\n")),
    );
    w.commit_message(&signed("edit the zone", who));
}

#[track_caller]
fn assert_refused(push: &Run, why: &str) {
    assert_ne!(push.code, 0, "{push:?}");
    assert!(
        push.stderr.contains("pre-receive hook declined"),
        "{push:?}"
    );
    assert!(push.stderr.contains(why), "{why}: {push:?}");
    assert!(
        push.stderr.contains("remote: guard: the push is refused"),
        "{push:?}"
    );
}

#[test]
fn commands_that_read_commits_work_in_a_bare_repository() {
    let (srv, w) = server();
    edit_zone(&w, "seven", &[]);
    let id = w.git(&["rev-parse", "HEAD"]);
    // Fetched by the server (no hook runs): the commands judge it there.
    srv.git(&[
        "fetch",
        "-q",
        w.path().to_str().unwrap(),
        "main:refs/tmp/edit",
    ]);
    let run = srv.guard(&["check", &id]);
    assert_code(&run, 1);
    assert!(run.stdout.contains("BLOCKED commit"), "{run:?}");
    assert_code(&srv.guard(&["check", &format!("{id}~..{id}")]), 1);
    assert_code(&srv.guard(&["audit", &format!("{id}~..{id}")]), 1);
    assert_code(&srv.guard(&["zones", "--rev", &id]), 0);
    let digest = srv.guard(&["digest", &id]);
    assert_code(&digest, 0);
    assert_eq!(digest.stdout, w.guard(&["digest", "HEAD"]).stdout);
    let staged = srv.guard(&["check"]);
    assert_code(&staged, 2);
    assert!(staged.stderr.contains("needs a work tree"), "{staged:?}");
}

#[test]
fn an_unsigned_zone_edit_is_refused_at_the_server_and_a_signed_one_lands() {
    let (srv, w) = server();
    let before = server_head(&srv, "main");
    edit_zone(&w, "seven", &[]);
    let push = w.git_run(&["push", "origin", "main"]);
    assert_refused(&push, "remote: BLOCKED commit");
    assert!(push.stderr.contains("remote:       + seven"), "{push:?}");
    assert_eq!(server_head(&srv, "main"), before);
    w.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        &signed("edit the zone", &[ALPHA, BETA]),
    ]);
    let push = w.git_run(&["push", "origin", "main"]);
    assert_code(&push, 0);
    assert_eq!(server_head(&srv, "main"), w.git(&["rev-parse", "HEAD"]));
}

#[test]
fn a_push_of_several_branches_is_judged_as_one() {
    let (srv, w) = server();
    let before = server_head(&srv, "main");
    w.git(&["checkout", "-q", "-b", "good"]);
    w.write("other.txt", "fine\n");
    w.commit("unprotected");
    w.git(&["checkout", "-q", "-b", "bad", "main"]);
    edit_zone(&w, "seven", &[]);
    let push = w.git_run(&["push", "origin", "good", "bad"]);
    assert_refused(&push, "BLOCKED commit");
    // Neither branch landed.
    assert_eq!(
        srv.git_run(&["rev-parse", "-q", "--verify", "refs/heads/good"])
            .code,
        1
    );
    assert_eq!(
        srv.git_run(&["rev-parse", "-q", "--verify", "refs/heads/bad"])
            .code,
        1
    );
    assert_eq!(server_head(&srv, "main"), before);
}

#[test]
fn a_push_whose_merge_brings_an_orphan_branch_is_refused() {
    let (srv, w) = server();
    w.git(&["checkout", "-q", "--orphan", "orphan"]);
    w.write("f.txt", &lines(20).replace("line 7\n", "no auth\n"));
    w.commit("orphan history");
    w.git(&["checkout", "-q", "main"]);
    w.git(&[
        "merge",
        "-q",
        "--no-verify",
        "--allow-unrelated-histories",
        "-X",
        "theirs",
        "-m",
        "merge",
        "orphan",
    ]);
    let before = server_head(&srv, "main");
    let push = w.git_run(&["push", "origin", "main"]);
    assert_refused(&push, "brought by commits judged by no manifest");
    assert_eq!(server_head(&srv, "main"), before);
}

#[test]
fn a_forced_update_that_takes_a_signed_fix_away_is_refused() {
    let (srv, w) = server();
    edit_zone(&w, "fixed", &[ALPHA, BETA]);
    assert_code(&w.git_run(&["push", "-q", "origin", "main"]), 0);
    let fixed = server_head(&srv, "main");
    let push = w.git_run(&["push", "-f", "origin", "HEAD~:main"]);
    assert_refused(&push, "forced update");
    assert!(
        push.stderr
            .contains("carried by no commit with consent (reverts to merge-base content)"),
        "{push:?}"
    );
    assert_eq!(server_head(&srv, "main"), fixed);
    // A forced update that takes nothing protected away lands.
    w.write("other.txt", "x\n");
    w.commit("unprotected");
    assert_code(&w.git_run(&["push", "-q", "origin", "main"]), 0);
    assert_code(&w.git_run(&["push", "-q", "-f", "origin", "HEAD~:main"]), 0);
    assert_eq!(server_head(&srv, "main"), fixed);
}

/// A fast-forward onto a branch that merged main with `-s ours`: every
/// commit passes against its own first parent, yet main's signed fix goes.
#[test]
fn a_fast_forward_that_drops_a_signed_fix_is_refused() {
    let (srv, w) = server();
    w.git(&["branch", "topic"]);
    edit_zone(&w, "fixed", &[ALPHA, BETA]);
    assert_code(&w.git_run(&["push", "-q", "origin", "main"]), 0);
    let fixed = server_head(&srv, "main");
    w.git(&["checkout", "-q", "topic"]);
    w.write("other.txt", "x\n");
    w.commit("topic work");
    w.git(&[
        "merge",
        "-q",
        "--no-verify",
        "-s",
        "ours",
        "-m",
        "merge main",
        "main",
    ]);
    assert_eq!(w.read("f.txt"), lines(20));
    let push = w.git_run(&["push", "origin", "topic:main"]);
    assert_refused(&push, "update of refs/heads/main");
    assert_eq!(server_head(&srv, "main"), fixed);
}

#[test]
fn deleting_a_branch_and_pushing_tags_behave_as_documented() {
    let (srv, w) = server();
    w.git(&["push", "-q", "origin", "main:topic"]);
    let push = w.git_run(&["push", "origin", ":topic"]);
    assert_code(&push, 0);
    assert!(
        push.stderr
            .contains("remote: guard: refs/heads/topic: deleted"),
        "{push:?}"
    );
    // A tag that brings a blocked commit is refused like a branch.
    edit_zone(&w, "seven", &[]);
    w.git(&["tag", "-a", "-m", "t", "v1"]);
    let push = w.git_run(&["push", "origin", "v1"]);
    assert_refused(&push, "BLOCKED commit");
    assert_eq!(
        srv.git_run(&["rev-parse", "-q", "--verify", "refs/tags/v1"])
            .code,
        1
    );
    // Moving a tag back past a signed fix is judged like a branch update.
    w.git(&["reset", "-q", "--hard", "HEAD~"]);
    edit_zone(&w, "fixed", &[ALPHA, BETA]);
    w.git(&["tag", "-f", "-a", "-m", "v2", "v2"]);
    assert_code(&w.git_run(&["push", "-q", "origin", "main", "v2"]), 0);
    w.git(&["tag", "-f", "-a", "-m", "v2", "v2", "HEAD~"]);
    let push = w.git_run(&["push", "-f", "origin", "v2"]);
    assert_refused(&push, "update of refs/tags/v2");
}

#[test]
fn the_update_hook_judges_one_ref() {
    let (srv, w) = server();
    edit_zone(&w, "seven", &[]);
    let id = w.git(&["rev-parse", "HEAD"]);
    srv.git(&["fetch", "-q", w.path().to_str().unwrap(), "main:refs/tmp/x"]);
    let old = w.git(&["rev-parse", "HEAD~"]);
    let run = srv.guard(&["hook", "update", "refs/heads/main", &old, &id]);
    // refs/tmp/x now holds it: nothing new, but the update is still judged.
    assert_code(&run, 1);
    assert!(run.stderr.contains("update of refs/heads/main"), "{run:?}");
    let bad = srv.guard(&["hook", "update", "refs/heads/main", "nothex", &id]);
    assert_code(&bad, 2);
}

#[test]
fn install_server_chains_an_existing_pre_receive_and_refuses_a_work_tree() {
    let srv = Repo::new();
    std::fs::remove_dir_all(srv.file(".git")).unwrap();
    srv.git(&["init", "-q", "--bare", "-b", "main", "."]);
    write_script(
        &srv.file("hooks/pre-receive"),
        "#!/bin/sh\ncat > \"$(dirname \"$0\")/seen\"\n",
    );
    let run = srv.guard(&["install", "--server"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("still runs first"), "{run:?}");
    let w = Repo::new();
    w.write("a.txt", "a\n");
    w.commit("init");
    w.git(&["push", "-q", srv.path().to_str().unwrap(), "main"]);
    // The chained hook saw the same updates guard judged.
    let seen = std::fs::read_to_string(srv.file("hooks/seen")).unwrap();
    assert!(seen.ends_with(" refs/heads/main\n"), "{seen:?}");
    assert_code(&w.guard(&["install", "--server"]), 2);
    assert_code(&srv.guard(&["install"]), 2);
}

/// Over git's own protocol: `git daemon --enable=receive-pack`.
#[test]
fn a_push_over_git_daemon_is_refused_with_the_report() {
    let (srv, w) = server();
    let exec_path = srv.git(&["--exec-path"]);
    let daemon_bin = std::path::Path::new(&exec_path).join("git-daemon");
    if !daemon_bin.exists() {
        eprintln!(
            "SKIPPED: git daemon is not installed here ({} is missing)",
            daemon_bin.display()
        );
        return;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = srv.path().parent().unwrap().to_str().unwrap().to_string();
    // git-daemon itself (not the `git` wrapper), so that killing it ends it;
    // no inherited stdout, which would keep the test's output open.
    let mut daemon = srv
        .cmd(daemon_bin.to_str().unwrap())
        .args([
            "--enable=receive-pack",
            "--export-all",
            "--reuseaddr",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            &format!("--base-path={base}"),
            &base,
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let name = srv
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let url = format!("git://127.0.0.1:{port}/{name}");
    let result = std::panic::catch_unwind(|| {
        assert!(up, "git daemon did not start");
        edit_zone(&w, "seven", &[]);
        let push = w.git_run(&["push", &url, "main"]);
        assert_refused(&push, "remote: BLOCKED commit");
        w.git(&[
            "commit",
            "-q",
            "--amend",
            "-m",
            &signed("edit", &[ALPHA, BETA]),
        ]);
        assert_code(&w.git_run(&["push", &url, "main"]), 0);
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    assert_eq!(server_head(&srv, "main"), w.git(&["rev-parse", "HEAD"]));
}

/// A replacement ref makes git on the server show other bytes for a zoned
/// file on every branch (`git show main:f.txt`, a checkout, a mirror) while
/// no commit changed: such a push is refused; deleting one is not (red team).
#[test]
fn a_push_of_a_replacement_ref_is_refused() {
    let (srv, w) = server();
    let old = w.git(&["rev-parse", "HEAD:f.txt"]);
    w.write("evil.txt", &lines(20).replace("line 7\n", "backdoor\n"));
    let new = w.git(&["hash-object", "-w", "evil.txt"]);
    w.git(&["replace", &old, &new]);
    let name = format!("refs/replace/{old}");
    let push = w.git_run(&["push", "-q", "origin", &format!("{name}:{name}")]);
    assert_refused(&push, &format!("{name}: a replacement ref"));
    assert!(!srv.git(&["show", "main:f.txt"]).contains("backdoor"));
    assert_eq!(
        srv.git_run(&["rev-parse", "--verify", "-q", &name]).code,
        1,
        "the ref was not created"
    );
    // Any name under refs/replace/ is refused, whatever follows.
    let other = w.git_run(&["push", "-q", "origin", "HEAD:refs/replace/x"]);
    assert_refused(&other, "refs/replace/x: a replacement ref");
    // A deletion is allowed (git has nothing to delete here).
    let delete = w.git_run(&["push", "-q", "origin", &format!(":{name}")]);
    assert!(!delete.stderr.contains("a replacement ref"), "{delete:?}");
}

/// A tag of a tree holds content no commit brought (`git archive` of it
/// ships a changed zone no judgment saw): refused, as guard judges commits
/// (red team).
#[test]
fn a_push_of_a_ref_to_a_tree_is_refused() {
    let (srv, w) = server();
    w.write("f.txt", &lines(20).replace("line 7\n", "no auth\n"));
    w.git(&["add", "f.txt"]);
    let tree = w.git(&["write-tree"]);
    w.git(&["reset", "-q", "--hard"]);
    w.git(&["tag", "-a", "-m", "release", "v2.0", &tree]);
    let push = w.git_run(&["push", "-q", "origin", "v2.0"]);
    assert_refused(&push, "refs/tags/v2.0: names no commit (a tree or a blob)");
    assert_eq!(
        srv.git_run(&["rev-parse", "--verify", "-q", "refs/tags/v2.0"])
            .code,
        1
    );
}
