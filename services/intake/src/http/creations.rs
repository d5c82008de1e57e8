//! Group commit of new applications: `POST /applications`, the register's busiest write, in
//! batches.
//!
//! A creation alone was a transaction of five round trips (begin, the round's facts, the
//! application with its competences and history, its event into the outbox, commit) and a WAL
//! flush; under load those, not the rows, were what intake spent its time on (issue 16's P1).
//! So the handler hands its request to one of a few workers ([`WORKERS`]). A worker takes every
//! request waiting, up to [`MAX_BATCH`], and creates them all in one round trip once its rounds
//! are known (one more for a round not seen before, and one when some carry an
//! `Idempotency-Key`; a partner's request, or one naming a certificate, adds its own reads to the
//! checks):
//!
//! 1. the saved answers of the requests' `Idempotency-Key`s; a retry is answered with its own;
//! 2. the facts of every round named: kept in memory once read ([`KnownRounds`]), so read only
//!    for a round not seen before;
//! 3. each request checked ([`super::applications::draft`]) — one that fails is answered with its
//!    422 (or 403) and left out;
//! 4. one statement, committed on its own, writes them all: the applications (created at the
//!    moment the batch was checked, with their competences), their events into the outbox, and
//!    the answers of those with a key. It writes an application only while its round is open,
//!    holding the round until it commits (`db::applications::create_all`), so that a round
//!    closed since its facts were read gets no application: its request is answered 422
//!    instead, and the round is known as closed from then on;
//! 5. every request answered.
//!
//! Nothing waits for a batch to fill: a worker that finds one request waiting makes a batch of
//! one, so an idle intake answers as fast as before. Batches grow only while earlier ones are
//! being written. A worker keeps the queue to itself from taking its batch until only the write
//! is left; then the other worker takes what gathered meanwhile and checks it while the first
//! one's statement runs and its commit is flushed. (Measured with `make bench`: two workers
//! holding the queue so beat one worker, and beat two or three taking turns freely, whose batches
//! were smaller.)
//!
//! If the database refuses the statement (a row one request set off, or an `Idempotency-Key`
//! another replica saved meanwhile), nothing was written, and each request of the batch is tried
//! again alone, so that one request's trouble never becomes another's answer. If the database is
//! unreachable or in trouble (a shutdown, out of resources), or the connection is lost during
//! the write (its outcome unknown), every request of the batch gets the error, as a lone request
//! would; so do the rest of a batch being tried one by one, once one of them meets an outage. A request whose handler is gone (the
//! client left, or the HTTP timeout answered it) is not created.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock};

use axum::http::StatusCode;
use kutse_http::ApiError;
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::Instrument;
use uuid::Uuid;

use super::applications::{self, Creation};
use crate::db::applications::RoundFacts;
use crate::{db, idempotency};

/// Workers writing batches, each on a connection of its own: one writes while the other's
/// commit is flushed.
pub const WORKERS: usize = 2;
/// The most requests one batch takes.
pub const MAX_BATCH: usize = 64;
/// The most rounds whose facts are kept; past it, all are forgotten and read again as needed (a
/// register has a few hundred rounds a year).
const KNOWN_ROUNDS: usize = 10_000;

/// A request's answer: the status and body of a 201 (or of a replayed answer), or a refusal.
type Answer = Result<(StatusCode, serde_json::Value), ApiError>;

struct Waiting {
    creation: Creation,
    answer: oneshot::Sender<Answer>,
}

/// Where handlers hand their creations; cheap to clone. The workers stop when the last handle
/// is dropped.
#[derive(Debug, Clone)]
pub struct Creations {
    queue: mpsc::Sender<Waiting>,
}

impl Creations {
    /// Starts [`WORKERS`] workers on `pool`.
    pub fn start(pool: &PgPool) -> Self {
        let (queue, waiting) = mpsc::channel(1024);
        let waiting = Arc::new(Mutex::new(waiting));
        let known = Arc::new(KnownRounds::default());
        for _ in 0..WORKERS {
            let (pool, waiting, known) = (pool.clone(), waiting.clone(), known.clone());
            tokio::spawn(supervised(move || {
                work(pool.clone(), waiting.clone(), known.clone())
            }));
        }
        Self { queue }
    }

