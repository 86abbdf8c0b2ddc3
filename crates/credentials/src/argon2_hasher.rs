//! Argon2id as the [`SecretHasher`] port: PHC strings, the OWASP minimum parameters
//! (m = 19456 KiB, t = 2, p = 1) or stronger, a dummy hash for unknown cards, and bounds on
//! the parameters read back from storage, so a tampered hash cannot make one verification
//! allocate 4 GiB or run for minutes (docs/credentials.md, Hashing).
//!
//! Each thread keeps the Argon2 working memory (19 MiB at the default parameters) between
//! hashes and wipes it after each one, instead of allocating, zeroing and unmapping it every
//! time: the page faults of a fresh allocation cost about a quarter as much as the hash.
//! Parameters read from a stored hash that need more memory than this hasher's own get a
//! one-off allocation, wiped too.
//!
//! The computation is synchronous and CPU-bound. The `SecretHasher` impl runs it inline;
//! the server wraps this type in an adapter that moves the work to its own hashing threads behind
//! a semaphore sized to the cores (the credential crate has no async runtime).

use std::cell::RefCell;

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, PasswordHash, Version};
use async_trait::async_trait;

use crate::ports::{PortError, SecretHash, SecretHasher};
use crate::secret::Secret;

/// Bounds on the parameters of a stored hash; outside them a hash never verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Limits {
    /// Least memory (KiB) accepted.
    pub min_m_cost: u32,
    /// Most memory (KiB) accepted.
    pub max_m_cost: u32,
    /// Fewest passes accepted.
    pub min_t_cost: u32,
    /// Most passes accepted.
    pub max_t_cost: u32,
    /// Most lanes accepted.
    pub max_p_cost: u32,
}

impl Default for Argon2Limits {
    fn default() -> Self {
        Self {
            min_m_cost: Params::DEFAULT_M_COST,
            max_m_cost: 256 * 1024,
            min_t_cost: 1,
            max_t_cost: 10,
            max_p_cost: 4,
        }
    }
}

/// Argon2id hashing with bounded stored parameters.
pub struct Argon2Hasher {
    argon2: Argon2<'static>,
    dummy: String,
    limits: Argon2Limits,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("argon2", &self.argon2)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self::new(Params::DEFAULT, Argon2Limits::default())
    }
}

impl Argon2Hasher {
    /// A hasher that hashes with `params` and verifies hashes within `limits`. Computes its
    /// dummy hash (one hash's time) here.
    pub fn new(params: Params, limits: Argon2Limits) -> Self {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut salt = [0u8; 16];
        crate::ports::RandomSource::fill(&DummySalt, &mut salt);
        let dummy = argon2
            .hash_password_with_salt(b"dummy secret for unknown cards", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default();
        Self {
            argon2,
            dummy,
            limits,
        }
    }

    /// The OWASP minimum: m = 19456 KiB, t = 2, p = 1.
    pub fn owasp_minimum() -> Self {
        Self::default()
    }

    /// Hashes `secret` with a fresh random salt into a PHC string.
    pub fn hash_sync(&self, secret: &Secret) -> Result<SecretHash, PortError> {
        let salt = argon2::password_hash::generate_salt();
        self.hash_with_salt(secret.expose().as_bytes(), &salt)
            .map(|h| SecretHash(h.to_string()))
            .map_err(|e| PortError::Failed(format!("argon2 hash: {e}")))
    }

    /// The PHC string of `password` with `salt` at this hasher's parameters.
    fn hash_with_salt(
        &self,
        password: &[u8],
        salt: &[u8],
    ) -> Result<PasswordHash, argon2::password_hash::Error> {
        self.hash_with(self.argon2.params().clone(), password, salt)
    }

    /// The PHC string of `password` with `salt` and `params` (Argon2id, version 0x13).
    fn hash_with(
        &self,
        params: Params,
        password: &[u8],
        salt: &[u8],
    ) -> Result<PasswordHash, argon2::password_hash::Error> {
        let salt = Salt::new(salt)?;
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let out = buffer
            .get_mut(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
            .ok_or(argon2::password_hash::Error::OutputSize)?;
        self.compute(Version::V0x13, params.clone(), password, &salt, out)?;
        Ok(PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt),
            hash: Some(Output::new(out)?),
        })
    }

