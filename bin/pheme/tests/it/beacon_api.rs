//! `--beacon-api`: a real HTTP server on loopback serving the standard validators endpoint.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread;

use crate::common::pheme;

/// Serves one request with `status` and `body` (chunked, as beacon nodes stream it) and
/// returns the base URL and the request line it got.
fn serve_once(status: &'static str, body: String) -> (String, thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
        }
        let mut stream = stream;
        // The client may hang up once it has read the status (a 503, say): a write that fails
        // for that is not the test's failure.
        let _ = (|| -> std::io::Result<()> {
            write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )?;
            for chunk in body.as_bytes().chunks(4096) {
                write!(stream, "{:x}\r\n", chunk.len())?;
                stream.write_all(chunk)?;
                stream.write_all(b"\r\n")?;
            }
            stream.write_all(b"0\r\n\r\n")
        })();
        request_line
    });
    (url, handle)
}

fn validators(active: usize, exited: usize) -> String {
    let entry = |i: usize, status: &str| {
        format!(
            r#"{{"index":"{i}","balance":"32000000000","status":"{status}","validator":{{"pubkey":"0x{i:096x}","withdrawal_credentials":"0x{i:064x}","effective_balance":"32000000000","slashed":false,"activation_eligibility_epoch":"0","activation_epoch":"0","exit_epoch":"18446744073709551615","withdrawable_epoch":"18446744073709551615"}}}}"#
        )
    };
    let entries: Vec<String> = (0..active)
        .map(|i| {
            entry(
                i,
                if i % 7 == 0 {
                    "active_exiting"
                } else {
                    "active_ongoing"
                },
            )
        })
        .chain((active..active + exited).map(|i| entry(i, "exited_unslashed")))
        .collect();
    format!(
        r#"{{"execution_optimistic":false,"finalized":false,"data":[{}]}}"#,
        entries.join(",")
    )
}

#[test]
fn counts_active_validators_streaming() {
    let (url, server) = serve_once("200 OK", validators(20_000, 150));
    let run = pheme(&[
        "presets",
        "generate",
        "--network",
        "sepolia",
        "--beacon-api",
        &url,
        "--current-slot",
        "9000000",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["meta"]["active_validators"], 20_000);
    let request = server.join().unwrap();
    assert!(
        request.starts_with("GET /eth/v1/beacon/states/head/validators?status=active "),
        "{request}"
    );
}

#[test]
fn garbage_status_and_unreachable_are_clear_errors() {
    let (url, server) = serve_once("200 OK", "<html>not json</html>".into());
    let run = pheme(&["presets", "generate", "--beacon-api", &url]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("answered something that is not a validators list"),
        "{}",
        run.stderr
    );
    server.join().unwrap();

    let (url, server) = serve_once("503 Service Unavailable", "{}".into());
    let run = pheme(&["presets", "generate", "--beacon-api", &url]);
    assert!(run.stderr.contains("answered HTTP 503"), "{}", run.stderr);
    server.join().unwrap();

    let (url, server) = serve_once("200 OK", validators(0, 3));
    let run = pheme(&["presets", "generate", "--beacon-api", &url]);
    assert!(
        run.stderr.contains("reports no active validator"),
        "{}",
        run.stderr
    );
    server.join().unwrap();

    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = pheme(&[
        "presets",
        "generate",
        "--beacon-api",
        &format!("http://127.0.0.1:{port}"),
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("is unreachable"), "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1);
}
