//! `sen forecast`: the breach forecast for the council team, as the
//! `/forecast` page shows it (the requests likely to miss their statutory date
//! with the reasons, the breaches expected a month with a what-if beside
//! today's, the suggested moves of unstarted statutory work); and
//! `sen forecast backtest`, which reads the authority's EHC requests and the
//! advice asked in them through the gateway, replays them as known on past
//! days with the same model (`sen_caseloads::forecast`), and prints the
//! calibration and Brier score against the naive baseline.

use std::collections::HashMap;

use chrono::{NaiveDate, TimeDelta};
use clap::{Args, Subcommand};
use sen_caseloads::domain::AdviceKind;
use sen_caseloads::forecast::backtest::{Report, backtest};
use sen_caseloads::forecast::{AdviceRecord, RequestRecord, Runs};
use sen_proto::v1 as pb;

use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Exit, Failure};
use super::{dates, json, print};

/// `sen forecast`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ForecastArgs {
    #[command(subcommand)]
    command: Option<ForecastCommand>,
    /// What-if: extra educational psychologist days a week.
    #[arg(long, value_name = "DAYS")]
    extra_ep_days: Option<f64>,
    /// What-if: this professional (id) leaving.
    #[arg(long, value_name = "ID")]
    leaving: Option<i64>,
    /// What-if: sessions a term the time-allocation model moves to statutory work (negative: to schools).
    #[arg(long, value_name = "SESSIONS", allow_negative_numbers = true)]
    sessions_to_statutory: Option<i32>,
    /// Print the two answers as JSON (the JSON API's shape).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// `sen forecast …`.
#[derive(Subcommand, Debug)]
pub enum ForecastCommand {
    /// Replay the authority's history as known on past days and score the forecasts against what happened.
    #[command(after_help = super::EXIT_CODES)]
    Backtest(BacktestArgs),
}

