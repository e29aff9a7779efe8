//! Cryptocurrency wallet addresses: Bitcoin's Base58Check (legacy `1…`, script `3…`) and
//! Bech32 / Bech32m (`bc1…`) checksums, and the shape of an Ethereum address.

use sha2::{Digest, Sha256};

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Decodes Base58 (Bitcoin's alphabet) into bytes; `None` for a character outside it.
fn base58_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for &c in text {
        let mut carry = BASE58.iter().position(|&a| a == c)? as u32;
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = text.iter().take_while(|&&c| c == b'1').count();
    let mut out = vec![0u8; zeros];
    out.extend_from_slice(&bytes);
    Some(out)
}

/// A Bitcoin address of any of the three kinds with a valid checksum.
pub fn bitcoin(value: &[u8]) -> bool {
    if value.len() > 4 && value[..4].eq_ignore_ascii_case(b"bc1q")
        || value.len() > 4 && value[..4].eq_ignore_ascii_case(b"bc1p")
    {
        return bech32(value);
    }
    let Some(raw) = base58_decode(value) else {
        return false;
    };
    if raw.len() != 25 || !matches!(raw[0], 0x00 | 0x05) {
        return false;
    }
    let digest = Sha256::digest(Sha256::digest(&raw[..21]));
    digest[..4] == raw[21..]
}

const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk = 1u32;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// A `bc1` SegWit address: one case, Bech32 for version 0 (`q`), Bech32m for later ones.
fn bech32(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    if value != lower.as_slice() && value != value.to_ascii_uppercase().as_slice() {
        return false;
    }
    let Some(data) = lower[3..]
        .iter()
        .map(|c| BECH32_CHARSET.iter().position(|a| a == c).map(|p| p as u8))
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    if data.len() < 7 {
        return false;
    }
    let mut expanded = vec![3, 3, 0, 2, 3];
    expanded.extend_from_slice(&data);
    let constant = if data[0] == 0 { 1 } else { 0x2bc8_30a3 };
    bech32_polymod(&expanded) == constant
}

/// An Ethereum address: `0x` and 40 hex digits, not one repeated digit (a placeholder).
pub fn ethereum(value: &[u8]) -> bool {
    value.len() == 42
        && value[..2].eq_ignore_ascii_case(b"0x")
        && value[2..].iter().all(u8::is_ascii_hexdigit)
        && value[2..].iter().any(|&b| b != value[2])
}

/// A wallet address of either chain.
pub fn wallet(value: &[u8]) -> bool {
    if value.len() > 2 && value[..2].eq_ignore_ascii_case(b"0x") {
        ethereum(value)
    } else {
        bitcoin(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitcoin_addresses_need_their_checksum() {
        for good in [
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
        ] {
            assert!(wallet(good.as_bytes()), "{good}");
        }
        for bad in [
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr",
            "bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0",
        ] {
            assert!(!wallet(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn ethereum_addresses_are_forty_hex_digits() {
        assert!(wallet(b"0x52908400098527886E0F7030069857D2E4169EE7"));
        assert!(!wallet(b"0x0000000000000000000000000000000000000000"));
        assert!(!wallet(b"0x52908400098527886E0F7030069857D2E4169EE"));
        assert!(!wallet(b"0x52908400098527886E0F7030069857D2E4169EG7"));
    }
}
