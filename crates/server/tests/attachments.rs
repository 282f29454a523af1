//! Attachments through the router on SQLite and PostgreSQL: upload with a sniffed type and a
//! safe name, download with safe headers, who may read a file before and after a form
//! references it, the size limit, and forms that reference files they may not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use countersign_api::ErrorCode;
use countersign_api::attachments::AttachmentInfo;
use countersign_api::requests::{PendingTask, RequestView};
use countersign_server::settings::Settings;
use countersign_server::store::Backend;
use countersign_testkit::tuesday_morning;
use countersign_testkit::{TestApi, TestDb};
use serde_json::{Value, json};

const PW: &str = countersign_server::seed::DEMO_PASSWORD;

countersign_testkit::both_backends!(
    a_file_is_stored_under_a_safe_name_with_the_type_its_bytes_say,
    a_program_or_an_unknown_file_is_refused_and_nothing_is_stored,
    a_file_over_the_limit_is_refused_with_a_typed_error,
    a_file_becomes_readable_by_the_approvers_once_a_claim_references_it,
    a_form_cannot_reference_another_persons_file_or_alter_its_description,
    an_upload_retried_under_its_id_is_stored_once_and_the_id_is_not_anyones,
);

async fn demo_with(backend: Backend, settings: Settings) -> TestApi {
    let db = TestDb::of(backend).await;
    let api = TestApi::with(db, tuesday_morning(), settings).await;
    api.seed_demo().await;
    api
}

async fn demo(backend: Backend) -> TestApi {
    demo_with(backend, Settings::default()).await
}

/// A small but real PDF header and body: enough for a type sniffer, and distinct per call.
fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n%\u{e2}\u{e3}\n1 0 obj << /Title ({text}) >> endobj\ntrailer\n%%EOF\n")
        .into_bytes()
}

async fn download(api: &TestApi, token: &str, id: uuid::Uuid) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method(Method::GET)
        .uri(format!("/v1/attachments/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = api.send_raw(req).await;
    (status, body)
}

async fn attachment_rows(api: &TestApi) -> usize {
    let mut found = 0;
    let mut seen = std::collections::HashSet::new();
    // Every upload is audited; count what was stored by trying each audited id once.
    for line in api.store().audit_lines(0, 100_000).await.unwrap() {
        if line.entry.action == "attachment.upload" {
            let id = line.entry.resource.trim_start_matches("attachment:");
            if seen.insert(id.to_owned())
                && api
                    .store()
                    .find_attachment(id.parse().unwrap())
                    .await
                    .unwrap()
                    .is_some()
            {
                found += 1;
            }
        }
    }
    found
}

fn claim(invoice: &AttachmentInfo) -> Value {
    json!({
        "template_id": "reimbursement",
        "form": {
            "purpose": "client visit in Shanghai",
            "lines": [{
                "date": "2026-11-27",
                "category": "travel",
                "description": "train Beijing-Shanghai",
                "amount": {"amount": "553.00", "currency": "CNY"},
                "invoice": [invoice]
            }]
        }
    })
}

async fn a_file_is_stored_under_a_safe_name_with_the_type_its_bytes_say(backend: Backend) {
    let api = demo(backend).await;
    let shen = api.token("shen.yue", PW).await;
    let bytes = pdf("train ticket");
    // Declared as an image, named with a path that climbs out of any directory.
    let answer = api
        .upload(&shen, "../../etc/发票 11月.pdf", "image/png", bytes.clone())
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let info: AttachmentInfo = answer.json();
    assert_eq!(info.name, "发票 11月.pdf");
    assert_eq!(info.content_type, "application/pdf");
    assert_eq!(info.size, bytes.len() as u64);

    let req = Request::builder()
        .method(Method::GET)
        .uri(format!("/v1/attachments/{}", info.id))
        .header(header::AUTHORIZATION, format!("Bearer {shen}"))
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = api.send_raw(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, bytes, "the same bytes come back");
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment; "), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E5%8F%91%E7%A5%A8%2011%E6%9C%88.pdf"),
        "{disposition}"
    );

    let audited = api.store().audit_lines(0, 100_000).await.unwrap();
    let read = audited
        .iter()
        .find(|l| l.entry.action == "attachment.read")
        .expect("the download is audited");
    assert_eq!(read.entry.actor, "shen.yue");
    assert_eq!(read.entry.resource, format!("attachment:{}", info.id));
}

