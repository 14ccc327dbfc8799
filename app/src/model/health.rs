//! The health report: each check's verdict, and the report as a whole.

use serde::{Deserialize, Serialize};

/// A verdict, ordered from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Good,
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Good => "good",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }

    /// The words for the whole report.
    pub fn label(self) -> &'static str {
        match self {
            Level::Good => "Healthy",
            Level::Warning => "Needs attention",
            Level::Critical => "Critical",
        }
    }

    /// The words for one check.
    pub fn verdict(self) -> &'static str {
        match self {
            Level::Good => "Passed",
            Level::Warning => "Warning",
            Level::Critical => "Critical",
        }
    }
}

/// One check of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthItem {
    /// What part of the configuration: `SMB over QUIC`, `Certificate`, `Client access`, ...
    pub area: String,
    /// What exactly: a server name and its certificate, a listener, ...
    pub subject: String,
    pub check: String,
    pub level: Level,
    pub detail: String,
    /// What to do about a warning or a critical finding.
    pub fix: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// The worst verdict of the items.
    pub status: Level,
    /// RFC 3339, UTC.
    pub generated_at: String,
    pub items: Vec<HealthItem>,
}
/// One setting of the resource budget as it is now: what `edgeshare settings list` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetSetting {
    pub key: String,
    pub value: String,
    pub default: String,
    pub description: String,
}
