//! "Did you mean": only for a word that is close to what was typed (one
//! slip in a short word, two in a longer one), never a far guess such as
//! `purge` for `pause`.

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
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
