//! Property tests: no input makes the image reference, digest, platform and manifest parsers
//! panic, and what they accept keeps the invariants the store relies on (a digest's hex part is
//! a single safe path component; a reference prints back to itself).

use myvol::image::digest::Digest;
use myvol::image::oci::parse_document;
use myvol::image::platform::Platform;
use myvol::image::reference::{AnyReference, Reference};
use proptest::prelude::*;

/// Strings over the grammar's own alphabet, so the parser gets past its first checks.
fn grammar() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("a".to_owned()),
        Just("Z".to_owned()),
        Just("0".to_owned()),
        Just("/".to_owned()),
        Just(":".to_owned()),
        Just("@".to_owned()),
        Just(".".to_owned()),
        Just("-".to_owned()),
        Just("_".to_owned()),
        Just("__".to_owned()),
        Just("..".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("localhost".to_owned()),
        Just("docker.io".to_owned()),
        Just("library".to_owned()),
        Just("5000".to_owned()),
        Just("sha256:".to_owned()),
        Just("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_owned()),
        Just("é".to_owned()),
        Just("\n".to_owned()),
        Just(" ".to_owned()),
    ];
    prop::collection::vec(atoms, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn references_never_panic_and_round_trip(s in prop_oneof![grammar(), any::<String>()]) {
        if let Ok(r) = Reference::parse_normalized(&s) {
            // The full form parses back to the same reference.
            prop_assert_eq!(Reference::parse_normalized(&r.to_string()).unwrap(), r.clone());
            prop_assert!(!r.path().is_empty());
            prop_assert!(!r.path().contains(".."));
            if let Some(d) = r.digest() {
                prop_assert!(d.hex().bytes().all(|b| b.is_ascii_hexdigit()));
            }
            let _ = r.familiar_string();
            let _ = r.tag_name_only();
        }
        match Reference::parse_any(&s) {
            Ok(AnyReference::Id(d)) => prop_assert!(!d.hex().contains('/')),
            Ok(AnyReference::Named(_)) | Err(_) => {}
        }
    }

    #[test]
    fn digests_are_safe_path_components(s in prop_oneof![grammar(), any::<String>()]) {
        if let Ok(d) = Digest::parse(&s) {
            prop_assert!(d.hex().bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
            prop_assert_eq!(d.as_str(), s.as_str());
        }
    }

    #[test]
    fn platforms_never_panic(s in prop_oneof![grammar(), "[a-z0-9/._*-]{0,30}", any::<String>()]) {
        if let Ok(p) = Platform::parse(&s) {
            let _ = p.to_string();
            let _ = Platform::host().rank(&p);
        }
    }

    #[test]
    fn manifests_never_panic(b in prop::collection::vec(any::<u8>(), 0..300), ct in "[a-z./+-]{0,40}") {
        let _ = parse_document(&b, Some(&ct));
        let _ = parse_document(&b, None);
    }
}
