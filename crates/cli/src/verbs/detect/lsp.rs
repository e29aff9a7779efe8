//! `evident lsp`: a Language Server over stdio that publishes a diagnostic for every finding
//! in an open document, so any editor with an LSP client flags a card number or key as it is
//! typed. Full-document sync; positions in UTF-16 code units, as LSP requires by default.

use anyhow::{Context, Result};
use clap::Args;
use evident_detect::{Detector, Finding, Fingerprinter, Scanner};
use lsp_server::{Connection, ErrorCode, Message, Notification, Response};
use serde_json::{json, Value};

use crate::verbs::detect::detector::{self, DetectArgs};

/// Run a Language Server on stdin/stdout that flags card numbers, PHI and secrets in open
/// documents as you type. Point your editor's generic LSP client at `evident lsp`.
#[derive(Debug, Args)]
pub struct LspArgs {
    #[command(flatten)]
    rules: DetectArgs,
}

/// Runs until the client sends `shutdown` and `exit` (or closes stdin).
pub fn run(args: LspArgs) -> Result<()> {
    let (detector, entities) = detector::build_detector(&args.rules)?;
    let fingerprints = detector::fingerprinter(&args.rules)?;
    let (connection, io_threads) = Connection::stdio();
    let capabilities = json!({
        "positionEncoding": "utf-16",
        "textDocumentSync": { "openClose": true, "change": 1 }
    });
    connection
        .initialize(capabilities)
        .context("LSP initialize handshake")?;
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    break;
                }
                let reply = Response::new_err(
                    request.id,
                    ErrorCode::MethodNotFound as i32,
                    format!("evident lsp does not handle {}", request.method),
                );
                connection.sender.send(Message::Response(reply))?;
            }
            Message::Notification(note) => {
                let document = match note.method.as_str() {
                    "textDocument/didOpen" => note.params.pointer("/textDocument").and_then(|d| {
                        Some((
                            d.get("uri")?.clone(),
                            d.get("version").cloned(),
                            d.get("text")?.as_str()?.to_owned(),
                        ))
                    }),
                    "textDocument/didChange" => {
                        let uri = note.params.pointer("/textDocument/uri").cloned();
                        let version = note.params.pointer("/textDocument/version").cloned();
                        // Full sync: the last change holds the whole text.
                        let text = note
                            .params
                            .get("contentChanges")
                            .and_then(Value::as_array)
                            .and_then(|c| c.last())
                            .and_then(|c| c.get("text"))
                            .and_then(Value::as_str)
                            .map(str::to_owned);
                        uri.zip(text).map(|(u, t)| (u, version, t))
                    }
                    "textDocument/didClose" => {
                        if let Some(uri) = note.params.pointer("/textDocument/uri") {
                            publish(&connection, uri.clone(), None, Vec::new())?;
                        }
                        continue;
                    }
                    _ => continue,
                };
                let Some((uri, version, text)) = document else {
                    tracing::warn!("ignoring a malformed {} notification", note.method);
                    continue;
                };
                let diagnostics = diagnostics(&detector, &fingerprints, entities.as_deref(), &text);
                publish(&connection, uri, version, diagnostics)?;
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    io_threads.join().context("LSP stdio threads")?;
    Ok(())
}

fn publish(
    connection: &Connection,
    uri: Value,
    version: Option<Value>,
    diagnostics: Vec<Value>,
) -> Result<()> {
    let mut params = json!({ "uri": uri, "diagnostics": diagnostics });
    if let Some(version) = version.filter(|v| !v.is_null()) {
        params["version"] = version;
    }
    let note = Notification::new("textDocument/publishDiagnostics".into(), params);
    connection.sender.send(Message::Notification(note))?;
    Ok(())
}

/// One LSP diagnostic per finding in `text`.
pub fn diagnostics(
    detector: &Detector,
    fingerprints: &Fingerprinter,
    only: Option<&[evident_detect::Entity]>,
    text: &str,
) -> Vec<Value> {
    let mut findings: Vec<Finding> = Vec::new();
    Scanner::new(detector, fingerprints)
        .skip_binary(false)
        .scan_bytes(text.as_bytes(), "document", &mut |f| findings.push(f));
    findings
        .into_iter()
        .filter(|f| only.is_none_or(|o| o.contains(&f.entity)))
        .map(|f| {
            json!({
                "range": {
                    "start": position(text, f.start as usize),
                    "end": position(text, f.end as usize)
                },
                "severity": 1,
                "code": f.rule,
                "source": "evident",
                "message": format!("{} in source: {} — remove it, or load it from a secret store", f.entity, f.masked),
                "data": { "entity": f.entity.as_str(), "fingerprint": f.fingerprint }
            })
        })
        .collect()
}

/// The LSP position (0-based line, UTF-16 column) of a byte offset.
fn position(text: &str, offset: usize) -> Value {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = memchr_count(before);
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column: usize = String::from_utf8_lossy(&before[line_start..])
        .encode_utf16()
        .count();
    json!({ "line": line, "character": column })
}

fn memchr_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::verbs::detect::lsp::position;

    #[test]
    fn positions_count_utf16_units() {
        let text = "ab\né😀 x";
        assert_eq!(position(text, 0), json!({"line": 0, "character": 0}));
        let x = text.find('x').unwrap();
        // é is one UTF-16 unit, the emoji two, then a space.
        assert_eq!(position(text, x), json!({"line": 1, "character": 4}));
    }
}
