//! Professionals and their link schools.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sen_platform::identity::TenantScope;
use sen_platform::ids::Urn;

use super::{Store, on_unique};
use crate::domain::{Capacity, ProfessionalRole};
use crate::entity::{professional, school_link};
use crate::error::{Error, Result};

/// A professional's details, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NewProfessional {
    /// Person id their tokens carry.
    pub person: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: ProfessionalRole,
    /// FTE.
    pub fte: f64,
    /// Capacity.
    pub capacity: Capacity,
    /// Taking work.
    pub active: bool,
}

/// A professional's capacity as stored.
pub fn capacity_of(p: &professional::Model) -> Capacity {
    Capacity::new(&p.capacity_kind, u32::try_from(p.capacity).unwrap_or(0)).unwrap_or(Capacity::OpenCases(1))
}

fn columns(model: &mut professional::ActiveModel, p: &NewProfessional) {
    model.person = Set(p.person.clone());
    model.name = Set(p.name.clone());
    model.role = Set(p.role.code());
    model.fte = Set(p.fte);
    model.capacity_kind = Set(p.capacity.kind().to_owned());
    model.capacity = Set(i32::try_from(p.capacity.amount()).unwrap_or(i32::MAX));
    model.active = Set(p.active);
}

impl Store {
    /// Adds a professional to the tenant's services.
    pub async fn create_professional(&self, tenant: &TenantScope, p: &NewProfessional) -> Result<professional::Model> {
        let now = Utc::now();
        let mut model = professional::ActiveModel {
            la_code: Set(tenant.key()),
            open_cases: Set(0),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        columns(&mut model, p);
        let person = p.person.clone();
        model.insert(&self.db).await.map_err(|e| {
            on_unique(e, || Error::AlreadyExists(format!("person {person} is already a professional here")))
        })
    }

    /// Replaces a professional's details if unchanged since `expected_version`.
    pub async fn update_professional(
        &self,
        tenant: &TenantScope,
        id: i64,
        expected_version: i64,
        p: &NewProfessional,
    ) -> Result<professional::Model> {
        let stored = self.professional(tenant, id).await?;
        let mut model = <professional::ActiveModel as Default>::default();
        columns(&mut model, p);
        model.updated_at = Set(Utc::now());
        let result = professional::Entity::update_many()
            .set(model)
            .col_expr(professional::Column::Version, Expr::col(professional::Column::Version).add(1))
            .filter(professional::Column::Id.eq(stored.id))
            .filter(professional::Column::Version.eq(expected_version))
            .exec(&self.db)
            .await
            .map_err(|e| on_unique(e, || Error::AlreadyExists("that person is already a professional here".into())))?;
        if result.rows_affected == 0 {
            return Err(Error::Aborted(format!(
                "professional {id} was changed by someone else (now version {}, you sent {expected_version}); reload and try again",
                stored.version
            )));
        }
        self.professional(tenant, id).await
    }

    /// One professional of the tenant.
    pub async fn professional(&self, tenant: &TenantScope, id: i64) -> Result<professional::Model> {
        let row_id = i32::try_from(id).map_err(|_| Error::NotFound(format!("professional {id}")))?;
        professional::Entity::find_by_id(row_id)
            .filter(professional::Column::LaCode.eq(tenant.key()))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("professional {id}")))
    }

    /// The professional a person is, if any.
    pub async fn professional_of(&self, tenant: &TenantScope, person: &str) -> Result<Option<professional::Model>> {
        Ok(professional::Entity::find()
            .filter(professional::Column::LaCode.eq(tenant.key()))
            .filter(professional::Column::Person.eq(person))
            .one(&self.db)
            .await?)
    }

    /// The tenant's professionals with their link schools, by name.
    pub async fn professionals(
        &self,
        tenant: &TenantScope,
        include_inactive: bool,
    ) -> Result<Vec<(professional::Model, Vec<i32>)>> {
        let mut query = professional::Entity::find().filter(professional::Column::LaCode.eq(tenant.key()));
        if !include_inactive {
            query = query.filter(professional::Column::Active.eq(true));
        }
        let rows =
            query.order_by_asc(professional::Column::Name).order_by_asc(professional::Column::Id).all(&self.db).await?;
        let links =
            school_link::Entity::find().filter(school_link::Column::LaCode.eq(tenant.key())).all(&self.db).await?;
        Ok(rows
            .into_iter()
            .map(|p| {
                let urns = links.iter().filter(|l| l.professional_id == p.id).map(|l| l.urn).collect();
                (p, urns)
            })
            .collect())
    }

    /// The link schools of one professional.
    pub async fn links_of(&self, tenant: &TenantScope, professional_id: i32) -> Result<Vec<i32>> {
        Ok(school_link::Entity::find()
            .filter(school_link::Column::LaCode.eq(tenant.key()))
            .filter(school_link::Column::ProfessionalId.eq(professional_id))
            .order_by_asc(school_link::Column::Urn)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|l| l.urn)
            .collect())
    }

    /// Names the professional as a link for the school (again: no change).
    pub async fn link_school(&self, tenant: &TenantScope, id: i64, urn: Urn) -> Result<()> {
        let p = self.professional(tenant, id).await?;
        if self.links_of(tenant, p.id).await?.contains(&urn.as_i32()) {
            return Ok(());
        }
        school_link::ActiveModel {
            la_code: Set(tenant.key()),
            professional_id: Set(p.id),
            urn: Set(urn.as_i32()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| on_unique(e, || Error::Aborted("linked at the same time; reload".into())))?;
        Ok(())
    }

    /// Removes the link.
    pub async fn unlink_school(&self, tenant: &TenantScope, id: i64, urn: Urn) -> Result<()> {
        let p = self.professional(tenant, id).await?;
        let result = school_link::Entity::delete_many()
            .filter(school_link::Column::LaCode.eq(tenant.key()))
            .filter(school_link::Column::ProfessionalId.eq(p.id))
            .filter(school_link::Column::Urn.eq(urn.as_i32()))
            .exec(&self.db)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::NotFound(format!("link of professional {id} to school {urn}")));
        }
        Ok(())
    }
}

impl Store {
    /// True when no professional of any tenant is recorded.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(professional::Entity::find().one(&self.db).await?.is_none())
    }
}
