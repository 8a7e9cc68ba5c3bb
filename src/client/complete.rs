//! Shell completion of live work-order ids. The scripts `agentgate
//! completions SHELL` prints (and `completions/` keeps) are clap's static
//! ones plus a small hook: at each TAB they run the hidden `agentgate
//! __complete SHELL INDEX WORDS...`, which says whether the word being
//! completed is a work-order id (exit 0, candidates on stdout: the ids the
//! command can act on, with status and prompt where the shell shows a
//! description) or not (exit 1: the static completion applies).

use std::process::ExitCode;
use std::time::Duration;

use clap_complete::Shell;

use super::table::{cut, one_line};
use crate::cli::{Cli, GlobalArgs};
use crate::config::{ConfigFile, Paths};
use crate::model::Status;
use crate::rpc::client::Client;
use crate::rpc::proto::{Reply, Request};
use crate::service::ListQuery;

/// How long a TAB may wait for the daemon.
const DEADLINE: Duration = Duration::from_secs(2);
/// Most ids offered.
const MOST: u32 = 200;

/// The completion script for `shell`: clap's, with the live-id hook.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::built();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "agentgate", &mut out);
    let text = without_hidden(&String::from_utf8_lossy(&out));
    let hooked = match shell {
        Shell::Bash => bash(&text),
        Shell::Zsh => zsh(&text),
        Shell::Fish => Some(format!("{text}{FISH_HOOK}")),
        _ => None,
    };
    // A generator whose output no longer has the expected shape keeps its
    // static completion (the tests notice).
    hooked.map(String::into_bytes).unwrap_or(out)
}

