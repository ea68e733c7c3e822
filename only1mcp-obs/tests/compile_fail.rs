//! Every compile-time rule of `metrics!` and `#[derive(LabelValue)]` has one failing case in
//! `tests/ui/fail`, with the expected message in the `.stderr` next to it
//! (regenerate with `TRYBUILD=overwrite cargo test -p only1mcp-obs --test compile_fail`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
