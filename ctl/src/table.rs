//! Human tables for list commands (`chats`, `contacts`, `history`, `group info`, …): one header
//! line, then one line per row, columns padded to their widest cell. `--json` prints the result
//! as it came instead, so scripts never parse these.
//!
//! ```text
//! JID                          NAME   UNREAD
//! 4915100000001@s.whatsapp.net Alice  2
//! ```

use std::io::{self, Write};

/// Writes `rows` under `headers`, padded to the widest cell per column (by characters; the
/// last column is not padded). Control characters in cells are shown as `?`, so a name cannot
/// move the cursor or clear the terminal.
pub(crate) fn write(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let clean = |cell: &str| -> String {
        cell.chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect()
    };
    let header: Vec<String> = headers.iter().map(|h| clean(h)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| clean(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (column, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(column) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            if column > 0 {
                line.push(' ');
            }
            line.push_str(cell);
            if column + 1 < row.len() {
                let width = widths.get(column).copied().unwrap_or(0);
                line.extend(std::iter::repeat_n(
                    ' ',
                    width.saturating_sub(cell.chars().count()),
                ));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A cell for an optional value: the value, or `-`.
pub(crate) fn or_dash(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_control_characters_are_defused() {
        let mut out = Vec::new();
        let rows = vec![
            vec![
                "4915100000001@s.whatsapp.net".into(),
                "Alice".into(),
                "2".into(),
            ],
            vec!["g@g.us".into(), "Sim\x1b[2J".into(), or_dash(None::<u32>)],
        ];
        write(&mut out, &["JID", "NAME", "UNREAD"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "JID                          NAME    UNREAD\n\
             4915100000001@s.whatsapp.net Alice   2\n\
             g@g.us                       Sim?[2J -\n"
        );
    }
}
