//! Temporary passwords: issued after "forgot password" or a staff reset. Treated as NIST's
//! issued recovery codes: random from the CSPRNG, 14 characters from an alphabet without
//! look-alikes, always meeting the Password policy, single use, expiring (24 h by default),
//! and only ever stored as a hash.
//!
//! It opens the account (logs in) only while pending: unused, unexpired, and fewer than
//! [`TEMPORARY_PASSWORD_MAX_FAILURES`] wrong Password attempts on the account since it was
//! issued. Once used it is never accepted again, but as the current Password of the one
//! Password change its own `change_password_only` session exists for.

use time::OffsetDateTime;

use crate::ports::{RandomSource, StoredTemporaryPassword};
use crate::secret::Secret;

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
/// Characters in a temporary password.
pub const TEMPORARY_PASSWORD_LEN: usize = 14;
/// Wrong Password attempts on the account after which a pending temporary password stops
/// working (14 random characters need no more tries than a person mistyping them does).
pub const TEMPORARY_PASSWORD_MAX_FAILURES: u32 = 5;

impl StoredTemporaryPassword {
    /// Whether it still opens the account at `now`: unused, unexpired, and fewer than
    /// [`TEMPORARY_PASSWORD_MAX_FAILURES`] wrong attempts.
    pub fn is_pending(&self, now: OffsetDateTime) -> bool {
        self.used_at.is_none()
            && self.expires_at > now
            && self.failures < TEMPORARY_PASSWORD_MAX_FAILURES
    }
}

/// A uniformly random index below `n` (rejection sampling, so no modulo bias).
fn index(random: &dyn RandomSource, n: usize) -> usize {
    debug_assert!(n > 0 && n <= 256);
    let limit = 256 - (256 % n);
    loop {
        let mut b = [0u8; 1];
        random.fill(&mut b);
        if usize::from(b[0]) < limit {
            return usize::from(b[0]) % n;
        }
    }
}

/// Generates a temporary password: at least one upper-case letter, one lower-case letter
/// and one digit, the rest from all three, shuffled.
pub fn generate_temporary_password(random: &dyn RandomSource) -> Secret {
    let all: Vec<u8> = [UPPER, LOWER, DIGITS].concat();
    let mut chars = zeroize::Zeroizing::new(Vec::with_capacity(TEMPORARY_PASSWORD_LEN));
    chars.push(UPPER[index(random, UPPER.len())]);
    chars.push(LOWER[index(random, LOWER.len())]);
    chars.push(DIGITS[index(random, DIGITS.len())]);
    while chars.len() < TEMPORARY_PASSWORD_LEN {
        chars.push(all[index(random, all.len())]);
    }
    // Fisher–Yates, so the guaranteed classes are not always in front.
    for i in (1..chars.len()).rev() {
        let j = index(random, i + 1);
        chars.swap(i, j);
    }
    Secret::new(chars.iter().map(|&b| char::from(b)).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::check_new_password;
    use crate::personal::PersonalInfo;
    use library_core::CardNumber;

    struct Lcg(std::sync::Mutex<u64>);
    impl RandomSource for Lcg {
        fn fill(&self, buf: &mut [u8]) {
            let mut s = self.0.lock().unwrap();
            for b in buf {
                *s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *b = s.to_be_bytes()[0];
            }
        }
    }

    #[test]
    fn pending_means_unused_unexpired_and_fewer_than_five_failures() {
        use crate::ports::SecretHash;
        use time::macros::datetime;
        let now = datetime!(2021-03-05 09:00 +08:00);
        let fresh = StoredTemporaryPassword {
            hash: SecretHash("h".into()),
            expires_at: now + time::Duration::hours(24),
            used_at: None,
            failures: 0,
        };
        assert!(fresh.is_pending(now));
        let four = StoredTemporaryPassword {
            failures: 4,
            ..fresh.clone()
        };
        assert!(four.is_pending(now));
        let five = StoredTemporaryPassword {
            failures: 5,
            ..fresh.clone()
        };
        assert!(!five.is_pending(now));
        let used = StoredTemporaryPassword {
            used_at: Some(now),
            ..fresh.clone()
        };
        assert!(!used.is_pending(now));
        assert!(!fresh.is_pending(now + time::Duration::hours(24)));
        assert!(fresh.is_pending(now + time::Duration::hours(24) - time::Duration::SECOND));
    }

    #[test]
    fn temporary_passwords_meet_the_policy_and_differ() {
        let rng = Lcg(std::sync::Mutex::new(7));
        let who = PersonalInfo {
            card_number: CardNumber::parse("21000012345678").unwrap(),
            name: "Chan Tai Man".into(),
            phone: "91234567".into(),
            email: None,
            date_of_birth: None,
        };
        let mut seen = std::collections::HashSet::new();
        for _ in 0..500 {
            let pw = generate_temporary_password(&rng);
            assert_eq!(pw.expose().len(), TEMPORARY_PASSWORD_LEN);
            assert!(!pw.expose().contains(['0', 'O', '1', 'l', 'I']));
            // Personal info could in theory appear by chance; with this alphabet 4-digit
            // phone runs can, so only the composition rules are asserted for all.
            match check_new_password(&pw, &who) {
                Ok(_) => {}
                Err(v) => assert_eq!(
                    v,
                    vec![crate::PasswordViolation::ContainsPersonalInfo],
                    "{pw:?}"
                ),
            }
            assert!(seen.insert(pw.expose().to_owned()));
        }
    }
}
