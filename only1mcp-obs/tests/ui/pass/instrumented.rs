use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::{ClassifyError, ErrorClass};

#[derive(Debug)]
struct Failure;

impl ClassifyError for Failure {
    fn error_class(&self) -> ErrorClass {
        ErrorClass::JsonRpc(-32603)
    }
}

#[mcp_instrumented(method = "tools/call", target = name, kind = client, server_id = backend, fields(name, size = body.len()), level = debug)]
async fn forward(backend: &str, name: &str, body: Vec<u8>) -> Result<usize, Failure> {
    let n = body.len();
    if n == 0 { Err(Failure) } else { Ok(n) }
}

#[mcp_instrumented(method = "tools/call", fields("jsonrpc.request.id" = 7u64, "network.transport" = "tcp"))]
fn with_semconv_fields() {}

#[mcp_instrumented(method = method)]
fn dynamic(method: &str) -> Option<u8> {
    let _ = method;
    Some(1)
}

struct Server;

#[mcp_instrumented]
impl Server {
    fn ping(&self) {}
    async fn call_tool(&self, name: String) -> Result<String, std::io::Error> {
        Ok(name)
    }
    fn list_tools(&mut self) -> impl Iterator<Item = u8> {
        [1u8].into_iter()
    }
}

fn main() {
    let _ = forward("a", "b", vec![1]);
    let _ = dynamic("tools/list");
    with_semconv_fields();
    let mut s = Server;
    s.ping();
    let _ = s.call_tool("x".to_owned());
    let _ = s.list_tools().count();
}
