//! `evident bench access`: decisions/s and latency of the access part, each next to the cost
//! of a bare Cedar `Authorizer::is_authorized` on the same policies and entities in the same
//! run (the limit: logging and HTTP should add little). See docs/performance.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use evident::access::authzen::{EvaluationRequest, EvaluationsRequest, PartialRequest};
use evident::access::pdp::{self, Prepared};
use evident::access::{decide_offline, Caller};
use evident::{Engine, Role};
use serde_json::{json, Value};

use crate::packs;
use crate::verbs::bench::measure::{fmt_d, host_stalls, percentile, RawClient, ThreadTime};

fn lat(samples: &mut [Duration]) -> (Duration, Duration, String) {
    samples.sort();
    let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99));
    (p50, p99, format!("p50 {} p99 {}", fmt_d(p50), fmt_d(p99)))
}

/// Load at the offered rate before the measured window (see `http`).
const HTTP_WARMUP: Duration = Duration::from_secs(1);
/// Thread names as the kernel keeps them (15 bytes): tokio's workers, the ledger's writer.
const SERVER_WORKERS: &str = "tokio-rt-worker";
const SEQUENCER: &str = "evident-sequenc";

/// The request mix: PHI reads allowed and denied (regulated), document reads and writes.
fn requests(now: i64) -> Vec<Value> {
    let authn = json!({"mfa": true, "auth_time": now - 30, "acr": "urn:evident:acr:mfa", "amr": ["pwd", "otp"], "iss": "https://idp.example", "sub": "carol"});
    vec![
        json!({"subject": {"type": "User", "id": "carol"}, "action": {"name": "read"},
               "resource": {"type": "PatientRecord", "id": "pr-1001"},
               "context": {"authn": authn, "purpose_of_use": "treatment"}}),
        json!({"subject": {"type": "User", "id": "dave"}, "action": {"name": "read"},
               "resource": {"type": "PatientRecord", "id": "pr-1001"},
               "context": {"authn": authn, "purpose_of_use": "treatment"}}),
        json!({"subject": {"type": "User", "id": "carol"}, "action": {"name": "read"},
               "resource": {"type": "Document", "id": "handbook"}}),
        json!({"subject": {"type": "User", "id": "bob"}, "action": {"name": "update"},
               "resource": {"type": "Document", "id": "handbook"}}),
    ]
}

fn single(v: &Value) -> Result<EvaluationsRequest> {
    let r: EvaluationRequest = serde_json::from_value(v.clone())?;
    Ok(EvaluationsRequest {
        defaults: PartialRequest {
            subject: Some(r.subject),
            action: Some(r.action),
            resource: Some(r.resource),
            context: r.context,
        },
        evaluations: None,
        options: None,
    })
}

/// Runs `f` repeatedly for about `budget`, timing each call.
fn timed(budget: Duration, mut f: impl FnMut(usize) -> Result<()>) -> Result<(f64, Vec<Duration>)> {
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut i = 0;
    while started.elapsed() < budget {
        let t = Instant::now();
        f(i)?;
        samples.push(t.elapsed());
        i += 1;
    }
    Ok((i as f64 / started.elapsed().as_secs_f64(), samples))
}

