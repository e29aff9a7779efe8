//! Values of the formats the corpus has planted from the start: cards, SSNs, emails, phones,
//! IBANs, IPv4 addresses and credentials, and their look-alikes.

use super::rng::{Rng, ALNUM, B64URL, BASE32, UPPER_ALNUM};

pub(crate) fn luhn_check_digit(payload: &str) -> u8 {
    let sum: u32 = payload
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

pub(crate) fn group(digits: &str, sizes: &[usize], sep: char) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (i, &size) in sizes.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.push_str(&digits[at..at + size]);
        at += size;
    }
    out
}

/// A valid card number of a major brand, in one of the usual spellings.
pub fn card(rng: &mut Rng) -> String {
    let (prefix, len) = match rng.below(7) {
        0 | 1 => ("4".to_owned(), 16),
        2 => (rng.range(51, 55).to_string(), 16),
        3 => (rng.range(2221, 2720).to_string(), 16),
        4 => (rng.pick(&["34", "37"]).to_string(), 15),
        5 => ("6011".to_owned(), 16),
        _ => (rng.range(3528, 3589).to_string(), 16),
    };
    let mut payload = prefix;
    let more = len - 1 - payload.len();
    payload.push_str(&rng.digits(more));
    let number = format!("{payload}{}", luhn_check_digit(&payload));
    let sizes: &[usize] = if len == 15 { &[4, 6, 5] } else { &[4, 4, 4, 4] };
    match rng.below(10) {
        0..=4 => number,
        5..=7 => group(&number, sizes, ' '),
        _ => group(&number, sizes, '-'),
    }
}

/// A 16-digit number that is not a card: the Luhn digit is wrong.
pub(crate) fn not_a_card(rng: &mut Rng) -> String {
    let payload = format!("4{}", rng.digits(14));
    let wrong = (luhn_check_digit(&payload) + 1 + rng.below(8) as u8) % 10;
    format!("{payload}{wrong}")
}

/// A valid SSN (never area 000, 666 or 9xx, group 00, serial 0000).
pub fn ssn(rng: &mut Rng) -> String {
    let mut area = rng.range(1, 899);
    if area == 666 || area == 78 || area == 219 {
        area += 1;
    }
    let (g, s) = (rng.range(1, 99), rng.range(1, 9999));
    if rng.chance(85) {
        format!("{area:03}-{g:02}-{s:04}")
    } else {
        format!("{area:03} {g:02} {s:04}")
    }
}

pub(crate) fn void_ssn(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("000-{:02}-{:04}", rng.range(1, 99), rng.range(1, 9999)),
        1 => format!("666-{:02}-{:04}", rng.range(1, 99), rng.range(1, 9999)),
        _ => format!("{:03}-00-{:04}", rng.range(1, 665), rng.range(1, 9999)),
    }
}

pub(crate) const FIRST: &[&str] = &[
    "jane", "john", "maria", "wei", "amir", "olga", "kofi", "lucia", "sam", "noor",
];
pub(crate) const LAST: &[&str] = &[
    "doe", "smith", "garcia", "chen", "haddad", "ivanova", "mensah", "rossi", "lee", "khan",
];
pub(crate) const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.org",
    "corp.example.net",
    "hospital.example",
    "clinic.example.co.uk",
];

/// An email address.
pub fn email(rng: &mut Rng) -> String {
    let (f, l) = (rng.pick(FIRST), rng.pick(LAST));
    let local = match rng.below(4) {
        0 => format!("{f}.{l}"),
        1 => format!("{}{l}", &f[..1]),
        2 => format!("{f}_{l}{}", rng.below(100)),
        _ => format!("{f}+billing"),
    };
    format!("{local}@{}", rng.pick(DOMAINS))
}

fn nanp_part(rng: &mut Rng) -> u64 {
    loop {
        let n = rng.range(200, 999);
        if n % 100 != 11 {
            return n;
        }
    }
}

/// A phone number: NANP in its common spellings, international E.164, or a German, British
/// or French number the way those countries write it (national form with its trunk 0, or
/// international form in groups).
pub fn phone(rng: &mut Rng) -> String {
    let (a, x, n) = (nanp_part(rng), nanp_part(rng), rng.range(0, 9999));
    match rng.below(14) {
        0 => format!("({a}) {x}-{n:04}"),
        1 => format!("{a}-{x}-{n:04}"),
        2 => format!("{a}.{x}.{n:04}"),
        3 => format!("+1 {a} {x} {n:04}"),
        4 => format!("1-{a}-{x}-{n:04}"),
        5 => format!("+44{}", rng.range(7_000_000_000, 7_999_999_999)),
        6 => format!("+49{}", rng.range(30_000_000_000, 30_999_999_999)),
        7 => format!("+49 30 {}", rng.range(1_000_000, 99_999_999)),
        8 => format!(
            "+49 (0)171 {} {}",
            rng.range(100, 999),
            rng.range(1000, 9999)
        ),
        9 => format!("+44 20 {} {}", rng.range(7000, 8999), rng.digits(4)),
        10 => format!("+44 (0)7700 {}", rng.range(900_000, 900_999)),
        11 => format!("020 {} {}", rng.range(7000, 8999), rng.digits(4)),
        12 => format!(
            "0{} {} {} {} {}",
            rng.range(1, 9),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2)
        ),
        _ => format!(
            "+33 {} {} {} {} {}",
            rng.range(1, 9),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2)
        ),
    }
}

