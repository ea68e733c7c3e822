const TARGET: f64 = 99.9;

only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { status: ["ok", "error"] },
        objectives: [availability(TARGET)],
    }
}
fn main() {
    let _ = TARGET;
}
