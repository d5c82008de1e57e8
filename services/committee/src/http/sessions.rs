//! The committee's API.
//!
//! | route | who |
//! |---|---|
//! | `POST /sessions` | staff of the body: opens a session for a round (`held_on`, default today; `place`; `quorum`, default more than half the committee); its agenda is the round's decided applications |
//! | `GET /sessions/{id}` | staff and committee members of the body |
//! | `PUT /sessions/{id}/presence` | staff: `{member, present}` — who of the committee (in the register's roster that day) is present |
//! | `POST /sessions/{id}/recusals` | a committee member, for themselves: `{application_id}`; their vote on it is withdrawn |
//! | `POST /sessions/{id}/votes` | committee members present and not recused, never on their own application: a vote per application |
//! | `POST /sessions/{id}/protocol` | staff: closes voting and freezes the protocol document the chair signs |
//! | `POST /sessions/{id}/signature` | the chair (the body's chair in the register, still today): the compact JWS of that document; publishes `protocol.signed` |
//!
//! An application is awarded only if the panel accepted every competence and the vote carried
//! (more in favour than against: `kutse_protocol::awarded`, the rule the register checks too).
//! Votes count only with a quorum: no vote is taken, and the protocol is not frozen, unless at
//! least the quorum of the committee is present; the protocol lists the roster, those present,
//! the quorum and per application the recusals (`kutse_protocol::session_fault` is what the
//! register checks of them). The roster is the register's on the session's day (`held_on`).
//!
//! Nothing is locked that cannot be finished: the protocol is frozen only for a chair who can
//! sign it (a valid personal code with an active signer key of the body, as the register
//! announced it), and a signature is accepted only if it verifies under that key. A bad
//! signature is a 422 naming the reason, and the session stays signable. Once signed, the
//! register's answer (`protocol.accepted` / `protocol.rejected`) shows on the session.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use kutse_auth::{Authenticated, Principal, Role};
use kutse_domain::Isikukood;
use kutse_http::{ApiError, Json, PathId};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::ProtocolSigned;
use kutse_protocol::{Outcome, Protocol, ProtocolDecision};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::db;
use crate::domain::SessionStatus;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open))
        .routes(routes!(read))
        .routes(routes!(vote))
        .routes(routes!(presence))
        .routes(routes!(recuse))
        .routes(routes!(freeze))
        .routes(routes!(sign))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSession {
    round_id: Uuid,
    awarding_body_id: Uuid,
    /// The session's day (default: today in Tallinn).
    #[serde(default)]
    held_on: Option<chrono::NaiveDate>,
    #[serde(default)]
    place: Option<String>,
    /// Members present needed for votes to count (default: more than half the committee).
    #[serde(default)]
    quorum: Option<u32>,
}

/// A committee session: its agenda with the votes, the frozen protocol, the register's answer.
#[derive(Debug, Serialize, ToSchema)]
struct SessionView {
    id: Uuid,
    round_id: Uuid,
    status: String,
    held_on: Option<chrono::NaiveDate>,
    place: Option<String>,
    quorum: Option<i32>,
    /// Members present (personal codes).
    present: Vec<String>,
    agenda: Vec<AgendaView>,
    /// The frozen protocol document, once frozen (see `docs/protocol.schema.json`).
    #[schema(value_type = Option<Object>)]
    protocol: Option<serde_json::Value>,
    /// The register's answer to the signed protocol: `accepted` or `rejected`, when it came.
    register_outcome: Option<String>,
    /// Register numbers issued and applications refused, or the reason of a rejection.
    #[schema(value_type = Option<Object>)]
    register_detail: Option<serde_json::Value>,
}

/// One application on the agenda.
#[derive(Debug, Serialize, ToSchema)]
struct AgendaView {
    application_id: Uuid,
    all_accepted: bool,
    votes_for: u32,
    votes_against: u32,
    /// `award` or `refuse`, as the votes stand.
    #[schema(value_type = String)]
    outcome: Outcome,
    /// Members who recused themselves (personal codes).
    recused: Vec<String>,
}

