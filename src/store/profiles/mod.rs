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

use serde::Serialize;
use utoipa::ToSchema;

mod settings;
pub use settings::*;

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

    /// The parent must exist, and inheriting from it must not make a cycle
    /// (a cycle could never be undone: neither profile could be deleted).
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
        let mut seen = BTreeSet::new();
        let mut next = Some(parent.to_string());
        while let Some(cur) = next {
            if cur == name {
                return Err(invalid(
                    "extends",
                    format!("{parent:?} inherits from {name:?}: extending it would make a cycle"),
                ));
            }
            if !seen.insert(cur.clone()) {
                break;
            }
            next = self.get(&cur).ok().and_then(|p| p.settings.extends);
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