pub fn run(
    dir: Option<PathBuf>,
    rate: u64,
    seconds: u64,
    clients: usize,
    http_only: bool,
) -> Result<()> {
    let keep = dir.is_some();
    let scratch = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("evident-bench-access-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    println!(
        "evident bench access — {} cores, the default policy pack, mixed requests (PHI allowed and denied, documents read and written)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    println!("{}", host_stalls(Duration::from_secs(2)));
    let engine = Arc::new(Engine::open(&scratch.join("data"), true)?);
    engine.access().apply(packs::default_pack(), "bench")?;
    let pack = engine.access().require_active()?;
    let now = evident::event::now_us() / 1_000_000;
    let raw = requests(now);
    let batches: Vec<EvaluationsRequest> = raw.iter().map(single).collect::<Result<_>>()?;
    let budget = Duration::from_secs(2);

    if http_only {
        http(&engine, &raw, rate, seconds, clients, None)?;
        engine.shutdown();
        if !keep {
            let _ = std::fs::remove_dir_all(&scratch);
        }
        return Ok(());
    }
    // 1. The limit: Cedar alone, request and entities built beforehand.
    let cedar: Vec<_> = raw
        .iter()
        .map(|v| -> Result<_> {
            let r: EvaluationRequest = serde_json::from_value(v.clone())?;
            let prepared = Prepared::new(&pack, &r.subject, &r.action, &r.resource)?;
            let mut ctx = r.context.clone().unwrap_or_default();
            ctx.insert("now".into(), now.into());
            let request = prepared.request(&pack, &ctx)?;
            Ok((prepared, request))
        })
        .collect::<Result<_>>()?;
    let (bare_rate, mut bare) = timed(budget, |i| {
        let (prepared, request) = &cedar[i % cedar.len()];
        std::hint::black_box(pdp::bare(&pack, request, prepared.entities(&pack)));
        Ok(())
    })?;
    let (bare_p50, _, bare_lat) = lat(&mut bare);
    println!("bare Cedar Authorizer::is_authorized (the limit): {bare_rate:.0} decisions/s on one core, {bare_lat}");

    // 2. Evident's decision core: AuthZEN JSON → Cedar request, context checked against the
    //    schema, break-glass and step-up rules; no logging.
    let (core_rate, mut core) = timed(budget, |i| {
        std::hint::black_box(decide_offline(&pack, &batches[i % batches.len()], now)?);
        Ok(())
    })?;
    let (core_p50, _, core_lat) = lat(&mut core);
    println!(
        "decision core, not logged: {core_rate:.0} decisions/s on one core, {core_lat} ({:.1}× the bare Cedar call)",
        core_p50.as_secs_f64() / bare_p50.as_secs_f64().max(1e-9)
    );

    // 4. Logged and durable before answering, in process: one caller, then many.
    let caller = Caller {
        method: "bench".into(),
        id: "bench".into(),
    };
    let access = engine.access();
    // 3. Batches of 100 items (before the logged runs, whose index catch-up would share the cores) (AuthZEN evaluations).
    let items: Vec<PartialRequest> = (0..100)
        .map(|i| -> Result<PartialRequest> {
            let r: EvaluationRequest = serde_json::from_value(raw[i % raw.len()].clone())?;
            Ok(PartialRequest {
                subject: Some(r.subject),
                action: Some(r.action),
                resource: Some(r.resource),
                context: r.context,
            })
        })
        .collect::<Result<_>>()?;
    let batch100 = EvaluationsRequest {
        defaults: PartialRequest::default(),
        evaluations: Some(items),
        options: None,
    };
    let (_, mut b_core) = timed(budget, |_| {
        std::hint::black_box(decide_offline(&pack, &batch100, now)?);
        Ok(())
    })?;
    let (b_core_p50, _, b_core_lat) = lat(&mut b_core);
    let (_, mut b_logged) = timed(budget, |_| {
        access.evaluate_blocking(&batch100, &caller, None)?;
        Ok(())
    })?;
    let (_, _, b_logged_lat) = lat(&mut b_logged);
    println!(
        "batch of 100 mixed evaluations (4 kinds of request, each item complete): decided {b_core_lat} (target p50 ≤ 1 ms: {}); decided and logged durably in one commit {b_logged_lat}",
        if b_core_p50 <= Duration::from_millis(1) { "met" } else { "missed" },
    );
    // The AuthZEN shape: subject, action and context given once, 100 resources.
    let shared = serde_json::from_value::<EvaluationsRequest>(json!({
        "subject": {"type": "User", "id": "carol"},
        "action": {"name": "read"},
        "context": {"authn": {"mfa": true, "auth_time": now - 30}, "purpose_of_use": "treatment"},
        "evaluations": (0..100).map(|i| if i % 2 == 0 {
            json!({"resource": {"type": "Document", "id": format!("doc-{i}")}})
        } else {
            json!({"resource": {"type": "PatientRecord", "id": if i % 4 == 1 { "pr-1001" } else { "pr-2002" }}})
        }).collect::<Vec<_>>()
    }))?;
    let (_, mut s_core) = timed(budget, |_| {
        std::hint::black_box(decide_offline(&pack, &shared, now)?);
        Ok(())
    })?;
    let (s_core_p50, _, s_core_lat) = lat(&mut s_core);
    let (_, mut s_logged) = timed(budget, |_| {
        access.evaluate_blocking(&shared, &caller, None)?;
        Ok(())
    })?;
    let (_, _, s_logged_lat) = lat(&mut s_logged);
    println!(
        "batch of 100 evaluations, one subject and context over 100 resources (documents and PHI): decided {s_core_lat} (target p50 ≤ 1 ms: {}); decided and logged durably {s_logged_lat}",
        if s_core_p50 <= Duration::from_millis(1) { "met" } else { "missed" },
    );

    // what logging adds before the sequencer: the decision event built, redacted, its
    // personal fields committed, encoded as RFC 8785
    let (prep_rate, mut prep) = timed(budget, |i| {
        let pending = access.prepare(&batches[i % batches.len()], &caller, None)?;
        std::hint::black_box(engine.prepare(&pending.events)?);
        Ok(())
    })?;
    let (_, _, prep_lat) = lat(&mut prep);
    println!("decision + its ledger event prepared (redacted, personal fields committed, RFC 8785), not yet appended: {prep_rate:.0}/s on one core, {prep_lat}");
    let (seq_rate, mut seq) = timed(budget, |i| {
        access.evaluate_blocking(&batches[i % batches.len()], &caller, None)?;
        Ok(())
    })?;
    let (_, _, seq_lat) = lat(&mut seq);
    println!("logged in process, one caller at a time (each waits for its fsync'd, signed commit): {seq_rate:.0} decisions/s, {seq_lat}");
    let threads = 32;
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let engine = engine.clone();
            let batches = batches.clone();
            let caller = caller.clone();
            std::thread::spawn(move || -> Result<Vec<Duration>> {
                let mut samples = Vec::new();
                let mut i = t;
                while started.elapsed() < Duration::from_secs(3) {
                    let t0 = Instant::now();
                    engine.access().evaluate_blocking(
                        &batches[i % batches.len()],
                        &caller,
                        None,
                    )?;
                    samples.push(t0.elapsed());
                    i += 1;
                }
                Ok(samples)
            })
        })
        .collect();
    let mut conc = Vec::new();
    for h in handles {
        conc.extend(h.join().map_err(|_| anyhow::anyhow!("worker panicked"))??);
    }
    let conc_rate = conc.len() as f64 / started.elapsed().as_secs_f64();
    let (_, _, conc_lat) = lat(&mut conc);
    println!("logged in process, {threads} callers (group commit): {conc_rate:.0} decisions/s, {conc_lat}");

    // 5. HTTP at a fixed offered rate, open loop.
    http(&engine, &raw, rate, seconds, clients, Some(bare_p50))?;

    engine.shutdown();
    drop(engine);
    if !keep {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    Ok(())
}

