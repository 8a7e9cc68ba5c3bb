//! "Did you mean": only for a word that is close to what was typed (one
//! slip in a short word, two in a longer one), never a far guess such as
//! `purge` for `pause`.

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`:
/// the optimal string alignment distance.
fn distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

/// Whether `candidate` is a plausible correction of `typed`.
pub fn close(typed: &str, candidate: &str) -> bool {
    let allowed = if typed.chars().count() <= 4 { 1 } else { 2 };
    distance(&typed.to_lowercase(), candidate) <= allowed
        || (typed.len() >= 3 && candidate.starts_with(typed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_words_only() {
        assert!(close("lst", "list"));
        assert!(close("cancle", "cancel"));
        assert!(close("helth", "health"));
        assert!(close("pauze", "pause"));
        assert!(close("restar", "restart"));
        assert!(!close("pause", "purge"));
        assert!(!close("stop", "start"));
        assert!(!close("frobnicate", "continue"));
    }
}
