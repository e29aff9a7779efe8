//! Storage: one trait for everything the engine keeps; each backend is a crate of its own
//! (`evident-store-sqlite`, the embedded default).
//!
//! The life of a leaf: a caller's event is validated and encoded ([`crate::event`]), queued to
//! the sequencer ([`crate::sequencer`]), which gives it the next index, hashes it into the
//! in-memory tree, signs a checkpoint over the new root and hands the whole batch to
//! [`LogStore::append`] — entries, personal values and the checkpoint in one durable
//! transaction. Only then is the caller answered. `append` refuses (with
//! [`AppendOutcome::Conflict`]) if another process appended first, so several processes can
//! share a data directory without ever forking the log.
//!
//! The contract below is checked, case by case and through this trait alone, by one suite
//! that every backend runs: `evident-store-conformance` (its `store_conformance!` macro).

use evident_ledger::audit::StoredCheckpoint;
use evident_ledger::Hash;

use crate::event::PreparedEntry;
use crate::Result;

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// its index in the log
    pub index: u64,
    /// the leaf hash stored beside it
    pub leaf: Vec<u8>,
    /// the canonical JSON bytes
    pub data: Vec<u8>,
}

/// One stored version of the policy pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicyVersion {
    /// 1, 2, …
    pub version: u64,
    /// the pack hash
    pub hash: String,
    /// the files as JSON (absent in listings)
    pub files: Option<String>,
    /// when it was applied
    pub created_us: i64,
    /// who applied it
    pub actor: String,
    /// `apply` or `rollback to N`
    pub origin: String,
}

/// One break-glass access awaiting, or closed by, a second person's review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassRecord {
    /// the review id
    pub id: String,
    /// the decision that granted the access
    pub decision_id: String,
    /// `Type::"id"` of who broke the glass
    pub subject: String,
    /// the action
    pub action: String,
    /// `Type::"id"` of the resource
    pub resource: String,
    /// the justification given
    pub justification: String,
    /// the determining policy ids, comma separated
    pub policies: String,
    /// when access was granted
    pub opened_us: i64,
    /// who reviewed it
    pub reviewer: Option<String>,
    /// `approved` or `violation`
    pub outcome: Option<String>,
    /// the reviewer's note
    pub note: Option<String>,
    /// when the review closed
    pub closed_us: Option<i64>,
}

/// A personal value stored beside the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPersonal {
    /// the entry's index
    pub index: u64,
    /// the JSON pointer the value was taken from
    pub path: String,
    /// the data subject
    pub subject: String,
    /// the salt
    pub salt: Vec<u8>,
    /// the RFC 8785 encoding of the value
    pub value: String,
}

/// A personal value as scanned, borrowed from the storage row (no copies on the verify path).
#[derive(Debug, Clone, Copy)]
pub struct PersonalRef<'a> {
    /// the entry's index
    pub index: u64,
    /// the JSON pointer the value was taken from
    pub path: &'a str,
    /// the salt
    pub salt: &'a [u8],
    /// the RFC 8785 encoding of the value
    pub value: &'a str,
}

/// What [`LogStore::scan_range`] hands over: each entry, then its personal values.
#[derive(Debug, Clone, Copy)]
pub enum Scanned<'a> {
    /// An entry as stored.
    Entry {
        /// the index it is stored under
        index: u64,
        /// the leaf hash stored beside it
        leaf: &'a [u8],
        /// its bytes
        data: &'a [u8],
    },
    /// A personal value, with the bytes of its entry (empty if the entry is missing).
    Personal {
        /// the value
        value: PersonalRef<'a>,
        /// the entry it belongs to
        entry: &'a [u8],
    },
}

/// Receives what [`LogStore::scan_range`] reads.
pub type ScanVisitor<'a> = dyn FnMut(Scanned<'_>) -> Result<()> + 'a;

/// Filters for [`LogStore::query`]. Every set field must match.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// `actor.id`
    pub actor: Option<String>,
    /// `action`
    pub action: Option<String>,
    /// `resource.type`
    pub resource_type: Option<String>,
    /// `resource.id`
    pub resource_id: Option<String>,
    /// `outcome`
    pub outcome: Option<String>,
    /// event time at or after, µs since the epoch
    pub since_us: Option<i64>,
    /// event time before, µs since the epoch
    pub until_us: Option<i64>,
    /// only entries after this index (ascending) or before it (descending): the page cursor
    pub cursor: Option<u64>,
    /// newest first
    pub descending: bool,
    /// page size
    pub limit: u32,
}

