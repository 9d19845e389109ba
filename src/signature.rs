//! Signed sign-offs (contract section 7): the digest of a change's protected
//! part, and SSH signatures over it (SSHSIG, namespace "guard").

use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use crate::digest::Signed;
use crate::error::{Error, Result};

pub const NAMESPACE: &str = "guard";
pub const TRAILER: &str = "Guard-Signature";

/// Parse an OpenSSH public key line ("ssh-ed25519 AAAA... comment").
pub fn parse_public_key(text: &str) -> Result<PublicKey> {
    PublicKey::from_openssh(text.trim())
        .map_err(|e| Error::new(format!("not an OpenSSH public key: {e}")))
}

/// The one-line base64 body of an armoured SSHSIG (what a trailer carries).
pub fn one_line(armoured: &str) -> String {
    armoured
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect()
}

/// Verify `base64` (an SSHSIG without armour) by `key` over the change's
/// digest line; a signature over the same change's format 1 line is told apart.
pub fn verify(key: &PublicKey, base64: &str, data: &Signed) -> std::result::Result<(), String> {
    let mut pem = String::from("-----BEGIN SSH SIGNATURE-----\n");
    for chunk in base64.as_bytes().chunks(70) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END SSH SIGNATURE-----\n");
    let sig = SshSig::from_pem(pem).map_err(|e| format!("not an SSH signature ({e})"))?;
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "signed in namespace {:?}, not {NAMESPACE:?}",
            sig.namespace()
        ));
    }
    if sig.public_key() != key.key_data() {
        return Err("signed by another key than the instance's".to_string());
    }
    if data.current.is_empty() {
        return Err("internal: no digest to check the signature against".to_string());
    }
    if key.verify(NAMESPACE, &data.current, &sig).is_ok() {
        return Ok(());
    }
    if !data.v1.is_empty() && key.verify(NAMESPACE, &data.v1, &sig).is_ok() {
        return Err(
            "signed over this change's digest format 1, which binds less than guard now requires: \
             re-sign with `guard sign` (or `guard digest | ssh-keygen -Y sign -n guard -f KEY`)"
                .to_string(),
        );
    }
    Err("the signature does not match this change (signed over another change?)".to_string())
}

/// Sign `data` with the OpenSSH private key in `pem`; the one-line base64.
pub fn sign(pem: &str, data: &[u8]) -> Result<(PublicKey, String)> {
    let key = PrivateKey::from_openssh(pem)
        .map_err(|e| Error::new(format!("cannot read the private key: {e}")))?;
    if key.is_encrypted() {
        return Err(Error::new(
            "the private key is encrypted: sign with `guard digest > d && ssh-keygen -Y sign -n guard -f KEY d` instead",
        ));
    }
    let sig = key
        .sign(NAMESPACE, HashAlg::Sha512, data)
        .map_err(|e| Error::new(format!("cannot sign: {e}")))?;
    let armoured = sig
        .to_pem(LineEnding::LF)
        .map_err(|e| Error::new(format!("cannot encode the signature: {e}")))?;
    Ok((key.public_key().clone(), one_line(&armoured)))
}
