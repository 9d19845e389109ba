//! `guard demo`: a throwaway repository modelled on the Jarvis backend, real
//! hooks, real `git commit`s, each verdict narrated and checked.

mod jarvis;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Outcome;
use crate::error::{Error, Result};

struct Demo {
    dir: PathBuf,
    home: PathBuf,
    guard: PathBuf,
    out: String,
    failures: Vec<String>,
}

struct Ran {
    code: i32,
    text: String,
}

const SIGNERS: [&str; 3] = [
    "Alpha <alpha@jarvis.example>",
    "Beta <beta@jarvis.example>",
    "Gamma <gamma@jarvis.example>",
];

fn message(subject: &str, signers: &[&str]) -> String {
    let mut m = format!(
        "{subject}\n\nWhy: load tests showed legitimate bursts being rejected\nImpact: rate limit only\nTests: tests/test_rate_limit.py\nRollback: revert this commit\n"
    );
    for s in signers {
        let _ = writeln!(m, "Signed-off-by: {s}");
    }
    m
}

impl Demo {
    fn cmd(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        for (k, _) in std::env::vars_os() {
            let k_str = k.to_string_lossy();
            if k_str.starts_with("GIT_") || k_str.starts_with("GUARD_") {
                c.env_remove(&k);
            }
        }
        c.current_dir(&self.dir)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Dev")
            .env("GIT_AUTHOR_EMAIL", "dev@jarvis.example")
            .env("GIT_COMMITTER_NAME", "Dev")
            .env("GIT_COMMITTER_EMAIL", "dev@jarvis.example")
            .env("NO_COLOR", "1");
        c
    }

    fn run(&self, program: &Path, args: &[&str]) -> Result<Ran> {
        let out = self
            .cmd(program)
            .args(args)
            .output()
            .map_err(|e| Error::context(format!("cannot run {}", program.display()), e))?;
        Ok(Ran {
            code: out.status.code().unwrap_or(-1),
            text: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        })
    }

    fn git(&self, args: &[&str]) -> Result<Ran> {
        self.run(Path::new("git"), args)
    }

    fn git_ok(&self, args: &[&str]) -> Result<String> {
        let r = self.git(args)?;
        if r.code != 0 {
            return Err(Error::new(format!(
                "git {} failed: {}",
                args.join(" "),
                r.text
            )));
        }
        Ok(r.text)
    }

    fn write(&self, path: &str, text: &str) -> Result<()> {
        let p = self.dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, text)?;
        Ok(())
    }

    fn read(&self, path: &str) -> Result<String> {
        Ok(std::fs::read_to_string(self.dir.join(path))?)
    }

    fn commit(&self, msg: &str, extra: &[&str]) -> Result<Ran> {
        self.git_ok(&["add", "-A"])?;
        let f = self.home.join("message");
        std::fs::write(&f, msg)?;
        let fs = f.display().to_string();
        let mut args = vec!["commit", "-q", "-F", fs.as_str()];
        args.extend_from_slice(extra);
        self.git(&args)
    }

    fn step(&mut self, title: &str, expect_pass: bool, ran: &Ran) {
        let passed = ran.code == 0;
        let verdict = if passed { "allowed" } else { "blocked" };
        let ok = passed == expect_pass;
        let _ = writeln!(
            self.out,
            "\n== {title}\n   expected: {}, got: {verdict}{}",
            if expect_pass { "allowed" } else { "blocked" },
            if ok { "" } else { "   <-- NOT AS NARRATED" }
        );
        for line in ran.text.lines().filter(|l| !l.trim().is_empty()) {
            let _ = writeln!(self.out, "   | {line}");
        }
        if !ok {
            self.failures.push(title.to_string());
        }
    }

    fn restore(&self) -> Result<()> {
        self.git_ok(&["reset", "-q", "--hard"])?;
        Ok(())
    }
}

fn unique_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("guard-demo-{}-{nanos}", std::process::id()))
}

