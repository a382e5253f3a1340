#!/usr/bin/env bash
# Runs Pheme's cargo-fuzz targets (fuzz/) one after another, each for a fixed time, and prints
# one line of figures per target. Needs the nightly toolchain and cargo-fuzz
# (`rustup toolchain install nightly && cargo install cargo-fuzz`).
#
#   scripts/fuzz.sh [--time SECONDS] [--seed] [--cmin] [TARGET...]
#
#   --time S   seconds per target (default 60)
#   --seed     first (re)write the seed inputs: real encodings from fuzz_seeds, the
#              consensus-spec-tests vectors ($SPEC_TESTS_DIR), bootnode ENRs and config.yaml files
#   --cmin     afterwards, minimise each target's corpus (fuzz/corpus/TARGET, committed)
#   TARGET     any of: gossip_decode topic_parse rpc_chunk enr_fields config_yaml router_rpc
#              (default: all)
#
# Crashes are left in fuzz/artifacts/TARGET/ and make the script exit 1; logs are in
# fuzz/logs/TARGET.log. A crash found is a bug: fix it and keep the input as a regression test
# (crates/<crate>/testdata/fuzz-regressions/).
set -euo pipefail
cd "$(dirname "$0")/.."

time_s=60
seed=0
cmin=0
targets=()
while (($#)); do
    case "$1" in
        --time) time_s="$2"; shift 2 ;;
        --seed) seed=1; shift ;;
        --cmin) cmin=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=(gossip_decode topic_parse rpc_chunk enr_fields config_yaml router_rpc)

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
# No sanitizer (the code is safe Rust; -a keeps overflow checks and debug assertions on).
flags=(--sanitizer none --debug-assertions)

if ((seed)); then
    spec="${SPEC_TESTS_DIR:-../shared/spec-tests/tests}"
    cargo run --quiet -p pheme-network --example fuzz_seeds -- fuzz/corpus
    # gossip_decode: spec-test vectors of each gossip type on mainnet's fulu digest (index 6 of
    # the digest schedule; deneb is 4), input [kind index][digest index][slot u64][wire bytes].
    g=fuzz/corpus/gossip_decode
    seed_vector() { # fork type kind-index digest-index
        local dir="$spec/mainnet/$1/ssz_static/$2/ssz_random"
        [[ -d "$dir" ]] || return 0
        for case in "$dir"/case_0 "$dir"/case_1; do
            [[ -f "$case/serialized.ssz_snappy" ]] || continue
            { printf "\\x$(printf %02x "$3")\\x$(printf %02x "$4")\\0\\0\\0\\0\\0\\0\\0\\0"
              cat "$case/serialized.ssz_snappy"; } >"$g/spec-$1-$2-$(basename "$case")"
        done
    }
    seed_vector fulu SignedBeaconBlock 0 6
    seed_vector fulu SignedAggregateAndProof 1 6
    seed_vector fulu SingleAttestation 2 6
    seed_vector fulu SignedVoluntaryExit 66 6
    seed_vector fulu ProposerSlashing 67 6
    seed_vector fulu AttesterSlashing 68 6
    seed_vector fulu SignedContributionAndProof 69 6
    seed_vector fulu SyncCommitteeMessage 70 6
    seed_vector fulu SignedBLSToExecutionChange 74 6
    seed_vector fulu DataColumnSidecar 75 6
    seed_vector deneb BlobSidecar 75 4
    seed_vector deneb Attestation 2 4
    # topic_parse: topics of every kind (and bad neighbours).
    t=fuzz/corpus/topic_parse
    mkdir -p "$t"
    for name in beacon_block beacon_aggregate_and_proof beacon_attestation_17 voluntary_exit \
        proposer_slashing attester_slashing sync_committee_contribution_and_proof \
        sync_committee_3 bls_to_execution_change blob_sidecar_5 data_column_sidecar_127; do
        printf '/eth2/8c9f62fe/%s/ssz_snappy' "$name" >"$t/$name"
    done
    printf '/eth2/8C9F62FE/beacon_attestation_017/ssz_snappy' >"$t/bad-case-padding"
    # enr_fields: the bootnodes' ENR text (mode 0), field values (mode 1), raw fields (mode 2).
    e=fuzz/corpus/enr_fields
    mkdir -p "$e"
    i=0
    for enr in $(grep -ho 'enr:[A-Za-z0-9_-]*' crates/pheme-spec/data/bootnodes/*.yaml | sort -u | head -40); do
        { printf '\0'; printf '%s' "$enr"; } >"$e/bootnode-$i"
        i=$((i + 1))
    done
    printf '\x01\x8c\x9f\x62\xfe\x06\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff' >"$e/field-eth2"
    printf '\x01\xff\xff\xff\xff\xff\xff\xff\xff' >"$e/field-attnets"
    printf '\x01\x0f' >"$e/field-syncnets"
    printf '\x01\x80' >"$e/field-cgc"
    printf '\x02\x04\x00\x91\x8c\x9f\x62\xfe\x06\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x01\x09\x88\xff\xff\xff\xff\xff\xff\xff\xff\x03\x02\x81\x80\x04\x05\x84\x8c\x9f\x62\xfe' >"$e/signed-fields"
    # config_yaml: the configs of the built-in networks and the test devnets.
    c=fuzz/corpus/config_yaml
    mkdir -p "$c"
    for f in crates/pheme-spec/testdata/*/config.yaml; do
        cp "$f" "$c/$(basename "$(dirname "$f")").yaml"
    done
fi

mkdir -p fuzz/logs
cd fuzz
status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    log="logs/$target.log"
    cargo +nightly fuzz run "${flags[@]}" "$target" "corpus/$target" -- \
        -max_total_time="$time_s" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1 || status=1
    execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    speed=$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
    ft=$(grep -ao 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
    crashes=$(find "artifacts/$target" -type f 2>/dev/null | wc -l)
    printf '%-14s %4ss  execs %-10s  execs/s %-7s  cov %-6s  ft %-6s  artifacts %s\n' \
        "$target" "$time_s" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
    if ((cmin)); then
        cargo +nightly fuzz cmin "${flags[@]}" "$target" "corpus/$target" >>"$log" 2>&1 || status=1
        # Block-sized inputs stay out of the committed corpus: --seed writes them again.
        find "corpus/$target" -type f -size +32k -delete
    fi
done
exit "$status"
