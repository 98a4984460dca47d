//! The session store on both engines: a fresh SQLite file and a fresh
//! PostgreSQL database per test.

use sen_platform::config::PoolConfig;
use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::on_both_engines;
use sen_platform::testing::{Engine, TestDatabase};

use super::*;

const NOW: i64 = 1_796_000_000;

async fn store(engine: Engine) -> (SessionStore, TestDatabase) {
    let db = TestDatabase::create(engine).await.expect("a database");
    let store = SessionStore::connect(&db.url, &PoolConfig::default()).await.expect("the store opens");
    (store, db)
}

fn grant(person: &str, tenant: &str) -> Grant {
    Grant { person: person.into(), role: Role::CaseOfficer, tenant: LaCode::parse(tenant).ok(), school: None }
}

async fn begin(store: &SessionStore, grant: &Grant, key_id: &str) -> String {
    let id = digest(&new_id().expect("an id"));
    let session = NewSession { id_digest: &id, grant, key_id, created_at: NOW, expires_at: NOW + 9 * 3600 };
    store.begin(session).await.expect("recorded");
    id
}

async fn live(store: &SessionStore, id: &str, now: i64) -> bool {
    store.find(id).await.expect("a lookup").is_some_and(|s| s.is_live(now))
}

async fn a_session_reads_back_and_ends_once(engine: Engine) {
    let (store, _db) = store(engine).await;
    let senco = Grant {
        person: "senco-1".into(),
        role: Role::Senco,
        tenant: LaCode::parse("886").ok(),
        school: Urn::parse("100001").ok(),
    };
    let id = begin(&store, &senco, "key-a").await;
    let found = store.find(&id).await.unwrap().expect("found");
    assert_eq!(found.grant, senco);
    assert_eq!((found.key_id.as_str(), found.checked_at, found.ended_at), ("key-a", NOW, None));
    assert!(found.is_live(NOW + 1));
    assert!(!found.is_live(NOW + 9 * 3600), "expired at its end");
    assert!(store.confirmed(&id, NOW + 60).await.unwrap());
    assert_eq!(store.find(&id).await.unwrap().unwrap().checked_at, NOW + 60);

    assert!(store.end(&id, NOW + 120, EndReason::SignedOut).await.unwrap());
    assert!(!store.end(&id, NOW + 130, EndReason::SignedOut).await.unwrap(), "ended once");
    assert!(!live(&store, &id, NOW + 121).await);
    assert!(!store.confirmed(&id, NOW + 140).await.unwrap(), "an ended session is not revived by a re-check");
    assert_eq!(store.find("no-such-digest").await.unwrap(), None);
}

async fn a_persons_sessions_end_in_their_authority_only(engine: Engine) {
    let (store, _db) = store(engine).await;
    let laptop = begin(&store, &grant("p-1", "886"), "k").await;
    let phone = begin(&store, &grant("p-1", "886"), "k").await;
    let elsewhere = begin(&store, &grant("p-1", "887"), "k").await;
    let colleague = begin(&store, &grant("p-2", "886"), "k").await;
    let ended = store.end_person("p-1", LaCode::parse("886").ok(), NOW + 5, EndReason::Operator).await.unwrap();
    assert_eq!(ended, 2);
    assert!(!live(&store, &laptop, NOW + 6).await && !live(&store, &phone, NOW + 6).await);
    assert!(live(&store, &elsewhere, NOW + 6).await, "the same id in another authority is another person");
    assert!(live(&store, &colleague, NOW + 6).await);
    assert_eq!(store.end_person("p-1", None, NOW + 7, EndReason::RoleChanged).await.unwrap(), 1);
    assert!(!live(&store, &elsewhere, NOW + 8).await);
}

async fn sessions_of_a_removed_key_end_and_old_rows_are_forgotten(engine: Engine) {
    let (store, _db) = store(engine).await;
    let old = begin(&store, &grant("p-1", "886"), "old").await;
    let new = begin(&store, &grant("p-2", "886"), "new").await;
    assert_eq!(store.end_signed_by_other_keys(&["new".into(), "old".into()], NOW + 1).await.unwrap(), 0);
    assert_eq!(store.end_signed_by_other_keys(&["new".into()], NOW + 1).await.unwrap(), 1);
    assert!(!live(&store, &old, NOW + 2).await);
    assert!(live(&store, &new, NOW + 2).await);
    assert_eq!(store.forget_expired(NOW + 9 * 3600 + 1).await.unwrap(), 2);
    assert_eq!(store.find(&new).await.unwrap(), None);
}

on_both_engines!(
    a_session_reads_back_and_ends_once,
    a_persons_sessions_end_in_their_authority_only,
    sessions_of_a_removed_key_end_and_old_rows_are_forgotten,
);

#[tokio::test]
async fn a_removed_key_ends_its_sessions_when_the_store_is_opened() {
    let dir = sen_platform::testing::private_tempdir().expect("a folder");
    let config = Config::from_lookup(&|_| None).expect("the embedded defaults");
    let settings = SessionSettings {
        database_url: Some(sen_platform::config::sqlite_url(&dir.path().join("gateway.db"))),
        previous_keys: Vec::new(),
        recheck: std::time::Duration::from_secs(3600),
    };
    let pem = |_: ()| {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap().to_string()
    };
    let old = SessionKey::from_pem(pem(()).as_bytes()).unwrap();
    let new = SessionKey::from_pem(pem(()).as_bytes()).unwrap();
    let rotated = SessionKeySet::new(new.clone(), vec![old.clone()]);
    let store = open(&config, &settings, &rotated, NOW).await.expect("opened");
    let id = begin(&store, &grant("p-1", "886"), old.id()).await;
    let store = open(&config, &settings, &rotated, NOW + 1).await.expect("opened again");
    assert!(live(&store, &id, NOW + 2).await, "a previous key keeps its sessions");
    let store = open(&config, &settings, &SessionKeySet::new(new, Vec::new()), NOW + 3).await.expect("opened");
    assert!(!live(&store, &id, NOW + 4).await, "a removed key's sessions end");
}
