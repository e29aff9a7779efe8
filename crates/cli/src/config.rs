//! The optional TOML configuration file (`--config FILE` or `EVIDENT_CONFIG`).
//!
//! Its values become the defaults of the matching environment variables, which clap reads:
//! so a flag wins over the environment, and the environment wins over the file.
//!
//! ```toml
//! data_dir = "/var/lib/evident"
//! listen = "127.0.0.1:8470"
//! danger_plaintext_network = false
//! log = "info"
//! rules = ["/etc/evident/acme-rules.toml"]          # extra detection rules (scan, redact, lsp)
//! fingerprint_key_file = "/etc/evident/fingerprint.key"
//! tls_cert = "/etc/evident/tls/cert.pem"                # serve over TLS (with tls_key)
//! tls_key = "/etc/evident/tls/key.pem"
//! tls_client_ca = "/etc/evident/tls/clients-ca.pem"     # optional mutual TLS
//! max_connections = 10000        # connections held at once (≤ half the descriptor limit)
//! header_timeout = 30            # seconds to send request headers; idle keep-alive limit
//! body_timeout = 60              # seconds to send a request body (408 after)
//! body_memory_mib = 256          # request bodies held in memory at once (503 past it)
//! controls_interval = "60s"      # how often serve runs the control checks that are due
//! controls_schedule = true       # false: serve runs no control checks by itself
//! retention_interval = "1d"      # serve purges rows past their retention period (default: off)
//!
//! [keys]                                                # where the root key lives
//! provider = "pkcs11"                                   # local (default), pkcs11 or aws-kms
//! pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"
//! pkcs11_token = "evident"
//! pkcs11_pin_file = "/etc/evident/hsm.pin"               # the PIN itself never goes here
//! pkcs11_key = "evident-root"
//! # aws-kms: credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
//! kms_key_id = "alias/evident-root"
//! kms_region = "eu-west-1"
//! kms_endpoint = "https://kms.eu-west-1.amazonaws.com"  # optional (VPC endpoints)
//!
//! [lockout]                                             # failed logins (PCI DSS 8.3.4)
//! max_attempts = 10                                     # per API key / OIDC subject (≤ 10)
//! duration = "30m"                                      # or seconds (≥ 30 minutes)
//! address_max_attempts = 50                             # per client address; 0 = off
//! max_tracked = 50000                                   # memory bound
//! danger_weaker_than_pci = false                        # allow > 10 attempts, < 30 minutes
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    danger_plaintext_network: Option<bool>,
    log: Option<String>,
    operator: Option<String>,
    rules: Option<Vec<PathBuf>>,
    fingerprint_key_file: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
    max_connections: Option<u64>,
    header_timeout: Option<u64>,
    body_timeout: Option<u64>,
    body_memory_mib: Option<u64>,
    controls_interval: Option<DurationValue>,
    controls_schedule: Option<bool>,
    retention_interval: Option<DurationValue>,
    keys: Option<KeysConfig>,
    lockout: Option<LockoutConfig>,
}

/// The `[lockout]` table: the login lockout of `serve`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockoutConfig {
    max_attempts: Option<u32>,
    duration: Option<DurationValue>,
    address_max_attempts: Option<u32>,
    max_tracked: Option<usize>,
    danger_weaker_than_pci: Option<bool>,
}

/// A duration as `"30m"` or as a number of seconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Seconds(u64),
    Text(String),
}

impl DurationValue {
    /// The duration as its environment variable takes it.
    fn into_text(self) -> String {
        match self {
            Self::Seconds(s) => s.to_string(),
            Self::Text(t) => t,
        }
    }
}

/// The `[keys]` table: the root-key provider and its settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysConfig {
    provider: Option<String>,
    pkcs11_module: Option<PathBuf>,
    pkcs11_token: Option<String>,
    pkcs11_pin_file: Option<PathBuf>,
    pkcs11_key: Option<String>,
    kms_key_id: Option<String>,
    kms_region: Option<String>,
    kms_endpoint: Option<String>,
}

/// The `--config` value from the command line, else `EVIDENT_CONFIG`.
fn config_path() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--config=")) {
            return Some(PathBuf::from(value));
        }
        if arg == "--" {
            break;
        }
    }
    std::env::var_os("EVIDENT_CONFIG").map(PathBuf::from)
}