    /// Hashes `secret` with `companion`'s salt and parameters when it is an accepted
    /// Argon2id hash of version 0x13, else with a fresh salt: a temporary password stored
    /// beside the Password, checked by [`Self::verify_any_sync`] with one computation.
    pub fn hash_alongside_sync(
        &self,
        secret: &Secret,
        companion: &SecretHash,
    ) -> Result<SecretHash, PortError> {
        let Some((parsed, params)) = self.accepted(&companion.0) else {
            return self.hash_sync(secret);
        };
        let (Some(salt), Some(Version::V0x13)) = (
            &parsed.salt,
            parsed.version.and_then(|v| Version::try_from(v).ok()),
        ) else {
            return self.hash_sync(secret);
        };
        self.hash_with(params, secret.expose().as_bytes(), salt.as_ref())
            .map(|h| SecretHash(h.to_string()))
            .map_err(|e| PortError::Failed(format!("argon2 hash: {e}")))
    }

    /// Which of `hashes` `secret` matches, with exactly one Argon2 computation: the first
    /// accepted hash's salt, version and parameters; a hash with others never matches. With
    /// no accepted hash the dummy is computed and the answer is `None`.
    pub fn verify_any_sync(&self, secret: &Secret, hashes: &[SecretHash]) -> Option<usize> {
        let Some((first, parsed, params)) = hashes
            .iter()
            .enumerate()
            .find_map(|(i, h)| self.accepted(&h.0).map(|(p, params)| (i, p, params)))
        else {
            let _ = self.verify_phc(secret, &self.dummy);
            return None;
        };
        let computed = self.output(secret.expose().as_bytes(), &parsed, params.clone())?;
        hashes.iter().enumerate().skip(first).find_map(|(i, h)| {
            let (other, other_params) = self.accepted(&h.0)?;
            let same_inputs = other.salt == parsed.salt
                && other.version == parsed.version
                && other_params == params;
            (same_inputs && other.hash.as_ref() == Some(&computed)).then_some(i)
        })
    }

    /// Argon2id of `password` and `salt` into `out`, in this thread's working memory.
    fn compute(
        &self,
        version: Version,
        params: Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        let blocks = params.block_count();
        let kept = self.argon2.params().block_count();
        let argon2 = Argon2::new(Algorithm::Argon2id, version, params);
        if blocks > kept {
            let mut memory = vec![Block::new(); blocks];
            let result =
                argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..]);
            memory.fill(Block::new());
            return result;
        }
        WORKING_MEMORY.with_borrow_mut(|memory| {
            if memory.len() < blocks {
                memory.resize(blocks, Block::new());
            }
            let used = &mut memory[..blocks];
            let result = argon2.hash_password_into_with_memory(password, salt, out, &mut *used);
            // The blocks are derived from the secret: wipe them before the thread moves on.
            used.fill(Block::new());
            result
        })
    }

    pub fn verify_sync(&self, secret: &Secret, hash: Option<&SecretHash>) -> bool {
        match hash {
            Some(h) => self.verify_phc(secret, &h.0),
            None => {
                let _ = self.verify_phc(secret, &self.dummy);
                false
            }
        }
    }

    fn verify_phc(&self, secret: &Secret, phc: &str) -> bool {
        self.accepted(phc).is_some_and(|(parsed, params)| {
            self.matches(secret.expose().as_bytes(), &parsed, params)
        })
    }

    /// A stored hash this hasher verifies: Argon2id with parameters within the limits.
    fn accepted(&self, phc: &str) -> Option<(PasswordHash, Params)> {
        let parsed = PasswordHash::new(phc).ok()?;
        if parsed.algorithm != ARGON2ID_IDENT {
            return None;
        }
        let params = Params::try_from(&parsed).ok()?;
        let l = &self.limits;
        let within = (l.min_m_cost..=l.max_m_cost).contains(&params.m_cost())
            && (l.min_t_cost..=l.max_t_cost).contains(&params.t_cost())
            && params.p_cost() <= l.max_p_cost;
        within.then_some((parsed, params))
    }

    /// Whether `password` hashes to `parsed`'s output with its salt, version and `params`
    /// (read from `parsed`, output length included; compared in constant time).
    fn matches(&self, password: &[u8], parsed: &PasswordHash, params: Params) -> bool {
        let Some(expected) = &parsed.hash else {
            return false;
        };
        self.output(password, parsed, params)
            .is_some_and(|computed| &computed == expected)
    }

    /// The output of `password` with `parsed`'s salt, version and output length at
    /// `params`.
    fn output(&self, password: &[u8], parsed: &PasswordHash, params: Params) -> Option<Output> {
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return None;
        };
        let version = parsed
            .version
            .map_or(Ok(Version::V0x13), Version::try_from)
            .ok()?;
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let out = buffer.get_mut(..expected.len())?;
        self.compute(version, params, password, salt.as_ref(), out)
            .ok()?;
        Output::new(out).ok()
    }
}

