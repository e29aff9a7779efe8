//! The card-token vault over a real data directory with the default policy pack: random and
//! FF1 tokens (never Luhn-valid, kept digits in clear, one token per card), detokenizing only
//! after a logged allow, refused small domains and track data, tampering caught, and no card
//! number at rest.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::sync::Arc;

use evident::access::pack::PackFiles;
use evident::access::Caller;
use evident::crypto::local::LocalProvider;
use evident::crypto::tokens::{Keep, Pan, Requester, Reveal, TokenFormat};
use evident::store::EventQuery;
use evident::{Engine, Error};
use proptest::prelude::*;
use serde_json::json;

const PASS: &[u8] = b"correct horse battery staple";

fn setup() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    let provider = Arc::new(LocalProvider::with_passphrase(dir.path(), PASS, true).unwrap());
    assert!(engine.set_key_provider(provider));
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
    engine
        .access()
        .apply(PackFiles::load_dir(&pack).unwrap(), "test")
        .unwrap();
    (dir, engine)
}

fn luhn_valid(text: &str) -> bool {
    evident_detect::validate::luhn(&evident_detect::validate::digits(text.as_bytes()))
}

/// Appends a Luhn check digit to `payload`.
fn card(payload: &str) -> String {
    (0..10)
        .map(|d| format!("{payload}{d}"))
        .find(|c| luhn_valid(c))
        .unwrap()
}

fn user(id: &str, context: serde_json::Value) -> Requester {
    Requester {
        caller: Caller {
            method: "api_key".into(),
            id: "pos-terminal".into(),
        },
        subject_type: "User".into(),
        subject_id: id.into(),
        context: context.as_object().cloned(),
        request_id: Some("req-7".into()),
    }
}

#[test]
fn tokens_keep_their_digits_never_pass_luhn_and_are_stable_per_card() {
    let (_dir, engine) = setup();
    let vault = engine.token_vault(true).unwrap();
    let visa16 = Pan::parse("4111 1111 1111 1111").unwrap();
    let long19 = Pan::parse(&card("622126000000000001")).unwrap();
    let amex = Pan::parse("378282246310005").unwrap();

    for pan in [&visa16, &long19, &amex] {
        let text = pan.reveal();
        let random = vault.tokenize(pan, TokenFormat::Random, None).unwrap();
        assert_eq!(random.keep, Keep::Last4);
        assert_eq!(random.token.len(), text.len());
        assert_eq!(random.token[text.len() - 4..], text[text.len() - 4..]);
        assert!(!luhn_valid(&random.token), "{}", random.token);
        assert_ne!(random.token, *text);
        assert!(random.created);
        assert_eq!(random.masked, pan.masked());
        let again = vault.tokenize(pan, TokenFormat::Random, None).unwrap();
        assert_eq!(again.token, random.token, "one token per card");
        assert!(!again.created);
        assert_eq!(vault.open_token(&random.token).unwrap().reveal(), text);
    }

    // FF1 keeping 6 + 4: a 19-digit card leaves 8 digits of information.
    let ff1 = vault.tokenize(&long19, TokenFormat::Ff1, None).unwrap();
    let text = long19.reveal();
    assert_eq!(ff1.keep, Keep::First6Last4);
    assert_eq!(ff1.token[..6], text[..6]);
    assert_eq!(ff1.token[15..], text[15..]);
    assert!(!luhn_valid(&ff1.token));
    assert_ne!(ff1.token, *text);
    assert_eq!(vault.open_token(&ff1.token).unwrap().reveal(), text);
    assert_eq!(
        vault
            .tokenize(&long19, TokenFormat::Ff1, None)
            .unwrap()
            .token,
        ff1.token
    );

    // A 16-digit card keeping 6 + 4: FF1 over the 6 replaced digits (a 10^6 domain).
    let ff1_16 = vault.tokenize(&visa16, TokenFormat::Ff1, None).unwrap();
    assert_eq!(ff1_16.token[..6], *"411111");
    assert_eq!(ff1_16.token[12..], *"1111");
    assert!(!luhn_valid(&ff1_16.token) && ff1_16.token != "4111111111111111");
    assert_eq!(
        vault.open_token(&ff1_16.token).unwrap().reveal().as_str(),
        "4111111111111111"
    );
    // A 15-digit card keeping 6 + 4 replaces only 5: refused, with the way out.
    let refused = vault
        .tokenize(&amex, TokenFormat::Ff1, None)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("fewer than 6") && refused.contains("last4"),
        "{refused}"
    );
    assert!(!refused.contains("378282246310005"));
    let ff1_last4 = vault
        .tokenize(&visa16, TokenFormat::Ff1, Some(Keep::Last4))
        .unwrap();
    assert!(ff1_last4.token.ends_with("1111") && !luhn_valid(&ff1_last4.token));
    assert_eq!(
        vault
            .open_token(&ff1_last4.token)
            .unwrap()
            .reveal()
            .as_str(),
        "4111111111111111"
    );

    // Different cards, different tokens; unknown numbers are not decrypted on request.
    let other = Pan::parse("4012888888881881").unwrap();
    assert_ne!(
        vault
            .tokenize(&other, TokenFormat::Ff1, Some(Keep::Last4))
            .unwrap()
            .token,
        ff1_last4.token
    );
    assert!(matches!(
        vault.open_token("4000000000000002"),
        Err(Error::NotFound(_))
    ));
    let counts = vault.counts().unwrap();
    assert!(
        counts.contains(&("random".into(), "last4".into(), 3)),
        "{counts:?}"
    );
    assert!(
        counts.contains(&("ff1".into(), "last4".into(), 2)),
        "{counts:?}"
    );
}

