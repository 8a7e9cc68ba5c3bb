//! Every request and reply survives the codec unchanged.
use super::*;
use crate::model::{
    ResultKind, SharedWorkOrder, Status, Timestamp, WorkspaceInput, WorkspaceSource,
};
use crate::rpc::codec::{decode, encode};
use crate::store::StorageReport;
use std::collections::BTreeMap;
use std::sync::Arc;

fn work_order() -> WorkOrder {
    WorkOrder {
        id: "abcDEF123_-x".into(),
        task_prompt: "echo hi".into(),
        status: Status::Failed,
        agent_type: "shell".into(),
        workspace_source: WorkspaceSource::Github {
            owner: "o".into(),
            repo: "r".into(),
            branch: Some("main".into()),
        },
        created_at: Timestamp(1),
        updated_at: Timestamp(2),
        started_at: Some(Timestamp(3)),
        completed_at: Some(Timestamp(4)),
        max_time: 60,
        max_iterations: 3,
        timeout_at: Some(Timestamp(5)),
        last_activity_at: None,
        pid: Some(42),
        pid_start_time: Some(7),
        run_count: 1,
        current_run_id: Some("run1".into()),
        run_ids: vec!["run1".into()],
        result: Some(ResultKind::Signaled),
        exit_code: None,
        signal: Some(9),
        error: Some("killed by SIGKILL".into()),
        priority: 5,
        agent_result: Some(Box::new(crate::model::AgentResult {
            cost_usd: Some(0.0123),
            turns: Some(7),
            session_id: Some("sess-1".into()),
            duration_ms: Some(1234),
            is_error: false,
            summary: Some("done".into()),
            subtype: Some("success".into()),
            agent: Some("codex".into()),
            model: Some("gpt-5".into()),
            input_tokens: Some(100),
            output_tokens: Some(20),
            cached_input_tokens: None,
        })),
        more: crate::model::work_order::More::from(crate::model::work_order::MoreFields {
            env: BTreeMap::from([("FOO".to_string(), "bar".to_string())]),
            parent_id: Some("parent1".into()),
            resume_session: Some("sess-1".into()),
            worktree: Some(Box::new(crate::model::Worktree {
                repo: "/src/repo".into(),
                branch: "agentgate/abcDEF123_-x".into(),
                base: "0123abcd".into(),
                path: "/r/workspaces/abcDEF123_-x".into(),
                changes: Some(crate::model::Changes {
                    commits: 1,
                    files_changed: 2,
                    insertions: 3,
                    deletions: 4,
                    uncommitted: 5,
                }),
                from_branch: Some("main".into()),
                merges: vec![crate::model::Merge {
                    commit: "feedbeef".into(),
                    into: "main".into(),
                    squash: true,
                    source: "0123abce".into(),
                    at: Timestamp(1_700_000_000_123),
                }],
                discarded: false,
            })),
            depends_on: vec!["dep1".into(), "dep2".into()],
            labels: vec!["nightly".into()],
            restarted_from: Some("orig1".into()),
            setup: Some("npm ci".into()),
            sandbox: Some(Box::new(crate::model::SandboxRequest {
                mode: Some(crate::model::SandboxMode::Workspace),
                network: Some(false),
                allowed_paths: vec!["/data".into()],
                forbidden_patterns: vec!["**/.env".into()],
            })),
            sandbox_applied: Some("workspace (landlock v5, network off)".into()),
        }),
    }
}