pub fn run(keep: Option<&Path>) -> Result<Outcome> {
    let root = match keep {
        Some(k) => {
            if k.exists() && std::fs::read_dir(k)?.next().is_some() {
                return Err(Error::new(format!(
                    "{} exists and is not empty",
                    k.display()
                )));
            }
            k.to_path_buf()
        }
        None => unique_dir(),
    };
    let dir = root.join("jarvis");
    let home = root.join("home");
    std::fs::create_dir_all(&dir)?;
    std::fs::create_dir_all(&home)?;
    let guard = std::env::current_exe().map_err(|e| Error::context("cannot find guard", e))?;
    let mut d = Demo {
        dir,
        home,
        guard,
        out: String::new(),
        failures: Vec::new(),
    };
    let result = play(&mut d);
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    result?;
    let mut out = std::mem::take(&mut d.out);
    if d.failures.is_empty() {
        let _ = writeln!(out, "\nEvery step behaved as narrated.");
    } else {
        let _ = writeln!(
            out,
            "\nSteps that did not behave as narrated: {}",
            d.failures.join("; ")
        );
    }
    if let Some(k) = keep {
        let _ = writeln!(
            out,
            "The demo repository is kept in {}",
            k.join("jarvis").display()
        );
    }
    Ok(Outcome {
        code: u8::from(!d.failures.is_empty()),
        stdout: out,
        stderr: String::new(),
        ..Default::default()
    })
}

