//! What `guard fix` (and the pre-commit hook, which runs it) did to the
//! manifest: zones moved, zones gone, values left alone.

use std::fmt::Write as _;

use crate::Outcome;

/// What `guard fix` found and did.
#[derive(Debug, Default)]
pub struct Fixed {
    /// "zone: path A-B -> C-D", one per moved zone.
    pub moves: Vec<String>,
    /// Zones whose lines are all gone: nothing to rewrite them to.
    pub gone: Vec<String>,
    /// The staged manifest had edits not staged: nothing was staged.
    pub unstaged: bool,
    /// The manifest file was rewritten (and staged unless `unstaged`).
    pub wrote: bool,
    /// Zones whose value the user changed in the working tree, where guard
    /// would have written another: nothing was written.
    pub conflicts: Vec<String>,
    /// A commit of only some paths (`git commit -- PATHS`, `--only`): the
    /// commit's index is not the index, so nothing was staged.
    pub partial: bool,
    pub manifest: String,
}

pub fn describe(f: &Fixed) -> String {
    let mut s = String::new();
    for m in &f.moves {
        let _ = writeln!(s, "moved {m}");
    }
    for g in &f.gone {
        let _ = writeln!(
            s,
            "cannot fix {g}; remove or re-point the zone in {} (a weakening: it needs the sign-offs)",
            f.manifest
        );
    }
    for c in &f.conflicts {
        let _ = writeln!(
            s,
            "cannot fix {c}; you changed that value: nothing was written (set it by hand, or undo your edit and run guard fix)"
        );
    }
    if !f.moves.is_empty() && f.conflicts.is_empty() {
        if f.partial && f.wrote && !f.unstaged {
            let _ = writeln!(
                s,
                "this commit takes only some paths (git commit -- PATHS, --only), so the hook cannot stage {m} for both the commit and the index: it rewrote {m} in the working tree; commit again with {m} among the paths (git commit -- PATHS {m})",
                m = f.manifest
            );
        } else if f.unstaged && f.wrote {
            let _ = writeln!(
                s,
                "{} has unstaged edits: rewrote the working-tree file only; review it and `git add {}`",
                f.manifest, f.manifest
            );
        } else if f.unstaged {
            let _ = writeln!(
                s,
                "{} has unstaged edits: left it alone; run `guard fix`, review it, and `git add {}`",
                f.manifest, f.manifest
            );
        } else if f.wrote {
            let _ = writeln!(s, "rewrote and staged {}", f.manifest);
        }
    }
    s
}

/// `guard fix`'s outcome: 1 when a zone could not be fixed.
pub fn outcome(f: &Fixed) -> Outcome {
    let mut stdout = describe(f);
    if f.moves.is_empty() && f.gone.is_empty() {
        stdout.push_str("nothing to fix: every zone is where its code is\n");
    }
    Outcome {
        code: u8::from(!f.gone.is_empty() || !f.conflicts.is_empty()),
        stdout,
        stderr: String::new(),
        ..Default::default()
    }
}
