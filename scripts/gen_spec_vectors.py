"""Writes consensus-spec-tests `ssz_static` vectors for the Gloas and Heze containers Pheme
speaks (and Fulu's partial column containers), and `networking` cases the shared set lacks,
with an executable spec.

    python scripts/gen_spec_vectors.py OUT_DIR                  (the pinned release)
    python scripts/gen_spec_vectors.py --from-source OUT_DIR    (a source-built spec)

Layout and files as upstream: `OUT_DIR/tests/<preset>/<fork>/ssz_static/<Container>/<suite>/
case_N/{manifest.yaml,serialized.ssz_snappy,roots.yaml,value.yaml}`. Values come from the spec's
own `get_random_ssz_object` with upstream's sizes (byte lists up to 1000 bytes, lists up to 10
elements), seeded per case from its path, so a run writes the same bytes every time.

The networking cases are the spec's own test functions run in generator mode, their yielded
parts written as upstream's dumper writes them: `meta.yaml`, `config.yaml`, `<name>.ssz_snappy`,
`manifest.yaml`, under `OUT_DIR/tests/minimal/<fork>/networking/<handler>/pyspec_tests/<case>/`
(the handler is the module's name without `test_`, the case the function's). With the release:
the fulu modules in `NETWORKING`. With `--from-source` (the release has no networking tests
after fulu): the `test_gossip_*` modules of every fork's `networking` tests, run at the forks
of `FROM_SOURCE` as upstream's reference tests run them.
scripts/gen-spec-vectors.sh installs the spec and runs this.
"""
import importlib
import sys
import zlib
from pathlib import Path
from random import Random

from eth_consensus_specs.debug.encode import encode
from eth_consensus_specs.debug.random_value import RandomizationMode, get_random_ssz_object
from eth_consensus_specs.utils.ssz.ssz_impl import hash_tree_root, serialize
from ruamel.yaml import YAML
from snappy import compress

# upstream's ssz_static generator sizes
MAX_BYTES_LENGTH = 1000
MAX_LIST_LENGTH = 10

# What gossip and req/resp carry from fulu on, and the containers inside them: the same
# selection as the shared fulu vectors, plus what Gloas and Heze add to the wire.
# Fulu gets only the partial column containers (gossipsub partial messages), which the shared
# fulu vectors lack.
FULU_WIRE = [
    "AggregateAndProof", "Attestation", "AttestationData", "AttesterSlashing",
    "BLSToExecutionChange", "BeaconBlock", "BeaconBlockHeader", "Checkpoint",
    "ContributionAndProof", "DataColumnSidecar", "DataColumnsByRootIdentifier", "Eth1Data",
    "ForkData", "IndexedAttestation", "ProposerSlashing", "SignedAggregateAndProof",
    "SignedBLSToExecutionChange", "SignedBeaconBlock", "SignedBeaconBlockHeader",
    "SignedContributionAndProof", "SignedVoluntaryExit", "SigningData", "SingleAttestation",
    "SyncAggregatorSelectionData", "SyncCommitteeContribution", "SyncCommitteeMessage",
    "VoluntaryExit",
]
GLOAS_WIRE = FULU_WIRE + [
    "BeaconBlockBody", "BuilderDepositRequest", "BuilderExitRequest", "ConsolidationRequest",
    "Deposit", "DepositData", "DepositRequest", "ExecutionPayload", "ExecutionPayloadBid",
    "ExecutionPayloadEnvelope", "ExecutionRequests", "IndexedPayloadAttestation",
    "PayloadAttestation", "PayloadAttestationData", "PayloadAttestationMessage",
    "ProposerPreferences", "SignedExecutionPayloadBid", "SignedExecutionPayloadEnvelope",
    "SignedProposerPreferences", "SyncAggregate", "Withdrawal", "WithdrawalRequest",
]
HEZE_WIRE = GLOAS_WIRE + ["InclusionList", "SignedInclusionList"]
# The rest of the release's Gloas and Heze containers: the beacon state and what it holds, light
# client messages, partial columns (Gloas's own), and what no message carries.
GLOAS_REST = [
    "BeaconState", "Builder", "BuilderPendingPayment", "BuilderPendingWithdrawal",
    "DepositMessage", "Eth1Block", "Fork", "HistoricalSummary", "LightClientBootstrap",
    "LightClientFinalityUpdate", "LightClientHeader", "LightClientOptimisticUpdate",
    "LightClientUpdate", "MatrixEntry", "PartialDataColumnGroupID",
    "PartialDataColumnPartsMetadata", "PartialDataColumnSidecar", "PendingConsolidation",
    "PendingDeposit", "PendingPartialWithdrawal", "PowBlock", "SyncCommittee", "Validator",
]
FULU_PARTIAL_COLUMNS = [
    "PartialDataColumnGroupID", "PartialDataColumnHeader", "PartialDataColumnPartsMetadata",
    "PartialDataColumnSidecar",
]
FORKS = {
    "fulu": FULU_PARTIAL_COLUMNS,
    "gloas": GLOAS_WIRE + GLOAS_REST,
    "heze": HEZE_WIRE + GLOAS_REST,
}

