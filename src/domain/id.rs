//! Identifiers and secrets in Meteor's formats, so documents written here
//! look like Rocket.Chat's own.

/// Meteor's `Random.id()` alphabet (its `UNMISTAKABLE_CHARS`): the digits
/// and letters without 0, 1, I, O, U, V and l.
const METEOR_ALPHABET: [char; 55] = [
    '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L',
    'M', 'N', 'P', 'Q', 'R', 'S', 'T', 'W', 'X', 'Y', 'Z', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
    'i', 'j', 'k', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
];

/// A new 17-character document id.
pub fn new_id() -> String {
    nanoid::nanoid!(17, &METEOR_ALPHABET)
}

/// A new 43-character login token, like Meteor's `Random.secret()`.
pub fn new_secret() -> String {
    nanoid::nanoid!(43)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_seventeen_meteor_characters() {
        let id = new_id();
        assert_eq!(id.chars().count(), 17);
        assert!(id.chars().all(|c| METEOR_ALPHABET.contains(&c)));
        assert_ne!(id, new_id());
    }

    #[test]
    fn secrets_are_long_and_unique() {
        assert_eq!(new_secret().len(), 43);
        assert_ne!(new_secret(), new_secret());
    }
}
