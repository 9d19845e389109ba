//! Lookups in a pack's index (version 2), read with `pread`: a fan-out
//! bucket's names are checked in order on its first lookup, and a name is
//! searched in a window where it should be (names are uniform).

use std::sync::atomic::Ordering;

use super::{Found, Pack};

impl Pack {
    /// Where object `name` is in the pack: [`Found::Unsure`] where git's
    /// lookup could find what guard's does not (a bucket out of order, an
    /// offset guard cannot read), so the object is left to libgit2 rather
    /// than looked for in another pack.
    pub(super) fn find(&self, name: &[u8; 20]) -> Found {
        let first = usize::from(name[0]);
        let lo = if first == 0 {
            0
        } else {
            self.fanout[first - 1] as usize
        };
        let hi = self.fanout[first] as usize;
        if !self.bucket_in_order(first, lo, hi) {
            return Found::Unsure;
        }
        match self.position(name, lo, hi) {
            Ok(Some(i)) => self.offset(i).map_or(Found::Unsure, Found::At),
            Ok(None) => Found::Absent,
            Err(()) => Found::Unsure,
        }
    }

    /// The position of `name` among the index's names `lo..hi` (a checked
    /// bucket), `Err` if the index cannot be read.
    fn position(&self, name: &[u8; 20], mut lo: usize, mut hi: usize) -> Result<Option<usize>, ()> {
        use std::os::unix::fs::FileExt;
        const WINDOW: usize = 64;
        let mut names = [0u8; 20 * WINDOW];
        let mut guess = true;
        while lo < hi {
            // Names are uniform: the first window is where the name would
            // be, the next ones halve what is left.
            let span = hi - lo;
            let start = if span <= WINDOW {
                lo
            } else if guess {
                let key = u64::from(u32::from_be_bytes([name[1], name[2], name[3], name[4]]));
                let at = lo + ((key * span as u64) >> 32) as usize;
                at.saturating_sub(WINDOW / 2).clamp(lo, hi - WINDOW)
            } else {
                lo + (span - WINDOW) / 2
            };
            guess = false;
            let n = span.min(WINDOW);
            let buf = &mut names[..20 * n];
            self.idx
                .read_exact_at(buf, (8 + 1024 + 20 * start) as u64)
                .map_err(|_| ())?;
            let window: Vec<&[u8]> = buf.chunks_exact(20).collect();
            match window.binary_search(&&name[..]) {
                Ok(i) => return Ok(Some(start + i)),
                Err(0) => hi = start,
                Err(i) if i == n => lo = start + n,
                Err(_) => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The names of fan-out bucket `first` (positions `lo..hi`) strictly in
    /// order, each starting with the bucket's byte: a lookup trusts both.
    /// Checked once, on the first lookup in the bucket (a short walk pays
    /// for the buckets it uses, not for the whole index).
    fn bucket_in_order(&self, first: usize, lo: usize, hi: usize) -> bool {
        use std::os::unix::fs::FileExt;
        match self.checked[first].load(Ordering::Acquire) {
            1 => return true,
            2 => return false,
            _ => {}
        }
        const CHUNK: usize = 4096;
        let mut buf = vec![0u8; 20 * CHUNK.min(hi - lo)];
        let mut last: Option<[u8; 20]> = None;
        let mut at = lo;
        let mut good = true;
        'read: while at < hi {
            let n = (hi - at).min(CHUNK);
            let part = &mut buf[..20 * n];
            if self
                .idx
                .read_exact_at(part, (8 + 1024 + 20 * at) as u64)
                .is_err()
            {
                good = false;
                break;
            }
            for name in part.chunks_exact(20) {
                if usize::from(name[0]) != first || last.is_some_and(|l| name <= &l[..]) {
                    good = false;
                    break 'read;
                }
                last = name.try_into().ok();
            }
            at += n;
        }
        self.checked[first].store(if good { 1 } else { 2 }, Ordering::Release);
        good
    }

    /// The pack offset of the index's `i`th object.
    fn offset(&self, i: usize) -> Option<u64> {
        use std::os::unix::fs::FileExt;
        let mut word = [0u8; 4];
        let table = 8 + 1024 + 24 * self.count;
        self.idx
            .read_exact_at(&mut word, (table + 4 * i) as u64)
            .ok()?;
        let small = u32::from_be_bytes(word);
        if small & 0x8000_0000 == 0 {
            return Some(u64::from(small));
        }
        let k = (small & 0x7fff_ffff) as usize;
        if k >= self.large {
            return None;
        }
        let mut big = [0u8; 8];
        let at = table + 4 * self.count + 8 * k;
        self.idx.read_exact_at(&mut big, at as u64).ok()?;
        Some(u64::from_be_bytes(big))
    }
}
