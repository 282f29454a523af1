//! The kill-during-send loop. The fault suite already has it as a bench-sized test
//! (`tests/tests/client_faults.rs`, `killed_right_after_sending_a_decision_many_times`): the
//! real server, the real `countersign` CLI sending an approval through the fault proxy, which
//! holds either the request (the server has not acted) or the answer (it acted, the client
//! never heard), SIGKILL, then a fresh sync — and after every iteration the request must have
//! exactly one approval and the outbox must be empty. The runner runs that test with the
//! iteration count and reads its verdict, rather than keeping a second copy of the loop.

use std::process::Stdio;
use std::time::Instant;

use anyhow::Context as _;

use crate::report::{Figure, Verdict};

pub async fn run(iterations: usize) -> anyhow::Result<Vec<Figure>> {
    let started = Instant::now();
    let out = tokio::process::Command::from(crate::cargo())
        .args([
            "test",
            "-q",
            "-p",
            "countersign-e2e",
            "--test",
            "client_faults",
            "--",
        ])
        .args([
            "--ignored",
            "--exact",
            "killed_right_after_sending_a_decision_many_times",
        ])
        .arg("--nocapture")
        .env("COUNTERSIGN_KILL_LOOP", iterations.to_string())
        .stdin(Stdio::null())
        .output()
        .await
        .context("run cargo test")?;
    let took = started.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let done = text
        .lines()
        .find(|l| l.contains("kills right after sending a decision in"))
        .map(str::to_owned);
    let (ours, verdict, note) = match (out.status.success(), done) {
        (true, Some(line)) => (
            format!("{iterations} iterations, 0 lost, 0 doubled"),
            Verdict::of(iterations >= 500),
            format!(
                "`client_faults::killed_right_after_sending_a_decision_many_times` (debug \
                 build, real CLI processes, every iteration checked against the server): \
                 {line}; {:.0} s with the build.",
                took.as_secs_f64()
            ),
        ),
        _ => {
            let why = text
                .lines()
                .find(|l| l.contains("panicked") || l.contains("iteration"))
                .unwrap_or("the test failed")
                .to_owned();
            (
                "failed".to_owned(),
                Verdict::Missed,
                format!("the loop stopped: {why}"),
            )
        }
    };
    Ok(vec![Figure {
        name: "kill-during-send loop: iterations, lost or doubled decisions".into(),
        ours,
        baseline: "—".into(),
        ratio: "—".into(),
        goal: "≥ 500, 0".into(),
        verdict,
        note,
    }])
}
