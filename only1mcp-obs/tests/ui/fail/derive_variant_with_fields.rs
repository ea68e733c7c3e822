#[derive(Clone, Copy, only1mcp_obs::LabelValue)]
pub enum Outcome { Ok, Failed(u16) }
fn main() {}
