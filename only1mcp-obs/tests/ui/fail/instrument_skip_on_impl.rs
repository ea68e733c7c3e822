struct Server;

#[only1mcp_obs::mcp_instrumented(skip)]
impl Server {
    fn ping(&self) {}
}
fn main() {
    Server.ping();
}
