//! Model-based check of the decision core: for random requests against the default pack,
//! Evident's answer equals a reference built the slow, obvious way — Cedar's own
//! schema-guided JSON parser for the context and the whole policy set — so the fast context
//! path and the per-action policy slices change nothing Cedar would say. Evident may only
//! add what it documents: a break-glass grant without a justification is a deny.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{Authorizer, Context, Decision, EntityId, EntityTypeName, EntityUid, Request};
use evident::access::authzen::DecisionResponse;
use evident::access::authzen::{EvaluationRequest, EvaluationsRequest, PartialRequest};
use evident::access::pack::{compile, CompiledPack, PackFiles};
use evident::access::pdp::{self, Denial};
use evident::access::{decide_offline, Answer};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const NOW: i64 = 1_800_000_000;

fn pack() -> CompiledPack {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
    compile(PackFiles::load_dir(&dir).unwrap()).unwrap()
}

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).unwrap(), EntityId::new(id))
}

/// The reference: what Cedar answers on its own.
fn reference(pack: &CompiledPack, req: &EvaluationRequest) -> Option<(bool, BTreeSet<String>)> {
    let action = uid("Action", &req.action.name);
    let mut context = req.context.clone().unwrap_or_default();
    context.insert("now".into(), NOW.into());
    let context =
        Context::from_json_value(Value::Object(context), Some((&pack.schema, &action))).ok()?;
    let request = Request::new(
        uid(&req.subject.kind, &req.subject.id),
        action,
        uid(&req.resource.kind, &req.resource.id),
        context,
        Some(&pack.schema),
    )
    .ok()?;
    let response = Authorizer::new().is_authorized(&request, &pack.policies, &pack.entities);
    Some((
        response.decision() == Decision::Allow,
        response
            .diagnostics()
            .reason()
            .map(|p| p.to_string())
            .collect(),
    ))
}

fn request() -> impl Strategy<Value = EvaluationRequest> {
    let subject = prop::sample::select(vec![
        ("User", "alice"),
        ("User", "bob"),
        ("User", "carol"),
        ("User", "dave"),
        ("User", "mallory"),
        ("Service", "billing-export"),
    ]);
    let action = prop::sample::select(vec![
        "read",
        "list",
        "create",
        "update",
        "delete",
        "administer",
        "decrypt",
    ]);
    let resource = prop::sample::select(vec![
        ("Document", "handbook"),
        ("Document", "unknown-doc"),
        ("PatientRecord", "pr-1001"),
        ("PatientRecord", "pr-2002"),
        ("Settings", "evident"),
        ("EncryptionKey", "phi"),
    ]);
    // weighted towards the facts that grant access, so permits are common, not rare
    let authn = (
        prop::option::weighted(0.9, prop::bool::weighted(0.8)),
        prop::option::weighted(0.9, prop::sample::select(vec![10i64, 250, 600, 3600])),
        prop::option::of(prop::sample::subsequence(vec!["pwd", "otp", "hwk"], 0..3)),
    );
    let context = (
        prop::option::weighted(0.9, authn),
        prop::option::weighted(
            0.8,
            prop::sample::select(vec!["treatment", "payment", "marketing"]),
        ),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(vec![
            "",
            "short",
            "a fall in the ward, chart needed",
        ])),
    );
    (
        subject,
        action,
        resource,
        prop::option::weighted(0.9, context),
    )
        .prop_map(|((st, sid), action, (rt, rid), context)| {
            let context = context.map(|(authn, purpose, glass, why)| {
                let mut c = Map::new();
                if let Some((mfa, age, amr)) = authn {
                    let mut a = Map::new();
                    if let Some(m) = mfa {
                        a.insert("mfa".into(), m.into());
                    }
                    if let Some(age) = age {
                        a.insert("auth_time".into(), (NOW - age).into());
                    }
                    if let Some(amr) = amr {
                        a.insert("amr".into(), json!(amr));
                    }
                    c.insert("authn".into(), Value::Object(a));
                }
                if let Some(p) = purpose {
                    c.insert("purpose_of_use".into(), p.into());
                }
                if let Some(g) = glass {
                    c.insert("break_glass".into(), g.into());
                }
                if let Some(w) = why {
                    c.insert("justification".into(), w.into());
                }
                c
            });
            serde_json::from_value(json!({
                "subject": {"type": st, "id": sid},
                "action": {"name": action},
                "resource": {"type": rt, "id": rid},
                "context": context,
            }))
            .unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn evident_decides_as_cedar_does(req in request()) {
        let pack = pack_once();
        let got = pdp::decide(pack, &req, NOW);
        match reference(pack, &req) {
            // a request Cedar cannot even build is refused, never decided
            None => prop_assert!(got.is_err(), "{req:?} -> {got:?}"),
            Some((allowed, reasons)) => {
                let verdict = got.unwrap();
                let determining: BTreeSet<String> = verdict.determining.iter().cloned().collect();
                prop_assert_eq!(&determining, &reasons);
                if verdict.denial == Some(Denial::JustificationRequired) {
                    // Evident's one addition: break-glass needs a justification
                    prop_assert!(allowed);
                    prop_assert!(reasons.iter().all(|id| pack.info[id].break_glass));
                } else {
                    prop_assert_eq!(verdict.allowed, allowed, "{:?}", req);
                }
            }
        }
    }
}

fn pack_once() -> &'static std::sync::Arc<CompiledPack> {
    static PACK: std::sync::OnceLock<std::sync::Arc<CompiledPack>> = std::sync::OnceLock::new();
    PACK.get_or_init(|| std::sync::Arc::new(pack()))
}

/// An item of a batch: a random request, or (when `malformed`) one without a subject.
fn item(req: EvaluationRequest, malformed: bool) -> PartialRequest {
    PartialRequest {
        subject: (!malformed).then_some(req.subject),
        action: Some(req.action),
        resource: Some(req.resource),
        context: req.context,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A large batch is split over helper threads; its answers are each item's own answer,
    /// in the item's place, malformed items included.
    #[test]
    fn a_batch_answers_as_its_items_do_alone(
        reqs in proptest::collection::vec((request(), proptest::bool::weighted(0.05)), 32..200),
    ) {
        let pack = pack_once();
        let items: Vec<PartialRequest> =
            reqs.into_iter().map(|(req, malformed)| item(req, malformed)).collect();
        let batch = EvaluationsRequest {
            defaults: PartialRequest::default(),
            evaluations: Some(items.clone()),
            options: None,
        };
        let together = match decide_offline(pack, &batch, NOW).unwrap() {
            Answer::Many(many) => many.evaluations,
            Answer::One(_) => panic!("a batch answered as a single evaluation"),
        };
        let alone: Vec<DecisionResponse> = items
            .into_iter()
            .map(|one| {
                let single = EvaluationsRequest {
                    defaults: PartialRequest::default(),
                    evaluations: Some(vec![one]),
                    options: None,
                };
                match decide_offline(pack, &single, NOW).unwrap() {
                    Answer::Many(mut many) if many.evaluations.len() == 1 => many.evaluations.remove(0),
                    other => panic!("one item answered as {other:?}"),
                }
            })
            .collect();
        prop_assert_eq!(together, alone);
    }
}
