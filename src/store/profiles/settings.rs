//! What a harness profile holds and AgentGate's rules for each value.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ProfileError, invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoopMode {
    Fixed,
    Hybrid,
    Ralph,
    /// Refused: a custom strategy needs a `strategyName` a profile cannot carry.
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompletionDetection {
    AgentSignal,
    VerificationPass,
    NoChanges,
    LoopDetection,
    CiPass,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressTracking {
    GitHistory,
    ProgressFile,
    FeatureList,
    VerificationLevels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SkipLevel {
    Lint,
    Typecheck,
    Test,
    Blackbox,
    Contracts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GitMode {
    Local,
    PushOnly,
    GithubPr,
}

/// Options may be absent; `null` counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoopStrategySettings {
    /// Required when `loopStrategy` is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<LoopMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_iterations: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub base_iterations: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100)]
    pub max_bonus_iterations: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub progress_threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_criteria: Option<Vec<CompletionDetection>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_detection: Option<Vec<CompletionDetection>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub min_iterations: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub convergence_threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 2, maximum = 10)]
    pub window_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_tracking: Option<ProgressTracking>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_levels: Option<Vec<SkipLevel>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub timeout_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clean_room: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tests: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_flaky: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 5)]
    pub max_retries: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitOpsSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<GitMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_message_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_commit: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_push: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "createPR")]
    pub create_pr: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "prDraft")]
    pub pr_draft: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr_reviewers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr_labels: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionLimitsSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 60, maximum = 86400)]
    pub max_wall_clock_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub max_iteration_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub max_total_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub max_iteration_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub max_disk_mb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub max_memory_mb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10)]
    pub max_concurrent_agents: Option<u32>,
}

/// The settings of a profile (what `PUT` changes), each section optional.
/// Unknown fields are ignored, as AgentGate ignores them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSettings {
    /// At most 256 characters.
    #[schema(max_length = 256)]
    pub description: Option<String>,
    /// The profile this one inherits from (it must exist).
    pub extends: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loop_strategy: Option<LoopStrategySettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_ops: Option<GitOpsSettings>,
    /// AgentGate's client library calls it `limits`: both are read.
    #[serde(skip_serializing_if = "Option::is_none", alias = "limits")]
    pub execution_limits: Option<ExecutionLimitsSettings>,
}

/// A stored profile: its name and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Lowercase letters and digits with inner `-`, 1-64 characters.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]*[a-z0-9]$|^[a-z0-9]$", max_length = 64)]
    pub name: String,
    #[serde(flatten)]
    pub settings: ProfileSettings,
}

/// The body of a create: a name and the settings (spelt out rather than
/// flattened, so a bad value is reported with its path).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewProfile {
    /// Lowercase letters and digits with inner `-`, 1-64 characters.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]*[a-z0-9]$|^[a-z0-9]$", max_length = 64)]
    pub name: String,
    #[schema(max_length = 256)]
    pub description: Option<String>,
    pub extends: Option<String>,
    pub loop_strategy: Option<LoopStrategySettings>,
    pub verification: Option<VerificationSettings>,
    pub git_ops: Option<GitOpsSettings>,
    #[serde(alias = "limits")]
    pub execution_limits: Option<ExecutionLimitsSettings>,
}

impl From<NewProfile> for Profile {
    fn from(n: NewProfile) -> Profile {
        Profile {
            name: n.name,
            settings: ProfileSettings {
                description: n.description,
                extends: n.extends,
                loop_strategy: n.loop_strategy,
                verification: n.verification,
                git_ops: n.git_ops,
                execution_limits: n.execution_limits,
            },
        }
    }
}

/// Checks a profile name: the only names that ever reach the file system.
pub fn check_name(name: &str) -> Result<(), ProfileError> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if name.is_empty()
        || name.len() > 64
        || !ok_chars
        || name.starts_with('-')
        || name.ends_with('-')
    {
        return Err(invalid(
            "name",
            format!(
                "profile name {name:?} must be 1-64 lowercase letters, digits and inner hyphens (e.g. ci-focused)"
            ),
        ));
    }
    Ok(())
}

/// `v`, if given, within `lo..=hi`.
fn range<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    v: Option<T>,
    lo: T,
    hi: T,
) -> Result<(), ProfileError> {
    match v {
        Some(v) if v < lo || v > hi => Err(invalid(
            field,
            format!("{field} {v} is out of range: {lo}-{hi}"),
        )),
        _ => Ok(()),
    }
}