    /// Creates the application, with whatever others are waiting; answers when it is committed
    /// (or refused).
    pub(super) async fn create(&self, creation: Creation) -> Answer {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Waiting { creation, answer })
            .await
            .map_err(|_| ApiError::Unavailable(anyhow::anyhow!("intake is shutting down")))?;
        answered.await.map_err(|_| {
            ApiError::Internal(anyhow::anyhow!(
                "the creation was dropped without an answer"
            ))
        })?
    }
}

/// Runs `worker` again whenever it panics, until it returns. A panic is a bug; the requests of
/// the batch it was writing are answered 500 by their handlers, and the queue is let go.
async fn supervised<F, W>(worker: F)
where
    F: Fn() -> W,
    W: Future<Output = ()> + Send + 'static,
{
    loop {
        match tokio::spawn(worker()).await {
            Ok(()) => return,
            Err(e) if e.is_panic() => {
                tracing::error!(error = %e, "a worker creating applications panicked; started again");
            }
            // Cancelled: the runtime is shutting down.
            Err(_) => return,
        }
    }
}

async fn work(pool: PgPool, waiting: Arc<Mutex<mpsc::Receiver<Waiting>>>, known: Arc<KnownRounds>) {
    loop {
        // The queue stays this worker's until its batch is checked and only the write is left:
        // the next batch gathers meanwhile, and is checked while this one's statement runs and
        // its WAL is flushed.
        let mut queue = waiting.clone().lock_owned().await;
        let Some(first) = queue.recv().await else {
            return;
        };
        // A request whose handler is gone (its client went away, or the HTTP timeout answered
        // it) is not created: nobody would learn that it was, and a retry without a key would
        // create it twice.
        let mut batch: Vec<Waiting> = Some(first)
            .into_iter()
            .filter(|w| !w.answer.is_closed())
            .collect();
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) if next.answer.is_closed() => {}
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        settle(&pool, &known, batch, queue).await;
    }
}

/// The queue, held by the worker writing a batch.
type Queue = tokio::sync::OwnedMutexGuard<mpsc::Receiver<Waiting>>;

/// Writes a batch and answers its requests; if the batch fails as a whole, each alone.
async fn settle(pool: &PgPool, known: &KnownRounds, batch: Vec<Waiting>, queue: Queue) {
    let (creations, answers): (Vec<Creation>, Vec<oneshot::Sender<Answer>>) =
        batch.into_iter().map(|w| (w.creation, w.answer)).unzip();
    let size = creations.len();
    match commit(pool, known, &creations, Some(queue)).await {
        Ok(answered) => {
            for (answer, result) in answers.into_iter().zip(answered) {
                // A request whose client went away is created all the same: a retry with its
                // key replays the answer.
                let _ = answer.send(result);
            }
        }
        Err(Failed { error, .. }) if size == 1 => {
            if let Some(answer) = answers.into_iter().next() {
                let _ = answer.send(Err(error));
            }
        }
        // The database is unreachable, or the write's outcome is unknown (the rows may be
        // written): trying each again would wait out the outage once per request, or write
        // them twice. Everyone gets the error, as a lone request did.
        Err(Failed {
            error,
            alone: false,
        }) => {
            tracing::warn!(error = %error, size, "a batch of new applications failed");
            for answer in answers {
                let _ = answer.send(Err(like(&error)));
            }
        }
        Err(Failed { error, alone: true }) => {
            tracing::warn!(error = %error, size, "a batch of new applications failed as a whole; each is tried again alone");
            let mut outage: Option<ApiError> = None;
            for (creation, answer) in creations.iter().zip(answers) {
                if answer.is_closed() {
                    continue;
                }
                let result = match &outage {
                    // The database went away meanwhile: the rest are not waited out one by one.
                    Some(error) => Err(like(error)),
                    None => match commit(pool, known, std::slice::from_ref(creation), None).await {
                        Ok(mut answered) => answered.pop().unwrap_or_else(|| Err(unanswered())),
                        Err(failed) => Err(failed.error),
                    },
                };
                if let Err(error @ ApiError::Unavailable(_)) = &result {
                    outage.get_or_insert_with(|| like(error));
                }
                let _ = answer.send(result);
            }
        }
    }
}

