//! The page shell and the components every page is built from, in the manner of
//! the GOV.UK Design System: a header with the service name and the signed-in
//! person, a navigation bar for their role, a skip link, one `main` landmark,
//! headings in order, summary cards, tags for status, tables with captions, an
//! error summary at the top of a form linking to each bad field, and inputs with
//! their labels, hints and errors; and where each role starts.
//!
//! Pages work without JavaScript; `app.js` only adds live updates and sorting.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use sen_platform::identity::Role;

use crate::session::{CSRF_FIELD, Session};

/// A link in the navigation bar.
struct NavLink {
    href: &'static str,
    label: &'static str,
}

fn navigation(role: Role) -> Vec<NavLink> {
    let link = |href, label| NavLink { href, label };
    match role {
        Role::LaManager | Role::CaseOfficer => vec![
            link("/dashboard", "Dashboard"),
            link("/referrals", "Referrals"),
            link("/pupils", "Pupils"),
            link("/schools", "Schools"),
            link("/transitions", "Transfers"),
            link("/professionals", "Caseloads"),
        ],
        Role::Senco => vec![
            link("/school", "My school"),
            link("/register", "Register"),
            link("/referrals", "Referrals"),
            link("/referrals/new", "New referral"),
        ],
        Role::EducationalPsychologist | Role::AdvisoryTeacher => {
            vec![link("/caseload", "My caseload"), link("/referrals", "Referrals")]
        }
        Role::PlatformOperator | Role::Service => vec![link("/authorities", "Authorities")],
    }
}

/// Where each role starts: the page `/` and a sign-in without a return address lead to.
pub fn start_page(role: Role) -> &'static str {
    match role {
        Role::LaManager | Role::CaseOfficer => "/dashboard",
        Role::Senco => "/school",
        Role::EducationalPsychologist | Role::AdvisoryTeacher => "/caseload",
        Role::PlatformOperator | Role::Service => "/authorities",
    }
}

/// How a role is named to people.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::LaManager => "SEN manager",
        Role::CaseOfficer => "SEN case officer",
        Role::Senco => "SENCO",
        Role::EducationalPsychologist => "Educational psychologist",
        Role::AdvisoryTeacher => "Advisory teacher",
        Role::PlatformOperator => "Platform operator",
        Role::Service => "Service",
    }
}

/// A whole page for a signed-in person. `current` is the navigation link to mark.
pub fn page(session: &Session, title: &str, current: &str, body: Markup) -> Markup {
    shell(title, Some(session), current, body)
}

/// A whole page for someone not signed in.
pub fn public_page(title: &str, body: Markup) -> Markup {
    shell(title, None, "", body)
}

fn shell(title: &str, session: Option<&Session>, current: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – SEN oversight" }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="header" role="banner" {
                    div class="width-container header__inner" {
                        a class="header__service" href="/" { "SEN oversight" }
                        @if let Some(session) = session {
                            div class="header__account" {
                                span class="header__person" data-person=(session.person()) {
                                    @if let Some(name) = &session.name { (name) " · " }
                                    (role_name(session.role()))
                                    @if let Some(tenant) = session.caller.grant.tenant { " · LA " (tenant) }
                                }
                                form method="post" action="/sign-out" class="header__sign-out" {
                                    (csrf_field(session))
                                    button type="submit" class="link-button" { "Sign out" }
                                }
                            }
                        }
                    }
                }
                @if let Some(session) = session {
                    nav class="nav" aria-label="Main" {
                        ul class="width-container nav__list" {
                            @for link in navigation(session.role()) {
                                li class="nav__item" {
                                    @if link.href == current {
                                        a class="nav__link nav__link--current" href=(link.href) aria-current="page" { (link.label) }
                                    } @else {
                                        a class="nav__link" href=(link.href) { (link.label) }
                                    }
                                }
                            }
                        }
                    }
                }
                div class="width-container" {
                    main id="main" class="main" tabindex="-1" { (body) }
                }
                footer class="footer" role="contentinfo" {
                    div class="width-container" {
                        p { "SEN oversight platform. Information about children: handle it as the law and your authority's policy require." }
                    }
                }
            }
        }
    }
}

/// A part of a page kept live: `app.js` fetches the page again and swaps this
/// region in whenever the referrals the reader may see change (the server-sent
/// events of `/referrals/live`, resumed after a dropped connection), and says
/// when in a polite status line. Without JavaScript it is the page as served.
pub fn live_region(id: &str, body: Markup) -> Markup {
    html! {
        p id={ (id) "-status" } class="body-s secondary" aria-live="polite" role="status" {}
        div id=(id) data-live="/referrals/live" data-live-status={ (id) "-status" } { (body) }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(session.csrf); }
}

