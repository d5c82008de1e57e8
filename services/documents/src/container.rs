//! Signed containers (ASiC-E; BDOC is the same format): opened within limits, their structure and
//! their data files' digests checked, their signers read — the checks Kutse can make offline.
//!
//! - **Limits** (zip-bomb and zip-slip proof): at most [`Limits::entries`] entries; every entry's
//!   uncompressed size, declared and actually read, within [`Limits::entry_bytes`], and all of
//!   them within [`Limits::total_bytes`]; no name that could leave the container (`..`, absolute,
//!   backslashes); no archive inside (a data file that is itself a ZIP).
//! - **Structure**: `mimetype` is the first entry, stored uncompressed, holding exactly
//!   `application/vnd.etsi.asic-e+zip`; `META-INF/manifest.xml` lists every data file; there is at
//!   least one `META-INF/signatures*.xml`.
//! - **Digests**: every data file is referenced by a signature (`ds:Reference URI=…`), and its
//!   SHA-256/384/512 equals the reference's `ds:DigestValue`.
//! - **Signers**: name and personal code from each signature's certificate (`ds:X509Certificate`:
//!   the subject's given name and surname, and its serial number `PNOEE-…`).
//!
//! **Not done here**, and said so to the panel (`legally_validated: false`): the signature values
//! over `ds:SignedInfo`, the certificate chain to a trusted list, OCSP revocation and timestamps.
//! That is an external validation service's work (in Estonia, SiVa); [`Validator`] is the seam
//! where one plugs in.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use sha2::Digest as _;

use crate::content::ASICE_MIME;

const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const MANIFEST_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0";

/// How much a container may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    pub entry_bytes: u64,
    pub total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            entries: 1000,
            entry_bytes: 100 * 1024 * 1024,
            total_bytes: 200 * 1024 * 1024,
        }
    }
}

/// A signer, as their certificate names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signer {
    pub name: String,
    /// The personal code, when the certificate is an Estonian person's (`PNOEE-…`).
    pub personal_code: Option<String>,
}

/// What a container holds, once its checks passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub data_files: Vec<String>,
    pub signatures: usize,
    pub signers: Vec<Signer>,
    /// Whether the signature values over `ds:SignedInfo` were verified against the signers'
    /// certificates. Not yet: until they are (or an external service validates the container),
    /// the signers are who the container *says* signed it, and its digests only prove the data
    /// files are the ones its signature files name.
    pub signature_values_verified: bool,
    /// Whether an external service validated the signatures legally (certificate chain, OCSP,
    /// timestamps). Kutse's own checks do not.
    pub legally_validated: bool,
}

/// Why a container is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerError {
    #[error("not a readable ZIP container: {0}")]
    NotZip(String),
    #[error("more than {0} entries")]
    TooManyEntries(usize),
    #[error("entry {0:?} is larger than allowed uncompressed")]
    EntryTooLarge(String),
    #[error("the entries are larger than allowed uncompressed, in all")]
    TooLarge,
    #[error("entry name {0:?} could leave the container")]
    UnsafePath(String),
    #[error("entry {0:?} is an archive inside the container")]
    Nested(String),
    #[error("the first entry must be `mimetype`, stored, holding {ASICE_MIME}")]
    Mimetype,
    #[error("META-INF/manifest.xml is missing or unreadable")]
    NoManifest,
    #[error("data file {0:?} is not listed in META-INF/manifest.xml")]
    Unlisted(String),
    #[error("no META-INF/signatures*.xml")]
    NoSignature,
    #[error("data file {0:?} is not covered by any signature")]
    Unsigned(String),
    #[error("the digest of data file {0:?} does not match its signature's reference")]
    DigestMismatch(String),
    #[error("a signature references {0:?}, which the container does not hold")]
    UnknownReference(String),
    #[error("{0}")]
    Signature(String),
}

/// An external validation service (e.g. SiVa), asked after Kutse's own checks pass. None is
/// configured yet: reports say `legally_validated: false`.
pub trait Validator {
    fn validate(&self, container: &[u8]) -> Result<bool, String>;
}

fn safe(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.split('/').any(|part| part == ".." || part == ".")
        && !name.contains(':')
}

