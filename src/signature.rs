//! Signed sign-offs (contract section 7): the digest of a change's protected
//! part, and SSH signatures over it (SSHSIG, namespace "guard").

use sha2::{Digest, Sha256};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use crate::error::{Error, Result};
use crate::policy::Touch;

pub const NAMESPACE: &str = "guard";
pub const TRAILER: &str = "Guard-Signature";

/// Parse an OpenSSH public key line ("ssh-ed25519 AAAA... comment").
pub fn parse_public_key(text: &str) -> Result<PublicKey> {
    PublicKey::from_openssh(text.trim())
        .map_err(|e| Error::new(format!("not an OpenSSH public key: {e}")))
}

fn field(h: &mut Sha256, name: &str, value: &str) {
    // Length-prefixed, so no two different sequences of fields hash alike.
    for part in [name, value] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
}

/// The bytes a signed sign-off signs: one line naming a SHA-256 over every
/// touched zone's id, file, kind of touch, and the full old and new text of the
/// touched lines (never their line numbers), in zone order.
pub fn digest(touched: &[Touch]) -> Vec<u8> {
    let mut items: Vec<&Touch> = touched.iter().collect();
    items.sort_by(|a, b| (&a.zone, &a.file).cmp(&(&b.zone, &b.file)));
    let mut h = Sha256::new();
    field(&mut h, "guard-digest", "1");
    for t in items {
        field(&mut h, "zone", &t.zone);
        field(&mut h, "file", &t.file);
        field(&mut h, "how", &t.how);
        field(&mut h, "objects", &t.objects);
        for d in &t.details {
            field(&mut h, "detail", d);
        }
        for hunk in &t.hunks {
            field(&mut h, "lines", &hunk.text_digest);
        }
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("guard-digest-v1 sha256:{hex}\n").into_bytes()
}

/// SHA-256 of the full old and new text of touched lines (hex).
pub fn text_digest(old: &[String], new: &[String]) -> String {
    let mut h = Sha256::new();
    for (tag, lines) in [("old", old), ("new", new)] {
        field(&mut h, tag, &lines.len().to_string());
        for l in lines {
            field(&mut h, "line", l);
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The one-line base64 body of an armoured SSHSIG (what a trailer carries).
pub fn one_line(armoured: &str) -> String {
    armoured
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect()
}

/// Verify `base64` (an SSHSIG without armour) by `key` over `data`.
pub fn verify(key: &PublicKey, base64: &str, data: &[u8]) -> std::result::Result<(), String> {
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
    key.verify(NAMESPACE, data, &sig).map_err(|_| {
        "the signature does not match this change (signed over another change?)".to_string()
    })
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
