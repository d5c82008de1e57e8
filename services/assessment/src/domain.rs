//! The assessment's rules: a case's state machine. A case opens when an application is submitted
//! (due 10 working days after the round's deadline) and is decided once every competence applied
//! for is; a decided case reopens only when the committee upholds an appeal against it.

/// Where an assessment case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// The panel decides competence by competence.
    Open,
    /// Every competence decided; `assessment.decided` published.
    Decided,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Decided => "decided",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Decided]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::CaseStatus;

    #[test]
    fn statuses_read_back_from_their_names() {
        for status in [CaseStatus::Open, CaseStatus::Decided] {
            assert_eq!(CaseStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CaseStatus::parse("closed"), None);
    }
}
