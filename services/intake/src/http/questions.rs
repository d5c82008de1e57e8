//! Questions (küsimus-vastus): a holder asks the awarding body of their certificate, or the
//! authority, a question about it; the recipient answers it or passes it on to another body (or
//! the authority); the authority puts one question to many holders at once — by qualification, by
//! awarding body, or by a list of certificates — and each holder is e-mailed it, so those who
//! never log in are reached too. Unanswered questions wait on the recipient's front page.
//! Every question, forward and answer is an event (`question.*`) and an e-mail.
//!
//! | route | who |
//! |---|---|
//! | `POST /me/questions` `{certificate_number, to, text}` | a holder, about their own certificate; `to` is `awarding_body` or `authority` |
//! | `GET /me/questions[?unanswered=true]` | a holder: what they asked and what was put to them |
//! | `GET /questions?awarding_body_id=…[&unanswered=true]` | the body's staff and administrators: their body's |
//! | `GET /questions[?unanswered=true]` | the authority: those to it and those it put |
//! | `POST /questions/{id}/answer` `{answer}` | the question's recipient |
//! | `POST /questions/{id}/forward` `{to, awarding_body_id?, note?}` | the recipient of a holder's question |
//! | `POST /questions/broadcast` `{text, qualification_id?, awarding_body_id?, certificate_numbers?}` | the authority |
//!
//! A holder's question and a holder's answer reach the register through the portal's form:
//! DVVK 323, counted with the action. The e-mails count as e-mails (321) where they are sent.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use kutse_auth::{Authenticated, Principal, Role};
use kutse_domain::{Dvvk, Email, Language};
use kutse_http::{ApiError, FieldError, Json, PathId};
use kutse_messaging::catalogue::{
    QuestionAnswered, QuestionAsked, QuestionForwarded, QuestionParty,
};
use serde::Deserialize;
use sqlx::PgConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::db;
use crate::db::questions::{Listing, Party, Question, Target};
use crate::idempotency::{self, IdempotencyKey};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ask, mine))
        .routes(routes!(list))
        .routes(routes!(broadcast))
        .routes(routes!(answer))
        .routes(routes!(forward))
}

/// The longest question or answer taken.
const MAX_TEXT: usize = 4000;
/// The most certificates a question may name.
const MAX_CERTIFICATES: usize = 1000;
/// The authority's name on its questions and answers.
const AUTHORITY_NAME: &str = "Kutsekoda";

/// `text`, trimmed: not empty, not over [`MAX_TEXT`] characters.
fn text(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "required: the text"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            field,
            "no control characters (line breaks and tabs are fine)",
        ));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn invalid(kind: &'static str, detail: &str, errors: Vec<FieldError>) -> ApiError {
    ApiError::Unprocessable {
        kind,
        detail: detail.to_owned(),
        errors,
    }
}

fn authority(state: &AppState) -> Party {
    Party {
        kind: "authority",
        body: None,
        holder: None,
        name: AUTHORITY_NAME.to_owned(),
        email: Some(state.authority_email.as_str().to_owned()),
        language: Language::Et.as_str().to_owned(),
    }
}

/// The awarding body `id` as a party to a question, if there is one.
async fn body(conn: &mut PgConnection, id: Uuid) -> Result<Option<Party>, ApiError> {
    let Some((name, email)) = db::awarding_bodies::find(conn, id).await? else {
        return Ok(None);
    };
    Ok(Some(Party {
        kind: "awarding_body",
        body: Some(id),
        holder: None,
        name,
        email,
        language: Language::Et.as_str().to_owned(),
    }))
}

fn party(kind: &str, name: &str, email: Option<&str>, language: &str) -> QuestionParty {
    QuestionParty {
        kind: kind.to_owned(),
        name: name.to_owned(),
        email: email.and_then(|e| Email::parse(e).ok()),
        language: Language::parse(language).unwrap_or_default(),
    }
}

fn asker(q: &Question) -> QuestionParty {
    let kind = q.asked_by.as_str();
    party(
        kind,
        &q.asker_name,
        q.asker_email.as_deref(),
        &q.asker_language,
    )
}

fn recipient(q: &Question) -> QuestionParty {
    party(
        &q.recipient_kind,
        &q.recipient_name,
        q.recipient_email.as_deref(),
        &q.recipient_language,
    )
}