/// The hidden subcommands (`__complete`, `__supervise`) taken out of what a
/// TAB offers: clap's generators list them with the others.
fn without_hidden(text: &str) -> String {
    const HIDDEN: [&str; 2] = ["__complete", "__supervise"];
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let t = line.trim_start();
        let offers = |h: &str| {
            // zsh: `'NAME:about' \`; fish: `-a "NAME"`.
            t.starts_with(&format!("'{h}:")) || line.contains(&format!("-a \"{h}\""))
        };
        if HIDDEN.iter().any(|h| offers(h)) {
            continue;
        }
        if t.starts_with("opts=\"") {
            // bash: the words offered.
            let mut l = line.to_string();
            for h in HIDDEN {
                l = l.replace(&format!(" {h}"), "");
            }
            out.push_str(&l);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

const BASH_HOOK: &str = r#"
# Live work-order ids (agentgate): where an id is expected, ask
# `agentgate __complete`; anywhere else, the completion above.
_agentgate_live() {
    local out
    if out=$("${COMP_WORDS[0]}" __complete bash "$COMP_CWORD" "${COMP_WORDS[@]}" 2>/dev/null); then
        local cur="${COMP_WORDS[COMP_CWORD]}"
        COMPREPLY=($(compgen -W "$out" -- "$cur"))
        return 0
    fi
    _agentgate "$@"
}

"#;

fn bash(text: &str) -> Option<String> {
    let at = text.rfind("\nif [[ \"${BASH_VERSINFO[0]}\"")?;
    let (body, register) = text.split_at(at + 1);
    if !register.contains("complete -F _agentgate ") {
        return None;
    }
    Some(format!(
        "{body}{}{}",
        BASH_HOOK.trim_start_matches('\n'),
        register.replace("complete -F _agentgate ", "complete -F _agentgate_live ")
    ))
}

const ZSH_HOOK: &str = r#"# Live work-order ids (agentgate): where an id is expected, ask
# `agentgate __complete`; anywhere else, the completion above.
_agentgate() {
    local out
    if out=$("${words[1]}" __complete zsh $((CURRENT - 1)) "${words[@]}" 2>/dev/null); then
        local -a ids
        ids=(${(f)out})
        _describe -t work-orders 'work order' ids
        return
    fi
    _agentgate_static "$@"
}

"#;

fn zsh(text: &str) -> Option<String> {
    const DEF: &str = "\n_agentgate() {\n";
    const DISPATCH: &str = "if [ \"$funcstack[1]\" = \"_agentgate\" ]; then";
    if text.matches(DEF).count() != 1 {
        return None;
    }
    let at = text.rfind(DISPATCH)?;
    let (body, dispatch) = text.split_at(at);
    Some(format!(
        "{}{ZSH_HOOK}{dispatch}",
        body.replace(DEF, "\n_agentgate_static() {\n")
    ))
}

const FISH_HOOK: &str = r#"
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
"#;

/// What the word being completed should offer.
enum Slot {
    /// Work orders in these statuses (empty: all).
    Ids { statuses: &'static [Status] },
    /// The configured agent types (`--agent`).
    Agents,
}

const ACTIVE: &[Status] = &[Status::Queued, Status::Running];
const ENDED: &[Status] = &[Status::Succeeded, Status::Failed, Status::Canceled];

/// The id slot the word at `index` is, if it is one; also the global
/// options typed (they say which daemon to ask).
fn slot(words: &[String], index: usize, global: &mut GlobalArgs) -> Option<Slot> {
    let root = Cli::built();
    let mut cmd = &root;
    let mut path: Vec<String> = Vec::new();
    let mut positional = 0usize;
    let mut only_positionals = false;
    let mut i = 1;
    while i < index.min(words.len()) {
        let w = &words[i];
        i += 1;
        if only_positionals || !w.starts_with('-') || w == "-" {
            match cmd.find_subcommand(w) {
                Some(sub) if !only_positionals && positional == 0 => {
                    path.push(sub.get_name().to_string());
                    cmd = sub;
                }
                _ => positional += 1,
            }
            continue;
        }
        if w == "--" {
            only_positionals = true;
            continue;
        }
        // An option: does it take the next word as its value?
        let (name, inline) = match w.split_once('=') {
            Some((n, _)) => (n, true),
            None => (w.as_str(), false),
        };
        let arg = match name.strip_prefix("--") {
            Some(long) => cmd.get_arguments().find(|a| a.get_long() == Some(long)),
            None => {
                // Short flags, possibly bundled: only the last may take a value.
                let last = name.chars().last()?;
                cmd.get_arguments().find(|a| a.get_short() == Some(last))
            }
        };
        let Some(arg) = arg else { continue };
        let takes_value = arg.get_action().takes_values();
        if !takes_value || inline {
            if let (true, Some((_, v))) = (inline, w.split_once('=')) {
                remember(global, arg.get_id().as_str(), v);
            }
            continue;
        }
        if i == index {
            // Completing this option's value: ids for `--after`, agent types
            // for `--agent`; other values are the static completion's.
            return match arg.get_id().as_str() {
                "after" => Some(Slot::Ids {
                    statuses: &[Status::Queued, Status::Running, Status::Succeeded],
                }),
                "agent" => Some(Slot::Agents),
                _ => None,
            };
        }
        if let Some(v) = words.get(i) {
            remember(global, arg.get_id().as_str(), v);
        }
        i += 1;
    }
    let current = words.get(index).map(String::as_str).unwrap_or("");
    if current.starts_with('-') && !only_positionals {
        return None;
    }
    // Which positional argument the word is, and whether it names a work order.
    let positionals: Vec<&clap::Arg> = cmd.get_positionals().collect();
    let arg = positionals.get(positional).or_else(|| {
        positionals
            .last()
            .filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1))
    })?;
    if !matches!(arg.get_id().as_str(), "ids" | "id") {
        return None;
    }
    let statuses: &'static [Status] = match path.last().map(String::as_str) {
        Some("kill") => &[Status::Running],
        Some("cancel" | "wait") => ACTIVE,
        Some("start") => &[Status::Queued, Status::Failed],
        Some("restart" | "continue") => ENDED,
        Some("set-priority") => &[Status::Queued],
        _ => &[],
    };
    Some(Slot::Ids { statuses })
}

fn remember(global: &mut GlobalArgs, id: &str, value: &str) {
    let v = Some(std::path::PathBuf::from(value));
    match id {
        "data_dir" => global.data_dir = v,
        "socket" => global.socket = v,
        "config" => global.config = v,
        _ => {}
    }
}

