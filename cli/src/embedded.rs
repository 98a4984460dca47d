//! The embedded platform: every service and the gateway in one process, SQLite
//! files under the data folder, the development identity issuer, and demo data on
//! first start. The gateway takes the front port; the services answer on a
//! loopback port of their own, which only the gateway and they themselves use.

use anyhow::bail;
use chrono::Utc;
use sen_platform::config::{Config, Mode};
use sen_platform::identity::DevIssuer;
use sen_schools::{SchoolsApi, Store};

/// Every service the embedded platform serves.
const SERVICES: [&str; 4] =
    [sen_schools::SERVICE_NAME, sen_pupils::SERVICE_NAME, sen_referrals::SERVICE_NAME, sen_caseloads::SERVICE_NAME];

/// Runs until SIGTERM or Ctrl-C.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    if config.mode == Mode::Production {
        bail!("`sen` alone runs the embedded platform; in production run each part with `sen serve <part>`");
    }
    let issuer = DevIssuer::load_or_create(&config.data_dir).map_err(anyhow::Error::msg)?;
    let store = Store::connect(&config.database_url_for(sen_schools::PART), &config.pool).await?;
    if config.demo_data && sen_schools::demo::seed_if_empty(&store, &issuer, Utc::now().date_naive()).await? {
        tracing::info!("loaded demo data: authorities 990 (Northmoor) and 991 (Eastwold)");
    }
    let pupils = sen_pupils::Store::connect(&config.database_url_for(sen_pupils::PART), &config.pool).await?;
    if config.demo_data
        && sen_pupils::demo::seed_if_empty(&pupils, &issuer, &demo_schools(), Utc::now().date_naive()).await?
    {
        tracing::info!("loaded the demo register: pupils of every demo school");
    }
    let referrals = sen_referrals::Store::connect(&config.database_url_for(sen_referrals::PART), &config.pool).await?;
    if config.demo_data && referrals.is_empty().await? {
        demo_referrals(&pupils, &referrals, &issuer).await?;
        tracing::info!("loaded the demo referrals: every kind and state over the last 18 months");
    }
    let caseloads = sen_caseloads::Store::connect(&config.database_url_for(sen_caseloads::PART), &config.pool).await?;
    if config.demo_data && caseloads.is_empty().await? {
        demo_caseloads(&caseloads, &referrals, &pupils, &issuer).await?;
        tracing::info!("loaded the demo caseloads: teams, link schools, cases, activity and this term's model");
    }
    let front = sen_platform::serve::bind(config).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    // In one process the services reach each other through their own loopback port.
    let address = listener.local_addr()?;
    let schools_url = config.schools_url.clone().unwrap_or_else(|| format!("http://{address}"));
    let schools = sen_pupils::schools::Schools::new(sen_platform::client::channel(&schools_url, config)?);
    let pupils_url = config.pupils_url.clone().unwrap_or_else(|| format!("http://{address}"));
    let pupils_client = sen_referrals::pupils::Pupils::new(sen_platform::client::channel(&pupils_url, config)?);
    let routes = tonic::service::Routes::new(sen_schools::service(SchoolsApi::new(store), &issuer.verifier))
        .add_service(sen_pupils::service(sen_pupils::PupilsApi::new(pupils, schools), &issuer.verifier))
        .add_service(sen_referrals::service(
            sen_referrals::ReferralsApi::new(referrals, pupils_client),
            &issuer.verifier,
        ))
        .add_service(sen_caseloads::service(
            sen_caseloads::CaseloadsApi::new(caseloads, peers(config, address, &issuer)?),
            &issuer.verifier,
        ));
    let settings = sen_gateway::config::GatewaySettings::from_env(config)?;
    let authn = sen_gateway::authn_from_config(config, &settings)?;
    let internal = tonic::transport::Endpoint::from_shared(format!("http://{address}"))?.connect_lazy();
    let upstreams = sen_gateway::SERVICES
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
    let options = sen_platform::serve::ServeOptions { tls: None, shutdown_grace: config.shutdown_grace, admin: None };
    let services =
        sen_platform::serve::serve(listener, routes, &SERVICES, options, sen_platform::serve::shutdown_signal());
    let login = sen_gateway::web::signin::Login::Demo(demo_people()?);
    let gateway = sen_gateway::run(front, config, &settings, authn, upstreams, Some(login));
    tokio::try_join!(services, gateway)?;
    Ok(())
}

/// The caseloads service's channels to the others: the front port in one process,
/// unless URLs are configured.
fn peers(
    config: &Config,
    address: std::net::SocketAddr,
    issuer: &DevIssuer,
) -> anyhow::Result<sen_caseloads::peers::Peers> {
    let own = format!("http://{address}");
    let channel = |url: &Option<String>| sen_platform::client::channel(url.as_deref().unwrap_or(&own), config);
    Ok(sen_caseloads::peers::Peers {
        schools: channel(&config.schools_url)?,
        pupils: channel(&config.pupils_url)?,
        referrals: channel(&config.referrals_url)?,
        identity: sen_platform::identity::ServiceIdentity::new(issuer.signer.clone(), sen_caseloads::PART),
    })
}

/// A service-role scope of a demo authority, for loading its demo data.
fn demo_scope(issuer: &DevIssuer, tenant: &str) -> anyhow::Result<sen_platform::identity::TenantScope> {
    let la = sen_platform::ids::LaCode::parse(tenant).map_err(anyhow::Error::msg)?;
    let grant = sen_platform::identity::Grant {
        person: "demo-loader".into(),
        role: sen_platform::identity::Role::Service,
        tenant: Some(la),
        school: None,
    };
    let token = issuer.signer.mint(&grant, std::time::Duration::from_secs(60)).map_err(anyhow::Error::msg)?;
    Ok(issuer.verifier.verify(&token)?.tenant_scope()?)
}

