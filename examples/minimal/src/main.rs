//! Calls the instrumented tool once and prints the metrics page: the binary whose build time
//! and size the `full` feature (the runtime's default features) is compared with.

fn main() {
    let _current = only1mcp_obs_minimal::runtime(None).enter();
    if let Err(e) = only1mcp_obs_minimal::echo("hello") {
        eprintln!("echo failed: {e}");
    }
    print!("{}", only1mcp_obs::metrics::encode_text());
}
