//! The ballot: which applications get the scheme's places when there are more applications
//! than places ("lots are drawn if oversubscribed").
//!
//! Anyone holding the recorded seed and the list of applications can draw again and get
//! the same winners: the generator is SplitMix64 (Steele, Lea and Flood, "Fast splittable
//! pseudorandom number generators", 2014), written out here so that no crate update can
//! change a published result, and the shuffle is Fisher–Yates over the applications in
//! order of their ids.
//!
//! The draw, for `places` P, priority share p % and seed S:
//! 1. the entrants are put in order of application id;
//! 2. if there are no more entrants than places, every entrant wins (no draw);
//! 3. otherwise the priority places are `floor(P × p / 100)` (rounded down, so the share
//!    reserved never exceeds what was announced); the examination candidates are shuffled
//!    and the first `min(candidates, priority places)` of them win;
//! 4. everyone not yet drawn (candidates included) is shuffled with the same generator,
//!    continuing, and the first `P − winners so far` win. Priority places the candidates
//!    do not fill go to this second draw.
//!
//! The winners are listed in the order they were drawn.

use super::ApplicationId;

/// SplitMix64: a 64-bit generator with a 64-bit state, every seed valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The generator started from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `0..n` (`n` > 0), without modulo bias: draws falling in the
    /// incomplete last block of `n` are drawn again.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        let limit = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < limit {
                return x % n;
            }
        }
    }

    /// Shuffles `items` in place (Fisher–Yates, from the last position down).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            // `below(i + 1)` is at most `i`, a `usize` already.
            let bound = u64::try_from(i).map_or(u64::MAX, |i| i.saturating_add(1));
            let j = usize::try_from(self.below(bound)).unwrap_or(i);
            items.swap(i, j);
        }
    }
}

/// An application taking part in the ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entrant {
    /// The application.
    pub application: ApplicationId,
    /// Whether the reader declared being a public or professional examination candidate.
    pub candidate: bool,
}

/// What a ballot drew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    /// The winning applications, in the order drawn (in order of id when everyone won).
    pub winners: Vec<ApplicationId>,
    /// The places reserved for examination candidates: `floor(places × share / 100)`.
    pub priority_places: u32,
    /// How many winners came from the candidates' draw.
    pub(crate) priority_winners: u32,
}

/// The places reserved for examination candidates: `places × percent / 100`, rounded
/// down (95 % of 3 places is 2).
pub fn priority_places(places: u32, percent: u8) -> u32 {
    let reserved = u64::from(places) * u64::from(percent.min(100)) / 100;
    u32::try_from(reserved).unwrap_or(places)
}