/// Why a batch failed, and whether its requests may be tried again one by one: only when the
/// fault may be one request's (a statement refused), not the database's.
struct Failed {
    error: ApiError,
    alone: bool,
}

impl From<ApiError> for Failed {
    /// A fault while the batch was read and checked (nothing written yet): one request's,
    /// unless the database is unreachable.
    fn from(error: ApiError) -> Self {
        let alone = !matches!(error, ApiError::Unavailable(_));
        Self { error, alone }
    }
}

impl From<sqlx::Error> for Failed {
    fn from(error: sqlx::Error) -> Self {
        if is_outage(&error) {
            return whole(error);
        }
        ApiError::from(error).into()
    }
}

/// A failure that is no single request's, never retried alone.
fn whole(error: sqlx::Error) -> Failed {
    let error = if is_outage(&error) {
        ApiError::Unavailable(error.into())
    } else {
        error.into()
    };
    Failed {
        error,
        alone: false,
    }
}

/// An error the database sends when it, not the statement, is in trouble: the connection
/// (SQLSTATE class 08), resources (53), a shutdown or restart (57P01–57P03), the system (58).
/// Retried one request at a time, a batch would wait it out once per request.
fn is_outage(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    let code = db.code().unwrap_or_default();
    ["08", "53", "58"]
        .iter()
        .any(|class| code.starts_with(class))
        || ["57P01", "57P02", "57P03"].contains(&code.as_ref())
}

/// The same failure for another request of the batch (a 503 stays a 503).
fn like(error: &ApiError) -> ApiError {
    let cause = anyhow::anyhow!("{error:#}");
    match error {
        ApiError::Unavailable(_) => ApiError::Unavailable(cause),
        _ => ApiError::Internal(cause),
    }
}

fn unanswered() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("a creation was left without an answer"))
}

/// The facts of the rounds applied to, kept once read. They never change once written (the
/// database refuses it: migration `round_facts_fixed`), except a round's closing, which the
/// statement writing a batch checks itself while holding the round; a round found closed there
/// is known as closed from then on. Read for every batch, they were a round trip while the
/// queue was held, and a fifth of intake's time on the database (issue 16's P1).
#[derive(Debug, Default)]
struct KnownRounds(RwLock<HashMap<Uuid, Arc<RoundFacts>>>);

