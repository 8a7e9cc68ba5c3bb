//! Range checks of the numbers in a stored work order. Older data (AgentGate's,
//! or hand-edited) may hold any JSON number anywhere: a `maxTime` of 1e30 once
//! overflowed `max_time * 1000` and timed the run out at once. Each number is
//! brought into its field's range instead of quarantining the whole work
//! order: a limit out of range becomes its nearest bound (or the default
//! when below it), a process field that cannot be one is dropped; every
//! change is described in a note, which the loader logs.

use serde_json::Number;

use super::work_order::{
    DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_TIME, MAX_ITERATIONS_RANGE, MAX_TIME_RANGE,
};

/// Linux's largest possible pid (PID_MAX_LIMIT).
pub const PID_MAX: u32 = 4_194_304;
/// The most runs counted (further runs saturate there).
pub const RUN_COUNT_MAX: u32 = u32::MAX;

/// The integer a JSON number stands for: fractions are cut, values beyond
/// i128 (or not finite) saturate.
fn int(n: &Number) -> i128 {
    if let Some(i) = n.as_i64() {
        return i.into();
    }
    if let Some(u) = n.as_u64() {
        return u.into();
    }
    match n.as_f64() {
        Some(f) if f.is_nan() => 0,
        Some(f) => f.trunc() as i128, // `as` saturates
        None => 0,
    }
}

fn exact(n: &Number, v: i128) -> bool {
    n.as_i64().is_some_and(|i| i128::from(i) == v) || n.as_u64().is_some_and(|u| i128::from(u) == v)
}

pub fn max_time(n: Option<&Number>, notes: &mut Vec<String>) -> u64 {
    let Some(n) = n else {
        return DEFAULT_MAX_TIME;
    };
    let v = int(n);
    let (lo, hi) = (
        *MAX_TIME_RANGE.start() as i128,
        *MAX_TIME_RANGE.end() as i128,
    );
    let out = if v < lo {
        DEFAULT_MAX_TIME as i128
    } else {
        v.min(hi)
    };
    if !exact(n, out) {
        notes.push(format!("maxTime {n} out of range {lo}..={hi}: now {out}"));
    }
    out as u64
}

pub fn max_iterations(n: Option<&Number>, notes: &mut Vec<String>) -> u32 {
    let Some(n) = n else {
        return DEFAULT_MAX_ITERATIONS;
    };
    let v = int(n);
    let (lo, hi) = (
        *MAX_ITERATIONS_RANGE.start() as i128,
        *MAX_ITERATIONS_RANGE.end() as i128,
    );
    let out = if v < lo {
        DEFAULT_MAX_ITERATIONS as i128
    } else {
        v.min(hi)
    };
    if !exact(n, out) {
        notes.push(format!(
            "maxIterations {n} out of range {lo}..={hi}: now {out}"
        ));
    }
    out as u32
}

pub fn pid(n: Option<&Number>, notes: &mut Vec<String>) -> Option<u32> {
    let n = n?;
    let v = int(n);
    if exact(n, v) && (1..=PID_MAX as i128).contains(&v) {
        return Some(v as u32);
    }
    notes.push(format!(
        "pid {n} is not a process id (1..={PID_MAX}): dropped"
    ));
    None
}

pub fn unsigned(field: &str, n: Option<&Number>, notes: &mut Vec<String>) -> Option<u64> {
    let n = n?;
    match n.as_u64() {
        Some(u) => Some(u),
        None => {
            notes.push(format!("{field} {n} is not a whole number >= 0: dropped"));
            None
        }
    }
}

pub fn run_count(n: Option<&Number>, notes: &mut Vec<String>) -> u32 {
    let Some(n) = n else {
        return 0;
    };
    let v = int(n);
    let out = v.clamp(0, RUN_COUNT_MAX as i128);
    if !exact(n, out) {
        notes.push(format!(
            "runCount {n} out of range 0..={RUN_COUNT_MAX}: now {out}"
        ));
    }
    out as u32
}

pub fn exit_code(n: Option<&Number>, notes: &mut Vec<String>) -> Option<i32> {
    let n = n?;
    let v = int(n);
    if exact(n, v) && (i32::MIN as i128..=i32::MAX as i128).contains(&v) {
        return Some(v as i32);
    }
    notes.push(format!("exitCode {n} is not an exit status: dropped"));
    None
}

pub fn signal(n: Option<&Number>, notes: &mut Vec<String>) -> Option<i32> {
    let n = n?;
    let v = int(n);
    if exact(n, v) && (1..=64).contains(&v) {
        return Some(v as i32);
    }
    notes.push(format!(
        "signal {n} is not a signal number (1..=64): dropped"
    ));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(v: serde_json::Value) -> Number {
        match v {
            serde_json::Value::Number(n) => n,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn numbers_are_brought_into_range() {
        let mut notes = Vec::new();
        assert_eq!(max_time(Some(&num(serde_json::json!(60))), &mut notes), 60);
        assert!(notes.is_empty());
        assert_eq!(
            max_time(Some(&num(serde_json::json!(1e30))), &mut notes),
            604_800
        );
        assert_eq!(
            max_time(Some(&num(serde_json::json!(u64::MAX))), &mut notes),
            604_800
        );
        assert_eq!(
            max_time(Some(&num(serde_json::json!(-5))), &mut notes),
            3600
        );
        assert_eq!(max_time(Some(&num(serde_json::json!(0))), &mut notes), 3600);
        assert_eq!(
            max_time(Some(&num(serde_json::json!(90.5))), &mut notes),
            90
        );
        assert_eq!(notes.len(), 5, "{notes:?}");
        notes.clear();
        assert_eq!(
            pid(Some(&num(serde_json::json!(5_000_000_000u64))), &mut notes),
            None
        );
        assert_eq!(pid(Some(&num(serde_json::json!(0))), &mut notes), None);
        assert_eq!(pid(Some(&num(serde_json::json!(42))), &mut notes), Some(42));
        assert_eq!(signal(Some(&num(serde_json::json!(99))), &mut notes), None);
        assert_eq!(
            exit_code(Some(&num(serde_json::json!(-1))), &mut notes),
            Some(-1)
        );
        assert_eq!(
            exit_code(Some(&num(serde_json::json!(1e12))), &mut notes),
            None
        );
        assert_eq!(run_count(Some(&num(serde_json::json!(-3))), &mut notes), 0);
        assert_eq!(
            max_iterations(Some(&num(serde_json::json!(1e9))), &mut notes),
            10_000
        );
        assert_eq!(
            unsigned(
                "pidStartTime",
                Some(&num(serde_json::json!(-1))),
                &mut notes
            ),
            None
        );
        assert_eq!(notes.len(), 7, "{notes:?}");
    }
}
