//! Test helpers for code instrumented with `only1mcp-obs`.
//!
//! [`promtool`] runs the real `promtool` from the Debian `prometheus` package.

pub mod promtool;
