#[derive(Clone, Copy, only1mcp_obs::LabelValue)]
pub struct Region(u8);
fn main() {}
