//! `guard install`, `guard uninstall`, and the hook entry points.

use std::path::Path;

use crate::Outcome;
use crate::cli::ManifestArg;
use crate::error::{Error, Result};

pub fn install(_force: bool) -> Result<Outcome> {
    Err(Error::new("guard install is not available in this version"))
}

pub fn uninstall() -> Result<Outcome> {
    Err(Error::new(
        "guard uninstall is not available in this version",
    ))
}

pub fn pre_commit(_arg: &ManifestArg) -> Result<Outcome> {
    Err(Error::new("not available"))
}

pub fn commit_msg(_file: &Path, _arg: &ManifestArg) -> Result<Outcome> {
    Err(Error::new("not available"))
}
