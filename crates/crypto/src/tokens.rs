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

use std::sync::Arc;

use aes::Aes256;
use fpe::ff1::{FlexibleNumeralString, FF1};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::host::KeyHost;
use crate::keyring::Keyring;
use evident_access::{detokenize_request, require_allow, Access, Caller};
use evident_core::event::now_us;
use evident_core::store::{StoredToken, TokenInsert};
use evident_core::{Error, Result};
use evident_detect::validate::luhn_residue;

/// The keyring key that seals the vault's card numbers and its own keys.
pub const VAULT_KEY: &str = "evident-token-vault";
/// Information-carrying digits a token needs: 10⁶ possible values.
pub const MIN_HIDDEN_DIGITS: usize = 6;
const FF1_KEY_META: &str = "tokens.ff1_key";
const INDEX_KEY_META: &str = "tokens.index_key";
/// A token's Luhn sum, mod 10; a card's is 0.
const TOKEN_LUHN_RESIDUE: u32 = 1;

/// How a token is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenFormat {
    /// random digits; the card number is kept sealed in the vault
    Random,
    /// format-preserving encryption (NIST SP 800-38G FF1, AES-256)
    Ff1,
}

impl TokenFormat {
    /// `random` or `ff1`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenFormat::Random => "random",
            TokenFormat::Ff1 => "ff1",
        }
    }

    /// Parses `random` or `ff1`.
    pub fn parse(text: &str) -> Result<TokenFormat> {
        match text {
            "random" => Ok(TokenFormat::Random),
            "ff1" => Ok(TokenFormat::Ff1),
            other => Err(Error::BadRequest(format!(
                "token format {other:?}: use `random` or `ff1`"
            ))),
        }
    }

    /// The digits a format keeps in clear unless told otherwise.
    pub fn default_keep(self) -> Keep {
        match self {
            TokenFormat::Random => Keep::Last4,
            TokenFormat::Ff1 => Keep::First6Last4,
        }
    }
}

/// Which of the card's digits a token keeps in clear (PCI DSS allows at most the first 6 and
/// last 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Keep {
    /// the issuer's BIN and the last 4
    #[serde(rename = "first6-last4")]
    First6Last4,
    /// the last 4
    #[serde(rename = "last4")]
    Last4,
    /// nothing
    #[serde(rename = "none")]
    Nothing,
}

impl Keep {
    /// `first6-last4`, `last4` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Keep::First6Last4 => "first6-last4",
            Keep::Last4 => "last4",
            Keep::Nothing => "none",
        }
    }

    /// Parses `first6-last4`, `last4` or `none`.
    pub fn parse(text: &str) -> Result<Keep> {
        match text {
            "first6-last4" => Ok(Keep::First6Last4),
            "last4" => Ok(Keep::Last4),
            "none" => Ok(Keep::Nothing),
            other => Err(Error::BadRequest(format!(
                "keep {other:?}: use `first6-last4`, `last4` or `none`"
            ))),
        }
    }

    fn clear(self) -> (usize, usize) {
        match self {
            Keep::First6Last4 => (6, 4),
            Keep::Last4 => (0, 4),
            Keep::Nothing => (0, 0),
        }
    }
}

/// A card number: 13–19 ASCII digits passing the Luhn check, wiped from memory on drop.
pub struct Pan(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for Pan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pan({})", masked(&self.0))
    }
}

impl Pan {
    /// Parses a card number; spaces and dashes between digits are allowed. Track data is
    /// refused (rule `pci.sad.track`); errors never echo the input.
    pub fn parse(text: &str) -> Result<Pan> {
        crate::sad::refuse_in_text(text, "the card number")?;
        let text = text.trim();
        let mut digits = Zeroizing::new(Vec::with_capacity(19));
        for b in text.bytes() {
            match b {
                b'0'..=b'9' => digits.push(b - b'0'),
                b' ' | b'-' => {}
                _ => {
                    return Err(Error::BadRequest(
                        "a card number holds only digits, spaces and dashes".into(),
                    ))
                }
            }
            if digits.len() > 19 {
                break;
            }
        }
        if !(13..=19).contains(&digits.len()) {
            return Err(Error::BadRequest(
                "a card number has 13 to 19 digits".into(),
            ));
        }
        if luhn_residue(&digits) != 0 {
            return Err(Error::BadRequest(
                "not a card number: it fails the Luhn check".into(),
            ));
        }
        Ok(Pan(digits))
    }

