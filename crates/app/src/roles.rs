//! Staff roles: which role may do which kind of staff work, decided here once for every
//! channel (the HTTP API classes each of its staff operations as one [`StaffWork`]; a
//! channel added later does the same and gets the same answers).
//!
//! `admin` may do everything; `librarian` the counter's work only: readers (register,
//! view, edit, block and unblock, lift a PIN lock, an in-person reset), circulation at
//! the counter, payments and waivers, titles and items, activities, notices and enquiries, and reading
//! the configuration (rules, calendars, fine suspensions and the preview), and the reports
//! (a kind of its own, [`StaffWork::Reports`], so who may read them is one line to
//! change: the overdue list names readers, and the counter chases overdue loans with it).
//! Changing the
//! configuration (rules, libraries and their calendars, fine suspensions), SIP2 station
//! accounts and staff accounts are the administrators'.

use library_credentials::StaffRole;

/// A kind of staff work, as the role table classes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffWork {
    /// Readers: register, view, edit, block and unblock, lift a PIN lock, reset a Password
    /// in person.
    Readers,
    /// Circulation at the counter: checkouts, checkins, renewals, holds.
    Circulation,
    /// Payments and waivers.
    Payments,
    /// Titles and items.
    Catalogue,
    /// Activities, notices, enquiries.
    ReaderServices,
    /// Reading the configuration: the rules, the calendars, the fine suspensions and the
    /// impact preview.
    ReadConfiguration,
    /// Changing the configuration: the rules, libraries and their calendars, fine
    /// suspensions.
    Configuration,
    /// SIP2 station accounts, listing included (they are machines' credentials).
    Stations,
    /// Staff accounts.
    StaffAccounts,
    /// Reports: circulation counts, fines, the overdue list.
    Reports,
    /// The door: admissions, departures, visitor registrations. Reading the
    /// registrations needs the `contact_tracing` permission as well, whatever the role
    /// (docs/premises.md).
    Door,
}

impl StaffWork {
    /// Every kind of staff work.
    pub const ALL: [StaffWork; 11] = [
        StaffWork::Readers,
        StaffWork::Circulation,
        StaffWork::Payments,
        StaffWork::Catalogue,
        StaffWork::ReaderServices,
        StaffWork::ReadConfiguration,
        StaffWork::Configuration,
        StaffWork::Stations,
        StaffWork::StaffAccounts,
        StaffWork::Reports,
        StaffWork::Door,
    ];

    /// The least role that may do it.
    pub const fn least_role(self) -> StaffRole {
        match self {
            StaffWork::Configuration | StaffWork::Stations | StaffWork::StaffAccounts => {
                StaffRole::Admin
            }
            StaffWork::Readers
            | StaffWork::Circulation
            | StaffWork::Payments
            | StaffWork::Catalogue
            | StaffWork::ReaderServices
            | StaffWork::ReadConfiguration
            | StaffWork::Reports
            | StaffWork::Door => StaffRole::Librarian,
        }
    }
}

/// May a staff user of `role` do `work`? `admin` may do everything, `librarian` the work
/// whose least role is `librarian`.
pub fn may(role: StaffRole, work: StaffWork) -> bool {
    role == StaffRole::Admin || work.least_role() == StaffRole::Librarian
}

/// May this staff user check out or renew past the refusals staff may override
/// (docs/circulation.md, Overrides)? An `admin` always; a `librarian` only if granted
/// `override` when the account was created.
pub fn may_override(staff: &library_credentials::StoredStaff) -> bool {
    staff.role == StaffRole::Admin || staff.may_override
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_may_override() {
        use library_core::StaffId;
        use library_credentials::{SecretHash, StoredStaff};
        let staff = |role, may_override| StoredStaff {
            id: StaffId(1),
            username: "u".into(),
            password_hash: SecretHash(String::new()),
            role,
            may_override,
        };
        assert!(may_override(&staff(StaffRole::Admin, false)));
        assert!(may_override(&staff(StaffRole::Admin, true)));
        assert!(may_override(&staff(StaffRole::Librarian, true)));
        assert!(!may_override(&staff(StaffRole::Librarian, false)));
    }

    #[test]
    fn admin_may_do_everything_a_librarian_only_the_counters_work() {
        let counter = [
            StaffWork::Readers,
            StaffWork::Circulation,
            StaffWork::Payments,
            StaffWork::Catalogue,
            StaffWork::ReaderServices,
            StaffWork::ReadConfiguration,
            StaffWork::Reports,
            StaffWork::Door,
        ];
        for work in StaffWork::ALL {
            assert!(may(StaffRole::Admin, work), "{work:?}");
            assert_eq!(
                may(StaffRole::Librarian, work),
                counter.contains(&work),
                "{work:?}"
            );
        }
    }
}
