//! The CLI as a person meets it (issue 13), through the real binary: tables
//! that fit 60, 80 and 200 columns on a pseudo-terminal (CJK and emoji
//! included), user data that cannot drive the terminal, tab-separated output
//! for pipes, errors in CLI terms with their exit codes, `--json` errors,
//! `queue wait` on Ctrl-C and timeout, clients when the daemon goes away.

mod common;

use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use agentgate::client::table::width;
use common::{Daemon, FAST, code, stderr, stdout, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(20);

/// A pseudo-terminal of `cols` columns; the master side's output arrives on
/// the channel as it is written.
struct Pty {
    slave: Option<OwnedFd>,
    out: mpsc::Receiver<Vec<u8>>,
    /// Typing: what is written here is the terminal's input.
    keys: std::fs::File,
}

impl Pty {
    fn new(cols: u16) -> Pty {
        let size = nix::pty::Winsize {
            ws_row: 50,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&size), None).expect("openpty");
        let (tx, out) = mpsc::channel();
        let mut reader = std::fs::File::from(pty.master);
        let keys = reader.try_clone().expect("dup master");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once every slave descriptor is closed: the end.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Pty {
            slave: Some(pty.slave),
            out,
            keys,
        }
    }

    fn slave(&self) -> Stdio {
        Stdio::from(
            self.slave
                .as_ref()
                .expect("slave")
                .try_clone()
                .expect("dup slave"),
        )
    }

    /// Everything written until every writer closed its end.
    fn drain(mut self) -> String {
        self.slave = None;
        let mut all = Vec::new();
        while let Ok(b) = self.out.recv_timeout(T) {
            all.extend(b);
        }
        String::from_utf8_lossy(&all).replace('\r', "")
    }
}

/// Runs a client with stdout on a terminal `cols` wide (and COLUMNS set).
fn on_terminal(d: &Daemon, cols: u16, args: &[&str], color: bool) -> (i32, String, String) {
    let pty = Pty::new(cols);
    let mut c = d.command();
    c.args(args)
        .env("COLUMNS", cols.to_string())
        .stdin(Stdio::null())
        .stdout(pty.slave())
        .stderr(Stdio::piped());
    if color {
        c.env_remove("NO_COLOR");
    }
    let child = c.spawn().expect("spawn client");
    // The command holds a copy of the terminal's slave side: only the
    // client's may keep it open, or the end is never seen.
    drop(c);
    let out = child.wait_with_output().expect("wait client");
    (code(&out), pty.drain(), stderr(&out))
}

