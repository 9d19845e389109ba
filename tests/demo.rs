//! Contract section 6, `guard demo`: every step behaves as narrated.

use crate::common::*;

#[test]
fn the_demo_plays_every_step_as_narrated() {
    let keep = tempfile::tempdir().unwrap();
    let dir = keep.path().join("demo");
    let out = run_demo(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("NOT AS NARRATED"), "{stdout}");
    for (title, verdict) in [
        ("An unrelated change passes", "got: allowed"),
        ("without sign-offs is blocked", "got: blocked"),
        ("One sign-off is not enough", "got: blocked"),
        ("Two distinct instances", "got: allowed"),
        ("The CSP counts only Enzo's sign-off", "got: blocked"),
        ("Enzo's sign-off passes", "got: allowed"),
        ("drifts every zone", "got: allowed"),
        ("Shrinking a zone", "got: blocked"),
        ("Removing TrustedHostMiddleware", "got: blocked"),
        ("leaves the fixes log alone is blocked", "got: blocked"),
        ("The same change with its log entry passes", "got: allowed"),
        ("alpha claims the CSP zone", "got: allowed"),
        (
            "another's CSP change (signed by Enzo) is blocked",
            "got: blocked",
        ),
        ("With alpha's sign-off too, it passes", "got: allowed"),
        ("The release is committed", "got: allowed"),
        (
            "a change signed by all three instances is blocked",
            "got: blocked",
        ),
        ("guard status shows the freeze", "got: allowed"),
        ("Lifting the freeze is a weakening", "got: blocked"),
        ("the freeze is lifted", "got: allowed"),
        ("--no-verify commit slips past", "got: allowed"),
        ("catches it", "got: blocked"),
        ("guard audit", "got: blocked"),
        ("A later commit ratifies it", "got: allowed"),
        ("now passes", "got: allowed"),
    ] {
        let at = stdout
            .find(title)
            .unwrap_or_else(|| panic!("no step {title:?}: {stdout}"));
        let rest = &stdout[at..];
        let line = rest.lines().nth(1).unwrap_or("");
        assert!(line.contains(verdict), "{title}: {line}");
    }
    // The kept repository holds the bypass commit and its ratification, and
    // guard's own CI step sees both.
    let repo = dir.join("jarvis");
    let out = std::process::Command::new(guard_bin())
        .current_dir(&repo)
        .args(["check", "main..feature"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Allow longer chat messages"), "{text}");
    assert!(text.contains("ratified by"), "{text}");
}