fn asked(q: &Question) -> QuestionAsked {
    QuestionAsked {
        question_id: q.id,
        campaign_id: q.campaign_id,
        register_number: q.register_number.clone(),
        from: asker(q),
        to: recipient(q),
        text: q.text.clone(),
        asked_at: q.asked_at,
        forwarded_by: None,
        note: None,
    }
}

async fn publish<M: kutse_messaging::Message + serde::Serialize>(
    conn: &mut PgConnection,
    event: &M,
) -> Result<(), ApiError> {
    let envelope =
        kutse_messaging::Envelope::new(event, None).map_err(|e| ApiError::Internal(e.into()))?;
    kutse_messaging::Outbox::enqueue(conn, &envelope)
        .await
        .map_err(ApiError::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Ask {
    certificate_number: String,
    /// `awarding_body` (the body that issued it) or `authority`.
    to: String,
    text: String,
}

/// A holder asks about their own certificate.
#[utoipa::path(
    post,
    path = "/me/questions",
    tag = "questions",
    request_body = Ask,
    responses(
        (status = 201, description = "Asked; the recipient\'s desk is e-mailed.", body = db::questions::Question),
    ),
)]
async fn ask(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Json(input): Json<Ask>,
) -> Result<(StatusCode, Json<Question>), ApiError> {
    let code = principal.person()?.to_string();
    let mut errors = Vec::new();
    let question = text("text", &input.text).map_err(|e| errors.push(e)).ok();
    if !matches!(input.to.as_str(), "awarding_body" | "authority") {
        errors.push(FieldError::new("to", "awarding_body or authority"));
    }
    let mut tx = state.pool.begin().await?;
    let held = db::certificates::find(&mut tx, input.certificate_number.trim()).await?;
    let held = match held {
        Some(held) if held.holder == code => Some(held),
        // Another's certificate is not there for this caller.
        _ => {
            errors.push(FieldError::new(
                "certificate_number",
                "not a certificate of yours",
            ));
            None
        }
    };
    let (Some(question), Some(held), true) = (question, held, errors.is_empty()) else {
        return Err(invalid(
            "invalid-question",
            "the question needs your certificate's number, a recipient and a text",
            errors,
        ));
    };
    let recipient = if input.to == "authority" {
        authority(&state)
    } else {
        body(&mut tx, held.awarding_body_id).await?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "certificate {} names awarding body {} intake does not know",
                held.register_number,
                held.awarding_body_id
            ))
        })?
    };
    let (email, language) = db::questions::holder_contact(&mut tx, &held.register_number)
        .await?
        .unwrap_or_default();
    let asker = Party {
        kind: "holder",
        body: None,
        holder: Some(code),
        name: principal.name(),
        email,
        language: if language.is_empty() {
            Language::Et.as_str().to_owned()
        } else {
            language
        },
    };
    let stored = db::questions::insert(
        &mut tx,
        &db::questions::NewQuestion {
            id: Uuid::now_v7(),
            campaign_id: None,
            register_number: Some(&held.register_number),
            asker: &asker,
            recipient: &recipient,
            text: &question,
        },
    )
    .await?;
    publish(&mut tx, &asked(&stored)).await?;
    db::dvvk_ledger::count(&mut tx, "question.asked", stored.id, Dvvk::WebForm).await?;
    tx.commit().await?;
    tracing::info!(question = %stored.id, to = input.to.as_str(), dvvk = 323, "question asked");
    Ok((StatusCode::CREATED, Json(stored)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    awarding_body_id: Option<Uuid>,
    #[serde(default)]
    unanswered: bool,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// `(limit, offset)` of the page asked for: 50 a page unless asked, at most 100.
fn paging(q: &ListQuery) -> Result<(u32, u32), ApiError> {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    let mut errors = Vec::new();
    if page == 0 {
        errors.push(FieldError::new("page", "from 1"));
    }
    if per_page == 0 || per_page > 100 {
        errors.push(FieldError::new("per_page", "1-100"));
    }
    if errors.is_empty() {
        Ok((page, per_page))
    } else {
        Err(invalid("invalid-page", "the page is out of range", errors))
    }
}

/// A page of `listing`'s questions; and the holders it shows (personal code, question id).
async fn page(
    conn: &mut PgConnection,
    listing: &Listing,
    q: &ListQuery,
) -> Result<(QuestionPage, Vec<(String, String)>), ApiError> {
    let (page, per_page) = paging(q)?;
    let (questions, total) = db::questions::list(
        conn,
        listing,
        q.unanswered,
        i64::from(per_page),
        i64::from(page - 1) * i64::from(per_page),
    )
    .await?;
    let holders = questions
        .iter()
        .flat_map(|q| {
            [q.asker.clone(), q.recipient_holder.clone()]
                .into_iter()
                .flatten()
                .map(|code| (code, q.id.to_string()))
        })
        .collect();
    let page = QuestionPage {
        questions,
        page,
        per_page,
        total,
    };
    Ok((page, holders))
}

/// A page of questions, newest first.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct QuestionPage {
    questions: Vec<db::questions::Question>,
    page: u32,
    per_page: u32,
    /// How many there are in all.
    total: i64,
}

/// A holder's questions: those they asked and those put to them.
#[utoipa::path(
    get,
    path = "/me/questions",
    tag = "questions",
    params(ListQuery),
    responses(
        (status = 200, description = "The holder\'s questions, and those put to them.", body = QuestionPage),
    ),
)]
async fn mine(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<ListQuery>,
) -> Result<Json<QuestionPage>, ApiError> {
    let code = principal.person()?.to_string();
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        page(&mut conn, &Listing::Holder(code), &query).await?.0,
    ))
}

