// Only a domain with values marked `#[label(error)]` has failures to select.
use only1mcp_obs::LabelValue;

#[derive(Clone, Copy, LabelValue)]
enum Queue {
    Fast,
    Slow,
}

only1mcp_obs::metrics! {
    /// Jobs run.
    pub counter JOBS = "demo_jobs_total" {
        labels: { queue: Queue },
    }
}

fn main() {
    let _ = JOBS.label_refs().queue.failed();
}
