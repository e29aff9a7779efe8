//! Phone numbers written as people write them: international numbers in groups
//! (`+49 30 1234 5678`, `+44 (0)20 7946 0958`) and national numbers with a trunk prefix
//! (`030 12345678`, `020 7946 0958`, `01 42 68 53 00`).

use super::arith::nanp;

/// National significant number lengths (without country code or trunk prefix) of the
/// countries whose numbers appear most in the text Evident sees; other country codes are
/// held to E.164's 8–15 digits overall.
const NSN_LENGTHS: &[(u32, usize, usize)] = &[
    (7, 10, 10),  // Russia, Kazakhstan
    (27, 9, 9),   // South Africa
    (30, 10, 10), // Greece
    (31, 9, 9),   // Netherlands
    (32, 8, 9),   // Belgium
    (33, 9, 9),   // France
    (34, 9, 9),   // Spain
    (39, 6, 11),  // Italy
    (41, 9, 9),   // Switzerland
    (43, 7, 13),  // Austria
    (44, 9, 10),  // United Kingdom
    (45, 8, 8),   // Denmark
    (46, 7, 10),  // Sweden
    (47, 8, 8),   // Norway
    (48, 9, 9),   // Poland
    (49, 6, 13),  // Germany
    (52, 10, 10), // Mexico
    (55, 10, 11), // Brazil
    (61, 9, 9),   // Australia
    (64, 8, 10),  // New Zealand
    (65, 8, 8),   // Singapore
    (81, 9, 10),  // Japan
    (82, 8, 10),  // South Korea
    (86, 10, 11), // China
    (91, 10, 10), // India
    (351, 9, 9),  // Portugal
    (353, 7, 9),  // Ireland
    (358, 6, 11), // Finland
    (971, 8, 9),  // United Arab Emirates
    (972, 8, 9),  // Israel
];

/// The digits of a phone number, without a `(0)` trunk prefix written inside an
/// international number.
fn phone_digits(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i..].starts_with(b"(0)") {
            i += 3;
            continue;
        }
        if value[i].is_ascii_digit() {
            out.push(value[i] - b'0');
        }
        i += 1;
    }
    out
}

/// Whether `d` (country code first) has a plausible national number for its country.
fn international_digits(d: &[u8]) -> bool {
    if !(8..=15).contains(&d.len()) || d[0] == 0 {
        return false;
    }
    if d[0] == 1 {
        return nanp(d);
    }
    for (code, min, max) in NSN_LENGTHS {
        let code_len = if *code >= 100 {
            3
        } else if *code >= 10 {
            2
        } else {
            1
        };
        let prefix = d[..code_len]
            .iter()
            .fold(0u32, |a, &x| a * 10 + u32::from(x));
        if prefix == *code {
            let nsn = &d[code_len..];
            return (*min..=*max).contains(&nsn.len()) && nsn[0] != 0;
        }
    }
    true
}

/// `+` and a country code, then the national number in groups.
pub fn international(value: &[u8]) -> bool {
    international_digits(&phone_digits(value))
}

/// A national number with a trunk `0` (9–12 digits, no second `0`), or one dialled with the
/// international prefix `00`.
pub fn national(value: &[u8]) -> bool {
    let d = phone_digits(value);
    if d.len() < 2 || d[0] != 0 {
        return false;
    }
    if d[1] == 0 {
        return international_digits(&d[2..]);
    }
    (9..=12).contains(&d.len()) && d.iter().skip(1).any(|&x| x != d[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_numbers_need_a_plausible_national_length() {
        for good in [
            "+49 30 12345678",
            "+49 (0)30 1234 5678",
            "+44 20 7946 0958",
            "+44 (0)7700 900123",
            "+33 1 42 68 53 00",
            "+1 415 555 2671",
            "+353 1 234 5678",
            "+263 77 123 4567",
        ] {
            assert!(international(good.as_bytes()), "{good}");
        }
        for bad in [
            "+44 20 7946 09",
            "+33 1 42 68 53 00 12",
            "+1 411 555 2671",
            "+49 0 30 1234",
            "+12 34",
        ] {
            assert!(!international(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn national_numbers_have_a_trunk_prefix() {
        for good in [
            "030 12345678",
            "020 7946 0958",
            "01 42 68 53 00",
            "0049 30 1234567",
        ] {
            assert!(national(good.as_bytes()), "{good}");
        }
        for bad in ["30 12345678", "0123 456", "0000 0000 00", "0044 20 79"] {
            assert!(!national(bad.as_bytes()), "{bad}");
        }
    }
}