# suite -> (mode, cases). Upstream writes only ssz_random for mainnet; minimal also gets the
# edge suites (zero values, max values, empty lists, one-element lists).
SUITES = {
    "minimal": {
        "ssz_random": (RandomizationMode.mode_random, 2),
        "ssz_zero": (RandomizationMode.mode_zero, 1),
        "ssz_max": (RandomizationMode.mode_max, 1),
        "ssz_nil": (RandomizationMode.mode_nil_count, 1),
        "ssz_one": (RandomizationMode.mode_one_count, 1),
    },
    "mainnet": {"ssz_random": (RandomizationMode.mode_random, 2)},
}
# Fewer cases where one is large: a mainnet BeaconState's vectors are full-length whatever the
# list sizes (randao_mixes alone is 2 MiB), about 3 MB of SSZ and 7 MB of YAML a case.
CASES = {("mainnet", "BeaconState"): 1}


def default_yaml():
    """The YAML style of upstream's dumper (`test/utils/dumper.py`, which imports pytest):
    flow style for leaves, hex strings single-quoted."""
    yaml = YAML(pure=True)
    yaml.default_flow_style = None

    def represent_str(self, data):
        if data.startswith("0x"):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return self.represent_str(data)

    yaml.representer.add_representer(str, represent_str)
    return yaml


def write_case(yaml, out: Path, preset, fork, typ, name, suite, mode, case):
    rel = f"{preset}/{fork}/ssz_static/{name}/{suite}/case_{case}"
    rng = Random(zlib.crc32(rel.encode()))
    value = get_random_ssz_object(rng, typ, MAX_BYTES_LENGTH, MAX_LIST_LENGTH, mode, False)
    d = out / "tests" / rel
    d.mkdir(parents=True, exist_ok=True)
    (d / "serialized.ssz_snappy").write_bytes(compress(serialize(value)))
    with (d / "roots.yaml").open("w") as f:
        yaml.dump({"root": "0x" + hash_tree_root(value).hex()}, f)
    with (d / "value.yaml").open("w") as f:
        yaml.dump(encode(value), f)
    with (d / "manifest.yaml").open("w") as f:
        yaml.dump(
            {"preset": preset, "fork": fork, "runner": "ssz_static", "handler": name,
             "suite": suite, "case": f"case_{case}"},
            f,
        )


# The release's networking test modules Pheme runs: (fork, preset, module).
NETWORKING = [
    ("fulu", "minimal", "fulu.networking.test_gossip_beacon_block"),
    ("fulu", "minimal", "fulu.networking.test_gossip_data_column_sidecar"),
    ("fulu", "minimal", "fulu.networking.test_gossip_partial_data_column_sidecar"),
]


