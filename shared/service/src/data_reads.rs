//! The data tracker (andmejälgija): every time someone other than a person reads that person's
//! data — staff reading an application, an assessor downloading a document, the authority
//! viewing a certificate's holder — the read is recorded with who (role, body, name), what and
//! when, and the person can list them (intake's `GET /me/data-reads`).
//!
//! A service announces its reads in the outbox of the connection it read on, before it answers:
//! one multi-row insert per request, however many people's data it showed — the read path pays
//! one durable statement (`make bench` measures it: about 0.3 ms at intake). Committing without
//! waiting for the disk was measured too and was no faster in a transaction of its own, so the
//! record is as durable as anything else the register keeps. The announcements reach intake, which keeps them (`personal_data.read.*`, one type per service so
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

/// The records of the reads `principal` made, except of their own data (and of data without a
/// valid personal code, which is logged).
pub fn reads_of(principal: &Principal, reads: &[Read]) -> Vec<PersonalDataRead> {
    let own = principal.isikukood.map(|c| c.to_string());
    let role = ROLES
        .into_iter()
        .find(|r| principal.has_role(*r))
        .map_or("client", Role::as_str);
    let name = principal.name();
    let now = Utc::now();
    reads
        .iter()
        .filter(|read| own.as_deref() != Some(read.person.as_str()))
        .filter_map(|read| {
            let Ok(person) = Isikukood::parse(&read.person) else {
                tracing::warn!(
                    what = read.what,
                    "a read of data without a valid personal code is not tracked"
                );
                return None;
            };
            Some(PersonalDataRead {
                read_id: Uuid::now_v7(),
                person,
                reader_role: role.to_owned(),
                reader_body: principal.awarding_body_id,
                reader_partner: principal.partner.clone(),
                reader_name: name.clone(),
                what: read.what.to_owned(),
                resource: read.resource.clone(),
                read_at: now,
            })
        })
        .collect()
}

/// Announces (as message type `M`) the reads `principal` made, except of their own data; with
/// the caller's transaction when it has one. Fails as the outbox insert fails.
pub async fn announce<M: Message + From<PersonalDataRead>>(
    conn: &mut PgConnection,
    principal: &Principal,
    reads: &[Read],
) -> sqlx::Result<()> {
    let envelopes = reads_of(principal, reads)
        .into_iter()
        .map(|read| Envelope::new(&M::from(read), None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    Outbox::enqueue_all(conn, &envelopes).await
}