fn http(
    engine: &Arc<Engine>,
    raw: &[Value],
    rate: u64,
    seconds: u64,
    clients: usize,
    bare_p50: Option<Duration>,
) -> Result<()> {
    let key = engine.create_api_key(Role::Writer, Some("bench"), "bench")?;
    let token = key.token.as_str().to_string();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = |base: &str| -> Result<Load> {
        let addr = base.trim_start_matches("http://").to_string();
        let requests: Vec<Vec<u8>> = raw
            .iter()
            .map(|v| {
                let body = v.to_string();
                format!(
                    "POST /access/v1/evaluation HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            })
            .collect();
        offer(&addr, Arc::new(requests), rate, seconds, clients)
    };

    // What HTTP alone costs here: the same stack and load, answering a fixed decision.
    let floor_server = evident_server::LoopbackServer::start_http_floor()?;
    let mut floor = load(&floor_server.base)?;
    floor_server.stop()?;
    let (_, floor_p99, floor_text) = lat(&mut floor.samples);
    println!(
        "HTTP floor (the same runtime, HTTP stack and load, answering a fixed decision: no authentication, no decision, nothing logged): achieved {:.0}/s, {floor_text}; {} sends started >1 ms late{}",
        floor.achieved,
        floor.late,
        floor.cpu.map(|c| format!("; CPU per request: server workers {:.1} µs, clients {:.1} µs", c.workers, c.clients)).unwrap_or_default(),
    );

    let server = evident_server::LoopbackServer::start(engine.clone())?;
    let size_before = engine.size();
    let mut real = load(&server.base)?;
    let logged = engine.size() - size_before;
    server.stop()?;
    let (_, p99, text) = lat(&mut real.samples);
    println!(
        "HTTP /access/v1/evaluation, offered {rate}/s for {seconds} s after a {}-second warm-up over {clients} keep-alive connections (clients on the same {cores} cores): achieved {:.0}/s, {text} (target p99 ≤ 3 ms at 10,000/s: {}; the HTTP floor's p99 was {}); {logged} decisions logged durably before answering (warm-up included); {} sends started >1 ms late{}",
        HTTP_WARMUP.as_secs(),
        real.achieved,
        if rate >= 10_000 && p99 <= Duration::from_millis(3) && real.achieved >= rate as f64 * 0.98 { "met" } else if rate < 10_000 { "not tested at this rate" } else { "missed" },
        fmt_d(floor_p99),
        real.late,
        bare_p50.map(|d| format!("; bare Cedar p50 {}", fmt_d(d))).unwrap_or_default(),
    );
    if let Some(c) = real.cpu {
        println!(
            "CPU per HTTP decision: server workers {:.1} µs (floor {}), sequencer {:.1} µs, clients {:.1} µs, of the {:.0} µs {cores} cores have per decision at this rate; waiting for a core: {:.1} µs per decision, all threads",
            c.workers,
            floor.cpu.map_or("n/a".to_string(), |f| format!("{:.1} µs", f.workers)),
            c.sequencer,
            c.clients,
            cores as f64 * 1e6 / rate as f64,
            c.waited,
        );
    }
    Ok(())
}

/// One open-loop load run: latencies from the scheduled send times, and CPU spent.
struct Load {
    samples: Vec<Duration>,
    achieved: f64,
    late: u64,
    cpu: Option<CpuPerRequest>,
}

/// Microseconds of CPU per measured request, by thread group (Linux only).
#[derive(Clone, Copy)]
struct CpuPerRequest {
    workers: f64,
    sequencer: f64,
    clients: f64,
    /// runnable but not running, summed over the three groups
    waited: f64,
}

/// Offers `rate` requests a second over `clients` keep-alive connections for a warm-up second
/// and then `seconds` measured ones, each client sending in turn at its scheduled time.
fn offer(
    addr: &str,
    requests: Arc<Vec<Vec<u8>>>,
    rate: u64,
    seconds: u64,
    clients: usize,
) -> Result<Load> {
    // The first second runs at the same rate and is not counted (as wrk2's calibration):
    // the clients' first connections and the server's first allocations are not the steady
    // state the target is about.
    let warmup = rate * HTTP_WARMUP.as_secs();
    let total = warmup + rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now() + Duration::from_millis(300);
    let measured_from = start + HTTP_WARMUP;
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let (addr, requests) = (addr.to_string(), requests.clone());
            std::thread::spawn(
                move || -> Result<(Vec<Duration>, u64, Option<ThreadTime>)> {
                    let mut client = RawClient::connect(&addr)?;
                    let mut cpu_from = None;
                    // Sized up front: the clients send in turn, so their sample buffers would all
                    // double at the same moment, and the page faults of 64 threads growing them
                    // at once showed as a server stall of up to 100 ms.
                    let mut samples = Vec::with_capacity((total / clients as u64 + 1) as usize);
                    let mut late = 0;
                    let mut n = c as u64;
                    while n < total {
                        let due = start + interval.mul_f64(n as f64);
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        } else if n >= warmup && now - due > Duration::from_millis(1) {
                            late += 1;
                        }
                        if n >= warmup && cpu_from.is_none() {
                            cpu_from = ThreadTime::this_thread();
                        }
                        let reply = client.call(&requests[n as usize % requests.len()])?;
                        if !reply.windows(10).any(|w| w == b"\"decision\"") {
                            anyhow::bail!("unexpected reply: {}", String::from_utf8_lossy(reply));
                        }
                        // from the scheduled send time: a stalled server shows as latency
                        if n >= warmup {
                            samples.push(Instant::now().saturating_duration_since(due));
                        }
                        n += clients as u64;
                    }
                    let spent = ThreadTime::this_thread()
                        .zip(cpu_from)
                        .map(|(now, from)| now - from);
                    Ok((samples, late, spent))
                },
            )
        })
        .collect();
    std::thread::sleep(measured_from.saturating_duration_since(Instant::now()));
    let workers_from = ThreadTime::threads_named(SERVER_WORKERS);
    let sequencer_from = ThreadTime::threads_named(SEQUENCER);
    let mut samples = Vec::new();
    let mut late = 0;
    let mut clients_cpu = Some(ThreadTime::default());
    for h in handles {
        let (s, l, cpu) = h.join().map_err(|_| anyhow::anyhow!("client panicked"))??;
        samples.extend(s);
        late += l;
        clients_cpu = clients_cpu.zip(cpu).map(|(a, b)| a + b);
    }
    let achieved = samples.len() as f64 / measured_from.elapsed().as_secs_f64();
    let workers = ThreadTime::threads_named(SERVER_WORKERS)
        .zip(workers_from)
        .map(|(now, from)| now - from);
    let sequencer = ThreadTime::threads_named(SEQUENCER)
        .zip(sequencer_from)
        .map(|(now, from)| now - from);
    let per = samples.len().max(1) as f64;
    let cpu = match (workers, sequencer, clients_cpu) {
        (Some(w), Some(q), Some(c)) => Some(CpuPerRequest {
            workers: w.ran_us() / per,
            sequencer: q.ran_us() / per,
            clients: c.ran_us() / per,
            waited: (w + q + c).waited_us() / per,
        }),
        _ => None,
    };
    Ok(Load {
        samples,
        achieved,
        late,
        cpu,
    })
}
