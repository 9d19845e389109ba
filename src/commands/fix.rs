//! `guard fix`: rewrite moved zones in the manifest for the staged change.

use crate::Outcome;
use crate::cli::ManifestArg;
use crate::error::{Error, Result};

pub fn fix(_arg: &ManifestArg) -> Result<Outcome> {
    Err(Error::new("guard fix is not available in this version"))
}
