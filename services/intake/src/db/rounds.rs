//! Application rounds, with their fees and delivery options.

use chrono::NaiveDate;
use kutse_domain::{ApplicationKind, DeliveryOption, Money};
use sqlx::PgConnection;
use uuid::Uuid;

/// The awarding body of a qualification, if it exists.
pub async fn qualification_body(
    conn: &mut PgConnection,
    qualification: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT awarding_body_id FROM qualifications WHERE id = $1")
        .bind(qualification)
        .fetch_optional(conn)
        .await
}

/// The kinds of file a round accepts, per document type.
pub type AllowedTypes =
    std::collections::BTreeMap<kutse_domain::DocumentType, Vec<kutse_domain::FileKind>>;

/// A round as it is created.
#[derive(Debug, Clone)]
pub struct NewRound<'a> {
    pub id: Uuid,
    pub awarding_body_id: Uuid,
    pub qualification_id: Uuid,
    pub deadline: NaiveDate,
    pub required_documents: &'a [String],
    /// The kinds of file accepted per document type.
    pub allowed_types: &'a AllowedTypes,
    pub fees: Vec<(ApplicationKind, Money)>,
    pub delivery_options: Vec<(DeliveryOption, Money)>,
}

pub async fn insert(conn: &mut PgConnection, r: &NewRound<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO rounds (id, awarding_body_id, qualification_id, deadline, required_documents, allowed_types)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(r.id)
    .bind(r.awarding_body_id)
    .bind(r.qualification_id)
    .bind(r.deadline)
    .bind(r.required_documents)
    .bind(sqlx::types::Json(r.allowed_types))
    .execute(&mut *conn)
    .await?;
    for (kind, amount) in &r.fees {
        sqlx::query("INSERT INTO round_fees (round_id, kind, amount_cents) VALUES ($1, $2, $3)")
            .bind(r.id)
            .bind(kind.as_str())
            .bind(amount.cents())
            .execute(&mut *conn)
            .await?;
    }
    for (option, cost) in &r.delivery_options {
        sqlx::query(
            "INSERT INTO round_delivery_options (round_id, option, cost_cents) VALUES ($1, $2, $3)",
        )
        .bind(r.id)
        .bind(option.as_str())
        .bind(cost.cents())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A round as it is read back.
#[derive(Debug, Clone)]
pub struct Round {
    pub awarding_body_id: Uuid,
    pub qualification_id: Uuid,
    pub deadline: NaiveDate,
    pub required_documents: Vec<String>,
    pub allowed_types: AllowedTypes,
    pub open: bool,
    pub fees: Vec<(ApplicationKind, Money)>,
    pub delivery_options: Vec<(DeliveryOption, Money)>,
}

fn stored<T, E: std::fmt::Display>(what: &str, parsed: Result<T, E>) -> sqlx::Result<T> {
    parsed.map_err(|e| sqlx::Error::Decode(format!("stored {what}: {e}").into()))
}

/// body, qualification, deadline, required documents, allowed kinds, open
type RoundRow = (
    Uuid,
    Uuid,
    NaiveDate,
    Vec<String>,
    sqlx::types::Json<AllowedTypes>,
    bool,
);

pub async fn find(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Round>> {
    let row: Option<RoundRow> = sqlx::query_as(
        "SELECT awarding_body_id, qualification_id, deadline, required_documents, allowed_types,
                    closed_at IS NULL
               FROM rounds WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((awarding_body_id, qualification_id, deadline, required_documents, allowed, open)) =
        row
    else {
        return Ok(None);
    };
    let fees: Vec<(String, i64)> = sqlx::query_as(
        "SELECT kind, amount_cents FROM round_fees WHERE round_id = $1 ORDER BY kind",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let options: Vec<(String, i64)> = sqlx::query_as(
        "SELECT option, cost_cents FROM round_delivery_options WHERE round_id = $1 ORDER BY option",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(Round {
        awarding_body_id,
        qualification_id,
        deadline,
        required_documents,
        allowed_types: allowed.0,
        open,
        fees: fees
            .into_iter()
            .map(|(kind, cents)| {
                Ok((
                    stored("fee kind", ApplicationKind::parse(&kind))?,
                    stored("fee", Money::from_cents(cents))?,
                ))
            })
            .collect::<sqlx::Result<_>>()?,
        delivery_options: options
            .into_iter()
            .map(|(option, cents)| {
                Ok((
                    stored("delivery option", DeliveryOption::parse(&option))?,
                    stored("delivery cost", Money::from_cents(cents))?,
                ))
            })
            .collect::<sqlx::Result<_>>()?,
    }))
}

/// Closes a round (once; closing again changes nothing).
pub async fn close(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE rounds SET closed_at = coalesce(closed_at, now()) WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}
