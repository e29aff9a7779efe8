//! Structural checks that turn a regex candidate into a finding: check digits (Luhn, mod-97,
//! DEA, and those of national identifiers in [`national`]), issuer ranges, number-plan rules
//! ([`phone`]), wallet checksums ([`crypto`]), and entropy.

use base64::Engine as _;
use serde::Deserialize;

mod arith;
pub mod crypto;
pub mod national;
pub mod phone;

pub use arith::{digits, luhn, luhn_residue, nanp};

/// The check a rule applies to its value after the regex matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// no check beyond the regex
    #[default]
    None,
    /// major-brand IIN, brand length and Luhn
    Card,
    /// Luhn over the digits
    Luhn,
    /// SSA rules: no 000/666/9xx area, no 00 group, no 0000 serial, no known-void numbers
    Ssn,
    /// 9xx area with an ITIN group range
    Itin,
    /// country length and ISO 7064 mod-97
    Iban,
    /// Luhn over `80840` followed by the ten digits
    Npi,
    /// registrant letter and the DEA check digit
    Dea,
    /// North American numbering plan: no N11 area or exchange, no 555-01xx fiction range kept
    Nanp,
    /// E.164: 8 to 15 digits
    E164,
    /// an IPv4 address that is not part of a longer dotted run (version numbers)
    Ipv4,
    /// parses as IPv6 and has enough groups to be an address, not a `a::b` path
    Ipv6,
    /// a JWT whose header decodes to a JSON object with `alg`
    Jwt,
    /// random-looking: upper case, lower case and digits, and not only hex digits
    Mixed,
    /// E.164 written in groups: a known country code and its national number length
    IntlPhone,
    /// a national number with a trunk `0` (Germany, the UK, France, …), or `00` and a
    /// country code
    NationalPhone,
    /// ABA routing number: Federal Reserve prefix and the 3-7-1 check
    AbaRouting,
    /// US EIN: an IRS campus prefix
    Ein,
    /// an id of letters and digits with at least four digits, not one repeated digit
    IdCode,
    /// UK NHS number: mod 11
    UkNhs,
    /// UK National Insurance number: the letters HMRC issues in each place
    UkNino,
    /// Medicare Beneficiary Identifier: letters and digits in CMS's places, no S L O I B Z
    UsMbi,
    /// Indian PAN: a holder-type letter in fourth place
    InPan,
    /// UK driving licence: birth month (+50) and day in their places
    UkDrivingLicence,
    /// Canadian SIN: Luhn, not starting with 0 or 8
    CaSin,
    /// Spanish NIF: the mod-23 letter
    EsNif,
    /// Spanish NIE: X/Y/Z and the mod-23 letter
    EsNie,
    /// Italian fiscal code: the check letter
    ItFiscalCode,
    /// German tax id: digit counts and ISO 7064 MOD 11,10
    DeTaxId,
    /// German pension insurance number: birth date and check digit
    DeSocialSecurity,
    /// German health-insurance number: check digit
    DeHealthInsurance,
    /// French NIR: the mod-97 key
    FrNir,
    /// Polish PESEL: birth date and check digit
    PlPesel,
    /// Swedish personnummer: date and Luhn
    SePersonnummer,
    /// Finnish personal identity code: date, century sign and mod-31 character
    FiPersonalId,
    /// Indian Aadhaar: Verhoeff
    InAadhaar,
    /// Australian TFN: weighted mod 11
    AuTfn,
    /// Australian Medicare: weighted mod 10
    AuMedicare,
    /// Australian ABN: weighted mod 89
    AuAbn,
    /// Singapore NRIC / FIN: check letter
    SgNric,
    /// South African id: birth date, citizenship and Luhn
    ZaId,
    /// Korean RRN: birth date and check digit
    KrRrn,
    /// German passport or identity card: document letters, and the ICAO 7-3-1 check digit
    /// when the machine-readable tenth digit is written
    DeDocument,
    /// German driving licence: the 9-to-1 weighted mod-11 check character
    DeDrivingLicence,
    /// Italian VAT number: provincial office and Luhn
    ItVatCode,
    /// Korean driving licence: the region code
    KrDrivingLicence,
    /// Nigerian NIN: Verhoeff
    NgNin,
    /// Thai national id: category digit and the mod-11 check digit
    ThTnin,
    /// Turkish identity number (TCKN): its two check digits
    TrTckn,
    /// Bitcoin Base58Check or Bech32, or an Ethereum address
    Wallet,
}

