//! The daemon: takes the root's lock, loads the store, adopts work left
//! running, and serves the RPC socket (and the HTTP shim) until told to stop:
//! SIGTERM/SIGINT or `agentgate daemon stop` stop running work first;
//! SIGHUP, `daemon stop --keep-running` and `daemon restart` leave it to its
//! supervisors for the next daemon (`restart` starts that one in place).

pub mod hooks;
pub mod queue;
pub mod socket;
pub mod workspace;

use std::fs::{self, File};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use tokio::net::UnixListener;
use tokio::sync::{broadcast, mpsc};

use crate::config::DaemonSettings;
use crate::executor::router::{Executors, Prepared};
use crate::service::{Service, ShutdownRequest};
use crate::store::{Store, StoreError, atomic::write_atomic, private};
use queue::Actor;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(
        "another agentgate daemon{} is already running on {root} (socket {socket}); stop it with `agentgate daemon stop` or use another --data-dir"
    , pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    AlreadyRunning {
        root: PathBuf,
        pid: Option<u32>,
        socket: String,
    },
    #[error("cannot open lock file {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Socket(#[from] socket::SocketError),
    #[error("cannot bind socket {path}: {source}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Http(String),
    #[error("{0}")]
    Executor(String),
    #[error(transparent)]
    Tuning(#[from] queue::tuning::TuningError),
}

/// `<root>/daemon.json`: who holds the root, for clients and a refused second daemon.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonInfo {
    pub pid: u32,
    pub socket: PathBuf,
    pub http_addr: Option<String>,
    pub version: String,
    /// Random per start: tells a daemon restarted in place (same pid) apart.
    #[serde(default)]
    pub instance: String,
}

impl DaemonInfo {
    pub fn read(root: &Path) -> Option<DaemonInfo> {
        serde_json::from_slice(&fs::read(root.join("daemon.json")).ok()?).ok()
    }
}

/// Takes `<root>/daemon.lock` (flock, held for the daemon's lifetime).
fn take_lock(root: &Path) -> Result<Flock<File>, DaemonError> {
    let path = root.join("daemon.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(private::FILE_MODE)
        .open(&path)
        .map_err(|source| DaemonError::Lock {
            path: path.clone(),
            source,
        })?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
        if errno == nix::errno::Errno::EWOULDBLOCK {
            let info = DaemonInfo::read(root);
            DaemonError::AlreadyRunning {
                root: root.to_path_buf(),
                pid: info.as_ref().map(|i| i.pid),
                socket: info
                    .map(|i| i.socket.display().to_string())
                    .unwrap_or_else(|| "unknown".into()),
            }
        } else {
            DaemonError::Lock {
                path,
                source: std::io::Error::from(errno),
            }
        }
    })
}

/// Binds the socket (see `socket`) and hands it to the runtime.
fn bind_socket(path: &Path) -> Result<UnixListener, DaemonError> {
    let listener = socket::bind(path)?;
    let bind_err = |source| DaemonError::Bind {
        path: path.to_path_buf(),
        source,
    };
    listener.set_nonblocking(true).map_err(bind_err)?;
    UnixListener::from_std(listener).map_err(bind_err)
}

