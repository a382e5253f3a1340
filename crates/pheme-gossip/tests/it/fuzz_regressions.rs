//! Every input the `gossip_decode` fuzz target (`fuzz/`) ever crashed on, replayed through the
//! same code: `testdata/fuzz-regressions/`, one file per crash, named after the bug.

use pheme_gossip::fuzzing::gossip_decode;

#[test]
fn fuzz_crashes_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fuzz-regressions");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        assert_eq!(gossip_decode(&bytes), Ok(()), "{}", entry.path().display());
        replayed += 1;
    }
    assert!(replayed >= 1, "no regression inputs in {}", dir.display());
}
