//! # kutse-retry
//!
//! The one back-off schedule Kutse uses wherever it waits before trying again (a broker session,
//! a database outage under the consumer or the relay, token keys, a failing background worker):
//! the wait doubles from `initial` up to `max`, each wait shortened by a random part of up to a
//! fifth ("jitter"), so that replicas that failed together do not retry together. A success
//! resets it.
//!
//! Message retries are not here: their delays are the broker's delay queues (see
//! `kutse_messaging::topology`).

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// A growing wait between attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Waits of `initial`, doubling, at most `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            next: initial,
        }
    }

    /// The wait before the next attempt (with jitter); the one after it will be longer.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        jitter(delay)
    }

    /// The wait before attempt `attempt + 1` after `attempt` failures (counting from 0), for
    /// schedules kept in a database rather than in a running `Backoff`.
    pub fn delay_for(attempt: u32, initial: Duration, max: Duration) -> Duration {
        let grown = initial.saturating_mul(2u32.saturating_pow(attempt.min(20)));
        jitter(grown.min(max))
    }

    /// After a success: the next wait is the initial one again.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// `delay` less a random part of up to a fifth of it.
fn jitter(delay: Duration) -> Duration {
    // A per-process random seed (std's `RandomState`) hashed with the time: no dependency for a
    // number that only needs to differ between replicas.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let fraction = (hasher.finish() % 1000) as f64 / 1000.0;
    delay.mul_f64(1.0 - 0.2 * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_limit_with_at_most_a_fifth_taken_off_and_reset_after_success() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
        let expected = [100, 200, 400, 500, 500];
        for full in expected {
            let delay = backoff.next_delay().as_millis();
            assert!(
                (full * 8 / 10..=full).contains(&delay),
                "{delay} ms is not within a fifth below {full} ms"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
