//! Reading plugin JSON as Docker's Go decoder does: the first value of the body counts (trailing
//! data is ignored), field names match case-insensitively (an exact match first), `null` is the
//! same as absent, and a field of the wrong type is an error.

use serde_json::{Map, Value};

/// The first JSON value in `bytes`; what follows it is ignored, as Go's `json.Decoder` does.
pub(super) fn first_value(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    match values.next() {
        Some(v) => v,
        // An empty body: let serde_json name it ("EOF while parsing a value").
        None => serde_json::from_slice::<Value>(bytes),
    }
}

/// A JSON object seen as a Go struct: `null` reads as an empty object.
#[derive(Debug, Clone, Copy)]
pub(super) struct Obj<'a>(Option<&'a Map<String, Value>>);

impl<'a> Obj<'a> {
    /// `value` as an object; `null` is an empty one.
    pub(super) fn of(value: &'a Value) -> Result<Obj<'a>, String> {
        match value {
            Value::Null => Ok(Obj(None)),
            Value::Object(m) => Ok(Obj(Some(m))),
            other => Err(format!("expected a JSON object, got {}", kind(other))),
        }
    }

    /// Field `key` (exact name first, else any case), `None` when absent or `null`.
    pub(super) fn get(self, key: &str) -> Option<&'a Value> {
        let m = self.0?;
        m.get(key)
            .or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
            .filter(|v| !v.is_null())
    }

    /// A string field; absent or `null` is empty.
    pub(super) fn string(self, key: &str) -> Result<String, String> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!("{key} is {}, not a string", kind(other))),
        }
    }

    /// An object field; absent or `null` is an empty object.
    pub(super) fn object(self, key: &str) -> Result<Obj<'a>, String> {
        match self.get(key) {
            None => Ok(Obj(None)),
            Some(v) => Obj::of(v).map_err(|e| format!("{key}: {e}")),
        }
    }

    /// An array field; absent or `null` is empty.
    pub(super) fn array(self, key: &str) -> Result<&'a [Value], String> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(format!("{key} is {}, not an array", kind(other))),
        }
    }
}

/// How Go names a JSON value's kind in its decode errors.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_value_ignores_trailing_data() {
        assert_eq!(first_value(b"{\"a\":1}\n{\"b\":2}").unwrap(), json!({"a": 1}));
        assert_eq!(first_value(b" {} garbage").unwrap(), json!({}));
        assert!(first_value(b"").is_err());
        assert!(first_value(b"   ").is_err());
        assert!(first_value(b"not json").is_err());
    }

    #[test]
    fn fields_like_go() {
        let v = json!({"mountpoint": "/a", "Err": null, "Name": "exact", "NAME": "other", "n": 5, "list": [1]});
        let o = Obj::of(&v).unwrap();
        assert_eq!(o.string("Mountpoint").unwrap(), "/a");
        assert_eq!(o.string("Err").unwrap(), "");
        assert_eq!(o.string("Name").unwrap(), "exact");
        assert_eq!(o.string("Missing").unwrap(), "");
        assert_eq!(o.string("n").unwrap_err(), "n is a number, not a string");
        assert_eq!(o.array("List").unwrap().len(), 1);
        assert_eq!(o.array("n").unwrap_err(), "n is a number, not an array");
        assert_eq!(o.object("n").unwrap_err(), "n: expected a JSON object, got a number");
        assert!(o.object("Missing").unwrap().get("x").is_none());
        assert!(Obj::of(&Value::Null).unwrap().get("x").is_none());
        assert_eq!(Obj::of(&json!([1])).unwrap_err(), "expected a JSON object, got an array");
    }
}
