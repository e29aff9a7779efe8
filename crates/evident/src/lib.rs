//! # evident
//!
//! The Evident compliance engine: the audit event schema, storage, and the sequencer that
//! turns events into entries of the evidence ledger ([`evident_ledger`]).
//!
//! [`Engine`] is the facade: open a data directory, append events, read and query them,
//! prove inclusion and consistency, serve tiles, verify the whole log, erase a person's data,
//! manage API keys. The HTTP server and the CLI are thin layers over it.
//!
//! ```
//! # fn main() -> Result<(), evident::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! let engine = evident::Engine::open(dir.path(), true)?;
//! let event = evident::AuditEvent::from_json(serde_json::json!({
//!     "actor": {"id": "alice", "ip": "192.0.2.7"},
//!     "action": "record.read",
//!     "resource": {"type": "patient_record", "id": "p-1"},
//!     "outcome": "success"
//! }))?;
//! let receipt = engine.append_blocking(vec![event])?;
//! assert_eq!(receipt.receipts[0].index, 0);
//! assert_eq!(engine.verify(|_| {})?.entries, 1);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backup;
pub mod datadir;

pub use evident_access as access;
pub use evident_core::{apikey, canonical, event, personal, redaction, sequencer};
pub use evident_crypto as crypto;

/// Storage: the core's one trait ([`evident_core::store`]) and the embedded backend.
pub mod store {
    pub use evident_core::store::*;
    pub use evident_store_sqlite as sqlite;
}

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use evident_ledger::audit::Auditor;
use evident_ledger::proof;
use evident_ledger::tiles::{self, TilePath, TILE_WIDTH};
use evident_ledger::tlog_proof::TlogProof;
use evident_ledger::Hash;
use serde_json::Value;

pub use apikey::{ApiKey, NewApiKey, Role};
pub use event::{AuditEvent, PreparedEntry};
pub use evident_core::{Error, Result};
pub use sequencer::{BatchReceipt, Receipt, SignedCheckpoint};

use evident_core::recorder::{Appending, PooledStore, Recorder};
use sequencer::Sequencer;
use store::sqlite::{SqliteBackend, SqliteStore};
use store::{ApiKeyRecord, EventQuery, LogStore, StoredEntry};

/// The most events one append call takes.
pub const MAX_BATCH_EVENTS: usize = 10_000;

/// An open data directory with its sequencer running.
pub struct Engine {
    dir: PathBuf,
    origin: String,
    backend: SqliteBackend,
    readers: Mutex<Vec<SqliteStore>>,
    sequencer: Sequencer,
    indexer: Mutex<Option<store::sqlite::Indexer>>,
    redaction: redaction::EventRedactor,
    key_cache: crypto::keyring::KeyCache,
    pub(crate) access_state: access::AccessState,
    #[allow(clippy::type_complexity)]
    key_auth_cache:
        Mutex<std::collections::HashMap<String, ((Vec<u8>, ApiKey), std::time::Instant)>>,
    root: std::sync::OnceLock<Arc<dyn crypto::KeyProvider>>,
    pub(crate) token_keys: std::sync::OnceLock<Arc<crypto::tokens::VaultKeys>>,
    personal_seal: std::sync::OnceLock<Arc<personal::PersonalSeal>>,
}

/// Meta key of the personal-data key, wrapped by the root key (base64).
const PERSONAL_KEY_META: &str = "personal.key";

/// The directory's personal-data seal, if its personal values are sealed.
fn personal_seal_of(
    store: &dyn LogStore,
    dir: &Path,
    root: &datadir::RootOpener,
) -> Result<Option<personal::PersonalSeal>> {
    use base64::Engine as _;
    let Some(wrapped) = store.meta(PERSONAL_KEY_META)? else {
        return Ok(None);
    };
    let wrapped = base64::engine::general_purpose::STANDARD
        .decode(wrapped)
        .map_err(|_| Error::DataDir("the personal-data key is damaged".into()))?;
    let key = root
        .get(dir)?
        .unwrap_key(&wrapped)
        .map_err(|_| Error::DataDir("the root key does not open the personal-data key".into()))?;
    Ok(Some(personal::PersonalSeal::new(&key)?))
}

/// The personal-data seal of a data directory, for verifying a copy of it without an engine
/// (opens the root key's provider from the environment when the values are sealed).
pub fn open_personal_seal(dir: &Path) -> Result<Option<personal::PersonalSeal>> {
    let store = SqliteBackend::open(&datadir::existing_db(dir)?)?.connect()?;
    personal_seal_of(&store, dir, &datadir::RootOpener::default())
}

fn provider_mismatch(recorded: &str, requested: &str) -> Error {
    Error::Crypto(format!(
        "this data directory's keys are wrapped by the `{recorded}` key provider, not `{requested}`: set EVIDENT_KEY_PROVIDER to `{recorded}` with its settings"
    ))
}

/// A reader connection borrowed from the pool.
struct Reader<'a> {
    engine: &'a Engine,
    store: Option<SqliteStore>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        // Present from creation until drop.
        self.store.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut SqliteStore {
        self.store.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let (Some(store), Ok(mut pool)) = (self.store.take(), self.engine.readers.lock()) {
            if pool.len() < 16 {
                pool.push(store);
            }
        }
    }
}

/// A pooled reader as the parts see a store: any [`LogStore`].
struct DynReader<'a>(Reader<'a>);

impl std::ops::Deref for DynReader<'_> {
    type Target = dyn LogStore;
    fn deref(&self) -> &(dyn LogStore + 'static) {
        &*self.0
    }
}

impl std::ops::DerefMut for DynReader<'_> {
    fn deref_mut(&mut self) -> &mut (dyn LogStore + 'static) {
        &mut *self.0
    }
}

