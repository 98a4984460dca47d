//! The embedded platform: every service and the gateway in one process, SQLite
//! files under the data folder, the development identity issuer, and demo data on
//! first start. The gateway takes the front port, with the web pages (the demo
//! people sign in); the services answer on a loopback port of their own, which
//! only the gateway and they themselves use.
//!
//! Each service comes from the table of services ([`sen_cli::services`]): its
//! demo data is loaded in the table's order (each service after the ones it
//! builds on), then its routes are added to the one loopback server.

use anyhow::bail;
use chrono::Utc;
use sen_cli::services::{self, SERVICES};
use sen_platform::config::{Config, Mode};
use sen_platform::demo::DemoBook;
use sen_platform::identity::DevIssuer;
use sen_platform::service::Wiring;
use tonic::service::Routes;

/// Runs until SIGTERM or Ctrl-C.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    if config.mode == Mode::Production {
        bail!("`sen` alone runs the embedded platform; in production run each part with `sen serve <part>`");
    }
    let issuer = DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?;
    let front = sen_platform::serve::bind(config).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    // In one process the services reach each other through their own loopback
    // port, unless a URL says otherwise.
    let own = format!("http://{}", listener.local_addr()?);
    let mut wirings = Vec::new();
    // One registry for the services of this process.
    let metrics = sen_platform::metrics::Metrics::default();
    for service in SERVICES {
        let mut peers = std::collections::BTreeMap::new();
        for peer in service.info().peers {
            let url = config.service_url(peer).unwrap_or(&own);
            peers.insert(*peer, sen_platform::client::channel(url, config)?);
        }
        wirings.push(Wiring {
            config,
            database_url: config.database_url_for(service.info().part),
            verifier: &issuer.verifier,
            clock: sen_platform::dates::system_clock(),
            own_signer: Some(issuer.signer.clone()),
            peers,
            metrics: metrics.clone(),
        });
    }
    let mut book = DemoBook::new(issuer.clone(), config.demo_data, Utc::now().date_naive());
    // The demo councils' data, every one of them.
    sen_platform::walls::across_tenants(async {
        for (service, wiring) in SERVICES.iter().zip(&wirings) {
            service.load_demo(wiring, &mut book).await?;
        }
        for (service, wiring) in SERVICES.iter().zip(&wirings) {
            service.finish_demo(wiring, &book).await?;
        }
        anyhow::Ok(())
    })
    .await?;
    let mut routes = Routes::default();
    for (service, wiring) in SERVICES.iter().zip(&wirings) {
        routes = service.add_routes(routes, wiring).await?;
    }

    let settings = sen_gateway::config::GatewaySettings::from_env(config)?;
    // The gateway's key, loaded once: its internal tokens and the pages' keys are made from it.
    let key = sen_gateway::signing_key::SigningKey::from_config(config, &settings)?;
    let authn = sen_gateway::authn_from_config(config, &settings, &key)?;
    let internal = tonic::transport::Endpoint::from_shared(own)?.tcp_nodelay(true).connect_lazy();
    let upstreams = services::routing()
        .into_iter()
        .map(|(service, part)| (service, part, sen_gateway::upstream::boxed(internal.clone())))
        .collect();
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let shown = match front.local_addr()? {
        a if a.ip().is_unspecified() => format!("{scheme}://127.0.0.1:{}", a.port()),
        a => format!("{scheme}://{a}"),
    };
    tracing::info!(
        "SEN platform (embedded) ready: open {shown}; data in {}; a token to try the API: \
         sen token --role la_manager --tenant 990",
        config.data_dir.display(),
    );
    println!("SEN oversight platform: {shown}");
    let options = sen_platform::serve::ServeOptions {
        tls: None,
        shutdown_grace: config.shutdown_grace,
        admin: None,
        metrics: metrics.clone(),
    };
    let names: Vec<&str> = SERVICES.iter().map(|service| service.info().grpc_name).collect();
    // The services stop only once the gateway has drained: a call still in flight
    // there may need another service (an allocation opens the pupil's access and
    // marks the referral), and in one process there is no other replica to ask.
    let (gateway_stopped, services_stop) = tokio::sync::oneshot::channel::<()>();
    let services = sen_platform::serve::serve(listener, routes, &names, options, async move {
        let _ = services_stop.await;
    });
    let gateway = std::sync::Arc::new(sen_gateway::Gateway::new(authn, upstreams, &settings));
    // The sign-in page lists each authority's people together, as each service named them.
    let mut people = book.people;
    people.sort_by_key(|person| person.grant.tenant);
    let pages = sen_web::demo_pages(config, gateway.upstreams(), &key, people).await?;
    let gateway = async move {
        let stopped = sen_gateway::run(front, config, gateway, Some(pages)).await;
        let _ = gateway_stopped.send(());
        stopped
    };
    tokio::try_join!(services, gateway)?;
    Ok(())
}