fn run() -> Run {
    Run {
        id: "run1".into(),
        work_order_id: "abcDEF123_-x".into(),
        status: Status::Running,
        started_at: Timestamp(3),
        completed_at: Some(Timestamp(4)),
        pid: Some(42),
        pid_start_time: None,
        workspace: Some("/tmp".into()),
        result: None,
        exit_code: Some(0),
        signal: None,
        error: None,
        executor: serde_json::from_str(r#"{"local":{"pid":43,"startTime":99,"runDir":"/r"}}"#).ok(),
        cgroup: Some("/sys/fs/cgroup/agentgate-run1".into()),
        peak_memory_bytes: Some(1 << 20),
        cpu_time_ms: Some(12),
        executor_state: Some("PENDING".into()),
        executor_reason: Some("Resources".into()),
        output_format: Some("claude-stream-json".into()),
        malformed_lines: Some(1),
        changes: None,
        recorded_iterations: Some(2),
    }
}

fn queue_config() -> QueueConfig {
    QueueConfig {
        paused: true,
        max_concurrent: 3,
        stagger_delay_ms: 0,
        min_memory_bytes: 1 << 30,
        configured_max_concurrent: 2,
        configured_stagger_delay_ms: 30_000,
        configured_min_memory_bytes: 2 << 30,
        overrides: vec!["maxConcurrent".into(), "staggerDelayMs".into()],
    }
}

fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: T) {
    let bytes = encode(&v).unwrap();
    let back: T = decode(&bytes).unwrap();
    assert_eq!(back, v);
}

#[test]
fn every_request_round_trips() {
    let requests = vec![
        Request::Submit(SubmitRequest {
            task_prompt: "p".into(),
            agent_type: Some("shell".into()),
            workspace_source: Some(WorkspaceInput::local("/tmp")),
            max_time: Some(5),
            max_iterations: None,
            env: BTreeMap::from([("K".to_string(), "v".to_string())]),
            worktree: Some(true),
            depends_on: vec!["dep1".into()],
            priority: -2,
            labels: vec!["l1".into(), "l2".into()],
            setup: Some("make deps".into()),
            sandbox: None,
        }),
        Request::Continue(ContinueRequest {
            id: "a".into(),
            task_prompt: "more".into(),
            max_time: None,
            max_iterations: Some(7),
        }),
        Request::List(ListQuery {
            statuses: vec![Status::Queued, Status::WaitingForChildren],
            labels: vec![],
            limit: None,
            offset: 3,
            id_prefix: None,
        }),
        Request::Show(ShowRequest { id: "a".into() }),
        Request::GetRun(GetRunRequest { id: "r".into() }),
        Request::Cancel(CancelRequest { id: "a".into() }),
        Request::Kill(KillRequest {
            id: "a".into(),
            force: true,
            grace_ms: Some(10),
            reason: Some("why".into()),
        }),
        Request::Purge(PurgeRequest {
            ids: vec!["a".into()],
            statuses: vec![Status::Failed],
            older_than_ms: Some(1000),
            dry_run: true,
            delete_branch: true,
        }),
        Request::Health(HealthRequest),
        Request::ListRuns(RunQuery {
            work_order_id: Some("a".into()),
            statuses: vec![Status::Failed],
            limit: Some(3),
            offset: 1,
        }),
        Request::Position(PositionRequest { id: "a".into() }),
        Request::Start(StartRequest { id: "a".into() }),
        Request::Shutdown(ShutdownRequest {
            keep_running: true,
            restart: false,
        }),
        Request::Logs(LogsRequest {
            id: "a".into(),
            streams: LogStreams::Stderr,
            tail: Some(10),
            follow: true,
            run: Some("2".into()),
            timestamps: true,
            raw: true,
        }),
        Request::Logs(LogsRequest {
            id: "a".into(),
            streams: LogStreams::Both,
            tail: None,
            follow: false,
            run: None,
            timestamps: false,
            raw: false,
        }),
        Request::Wait(WaitRequest {
            ids: vec!["a".into(), "b".into()],
        }),
        Request::ListJson(ListQuery {
            statuses: vec![Status::Failed],
            labels: vec!["nightly".into()],
            limit: Some(5),
            offset: 0,
            id_prefix: None,
        }),
        Request::Resolve(ResolveRequest {
            ids: vec!["abcd".into()],
            last: true,
        }),
        Request::Restart(RestartRequest {
            id: "a".into(),
            task_prompt: Some("again".into()),
            agent_type: None,
            max_time: Some(60),
            max_iterations: None,
            priority: Some(-3),
            labels: Some(vec!["x".into()]),
            env: BTreeMap::from([("K".to_string(), "v".to_string())]),
            depends_on: Some(vec![]),
        }),
        Request::SetPriority(SetPriorityRequest {
            id: "a".into(),
            priority: 7,
        }),
        Request::Config(ConfigChange {
            paused: Some(true),
            max_concurrent: Some(3),
            stagger_delay_ms: None,
            min_memory_bytes: Some(0),
            reset: true,
        }),
        Request::ListStream(ListQuery {
            statuses: vec![],
            labels: vec![],
            limit: None,
            offset: 2,
            id_prefix: None,
        }),
        Request::Diff(DiffRequest {
            id: "a".into(),
            view: crate::land::DiffView::Stat,
            color: true,
        }),
        Request::DiffStat(DiffStatRequest { id: "a".into() }),
        Request::Merge(MergeRequest {
            id: "a".into(),
            squash: true,
            message: Some("m".into()),
            into: Some("main".into()),
        }),
        Request::Discard(DiscardRequest {
            id: "a".into(),
            force: true,
        }),
        Request::Push(PushRequest {
            id: "a".into(),
            remote: Some("origin".into()),
            pull_request: true,
            title: None,
            draft: true,
        }),
    ];
    for r in requests {
        round_trip(ClientFrame::Request(Box::new(r)));
    }
    round_trip(ClientFrame::Hello { version: 7 });
}

