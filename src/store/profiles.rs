//! AgentGate's harness profiles, stored under `<root>/profiles/<name>.json`
//! (0600, written atomically), and their validation: the rules AgentGate
//! applies to a profile it creates (its request schema and its harness
//! configuration schema), enforced here for every door that manages them.
//! A name is `[a-z0-9]` with inner `-`, at most 64 characters, so it is
//! always one plain file name. `default` is built in: it cannot be created,
//! changed or deleted.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::atomic::write_atomic;
use super::private::{self, FILE_MODE};

/// The built-in profile: the settings a work order gets unless told otherwise.
pub const BUILT_IN: &str = "default";
pub const BUILT_IN_TEXT: &str = "the settings a work order gets unless its submit names others: one agent run per work order, no CI, no push";
/// Longest profile file read back (a profile is a few hundred bytes).
const MAX_FILE: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no profile {0:?}")]
    NotFound(String),
    #[error("profile {0:?} already exists")]
    Exists(String),
    #[error("profile {0:?} is built in; it cannot be changed or deleted")]
    BuiltIn(String),
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("profile {name:?} cannot be deleted: {} extend it", .dependents.join(", "))]
    HasDependents {
        name: String,
        dependents: Vec<String>,
    },
    #[error("profile store: {0}")]
    Io(String),
}

fn invalid(field: &str, message: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

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
    #[schema(minimum = 1)]
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
    #[schema(minimum = 1)]
    pub max_iteration_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub max_total_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub max_iteration_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub max_disk_mb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
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

/// One problem a validation found.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Finding {
    pub path: String,
    pub message: String,
}

/// What `validate` found, with the inheritance chain (root first).
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    pub profile: Profile,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    pub inheritance_chain: Vec<String>,
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

