//! Sign-in rate limiting: failed attempts are counted per account and per client address
//! over a sliding window; past the limit every attempt is answered 429 until the window
//! moves on. Successful sign-ins do not count, so a guard who signs in often is not locked out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per account within the window.
pub const PER_ACCOUNT: usize = 10;
/// Failed attempts allowed per client address within the window.
pub const PER_ADDRESS: usize = 50;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

fn keys(account: &str, address: &str) -> [(String, usize); 2] {
    [
        (format!("account:{}", account.to_lowercase()), PER_ACCOUNT),
        (format!("address:{address}"), PER_ADDRESS),
    ]
}

impl SignInLimiter {
    /// How long to wait before trying again, if the limit is reached.
    pub fn blocked_for(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        keys(account, address).into_iter().find_map(|(key, limit)| {
            let times = failures.get_mut(&key)?;
            times.retain(|t| now.duration_since(*t) < WINDOW);
            (times.len() >= limit).then(|| {
                times
                    .first()
                    .map_or(WINDOW, |first| WINDOW - now.duration_since(*first))
            })
        })
    }

    pub fn record_failure(&self, account: &str, address: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, _) in keys(account, address) {
            failures.entry(key).or_default().push(now);
        }
        // Keep memory bounded under a flood of distinct keys.
        if failures.len() > 100_000 {
            failures.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_is_blocked_after_too_many_failures_and_freed_after_the_window() {
        let limiter = SignInLimiter::default();
        let start = Instant::now();
        for _ in 0..PER_ACCOUNT {
            assert!(limiter.blocked_for("guard", "10.0.0.1", start).is_none());
            limiter.record_failure("guard", "10.0.0.1", start);
        }
        assert!(
            limiter.blocked_for("GUARD", "10.0.0.2", start).is_some(),
            "per account, any address"
        );
        assert!(
            limiter.blocked_for("clerk", "10.0.0.3", start).is_none(),
            "other accounts unaffected"
        );
        assert!(limiter
            .blocked_for("guard", "10.0.0.1", start + WINDOW)
            .is_none());
    }
}