/// `sen forecast backtest`.
#[derive(Args, Debug)]
pub struct BacktestArgs {
    /// The first replay day (default: a year before --to).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = dates::parse)]
    from: Option<NaiveDate>,
    /// The last replay day (default: 20 weeks ago, so most outcomes are known).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = dates::parse)]
    to: Option<NaiveDate>,
    /// Days between replay days.
    #[arg(long, default_value_t = 28, value_parser = clap::value_parser!(i64).range(1..=365))]
    step_days: i64,
    /// Monte Carlo runs per forecast.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(50..=10_000))]
    simulations: u32,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs `sen forecast` or `sen forecast backtest`.
pub async fn run(args: &ForecastArgs, today: NaiveDate) -> Result<(), Failure> {
    if let Some(ForecastCommand::Backtest(backtest_args)) = &args.command {
        return run_backtest(backtest_args, today).await;
    }
    let gateway = Gateway::connect(&args.connection).await?;
    let breaches = gateway
        .caseloads()
        .get_breach_forecast(pb::GetBreachForecastRequest::default())
        .await
        .map_err(|s| Call::to("see the breach forecast").failed(&s, &gateway.url))?
        .into_inner();
    let request = pb::GetCapacityForecastRequest {
        extra_ep_days_per_week: args.extra_ep_days.unwrap_or(0.0),
        leaving_professional_id: args.leaving.unwrap_or(0),
        sessions_to_statutory_per_term: args.sessions_to_statutory.unwrap_or(0),
        suggestions: 0,
    };
    let capacity = gateway
        .caseloads()
        .get_capacity_forecast(request)
        .await
        .map_err(|s| Call::to("see the capacity forecast").failed(&s, &gateway.url))?
        .into_inner();
    if args.json {
        let both = format!(
            "{{\"breaches\": {}, \"capacity\": {}}}",
            json::text(&json::to_json(&breaches, "sen.v1.BreachForecast")?),
            json::text(&json::to_json(&capacity, "sen.v1.CapacityForecast")?)
        );
        return print(&format!("{both}\n"));
    }
    print(&render(&breaches, &capacity))
}

fn percent(p: f64) -> String {
    format!("{:.0}%", p * 100.0)
}

/// The two answers as a report.
pub fn render(b: &pb::BreachForecast, c: &pb::CapacityForecast) -> String {
    let mut out = format!(
        "Breach forecast as of {} (computed {}), learnt from {} EHC needs assessment requests\n",
        dates::cell(b.as_of.as_ref()),
        b.computed_at,
        b.requests_learnt
    );
    let likely: Vec<&pb::RequestForecast> = b.requests.iter().filter(|r| r.breach_probability >= 0.5).collect();
    out.push_str(&format!(
        "\nLikely to breach: {} of {} open requests ({:.1} breaches expected)\n",
        likely.len(),
        b.requests.len(),
        b.expected_breaches
    ));
    for r in likely {
        let allocated = if r.allocated_to.is_empty() { "not allocated" } else { r.allocated_to.as_str() };
        out.push_str(&format!(
            "  request {:<8} {:>4}  final plan due {}  ({allocated})\n",
            r.referral_id,
            percent(r.breach_probability),
            dates::cell(r.final_plan_due.as_ref())
        ));
        for reason in &r.reasons {
            out.push_str(&format!("      - {reason}\n"));
        }
    }
    out.push_str(&format!("\nExpected breaches a month (what-if: {})\n", c.what_if_summary));
    out.push_str(&format!("  {:<12} {:>8} {:>8}\n", "month", "today", "what-if"));
    for (today, what_if) in c.today.iter().zip(&c.what_if) {
        let month = dates::cell(today.month.as_ref());
        out.push_str(&format!(
            "  {:<12} {:>8.1} {:>8.1}\n",
            month.get(..7).unwrap_or(&month),
            today.total,
            what_if.total
        ));
    }
    out.push_str("\nSuggested moves of unstarted statutory work (accept with ReassignCase, or on /forecast)\n");
    if c.suggestions.is_empty() {
        out.push_str("  none would lower the expected breaches\n");
    }
    for s in &c.suggestions {
        out.push_str(&format!(
            "  case {} (request {}): {} -> {} (professional {}), {:.2} fewer breaches expected\n",
            s.case_id, s.referral_id, s.from_name, s.to_name, s.to_professional_id, s.lowers_by
        ));
    }
    out.push_str("\nThe model\n");
    for line in &b.model {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// Every EHC needs assessment request the caller may see.
async fn ehc_requests(gateway: &Gateway) -> Result<Vec<pb::Referral>, Failure> {
    let mut referrals = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = pb::ListReferralsRequest {
            page: Some(pb::PageRequest { page_size: 500, page_token }),
            kind: "ehc_needs_assessment".into(),
            sort: "id".into(),
            ..Default::default()
        };
        let page = gateway
            .referrals()
            .list_referrals(request)
            .await
            .map_err(|s| Call::to("list the EHC needs assessment requests").failed(&s, &gateway.url))?
            .into_inner();
        referrals.extend(page.referrals);
        if page.next_page_token.is_empty() {
            return Ok(referrals);
        }
        page_token = page.next_page_token;
    }
}

/// An advice request as the forecast reads it (`None` for a kind or date it cannot read).
fn advice_record(a: &pb::AdviceRequest) -> Option<AdviceRecord> {
    let day = |d: Option<&pb::Date>| d.and_then(|d| sen_platform::dates::from_proto(d).ok());
    Some(AdviceRecord {
        kind: AdviceKind::parse(&a.kind).ok()?,
        professional_id: i32::try_from(a.professional_id).ok().filter(|id| *id > 0),
        asked_on: day(a.asked_on.as_ref())?,
        received_on: day(a.received_on.as_ref()),
        load_when_asked: None,
    })
}

/// The authority's history as the forecast reads it.
async fn history(gateway: &Gateway) -> Result<Vec<RequestRecord>, Failure> {
    let referrals = ehc_requests(gateway).await?;
    let advice = gateway
        .caseloads()
        .list_advice_requests(pb::ListAdviceRequestsRequest::default())
        .await
        .map_err(|s| Call::to("list the advice asked for").failed(&s, &gateway.url))?
        .into_inner()
        .advice;
    let mut asked: HashMap<i64, Vec<AdviceRecord>> = HashMap::new();
    for (referral_id, record) in advice.iter().filter_map(|a| Some((a.referral_id, advice_record(a)?))) {
        asked.entry(referral_id).or_default().push(record);
    }
    Ok(referrals
        .iter()
        .filter_map(|referral| {
            let asked = asked.remove(&referral.id).unwrap_or_default();
            sen_caseloads::api::forecast::record(referral, asked, None)
        })
        .collect())
}

async fn run_backtest(args: &BacktestArgs, today: NaiveDate) -> Result<(), Failure> {
    let to = args.to.unwrap_or(today - TimeDelta::weeks(20));
    let from = args.from.unwrap_or(to - TimeDelta::days(365));
    if from > to || to > today {
        return Err(Failure::new(
            Exit::Usage,
            format!("--from ({from}) must not be after --to ({to}), nor --to after today"),
        ));
    }
    let gateway = Gateway::connect(&args.connection).await?;
    let history = history(&gateway).await?;
    let (requests, step) = (history.len(), args.step_days);
    let runs = Runs { simulations: args.simulations, ..Runs::default() };
    // Seconds of arithmetic: off the runtime's only thread.
    let report = tokio::task::spawn_blocking(move || backtest(&history, today, (from, to, step), runs))
        .await
        .map_err(|e| Failure::new(Exit::Unexpected, format!("the backtest stopped: {e}")))?;
    print(&render_backtest(&report, requests, (from, to, step)))
}

/// The backtest's scores as a table.
pub fn render_backtest(r: &Report, requests: usize, (from, to, step): (NaiveDate, NaiveDate, i64)) -> String {
    let mut out = format!(
        "Backtest of the breach forecast: {requests} EHC needs assessment requests, replayed every {step} days from \
         {from} to {to} ({} days)\n",
        r.days
    );
    out.push_str(&format!("Forecasts scored: {} ({} breached)\n", r.forecasts, percent(r.breach_rate)));
    out.push_str(&format!(
        "Brier score: model {:.3}, naive baseline (last 12 months' breach rate) {:.3}\n",
        r.brier, r.baseline_brier
    ));
    out.push_str("\nCalibration\n");
    out.push_str(&format!("  {:<10} {:>9} {:>10} {:>9}\n", "forecast", "requests", "predicted", "observed"));
    for d in &r.deciles {
        let band = format!("{:.0}-{:.0}%", d.from * 100.0, d.from * 100.0 + 10.0);
        out.push_str(&format!("  {band:<10} {:>9} {:>10} {:>9}\n", d.count, percent(d.predicted), percent(d.observed)));
    }
    out
}
