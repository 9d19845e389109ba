//! A reader for git's index file (versions 2-4), for the staged check's hot path.
//!
//! libgit2 re-hashes the whole index on every read (about 400 KiB of SHA-1DC on a
//! git/git-sized repository, a third of a staged check); git itself does not
//! verify the checksum on read either. Anything this reader does not handle
//! (a split or sparse index, another hash) makes [`parse`] return `None`, and
//! the caller falls back to libgit2.

/// One index entry: stage, mode and object id of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub path: Vec<u8>,
    pub mode: u32,
    pub stage: u8,
    pub id: [u8; 20],
}

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

/// Parse an index file. `None`: not an index this reader handles.
pub fn parse(data: &[u8]) -> Option<Vec<IndexEntry>> {
    if data.get(0..4)? != b"DIRC" {
        return None;
    }
    let version = be32(data, 4)?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = be32(data, 8)? as usize;
    let mut entries = Vec::with_capacity(count.min(1 << 20));
    let mut at = 12;
    let mut prev: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = at;
        let mode = be32(data, start + 24)?;
        if mode & 0o170000 == 0o040000 {
            return None; // a sparse-index directory entry
        }
        let id: [u8; 20] = data.get(start + 40..start + 60)?.try_into().ok()?;
        let flags = be16(data, start + 60)?;
        let mut fixed = 62;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return None;
            }
            fixed += 2;
        }
        at = start + fixed;
        let path = if version == 4 {
            let strip = varint(data, &mut at)?;
            let nul = data.get(at..)?.iter().position(|&b| b == 0)?;
            let keep = prev.len().checked_sub(strip)?;
            let mut p = prev[..keep].to_vec();
            p.extend_from_slice(&data[at..at + nul]);
            at += nul + 1;
            p
        } else {
            let nul = data.get(at..)?.iter().position(|&b| b == 0)?;
            let p = data[at..at + nul].to_vec();
            // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
            at = start + ((fixed + nul + 8) & !7);
            p
        };
        prev.clone_from(&path);
        entries.push(IndexEntry {
            path,
            mode,
            stage: ((flags >> 12) & 3) as u8,
            id,
        });
    }
    // Extensions: a split index ("link") keeps entries elsewhere.
    let end = data.len().checked_sub(20)?;
    while at + 8 <= end {
        let sig = data.get(at..at + 4)?;
        if sig == b"link" || sig == b"sdir" {
            return None;
        }
        let size = be32(data, at + 4)? as usize;
        at = at.checked_add(8 + size)?;
    }
    Some(entries)
}

/// The position of the first entry whose path is >= `path` (entries are sorted).
pub fn lower_bound(entries: &[IndexEntry], path: &[u8]) -> usize {
    entries.partition_point(|e| e.path.as_slice() < path)
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
        assert!(parse(b"nope").is_none());
        assert!(parse(b"DIRC\0\0\0\x09\0\0\0\0").is_none());
    }
}
