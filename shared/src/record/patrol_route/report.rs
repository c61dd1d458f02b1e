//! What the office sees of a route per day: which of its due rounds were done, which were
//! not, and the checkpoints the rounds missed. Worked out from the rounds' summaries, so the
//! office list's data is enough, against the route as the office set it (the revision in
//! force when each round started), never against the plan a round carries: a phone that
//! copied a shorter plan into its round would otherwise make a skipped checkpoint vanish.

use std::collections::HashSet;

use super::{parse_time_of_day, PatrolRoute};
use crate::record::patrol_log::is_overdue;

/// A round counts for a due time if it started at most this long before it.
pub const EARLY_START_MINUTES: u32 = 30;

/// What the report reads of one round of the route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundFacts<'a> {
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// The IDs of the route's checkpoints the round visited (scanned or picked).
    pub visited: &'a [String],
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

/// The day that starts at `day_start` (local midnight, ms since the Unix epoch) for `route`,
/// from the rounds of the route started that day (any order), seen at `now`. The due times
/// are those in force at the end of the day (or now, today).
pub fn route_day(
    route: &PatrolRoute,
    rounds: &[RoundFacts<'_>],
    day_start: i64,
    now: i64,
) -> RouteDay {
    let minute = 60_000_i64;
    let Some(revision) = route.revision_at(now.min(day_start + 24 * 60 * minute - 1)) else {
        return RouteDay {
            slots: Vec::new(),
            rounds: 0,
            open_rounds: 0,
            overdue_rounds: 0,
            missed: Vec::new(),
        };
    };
    let allowed = i64::from(revision.max_minutes) * minute;
    let mut starts: Vec<i64> = rounds.iter().map(|r| r.started_at).collect();
    starts.sort_unstable();
    let mut used = vec![false; starts.len()];
    let mut slots = Vec::new();
    let mut due: Vec<(u32, &String)> = revision
        .due_times
        .iter()
        .filter_map(|t| Some((parse_time_of_day(t)?, t)))
        .collect();
    due.sort_unstable();
    for (minutes, text) in due {
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
    let mut overdue_rounds = 0;
    for round in rounds {
        let Some(asked) = route.revision_at(round.started_at) else {
            continue;
        };
        if is_overdue(
            round.started_at,
            round.ended_at,
            Some(asked.max_minutes),
            now,
        ) {
            overdue_rounds += 1;
        }
        if round.ended_at.is_none() {
            continue;
        }
        let visited: HashSet<&str> = round.visited.iter().map(String::as_str).collect();
        for checkpoint in asked
            .checkpoints
            .iter()
            .filter(|c| !visited.contains(c.id.as_str()))
        {
            match missed.iter_mut().find(|(n, _)| *n == checkpoint.name) {
                Some((_, count)) => *count += 1,
                None => missed.push((checkpoint.name.clone(), 1)),
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
        overdue_rounds,
        missed,
    }
}
