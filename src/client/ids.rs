//! Work orders named on the command line: ids, unique prefixes and `--last`
//! are resolved by the daemon in one request (all of them, or an error and
//! nothing done), then a command is applied to each in turn, every outcome
//! reported.

use std::path::Path;

use serde_json::{Value, json};

use super::{CliError, call, print_json, table, unexpected};
use crate::rpc::client::{Client, ClientError};
use crate::rpc::proto::{Reply, Request};
use crate::service::ResolveRequest;

/// Full ids for what was typed (in order, without duplicates).
pub async fn resolve(socket: &Path, ids: &[String], last: bool) -> Result<Vec<String>, CliError> {
    if ids.is_empty() && !last {
        return Ok(vec![]);
    }
    let req = ResolveRequest {
        ids: ids.to_vec(),
        last,
    };
    match call(socket, Request::Resolve(req)).await? {
        Reply::Resolved(v) => Ok(v),
        r => Err(unexpected(r)),
    }
}

/// The JSON form of an error (`--json`): `{"code", "message"}`.
pub fn error_json(e: &CliError) -> Value {
    json!({"code": e.code(), "message": e.to_string()})
}

/// One request per work order over one connection. A success prints its
/// line (or JSON); a refusal prints an `error:` line and the rest go on; the
/// command fails (exit 1) if any was refused. With `--json`, one work order
/// prints its object (or fails with the error), several print an array with
/// `{"id", "error"}` in place of each refused one.
pub async fn for_each(
    socket: &Path,
    ids: Vec<String>,
    json: bool,
    request: impl Fn(String) -> Request,
    show: impl Fn(Reply) -> Result<(String, Value), CliError>,
) -> Result<(), CliError> {
    let mut client = Client::connect(socket).await?;
    let single = ids.len() == 1;
    let mut out: Vec<Value> = Vec::with_capacity(ids.len());
    let mut refused = 0;
    for id in &ids {
        let outcome = match client.call(request(id.clone())).await {
            Ok(reply) => show(reply),
            // The daemon is gone: nothing else can be done.
            Err(
                e @ (ClientError::Disconnected(_)
                | ClientError::Unreachable { .. }
                | ClientError::Connect { .. }
                | ClientError::Protocol(_)),
            ) => return Err(e.into()),
            Err(e) => Err(e.into()),
        };
        match outcome {
            Ok((line, value)) => {
                if json {
                    out.push(value);
                } else {
                    println!("{line}");
                }
            }
            Err(e) if single => return Err(e),
            Err(e) => {
                refused += 1;
                eprintln!("error: {}", table::one_line(&e.to_string()));
                if json {
                    out.push(json!({"id": id, "error": error_json(&e)}));
                }
            }
        }
    }
    if json {
        match out.as_slice() {
            [one] if single => print_json(one),
            all => print_json(all),
        }
    }
    if refused > 0 {
        return Err(CliError::Reported(format!(
            "{refused} of {} refused",
            super::render::work_orders(ids.len() as u64)
        )));
    }
    Ok(())
}
