//! `Idempotency-Key` for POSTs: a portal that retries a request (a timeout, a lost response) gets
//! the first response again instead of a second application.
//!
//! The saved response is written in the same transaction as the request's effects, so it exists
//! exactly when they do. The same key with a different body is refused (422); the same key while
//! the first request is still running loses the race on the primary key and gets 409.

use std::collections::{HashMap, HashSet};

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use kutse_http::ApiError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::db;

/// The request's `Idempotency-Key` header, if any.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let key = value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 255)
            .ok_or_else(|| {
                ApiError::invalid("Idempotency-Key", "must be 1-255 visible ASCII characters")
            })?;
        Ok(Self(Some(key.to_owned())))
    }
}

/// A request made with a key: who made it, the key, and a hash of what was asked.
#[derive(Debug, Clone)]
pub struct Scope {
    subject: String,
    key: String,
    hash: String,
}

impl IdempotencyKey {
    /// Binds the key to the caller and the request (`what` is the route, `input` its body).
    pub fn scope(&self, subject: &str, what: &str, input: &impl Serialize) -> Option<Scope> {
        let key = self.0.clone()?;
        let mut hasher = Sha256::new();
        hasher.update(what.as_bytes());
        hasher.update(serde_json::to_vec(input).unwrap_or_default());
        Some(Scope {
            subject: subject.to_owned(),
            key,
            hash: hex::encode(hasher.finalize()),
        })
    }
}

/// The saved response of an earlier request with this key, if any ([`replay_all`] for one).
pub async fn replay(
    conn: &mut PgConnection,
    scope: Option<&Scope>,
) -> Result<Option<(StatusCode, serde_json::Value)>, ApiError> {
    replay_all(conn, &[scope])
        .await?
        .pop()
        .flatten()
        .transpose()
}

/// What the earlier request answered, as the retry's answer.
type Replay = Result<(StatusCode, serde_json::Value), ApiError>;

/// [`replay`] for many requests in one statement: per request, its replayed answer, if it has
/// one. A key used twice among `scopes` (the same caller retrying before the first got an
/// answer) is answered 409 the second time, as a concurrent request on the key is.
pub async fn replay_all(
    conn: &mut PgConnection,
    scopes: &[Option<&Scope>],
) -> Result<Vec<Option<Replay>>, ApiError> {
    let pairs: Vec<(&str, &str)> = scopes
        .iter()
        .flatten()
        .map(|s| (s.subject.as_str(), s.key.as_str()))
        .collect();
    let saved: HashMap<(String, String), db::idempotency_keys::Saved> = if pairs.is_empty() {
        HashMap::new()
    } else {
        db::idempotency_keys::find_all(conn, &pairs)
            .await?
            .into_iter()
            .map(|k| ((k.subject, k.key), k.saved))
            .collect()
    };
    let mut seen = HashSet::new();
    Ok(scopes
        .iter()
        .map(|scope| {
            let scope = (*scope)?;
            let pair = (scope.subject.clone(), scope.key.clone());
            // Every retry of a saved request gets its answer; of two new requests on one key,
            // the second is told the first is still running.
            if let Some(saved) = saved.get(&pair) {
                return Some(answer(scope, saved.clone()));
            }
            (!seen.insert(pair)).then(|| Err(still_running()))
        })
        .collect())
}

/// The saved answer, if the request is the one it was saved for.
fn answer(scope: &Scope, saved: db::idempotency_keys::Saved) -> Replay {
    if saved.request_hash != scope.hash {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "was already used for a different request",
        ));
    }
    let status = StatusCode::from_u16(saved.status.cast_unsigned()).map_err(|_| {
        ApiError::Internal(anyhow::anyhow!(
            "saved response has status {}",
            saved.status
        ))
    })?;
    Ok((status, saved.body))
}

fn still_running() -> ApiError {
    ApiError::Conflict(
        "a request with this Idempotency-Key is still being processed; retry shortly".to_owned(),
    )
}

/// The error of a statement that saved answers: a key taken meanwhile is a request still
/// running (409).
pub fn saving_error(e: sqlx::Error) -> ApiError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => still_running(),
        other => other.into(),
    }
}

/// The rows saving these answers (`(scope, status, body)`), each with what `T` the caller ties
/// it to, sorted by key. Saved in this order, two replicas saving overlapping keys cannot
/// deadlock; where a statement's plan may save them in another order (the group commit's), a
/// deadlock is refused by the database and the batch tried again one request at a time.
pub fn rows<'a, T: Copy>(
    answers: &[(T, &'a Scope, StatusCode, &'a serde_json::Value)],
) -> Vec<(T, db::idempotency_keys::Row<'a>)> {
    let mut answers = answers.to_vec();
    answers.sort_by(|a, b| (&a.1.subject, &a.1.key).cmp(&(&b.1.subject, &b.1.key)));
    answers
        .iter()
        .map(|(tie, scope, status, body)| {
            (
                *tie,
                (
                    scope.subject.as_str(),
                    scope.key.as_str(),
                    scope.hash.as_str(),
                    status.as_u16().cast_signed(),
                    *body,
                ),
            )
        })
        .collect()
}

/// Saves the response, in the transaction of the request's effects.
pub async fn record(
    conn: &mut PgConnection,
    scope: Option<&Scope>,
    status: StatusCode,
    body: &serde_json::Value,
) -> Result<(), ApiError> {
    let Some(scope) = scope else { return Ok(()) };
    let rows: Vec<_> = rows(&[((), scope, status, body)])
        .into_iter()
        .map(|(_, row)| row)
        .collect();
    db::idempotency_keys::save_all(conn, &rows)
        .await
        .map_err(saving_error)
}