/// A count with no limit of its own: at least 1, and at most what the
/// OpenAPI document's `int64` allows, so a larger `u64` is refused rather
/// than kept (and shown back) as a number the document says cannot exist.
fn count(field: &str, v: Option<u64>) -> Result<(), ProfileError> {
    range(field, v, 1, i64::MAX as u64)
}

impl ProfileSettings {
    /// AgentGate's rules for each value (its request schema's ranges, and
    /// its configuration schema's: a loop strategy names its mode).
    pub fn check(&self) -> Result<(), ProfileError> {
        if let Some(d) = &self.description
            && d.chars().count() > 256
        {
            return Err(invalid(
                "description",
                "description is longer than 256 characters",
            ));
        }
        if let Some(ls) = &self.loop_strategy {
            match ls.mode {
                None => {
                    return Err(invalid(
                        "loopStrategy.mode",
                        "loopStrategy.mode is required: fixed, hybrid or ralph",
                    ));
                }
                Some(LoopMode::Custom) => {
                    return Err(invalid(
                        "loopStrategy.mode",
                        "loopStrategy.mode custom needs a strategy name, which a profile cannot carry: use fixed, hybrid or ralph",
                    ));
                }
                Some(_) => {}
            }
            range("loopStrategy.maxIterations", ls.max_iterations, 1, 100)?;
            range("loopStrategy.baseIterations", ls.base_iterations, 1, 100)?;
            range(
                "loopStrategy.maxBonusIterations",
                ls.max_bonus_iterations,
                0,
                100,
            )?;
            range(
                "loopStrategy.progressThreshold",
                ls.progress_threshold,
                0.0,
                1.0,
            )?;
            range("loopStrategy.minIterations", ls.min_iterations, 1, 100)?;
            range(
                "loopStrategy.convergenceThreshold",
                ls.convergence_threshold,
                0.0,
                1.0,
            )?;
            range("loopStrategy.windowSize", ls.window_size, 2, 10)?;
        }
        if let Some(v) = &self.verification {
            count("verification.timeoutMs", v.timeout_ms)?;
            range("verification.maxRetries", v.max_retries, 0, 5)?;
        }
        if let Some(l) = &self.execution_limits {
            range(
                "executionLimits.maxWallClockSeconds",
                l.max_wall_clock_seconds,
                60,
                86_400,
            )?;
            count(
                "executionLimits.maxIterationSeconds",
                l.max_iteration_seconds,
            )?;
            count("executionLimits.maxTotalTokens", l.max_total_tokens)?;
            count("executionLimits.maxIterationTokens", l.max_iteration_tokens)?;
            count("executionLimits.maxDiskMb", l.max_disk_mb)?;
            count("executionLimits.maxMemoryMb", l.max_memory_mb)?;
            range(
                "executionLimits.maxConcurrentAgents",
                l.max_concurrent_agents,
                1,
                10,
            )?;
        }
        Ok(())
    }

    /// `self` with `patch` laid over it: each given section merged field by
    /// field (AgentGate's update), description and parent replaced if given.
    pub(super) fn merged(&self, patch: ProfileSettings) -> ProfileSettings {
        fn over<T: Serialize + serde::de::DeserializeOwned + Clone>(
            base: &Option<T>,
            top: Option<T>,
        ) -> Option<T> {
            match (base, top) {
                (Some(b), Some(t)) => {
                    let mut b = serde_json::to_value(b).unwrap_or_default();
                    if let (Some(bm), serde_json::Value::Object(tm)) = (
                        b.as_object_mut(),
                        serde_json::to_value(t.clone()).unwrap_or_default(),
                    ) {
                        bm.extend(tm);
                    }
                    serde_json::from_value(b).ok().or(Some(t))
                }
                (b, t) => t.or_else(|| b.clone()),
            }
        }
        ProfileSettings {
            description: patch.description.or_else(|| self.description.clone()),
            extends: patch.extends.or_else(|| self.extends.clone()),
            loop_strategy: over(&self.loop_strategy, patch.loop_strategy),
            verification: over(&self.verification, patch.verification),
            git_ops: over(&self.git_ops, patch.git_ops),
            execution_limits: over(&self.execution_limits, patch.execution_limits),
        }
    }
}
