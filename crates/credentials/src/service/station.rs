//! SIP2 station passwords: hashing a new one, and the station login (`93`).

use super::{CredentialService, Guarded, LoginError};
use crate::guessing::CredentialKind;
use crate::ports::{AttemptKey, AttemptSource, PortError, SecretHash};
use crate::secret::Secret;
use crate::station::{StationUsername, StationViolation, check_station_password};

/// Why a station password could not be set.
#[derive(Debug, thiserror::Error)]
pub enum StationPasswordError {
    /// The password breaks the station password rules.
    #[error("the station password is not acceptable")]
    Rejected(Vec<StationViolation>),
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

impl CredentialService {
    /// Checks a new station password against the rules and hashes it (with the hasher
    /// every secret goes through).
    pub async fn hash_station_password(
        &self,
        password: &Secret,
    ) -> Result<SecretHash, StationPasswordError> {
        check_station_password(password).map_err(StationPasswordError::Rejected)?;
        Ok(self.hash(password).await?)
    }

    /// A station's login (`93`): `stored` is the station's password hash as the caller
    /// found it by `username` (`None`: no such station, verified against the dummy hash).
    /// Counted and throttled like a staff login, on the counter `station:<username>` and
    /// the per-source window. A username that is not one is refused without counting.
    pub async fn verify_station(
        &self,
        username: &str,
        password: &Secret,
        stored: Option<&SecretHash>,
        source: &AttemptSource,
    ) -> Result<(), LoginError> {
        let Ok(username) = StationUsername::parse(username) else {
            return Err(LoginError::InvalidCredentials);
        };
        if password.byte_len() > crate::secret::MAX_SECRET_INPUT_BYTES {
            return Err(LoginError::InvalidCredentials);
        }
        let key = AttemptKey::station(&username);
        let outcome = self
            .guarded_verify(&key, CredentialKind::Password, source, || async {
                Ok(self
                    .ports
                    .hasher
                    .verify(password, stored)
                    .await?
                    .then_some(()))
            })
            .await?;
        match outcome {
            Guarded::Verified(()) => Ok(()),
            Guarded::Failed | Guarded::Disabled => {
                self.record(crate::events::SecurityEvent::StationLoginFailed {
                    station: username.as_str().to_owned(),
                    source: source.0.clone(),
                });
                Err(LoginError::InvalidCredentials)
            }
            Guarded::Throttled { retry_after } => Err(LoginError::TooManyAttempts { retry_after }),
        }
    }
}
