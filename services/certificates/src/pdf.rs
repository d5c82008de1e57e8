//! The certificate as a PDF: one A4 page in Estonian with English beneath each label, and a QR
//! code that opens the verification page.
//!
//! - **PDF/A-2b** (archival), checked by krilla's validator as the file is written.
//! - **Fonts**: DejaVu Serif, embedded and subset, so õ ä ö ü š ž render in any viewer.
//! - **Reproducible**: the same certificate gives the same bytes. Nothing in the file depends on
//!   when it was rendered: the creation date is the issue date, and the document id is derived
//!   from the register number.
//! - **No personal code**, neither on the page nor in the metadata.

use std::sync::{Arc, LazyLock};

use chrono::{Datelike, NaiveDate};
use krilla::Document;
use krilla::SerializeSettings;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use kutse_messaging::catalogue::{CompetenceRef, QualificationRef};

static REGULAR: LazyLock<Option<Font>> = LazyLock::new(|| {
    let data: &'static [u8] = include_bytes!("../assets/fonts/DejaVuSerif.ttf");
    Font::new(Arc::new(data.to_vec()).into(), 0)
});
static BOLD: LazyLock<Option<Font>> = LazyLock::new(|| {
    let data: &'static [u8] = include_bytes!("../assets/fonts/DejaVuSerif-Bold.ttf");
    Font::new(Arc::new(data.to_vec()).into(), 0)
});

/// What the PDF shows.
#[derive(Debug, Clone)]
pub struct Certificate<'a> {
    pub register_number: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub qualification: &'a QualificationRef,
    pub competences: &'a [CompetenceRef],
    pub awarding_body: &'a str,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    /// What the QR code opens.
    pub verification_url: &'a str,
    /// A duplicate's edition (2 and up) and the day it was issued; `None` for the original.
    pub duplicate: Option<(u32, NaiveDate)>,
}

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const LEFT: f32 = 64.0;
const INK: (u8, u8, u8) = (29, 39, 51);
const MUTED: (u8, u8, u8) = (90, 101, 114);
const ACCENT: (u8, u8, u8) = (0, 84, 147);

fn fill(surface: &mut Surface, (r, g, b): (u8, u8, u8)) {
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }));
}

fn text(surface: &mut Surface, font: &Font, size: f32, x: f32, y: f32, s: &str) {
    surface.draw_text(
        Point::from_xy(x, y),
        font.clone(),
        size,
        s,
        false,
        TextDirection::Auto,
    );
}

/// Splits `s` into lines of at most `width` characters, at spaces where it can.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// The competences' lines from `top` down, as (x, y, text), as many as fit above the QR code;
/// and, when some do not fit, the line that counts them — they are never dropped in silence (the
/// verification page and the credential list every one).
fn competence_lines(
    competences: &[CompetenceRef],
    top: f32,
) -> (Vec<(f32, f32, String)>, Option<String>) {
    const BOTTOM: f32 = 626.0;
    let mut y = top;
    let mut lines = Vec::new();
    let mut shown = 0;
    for competence in competences {
        let wrapped = wrap(&format!("{} {}", competence.code, competence.name), 78);
        if y + 14.0 * wrapped.len() as f32 > BOTTOM {
            break;
        }
        for (i, line) in wrapped.into_iter().enumerate() {
            let indent = if i == 0 { 0.0 } else { 12.0 };
            lines.push((LEFT + indent, y, line));
            y += 14.0;
        }
        shown += 1;
    }
    let more = competences.len() - shown;
    let note = (more > 0)
        .then(|| format!("… ja veel {more} / and {more} more: see the verification page"));
    (lines, note)
}

/// Draws the QR code of `url` with its top-left corner at (`x`, `y`), `size` points wide.
fn qr(surface: &mut Surface, url: &str, x: f32, y: f32, size: f32) -> anyhow::Result<()> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)?;
    let modules = code.width();
    // Four modules of quiet zone on each side.
    let module = size / (modules + 8) as f32;
    let colors = code.to_colors();
    let mut path = PathBuilder::new();
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (col, row) = ((i % modules) as f32, (i / modules) as f32);
            let left = x + (col + 4.0) * module;
            let top = y + (row + 4.0) * module;
            if let Some(rect) = Rect::from_ltrb(left, top, left + module, top + module) {
                path.push_rect(rect);
            }
        }
    }
    fill(surface, (0, 0, 0));
    if let Some(path) = path.finish() {
        surface.draw_path(&path);
    }
    Ok(())
}

