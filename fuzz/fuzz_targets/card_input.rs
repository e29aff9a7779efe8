//! Card numbers and token requests: parsing arbitrary input never panics, what parses as a card
//! passes the Luhn check and never echoes itself in errors, and the sensitive-authentication-data
//! screen finds what it reports.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match evident::crypto::tokens::Pan::parse(text) {
        Ok(pan) => {
            let digits = pan.reveal();
            assert!((13..=19).contains(&digits.len()));
            assert!(evident_detect::validate::luhn(
                &evident_detect::validate::digits(digits.as_bytes())
            ));
            assert!(!evident::crypto::sad::looks_like_track_data(text));
        }
        Err(e) => {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 6 {
                assert!(
                    !e.to_string().contains(&digits),
                    "an error echoed the input"
                );
            }
        }
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        if let Some(found) = evident::crypto::sad::find_in_json(&value) {
            assert!(found.path.starts_with('$'));
            assert!(evident::crypto::sad::refuse_in_json(&value).is_err());
        }
    }
});
