//! Work-order and run IDs. Every ID that arrives from a client is validated here
//! before it is used to build a path, so path traversal cannot happen.

use super::ModelError;

/// Length of the IDs this daemon generates.
pub const ID_LEN: usize = 12;

/// A new random ID (nanoid's default alphabet is exactly `[A-Za-z0-9_-]`). The
/// first character is alphanumeric so an ID never looks like a command-line flag.
pub fn new_id() -> String {
    loop {
        let id = nanoid::nanoid!(ID_LEN);
        if id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return id;
        }
    }
}

/// Accepts 1-64 characters from `[A-Za-z0-9_-]`; rejects `/`, `..`, NUL and the rest.
pub fn validate_id(id: &str) -> Result<(), ModelError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ModelError::InvalidId(id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_validate() {
        for _ in 0..100 {
            let id = new_id();
            assert_eq!(id.len(), ID_LEN);
            assert!(!id.starts_with(['-', '_']));
            validate_id(&id).unwrap();
        }
    }

    #[test]
    fn hostile_ids_are_rejected() {
        for bad in ["", "../x", "a/b", "..", "a\0b", "a b", "é", &"x".repeat(65)] {
            assert!(validate_id(bad).is_err(), "{bad:?} accepted");
        }
        validate_id(&"x".repeat(64)).unwrap();
    }
}
