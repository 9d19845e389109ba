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
use std::sync::{Arc, Condvar, Mutex};

use crate::Result;
use crate::change::{FileChange, Kind};
use crate::git::graph::BloomKey;
use crate::git::raw::TreeHit;
use crate::git::{Repo, Step};
use crate::manifest::LineRange;
use git2::Oid;

/// A changed file's hunks, and whether either version is binary.
pub use super::store::{Diffed, Undiffed};

/// What the worker found, keyed by (old tree, new tree) and (old blob, new blob).
pub struct Shared {
    /// The roots the changes were looked up under (sorted, unique).
    pub roots: Vec<String>,
    pub changes: Mutex<HashMap<(String, String), Vec<FileChange>>>,
    pub hunks: Mutex<HashMap<(String, String), Diffed>>,
    /// The zone lines per file the main thread last judged by (a hint: it
    /// moves on as zones move). A changed file listed here is diffed only
    /// when a zone's answer needs the diff ([`crate::zones::without_diff`]);
    /// one not listed (a whole-file or glob zone's) always is. Wrong or
    /// stale, the hint only moves work between the threads: what the worker
    /// did not diff, the main thread diffs.
    pub zones: Mutex<HashMap<String, Vec<LineRange>>>,
    /// What was found of the text pairs not diffed, so that the main thread
    /// need not read them to answer their zones the same way.
    pub undiffed: Mutex<HashMap<(String, String), Undiffed>>,
    /// The entry at each root in the base tree of each step that changes
    /// something under the roots, so that the main thread, which asks some
    /// of them (the claims in force), need not read a tree the worker read.
    pub lookups: Mutex<HashMap<(Oid, String), Option<TreeHit>>>,
}

/// Fewer commits than this are not worth a thread.
const MIN_STEPS: usize = 200;

/// Steps as the walk finds them, newest first, for the worker: each with
/// its index among all the walk's steps. A step the commit-graph's filters
/// say changed nothing under the roots is not fed (22,000 steps of git/git's
/// first-parent history fed one by one cost the walk a third more).
struct Feed {
    steps: Mutex<Vec<(usize, Step)>>,
    ready: Condvar,
    /// How many steps the walk found (`usize::MAX` while it runs).
    total: AtomicUsize,
}