thread_local! {
    /// This thread's Argon2 working memory, kept between hashes (wiped after each).
    static WORKING_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Salt for the dummy hash: any bytes do; taken from the OS when available.
struct DummySalt;

impl crate::ports::RandomSource for DummySalt {
    fn fill(&self, buf: &mut [u8]) {
        #[cfg(feature = "os-random")]
        crate::OsRandom.fill(buf);
        #[cfg(not(feature = "os-random"))]
        buf.fill(0x5a);
    }
}

#[async_trait]
impl SecretHasher for Argon2Hasher {
    async fn hash(&self, secret: &Secret) -> Result<SecretHash, PortError> {
        self.hash_sync(secret)
    }

    async fn verify<'a>(
        &self,
        secret: &Secret,
        hash: Option<&'a SecretHash>,
    ) -> Result<bool, PortError> {
        Ok(self.verify_sync(secret, hash))
    }

    async fn hash_alongside(
        &self,
        secret: &Secret,
        companion: &SecretHash,
    ) -> Result<SecretHash, PortError> {
        self.hash_alongside_sync(secret, companion)
    }

    async fn verify_any(
        &self,
        secret: &Secret,
        hashes: &[SecretHash],
    ) -> Result<Option<usize>, PortError> {
        Ok(self.verify_any_sync(secret, hashes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Hasher {
        // Cheaper parameters keep unit tests quick; the limits accept them.
        let params = Params::new(1024, 1, 1, None).unwrap();
        Argon2Hasher::new(
            params,
            Argon2Limits {
                min_m_cost: 1024,
                ..Argon2Limits::default()
            },
        )
    }

    #[test]
    fn default_parameters_are_the_owasp_minimum() {
        let h = Argon2Hasher::owasp_minimum();
        let phc = h.hash_sync(&Secret::new("Zebracorn9")).unwrap();
        assert!(
            phc.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            phc.0
        );
        assert!(h.verify_sync(&Secret::new("Zebracorn9"), Some(&phc)));
        assert!(!h.verify_sync(&Secret::new("Zebracorn8"), Some(&phc)));
    }

    #[test]
    fn salts_differ_and_leading_zeros_matter() {
        let h = cheap();
        let a = h.hash_sync(&Secret::new("0472")).unwrap();
        let b = h.hash_sync(&Secret::new("0472")).unwrap();
        assert_ne!(a, b);
        assert!(h.verify_sync(&Secret::new("0472"), Some(&a)));
        assert!(!h.verify_sync(&Secret::new("472"), Some(&a)));
    }

    #[test]
    fn unknown_card_verifies_against_the_dummy_and_fails() {
        let h = cheap();
        assert!(!h.verify_sync(&Secret::new("dummy secret for unknown cards"), None));
    }

    #[test]
    fn tampered_or_foreign_hashes_never_verify() {
        let h = cheap();
        let good = h.hash_sync(&Secret::new("Zebracorn9")).unwrap().0;
        let huge = good.replace("m=1024", "m=4194304");
        assert!(!h.verify_sync(&Secret::new("Zebracorn9"), Some(&SecretHash(huge))));
        let many_passes = good.replace("t=1", "t=1000");
        assert!(!h.verify_sync(&Secret::new("Zebracorn9"), Some(&SecretHash(many_passes))));
        let argon2i = good.replace("$argon2id$", "$argon2i$");
        assert!(!h.verify_sync(&Secret::new("Zebracorn9"), Some(&SecretHash(argon2i))));
        assert!(!h.verify_sync(
            &Secret::new("Zebracorn9"),
            Some(&SecretHash("not a hash".into()))
        ));
        assert!(!h.verify_sync(&Secret::new(""), Some(&SecretHash(String::new()))));
        // Below the minimum memory of the production limits.
        let prod = Argon2Hasher::owasp_minimum();
        assert!(!prod.verify_sync(&Secret::new("Zebracorn9"), Some(&SecretHash(good))));
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crate_both_ways() {
        use argon2::password_hash::PasswordVerifier;
        let h = cheap();
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        // A hash stored by the crate's own API (as earlier versions of this hasher did).
        let stored = reference
            .hash_password_with_salt(b"Zebracorn9", b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert!(h.verify_sync(
            &Secret::new("Zebracorn9"),
            Some(&SecretHash(stored.clone()))
        ));
        assert!(!h.verify_sync(
            &Secret::new("Zebracorn8"),
            Some(&SecretHash(stored.clone()))
        ));
        // The same salt gives the same string.
        let ours = h
            .hash_with_salt(b"Zebracorn9", b"0123456789abcdef")
            .unwrap();
        assert_eq!(ours.to_string(), stored);
        // And the crate verifies ours.
        let fresh = h.hash_sync(&Secret::new("Zebracorn9")).unwrap();
        assert!(
            reference
                .verify_password(b"Zebracorn9", fresh.0.as_str())
                .is_ok()
        );
    }

    #[test]
    fn stronger_stored_parameters_verify_in_a_one_off_allocation() {
        let h = cheap();
        let stronger = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 2, 1, Some(40)).unwrap(),
        )
        .hash_password_with_salt(b"0472", b"fedcba9876543210")
        .unwrap()
        .to_string();
        assert!(h.verify_sync(&Secret::new("0472"), Some(&SecretHash(stronger.clone()))));
        assert!(!h.verify_sync(&Secret::new("472"), Some(&SecretHash(stronger))));
        // Only this hasher's own size is kept by the thread.
        WORKING_MEMORY.with_borrow(|memory| assert!(memory.len() <= 1024));
    }

    #[test]
    fn a_hash_alongside_shares_salt_and_parameters_and_one_run_checks_both() {
        let h = cheap();
        let password = h.hash_sync(&Secret::new("Zebracorn9")).unwrap();
        let temporary = h
            .hash_alongside_sync(&Secret::new("Kp7mQx3vNt8wRb"), &password)
            .unwrap();
        let salt = |phc: &SecretHash| phc.0.rsplit_once('$').unwrap().0.to_owned();
        assert_eq!(salt(&password), salt(&temporary));
        assert_ne!(password, temporary);
        let both = [password.clone(), temporary.clone()];
        assert_eq!(
            h.verify_any_sync(&Secret::new("Zebracorn9"), &both),
            Some(0)
        );
        assert_eq!(
            h.verify_any_sync(&Secret::new("Kp7mQx3vNt8wRb"), &both),
            Some(1)
        );
        assert_eq!(h.verify_any_sync(&Secret::new("Zebracorn8"), &both), None);
        // The temporary password alone (the Password ended by a staff reset).
        assert_eq!(
            h.verify_any_sync(
                &Secret::new("Kp7mQx3vNt8wRb"),
                std::slice::from_ref(&temporary)
            ),
            Some(0)
        );
        // A hash with another salt is not checked by the same run: it never matches.
        let other = h.hash_sync(&Secret::new("Kp7mQx3vNt8wRb")).unwrap();
        assert_eq!(
            h.verify_any_sync(&Secret::new("Kp7mQx3vNt8wRb"), &[password.clone(), other]),
            None
        );
        // An unusable first hash: the next accepted one is the reference.
        let broken = SecretHash(String::new());
        assert_eq!(
            h.verify_any_sync(
                &Secret::new("Zebracorn9"),
                &[broken.clone(), password.clone()]
            ),
            Some(1)
        );
        // Nothing usable: the dummy, and no match.
        assert_eq!(
            h.verify_any_sync(&Secret::new("Zebracorn9"), std::slice::from_ref(&broken)),
            None
        );
        assert_eq!(h.verify_any_sync(&Secret::new("Zebracorn9"), &[]), None);
        // Alongside an unusable hash: a fresh salt.
        let fresh = h
            .hash_alongside_sync(&Secret::new("Zebracorn9"), &broken)
            .unwrap();
        assert!(h.verify_sync(&Secret::new("Zebracorn9"), Some(&fresh)));
    }

    #[test]
    fn the_working_memory_is_wiped_after_each_hash() {
        let h = cheap();
        let phc = h.hash_sync(&Secret::new("Zebracorn9")).unwrap();
        assert!(h.verify_sync(&Secret::new("Zebracorn9"), Some(&phc)));
        WORKING_MEMORY.with_borrow(|memory| {
            assert_eq!(memory.len(), 1024);
            assert!(
                memory.iter().all(|b| b.as_ref().iter().all(|w| *w == 0)),
                "derived blocks left in memory"
            );
        });
    }
}
