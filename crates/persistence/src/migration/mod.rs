//! The one migration set, in order. Each migration is written with the schema builder so
//! the same code creates the schema on SQLite and PostgreSQL. Add new migrations at the
//! end; never edit one that has shipped.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261128_000001_credentials;
mod m20261128_000002_circulation;
mod m20261128_000003_sip2_stations;
mod m20261128_000004_reader_services;
mod m20261128_000005_reader_blocks;
mod m20261202_000006_title_details;
mod m20261203_000007_job_runs;
mod m20261206_000008_heartbeat;
mod m20261206_000009_config_version;
mod m20261207_000010_outbox_delivery;
mod m20261207_000011_reset_windows;
mod m20261207_000012_loan_reminders;
mod m20261208_000013_catalogue_search_index;
mod m20261209_000014_reader_records;
mod m20261209_000015_staff_override;
mod m20261209_000016_hold_options;
mod m20261209_000017_in_transit;
mod m20261209_000018_circulation_statistics;
mod m20261209_000019_lost_items;
mod m20261210_000020_guessing_pairs;
mod m20261210_000021_station_settings;
mod m20261210_000022_credential_epoch;
mod m20261211_000023_hours;
mod m20261211_000024_admission;
mod m20261211_000025_study_rooms;
mod m20261212_000026_history_indexes;

/// Every migration of the library's schema.
#[derive(Debug)]
pub(crate) struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_credentials::Migration),
            Box::new(m20261128_000002_circulation::Migration),
            Box::new(m20261128_000003_sip2_stations::Migration),
            Box::new(m20261128_000004_reader_services::Migration),
            Box::new(m20261128_000005_reader_blocks::Migration),
            Box::new(m20261202_000006_title_details::Migration),
            Box::new(m20261203_000007_job_runs::Migration),
            Box::new(m20261206_000008_heartbeat::Migration),
            Box::new(m20261206_000009_config_version::Migration),
            Box::new(m20261207_000010_outbox_delivery::Migration),
            Box::new(m20261207_000011_reset_windows::Migration),
            Box::new(m20261207_000012_loan_reminders::Migration),
            Box::new(m20261208_000013_catalogue_search_index::Migration),
            Box::new(m20261209_000014_reader_records::Migration),
            Box::new(m20261209_000015_staff_override::Migration),
            Box::new(m20261209_000016_hold_options::Migration),
            Box::new(m20261209_000017_in_transit::Migration),
            Box::new(m20261209_000018_circulation_statistics::Migration),
            Box::new(m20261209_000019_lost_items::Migration),
            Box::new(m20261210_000020_guessing_pairs::Migration),
            Box::new(m20261210_000021_station_settings::Migration),
            Box::new(m20261210_000022_credential_epoch::Migration),
            Box::new(m20261211_000023_hours::Migration),
            Box::new(m20261211_000024_admission::Migration),
            Box::new(m20261211_000025_study_rooms::Migration),
            Box::new(m20261212_000026_history_indexes::Migration),
        ]
    }
}
