# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_agentgate_global_optspecs
    string join \n data-dir= socket= config= h/help V/version
end

function __fish_agentgate_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_agentgate_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_agentgate_using_subcommand
    set -l cmd (__fish_agentgate_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c agentgate -n "__fish_agentgate_needs_command" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_needs_command" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_needs_command" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_needs_command" -s V -l version -d 'Print version'
complete -c agentgate -n "__fish_agentgate_needs_command" -f -a "daemon" -d 'Run the daemon (in the foreground, or in the background with --detach); `daemon stop` stops it'
complete -c agentgate -n "__fish_agentgate_needs_command" -f -a "serve" -d 'Run the daemon (in the foreground, or in the background with --detach); `daemon stop` stops it'
complete -c agentgate -n "__fish_agentgate_needs_command" -f -a "submit" -d 'Submit a work order; prints its id'
complete -c agentgate -n "__fish_agentgate_needs_command" -f -a "queue" -d 'Inspect and control the queue'
complete -c agentgate -n "__fish_agentgate_needs_command" -f -a "dashboard" -d 'Print a one-time link that logs a browser into the daemon\'s dashboard'
complete -c agentgate -n "__fish_agentgate_needs_command" -f -a "mcp" -d 'Serve the Model Context Protocol on stdio: agents queue and land work through agentgate'
complete -c agentgate -n "__fish_agentgate_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c agentgate -n "__fish_agentgate_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l http -d 'HTTP shim address, or `off` [env: AGENTGATE_HTTP] [default: 127.0.0.1:3001]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l api-key-file -d 'File holding the HTTP API key [env: AGENTGATE_API_KEY_FILE] [default: <root>/api-key, generated]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l max-concurrent -d 'Maximum work orders running at once [env: AGENTGATE_MAX_CONCURRENT] [default: 2]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l stagger-delay -d 'Minimum time between automatic starts [env: AGENTGATE_STAGGER_DELAY] [default: 0s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l min-memory -d 'Start work only while MemAvailable is at least this [env: AGENTGATE_MIN_MEMORY] [default: 2GiB]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l stale-check-interval -d 'How often the stale detector runs, at least 1s [env: AGENTGATE_STALE_CHECK_INTERVAL] [default: 60s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l stale-threshold -d 'Inactivity after which running work is stale [env: AGENTGATE_STALE_THRESHOLD] [default: 10m]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l max-running-time -d 'Longest a work order may run before it is stale [env: AGENTGATE_MAX_RUNNING_TIME] [default: 4h]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l grace-period -d 'Grace period between SIGTERM and SIGKILL [env: AGENTGATE_GRACE_PERIOD] [default: 5s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l executor -d 'Where runs execute: `local` (a supervisor process on this machine) or `slurm` (a job on the Slurm cluster, settings under [slurm] in the config file); an agent type may override it [env: AGENTGATE_EXECUTOR] [default: local]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l sandbox -d 'Confinement of every run whose work order does not choose: `auto` (each agent type\'s: workspace for claude, codex and gemini, off for shell and configured types), `workspace` or `off` [env: AGENTGATE_SANDBOX] [default: auto]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l max-queue-size -d 'Most work orders waiting at once; submits beyond are refused, 0 = no limit [env: AGENTGATE_MAX_QUEUE_SIZE] [default: 1000]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l cors-origin -d 'Browser origins allowed to call the HTTP API, comma-separated (`*` = any; `http://host:*` = any port) [env: AGENTGATE_CORS_ORIGINS] [default: http://localhost:*,http://127.0.0.1:*]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l env-remove -d 'Environment variable the runs do not get, NAME or PREFIX* (repeatable); AGENTGATE_API_KEY and AGENTGATE_API_KEY_FILE are never passed on [env: AGENTGATE_ENV_REMOVE, comma-separated] [default: none]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l retention-max-age -d 'Purge terminal work orders that ended longer ago than this, e.g. 30d, or `off` [env: AGENTGATE_RETENTION_MAX_AGE] [default: off]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l retention-max-count -d 'Keep at most this many terminal work orders, purging the oldest beyond, or `off` [env: AGENTGATE_RETENTION_MAX_COUNT] [default: off]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l max-connections -d 'Most RPC connections served at once; more are refused with an error [env: AGENTGATE_MAX_CONNECTIONS] [default: 128]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l http-max-connections -d 'Most HTTP connections open at once (WebSockets included); more are answered 503 [env: AGENTGATE_HTTP_MAX_CONNECTIONS] [default: 1024]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l http-timeout -d 'Time a client has to send a request\'s headers, then its body; idle keep-alive connections close after it, at least 100ms [env: AGENTGATE_HTTP_TIMEOUT] [default: 10s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l dashboard-idle -d 'A dashboard session (`agentgate dashboard`) unused this long ends, at least 1s [env: AGENTGATE_DASHBOARD_IDLE] [default: 12h]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l stuck-threshold -d 'Health alert for work running longer than this [env: AGENTGATE_STUCK_THRESHOLD] [default: 30m]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l cgroups -d 'Give each run a cgroup of its own where the host allows (`auto`), or never (`off`) [env: AGENTGATE_CGROUPS] [default: auto]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l detach -d 'Start in the background (new session, output to <root>/logs/daemon.log) and return once the socket answers [default: run in the foreground]'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l no-auto-process -d 'Do not start queued work automatically (only `queue start` does) [env: AGENTGATE_NO_AUTO_PROCESS] [default: auto-process on]'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -l no-stale-check -d 'Disable the stale detector [env: AGENTGATE_NO_STALE_CHECK] [default: stale check on]'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -f -a "stop" -d 'Stop the running daemon gracefully and wait until its process is gone; running work is stopped and marked interrupted unless --keep-running'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -f -a "restart" -d 'Restart the daemon in place, keeping running work: same process, same arguments (a new binary at the same path is picked up); waits until it serves again'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and not __fish_seen_subcommand_from stop restart help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l keep-running -d 'Leave running work running, for the next daemon to adopt [default: stop it]'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s y -l yes -d 'Stop running work without asking (asked on a terminal when work runs) [default: ask]'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from restart" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from restart" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from restart" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the running daemon gracefully and wait until its process is gone; running work is stopped and marked interrupted unless --keep-running'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Restart the daemon in place, keeping running work: same process, same arguments (a new binary at the same path is picked up); waits until it serves again'
complete -c agentgate -n "__fish_agentgate_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l http -d 'HTTP shim address, or `off` [env: AGENTGATE_HTTP] [default: 127.0.0.1:3001]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l api-key-file -d 'File holding the HTTP API key [env: AGENTGATE_API_KEY_FILE] [default: <root>/api-key, generated]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l max-concurrent -d 'Maximum work orders running at once [env: AGENTGATE_MAX_CONCURRENT] [default: 2]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l stagger-delay -d 'Minimum time between automatic starts [env: AGENTGATE_STAGGER_DELAY] [default: 0s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l min-memory -d 'Start work only while MemAvailable is at least this [env: AGENTGATE_MIN_MEMORY] [default: 2GiB]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l stale-check-interval -d 'How often the stale detector runs, at least 1s [env: AGENTGATE_STALE_CHECK_INTERVAL] [default: 60s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l stale-threshold -d 'Inactivity after which running work is stale [env: AGENTGATE_STALE_THRESHOLD] [default: 10m]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l max-running-time -d 'Longest a work order may run before it is stale [env: AGENTGATE_MAX_RUNNING_TIME] [default: 4h]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l grace-period -d 'Grace period between SIGTERM and SIGKILL [env: AGENTGATE_GRACE_PERIOD] [default: 5s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l executor -d 'Where runs execute: `local` (a supervisor process on this machine) or `slurm` (a job on the Slurm cluster, settings under [slurm] in the config file); an agent type may override it [env: AGENTGATE_EXECUTOR] [default: local]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l sandbox -d 'Confinement of every run whose work order does not choose: `auto` (each agent type\'s: workspace for claude, codex and gemini, off for shell and configured types), `workspace` or `off` [env: AGENTGATE_SANDBOX] [default: auto]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l max-queue-size -d 'Most work orders waiting at once; submits beyond are refused, 0 = no limit [env: AGENTGATE_MAX_QUEUE_SIZE] [default: 1000]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l cors-origin -d 'Browser origins allowed to call the HTTP API, comma-separated (`*` = any; `http://host:*` = any port) [env: AGENTGATE_CORS_ORIGINS] [default: http://localhost:*,http://127.0.0.1:*]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l env-remove -d 'Environment variable the runs do not get, NAME or PREFIX* (repeatable); AGENTGATE_API_KEY and AGENTGATE_API_KEY_FILE are never passed on [env: AGENTGATE_ENV_REMOVE, comma-separated] [default: none]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l retention-max-age -d 'Purge terminal work orders that ended longer ago than this, e.g. 30d, or `off` [env: AGENTGATE_RETENTION_MAX_AGE] [default: off]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l retention-max-count -d 'Keep at most this many terminal work orders, purging the oldest beyond, or `off` [env: AGENTGATE_RETENTION_MAX_COUNT] [default: off]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l max-connections -d 'Most RPC connections served at once; more are refused with an error [env: AGENTGATE_MAX_CONNECTIONS] [default: 128]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l http-max-connections -d 'Most HTTP connections open at once (WebSockets included); more are answered 503 [env: AGENTGATE_HTTP_MAX_CONNECTIONS] [default: 1024]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l http-timeout -d 'Time a client has to send a request\'s headers, then its body; idle keep-alive connections close after it, at least 100ms [env: AGENTGATE_HTTP_TIMEOUT] [default: 10s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l dashboard-idle -d 'A dashboard session (`agentgate dashboard`) unused this long ends, at least 1s [env: AGENTGATE_DASHBOARD_IDLE] [default: 12h]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l stuck-threshold -d 'Health alert for work running longer than this [env: AGENTGATE_STUCK_THRESHOLD] [default: 30m]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l cgroups -d 'Give each run a cgroup of its own where the host allows (`auto`), or never (`off`) [env: AGENTGATE_CGROUPS] [default: auto]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l detach -d 'Start in the background (new session, output to <root>/logs/daemon.log) and return once the socket answers [default: run in the foreground]'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l no-auto-process -d 'Do not start queued work automatically (only `queue start` does) [env: AGENTGATE_NO_AUTO_PROCESS] [default: auto-process on]'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -l no-stale-check -d 'Disable the stale detector [env: AGENTGATE_NO_STALE_CHECK] [default: stale check on]'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -f -a "stop" -d 'Stop the running daemon gracefully and wait until its process is gone; running work is stopped and marked interrupted unless --keep-running'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -f -a "restart" -d 'Restart the daemon in place, keeping running work: same process, same arguments (a new binary at the same path is picked up); waits until it serves again'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and not __fish_seen_subcommand_from stop restart help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from stop" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from stop" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from stop" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from stop" -l keep-running -d 'Leave running work running, for the next daemon to adopt [default: stop it]'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from stop" -s y -l yes -d 'Stop running work without asking (asked on a terminal when work runs) [default: ask]'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from restart" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from restart" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from restart" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the running daemon gracefully and wait until its process is gone; running work is stopped and marked interrupted unless --keep-running'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Restart the daemon in place, keeping running work: same process, same arguments (a new binary at the same path is picked up); waits until it serves again'
complete -c agentgate -n "__fish_agentgate_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l prompt-file -d 'Read the prompt from this file [default: the PROMPT argument]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l agent -d 'Agent type: shell, claude-code-subscription, claude-code-api, claude-agent-sdk, codex, gemini, or one from the config [default: claude-code-subscription]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l path -d 'Run in this local directory [default: the current directory]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l url -d 'Clone this repository: a GitHub URL, or any git URL (file:// included) [default: none, use --path]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l repo -d 'Clone this GitHub repository: OWNER/REPO, or REPO with --owner or AGENTGATE_GITHUB_OWNER [default: none, use --path]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l owner -d 'GitHub owner for --repo [default: from OWNER/REPO, else $AGENTGATE_GITHUB_OWNER]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l branch -d 'Branch to clone (with --url or --repo) [default: the repository\'s default branch]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l max-time -d 'Time limit of a run, 1s to 7d, e.g. 90s, 30m, 2h [default: 1h]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l max-iterations -d 'Maximum agent iterations, as AgentGate counts them (recorded; `{max_iterations}` in an agent type\'s command) [default: 3]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l env -d 'Set a variable for this work order\'s agent only, KEY=VALUE (repeatable) [default: none]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l env-file -d 'Read variables for this work order from a file of KEY=VALUE lines (# comments) [default: none]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l setup -d 'A shell command run in the workspace before the agent, e.g. \'npm ci\'; if it fails the work order fails and the agent never starts [default: the agent type\'s `setup`, else a fresh worktree\'s .agentgate/setup if executable]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l after -d 'Start only after this work order succeeded; if it fails or is canceled, this one is canceled (result dependency_failed). Repeatable; an ID or a unique prefix [default: no dependencies]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l priority -d 'Higher starts first; FIFO within a priority; may be negative [default: 0]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l label -d 'Tag it; `queue list --label L` finds it (repeatable; letters, digits and . _ : / = + @ -) [default: no labels]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l sandbox -d 'Confinement: `workspace` (it may write only in its workspace, its run directory, a private TMPDIR and its agent\'s own state, and cannot read ~/.ssh, ~/.aws, the daemon\'s root or other work orders\' workspaces) or `off` [default: the agent type\'s: workspace for claude, codex and gemini, off for shell]' -r -f -a "workspace\t''
off\t''"
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l allow-path -d 'A confined run may also write here (repeatable) [default: none]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l forbid -d 'The run fails if it leaves a file matching this glob in its workspace, e.g. \'**/.env\' (repeatable; AgentGate\'s forbiddenPatterns) [default: none]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l worktree -d 'Run in a git worktree of its own (branch agentgate/<id>) made from the local repository\'s HEAD [default: the config\'s `worktree`, else off]'
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l no-worktree -d 'Run in the directory itself even if the config\'s `worktree` is on [default: off]'
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l no-network -d 'A confined run gets a network of its own with only loopback'
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l wait -d 'Then wait until it ends, like `queue wait` (same exit codes) [default: return at once]'
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l follow -d 'Then stream its output until it ends, like `queue logs --follow` (same exit codes) [default: return at once]'
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -l json -d 'Print the created work order as JSON instead of its id'
complete -c agentgate -n "__fish_agentgate_using_subcommand submit" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "list" -d 'List work orders, newest first: id, status, agent, age, run duration, why it waits, prompt'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "ls" -d 'List work orders, newest first: id, status, agent, age, run duration, why it waits, prompt'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "show" -d 'Show work orders with their runs, dependencies and why they wait'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "st" -d 'Show work orders with their runs, dependencies and why they wait'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "cancel" -d 'Cancel work orders: a queued one never starts, a running one has its process tree stopped'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "kill" -d 'Stop running work orders\' process trees (SIGTERM, grace period, SIGKILL)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "purge" -d 'Delete work orders permanently (file, runs, logs, daemon-made clone)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "rm" -d 'Delete work orders permanently (file, runs, logs, daemon-made clone)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "health" -d 'Queue health: counts, limits, memory, why work waits, alerts'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "diff" -d 'A worktree\'s changes against the commit it started from (commits, uncommitted and untracked), as git shows them'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "merge" -d 'Land a worktree\'s work on the branch it started from (or --into): merge, fast-forward or --squash'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "discard" -d 'Remove work orders\' worktrees and delete their branches (refused for unmerged work unless --force)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "push" -d 'Push a worktree\'s branch agentgate/<id> to a remote (uncommitted work committed on it first)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "pr" -d 'Push a worktree\'s branch and open a pull request with the GitHub CLI (gh)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "stats" -d 'Usage across work orders: counts, run time and cost per agent, label, day or status'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "start" -d 'Start queued (or retry failed) work orders now; bypasses the stagger delay, not the concurrency limit'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "restart" -d 'Queue a copy of finished work orders (any end: succeeded, failed, canceled), linked to the original'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "set-priority" -d 'Change the priority of a queued work order (higher starts first)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "pause" -d 'Stop starting queued work (running work goes on); kept across daemon restarts'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "resume" -d 'Start queued work again after `queue pause`'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "config" -d 'Show or change the running daemon\'s admission settings, without a restart'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "logs" -d 'Print a work order\'s output: stdout and stderr interleaved as they were written'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "log" -d 'Print a work order\'s output: stdout and stderr interleaved as they were written'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "continue" -d 'Follow up a finished work order: resume its agent\'s session in the same workspace with a new prompt'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "wait" -d 'Block until every listed work order has ended'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and not __fish_seen_subcommand_from list ls show st cancel kill purge rm health diff merge discard push pr stats start restart set-priority pause resume config logs log continue wait help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l status -d 'Only this status: queued, running, succeeded, failed, canceled (repeatable) [default: all statuses]' -r -f -a "queued\t''
running\t''
succeeded\t''
failed\t''
canceled\t''"
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l label -d 'Only work orders with this label (repeatable: all of them) [default: any labels] [default: any labels]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l limit -d 'At most this many [default: 20]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l all -d 'All of them (lifts --limit) [default: the newest 20]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l wide -d 'Every column, in full (full agent names, reasons, labels); only the prompt is cut to fit'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l no-truncate -d 'Cut nothing, even if lines get wider than the terminal'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -l json -d 'Print `{items,total,limit,offset,hasMore}` as JSON instead of a table'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l status -d 'Only this status: queued, running, succeeded, failed, canceled (repeatable) [default: all statuses]' -r -f -a "queued\t''
running\t''
succeeded\t''
failed\t''
canceled\t''"
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l label -d 'Only work orders with this label (repeatable: all of them) [default: any labels] [default: any labels]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l limit -d 'At most this many [default: 20]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l all -d 'All of them (lifts --limit) [default: the newest 20]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l wide -d 'Every column, in full (full agent names, reasons, labels); only the prompt is cut to fit'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l no-truncate -d 'Cut nothing, even if lines get wider than the terminal'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -l json -d 'Print `{items,total,limit,offset,hasMore}` as JSON instead of a table'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from show" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from show" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from show" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from show" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from show" -l json -d 'Print the work order object (with a `runs` array) as JSON instead of text; an array for several'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from st" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from st" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from st" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from st" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from st" -l json -d 'Print the work order object (with a `runs` array) as JSON instead of text; an array for several'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from st" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from cancel" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from cancel" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from cancel" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from cancel" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from cancel" -l json -d 'Print `{id,status,wasRunning,killed}` as JSON; an array for several'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from kill" -l grace -d 'Grace period before SIGKILL, at most 1h [default: the daemon\'s, 5s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from kill" -l reason -d 'Why; recorded in the work order\'s error [default: "killed by user"]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from kill" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from kill" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from kill" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from kill" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from kill" -l force -d 'SIGKILL at once, no grace period [default: SIGTERM first]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from kill" -l json -d 'Print `{id,success,forcedKill,durationMs,status,message}` as JSON; an array for several'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from kill" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -l status -d 'Purge work orders with this status (repeatable) [default: succeeded, failed, canceled]' -r -f -a "queued\t''
running\t''
succeeded\t''
failed\t''
canceled\t''"
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -l older-than -d 'Only those created longer ago than this, e.g. 7d, 12h [default: any age]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -l dry-run -d 'List what would be purged; delete nothing'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -s y -l yes -d 'Do not ask for confirmation (needed without a TTY when more than one would go)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -l delete-branch -d 'Also delete the agentgate/<id> branch of a purged worktree [default: keep it, it holds the agent\'s work]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -l json -d 'Print `{deletedCount,deletedIds,wouldDelete?}` as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from purge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -l status -d 'Purge work orders with this status (repeatable) [default: succeeded, failed, canceled]' -r -f -a "queued\t''
running\t''
succeeded\t''
failed\t''
canceled\t''"
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -l older-than -d 'Only those created longer ago than this, e.g. 7d, 12h [default: any age]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -l dry-run -d 'List what would be purged; delete nothing'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -s y -l yes -d 'Do not ask for confirmation (needed without a TTY when more than one would go)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -l delete-branch -d 'Also delete the agentgate/<id> branch of a purged worktree [default: keep it, it holds the agent\'s work]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -l json -d 'Print `{deletedCount,deletedIds,wouldDelete?}` as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from health" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from health" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from health" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from health" -l json -d 'Print the health object (as GET /api/v1/queue/health) as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from health" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from diff" -l color -d 'Colour: auto (on a terminal), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from diff" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from diff" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from diff" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from diff" -l last -d 'The newest work order'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from diff" -l stat -d 'Files changed with counts of lines, as `git diff --stat`'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from diff" -l name-only -d 'Names of the files changed only'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from diff" -l json -d 'Print the files changed with their counts (as GET /api/v1/work-orders/:id/diff?stat=true) as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from merge" -s m -l message -d 'The commit message [default: one naming the work order and its prompt\'s first line]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from merge" -l into -d 'The branch to land on [default: the branch checked out when the work order was submitted]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from merge" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from merge" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from merge" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from merge" -l last -d 'The newest work order'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from merge" -l squash -d 'Land the work as one commit on the target branch [default: a merge commit, or a fast-forward]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from merge" -l json -d 'Print the merge and the work order as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from discard" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from discard" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from discard" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from discard" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from discard" -l force -d 'Also when the branch holds work that was never merged (it is deleted)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from discard" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from discard" -l json -d 'Print the work orders as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from discard" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from push" -l remote -d 'The remote to push to [default: the upstream of the branch the work order started from, else the repository\'s only remote]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from push" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from push" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from push" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from push" -l last -d 'The newest work order'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from push" -l json -d 'Print what was pushed as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pr" -l title -d 'The pull request\'s title [default: the prompt\'s first line]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pr" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pr" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pr" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pr" -l last -d 'The newest work order'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pr" -l draft -d 'Open it as a draft'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pr" -l json -d 'Print what was pushed and the pull request\'s URL as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pr" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from stats" -l by -d 'Group by agent type, label (one row per label), day (UTC, of creation) or status' -r -f -a "agent\t''
label\t''
day\t''
status\t''"
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from stats" -l since -d 'Only work orders created in the last DUR, e.g. 7d, 24h [default: all held]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from stats" -l label -d 'Only work orders with this label (repeatable: all of them) [default: any labels]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from stats" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from stats" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from stats" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from stats" -l json -d 'Print the report (as GET /api/v1/stats) as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from start" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from start" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from start" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from start" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from start" -l json -d 'Print `{id,runId,status,startedAt}` as JSON; an array for several'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l prompt -d 'A new prompt; `-` reads it from stdin [default: the original\'s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l prompt-file -d 'Read the new prompt from this file [default: the original\'s]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l agent -d 'Agent type [default: the original\'s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l max-time -d 'Time limit of a run, 1s to 7d [default: the original\'s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l max-iterations -d 'Maximum agent iterations [default: the original\'s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l env -d 'Add or replace a variable, KEY=VALUE (repeatable) [default: the original\'s variables]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l after -d 'Wait for these work orders instead of the original\'s dependencies (repeatable) [default: the original\'s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l priority -d 'Priority [default: the original\'s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l label -d 'Labels instead of the original\'s (repeatable) [default: the original\'s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l edit-prompt -d 'Edit the original prompt in $VISUAL or $EDITOR first [default: reuse it as it is]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l no-after -d 'Drop the original\'s dependencies [default: keep them]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l wait -d 'Then wait until it ends, like `queue wait` (same exit codes) [default: return at once]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l follow -d 'Then stream its output until it ends, like `queue logs --follow` (same exit codes) [default: return at once]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -l json -d 'Print the created work order as JSON instead of its id; an array for several'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from set-priority" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from set-priority" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from set-priority" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from set-priority" -l json -d 'Print the work order as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from set-priority" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pause" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pause" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pause" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pause" -l json -d 'Print the queue settings (as GET /api/v1/queue/config) as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from resume" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from resume" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from resume" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from resume" -l json -d 'Print the queue settings (as GET /api/v1/queue/config) as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from config" -l max-concurrent -d 'Work orders running at once [default: unchanged]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from config" -l stagger-delay -d 'Minimum time between automatic starts, e.g. 0, 10s, 1m [default: unchanged]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from config" -l min-memory -d 'Start work only while MemAvailable is at least this, e.g. 0, 2GiB [default: unchanged]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from config" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from config" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from config" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from config" -l reset -d 'Drop every run-time change: back to the configured values [default: keep them]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from config" -l json -d 'Print the settings (as GET /api/v1/queue/config) as JSON'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -s n -l tail -d 'Start with the last N lines [default: all of it]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -l run -d 'An earlier run: its number (1 = the first) or its run id [default: the current run]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -l last -d 'The newest work order'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -s f -l follow -d 'Keep printing new output until the work order ends; exit 0 if it succeeded, 1 otherwise [default: print what is there and exit]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -l stdout -d 'Only the run\'s stdout [default: stdout and stderr interleaved]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -l stderr -d 'Only the run\'s stderr [default: stdout and stderr interleaved]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -l timestamps -d 'Prefix each line with the time it was written [default: no timestamps]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -l raw -d 'Print a structured output (stream-json) as written, not as a transcript [default: transcript]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -s n -l tail -d 'Start with the last N lines [default: all of it]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -l run -d 'An earlier run: its number (1 = the first) or its run id [default: the current run]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -l last -d 'The newest work order'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -s f -l follow -d 'Keep printing new output until the work order ends; exit 0 if it succeeded, 1 otherwise [default: print what is there and exit]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -l stdout -d 'Only the run\'s stdout [default: stdout and stderr interleaved]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -l stderr -d 'Only the run\'s stderr [default: stdout and stderr interleaved]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -l timestamps -d 'Prefix each line with the time it was written [default: no timestamps]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -l raw -d 'Print a structured output (stream-json) as written, not as a transcript [default: transcript]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from log" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -l max-time -d 'Time limit of the run [default: the parent\'s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -l max-iterations -d 'Maximum agent iterations [default: the parent\'s]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -l last -d 'Follow up the newest work order (then the only argument is the prompt) [default: off]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -l wait -d 'Then wait until it ends, like `queue wait` (same exit codes) [default: return at once]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -l follow -d 'Then stream its output until it ends, like `queue logs --follow` (same exit codes) [default: return at once]'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -l json -d 'Print the created work order as JSON instead of its id'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from continue" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from wait" -l timeout -d 'Give up after this long and exit 4, e.g. 90s, 10m, 1h30m [default: wait forever]' -r
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from wait" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from wait" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from wait" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from wait" -l last -d 'The newest work order (as well as any IDs given)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from wait" -l json -d 'Print `{items,allSucceeded}` (items: the work orders) as JSON instead of lines'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "list" -d 'List work orders, newest first: id, status, agent, age, run duration, why it waits, prompt'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show work orders with their runs, dependencies and why they wait'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Cancel work orders: a queued one never starts, a running one has its process tree stopped'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "kill" -d 'Stop running work orders\' process trees (SIGTERM, grace period, SIGKILL)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "purge" -d 'Delete work orders permanently (file, runs, logs, daemon-made clone)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "health" -d 'Queue health: counts, limits, memory, why work waits, alerts'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "diff" -d 'A worktree\'s changes against the commit it started from (commits, uncommitted and untracked), as git shows them'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "merge" -d 'Land a worktree\'s work on the branch it started from (or --into): merge, fast-forward or --squash'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "discard" -d 'Remove work orders\' worktrees and delete their branches (refused for unmerged work unless --force)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "push" -d 'Push a worktree\'s branch agentgate/<id> to a remote (uncommitted work committed on it first)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "pr" -d 'Push a worktree\'s branch and open a pull request with the GitHub CLI (gh)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "stats" -d 'Usage across work orders: counts, run time and cost per agent, label, day or status'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "start" -d 'Start queued (or retry failed) work orders now; bypasses the stagger delay, not the concurrency limit'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Queue a copy of finished work orders (any end: succeeded, failed, canceled), linked to the original'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "set-priority" -d 'Change the priority of a queued work order (higher starts first)'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Stop starting queued work (running work goes on); kept across daemon restarts'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Start queued work again after `queue pause`'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "config" -d 'Show or change the running daemon\'s admission settings, without a restart'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "logs" -d 'Print a work order\'s output: stdout and stderr interleaved as they were written'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "continue" -d 'Follow up a finished work order: resume its agent\'s session in the same workspace with a new prompt'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "wait" -d 'Block until every listed work order has ended'
complete -c agentgate -n "__fish_agentgate_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentgate -n "__fish_agentgate_using_subcommand dashboard" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand dashboard" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand dashboard" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand dashboard" -l open -d 'Also open the link in the default browser ($BROWSER, else xdg-open or open)'
complete -c agentgate -n "__fish_agentgate_using_subcommand dashboard" -l logout-all -d 'End every dashboard session (and void unused links) instead'
complete -c agentgate -n "__fish_agentgate_using_subcommand dashboard" -l json -d 'Print the answer as JSON ({"url", "expiresInSeconds"} or {"sessionsEnded"})'
complete -c agentgate -n "__fish_agentgate_using_subcommand dashboard" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand mcp" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand mcp" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand mcp" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand mcp" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand completions" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand completions" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand completions" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agentgate -n "__fish_agentgate_using_subcommand __complete" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand __complete" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand __complete" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand __complete" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand __supervise" -l spec-file -d 'Read the run\'s spec from this file (waiting for it to appear) [default: one line on stdin, then "go"]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand __supervise" -l data-dir -d 'Root data directory [env: AGENTGATE_ROOT] [default: ~/.local/share/agentgate]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand __supervise" -l socket -d 'Unix socket path [env: AGENTGATE_SOCKET] [default: $XDG_RUNTIME_DIR/agentgate/agentgate.sock, else <root>/agentgate.sock]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand __supervise" -l config -d 'Config file [env: AGENTGATE_CONFIG] [default: ~/.config/agentgate/config.toml]' -r -F
complete -c agentgate -n "__fish_agentgate_using_subcommand __supervise" -s h -l help -d 'Print help'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and not __fish_seen_subcommand_from daemon submit queue dashboard mcp completions __complete __supervise help" -f -a "daemon" -d 'Run the daemon (in the foreground, or in the background with --detach); `daemon stop` stops it'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and not __fish_seen_subcommand_from daemon submit queue dashboard mcp completions __complete __supervise help" -f -a "submit" -d 'Submit a work order; prints its id'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and not __fish_seen_subcommand_from daemon submit queue dashboard mcp completions __complete __supervise help" -f -a "queue" -d 'Inspect and control the queue'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and not __fish_seen_subcommand_from daemon submit queue dashboard mcp completions __complete __supervise help" -f -a "dashboard" -d 'Print a one-time link that logs a browser into the daemon\'s dashboard'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and not __fish_seen_subcommand_from daemon submit queue dashboard mcp completions __complete __supervise help" -f -a "mcp" -d 'Serve the Model Context Protocol on stdio: agents queue and land work through agentgate'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and not __fish_seen_subcommand_from daemon submit queue dashboard mcp completions __complete __supervise help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and not __fish_seen_subcommand_from daemon submit queue dashboard mcp completions __complete __supervise help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "stop" -d 'Stop the running daemon gracefully and wait until its process is gone; running work is stopped and marked interrupted unless --keep-running'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "restart" -d 'Restart the daemon in place, keeping running work: same process, same arguments (a new binary at the same path is picked up); waits until it serves again'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "list" -d 'List work orders, newest first: id, status, agent, age, run duration, why it waits, prompt'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "show" -d 'Show work orders with their runs, dependencies and why they wait'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "cancel" -d 'Cancel work orders: a queued one never starts, a running one has its process tree stopped'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "kill" -d 'Stop running work orders\' process trees (SIGTERM, grace period, SIGKILL)'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "purge" -d 'Delete work orders permanently (file, runs, logs, daemon-made clone)'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "health" -d 'Queue health: counts, limits, memory, why work waits, alerts'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "diff" -d 'A worktree\'s changes against the commit it started from (commits, uncommitted and untracked), as git shows them'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "merge" -d 'Land a worktree\'s work on the branch it started from (or --into): merge, fast-forward or --squash'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "discard" -d 'Remove work orders\' worktrees and delete their branches (refused for unmerged work unless --force)'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "push" -d 'Push a worktree\'s branch agentgate/<id> to a remote (uncommitted work committed on it first)'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "pr" -d 'Push a worktree\'s branch and open a pull request with the GitHub CLI (gh)'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "stats" -d 'Usage across work orders: counts, run time and cost per agent, label, day or status'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "start" -d 'Start queued (or retry failed) work orders now; bypasses the stagger delay, not the concurrency limit'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "restart" -d 'Queue a copy of finished work orders (any end: succeeded, failed, canceled), linked to the original'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "set-priority" -d 'Change the priority of a queued work order (higher starts first)'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "pause" -d 'Stop starting queued work (running work goes on); kept across daemon restarts'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "resume" -d 'Start queued work again after `queue pause`'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "config" -d 'Show or change the running daemon\'s admission settings, without a restart'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "logs" -d 'Print a work order\'s output: stdout and stderr interleaved as they were written'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "continue" -d 'Follow up a finished work order: resume its agent\'s session in the same workspace with a new prompt'
complete -c agentgate -n "__fish_agentgate_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "wait" -d 'Block until every listed work order has ended'

# Live work-order ids (agentgate): where an id is expected, ask
# `agentgate __complete` (status and prompt as the description).
function __agentgate_live_ids
    set -l words (commandline -opc) (commandline -ct)
    command -q $words[1]; or return 1
    $words[1] __complete fish (math (count $words) - 1) $words 2>/dev/null
end
function __agentgate_wants_id
    set -l words (commandline -opc) (commandline -ct)
    command -q $words[1]; or return 1
    $words[1] __complete fish (math (count $words) - 1) $words >/dev/null 2>/dev/null
end
complete -c agentgate -n __agentgate_wants_id -f -a "(__agentgate_live_ids)"
