//! Flags as typed, in CLI terms: values are parsed and range-checked here so
//! that a bad one is a usage error (exit 2) naming the flag and the value as
//! typed (`--max-time 8d: at most 7d`), and a refusal the daemon words for
//! the API (`maxTime`, `taskPrompt`) is told back in terms of the flag.

use std::time::Duration;

use super::CliError;
use crate::model::units::{format_duration, parse_duration, parse_size};
use crate::model::work_order::MAX_TIME_RANGE;
use crate::rpc::client::ClientError;
use crate::service::{ErrorCode, ServiceError};

fn usage(flag: &str, value: &str, problem: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!(
        "{flag} {}: {problem}",
        super::table::one_line(value)
    ))
}

/// A duration flag (`90s`, `5m`, `1h30m`; a bare number is refused).
pub fn duration(flag: &str, value: &str) -> Result<Duration, CliError> {
    parse_duration(value).map_err(|e| usage(flag, value, e))
}

/// A duration flag within `min..=max`.
/// An optional duration flag, checked against its range, in milliseconds.
pub fn opt_millis_in(
    flag: &str,
    value: Option<&str>,
    min: Duration,
    max: Duration,
) -> Result<Option<u64>, CliError> {
    value
        .map(|v| duration_in(flag, v, min, max).map(|d| d.as_millis() as u64))
        .transpose()
}

pub fn duration_in(
    flag: &str,
    value: &str,
    min: Duration,
    max: Duration,
) -> Result<Duration, CliError> {
    let d = duration(flag, value)?;
    if d < min {
        return Err(usage(
            flag,
            value,
            format!("at least {}", format_duration(min)),
        ));
    }
    if d > max {
        return Err(usage(
            flag,
            value,
            format!("at most {}", format_duration(max)),
        ));
    }
    Ok(d)
}

/// `--max-time`: whole seconds, 1s to 7d.
pub fn max_time(flag: &str, value: &str) -> Result<u64, CliError> {
    let d = duration_in(
        flag,
        value,
        Duration::from_secs(*MAX_TIME_RANGE.start()),
        Duration::from_secs(*MAX_TIME_RANGE.end()),
    )?;
    Ok(d.as_secs_f64().ceil() as u64)
}

/// `--max-iterations`: 1 to 10000.
pub fn max_iterations(flag: &str, n: u32) -> Result<u32, CliError> {
    if (1..=10_000).contains(&n) {
        Ok(n)
    } else {
        Err(usage(flag, &n.to_string(), "between 1 and 10000"))
    }
}

/// A size flag (`512MiB`, `2GiB`, `0`).
pub fn size(flag: &str, value: &str) -> Result<u64, CliError> {
    parse_size(value).map_err(|e| usage(flag, value, e))
}

/// What the user typed for the request fields the daemon may refuse:
/// (API field, the flag and value as typed).
pub type Typed = Vec<(&'static str, String)>;

/// A daemon refusal of bad input, told in terms of the flag that carried it
/// (a usage error, exit 2); anything else is passed on as it is.
pub fn in_cli_terms(e: CliError, typed: &Typed) -> CliError {
    let CliError::Client(ClientError::Service(ServiceError {
        code: ErrorCode::BadRequest,
        message,
        field: Some(field),
    })) = &e
    else {
        return e;
    };
    let flag = typed
        .iter()
        .find(|(f, _)| field == f || field.starts_with(&format!("{f}.")));
    match flag {
        Some((_, as_typed)) if as_typed.is_empty() => CliError::Usage(message.clone()),
        Some((_, as_typed)) => CliError::Usage(format!("{as_typed}: {message}")),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: Result<impl std::fmt::Debug, CliError>) -> String {
        match r {
            Err(CliError::Usage(m)) => m,
            other => panic!("not a usage error: {other:?}"),
        }
    }

    #[test]
    fn durations_name_the_flag_as_typed() {
        assert_eq!(max_time("--max-time", "90s").unwrap(), 90);
        assert_eq!(max_time("--max-time", "1.5s").unwrap(), 2);
        assert_eq!(
            text(max_time("--max-time", "8d")),
            "--max-time 8d: at most 7d"
        );
        assert_eq!(
            text(max_time("--max-time", "0s")),
            "--max-time 0s: at least 1s"
        );
        assert!(text(max_time("--max-time", "5x")).starts_with("--max-time 5x: not a duration"));
        assert_eq!(
            text(max_time("--max-time", "30")),
            "--max-time 30: a duration needs a unit: 30s, 30m or 30h (or ms, d)"
        );
        assert_eq!(
            text(max_iterations("--max-iterations", 0)),
            "--max-iterations 0: between 1 and 10000"
        );
    }

    #[test]
    fn daemon_refusals_are_told_with_the_flag() {
        let refusal = |field: &str| {
            CliError::Client(ClientError::Service(ServiceError::bad_request(
                field,
                "unknown agent type \"x\"",
            )))
        };
        let typed: Typed = vec![
            ("agentType", "--agent x".into()),
            ("taskPrompt", String::new()),
        ];
        assert_eq!(
            in_cli_terms(refusal("agentType"), &typed).to_string(),
            "--agent x: unknown agent type \"x\""
        );
        assert!(matches!(
            in_cli_terms(refusal("taskPrompt"), &typed),
            CliError::Usage(_)
        ));
        assert!(matches!(
            in_cli_terms(refusal("other"), &typed),
            CliError::Client(_)
        ));
    }
}