impl Validator {
    /// Whether some part of `whole` could pass this check: a cheap test on a whole match
    /// before its value is extracted. True unless the check looks at character classes only.
    pub fn could_hold(self, whole: &[u8]) -> bool {
        match self {
            Validator::Mixed => {
                whole.iter().any(u8::is_ascii_uppercase)
                    && whole.iter().any(u8::is_ascii_lowercase)
                    && whole.iter().any(u8::is_ascii_digit)
            }
            _ => true,
        }
    }

    /// Whether a candidate that fails this check may still hold a valid value that ends
    /// earlier: checked numbers, whose rules accept optional trailing groups that can run on
    /// into an expiry date, a CVV or another number (`4539 1488 0343 6467 12` fails Luhn as
    /// 18 digits, `4539 1488 0343 6467` passes).
    pub fn shorter_may_pass(self) -> bool {
        matches!(
            self,
            Validator::Card
                | Validator::Luhn
                | Validator::Ssn
                | Validator::Itin
                | Validator::Iban
                | Validator::Npi
                | Validator::Dea
                | Validator::Nanp
                | Validator::E164
                | Validator::IntlPhone
                | Validator::NationalPhone
                | Validator::FrNir
                | Validator::AuMedicare
        )
    }

    /// Checks `hay[start..end]` (the value), looking at its neighbours where needed.
    pub fn check(self, hay: &[u8], start: usize, end: usize) -> bool {
        let value = &hay[start..end];
        // Every numeric value a rule checks has at most 19 digits (a PAN); a stack buffer
        // spares an allocation per candidate.
        let mut buf = [0u8; 24];
        let digits = digits_into(value, &mut buf);
        match self {
            Validator::None => true,
            Validator::Card => card(value) && !is_fragment(hay, start, end),
            Validator::Luhn => luhn(digits),
            Validator::Ssn => ssn(digits) && !is_fragment(hay, start, end),
            Validator::Itin => itin(digits) && !is_fragment(hay, start, end),
            Validator::Iban => iban(value),
            Validator::Npi => npi(digits),
            Validator::Dea => dea(value),
            Validator::Nanp => nanp(digits),
            Validator::E164 => (8..=15).contains(&digits.len()),
            Validator::Ipv4 => ipv4(hay, start, end),
            Validator::Ipv6 => ipv6(value),
            Validator::Jwt => jwt(value),
            Validator::Mixed => mixed(value),
            Validator::IntlPhone => phone::international(value),
            Validator::NationalPhone => phone::national(value),
            Validator::AbaRouting => national::aba_routing(value),
            Validator::Ein => national::ein(value),
            Validator::IdCode => id_code(digits),
            Validator::UkNhs => national::uk_nhs(value),
            Validator::UkNino => national::uk_nino(value),
            Validator::UsMbi => national::us_mbi(value),
            Validator::InPan => national::in_pan(value),
            Validator::UkDrivingLicence => national::uk_driving_licence(value),
            Validator::CaSin => national::ca_sin(value),
            Validator::EsNif => national::es_nif(value),
            Validator::EsNie => national::es_nie(value),
            Validator::ItFiscalCode => national::it_fiscal_code(value),
            Validator::DeTaxId => national::de_tax_id(value),
            Validator::DeSocialSecurity => national::de_social_security(value),
            Validator::DeHealthInsurance => national::de_health_insurance(value),
            Validator::FrNir => national::fr_nir(value),
            Validator::PlPesel => national::pl_pesel(value),
            Validator::SePersonnummer => national::se_personnummer(value),
            Validator::FiPersonalId => national::fi_personal_id(value),
            Validator::InAadhaar => national::in_aadhaar(value),
            Validator::AuTfn => national::au_tfn(value),
            Validator::AuMedicare => national::au_medicare(value),
            Validator::AuAbn => national::au_abn(value),
            Validator::SgNric => national::sg_nric(value),
            Validator::ZaId => national::za_id(value),
            Validator::KrRrn => national::kr_rrn(value),
            Validator::DeDocument => national::de_document(value),
            Validator::DeDrivingLicence => national::de_driving_licence(value),
            Validator::ItVatCode => national::it_vat_code(value),
            Validator::KrDrivingLicence => national::kr_driving_licence(value),
            Validator::NgNin => national::ng_nin(value),
            Validator::ThTnin => national::th_tnin(value),
            Validator::TrTckn => national::tr_tckn(value),
            Validator::Wallet => crypto::wallet(value),
        }
    }
}

