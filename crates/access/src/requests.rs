//! What Evident asks of its own policy before it uses a regulated key or reveals what a card
//! token stands for: the requests ([`decrypt_request`], [`detokenize_request`]) and
//! [`require_allow`], which turns the answer into `Ok` or an [`Error::Denied`].

use serde_json::{Map, Value};

use crate::authzen::{self, EvaluationsRequest};
use crate::decide::Answer;
use evident_core::{Error, Result};

/// The AuthZEN request by which Evident asks its own policy whether `subject` may decrypt
/// with the regulated key `key`: action `decrypt` on `EncryptionKey::"KEY"`. The subject is
/// `User::"SUB"` for an OIDC caller or the CLI's user, `Service::"KEY_ID"` for an API key.
pub fn decrypt_request(
    subject_type: &str,
    subject_id: &str,
    key: &str,
    context: Option<Map<String, Value>>,
) -> EvaluationsRequest {
    EvaluationsRequest {
        defaults: authzen::PartialRequest {
            subject: Some(authzen::Subject {
                kind: subject_type.into(),
                id: subject_id.into(),
                properties: None,
            }),
            action: Some(authzen::Action {
                name: "decrypt".into(),
                properties: None,
            }),
            resource: Some(authzen::Subject {
                kind: "EncryptionKey".into(),
                id: key.into(),
                properties: None,
            }),
            context,
        },
        evaluations: None,
        options: None,
    }
}

/// The request Evident evaluates before revealing what a card token stands for: action
/// `detokenize` on `CardToken::"TOKEN"`, with `reveal` (`full` or `masked`) set in the
/// context over whatever the caller sent.
pub fn detokenize_request(
    subject_type: &str,
    subject_id: &str,
    token: &str,
    reveal: &str,
    context: Option<Map<String, Value>>,
) -> EvaluationsRequest {
    let mut context = context.unwrap_or_default();
    context.insert("reveal".into(), Value::String(reveal.into()));
    let mut request = decrypt_request(subject_type, subject_id, token, Some(context));
    if let Some(action) = request.defaults.action.as_mut() {
        action.name = "detokenize".into();
    }
    if let Some(resource) = request.defaults.resource.as_mut() {
        resource.kind = "CardToken".into();
    }
    request
}

/// Turns the answer to a single request into `Ok` for an allow, or [`Error::Denied`] saying
/// what was refused (`what`: "decrypting with the regulated key `phi`") and why.
pub fn require_allow(answer: Result<Answer>, what: &str) -> Result<()> {
    let why = match answer {
        Ok(Answer::One(d)) if d.decision => return Ok(()),
        Ok(Answer::One(d)) => match d.context {
            Some(c) => format!("denied ({c})"),
            None => "denied".into(),
        },
        Ok(Answer::Many(_)) => "denied".into(),
        Err(e) => e.to_string(),
    };
    Err(Error::Denied(format!(
        "{what} needs an allow from the access policy: {why}"
    )))
}
