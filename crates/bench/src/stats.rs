//! Latency samples and their percentiles (nearest rank: the value below which `p` percent of
//! the samples lie, always one that was measured).

use std::time::Duration;

#[derive(Debug, Default, Clone)]
pub struct Samples {
    sorted: Vec<Duration>,
}

impl Samples {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self { sorted: samples }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The `p`th percentile (0 < p ≤ 100); zero for no samples.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let n = self.sorted.len();
        // ceil(p/100 · n) as a 1-based rank, kept within 1..=n.
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.sorted[rank.clamp(1, n) - 1]
    }

    pub fn median(&self) -> Duration {
        self.percentile(50.0)
    }

    pub fn p99(&self) -> Duration {
        self.percentile(99.0)
    }

    /// "p50 1.23 ms, p99 4.56 ms (n = 200)"
    pub fn summary(&self) -> String {
        format!(
            "p50 {}, p99 {} (n = {})",
            ms(self.median()),
            ms(self.p99()),
            self.len()
        )
    }
}

/// A duration in milliseconds with sensible precision.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// A duration in seconds.
pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// `a / b` as "1.23×", or "—" when `b` is zero.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "—".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(v: &[u64]) -> Samples {
        Samples::new(v.iter().map(|m| Duration::from_millis(*m)).collect())
    }

    #[test]
    fn nearest_rank_percentiles_pick_a_measured_value() {
        let s = millis(&[5, 1, 4, 2, 3]);
        assert_eq!(s.median(), Duration::from_millis(3), "the middle of five");
        assert_eq!(
            s.p99(),
            Duration::from_millis(5),
            "p99 of five is the largest"
        );
        assert_eq!(s.percentile(20.0), Duration::from_millis(1));
        assert_eq!(s.percentile(21.0), Duration::from_millis(2));
    }

    #[test]
    fn p99_of_a_hundred_is_the_ninety_ninth() {
        let s = millis(&(1..=100).rev().collect::<Vec<_>>());
        assert_eq!(s.p99(), Duration::from_millis(99));
        assert_eq!(s.median(), Duration::from_millis(50));
    }

    #[test]
    fn no_samples_is_zero_not_a_panic() {
        assert_eq!(Samples::default().p99(), Duration::ZERO);
    }

    #[test]
    fn ratios_and_units() {
        assert_eq!(ratio(3.0, 2.0), "1.50×");
        assert_eq!(ratio(1.0, 0.0), "—");
        assert_eq!(ms(Duration::from_micros(1234)), "1.23 ms");
        assert_eq!(ms(Duration::from_millis(250)), "250 ms");
        assert_eq!(secs(Duration::from_millis(1500)), "1.50 s");
    }
}
