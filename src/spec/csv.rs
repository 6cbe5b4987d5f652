//! One record of Go's `encoding/csv` with its default settings (comma `,`, no comments,
//! strict quotes, no space trimming), which is how docker/cli reads a `--mount` value.
//! Error texts and 1-based byte columns are Go's.

const ERR_BARE_QUOTE: &str = "bare \" in non-quoted-field";
const ERR_QUOTE: &str = "extraneous or missing \" in quoted-field";

/// Go's `csv.ParseError` text.
fn parse_error(start_line: usize, line: usize, column: usize, err: &str) -> String {
    if start_line != line {
        format!("record on line {start_line}; parse error on line {line}, column {column}: {err}")
    } else {
        format!("parse error on line {line}, column {column}: {err}")
    }
}

/// Splits input into Go `readLine` lines: each keeps its `\n`, `\r\n` becomes `\n`, and a
/// `\r` right before the end of input is dropped.
struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Option<Vec<u8>> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.iter().position(|&b| b == b'\n').map_or(self.rest.len(), |i| i + 1);
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        let mut line = line.to_vec();
        let n = line.len();
        if line.last() != Some(&b'\n') {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        } else if n >= 2 && line[n - 2] == b'\r' {
            line.truncate(n - 2);
            line.push(b'\n');
        }
        Some(line)
    }
}

fn length_nl(b: &[u8]) -> usize {
    usize::from(b.last() == Some(&b'\n'))
}

/// Read the first record of `input`. An input with no record (empty, or only empty lines)
/// gives Go's `EOF`.
pub(crate) fn read_record(input: &str) -> Result<Vec<String>, String> {
    let mut lines = Lines { rest: input.as_bytes() };
    let mut num_line = 0usize;
    let mut line = loop {
        match lines.next_line() {
            None => return Err("EOF".to_owned()),
            Some(l) => {
                num_line += 1;
                if l.len() == length_nl(&l) {
                    continue;
                }
                break l;
            }
        }
    };

    let rec_line = num_line;
    let mut buffer: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    let mut pos_line = num_line;
    let mut col = 1usize;
    let mut rest: &[u8] = &line;

    'fields: loop {
        if rest.first() != Some(&b'"') {
            // Non-quoted field.
            let comma = rest.iter().position(|&b| b == b',');
            let field = match comma {
                Some(i) => &rest[..i],
                None => &rest[..rest.len() - length_nl(rest)],
            };
            if let Some(j) = field.iter().position(|&b| b == b'"') {
                return Err(parse_error(rec_line, num_line, col + j, ERR_BARE_QUOTE));
            }
            buffer.extend_from_slice(field);
            ends.push(buffer.len());
            match comma {
                Some(i) => {
                    rest = &rest[i + 1..];
                    col += i + 1;
                    continue 'fields;
                }
                None => break 'fields,
            }
        }
        // Quoted field.
        rest = &rest[1..];
        col += 1;
        loop {
            if let Some(i) = rest.iter().position(|&b| b == b'"') {
                buffer.extend_from_slice(&rest[..i]);
                rest = &rest[i + 1..];
                col += i + 1;
                match rest.first() {
                    Some(b'"') => {
                        buffer.push(b'"');
                        rest = &rest[1..];
                        col += 1;
                    }
                    Some(b',') => {
                        rest = &rest[1..];
                        col += 1;
                        ends.push(buffer.len());
                        continue 'fields;
                    }
                    _ if length_nl(rest) == rest.len() => {
                        ends.push(buffer.len());
                        break 'fields;
                    }
                    _ => {
                        return Err(parse_error(rec_line, num_line, col - 1, ERR_QUOTE));
                    }
                }
            } else if !rest.is_empty() {
                // The quoted field goes on past the end of this line.
                buffer.extend_from_slice(rest);
                col += rest.len();
                let next = lines.next_line().unwrap_or_default();
                num_line += 1;
                if !next.is_empty() {
                    pos_line += 1;
                    col = 1;
                }
                line = next;
                rest = &line;
            } else {
                return Err(parse_error(rec_line, pos_line, col, ERR_QUOTE));
            }
        }
    }

    let mut fields = Vec::with_capacity(ends.len());
    let mut start = 0;
    for end in ends {
        fields.push(String::from_utf8_lossy(&buffer[start..end]).into_owned());
        start = end;
    }
    Ok(fields)
}
