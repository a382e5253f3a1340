//! Every fork's types with one preset's sizes filled in: `mainnet::electra::SignedBeaconBlock`.
//! Each fork module re-exports the previous fork's types and overrides what the fork changed.

macro_rules! preset {
    (
        $(#[$doc:meta])* $name:ident:
        SYNC = $sync:literal, SUB = $sub:literal, W = $w:literal, B = $b:literal, DEPTH = $depth:literal,
        C = $c:literal, D = $d:literal, WR = $wr:literal, CR = $cr:literal, PTC = $ptc:literal,
        SHR = $shr:literal, VOTES = $votes:literal, EHV = $ehv:literal, ESV = $esv:literal, LOOK = $look:literal,
        PAY = $pay:literal, PTCW = $ptcw:literal
    ) => {
        $(#[$doc])*
        pub mod $name {
            /// phase0.
            pub mod phase0 {
                pub use crate::phase0::{
                    AggregateAndProof, Attestation, AttestationData, AttesterSlashing, BeaconBlock, BeaconBlockBody,
                    BeaconBlockHeader, Checkpoint, Deposit, DepositData, DepositMessage, Eth1Block, Eth1Data, Fork,
                    ForkData, IndexedAttestation, ProposerSlashing, SignedAggregateAndProof, SignedBeaconBlock,
                    SignedBeaconBlockHeader, SignedVoluntaryExit, SigningData, Validator, VoluntaryExit,
                };
            }
            /// altair.
            pub mod altair {
                pub use super::phase0::*;
                pub use crate::altair::{SyncAggregatorSelectionData, SyncCommitteeMessage};
                /// `SyncAggregate`.
                pub type SyncAggregate = crate::altair::SyncAggregate<$sync>;
                /// `SyncCommittee`.
                pub type SyncCommittee = crate::altair::SyncCommittee<$sync>;
                /// `SyncCommitteeContribution`.
                pub type SyncCommitteeContribution = crate::altair::SyncCommitteeContribution<$sub>;
                /// `ContributionAndProof`.
                pub type ContributionAndProof = crate::altair::ContributionAndProof<$sub>;
                /// `SignedContributionAndProof`.
                pub type SignedContributionAndProof = crate::altair::SignedContributionAndProof<$sub>;
                /// `BeaconBlockBody`.
                pub type BeaconBlockBody = crate::altair::BeaconBlockBody<$sync>;
                /// `BeaconBlock`.
                pub type BeaconBlock = crate::altair::BeaconBlock<$sync>;
                /// `SignedBeaconBlock`.
                pub type SignedBeaconBlock = crate::altair::SignedBeaconBlock<$sync>;
            }
            /// bellatrix.
            pub mod bellatrix {
                pub use super::altair::*;
                pub use crate::bellatrix::{ExecutionPayload, PowBlock};
                /// `BeaconBlockBody`.
                pub type BeaconBlockBody = crate::bellatrix::BeaconBlockBody<$sync>;
                /// `BeaconBlock`.
                pub type BeaconBlock = crate::bellatrix::BeaconBlock<$sync>;
                /// `SignedBeaconBlock`.
                pub type SignedBeaconBlock = crate::bellatrix::SignedBeaconBlock<$sync>;
            }
            /// capella.
            pub mod capella {
                pub use super::bellatrix::*;
                pub use crate::capella::{BlsToExecutionChange, HistoricalSummary, SignedBlsToExecutionChange, Withdrawal};
                /// `ExecutionPayload`.
                pub type ExecutionPayload = crate::capella::ExecutionPayload<$w>;
                /// `BeaconBlockBody`.
                pub type BeaconBlockBody = crate::capella::BeaconBlockBody<$sync, $w>;
                /// `BeaconBlock`.
                pub type BeaconBlock = crate::capella::BeaconBlock<$sync, $w>;
                /// `SignedBeaconBlock`.
                pub type SignedBeaconBlock = crate::capella::SignedBeaconBlock<$sync, $w>;
            }
            /// deneb.
            pub mod deneb {
                pub use super::capella::*;
                pub use crate::deneb::BlobIdentifier;
                /// `ExecutionPayload`.
                pub type ExecutionPayload = crate::deneb::ExecutionPayload<$w>;
                /// `BlobSidecar`.
                pub type BlobSidecar = crate::deneb::BlobSidecar<$depth>;
                /// `BeaconBlockBody`.
                pub type BeaconBlockBody = crate::deneb::BeaconBlockBody<$sync, $w, $b>;
                /// `BeaconBlock`.
                pub type BeaconBlock = crate::deneb::BeaconBlock<$sync, $w, $b>;
                /// `SignedBeaconBlock`.
                pub type SignedBeaconBlock = crate::deneb::SignedBeaconBlock<$sync, $w, $b>;
            }
            /// electra.
            pub mod electra {
                pub use super::deneb::*;
                pub use crate::electra::{
                    ConsolidationRequest, DepositRequest, PendingConsolidation, PendingDeposit, PendingPartialWithdrawal,
                    SingleAttestation, WithdrawalRequest,
                };
                /// `Attestation`.
                pub type Attestation = crate::electra::Attestation<{ 2048 * $c }, $c>;
                /// `IndexedAttestation`.
                pub type IndexedAttestation = crate::electra::IndexedAttestation<{ 2048 * $c }>;
                /// `AttesterSlashing`.
                pub type AttesterSlashing = crate::electra::AttesterSlashing<{ 2048 * $c }>;
                /// `AggregateAndProof`.
                pub type AggregateAndProof = crate::electra::AggregateAndProof<{ 2048 * $c }, $c>;
                /// `SignedAggregateAndProof`.
                pub type SignedAggregateAndProof = crate::electra::SignedAggregateAndProof<{ 2048 * $c }, $c>;
                /// `ExecutionRequests`.
                pub type ExecutionRequests = crate::electra::ExecutionRequests<$d, $wr, $cr>;
                /// `BeaconBlockBody`.
                pub type BeaconBlockBody =
                    crate::electra::BeaconBlockBody<$sync, $w, $b, { 2048 * $c }, $c, $d, $wr, $cr>;
                /// `BeaconBlock`.
                pub type BeaconBlock = crate::electra::BeaconBlock<$sync, $w, $b, { 2048 * $c }, $c, $d, $wr, $cr>;
                /// `SignedBeaconBlock`.
                pub type SignedBeaconBlock =
                    crate::electra::SignedBeaconBlock<$sync, $w, $b, { 2048 * $c }, $c, $d, $wr, $cr>;
            }
            /// fulu.
            pub mod fulu {
                pub use super::electra::*;
                pub use crate::fulu::{DataColumnsByRootIdentifier, MatrixEntry, PartialDataColumnGroupID};
                /// `DataColumnSidecar`.
                pub type DataColumnSidecar = crate::fulu::DataColumnSidecar<$b>;
                /// `CellsBitList`.
                pub type CellsBitList = crate::fulu::CellsBitList<$b>;
                /// `PartialDataColumnHeader`.
                pub type PartialDataColumnHeader = crate::fulu::PartialDataColumnHeader<$b>;
                /// `PartialDataColumnSidecar`.
                pub type PartialDataColumnSidecar = crate::fulu::PartialDataColumnSidecar<$b>;
                /// `PartialDataColumnPartsMetadata`.
                pub type PartialDataColumnPartsMetadata = crate::fulu::PartialDataColumnPartsMetadata<$b>;
            }
            /// gloas: fulu's unchanged containers, and ePBS's. Withdrawals, commitments and
            /// execution requests are progressive lists, without a preset bound.
            pub mod gloas {
                pub use super::fulu::{
                    AttestationData, BeaconBlockHeader, BlsToExecutionChange, Checkpoint, ConsolidationRequest,
                    ContributionAndProof, DataColumnsByRootIdentifier, Deposit, DepositData, DepositMessage,
                    DepositRequest, Eth1Block, Eth1Data, Fork, ForkData, HistoricalSummary, MatrixEntry,
                    PartialDataColumnPartsMetadata, PendingConsolidation, PendingDeposit, PendingPartialWithdrawal,
                    PowBlock, ProposerSlashing, SignedBeaconBlockHeader, SignedBlsToExecutionChange,
                    SignedContributionAndProof, SignedVoluntaryExit, SigningData, SingleAttestation, SyncAggregate,
                    SyncAggregatorSelectionData, SyncCommittee, SyncCommitteeContribution, SyncCommitteeMessage,
                    Validator, VoluntaryExit, Withdrawal, WithdrawalRequest,
                };
                pub use crate::gloas::{
                    AttesterSlashing, Builder, BuilderDepositRequest, BuilderExitRequest, BuilderPendingPayment,
                    BuilderPendingWithdrawal, DataColumnSidecar, ExecutionPayload, ExecutionPayloadBid,
                    ExecutionPayloadEnvelope, ExecutionRequests, IndexedAttestation, LightClientHeader,
                    PartialDataColumnGroupID, PartialDataColumnSidecar, PayloadAttestationData,
                    PayloadAttestationMessage, ProposerPreferences, SignedExecutionPayloadBid,
                    SignedExecutionPayloadEnvelope, SignedProposerPreferences,
                };
                /// `Attestation`.
                pub type Attestation = crate::gloas::Attestation<$c>;
                /// `AggregateAndProof`.
                pub type AggregateAndProof = crate::gloas::AggregateAndProof<$c>;
                /// `SignedAggregateAndProof`.
                pub type SignedAggregateAndProof = crate::gloas::SignedAggregateAndProof<$c>;
                /// `PayloadAttestation`.
                pub type PayloadAttestation = crate::gloas::PayloadAttestation<$ptc>;
                /// `IndexedPayloadAttestation`.
                pub type IndexedPayloadAttestation = crate::gloas::IndexedPayloadAttestation<$ptc>;
                /// `BeaconBlockBody`.
                pub type BeaconBlockBody = crate::gloas::BeaconBlockBody<$sync, $c, $ptc>;
                /// `BeaconBlock`.
                pub type BeaconBlock = crate::gloas::BeaconBlock<$sync, $c, $ptc, SignedExecutionPayloadBid>;
                /// `SignedBeaconBlock`.
                pub type SignedBeaconBlock =
                    crate::gloas::SignedBeaconBlock<$sync, $c, $ptc, SignedExecutionPayloadBid>;
                /// `BeaconState`.
                pub type BeaconState = crate::gloas::BeaconState<
                    $shr, $votes, $ehv, $esv, $sync, $look, $pay, $ptc, $ptcw, ExecutionPayloadBid,
                >;
                /// `LightClientBootstrap`.
                pub type LightClientBootstrap = crate::gloas::LightClientBootstrap<$sync>;
                /// `LightClientUpdate`.
                pub type LightClientUpdate = crate::gloas::LightClientUpdate<$sync>;
                /// `LightClientFinalityUpdate`.
                pub type LightClientFinalityUpdate = crate::gloas::LightClientFinalityUpdate<$sync>;
                /// `LightClientOptimisticUpdate`.
                pub type LightClientOptimisticUpdate = crate::gloas::LightClientOptimisticUpdate<$sync>;
            }
            /// heze: gloas's containers, inclusion lists, and the bid (and blocks) that commit to them.
            pub mod heze {
                pub use super::gloas::{
                    AggregateAndProof, Attestation, AttestationData, AttesterSlashing, BeaconBlockHeader,
                    BlsToExecutionChange, Builder, BuilderDepositRequest, BuilderExitRequest, BuilderPendingPayment,
                    BuilderPendingWithdrawal, Checkpoint, ConsolidationRequest, ContributionAndProof,
                    DataColumnSidecar, DataColumnsByRootIdentifier, Deposit, DepositData, DepositMessage,
                    DepositRequest, Eth1Block, Eth1Data, ExecutionPayload, ExecutionPayloadEnvelope, ExecutionRequests,
                    Fork, ForkData, HistoricalSummary, IndexedAttestation, IndexedPayloadAttestation,
                    LightClientBootstrap, LightClientFinalityUpdate, LightClientHeader, LightClientOptimisticUpdate,
                    LightClientUpdate, MatrixEntry, PartialDataColumnGroupID, PartialDataColumnPartsMetadata,
                    PartialDataColumnSidecar, PayloadAttestation, PayloadAttestationData, PayloadAttestationMessage,
                    PendingConsolidation, PendingDeposit, PendingPartialWithdrawal, PowBlock, ProposerPreferences,
                    ProposerSlashing, SignedAggregateAndProof, SignedBeaconBlockHeader, SignedBlsToExecutionChange,
                    SignedContributionAndProof, SignedExecutionPayloadEnvelope, SignedProposerPreferences,
                    SignedVoluntaryExit, SigningData, SingleAttestation, SyncAggregate, SyncAggregatorSelectionData,
                    SyncCommittee, SyncCommitteeContribution, SyncCommitteeMessage, Validator, VoluntaryExit,
                    Withdrawal, WithdrawalRequest,
                };
                pub use crate::heze::{ExecutionPayloadBid, InclusionList, SignedExecutionPayloadBid, SignedInclusionList};
                /// `BeaconBlockBody`.
                pub type BeaconBlockBody = crate::heze::BeaconBlockBody<$sync, $c, $ptc>;
                /// `BeaconBlock`.
                pub type BeaconBlock = crate::heze::BeaconBlock<$sync, $c, $ptc>;
                /// `SignedBeaconBlock`.
                pub type SignedBeaconBlock = crate::heze::SignedBeaconBlock<$sync, $c, $ptc>;
                /// `BeaconState`: gloas's, with heze's bid.
                pub type BeaconState = crate::gloas::BeaconState<
                    $shr, $votes, $ehv, $esv, $sync, $look, $pay, $ptc, $ptcw, ExecutionPayloadBid,
                >;
            }
        }
    };
}

preset! {
    /// The `mainnet` preset.
    mainnet: SYNC = 512, SUB = 128, W = 16, B = 4096, DEPTH = 17, C = 64, D = 8192, WR = 16, CR = 2, PTC = 512,
    SHR = 8192, VOTES = 2048, EHV = 65536, ESV = 8192, LOOK = 64, PAY = 64, PTCW = 96
}

preset! {
    /// The `minimal` preset.
    minimal: SYNC = 32, SUB = 8, W = 4, B = 4096, DEPTH = 17, C = 4, D = 8192, WR = 16, CR = 2, PTC = 16,
    SHR = 64, VOTES = 32, EHV = 64, ESV = 64, LOOK = 16, PAY = 16, PTCW = 24
}

preset! {
    /// Gnosis chain's preset: mainnet's with 8 withdrawals per payload and 16 slots an epoch
    /// (so half the eth1 votes, lookahead, builder payments and PTC window).
    gnosis: SYNC = 512, SUB = 128, W = 8, B = 4096, DEPTH = 17, C = 64, D = 8192, WR = 16, CR = 2, PTC = 512,
    SHR = 8192, VOTES = 1024, EHV = 65536, ESV = 8192, LOOK = 32, PAY = 32, PTCW = 48
}
