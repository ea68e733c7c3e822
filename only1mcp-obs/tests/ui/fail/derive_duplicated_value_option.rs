#[derive(Clone, Copy, only1mcp_obs::LabelValue)]
pub enum Outcome {
    #[label(value = "ok", value = "success")]
    Ok,
    Failed,
}
fn main() {}
