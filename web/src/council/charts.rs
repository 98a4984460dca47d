//! Charts drawn on the server as SVG, with no chart library: vertical bars
//! (stacked by series, or one bar per point with gaps for points without a
//! value) and horizontal bars against a reference line (capacity, a national
//! rate).
//!
//! Every chart is a `figure` holding an `<svg role="img">` labelled by its own
//! `<title>` and `<desc>`, with `data-chart="<name>"` and one mark (`rect`) per
//! data point carrying `data-value`, so tests and people with tools can read
//! the numbers; then the same data as a table in a `details` element for anyone
//! who cannot see the picture. A mark given an address is a link to the list
//! behind it (named in words by `aria-label`, and focusable); a chart with
//! links is a labelled `role="group"` instead, its other text hidden from
//! screen readers, and its table's row headings link to the same lists. The SVG scales to its container through its
//! `viewBox`, and its text is sized to stay legible at 320 CSS pixels wide.
//! Colours are GOV.UK's, each at least 3:1 against white (WCAG 1.4.11), and
//! nothing is told by colour alone: a flagged bar also says why in words.
//! All text passes through maud and is escaped.

use maud::{Markup, html};

/// The viewBox width every chart is drawn in.
const WIDTH: f64 = 480.0;
/// Series colours, in order (contrast with white ≥ 3:1).
const PALETTE: [&str; 6] = ["#1d70b8", "#00703c", "#4c2c92", "#912b88", "#505a5f", "#003078"];
/// The colour of a flagged bar (over capacity, an outlier).
const FLAGGED: &str = "#d4351c";
/// Axis and reference lines.
const INK: &str = "#0b0c0c";

/// One series of a stacked bar chart: a value per category.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Its name in the legend.
    pub label: String,
    /// One value per category, in the categories' order.
    pub values: Vec<f64>,
    /// Where each category's mark of this series leads (none: not a link).
    pub links: Vec<Option<String>>,
}

/// A category's name: short under the axis, in full in the data table.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// Under the axis, e.g. "Jan".
    pub axis: String,
    /// In the table, e.g. "January 2026".
    pub full: String,
    /// Where the category leads (its mark, and its row of the table), if anywhere.
    pub href: Option<String>,
}

impl Label {
    /// A label said the same way in both places, leading nowhere.
    pub fn same(text: &str) -> Self {
        Self { axis: text.to_owned(), full: text.to_owned(), href: None }
    }
}

/// One horizontal bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// What the bar is (a person, a school).
    pub label: String,
    /// Its value, in the chart's unit.
    pub value: f64,
    /// Why it stands out, in words (shown beside it, drawn in red), if it does.
    pub flag: Option<String>,
    /// Where the bar leads (the list behind it), if anywhere.
    pub href: Option<String>,
}

/// How values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Whole counts.
    Count,
    /// Percentages (the values are 0–100).
    Percent,
}

impl Unit {
    fn show(self, value: f64) -> String {
        match self {
            Unit::Count => format!("{}", value.round()),
            Unit::Percent => format!("{value:.1}%"),
        }
    }
}

/// A labelled reference value drawn across the chart (e.g. "National 19.5%").
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// What the line is.
    pub label: String,
    /// Where it is, in the chart's unit.
    pub value: f64,
}

/// The position of `value` along a `length` that holds `0..=max` (0 when the
/// maximum is not positive: nothing to scale against).
pub fn scale(value: f64, max: f64, length: f64) -> f64 {
    if max > 0.0 && value.is_finite() { (value.max(0.0) / max * length).min(length) } else { 0.0 }
}

/// The smallest "round" number (1, 2 or 5 × 10ⁿ) at or above `max`; 1 for none.
pub fn nice_max(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|v| *v >= max).unwrap_or(10.0 * magnitude)
}

fn fmt(n: f64) -> String {
    format!("{:.1}", n)
}

/// What a chart is drawn with besides its marks: its name, title, description
/// and height, and whether any mark is a link.
struct Frame<'a> {
    name: &'a str,
    title: &'a str,
    desc: &'a str,
    height: f64,
    linked: bool,
}