/// Reads the configuration file, if one is named, into unset environment variables.
pub fn load_into_env() -> Result<()> {
    let Some(path) = config_path() else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    let config: ConfigFile = toml::from_str(&text)
        .with_context(|| format!("in the configuration file {}", path.display()))?;
    let set = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            if std::env::var_os(name).is_none() {
                std::env::set_var(name, value);
            }
        }
    };
    set(
        "EVIDENT_DATA_DIR",
        config.data_dir.map(|d| d.to_string_lossy().into_owned()),
    );
    set("EVIDENT_LISTEN", config.listen);
    set(
        "EVIDENT_DANGER_PLAINTEXT_NETWORK",
        config
            .danger_plaintext_network
            .filter(|d| *d)
            .map(|d| d.to_string()),
    );
    set("EVIDENT_LOG", config.log);
    set("EVIDENT_OPERATOR", config.operator);
    set(
        "EVIDENT_RULES",
        config.rules.map(|files| {
            files
                .iter()
                .map(|f| f.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(",")
        }),
    );
    let path = |p: Option<PathBuf>| p.map(|p| p.to_string_lossy().into_owned());
    set("EVIDENT_TLS_CERT", path(config.tls_cert));
    set("EVIDENT_TLS_KEY", path(config.tls_key));
    set("EVIDENT_TLS_CLIENT_CA", path(config.tls_client_ca));
    let number = |n: Option<u64>| n.map(|n| n.to_string());
    set("EVIDENT_MAX_CONNECTIONS", number(config.max_connections));
    set("EVIDENT_HEADER_TIMEOUT", number(config.header_timeout));
    set("EVIDENT_BODY_TIMEOUT", number(config.body_timeout));
    set("EVIDENT_BODY_MEMORY_MIB", number(config.body_memory_mib));
    set(
        "EVIDENT_CONTROLS_INTERVAL",
        config.controls_interval.map(DurationValue::into_text),
    );
    set(
        "EVIDENT_NO_CONTROLS_SCHEDULE",
        config
            .controls_schedule
            .filter(|on| !on)
            .map(|_| "true".to_string()),
    );
    set(
        "EVIDENT_RETENTION_INTERVAL",
        config.retention_interval.map(DurationValue::into_text),
    );
    set(
        "EVIDENT_FINGERPRINT_KEY_FILE",
        config
            .fingerprint_key_file
            .map(|f| f.to_string_lossy().into_owned()),
    );
    if let Some(keys) = config.keys {
        set("EVIDENT_KEY_PROVIDER", keys.provider);
        set("EVIDENT_PKCS11_MODULE", path(keys.pkcs11_module));
        set("EVIDENT_PKCS11_TOKEN", keys.pkcs11_token);
        set("EVIDENT_PKCS11_PIN_FILE", path(keys.pkcs11_pin_file));
        set("EVIDENT_PKCS11_KEY", keys.pkcs11_key);
        set("EVIDENT_KMS_KEY_ID", keys.kms_key_id);
        set("EVIDENT_KMS_REGION", keys.kms_region);
        set("EVIDENT_KMS_ENDPOINT", keys.kms_endpoint);
    }
    if let Some(lockout) = config.lockout {
        let number = |n: Option<u32>| n.map(|n| n.to_string());
        set("EVIDENT_LOCKOUT_MAX_ATTEMPTS", number(lockout.max_attempts));
        set(
            "EVIDENT_LOCKOUT_DURATION",
            lockout.duration.map(DurationValue::into_text),
        );
        set(
            "EVIDENT_LOCKOUT_ADDRESS_MAX_ATTEMPTS",
            number(lockout.address_max_attempts),
        );
        set(
            "EVIDENT_LOCKOUT_MAX_TRACKED",
            lockout.max_tracked.map(|n| n.to_string()),
        );
        set(
            "EVIDENT_DANGER_WEAK_LOCKOUT",
            lockout
                .danger_weaker_than_pci
                .filter(|d| *d)
                .map(|d| d.to_string()),
        );
    }
    Ok(())
}
