//! go-units `RAMInBytes` (`size_test.go` `TestRAMInBytes`).

use super::*;

macro_rules! size {
    ($($name:ident: $s:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            let got = match ram_in_bytes($s) {
                Ok(n) => n.to_string(),
                Err(e) => e.to_string(),
            };
            assert_eq!(got, $want, "{:?}", $s);
        }
    )*};
}

size! {
    sz_plain: "32" => "32"; // TestRAMInBytes
    sz_b: "32b" => "32"; // TestRAMInBytes
    sz_upper_b: "32B" => "32"; // TestRAMInBytes
    sz_k: "32k" => "32768"; // TestRAMInBytes
    sz_upper_k: "32K" => "32768"; // TestRAMInBytes
    sz_kb: "32kb" => "32768"; // TestRAMInBytes
    sz_mixed_kb: "32Kb" => "32768"; // TestRAMInBytes
    sz_kib: "32Kib" => "32768"; // TestRAMInBytes
    sz_mb: "32Mb" => "33554432"; // TestRAMInBytes
    sz_gb: "32Gb" => "34359738368"; // TestRAMInBytes
    sz_tb: "32Tb" => "35184372088832"; // TestRAMInBytes
    sz_pb: "32Pb" => "36028797018963968"; // TestRAMInBytes
    sz_upper_pb: "32PB" => "36028797018963968"; // TestRAMInBytes
    sz_p: "32P" => "36028797018963968"; // TestRAMInBytes
    sz_fraction: "32.3" => "32"; // TestRAMInBytes
    sz_fraction_k: "32.3k" => "33075";
    sz_fraction_mb: "0.3MB" => "314572";
    sz_one_and_half_g: "1.5g" => "1610612736";
    sz_one_m: "1m" => "1048576";
    sz_one_mb: "1MB" => "1048576";
    sz_space: "32 mb" => "33554432"; // TestRAMInBytes
    sz_exponent: "1e3" => "1000";
    sz_empty: "" => "invalid size: ''"; // TestRAMInBytes
    sz_hello: "hello" => "invalid size: 'hello'"; // TestRAMInBytes
    sz_negative: "-32" => "invalid size: '-32'"; // TestRAMInBytes
    sz_spaces_around: " 32 " => "strconv.ParseFloat: parsing \" 32\": invalid syntax"; // TestRAMInBytes
    sz_space_in_suffix: "32m b" => "strconv.ParseFloat: parsing \"32m\": invalid syntax"; // TestRAMInBytes
    sz_bm: "32bm" => "invalid suffix: 'bm'"; // TestRAMInBytes
    sz_too_long: "32.3Kibb" => "invalid suffix: 'Kibb'";
    sz_mi: "32Mi" => "invalid suffix: 'mi'";
    sz_unknown_unit: "32x" => "invalid suffix: 'x'";
    sz_overflow: "1e30" => "invalid size: '1e30'";
    sz_overflow_unit: "8388608t" => "invalid size: '8388608t'";
}
