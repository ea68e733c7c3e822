// Only a histogram has bucket series.
only1mcp_obs::metrics! {
    /// Jobs run.
    pub counter JOBS = "demo_jobs_total" {}
}

fn main() {
    let _ = JOBS.promql().bucket();
}
