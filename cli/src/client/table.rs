//! Plain-text tables for a terminal: a header, columns padded to their widest
//! cell, numbers aligned right, no trailing spaces (so the output diffs and
//! greps cleanly). Widths count characters, not bytes, so names with accents
//! stay aligned.
//!
//! A table can be held to a width ([`Style::width`]): its widest text columns
//! give way first, their long cells cut with "…", never the numbers. On a
//! terminal a cell may carry a colour ([`Paint`]) and the header is bold; the
//! colour codes are added after the padding, so they never move a column, and
//! plain output ([`Style::plain`]) has none.

/// Which side of its column a cell sits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A colour for one cell on a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    /// Late: overdue.
    Red,
    /// Soon: due within days.
    Yellow,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Red => "\x1b[1;31m",
            Paint::Yellow => "\x1b[33m",
        }
    }
}

const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// How a table is rendered: within a width or not, in colour or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// The most characters a line may take; none: as wide as the cells.
    pub width: Option<usize>,
    /// Colour codes for a terminal.
    pub colour: bool,
}

impl Style {
    /// As wide as the cells, no colour.
    pub fn plain() -> Self {
        Self::default()
    }

    /// For standard output: colour only on a terminal and when `NO_COLOR` is
    /// not set to anything (no-color.org), within `width` characters.
    pub fn for_stdout(width: usize) -> Self {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { width: Some(width), colour: std::io::stdout().is_terminal() && !no_color }
    }
}

/// Rows under a header, rendered with aligned columns.
#[derive(Clone, Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
    paints: Vec<Vec<Option<Paint>>>,
}

/// Space between columns.
const GAP: &str = "  ";
/// The narrowest a text column is cut to (the "…" included).
const NARROWEST: usize = 6;

impl Table {
    /// A table with these column headers and alignments.
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Self {
            headers: columns.iter().map(|(h, _)| *h).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
            paints: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra ones dropped, and line breaks
    /// inside a cell become spaces so that one record stays on one line.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells: Vec<String> = cells
            .into_iter()
            .take(self.headers.len())
            .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
        self.paints.push(vec![None; self.headers.len()]);
    }

    /// Colours cell `column` of the last row added (on a terminal only).
    pub fn paint(&mut self, column: usize, paint: Paint) {
        if let Some(cell) = self.paints.last_mut().and_then(|row| row.get_mut(column)) {
            *cell = Some(paint);
        }
    }

    /// How many rows were added.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The table as lines of text, header first, each ending in a newline.
    pub fn render(&self) -> String {
        self.render_as(Style::plain())
    }

    /// The table as lines of text in `style`.
    pub fn render_as(&self, style: Style) -> String {
        let widths = self.widths(style.width);
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        let no_paint = vec![None; self.headers.len()];
        let mut out = String::new();
        let rows = std::iter::once((&header, &no_paint, true))
            .chain(self.rows.iter().zip(&self.paints).map(|(cells, paints)| (cells, paints, false)));
        for (cells, paints, is_header) in rows {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    line.push_str(GAP);
                }
                let cell = cut(cell, widths[i]);
                let pad = " ".repeat(widths[i].saturating_sub(cell.chars().count()));
                let paint = match (style.colour, is_header, paints[i]) {
                    (false, _, _) => None,
                    (true, true, _) => Some(BOLD),
                    (true, false, paint) => paint.map(Paint::code),
                };
                let text = match paint {
                    Some(code) if !cell.is_empty() => format!("{code}{cell}{RESET}"),
                    _ => cell,
                };
                match self.align[i] {
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(&text);
                    }
                    Align::Left => {
                        line.push_str(&text);
                        line.push_str(&pad);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Each column's width: its widest cell, then, within `limit`, the widest
    /// text column cut by one until the line fits (or every text column is as
    /// narrow as it goes).
    fn widths(&self, limit: Option<usize>) -> Vec<usize> {
        let mut widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                let header = self.headers[i].chars().count();
                self.rows.iter().map(|r| r[i].chars().count()).fold(header, usize::max)
            })
            .collect();
        let Some(limit) = limit else { return widths };
        let gaps = GAP.len() * widths.len().saturating_sub(1);
        let narrowest = |i: usize| self.headers[i].chars().count().max(NARROWEST);
        while widths.iter().sum::<usize>() + gaps > limit {
            let widest = (0..widths.len())
                .filter(|&i| self.align[i] == Align::Left && widths[i] > narrowest(i))
                .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
            match widest {
                Some(i) => widths[i] -= 1,
                None => break,
            }
        }
        widths
    }
}

