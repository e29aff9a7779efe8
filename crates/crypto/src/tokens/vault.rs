//! The token vault: issues a token for a card (the same token for the same card, found by a
//! keyed hash), registers every token, keeps random tokens' cards sealed by the keyring, and
//! reveals a card only after an access decision the ledger records.

use std::sync::Arc;

use aes::Aes256;
use fpe::ff1::{FlexibleNumeralString, FF1};
use ring::hmac;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::card::{
    digits_text, ff1_tweak, layout, luhn_invalid_walk, random_digits, set_luhn_digit, Keep, Layout,
    Pan, TokenFormat, TOKEN_LUHN_RESIDUE,
};
use crate::host::KeyHost;
use crate::keyring::Keyring;
use evident_access::{detokenize_request, require_allow, Access, Caller};
use evident_core::event::now_us;
use evident_core::store::{StoredToken, TokenInsert};
use evident_core::{Error, Result};

/// The keyring key that seals the vault's card numbers and its own keys.
pub const VAULT_KEY: &str = "evident-token-vault";
const FF1_KEY_META: &str = "tokens.ff1_key";
const INDEX_KEY_META: &str = "tokens.index_key";

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