/// One bad field of a form: its input's id and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The `id` of the input (the link target).
    pub id: String,
    /// What is wrong, in words for the person.
    pub message: String,
}

/// The error summary at the top of a form, linking to each bad field. Focused
/// on load (by `app.js`, and by `autofocus` without it) so screen readers announce it.
pub fn error_summary(errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" data-module="error-summary" {
                h2 class="error-summary__title" id="error-summary-title" { "There is a problem" }
                ul class="error-summary__list" {
                    @for error in errors {
                        li { a href={ "#" (error.id) } { (error.message) } }
                    }
                }
            }
        }
    }
}

/// The error of field `id`, if any.
pub fn error_for<'a>(errors: &'a [FieldError], id: &str) -> Option<&'a str> {
    errors.iter().find(|e| e.id == id).map(|e| e.message.as_str())
}

/// A labelled text input, with hint and error.
pub fn text_input(id: &str, label: &str, hint: Option<&str>, value: &str, error: Option<&str>) -> Markup {
    input_of("text", id, label, hint, value, error)
}

/// How every date input's hint ends: the day, month and year as people in the
/// UK write them, which is what the input takes (and `YYYY-MM-DD`).
pub const DATE_EXAMPLE: &str = "For example, 27/3/2026";

/// A labelled input of `kind` (`text`, `date`, `number`), with hint and error.
///
/// A date is a text input whose hint ends with [`DATE_EXAMPLE`], not the
/// browser's own date input: that one shows the day and month in the order of
/// the browser's language (3/27/2026 in a US-English browser), which would not
/// match the hint; a date already held (`2026-03-27`) is shown as the hint
/// writes it.
pub fn input_of(kind: &str, id: &str, label: &str, hint: Option<&str>, value: &str, error: Option<&str>) -> Markup {
    let date = kind == "date";
    let date_hint = match hint {
        Some(hint) => format!("{}. {DATE_EXAMPLE}", hint.trim_end_matches('.')),
        None => DATE_EXAMPLE.to_owned(),
    };
    let hint = if date { Some(date_hint.as_str()) } else { hint };
    let (kind, value) = if date { ("text", as_typed_date(value)) } else { (kind, value.to_owned()) };
    let described = described_by(id, hint.is_some(), error.is_some());
    html! {
        div class={ "form-group" @if error.is_some() { " form-group--error" } } {
            label class="label" for=(id) { (label) }
            @if let Some(hint) = hint { div class="hint" id={ (id) "-hint" } { (hint) } }
            @if let Some(error) = error {
                p class="error-message" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (error) }
            }
            input class={ "input" @if date { " input--date" } @if error.is_some() { " input--error" } } id=(id) name=(id)
                type=(kind) value=(value) aria-describedby=[described];
        }
    }
}

/// A date held as `YYYY-MM-DD` as the date hint writes it (`27/3/2026`);
/// anything else as it was typed.
fn as_typed_date(value: &str) -> String {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map(|d| d.format("%-d/%-m/%Y").to_string())
        .unwrap_or_else(|_| value.to_owned())
}

/// A labelled text area, with hint and error.
pub fn textarea(id: &str, label: &str, hint: Option<&str>, value: &str, error: Option<&str>) -> Markup {
    let described = described_by(id, hint.is_some(), error.is_some());
    html! {
        div class={ "form-group" @if error.is_some() { " form-group--error" } } {
            label class="label" for=(id) { (label) }
            @if let Some(hint) = hint { div class="hint" id={ (id) "-hint" } { (hint) } }
            @if let Some(error) = error {
                p class="error-message" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (error) }
            }
            textarea class={ "textarea" @if error.is_some() { " input--error" } } id=(id) name=(id) rows="5"
                aria-describedby=[described] { (value) }
        }
    }
}

/// A labelled select of `(value, text)` options, with the chosen one selected.
pub fn select(id: &str, label: &str, options: &[(String, String)], chosen: &str, error: Option<&str>) -> Markup {
    let described = described_by(id, false, error.is_some());
    html! {
        div class={ "form-group" @if error.is_some() { " form-group--error" } } {
            label class="label" for=(id) { (label) }
            @if let Some(error) = error {
                p class="error-message" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (error) }
            }
            select class={ "select" @if error.is_some() { " input--error" } } id=(id) name=(id) aria-describedby=[described] {
                @for (value, text) in options {
                    option value=(value) selected[value == chosen] { (text) }
                }
            }
        }
    }
}

