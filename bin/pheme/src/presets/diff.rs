//! Field-by-field comparison of two presets.

use serde_json::Value;

/// One differing field: its dotted path and both values (`None` where absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    /// `peer_score_params.topics.beacon_block.topic_weight`.
    pub path: String,
    /// Value on the left.
    pub left: Option<String>,
    /// Value on the right.
    pub right: Option<String>,
}

/// Flattens a value to `(dotted path, scalar)` pairs in document order.
pub fn flatten(value: &Value) -> Vec<(String, String)> {
    fn walk(v: &Value, path: &mut String, out: &mut Vec<(String, String)>) {
        let mut child = |key: &str, v: &Value, out: &mut Vec<(String, String)>| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            walk(v, path, out);
            path.truncate(len);
        };
        match v {
            Value::Object(map) if !map.is_empty() => map.iter().for_each(|(k, v)| child(k, v, out)),
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| child(&i.to_string(), v, out)),
            Value::String(s) => out.push((path.clone(), s.clone())),
            other => out.push((path.clone(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk(value, &mut String::new(), &mut out);
    out
}

/// Numbers equal to 12 significant digits are the same value computed in another float order.
fn same(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
        _ => false,
    }
}

/// Every field whose value differs, in the left document's order, then right-only fields.
pub fn diff(left: &Value, right: &Value) -> Vec<FieldDiff> {
    let l = flatten(left);
    let r = flatten(right);
    let right_map: std::collections::HashMap<&str, &str> =
        r.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let left_keys: std::collections::HashSet<&str> = l.iter().map(|(k, _)| k.as_str()).collect();
    let mut out = Vec::new();
    for (k, v) in &l {
        match right_map.get(k.as_str()) {
            Some(rv) if same(rv, v) => {}
            other => out.push(FieldDiff {
                path: k.clone(),
                left: Some(v.clone()),
                right: other.map(|s| (*s).to_owned()),
            }),
        }
    }
    for (k, v) in &r {
        if !left_keys.contains(k.as_str()) {
            out.push(FieldDiff {
                path: k.clone(),
                left: None,
                right: Some(v.clone()),
            });
        }
    }
    out
}

/// Prints differences as an aligned three-column table.
pub fn table(diffs: &[FieldDiff], left_name: &str, right_name: &str) -> String {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let w0 = diffs
        .iter()
        .map(|d| d.path.len())
        .chain(["field".len()])
        .max()
        .unwrap_or(5);
    let w1 = diffs
        .iter()
        .map(|d| show(&d.left).len())
        .chain([left_name.len()])
        .max()
        .unwrap_or(1);
    let mut out = format!("{:w0$}  {:w1$}  {}\n", "field", left_name, right_name);
    for d in diffs {
        out.push_str(&format!(
            "{:w0$}  {:w1$}  {}\n",
            d.path,
            show(&d.left),
            show(&d.right)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_changed_missing_and_added_fields() {
        let a = json!({"t": {"x": 1.0, "y": [1, 2]}, "only_a": true, "same": "s"});
        let b = json!({"t": {"x": 2.5, "y": [1, 3]}, "only_b": null, "same": "s"});
        let d = diff(&a, &b);
        let paths: Vec<_> = d.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["t.x", "t.y.1", "only_a", "only_b"]);
        assert_eq!(d[0].right.as_deref(), Some("2.5"));
        assert_eq!(d[2].right, None);
        assert!(diff(&a, &a).is_empty());
        assert!(
            diff(
                &json!({"x": 1041.6666666666667}),
                &json!({"x": 1041.6666666666665})
            )
            .is_empty()
        );
        assert!(table(&d, "A", "B").lines().count() == 5);
    }
}
