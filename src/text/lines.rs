//! Byte offsets to lines and columns.

use crate::error::Location;

/// The line starts of a text, to turn byte offsets into line and column
/// (both from 1, the column counted in characters) in logarithmic time:
/// pest's own `line_col` walks the text from its start on every call.
#[derive(Debug)]
pub(crate) struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { text, starts }
    }

    /// The text.
    pub(crate) fn text(&self) -> &'t str {
        self.text
    }

    /// The line and column of a byte offset.
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&start| start <= offset).saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let column = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The byte offset of a line and column (the column in characters),
    /// if the text has them.
    pub(crate) fn offset(&self, line: usize, column: usize) -> Option<usize> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let rest = &self.text[start..];
        let line = rest.split('\n').next().unwrap_or(rest);
        let before: usize = line.chars().take(column.checked_sub(1)?).map(char::len_utf8).sum();
        Some(start + before)
    }

    /// Whether line `line` (from 1) holds nothing but whitespace; false
    /// past the end of the text.
    pub(crate) fn is_blank(&self, line: usize) -> bool {
        let Some(&start) = line.checked_sub(1).and_then(|i| self.starts.get(i)) else {
            return false;
        };
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        start < self.text.len() && self.text.get(start..end).is_some_and(|l| l.trim().is_empty())
    }

    /// The location of a byte offset.
    pub(crate) fn location(&self, offset: usize) -> Location {
        let (line, column) = self.line_column(offset);
        Location::position(line, column)
    }

    /// The byte offset of a line and column as a JSON parser counts them
    /// (the column in bytes), in the text that starts at byte `base`.
    pub(crate) fn offset_in(&self, base: usize, line: usize, byte_column: usize) -> usize {
        let (base_line, _) = self.line_column(base);
        let line_start = if line <= 1 {
            base
        } else {
            self.starts.get(base_line - 1 + line - 1).copied().unwrap_or(self.text.len())
        };
        (line_start + byte_column.saturating_sub(1)).min(self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters() {
        let lines = Lines::new("ab\nécole x\n");
        assert_eq!(lines.line_column(0), (1, 1));
        assert_eq!(lines.line_column(3), (2, 1));
        assert_eq!(lines.line_column(10), (2, 7));
        assert_eq!(lines.line_column(12), (3, 1));
        assert_eq!(lines.line_column(99), (3, 1));
        assert_eq!(lines.offset(2, 7), Some(10));
        assert_eq!(lines.offset(4, 1), None);
    }

    #[test]
    fn json_positions_are_relative_to_their_start() {
        let text = "metadata: {\"a\":\n  1x}";
        let lines = Lines::new(text);
        assert_eq!(lines.offset_in(10, 1, 3), 12);
        assert_eq!(lines.offset_in(10, 2, 4), 19);
    }
}
