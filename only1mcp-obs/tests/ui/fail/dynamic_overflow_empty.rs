only1mcp_obs::metrics! {
    pub dynamic Tenant { max: 10, overflow: "" }
}
fn main() {}
