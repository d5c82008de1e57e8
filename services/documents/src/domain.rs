//! The documents' rules, apart from HTTP and SQL: who may add a document to an application, who
//! may read one, and what of the uploader's input reaches storage.
//!
//! Nothing the uploader chooses names the stored object: its key is `documents/<uuid>`, so no file
//! name or personal code ends up in S3. The file name they give is kept as a label only, bounded
//! and without control characters.

use uuid::Uuid;

/// The longest file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// Whether `caller` (a personal code) may add documents to an application whose applicant is
/// `applicant` (`None`: the application is not known here, or not yet). Only the applicant may;
/// the API answers "not found" otherwise, so another person's application is not revealed.
pub fn may_upload(caller: &str, applicant: Option<&str>) -> bool {
    applicant == Some(caller)
}

/// Why a reader may read a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The person who uploaded it (the applicant).
    Owner,
    /// The awarding body's staff or an assessor of the body the application is with.
    Panel,
}

/// Whether, and as whom, a caller reads a document uploaded by `owner`. `caller` is the caller's
/// personal code (machine clients have none); `on_panel` says whether they act for the
/// application's body as staff or assessor.
pub fn reader(caller: Option<&str>, owner: &str, on_panel: bool) -> Option<Reader> {
    if caller == Some(owner) {
        Some(Reader::Owner)
    } else if on_panel {
        Some(Reader::Panel)
    } else {
        None
    }
}

/// Why an application takes no more uploads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(
        "the application is submitted: documents are accepted while it is a draft (or against a request for more documents)"
    )]
    Submitted,
    #[error("the application holds {0} documents, its most")]
    QuotaCount(i64),
    #[error("the application's documents would exceed {0} bytes in all")]
    QuotaBytes(i64),
}

/// Whether `application` takes one more document of `size` bytes (when known): while it is a
/// draft, or under an open request for more documents of its type (`request`), and within its
/// quota.
pub fn upload_window(
    application: &crate::db::applications::UploadTarget,
    limits: &crate::config::Limits,
    size: Option<u64>,
    request: Option<Uuid>,
) -> Result<(), WindowError> {
    if application.submitted_at.is_some() && request.is_none() {
        return Err(WindowError::Submitted);
    }
    if application.documents >= limits.per_application {
        return Err(WindowError::QuotaCount(limits.per_application));
    }
    let size = size.map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX));
    if application.bytes.saturating_add(size) > limits.bytes_per_application {
        return Err(WindowError::QuotaBytes(limits.bytes_per_application));
    }
    Ok(())
}

/// The S3 key of document `id`.
pub fn object_key(id: Uuid) -> String {
    format!("documents/{id}")
}

/// The file name as it is kept: control characters dropped, at most [`MAX_FILE_NAME_CHARS`];
/// `None` if nothing is left.
pub fn file_name(given: &str) -> Option<String> {
    let kept: String = given
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_applicant_uploads_and_an_unknown_application_takes_nothing() {
        assert!(may_upload("38001085718", Some("38001085718")));
        assert!(!may_upload("38001085718", Some("49403136526")));
        assert!(!may_upload("38001085718", None));
    }

    #[test]
    fn the_owner_and_the_panel_read_nobody_else_does() {
        let owner = "38001085718";
        assert_eq!(reader(Some(owner), owner, false), Some(Reader::Owner));
        assert_eq!(reader(Some(owner), owner, true), Some(Reader::Owner));
        assert_eq!(
            reader(Some("49403136526"), owner, true),
            Some(Reader::Panel)
        );
        assert_eq!(reader(None, owner, true), Some(Reader::Panel));
        assert_eq!(reader(Some("49403136526"), owner, false), None);
        assert_eq!(reader(None, owner, false), None);
    }

    #[test]
    fn object_keys_carry_nothing_the_uploader_chose() {
        let id = Uuid::nil();
        assert_eq!(
            object_key(id),
            "documents/00000000-0000-0000-0000-000000000000"
        );
    }

    #[test]
    fn file_names_are_bounded_and_lose_control_characters() {
        assert_eq!(file_name("cv.pdf").as_deref(), Some("cv.pdf"));
        assert_eq!(file_name("a\r\nb\u{0}.pdf").as_deref(), Some("ab.pdf"));
        assert_eq!(file_name(" \t ").as_deref(), None);
        let long = "ä".repeat(300);
        assert_eq!(
            file_name(&long).map(|n| n.chars().count()),
            Some(MAX_FILE_NAME_CHARS)
        );
    }
}
