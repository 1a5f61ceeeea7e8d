//! Turning a secret into a principal, and the key lifecycle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use super::models::{ApiKey, KeyHash, KeyId, KeyName, KeySecret, NewApiKey, Principal, Scope};
use super::ports::KeyRepository;
use crate::clock::Clock;
use crate::error::Error;
use crate::events::Origin;
use crate::garages::GarageRepository;
use crate::values::GarageId;

/// The shortest key accepted from the configuration.
pub const BOOTSTRAP_MIN_CHARS: usize = 16;
/// The longest secret looked up; anything longer is not a key.
const MAX_SECRET_CHARS: usize = 256;
/// How long a stored key's lookup is reused: a revoked key fails on every
/// instance within this time.
const CACHE_FOR: TimeDelta = TimeDelta::milliseconds(1000);
/// `last_used_at` is written at most this often per key and instance.
const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);
/// Past this many cached lookups, the cache starts again empty.
const MAX_CACHED: usize = 10_000;

/// When the store was asked whether the server is open, when it last
/// answered, and what.
#[derive(Clone, Copy)]
struct Openness {
    asked: DateTime<Utc>,
    answered: DateTime<Utc>,
    open: bool,
}

/// While the store does not answer, its last "open" stands this long (the
/// writes it would allow fail anyway while the database is down).
const OPEN_STANDS_FOR: TimeDelta = TimeDelta::seconds(30);

#[derive(Default)]
struct Memory {
    lookups: HashMap<KeyHash, (DateTime<Utc>, ApiKey)>,
    touched: HashMap<KeyId, DateTime<Utc>>,
    /// What the store last said of openness.
    open: Option<Openness>,
}

/// Who a secret belongs to, and the keys' lifecycle.
#[derive(Clone)]
pub struct AccessService {
    keys: Arc<dyn KeyRepository>,
    garages: Arc<dyn GarageRepository>,
    clock: Arc<dyn Clock>,
    bootstrap: Arc<[KeyHash]>,
    /// Reads need a key: only then can a key be limited to garages (an
    /// anonymous reader would see them all).
    protected_reads: bool,
    memory: Arc<Mutex<Memory>>,
}

impl std::fmt::Debug for AccessService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessService")
            .field("bootstrap_keys", &self.bootstrap.len())
            .finish_non_exhaustive()
    }
}

/// A secret worth looking up: visible ASCII of a plausible length.
fn plausible(secret: &str) -> bool {
    (1..=MAX_SECRET_CHARS).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_graphic())
}

impl AccessService {
    /// `bootstrap` are the configured keys, each an admin over everything.
    pub fn new(
        keys: Arc<dyn KeyRepository>,
        garages: Arc<dyn GarageRepository>,
        clock: Arc<dyn Clock>,
        bootstrap: &[String],
    ) -> Self {
        Self {
            keys,
            garages,
            clock,
            bootstrap: bootstrap.iter().map(|k| KeyHash::of(k)).collect(),
            protected_reads: false,
            memory: Arc::default(),
        }
    }

