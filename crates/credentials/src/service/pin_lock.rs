//! Whether a card's PIN is locked, read without counting an attempt (a station lending
//! without a PIN still refuses a card whose PIN is locked: docs/credentials.md, SIP2
//! stations).
//! The read itself is [`super::CredentialService::pin_locked`]; these tests hold it to the
//! lock the guessing policy applies.

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use library_core::{CardNumber, ManualClock, PatronId};
    use time::macros::datetime;

    use crate::events::NoSecurityEvents;
    use crate::ports::AttemptSource;
    use crate::secret::Secret;
    use crate::testing::{
        CountingHasher, InMemoryCredentialStore, InMemorySessionStore, InMemoryStaffStore,
        RecordingNotifier, SeededRandom,
    };
    use crate::{CredentialConfig, CredentialPorts, CredentialService, PersonalInfo};

    #[test]
    fn the_pin_is_locked_from_the_tenth_failure_until_it_is_changed() {
        pollster::block_on(async {
            let store = Arc::new(InMemoryCredentialStore::new());
            let card = CardNumber::parse("21000012345678").unwrap();
            store.insert(crate::ports::StoredCredentials {
                patron: PatronId(1),
                info: PersonalInfo {
                    card_number: card.clone(),
                    name: "Chan Tai Man".into(),
                    phone: "91234567".into(),
                    email: None,
                    date_of_birth: None,
                },
                password_hash: CountingHasher::hash_of("unused-password"),
                password_is_default: false,
                pin_hash: CountingHasher::hash_of("4567"),
                temporary: None,
                epoch: 0,
            });
            let clock = Arc::new(ManualClock::new(datetime!(2021-06-01 02:00 UTC)));
            let service = CredentialService::new(
                CredentialPorts {
                    store: store.clone(),
                    sessions: Arc::new(InMemorySessionStore::new()),
                    hasher: Arc::new(CountingHasher::new()),
                    staff: Arc::new(InMemoryStaffStore::new()),
                    notifier: Arc::new(RecordingNotifier::new()),
                    random: Arc::new(SeededRandom::new(7)),
                    clock: clock.clone(),
                    events: Arc::new(NoSecurityEvents),
                },
                CredentialConfig::default(),
            );
            let source = AttemptSource("terminal:sip2:sc01".into());
            for failure in 1..=10 {
                // Past every delay, so each attempt is counted.
                clock.advance(time::Duration::hours(1));
                assert!(
                    !service.pin_locked(&card).await.unwrap(),
                    "before failure {failure}"
                );
                let _ = service
                    .verify_pin(card.as_str(), &Secret::new("0000"), &source)
                    .await;
            }
            assert!(
                service.pin_locked(&card).await.unwrap(),
                "after 10 failures"
            );
            // Reading counts nothing: still exactly 10.
            assert_eq!(
                store.attempts(&card, crate::CredentialKind::Pin).failures,
                10
            );
            let unknown = CardNumber::parse("21999999999999").unwrap();
            assert!(!service.pin_locked(&unknown).await.unwrap());
        });
    }
}