/// The engine as its parts see it.
impl Recorder for Engine {
    fn append(&self, events: Vec<AuditEvent>) -> Appending<'_> {
        Box::pin(Engine::append(self, events))
    }

    fn append_blocking(&self, events: Vec<AuditEvent>) -> Result<BatchReceipt> {
        Engine::append_blocking(self, events)
    }

    fn connect_store(&self) -> Result<Box<dyn LogStore>> {
        Engine::connect_store(self)
    }

    fn pooled_store(&self) -> Result<PooledStore<'_>> {
        Engine::pooled_store(self)
    }

    fn redaction(&self) -> &redaction::EventRedactor {
        Engine::redaction(self)
    }

    fn dir(&self) -> &Path {
        Engine::dir(self)
    }

    fn origin(&self) -> &str {
        Engine::origin(self)
    }
}

/// An inclusion proof with the checkpoint it leads to.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    /// the entry's index
    pub index: u64,
    /// the tree size proved against
    pub size: u64,
    /// the entry's leaf hash
    pub leaf: Hash,
    /// the audit path, leaf side first
    pub proof: Vec<Hash>,
    /// the root at `size`
    pub root: Hash,
    /// the signed checkpoint at `size`, when one was signed at exactly that size
    pub checkpoint: Option<String>,
}

/// One entry as read back.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// its index
    pub index: u64,
    /// its leaf hash
    pub leaf: Vec<u8>,
    /// the entry as stored (personal fields as commitments)
    pub entry: Value,
    /// the stored personal values, when asked to reveal them
    pub revealed: Vec<store::StoredPersonal>,
}

/// One page of a query.
#[derive(Debug, Clone)]
pub struct Page {
    /// the matching entries
    pub events: Vec<EventRecord>,
    /// pass as `cursor` for the next page; `None` at the end
    pub next_cursor: Option<u64>,
}

/// What a full verification checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// entries replayed
    pub entries: u64,
    /// bytes of entries hashed
    pub bytes: u64,
    /// checkpoints whose signature and root were checked
    pub checkpoints: u64,
    /// stored personal values checked against their commitments
    pub personal: u64,
    /// sealed personal values not checked, for want of the root key
    pub personal_sealed: u64,
    /// the root of the whole log
    pub root: Hash,
    /// threads that replayed segments of the log side by side
    pub workers: usize,
}

/// What erasing a data subject did.
#[derive(Debug, Clone)]
pub struct ErasureReport {
    /// personal values destroyed
    pub removed: u64,
    /// versions of the subject's own key destroyed (crypto-shredding)
    pub keys_destroyed: u32,
    /// where the erasure record landed in the log
    pub receipt: Receipt,
}

impl Engine {
    /// Opens a data directory (creating it first if `create`) and starts the sequencer.
    pub fn open(dir: &Path, create: bool) -> Result<Self> {
        let root = datadir::RootOpener::default();
        if create {
            datadir::init_with(dir, None, &root)?;
        } else {
            datadir::existing_db(dir)?;
        }
        let signer = datadir::load_signer_with(dir, &root)?;
        let backend = SqliteBackend::open(&dir.join(datadir::DB_FILE))?;
        let writer = backend.connect_writer()?;
        if let Some(origin) = writer.meta("origin")? {
            if origin != signer.name() {
                return Err(Error::DataDir(format!(
                    "the database belongs to the log `{origin}` but the signing key to `{}`",
                    signer.name()
                )));
            }
        }
        let origin = signer.name().to_string();
        let redaction =
            redaction::EventRedactor::new(&datadir::load_redaction_key_with(dir, &root)?)?;
        let personal_seal = std::sync::OnceLock::new();
        if let Some(seal) = personal_seal_of(&writer, dir, &root)? {
            let _ = personal_seal.set(Arc::new(seal));
        }
        let sequencer = Sequencer::start(Box::new(writer), signer)?;
        let indexer = backend.start_indexer()?;
        // A provider opened to unseal the directory's keys serves the keyring too.
        let opened_root = std::sync::OnceLock::new();
        if let Some(provider) = root.opened() {
            let _ = opened_root.set(provider);
        }
        Ok(Self {
            key_cache: crypto::keyring::KeyCache::default(),
            access_state: access::AccessState::default(),
            key_auth_cache: Mutex::new(std::collections::HashMap::new()),
            root: opened_root,
            token_keys: std::sync::OnceLock::new(),
            personal_seal,
            redaction,
            indexer: Mutex::new(Some(indexer)),
            dir: dir.to_path_buf(),
            origin,
            backend,
            readers: Mutex::new(Vec::new()),
            sequencer,
        })
    }

