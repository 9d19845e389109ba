//! A reader for git's index file (versions 2-4), for the staged check's hot path.
//!
//! libgit2 re-hashes the whole index on every read (about 400 KiB of SHA-1DC on a
//! git/git-sized repository, a third of a staged check); git itself does not
//! verify the checksum on read either. Anything this reader does not handle
//! (a split or sparse index, another hash) makes [`parse`] return `Ok(None)`,
//! and the caller falls back to libgit2; an index git itself would refuse
//! (entries out of order or twice, an extension git requires and does not
//! know, truncated data) is an error, never a guess.

/// One index entry: stage, mode and object id of a path (its name is kept
/// in the [`Index`], with every other name: one buffer, not one per entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    name: (usize, usize),
    pub mode: u32,
    pub stage: u8,
    pub id: [u8; 20],
    /// `git add -N`: recorded, not staged; git leaves it out of the commit.
    pub intent_to_add: bool,
}

impl IndexEntry {
    /// This entry's name in `names`, the buffer of its index's names.
    fn name_in<'a>(&self, names: &'a [u8]) -> &'a [u8] {
        &names[self.name.0..self.name.1]
    }
}

/// The entries of an index, in its order, and their names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Index {
    names: Vec<u8>,
    entries: Vec<IndexEntry>,
}

impl Index {
    pub fn entries(&self) -> &[IndexEntry] {
        &self.entries
    }

    /// The path of `e`, one of this index's entries.
    pub fn path(&self, e: &IndexEntry) -> &[u8] {
        e.name_in(&self.names)
    }

    /// Add an entry (for an index read by another reader).
    pub fn push(&mut self, path: &[u8], mode: u32, stage: u8, id: [u8; 20], intent_to_add: bool) {
        let start = self.names.len();
        self.names.extend_from_slice(path);
        self.entries.push(IndexEntry {
            name: (start, self.names.len()),
            mode,
            stage,
            id,
            intent_to_add,
        });
    }

    /// The position of the first entry whose path is >= `path` (entries are sorted).
    pub fn lower_bound(&self, path: &[u8]) -> usize {
        self.entries.partition_point(|e| self.path(e) < path)
    }
}

/// The extended flags git defines (read-cache.c, `CE_EXTENDED_FLAGS`).
pub(super) const INTENT_TO_ADD: u16 = 0x2000;
const SKIP_WORKTREE: u16 = 0x4000;

/// Why an index cannot be read as git reads it.
pub type Refusal = String;

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// git's variable-length offset encoding (index v4 path prefixes).
fn varint(b: &[u8], at: &mut usize) -> Option<usize> {
    let mut c = *b.get(*at)?;
    *at += 1;
    let mut val = usize::from(c & 127);
    while c & 128 != 0 {
        c = *b.get(*at)?;
        *at += 1;
        if val > usize::MAX >> 8 {
            return None; // no path is that long: a corrupt index
        }
        val = ((val + 1) << 7) | usize::from(c & 127);
    }
    Some(val)
}

