//! The register's rules that are not about one message: a signer key's life.
//!
//! ```text
//! proposed (by staff) ──owner confirms──▶ active ──authority or owner revokes──▶ revoked
//!      └──────authority registers──────────▲  └── (a proposed key may be revoked too: it never signed)
//! ```

/// Where a signer key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignerStatus {
    /// Proposed by the body's staff; signs nothing until its owner confirms it.
    Proposed,
    Active,
    /// Signs nothing that arrives from its effective time on; kept for audit.
    Revoked,
}

impl SignerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SignerStatus::Proposed => "proposed",
            SignerStatus::Active => "active",
            SignerStatus::Revoked => "revoked",
        }
    }
}

impl TryFrom<String> for SignerStatus {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        [Self::Proposed, Self::Active, Self::Revoked]
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown signer key status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::SignerStatus;

    #[test]
    fn statuses_read_back_from_their_names() {
        for status in [
            SignerStatus::Proposed,
            SignerStatus::Active,
            SignerStatus::Revoked,
        ] {
            assert_eq!(
                SignerStatus::try_from(status.as_str().to_owned()),
                Ok(status)
            );
        }
        assert!(SignerStatus::try_from("confirmed".to_owned()).is_err());
    }
}
