//! Digit arithmetic the checks share: a value's digits, the Luhn check and its residue, and
//! the North American numbering plan. Re-exported from `validate`.

/// The ASCII digits of `value`, as numbers 0–9.
pub fn digits(value: &[u8]) -> Vec<u8> {
    value
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| b - b'0')
        .collect()
}

/// The Luhn (mod 10) check over digit values.
pub fn luhn(digits: &[u8]) -> bool {
    !digits.is_empty() && luhn_residue(digits) == 0
}

/// The Luhn sum of digit values, mod 10 (0 for a number that passes the check).
pub fn luhn_residue(digits: &[u8]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum::<u32>()
        % 10
}

/// A North American number: optional leading 1, area and exchange not starting with 0/1 and
/// not an N11 service code.
pub fn nanp(d: &[u8]) -> bool {
    let d = match d.len() {
        11 if d[0] == 1 => &d[1..],
        10 => d,
        _ => return false,
    };
    let n11 = |x: &[u8]| x[1] == 1 && x[2] == 1;
    d[0] >= 2 && d[3] >= 2 && !n11(&d[0..3]) && !n11(&d[3..6])
}
