//! A file's bytes, mapped rather than read where the system allows: the
//! commit-graph of a large repository is megabytes, of which a walk touches
//! the entries of the commits it visits.

use std::ops::Deref;
use std::path::Path;

/// A file's bytes: mapped, or read (where mapping is not available).
pub enum Bytes {
    Read(Vec<u8>),
    #[cfg(unix)]
    Mapped(Map),
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Read(v) => v,
            #[cfg(unix)]
            Bytes::Mapped(m) => m,
        }
    }
}

impl Bytes {
    /// The file at `path`, mapped read-only, or read when it cannot be.
    pub fn open(path: &Path) -> std::io::Result<Bytes> {
        #[cfg(unix)]
        if let Some(m) = Map::open(path)? {
            return Ok(Bytes::Mapped(m));
        }
        std::fs::read(path).map(Bytes::Read)
    }
}

/// A private read-only mapping of a whole file.
#[cfg(unix)]
pub struct Map {
    ptr: *const u8,
    len: usize,
}

#[cfg(unix)]
#[allow(unsafe_code)]
impl Map {
    /// `None`: an empty file or a failed mapping (read it instead).
    pub(super) fn open(path: &Path) -> std::io::Result<Option<Map>> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path)?;
        let Ok(len) = usize::try_from(file.metadata()?.len()) else {
            return Ok(None);
        };
        if len == 0 {
            return Ok(None);
        }
        // SAFETY: a new private read-only mapping of an open file, which the
        // descriptor need not outlive. git replaces a commit-graph or a pack
        // by renaming a new file over it, never by rewriting it in place, so
        // the mapped bytes do not change under the reader.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Ok(None);
        }
        Ok(Some(Map {
            ptr: ptr as *const u8,
            len,
        }))
    }
}

#[cfg(unix)]
#[allow(unsafe_code)]
impl Map {
    /// Give the mapping's pages back to the system: they stay in its file
    /// cache, and a later read maps them again (the bytes are the file's,
    /// never written through this mapping).
    pub fn forget(&self) {
        // SAFETY: `ptr` maps `len` bytes of a private read-only mapping of a
        // file; dropping its pages loses nothing, whatever thread reads it.
        unsafe {
            libc::madvise(self.ptr as *mut libc::c_void, self.len, libc::MADV_DONTNEED);
        }
    }
}

// SAFETY: the mapping is read-only and lives until `drop`: its bytes can be
// read from any thread.
#[cfg(unix)]
#[allow(unsafe_code)]
unsafe impl Send for Map {}
#[cfg(unix)]
#[allow(unsafe_code)]
unsafe impl Sync for Map {}

#[cfg(unix)]
#[allow(unsafe_code)]
impl Deref for Map {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until `drop`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

#[cfg(unix)]
#[allow(unsafe_code)]
impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `open`, unmapped once.
        unsafe {
            libc::munmap(self.ptr as *mut libc::c_void, self.len);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_mapped_file_reads_as_its_bytes() {
        let dir = std::env::temp_dir().join(format!("guard-mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in [
            ("empty", Vec::new()),
            ("some", (0..=255u8).cycle().take(70_001).collect()),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, &data).unwrap();
            let bytes = Bytes::open(&path).unwrap();
            assert_eq!(&*bytes, &data[..]);
            #[cfg(unix)]
            assert_eq!(matches!(bytes, Bytes::Mapped(_)), !data.is_empty());
        }
        assert!(Bytes::open(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
