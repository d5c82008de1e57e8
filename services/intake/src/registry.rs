//! The role registry's rules: who may appoint whom, and what roles a token then carries.
//!
//! Kutse holds who may act for whom, as Kutseregister does:
//! - the **authority**'s people come from configuration (`AUTHORITY_PERSONAL_CODES`), synced into
//!   the registry at start;
//! - a body's **administrators** are appointed by the authority;
//! - a body's **staff**, **assessors**, **committee members** and **chair**, and its **partner**
//!   organisations' people, are appointed by that body's administrators, with from/to dates.
//!
//! Nobody appoints themselves. A body has at most one chair at a time. The authority may end any
//! appointment; an administrator may end those they could make. Every appointment and removal is
//! kept with who, when and why.

use chrono::NaiveDate;
use kutse_auth::{Principal, Role};
use uuid::Uuid;

/// Who makes an appointment to a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appointer {
    Authority,
    BodyAdministrator,
}

/// Who appoints `role` at a body; `None` for roles no one appoints through the API (the
/// authority's people come from configuration; everyone is an applicant).
pub fn appointer_of(role: Role) -> Option<Appointer> {
    match role {
        Role::BodyAdministrator => Some(Appointer::Authority),
        Role::AwardingBodyStaff
        | Role::Assessor
        | Role::CommitteeMember
        | Role::CommitteeChair
        | Role::Partner => Some(Appointer::BodyAdministrator),
        Role::Applicant | Role::Authority => None,
    }
}

/// Why an appointment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppointError {
    #[error("{0} is not a role appointed at a body")]
    NotAppointable(&'static str),
    #[error("only the authority appoints a body's administrators")]
    NotAuthority,
    #[error("only an administrator of this awarding body appoints its {0}")]
    NotAdministrator(&'static str),
    #[error("nobody appoints themselves")]
    Themselves,
    #[error("a partner's person needs the partner organisation's registry code")]
    PartnerCodeMissing,
    #[error("only a partner's person is appointed with a registry code")]
    PartnerCodeNotExpected,
    #[error("the appointment ends before it starts")]
    EndsBeforeStart,
}

impl AppointError {
    /// The request field the refusal is about, if one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::NotAppointable(_) => Some("role"),
            Self::PartnerCodeMissing | Self::PartnerCodeNotExpected => Some("partner_code"),
            Self::EndsBeforeStart => Some("valid_to"),
            Self::Themselves => Some("personal_code"),
            Self::NotAuthority | Self::NotAdministrator(_) => None,
        }
    }
}

/// An appointment as asked for.
#[derive(Debug, Clone)]
pub struct Appointment<'a> {
    pub person: &'a str,
    pub role: Role,
    pub awarding_body_id: Uuid,
    pub partner_code: Option<&'a str>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// Whether `by` may make `appointment`.
pub fn may_appoint(by: &Principal, appointment: &Appointment<'_>) -> Result<(), AppointError> {
    let appointer = appointer_of(appointment.role)
        .ok_or(AppointError::NotAppointable(appointment.role.as_str()))?;
    match appointer {
        Appointer::Authority if !by.has_role(Role::Authority) => {
            return Err(AppointError::NotAuthority);
        }
        Appointer::BodyAdministrator
            if !by.acts_for(Role::BodyAdministrator, appointment.awarding_body_id) =>
        {
            return Err(AppointError::NotAdministrator(appointment.role.as_str()));
        }
        _ => {}
    }
    if by
        .isikukood
        .is_some_and(|own| own.to_string() == appointment.person)
    {
        return Err(AppointError::Themselves);
    }
    match (appointment.role, appointment.partner_code) {
        (Role::Partner, None) => return Err(AppointError::PartnerCodeMissing),
        (role, Some(_)) if role != Role::Partner => {
            return Err(AppointError::PartnerCodeNotExpected);
        }
        _ => {}
    }
    if appointment
        .valid_to
        .is_some_and(|to| to < appointment.valid_from)
    {
        return Err(AppointError::EndsBeforeStart);
    }
    Ok(())
}

/// Whether `by` may end an appointment to `role` at `body`: the authority always, a body's
/// administrator those they could make.
pub fn may_remove(by: &Principal, role: Role, body: Option<Uuid>) -> bool {
    if by.has_role(Role::Authority) {
        return true;
    }
    appointer_of(role) == Some(Appointer::BodyAdministrator)
        && body.is_some_and(|b| by.acts_for(Role::BodyAdministrator, b))
}

