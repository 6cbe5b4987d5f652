//! Go's `text/tabwriter` (flags 0), as Docker renders its tables with
//! `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`, writing to an [`io::Write`].
//!
//! Text is split into cells at `\t` (and `\v`); a line's cells line up with the cells of the
//! same column in the adjacent lines. Text after a line's last tab is not part of a column and
//! is not padded. A column block is a run of consecutive lines that have a cell in that column;
//! its width is the widest cell (in runes) plus `padding`, at least `minwidth`. A line without
//! tabs ends all blocks, as does `\f`.

use std::io::{self, Write};

/// How much a table may buffer (text bytes, plus 32 per cell) before it is flushed. Go's
/// tabwriter buffers a whole table to align it; past this size the lines so far are aligned
/// among themselves and written, and alignment starts afresh with the following lines.
pub const TABLE_BUFFER_BYTES: usize = 8 << 20;

/// A cell: its text size in bytes, width in runes, and whether a tab ended it.
#[derive(Clone, Copy, Default, Debug)]
struct Cell {
    size: usize,
    width: usize,
    htab: bool,
}

/// A Go `tabwriter.Writer` writing to `W`. Text is buffered up to a flush point (a line
/// without tabs, a form feed, [`TabWriter::flush`], or [`TABLE_BUFFER_BYTES`] of text), then
/// written aligned.
pub struct TabWriter<W: Write> {
    out: W,
    minwidth: usize,
    tabwidth: usize,
    padding: usize,
    padchar: char,
    buf: String,
    pos: usize,
    cell: Cell,
    lines: Vec<Vec<Cell>>,
    cells: usize,
    widths: Vec<usize>,
    /// An incomplete UTF-8 sequence at the end of the last write.
    partial: Vec<u8>,
}

impl<W: Write> TabWriter<W> {
    /// A writer with Go's `NewWriter(out, minwidth, tabwidth, padding, padchar, 0)` settings.
    /// With `padchar` `'\t'`, padding is done with tabs assumed `tabwidth` wide.
    pub fn new(out: W, minwidth: usize, tabwidth: usize, padding: usize, padchar: char) -> Self {
        TabWriter {
            out,
            minwidth,
            tabwidth,
            padding,
            padchar,
            buf: String::new(),
            pos: 0,
            cell: Cell::default(),
            lines: vec![Vec::new()],
            cells: 0,
            widths: Vec::new(),
            partial: Vec::new(),
        }
    }

    /// Docker's table writer: `NewWriter(out, 10, 1, 3, ' ', 0)`.
    pub fn docker(out: W) -> Self {
        Self::new(out, 10, 1, 3, ' ')
    }

    /// Write text; cells end at `\t` or `\v`, lines at `\n` or `\f` (which also flushes).
    pub fn write_str(&mut self, s: &str) -> io::Result<()> {
        let mut n = 0;
        for (i, b) in s.bytes().enumerate() {
            if !matches!(b, b'\t' | b'\x0b' | b'\n' | b'\x0c') {
                continue;
            }
            self.append(&s[n..i]);
            self.update_width();
            n = i + 1;
            let ncells = self.terminate_cell(b == b'\t');
            if b == b'\n' || b == b'\x0c' {
                self.lines.push(Vec::new());
                if b == b'\x0c' || ncells == 1 {
                    // A line with a single cell does not affect the formatting of the
                    // following lines (its only cell is not in a column): flush.
                    self.flush_internal()?;
                }
            }
        }
        self.append(&s[n..]);
        if self.buf.len() + 32 * self.cells > TABLE_BUFFER_BYTES {
            self.flush_internal()?;
        }
        Ok(())
    }

