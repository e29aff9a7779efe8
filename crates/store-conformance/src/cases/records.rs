//! The records beside the log: meta values, API keys, key versions, policy versions,
//! break-glass reviews and card tokens.

use evident_core::store::{ApiKeyRecord, BreakGlassRecord, StoredPolicyVersion, StoredToken};
use evident_core::store::{StoredKeyVersion, TokenInsert};
use evident_core::Result;

use crate::fixture::Fixture;

/// A meta value reads back as set and is replaced by the next; `init_meta` sets a value only
/// once, answering whichever value is stored, whichever connection set it.
pub(super) fn meta_values_are_set_replaced_and_initialised_once(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut first = fixture.open()?;
    let mut second = fixture.open()?;
    assert_eq!(first.meta("conformance.colour")?, None);
    first.set_meta("conformance.colour", "blue")?;
    assert_eq!(second.meta("conformance.colour")?.as_deref(), Some("blue"));
    second.set_meta("conformance.colour", "green")?;
    assert_eq!(first.meta("conformance.colour")?.as_deref(), Some("green"));
    assert_eq!(
        first.init_meta("conformance.seed", "from first")?,
        "from first"
    );
    assert_eq!(
        second.init_meta("conformance.seed", "from second")?,
        "from first"
    );
    assert_eq!(
        second.meta("conformance.seed")?.as_deref(),
        Some("from first")
    );
    assert_eq!(first.init_meta("conformance.colour", "red")?, "green");
    assert_eq!(first.meta("conformance.colour")?.as_deref(), Some("green"));
    assert_eq!(
        first.meta("conformance.other")?,
        None,
        "one key's value under another"
    );
    Ok(())
}

fn api_key(id: &str, created_us: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        secret_hash: id.bytes().cycle().take(32).collect(),
        role: "reader".into(),
        label: Some(format!("label of {id}")),
        created_us,
        revoked_us: None,
    }
}

/// API keys read back as stored, are listed oldest first, keep their id unique, and are
/// revoked once.
pub(super) fn api_keys_are_stored_listed_and_revoked_once(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    // A role outside the reader–writer–admin line reads back as stored too.
    let newer = ApiKeyRecord {
        role: "auditor".into(),
        ..api_key("a-newer", 20)
    };
    let older = ApiKeyRecord {
        role: "admin".into(),
        label: None,
        ..api_key("b-older", 10)
    };
    store.insert_api_key(&newer)?;
    store.insert_api_key(&older)?;
    let taken = ApiKeyRecord {
        role: "admin".into(),
        ..api_key("a-newer", 30)
    };
    assert!(
        store.insert_api_key(&taken).is_err(),
        "a second key under one id"
    );
    assert_eq!(store.api_key("a-newer")?, Some(newer.clone()));
    assert_eq!(store.api_key("b-older")?, Some(older.clone()));
    assert_eq!(store.api_key("missing")?, None);
    assert_eq!(store.api_keys()?, [older.clone(), newer.clone()]);
    assert!(store.revoke_api_key("a-newer", 40)?);
    assert!(!store.revoke_api_key("a-newer", 50)?, "revoked twice");
    assert!(
        !store.revoke_api_key("missing", 50)?,
        "an unknown key revoked"
    );
    let revoked = ApiKeyRecord {
        revoked_us: Some(40),
        ..newer
    };
    let other = fixture.open()?;
    assert_eq!(other.api_key("a-newer")?, Some(revoked.clone()));
    assert_eq!(other.api_keys()?, [older, revoked]);
    Ok(())
}

/// A key version's fields, as compared here (the type has no `PartialEq`).
type Version = (String, u32, Option<Vec<u8>>, String, i64, u64);

fn versions(found: Vec<StoredKeyVersion>) -> Vec<Version> {
    found
        .into_iter()
        .map(|v| (v.name, v.version, v.wrapped, v.state, v.created_us, v.uses))
        .collect()
}

fn version(name: &str, version: u32, wrapped: &[u8], state: &str, created_us: i64) -> Version {
    let wrapped = (state != "destroyed").then(|| wrapped.to_vec());
    (name.into(), version, wrapped, state.into(), created_us, 0)
}

