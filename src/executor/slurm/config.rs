//! The `[slurm]` section of the config file: the Slurm executor's own
//! settings, read and checked here (the daemon's config only names the
//! section).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::model::units::parse_duration;

/// The `[slurm]` table of the config file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmFile {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub qos: Option<String>,
    #[serde(default)]
    pub extra_args: Vec<String>,
    pub poll_interval: Option<String>,
    pub max_concurrent: Option<usize>,
    /// The agentgate binary as the compute nodes see it.
    pub binary: Option<PathBuf>,
}

/// Settings of the Slurm executor, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmSettings {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub qos: Option<String>,
    pub extra_args: Vec<String>,
    pub poll_interval: Duration,
    pub max_concurrent: usize,
    /// The agentgate binary the jobs run (must be reachable on the nodes).
    pub binary: Option<PathBuf>,
}

/// Shortest `poll_interval` (squeue once per interval for every job).
const MIN_POLL: Duration = Duration::from_millis(100);

impl SlurmSettings {
    /// The section as written (absent: every default).
    pub fn resolve(file: Option<SlurmFile>) -> Result<SlurmSettings, ConfigError> {
        let file = file.unwrap_or_default();
        let invalid = |key: &str, message: String| ConfigError::Value {
            name: format!("slurm.{key}"),
            message,
        };
        let poll_interval = match &file.poll_interval {
            None => Duration::from_secs(1),
            Some(s) => match parse_duration(s) {
                Ok(d) if d >= MIN_POLL => d,
                Ok(_) => {
                    return Err(invalid(
                        "poll_interval",
                        format!("{s:?}: must be at least 100ms"),
                    ));
                }
                Err(e) => return Err(invalid("poll_interval", format!("{s:?}: {e}"))),
            },
        };
        let max_concurrent = match file.max_concurrent {
            Some(0) => return Err(invalid("max_concurrent", "must be at least 1".into())),
            Some(n) => n,
            None => 64,
        };
        Ok(SlurmSettings {
            partition: file.partition,
            account: file.account,
            qos: file.qos,
            extra_args: file.extra_args,
            poll_interval,
            max_concurrent,
            binary: file.binary,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> Result<SlurmSettings, String> {
        let file: SlurmFile = toml::from_str(text).map_err(|e| e.to_string())?;
        SlurmSettings::resolve(Some(file)).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_values() {
        let d = SlurmSettings::resolve(None).unwrap();
        assert_eq!(
            (d.poll_interval, d.max_concurrent),
            (Duration::from_secs(1), 64)
        );
        let s = section("partition = \"p\"\npoll_interval = \"250ms\"\nmax_concurrent = 3\nextra_args = [\"--mem=1G\"]").unwrap();
        assert_eq!(s.partition.as_deref(), Some("p"));
        assert_eq!(s.poll_interval, Duration::from_millis(250));
        assert_eq!(s.max_concurrent, 3);
        assert_eq!(s.extra_args, ["--mem=1G"]);
    }

    #[test]
    fn bad_values_are_named() {
        let e = section("poll_interval = \"10ms\"").unwrap_err();
        assert!(
            e.contains("slurm.poll_interval") && e.contains("at least 100ms"),
            "{e}"
        );
        let e = section("poll_interval = \"soon\"").unwrap_err();
        assert!(e.contains("slurm.poll_interval"), "{e}");
        let e = section("max_concurrent = 0").unwrap_err();
        assert!(e.contains("slurm.max_concurrent"), "{e}");
        let e = section("partiton = \"p\"").unwrap_err();
        assert!(e.contains("partiton"), "{e}");
    }
}
