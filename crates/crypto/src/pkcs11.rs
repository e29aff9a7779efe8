//! The `pkcs11` key provider: the root key is an AES-256 secret-key object inside an HSM (any
//! PKCS#11 module — tested against SoftHSM2), made non-extractable and sensitive, so it never
//! leaves the device; Evident asks the device to wrap and unwrap its keys with AES-GCM.
//!
//! Settings (environment, or the `[keys]` table of the configuration file):
//! `EVIDENT_PKCS11_MODULE` (the module's path, e.g. `/usr/lib/softhsm/libsofthsm2.so`),
//! `EVIDENT_PKCS11_TOKEN` (the token label), `EVIDENT_PKCS11_PIN` or
//! `EVIDENT_PKCS11_PIN_FILE` (the user PIN), `EVIDENT_PKCS11_KEY` (the key label, default
//! `evident-root`). With `create`, a missing key is generated inside the token.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use evident_core::key_provider::KeyProvider;
use evident_core::{Error, Result};

/// The key label used unless `EVIDENT_PKCS11_KEY` says otherwise.
pub const DEFAULT_KEY_LABEL: &str = "evident-root";
/// Associated data of every wrap, so a blob from another use of the same HSM key is refused.
const WRAP_AAD: &[u8] = b"evident key wrap v1 pkcs11";
/// Format byte of a wrapped key: `0x01 ‖ IV (12) ‖ ciphertext ‖ tag (16)`.
const FORMAT_V1: u8 = 1;
const IV_LEN: usize = 12;
const TAG_BITS: u64 = 128;

/// Where to find the HSM and the key in it.
#[derive(Clone)]
pub struct Pkcs11Settings {
    /// the PKCS#11 module (shared library)
    pub module: PathBuf,
    /// the token's label
    pub token: String,
    /// the user PIN
    pub pin: Zeroizing<String>,
    /// the secret key's label
    pub key_label: String,
}

impl std::fmt::Debug for Pkcs11Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Settings")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("pin", &"<hidden>")
            .field("key_label", &self.key_label)
            .finish()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Pkcs11Settings {
    /// Reads the settings from the environment; says which one is missing.
    pub fn from_env() -> Result<Pkcs11Settings> {
        let missing = |name: &str, what: &str| {
            Error::Crypto(format!("the pkcs11 key provider needs {name} ({what})"))
        };
        let module = env("EVIDENT_PKCS11_MODULE")
            .ok_or_else(|| missing("EVIDENT_PKCS11_MODULE", "the PKCS#11 module's path"))?;
        let token = env("EVIDENT_PKCS11_TOKEN")
            .ok_or_else(|| missing("EVIDENT_PKCS11_TOKEN", "the token label"))?;
        let pin = match (env("EVIDENT_PKCS11_PIN"), env("EVIDENT_PKCS11_PIN_FILE")) {
            (Some(pin), _) => Zeroizing::new(pin),
            (None, Some(path)) => {
                let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
                    Error::Crypto(format!("reading EVIDENT_PKCS11_PIN_FILE {path}: {e}"))
                })?);
                Zeroizing::new(text.trim_end().to_string())
            }
            (None, None) => {
                return Err(missing(
                    "EVIDENT_PKCS11_PIN or EVIDENT_PKCS11_PIN_FILE",
                    "the token's user PIN",
                ))
            }
        };
        Ok(Pkcs11Settings {
            module: module.into(),
            token,
            pin,
            key_label: env("EVIDENT_PKCS11_KEY").unwrap_or_else(|| DEFAULT_KEY_LABEL.into()),
        })
    }
}

/// A logged-in session on the token and the handle of the root key in it.
pub struct Pkcs11Provider {
    session: Mutex<Session>,
    key: ObjectHandle,
    description: String,
}

/// One initialized context per module per process, never finalized: PKCS#11 state (login,
/// initialization) is per process, and finalizing under another provider's open session
/// would break it.
fn library(module: &std::path::Path) -> Result<Pkcs11> {
    static LIBRARIES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut libraries = LIBRARIES
        .get_or_init(Default::default)
        .lock()
        .map_err(|_| Error::Crypto("PKCS#11 module table poisoned".into()))?;
    if let Some(library) = libraries.get(module) {
        return Ok(library.clone());
    }
    let library = Pkcs11::new(module).map_err(|e| {
        Error::Crypto(format!(
            "PKCS#11: loading the module {}: {e}",
            module.display()
        ))
    })?;
    match library.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        // something else in this process initialized the module already
        Err(cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::CryptokiAlreadyInitialized,
            _,
        )) => {}
        Err(e) => return Err(hsm("initializing the module")(e)),
    }
    libraries.insert(module.to_path_buf(), library.clone());
    Ok(library)
}

