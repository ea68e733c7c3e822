only1mcp_obs::metrics! {
    /// Distance.
    pub gauge DISTANCE = "demo_distance_furlongs" {
        unit: furlongs,
    }
}
fn main() {}