/// The ASCII digits of `value` as numbers 0–9, in `buf`; empty when there are more digits
/// than `buf` holds (no value a rule checks has more than 19).
fn digits_into<'b>(value: &[u8], buf: &'b mut [u8; 24]) -> &'b [u8] {
    let mut n = 0;
    for &b in value.iter().filter(|b| b.is_ascii_digit()) {
        if n == buf.len() {
            return &[];
        }
        buf[n] = b - b'0';
        n += 1;
    }
    &buf[..n]
}

fn prefix_number(digits: &[u8], len: usize) -> u32 {
    digits
        .iter()
        .take(len)
        .fold(0u32, |acc, &d| acc * 10 + u32::from(d))
}

/// Brand lengths by issuer identification number prefix, for the major networks.
fn brand_accepts(d: &[u8]) -> bool {
    let len = d.len();
    let p1 = prefix_number(d, 1);
    let p2 = prefix_number(d, 2);
    let p3 = prefix_number(d, 3);
    let p4 = prefix_number(d, 4);
    let p6 = prefix_number(d, 6);
    let visa = p1 == 4 && matches!(len, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16;
    let amex = (p2 == 34 || p2 == 37) && len == 15;
    let discover =
        (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622126..=622925).contains(&p6))
            && (16..=19).contains(&len);
    let jcb = (3528..=3589).contains(&p4) && (16..=19).contains(&len);
    let diners =
        ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&len);
    let unionpay = p2 == 62 && (16..=19).contains(&len);
    let maestro = (p2 == 50 || (56..=69).contains(&p2)) && (12..=19).contains(&len);
    visa || mastercard || amex || discover || jcb || diners || unionpay || maestro
}

/// A payment card number: brand range and length, Luhn, and not one repeated digit.
pub fn card(value: &[u8]) -> bool {
    let mut buf = [0u8; 24];
    let d = digits_into(value, &mut buf);
    (12..=19).contains(&d.len()) && brand_accepts(d) && luhn(d) && d.iter().any(|&x| x != d[0])
}

/// Whether the value is a fragment of something longer rather than a value of its own.
///
/// A value that touches a digit is part of a longer number (`x4111…1111` in a 23-digit
/// run). A value glued to letters is a fragment only inside a long hexadecimal token (a
/// digest or an id such as `a3f0…4111111111111111…9be2`). Anything else around it — a
/// label glued on (`pan4111…`), an expiry date, a CVV, other numbers after a space — leaves
/// it a value that must be found: the rules for these entities carry no `\b`, so this is
/// their only boundary.
fn is_fragment(hay: &[u8], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).map(|i| hay[i]);
    let after = hay.get(end).copied();
    if before.is_some_and(|b| b.is_ascii_digit()) || after.is_some_and(|b| b.is_ascii_digit()) {
        return true;
    }
    let glued = before.is_some_and(|b| b.is_ascii_alphabetic())
        || after.is_some_and(|b| b.is_ascii_alphabetic());
    glued && inside_hex_token(hay, start, end)
}

/// The shortest alphanumeric token that is taken for a digest or an opaque hex id.
const MIN_HEX_TOKEN: usize = 24;

