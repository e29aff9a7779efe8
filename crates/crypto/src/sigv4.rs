//! AWS Signature Version 4 for the `aws-kms` provider's requests: the canonical request, the
//! string to sign and the derived signing key, as the AWS General Reference specifies. Written
//! here because the AWS SDK's signer pulls the SDK's runtime (dozens of crates) for one
//! function; it is checked against AWS's published `get-vanilla` test vector.

use ring::{digest, hmac};

/// What a request is signed with.
pub struct SigningParams<'a> {
    /// the access key id
    pub access_key_id: &'a str,
    /// the secret access key
    pub secret_access_key: &'a str,
    /// the region (`us-east-1`)
    pub region: &'a str,
    /// the service (`kms`)
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`, also sent as `X-Amz-Date`
    pub amz_date: &'a str,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> hmac::Tag {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
}

/// The `Authorization` header value for a request with no query string. `headers` are the
/// headers to sign (names in any case; `host` and `x-amz-date` must be among them).
pub fn authorization(
    params: &SigningParams<'_>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> String {
    let mut canonical_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                value.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    canonical_headers.sort();
    let signed_headers = canonical_headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let mut canonical = format!("{method}\n{path}\n\n");
    for (name, value) in &canonical_headers {
        canonical.push_str(&format!("{name}:{value}\n"));
    }
    canonical.push_str(&format!(
        "\n{signed_headers}\n{}",
        hex(digest::digest(&digest::SHA256, body).as_ref())
    ));
    let date = &params.amz_date[..8.min(params.amz_date.len())];
    let scope = format!("{date}/{}/{}/aws4_request", params.region, params.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        params.amz_date,
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let secret = zeroize::Zeroizing::new(format!("AWS4{}", params.secret_access_key));
    let k_date = hmac_sha256(secret.as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(k_date.as_ref(), params.region.as_bytes());
    let k_service = hmac_sha256(k_region.as_ref(), params.service.as_bytes());
    let k_signing = hmac_sha256(k_service.as_ref(), b"aws4_request");
    let signature = hmac_sha256(k_signing.as_ref(), to_sign.as_bytes());
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={}",
        params.access_key_id,
        hex(signature.as_ref())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's Signature Version 4 test suite, `get-vanilla`.
    #[test]
    fn matches_the_aws_get_vanilla_vector() {
        let params = SigningParams {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "service",
            amz_date: "20150830T123600Z",
        };
        let auth = authorization(
            &params,
            "GET",
            "/",
            &[
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            b"",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }
}
