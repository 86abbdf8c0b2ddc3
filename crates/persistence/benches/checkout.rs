//! Raw checkout transactions per second through this adapter: begin (IMMEDIATE on SQLite),
//! lock the item, insert the loan, set the item on loan, commit — the minimal write
//! transaction of a checkout, without the service's decisions. SQLite in a temporary file;
//! PostgreSQL in a database of its own when `LIBRARY_TEST_POSTGRES_URL` is set. Throughput
//! is criterion's `elem/s` (one element = one committed checkout).
//!
//! `CARGO_TARGET_DIR=/work/target-persist LIBRARY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p library-persistence`

#![allow(clippy::print_stderr)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use library_circulation::ports::CirculationStore;
use library_circulation::{DueDate, ItemStatus, ItemType, NewLoan};
use library_core::{Barcode, ItemId, LibraryCode, LibraryKind, PatronId};
use library_persistence::{Database, NewItem, NewLibrary, NewPatron, ReaderProfile};
use sea_orm::ConnectionTrait;
use time::UtcOffset;
use time::macros::{date, datetime};

struct Fixture {
    db: Database,
    patron: PatronId,
    title: library_core::TitleId,
    next_barcode: u64,
}

impl Fixture {
    async fn new(url: &str) -> Fixture {
        let db = Database::connect(url).await.expect("connect");
        let hkcl = LibraryCode::parse("HKCL").unwrap();
        db.libraries()
            .create(
                &NewLibrary {
                    code: hkcl.clone(),
                    name: "Central".into(),
                    name_zh: "中央".into(),
                    kind: LibraryKind::Central,
                    utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap(),
                },
                None,
            )
            .await
            .unwrap();
        let patron = db
            .patrons()
            .register_reader(
                &NewPatron {
                    card_number: library_core::CardNumber::parse("21000000000001").unwrap(),
                    name: "Bench".into(),
                    phone: "9123 4567".into(),
                    email: None,
                    date_of_birth: None,
                    registered_at: datetime!(2021-03-05 10:00 UTC),
                },
                &ReaderProfile {
                    category: library_circulation::ReaderCategory::parse("adult").unwrap(),
                    home_library: hkcl,
                    card_expires_on: date!(2030 - 12 - 31),
                },
                None,
            )
            .await
            .unwrap();
        let title = db.catalogue().create_title("Bench").await.unwrap();
        Fixture {
            db,
            patron,
            title,
            next_barcode: 0,
        }
    }

    /// `n` fresh available items (not timed).
    async fn items(&mut self, n: u64) -> Vec<ItemId> {
        let mut ids = Vec::new();
        for _ in 0..n {
            self.next_barcode += 1;
            ids.push(
                self.db
                    .catalogue()
                    .create_item(
                        &NewItem {
                            barcode: Barcode::parse(&format!("X{:09}", self.next_barcode)).unwrap(),
                            title: self.title,
                            item_type: ItemType::parse("adult_book").unwrap(),
                            home_library: LibraryCode::parse("HKCL").unwrap(),
                            status: ItemStatus::Available,
                            replacement_cost: None,
                        },
                        None,
                    )
                    .await
                    .unwrap(),
            );
        }
        ids
    }

    /// One raw checkout transaction.
    async fn checkout(&self, item: ItemId) {
        let mut tx = self.db.circulation().begin().await.unwrap();
        tx.item_for_update(item).await.unwrap().unwrap();
        tx.insert_loan(NewLoan {
            patron: self.patron,
            item,
            library: LibraryCode::parse("HKCL").unwrap(),
            borrowed_at: datetime!(2021-03-05 02:00 UTC),
            due: DueDate {
                on: date!(2021 - 03 - 19),
                at: datetime!(2021-03-19 15:59:59 UTC),
            },
        })
        .await
        .unwrap();
        tx.set_item_status(item, ItemStatus::OnLoan).await.unwrap();
        tx.commit().await.unwrap();
    }
}

fn bench_backend(c: &mut Criterion, name: &str, url: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut fixture = rt.block_on(Fixture::new(url));
    let mut group = c.benchmark_group("checkout_transaction");
    group
        .throughput(Throughput::Elements(1))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let items = fixture.items(iters).await;
                let start = Instant::now();
                for item in items {
                    fixture.checkout(item).await;
                }
                start.elapsed()
            })
        });
    });
    group.finish();
    rt.block_on(fixture.db.close()).unwrap();
}

fn checkout(c: &mut Criterion) {
    let path = std::env::temp_dir().join(format!("lib_bench_{}.db", std::process::id()));
    bench_backend(
        c,
        "sqlite",
        &format!("sqlite://{}?mode=rwc", path.display()),
    );
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }

    let Ok(admin_url) = std::env::var("LIBRARY_TEST_POSTGRES_URL") else {
        eprintln!("note: LIBRARY_TEST_POSTGRES_URL is not set; PostgreSQL is not benchmarked");
        return;
    };
    let database = format!("lib_bench_{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let admin = |sql: String| {
        let admin_url = admin_url.clone();
        rt.block_on(async move {
            let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
            admin.execute_unprepared(&sql).await.unwrap();
            admin.close().await.unwrap();
        });
    };
    admin(format!("CREATE DATABASE {database}"));
    let base = admin_url.split('?').next().unwrap_or(&admin_url);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    bench_backend(c, "postgres", &format!("{server}/{database}"));
    admin(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"));
}

criterion_group!(benches, checkout);
criterion_main!(benches);
