//! `up`'s log lines: [`LogStyle`], Compose's prefixes, colours and status lines.

/// Compose's log colours, in the order it hands them to the services (sorted by name):
/// cyan, yellow, green, magenta, blue, then the same intense.
const RAINBOW: [&str; 10] = ["36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1"];

/// Go's `goterm.RESET_LINE`, which Compose writes before each status line.
pub const RESET_LINE: &str = "\r\x1b[K";

/// How `up` prints a service's lines: Compose's `<name><padding> | ` prefix (the names
/// padded to the longest plus one), coloured when stdout is a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStyle {
    /// The ANSI colour, when colouring.
    pub color: Option<&'static str>,
    /// The prefix of each log line (empty with `--no-log-prefix`).
    pub prefix: String,
}

impl LogStyle {
    /// The style of the `index`-th of `names` (sorted), as Compose's log consumer makes it.
    pub fn new(names: &[String], index: usize, color: bool, prefix: bool) -> LogStyle {
        let width = names.iter().map(String::len).max().unwrap_or(0) + 1;
        let color = color.then(|| RAINBOW[index % RAINBOW.len()]);
        let prefix = if prefix { paint(color, &format!("{:<width$} | ", names[index])) } else { String::new() };
        LogStyle { color, prefix }
    }

    /// One line of the service's output (without its newline), as printed.
    pub fn line(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + text.len() + 1);
        out.extend_from_slice(self.prefix.as_bytes());
        out.extend_from_slice(text);
        out.push(b'\n');
        out
    }

    /// A status line (`web-1 exited with code 0`), as Compose prints it.
    pub fn status(&self, name: &str, message: &str) -> String {
        paint(self.color, &format!("{RESET_LINE}{name} {message}\n"))
    }
}

fn paint(color: Option<&str>, s: &str) -> String {
    match color {
        Some(c) => format!("\x1b[{c}m{s}\x1b[0m"),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_padded_to_the_longest_name_plus_one() {
        let names = vec!["app-1".to_owned(), "backend-1".to_owned()];
        let s = LogStyle::new(&names, 0, false, true);
        assert_eq!(s.line(b"hi"), b"app-1      | hi\n");
        assert_eq!(LogStyle::new(&names, 1, false, true).line(b"x"), b"backend-1  | x\n");
        assert_eq!(s.status("app-1", "exited with code 3"), "\r\x1b[Kapp-1 exited with code 3\n");
        assert_eq!(LogStyle::new(&names, 0, false, false).line(b"raw"), b"raw\n");
    }

    #[test]
    fn colours_follow_compose_s_rainbow() {
        let names: Vec<String> = (0..11).map(|i| format!("s{i}-1")).collect();
        assert_eq!(LogStyle::new(&names, 0, true, true).prefix, "\x1b[36ms0-1   | \x1b[0m");
        assert_eq!(LogStyle::new(&names, 5, true, true).color, Some("36;1"));
        assert_eq!(LogStyle::new(&names, 10, true, true).color, Some("36"));
        assert_eq!(
            LogStyle::new(&names, 1, true, true).status("s1-1", "exited with code 0"),
            "\x1b[33m\r\x1b[Ks1-1 exited with code 0\n\x1b[0m"
        );
    }
}
