//! cargo run -p only1mcp-obs --bin only1mcp-obs-generate [-- --out DIR]
//!
//! Writes the dashboards, alert rules, rule tests, Alertmanager routing and deployment files
//! generated from the metric declarations into DIR (the current directory by default).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut out = PathBuf::from(".");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().ok_or("--out needs a directory")?.into(),
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: only1mcp-obs-generate [--out DIR]"
                )
                .into());
            }
        }
    }
    for path in only1mcp_obs::generate::write_all(&out)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}
