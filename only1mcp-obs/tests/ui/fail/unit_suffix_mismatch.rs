only1mcp_obs::metrics! {
    /// Response size.
    pub histogram RESPONSE_SIZE = "demo_response_size_seconds" {
        unit: bytes,
        buckets: [1024.0, 4096.0],
    }
}
fn main() {}
