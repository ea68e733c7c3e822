// A rejected label domain still implements `LabelValue`, so the families using it add no errors.
use only1mcp_obs::LabelValue;

#[derive(Clone, Copy, LabelValue)]
pub enum Region {
    #[label(value = "eu")]
    Eu,
    #[label(value = "eu")]
    EuWest,
    Us,
}

only1mcp_obs::metrics! {
    /// Requests per region.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { region: Region },
    }
}

fn main() {
    REQUESTS.labels(Region::Us).inc();
    let _ = (Region::Eu, Region::EuWest, Region::ALL);
}
