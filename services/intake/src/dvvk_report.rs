//! The DVVK report: for a period, the ledger's counts per channel code and the answers to the
//! state questionnaire's questions B7–B15 (the information system's document exchange, table 3 of
//! the ministry's guide), as JSON or CSV. The mapping is documented in `docs/dvvk.md`.
//!
//! Each question asks whether the system exchanges documents through a channel and, if so, how
//! many: the yes/no follows from the count (a channel with no exchange in the period is "no").
//! B11 asks whether the system is joined to X-tee; Kutse is not, so it is answered from the
//! X-tee codes' counts (all zero). Codes the questions do not cover (3, 31, 32, 322, 327, 4) are
//! reported in B16, "exchanges the questions above missed".

use chrono::NaiveDate;
use kutse_domain::Dvvk;
use serde::Serialize;

/// One channel's count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    pub dvvk: u16,
    pub channel: &'static str,
    pub count: i64,
}

/// One question's answer: yes/no (`jah`/`ei`, as the questionnaire writes them) or a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    YesNo(&'static str),
    Number(i64),
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::YesNo(s) => f.write_str(s),
            Answer::Number(n) => write!(f, "{n}"),
        }
    }
}

/// A question of the questionnaire, answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answered {
    pub question: &'static str,
    /// The question as the questionnaire asks it (Estonian).
    pub text: &'static str,
    /// The DVVK codes whose counts answer it.
    pub dvvk: Vec<u16>,
    pub answer: Answer,
}

/// The report for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Every code, with zero for those without exchanges.
    pub counts: Vec<CodeCount>,
    pub total: i64,
    pub questionnaire: Vec<Answered>,
}

/// A channel question: its yes/no question, its number question, the codes that answer it.
struct Question {
    id: &'static str,
    asks: &'static str,
    count_id: &'static str,
    count_asks: &'static str,
    codes: &'static [Dvvk],
}

/// B7–B15 (B11 with its two sub-questions), in the questionnaire's order.
const QUESTIONS: &[Question] = &[
    Question {
        id: "B7",
        asks: "Kas infosüsteemi luuakse dokumente suulise informatsiooni põhjal?",
        count_id: "B7.1",
        count_asks: "suuliselt edastatud dokumentide arv",
        codes: &[Dvvk::Oral],
    },
    Question {
        id: "B8",
        asks: "Kas infosüsteemi registreeritakse/sisestatakse paberkandjal edastatud dokumente?",
        count_id: "B8.1",
        count_asks: "paberkandjal edastatud dokumentide arv",
        codes: &[Dvvk::Paper],
    },
    Question {
        id: "B9",
        asks: "Kas infosüsteemis loodud/registreeritud dokumente edastatakse e-kirjaga?",
        count_id: "B9.1",
        count_asks: "edastatud e-kirjade arv",
        codes: &[Dvvk::Email],
    },
    Question {
        id: "B10",
        asks: "Kas infosüsteem on liitunud Dokumendivahetuskeskusega (DVK)?",
        count_id: "B10.1",
        count_asks: "DVK kaudu edastatud dokumentide arv",
        codes: &[Dvvk::XTeeDvk],
    },
    Question {
        id: "B11.1",
        asks: "Kas infosüsteem võtab vastu dokumente, mida edastatakse veebivormi vahendusel X-tee kaudu?",
        count_id: "B11.1.1",
        count_asks: "veebivormi abil üle X-tee edastatud dokumentide arv",
        codes: &[Dvvk::XTeeWebForm],
    },
    Question {
        id: "B11.2",
        asks: "Kas infosüsteemil on X-tee teenuseid?",
        count_id: "B11.2.1",
        count_asks: "dokumendivahetuse maht süsteemide vahel üle X-tee",
        codes: &[Dvvk::XTeeSystemToSystem],
    },
    Question {
        id: "B12",
        asks: "Kas infosüsteem on liidestatud mõne teise infosüsteemiga vahetult, ei kasutata ametlikuks suhtluseks X-teed?",
        count_id: "B12.1",
        count_asks: "dokumendivahetuse maht süsteemide vahel",
        codes: &[Dvvk::SystemToSystem],
    },
    Question {
        id: "B13",
        asks: "Kas infosüsteemis toimub failivahetus teise infosüsteemiga X-teed kasutamata?",
        count_id: "B13.1",
        count_asks: "vahetatud dokumentide arv",
        codes: &[Dvvk::FileExchange],
    },
    Question {
        id: "B14",
        asks: "Kas infosüsteem võtab vastu dokumente, mida edastatakse veebivormi vahendusel X-teed kasutamata?",
        count_id: "B14.1",
        count_asks: "veebivormi abil edastatud dokumentide arv",
        codes: &[Dvvk::WebForm],
    },
    Question {
        id: "B15",
        asks: "Kas infosüsteem jagab ühist andmebaasi teiste asutuste infosüsteemidega?",
        count_id: "B15.1",
        count_asks: "dokumendivahetuse maht süsteemide vahel (jagatud andmebaas)",
        codes: &[Dvvk::SharedDatabase],
    },
    Question {
        id: "B16",
        asks: "Kas on mingeid dokumendivahetusi, mis jäid katmata eelmiste küsimustega?",
        count_id: "B16.1",
        count_asks: "katmata jäänud dokumendivahetuste arv (DVVK 3, 31, 32, 322, 327, 4)",
        codes: &[
            Dvvk::Electronic,
            Dvvk::XTee,
            Dvvk::NonXTee,
            Dvvk::ElectronicFax,
            Dvvk::SocialMedia,
            Dvvk::Undetermined,
        ],
    },
];