/// Walk (`walk` reports each step to its callback as it finds it, newest
/// first, and returns them all oldest first), then run `body` over the steps:
/// it stores the index of the step it is on in the given counter. With two
/// cores and enough steps, a worker starts on the newest steps while the walk
/// is still running.
pub fn with_worker<T>(
    repo: &Repo,
    roots: &[&str],
    zones: HashMap<String, Vec<LineRange>>,
    walk: impl FnOnce(&mut dyn FnMut(&Step)) -> Result<Vec<Step>>,
    body: impl FnOnce(&[Step], &AtomicUsize) -> Result<T>,
) -> Result<T> {
    let progress = AtomicUsize::new(0);
    if crate::threads() < 2 {
        let steps = walk(&mut |_| {})?;
        return body(&steps, &progress);
    }
    let mut sorted: Vec<String> = roots.iter().map(|r| r.to_string()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let shared = Arc::new(Shared {
        roots: sorted,
        changes: Mutex::new(HashMap::new()),
        hunks: Mutex::new(HashMap::new()),
        zones: Mutex::new(zones),
        undiffed: Mutex::new(HashMap::new()),
        lookups: Mutex::new(HashMap::new()),
    });
    let feed = Feed {
        steps: Mutex::new(Vec::new()),
        ready: Condvar::new(),
        total: AtomicUsize::new(usize::MAX),
    };
    let keys = BloomKey::for_roots(&shared.roots);
    let unchanged = |step: &Step| {
        step.pos
            .is_some_and(|pos| !keys.is_empty() && repo.graph_unchanged(pos, &keys))
    };
    repo.share(Some(shared.clone()));
    let stop = || {
        progress.store(usize::MAX, Ordering::Relaxed);
        feed.ready.notify_all();
    };
    let out = std::thread::scope(|s| {
        let (mut fed, mut started) = (0usize, false);
        let mut start = || {
            if !started {
                started = true;
                s.spawn(|| worker(&feed, &shared, &progress));
            }
        };
        let walked = walk(&mut |step| {
            let k = fed;
            fed += 1;
            if !unchanged(step) {
                if let Ok(mut v) = feed.steps.lock() {
                    v.push((k, step.clone()));
                }
                feed.ready.notify_one();
            }
            if fed >= MIN_STEPS {
                start();
            }
        });
        let steps = match walked {
            Ok(steps) => steps,
            Err(e) => {
                stop();
                return Err(e);
            }
        };
        if steps.len() >= MIN_STEPS {
            if fed == 0
                && let Ok(mut v) = feed.steps.lock()
            {
                // The walk reported nothing (git's revision walk): all at once.
                v.extend(steps.iter().rev().cloned().enumerate());
            }
            start();
        }
        feed.total.store(steps.len(), Ordering::Relaxed);
        feed.ready.notify_all();
        let out = body(&steps, &progress);
        stop();
        out
    });
    repo.share(None);
    out
}

fn worker(feed: &Feed, shared: &Shared, progress: &AtomicUsize) {
    let Ok(repo) = Repo::open() else {
        return;
    };
    let roots: Vec<&str> = shared.roots.iter().map(String::as_str).collect();
    // The text pairs not diffed by the hint, newest first (by step).
    let mut skipped: Vec<(usize, String, String)> = Vec::new();
    for j in 0.. {
        let (k, step) = {
            let Ok(mut v) = feed.steps.lock() else {
                return;
            };
            loop {
                if progress.load(Ordering::Relaxed) == usize::MAX {
                    return;
                }
                if let Some(step) = v.get(j) {
                    break step.clone();
                }
                let total = feed.total.load(Ordering::Relaxed);
                if total != usize::MAX {
                    drop(v);
                    diff_skipped(&repo, shared, progress, total, &skipped);
                    return;
                }
                v = match feed
                    .ready
                    .wait_timeout(v, std::time::Duration::from_millis(5))
                {
                    Ok((v, _)) => v,
                    Err(_) => return,
                };
            }
        };
        // Stop where the main thread (oldest first) has come to.
        let total = feed.total.load(Ordering::Relaxed);
        if total != usize::MAX && progress.load(Ordering::Relaxed).saturating_add(k + 1) >= total {
            diff_skipped(&repo, shared, progress, total, &skipped);
            return;
        }
        let step = &step;
        let Ok(changes) = repo.changes(&step.base, &step.tree, &roots) else {
            return;
        };
        for c in &changes {
            if let (Some(o), Some(n)) = (&c.old, &c.new)
                && matches!(o.kind, Kind::File | Kind::Executable)
                && matches!(n.kind, Kind::File | Kind::Executable)
                && o.id != n.id
                && let (Ok(old), Ok(new)) = (repo.blob(&o.id), repo.blob(&n.id))
            {
                // A binary file is never diffed: git does not either.
                let binary = crate::change::is_binary(&old) || crate::change::is_binary(&new);
                let hunks = if binary {
                    Vec::new()
                } else if let Some(found) = undiffed_answers(shared, &c.path, &old, &new) {
                    if let Ok(mut map) = shared.undiffed.lock() {
                        map.insert((o.id.clone(), n.id.clone()), found);
                    }
                    skipped.push((k, o.id.clone(), n.id.clone()));
                    continue;
                } else {
                    match repo.hunks(&o.id, &n.id) {
                        Ok(h) => h,
                        Err(_) => continue,
                    }
                };
                if let Ok(mut map) = shared.hunks.lock() {
                    map.insert((o.id.clone(), n.id.clone()), (hunks, binary));
                }
            }
        }
        if let (crate::git::Side::Tree(o), crate::git::Side::Tree(n)) = (&step.base, &step.tree) {
            // Only a step that changes something is judged further.
            if !changes.is_empty() {
                publish_lookups(&repo, shared, o);
            }
            if let Ok(mut map) = shared.changes.lock() {
                map.insert((o.clone(), n.clone()), changes);
            }
        }
    }
}

/// Publish the entry at each root of a step's base `tree` (read, or cached,
/// for the step's changes: lookups in it cost the worker no tree read).
fn publish_lookups(repo: &Repo, shared: &Shared, tree: &str) {
    let Ok(tree) = super::oid(tree) else {
        return;
    };
    let mut found = Vec::new();
    for r in &shared.roots {
        match repo.raw_entry(tree, r) {
            Ok(hit) => found.push(((tree, r.clone()), hit)),
            Err(_) => return,
        }
    }
    if let Ok(mut map) = shared.lookups.lock() {
        map.extend(found);
    }
}

/// Once the worker has met the main thread: diff the pairs the hint let it
/// skip, in the order the main thread will come to them (oldest first), as
/// long as the main thread has not: the hint holds the zones where the main
/// thread was, and zones move, so it may yet need a diff the hint spared.
/// The worker would otherwise wait while the main thread computes them.
fn diff_skipped(
    repo: &Repo,
    shared: &Shared,
    progress: &AtomicUsize,
    total: usize,
    skipped: &[(usize, String, String)],
) {
    for (k, old, new) in skipped.iter().rev() {
        // Step `k` (newest first) is step `total - 1 - k` of the main
        // thread's, which may have passed it; `usize::MAX`: it has finished.
        let at = progress.load(Ordering::Relaxed);
        if at == usize::MAX {
            return;
        }
        if at.saturating_add(*k + 1) >= total {
            continue;
        }
        let Ok(hunks) = repo.hunks(old, new) else {
            continue;
        };
        if let Ok(mut map) = shared.hunks.lock() {
            map.insert((old.clone(), new.clone()), (hunks, false));
        }
    }
}

/// What the zones of `path` (by the main thread's hint) need of the change
/// of `old` to `new`, when no diff: `None` when one needs it (as does a path
/// not in the hint).
fn undiffed_answers(shared: &Shared, path: &str, old: &[u8], new: &[u8]) -> Option<Undiffed> {
    let ranges = shared.zones.lock().ok()?.get(path)?.clone();
    let quick = crate::zones::quick(old, new);
    let mut settled = None;
    let all = ranges.iter().all(|&r| {
        let answer = crate::zones::without_diff(quick, r, || {
            Ok::<_, std::convert::Infallible>(
                *settled.get_or_insert_with(|| super::settled_lines(old, new)),
            )
        });
        matches!(answer, Ok(Some(_)))
    });
    all.then_some((quick, settled))
}

impl Repo {
    /// What a prefetching thread found of two text blobs it did not diff.
    pub fn undiffed(&self, old: &str, new: &str) -> Option<Undiffed> {
        let shared = self.shared.borrow();
        let map = shared.as_ref()?.undiffed.lock().ok()?;
        map.get(&(old.to_string(), new.to_string())).copied()
    }

    /// Tell a prefetching worker, if any, the zone lines of each file that
    /// has only line zones (see [`Shared::zones`]).
    pub fn hint_zones(&self, zones: HashMap<String, Vec<LineRange>>) {
        if let Some(shared) = self.shared.borrow().as_ref()
            && let Ok(mut z) = shared.zones.lock()
        {
            *z = zones;
        }
    }
}
