only1mcp_obs::metrics! {
    pub dynamic Tenant { overflow: "_other" }
}
fn main() {}
