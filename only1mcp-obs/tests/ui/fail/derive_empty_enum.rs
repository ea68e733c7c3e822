#[derive(Clone, Copy, only1mcp_obs::LabelValue)]
pub enum Never {}
fn main() {}