impl KnownRounds {
    /// The facts of `rounds`, reading those not known yet in one statement. A round that does
    /// not exist is missing from the answer (and is not remembered).
    async fn facts(
        &self,
        conn: &mut sqlx::PgConnection,
        rounds: &[Uuid],
    ) -> sqlx::Result<HashMap<Uuid, Arc<RoundFacts>>> {
        let mut found = HashMap::with_capacity(rounds.len());
        let mut missing = Vec::new();
        {
            let known = self.0.read().unwrap_or_else(PoisonError::into_inner);
            for round in rounds {
                match known.get(round) {
                    Some(facts) => {
                        found.insert(*round, facts.clone());
                    }
                    None => missing.push(*round),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let read = db::applications::round_facts(conn, &missing).await?;
        let mut known = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if known.len() + read.len() > KNOWN_ROUNDS {
            known.clear();
        }
        // What another worker put there meanwhile stays: its read, or a round it found closed.
        for (round, facts) in read {
            let facts = known.entry(round).or_insert_with(|| Arc::new(facts));
            found.insert(round, facts.clone());
        }
        Ok(found)
    }

    /// `round` was found closed: applications to it are refused without a write from now on.
    fn closed(&self, round: Uuid) {
        let mut known = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(facts) = known.get_mut(&round) {
            Arc::make_mut(facts).open = false;
        }
    }
}

/// Creates `creations` in one statement: an answer per creation, in order, if it ran; the
/// error that ended it if not. `queue`, if given, is let go once only the write is left.
async fn commit(
    pool: &PgPool,
    known: &KnownRounds,
    creations: &[Creation],
    queue: Option<Queue>,
) -> Result<Vec<Answer>, Failed> {
    let mut conn = pool.acquire().await.map_err(whole)?;
    let scopes: Vec<_> = creations.iter().map(|c| c.scope.as_ref()).collect();
    let mut answers = idempotency::replay_all(&mut conn, &scopes).await?;

    let rounds: Vec<Uuid> = creations
        .iter()
        .zip(&answers)
        .filter(|(_, replayed)| replayed.is_none())
        .map(|(creation, _)| creation.round_id())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let facts = if rounds.is_empty() {
        Default::default()
    } else {
        known.facts(&mut conn, &rounds).await?
    };

    let mut drafts = Vec::new();
    for (i, creation) in creations.iter().enumerate() {
        if answers.get(i).is_some_and(Option::is_some) {
            continue;
        }
        let round = facts.get(&creation.round_id()).map(Arc::as_ref);
        let checked = applications::draft(&mut conn, creation, round)
            .instrument(creation.span.clone())
            .await;
        match checked {
            Ok(draft) => drafts.push((i, draft)),
            // Nothing is written yet: the batch is tried again one by one, and the request that
            // met the error meets it again alone.
            Err(e) if e.status().is_server_error() => return Err(e.into()),
            Err(refused) => {
                if let Some(slot) = answers.get_mut(i) {
                    *slot = Some(Err(refused));
                }
            }
        }
    }
    // With no draft there is nothing to write.
    if drafts.is_empty() {
        drop(queue);
        return Ok(finished(answers));
    }
    // The batch's applications are created at the moment they were checked, by intake's clock,
    // to the database's precision (microseconds), so that the answer shows what is stored.
    let at = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);

    let mut bodies = Vec::with_capacity(drafts.len());
    for (i, draft) in &drafts {
        bodies.push((
            *i,
            draft.row.id,
            applications::created_view(&draft.row, at)?,
        ));
    }
    let keyed: Vec<_> = bodies
        .iter()
        .filter_map(|(i, id, body)| {
            let scope = creations.get(*i)?.scope.as_ref()?;
            Some((*id, scope, StatusCode::CREATED, body))
        })
        .collect();
    let keyed = idempotency::rows(&keyed);
    let rows: Vec<_> = drafts.iter().map(|(_, d)| &d.row).collect();
    let envelopes: Vec<_> = drafts.iter().map(|(_, d)| d.envelope.clone()).collect();
    let events = kutse_messaging::Outbox::columns(&envelopes);
    let event_of: Vec<Uuid> = drafts.iter().map(|(_, d)| d.row.id).collect();
    drop(queue);
    let written: HashSet<Uuid> =
        db::applications::create_all(&mut conn, at, &rows, &events, &event_of, &keyed)
            .await
            .map_err(unwritten)?
            .into_iter()
            .collect();
    for (i, id, body) in bodies {
        let (Some(slot), Some(creation)) = (answers.get_mut(i), creations.get(i)) else {
            continue;
        };
        *slot = Some(if written.contains(&id) {
            creation
                .span
                .in_scope(|| tracing::info!(application = %id, "application created"));
            Ok((StatusCode::CREATED, body))
        } else {
            known.closed(creation.round_id());
            Err(ApiError::invalid("round_id", "the round is closed"))
        });
    }
    Ok(finished(answers))
}

/// Why the statement writing a batch failed. The database refused it (a row one request set
/// off, a key another replica saved meanwhile): nothing was written, and each request may be
/// tried alone. The database in trouble ([`is_outage`]), or the connection lost (whether it was
/// written is unknown): everyone gets the error.
fn unwritten(error: sqlx::Error) -> Failed {
    match error {
        sqlx::Error::Database(_) if !is_outage(&error) => Failed {
            error: idempotency::saving_error(error),
            alone: true,
        },
        other => whole(other),
    }
}

/// The answers, each request having one.
fn finished(answers: Vec<Option<Answer>>) -> Vec<Answer> {
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(unanswered())))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_worker_that_panics_is_started_again_until_it_returns() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        super::supervised(move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                assert!(run >= 2, "run {run} panics");
            }
        })
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }
}
