//! Keys, scopes and the principal a request acts as.

use std::fmt;

use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::values::{GarageId, Reason, ValueError};

/// What a key may do; each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read garages and vehicles.
    Read,
    /// Also create, change, delete, import.
    Write,
    /// Also manage keys and read metrics.
    Admin,
}

impl Scope {
    pub const ALL: [Self; 3] = [Self::Read, Self::Write, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    /// # Errors
    /// When `raw` is not `read`, `write` or `admin`.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| ValueError::new(Reason::InvalidChoice, "must be read, write or admin"))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored key's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(i64);

impl KeyId {
    /// # Errors
    /// When `raw` is zero or negative.
    pub fn parse(raw: i64) -> Result<Self, ValueError> {
        if raw >= 1 {
            Ok(Self(raw))
        } else {
            Err(ValueError::new(
                Reason::OutOfRange {
                    min: 1,
                    max: i64::MAX,
                },
                "must be a positive integer",
            ))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A key's name: who or what holds it ("dashboard", "Alice").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub const MAX_CHARS: usize = 100;

    /// # Errors
    /// When blank, longer than 100 characters, or holding control characters.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ValueError::new(Reason::Required, "must not be blank"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::new(
                Reason::TooLong {
                    max: Self::MAX_CHARS as i64,
                },
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ValueError::new(
                Reason::InvalidFormat,
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The SHA-256 of a secret: what is stored and looked up. A key's secret
/// has 256 random bits, so a plain hash is enough to make the stored value
/// useless to whoever reads the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Equal in constant time.
    pub fn matches(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(..)")
    }
}

/// `prefix` and 32 random bytes in URL-safe base64: a secret worth no
/// more than its hash once stored.
///
/// # Panics
/// When the operating system has no randomness to give, which no
/// supported platform does.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!("{prefix}{encoded}")
}

/// Has the shape `random_secret(prefix)` gives: only such are looked up in
/// a store, so junk costs no query.
pub fn is_secret(prefix: &str, secret: &str) -> bool {
    secret.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A new key's secret: shown to its holder once, never stored.
pub struct KeySecret(String);

impl KeySecret {
    /// Every secret starts with this, so a leaked one is easy to recognise
    /// (and for secret scanners to find).
    pub const PREFIX: &'static str = "gar_";
    /// Characters of a secret kept to tell keys apart in lists.
    const SHOWN_CHARS: usize = 8;

    /// `gar_` and 32 random bytes in URL-safe base64.
    ///
    /// # Panics
    /// When the operating system has no randomness to give, which no
    /// supported platform does.
    pub fn generate() -> Self {
        Self(random_secret(Self::PREFIX))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Has the shape of a generated secret: only such are looked up in the
    /// store, so junk costs no query.
    pub fn looks_like(secret: &str) -> bool {
        is_secret(Self::PREFIX, secret)
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.0)
    }

    /// The start of the secret, safe to list: `gar_` and a few characters.
    pub fn prefix(&self) -> String {
        self.0
            .chars()
            .take(Self::PREFIX.len() + Self::SHOWN_CHARS)
            .collect()
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySecret(..)")
    }
}

/// A stored key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: KeyId,
    pub name: String,
    /// The secret's first characters, to recognise it.
    pub prefix: String,
    pub scope: Scope,
    /// The garages it is limited to; `None` for all.
    pub garages: Option<Vec<GarageId>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: KeyName,
    pub prefix: String,
    pub hash: KeyHash,
    pub scope: Scope,
    pub garages: Option<Vec<GarageId>>,
    pub created_at: DateTime<Utc>,
}

/// The garages a caller may see and change, with their vehicles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Reach {
    #[default]
    Everything,
    /// These garages only; others do not exist for the caller.
    Garages(Vec<GarageId>),
}

impl Reach {
    pub fn allows(&self, garage: GarageId) -> bool {
        match self {
            Self::Everything => true,
            Self::Garages(ids) => ids.contains(&garage),
        }
    }

    /// The garages, when limited.
    pub fn garages(&self) -> Option<Vec<GarageId>> {
        match self {
            Self::Everything => None,
            Self::Garages(ids) => Some(ids.clone()),
        }
    }
}

/// Who a request acts as, and what it may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The stored key; `None` for a configured key or nobody.
    pub key_id: Option<KeyId>,
    pub name: String,
    pub scope: Option<Scope>,
    /// The garages it is limited to; `None` for all.
    pub garages: Option<Vec<GarageId>>,
}

impl Principal {
    /// A caller without a key, allowed `scope` (none when every route needs a key).
    pub fn anonymous(scope: Option<Scope>) -> Self {
        Self {
            key_id: None,
            name: "anonymous".into(),
            scope,
            garages: None,
        }
    }

    pub fn of_key(key: &ApiKey) -> Self {
        Self {
            key_id: Some(key.id),
            name: key.name.clone(),
            scope: Some(key.scope),
            garages: key.garages.clone(),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.name == "anonymous" && self.key_id.is_none()
    }

    /// Holds `needed` or a wider scope.
    pub fn may(&self, needed: Scope) -> bool {
        self.scope.is_some_and(|s| s >= needed)
    }

    pub fn reach(&self) -> Reach {
        self.garages
            .clone()
            .map_or(Reach::Everything, Reach::Garages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_include_the_ones_below() {
        let write = Principal {
            key_id: None,
            name: "w".into(),
            scope: Some(Scope::Write),
            garages: None,
        };
        assert!(write.may(Scope::Read) && write.may(Scope::Write));
        assert!(!write.may(Scope::Admin));
        assert!(!Principal::anonymous(None).may(Scope::Read));
        assert_eq!(Scope::parse("admin"), Ok(Scope::Admin));
        assert!(Scope::parse("Admin").is_err() && Scope::parse("").is_err());
    }

    #[test]
    fn a_limited_principal_reaches_its_garages_only() {
        let p = Principal {
            key_id: None,
            name: "depot".into(),
            scope: Some(Scope::Read),
            garages: Some(vec![GarageId::parse(3).unwrap()]),
        };
        assert!(p.reach().allows(GarageId::parse(3).unwrap()));
        assert!(!p.reach().allows(GarageId::parse(4).unwrap()));
        assert!(Principal::anonymous(Some(Scope::Read))
            .reach()
            .allows(GarageId::parse(4).unwrap()));
    }

    #[test]
    fn secrets_are_long_random_and_recognisable() {
        let (a, b) = (KeySecret::generate(), KeySecret::generate());
        assert!(a.expose().starts_with("gar_"));
        assert_eq!(a.expose().len(), 4 + 43, "32 bytes in unpadded base64");
        assert_ne!(a.expose(), b.expose());
        assert!(!a.hash().matches(&b.hash()));
        assert!(a.hash().matches(&KeyHash::of(a.expose())));
        assert_eq!(a.prefix().len(), 12);
        assert!(a.expose().starts_with(&a.prefix()));
        assert!(!format!("{a:?}{:?}", a.hash()).contains(&a.expose()[4..]));
        assert!(KeySecret::looks_like(a.expose()));
        for junk in ["gar_", "gar_short", "x", &format!("gar_{}", "é".repeat(22))] {
            assert!(!KeySecret::looks_like(junk), "{junk}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(KeyName::parse("  Alice ").unwrap().as_str(), "Alice");
        assert!(KeyName::parse("   ").is_err());
        assert!(KeyName::parse(&"x".repeat(101)).is_err());
        assert!(KeyName::parse("a\nb").is_err());
    }
}
