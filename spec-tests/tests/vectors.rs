//! Runs every vector under `SPEC_TESTS_DIR` (default `../shared/spec-tests/tests`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn consensus_spec_tests() {
    let root = pheme_spec_tests::default_root();
    assert!(
        root.is_dir(),
        "no vectors at {} (set SPEC_TESTS_DIR)",
        root.display()
    );
    let report = pheme_spec_tests::run(&root);
    for (handler, n) in &report.cases {
        println!("{n:5} cases  {handler}");
    }
    for (handler, (judged, undecided)) in &report.networking {
        println!(
            "{handler}: {judged} decided by stateless checks, {undecided} accepted statelessly (they need state; checked for no false drop)"
        );
    }
    let total: usize = report.cases.values().sum();
    assert!(total > 0, "no case found under {}", root.display());
    if !report.failures.is_empty() {
        let shown: Vec<_> = report.failures.iter().take(400).collect();
        panic!(
            "{} of {total} cases failed:\n{}",
            report.failures.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(
        report.unread.is_empty(),
        "{} vector files were never read, e.g. {:?}",
        report.unread.len(),
        report.unread.iter().take(5).collect::<Vec<_>>()
    );
}
