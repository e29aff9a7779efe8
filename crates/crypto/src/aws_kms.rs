//! The `aws-kms` key provider: the root key is an AWS KMS symmetric key that never leaves KMS;
//! Evident asks KMS to `Encrypt` and `Decrypt` its named keys, always with the same encryption
//! context (`{"evident": "key-wrap-v1"}`), which KMS binds to the ciphertext and logs in
//! CloudTrail. Tested against `moto` server.
//!
//! Settings (environment, or the `[keys]` table of the configuration file):
//! `EVIDENT_KMS_KEY_ID` (key id, ARN or `alias/…`), `EVIDENT_KMS_REGION` (else `AWS_REGION`,
//! `AWS_DEFAULT_REGION`), `EVIDENT_KMS_ENDPOINT` (default `https://kms.REGION.amazonaws.com`;
//! set it for a VPC endpoint or a test server), and the credentials `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (optional).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::sigv4::{authorization, SigningParams};
use evident_core::key_provider::KeyProvider;
use evident_core::{Error, Result};

/// Format byte of a wrapped key: `0x01 ‖ KMS CiphertextBlob`.
const FORMAT_V1: u8 = 1;
const CONTEXT_VALUE: &str = "key-wrap-v1";
/// How long one KMS call may take.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Where the KMS key is and how to reach it.
#[derive(Clone)]
pub struct KmsSettings {
    /// `https://kms.REGION.amazonaws.com` or another endpoint
    pub endpoint: String,
    /// the region signed for
    pub region: String,
    /// key id, ARN or alias
    pub key_id: String,
    /// the access key id
    pub access_key_id: String,
    /// the secret access key
    pub secret_access_key: Zeroizing<String>,
    /// a session token, for temporary credentials
    pub session_token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for KmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsSettings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("key_id", &self.key_id)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<hidden>")
            .finish()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl KmsSettings {
    /// Reads the settings from the environment; says which one is missing.
    pub fn from_env() -> Result<KmsSettings> {
        let missing = |name: &str| Error::Crypto(format!("the aws-kms key provider needs {name}"));
        let region = env("EVIDENT_KMS_REGION")
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| missing("EVIDENT_KMS_REGION (or AWS_REGION)"))?;
        Ok(KmsSettings {
            endpoint: env("EVIDENT_KMS_ENDPOINT")
                .unwrap_or_else(|| format!("https://kms.{region}.amazonaws.com")),
            key_id: env("EVIDENT_KMS_KEY_ID")
                .ok_or_else(|| missing("EVIDENT_KMS_KEY_ID (a key id, ARN or alias/NAME)"))?,
            access_key_id: env("AWS_ACCESS_KEY_ID").ok_or_else(|| missing("AWS_ACCESS_KEY_ID"))?,
            secret_access_key: Zeroizing::new(
                env("AWS_SECRET_ACCESS_KEY").ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY"))?,
            ),
            session_token: env("AWS_SESSION_TOKEN").map(Zeroizing::new),
            region,
        })
    }
}

/// A client of one KMS key.
pub struct KmsProvider {
    settings: KmsSettings,
    host: String,
    agent: ureq::Agent,
}

/// `host[:port]` of an endpoint URL.
fn host_of(endpoint: &str) -> Result<String> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .ok_or_else(|| {
            Error::Crypto(format!(
                "EVIDENT_KMS_ENDPOINT {endpoint:?} must start with https:// (or http:// for a local test server)"
            ))
        })?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(Error::Crypto(format!(
            "EVIDENT_KMS_ENDPOINT {endpoint:?} has no host"
        )));
    }
    // Encrypt carries key material: in the clear only to a server on this machine.
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let loopback = matches!(name, "localhost" | "[::1]") || name.starts_with("127.");
    if endpoint.starts_with("http://") && !loopback {
        return Err(Error::Crypto(format!(
            "EVIDENT_KMS_ENDPOINT {endpoint:?}: KMS calls carry key material, so they go over https://; plain http:// is allowed only to a loopback test server"
        )));
    }
    Ok(host.to_string())
}

impl KmsProvider {
    /// A client of the configured key; checks that the key exists, is enabled and is a
    /// symmetric encryption key. KMS keys are made by an AWS administrator, never by Evident,
    /// so `create` changes nothing.
    pub fn open(settings: KmsSettings, _create: bool) -> Result<KmsProvider> {
        let provider = Self::client(settings)?;
        let described =
            provider.call("DescribeKey", &json!({"KeyId": provider.settings.key_id}))?;
        let meta = &described["KeyMetadata"];
        let problem = if meta["Enabled"] != json!(true) {
            Some(format!(
                "is {}",
                meta["KeyState"].as_str().unwrap_or("not enabled")
            ))
        } else if meta["KeyUsage"]
            .as_str()
            .is_some_and(|u| u != "ENCRYPT_DECRYPT")
        {
            Some("is not an encryption key (KeyUsage ENCRYPT_DECRYPT)".into())
        } else if meta["KeySpec"]
            .as_str()
            .or(meta["CustomerMasterKeySpec"].as_str())
            .is_some_and(|s| s != "SYMMETRIC_DEFAULT")
        {
            Some("is not a symmetric key (KeySpec SYMMETRIC_DEFAULT)".into())
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(Error::Crypto(format!(
                "AWS KMS key {:?} {problem}",
                provider.settings.key_id
            )));
        }
        Ok(provider)
    }

