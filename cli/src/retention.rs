//! `sen retention run [--dry-run] [--tenant LA]` runs one retention pass now,
//! as the caseloads service runs them every `SEN_RETENTION_INTERVAL_HOURS`:
//! every pupil past their authority's retention period is erased in every
//! service. `--dry-run` lists who would be and writes nothing. It prints, per
//! authority, how many pupils were (or would be) erased and their pupil ids;
//! never a name, which the pass never sees.
//!
//! It runs with the caseloads service's configuration: in production its
//! `SEN_*` variables as the caseloads pod has them (its database, the pupils and
//! referrals services' URLs, its service signing key and TLS files); in the
//! embedded mode the data folder (`SEN_DATA_DIR`), whose pupils, referrals and
//! schools services it serves itself on a loopback port for the pass, beside a
//! running `sen` or not (the pupils service there reads `SEN_RETENTION_YEARS`
//! and `SEN_RETENTION_YEARS_BY_AUTHORITY` from this command's environment).
//! An erasure running on a replica at the same time is never taken twice.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use sen_caseloads::peers::Peers;
use sen_caseloads::retention::{Eraser, PupilRef};
use sen_cli::services::SERVICES;
use sen_platform::config::{Config, Mode};
use sen_platform::identity::{DevIssuer, ServiceIdentity};
use sen_platform::ids::LaCode;
use sen_platform::service::Wiring;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::Routes;

/// The retention pass.
#[derive(Args)]
pub struct RetentionArgs {
    #[command(subcommand)]
    command: RetentionCommand,
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Erase now every pupil past their authority's retention period, in every service.
    Run {
        /// List who would be erased, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only this authority (three-digit LA code); every authority otherwise.
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// The other services, as the pass reaches them, and what serves them when
/// this command does (the embedded mode).
struct Reached {
    peers: Peers,
    local: Option<(oneshot::Sender<()>, JoinHandle<anyhow::Result<()>>)>,
}

impl Reached {
    /// Stops the services this command served, if any.
    async fn stop(self) -> anyhow::Result<()> {
        if let Some((stop, served)) = self.local {
            let _ = stop.send(());
            served.await??;
        }
        Ok(())
    }
}

/// Runs the command with the caseloads service's configuration.
pub async fn run(args: &RetentionArgs, config: &Config) -> anyhow::Result<()> {
    let RetentionCommand::Run { dry_run, tenant } = &args.command;
    let tenant = tenant.as_deref().map(LaCode::parse).transpose().map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    let reached = reach(config).await?;
    let store = sen_caseloads::Store::connect(&config.database_url_for(sen_caseloads::PART), &config.pool).await?;
    let eraser = Eraser::new(store, reached.peers.clone())?;
    let outcome = if *dry_run {
        eraser.dry_run(tenant).await.map(|due| (due, Vec::new()))
    } else {
        eraser.pass(tenant).await.map(|report| (report.erased, report.left_pending))
    };
    reached.stop().await?;
    let (done, left) = outcome?;
    let mut out = String::new();
    if *dry_run {
        out.push_str("Dry run: nothing was written.\n");
    }
    let verb = if *dry_run { "would be erased" } else { "erased" };
    for (la, ids) in by_tenant(&done) {
        out.push_str(&format!("Authority {la}: {} {verb}: {}\n", pupils(ids.len()), list(&ids)));
    }
    for (la, ids) in by_tenant(&left) {
        out.push_str(&format!(
            "Authority {la}: {} begun and not finished (the next pass finishes them): {}\n",
            pupils(ids.len()),
            list(&ids)
        ));
    }
    if done.is_empty() && left.is_empty() {
        let scope = tenant.map(|la| format!("authority {la}")).unwrap_or_else(|| "any authority".to_owned());
        out.push_str(&format!("No pupil is past retention in {scope}.\n"));
    }
    print!("{out}");
    tracing::info!(
        dry_run,
        erased = done.len(),
        left_pending = left.len(),
        tenant = ?tenant.map(|la| la.to_string()),
        "an operator ran a retention pass"
    );
    if !left.is_empty() {
        anyhow::bail!("{} could not be erased now; see the log", pupils(left.len()));
    }
    Ok(())
}

/// The pupils and referrals services: as configured in production; served by
/// this command over the data folder in the embedded mode.
async fn reach(config: &Config) -> anyhow::Result<Reached> {
    let part = sen_caseloads::PART;
    if config.mode == Mode::Production {
        let channel = |peer: &str| {
            let url = config.service_url(peer).ok_or_else(|| {
                let variable = config.url_variable(peer).unwrap_or("the URL of that service");
                anyhow::anyhow!("{variable} is required: the retention pass calls the {peer} service")
            })?;
            sen_platform::client::channel(url, config)
        };
        let peers = Peers {
            schools: channel("schools")?,
            pupils: channel("pupils")?,
            referrals: channel("referrals")?,
            identity: ServiceIdentity::from_config(config, part)?,
        };
        return Ok(Reached { peers, local: None });
    }
    let issuer = DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let own = format!("http://{}", listener.local_addr()?);
    let metrics = sen_platform::metrics::Metrics::default();
    let mut routes = Routes::default();
    let mut names = Vec::new();
    for service in SERVICES.iter().filter(|service| service.info().part != part) {
        let mut peers = BTreeMap::new();
        for peer in service.info().peers {
            peers.insert(*peer, sen_platform::client::channel(&own, config)?);
        }
        let wiring = Wiring {
            config,
            database_url: config.database_url_for(service.info().part),
            verifier: &issuer.verifier,
            clock: sen_platform::dates::system_clock(),
            own_signer: Some(issuer.signer.clone()),
            peers,
            metrics: metrics.clone(),
        };
        routes = service.add_routes(routes, &wiring).await?;
        names.push(service.info().grpc_name);
    }
    let options =
        sen_platform::serve::ServeOptions { tls: None, shutdown_grace: config.shutdown_grace, admin: None, metrics };
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(async move {
        sen_platform::serve::serve(listener, routes, &names, options, async move {
            let _ = stopped.await;
        })
        .await
    });
    let channel = sen_platform::client::channel(&own, config)?;
    let peers = Peers {
        schools: channel.clone(),
        pupils: channel.clone(),
        referrals: channel,
        identity: ServiceIdentity::new(issuer.signer.clone(), part),
    };
    Ok(Reached { peers, local: Some((stop, served)) })
}

/// Pupil ids by authority, each list ascending.
fn by_tenant(pupils: &[PupilRef]) -> BTreeMap<&str, Vec<i64>> {
    let mut by = BTreeMap::<&str, Vec<i64>>::new();
    for (la, id) in pupils {
        by.entry(la.as_str()).or_default().push(*id);
    }
    for ids in by.values_mut() {
        ids.sort_unstable();
    }
    by
}

fn pupils(n: usize) -> String {
    if n == 1 { "1 pupil".to_owned() } else { format!("{n} pupils") }
}

fn list(ids: &[i64]) -> String {
    let ids: Vec<String> = ids.iter().map(|id| format!("pupil {id}")).collect();
    ids.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pupils_are_listed_by_authority_in_id_order() {
        let refs = vec![("991".to_owned(), 7), ("990".to_owned(), 12), ("990".to_owned(), 3)];
        let by = by_tenant(&refs);
        assert_eq!(by.get("990"), Some(&vec![3, 12]));
        assert_eq!(by.get("991"), Some(&vec![7]));
        assert_eq!(list(&by["990"]), "pupil 3, pupil 12");
        assert_eq!((pupils(1), pupils(2)), ("1 pupil".to_owned(), "2 pupils".to_owned()));
    }
}
