//! SIP2 station accounts on every backend: create, duplicate, unknown library, list, find,
//! delete.

use library_core::LibraryKind;
use library_credentials::{SecretHash, StationSettings, StationUsername};
use library_persistence::{NewLibrary, NewSip2Station, StoreError};
use time::UtcOffset;

use crate::circ_support::code;
use crate::support::{T0, backends};

fn username(name: &str) -> StationUsername {
    StationUsername::parse(name).unwrap()
}

fn station(name: &str, library: &str) -> NewSip2Station {
    NewSip2Station {
        username: username(name),
        password_hash: SecretHash(format!("$argon2id$v=19$m=19456,t=2,p=1$salt-{name}$hash")),
        library: code(library),
        created_at: T0,
        created_by: "admin".into(),
        settings: StationSettings::default(),
    }
}

#[tokio::test]
async fn stations_are_created_listed_found_and_deleted() {
    for t in backends().await {
        let db = t.connect().await;
        for library in ["TMPL", "KLN"] {
            db.libraries()
                .create(
                    &NewLibrary {
                        code: code(library),
                        name: format!("{library} Library"),
                        name_zh: String::new(),
                        kind: LibraryKind::District,
                        utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap(),
                    },
                    None,
                )
                .await
                .unwrap();
        }
        let stations = db.sip2_stations();
        assert_eq!(stations.list().await.unwrap(), vec![], "{}", t.name);

        let sc02 = station("sc02", "KLN");
        let sc01 = station("sc01", "TMPL");
        stations.create(&sc02, None).await.unwrap();
        stations.create(&sc01, None).await.unwrap();

        // The username is unique, whatever the other values.
        let again = NewSip2Station {
            library: code("KLN"),
            ..station("sc01", "KLN")
        };
        assert!(
            matches!(
                stations.create(&again, None).await,
                Err(StoreError::Conflict(_))
            ),
            "{}",
            t.name
        );
        // A station lends from a library that exists.
        assert!(
            matches!(
                stations.create(&station("sc03", "NONE"), None).await,
                Err(StoreError::NotFound("library"))
            ),
            "{}",
            t.name
        );

        // Listed by username, the instant back in UTC as written.
        let listed = stations.list().await.unwrap();
        assert_eq!(listed, vec![sc01.clone(), sc02.clone()], "{}", t.name);
        assert_eq!(listed[0].created_at, T0);
        assert_eq!(
            stations.find(&username("sc02")).await.unwrap(),
            Some(sc02.clone())
        );
        assert_eq!(stations.find(&username("sc03")).await.unwrap(), None);

        assert!(stations.delete(&username("sc01"), None).await.unwrap());
        assert!(!stations.delete(&username("sc01"), None).await.unwrap());
        assert_eq!(stations.find(&username("sc01")).await.unwrap(), None);
        assert_eq!(stations.list().await.unwrap(), vec![sc02], "{}", t.name);
        // The name is free again.
        stations.create(&sc01, None).await.unwrap();
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn station_settings_are_stored_with_the_account_and_replaced() {
    for t in backends().await {
        let db = t.connect().await;
        db.libraries()
            .create(
                &NewLibrary {
                    code: code("KLN"),
                    name: "KLN Library".into(),
                    name_zh: String::new(),
                    kind: LibraryKind::District,
                    utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap(),
                },
                None,
            )
            .await
            .unwrap();
        let stations = db.sip2_stations();
        // The defaults: PIN required, no blocking, any address.
        stations
            .create(&station("sc01", "KLN"), None)
            .await
            .unwrap();
        let found = stations.find(&username("sc01")).await.unwrap().unwrap();
        assert_eq!(found.settings, StationSettings::default(), "{}", t.name);
        assert!(found.settings.pin_required);

        let open = StationSettings {
            pin_required: false,
            may_block: true,
            allowed_addresses: StationSettings::parse_addresses([
                "127.0.0.3",
                "192.0.2.77/24",
                "2001:db8:1:2::5/64",
            ])
            .unwrap(),
        };
        let sc02 = NewSip2Station {
            settings: open.clone(),
            ..station("sc02", "KLN")
        };
        stations.create(&sc02, None).await.unwrap();
        let found = stations.find(&username("sc02")).await.unwrap().unwrap();
        assert_eq!(found.settings, open, "{}", t.name);
        assert_eq!(
            found
                .settings
                .allowed_addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["127.0.0.3", "192.0.2.0/24", "2001:db8:1:2::/64"]
        );

        // Replaced, and back to the defaults.
        assert!(
            stations
                .update_settings(&username("sc01"), &open, None)
                .await
                .unwrap()
        );
        assert_eq!(
            stations
                .find(&username("sc01"))
                .await
                .unwrap()
                .unwrap()
                .settings,
            open,
            "{}",
            t.name
        );
        assert!(
            stations
                .update_settings(&username("sc02"), &StationSettings::default(), None)
                .await
                .unwrap()
        );
        let listed = stations.list().await.unwrap();
        assert_eq!(listed[1].settings, StationSettings::default(), "{}", t.name);
        assert!(
            !stations
                .update_settings(&username("nobody"), &open, None)
                .await
                .unwrap()
        );
        db.close().await.unwrap();
    }
}