/// Each new version of a key is numbered from 1 per name and becomes the active one, the
/// previous active one turning decrypt-only; states change until a version is destroyed,
/// which forgets its key material for good.
pub(super) fn key_versions_rotate_change_state_and_are_destroyed(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut store = fixture.open()?;
    assert_eq!(store.insert_key_version("payments", b"p1", 100)?, 1);
    assert_eq!(store.insert_key_version("audit", b"a1", 150)?, 1);
    assert_eq!(store.insert_key_version("payments", b"p2", 200)?, 2);
    assert_eq!(store.insert_key_version("payments", b"p3", 300)?, 3);
    assert_eq!(store.key_names()?, ["audit", "payments"]);
    assert!(store.key_versions("missing")?.is_empty());
    assert_eq!(
        versions(store.key_versions("payments")?),
        [
            version("payments", 1, b"p1", "decrypt-only", 100),
            version("payments", 2, b"p2", "decrypt-only", 200),
            version("payments", 3, b"p3", "active", 300),
        ]
    );
    assert_eq!(
        versions(store.key_versions("audit")?),
        [version("audit", 1, b"a1", "active", 150)]
    );
    assert!(store.set_key_state("payments", 1, "disabled")?);
    assert!(
        !store.set_key_state("payments", 9, "disabled")?,
        "a missing version"
    );
    assert!(store.destroy_key_version("payments", 2)?);
    assert!(
        !store.destroy_key_version("payments", 2)?,
        "destroyed twice"
    );
    assert!(
        !store.destroy_key_version("payments", 9)?,
        "a missing version destroyed"
    );
    assert!(
        !store.set_key_state("payments", 2, "active")?,
        "a destroyed version came back"
    );
    assert_eq!(
        versions(fixture.open()?.key_versions("payments")?),
        [
            version("payments", 1, b"p1", "disabled", 100),
            version("payments", 2, b"p2", "destroyed", 200),
            version("payments", 3, b"p3", "active", 300),
        ]
    );
    Ok(())
}