fn hsm(what: &str) -> impl FnOnce(cryptoki::error::Error) -> Error + '_ {
    move |e| Error::Crypto(format!("PKCS#11: {what}: {e}"))
}

impl Pkcs11Provider {
    /// Opens the token and finds the key; with `create`, generates it if it is missing.
    pub fn open(settings: &Pkcs11Settings, create: bool) -> Result<Pkcs11Provider> {
        let library = library(&settings.module)?;
        let mut slot = None;
        for candidate in library
            .get_slots_with_token()
            .map_err(hsm("listing slots"))?
        {
            let info = library
                .get_token_info(candidate)
                .map_err(hsm("reading token info"))?;
            if info.label().trim_end() == settings.token {
                slot = Some(candidate);
                break;
            }
        }
        let slot = slot.ok_or_else(|| {
            Error::Crypto(format!(
                "PKCS#11: no token labelled {:?} in {}",
                settings.token,
                settings.module.display()
            ))
        })?;
        let session = library
            .open_rw_session(slot)
            .map_err(hsm("opening a session"))?;
        let pin = AuthPin::from(settings.pin.as_str());
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) => {}
            Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::UserAlreadyLoggedIn,
                _,
            )) => {}
            Err(e) => return Err(hsm("logging in (wrong PIN?)")(e)),
        }
        let label = settings.key_label.as_bytes().to_vec();
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::Label(label.clone()),
            ])
            .map_err(hsm("finding the key"))?;
        let key = match (found.as_slice(), create) {
            ([key], _) => *key,
            ([], true) => session
                .generate_key(
                    &Mechanism::AesKeyGen,
                    &[
                        Attribute::Token(true),
                        Attribute::Private(true),
                        Attribute::Sensitive(true),
                        Attribute::Extractable(false),
                        Attribute::Encrypt(true),
                        Attribute::Decrypt(true),
                        Attribute::ValueLen(32.into()),
                        Attribute::Label(label),
                    ],
                )
                .map_err(hsm("generating the root key"))?,
            ([], false) => {
                return Err(Error::Crypto(format!(
                    "PKCS#11: token {:?} holds no AES key labelled {:?}; create one (`evident keys create` makes it on first use)",
                    settings.token, settings.key_label
                )))
            }
            (_, _) => {
                return Err(Error::Crypto(format!(
                    "PKCS#11: token {:?} holds {} AES keys labelled {:?}; labels must be unique",
                    settings.token,
                    found.len(),
                    settings.key_label
                )))
            }
        };
        Ok(Pkcs11Provider {
            session: Mutex::new(session),
            key,
            description: format!(
                "pkcs11, token {:?}, key {:?} ({})",
                settings.token,
                settings.key_label,
                settings.module.display()
            ),
        })
    }

    fn session(&self) -> Result<std::sync::MutexGuard<'_, Session>> {
        self.session
            .lock()
            .map_err(|_| Error::Crypto("PKCS#11 session poisoned".into()))
    }
}

impl KeyProvider for Pkcs11Provider {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn kind(&self) -> &'static str {
        "pkcs11"
    }

    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>> {
        let mut iv = [0u8; IV_LEN];
        SystemRandom::new()
            .fill(&mut iv)
            .map_err(|_| Error::Crypto("the random source failed".into()))?;
        let mut iv_param = iv;
        let params = GcmParams::new(&mut iv_param, WRAP_AAD, TAG_BITS.into())
            .map_err(hsm("GCM parameters"))?;
        let sealed = self
            .session()?
            .encrypt(&Mechanism::AesGcm(params), self.key, key)
            .map_err(hsm("wrapping a key"))?;
        let mut out = Vec::with_capacity(1 + IV_LEN + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if wrapped.len() < 1 + IV_LEN + 16 || wrapped[0] != FORMAT_V1 {
            return Err(Error::Crypto(
                "not a key wrapped by the pkcs11 provider".into(),
            ));
        }
        let mut iv = [0u8; IV_LEN];
        iv.copy_from_slice(&wrapped[1..1 + IV_LEN]);
        let params =
            GcmParams::new(&mut iv, WRAP_AAD, TAG_BITS.into()).map_err(hsm("GCM parameters"))?;
        let key = self
            .session()?
            .decrypt(&Mechanism::AesGcm(params), self.key, &wrapped[1 + IV_LEN..])
            .map_err(|_| {
                Error::Crypto(
                    "PKCS#11: the HSM key does not unwrap this key (another key, or altered)"
                        .into(),
                )
            })?;
        Ok(Zeroizing::new(key))
    }
}
