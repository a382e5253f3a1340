//! What the observer keeps: topic kinds (`--topics`, within `--subnets`) and peers by agent
//! (`--agents`, `--exclude-agents`).

use clap::Args;
use pheme_network::{AgentFilter, NetworkConfigBuilder};

/// `pheme observe` selection options.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Topic kinds to subscribe to, comma-separated (for example
    /// `beacon_block,beacon_aggregate_and_proof,data_column_sidecar`; default: every kind).
    /// Subnet kinds take the subnets of --subnets.
    #[arg(long, value_delimiter = ',')]
    topics: Vec<String>,
    /// Keep only peers whose identify agent version contains one of these, case-insensitive,
    /// comma-separated (for example `lighthouse,prysm`); others are said goodbye and not
    /// dialled again for 30 minutes.
    #[arg(long, value_delimiter = ',')]
    agents: Vec<String>,
    /// Drop peers whose agent version contains one of these (case-insensitive, comma-separated).
    #[arg(long, value_delimiter = ',')]
    exclude_agents: Vec<String>,
}

impl SelectionArgs {
    /// The selection on the network configuration (`build()` checks the topic kinds).
    pub fn apply(&self, mut builder: NetworkConfigBuilder) -> NetworkConfigBuilder {
        if !self.topics.is_empty() {
            builder = builder.topic_kinds(self.topics.iter().cloned());
        }
        builder.agent_filter(AgentFilter::new(&self.agents, &self.exclude_agents))
    }

    /// The selection as the status page shows it.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "topics": if self.topics.is_empty() { vec!["all".to_owned()] } else { self.topics.clone() },
            "agents": self.agents,
            "exclude_agents": self.exclude_agents,
        })
    }
}