/// Demo caseloads behind the demo referrals that were allocated, with the access
/// grants their professionals need.
async fn demo_caseloads(
    caseloads: &sen_caseloads::Store,
    referrals: &sen_referrals::Store,
    pupils: &sen_pupils::Store,
    issuer: &DevIssuer,
) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    for (tenant, _) in sen_schools::demo::AUTHORITIES {
        let scope = demo_scope(issuer, tenant)?;
        let schools: Vec<i32> = sen_schools::demo::SCHOOLS
            .iter()
            .filter(|row| row.0 == tenant && row.9 == 1)
            .filter_map(|row| i32::try_from(row.1).ok())
            .collect();
        let allocated: Vec<sen_caseloads::demo::AllocatedReferral> = referrals
            .allocated_referrals(&scope)
            .await?
            .into_iter()
            .filter_map(|r| {
                let open = matches!(r.status.as_str(), "allocated" | "in_progress");
                Some((i64::from(r.id), r.pupil_id, r.school_urn, r.kind, r.submitted_on, r.allocated_to?, open))
            })
            .collect();
        let grants = sen_caseloads::demo::seed(caseloads, &scope, &schools, &allocated, today).await?;
        let actor = sen_pupils::store::Actor {
            person: sen_caseloads::PART.into(),
            role: sen_platform::identity::Role::Service,
            trace_id: None,
        };
        for (pupil, person, case_ref) in grants {
            pupils.grant_case_access(&scope, &actor, pupil, &person, &case_ref).await?;
        }
    }
    Ok(())
}

/// Demo referrals for the pupils of each demo authority.
async fn demo_referrals(
    pupils: &sen_pupils::Store,
    referrals: &sen_referrals::Store,
    issuer: &DevIssuer,
) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    for (tenant, _) in sen_schools::demo::AUTHORITIES {
        let la = sen_platform::ids::LaCode::parse(tenant).map_err(anyhow::Error::msg)?;
        let grant = sen_platform::identity::Grant {
            person: "demo-loader".into(),
            role: sen_platform::identity::Role::Service,
            tenant: Some(la),
            school: None,
        };
        let token = issuer.signer.mint(&grant, std::time::Duration::from_secs(60)).map_err(anyhow::Error::msg)?;
        let scope = issuer.verifier.verify(&token)?.tenant_scope()?;
        let index = pupils.register_index(&scope).await?;
        sen_referrals::demo::seed(referrals, issuer, tenant, &index, today).await?;
    }
    Ok(())
}

/// The demo schools, as the pupils demo needs them.
fn demo_schools() -> Vec<sen_pupils::demo::DemoSchool> {
    use sen_pupils::demo::{DemoSchool, SchoolKind};
    sen_schools::demo::SCHOOLS
        .iter()
        .filter(|row| row.9 == 1)
        .map(|&(tenant, urn, estab, name, type_code, phase_code, ages, roll, _, _)| DemoSchool {
            tenant,
            urn,
            establishment_number: estab.parse().unwrap_or(0),
            name,
            kind: match type_code {
                7 | 8 | 10 | 12 | 32 | 33 | 36 | 44 => SchoolKind::Special,
                14 | 38 | 42 | 43 => SchoolKind::AlternativeProvision,
                _ => SchoolKind::Mainstream,
            },
            phase_code,
            ages: ages.map(|(low, high)| (low as u8, high as u8)),
            roll: roll.unwrap_or(0),
        })
        .collect()
}

/// The demo people the sign-in page offers, for each demo authority: its SEN
/// manager and case officer, the SENCOs of its first schools, and its EPs and
/// advisory teachers (whose person ids the demo caseloads use).
fn demo_people() -> anyhow::Result<Vec<sen_gateway::web::signin::DemoPerson>> {
    use sen_gateway::web::signin::DemoPerson;
    use sen_platform::identity::{Grant, Role};
    let mut people = Vec::new();
    for (tenant, name) in sen_schools::demo::AUTHORITIES {
        let la = sen_platform::ids::LaCode::parse(tenant).map_err(anyhow::Error::msg)?;
        let person = |id: &str, role: Role, school: Option<sen_platform::ids::Urn>, description: String| DemoPerson {
            grant: Grant { person: format!("{id}-{tenant}"), role, tenant: Some(la), school },
            description,
        };
        people.push(person("manager", Role::LaManager, None, format!("the SEN manager of {name}")));
        people.push(person("officer", Role::CaseOfficer, None, format!("a SEN case officer of {name}")));
        for row in sen_schools::demo::SCHOOLS.iter().filter(|row| row.0 == tenant && row.9 == 1).take(3) {
            let urn = sen_platform::ids::Urn::parse(&row.1.to_string()).map_err(anyhow::Error::msg)?;
            people.push(person(&format!("senco-{}", row.1), Role::Senco, Some(urn), format!("the SENCO of {}", row.3)));
        }
        for (id, professional) in sen_caseloads::demo::people() {
            let role = if id.starts_with("ep-") { Role::EducationalPsychologist } else { Role::AdvisoryTeacher };
            people.push(DemoPerson {
                grant: Grant { person: id.to_owned(), role, tenant: Some(la), school: None },
                description: professional.to_owned(),
            });
        }
    }
    Ok(people)
}