/// A body's questions (its staff and administrators), or the authority's.
#[utoipa::path(
    get,
    path = "/questions",
    tag = "questions",
    params(ListQuery),
    responses(
        (status = 200, description = "A body\'s questions, or the authority\'s.", body = QuestionPage),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<ListQuery>,
) -> Result<Json<QuestionPage>, ApiError> {
    let listing = match query.awarding_body_id {
        Some(body) if may_act_for(&principal, body) => Listing::Body(body),
        None if principal.has_role(Role::Authority) => Listing::Authority,
        _ => {
            return Err(ApiError::Forbidden(
                "a body's questions are for its staff; without awarding_body_id, the authority's"
                    .to_owned(),
            ));
        }
    };
    let mut conn = state.pool.acquire().await?;
    let (answer, holders) = page(&mut conn, &listing, &query).await?;
    // The list shows holders' names and what they asked: each holder's data read is tracked.
    let reads: Vec<kutse_service::data_reads::Read> = holders
        .into_iter()
        .map(|(person, id)| kutse_service::data_reads::Read {
            person,
            what: "question",
            resource: id,
        })
        .collect();
    db::data_reads::track(&mut conn, &principal, &reads).await?;
    Ok(Json(answer))
}

/// Staff or an administrator of `body`.
fn may_act_for(principal: &Principal, body: Uuid) -> bool {
    principal.acts_for(Role::AwardingBodyStaff, body)
        || principal.acts_for(Role::BodyAdministrator, body)
}

/// Whether `principal` is the one `q` waits for.
fn is_recipient(principal: &Principal, q: &Question) -> bool {
    match q.recipient_kind.as_str() {
        "awarding_body" => q.recipient_body.is_some_and(|b| may_act_for(principal, b)),
        "authority" => principal.has_role(Role::Authority),
        _ => q
            .recipient_holder
            .as_deref()
            .is_some_and(|holder| principal.is_person(holder)),
    }
}

/// Whether `principal` may see `q` at all (else it is not found for them).
fn may_see(principal: &Principal, q: &Question) -> bool {
    is_recipient(principal, q)
        || q.asker
            .as_deref()
            .is_some_and(|asker| principal.is_person(asker))
        || (q.asked_by == "authority" && principal.has_role(Role::Authority))
}