    /// Write out everything buffered (the last line's cells included) and return the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush_internal()?;
        Ok(self.out)
    }

    fn append(&mut self, text: &str) {
        self.buf.push_str(text);
        self.cell.size += text.len();
    }

    fn update_width(&mut self) {
        self.cell.width += self.buf[self.pos..].chars().count();
        self.pos = self.buf.len();
    }

    fn terminate_cell(&mut self, htab: bool) -> usize {
        self.cell.htab = htab;
        let cell = std::mem::take(&mut self.cell);
        self.cells += 1;
        let line = self.lines.last_mut().expect("at least one line");
        line.push(cell);
        line.len()
    }

    fn flush_internal(&mut self) -> io::Result<()> {
        if self.cell.size > 0 {
            self.terminate_cell(false);
        }
        let result = self.format(0, 0, self.lines.len());
        self.buf.clear();
        self.pos = 0;
        self.cell = Cell::default();
        self.lines.clear();
        self.lines.push(Vec::new());
        self.cells = 0;
        self.widths.clear();
        result.map(|_| ())
    }

    fn write_padding(&mut self, textw: usize, cellw: usize) -> io::Result<()> {
        let (c, n) = if self.padchar == '\t' {
            if self.tabwidth == 0 {
                return Ok(());
            }
            let cellw = cellw.div_ceil(self.tabwidth) * self.tabwidth;
            ('\t', cellw.saturating_sub(textw).div_ceil(self.tabwidth))
        } else {
            (self.padchar, cellw.saturating_sub(textw))
        };
        let mut chunk = [0u8; 4];
        let c = c.encode_utf8(&mut chunk).as_bytes();
        let run: Vec<u8> = c.iter().copied().cycle().take(c.len() * n.min(4096)).collect();
        let mut left = n;
        while left > 0 {
            let k = left.min(4096);
            self.out.write_all(&run[..k * c.len()])?;
            left -= k;
        }
        Ok(())
    }

    fn write_text(&mut self, pos: usize, size: usize) -> io::Result<()> {
        let end = (pos + size).min(self.buf.len());
        let text = self.buf.get(pos..end).unwrap_or("");
        self.out.write_all(text.as_bytes())
    }

    fn write_lines(&mut self, mut pos: usize, line0: usize, line1: usize) -> io::Result<usize> {
        for i in line0..line1 {
            for j in 0..self.lines[i].len() {
                let c = self.lines[i][j];
                if c.size > 0 {
                    self.write_text(pos, c.size)?;
                    pos += c.size;
                }
                if j < self.widths.len() {
                    self.write_padding(c.width, self.widths[j])?;
                }
            }
            if i + 1 == self.lines.len() {
                // The last buffered line has no newline: write the pending cell's text.
                self.write_text(pos, self.cell.size)?;
                pos += self.cell.size;
            } else {
                self.out.write_all(b"\n")?;
            }
        }
        Ok(pos)
    }

    fn format(&mut self, mut pos: usize, mut line0: usize, line1: usize) -> io::Result<usize> {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            // A cell exists in this column: print the lines before the block, then find
            // the block's extent and width.
            pos = self.write_lines(pos, line0, this)?;
            line0 = this;
            let mut width = self.minwidth;
            while this < line1 {
                let line = &self.lines[this];
                if column + 1 >= line.len() {
                    break;
                }
                width = width.max(line[column].width + self.padding);
                this += 1;
            }
            self.widths.push(width);
            pos = self.format(pos, line0, this)?;
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(pos, line0, line1)
    }
}

