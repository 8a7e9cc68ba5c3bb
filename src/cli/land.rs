//! Flags of the commands that review and land a worktree's work: `queue
//! diff`, `queue merge`, `queue discard`.

use clap::Args;

#[derive(Debug, Args, Clone)]
pub struct DiffArgs {
    /// Work order ID or unique prefix
    #[arg(value_name = "ID", required_unless_present = "last")]
    pub id: Option<String>,
    /// The newest work order
    #[arg(long, conflicts_with = "id")]
    pub last: bool,
    /// Files changed with counts of lines, as `git diff --stat`
    #[arg(long, conflicts_with = "name_only")]
    pub stat: bool,
    /// Names of the files changed only
    #[arg(long)]
    pub name_only: bool,
    /// Colour: auto (on a terminal), always or never
    #[arg(long, value_name = "WHEN", value_parser = ["auto", "always", "never"], default_value = "auto")]
    pub color: String,
    /// Print the files changed with their counts (as GET /api/v1/work-orders/:id/diff?stat=true) as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct MergeArgs {
    /// Work order ID or unique prefix
    #[arg(value_name = "ID", required_unless_present = "last")]
    pub id: Option<String>,
    /// The newest work order
    #[arg(long, conflicts_with = "id")]
    pub last: bool,
    /// Land the work as one commit on the target branch [default: a merge commit, or a fast-forward]
    #[arg(long)]
    pub squash: bool,
    /// The commit message [default: one naming the work order and its prompt's first line]
    #[arg(long, short = 'm', value_name = "MSG")]
    pub message: Option<String>,
    /// The branch to land on [default: the branch checked out when the work order was submitted]
    #[arg(long, value_name = "BRANCH")]
    pub into: Option<String>,
    /// Print the merge and the work order as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct DiscardArgs {
    #[command(flatten)]
    pub targets: super::Targets,
    /// Also when the branch holds work that was never merged (it is deleted)
    #[arg(long)]
    pub force: bool,
    /// Do not ask (needed when not on a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the work orders as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct PushArgs {
    /// Work order ID or unique prefix
    #[arg(value_name = "ID", required_unless_present = "last")]
    pub id: Option<String>,
    /// The newest work order
    #[arg(long, conflicts_with = "id")]
    pub last: bool,
    /// The remote to push to [default: the upstream of the branch the work order started from, else the repository's only remote]
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// Print what was pushed as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct PrArgs {
    /// Work order ID or unique prefix
    #[arg(value_name = "ID", required_unless_present = "last")]
    pub id: Option<String>,
    /// The newest work order
    #[arg(long, conflicts_with = "id")]
    pub last: bool,
    /// The pull request's title [default: the prompt's first line]
    #[arg(long, value_name = "T")]
    pub title: Option<String>,
    /// Open it as a draft
    #[arg(long)]
    pub draft: bool,
    /// Print what was pushed and the pull request's URL as JSON
    #[arg(long)]
    pub json: bool,
}
