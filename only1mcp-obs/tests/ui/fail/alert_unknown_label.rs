// An alert policy names labels through the family's typed references: a label the family does
// not declare does not compile.
use only1mcp_obs::LabelValue;

#[derive(Clone, Copy, LabelValue)]
enum Outcome {
    Ok,
    #[label(error)]
    Failed,
}

only1mcp_obs::metrics! {
    /// Jobs run.
    pub counter JOBS = "demo_jobs_total" {
        labels: { outcome: Outcome },
    }
}

fn main() {
    let _ = JOBS.label_refs().tenant.name();
}
