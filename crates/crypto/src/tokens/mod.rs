//! Card tokens (PCI DSS 3.3–3.5): a card number (PAN) goes in, a token that stands for it
//! comes out, and only the vault can turn the token back — after an access decision, which
//! the ledger records.
//!
//! Two formats, both the card number's length and both never passing the Luhn check, so a
//! token is never mistaken for a card (by people, by scanners, by Evident's own detector):
//!
//! - `random`: the hidden digits are drawn at random and the card number is kept in the vault,
//!   sealed by the keyring (key `evident-token-vault`, bound to the token). Keeps the last 4
//!   digits by default.
//! - `ff1`: NIST SP 800-38G FF1 (AES-256) over the hidden digits, so the token decrypts and
//!   needs no stored card number. Keeps the first 6 and last 4 digits by default.
//!
//! A token never passes the Luhn check. Random tokens draw the hidden digits but the last and
//! set that one so the Luhn sum is 1 mod 10. FF1 tokens first move the card into the
//! Luhn-invalid set by setting its check digit the same way (one-to-one, since the other digits
//! determine it), then encrypt all the hidden digits with FF1, cycle-walking until the result
//! fails the Luhn check — a permutation of the Luhn-invalid numbers that share the kept digits;
//! decrypting walks back and restores the card's own check digit. A token is refused when it
//! would replace fewer than 6 digits (a domain under 10⁶, the FF1 minimum of SP 800-38G
//! Rev. 1): keeping 6 + 4 works for cards of 16–19 digits, not for 15-digit ones. Note that a
//! card's check digit carries no information, so behind a 16-digit token keeping 6 + 4 stand
//! 10⁵ possible cards; keep only the last 4 where that is too few.
//!
//! The same card always gets the same token of a format: the vault finds it by a keyed hash
//! (HMAC-SHA-256, key sealed by the keyring, PCI DSS 3.5.1.1). Every issued token, FF1 included,
//! is registered, so detokenizing an arbitrary number is refused rather than decrypted.
//!
//! `card.rs` holds the card-number arithmetic (formats, kept digits, the Luhn digit, FF1
//! cycle-walking); `vault.rs` holds the vault that issues, registers and reveals tokens.

mod card;
mod vault;

pub use card::{Keep, Pan, TokenFormat, MIN_HIDDEN_DIGITS};
pub use vault::{Requester, Reveal, TokenVault, Tokenized, VaultKeys, VAULT_KEY};