    /// Reads need a key on this server (`auth.protect_reads`).
    #[must_use]
    pub fn with_protected_reads(mut self, protected: bool) -> Self {
        self.protected_reads = protected;
        self
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Open means no key was ever created, configured or stored: then
    /// anyone may write. Closing is for good (revoking every key leaves the
    /// server closed), so only an open answer is asked again, at most once
    /// a second. While the store does not answer, an open answer stands for
    /// 30 seconds, then the server is taken as closed.
    ///
    /// # Errors
    /// The store's errors, when it has no answer to fall back on.
    pub async fn is_open(&self) -> Result<bool, Error> {
        if !self.bootstrap.is_empty() {
            return Ok(false);
        }
        let now = self.clock.now();
        let last = self.memory().open;
        if let Some(last) = last {
            if !last.open || now - last.asked < CACHE_FOR {
                return Ok(last.open);
            }
        }
        match self.keys.any_created().await {
            Ok(any) => {
                self.memory().open = Some(Openness {
                    asked: now,
                    answered: now,
                    open: !any,
                });
                Ok(!any)
            }
            Err(err) => match last {
                Some(last) if now - last.answered < OPEN_STANDS_FOR => {
                    self.memory().open = Some(Openness { asked: now, ..last });
                    Ok(last.open)
                }
                _ => Err(err),
            },
        }
    }

    /// The principal a secret stands for, or `None` when it is no key's.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, Error> {
        if !plausible(secret) {
            return Ok(None);
        }
        let hash = KeyHash::of(secret);
        // Every configured key is compared, so timing tells nothing of which.
        let configured = self
            .bootstrap
            .iter()
            .enumerate()
            .fold(
                None,
                |found, (i, k)| {
                    if k.matches(&hash) {
                        Some(i)
                    } else {
                        found
                    }
                },
            );
        if let Some(i) = configured {
            return Ok(Some(Principal {
                key_id: None,
                name: format!("configured key #{}", i + 1),
                scope: Some(Scope::Admin),
                garages: None,
            }));
        }
        if !KeySecret::looks_like(secret) {
            return Ok(None);
        }
        let now = self.clock.now();
        let cached = self
            .memory()
            .lookups
            .get(&hash)
            .filter(|(at, _)| now - *at < CACHE_FOR)
            .map(|(_, key)| key.clone());
        let key = match cached {
            Some(key) => key,
            None => {
                let Some(key) = self.keys.find_active(hash).await? else {
                    self.memory().lookups.remove(&hash);
                    return Ok(None);
                };
                let mut memory = self.memory();
                if memory.lookups.len() >= MAX_CACHED {
                    memory.lookups.clear();
                }
                memory.lookups.insert(hash, (now, key.clone()));
                key
            }
        };
        self.touch(key.id, now).await;
        Ok(Some(Principal::of_key(&key)))
    }

    /// Records a use at most once a minute per key: a lost write only makes
    /// `last_used_at` a minute older.
    async fn touch(&self, id: KeyId, now: DateTime<Utc>) {
        {
            let mut memory = self.memory();
            if memory
                .touched
                .get(&id)
                .is_some_and(|at| now - *at < TOUCH_EVERY)
            {
                return;
            }
            if memory.touched.len() >= MAX_CACHED {
                memory.touched.clear();
            }
            memory.touched.insert(id, now);
        }
        if let Err(err) = self.keys.touch(id, now).await {
            tracing::warn!(key_id = %id, error = %err, "could not record a key's use");
        }
    }

    /// Creates a key; its secret is in the answer and nowhere else.
    ///
    /// # Errors
    /// `Error::KeyRefused` for an admin key limited to garages (it could give
    /// itself a key to everything) or a limited key on a server whose reads
    /// are open (it would read everything without its key);
    /// `Error::UnknownGarage` when a listed garage does not exist; and the
    /// store's errors.
    pub async fn create(
        &self,
        name: KeyName,
        scope: Scope,
        garages: Option<Vec<GarageId>>,
        origin: Origin,
    ) -> Result<(ApiKey, KeySecret), Error> {
        if garages.is_some() && scope == Scope::Admin {
            return Err(Error::KeyRefused(
                "an admin key cannot be limited to garages: it could create a key to all of them",
            ));
        }
        if garages.is_some() && !self.protected_reads {
            return Err(Error::KeyRefused(
                "a key limited to garages needs auth.protect_reads: without it, anyone reads every garage without a key",
            ));
        }
        let garages = match garages {
            Some(mut ids) => {
                ids.sort_unstable();
                ids.dedup();
                for id in &ids {
                    if self.garages.get(*id).await?.is_none() {
                        return Err(Error::UnknownGarage(*id));
                    }
                }
                Some(ids)
            }
            None => None,
        };
        let secret = KeySecret::generate();
        let key = self
            .keys
            .create(
                NewApiKey {
                    name,
                    prefix: secret.prefix(),
                    hash: secret.hash(),
                    scope,
                    garages,
                    created_at: self.clock.now(),
                },
                origin,
            )
            .await?;
        let now = self.clock.now();
        self.memory().open = Some(Openness {
            asked: now,
            answered: now,
            open: false,
        });
        tracing::info!(key_id = %key.id, name = %key.name, scope = %key.scope, "API key created");
        Ok((key, secret))
    }

    /// # Errors
    /// The store's errors.
    pub async fn list(&self) -> Result<Vec<ApiKey>, Error> {
        self.keys.list().await
    }

    /// Revokes a key: it fails everywhere within a second.
    ///
    /// # Errors
    /// `Error::KeyNotFound`, and the store's errors.
    pub async fn revoke(&self, id: KeyId, origin: Origin) -> Result<ApiKey, Error> {
        let key = self.keys.revoke(id, self.clock.now(), origin).await?;
        let mut memory = self.memory();
        memory.lookups.retain(|_, (_, k)| k.id != id);
        tracing::info!(key_id = %id, "API key revoked");
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::access::MockKeyRepository;
    use crate::clock::MockClock;
    use crate::garages::MockGarageRepository;

    const CONFIGURED: &str = "configured-key-0123456789";

    fn at(millis: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + millis).unwrap()
    }