/// `agentgate __complete SHELL INDEX WORDS...`: exit 0 with candidates when
/// the word is a work-order id, exit 1 when it is not.
pub fn run(global: &GlobalArgs, shell: &str, index: usize, words: &[String]) -> ExitCode {
    let mut global = global.clone();
    let Some(slot) = slot(words, index, &mut global) else {
        return ExitCode::from(1);
    };
    let Ok(file) = ConfigFile::load(&global) else {
        return ExitCode::SUCCESS;
    };
    let statuses = match slot {
        Slot::Agents => {
            let mut out = String::new();
            for name in crate::config::with_builtin_agents(file.agents).keys() {
                out.push_str(name);
                out.push('\n');
            }
            let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
            return ExitCode::SUCCESS;
        }
        Slot::Ids { statuses } => statuses,
    };
    let Ok(paths) = Paths::resolve(&global, &file) else {
        return ExitCode::SUCCESS;
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return ExitCode::SUCCESS;
    };
    // The newest `MOST` of those starting with what is typed (filtered
    // before the cut, so an older id is still offered once typed).
    let query = ListQuery {
        statuses: statuses.to_vec(),
        labels: vec![],
        limit: Some(MOST),
        offset: 0,
        id_prefix: words.get(index).filter(|w| !w.is_empty()).cloned(),
    };
    let page = rt.block_on(async {
        let ask = async {
            let mut client = Client::connect(&paths.socket).await.ok()?;
            match client.call(Request::List(query)).await.ok()? {
                Reply::List(page) => Some(page),
                _ => None,
            }
        };
        tokio::time::timeout(DEADLINE, ask).await.ok().flatten()
    });
    // No daemon: nothing to offer, but still an id (no file names).
    let Some(page) = page else {
        return ExitCode::SUCCESS;
    };
    let mut out = String::new();
    for wo in page.items.iter() {
        let about = format!("{} · {}", wo.status, cut(&one_line(&wo.task_prompt), 50));
        match shell {
            "zsh" => out.push_str(&format!("{}:{}\n", wo.id, about)),
            "fish" => out.push_str(&format!("{}\t{}\n", wo.id, about)),
            _ => out.push_str(&format!("{}\n", wo.id)),
        }
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        let mut w: Vec<String> = line.split(' ').map(str::to_string).collect();
        if line.ends_with(' ') {
            w.pop();
            w.push(String::new());
        }
        w
    }

    fn statuses(line: &str) -> Option<Vec<Status>> {
        let w = words(line);
        let mut g = GlobalArgs::default();
        match slot(&w, w.len() - 1, &mut g)? {
            Slot::Ids { statuses } => Some(statuses.to_vec()),
            Slot::Agents => None,
        }
    }

    #[test]
    fn agent_values_are_a_slot_of_their_own() {
        let w = words("agentgate submit --agent ");
        let mut g = GlobalArgs::default();
        assert!(matches!(slot(&w, w.len() - 1, &mut g), Some(Slot::Agents)));
    }

    #[test]
    fn id_slots_are_recognised() {
        assert_eq!(
            statuses("agentgate queue kill "),
            Some(vec![Status::Running])
        );
        assert_eq!(
            statuses("agentgate queue kill abcd --grace 2s "),
            Some(vec![Status::Running])
        );
        assert_eq!(statuses("agentgate queue kill --grace "), None);
        assert_eq!(statuses("agentgate queue kill --"), None);
        assert_eq!(statuses("agentgate queue show "), Some(vec![]));
        assert_eq!(statuses("agentgate queue logs -n 5 "), Some(vec![]));
        assert_eq!(statuses("agentgate queue continue "), Some(ENDED.to_vec()));
        assert_eq!(statuses("agentgate queue continue abcd "), None);
        assert_eq!(
            statuses("agentgate queue set-priority "),
            Some(vec![Status::Queued])
        );
        assert_eq!(statuses("agentgate queue set-priority abcd "), None);
        assert_eq!(statuses("agentgate queue "), None);
        assert_eq!(statuses("agentgate queue list "), None);
        assert_eq!(statuses("agentgate submit "), None);
        assert_eq!(
            statuses("agentgate submit --agent shell --after "),
            Some(vec![Status::Queued, Status::Running, Status::Succeeded])
        );
        assert!(statuses("agentgate --socket /tmp/s queue purge ").is_some());
    }

    #[test]
    fn global_options_pick_the_daemon() {
        let w = words("agentgate --socket /tmp/x.sock queue kill ");
        let mut g = GlobalArgs::default();
        assert!(slot(&w, w.len() - 1, &mut g).is_some());
        assert_eq!(
            g.socket.as_deref(),
            Some(std::path::Path::new("/tmp/x.sock"))
        );
    }

    #[test]
    fn every_script_gets_its_hook() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let s = String::from_utf8(script(shell)).unwrap();
            assert!(s.contains("__complete"), "{shell}: no hook");
        }
        let bash = String::from_utf8(script(Shell::Bash)).unwrap();
        assert!(bash.contains("complete -F _agentgate_live"), "{bash}");
        assert!(!bash.contains("complete -F _agentgate "), "{bash}");
        let zsh = String::from_utf8(script(Shell::Zsh)).unwrap();
        assert!(zsh.contains("_agentgate_static() {"));
        assert_eq!(zsh.matches("\n_agentgate() {").count(), 1);
    }
}
