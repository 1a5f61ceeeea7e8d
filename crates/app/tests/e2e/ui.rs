//! The built UI as the app serves it: hashed assets cached for good, client
//! routes answered with `index.html`, the API left alone.

use garage_infra::testing::TestDb;

use crate::helpers::spawn_app_with;

#[actix_web::test]
async fn the_ui_is_served_with_cache_rules_and_client_routes() {
    let dir = std::env::temp_dir().join(format!("garage_ui_{}", std::process::id()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Garage UI</title>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/index-abc123.js"), "console.log('ui')").unwrap();
    let app = spawn_app_with(
        TestDb::sqlite(),
        &[("APP__SERVER__STATIC_DIR", dir.to_str().unwrap())],
    )
    .await;

    let get = |path: &str| app.client.get(format!("{}{path}", app.base)).send();
    let header = |resp: &awc::ClientResponse<_>, name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };

    let mut asset = get("/assets/index-abc123.js").await.unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(
        header(&asset, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(asset.body().await.unwrap(), "console.log('ui')");

    for route in ["/", "/garages/12", "/vehicles/3/edit"] {
        let mut page = get(route).await.unwrap();
        assert_eq!(page.status(), 200, "{route}");
        assert_eq!(header(&page, "cache-control"), "no-cache", "{route}");
        let body = page.body().await.unwrap();
        assert!(
            String::from_utf8_lossy(&body).contains("Garage UI"),
            "{route}"
        );
    }

    let api = app.get("/api/v1/nothing-here").await;
    assert_eq!(api.status, 404);
    assert_eq!(api.content_type, "application/problem+json");
    let missing_asset = get("/assets/missing.js").await.unwrap();
    assert_eq!(missing_asset.status(), 404);
    assert_ne!(
        header(&missing_asset, "cache-control"),
        "public, max-age=31536000, immutable"
    );

    std::fs::remove_dir_all(&dir).ok();
}
