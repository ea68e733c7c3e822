#[derive(Clone, Copy, only1mcp_obs::LabelValue)]
pub enum Outcome {
    #[label(name = "ok")]
    Ok,
    Failed,
}
fn main() {}