/// Whether `hay[start..end]` lies in a run of hexadecimal digits at least [`MIN_HEX_TOKEN`]
/// long that is a whole token (not followed or preceded by other letters or digits).
fn inside_hex_token(hay: &[u8], start: usize, end: usize) -> bool {
    let token_start = hay[..start]
        .iter()
        .rposition(|b| !b.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let token_end = hay[end..]
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .map_or(hay.len(), |i| end + i);
    token_end - token_start >= MIN_HEX_TOKEN
        && hay[token_start..token_end]
            .iter()
            .all(u8::is_ascii_hexdigit)
}

/// A US SSN (nine digits) under the Social Security Administration's validity rules.
pub fn ssn(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let area = prefix_number(d, 3);
    let group = prefix_number(&d[3..], 2);
    let serial = prefix_number(&d[5..], 4);
    let number = prefix_number(d, 9);
    // 078-05-1120 was printed on a wallet insert; 219-09-9999 in an advertisement.
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && number != 78_051_120
        && number != 219_099_999
}

/// A US ITIN: 9xx area and a group in 50–65, 70–88, 90–92 or 94–99.
pub fn itin(d: &[u8]) -> bool {
    if d.len() != 9 || d[0] != 9 {
        return false;
    }
    let group = prefix_number(&d[3..], 2);
    (50..=65).contains(&group)
        || (70..=88).contains(&group)
        || (90..=92).contains(&group)
        || (94..=99).contains(&group)
}

/// IBAN lengths by country: every country of the ISO 13616 registry (SWIFT's IBAN
/// registry, release 2024), sorted by code.
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HN", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// An IBAN: known country, its length, and the ISO 7064 mod-97-10 check.
pub fn iban(value: &[u8]) -> bool {
    let compact: Vec<u8> = value
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .map(u8::to_ascii_uppercase)
        .collect();
    if compact.len() < 15 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let Some(&(_, expected)) = IBAN_LENGTHS.iter().find(|(cc, _)| cc[..] == compact[..2]) else {
        return false;
    };
    if compact.len() != expected {
        return false;
    }
    mod97(compact[4..].iter().chain(&compact[..4]).copied()) == 1
}

/// ISO 7064 mod-97-10 over upper-case alphanumerics, letters counting as 10–35 (the IBAN
/// check: rearranged, a valid number leaves 1).
pub fn mod97(chars: impl IntoIterator<Item = u8>) -> u32 {
    let mut remainder = 0u32;
    for b in chars {
        let n = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b.to_ascii_uppercase().wrapping_sub(b'A')) + 10
        };
        remainder = if n >= 10 {
            (remainder * 100 + n) % 97
        } else {
            (remainder * 10 + n) % 97
        };
    }
    remainder
}

/// A US NPI: ten digits whose check digit is Luhn over `80840` and the first nine.
pub fn npi(d: &[u8]) -> bool {
    if d.len() != 10 || !(d[0] == 1 || d[0] == 2) {
        return false;
    }
    let mut full = vec![8, 0, 8, 4, 0];
    full.extend_from_slice(d);
    luhn(&full)
}

/// A DEA registration number: registrant letter, a letter (or 9), seven digits with a check
/// digit equal to the last digit of `d1+d3+d5 + 2(d2+d4+d6)`.
pub fn dea(value: &[u8]) -> bool {
    if value.len() != 9 || !b"ABCDEFGHJKLMPRSTUX".contains(&value[0]) {
        return false;
    }
    let d = digits(&value[2..]);
    if d.len() != 7 {
        return false;
    }
    let sum = u32::from(d[0] + d[2] + d[4]) + 2 * u32::from(d[1] + d[3] + d[5]);
    sum % 10 == u32::from(d[6])
}

fn ipv4(hay: &[u8], start: usize, end: usize) -> bool {
    let dotted_before =
        start >= 2 && hay[start - 1] == b'.' && hay[start - 2].is_ascii_alphanumeric();
    let dotted_after =
        end + 1 < hay.len() && hay[end] == b'.' && hay[end + 1].is_ascii_alphanumeric();
    let dashed_after = end < hay.len() && hay[end] == b'-';
    !dotted_before && !dotted_after && !dashed_after
}

