use only1mcp_obs::LabelValue;

#[derive(Clone, Copy, LabelValue)]
pub enum Region { EuWest, EuCentral, UsEast, UsWest, ApSouth }

only1mcp_obs::metrics! {
    pub dynamic Tenant { max: 100, overflow: "_other" }
    pub dynamic Route { max: 20, overflow: "_other" }

    /// Requests per tenant, route and region.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { tenant: Tenant, route: Route, region: Region },
    }
}
fn main() {}