/// Parse an index file: `Ok(None)` when this reader leaves it to libgit2,
/// `Err` when git would refuse it too.
pub fn parse(data: &[u8]) -> Result<Option<Index>, Refusal> {
    let truncated = || "the index is truncated or corrupt".to_string();
    if data.get(0..4) != Some(b"DIRC") {
        return Err("the index does not start with its signature (DIRC)".to_string());
    }
    let version = be32(data, 4).ok_or_else(truncated)?;
    if !(2..=4).contains(&version) {
        return Err(format!(
            "index version {version} is not one git reads (2-4)"
        ));
    }
    let count = be32(data, 8).ok_or_else(truncated)? as usize;
    let mut entries: Vec<IndexEntry> = Vec::with_capacity(count.min(1 << 20));
    let mut names: Vec<u8> = Vec::with_capacity(data.len() / 2);
    let mut at = 12;
    // The previous entry's name (index v4 names share a prefix with it).
    let mut prev = (0usize, 0usize);
    let mut problem: Option<String> = None;
    for _ in 0..count {
        let start = at;
        let mode = be32(data, start + 24).ok_or_else(truncated)?;
        if mode & 0o170000 == 0o040000 {
            return Ok(None); // a sparse-index directory entry
        }
        let id: [u8; 20] = data
            .get(start + 40..start + 60)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(truncated)?;
        let flags = be16(data, start + 60).ok_or_else(truncated)?;
        let mut fixed = 62;
        let mut extended = 0;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return Err("an extended index entry in an index of version 2".to_string());
            }
            extended = be16(data, start + 62).ok_or_else(truncated)?;
            fixed += 2;
        }
        at = start + fixed;
        // The name's length is the one in the flags (git reads that many
        // bytes, not up to a NUL), unless it is 0xfff: then up to the NUL.
        let flagged = usize::from(flags & 0xfff);
        let (copy, suffix_at) = if version == 4 {
            let strip = varint(data, &mut at).ok_or_else(truncated)?;
            let keep = (prev.1 - prev.0).checked_sub(strip).ok_or_else(truncated)?;
            (keep, at)
        } else {
            (0, at)
        };
        let rest = data.get(suffix_at..).ok_or_else(truncated)?;
        let nul = memchr::memchr(0, rest).ok_or_else(truncated)?;
        let len = if flagged == 0xfff {
            nul + copy
        } else {
            flagged
        };
        // A name whose recorded length is not where its NUL is would be read
        // one way by git's length and another by its C strings: refused.
        if len < copy || len - copy != nul {
            return Err(format!(
                "index entry {} records a name length ({flagged}) that is not its length",
                String::from_utf8_lossy(
                    &[
                        &names[prev.0..prev.0 + copy.min(prev.1 - prev.0)],
                        &rest[..nul]
                    ]
                    .concat()
                )
            ));
        }
        let name_at = names.len();
        names.extend_from_within(prev.0..prev.0 + copy);
        names.extend_from_slice(&rest[..nul]);
        let name = (name_at, names.len());
        at = if version == 4 {
            suffix_at + nul + 1
        } else {
            // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
            start + ((fixed + nul + 8) & !7)
        };
        // git knows two extended flags (intent-to-add, skip-worktree) and
        // refuses an index with any other ("unknown index entry format").
        if extended & !(INTENT_TO_ADD | SKIP_WORKTREE) != 0 {
            return Err(format!(
                "index entry {} has extended flags git does not know ({extended:#06x})",
                String::from_utf8_lossy(&names[name_at..])
            ));
        }
        let entry = IndexEntry {
            name,
            mode,
            stage: ((flags >> 12) & 3) as u8,
            id,
            intent_to_add: extended & INTENT_TO_ADD != 0,
        };
        // git refuses an index whose entries are out of order, or that holds
        // a merged entry twice (read-cache.c, check_ce_order). Decided after
        // the extensions: in a split index ("link") the entries here are only
        // replacements of the shared index's, nameless and unordered.
        if problem.is_none() {
            let path = entry.name_in(&names);
            problem = match entries.last() {
                _ if path.is_empty() => Some("an index entry without a name".to_string()),
                Some(last) => match last.name_in(&names).cmp(path) {
                    std::cmp::Ordering::Greater => Some(format!(
                        "index entries out of order ({} before {})",
                        String::from_utf8_lossy(last.name_in(&names)),
                        String::from_utf8_lossy(path)
                    )),
                    std::cmp::Ordering::Equal if last.stage == 0 || last.stage >= entry.stage => {
                        Some(format!(
                            "index entry {} recorded twice",
                            String::from_utf8_lossy(path)
                        ))
                    }
                    _ => None,
                },
                None => None,
            };
        }
        prev = name;
        entries.push(entry);
    }
    // Extensions. git ignores an unknown one whose name starts with A-Z and
    // refuses any other it does not know; a split index ("link") or a sparse
    // one ("sdir") keeps entries elsewhere: libgit2's reader answers.
    let end = data.len().checked_sub(20).ok_or_else(truncated)?;
    if at > end {
        return Err(truncated());
    }
    while at + 8 <= end {
        let sig = data.get(at..at + 4).ok_or_else(truncated)?;
        if sig == b"link" || sig == b"sdir" {
            return Ok(None);
        }
        if !sig[0].is_ascii_uppercase() {
            return Err(format!(
                "the index uses extension {:?}, which git requires and guard does not know",
                String::from_utf8_lossy(sig)
            ));
        }
        let size = be32(data, at + 4).ok_or_else(truncated)? as usize;
        at = at.checked_add(8 + size).ok_or_else(truncated)?;
    }
    match problem {
        Some(why) => Err(why),
        None => Ok(Some(Index { names, entries })),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_as_git_encodes() {
        let mut at = 0;
        assert_eq!(varint(&[0x05], &mut at), Some(5));
        let mut at = 0;
        // 128 is encoded as 0x80 0x00 in git's offset encoding.
        assert_eq!(varint(&[0x80, 0x00], &mut at), Some(128));
    }

    #[test]
    fn garbage_is_not_an_index() {
        assert!(parse(b"nope").is_err());
        assert!(parse(b"DIRC\0\0\0\x09\0\0\0\0").is_err());
    }
}