impl<W: Write> Write for TabWriter<W> {
    /// Bytes are text: a UTF-8 sequence split across writes is joined before it is counted.
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let joined;
        let bytes = if self.partial.is_empty() {
            data
        } else {
            let mut v = std::mem::take(&mut self.partial);
            v.extend_from_slice(data);
            joined = v;
            &joined[..]
        };
        let valid = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) if e.error_len().is_none() => {
                self.partial = bytes[e.valid_up_to()..].to_vec();
                // The prefix up to valid_up_to() is valid UTF-8.
                std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
            }
            Err(_) => return Err(io::Error::new(io::ErrorKind::InvalidData, "table text is not UTF-8")),
        };
        self.write_str(valid)?;
        Ok(data.len())
    }

    /// Go's `Flush`: format and write everything buffered.
    fn flush(&mut self) -> io::Result<()> {
        self.flush_internal()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::TabWriter;

    fn docker(input: &str) -> String {
        let mut w = TabWriter::docker(Vec::new());
        w.write_str(input).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    fn finish(w: TabWriter<Vec<u8>>) -> String {
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn docker_tables() {
        let cases: &[(&str, &str)] = &[
            // docker volume ls
            ("DRIVER\tVOLUME NAME\nlocal\tr1-a\n", "DRIVER    VOLUME NAME\nlocal     r1-a\n"),
            // A long driver name widens the whole column block.
            (
                "DRIVER\tVOLUME NAME\nlocal\tr1-a\nvery-long-driver\tx\n",
                "DRIVER             VOLUME NAME\nlocal              r1-a\nvery-long-driver   x\n",
            ),
            // A row with an extra column: the second column becomes a column for those rows.
            ("A\tB\nxx\tyyyyyyyyyyyy\tz\nq\tr\n", "A         B\nxx        yyyyyyyyyyyy   z\nq         r\n"),
            // A line without tabs ends the blocks: columns before and after are independent.
            (
                "a\tb\nlonger-cell-here\tc\nplain line\nd\te\n",
                "a                  b\nlonger-cell-here   c\nplain line\nd         e\n",
            ),
            // Empty cells and trailing tabs.
            ("a\t\tc\n\tb\n", "a                   c\n          b\n"),
            ("x\t\n", "x         \n"),
            // Widths are counted in runes, not bytes.
            ("héllo\tb\nhi\tc\n", "héllo     b\nhi        c\n"),
            // No trailing newline: the last line is written as is.
            ("a\tb", "a         b"),
            ("", ""),
            ("no tabs at all\n", "no tabs at all\n"),
            // Empty line between blocks.
            ("a\tb\n\nccccccccccccc\td\n", "a         b\n\nccccccccccccc   d\n"),
        ];
        for (input, want) in cases {
            assert_eq!(docker(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn split_writes_and_other_settings() {
        let mut w = TabWriter::docker(Vec::new());
        for part in ["DRI", "VER\tVOL", "UME NAME\nloc", "al\tr1-a\n"] {
            w.write_str(part).unwrap();
        }
        assert_eq!(finish(w), "DRIVER    VOLUME NAME\nlocal     r1-a\n");

        // Bytes split inside a UTF-8 sequence.
        let mut w = TabWriter::docker(Vec::new());
        let text = "é\tb\nhi\tc\n".as_bytes();
        for b in text {
            std::io::Write::write_all(&mut w, std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(finish(w), "é         b\nhi        c\n");

        // minwidth 0, padding 1, '.' padding.
        let mut w = TabWriter::new(Vec::new(), 0, 8, 1, '.');
        w.write_str("a\tbbb\tc\naa\tb\tc\n").unwrap();
        assert_eq!(finish(w), "a..bbb.c\naa.b...c\n");

        // Tab padding rounds cell widths up to multiples of tabwidth.
        let mut w = TabWriter::new(Vec::new(), 0, 8, 1, '\t');
        w.write_str("a\tb\naaaaaaaaa\tc\n").unwrap();
        assert_eq!(finish(w), "a\t\tb\naaaaaaaaa\tc\n");

        // A form feed flushes and ends blocks.
        let mut w = TabWriter::new(Vec::new(), 0, 8, 1, '.');
        w.write_str("a\tb\x0caaaa\tc\n").unwrap();
        assert_eq!(finish(w), "a.b\naaaa.c\n");
    }

    /// A table larger than the buffer limit is written in aligned blocks, not held whole.
    #[test]
    fn big_tables_flush_in_blocks() {
        let mut w = TabWriter::docker(Vec::new());
        let row = format!("{}\tx\n", "a".repeat(1000));
        let rows = 3 * super::TABLE_BUFFER_BYTES / row.len();
        let mut most = 0;
        for _ in 0..rows {
            w.write_str(&row).unwrap();
            most = most.max(w.buf.len());
        }
        // The buffer was flushed whenever it passed the limit.
        assert!(most <= super::TABLE_BUFFER_BYTES, "{most} bytes buffered");
        let out = finish(w);
        let line = format!("{}   x\n", "a".repeat(1000));
        assert_eq!(out, line.repeat(rows));
    }

    /// A write error (a closed pipe) comes back from the first write that reaches it.
    #[test]
    fn write_errors_propagate() {
        struct Closed;
        impl std::io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut w = TabWriter::docker(Closed);
        w.write_str("a\tb\n").unwrap();
        let e = w.write_str("no tabs: flushes\n").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    }
}
