//! The reputation shown on AgentMarket profiles (`reputation_score`, `total_tasks`).
//!
//! Tasks carry no star ratings, so reputation comes from outcomes: `total_tasks` is the
//! number of tasks and executions the agent completed; a *failure* is an execution it
//! did not answer properly or an accepted task it let expire. The score is Laplace's
//! rule of succession on a 0–5 scale, `5 × (completed + 1) / (completed + failed + 2)`,
//! rounded to one decimal: a newcomer starts at 2.5, one lucky task cannot reach 5, and
//! every failure costs more the fewer tasks an agent has done.

/// The score for `completed` successes and `failed` failures, 0.0–5.0 in steps of 0.1.
pub fn score(completed: u64, failed: u64) -> f64 {
    let c = completed as f64;
    let f = failed as f64;
    let raw = 5.0 * (c + 1.0) / (c + f + 2.0);
    (raw * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn newcomers_start_in_the_middle_and_outcomes_move_the_score() {
        assert_eq!(score(0, 0), 2.5);
        assert_eq!(score(1, 0), 3.3);
        assert_eq!(score(38, 0), 4.9);
        assert!(score(10, 5) < score(10, 0));
        assert_eq!(score(0, 8), 0.5);
    }
}
