//! AES-256-GCM with random nonces, and random keys: the one primitive the core seals with
//! (personal values, wrapped keys). Key management on top of it is `evident-crypto`'s.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// 32 random bytes from the operating system.
pub fn random_key() -> Result<Zeroizing<[u8; 32]>> {
    let mut key = Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(key.as_mut())
        .map_err(|_| Error::Crypto("the random source failed".into()))?;
    Ok(key)
}

/// AES-256-GCM with a random nonce: `nonce ‖ ciphertext ‖ tag`.
pub fn seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::Crypto("bad key length".into()))?,
    );
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| Error::Crypto("the random source failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| Error::Crypto("encryption failed".into()))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens what [`seal`] made; any change to key, associated data or bytes is refused.
pub fn open(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(Error::Crypto("the ciphertext is truncated".into()));
    }
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::Crypto("bad key length".into()))?,
    );
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::Crypto("bad nonce".into()))?;
    let mut buf = Zeroizing::new(body.to_vec());
    let plain_len = key
        .open_in_place(nonce, Aad::from(aad), buf.as_mut_slice())
        .map_err(|_| {
            Error::Crypto(
                "cannot decrypt: wrong key or context, or the ciphertext was altered".into(),
            )
        })?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any plaintext and context round-trip; any one flipped bit is refused.
        #[test]
        fn round_trip_and_any_bit_flip_is_refused(
            plaintext in proptest::collection::vec(any::<u8>(), 0..512),
            aad in proptest::collection::vec(any::<u8>(), 0..64),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let key = random_key().unwrap();
            let sealed = seal(key.as_ref(), &aad, &plaintext).unwrap();
            let opened = open(key.as_ref(), &aad, &sealed).unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
            let mut bad = sealed.clone();
            let at = flip.index(bad.len());
            bad[at] ^= 1 << bit;
            prop_assert!(open(key.as_ref(), &aad, &bad).is_err());
        }
    }

    #[test]
    fn seal_open_round_trip_and_refusals() {
        let key = random_key().unwrap();
        let sealed = seal(key.as_ref(), b"ctx", b"hello").unwrap();
        assert_eq!(
            open(key.as_ref(), b"ctx", &sealed).unwrap().as_slice(),
            b"hello"
        );
        assert!(open(key.as_ref(), b"other", &sealed).is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(open(key.as_ref(), b"ctx", &flipped).is_err());
        assert!(open(key.as_ref(), b"ctx", &sealed[..10]).is_err());
        let other = random_key().unwrap();
        assert!(open(other.as_ref(), b"ctx", &sealed).is_err());
        assert_ne!(
            sealed,
            seal(key.as_ref(), b"ctx", b"hello").unwrap(),
            "fresh nonce each time"
        );
    }
}