/// `cell` within `width` characters: whole, or cut with "…" as its last.
fn cut(cell: &str, width: usize) -> String {
    if cell.chars().count() <= width {
        return cell.to_owned();
    }
    let mut cut: String = cell.chars().take(width.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table::new(&[("CASE", Align::Right), ("KIND", Align::Left), ("NOTE", Align::Left)])
    }

    #[test]
    fn columns_line_up_under_their_headers_with_numbers_on_the_right() {
        let mut t = table();
        t.row(vec!["7".into(), "educational_psychology".into(), "first visit".into()]);
        t.row(vec!["123".into(), "ehc_needs_assessment".into(), String::new()]);
        assert_eq!(
            t.render(),
            "CASE  KIND                    NOTE\n\
             \x20  7  educational_psychology  first visit\n\
             \x20123  ehc_needs_assessment\n"
        );
    }

    #[test]
    fn accented_names_and_line_breaks_do_not_break_the_alignment() {
        let mut t = Table::new(&[("NAME", Align::Left), ("N", Align::Right)]);
        t.row(vec!["Zoë Brontë".into(), "1".into()]);
        t.row(vec!["two\nlines".into(), "10".into()]);
        let rendered = t.render();
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines, ["NAME         N", "Zoë Brontë   1", "two lines   10"]);
    }

    #[test]
    fn a_table_held_to_a_width_cuts_its_widest_text_first_and_never_a_number() {
        let mut t = Table::new(&[("CASE", Align::Right), ("PUPIL", Align::Left), ("SCHOOL", Align::Left)]);
        t.row(vec!["12345".into(), "Alexandra Montgomery-Smith".into(), "St Aidan's Church of England Primary".into()]);
        t.row(vec!["7".into(), "Zoë Li".into(), "Oak".into()]);
        let style = Style { width: Some(40), colour: false };
        let rendered = t.render_as(style);
        assert!(rendered.lines().all(|l| l.chars().count() <= 40), "{rendered}");
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(
            lines,
            [
                " CASE  PUPIL            SCHOOL",
                "12345  Alexandra Mont…  St Aidan's Chur…",
                "    7  Zoë Li           Oak",
            ]
        );
        assert_eq!(t.render_as(Style { width: Some(200), colour: false }), t.render(), "room enough: as ever");
        let narrow = t.render_as(Style { width: Some(5), colour: false });
        assert!(narrow.lines().nth(1).is_some_and(|l| l.starts_with("12345  Alexa…  St Ai…")), "{narrow}");
    }

    #[test]
    fn colour_is_added_after_the_padding_and_only_when_asked() {
        let mut t = Table::new(&[("DAYS", Align::Left), ("N", Align::Right)]);
        t.row(vec!["-3 OVERDUE".into(), "1".into()]);
        t.paint(0, Paint::Red);
        t.row(vec!["5".into(), "22".into()]);
        let plain = t.render();
        assert!(!plain.contains('\x1b'), "{plain}");
        let coloured = t.render_as(Style { width: None, colour: true });
        assert_eq!(
            coloured,
            format!(
                "\x1b[1mDAYS\x1b[0m{}\x1b[1mN\x1b[0m\n\x1b[1;31m-3 OVERDUE\x1b[0m   1\n5{}22\n",
                " ".repeat(9),
                " ".repeat(11)
            )
        );
        let stripped = coloured.replace("\x1b[1;31m", "").replace("\x1b[1m", "").replace("\x1b[0m", "");
        assert_eq!(stripped, plain, "the same table once the colours are taken out");
    }

    #[test]
    fn short_rows_are_padded_and_an_empty_table_is_just_its_header() {
        let mut t = table();
        assert_eq!(t.len(), 0);
        assert_eq!(t.render(), "CASE  KIND  NOTE\n");
        t.row(vec!["1".into()]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.render(), "CASE  KIND  NOTE\n   1\n");
    }
}
