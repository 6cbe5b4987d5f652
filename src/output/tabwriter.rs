//! Go's text/tabwriter (placeholder; the real one is being merged).
pub struct TabWriter(String);
impl TabWriter {
    pub fn docker() -> Self {
        TabWriter(String::new())
    }
    pub fn write_str(&mut self, s: &str) {
        self.0.push_str(s)
    }
    pub fn finish(self) -> String {
        self.0
    }
}