/// Renders the certificate.
pub fn render(c: &Certificate<'_>) -> anyhow::Result<Vec<u8>> {
    let (Some(regular), Some(bold)) = (REGULAR.as_ref(), BOLD.as_ref()) else {
        anyhow::bail!("the embedded fonts do not load");
    };
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_B)
        .finish()
        .map_err(|e| anyhow::anyhow!("PDF configuration: {e:?}"))?;
    let settings = SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let issued = c.issued_on;
    let month = u8::try_from(issued.month()).unwrap_or(1);
    let day = u8::try_from(issued.day()).unwrap_or(1);
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "Kutsetunnistus {} — {}",
                c.register_number, c.qualification.name
            ))
            .language("et".to_owned())
            .creator("Kutse — Kutseregister".to_owned())
            .producer("Kutse".to_owned())
            .creation_date(
                DateTime::new(u16::try_from(issued.year()).unwrap_or(2000))
                    .month(month)
                    .day(day)
                    .hour(0)
                    .minute(0)
                    .second(0)
                    .utc_offset_hour(0)
                    .utc_offset_minute(0),
            )
            .document_id(format!("kutse-certificate-{}", c.register_number)),
    );
    let page_settings =
        PageSettings::from_wh(WIDTH, HEIGHT).ok_or_else(|| anyhow::anyhow!("page size"))?;
    let mut page = document.start_page_with(page_settings);
    let mut surface = page.surface();

    // A frame.
    let mut frame = PathBuilder::new();
    if let (Some(outer), Some(inner)) = (
        Rect::from_ltrb(28.0, 28.0, WIDTH - 28.0, HEIGHT - 28.0),
        Rect::from_ltrb(32.0, 32.0, WIDTH - 32.0, HEIGHT - 32.0),
    ) {
        frame.push_rect(outer);
        frame.push_rect(inner);
    }
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(ACCENT.0, ACCENT.1, ACCENT.2).into(),
        opacity: NormalizedF32::ONE,
        rule: krilla::paint::FillRule::EvenOdd,
    }));
    if let Some(frame) = frame.finish() {
        surface.draw_path(&frame);
    }

    fill(&mut surface, ACCENT);
    text(&mut surface, bold, 26.0, LEFT, 110.0, "KUTSETUNNISTUS");
    fill(&mut surface, MUTED);
    text(
        &mut surface,
        regular,
        13.0,
        LEFT,
        130.0,
        "Certificate of occupational qualification",
    );
    fill(&mut surface, INK);
    text(
        &mut surface,
        regular,
        11.0,
        LEFT,
        160.0,
        &format!("Nr / No {}", c.register_number),
    );
    if let Some((edition, on)) = c.duplicate {
        fill(&mut surface, ACCENT);
        text(
            &mut surface,
            bold,
            11.0,
            LEFT + 260.0,
            160.0,
            &format!(
                "DUPLIKAAT / DUPLICATE {} · {}",
                edition - 1,
                on.format("%d.%m.%Y")
            ),
        );
        fill(&mut surface, INK);
    }

    let mut y = 215.0;
    let field = |surface: &mut Surface, et: &str, en: &str, values: &[String], y: &mut f32| {
        fill(surface, MUTED);
        text(surface, regular, 9.0, LEFT, *y, &format!("{et} / {en}"));
        *y += 18.0;
        fill(surface, INK);
        for value in values {
            text(surface, bold, 14.0, LEFT, *y, value);
            *y += 19.0;
        }
        *y += 12.0;
    };
    field(
        &mut surface,
        "Omanik",
        "Holder",
        &[format!("{} {}", c.given_name, c.family_name)],
        &mut y,
    );
    let mut qualification = wrap(&c.qualification.name, 52);
    if c.qualification.partial {
        qualification.push("osakutse / partial qualification".to_owned());
    }
    field(
        &mut surface,
        "Kutse",
        "Qualification",
        &qualification,
        &mut y,
    );
    field(
        &mut surface,
        "Eesti kvalifikatsiooniraamistiku tase",
        "EstQF / EQF level",
        &[c.qualification.level.to_string()],
        &mut y,
    );
    field(
        &mut surface,
        "Kutse andja",
        "Awarding body",
        &wrap(c.awarding_body, 52),
        &mut y,
    );
    field(
        &mut surface,
        "Välja antud · kehtib kuni",
        "Issued · valid until",
        &[format!("{} · {}", date(c.issued_on), date(c.valid_until))],
        &mut y,
    );

    fill(&mut surface, MUTED);
    text(
        &mut surface,
        regular,
        9.0,
        LEFT,
        y,
        "Kompetentsid / Competences",
    );
    y += 16.0;
    fill(&mut surface, INK);
    let (lines, more) = competence_lines(c.competences, y);
    for (x, line_y, line) in &lines {
        text(&mut surface, regular, 10.0, *x, *line_y, line);
    }
    if let Some(more) = more {
        fill(&mut surface, MUTED);
        let last = lines.last().map_or(y, |(_, line_y, _)| *line_y + 14.0);
        text(&mut surface, regular, 9.0, LEFT, last + 2.0, &more);
    }

    // The QR code and what it is for.
    let qr_size = 120.0;
    let qr_top = HEIGHT - 64.0 - qr_size;
    qr(
        &mut surface,
        c.verification_url,
        WIDTH - 64.0 - qr_size,
        qr_top,
        qr_size,
    )?;
    fill(&mut surface, MUTED);
    let notes = [
        "Kehtivust saab kontrollida QR-koodi või aadressi kaudu:",
        "Verify the certificate with the QR code or at:",
    ];
    let mut note_y = qr_top + 40.0;
    for note in notes {
        text(&mut surface, regular, 9.0, LEFT, note_y, note);
        note_y += 13.0;
    }
    fill(&mut surface, ACCENT);
    for line in wrap(&c.verification_url.replace('/', " /"), 60) {
        text(
            &mut surface,
            regular,
            9.0,
            LEFT,
            note_y,
            &line.replace(" /", "/"),
        );
        note_y += 13.0;
    }
    fill(&mut surface, MUTED);
    text(
        &mut surface,
        regular,
        8.0,
        LEFT,
        HEIGHT - 64.0,
        "Kutseregister · Kutsekoda — the Estonian register of occupational qualifications",
    );

    surface.finish();
    page.finish();
    document
        .finish()
        .map_err(|e| anyhow::anyhow!("PDF not written: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(q: &'a QualificationRef, competences: &'a [CompetenceRef]) -> Certificate<'a> {
        Certificate {
            register_number: "KT-2026-000001",
            given_name: "Õie",
            family_name: "Šõkžäöü",
            qualification: q,
            competences,
            awarding_body: "Eesti Juuksurite Liit",
            issued_on: NaiveDate::from_ymd_opt(2026, 11, 25).expect("date"),
            valid_until: NaiveDate::from_ymd_opt(2031, 11, 25).expect("date"),
            verification_url: "https://kutse.example/certificates/KT-2026-000001",
            duplicate: None,
        }
    }

    #[test]
    fn the_same_certificate_gives_the_same_bytes() {
        let q = QualificationRef {
            id: uuid::Uuid::nil(),
            name: "Juuksur, tase 4".to_owned(),
            level: 4,
            partial: false,
        };
        let competences = vec![CompetenceRef {
            code: "B.2.1".to_owned(),
            name: "Juuste lõikamine ja värvimine".to_owned(),
        }];
        let first = render(&sample(&q, &competences)).expect("rendered");
        let second = render(&sample(&q, &competences)).expect("rendered");
        assert!(first.starts_with(b"%PDF-"));
        assert_eq!(first, second);
        // Subset fonts keep the file small.
        assert!(first.len() < 200_000, "{} bytes", first.len());
    }

    #[test]
    fn competences_that_do_not_fit_are_counted_not_dropped() {
        let competences: Vec<CompetenceRef> = (1..=40)
            .map(|i| CompetenceRef {
                code: format!("B.{i}"),
                name: "Juuste lõikamine ja värvimine".to_owned(),
            })
            .collect();
        let (lines, more) = competence_lines(&competences, 400.0);
        assert!(!lines.is_empty() && lines.len() < 40);
        assert_eq!(
            more,
            Some(format!(
                "… ja veel {0} / and {0} more: see the verification page",
                40 - lines.len()
            ))
        );
        let (lines, more) = competence_lines(&competences[..3], 400.0);
        assert_eq!((lines.len(), more), (3, None));
        let q = QualificationRef {
            id: uuid::Uuid::nil(),
            name: "Juuksur, tase 4".to_owned(),
            level: 4,
            partial: false,
        };
        assert!(
            render(&sample(&q, &competences))
                .expect("rendered")
                .starts_with(b"%PDF-")
        );
    }

    #[test]
    fn long_text_wraps_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }
}
