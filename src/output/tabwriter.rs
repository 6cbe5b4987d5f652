//! Go's `text/tabwriter` (flags 0), as Docker renders its tables with
//! `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
//!
//! Text is split into cells at `\t` (and `\v`); a line's cells line up with the cells of the
//! same column in the adjacent lines. Text after a line's last tab is not part of a column and
//! is not padded. A column block is a run of consecutive lines that have a cell in that column;
//! its width is the widest cell (in runes) plus `padding`, at least `minwidth`. A line without
//! tabs ends all blocks, as does `\f`.

/// A cell: its text size in bytes, width in runes, and whether a tab ended it.
#[derive(Clone, Copy, Default, Debug)]
struct Cell {
    size: usize,
    width: usize,
    htab: bool,
}

/// A Go `tabwriter.Writer` that writes into a string.
#[derive(Debug)]
pub struct TabWriter {
    minwidth: usize,
    tabwidth: usize,
    padding: usize,
    padchar: char,
    buf: String,
    pos: usize,
    cell: Cell,
    lines: Vec<Vec<Cell>>,
    widths: Vec<usize>,
    out: String,
}

impl TabWriter {
    /// A writer with Go's `NewWriter(out, minwidth, tabwidth, padding, padchar, 0)` settings.
    /// With `padchar` `'\t'`, padding is done with tabs assumed `tabwidth` wide.
    pub fn new(minwidth: usize, tabwidth: usize, padding: usize, padchar: char) -> Self {
        TabWriter {
            minwidth,
            tabwidth,
            padding,
            padchar,
            buf: String::new(),
            pos: 0,
            cell: Cell::default(),
            lines: vec![Vec::new()],
            widths: Vec::new(),
            out: String::new(),
        }
    }

    /// Docker's table writer: `NewWriter(out, 10, 1, 3, ' ', 0)`.
    pub fn docker() -> Self {
        Self::new(10, 1, 3, ' ')
    }

    /// Write text; cells end at `\t` or `\v`, lines at `\n` or `\f` (which also flushes).
    pub fn write_str(&mut self, s: &str) {
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
                    self.flush_internal();
                }
            }
        }
        self.append(&s[n..]);
    }

    /// Flush buffered text and return everything written.
    pub fn finish(mut self) -> String {
        self.flush_internal();
        self.out
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
        let line = self.lines.last_mut().expect("at least one line");
        line.push(cell);
        line.len()
    }

    fn flush_internal(&mut self) {
        if self.cell.size > 0 {
            self.terminate_cell(false);
        }
        self.format(0, 0, self.lines.len());
        self.buf.clear();
        self.pos = 0;
        self.cell = Cell::default();
        self.lines.clear();
        self.lines.push(Vec::new());
        self.widths.clear();
    }

    fn write_padding(&mut self, textw: usize, cellw: usize) {
        if self.padchar == '\t' {
            if self.tabwidth == 0 {
                return;
            }
            let cellw = cellw.div_ceil(self.tabwidth) * self.tabwidth;
            let n = cellw.saturating_sub(textw);
            self.out.extend(std::iter::repeat_n('\t', n.div_ceil(self.tabwidth)));
            return;
        }
        self.out.extend(std::iter::repeat_n(self.padchar, cellw.saturating_sub(textw)));
    }

    fn write_lines(&mut self, mut pos: usize, line0: usize, line1: usize) -> usize {
        for i in line0..line1 {
            for j in 0..self.lines[i].len() {
                let c = self.lines[i][j];
                if c.size > 0 {
                    let end = (pos + c.size).min(self.buf.len());
                    let text = self.buf.get(pos..end).unwrap_or("");
                    self.out.push_str(text);
                    pos += c.size;
                }
                if j < self.widths.len() {
                    self.write_padding(c.width, self.widths[j]);
                }
            }
            if i + 1 == self.lines.len() {
                // The last buffered line has no newline: write the pending cell's text.
                let end = (pos + self.cell.size).min(self.buf.len());
                let text = self.buf.get(pos..end).unwrap_or("").to_string();
                self.out.push_str(&text);
                pos += self.cell.size;
            } else {
                self.out.push('\n');
            }
        }
        pos
    }

    fn format(&mut self, mut pos: usize, mut line0: usize, line1: usize) -> usize {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            // A cell exists in this column: print the lines before the block, then find
            // the block's extent and width.
            pos = self.write_lines(pos, line0, this);
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
            pos = self.format(pos, line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(pos, line0, line1)
    }
}

#[cfg(test)]
mod tests {
    use super::TabWriter;

    fn docker(input: &str) -> String {
        let mut w = TabWriter::docker();
        w.write_str(input);
        w.finish()
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
        let mut w = TabWriter::docker();
        for part in ["DRI", "VER\tVOL", "UME NAME\nloc", "al\tr1-a\n"] {
            w.write_str(part);
        }
        assert_eq!(w.finish(), "DRIVER    VOLUME NAME\nlocal     r1-a\n");

        // minwidth 0, padding 1, '.' padding.
        let mut w = TabWriter::new(0, 8, 1, '.');
        w.write_str("a\tbbb\tc\naa\tb\tc\n");
        assert_eq!(w.finish(), "a..bbb.c\naa.b...c\n");

        // Tab padding rounds cell widths up to multiples of tabwidth.
        let mut w = TabWriter::new(0, 8, 1, '\t');
        w.write_str("a\tb\naaaaaaaaa\tc\n");
        assert_eq!(w.finish(), "a\t\tb\naaaaaaaaa\tc\n");

        // A form feed flushes and ends blocks.
        let mut w = TabWriter::new(0, 8, 1, '.');
        w.write_str("a\tb\x0caaaa\tc\n");
        assert_eq!(w.finish(), "a.b\naaaa.c\n");
    }
}
