//! The routes of the controls part: the catalog (`GET /v1/controls`), each control's status
//! (`GET /v1/controls/status`), one control's runs over a period
//! (`GET /v1/controls/{id}/history`) and a framework's coverage
//! (`GET /v1/controls/coverage`), which readers and auditors may read; and running checks
//! now (`POST /v1/controls/check`, `admin`), each run a `controls.check` ledger event.
//!
//! Running checks is bounded so that no caller, a fuzzer included, can pile work up: one run
//! at a time over the server (a request that finds one in progress is a 409; the scheduler
//! waits its turn), at most [`MAX_CHECK_IDS`] ids, unknown ones refused before anything runs,
//! and an answer within [`ANSWER_WITHIN`]: a run still going then is answered 202, and its
//! results are in the ledger and the status when it ends.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use evident::controls::{coverage, CheckRun};
use evident::{Engine, Error};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult, ErrorCode, LOG_TARGET};
use crate::gate::Operations;
use crate::request::{body_refused, json_body, Path, Query};
use crate::roles::{ADMINS, EVIDENCE_READERS};
use crate::state::Shared;

/// The most control ids one `POST /v1/controls/check` names.
pub(crate) const MAX_CHECK_IDS: usize = 256;

/// The longest control id a request may name.
const MAX_CONTROL_ID_BYTES: usize = 200;

/// How long `POST /v1/controls/check` waits for its runs before answering 202.
pub(crate) const ANSWER_WITHIN: Duration = Duration::from_secs(8);

/// The catalog, status, history, coverage, and running checks.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .get("/v1/controls", EVIDENCE_READERS, list_controls)
        .get("/v1/controls/status", EVIDENCE_READERS, status)
        .get("/v1/controls/coverage", EVIDENCE_READERS, show_coverage)
        .get("/v1/controls/{id}/history", EVIDENCE_READERS, history)
        .post("/v1/controls/check", ADMINS, check)
}

/// A controls call's error: the part's own, except that a catalog which does not load is the
/// server's state, not the request's fault — a 500 whose message names none of the server's
/// files (its log says which and why).
fn controls_error(engine: &Engine, error: Error) -> ApiError {
    match engine.controls().catalog() {
        Ok(_) => ApiError::from(error),
        Err(cause) => {
            tracing::error!(target: LOG_TARGET, error = %cause, "the control catalog does not load");
            ApiError::internal(
                "the control catalog in force does not load; the server's log says why",
            )
        }
    }
}

/// Runs a controls call on a blocking thread, mapping its error with [`controls_error`].
pub(crate) async fn controls_call<T: Send + 'static>(
    engine: &Arc<Engine>,
    work: impl FnOnce(&Engine) -> Result<T, Error> + Send + 'static,
) -> ApiResult<T> {
    let engine = engine.clone();
    blocking(move || Ok(work(&engine).map_err(|e| controls_error(&engine, e)))).await?
}

