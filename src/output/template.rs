//! Go text/template for `--format` (placeholder interface; the real engine is being merged).
use std::collections::BTreeMap;
use std::rc::Rc;

#[derive(Clone)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(Option<BTreeMap<String, Value>>),
    Object(Rc<dyn Object>),
}

pub trait Object {
    fn type_name(&self) -> &str;
    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>>;
    fn to_json(&self) -> serde_json::Value;
    fn display(&self) -> String;
}

pub struct Template(String);

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{0}")]
    Parse(String),
    #[error("{0}")]
    Exec(String),
}

impl Template {
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        Ok(Template(src.to_owned()))
    }
    pub fn execute(&self, _dot: &Value, out: &mut String) -> Result<(), TemplateError> {
        out.push_str(&self.0);
        Ok(())
    }
}