/// A phone number written the German way behind a phone word, which it needs to be told
/// from other numbers: `Tel.: 030 12345678`.
pub(crate) fn german_phone(rng: &mut Rng) -> (&'static str, String) {
    let label = *rng.pick(&["Tel.:", "Telefon", "Mobil:", "Fax", "Tel"]);
    let number = match rng.below(3) {
        0 => format!(
            "0{} {}",
            rng.range(30, 89),
            rng.range(1_000_000, 99_999_999)
        ),
        1 => format!(
            "0{}/{}",
            rng.range(151, 179),
            rng.range(1_000_000, 9_999_999)
        ),
        _ => format!(
            "(0{}) {}-{}",
            rng.range(30, 89),
            rng.range(100, 9999),
            rng.digits(4)
        ),
    };
    (label, number)
}

/// A US number where code keeps it: a string literal or a field named for a phone.
pub(crate) fn phone_in_code(rng: &mut Rng) -> (String, String) {
    let name = *rng.pick(&[
        "SUPPORT_PHONE = \"",
        "customer.mobileNumber = '",
        "HOTLINE = \"",
        "\"callbackNumber\": \"",
        "fax_no = \"",
        "sendSms(to=\"",
    ]);
    let number = format!(
        "{}{}{:04}",
        nanp_part(rng),
        nanp_part(rng),
        rng.below(10_000)
    );
    (name.to_owned(), number)
}

fn iban_check(country: &str, bban: &str) -> String {
    let remainder = crate::validate::mod97(bban.bytes().chain(country.bytes()).chain(*b"00"));
    format!("{:02}", 98 - remainder)
}

/// A valid IBAN of a European country, compact or in groups of four.
pub fn iban(rng: &mut Rng) -> String {
    let (country, bban) = match rng.below(6) {
        0 => ("DE", rng.digits(18)),
        1 => (
            "GB",
            format!(
                "{}{}",
                rng.chars(4, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                rng.digits(14)
            ),
        ),
        2 => (
            "FR",
            format!(
                "{}{}{}",
                rng.digits(10),
                rng.chars(11, UPPER_ALNUM),
                rng.digits(2)
            ),
        ),
        3 => (
            "NL",
            format!(
                "{}{}",
                rng.chars(4, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                rng.digits(10)
            ),
        ),
        4 => ("ES", rng.digits(20)),
        _ => (
            "IT",
            format!(
                "{}{}{}",
                rng.chars(1, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                rng.digits(10),
                rng.chars(12, UPPER_ALNUM)
            ),
        ),
    };
    let compact = format!("{country}{}{bban}", iban_check(country, &bban));
    if rng.chance(60) {
        compact
    } else {
        compact
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A public-looking IPv4 address.
pub fn ipv4(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.range(11, 223),
        rng.below(256),
        rng.below(256),
        rng.range(1, 254)
    )
}

/// A credential of a common format; `multiline` allows private key blocks.
pub fn secret(rng: &mut Rng, multiline: bool) -> String {
    let kinds = if multiline { 11 } else { 10 };
    match rng.below(kinds) {
        0 => format!("AKIA{}", rng.chars(16, BASE32)),
        1 => format!("ghp_{}", rng.chars(36, ALNUM)),
        2 => format!("sk_live_{}", rng.chars(32, ALNUM)),
        3 => format!(
            "xoxb-{}-{}-{}",
            rng.digits(11),
            rng.digits(13),
            rng.chars(24, ALNUM)
        ),
        4 => format!("AIza{}", rng.chars(35, B64URL)),
        5 => format!("glpat-{}", rng.chars(20, ALNUM)),
        6 => format!("SG.{}.{}", rng.chars(22, B64URL), rng.chars(43, B64URL)),
        7 => format!("npm_{}", rng.chars(36, ALNUM)),
        8 => {
            // header {"alg":"HS256","typ":"JWT"}, a claims object, a signature
            let claims = format!(
                "{{\"sub\":\"{}\",\"iat\":{}}}",
                rng.digits(8),
                rng.range(1_600_000_000, 1_800_000_000)
            );
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            format!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
                b64.encode(claims),
                rng.chars(43, B64URL)
            )
        }
        9 => rng.chars(
            24,
            b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%&*-_",
        ),
        _ => {
            let body: Vec<String> = (0..6)
                .map(|_| {
                    rng.chars(
                        64,
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                    )
                })
                .collect();
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
                body.join("\n")
            )
        }
    }
}