/// A framework named in a query: an unknown one is a fault of the request (400), not a
/// missing resource.
fn framework_refused(error: Error) -> Error {
    match error {
        Error::NotFound(message) => Error::BadRequest(message),
        other => other,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworkFilter {
    framework: Option<String>,
}

async fn list_controls(
    State(state): Shared,
    Query(filter): Query<FrameworkFilter>,
) -> ApiResult<Json<Value>> {
    controls_call(&state.engine, move |engine| {
        let catalog = engine.controls().catalog()?;
        let framework = match filter.framework.as_deref() {
            Some(name) => Some(
                catalog
                    .framework(name)
                    .map_err(framework_refused)?
                    .id
                    .clone(),
            ),
            None => None,
        };
        let mut controls = Vec::new();
        for control in catalog.controls.iter().filter(|c| {
            framework
                .as_ref()
                .is_none_or(|f| c.frameworks.contains_key(f))
        }) {
            let mut value = json!(control);
            // Where a control was written is for the operator's errors; the API says only
            // whether it is shipped or the organisation's own, never a path on the server.
            if let Some(fields) = value.as_object_mut() {
                fields.remove("location");
                let origin = if control.location.shipped {
                    "shipped"
                } else {
                    "local"
                };
                fields.insert("origin".into(), json!(origin));
            }
            controls.push(value);
        }
        Ok(Json(json!({
            "catalog": catalog.hash,
            "framework": framework,
            "controls": controls,
        })))
    })
    .await
}

async fn status(State(state): Shared) -> ApiResult<Json<Value>> {
    controls_call(&state.engine, |engine| {
        let now = evident::event::now_us();
        let controls = engine.controls().status(now)?;
        Ok(Json(json!({
            "as_of": evident::event::format_time(now),
            "controls": controls,
        })))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverageQuery {
    framework: String,
}

async fn show_coverage(
    State(state): Shared,
    Query(query): Query<CoverageQuery>,
) -> ApiResult<Json<Value>> {
    controls_call(&state.engine, move |engine| {
        let catalog = engine.controls().catalog()?;
        let report = coverage::coverage(&catalog, &query.framework).map_err(framework_refused)?;
        let mut shares = serde_json::Map::new();
        for (class, _) in &report.counts {
            // the class as the rows write it (`partly-automated`)
            if let Value::String(name) = json!(class) {
                shares.insert(name, json!(report.share(*class)));
            }
        }
        let mut body = json!(report);
        body["shares"] = Value::Object(shares);
        Ok(Json(body))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn history(
    State(state): Shared,
    Path(id): Path<String>,
    Query(period): Query<PeriodQuery>,
) -> ApiResult<Json<Value>> {
    let (from_us, to_us) = evident::controls::period::period(
        ("from", period.from.as_deref()),
        ("to", period.to.as_deref()),
        evident::event::now_us(),
    )?;
    controls_call(&state.engine, move |engine| {
        let runs = engine.controls().history(&id, from_us, to_us)?;
        Ok(Json(json!({
            "control": id,
            "from": evident::event::format_time(from_us),
            "to": evident::event::format_time(to_us),
            "runs": runs,
        })))
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    #[serde(default)]
    ids: Vec<String>,
}

async fn check(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(body_refused)?;
    let request: CheckRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CheckRequest::default()
    } else {
        json_body(Ok(body))?
    };
    if request.ids.len() > MAX_CHECK_IDS {
        return Err(ApiError::bad_request(format!(
            "`ids` names {} controls; at most {MAX_CHECK_IDS} in one request (none: every automated control)",
            request.ids.len()
        )));
    }
    if let Some(long) = request
        .ids
        .iter()
        .find(|id| id.is_empty() || id.len() > MAX_CONTROL_ID_BYTES)
    {
        return Err(ApiError::bad_request(format!(
            "a control id is 1 to {MAX_CONTROL_ID_BYTES} bytes; one is {}",
            long.len()
        )));
    }
    // One run at a time: a second caller is told so at once rather than queued.
    let Ok(turn) = state.check_runs.clone().try_lock_owned() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "a check run is in progress; try again when it ends (GET /v1/controls/status shows its results)",
        ));
    };
    let engine = state.engine.clone();
    let actor = identity.admin_actor();
    let mut running = tokio::task::spawn_blocking(move || {
        let runs = engine.controls().check(&request.ids, &actor);
        drop(turn);
        runs.map_err(|e| controls_error(&engine, e))
    });
    let runs: Vec<CheckRun> = match tokio::time::timeout(ANSWER_WITHIN, &mut running).await {
        Ok(joined) => joined.map_err(|e| ApiError::internal(e.to_string()))??,
        Err(_) => {
            // The run goes on (a check cannot be stopped half-way); its results are recorded
            // when it ends. Its outcome is logged, as nobody is waiting for the answer.
            tokio::spawn(async move {
                match running.await {
                    Ok(Ok(runs)) => {
                        tracing::info!(target: LOG_TARGET, runs = runs.len(), "a requested check run ended after its answer")
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(target: LOG_TARGET, error = ?e, "a requested check run failed after its answer")
                    }
                    Err(e) => {
                        tracing::error!(target: LOG_TARGET, error = %e, "a requested check run panicked")
                    }
                }
            });
            let body = json!({
                "status": "running",
                "message": format!(
                    "the checks are still running after {} s; their runs will be in the ledger and in GET /v1/controls/status",
                    ANSWER_WITHIN.as_secs()
                ),
            });
            return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
        }
    };
    let counts = |verdict: &str| {
        runs.iter()
            .filter(|r| r.outcome.verdict.as_str() == verdict)
            .count()
    };
    let summary = json!({
        "pass": counts("pass"),
        "fail": counts("fail"),
        "error": counts("error"),
        "inconclusive": counts("inconclusive"),
    });
    Ok(Json(json!({"status": "done", "summary": summary, "runs": runs})).into_response())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]
mod tests {
    use evident::Role;

    use super::*;
    use crate::state::AppState;

    /// A request finding a run in progress is told so at once, and nothing is run or
    /// appended for it; once the run ends, the next request runs.
    #[test]
    fn a_check_request_during_a_run_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Arc::new(Engine::open(dir.path(), true).unwrap());
        let admin = engine
            .create_api_key(Role::Admin, None, "test")
            .unwrap()
            .token
            .to_string();
        let state = AppState::new(engine.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!(
            "http://{}/v1/controls/check",
            listener.local_addr().unwrap()
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(crate::serve(state.clone(), listener, async {
            let _ = stopped.await;
        }));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let request = |body: &str| {
            let mut reply = agent
                .post(&url)
                .header("Authorization", format!("Bearer {admin}"))
                .content_type("application/json")
                .send(body)
                .unwrap();
            let status = reply.status().as_u16();
            (status, reply.body_mut().read_json::<Value>().unwrap())
        };

        let run_in_progress = state.check_runs.clone().try_lock_owned().unwrap();
        let before = engine.size();
        let (status, body) = request(r#"{"ids": ["EV-LOG-03"]}"#);
        assert_eq!(
            (status, &body["error"]["code"]),
            (409, &json!("conflict")),
            "{body}"
        );
        assert_eq!(engine.size(), before, "a refused run appended");

        drop(run_in_progress);
        let (status, body) = request(r#"{"ids": ["EV-LOG-03"]}"#);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["runs"][0]["control"], "EV-LOG-03");
        let _ = stop.send(());
        runtime.block_on(served).unwrap().unwrap();
    }
}