async fn locked(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<Question, ApiError> {
    match db::questions::lock(conn, id).await? {
        Some(q) if may_see(principal, &q) => Ok(q),
        _ => Err(ApiError::NotFound("question".to_owned())),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Answer {
    answer: String,
}

/// The recipient answers; whoever asked is e-mailed the answer.
#[utoipa::path(
    post,
    path = "/questions/{id}/answer",
    tag = "questions",
    params(("id" = Uuid, Path, description = "The question.")),
    request_body = Answer,
    responses(
        (status = 200, description = "Answered; the asker is e-mailed.", body = db::questions::Question),
    ),
)]
async fn answer(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Answer>,
) -> Result<Json<Question>, ApiError> {
    let reply = text("answer", &input.answer)
        .map_err(|e| invalid("invalid-answer", "the answer needs a text", vec![e]))?;
    let mut tx = state.pool.begin().await?;
    let q = locked(&mut tx, &principal, id).await?;
    if !is_recipient(&principal, &q) {
        return Err(ApiError::Forbidden(format!(
            "the question waits for {}, not for you",
            q.recipient_name
        )));
    }
    if q.answered_at.is_some() {
        return Err(ApiError::Conflict(
            "the question is answered already".to_owned(),
        ));
    }
    // The holder is told which body answered, never which of its people (as in their
    // application's history); a holder's answer carries their own name.
    let by = if q.recipient_kind == "holder" {
        principal.name()
    } else {
        q.recipient_name.clone()
    };
    let answered = db::questions::answer(&mut tx, id, &reply, &by).await?;
    publish(
        &mut tx,
        &QuestionAnswered {
            question_id: id,
            campaign_id: answered.campaign_id,
            register_number: answered.register_number.clone(),
            from: party(
                &answered.recipient_kind,
                &by,
                None,
                &answered.recipient_language,
            ),
            to: asker(&answered),
            question: answered.text.clone(),
            answer: reply,
            answered_at: answered.answered_at.unwrap_or_else(Utc::now),
        },
    )
    .await?;
    if answered.recipient_kind == "holder" {
        // A holder's answer reaches the register through the portal's form.
        db::dvvk_ledger::count(&mut tx, "question.answered", id, Dvvk::WebForm).await?;
    }
    tx.commit().await?;
    tracing::info!(question = %id, "question answered");
    Ok(Json(answered))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Forward {
    /// `awarding_body` (with `awarding_body_id`) or `authority`.
    to: String,
    awarding_body_id: Option<Uuid>,
    note: Option<String>,
}

/// The recipient of a holder's question passes it on to another body or the authority.
#[utoipa::path(
    post,
    path = "/questions/{id}/forward",
    tag = "questions",
    params(("id" = Uuid, Path, description = "The question.")),
    request_body = Forward,
    responses(
        (status = 200, description = "Passed on, with the note.", body = db::questions::Question),
    ),
)]
async fn forward(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Forward>,
) -> Result<Json<Question>, ApiError> {
    let note = match input.note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(note) => Some(
            text("note", note)
                .map_err(|e| invalid("invalid-forward", "the note is too long", vec![e]))?,
        ),
    };
    let mut tx = state.pool.begin().await?;
    let q = locked(&mut tx, &principal, id).await?;
    if !is_recipient(&principal, &q) || q.recipient_kind == "holder" {
        return Err(ApiError::Forbidden(
            "only the recipient of a holder's question passes it on".to_owned(),
        ));
    }
    if q.answered_at.is_some() {
        return Err(ApiError::Conflict(
            "the question is answered already".to_owned(),
        ));
    }
    let to = match (input.to.as_str(), input.awarding_body_id) {
        ("authority", None) => authority(&state),
        ("awarding_body", Some(body_id)) => body(&mut tx, body_id)
            .await?
            .ok_or_else(|| ApiError::invalid("awarding_body_id", "no such awarding body"))?,
        ("awarding_body", None) => {
            return Err(ApiError::invalid(
                "awarding_body_id",
                "required: the body to pass it on to",
            ));
        }
        ("authority", Some(_)) => {
            return Err(ApiError::invalid(
                "awarding_body_id",
                "not with to = authority",
            ));
        }
        _ => return Err(ApiError::invalid("to", "awarding_body or authority")),
    };
    if to.kind == q.recipient_kind && to.body == q.recipient_body {
        return Err(ApiError::invalid("to", "the question is already there"));
    }
    let by = q.recipient_name.clone();
    tracing::info!(question = %id, by = principal.name().as_str(), "passing a question on");
    let entry = serde_json::json!({
        "from": q.recipient_name, "to": to.name, "by": by, "note": note, "at": Utc::now(),
    });
    let moved = db::questions::forward(&mut tx, id, &to, &entry).await?;
    let mut event = asked(&moved);
    event.forwarded_by = Some(by);
    event.note = note;
    publish(&mut tx, &QuestionForwarded(event)).await?;
    tx.commit().await?;
    tracing::info!(question = %id, to = to.name.as_str(), "question passed on");
    Ok(Json(moved))
}

