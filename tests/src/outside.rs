//! Implementations Kutse did not write, run from the tests to check its artefacts as a holder's
//! or a verifier's tools would: poppler (the PDF's text, its pages as images), zbar (the QR
//! code), jwcrypto (JWS signatures), Chromium (the verification page). `make stack` installs
//! them (`deploy/stack/up.sh`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where tests keep what a person may want to look at afterwards (screenshots, PDFs):
/// `target/test-artefacts/`.
pub fn artefacts() -> PathBuf {
    let dir = root().join("target/test-artefacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn run(command: &mut Command, input: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("{command:?}: {e} (run `make stack` to install it)"))?;
    if let Some(input) = input
        && let Some(mut stdin) = child.stdin.take()
    {
        stdin.write_all(input)?;
    }
    drop(child.stdin.take());
    let output = child.wait_with_output()?;
    if !output.status.success() {
        anyhow::bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(output.stdout)
}

/// The text of a PDF as poppler's `pdftotext` extracts it (what a reader copies out of it).
pub fn pdf_text(pdf: &[u8]) -> anyhow::Result<String> {
    let out = run(
        Command::new("pdftotext").args(["-enc", "UTF-8", "-", "-"]),
        Some(pdf),
    )?;
    Ok(String::from_utf8(out)?)
}

/// The PDF's document information as poppler's `pdfinfo` reads it (title, producer, PDF/A
/// conformance…).
pub fn pdf_info(pdf: &[u8]) -> anyhow::Result<String> {
    let dir = tempdir()?;
    let path = dir.join("certificate.pdf");
    std::fs::write(&path, pdf)?;
    let out = run(Command::new("pdfinfo").arg("-meta").arg(&path), None);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(String::from_utf8(out?)?)
}

/// The PDF's fonts as poppler's `pdffonts` lists them (name, type, encoding, embedded, subset,
/// Unicode map).
pub fn pdf_fonts(pdf: &[u8]) -> anyhow::Result<String> {
    let dir = tempdir()?;
    let path = dir.join("certificate.pdf");
    std::fs::write(&path, pdf)?;
    let out = run(Command::new("pdffonts").arg(&path), None);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(String::from_utf8(out?)?)
}

/// The QR codes on the PDF's first page: rendered by `pdftoppm`, read by `zbarimg`.
pub fn pdf_qr_codes(pdf: &[u8]) -> anyhow::Result<Vec<String>> {
    let dir = tempdir()?;
    let pdf_path = dir.join("certificate.pdf");
    std::fs::write(&pdf_path, pdf)?;
    run(
        Command::new("pdftoppm")
            .args(["-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&pdf_path)
            .arg(dir.join("page")),
        None,
    )?;
    let out = run(
        Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(dir.join("page.png")),
        None,
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(String::from_utf8(out?)?
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect())
}

/// Verifies a compact JWS with jwcrypto against `jwks`; its header and payload.
pub fn verify_jws(token: &str, jwks: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
    let dir = tempdir()?;
    let jwks_path = dir.join("jwks.json");
    std::fs::write(&jwks_path, jwks.to_string())?;
    let python = root().join(".local/verifiers/bin/python");
    let script = root().join("tests/fixtures/verifiers/verify_jws.py");
    let out = run(
        Command::new(python).arg(script).arg(&jwks_path),
        Some(token.as_bytes()),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(serde_json::from_slice(&out?)?)
}

/// Loads `url` in headless Chromium: the DOM after the page ran (what a person's browser
/// shows), and a screenshot kept at `screenshot`.
pub fn browse(url: &str, screenshot: &Path) -> anyhow::Result<String> {
    let profile = tempdir()?;
    let common = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=900,1100",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    };
    let mut dom = Command::new("chromium");
    common(&mut dom);
    let out = run(dom.arg("--dump-dom").arg(url), None);
    let mut shot = Command::new("chromium");
    common(&mut shot);
    let shot_result = run(
        shot.arg(format!("--screenshot={}", screenshot.display()))
            .arg(url),
        None,
    );
    let _ = std::fs::remove_dir_all(&profile);
    shot_result?;
    Ok(String::from_utf8(out?)?)
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("kutse-outside-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The payload of a compact JWS, read without verifying (to find what to check next).
pub fn jws_payload(token: &str) -> anyhow::Result<serde_json::Value> {
    use base64::Engine;
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("not a compact JWS"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// An attachment of a mail in maildev's inbox, by file name.
pub async fn mail_attachment(mail: &serde_json::Value, file_name: &str) -> anyhow::Result<Vec<u8>> {
    let id = mail["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("mail id"))?;
    let generated = mail["attachments"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["filename"] == file_name))
        .and_then(|a| a["generatedFileName"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no attachment {file_name} in {mail}"))?;
    let response = reqwest::get(format!(
        "http://127.0.0.1:1080/api/email/{id}/attachment/{generated}"
    ))
    .await?
    .error_for_status()?;
    Ok(response.bytes().await?.to_vec())
}
