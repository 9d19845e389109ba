//! Which zones a file change touches, and how: the lines, with their text
//! for the report and their bytes for the digest.

use foldhash::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use super::{Change, Evaluator, Touch, TouchedLines};
use crate::change::{self, FileChange, Hunk, Kind};
use crate::error::Result;
use crate::manifest::{LineRange, Manifest, Zone};
use crate::zones;

const MAX_TEXT_LINES: usize = 40;

/// A file mode as git writes it in a tree (canonical), "" where there is no file.
pub(super) fn mode_code(e: Option<&change::Entry>) -> &'static str {
    match e.map(|e| e.kind) {
        None => "",
        Some(Kind::File) => "100644",
        Some(Kind::Executable) => "100755",
        Some(Kind::Symlink) => "120000",
        Some(Kind::Submodule) => "160000",
    }
}

impl Evaluator<'_> {
    /// Zero-context hunks of a content change.
    pub(super) fn hunks_of(&self, c: &FileChange) -> Result<Vec<Hunk>> {
        match (&c.old, &c.new) {
            (Some(o), Some(n)) if o.id != n.id => self.store.hunks(&o.id, &n.id),
            _ => Ok(Vec::new()),
        }
    }

    /// The touched lines of `hunks` for the report, and their raw bytes with
    /// each hunk's position from `first` (the zone's first line) for the digest.
    pub(super) fn texts(
        &self,
        c: &FileChange,
        hunks: &[Hunk],
        first: u32,
    ) -> Result<(Vec<TouchedLines>, Vec<crate::digest::HunkBytes>)> {
        let (old, old_lines) = self.indexed(c.old.as_ref())?;
        let (new, new_lines) = self.indexed(c.new.as_ref())?;
        // At most MAX_TEXT_LINES lines of a hunk are cut into text; the
        // rest are counted.
        let cap = |lines: &change::Lines, data: &[u8], r: LineRange| {
            if r.len() as usize <= MAX_TEXT_LINES {
                return lines.text(data, r.start, r.end);
            }
            let mut v = lines.text(data, r.start, r.start + MAX_TEXT_LINES as u32 - 1);
            let all = change::line_count(lines.bytes(data, r.start, r.end));
            if all > v.len() {
                let more = all - MAX_TEXT_LINES;
                v.truncate(MAX_TEXT_LINES);
                v.push(format!("… ({more} more lines)"));
            }
            v
        };
        let quiet = self.quiet.get();
        let mut shown = Vec::new();
        let mut bytes = Vec::new();
        for h in hunks {
            let old_r = LineRange::new(h.old_start, h.old_end()).filter(|_| h.old_lines > 0);
            let new_r = LineRange::new(h.new_start, h.new_start + h.new_lines.saturating_sub(1))
                .filter(|_| h.new_lines > 0);
            let old_raw = old_r.map_or(&[][..], |r| old_lines.bytes(&old, r.start, r.end));
            let new_raw = new_r.map_or(&[][..], |r| new_lines.bytes(&new, r.start, r.end));
            bytes.push(crate::digest::HunkBytes {
                at: i64::from(h.old_start) - i64::from(first),
                old: old_raw.to_vec(),
                new: new_raw.to_vec(),
            });
            if quiet {
                continue;
            }
            shown.push(TouchedLines {
                old: old_r,
                new: new_r,
                old_text: old_r.map_or_else(Vec::new, |r| cap(&old_lines, &old, r)),
                new_text: new_r.map_or_else(Vec::new, |r| cap(&new_lines, &new, r)),
            });
        }
        Ok((shown, bytes))
    }

    /// One side of a file (empty when absent) with its line index, kept for
    /// the next zone of the same file.
    fn indexed(&self, e: Option<&change::Entry>) -> Result<(Arc<[u8]>, Rc<change::Lines>)> {
        let Some(e) = e else {
            return Ok((Arc::from(&b""[..]), Rc::new(change::Lines::of(b""))));
        };
        let data = self.store.blob(&e.id)?;
        let mut known = self.line_index.borrow_mut();
        if let Some((_, lines)) = known.iter().find(|(id, _)| *id == e.id) {
            return Ok((data, lines.clone()));
        }
        let lines = Rc::new(change::Lines::of(&data));
        if known.len() >= 2 {
            known.remove(0);
        }
        known.push((e.id.clone(), lines.clone()));
        Ok((data, lines))
    }

    /// The whole content of one side of a file, as the digest binds it.
    pub(super) fn content(
        &self,
        e: Option<&change::Entry>,
    ) -> Result<Option<crate::digest::Content>> {
        Ok(match e {
            None => None,
            Some(e) if e.kind == Kind::Submodule => {
                Some(crate::digest::Content::Commit(e.id.clone()))
            }
            Some(e) => Some(crate::digest::Content::of_blob(&self.store.blob(&e.id)?)),
        })
    }

    /// Lines `range` (clamped to the file), or the whole file, of a text blob,
    /// as a deletion hunk for the report: what a deletion's signature approves.
    pub(super) fn whole_hunk(
        &self,
        e: &change::Entry,
        range: Option<LineRange>,
        old: bool,
    ) -> Result<Option<Hunk>> {
        if e.kind == Kind::Submodule || change::is_binary(&self.store.blob(&e.id)?) {
            return Ok(None);
        }
        let n = self.lines_of(&e.id)? as u32;
        let (start, end) = match range {
            Some(r) => (r.start, r.end.min(n)),
            None => (1, n),
        };
        if n == 0 || end < start {
            return Ok(None);
        }
        let len = end - start + 1;
        Ok(Some(if old {
            Hunk::new(start, len, 0, 0)
        } else {
            Hunk::new(0, 0, start, len)
        }))
    }

    pub(super) fn cached_hunks(
        &self,
        c: &FileChange,
        cache: &mut HashMap<String, Vec<Hunk>>,
    ) -> Result<Vec<Hunk>> {
        if let Some(h) = cache.get(&c.path) {
            return Ok(h.clone());
        }
        let h = self.hunks_of(c)?;
        cache.insert(c.path.clone(), h.clone());
        Ok(h)
    }

    pub(super) fn touch(
        &self,
        zone: &Zone,
        manifest: &Manifest,
        c: &FileChange,
        change: &Change,
        cache: &mut HashMap<String, Vec<Hunk>>,
    ) -> Result<Option<Touch>> {
        let whole = zone.lines.is_none();
        // The record of a touch, built only once the zone is known touched
        // (most zones of a changed file are not).
        let new_touch = || Touch {
            zone: zone.id.clone(),
            reason: zone.reason.clone(),
            file: c.path.clone(),
            lines: zone.lines,
            threshold: zone.threshold(&manifest.policy),
            how: String::new(),
            hunks: Vec::new(),
            details: Vec::new(),
            bound: crate::digest::Part {
                zone: zone.id.clone(),
                path: c.path.clone(),
                old_mode: mode_code(c.old.as_ref()).into(),
                new_mode: mode_code(c.new.as_ref()).into(),
                v1: crate::digest::V1 {
                    // What format 1 hashed: object ids for a whole-file zone.
                    objects: if whole {
                        format!("{:?} -> {:?}", c.old, c.new)
                    } else {
                        String::new()
                    },
                    ..Default::default()
                },
                ..Default::default()
            },
            own: None,
        };
        let merge = !change.others.is_empty();
        let threshold = zone.threshold(&manifest.policy);
        let first = zone.lines.map_or(1, |r| r.start);
        // A whole-file touch of a merge is its own unless a side carries it.
        let file_level = |touch: &mut Touch| -> Result<bool> {
            if merge {
                match self.merge_own_file(manifest, &zone.id, threshold, c, change)? {
                    None => return Ok(false),
                    Some(own) => touch.own = Some(own),
                }
            }
            Ok(true)
        };
        // Touches judged on the whole file bind both contents.
        let mut touch;
        let (kind, how) = if c.is_deleted() {
            touch = new_touch();
            let old = c.old.as_ref();
            match self
                .store
                .rename_target(&change.base, &change.new, &c.path)?
            {
                Some(to) => {
                    let new = self.store.entry(&change.new, &to)?;
                    touch.bound.new_mode = mode_code(new.as_ref()).into();
                    touch.bound.new = self.content(new.as_ref())?;
                    // Every line the signature approves: the whole rename's diff.
                    if let (Some(o), Some(n)) = (old, &new)
                        && o.kind != Kind::Submodule
                        && n.kind != Kind::Submodule
                        && o.id != n.id
                        && !change::is_binary(&self.store.blob(&o.id)?)
                        && !change::is_binary(&self.store.blob(&n.id)?)
                    {
                        let moved = FileChange {
                            path: c.path.clone(),
                            old: Some(o.clone()),
                            new: Some(n.clone()),
                            renamed_to: None,
                        };
                        let hunks = self.store.hunks(&o.id, &n.id)?;
                        touch.hunks = self.texts(&moved, &hunks, first)?.0;
                    }
                    let how = if new.as_ref().map(|n| &n.id) == old.map(|o| &o.id) {
                        format!("file renamed to {to} (content unchanged)")
                    } else {
                        format!("file renamed to {to}")
                    };
                    touch.bound.v1.how = format!("file renamed to {to}");
                    touch.bound.to = Some(to);
                    ("renamed", how)
                }
                None => {
                    if let Some(o) = old
                        && let Some(h) = self.whole_hunk(o, zone.lines, true)?
                    {
                        touch.hunks = self.texts(c, &[h], first)?.0;
                    }
                    ("deleted", "file deleted".to_string())
                }
            }
        } else if c.is_added() {
            if !whole {
                return Ok(None);
            }
            touch = new_touch();
            if let Some(n) = &c.new
                && let Some(h) = self.whole_hunk(n, None, false)?
            {
                touch.hunks = self.texts(c, &[h], first)?.0;
            }
            ("added", "file added".to_string())
        } else if c.type_changed() {
            touch = new_touch();
            ("type-changed", "file type changed".to_string())
        } else if c.new.as_ref().is_some_and(|n| n.kind == Kind::Submodule) && c.content_changed() {
            // A gitlink names a commit of another repository: never read it
            // as a blob here.
            touch = new_touch();
            ("submodule", "submodule changed".to_string())
        } else if !c.content_changed() {
            if !whole {
                return Ok(None);
            }
            touch = new_touch();
            ("mode-changed", "file mode changed".to_string())
        } else {
            let (Some(o), Some(n)) = (&c.old, &c.new) else {
                return Ok(None);
            };
            // Hunks a prefetching thread computed answer directly; otherwise
            // the quick no-diff check may spare the diff.
            let binary = match self.store.prefetched(&o.id, &n.id) {
                Some((_, binary)) => binary,
                None => {
                    let binary = self.binary(&o.id, &n.id)?;
                    if let (Some(r), false) = (zone.lines, binary)
                        && self.outside(&o.id, &n.id, r)?.is_some()
                    {
                        return Ok(None);
                    }
                    binary
                }
            };
            if binary {
                // A binary change touches every zone of the file, as a whole.
                touch = new_touch();
                ("binary", "binary content changed".to_string())
            } else {
                let hunks = self.cached_hunks(c, cache)?;
                let mut touching = match zone.lines {
                    Some(r) => zones::touching(&hunks, r),
                    None => hunks,
                };
                let mut own_why = None;
                if merge && !touching.is_empty() {
                    let own =
                        self.merge_own_hunks(manifest, &zone.id, threshold, c, touching, change)?;
                    own_why = own.first().map(|(_, why)| why.clone());
                    touching = own.into_iter().map(|(h, _)| h).collect();
                }
                if touching.is_empty() {
                    return Ok(None);
                }
                let mut touch = new_touch();
                touch.own = own_why;
                let (shown, bytes) = self.texts(c, &touching, first)?;
                touch.hunks = shown;
                touch.how = "lines changed".to_string();
                touch.bound.kind = "lines";
                let old_data = self.store.blob(&o.id)?;
                touch.bound.zone_old = Some(crate::digest::Content::of_blob(match zone.lines {
                    Some(r) => change::line_bytes(&old_data, r.start, r.end),
                    None => &old_data,
                }));
                touch.bound.hunks = bytes;
                touch.bound.v1.how = touch.how.clone();
                return Ok(Some(touch));
            }
        };
        if !file_level(&mut touch)? {
            return Ok(None);
        }
        touch.bound.old = self.content(c.old.as_ref())?;
        if kind != "renamed" {
            touch.bound.new = self.content(c.new.as_ref())?;
        }
        touch.bound.kind = kind;
        if touch.bound.v1.how.is_empty() {
            touch.bound.v1.how = how.clone();
        }
        touch.how = how;
        Ok(Some(touch))
    }
}
