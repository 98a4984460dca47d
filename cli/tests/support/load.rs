//! Write load through the gateway, as the council's people make it, with the
//! retries a careful client makes, and a ledger of every call for the checks
//! afterwards.
//!
//! Each caller runs one pipeline after another: a SENCO submits a referral
//! (idempotency key), the manager accepts it (a status change with the version
//! read), allocates it (idempotency key) and the EP records a visit on the case
//! (no key). A call that fails (a 5xx or no answer) is retried until it is
//! acknowledged: a keyed call with the same key and body; the status change
//! after reading the referral (its version makes a second change impossible);
//! the visit only after listing the case's activity shows it missing, because a
//! second send would store it twice. A failed call that turns out to have been
//! stored is counted, so the figures show how often a caller could not know.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Where the load is sent: the gateway's front port, with a client that trusts it.
#[derive(Clone, Debug)]
pub struct Front {
    pub base: String,
    pub http: reqwest::Client,
}

impl Front {
    /// POSTs JSON; the status and the body (Null when not JSON); a transport failure is an error.
    pub async fn try_post(&self, token: &str, route: &str, body: Value) -> Result<(u16, Value), reqwest::Error> {
        let response = self.http.post(format!("{}{route}", self.base)).bearer_auth(token).json(&body).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// GETs a route; as [`Self::try_post`].
    pub async fn try_get(&self, token: &str, route: &str) -> Result<(u16, Value), reqwest::Error> {
        let response = self.http.get(format!("{}{route}", self.base)).bearer_auth(token).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// POSTs JSON; a transport failure fails the test.
    pub async fn post(&self, token: &str, route: &str, body: Value) -> (u16, Value) {
        self.try_post(token, route, body).await.unwrap_or_else(|e| panic!("POST {route}: {e}"))
    }
}

/// Mints a token for (person, role, tenant, school).
pub type Mint<'a> = &'a (dyn Fn(&str, &str, Option<&str>, Option<&str>) -> String + Sync);

/// The authority and school every pipeline works in.
pub const TENANT: &str = "990";
pub const SCHOOL: &str = "100001";

/// The people and records the load works with.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub manager: String,
    pub senco: String,
    /// Each EP: professional id, person, token.
    pub eps: Vec<(i64, String, String)>,
    pub pupils: Vec<i64>,
}

/// Makes the authority, a school, `pupils` pupils on SEN support and four EPs.
pub async fn setup(cluster: &Front, token: Mint<'_>, pupils: usize) -> Fixture {
    // Each token once its person's authority (and a SENCO's school) exists:
    // `sen token` refuses people the platform has no record of.
    let operator = token("op-1", "platform_operator", None, None);
    let (status, body) =
        cluster.post(&operator, "/api/v1/authorities", json!({"la_code": TENANT, "name": "Northmoor"})).await;
    assert_eq!(status, 200, "{body}");
    let manager = token("mgr-1", "la_manager", Some(TENANT), None);
    let school = json!({
        "urn": SCHOOL,
        "school": {
            "laestab": "9902001", "name": "Moorside Primary", "establishment_type_code": 1,
            "phase": "PHASE_PRIMARY", "statutory_low_age": 4, "statutory_high_age": 11,
            "number_on_roll": 420, "postcode": "NM1 1AA", "status": "ESTABLISHMENT_STATUS_OPEN"
        }
    });
    let (status, body) = cluster.post(&manager, "/api/v1/schools", school).await;
    assert_eq!(status, 200, "{body}");
    let senco = token("senco-1", "senco", Some(TENANT), Some(SCHOOL));
    let mut ids = Vec::new();
    for n in 0..pupils {
        let upn = sen_pupils::domain::Upn::from_body(&format!("990200125{n:03}")).expect("upn");
        let pupil = json!({
            "pupil": {"upn": upn.as_str(), "legal_forename": "Pupil", "legal_surname": format!("Number {n}"),
                      "date_of_birth": "2017-02-02", "school_urn": SCHOOL},
            "sen_status": "SEN_PROVISION_SEN_SUPPORT", "primary_need_code": "SLCN"
        });
        let (status, body) = cluster.post(&senco, "/api/v1/pupils", pupil).await;
        assert_eq!(status, 200, "{body}");
        ids.push(body["id"].as_i64().expect("pupil id"));
    }
    let mut eps = Vec::new();
    for person in ["ep-ada", "ep-bo", "ep-cy", "ep-di"] {
        let professional = json!({"professional": {"person": person, "name": format!("Dr {person}"),
            "role": "educational_psychologist:senior", "fte": 1.0,
            "capacity_kind": "open_cases", "capacity": 200, "active": true}});
        let (status, body) = cluster.post(&manager, "/api/v1/professionals", professional).await;
        assert_eq!(status, 200, "{body}");
        let ep = token(person, "educational_psychologist", Some(TENANT), None);
        eps.push((body["id"].as_i64().expect("professional id"), person.to_owned(), ep));
    }
    Fixture { manager, senco, eps, pupils: ids }
}

impl Fixture {
    /// The same people and records, with tokens from `token` (another provider's).
    pub fn signed_by(&self, token: Mint<'_>) -> Self {
        let eps = self
            .eps
            .iter()
            .map(|(id, person, _)| (*id, person.clone(), token(person, "educational_psychologist", Some(TENANT), None)))
            .collect();
        Self {
            manager: token("mgr-1", "la_manager", Some(TENANT), None),
            senco: token("senco-1", "senco", Some(TENANT), Some(SCHOOL)),
            eps,
            pupils: self.pupils.clone(),
        }
    }
}

/// One call as the caller saw it.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// Which caller made it.
    pub worker: usize,
    pub what: &'static str,
    pub started: Instant,
    pub ended: Instant,
    pub acknowledged: bool,
    /// The HTTP status answered; 0 when no answer came.
    pub status: u16,
}

