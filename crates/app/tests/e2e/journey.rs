//! Every route of the API, in the order a fleet manager would use them.

use garage_infra::testing::TestDb;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, vehicle, TestApp};

#[actix_web::test]
async fn the_whole_api_on_postgres() {
    journey(spawn_app(TestDb::postgres()).await).await;
}

#[actix_web::test]
async fn the_whole_api_on_sqlite() {
    journey(spawn_app(TestDb::sqlite()).await).await;
}

async fn journey(app: TestApp) {
    // Garages: create, read, list, search, page.
    let created = app
        .post(
            "/api/v1/garages",
            json!({"name": " Garage du Nord ", "address": "1 rue de Lille", "capacity": 2}),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let nord = created.body["id"].as_i64().unwrap();
    assert_eq!(
        created.location.as_deref(),
        Some(format!("/api/v1/garages/{nord}").as_str())
    );
    assert_eq!(created.body["name"], "Garage du Nord");
    assert_eq!(created.body["vehicle_count"], 0);
    let sud = app.garage("Atelier Sud", None).await;
    assert_eq!(
        app.get(&format!("/api/v1/garages/{nord}")).await.body,
        created.body
    );
    assert_problem(&app.get("/api/v1/garages/999999").await, 404);
    assert_problem(
        &app.post("/api/v1/garages", json!({"name": "", "capacity": 0}))
            .await,
        422,
    );

    let page = app.get("/api/v1/garages?limit=1").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["items"][0]["id"], nord);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let next = app
        .get(&format!("/api/v1/garages?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(next.body["items"][0]["id"], sud);
    assert_eq!(next.body["next_cursor"], json!(null));
    let found = app.get("/api/v1/garages?q=NORD").await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    assert_problem(&app.get("/api/v1/garages?limit=500").await, 400);

    // Vehicles: create, duplicate, invalid, unknown garage, full garage.
    let clio = app
        .post("/api/v1/vehicles", vehicle(nord, "ab-123-cd"))
        .await;
    assert_eq!(clio.status, 201, "{clio:?}");
    let clio_id = clio.body["id"].as_i64().unwrap();
    assert_eq!(
        clio.location.as_deref(),
        Some(format!("/api/v1/vehicles/{clio_id}").as_str())
    );
    assert_eq!(clio.body["license_plate"], "AB123CD");
    let duplicate = app
        .post("/api/v1/vehicles", vehicle(sud, "AB 123 CD"))
        .await;
    assert_problem(&duplicate, 409);
    assert_eq!(duplicate.body["errors"][0]["field"], "license_plate");
    assert_problem(
        &app.post("/api/v1/vehicles", vehicle(999_999, "ZZ999ZZ"))
            .await,
        422,
    );
    let invalid = app
        .post("/api/v1/vehicles", json!({"garage_id": nord, "brand": "", "model": "208", "year": 3000, "license_plate": "ÉÉ"}))
        .await;
    assert_problem(&invalid, 422);
    assert_eq!(invalid.body["errors"].as_array().unwrap().len(), 3);
    let second = app
        .post("/api/v1/vehicles", vehicle(nord, "BB-222-BB"))
        .await;
    assert_eq!(second.status, 201);
    let second_id = second.body["id"].as_i64().unwrap();
    assert_problem(
        &app.post("/api/v1/vehicles", vehicle(nord, "CC-333-CC"))
            .await,
        409,
    );
    let third = app
        .post("/api/v1/vehicles", vehicle(sud, "CC-333-CC"))
        .await;
    assert_eq!(third.status, 201);

    // Reading vehicles back.
    let in_nord = app.get(&format!("/api/v1/garages/{nord}/vehicles")).await;
    assert_eq!(in_nord.status, 200);
    assert_eq!(in_nord.body["items"].as_array().unwrap().len(), 2);
    assert_problem(&app.get("/api/v1/garages/999999/vehicles").await, 404);
    let by_plate = app.get("/api/v1/vehicles?plate=cc%20333%20cc").await;
    assert_eq!(by_plate.body["items"][0]["id"], third.body["id"]);
    let by_brand = app
        .get(&format!("/api/v1/vehicles?brand=peugeot&garage_id={sud}"))
        .await;
    assert_eq!(by_brand.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/vehicles/{clio_id}")).await.body,
        clio.body
    );
    assert_problem(&app.get("/api/v1/vehicles/0").await, 404);

    // Changing garages and vehicles.
    assert_problem(
        &app.patch(&format!("/api/v1/garages/{nord}"), json!({"capacity": 1}))
            .await,
        409,
    );
    let renamed = app
        .patch(
            &format!("/api/v1/garages/{nord}"),
            json!({"name": "Garage du Nord-Est", "capacity": null}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{renamed:?}");
    assert_eq!(renamed.body["capacity"], json!(null));
    assert_eq!(renamed.body["vehicle_count"], 2);
    assert_problem(
        &app.patch(&format!("/api/v1/garages/{nord}"), json!({"nam": "typo"}))
            .await,
        400,
    );
    assert_problem(
        &app.patch("/api/v1/garages/999999", json!({"name": "x"}))
            .await,
        404,
    );

    let moved = app
        .patch(
            &format!("/api/v1/vehicles/{second_id}"),
            json!({"garage_id": sud, "year": 2023}),
        )
        .await;
    assert_eq!(moved.status, 200, "{moved:?}");
    assert_eq!(moved.body["garage_id"], sud);
    assert_eq!(moved.body["year"], 2023);
    let small = app.garage("Box", Some(1)).await;
    assert_eq!(
        app.patch(
            &format!("/api/v1/vehicles/{clio_id}"),
            json!({"garage_id": small})
        )
        .await
        .status,
        200
    );
    assert_problem(
        &app.patch(
            &format!("/api/v1/vehicles/{second_id}"),
            json!({"garage_id": small}),
        )
        .await,
        409,
    );
    assert_problem(
        &app.patch(
            &format!("/api/v1/vehicles/{second_id}"),
            json!({"license_plate": "AB123CD"}),
        )
        .await,
        409,
    );
    assert_problem(
        &app.patch(
            &format!("/api/v1/vehicles/{second_id}"),
            json!({"garage_id": 999_999}),
        )
        .await,
        422,
    );
    assert_problem(
        &app.patch("/api/v1/vehicles/999999", json!({"brand": "Fiat"}))
            .await,
        404,
    );

    // Deleting: a garage holding vehicles is refused and keeps them.
    let refused = app.delete(&format!("/api/v1/garages/{sud}")).await;
    assert_problem(&refused, 409);
    assert_eq!(
        app.get(&format!("/api/v1/garages/{sud}/vehicles"))
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let deleted = app.delete(&format!("/api/v1/vehicles/{clio_id}")).await;
    assert_eq!(deleted.status, 204);
    assert_problem(&app.get(&format!("/api/v1/vehicles/{clio_id}")).await, 404);
    assert_problem(
        &app.delete(&format!("/api/v1/vehicles/{clio_id}")).await,
        404,
    );
    assert_eq!(
        app.get(&format!("/api/v1/garages/{small}")).await.body["vehicle_count"],
        0
    );
    assert_eq!(
        app.delete(&format!("/api/v1/garages/{small}")).await.status,
        204
    );
    assert_problem(&app.delete(&format!("/api/v1/garages/{small}")).await, 404);

    // Health.
    assert_eq!(app.get("/health/live").await.status, 200);
    assert_eq!(app.get("/health/ready").await.status, 200);
}
