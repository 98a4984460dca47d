//! The authority's schools as the web pages list them (their names in every
//! table and school filter), kept in the gateway for a short while so a page
//! does not ask the schools service for every school of the authority on every
//! view.
//!
//! An entry is the schools service's own answer to `ListSchools` for one scope
//! of caller: the role, the authority and (a SENCO's) school of the grant. Two
//! people share an entry only when the service would answer them the same; a
//! caller whose grant differs in any of the three is answered by the service and
//! gets an entry of their own. An entry lives [`LIFETIME`]; every call the
//! gateway passes to the schools service other than a read (`Get…`, `List…`),
//! such as a GIAS import, a school's details changed or a SENCO appointed,
//! forgets every entry, before and again after the service answers (a list
//! read while the change was being made is not kept). A change made past this
//! gateway (another replica, or the service called directly) shows within
//! [`LIFETIME`]. At most [`MOST_ENTRIES`] entries are kept.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_proto::v1 as pb;

/// How long an authority's schools are kept before they are asked for again.
pub const LIFETIME: Duration = Duration::from_secs(60);

/// The most scopes kept at once (expired entries go first, then all).
pub const MOST_ENTRIES: usize = 1_024;

/// The schools service's name, whose calls other than reads forget the entries.
pub const SCHOOLS_SERVICE: &str = "sen.v1.SchoolsService";

/// Whose answer an entry is: the scope the schools service lists for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    role: Role,
    tenant: Option<LaCode>,
    school: Option<Urn>,
}

impl Key {
    fn of(grant: &Grant) -> Self {
        Self { role: grant.role, tenant: grant.tenant, school: grant.school }
    }
}

#[derive(Debug)]
struct Entry {
    read_at: Instant,
    schools: Arc<Vec<pb::School>>,
}

#[derive(Debug, Default)]
struct Kept {
    /// Counts the changes seen: a list read before a change is not kept after it.
    generation: u64,
    entries: HashMap<Key, Entry>,
}

/// The schools kept per caller scope.
#[derive(Debug)]
pub struct SchoolsCache {
    lifetime: Duration,
    kept: Mutex<Kept>,
}

impl Default for SchoolsCache {
    fn default() -> Self {
        Self::new(LIFETIME)
    }
}

