//! Dates on the command line and on screen: always `YYYY-MM-DD`, the form the
//! council's own documents and the JSON API use, so a script can pass back what
//! it read.

use chrono::NaiveDate;
use sen_proto::v1 as pb;

/// Reads a `--on` / `--as-of` style date (a clap value parser, so a bad one is a usage error).
pub fn parse(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    let well_formed = text.len() == 10
        && text.char_indices().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    if !well_formed {
        return Err(format!("'{text}' is not a date in the form YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("{text} is not a calendar date"))
}

/// The wire form of an optional date.
pub fn to_proto(date: Option<NaiveDate>) -> Option<pb::Date> {
    sen_platform::dates::to_proto_opt(date)
}

/// A wire date as `YYYY-MM-DD`, or `None` when unset (or all zero).
pub fn show(date: Option<&pb::Date>) -> Option<String> {
    match date {
        None => None,
        Some(d) if d.year == 0 && d.month == 0 && d.day == 0 => None,
        Some(d) => Some(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
    }
}

/// A wire date for a table cell: `YYYY-MM-DD`, or `-` when unset.
pub fn cell(date: Option<&pb::Date>) -> String {
    show(date).unwrap_or_else(|| "-".to_owned())
}

/// "12 days left", "due today", "3 days overdue".
pub fn days_left(days: i32) -> String {
    match days {
        0 => "due today".to_owned(),
        1 => "1 day left".to_owned(),
        -1 => "1 day overdue".to_owned(),
        d if d < 0 => format!("{} days overdue", d.unsigned_abs()),
        d => format!("{d} days left"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_read_and_anything_else_is_refused_with_the_form_expected() {
        assert_eq!(parse("2026-02-28"), Ok(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()));
        assert_eq!(parse(" 2028-02-29 "), Ok(NaiveDate::from_ymd_opt(2028, 2, 29).unwrap()));
        assert_eq!(parse("2027-02-29"), Err("2027-02-29 is not a calendar date".to_owned()));
        for bad in ["28/02/2026", "2026-2-28", "2026-02-28T10:00", "", "tomorrow", "20260228"] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains("YYYY-MM-DD"), "{bad}: {error}");
        }
    }

    #[test]
    fn wire_dates_show_as_iso_and_unset_ones_as_nothing() {
        let date = pb::Date { year: 2026, month: 3, day: 7 };
        assert_eq!(show(Some(&date)).as_deref(), Some("2026-03-07"));
        assert_eq!(show(Some(&pb::Date::default())), None);
        assert_eq!(show(None), None);
        assert_eq!(cell(None), "-");
        assert_eq!(show(to_proto(NaiveDate::from_ymd_opt(2026, 3, 7)).as_ref()).as_deref(), Some("2026-03-07"));
    }

    #[test]
    fn days_left_read_as_words_and_overdue_is_said_plainly() {
        assert_eq!(days_left(12), "12 days left");
        assert_eq!(days_left(1), "1 day left");
        assert_eq!(days_left(0), "due today");
        assert_eq!(days_left(-1), "1 day overdue");
        assert_eq!(days_left(-30), "30 days overdue");
    }
}
