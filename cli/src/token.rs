//! `sen token`: a development identity token, signed by the embedded mode's
//! issuer key in the data folder (`SEN_DATA_DIR`), for calling the platform as
//! any role; the person it speaks for is first looked up in the platform's data
//! (`crate::people`).

use std::time::Duration;

use anyhow::bail;
use clap::Args;
use std::path::Path;

use sen_platform::config::DEFAULT_DATA_DIR;
use sen_platform::identity::{DevIssuer, Grant, Role};
use sen_platform::ids::{LaCode, Urn};

/// Who a development token or session speaks for.
#[derive(Args)]
pub struct GrantArgs {
    /// la_manager, case_officer, senco, educational_psychologist, advisory_teacher or platform_operator.
    #[arg(long)]
    role: String,
    /// The authority's three-digit LA code (every role but platform_operator).
    #[arg(long)]
    tenant: Option<String>,
    /// The school's URN (senco only).
    #[arg(long)]
    school: Option<String>,
    /// The person's id; defaults to one made from the role. An educational psychologist's or
    /// advisory teacher's must be on the authority's team in the platform's data (the data
    /// folder, SEN_DATA_DIR, ./data by default); `sen token` says who is when it is not.
    #[arg(long)]
    person: Option<String>,
}

impl GrantArgs {
    /// The grant the flags describe, each bad flag named.
    pub fn grant(&self) -> anyhow::Result<Grant> {
        let role = Role::parse(&self.role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
        let tenant =
            self.tenant.as_deref().map(LaCode::parse).transpose().map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
        let school =
            self.school.as_deref().map(Urn::parse).transpose().map_err(|e| anyhow::anyhow!("--school: {e}"))?;
        let person = self.person.clone().unwrap_or_else(|| format!("dev-{role}"));
        let grant = Grant { person, role, tenant, school };
        grant.validate().map_err(anyhow::Error::msg)?;
        Ok(grant)
    }
}

/// Who the token speaks for, and for how long.
#[derive(Args)]
pub struct TokenArgs {
    #[command(flatten)]
    who: GrantArgs,
    /// Lifetime in minutes (at most 1440).
    #[arg(long, default_value_t = 60)]
    minutes: u64,
}

/// Prints the token on standard output.
pub fn run(args: &TokenArgs) -> anyhow::Result<()> {
    if std::env::var("SEN_MODE").is_ok_and(|mode| mode.trim() == "production") {
        bail!(
            "development tokens are refused in production mode; identities come from the authority's identity provider"
        );
    }
    let grant = args.who.grant()?;
    let data_dir = std::env::var("SEN_DATA_DIR").unwrap_or_else(|_| DEFAULT_DATA_DIR.into());
    // A token for someone the platform has no record of would be accepted and then see nothing.
    let known = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(crate::people::check(&grant, Path::new(&data_dir)))?;
    if let crate::people::Known::Unchecked(why) = known {
        eprintln!("note: {why}");
    }
    let issuer = DevIssuer::load_or_create(Path::new(&data_dir)).map_err(anyhow::Error::msg)?;
    let token = issuer
        .signer
        .mint(&grant, Duration::from_secs(args.minutes.saturating_mul(60)))
        .map_err(|e| anyhow::anyhow!("--minutes: {e}"))?;
    println!("{token}");
    Ok(())
}
