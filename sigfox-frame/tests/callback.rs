//! Callbacks: template-tolerant parsing, field rules, key renames, the normalized message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use proptest::prelude::*;
use serde_json::json;
use sigfox_frame::{
    BodyEncoding, Callback, CallbackError, CallbackKind, CallbackLimits, CallbackOptions,
    ComputedLocation, DeviceId, Duplicate, Key, LinkQuality, PayloadFormat, Reason, TemplateError,
    TopicTemplate,
};

fn parse(body: &str) -> Result<Callback, CallbackError> {
    Callback::parse(
        CallbackKind::DataUplink,
        body.as_bytes(),
        None,
        &CallbackOptions::new(),
    )
}

/// A callback of `kind` with the default options, which must parse.
fn parse_kind(kind: CallbackKind, body: &str) -> Callback {
    Callback::parse(kind, body.as_bytes(), None, &CallbackOptions::new()).unwrap()
}

fn err(field: &str, reason: Reason) -> Result<Callback, CallbackError> {
    Err(CallbackError {
        field: field.to_owned(),
        reason,
    })
}

/// Scenario 3's template: every value a string.
const SCENARIO_3: &str = r#"{"device":"B92A4","data":"0123456789abcdef01234567","time":"1476980426","snr":"12.34","station":"0A1B",
 "avgSnr":"15.02","lat":"43.0","lng":"1.0","rssi":"-123.45","seqNumber":"1234"}"#;

#[test]
fn scenario_3_strings_become_typed_values() {
    let cb = parse(SCENARIO_3).unwrap();
    assert_eq!(cb.device, DeviceId::from_value(0xB92A4));
    assert_eq!(cb.time, Some(1476980426));
    assert_eq!(
        cb.data,
        Some(vec![
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67
        ])
    );
    assert_eq!(cb.seq_number, Some(1234));
    assert_eq!(cb.station.as_deref(), Some("0A1B"));
    assert_eq!(
        (cb.rssi, cb.snr, cb.avg_snr),
        (Some(-123.45), Some(12.34), Some(15.02))
    );
    assert_eq!((cb.lat, cb.lng), (Some(43.0), Some(1.0)));
    let m = cb.to_message(None, &TopicTemplate::default());
    assert_eq!(m.topic, "sigfox");
    assert_eq!(
        m.payload,
        json!({"device":"B92A4","time":1476980426,"data":"0123456789abcdef01234567",
               "seqNumber":1234,"station":"0A1B","rssi":-123.45,"snr":12.34,"avgSnr":15.02,
               "lat":43.0,"lng":1.0,"kind":"DATA_UPLINK"})
    );
}

#[test]
fn same_body_as_json_numbers_form_and_query() {
    let json_numbers = r#"{"device":"B92A4","data":"c01234","time":1476980426,"seqNumber":12,"rssi":-120.5,"snr":8}"#;
    let form = "device=B92A4&data=c01234&time=1476980426&seqNumber=12&rssi=-120.5&snr=8";
    let query = "?device=B92A4&data=C01234&time=1476980426&seqNumber=12&rssi=-120.5&snr=8";
    let a = parse(json_numbers).unwrap();
    let b = parse(form).unwrap();
    let c = parse(query).unwrap();
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(a.data, Some(vec![0xc0, 0x12, 0x34]));
    let explicit = Callback::parse_as(
        CallbackKind::DataUplink,
        form.as_bytes(),
        BodyEncoding::Form,
        &CallbackOptions::new(),
    )
    .unwrap();
    assert_eq!(explicit, a);
    assert_eq!(
        BodyEncoding::detect(Some("application/json; charset=utf-8"), b"device=1"),
        BodyEncoding::Json
    );
    assert_eq!(
        BodyEncoding::detect(Some("application/x-www-form-urlencoded"), b"{"),
        BodyEncoding::Form
    );
    assert_eq!(BodyEncoding::detect(None, b"  {}"), BodyEncoding::Json);
    assert_eq!(
        BodyEncoding::detect(Some("text/plain"), b"a=b"),
        BodyEncoding::Form
    );
}

