only1mcp_obs::metrics! {
    pub dynamic Tenant { max: 70000, overflow: "_other" }
}
fn main() {}
