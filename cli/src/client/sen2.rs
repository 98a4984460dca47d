//! `sen sen2 --year 2026 > sen2.xml`: the council's SEN2 return for the DfE
//! collection. The file goes to standard output, untouched; what fails the
//! DfE's rules, and the headline figures, go to standard error for the officer
//! to read (or, with `--report`, the report alone as JSON on standard output).

use clap::Args;
use sen_proto::v1 as pb;

use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Failure};
use super::{json, print};

/// The largest return the client takes (a county's return is a few MB).
const MOST_BYTES: usize = 256 * 1024 * 1024;

/// `sen sen2`.
#[derive(Args, Debug)]
pub struct Sen2Args {
    /// The calendar year the return describes (2026 for the January 2027 census).
    #[arg(long, value_parser = clap::value_parser!(i32).range(2014..=2200))]
    year: i32,
    /// Whether the council has a Designated Medical Officer (the DfE's code: Y, N or R).
    #[arg(long, value_parser = ["Y", "N", "R"])]
    dmo: Option<String>,
    /// Whether the council has a Designated Clinical Officer (the DfE's code: Y, N or R).
    #[arg(long, value_parser = ["Y", "N", "R"])]
    dco: Option<String>,
    /// Print the validation report (failures and figures) as JSON instead of the file.
    #[arg(long)]
    report: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Fetches the return and prints the file (or the report).
pub async fn run(args: &Sen2Args) -> Result<(), Failure> {
    let gateway = Gateway::connect(&args.connection).await?;
    let request = pb::GetSen2ReturnRequest {
        year: args.year,
        report_only: args.report,
        dmo: args.dmo.clone().unwrap_or_default(),
        dco: args.dco.clone().unwrap_or_default(),
    };
    let answer = gateway
        .composed()
        .max_decoding_message_size(MOST_BYTES)
        .get_sen2_return(request)
        .await
        .map_err(|s| Call::to("make the SEN2 return").failed(&s, &gateway.url))?
        .into_inner();
    if args.report {
        return print(&json::text(&json::to_json(&answer, "sen.v1.Sen2Return")?));
    }
    eprint!("{}", summary(&answer));
    print(&answer.xml)
}

/// The figures and every failure, for standard error.
pub fn summary(r: &pb::Sen2Return) -> String {
    let f = r.figures.unwrap_or_default();
    let percent = |p: Option<f64>| p.map_or_else(|| "none issued".to_owned(), |p| format!("{p:.1}%"));
    let mut out = format!(
        "SEN2 return {} for authority {} (census day {}): {} persons, {} requests received, {} plans issued \
         ({} within 20 weeks excluding exceptions, {} including them), {} plans in force, {} ceased\n",
        r.year,
        r.tenant,
        r.reference_date.as_ref().map_or_else(String::new, |d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
        f.persons,
        f.requests_received,
        f.plans_issued_including_exceptions,
        percent(f.percent_within_20_weeks),
        percent(f.percent_within_20_weeks_including_exceptions),
        f.active_plans,
        f.plans_ceased,
    );
    if r.failures.is_empty() {
        out.push_str("No record fails the checks.\n");
        return out;
    }
    out.push_str(&format!("{} to fix before submitting:\n", super::plural(r.failures.len(), "failure", "failures")));
    for failure in &r.failures {
        out.push_str(&format!("  {}  {}  [{}] {}\n", failure.record, failure.field, failure.rule, failure.message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_lists_every_failure_with_its_record_item_and_rule() {
        let r = pb::Sen2Return {
            tenant: "886".into(),
            year: 2026,
            reference_date: Some(pb::Date { year: 2027, month: 1, day: 21 }),
            figures: Some(pb::Sen2Figures { persons: 3, plans_issued_including_exceptions: 2, ..Default::default() }),
            failures: vec![pb::Sen2Failure {
                record: "person 7".into(),
                field: "UPN".into(),
                rule: "UPN format".into(),
                message: "'X1' is not a UPN".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let text = summary(&r);
        assert!(text.starts_with("SEN2 return 2026 for authority 886 (census day 2027-01-21): 3 persons"), "{text}");
        assert!(text.contains("1 failure to fix"), "{text}");
        assert!(text.contains("  person 7  UPN  [UPN format] 'X1' is not a UPN"), "{text}");
    }
}