#[test]
fn every_reply_round_trips() {
    let replies = vec![
        Reply::Submitted(work_order()),
        Reply::List(ListPage {
            items: vec![Arc::new(SharedWorkOrder::new(work_order()))],
            reasons: vec![Some("paused".into())],
            total: 1,
            limit: 20,
            offset: 0,
            has_more: false,
        }),
        Reply::Show(WorkOrderDetail {
            work_order: work_order(),
            runs: vec![run()],
            queued_reason: Some("waiting for dep1".into()),
            dependencies: vec![
                ("dep1".into(), Some(Status::Running)),
                ("dep2".into(), None),
            ],
        }),
        Reply::Run(run()),
        Reply::Canceled(CancelOutcome {
            id: "a".into(),
            status: Status::Canceled,
            was_running: true,
            killed: true,
            durable: false,
        }),
        Reply::Killed(KillOutcome {
            id: "a".into(),
            success: true,
            forced_kill: false,
            duration_ms: 3,
            status: Status::Canceled,
            message: "m".into(),
            already_ended: true,
            durable: true,
        }),
        Reply::Purged(PurgeOutcome {
            deleted_count: 1,
            deleted_ids: vec!["a".into()],
            would_delete: Some(vec![]),
        }),
        Reply::Health(Health {
            status: "healthy".into(),
            counts: BTreeMap::from([("queued".to_string(), 1)]),
            running_count: 0,
            max_concurrent: 2,
            queued_count: 1,
            completed_count: 0,
            failed_count: 0,
            canceled_count: 0,
            oldest_running_age: None,
            stuck_threshold: 1,
            available_mb: Some(5),
            min_memory_mb: 1,
            auto_process: true,
            accepting: true,
            stale_detections_last_hour: 0,
            alerts: vec![Alert {
                kind: "k".into(),
                message: "m".into(),
                work_order_id: None,
            }],
            storage: StorageReport::default(),
            executors: vec![ExecutorHealth {
                name: "slurm".into(),
                healthy: false,
                detail: "squeue failed".into(),
                running: 3,
                max_concurrent: 64,
            }],
            unpersisted: 2,
            timestamp: Timestamp(9),
            paused: true,
            queued_reason: Some("paused".into()),
            config: queue_config(),
            max_queue_size: 100,
            average_wait_ms: 12,
            can_start_immediately: false,
            shutting_down: true,
            total_cost_usd: 0.75,
        }),
        Reply::Runs(RunPage {
            items: vec![run(), run()],
            total: 9,
            limit: 2,
            offset: 0,
            has_more: true,
        }),
        Reply::Position(QueuePosition {
            id: "a".into(),
            position: 2,
            ahead: 1,
            running: false,
            estimated_wait_ms: None,
            enqueued_at: Timestamp(5),
        }),
        Reply::Started(StartOutcome {
            id: "a".into(),
            run_id: "r".into(),
            status: Status::Running,
            started_at: Timestamp(1),
        }),
        Reply::ShuttingDown(()),
        Reply::LogChunk(b"line 1\nline 2\n\xff\x00".to_vec()),
        Reply::LogChunk(vec![]),
        Reply::LogEnd(work_order()),
        Reply::WaitProgress(vec![
            WaitItem {
                id: "a".into(),
                status: Status::Running,
            },
            WaitItem {
                id: "b".into(),
                status: Status::Succeeded,
            },
        ]),
        Reply::WaitDone(vec![work_order(), work_order()]),
        Reply::JsonChunk {
            text: "{\"items\":[]}".into(),
            last: true,
        },
        Reply::Resolved(vec!["a".into(), "b".into()]),
        Reply::QueueConfig(queue_config()),
        Reply::ListChunk {
            page: ListPage {
                items: vec![Arc::new(SharedWorkOrder::new(work_order()))],
                total: 9,
                limit: 3,
                offset: 1,
                has_more: true,
                reasons: vec![None],
            },
            last: false,
        },
    ];
    for r in replies {
        round_trip(ServerFrame::Ok(Box::new(r)));
    }
    round_trip(ServerFrame::Hello {
        version: 1,
        daemon_version: "0.1.0".into(),
        grace_ms: 5000,
    });
    for code in [
        ErrorCode::NotFound,
        ErrorCode::InvalidState,
        ErrorCode::BadRequest,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ] {
        round_trip(ServerFrame::Err(ServiceError {
            code,
            message: "m".into(),
            field: Some("f".into()),
        }));
    }
}

