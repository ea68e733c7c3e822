#[derive(Clone, Copy, only1mcp_obs::LabelValue)]
pub enum Outcome {
    #[label(value = "")]
    Unknown,
    Ok,
}
fn main() {}