#[test]
fn absent_values() {
    for v in ["null", "\"N/A\"", "\"\""] {
        let cb = parse(&format!(
            r#"{{"device":"1","time":{v},"seqNumber":{v},"rssi":{v},"station":{v}}}"#
        ))
        .unwrap();
        assert_eq!(
            (cb.time, cb.seq_number, cb.rssi, cb.station),
            (None, None, None, None),
            "{v}"
        );
    }
    // `data: ""` is the empty payload (a 1-bit or empty frame), not an absent one.
    assert_eq!(
        parse(r#"{"device":"1","data":""}"#).unwrap().data,
        Some(vec![])
    );
    assert_eq!(parse(r#"{"device":"1","data":null}"#).unwrap().data, None);
    assert_eq!(parse(r#"{"device":"1","data":"N/A"}"#).unwrap().data, None);
    assert_eq!(parse("device=1&data=").unwrap().data, Some(vec![]));
}

#[test]
fn field_rules() {
    use Reason::*;
    let cases: &[(&str, Result<Callback, CallbackError>)] = &[
        (r#"{"time":"1"}"#, err("device", Missing)),
        (r#"{"device":"N/A"}"#, err("device", Missing)),
        (
            r#"{"device":"123456789"}"#,
            err("device", TooManyDigits { max: 8 }),
        ),
        (r#"{"device":"B92G4"}"#, err("device", NotHex)),
        (r#"{"device":"-1"}"#, err("device", NotHex)),
        (r#"{"device":"1","data":"0"}"#, err("data", OddHexLength)),
        (r#"{"device":"1","data":"zz"}"#, err("data", NotHex)),
        (
            r#"{"device":"1","data":"00112233445566778899aabbcc"}"#,
            err("data", TooManyDigits { max: 24 }),
        ),
        (
            r#"{"device":"1","data":12}"#,
            err(
                "data",
                WrongType {
                    expected: "a hex string",
                },
            ),
        ),
        (
            r#"{"device":"1","seqNumber":"4096"}"#,
            err(
                "seqNumber",
                OutOfRange {
                    min: 0.0,
                    max: 4095.0,
                },
            ),
        ),
        (
            r#"{"device":"1","seqNumber":-1}"#,
            err("seqNumber", NotAnInteger),
        ),
        (
            r#"{"device":"1","seqNumber":"1.5"}"#,
            err("seqNumber", NotAnInteger),
        ),
        (
            r#"{"device":"1","time":"yesterday"}"#,
            err("time", NotAnInteger),
        ),
        (r#"{"device":"1","time":1.5}"#, err("time", NotAnInteger)),
        (r#"{"device":"1","rssi":"NaN"}"#, err("rssi", NotANumber)),
        (r#"{"device":"1","rssi":"inf"}"#, err("rssi", NotANumber)),
        (r#"{"device":"1","rssi":[1]}"#, err("rssi", NotANumber)),
        (
            r#"{"device":"1","lat":"91"}"#,
            err(
                "lat",
                OutOfRange {
                    min: -90.0,
                    max: 90.0,
                },
            ),
        ),
        (
            r#"{"device":"1","lng":-180.5}"#,
            err(
                "lng",
                OutOfRange {
                    min: -180.0,
                    max: 180.0,
                },
            ),
        ),
        (r#"{"device":"1","station":"XYZ"}"#, err("station", NotHex)),
        (r#"{"device":"1","ack":"maybe"}"#, err("ack", NotABoolean)),
        (
            r#"{"device":"1","infoCode":9}"#,
            err("infoCode", OutOfRange { min: 0.0, max: 8.0 }),
        ),
        (
            r#"{"device":"1","customData#":"x"}"#,
            err("customData#", InvalidCustomName),
        ),
        (
            r#"{"device":"1","customData#a b":"x"}"#,
            err("customData#a b", InvalidCustomName),
        ),
        (r#"[1]"#, err("(body)", NotAnObject)),
        ("device=1&device=2", err("device", DuplicateKey)),
        (
            "device=%4",
            err("(body)", InvalidPercentEncoding { offset: 7 }),
        ),
        ("device=%ff", err("(body)", InvalidUtf8 { offset: 7 })),
    ];
    for (body, expected) in cases {
        assert_eq!(&parse(body), expected, "{body}");
    }
    // Device ids ("{device}: device identifier, in hexadecimal, up to 8 characters",
    // https://support.sigfox.com/docs/callbacks-documentation): either case, leading zeros
    // kept as sent; equal by their number.
    for (id, expected) in [
        ("B92A4", 0xB92A4),
        ("b92a4", 0xB92A4),
        ("0CB3", 0xCB3),
        ("004D33DB", 0x4D33DB),
        ("FFFFFFFF", u32::MAX),
    ] {
        let cb = parse(&format!(r#"{{"device":"{id}"}}"#)).unwrap();
        assert_eq!(cb.device, DeviceId::from_value(expected));
        assert_eq!(cb.device.to_string(), id);
        assert_eq!(cb.device.as_str(), id);
        assert_eq!(cb.device.value(), expected);
    }
    let padded = DeviceId::parse("0CB3").unwrap();
    assert_eq!(format!("{padded:?}"), r#"DeviceId("0CB3")"#);
    assert_eq!(
        sigfox_frame::BidirReply::new()
            .no_data(padded)
            .to_http()
            .body,
        r#"{"0CB3":{"noData":true}}"#
    );
    assert_eq!(DeviceId::from_value(0xB92A4).to_string(), "B92A4");
    assert_eq!(DeviceId::from_value(0x4D33DB).to_string(), "4D33DB");
    assert_eq!(DeviceId::from_value(0).to_string(), "0");
    assert_eq!(DeviceId::from_value(u32::MAX).to_string(), "FFFFFFFF");
    assert_eq!(DeviceId::parse("ffffffff").unwrap().as_str(), "ffffffff");
    // Boundaries accepted.
    let cb =
        parse(r#"{"device":"1","seqNumber":4095,"infoCode":"8","ack":"true","lat":-90,"lng":180}"#)
            .unwrap();
    assert_eq!(
        (cb.seq_number, cb.info_code, cb.ack, cb.lat, cb.lng),
        (Some(4095), Some(8), Some(true), Some(-90.0), Some(180.0))
    );
}

#[test]
fn invalid_json_names_line_and_column() {
    let e = parse("{\"device\":\n 1,}").unwrap_err();
    assert_eq!(e.field, "(body)");
    match &e.reason {
        Reason::InvalidJson { line, column, .. } => assert_eq!((*line, *column), (2, 4)),
        other => panic!("{other:?}"),
    }
    assert_eq!(e.reason.name(), "InvalidJson");
}

#[test]
fn error_display() {
    let e = parse(r#"{"device":"1","seqNumber":5000}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "callback field `seqNumber` is outside 0..=4095"
    );
    let e = parse(r#"{"id":"1"}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "callback field `device` is required but absent (null, \"N/A\" and \"\" count as absent)"
    );
}

#[test]
fn renamed_keys() {
    let options = CallbackOptions::new()
        .rename(Key::Device, "id")
        .rename(Key::SeqNumber, "seq");
    assert_eq!(options.name_of(Key::Device), "id");
    let cb = Callback::parse(
        CallbackKind::DataUplink,
        br#"{"id":"B92A4","seq":"7","device":"other"}"#,
        None,
        &options,
    )
    .unwrap();
    assert_eq!(cb.device, DeviceId::from_value(0xB92A4));
    assert_eq!(cb.seq_number, Some(7));
    // `device` is no longer a known key: it is kept as an extra.
    assert_eq!(cb.extra, vec![("device".to_owned(), json!("other"))]);
    let e =
        Callback::parse(CallbackKind::DataUplink, br#"{"id":"zz"}"#, None, &options).unwrap_err();
    assert_eq!(
        e,
        CallbackError {
            field: "id".into(),
            reason: Reason::NotHex
        }
    );
    let e = Callback::parse(CallbackKind::DataUplink, br#"{}"#, None, &options).unwrap_err();
    assert_eq!(
        e,
        CallbackError {
            field: "id".into(),
            reason: Reason::Missing
        }
    );
}

#[test]
fn custom_data_is_kept_as_untrusted_strings() {
    let cb = parse(
        r#"{"device":"1","customData#temp":12,"customData#note":"<script>","customData#x":null}"#,
    )
    .unwrap();
    assert_eq!(
        cb.custom_data,
        vec![
            ("note".to_owned(), "<script>".to_owned()),
            ("temp".to_owned(), "12".to_owned())
        ]
    );
    let m = cb.to_message(None, &TopicTemplate::default());
    assert_eq!(
        m.payload["customData"],
        json!({"temp":"12","note":"<script>"})
    );
}

#[test]
fn data_advanced() {
    let body = r#"{"device":"B92A4","time":1476980426,"data":"c01234","seqNumber":3,
      "duplicates":[{"bsId":"0A1B","rssi":-120.5,"snr":"9.5","nbRep":3},{"bsId":"35f","rssi":null,"snr":"N/A","nbRep":1}],
      "computedLocation":{"lat":43.5,"lng":1.25,"radius":1500,"source":2,"status":1}}"#;
    let cb = parse_kind(CallbackKind::DataAdvanced, body);
    assert_eq!(
        cb.duplicates,
        vec![
            Duplicate {
                bs_id: "0A1B".into(),
                rssi: Some(-120.5),
                snr: Some(9.5),
                nb_rep: Some(3)
            },
            Duplicate {
                bs_id: "35F".into(),
                rssi: None,
                snr: None,
                nb_rep: Some(1)
            },
        ]
    );
    assert_eq!(
        cb.computed_location,
        Some(ComputedLocation {
            lat: Some(43.5),
            lng: Some(1.25),
            radius: Some(1500.0),
            source: Some(2),
            status: Some(1)
        })
    );
    let format = PayloadFormat::parse("b1::bool:7 b2::bool:6 i1:1:uint:16").unwrap();
    let m = cb.to_message(
        Some(&format),
        &TopicTemplate::parse("sigfox/{kind}/{device}").unwrap(),
    );
    assert_eq!(m.topic, "sigfox/DATA_ADVANCED/B92A4");
    assert_eq!(
        m.payload,
        json!({"device":"B92A4","time":1476980426,"data":"c01234","seqNumber":3,
               "duplicates":[{"bsId":"0A1B","rssi":-120.5,"snr":9.5,"nbRep":3},{"bsId":"35F","nbRep":1}],
               "computedLocation":{"lat":43.5,"lng":1.25,"radius":1500.0,"source":2,"status":1},
               "decoded":{"b1":true,"b2":true,"i1":4660},"kind":"DATA_ADVANCED"})
    );
    // In a form body the nested values arrive as JSON strings.
    let form = "device=1&duplicates=%5B%7B%22bsId%22%3A%220A1B%22%2C%22nbRep%22%3A2%7D%5D";
    let cb = parse_kind(CallbackKind::DataAdvanced, form);
    assert_eq!(
        cb.duplicates,
        vec![Duplicate {
            bs_id: "0A1B".into(),
            rssi: None,
            snr: None,
            nb_rep: Some(2)
        }]
    );
    // Errors inside name their path.
    let cases: &[(&str, &str, Reason)] = &[
        (
            r#"{"device":"1","duplicates":[{"rssi":1}]}"#,
            "duplicates[0].bsId",
            Reason::Missing,
        ),
        (
            r#"{"device":"1","duplicates":[{"bsId":"1"},{"bsId":"1","nbRep":4}]}"#,
            "duplicates[1].nbRep",
            Reason::OutOfRange { min: 0.0, max: 3.0 },
        ),
        (
            r#"{"device":"1","duplicates":{}}"#,
            "duplicates",
            Reason::WrongType {
                expected: "an array",
            },
        ),
        (
            r#"{"device":"1","duplicates":[1]}"#,
            "duplicates[0]",
            Reason::WrongType {
                expected: "an object",
            },
        ),
        (
            r#"{"device":"1","computedLocation":{"lat":"x"}}"#,
            "computedLocation.lat",
            Reason::NotANumber,
        ),
    ];
    for (body, field, reason) in cases {
        assert_eq!(
            Callback::parse(
                CallbackKind::DataAdvanced,
                body.as_bytes(),
                None,
                &CallbackOptions::new()
            ),
            Err(CallbackError {
                field: (*field).into(),
                reason: reason.clone()
            }),
            "{body}"
        );
    }
}

/// The DATA_ADVANCED variables of https://support.sigfox.com/docs/data-advanced beyond the
/// radio ones: `lqi` ("LIMIT", "AVERAGE", "GOOD", "EXCELLENT", "NA"), `linkQuality` (the same
/// as 0–4), `fixedLat`/`fixedLng` (floats), `operatorName` (string), `countryCode` (integer).
#[test]
fn data_advanced_link_and_operator_variables() {
    let body = r#"{"device":"1A2B3C","time":1476980426,"data":"c01234","seqNumber":12,
      "lqi":"GOOD","linkQuality":2,"fixedLat":43.5961,"fixedLng":1.4337,
      "operatorName":"SIGFOX_France","countryCode":250}"#;
    let cb = parse_kind(CallbackKind::DataAdvanced, body);
    assert_eq!(
        (cb.lqi, cb.link_quality),
        (Some(LinkQuality::Good), Some(LinkQuality::Good))
    );
    assert_eq!((cb.fixed_lat, cb.fixed_lng), (Some(43.5961), Some(1.4337)));
    assert_eq!(cb.operator_name.as_deref(), Some("SIGFOX_France"));
    assert_eq!(cb.country_code, Some(250));
    assert!(cb.extra.is_empty(), "{:?}", cb.extra);
    let m = cb.to_message(None, &TopicTemplate::default());
    assert_eq!(
        m.payload,
        json!({"device":"1A2B3C","time":1476980426,"data":"c01234","seqNumber":12,
               "lqi":"GOOD","linkQuality":2,"fixedLat":43.5961,"fixedLng":1.4337,
               "operatorName":"SIGFOX_France","countryCode":250,"kind":"DATA_ADVANCED"})
    );
    // A user template sends every variable as a string: the same values come out typed.
    let templated = r#"{"device":"1A2B3C","lqi":"Excellent","linkQuality":"3","fixedLat":"-33.9",
      "fixedLng":"151.2","operatorName":"SIGFOX_Australia","countryCode":"036"}"#;
    let cb = parse_kind(CallbackKind::DataAdvanced, templated);
    assert_eq!(
        (cb.lqi, cb.link_quality, cb.country_code),
        (
            Some(LinkQuality::Excellent),
            Some(LinkQuality::Excellent),
            Some(36)
        )
    );
    assert_eq!((cb.fixed_lat, cb.fixed_lng), (Some(-33.9), Some(151.2)));
}

/// `lqi` by name in any case, or by number (Sigfox's API and `linkQuality` write 0–4);
/// anything else is refused by name.
#[test]
fn link_quality_spellings() {
    let cases: &[(&str, Option<LinkQuality>)] = &[
        (r#""LIMIT""#, Some(LinkQuality::Limit)),
        (r#""Limit""#, Some(LinkQuality::Limit)),
        (r#""average""#, Some(LinkQuality::Average)),
        (r#"" GOOD ""#, Some(LinkQuality::Good)),
        (r#""EXCELLENT""#, Some(LinkQuality::Excellent)),
        (r#""NA""#, Some(LinkQuality::NotAvailable)),
        ("0", Some(LinkQuality::Limit)),
        ("3", Some(LinkQuality::Excellent)),
        (r#""4""#, Some(LinkQuality::NotAvailable)),
        ("2.0", Some(LinkQuality::Good)),
        // Absent, as for every field.
        (r#""N/A""#, None),
        (r#""""#, None),
        ("null", None),
    ];
    for (value, want) in cases {
        for key in ["lqi", "linkQuality"] {
            let cb = parse(&format!(r#"{{"device":"1","{key}":{value}}}"#)).unwrap();
            let got = if key == "lqi" {
                cb.lqi
            } else {
                cb.link_quality
            };
            assert_eq!(got, *want, "{key}: {value}");
        }
    }
    for value in [r#""BAD""#, "5", r#""-1""#, "2.5", "true", "[2]"] {
        for key in ["lqi", "linkQuality"] {
            assert_eq!(
                parse(&format!(r#"{{"device":"1","{key}":{value}}}"#)),
                err(key, Reason::NotALinkQuality),
                "{key}: {value}"
            );
        }
    }
    for q in [
        LinkQuality::Limit,
        LinkQuality::Average,
        LinkQuality::Good,
        LinkQuality::Excellent,
        LinkQuality::NotAvailable,
    ] {
        assert_eq!(LinkQuality::from_code(u64::from(q.code())), Some(q));
    }
    assert_eq!(LinkQuality::from_code(5), None);
    assert_eq!(LinkQuality::NotAvailable.to_string(), "NA");
}

/// The legacy template variables `{duplicate}` (DATA, STATUS, GEOLOC), `{longPolling}`
/// (BIDIR) and `{geolocSource}` (GEOLOC), as Sigfox's callback URL patterns list them (for
/// example https://docs.omnyvore.com/appendix/sigfox-configuration/sigfox-callbacks-urls):
/// booleans arrive as `true`/`false` in any case or as `1`/`0`, the source as sent.
#[test]
fn duplicate_long_polling_and_geoloc_source() {
    let query = "device=B92A4&time=1476980426&duplicate=false&snr=12.34&station=0A1B&data=c0&ack=true&longPolling=false";
    let cb = parse_kind(CallbackKind::DataBidir, query);
    assert_eq!(
        (cb.duplicate, cb.ack, cb.long_polling),
        (Some(false), Some(true), Some(false))
    );
    let m = cb.to_message(None, &TopicTemplate::default());
    assert_eq!(
        m.payload,
        json!({"device":"B92A4","time":1476980426,"duplicate":false,"snr":12.34,"station":"0A1B",
               "data":"c0","ack":true,"longPolling":false,"kind":"DATA_BIDIR"})
    );
    let geoloc =
        "device=B92A4&time=1476980426&radius=1500&geolocSource=2&duplicate=1&lat=43.5&lng=1.25";
    let cb = parse_kind(CallbackKind::Geoloc, geoloc);
    assert_eq!(
        (cb.geoloc_source.as_deref(), cb.duplicate, cb.radius),
        (Some("2"), Some(true), Some(1500.0))
    );
    for (value, want) in [
        ("true", Some(true)),
        (r#""TRUE""#, Some(true)),
        ("1", Some(true)),
        (r#""1""#, Some(true)),
        ("false", Some(false)),
        (r#""False""#, Some(false)),
        ("0", Some(false)),
        (r#""0""#, Some(false)),
        (r#""N/A""#, None),
    ] {
        let cb = parse(&format!(r#"{{"device":"1","duplicate":{value}}}"#)).unwrap();
        assert_eq!(cb.duplicate, want, "{value}");
    }
    for value in [r#""yes""#, "2", "-1", "0.5", r#""maybe""#, "{}"] {
        assert_eq!(
            parse(&format!(r#"{{"device":"1","duplicate":{value}}}"#)),
            err("duplicate", Reason::NotABoolean),
            "{value}"
        );
    }
}

/// The new fields keep the rules of the rest: ranges, renames, absent values.
#[test]
fn operator_and_fixed_location_rules() {
    assert_eq!(
        parse(r#"{"device":"1","countryCode":1000}"#),
        err(
            "countryCode",
            Reason::OutOfRange {
                min: 0.0,
                max: 999.0
            }
        )
    );
    assert_eq!(
        parse(r#"{"device":"1","countryCode":"FR"}"#),
        err("countryCode", Reason::NotAnInteger)
    );
    assert_eq!(
        parse(r#"{"device":"1","fixedLat":90.5}"#),
        err(
            "fixedLat",
            Reason::OutOfRange {
                min: -90.0,
                max: 90.0
            }
        )
    );
    assert_eq!(
        parse(r#"{"device":"1","fixedLng":"east"}"#),
        err("fixedLng", Reason::NotANumber)
    );
    let options = CallbackOptions::new()
        .rename(Key::Lqi, "quality")
        .rename(Key::OperatorName, "op");
    let cb = Callback::parse(
        CallbackKind::DataAdvanced,
        br#"{"device":"1","quality":"LIMIT","op":"SIGFOX_Spain","lqi":"x"}"#,
        None,
        &options,
    )
    .unwrap();
    assert_eq!(cb.lqi, Some(LinkQuality::Limit));
    assert_eq!(cb.operator_name.as_deref(), Some("SIGFOX_Spain"));
    // The renamed key's default name is an ordinary unknown key now.
    assert_eq!(cb.extra, vec![("lqi".to_owned(), json!("x"))]);
    for key in Key::ALL {
        let same = Key::ALL
            .iter()
            .filter(|k| k.default_name() == key.default_name())
            .count();
        assert_eq!(same, 1, "{key:?}");
    }
}

#[test]
fn service_callbacks() {
    let o = CallbackOptions::new();
    let status = Callback::parse(
        CallbackKind::Status,
        br#"{"device":"1","time":"10","temp":"21.5","batt":"3.6"}"#,
        None,
        &o,
    )
    .unwrap();
    assert_eq!((status.temp, status.batt), (Some(21.5), Some(3.6)));
    let ack = Callback::parse(
        CallbackKind::Acknowledge,
        br#"{"device":"1","time":10,"downlinkAck":"true","infoCode":"0","infoMessage":"Acked"}"#,
        None,
        &o,
    )
    .unwrap();
    assert_eq!(
        (ack.downlink_ack, ack.info_code, ack.info_message.as_deref()),
        (Some(true), Some(0), Some("Acked"))
    );
    let bidir = Callback::parse(
        CallbackKind::DataBidir,
        b"device=1&data=00&ack=false",
        None,
        &o,
    )
    .unwrap();
    assert_eq!(bidir.ack, Some(false));
    let geo = Callback::parse(
        CallbackKind::Geoloc,
        br#"{"device":"1","lat":"48.85","lng":"2.35","radius":"2000"}"#,
        None,
        &o,
    )
    .unwrap();
    assert_eq!(
        (geo.lat, geo.lng, geo.radius),
        (Some(48.85), Some(2.35), Some(2000.0))
    );
    let error = Callback::parse(
        CallbackKind::Error,
        br#"{"device":"1","info":"Communication loss","severity":"ERROR"}"#,
        None,
        &o,
    )
    .unwrap();
    assert_eq!(
        error.to_message(None, &TopicTemplate::default()).payload,
        json!({"device":"1","info":"Communication loss","severity":"ERROR","kind":"ERROR"})
    );
    let repeater = Callback::parse(
        CallbackKind::Repeater,
        br#"{"device":"1","station":"abcd"}"#,
        None,
        &o,
    )
    .unwrap();
    assert_eq!(repeater.station.as_deref(), Some("ABCD"));
}

#[test]
fn limits() {
    let options = CallbackOptions::new().with_limits({
        let mut options = CallbackLimits::default();
        options.max_body_len = 40;
        options.max_keys = 2;
        options.max_key_len = 6;
        options.max_value_len = 4;
        options.max_duplicates = 1;
        options
    });
    let p = |b: &str| Callback::parse(CallbackKind::DataAdvanced, b.as_bytes(), None, &options);
    assert_eq!(
        p(&format!(r#"{{"device":"{}"}}"#, "1".repeat(40)))
            .unwrap_err()
            .reason,
        Reason::BodyTooLarge { len: 53, max: 40 }
    );
    assert_eq!(
        p("a=1&b=2&c=3").unwrap_err().reason,
        Reason::TooManyKeys { max: 2 }
    );
    assert_eq!(
        p(r#"{"a":1,"b":2,"c":3}"#).unwrap_err().reason,
        Reason::TooManyKeys { max: 2 }
    );
    assert_eq!(
        p("device=1&abcdefg=1").unwrap_err(),
        CallbackError {
            field: "abcdef".into(),
            reason: Reason::KeyTooLong { max: 6 }
        }
    );
    assert_eq!(
        p("device=1&info=hello").unwrap_err(),
        CallbackError {
            field: "info".into(),
            reason: Reason::ValueTooLong { max: 4 }
        }
    );
    assert_eq!(
        p("device=1&x=hello").unwrap_err(),
        CallbackError {
            field: "x".into(),
            reason: Reason::ValueTooLong { max: 4 }
        }
    );
}

#[test]
fn topic_templates() {
    let cb = parse(r#"{"device":"B92A4","deviceTypeId":"5d0f"}"#).unwrap();
    let t = |s: &str| TopicTemplate::parse(s).map(|t| t.render(&cb));
    assert_eq!(t("sigfox"), Ok("sigfox".into()));
    assert_eq!(
        t("s/{deviceTypeId}/{device}/up"),
        Ok("s/5d0f/B92A4/up".into())
    );
    assert_eq!(t(""), Err(TemplateError::Empty));
    assert_eq!(
        t("a/{dev}"),
        Err(TemplateError::UnknownPlaceholder {
            name: "dev".into(),
            offset: 2
        })
    );
    assert_eq!(t("a/{device"), Err(TemplateError::Unclosed { offset: 2 }));
    assert_eq!(
        t("a/+"),
        Err(TemplateError::ForbiddenCharacter {
            found: '+',
            offset: 2
        })
    );
    let odd = parse(r#"{"device":"1","deviceTypeId":"a/#"}"#).unwrap();
    assert_eq!(
        TopicTemplate::parse("{deviceTypeId}").unwrap().render(&odd),
        "unknown"
    );
}

proptest! {
    #[test]
    fn parsing_random_bodies_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        for kind in [CallbackKind::DataUplink, CallbackKind::DataAdvanced] {
            if let Ok(cb) = Callback::parse(kind, &body, None, &CallbackOptions::new()) {
                let _ = cb.to_message(None, &TopicTemplate::default());
            }
        }
    }

    #[test]
    fn parsing_template_like_bodies_never_panics(
        pairs in proptest::collection::vec(
            ("(device|data|time|seqNumber|rssi|lat|duplicates|customData#x|ack)", "[0-9a-fA-F%+.N/-]{0,12}"),
            0..8,
        )
    ) {
        let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = Callback::parse(CallbackKind::DataAdvanced, body.join("&").as_bytes(), None, &CallbackOptions::new());
    }
    #[test]
    fn parsing_json_template_bodies_never_panics(
        pairs in proptest::collection::vec(
            (
                "(device|data|time|seqNumber|rssi|snr|lat|lng|station|ack|infoCode|duplicates|computedLocation|customData#x|other)",
                json_value(),
            ),
            0..10,
        )
    ) {
        let body = serde_json::Value::Object(pairs.into_iter().collect()).to_string();
        for kind in [CallbackKind::DataUplink, CallbackKind::DataAdvanced] {
            match Callback::parse(kind, body.as_bytes(), None, &CallbackOptions::new()) {
                Ok(cb) => {
                    let m = cb.to_message(None, &TopicTemplate::default());
                    prop_assert_eq!(&m.payload["device"], &serde_json::Value::String(cb.device.to_string()));
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[0-9a-fA-F.N/+-]{0,10}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::vec(
                ("(bsId|rssi|snr|nbRep|lat|lng|radius|source|status)", inner),
                0..5
            )
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// With the `serde` feature a parsed callback and its message are stored as JSON and read back
/// equal: the device id as sent, `data` in hex, link qualities by name.
#[cfg(feature = "serde")]
#[test]
fn callbacks_and_messages_round_trip_through_serde() {
    let body = r#"{"device":"0b92a4","time":1476980426,"data":"C01234","seqNumber":3,"lqi":"Good",
      "duplicates":[{"bsId":"0A1B","rssi":-120.5,"snr":"9.5","nbRep":3}],
      "computedLocation":{"lat":43.5,"lng":1.25,"radius":1500,"source":2,"status":1},
      "customData#temp":"12","somethingElse":[1,{"x":null}]}"#;
    let cb = parse_kind(CallbackKind::DataAdvanced, body);
    let json = serde_json::to_value(&cb).unwrap();
    assert_eq!(json["device"], "0b92a4");
    assert_eq!(json["data"], "c01234");
    assert_eq!(json["lqi"], "GOOD");
    assert_eq!(json["kind"], "DataAdvanced");
    let back: Callback = serde_json::from_value(json).unwrap();
    assert_eq!(back, cb);
    assert_eq!(back.device.as_str(), "0b92a4");

    let m = cb.to_message(None, &TopicTemplate::default());
    let back: sigfox_frame::Message =
        serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);

    let mut bad = serde_json::to_value(&cb).unwrap();
    bad["device"] = json!("XYZ");
    let err = serde_json::from_value::<Callback>(bad).unwrap_err();
    assert!(err.to_string().starts_with("device \"XYZ\": "), "{err}");
    let mut bad = serde_json::to_value(&cb).unwrap();
    bad["data"] = json!("c0123");
    assert!(serde_json::from_value::<Callback>(bad).is_err());
}

#[cfg(feature = "serde")]
proptest! {
    /// Any device id, however spelled, is written as sent and read back the same.
    #[test]
    fn device_ids_round_trip_through_serde(id in "[0-9a-fA-F]{1,8}") {
        let device = DeviceId::parse(&id).unwrap();
        let json = serde_json::to_string(&device).unwrap();
        prop_assert_eq!(&json, &format!("\"{id}\""));
        let back: DeviceId = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.as_str(), id.as_str());
    }
}
