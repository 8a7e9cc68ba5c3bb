//! The opaque handle an executor returns for a run: the queue stores it with
//! the run record and hands it back on adoption, and only the executor that
//! made it reads what is inside.
//!
//! On disk (and in the HTTP API) a handle is one JSON object with one key,
//! the executor's name, over the executor's own data:
//! `{"local": {"pid": 1234, "startTime": 56, "runDir": "..."}}`. That is the
//! very form older versions wrote (an externally tagged enum), so their run
//! records load and are adopted unchanged. Over the binary RPC the data
//! travels as JSON text (bincode cannot carry a free-form JSON value).

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ExecutorKind;

/// How an executor finds a run again: its name and data only it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecHandle {
    /// The executor that made it (`local`, `slurm`; a future one's name
    /// loads too, and is failed as lost by a daemon that lacks it).
    executor: String,
    /// The executor's data, as compact JSON text.
    data: String,
}

impl ExecHandle {
    /// A handle of `kind` over `data` (the executor's own serde type).
    pub(crate) fn new<T: Serialize>(kind: ExecutorKind, data: &T) -> ExecHandle {
        ExecHandle {
            executor: kind.as_str().to_string(),
            // A plain struct of strings and numbers always serialises.
            data: serde_json::to_string(data).unwrap_or_else(|_| "null".into()),
        }
    }

    /// The executor's data, if the handle is one of `kind`'s and reads as `T`.
    pub(crate) fn decode<T: DeserializeOwned>(&self, kind: ExecutorKind) -> Option<T> {
        if self.executor != kind.as_str() {
            return None;
        }
        serde_json::from_str(&self.data).ok()
    }

    /// The name of the executor that made it.
    pub fn executor(&self) -> &str {
        &self.executor
    }

    /// The executor that made it, if this daemon knows it.
    pub fn kind(&self) -> Option<ExecutorKind> {
        self.executor.parse().ok()
    }

    /// For people: `local supervisor (pid 1234)`, `slurm job 42`.
    pub fn describe(&self) -> String {
        let described = match self.kind() {
            Some(ExecutorKind::Local) => self
                .decode::<super::local::Handle>(ExecutorKind::Local)
                .map(|h| h.describe()),
            Some(ExecutorKind::Slurm) => self
                .decode::<super::slurm::Handle>(ExecutorKind::Slurm)
                .map(|h| h.describe()),
            None => None,
        };
        described.unwrap_or_else(|| format!("{} executor", self.executor))
    }
}

impl Serialize for ExecHandle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return (&self.executor, &self.data).serialize(s);
        }
        let data: serde_json::Value =
            serde_json::from_str(&self.data).map_err(serde::ser::Error::custom)?;
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(&self.executor, &data)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for ExecHandle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ExecHandle, D::Error> {
        if !d.is_human_readable() {
            let (executor, data) = <(String, String)>::deserialize(d)?;
            return Ok(ExecHandle { executor, data });
        }
        d.deserialize_map(OneEntry)
    }
}

/// `{"<executor>": <data>}`, exactly one entry.
struct OneEntry;

impl<'de> Visitor<'de> for OneEntry {
    type Value = ExecHandle;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with one key, the executor's name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ExecHandle, A::Error> {
        let Some((executor, data)) = map.next_entry::<String, serde_json::Value>()? else {
            return Err(de::Error::invalid_length(0, &self));
        };
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(2, &self));
        }
        Ok(ExecHandle {
            executor,
            data: data.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::{local, slurm};
    use crate::model::Run;

    #[test]
    fn local_handles_of_older_versions_load_and_decode() {
        let old = r#"{"local":{"pid":4242,"startTime":777,"runDir":"/r/runs/run1"}}"#;
        let h: ExecHandle = serde_json::from_str(old).unwrap();
        assert_eq!(h.kind(), Some(ExecutorKind::Local));
        let data: local::Handle = h.decode(ExecutorKind::Local).unwrap();
        assert_eq!((data.pid, data.start_time), (4242, 777));
        assert_eq!(data.run_dir, "/r/runs/run1");
        assert!(h.decode::<slurm::Handle>(ExecutorKind::Slurm).is_none());
        assert_eq!(h.describe(), "local supervisor (pid 4242)");
        // Written back in the very same form.
        assert_eq!(serde_json::to_string(&h).unwrap(), old);
    }

    #[test]
    fn slurm_handles_of_older_versions_load_and_decode() {
        for (old, cluster, shown) in [
            (
                r#"{"slurm":{"jobId":"42","cluster":null,"runDir":"/r/runs/x"}}"#,
                None,
                "slurm job 42",
            ),
            (
                r#"{"slurm":{"jobId":"7","cluster":"hpc","runDir":"/r/runs/y"}}"#,
                Some("hpc"),
                "slurm job 7 on cluster hpc",
            ),
        ] {
            let h: ExecHandle = serde_json::from_str(old).unwrap();
            let data: slurm::Handle = h.decode(ExecutorKind::Slurm).unwrap();
            assert_eq!(data.cluster.as_deref(), cluster);
            assert_eq!(h.describe(), shown);
            assert_eq!(serde_json::to_string(&h).unwrap(), old);
        }
    }

    #[test]
    fn a_run_record_of_an_older_version_keeps_its_handle() {
        let record = br#"{"id":"run1","workOrderId":"wo1","status":"running",
            "startedAt":"2026-01-01T00:00:00Z","pid":10,"pidStartTime":11,
            "executor":{"local":{"pid":9,"startTime":8,"runDir":"/r/runs/run1"}},
            "cgroup":"/sys/fs/cgroup/agentgate-run1"}"#;
        let run = Run::from_stored_json(record).unwrap();
        let h = run.executor.clone().unwrap();
        let data: local::Handle = h.decode(ExecutorKind::Local).unwrap();
        assert_eq!((data.pid, data.start_time), (9, 8));
        let again = Run::from_stored_json(&run.to_stored_json(None)).unwrap();
        assert_eq!(again, run);
    }

    #[test]
    fn unknown_executors_load_and_malformed_handles_do_not() {
        let h: ExecHandle = serde_json::from_str(r#"{"k8s":{"job":"a-1"}}"#).unwrap();
        assert_eq!(h.kind(), None);
        assert_eq!(h.executor(), "k8s");
        assert_eq!(h.describe(), "k8s executor");
        assert!(h.decode::<local::Handle>(ExecutorKind::Local).is_none());
        for bad in [r#"{}"#, r#"{"local":{},"slurm":{}}"#, r#""local""#] {
            assert!(serde_json::from_str::<ExecHandle>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn handles_cross_the_binary_rpc() {
        let h = ExecHandle::new(
            ExecutorKind::Slurm,
            &slurm::Handle {
                job_id: "42".into(),
                cluster: Some("hpc".into()),
                run_dir: "/r/runs/x".into(),
            },
        );
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&h, cfg).unwrap();
        let (back, _): (ExecHandle, usize) =
            bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        assert_eq!(back, h);
    }
}