/// Inspects a container (its bytes in memory: a ZIP's directory is at its end).
pub fn inspect(bytes: &[u8], limits: Limits) -> Result<Report, ContainerError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ContainerError::NotZip(e.to_string()))?;
    if archive.len() > limits.entries {
        return Err(ContainerError::TooManyEntries(limits.entries));
    }
    let mut total: u64 = 0;
    // Data files are hashed as they are read, never held; only `mimetype` and `META-INF/` (small,
    // at most META_BYTES each) are kept whole.
    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut data_files: BTreeMap<String, DataFile> = BTreeMap::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| ContainerError::NotZip(e.to_string()))?;
        let name = entry.name().to_owned();
        if entry.enclosed_name().is_none() || !safe(&name) {
            return Err(ContainerError::UnsafePath(name));
        }
        if index == 0
            && (name != "mimetype" || entry.compression() != zip::CompressionMethod::Stored)
        {
            return Err(ContainerError::Mimetype);
        }
        if entry.is_dir() {
            continue;
        }
        let metadata = name == "mimetype" || name.starts_with("META-INF/");
        let limit = if metadata {
            limits.entry_bytes.min(META_BYTES)
        } else {
            limits.entry_bytes
        };
        if entry.size() > limit {
            return Err(ContainerError::EntryTooLarge(name));
        }
        // The declared size may lie: count what is actually read.
        let mut kept = Vec::new();
        let mut file = DataFile::default();
        let mut read: u64 = 0;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = entry
                .read(&mut buffer)
                .map_err(|e| ContainerError::NotZip(format!("{name}: {e}")))?;
            if n == 0 {
                break;
            }
            read += n as u64;
            total += n as u64;
            if read > limit {
                return Err(ContainerError::EntryTooLarge(name));
            }
            if total > limits.total_bytes {
                return Err(ContainerError::TooLarge);
            }
            let chunk = &buffer[..n];
            if metadata {
                kept.extend_from_slice(chunk);
            } else {
                file.update(chunk);
            }
        }
        if metadata {
            if index == 0 && kept != ASICE_MIME.as_bytes() {
                return Err(ContainerError::Mimetype);
            }
            entries.insert(name, kept);
        } else {
            if file.head.starts_with(b"PK\x03\x04") {
                return Err(ContainerError::Nested(name));
            }
            data_files.insert(name, file);
        }
    }
    if !entries.contains_key("mimetype") {
        return Err(ContainerError::Mimetype);
    }
    let listed = manifest(entries.get("META-INF/manifest.xml"))?;
    if let Some(name) = data_files.keys().find(|n| !listed.contains(*n)) {
        return Err(ContainerError::Unlisted((*name).to_owned()));
    }
    let signature_files: Vec<&Vec<u8>> = entries
        .iter()
        .filter(|(name, _)| {
            name.starts_with("META-INF/") && name.contains("signatures") && name.ends_with(".xml")
        })
        .map(|(_, data)| data)
        .collect();
    if signature_files.is_empty() {
        return Err(ContainerError::NoSignature);
    }
    let mut signed = BTreeSet::new();
    let mut signers = Vec::new();
    for file in &signature_files {
        let text = std::str::from_utf8(file)
            .map_err(|_| ContainerError::Signature("a signature file is not UTF-8".into()))?;
        let document = parse_xml(text)
            .map_err(|e| ContainerError::Signature(format!("a signature file: {e}")))?;
        // Only what the signature signs: references inside ds:SignedInfo, and the certificate in
        // ds:KeyInfo.
        for reference in document
            .descendants()
            .filter(|n| n.has_tag_name((DS, "SignedInfo")))
            .flat_map(|info| info.children())
            .filter(|n| n.has_tag_name((DS, "Reference")))
        {
            let uri = reference.attribute("URI").unwrap_or_default();
            if uri.starts_with('#') {
                continue;
            }
            let name = percent_decode(uri);
            let data = data_files
                .get(name.as_str())
                .ok_or_else(|| ContainerError::UnknownReference(name.clone()))?;
            let algorithm = reference
                .children()
                .find(|n| n.has_tag_name((DS, "DigestMethod")))
                .and_then(|n| n.attribute("Algorithm"))
                .unwrap_or_default();
            let expected = reference
                .children()
                .find(|n| n.has_tag_name((DS, "DigestValue")))
                .and_then(|n| n.text())
                .and_then(|t| STANDARD.decode(t.trim()).ok())
                .ok_or_else(|| ContainerError::Signature(format!("{name}: no digest value")))?;
            let actual = data.digest(algorithm).ok_or_else(|| {
                ContainerError::Signature(format!(
                    "{name}: digest algorithm {algorithm} not accepted"
                ))
            })?;
            if actual != expected {
                return Err(ContainerError::DigestMismatch(name));
            }
            signed.insert(name);
        }
        for certificate in document
            .descendants()
            .filter(|n| n.has_tag_name((DS, "KeyInfo")))
            .flat_map(|info| info.descendants())
            .filter(|n| n.has_tag_name((DS, "X509Certificate")))
            .take(1)
        {
            let der = certificate
                .text()
                .map(|t| t.split_whitespace().collect::<String>())
                .and_then(|t| STANDARD.decode(t).ok())
                .ok_or_else(|| ContainerError::Signature("unreadable certificate".into()))?;
            signers.push(signer(&der)?);
        }
    }
    if let Some(name) = data_files.keys().find(|n| !signed.contains(*n)) {
        return Err(ContainerError::Unsigned((*name).to_owned()));
    }
    Ok(Report {
        data_files: data_files.keys().cloned().collect(),
        signatures: signature_files.len(),
        signers,
        signature_values_verified: false,
        legally_validated: false,
    })
}