async fn a_program_or_an_unknown_file_is_refused_and_nothing_is_stored(backend: Backend) {
    let api = demo(backend).await;
    let shen = api.token("shen.yue", PW).await;
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0".to_vec();
    let answer = api
        .upload(&shen, "invoice.pdf", "application/pdf", elf)
        .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.error().code, ErrorCode::UnsupportedMediaType);

    let answer = api
        .upload(
            &shen,
            "notes.bin",
            "application/octet-stream",
            b"who knows".to_vec(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let answer = api
        .upload(&shen, "empty.pdf", "application/pdf", Vec::new())
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error().code, ErrorCode::MalformedRequest);

    let answer = api
        .upload(
            &shen,
            "金额.csv",
            "text/csv",
            "日期,金额\n2026-11-27,553.00\n".into(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "plain text is accepted");
    assert_eq!(answer.json::<AttachmentInfo>().content_type, "text/csv");
    assert_eq!(attachment_rows(&api).await, 1, "only the CSV was stored");
}

async fn a_file_over_the_limit_is_refused_with_a_typed_error(backend: Backend) {
    let settings = Settings {
        max_attachment_bytes: 4096,
        ..Settings::default()
    };
    let api = demo_with(backend, settings).await;
    let shen = api.token("shen.yue", PW).await;
    let mut big = pdf("scan");
    big.resize(4097, b' ');
    let answer = api
        .upload(&shen, "scan.pdf", "application/pdf", big.clone())
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.error().code, ErrorCode::PayloadTooLarge);
    assert_eq!(attachment_rows(&api).await, 0);

    big.truncate(4096);
    let answer = api.upload(&shen, "scan.pdf", "application/pdf", big).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);

    // The file limit is the upload route's only: JSON routes keep the general limit.
    let answer = api
        .post(
            "/v1/requests",
            &shen,
            json!({"padding": "x".repeat(2 << 20)}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

async fn a_file_becomes_readable_by_the_approvers_once_a_claim_references_it(backend: Backend) {
    let api = demo(backend).await;
    let shen = api.token("shen.yue", PW).await;
    let jiang = api.token("jiang.tao", PW).await;
    let han = api.token("han.bing", PW).await;
    let zhu = api.token("zhu.lin", PW).await;

    let invoice: AttachmentInfo = api
        .upload(&shen, "ticket.pdf", "application/pdf", pdf("ticket"))
        .await
        .json();
    for token in [&jiang, &han] {
        let (status, _) = download(&api, token, invoice.id).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "not yet part of any request");
    }

    let answer = api.post("/v1/requests", &shen, claim(&invoice)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let submitted: RequestView = answer.json();
    let tasks: Vec<PendingTask> = api.get("/v1/tasks", &jiang).await.json();
    assert!(
        tasks.iter().any(|t| t.request.id == submitted.id),
        "the manager has the claim"
    );

    let (status, body) = download(&api, &jiang, invoice.id).await;
    assert_eq!(status, StatusCode::OK, "the approver reads the invoice");
    assert_eq!(body, pdf("ticket"));
    let (status, _) = download(&api, &zhu, invoice.id).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an auditor reads every request's files"
    );
    let (status, _) = download(&api, &han, invoice.id).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a colleague outside the request"
    );
}

async fn a_form_cannot_reference_another_persons_file_or_alter_its_description(backend: Backend) {
    let api = demo(backend).await;
    let shen = api.token("shen.yue", PW).await;
    let han = api.token("han.bing", PW).await;
    let hans: AttachmentInfo = api
        .upload(&han, "hotel.pdf", "application/pdf", pdf("hotel"))
        .await
        .json();

    let answer = api.post("/v1/requests", &shen, claim(&hans)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert_eq!(answer.error().refusal.unwrap().code, "attachment_unknown");
    let (status, _) = download(&api, &shen, hans.id).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a refused claim grants nothing"
    );

    let mine: AttachmentInfo = api
        .upload(&shen, "ticket.pdf", "application/pdf", pdf("ticket"))
        .await
        .json();
    let inflated = AttachmentInfo {
        size: mine.size * 10,
        ..mine.clone()
    };
    let answer = api.post("/v1/requests", &shen, claim(&inflated)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert_eq!(answer.error().refusal.unwrap().code, "attachment_mismatch");

    let first = api.post("/v1/requests", &shen, claim(&mine)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // The file now belongs to the first claim; a second claim cannot take it.
    let second = api.post("/v1/requests", &shen, claim(&mine)).await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.body);
    assert_eq!(second.error().refusal.unwrap().code, "attachment_unknown");
    let mine_now: countersign_api::requests::Page<RequestView> =
        api.get("/v1/requests", &shen).await.json();
    assert_eq!(
        mine_now.items.len(),
        1,
        "nothing stored for the refused claims"
    );
}

/// `POST /v1/attachments?name=…&id=…`: an upload under a client-made id.
async fn upload_with_id(
    api: &TestApi,
    token: &str,
    id: uuid::Uuid,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/attachments?name=invoice.pdf&id={id}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/pdf")
        .body(Body::from(bytes))
        .unwrap();
    let (status, _, body) = api.send_raw(req).await;
    (status, serde_json::from_slice(&body).unwrap())
}

async fn an_upload_retried_under_its_id_is_stored_once_and_the_id_is_not_anyones(backend: Backend) {
    let api = demo(backend).await;
    let shen = api.token("shen.yue", PW).await;
    let id = uuid::Uuid::now_v7();
    let before = attachment_rows(&api).await;
    let (first, body) = upload_with_id(&api, &shen, id, pdf("taxi")).await;
    assert_eq!(first, StatusCode::CREATED, "{body}");
    assert_eq!(body["id"], id.to_string(), "stored under the client's id");
    // The answer was lost; the client sends it again.
    let (again, replayed) = upload_with_id(&api, &shen, id, pdf("taxi")).await;
    assert_eq!(again, StatusCode::OK, "{replayed}");
    assert_eq!(replayed, body, "the first upload answers the retry");
    assert_eq!(
        attachment_rows(&api).await,
        before + 1,
        "one copy, no orphan"
    );

    // Other bytes under that id, or another person using it: refused, nothing replaced or
    // shown.
    let (other_bytes, refusal) = upload_with_id(&api, &shen, id, pdf("hotel")).await;
    assert_eq!(other_bytes, StatusCode::CONFLICT, "{refusal}");
    assert_eq!(refusal["code"], "conflict");
    let jiang = api.token("jiang.tao", PW).await;
    let (someone_else, refusal) = upload_with_id(&api, &jiang, id, pdf("taxi")).await;
    assert_eq!(someone_else, StatusCode::CONFLICT, "{refusal}");
    assert!(
        refusal.get("name").is_none(),
        "nothing about the file: {refusal}"
    );
    let (status, bytes) = download(&api, &shen, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, pdf("taxi"), "the first file is untouched");
}