/// One version of a named key as stored: wrapped by the root key, never in clear.
#[derive(Debug, Clone)]
pub struct StoredKeyVersion {
    /// the key's name
    pub name: String,
    /// 1, 2, …
    pub version: u32,
    /// the key wrapped by the root key; `None` once destroyed
    pub wrapped: Option<Vec<u8>>,
    /// `active`, `decrypt-only`, `disabled` or `destroyed`
    pub state: String,
    /// creation time, µs since the epoch
    pub created_us: i64,
    /// encryptions reserved under this version (an upper bound of those made)
    pub uses: u64,
}

/// An API key's stored record (the secret itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// the public key id
    pub id: String,
    /// SHA-256 of the secret part
    pub secret_hash: Vec<u8>,
    /// `admin`, `writer` or `reader`
    pub role: String,
    /// a free label
    pub label: Option<String>,
    /// creation time, µs
    pub created_us: i64,
    /// revocation time, µs
    pub revoked_us: Option<i64>,
}

/// One issued card token. The card number is stored only sealed (random tokens) or not at
/// all (FF1 tokens, which decrypt); `pan_index` is a keyed hash that finds a card's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// the token
    pub token: String,
    /// `random` or `ff1`
    pub format: String,
    /// which digits stay in clear: `first6-last4`, `last4` or `none`
    pub keep: String,
    /// HMAC-SHA-256 of the card number under the vault's index key
    pub pan_index: Vec<u8>,
    /// the card number sealed by the keyring (random tokens only)
    pub pan_sealed: Option<String>,
    /// issue time, µs
    pub created_us: i64,
}

/// What [`LogStore::insert_token`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenInsert {
    /// stored
    Inserted,
    /// the card already has this token; nothing stored
    Existing(String),
    /// the token belongs to another card; nothing stored (draw another)
    TokenTaken,
}

/// One control's latest check result, kept as checks run so that `evident controls status`
/// reads one row per control instead of the ledger. The ledger holds every run; this is
/// derived from it and can be rebuilt from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlStatusRecord {
    /// the control's id
    pub control: String,
    /// `pass`, `fail`, `error` or `inconclusive`
    pub result: String,
    /// when the current unbroken run of this result began, µs
    pub since_us: i64,
    /// when the control was last checked, µs
    pub checked_us: i64,
    /// the ledger index of the last run's event
    pub index: u64,
    /// the check version of the last run
    pub check_version: String,
    /// the latest results, oldest first, one letter each (`P`, `F`, `E`, `I`)
    pub trend: String,
    /// how many runs were recorded
    pub runs: u64,
}

/// One consent change (GDPR Art. 6–7), kept beside the ledger so that the current state of a
/// subject and purpose is one indexed read. The ledger holds every change as an event; these
/// rows are derived from it, each naming its event's ledger index, and the newest row (the
/// greatest index) of a subject and purpose is its current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    /// the subject's erasure key (the keyed hash the redaction gives, never a raw value the
    /// ledger would not store), so that erasing the subject removes these rows too
    pub subject: String,
    /// what the processing is for, e.g. `marketing`
    pub purpose: String,
    /// granted (`true`) or withdrawn / opted out (`false`)
    pub granted: bool,
    /// the lawful basis, Art. 6(1)(a)–(f): `consent`, `contract`, `legal_obligation`,
    /// `vital_interests`, `public_task` or `legitimate_interests`
    pub basis: String,
    /// where it was given or withdrawn (`web`, `app`, `gpc`, `import`, …)
    pub source: String,
    /// `sha256:<hex>` of the notice text the subject saw
    pub notice_hash: String,
    /// when, µs since the epoch
    pub at_us: i64,
    /// when a grant lapses, µs since the epoch
    pub expires_us: Option<i64>,
    /// the ledger index of the event that recorded it
    pub index: u64,
}

impl ConsentRecord {
    /// Whether this change grants, at `now_us`: granted and not past its expiry.
    pub fn in_force(&self, now_us: i64) -> bool {
        self.granted && self.expires_us.is_none_or(|e| now_us < e)
    }
}

/// What [`LogStore::append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The batch is durable.
    Appended,
    /// The log no longer has the expected size: another writer appended. Nothing was written.
    Conflict {
        /// the log's actual size
        size: u64,
    },
}

/// An entry ready to store: its index, leaf hash and encoded event.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    /// the index the sequencer gave it
    pub index: u64,
    /// its leaf hash
    pub leaf: Hash,
    /// the encoded event
    pub entry: &'a PreparedEntry,
}

