//! Opaque bearer tokens. Only their SHA-256 is stored: a leaked database does not hand out
//! sessions. A fast hash is right here because the tokens carry 256 bits of entropy.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const ACCESS_PREFIX: &str = "csa_";
pub const REFRESH_PREFIX: &str = "csr_";

/// A new random token with the given prefix (the prefix lets secret scanners spot leaks).
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hash_stably() {
        let a = generate(ACCESS_PREFIX);
        let b = generate(ACCESS_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with(ACCESS_PREFIX));
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(hash(&a).len(), 32);
    }
}