/// The data files `META-INF/manifest.xml` lists.
fn manifest(file: Option<&Vec<u8>>) -> Result<BTreeSet<String>, ContainerError> {
    let text = file
        .and_then(|f| std::str::from_utf8(f).ok())
        .ok_or(ContainerError::NoManifest)?;
    let document = parse_xml(text).map_err(|_| ContainerError::NoManifest)?;
    Ok(document
        .descendants()
        .filter(|n| n.has_tag_name((MANIFEST_NS, "file-entry")))
        .filter_map(|n| n.attribute((MANIFEST_NS, "full-path")))
        .filter(|p| *p != "/")
        .map(percent_decode)
        .collect())
}

/// Parses a manifest or signature file with a bound on its nodes (no DTDs: roxmltree refuses
/// entity tricks by default).
fn parse_xml(text: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            nodes_limit: 100_000,
            ..roxmltree::ParsingOptions::default()
        },
    )
}

/// The largest `mimetype` or `META-INF/` entry (manifest, signatures) kept to be parsed.
const META_BYTES: u64 = 1024 * 1024;

/// A data file as it was read: its first bytes and its digests.
#[derive(Default)]
struct DataFile {
    head: Vec<u8>,
    sha256: sha2::Sha256,
    sha384: sha2::Sha384,
    sha512: sha2::Sha512,
}

impl DataFile {
    fn update(&mut self, chunk: &[u8]) {
        if self.head.len() < 4 {
            let more = (4 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..more]);
        }
        self.sha256.update(chunk);
        self.sha384.update(chunk);
        self.sha512.update(chunk);
    }

    /// The digest a signature's `DigestMethod` names; `None` for one not accepted (SHA-1).
    fn digest(&self, algorithm: &str) -> Option<Vec<u8>> {
        match algorithm.rsplit('#').next()? {
            "sha256" => Some(self.sha256.clone().finalize().to_vec()),
            "sha384" => Some(self.sha384.clone().finalize().to_vec()),
            "sha512" => Some(self.sha512.clone().finalize().to_vec()),
            _ => None,
        }
    }
}