/// Given a personal value's path, salt and stored value, answers its replacement (or `None`
/// to leave it).
pub type ResealFn<'a> = dyn FnMut(&str, &[u8], &str) -> Result<Option<String>> + 'a;

/// Everything Evident keeps, behind one interface per backend.
pub trait LogStore: Send {
    /// A metadata value.
    fn meta(&self, key: &str) -> Result<Option<String>>;
    /// Sets a metadata value.
    fn set_meta(&mut self, key: &str, value: &str) -> Result<()>;
    /// The number of entries.
    fn size(&self) -> Result<u64>;
    /// Calls `f` with every leaf hash in `from..to`, in order.
    fn leaf_hashes(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()>;
    /// Durably appends a batch that starts at index `base`, with its personal values and the
    /// checkpoint that covers it, atomically: an append that answers an error (a batch that
    /// cannot be stored, such as two entries under one index) stores nothing of it, and what
    /// answered [`AppendOutcome::Appended`] is there for every later connection, even after
    /// a crash. Refused with [`AppendOutcome::Conflict`] when the log's size is not `base`.
    fn append(
        &mut self,
        base: u64,
        entries: &[NewEntry<'_>],
        checkpoint: &StoredCheckpoint,
    ) -> Result<AppendOutcome>;
    /// The checkpoint with the largest size.
    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>>;
    /// The smallest checkpoint covering at least `size` entries.
    fn checkpoint_covering(&self, size: u64) -> Result<Option<StoredCheckpoint>>;
    /// All checkpoints, by size.
    fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>>;
    /// One entry; `None` past the end of the log.
    fn entry(&self, index: u64) -> Result<Option<StoredEntry>>;
    /// The entries in `from..to`, by index (cut at the end of the log).
    fn entries(&self, from: u64, to: u64) -> Result<Vec<StoredEntry>>;
    /// Calls `f` with every entry whose index is in `from..to`, as stored and in storage
    /// order (which verification checks), each followed by its personal values; personal
    /// values in the range whose entry is missing come with an empty entry. One snapshot:
    /// appends running beside the scan are either wholly in it or not at all.
    fn scan_range(&self, from: u64, to: u64, f: &mut ScanVisitor<'_>) -> Result<()>;
    /// The index of an entry stored outside any log (a negative index), if there is one:
    /// [`LogStore::scan_range`] never reaches it.
    fn stray_entry(&self) -> Result<Option<i64>>;
    /// The first personal value outside `0..size` (by index) whose entry is missing, as its
    /// index and path: [`LogStore::scan_range`] over `0..size` never reaches it.
    fn orphan_personal(&self, size: u64) -> Result<Option<(i64, String)>>;
    /// One page of entries matching `query`.
    fn query(&self, query: &EventQuery) -> Result<Vec<StoredEntry>>;
    /// The personal values of one entry, by path.
    fn personal_of(&self, index: u64) -> Result<Vec<StoredPersonal>>;
    /// Deletes every personal value of `subject`, and every consent record of it; returns how
    /// many personal values were deleted.
    fn erase_subject(&mut self, subject: &str) -> Result<u64>;
    /// Deletes the personal values of the entries whose action is `action` (or, when it ends
    /// in `*`, starts with what precedes the `*`) and that were received before `before_us`:
    /// retention of personal values by age. The entries, their commitments and every
    /// checkpoint stay, so every proof still holds. Answers how many values were deleted.
    fn purge_personal(&mut self, action: &str, before_us: i64) -> Result<u64>;
    /// Stores a new version of a named key (wrapped by the root key) as the active one; the
    /// previous active version becomes decrypt-only. Answers the new version number.
    fn insert_key_version(&mut self, name: &str, wrapped: &[u8], created_us: i64) -> Result<u32>;
    /// Every version of a named key, oldest first.
    fn key_versions(&self, name: &str) -> Result<Vec<StoredKeyVersion>>;
    /// The names of every key, in order.
    fn key_names(&self) -> Result<Vec<String>>;
    /// Sets a version's state (`active`, `decrypt-only`, `disabled`); destroyed stays destroyed.
    fn set_key_state(&mut self, name: &str, version: u32, state: &str) -> Result<bool>;
    /// Forgets a version's key material for good.
    fn destroy_key_version(&mut self, name: &str, version: u32) -> Result<bool>;
    /// Reserves `uses` more encryptions under a version; answers the reserved total.
    fn reserve_key_uses(&mut self, name: &str, version: u32, uses: u64) -> Result<u64>;
    /// Marks a key as protecting regulated data (its decryption then needs an access allow).
    fn set_key_regulated(&mut self, name: &str, regulated: bool) -> Result<()>;
    /// The keys marked regulated, by name.
    fn regulated_keys(&self) -> Result<Vec<String>>;
    /// Replaces every stored personal value that `seal` changes, in one transaction; answers
    /// how many changed.
    fn reseal_personal(&mut self, seal: &mut ResealFn<'_>) -> Result<u64>;
    /// Sets a metadata value unless one is set; answers the value that is stored (this one
    /// or the one another process set first).
    fn init_meta(&mut self, key: &str, value: &str) -> Result<String>;
    /// Stores card tokens in one transaction, each unless the same card (by keyed index)
    /// already has one of its format, or the token is taken; answers what happened to each.
    fn insert_tokens(&mut self, tokens: &[StoredToken]) -> Result<Vec<TokenInsert>>;
    /// The token already issued for a card, by its keyed index.
    fn token_by_index(&self, format: &str, keep: &str, pan_index: &[u8]) -> Result<Option<String>>;
    /// One issued token.
    fn token(&self, token: &str) -> Result<Option<StoredToken>>;
    /// How many tokens were issued, per format and kept digits, sorted by both.
    fn token_counts(&self) -> Result<Vec<(String, String, u64)>>;
    /// Stores a policy version and makes it the active one (the meta value `policy_active`
    /// holds its number), in one transaction; a version already stored is refused.
    fn insert_policy_version(&mut self, version: &StoredPolicyVersion) -> Result<()>;
    /// One policy version with its files.
    fn policy_version(&self, version: u64) -> Result<Option<StoredPolicyVersion>>;
    /// Every policy version, oldest first, without files.
    fn policy_versions(&self) -> Result<Vec<StoredPolicyVersion>>;
    /// Opens a break-glass review.
    fn insert_break_glass(&mut self, record: &BreakGlassRecord) -> Result<()>;
    /// Break-glass reviews, oldest first; only open ones if `open_only`.
    fn break_glass(&self, open_only: bool) -> Result<Vec<BreakGlassRecord>>;
    /// Closes an open review; false if it is not open.
    fn close_break_glass(
        &mut self,
        id: &str,
        reviewer: &str,
        outcome: &str,
        note: &str,
        at_us: i64,
    ) -> Result<bool>;
    /// Stores a new API key; an id already stored is refused.
    fn insert_api_key(&mut self, key: &ApiKeyRecord) -> Result<()>;
    /// Looks up an API key by id.
    fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>>;
    /// All API keys, oldest first.
    fn api_keys(&self) -> Result<Vec<ApiKeyRecord>>;
    /// Marks a key revoked; false if there is no such active key.
    fn revoke_api_key(&mut self, id: &str, at_us: i64) -> Result<bool>;
    /// Records that an API key authenticated at `at_us` (an earlier time than the one stored
    /// changes nothing).
    fn record_api_key_use(&mut self, id: &str, at_us: i64) -> Result<()>;
    /// When each API key that was ever used last authenticated, by id.
    fn api_key_uses(&self) -> Result<Vec<(String, i64)>>;
    /// Stores a control's latest status unless the one stored comes from a later run (a
    /// greater ledger index); answers whether it was stored.
    fn put_control_status(&mut self, status: &ControlStatusRecord) -> Result<bool>;
    /// One control's latest status.
    fn control_status(&self, control: &str) -> Result<Option<ControlStatusRecord>>;
    /// Every control's latest status, by control id.
    fn control_statuses(&self) -> Result<Vec<ControlStatusRecord>>;
    /// Stores a consent change unless one of the same subject, purpose and ledger index is
    /// stored; answers whether it was stored.
    fn put_consent(&mut self, record: &ConsentRecord) -> Result<bool>;
    /// The current state of a subject and purpose: its change with the greatest ledger index.
    fn consent(&self, subject: &str, purpose: &str) -> Result<Option<ConsentRecord>>;
    /// The current state of every purpose of a subject, by purpose.
    fn consents_of(&self, subject: &str) -> Result<Vec<ConsentRecord>>;
    /// Every change of a subject and purpose, oldest (smallest ledger index) first.
    fn consent_history(&self, subject: &str, purpose: &str) -> Result<Vec<ConsentRecord>>;
}