#[test]
fn detokenizing_needs_a_logged_allow_and_masking_keeps_six_and_four() {
    let (_dir, engine) = setup();
    let vault = engine.token_vault(true).unwrap();
    let pan = Pan::parse("5555555555554444").unwrap();
    let token = vault
        .tokenize(&pan, TokenFormat::Random, None)
        .unwrap()
        .token;

    // bob is an editor: the whole number for a payment purpose.
    let full = vault
        .detokenize(
            &token,
            Reveal::Full,
            &user("bob", json!({"purpose_of_use": "refund"})),
        )
        .unwrap();
    assert_eq!(full.as_str(), "5555555555554444");
    // without a purpose: denied, and the error says so without the number
    let denied = vault
        .detokenize(&token, Reveal::Full, &user("bob", json!({})))
        .unwrap_err();
    assert!(matches!(denied, Error::Denied(_)), "{denied}");
    assert!(!denied.to_string().contains("5555555555554444"));
    // carol is a viewer: masked yes, full no, whatever she claims.
    let masked = vault
        .detokenize(&token, Reveal::Masked, &user("carol", json!({})))
        .unwrap();
    assert_eq!(masked.as_str(), "555555******4444");
    assert!(matches!(
        vault.detokenize(
            &token,
            Reveal::Full,
            &user(
                "carol",
                json!({"purpose_of_use": "refund", "reveal": "masked"})
            )
        ),
        Err(Error::Denied(_))
    ));
    // malformed tokens never reach the policy
    assert!(matches!(
        vault.detokenize("abc", Reveal::Masked, &user("carol", json!({}))),
        Err(Error::BadRequest(_))
    ));

    // Every decision is in the ledger, naming the token, the outcome and the reveal asked.
    let page = engine
        .query(&EventQuery {
            action: Some("access.evaluate".into()),
            resource_type: Some("CardToken".into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let outcomes: Vec<_> = page
        .events
        .iter()
        .map(|e| e.entry["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["success", "denied", "success", "denied"]);
    for e in &page.events {
        assert_eq!(e.entry["resource"]["id"], json!(token));
        assert_eq!(e.entry["request_id"], json!("req-7"));
    }
    assert_eq!(engine.verify(|_| {}).unwrap().entries, engine.size());
}

#[test]
fn an_altered_vault_is_caught_and_no_card_number_is_at_rest() {
    let (dir, engine) = setup();
    let vault = engine.token_vault(true).unwrap();
    let a = vault
        .tokenize(
            &Pan::parse("4111111111111111").unwrap(),
            TokenFormat::Random,
            None,
        )
        .unwrap()
        .token;
    let b = vault
        .tokenize(
            &Pan::parse("4012888888881881").unwrap(),
            TokenFormat::Random,
            None,
        )
        .unwrap()
        .token;
    engine.shutdown();
    drop(vault);
    drop(engine);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            for pan in [&b"4111111111111111"[..], b"4012888888881881"] {
                assert!(
                    !bytes.windows(pan.len()).any(|w| w == pan),
                    "card number in {}",
                    path.display()
                );
            }
        }
    }
    // Swap the two sealed card numbers: each is bound to its token, so neither opens.
    let db = rusqlite::Connection::open(dir.path().join("evident.db")).unwrap();
    db.execute(
        "UPDATE token_vault SET pan_sealed = (SELECT pan_sealed FROM token_vault WHERE token = ?2) WHERE token = ?1",
        [&a, &b],
    )
    .unwrap();
    drop(db);
    let engine = Engine::open(dir.path(), false).unwrap();
    let provider = Arc::new(LocalProvider::with_passphrase(dir.path(), PASS, false).unwrap());
    engine.set_key_provider(provider);
    let vault = engine.token_vault(false).unwrap();
    assert!(
        vault.open_token(&a).is_err(),
        "a swapped entry does not open"
    );
    assert_eq!(
        vault.open_token(&b).unwrap().reveal().as_str(),
        "4012888888881881"
    );
}

#[test]
fn another_engine_on_the_same_directory_shares_the_vault() {
    let (dir, engine) = setup();
    let pan = Pan::parse(&card("601100000000000000")).unwrap();
    let token = engine
        .token_vault(true)
        .unwrap()
        .tokenize(&pan, TokenFormat::Ff1, None)
        .unwrap()
        .token;
    let second = Engine::open(dir.path(), false).unwrap();
    second.set_key_provider(Arc::new(
        LocalProvider::with_passphrase(dir.path(), PASS, false).unwrap(),
    ));
    let vault = second.token_vault(false).unwrap();
    assert_eq!(vault.open_token(&token).unwrap().reveal(), pan.reveal());
    assert_eq!(
        vault.tokenize(&pan, TokenFormat::Ff1, None).unwrap().token,
        token
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Any card of any length, either format: the token round-trips, keeps the promised
    /// digits, and never passes the Luhn check.
    #[test]
    fn any_card_round_trips_and_its_token_is_never_luhn_valid(
        payload in "[1-9][0-9]{13,17}",
        ff1 in any::<bool>(),
    ) {
        let (_dir, engine) = setup_once();
        let vault = engine.token_vault(true).unwrap();
        let text = card(&payload);
        let pan = Pan::parse(&text).unwrap();
        let format = if ff1 { TokenFormat::Ff1 } else { TokenFormat::Random };
        let keep = if ff1 && text.len() >= 16 { None } else { Some(Keep::Last4) };
        let t = vault.tokenize(&pan, format, keep).unwrap();
        prop_assert!(!luhn_valid(&t.token));
        prop_assert_eq!(t.token.len(), text.len());
        prop_assert_eq!(&t.token[text.len() - 4..], &text[text.len() - 4..]);
        if t.keep == Keep::First6Last4 {
            prop_assert_eq!(&t.token[..6], &text[..6]);
        }
        let back = vault.open_token(&t.token).unwrap().reveal();
        prop_assert_eq!(back.as_str(), text.as_str());
    }
}

/// One engine for every proptest case (opening one per case would dominate the run).
fn setup_once() -> (Arc<tempfile::TempDir>, Arc<Engine>) {
    static SHARED: std::sync::OnceLock<(Arc<tempfile::TempDir>, Arc<Engine>)> =
        std::sync::OnceLock::new();
    SHARED
        .get_or_init(|| {
            let (dir, engine) = setup();
            (Arc::new(dir), Arc::new(engine))
        })
        .clone()
}

/// 2,000 cards that share their first 6 and last 4 digits: every FF1 token differs (the
/// cycle-walk is one-to-one), none passes Luhn, and each opens to its own card.
#[test]
fn ff1_tokens_of_cards_sharing_kept_digits_are_all_different() {
    let (_dir, engine) = setup();
    let vault = engine.token_vault(true).unwrap();
    let cards: Vec<String> = (0..2000)
        .map(|i| {
            // 411111 + 5 varying digits + one chosen for Luhn + 1111
            let middle = format!("{:05}", i * 37 + 11);
            (0..10)
                .map(|d| format!("411111{middle}{d}1111"))
                .find(|c| luhn_valid(c))
                .unwrap()
        })
        .collect();
    let pans: Vec<Pan> = cards.iter().map(|c| Pan::parse(c).unwrap()).collect();
    let made = vault.tokenize_many(&pans, TokenFormat::Ff1, None).unwrap();
    let distinct: std::collections::HashSet<&str> = made.iter().map(|t| t.token.as_str()).collect();
    assert_eq!(distinct.len(), cards.len());
    for (card, t) in cards.iter().zip(&made) {
        assert!(t.token.starts_with("411111") && t.token.ends_with("1111"));
        assert!(!luhn_valid(&t.token));
        assert_eq!(vault.open_token(&t.token).unwrap().reveal().as_str(), card);
    }
}
