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
        /// `garage_domain::search::search_key(name)`; '' until keyed.
        name_key -> Text,
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
        registered_on -> Nullable<Date>,
        odometer_km -> Nullable<Integer>,
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

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        url -> Text,
        events -> Text,
        description -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        from_tx -> BigInt,
        from_event_id -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event_id -> Nullable<BigInt>,
        event_type -> Text,
        entity -> Text,
        state -> Text,
        attempts -> Integer,
        last_status -> Nullable<Integer>,
        last_latency_ms -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        leased_until -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_dispatch (id) {
        id -> Integer,
        tx -> BigInt,
        event_id -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);

diesel::table! {
    odometer_readings (id) {
        id -> BigInt,
        vehicle_id -> BigInt,
        km -> Integer,
        read_on -> Date,
        correction -> Bool,
        recorded_at -> Timestamp,
        actor -> Text,
    }
}

diesel::table! {
    care_plans (id) {
        id -> BigInt,
        vehicle_id -> BigInt,
        kind -> Text,
        every_months -> Nullable<Integer>,
        every_km -> Nullable<Integer>,
        due_on -> Nullable<Date>,
        since_on -> Date,
        since_km -> Nullable<Integer>,
        since_done -> Bool,
        next_due_on -> Nullable<Date>,
        next_due_km -> Nullable<Integer>,
        km_left -> Nullable<Integer>,
        cycle -> BigInt,
        notified -> SmallInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    care_records (id) {
        id -> BigInt,
        vehicle_id -> BigInt,
        kind -> Text,
        done_on -> Date,
        km -> Nullable<Integer>,
        note -> Nullable<Text>,
        recorded_at -> Timestamp,
        actor -> Text,
    }
}

diesel::table! {
    calendar_tokens (id) {
        id -> BigInt,
        name -> Text,
        prefix -> Text,
        secret_hash -> Text,
        garage_ids -> Nullable<Text>,
        key_id -> BigInt,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(care_plans -> vehicles (vehicle_id));
diesel::allow_tables_to_appear_in_same_query!(care_plans, vehicles);
diesel::allow_tables_to_appear_in_same_query!(calendar_tokens, api_keys);