/// The body's staff open a session of the qualification committee for a round.
#[utoipa::path(
    post,
    path = "/sessions",
    tag = "sessions",
    request_body = NewSession,
    responses(
        (status = 201, description = "Opened, voting.", body = SessionView),
    ),
)]
async fn open(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Json(input): Json<NewSession>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    if !principal.acts_for(Role::AwardingBodyStaff, input.awarding_body_id) {
        return Err(ApiError::Forbidden(
            "only the body's staff open sessions".to_owned(),
        ));
    }
    let place = input
        .place
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if input.quorum == Some(0) {
        return Err(ApiError::invalid("quorum", "at least 1"));
    }
    let quorum = input
        .quorum
        .map(|q| i32::try_from(q).map_err(|_| ApiError::invalid("quorum", "too large")))
        .transpose()?;
    let held_on = input.held_on.unwrap_or_else(kutse_domain::tallinn_today);
    let mut tx = state.pool.begin().await?;
    if let Some(q) = input.quorum {
        let members = db::roster::committee(&mut tx, input.awarding_body_id, held_on)
            .await?
            .len();
        if q as usize > members {
            return Err(ApiError::invalid(
                "quorum",
                format!("at most the committee's {members} members"),
            ));
        }
    }
    let id = Uuid::now_v7();
    let taken = db::sessions::open(
        &mut tx,
        id,
        input.awarding_body_id,
        input.round_id,
        &principal.subject,
        (held_on, place, quorum),
    )
    .await?;
    if taken == 0 {
        return Err(ApiError::invalid(
            "round_id",
            "no decided applications of this round are waiting for a session",
        ));
    }
    let view = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The session, locked, if the caller is staff or a committee member of its body (404
/// otherwise): its id, body, status and day.
async fn session_for(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<(Uuid, Uuid, SessionStatus, chrono::NaiveDate), ApiError> {
    let session = db::sessions::lock(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("session".to_owned()))?;
    let body = session.awarding_body_id;
    if principal.acts_for(Role::AwardingBodyStaff, body)
        || principal.acts_for(Role::CommitteeMember, body)
    {
        Ok((id, body, session.status, session.held_on))
    } else {
        Err(ApiError::NotFound("session".to_owned()))
    }
}

/// The session's quorum: as its staff set it, or more than half of a committee of `committee`.
async fn quorum_of(conn: &mut PgConnection, id: Uuid, committee: usize) -> Result<u32, ApiError> {
    let session = db::sessions::summary(conn, id).await?;
    Ok(session
        .quorum
        .and_then(|q| u32::try_from(q).ok())
        .unwrap_or_else(|| kutse_protocol::default_quorum(committee)))
}

fn no_quorum(present: usize, committee: usize, quorum: u32) -> ApiError {
    ApiError::Unprocessable {
        kind: "no-quorum",
        detail: format!(
            "no quorum: {present} of the committee's {committee} members present, {quorum} needed"
        ),
        errors: vec![],
    }
}

async fn view(conn: &mut PgConnection, id: Uuid) -> Result<SessionView, ApiError> {
    let session = db::sessions::summary(conn, id).await?;
    let recusals = db::sessions::recusals(conn, id).await?;
    let present = db::sessions::present(conn, id).await?;
    let agenda = db::sessions::agenda(conn, id)
        .await?
        .into_iter()
        .map(|item| {
            let count = |column: &str, n: i64| {
                u32::try_from(n).map_err(|e| {
                    ApiError::Internal(anyhow::anyhow!("{column} of session {id}: {e}"))
                })
            };
            let votes_for = count("votes_for", item.votes_for)?;
            let votes_against = count("votes_against", item.votes_against)?;
            let all_accepted = item.all_accepted;
            Ok(AgendaView {
                application_id: item.application_id,
                recused: recusals
                    .iter()
                    .filter(|(application, _)| *application == item.application_id)
                    .map(|(_, member)| member.clone())
                    .collect(),
                all_accepted,
                votes_for,
                votes_against,
                outcome: if kutse_protocol::awarded(all_accepted, votes_for, votes_against) {
                    Outcome::Award
                } else {
                    Outcome::Refuse
                },
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(SessionView {
        id,
        round_id: session.round_id,
        status: session.status,
        held_on: session.held_on,
        place: session.place,
        quorum: session.quorum,
        present,
        agenda,
        protocol: session.protocol,
        register_outcome: session.register_outcome,
        register_detail: session.register_detail,
    })
}

/// A session, for the body's staff and its committee.
#[utoipa::path(
    get,
    path = "/sessions/{id}",
    tag = "sessions",
    params(("id" = Uuid, Path, description = "The session.")),
    responses(
        (status = 200, description = "The session as it stands now.", body = SessionView),
    ),
)]
async fn read(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<SessionView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, _, _, _) = session_for(&mut tx, &principal, id).await?;
    let view = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Vote {
    application_id: Uuid,
    in_favour: bool,
}

/// A committee member votes on an application on the agenda.
#[utoipa::path(
    post,
    path = "/sessions/{id}/votes",
    tag = "sessions",
    params(("id" = Uuid, Path, description = "The session.")),
    request_body = Vote,
    responses(
        (status = 200, description = "The session as it stands now.", body = SessionView),
    ),
)]
async fn vote(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Vote>,
) -> Result<Json<SessionView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, body, status, held_on) = session_for(&mut tx, &principal, id).await?;
    if !principal.acts_for(Role::CommitteeMember, body) {
        return Err(ApiError::Forbidden(
            "only committee members vote".to_owned(),
        ));
    }
    if status != SessionStatus::Voting {
        return Err(ApiError::Conflict(
            "voting in this session has closed".to_owned(),
        ));
    }
    let member = principal.person()?.to_string();
    let committee = db::roster::committee(&mut tx, body, held_on).await?;
    if !committee.contains(&member) {
        return Err(ApiError::Forbidden(
            "only members of the committee (in the register's roster on the session's day) vote"
                .to_owned(),
        ));
    }
    let present = db::sessions::present(&mut tx, id).await?;
    if !present.contains(&member) {
        return Err(ApiError::Forbidden(
            "only members recorded present vote".to_owned(),
        ));
    }
    // Votes count only with a quorum: none is taken while too few are present.
    let quorum = quorum_of(&mut tx, id, committee.len()).await?;
    let counted = present.iter().filter(|p| committee.contains(p)).count();
    if u32::try_from(counted).unwrap_or(0) < quorum {
        return Err(no_quorum(counted, committee.len(), quorum));
    }
    match db::sessions::applicant(&mut tx, input.application_id).await? {
        Some(applicant) if applicant == member => {
            return Err(ApiError::Forbidden(
                "nobody votes on their own application".to_owned(),
            ));
        }
        Some(_) => {}
        None => {
            return Err(ApiError::Conflict(
                "whose application this is has not reached the committee yet; vote once it has"
                    .to_owned(),
            ));
        }
    }
    if db::sessions::recusals(&mut tx, id)
        .await?
        .iter()
        .any(|(application, who)| *application == input.application_id && *who == member)
    {
        return Err(ApiError::Forbidden(
            "you recused yourself from this application".to_owned(),
        ));
    }
    let on_agenda = db::sessions::vote(
        &mut tx,
        id,
        input.application_id,
        &principal.subject,
        input.in_favour,
    )
    .await?;
    if !on_agenda {
        return Err(ApiError::invalid(
            "application_id",
            "not on this session's agenda",
        ));
    }
    let view = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Freeze {
    /// The chair who will sign (`EE…`).
    chair: String,
}

/// Closes voting and freezes the protocol document; returns it for the chair to sign.
#[utoipa::path(
    post,
    path = "/sessions/{id}/protocol",
    tag = "sessions",
    params(("id" = Uuid, Path, description = "The session.")),
    request_body = Freeze,
    responses(
        (status = 200, description = "The frozen protocol document, for the chair to sign (see docs/protocol.schema.json).", body = kutse_http::openapi::AnyJson),
    ),
)]
async fn freeze(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Freeze>,
) -> Result<Json<Protocol>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, body, status, held_on) = session_for(&mut tx, &principal, id).await?;
    if !principal.acts_for(Role::AwardingBodyStaff, body) {
        return Err(ApiError::Forbidden(
            "only the body's staff close voting".to_owned(),
        ));
    }
    if !status.may_become(SessionStatus::Closed) {
        return Err(ApiError::Conflict(format!(
            "the session is already {}",
            status.as_str()
        )));
    }
    let chair = Isikukood::from_subject(input.chair.trim()).map_err(|e| {
        ApiError::invalid(
            "chair",
            format!("must be the chair's personal code (EE…): {e}"),
        )
    })?;
    let today = kutse_domain::tallinn_date(Utc::now());
    let chairs = db::roster::holding(&mut tx, body, "committee_chair", today).await?;
    if !chairs.contains(&chair.to_string()) {
        return Err(ApiError::invalid(
            "chair",
            "is not the chair of this body's committee in the register (appointed by the body's administrator)",
        ));
    }
    let can_sign = db::signer_keys::owner_can_sign(&mut tx, body, &chair.to_string()).await?;
    if !can_sign {
        return Err(ApiError::invalid(
            "chair",
            "has no active signer key of this awarding body: register one with the register (and have its owner confirm it) first",
        ));
    }
    let committee = db::roster::committee(&mut tx, body, held_on).await?;
    // Someone no longer on the committee is no longer present, and their votes no longer count.
    for member in db::sessions::present(&mut tx, id).await? {
        if !committee.contains(&member) {
            db::sessions::mark_presence(&mut tx, id, &member, false, &principal.subject).await?;
        }
    }
    let session = view(&mut tx, id).await?;
    let quorum = session
        .quorum
        .and_then(|q| u32::try_from(q).ok())
        .unwrap_or_else(|| kutse_protocol::default_quorum(committee.len()));
    let present: Vec<String> = session
        .present
        .iter()
        .filter(|p| committee.contains(p))
        .cloned()
        .collect();
    if u32::try_from(present.len()).unwrap_or(0) < quorum {
        return Err(no_quorum(present.len(), committee.len(), quorum));
    }
    let subject = |code: &String| format!("EE{code}");
    let protocol = Protocol {
        protocol_id: Uuid::now_v7(),
        awarding_body_id: body,
        session_id: id,
        round_id: session.round_id,
        chair: chair.to_subject(),
        signed_at: Utc::now(),
        decisions: session
            .agenda
            .iter()
            .map(|a| ProtocolDecision {
                application_id: a.application_id,
                outcome: a.outcome,
                votes_for: a.votes_for,
                votes_against: a.votes_against,
                reason: (a.outcome == Outcome::Refuse).then(|| {
                    if a.all_accepted {
                        "The committee's vote did not carry.".to_owned()
                    } else {
                        "The assessment panel did not accept every competence applied for."
                            .to_owned()
                    }
                }),
                recused: a
                    .recused
                    .iter()
                    .filter(|m| present.contains(m))
                    .map(subject)
                    .collect(),
            })
            .collect(),
        held_on: session.held_on,
        place: session.place.clone(),
        roster: committee.iter().map(subject).collect(),
        present: present.iter().map(subject).collect(),
        quorum: Some(quorum),
    };
    // What the register will check of the session, checked before anything is frozen.
    if let Some(fault) = kutse_protocol::session_fault(&protocol) {
        return Err(ApiError::Unprocessable {
            kind: "session-fault",
            detail: fault,
            errors: vec![],
        });
    }
    let document = serde_json::to_value(&protocol).map_err(|e| ApiError::Internal(e.into()))?;
    if !db::sessions::freeze(&mut tx, id, &document).await? {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "session {id} left voting while locked"
        )));
    }
    tx.commit().await?;
    Ok(Json(protocol))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Signature {
    jws: String,
}