/// `%20` and the like in a reference's URI.
fn percent_decode(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = uri
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The signer a certificate names: given name and surname (or the common name), and the personal
/// code from the subject's serial number (`PNOEE-…`).
fn signer(der: &[u8]) -> Result<Signer, ContainerError> {
    use x509_parser::prelude::*;
    let (_, certificate) = X509Certificate::from_der(der)
        .map_err(|e| ContainerError::Signature(format!("certificate: {e}")))?;
    let subject = certificate.subject();
    let first = |attributes: &mut dyn Iterator<Item = &AttributeTypeAndValue>| {
        attributes
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_owned)
    };
    let given = first(&mut subject.iter_by_oid(&oid_registry::OID_X509_GIVEN_NAME));
    let surname = first(&mut subject.iter_by_oid(&oid_registry::OID_X509_SURNAME));
    let common = first(&mut subject.iter_common_name());
    let serial = first(&mut subject.iter_by_oid(&oid_registry::OID_X509_SERIALNUMBER));
    let name = match (given, surname) {
        (Some(given), Some(surname)) => format!("{given} {surname}"),
        _ => common.unwrap_or_default(),
    };
    let personal_code = serial
        .as_deref()
        .and_then(|s| s.strip_prefix("PNOEE-"))
        .filter(|code| kutse_domain::Isikukood::parse(code).is_ok())
        .map(str::to_owned);
    Ok(Signer {
        name,
        personal_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!("../../../tests/fixtures/asice/", $name))
        };
    }

    #[test]
    fn a_container_made_by_another_implementation_passes_and_names_its_signer() {
        let report = inspect(fixture!("valid.asice"), Limits::default()).expect("valid");
        assert_eq!(report.data_files, ["cv.pdf", "tootoend.pdf"]);
        assert_eq!(report.signatures, 1);
        assert_eq!(
            report.signers,
            [Signer {
                name: "MARI-LIIS MÄNNIK".into(),
                personal_code: Some("61709210125".into())
            }]
        );
        assert!(!report.legally_validated);
    }

    /// Made by pyasice (PyPI), with a real XAdES signature (see the fixture's generator).
    #[test]
    fn a_container_signed_by_pyasice_passes_and_names_its_signer() {
        let report = inspect(fixture!("pyasice-signed.asice"), Limits::default()).expect("valid");
        assert_eq!(report.data_files, ["avaldus.pdf", "lisa 1.pdf"]);
        assert_eq!(report.signatures, 1);
        assert_eq!(
            report.signers,
            [Signer {
                name: "JAAN TAMM".into(),
                personal_code: Some("38001085718".into())
            }]
        );
    }

    #[test]
    fn broken_containers_are_refused_with_the_reason() {
        let limits = Limits::default();
        let refused = |bytes: &[u8]| inspect(bytes, limits).expect_err("refused");
        assert_eq!(
            refused(fixture!("digest-mismatch.asice")),
            ContainerError::DigestMismatch("tootoend.pdf".into())
        );
        assert_eq!(
            refused(fixture!("unsigned-file.asice")),
            ContainerError::Unsigned("tootoend.pdf".into())
        );
        assert_eq!(
            refused(fixture!("unlisted-file.asice")),
            ContainerError::Unlisted("tootoend.pdf".into())
        );
        assert_eq!(
            refused(fixture!("no-signature.asice")),
            ContainerError::NoSignature
        );
        assert_eq!(
            refused(fixture!("mimetype-not-first.asice")),
            ContainerError::Mimetype
        );
        assert!(matches!(
            refused(fixture!("traversal.asice")),
            ContainerError::UnsafePath(_)
        ));
        assert_eq!(
            refused(fixture!("nested.asice")),
            ContainerError::Nested("inner.asice".into())
        );
        assert!(matches!(refused(b"%PDF-1.7"), ContainerError::NotZip(_)));
    }

    #[test]
    fn a_zip_bomb_is_stopped_at_the_limit_not_unpacked() {
        // 300 MiB of zeros in a 300 KiB file.
        let small = Limits {
            entry_bytes: 10 * 1024 * 1024,
            ..Limits::default()
        };
        assert_eq!(
            inspect(fixture!("bomb.asice"), small),
            Err(ContainerError::EntryTooLarge("bomb.pdf".into()))
        );
        let few = Limits {
            entries: 2,
            ..Limits::default()
        };
        assert_eq!(
            inspect(fixture!("valid.asice"), few),
            Err(ContainerError::TooManyEntries(2))
        );
    }
}
