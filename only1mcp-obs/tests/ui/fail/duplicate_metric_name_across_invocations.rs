mod a {
    only1mcp_obs::metrics! {
        /// Requests.
        pub counter REQUESTS = "demo_requests_total" {}
    }
}
mod b {
    only1mcp_obs::metrics! {
        /// Requests, declared again in another module.
        pub counter REQUESTS = "demo_requests_total" {}
    }
}
fn main() {}