/// Draws the winners among `entrants` for `places` places with `percent` % of them
/// reserved for examination candidates, from `seed` (see the module documentation). An
/// application listed twice takes part once.
pub fn draw(entrants: &[Entrant], places: u32, percent: u8, seed: u64) -> Draw {
    let mut pool: Vec<Entrant> = entrants.to_vec();
    pool.sort_by_key(|e| e.application);
    pool.dedup_by_key(|e| e.application);
    let reserved = priority_places(places, percent);
    if pool.len() <= places as usize {
        let priority_winners = pool.iter().filter(|e| e.candidate).count();
        return Draw {
            winners: pool.iter().map(|e| e.application).collect(),
            priority_places: reserved,
            priority_winners: u32::try_from(priority_winners).unwrap_or(u32::MAX),
        };
    }
    let mut rng = SplitMix64::new(seed);
    let mut candidates: Vec<ApplicationId> = pool
        .iter()
        .filter(|e| e.candidate)
        .map(|e| e.application)
        .collect();
    rng.shuffle(&mut candidates);
    candidates.truncate(reserved as usize);
    let mut winners = candidates;
    let priority_winners = winners.len();
    let mut rest: Vec<ApplicationId> = pool
        .iter()
        .map(|e| e.application)
        .filter(|id| !winners.contains(id))
        .collect();
    rng.shuffle(&mut rest);
    rest.truncate(places as usize - priority_winners);
    winners.extend(rest);
    Draw {
        winners,
        priority_places: reserved,
        priority_winners: u32::try_from(priority_winners).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entrants(candidates: &[bool]) -> Vec<Entrant> {
        candidates
            .iter()
            .enumerate()
            .map(|(i, &candidate)| Entrant {
                application: ApplicationId(i64::try_from(i).unwrap() + 1),
                candidate,
            })
            .collect()
    }

    fn ids(winners: &[ApplicationId]) -> Vec<i64> {
        winners.iter().map(|w| w.0).collect()
    }

    #[test]
    fn splitmix64_gives_the_published_sequence() {
        // The reference sequence of SplitMix64 from seed 0 (Vigna's splitmix64.c).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn priority_places_are_rounded_down() {
        for (places, percent, expected) in [
            (3, 95, 2),
            (20, 95, 19),
            (100, 95, 95),
            (1, 95, 0),
            (10, 0, 0),
            (10, 100, 10),
            (7, 50, 3),
            (u32::MAX, 100, u32::MAX),
        ] {
            assert_eq!(
                priority_places(places, percent),
                expected,
                "{places} {percent}"
            );
        }
    }

    #[test]
    fn when_there_are_no_more_applications_than_places_everyone_wins_in_order_of_id() {
        let mut list = entrants(&[false, true, false]);
        list.reverse();
        let draw = draw(&list, 3, 95, 1);
        assert_eq!(ids(&draw.winners), [1, 2, 3]);
        assert_eq!(draw.priority_winners, 1);
        assert_eq!(super::draw(&[], 3, 95, 1).winners, []);
    }

    #[test]
    fn a_known_seed_draws_a_fixed_list() {
        // Ten applications, the even ids candidates; 3 places, 95 %: 2 priority places.
        let list = entrants(&[
            false, true, false, true, false, true, false, true, false, true,
        ]);
        let draw = draw(&list, 3, 95, 2021);
        assert_eq!(draw.priority_places, 2);
        assert_eq!(draw.priority_winners, 2);
        assert_eq!(ids(&draw.winners), PINNED_2021);
        assert!(draw.winners[..2].iter().all(|w| w.0 % 2 == 0));
        // The same seed, the entrants in another order: the same winners.
        let mut shuffled = list.clone();
        shuffled.reverse();
        assert_eq!(super::draw(&shuffled, 3, 95, 2021), draw);
        // Another seed draws another list.
        assert_ne!(ids(&super::draw(&list, 3, 95, 2022).winners), PINNED_2021);
    }

    const PINNED_2021: [i64; 3] = [6, 4, 10];

    #[test]
    fn unused_priority_places_go_to_everyone_else() {
        // One candidate among six, four places at 95 % (3 reserved): the candidate wins,
        // and three of the others.
        let list = entrants(&[false, false, true, false, false, false]);
        let draw = draw(&list, 4, 95, 7);
        assert_eq!(draw.priority_places, 3);
        assert_eq!(draw.priority_winners, 1);
        assert_eq!(draw.winners.len(), 4);
        assert_eq!(draw.winners[0].0, 3);
    }

    #[test]
    fn without_a_share_candidates_draw_with_everyone() {
        let list = entrants(&[true, true, true, true, true, false, false, false]);
        let draw = draw(&list, 2, 0, 99);
        assert_eq!(draw.priority_places, 0);
        assert_eq!(draw.priority_winners, 0);
        assert_eq!(draw.winners.len(), 2);
    }

    proptest! {
        #[test]
        fn the_draw_keeps_its_promises(
            candidates in proptest::collection::vec(any::<bool>(), 0..60),
            places in 0u32..40,
            percent in 0u8..=100,
            seed in any::<u64>(),
        ) {
            let list = entrants(&candidates);
            let first = draw(&list, places, percent, seed);
            // Reproducible.
            prop_assert_eq!(&draw(&list, places, percent, seed), &first);
            // No more winners than places, nor than applications.
            prop_assert!(first.winners.len() <= places as usize);
            prop_assert_eq!(first.winners.len(), list.len().min(places as usize));
            // No one twice, every winner an applicant.
            let mut seen = first.winners.clone();
            seen.sort();
            seen.dedup();
            prop_assert_eq!(seen.len(), first.winners.len());
            prop_assert!(first.winners.iter().all(|w| list.iter().any(|e| e.application == *w)));
            // Candidates win at least the priority places they can fill.
            let n_candidates = candidates.iter().filter(|c| **c).count();
            let candidate_winners = first
                .winners
                .iter()
                .filter(|w| candidates[usize::try_from(w.0 - 1).unwrap()])
                .count();
            let reserved = priority_places(places, percent) as usize;
            prop_assert!(candidate_winners >= n_candidates.min(reserved));
        }

        #[test]
        fn below_stays_below(seed in any::<u64>(), n in 1u64..1000) {
            let mut rng = SplitMix64::new(seed);
            for _ in 0..20 {
                prop_assert!(rng.below(n) < n);
            }
        }
    }
}
