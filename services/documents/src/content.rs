//! What a file is, by its bytes: the stored type is what the content is, never what the uploader
//! declared.
//!
//! The first bytes of an upload (at most [`HEAD_BYTES`]) are read before anything is written to
//! storage and matched by magic numbers (the `infer` crate), plus a matcher of our own for signed
//! containers: an ASiC-E (BDOC) container is a ZIP whose first entry is `mimetype`, stored
//! uncompressed, holding exactly `application/vnd.etsi.asic-e+zip`. A type the service does not
//! accept (a Windows executable named `cv.pdf`, say) is refused before its body is read on.

/// How many leading bytes are enough to tell the kinds apart (office formats name their parts in
/// the first ZIP entries).
pub const HEAD_BYTES: usize = 8 * 1024;

/// The MIME type of an ASiC-E / BDOC container.
pub const ASICE_MIME: &str = "application/vnd.etsi.asic-e+zip";

/// A kind of file the documents service may accept (the contract's vocabulary).
pub use kutse_domain::FileKind as Kind;

fn kind_of_mime(mime: &str) -> Option<Kind> {
    Kind::ALL.iter().copied().find(|k| k.mime() == mime)
}

/// What the leading bytes `head` are: an accepted kind, or the MIME type of something else (or
/// `None` when nothing matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    Kind(Kind),
    Other(Option<&'static str>),
}

/// Tells what `head` (the first bytes of a file) is.
pub fn detect(head: &[u8]) -> Detected {
    if is_asice(head) {
        return Detected::Kind(Kind::Asice);
    }
    match infer::get(head) {
        Some(found) => match kind_of_mime(found.mime_type()) {
            Some(kind) => Detected::Kind(kind),
            None => Detected::Other(Some(found.mime_type())),
        },
        None => Detected::Other(None),
    }
}

/// An ASiC-E container: a ZIP whose first local entry is `mimetype`, stored (not compressed),
/// holding the ASiC-E MIME type.
fn is_asice(head: &[u8]) -> bool {
    let le16 = |at: usize| {
        head.get(at..at + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    if !head.starts_with(b"PK\x03\x04") || le16(8) != Some(0) {
        return false;
    }
    let (Some(name_len), Some(extra_len)) = (le16(26), le16(28)) else {
        return false;
    };
    let name_end = 30 + name_len;
    let data = name_end + extra_len;
    head.get(30..name_end) == Some(b"mimetype")
        && head
            .get(data..data + ASICE_MIME.len())
            .is_some_and(|m| m == ASICE_MIME.as_bytes())
}

/// Whether the type the uploader declared (`Content-Type`) agrees with what the bytes are. A
/// missing or generic declaration (`application/octet-stream`) agrees with anything.
pub fn declared_agrees(declared: Option<&str>, kind: Kind) -> bool {
    let Some(declared) = declared else {
        return true;
    };
    let essence = declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.is_empty()
        || essence == "application/octet-stream"
        || essence == kind.mime()
        || (kind == Kind::Jpeg && essence == "image/jpg")
        || (kind == Kind::Asice && essence == "application/vnd.etsi.asic-e")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored ZIP entry named `name` holding `data`, as the start of an archive.
    fn stored_entry(name: &str, data: &[u8]) -> Vec<u8> {
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method 0, time, date
        zip.extend_from_slice(&[0; 4]); // crc (not checked here)
        let size = u32::try_from(data.len()).expect("size").to_le_bytes();
        zip.extend_from_slice(&size);
        zip.extend_from_slice(&size);
        zip.extend_from_slice(&u16::try_from(name.len()).expect("len").to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(data);
        zip
    }

    #[test]
    fn kinds_are_told_by_their_bytes() {
        assert_eq!(detect(b"%PDF-1.7\n%\xe2\xe3"), Detected::Kind(Kind::Pdf));
        assert_eq!(
            detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Detected::Kind(Kind::Png)
        );
        assert_eq!(
            detect(b"\xff\xd8\xff\xe0\0\x10JFIF"),
            Detected::Kind(Kind::Jpeg)
        );
        assert_eq!(
            detect(&stored_entry("mimetype", ASICE_MIME.as_bytes())),
            Detected::Kind(Kind::Asice)
        );
        assert_eq!(
            detect(&stored_entry(
                "mimetype",
                b"application/vnd.oasis.opendocument.text"
            )),
            Detected::Kind(Kind::Odt)
        );
    }

    #[test]
    fn an_executable_or_unknown_bytes_are_no_accepted_kind() {
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";
        assert_eq!(
            detect(exe),
            Detected::Other(Some("application/vnd.microsoft.portable-executable"))
        );
        assert_eq!(detect(b"just some text"), Detected::Other(None));
        // A ZIP whose first entry is not the ASiC-E mimetype is no container.
        assert_ne!(
            detect(&stored_entry("mimetype", b"application/zip")),
            Detected::Kind(Kind::Asice)
        );
    }

    #[test]
    fn the_declared_type_must_agree_with_the_bytes() {
        assert!(declared_agrees(None, Kind::Pdf));
        assert!(declared_agrees(Some("application/octet-stream"), Kind::Pdf));
        assert!(declared_agrees(
            Some("Application/PDF; charset=binary"),
            Kind::Pdf
        ));
        assert!(!declared_agrees(Some("image/png"), Kind::Pdf));
        assert!(declared_agrees(Some("image/jpg"), Kind::Jpeg));
    }

    #[test]
    fn every_kind_is_found_by_its_mime_type() {
        for kind in Kind::ALL {
            assert_eq!(kind_of_mime(kind.mime()), Some(*kind));
        }
    }
}
