//! Sign-in throttling: after a few failures an account (or a source address) is locked for a
//! while, and each further failure doubles the lock, up to a ceiling. Pure functions over
//! [`ThrottleState`]; the store keeps the state so that every replica sees the same count.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::store::ThrottleState;

/// How many failures are free and how long the lock-outs last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottlePolicy {
    /// Failures allowed within `window_secs` before the first lock-out.
    pub free_failures: u32,
    /// Length of the first lock-out; each further failure doubles it.
    pub lockout_secs: u64,
    /// The longest lock-out.
    pub max_lockout_secs: u64,
    /// Failures older than this are forgotten.
    pub window_secs: u64,
}

impl ThrottlePolicy {
    /// Per account: five tries, then 30 s, 60 s, 120 s … up to 15 minutes.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 5,
        lockout_secs: 30,
        max_lockout_secs: 15 * 60,
        window_secs: 15 * 60,
    };

    /// Per source address: generous, because an office may sit behind one NAT address.
    pub const SOURCE: ThrottlePolicy = ThrottlePolicy {
        free_failures: 30,
        lockout_secs: 60,
        max_lockout_secs: 15 * 60,
        window_secs: 15 * 60,
    };
}

/// How long until a sign-in may be tried again, if it is locked now.
pub fn locked_for(state: Option<&ThrottleState>, now: DateTime<Utc>) -> Option<Duration> {
    let until = state?.locked_until?;
    (until > now).then(|| until - now)
}

/// The state after one more failed sign-in at `now`.
pub fn after_failure(
    state: Option<&ThrottleState>,
    now: DateTime<Utc>,
    policy: &ThrottlePolicy,
) -> ThrottleState {
    let window = Duration::seconds(i64::try_from(policy.window_secs).unwrap_or(i64::MAX / 2));
    let still_locked = locked_for(state, now).is_some();
    let (failures, window_started_at) = match state {
        Some(s) if still_locked || now - s.window_started_at <= window => {
            (s.failures.saturating_add(1), s.window_started_at)
        }
        _ => (1, now),
    };
    let locked_until = (failures >= policy.free_failures).then(|| {
        let doublings = (failures - policy.free_failures).min(20);
        let secs = policy
            .lockout_secs
            .saturating_mul(1u64 << doublings)
            .min(policy.max_lockout_secs);
        now + Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 2))
    });
    ThrottleState {
        failures,
        window_started_at,
        locked_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn fail_n(n: u32, at: DateTime<Utc>, policy: &ThrottlePolicy) -> Option<ThrottleState> {
        (0..n).fold(None, |s, _| Some(after_failure(s.as_ref(), at, policy)))
    }

    #[test]
    fn the_free_failures_do_not_lock() {
        let p = ThrottlePolicy::ACCOUNT;
        let s = fail_n(p.free_failures - 1, t(0), &p);
        assert_eq!(locked_for(s.as_ref(), t(0)), None);
    }

    #[test]
    fn the_fifth_failure_locks_for_thirty_seconds() {
        let p = ThrottlePolicy::ACCOUNT;
        let s = fail_n(p.free_failures, t(0), &p);
        assert_eq!(locked_for(s.as_ref(), t(0)), Some(Duration::seconds(30)));
        assert_eq!(locked_for(s.as_ref(), t(10)), Some(Duration::seconds(20)));
        assert_eq!(locked_for(s.as_ref(), t(30)), None, "lock ends on time");
    }

    #[test]
    fn each_further_failure_doubles_the_lock_up_to_the_ceiling() {
        let p = ThrottlePolicy::ACCOUNT;
        let mut s = fail_n(p.free_failures, t(0), &p);
        let mut expected = 30;
        for _ in 0..10 {
            s = Some(after_failure(s.as_ref(), t(0), &p));
            expected = (expected * 2).min(p.max_lockout_secs as i64);
            assert_eq!(
                locked_for(s.as_ref(), t(0)),
                Some(Duration::seconds(expected))
            );
        }
        assert_eq!(expected, 15 * 60);
    }

    #[test]
    fn old_failures_are_forgotten_after_the_window() {
        let p = ThrottlePolicy::ACCOUNT;
        let s = fail_n(p.free_failures - 1, t(0), &p);
        let later = t(p.window_secs as i64 + 1);
        let s = after_failure(s.as_ref(), later, &p);
        assert_eq!(s.failures, 1);
        assert_eq!(locked_for(Some(&s), later), None);
    }
}