    /// A clock a test moves: each `now()` answers the next of `times`.
    fn clock(times: &[i64]) -> Arc<MockClock> {
        let mut clock = MockClock::new();
        let mut seq = mockall::Sequence::new();
        for t in times {
            let t = *t;
            clock
                .expect_now()
                .times(1)
                .in_sequence(&mut seq)
                .returning(move || at(t));
        }
        Arc::new(clock)
    }

    fn stored(id: i64, scope: Scope) -> ApiKey {
        ApiKey {
            id: KeyId::parse(id).unwrap(),
            name: format!("key {id}"),
            prefix: "gar_abcdefgh".into(),
            scope,
            garages: None,
            created_at: at(0),
            last_used_at: None,
            revoked_at: None,
        }
    }

    fn service(
        keys: MockKeyRepository,
        clock: Arc<MockClock>,
        bootstrap: &[&str],
    ) -> AccessService {
        let bootstrap: Vec<String> = bootstrap.iter().map(|k| (*k).to_owned()).collect();
        AccessService::new(
            Arc::new(keys),
            Arc::new(MockGarageRepository::new()),
            clock,
            &bootstrap,
        )
    }

    #[tokio::test]
    async fn a_configured_key_is_an_admin_without_a_lookup() {
        let access = service(MockKeyRepository::new(), clock(&[]), &[CONFIGURED]);
        let principal = access.authenticate(CONFIGURED).await.unwrap().unwrap();
        assert_eq!(principal.scope, Some(Scope::Admin));
        assert_eq!(principal.garages, None);
        assert!(!access.is_open().await.unwrap());
    }

    #[tokio::test]
    async fn implausible_secrets_are_refused_without_a_lookup() {
        let access = service(MockKeyRepository::new(), clock(&[]), &[CONFIGURED]);
        for junk in [
            "",
            "clé-non-ascii",
            "with space",
            &"x".repeat(300),
            "gar_tooshort",
            "configured-key-012345678",
        ] {
            assert_eq!(access.authenticate(junk).await.unwrap(), None, "{junk}");
        }
    }

    #[tokio::test]
    async fn a_stored_key_is_cached_for_a_second_and_touched_once_a_minute() {
        let secret = KeySecret::generate();
        let mut keys = MockKeyRepository::new();
        // Looked up at 0 s, from the cache at 0.5 s, looked up again at 2 s
        // and at 61 s; touched at 0 s and 61 s only.
        keys.expect_find_active()
            .with(eq(secret.hash()))
            .times(3)
            .returning(|_| Ok(Some(stored(7, Scope::Write))));
        for when in [0, 61_000] {
            keys.expect_touch()
                .withf(move |id, t| id.get() == 7 && *t == at(when))
                .times(1)
                .returning(|_, _| Ok(()));
        }
        let access = service(keys, clock(&[0, 500, 2_000, 61_000]), &[]);
        for _ in 0..4 {
            let p = access.authenticate(secret.expose()).await.unwrap().unwrap();
            assert_eq!(
                (p.key_id.map(KeyId::get), p.scope),
                (Some(7), Some(Scope::Write))
            );
        }
    }

