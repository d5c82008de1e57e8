//! The awarding body's desk: its applications, filtered, counted and paginated, and as CSV.
//!
//! | route | who |
//! |---|---|
//! | `GET /desk/applications?awarding_body_id=&round_id=&status=&kind=&overdue=&fee_waiting=&page=&per_page=` | the body's staff: a page (newest first, at most 100), the total, and counts per status |
//! | `GET /desk/applications.csv?…` | the body's staff: every matching application as CSV (UTF-8, RFC 4180) |
//!
//! `overdue=true` lists submitted applications the assessment sweep found overdue;
//! `fee_waiting=true` those whose fee the body has yet to confirm.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kutse_auth::Authenticated;
use kutse_http::{ApiError, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{AppState, require_staff_of};
use crate::db;
use crate::domain::{ApplicationKind, ApplicationStatus};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(csv))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeskQuery {
    awarding_body_id: Uuid,
    round_id: Option<Uuid>,
    status: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    overdue: bool,
    #[serde(default)]
    fee_waiting: bool,
    page: Option<u32>,
    per_page: Option<u32>,
}

const MAX_PER_PAGE: u32 = 100;

fn filter(q: &DeskQuery) -> Result<db::desk::Filter, ApiError> {
    if let Some(status) = &q.status
        && ApplicationStatus::parse(status).is_none()
    {
        return Err(ApiError::invalid(
            "status",
            "draft, awaiting_fee, submitted, awarded or refused",
        ));
    }
    if let Some(kind) = &q.kind
        && ApplicationKind::parse(kind).is_err()
    {
        return Err(ApiError::invalid(
            "kind",
            "initial, recertification, prior_learning or duplicate",
        ));
    }
    Ok(db::desk::Filter {
        awarding_body_id: q.awarding_body_id,
        round_id: q.round_id,
        status: q.status.clone(),
        kind: q.kind.clone(),
        overdue: q.overdue,
        fee_waiting: q.fee_waiting,
    })
}

/// A page of the desk's applications.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DeskPage)]
struct Page {
    applications: Vec<db::desk::Row>,
    page: u32,
    per_page: u32,
    total: i64,
    /// Applications per status (of the body, or the round when one is named).
    counts: std::collections::BTreeMap<String, i64>,
}

/// The body's staff: its applications, filtered and paged.
#[utoipa::path(
    get,
    path = "/desk/applications",
    tag = "desk",
    params(DeskQuery),
    responses(
        (status = 200, description = "The body\'s applications, filtered, with its counts per status.", body = Page),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<DeskQuery>,
) -> Result<Json<Page>, ApiError> {
    require_staff_of(&principal, query.awarding_body_id)?;
    let f = filter(&query)?;
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(25);
    if page == 0 {
        return Err(ApiError::invalid("page", "from 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::invalid("per_page", format!("1-{MAX_PER_PAGE}")));
    }
    let mut conn = state.pool.acquire().await?;
    let (applications, total) = db::desk::page(
        &mut conn,
        &f,
        i64::from(per_page),
        i64::from(page - 1) * i64::from(per_page),
    )
    .await?;
    tracked(&mut conn, &principal, &applications, "applications list").await?;
    let counts = db::desk::counts(&mut conn, f.awarding_body_id, f.round_id)
        .await?
        .into_iter()
        .collect();
    Ok(Json(Page {
        applications,
        page,
        per_page,
        total,
        counts,
    }))
}

/// Tracks the applicants' data the desk showed (their names and applications).
async fn tracked(
    conn: &mut sqlx::PgConnection,
    principal: &kutse_auth::Principal,
    rows: &[db::desk::Row],
    what: &'static str,
) -> Result<(), ApiError> {
    let reads: Vec<_> = rows
        .iter()
        .map(|r| kutse_service::data_reads::Read {
            person: r.applicant.clone(),
            what,
            resource: r.id.to_string(),
        })
        .collect();
    db::data_reads::track(conn, principal, &reads).await?;
    Ok(())
}

/// A CSV field, quoted when it must be (RFC 4180). A field a spreadsheet would read as a formula
/// is prefixed with an apostrophe.
pub fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The same list as CSV, for a spreadsheet.
#[utoipa::path(
    get,
    path = "/desk/applications.csv",
    tag = "desk",
    params(DeskQuery),
    responses(
        (status = 200, description = "The same list as CSV (RFC 4180).", content_type = "text/csv; charset=utf-8", body = String),
    ),
)]
async fn csv(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<DeskQuery>,
) -> Result<Response, ApiError> {
    require_staff_of(&principal, query.awarding_body_id)?;
    let f = filter(&query)?;
    let mut conn = state.pool.acquire().await?;
    let (rows, _) = db::desk::page(&mut conn, &f, i64::MAX, 0).await?;
    tracked(&mut conn, &principal, &rows, "applications export").await?;
    let mut out = String::from(
        "id,round_id,applicant,status,kind,fee_confirmed,created_at,submitted_at,overdue,partner_code\r\n",
    );
    for r in rows {
        let line = [
            r.id.to_string(),
            r.round_id.to_string(),
            field(&r.applicant_name),
            r.status,
            r.kind,
            r.fee_confirmed.to_string(),
            r.created_at.to_rfc3339(),
            r.submitted_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            r.overdue.to_string(),
            r.partner_code.unwrap_or_default(),
        ]
        .join(",");
        out.push_str(&line);
        out.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"applications.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("Mari Maasikas"), "Mari Maasikas");
        assert_eq!(field("Maasikas, Mari"), "\"Maasikas, Mari\"");
        assert_eq!(field("Mari \"Maasu\""), "\"Mari \"\"Maasu\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