fn range<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    v: Option<T>,
    lo: T,
    hi: Option<T>,
) -> Result<(), ProfileError> {
    let Some(v) = v else { return Ok(()) };
    let out = v < lo || hi.is_some_and(|hi| v > hi);
    if out {
        let span = match hi {
            Some(hi) => format!("{lo}-{hi}"),
            None => format!("at least {lo}"),
        };
        return Err(invalid(
            field,
            format!("{field} {v} is out of range: {span}"),
        ));
    }
    Ok(())
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
            range(
                "loopStrategy.maxIterations",
                ls.max_iterations,
                1,
                Some(100),
            )?;
            range(
                "loopStrategy.baseIterations",
                ls.base_iterations,
                1,
                Some(100),
            )?;
            range(
                "loopStrategy.maxBonusIterations",
                ls.max_bonus_iterations,
                0,
                Some(100),
            )?;
            range(
                "loopStrategy.progressThreshold",
                ls.progress_threshold,
                0.0,
                Some(1.0),
            )?;
            range(
                "loopStrategy.minIterations",
                ls.min_iterations,
                1,
                Some(100),
            )?;
            range(
                "loopStrategy.convergenceThreshold",
                ls.convergence_threshold,
                0.0,
                Some(1.0),
            )?;
            range("loopStrategy.windowSize", ls.window_size, 2, Some(10))?;
        }
        if let Some(v) = &self.verification {
            range("verification.timeoutMs", v.timeout_ms, 1, None)?;
            range("verification.maxRetries", v.max_retries, 0, Some(5))?;
        }
        if let Some(l) = &self.execution_limits {
            range(
                "executionLimits.maxWallClockSeconds",
                l.max_wall_clock_seconds,
                60,
                Some(86_400),
            )?;
            range(
                "executionLimits.maxIterationSeconds",
                l.max_iteration_seconds,
                1,
                None,
            )?;
            range(
                "executionLimits.maxTotalTokens",
                l.max_total_tokens,
                1,
                None,
            )?;
            range(
                "executionLimits.maxIterationTokens",
                l.max_iteration_tokens,
                1,
                None,
            )?;
            range("executionLimits.maxDiskMb", l.max_disk_mb, 1, None)?;
            range("executionLimits.maxMemoryMb", l.max_memory_mb, 1, None)?;
            range(
                "executionLimits.maxConcurrentAgents",
                l.max_concurrent_agents,
                1,
                Some(10),
            )?;
        }
        Ok(())
    }

    /// `self` with `patch` laid over it: each given section merged field by
    /// field (AgentGate's update), description and parent replaced if given.
    fn merged(&self, patch: ProfileSettings) -> ProfileSettings {
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

/// The profiles of one daemon root. Writes are serialised (an update reads,
/// merges and writes back).
pub struct ProfileStore {
    dir: PathBuf,
    lock: Mutex<()>,
}

impl ProfileStore {
    pub fn new(root: &Path) -> ProfileStore {
        ProfileStore {
            dir: root.join("profiles"),
            lock: Mutex::new(()),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The built-in profile as a `Profile` (its settings are the defaults).
    pub fn built_in() -> Profile {
        Profile {
            name: BUILT_IN.into(),
            settings: ProfileSettings {
                description: Some(BUILT_IN_TEXT.into()),
                ..ProfileSettings::default()
            },
        }
    }

    /// A stored profile, or `None` when there is no file for it.
    fn load(&self, name: &str) -> Result<Option<Profile>, ProfileError> {
        let path = self.path(name);
        if fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        let text = private::read_secret(&path).map_err(|e| ProfileError::Io(e.to_string()))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ProfileError::Io(format!("{}: {e}", path.display())))
    }

    fn exists(&self, name: &str) -> Result<bool, ProfileError> {
        Ok(name == BUILT_IN || self.load(name)?.is_some())
    }

    fn save(&self, p: &Profile) -> Result<(), ProfileError> {
        let bytes = serde_json::to_vec_pretty(p).map_err(|e| ProfileError::Io(e.to_string()))?;
        if bytes.len() > MAX_FILE {
            return Err(invalid(
                "body",
                format!("a profile is at most {MAX_FILE} bytes"),
            ));
        }
        private::ensure_dir(&self.dir)
            .and_then(|_| write_atomic(&self.path(&p.name), &bytes, FILE_MODE))
            .map_err(|e| ProfileError::Io(format!("cannot write profile {:?}: {e}", p.name)))
    }

    /// Every profile, the built-in first, then by name. A stored file that
    /// cannot be read is listed by its name alone (and named in the log).
    pub fn list(&self) -> Result<Vec<Profile>, ProfileError> {
        let mut names = BTreeSet::new();
        match fs::read_dir(&self.dir) {
            Ok(entries) => {
                for e in entries.flatten() {
                    let file = e.file_name();
                    let Some(name) = file.to_str().and_then(|f| f.strip_suffix(".json")) else {
                        continue;
                    };
                    if check_name(name).is_ok() && name != BUILT_IN {
                        names.insert(name.to_string());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ProfileError::Io(format!("{}: {e}", self.dir.display()))),
        }
        let mut out = vec![Self::built_in()];
        for name in names {
            match self.load(&name) {
                Ok(Some(p)) => out.push(p),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(profile = %name, error = %e, "unreadable profile");
                    out.push(Profile {
                        name,
                        settings: ProfileSettings::default(),
                    });
                }
            }
        }
        Ok(out)
    }

    pub fn get(&self, name: &str) -> Result<Profile, ProfileError> {
        check_name(name)?;
        if name == BUILT_IN {
            return Ok(Self::built_in());
        }
        self.load(name)?
            .ok_or_else(|| ProfileError::NotFound(name.to_string()))
    }

    fn check_parent(&self, name: &str, extends: Option<&str>) -> Result<(), ProfileError> {
        let Some(parent) = extends else { return Ok(()) };
        if parent == name {
            return Err(invalid("extends", "a profile cannot extend itself"));
        }
        if check_name(parent).is_err() || !self.exists(parent)? {
            return Err(invalid(
                "extends",
                format!("parent profile {parent:?} does not exist"),
            ));
        }
        Ok(())
    }

    pub fn create(&self, p: Profile) -> Result<Profile, ProfileError> {
        check_name(&p.name)?;
        p.settings.check()?;
        let _g = self.guard();
        if self.exists(&p.name)? {
            return Err(ProfileError::Exists(p.name));
        }
        self.check_parent(&p.name, p.settings.extends.as_deref())?;
        self.save(&p)?;
        Ok(p)
    }

    pub fn update(&self, name: &str, patch: ProfileSettings) -> Result<Profile, ProfileError> {
        check_name(name)?;
        if name == BUILT_IN {
            return Err(ProfileError::BuiltIn(name.to_string()));
        }
        let _g = self.guard();
        let old = self
            .load(name)?
            .ok_or_else(|| ProfileError::NotFound(name.to_string()))?;
        let settings = old.settings.merged(patch);
        settings.check()?;
        self.check_parent(name, settings.extends.as_deref())?;
        let p = Profile {
            name: name.to_string(),
            settings,
        };
        self.save(&p)?;
        Ok(p)
    }

    pub fn delete(&self, name: &str) -> Result<(), ProfileError> {
        check_name(name)?;
        if name == BUILT_IN {
            return Err(ProfileError::BuiltIn(name.to_string()));
        }
        let _g = self.guard();
        if self.load(name)?.is_none() {
            return Err(ProfileError::NotFound(name.to_string()));
        }
        let dependents: Vec<String> = self
            .list()?
            .into_iter()
            .filter(|p| p.settings.extends.as_deref() == Some(name))
            .map(|p| p.name)
            .collect();
        if !dependents.is_empty() {
            return Err(ProfileError::HasDependents {
                name: name.to_string(),
                dependents,
            });
        }
        fs::remove_file(self.path(name))
            .and_then(|_| super::atomic::sync_dir(&self.dir))
            .map_err(|e| ProfileError::Io(format!("cannot delete profile {name:?}: {e}")))
    }

    /// The settings of `chain` (root first) laid over one another: what a
    /// profile amounts to with its inheritance.
    pub fn resolve(&self, chain: &[String]) -> Result<ProfileSettings, ProfileError> {
        let mut acc = ProfileSettings::default();
        for name in chain {
            acc = acc.merged(self.get(name)?.settings);
        }
        Ok(acc)
    }

    /// Checks a stored profile as AgentGate does: its values, and its
    /// inheritance (every parent exists, no cycle).
    pub fn validate(&self, name: &str) -> Result<Validation, ProfileError> {
        let profile = self.get(name)?;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        if let Err(ProfileError::Invalid { field, message }) = profile.settings.check() {
            errors.push(Finding {
                path: field,
                message,
            });
        }
        let mut chain = vec![name.to_string()];
        let mut next = profile.settings.extends.clone();
        while let Some(parent) = next {
            if chain.contains(&parent) {
                errors.push(Finding {
                    path: "extends".into(),
                    message: format!(
                        "circular inheritance: {} -> {parent}",
                        chain.iter().rev().cloned().collect::<Vec<_>>().join(" -> ")
                    ),
                });
                break;
            }
            match self.get(&parent) {
                Ok(p) => {
                    chain.insert(0, parent);
                    next = p.settings.extends;
                }
                Err(e) => {
                    warnings.push(Finding {
                        path: "extends".into(),
                        message: format!("parent profile {parent:?} cannot be loaded: {e}"),
                    });
                    break;
                }
            }
        }
        Ok(Validation {
            profile,
            errors,
            warnings,
            inheritance_chain: chain,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_the_directory_are_refused() {
        for bad in [
            "",
            "../x",
            "a/b",
            "A",
            "-a",
            "a-",
            ".",
            "a.json",
            &"a".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "ci-focused", "x1", &"a".repeat(64)] {
            assert!(check_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn update_merges_sections_field_by_field() {
        let base = ProfileSettings {
            loop_strategy: Some(LoopStrategySettings {
                mode: Some(LoopMode::Fixed),
                max_iterations: Some(5),
                ..Default::default()
            }),
            ..Default::default()
        };
        let patch = ProfileSettings {
            loop_strategy: Some(LoopStrategySettings {
                max_iterations: Some(7),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = base.merged(patch);
        let ls = m.loop_strategy.unwrap();
        assert_eq!(ls.mode, Some(LoopMode::Fixed));
        assert_eq!(ls.max_iterations, Some(7));
    }
}
