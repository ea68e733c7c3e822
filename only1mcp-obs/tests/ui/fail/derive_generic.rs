#[derive(Clone, Copy, only1mcp_obs::LabelValue)]
pub enum Zone<const N: usize> {
    East,
    West,
}
fn main() {}
