only1mcp_obs::metrics! {
    /// Seventeen labels.
    pub counter WIDE = "demo_wide_total" {
        labels: {
            a: ["x"], b: ["x"], c: ["x"], d: ["x"], e: ["x"], f: ["x"], g: ["x"], h: ["x"],
            i: ["x"], j: ["x"], k: ["x"], l: ["x"], m: ["x"], n: ["x"], o: ["x"], p: ["x"],
            q: ["x"],
        },
    }
}
fn main() {}