    /// A connection from the engine's pool (for the token vault's reads and writes, which
    /// are too frequent to open a connection each).
    pub(crate) fn pooled_store(&self) -> Result<PooledStore<'_>> {
        Ok(Box::new(DynReader(self.reader()?)))
    }

    /// The access part: decisions, policy packs, break-glass, reviews.
    pub fn access(&self) -> access::Access<'_> {
        access::Access::new(self, &self.access_state)
    }

    fn reader(&self) -> Result<Reader<'_>> {
        let pooled = self.readers.lock().ok().and_then(|mut p| p.pop());
        let store = match pooled {
            Some(store) => store,
            None => self.backend.connect()?,
        };
        Ok(Reader {
            engine: self,
            store: Some(store),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log's origin line (also its key name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The C2SP verifier key (`name+hex8+base64`) auditors check checkpoints with.
    pub fn verifier_key(&self) -> String {
        self.sequencer.shared.verifier.to_key_string()
    }

    /// The number of durable, signed entries.
    pub fn size(&self) -> u64 {
        self.sequencer.shared.committed.load(Ordering::Acquire)
    }

    /// Redacts, validates and encodes events, all or none; answers how many values were
    /// redacted (see [`redaction`]).
    pub fn prepare(&self, events: &[AuditEvent]) -> Result<(Vec<PreparedEntry>, usize)> {
        if events.len() > MAX_BATCH_EVENTS {
            return Err(Error::BadRequest(format!(
                "a batch holds at most {MAX_BATCH_EVENTS} events, got {}",
                events.len()
            )));
        }
        let received = event::now_us();
        let mut redacted = 0;
        let prepared = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                {
                    let (clean, value, replaced) = self.redaction.event_json(e)?;
                    redacted += replaced;
                    clean.prepare_value(value, received)
                }
                .map_err(|err| match err {
                    Error::InvalidEvent(m) if events.len() > 1 => {
                        Error::InvalidEvent(format!("event {i}: {m}"))
                    }
                    other => other,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut prepared = prepared;
        self.seal_personal(&mut prepared)?;
        Ok((prepared, redacted))
    }

    /// The keyring with the root-key provider `EVIDENT_KEY_PROVIDER` names (see
    /// [`crypto::provider_from_env`]; `local` by default); the provider is opened once per
    /// engine, and a missing root key is made if `create`.
    pub fn keyring(&self, create: bool) -> Result<crypto::keyring::Keyring<'_>> {
        let provider = match self.root.get() {
            Some(p) => p.clone(),
            None => {
                let requested = crypto::requested_provider()?;
                if let Some(recorded) = self.connect_store()?.meta("crypto.provider")? {
                    if recorded != requested {
                        return Err(provider_mismatch(&recorded, &requested));
                    }
                }
                let opened = crypto::provider_from_env(&self.dir, create)?;
                self.check_provider(opened.as_ref())?;
                self.root.get_or_init(|| opened).clone()
            }
        };
        Ok(crypto::keyring::Keyring::new(self.key_host(), provider))
    }

    /// The card-token vault over this engine's keyring (see [`crypto::tokens`]).
    pub fn token_vault(&self, create: bool) -> Result<crypto::tokens::TokenVault<'_>> {
        crypto::tokens::TokenVault::open(
            self.key_host(),
            self.access(),
            self.keyring(create)?,
            &self.token_keys,
        )
    }

    /// Records which provider wraps this directory's keys (on first use) and refuses another:
    /// its wrapped keys would not open, and the message says which provider to configure.
    pub fn check_provider(&self, provider: &dyn crypto::KeyProvider) -> Result<()> {
        let recorded = self
            .connect_store()?
            .init_meta("crypto.provider", provider.kind())?;
        if recorded != provider.kind() {
            return Err(provider_mismatch(&recorded, provider.kind()));
        }
        Ok(())
    }

    /// Seals this directory's own keys (`signing.key`, `redaction.key`) with the root key of
    /// the configured provider (made if missing), so that they are unreadable without it; logged
    /// as `evident.keys.sealed`. Answers the files sealed now.
    pub fn seal_own_keys(&self, actor: &str) -> Result<Vec<&'static str>> {
        let keyring = self.keyring(true)?;
        let provider = self
            .root
            .get()
            .cloned()
            .ok_or_else(|| Error::Crypto("no root key".into()))?;
        let sealed = datadir::seal_own_keys(&self.dir, &provider)?;
        let resealed = self.seal_stored_personal(&provider)?;
        if sealed.is_empty() && resealed == 0 {
            // Nothing changed (already sealed): nothing to record.
            return Ok(sealed);
        }
        let mut event = event::system_event(
            "evident.keys.sealed",
            "data_dir",
            Some(&self.origin),
            serde_json::json!({"files": sealed, "personal_values_sealed": resealed, "provider": keyring.provider(), "requested_by": actor}),
        );
        event.severity = Some(event::Severity::High);
        self.append_blocking(vec![event])?;
        Ok(sealed)
    }

    /// Makes the personal-data key (once, wrapped by `provider`), seals new personal values with
    /// it from now on, and seals every stored one that is not sealed yet; answers how many.
    fn seal_stored_personal(&self, provider: &Arc<dyn crypto::KeyProvider>) -> Result<u64> {
        use base64::Engine as _;
        let mut store = self.connect_store()?;
        if store.meta(PERSONAL_KEY_META)?.is_none() {
            let key = crypto::random_key()?;
            let wrapped =
                base64::engine::general_purpose::STANDARD.encode(provider.wrap(key.as_ref())?);
            store.init_meta(PERSONAL_KEY_META, &wrapped)?;
        }
        let root = datadir::RootOpener::with(provider.clone());
        let seal = match self.personal_seal.get() {
            Some(seal) => seal.clone(),
            None => {
                let seal = Arc::new(
                    personal_seal_of(&*store, &self.dir, &root)?
                        .ok_or_else(|| Error::Crypto("no personal-data key".into()))?,
                );
                self.personal_seal.get_or_init(|| seal).clone()
            }
        };
        store.reseal_personal(&mut |path, salt, value| {
            if personal::is_sealed(value) {
                Ok(None)
            } else {
                seal.seal(path, salt, value).map(Some)
            }
        })
    }

    /// The keyring if its root-key provider is already open (never opens one: opening may
    /// stretch a passphrase or call a KMS, which an async caller must not wait for inline).
    pub fn keyring_if_open(&self) -> Option<crypto::keyring::Keyring<'_>> {
        self.root
            .get()
            .map(|p| crypto::keyring::Keyring::new(self.key_host(), p.clone()))
    }

    /// Uses `provider` for the root key from now on (before the first [`Engine::keyring`]);
    /// answers false if a provider was already in use.
    pub fn set_key_provider(&self, provider: Arc<dyn crypto::KeyProvider>) -> bool {
        self.root.set(provider).is_ok()
    }

    /// The keyring over a provider the caller chose (tests, other drivers).
    pub fn keyring_with(
        &self,
        provider: Arc<dyn crypto::KeyProvider>,
    ) -> crypto::keyring::Keyring<'_> {
        crypto::keyring::Keyring::new(self.key_host(), provider)
    }

    /// Whether decrypting with the key `name` needs an access decision (see
    /// [`crypto::keyring::Keyring::classify`]); needs no root key.
    pub fn key_is_regulated(&self, name: &str) -> Result<bool> {
        self.key_host().key_is_regulated(name)
    }

    /// The engine as the crypto part sees it.
    fn key_host(&self) -> crypto::host::KeyHost<'_> {
        crypto::host::KeyHost::new(self, &self.key_cache)
    }

    pub(crate) fn connect_store(&self) -> Result<Box<dyn LogStore>> {
        Ok(Box::new(self.backend.connect()?))
    }

    /// The engine's redactor: built-in rules and this data directory's pseudonym key.
    pub fn redaction(&self) -> &redaction::EventRedactor {
        &self.redaction
    }

    /// Appends events; answers once they are durable and covered by a signed checkpoint.
    pub async fn append(&self, events: Vec<AuditEvent>) -> Result<BatchReceipt> {
        let (prepared, redacted) = self.prepare(&events)?;
        let mut receipt = self.sequencer.append(prepared).await?;
        receipt.redacted = redacted;
        Ok(receipt)
    }

    /// [`Engine::append`] outside an async runtime.
    pub fn append_blocking(&self, events: Vec<AuditEvent>) -> Result<BatchReceipt> {
        let (prepared, redacted) = self.prepare(&events)?;
        let mut receipt = self.sequencer.append_blocking(prepared)?;
        receipt.redacted = redacted;
        Ok(receipt)
    }

    /// Seals the personal values of prepared entries that are not sealed yet, when this
    /// directory's personal values are sealed.
    fn seal_personal(&self, entries: &mut [PreparedEntry]) -> Result<()> {
        if let Some(seal) = self.personal_seal.get() {
            for p in entries.iter_mut().flat_map(|e| e.personal.iter_mut()) {
                if !personal::is_sealed(&p.value) {
                    p.value = seal.seal(&p.path, &p.salt, &p.value)?;
                }
            }
        }
        Ok(())
    }

    /// Appends already prepared entries.
    pub async fn append_prepared(&self, mut entries: Vec<PreparedEntry>) -> Result<BatchReceipt> {
        self.seal_personal(&mut entries)?;
        self.sequencer.append(entries).await
    }

    /// [`Engine::append_prepared`] outside an async runtime.
    pub fn append_prepared_blocking(
        &self,
        mut entries: Vec<PreparedEntry>,
    ) -> Result<BatchReceipt> {
        self.seal_personal(&mut entries)?;
        self.sequencer.append_blocking(entries)
    }

    fn record(&self, store: &SqliteStore, entry: StoredEntry, reveal: bool) -> Result<EventRecord> {
        let value: Value = serde_json::from_slice(&entry.data)
            .map_err(|e| Error::Integrity(format!("entry {} is not JSON: {e}", entry.index)))?;
        let mut revealed = if reveal {
            store.personal_of(entry.index)?
        } else {
            Vec::new()
        };
        for p in &mut revealed {
            if personal::is_sealed(&p.value) {
                let seal = self.personal_seal.get().ok_or_else(|| {
                    Error::Crypto("personal values are sealed and no root key is open".into())
                })?;
                p.value = seal.open(&p.path, &p.salt, &p.value)?.to_string();
            }
        }
        Ok(EventRecord {
            index: entry.index,
            leaf: entry.leaf,
            entry: value,
            revealed,
        })
    }

    /// One event by index. `reveal` adds its stored personal values.
    pub fn event(&self, index: u64, reveal: bool) -> Result<EventRecord> {
        let store = self.reader()?;
        if index >= self.size() {
            return Err(Error::NotFound(format!(
                "no entry {index}: the log has {} entries",
                self.size()
            )));
        }
        let entry = store
            .entry(index)?
            .ok_or_else(|| Error::NotFound(format!("entry {index} is not stored")))?;
        self.record(&store, entry, reveal)
    }

    /// The exact bytes of entry `index` (what its leaf hash is computed over).
    pub fn entry_bytes(&self, index: u64) -> Result<Vec<u8>> {
        if index >= self.size() {
            return Err(Error::NotFound(format!(
                "no entry {index}: the log has {} entries",
                self.size()
            )));
        }
        let entry = self
            .reader()?
            .entry(index)?
            .ok_or_else(|| Error::NotFound(format!("entry {index} is not stored")))?;
        Ok(entry.data)
    }

    /// One page of events matching `query`.
    pub fn query(&self, query: &EventQuery) -> Result<Page> {
        let store = self.reader()?;
        let limit = query.limit.clamp(1, 1000);
        let mut q = query.clone();
        q.limit = limit;
        let committed = self.size();
        let rows: Vec<StoredEntry> = store
            .query(&q)?
            .into_iter()
            .filter(|e| e.index < committed)
            .collect();
        let next_cursor = (rows.len() == limit as usize)
            .then(|| rows.last().map(|e| e.index))
            .flatten();
        let events = rows
            .into_iter()
            .map(|e| self.record(&store, e, false))
            .collect::<Result<_>>()?;
        Ok(Page {
            events,
            next_cursor,
        })
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> Option<Arc<SignedCheckpoint>> {
        self.sequencer.shared.latest()
    }

    fn check_size(&self, size: u64) -> Result<()> {
        let committed = self.size();
        if size > committed {
            return Err(Error::NotFound(format!(
                "tree size {size} is beyond the latest signed checkpoint ({committed})"
            )));
        }
        Ok(())
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries (default: the
    /// latest checkpoint).
    pub fn inclusion_proof(&self, index: u64, size: Option<u64>) -> Result<InclusionProof> {
        let latest = self
            .checkpoint()
            .ok_or_else(|| Error::NotFound("the log is empty".into()))?;
        let size = size.unwrap_or(latest.checkpoint.size);
        self.check_size(size)?;
        if index >= size {
            return Err(Error::NotFound(format!(
                "no entry {index} in a tree of size {size}"
            )));
        }
        let tree = self.sequencer.shared.read_tree()?;
        let proof = proof::inclusion_proof(&*tree, index, size)?;
        let leaf = tree
            .leaf(index)
            .ok_or_else(|| Error::NotFound(format!("no entry {index}")))?;
        let root = tree
            .root_at(size)
            .ok_or_else(|| Error::NotFound(format!("no tree of size {size}")))?;
        drop(tree);
        let checkpoint = if size == latest.checkpoint.size {
            Some(latest.note.clone())
        } else {
            self.reader()?
                .checkpoint_covering(size)?
                .filter(|c| c.size == size)
                .map(|c| c.note)
        };
        Ok(InclusionProof {
            index,
            size,
            leaf,
            proof,
            root,
            checkpoint,
        })
    }

    /// The consistency proof between two tree sizes.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>> {
        self.check_size(second)?;
        let tree = self.sequencer.shared.read_tree()?;
        Ok(proof::consistency_proof(&*tree, first, second)?)
    }

    /// A C2SP tlog-proof of entry `index` against the latest signed checkpoint.
    pub fn tlog_proof(&self, index: u64) -> Result<TlogProof> {
        let p = self.inclusion_proof(index, None)?;
        let checkpoint = p
            .checkpoint
            .ok_or_else(|| Error::NotFound("no signed checkpoint".into()))?;
        Ok(TlogProof {
            extra: None,
            index,
            proof: p.proof,
            checkpoint,
        })
    }

    /// A tlog-tiles resource: a hash tile or an entry bundle.
    pub fn tile(&self, path: &TilePath) -> Result<Vec<u8>> {
        let committed = u128::from(self.size());
        let missing = || Error::NotFound("no such tile in this log (yet)".into());
        match path {
            TilePath::Hashes { level, index, .. } => {
                let span = u128::from(TILE_WIDTH).pow(u32::from(*level));
                let end =
                    (u128::from(*index) * u128::from(TILE_WIDTH) + u128::from(path.width())) * span;
                if end > committed {
                    return Err(missing());
                }
                let tree = self.sequencer.shared.read_tree()?;
                tiles::hash_tile(&tree, path).map_err(|_| missing())
            }
            TilePath::Entries { .. } => {
                let range = path.entry_range().ok_or_else(missing)?;
                if u128::from(range.end) > committed {
                    return Err(missing());
                }
                let entries = self.reader()?.entries(range.start, range.end)?;
                if entries.len() as u64 != range.end - range.start {
                    return Err(Error::Integrity(format!(
                        "entries {}..{} are not all stored",
                        range.start, range.end
                    )));
                }
                Ok(
                    tiles::encode_bundle(entries.iter().map(|e| e.data.as_slice()))
                        .map_err(|e| Error::Integrity(e.to_string()))?,
                )
            }
        }
    }

    /// Replays the whole log from storage: every entry against its leaf hash, every signed
    /// checkpoint's signature and root, and every stored personal value against its
    /// commitment. `progress` is called with the number of entries replayed so far.
    pub fn verify(&self, mut progress: impl FnMut(u64)) -> Result<VerifyReport> {
        let verifier = &self.sequencer.shared.verifier;
        let connect = || -> Result<Box<dyn LogStore>> { Ok(Box::new(self.backend.connect()?)) };
        verify_store_sealed(
            connect,
            verifier,
            self.personal_seal.get().map(|s| &**s),
            &mut progress,
        )
    }

    /// Destroys every stored personal value of `subject` and logs the erasure.
    pub fn erase_subject(&self, subject: &str, actor: &str) -> Result<ErasureReport> {
        if subject.is_empty() {
            return Err(Error::BadRequest("the subject must not be empty".into()));
        }
        // Crypto-shredding first: the subject's own key, if data was ever sealed under it.
        let key_name = self.redaction.subject_key_name(subject);
        let keys_destroyed = crypto::keyring::shred(&self.key_host(), &key_name, actor, "erasure")?;
        let subject = &self.redaction.subject(subject);
        let removed = self.backend.connect()?.erase_subject(subject)?;
        // The record names the subject by a keyed hash (the one its key is named by), never
        // in clear: an erasure that wrote the person into the immutable log would undo itself.
        let mut event = event::system_event(
            "evident.personal.erased",
            "data_subject",
            Some(&key_name),
            serde_json::json!({
                "values_destroyed": removed,
                "key_versions_destroyed": keys_destroyed,
                "requested_by": actor
            }),
        );
        event.severity = Some(event::Severity::Medium);
        let receipt = self.append_blocking(vec![event])?;
        Ok(ErasureReport {
            removed,
            keys_destroyed,
            receipt: receipt.receipts[0],
        })
    }

    /// Creates an API key and logs its creation. The token is returned once.
    pub fn create_api_key(
        &self,
        role: Role,
        label: Option<&str>,
        actor: &str,
    ) -> Result<NewApiKey> {
        let key = apikey::generate(role)?;
        self.backend.connect()?.insert_api_key(&ApiKeyRecord {
            id: key.id.clone(),
            secret_hash: key.secret_hash.clone(),
            role: role.as_str().to_string(),
            label: label.map(str::to_string),
            created_us: event::now_us(),
            revoked_us: None,
        })?;
        let mut event = event::system_event(
            "evident.apikey.created",
            "api_key",
            Some(&key.id),
            serde_json::json!({"role": role.as_str(), "label": label, "created_by": actor}),
        );
        event.severity = Some(event::Severity::Medium);
        self.append_blocking(vec![event])?;
        Ok(key)
    }

    /// Revokes an API key and logs the revocation.
    pub fn revoke_api_key(&self, id: &str, actor: &str) -> Result<()> {
        if let Ok(mut cache) = self.key_auth_cache.lock() {
            cache.clear();
        }
        if !self
            .backend
            .connect()?
            .revoke_api_key(id, event::now_us())?
        {
            return Err(Error::NotFound(format!("no active API key `{id}`")));
        }
        // again, for a lookup that read the key between the first clear and the update
        if let Ok(mut cache) = self.key_auth_cache.lock() {
            cache.clear();
        }
        let mut event = event::system_event(
            "evident.apikey.revoked",
            "api_key",
            Some(id),
            serde_json::json!({"revoked_by": actor}),
        );
        event.severity = Some(event::Severity::Medium);
        self.append_blocking(vec![event])?;
        Ok(())
    }

    /// All API keys (without secrets).
    pub fn api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        self.reader()?.api_keys()
    }

    /// Checks a bearer token; `None` for unknown, malformed or revoked keys.
    pub fn authenticate(&self, token: &str) -> Result<Option<ApiKey>> {
        let Some((id, secret)) = apikey::split_token(token) else {
            return Ok(None);
        };
        let hash = apikey::hash_secret(secret);
        // A key verified in the last second is trusted without a database read: every
        // decision request authenticates, and revocation by this process clears the cache
        // (by another process, it takes effect within a second).
        if let Ok(cache) = self.key_auth_cache.lock() {
            if let Some((key, at)) = cache.get(id) {
                if key.0 == hash && at.elapsed() < std::time::Duration::from_secs(1) {
                    return Ok(Some(key.1.clone()));
                }
            }
        }
        let Some(record) = self.reader()?.api_key(id)? else {
            return Ok(None);
        };
        if record.revoked_us.is_some() || hash != record.secret_hash {
            return Ok(None);
        }
        let key = ApiKey {
            id: record.id,
            role: Role::parse(&record.role)?,
        };
        if let Ok(mut cache) = self.key_auth_cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(
                key.id.clone(),
                ((hash, key.clone()), std::time::Instant::now()),
            );
        }
        Ok(Some(key))
    }

    /// Stops the sequencer after the queued appends.
    pub fn shutdown(&self) {
        self.sequencer.shutdown();
        if let Ok(mut indexer) = self.indexer.lock() {
            indexer.take();
        }
    }

    /// Brings the query indexes up to the log now, in this thread (the background indexer
    /// does this continuously); returns how many entries were indexed.
    pub fn index_now(&self) -> Result<u64> {
        let store = self.backend.connect()?;
        let mut total = 0u64;
        loop {
            match store.index_pending()? {
                0 => return Ok(total),
                n => total += n as u64,
            }
        }
    }
}