/// The root: created private, or (made by an older version, 0755) tightened.
fn prepare_root(root: &Path) -> Result<(), DaemonError> {
    let err = |source| StoreError::CreateDir {
        path: root.to_path_buf(),
        source,
    };
    private::ensure_dir(root).map_err(err)?;
    match private::tighten(root) {
        Ok(Some(old)) => {
            tracing::info!(
                root = %root.display(),
                old_mode = format!("{old:04o}"),
                "root was readable by other users; made it private (0700)"
            );
            // What an older version left inside it too, once.
            match private::tighten_tree(root) {
                Ok(n) => tracing::info!(
                    root = %root.display(),
                    changed = n,
                    "made the root's files and directories private (0600/0700): {n} changed"
                ),
                Err(e) => {
                    tracing::warn!(root = %root.display(), error = %e, "cannot make every file of the root private")
                }
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(root = %root.display(), error = %e, "cannot make the root private")
        }
    }
    Ok(())
}

pub fn run(mut settings: DaemonSettings) -> Result<(), DaemonError> {
    let support = crate::sandbox::Support::probe(settings.sandbox_landlock);
    tracing::info!(sandbox = %support.summary(), "confinement this host supports");
    settings.sandbox_support = Some(support);
    // For a restart in place: this binary's path as started (an upgraded
    // binary at that path is what runs next) and the same arguments.
    let exe = std::env::current_exe().ok();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    // Agents run as this same user: without this they could read the
    // daemon's environment (its API key) and memory through /proc, as
    // ssh-agent guards against the same way.
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        tracing::warn!(error = %e, "cannot make the daemon non-dumpable");
    }
    let root = settings.paths.root.clone();
    prepare_root(&root)?;
    let _lock = take_lock(&root)?;
    // Run-time changes (pause, limits) win over the configured values.
    let overrides = queue::tuning::Overrides::load(&root)?;
    crate::sys::mem::tune_allocator();
    let started = std::time::Instant::now();
    let store = Store::open(&root)?;
    let loaded = store.load()?;
    // Loading read and parsed every file on many threads: give back what
    // their buffers held.
    crate::sys::mem::return_freed_memory();
    tracing::info!(
        root = %root.display(),
        work_orders = loaded.orders.len(),
        quarantined = loaded.report.quarantined,
        orphan_runs_removed = loaded.report.orphan_runs_removed,
        dangling_run_refs = loaded.report.dangling_run_refs,
        temp_files_removed = loaded.report.temp_files_removed,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "store loaded"
    );
    // Before any other thread exists (the local executor may move the
    // daemon into a leaf cgroup).
    let prepared = Executors::prepare(&settings).map_err(DaemonError::Executor)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    let outcome = runtime.block_on(serve(settings, store, loaded, overrides, prepared));
    // Whatever is still running is its supervisors' business now.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    drop(_lock);
    match outcome {
        Ok(Ending::Restart) => restart_in_place(exe, args),
        Ok(Ending::Stop) => Ok(()),
        Err(e) => Err(e),
    }
}

/// How long in-flight HTTP requests may take to finish once the queue has
/// stopped (they need no more than writing their answer by then).
const HTTP_DRAIN: std::time::Duration = std::time::Duration::from_millis(500);

/// How the daemon's serving ended.
enum Ending {
    Stop,
    /// `daemon restart`: run again, in this process, with the same arguments.
    Restart,
}

/// Replaces this process with a fresh start of the daemon binary: same pid,
/// same arguments, same stdout/stderr; supervisors stay our children and are
/// adopted like any others.
fn restart_in_place(
    exe: Option<PathBuf>,
    args: Vec<std::ffi::OsString>,
) -> Result<(), DaemonError> {
    use std::os::unix::process::CommandExt;
    let exe = exe.unwrap_or_else(|| PathBuf::from("/proc/self/exe"));
    tracing::info!(exe = %exe.display(), "restarting in place");
    let err = std::process::Command::new(&exe).args(&args).exec();
    Err(DaemonError::Runtime(std::io::Error::new(
        err.kind(),
        format!("cannot restart {}: {err}", exe.display()),
    )))
}

