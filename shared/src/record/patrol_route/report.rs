//! What the office sees of a route per day: which of its due rounds were done, which were
//! not, and the checkpoints the rounds missed. Worked out from the rounds' summaries, so the
//! office list's data is enough.

use super::{parse_time_of_day, RouteRevision};

/// A round counts for a due time if it started at most this long before it.
pub const EARLY_START_MINUTES: u32 = 30;

/// What the report reads of one round of the route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundFacts<'a> {
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// The route's checkpoints the round did not visit (meaningful once it ended).
    pub missed: &'a [String],
    pub overdue: bool,
}

/// Where one due time of the day stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A round started for it (its start time).
    Done(i64),
    /// No round started, and its time is over.
    NotDone,
    /// No round yet, and there is still time.
    Pending,
}

/// One route on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDay {
    /// Each due time (`HH:MM`) and where it stands.
    pub slots: Vec<(String, Slot)>,
    /// Rounds of the route started that day.
    pub rounds: u32,
    /// Rounds still open.
    pub open_rounds: u32,
    /// Rounds open, or that were open, longer than the route allows.
    pub overdue_rounds: u32,
    /// Each checkpoint ended rounds missed, with how many rounds missed it, by name.
    pub missed: Vec<(String, u32)>,
}

impl RouteDay {
    pub fn not_done(&self) -> usize {
        self.slots
            .iter()
            .filter(|(_, s)| *s == Slot::NotDone)
            .count()
    }
}

/// The day that starts at `day_start` (local midnight, ms since the Unix epoch) for a route
/// as `revision` sets it, from the rounds of the route started that day (any order), seen
/// at `now`.
pub fn route_day(
    revision: &RouteRevision,
    rounds: &[RoundFacts<'_>],
    day_start: i64,
    now: i64,
) -> RouteDay {
    let minute = 60_000_i64;
    let allowed = i64::from(revision.max_minutes) * minute;
    let mut starts: Vec<i64> = rounds.iter().map(|r| r.started_at).collect();
    starts.sort_unstable();
    let mut used = vec![false; starts.len()];
    let mut slots = Vec::new();
    for text in &revision.due_times {
        let Some(minutes) = parse_time_of_day(text) else {
            continue;
        };
        let due = day_start + i64::from(minutes) * minute;
        let earliest = due - i64::from(EARLY_START_MINUTES) * minute;
        let latest = due + allowed;
        // Each round counts for one due time, the first it fits.
        let found = starts
            .iter()
            .enumerate()
            .find(|(i, at)| !used[*i] && (earliest..=latest).contains(*at));
        let slot = match found {
            Some((i, at)) => {
                used[i] = true;
                Slot::Done(*at)
            }
            None if now > latest => Slot::NotDone,
            None => Slot::Pending,
        };
        slots.push((text.clone(), slot));
    }
    let mut missed: Vec<(String, u32)> = Vec::new();
    for round in rounds.iter().filter(|r| r.ended_at.is_some()) {
        for name in round.missed {
            match missed.iter_mut().find(|(n, _)| n == name) {
                Some((_, count)) => *count += 1,
                None => missed.push((name.clone(), 1)),
            }
        }
    }
    // In the route's order, then any the route no longer has.
    missed.sort_by_key(|(name, _)| {
        revision
            .checkpoints
            .iter()
            .position(|c| &c.name == name)
            .unwrap_or(usize::MAX)
    });
    RouteDay {
        slots,
        rounds: rounds.len() as u32,
        open_rounds: rounds.iter().filter(|r| r.ended_at.is_none()).count() as u32,
        overdue_rounds: rounds.iter().filter(|r| r.overdue).count() as u32,
        missed,
    }
}
