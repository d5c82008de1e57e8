//! Identity from TARA, the state's authentication service, as TARA issues it.
//!
//! A portal logs a person in with TARA (OpenID Connect) and receives an ID token. It hands that
//! token to intake's token endpoint, which validates it by TARA's rules before it issues a Kutse
//! access token:
//! - signed RS256 by a key of TARA's JWKS (chosen by `kid`, refetched on rotation);
//! - `iss` exactly TARA's issuer, `aud` one of the portals' TARA client ids;
//! - `exp` not passed, and a short life: issued (`iat`) no longer ago than the configured age, and
//!   not valid for longer than that either;
//! - `sub` is `EE` and a valid Estonian personal code;
//! - the person's names under `profile_attributes`;
//! - the authentication method (`amr`) and level of assurance (`acr`: low, substantial, high)
//!   recorded, and the level at least the configured minimum.
//!
//! A TARA token carries no roles: roles come from the register. It is never accepted as an API
//! token (its issuer, key and `typ` differ from a Kutse access token's).

use std::time::Duration;

use kutse_domain::Isikukood;
use serde::Deserialize;

use crate::verifier::AuthError;

/// A level of assurance (eIDAS), as TARA's `acr` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Assurance {
    Low,
    Substantial,
    High,
}

impl Assurance {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Self::Low),
            "substantial" => Some(Self::Substantial),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Substantial => "substantial",
            Self::High => "high",
        }
    }
}

/// The claims of a TARA ID token that Kutse reads.
#[derive(Debug, Clone, Deserialize)]
pub struct TaraClaims {
    /// The token's id: an ID token is exchanged once per body.
    pub jti: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub aud: Audience,
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default)]
    pub acr: Option<String>,
    pub profile_attributes: ProfileAttributes,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
}

/// `aud`: one client id or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// The first of `accepted` this audience names.
    pub fn matching<'a>(&self, accepted: &'a [String]) -> Option<&'a String> {
        accepted.iter().find(|a| match self {
            Self::One(one) => one == *a,
            Self::Many(many) => many.contains(a),
        })
    }
}

/// `profile_attributes`: the person's names and date of birth.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileAttributes {
    pub given_name: String,
    pub family_name: String,
    #[serde(default)]
    pub date_of_birth: Option<String>,
}

/// How strict Kutse is with TARA's tokens beyond signature, issuer and audience.
#[derive(Debug, Clone)]
pub struct TaraRules {
    /// The longest a token may have been issued before it is exchanged, and the longest it may be
    /// valid for.
    pub max_age: Duration,
    /// The lowest level of assurance accepted.
    pub min_assurance: Assurance,
}

/// A person as TARA authenticated them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaraIdentity {
    /// The ID token's id and expiry (Unix seconds), to exchange it once per body.
    pub token_id: String,
    pub expires_at: i64,
    pub isikukood: Isikukood,
    pub given_name: String,
    pub family_name: String,
    /// How they authenticated (`idcard`, `mID`, `smartid`, …).
    pub amr: Vec<String>,
    pub assurance: Assurance,
    /// Their e-mail, when TARA verified it.
    pub email: Option<String>,
}