/// Verifies a store against a verifier key; see [`Engine::verify`]. Usable without a running
/// sequencer (and so on a copy of a data directory, with an independently obtained key).
/// `connect` opens a connection; one is used per core, each replaying its own segments of the
/// log.
pub fn verify_store<F>(
    connect: F,
    verifier: &evident_ledger::note::NoteVerifier,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport>
where
    F: Fn() -> Result<Box<dyn LogStore>>,
{
    verify_store_sealed(connect, verifier, None, progress)
}

/// What one worker found in one segment of the log.
struct SegmentOutcome {
    hashed: evident_ledger::audit::HashedSegment,
    personal: u64,
    personal_sealed: u64,
    /// the first personal value that failed its check
    personal_fault: Option<Error>,
}

/// [`verify_store`] for a directory whose personal values may be sealed: with `seal`, sealed
/// values are opened and checked; without it they are counted in
/// [`VerifyReport::personal_sealed`] and not checked.
///
/// The log is cut into segments of [`evident_ledger::audit::SEGMENT_CAPACITY`] entries that the workers (one per
/// core, each on its own connection) take in turn: each reads its segment's entries and
/// personal values, hashes the entries many at a time and checks the personal values against
/// the commitments in their entries. This thread checks the checkpoint signatures meanwhile
/// and joins the segments in order, so faults are named as a one-entry-at-a-time replay
/// would name them: a bad signature first, then the first fault among the entries, then the
/// first bad personal value.
pub fn verify_store_sealed<F>(
    connect: F,
    verifier: &evident_ledger::note::NoteVerifier,
    seal: Option<&personal::PersonalSeal>,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport>
where
    F: Fn() -> Result<Box<dyn LogStore>>,
{
    let capacity = evident_ledger::audit::SEGMENT_CAPACITY;
    verify_in_segments(connect, verifier, seal, capacity, progress)
}

/// [`verify_store_sealed`] with segments of `capacity` entries (a power of two).
fn verify_in_segments<F>(
    connect: F,
    verifier: &evident_ledger::note::NoteVerifier,
    seal: Option<&personal::PersonalSeal>,
    capacity: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport>
where
    F: Fn() -> Result<Box<dyn LogStore>>,
{
    use std::sync::atomic::{AtomicBool, AtomicU64};

    let store = connect()?;
    let checkpoints = store.checkpoints()?;
    let size = store.size()?;
    let fault = |f: evident_ledger::audit::Fault| Error::Integrity(f.to_string());
    let mut auditor = Auditor::with_unverified(&checkpoints).map_err(fault)?;
    let segments = size.div_ceil(capacity);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let workers = cores.min(segments) as usize;
    let mut stores = Vec::with_capacity(workers);
    for _ in 0..workers {
        stores.push(connect()?);
    }
    let checkpoint_sizes = auditor.checkpoint_sizes();
    let next_segment = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let (signatures, entries, personal) = std::thread::scope(|scope| {
        let (sender, outcomes) = std::sync::mpsc::channel::<(u64, Result<SegmentOutcome>)>();
        for store in stores {
            let sender = sender.clone();
            let (next_segment, stop, sizes) = (&next_segment, &stop, &checkpoint_sizes);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let k = next_segment.fetch_add(1, Ordering::Relaxed);
                    if k >= segments {
                        break;
                    }
                    let outcome = verify_segment(&*store, k * capacity, capacity, sizes, seal);
                    if sender.send((k, outcome)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let signatures = evident_ledger::audit::verify_signatures(verifier, &checkpoints);
        if signatures.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let mut entries: Result<()> = Ok(());
        let (mut checked, mut sealed, mut personal_fault) = (0u64, 0u64, None);
        let mut waiting = std::collections::BTreeMap::new();
        let mut joined = 0u64;
        for (k, outcome) in outcomes {
            if entries.is_err() || signatures.is_err() {
                continue;
            }
            waiting.insert(k, outcome);
            while let Some(outcome) = waiting.remove(&joined) {
                joined += 1;
                let joining = outcome.and_then(|o| {
                    checked += o.personal;
                    sealed += o.personal_sealed;
                    if personal_fault.is_none() {
                        personal_fault = o.personal_fault;
                    }
                    auditor.push_segment(o.hashed).map_err(fault)
                });
                if let Err(e) = joining {
                    entries = Err(e);
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
                progress(auditor.size());
            }
        }
        (signatures, entries, (checked, sealed, personal_fault))
    });
    // A forged or misfiled checkpoint explains any mismatch after it, so it is named first.
    signatures.map_err(fault)?;
    entries?;
    let report = auditor.finish().map_err(fault)?;
    // Rows outside `0..size` belong to no segment.
    if let Some(index) = store.stray_entry()? {
        return Err(Error::Integrity(format!(
            "an entry is stored under index {index}, outside the log (inserted row)"
        )));
    }
    let (personal, personal_sealed, personal_fault) = personal;
    if let Some(e) = personal_fault {
        return Err(e);
    }
    if let Some((index, path)) = store.orphan_personal(report.entries)? {
        return Err(Error::Integrity(format!(
            "personal value `{path}` of entry {index}: its entry is missing"
        )));
    }
    progress(report.entries);
    Ok(VerifyReport {
        entries: report.entries,
        bytes: report.bytes,
        checkpoints: report.checkpoints,
        personal,
        personal_sealed,
        root: report.root,
        workers,
    })
}

/// Replays the segment of the log that starts at `start` and checks its personal values.
fn verify_segment(
    store: &dyn LogStore,
    start: u64,
    capacity: u64,
    checkpoint_sizes: &[u64],
    seal: Option<&personal::PersonalSeal>,
) -> Result<SegmentOutcome> {
    let mut segment = evident_ledger::audit::Segment::new(start, capacity, checkpoint_sizes)
        .map_err(|e| Error::Integrity(e.to_string()))?;
    let (mut personal, mut personal_sealed, mut personal_fault) = (0u64, 0u64, None);
    let mut entry_fault = false;
    let mut commitments = personal::CommitmentBatch::default();
    let scanned = store.scan_range(start, start + capacity, &mut |item| {
        match item {
            store::Scanned::Entry { index, leaf, data } => {
                if segment.push(index, data, Some(leaf)).is_err() {
                    // The segment keeps the fault; nothing after it matters.
                    entry_fault = true;
                    return Err(Error::Integrity("stop".into()));
                }
            }
            store::Scanned::Personal { value, entry } if personal_fault.is_none() => {
                match queue_personal(value, entry, seal, &mut commitments) {
                    Ok(true) => personal += 1,
                    Ok(false) => personal_sealed += 1,
                    // A mismatch still queued came before this fault.
                    Err(e) => personal_fault = Some(commitments.flush().err().unwrap_or(e)),
                }
            }
            store::Scanned::Personal { .. } => {}
        }
        Ok(())
    });
    match scanned {
        Err(_) if entry_fault => {}
        other => other?,
    }
    if personal_fault.is_none() {
        personal_fault = commitments.flush().err();
    }
    Ok(SegmentOutcome {
        hashed: segment.finish(),
        personal,
        personal_sealed,
        personal_fault,
    })
}

/// The part of an entry the personal-value check reads when it has to parse the entry.
#[derive(serde::Deserialize)]
struct Commitments {
    #[serde(default)]
    personal: std::collections::BTreeMap<String, String>,
}

/// The commitment stored in a schema-1 entry for the personal field at `path`, found without
/// parsing the entry. In canonical JSON the keys are sorted, so the top-level `personal`
/// object, if any, directly follows the top-level `outcome` — the last occurrence of
/// `"outcome":"` in the entry, because every key sorted after it holds a string (where quotes
/// are escaped) or an object with fixed keys. Inside that object, an unescaped `"<path>":"`
/// can only be the key itself. `None` means "parse the entry instead".
fn find_commitment<'a>(data: &'a [u8], path: &str) -> Option<Option<&'a str>> {
    const OUTCOME: &[u8] = b"\"outcome\":\"";
    const PERSONAL: &[u8] = b",\"personal\":{";
    const COMMITMENT_LEN: usize = "sha256:".len() + 64;
    if !data.ends_with(b",\"v\":1}")
        || path.is_empty()
        || path.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
    {
        return None;
    }
    // Built once: building a searcher per entry cost more than the search.
    // The forward search is vectorised and the reverse one is not: finding every occurrence
    // forward was twice as fast over real logs as one reverse search.
    static OUTCOME_FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(OUTCOME));
    let at = OUTCOME_FINDER.find_iter(data).last()?;
    let rest = data.get(at + OUTCOME.len()..)?;
    let after = rest.get(rest.iter().position(|&b| b == b'"')? + 1..)?;
    let Some(object) = after.strip_prefix(PERSONAL) else {
        return Some(None);
    };
    // `"<path>":"`, found as the path followed by `":"` right after an opening quote.
    let mut from = 0;
    let start = loop {
        let Some(found) = memchr::memchr(path.as_bytes()[0], object.get(from..)?)
            .and_then(|first| {
                let tail = object.get(from + first..)?;
                tail.starts_with(path.as_bytes()).then_some(first)
            })
            .or_else(|| memchr::memmem::find(object.get(from..)?, path.as_bytes()))
        else {
            return Some(None);
        };
        let at = from + found;
        let end = at + path.len();
        if at > 0 && object[at - 1] == b'"' && object.get(end..end + 3) == Some(b"\":\"") {
            break end + 3;
        }
        from = at + 1;
    };
    let value = object.get(start..start + COMMITMENT_LEN)?;
    std::str::from_utf8(value).ok().map(Some)
}

/// The commitment for `path` in an entry, by [`find_commitment`] or by parsing the entry.
fn commitment_of(data: &[u8], path: &str) -> Option<String> {
    match find_commitment(data, path) {
        Some(found) => found.map(str::to_string),
        None => serde_json::from_slice::<Commitments>(data)
            .ok()
            .and_then(|mut c| c.personal.remove(path)),
    }
}

/// Queues the check of a stored personal value against the commitment in its entry:
/// `Ok(true)` if queued, `Ok(false)` if it is sealed and no `seal` was given to open it.
fn queue_personal(
    p: store::PersonalRef<'_>,
    data: &[u8],
    seal: Option<&personal::PersonalSeal>,
    commitments: &mut personal::CommitmentBatch,
) -> Result<bool> {
    let bad = |why: &str| {
        Error::Integrity(format!(
            "personal value `{}` of entry {}: {why}",
            p.path, p.index
        ))
    };
    if data.is_empty() {
        return Err(bad("its entry is missing"));
    }
    let opened;
    let value: &str = if personal::is_sealed(p.value) {
        let Some(seal) = seal else {
            return Ok(false);
        };
        opened = seal
            .open(p.path, p.salt, p.value)
            .map_err(|_| bad("its sealed value does not open (altered, or another key)"))?;
        opened.as_str()
    } else {
        p.value
    };
    // The stored value is hashed as stored: any change to it, even re-spelling the same
    // JSON, is a change to what was committed.
    let mut queue =
        |commitment: &str| commitments.push(p.index, p.path, p.salt, value.as_bytes(), commitment);
    match find_commitment(data, p.path) {
        Some(Some(commitment)) => queue(commitment)?,
        Some(None) => return Err(bad("the entry holds no commitment for it")),
        None => {
            let commitment = commitment_of(data, p.path)
                .ok_or_else(|| bad("the entry holds no commitment for it"))?;
            queue(&commitment)?;
        }
    }
    Ok(true)
}

/// Re-exported for callers that build their own queries.
pub use store::EventQuery as Query;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Verification in small segments (many per worker, checkpoints inside them, faults on
    /// their edges) names what verification in one segment names, for each kind of damage.
    #[test]
    fn small_segments_find_what_one_segment_finds() {
        let damages = [
            "",
            "DELETE FROM entries WHERE idx = 77;",
            "DELETE FROM entries WHERE idx BETWEEN 32 AND 47;",
            "DELETE FROM entries WHERE idx = 15;",
            "DELETE FROM entries WHERE idx >= 250;",
            "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), 'p-42\"', 'p-43\"') AS BLOB) WHERE idx = 42;",
            "UPDATE entries SET idx = -1 WHERE idx = 10; UPDATE entries SET idx = 10 WHERE idx = 11;
             UPDATE entries SET idx = 11 WHERE idx = -1;",
            "UPDATE entries SET leaf = x'00' WHERE idx = 16;",
            "UPDATE personal SET value = '\"198.51.100.9\"' WHERE idx = 5;",
            "UPDATE personal SET value = '\"198.51.100.9\"' WHERE idx = 200;
             DELETE FROM entries WHERE idx = 240;",
            "INSERT INTO personal SELECT idx + 1000, path, subject, salt, value FROM personal WHERE idx = 3;",
            "INSERT INTO personal SELECT -2, path, subject, salt, value FROM personal WHERE idx = 3;",
            "INSERT INTO entries SELECT -7, leaf, data, time_us, received_us, actor, action, rtype, rid, outcome FROM entries WHERE idx = 3;",
        ];
        for damage in damages {
            let dir = tempfile::tempdir().unwrap();
            let engine = Engine::open(dir.path(), true).unwrap();
            for chunk in (0..300u64).collect::<Vec<_>>().chunks(100) {
                let events = chunk
                    .iter()
                    .map(|&i| {
                        AuditEvent::from_json(json!({
                            "actor": {"id": "alice", "ip": format!("192.0.2.{}", i % 200)},
                            "action": "record.read",
                            "resource": {"type": "patient_record", "id": format!("p-{i}")},
                            "outcome": "success",
                            "metadata": {"n": i, "pad": "x".repeat(i as usize % 97)},
                        }))
                        .unwrap()
                    })
                    .collect();
                engine.append_blocking(events).unwrap();
            }
            engine.shutdown();
            drop(engine);
            let db = dir.path().join("evident.db");
            rusqlite::Connection::open(&db)
                .unwrap()
                .execute_batch(damage)
                .unwrap();
            let backend = SqliteBackend::open(&db).unwrap();
            let verifier = datadir::load_signer(dir.path()).unwrap().verifier();
            let connect = || -> Result<Box<dyn LogStore>> { Ok(Box::new(backend.connect()?)) };
            let outcome = |capacity| {
                verify_in_segments(connect, &verifier, None, capacity, &mut |_| {})
                    .map(|r| (r.entries, r.bytes, r.checkpoints, r.personal, r.root))
                    .map_err(|e| e.to_string())
            };
            let whole = outcome(evident_ledger::audit::SEGMENT_CAPACITY);
            assert_eq!(outcome(16), whole, "{damage}");
            assert_eq!(outcome(1), whole, "{damage}");
            assert_eq!(whole.is_ok(), damage.is_empty(), "{damage}: {whole:?}");
        }
    }

    /// The fast path of [`commitments`] must agree with parsing the whole entry, whatever
    /// the event holds elsewhere.
    #[test]
    fn commitments_fast_path_agrees_with_a_full_parse() {
        let hostile = [
            json!({"personal": {"a": "b"}, "note": "\"personal\":{\"x\":\"y\"}"}),
            json!({"z": {"personal": {"q": "r"}}}),
            json!({"outcome": "success", "personal": {"/actor/ip": "sha256:00"}}),
            json!({}),
        ];
        for (i, metadata) in hostile.into_iter().enumerate() {
            for with_ip in [true, false] {
                let mut event = json!({
                    "actor": {"id": "u"}, "action": "a", "resource": {"type": "r", "id": "\"personal\":{"},
                    "outcome": "success", "reason": "\"personal\":{\"k\":\"v\"}", "metadata": metadata,
                });
                if with_ip {
                    event["actor"]["ip"] = json!("192.0.2.1");
                }
                let entry = AuditEvent::from_json(event).unwrap().prepare(0).unwrap();
                let full = serde_json::from_slice::<Commitments>(&entry.data)
                    .unwrap()
                    .personal;
                for path in ["/actor/ip", "/metadata/personal", "/nope"] {
                    let fast = find_commitment(&entry.data, path).expect("fast path applies");
                    assert_eq!(fast, full.get(path).map(String::as_str), "case {i} {path}");
                    assert_eq!(commitment_of(&entry.data, path), full.get(path).cloned());
                }
                assert_eq!(full.len(), usize::from(with_ip), "case {i}");
            }
        }
        assert_eq!(find_commitment(b"not json", "/a"), None);
        assert_eq!(commitment_of(b"not json", "/a"), None);
        assert_eq!(find_commitment(b"{\"v\":1}", "/a\"b"), None);
    }
}
