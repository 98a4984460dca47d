//! Who the platform's data knows, for `sen token`: a token for someone the
//! platform has no record of is accepted and then sees nothing (an educational
//! psychologist with no professional record has no caseload; a SENCO of a
//! school that is not there has no register), which looks like a fault. So
//! before minting, the authority, a SENCO's school and an EP's or advisory
//! teacher's record are looked up in the data the platform keeps: the SQLite
//! files in the data folder (`SEN_DATA_DIR`, `./data` by default), or the
//! database of `SEN_DATABASE_URL`. The council team's roles are not records
//! (the identity provider says who they are), so any person id does for them.
//!
//! The files are opened read-only and nothing is migrated: a data folder with
//! no platform data yet (the platform has not started there) cannot be checked,
//! which is said, and the token is minted all the same.

use std::path::Path;

use anyhow::bail;
use sea_orm::{ColumnTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use sen_caseloads::domain::ProfessionalRole;
use sen_platform::identity::{Grant, Role};

/// What was found about the grant's person.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    /// The platform's data has them.
    Yes,
    /// There is no platform data to look in; why, for a note.
    Unchecked(String),
}

/// Where the platform keeps `part`'s data: `SEN_DATABASE_URL`, or the part's
/// SQLite file in `data_dir` opened read-only (`None` when there is none).
fn database_of(part: &str, data_dir: &Path) -> Option<String> {
    if let Ok(url) = std::env::var("SEN_DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Some(url);
    }
    let file = data_dir.join(format!("{part}.db"));
    file.exists().then(|| format!("sqlite://{}?mode=ro", file.display()))
}

async fn open(url: &str) -> Option<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options).await.ok()
}

/// Whether the platform whose data is in `data_dir` knows the grant's person;
/// an error naming the flag and who it does know when it does not.
pub async fn check(grant: &Grant, data_dir: &Path) -> anyhow::Result<Known> {
    let Some(tenant) = grant.tenant else { return Ok(Known::Yes) };
    let la = tenant.to_string();
    let place = format!(
        "the platform whose data is in {} (set SEN_DATA_DIR to the data folder of the platform the token is for)",
        data_dir.display()
    );
    let no_data = || Known::Unchecked(format!("no platform data to check the person against in {place}"));
    let Some(schools_url) = database_of(sen_schools::PART, data_dir) else { return Ok(no_data()) };
    let Some(schools) = open(&schools_url).await else { return Ok(no_data()) };
    let Ok(authorities) = sen_schools::entity::authority::Entity::find().all(&schools).await else {
        return Ok(no_data());
    };
    if !authorities.iter().any(|a| a.la_code == la) {
        let known: Vec<String> = authorities.iter().map(|a| format!("{} ({})", a.la_code, a.name)).collect();
        bail!("--tenant: no authority {la} in {place}; it has {}", list_or_none(&known));
    }
    match grant.role {
        Role::Senco => {
            let Some(urn) = grant.school else { return Ok(Known::Yes) };
            let found = sen_schools::entity::school::Entity::find()
                .filter(sen_schools::entity::school::Column::LaCode.eq(la.clone()))
                .filter(sen_schools::entity::school::Column::Urn.eq(urn.as_i32()))
                .one(&schools)
                .await;
            match found {
                Ok(Some(_)) => Ok(Known::Yes),
                Ok(None) => bail!("--school: no school with URN {urn} in authority {la} in {place}"),
                Err(_) => Ok(no_data()),
            }
        }
        Role::EducationalPsychologist | Role::AdvisoryTeacher => {
            let Some(caseloads_url) = database_of(sen_caseloads::PART, data_dir) else { return Ok(no_data()) };
            let Some(caseloads) = open(&caseloads_url).await else { return Ok(no_data()) };
            use sen_caseloads::entity::professional::{Column, Entity};
            let Ok(team) =
                Entity::find().filter(Column::LaCode.eq(la.clone())).order_by_asc(Column::Person).all(&caseloads).await
            else {
                return Ok(no_data());
            };
            // No team at all: nothing to tell by (a database whose rows this connection may not see, say).
            if team.is_empty() {
                return Ok(no_data());
            }
            let of_role: Vec<_> = team.iter().filter(|p| role_of(&p.role) == Some(grant.role)).collect();
            if of_role.iter().any(|p| p.person == grant.person) {
                return Ok(Known::Yes);
            }
            let known: Vec<String> = of_role.iter().map(|p| format!("{} ({})", p.person, p.name)).collect();
            let role = grant.role.to_string().replace('_', " ");
            bail!(
                "--person: no {role} '{}' in authority {la} in {place}; pass --person with one of: {}",
                grant.person,
                list_or_none(&known)
            )
        }
        _ => Ok(Known::Yes),
    }
}

/// The platform role of a professional's stored role code.
fn role_of(code: &str) -> Option<Role> {
    match ProfessionalRole::parse(code).ok()? {
        ProfessionalRole::EducationalPsychologist(_) => Some(Role::EducationalPsychologist),
        ProfessionalRole::AdvisoryTeacher(_) => Some(Role::AdvisoryTeacher),
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "none".to_owned() } else { items.join(", ") }
}