fn ipv6(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    if text.parse::<std::net::Ipv6Addr>().is_err() {
        return false;
    }
    let groups: Vec<&str> = text.split(':').filter(|g| !g.is_empty()).collect();
    groups.len() >= 3 || groups.iter().any(|g| g.len() >= 3)
}

fn jwt(value: &[u8]) -> bool {
    let header = value.split(|&b| b == b'.').next().unwrap_or_default();
    let Ok(decoded) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&decoded)
        .map(|header| header.contains_key("alg"))
        .unwrap_or(false)
}

/// An id with at least four digits that is not one digit repeated (`MBR-000000` is a
/// placeholder).
fn id_code(digits: &[u8]) -> bool {
    digits.len() >= 4 && digits.iter().any(|&d| d != digits[0])
}

fn mixed(value: &[u8]) -> bool {
    value.iter().any(u8::is_ascii_uppercase)
        && value.iter().any(u8::is_ascii_lowercase)
        && value.iter().any(u8::is_ascii_digit)
        && !value.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-')
}

/// Shannon entropy of `value` in bits per byte.
pub fn entropy(value: &[u8]) -> f64 {
    if value.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in value {
        counts[usize::from(b)] += 1;
    }
    let len = value.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_cards() {
        assert!(card(b"4111111111111111"));
        assert!(card(b"4111 1111 1111 1111"));
        assert!(card(b"378282246310005"));
        assert!(!card(b"4111111111111112"));
        assert!(!card(b"0000000000000000"));
        assert!(!card(b"1234567812345670"), "no brand starts with 1");
        assert!(!card(b"5555555555554445"), "brand-valid but Luhn fails");
    }

    #[test]
    fn fragments_touch_a_digit_or_sit_in_a_digest() {
        let is = |text: &str, value: &str| {
            let start = text.find(value).unwrap();
            is_fragment(text.as_bytes(), start, start + value.len())
        };
        let card = "4111111111111111";
        assert!(is("x 94111111111111111", card));
        assert!(is("x 41111111111111119", card));
        assert!(!is("4111111111111111 1229 737", card));
        assert!(!is("pan4111111111111111exp", card));
        assert!(!is("card 4111111111111111/12/29", card));
        assert!(is("sha 0a3f4111111111111111be29c0ffee00 ok", card));
        assert!(
            !is("ref Zq4111111111111111 ok", card),
            "not hex: a label glued on"
        );
        assert!(!is("4111111111111111", card));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn(&digits(b"123-45-6789")));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "123-00-4567",
            "123-45-0000",
            "078-05-1120",
            "219-09-9999",
        ] {
            assert!(!ssn(&digits(bad.as_bytes())), "{bad}");
        }
        assert!(itin(&digits(b"912-70-1234")));
        assert!(!itin(&digits(b"912-93-1234")));
    }

    #[test]
    fn check_digits() {
        assert!(iban(b"DE89 3704 0044 0532 0130 00"));
        assert!(iban(b"GB82WEST12345698765432"));
        assert!(!iban(b"GB82WEST12345698765433"));
        assert!(!iban(b"DE89370400440532013"));
        assert!(npi(&digits(b"1234567893")));
        assert!(!npi(&digits(b"1234567890")));
        assert!(dea(b"AB1234563"));
        assert!(!dea(b"AB1234564"));
        assert!(nanp(&digits(b"415-555-2671")));
        assert!(!nanp(&digits(b"411-555-2671")));
        assert!(!nanp(&digits(b"415-155-2671")));
    }

    #[test]
    fn entropy_orders_randomness() {
        assert_eq!(entropy(b"aaaaaaaa"), 0.0);
        assert!((entropy(b"abcdefgh") - 3.0).abs() < 1e-9);
        assert!(entropy(b"Tr0ub4dor&3-horse") > 3.5);
    }

    #[test]
    fn jwt_header_must_decode() {
        assert!(jwt(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"));
        assert!(!jwt(b"eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0.c2ln"));
    }
}