/// A group of checkboxes named `name` in a fieldset with a legend; the first box
/// carries `id` (the error summary's link target).
pub fn checkboxes(
    id: &str,
    name: &str,
    legend: &str,
    options: &[(String, String)],
    checked: &[String],
    error: Option<&str>,
) -> Markup {
    html! {
        div class={ "form-group" @if error.is_some() { " form-group--error" } } {
            fieldset class="fieldset" aria-describedby=[error.map(|_| format!("{id}-error"))] {
                legend class="fieldset__legend" { (legend) }
                @if let Some(error) = error {
                    p class="error-message" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (error) }
                }
                div class="checkboxes" {
                    @for (n, (value, text)) in options.iter().enumerate() {
                        @let box_id = if n == 0 { id.to_owned() } else { format!("{id}-{n}") };
                        div class="checkboxes__item" {
                            input class="checkboxes__input" id=(box_id) name=(name) type="checkbox" value=(value)
                                checked[checked.contains(value)];
                            label class="checkboxes__label" for=(box_id) { (text) }
                        }
                    }
                }
            }
        }
    }
}

/// A group of radios named `name` in a fieldset with a legend: one choice of
/// `options`; the first radio carries `id` (the error summary's link target).
pub fn radios(
    id: &str,
    name: &str,
    legend: &str,
    options: &[(String, String)],
    chosen: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        div class={ "form-group" @if error.is_some() { " form-group--error" } } {
            fieldset class="fieldset" aria-describedby=[error.map(|_| format!("{id}-error"))] {
                legend class="fieldset__legend" { (legend) }
                @if let Some(error) = error {
                    p class="error-message" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (error) }
                }
                div class="radios" {
                    @for (n, (value, text)) in options.iter().enumerate() {
                        @let radio_id = if n == 0 { id.to_owned() } else { format!("{id}-{n}") };
                        div class="radios__item" {
                            input class="radios__input" id=(radio_id) name=(name) type="radio" value=(value)
                                checked[value == chosen];
                            label class="radios__label" for=(radio_id) { (text) }
                        }
                    }
                }
            }
        }
    }
}

fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    let parts: Vec<String> =
        [hint.then(|| format!("{id}-hint")), error.then(|| format!("{id}-error"))].into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Colours of status tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Neutral (grey).
    Grey,
    /// In hand (blue).
    Blue,
    /// Done or well (green).
    Green,
    /// Needs attention (yellow).
    Yellow,
    /// Late or failing (red).
    Red,
    /// Done, but late (purple): a statutory step completed after its deadline.
    Purple,
}

/// A status tag.
pub fn tag(text: &str, tone: Tone) -> Markup {
    let class = match tone {
        Tone::Grey => "tag tag--grey",
        Tone::Blue => "tag tag--blue",
        Tone::Green => "tag tag--green",
        Tone::Yellow => "tag tag--yellow",
        Tone::Red => "tag tag--red",
        Tone::Purple => "tag tag--purple",
    };
    html! { strong class=(class) { (text) } }
}

/// A headline figure card: a number, its label, and where it leads.
pub fn figure(value: &str, label: &str, href: Option<&str>, detail: Option<&str>) -> Markup {
    html! {
        div class="figure" {
            @if let Some(href) = href {
                a class="figure__link" href=(href) {
                    span class="figure__value" { (value) }
                    span class="figure__label" { (label) }
                }
            } @else {
                span class="figure__value" { (value) }
                span class="figure__label" { (label) }
            }
            @if let Some(detail) = detail { span class="figure__detail" { (detail) } }
        }
    }
}

/// A summary card: a title and key/value rows.
pub fn summary_card(title: &str, rows: &[(&str, Markup)]) -> Markup {
    html! {
        section class="summary-card" aria-label=(title) {
            h2 class="summary-card__title" { (title) }
            dl class="summary-list" {
                @for (key, value) in rows {
                    div class="summary-list__row" {
                        dt class="summary-list__key" { (key) }
                        dd class="summary-list__value" { (value) }
                    }
                }
            }
        }
    }
}

/// A notification banner (e.g. "Referral submitted").
pub fn banner(text: &str) -> Markup {
    html! {
        div class="banner" role="status" {
            p class="banner__text" { (text) }
        }
    }
}

/// A back link.
pub fn back_link(href: &str, text: &str) -> Markup {
    html! { a class="back-link" href=(href) { (text) } }
}

/// Raw SVG (charts are built as strings of escaped SVG).
pub fn svg(markup: String) -> Markup {
    PreEscaped(markup)
}
