//! The runner itself, on a small tree in the upstream layout: custody cases pass, an unknown
//! handler fails by name, a file no case reads fails the run.

use std::path::Path;

fn case(root: &Path, path: &str, meta: &str) {
    let dir = root.join(path);
    std::fs::create_dir_all(&dir).unwrap();
    let parts: Vec<&str> = path.split('/').collect();
    let manifest = format!(
        "preset: {}\nfork: {}\nrunner: {}\nhandler: {}\nsuite: {}\ncase: {}\n",
        parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]
    );
    std::fs::write(dir.join("manifest.yaml"), manifest).unwrap();
    std::fs::write(dir.join("meta.yaml"), meta).unwrap();
}

#[test]
fn custody_cases_unknown_handlers_and_unread_files() {
    let root = std::env::temp_dir().join(format!("pheme-spec-tests-runner-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    case(
        &root,
        "minimal/fulu/networking/get_custody_groups/pyspec_tests/zero",
        "node_id: 0\ncustody_group_count: 4\nresult: [1, 17, 87, 102]\n",
    );
    let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    case(
        &root,
        "minimal/fulu/networking/get_custody_groups/pyspec_tests/max",
        &format!(
            "node_id: {max}\ncustody_group_count: 8\nresult: [1, 17, 19, 42, 47, 75, 87, 102]\n"
        ),
    );
    case(
        &root,
        "minimal/fulu/networking/compute_columns_for_custody_group/pyspec_tests/g5",
        "custody_group: 5\nresult: [5]\n",
    );
    let report = pheme_spec_tests::run(&root);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.cases.values().sum::<usize>(), 3);
    assert!(report.unread.is_empty());

    // A handler the runner does not know fails by name; a stray file is reported unread.
    case(
        &root,
        "minimal/fulu/networking/get_custody_columns/pyspec_tests/new",
        "x: 1\n",
    );
    std::fs::write(
        root.join("minimal/fulu/networking/get_custody_groups/pyspec_tests/zero/extra.yaml"),
        "a: 1\n",
    )
    .unwrap();
    let report = pheme_spec_tests::run(&root);
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.contains("unknown networking handler \"get_custody_columns\"")),
        "{:?}",
        report.failures
    );
    assert!(
        report.unread.iter().any(|p| p.ends_with("extra.yaml")),
        "{:?}",
        report.unread
    );
    std::fs::remove_dir_all(&root).unwrap();
}