/// Takes the chair's signature over the frozen protocol and publishes it. The signature itself is
/// verified by the register against the chair's registered key; here the signed document must be
/// exactly the frozen protocol.
#[utoipa::path(
    post,
    path = "/sessions/{id}/signature",
    tag = "sessions",
    params(("id" = Uuid, Path, description = "The session.")),
    request_body = Signature,
    responses(
        (status = 200, description = "The session as it stands now.", body = SessionView),
    ),
)]
async fn sign(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Signature>,
) -> Result<Json<SessionView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, body, status, _) = session_for(&mut tx, &principal, id).await?;
    if !principal.acts_for(Role::CommitteeChair, body) {
        return Err(ApiError::Forbidden(
            "only the committee's chair signs".to_owned(),
        ));
    }
    if !status.may_become(SessionStatus::Signed) {
        return Err(ApiError::Conflict(format!(
            "the session is {}; the protocol must be frozen and unsigned",
            status.as_str()
        )));
    }
    let frozen = db::sessions::frozen_protocol(&mut tx, id)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("closed session {id} has no protocol"))
        })?;
    let frozen: Protocol =
        serde_json::from_value(frozen).map_err(|e| ApiError::Internal(e.into()))?;
    if principal.subject != frozen.chair {
        return Err(ApiError::Forbidden(
            "only the chair named in the protocol signs it".to_owned(),
        ));
    }
    // Still the chair today (the appointment may have ended since the freeze).
    let today = kutse_domain::tallinn_date(Utc::now());
    let chairs = db::roster::holding(&mut tx, body, "committee_chair", today).await?;
    if !principal
        .isikukood
        .is_some_and(|code| chairs.contains(&code.to_string()))
    {
        return Err(ApiError::Forbidden(
            "the chair named in the protocol is no longer the committee's chair in the register"
                .to_owned(),
        ));
    }
    let payload = input
        .jws
        .split('.')
        .nth(1)
        .and_then(base64_url)
        .ok_or_else(|| ApiError::invalid("jws", "not a compact JWS"))?;
    let expected = kutse_protocol::canonical(&frozen)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    if payload != expected {
        return Err(ApiError::invalid(
            "jws",
            "does not sign this session's frozen protocol (RFC 8785 canonical JSON)",
        ));
    }
    check_signature(&mut tx, body, &frozen, &input.jws).await?;
    if !db::sessions::sign(&mut tx, id, &input.jws).await? {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "session {id} left closed while locked"
        )));
    }
    let envelope = Envelope::new(&ProtocolSigned { jws: input.jws }, Some(frozen.protocol_id))
        .map_err(|e| ApiError::Internal(e.into()))?;
    kutse_messaging::Outbox::enqueue(&mut tx, &envelope).await?;
    let view = view(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(session = %id, protocol = %frozen.protocol_id, "protocol signed and published");
    Ok(Json(view))
}