/// The roles a token carries for the roles held at a body: a chair is also a committee member.
pub fn token_roles(held: impl IntoIterator<Item = Role>) -> Vec<Role> {
    let mut roles: Vec<Role> = held.into_iter().collect();
    if roles.contains(&Role::CommitteeChair) {
        roles.push(Role::CommitteeMember);
    }
    roles.sort_unstable();
    roles.dedup();
    roles
}

/// The roles a machine client may be registered with.
pub const CLIENT_ROLES: [Role; 1] = [Role::AwardingBodyStaff];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    const ADMIN: &str = "38001085718";
    const PERSON: &str = "49403136526";

    fn principal(roles: &[Role], body: Option<Uuid>) -> Principal {
        Principal {
            subject: format!("EE{ADMIN}"),
            isikukood: kutse_domain::Isikukood::parse(ADMIN).ok(),
            client_id: "portal".into(),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            awarding_body_id: body,
            partner: None,
            given_name: None,
            family_name: None,
            email: None,
        }
    }

    fn appointment(role: Role, body: Uuid) -> Appointment<'static> {
        Appointment {
            person: PERSON,
            role,
            awarding_body_id: body,
            partner_code: None,
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            valid_to: None,
        }
    }

    #[test]
    fn the_authority_appoints_administrators_and_administrators_appoint_the_rest() {
        let body = Uuid::now_v7();
        let authority = principal(&[Role::Authority], None);
        let admin = principal(&[Role::BodyAdministrator], Some(body));
        let other_admin = principal(&[Role::BodyAdministrator], Some(Uuid::now_v7()));
        assert_eq!(
            may_appoint(&authority, &appointment(Role::BodyAdministrator, body)),
            Ok(())
        );
        assert_eq!(
            may_appoint(&admin, &appointment(Role::BodyAdministrator, body)),
            Err(AppointError::NotAuthority)
        );
        for role in [
            Role::AwardingBodyStaff,
            Role::Assessor,
            Role::CommitteeMember,
            Role::CommitteeChair,
        ] {
            assert_eq!(
                may_appoint(&admin, &appointment(role, body)),
                Ok(()),
                "{role:?}"
            );
            assert!(
                may_appoint(&other_admin, &appointment(role, body)).is_err(),
                "{role:?}"
            );
            assert!(
                may_appoint(&authority, &appointment(role, body)).is_err(),
                "{role:?}"
            );
        }
        for role in [Role::Authority, Role::Applicant] {
            assert_eq!(
                may_appoint(&authority, &appointment(role, body)),
                Err(AppointError::NotAppointable(role.as_str()))
            );
        }
    }

    #[test]
    fn nobody_appoints_themselves_and_dates_and_partner_codes_must_fit() {
        let body = Uuid::now_v7();
        let admin = principal(&[Role::BodyAdministrator], Some(body));
        let own = Appointment {
            person: ADMIN,
            ..appointment(Role::Assessor, body)
        };
        assert_eq!(may_appoint(&admin, &own), Err(AppointError::Themselves));
        let partner = appointment(Role::Partner, body);
        assert_eq!(
            may_appoint(&admin, &partner),
            Err(AppointError::PartnerCodeMissing)
        );
        let coded = Appointment {
            partner_code: Some("12345678"),
            ..appointment(Role::Assessor, body)
        };
        assert_eq!(
            may_appoint(&admin, &coded),
            Err(AppointError::PartnerCodeNotExpected)
        );
        let backwards = Appointment {
            valid_to: NaiveDate::from_ymd_opt(2025, 12, 31),
            ..appointment(Role::Assessor, body)
        };
        assert_eq!(
            may_appoint(&admin, &backwards),
            Err(AppointError::EndsBeforeStart)
        );
    }

    #[test]
    fn removal_follows_appointment_and_the_authority_may_end_any() {
        let body = Uuid::now_v7();
        let admin = principal(&[Role::BodyAdministrator], Some(body));
        let authority = principal(&[Role::Authority], None);
        assert!(may_remove(&admin, Role::Assessor, Some(body)));
        assert!(!may_remove(&admin, Role::BodyAdministrator, Some(body)));
        assert!(!may_remove(&admin, Role::Assessor, Some(Uuid::now_v7())));
        assert!(may_remove(&authority, Role::BodyAdministrator, Some(body)));
        assert!(may_remove(&authority, Role::Authority, None));
    }

    #[test]
    fn a_chair_is_also_a_committee_member() {
        assert_eq!(
            token_roles([Role::CommitteeChair, Role::Assessor]),
            [Role::Assessor, Role::CommitteeMember, Role::CommitteeChair]
        );
    }
}