    /// The digits as text (wiped on drop).
    pub fn reveal(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.iter().map(|d| char::from(b'0' + d)).collect())
    }

    /// First 6, asterisks, last 4: the most PCI DSS 3.4.1 lets a display show.
    pub fn masked(&self) -> String {
        masked(&self.0)
    }
}

/// First 6 and last 4 digits with asterisks between (digit values or ASCII digits).
fn masked(digits: &[u8]) -> String {
    let n = digits.len();
    digits
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if i < 6 || i + 4 >= n {
                char::from(b'0' + (d % 48))
            } else {
                '*'
            }
        })
        .collect()
}

/// Sets `digits[at]` to the one digit that makes the Luhn sum `residue` mod 10 (the digit's
/// contribution, doubled or not, runs through all of 0–9, so there is exactly one).
fn set_luhn_digit(digits: &mut [u8], at: usize, residue: u32) {
    for d in 0..10 {
        digits[at] = d;
        if luhn_residue(digits) == residue {
            return;
        }
    }
}

/// Where a card's hidden digits are: `span` is every digit the token replaces, `hidden` those
/// of them that carry information, and `luhn_at` the last one, which the others determine.
struct Layout {
    span: std::ops::Range<usize>,
    hidden: std::ops::Range<usize>,
    luhn_at: usize,
}

fn layout(len: usize, format: TokenFormat, keep: Keep) -> Result<Layout> {
    let (first, last) = keep.clear();
    let luhn_at = len - last - 1;
    let span = first..luhn_at + 1;
    if span.len() < MIN_HIDDEN_DIGITS {
        let hint = if keep == Keep::First6Last4 {
            " — keep only the last 4 (`keep: last4`)"
        } else {
            ""
        };
        return Err(Error::BadRequest(format!(
            "a {} token of a {len}-digit card keeping {} replaces only {} digit(s): \
             fewer than {MIN_HIDDEN_DIGITS} (a domain under 10^{MIN_HIDDEN_DIGITS}), so it is refused{hint}",
            format.as_str(),
            keep.as_str(),
            span.len()
        )));
    }
    Ok(Layout {
        span,
        hidden: first..luhn_at,
        luhn_at,
    })
}

/// Walks FF1 (or its inverse) over `digits[span]` until the whole number fails the Luhn
/// check: cycle-walking makes FF1 a permutation of the Luhn-invalid numbers with these kept
/// digits (NIST SP 800-38G, and Black–Rogaway), about 1.1 steps on average.
fn luhn_invalid_walk(
    digits: &mut [u8],
    span: &std::ops::Range<usize>,
    mut step: impl FnMut(&[u8]) -> Result<Vec<u8>>,
) -> Result<()> {
    for _ in 0..1000 {
        let next = step(&digits[span.clone()])?;
        digits[span.clone()].copy_from_slice(&next);
        if luhn_residue(digits) != 0 {
            return Ok(());
        }
    }
    Err(Error::Crypto("FF1 cycle-walk did not end".into()))
}

/// What [`TokenVault::tokenize`] answers.
#[derive(Debug, Clone, Serialize)]
pub struct Tokenized {
    /// the token
    pub token: String,
    /// how it was made
    pub format: TokenFormat,
    /// which digits it keeps in clear
    pub keep: Keep,
    /// the card number masked for display (first 6 / last 4)
    pub masked: String,
    /// false when the card already had this token
    pub created: bool,
}

/// What a detokenize reveals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reveal {
    /// the whole card number
    Full,
    /// first 6 and last 4 only
    Masked,
}

impl Reveal {
    /// `full` or `masked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reveal::Full => "full",
            Reveal::Masked => "masked",
        }
    }
}