fn play(d: &mut Demo) -> Result<()> {
    let _ = writeln!(
        d.out,
        "guard demo: a Jarvis-like FastAPI + React repository whose security fixes live at known lines.\n\
         Rule: nobody changes them without sign-offs from two distinct instances (alpha, beta, gamma),\n\
         the CSP never without Enzo's validation, every such change records Why, Impact, Tests and\n\
         Rollback, and TrustedHostMiddleware never goes."
    );
    d.git_ok(&["init", "-q", "-b", "main"])?;
    d.write("backend/main.py", &jarvis::main_py())?;
    d.write("backend/auth/security.py", jarvis::SECURITY_PY)?;
    d.write("backend/config/secrets.py", jarvis::SECRETS_PY)?;
    d.write("frontend/public/index.html", jarvis::INDEX_HTML)?;
    d.write("frontend/src/components/Chat.jsx", jarvis::CHAT_JSX)?;
    d.write("README.md", "# Jarvis\n")?;
    d.write(
        "docs/SECURITY_FIXES_APPLIED.md",
        "# Security fixes applied\n\n- TrustedHostMiddleware, CSP, JWT on /chat\n",
    )?;
    d.write("guard.toml", jarvis::MANIFEST)?;
    d.git_ok(&["add", "-A"])?;
    d.git_ok(&["commit", "-q", "-m", "Jarvis with its security zones"])?;
    d.git_ok(&["checkout", "-q", "-b", "feature"])?;
    let guard = d.guard.clone();
    let zones = d.run(&guard, &["zones", "--verify"])?;
    d.step(
        "The manifest: every zone resolves (guard zones --verify)",
        true,
        &zones,
    );
    let install = d.run(&guard, &["install"])?;
    d.step("guard install puts the hooks in place", true, &install);

    d.write("README.md", "# Jarvis\n\nA voice assistant.\n")?;
    let r = d.commit("Describe the project", &[])?;
    d.step("An unrelated change passes", true, &r);

    let main = d.read("backend/main.py")?;
    let faster = main.replace("RATE_LIMIT_PER_MINUTE = 60", "RATE_LIMIT_PER_MINUTE = 120");
    d.write("backend/main.py", &faster)?;
    let r = d.commit(&message("Raise the rate limit", &[]), &[])?;
    d.step(
        "A change to the middleware without sign-offs is blocked",
        false,
        &r,
    );
    let r = d.commit(&message("Raise the rate limit", &SIGNERS[..1]), &[])?;
    d.step("One sign-off is not enough", false, &r);
    let r = d.commit(&message("Raise the rate limit", &SIGNERS[..2]), &[])?;
    d.step("Two distinct instances (alpha, beta) pass", true, &r);

    let html = d.read("frontend/public/index.html")?;
    d.write(
        "frontend/public/index.html",
        &html.replace(
            "object-src 'none'",
            "object-src 'none'; img-src 'self' data:",
        ),
    )?;
    let r = d.commit(&message("Allow inline images", &SIGNERS), &[])?;
    d.step(
        "The CSP counts only Enzo's sign-off: alpha, beta and gamma are blocked",
        false,
        &r,
    );
    let r = d.commit(
        &message("Allow inline images", &["Enzo <enzo@jarvis.example>"]),
        &[],
    )?;
    d.step("Enzo's sign-off passes the CSP change", true, &r);

    let main = d.read("backend/main.py")?;
    let with_import = main.replacen("import time\n", "import logging\nimport time\n", 1);
    d.write("backend/main.py", &with_import)?;
    let r = d.commit("Add logging import", &[])?;
    d.step(
        "An import at the top drifts every zone below it; the pre-commit hook rewrites guard.toml",
        true,
        &r,
    );
    let diff = d.git_ok(&["show", "--format=", "-U0", "HEAD", "--", "guard.toml"])?;
    let _ = writeln!(d.out, "   guard.toml as committed:");
    for line in diff
        .lines()
        .filter(|l| l.starts_with('+') || l.starts_with('-'))
    {
        if !line.starts_with("+++") && !line.starts_with("---") {
            let _ = writeln!(d.out, "   | {line}");
        }
    }

    let manifest = d.read("guard.toml")?;
    d.write(
        "guard.toml",
        &manifest.replace("lines = \"6-185\"", "lines = \"6-100\""),
    )?;
    let r = d.commit("Narrow the middleware zone", &[])?;
    d.step(
        "Shrinking a zone in guard.toml is a weakening: blocked",
        false,
        &r,
    );
    d.restore()?;

    let main = d.read("backend/main.py")?;
    let removed: String = main
        .lines()
        .filter(|l| !l.contains("TrustedHostMiddleware"))
        .map(|l| format!("{l}\n"))
        .collect();
    d.write("backend/main.py", &removed)?;
    let r = d.commit(&message("Drop TrustedHostMiddleware", &SIGNERS), &[])?;
    d.step(
        "Removing TrustedHostMiddleware is blocked even with three sign-offs",
        false,
        &r,
    );
    d.restore()?;
    coordinate(d)?;

    let main = d.read("backend/main.py")?;
    d.write(
        "backend/main.py",
        &main.replace(
            "str(body.get(\"message\", \"\"))[:4000]",
            "str(body.get(\"message\", \"\"))",
        ),
    )?;
    let r = d.commit("Allow longer chat messages", &["--no-verify"])?;
    d.step("A --no-verify commit slips past the hooks", true, &r);
    let slipped = d.git_ok(&["rev-parse", "HEAD"])?.trim().to_string();
    let r = d.run(&guard, &["check", "main..HEAD"])?;
    d.step("guard check main..HEAD (the CI step) catches it", false, &r);

    let r = d.run(&guard, &["audit", "main..HEAD"])?;
    d.step(
        "guard audit main..HEAD prints the trail (and flags the bypass)",
        false,
        &r,
    );

    let ratify = message(&format!("Ratify {}", &slipped[..10]), &SIGNERS[..2]).replacen(
        "\n\nWhy:",
        &format!("\n\nGuard-Ratify: {slipped}\nWhy:"),
        1,
    );
    let r = d.commit(&ratify, &["--allow-empty"])?;
    d.step(
        "A later commit ratifies it (Guard-Ratify, two sign-offs): no history rewritten",
        true,
        &r,
    );
    let r = d.run(&guard, &["check", "main..HEAD"])?;
    d.step("guard check main..HEAD now passes", true, &r);
    Ok(())
}