/// The codes of X-tee: B11 ("is the system joined to X-tee?") is yes when any was used.
const X_TEE: &[Dvvk] = &[
    Dvvk::XTee,
    Dvvk::XTeeDvk,
    Dvvk::XTeeWebForm,
    Dvvk::XTeeSystemToSystem,
];

fn yes_no(n: i64) -> Answer {
    Answer::YesNo(if n > 0 { "jah" } else { "ei" })
}

/// The report for `from`..=`to` from the ledger's `(code, count)` rows. A code the ledger holds
/// that is not a DVVK code (it never writes one) is counted as undetermined (4).
pub fn report(from: NaiveDate, to: NaiveDate, rows: &[(i16, i64)]) -> Report {
    let mut by_code = std::collections::BTreeMap::<u16, i64>::new();
    for (code, n) in rows {
        let code = u16::try_from(*code)
            .ok()
            .and_then(|c| Dvvk::from_code(c).ok())
            .unwrap_or(Dvvk::Undetermined);
        *by_code.entry(code.code()).or_default() += n;
    }
    let of = |codes: &[Dvvk]| -> i64 {
        codes
            .iter()
            .map(|c| by_code.get(&c.code()).copied().unwrap_or(0))
            .sum()
    };
    let counts = Dvvk::ALL
        .iter()
        .map(|d| CodeCount {
            dvvk: d.code(),
            channel: d.description(),
            count: of(&[*d]),
        })
        .collect();
    let mut questionnaire = Vec::new();
    for q in QUESTIONS {
        if q.id == "B11.1" {
            questionnaire.push(Answered {
                question: "B11",
                text: "Kas infosüsteem on liitunud X-teega?",
                dvvk: X_TEE.iter().map(|d| d.code()).collect(),
                answer: yes_no(of(X_TEE)),
            });
        }
        let n = of(q.codes);
        let codes: Vec<u16> = q.codes.iter().map(|d| d.code()).collect();
        questionnaire.push(Answered {
            question: q.id,
            text: q.asks,
            dvvk: codes.clone(),
            answer: yes_no(n),
        });
        questionnaire.push(Answered {
            question: q.count_id,
            text: q.count_asks,
            dvvk: codes,
            answer: Answer::Number(n),
        });
    }
    Report {
        from,
        to,
        counts,
        total: by_code.values().sum(),
        questionnaire,
    }
}

impl Report {
    /// The report as CSV (RFC 4180, `\r\n`): a header, then one row per code
    /// (`count,<code>,<channel>,<n>`) and one per question (`question,<id>,<text>,<answer>`).
    pub fn to_csv(&self, field: impl Fn(&str) -> String) -> String {
        let mut out = format!(
            "section,key,label,value\r\nperiod,from,,{}\r\nperiod,to,,{}\r\n",
            self.from, self.to
        );
        for c in &self.counts {
            out.push_str(&format!(
                "count,{},{},{}\r\n",
                c.dvvk,
                field(c.channel),
                c.count
            ));
        }
        out.push_str(&format!("total,,,{}\r\n", self.total));
        for q in &self.questionnaire {
            out.push_str(&format!(
                "question,{},{},{}\r\n",
                q.question,
                field(q.text),
                q.answer
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn answer(r: &Report, id: &str) -> String {
        r.questionnaire
            .iter()
            .find(|q| q.question == id)
            .map(|q| q.answer.to_string())
            .unwrap_or_else(|| panic!("no {id}"))
    }

    #[test]
    fn each_channel_answers_its_question_and_the_rest_say_no() {
        let rows = [(2, 1), (321, 7), (323, 2), (324, 1), (325, 4)];
        let r = report(day("2026-12-01"), day("2026-12-31"), &rows);
        assert_eq!(r.total, 15);
        assert_eq!(
            (answer(&r, "B8"), answer(&r, "B8.1")),
            ("jah".into(), "1".into())
        );
        assert_eq!(answer(&r, "B9.1"), "7");
        assert_eq!(answer(&r, "B12.1"), "1");
        assert_eq!(answer(&r, "B13.1"), "4");
        assert_eq!(answer(&r, "B14.1"), "2");
        for no in ["B7", "B10", "B11", "B11.1", "B11.2", "B15", "B16"] {
            assert_eq!(answer(&r, no), "ei", "{no}");
        }
        assert_eq!(r.counts.len(), 16);
        assert_eq!(r.counts.iter().map(|c| c.count).sum::<i64>(), 15);
    }

    #[test]
    fn codes_outside_b7_to_b15_are_reported_in_b16_and_unknown_ones_as_undetermined() {
        let r = report(day("2026-12-01"), day("2026-12-31"), &[(3, 2), (99, 1)]);
        assert_eq!(answer(&r, "B16"), "jah");
        assert_eq!(answer(&r, "B16.1"), "3");
        let undetermined = r.counts.iter().find(|c| c.dvvk == 4).expect("4");
        assert_eq!(undetermined.count, 1);
    }

    #[test]
    fn the_csv_has_a_row_per_code_and_per_question() {
        let r = report(day("2026-12-01"), day("2026-12-31"), &[(321, 3)]);
        let csv = r.to_csv(|s| format!("\"{s}\""));
        assert!(csv.starts_with("section,key,label,value\r\nperiod,from,,2026-12-01\r\n"));
        assert!(csv.contains("count,321,\"e-mail\",3\r\n"));
        assert!(csv.contains("question,B9.1,\"edastatud e-kirjade arv\",3\r\n"));
        assert_eq!(csv.lines().filter(|l| l.starts_with("count,")).count(), 16);
        assert_eq!(
            csv.lines().filter(|l| l.starts_with("question,")).count(),
            r.questionnaire.len()
        );
    }
}