/// Removes SGR colour sequences.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after.find('m').map_or(after.len(), |e| e + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_list_fits_60_80_and_200_columns_on_a_terminal() {
    let d = Daemon::fast(&["--no-auto-process"]);
    let cjk = format!(
        "修复解析器中的错误并添加测试{}",
        "漢字のテストを書く".repeat(8)
    );
    let emoji = format!("🚀 ship it 🎉 {}", "✨ polish the release notes ".repeat(6));
    // The default agent (claude-code-subscription) never runs here.
    let claude = d.json(&["submit", "--json", &"Refactor the storage layer ".repeat(8)]);
    d.submit_shell(&cjk, &["--label", "nightly", "--priority", "3"]);
    d.submit_shell(&emoji, &["--label", "team=infra"]);
    d.submit_shell("echo short", &[]);
    for cols in [60u16, 80, 200] {
        for color in [false, true] {
            let (code, out, err) = on_terminal(&d, cols, &["queue", "list"], color);
            assert_eq!(code, 0, "{err}");
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines.len(), 5, "{out}");
            for l in &lines {
                let l = plain(l);
                assert!(
                    width(&l) <= cols as usize,
                    "{cols} columns: {} wide: {l:?}",
                    width(&l)
                );
            }
            assert!(lines[0].starts_with("ID"), "{out}");
            assert!(lines[0].trim_end().ends_with("PROMPT"), "{out}");
            assert_eq!(out.contains('\x1b'), color, "{out:?}");
        }
    }
    // Short agent labels; the full name with --wide.
    let (_, out, _) = on_terminal(&d, 80, &["queue", "list"], false);
    let row = out
        .lines()
        .find(|l| l.starts_with(claude["id"].as_str().unwrap()))
        .unwrap();
    assert!(
        row.contains(" claude ") && !row.contains("subscription"),
        "{row}"
    );
    assert!(row.ends_with('…'), "{row}");
    let (_, out, _) = on_terminal(&d, 200, &["queue", "list", "--wide"], false);
    assert!(out.contains("claude-code-subscription"), "{out}");
    for header in ["PRI", "LABELS", "REASON", "AGE", "DURATION"] {
        assert!(out.lines().next().unwrap().contains(header), "{out}");
    }
    assert!(out.contains("auto-process off"), "{out}");
    // --no-truncate cuts nothing.
    let (_, out, _) = on_terminal(&d, 60, &["queue", "list", "--no-truncate"], false);
    assert!(
        out.contains(&cjk) && out.contains(emoji.trim_end()),
        "{out}"
    );
    // The "showing" note goes to stderr.
    let (_, out, err) = on_terminal(&d, 80, &["queue", "list", "--limit", "2"], false);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(err.contains("showing 2 of 4"), "{err}");
}

#[test]
fn control_characters_in_user_data_are_shown_escaped() {
    let d = Daemon::fast(&[]);
    let hostile = "echo \x1b[31mred\x1b[0m\x07 \u{202e}gnp.exe\nsecond line";
    let id = d.submit_shell(&format!("sleep 1000 # {hostile}"), &[]);
    d.wait_status(&id, "running", T);
    d.json(&[
        "queue",
        "kill",
        &id,
        "--reason",
        "stuck \x1b[2J here",
        "--json",
    ]);
    let (_, table, _) = on_terminal(&d, 200, &["queue", "list"], false);
    let shown = stdout(&d.run(&["queue", "show", &id]));
    let piped = stdout(&d.run(&["queue", "list"]));
    let waited = d.run(&["queue", "wait", &id]);
    for (what, text) in [
        ("list", table.as_str()),
        ("show", shown.as_str()),
        ("list | cat", piped.as_str()),
        ("wait", &stdout(&waited)),
        ("wait stderr", &stderr(&waited)),
    ] {
        assert!(!text.contains('\x1b'), "{what}: raw ESC in {text:?}");
        assert!(!text.contains('\x07'), "{what}: raw BEL in {text:?}");
        assert!(
            !text.contains('\u{202e}'),
            "{what}: raw bidi override in {text:?}"
        );
    }
    assert!(
        table.contains("\\e[31mred\\e[0m\\x07 \\u{202e}gnp.exe⏎second line"),
        "{table}"
    );
    assert!(shown.contains("\\e[31mred"), "{shown}");
    assert!(
        shown.contains("error:       killed by user: stuck \\e[2J here"),
        "{shown}"
    );
    assert!(
        stdout(&waited).contains("stuck \\e[2J here"),
        "{}",
        stdout(&waited)
    );
    // A multi-line prompt keeps its lines in `show`, under its label.
    assert!(shown.contains("\n             second line"), "{shown}");
}

