//! Integrations with MCP libraries, each behind a cargo feature.

#[cfg(feature = "rmcp")]
pub mod rmcp;
