//! zlib's inflate, for guard's pack reader: the zlib library libgit2 links
//! (through libz-sys), so a stream is accepted or refused as libgit2 and git
//! accept or refuse it (the checksum at its end included).

use std::mem::MaybeUninit;
use std::sync::Arc;

use libz_sys as z;

/// An inflate stream, reset for each object (its state and window are
/// allocated once per thread, not once per object).
pub struct Inflater {
    // zlib keeps a pointer back to the stream in its state: it must not move.
    strm: Box<z::z_stream>,
}

extern "C" fn zalloc(_: z::voidpf, items: z::uInt, size: z::uInt) -> z::voidpf {
    // SAFETY: calloc checks the product for overflow and returns null on failure,
    // which zlib handles (Z_MEM_ERROR).
    #[allow(unsafe_code)]
    unsafe {
        libc::calloc(items as libc::size_t, size as libc::size_t)
    }
}

extern "C" fn zfree(_: z::voidpf, p: z::voidpf) {
    // SAFETY: `p` was returned by `zalloc` (calloc), freed once by zlib.
    #[allow(unsafe_code)]
    unsafe {
        libc::free(p)
    }
}

#[allow(unsafe_code)]
impl Inflater {
    pub fn new() -> Option<Inflater> {
        let mut strm = Box::new(z::z_stream {
            next_in: std::ptr::null_mut(),
            avail_in: 0,
            total_in: 0,
            next_out: std::ptr::null_mut(),
            avail_out: 0,
            total_out: 0,
            msg: std::ptr::null_mut(),
            state: std::ptr::null_mut(),
            zalloc,
            zfree,
            opaque: std::ptr::null_mut(),
            data_type: 0,
            adler: 0,
            reserved: 0,
        });
        // SAFETY: a zeroed stream with allocation functions, initialised once;
        // the size passed is the struct's, as zlib's inflateInit macro does.
        let ret = unsafe {
            z::inflateInit_(
                &mut *strm,
                z::zlibVersion(),
                std::mem::size_of::<z::z_stream>() as libc::c_int,
            )
        };
        (ret == z::Z_OK).then_some(Inflater { strm })
    }

    /// The zlib stream at the start of `input`, inflated, when it ends after
    /// exactly `size` bytes of output (as git and libgit2 require of a pack
    /// entry); with the count of input bytes it took. `None` for anything
    /// else: a corrupt stream, a wrong checksum, more or fewer bytes.
    pub fn exact(&mut self, input: &[u8], size: usize) -> Option<(Vec<u8>, usize)> {
        let mut out: Vec<u8> = Vec::new();
        out.try_reserve_exact(size).ok()?;
        let taken = self.into(input, &mut out.spare_capacity_mut()[..size])?;
        // SAFETY: `into` wrote all `size` bytes.
        unsafe { out.set_len(size) };
        Some((out, taken))
    }

    /// The same, inflated into shared memory of its own size (no copy).
    pub fn exact_shared(&mut self, input: &[u8], size: usize) -> Option<(Arc<[u8]>, usize)> {
        let mut out: Arc<[MaybeUninit<u8>]> = Arc::new_uninit_slice(size);
        let taken = self.into(input, Arc::get_mut(&mut out)?)?;
        // SAFETY: `into` wrote all `size` bytes.
        Some((unsafe { out.assume_init() }, taken))
    }

    /// Inflate the stream at the start of `input` into all of `out`, and
    /// check that it ends there: the count of input bytes taken, or `None`.
    fn into(&mut self, input: &[u8], out: &mut [MaybeUninit<u8>]) -> Option<usize> {
        // SAFETY: the stream was initialised in `new`.
        if unsafe { z::inflateReset(&mut *self.strm) } != z::Z_OK {
            return None;
        }
        let input = &input[..input.len().min(z::uInt::MAX as usize)];
        self.strm.next_in = input.as_ptr() as *mut u8;
        self.strm.avail_in = input.len() as z::uInt;
        self.strm.next_out = out.as_mut_ptr().cast();
        self.strm.avail_out = z::uInt::try_from(out.len()).ok()?;
        // Then one byte more: a stream that would give more does not end.
        let mut spare = [0u8; 1];
        let mut spare_given = false;
        let ret = loop {
            // SAFETY: next_in/avail_in describe `input`, next_out/avail_out
            // the part of `out` (or `spare`) not yet written; all outlive the call.
            let ret = unsafe { z::inflate(&mut *self.strm, z::Z_FINISH) };
            if ret == z::Z_STREAM_END {
                break ret;
            }
            if self.strm.avail_out == 0 && !spare_given {
                spare_given = true;
                self.strm.next_out = spare.as_mut_ptr();
                self.strm.avail_out = 1;
                continue;
            }
            if ret != z::Z_OK {
                break ret;
            }
        };
        let taken = input.len() - self.strm.avail_in as usize;
        let written_all = if spare_given {
            self.strm.avail_out == 1
        } else {
            self.strm.avail_out == 0
        };
        self.strm.next_in = std::ptr::null_mut();
        self.strm.next_out = std::ptr::null_mut();
        (ret == z::Z_STREAM_END && written_all).then_some(taken)
    }
}

#[allow(unsafe_code)]
impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, ended once.
        unsafe {
            z::inflateEnd(&mut *self.strm);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// zlib streams as git writes them (`git hash-object -w` deflates a
    /// loose object): the test reads them back exactly and refuses any
    /// other size, a truncation or a flipped byte.
    #[test]
    fn inflates_exactly_what_git_deflated() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str], input: &[u8]| {
            crate::git::run_git(dir.path(), args, input)
                .trim()
                .to_string()
        };
        git(&["init", "-q"], b"");
        let mut inflater = Inflater::new().unwrap();
        for content in [
            Vec::new(),
            b"one line\n".to_vec(),
            (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect(),
        ] {
            let id = git(&["hash-object", "-w", "--stdin"], &content);
            let loose = std::fs::read(
                dir.path()
                    .join(".git/objects")
                    .join(&id[..2])
                    .join(&id[2..]),
            )
            .unwrap();
            let mut raw = format!("blob {}\0", content.len()).into_bytes();
            raw.extend_from_slice(&content);
            let (out, taken) = inflater.exact(&loose, raw.len()).unwrap();
            assert_eq!((out, taken), (raw.clone(), loose.len()));
            let (shared, taken) = inflater.exact_shared(&loose, raw.len()).unwrap();
            assert_eq!((&shared[..], taken), (&raw[..], loose.len()));
            assert!(inflater.exact_shared(&loose, raw.len() + 1).is_none());
            assert!(inflater.exact_shared(&loose, raw.len() - 1).is_none());
            assert!(inflater.exact(&loose, raw.len() + 1).is_none());
            assert!(inflater.exact(&loose, raw.len() - 1).is_none());
            assert!(
                inflater
                    .exact(&loose[..loose.len() - 1], raw.len())
                    .is_none()
            );
            let mut flipped = loose.clone();
            let at = flipped.len() - 2;
            flipped[at] ^= 1;
            assert!(inflater.exact(&flipped, raw.len()).is_none());
            // Trailing bytes after the stream are the next entry's, not its own.
            let mut more = loose.clone();
            more.extend_from_slice(b"next");
            assert_eq!(inflater.exact(&more, raw.len()).unwrap().1, loose.len());
        }
    }
}
