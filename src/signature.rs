//! SSH keys of instances (signed sign-offs, contract section 7).

use crate::error::{Error, Result};

/// Check that `text` looks like an OpenSSH public key line: `ALGO BASE64 [comment]`.
pub fn parse_public_key(text: &str) -> Result<(String, String)> {
    let mut parts = text.split_whitespace();
    let (Some(algo), Some(blob)) = (parts.next(), parts.next()) else {
        return Err(Error::new("expected \"ALGORITHM BASE64 [comment]\""));
    };
    let known =
        algo.starts_with("ssh-") || algo.starts_with("ecdsa-sha2-") || algo.starts_with("sk-");
    let base64 = blob
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
    if !known || !base64 || blob.len() < 16 {
        return Err(Error::new("not an OpenSSH public key"));
    }
    Ok((algo.to_string(), blob.to_string()))
}