def write_networking(out: Path, modules):
    """Runs each networking test function of `modules` ((fork, preset, module) triples: the
    phase to run at, the preset, the module's dotted path under `eth_consensus_specs.test`) in
    generator mode and writes its parts. A function that does not run at the phase (its fork
    range or preset excludes it) writes nothing; two functions writing one case fail the run."""
    from eth_consensus_specs.test import context

    # Generator mode must be set before the test modules are imported (their decorators read
    # it), and outside pytest the phase decorators return the test's generator.
    context.is_generator = True
    context.is_pytest = False
    from eth_consensus_specs.test.utils.dumper import Dumper
    from eth_consensus_specs.utils.kzg import load_trusted_setup

    load_trusted_setup()
    dumper = Dumper()
    written = set()
    for fork, preset, module in modules:
        mod = importlib.import_module(f"eth_consensus_specs.test.{module}")
        handler = module.rsplit(".", 1)[-1].removeprefix("test_")
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            case = name.removeprefix("test_")
            try:
                parts = getattr(mod, name)(phase=fork, preset=preset)
            except context.SkippedTest:
                continue
            if parts is None:
                continue
            d = out / "tests" / preset / fork / "networking" / handler / "pyspec_tests" / case
            if d in written:
                raise SystemExit(f"two test functions write {d}")
            written.add(d)
            meta = {}
            for key, kind, value in parts:
                if kind == "meta":
                    meta[key] = value
                elif kind == "cfg":
                    dumper.dump_cfg(d, key, value)
                elif kind == "ssz":
                    dumper.dump_ssz(d, key, value)
                else:
                    dumper.dump_data(d, key, value)
            dumper.dump_meta(d, meta)
            dumper.dump_manifest(
                d,
                {"preset": preset, "fork": fork, "runner": "networking", "handler": handler,
                 "suite": "pyspec_tests", "case": case},
            )
    print(f"{len(written)} networking cases under {out / 'tests'}")


# `--from-source`: the gossip modules run at each fork after fulu, by module name (`None`: all).
# Gloas runs every module but Fulu's partial columns (Gloas changes partial columns, which
# Pheme's `PartialColumns` does not speak yet). Heze runs the two whose containers Heze changes
# (its blocks carry, and its bids are, EIP-7805's bid with inclusion list bits); its other
# handlers are Gloas's containers and code, and all of them would double the size (13 MB).
FROM_SOURCE = {
    "gloas": None,
    "heze": {"test_gossip_beacon_block", "test_gossip_execution_payload_bid"},
}
FROM_SOURCE_SKIP = {"test_gossip_partial_data_column_sidecar"}


def from_source(out: Path):
    """`--from-source`: the networking cases of the forks after fulu, from an executable spec
    built from a consensus-specs source tree (the release has none). As upstream's reference
    tests, every fork's gossip test modules (`test/<fork>/networking/test_gossip_*.py`, from
    phase0 on) run at each fork of `FROM_SOURCE`, and each function writes a case where its
    fork range covers that fork; minimal preset."""
    from eth_consensus_specs import test

    root = Path(test.__file__).parent
    modules = [
        (fork, "minimal", f"{p.parent.parent.name}.networking.{p.stem}")
        for fork, only in FROM_SOURCE.items()
        for p in sorted(root.glob("*/networking/test_gossip_*.py"))
        if p.stem not in FROM_SOURCE_SKIP and (only is None or p.stem in only)
    ]
    write_networking(out, modules)


def main():
    if sys.argv[1] == "--from-source":
        from_source(Path(sys.argv[2]))
        return
    out = Path(sys.argv[1])
    yaml = default_yaml()
    count = 0
    for preset, suites in SUITES.items():
        for fork, names in FORKS.items():
            spec = importlib.import_module(f"eth_consensus_specs.{fork}.{preset}")
            for name in sorted(names):
                typ = getattr(spec, name)
                for suite, (mode, cases) in suites.items():
                    for case in range(CASES.get((preset, name), cases)):
                        write_case(yaml, out, preset, fork, typ, name, suite, mode, case)
                        count += 1
    print(f"{count} ssz_static cases under {out / 'tests'}")
    write_networking(out, NETWORKING)


if __name__ == "__main__":
    main()
