//! Plain-text tables for a terminal: a header, columns padded to their widest
//! cell, numbers aligned right, no trailing spaces (so the output diffs and
//! greps cleanly). Widths count characters, not bytes, so names with accents
//! stay aligned.

/// Which side of its column a cell sits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// Rows under a header, rendered with aligned columns.
#[derive(Clone, Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

/// Space between columns.
const GAP: &str = "  ";

impl Table {
    /// A table with these column headers and alignments.
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Self {
            headers: columns.iter().map(|(h, _)| *h).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
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
    }

    /// How many rows were added.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The table as lines of text, header first, each ending in a newline.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                let header = self.headers[i].chars().count();
                self.rows.iter().map(|r| r[i].chars().count()).fold(header, usize::max)
            })
            .collect();
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        let mut out = String::new();
        for cells in std::iter::once(&header).chain(self.rows.iter()) {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    line.push_str(GAP);
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                match self.align[i] {
                    Align::Right => {
                        line.push_str(&" ".repeat(pad));
                        line.push_str(cell);
                    }
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
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
    fn short_rows_are_padded_and_an_empty_table_is_just_its_header() {
        let mut t = table();
        assert_eq!(t.len(), 0);
        assert_eq!(t.render(), "CASE  KIND  NOTE\n");
        t.row(vec!["1".into()]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.render(), "CASE  KIND  NOTE\n   1\n");
    }
}