    /// A client of the endpoint with no check of the key (for administrative calls such as
    /// `CreateKey` through [`KmsProvider::call`]).
    pub fn client(settings: KmsSettings) -> Result<KmsProvider> {
        let host = host_of(&settings.endpoint)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(CALL_TIMEOUT))
            .build()
            .into();
        Ok(KmsProvider {
            settings,
            host,
            agent,
        })
    }

    /// One signed KMS API call (`TrentService.<action>`); KMS errors come back as
    /// [`Error::Crypto`] with KMS's type and message.
    pub fn call(&self, action: &str, body: &Value) -> Result<Value> {
        let body =
            serde_json::to_vec(body).map_err(|e| Error::Crypto(format!("AWS KMS request: {e}")))?;
        let amz_date = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .map_err(|e| Error::Crypto(format!("formatting the time: {e}")))?;
        let target = format!("TrentService.{action}");
        let mut headers = vec![
            ("content-type", "application/x-amz-json-1.1"),
            ("host", self.host.as_str()),
            ("x-amz-date", amz_date.as_str()),
            ("x-amz-target", target.as_str()),
        ];
        if let Some(token) = &self.settings.session_token {
            headers.push(("x-amz-security-token", token.as_str()));
        }
        let auth = authorization(
            &SigningParams {
                access_key_id: &self.settings.access_key_id,
                secret_access_key: &self.settings.secret_access_key,
                region: &self.settings.region,
                service: "kms",
                amz_date: &amz_date,
            },
            "POST",
            "/",
            &headers,
            &body,
        );
        let url = format!("{}/", self.settings.endpoint.trim_end_matches('/'));
        let mut request = self.agent.post(&url).header("Authorization", &auth);
        for (name, value) in &headers {
            if *name != "host" {
                request = request.header(*name, *value);
            }
        }
        let mut response = request
            .send(&body[..])
            .map_err(|e| Error::Crypto(format!("AWS KMS at {}: {e}", self.settings.endpoint)))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| Error::Crypto(format!("AWS KMS reply: {e}")))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status != 200 {
            let kind = value["__type"]
                .as_str()
                .map(|t| t.rsplit('#').next().unwrap_or(t))
                .unwrap_or("error");
            let message = value["message"]
                .as_str()
                .or(value["Message"].as_str())
                .unwrap_or("no message");
            return Err(Error::Crypto(format!(
                "AWS KMS {action} refused (HTTP {status}, {kind}): {}",
                message.chars().take(300).collect::<String>()
            )));
        }
        Ok(value)
    }

    fn context() -> Value {
        json!({"evident": CONTEXT_VALUE})
    }
}

impl KeyProvider for KmsProvider {
    fn describe(&self) -> String {
        format!(
            "aws-kms, key {:?} in {} ({})",
            self.settings.key_id, self.settings.region, self.settings.endpoint
        )
    }

    fn kind(&self) -> &'static str {
        "aws-kms"
    }

    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>> {
        let plaintext = Zeroizing::new(B64.encode(key));
        let reply = self.call(
            "Encrypt",
            &json!({
                "KeyId": self.settings.key_id,
                "Plaintext": plaintext.as_str(),
                "EncryptionContext": Self::context(),
            }),
        )?;
        let blob = reply["CiphertextBlob"]
            .as_str()
            .and_then(|b| B64.decode(b).ok())
            .ok_or_else(|| Error::Crypto("AWS KMS Encrypt answered no CiphertextBlob".into()))?;
        let mut out = Vec::with_capacity(1 + blob.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&blob);
        Ok(out)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let Some((&FORMAT_V1, blob)) = wrapped.split_first() else {
            return Err(Error::Crypto(
                "not a key wrapped by the aws-kms provider".into(),
            ));
        };
        let reply = self.call(
            "Decrypt",
            &json!({
                "KeyId": self.settings.key_id,
                "CiphertextBlob": B64.encode(blob),
                "EncryptionContext": Self::context(),
            }),
        )?;
        let plaintext = Zeroizing::new(
            reply["Plaintext"]
                .as_str()
                .ok_or_else(|| Error::Crypto("AWS KMS Decrypt answered no Plaintext".into()))?
                .to_string(),
        );
        Ok(Zeroizing::new(B64.decode(plaintext.as_bytes()).map_err(
            |_| Error::Crypto("AWS KMS Decrypt answered bad base64".into()),
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_need_a_scheme_and_a_host() {
        assert_eq!(
            host_of("https://kms.eu-west-1.amazonaws.com").unwrap(),
            "kms.eu-west-1.amazonaws.com"
        );
        assert_eq!(host_of("http://127.0.0.1:5000/").unwrap(), "127.0.0.1:5000");
        assert!(host_of("kms.example.com").is_err());
        assert!(host_of("https://").is_err());
        assert!(host_of("http://localhost:4566").is_ok());
        let e = host_of("http://kms.internal.example:80")
            .unwrap_err()
            .to_string();
        assert!(e.contains("https://"), "{e}");
    }
}