/// Co-change, a claim and a freeze: instances coordinating through the repository.
fn coordinate(d: &mut Demo) -> Result<()> {
    let guard = d.guard.clone();
    let security = d.read("backend/auth/security.py")?;
    let stricter = security
        .replace("< 32", "< 48")
        .replace("at least 32", "at least 48");
    d.write("backend/auth/security.py", &stricter)?;
    let r = d.commit(&message("Require longer secret keys", &SIGNERS[..2]), &[])?;
    d.step(
        "A signed change to auth/security.py that leaves the fixes log alone is blocked (also_change)",
        false,
        &r,
    );
    let log = d.read("docs/SECURITY_FIXES_APPLIED.md")?;
    d.write(
        "docs/SECURITY_FIXES_APPLIED.md",
        &format!("{log}- SECRET_KEY: at least 48 characters\n"),
    )?;
    let r = d.commit(&message("Require longer secret keys", &SIGNERS[..2]), &[])?;
    d.step("The same change with its log entry passes", true, &r);

    let claim = d.run(
        &guard,
        &[
            "claim",
            "csp",
            "--instance",
            "alpha",
            "--note",
            "CSP for websockets",
        ],
    )?;
    d.step("alpha claims the CSP zone (guard claim)", true, &claim);
    let r = d.commit(&message("alpha claims csp", &SIGNERS[..1]), &[])?;
    d.step(
        "The claim is committed in .guard/claims.toml, with alpha's sign-off",
        true,
        &r,
    );
    let html = d.read("frontend/public/index.html")?;
    d.write(
        "frontend/public/index.html",
        &html.replace(
            "connect-src 'self'",
            "connect-src 'self' https://cdn.jarvis.example",
        ),
    )?;
    let r = d.commit(
        &message("Allow the CDN", &["Enzo <enzo@jarvis.example>"]),
        &[],
    )?;
    d.step(
        "While alpha holds the claim, another's CSP change (signed by Enzo) is blocked",
        false,
        &r,
    );
    let r = d.commit(
        &message(
            "Allow the CDN",
            &["Enzo <enzo@jarvis.example>", "Alpha <alpha@jarvis.example>"],
        ),
        &[],
    )?;
    d.step("With alpha's sign-off too, it passes", true, &r);
    let release = d.run(&guard, &["release", "csp", "--instance", "alpha"])?;
    d.step("alpha releases the claim (guard release)", true, &release);
    let r = d.commit(&message("alpha releases csp", &SIGNERS[..1]), &[])?;
    d.step("The release is committed", true, &r);

    let freeze = d.run(
        &guard,
        &["freeze", "--reason", "incident 7: a token leaked"],
    )?;
    d.step(
        "An incident: guard freeze stops every zone change",
        true,
        &freeze,
    );
    let r = d.commit("Security freeze: incident 7", &[])?;
    d.step(
        "The freeze is committed (a tightening: no sign-off)",
        true,
        &r,
    );
    let main = d.read("backend/main.py")?;
    d.write(
        "backend/main.py",
        &main.replace("RATE_LIMIT_PER_MINUTE = 120", "RATE_LIMIT_PER_MINUTE = 90"),
    )?;
    let r = d.commit(&message("Lower the rate limit", &SIGNERS), &[])?;
    d.step(
        "During the freeze, a change signed by all three instances is blocked",
        false,
        &r,
    );
    d.restore()?;
    let status = d.run(&guard, &["status"])?;
    d.step(
        "guard status shows the freeze, the zones and their last changes",
        true,
        &status,
    );
    let thaw = d.run(&guard, &["thaw"])?;
    d.step("guard thaw lifts it in guard.toml", true, &thaw);
    let r = d.commit("Lift the freeze", &[])?;
    d.step(
        "Lifting the freeze is a weakening: blocked unsigned",
        false,
        &r,
    );
    let r = d.commit(&message("Lift the freeze", &SIGNERS[..2]), &[])?;
    d.step("Signed by two instances, the freeze is lifted", true, &r);
    Ok(())
}
