// A closed-domain value in a policy is one of the label's own values.
use only1mcp_obs::LabelValue;

#[derive(Clone, Copy, LabelValue)]
enum Outcome {
    Ok,
    #[label(error)]
    Failed,
}

#[derive(Clone, Copy, LabelValue)]
enum Queue {
    Fast,
    Slow,
}

only1mcp_obs::metrics! {
    /// Jobs run.
    pub counter JOBS = "demo_jobs_total" {
        labels: { outcome: Outcome, queue: Queue },
    }
}

fn main() {
    let _ = JOBS.label_refs().outcome.is(Queue::Fast);
}