/// Applies [`TaraRules`] to claims whose signature, issuer, audience and expiry were checked.
pub fn identity(
    claims: &TaraClaims,
    rules: &TaraRules,
    now: i64,
) -> Result<TaraIdentity, AuthError> {
    let max_age = i64::try_from(rules.max_age.as_secs()).unwrap_or(i64::MAX);
    if claims.exp.saturating_sub(claims.iat) > max_age {
        return Err(AuthError::Claims(format!(
            "the ID token is valid for {} s; at most {max_age} s is accepted",
            claims.exp - claims.iat
        )));
    }
    if now.saturating_sub(claims.iat) > max_age {
        return Err(AuthError::Claims(format!(
            "the ID token was issued {} s ago; exchange it within {max_age} s of the login",
            now - claims.iat
        )));
    }
    let code = claims.sub.strip_prefix("EE").ok_or_else(|| {
        AuthError::Claims(format!(
            "subject {:?} is not an Estonian person (EE and a personal code)",
            claims.sub
        ))
    })?;
    let isikukood = Isikukood::parse(code).map_err(|_| {
        AuthError::Claims("subject is not a valid Estonian personal code".to_owned())
    })?;
    let acr = claims.acr.as_deref().unwrap_or_default();
    let assurance = Assurance::parse(acr).ok_or_else(|| {
        AuthError::Claims(format!(
            "level of assurance (acr) {acr:?} is not low, substantial or high"
        ))
    })?;
    if assurance < rules.min_assurance {
        return Err(AuthError::Claims(format!(
            "level of assurance {} is below the required {}",
            assurance.as_str(),
            rules.min_assurance.as_str()
        )));
    }
    if claims.amr.is_empty() {
        return Err(AuthError::Claims(
            "the authentication method (amr) is missing".to_owned(),
        ));
    }
    let names = &claims.profile_attributes;
    if names.given_name.trim().is_empty() && names.family_name.trim().is_empty() {
        return Err(AuthError::Claims(
            "profile_attributes carry no name".to_owned(),
        ));
    }
    Ok(TaraIdentity {
        token_id: claims.jti.clone(),
        expires_at: claims.exp,
        isikukood,
        given_name: names.given_name.clone(),
        family_name: names.family_name.clone(),
        amr: claims.amr.clone(),
        assurance,
        email: claims
            .email
            .clone()
            .filter(|_| claims.email_verified == Some(true)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TaraClaims {
        serde_json::from_value(serde_json::json!({
            "jti": "0b3c8e0e-6b8a-4c4e-9d0e-1f2a3b4c5d6e",
            "sub": "EE38001085718",
            "iat": 1_000,
            "exp": 1_040,
            "aud": ["portal"],
            "amr": ["mID"],
            "acr": "high",
            "profile_attributes": {
                "given_name": "MARY ÄNN",
                "family_name": "O’CONNEŽ-ŠUSLIK TESTNUMBER",
                "date_of_birth": "1980-01-08"
            },
            "email": "mary@example.com",
            "email_verified": false
        }))
        .expect("claims")
    }

    fn rules() -> TaraRules {
        TaraRules {
            max_age: Duration::from_secs(600),
            min_assurance: Assurance::Substantial,
        }
    }

    #[test]
    fn a_tara_login_names_the_person_with_method_and_level() {
        let person = identity(&claims(), &rules(), 1_010).expect("identity");
        assert_eq!(person.isikukood.to_string(), "38001085718");
        assert_eq!(person.given_name, "MARY ÄNN");
        assert_eq!(person.amr, ["mID"]);
        assert_eq!(person.assurance, Assurance::High);
        assert_eq!(person.email, None, "an unverified e-mail is not taken");
    }

    #[test]
    fn tara_rules_refuse_what_tara_would_not_issue() {
        let refused = |mutate: &dyn Fn(&mut TaraClaims), now: i64| {
            let mut c = claims();
            mutate(&mut c);
            identity(&c, &rules(), now)
                .expect_err("refused")
                .to_string()
        };
        assert!(refused(&|c| c.exp = c.iat + 3_600, 1_010).contains("valid for"));
        assert!(refused(&|_| {}, 1_000 + 601).contains("issued"));
        assert!(refused(&|c| c.sub = "LT38001085718".into(), 1_010).contains("not an Estonian"));
        assert!(refused(&|c| c.sub = "EE38001085719".into(), 1_010).contains("personal code"));
        assert!(refused(&|c| c.acr = Some("low".into()), 1_010).contains("below"));
        assert!(refused(&|c| c.acr = None, 1_010).contains("acr"));
        assert!(refused(&|c| c.amr.clear(), 1_010).contains("amr"));
    }

    #[test]
    fn the_audience_is_one_of_the_portals() {
        let accepted = ["kutse-portal".to_owned(), "other".to_owned()];
        assert_eq!(
            Audience::One("other".into())
                .matching(&accepted)
                .map(String::as_str),
            Some("other")
        );
        assert!(
            Audience::Many(vec!["x".into()])
                .matching(&accepted)
                .is_none()
        );
    }
}