/// Verifies the chair's JWS under an active signer key of the body owned by the protocol's chair,
/// as the register will; a failure is a 422 naming the reason.
async fn check_signature(
    conn: &mut PgConnection,
    body: Uuid,
    frozen: &Protocol,
    jws: &str,
) -> Result<(), ApiError> {
    let kid = kutse_protocol::key_id(jws).map_err(|e| ApiError::invalid("jws", e.to_string()))?;
    let owner = Isikukood::from_subject(&frozen.chair)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("frozen chair: {e}")))?;
    let key = db::signer_keys::public_key(conn, &kid, body, &owner.to_string()).await?;
    let Some(key) = key.and_then(|k| kutse_protocol::verifying_key(&k).ok()) else {
        return Err(ApiError::invalid(
            "jws",
            format!("key {kid:?} is not an active signer key of the chair for this awarding body"),
        ));
    };
    kutse_protocol::verify::<Protocol>(jws, |_| Some(key))
        .map(|_| ())
        .map_err(|e| ApiError::invalid("jws", format!("{e}")))
}

fn base64_url(part: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Presence {
    /// The member's personal code (`EE` prefix optional).
    member: String,
    present: bool,
}

/// The body's staff record who of the committee is present.
#[utoipa::path(
    put,
    path = "/sessions/{id}/presence",
    tag = "sessions",
    params(("id" = Uuid, Path, description = "The session.")),
    request_body = Presence,
    responses(
        (status = 200, description = "The session as it stands now.", body = SessionView),
    ),
)]
async fn presence(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Presence>,
) -> Result<Json<SessionView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, body, status, held_on) = session_for(&mut tx, &principal, id).await?;
    if !principal.acts_for(Role::AwardingBodyStaff, body) {
        return Err(ApiError::Forbidden(
            "the body's staff record presence".to_owned(),
        ));
    }
    if status != SessionStatus::Voting {
        return Err(ApiError::Conflict("the session is closed".to_owned()));
    }
    let member = Isikukood::from_subject(input.member.trim())
        .or_else(|_| Isikukood::parse(input.member.trim()))
        .map_err(|e| ApiError::invalid("member", format!("not a personal code: {e}")))?
        .to_string();
    if input.present
        && !db::roster::committee(&mut tx, body, held_on)
            .await?
            .contains(&member)
    {
        return Err(ApiError::invalid(
            "member",
            "is not on the committee's roster in the register on the session's day",
        ));
    }
    db::sessions::mark_presence(&mut tx, id, &member, input.present, &principal.subject).await?;
    let view = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Recusal {
    application_id: Uuid,
}

