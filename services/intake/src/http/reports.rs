//! Reports for the Qualifications Authority: `GET /reports/dvvk?from=&to=[&format=csv]`, the
//! state's document-exchange report for a period (see [`crate::dvvk_report`]). The same report
//! is printed by `kutse-dvvk-report` for an operator with the database at hand.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, FieldError, Json};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::{db, dvvk_report};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dvvk))
}

/// The query, as strings: each bad one is named in the answer.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The period's first day (Tallinn), `YYYY-MM-DD`.
    #[param(required = true, value_type = Option<chrono::NaiveDate>)]
    pub from: Option<String>,
    /// The period's last day, included.
    #[param(required = true, value_type = Option<chrono::NaiveDate>)]
    pub to: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// The report's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// A checked query: the period (both days included, in Tallinn) and the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub format: Format,
}

/// Checks the query, naming every field that is wrong at once.
pub fn period(q: &ReportQuery) -> Result<Period, ApiError> {
    let mut errors = Vec::new();
    let mut day =
        |name: &str, value: &Option<String>| match value.as_deref().map(str::parse::<NaiveDate>) {
            Some(Ok(day)) if (2000..=2100).contains(&chrono::Datelike::year(&day)) => Some(day),
            Some(Ok(_)) => {
                errors.push(FieldError::new(name, "a date from 2000 to 2100"));
                None
            }
            Some(Err(_)) => {
                errors.push(FieldError::new(name, "a date, YYYY-MM-DD"));
                None
            }
            None => {
                errors.push(FieldError::new(name, "required: a date, YYYY-MM-DD"));
                None
            }
        };
    let from = day("from", &q.from);
    let to = day("to", &q.to);
    let format = match q.format.as_deref() {
        None | Some("json") => Some(Format::Json),
        Some("csv") => Some(Format::Csv),
        Some(_) => {
            errors.push(FieldError::new("format", "json or csv"));
            None
        }
    };
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        errors.push(FieldError::new("to", "on or after from"));
    }
    match (from, to, format) {
        (Some(from), Some(to), Some(format)) if errors.is_empty() => {
            Ok(Period { from, to, format })
        }
        _ => Err(ApiError::Unprocessable {
            kind: "invalid-period",
            detail: "the report needs a period (from, to) and a format (json or csv)".to_owned(),
            errors,
        }),
    }
}

/// The report for `period`, from the ledger.
pub async fn build(
    conn: &mut sqlx::PgConnection,
    period: &Period,
) -> sqlx::Result<dvvk_report::Report> {
    let rows = db::dvvk_ledger::counts(conn, period.from, period.to).await?;
    Ok(dvvk_report::report(period.from, period.to, &rows))
}

/// The authority: the state's document-exchange report for a period.
#[utoipa::path(
    get,
    path = "/reports/dvvk",
    tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "Every DVVK code's count and the answers to B7–B16, as JSON or (format=csv) CSV.", content((kutse_http::openapi::AnyJson = "application/json"), (String = "text/csv; charset=utf-8"))),
    ),
)]
async fn dvvk(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    principal.require(Role::Authority)?;
    let period = period(&query)?;
    let mut conn = state.pool.acquire().await?;
    let report = build(&mut conn, &period).await?;
    Ok(match period.format {
        Format::Json => Json(report).into_response(),
        Format::Csv => {
            let disposition = format!(
                "attachment; filename=\"dvvk-{}-{}.csv\"",
                period.from, period.to
            );
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                report.to_csv(super::desk::field),
            )
                .into_response()
        }
    })
}