/// Versions made at once from several connections, as concurrent requests to rotate one key
/// make them, are all kept, numbered without a gap or a repeat, and one of them is active: a
/// backend waits for the other writers rather than failing (SQLite's `database is locked`).
pub(super) fn key_versions_made_at_once_from_several_connections_are_all_kept(
    fixture: &dyn Fixture,
) -> Result<()> {
    const WRITERS: u32 = 4;
    const EACH: u32 = 10;
    let mut first = fixture.open()?;
    assert_eq!(first.insert_key_version("busy", b"v", 1)?, 1);
    let stores = (0..WRITERS)
        .map(|_| fixture.open())
        .collect::<Result<Vec<_>>>()?;
    let writers: Vec<_> = stores
        .into_iter()
        .map(|mut store| {
            std::thread::spawn(move || -> Result<Vec<u32>> {
                (0..EACH)
                    .map(|i| store.insert_key_version("busy", b"v", i64::from(i)))
                    .collect()
            })
        })
        .collect();
    let mut made = vec![1];
    for writer in writers {
        match writer.join() {
            Ok(versions) => made.extend(versions?),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    made.sort_unstable();
    assert_eq!(made, (1..=1 + WRITERS * EACH).collect::<Vec<_>>());
    let stored = first.key_versions("busy")?;
    assert_eq!(stored.len(), made.len());
    assert_eq!(
        stored.iter().filter(|v| v.state == "active").count(),
        1,
        "one active version"
    );
    Ok(())
}

/// Reserved uses add up per version and the total is answered; keys are marked regulated
/// and unmarked, and the marked ones are listed by name.
pub(super) fn key_uses_are_reserved_and_keys_marked_regulated(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    store.insert_key_version("data", b"d1", 1)?;
    store.insert_key_version("data", b"d2", 2)?;
    assert_eq!(store.reserve_key_uses("data", 1, 5)?, 5);
    assert_eq!(store.reserve_key_uses("data", 1, 3)?, 8);
    assert_eq!(store.reserve_key_uses("data", 2, 1_000)?, 1_000);
    let uses: Vec<u64> = store.key_versions("data")?.iter().map(|v| v.uses).collect();
    assert_eq!(uses, [8, 1_000]);
    store.set_key_regulated("zeta", true)?;
    store.set_key_regulated("alpha", true)?;
    store.set_key_regulated("data", true)?;
    store.set_key_regulated("data", false)?;
    store.set_key_regulated("zeta", true)?;
    assert_eq!(fixture.open()?.regulated_keys()?, ["alpha", "zeta"]);
    Ok(())
}

fn policy(version: u64, created_us: i64) -> StoredPolicyVersion {
    StoredPolicyVersion {
        version,
        hash: format!("sha256:{version:064x}"),
        files: Some(format!(
            "{{\"policy-{version}.cedar\": \"permit(principal, action, resource);\"}}"
        )),
        created_us,
        actor: "admin".into(),
        origin: if version == 1 {
            "apply".into()
        } else {
            "rollback to 1".into()
        },
    }
}

/// Policy versions read back with their files, are listed oldest first without them, and
/// each stored version becomes the active one (`policy_active` in meta); a version stored
/// twice is refused and the active one stays.
pub(super) fn policy_versions_are_kept_and_the_newest_is_active(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut store = fixture.open()?;
    assert_eq!(store.meta("policy_active")?, None);
    store.insert_policy_version(&policy(1, 10))?;
    assert_eq!(store.meta("policy_active")?.as_deref(), Some("1"));
    store.insert_policy_version(&policy(2, 20))?;
    assert_eq!(store.meta("policy_active")?.as_deref(), Some("2"));
    assert!(
        store.insert_policy_version(&policy(1, 30)).is_err(),
        "version 1 stored twice"
    );
    let other = fixture.open()?;
    assert_eq!(other.meta("policy_active")?.as_deref(), Some("2"));
    assert_eq!(other.policy_version(1)?, Some(policy(1, 10)));
    assert_eq!(other.policy_version(2)?, Some(policy(2, 20)));
    assert_eq!(other.policy_version(3)?, None);
    let listed = [1, 2].map(|v| StoredPolicyVersion {
        files: None,
        ..policy(v, v as i64 * 10)
    });
    assert_eq!(other.policy_versions()?, listed);
    Ok(())
}

fn review(id: &str, opened_us: i64) -> BreakGlassRecord {
    BreakGlassRecord {
        id: id.into(),
        decision_id: format!("decision-{id}"),
        subject: "User::\"alice\"".into(),
        action: "read".into(),
        resource: format!("Record::\"{id}\""),
        justification: "patient in the emergency room".into(),
        policies: "break-glass,on-call".into(),
        opened_us,
        reviewer: None,
        outcome: None,
        note: None,
        closed_us: None,
    }
}

/// Break-glass reviews are listed oldest first, all or only the open ones; a review closes
/// once, keeping who closed it, how and when.
pub(super) fn break_glass_reviews_close_once(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    store.insert_break_glass(&review("bg-late", 30))?;
    store.insert_break_glass(&review("bg-early", 10))?;
    store.insert_break_glass(&review("bg-middle", 20))?;
    let all = [
        review("bg-early", 10),
        review("bg-middle", 20),
        review("bg-late", 30),
    ];
    assert_eq!(store.break_glass(false)?, all);
    assert_eq!(store.break_glass(true)?, all);
    assert!(store.close_break_glass("bg-middle", "bob", "approved", "justified", 40)?);
    assert!(
        !store.close_break_glass("bg-middle", "carol", "violation", "again", 50)?,
        "a review closed twice"
    );
    assert!(!store.close_break_glass("missing", "bob", "approved", "", 60)?);
    let closed = BreakGlassRecord {
        reviewer: Some("bob".into()),
        outcome: Some("approved".into()),
        note: Some("justified".into()),
        closed_us: Some(40),
        ..review("bg-middle", 20)
    };
    let other = fixture.open()?;
    assert_eq!(
        other.break_glass(false)?,
        [review("bg-early", 10), closed, review("bg-late", 30)]
    );
    assert_eq!(
        other.break_glass(true)?,
        [review("bg-early", 10), review("bg-late", 30)]
    );
    Ok(())
}

fn token(token: &str, format: &str, keep: &str, card: u8) -> StoredToken {
    StoredToken {
        token: token.into(),
        format: format.into(),
        keep: keep.into(),
        pan_index: vec![card; 32],
        pan_sealed: (format == "random").then(|| format!("sealed card {card}")),
        created_us: i64::from(card),
    }
}

/// A card has one token per format and kept digits, found by its keyed index; a token
/// belongs to one card. Each token of a batch is judged against those stored before it,
/// including the batch's own.
pub(super) fn tokens_are_unique_per_card_and_per_token(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    let first = token("tok-1", "random", "last4", 1);
    let outcomes = store.insert_tokens(&[
        first.clone(),
        token("tok-2", "ff1", "first6-last4", 2),
        // card 1 again, in the same batch
        token("tok-3", "random", "last4", 1),
        // card 1 with other kept digits: a token of its own
        token("tok-4", "random", "none", 1),
        // tok-2 is card 2's
        token("tok-2", "random", "last4", 3),
    ])?;
    assert_eq!(
        outcomes,
        [
            TokenInsert::Inserted,
            TokenInsert::Inserted,
            TokenInsert::Existing("tok-1".into()),
            TokenInsert::Inserted,
            TokenInsert::TokenTaken,
        ]
    );
    assert_eq!(
        store.insert_tokens(&[token("tok-5", "random", "last4", 1)])?,
        [TokenInsert::Existing("tok-1".into())]
    );
    assert!(store.insert_tokens(&[])?.is_empty());
    let other = fixture.open()?;
    assert_eq!(other.token("tok-1")?, Some(first));
    assert_eq!(other.token("tok-3")?, None, "a refused token was stored");
    assert_eq!(other.token("tok-5")?, None, "a refused token was stored");
    assert_eq!(
        other.token("tok-2")?,
        Some(token("tok-2", "ff1", "first6-last4", 2))
    );
    assert_eq!(
        other
            .token_by_index("random", "last4", &[1; 32])?
            .as_deref(),
        Some("tok-1")
    );
    assert_eq!(
        other.token_by_index("ff1", "last4", &[1; 32])?,
        None,
        "another format"
    );
    assert_eq!(
        other.token_by_index("random", "last4", &[3; 32])?,
        None,
        "card 3"
    );
    assert_eq!(
        other.token_counts()?,
        [
            ("ff1".into(), "first6-last4".into(), 1),
            ("random".into(), "last4".into(), 1),
            ("random".into(), "none".into(), 1),
        ]
    );
    Ok(())
}
