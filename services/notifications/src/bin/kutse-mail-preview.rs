//! `kutse-mail-preview [DIR]`: renders every e-mail template with sample data (see
//! `kutse_notifications::samples`) into DIR (default `target/mail-preview`): for each notice a
//! `.txt` (subject and text part) and an `.html` (the HTML part), and an `index.html` linking them
//! all. Open the index in a browser to look at every notice in both languages.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") || args.len() > 1 {
        println!(
            "usage: kutse-mail-preview [DIR]\n\n\
             Renders every e-mail template (Estonian and English, text and HTML) with sample data\n\
             into DIR (default target/mail-preview) and writes DIR/index.html linking them."
        );
        return Ok(());
    }
    let dir = PathBuf::from(args.first().map_or("target/mail-preview", String::as_str));
    std::fs::create_dir_all(&dir)?;
    let mut index = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Kutse e-mails</title></head>\n\
         <body style=\"font-family:sans-serif\"><h1>Kutse e-mails</h1>\n<table>\n",
    );
    let mut failed = 0;
    for sample in kutse_notifications::samples::all() {
        match sample.mail {
            Ok(mail) => {
                let text = kutse_notifications::samples::document(&mail.subject, &mail);
                std::fs::write(dir.join(format!("{}.txt", sample.name)), text)?;
                std::fs::write(dir.join(format!("{}.html", sample.name)), &mail.html)?;
                let subject = minijinja::HtmlEscape(&mail.subject);
                writeln!(
                    index,
                    "<tr><td>{0}</td><td><a href=\"{0}.html\">HTML</a></td><td><a href=\"{0}.txt\">text</a></td><td>{subject}</td></tr>",
                    sample.name
                )?;
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}: {e}", sample.name);
            }
        }
    }
    index.push_str("</table></body></html>\n");
    let index_path = dir.join("index.html");
    std::fs::write(&index_path, index)?;
    println!("wrote {}", index_path.display());
    if failed > 0 {
        anyhow::bail!("{failed} template(s) failed to render");
    }
    Ok(())
}
