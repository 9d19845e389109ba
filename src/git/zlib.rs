//! zlib's inflate, for guard's pack reader: the zlib library libgit2 links
//! (through libz-sys), so a stream is accepted or refused as libgit2 and git
//! accept or refuse it (the checksum at its end included).

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
        // SAFETY: the stream was initialised in `new`.
        if unsafe { z::inflateReset(&mut *self.strm) } != z::Z_OK {
            return None;
        }
        // One byte more than expected: a stream that would give more ends short of its end.
        let room = size.checked_add(1)?;
        let avail_out = z::uInt::try_from(room).ok()?;
        let mut out: Vec<u8> = Vec::new();
        out.try_reserve_exact(room).ok()?;
        let input = &input[..input.len().min(z::uInt::MAX as usize)];
        self.strm.next_in = input.as_ptr() as *mut u8;
        self.strm.avail_in = input.len() as z::uInt;
        self.strm.next_out = out.as_mut_ptr();
        self.strm.avail_out = avail_out;
        let ret = loop {
            // SAFETY: next_in/avail_in describe `input`, next_out/avail_out
            // the spare capacity of `out`; both outlive the call.
            let ret = unsafe { z::inflate(&mut *self.strm, z::Z_FINISH) };
            if ret != z::Z_OK {
                break ret;
            }
        };
        let written = room - self.strm.avail_out as usize;
        let taken = input.len() - self.strm.avail_in as usize;
        self.strm.next_in = std::ptr::null_mut();
        self.strm.next_out = std::ptr::null_mut();
        if ret != z::Z_STREAM_END || written != size {
            return None;
        }
        // SAFETY: zlib wrote `written` bytes at the start of the capacity.
        unsafe { out.set_len(written) };
        Some((out, taken))
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
        let git = |args: &[&str], input: Option<&[u8]>| {
            use std::io::Write;
            let mut child = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.unwrap_or(b""))
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success());
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        git(&["init", "-q"], None);
        let mut inflater = Inflater::new().unwrap();
        for content in [
            Vec::new(),
            b"one line\n".to_vec(),
            (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect(),
        ] {
            let id = git(&["hash-object", "-w", "--stdin"], Some(&content));
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