#[derive(Debug, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Broadcast {
    text: String,
    qualification_id: Option<Uuid>,
    awarding_body_id: Option<Uuid>,
    certificate_numbers: Option<Vec<String>>,
}

/// The authority puts one question to every holder the target reaches; each is e-mailed it.
///
/// With an `Idempotency-Key`, a retry (a timeout on a large campaign) answers the first
/// campaign again instead of asking everyone twice.
#[utoipa::path(
    post,
    path = "/questions/broadcast",
    tag = "questions",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry answer as the first request did, and do nothing twice.")),
    request_body = Broadcast,
    responses(
        (status = 201, description = "`{campaign, questions}`: one question to each holder (also the answer replayed to a retry).", body = kutse_http::openapi::AnyJson),
    ),
)]
async fn broadcast(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    key: IdempotencyKey,
    Json(input): Json<Broadcast>,
) -> Result<axum::response::Response, ApiError> {
    principal.require(Role::Authority)?;
    let scope = key.scope(&principal.subject, "POST /questions/broadcast", &input);
    let mut errors = Vec::new();
    let question = text("text", &input.text).map_err(|e| errors.push(e)).ok();
    let numbers = input.certificate_numbers.map(|numbers| {
        numbers
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
    });
    if let Some(numbers) = &numbers {
        // A register number is short printable text (`KT-2026-000001`); anything else names no
        // certificate, and PostgreSQL refuses text with NUL in it.
        for (i, n) in numbers.iter().enumerate() {
            if n.chars().count() > 50 || n.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    format!("certificate_numbers[{i}]"),
                    "a register number: printable, at most 50 characters",
                ));
            }
        }
        if numbers.is_empty() {
            errors.push(FieldError::new(
                "certificate_numbers",
                "at least one number",
            ));
        } else if numbers.len() > MAX_CERTIFICATES {
            errors.push(FieldError::new(
                "certificate_numbers",
                format!("at most {MAX_CERTIFICATES}"),
            ));
        }
    }
    if input.qualification_id.is_none() && input.awarding_body_id.is_none() && numbers.is_none() {
        errors.push(FieldError::new(
            "qualification_id",
            "name whom to ask: qualification_id, awarding_body_id or certificate_numbers",
        ));
    }
    let (Some(question), true) = (question, errors.is_empty()) else {
        return Err(invalid(
            "invalid-question",
            "the question needs a text and whom to ask",
            errors,
        ));
    };
    let target = Target {
        qualification_id: input.qualification_id,
        awarding_body_id: input.awarding_body_id,
        certificate_numbers: numbers,
    };
    let mut tx = state.pool.begin().await?;
    if let Some(response) = super::replayed(idempotency::replay(&mut tx, scope.as_ref()).await?) {
        return Ok(response);
    }
    let holders = db::questions::holders(&mut tx, &target).await?;
    if holders.is_empty() {
        return Err(invalid(
            "no-recipients",
            "no holder of a certificate in force matches whom the question names",
            vec![],
        ));
    }
    let campaign = Uuid::now_v7();
    let asker = authority(&state);
    let mut ids = Vec::with_capacity(holders.len());
    for h in &holders {
        let recipient = Party {
            kind: "holder",
            body: None,
            holder: Some(h.holder.clone()),
            name: h.name.clone(),
            email: Some(h.email.clone()),
            language: h.language.clone(),
        };
        let stored = db::questions::insert(
            &mut tx,
            &db::questions::NewQuestion {
                id: Uuid::now_v7(),
                campaign_id: Some(campaign),
                register_number: None,
                asker: &asker,
                recipient: &recipient,
                text: &question,
            },
        )
        .await?;
        publish(&mut tx, &asked(&stored)).await?;
        ids.push(stored.id);
    }
    let answer = serde_json::json!({
        "campaign_id": campaign, "recipients": ids.len(), "questions": ids,
    });
    let response = super::created(&mut tx, scope.as_ref(), &answer).await?;
    tx.commit().await?;
    tracing::info!(campaign = %campaign, recipients = ids.len(), "question put to holders");
    Ok(response)
}