/// Who asks to detokenize, as the access part sees them.
#[derive(Debug, Clone)]
pub struct Requester {
    /// the caller (for the decision event)
    pub caller: Caller,
    /// the Cedar principal type (`User`, `Service`)
    pub subject_type: String,
    /// the Cedar principal id
    pub subject_id: String,
    /// context for the policy (purpose of use, authentication facts)
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
    /// the request id, stored with the decision
    pub request_id: Option<String>,
}

/// The vault's own keys, unsealed once per engine.
pub struct VaultKeys {
    ff1: FF1<Aes256>,
    index: hmac::Key,
}

/// Card tokens over one engine's keyring.
pub struct TokenVault<'e> {
    engine: KeyHost<'e>,
    access: Access<'e>,
    keyring: Keyring<'e>,
    keys: Arc<VaultKeys>,
}

fn random_digits(out: &mut [u8]) -> Result<()> {
    let rng = SystemRandom::new();
    let mut byte = [0u8; 1];
    for d in out.iter_mut() {
        // Rejection sampling keeps every digit uniform.
        loop {
            rng.fill(&mut byte)
                .map_err(|_| Error::Crypto("the random source failed".into()))?;
            if byte[0] < 250 {
                *d = byte[0] % 10;
                break;
            }
        }
    }
    Ok(())
}

fn digits_text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// Binds an FF1 token to the digits kept in clear and the choice of kept digits.
fn ff1_tweak(
    keep: Keep,
    digits: &[u8],
    hidden: &std::ops::Range<usize>,
    luhn_at: usize,
) -> Vec<u8> {
    let mut tweak = format!("evident-pan|{}|", keep.as_str()).into_bytes();
    tweak.extend(digits[..hidden.start].iter().map(|d| b'0' + d));
    tweak.push(b'|');
    tweak.extend(digits[luhn_at + 1..].iter().map(|d| b'0' + d));
    tweak
}