    #[tokio::test]
    async fn a_revoked_key_fails_at_once_on_the_instance_that_revoked_it() {
        let secret = KeySecret::generate();
        let mut keys = MockKeyRepository::new();
        let mut seq = mockall::Sequence::new();
        keys.expect_find_active()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(Some(stored(3, Scope::Read))));
        keys.expect_touch().returning(|_, _| Ok(()));
        keys.expect_revoke()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|id, when, _| {
                Ok(ApiKey {
                    revoked_at: Some(when),
                    ..stored(id.get(), Scope::Read)
                })
            });
        keys.expect_find_active()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(None));
        let access = service(keys, clock(&[0, 0, 0]), &[]);
        assert!(access
            .authenticate(secret.expose())
            .await
            .unwrap()
            .is_some());
        access
            .revoke(KeyId::parse(3).unwrap(), Origin::anonymous())
            .await
            .unwrap();
        assert_eq!(access.authenticate(secret.expose()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn open_until_a_key_is_created_then_closed_for_good() {
        let mut keys = MockKeyRepository::new();
        let mut seq = mockall::Sequence::new();
        keys.expect_any_created()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|| Ok(false));
        keys.expect_any_created()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|| Ok(true));
        // Asked at 0 s, the answer reused at 0.5 s, asked again at 2 s;
        // closed, it is never asked again.
        let access = service(keys, clock(&[0, 500, 2_000, 60_000]), &[]);
        assert!(access.is_open().await.unwrap());
        assert!(access.is_open().await.unwrap());
        assert!(!access.is_open().await.unwrap());
        assert!(!access.is_open().await.unwrap());
    }

    #[tokio::test]
    async fn while_the_store_is_down_an_open_answer_stands_thirty_seconds() {
        let mut keys = MockKeyRepository::new();
        let mut seq = mockall::Sequence::new();
        keys.expect_any_created()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|| Err(Error::Unavailable(anyhow::anyhow!("down"))));
        keys.expect_any_created()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|| Ok(false));
        keys.expect_any_created()
            .times(2)
            .in_sequence(&mut seq)
            .returning(|| Err(Error::Unavailable(anyhow::anyhow!("down"))));
        let access = service(keys, clock(&[0, 2_000, 4_000, 4_500, 40_000]), &[]);
        assert!(access.is_open().await.is_err(), "never known: no answer");
        assert!(access.is_open().await.unwrap());
        assert!(
            access.is_open().await.unwrap(),
            "down: the last answer stands"
        );
        assert!(
            access.is_open().await.unwrap(),
            "and is not asked again at once"
        );
        assert!(
            access.is_open().await.is_err(),
            "30 s later it no longer stands"
        );
    }

    #[tokio::test]
    async fn a_key_for_unknown_garages_is_refused_and_not_stored() {
        let mut garages = MockGarageRepository::new();
        garages.expect_get().returning(|_| Ok(None));
        let access = AccessService::new(
            Arc::new(MockKeyRepository::new()),
            Arc::new(garages),
            clock(&[]),
            &[],
        )
        .with_protected_reads(true);
        let refused = access
            .create(
                KeyName::parse("depot").unwrap(),
                Scope::Read,
                Some(vec![GarageId::parse(9).unwrap()]),
                Origin::anonymous(),
            )
            .await;
        assert!(
            matches!(refused, Err(Error::UnknownGarage(id)) if id == GarageId::parse(9).unwrap())
        );
    }

    #[tokio::test]
    async fn limited_keys_are_refused_where_the_limit_would_not_hold() {
        let depot = Some(vec![GarageId::parse(3).unwrap()]);
        let open_reads = service(MockKeyRepository::new(), clock(&[]), &[]);
        let refused = open_reads
            .create(
                KeyName::parse("depot").unwrap(),
                Scope::Read,
                depot.clone(),
                Origin::anonymous(),
            )
            .await;
        assert!(matches!(refused, Err(Error::KeyRefused(m)) if m.contains("protect_reads")));
        let protected =
            service(MockKeyRepository::new(), clock(&[]), &[]).with_protected_reads(true);
        let refused = protected
            .create(
                KeyName::parse("boss").unwrap(),
                Scope::Admin,
                depot,
                Origin::anonymous(),
            )
            .await;
        assert!(matches!(refused, Err(Error::KeyRefused(m)) if m.contains("admin")));
    }

    #[tokio::test]
    async fn a_created_key_stores_only_the_hash_of_the_secret_it_returns() {
        let mut keys = MockKeyRepository::new();
        let stored_hash = Arc::new(Mutex::new(None));
        let seen = stored_hash.clone();
        keys.expect_create().times(1).returning(move |new, _| {
            *seen.lock().unwrap() = Some((new.hash, new.prefix.clone()));
            Ok(ApiKey {
                prefix: new.prefix,
                ..stored(1, new.scope)
            })
        });
        let access = service(keys, clock(&[5_000, 5_000]), &[]);
        let (key, secret) = access
            .create(
                KeyName::parse("ci").unwrap(),
                Scope::Write,
                None,
                Origin::anonymous(),
            )
            .await
            .unwrap();
        let (hash, prefix) = stored_hash.lock().unwrap().take().unwrap();
        assert!(hash.matches(&KeyHash::of(secret.expose())));
        assert!(secret.expose().starts_with(&prefix) && key.prefix == prefix);
    }
}