async fn serve(
    settings: DaemonSettings,
    store: Store,
    loaded: crate::store::Loaded,
    overrides: queue::tuning::Overrides,
    prepared: Prepared,
) -> Result<Ending, DaemonError> {
    // Signal handlers first: a SIGTERM at any point from here on is a graceful
    // shutdown, never the default disposition (death without cleanup).
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(DaemonError::Runtime)?;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(DaemonError::Runtime)?;
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(DaemonError::Runtime)?;
    let settings = Arc::new(settings);
    let socket = settings.paths.socket.clone();
    let (changes, _) = broadcast::channel(4096);
    let log_store = store.clone();
    let mut actor = Actor::new(
        settings.clone(),
        store,
        Arc::new(Executors::start(&settings, prepared)),
        loaded.orders,
        loaded.report,
        overrides,
        changes.clone(),
    );
    actor.recover().await;
    // What loading used and no longer needs goes back before serving.
    crate::sys::mem::trim();
    let (tx, rx) = mpsc::channel(1024);
    let service = Service::new(tx, changes)
        .with_store(log_store)
        .with_dashboard(actor.dashboard().clone());
    let mut actor_task = tokio::spawn(actor.run(rx));

    // One shutdown for both doors (RPC socket, HTTP shim).
    let (doors_stop, doors_signal) = crate::service::doors::shutdown();
    let http = match &settings.http {
        Some(addr) => Some(
            crate::http::start(addr, &settings, service.clone(), doors_signal.clone())
                .await
                .map_err(DaemonError::Http)?,
        ),
        None => None,
    };
    // daemon.json is complete before the socket answers: a client (or
    // `daemon --detach`, or a refused second daemon) that reaches the socket
    // can rely on it.
    let info = DaemonInfo {
        pid: std::process::id(),
        socket: socket.clone(),
        http_addr: http.as_ref().map(|h| h.addr.to_string()),
        version: env!("CARGO_PKG_VERSION").to_string(),
        instance: crate::model::new_id(),
    };
    let info_path = settings.paths.daemon_json();
    let bytes = serde_json::to_vec_pretty(&info).unwrap_or_default();
    let listener = write_atomic(&info_path, &bytes, private::FILE_MODE)
        .map_err(|source| DaemonError::Write {
            path: info_path.clone(),
            source,
        })
        .and_then(|()| bind_socket(&socket));
    let listener = match listener {
        Ok(l) => l,
        Err(e) => {
            doors_stop.begin(tokio::time::Instant::now());
            if let Some(h) = http {
                h.stopped().await;
            }
            let _ = fs::remove_file(&info_path);
            return Err(e);
        }
    };
    let limits = crate::rpc::server::Limits {
        grace_ms: settings.grace_period.as_millis().min(u64::MAX as u128) as u64,
    };
    let rpc_door = crate::service::doors::Door::new(settings.max_connections, doors_signal);
    let rpc_task = tokio::spawn(crate::rpc::server::serve(
        listener,
        service.clone(),
        limits,
        rpc_door,
    ));
    tracing::info!(
        socket = %socket.display(),
        http = ?info.http_addr,
        pid = info.pid,
        max_concurrent = settings.max_concurrent,
        auto_process = settings.auto_process,
        "daemon serving"
    );
    let queue = service.call(crate::service::ConfigChange::default()).await;
    if let Ok(q) = queue
        && (q.paused || !q.overrides.is_empty())
    {
        tracing::info!(paused = q.paused, overrides = ?q.overrides, max_concurrent = q.max_concurrent, stagger_delay_ms = q.stagger_delay_ms, min_memory = q.min_memory_bytes, "run-time queue settings in force (queue-settings.json)");
    }

    let stop = ShutdownRequest {
        keep_running: false,
        restart: false,
    };
    let finished = tokio::select! {
        _ = sigterm.recv() => { tracing::info!("SIGTERM received: stopping running work"); Err(stop) }
        _ = sigint.recv() => { tracing::info!("SIGINT received: stopping running work"); Err(stop) }
        _ = sighup.recv() => {
            tracing::info!("SIGHUP received: exiting, running work stays with its supervisors");
            Err(ShutdownRequest { keep_running: true, restart: false })
        }
        r = &mut actor_task => Ok(r),
    };
    // Stop admitting, stop (or leave) running work, flush.
    let finished = match finished {
        Ok(r) => r,
        Err(req) => {
            let _ = service.call(req).await;
            actor_task.await
        }
    };
    let restart = match finished {
        Ok(stopped) => stopped.restart,
        Err(e) => {
            tracing::error!(error = %e, "queue actor failed");
            false
        }
    };
    // Both doors served (readiness 503 included) while running work was
    // stopped; now in-flight requests get a short deadline, whatever their
    // clients do, so the daemon exits within the grace period plus this.
    doors_stop.begin(tokio::time::Instant::now() + HTTP_DRAIN);
    let _ = rpc_task.await;
    if let Some(h) = http {
        h.stopped().await;
    }
    let _ = fs::remove_file(&socket);
    let _ = fs::remove_file(&info_path);
    tracing::info!("daemon stopped");
    Ok(if restart {
        Ending::Restart
    } else {
        Ending::Stop
    })
}
