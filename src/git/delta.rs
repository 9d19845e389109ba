//! git's delta format (a pack's OFS_DELTA and REF_DELTA entries), applied as
//! git's `patch_delta` applies it: the base's size must be the one the delta
//! names, every copy must lie within the base, the result must have exactly
//! the size the delta names and the delta must be used up. Anything else is
//! refused, never read some other way.

use std::mem::MaybeUninit;
use std::sync::Arc;

/// A size in the delta's header: 7 bits a byte, least significant first.
fn size(delta: &[u8], at: &mut usize) -> Option<usize> {
    let mut value: u64 = 0;
    let mut shift = 0;
    loop {
        let byte = *delta.get(*at)?;
        *at += 1;
        let bits = u64::from(byte & 0x7f);
        if shift >= 64 || (shift > 57 && bits >> (64 - shift) != 0) {
            return None;
        }
        value |= bits << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return usize::try_from(value).ok();
        }
    }
}

/// The result's size a delta names, without applying it.
#[cfg(test)]
pub fn result_size(delta: &[u8]) -> Option<usize> {
    let mut at = 0;
    size(delta, &mut at)?;
    size(delta, &mut at)
}

/// `delta` applied to `base`; `None` if the delta does not apply exactly.
/// `limit` bounds the result's size (the delta names it before any work).
/// The result is written once, into memory of its own size.
#[allow(unsafe_code)]
pub fn apply(base: &[u8], delta: &[u8], limit: usize) -> Option<Arc<[u8]>> {
    let mut at = 0;
    if size(delta, &mut at)? != base.len() {
        return None;
    }
    let want = size(delta, &mut at)?;
    if want > limit {
        return None;
    }
    let mut result: Arc<[MaybeUninit<u8>]> = Arc::new_uninit_slice(want);
    let out = Arc::get_mut(&mut result)?;
    let mut done = 0;
    while at < delta.len() {
        let cmd = delta[at];
        at += 1;
        let bytes = if cmd & 0x80 != 0 {
            let mut offset = 0usize;
            let mut len = 0usize;
            for (bit, shift) in [(0x01, 0), (0x02, 8), (0x04, 16), (0x08, 24)] {
                if cmd & bit != 0 {
                    offset |= usize::from(*delta.get(at)?) << shift;
                    at += 1;
                }
            }
            for (bit, shift) in [(0x10, 0), (0x20, 8), (0x40, 16)] {
                if cmd & bit != 0 {
                    len |= usize::from(*delta.get(at)?) << shift;
                    at += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            base.get(offset..offset.checked_add(len)?)?
        } else if cmd != 0 {
            let len = usize::from(cmd);
            let bytes = delta.get(at..at + len)?;
            at += len;
            bytes
        } else {
            // Reserved by git: refused.
            return None;
        };
        out.get_mut(done..done + bytes.len())?
            .write_copy_of_slice(bytes);
        done += bytes.len();
    }
    if done != want {
        return None;
    }
    // SAFETY: the copies and inserts wrote `done == want` bytes, each one
    // once and in order from the start: every byte of `result` is written.
    Some(unsafe { result.assume_init() })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn varint(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    /// A delta from a list of operations: Ok(copy offset, len), Err(insert).
    fn encode(base_len: usize, ops: &[Result<(usize, usize), Vec<u8>>]) -> (Vec<u8>, usize) {
        let mut body = Vec::new();
        let mut total = 0;
        for op in ops {
            match op {
                Ok((offset, len)) => {
                    let mut cmd = 0x80u8;
                    let mut args = Vec::new();
                    for i in 0..4 {
                        let b = (offset >> (8 * i)) as u8;
                        if b != 0 {
                            cmd |= 1 << i;
                            args.push(b);
                        }
                    }
                    let l = if *len == 0x10000 { 0 } else { *len };
                    for i in 0..3 {
                        let b = (l >> (8 * i)) as u8;
                        if b != 0 {
                            cmd |= 0x10 << i;
                            args.push(b);
                        }
                    }
                    body.push(cmd);
                    body.extend(args);
                    total += len;
                }
                Err(bytes) => {
                    body.push(bytes.len() as u8);
                    body.extend_from_slice(bytes);
                    total += bytes.len();
                }
            }
        }
        let mut delta = Vec::new();
        varint(base_len, &mut delta);
        varint(total, &mut delta);
        delta.extend(body);
        (delta, total)
    }

    proptest! {
        /// Against a model: the result is the copies and inserts in order.
        #[test]
        fn applies_as_the_operations_say(
            base in proptest::collection::vec(any::<u8>(), 0..300),
            raw in proptest::collection::vec((any::<bool>(), 0usize..400, 1usize..300, proptest::collection::vec(any::<u8>(), 1..20)), 0..12),
        ) {
            let mut ops = Vec::new();
            let mut model = Vec::new();
            for (copy, a, b, bytes) in raw {
                if copy && !base.is_empty() {
                    let offset = a % base.len();
                    let len = 1 + b % (base.len() - offset);
                    model.extend_from_slice(&base[offset..offset + len]);
                    ops.push(Ok((offset, len)));
                } else {
                    model.extend_from_slice(&bytes);
                    ops.push(Err(bytes));
                }
            }
            let (delta, total) = encode(base.len(), &ops);
            prop_assert_eq!(result_size(&delta), Some(total));
            let applied = apply(&base, &delta, usize::MAX);
            prop_assert_eq!(applied.as_deref(), Some(&model[..]));
            // Any truncation is refused (never a shorter result).
            for cut in 0..delta.len() {
                prop_assert_eq!(apply(&base, &delta[..cut], usize::MAX), None);
            }
        }

        /// Whatever the bytes, no panic, and a result only of the size named.
        #[test]
        fn any_bytes_apply_or_are_refused(
            base in proptest::collection::vec(any::<u8>(), 0..64),
            delta in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            if let Some(out) = apply(&base, &delta, 1 << 20) {
                prop_assert_eq!(Some(out.len()), result_size(&delta));
            }
        }
    }

    #[test]
    fn refuses_what_git_refuses() {
        let base = b"0123456789".to_vec();
        let (good, _) = encode(10, &[Ok((2, 3)), Err(b"xy".to_vec())]);
        assert_eq!(&apply(&base, &good, 100).unwrap()[..], b"234xy");
        // The wrong base size.
        assert_eq!(apply(b"012345678", &good, 100), None);
        // A copy beyond the base.
        let (beyond, _) = encode(10, &[Ok((8, 3))]);
        assert_eq!(apply(&base, &beyond, 100), None);
        // The reserved command 0.
        let mut reserved = good.clone();
        reserved.push(0);
        assert_eq!(apply(&base, &reserved, 100), None);
        // More output than the header names.
        let mut over = good.clone();
        over[1] = 4;
        assert_eq!(apply(&base, &over, 100), None);
        // Less output than the header names.
        over[1] = 6;
        assert_eq!(apply(&base, &over, 100), None);
        // A result beyond the limit is refused before any work.
        assert_eq!(apply(&base, &good, 4), None);
        // A size in the header that overflows.
        assert_eq!(result_size(&[0x80; 11]), None);
        assert_eq!(
            result_size(&[
                0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
            ]),
            None
        );
        // A copy of 0 bytes means 0x10000.
        let big: Vec<u8> = (0..0x10000u32).map(|i| i as u8).collect();
        let (whole, _) = encode(big.len(), &[Ok((0, 0x10000))]);
        assert_eq!(&apply(&big, &whole, usize::MAX).unwrap()[..], &big[..]);
    }
}