/// One finished pipeline: what the client was told was stored.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub key: String,
    pub pupil: i64,
    pub referral: i64,
    pub case: i64,
    pub person: String,
    pub professional: i64,
    pub note: String,
    /// When its last call was acknowledged.
    pub finished: Instant,
}

/// Everything the callers did.
#[derive(Default)]
pub struct Ledger {
    pub calls: Mutex<Vec<Call>>,
    pub pipelines: Mutex<Vec<Pipeline>>,
    /// Visits whose call failed although they were stored (found by listing).
    pub failed_but_stored: Mutex<u32>,
    /// Status changes whose call failed although they were made (found by reading).
    pub failed_but_applied: Mutex<u32>,
    /// Calls answered with a refusal the client did not expect (status, body).
    pub refusals: Mutex<Vec<String>>,
    /// Referrals (by key) and visits (by note) acknowledged outside the pipelines.
    pub single_writes: Mutex<Vec<String>>,
    /// What failed calls were told (status, body), each answer once.
    pub failed_answers: Mutex<std::collections::BTreeSet<String>>,
}

/// The load: start it, inject faults, then [`Load::finish`].
pub struct Load {
    pub ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
    /// Pipelines each caller has finished.
    finished: Arc<Vec<AtomicUsize>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// How long one operation is retried before the load gives up on it.
const GIVE_UP_AFTER: Duration = Duration::from_secs(90);

impl Load {
    /// Starts `callers` pipelines running until [`Load::finish`]; keys start with `run`.
    pub fn start(front: &Front, fixture: &Fixture, callers: usize, run: &str) -> Self {
        let ledger = Arc::new(Ledger::default());
        let stop = Arc::new(AtomicBool::new(false));
        let finished: Arc<Vec<AtomicUsize>> = Arc::new((0..callers).map(|_| AtomicUsize::new(0)).collect());
        let workers = (0..callers)
            .map(|w| {
                let worker = Worker {
                    front: front.clone(),
                    fixture: fixture.clone(),
                    ledger: ledger.clone(),
                    id: format!("{run}-w{w}"),
                    offset: w,
                };
                let (stop, finished) = (stop.clone(), finished.clone());
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        worker.pipeline(n).await;
                        finished[w].fetch_add(1, Ordering::SeqCst);
                        n += 1;
                    }
                })
            })
            .collect();
        Self { ledger, stop, finished, workers }
    }

    /// Waits until every caller has finished a pipeline it began after now:
    /// whatever a fault did to the calls in flight, each caller got through again.
    pub async fn wait_for_every_caller(&self, within: Duration) {
        let before: Vec<usize> = self.finished.iter().map(|n| n.load(Ordering::SeqCst)).collect();
        let deadline = Instant::now() + within;
        while self.finished.iter().zip(&before).any(|(now, before)| now.load(Ordering::SeqCst) < before + 2) {
            assert!(Instant::now() < deadline, "not every caller got through within {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Lets every caller finish the pipeline it is in (retrying until acknowledged), then stops.
    pub async fn finish(self) -> Arc<Ledger> {
        self.stop.store(true, Ordering::SeqCst);
        for worker in self.workers {
            worker.await.expect("a caller panicked");
        }
        self.ledger
    }

    /// Waits until at least `n` more pipelines have finished than now.
    pub async fn wait_for_pipelines(&self, n: usize, within: Duration) {
        let target = self.ledger.pipelines.lock().expect("ledger").len() + n;
        let deadline = Instant::now() + within;
        while self.ledger.pipelines.lock().expect("ledger").len() < target {
            if Instant::now() > deadline {
                let refusals = self.ledger.refusals.lock().expect("ledger").clone();
                let failures = self.ledger.failed_answers.lock().expect("ledger").clone();
                panic!("the load made no progress for {within:?}; refused: {refusals:#?}; failed: {failures:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

struct Worker {
    front: Front,
    fixture: Fixture,
    ledger: Arc<Ledger>,
    id: String,
    offset: usize,
}

/// What one attempt got: `Ok` acknowledged, `Err(None)` failed (5xx, no answer),
/// `Err(Some(..))` refused (4xx).
type Attempt = Result<Value, Option<(u16, Value)>>;

impl Worker {
    async fn send(&self, what: &'static str, token: &str, route: &str, body: Option<&Value>) -> Attempt {
        let started = Instant::now();
        let answer = match body {
            Some(body) => self.front.try_post(token, route, body.clone()).await,
            None => self.front.try_get(token, route).await,
        };
        let status = answer.as_ref().map_or(0, |(status, _)| *status);
        match &answer {
            Ok((status, body)) if *status >= 500 => {
                self.ledger.failed_answers.lock().expect("ledger").insert(format!("{what}: {status} {body}"));
            }
            Err(e) => {
                self.ledger.failed_answers.lock().expect("ledger").insert(format!("{what}: no answer: {e}"));
            }
            _ => {}
        }
        let attempt = match answer {
            Ok((200, body)) => Ok(body),
            // Too many calls from this person: nothing was done; wait, then send it again.
            Ok((429, _)) => Err(None),
            Ok((status, body)) if status < 500 => Err(Some((status, body))),
            _ => Err(None),
        };
        let call =
            Call { worker: self.offset, what, started, ended: Instant::now(), acknowledged: attempt.is_ok(), status };
        self.ledger.calls.lock().expect("ledger").push(call);
        if status == 429 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        attempt
    }

    /// Retries `attempt` until it is acknowledged; an unexpected refusal is recorded and ends it.
    async fn until_acknowledged<F, Fut>(&self, what: &str, mut attempt: F) -> Option<Value>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Attempt>,
    {
        let deadline = Instant::now() + GIVE_UP_AFTER;
        loop {
            match attempt().await {
                Ok(body) => return Some(body),
                Err(Some((status, body))) => {
                    self.ledger.refusals.lock().expect("ledger").push(format!("{what}: {status} {body}"));
                    return None;
                }
                Err(None) => {
                    assert!(Instant::now() < deadline, "{what} was not acknowledged within {GIVE_UP_AFTER:?}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn pipeline(&self, n: usize) {
        let f = &self.fixture;
        let key = format!("{}-{n}", self.id);
        let pupil = f.pupils[(self.offset + n) % f.pupils.len()];
        let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
        let submit = json!({
            "referral": {
                "pupil_id": pupil, "school_urn": SCHOOL, "kind": "educational_psychology",
                "broad_areas": ["communication_and_interaction"], "concern": format!("Concern {key}"),
                "graduated_approach": {"summary": "Two cycles of small-group language work"},
                "consent": {"given_by": "Mother", "given_on": today, "method": "signed_form"},
                "priority": "routine"
            },
            "idempotency_key": key,
            // The load refers each pupil many times on purpose.
            "confirm_duplicate": true,
        });
        let what = format!("submit {key}");
        let Some(referral) =
            self.until_acknowledged(&what, || self.send("submit", &f.senco, "/api/v1/referrals", Some(&submit))).await
        else {
            return;
        };
        let id = referral["id"].as_i64().expect("referral id");
        if !self.accept(id, referral["version"].clone()).await {
            return;
        }
        let (professional, person, ep) = &f.eps[(self.offset + n) % f.eps.len()];
        let allocate =
            json!({"referral_id": id, "professional_id": professional, "idempotency_key": format!("alloc-{key}")});
        let what = format!("allocate {key}");
        let Some(case) = self
            .until_acknowledged(&what, || self.send("allocate", &f.manager, "/api/v1/cases", Some(&allocate)))
            .await
        else {
            return;
        };
        let case_id = case["id"].as_i64().expect("case id");
        let note = format!("Visit {key}");
        if !self.record_visit(ep, case_id, &note, &today).await {
            return;
        }
        let done = Pipeline {
            key,
            pupil,
            referral: id,
            case: case_id,
            person: person.clone(),
            professional: *professional,
            note,
            finished: Instant::now(),
        };
        self.ledger.pipelines.lock().expect("ledger").push(done);
    }

    /// Accepts the referral; after a failure, reads it: accepted means the change was made.
    async fn accept(&self, id: i64, mut version: Value) -> bool {
        let route = format!("/api/v1/referrals/{id}/status");
        let deadline = Instant::now() + GIVE_UP_AFTER;
        let mut failed = false;
        loop {
            let body = json!({"version": version, "event": "REFERRAL_EVENT_ACCEPT"});
            match self.send("accept", &self.fixture.manager, &route, Some(&body)).await {
                Ok(_) => return true,
                // A conflict follows only a failed attempt that was made after all.
                Err(Some((status, body))) if status != 409 => {
                    self.ledger.refusals.lock().expect("ledger").push(format!("accept {id}: {status} {body}"));
                    return false;
                }
                Err(Some(_)) => {}
                Err(None) => failed = true,
            }
            assert!(Instant::now() < deadline, "accepting referral {id} was not acknowledged");
            tokio::time::sleep(Duration::from_millis(100)).await;
            let read = format!("/api/v1/referrals/{id}");
            if let Ok(current) = self.send("read referral", &self.fixture.manager, &read, None).await {
                if current["status"] == "REFERRAL_STATUS_ACCEPTED" {
                    if failed {
                        *self.ledger.failed_but_applied.lock().expect("ledger") += 1;
                    }
                    return true;
                }
                version = current["version"].clone();
            }
        }
    }

    /// Records a visit; after a failure, lists the case's activity first, since a
    /// visit has no idempotency key and a second send would store it twice.
    async fn record_visit(&self, ep: &str, case: i64, note: &str, today: &str) -> bool {
        let route = format!("/api/v1/cases/{case}/activity");
        let body = json!({"on": today, "kind": "consultation", "sessions": 1, "note": note});
        let deadline = Instant::now() + GIVE_UP_AFTER;
        loop {
            match self.send("record visit", ep, &route, Some(&body)).await {
                Ok(_) => return true,
                Err(Some((status, body))) => {
                    self.ledger.refusals.lock().expect("ledger").push(format!("visit {case}: {status} {body}"));
                    return false;
                }
                Err(None) => {}
            }
            loop {
                assert!(Instant::now() < deadline, "the visit on case {case} was not acknowledged");
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Ok(listed) = self.send("list activity", ep, &route, None).await {
                    let stored = listed["activity"].as_array().is_some_and(|a| a.iter().any(|a| a["note"] == note));
                    if stored {
                        *self.ledger.failed_but_stored.lock().expect("ledger") += 1;
                        return true;
                    }
                    break;
                }
            }
        }
    }
}