impl<'e> TokenVault<'e> {
    /// The vault of `engine`, opening (or, on first use, making) its keys with the keyring
    /// and keeping them in `unsealed` (one per engine); detokenizing asks `access`.
    pub fn open(
        engine: KeyHost<'e>,
        access: Access<'e>,
        keyring: Keyring<'e>,
        unsealed: &std::sync::OnceLock<Arc<VaultKeys>>,
    ) -> Result<TokenVault<'e>> {
        let keys = match unsealed.get() {
            Some(keys) => keys.clone(),
            None => {
                let keys = Arc::new(Self::unseal_keys(&engine, &keyring)?);
                unsealed.get_or_init(|| keys).clone()
            }
        };
        Ok(TokenVault {
            engine,
            access,
            keyring,
            keys,
        })
    }

    fn unseal_keys(engine: &KeyHost<'_>, keyring: &Keyring<'_>) -> Result<VaultKeys> {
        let mut store = engine.connect_store()?;
        if store.key_versions(VAULT_KEY)?.is_empty() {
            match keyring.create(VAULT_KEY, "evident") {
                Ok(_) | Err(Error::BadRequest(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let mut unseal = |meta: &str| -> Result<Zeroizing<Vec<u8>>> {
            let sealed = match store.meta(meta)? {
                Some(sealed) => sealed,
                None => {
                    let fresh = evident_core::aead::random_key()?;
                    let sealed = keyring.encrypt(VAULT_KEY, fresh.as_ref(), meta.as_bytes())?;
                    // Another process may have made one first; theirs wins.
                    store.init_meta(meta, &sealed)?
                }
            };
            keyring.decrypt(&sealed, meta.as_bytes()).map_err(|e| {
                Error::Crypto(format!("the token vault's key {meta} does not open: {e}"))
            })
        };
        let ff1_key = unseal(FF1_KEY_META)?;
        let index_key = unseal(INDEX_KEY_META)?;
        if ff1_key.len() != 32 || index_key.len() != 32 {
            return Err(Error::Crypto("the token vault's keys are damaged".into()));
        }
        let ff1 = FF1::<Aes256>::new(&ff1_key, 10)
            .map_err(|_| Error::Crypto("FF1 refused radix 10".into()))?;
        Ok(VaultKeys {
            ff1,
            index: hmac::Key::new(hmac::HMAC_SHA256, &index_key),
        })
    }

    fn pan_index(&self, pan: &Pan) -> Vec<u8> {
        let mut ascii = Zeroizing::new(pan.0.iter().map(|d| b'0' + d).collect::<Vec<u8>>());
        let tag = hmac::sign(&self.keys.index, &ascii);
        ascii.iter_mut().for_each(|b| *b = 0);
        tag.as_ref().to_vec()
    }

    fn ff1(&self, decrypt: bool, tweak: &[u8], digits: &[u8]) -> Result<Vec<u8>> {
        let input =
            FlexibleNumeralString::from(digits.iter().map(|&d| u16::from(d)).collect::<Vec<_>>());
        let output = if decrypt {
            self.keys.ff1.decrypt(tweak, &input)
        } else {
            self.keys.ff1.encrypt(tweak, &input)
        }
        .map_err(|e| Error::Crypto(format!("FF1: {e:?}")))?;
        Ok(Vec::<u16>::from(output)
            .into_iter()
            .map(|d| d as u8)
            .collect())
    }

    /// Turns a card number into a token (the same card always gets the same token of a format
    /// and kept digits). `keep: None` takes the format's default.
    pub fn tokenize(
        &self,
        pan: &Pan,
        format: TokenFormat,
        keep: Option<Keep>,
    ) -> Result<Tokenized> {
        self.tokenize_many(std::slice::from_ref(pan), format, keep)?
            .pop()
            .ok_or_else(|| Error::Crypto("no token made".into()))
    }

    /// Tokenizes many cards, storing the new tokens in one durable transaction; every card is
    /// checked before any is stored, so one refused card stores nothing.
    pub fn tokenize_many(
        &self,
        pans: &[Pan],
        format: TokenFormat,
        keep: Option<Keep>,
    ) -> Result<Vec<Tokenized>> {
        let keep = keep.unwrap_or(format.default_keep());
        let layouts = pans
            .iter()
            .map(|pan| layout(pan.0.len(), format, keep))
            .collect::<Result<Vec<_>>>()?;
        let indexes: Vec<Vec<u8>> = pans.iter().map(|pan| self.pan_index(pan)).collect();
        let mut store = self.engine.pooled_store()?;
        let mut answers: Vec<Option<Tokenized>> = vec![None; pans.len()];
        for (i, index) in indexes.iter().enumerate() {
            if let Some(existing) = store.token_by_index(format.as_str(), keep.as_str(), index)? {
                answers[i] = Some(Tokenized {
                    token: existing,
                    format,
                    keep,
                    masked: pans[i].masked(),
                    created: false,
                });
            }
        }
        for _ in 0..16 {
            let pending: Vec<usize> = (0..pans.len()).filter(|&i| answers[i].is_none()).collect();
            if pending.is_empty() {
                break;
            }
            let records = pending
                .iter()
                .map(|&i| self.draw_token(&pans[i], format, keep, &layouts[i], &indexes[i]))
                .collect::<Result<Vec<_>>>()?;
            let outcomes = store.insert_tokens(&records)?;
            for ((&i, record), outcome) in pending.iter().zip(records).zip(outcomes) {
                let (token, created) = match outcome {
                    TokenInsert::Inserted => (record.token, true),
                    TokenInsert::Existing(existing) => (existing, false),
                    // a random token another card holds: draw again next round
                    TokenInsert::TokenTaken if format == TokenFormat::Random => continue,
                    TokenInsert::TokenTaken => {
                        return Err(Error::Crypto(
                            "a card's FF1 token is already a random token of another card; use a random token"
                                .into(),
                        ))
                    }
                };
                answers[i] = Some(Tokenized {
                    token,
                    format,
                    keep,
                    masked: pans[i].masked(),
                    created,
                });
            }
        }
        answers
            .into_iter()
            .map(|a| {
                a.ok_or_else(|| {
                    Error::Crypto(
                        "no free random token after 16 draws: this card's token space is crowded; keep fewer digits"
                            .into(),
                    )
                })
            })
            .collect()
    }

    /// A token for one card, ready to store.
    fn draw_token(
        &self,
        pan: &Pan,
        format: TokenFormat,
        keep: Keep,
        layout: &Layout,
        pan_index: &[u8],
    ) -> Result<StoredToken> {
        let Layout {
            span,
            hidden,
            luhn_at,
        } = layout;
        let mut digits = Zeroizing::new(pan.0.to_vec());
        match format {
            TokenFormat::Ff1 => {
                // The card, moved into the Luhn-invalid set by its own check digit (one-to-one:
                // the other digits determine it), then permuted within that set.
                set_luhn_digit(&mut digits, *luhn_at, TOKEN_LUHN_RESIDUE);
                let tweak = ff1_tweak(keep, &digits, hidden, *luhn_at);
                luhn_invalid_walk(&mut digits, span, |d| self.ff1(false, &tweak, d))?;
            }
            TokenFormat::Random => {
                random_digits(&mut digits[hidden.clone()])?;
                set_luhn_digit(&mut digits, *luhn_at, TOKEN_LUHN_RESIDUE);
            }
        }
        let token = digits_text(&digits);
        let pan_sealed = match format {
            TokenFormat::Random => Some(self.keyring.encrypt(
                VAULT_KEY,
                pan.reveal().as_bytes(),
                &vault_context(&token),
            )?),
            TokenFormat::Ff1 => None,
        };
        Ok(StoredToken {
            token,
            format: format.as_str().into(),
            keep: keep.as_str().into(),
            pan_index: pan_index.to_vec(),
            pan_sealed,
            created_us: now_us(),
        })
    }

    /// Reveals what a token stands for, after an allow from the access part (action
    /// `detokenize` on `CardToken::"TOKEN"`, `context.reveal` = `full` or `masked`). The
    /// decision is durable in the ledger before anything is revealed; a deny is
    /// [`Error::Denied`].
    pub fn detokenize(
        &self,
        token: &str,
        reveal: Reveal,
        requester: &Requester,
    ) -> Result<Zeroizing<String>> {
        let token = token.trim();
        if token.is_empty() || token.len() > 19 || !token.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::BadRequest("a card token is 13–19 digits".into()));
        }
        let request = detokenize_request(
            &requester.subject_type,
            &requester.subject_id,
            token,
            reveal.as_str(),
            requester.context.clone(),
        );
        let answer = self.access.evaluate_blocking(
            &request,
            &requester.caller,
            requester.request_id.as_deref(),
        );
        require_allow(
            answer,
            &format!("revealing the card token {token} ({})", reveal.as_str()),
        )?;
        let pan = self.open_token(token)?;
        Ok(match reveal {
            Reveal::Full => pan.reveal(),
            Reveal::Masked => Zeroizing::new(pan.masked()),
        })
    }

    /// The card behind a registered token, with no access decision: for the engine's own
    /// checks and benchmarks of the vault alone.
    pub fn open_token(&self, token: &str) -> Result<Pan> {
        let stored = self
            .engine
            .pooled_store()?
            .token(token)?
            .ok_or_else(|| Error::NotFound("no such card token in this vault".into()))?;
        let format = TokenFormat::parse(&stored.format)?;
        let keep = Keep::parse(&stored.keep)?;
        let pan = match (format, &stored.pan_sealed) {
            (TokenFormat::Random, Some(sealed)) => {
                let text = self.keyring.decrypt(sealed, &vault_context(token))?;
                let text = std::str::from_utf8(&text)
                    .map_err(|_| Error::Crypto("the vault entry is damaged".into()))?;
                Pan::parse(text)?
            }
            (TokenFormat::Random, None) => {
                return Err(Error::Crypto("the vault entry is damaged".into()))
            }
            (TokenFormat::Ff1, _) => {
                let mut digits =
                    Zeroizing::new(token.bytes().map(|b| b - b'0').collect::<Vec<u8>>());
                let Layout {
                    span,
                    hidden,
                    luhn_at,
                } = layout(digits.len(), format, keep)?;
                let tweak = ff1_tweak(keep, &digits, &hidden, luhn_at);
                luhn_invalid_walk(&mut digits, &span, |d| self.ff1(true, &tweak, d))?;
                set_luhn_digit(&mut digits, luhn_at, 0);
                Pan(digits)
            }
        };
        if hmac::verify(&self.keys.index, pan.reveal().as_bytes(), &stored.pan_index).is_err() {
            return Err(Error::Crypto(
                "the vault entry does not match its card: the vault was altered".into(),
            ));
        }
        Ok(pan)
    }

    /// Tokens issued, per format and kept digits.
    pub fn counts(&self) -> Result<Vec<(String, String, u64)>> {
        self.engine.pooled_store()?.token_counts()
    }
}

fn vault_context(token: &str) -> Vec<u8> {
    format!("evident token vault|{token}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(text: &str) -> Vec<u8> {
        text.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn luhn_digit_can_be_set_to_any_residue_at_any_position() {
        let mut pan = digits("4111111111111111");
        assert_eq!(luhn_residue(&pan), 0);
        for at in 0..pan.len() {
            for residue in 0..10 {
                set_luhn_digit(&mut pan, at, residue);
                assert_eq!(luhn_residue(&pan), residue, "at {at}");
            }
        }
    }

    #[test]
    fn cards_parse_and_bad_ones_are_refused_without_echo() {
        let pan = Pan::parse(" 4111 1111-1111 1111 ").unwrap();
        assert_eq!(pan.reveal().as_str(), "4111111111111111");
        assert_eq!(pan.masked(), "411111******1111");
        assert!(!format!("{pan:?}").contains("4111111111111111"));
        for bad in [
            "4111111111111112",
            "411111111111",
            "41111111111111111111",
            "4111x11111111111",
            "",
        ] {
            let e = Pan::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("4111111111"), "{e}");
        }
        assert!(matches!(
            Pan::parse(";4111111111111111=28121010000000000?"),
            Err(Error::SensitiveAuthenticationData(_))
        ));
    }

    #[test]
    fn layouts_refuse_small_domains() {
        // 15 digits keeping 6 + 4 replaces 5.
        let e = layout(15, TokenFormat::Ff1, Keep::First6Last4)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("last4") && e.contains("fewer than 6"), "{e}");
        assert!(layout(16, TokenFormat::Ff1, Keep::First6Last4).is_ok());
        assert!(layout(19, TokenFormat::Ff1, Keep::First6Last4).is_ok());
        let l = layout(16, TokenFormat::Random, Keep::Last4).unwrap();
        assert_eq!((l.span, l.hidden, l.luhn_at), (0..12, 0..11, 11));
        let l = layout(13, TokenFormat::Ff1, Keep::Nothing).unwrap();
        assert_eq!((l.span, l.hidden, l.luhn_at), (0..13, 0..12, 12));
        assert!(layout(13, TokenFormat::Ff1, Keep::First6Last4).is_err());
    }

    /// NIST SP 800-38G FF1 sample 7 (AES-256, radix 10, empty tweak) and sample 8 (tweak):
    /// the FF1 implementation in use is the standard one.
    #[test]
    fn ff1_matches_the_nist_samples() {
        let key = hex::decode("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
            .unwrap();
        let ff1 = FF1::<Aes256>::new(&key, 10).unwrap();
        let x: Vec<u16> = (0..10).collect();
        let run = |tweak: &[u8]| -> Vec<u16> {
            ff1.encrypt(tweak, &FlexibleNumeralString::from(x.clone()))
                .unwrap()
                .into()
        };
        assert_eq!(run(&[]), [6, 6, 5, 7, 6, 6, 7, 0, 0, 9]);
        let tweak = hex::decode("39383736353433323130").unwrap();
        assert_eq!(run(&tweak), [1, 0, 0, 1, 6, 2, 3, 4, 6, 3]);
    }
}