impl SchoolsCache {
    /// A cache whose entries live `lifetime`.
    pub fn new(lifetime: Duration) -> Self {
        Self { lifetime, kept: Mutex::new(Kept::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        // A panic while holding the lock leaves at worst a missing entry.
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The schools `grant` may list: kept ones while fresh, otherwise `fill`'s
    /// answer (kept unless a change was made meanwhile; an error is not kept).
    pub async fn schools<F, Fut, E>(&self, grant: &Grant, fill: F) -> Result<Arc<Vec<pb::School>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<pb::School>, E>>,
    {
        let key = Key::of(grant);
        let generation = {
            let kept = self.lock();
            if let Some(entry) = kept.entries.get(&key).filter(|e| e.read_at.elapsed() < self.lifetime) {
                return Ok(entry.schools.clone());
            }
            kept.generation
        };
        let read_at = Instant::now();
        let schools = Arc::new(fill().await?);
        let mut kept = self.lock();
        if kept.generation == generation {
            if kept.entries.len() >= MOST_ENTRIES && !kept.entries.contains_key(&key) {
                let lifetime = self.lifetime;
                kept.entries.retain(|_, e| e.read_at.elapsed() < lifetime);
                if kept.entries.len() >= MOST_ENTRIES {
                    kept.entries.clear();
                }
            }
            kept.entries.insert(key, Entry { read_at, schools: schools.clone() });
        }
        Ok(schools)
    }

    /// Forgets every entry (a school may have changed).
    pub fn forget(&self) {
        let mut kept = self.lock();
        kept.generation = kept.generation.wrapping_add(1);
        kept.entries.clear();
    }

    /// How many scopes are kept now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether the gRPC call to `path` (`/sen.v1.SchoolsService/Method`) only reads.
pub fn reads(path: &str) -> bool {
    let method = path.rsplit('/').next().unwrap_or("");
    method.starts_with("Get") || method.starts_with("List")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn grant(role: Role, tenant: Option<&str>, school: Option<&str>) -> Grant {
        Grant {
            person: "someone".into(),
            role,
            tenant: tenant.map(|t| LaCode::parse(t).expect("a code")),
            school: school.map(|s| Urn::parse(s).expect("a urn")),
        }
    }

    fn named(name: &str) -> Vec<pb::School> {
        vec![pb::School { name: name.into(), ..Default::default() }]
    }

    async fn read(cache: &SchoolsCache, who: &Grant, answer: &str, asked: &AtomicUsize) -> String {
        let schools = cache
            .schools(who, || async {
                asked.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(named(answer))
            })
            .await
            .expect("an answer");
        schools[0].name.clone()
    }

    #[tokio::test]
    async fn each_scope_keeps_its_own_answer_and_asks_once_while_fresh() {
        let cache = SchoolsCache::default();
        let asked = AtomicUsize::new(0);
        let kent = grant(Role::LaManager, Some("886"), None);
        let surrey = grant(Role::LaManager, Some("936"), None);
        let officer = grant(Role::CaseOfficer, Some("886"), None);
        let senco = grant(Role::Senco, Some("886"), Some("118000"));
        let other_senco = grant(Role::Senco, Some("886"), Some("118001"));
        assert_eq!(read(&cache, &kent, "Kent's", &asked).await, "Kent's");
        assert_eq!(read(&cache, &kent, "not asked", &asked).await, "Kent's");
        assert_eq!(read(&cache, &surrey, "Surrey's", &asked).await, "Surrey's");
        assert_eq!(read(&cache, &officer, "the officer's", &asked).await, "the officer's");
        assert_eq!(read(&cache, &senco, "one school", &asked).await, "one school");
        assert_eq!(read(&cache, &other_senco, "another school", &asked).await, "another school");
        assert_eq!(asked.load(Ordering::SeqCst), 5);
        assert_eq!(cache.len(), 5);
    }

    #[tokio::test]
    async fn an_expired_or_forgotten_entry_is_asked_again() {
        let cache = SchoolsCache::new(Duration::ZERO);
        let asked = AtomicUsize::new(0);
        let kent = grant(Role::LaManager, Some("886"), None);
        read(&cache, &kent, "first", &asked).await;
        assert_eq!(read(&cache, &kent, "renamed", &asked).await, "renamed");
        let cache = SchoolsCache::default();
        read(&cache, &kent, "first", &asked).await;
        cache.forget();
        assert_eq!(read(&cache, &kent, "renamed", &asked).await, "renamed");
    }

    #[tokio::test]
    async fn a_list_read_while_a_school_changed_is_not_kept() {
        let cache = SchoolsCache::default();
        let kent = grant(Role::LaManager, Some("886"), None);
        let before = cache
            .schools(&kent, || async {
                cache.forget();
                Ok::<_, ()>(named("before the change"))
            })
            .await
            .expect("an answer");
        assert_eq!(before[0].name, "before the change");
        assert!(cache.is_empty());
        let asked = AtomicUsize::new(0);
        assert_eq!(read(&cache, &kent, "after the change", &asked).await, "after the change");
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept() {
        let cache = SchoolsCache::default();
        let kent = grant(Role::LaManager, Some("886"), None);
        let failed = cache.schools(&kent, || async { Err::<Vec<pb::School>, _>("unavailable") }).await;
        assert!(failed.is_err());
        assert!(cache.is_empty());
    }

    #[test]
    fn only_gets_and_lists_are_reads() {
        assert!(reads("/sen.v1.SchoolsService/ListSchools"));
        assert!(reads("/sen.v1.SchoolsService/GetSchool"));
        for write in ["UpdateSchool", "ImportSchools", "CreateSchool", "AppointSenco", "EndSencoAppointment"] {
            assert!(!reads(&format!("/sen.v1.SchoolsService/{write}")), "{write}");
        }
    }
}
