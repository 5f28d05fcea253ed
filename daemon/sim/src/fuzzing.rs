//! Entry points for the fuzz targets in `fuzz/` (not an API).

/// One control line as the control channel reads it: JSON, then a command.
pub fn sim_control(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice(data) {
        let _ = crate::command::Command::parse(value);
    }
}

pub use crate::core::fuzzing::sim_frames;

#[cfg(test)]
mod tests {
    #[test]
    fn control_lines_take_garbage() {
        for line in [
            &b"{\"cmd\":\"send_text\",\"text\":1}"[..],
            b"[]",
            b"\xff",
            b"{}",
        ] {
            super::sim_control(line);
        }
    }
}