#[test]
fn piped_lists_are_tab_separated_and_whole() {
    let d = Daemon::fast(&["--no-auto-process"]);
    let long = format!("echo {}", "x".repeat(300));
    let a = d.submit_shell(&long, &["--label", "a", "--label", "b", "--priority", "-2"]);
    let b = d.submit_shell("echo b", &[]);
    let out = d.run(&["queue", "list"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let newest: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(newest.len(), 9, "{newest:?}");
    assert_eq!(newest[0], b);
    assert_eq!(newest[4], "-");
    let oldest: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(
        (oldest[0], oldest[1], oldest[2], oldest[3], oldest[4]),
        (a.as_str(), "queued", "shell", "-2", "a,b")
    );
    assert_eq!(oldest[7], "auto-process off");
    assert_eq!(oldest[8], long);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let out = d.run(&["queue", "list", "--limit", "1"]);
    assert_eq!(stdout(&out).lines().count(), 1);
    assert!(stderr(&out).contains("showing 1 of 2"), "{}", stderr(&out));
}

#[test]
fn errors_speak_cli_with_their_exit_codes() {
    let d = Daemon::start_env(FAST, &[("AGENTGATE_GITHUB_OWNER", "")]);
    let cases: &[(&[&str], i32, &[&str])] = &[
        (
            &["submit", "--agent", "shell", "--max-time", "8d", "x"],
            2,
            &["error: --max-time 8d: at most 7d"],
        ),
        (
            &["submit", "--agent", "shell", "--max-time", "5x", "x"],
            2,
            &["error: --max-time 5x: not a duration"],
        ),
        (
            &["submit", "--agent", "shell", "--max-time", "30", "x"],
            2,
            &["--max-time 30: a duration needs a unit: 30s, 30m or 30h"],
        ),
        (
            &["submit", "--agent", "shell", "--max-iterations", "0", "x"],
            2,
            &["--max-iterations 0: between 1 and 10000"],
        ),
        (
            &["submit", "--agent", "shell", "--branch", "main", "x"],
            2,
            &["--branch main:", "--url or --repo"],
        ),
        (
            &["submit", "--agent", "shell", "--repo", "lonely", "x"],
            2,
            &[
                "--repo lonely: no owner",
                "--owner",
                "AGENTGATE_GITHUB_OWNER",
            ],
        ),
        (
            &[
                "submit",
                "--agent",
                "shell",
                "--url",
                "https://github.com/only-owner",
                "x",
            ],
            2,
            &[
                "--url https://github.com/only-owner: \"https://github.com/only-owner\" is not a GitHub repository URL",
            ],
        ),
        (
            &["submit", "--agent", "nope", "x"],
            2,
            &["--agent nope: unknown agent type", "shell"],
        ),
        (
            &["submit", "--agent", "shell", "   "],
            2,
            &["error: the prompt is empty"],
        ),
        (
            &["queue", "kill", "abcdefgh", "--grace", "2h"],
            2,
            &["--grace 2h: at most 1h"],
        ),
        (
            &["queue", "wait", "abcdefgh", "--timeout", "soon"],
            2,
            &["--timeout soon: not a duration"],
        ),
        (
            &["queue", "purge", "--older-than", "7"],
            2,
            &["--older-than 7: a duration needs a unit"],
        ),
        (
            &["queue", "config", "--max-concurrent", "0"],
            2,
            &["--max-concurrent 0: at least 1"],
        ),
        (
            &["queue", "config", "--min-memory", "lots"],
            2,
            &["--min-memory lots: not a size"],
        ),
        (
            &["queue", "list", "--limit", "0"],
            2,
            &["--limit 0: at least 1"],
        ),
        (
            &["queue", "show", "nosuchid0000"],
            1,
            &["no work order with id \"nosuchid0000\""],
        ),
        (
            &["queue", "lst"],
            2,
            &[
                "unrecognized subcommand 'lst'",
                "tip: some similar subcommands exist: 'ls', 'list'",
            ],
        ),
    ];
    for (args, want, needles) in cases {
        let out = d.run(args);
        let err = stderr(&out);
        assert_eq!(code(&out), *want, "{args:?}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{args:?}: no {n:?} in {err}");
        }
        assert!(
            !err.contains("taskPrompt") && !err.contains("maxTime") && !err.contains("{\"type\""),
            "{args:?}: API words in {err}"
        );
    }
    // Far guesses are not offered.
    for far in ["stop", "frobnicate"] {
        let out = d.run(&["queue", far]);
        assert_eq!(code(&out), 2);
        assert!(!stderr(&out).contains("tip:"), "{far}: {}", stderr(&out));
    }
    // Nothing was created by any of it.
    assert_eq!(d.json(&["queue", "list", "--json"])["total"], 0);
}

#[test]
fn json_errors_are_json_on_stdout_too() {
    let d = Daemon::fast(&[]);
    let cases: &[(&[&str], i32, &str)] = &[
        (&["queue", "show", "nosuchid0000", "--json"], 1, "not_found"),
        (
            &[
                "submit",
                "--agent",
                "shell",
                "--max-time",
                "8d",
                "--json",
                "x",
            ],
            2,
            "usage",
        ),
        (&["queue", "list", "--bogus", "--json"], 2, "usage"),
        (
            &["queue", "cancel", "../etc/passwd", "--json"],
            1,
            "bad_request",
        ),
    ];
    for (args, want, kind) in cases {
        let out = d.run(args);
        assert_eq!(code(&out), *want, "{args:?}");
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&out)));
        assert_eq!(v["error"]["code"], *kind, "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(!message.is_empty());
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(message.lines().next().unwrap()),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn daemon_stop_with_nothing_running_is_done() {
    let mut d = Daemon::fast(&[]);
    d.stop();
    let out = d.run(&["daemon", "stop"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("not running"), "{}", stderr(&out));
}

/// A client whose exit is awaited in the background.
fn spawn(d: &Daemon, args: &[&str]) -> std::process::Child {
    d.command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: std::process::Child) -> std::process::Output {
    let mut child = child;
    wait_for("the client to exit", T, || child.try_wait().ok().flatten());
    child.wait_with_output().unwrap()
}

/// Waits until `pty` (a client's stderr) has shown `want`.
fn expect_on(pty: &Pty, seen: &mut Vec<u8>, want: &str) {
    let deadline = Instant::now() + T;
    while !String::from_utf8_lossy(seen).contains(want) {
        let left = deadline.saturating_duration_since(Instant::now());
        match pty.out.recv_timeout(left) {
            Ok(b) => seen.extend(b),
            Err(_) => panic!("no {want:?}: {:?}", String::from_utf8_lossy(seen)),
        }
    }
}

/// `queue wait` (progress on a terminal) and `queue logs --follow` (its
/// first line read), both surely connected.
fn followers(d: &Daemon, id: &str) -> (std::process::Child, Pty, std::process::Child) {
    let pty = Pty::new(80);
    let wait = d
        .command()
        .args(["queue", "wait", id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(pty.slave())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    expect_on(&pty, &mut seen, "waiting for 1 work order");
    let mut logs = spawn(d, &["queue", "logs", "--follow", id]);
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(logs.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    assert_eq!(first, "started\n");
    (wait, pty, logs)
}

#[test]
fn followers_exit_3_when_the_daemon_goes_away() {
    let mut d = Daemon::fast(&[]);
    let id = d.submit_shell("echo started; sleep 1000", &[]);
    d.wait_status(&id, "running", T);
    // A crash.
    let (wait, pty, logs) = followers(&d, &id);
    d.crash();
    let out = finish(logs);
    assert_eq!(code(&out), 3, "logs --follow: {}", stderr(&out));
    assert!(
        stderr(&out).contains("the daemon closed the connection"),
        "{}",
        stderr(&out)
    );
    let out = finish(wait);
    assert_eq!(code(&out), 3);
    let err = pty.drain();
    assert!(
        err.contains("error: the daemon closed the connection"),
        "{err:?}"
    );
    // A stop that leaves the work running: the same.
    d.spawn();
    let (wait, pty, logs) = followers(&d, &id);
    let out = d.run(&["daemon", "stop", "--keep-running"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(code(&finish(logs)), 3);
    assert_eq!(code(&finish(wait)), 3);
    drop(pty);
    if let Some(mut c) = d.child.take() {
        let _ = c.wait();
    }
    d.spawn();
    d.json(&["queue", "kill", &id, "--force", "--json"]);
}

#[test]
fn wait_clears_its_progress_line_on_ctrl_c() {
    let d = Daemon::fast(&[]);
    let id = d.submit_shell("sleep 1000", &[]);
    d.wait_status(&id, "running", T);
    let pty = Pty::new(80);
    let mut child = d
        .command()
        .args(["queue", "wait", &id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(pty.slave())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + T;
    while !String::from_utf8_lossy(&seen).contains("waiting for 1 work order") {
        let left = deadline.saturating_duration_since(Instant::now());
        match pty.out.recv_timeout(left) {
            Ok(b) => seen.extend(b),
            Err(_) => panic!("no progress line: {:?}", String::from_utf8_lossy(&seen)),
        }
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = wait_for("wait to exit", T, || child.try_wait().ok().flatten());
    // Killed by SIGINT, as an interrupted program is (a shell says 130).
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(2), "{status:?}");
    let text = String::from_utf8_lossy(&seen).into_owned() + &pty.drain();
    let last = text.rfind("waiting for").unwrap();
    let after = &text[last..];
    let cleared = after.find("\x1b[2K").expect("the line is cleared");
    let told = after
        .find("error: interrupted")
        .expect("the interruption is told");
    assert!(cleared < told, "{after:?}");
    // The work order goes on.
    assert_eq!(d.status(&id), "running");
    d.json(&["queue", "kill", &id, "--force", "--json"]);
}

#[test]
fn wait_json_prints_what_it_has_on_timeout() {
    let d = Daemon::fast(&[]);
    let done = d.submit_shell("true", &[]);
    d.wait_terminal(&done, T);
    let id = d.submit_shell("sleep 1000", &[]);
    d.wait_status(&id, "running", T);
    let out = d.run(&["queue", "wait", &done, &id, "--timeout", "300ms", "--json"]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on timeout");
    assert_eq!(v["timedOut"], true);
    assert_eq!(v["allSucceeded"], false);
    assert_eq!(v["items"][0]["status"], "succeeded");
    assert_eq!(v["items"][1]["status"], "running");
    assert_eq!(v["items"][1]["id"], id.as_str());
    assert!(
        stderr(&out).contains("timed out after 300ms"),
        "{}",
        stderr(&out)
    );
    d.json(&["queue", "kill", &id, "--force", "--json"]);
}

#[test]
fn man_pages_have_examples_environment_files_and_exit_status() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut pages = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        pages += 1;
        for section in [
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH EXAMPLES",
        ] {
            assert!(
                text.contains(section),
                "{}: no {section}",
                e.path().display()
            );
        }
    }
    assert!(pages >= 20, "{pages} pages");
    let wait = std::fs::read_to_string(dir.join("agentgate-queue-wait.1")).unwrap();
    assert!(wait.contains("\\-\\-timeout expired"), "{wait}");
    // man itself reads them, where it is installed.
    if Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let out = Command::new("man")
            .arg("-l")
            .arg(dir.join("agentgate-queue-restart.1"))
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("EXAMPLES")
                && text.contains("agentgate queue restart --last --edit-prompt"),
            "{text}"
        );
    }
}

/// `submit --wait` with its progress on a terminal: the redraw timer must
/// never take the daemon's greeting away from the first reply (it did about
/// one time in three: "unexpected Hello"). Repeated, as the race was.
#[test]
fn submit_wait_on_a_terminal_never_loses_the_handshake() {
    let d = Daemon::fast(&[]);
    for i in 0..12 {
        let pty = Pty::new(80);
        let mut c = d.command();
        c.args([
            "submit",
            "--agent",
            "shell",
            "--wait",
            &format!("echo run-{i}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(pty.slave());
        let child = c.spawn().expect("spawn client");
        drop(c);
        let out = finish(child);
        let err = pty.drain();
        assert_eq!(code(&out), 0, "run {i}: {err}");
        assert!(!err.contains("unexpected Hello"), "run {i}: {err}");
    }
}

/// Short names people reach for, and a hint for queue commands typed at the
/// top level.
#[test]
fn aliases_and_a_hint_for_queue_commands() {
    let d = Daemon::fast(&[]);
    let id = d.submit_shell("echo aliased", &[]);
    d.wait_terminal(&id, T);
    let ls = d.run(&["queue", "ls"]);
    assert_eq!(code(&ls), 0, "{}", stderr(&ls));
    assert!(stdout(&ls).contains(&id), "{}", stdout(&ls));
    let st = d.run(&["queue", "st", &id]);
    assert!(stdout(&st).contains("aliased"), "{}", stdout(&st));
    let log = d.run(&["queue", "log", &id]);
    assert_eq!(stdout(&log), "aliased\n");
    let rm = d.run(&["queue", "rm", &id, "--yes"]);
    assert_eq!(code(&rm), 0, "{}", stderr(&rm));
    // One is one work order, not "1 work orders".
    assert!(
        stdout(&rm).starts_with("purged 1 work order\n"),
        "{}",
        stdout(&rm)
    );
    for typed in ["list", "logs"] {
        let out = d.run(&[typed]);
        assert_eq!(code(&out), 2);
        assert!(
            stderr(&out).contains(&format!("'queue {typed}'")),
            "{}",
            stderr(&out)
        );
    }
}

/// `daemon stop` with agents running asks first on a terminal (naming
/// --keep-running); no is no; --yes and scripts are not asked.
#[test]
fn daemon_stop_asks_before_stopping_running_agents() {
    let mut d = Daemon::fast(&[]);
    let id = d.submit_shell("sleep 1000", &[]);
    d.wait_status(&id, "running", T);
    let mut pty = Pty::new(80);
    let mut c = d.command();
    c.args(["daemon", "stop"])
        .stdin(pty.slave())
        .stdout(Stdio::piped())
        .stderr(pty.slave());
    let child = c.spawn().expect("spawn client");
    drop(c);
    let mut seen = Vec::new();
    // The prompt may arrive in several reads: wait for its end.
    expect_on(&pty, &mut seen, "[y/N]");
    let prompt = String::from_utf8_lossy(&seen).into_owned();
    assert!(prompt.contains("1 running work order"), "{prompt}");
    assert!(prompt.contains("--keep-running"), "{prompt}");
    std::io::Write::write_all(&mut pty.keys, b"n\n").unwrap();
    let out = finish(child);
    assert_eq!(code(&out), 1);
    assert_eq!(d.status(&id), "running");
    // Not a terminal: not asked (scripts), as with --yes.
    let out = d.run(&["daemon", "stop"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    d.stop();
}

/// A COST column appears once any listed work order reported a cost.
#[test]
fn list_shows_cost_when_agents_report_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[agents.costly]\ncommand = [\"sh\", \"-c\", \"echo '{\\\"type\\\":\\\"result\\\",\\\"subtype\\\":\\\"success\\\",\\\"is_error\\\":false,\\\"total_cost_usd\\\":0.0123}'\"]\noutput = \"claude-stream-json\"\n",
    )
    .unwrap();
    let d = Daemon::fast(&["--config", config.to_str().unwrap()]);
    let plain = d.submit_shell("true", &[]);
    d.wait_terminal(&plain, T);
    let (_, before, _) = on_terminal(&d, 120, &["queue", "list"], false);
    assert!(!before.contains("COST"), "{before}");
    let id = d.json(&["submit", "--agent", "costly", "--json", "x"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    d.wait_terminal(&id, T);
    let (_, after, _) = on_terminal(&d, 120, &["queue", "list"], false);
    assert!(after.contains("COST"), "{after}");
    assert!(after.contains("$0.0123"), "{after}");
}
