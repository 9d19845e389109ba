//! "Could not evaluate": every failure that is not a verdict. Exit code 2.
//!
//! A blocked change is *not* an error: it is a [`crate::policy::Verdict`] with
//! violations. Only what guard could not judge ends up here.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }

    /// Wrap a lower-level failure with what guard was doing.
    pub fn context(what: impl fmt::Display, cause: impl fmt::Display) -> Self {
        Error::new(format!("{what}: {cause}"))
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;
