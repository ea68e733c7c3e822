//! Every committed dashboard (the aggregator's generated ones, under `dashboards/`) against
//! Grafana's published dashboard schema: the TypeScript types of `@grafana/schema` (pinned in
//! `tests/peers/node`), checked by the TypeScript compiler. Each dashboard is an object literal
//! typed `Dashboard`, so a misspelt or unknown field, a value of the wrong type, a value outside
//! an enum or a missing required field fails the check.

use only1mcp_obs_e2e::peers::{self, Node};
use std::path::PathBuf;
use std::time::Duration;

/// The committed dashboards: file stem and JSON text.
fn committed() -> Vec<(String, String)> {
    let dir = only1mcp_obs_e2e::workspace_root().join("dashboards");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("dashboards/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().expect("stem").to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&p).expect("read"))
        })
        .collect()
}

/// The schema's type, with its string enums (`ThresholdsMode`, ...) also taking their values
/// as plain strings, which is what JSON holds. Every other check stays as strict: unknown
/// properties, wrong types, missing required fields, values outside an enum.
const PRELUDE: &str = r#"import type { Dashboard } from "@grafana/schema";
type Json<T> = T extends string ? `${T}`
  : T extends Array<infer U> ? Array<Json<U>>
  : T extends object ? { [K in keyof T]: Json<T[K]> }
  : T;
"#;

#[test]
fn every_generated_dashboard_matches_grafanas_schema() {
    let Some(node) = Node::installed() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(
        node.dir.join("node_modules"),
        dir.path().join("node_modules"),
    )
    .expect("link node_modules");
    std::fs::write(
        dir.path().join("tsconfig.json"),
        r#"{ "compilerOptions": { "strict": true, "noEmit": true, "module": "nodenext",
             "moduleResolution": "nodenext", "target": "es2022", "skipLibCheck": true },
           "include": ["*.ts"] }"#,
    )
    .expect("tsconfig");
    let all = committed();
    assert_eq!(
        all.len(),
        5,
        "{:?}",
        all.iter().map(|d| &d.0).collect::<Vec<_>>()
    );
    for (name, json) in &all {
        std::fs::write(
            dir.path().join(format!("{name}.ts")),
            format!("{PRELUDE}export const dashboard: Json<Dashboard> = {json};\n"),
        )
        .expect("write");
    }
    let tsc = node.dir.join("node_modules/typescript/bin/tsc");
    let out = peers::run(
        node.command().arg(&tsc).arg("-p").arg(dir.path()),
        Duration::from_secs(120),
    );
    assert!(
        out.success,
        "tsc rejects the generated dashboards:\n{}{}",
        out.stdout, out.stderr
    );
    println!("{} dashboards match @grafana/schema", all.len());

    // The check has teeth: a misspelt field and a value outside an enum are refused.
    let overview = all
        .iter()
        .find(|(name, _)| name == "only1mcp-overview")
        .map(|(_, json)| json)
        .expect("the overview dashboard");
    let broken = overview.replacen("\"gridPos\"", "\"gridpos\"", 1).replacen(
        "\"mode\": \"absolute\"",
        "\"mode\": \"absolut\"",
        1,
    );
    for (name, _) in &all {
        std::fs::remove_file(dir.path().join(format!("{name}.ts"))).expect("remove");
    }
    std::fs::write(
        dir.path().join("broken.ts"),
        format!("{PRELUDE}export const dashboard: Json<Dashboard> = {broken};\n"),
    )
    .expect("write");
    let out = peers::run(
        node.command().arg(&tsc).arg("-p").arg(dir.path()),
        Duration::from_secs(120),
    );
    assert!(!out.success, "tsc accepted a broken dashboard");
    assert!(
        out.stdout.contains("'\"gridpos\"' does not exist"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\"absolut\""), "{}", out.stdout);
}
