//! `sen pupils import FILE [--dry-run]`: a school's Common Transfer File (the
//! DfE CTF, XML, as the school's management information system exports it)
//! into the register, through the gateway's `ImportCtf`. The bytes sent show
//! as a progress bar on a terminal (standard error; nothing when it is not
//! one), then the report: pupils created, updated (or moved), unchanged, and
//! each pupil refused with its line, element and reason. A file with a pupil
//! refused is written not at all, and the command exits 6.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sen_proto::v1 as pb;
use tokio_stream::StreamExt;

use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Exit, Failure};
use super::{json, plural, print};

/// The largest file the service takes.
const MOST_BYTES: u64 = 64 * 1024 * 1024;
/// Pieces sent.
const CHUNK: usize = 1024 * 1024;

/// `sen pupils`.
#[derive(Subcommand, Debug)]
pub enum PupilsCommand {
    /// Import a school's Common Transfer File (CTF 17 to 24, XML): pupils by UPN created, updated or left alone,
    /// with their SEN provision, needs and history. A SENCO imports their own school's file; the council's team
    /// any school's of the authority.
    #[command(after_help = super::EXIT_CODES)]
    Import(ImportArgs),
}

/// `sen pupils import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The CTF file (XML), at most 64 MiB.
    file: PathBuf,
    /// Report what would change and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON (the JSON API's shape) instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a `sen pupils` command.
pub async fn run(command: &PupilsCommand) -> Result<(), Failure> {
    match command {
        PupilsCommand::Import(args) => import(args).await,
    }
}

async fn import(args: &ImportArgs) -> Result<(), Failure> {
    let name = args.file.display().to_string();
    let cannot_read = |e: std::io::Error| Failure::new(Exit::Usage, format!("cannot read {name}: {e}"));
    let size = tokio::fs::metadata(&args.file).await.map_err(cannot_read)?.len();
    if size > MOST_BYTES {
        return Err(Failure::new(
            Exit::Rejected,
            format!("{name} is {} MiB; an import takes at most {} MiB", size >> 20, MOST_BYTES >> 20),
        ));
    }
    let content = tokio::fs::read(&args.file).await.map_err(cannot_read)?;
    let gateway = Gateway::connect(&args.connection).await?;
    let bar = progress(content.len() as u64);
    let dry_run = args.dry_run;
    let pieces: Vec<pb::ImportCtfRequest> = if content.is_empty() {
        vec![pb::ImportCtfRequest { chunk: Vec::new(), dry_run }]
    } else {
        content.chunks(CHUNK).map(|piece| pb::ImportCtfRequest { chunk: piece.to_vec(), dry_run }).collect()
    };
    let counted = bar.clone();
    let stream = tokio_stream::iter(pieces).map(move |piece| {
        counted.inc(piece.chunk.len() as u64);
        piece
    });
    let answer = gateway.pupils().import_ctf(stream).await;
    bar.finish_and_clear();
    let report =
        answer.map_err(|s| Call::to("import the file").about(name.clone()).failed(&s, &gateway.url))?.into_inner();
    if args.json {
        print(&json::text(&json::to_json(&report, "sen.v1.ImportCtfResponse")?))?;
    } else {
        print(&summary(&report))?;
    }
    if report.refused.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            Exit::Rejected,
            format!("{} refused: nothing of the file was written", plural(report.refused.len(), "pupil", "pupils")),
        ))
    }
}

/// The bytes sent, drawn on standard error when it is a terminal.
fn progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} sent") {
        bar.set_style(style);
    }
    bar
}

/// The report, for a person.
pub fn summary(report: &pb::ImportCtfResponse) -> String {
    let outcome = if report.dry_run {
        "dry run, nothing written"
    } else if report.written {
        "imported"
    } else {
        "nothing written"
    };
    let mut out = format!(
        "School {} (CTF {}): {outcome}\n  created {}, updated {}, unchanged {}, refused {}\n",
        report.school_urn,
        report.ctf_version,
        report.created,
        report.updated,
        report.unchanged,
        report.refused.len()
    );
    for change in &report.changes {
        let what = if change.what.is_empty() { String::new() } else { format!(" ({})", change.what.join(", ")) };
        let kind = match pb::CtfChangeKind::try_from(change.kind) {
            Ok(pb::CtfChangeKind::Created) => "created".to_owned(),
            Ok(pb::CtfChangeKind::Moved) => format!("moved from {}", change.moved_from_urn),
            _ => "updated".to_owned(),
        };
        out.push_str(&format!("  line {}  {}  {kind}{what}\n", change.line, change.upn));
    }
    for refused in &report.refused {
        out.push_str(&format!("  line {}  {}  refused: {}\n", refused.line, refused.upn, refused.reason));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_each_change_and_each_refusal_by_line() {
        let report = pb::ImportCtfResponse {
            school_urn: "100001".into(),
            ctf_version: "24.0".into(),
            created: 1,
            updated: 1,
            refused: vec![pb::RefusedCtfRecord {
                line: 97,
                element: "Pupil/DOB".into(),
                upn: "A990200198004".into(),
                reason: "Pupil/DOB: '30/01/2018' is not a date (YYYY-MM-DD)".into(),
            }],
            changes: vec![pb::CtfChange {
                line: 30,
                upn: "H990200198001".into(),
                kind: pb::CtfChangeKind::Moved as i32,
                moved_from_urn: "100002".into(),
                what: vec!["preferred name".into()],
            }],
            dry_run: true,
            ..Default::default()
        };
        let text = summary(&report);
        assert!(text.starts_with("School 100001 (CTF 24.0): dry run, nothing written\n"), "{text}");
        assert!(text.contains("created 1, updated 1, unchanged 0, refused 1"), "{text}");
        assert!(text.contains("line 30  H990200198001  moved from 100002 (preferred name)"), "{text}");
        assert!(text.contains("line 97  A990200198004  refused: Pupil/DOB:"), "{text}");
    }
}
