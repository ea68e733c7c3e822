only1mcp_obs::metrics! {
    pub dynamic Tenant { max: 10, overflow: "_overflow", max_len: 4 }
}
fn main() {}
