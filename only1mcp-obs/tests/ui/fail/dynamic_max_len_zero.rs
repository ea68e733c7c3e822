only1mcp_obs::metrics! {
    pub dynamic Tenant { max: 10, overflow: "_other", max_len: 0 }
}
fn main() {}
