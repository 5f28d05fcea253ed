//! Hexadecimal text, as keys are written on command lines and in test vectors.

/// Why a hex string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// Not an even number of digits.
    #[error("hex string has an odd number of digits ({0})")]
    OddLength(usize),
    /// A character that is not a hex digit.
    #[error("invalid hex digit {found:?} at position {position}")]
    BadDigit {
        /// The offending character.
        found: char,
        /// Its index in the string.
        position: usize,
    },
}

/// Decodes hex, ignoring ASCII whitespace so wrapped vectors can be pasted as they are.
pub fn decode(text: &str) -> Result<Vec<u8>, Error> {
    let digits: Vec<(usize, char)> = text
        .char_indices()
        .filter(|(_, c)| !c.is_ascii_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(Error::OddLength(digits.len()));
    }
    digits
        .chunks_exact(2)
        .map(|pair| Ok((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

fn nibble((position, found): (usize, char)) -> Result<u8, Error> {
    found
        .to_digit(16)
        .map(|value| value as u8)
        .ok_or(Error::BadDigit { found, position })
}

/// Lowercase hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        assert_eq!(decode("00ff 10\nAb").unwrap(), vec![0, 255, 16, 0xab]);
        assert_eq!(encode(&[0, 255, 16, 0xab]), "00ff10ab");
        assert_eq!(decode("abc"), Err(Error::OddLength(3)));
        assert_eq!(
            decode("zz"),
            Err(Error::BadDigit {
                found: 'z',
                position: 0
            })
        );
        assert_eq!(
            decode("é0").unwrap_err(),
            Error::BadDigit {
                found: 'é',
                position: 0
            }
        );
    }
}
