//! Check digits and structure of national identifiers, tax and health numbers: each function
//! takes the value as matched (separators included) and answers whether it can be one.
//!
//! The algorithms follow the issuers' public descriptions; the comment on each names it.

use super::arith::{digits, luhn};

/// The value's ASCII letters and digits, upper-cased (separators dropped).
fn compact(value: &[u8]) -> Vec<u8> {
    value
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_uppercase)
        .collect()
}

fn number(d: &[u8]) -> u64 {
    d.iter().fold(0u64, |acc, &x| acc * 10 + u64::from(x))
}

fn weighted(d: &[u8], weights: &[u32]) -> u32 {
    d.iter().zip(weights).map(|(&x, &w)| u32::from(x) * w).sum()
}

fn not_one_repeated_digit(d: &[u8]) -> bool {
    d.iter().any(|&x| x != d[0])
}

/// Whether day and month (1-based) can be a calendar date; February may have 29 days.
fn is_date(day: u8, month: u8) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => 29,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn two(d: &[u8], at: usize) -> u8 {
    d[at] * 10 + d[at + 1]
}

/// ABA routing transit number: a Federal Reserve prefix and weights 3-7-1 summing to a
/// multiple of ten.
pub fn aba_routing(value: &[u8]) -> bool {
    let d = digits(value);
    if d.len() != 9 || !not_one_repeated_digit(&d) {
        return false;
    }
    let prefix = two(&d, 0);
    let prefix_ok = matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80);
    prefix_ok && weighted(&d, &[3, 7, 1, 3, 7, 1, 3, 7, 1]).is_multiple_of(10)
}

/// US employer identification number: nine digits behind an IRS campus prefix.
pub fn ein(value: &[u8]) -> bool {
    let d = digits(value);
    if d.len() != 9 {
        return false;
    }
    let prefix = two(&d, 0);
    matches!(prefix, 1..=6 | 10..=16 | 20..=27 | 30..=48 | 50..=68 | 71..=77 | 80..=88 | 90..=95 | 98 | 99)
}

