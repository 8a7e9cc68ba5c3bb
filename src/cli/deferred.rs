//! `Deferred<T>`: a subcommand whose flags (or nested subcommands) clap
//! builds only when that subcommand is the one being parsed (clap's
//! `Command::defer`). Building every flag of every subcommand, with its help
//! text, was most of a client's start; `agentgate submit` now builds the
//! root and `submit` only. Help, completions and man pages build the whole
//! tree eagerly (`build_eagerly`), as before, so what they show is unchanged.

use std::sync::atomic::{AtomicBool, Ordering};

use clap::{ArgMatches, Args, Command, Error, FromArgMatches, Subcommand};

static EAGER: AtomicBool = AtomicBool::new(false);

/// From now on, commands made by this process build every subcommand at once.
pub fn build_eagerly() {
    EAGER.store(true, Ordering::Relaxed);
}

fn eager() -> bool {
    EAGER.load(Ordering::Relaxed)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deferred<T>(pub T);

impl<T> Deferred<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Deferred<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, Error> {
        T::from_arg_matches(matches).map(Deferred)
    }
    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }
    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), Error> {
        self.0.update_from_arg_matches(matches)
    }
    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
    fn augment_args(cmd: Command) -> Command {
        if eager() {
            T::augment_args(cmd)
        } else {
            cmd.defer(keeping_texts::<T, false>)
        }
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        if eager() {
            T::augment_args_for_update(cmd)
        } else {
            cmd.defer(keeping_texts::<T, true>)
        }
    }
}

/// `T`'s flags added to `cmd`, keeping the texts the subcommand's variant
/// gave it: run late, a flattened struct's doc comment would replace them
/// (only parse errors show them on this path; help is built eagerly).
fn keeping_texts<T: Args, const UPDATE: bool>(cmd: Command) -> Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let after = cmd.get_after_help().cloned();
    let after_long = cmd.get_after_long_help().cloned();
    let cmd = if UPDATE {
        T::augment_args_for_update(cmd)
    } else {
        T::augment_args(cmd)
    };
    let mut cmd = cmd;
    if let Some(t) = about {
        cmd = cmd.about(t);
    }
    if let Some(t) = long_about {
        cmd = cmd.long_about(t);
    }
    if let Some(t) = after {
        cmd = cmd.after_help(t);
    }
    if let Some(t) = after_long {
        cmd = cmd.after_long_help(t);
    }
    cmd
}

impl<T: Subcommand> Subcommand for Deferred<T> {
    fn augment_subcommands(cmd: Command) -> Command {
        if eager() {
            T::augment_subcommands(cmd)
        } else {
            cmd.defer(T::augment_subcommands)
        }
    }
    fn augment_subcommands_for_update(cmd: Command) -> Command {
        if eager() {
            T::augment_subcommands_for_update(cmd)
        } else {
            cmd.defer(T::augment_subcommands_for_update)
        }
    }
    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}