#[test]
fn a_full_log_chunk_fits_in_a_frame() {
    let bytes = encode(&ServerFrame::Ok(Box::new(Reply::LogChunk(vec![
        0xff;
        LOG_CHUNK
    ]))))
    .unwrap();
    assert!(bytes.len() < crate::rpc::codec::MAX_FRAME);
}

#[test]
fn compact_listing_equals_the_serialised_page() {
    let mut other = work_order();
    other.id = "second".into();
    other.task_prompt = "quotes \" and \\ and \n newline, ünïcode".into();
    other.workspace_source = WorkspaceSource::Other {
        kind: "github-new".into(),
        json: r#"{"type":"github-new","repoName":"x"}"#.into(),
    };
    let page = ListPage {
        items: vec![
            Arc::new(SharedWorkOrder::new(work_order())),
            Arc::new(SharedWorkOrder::new(other)),
        ],
        reasons: vec![None, Some("stagger (next start in \"27s\")".into())],
        total: 7,
        limit: 2,
        offset: 1,
        has_more: true,
    };
    for chunk in [1, 100, 1 << 20] {
        let pieces: Vec<String> = page.compact_json_chunks(chunk).collect();
        assert!(chunk > 100 || pieces.len() > 1, "{pieces:?}");
        let compact: serde_json::Value = serde_json::from_str(&pieces.concat()).unwrap();
        assert_eq!(compact, page.to_json());
        assert_eq!(
            compact["items"][1]["queuedReason"],
            "stagger (next start in \"27s\")"
        );
        assert!(compact["items"][0].get("queuedReason").is_none());
    }
    let empty = ListPage {
        items: vec![],
        reasons: vec![],
        total: 0,
        limit: 20,
        offset: 0,
        has_more: false,
    };
    let pieces: Vec<String> = empty.compact_json_chunks(64).collect();
    assert_eq!(pieces.len(), 1);
    let compact: serde_json::Value = serde_json::from_str(&pieces[0]).unwrap();
    assert_eq!(compact, empty.to_json());
}

#[test]
fn garbage_does_not_decode() {
    assert!(decode::<ClientFrame>(&[0xff, 0xff, 0xff]).is_err());
    assert!(decode::<ClientFrame>(&[]).is_err());
    let mut ok = encode(&ClientFrame::Hello { version: 1 }).unwrap().to_vec();
    ok.push(0);
    assert!(
        decode::<ClientFrame>(&ok).is_err(),
        "trailing bytes accepted"
    );
}
