//! Written by hand to fit both backends (ids are `BigInt` on both); the
//! contract tests read and write every column on both migrated backends.

diesel::table! {
    garages (id) {
        id -> BigInt,
        name -> Text,
        address -> Text,
        capacity -> Nullable<Integer>,
        vehicle_count -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    vehicles (id) {
        id -> BigInt,
        garage_id -> BigInt,
        brand -> Text,
        model -> Text,
        year -> Integer,
        license_plate -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        vin -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        fingerprint -> Text,
        answer -> Nullable<Binary>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(vehicles -> garages (garage_id));
diesel::allow_tables_to_appear_in_same_query!(garages, vehicles);

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        prefix -> Text,
        secret_hash -> Text,
        scope -> Text,
        garage_ids -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        tx -> BigInt,
        #[sql_name = "type"]
        kind -> Text,
        occurred_at -> Timestamp,
        actor_key_id -> Nullable<BigInt>,
        actor_name -> Text,
        request_id -> Nullable<Text>,
        garage_id -> Nullable<BigInt>,
        from_garage_id -> Nullable<BigInt>,
        vehicle_id -> Nullable<BigInt>,
        key_id -> Nullable<BigInt>,
        changes -> Text,
    }
}