/// NHS number: ten digits, weights 10 down to 2, check digit `11 - sum mod 11` (11 → 0, 10
/// is never issued).
pub fn uk_nhs(value: &[u8]) -> bool {
    let d = digits(value);
    if d.len() != 10 || !not_one_repeated_digit(&d) {
        return false;
    }
    let sum = weighted(&d, &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    let check = (11 - sum % 11) % 11;
    check != 10 && check == u32::from(d[9])
}

/// UK National Insurance number: two prefix letters (never D F I Q U V first, nor those or O
/// second, nor the pairs `BG GB NK KN TN NT ZZ`), six digits, a suffix A–D.
pub fn uk_nino(value: &[u8]) -> bool {
    let c = compact(value);
    c.len() == 9
        && !b"DFIQUV".contains(&c[0])
        && !b"DFIQUVO".contains(&c[1])
        && c[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&c[8])
        && !matches!(
            &c[..2],
            b"BG" | b"GB" | b"NK" | b"KN" | b"TN" | b"NT" | b"ZZ"
        )
}

/// Medicare Beneficiary Identifier: `C A AN N A AN N A A N N`, where C is 1–9, A a letter
/// other than S L O I B Z, AN either, N a digit (dashes allowed after the 4th and 7th).
pub fn us_mbi(value: &[u8]) -> bool {
    let c = compact(value);
    let letter = |b: u8| b.is_ascii_uppercase() && !b"SLOIBZ".contains(&b);
    let either = |b: u8| letter(b) || b.is_ascii_digit();
    c.len() == 11
        && (b'1'..=b'9').contains(&c[0])
        && letter(c[1])
        && either(c[2])
        && c[3].is_ascii_digit()
        && letter(c[4])
        && either(c[5])
        && c[6].is_ascii_digit()
        && letter(c[7])
        && letter(c[8])
        && c[9..].iter().all(u8::is_ascii_digit)
}

/// Indian PAN: five letters whose fourth says the holder (`P` person, `C` company, …), four
/// digits, a letter.
pub fn in_pan(value: &[u8]) -> bool {
    value.len() == 10 && b"ABCFGHJLPT".contains(&value[3])
}

/// UK (DVLA) driving licence: five surname characters, the decade, the birth month (+50 for
/// women) and day, the year, initials, a digit and two check letters.
pub fn uk_driving_licence(value: &[u8]) -> bool {
    if value.len() != 16 {
        return false;
    }
    let d = digits(&value[5..11]);
    if d.len() != 6 {
        return false;
    }
    let month = two(&d, 1);
    let month = if month > 50 { month - 50 } else { month };
    is_date(two(&d, 3), month)
}

/// Canadian Social Insurance Number: nine digits, Luhn, never starting with 0 or 8.
pub fn ca_sin(value: &[u8]) -> bool {
    let d = digits(value);
    d.len() == 9 && d[0] != 0 && d[0] != 8 && luhn(&d) && not_one_repeated_digit(&d)
}

const NIF_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish NIF (DNI): eight digits and the letter of their value mod 23.
pub fn es_nif(value: &[u8]) -> bool {
    let c = compact(value);
    if c.len() != 9 || !c[..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = number(&digits(&c[..8]));
    NIF_LETTERS[(n % 23) as usize] == c[8]
}

/// Spanish NIE: `X`, `Y` or `Z` (read as 0, 1, 2), seven digits and the NIF letter.
pub fn es_nie(value: &[u8]) -> bool {
    let c = compact(value);
    if c.len() != 9 || !c[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let lead = match c[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        _ => return false,
    };
    let n = lead * 10_000_000 + number(&digits(&c[1..8]));
    NIF_LETTERS[(n % 23) as usize] == c[8]
}

/// Italian codice fiscale: sixteen characters whose last is a check letter over the first
/// fifteen (odd places by the ministry's table, even places by their value, mod 26).
pub fn it_fiscal_code(value: &[u8]) -> bool {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let c = compact(value);
    if c.len() != 16 || !b"ABCDEHLMPRST".contains(&c[8]) {
        return false;
    }
    let mut sum = 0;
    for (i, &b) in c[..15].iter().enumerate() {
        let index = if b.is_ascii_digit() {
            b - b'0'
        } else {
            b - b'A'
        };
        // Places are counted from 1: the first, third, … are odd.
        sum += if i % 2 == 0 {
            ODD[usize::from(index)]
        } else {
            u32::from(index)
        };
    }
    c[15] == b'A' + (sum % 26) as u8
}

/// German tax id (Steuer-IdNr): eleven digits, no leading 0, among the first ten one digit
/// twice or three times and the rest at most once, and an ISO 7064 MOD 11,10 check digit.
pub fn de_tax_id(value: &[u8]) -> bool {
    let d = digits(value);
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let mut counts = [0u8; 10];
    for &x in &d[..10] {
        counts[usize::from(x)] += 1;
    }
    let repeated = counts.iter().filter(|&&n| n >= 2).count();
    if repeated != 1 || counts.iter().any(|&n| n > 3) {
        return false;
    }
    let mut product = 10u32;
    for &x in &d[..10] {
        let mut sum = (u32::from(x) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = (11 - product) % 10;
    check == u32::from(d[10])
}

/// Position of an upper-case letter in the alphabet as two digits (`A` = 01 … `Z` = 26).
fn letter_digits(letter: u8) -> [u8; 2] {
    let n = letter - b'A' + 1;
    [n / 10, n % 10]
}

/// The digit sum of each product, summed.
fn cross_sum_weighted(d: &[u8], weights: &[u32]) -> u32 {
    d.iter()
        .zip(weights)
        .map(|(&x, &w)| {
            let p = u32::from(x) * w;
            p / 10 + p % 10
        })
        .sum()
}

/// German pension insurance number (Rentenversicherungsnummer): area, birth date (day + 50
/// for a second number), the surname's initial, serial, and a check digit over the twelve
/// digits the letter becomes, weights 2 1 2 5 7 1 2 1 2 1 2 1, digit sums, mod 10.
pub fn de_social_security(value: &[u8]) -> bool {
    let c = compact(value);
    if c.len() != 12 || !c[8].is_ascii_uppercase() {
        return false;
    }
    let head = digits(&c[..8]);
    let tail = digits(&c[9..]);
    if head.len() != 8 || tail.len() != 3 {
        return false;
    }
    let day = two(&head, 2);
    let day = if day > 50 { day - 50 } else { day };
    if !is_date(day, two(&head, 4)) {
        return false;
    }
    let mut all = head.clone();
    all.extend_from_slice(&letter_digits(c[8]));
    all.extend_from_slice(&tail[..2]);
    let sum = cross_sum_weighted(&all, &[2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1]);
    sum % 10 == u32::from(tail[2])
}

/// German health-insurance number (Krankenversichertennummer): a letter and nine digits;
/// the letter as two digits and the first eight digits, weights 1 2 alternating, digit sums,
/// mod 10, give the ninth.
pub fn de_health_insurance(value: &[u8]) -> bool {
    let c = compact(value);
    if c.len() != 10 || !c[0].is_ascii_uppercase() {
        return false;
    }
    let d = digits(&c[1..]);
    if d.len() != 9 || !not_one_repeated_digit(&d) {
        return false;
    }
    let mut all = letter_digits(c[0]).to_vec();
    all.extend_from_slice(&d[..8]);
    let sum = cross_sum_weighted(&all, &[1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
    sum % 10 == u32::from(d[8])
}

/// French NIR (numéro de sécurité sociale): sex, year, month, département (Corsica's `2A`
/// and `2B` read as 19 and 18), commune, order, and a key `97 - (the 13 digits mod 97)`.
pub fn fr_nir(value: &[u8]) -> bool {
    let c = compact(value);
    if c.len() != 15 || !matches!(c[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return false;
    }
    let mut body = c[..13].to_vec();
    let corsica = match &body[5..7] {
        b"2A" => Some(1_000_000u64),
        b"2B" => Some(2_000_000u64),
        _ => None,
    };
    if corsica.is_some() {
        body[6] = b'0';
    }
    if !body.iter().all(u8::is_ascii_digit) || !c[13..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let month = (body[3] - b'0') * 10 + (body[4] - b'0');
    if !(1..=12).contains(&month) && !(20..=42).contains(&month) && month < 50 {
        return false;
    }
    let n = number(&digits(&body)) - corsica.unwrap_or(0);
    let key = u64::from(c[13] - b'0') * 10 + u64::from(c[14] - b'0');
    key == 97 - n % 97
}

/// Polish PESEL: birth date (the century in the month: +80 1800s, +0 1900s, +20 2000s, …)
/// and a check digit from weights 1 3 7 9 repeating.
pub fn pl_pesel(value: &[u8]) -> bool {
    let d = digits(value);
    if d.len() != 11 || !not_one_repeated_digit(&d) {
        return false;
    }
    if !is_date(two(&d, 4), two(&d, 2) % 20) {
        return false;
    }
    let sum = weighted(&d, &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]);
    (10 - sum % 10) % 10 == u32::from(d[10])
}

/// Swedish personnummer or samordningsnummer (day + 60): `YYMMDD-NNNC` or with the century,
/// Luhn over the ten digits without the century.
pub fn se_personnummer(value: &[u8]) -> bool {
    let d = digits(value);
    let d = match d.len() {
        10 => &d[..],
        12 if matches!(two(&d, 0), 18..=20) => &d[2..],
        _ => return false,
    };
    let day = two(d, 4);
    let day = if day > 60 { day - 60 } else { day };
    is_date(day, two(d, 2)) && luhn(d)
}

/// Finnish personal identity code (henkilötunnus): `DDMMYY`, a century sign, a three-digit
/// individual number (002–999) and a check character: the nine digits mod 31, in
/// `0123456789ABCDEFHJKLMNPRSTUVWXY` (900–999 are temporary codes, still personal).
pub fn fi_personal_id(value: &[u8]) -> bool {
    const CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    let c: Vec<u8> = value.iter().map(u8::to_ascii_uppercase).collect();
    if c.len() != 11 || !b"+-ABCDEFUVWXY".contains(&c[6]) {
        return false;
    }
    let mut nine = c[..6].to_vec();
    nine.extend_from_slice(&c[7..10]);
    if !nine.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d = digits(&nine);
    let individual = number(&d[6..]);
    is_date(two(&d, 0), two(&d, 2))
        && (2..=999).contains(&individual)
        && CHECK[(number(&d) % 31) as usize] == c[10]
}

/// Verhoeff's dihedral-group check, as Aadhaar uses it.
fn verhoeff(d: &[u8]) -> bool {
    const MUL: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const PERM: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = MUL[usize::from(c)][usize::from(PERM[i % 8][usize::from(x)])];
    }
    c == 0
}

/// Indian Aadhaar: twelve digits, not starting with 0 or 1, Verhoeff check digit.
pub fn in_aadhaar(value: &[u8]) -> bool {
    let d = digits(value);
    d.len() == 12 && d[0] >= 2 && not_one_repeated_digit(&d) && verhoeff(&d)
}

/// Australian Tax File Number: nine digits, weights 1 4 3 7 5 8 6 9 10, a multiple of 11.
pub fn au_tfn(value: &[u8]) -> bool {
    let d = digits(value);
    d.len() == 9
        && not_one_repeated_digit(&d)
        && weighted(&d, &[1, 4, 3, 7, 5, 8, 6, 9, 10]).is_multiple_of(11)
}

/// Australian Medicare card number: first digit 2–6, weights 1 3 7 9 1 3 7 9 over the
/// first eight, mod 10 is the ninth; an issue number (and an individual reference) follow.
pub fn au_medicare(value: &[u8]) -> bool {
    let d = digits(value);
    (10..=11).contains(&d.len())
        && (2..=6).contains(&d[0])
        && weighted(&d, &[1, 3, 7, 9, 1, 3, 7, 9]) % 10 == u32::from(d[8])
}

/// Australian Business Number: eleven digits; one taken from the first, weights
/// 10 1 3 5 … 19, a multiple of 89.
pub fn au_abn(value: &[u8]) -> bool {
    let mut d = digits(value);
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    d[0] -= 1;
    weighted(&d, &[10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]).is_multiple_of(89)
}

/// Singapore NRIC / FIN: prefix letter, seven digits, check letter from weights
/// 2 7 6 5 4 3 2 (plus 4 for `T` and `G`, 3 for `M`) mod 11 in the prefix's table.
pub fn sg_nric(value: &[u8]) -> bool {
    let c = compact(value);
    if c.len() != 9 {
        return false;
    }
    let d = digits(&c[1..8]);
    if d.len() != 7 {
        return false;
    }
    let mut sum = weighted(&d, &[2, 7, 6, 5, 4, 3, 2]);
    sum += match c[0] {
        b'T' | b'G' => 4,
        b'M' => 3,
        _ => 0,
    };
    let r = (sum % 11) as usize;
    let table: &[u8; 11] = match c[0] {
        b'S' | b'T' => b"JZIHGFEDCBA",
        b'F' | b'G' => b"XWUTRQPNMLK",
        b'M' => b"KLJNPQRTUWX",
        _ => return false,
    };
    let r = if c[0] == b'M' { 10 - r } else { r };
    table[r] == c[8]
}

/// South African identity number: `YYMMDD`, gender sequence, citizenship 0–2, a digit, and a
/// Luhn check digit.
pub fn za_id(value: &[u8]) -> bool {
    let d = digits(value);
    d.len() == 13 && is_date(two(&d, 4), two(&d, 2)) && d[10] <= 2 && luhn(&d)
}

/// Korean Resident Registration Number: `YYMMDD`, a gender and century digit 1–4 (5–8 for
/// foreign residents), and a check digit from weights 2–9, 2–5 mod 11.
pub fn kr_rrn(value: &[u8]) -> bool {
    let d = digits(value);
    if d.len() != 13 || !is_date(two(&d, 4), two(&d, 2)) || !(1..=8).contains(&d[6]) {
        return false;
    }
    let sum = weighted(&d, &[2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]);
    (11 - sum % 11) % 10 == u32::from(d[12])
}

/// The value of a character in an ICAO Doc 9303 check: a digit its face value, a letter
/// `A` = 10 … `Z` = 35.
fn icao_value(c: u8) -> u32 {
    if c.is_ascii_digit() {
        u32::from(c - b'0')
    } else {
        u32::from(c - b'A') + 10
    }
}

/// The letters a German travel-document serial number is made of: digits and the capitals
/// that cannot be mistaken for one another (no A B D E I O Q S U).
const DE_DOCUMENT_CHARS: &[u8] = b"0123456789CFGHJKLMNPRTVWXYZ";

/// German passport or identity card (Reisepass, Personalausweis since November 2010): a
/// nine-character serial number (PassG § 4 and PAuswG § 5: the authority's four characters,
/// then five), starting with a letter, from [`DE_DOCUMENT_CHARS`] and holding a digit. The
/// document prints the nine characters; its machine-readable zone adds the ICAO Doc 9303
/// check digit (weights 7 3 1 repeating, mod 10), and when that tenth digit is written too
/// it must be right.
pub fn de_document(value: &[u8]) -> bool {
    let c = compact(value);
    if !(9..=10).contains(&c.len())
        || !c[0].is_ascii_uppercase()
        || !c[..9].iter().all(|b| DE_DOCUMENT_CHARS.contains(b))
        || !c[..9].iter().any(u8::is_ascii_digit)
    {
        return false;
    }
    let check: u32 = c[..9]
        .iter()
        .zip([7, 3, 1].iter().cycle())
        .map(|(&b, &w)| icao_value(b) * w)
        .sum();
    c.len() == 9 || u32::from(c[9].wrapping_sub(b'0')) == check % 10
}

/// German driving licence (card licences since 2013, field 5): the issuing authority's four
/// characters, a five-character serial, a check character and the issue number. The check
/// is the first nine characters (digits by value, letters `A` = 10 … `Z` = 35) weighted 9
/// down to 1, mod 11, `X` for 10 (the published specimen licences `B072RRE2I55` and
/// `J010000SD51` carry it; the Kraftfahrt-Bundesamt does not publish the rule itself).
pub fn de_driving_licence(value: &[u8]) -> bool {
    let c = compact(value);
    if c.len() != 11 || !c[..9].iter().any(u8::is_ascii_uppercase) {
        return false;
    }
    let sum: u32 = c[..9]
        .iter()
        .zip((1..=9).rev())
        .map(|(&b, w)| icao_value(b) * w)
        .sum();
    let check = match sum % 11 {
        10 => b'X',
        r => b'0' + r as u8,
    };
    c[9] == check
}

/// Italian VAT number (partita IVA): seven digits of the taxpayer, the provincial office
/// (001–100, or 120, 121, 888, 999) and a Luhn check digit.
pub fn it_vat_code(value: &[u8]) -> bool {
    let d = digits(value);
    if d.len() != 11 || !not_one_repeated_digit(&d) {
        return false;
    }
    let office = u32::from(d[7]) * 100 + u32::from(two(&d, 8));
    ((1..=100).contains(&office) || matches!(office, 120 | 121 | 888 | 999)) && luhn(&d)
}

/// Korean driving licence: `RR-YY-NNNNNN-CC`, twelve digits whose first two name the
/// issuing region (11–26 and 28). The last two are check digits whose rule the National
/// Police Agency does not publish.
pub fn kr_driving_licence(value: &[u8]) -> bool {
    let d = digits(value);
    d.len() == 12 && matches!(two(&d, 0), 11..=26 | 28) && not_one_repeated_digit(&d[2..])
}

/// Nigerian National Identification Number (NIMC): eleven digits, the last a Verhoeff check
/// digit over the ten before it.
pub fn ng_nin(value: &[u8]) -> bool {
    let d = digits(value);
    d.len() == 11 && not_one_repeated_digit(&d) && verhoeff(&d)
}

/// Thai national identification number: thirteen digits, the first a person category 1–8,
/// the last `(11 - S mod 11) mod 10` where `S` weights the first twelve 13 down to 2.
pub fn th_tnin(value: &[u8]) -> bool {
    let d = digits(value);
    if d.len() != 13 || !(1..=8).contains(&d[0]) {
        return false;
    }
    let sum = weighted(&d, &[13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    (11 - sum % 11) % 10 == u32::from(d[12])
}

/// Turkish identity number (T.C. Kimlik No, NVİ): eleven digits, no leading 0; the tenth is
/// `(7 × the odd places 1–9 − the even places 2–8) mod 10`, the eleventh the sum of the
/// first ten mod 10.
pub fn tr_tckn(value: &[u8]) -> bool {
    let d = digits(value);
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let odd: i32 = [0, 2, 4, 6, 8].iter().map(|&i| i32::from(d[i])).sum();
    let even: i32 = [1, 3, 5, 7].iter().map(|&i| i32::from(d[i])).sum();
    let tenth = (odd * 7 - even).rem_euclid(10);
    let eleventh = d[..10].iter().map(|&x| i32::from(x)).sum::<i32>() % 10;
    tenth == i32::from(d[9]) && eleventh == i32::from(d[10])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A validator, a value that passes it, and the same value with its check broken.
    type Case = (fn(&[u8]) -> bool, &'static str, &'static str);

    #[test]
    fn valid_values_pass_and_broken_checks_fail() {
        let cases: &[Case] = &[
            (aba_routing, "011000015", "011000016"),
            (aba_routing, "1210-0035-8", "1210-0035-9"),
            (ein, "12-3456789", "07-3456789"),
            (uk_nhs, "943 476 5919", "943 476 5918"),
            (uk_nhs, "4010232137", "4010232138"),
            (uk_nino, "AB 12 34 56 C", "GB 12 34 56 C"),
            (ca_sin, "193 456 787", "193 456 788"),
            (ca_sin, "130 692 544", "830 692 544"),
            (es_nif, "12345678Z", "12345678A"),
            (es_nie, "X1234567L", "X1234567A"),
            (es_nie, "Y0000000Z", "Y0000000A"),
            (it_fiscal_code, "RSSMRA85T10A562S", "RSSMRA85T10A562T"),
            (de_tax_id, "65929970489", "65929970488"),
            (de_tax_id, "26954371827", "26954371826"),
            (de_social_security, "65170839J003", "65170839J004"),
            (de_health_insurance, "A123456780", "A123456781"),
            (fr_nir, "2 69 05 49 588 157 80", "2 69 05 49 588 157 81"),
            (fr_nir, "1 84 12 2A 451 089 33", "1 84 12 2A 451 089 34"),
            (pl_pesel, "44051401359", "44051401358"),
            (pl_pesel, "02270803624", "02270803625"),
            (se_personnummer, "811228-9874", "811228-9873"),
            (se_personnummer, "19811228-9874", "19811328-9874"),
            (fi_personal_id, "131052-308T", "131052-308U"),
            (fi_personal_id, "010594Y9021", "010594Y9022"),
            (in_aadhaar, "2345 6789 0124", "2345 6789 0123"),
            (au_tfn, "123 456 782", "123 456 783"),
            (au_medicare, "2123 45670 1", "2123 45671 1"),
            (au_abn, "51 824 753 556", "51 824 753 557"),
            (sg_nric, "S1234567D", "S1234567E"),
            (sg_nric, "T1234567J", "T1234567D"),
            (sg_nric, "F1234567N", "F1234567D"),
            (sg_nric, "G1234567X", "G1234567D"),
            (za_id, "8001015009087", "8001015009088"),
            (kr_rrn, "900101-1234568", "900101-1234567"),
            (de_document, "C01X00T478", "C01X00T479"),
            (de_document, "L01X00T471", "L01X00T472"),
            (de_driving_licence, "B072RRE2I55", "B072RRE2I65"),
            (de_driving_licence, "J010000SD51", "J010000SD41"),
            (it_vat_code, "07624110040", "07624110041"),
            (ng_nin, "23456789019", "23456789018"),
            (th_tnin, "1101700230708", "1101700230709"),
            (th_tnin, "1-2345-67890-12-1", "1-2345-67890-12-2"),
            (tr_tckn, "10000000146", "10000000147"),
            (tr_tckn, "41278369246", "41278369256"),
        ];
        for (check, good, bad) in cases {
            assert!(check(good.as_bytes()), "should pass: {good}");
            assert!(!check(bad.as_bytes()), "should fail: {bad}");
        }
    }

    #[test]
    fn structure_is_checked_beside_the_check_digit() {
        assert!(!aba_routing(b"000000000"), "one repeated digit");
        assert!(!aba_routing(b"991000015"), "no Federal Reserve prefix 99");
        assert!(!uk_nhs(b"0000000000"));
        assert!(!de_tax_id(b"01234567890"), "leading zero");
        assert!(!de_tax_id(b"12345678903"), "every digit once");
        assert!(!pl_pesel(b"44151401350"), "month 15");
        assert!(!fi_personal_id(b"311352-308T"), "month 13");
        assert!(!za_id(b"8013015009086"), "month 13");
        assert!(!kr_rrn(b"901301-1234568"), "month 13");
        assert!(!in_aadhaar(b"1234 5678 9012"), "starts with 1");
        assert!(!es_nie(b"A1234567L"));
        assert!(!sg_nric(b"Q1234567D"));
        assert!(!uk_nino(b"QQ123456C") && !uk_nino(b"AB123456E") && uk_nino(b"JG103759A"));
        assert!(us_mbi(b"1EG4-TE5-MK73") && !us_mbi(b"1EG4-TE5-MS73") && !us_mbi(b"0EG4TE5MK73"));
        assert!(in_pan(b"ABCPD1234E") && !in_pan(b"ABCXD1234E"));
        assert!(
            uk_driving_licence(b"MORGA657054SM9IJ") && !uk_driving_licence(b"MORGA613054SM9IJ")
        );
        assert!(!it_fiscal_code(b"RSSMRA85Z10A562S"), "month letter Z");
        assert!(
            de_document(b"C01X00T47"),
            "the printed nine characters carry no check"
        );
        assert!(!de_document(b"A01X00T47"), "A is not a document letter");
        assert!(!de_document(b"CFGHJKLMN"), "no digit");
        assert!(!de_document(b"101X00T47"), "starts with a digit");
        assert!(!de_driving_licence(b"12345678905"), "no letter");
        assert!(
            it_vat_code(b"07624111204") && !it_vat_code(b"07624112004"),
            "office 120 is issued, 200 is not"
        );
        assert!(kr_driving_licence(b"11-22-123456-78") && !kr_driving_licence(b"27-22-123456-78"));
        assert!(!th_tnin(b"9101700230708"), "category 9");
        assert!(!tr_tckn(b"01234567890"), "leading zero");
        assert!(!ng_nin(b"00000000000"), "one repeated digit");
    }
}