fn frame(f: Frame<'_>, body: Markup, table: Markup, legend: Markup) -> Markup {
    let Frame { name, title, desc, height, linked } = f;
    let title_id = format!("chart-{name}-title");
    let desc_id = format!("chart-{name}-desc");
    // A picture holds no links (axe: nested-interactive); a chart whose marks
    // are links is a group of them, labelled the same way.
    let role = if linked { "group" } else { "img" };
    html! {
        figure class="chart" {
            svg xmlns="http://www.w3.org/2000/svg" role=(role) data-chart=(name)
                viewBox={ "0 0 " (WIDTH) " " (fmt(height)) } preserveAspectRatio="xMinYMin meet"
                aria-labelledby={ (title_id) " " (desc_id) } font-family="Arial, sans-serif" font-size="14" {
                title id=(title_id) { (title) }
                desc id=(desc_id) { (desc) }
                (body)
            }
            (legend)
            details class="chart__data" {
                summary { "Show the data of “" (title) "”" }
                (table)
            }
        }
    }
}

/// The chart's data as a table; a row whose heading has an address in `links`
/// (by row) links to it.
fn data_table(caption: &str, headers: &[String], rows: &[Vec<String>], links: &[Option<String>]) -> Markup {
    html! {
        div class="table-wrapper" {
            table class="table" {
                caption class="visually-hidden" { (caption) }
                thead { tr { @for h in headers { th scope="col" { (h) } } } }
                tbody {
                    @for (r, row) in rows.iter().enumerate() {
                        tr {
                            @for (n, cell) in row.iter().enumerate() {
                                @if n == 0 {
                                    th scope="row" {
                                        @match links.get(r).and_then(Option::as_ref) {
                                            Some(href) => a href=(href) { (cell) },
                                            None => (cell),
                                        }
                                    }
                                } @else { td { (cell) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `mark` as a link to `href` named `label` when there is one, else as it is.
fn linked(href: Option<&str>, label: &str, mark: Markup) -> Markup {
    html! {
        @match href {
            Some(href) => a class="chart__link" href=(href) aria-label=(label) { (mark) },
            None => (mark),
        }
    }
}

/// Vertical bars: one bar per category, stacked by series (a mark per category
/// and series). `unit_label` names the vertical axis.
pub fn stacked_bars(
    name: &str,
    title: &str,
    desc: &str,
    categories: &[Label],
    series: &[Series],
    unit_label: &str,
) -> Markup {
    let (height, top, bottom, left) = (300.0, 30.0, 40.0, 44.0);
    let plot_h = height - top - bottom;
    let value = |s: &Series, c: usize| s.values.get(c).copied().unwrap_or(0.0).max(0.0);
    let totals: Vec<f64> = (0..categories.len()).map(|c| series.iter().map(|s| value(s, c)).sum()).collect();
    let max = nice_max(totals.iter().copied().fold(0.0, f64::max));
    let band = (WIDTH - left - 10.0) / categories.len().max(1) as f64;
    let body = html! {
        (vertical_axis(max, Unit::Count, unit_label, top, plot_h, left))
        @for (c, category) in categories.iter().enumerate() {
            @let x = left + band * c as f64 + band * 0.15;
            @let mut base = top + plot_h;
            @for (s, serie) in series.iter().enumerate() {
                @let v = value(serie, c);
                @let h = scale(v, max, plot_h);
                @let y = { base -= h; base };
                @let said = format!("{}, {}: {}", category.full, serie.label, Unit::Count.show(v));
                @let href = serie.links.get(c).and_then(Option::as_deref).filter(|_| v > 0.0);
                (linked(href, &said, html! {
                    rect class="chart__mark" x=(fmt(x)) y=(fmt(y)) width=(fmt(band * 0.7)) height=(fmt(h))
                        fill=(PALETTE[s % PALETTE.len()]) stroke="#ffffff" stroke-width="1" data-value=(v) data-series=(serie.label) {
                        title { (said) }
                    }
                }))
            }
            text x=(fmt(x + band * 0.35)) y=(fmt(height - bottom + 18.0)) text-anchor="middle" font-size="13" aria-hidden="true" { (category.axis) }
        }
    };
    let legend = html! {
        ul class="chart__legend" {
            @for (s, serie) in series.iter().enumerate() {
                li {
                    svg width="14" height="14" aria-hidden="true" focusable="false" {
                        rect width="14" height="14" fill=(PALETTE[s % PALETTE.len()]) {}
                    }
                    " " (serie.label)
                }
            }
        }
    };
    let mut headers = vec![String::new()];
    headers.extend(series.iter().map(|s| s.label.clone()));
    headers.push("Total".into());
    let rows: Vec<Vec<String>> = categories
        .iter()
        .enumerate()
        .map(|(c, category)| {
            let mut row = vec![category.full.clone()];
            row.extend(series.iter().map(|s| Unit::Count.show(value(s, c))));
            row.push(Unit::Count.show(totals[c]));
            row
        })
        .collect();
    let links: Vec<Option<String>> = categories.iter().map(|c| c.href.clone()).collect();
    let linked = links.iter().any(Option::is_some) || series.iter().any(|s| s.links.iter().any(Option::is_some));
    let f = Frame { name, title, desc, height, linked };
    frame(f, body, data_table(title, &headers, &rows, &links), legend)
}

/// Vertical bars of percentages on a 0–100 scale, one per point; a point with
/// no value is a gap (no mark) explained in the table as `gap_text`. An
/// optional reference is drawn as a dashed line across.
pub fn percent_bars(
    name: &str,
    title: &str,
    desc: &str,
    points: &[(Label, Option<f64>)],
    reference: Option<&Reference>,
    gap_text: &str,
) -> Markup {
    let (height, top, bottom, left) = (300.0, 30.0, 40.0, 50.0);
    let plot_h = height - top - bottom;
    let band = (WIDTH - left - 10.0) / points.len().max(1) as f64;
    let body = html! {
        (vertical_axis(100.0, Unit::Percent, "Per cent", top, plot_h, left))
        @for (c, (label, value)) in points.iter().enumerate() {
            @let x = left + band * c as f64 + band * 0.15;
            @if let Some(v) = value {
                @let h = scale(*v, 100.0, plot_h);
                @let said = format!("{}: {}", label.full, Unit::Percent.show(*v));
                (linked(label.href.as_deref(), &said, html! {
                    rect class="chart__mark" x=(fmt(x)) y=(fmt(top + plot_h - h)) width=(fmt(band * 0.7)) height=(fmt(h))
                        fill=(PALETTE[0]) data-value=(v) { title { (said) } }
                }))
            } @else {
                text x=(fmt(x + band * 0.35)) y=(fmt(top + plot_h - 4.0)) text-anchor="middle" font-size="12" fill=(INK) aria-hidden="true" { "–" }
            }
            text x=(fmt(x + band * 0.35)) y=(fmt(height - bottom + 18.0)) text-anchor="middle" font-size="13" aria-hidden="true" { (label.axis) }
        }
        @if let Some(r) = reference {
            @let y = top + plot_h - scale(r.value, 100.0, plot_h);
            line x1=(left) x2=(WIDTH - 10.0) y1=(fmt(y)) y2=(fmt(y)) stroke=(INK) stroke-width="2" stroke-dasharray="6 4" {}
            text x=(WIDTH - 10.0) y=(fmt(y - 6.0)) text-anchor="end" font-size="13" aria-hidden="true" { (r.label) " " (Unit::Percent.show(r.value)) }
        }
    };
    let headers = vec![String::new(), "Per cent".to_owned()];
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|(label, v)| {
            vec![label.full.clone(), v.map(|v| Unit::Percent.show(v)).unwrap_or_else(|| gap_text.to_owned())]
        })
        .collect();
    // A gap has no mark to follow, but its row still leads to the (empty) list.
    let links: Vec<Option<String>> = points.iter().map(|(label, _)| label.href.clone()).collect();
    let f = Frame { name, title, desc, height, linked: points.iter().any(|(l, v)| l.href.is_some() && v.is_some()) };
    frame(f, body, data_table(title, &headers, &rows, &links), html! {})
}

/// The vertical axis: a line, four ticks with their values, and its name.
fn vertical_axis(max: f64, unit: Unit, label: &str, top: f64, plot_h: f64, left: f64) -> Markup {
    html! {
        text x="0" y=(fmt(top - 14.0)) font-size="13" fill=(INK) aria-hidden="true" { (label) }
        @for step in 0..=4 {
            @let v = max * step as f64 / 4.0;
            @let y = top + plot_h - scale(v, max, plot_h);
            line x1=(left) x2=(WIDTH - 10.0) y1=(fmt(y)) y2=(fmt(y)) stroke="#b1b4b6" stroke-width="1" {}
            text x=(fmt(left - 6.0)) y=(fmt(y + 4.0)) text-anchor="end" font-size="12" fill=(INK) aria-hidden="true" {
                @if unit == Unit::Percent { (format!("{v:.0}%")) } @else { (format!("{}", (v * 10.0).round() / 10.0)) }
            }
        }
        line x1=(left) x2=(left) y1=(top) y2=(fmt(top + plot_h)) stroke=(INK) stroke-width="2" {}
    }
}

/// About how wide `text` is drawn in Arial at `size` pixels: an average letter
/// is about 0.55 em, generous enough that what fits by this fits on screen.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.55
}

/// `text` cut to fit `room` pixels at `size`, with an ellipsis when cut (the
/// whole text is in the mark's title and the data table).
fn fitted(text: &str, size: f64, room: f64) -> String {
    if text_width(text, size) <= room {
        return text.to_owned();
    }
    let keep = ((room / (size * 0.55)).floor() as usize).saturating_sub(1);
    format!("{}…", text.chars().take(keep).collect::<String>().trim_end())
}

/// Where a bar's value goes so that it is never cut off at the chart's edge:
/// beside the bar when it fits there, else inside the bar's end in white, else
/// at the right of the label's line. Answers (x, y, anchor, colour).
fn value_place(left: f64, bar: f64, y: f64, value: &str) -> (f64, f64, &'static str, &'static str) {
    let wide = text_width(value, 13.0);
    if left + bar + 6.0 + wide <= WIDTH - 4.0 {
        (left + bar + 6.0, y + 33.0, "start", INK)
    } else if wide + 12.0 <= bar {
        (left + bar - 6.0, y + 33.0, "end", "#ffffff")
    } else {
        (WIDTH - 4.0, y + 14.0, "end", INK)
    }
}

/// Horizontal bars, one row each (label above its bar, value and any flag
/// beside it), with an optional reference line down the chart. The scale runs
/// to a round number above the largest value and the reference.
pub fn horizontal_bars(
    name: &str,
    title: &str,
    desc: &str,
    bars: &[Bar],
    unit: Unit,
    reference: Option<&Reference>,
    value_heading: &str,
) -> Markup {
    let (top, row, left, right) = (30.0, 46.0, 4.0, WIDTH - 10.0);
    let height = top + row * bars.len() as f64 + 34.0;
    let largest = bars.iter().map(|b| b.value).chain(reference.map(|r| r.value)).fold(0.0, f64::max);
    let max = nice_max(largest);
    let length = (right - left) * 0.78;
    let body = html! {
        @for (n, bar) in bars.iter().enumerate() {
            @let y = top + row * n as f64;
            @let w = scale(bar.value, max, length);
            @let said = match &bar.flag {
                Some(f) => format!("{}: {} ({f})", bar.label, unit.show(bar.value)),
                None => format!("{}: {}", bar.label, unit.show(bar.value)),
            };
            @let value = match &bar.flag { Some(f) => format!("{} – {f}", unit.show(bar.value)), None => unit.show(bar.value) };
            @let (x, y_text, anchor, colour) = value_place(left, w, y, &value);
            // A value on the label's line leaves the label the rest of it.
            @let label_room = WIDTH - 2.0 * left - if y_text < y + 20.0 { text_width(&value, 13.0) + 10.0 } else { 0.0 };
            text x=(left) y=(fmt(y + 14.0)) fill=(INK) aria-hidden="true" { (fitted(&bar.label, 14.0, label_room)) }
            (linked(bar.href.as_deref(), &said, html! {
                rect class="chart__mark" x=(left) y=(fmt(y + 20.0)) width=(fmt(w)) height="16"
                    fill=(if bar.flag.is_some() { FLAGGED } else { PALETTE[0] }) data-value=(bar.value)
                    data-flagged=[bar.flag.as_ref().map(|_| "true")] {
                    title { (said) }
                }
            }))
            text x=(fmt(x)) y=(fmt(y_text)) font-size="13" fill=(colour) text-anchor=(anchor) aria-hidden="true"
                font-weight=[bar.flag.as_ref().map(|_| "bold")] {
                (value)
            }
        }
        @let bottom = top + row * bars.len() as f64;
        line x1=(left) x2=(fmt(left + length)) y1=(fmt(bottom + 4.0)) y2=(fmt(bottom + 4.0)) stroke=(INK) stroke-width="1" {}
        @for step in 0..=2 {
            @let v = max * step as f64 / 2.0;
            text x=(fmt(left + scale(v, max, length))) y=(fmt(bottom + 22.0)) font-size="12" fill=(INK) aria-hidden="true"
                text-anchor=(if step == 0 { "start" } else { "middle" }) { (unit.show(v)) }
        }
        @if let Some(r) = reference {
            @let x = left + scale(r.value, max, length);
            line x1=(fmt(x)) x2=(fmt(x)) y1=(fmt(top - 8.0)) y2=(fmt(bottom + 4.0)) stroke=(INK) stroke-width="2" stroke-dasharray="6 4" {}
            text x=(fmt(x)) y=(fmt(top - 14.0)) text-anchor="middle" font-size="13" aria-hidden="true" { (r.label) " " (unit.show(r.value)) }
        }
    };
    let headers = vec![String::new(), value_heading.to_owned(), "Note".to_owned()];
    let rows: Vec<Vec<String>> =
        bars.iter().map(|b| vec![b.label.clone(), unit.show(b.value), b.flag.clone().unwrap_or_default()]).collect();
    let links: Vec<Option<String>> = bars.iter().map(|b| b.href.clone()).collect();
    let f = Frame { name, title, desc, height, linked: links.iter().any(Option::is_some) };
    frame(f, body, data_table(title, &headers, &rows, &links), html! {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bars_value_and_label_stay_inside_the_chart() {
        let long = "40.0% – well above the national rate";
        let (x, _, anchor, colour) = value_place(4.0, 20.0, 0.0, long);
        assert_eq!((anchor, colour), ("start", INK), "beside a short bar");
        assert!(x + text_width(long, 13.0) <= WIDTH);
        let (x, _, anchor, colour) = value_place(4.0, 360.0, 0.0, long);
        assert_eq!((anchor, colour), ("end", "#ffffff"), "inside a long bar");
        assert!(x <= WIDTH);
        let (x, y, anchor, _) = value_place(4.0, 240.0, 0.0, long);
        assert_eq!((x, y, anchor), (WIDTH - 4.0, 14.0, "end"), "on the label's line when neither fits");
        let name = "The Blessed Sacrament Catholic Primary School, A Voluntary Academy of the Diocese";
        let cut = fitted(name, 14.0, WIDTH - 8.0);
        assert!(cut.ends_with('…') && text_width(&cut, 14.0) <= WIDTH - 8.0, "{cut}");
        assert_eq!(fitted("Oak Primary", 14.0, WIDTH), "Oak Primary");
    }

    fn marks(svg: &str) -> Vec<f64> {
        svg.split("data-value=\"").skip(1).filter_map(|rest| rest.split('"').next()?.parse().ok()).collect()
    }

    fn bar(label: &str, value: f64) -> Bar {
        Bar { label: label.into(), value, flag: None, href: None }
    }

    #[test]
    fn a_stacked_chart_has_one_mark_per_point_and_a_table_of_the_same_data() {
        let months = vec![Label::same("Jan"), Label::same("Feb")];
        let series = vec![
            Series { label: "Educational psychology".into(), values: vec![3.0, 1.0], links: Vec::new() },
            Series { label: "EHC needs assessment".into(), values: vec![2.0, 0.0], links: Vec::new() },
        ];
        let html = stacked_bars("referrals", "Referrals", "Per month", &months, &series, "Referrals").into_string();
        assert_eq!(marks(&html), vec![3.0, 2.0, 1.0, 0.0]);
        assert!(html.contains("data-chart=\"referrals\"") && html.contains("role=\"img\""));
        assert!(html.contains("aria-labelledby=\"chart-referrals-title chart-referrals-desc\""));
        assert!(html.contains("<td>5</td>"), "the total of January is in the table");
    }

    #[test]
    fn bars_scale_to_a_round_maximum() {
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(1.3), 2.0);
        assert_eq!(nice_max(40.0), 50.0);
        assert_eq!(scale(5.0, 10.0, 200.0), 100.0);
        assert_eq!(scale(20.0, 10.0, 200.0), 200.0, "never beyond the plot");
        let html =
            horizontal_bars("load", "Load", "d", &[bar("A", 50.0), bar("B", 100.0)], Unit::Percent, None, "Load")
                .into_string();
        // B is the maximum (100): its bar is the full length, A's half of it.
        let lengths: Vec<&str> = html.split("width=\"").skip(1).filter_map(|r| r.split('"').next()).collect();
        assert!(lengths.contains(&"181.7") && lengths.contains(&"363.5"), "{lengths:?}");
    }

    #[test]
    fn empty_data_and_zero_maxima_draw_without_dividing_by_zero() {
        assert_eq!(scale(3.0, 0.0, 100.0), 0.0);
        assert_eq!(scale(f64::NAN, 10.0, 100.0), 0.0);
        assert_eq!(nice_max(0.0), 1.0);
        let empty = stacked_bars("a", "A", "d", &[], &[], "n").into_string();
        assert!(marks(&empty).is_empty() && !empty.contains("NaN") && !empty.contains("inf"));
        let zeros = horizontal_bars("b", "B", "d", &[bar("A", 0.0)], Unit::Count, None, "n").into_string();
        assert_eq!(marks(&zeros), vec![0.0]);
        assert!(!zeros.contains("NaN"));
    }

    #[test]
    fn months_without_a_value_are_gaps_and_the_reference_is_drawn() {
        let points = vec![(Label::same("Jan"), Some(50.0)), (Label::same("Feb"), None)];
        let national = Reference { label: "England".into(), value: 46.0 };
        let html = percent_bars("t", "T", "d", &points, Some(&national), "No plans issued").into_string();
        assert_eq!(marks(&html), vec![50.0]);
        assert!(html.contains("No plans issued") && html.contains("England 46.0%"));
    }

    #[test]
    fn marks_with_an_address_are_links_named_in_words_and_so_are_their_rows() {
        let months = vec![
            Label { axis: "Jan".into(), full: "January 2026".into(), href: Some("/r?month=2026-01".into()) },
            Label::same("Feb"),
        ];
        let series = vec![Series {
            label: "EHC needs assessment".into(),
            values: vec![2.0, 0.0],
            links: vec![Some("/r?kind=ehc&month=2026-01".into()), Some("/r?kind=ehc&month=2026-02".into())],
        }];
        let html = stacked_bars("r", "R", "d", &months, &series, "Referrals").into_string();
        assert!(html.contains("role=\"group\"") && !html.contains("role=\"img\""), "a group of links, not a picture");
        assert!(html.contains("<a class=\"chart__link\" href=\"/r?kind=ehc&amp;month=2026-01\" aria-label=\"January 2026, EHC needs assessment: 2\">"));
        assert!(!html.contains("month=2026-02\""), "an empty segment is no link");
        assert!(html.contains("<th scope=\"row\"><a href=\"/r?month=2026-01\">January 2026</a></th>"), "{html}");
        let bars = [Bar { href: Some("/pupils?school=1".into()), ..bar("A school", 20.0) }];
        let html = horizontal_bars("s", "S", "d", &bars, Unit::Percent, None, "SEN").into_string();
        assert!(html.contains("aria-label=\"A school: 20.0%\"") && html.contains("role=\"group\""));
        let plain = horizontal_bars("s", "S", "d", &[bar("A", 1.0)], Unit::Count, None, "n").into_string();
        assert!(plain.contains("role=\"img\"") && !plain.contains("<a "), "no address, no link: a picture");
    }

    #[test]
    fn text_is_escaped_and_flags_are_said_in_words() {
        let flagged = Bar { label: "<script>".into(), value: 130.0, flag: Some("over capacity".into()), href: None };
        let html = horizontal_bars("x", "T & <b>", "d", &[flagged], Unit::Percent, None, "Load").into_string();
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;") && html.contains("T &amp; &lt;b&gt;"));
        assert!(html.contains("130.0% – over capacity") && html.contains(FLAGGED));
    }
}