/// A committee member recuses themselves from an application.
#[utoipa::path(
    post,
    path = "/sessions/{id}/recusals",
    tag = "sessions",
    params(("id" = Uuid, Path, description = "The session.")),
    request_body = Recusal,
    responses(
        (status = 200, description = "The session as it stands now.", body = SessionView),
    ),
)]
async fn recuse(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Recusal>,
) -> Result<Json<SessionView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, body, status, held_on) = session_for(&mut tx, &principal, id).await?;
    let member = principal.person()?.to_string();
    if !db::roster::committee(&mut tx, body, held_on)
        .await?
        .contains(&member)
    {
        return Err(ApiError::Forbidden(
            "only members of the committee recuse themselves".to_owned(),
        ));
    }
    if status != SessionStatus::Voting {
        return Err(ApiError::Conflict("the session is closed".to_owned()));
    }
    if !db::sessions::on_agenda(&mut tx, id, input.application_id).await? {
        return Err(ApiError::invalid(
            "application_id",
            "not on this session's agenda",
        ));
    }
    if !db::sessions::present(&mut tx, id).await?.contains(&member) {
        return Err(ApiError::Conflict(
            "only members recorded present recuse themselves (an absent member does not vote)"
                .to_owned(),
        ));
    }
    db::sessions::recuse(&mut tx, id, input.application_id, &member).await?;
    let view = view(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(session = %id, application = %input.application_id, "member recused");
    Ok(Json(view))
}
