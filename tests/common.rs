//! Fixture repositories built in temp dirs, with a hermetic git.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const ALPHA: &str = "Alpha <alpha@jarvis.example>";
pub const BETA: &str = "Beta <beta@jarvis.example>";
pub const GAMMA: &str = "Gamma <gamma@jarvis.example>";

/// A manifest with three instances and the given extra text (zones, …).
pub fn manifest(extra: &str) -> String {
    format!(
        r#"version = 1

[[instance]]
id = "alpha"
emails = ["alpha@jarvis.example"]

[[instance]]
id = "beta"
emails = ["beta@jarvis.example", "beta2@jarvis.example"]

[[instance]]
id = "gamma"
emails = ["gamma@jarvis.example"]
{extra}"#
    )
}

/// A repository with f.txt (20 numbered lines) and one zone "z" on its
/// lines 5-10, committed.
pub fn zoned_repo() -> Repo {
    let r = Repo::new();
    r.write("f.txt", &lines(20));
    r.write(
        "guard.toml",
        &manifest("\n[[zone]]\nid = \"z\"\npath = \"f.txt\"\nlines = \"5-10\"\n"),
    );
    r.commit("init");
    r
}

/// `n` numbered lines: "line 1\n" … "line n\n".
pub fn lines(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

pub struct Repo {
    pub dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together (git sends a hook's stdout to stderr).
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A finished process as a [`Run`].
pub fn run_of(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn guard_bin() -> &'static str {
    env!("CARGO_BIN_EXE_guard")
}

impl Repo {
    pub fn new() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.name", "Author"]);
        r.git(&["config", "user.email", "author@jarvis.example"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command with git's environment made hermetic.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("GIT_")
                || k == "GUARD_MANIFEST"
                || k == "GUARD_BASE"
                || k == "EMAIL"
            {
                c.env_remove(k);
            }
        }
        c.current_dir(self.path())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("GUARD_AMEND", "0")
            .env_remove("NO_COLOR");
        c
    }

    pub fn git_run(&self, args: &[&str]) -> Run {
        run_of(self.cmd("git").args(args).output().unwrap())
    }

    /// Run git, asserting success; returns stdout trimmed.
    pub fn git(&self, args: &[&str]) -> String {
        let r = self.git_run(args);
        assert_eq!(r.code, 0, "git {args:?} failed: {r:?}");
        r.stdout.trim().to_string()
    }

    pub fn guard(&self, args: &[&str]) -> Run {
        run_of(self.cmd(guard_bin()).args(args).output().unwrap())
    }

    pub fn write(&self, path: &str, content: &str) {
        self.write_bytes(path, content.as_bytes());
    }

    pub fn write_bytes(&self, path: &str, content: &[u8]) {
        let p = self.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.path().join(path)).unwrap()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// Merge `branch` into the current branch as a merge commit, without hooks.
    pub fn merge_no_ff(&self, branch: &str, message: &str) {
        self.git(&[
            "merge",
            "-q",
            "--no-ff",
            "--no-verify",
            branch,
            "-m",
            message,
        ]);
    }

    /// Feed `stream` to `git fast-import --force`, asserting success: long
    /// or large histories without a process per commit.
    pub fn fast_import(&self, stream: &[u8]) {
        self.git_input(&["fast-import", "--quiet", "--force"], stream);
    }

    /// Run git with `input` on its stdin; asserts success, returns its
    /// stdout, trimmed.
    pub fn git_input(&self, args: &[&str], input: &[u8]) -> String {
        use std::io::Write;
        let mut child = self
            .cmd("git")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?} failed");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Stage everything and commit without hooks; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&[
            "commit",
            "-q",
            "--no-verify",
            "--allow-empty",
            "-m",
            message,
        ]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Stage everything and commit `message` as given, without hooks.
    pub fn commit_message(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
    }

    /// Stage everything and commit through the hooks.
    pub fn commit_hooked(&self, message: &str) -> Run {
        self.git(&["add", "-A"]);
        self.git_run(&["commit", "-q", "-m", message])
    }
}

/// Replace "line N" of `file` (as [`lines`] writes them) with "edited N".
pub fn edit(r: &Repo, file: &str, line: usize) {
    let text = r
        .read(file)
        .replace(&format!("line {line}\n"), &format!("edited {line}\n"));
    r.write(file, &text);
}

/// Play `guard demo`, keeping its repositories under `dir`.
pub fn run_demo(dir: &Path) -> Output {
    Command::new(guard_bin())
        .args(["demo", "--keep", dir.to_str().unwrap()])
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap()
}

/// A message with a subject and sign-off trailers from `who`.
pub fn signed(subject: &str, who: &[&str]) -> String {
    let mut m = format!("{subject}\n\n");
    for w in who {
        m.push_str(&format!("Signed-off-by: {w}\n"));
    }
    m
}

#[track_caller]
pub fn assert_code(r: &Run, code: i32) {
    assert_eq!(r.code, code, "unexpected exit code: {r:?}");
}

/// Write an executable script (a hook, a stub).
pub fn write_script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// An OpenSSH key pair `keys/NAME` of `kind` in the repository; its public line.
pub fn keygen(r: &Repo, name: &str, kind: &str) -> String {
    let path = r.file(&format!("keys/{name}"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let out = r
        .cmd("ssh-keygen")
        .args(["-q", "-t", kind, "-N", "", "-C", name, "-f"])
        .arg(&path)
        .output()
        .expect("ssh-keygen is needed for the signature tests");
    assert!(out.status.success(), "{out:?}");
    std::fs::read_to_string(format!("{}.pub", path.display()))
        .unwrap()
        .trim()
        .to_string()
}
