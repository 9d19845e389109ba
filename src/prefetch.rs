//! A second thread for long first-parent walks: while the main thread judges
//! the commits from the oldest on (which must be in order: zones move), a
//! worker with its own repository works from the newest back, looking up what
//! each commit changed under the manifest's roots and diffing the changed
//! files. The main thread takes those results instead of computing them, and
//! the two stop where they meet. Whatever the worker has not done (or did for
//! other roots, after a zone moved to another file) the main thread computes
//! itself, so results never depend on timing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::change::{FileChange, Hunk, Kind};
use crate::git::{Repo, Step};
use crate::graph::BloomKey;

/// A changed file's hunks, and whether either version is binary.
pub type Diffed = (Vec<Hunk>, bool);

/// What the worker found, keyed by (old tree, new tree) and (old blob, new blob).
pub struct Shared {
    /// The roots the changes were looked up under (sorted, unique).
    pub roots: Vec<String>,
    pub changes: Mutex<HashMap<(String, String), Vec<FileChange>>>,
    pub hunks: Mutex<HashMap<(String, String), Diffed>>,
}

/// Fewer commits than this are not worth a thread.
const MIN_STEPS: usize = 200;

/// Run `body` (the main thread's walk over `steps`, which stores the index of
/// the step it is on in the given counter) with a worker prefetching from the
/// far end, when there are two cores and enough steps.
pub fn with_worker<T>(
    repo: &Repo,
    steps: &[Step],
    roots: &[&str],
    body: impl FnOnce(&AtomicUsize) -> T,
) -> T {
    let progress = AtomicUsize::new(0);
    if steps.len() < MIN_STEPS || crate::threads() < 2 {
        return body(&progress);
    }
    let mut sorted: Vec<String> = roots.iter().map(|r| r.to_string()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let shared = Arc::new(Shared {
        roots: sorted,
        changes: Mutex::new(HashMap::new()),
        hunks: Mutex::new(HashMap::new()),
    });
    repo.share(Some(shared.clone()));
    let out = std::thread::scope(|s| {
        s.spawn(|| worker(steps, &shared, &progress));
        let out = body(&progress);
        progress.store(usize::MAX, Ordering::Relaxed);
        out
    });
    repo.share(None);
    out
}

fn worker(steps: &[Step], shared: &Shared, progress: &AtomicUsize) {
    let Ok(repo) = Repo::open() else {
        return;
    };
    let roots: Vec<&str> = shared.roots.iter().map(String::as_str).collect();
    let keys: Vec<BloomKey> = if roots.iter().all(|r| !r.is_empty()) {
        roots.iter().map(|r| BloomKey::new(r)).collect()
    } else {
        Vec::new()
    };
    for i in (0..steps.len()).rev() {
        if progress.load(Ordering::Relaxed) >= i {
            return;
        }
        let step = &steps[i];
        if let Some(pos) = step.pos
            && !keys.is_empty()
            && repo.graph_unchanged(pos, &keys)
        {
            continue;
        }
        let Ok(changes) = repo.changes(&step.base, &step.tree, &roots) else {
            return;
        };
        for c in &changes {
            if let (Some(o), Some(n)) = (&c.old, &c.new)
                && matches!(o.kind, Kind::File | Kind::Executable)
                && matches!(n.kind, Kind::File | Kind::Executable)
                && o.id != n.id
                && let Ok(h) = repo.hunks(&o.id, &n.id)
                && let (Ok(old), Ok(new)) = (repo.blob(&o.id), repo.blob(&n.id))
                && let Ok(mut map) = shared.hunks.lock()
            {
                let binary = crate::change::is_binary(&old) || crate::change::is_binary(&new);
                map.insert((o.id.clone(), n.id.clone()), (h, binary));
            }
        }
        if let (crate::git::Side::Tree(o), crate::git::Side::Tree(n)) = (&step.base, &step.tree)
            && let Ok(mut map) = shared.changes.lock()
        {
            map.insert((o.clone(), n.clone()), changes);
        }
    }
}
