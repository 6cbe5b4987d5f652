//! `com.docker.compose.config-hash` on volumes: the sha256, in lower-case hex, of Go's JSON
//! encoding of Compose's volume config with an empty driver read as `local`.
//!
//! Compose's `VolumeConfig` is encoded with its JSON tags, in field order, every field
//! `omitempty`: `name`, `driver`, `driver_opts` (a map: keys sorted), `external` (only when
//! true), `labels` (the file's own labels only: Compose's own labels are not part of it).

use sha2::{Digest, Sha256};

use super::gojson::{Json, marshal};
use super::model::Volume;

/// The JSON Compose hashes for a volume.
pub fn volume_config_json(v: &Volume) -> String {
    let mut fields = Vec::new();
    if !v.name.is_empty() {
        fields.push(("name".to_owned(), Json::str(&v.name)));
    }
    let driver = if v.driver.is_empty() { "local" } else { v.driver.as_str() };
    fields.push(("driver".to_owned(), Json::str(driver)));
    if !v.driver_opts.is_empty() {
        fields.push(("driver_opts".to_owned(), Json::string_map(&v.driver_opts)));
    }
    if v.external {
        fields.push(("external".to_owned(), Json::Bool(true)));
    }
    if !v.labels.is_empty() {
        fields.push(("labels".to_owned(), Json::string_map(&v.labels)));
    }
    marshal(&Json::Object(fields))
}

/// The config hash of a volume.
pub fn volume_config_hash(v: &Volume) -> String {
    let digest = Sha256::digest(volume_config_json(v).as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn vol(name: &str) -> Volume {
        Volume { name: name.to_owned(), ..Volume::default() }
    }

    #[test]
    fn json_as_compose_encodes_it() {
        assert_eq!(volume_config_json(&vol("p_data")), r#"{"name":"p_data","driver":"local"}"#);
        let mut v = vol("p_data");
        v.driver = "local".into();
        assert_eq!(
            volume_config_json(&v),
            r#"{"name":"p_data","driver":"local"}"#,
            "driver: local hashes as no driver"
        );
        v.driver_opts = BTreeMap::from([("type".into(), "tmpfs".into()), ("o".into(), "size=1m".into())]);
        v.labels = BTreeMap::from([("b".into(), "<&>".into()), ("a".into(), "1".into())]);
        assert_eq!(
            volume_config_json(&v),
            r#"{"name":"p_data","driver":"local","driver_opts":{"o":"size=1m","type":"tmpfs"},"labels":{"a":"1","b":"\u003c\u0026\u003e"}}"#
        );
        let mut e = vol("ext");
        e.external = true;
        assert_eq!(volume_config_json(&e), r#"{"name":"ext","driver":"local","external":true}"#);
    }

    #[test]
    fn hash_is_sha256_of_that_json() {
        // `printf '%s' '{"name":"p_data","driver":"local"}' | sha256sum`
        assert_eq!(
            volume_config_hash(&vol("p_data")),
            "bf2094b43d065b5f7aad7544497a3ed48d6551b83c79e6c2d0827b7337fcdd4b"
        );
    }
}
