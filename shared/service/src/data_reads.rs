//! The data tracker (andmejälgija): every time someone other than a person reads that person's
//! data — staff reading an application, an assessor downloading a document, the authority
//! viewing a certificate's holder — the read is recorded with who (role, body, name), what and
//! when, and the person can list them (intake's `GET /me/data-reads`).
//!
//! A service announces its reads in the outbox of the connection it read on: one multi-row insert
//! per request, however many people's data it showed, so the read path pays one statement. The
//! announcements reach intake, which keeps them (`personal_data.read.*`, one type per service so
//! that the broker lets each publish only its own). Reads by the person themselves are not
//! recorded.

use chrono::Utc;
use kutse_auth::{Principal, Role};
use kutse_domain::Isikukood;
use kutse_messaging::catalogue::PersonalDataRead;
use kutse_messaging::{Envelope, Message, Outbox};
use sqlx::PgConnection;
use uuid::Uuid;

/// One person's data shown: whose (their personal code), what and which.
#[derive(Debug, Clone)]
pub struct Read {
    pub person: String,
    pub what: &'static str,
    pub resource: String,
}

/// The roles a read may be made in, most specific first: the one a reader is named by.
const ROLES: [Role; 7] = [
    Role::Authority,
    Role::BodyAdministrator,
    Role::AwardingBodyStaff,
    Role::Assessor,
    Role::CommitteeChair,
    Role::CommitteeMember,
    Role::Partner,
];

/// Announces (as message type `M`) the reads `principal` made, except of their own data. Goes
/// with the caller's transaction when it has one; fails as the outbox insert fails.
pub async fn announce<M: Message + From<PersonalDataRead>>(
    conn: &mut PgConnection,
    principal: &Principal,
    reads: &[Read],
) -> sqlx::Result<()> {
    let own = principal.isikukood.map(|c| c.to_string());
    let role = ROLES
        .into_iter()
        .find(|r| principal.has_role(*r))
        .map_or("client", Role::as_str);
    let name = match (&principal.given_name, &principal.family_name) {
        (Some(given), Some(family)) => format!("{given} {family}"),
        (Some(one), None) | (None, Some(one)) => one.clone(),
        (None, None) => principal.client_id.clone(),
    };
    let now = Utc::now();
    let mut envelopes = Vec::new();
    for read in reads {
        if own.as_deref() == Some(read.person.as_str()) {
            continue;
        }
        let Ok(person) = Isikukood::parse(&read.person) else {
            tracing::warn!(
                what = read.what,
                "a read of data without a valid personal code is not tracked"
            );
            continue;
        };
        let event = M::from(PersonalDataRead {
            read_id: Uuid::now_v7(),
            person,
            reader_role: role.to_owned(),
            reader_body: principal.awarding_body_id,
            reader_partner: principal.partner.clone(),
            reader_name: name.clone(),
            what: read.what.to_owned(),
            resource: read.resource.clone(),
            read_at: now,
        });
        envelopes.push(Envelope::new(&event, None).map_err(|e| sqlx::Error::Encode(e.into()))?);
    }
    Outbox::enqueue_all(conn, &envelopes).await
}
