//! The Grafana dashboard only queries metrics Pheme exports.

#[test]
fn the_dashboard_names_only_exported_metrics() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana/pheme-observe.json"
    );
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let known: Vec<&str> = pheme_network::METRIC_DESCRIPTIONS
        .iter()
        .map(|(n, _)| *n)
        .collect();
    let mut checked = 0;
    for panel in dash["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            for (i, _) in expr.match_indices("pheme_") {
                let name: String = expr[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let base = name.strip_suffix("_bucket").unwrap_or(&name);
                assert!(known.contains(&base), "{base} is not exported");
                checked += 1;
            }
        }
    }
    assert!(checked >= 14);
}
